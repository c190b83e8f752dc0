/*
 * NSS key log reader (format in tls_keylog.h).
 *
 * Entries live in one array; an open-addressing hash table of indices
 * (linear probing, at most half full) finds them by (label, client random),
 * so a capture with many connections and a large key log costs one probe
 * per lookup. The line reader copies at most MC_TLS_KEYLOG_LINE_MAX octets
 * of a line into a stack buffer and judges longer lines malformed.
 */
#include "tls_keylog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint8_t random[MC_TLS_RANDOM_LEN];
    uint8_t secret[MC_TLS_SECRET_MAX];
    uint8_t secret_len;
    uint8_t which;
};

struct mc_tls_keylog {
    struct entry *e;
    size_t n, cap;
    uint32_t *slot; /* index + 1; 0: empty */
    size_t nslots;  /* power of two, >= 2 * n */
};

static const char *const labels[MC_TLS_SECRET_COUNT] = {
    "CLIENT_RANDOM",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
};

const char *mc_tls_secret_label(enum mc_tls_secret which)
{
    return (unsigned)which < MC_TLS_SECRET_COUNT ? labels[which] : "?";
}

struct mc_tls_keylog *mc_tls_keylog_new(void)
{
    return calloc(1, sizeof(struct mc_tls_keylog));
}

void mc_tls_keylog_free(struct mc_tls_keylog *kl)
{
    if (!kl)
        return;
    free(kl->e);
    free(kl->slot);
    free(kl);
}

size_t mc_tls_keylog_count(const struct mc_tls_keylog *kl)
{
    return kl ? kl->n : 0;
}

static size_t hash_of(unsigned which, const uint8_t *random)
{
    /* FNV-1a over the label and the first 16 octets of the random */
    uint64_t h = 1469598103934665603u ^ which;
    for (int i = 0; i < 16; i++) {
        h ^= random[i];
        h *= 1099511628211u;
    }
    return (size_t)(h ^ (h >> 29));
}

/* The slot holding (which, random), or the empty slot where it goes. */
static size_t probe(const struct mc_tls_keylog *kl, unsigned which, const uint8_t *random)
{
    size_t mask = kl->nslots - 1, i = hash_of(which, random) & mask;
    while (kl->slot[i] != 0) {
        const struct entry *e = &kl->e[kl->slot[i] - 1];
        if (e->which == which && memcmp(e->random, random, MC_TLS_RANDOM_LEN) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static bool rehash(struct mc_tls_keylog *kl, size_t nslots)
{
    uint32_t *old = kl->slot;
    uint32_t *nw = calloc(nslots, sizeof *nw);
    if (!nw)
        return false;
    kl->slot = nw;
    kl->nslots = nslots;
    for (size_t k = 0; k < kl->n; k++)
        kl->slot[probe(kl, kl->e[k].which, kl->e[k].random)] = (uint32_t)(k + 1);
    free(old);
    return true;
}

/* Returns false when out of memory or full (why says which). */
static bool add(struct mc_tls_keylog *kl, unsigned which, const uint8_t *random,
                const uint8_t *secret, size_t secret_len, const char **why)
{
    size_t i;
    if (kl->nslots == 0 && !rehash(kl, 64))
        goto oom;
    i = probe(kl, which, random);
    if (kl->slot[i] != 0) { /* the newer line wins */
        struct entry *e = &kl->e[kl->slot[i] - 1];
        memcpy(e->secret, secret, secret_len);
        e->secret_len = (uint8_t)secret_len;
        return true;
    }
    if (kl->n >= MC_TLS_KEYLOG_MAX_ENTRIES) {
        *why = "too many secrets in the key logs (limit reached), line skipped";
        return false;
    }
    if (kl->n == kl->cap) {
        size_t cap = kl->cap ? kl->cap * 2 : 16;
        struct entry *ne = realloc(kl->e, cap * sizeof *ne);
        if (!ne)
            goto oom;
        kl->e = ne;
        kl->cap = cap;
    }
    struct entry *e = &kl->e[kl->n];
    memcpy(e->random, random, MC_TLS_RANDOM_LEN);
    memcpy(e->secret, secret, secret_len);
    e->secret_len = (uint8_t)secret_len;
    e->which = (uint8_t)which;
    kl->slot[i] = (uint32_t)(++kl->n);
    if (kl->n * 2 > kl->nslots && !rehash(kl, kl->nslots * 2)) {
        kl->slot[i] = 0; /* the old table is intact; forget the new entry */
        kl->n--;
        goto oom;
    }
    return true;
oom:
    *why = "out of memory";
    return false;
}

size_t mc_tls_keylog_find(const struct mc_tls_keylog *kl, enum mc_tls_secret which,
                          const uint8_t client_random[MC_TLS_RANDOM_LEN],
                          uint8_t out[MC_TLS_SECRET_MAX])
{
    size_t i;
    if (!kl || kl->nslots == 0 || (unsigned)which >= MC_TLS_SECRET_COUNT)
        return 0;
    i = probe(kl, (unsigned)which, client_random);
    if (kl->slot[i] == 0)
        return 0;
    const struct entry *e = &kl->e[kl->slot[i] - 1];
    memcpy(out, e->secret, e->secret_len);
    return e->secret_len;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes n hex digits into out (n/2 octets); false if n is odd or a
 * digit is not hex. */
static bool unhex(const uint8_t *p, size_t n, uint8_t *out)
{
    if (n % 2)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(p[i]), lo = hexval(p[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Parses one line (without its newline). Returns NULL when it was kept or
 * ignored, else why it is malformed. */
static const char *parse_line(struct mc_tls_keylog *kl, const uint8_t *p, size_t n)
{
    const uint8_t *field[3];
    size_t flen[3], nf = 0, i = 0;
    uint8_t random[MC_TLS_RANDOM_LEN], secret[MC_TLS_SECRET_MAX];
    int which = -1;
    const char *why = NULL;

    if (n > 0 && p[n - 1] == '\r') /* key logs written on Windows */
        n--;
    while (i < n && is_blank(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return NULL;
    if (memchr(p, 0, n))
        return "NUL octet in line";
    while (i < n) {
        size_t start = i;
        while (i < n && !is_blank(p[i]))
            i++;
        if (nf == 3)
            return "more than three fields";
        field[nf] = p + start;
        flen[nf++] = i - start;
        while (i < n && is_blank(p[i]))
            i++;
    }
    for (int k = 0; k < MC_TLS_SECRET_COUNT; k++)
        if (flen[0] == strlen(labels[k]) && memcmp(field[0], labels[k], flen[0]) == 0)
            which = k;
    if (which < 0) /* a label we do not use: fine */
        return NULL;
    if (nf != 3)
        return "expected: label, client random, secret";
    if (flen[1] != 2 * MC_TLS_RANDOM_LEN || !unhex(field[1], flen[1], random))
        return "client random is not 64 hex digits";
    if (which == MC_TLS_SECRET_MASTER) {
        if (flen[2] != 2 * 48 || !unhex(field[2], flen[2], secret))
            return "master secret is not 96 hex digits";
    } else if ((flen[2] != 64 && flen[2] != 96) || !unhex(field[2], flen[2], secret)) {
        return "traffic secret is not 64 or 96 hex digits";
    }
    if (!add(kl, (unsigned)which, random, secret, flen[2] / 2, &why))
        return why;
    return NULL;
}

static void report(mc_tls_keylog_error_fn err, void *ctx, const char *name, unsigned long line,
                   const char *why)
{
    char where[512];
    if (!err)
        return;
    snprintf(where, sizeof where, "%s:%lu", name, line);
    err(ctx, where, why);
}

/* Splits text into lines through a bounded buffer, so that a file is read
 * in blocks and a huge line (or an endless FIFO) is never held whole. */
struct line_reader {
    struct mc_tls_keylog *kl;
    const char *name;
    mc_tls_keylog_error_fn err;
    void *err_ctx;
    unsigned long line;
    long bad;
    bool overflow, oom;
    size_t n;
    uint8_t buf[MC_TLS_KEYLOG_LINE_MAX];
};

static void end_line(struct line_reader *r)
{
    const char *why = r->overflow ? "line too long" : parse_line(r->kl, r->buf, r->n);
    r->line++;
    if (why) {
        r->bad++;
        report(r->err, r->err_ctx, r->name, r->line, why);
        if (strcmp(why, "out of memory") == 0)
            r->oom = true;
    }
    r->n = 0;
    r->overflow = false;
}

static void feed_lines(struct line_reader *r, const uint8_t *p, size_t len)
{
    while (len > 0 && !r->oom) {
        const uint8_t *nl = memchr(p, '\n', len);
        size_t piece = nl ? (size_t)(nl - p) : len;
        if (!r->overflow) {
            if (piece > sizeof r->buf - r->n) {
                r->overflow = true;
            } else {
                memcpy(r->buf + r->n, p, piece);
                r->n += piece;
            }
        }
        if (!nl)
            return;
        end_line(r);
        p += piece + 1;
        len -= piece + 1;
    }
}

static long finish_lines(struct line_reader *r)
{
    if (!r->oom && (r->n > 0 || r->overflow)) /* a last line without newline */
        end_line(r);
    return r->oom ? -1 : r->bad;
}

/* The line reader lives on the stack (about 1 KiB): loading allocates
 * nothing but the key log's own table, so the only way to run out of
 * memory is add(), which reports "out of memory" through err. */
long mc_tls_keylog_load_mem(struct mc_tls_keylog *kl, const char *name, const uint8_t *text,
                            size_t len, mc_tls_keylog_error_fn err, void *err_ctx)
{
    struct line_reader r = {.kl = kl, .name = name, .err = err, .err_ctx = err_ctx};
    if (!kl)
        return -1;
    feed_lines(&r, text, len);
    return finish_lines(&r);
}

long mc_tls_keylog_load_file(struct mc_tls_keylog *kl, const char *path,
                             mc_tls_keylog_error_fn err, void *err_ctx)
{
    uint8_t block[16384];
    struct line_reader r = {.kl = kl, .name = path, .err = err, .err_ctx = err_ctx};
    long ret;
    size_t got;
    FILE *f;

    if (!kl)
        return -1;
    f = fopen(path, "rb");
    if (!f) {
        report(err, err_ctx, path, 0, strerror(errno));
        return -1;
    }
    while ((got = fread(block, 1, sizeof block, f)) > 0 && !r.oom)
        feed_lines(&r, block, got);
    if (ferror(f)) {
        report(err, err_ctx, path, r.line + 1, strerror(errno));
        ret = -1;
    } else {
        ret = finish_lines(&r);
    }
    fclose(f);
    return ret;
}
