/*
 * fuzz_pop3_cmd: the POP3 client-to-server parser (parsers/pop3/pop3_cmd.c).
 *
 * Input: 4 option bytes, then the client byte stream.
 *   byte 0  bits 0-1  how the second run cuts the stream: 0 = chunks of 1..8
 *                     octets, 1 = 1..64, 2 = one octet at a time, 3 = 1..700
 *           bit 2     insert a gap (mc_pop3_cmd_gap) inside the stream
 *           bit 3     SASL policy on (off: the parser never leaves command mode)
 *           bits 4-7  gap length class (15: 2^40 octets)
 *   byte 1  SASL mask. Low nibble: after the k-th AUTH command (k from 0) the
 *           harness switches the parser to SASL mode when bit k%4 is set, as
 *           a session does on the server's "+ " challenge. High nibble: after
 *           the k-th SASL line it switches back when bit k%4 is set (the
 *           server's final status); a "*" cancel line always switches back.
 *   byte 2  seed for the chunk sizes
 *   byte 3  gap position, as the fraction byte3/255 of the stream
 *
 * Oracles (abort() on failure):
 * - split invariance: whole and cut runs give the same serialised events
 *   (type, verb, offsets, lengths, flags, arguments, numbers, secret span,
 *   anomaly codes and offsets, and the bytes of every span);
 * - used <= len, NEED_MORE consumes everything, an event consumes >= 1 octet;
 *   mc_pop3_cmd_offset() is always octets fed + gap octets;
 * - lines start at or after the previous event, anomalies lie inside them;
 * - keyword, arguments and secret lie inside the line; verb matches keyword;
 *   num_ok means the argument is that decimal number;
 * - syntax_ok is false exactly when an argument-grammar anomaly (or, for a
 *   NUL octet, the line layer's NUL_BYTE) is reported;
 * - every anomaly code is < MC_ANOM_COUNT and maps to a POP3 client rule;
 * - SASL events only in SASL mode, commands only outside it.
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "pop3/pop3_cmd.h"
#include "rules/rules.h"

struct run {
    struct mc_pop3_cmd p;
    struct fz_log log;
    uint8_t opts, mask;
    unsigned auth_count, sasl_count;
    bool sasl;           /* model: SASL mode */
    uint64_t pos;        /* octets fed + gap octets */
    uint64_t floor;      /* offset after the previous event or gap */
};

FZ_ORACLE
static bool syntax_anom(unsigned code)
{
    switch (code) {
    case MC_ANOM_POP3_CMD_EMPTY:
    case MC_ANOM_POP3_KEYWORD_SYNTAX:
    case MC_ANOM_POP3_ARG_SPACING:
    case MC_ANOM_POP3_ARG_COUNT:
    case MC_ANOM_POP3_ARG_NOT_NUMBER:
    case MC_ANOM_POP3_APOP_DIGEST:
    case MC_ANOM_POP3_SASL_BAD_BASE64:
        return true;
    default:
        return false;
    }
}

FZ_ORACLE
static void check_command(const struct mc_pop3_cmd_ev *ev)
{
    unsigned nargs = ev->argc < MC_POP3_ARGS_MAX ? ev->argc : MC_POP3_ARGS_MAX;
    bool any_syntax = false;

    FZ_CHECK((unsigned)ev->verb < MC_POP3_VERB_COUNT);
    FZ_CHECK(!ev->cancel);
    fz_check_sub(&ev->line, &ev->keyword);
    if (ev->line.len > 0)
        FZ_CHECK(ev->keyword.ptr == ev->line.ptr && ev->keyword.off == ev->line.off);
    if (ev->verb != MC_POP3_UNKNOWN) {
        const char *name = mc_pop3_verb_name(ev->verb);
        FZ_CHECK(name && strlen(name) == ev->keyword.len);
        for (size_t i = 0; i < ev->keyword.len; i++) {
            uint8_t c = ev->keyword.ptr[i];
            if (c >= 'a' && c <= 'z')
                c = (uint8_t)(c - 32);
            FZ_CHECK(c == (uint8_t)name[i]);
        }
    }
    for (unsigned i = 0; i < nargs; i++) {
        FZ_CHECK(ev->arg[i].len > 0);
        fz_check_sub(&ev->line, &ev->arg[i]);
        FZ_CHECK(ev->arg[i].off > ev->keyword.off + ev->keyword.len);
    }
    for (unsigned i = nargs; i < MC_POP3_ARGS_MAX; i++)
        FZ_CHECK(ev->arg[i].len == 0);
    for (unsigned i = 0; i < 2; i++) {
        if (!ev->num_ok[i])
            continue;
        uint64_t v;
        FZ_CHECK(i < nargs);
        FZ_CHECK(mc_parse_u64(ev->arg[i].ptr, ev->arg[i].len, UINT64_MAX, &v));
        FZ_CHECK(v == ev->num[i]);
    }
    for (unsigned i = 0; i < ev->anoms.n; i++) {
        const struct mc_anom_hit *h = &ev->anoms.hit[i];
        if (syntax_anom(h->code))
            any_syntax = true;
        /* a control octet in an argument is invalid; an 8-bit one (UTF-8
         * names and passwords) is flagged but leaves the command valid */
        if (h->code == MC_ANOM_POP3_ARG_BAD_CHAR && h->off >= ev->line.off &&
            h->off - ev->line.off < ev->line.len && ev->line.ptr[h->off - ev->line.off] < 0x80)
            any_syntax = true;
    }
    /* the anomalies above always invalidate the command */
    bool hard = any_syntax;
    /* anomalies past MC_ANOMS_MAX were dropped: one of them may explain it */
    if (ev->anoms.dropped > 0)
        any_syntax = true;
    /* a NUL in an argument makes it invalid too; the line layer's NUL_BYTE
     * is its only report (no second ARG_BAD_CHAR for the same octet), and a
     * NUL elsewhere (unknown keyword's arguments) need not */
    if (mc_anoms_has(&ev->anoms, MC_ANOM_NUL_BYTE))
        any_syntax = true;
    if (ev->syntax_ok) {
        FZ_CHECK(!hard);
    } else {
        FZ_CHECK(any_syntax);
    }
}

FZ_ORACLE
static void check_sasl(const struct mc_pop3_cmd_ev *ev)
{
    FZ_CHECK(ev->verb == MC_POP3_UNKNOWN && ev->argc == 0 && ev->keyword.len == 0);
    FZ_CHECK(ev->secret.ptr == ev->line.ptr && ev->secret.len == ev->line.len &&
             ev->secret.off == ev->line.off);
    FZ_CHECK(ev->cancel == (ev->line.len == 1 && ev->line.ptr[0] == '*'));
    if (ev->syntax_ok)
        FZ_CHECK(!mc_anoms_has(&ev->anoms, MC_ANOM_POP3_SASL_BAD_BASE64));
    else
        FZ_CHECK(mc_anoms_has(&ev->anoms, MC_ANOM_POP3_SASL_BAD_BASE64) ||
                 ev->anoms.dropped > 0);
}

FZ_ORACLE
static void on_event(struct run *r, const struct mc_pop3_cmd_ev *ev, bool at_finish)
{
    const uint8_t *buf = r->p.line.buf;
    const uint64_t after = mc_pop3_cmd_offset(&r->p);
    const uint64_t start = ev->line.off;

    FZ_CHECK(after == r->pos);
    FZ_CHECK(!mc_pop3_cmd_partial(&r->p));
    FZ_CHECK(start >= r->floor);
    FZ_CHECK(start + ev->line_len <= after);
    if (!at_finish)
        FZ_CHECK(start + ev->line_len < after);
    fz_check_anoms(&ev->anoms, start, after, MC_PROTO_POP3, MC_SIDE_CLIENT, NULL);

    FZ_CHECK(fz_span_in(ev->line.ptr, ev->line.len, buf, MC_LINE_KEEP));
    FZ_CHECK(ev->line.len <= ev->line_len);
    FZ_CHECK(ev->truncated == (ev->line_len > ev->line.len));
    fz_check_sub(&ev->line, &ev->secret);

    if (ev->type == MC_POP3_CMD_LINE) {
        FZ_CHECK(!r->sasl);
        check_command(ev);
    } else {
        FZ_CHECK(ev->type == MC_POP3_CMD_SASL);
        FZ_CHECK(r->sasl);
        check_sasl(ev);
    }

    fz_log_u64(&r->log, (uint64_t)ev->type | (uint64_t)ev->verb << 8 |
                            (uint64_t)ev->truncated << 16 | (uint64_t)ev->syntax_ok << 17 |
                            (uint64_t)ev->cancel << 18 | (uint64_t)ev->num_ok[0] << 19 |
                            (uint64_t)ev->num_ok[1] << 20 | (uint64_t)at_finish << 21);
    fz_log_u64(&r->log, after);
    fz_log_u64(&r->log, ev->line_len);
    fz_log_u64(&r->log, ev->argc);
    fz_log_u64(&r->log, ev->num_ok[0] ? ev->num[0] : 0);
    fz_log_u64(&r->log, ev->num_ok[1] ? ev->num[1] : 0);
    fz_log_span(&r->log, &ev->line);
    fz_log_span(&r->log, &ev->keyword);
    for (unsigned i = 0; i < MC_POP3_ARGS_MAX; i++)
        fz_log_span(&r->log, &ev->arg[i]);
    fz_log_span(&r->log, &ev->secret);
    fz_log_anoms(&r->log, &ev->anoms);

    /* the session's part: switch SASL mode on the exchange's edges */
    if (r->opts & 8) {
        if (ev->type == MC_POP3_CMD_LINE && ev->verb == MC_POP3_AUTH) {
            if ((r->mask >> (r->auth_count % 4)) & 1) {
                mc_pop3_cmd_expect_sasl(&r->p, true);
                r->sasl = true;
            }
            r->auth_count++;
        } else if (ev->type == MC_POP3_CMD_SASL) {
            if (ev->cancel || ((r->mask >> (4 + r->sasl_count % 4)) & 1)) {
                mc_pop3_cmd_expect_sasl(&r->p, false);
                r->sasl = false;
            }
            r->sasl_count++;
        }
    }
    FZ_CHECK(mc_pop3_cmd_in_sasl(&r->p) == r->sasl);
    r->floor = after;
}

FZ_ORACLE
static void feed_chunk(struct run *r, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        struct mc_pop3_cmd_ev ev;
        size_t used = SIZE_MAX;
        int rc = mc_pop3_cmd_feed(&r->p, buf, len, &used, &ev);
        FZ_CHECK(rc == MC_EVENT || rc == MC_NEED_MORE);
        FZ_CHECK(used <= len);
        r->pos += used;
        if (rc == MC_NEED_MORE) {
            FZ_CHECK(used == len);
            FZ_CHECK(mc_pop3_cmd_offset(&r->p) == r->pos);
            return;
        }
        FZ_CHECK(used > 0);
        on_event(r, &ev, false);
        buf += used;
        len -= used;
    }
}

FZ_ORACLE
static void feed_chunk_cb(void *r, const uint8_t *buf, size_t len)
{
    feed_chunk(r, buf, len);
}

FZ_ORACLE
static void run_once(struct run *r, const uint8_t *hdr, const uint8_t *s, size_t n, bool cut)
{
    struct fz_rng rng;
    size_t gap_at;
    uint64_t gap_len;

    memset(r, 0, sizeof(*r));
    r->opts = hdr[0];
    r->mask = hdr[1];
    fz_rng_seed(&rng, (uint32_t)hdr[2] << 8 | hdr[0]);
    mc_pop3_cmd_init(&r->p);
    FZ_CHECK(mc_pop3_cmd_offset(&r->p) == 0 && !mc_pop3_cmd_in_sasl(&r->p));
    FZ_CHECK(!mc_pop3_cmd_partial(&r->p));

    fz_gap_plan(hdr[0], hdr[3], n, &gap_at, &gap_len);
    fz_feed_opts(r, feed_chunk_cb, s, gap_at, cut ? &rng : NULL, r->opts);
    if (gap_len) {
        mc_pop3_cmd_gap(&r->p, gap_len);
        r->pos += gap_len;
        FZ_CHECK(mc_pop3_cmd_offset(&r->p) == r->pos);
        FZ_CHECK(!mc_pop3_cmd_partial(&r->p));
        r->floor = r->pos;
        fz_log_u64(&r->log, 0xfeedu);
        fz_log_u64(&r->log, r->pos);
    }
    fz_feed_opts(r, feed_chunk_cb, s + gap_at, n - gap_at, cut ? &rng : NULL, r->opts);

    for (int k = 0;; k++) {
        struct mc_pop3_cmd_ev ev;
        FZ_CHECK(k <= 1); /* at most the one unterminated line */
        if (mc_pop3_cmd_finish(&r->p, &ev) != MC_EVENT)
            break;
        on_event(r, &ev, true);
    }
    FZ_CHECK(mc_pop3_cmd_offset(&r->p) == r->pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, cut;
    if (size < 4)
        return 0;
    FZ_SPLIT_INVARIANT((run_once(&whole, data, data + 4, size - 4, false),
                        run_once(&cut, data, data + 4, size - 4, true)),
                       &whole.log, &cut.log, "split invariance", "event",
                       "the same stream cut differently gave different events");
    return 0;
}
