/*
 * fuzz_smtp_reply: the SMTP server-to-client parser
 * (parsers/smtp/smtp_reply.c), its EHLO-line helper and the shared grammar
 * helpers of parsers/smtp/smtp_syntax.c.
 *
 * Input: 4 option bytes, then the server byte stream.
 *   byte 0  bits 0-1  how the second run cuts the stream: 0 = chunks of 1..8
 *                     octets, 1 = 1..64, 2 = one octet at a time, 3 = 1..700
 *           bit 2     insert a gap (mc_smtp_reply_gap) inside the stream
 *           bit 3     unused (kept for the layout of the POP3 targets)
 *           bits 4-7  gap length class (15: 2^40 octets)
 *   byte 1  unused by the parser (free for the fuzzer)
 *   byte 2  seed for the chunk sizes
 *   byte 3  gap position, as the fraction byte3/255 of the stream
 *
 * Oracles (abort() on failure):
 * - split invariance: the stream fed whole and fed in fuzzer-chosen chunks
 *   gives the same serialised events (offsets, lengths, code, reply code,
 *   first/last, ESC class, anomaly codes and offsets, the bytes of every span);
 * - used <= len, NEED_MORE consumes everything, an event consumes >= 1 octet;
 *   mc_smtp_reply_offset() is always octets fed + gap octets;
 * - a line starts at or after the end of the previous event and ends before
 *   the parser offset; its anomalies lie inside [line start, offset];
 * - spans: the line lies in the parser's line buffer, text in the line, the
 *   enhanced status code at the start of the text, ptr and off in step;
 * - code, reply_code, first, last and mc_smtp_reply_in_reply() agree with
 *   the line's digits and separator and with the previous lines;
 * - every anomaly code is < MC_ANOM_COUNT and maps to an SMTP server rule
 *   (mc_rule_for_anom), except SMTP_EHLO_PARAM_VALUE, which the session
 *   judges itself;
 * - the stateless helpers keep their *_out values inside the input (this
 *   and the round trip in the whole run only: the cut run's lines are the
 *   same, by split invariance);
 * - round trip: a line with a three-digit code printed canonically as
 *   code, SP or "-" (last or not), text, CRLF and parsed by a fresh parser
 *   gives the same code, last flag, text bytes, enhanced code (offset in the
 *   text, length) and ESC class. A line that had no anomaly must reparse
 *   with none. Context anomalies (code or ESC differing from the reply's
 *   first line) cannot come back from a lone line, which is why "same" does
 *   not include the anomaly list. Lines whose canonical form would not fit
 *   in MC_LINE_KEEP octets (a truncated line) are left out.
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "rules/rules.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_syntax.h"

struct run {
    struct mc_smtp_reply p;
    struct fz_log log;
    uint8_t opts;
    bool in_reply;       /* model: a multi-line reply is open */
    unsigned reply_code; /* model: the open reply's first code */
    uint64_t pos;        /* octets fed + gap octets */
    uint64_t floor;      /* offset after the previous event or gap */
};

/* Set during the whole run. The checks that are a function of one event's
 * logged fields alone (the stateless helpers and the round trip) run in the whole run
 * only: split invariance makes the cut run's events equal to the whole
 * run's field for field, so repeating them there would only repeat the same
 * computation on the same bytes. */
static bool whole_run;

FZ_ORACLE
static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* The parser's notion of "the line starts with a three-digit code". */
FZ_ORACLE
static bool has_code(const struct mc_span *line)
{
    const uint8_t *s = line->ptr;
    if (s == NULL || line->len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]))
        return false;
    return line->len == 3 || !is_digit(s[3]);
}

/* The stateless helpers on a line's text. */
FZ_ORACLE
static void check_helpers(const uint8_t *s, size_t n)
{
    size_t kw = SIZE_MAX, bad = SIZE_MAX, sp;
    enum mc_anom an;
    struct mc_smtp_path path;

    an = mc_smtp_parse_ehlo_line(s, n, &kw, &bad);
    FZ_CHECK(kw <= n);
    FZ_CHECK(an == MC_ANOM_NONE || an == MC_ANOM_SMTP_EHLO_LINE_SYNTAX ||
             an == MC_ANOM_SMTP_EHLO_PARAM_VALUE);
    if (an == MC_ANOM_SMTP_EHLO_LINE_SYNTAX)
        FZ_CHECK(fz_anom_maps(MC_PROTO_SMTP, an, MC_SIDE_SERVER));
    if (an != MC_ANOM_NONE)
        FZ_CHECK(bad <= n);
    else
        FZ_CHECK(kw >= 1 && mc_smtp_keyword_valid(s, kw));

    /* the first word as a domain / host (greeting, EHLO reply) */
    sp = 0;
    while (sp < n && s[sp] != ' ')
        sp++;
    bad = SIZE_MAX;
    if (!mc_smtp_domain_valid(s, sp, (n & 1) != 0, &bad))
        FZ_CHECK(bad <= sp);
    bad = SIZE_MAX;
    if (!mc_smtp_host_valid(s, sp, false, &bad))
        FZ_CHECK(bad <= sp);
    bad = SIZE_MAX;
    if (!mc_smtp_addr_literal_valid(s, sp, &bad))
        FZ_CHECK(bad <= sp);
    bad = SIZE_MAX;
    if (!mc_smtp_string_valid(s, sp, &bad))
        FZ_CHECK(bad <= sp);
    bad = SIZE_MAX;
    if (!mc_smtp_xtext_valid(s, sp, &bad))
        FZ_CHECK(bad <= sp);

    /* "250 <Sam@Random.com> Sender ok" */
    if (n > 0 && s[0] == '<') {
        memset(&path, 0xa5, sizeof(path));
        bad = SIZE_MAX;
        an = mc_smtp_parse_path(s, n, &path, &bad);
        FZ_CHECK(an == MC_ANOM_NONE || an == MC_ANOM_SMTP_PATH_SYNTAX ||
                 an == MC_ANOM_SMTP_LOCAL_TOO_LONG || an == MC_ANOM_SMTP_DOMAIN_TOO_LONG ||
                 an == MC_ANOM_SMTP_PATH_TOO_LONG);
        if (an != MC_ANOM_NONE)
            FZ_CHECK(bad <= n);
        if (an != MC_ANOM_SMTP_PATH_SYNTAX) {
            FZ_CHECK(path.len >= 2 && path.len <= n && s[path.len - 1] == '>');
            FZ_CHECK(path.local_at <= path.len && path.local_len <= path.len - path.local_at);
            FZ_CHECK(path.domain_at <= path.len &&
                     path.domain_len <= path.len - path.domain_at);
            if (path.null_path)
                FZ_CHECK(path.len == 2);
        }
    }
}

/* Round trip of one reply line through the canonical printer. */
FZ_ORACLE
static void round_trip(const struct mc_smtp_reply_ev *ev)
{
    static struct mc_smtp_reply q;
    static uint8_t buf[MC_LINE_KEEP + 8];
    struct mc_smtp_reply_ev e2;
    size_t n = 0, used = 0;
    bool clean = ev->anoms.n == 0 && ev->anoms.dropped == 0;

    /* a canonical line must fit the line buffer (a separator may be added) */
    if (!has_code(&ev->line) || 4 + ev->text.len > MC_LINE_KEEP)
        return;
    buf[n++] = (uint8_t)('0' + ev->code / 100);
    buf[n++] = (uint8_t)('0' + ev->code / 10 % 10);
    buf[n++] = (uint8_t)('0' + ev->code % 10);
    buf[n++] = ev->last ? ' ' : '-';
    if (ev->text.len)
        memcpy(buf + n, ev->text.ptr, ev->text.len);
    n += ev->text.len;
    buf[n++] = '\r';
    buf[n++] = '\n';

    mc_smtp_reply_init(&q);
    FZ_CHECK(mc_smtp_reply_feed(&q, buf, n, &used, &e2) == MC_EVENT);
    FZ_CHECK(used == n);
    FZ_CHECK(e2.code == ev->code);
    FZ_CHECK(e2.first && e2.last == ev->last && e2.reply_code == ev->code);
    FZ_CHECK(e2.line_len == n - 2 && !e2.truncated);
    FZ_CHECK(e2.text.len == ev->text.len &&
             (ev->text.len == 0 || memcmp(e2.text.ptr, ev->text.ptr, ev->text.len) == 0));
    FZ_CHECK(e2.esc.len == ev->esc.len && e2.esc_class == ev->esc_class);
    if (ev->esc.len)
        FZ_CHECK(e2.esc.ptr - e2.text.ptr == ev->esc.ptr - ev->text.ptr);
    if (clean)
        FZ_CHECK(e2.anoms.n == 0 && e2.anoms.dropped == 0);
}

FZ_ORACLE
static void on_event(struct run *r, const struct mc_smtp_reply_ev *ev, bool at_finish)
{
    const uint8_t *buf = r->p.line.buf;
    const uint64_t after = mc_smtp_reply_offset(&r->p);
    const uint64_t start = ev->line.off;
    const bool synthetic = ev->line.ptr == NULL; /* finish(): MULTI_UNTERMINATED */

    FZ_CHECK(after == r->pos);
    FZ_CHECK(!mc_smtp_reply_partial(&r->p));
    FZ_CHECK(start >= r->floor);
    FZ_CHECK(start + ev->line_len <= after);
    if (!at_finish)
        FZ_CHECK(start + ev->line_len < after); /* the terminator was consumed */
    fz_check_anoms(&ev->anoms, start, after, MC_PROTO_SMTP, MC_SIDE_SERVER, NULL);

    /* spans */
    FZ_CHECK(ev->line.len <= MC_LINE_KEEP && ev->line.len <= ev->line_len);
    FZ_CHECK(ev->truncated == (ev->line_len > ev->line.len));
    if (synthetic) {
        FZ_CHECK(at_finish && ev->line_len == 0 && ev->line.len == 0 && start == after);
        FZ_CHECK(mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_REPLY_MULTI_UNTERMINATED));
        FZ_CHECK(r->in_reply && ev->last && !ev->first && ev->code == 0);
        FZ_CHECK(ev->reply_code == r->reply_code);
        FZ_CHECK(ev->text.len == 0 && ev->esc.len == 0);
    } else {
        FZ_CHECK(fz_span_in(ev->line.ptr, ev->line.len, buf, MC_LINE_KEEP));
        FZ_CHECK(!mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_REPLY_MULTI_UNTERMINATED));
    }
    fz_check_sub(&ev->line, &ev->text);
    fz_check_sub(&ev->text, &ev->esc);
    if (ev->esc.len) {
        FZ_CHECK(ev->esc.ptr == ev->text.ptr);
        FZ_CHECK(ev->esc.len >= 5 && ev->esc.ptr[1] == '.');
        FZ_CHECK(ev->esc_class == (unsigned)(ev->esc.ptr[0] - '0'));
        FZ_CHECK(ev->esc_class == 2 || ev->esc_class == 4 || ev->esc_class == 5);
    } else {
        FZ_CHECK(ev->esc_class == 0);
    }

    /* code, separator, reply bookkeeping */
    if (!synthetic) {
        FZ_CHECK(ev->first == !r->in_reply);
        if (has_code(&ev->line)) {
            const uint8_t *s = ev->line.ptr;
            FZ_CHECK(ev->code == (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
                                     (unsigned)(s[2] - '0'));
            FZ_CHECK(ev->last == !(ev->line.len > 3 && s[3] == '-'));
            FZ_CHECK(ev->text.off >= start + 3 && ev->text.off <= start + 4);
            if (ev->code < 200 || ev->code > 559 || s[1] > '5')
                FZ_CHECK(mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_REPLY_CODE_RANGE) ||
                         ev->anoms.dropped > 0);
        } else {
            FZ_CHECK(ev->code == 0 && ev->last);
            FZ_CHECK(ev->text.off == start && ev->text.len == ev->line.len);
            FZ_CHECK(mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_REPLY_CODE_SYNTAX) ||
                     ev->anoms.dropped > 0);
        }
        if (ev->first)
            r->reply_code = ev->code;
        FZ_CHECK(ev->reply_code == r->reply_code);
        if (whole_run) {
            check_helpers(ev->text.ptr ? ev->text.ptr : (const uint8_t *)"", ev->text.len);
            round_trip(ev);
        }
    }
    r->in_reply = !ev->last;
    FZ_CHECK(mc_smtp_reply_in_reply(&r->p) == r->in_reply);

    fz_log_u64(&r->log, (uint64_t)ev->first | (uint64_t)ev->last << 1 |
                            (uint64_t)ev->truncated << 2 | (uint64_t)at_finish << 3 |
                            (uint64_t)ev->esc_class << 8 | (uint64_t)ev->code << 16 |
                            (uint64_t)ev->reply_code << 32);
    fz_log_u64(&r->log, after);
    fz_log_u64(&r->log, ev->line_len);
    fz_log_span(&r->log, &ev->line);
    fz_log_span(&r->log, &ev->text);
    fz_log_span(&r->log, &ev->esc);
    fz_log_anoms(&r->log, &ev->anoms);
    r->floor = after;
}

FZ_ORACLE
static void feed_chunk(struct run *r, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        struct mc_smtp_reply_ev ev;
        size_t used = SIZE_MAX;
        int rc = mc_smtp_reply_feed(&r->p, buf, len, &used, &ev);
        FZ_CHECK(rc == MC_EVENT || rc == MC_NEED_MORE);
        FZ_CHECK(used <= len);
        r->pos += used;
        if (rc == MC_NEED_MORE) {
            FZ_CHECK(used == len);
            FZ_CHECK(mc_smtp_reply_offset(&r->p) == r->pos);
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
    whole_run = !cut;
    r->opts = hdr[0];
    fz_rng_seed(&rng, (uint32_t)hdr[2] << 8 | hdr[0]);
    mc_smtp_reply_init(&r->p);
    FZ_CHECK(mc_smtp_reply_offset(&r->p) == 0 && !mc_smtp_reply_in_reply(&r->p));
    FZ_CHECK(!mc_smtp_reply_partial(&r->p) && !mc_smtp_reply_resyncing(&r->p));

    fz_gap_plan(hdr[0], hdr[3], n, &gap_at, &gap_len);
    fz_feed_opts(r, feed_chunk_cb, s, gap_at, cut ? &rng : NULL, r->opts);
    if (gap_len) {
        mc_smtp_reply_gap(&r->p, gap_len);
        r->pos += gap_len;
        r->in_reply = false; /* the gap drops the open reply */
        FZ_CHECK(mc_smtp_reply_offset(&r->p) == r->pos);
        FZ_CHECK(!mc_smtp_reply_in_reply(&r->p) && !mc_smtp_reply_partial(&r->p));
        r->floor = r->pos;
        fz_log_u64(&r->log, 0xfeedu);
        fz_log_u64(&r->log, r->pos);
    }
    fz_feed_opts(r, feed_chunk_cb, s + gap_at, n - gap_at, cut ? &rng : NULL, r->opts);

    for (int k = 0;; k++) {
        struct mc_smtp_reply_ev ev;
        FZ_CHECK(k <= 2); /* the pending line, then the end of an open reply */
        if (mc_smtp_reply_finish(&r->p, &ev) != MC_EVENT)
            break;
        on_event(r, &ev, true);
    }
    FZ_CHECK(!mc_smtp_reply_in_reply(&r->p));
    FZ_CHECK(mc_smtp_reply_offset(&r->p) == r->pos);
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
