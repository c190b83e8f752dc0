/*
 * Helpers shared by the fuzz targets (header-only, static functions).
 *
 * - FZ_CHECK(cond): an oracle. On failure it prints the file, line and the
 *   condition to stderr and calls abort(), which every engine and the replay
 *   driver report as a crash.
 * - struct fz_log: a growable byte log. Each target serialises what a run
 *   produced (events, records, findings) into one log per run; two runs that
 *   must agree are compared with fz_log_same(). The log grows linearly with
 *   the input, which max_len bounds.
 * - fz_rng: xorshift32 seeded from the input's option bytes, so chunk sizes
 *   and split points are chosen by the fuzzer but cost no input bytes.
 */
#ifndef MC_FUZZ_COMMON_H
#define MC_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

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
};

FZ_ORACLE static inline void fz_log_bytes(struct fz_log *l, const void *p, size_t n)
{
    if (n == 0)
        return;
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

FZ_ORACLE static inline int fz_log_same(const struct fz_log *a, const struct fz_log *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->b, b->b, a->n) == 0);
}

/* Index of the first differing byte (for the failure message). */
FZ_ORACLE static inline size_t fz_log_diff_at(const struct fz_log *a, const struct fz_log *b)
{
    size_t n = a->n < b->n ? a->n : b->n, i = 0;
    while (i < n && a->b[i] == b->b[i])
        i++;
    return i;
}

FZ_ORACLE static inline void fz_log_free(struct fz_log *l)
{
    free(l->b);
    l->b = NULL;
    l->n = l->cap = 0;
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

/* Feeds buf to feed(ctx, ...) whole (rng NULL) or in chunks of 1..most
 * octets. Each chunk is copied to the end of one heap block, so a parser
 * reading past the chunk it was given is caught by ASan. */
static inline void fz_feed_cut(void *ctx, void (*feed)(void *ctx, const uint8_t *buf, size_t len),
                               const uint8_t *buf, size_t len, struct fz_rng *rng, size_t most)
{
    uint8_t *block;
    size_t i = 0;
    if (!rng) {
        feed(ctx, buf, len);
        return;
    }
    block = malloc(most);
    FZ_CHECK(block != NULL);
    while (i < len) {
        size_t c = fz_rng_range(rng, 1, most);
        if (c > len - i)
            c = len - i;
        memcpy(block + most - c, buf + i, c);
        feed(ctx, block + most - c, c);
        i += c;
    }
    free(block);
}

/* True if the span [p, p+n) lies inside [base, base+cap); NULL with n 0 is
 * the "no span" value and always fine. */
FZ_ORACLE static inline int fz_span_in(const uint8_t *p, size_t n, const uint8_t *base, size_t cap)
{
    if (p == NULL)
        return n == 0;
    return p >= base && p <= base + cap && n <= (size_t)(base + cap - p);
}


/* True if anomaly code maps to a POP3 rule of that side, with the rule's
 * metadata agreeing; mc_rule_for_anom() runs once per code, not per hit. */
FZ_ORACLE static inline bool fz_pop3_anom_maps(unsigned code, enum mc_side side)
{
    static signed char map[2][MC_ANOM_COUNT];
    static bool done;
    if (code >= MC_ANOM_COUNT || (side != MC_SIDE_CLIENT && side != MC_SIDE_SERVER))
        return false;
    if (!done) {
        for (unsigned sd = 0; sd < 2; sd++) {
            for (unsigned c = 1; c < MC_ANOM_COUNT; c++) {
                enum mc_rule r;
                const struct mc_rule_info *ri;
                map[sd][c] = 0;
                if (!mc_rule_for_anom((enum mc_anom)c, MC_PROTO_POP3, (enum mc_side)sd, &r))
                    continue;
                ri = mc_rule_info(r);
                map[sd][c] = (unsigned)r < MC_RULE_COUNT && ri != NULL &&
                             ri->proto == MC_PROTO_POP3 && ri->side == (enum mc_side)sd;
            }
        }
        done = true;
    }
    return map[side][code] != 0;
}

#endif
