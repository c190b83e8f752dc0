/*
 * Helpers for the TLS module's tests (header-only): reading the recorded
 * fixtures of tests/data/tls/ (format in tests/tls/gen_tls_streams.py),
 * feeding them to a connection whole or re-cut, and a log of everything the
 * callbacks reported, so runs can be compared and inspected.
 */
#ifndef MC_TLS_TEST_UTIL_H
#define MC_TLS_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

struct tt_buf {
    uint8_t *p;
    size_t n, cap;
};

static inline void tt_put(struct tt_buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}

static inline void tt_printf(struct tt_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static inline void tt_printf(struct tt_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0)
        tt_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static inline void tt_free(struct tt_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* A whole file, NUL-terminated; NULL when it cannot be read. */
static inline uint8_t *tt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct tt_buf b = {0};
    uint8_t blk[65536];
    size_t got;
    if (!f)
        return NULL;
    while ((got = fread(blk, 1, sizeof blk, f)) > 0)
        tt_put(&b, blk, got);
    fclose(f);
    tt_put(&b, "", 0);
    *len = b.n;
    return b.p;
}

/* What the callbacks reported. */
struct tt_log {
    struct tt_buf app[2];          /* decrypted application data per direction */
    struct tt_buf text;            /* one line per callback, without frames */
    unsigned ev[MC_TLS_EV_COUNT];  /* events per code */
    struct mc_tls_hello hello[2];  /* the last hello per direction */
    unsigned hellos[2];
    unsigned alerts, fatal_alerts, close_notify;
    uint8_t last_alert_desc;
    uint64_t last_frame[2];        /* frame of the last app data callback */
    uint64_t app_frames[2][64];    /* frames of the first 64 app data callbacks */
    unsigned n_app[2];
    char first_detail[MC_TLS_EV_COUNT][320];
};

static inline void tt_on_hello(void *ctx, const struct mc_tls_hello *h)
{
    struct tt_log *l = ctx;
    l->hello[h->dir] = *h;
    l->hellos[h->dir]++;
    tt_printf(&l->text, "hello dir=%d off=%llu hrr=%d ver=%04x suite=%04x nsuites=%u sni=%s "
              "alpn=%s\n", h->dir, (unsigned long long)h->offset, h->hrr, h->version,
              h->suites[0], h->n_suites, h->has_sni ? h->sni : "-",
              h->has_alpn ? h->alpn : "-");
}

static inline void tt_on_alert(void *ctx, const struct mc_tls_alert *a)
{
    struct tt_log *l = ctx;
    l->alerts++;
    l->fatal_alerts += a->level == 2;
    l->close_notify += a->readable && a->desc == 0;
    l->last_alert_desc = a->desc;
    tt_printf(&l->text, "alert dir=%d off=%llu level=%u desc=%u enc=%d readable=%d\n", a->dir,
              (unsigned long long)a->offset, a->level, a->desc, a->encrypted, a->readable);
}

static inline void tt_on_event(void *ctx, const struct mc_tls_event *e)
{
    struct tt_log *l = ctx;
    if (l->ev[e->code]++ == 0)
        snprintf(l->first_detail[e->code], sizeof l->first_detail[e->code], "%s", e->detail);
    tt_printf(&l->text, "event %s dir=%d off=%llu octets=%llu: %s\n", mc_tls_ev_name(e->code),
              e->dir, (unsigned long long)e->offset, (unsigned long long)e->octets, e->detail);
}

static inline void tt_on_app(void *ctx, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                             uint64_t frame, uint64_t offset)
{
    struct tt_log *l = ctx;
    tt_put(&l->app[dir], p, n);
    l->last_frame[dir] = frame;
    if (l->n_app[dir] < 64)
        l->app_frames[dir][l->n_app[dir]] = frame;
    l->n_app[dir]++;
    tt_printf(&l->text, "app dir=%d off=%llu len=%zu\n", dir, (unsigned long long)offset, n);
}

static inline struct mc_tls_cb tt_callbacks(struct tt_log *l)
{
    struct mc_tls_cb cb = {l, tt_on_hello, tt_on_alert, tt_on_event, tt_on_app};
    return cb;
}

static inline void tt_log_free(struct tt_log *l)
{
    tt_free(&l->app[0]);
    tt_free(&l->app[1]);
    tt_free(&l->text);
}

/* Calls fn(ctx, dir, chunk, len, frame) for every chunk of a recording;
 * frames count the chunks from 1. Returns 0, or -1 if it is malformed. */
static inline int tt_each_chunk(const uint8_t *rec, size_t len,
                                void (*fn)(void *ctx, enum mc_tls_dir dir, const uint8_t *p,
                                           size_t n, uint64_t frame),
                                void *ctx)
{
    size_t i = 0;
    uint64_t frame = 0;
    while (i < len) {
        if (len - i < 5 || (rec[i] != 'C' && rec[i] != 'S'))
            return -1;
        size_t n = (size_t)rec[i + 1] << 24 | (size_t)rec[i + 2] << 16 |
                   (size_t)rec[i + 3] << 8 | rec[i + 4];
        if (n > len - i - 5)
            return -1;
        fn(ctx, rec[i] == 'C' ? MC_TLS_C2S : MC_TLS_S2C, rec + i + 5, n, ++frame);
        i += 5 + n;
    }
    return 0;
}

/* Feeding state: each chunk re-cut into pieces of `piece` octets (0: whole),
 * or split once at `split_at` of the concatenated stream of `split_dir`. */
struct tt_feed {
    struct mc_tls_conn *c;
    size_t piece;
    int split_dir;        /* -1: none */
    uint64_t split_at;
    uint64_t pos[2];
    uint64_t last_frame;
};

static inline void tt_feed_chunk(void *ctx, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                                 uint64_t frame)
{
    struct tt_feed *f = ctx;
    f->last_frame = frame;
    if (f->split_dir == (int)dir && f->split_at > f->pos[dir] && f->split_at < f->pos[dir] + n) {
        size_t k = (size_t)(f->split_at - f->pos[dir]);
        mc_tls_conn_data(f->c, dir, p, k, frame);
        mc_tls_conn_data(f->c, dir, p + k, n - k, frame);
    } else if (f->piece == 0) {
        mc_tls_conn_data(f->c, dir, p, n, frame);
    } else {
        for (size_t i = 0; i < n; i += f->piece)
            mc_tls_conn_data(f->c, dir, p + i, n - i < f->piece ? n - i : f->piece, frame);
    }
    f->pos[dir] += n;
}

/* Runs a whole recording through a new connection; log must be zeroed. */
static inline int tt_run(const uint8_t *rec, size_t len, const struct mc_tls_keylog *kl,
                         size_t piece, int split_dir, uint64_t split_at, struct tt_log *log)
{
    struct mc_tls_cb cb = tt_callbacks(log);
    struct tt_feed f = {mc_tls_conn_new(&cb, kl), piece, split_dir, split_at, {0, 0}, 0};
    int rc;
    if (!f.c)
        return -1;
    rc = tt_each_chunk(rec, len, tt_feed_chunk, &f);
    mc_tls_conn_end(f.c, MC_TLS_C2S, f.last_frame);
    mc_tls_conn_end(f.c, MC_TLS_S2C, f.last_frame);
    tt_printf(&log->text, "info ver=%04x suite=%04x records=%llu/%llu enc=%llu/%llu sni=%s "
              "alpn=%s\n", mc_tls_conn_info(f.c)->version, mc_tls_conn_info(f.c)->suite,
              (unsigned long long)mc_tls_conn_info(f.c)->records[0],
              (unsigned long long)mc_tls_conn_info(f.c)->records[1],
              (unsigned long long)mc_tls_conn_info(f.c)->encrypted_records[0],
              (unsigned long long)mc_tls_conn_info(f.c)->encrypted_records[1],
              mc_tls_conn_info(f.c)->sni, mc_tls_conn_info(f.c)->alpn);
    mc_tls_conn_free(f.c);
    return rc;
}

#endif
