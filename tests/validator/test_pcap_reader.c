/*
 * pcap/pcapng reader (validator/capture/pcap_reader.c).
 *
 * Inputs are built here by small writers (struct w) in either byte order,
 * never stored as opaque binaries: each test says what its file holds.
 * Every valid input is read three ways (memory, a regular file, a pipe fed
 * in small writes by a thread) and must give the same packets.
 */
#include "test_harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "capture/pcap_reader.h"

/* ---- a byte writer in a chosen byte order ------------------------------ */

struct w {
    uint8_t *d;
    size_t n, cap;
    bool be;
};

static void w_bytes(struct w *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->d = realloc(w->d, w->cap);
        assert_non_null(w->d);
    }
    if (n)
        memcpy(w->d + w->n, p, n);
    w->n += n;
}

static void w_u8(struct w *w, uint8_t v)
{
    w_bytes(w, &v, 1);
}

static void w_u16(struct w *w, uint16_t v)
{
    uint8_t b[2];
    if (w->be) {
        b[0] = (uint8_t)(v >> 8);
        b[1] = (uint8_t)v;
    } else {
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
    }
    w_bytes(w, b, 2);
}

static void w_u32(struct w *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[w->be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, 4);
}

static void w_u64(struct w *w, uint64_t v)
{
    /* pcapng writes a 64-bit option value as one integer in section order */
    if (w->be) {
        w_u32(w, (uint32_t)(v >> 32));
        w_u32(w, (uint32_t)v);
    } else {
        w_u32(w, (uint32_t)v);
        w_u32(w, (uint32_t)(v >> 32));
    }
}

static void w_pad4(struct w *w)
{
    while (w->n % 4)
        w_u8(w, 0);
}

static void w_free(struct w *w)
{
    free(w->d);
    memset(w, 0, sizeof(*w));
}

/* deterministic packet contents: frame k, octet i */
static uint8_t pat(unsigned k, size_t i)
{
    return (uint8_t)(k * 31u + i * 7u + 1u);
}

/* ---- classic pcap ------------------------------------------------------ */

static void pcap_header(struct w *w, bool nsec, uint32_t linktype)
{
    w_u32(w, nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
    w_u16(w, 2);
    w_u16(w, 4);
    w_u32(w, 0);
    w_u32(w, 0);
    w_u32(w, 65535);
    w_u32(w, linktype);
}

static void pcap_record(struct w *w, uint32_t sec, uint32_t frac, unsigned k, uint32_t caplen,
                        uint32_t origlen)
{
    w_u32(w, sec);
    w_u32(w, frac);
    w_u32(w, caplen);
    w_u32(w, origlen);
    for (uint32_t i = 0; i < caplen; i++)
        w_u8(w, pat(k, i));
}

/* ---- pcapng ------------------------------------------------------------ */

/* Block: type, total length, body (padded), total length. The body is
 * written by the caller between blk_begin and blk_end. */
static size_t blk_begin(struct w *w, uint32_t type)
{
    size_t at = w->n;
    w_u32(w, type);
    w_u32(w, 0);  /* patched by blk_end */
    return at;
}

static void blk_end(struct w *w, size_t at)
{
    w_pad4(w);
    uint32_t len = (uint32_t)(w->n - at + 4);
    struct w tmp = {.be = w->be};
    w_u32(&tmp, len);
    memcpy(w->d + at + 4, tmp.d, 4);
    w_free(&tmp);
    w_u32(w, len);
}

static void shb(struct w *w, bool be)
{
    w->be = be;
    size_t at = blk_begin(w, 0x0A0D0D0Au);
    w_u32(w, 0x1A2B3C4Du);
    w_u16(w, 1);
    w_u16(w, 0);
    w_u64(w, UINT64_MAX);  /* section length unknown */
    blk_end(w, at);
}

/* tsresol < 0: no option; tsoffset written when non-zero */
static void idb(struct w *w, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
    size_t at = blk_begin(w, 1);
    w_u16(w, linktype);
    w_u16(w, 0);
    w_u32(w, snaplen);
    /* an option we do not know comes first: it must be skipped */
    w_u16(w, 2);  /* if_name */
    w_u16(w, 3);
    w_bytes(w, "et0", 3);
    w_pad4(w);
    if (tsresol >= 0) {
        w_u16(w, 9);
        w_u16(w, 1);
        w_u8(w, (uint8_t)tsresol);
        w_pad4(w);
    }
    if (tsoffset) {
        w_u16(w, 14);
        w_u16(w, 8);
        w_u64(w, (uint64_t)tsoffset);
    }
    w_u16(w, 0);
    w_u16(w, 0);
    blk_end(w, at);
}

static void epb(struct w *w, uint32_t iface, uint64_t ts, unsigned k, uint32_t caplen,
                uint32_t origlen)
{
    size_t at = blk_begin(w, 6);
    w_u32(w, iface);
    w_u32(w, (uint32_t)(ts >> 32));
    w_u32(w, (uint32_t)ts);
    w_u32(w, caplen);
    w_u32(w, origlen);
    for (uint32_t i = 0; i < caplen; i++)
        w_u8(w, pat(k, i));
    w_pad4(w);
    /* an epb_flags option, to be ignored */
    w_u16(w, 2);
    w_u16(w, 4);
    w_u32(w, 1);
    w_u16(w, 0);
    w_u16(w, 0);
    blk_end(w, at);
}

static void pb(struct w *w, uint16_t iface, uint64_t ts, unsigned k, uint32_t caplen)
{
    size_t at = blk_begin(w, 2);
    w_u16(w, iface);
    w_u16(w, 0);
    w_u32(w, (uint32_t)(ts >> 32));
    w_u32(w, (uint32_t)ts);
    w_u32(w, caplen);
    w_u32(w, caplen);
    for (uint32_t i = 0; i < caplen; i++)
        w_u8(w, pat(k, i));
    blk_end(w, at);
}

static void spb(struct w *w, unsigned k, uint32_t present, uint32_t origlen)
{
    size_t at = blk_begin(w, 3);
    w_u32(w, origlen);
    for (uint32_t i = 0; i < present; i++)
        w_u8(w, pat(k, i));
    blk_end(w, at);
}

static void unknown_block(struct w *w, uint32_t type, size_t body)
{
    size_t at = blk_begin(w, type);
    for (size_t i = 0; i < body; i++)
        w_u8(w, 0xEE);
    blk_end(w, at);
}

/* ---- reading ----------------------------------------------------------- */

struct want {
    uint64_t ts_ns;
    uint32_t linktype, interface, caplen, origlen;
    unsigned k;  /* pattern of the data */
};

enum how { VIA_MEM, VIA_FILE, VIA_PIPE, VIA_COUNT };

struct feeder {
    int fd;
    const uint8_t *p;
    size_t n, step;
};

static void *feed_pipe(void *arg)
{
    struct feeder *f = arg;
    size_t i = 0;
    while (i < f->n) {
        size_t k = f->n - i < f->step ? f->n - i : f->step;
        ssize_t got = write(f->fd, f->p + i, k);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        i += (size_t)got;
    }
    close(f->fd);
    return NULL;
}

struct source {
    struct mc_pcap_reader *r;
    int fd;
    pthread_t th;
    bool thread;
    struct feeder f;
};

static void src_open(struct source *s, enum how how, const uint8_t *p, size_t n)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    if (how == VIA_MEM) {
        s->r = mc_pcap_open_mem(p, n, "mem");
    } else if (how == VIA_FILE) {
        FILE *f = tmpfile();
        assert_non_null(f);
        if (n)
            assert_int_equal(fwrite(p, 1, n, f), n);
        fflush(f);
        s->fd = dup(fileno(f));
        fclose(f);
        assert_int_equal(lseek(s->fd, 0, SEEK_SET), 0);
        s->r = mc_pcap_open_fd(s->fd, "file");
    } else {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        s->fd = fds[0];
        /* small, odd-sized writes: records arrive split at every place */
        s->f = (struct feeder){.fd = fds[1], .p = p, .n = n, .step = 7 + n % 5};
        if (n > 100000)
            s->f.step = 4093;
        assert_int_equal(pthread_create(&s->th, NULL, feed_pipe, &s->f), 0);
        s->thread = true;
        s->r = mc_pcap_open_fd(s->fd, "pipe");
    }
    assert_non_null(s->r);
}

static void src_close(struct source *s)
{
    if (s->thread) {
        /* the reader may stop before the writer is done (an error): drain */
        uint8_t sink[4096];
        while (read(s->fd, sink, sizeof(sink)) > 0)
            ;
        pthread_join(s->th, NULL);
    }
    mc_pcap_close(s->r);
    if (s->fd >= 0)
        close(s->fd);
}

/* Reads the input every way and checks the packets against want[]; then the
 * end (err_off == UINT64_MAX) or an error at err_off naming err_frame. */
static void check_input(const uint8_t *p, size_t n, const char *fmt, const struct want *want,
                        size_t nwant, uint64_t err_off, uint64_t err_frame)
{
    for (int how = 0; how < VIA_COUNT; how++) {
        struct source s;
        struct mc_packet pkt;
        src_open(&s, (enum how)how, p, n);
        for (size_t i = 0; i < nwant; i++) {
            enum mc_pcap_status st = mc_pcap_next(s.r, &pkt);
            if (st != MC_PCAP_PACKET)
                fail_msg("via %d: packet %zu: status %d (%s)", how, i + 1, st,
                         mc_pcap_error(s.r));
            assert_int_equal(pkt.frame, i + 1);
            assert_int_equal(pkt.ts_ns, want[i].ts_ns);
            assert_int_equal(pkt.linktype, want[i].linktype);
            assert_int_equal(pkt.interface, want[i].interface);
            assert_int_equal(pkt.caplen, want[i].caplen);
            assert_int_equal(pkt.origlen, want[i].origlen);
            for (uint32_t j = 0; j < pkt.caplen; j++)
                if (pkt.data[j] != pat(want[i].k, j))
                    fail_msg("via %d: packet %zu octet %u differs", how, i + 1, j);
        }
        enum mc_pcap_status st = mc_pcap_next(s.r, &pkt);
        if (err_off == UINT64_MAX) {
            if (st != MC_PCAP_END)
                fail_msg("via %d: status %d instead of the end: %s", how, st, mc_pcap_error(s.r));
            assert_int_equal(mc_pcap_offset(s.r), n);
            assert_int_equal(mc_pcap_next(s.r, &pkt), MC_PCAP_END);
        } else {
            if (st != MC_PCAP_ERROR)
                fail_msg("via %d: status %d instead of an error", how, st);
            assert_int_equal(mc_pcap_error_offset(s.r), err_off);
            if (err_frame) {
                char frame[32];
                snprintf(frame, sizeof(frame), "frame %llu", (unsigned long long)err_frame);
                if (!strstr(mc_pcap_error(s.r), frame))
                    fail_msg("error does not name %s: %s", frame, mc_pcap_error(s.r));
            }
            /* errors stick */
            assert_int_equal(mc_pcap_next(s.r, &pkt), MC_PCAP_ERROR);
        }
        if (fmt)
            assert_string_equal(mc_pcap_format(s.r), fmt);
        src_close(&s);
    }
}

/* ---- classic pcap tests ------------------------------------------------ */

static void test_pcap_all_magics(void **state)
{
    (void)state;
    for (int be = 0; be < 2; be++)
        for (int nsec = 0; nsec < 2; nsec++) {
            struct w w = {.be = be};
            pcap_header(&w, nsec, MC_LINKTYPE_ETHERNET);
            pcap_record(&w, 1700000000u, nsec ? 123456789u : 123456u, 1, 60, 60);
            pcap_record(&w, 1700000001u, nsec ? 999999999u : 999999u, 2, 0, 0);
            /* snaplen cut: 100 of 1514 */
            pcap_record(&w, 4000000000u, 1, 3, 100, 1514);
            assert_true(mc_pcap_magic(w.d, w.n));
            uint64_t f = nsec ? 1 : 1000;
            struct want want[] = {
                {1700000000ull * 1000000000u + (nsec ? 123456789u : 123456000u), 1, 0, 60, 60, 1},
                {1700000001ull * 1000000000u + (nsec ? 999999999u : 999999000u), 1, 0, 0, 0, 2},
                {4000000000ull * 1000000000u + f, 1, 0, 100, 1514, 3},
            };
            check_input(w.d, w.n, "pcap", want, 3, UINT64_MAX, 0);
            w_free(&w);
        }
}

static void test_pcap_linktype_fcs_bits(void **state)
{
    (void)state;
    /* the FCS-length bits above the link type are not part of it */
    struct w w = {0};
    pcap_header(&w, false, 0x10000000u | MC_LINKTYPE_LINUX_SLL);
    pcap_record(&w, 1, 2, 1, 20, 20);
    struct want want[] = {{1000002000ull, MC_LINKTYPE_LINUX_SLL, 0, 20, 20, 1}};
    check_input(w.d, w.n, "pcap", want, 1, UINT64_MAX, 0);
    w_free(&w);
}

static void test_pcap_header_only_and_empty(void **state)
{
    (void)state;
    struct w w = {0};
    pcap_header(&w, false, 1);
    check_input(w.d, w.n, "pcap", NULL, 0, UINT64_MAX, 0);
    /* header cut short */
    check_input(w.d, 10, NULL, NULL, 0, 0, 0);
    /* empty input and garbage are errors at offset 0 */
    check_input(w.d, 0, NULL, NULL, 0, 0, 0);
    static const uint8_t junk[] = "C: hello\r\nS: +OK\r\n";
    check_input(junk, sizeof(junk) - 1, NULL, NULL, 0, 0, 0);
    w_free(&w);
}

static void test_pcap_cut_mid_record(void **state)
{
    (void)state;
    struct w w = {.be = true};
    pcap_header(&w, false, 1);
    size_t rec[4];
    struct want want[3];
    for (unsigned k = 0; k < 3; k++) {
        rec[k] = w.n;
        pcap_record(&w, 10 + k, 0, k, 50 + k, 50 + k);
        want[k] = (struct want){(10u + k) * 1000000000ull, 1, 0, 50 + k, 50 + k, k};
    }
    rec[3] = w.n;
    /* cut at every length inside the file: whole records first, then the
     * error at the start of the cut one; a cut at a record boundary is a
     * clean end */
    for (size_t n = 24; n <= w.n; n++) {
        size_t whole = 0;
        while (whole < 3 && rec[whole + 1] <= n)
            whole++;
        bool clean = n == rec[whole];
        check_input(w.d, n, "pcap", want, whole, clean ? UINT64_MAX : rec[whole],
                    clean ? 0 : whole + 1);
    }
    /* the message says what was announced and what came */
    struct mc_pcap_reader *r = mc_pcap_open_mem(w.d, rec[3] - 10, "cut");
    struct mc_packet pkt;
    while (mc_pcap_next(r, &pkt) == MC_PCAP_PACKET)
        ;
    assert_string_equal(mc_pcap_error(r),
                        "record of frame 3 cut short: 52 octets announced, 42 present");
    mc_pcap_close(r);
    w_free(&w);
}

static void test_pcap_hostile_caplen(void **state)
{
    (void)state;
    struct w w = {0};
    pcap_header(&w, false, 1);
    pcap_record(&w, 1, 0, 1, 10, 10);
    size_t bad = w.n;
    w_u32(&w, 2);
    w_u32(&w, 0);
    w_u32(&w, 0xFFFFFFF0u);  /* must not allocate 4 GiB */
    w_u32(&w, 0xFFFFFFF0u);
    struct want want[] = {{1000000000ull, 1, 0, 10, 10, 1}};
    check_input(w.d, w.n, "pcap", want, 1, bad, 2);
    w_free(&w);
}

static void test_pcap_big_records(void **state)
{
    (void)state;
    /* records larger than the 1 MiB buffer, and many small ones after, so
     * that the buffer grows and slides; also the largest accepted record */
    struct w w = {0};
    pcap_header(&w, true, 1);
    struct want want[40];
    unsigned nw = 0;
    uint32_t sizes[] = {3u << 20, 100, MC_PCAP_RECORD_MAX - 16, 1500};
    for (unsigned k = 0; k < 4; k++) {
        pcap_record(&w, 0, k, k, sizes[k], sizes[k]);
        want[nw++] = (struct want){k, 1, 0, sizes[k], sizes[k], k};
    }
    for (unsigned k = 4; k < 40; k++) {
        pcap_record(&w, 0, k, k, 200000 + k, 200000 + k);
        want[nw++] = (struct want){k, 1, 0, 200000 + k, 200000 + k, k};
    }
    check_input(w.d, w.n, "pcap", want, nw, UINT64_MAX, 0);
    w_free(&w);

    /* one octet more than the limit: an error, not an allocation */
    struct w x = {0};
    pcap_header(&x, true, 1);
    w_u32(&x, 0);
    w_u32(&x, 0);
    w_u32(&x, MC_PCAP_RECORD_MAX - 15);
    w_u32(&x, MC_PCAP_RECORD_MAX - 15);
    check_input(x.d, x.n, "pcap", NULL, 0, 24, 1);
    w_free(&x);
}

static void test_pcap_origlen_below_caplen(void **state)
{
    (void)state;
    struct w w = {0};
    pcap_header(&w, false, 1);
    pcap_record(&w, 0, 0, 1, 40, 20);
    struct want want[] = {{0, 1, 0, 40, 40, 1}};
    check_input(w.d, w.n, "pcap", want, 1, UINT64_MAX, 0);
    w_free(&w);
}

/* ---- pcapng tests ------------------------------------------------------ */

static void test_pcapng_interfaces_and_sections(void **state)
{
    (void)state;
    for (int be = 0; be < 2; be++) {
        struct w w = {0};
        struct want want[16];
        unsigned n = 0;
        shb(&w, be);
        unknown_block(&w, 0x00000BADu, 13);      /* unknown type */
        idb(&w, MC_LINKTYPE_ETHERNET, 0, -1, 0); /* 0: microseconds by default */
        idb(&w, MC_LINKTYPE_RAW, 96, 9, 0);      /* 1: nanoseconds, snaplen 96 */
        idb(&w, MC_LINKTYPE_LINUX_SLL, 0, 0x80 | 20, 0); /* 2: 2^-20 s */
        idb(&w, MC_LINKTYPE_NULL, 0, 3, -5);     /* 3: milliseconds, offset -5 s */
        epb(&w, 0, 1700000000123456ull, 1, 60, 60);
        want[n++] = (struct want){1700000000123456000ull, 1, 0, 60, 60, 1};
        epb(&w, 1, 1700000000123456789ull, 2, 61, 1500);
        want[n++] = (struct want){1700000000123456789ull, 101, 1, 61, 1500, 2};
        unknown_block(&w, 5, 20);                 /* interface statistics */
        unknown_block(&w, 4, 0);                  /* name resolution, empty */
        /* 3.5 s in 2^-20 units */
        epb(&w, 2, (3ull << 20) | (1u << 19), 3, 1, 1);
        want[n++] = (struct want){3500000000ull, MC_LINKTYPE_LINUX_SLL, 2, 1, 1, 3};
        epb(&w, 3, 10001, 4, 0, 0);
        want[n++] = (struct want){10001000000ull - 5000000000ull, 0, 3, 0, 0, 4};
        pb(&w, 1, 42, 5, 9);
        want[n++] = (struct want){42, 101, 1, 9, 9, 5};
        /* second section, the other byte order: interfaces start again */
        shb(&w, !be);
        idb(&w, MC_LINKTYPE_IPV6, 20, 9, 0);
        spb(&w, 6, 20, 1000);                     /* snaplen 20 of 1000 */
        want[n++] = (struct want){0, MC_LINKTYPE_IPV6, 0, 20, 1000, 6};
        spb(&w, 7, 8, 5);                         /* padding is not data */
        want[n++] = (struct want){0, MC_LINKTYPE_IPV6, 0, 5, 5, 7};
        epb(&w, 0, 7, 8, 3, 3);
        want[n++] = (struct want){7, MC_LINKTYPE_IPV6, 0, 3, 3, 8};
        unknown_block(&w, 0x40000BADu, 4);        /* a custom block at the end */
        assert_true(mc_pcap_magic(w.d, w.n));
        check_input(w.d, w.n, "pcapng", want, n, UINT64_MAX, 0);
        w_free(&w);
    }
}

/* Decryption Secrets Blocks go to the secrets callback, in order and before
 * the packets that follow them; packets are unaffected; a DSB whose secrets
 * length exceeds its block is an error. */
struct secrets_seen {
    unsigned n;
    uint32_t type[4];
    char text[4][64];
    uint64_t frames_before[4];
    uint64_t frames;
};

static void on_secrets(void *ctx, uint32_t type, const uint8_t *p, size_t n)
{
    struct secrets_seen *ss = ctx;
    assert_true(ss->n < 4 && n < 64);
    ss->type[ss->n] = type;
    memcpy(ss->text[ss->n], p, n);
    ss->text[ss->n][n] = '\0';
    ss->frames_before[ss->n] = ss->frames;
    ss->n++;
}

static void dsb(struct w *w, uint32_t type, const char *text, uint32_t claimed)
{
    size_t at = blk_begin(w, 0x0000000Au);
    size_t n = strlen(text);
    w_u32(w, type);
    w_u32(w, claimed ? claimed : (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        w_u8(w, (uint8_t)text[i]);
    blk_end(w, at);
}

static void test_pcapng_decryption_secrets(void **state)
{
    (void)state;
    for (int be = 0; be < 2; be++) {
        struct w w = {0};
        struct secrets_seen ss = {0};
        struct mc_packet pkt;
        struct mc_pcap_reader *r;
        shb(&w, be);
        dsb(&w, MC_PCAP_SECRETS_TLS, "CLIENT_RANDOM 00 11\n", 0);
        idb(&w, MC_LINKTYPE_ETHERNET, 0, -1, 0);
        epb(&w, 0, 1, 1, 10, 10);
        dsb(&w, 0x57474b4cu, "wireguard", 0);    /* another secrets type: passed on too */
        dsb(&w, MC_PCAP_SECRETS_TLS, "x", 0);     /* 1 octet, padded */
        epb(&w, 0, 2, 2, 10, 10);
        r = mc_pcap_open_mem(w.d, w.n, "dsb");
        assert_non_null(r);
        mc_pcap_on_secrets(r, on_secrets, &ss);
        while (mc_pcap_next(r, &pkt) == MC_PCAP_PACKET) {
            assert_int_equal(pkt.caplen, 10);
            ss.frames++;
        }
        assert_int_equal(ss.frames, 2);
        assert_int_equal(ss.n, 3);
        assert_int_equal(ss.type[0], MC_PCAP_SECRETS_TLS);
        assert_string_equal(ss.text[0], "CLIENT_RANDOM 00 11\n");
        assert_int_equal(ss.frames_before[0], 0);
        assert_int_equal(ss.type[1], 0x57474b4cu);
        assert_string_equal(ss.text[2], "x");
        assert_int_equal(ss.frames_before[2], 1);
        mc_pcap_close(r);
        w_free(&w);

        /* secrets longer than the block: an error, nothing handed out */
        memset(&ss, 0, sizeof(ss));
        shb(&w, be);
        dsb(&w, MC_PCAP_SECRETS_TLS, "abcd", 400);
        r = mc_pcap_open_mem(w.d, w.n, "dsb-bad");
        assert_non_null(r);
        mc_pcap_on_secrets(r, on_secrets, &ss);
        assert_int_equal(mc_pcap_next(r, &pkt), MC_PCAP_ERROR);
        assert_non_null(strstr(mc_pcap_error(r), "secrets"));
        assert_int_equal(ss.n, 0);
        mc_pcap_close(r);
        w_free(&w);
    }
}

static void test_pcapng_tsresol_edges(void **state)
{
    (void)state;
    struct w w = {0};
    shb(&w, false);
    idb(&w, 1, 0, 0, 0);            /* seconds */
    idb(&w, 1, 0, 12, 0);           /* picoseconds */
    idb(&w, 1, 0, 0x80 | 40, 0);    /* 2^-40 */
    idb(&w, 1, 0, 0x80, 0);         /* 2^0 */
    idb(&w, 1, 0, 0x80 | 127, 0);   /* absurd but harmless */
    idb(&w, 1, 0, 100, 0);          /* 10^-100 */
    epb(&w, 0, 7, 1, 0, 0);
    epb(&w, 1, 7000000, 2, 0, 0);
    epb(&w, 2, (5ull << 40) | (1ull << 39), 3, 0, 0);
    epb(&w, 3, 9, 4, 0, 0);
    epb(&w, 4, UINT64_MAX, 5, 0, 0);
    epb(&w, 5, UINT64_MAX, 6, 0, 0);
    struct want want[] = {
        {7000000000ull, 1, 0, 0, 0, 1},
        {7000, 1, 1, 0, 0, 2},
        {5500000000ull, 1, 2, 0, 0, 3},
        {9000000000ull, 1, 3, 0, 0, 4},
        {0, 1, 4, 0, 0, 5},
        {0, 1, 5, 0, 0, 6},
    };
    check_input(w.d, w.n, "pcapng", want, 6, UINT64_MAX, 0);
    w_free(&w);
}

static void test_pcapng_cut_every_length(void **state)
{
    (void)state;
    struct w w = {0};
    shb(&w, true);
    idb(&w, 1, 0, -1, 0);
    size_t start[4];
    struct want want[3];
    for (unsigned k = 0; k < 3; k++) {
        start[k] = w.n;
        epb(&w, 0, k, k, 30 + k, 30 + k);
        want[k] = (struct want){k * 1000ull, 1, 0, 30 + k, 30 + k, k};
    }
    start[3] = w.n;
    for (size_t n = start[0]; n <= w.n; n++) {
        size_t whole = 0;
        while (whole < 3 && start[whole + 1] <= n)
            whole++;
        bool clean = n == start[whole];
        /* under 4 octets the block's type is unknown: it is not named */
        check_input(w.d, n, "pcapng", want, whole, clean ? UINT64_MAX : start[whole],
                    clean || n - start[whole] < 4 ? 0 : whole + 1);
    }
    /* and inside the header blocks: an error, never a packet (a file that
     * ends right after its 28-octet section header is a valid empty one) */
    for (size_t n = 1; n < start[0]; n++) {
        struct mc_pcap_reader *r = mc_pcap_open_mem(w.d, n, "cut");
        struct mc_packet pkt;
        assert_int_equal(mc_pcap_next(r, &pkt), n == 28 ? MC_PCAP_END : MC_PCAP_ERROR);
        mc_pcap_close(r);
    }
    w_free(&w);
}

/* Patches the 32-bit value at off in the section's byte order. */
static void patch32(struct w *w, size_t off, uint32_t v)
{
    struct w tmp = {.be = w->be};
    w_u32(&tmp, v);
    memcpy(w->d + off, tmp.d, 4);
    w_free(&tmp);
}

static void test_pcapng_hostile_lengths(void **state)
{
    (void)state;
    struct {
        const char *what;
        size_t field;        /* offset inside the bad EPB to patch */
        uint32_t value;
        const char *msg;     /* part of the expected message */
    } cases[] = {
        {"length below 12", 4, 8, "bad length 8"},
        {"length not a multiple of 4", 4, 45, "bad length 45"},
        {"huge length", 4, 0xFFFFFFF0u, "more than the limit"},
        {"trailing length differs", 44, 40, "trailing length 40"},
        {"caplen beyond the block", 20, 17, "announces 17 captured octets"},
        {"huge caplen", 20, 0xFFFFFFFFu, "announces 4294967295 captured"},
        {"unknown interface", 8, 1, "names interface 1"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (int be = 0; be < 2; be++) {
            struct w w = {0};
            shb(&w, be);
            idb(&w, 1, 0, -1, 0);
            epb(&w, 0, 1, 1, 4, 4);   /* 48 octets with its option */
            size_t bad = w.n;
            /* a plain EPB of 48 octets: 28 header + 16 data + 4 trailer */
            size_t at = blk_begin(&w, 6);
            w_u32(&w, 0);
            w_u32(&w, 0);
            w_u32(&w, 2);
            w_u32(&w, 16);
            w_u32(&w, 16);
            for (unsigned i = 0; i < 16; i++)
                w_u8(&w, pat(2, i));
            blk_end(&w, at);
            assert_int_equal(w.n - bad, 48);
            patch32(&w, bad + cases[c].field, cases[c].value);
            struct want want[] = {{1000, 1, 0, 4, 4, 1}};
            check_input(w.d, w.n, "pcapng", want, 1, bad, 2);
            struct mc_pcap_reader *r = mc_pcap_open_mem(w.d, w.n, "x");
            struct mc_packet pkt;
            while (mc_pcap_next(r, &pkt) == MC_PCAP_PACKET)
                ;
            if (!strstr(mc_pcap_error(r), cases[c].msg))
                fail_msg("%s: message '%s' lacks '%s'", cases[c].what, mc_pcap_error(r),
                         cases[c].msg);
            mc_pcap_close(r);
            w_free(&w);
        }
    }
}

static void test_pcapng_bad_headers(void **state)
{
    (void)state;
    /* first block not a section header */
    struct w w = {0};
    shb(&w, false);
    size_t after = w.n;
    idb(&w, 1, 0, -1, 0);
    check_input(w.d + after, w.n - after, NULL, NULL, 0, 0, 0);
    /* bad byte-order magic */
    w.d[8] ^= 0xFF;
    check_input(w.d, w.n, "pcapng", NULL, 0, 0, 0);
    w.d[8] ^= 0xFF;
    /* unsupported major version */
    w.d[12] = 2;
    check_input(w.d, w.n, "pcapng", NULL, 0, 0, 0);
    w.d[12] = 1;
    /* an IDB option running past its block */
    patch32(&w, after + 16, (200u << 16) | 2u);  /* if_name of length 200 (LE) */
    check_input(w.d, w.n, "pcapng", NULL, 0, after, 0);
    w_free(&w);

    /* IDB too short; SPB without an interface; SPB too short */
    struct w x = {0};
    shb(&x, false);
    size_t at = x.n;
    unknown_block(&x, 1, 4);   /* IDB of 16 octets */
    check_input(x.d, x.n, "pcapng", NULL, 0, at, 0);
    w_free(&x);

    struct w y = {0};
    shb(&y, true);
    at = y.n;
    spb(&y, 1, 4, 4);
    check_input(y.d, y.n, "pcapng", NULL, 0, at, 1);
    w_free(&y);

    struct w z = {0};
    shb(&z, true);
    idb(&z, 1, 0, -1, 0);
    at = z.n;
    unknown_block(&z, 6, 8);   /* EPB of 20 octets */
    check_input(z.d, z.n, "pcapng", NULL, 0, at, 1);
    w_free(&z);
}

static void test_pcapng_interfaces_reset_by_section(void **state)
{
    (void)state;
    struct w w = {0};
    shb(&w, false);
    idb(&w, 1, 0, -1, 0);
    idb(&w, 1, 0, -1, 0);
    epb(&w, 1, 0, 1, 1, 1);
    shb(&w, false);
    idb(&w, 1, 0, -1, 0);
    size_t bad = w.n;
    epb(&w, 1, 0, 2, 1, 1);   /* interface 1 belonged to the first section */
    struct want want[] = {{0, 1, 1, 1, 1, 1}};
    check_input(w.d, w.n, "pcapng", want, 1, bad, 2);
    w_free(&w);
}

static void test_pcapng_many_packets_through_pipe(void **state)
{
    (void)state;
    /* more than a buffer's worth of small packets, read through a pipe */
    enum { N = 12000 };
    struct w w = {0};
    shb(&w, false);
    idb(&w, 1, 0, 9, 0);
    struct want *want = calloc(N, sizeof(*want));
    assert_non_null(want);
    for (unsigned k = 0; k < N; k++) {
        uint32_t len = 60 + k % 200;
        epb(&w, 0, 1000000000ull * k + k, k, len, len + (k % 3));
        want[k] = (struct want){1000000000ull * k + k, 1, 0, len, len + (k % 3), k};
    }
    check_input(w.d, w.n, "pcapng", want, N, UINT64_MAX, 0);
    free(want);
    w_free(&w);
}

/* Random corruption of valid files, read from a guard-page copy: never a
 * read outside the input, packets always inside it, frames counting up,
 * and the end or a sticky error. */
static void test_random_corruption(void **state)
{
    (void)state;
    struct w ng = {0}, pc = {.be = true};
    shb(&ng, false);
    idb(&ng, 1, 64, 9, 3);
    idb(&ng, 113, 0, 0x80 | 10, 0);
    for (unsigned k = 0; k < 6; k++) {
        epb(&ng, k % 2, k, k, 20 + k, 40);
        spb(&ng, k, 9, 9);
        pb(&ng, 1, k, k, 3);
    }
    shb(&ng, true);
    idb(&ng, 1, 0, -1, 0);
    epb(&ng, 0, 1, 1, 5, 5);
    pcap_header(&pc, true, 1);
    for (unsigned k = 0; k < 10; k++)
        pcap_record(&pc, k, k, k, 10 + k, 30);
    struct th_guard g;
    th_guard_init(&g, ng.n > pc.n ? ng.n : pc.n);
    uint8_t *tmp = malloc(ng.n > pc.n ? ng.n : pc.n);
    assert_non_null(tmp);
    uint32_t x = 99;
    for (int iter = 0; iter < 20000; iter++) {
        const struct w *src = iter % 2 ? &ng : &pc;
        memcpy(tmp, src->d, src->n);
        x = x * 1103515245u + 12345u;
        int flips = 1 + (int)((x >> 16) % 4);
        for (int i = 0; i < flips; i++) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % src->n;
            x = x * 1103515245u + 12345u;
            /* small values hit the length checks more often than noise */
            tmp[at] = (x >> 20) % 3 ? (uint8_t)(x >> 8) : (uint8_t)((x >> 8) % 8);
        }
        x = x * 1103515245u + 12345u;
        size_t n = src->n - (x >> 16) % 64 % src->n;
        const uint8_t *in = th_guard_put(&g, tmp, n);
        struct mc_pcap_reader *r = mc_pcap_open_mem(in, n, "fuzz");
        struct mc_packet pkt;
        enum mc_pcap_status st;
        uint64_t frames = 0;
        while ((st = mc_pcap_next(r, &pkt)) == MC_PCAP_PACKET) {
            assert_int_equal(pkt.frame, ++frames);
            assert_true(pkt.data >= in && pkt.data + pkt.caplen <= in + n);
            assert_true(pkt.origlen >= pkt.caplen);
            assert_true(mc_pcap_offset(r) <= n);
        }
        if (st == MC_PCAP_ERROR) {
            assert_true(mc_pcap_error_offset(r) <= n);
            assert_true(strlen(mc_pcap_error(r)) > 10);
        }
        assert_int_equal(mc_pcap_next(r, &pkt), st);
        mc_pcap_close(r);
    }
    free(tmp);
    th_guard_free(&g);
    w_free(&ng);
    w_free(&pc);
}

static void test_magic(void **state)
{
    (void)state;
    static const uint8_t good[5][4] = {
        {0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
        {0x4d, 0x3c, 0xb2, 0xa1}, {0x0a, 0x0d, 0x0d, 0x0a},
    };
    for (int i = 0; i < 5; i++) {
        assert_true(mc_pcap_magic(good[i], 4));
        assert_false(mc_pcap_magic(good[i], 3));
    }
    assert_false(mc_pcap_magic((const uint8_t *)"+OK ", 4));
    assert_false(mc_pcap_magic((const uint8_t *)"\xa1\xb2\xc3\xd5", 4));
    assert_false(mc_pcap_magic(NULL, 0));
}

static void test_format_before_reading(void **state)
{
    (void)state;
    struct w w = {0};
    pcap_header(&w, false, 1);
    struct mc_pcap_reader *r = mc_pcap_open_mem(w.d, w.n, "x");
    assert_null(mc_pcap_format(r));
    assert_int_equal(mc_pcap_offset(r), 0);
    assert_string_equal(mc_pcap_error(r), "no error");
    struct mc_packet pkt;
    assert_int_equal(mc_pcap_next(r, &pkt), MC_PCAP_END);
    assert_string_equal(mc_pcap_format(r), "pcap");
    mc_pcap_close(r);
    mc_pcap_close(NULL);
    w_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_all_magics),
        cmocka_unit_test(test_pcap_linktype_fcs_bits),
        cmocka_unit_test(test_pcap_header_only_and_empty),
        cmocka_unit_test(test_pcap_cut_mid_record),
        cmocka_unit_test(test_pcap_hostile_caplen),
        cmocka_unit_test(test_pcap_big_records),
        cmocka_unit_test(test_pcap_origlen_below_caplen),
        cmocka_unit_test(test_pcapng_interfaces_and_sections),
        cmocka_unit_test(test_pcapng_tsresol_edges),
        cmocka_unit_test(test_pcapng_cut_every_length),
        cmocka_unit_test(test_pcapng_hostile_lengths),
        cmocka_unit_test(test_pcapng_bad_headers),
        cmocka_unit_test(test_pcapng_interfaces_reset_by_section),
        cmocka_unit_test(test_pcapng_many_packets_through_pipe),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_magic),
        cmocka_unit_test(test_format_before_reading),
        cmocka_unit_test(test_pcapng_decryption_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
