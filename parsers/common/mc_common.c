/* Shared helpers for all parsers: anomaly lists, base64, numbers, escaping. */
#include "mc_parser.h"

#include <string.h>

static const char *const anom_names[] = {
    "NONE",
#define ANOM(name, desc) #name,
#include "mc_anom.def"
#undef ANOM
};
static const char *const anom_descs[] = {
    "no anomaly",
#define ANOM(name, desc) desc,
#include "mc_anom.def"
#undef ANOM
};

void mc_anoms_clear(struct mc_anoms *a)
{
    a->n = 0;
    a->dropped = 0;
}

void mc_anoms_copy(struct mc_anoms *dst, const struct mc_anoms *src)
{
    dst->n = src->n;
    dst->dropped = src->dropped;
    memcpy(dst->hit, src->hit, src->n * sizeof(src->hit[0]));
}

void mc_anoms_add(struct mc_anoms *a, enum mc_anom code, uint64_t off)
{
    if (a->n < MC_ANOMS_MAX) {
        a->hit[a->n].code = (uint16_t)code;
        a->hit[a->n].off = off;
        a->n++;
    } else if (a->dropped < UINT8_MAX) {
        a->dropped++;
    }
}

bool mc_anoms_has(const struct mc_anoms *a, enum mc_anom code)
{
    for (unsigned i = 0; i < a->n; i++)
        if (a->hit[i].code == code)
            return true;
    return false;
}

bool mc_ascii_ieq(const uint8_t *s, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 32);
        if (c != (uint8_t)lit[i])
            return false;
    }
    return true;
}

const char *mc_anom_name(enum mc_anom code)
{
    return (unsigned)code < MC_ANOM_COUNT ? anom_names[code] : "INVALID";
}

const char *mc_anom_desc(enum mc_anom code)
{
    return (unsigned)code < MC_ANOM_COUNT ? anom_descs[code] : "invalid anomaly code";
}

static bool is_b64(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/* base64 = base64-terminal / ( 1*(4base64-CHAR) [base64-terminal] )  (RFC 5034 s5) */
bool mc_base64_valid(const uint8_t *s, size_t n, size_t *bad_out)
{
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            /* padding: at most two, only in the last two positions */
            if (i + 2 < n || (n - i) > 2 || pad >= 2) {
                *bad_out = i;
                return false;
            }
            pad++;
            continue;
        }
        if (pad > 0 || !is_b64(s[i])) {
            *bad_out = i;
            return false;
        }
    }
    if (n % 4 != 0) {
        *bad_out = n;
        return false;
    }
    return true;
}

bool mc_base64_valid_prefix(const uint8_t *s, size_t n, bool truncated, size_t *bad_out)
{
    return mc_base64_valid(s, truncated ? n - n % 4 : n, bad_out);
}

bool mc_parse_u64(const uint8_t *s, size_t n, uint64_t max, uint64_t *v_out)
{
    uint64_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (d > max || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *v_out = v;
    return true;
}

static size_t escape_one(uint8_t c, char tmp[4])
{
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '\r': tmp[0] = '\\'; tmp[1] = 'r'; return 2;
    case '\n': tmp[0] = '\\'; tmp[1] = 'n'; return 2;
    case '\t': tmp[0] = '\\'; tmp[1] = 't'; return 2;
    case '\\': tmp[0] = '\\'; tmp[1] = '\\'; return 2;
    default:
        if (c >= 0x20 && c < 0x7f) {
            tmp[0] = (char)c;
            return 1;
        }
        tmp[0] = '\\'; tmp[1] = 'x'; tmp[2] = hex[c >> 4]; tmp[3] = hex[c & 15];
        return 4;
    }
}

size_t mc_escape(char *out, size_t cap, const uint8_t *s, size_t n)
{
    char tmp[4];
    size_t need = 0, o = 0, limit;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        need += escape_one(s[i], tmp);
    /* Everything fits: write it all. Otherwise stop early enough for "...". */
    limit = need < cap ? cap - 1 : (cap > 4 ? cap - 4 : 0);
    for (size_t i = 0; i < n; i++) {
        size_t tl = escape_one(s[i], tmp);
        if (o + tl > limit)
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
    }
    if (need >= cap) {
        for (size_t k = 0; k < 3 && o + 1 < cap; k++)
            out[o++] = '.';
    }
    out[o] = '\0';
    return o;
}
