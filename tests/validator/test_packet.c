/*
 * Frame decoder (validator/capture/packet.c).
 *
 * Frames are built here layer by layer (mk_tcp, mk_ipv4, mk_ipv6, mk_link)
 * and every decode reads from a guard-page copy: the frame's last octet
 * sits right before a PROT_NONE page, so a read past caplen faults even
 * without ASan.
 */
#include "test_harness.h"

#include <stdlib.h>

#include "capture/packet.h"
#include "capture/pcap_reader.h"

#define SPORT 40000
#define DPORT 143
#define SEQ 0x01020304u
#define ACKN 0x0a0b0c0du
#define WIN 0x1234

static const uint8_t SRC4[4] = {192, 0, 2, 1}, DST4[4] = {192, 0, 2, 2};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static struct th_guard guard;

static int setup(void **state)
{
    (void)state;
    th_guard_init(&guard, 1 << 16);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_guard_free(&guard);
    return 0;
}

static void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v & 0xFFFF);
}

/* TCP header with optwords 32-bit words of options (NOPs), then payload. */
static size_t mk_tcp(uint8_t *o, unsigned optwords, const void *payload, size_t plen)
{
    size_t h = 20 + 4 * optwords;
    memset(o, 0, h);
    be16(o, SPORT);
    be16(o + 2, DPORT);
    be32(o + 4, SEQ);
    be32(o + 8, ACKN);
    o[12] = (uint8_t)((h / 4) << 4);
    o[13] = MC_TCP_PSH | MC_TCP_ACK;
    be16(o + 14, WIN);
    memset(o + 20, 1, h - 20);  /* NOP options */
    if (plen)
        memcpy(o + h, payload, plen);
    return h + plen;
}

/* IPv4 header (optwords words of options) around l4. */
static size_t mk_ipv4(uint8_t *o, uint8_t proto, unsigned optwords, unsigned frag,
                      const uint8_t *l4, size_t n)
{
    size_t h = 20 + 4 * optwords;
    memset(o, 0, h);
    o[0] = (uint8_t)(0x40 | (h / 4));
    be16(o + 2, (unsigned)(h + n));
    be16(o + 4, 77);
    be16(o + 6, frag);
    o[8] = 64;
    o[9] = proto;
    memcpy(o + 12, SRC4, 4);
    memcpy(o + 16, DST4, 4);
    if (optwords) {
        o[20] = 0x94;  /* router alert, 4 octets */
        o[21] = 4;
        memset(o + 24, 1, h - 24);  /* NOPs */
    }
    memcpy(o + h, l4, n);
    return h + n;
}

/* IPv6 with the extension headers exts[] (their protocol numbers), last
 * one followed by next (the upper layer). */
static size_t mk_ipv6(uint8_t *o, const uint8_t *exts, size_t nexts, uint8_t next,
                      const uint8_t *l4, size_t n)
{
    size_t off = 40;
    memset(o, 0, 40);
    o[0] = 0x60;
    o[6] = nexts ? exts[0] : next;
    o[7] = 64;
    memcpy(o + 8, SRC6, 16);
    memcpy(o + 24, DST6, 16);
    for (size_t i = 0; i < nexts; i++) {
        uint8_t nh = i + 1 < nexts ? exts[i + 1] : next;
        size_t len = exts[i] == 51 ? 16 : exts[i] == 43 ? 24 : 8;
        memset(o + off, 0, len);
        o[off] = nh;
        if (exts[i] == 51)
            o[off + 1] = (uint8_t)(len / 4 - 2);
        else if (exts[i] != 44)
            o[off + 1] = (uint8_t)(len / 8 - 1);
        off += len;
    }
    memcpy(o + off, l4, n);
    be16(o + 4, (unsigned)(off - 40 + n));
    return off + n;
}

/* link-layer variants */
enum link {
    L_ETH, L_ETH_VLAN, L_ETH_QINQ, L_ETH_9100, L_SLL, L_SLL2, L_NULL_LE, L_NULL_BE,
    L_NULL_28, L_NULL_30, L_LOOP, L_RAW, L_RAW12, L_RAW14, L_IPV4, L_IPV6, L_COUNT
};

static const char *const link_names[L_COUNT] = {
    "ether", "ether+802.1Q", "ether+802.1ad+802.1Q", "ether+9100+2x802.1Q", "sll", "sll2",
    "null LE", "null BE", "null 28", "null 30", "loop", "raw", "raw 12", "raw 14", "ipv4",
    "ipv6",
};

static uint32_t link_type(enum link l)
{
    static const uint32_t t[L_COUNT] = {1, 1, 1, 1, 113, 276, 0, 0, 0, 0, 108, 101, 12, 14,
                                        228, 229};
    return t[l];
}

/* Wraps ip in link l; returns the frame length (0: l cannot carry it). */
static size_t mk_link(uint8_t *o, enum link l, const uint8_t *ip, size_t n)
{
    bool v6 = ip[0] >> 4 == 6;
    unsigned et = v6 ? 0x86DD : 0x0800;
    size_t h = 0;
    uint32_t af = v6 ? 24 : 2;
    switch (l) {
    case L_ETH:
    case L_ETH_VLAN:
    case L_ETH_QINQ:
    case L_ETH_9100: {
        static const unsigned tags[4][3] = {{0}, {0x8100}, {0x88A8, 0x8100}, {0x9100, 0x8100, 0x8100}};
        memset(o, 0xAA, 12);
        h = 12;
        for (int i = 0; i < 3 && tags[l][i]; i++) {
            be16(o + h, tags[l][i]);
            be16(o + h + 2, (unsigned)(100 + i));
            h += 4;
        }
        be16(o + h, et);
        h += 2;
        break;
    }
    case L_SLL:
        memset(o, 0, 16);
        be16(o + 2, 1);
        be16(o + 4, 6);
        be16(o + 14, et);
        h = 16;
        break;
    case L_SLL2:
        memset(o, 0, 20);
        be16(o, et);
        be16(o + 8, 1);
        o[11] = 6;
        h = 20;
        break;
    case L_NULL_LE:
    case L_NULL_BE:
    case L_NULL_28:
    case L_NULL_30:
        if (v6)
            af = l == L_NULL_28 ? 28 : l == L_NULL_30 ? 30 : 24;
        if (l == L_NULL_BE) {
            be32(o, af);
        } else {
            o[0] = (uint8_t)af;
            o[1] = o[2] = o[3] = 0;
        }
        h = 4;
        break;
    case L_LOOP:
        be32(o, af);
        h = 4;
        break;
    case L_IPV4:
        if (v6)
            return 0;
        break;
    case L_IPV6:
        if (!v6)
            return 0;
        break;
    default:
        break;
    }
    memcpy(o + h, ip, n);
    return h + n;
}

/* Decodes a guard-page copy of frame[0, caplen). */
static enum mc_decode decode(uint32_t lt, const uint8_t *frame, size_t caplen, size_t origlen,
                             struct mc_tcp_seg *seg, const uint8_t **copy)
{
    const uint8_t *g = th_guard_put(&guard, frame, caplen);
    if (copy)
        *copy = g;
    enum mc_decode d = mc_decode_frame(lt, g, (uint32_t)caplen, (uint32_t)origlen, seg);
    if (d == MC_DEC_TCP) {
        /* the payload lies inside the captured frame */
        assert_true(seg->payload >= g);
        assert_true(seg->payload + seg->len <= g + caplen);
    }
    return d;
}

static void check_seg(const struct mc_tcp_seg *seg, int af, const void *payload, uint32_t len,
                      uint32_t missing)
{
    assert_int_equal(seg->af, af);
    if (af == 4) {
        assert_memory_equal(seg->src, SRC4, 4);
        assert_memory_equal(seg->dst, DST4, 4);
    } else {
        assert_memory_equal(seg->src, SRC6, 16);
        assert_memory_equal(seg->dst, DST6, 16);
    }
    assert_int_equal(seg->sport, SPORT);
    assert_int_equal(seg->dport, DPORT);
    assert_int_equal(seg->seq, SEQ);
    assert_int_equal(seg->ack, ACKN);
    assert_int_equal(seg->flags, MC_TCP_PSH | MC_TCP_ACK);
    assert_int_equal(seg->window, WIN);
    assert_int_equal(seg->len, len);
    assert_int_equal(seg->missing, missing);
    if (len)
        assert_memory_equal(seg->payload, payload, len);
}

static const char HELLO[] = "a1 LOGIN user pass\r\n";
#define HELLO_LEN (sizeof(HELLO) - 1)

/* An IPv4 or IPv6 TCP packet carrying payload. */
static size_t mk_ip(uint8_t *o, int af, const void *payload, size_t plen)
{
    uint8_t t[2048];
    size_t n = mk_tcp(t, 0, payload, plen);
    return af == 4 ? mk_ipv4(o, 6, 0, 0x4000, t, n) : mk_ipv6(o, NULL, 0, 6, t, n);
}

/* ---- tests ------------------------------------------------------------- */

static void test_every_link_type(void **state)
{
    (void)state;
    for (int af = 4; af <= 6; af += 2)
        for (int l = 0; l < L_COUNT; l++) {
            uint8_t ip[2048], f[2100];
            struct mc_tcp_seg seg;
            size_t n = mk_link(f, (enum link)l, ip, mk_ip(ip, af, HELLO, HELLO_LEN));
            if (!n)
                continue;
            enum mc_decode d = decode(link_type((enum link)l), f, n, n, &seg, NULL);
            if (d != MC_DEC_TCP)
                fail_msg("IPv%d over %s: %s", af, link_names[l], mc_decode_name(d));
            check_seg(&seg, af, HELLO, HELLO_LEN, 0);
        }
}

/* Cut at every octet: inside the headers TRUNCATED, then TCP with the
 * captured part of the payload and the rest as missing. */
static void test_truncated_at_every_octet(void **state)
{
    (void)state;
    for (int af = 4; af <= 6; af += 2)
        for (int l = 0; l < L_COUNT; l++) {
            uint8_t ip[2048], f[2100];
            struct mc_tcp_seg seg;
            size_t n = mk_link(f, (enum link)l, ip, mk_ip(ip, af, HELLO, HELLO_LEN));
            if (!n)
                continue;
            size_t hdr = n - HELLO_LEN;
            for (size_t cap = 0; cap <= n; cap++) {
                enum mc_decode d = decode(link_type((enum link)l), f, cap, n, &seg, NULL);
                if (cap < hdr) {
                    if (d != MC_DEC_TRUNCATED)
                        fail_msg("IPv%d over %s cut at %zu: %s", af, link_names[l], cap,
                                 mc_decode_name(d));
                } else {
                    assert_int_equal(d, MC_DEC_TCP);
                    check_seg(&seg, af, HELLO, (uint32_t)(cap - hdr), (uint32_t)(n - cap));
                }
            }
        }
}

static void test_ipv4_options_and_tcp_options(void **state)
{
    (void)state;
    for (unsigned ow = 0; ow <= 10; ow++)
        for (unsigned tw = 0; tw <= 10; tw++) {
            uint8_t t[256], ip[512], f[600];
            struct mc_tcp_seg seg;
            size_t n = mk_tcp(t, tw, HELLO, HELLO_LEN);
            n = mk_ipv4(ip, 6, ow, 0, t, n);
            n = mk_link(f, L_ETH, ip, n);
            assert_int_equal(decode(1, f, n, n, &seg, NULL), MC_DEC_TCP);
            check_seg(&seg, 4, HELLO, HELLO_LEN, 0);
        }
}

static void test_ipv4_fragments(void **state)
{
    (void)state;
    static const struct {
        unsigned frag;
        enum mc_decode want;
    } cases[] = {
        {0x0000, MC_DEC_TCP},      {0x4000, MC_DEC_TCP},      /* DF only */
        {0x2000, MC_DEC_FRAGMENT}, /* MF: first fragment */
        {0x0001, MC_DEC_FRAGMENT}, /* offset 8, last fragment */
        {0x2100, MC_DEC_FRAGMENT}, {0x1FFF, MC_DEC_FRAGMENT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t t[256], ip[512], f[600];
        struct mc_tcp_seg seg;
        size_t n = mk_tcp(t, 0, HELLO, HELLO_LEN);
        n = mk_ipv4(ip, 6, 0, cases[i].frag, t, n);
        n = mk_link(f, L_ETH_VLAN, ip, n);
        assert_int_equal(decode(1, f, n, n, &seg, NULL), cases[i].want);
        /* a fragment still says whose it is */
        assert_int_equal(seg.af, 4);
        assert_memory_equal(seg.src, SRC4, 4);
    }
}

static void test_ipv6_extension_headers(void **state)
{
    (void)state;
    static const struct {
        uint8_t ext[5];
        size_t n;
        uint8_t next;
        enum mc_decode want;
    } cases[] = {
        {{0}, 1, 6, MC_DEC_TCP},
        {{0, 43, 60}, 3, 6, MC_DEC_TCP},
        {{0, 60, 43, 51, 60}, 5, 6, MC_DEC_TCP},
        {{44}, 1, 6, MC_DEC_TCP},          /* atomic fragment (RFC 6946) */
        {{0, 44}, 2, 17, MC_DEC_NOT_TCP},  /* UDP */
        {{60}, 1, 59, MC_DEC_NOT_TCP},     /* no next header */
        {{51}, 1, 50, MC_DEC_NOT_TCP},     /* ESP */
        {{0}, 0, 58, MC_DEC_NOT_TCP},      /* ICMPv6 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int l = L_ETH; l <= L_ETH_QINQ; l++) {
            uint8_t t[256], ip[512], f[600];
            struct mc_tcp_seg seg;
            size_t n = mk_tcp(t, 1, HELLO, HELLO_LEN);
            n = mk_ipv6(ip, cases[i].ext, cases[i].n, cases[i].next, t, n);
            n = mk_link(f, (enum link)l, ip, n);
            enum mc_decode d = decode(1, f, n, n, &seg, NULL);
            if (d != cases[i].want)
                fail_msg("case %zu: %s", i, mc_decode_name(d));
            if (d == MC_DEC_TCP)
                check_seg(&seg, 6, HELLO, HELLO_LEN, 0);
            /* cut anywhere in the headers: TRUNCATED for TCP, never worse */
            size_t hdr = n - HELLO_LEN;
            for (size_t cap = 0; cap < hdr; cap++) {
                d = decode(1, f, cap, n, &seg, NULL);
                if (cases[i].want == MC_DEC_TCP)
                    assert_int_equal(d, MC_DEC_TRUNCATED);
                else
                    assert_true(d == MC_DEC_TRUNCATED || d == cases[i].want);
            }
        }
}

static void test_ipv6_fragments(void **state)
{
    (void)state;
    static const unsigned fragfield[] = {0x0001 /* M */, 0x0008 /* offset 8 */, 0x0009};
    for (size_t i = 0; i < 3; i++) {
        uint8_t t[256], ip[512], f[600];
        struct mc_tcp_seg seg;
        static const uint8_t ext[] = {0, 44};
        size_t n = mk_tcp(t, 0, HELLO, HELLO_LEN);
        n = mk_ipv6(ip, ext, 2, 6, t, n);
        be16(ip + 48 + 2, fragfield[i]);
        n = mk_link(f, L_SLL2, ip, n);
        assert_int_equal(decode(276, f, n, n, &seg, NULL), MC_DEC_FRAGMENT);
        assert_int_equal(seg.af, 6);
    }
}

static void test_ipv6_malformed(void **state)
{
    (void)state;
    uint8_t t[256], ip[512];
    struct mc_tcp_seg seg;
    static const uint8_t hop[] = {0};
    size_t tl = mk_tcp(t, 0, HELLO, HELLO_LEN);
    /* jumbogram: payload length 0 and a Hop-by-Hop header */
    size_t n = mk_ipv6(ip, hop, 1, 6, t, tl);
    be16(ip + 4, 0);
    assert_int_equal(decode(229, ip, n, n, &seg, NULL), MC_DEC_MALFORMED);
    /* payload length beyond the frame */
    n = mk_ipv6(ip, NULL, 0, 6, t, tl);
    be16(ip + 4, (unsigned)tl + 1);
    assert_int_equal(decode(229, ip, n, n, &seg, NULL), MC_DEC_MALFORMED);
    /* an extension header longer than the payload */
    n = mk_ipv6(ip, hop, 1, 6, t, tl);
    ip[41] = 200;
    assert_int_equal(decode(229, ip, n, n, &seg, NULL), MC_DEC_MALFORMED);
    /* payload shorter than a TCP header */
    n = mk_ipv6(ip, NULL, 0, 6, t, tl);
    be16(ip + 4, 19);
    assert_int_equal(decode(229, ip, n, n, &seg, NULL), MC_DEC_MALFORMED);
    /* IPv4 version in the IPv6 link type */
    n = mk_ipv6(ip, NULL, 0, 6, t, tl);
    ip[0] = 0x45;
    assert_int_equal(decode(229, ip, n, n, &seg, NULL), MC_DEC_MALFORMED);
}

static void test_ipv4_malformed(void **state)
{
    (void)state;
    uint8_t t[256], ip[512], f[600];
    struct mc_tcp_seg seg;
    size_t tl = mk_tcp(t, 0, HELLO, HELLO_LEN);
    size_t n = mk_ipv4(ip, 6, 0, 0, t, tl);
    uint8_t bad[512];
    static const struct {
        size_t at;
        uint8_t v;
    } pokes[] = {
        {0, 0x44},        /* header length 16 */
        {0, 0x4F},        /* header length 60 > total length */
        {0, 0x65},        /* version 6 */
        {2, 0x10},        /* total length 4096 + ... beyond the frame */
        {3, 0x05},        /* total length below the header */
        {20 + 12, 0x40},  /* TCP data offset 16 */
        {20 + 12, 0xF0},  /* TCP data offset 60: past the segment */
    };
    for (size_t i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
        memcpy(bad, ip, n);
        bad[pokes[i].at] = pokes[i].v;
        if (pokes[i].at == 3)
            bad[2] = 0;
        size_t fl = mk_link(f, L_ETH, bad, n);
        enum mc_decode d = decode(1, f, fl, fl, &seg, NULL);
        if (d != MC_DEC_MALFORMED)
            fail_msg("poke %zu: %s", i, mc_decode_name(d));
    }
    /* total length 0: a TSO super-packet, the frame is the datagram */
    memcpy(bad, ip, n);
    be16(bad + 2, 0);
    assert_int_equal(decode(228, bad, n, n, &seg, NULL), MC_DEC_TCP);
    check_seg(&seg, 4, HELLO, HELLO_LEN, 0);
    assert_int_equal(decode(228, bad, n - 5, n, &seg, NULL), MC_DEC_TCP);
    check_seg(&seg, 4, HELLO, HELLO_LEN - 5, 5);
    /* total length says the segment is shorter than a TCP header */
    memcpy(bad, ip, n);
    be16(bad + 2, 39);
    assert_int_equal(decode(228, bad, n, n, &seg, NULL), MC_DEC_MALFORMED);
}

static void test_snaplen_cut_payload(void **state)
{
    (void)state;
    uint8_t big[1400];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    for (int af = 4; af <= 6; af += 2) {
        uint8_t ip[2048], f[2100];
        struct mc_tcp_seg seg;
        size_t n = mk_link(f, L_ETH_QINQ, ip, mk_ip(ip, af, big, sizeof(big)));
        size_t hdr = n - sizeof(big);
        assert_int_equal(decode(1, f, hdr + 100, n, &seg, NULL), MC_DEC_TCP);
        check_seg(&seg, af, big, 100, sizeof(big) - 100);
        /* a wire length that the IP length contradicts: impossible */
        assert_int_equal(decode(1, f, hdr + 100, hdr + 200, &seg, NULL), MC_DEC_MALFORMED);
        /* origlen below caplen is taken as caplen */
        assert_int_equal(decode(1, f, n, 10, &seg, NULL), MC_DEC_TCP);
        check_seg(&seg, af, big, sizeof(big), 0);
    }
}

static void test_ethernet_padding(void **state)
{
    (void)state;
    for (int af = 4; af <= 6; af += 2)
        for (size_t plen = 0; plen <= 6; plen++) {
            uint8_t ip[256], f[256];
            struct mc_tcp_seg seg;
            size_t n = mk_link(f, L_ETH, ip, mk_ip(ip, af, "abcdef", plen));
            /* padded to the 60-octet minimum with junk; the frame may also
             * have been cut by a snaplen inside the padding */
            memset(f + n, 0xEE, 64);
            size_t padded = n < 60 ? 60 : n;
            for (size_t cap = n; cap <= padded; cap++) {
                assert_int_equal(decode(1, f, cap, padded, &seg, NULL), MC_DEC_TCP);
                check_seg(&seg, af, "abcdef", (uint32_t)plen, 0);
            }
            /* the FCS counted in origlen (4 more octets): still no missing */
            assert_int_equal(decode(1, f, padded, padded + 4, &seg, NULL), MC_DEC_TCP);
            check_seg(&seg, af, "abcdef", (uint32_t)plen, 0);
        }
}

static void test_not_tcp(void **state)
{
    (void)state;
    uint8_t t[256], ip[512], f[600];
    struct mc_tcp_seg seg;
    size_t tl = mk_tcp(t, 0, HELLO, HELLO_LEN);
    size_t n = mk_ipv4(ip, 17, 0, 0, t, tl);   /* UDP */
    size_t fl = mk_link(f, L_SLL, ip, n);
    assert_int_equal(decode(113, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    /* ARP, and an 802.3 length field */
    n = mk_ipv4(ip, 6, 0, 0, t, tl);
    fl = mk_link(f, L_ETH, ip, n);
    be16(f + 12, 0x0806);
    assert_int_equal(decode(1, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    be16(f + 12, 0x05DC);
    assert_int_equal(decode(1, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    /* a VLAN tag followed by ARP */
    fl = mk_link(f, L_ETH_VLAN, ip, n);
    be16(f + 16, 0x0806);
    assert_int_equal(decode(1, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    /* SLL2 with another protocol */
    fl = mk_link(f, L_SLL2, ip, n);
    be16(f, 0x0806);
    assert_int_equal(decode(276, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    /* NULL and LOOP with an unknown family */
    fl = mk_link(f, L_NULL_LE, ip, n);
    f[0] = 7;
    assert_int_equal(decode(0, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    fl = mk_link(f, L_LOOP, ip, n);
    f[3] = 30 + 1;
    assert_int_equal(decode(108, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    /* RAW with version 5 */
    memcpy(f, ip, n);
    f[0] = 0x55;
    assert_int_equal(decode(101, f, n, n, &seg, NULL), MC_DEC_NOT_TCP);
    /* unknown link types */
    assert_int_equal(decode(147, f, n, n, &seg, NULL), MC_DEC_LINKTYPE);
    assert_int_equal(decode(105, f, 0, 0, &seg, NULL), MC_DEC_LINKTYPE);
}

static void test_loop_is_network_order(void **state)
{
    (void)state;
    /* LOOP records the family in network order: 02 00 00 00 is not AF_INET */
    uint8_t ip[512], f[600];
    struct mc_tcp_seg seg;
    size_t fl = mk_link(f, L_NULL_LE, ip, mk_ip(ip, 4, HELLO, HELLO_LEN));
    assert_int_equal(decode(108, f, fl, fl, &seg, NULL), MC_DEC_NOT_TCP);
    assert_int_equal(decode(0, f, fl, fl, &seg, NULL), MC_DEC_TCP);
}

static void test_flags_and_fields(void **state)
{
    (void)state;
    uint8_t t[256], ip[512];
    struct mc_tcp_seg seg;
    size_t tl = mk_tcp(t, 0, NULL, 0);
    t[13] = MC_TCP_SYN | MC_TCP_ACK | 0x40 /* ECE */;
    be32(t + 4, 0xFFFFFFFFu);
    size_t n = mk_ipv4(ip, 6, 0, 0, t, tl);
    assert_int_equal(decode(228, ip, n, n, &seg, NULL), MC_DEC_TCP);
    assert_int_equal(seg.flags & (MC_TCP_SYN | MC_TCP_ACK | MC_TCP_FIN), MC_TCP_SYN | MC_TCP_ACK);
    assert_int_equal(seg.seq, 0xFFFFFFFFu);
    assert_int_equal(seg.len, 0);
    assert_int_equal(seg.missing, 0);
    assert_memory_equal(seg.src + 4, (uint8_t[12]){0}, 12);
}

/* Random frames, random lengths: never a read outside the frame (guard
 * page, ASan), and the TCP payload always inside it. */
static void test_random_frames(void **state)
{
    (void)state;
    static const uint32_t lts[] = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276};
    uint32_t x = 12345;
    uint8_t f[256];
    for (int iter = 0; iter < 200000; iter++) {
        x = x * 1103515245u + 12345u;
        uint32_t lt = lts[(x >> 16) % 10];
        /* a plausible start, then noise, so that decoding gets deep */
        uint8_t ip[256];
        size_t n = mk_ip(ip, (x >> 8) & 1 ? 4 : 6, "xyz", 3);
        size_t fl = mk_link(f, L_ETH, ip, n);
        if (lt != 1)
            memcpy(f, ip, fl = n);
        for (int k = 0; k < 4; k++) {
            x = x * 1103515245u + 12345u;
            f[(x >> 16) % fl] = (uint8_t)(x >> 8);
        }
        x = x * 1103515245u + 12345u;
        size_t cap = (x >> 16) % (fl + 1);
        struct mc_tcp_seg seg;
        decode(lt, f, cap, (x & 1) ? cap : fl + (x >> 28), &seg, NULL);
    }
}

static void test_names(void **state)
{
    (void)state;
    for (int d = MC_DEC_TCP; d <= MC_DEC_LINKTYPE; d++)
        assert_true(strlen(mc_decode_name((enum mc_decode)d)) > 0);
    assert_string_equal(mc_decode_name(MC_DEC_TCP), "TCP");
    assert_string_equal(mc_decode_name(MC_DEC_FRAGMENT), "IP fragment");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_link_type),
        cmocka_unit_test(test_truncated_at_every_octet),
        cmocka_unit_test(test_ipv4_options_and_tcp_options),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_ipv6_fragments),
        cmocka_unit_test(test_ipv6_malformed),
        cmocka_unit_test(test_ipv4_malformed),
        cmocka_unit_test(test_snaplen_cut_payload),
        cmocka_unit_test(test_ethernet_padding),
        cmocka_unit_test(test_not_tcp),
        cmocka_unit_test(test_loop_is_network_order),
        cmocka_unit_test(test_flags_and_fields),
        cmocka_unit_test(test_random_frames),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
