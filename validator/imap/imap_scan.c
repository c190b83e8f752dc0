/*
 * Readers over IMAP text already parsed (see imap_scan.h). Each walks its
 * input once, with bounded state.
 */
#include "imap_scan.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint8_t upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

static bool word_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (upper(a[i]) != upper(b[i]))
            return false;
    return true;
}

/* Digits at p[*i..]: the value (saturating) and whether any were read. */
static bool read_number(const uint8_t *p, size_t n, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t st = *i;
    while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
        unsigned d = (unsigned)(p[*i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
        (*i)++;
    }
    *out = v;
    return *i > st;
}

/* Past a quoted string starting at p[i] == '"'; n when unterminated. */
static size_t skip_quoted(const uint8_t *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return n;
}

/* Past one item: a list (balanced), a quoted string, or an atom-like
 * token that may carry a [section] (holding spaces and lists) and
 * <partial>. Returns n when the item runs off the end. */
static size_t skip_item(const uint8_t *p, size_t n, size_t i)
{
    unsigned depth = 0, bracket = 0;
    if (i < n && p[i] == '"')
        return skip_quoted(p, n, i);
    while (i < n) {
        uint8_t c = p[i];
        if (c == '"') {
            i = skip_quoted(p, n, i);
            continue;
        }
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (depth == 0)
                return i;   /* closes the enclosing list */
            if (--depth == 0 && bracket == 0)
                return i + 1;
        } else if (c == '[') {
            bracket++;
        } else if (c == ']') {
            if (bracket > 0)
                bracket--;
        } else if (c == ' ' && depth == 0 && bracket == 0) {
            return i;
        }
        i++;
    }
    return n;
}

bool mc_imap_fetch_number(const uint8_t *p, size_t n, const char *name, uint64_t *out)
{
    size_t i = 0, nlen = strlen(name);
    bool is_name = true;
    if (n == 0 || p[0] != '(')
        return false;
    i = 1;
    while (i < n && p[i] != ')') {
        size_t st = i, end = skip_item(p, n, i);
        if (end == st)
            return false;   /* not an item: unreadable */
        if (is_name && word_eq(p + st, end - st, (const uint8_t *)name, nlen)) {
            size_t v = end + 1;
            return end < n && p[end] == ' ' && read_number(p, n, &v, out) &&
                   (v == n || p[v] == ' ' || p[v] == ')');
        }
        is_name = !is_name;
        i = end;
        if (i < n && p[i] == ' ')
            i++;
    }
    return false;
}

void mc_imap_each_number(const uint8_t *p, size_t n, void (*fn)(void *ctx, uint64_t v), void *ctx)
{
    size_t i = 0;
    while (i < n) {
        uint64_t v;
        if (p[i] == ' ') {
            i++;
            continue;
        }
        if (!read_number(p, n, &i, &v))
            return;
        fn(ctx, v);
    }
}

bool mc_imap_uid_set_count(const uint8_t *p, size_t n, uint64_t *count, bool *range_same)
{
    size_t i = 0;
    uint64_t total = 0;
    *range_same = false;
    while (i < n) {
        uint64_t a, b, k;
        if (!read_number(p, n, &i, &a))
            return false;
        b = a;
        if (i < n && p[i] == ':') {
            i++;
            if (!read_number(p, n, &i, &b))
                return false;
            if (a == b)
                *range_same = true;
        }
        k = a > b ? a - b : b - a;
        k = k == UINT64_MAX ? UINT64_MAX : k + 1;
        total = total > UINT64_MAX - k ? UINT64_MAX : total + k;
        if (i < n && p[i] != ',')
            return false;
        if (i < n && ++i == n)
            return false;   /* trailing ',' */
    }
    *count = total;
    return n > 0;
}

/* One string of an ID list: a quoted string (length of its content, escapes
 * counted once) or NIL. False for anything else (literals included). */
static bool id_string(const uint8_t *p, size_t n, size_t *i, const uint8_t **s, size_t *len)
{
    if (*i + 3 <= n && word_eq(p + *i, 3, (const uint8_t *)"NIL", 3)) {
        *i += 3;
        *s = NULL;
        *len = 0;
        return true;
    }
    if (*i >= n || p[*i] != '"')
        return false;
    *s = p + *i + 1;
    *len = 0;
    for ((*i)++; *i < n; (*i)++) {
        if (p[*i] == '\\') {
            (*i)++;
        } else if (p[*i] == '"') {
            (*i)++;
            return true;
        }
        (*len)++;
    }
    return false;
}

#define ID_FIELD_MAX 30
#define ID_VALUE_MAX 1024
#define ID_PAIRS_MAX 30

const char *mc_imap_id_limits(const uint8_t *p, size_t n, char *msg, size_t msg_size)
{
    const uint8_t *field[ID_PAIRS_MAX];
    size_t flen[ID_PAIRS_MAX];
    unsigned pairs = 0;
    size_t i = 1;
    if (n == 0 || p[0] != '(')
        return NULL;   /* NIL, or not a list */
    while (i < n && p[i] != ')') {
        const uint8_t *f, *v;
        size_t fl, vl;
        if (!id_string(p, n, &i, &f, &fl) || i >= n || p[i] != ' ')
            return NULL;
        i++;
        if (!id_string(p, n, &i, &v, &vl))
            return NULL;
        if (i < n && p[i] == ' ')
            i++;
        if (pairs == ID_PAIRS_MAX) {
            snprintf(msg, msg_size, "more than %d field-value pairs", ID_PAIRS_MAX);
            return msg;
        }
        if (fl > ID_FIELD_MAX) {
            snprintf(msg, msg_size, "field %u is %zu octets (at most %d)", pairs + 1, fl,
                     ID_FIELD_MAX);
            return msg;
        }
        if (vl > ID_VALUE_MAX) {
            snprintf(msg, msg_size, "value %u is %zu octets (at most %d)", pairs + 1, vl,
                     ID_VALUE_MAX);
            return msg;
        }
        /* field names compare case-insensitively ("Strings are not
         * case-sensitive"); escapes are rare enough to compare raw */
        for (unsigned k = 0; f && k < pairs; k++) {
            if (field[k] && word_eq(field[k], flen[k], f, fl)) {
                snprintf(msg, msg_size, "field \"%.*s\" sent twice", (int)fl, (const char *)f);
                return msg;
            }
        }
        field[pairs] = f;
        flen[pairs] = fl;
        pairs++;
    }
    return NULL;
}

/* FNV-1a of the upper-cased word; the list digest is the sum, so order
 * does not matter. */
uint64_t mc_imap_caps_digest(const uint8_t *p, size_t n)
{
    uint64_t sum = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t h = 1469598103934665603ull;
        size_t st = i;
        while (i < n && p[i] != ' ')
            h = (h ^ upper(p[i++])) * 1099511628211ull;
        if (i > st)
            sum += h;
        i++;
    }
    return sum;
}

bool mc_imap_list_has(const uint8_t *p, size_t n, const uint8_t *word, size_t wlen)
{
    size_t i = 0;
    while (i < n) {
        size_t st = i;
        while (i < n && p[i] != ' ')
            i++;
        if (word_eq(p + st, i - st, word, wlen))
            return true;
        i++;
    }
    return false;
}
