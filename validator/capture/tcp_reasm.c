/*
 * TCP reassembly (see tcp_reasm.h for the contract).
 *
 * Sequence numbers: each direction keeps isn, the sequence number of its
 * stream offset 0, and next, the offset of the next octet to deliver. A
 * segment's offset is next + (int32_t)(seq - (isn + next)): 32-bit serial
 * arithmetic around the point we expect, widened to 64 bits, so streams
 * longer than 4 GiB and sequence wrap-around need no special case. Held
 * segments, FIN and ACK positions are all kept as 64-bit offsets.
 *
 * Invariants per direction, which make "never twice, never out of order"
 * hold by construction:
 *   - every octet below next has been delivered or announced as a gap;
 *   - held segments are sorted, disjoint and lie entirely at or above next;
 *   - delivery only ever happens at next, and advances it.
 *
 * Flow table: chained hash buckets on the unordered 4-tuple plus an LRU
 * list (most recent at the head) used both for eviction and for the idle
 * scan, which looks only at the old end, so it costs O(1) per segment plus
 * O(1) per flow it closes. A flow closed by its FINs or a RST stays in the
 * table as a small silent tombstone (on a second LRU list, evicted first)
 * until it times out or a new SYN reuses its 4-tuple: late retransmissions
 * and the last ACK must not open a phantom flow.
 *
 * Memory: one malloc per flow, and per direction its delivered-data ring,
 * which grows with the stream up to RING_SIZE (a few reallocs per flow at
 * most); one malloc per held (out-of-order) piece, bounded by the held
 * caps, which charge each piece its captured octets plus HELD_NODE_COST;
 * none per in-order segment.
 */
#include "tcp_reasm.h"

#include <stdlib.h>
#include <string.h>

/* Delivered octets remembered per direction to compare retransmissions.
 * 4 KiB (close to three full segments) rather than a window: it is most of
 * a flow's memory, retransmissions in mail traffic are almost always of the
 * last segment or two, and older overlaps are simply not compared. */
#define RING_SIZE 4096u
/* The ring grows with the stream, from RING_MIN octets (a power of two) to
 * RING_SIZE: a direction that carries little (a POP3 or IMAP client's
 * commands) never needs the whole window, and a capture may keep a
 * thousand connections open at once. */
#define RING_MIN 256u

/* A SYN whose sequence is this far from what the direction expects starts a
 * new connection even when the old one never finished. */
#define REUSE_DISTANCE (1u << 20)

/* What a held piece costs against the caps beyond its captured octets: its
 * bookkeeping. Without it, 1-octet segments spaced apart would let the
 * holding area grow to many times the cap in node headers (and make its
 * sorted list very long). */
#define HELD_NODE_COST 32u

struct held {
    struct held *next;
    int64_t off;        /* stream offset of the first octet */
    uint32_t dl;        /* captured octets in data[] */
    uint32_t miss;      /* octets after them that were not captured (snaplen) */
    uint64_t frame;
    uint8_t data[];
};

/* A segment's payload placed in its stream: dl captured octets at p, then
 * miss octets that are known to exist but were not captured. */
struct span {
    int64_t off;
    const uint8_t *p;
    uint32_t dl, miss;
    uint64_t frame;
};

struct dir {
    bool started, syn, fin_seen, fin_done;
    uint32_t isn;           /* sequence number of offset 0 */
    uint32_t syn_seq;       /* the SYN's own sequence number, when syn */
    int64_t next;           /* offset of the next octet to deliver */
    int64_t fin_off;        /* offset the FIN occupies */
    uint64_t fin_frame;
    int64_t acked;          /* highest offset the peer acknowledged; -1 none */
    int64_t ring_lo;        /* ring content is valid from here (after the last gap) */
    struct held *held, *held_last;  /* sorted by offset */
    uint64_t held_bytes;            /* charged against the caps */
    uint8_t *ring;          /* offset o at ring[o % ring_cap]; NULL while ring_cap is 0 */
    uint32_t ring_cap;      /* 0, or a power of two from RING_MIN to RING_SIZE */
};

struct flow {
    struct flow *hnext, *lru_prev, *lru_next;
    uint32_t hash;
    uint8_t af;
    uint8_t addr[2][16];    /* [0] client, [1] server; unused octets zero */
    uint16_t port[2];
    bool closed;            /* a tombstone: d[] is gone (see linger()) */
    void *user;
    uint64_t last_ts;
    struct dir d[2];
};

struct lru {
    struct flow *head, *tail;   /* most recently active first */
};

struct mc_reasm {
    struct mc_reasm_limits lim;
    struct mc_reasm_cb cb;
    struct mc_reasm_stats st;
    struct flow **bucket;
    uint32_t nbucket;       /* power of two */
    uint32_t nflows;        /* in the table, closed ones included */
    struct lru live, dead;  /* open flows; closed ones that linger */
    uint64_t held_now;
};

/* ---- small helpers ---- */

static size_t addr_len(uint8_t af)
{
    return af == 6 ? 16 : 4;
}

static int64_t span_end(const struct span *s)
{
    return s->off + (int64_t)s->dl + (int64_t)s->miss;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Offset in d's stream of sequence number seq (d started). */
static int64_t seq_off(const struct dir *d, uint32_t seq)
{
    uint32_t expect = d->isn + (uint32_t)d->next;
    return d->next + (int64_t)(int32_t)(seq - expect);
}

static void note(struct mc_reasm *r, struct flow *f, enum mc_reasm_note n, int d,
                 uint64_t frame, uint64_t detail)
{
    if (n == MC_REASM_OVERLAP_DIFFERS)
        r->st.overlaps_differing++;
    if (r->cb.note)
        r->cb.note(r->cb.ctx, f->user, n, (enum mc_reasm_dir)d, frame, detail);
}

static void out_of_memory(struct mc_reasm *r, uint64_t frame)
{
    if (r->st.out_of_memory++ == 0)
        r->st.oom_first_frame = frame;
}

/* ---- delivery: the only places where next advances ---- */

/* Make the ring fit the stream up to next + n (up to RING_SIZE). realloc
 * keeps ring[0, old cap) in place, which is where offsets below the old
 * cap are in both rings; content that had wrapped around the old ring is
 * not where the new one looks for it, so comparisons restart at next. On
 * allocation failure (false) the old ring goes on serving, with its
 * smaller window. */
static bool ring_fit(struct dir *d, uint32_t n)
{
    int64_t need = d->next + (int64_t)n;
    uint32_t cap = RING_MIN;
    uint8_t *p;
    if (d->ring_cap == RING_SIZE)
        return true;
    if (need > (int64_t)(RING_SIZE / 2))
        cap = RING_SIZE;
    else
        while ((int64_t)cap < need)
            cap <<= 1;
    if (cap <= d->ring_cap)
        return true;
    p = realloc(d->ring, cap);
    if (!p)
        return false;
    if (d->next > (int64_t)d->ring_cap)
        d->ring_lo = max64(d->ring_lo, d->next);
    d->ring = p;
    d->ring_cap = cap;
    return true;
}

static void emit_data(struct mc_reasm *r, struct flow *f, int di, const uint8_t *p, uint32_t n,
                      uint64_t frame)
{
    struct dir *d = &f->d[di];
    if (n == 0)
        return;
    if (r->cb.data)
        r->cb.data(r->cb.ctx, f->user, (enum mc_reasm_dir)di, p, n, frame);
    /* Only the last ring_cap octets can matter; at most two copies (the
     * ring wraps once), not one octet at a time: this runs for every
     * delivered octet of the capture. */
    if (!ring_fit(d, n))
        out_of_memory(r, frame);
    if (d->ring_cap) {
        uint32_t cap = d->ring_cap;
        uint32_t skip = n > cap ? n - cap : 0;
        uint32_t at = (uint32_t)((uint64_t)(d->next + skip) % cap);
        uint32_t len = n - skip;
        uint32_t first = len < cap - at ? len : cap - at;
        memcpy(d->ring + at, p + skip, first);
        memcpy(d->ring, p + skip + first, len - first);
    }
    d->next += n;
}

static void emit_gap(struct mc_reasm *r, struct flow *f, int di, uint64_t n, uint64_t frame)
{
    struct dir *d = &f->d[di];
    if (n == 0)
        return;
    r->st.gaps++;
    r->st.gap_octets += n;
    if (r->cb.gap)
        r->cb.gap(r->cb.ctx, f->user, (enum mc_reasm_dir)di, n, frame);
    d->next += (int64_t)n;
    d->ring_lo = d->next;   /* the ring now has a hole: compare only after it */
}

/* Deliver [a, b) of s, which must start at next: captured octets as data,
 * the uncaptured tail as a gap. */
static void deliver_range(struct mc_reasm *r, struct flow *f, int di, const struct span *s,
                          int64_t a, int64_t b, uint64_t gap_frame)
{
    int64_t data_end = s->off + s->dl;
    if (a < data_end) {
        int64_t e = min64(b, data_end);
        emit_data(r, f, di, s->p + (a - s->off), (uint32_t)(e - a), s->frame);
        a = e;
    }
    if (a < b)
        emit_gap(r, f, di, (uint64_t)(b - a), gap_frame);
}

static struct span held_span(const struct held *h)
{
    struct span s = {h->off, h->data, h->dl, h->miss, h->frame};
    return s;
}

static void free_held(struct mc_reasm *r, struct dir *d, struct held *h)
{
    uint64_t charge = h->dl + HELD_NODE_COST;
    d->held_bytes -= charge;
    r->held_now -= charge;
    free(h);
}

/* Unlink the first held piece (the caller frees it). */
static struct held *pop_held(struct dir *d)
{
    struct held *h = d->held;
    d->held = h->next;
    if (!d->held)
        d->held_last = NULL;
    return h;
}

static int64_t held_end(const struct held *h)
{
    return h->off + (int64_t)h->dl + (int64_t)h->miss;
}

/* Captured octets of s within [a, b). */
static uint32_t piece_dl(const struct span *s, int64_t a, int64_t b)
{
    int64_t data_end = s->off + s->dl;
    return a < data_end ? (uint32_t)(min64(b, data_end) - a) : 0;
}

/* Deliver held segments that now start at next. */
static void drain(struct mc_reasm *r, struct flow *f, int di, uint64_t frame)
{
    struct dir *d = &f->d[di];
    while (d->held && d->held->off == d->next) {
        struct held *h = pop_held(d);
        struct span s = held_span(h);
        deliver_range(r, f, di, &s, s.off, span_end(&s), frame);
        free_held(r, d, h);
    }
}

/* ---- overlap comparison ---- */

/* Octets of [a, b) on which the captured data of s and t differ. */
static uint64_t count_diff(const struct span *s, const struct span *t, int64_t a, int64_t b)
{
    int64_t e = min64(b, min64(s->off + s->dl, t->off + t->dl));
    uint64_t n = 0;
    for (int64_t o = a; o < e; o++)
        n += s->p[o - s->off] != t->p[o - t->off];
    return n;
}

/* Octets of s in [a, b) (below next) that differ from what was delivered.
 * Only the ring's window after the last gap can be compared; anything older
 * is assumed equal. */
static uint64_t diff_delivered(const struct dir *d, const struct span *s, int64_t a, int64_t b)
{
    if (!d->ring_cap)
        return 0;
    a = max64(a, max64(d->ring_lo, d->next - (int64_t)d->ring_cap));
    b = min64(b, s->off + s->dl);
    uint64_t n = 0;
    for (int64_t o = a; o < b; o++)
        n += s->p[o - s->off] != d->ring[(uint64_t)o % d->ring_cap];
    return n;
}

/* ---- accepting a segment's payload ---- */

/* s starts at next: deliver it, except where held segments (which came
 * first in capture order) already cover it: there their octets win. */
static void take_in_order(struct mc_reasm *r, struct flow *f, int di, const struct span *s)
{
    struct dir *d = &f->d[di];
    int64_t end = span_end(s);
    uint64_t differ = 0;
    while (d->next < end) {
        struct held *h = d->held;
        if (!h || h->off >= end) {
            deliver_range(r, f, di, s, d->next, end, s->frame);
            break;
        }
        if (h->off > d->next)
            deliver_range(r, f, di, s, d->next, h->off, s->frame);
        struct span hs = held_span(h);
        differ += count_diff(s, &hs, h->off, min64(end, span_end(&hs)));
        pop_held(d);
        deliver_range(r, f, di, &hs, hs.off, span_end(&hs), s->frame);
        free_held(r, d, h);
    }
    if (differ)
        note(r, f, MC_REASM_OVERLAP_DIFFERS, di, s->frame, differ);
    drain(r, f, di, s->frame);
}

/* What holding s costs: its pieces not yet covered by held segments. */
static uint64_t hold_cost(const struct dir *d, const struct span *s)
{
    int64_t o = s->off, end = span_end(s);
    uint64_t cost = 0;
    /* Usually s lies after everything held: no walk. */
    const struct held *h = d->held_last && s->off >= held_end(d->held_last) ? NULL : d->held;
    for (; h && o < end; h = h->next) {
        int64_t he = held_end(h);
        if (he <= o)
            continue;
        if (h->off > o)
            cost += piece_dl(s, o, min64(h->off, end)) + HELD_NODE_COST;
        o = max64(o, he);
    }
    if (o < end)
        cost += piece_dl(s, o, end) + HELD_NODE_COST;
    return cost;
}

static bool insert_piece(struct mc_reasm *r, struct dir *d, struct held **link,
                         const struct span *s, int64_t a, int64_t b)
{
    uint32_t dl = piece_dl(s, a, b);
    struct held *h = malloc(sizeof *h + dl);
    if (!h) {
        out_of_memory(r, s->frame);
        return false;
    }
    h->off = a;
    h->dl = dl;
    h->miss = (uint32_t)(b - a) - dl;
    h->frame = s->frame;
    if (dl)
        memcpy(h->data, s->p + (a - s->off), dl);
    h->next = *link;
    *link = h;
    if (!h->next)
        d->held_last = h;
    uint64_t charge = dl + HELD_NODE_COST;
    d->held_bytes += charge;
    r->held_now += charge;
    if (r->held_now > r->st.held_peak)
        r->st.held_peak = r->held_now;
    return true;
}

/* Copy the parts of s that no held segment covers; where one does, the held
 * octets (first seen) win and a difference is noted. false: out of memory
 * (some pieces may be in; they are consistent). */
static bool hold_pieces(struct mc_reasm *r, struct flow *f, int di, const struct span *s)
{
    struct dir *d = &f->d[di];
    struct held **link = &d->held;
    if (d->held_last && s->off >= held_end(d->held_last))
        link = &d->held_last->next;     /* the usual case: append */
    int64_t o = s->off, end = span_end(s);
    uint64_t differ = 0;
    bool ok = true;
    while (o < end) {
        struct held *h = *link;
        if (h && held_end(h) <= o) {
            link = &h->next;
            continue;
        }
        int64_t piece_end = h ? min64(h->off, end) : end;
        if (o < piece_end) {
            if (!insert_piece(r, d, link, s, o, piece_end)) {
                ok = false;
                break;
            }
            link = &(*link)->next;
            o = piece_end;
            continue;
        }
        struct span hs = held_span(h);
        int64_t he = span_end(&hs);
        differ += count_diff(s, &hs, o, min64(end, he));
        o = he;
        link = &h->next;
    }
    if (differ)
        note(r, f, MC_REASM_OVERLAP_DIFFERS, di, s->frame, differ);
    return ok;
}

/* The holding area is full: give up on the hole. Announce it as a gap up to
 * the earliest data we have (held or s) and deliver on from there. */
static void skip_forward(struct mc_reasm *r, struct flow *f, int di, const struct span *s)
{
    struct dir *d = &f->d[di];
    int64_t target = d->held ? min64(d->held->off, s->off) : s->off;
    emit_gap(r, f, di, (uint64_t)(target - d->next), s->frame);
    drain(r, f, di, s->frame);
}

/* Try to copy s (out of order) into the holding area. false: the caps (or
 * memory) do not allow it. */
static bool try_hold(struct mc_reasm *r, struct flow *f, int di, const struct span *s)
{
    struct dir *d = &f->d[di];
    uint64_t cost = hold_cost(d, s);
    if (cost && (d->held_bytes + cost > r->lim.held_per_dir ||
                 r->held_now + cost > r->lim.held_total))
        return false;
    return hold_pieces(r, f, di, s);
}

static bool span_empty(const struct span *s)
{
    return s->dl == 0 && s->miss == 0;
}

/* Any payload of direction di, wherever it lies. */
static void accept_span(struct mc_reasm *r, struct flow *f, int di, struct span s)
{
    struct dir *d = &f->d[di];
    if (span_empty(&s))
        return;
    if (d->fin_seen && span_end(&s) > d->fin_off) {
        note(r, f, MC_REASM_DATA_AFTER_FIN, di, s.frame,
             (uint64_t)(span_end(&s) - max64(s.off, d->fin_off)));
        if (s.off >= d->fin_off)
            return;
        int64_t keep = d->fin_off - s.off;
        if (keep <= (int64_t)s.dl) {
            s.dl = (uint32_t)keep;
            s.miss = 0;
        } else {
            s.miss = (uint32_t)(keep - s.dl);
        }
    }
    /* Each pass either finishes or, after an overflow, moves next forward
     * (to held data or to s), so this ends. */
    for (bool overflowed = false;;) {
        if (s.off < d->next) {  /* retransmitted (partly): compare, then drop */
            int64_t old_end = min64(span_end(&s), d->next);
            uint64_t differ = diff_delivered(d, &s, s.off, old_end);
            if (differ)
                note(r, f, MC_REASM_OVERLAP_DIFFERS, di, s.frame, differ);
            int64_t cut = old_end - s.off;
            if (cut >= (int64_t)s.dl) {
                s.miss -= (uint32_t)(cut - s.dl);
                s.p += s.dl;
                s.dl = 0;
            } else {
                s.p += cut;
                s.dl -= (uint32_t)cut;
            }
            s.off = old_end;
        }
        if (span_empty(&s))
            return;
        if (s.off == d->next) {
            take_in_order(r, f, di, &s);
            return;
        }
        if (try_hold(r, f, di, &s))
            return;
        if (!overflowed)
            note(r, f, MC_REASM_HELD_OVERFLOW, di, s.frame, (uint64_t)(span_end(&s) - s.off));
        overflowed = true;
        skip_forward(r, f, di, &s);
    }
}

/* ---- FIN ---- */

static void fin_if_ready(struct mc_reasm *r, struct flow *f, int di)
{
    struct dir *d = &f->d[di];
    if (d->fin_seen && !d->fin_done && d->next >= d->fin_off) {
        d->fin_done = true;
        if (r->cb.fin)
            r->cb.fin(r->cb.ctx, f->user, (enum mc_reasm_dir)di, false, d->fin_frame);
    }
}

/* Stop waiting for missing octets of di: everything held is delivered in
 * order with the holes as gaps, then the hole before a FIN, then the FIN. */
static void flush_dir(struct mc_reasm *r, struct flow *f, int di, uint64_t frame)
{
    struct dir *d = &f->d[di];
    while (d->held) {
        emit_gap(r, f, di, (uint64_t)(d->held->off - d->next), frame);
        drain(r, f, di, frame);
    }
    if (d->fin_seen && d->next < d->fin_off)
        emit_gap(r, f, di, (uint64_t)(d->fin_off - d->next), frame);
    fin_if_ready(r, f, di);
}

static void record_fin(struct mc_reasm *r, struct flow *f, int di, int64_t fin_off,
                       uint64_t frame)
{
    struct dir *d = &f->d[di];
    if (d->fin_seen)
        return;     /* a retransmitted FIN; the first one counts */
    if (fin_off < d->next) {
        /* Octets beyond this FIN were already delivered: too late to take
         * them back, so the FIN is placed at next. */
        note(r, f, MC_REASM_DATA_AFTER_FIN, di, frame, (uint64_t)(d->next - fin_off));
        fin_off = d->next;
    }
    d->fin_seen = true;
    d->fin_off = fin_off;
    d->fin_frame = frame;
    /* Held data beyond the FIN is ignored. */
    uint64_t dropped = 0;
    for (struct held **link = &d->held; *link;) {
        struct held *h = *link;
        if (held_end(h) <= fin_off) {
            link = &h->next;
            continue;
        }
        dropped += (uint64_t)(held_end(h) - max64(h->off, fin_off));
        if (h->off < fin_off) {
            /* cut the piece at the FIN (dl can only shrink) */
            int64_t keep = fin_off - h->off;
            uint32_t old = h->dl;
            if (keep <= (int64_t)h->dl) {
                h->dl = (uint32_t)keep;
                h->miss = 0;
            } else {
                h->miss = (uint32_t)(keep - h->dl);
            }
            d->held_bytes -= old - h->dl;
            r->held_now -= old - h->dl;
            link = &h->next;
        } else {
            *link = h->next;
            free_held(r, d, h);
        }
    }
    d->held_last = NULL;
    for (struct held *h = d->held; h; h = h->next)
        d->held_last = h;
    if (dropped)
        note(r, f, MC_REASM_DATA_AFTER_FIN, di, frame, dropped);
}

/* ---- flow table ---- */

static uint32_t hash_bytes(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;    /* FNV-1a */
    return h;
}

/* Same value for both orientations: the two endpoints are hashed in a
 * canonical order. */
static uint32_t tuple_hash(const struct mc_tcp_seg *seg)
{
    size_t al = addr_len(seg->af);
    const uint8_t *a = seg->src, *b = seg->dst;
    uint16_t pa = seg->sport, pb = seg->dport;
    int c = memcmp(a, b, al);
    if (c > 0 || (c == 0 && pa > pb)) {
        a = seg->dst;
        b = seg->src;
        pa = seg->dport;
        pb = seg->sport;
    }
    uint8_t ports[4] = {(uint8_t)(pa >> 8), (uint8_t)pa, (uint8_t)(pb >> 8), (uint8_t)pb};
    uint32_t h = hash_bytes(2166136261u, &seg->af, 1);
    h = hash_bytes(h, a, al);
    h = hash_bytes(h, b, al);
    return hash_bytes(h, ports, 4);
}

/* The direction of seg in f, or -1 when seg is not of f. */
static int seg_dir(const struct flow *f, const struct mc_tcp_seg *seg)
{
    size_t al = addr_len(seg->af);
    if (f->af != seg->af)
        return -1;
    for (int i = 0; i < 2; i++)
        if (f->port[i] == seg->sport && f->port[!i] == seg->dport &&
            memcmp(f->addr[i], seg->src, al) == 0 && memcmp(f->addr[!i], seg->dst, al) == 0)
            return i;   /* sender is endpoint i: 0 client (C2S), 1 server (S2C) */
    return -1;
}

static struct flow *lookup(struct mc_reasm *r, const struct mc_tcp_seg *seg, uint32_t hash,
                           int *di)
{
    for (struct flow *f = r->bucket[hash & (r->nbucket - 1)]; f; f = f->hnext)
        if (f->hash == hash && (*di = seg_dir(f, seg)) >= 0)
            return f;
    return NULL;
}

static struct lru *lru_of(struct mc_reasm *r, const struct flow *f)
{
    return f->closed ? &r->dead : &r->live;
}

static void lru_unlink(struct lru *l, struct flow *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        l->head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        l->tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push_front(struct lru *l, struct flow *f)
{
    f->lru_prev = NULL;
    f->lru_next = l->head;
    if (l->head)
        l->head->lru_prev = f;
    else
        l->tail = f;
    l->head = f;
}

static void hash_link(struct mc_reasm *r, struct flow *f)
{
    struct flow **b = &r->bucket[f->hash & (r->nbucket - 1)];
    f->hnext = *b;
    *b = f;
}

static void hash_unlink(struct mc_reasm *r, struct flow *f)
{
    struct flow **link = &r->bucket[f->hash & (r->nbucket - 1)];
    while (*link != f)
        link = &(*link)->hnext;
    *link = f->hnext;
}

static void free_dir_held(struct mc_reasm *r, struct dir *d)
{
    while (d->held)
        free_held(r, d, pop_held(d));
}

/* What a direction holds: its held data and its ring. */
static void free_dir(struct mc_reasm *r, struct dir *d)
{
    free_dir_held(r, d);
    free(d->ring);
    d->ring = NULL;
    d->ring_cap = 0;
}

/* Flush what can still be delivered (held data with its gaps, pending
 * FINs), then the close callback: the last one for this flow. The flow is
 * still open in the table; the caller destroys it or lets it linger. */
static void close_flow(struct mc_reasm *r, struct flow *f, uint64_t frame)
{
    flush_dir(r, f, MC_REASM_C2S, frame);
    flush_dir(r, f, MC_REASM_S2C, frame);
    if (r->cb.close)
        r->cb.close(r->cb.ctx, f->user, frame);
}

/* Keep a closed flow as a tombstone: late retransmissions and the last ACK
 * of a finished connection must not open a phantom flow. It shrinks to its
 * header (the rings and held data are no longer needed) and moves to the
 * dead list, which eviction empties first. */
static void linger(struct mc_reasm *r, struct flow *f)
{
    hash_unlink(r, f);
    lru_unlink(&r->live, f);
    free_dir(r, &f->d[0]);     /* held data: empty after close_flow */
    free_dir(r, &f->d[1]);
    f->closed = true;
    struct flow *g = realloc(f, offsetof(struct flow, d));
    if (g)
        f = g;
    hash_link(r, f);
    lru_push_front(&r->dead, f);
}

/* Remove from the table and free. */
static void destroy_flow(struct mc_reasm *r, struct flow *f)
{
    hash_unlink(r, f);
    lru_unlink(lru_of(r, f), f);
    if (!f->closed) {
        free_dir(r, &f->d[0]);
        free_dir(r, &f->d[1]);
    }
    r->nflows--;
    free(f);
}

/* Close flows with no segment for longer than the idle timeout; the LRU
 * tail is the least recently active, so the scan stops at the first flow
 * that is still fresh. */
static bool idle(const struct mc_reasm *r, const struct flow *f, uint64_t ts)
{
    /* capture time may step back: that is not idleness */
    return f && ts > f->last_ts && ts - f->last_ts > r->lim.idle_timeout_ns;
}

static void expire_idle(struct mc_reasm *r, uint64_t ts, uint64_t frame)
{
    if (r->lim.idle_timeout_ns == 0)
        return;
    while (idle(r, r->live.tail, ts)) {
        struct flow *f = r->live.tail;
        r->st.timeouts++;
        note(r, f, MC_REASM_IDLE_TIMEOUT, MC_REASM_C2S, frame, ts - f->last_ts);
        close_flow(r, f, frame);
        destroy_flow(r, f);
    }
    while (idle(r, r->dead.tail, ts))
        destroy_flow(r, r->dead.tail);
}

/* Make room for one more flow: the oldest tombstone if there is one (it
 * goes silently), else the least recently active open flow (noted). */
static void evict_one(struct mc_reasm *r, uint64_t frame)
{
    struct flow *f = r->dead.tail;
    if (!f) {
        f = r->live.tail;
        r->st.evicted++;
        note(r, f, MC_REASM_EVICTED, MC_REASM_C2S, frame, 0);
        close_flow(r, f, frame);
    }
    destroy_flow(r, f);
}

static void dir_init(struct dir *d, uint32_t isn)
{
    d->started = true;
    d->isn = isn;
}

/* Which endpoint of seg is the server when the handshake was not seen. */
static bool dst_is_server(const struct mc_reasm *r, const struct mc_tcp_seg *seg)
{
    bool s = false, t = false;
    if (r->cb.is_server_port) {
        s = r->cb.is_server_port(r->cb.ctx, seg->sport);
        t = r->cb.is_server_port(r->cb.ctx, seg->dport);
    }
    if (s != t)
        return t;
    return seg->dport <= seg->sport;
}

static struct flow *open_flow(struct mc_reasm *r, const struct mc_tcp_seg *seg, uint32_t hash,
                              uint64_t frame, uint64_t ts, int *di)
{
    if (r->nflows >= r->lim.max_flows)
        evict_one(r, frame);
    struct flow *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    memset(f, 0, offsetof(struct flow, d));
    for (int i = 0; i < 2; i++) {
        struct dir *d = &f->d[i];
        memset(d, 0, sizeof(*d));
        d->acked = -1;
    }
    f->hash = hash;
    f->af = seg->af;
    f->last_ts = ts;

    bool syn = seg->flags & MC_TCP_SYN, ack = seg->flags & MC_TCP_ACK;
    struct mc_reasm_flow_info fi;
    memset(&fi, 0, sizeof fi);
    fi.roles_from_syn = syn;
    fi.midstream = !syn;
    /* SYN: its sender is the client; SYN+ACK: the server. */
    *di = syn ? (ack ? MC_REASM_S2C : MC_REASM_C2S)
              : (dst_is_server(r, seg) ? MC_REASM_C2S : MC_REASM_S2C);
    size_t al = addr_len(seg->af);
    memcpy(f->addr[*di], seg->src, al);
    memcpy(f->addr[!*di], seg->dst, al);
    f->port[*di] = seg->sport;
    f->port[!*di] = seg->dport;
    if (syn && ack)     /* the client's stream starts where this SYN+ACK acknowledges */
        dir_init(&f->d[MC_REASM_C2S], seg->ack);

    fi.af = seg->af;
    memcpy(fi.client, f->addr[0], 16);
    memcpy(fi.server, f->addr[1], 16);
    fi.client_port = f->port[0];
    fi.server_port = f->port[1];
    fi.first_frame = frame;
    fi.first_ts_ns = ts;

    hash_link(r, f);
    lru_push_front(&r->live, f);
    r->nflows++;
    r->st.flows++;
    f->user = r->cb.open ? r->cb.open(r->cb.ctx, &fi) : NULL;
    return f;
}

/* A SYN without ACK from the client on a flow we know: a retransmission,
 * or a new connection on the same 4-tuple. */
static bool is_port_reuse(const struct flow *f, int di, const struct mc_tcp_seg *seg)
{
    const struct dir *d = &f->d[di];
    if (f->closed)
        return true;
    if (!d->started)
        return false;
    if (d->syn && d->syn_seq == seg->seq)
        return false;   /* the same SYN again */
    if (d->fin_seen || f->d[!di].fin_seen)
        return true;
    int64_t dist = seq_off(d, seg->seq + 1) - d->next;
    return dist > (int64_t)REUSE_DISTANCE || dist < -(int64_t)REUSE_DISTANCE;
}

/* The peer of di acknowledged up to ack: remember it (it tells when a FIN
 * with a hole before it will never see that hole filled). */
static void record_ack(struct flow *f, int di, uint32_t ack)
{
    struct dir *peer = &f->d[!di];
    if (!peer->started)
        return;
    int64_t o = seq_off(peer, ack);
    if (o > peer->acked)
        peer->acked = o;
}

/* The peer acknowledged octets of di that the capture does not have: the
 * receiver got them, so no retransmission will ever bring them. Announce
 * the hole now rather than at FIN or close, so that what follows reaches
 * the session in capture order, before the data of the segment that
 * carried the acknowledgement (a lost command must not make its answer
 * look unsolicited). A capture that shows an ACK before the data it
 * acknowledges (frames reordered between interfaces) loses that data to
 * the gap; captures on an endpoint or a span port do not. */
static void ack_reveals_gap(struct mc_reasm *r, struct flow *f, int di, uint64_t frame)
{
    struct dir *d = &f->d[di];
    int64_t target;
    if (!d->started || d->fin_done || d->acked <= d->next)
        return;
    target = d->held ? min64(d->acked, d->held->off) : d->acked;
    if (d->fin_seen)
        target = min64(target, d->fin_off);
    if (target <= d->next)
        return;
    emit_gap(r, f, di, (uint64_t)(target - d->next), frame);
    drain(r, f, di, frame);
}

/* A FIN waits while octets before it are missing, in case they are
 * retransmitted; it stops waiting (the hole becomes a gap) once the peer
 * acknowledged the FIN or sent its own FIN. */
static void settle_fins(struct mc_reasm *r, struct flow *f, uint64_t frame)
{
    for (int i = 0; i < 2; i++) {
        struct dir *d = &f->d[i];
        if (d->fin_seen && !d->fin_done &&
            (f->d[!i].fin_seen || d->acked > d->fin_off))
            flush_dir(r, f, i, frame);
    }
}

static void handle_rst(struct mc_reasm *r, struct flow *f, int di, uint64_t frame)
{
    /* The RST's sequence number is not trusted to mark a hole (stacks
     * send RSTs with odd numbers); held data is flushed with its gaps. */
    flush_dir(r, f, di, frame);
    if (!f->d[di].fin_done) {
        f->d[di].fin_done = true;
        if (r->cb.fin)
            r->cb.fin(r->cb.ctx, f->user, (enum mc_reasm_dir)di, true, frame);
    }
    close_flow(r, f, frame);
    linger(r, f);
}

static void handle_segment(struct mc_reasm *r, struct flow *f, int di,
                           const struct mc_tcp_seg *seg, uint64_t frame)
{
    struct dir *d = &f->d[di];
    bool syn = seg->flags & MC_TCP_SYN;
    if (!d->started)
        dir_init(d, syn ? seg->seq + 1 : seg->seq);
    if (syn && !d->syn) {
        d->syn = true;
        d->syn_seq = seg->seq;
    }
    if (seg->flags & MC_TCP_ACK) {
        record_ack(f, di, seg->ack);
        ack_reveals_gap(r, f, !di, frame);
    }
    if (seg->flags & MC_TCP_RST) {
        handle_rst(r, f, di, frame);    /* f is gone */
        return;
    }
    struct span s = {seq_off(d, syn ? seg->seq + 1 : seg->seq), seg->payload, seg->len,
                     seg->missing, frame};
    if (!s.p)
        s.dl = 0;
    if (s.miss > UINT32_MAX - s.dl)    /* keeps every piece's length in 32 bits */
        s.miss = UINT32_MAX - s.dl;
    /* After the FIN, retransmissions up to it are compared and dropped;
     * anything beyond it is noted (accept_span). */
    if ((seg->flags & MC_TCP_FIN) && !d->fin_done)
        record_fin(r, f, di, span_end(&s), frame);
    accept_span(r, f, di, s);
    fin_if_ready(r, f, di);
    settle_fins(r, f, frame);
    if (f->d[0].fin_done && f->d[1].fin_done) {
        close_flow(r, f, frame);
        linger(r, f);   /* f is gone */
    }
}

/* ---- API ---- */


struct mc_reasm *mc_reasm_new(const struct mc_reasm_limits *limits, const struct mc_reasm_cb *cb)
{
    struct mc_reasm *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (limits)
        r->lim = *limits;
    if (!r->lim.max_flows)
        r->lim.max_flows = 65536;
    if (!r->lim.held_per_dir)
        r->lim.held_per_dir = 1u << 20;
    if (!r->lim.held_total)
        r->lim.held_total = 32u << 20;
    /* The field's own rule ("0: never") wins over "fields 0: the defaults"
     * when limits are given; without limits the default applies. */
    if (!limits)
        r->lim.idle_timeout_ns = 3600ull * 1000000000ull;
    if (cb)
        r->cb = *cb;
    /* about two flows per bucket at the limit; capped so a huge max_flows
     * does not cost a huge table up front */
    uint32_t want = r->lim.max_flows / 2;
    if (want > (1u << 20))
        want = 1u << 20;
    r->nbucket = 16;
    while (r->nbucket < want)
        r->nbucket <<= 1;
    r->bucket = calloc(r->nbucket, sizeof *r->bucket);
    if (!r->bucket) {
        free(r);
        return NULL;
    }
    return r;
}

void mc_reasm_segment(struct mc_reasm *r, const struct mc_tcp_seg *seg, uint64_t frame,
                      uint64_t ts_ns)
{
    r->st.segments++;
    if (seg->af != 4 && seg->af != 6)
        return;
    expire_idle(r, ts_ns, frame);
    uint32_t hash = tuple_hash(seg);
    int di = 0;
    struct flow *f = lookup(r, seg, hash, &di);
    bool syn_only = (seg->flags & (MC_TCP_SYN | MC_TCP_ACK)) == MC_TCP_SYN;
    if (f && syn_only && di == MC_REASM_C2S && is_port_reuse(f, di, seg)) {
        if (!f->closed) {
            note(r, f, MC_REASM_PORT_REUSE, di, frame, 0);
            close_flow(r, f, frame);
        }
        destroy_flow(r, f);
        f = NULL;
    } else if (f && syn_only && di == MC_REASM_S2C && f->closed) {
        /* a new connection in the other orientation */
        destroy_flow(r, f);
        f = NULL;
    }
    if (!f) {
        /* Nothing to deliver from a stray ACK or RST: opening a flow for it
         * would only make an empty session. */
        if (!(seg->flags & (MC_TCP_SYN | MC_TCP_FIN)) && seg->len + (uint64_t)seg->missing == 0)
            return;
        if (seg->flags & MC_TCP_RST)
            return;
        f = open_flow(r, seg, hash, frame, ts_ns, &di);
        if (!f) {
            out_of_memory(r, frame);   /* the segment is dropped */
            return;
        }
    }
    f->last_ts = ts_ns;
    lru_unlink(lru_of(r, f), f);
    lru_push_front(lru_of(r, f), f);
    if (!f->closed)
        handle_segment(r, f, di, seg, frame);
}

void mc_reasm_finish(struct mc_reasm *r, uint64_t last_frame)
{
    /* oldest activity first */
    while (r->live.tail) {
        struct flow *f = r->live.tail;
        close_flow(r, f, last_frame);
        destroy_flow(r, f);
    }
    while (r->dead.tail)
        destroy_flow(r, r->dead.tail);
}

const struct mc_reasm_stats *mc_reasm_stats(const struct mc_reasm *r)
{
    return &r->st;
}

void mc_reasm_free(struct mc_reasm *r)
{
    if (!r)
        return;
    while (r->live.tail)
        destroy_flow(r, r->live.tail);
    while (r->dead.tail)
        destroy_flow(r, r->dead.tail);
    free(r->bucket);
    free(r);
}
