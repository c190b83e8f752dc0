/*
 * Tests for validator/capture/tcp_reasm.c. Segments are built directly as
 * struct mc_tcp_seg values; a recorder keeps, per flow, both delivered
 * streams (with every octet at its stream position, gaps included) and a
 * compact event log ("o" open, "d0:5" data, "g1:3" gap, "f0" FIN, "r1" RST,
 * "n<note>" note, "c" close) that the tests compare as strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/tcp_reasm.h"

#define MAXFLOWS 8
/* tcp_reasm.c charges each held piece this much on top of its octets */
#define NODE_COST 32
#define STREAM_MAX (1u << 20)

struct rec_flow {
    struct mc_reasm_flow_info fi;
    uint8_t *buf[2];        /* octet at stream position (data only) */
    uint8_t *known[2];      /* 1 where buf holds delivered data, 2 where a gap was */
    uint64_t pos[2];        /* data + gap octets so far */
    uint64_t data_octets[2], gap_octets[2];
    char log[4096];
    int closed;
    int after_close;        /* callbacks received after close (must stay 0) */
};

struct rec {
    struct rec_flow f[MAXFLOWS];
    int nflows;
    uint16_t sport_list[4];     /* is_server_port answers true for these */
    int nsport;
};

static void logf_(struct rec_flow *f, const char *fmt, ...)
{
    size_t n = strlen(f->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->log + n, sizeof f->log - n, fmt, ap);
    va_end(ap);
}

static void *cb_open(void *ctx, const struct mc_reasm_flow_info *fi)
{
    struct rec *r = ctx;
    assert_true(r->nflows < MAXFLOWS);
    struct rec_flow *f = &r->f[r->nflows++];
    memset(f, 0, sizeof *f);
    f->fi = *fi;
    for (int d = 0; d < 2; d++) {
        f->buf[d] = calloc(STREAM_MAX, 1);
        f->known[d] = calloc(STREAM_MAX, 1);
    }
    logf_(f, "o");
    return f;
}

static void cb_data(void *ctx, void *flow, enum mc_reasm_dir d, const uint8_t *p, size_t n,
                    uint64_t frame)
{
    (void)ctx;
    (void)frame;
    struct rec_flow *f = flow;
    f->after_close += f->closed;
    assert_true(n > 0);
    assert_true(f->pos[d] + n <= STREAM_MAX);
    memcpy(f->buf[d] + f->pos[d], p, n);
    memset(f->known[d] + f->pos[d], 1, n);
    f->pos[d] += n;
    f->data_octets[d] += n;
    logf_(f, " d%d:%zu", (int)d, n);
}

static void cb_gap(void *ctx, void *flow, enum mc_reasm_dir d, uint64_t n, uint64_t frame)
{
    (void)ctx;
    (void)frame;
    struct rec_flow *f = flow;
    f->after_close += f->closed;
    assert_true(n > 0);
    if (f->pos[d] + n <= STREAM_MAX)
        memset(f->known[d] + f->pos[d], 2, n);
    f->pos[d] += n;
    f->gap_octets[d] += n;
    logf_(f, " g%d:%llu", (int)d, (unsigned long long)n);
}

static void cb_fin(void *ctx, void *flow, enum mc_reasm_dir d, bool rst, uint64_t frame)
{
    (void)ctx;
    (void)frame;
    struct rec_flow *f = flow;
    f->after_close += f->closed;
    logf_(f, " %c%d", rst ? 'r' : 'f', (int)d);
}

static void cb_note(void *ctx, void *flow, enum mc_reasm_note n, enum mc_reasm_dir d,
                    uint64_t frame, uint64_t detail)
{
    (void)ctx;
    (void)frame;
    struct rec_flow *f = flow;
    f->after_close += f->closed;
    static const char *names[] = {"differs", "overflow", "evicted", "idle", "afterfin", "reuse"};
    if (n == MC_REASM_OVERLAP_DIFFERS || n == MC_REASM_HELD_OVERFLOW)
        logf_(f, " n%s%d:%llu", names[n], (int)d, (unsigned long long)detail);
    else
        logf_(f, " n%s", names[n]);
}

static void cb_close(void *ctx, void *flow, uint64_t frame)
{
    (void)ctx;
    (void)frame;
    struct rec_flow *f = flow;
    f->after_close += f->closed;
    f->closed = 1;
    logf_(f, " c");
}

static bool cb_is_server_port(void *ctx, uint16_t port)
{
    struct rec *r = ctx;
    for (int i = 0; i < r->nsport; i++)
        if (r->sport_list[i] == port)
            return true;
    return false;
}

static struct mc_reasm_cb make_cb(struct rec *r)
{
    struct mc_reasm_cb cb = {r, cb_open, cb_data, cb_gap, cb_fin, cb_note, cb_close,
                             cb_is_server_port};
    return cb;
}

static void rec_free(struct rec *r)
{
    for (int i = 0; i < r->nflows; i++)
        for (int d = 0; d < 2; d++) {
            free(r->f[i].buf[d]);
            free(r->f[i].known[d]);
        }
}

/* ---- segment builders ---- */

#define C2S 1
#define S2C 0

static const uint8_t IP_C[4] = {10, 0, 0, 1}, IP_S[4] = {10, 0, 0, 2};

struct env {
    struct rec rec;
    struct mc_reasm *r;
    uint64_t frame, ts;
    uint16_t cport, sport;
};

static void env_init(struct env *e, const struct mc_reasm_limits *lim)
{
    memset(e, 0, sizeof *e);
    struct mc_reasm_cb cb = make_cb(&e->rec);
    e->r = mc_reasm_new(lim, &cb);
    assert_non_null(e->r);
    e->cport = 40000;
    e->sport = 110;
}

static void env_done(struct env *e)
{
    mc_reasm_free(e->r);
    rec_free(&e->rec);
}

static struct mc_tcp_seg mkseg(const struct env *e, int c2s, uint8_t flags, uint32_t seq,
                               uint32_t ack, const void *p, uint32_t len)
{
    struct mc_tcp_seg s;
    memset(&s, 0, sizeof s);
    s.af = 4;
    memcpy(s.src, c2s ? IP_C : IP_S, 4);
    memcpy(s.dst, c2s ? IP_S : IP_C, 4);
    s.sport = c2s ? e->cport : e->sport;
    s.dport = c2s ? e->sport : e->cport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.payload = p;
    s.len = len;
    return s;
}

static void feed(struct env *e, int c2s, uint8_t flags, uint32_t seq, uint32_t ack, const char *p)
{
    struct mc_tcp_seg s = mkseg(e, c2s, flags, seq, ack, p, p ? (uint32_t)strlen(p) : 0);
    mc_reasm_segment(e->r, &s, ++e->frame, e->ts);
}

#define A MC_TCP_ACK
#define SYN MC_TCP_SYN
#define FIN MC_TCP_FIN
#define RST MC_TCP_RST

enum { CISN = 1000, SISN = 5000 };

static void handshake(struct env *e, uint32_t cisn, uint32_t sisn)
{
    feed(e, C2S, SYN, cisn, 0, NULL);
    feed(e, S2C, SYN | A, sisn, cisn + 1, NULL);
    feed(e, C2S, A, cisn + 1, sisn + 1, NULL);
}

static void assert_stream(const struct rec_flow *f, int d, const char *want)
{
    size_t n = strlen(want);
    assert_int_equal(f->pos[d], n);
    assert_int_equal(f->gap_octets[d], 0);
    assert_memory_equal(f->buf[d], want, n);
}

/* ---- tests ---- */

static void test_handshake_interleaved(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, S2C, A, SISN + 1, CISN + 1, "+OK hi\r\n");
    feed(&e, C2S, A, CISN + 1, SISN + 9, "USER a\r\n");
    feed(&e, S2C, A, SISN + 9, CISN + 9, "+OK\r\n");
    feed(&e, C2S, A | FIN, CISN + 9, SISN + 14, "QUIT\r\n");
    feed(&e, S2C, A | FIN, SISN + 14, CISN + 16, "+OK bye\r\n");
    feed(&e, C2S, A, CISN + 16, SISN + 24, NULL);
    assert_int_equal(e.rec.nflows, 1);
    struct rec_flow *f = &e.rec.f[0];
    assert_true(f->fi.roles_from_syn);
    assert_false(f->fi.midstream);
    assert_int_equal(f->fi.client_port, 40000);
    assert_int_equal(f->fi.server_port, 110);
    assert_memory_equal(f->fi.client, IP_C, 4);
    assert_int_equal(f->fi.first_frame, 1);
    assert_string_equal(f->log, "o d1:8 d0:8 d1:5 d0:6 f0 d1:9 f1 c");
    assert_stream(f, 0, "USER a\r\nQUIT\r\n");
    assert_stream(f, 1, "+OK hi\r\n+OK\r\n+OK bye\r\n");
    mc_reasm_finish(e.r, e.frame);
    assert_int_equal(f->after_close, 0);
    const struct mc_reasm_stats *st = mc_reasm_stats(e.r);
    assert_int_equal(st->flows, 1);
    assert_int_equal(st->segments, 9);
    assert_int_equal(st->gaps, 0);
    env_done(&e);
}

/* Heap's algorithm over the indexes of 5 segments. */
static int next_perm(int *a, int n, int *c, int *i)
{
    while (*i < n) {
        if (c[*i] < *i) {
            int j = (*i % 2) ? c[*i] : 0;
            int t = a[j];
            a[j] = a[*i];
            a[*i] = t;
            c[*i]++;
            *i = 1;
            return 1;
        }
        c[*i] = 0;
        (*i)++;
    }
    return 0;
}

static void test_reorder_permutations(void **state)
{
    (void)state;
    const char *parts[5] = {"AB", "CDE", "F", "GHIJ", "KL"};
    uint32_t off[5] = {0, 2, 5, 6, 10};
    int a[5] = {0, 1, 2, 3, 4}, c[5] = {0}, i = 1, count = 0;
    do {
        struct env e;
        env_init(&e, NULL);
        handshake(&e, CISN, SISN);
        for (int k = 0; k < 5; k++)
            feed(&e, C2S, A, CISN + 1 + off[a[k]], SISN + 1, parts[a[k]]);
        /* a FIN sent last: all delivered before it */
        feed(&e, C2S, A | FIN, CISN + 13, SISN + 1, NULL);
        struct rec_flow *f = &e.rec.f[0];
        assert_stream(f, 0, "ABCDEFGHIJKL");
        assert_non_null(strstr(f->log, "f0"));
        assert_null(strstr(f->log, "g"));
        assert_null(strstr(f->log, "n"));
        assert_true(mc_reasm_stats(e.r)->held_peak <= 10 + 4 * NODE_COST);
        env_done(&e);
        count++;
    } while (next_perm(a, 5, c, &i));
    assert_int_equal(count, 120);
}

static void test_retransmission(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "HELLO");
    feed(&e, C2S, A, CISN + 1, SISN + 1, "HELLO");      /* identical: dropped silently */
    feed(&e, C2S, A, CISN + 1, SISN + 1, "HEXXO");      /* differs in 2 octets */
    feed(&e, C2S, A, CISN + 4, SISN + 1, "LOWOR");      /* partial overlap, new tail */
    feed(&e, C2S, A, CISN + 4, SISN + 1, "LXWORLD");    /* 1 differs, "LD" new */
    struct rec_flow *f = &e.rec.f[0];
    assert_stream(f, 0, "HELLOWORLD");
    assert_string_equal(f->log, "o d0:5 ndiffers0:2 d0:3 ndiffers0:1 d0:2");
    assert_int_equal(mc_reasm_stats(e.r)->overlaps_differing, 2);
    env_done(&e);
}

/* Stream content at offset o, for the long streams below. */
static void pattern(char *dst, size_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)('a' + (off + i) % 26);
    dst[n] = '\0';
}

/* The compare ring starts small and grows with the stream: octets
 * delivered before it grew are still compared after (twice grown), and
 * once it wrapped only the last 4 KiB are. */
static void test_retransmission_ring_grows(void **state)
{
    (void)state;
    static char buf[2100];
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    pattern(buf, 0, 200);
    feed(&e, C2S, A, CISN + 1, SISN + 1, buf);
    pattern(buf, 10, 10);
    buf[0] = buf[4] = buf[9] = 'Z';                     /* 3 differ: the first ring */
    feed(&e, C2S, A, CISN + 1 + 10, SISN + 1, buf);
    for (uint32_t off = 200; off < 3200; off += 1000) { /* grows to 2 KiB, then 4 KiB */
        pattern(buf, off, 1000);
        feed(&e, C2S, A, CISN + 1 + off, SISN + 1, buf);
    }
    pattern(buf, 10, 10);
    buf[1] = buf[2] = 'Z';                              /* 2 differ: kept through both */
    feed(&e, C2S, A, CISN + 1 + 10, SISN + 1, buf);
    pattern(buf, 3200, 2000);
    feed(&e, C2S, A, CISN + 1 + 3200, SISN + 1, buf);   /* 5200 in all: wrapped */
    pattern(buf, 10, 10);
    buf[3] = 'Z';                                       /* older than 4 KiB: not compared */
    feed(&e, C2S, A, CISN + 1 + 10, SISN + 1, buf);
    pattern(buf, 5000, 10);
    buf[5] = 'Z';                                       /* 1 differs, after the wrap */
    feed(&e, C2S, A, CISN + 1 + 5000, SISN + 1, buf);
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:200 ndiffers0:3 d0:1000 d0:1000 d0:1000 ndiffers0:2 "
                                "d0:2000 ndiffers0:1");
    assert_int_equal(mc_reasm_stats(e.r)->overlaps_differing, 3);
    env_done(&e);
}

static void test_held_overlaps(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    /* held out of order, overlapping each other; first copy wins */
    feed(&e, C2S, A, CISN + 1 + 4, SISN + 1, "EFGH");
    feed(&e, C2S, A, CISN + 1 + 6, SISN + 1, "GXIJ");   /* X differs from H */
    feed(&e, C2S, A, CISN + 1 + 2, SISN + 1, "CDEFGHIJKL"); /* spans both held */
    feed(&e, C2S, A, CISN + 1, SISN + 1, "ABCY");       /* in order; Y differs from held D */
    struct rec_flow *f = &e.rec.f[0];
    assert_stream(f, 0, "ABCDEFGHIJKL");
    /* GXIJ: X noted, IJ held; CDEFGHIJKL: CD and KL held, the rest equal;
     * ABCY: AB delivered, then the held CD wins over "CY" (noted) */
    assert_string_equal(f->log, "o ndiffers0:1 d0:2 d0:2 ndiffers0:1 d0:4 d0:2 d0:2");
    env_done(&e);
}

static void test_wraparound(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    uint32_t cisn = 0xFFFFFFF0u, sisn = 0xFFFFFFFEu;
    handshake(&e, cisn, sisn);
    feed(&e, C2S, A, cisn + 1, sisn + 1, "0123456789");     /* crosses 2^32 */
    feed(&e, C2S, A, cisn + 21, sisn + 1, "klmn");          /* held past the wrap */
    feed(&e, C2S, A, cisn + 11, sisn + 1, "abcdefghij");
    feed(&e, S2C, A, sisn + 1, cisn + 25, "xyz");           /* server seq wraps at once */
    feed(&e, C2S, A, cisn + 5, sisn + 1, "4567");           /* old: dropped */
    struct rec_flow *f = &e.rec.f[0];
    assert_stream(f, 0, "0123456789abcdefghijklmn");
    assert_stream(f, 1, "xyz");
    assert_null(strstr(f->log, "n"));
    env_done(&e);
}

static void test_midstream_roles(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    e.rec.sport_list[0] = 25;
    e.rec.nsport = 1;
    e.sport = 25;
    e.cport = 2000;
    /* first seen: the server's reply; port 25 is the mail port */
    feed(&e, S2C, A, 777, 333, "250 ok\r\n");
    feed(&e, C2S, A, 333, 785, "QUIT\r\n");
    struct rec_flow *f = &e.rec.f[0];
    assert_false(f->fi.roles_from_syn);
    assert_true(f->fi.midstream);
    assert_int_equal(f->fi.server_port, 25);
    assert_int_equal(f->fi.client_port, 2000);
    assert_stream(f, 0, "QUIT\r\n");
    assert_stream(f, 1, "250 ok\r\n");
    env_done(&e);

    /* neither port known: the lower one is the server's */
    env_init(&e, NULL);
    e.sport = 3000;
    e.cport = 4000;
    feed(&e, C2S, A, 1, 1, "x");
    assert_int_equal(e.rec.f[0].fi.server_port, 3000);
    env_done(&e);

    /* a pure ACK opens nothing */
    env_init(&e, NULL);
    feed(&e, C2S, A, 1, 1, NULL);
    assert_int_equal(e.rec.nflows, 0);
    env_done(&e);
}

static void test_synack_first(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    feed(&e, S2C, SYN | A, SISN, CISN + 1, NULL);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "EHLO x\r\n");
    feed(&e, S2C, A, SISN + 1, CISN + 9, "250 ok\r\n");
    struct rec_flow *f = &e.rec.f[0];
    assert_true(f->fi.roles_from_syn);
    assert_int_equal(f->fi.server_port, 110);
    assert_stream(f, 0, "EHLO x\r\n");
    assert_stream(f, 1, "250 ok\r\n");
    env_done(&e);
}

static void test_gap_before_fin(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "AAAA");
    /* "BBBB" lost */
    feed(&e, C2S, A | FIN, CISN + 9, SISN + 1, "CC");
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:4");      /* the FIN waits for the hole */
    feed(&e, S2C, A, SISN + 1, CISN + 12, NULL);  /* the server acknowledged the FIN */
    assert_string_equal(f->log, "o d0:4 g0:4 d0:2 f0");
    assert_int_equal(f->pos[0], 10);
    assert_memory_equal(f->buf[0] + 8, "CC", 2);
    assert_int_equal(f->known[0][5], 2);
    env_done(&e);

    /* the retransmission arriving before anything forces the gap fills it */
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "AAAA");
    feed(&e, C2S, A | FIN, CISN + 9, SISN + 1, "CC");
    feed(&e, C2S, A, CISN + 5, SISN + 1, "BBBB");
    feed(&e, S2C, A | FIN, SISN + 1, CISN + 12, NULL);
    f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:4 d0:4 d0:2 f0 f1 c");
    assert_stream(f, 0, "AAAABBBBCC");
    env_done(&e);
}

static void test_ack_reveals_gap(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    /* the client's command "a2 NOOP\r\n" (9 octets) is not in the capture;
     * the server's answer acknowledges it: the gap comes first, before the
     * answer's data, so the answer does not look unsolicited */
    feed(&e, S2C, A, SISN + 1, CISN + 10, "ok\r\n");
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o g0:9 d1:4");
    /* a held segment after a hole is released by the ACK that covers the hole */
    feed(&e, C2S, A, CISN + 14, SISN + 5, "next");    /* 4 octets lost before it */
    assert_string_equal(f->log, "o g0:9 d1:4");
    feed(&e, S2C, A, SISN + 5, CISN + 18, "ok2\r\n");
    assert_string_equal(f->log, "o g0:9 d1:4 g0:4 d0:4 d1:5");
    env_done(&e);
}

static void test_gap_at_finish(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "AA");
    feed(&e, C2S, A, CISN + 5, SISN + 1, "CC");     /* "BB" never comes */
    feed(&e, C2S, A, CISN + 9, SISN + 1, "EE");     /* "DD" neither */
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:2");
    mc_reasm_finish(e.r, 99);
    assert_string_equal(f->log, "o d0:2 g0:2 d0:2 g0:2 d0:2 c");
    assert_int_equal(mc_reasm_stats(e.r)->gaps, 2);
    assert_int_equal(mc_reasm_stats(e.r)->gap_octets, 4);
    assert_int_equal(f->after_close, 0);
    env_done(&e);
}

static void test_held_overflow(void **state)
{
    (void)state;
    /* room for two 4-octet pieces, not three */
    struct mc_reasm_limits lim = {.held_per_dir = 2 * (4 + NODE_COST), .held_total = 1000};
    struct env e;
    env_init(&e, &lim);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "0123");
    /* "4567" lost; held: 89ab cdef (the cap) */
    feed(&e, C2S, A, CISN + 9, SISN + 1, "89ab");
    feed(&e, C2S, A, CISN + 13, SISN + 1, "cdef");
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:4");
    feed(&e, C2S, A, CISN + 17, SISN + 1, "ghij");  /* does not fit: skip the hole */
    assert_string_equal(f->log, "o d0:4 noverflow0:4 g0:4 d0:4 d0:4 d0:4");
    feed(&e, C2S, A, CISN + 21, SISN + 1, "kl");
    feed(&e, C2S, A, CISN + 5, SISN + 1, "4567");   /* too late: dropped */
    assert_int_equal(f->pos[0], 22);
    assert_memory_equal(f->buf[0] + 8, "89abcdefghijkl", 14);
    assert_int_equal(mc_reasm_stats(e.r)->held_peak, 2 * (4 + NODE_COST));
    env_done(&e);

    /* a single segment larger than the cap: gap up to it, delivered at once */
    struct mc_reasm_limits lim1 = {.held_per_dir = 9 + NODE_COST};
    env_init(&e, &lim1);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 4, SISN + 1, "0123456789");
    assert_string_equal(e.rec.f[0].log, "o noverflow0:10 g0:3 d0:10");
    env_done(&e);

    /* the global cap across flows */
    struct mc_reasm_limits lim2 = {.held_per_dir = 1000, .held_total = 6 + NODE_COST};
    env_init(&e, &lim2);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 3, SISN + 1, "abcd");
    e.cport = 40001;
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 3, SISN + 1, "wxyz");
    assert_string_equal(e.rec.f[0].log, "o");
    assert_string_equal(e.rec.f[1].log, "o noverflow0:4 g0:2 d0:4");
    env_done(&e);
}

static void test_snaplen_missing(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    struct mc_tcp_seg s = mkseg(&e, C2S, A, CISN + 1, SISN + 1, "ABCD", 4);
    s.missing = 6;
    mc_reasm_segment(e.r, &s, ++e.frame, 0);
    feed(&e, C2S, A, CISN + 11, SISN + 1, "XY");
    /* a held segment cut by the snaplen: its missing tail is a gap too */
    struct mc_tcp_seg h = mkseg(&e, C2S, A, CISN + 16, SISN + 1, "QR", 2);
    h.missing = 3;
    mc_reasm_segment(e.r, &h, ++e.frame, 0);
    feed(&e, C2S, A, CISN + 13, SISN + 1, "PPP");
    feed(&e, C2S, A, CISN + 21, SISN + 1, "Z");
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:4 g0:6 d0:2 d0:3 d0:2 g0:3 d0:1");
    assert_memory_equal(f->buf[0] + 10, "XYPPPQR", 7);
    assert_int_equal(f->pos[0], 21);
    env_done(&e);
}

static void test_rst(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "AB");
    feed(&e, C2S, A, CISN + 5, SISN + 1, "EF");         /* held behind a hole */
    feed(&e, S2C, A | RST, SISN + 1, 0, NULL);
    feed(&e, C2S, A, CISN + 7, SISN + 1, "late");        /* after close: nothing */
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:2 r1 g0:2 d0:2 c");
    mc_reasm_finish(e.r, e.frame);
    assert_int_equal(f->after_close, 0);
    assert_int_equal(e.rec.nflows, 1);
    env_done(&e);
}

static void test_data_after_fin(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A | FIN, CISN + 1, SISN + 1, "QUIT");
    feed(&e, C2S, A, CISN + 1, SISN + 1, "QUIT");        /* retransmission: fine */
    feed(&e, C2S, A, CISN + 6, SISN + 1, "MORE");        /* beyond the FIN */
    feed(&e, C2S, A, CISN + 6, SISN + 1, NULL);          /* pure ACK after FIN: fine */
    struct rec_flow *f = &e.rec.f[0];
    assert_string_equal(f->log, "o d0:4 f0 nafterfin");
    assert_stream(f, 0, "QUIT");
    env_done(&e);
}

static void test_port_reuse(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A | FIN, CISN + 1, SISN + 1, "bye");
    feed(&e, C2S, SYN, CISN + 100, 0, NULL);   /* server never finished */
    feed(&e, C2S, SYN, CISN + 100, 0, NULL);   /* retransmitted SYN: same flow */
    feed(&e, S2C, SYN | A, 9000, CISN + 101, NULL);
    feed(&e, C2S, A, CISN + 101, 9001, "new");
    assert_int_equal(e.rec.nflows, 2);
    assert_string_equal(e.rec.f[0].log, "o d0:3 f0 nreuse c");
    assert_string_equal(e.rec.f[1].log, "o d0:3");
    assert_stream(&e.rec.f[1], 0, "new");
    env_done(&e);

    /* no FIN, but the sequence jumps far away */
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "x");
    feed(&e, C2S, SYN, CISN + 1 + (1u << 24), 0, NULL);
    assert_int_equal(e.rec.nflows, 2);
    assert_string_equal(e.rec.f[0].log, "o d0:1 nreuse c");
    env_done(&e);

    /* after a clean close the 4-tuple is reused without a note */
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A | FIN, CISN + 1, SISN + 1, NULL);
    feed(&e, S2C, A | FIN, SISN + 1, CISN + 2, NULL);
    feed(&e, C2S, A, CISN + 2, SISN + 2, NULL);
    feed(&e, C2S, SYN, CISN + 5000, 0, NULL);
    assert_int_equal(e.rec.nflows, 2);
    assert_string_equal(e.rec.f[0].log, "o f0 f1 c");
    assert_string_equal(e.rec.f[1].log, "o");
    env_done(&e);
}

static void test_eviction(void **state)
{
    (void)state;
    struct mc_reasm_limits lim = {.max_flows = 2};
    struct env e;
    env_init(&e, &lim);
    for (int i = 0; i < 3; i++) {
        e.cport = (uint16_t)(40000 + i);
        handshake(&e, CISN, SISN);
        feed(&e, C2S, A, CISN + 1, SISN + 1, "hi");
        if (i == 1) {   /* flow 0 active again: flow 1 becomes the oldest */
            e.cport = 40000;
            feed(&e, C2S, A, CISN + 3, SISN + 1, "yo");
        }
    }
    assert_string_equal(e.rec.f[0].log, "o d0:2 d0:2");
    assert_string_equal(e.rec.f[1].log, "o d0:2 nevicted c");
    assert_string_equal(e.rec.f[2].log, "o d0:2");
    assert_int_equal(mc_reasm_stats(e.r)->evicted, 1);
    mc_reasm_finish(e.r, e.frame);
    assert_string_equal(e.rec.f[0].log, "o d0:2 d0:2 c");
    env_done(&e);
}

/* Closed flows linger as tombstones, but an open flow is never evicted
 * while a tombstone could go instead. */
static void test_eviction_prefers_closed(void **state)
{
    (void)state;
    struct mc_reasm_limits lim = {.max_flows = 2};
    struct env e;
    env_init(&e, &lim);
    e.cport = 40000;
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "open");
    e.cport = 40001;
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A | FIN, CISN + 1, SISN + 1, NULL);
    feed(&e, S2C, A | FIN, SISN + 1, CISN + 2, NULL);
    feed(&e, C2S, A, CISN + 2, SISN + 2, NULL);     /* last ACK: absorbed */
    e.cport = 40002;
    handshake(&e, CISN, SISN);
    assert_int_equal(e.rec.nflows, 3);
    assert_string_equal(e.rec.f[0].log, "o d0:4");
    assert_string_equal(e.rec.f[1].log, "o f0 f1 c");
    assert_int_equal(mc_reasm_stats(e.r)->evicted, 0);
    env_done(&e);
}

/* A FIN with a hole before it stops waiting when the peer sends its FIN. */
static void test_gap_settled_by_peer_fin(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    handshake(&e, CISN, SISN);
    feed(&e, S2C, A, SISN + 1, CISN + 1, "+OK\r\n");
    feed(&e, S2C, A | FIN, SISN + 10, CISN + 1, NULL);   /* 4 octets lost */
    feed(&e, C2S, A | FIN, CISN + 1, SISN + 6, NULL);    /* acks only up to the hole */
    assert_string_equal(e.rec.f[0].log, "o d1:5 f0 g1:4 f1 c");
    env_done(&e);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    struct mc_reasm_limits lim = {.idle_timeout_ns = 1000};
    struct env e;
    env_init(&e, &lim);
    e.ts = 100;
    handshake(&e, CISN, SISN);
    feed(&e, C2S, A, CISN + 1, SISN + 1, "a");
    e.cport = 40001;
    e.ts = 900;
    handshake(&e, CISN, SISN);
    e.ts = 1500;    /* flow 0 idle for 1400 > 1000; flow 1 for 600 */
    feed(&e, C2S, A, CISN + 1, SISN + 1, "b");
    assert_string_equal(e.rec.f[0].log, "o d0:1 nidle c");
    assert_string_equal(e.rec.f[1].log, "o d0:1");
    assert_int_equal(mc_reasm_stats(e.r)->timeouts, 1);
    env_done(&e);
}

static void test_ipv6(void **state)
{
    (void)state;
    struct env e;
    env_init(&e, NULL);
    uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    struct mc_tcp_seg s = mkseg(&e, C2S, SYN, CISN, 0, NULL, 0);
    s.af = 6;
    memcpy(s.src, a6, 16);
    memcpy(s.dst, b6, 16);
    mc_reasm_segment(e.r, &s, 1, 0);
    struct mc_tcp_seg t = s;
    memcpy(t.src, b6, 16);
    memcpy(t.dst, a6, 16);
    t.sport = s.dport;
    t.dport = s.sport;
    t.flags = SYN | A;
    t.seq = SISN;
    mc_reasm_segment(e.r, &t, 2, 0);
    t.flags = A;
    t.seq = SISN + 1;
    t.payload = (const uint8_t *)"hello";
    t.len = 5;
    mc_reasm_segment(e.r, &t, 3, 0);
    /* an IPv4 flow with the same first 4 address octets and ports is another flow */
    struct mc_tcp_seg v = t;
    v.af = 4;
    mc_reasm_segment(e.r, &v, 4, 0);
    assert_int_equal(e.rec.nflows, 2);
    struct rec_flow *f = &e.rec.f[0];
    assert_int_equal(f->fi.af, 6);
    assert_memory_equal(f->fi.client, a6, 16);
    assert_memory_equal(f->fi.server, b6, 16);
    assert_stream(f, 1, "hello");
    env_done(&e);
}

/* ---- randomised property ---- */

static uint32_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

struct piece {
    uint32_t off, len;
};

static void run_random(uint32_t seed, bool drops)
{
    rng_state = seed * 2654435761u + 1;
    size_t n = 2000 + rnd() % 30000;
    uint8_t *stream = malloc(n);
    for (size_t i = 0; i < n; i++)
        stream[i] = (uint8_t)rnd();
    /* random split; some pieces overlap their neighbours (same bytes) */
    struct piece *pc = malloc(sizeof *pc * n * 2);
    size_t np = 0;
    for (uint32_t o = 0; o < n;) {
        uint32_t len = 1 + rnd() % 1500;
        if (o + len > n)
            len = (uint32_t)n - o;
        uint32_t back = (rnd() % 4 == 0 && o > 0) ? rnd() % (o < 50 ? o : 50) : 0;
        pc[np++] = (struct piece){o - back, len + back};
        if (rnd() % 8 == 0) {   /* duplicated */
            pc[np] = pc[np - 1];
            np++;
        }
        o += len;
    }
    /* shuffle within a window of 8 */
    for (size_t i = 0; i + 1 < np; i++) {
        size_t j = i + rnd() % (np - i < 8 ? np - i : 8);
        struct piece t = pc[i];
        pc[i] = pc[j];
        pc[j] = t;
    }
    struct env e;
    env_init(&e, NULL);
    uint32_t isn = rnd();   /* anywhere, so wrap-around happens too */
    handshake(&e, isn, SISN);
    for (size_t i = 0; i < np; i++) {
        if (drops && rnd() % 10 == 0)
            continue;
        struct mc_tcp_seg s = mkseg(&e, C2S, A, isn + 1 + pc[i].off, SISN + 1,
                                    stream + pc[i].off, pc[i].len);
        mc_reasm_segment(e.r, &s, ++e.frame, 0);
    }
    feed(&e, C2S, A | FIN, isn + 1 + (uint32_t)n, SISN + 1, NULL);
    mc_reasm_finish(e.r, e.frame);
    struct rec_flow *f = &e.rec.f[0];
    assert_int_equal(f->after_close, 0);
    assert_int_equal(f->data_octets[0] + f->gap_octets[0], n);
    for (size_t i = 0; i < n; i++)
        if (f->known[0][i] == 1)
            assert_int_equal(f->buf[0][i], stream[i]);
        else
            assert_int_equal(f->known[0][i], 2);
    if (!drops) {
        assert_int_equal(f->gap_octets[0], 0);
        assert_memory_equal(f->buf[0], stream, n);
        assert_null(strstr(f->log, "n"));
    }
    assert_non_null(strstr(f->log, "f0"));
    free(stream);
    free(pc);
    env_done(&e);
}

static void test_random_property(void **state)
{
    (void)state;
    for (uint32_t seed = 1; seed <= 60; seed++) {
        run_random(seed, false);
        run_random(seed, true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_interleaved),
        cmocka_unit_test(test_reorder_permutations),
        cmocka_unit_test(test_retransmission),
        cmocka_unit_test(test_retransmission_ring_grows),
        cmocka_unit_test(test_held_overlaps),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_midstream_roles),
        cmocka_unit_test(test_synack_first),
        cmocka_unit_test(test_gap_before_fin),
        cmocka_unit_test(test_ack_reveals_gap),
        cmocka_unit_test(test_gap_at_finish),
        cmocka_unit_test(test_held_overflow),
        cmocka_unit_test(test_snaplen_missing),
        cmocka_unit_test(test_rst),
        cmocka_unit_test(test_data_after_fin),
        cmocka_unit_test(test_port_reuse),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_eviction_prefers_closed),
        cmocka_unit_test(test_gap_settled_by_peer_fin),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_random_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
