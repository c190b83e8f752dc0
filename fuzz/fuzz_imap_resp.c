/*
 * fuzz_imap_resp: the IMAP server-to-client parser
 * (parsers/imap/imap_resp.c): responses, their embedded literals, gaps.
 *
 * Input: 4 option bytes, then the server byte stream.
 *   byte 0  bits 0-1  how the second run cuts the stream: 0 = chunks of 1..8
 *                     octets, 1 = 1..64, 2 = one octet at a time, 3 = 1..700
 *           bit 2     insert a gap (mc_imap_resp_gap) inside the stream
 *           bit 3     unused (kept for the layout of the other targets)
 *           bits 4-7  gap length class (15: 2^40 octets)
 *   byte 1  unused by the parser (free for the fuzzer)
 *   byte 2  seed for the chunk sizes
 *   byte 3  gap position, as the fraction byte3/255 of the stream
 *
 * Oracles (abort() on failure):
 * - split invariance: the stream fed whole and fed in fuzzer-chosen chunks
 *   gives the same log. RESPONSE events are logged in full (kind, status,
 *   start, line_len, literals, number, the offset and bytes of every span,
 *   anomaly codes and offsets, the parser offset after it). LITERAL events
 *   are logged cut-independently, once per literal: at its first fragment
 *   lit_pos, lit_size, lit8 and the response fields it carries (kind,
 *   status, start, literals); at its end (lit_last, or the next response,
 *   gap or end of stream) the octets seen, a hash of them and lit_last;
 * - used <= len, NEED_MORE consumes everything, a RESPONSE consumes >= 1
 *   octet; mc_imap_resp_offset() is always octets fed + gap octets;
 * - a LITERAL fragment lies in the caller's chunk, data.off is its
 *   absolute offset, lit_pos continues the previous fragment (unless a gap
 *   came between), lit_pos + len <= lit_size, lit_last iff the literal is
 *   complete; a LITERAL event has no anomalies;
 * - a response starts at or after the end of the previous response or gap,
 *   its line segments lie before the parser offset, its spans lie in the
 *   parser and in [start, offset]; its anomalies lie in [start, offset];
 *   status agrees with kind (a tagged response without OK / NO / BAD has
 *   none and an anomaly); EXISTS, RECENT, EXPUNGE and FETCH have a
 *   number, which others (but OTHER and INVALID)
 *   have only with an anomaly;
 * - every anomaly code is < MC_ANOM_COUNT and maps to an IMAP server rule
 *   (mc_rule_for_anom);
 * - round trip (whole run only): every response with no anomalies is cut
 *   out of the stream by its offsets (responses across the gap are left
 *   out) and printed by the canonical printer (imap_canon.h), which must
 *   read it. The printed bytes, parsed by a fresh parser, must give one
 *   response using all of them, with no anomalies and the same kind,
 *   status, has_number, number, tag and name (name ignoring case; both
 *   compared as far as the parser keeps them), for status responses and
 *   continuations the same code (ignoring case), code argument and text,
 *   and as many literals as the printer printed; printing them again must
 *   give the same bytes. Left out: responses with a line segment over
 *   MC_LINE_KEEP octets (the parser checks only their kept prefix) and,
 *   for the reparse, printed forms over the line limits.
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "imap/imap_resp.h"
#include "imap_canon.h"
#include "rules/rules.h"

struct run {
    struct mc_imap_resp p;
    struct fz_log log;
    uint64_t pos;   /* octets fed + gap octets */
    uint64_t floor; /* offset after the previous response or gap */
    /* the literal being streamed */
    bool lit_open, lit_gap;
    uint64_t lit_next; /* lit_pos expected of the next fragment */
    uint64_t lit_seen, lit_hash, lit_size;
    const uint8_t *chunk; /* the caller's chunk being fed */
    size_t chunk_len;
    /* the stream, for the round trip (whole run only) */
    bool whole;
    const uint8_t *s;
    size_t gap_at;
    uint64_t gap_len;
};

/* Round trips done and left out (FZ_IMAP_CANON_STATS=1 prints them). */
static uint64_t rt_done, rt_long, rt_over;

static void rt_stats(void)
{
    fprintf(stderr, "imap round trip: %llu done, %llu left out (long segment), %llu not "
                    "reparsed (printed form over the line limits)\n",
            (unsigned long long)rt_done, (unsigned long long)rt_long,
            (unsigned long long)rt_over);
}

/* A span of the original response and the same span of the reparsed one:
 * the same bytes (ignoring case: ci), as far as both were kept (a response
 * with literals keeps only its first MC_IMAP_HEAD_KEEP octets for spans). */
FZ_ORACLE
static bool rt_span_same(const struct mc_span *x, const struct mc_imap_resp_ev *ex,
                         const struct mc_span *y, const struct mc_imap_resp_ev *ey, bool ci)
{
    const struct mc_span *sh = x->len <= y->len ? x : y;
    const struct mc_imap_resp_ev *es = x->len <= y->len ? ex : ey;
    for (size_t i = 0; i < sh->len; i++) {
        uint8_t a = x->ptr[i], b = y->ptr[i];
        if (ci && a >= 'a' && a <= 'z')
            a = (uint8_t)(a - 32);
        if (ci && b >= 'a' && b <= 'z')
            b = (uint8_t)(b - 32);
        if (a != b)
            return false;
    }
    return x->len == y->len ||
           (es->literals > 0 && sh->off - es->start + sh->len == MC_IMAP_HEAD_KEEP);
}

/* Parses buf whole with a fresh parser: the one response it must be. */
FZ_ORACLE
static void rt_reparse(const uint8_t *buf, size_t len, struct mc_imap_resp_ev *out)
{
    static struct mc_imap_resp p;
    struct mc_imap_resp_ev ev;
    size_t i = 0;
    unsigned responses = 0;

    mc_imap_resp_init(&p);
    while (i < len) {
        size_t used = 0;
        int rc = mc_imap_resp_feed(&p, buf + i, len - i, &used, &ev);
        i += used;
        if (rc != MC_EVENT)
            break;
        if (ev.type == MC_IMAP_RESP_RESPONSE) {
            responses++;
            *out = ev;
            if (i != len) {
                fprintf(stderr, "round trip: the printed form holds more than one response "
                                "(the first ends at %zu of %zu octets)\n", i, len);
                FZ_CHECK(!"the printed form is one response");
            }
        }
    }
    FZ_CHECK(i == len);
    FZ_CHECK(mc_imap_resp_finish(&p, &ev) == MC_NEED_MORE);
    if (responses != 1) {
        fprintf(stderr, "round trip: the printed form gave %u responses\n", responses);
        FZ_CHECK(!"the printed form is one response");
    }
}

FZ_ORACLE
static void round_trip(const struct run *r, const struct mc_imap_resp_ev *ev, uint64_t after)
{
    static struct imap_canon c1, c2;
    static bool stats_set;
    struct mc_imap_resp_ev e2;
    uint64_t a = ev->start, b = after;

    if (!stats_set) {
        stats_set = true;
        const char *e = getenv("FZ_IMAP_CANON_STATS");
        if (e != NULL && e[0] == '1')
            atexit(rt_stats);
    }
    if (b > r->gap_at) {
        if (a < r->gap_at + r->gap_len)
            return; /* across the gap: its bytes are not all in the input */
        a -= r->gap_len;
        b -= r->gap_len;
    }
    if (imap_canon_print(&c1, r->s + a, (size_t)(b - a)) != 0) {
        if (c1.in_longest > MC_LINE_KEEP) {
            rt_long++;
            return;
        }
        fprintf(stderr, "round trip: the printer could not read the response at %llu (%s):\n"
                        "%.*s\n", (unsigned long long)ev->start, c1.why ? c1.why : "?",
                (int)(b - a), (const char *)r->s + a);
        FZ_CHECK(!"the printer reads every response without anomalies");
    }
    if (c1.in_longest > MC_LINE_KEEP) {
        rt_long++;
        return;
    }
    FZ_CHECK(c1.in_literals == ev->literals);

    /* idempotence: the canonical form prints as itself */
    FZ_CHECK(imap_canon_print(&c2, c1.b, c1.n) == 0);
    if (c2.n != c1.n || memcmp(c2.b, c1.b, c1.n) != 0) {
        fprintf(stderr, "round trip: printing the canonical form again changed it "
                        "(%zu vs %zu octets)\n--- first:\n%.*s\n--- second:\n%.*s\n",
                c1.n, c2.n, (int)c1.n, (const char *)c1.b, (int)c2.n, (const char *)c2.b);
        FZ_CHECK(!"the canonical form is a fixed point");
    }
    if (c1.out_longest > MC_LINE_KEEP || c1.out_line_len > MC_IMAP_LINE_MAX) {
        rt_over++;
        return;
    }

    rt_reparse(c1.b, c1.n, &e2);
    rt_done++;
    if (e2.anoms.n != 0 || e2.kind != ev->kind || e2.status != ev->status ||
        e2.has_number != ev->has_number || e2.number != ev->number ||
        e2.literals != c1.literals || !rt_span_same(&ev->tag, ev, &e2.tag, &e2, false) ||
        !rt_span_same(&ev->name, ev, &e2.name, &e2, true) ||
        /* status responses and continuations: code, argument and text too */
        (ev->kind < MC_IMAP_KIND_CAPABILITY &&
         (!rt_span_same(&ev->code, ev, &e2.code, &e2, true) ||
          !rt_span_same(&ev->code_arg, ev, &e2.code_arg, &e2, false) ||
          !rt_span_same(&ev->text, ev, &e2.text, &e2, false)))) {
        fprintf(stderr, "round trip: the canonical form parses differently:\n"
                        "  kind %d/%d status %d/%d number %d:%llu/%d:%llu literals %u "
                        "(printed %u)/%u anomalies %u (first code %u at %llu)\n"
                        "--- input:\n%.*s\n--- printed:\n%.*s\n",
                ev->kind, e2.kind, ev->status, e2.status, ev->has_number,
                (unsigned long long)ev->number, e2.has_number, (unsigned long long)e2.number,
                ev->literals, c1.literals, e2.literals, e2.anoms.n,
                e2.anoms.n ? (unsigned)e2.anoms.hit[0].code : 0u,
                e2.anoms.n ? (unsigned long long)e2.anoms.hit[0].off : 0ull, (int)(b - a),
                (const char *)r->s + a, (int)c1.n, (const char *)c1.b);
        FZ_CHECK(!"parse, print, parse gives the same response");
    }
}

FZ_ORACLE
static void lit_close(struct run *r, bool last)
{
    if (!r->lit_open)
        return;
    fz_log_u64(&r->log, 0x11e0u | (uint64_t)last << 16);
    fz_log_u64(&r->log, r->lit_seen);
    fz_log_u64(&r->log, r->lit_hash);
    r->lit_open = false;
}

FZ_ORACLE
static void on_literal(struct run *r, const struct mc_imap_resp_ev *ev)
{
    FZ_CHECK(ev->anoms.n == 0 && ev->anoms.dropped == 0);
    FZ_CHECK(ev->tag.len == 0 && ev->name.len == 0 && ev->code.len == 0 &&
             ev->code_arg.len == 0 && ev->text.len == 0);
    FZ_CHECK(ev->lit_pos <= ev->lit_size && ev->data.len <= ev->lit_size - ev->lit_pos);
    FZ_CHECK(ev->lit_last == (ev->lit_pos + ev->data.len == ev->lit_size));
    FZ_CHECK(ev->literals >= 1);
    FZ_CHECK(ev->kind != MC_IMAP_KIND_CONTINUATION && ev->kind != MC_IMAP_KIND_TAGGED);
    FZ_CHECK(ev->start >= r->floor);
    if (ev->data.len) {
        FZ_CHECK(ev->start < ev->data.off);
        FZ_CHECK(ev->data.ptr != NULL);
        FZ_CHECK(fz_span_in(ev->data.ptr, ev->data.len, r->chunk, r->chunk_len));
    }
    if (r->lit_open && r->lit_size == ev->lit_size &&
        (ev->lit_pos == r->lit_next || (r->lit_gap && ev->lit_pos > r->lit_next))) {
        /* the same literal goes on */
        r->lit_gap = false;
    } else {
        lit_close(r, false);
        if (!r->lit_gap)
            FZ_CHECK(ev->lit_pos == 0);
        r->lit_gap = false;
        r->lit_open = true;
        r->lit_seen = 0;
        r->lit_hash = 1469598103934665603ull;
        r->lit_size = ev->lit_size;
        fz_log_u64(&r->log, 0x11u | (uint64_t)ev->lit8 << 8 | (uint64_t)ev->kind << 16 |
                                (uint64_t)ev->status << 24 | (uint64_t)ev->literals << 32);
        fz_log_u64(&r->log, ev->lit_pos);
        fz_log_u64(&r->log, ev->lit_size);
        fz_log_u64(&r->log, ev->start);
    }
    r->lit_next = ev->lit_pos + ev->data.len;
    r->lit_seen += ev->data.len;
    for (size_t i = 0; i < ev->data.len; i++)
        r->lit_hash = (r->lit_hash ^ ev->data.ptr[i]) * 1099511628211ull;
    if (ev->lit_last)
        lit_close(r, true);
}

FZ_ORACLE
static void check_span(const struct run *r, const struct mc_imap_resp_ev *ev,
                       const struct mc_span *s, uint64_t after)
{
    if (s->len == 0)
        return;
    FZ_CHECK(s->ptr != NULL);
    FZ_CHECK(fz_span_in(s->ptr, s->len, (const uint8_t *)&r->p, sizeof(r->p)));
    FZ_CHECK(s->off >= ev->start && s->off + s->len <= after);
}

FZ_ORACLE
static void on_response(struct run *r, const struct mc_imap_resp_ev *ev, bool at_finish)
{
    const uint64_t after = mc_imap_resp_offset(&r->p);

    lit_close(r, false);
    r->lit_gap = false;
    FZ_CHECK(after == r->pos);
    FZ_CHECK(ev->start >= r->floor);
    FZ_CHECK(ev->start + ev->line_len <= after);
    (void)at_finish;
    fz_check_anoms(&ev->anoms, ev->start, after, MC_PROTO_IMAP, MC_SIDE_SERVER, NULL);
    check_span(r, ev, &ev->tag, after);
    check_span(r, ev, &ev->name, after);
    check_span(r, ev, &ev->code, after);
    check_span(r, ev, &ev->code_arg, after);
    check_span(r, ev, &ev->text, after);

    switch (ev->kind) {
    case MC_IMAP_KIND_TAGGED:
        /* a tag without OK / NO / BAD is flagged and has no status */
        FZ_CHECK(ev->status == MC_IMAP_STATUS_OK || ev->status == MC_IMAP_STATUS_NO ||
                 ev->status == MC_IMAP_STATUS_BAD ||
                 (ev->status == MC_IMAP_STATUS_NONE && ev->anoms.n > 0));
        break;
    case MC_IMAP_KIND_STATE:
        FZ_CHECK(ev->status == MC_IMAP_STATUS_OK || ev->status == MC_IMAP_STATUS_NO ||
                 ev->status == MC_IMAP_STATUS_BAD);
        break;
    case MC_IMAP_KIND_BYE:
        FZ_CHECK(ev->status == MC_IMAP_STATUS_BYE);
        break;
    case MC_IMAP_KIND_PREAUTH:
        FZ_CHECK(ev->status == MC_IMAP_STATUS_PREAUTH);
        break;
    default:
        FZ_CHECK(ev->status == MC_IMAP_STATUS_NONE);
        break;
    }
    FZ_CHECK((unsigned)ev->kind <= MC_IMAP_KIND_OTHER);
    const bool numbered = ev->kind == MC_IMAP_KIND_EXISTS || ev->kind == MC_IMAP_KIND_RECENT ||
                          ev->kind == MC_IMAP_KIND_EXPUNGE || ev->kind == MC_IMAP_KIND_FETCH;
    if (ev->has_number && !numbered)
        FZ_CHECK(ev->kind == MC_IMAP_KIND_OTHER || ev->kind == MC_IMAP_KIND_INVALID ||
                 ev->anoms.n > 0);
    if (numbered)
        FZ_CHECK(ev->has_number || ev->anoms.n > 0);
    if (ev->kind == MC_IMAP_KIND_CONTINUATION || ev->kind == MC_IMAP_KIND_TAGGED ||
        ev->status != MC_IMAP_STATUS_NONE)
        FZ_CHECK(ev->literals == 0);

    fz_log_u64(&r->log, 0x5eu | (uint64_t)ev->kind << 8 | (uint64_t)ev->status << 16 |
                            (uint64_t)ev->has_number << 24 | (uint64_t)ev->literals << 32);
    fz_log_u64(&r->log, after);
    fz_log_u64(&r->log, ev->start);
    fz_log_u64(&r->log, ev->line_len);
    fz_log_u64(&r->log, ev->number);
    fz_log_span(&r->log, &ev->tag);
    fz_log_span(&r->log, &ev->name);
    fz_log_span(&r->log, &ev->code);
    fz_log_span(&r->log, &ev->code_arg);
    fz_log_span(&r->log, &ev->text);
    fz_log_anoms(&r->log, &ev->anoms);
    r->floor = after;
    if (r->whole && ev->anoms.n == 0 && ev->anoms.dropped == 0)
        round_trip(r, ev, after);
}

FZ_ORACLE
static void feed_chunk(struct run *r, const uint8_t *buf, size_t len)
{
    r->chunk = buf;
    r->chunk_len = len;
    while (len > 0) {
        struct mc_imap_resp_ev ev;
        size_t used = SIZE_MAX;
        int rc = mc_imap_resp_feed(&r->p, buf, len, &used, &ev);
        FZ_CHECK(rc == MC_EVENT || rc == MC_NEED_MORE);
        FZ_CHECK(used <= len);
        r->pos += used;
        FZ_CHECK(mc_imap_resp_offset(&r->p) == r->pos);
        if (rc == MC_NEED_MORE) {
            FZ_CHECK(used == len);
            return;
        }
        if (ev.type == MC_IMAP_RESP_LITERAL) {
            FZ_CHECK(ev.data.len <= used);
            if (ev.data.len)
                FZ_CHECK(ev.data.off + ev.data.len <= r->pos);
            on_literal(r, &ev);
        } else {
            FZ_CHECK(ev.type == MC_IMAP_RESP_RESPONSE);
            FZ_CHECK(used > 0);
            on_response(r, &ev, false);
        }
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
    fz_rng_seed(&rng, (uint32_t)hdr[2] << 8 | hdr[0]);
    mc_imap_resp_init(&r->p);
    FZ_CHECK(mc_imap_resp_offset(&r->p) == 0 && !mc_imap_resp_partial(&r->p));
    FZ_CHECK(!mc_imap_resp_resyncing(&r->p) && !mc_imap_resp_in_literal(&r->p));

    fz_gap_plan(hdr[0], hdr[3], n, &gap_at, &gap_len);
    r->whole = !cut;
    r->s = s;
    r->gap_at = gap_at;
    r->gap_len = gap_len;
    fz_feed_opts(r, feed_chunk_cb, s, gap_at, cut ? &rng : NULL, hdr[0]);
    if (gap_len) {
        const bool in_lit = mc_imap_resp_in_literal(&r->p);
        mc_imap_resp_gap(&r->p, gap_len);
        r->pos += gap_len;
        FZ_CHECK(mc_imap_resp_offset(&r->p) == r->pos);
        if (in_lit && mc_imap_resp_in_literal(&r->p)) {
            r->lit_gap = true; /* the literal and its response go on */
        } else {
            lit_close(r, false);
            r->lit_gap = in_lit;
            if (!mc_imap_resp_partial(&r->p))
                r->floor = r->pos; /* the open response was dropped */
        }
        fz_log_u64(&r->log, 0xfeedu | (uint64_t)in_lit << 16 |
                                (uint64_t)mc_imap_resp_in_literal(&r->p) << 17);
        fz_log_u64(&r->log, r->pos);
    }
    fz_feed_opts(r, feed_chunk_cb, s + gap_at, n - gap_at, cut ? &rng : NULL, hdr[0]);

    for (int k = 0;; k++) {
        struct mc_imap_resp_ev ev;
        FZ_CHECK(k <= 2);
        if (mc_imap_resp_finish(&r->p, &ev) != MC_EVENT)
            break;
        FZ_CHECK(ev.type == MC_IMAP_RESP_RESPONSE);
        on_response(r, &ev, true);
    }
    lit_close(r, false);
    FZ_CHECK(!mc_imap_resp_partial(&r->p) && !mc_imap_resp_in_literal(&r->p));
    FZ_CHECK(mc_imap_resp_offset(&r->p) == r->pos);
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
