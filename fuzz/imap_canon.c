/*
 * imap_canon: the canonical printer of IMAP server responses (see
 * imap_canon.h for the form). The reader mirrors the walker of
 * parsers/imap/imap_resp.c on purpose (same items, same separators, same
 * literal headers at the end of a line segment), but shares no code with
 * it: it is the oracle's own reading of RFC 3501 s9.
 */
#include "imap_canon.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Oracle code stays out of the engines' coverage and comparison tracing
 * (as FZ_ORACLE in fuzz_common.h): it would only slow the run down and
 * feed noise to the mutator. */
#if defined(__clang__) && __clang_major__ >= 13
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)
#endif

#define CANON_DEPTH 64           /* the parser stops at 32 levels */
#define CANON_NUMBER_MAX 4294967295ULL
#define CANON_LITERAL_MAX 0x7fffffffffffffffULL

/* ---- output ---- */

static bool out_mem(struct imap_canon *c, const void *p, size_t n)
{
    if (n == 0)
        return true;
    if (c->n + n > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->n + n)
            cap *= 2;
        uint8_t *nb = realloc(c->b, cap);
        if (nb == NULL)
            return false;
        c->b = nb;
        c->cap = cap;
    }
    memcpy(c->b + c->n, p, n);
    c->n += n;
    return true;
}

static bool out_str(struct imap_canon *c, const char *s)
{
    return out_mem(c, s, strlen(s));
}

static bool out_upper(struct imap_canon *c, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = s[i];
        if (b >= 'a' && b <= 'z')
            b = (uint8_t)(b - 32);
        if (!out_mem(c, &b, 1))
            return false;
    }
    return true;
}

/* ---- character classes and small helpers (RFC 3501 s9) ---- */

static bool is_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

static bool atom_char(uint8_t b)
{
    if (b <= 0x20 || b >= 0x7f)
        return false;
    return strchr("(){%*\"\\]", b) == NULL;
}

static bool ieq(const uint8_t *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = s[i];
        if (b >= 'a' && b <= 'z')
            b = (uint8_t)(b - 32);
        if (b != (uint8_t)lit[i])
            return false;
    }
    return true;
}

static bool in_list(const uint8_t *s, size_t n, const char *const *names)
{
    for (size_t k = 0; names[k] != NULL; k++)
        if (ieq(s, n, names[k]))
            return true;
    return false;
}

/* Decimal digits s[0..n) as a value <= max; false if empty, too long or too big. */
static bool parse_dec(const uint8_t *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (max - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

static const char *const status_names[] = {"OK", "NO", "BAD", "BYE", "PREAUTH", NULL};

static const char *const data_names[] = {"CAPABILITY", "ENABLED", "ID",     "NAMESPACE",
                                         "FLAGS",      "LIST",    "LSUB",   "SEARCH",
                                         "STATUS",     "EXISTS",  "RECENT", "EXPUNGE",
                                         "FETCH",      NULL};

static const char *const code_names[] = {
    "ALERT", "BADCHARSET", "CAPABILITY", "PARSE", "PERMANENTFLAGS", "READ-ONLY",
    "READ-WRITE", "TRYCREATE", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
    /* RFC 5530 s3 */
    "UNAVAILABLE", "AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED",
    "PRIVACYREQUIRED", "CONTACTADMIN", "NOPERM", "INUSE", "EXPUNGEISSUED", "CORRUPTION",
    "SERVERBUG", "CLIENTBUG", "CANNOT", "LIMIT", "OVERQUOTA", "ALREADYEXISTS", "NONEXISTENT",
    /* RFC 4315 s3 */
    "APPENDUID", "COPYUID", "UIDNOTSTICKY", NULL};

static const char *const fetch_atts[] = {
    "UID", "RFC822.SIZE", "INTERNALDATE", "FLAGS", "ENVELOPE", "BODYSTRUCTURE", "BODY",
    "RFC822", "RFC822.HEADER", "RFC822.TEXT", "BINARY", "BINARY.SIZE", NULL};

/* the atts whose "[" holds a section-spec / section-part */
static const char *const section_atts[] = {"BODY", "BINARY", "BINARY.SIZE", NULL};

static const char *const status_atts[] = {"MESSAGES", "RECENT",  "UIDNEXT",      "UIDVALIDITY",
                                          "UNSEEN",   "DELETED", "SIZE",         "HIGHESTMODSEQ",
                                          "APPENDLIMIT", NULL};

/* ---- line segments ---- */

struct seg {
    const uint8_t *s;     /* the segment before its literal header */
    size_t n;
    bool lit, lit8;       /* a literal follows */
    uint64_t lit_n;
    const uint8_t *data;  /* its octets */
};

struct rd {
    const uint8_t *in;
    size_t len, i;
    bool data;            /* literals are honoured (data responses) */
};

/* The next line segment: 1, 0 at the end, -1 if unreadable. */
static int next_seg(struct imap_canon *c, struct rd *r, struct seg *g)
{
    const uint8_t *p, *lf;
    size_t n, rest;

    memset(g, 0, sizeof(*g));
    if (r->i >= r->len)
        return 0;
    p = r->in + r->i;
    rest = r->len - r->i;
    lf = memchr(p, '\n', rest);
    if (lf == NULL) {
        n = rest;                 /* the stream ended inside the line */
        r->i = r->len;
    } else {
        if (lf == p || lf[-1] != '\r') {
            c->why = "bare LF";
            return -1;
        }
        n = (size_t)(lf - p) - 1;
        r->i += n + 2;
    }
    if (memchr(p, '\r', n) != NULL || memchr(p, '\0', n) != NULL) {
        c->why = "CR or NUL inside a line";
        return -1;
    }
    if (n > c->in_longest)
        c->in_longest = n;
    g->s = p;
    g->n = n;
    if (!r->data || n < 3 || p[n - 1] != '}')
        return 1;
    /* "{" number "}" or "~{" number "}" ending the segment */
    size_t j = n - 1, k = j;
    while (k > 0 && is_digit(p[k - 1]))
        k--;
    if (k == j || k == 0 || p[k - 1] != '{')
        return 1;
    if (lf == NULL) {
        c->why = "literal header without CRLF";
        return -1;
    }
    if (!parse_dec(p + k, j - k, CANON_LITERAL_MAX, &g->lit_n)) {
        c->why = "literal count";
        return -1;
    }
    g->lit = true;
    g->lit8 = k >= 2 && p[k - 2] == '~';
    g->n = k - 1 - (g->lit8 ? 1u : 0u);
    if (g->lit_n > r->len - r->i) {
        c->why = "literal data missing";
        return -1;
    }
    g->data = r->in + r->i;
    r->i += (size_t)g->lit_n;
    c->in_literals++;
    return 1;
}

/* ---- status responses and continuations ---- */

/* rest: what follows the status keyword (or "+"): SP ["[" code "]"] text.
 * The known code name is upper-cased, everything else printed as is. */
static bool resp_text(struct imap_canon *c, const uint8_t *s, size_t n)
{
    size_t j, e;
    if (n < 2 || s[0] != ' ' || s[1] != '[')
        return out_mem(c, s, n);
    j = 2;
    while (j < n && atom_char(s[j]))
        j++;
    if (j == 2 || j >= n || (s[j] != ']' && s[j] != ' '))
        return out_mem(c, s, n);
    e = j;
    while (e < n && s[e] != ']')
        e++;
    if (e >= n)
        return out_mem(c, s, n);
    if (!out_str(c, " ["))
        return false;
    if (in_list(s + 2, j - 2, code_names) ? !out_upper(c, s + 2, j - 2)
                                         : !out_mem(c, s + 2, j - 2))
        return false;
    return out_mem(c, s + j, n - j);
}

/* ---- data responses ---- */

enum dkind { K_FETCH, K_LIST, K_NAMESPACE, K_ID, K_STATUS, K_OTHER };

enum lctx { L_TOP, L_FETCH, L_SECT, L_ENV, L_ADDRLIST, L_BODY, L_NSLIST, L_NS, L_STATUS, L_ANY };

/* FETCH att kinds kept on the L_FETCH level for the value that follows */
enum { A_UNKNOWN, A_KNOWN, A_ENVELOPE, A_BODY };

struct lvl {
    uint8_t ctx, open, att;
    bool nil_up;           /* a word "nil" is NIL here: print it upper-case */
    bool mpart, subtype, msg, rfc822, prev_list;
    unsigned count;
};

struct walker {
    struct imap_canon *c;
    enum dkind kind;
    struct lvl st[CANON_DEPTH];
    unsigned depth;        /* st[0] is the top level */
    bool need_sp, just_opened;
    size_t seg_start;      /* c->n where the printed line segment began */
};

/* How an item prints, and what the list or section it opens holds. */
struct icls {
    bool up, nil, keepq;
    uint8_t child;
    bool child_nil;
};

static bool adjacent_lists(const struct lvl *lv)
{
    return lv->ctx == L_ADDRLIST || lv->ctx == L_NSLIST ||
           (lv->ctx == L_BODY && lv->mpart && !lv->subtype);
}

/* t: '(' list, '"' quoted (s: its raw bytes between the quotes), '{'
 * literal, '8' literal8, 'w' word, 'W' word followed by "[". */
static struct icls classify(struct walker *w, struct lvl *lv, unsigned k, uint8_t t,
                            const uint8_t *s, size_t n)
{
    struct icls r = {false, lv->nil_up, false, L_ANY, lv->nil_up};
    bool list = t == '(';
    switch (lv->ctx) {
    case L_TOP:
        r.nil = r.child_nil = false;
        switch (w->kind) {
        case K_FETCH:
            if (k == 0 && list)
                r.child = L_FETCH;
            break;
        case K_LIST:
            if (k == 1)
                r.nil = r.keepq = true;
            break;
        case K_NAMESPACE:
            r.nil = r.child_nil = true;
            r.child = L_NSLIST;
            break;
        case K_ID:
            r.nil = r.child_nil = true;
            break;
        case K_STATUS:
            if (k == 1)
                r.child = L_STATUS;
            break;
        default:
            break;
        }
        break;
    case L_FETCH:
        r.nil = r.child_nil = false;
        if (k % 2 == 0) {
            bool known = (t == 'w' && in_list(s, n, fetch_atts)) ||
                         (t == 'W' && in_list(s, n, section_atts));
            r.up = known;
            lv->att = !known             ? A_UNKNOWN
                      : t == 'W'         ? A_KNOWN
                      : ieq(s, n, "ENVELOPE") ? A_ENVELOPE
                      : (ieq(s, n, "BODY") || ieq(s, n, "BODYSTRUCTURE")) ? A_BODY
                                         : A_KNOWN;
            r.child = t == 'W' && known ? L_SECT : L_ANY;
        } else if (lv->att != A_UNKNOWN) {
            r.nil = true;
            if (list && lv->att == A_ENVELOPE) {
                r.child = L_ENV;
                r.child_nil = true;
            } else if (list && lv->att == A_BODY) {
                r.child = L_BODY;
                r.child_nil = true;
            }
        }
        break;
    case L_SECT:
        if (k == 0 && t == 'w')
            r.up = true;
        break;
    case L_ENV:
        if (list && k >= 2 && k <= 7)
            r.child = L_ADDRLIST;
        break;
    case L_ADDRLIST:
        break;
    case L_BODY:
        if (k == 0 && list)
            lv->mpart = true;
        if (lv->mpart) {
            if (!lv->subtype) {
                if (list)
                    r.child = L_BODY;
                else
                    lv->subtype = true;
            }
        } else {
            if (k == 0 && t == '"' && ieq(s, n, "MESSAGE"))
                lv->msg = true;
            if (k == 1 && lv->msg && t == '"' && (ieq(s, n, "RFC822") || ieq(s, n, "GLOBAL")))
                lv->rfc822 = true;
            if (list && lv->rfc822 && k == 7)
                r.child = L_ENV;
            else if (list && lv->rfc822 && k == 8)
                r.child = L_BODY;
        }
        break;
    case L_NSLIST:
        if (list)
            r.child = L_NS;
        break;
    case L_NS:
        if (k == 1)
            r.keepq = true;
        break;
    case L_STATUS:
        if (k % 2 == 0 && t == 'w')
            r.up = in_list(s, n, status_atts);
        break;
    default:
        break;
    }
    return r;
}

/* An item starts at the current level: its separator, then how it prints. */
static bool item_begin(struct walker *w, uint8_t t, const uint8_t *s, size_t n, struct icls *r)
{
    struct lvl *lv = &w->st[w->depth - 1];
    bool list = t == '(';
    if (lv->ctx == L_TOP || lv->count > 0) {
        if (!(lv->ctx != L_TOP && list && lv->prev_list && adjacent_lists(lv)))
            if (!out_str(w->c, " "))
                return false;
    }
    *r = classify(w, lv, lv->count, t, s, n);
    lv->count++;
    lv->prev_list = list;
    return true;
}

static bool push(struct walker *w, uint8_t open, const struct icls *r)
{
    if (w->depth >= CANON_DEPTH) {
        w->c->why = "too deep";
        return false;
    }
    w->st[w->depth++] = (struct lvl){r->child, open, A_UNKNOWN, r->child_nil, false, false,
                                     false, false, false, 0};
    return out_mem(w->c, &open, 1);
}

static bool pop(struct walker *w, uint8_t close)
{
    if (w->depth <= 1 || w->st[w->depth - 1].open != (close == ')' ? '(' : '[')) {
        w->c->why = "unbalanced";
        return false;
    }
    w->depth--;
    return out_mem(w->c, &close, 1);
}

/* "<" number ["." nz-number] ">" after a section's "]": printed as it came. */
static size_t partial(struct walker *w, const uint8_t *s, size_t n, size_t i)
{
    size_t j = i + 1, a = j;
    uint64_t v;
    while (j < n && is_digit(s[j]))
        j++;
    if (!parse_dec(s + a, j - a, CANON_NUMBER_MAX, &v) || j - a > 10)
        goto bad;
    if (j < n && s[j] == '.') {
        a = ++j;
        while (j < n && is_digit(s[j]))
            j++;
        if (!parse_dec(s + a, j - a, CANON_NUMBER_MAX, &v) || j - a > 10 || s[a] == '0')
            goto bad;
    }
    if (j >= n || s[j] != '>')
        goto bad;
    if (!out_mem(w->c, s + i, j + 1 - i))
        return 0;
    return j + 1;
bad:
    w->c->why = "partial";
    return 0;
}

/* A string value: quoted if it can be, else a synchronizing literal. */
static bool needs_literal(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == '"' || v[i] == '\\' || v[i] == '\r' || v[i] == '\n' || v[i] == 0 ||
            v[i] >= 0x80)
            return true;
    return false;
}

static bool literal_out(struct walker *w, bool lit8, const uint8_t *v, uint64_t n)
{
    char hdr[32];
    snprintf(hdr, sizeof(hdr), "%s{%llu}", lit8 ? "~" : "", (unsigned long long)n);
    if (!out_str(w->c, hdr))
        return false;
    size_t seg = w->c->n - w->seg_start;
    if (seg > w->c->out_longest)
        w->c->out_longest = seg;
    w->c->out_line_len += seg + 2;
    if (!out_str(w->c, "\r\n") || !out_mem(w->c, v, (size_t)n))
        return false;
    w->seg_start = w->c->n;
    w->c->literals++;
    return true;
}

/* quoted at s[i] == '"'; returns the index after it or 0. */
static size_t quoted(struct walker *w, const uint8_t *s, size_t n, size_t i)
{
    size_t j = i + 1, vn = 0;
    uint8_t *v;
    struct icls r;
    bool ok;
    while (j < n && s[j] != '"') {
        if (s[j] == '\\') {
            if (j + 1 >= n || (s[j + 1] != '\\' && s[j + 1] != '"')) {
                w->c->why = "quoted escape";
                return 0;
            }
            j++;
        }
        j++;
    }
    if (j >= n) {
        w->c->why = "quoted unterminated";
        return 0;
    }
    if (!item_begin(w, '"', s + i + 1, j - i - 1, &r))
        return 0;
    v = malloc(j - i + 1);
    if (v == NULL)
        return 0;
    for (size_t k = i + 1; k < j; k++) {
        if (s[k] == '\\')
            k++;
        v[vn++] = s[k];
    }
    if (needs_literal(v, vn) && !r.keepq)
        ok = literal_out(w, false, v, vn);
    else
        ok = out_mem(w->c, s + i, j + 1 - i);
    free(v);
    return ok ? j + 1 : 0;
}

/* Walks s[i..n) of a data response (mirrors walk() of the parser). */
static bool walk(struct walker *w, const uint8_t *s, size_t n, size_t i)
{
    while (i < n) {
        uint8_t c = s[i];
        struct icls r;
        if (w->need_sp) {
            if (c == ' ') {
                w->need_sp = w->just_opened = false;
                i++;
            } else if (c == '(' && i > 0 && s[i - 1] == ')') {
                w->need_sp = false;
            } else if ((c == ')' || c == ']') && w->depth > 1) {
                if (!pop(w, c))
                    return false;
                i++;
                if (c == ']' && i < n && s[i] == '<' && (i = partial(w, s, n, i)) == 0)
                    return false;
            } else {
                w->c->why = "separator";
                return false;
            }
            continue;
        }
        if (c == '(') {
            if (!item_begin(w, '(', s + i, 0, &r) || !push(w, '(', &r))
                return false;
            w->need_sp = false;
            w->just_opened = true;
            i++;
        } else if ((c == ')' || c == ']') && w->just_opened) {
            if (!pop(w, c))
                return false;
            i++;
            w->need_sp = true;
            w->just_opened = false;
            if (c == ']' && i < n && s[i] == '<' && (i = partial(w, s, n, i)) == 0)
                return false;
        } else if (c == '"') {
            i = quoted(w, s, n, i);
            if (i == 0)
                return false;
            w->need_sp = true;
            w->just_opened = false;
        } else {
            /* a word: atom, number, NIL, flag, "\*", fetch att before "[" */
            bool in_sect = w->st[w->depth - 1].open == '[';
            size_t j = i;
            if (s[i] == '\\' && i + 1 < n && s[i + 1] == '*') {
                j = i + 2;   /* flag-perm "\*", whatever follows */
            } else {
                if (s[i] == '\\')
                    j++;
                while (j < n && s[j] != '[' && (atom_char(s[j]) || (s[j] == ']' && !in_sect)))
                    j++;
                if (j == i ||
                    (j < n && s[j] != ' ' && s[j] != ')' && s[j] != '[' && s[j] != ']')) {
                    w->c->why = "word";
                    return false;
                }
            }
            bool sect = j < n && s[j] == '[';
            if (!item_begin(w, sect ? 'W' : 'w', s + i, j - i, &r))
                return false;
            if (r.nil && !sect && ieq(s + i, j - i, "NIL") ? !out_str(w->c, "NIL")
                : r.up                                    ? !out_upper(w->c, s + i, j - i)
                                                          : !out_mem(w->c, s + i, j - i))
                return false;
            i = j;
            w->need_sp = true;
            w->just_opened = false;
            if (sect) {
                if (!push(w, '[', &r))
                    return false;
                w->need_sp = false;
                w->just_opened = true;
                i++;
            }
        }
    }
    return true;
}

static bool seg_end(struct walker *w)
{
    size_t seg = w->c->n - w->seg_start;
    if (seg > w->c->out_longest)
        w->c->out_longest = seg;
    w->c->out_line_len += seg + 2;
    return out_str(w->c, "\r\n");
}

/* ---- the response ---- */

static int fail(struct imap_canon *c, const char *why)
{
    if (c->why == NULL)
        c->why = why;
    return -1;
}

int imap_canon_print(struct imap_canon *c, const uint8_t *in, size_t len)
{
    const uint8_t *lf, *s;
    size_t n, i, a = 0;
    bool has_number = false;
    uint64_t number = 0;
    unsigned in_lits;
    bool tagged = false;
    struct rd r = {in, len, 0, false};
    struct seg g;
    int rc;

    c->n = 0;
    c->literals = c->in_literals = 0;
    c->out_longest = c->in_longest = 0;
    c->out_line_len = 0;
    c->why = NULL;
    if (len == 0)
        return fail(c, "empty");

    /* the first line decides the kind */
    lf = memchr(in, '\n', len);
    n = lf ? (size_t)(lf - in) : len;
    if (n > 0 && in[n - 1] == '\r')
        n--;
    s = in;
    c->in_longest = n; /* known even if the head cannot be read */

    if (s[0] == '+' || s[0] != '*' || n < 2 || s[1] != ' ') {
        /* continuation or tagged: one line */
        i = 1;
        if (s[0] != '+') {
            tagged = true;
            i = 0;
            while (i < n && s[i] != ' ')
                i++;
            a = ++i;
            while (i < n && s[i] != ' ')
                i++;
            if (a > n || !in_list(s + a, i - a, status_names) || ieq(s + a, i - a, "BYE") ||
                ieq(s + a, i - a, "PREAUTH"))
                return fail(c, "tagged response without OK / NO / BAD");
        }
        goto one_line;
    }

    /* "* " [number SP] name */
    i = 2;
    if (i < n && is_digit(s[i])) {
        a = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i - a > 10 || !parse_dec(s + a, i - a, CANON_NUMBER_MAX, &number))
            return fail(c, "message number");
        has_number = true;
        if (i >= n || s[i] != ' ')
            return fail(c, "SP after the number");
        i++;
    }
    a = i;
    while (i < n && atom_char(s[i]))
        i++;
    if (i == a || (i < n && s[i] != ' '))
        return fail(c, "response name");
    if (in_list(s + a, i - a, status_names))
        goto one_line;

    /* a data response */
    {
        const uint8_t *name = s + a;
        size_t name_n = i - a, from = i;
        struct walker *w;
        char num[24];

        r.data = true;
        while ((rc = next_seg(c, &r, &g)) == 1) {
        }
        if (rc < 0)
            return -1;
        in_lits = c->in_literals; /* the second pass counts them again */

        out_str(c, "* ");
        if (has_number) {
            snprintf(num, sizeof(num), "%llu ", (unsigned long long)number);
            out_str(c, num);
        }
        if (in_list(name, name_n, data_names))
            out_upper(c, name, name_n);
        else
            out_mem(c, name, name_n);

        r.i = 0;
        if (next_seg(c, &r, &g) != 1)
            return fail(c, "first segment");
        if (!g.lit && r.i == len &&
            (ieq(name, name_n, "CAPABILITY") || ieq(name, name_n, "ENABLED") ||
             ieq(name, name_n, "FLAGS") || ieq(name, name_n, "SEARCH") ||
             ieq(name, name_n, "EXISTS") || ieq(name, name_n, "RECENT") ||
             ieq(name, name_n, "EXPUNGE"))) {
            /* checked exactly by the parser: the rest as it came */
            if (!out_mem(c, g.s + from, g.n - from) || !out_str(c, "\r\n"))
                return fail(c, "out of memory");
            c->out_longest = c->n - 2;
            c->out_line_len = c->n;
            c->in_literals = in_lits;
            return 0;
        }

        w = calloc(1, sizeof(*w));
        if (w == NULL)
            return fail(c, "out of memory");
        w->c = c;
        w->kind = ieq(name, name_n, "FETCH")       ? K_FETCH
                  : ieq(name, name_n, "LIST")      ? K_LIST
                  : ieq(name, name_n, "LSUB")      ? K_LIST
                  : ieq(name, name_n, "NAMESPACE") ? K_NAMESPACE
                  : ieq(name, name_n, "ID")        ? K_ID
                  : ieq(name, name_n, "STATUS")    ? K_STATUS
                                                    : K_OTHER;
        w->depth = 1;
        w->st[0].ctx = L_TOP;
        w->need_sp = true;
        w->seg_start = 0;
        bool ok = true;
        for (size_t at = from;; at = 0) {
            if (g.n < at || !walk(w, g.s, g.n, at)) {
                ok = false;
                break;
            }
            if (!g.lit)
                break;
            struct icls ic;
            if (w->need_sp) {
                c->why = "literal without SP";
                ok = false;
                break;
            }
            if (!item_begin(w, g.lit8 ? '8' : '{', NULL, 0, &ic) ||
                !literal_out(w, g.lit8, g.data, g.lit_n)) {
                ok = false;
                break;
            }
            w->need_sp = true;
            w->just_opened = false;
            rc = next_seg(c, &r, &g);
            if (rc == 0) {
                c->why = "the response ends after a literal";
                ok = false;
                break;
            }
            if (rc < 0) {
                ok = false;
                break;
            }
        }
        if (ok && r.i != len) {
            c->why = "more than one response";
            ok = false;
        }
        if (ok && (w->depth != 1 || !w->need_sp)) {
            c->why = "unclosed list or trailing SP";
            ok = false;
        }
        if (ok)
            ok = seg_end(w);
        c->in_literals = in_lits;
        free(w);
        return ok ? 0 : fail(c, "data");
    }

one_line:
    r.data = false;
    if (next_seg(c, &r, &g) != 1 || r.i != len)
        return fail(c, "a status response or continuation is one line");
    if (s[0] == '+') {
        out_str(c, "+");
        resp_text(c, s + 1, n - 1);
    } else if (!tagged) {
        char num[24];
        snprintf(num, sizeof(num), "%llu ", (unsigned long long)number);
        out_str(c, "* ");
        out_str(c, has_number ? num : "");
        out_upper(c, s + a, i - a);
        resp_text(c, s + i, n - i);
    } else {
        out_mem(c, s, a);         /* the tag and its SP */
        out_upper(c, s + a, i - a);
        resp_text(c, s + i, n - i);
    }
    if (!out_str(c, "\r\n"))
        return fail(c, "out of memory");
    c->out_longest = c->n - 2;
    c->out_line_len = c->n;
    return 0;
}

void imap_canon_free(struct imap_canon *c)
{
    free(c->b);
    memset(c, 0, sizeof(*c));
}

#if defined(__clang__) && __clang_major__ >= 13
#pragma clang attribute pop
#endif
