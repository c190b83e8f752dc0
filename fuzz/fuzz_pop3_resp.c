/*
 * fuzz_pop3_resp: the POP3 server-to-client parser (parsers/pop3/pop3_resp.c)
 * and its stateless line helpers.
 *
 * Input: 4 option bytes, then the server byte stream.
 *   byte 0  bits 0-1  how the second run cuts the stream: 0 = chunks of 1..8
 *                     octets, 1 = 1..64, 2 = one octet at a time, 3 = 1..700
 *           bit 2     insert a gap (mc_pop3_resp_gap) inside the stream
 *           bit 3     multi-line policy on (off: never expect_multiline)
 *           bits 4-7  gap length class (15: 2^40 octets)
 *   byte 1  multi-line mask: after the k-th +OK STATUS event (k from 0) the
 *           harness calls mc_pop3_resp_expect_multiline() when bit k%8 is set,
 *           the way a session does after +OK to RETR, LIST, CAPA ...
 *   byte 2  seed for the chunk sizes
 *   byte 3  gap position, as the fraction byte3/255 of the stream
 *
 * Oracles (abort() on failure):
 * - split invariance: the stream fed whole and fed in fuzzer-chosen chunks
 *   gives the same serialised events (type, status, offsets, lengths, flags,
 *   anomaly codes and offsets, and the bytes of every span);
 * - used <= len, NEED_MORE consumes everything, an event consumes >= 1 octet;
 *   mc_pop3_resp_offset() is always octets fed + gap octets;
 * - a line starts at or after the end of the previous event, ends before the
 *   parser offset, and its anomalies lie inside it;
 * - spans point into the parser's line buffer, sub-spans into the line, with
 *   ptr and off moving together; the flags agree with the lengths;
 * - every anomaly code is < MC_ANOM_COUNT and maps to a POP3 server rule;
 * - BODY/END only inside a multi-line response, STATUS/CONT only outside;
 * - the stateless helpers keep their *_out values inside the line (whole
 *   run only: the cut run's lines are the same, by split invariance).
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "pop3/pop3_resp.h"
#include "rules/rules.h"

struct run {
    struct mc_pop3_resp p;
    struct fz_log log;
    uint8_t opts, mask;
    unsigned ok_count;
    bool multi;          /* model: a multi-line response is open */
    uint64_t pos;        /* octets fed + gap octets */
    uint64_t floor;      /* offset after the previous event or gap */
};

/* Set during the whole run. The checks that are a function of one event's
 * logged fields alone (the stateless helpers) run in the whole run
 * only: split invariance makes the cut run's events equal to the whole
 * run's field for field, so repeating them there would only repeat the same
 * computation on the same bytes. */
static bool whole_run;

FZ_ORACLE
static bool ieq_prefix(const uint8_t *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++) {
        uint8_t c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 32);
        if (c != (uint8_t)lit[i])
            return false;
    }
    return true;
}

FZ_ORACLE
static void check_helpers(const uint8_t *s, size_t n)
{
    uint64_t a = 0, b = 0;
    size_t bad = SIZE_MAX, at = SIZE_MAX, len = SIZE_MAX;
    enum mc_anom an, ts;

    an = mc_pop3_parse_listing(s, n, &a, &b, &bad);
    FZ_CHECK(an == MC_ANOM_NONE || an == MC_ANOM_POP3_LISTING_SYNTAX);
    if (an != MC_ANOM_NONE)
        FZ_CHECK(bad <= n && fz_anom_maps(MC_PROTO_POP3, an, MC_SIDE_SERVER));

    bad = SIZE_MAX;
    an = mc_pop3_parse_uidl(s, n, &a, &at, &len, &bad);
    FZ_CHECK(an == MC_ANOM_NONE || an == MC_ANOM_POP3_UIDL_SYNTAX ||
             an == MC_ANOM_POP3_UID_INVALID);
    if (an != MC_ANOM_NONE)
        FZ_CHECK(bad <= n && fz_anom_maps(MC_PROTO_POP3, an, MC_SIDE_SERVER));
    if (an == MC_ANOM_NONE)
        FZ_CHECK(at <= n && len <= n - at && len >= 1 && len <= MC_POP3_UID_MAX);

    bad = SIZE_MAX;
    an = mc_pop3_parse_capa(s, n, &len, &bad);
    FZ_CHECK(an == MC_ANOM_NONE || an == MC_ANOM_POP3_CAPA_SYNTAX);
    if (an != MC_ANOM_NONE)
        FZ_CHECK(bad <= n && fz_anom_maps(MC_PROTO_POP3, an, MC_SIDE_SERVER));
    else
        FZ_CHECK(len >= 1 && len <= n);

    if (mc_pop3_find_timestamp(s, n, &at, &len, &ts)) {
        FZ_CHECK(at < n && len >= 1 && len <= n - at && s[at] == '<');
        FZ_CHECK(ts == MC_ANOM_NONE || ts == MC_ANOM_POP3_TIMESTAMP_SYNTAX);
    }
}

FZ_ORACLE
static void on_event(struct run *r, const struct mc_pop3_resp_ev *ev, bool at_finish)
{
    const uint8_t *buf = r->p.line.buf;
    const uint64_t after = mc_pop3_resp_offset(&r->p);
    const uint64_t start = ev->line.off - (ev->stuffed ? 1 : 0);

    FZ_CHECK(ev->type >= MC_POP3_RESP_STATUS && ev->type <= MC_POP3_RESP_END);
    FZ_CHECK(after == r->pos);

    /* where the line is */
    FZ_CHECK(ev->line.off >= (ev->stuffed ? 1u : 0u));
    FZ_CHECK(start >= r->floor);
    FZ_CHECK(start + ev->line_len <= after);
    if (!at_finish)
        FZ_CHECK(start + ev->line_len < after); /* the terminator was consumed */
    fz_check_anoms(&ev->anoms, start, after, MC_PROTO_POP3, MC_SIDE_SERVER, NULL);

    /* what the spans hold */
    FZ_CHECK(fz_span_in(ev->line.ptr, ev->line.len, buf, MC_LINE_KEEP));
    FZ_CHECK(ev->line.len <= MC_LINE_KEEP);
    FZ_CHECK(ev->line.len + (ev->stuffed ? 1 : 0) <= ev->line_len);
    FZ_CHECK(ev->truncated == (ev->line_len > ev->line.len + (ev->stuffed ? 1 : 0)));
    fz_check_sub(&ev->line, &ev->code);
    fz_check_sub(&ev->line, &ev->text);
    FZ_CHECK(ev->stuffed == false || ev->type == MC_POP3_RESP_BODY);

    switch (ev->type) {
    case MC_POP3_RESP_STATUS:
        FZ_CHECK(!r->multi);
        if (ev->status == MC_POP3_STATUS_OK)
            FZ_CHECK(ieq_prefix(ev->line.ptr, ev->line.len, "+OK"));
        else if (ev->status == MC_POP3_STATUS_ERR)
            FZ_CHECK(ieq_prefix(ev->line.ptr, ev->line.len, "-ERR"));
        else
            FZ_CHECK(ev->status == MC_POP3_STATUS_INVALID &&
                     (mc_anoms_has(&ev->anoms, MC_ANOM_POP3_STATUS_UNKNOWN) ||
                      ev->anoms.dropped > 0));
        break;
    case MC_POP3_RESP_CONT:
        FZ_CHECK(!r->multi);
        FZ_CHECK(ev->status == MC_POP3_STATUS_INVALID && ev->code.len == 0);
        FZ_CHECK(ev->line.len >= 1 && ev->line.ptr[0] == '+' &&
                 (ev->line.len == 1 || ev->line.ptr[1] == ' '));
        break;
    case MC_POP3_RESP_BODY:
        FZ_CHECK(r->multi);
        FZ_CHECK(ev->status == MC_POP3_STATUS_INVALID && ev->code.len == 0 && ev->text.len == 0);
        break;
    case MC_POP3_RESP_END:
        FZ_CHECK(r->multi);
        FZ_CHECK(ev->status == MC_POP3_STATUS_INVALID && ev->code.len == 0 && ev->text.len == 0);
        /* "." CRLF, an unterminated "." at the end, or the synthetic END of
         * finish() that reports POP3_MULTI_UNTERMINATED */
        FZ_CHECK(ev->line_len == 1 || (at_finish && ev->line_len == 0 &&
                                        mc_anoms_has(&ev->anoms, MC_ANOM_POP3_MULTI_UNTERMINATED)));
        if (ev->line_len == 1)
            FZ_CHECK(ev->line.len == 1 && ev->line.ptr[0] == '.');
        r->multi = false;
        break;
    }

    if (ev->type == MC_POP3_RESP_BODY || ev->type == MC_POP3_RESP_STATUS) {
        const struct mc_span *t = ev->type == MC_POP3_RESP_BODY ? &ev->line : &ev->text;
        if (whole_run)
            check_helpers(t->ptr ? t->ptr : (const uint8_t *)"", t->len);
    }

    fz_log_u64(&r->log, (uint64_t)ev->type | (uint64_t)ev->status << 8 |
                            (uint64_t)ev->truncated << 16 | (uint64_t)ev->stuffed << 17 |
                            (uint64_t)at_finish << 18);
    fz_log_u64(&r->log, after);
    fz_log_u64(&r->log, ev->line_len);
    fz_log_span(&r->log, &ev->line);
    fz_log_span(&r->log, &ev->code);
    fz_log_span(&r->log, &ev->text);
    fz_log_anoms(&r->log, &ev->anoms);

    /* the session's part: say which +OK opens a multi-line response */
    if (ev->type == MC_POP3_RESP_STATUS && ev->status == MC_POP3_STATUS_OK && !at_finish) {
        if ((r->opts & 8) && ((r->mask >> (r->ok_count % 8)) & 1)) {
            mc_pop3_resp_expect_multiline(&r->p);
            r->multi = true;
        }
        r->ok_count++;
    }
    FZ_CHECK(mc_pop3_resp_in_multiline(&r->p) == r->multi);
    r->floor = after;
}

FZ_ORACLE
static void feed_chunk(struct run *r, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        struct mc_pop3_resp_ev ev;
        size_t used = SIZE_MAX;
        int rc = mc_pop3_resp_feed(&r->p, buf, len, &used, &ev);
        FZ_CHECK(rc == MC_EVENT || rc == MC_NEED_MORE);
        FZ_CHECK(used <= len);
        r->pos += used;
        if (rc == MC_NEED_MORE) {
            FZ_CHECK(used == len);
            FZ_CHECK(mc_pop3_resp_offset(&r->p) == r->pos);
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
    r->mask = hdr[1];
    fz_rng_seed(&rng, (uint32_t)hdr[2] << 8 | hdr[0]);
    mc_pop3_resp_init(&r->p);
    FZ_CHECK(mc_pop3_resp_offset(&r->p) == 0 && !mc_pop3_resp_in_multiline(&r->p));

    fz_gap_plan(hdr[0], hdr[3], n, &gap_at, &gap_len);
    fz_feed_opts(r, feed_chunk_cb, s, gap_at, cut ? &rng : NULL, r->opts);
    if (gap_len) {
        mc_pop3_resp_gap(&r->p, gap_len);
        r->pos += gap_len;
        FZ_CHECK(mc_pop3_resp_offset(&r->p) == r->pos);
        r->floor = r->pos;
        fz_log_u64(&r->log, 0xfeedu);
        fz_log_u64(&r->log, r->pos);
    }
    fz_feed_opts(r, feed_chunk_cb, s + gap_at, n - gap_at, cut ? &rng : NULL, r->opts);

    for (int k = 0;; k++) {
        struct mc_pop3_resp_ev ev;
        FZ_CHECK(k <= 2); /* the pending line, then the END of an open response */
        if (mc_pop3_resp_finish(&r->p, &ev) != MC_EVENT)
            break;
        on_event(r, &ev, true);
    }
    FZ_CHECK(!mc_pop3_resp_in_multiline(&r->p));
    FZ_CHECK(mc_pop3_resp_offset(&r->p) == r->pos);
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
