/*
 * fuzz_smtp_session: the SMTP session (validator/smtp/smtp_session.c) behind
 * the generic session (validator/session/session.c), driven by a scripted
 * conversation. The record layout is that of fuzz_pop3_session, so
 * fuzz/session2mct.py prints these inputs too (its "@ protocol" line says
 * pop3; read it as smtp, or as submission when option bit 3 is set).
 *
 * Input: 2 option bytes, then records.
 *   byte 0  bits 0-1  how the second run re-cuts each data record: 0 = in two
 *                     at a chosen point, 1 = chunks of 1..8 octets,
 *                     2 = one octet at a time, 3 = chunks of 1..64
 *           bit 2     create the session with MC_PROTO_UNKNOWN (detection)
 *                     instead of MC_PROTO_SMTP
 *           bit 3     message submission (mc_session_set_submission, RFC 6409)
 *           bits 4-7  seed for the cut points
 *   byte 1  more seed
 *   record  one header byte h, then its payload:
 *           bit 7     direction: 0 client (C2S), 1 server (S2C)
 *           bits 4-6  kind: 0-3 data, 4 "! tls", 5 "! tls decrypted",
 *                     6 gap, 7 close
 *           bits 0-3  L. data: payload length L if L < 14; 14 + next octet
 *                     if L = 14; 270 + next 2 octets (little endian) if
 *                     L = 15; a payload cut short by the end of the input
 *                     is used as is. gap: count L + 1, or for L = 15
 *                     16 + next 4 octets (little endian).
 *   After the last record the harness calls mc_session_finish() (twice: it
 *   must be idempotent).
 *
 * Oracles (abort() on failure):
 * - every finding has a rule < MC_RULE_COUNT, and its side, protocol,
 *   severity and direction agree with mc_rule_info(rule); the protocol is
 *   SMTP (with detection: the protocol the session detected, POP3 or SMTP);
 *   its offset is at most the octets (data and gaps) the session has seen
 *   in that direction; excerpt and message are NUL-terminated and the
 *   message is not empty; mc_session_findings() counts the callbacks and
 *   no rule is reported more than MC_FINDINGS_PER_RULE times;
 * - after a "! tls" record the session is in TLS (mc_session_in_tls);
 * - split invariance: the same records with every data record re-cut into
 *   pieces (same order, nothing else changed) give the identical list of
 *   findings (rule, direction, offset), the same count of findings
 *   suppressed by the per-rule cap and the same TLS state at the end.
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "session/session.h"

#define SESSION_NAME "fuzz-smtp"

struct run {
    struct fz_log log;       /* rule, direction, offset per finding */
    uint64_t seen[2];        /* octets given to the session per direction */
    uint64_t calls;
    uint32_t per_rule[MC_RULE_COUNT];
    struct mc_session *s;
    uint8_t *block;          /* scratch for the pieces of data records */
    size_t block_len;
};

FZ_ORACLE
static void on_finding(void *ctx, const struct mc_finding *f)
{
    struct run *r = ctx;
    const struct mc_rule_info *ri;
    enum mc_proto proto = mc_session_proto(r->s);

    FZ_CHECK((unsigned)f->rule < MC_RULE_COUNT);
    ri = mc_rule_info(f->rule);
    FZ_CHECK(ri != NULL);
    FZ_CHECK(f->side == ri->side);
    FZ_CHECK(f->proto == ri->proto && f->proto == proto);
    FZ_CHECK(proto == MC_PROTO_SMTP || proto == MC_PROTO_POP3);
    FZ_CHECK(f->severity == ri->severity);
    FZ_CHECK(f->dir == (ri->side == MC_SIDE_CLIENT ? MC_DIR_C2S : MC_DIR_S2C));
    FZ_CHECK(f->offset <= r->seen[f->dir]);
    FZ_CHECK(f->session != NULL && strcmp(f->session, SESSION_NAME) == 0);
    FZ_CHECK(memchr(f->excerpt, 0, sizeof(f->excerpt)) != NULL);
    FZ_CHECK(memchr(f->message, 0, sizeof(f->message)) != NULL && f->message[0] != '\0');
    FZ_CHECK(++r->per_rule[f->rule] <= MC_FINDINGS_PER_RULE);
    r->calls++;

    fz_log_u64(&r->log, f->rule);
    fz_log_u64(&r->log, f->dir);
    fz_log_u64(&r->log, f->offset);
}

struct reader {
    const uint8_t *p;
    size_t n;
};

static size_t take(struct reader *rd, size_t want)
{
    return want < rd->n ? want : rd->n;
}

static uint64_t read_le(struct reader *rd, unsigned bytes)
{
    uint64_t v = 0;
    unsigned k = (unsigned)take(rd, bytes);
    for (unsigned i = 0; i < k; i++)
        v |= (uint64_t)rd->p[i] << (8 * i);
    rd->p += k;
    rd->n -= k;
    return v;
}

/* Each piece is copied to the end of a heap block as large as the input, so
 * a read past the piece is caught by ASan. */
static void give_data(struct run *r, enum mc_dir dir, const uint8_t *buf, size_t len,
                      const struct mc_origin *o)
{
    uint8_t *piece;
    if (len == 0)
        return;
    FZ_CHECK(len <= r->block_len);
    piece = r->block + r->block_len - len;
    memcpy(piece, buf, len);
    r->seen[dir] += len;
    mc_session_data(r->s, dir, piece, len, o);
}

static void run_once(struct run *r, const uint8_t *data, size_t size, bool cut)
{
    struct reader rd = {data + 2, size - 2};
    struct fz_rng rng;
    uint64_t rec_no = 0;
    const uint8_t opts = data[0];
    bool saw_tls = false;

    memset(r, 0, sizeof(*r));
    fz_rng_seed(&rng, (uint32_t)data[1] << 8 | opts);
    r->s = mc_session_new(SESSION_NAME, (opts & 4) ? MC_PROTO_UNKNOWN : MC_PROTO_SMTP,
                          on_finding, r);
    FZ_CHECK(r->s != NULL);
    if (opts & 8)
        mc_session_set_submission(r->s);
    r->block_len = size;
    r->block = malloc(size);
    FZ_CHECK(r->block != NULL);

    while (rd.n > 0) {
        const uint8_t h = (uint8_t)read_le(&rd, 1);
        const enum mc_dir dir = (h & 0x80) ? MC_DIR_S2C : MC_DIR_C2S;
        const unsigned kind = (h >> 4) & 7, l = h & 15;
        struct mc_origin o = {0, ++rec_no};

        if (kind < 4) {
            size_t len = l;
            if (l == 14)
                len = 14 + (size_t)read_le(&rd, 1);
            else if (l == 15)
                len = 270 + (size_t)read_le(&rd, 2);
            len = take(&rd, len);
            if (!cut) {
                give_data(r, dir, rd.p, len, &o);
            } else if ((opts & 3) == 0) {
                size_t at = len ? fz_rng_range(&rng, 0, len) : 0;
                give_data(r, dir, rd.p, at, &o);
                give_data(r, dir, rd.p + at, len - at, &o);
            } else {
                static const size_t max_chunk[4] = {0, 8, 1, 64};
                size_t i = 0;
                while (i < len) {
                    size_t c = fz_rng_range(&rng, 1, max_chunk[opts & 3]);
                    if (c > len - i)
                        c = len - i;
                    give_data(r, dir, rd.p + i, c, &o);
                    i += c;
                }
            }
            rd.p += len;
            rd.n -= len;
        } else if (kind == 4 || kind == 5) {
            mc_session_tls(r->s, kind == 5, &o);
            saw_tls = true;
        } else if (kind == 6) {
            uint64_t n = l < 15 ? (uint64_t)l + 1 : 16 + read_le(&rd, 4);
            r->seen[dir] += n;
            mc_session_gap(r->s, dir, n, &o);
        } else {
            mc_session_close(r->s, dir, &o);
        }
    }
    mc_session_finish(r->s);
    mc_session_finish(r->s); /* idempotent */
    FZ_CHECK(mc_session_findings(r->s) == r->calls);
    /* findings over the per-rule cap are counted: they must agree too */
    fz_log_u64(&r->log, 0x5b5b5b5bull);
    fz_log_u64(&r->log, mc_session_suppressed(r->s));
    FZ_CHECK(strcmp(mc_session_name(r->s), SESSION_NAME) == 0);
    if (!(opts & 4)) {
        FZ_CHECK(mc_session_proto(r->s) == MC_PROTO_SMTP && mc_session_validated(r->s));
        /* a TLS marker switches the session to TLS for good */
        if (saw_tls)
            FZ_CHECK(mc_session_in_tls(r->s));
    }
    fz_log_u64(&r->log, mc_session_in_tls(r->s));
    mc_session_free(r->s);
    r->s = NULL;
    free(r->block);
    r->block = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, cut;
    if (size < 2)
        return 0;
    run_once(&whole, data, size, false);
    run_once(&cut, data, size, true);
    if (!fz_log_same(&whole.log, &cut.log)) {
        fprintf(stderr,
                "split invariance: %llu findings whole, %llu re-cut; logs differ at byte %zu\n",
                (unsigned long long)whole.calls, (unsigned long long)cut.calls,
                fz_log_diff_at(&whole.log, &cut.log));
        /* the findings around the first difference, 24 log bytes each */
        size_t first = fz_log_diff_at(&whole.log, &cut.log) / 24;
        first = first > 2 ? first - 2 : 0;
        for (size_t i = first * 24; i < (first + 8) * 24 && (i + 24 <= whole.log.n ||
                                                             i + 24 <= cut.log.n); i += 24) {
            const struct fz_log *L[2] = {&whole.log, &cut.log};
            for (int k = 0; k < 2; k++) {
                if (i + 24 > L[k]->n) {
                    fprintf(stderr, "  %-5s -\n", k ? "cut" : "whole");
                    continue;
                }
                uint64_t v[3] = {0, 0, 0};
                for (int j = 0; j < 3; j++)
                    for (int b = 0; b < 8; b++)
                        v[j] |= (uint64_t)L[k]->b[i + 8 * (size_t)j + (size_t)b] << (8 * b);
                if (v[0] >= MC_RULE_COUNT) { /* the suppressed count at the end */
                    fprintf(stderr, "  %-5s suppressed=%llu\n", k ? "cut" : "whole",
                            (unsigned long long)v[1]);
                    continue;
                }
                fprintf(stderr, "  %-5s %s dir=%s off=%llu\n", k ? "cut" : "whole",
                        mc_rule_info((enum mc_rule)v[0])->id, v[1] ? "S2C" : "C2S",
                        (unsigned long long)v[2]);
            }
        }
        FZ_CHECK(!"re-cutting the data records changed the findings");
    }
    fz_log_free(&whole.log);
    fz_log_free(&cut.log);
    return 0;
}
