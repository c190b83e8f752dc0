/*
 * Helpers shared by the fuzz targets (header-only, static functions).
 *
 * - FZ_CHECK(cond): an oracle. On failure it prints the file, line and the
 *   condition to stderr and calls abort(), which every engine and the replay
 *   driver report as a crash.
 * - struct fz_log: a growable byte log. Each target serialises what a run
 *   produced (events, records, findings) into one log per run; two runs that
 *   must agree are compared with fz_log_same(). The log grows linearly with
 *   the input, which max_len bounds. While fz_log_hashed is set, a log keeps
 *   only its length and a running hash of what was written (no allocation,
 *   no copy): the parser targets run that way and, when the hashes differ,
 *   run again with full logs for the message (FZ_SPLIT_INVARIANT).
 * - fz_rng: xorshift32 seeded from the input's option bytes, so chunk sizes
 *   and split points are chosen by the fuzzer but cost no input bytes.
 * - Parser targets: fz_feed_opts() (chunk sizes from option bits 0-1),
 *   fz_gap_plan() (where and how long the gap is), fz_check_anoms(),
 *   fz_check_sub(), fz_log_span(), fz_log_anoms(), and FZ_LOGS_AGREE() for
 *   the split-invariance comparison of two logs.
 * - Session targets: struct fz_sess (the state of one run), the record
 *   reader fz_sess_records(), fz_sess_finding() (the checks of every
 *   finding) and fz_sess_print_diff().
 */
#ifndef MC_FUZZ_COMMON_H
#define MC_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "session/session.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FZ_ASAN)
#define FZ_ASAN 1
#endif
#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Oracle and bookkeeping code is left out of the engines' coverage and
 * comparison tracing: it would only slow the run down (more than half of
 * the time went to tracing its 64-bit compares) and feed noise to the
 * mutator. The code under test stays fully instrumented. */
#if defined(__clang__) && __clang_major__ >= 13
#define FZ_ORACLE __attribute__((no_sanitize("coverage")))
#else
#define FZ_ORACLE
#endif

#define FZ_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                         \
            abort();                                                                \
        }                                                                           \
    } while (0)

struct fz_log {
    uint8_t *b;
    size_t n, cap;
    uint64_t h; /* running hash of what was written while fz_log_hashed */
};

/* Set: logs keep only n and h (see the comment at the top). One flag per
 * harness (each harness is one translation unit); the parser targets set it
 * around their two runs in FZ_SPLIT_INVARIANT, everything else keeps full
 * logs. */
static bool fz_log_hashed;

/* One 64-bit word into the running hash: xor, then multiply and xor-shift
 * (a bijection of h for a fixed word and of the word for a fixed h, so two
 * streams of words that differ collide only by chance, about 2^-64). */
FZ_ORACLE static inline void fz_hash_word(struct fz_log *l, uint64_t v)
{
    uint64_t h = (l->h ^ v) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    l->h = h ^ (h >> 32);
}

FZ_ORACLE static inline void fz_log_bytes(struct fz_log *l, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (fz_log_hashed) {
        const uint8_t *q = p;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, q + i, 8);
            fz_hash_word(l, w);
        }
        if (i < n) {
            uint64_t w = 0;
            memcpy(&w, q + i, n - i);
            fz_hash_word(l, w);
        }
        fz_hash_word(l, n); /* where the zero padding of the tail ends */
        l->n += n;
        return;
    }
    if (l->n + n > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->n + n)
            cap *= 2;
        uint8_t *nb = realloc(l->b, cap);
        FZ_CHECK(nb != NULL);
        l->b = nb;
        l->cap = cap;
    }
    memcpy(l->b + l->n, p, n);
    l->n += n;
}

FZ_ORACLE static inline void fz_log_u64(struct fz_log *l, uint64_t v)
{
    uint8_t b[8];
    if (fz_log_hashed) {
        fz_hash_word(l, v);
        l->n += 8;
        return;
    }
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    fz_log_bytes(l, b, sizeof(b));
}

/* A length-prefixed byte string, so adjacent fields cannot run together. */
FZ_ORACLE static inline void fz_log_blob(struct fz_log *l, const void *p, size_t n)
{
    fz_log_u64(l, n);
    fz_log_bytes(l, p, n);
}

/* Same length and hash, and the same bytes where both logs kept them (a
 * hashed log and a full one of the same length compare unequal). */
FZ_ORACLE static inline int fz_log_same(const struct fz_log *a, const struct fz_log *b)
{
    if (a->n != b->n || a->h != b->h)
        return 0;
    if (a->n == 0)
        return 1;
    if (a->b == NULL || b->b == NULL)
        return a->b == b->b;
    return memcmp(a->b, b->b, a->n) == 0;
}

/* Index of the first differing byte (for the failure message; full logs). */
FZ_ORACLE static inline size_t fz_log_diff_at(const struct fz_log *a, const struct fz_log *b)
{
    size_t n = a->n < b->n ? a->n : b->n, i = 0;
    if (a->b == NULL || b->b == NULL)
        return 0;
    while (i < n && a->b[i] == b->b[i])
        i++;
    return i;
}

FZ_ORACLE static inline void fz_log_free(struct fz_log *l)
{
    free(l->b);
    l->b = NULL;
    l->n = l->cap = 0;
    l->h = 0;
}

struct fz_rng {
    uint32_t s;
};

FZ_ORACLE static inline void fz_rng_seed(struct fz_rng *r, uint32_t seed)
{
    r->s = seed * 2654435761u + 0x9e3779b9u;
    if (r->s == 0)
        r->s = 1;
}

FZ_ORACLE static inline uint32_t fz_rng_next(struct fz_rng *r)
{
    uint32_t x = r->s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->s = x;
    return x;
}

/* A value in [lo, hi]. */
FZ_ORACLE static inline size_t fz_rng_range(struct fz_rng *r, size_t lo, size_t hi)
{
    return lo + (size_t)(fz_rng_next(r) % (uint32_t)(hi - lo + 1));
}

/* The one-octet cut mode (most == 1) costs a parser call per octet, several
 * times the per-octet cost of a whole feed under the fuzzer's
 * instrumentation. On a stream longer than FZ_ONE_HEAD + FZ_ONE_WINDOW it
 * cuts one octet at a time only over the first FZ_ONE_HEAD octets and over a
 * window of FZ_ONE_WINDOW octets whose start the rng (that is, the input's
 * seed byte) chooses, and in chunks of 1..FZ_ONE_ELSE octets elsewhere: every
 * cut point can still be reached one octet at a time, by choosing the
 * window. Streams up to that length (most seeds) are cut octet by octet
 * throughout, as before. */
#define FZ_ONE_HEAD 256
#define FZ_ONE_WINDOW 256
#define FZ_ONE_ELSE 64
#define FZ_CUT_MAX 700 /* the largest `most` (fz_feed_opts) */

/* Where the pieces go: one heap block per size class, allocated once per
 * process rather than once per run (a fresh block per run was a malloc, an
 * ASan fill of new pages and a free on every execution). Each piece is
 * copied to the end of its block, so a parser reading past the piece it was
 * given is caught by ASan exactly; one-octet pieces get a block of one
 * octet, so a read before them is caught too; in the large block the octets
 * before the piece are poisoned (to ASan's 8-octet granule), so a read well
 * before the piece is caught as well. */
FZ_ORACLE static inline uint8_t *fz_cut_block(size_t size)
{
    static uint8_t *one, *big;
    uint8_t **p = size == 1 ? &one : &big;
    FZ_CHECK(size == 1 || size <= FZ_CUT_MAX);
    if (*p == NULL) {
        *p = malloc(size == 1 ? 1 : FZ_CUT_MAX);
        FZ_CHECK(*p != NULL);
    }
    return *p;
}

/* Feeds buf to feed(ctx, ...) whole (rng NULL) or in chunks of 1..most
 * octets (most 1: see FZ_ONE_HEAD). */
FZ_ORACLE static inline void fz_feed_cut(void *ctx,
                                         void (*feed)(void *ctx, const uint8_t *buf, size_t len),
                                         const uint8_t *buf, size_t len, struct fz_rng *rng,
                                         size_t most)
{
    size_t i = 0, win = 0, win_end = 0;
    if (!rng) {
        feed(ctx, buf, len);
        return;
    }
    if (most == 1 && len > FZ_ONE_HEAD + FZ_ONE_WINDOW) {
        win = fz_rng_range(rng, FZ_ONE_HEAD, len - FZ_ONE_WINDOW);
        win_end = win + FZ_ONE_WINDOW;
    } else if (most == 1) {
        win_end = len; /* short: one octet at a time throughout */
    }
    while (i < len) {
        size_t c, cap;
        uint8_t *block, *piece;
        if (most != 1)
            c = fz_rng_range(rng, 1, most);
        else if (i < FZ_ONE_HEAD || (i >= win && i < win_end))
            c = 1;
        else {
            /* a chunk, stopping at the window so that it starts a piece */
            c = fz_rng_range(rng, 1, FZ_ONE_ELSE);
            if (i < win && c > win - i)
                c = win - i;
        }
        if (c > len - i)
            c = len - i;
        cap = c == 1 && most == 1 ? 1 : FZ_CUT_MAX;
        block = fz_cut_block(cap);
        piece = block + cap - c;
#ifdef FZ_ASAN
        if (piece > block)
            ASAN_POISON_MEMORY_REGION(block, (size_t)(piece - block));
#endif
        memcpy(piece, buf + i, c);
        feed(ctx, piece, c);
#ifdef FZ_ASAN
        /* the whole block: unpoisoning up to an unaligned piece would poison
         * the rest of the piece's granule */
        if (piece > block)
            ASAN_UNPOISON_MEMORY_REGION(block, cap);
#endif
        i += c;
    }
}

/* True if the span [p, p+n) lies inside [base, base+cap); NULL with n 0 is
 * the "no span" value and always fine. */
FZ_ORACLE static inline int fz_span_in(const uint8_t *p, size_t n, const uint8_t *base, size_t cap)
{
    if (p == NULL)
        return n == 0;
    return p >= base && p <= base + cap && n <= (size_t)(base + cap - p);
}


/* True if anomaly code maps to a rule of that protocol and side, with the
 * rule's metadata agreeing; mc_rule_for_anom() runs once per code and
 * protocol, not per hit. */
FZ_ORACLE static inline bool fz_anom_maps(enum mc_proto proto, unsigned code, enum mc_side side)
{
    static signed char map[MC_PROTO_TLS + 1][2][MC_ANOM_COUNT];
    static bool done[MC_PROTO_TLS + 1];
    if (code >= MC_ANOM_COUNT || (side != MC_SIDE_CLIENT && side != MC_SIDE_SERVER) ||
        (unsigned)proto > MC_PROTO_TLS)
        return false;
    if (!done[proto]) {
        for (unsigned sd = 0; sd < 2; sd++) {
            for (unsigned c = 1; c < MC_ANOM_COUNT; c++) {
                enum mc_rule r;
                const struct mc_rule_info *ri;
                map[proto][sd][c] = 0;
                if (!mc_rule_for_anom((enum mc_anom)c, proto, (enum mc_side)sd, &r))
                    continue;
                ri = mc_rule_info(r);
                map[proto][sd][c] = (unsigned)r < MC_RULE_COUNT && ri != NULL &&
                                    ri->proto == proto && ri->side == (enum mc_side)sd;
            }
        }
        done[proto] = true;
    }
    return map[proto][side][code] != 0;
}

/* ---- parser targets ------------------------------------------------------ */

/* Feeds buf to feed(ctx, ...) whole (rng NULL) or in chunks whose largest
 * size option bits 0-1 choose: 8, 64, 1 (one octet at a time, capped on long
 * streams: FZ_ONE_HEAD) or 700. */
FZ_ORACLE static inline void fz_feed_opts(void *ctx,
                                          void (*feed)(void *ctx, const uint8_t *buf, size_t len),
                                          const uint8_t *buf, size_t len, struct fz_rng *rng,
                                          uint8_t opts)
{
    static const size_t max_chunk[4] = {8, 64, 1, 700};
    fz_feed_cut(ctx, feed, buf, len, rng, max_chunk[opts & 3]);
}

/* The gap of a stream of n octets: none unless option bit 2 is set; else at
 * the fraction frac/255 of the stream, of a length that option bits 4-7
 * choose (15: 2^40 octets). No gap: *at = n, *len = 0. */
FZ_ORACLE static inline void fz_gap_plan(uint8_t opts, uint8_t frac, size_t n, size_t *at, uint64_t *len)
{
    *at = n;
    *len = 0;
    if (opts & 4) {
        unsigned cls = opts >> 4;
        *at = (size_t)((uint64_t)n * frac / 255);
        *len = cls == 15 ? (uint64_t)1 << 40 : 1 + (uint64_t)cls * 37;
    }
}

/* An event's anomalies: at most MC_ANOMS_MAX, dropped only when full, every
 * code a real one that maps to a rule of proto and side (unless exempt()
 * says the session judges it itself), every offset in [lo, hi]. */
FZ_ORACLE static inline void fz_check_anoms(const struct mc_anoms *a, uint64_t lo, uint64_t hi,
                                            enum mc_proto proto, enum mc_side side,
                                            bool (*exempt)(unsigned code))
{
    FZ_CHECK(a->n <= MC_ANOMS_MAX);
    FZ_CHECK(a->dropped == 0 || a->n == MC_ANOMS_MAX);
    for (unsigned i = 0; i < a->n; i++) {
        unsigned code = a->hit[i].code;
        FZ_CHECK(code > MC_ANOM_NONE && code < MC_ANOM_COUNT);
        if (exempt == NULL || !exempt(code))
            FZ_CHECK(fz_anom_maps(proto, code, side));
        FZ_CHECK(a->hit[i].off >= lo && a->hit[i].off <= hi);
    }
}

/* A sub-span lies inside the outer span, ptr and off in step. */
FZ_ORACLE static inline void fz_check_sub(const struct mc_span *outer, const struct mc_span *s)
{
    if (s->ptr == NULL) {
        FZ_CHECK(s->len == 0);
        return;
    }
    FZ_CHECK(fz_span_in(s->ptr, s->len, outer->ptr, outer->len));
    FZ_CHECK(s->off >= outer->off);
    FZ_CHECK(s->off - outer->off == (uint64_t)(s->ptr - outer->ptr));
}

FZ_ORACLE static inline void fz_log_span(struct fz_log *l, const struct mc_span *s)
{
    fz_log_u64(l, s->off);
    fz_log_blob(l, s->ptr, s->len);
}

FZ_ORACLE static inline void fz_log_anoms(struct fz_log *l, const struct mc_anoms *a)
{
    fz_log_u64(l, (uint64_t)a->n | (uint64_t)a->dropped << 8);
    for (unsigned i = 0; i < a->n; i++) {
        fz_log_u64(l, a->hit[i].code);
        fz_log_u64(l, a->hit[i].off);
    }
}

/* Two logs that must agree; on a difference prints "<what>: <noun> logs
 * differ at byte ..." and fails the oracle FZ_CHECK(!claim), claim being a
 * string literal (a macro, so the failure names the caller's file). */
#define FZ_LOGS_AGREE(a, b, what, noun, claim)                                           \
    do {                                                                                 \
        if (!fz_log_same((a), (b))) {                                                    \
            fprintf(stderr, "%s: %s logs differ at byte %zu (%zu vs %zu bytes)\n", what, \
                    noun, fz_log_diff_at((a), (b)), (a)->n, (b)->n);                     \
            FZ_CHECK(!claim);                                                            \
        }                                                                                \
    } while (0)

/* The split-invariance oracle of the parser targets. `runs` runs the whole
 * and the cut run, filling the logs a and b; first with hashed logs
 * (fz_log_hashed: no log is stored, every execution pays only the hash),
 * then, only when the hashes or lengths differ, again with full logs, and
 * FZ_LOGS_AGREE compares those byte by byte and prints where they differ,
 * as it always did. The runs are deterministic (everything they decide
 * comes from the input), so the second pair of runs repeats the first;
 * full logs that agree after all (the same bytes hashed in different
 * pieces) pass. Every oracle of both runs runs on every execution. */
#define FZ_SPLIT_INVARIANT(runs, a, b, what, noun, claim)  \
    do {                                                   \
        fz_log_hashed = true;                              \
        runs;                                              \
        fz_log_hashed = false;                             \
        if (!fz_log_same((a), (b))) {                      \
            fz_log_free(a);                                \
            fz_log_free(b);                                \
            runs;                                          \
            FZ_LOGS_AGREE((a), (b), what, noun, claim);    \
        }                                                  \
        fz_log_free(a);                                    \
        fz_log_free(b);                                    \
    } while (0)

/* ---- session targets ----------------------------------------------------- */

/* One run of a session target over its records. */
struct fz_sess {
    struct fz_log log;       /* rule, direction, offset per finding */
    uint64_t seen[2];        /* octets given to the session per direction */
    uint64_t calls;
    struct mc_session *s;
    uint8_t *block;          /* scratch for the pieces of data records */
    size_t block_len;
};

/* The checks of every finding, and its log entry (rule, direction, offset).
 * name: the session's name; per_rule (NULL: not checked) counts the
 * findings of each rule, which must stay within MC_FINDINGS_PER_RULE. */
FZ_ORACLE static inline void fz_sess_finding(struct fz_sess *r, const struct mc_finding *f,
                                             const char *name, uint32_t *per_rule)
{
    const struct mc_rule_info *ri;

    FZ_CHECK((unsigned)f->rule < MC_RULE_COUNT);
    ri = mc_rule_info(f->rule);
    FZ_CHECK(ri != NULL);
    FZ_CHECK(f->side == ri->side);
    FZ_CHECK(f->proto == ri->proto && f->proto == mc_session_proto(r->s));
    FZ_CHECK(f->severity == ri->severity);
    FZ_CHECK(f->dir == (ri->side == MC_SIDE_CLIENT ? MC_DIR_C2S : MC_DIR_S2C));
    FZ_CHECK(f->offset <= r->seen[f->dir]);
    FZ_CHECK(f->session != NULL && strcmp(f->session, name) == 0);
    FZ_CHECK(memchr(f->excerpt, 0, sizeof(f->excerpt)) != NULL);
    FZ_CHECK(memchr(f->message, 0, sizeof(f->message)) != NULL && f->message[0] != '\0');
    if (per_rule)
        FZ_CHECK(++per_rule[f->rule] <= MC_FINDINGS_PER_RULE);
    r->calls++;

    fz_log_u64(&r->log, f->rule);
    fz_log_u64(&r->log, f->dir);
    fz_log_u64(&r->log, f->offset);
}

struct fz_reader {
    const uint8_t *p;
    size_t n;
};

static inline size_t fz_take(struct fz_reader *rd, size_t want)
{
    return want < rd->n ? want : rd->n;
}

static inline uint64_t fz_read_le(struct fz_reader *rd, unsigned bytes)
{
    uint64_t v = 0;
    unsigned k = (unsigned)fz_take(rd, bytes);
    for (unsigned i = 0; i < k; i++)
        v |= (uint64_t)rd->p[i] << (8 * i);
    rd->p += k;
    rd->n -= k;
    return v;
}

/* The data length of a record whose header's low four bits are l: 0 to 13
 * as it is, 14 + the next octet, 270 + the next two (little-endian); at most
 * what is left of the input. */
static inline size_t fz_record_len(struct fz_reader *rd, unsigned l)
{
    size_t len = l;
    if (l == 14)
        len = 14 + (size_t)fz_read_le(rd, 1);
    else if (l == 15)
        len = 270 + (size_t)fz_read_le(rd, 2);
    return fz_take(rd, len);
}

/* One record of a session target's input (the layout is in
 * fuzz_pop3_session.c), as fz_next_record() decodes it. */
struct fz_record {
    enum mc_dir dir;
    unsigned kind;           /* 0-3 data, 4-5 "! tls" (5: ...), 6 gap, 7 close */
    const uint8_t *p;        /* data: the payload, len octets */
    size_t len;
    uint64_t gap;            /* gap: the octets missing */
    struct mc_origin o;      /* {0, the record's number from 1} */
};

/* Decodes the next record of rd into rec (zeroed by the caller before the
 * first one: it counts the records); false at the end of the input. */
static inline bool fz_next_record(struct fz_reader *rd, struct fz_record *rec)
{
    uint8_t h;
    unsigned l;
    if (rd->n == 0)
        return false;
    h = (uint8_t)fz_read_le(rd, 1);
    l = h & 15;
    rec->dir = (h & 0x80) ? MC_DIR_S2C : MC_DIR_C2S;
    rec->kind = (h >> 4) & 7;
    rec->o.frame = 0;
    rec->o.line++;
    rec->p = NULL;
    rec->len = 0;
    rec->gap = 0;
    if (rec->kind < 4) {
        rec->len = fz_record_len(rd, l);
        rec->p = rd->p;
        rd->p += rec->len;
        rd->n -= rec->len;
    } else if (rec->kind == 6) {
        rec->gap = l < 15 ? (uint64_t)l + 1 : 16 + fz_read_le(rd, 4);
    }
    return true;
}

/* Starts a run over an input of size octets (2 option bytes, then records):
 * seeds rng from the option bytes, creates the session and the scratch
 * block. The caller has zeroed r. */
static inline void fz_sess_start(struct fz_sess *r, const uint8_t *data, size_t size,
                                 const char *name, enum mc_proto proto, mc_finding_fn fn,
                                 void *fn_ctx, struct fz_rng *rng)
{
    fz_rng_seed(rng, (uint32_t)data[1] << 8 | data[0]);
    r->s = mc_session_new(name, proto, fn, fn_ctx);
    FZ_CHECK(r->s != NULL);
    r->block_len = size;
    r->block = malloc(size);
    FZ_CHECK(r->block != NULL);
}

/* Each piece is copied to the end of a heap block as large as the input, so
 * a read past the piece is caught by ASan. */
static inline void fz_sess_give(struct fz_sess *r, enum mc_dir dir, const uint8_t *buf,
                                size_t len, const struct mc_origin *o)
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

/* Gives the records of data[2..size) to the session (the layout is in
 * fuzz_pop3_session.c); cut: re-cut every data record as option bits 0-1
 * say. Returns whether a TLS record was seen. */
static inline bool fz_sess_records(struct fz_sess *r, const uint8_t *data, size_t size,
                                   struct fz_rng *rng, bool cut)
{
    struct fz_reader rd = {data + 2, size - 2};
    struct fz_record rec;
    const uint8_t opts = data[0];
    bool saw_tls = false;

    memset(&rec, 0, sizeof(rec));
    while (fz_next_record(&rd, &rec)) {
        if (rec.kind < 4) {
            if (!cut) {
                fz_sess_give(r, rec.dir, rec.p, rec.len, &rec.o);
            } else if ((opts & 3) == 0) {
                size_t at = rec.len ? fz_rng_range(rng, 0, rec.len) : 0;
                fz_sess_give(r, rec.dir, rec.p, at, &rec.o);
                fz_sess_give(r, rec.dir, rec.p + at, rec.len - at, &rec.o);
            } else {
                static const size_t max_chunk[4] = {0, 8, 1, 64};
                size_t i = 0;
                while (i < rec.len) {
                    size_t c = fz_rng_range(rng, 1, max_chunk[opts & 3]);
                    if (c > rec.len - i)
                        c = rec.len - i;
                    fz_sess_give(r, rec.dir, rec.p + i, c, &rec.o);
                    i += c;
                }
            }
        } else if (rec.kind == 4 || rec.kind == 5) {
            mc_session_tls(r->s, rec.kind == 5, &rec.o);
            saw_tls = true;
        } else if (rec.kind == 6) {
            r->seen[rec.dir] += rec.gap;
            mc_session_gap(r->s, rec.dir, rec.gap, &rec.o);
        } else {
            mc_session_close(r->s, rec.dir, &rec.o);
        }
    }
    return saw_tls;
}

/* Ends the records: mc_session_finish() twice (it is idempotent), then the
 * findings counted must be the callbacks and the name the one given. */
static inline void fz_sess_finish(struct fz_sess *r, const char *name)
{
    mc_session_finish(r->s);
    mc_session_finish(r->s); /* idempotent */
    FZ_CHECK(mc_session_findings(r->s) == r->calls);
    FZ_CHECK(strcmp(mc_session_name(r->s), name) == 0);
}

static inline void fz_sess_free(struct fz_sess *r)
{
    mc_session_free(r->s);
    r->s = NULL;
    free(r->block);
    r->block = NULL;
}

/* Prints how the finding logs of the whole and the re-cut run differ: the
 * findings around the first difference, 24 log bytes each. A 24-byte row
 * whose first word is no rule (a target's trailer, e.g. the suppressed
 * count) is printed as "suppressed=<second word>". */
static inline void fz_sess_print_diff(const struct fz_sess *whole, const struct fz_sess *cut)
{
    fprintf(stderr, "split invariance: %llu findings whole, %llu re-cut; logs differ at byte %zu\n",
            (unsigned long long)whole->calls, (unsigned long long)cut->calls,
            fz_log_diff_at(&whole->log, &cut->log));
    size_t first = fz_log_diff_at(&whole->log, &cut->log) / 24;
    first = first > 2 ? first - 2 : 0;
    for (size_t i = first * 24; i < (first + 8) * 24 && (i + 24 <= whole->log.n ||
                                                         i + 24 <= cut->log.n); i += 24) {
        const struct fz_log *L[2] = {&whole->log, &cut->log};
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
}

#endif
