/*
 * Streaming reader of classic pcap and pcapng.
 *
 * Formats:
 *   classic pcap: https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/
 *     24-octet file header (magic a1b2c3d4 = microseconds, a1b23c4d =
 *     nanoseconds, in the writer's byte order), then 16-octet record headers
 *     (ts_sec, ts_frac, caplen, origlen) each followed by caplen octets.
 *   pcapng: https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/
 *     blocks of (type, total length, body, total length again), every
 *     length a multiple of 4. A Section Header Block (0x0A0D0D0A, a
 *     palindrome so it reads the same in both byte orders) carries the
 *     byte-order magic 1A2B3C4D and starts a new section: new byte order,
 *     interfaces numbered from 0 again.
 *
 * Buffering: one buffer, allocated at open (1 MiB, read() fills as much of
 * it as the kernel gives, so small packets cost no syscall each) and grown
 * only when a single record is larger than it, up to MC_PCAP_RECORD_MAX.
 * A record is always whole in the buffer before it is parsed, so the
 * parsing code below never deals with a record split across reads. Over
 * memory the "buffer" is the caller's bytes and nothing is copied.
 *
 * Errors stick: after MC_PCAP_ERROR every call returns MC_PCAP_ERROR.
 */
#include "capture/pcap_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)           /* initial buffer and typical read size */
#define IFACE_MAX 65536u           /* pcapng interfaces per section */

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_PB 0x00000002u      /* obsolete Packet Block */
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_DSB 0x0000000Au      /* Decryption Secrets Block */
#define PCAPNG_BOM 0x1A2B3C4Du

#define OPT_ENDOFOPT 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

enum fmt { FMT_NONE, FMT_PCAP, FMT_PCAPNG };

struct iface {
    uint32_t linktype;
    uint32_t snaplen;       /* 0: no limit */
    /* timestamp units -> ns: ns = units * mul / div (decimal resolutions),
     * or a binary fraction when shift != 0 */
    uint64_t mul, div;
    unsigned shift;         /* 2^-shift seconds per unit when non-zero */
    int64_t offset_s;       /* if_tsoffset, seconds */
};

struct mc_pcap_reader {
    /* private */
    int fd;
    bool mem;               /* buf is the caller's, never freed or grown */
    bool eof;
    uint8_t *buf;
    size_t cap, start, end; /* valid bytes: buf[start, end) */
    uint64_t pos;           /* input offset of buf[start] */
    const char *name;

    enum fmt fmt;
    bool swap;              /* file byte order differs from the host's */
    bool nsec;              /* classic pcap: nanosecond fractions */
    uint32_t linktype;      /* classic pcap */
    uint64_t frame;         /* packets delivered so far */

    struct iface *ifs;      /* pcapng interfaces of the current section */
    uint32_t nifs, ifcap;

    bool failed;
    uint64_t err_off;
    char err[256];

    mc_pcap_secrets_fn on_secrets;
    void *secrets_ctx;
};

void mc_pcap_on_secrets(struct mc_pcap_reader *r, mc_pcap_secrets_fn fn, void *ctx)
{
    r->on_secrets = fn;
    r->secrets_ctx = ctx;
}

/* ---- byte order ------------------------------------------------------- */

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static uint16_t get16(const struct mc_pcap_reader *r, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return r->swap ? (uint16_t)((v >> 8) | (v << 8)) : v;
}

static uint32_t get32(const struct mc_pcap_reader *r, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return r->swap ? bswap32(v) : v;
}

static uint64_t get64(const struct mc_pcap_reader *r, const uint8_t *p)
{
    /* pcapng stores 64-bit values in section byte order as one integer */
    uint64_t v;
    memcpy(&v, p, 8);
    if (r->swap)
        v = ((uint64_t)bswap32((uint32_t)v) << 32) | bswap32((uint32_t)(v >> 32));
    return v;
}

/* ---- errors ----------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static enum mc_pcap_status fail(struct mc_pcap_reader *r, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    r->failed = true;
    r->err_off = off;
    return MC_PCAP_ERROR;
}

/* ---- input ------------------------------------------------------------ */

/* Make n octets (n <= MC_PCAP_RECORD_MAX) available at buf[start]. Returns
 * the number available: less than n only at end of input or on a read
 * error (then r->failed is set). */
static size_t ensure(struct mc_pcap_reader *r, size_t n)
{
    size_t have = r->end - r->start;
    if (have >= n || r->eof || r->failed)
        return have;
    if (n > r->cap) {
        /* one record larger than the buffer: grow once, to what it needs
         * at least and to double the buffer so that a run of big records
         * does not grow it at every one */
        size_t ncap = r->cap * 2 > n ? r->cap * 2 : n;
        if (ncap > MC_PCAP_RECORD_MAX)
            ncap = MC_PCAP_RECORD_MAX;
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, have);
            r->start = 0;
            r->end = have;
        }
        uint8_t *nb = realloc(r->buf, ncap);
        if (!nb) {
            fail(r, r->pos, "out of memory for a record of %zu octets", n);
            return have;
        }
        r->buf = nb;
        r->cap = ncap;
    } else if (r->cap - r->start < n || r->cap - r->end < r->cap / 4) {
        /* Slide the partial record to the front so the next read() can be
         * large; at most one record is moved. */
        memmove(r->buf, r->buf + r->start, have);
        r->start = 0;
        r->end = have;
    }
    while (r->end - r->start < n) {
        ssize_t k = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            fail(r, r->pos + (r->end - r->start), "read error in %s: %s", r->name,
                 strerror(errno));
            break;
        }
        if (k == 0) {
            r->eof = true;
            break;
        }
        r->end += (size_t)k;
    }
    return r->end - r->start;
}

static void consume(struct mc_pcap_reader *r, size_t n)
{
    r->start += n;
    r->pos += n;
}

/* ---- open/close ------------------------------------------------------- */

static struct mc_pcap_reader *alloc_reader(const char *name)
{
    struct mc_pcap_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->name = name ? name : "capture";
    r->fd = -1;
    return r;
}

struct mc_pcap_reader *mc_pcap_open_fd(int fd, const char *name)
{
    struct mc_pcap_reader *r = alloc_reader(name);
    if (!r)
        return NULL;
    r->buf = malloc(CHUNK);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    r->cap = CHUNK;
    r->fd = fd;
    return r;
}

struct mc_pcap_reader *mc_pcap_open_fd_prefix(int fd, const uint8_t *prefix, size_t n,
                                              const char *name)
{
    struct mc_pcap_reader *r = mc_pcap_open_fd(fd, name);
    if (!r)
        return NULL;
    if (n > r->cap)
        n = r->cap;   /* callers pass a magic's few octets */
    memcpy(r->buf, prefix, n);
    r->end = n;
    return r;
}

struct mc_pcap_reader *mc_pcap_open_mem(const uint8_t *buf, size_t len, const char *name)
{
    struct mc_pcap_reader *r = alloc_reader(name);
    if (!r)
        return NULL;
    /* the cast is confined here: in memory mode buf is only ever read */
    r->buf = (uint8_t *)(uintptr_t)buf;
    r->cap = r->end = len;
    r->mem = true;
    r->eof = true;
    return r;
}

void mc_pcap_close(struct mc_pcap_reader *r)
{
    if (!r)
        return;
    if (!r->mem)
        free(r->buf);
    free(r->ifs);
    free(r);
}

const char *mc_pcap_error(const struct mc_pcap_reader *r)
{
    return r->failed ? r->err : "no error";
}

uint64_t mc_pcap_error_offset(const struct mc_pcap_reader *r)
{
    return r->err_off;
}

const char *mc_pcap_format(const struct mc_pcap_reader *r)
{
    return r->fmt == FMT_PCAP ? "pcap" : r->fmt == FMT_PCAPNG ? "pcapng" : NULL;
}

uint64_t mc_pcap_offset(const struct mc_pcap_reader *r)
{
    return r->pos;
}

bool mc_pcap_magic(const uint8_t *p, size_t n)
{
    static const uint8_t magics[5][4] = {
        {0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1},  /* pcap, microseconds */
        {0xa1, 0xb2, 0x3c, 0x4d}, {0x4d, 0x3c, 0xb2, 0xa1},  /* pcap, nanoseconds */
        {0x0a, 0x0d, 0x0d, 0x0a},                            /* pcapng SHB */
    };
    if (!p || n < 4)
        return false;
    for (size_t i = 0; i < 5; i++)
        if (memcmp(p, magics[i], 4) == 0)
            return true;
    return false;
}

/* ---- headers ---------------------------------------------------------- */

/* The first octets decide the format. */
static enum mc_pcap_status read_file_header(struct mc_pcap_reader *r)
{
    size_t have = ensure(r, 24);
    if (r->failed)
        return MC_PCAP_ERROR;
    if (have < 4)
        return fail(r, 0, "%s is not a capture: %s", r->name,
                    have == 0 ? "it is empty" : "shorter than a pcap magic number");
    const uint8_t *p = r->buf + r->start;
    if (p[0] == 0x0a && p[1] == 0x0d && p[2] == 0x0d && p[3] == 0x0a) {
        r->fmt = FMT_PCAPNG;
        return MC_PCAP_PACKET;  /* the SHB is read as the first block */
    }
    uint32_t m;
    memcpy(&m, p, 4);
    if (m == 0xa1b2c3d4u || m == 0xa1b23c4du) {
        r->swap = false;
    } else if (m == 0xd4c3b2a1u || m == 0x4d3cb2a1u) {
        r->swap = true;
        m = bswap32(m);
    } else {
        return fail(r, 0,
                    "%s is not a pcap or pcapng capture (first octets %02x %02x %02x %02x)",
                    r->name, p[0], p[1], p[2], p[3]);
    }
    r->nsec = m == 0xa1b23c4du;
    r->fmt = FMT_PCAP;
    if (have < 24)
        return fail(r, 0, "pcap file header cut short: 24 octets needed, %zu present", have);
    uint16_t major = get16(r, p + 4);
    if (major != 2)
        return fail(r, 0, "pcap file header: unsupported version %u.%u", major,
                    get16(r, p + 6));
    /* The upper bits of the link-type field carry FCS information
     * (LT_FCS_* in libpcap); the link type proper is the lower 26 bits. */
    r->linktype = get32(r, p + 20) & 0x03FFFFFFu;
    consume(r, 24);
    return MC_PCAP_PACKET;
}

/* ---- classic pcap ----------------------------------------------------- */

static enum mc_pcap_status next_pcap(struct mc_pcap_reader *r, struct mc_packet *pkt)
{
    uint64_t frame = r->frame + 1;
    size_t have = ensure(r, 16);
    if (r->failed)
        return MC_PCAP_ERROR;
    if (have == 0)
        return MC_PCAP_END;
    if (have < 16)
        return fail(r, r->pos,
                    "record of frame %llu cut short: 16-octet record header, %zu octets present",
                    (unsigned long long)frame, have);
    const uint8_t *p = r->buf + r->start;
    uint32_t caplen = get32(r, p + 8);
    if (caplen > MC_PCAP_RECORD_MAX - 16)
        return fail(r, r->pos,
                    "record of frame %llu announces %lu captured octets, more than the "
                    "limit of %u",
                    (unsigned long long)frame, (unsigned long)caplen, MC_PCAP_RECORD_MAX - 16);
    have = ensure(r, 16 + (size_t)caplen);
    if (r->failed)
        return MC_PCAP_ERROR;
    if (have < 16 + (size_t)caplen)
        return fail(r, r->pos, "record of frame %llu cut short: %lu octets announced, %zu present",
                    (unsigned long long)frame, (unsigned long)caplen, have - 16);
    p = r->buf + r->start;  /* ensure() may have moved the buffer */
    uint64_t sec = get32(r, p), frac = get32(r, p + 4);
    uint32_t origlen = get32(r, p + 12);
    pkt->frame = frame;
    pkt->ts_ns = sec * 1000000000u + (r->nsec ? frac : frac * 1000u);
    pkt->linktype = r->linktype;
    pkt->interface = 0;
    pkt->caplen = caplen;
    /* A writer that puts origlen < caplen is wrong, but the octets are
     * there; the decoder takes origlen >= caplen as given. */
    pkt->origlen = origlen < caplen ? caplen : origlen;
    pkt->data = p + 16;
    r->frame = frame;
    consume(r, 16 + (size_t)caplen);
    return MC_PCAP_PACKET;
}

/* ---- pcapng ----------------------------------------------------------- */

/* Units of an interface's timestamps to nanoseconds. */
static uint64_t units_to_ns(const struct iface *ifc, uint64_t t)
{
    uint64_t ns;
    if (ifc->shift) {
        /* 2^-shift s per unit: whole seconds, then the fraction; the
         * fraction is brought to 32 bits first so that fraction * 1e9
         * cannot overflow (precision lost is below 1 ns). */
        unsigned s = ifc->shift;
        uint64_t whole = s >= 64 ? 0 : t >> s;
        uint64_t frac = s >= 64 ? t : t & ((UINT64_C(1) << s) - 1);
        if (s > 32) {
            frac = s - 32 >= 64 ? 0 : frac >> (s - 32);
            s = 32;
        }
        ns = whole * 1000000000u + ((frac * 1000000000u) >> s);
    } else {
        ns = ifc->div > 1 ? t / ifc->div : t * ifc->mul;
    }
    /* unsigned wrap-around gives the right answer for negative offsets */
    return ns + (uint64_t)ifc->offset_s * 1000000000u;
}

static void set_tsresol(struct iface *ifc, uint8_t v)
{
    ifc->mul = 1;
    ifc->div = 1;
    ifc->shift = 0;
    if (v & 0x80) {
        ifc->shift = v & 0x7f;
        if (ifc->shift == 0)   /* 2^0: whole seconds */
            ifc->mul = 1000000000u;
        return;
    }
    if (v <= 9) {
        for (unsigned i = v; i < 9; i++)
            ifc->mul *= 10;
    } else if (v - 9 <= 19) {
        for (unsigned i = 9; i < v; i++)
            ifc->div *= 10;
    } else {
        ifc->mul = 0;   /* finer than 10^-28 s: every value rounds to 0 ns */
    }
}

static enum mc_pcap_status read_idb(struct mc_pcap_reader *r, const uint8_t *b, uint32_t len,
                                    uint64_t off)
{
    if (len < 20)
        return fail(r, off, "interface description block after frame %llu is %lu octets, "
                    "fewer than the 20 it needs",
                    (unsigned long long)r->frame, (unsigned long)len);
    if (r->nifs >= IFACE_MAX)
        return fail(r, off, "more than %u interfaces in one pcapng section", IFACE_MAX);
    if (r->nifs == r->ifcap) {
        uint32_t ncap = r->ifcap ? r->ifcap * 2 : 8;
        struct iface *n = realloc(r->ifs, ncap * sizeof(*n));
        if (!n)
            return fail(r, off, "out of memory for %lu interfaces", (unsigned long)ncap);
        r->ifs = n;
        r->ifcap = ncap;
    }
    struct iface *ifc = &r->ifs[r->nifs];
    ifc->linktype = get16(r, b + 8);
    ifc->snaplen = get32(r, b + 12);
    ifc->offset_s = 0;
    set_tsresol(ifc, 6);
    /* options: code(2) length(2) value padded to 4, until opt_endofopt or
     * the end of the block body */
    uint32_t o = 16, stop = len - 4;
    while (o + 4 <= stop) {
        uint16_t code = get16(r, b + o), olen = get16(r, b + o + 2);
        if (code == OPT_ENDOFOPT)
            break;
        uint32_t padded = ((uint32_t)olen + 3u) & ~3u;
        if (padded > stop - o - 4)
            return fail(r, off, "interface description block %lu: option %u of %u octets "
                        "runs past the end of the block",
                        (unsigned long)r->nifs, code, olen);
        const uint8_t *v = b + o + 4;
        if (code == OPT_IF_TSRESOL && olen == 1)
            set_tsresol(ifc, v[0]);
        else if (code == OPT_IF_TSOFFSET && olen == 8)
            ifc->offset_s = (int64_t)get64(r, v);
        o += 4 + padded;
    }
    r->nifs++;
    return MC_PCAP_PACKET;
}

static const struct iface *iface_of(struct mc_pcap_reader *r, uint32_t id)
{
    return id < r->nifs ? &r->ifs[id] : NULL;
}

/* How error messages name a block; only called on the error path. */
static const char *blockname(char *w, size_t n, uint32_t type, bool is_pkt, uint64_t frames)
{
    if (is_pkt)
        snprintf(w, n, "block of frame %llu", (unsigned long long)frames + 1);
    else
        snprintf(w, n, "block of type 0x%08lx after frame %llu", (unsigned long)type,
                 (unsigned long long)frames);
    return w;
}

static enum mc_pcap_status next_pcapng(struct mc_pcap_reader *r, struct mc_packet *pkt)
{
    for (;;) {
        uint64_t frame = r->frame + 1;
        uint64_t off = r->pos;
        size_t have = ensure(r, 12);
        if (r->failed)
            return MC_PCAP_ERROR;
        if (have == 0)
            return MC_PCAP_END;
        const uint8_t *p = r->buf + r->start;
        if (have < 8) {
            char w4[64];
            uint32_t t4 = have >= 4 ? get32(r, p) : 0;
            return fail(r, off, "%s cut short: %zu octets of its 8-octet header present",
                        have >= 4 ? blockname(w4, sizeof(w4), t4,
                                              t4 == PCAPNG_EPB || t4 == PCAPNG_SPB ||
                                                  t4 == PCAPNG_PB,
                                              r->frame)
                                  : "pcapng block",
                        have);
        }
        uint32_t type;
        memcpy(&type, p, 4);  /* the SHB type is a palindrome: no byte order needed */
        if (type == PCAPNG_SHB) {
            if (have < 12)
                return fail(r, off, "section header block cut short: %zu octets present", have);
            uint32_t bom;
            memcpy(&bom, p + 8, 4);
            if (bom == PCAPNG_BOM)
                r->swap = false;
            else if (bom == bswap32(PCAPNG_BOM))
                r->swap = true;
            else
                return fail(r, off, "section header block with a bad byte-order magic "
                            "%02x %02x %02x %02x", p[8], p[9], p[10], p[11]);
            r->nifs = 0;  /* interface ids restart in each section */
        } else if (off == 0) {
            return fail(r, 0, "pcapng file does not start with a section header block");
        } else {
            type = get32(r, p);
        }
        uint32_t len = get32(r, p + 4);
        bool is_pkt = type == PCAPNG_EPB || type == PCAPNG_SPB || type == PCAPNG_PB;
        char w[64];
#define what blockname(w, sizeof(w), type, is_pkt, r->frame)
        if (len < 12 || len % 4 != 0)
            return fail(r, off, "%s has a bad length %lu (it must be a multiple of 4 and at "
                        "least 12)", what, (unsigned long)len);
        if (len > MC_PCAP_RECORD_MAX)
            return fail(r, off, "%s announces %lu octets, more than the limit of %u", what,
                        (unsigned long)len, MC_PCAP_RECORD_MAX);
        have = ensure(r, len);
        if (r->failed)
            return MC_PCAP_ERROR;
        if (have < len)
            return fail(r, off, "%s cut short: %lu octets announced, %zu present", what,
                        (unsigned long)len, have);
        const uint8_t *b = r->buf + r->start;
        uint32_t trail = get32(r, b + len - 4);
        if (trail != len)
            return fail(r, off, "%s: its trailing length %lu differs from its length %lu", what,
                        (unsigned long)trail, (unsigned long)len);
        const struct iface *ifc;
        uint32_t id, caplen, origlen, hdr;
        uint64_t ts = 0;
        switch (type) {
        case PCAPNG_SHB:
            if (len < 28)
                return fail(r, off, "section header block of %lu octets, fewer than the 28 "
                            "it needs", (unsigned long)len);
            if (get16(r, b + 12) != 1)
                return fail(r, off, "section header block: unsupported pcapng version %u.%u",
                            get16(r, b + 12), get16(r, b + 14));
            consume(r, len);
            continue;
        case PCAPNG_IDB:
            if (read_idb(r, b, len, off) == MC_PCAP_ERROR)
                return MC_PCAP_ERROR;
            consume(r, len);
            continue;
        case PCAPNG_EPB:
        case PCAPNG_PB:
            hdr = 28;
            if (len < hdr + 4)
                return fail(r, off, "%s is %lu octets, fewer than the %lu it needs", what,
                            (unsigned long)len, (unsigned long)hdr + 4);
            id = type == PCAPNG_EPB ? get32(r, b + 8) : get16(r, b + 8);
            ts = ((uint64_t)get32(r, b + 12) << 32) | get32(r, b + 16);
            caplen = get32(r, b + 20);
            origlen = get32(r, b + 24);
            if (caplen > len - hdr - 4)
                return fail(r, off, "%s announces %lu captured octets, more than the %lu its "
                            "block holds", what, (unsigned long)caplen,
                            (unsigned long)(len - hdr - 4));
            break;
        case PCAPNG_SPB:
            hdr = 12;
            if (len < 16)
                return fail(r, off, "%s is %lu octets, fewer than the 16 it needs", what,
                            (unsigned long)len);
            id = 0;
            origlen = get32(r, b + 8);
            /* no caplen field: what the snaplen kept, bounded by the block */
            caplen = len - 16;
            if (origlen < caplen)
                caplen = origlen;
            if (r->nifs > 0 && r->ifs[0].snaplen && r->ifs[0].snaplen < caplen)
                caplen = r->ifs[0].snaplen;
            break;
        case PCAPNG_DSB:
            /* type, length, the secrets padded to 32 bits, options, trailing
             * length: the secrets must fit inside the block */
            if (len < 20)
                return fail(r, off, "%s is %lu octets, fewer than the 20 it needs", what,
                            (unsigned long)len);
            caplen = get32(r, b + 12);
            if (caplen > len - 20)
                return fail(r, off, "%s announces %lu octets of secrets, more than the %lu its "
                            "block holds", what, (unsigned long)caplen, (unsigned long)(len - 20));
            if (r->on_secrets)
                r->on_secrets(r->secrets_ctx, get32(r, b + 8), b + 16, caplen);
            consume(r, len);
            continue;
        default:
            /* NRB, ISB, custom and future blocks: nothing for us */
            consume(r, len);
            continue;
        }
        ifc = iface_of(r, id);
        if (!ifc)
            return fail(r, off, "%s names interface %lu, but its section describes %lu "
                        "interface(s)", what,
                        (unsigned long)id, (unsigned long)r->nifs);
        pkt->frame = frame;
        pkt->ts_ns = type == PCAPNG_SPB ? 0 : units_to_ns(ifc, ts);
        pkt->linktype = ifc->linktype;
        pkt->interface = id;
        pkt->caplen = caplen;
        pkt->origlen = origlen < caplen ? caplen : origlen;
        pkt->data = b + hdr;
        r->frame = frame;
        consume(r, len);
        return MC_PCAP_PACKET;
#undef what
    }
}

enum mc_pcap_status mc_pcap_next(struct mc_pcap_reader *r, struct mc_packet *pkt)
{
    if (r->failed)
        return MC_PCAP_ERROR;
    if (r->fmt == FMT_NONE && read_file_header(r) == MC_PCAP_ERROR)
        return MC_PCAP_ERROR;
    return r->fmt == FMT_PCAP ? next_pcap(r, pkt) : next_pcapng(r, pkt);
}
