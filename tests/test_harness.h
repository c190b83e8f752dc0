/*
 * Helpers shared by the parser tests (STYLE.md, "Tests and fuzz targets
 * mirror the modules").
 *
 * - Guard-page input: th_guard_put() copies bytes so the last one sits right
 *   before a PROT_NONE page; reading past the end faults even without ASan.
 * - Event logs: a parser test turns every event into one text line with
 *   th_logf(), th_log_bytes() and th_log_anoms(), e.g.
 *       STATUS ok off=0 code='' text='ready' anoms=[]
 * - Feeding modes: th_run_modes() feeds one input (a) whole, (b) byte by
 *   byte, (c) split at every position k into two pieces, each piece on the
 *   guard page, calls finish, and asserts that every mode gives the same log.
 *   The test supplies a struct th_target: start a fresh parser, feed bytes,
 *   finish, and optionally report a gap of missing octets.
 *
 * Include this header before any other header (it sets _DEFAULT_SOURCE for
 * mmap's MAP_ANONYMOUS under -std=c11).
 */
#ifndef MC_TEST_HARNESS_H
#define MC_TEST_HARNESS_H

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/mc_parser.h"

/* ---- guard-page buffer ---- */

struct th_guard {
    uint8_t *map;
    size_t map_len;
    size_t cap;   /* usable octets before the guard page */
};

static inline void th_guard_init(struct th_guard *g, size_t cap)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t data = (cap + pg - 1) / pg * pg;
    if (data == 0)
        data = pg;
    g->map_len = data + pg;
    g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g->map != MAP_FAILED);
    assert_int_equal(mprotect(g->map + data, pg, PROT_NONE), 0);
    g->cap = data;
}

/* Copies n octets so that they end right before the PROT_NONE page. */
static inline const uint8_t *th_guard_put(struct th_guard *g, const void *src, size_t n)
{
    uint8_t *dst;
    assert_true(n <= g->cap);
    dst = g->map + g->cap - n;
    if (n > 0)
        memcpy(dst, src, n);
    return dst;
}

static inline void th_guard_free(struct th_guard *g)
{
    munmap(g->map, g->map_len);
    g->map = NULL;
}

/* ---- event logs ---- */

#define TH_LOG_MAX 32768
#define TH_TEXT_CAP 48   /* escaped text longer than this ends in "..." */

struct th_log {
    size_t len;
    char s[TH_LOG_MAX];
};

__attribute__((format(printf, 2, 3)))
static inline void th_logf(struct th_log *l, const char *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = vsnprintf(l->s + l->len, sizeof(l->s) - l->len, fmt, ap);
    va_end(ap);
    assert_true(r >= 0 && (size_t)r < sizeof(l->s) - l->len);
    l->len += (size_t)r;
}

/* 'escaped bytes', cut to TH_TEXT_CAP characters */
static inline void th_log_bytes(struct th_log *l, const uint8_t *p, size_t n)
{
    char esc[TH_TEXT_CAP + 1];
    mc_escape(esc, sizeof(esc), p, n);
    th_logf(l, "'%s'", esc);
}

/* " anoms=[NAME@off,...]" and "+N" when some were dropped */
static inline void th_log_anoms(struct th_log *l, const struct mc_anoms *a)
{
    th_logf(l, " anoms=[");
    for (unsigned i = 0; i < a->n; i++)
        th_logf(l, "%s%s@%llu", i ? "," : "", mc_anom_name((enum mc_anom)a->hit[i].code),
                (unsigned long long)a->hit[i].off);
    if (a->dropped)
        th_logf(l, "+%u", (unsigned)a->dropped);
    th_logf(l, "]");
}

/* A span inside an event must point into 'line' at the matching offset. */
static inline bool th_span_in(const struct mc_span *s, const struct mc_span *line)
{
    if (s->ptr == NULL)
        return s->len == 0;
    return s->ptr >= line->ptr && s->ptr + s->len <= line->ptr + line->len &&
           s->off - line->off == (uint64_t)(s->ptr - line->ptr);
}

/* ---- feeding modes ---- */

struct th_target {
    void (*start)(void *ctx);                                   /* fresh parser */
    void (*feed)(void *ctx, struct th_log *log, const uint8_t *p, size_t n); /* all n */
    void (*finish)(void *ctx, struct th_log *log);              /* end of stream */
    void (*gap)(void *ctx, struct th_log *log, uint64_t n);     /* may be NULL */
};

struct th_run {
    const struct th_target *t;
    void *ctx;
    struct th_guard g;
    const uint8_t *in;
    size_t len, gap_at;
    uint64_t gap_len;
    bool gap_done;
    struct th_log log;
};

static inline void th_feed_range(struct th_run *r, size_t from, size_t to)
{
    if (r->gap_len && !r->gap_done && r->gap_at >= from && r->gap_at < to) {
        if (r->gap_at > from)
            r->t->feed(r->ctx, &r->log, th_guard_put(&r->g, r->in + from, r->gap_at - from),
                       r->gap_at - from);
        r->t->gap(r->ctx, &r->log, r->gap_len);
        r->gap_done = true;
        from = r->gap_at;
    }
    r->t->feed(r->ctx, &r->log, th_guard_put(&r->g, r->in + from, to - from), to - from);
}

static inline void th_run_end(struct th_run *r)
{
    if (r->gap_len && !r->gap_done) {   /* gap after the last octet */
        r->t->gap(r->ctx, &r->log, r->gap_len);
        r->gap_done = true;
    }
    r->t->finish(r->ctx, &r->log);
}

static inline void th_run_begin(struct th_run *r)
{
    r->log.len = 0;
    r->log.s[0] = '\0';
    r->gap_done = false;
    r->t->start(r->ctx);
}

static inline void th_check_same(const char *want, const struct th_run *r, const char *mode,
                                 size_t k)
{
    if (strcmp(want, r->log.s) != 0) {
        print_error("feeding mode '%s' (k=%zu) differs from whole input.\n"
                    "--- whole:\n%s--- %s:\n%s", mode, k, want, mode, r->log.s);
        fail();
    }
}

/* Feeds in[0..len) in all three modes; n octets of the stream go missing at
 * gap_at when gap_len > 0. The common log is copied to *out. */
static inline void th_run_modes_gap(const struct th_target *t, void *ctx, const void *in,
                                    size_t len, size_t gap_at, uint64_t gap_len,
                                    struct th_log *out)
{
    static struct th_run r;   /* large: keep it off the stack */
    memset(&r, 0, sizeof(r));
    r.t = t;
    r.ctx = ctx;
    r.in = in;
    r.len = len;
    r.gap_at = gap_at;
    r.gap_len = gap_len;
    assert_true(gap_len == 0 || (t->gap != NULL && gap_at <= len));
    th_guard_init(&r.g, len);

    /* (a) whole, after an empty feed */
    th_run_begin(&r);
    r.t->feed(ctx, &r.log, th_guard_put(&r.g, "", 0), 0);
    th_feed_range(&r, 0, len);
    th_run_end(&r);
    *out = r.log;

    /* (b) byte by byte */
    th_run_begin(&r);
    for (size_t i = 0; i < len; i++)
        th_feed_range(&r, i, i + 1);
    th_run_end(&r);
    th_check_same(out->s, &r, "byte by byte", 0);

    /* (c) two pieces, split at every k */
    for (size_t k = 1; k < len; k++) {
        th_run_begin(&r);
        th_feed_range(&r, 0, k);
        th_feed_range(&r, k, len);
        th_run_end(&r);
        th_check_same(out->s, &r, "split", k);
    }
    th_guard_free(&r.g);
}

static inline void th_run_modes(const struct th_target *t, void *ctx, const void *in, size_t len,
                                struct th_log *out)
{
    th_run_modes_gap(t, ctx, in, len, 0, 0, out);
}

/* Compares a log with the expected one; prints both and returns false if
 * they differ, so a table test can report every failing case. */
static inline bool th_expect_log(const char *name, const char *want, const struct th_log *got)
{
    if (strcmp(want, got->s) == 0)
        return true;
    print_error("case '%s':\n--- want:\n%s--- got:\n%s", name, want, got->s);
    return false;
}

/* ---- long inputs ---- */

/* Writes prefix, n copies of fill, suffix; returns the length. */
static inline size_t th_build(uint8_t *out, size_t cap, const char *prefix, char fill, size_t n,
                              const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    assert_true(a + n + b <= cap);
    memcpy(out, prefix, a);
    memset(out + a, fill, n);
    memcpy(out + a + n, suffix, b);
    return a + n + b;
}

/* n copies of c as th_log_bytes() shows them (c printable, not '\\') */
static inline const char *th_shown(char c, size_t n)
{
    static char s[TH_TEXT_CAP + 1];
    size_t k = n < TH_TEXT_CAP ? n : TH_TEXT_CAP - 3;
    memset(s, c, k);
    strcpy(s + k, n < TH_TEXT_CAP ? "" : "...");
    return s;
}

/* Designated-initializer helper for byte-string inputs (NULs allowed). */
#define TH_IN(lit) .in = (lit), .len = sizeof(lit) - 1
#define TH_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
