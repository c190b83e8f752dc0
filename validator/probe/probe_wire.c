/*
 * The probe's wire recording (`probe --pcap FILE`): every octet a probe
 * connection sends or receives on its socket, in order, written as a
 * pcapng file that Wireshark, tshark and `mailconform check` open.
 *
 * Decisions worth knowing:
 * - What is recorded is the wire, not the plaintext: the socket's octets
 *   before STARTTLS, and the TLS records after it (or from the start for
 *   implicit TLS), taken from a callback on OpenSSL's socket BIO. The TLS
 *   secrets of the connection (OpenSSL's key log callback) go into a
 *   Decryption Secrets Block in front of its packets, so the file decrypts
 *   by itself (the pcapng draft, draft-ietf-opsawg-pcapng, "Decryption
 *   Secrets Block").
 * - The framing is synthetic: the kernel's real segments are not visible to
 *   an unprivileged client, so each send and each receive becomes TCP
 *   segments of at most WIRE_MSS octets between the connection's real
 *   addresses and ports, after a three-way handshake, with sequence and
 *   acknowledgement numbers that add up, correct checksums, and FIN
 *   segments where each side closed. Link type raw IP (LINKTYPE_RAW, 101).
 * - A connection is buffered in memory while it runs and written whole, as
 *   one DSB and its packets, when it ends: cells run concurrently on
 *   threads, and a block per connection keeps the file's writes short and
 *   each connection's keys in front of its records. Connections therefore
 *   follow each other in the order they ended; within one, timestamps
 *   are the moments the octets passed the socket (microseconds).
 * - A connection's recording stops at WIRE_MAX octets (the probe itself
 *   stops reading at MC_PROBE_RECEIVE_MAX); the rest is not written, and a
 *   warning says so.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "probe_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define WIRE_MSS 16384u                 /* payload octets per synthetic segment */
#define WIRE_MAX ((size_t)64 << 20)     /* per connection */
#define LINKTYPE_RAW 101u
#define PCAPNG_SNAPLEN 262144u

enum wire_kind { W_CONNECT = 1, W_DATA, W_FIN };

/* ---- recording ---- */

static bool wire_grow(struct probe_wire *w, size_t more)
{
    size_t cap;
    uint8_t *nb;
    if (w->len + more <= w->cap)
        return true;
    if (w->len + more > WIRE_MAX) {
        w->truncated = true;
        return false;
    }
    cap = w->cap ? w->cap : 4096;
    while (cap < w->len + more)
        cap *= 2;
    nb = realloc(w->ev, cap);
    if (!nb) {
        w->truncated = true;
        return false;
    }
    w->ev = nb;
    w->cap = cap;
    return true;
}

static uint64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* An event: kind, direction, time (µs), length, octets. */
static void wire_event(struct probe_wire *w, enum wire_kind k, enum mc_dir d, const void *buf,
                       size_t len)
{
    uint8_t h[14];
    uint64_t t = now_us();
    if (!w->on || w->truncated || !wire_grow(w, sizeof(h) + len))
        return;
    h[0] = (uint8_t)k;
    h[1] = (uint8_t)d;
    memcpy(h + 2, &t, 8);
    memcpy(h + 10, &(uint32_t){(uint32_t)len}, 4);
    memcpy(w->ev + w->len, h, sizeof(h));
    if (len)
        memcpy(w->ev + w->len + sizeof(h), buf, len);
    w->len += sizeof(h) + len;
}

void probe_wire_connect(struct probe_wire *w, int fd)
{
    socklen_t l1 = sizeof(w->client), l2 = sizeof(w->server);
    if (!w->on)
        return;
    if (getsockname(fd, (struct sockaddr *)&w->client, &l1) != 0 ||
        getpeername(fd, (struct sockaddr *)&w->server, &l2) != 0 ||
        w->client.ss_family != w->server.ss_family ||
        (w->client.ss_family != AF_INET && w->client.ss_family != AF_INET6)) {
        w->on = false;   /* nothing an IP packet could carry */
        return;
    }
    wire_event(w, W_CONNECT, MC_DIR_C2S, NULL, 0);
}

void probe_wire_data(struct probe_wire *w, enum mc_dir d, const void *buf, size_t len)
{
    if (len)
        wire_event(w, W_DATA, d, buf, len);
}

void probe_wire_fin(struct probe_wire *w, enum mc_dir d)
{
    if (w->fin[d])
        return;
    w->fin[d] = true;
    wire_event(w, W_FIN, d, NULL, 0);
}

void probe_wire_key(struct probe_wire *w, const char *line)
{
    size_t n = strlen(line);
    char *nk;
    if (!w->on || w->keys_len + n + 1 > WIRE_MAX)
        return;
    nk = realloc(w->keys, w->keys_len + n + 1);
    if (!nk)
        return;
    w->keys = nk;
    memcpy(w->keys + w->keys_len, line, n);
    w->keys[w->keys_len + n] = '\n';
    w->keys_len += n + 1;
}

/* OpenSSL's socket BIO reports what it read and wrote: TLS records on the
 * wire, in order with the plaintext the probe sent and received itself. */
static long bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                   size_t *processed)
{
    struct probe_wire *w = (struct probe_wire *)BIO_get_callback_arg(b);
    (void)len;
    (void)argi;
    (void)argl;
    if (w && ret > 0 && processed && *processed > 0) {
        if (oper == (BIO_CB_READ | BIO_CB_RETURN))
            probe_wire_data(w, MC_DIR_S2C, argp, *processed);
        else if (oper == (BIO_CB_WRITE | BIO_CB_RETURN))
            probe_wire_data(w, MC_DIR_C2S, argp, *processed);
    }
    return ret;
}

bool probe_wire_attach(struct probe_wire *w, SSL *ssl, int fd)
{
    BIO *b;
    if (!w->on)
        return SSL_set_fd(ssl, fd) == 1;
    b = BIO_new_socket(fd, BIO_NOCLOSE);
    if (!b)
        return false;
    BIO_set_callback_ex(b, bio_cb);
    BIO_set_callback_arg(b, (char *)w);
    SSL_set_bio(ssl, b, b);
    return true;
}

/* ---- pcapng ---- */

static void put16be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32be(uint8_t *p, uint32_t v)
{
    put16be(p, v >> 16);
    put16be(p + 2, v & 0xffffu);
}

/* The Internet checksum's one's-complement sum (RFC 1071). */
static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)~acc;
}

/* A pcapng block: type, total length, body, padding to 32 bits, length. */
static bool write_block(FILE *f, uint32_t type, const uint8_t *body, size_t n)
{
    static const uint8_t zero[4] = {0};
    size_t pad = (4 - n % 4) % 4;
    uint32_t total = (uint32_t)(12 + n + pad);
    return fwrite(&type, 4, 1, f) == 1 && fwrite(&total, 4, 1, f) == 1 &&
           (n == 0 || fwrite(body, n, 1, f) == 1) && (pad == 0 || fwrite(zero, pad, 1, f) == 1) &&
           fwrite(&total, 4, 1, f) == 1;
}

bool probe_pcap_header(FILE *f)
{
    /* Section Header Block (byte-order magic, version 1.0, length unknown)
     * and one Interface Description Block: raw IP, microsecond stamps */
    uint8_t shb[16], idb[8];
    uint32_t magic = 0x1A2B3C4Du;
    uint16_t major = 1, minor = 0, lt = LINKTYPE_RAW, res = 0;
    uint32_t snap = PCAPNG_SNAPLEN;
    memcpy(shb, &magic, 4);
    memcpy(shb + 4, &major, 2);
    memcpy(shb + 6, &minor, 2);
    memset(shb + 8, 0xff, 8);
    memcpy(idb, &lt, 2);
    memcpy(idb + 2, &res, 2);
    memcpy(idb + 4, &snap, 4);
    return write_block(f, 0x0A0D0D0Au, shb, sizeof(shb)) && write_block(f, 1u, idb, sizeof(idb));
}

struct seg_out {
    FILE *f;
    const struct probe_wire *w;
    uint32_t next[2]; /* each direction's next sequence number */
    uint8_t *pkt;     /* scratch: EPB body */
    bool ok;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* One TCP segment of direction d in an Enhanced Packet Block. */
static void put_segment(struct seg_out *o, enum mc_dir d, uint64_t ts, uint8_t flags,
                        const uint8_t *pl, size_t n)
{
    const struct sockaddr_storage *src = d == MC_DIR_C2S ? &o->w->client : &o->w->server;
    const struct sockaddr_storage *dst = d == MC_DIR_C2S ? &o->w->server : &o->w->client;
    const bool v6 = src->ss_family == AF_INET6;
    const size_t iph = v6 ? 40 : 20, total = iph + 20 + n;
    uint8_t *epb = o->pkt, *ip = epb + 20, *tcp = ip + iph;
    uint16_t sport, dport;
    uint32_t acc = 0, u;

    if (!o->ok)
        return;
    /* EPB header: interface 0, timestamp (µs, high then low), lengths */
    u = 0;
    memcpy(epb, &u, 4);
    u = (uint32_t)(ts >> 32);
    memcpy(epb + 4, &u, 4);
    u = (uint32_t)ts;
    memcpy(epb + 8, &u, 4);
    u = (uint32_t)total;
    memcpy(epb + 12, &u, 4);
    memcpy(epb + 16, &u, 4);
    memset(ip, 0, iph + 20);
    if (v6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
        const struct sockaddr_in6 *t = (const struct sockaddr_in6 *)dst;
        ip[0] = 0x60;
        put16be(ip + 4, (uint32_t)(20 + n));
        ip[6] = 6;   /* TCP */
        ip[7] = 64;
        memcpy(ip + 8, &s->sin6_addr, 16);
        memcpy(ip + 24, &t->sin6_addr, 16);
        sport = ntohs(s->sin6_port);
        dport = ntohs(t->sin6_port);
        acc = sum16(acc, ip + 8, 32);
    } else {
        const struct sockaddr_in *s = (const struct sockaddr_in *)src;
        const struct sockaddr_in *t = (const struct sockaddr_in *)dst;
        ip[0] = 0x45;
        put16be(ip + 2, (uint32_t)total);
        ip[6] = 0x40;   /* don't fragment */
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, &s->sin_addr, 4);
        memcpy(ip + 16, &t->sin_addr, 4);
        put16be(ip + 10, fold(sum16(0, ip, 20)));
        sport = ntohs(s->sin_port);
        dport = ntohs(t->sin_port);
        acc = sum16(acc, ip + 12, 8);
    }
    put16be(tcp, sport);
    put16be(tcp + 2, dport);
    put32be(tcp + 4, o->next[d]);
    put32be(tcp + 8, (flags & TCP_ACK) ? o->next[!d] : 0);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16be(tcp + 14, 65535);
    if (n)
        memcpy(tcp + 20, pl, n);
    /* pseudo-header: addresses (summed above), protocol, TCP length */
    acc += 6 + (uint32_t)(20 + n);
    put16be(tcp + 16, fold(sum16(acc, tcp, 20 + n)));
    o->next[d] += (uint32_t)n + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
    o->ok = write_block(o->f, 6u, epb, 20 + total);
}

bool probe_wire_write(const struct probe_wire *w, FILE *f)
{
    struct seg_out o;
    size_t at = 0;
    bool synced = false;

    if (!w->on || w->len == 0)
        return true;
    o.f = f;
    o.w = w;
    o.ok = true;
    /* arbitrary initial sequence numbers, one apart per direction */
    o.next[MC_DIR_C2S] = 0x10000000u;
    o.next[MC_DIR_S2C] = 0x20000000u;
    o.pkt = malloc(20 + 40 + 20 + WIRE_MSS);
    if (!o.pkt)
        return false;
    if (w->keys_len > 0) {
        /* Decryption Secrets Block: type "TLSK", length, the key log */
        size_t n = 8 + w->keys_len;
        uint8_t *b = malloc(n);
        uint32_t type = 0x544c534bu, len = (uint32_t)w->keys_len;
        if (!b) {
            free(o.pkt);
            return false;
        }
        memcpy(b, &type, 4);
        memcpy(b + 4, &len, 4);
        memcpy(b + 8, w->keys, w->keys_len);
        o.ok = write_block(f, 0x0000000Au, b, n);
        free(b);
    }
    while (at + 14 <= w->len && o.ok) {
        const uint8_t *h = w->ev + at;
        const enum mc_dir d = h[1] == MC_DIR_S2C ? MC_DIR_S2C : MC_DIR_C2S;
        uint64_t ts;
        uint32_t n;
        memcpy(&ts, h + 2, 8);
        memcpy(&n, h + 10, 4);
        at += 14;
        switch ((enum wire_kind)h[0]) {
        case W_CONNECT:
            put_segment(&o, MC_DIR_C2S, ts, TCP_SYN, NULL, 0);
            put_segment(&o, MC_DIR_S2C, ts, TCP_SYN | TCP_ACK, NULL, 0);
            put_segment(&o, MC_DIR_C2S, ts, TCP_ACK, NULL, 0);
            synced = true;
            break;
        case W_DATA:
            for (uint32_t k = 0; synced && k < n; k += WIRE_MSS) {
                uint32_t m = n - k < WIRE_MSS ? n - k : WIRE_MSS;
                put_segment(&o, d, ts, TCP_ACK | TCP_PSH, w->ev + at + k, m);
            }
            break;
        case W_FIN:
            if (synced)
                put_segment(&o, d, ts, TCP_FIN | TCP_ACK, NULL, 0);
            break;
        }
        at += n;
    }
    free(o.pkt);
    return o.ok && fflush(f) == 0;
}

void probe_wire_free(struct probe_wire *w)
{
    free(w->ev);
    free(w->keys);
    w->ev = NULL;
    w->keys = NULL;
    w->len = w->cap = w->keys_len = 0;
}
