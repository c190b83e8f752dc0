/*
 * SMTP address grammar, RFC 5321 s4.1.2 and s4.1.3:
 *
 *   Path          = "<" [ A-d-l ":" ] Mailbox ">"
 *   A-d-l         = At-domain *( "," At-domain )   ; source route, s4.1.2
 *   At-domain     = "@" Domain
 *   Mailbox       = Local-part "@" ( Domain / address-literal )
 *   Local-part    = Dot-string / Quoted-string
 *   Dot-string    = Atom *("." Atom)
 *   Quoted-string = DQUOTE *( qtextSMTP / quoted-pairSMTP ) DQUOTE
 *   qtextSMTP     = %d32-33 / %d35-91 / %d93-126
 *   quoted-pairSMTP = %d92 %d32-126
 *   Domain        = sub-domain *("." sub-domain)
 *   sub-domain    = Let-dig [Ldh-str]
 *   address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 *                          General-address-literal ) "]"
 *
 * RFC 6531 s3.3 extends atext, qtextSMTP and sub-domain with UTF-8; octets
 * >= 0x80 are accepted and reported so the session can tell whether the
 * transaction declared SMTPUTF8. UTF-8 well-formedness is not judged here.
 */
#define _DEFAULT_SOURCE /* inet_pton */
#include "smtp_syntax.h"
#include "../common/mc_limits.h"

#include <arpa/inet.h>
#include <string.h>

/* Octet classes, one table entry per octet, computed at compile time from
 * the predicates they replace (the K_ macros). The validators below run
 * over every word of every line; a class test is one load and one test
 * where the predicates were two to six compares, each a traced compare
 * under libFuzzer. */
#define K_ALPHA 0x01u /* ALPHA */
#define K_DIGIT 0x02u /* DIGIT */
#define K_LDH 0x04u   /* ALPHA / DIGIT / "-" */
#define K_ATEXT 0x08u /* RFC 5322 s3.2.3 atext, as RFC 5321 s4.1.2 uses it, and >= 0x80 */
#define K_HIGH 0x10u  /* >= 0x80 */
#define K_HEXUP 0x20u /* DIGIT / "A".."F" (xtext hexchar) */
#define K_XCHAR 0x40u /* "!".."~" except "=" (xchar, RFC 3461 s4) */

#define K_IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define K_IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define K_IS_SPECIAL(c)                                                                     \
    ((c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' ||   \
     (c) == '*' || (c) == '+' || (c) == '-' || (c) == '/' || (c) == '=' || (c) == '?' ||    \
     (c) == '^' || (c) == '_' || (c) == '`' || (c) == '{' || (c) == '|' || (c) == '}' ||    \
     (c) == '~')
#define K_CLASS(c)                                                                          \
    ((K_IS_ALPHA(c) ? K_ALPHA : 0u) | (K_IS_DIGIT(c) ? K_DIGIT : 0u) |                      \
     (K_IS_ALPHA(c) || K_IS_DIGIT(c) || (c) == '-' ? K_LDH : 0u) |                          \
     (K_IS_ALPHA(c) || K_IS_DIGIT(c) || (c) >= 0x80 || K_IS_SPECIAL(c) ? K_ATEXT : 0u) |    \
     ((c) >= 0x80 ? K_HIGH : 0u) |                                                          \
     (K_IS_DIGIT(c) || ((c) >= 'A' && (c) <= 'F') ? K_HEXUP : 0u) |                         \
     ((c) >= '!' && (c) <= '~' && (c) != '=' ? K_XCHAR : 0u))
#define K_CLASS4(c) K_CLASS(c), K_CLASS((c) + 1), K_CLASS((c) + 2), K_CLASS((c) + 3)
#define K_CLASS16(c) K_CLASS4(c), K_CLASS4((c) + 4), K_CLASS4((c) + 8), K_CLASS4((c) + 12)
#define K_CLASS64(c) K_CLASS16(c), K_CLASS16((c) + 16), K_CLASS16((c) + 32), K_CLASS16((c) + 48)
static const uint8_t kclass[256] = {K_CLASS64(0), K_CLASS64(64), K_CLASS64(128), K_CLASS64(192)};

static bool digit(uint8_t c)
{
    return (kclass[c] & K_DIGIT) != 0;
}

/* Let-dig, with octets >= 0x80 when utf8 (and "-" as well when dash:
 * Ldh-str's inner octets) */
static bool letdig_or(uint8_t c, bool utf8, bool dash)
{
    return (kclass[c] & ((dash ? K_LDH : K_ALPHA | K_DIGIT) | (utf8 ? K_HIGH : 0u))) != 0;
}

static bool letdig(uint8_t c, bool utf8)
{
    return letdig_or(c, utf8, false);
}

/* RFC 5322 s3.2.3 atext, as RFC 5321 s4.1.2 uses it */
static bool atext(uint8_t c)
{
    return (kclass[c] & K_ATEXT) != 0;
}

bool mc_smtp_domain_valid(const uint8_t *s, size_t n, bool utf8, size_t *bad_out)
{
    size_t i = 0;
    if (n == 0) {
        *bad_out = 0;
        return false;
    }
    while (i < n) {
        if (!letdig(s[i], utf8)) {
            *bad_out = i;
            return false;
        }
        while (i < n && s[i] != '.') {
            if (!letdig_or(s[i], utf8, true)) {
                *bad_out = i;
                return false;
            }
            i++;
        }
        if (s[i - 1] == '-') {   /* Ldh-str ends in Let-dig */
            *bad_out = i - 1;
            return false;
        }
        if (i < n) {             /* s[i] == '.': another sub-domain must follow */
            i++;
            if (i == n) {
                *bad_out = i - 1;
                return false;
            }
        }
    }
    return true;
}

/* Snum 3("." Snum), Snum = 1*3DIGIT valued 0-255 */
static bool ipv4_valid(const uint8_t *s, size_t n, size_t *bad_out)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, d = 0;
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                *bad_out = i;
                return false;
            }
            i++;
        }
        while (i < n && digit(s[i]) && d < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            d++;
            i++;
        }
        if (d == 0 || d > 3 || v > 255) {
            *bad_out = i;
            return false;
        }
    }
    if (i != n) {
        *bad_out = i;
        return false;
    }
    return true;
}

/* inet_pton accepts what RFC 4291 allows; RFC 5321 s4.1.3 is stricter
 * about "::": IPv6-comp has at most 6 groups besides it, IPv6v4-comp at
 * most 4 besides it and the IPv4 part ("::" stands for 2 or more groups). */
static bool ipv6_comp_groups_ok(const char *a)
{
    size_t groups = 0;
    bool v4 = strchr(a, '.') != NULL;
    if (!strstr(a, "::"))
        return true;
    for (const char *p = a; *p; p++)
        if (*p != ':' && *p != '.' && (p == a || p[-1] == ':'))
            groups++;   /* the first octet of a group (or of the IPv4 part) */
    if (v4)
        groups--;       /* the IPv4 part was counted as one */
    return groups <= (v4 ? 4u : 6u);
}

bool mc_smtp_addr_literal_valid(const uint8_t *s, size_t n, size_t *bad_out)
{
    const uint8_t *in;
    size_t m;
    if (n < 3 || s[0] != '[' || s[n - 1] != ']') {
        *bad_out = n >= 1 && s[0] == '[' ? n : 0;
        return false;
    }
    in = s + 1;
    m = n - 2;
    if (m > 0 && digit(in[0])) {
        if (!ipv4_valid(in, m, bad_out)) {
            *bad_out += 1;
            return false;
        }
        return true;
    }
    if (m >= 5 && mc_ascii_ieq(in, "IPV6:", 5)) {
        char buf[64];
        uint8_t addr[16];
        if (m - 5 >= sizeof(buf)) {
            *bad_out = 1 + 5;
            return false;
        }
        memcpy(buf, in + 5, m - 5);
        buf[m - 5] = '\0';
        if (memchr(buf, '\0', m - 5) || inet_pton(AF_INET6, buf, addr) != 1 ||
            !ipv6_comp_groups_ok(buf)) {
            *bad_out = 1 + 5;
            return false;
        }
        return true;
    }
    /* General-address-literal = Standardized-tag ":" 1*dcontent */
    {
        size_t i = 0;
        while (i < m && letdig_or(in[i], false, true))
            i++;
        if (i == 0 || i >= m || in[i] != ':' || in[i - 1] == '-' || i + 1 == m) {
            *bad_out = 1 + i;
            return false;
        }
        for (i++; i < m; i++) {
            /* dcontent = %d33-90 / %d94-126 */
            if (in[i] < 33 || in[i] > 126 || (in[i] >= 91 && in[i] <= 93)) {
                *bad_out = 1 + i;
                return false;
            }
        }
    }
    return true;
}

bool mc_smtp_host_valid(const uint8_t *s, size_t n, bool utf8, size_t *bad_out)
{
    if (n > 0 && s[0] == '[')
        return mc_smtp_addr_literal_valid(s, n, bad_out);
    return mc_smtp_domain_valid(s, n, utf8, bad_out);
}

/* Quoted-string at s[0] == '"'; returns its length or 0 if unterminated or
 * invalid (*bad_out set). */
static size_t quoted_len(const uint8_t *s, size_t n, size_t *bad_out)
{
    size_t i = 1;
    while (i < n) {
        uint8_t c = s[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (i + 1 >= n || ((s[i + 1] < 32 || s[i + 1] > 126) && s[i + 1] < 0x80)) {
                *bad_out = i + 1;
                return 0;
            }
            i += 2;
            continue;
        }
        if ((c < 32 || c == 127) && c < 0x80) {
            *bad_out = i;
            return 0;
        }
        i++;
    }
    *bad_out = n;
    return 0;
}

/* Dot-string: Atom *("." Atom); returns its length (0 if none) */
static size_t dot_string_len(const uint8_t *s, size_t n, size_t *bad_out)
{
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && atext(s[i]))
            i++;
        if (i == start) {
            *bad_out = i;
            return 0;
        }
        if (i < n && s[i] == '.') {
            i++;
            continue;
        }
        return i;
    }
}

bool mc_smtp_string_valid(const uint8_t *s, size_t n, size_t *bad_out)
{
    size_t l;
    if (n == 0) {
        *bad_out = 0;
        return false;
    }
    if (s[0] == '"') {
        l = quoted_len(s, n, bad_out);
        if (l == 0)
            return false;
    } else {
        l = 0;
        while (l < n && atext(s[l]))
            l++;
    }
    if (l != n) {
        *bad_out = l;
        return false;
    }
    return true;
}

static bool any8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            return true;
    return false;
}

enum mc_anom mc_smtp_parse_path(const uint8_t *s, size_t n, struct mc_smtp_path *out,
                                size_t *bad_out)
{
    size_t i = 1, l, end;
    memset(out, 0, sizeof(*out));
    if (n == 0 || s[0] != '<') {
        *bad_out = 0;
        return MC_ANOM_SMTP_PATH_SYNTAX;
    }
    if (n >= 2 && s[1] == '>') {
        out->null_path = true;
        out->len = 2;
        return MC_ANOM_NONE;
    }
    /* A-d-l ":" */
    if (i < n && s[i] == '@') {
        out->source_route = true;
        for (;;) {
            size_t start, bad;
            i++; /* '@' */
            start = i;
            while (i < n && s[i] != ',' && s[i] != ':' && s[i] != '>')
                i++;
            if (!mc_smtp_domain_valid(s + start, i - start, true, &bad)) {
                *bad_out = start + bad;
                return MC_ANOM_SMTP_PATH_SYNTAX;
            }
            if (i < n && s[i] == ',' && i + 1 < n && s[i + 1] == '@') {
                i++;
                continue;
            }
            if (i < n && s[i] == ':') {
                i++;
                break;
            }
            *bad_out = i;
            return MC_ANOM_SMTP_PATH_SYNTAX;
        }
    }
    /* Local-part */
    out->local_at = i;
    if (i < n && s[i] == '"') {
        size_t bad = 0;
        l = quoted_len(s + i, n - i, &bad);
        if (l == 0) {
            *bad_out = i + bad;
            return MC_ANOM_SMTP_PATH_SYNTAX;
        }
    } else {
        size_t bad = 0;
        l = dot_string_len(s + i, n - i, &bad);
        if (l == 0) {
            *bad_out = i + bad;
            return MC_ANOM_SMTP_PATH_SYNTAX;
        }
    }
    out->local_len = l;
    i += l;
    if (i < n && s[i] == '>' && !out->source_route && l == 10 &&
        mc_ascii_ieq(s + out->local_at, "POSTMASTER", 10)) {
        out->postmaster = true;   /* RFC 5321 s4.1.1.3 "<Postmaster>" */
        out->len = i + 1;
        out->eight_bit = false;
        return MC_ANOM_NONE;
    }
    if (i >= n || s[i] != '@') {
        *bad_out = i;
        return MC_ANOM_SMTP_PATH_SYNTAX;
    }
    i++;
    out->domain_at = i;
    if (i < n && s[i] == '[') {
        const uint8_t *rb = memchr(s + i, ']', n - i);
        end = rb ? (size_t)(rb - s) + 1 : n;
    } else {
        end = i;
        while (end < n && s[end] != '>')
            end++;
    }
    out->domain_len = end - i;
    {
        size_t bad = 0;
        if (!mc_smtp_host_valid(s + i, end - i, true, &bad)) {
            *bad_out = i + bad;
            return MC_ANOM_SMTP_PATH_SYNTAX;
        }
    }
    if (end >= n || s[end] != '>') {
        *bad_out = end;
        return MC_ANOM_SMTP_PATH_SYNTAX;
    }
    out->len = end + 1;
    out->eight_bit = any8(s, out->len);
    if (out->local_len > MC_SMTP_LOCAL_MAX) {
        *bad_out = out->local_at + MC_SMTP_LOCAL_MAX;
        return MC_ANOM_SMTP_LOCAL_TOO_LONG;
    }
    if (out->domain_len > MC_SMTP_DOMAIN_MAX) {
        *bad_out = out->domain_at + MC_SMTP_DOMAIN_MAX;
        return MC_ANOM_SMTP_DOMAIN_TOO_LONG;
    }
    if (out->len > MC_SMTP_PATH_MAX) {
        *bad_out = MC_SMTP_PATH_MAX;
        return MC_ANOM_SMTP_PATH_TOO_LONG;
    }
    return MC_ANOM_NONE;
}

bool mc_smtp_keyword_valid(const uint8_t *s, size_t n)
{
    if (n == 0 || !letdig(s[0], false))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!letdig_or(s[i], false, true))
            return false;
    return true;
}

static bool hexup(uint8_t c)
{
    return (kclass[c] & K_HEXUP) != 0;
}

bool mc_smtp_xtext_valid(const uint8_t *s, size_t n, size_t *bad_out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '+') {
            /* hexchar = "+" 2(%x30-39 / %x41-46) */
            if (i + 2 >= n || !hexup(s[i + 1]) || !hexup(s[i + 2])) {
                *bad_out = i;
                return false;
            }
            i += 2;
            continue;
        }
        if (!(kclass[c] & K_XCHAR)) {
            *bad_out = i;
            return false;
        }
    }
    return true;
}
