/*
 * fuzz_imap_cmd: the IMAP client-to-server parser (parsers/imap/imap_cmd.c):
 * commands with literals (synchronizing, LITERAL+/-, literal8), SASL lines
 * after AUTHENTICATE, DONE after IDLE, gaps.
 *
 * Input: 6 option bytes, then the client byte stream.
 *   byte 0  bits 0-1  how the second run cuts the stream: 0 = chunks of 1..8
 *                     octets, 1 = 1..64, 2 = one octet at a time, 3 = 1..700
 *           bit 2     insert a gap (mc_imap_cmd_gap) inside the stream
 *           bit 3     SASL policy on (off: never switched to SASL mode)
 *           bits 4-7  gap length class (15: 2^40 octets)
 *   byte 1  literal policy, two bits for the k-th LITERAL_WAIT event (bits
 *           2*(k%4)): 0 and 3 = mc_imap_cmd_literal_go() at once (the
 *           server's "+"), 1 = mc_imap_cmd_literal_refused() at once (a
 *           tagged NO/BAD), 2 = nothing (the client does not wait: its data
 *           is early)
 *   byte 2  SASL mask. Low nibble: after the k-th AUTHENTICATE command the
 *           harness switches the parser to SASL mode when bit k%4 is set.
 *           High nibble: after the k-th SASL line it switches back when bit
 *           k%4 is set (the final reply); "*" always does.
 *   byte 3  IDLE mask: after the k-th IDLE command, mc_imap_cmd_expect_idle()
 *           when bit k%8 is set (the server's "+")
 *   byte 4  seed for the chunk sizes
 *   byte 5  gap position, as the fraction byte5/255 of the stream
 * Every decision depends on events only, taken right after the event, so
 * the whole and the cut run take the same ones at the same offsets.
 *
 * Oracles (abort() on failure):
 * - split invariance: whole and cut runs give the same log. COMMAND, SASL,
 *   DONE and LITERAL_WAIT events are logged in full (type, flags, verb,
 *   counts, offsets, the bytes of every span, anomalies). LITERAL fragments
 *   are logged cut-independently, once per literal: its mc_imap_lit, the
 *   octets seen, a hash of them, the early flag, whether it completed;
 * - used <= len, NEED_MORE consumes everything; mc_imap_cmd_offset() is
 *   always octets fed + gap octets; has_event() only after refused, and the
 *   pending event (used 0) is the refused COMMAND;
 * - LITERAL fragments lie in the caller's chunk at their absolute offset,
 *   continue the previous fragment (a literal's first fragment starts it,
 *   unless a gap came between), remaining counts down to 0; early only
 *   for a synchronizing literal that got no go; refused() succeeds right
 *   after LITERAL_WAIT and fails anywhere else without a waiting literal;
 * - SASL lines only in SASL mode, DONE only in IDLE mode (which the line
 *   ends), COMMAND only outside them; mc_imap_cmd_in_sasl/in_idle follow
 *   the harness's model;
 * - spans of COMMAND lie in the parser, tag/name/secret/mailbox inside the
 *   text's buffer, offsets in [command start, offset]; syntax_ok is false
 *   when a NUL octet was flagged; counts of literals add up;
 * - every anomaly code maps to an IMAP client rule (mc_rule_for_anom).
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "imap/imap_cmd.h"
#include "rules/rules.h"

struct run {
    struct mc_imap_cmd p;
    struct fz_log log;
    uint8_t opts, lit_mask, sasl_mask, idle_mask;
    unsigned wait_count, auth_count, sasl_count, idle_count;
    bool sasl, idle;
    uint64_t pos;   /* octets fed + gap octets */
    uint64_t floor; /* offset after the previous line event or gap */
    /* the literal being streamed */
    bool lit_open, lit_gap, lit_early, expect_early;
    struct mc_imap_lit lit;
    uint64_t lit_next, lit_seen, lit_hash;
    const uint8_t *chunk;
    size_t chunk_len;
};

FZ_ORACLE
static void log_lit(struct fz_log *l, const struct mc_imap_lit *lit)
{
    fz_log_u64(l, lit->size);
    fz_log_u64(l, lit->off);
    fz_log_u64(l, (uint64_t)lit->sync | (uint64_t)lit->literal8 << 1 |
                      (uint64_t)lit->secret << 2 | (uint64_t)lit->index << 8);
}

FZ_ORACLE
static void lit_close(struct run *r, bool complete)
{
    if (!r->lit_open)
        return;
    fz_log_u64(&r->log, 0x11e0u | (uint64_t)complete << 16 | (uint64_t)r->lit_early << 17);
    fz_log_u64(&r->log, r->lit_seen);
    fz_log_u64(&r->log, r->lit_hash);
    r->lit_open = false;
}

FZ_ORACLE
static void on_literal(struct run *r, const struct mc_imap_cmd_ev *ev)
{
    FZ_CHECK(!r->sasl && !r->idle);
    FZ_CHECK(ev->data.len > 0 && ev->data.ptr != NULL);
    FZ_CHECK(fz_span_in(ev->data.ptr, ev->data.len, r->chunk, r->chunk_len));
    FZ_CHECK(ev->data.off + ev->data.len == r->pos);
    FZ_CHECK(ev->remaining + ev->data.len <= ev->lit.size);
    FZ_CHECK(ev->data.off > ev->lit.off);
    if (!ev->lit.sync)
        FZ_CHECK(!ev->early);
    if (r->lit_open && r->lit.off == ev->lit.off && r->lit.size == ev->lit.size) {
        const uint64_t at = ev->lit.size - ev->remaining - ev->data.len;
        FZ_CHECK(at == r->lit_next || (r->lit_gap && at > r->lit_next));
        FZ_CHECK(ev->early == r->lit_early);
    } else {
        lit_close(r, false);
        r->lit_open = true;
        r->lit = ev->lit;
        r->lit_early = ev->early;
        r->lit_seen = 0;
        r->lit_hash = 1469598103934665603ull;
        if (ev->lit.sync && !r->lit_gap)
            FZ_CHECK(ev->early == r->expect_early);
        if (!r->lit_gap)
            FZ_CHECK(ev->remaining + ev->data.len == ev->lit.size);
        fz_log_u64(&r->log, 0x11u);
        fz_log_u64(&r->log, ev->lit.size - ev->remaining - ev->data.len);
        log_lit(&r->log, &ev->lit);
    }
    r->lit_gap = false;
    r->lit_next = ev->lit.size - ev->remaining;
    r->lit_seen += ev->data.len;
    for (size_t i = 0; i < ev->data.len; i++)
        r->lit_hash = (r->lit_hash ^ ev->data.ptr[i]) * 1099511628211ull;
    if (ev->remaining == 0)
        lit_close(r, true);
}

FZ_ORACLE
static void check_in_text(const struct mc_imap_cmd_ev *ev, const struct mc_span *s)
{
    if (s->len == 0)
        return;
    FZ_CHECK(s->ptr != NULL);
    FZ_CHECK(fz_span_in(s->ptr, s->len, ev->text.ptr, ev->text.len));
}

FZ_ORACLE
static void on_line(struct run *r, const struct mc_imap_cmd_ev *ev, bool at_finish)
{
    const uint64_t after = mc_imap_cmd_offset(&r->p);
    const uint64_t start = ev->text.off;

    lit_close(r, false);
    r->lit_gap = false;
    FZ_CHECK(after == r->pos);
    FZ_CHECK(start >= r->floor || ev->type == MC_IMAP_CMD_COMMAND);
    FZ_CHECK(start <= after);
    FZ_CHECK(ev->text.len <= ev->text_len);
    if (ev->text.len) {
        FZ_CHECK(ev->text.ptr != NULL);
        FZ_CHECK(fz_span_in(ev->text.ptr, ev->text.len, (const uint8_t *)&r->p, sizeof(r->p)));
    }
    fz_check_anoms(&ev->anoms, start, after, MC_PROTO_IMAP, MC_SIDE_CLIENT, NULL);
    if (mc_anoms_has(&ev->anoms, MC_ANOM_NUL_BYTE))
        FZ_CHECK(!ev->syntax_ok);

    if (ev->type == MC_IMAP_CMD_COMMAND) {
        FZ_CHECK(!r->sasl && !r->idle);
        check_in_text(ev, &ev->tag);
        check_in_text(ev, &ev->name);
        check_in_text(ev, &ev->secret);
        check_in_text(ev, &ev->mailbox);
        FZ_CHECK((unsigned)ev->verb < MC_IMAP_VERB_COUNT);
        FZ_CHECK(ev->nlit_sync + ev->nlit_nonsync == ev->nlit);
        FZ_CHECK(ev->nlit8 <= ev->nlit);
        FZ_CHECK(ev->nonsync_max == 0 || ev->nlit_nonsync > 0);
        if (ev->inbox)
            FZ_CHECK(ev->mailbox.len > 0);
        if (ev->refused)
            FZ_CHECK(ev->nlit_sync > 0 && !at_finish);
    } else {
        FZ_CHECK(ev->type == MC_IMAP_CMD_SASL || ev->type == MC_IMAP_CMD_DONE);
        FZ_CHECK(ev->type == MC_IMAP_CMD_SASL ? r->sasl : r->idle);
        FZ_CHECK(start >= r->floor && start + ev->text_len <= after);
        check_in_text(ev, &ev->secret);
        FZ_CHECK(ev->nlit == 0 && ev->lit_octets == 0);
    }

    fz_log_u64(&r->log, (uint64_t)ev->type | (uint64_t)ev->verb << 8 |
                            (uint64_t)ev->truncated << 16 | (uint64_t)ev->uid << 17 |
                            (uint64_t)ev->syntax_ok << 18 | (uint64_t)ev->refused << 19 |
                            (uint64_t)ev->unterminated << 20 | (uint64_t)ev->cancel << 21 |
                            (uint64_t)ev->inbox << 22 | (uint64_t)at_finish << 23);
    fz_log_u64(&r->log, after);
    fz_log_u64(&r->log, ev->text_len);
    fz_log_span(&r->log, &ev->text);
    fz_log_span(&r->log, &ev->tag);
    fz_log_span(&r->log, &ev->name);
    fz_log_span(&r->log, &ev->secret);
    fz_log_span(&r->log, &ev->mailbox);
    fz_log_u64(&r->log, (uint64_t)ev->nlit | (uint64_t)ev->nlit_sync << 16 |
                            (uint64_t)ev->nlit_nonsync << 32 | (uint64_t)ev->nlit8 << 48);
    fz_log_u64(&r->log, ev->nonsync_max);
    fz_log_u64(&r->log, ev->lit_octets);
    fz_log_anoms(&r->log, &ev->anoms);
    r->floor = after;

    if (at_finish)
        return;
    /* the session's part, from events only */
    if (ev->type == MC_IMAP_CMD_COMMAND) {
        if ((r->opts & 8) && ev->verb == MC_IMAP_AUTHENTICATE && !ev->refused) {
            if ((r->sasl_mask >> (r->auth_count % 4)) & 1) {
                mc_imap_cmd_expect_sasl(&r->p, true);
                r->sasl = true;
            }
            r->auth_count++;
        } else if (ev->verb == MC_IMAP_IDLE && !ev->refused) {
            if ((r->idle_mask >> (r->idle_count % 8)) & 1) {
                mc_imap_cmd_expect_idle(&r->p);
                r->idle = true;
            }
            r->idle_count++;
        }
    } else if (ev->type == MC_IMAP_CMD_SASL) {
        if (ev->cancel || ((r->sasl_mask >> (4 + r->sasl_count % 4)) & 1)) {
            mc_imap_cmd_expect_sasl(&r->p, false);
            r->sasl = false;
        }
        r->sasl_count++;
    } else {
        r->idle = false; /* the line ends IDLE mode */
    }
}

FZ_ORACLE
static void check_modes(const struct run *r)
{
    FZ_CHECK(mc_imap_cmd_in_sasl(&r->p) == r->sasl);
    FZ_CHECK(mc_imap_cmd_in_idle(&r->p) == r->idle);
}

static void on_wait(struct run *r, const struct mc_imap_cmd_ev *ev)
{
    const unsigned pol = (r->lit_mask >> (2 * (r->wait_count % 4))) & 3;
    FZ_CHECK(!r->sasl && !r->idle);
    FZ_CHECK(ev->lit.sync && ev->lit.size <= MC_IMAP_CMD_LITERAL_MAX);
    FZ_CHECK(ev->lit.off < r->pos);
    FZ_CHECK(mc_imap_cmd_literal_waiting(&r->p));
    FZ_CHECK(mc_imap_cmd_partial(&r->p));
    fz_log_u64(&r->log, 0xa17u | (uint64_t)pol << 16);
    fz_log_u64(&r->log, r->pos);
    log_lit(&r->log, &ev->lit);
    fz_log_anoms(&r->log, &ev->anoms);
    r->wait_count++;
    r->expect_early = false;
    if (pol == 1) {
        FZ_CHECK(mc_imap_cmd_literal_refused(&r->p));
        FZ_CHECK(mc_imap_cmd_has_event(&r->p));
    } else if (pol == 2) {
        r->expect_early = true;
    } else {
        mc_imap_cmd_literal_go(&r->p);
        FZ_CHECK(!mc_imap_cmd_literal_waiting(&r->p));
        FZ_CHECK(!mc_imap_cmd_literal_refused(&r->p));
    }
}

FZ_ORACLE
static void feed_chunk(struct run *r, const uint8_t *buf, size_t len)
{
    r->chunk = buf;
    r->chunk_len = len;
    while (len > 0 || mc_imap_cmd_has_event(&r->p)) {
        struct mc_imap_cmd_ev ev;
        size_t used = SIZE_MAX;
        const bool pending = mc_imap_cmd_has_event(&r->p);
        int rc = mc_imap_cmd_feed(&r->p, buf, len, &used, &ev);
        FZ_CHECK(rc == MC_EVENT || rc == MC_NEED_MORE);
        FZ_CHECK(used <= len);
        r->pos += used;
        FZ_CHECK(mc_imap_cmd_offset(&r->p) == r->pos);
        if (rc == MC_NEED_MORE) {
            FZ_CHECK(used == len && !pending);
            return;
        }
        if (pending)
            FZ_CHECK(used == 0 && ev.type == MC_IMAP_CMD_COMMAND && ev.refused);
        else
            FZ_CHECK(!(ev.type == MC_IMAP_CMD_COMMAND && ev.refused));
        switch (ev.type) {
        case MC_IMAP_CMD_LITERAL:
            on_literal(r, &ev);
            break;
        case MC_IMAP_CMD_LITERAL_WAIT:
            on_wait(r, &ev);
            break;
        default:
            FZ_CHECK(pending || used > 0);
            on_line(r, &ev, false);
            break;
        }
        if (ev.type != MC_IMAP_CMD_LITERAL_WAIT && !mc_imap_cmd_has_event(&r->p))
            FZ_CHECK(!mc_imap_cmd_literal_refused(&r->p) || !"refused accepted after data");
        check_modes(r);
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
    r->lit_mask = hdr[1];
    r->sasl_mask = hdr[2];
    r->idle_mask = hdr[3];
    fz_rng_seed(&rng, (uint32_t)hdr[4] << 8 | hdr[0]);
    mc_imap_cmd_init(&r->p);
    check_modes(r);
    FZ_CHECK(mc_imap_cmd_offset(&r->p) == 0 && !mc_imap_cmd_partial(&r->p));
    FZ_CHECK(!mc_imap_cmd_resyncing(&r->p) && !mc_imap_cmd_has_event(&r->p));
    FZ_CHECK(!mc_imap_cmd_literal_refused(&r->p));

    fz_gap_plan(hdr[0], hdr[5], n, &gap_at, &gap_len);
    fz_feed_opts(r, feed_chunk_cb, s, gap_at, cut ? &rng : NULL, r->opts);
    if (gap_len) {
        mc_imap_cmd_gap(&r->p, gap_len);
        r->pos += gap_len;
        FZ_CHECK(mc_imap_cmd_offset(&r->p) == r->pos);
        /* a literal (announced or streaming) may go on after the gap */
        r->lit_gap = true;
        r->floor = r->pos;
        /* the modes are the caller's: the gap does not change them */
        check_modes(r);
        fz_log_u64(&r->log, 0xfeedu);
        fz_log_u64(&r->log, r->pos);
    }
    fz_feed_opts(r, feed_chunk_cb, s + gap_at, n - gap_at, cut ? &rng : NULL, r->opts);

    for (int k = 0;; k++) {
        struct mc_imap_cmd_ev ev;
        FZ_CHECK(k <= 1);
        if (mc_imap_cmd_finish(&r->p, &ev) != MC_EVENT)
            break;
        FZ_CHECK(ev.type == MC_IMAP_CMD_COMMAND || ev.type == MC_IMAP_CMD_SASL ||
                 ev.type == MC_IMAP_CMD_DONE);
        on_line(r, &ev, true);
    }
    lit_close(r, false);
    FZ_CHECK(!mc_imap_cmd_partial(&r->p));
    FZ_CHECK(mc_imap_cmd_offset(&r->p) == r->pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, cut;
    if (size < 6)
        return 0;
    FZ_SPLIT_INVARIANT((run_once(&whole, data, data + 6, size - 6, false),
                        run_once(&cut, data, data + 6, size - 6, true)),
                       &whole.log, &cut.log, "split invariance", "event",
                       "the same stream cut differently gave different events");
    return 0;
}
