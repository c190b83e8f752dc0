/* Transcript reader and writer; the format is described in transcript.h
 * and docs/transcript.md. */
#include "transcript.h"

#include <stdlib.h>
#include <string.h>

struct reader {
    const struct mc_transcript_handler *h;
    unsigned errors;
    uint8_t *dec;          /* decode buffer, grows to the longest record */
    size_t dec_cap;
    bool out_of_memory;    /* reading stopped */
};

static void err(struct reader *r, uint64_t line, uint64_t col, const char *msg)
{
    r->errors++;
    if (r->h->error)
        r->h->error(r->h->ctx, line, col, msg);
}

static void no_memory(struct reader *r, uint64_t line)
{
    err(r, line, 0, "out of memory: the rest of the file is not read");
    r->out_of_memory = true;
    if (r->h->out_of_memory)
        r->h->out_of_memory(r->h->ctx, line);
}

static bool reading(const struct reader *r)
{
    return r->errors < MC_TRANSCRIPT_MAX_ERRORS && !r->out_of_memory;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool parse_dir(const char *s, size_t n, enum mc_dir *d)
{
    if (n == 1 && (s[0] == 'C' || s[0] == 'c')) { *d = MC_DIR_C2S; return true; }
    if (n == 1 && (s[0] == 'S' || s[0] == 's')) { *d = MC_DIR_S2C; return true; }
    return false;
}

/* Splits "word rest" at the first run of spaces. */
static size_t word(const char *s, size_t n, size_t i, size_t *start)
{
    while (i < n && s[i] == ' ')
        i++;
    *start = i;
    while (i < n && s[i] != ' ')
        i++;
    return i;
}

static void do_data(struct reader *r, const char *s, size_t n, uint64_t line)
{
    enum mc_dir d = s[0] == 'C' ? MC_DIR_C2S : MC_DIR_S2C;
    size_t o = 0;
    if (n < 2 || s[1] != ':') {
        err(r, line, 2, "expected ':' after the direction letter");
        return;
    }
    /* "C: data": the one space after ':' is part of the syntax */
    size_t i = 2;
    if (i < n && s[i] == ' ')
        i++;
    if (n > r->dec_cap) {
        uint8_t *nb = realloc(r->dec, n);
        if (!nb) {
            no_memory(r, line);
            return;
        }
        r->dec = nb;
        r->dec_cap = n;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\\') {
            /* a run up to the next backslash: validated and copied whole */
            const char *bs = memchr(s + i, '\\', n - i);
            size_t e = bs ? (size_t)(bs - s) : n;
            unsigned bad = 0;
            for (size_t k = i; k < e; k++)
                bad |= (unsigned)((unsigned char)s[k] - 0x20u) > 0x5eu;
            if (bad) {
                while ((unsigned)((unsigned char)s[i] - 0x20u) <= 0x5eu)
                    i++;
                err(r, line, i + 1, "raw control or 8-bit octet in data (escape it as \\xHH)");
                return;
            }
            memcpy(r->dec + o, s + i, e - i);
            o += e - i;
            i = e - 1;
            continue;
        }
        if (i + 1 >= n) {
            err(r, line, i + 1, "escape cut off at the end of the line");
            return;
        }
        switch (s[++i]) {
        case 'r': r->dec[o++] = '\r'; break;
        case 'n': r->dec[o++] = '\n'; break;
        case 't': r->dec[o++] = '\t'; break;
        case '\\': r->dec[o++] = '\\'; break;
        case 'x': {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                err(r, line, i + 1, "\\x needs two hex digits");
                return;
            }
            r->dec[o++] = (uint8_t)(hi * 16 + lo);
            i += 2;
            break;
        }
        default:
            err(r, line, i + 1, "unknown escape (use \\r \\n \\t \\\\ or \\xHH)");
            return;
        }
    }
    if (o > 0 && r->h->data)
        r->h->data(r->h->ctx, d, r->dec, o, line);
}

/* Index of the first non-space octet at or after i (n if none). */
static size_t skip_sp(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

static bool rest_blank(const char *s, size_t n, size_t i)
{
    return skip_sp(s, n, i) == n;
}

static void do_marker(struct reader *r, const char *s, size_t n, uint64_t line)
{
    size_t a, e = word(s, n, 1, &a), b, f;
    size_t kl = e - a;
    const char *k = s + a;
    enum mc_dir d;

    f = word(s, n, e, &b);
    if (kl == 3 && memcmp(k, "tls", 3) == 0) {
        bool dec = false;
        if (!rest_blank(s, n, f)) {
            err(r, line, skip_sp(s, n, f) + 1, "unexpected text after '! tls'");
            return;
        }
        if (f > b) {
            if (f - b == 9 && memcmp(s + b, "decrypted", 9) == 0)
                dec = true;
            else {
                err(r, line, b + 1, "'! tls' takes only the word 'decrypted'");
                return;
            }
        }
        if (r->h->tls)
            r->h->tls(r->h->ctx, dec, line);
        return;
    }
    if ((kl == 3 && memcmp(k, "gap", 3) == 0) || (kl == 5 && memcmp(k, "close", 5) == 0)) {
        if (!parse_dir(s + b, f - b, &d)) {
            err(r, line, b + 1, "expected direction C or S");
            return;
        }
        if (kl == 5) {
            if (!rest_blank(s, n, f)) {
                err(r, line, skip_sp(s, n, f) + 1, "unexpected text after '! close'");
                return;
            }
            if (r->h->close)
                r->h->close(r->h->ctx, d, line);
            return;
        }
        size_t c, g = word(s, n, f, &c);
        uint64_t num = 0;
        if (g == c || !mc_parse_u64((const uint8_t *)s + c, g - c, UINT64_MAX / 2, &num) || num == 0) {
            err(r, line, c + 1, "'! gap' needs a positive number of octets");
            return;
        }
        if (!rest_blank(s, n, g)) {
            err(r, line, skip_sp(s, n, g) + 1, "unexpected text after '! gap'");
            return;
        }
        if (r->h->gap)
            r->h->gap(r->h->ctx, d, num, line);
        return;
    }
    err(r, line, a + 1, "unknown marker (expected tls, gap or close)");
}

static void do_directive(struct reader *r, const char *s, size_t n, uint64_t line)
{
    char key[64], val[512];
    size_t a, e = word(s, n, 1, &a), b;
    if (e == a || e - a >= sizeof(key)) {
        err(r, line, a + 1, "directive needs a key: '@ key value'");
        return;
    }
    memcpy(key, s + a, e - a);
    key[e - a] = '\0';
    b = e;
    while (b < n && s[b] == ' ')
        b++;
    if (n - b >= sizeof(val)) {
        err(r, line, b + 1, "directive value too long");
        return;
    }
    for (size_t i = a; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) {
            err(r, line, i + 1, "control character in a directive");
            return;
        }
    }
    memcpy(val, s + b, n - b);
    val[n - b] = '\0';
    if (r->h->directive)
        r->h->directive(r->h->ctx, key, val, line);
}

static void do_line(struct reader *r, const char *s, size_t n, uint64_t line)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (rest_blank(s, n, 0) || s[0] == '#')
        return;
    switch (s[0]) {
    case 'C':
    case 'S':
        do_data(r, s, n, line);
        return;
    case '!':
        do_marker(r, s, n, line);
        return;
    case '@':
        do_directive(r, s, n, line);
        return;
    default:
        err(r, line, 1, "not a transcript record (expected 'C:', 'S:', '!', '@' or '#')");
    }
}

unsigned mc_transcript_read_mem(const uint8_t *buf, size_t len, const struct mc_transcript_handler *h)
{
    struct reader r = {h, 0, NULL, 0, false};
    uint64_t line = 0;
    size_t i = 0;
    while (i < len && reading(&r)) {
        const uint8_t *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) : len;
        line++;
        if (e - i > MC_TRANSCRIPT_LINE_MAX)
            err(&r, line, MC_TRANSCRIPT_LINE_MAX, "line too long");
        else
            do_line(&r, (const char *)buf + i, e - i, line);
        i = nl ? e + 1 : len;
    }
    free(r.dec);
    return r.errors;
}

/* Appends n octets to the line being assembled, unless it is over the
 * limit (then it is skipped to its end, never held: garbage cannot grow
 * memory). Returns false on allocation failure. */
static bool line_append(struct reader *r, char **b, size_t *cap, size_t *len, bool *skipping,
                        const char *p, size_t n, uint64_t line)
{
    if (*skipping)
        return true;
    if (*len + n > MC_TRANSCRIPT_LINE_MAX) {
        err(r, line, MC_TRANSCRIPT_LINE_MAX, "line too long");
        *skipping = true;
        return true;
    }
    if (*len + n > *cap) {
        size_t nc = *cap;
        char *nb;
        while (nc < *len + n)
            nc *= 2;
        nb = realloc(*b, nc);
        if (!nb)
            return false;
        *b = nb;
        *cap = nc;
    }
    memcpy(*b + *len, p, n);
    *len += n;
    return true;
}

unsigned mc_transcript_read(FILE *f, const struct mc_transcript_handler *h)
{
    struct reader r = {h, 0, NULL, 0, false};
    uint64_t line = 0;
    size_t cap = 4096, len = 0, got;
    char *b = malloc(cap);
    char chunk[65536];
    bool skipping = false, pending = false;

    if (!b) {
        no_memory(&r, 1);
        return r.errors;
    }
    while (reading(&r) && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        size_t i = 0;
        while (i < got && reading(&r)) {
            const char *nl = memchr(chunk + i, '\n', got - i);
            size_t e = nl ? (size_t)(nl - chunk) : got;
            pending = true;
            if (!line_append(&r, &b, &cap, &len, &skipping, chunk + i, e - i, line + 1)) {
                no_memory(&r, line + 1);
                goto out;
            }
            if (!nl) {
                i = got;
                break;
            }
            line++;
            if (!skipping)
                do_line(&r, b, len, line);
            skipping = false;
            pending = false;
            len = 0;
            i = e + 1;
        }
    }
    if (ferror(f))
        err(&r, line + 1, 0, "read error");
    else if (pending && reading(&r) && !skipping && len > 0)
        do_line(&r, b, len, ++line);   /* last line without a newline */
out:
    free(b);
    free(r.dec);
    return r.errors;
}

void mc_transcript_write_directive(FILE *f, const char *key, const char *value)
{
    fprintf(f, "@ %s %s\n", key, value);
}

void mc_transcript_write_data(FILE *f, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    putc(dir == MC_DIR_C2S ? 'C' : 'S', f);
    fputs(": ", f);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        /* a trailing space would not survive editors: escape it */
        bool last_space = c == ' ' && i + 1 == len;
        if (c == '\r') fputs("\\r", f);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\\') fputs("\\\\", f);
        else if (c >= 0x20 && c < 0x7f && !last_space) putc(c, f);
        else {
            putc('\\', f);
            putc('x', f);
            putc(hex[c >> 4], f);
            putc(hex[c & 15], f);
        }
    }
    putc('\n', f);
}

void mc_transcript_write_tls(FILE *f, bool decrypted)
{
    fputs(decrypted ? "! tls decrypted\n" : "! tls\n", f);
}

void mc_transcript_write_gap(FILE *f, enum mc_dir dir, uint64_t n)
{
    fprintf(f, "! gap %c %llu\n", dir == MC_DIR_C2S ? 'C' : 'S', (unsigned long long)n);
}

void mc_transcript_write_close(FILE *f, enum mc_dir dir)
{
    fprintf(f, "! close %c\n", dir == MC_DIR_C2S ? 'C' : 'S');
}

void mc_transcript_write_comment(FILE *f, const char *text)
{
    fputs("# ", f);
    for (const char *p = text; *p; p++)
        putc(*p == '\n' ? ' ' : *p, f);
    putc('\n', f);
}
