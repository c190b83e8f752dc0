/*
 * IMAP responses, server to client.
 *
 * RFC 3501 s7 (responses), s9 (formal syntax, the reference), s4.3 and s4.4
 * (strings, lists); RFC 9051 s9 (number64 literal counts); RFC 3516 and
 * RFC 9051 (literal8 "~{n}"); RFC 5530 (response codes); RFC 4315
 * (APPENDUID, COPYUID); RFC 5161 (ENABLED); RFC 2971 (ID); RFC 2342
 * (NAMESPACE); RFC 7162 s4 (8192-octet lines).
 *
 *   response      = *(continue-req / response-data) response-done
 *   continue-req  = "+" SP (resp-text / base64) CRLF
 *   response-tagged = tag SP resp-cond-state CRLF
 *   tag           = 1*<any ASTRING-CHAR except "+">
 *   response-data = "*" SP (resp-cond-state / resp-cond-bye /
 *                   mailbox-data / message-data / capability-data) CRLF
 *   resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
 *   resp-cond-bye = "BYE" SP resp-text
 *   resp-cond-auth = ("OK" / "PREAUTH") SP resp-text       ; greeting
 *   resp-text     = ["[" resp-text-code "]" SP] text
 *   resp-text-code = "ALERT" / "BADCHARSET" [SP "(" astring *(SP astring) ")"] /
 *                   capability-data / "PARSE" /
 *                   "PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")" /
 *                   "READ-ONLY" / "READ-WRITE" / "TRYCREATE" /
 *                   "UIDNEXT" SP nz-number / "UIDVALIDITY" SP nz-number /
 *                   "UNSEEN" SP nz-number /
 *                   atom [SP 1*<any TEXT-CHAR except "]">]
 *   mailbox-data  = "FLAGS" SP flag-list / "LIST" SP mailbox-list /
 *                   "LSUB" SP mailbox-list / "SEARCH" *(SP nz-number) /
 *                   "STATUS" SP mailbox SP "(" [status-att-list] ")" /
 *                   number SP "EXISTS" / number SP "RECENT"
 *   message-data  = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))
 *   capability-data = "CAPABILITY" *(SP capability) SP "IMAP4rev1" *(SP capability)
 *   literal       = "{" number "}" CRLF *CHAR8
 *   literal8      = "~{" number "}" CRLF *OCTET
 *   quoted        = DQUOTE *QUOTED-CHAR DQUOTE
 *   QUOTED-CHAR   = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials
 *   atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
 *                   quoted-specials / resp-specials
 *   date-time     = DQUOTE date-day-fixed "-" date-month "-" date-year
 *                   SP time SP zone DQUOTE
 *
 * Status responses and continuations are one line, checked whole on
 * arrival (resp-text, resp-text-code and each code's argument). Data
 * responses (everything else untagged) go through a walker that knows
 * quoted strings, literals, atoms, numbers, NIL, lists, and the bracketed
 * section of BODY[...]<...>. Its state survives the literals between line
 * segments: an explicit stack of open levels (never recursion), each with
 * a schema saying what the list holds (msg-att pairs, flags, envelope,
 * address, body-type-1part/mpart with body-fields, body-fld-param,
 * section-spec and header-list, status-att pairs, RFC 2342 namespaces,
 * RFC 2971 ID parameters) and an item counter, so each item is judged at
 * its own offset and each list's length when it closes. Extension data
 * (body-ext-*, mbox-list-extended, unknown atts and responses) is checked
 * for well-formedness only. Single-line responses with a flat grammar
 * (CAPABILITY, ENABLED, FLAGS, SEARCH, EXISTS, RECENT, EXPUNGE) have exact
 * checkers of their own. The first syntax anomaly of a response stops its
 * checking: one error, not a cascade.
 *
 * Literal data is never buffered: it is handed out as fragments pointing
 * into the caller's buffer, and the line layer is advanced past it.
 */
#include "imap_resp.h"

#include <string.h>

#define NUMBER_MAX 4294967295ULL   /* RFC 3501 s9: number is 32-bit unsigned */

void mc_imap_resp_init(struct mc_imap_resp *p)
{
    memset(p, 0, sizeof(*p));
    /* the 8192 limit counts a line across its literals: checked here */
    mc_line_init(&p->line, 0);
}

bool mc_imap_resp_partial(const struct mc_imap_resp *p)
{
    return p->in_resp || p->in_lit || mc_line_partial(&p->line);
}

bool mc_imap_resp_resyncing(const struct mc_imap_resp *p)
{
    return mc_line_resyncing(&p->line);
}

bool mc_imap_resp_in_literal(const struct mc_imap_resp *p)
{
    return p->in_lit;
}

uint64_t mc_imap_resp_offset(const struct mc_imap_resp *p)
{
    return p->line.pos;
}

/* ---- character classes (RFC 3501 s9) ---- */

/* n digits (n >= 1) whose value is at most max. */
static bool digits_at_most(const uint8_t *s, size_t n, uint64_t max)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)s[i] - '0';
        if (d > 9 || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    return true;
}

static bool digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* s (n octets) is the upper-case name (at least n characters long),
 * ignoring case: mc_ascii_ieq, here where the compiler can inline it (and
 * unroll it for the constant lengths of keywords) on the per-response
 * paths */
static inline bool name_is(const char *name, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 32);
        if (c != (uint8_t)name[i])
            return false;
    }
    return true;
}

/* Octet classes, one table row per 16 octets. This runs per octet: a
 * table load has no branch where a switch had several, and no variable
 * shift as a bit set would.
 * C_ATOM: ATOM-CHAR, CHAR except atom-specials (CTL, SP, "(", ")", "{",
 *         "%", "*", DQUOTE, "\", "]");
 * C_WORD: an ATOM-CHAR that goes on a word in the data walker, all but
 *         "[" (which opens the section of BODY[...]). */
#define C_ATOM 1u
#define C_WORD 2u
#define A (C_ATOM | C_WORD)
#define L C_ATOM
static const uint8_t char_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x00 CTL */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x10 CTL */
    0, A, 0, A, A, 0, A, A, 0, 0, 0, A, A, A, A, A,  /* SP ! " # $ % & ' ( ) * + , - . / */
    A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,  /* 0-9 : ; < = > ? */
    A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,  /* @ A-O */
    A, A, A, A, A, A, A, A, A, A, A, L, 0, 0, A, A,  /* P-Z [ \ ] ^ _ */
    A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,  /* ` a-o */
    A, A, A, A, A, A, A, A, A, A, A, 0, A, A, A, 0,  /* p-z { | } ~ DEL */
    /* 0x80-0xFF: not CHAR, 0 */
};
#undef A
#undef L

static bool atom_char(uint8_t c)
{
    return (char_class[c] & C_ATOM) != 0;
}

/* ASTRING-CHAR = ATOM-CHAR / resp-specials */
static bool astring_char(uint8_t c)
{
    return atom_char(c) || c == ']';
}

/* s (n octets) starts with the keyword name (len octets, upper case) as a
 * whole atom: what follows it, if anything, is no ATOM-CHAR */
static bool keyword_is(const char *name, size_t len, const uint8_t *s, size_t n)
{
    return n >= len && name_is(name, s, len) && (n == len || !atom_char(s[len]));
}

/* ---- anomalies ---- */

/* Reports a syntax anomaly and stops checking the rest of the response. */
static void syntax(struct mc_imap_resp *p, enum mc_anom code, uint64_t off)
{
    if (!p->bad)
        mc_anoms_add(&p->anoms, code, off);
    p->bad = true;
}

/* ---- small grammar pieces over one kept segment ---- */

/* A number at s[i..]: returns the end index; *ok false if no digit, a
 * leading zero where nz-number is asked for, or a value over 32 bits. */
static size_t number_at(const uint8_t *s, size_t n, size_t i, bool nz, uint64_t *v, bool *ok)
{
    size_t j = i;
    uint64_t x = 0;
    /* one pass, value and length together; x is used only for at most 10
     * digits, which cannot overflow 64 bits, so one range check at the end
     * does what mc_parse_u64 does per digit with a division */
    while (j < n && digit(s[j])) {
        x = x * 10 + (uint64_t)(s[j] - '0');
        j++;
    }
    *ok = false;
    if (j == i || j - i > 10)
        return j;
    if (x > NUMBER_MAX)
        return j;          /* *v untouched, as mc_parse_u64 leaves it */
    *v = x;
    *ok = !(nz && s[i] == '0');
    return j;
}

/* Checks a whole span as one number; reports at the first bad octet. */
static bool number_span(struct mc_imap_resp *p, const uint8_t *s, size_t n, uint64_t off, bool nz,
                        uint64_t *v)
{
    bool ok;
    uint64_t dummy;
    size_t j = number_at(s, n, 0, nz, v ? v : &dummy, &ok);
    if (!ok || j != n) {
        syntax(p, MC_ANOM_IMAP_NUMBER, off + (ok ? j : 0));
        return false;
    }
    return true;
}

/* quoted at s[i] == '"': returns the index after the closing quote, or 0
 * after an anomaly. */
static size_t quoted_at(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i, uint64_t off)
{
    size_t j = i + 1;
    while (j < n && s[j] != '"') {
        if (s[j] == '\\') {
            /* only \\ and \" (quoted-specials) may be escaped */
            if (j + 1 >= n || (s[j + 1] != '\\' && s[j + 1] != '"')) {
                syntax(p, MC_ANOM_IMAP_QUOTED, off + j + 1);
                return 0;
            }
            j++;
        }
        j++;
    }
    if (j >= n) {
        syntax(p, MC_ANOM_IMAP_QUOTED, off + n);
        return 0;
    }
    return j + 1;
}

/* flag = "\" atom / atom; flag-perm adds "\*". Returns the end index or 0. */
static size_t flag_at(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i, uint64_t off,
                      bool perm)
{
    size_t j = i;
    if (j < n && s[j] == '\\') {
        j++;
        if (perm && j < n && s[j] == '*')
            return j + 1;
    }
    size_t a = j;
    while (j < n && atom_char(s[j]))
        j++;
    if (j == a) {
        syntax(p, MC_ANOM_IMAP_FLAG_SYNTAX, off + j);
        return 0;
    }
    return j;
}

/* "(" [flag *(SP flag)] ")" covering s[0..n) exactly */
static void flag_list(struct mc_imap_resp *p, const uint8_t *s, size_t n, uint64_t off, bool perm)
{
    size_t i = 1;
    if (n < 2 || s[0] != '(') {
        syntax(p, MC_ANOM_IMAP_FLAG_SYNTAX, off);
        return;
    }
    if (s[1] != ')') {
        for (;;) {
            i = flag_at(p, s, n, i, off, perm);
            if (i == 0)
                return;
            if (i < n && s[i] == ' ') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i >= n || s[i] != ')' || i + 1 != n)
        syntax(p, MC_ANOM_IMAP_FLAG_SYNTAX, off + (i < n && s[i] == ')' ? i + 1 : i));
}

/* *(SP capability), all atoms; the list must name IMAP4rev1 or IMAP4rev2
 * when 'rev' is set (capability-data). s starts at the SP or is empty. */
static void atom_list(struct mc_imap_resp *p, const uint8_t *s, size_t n, uint64_t off, bool rev)
{
    bool seen_rev = false;
    size_t i = 0;
    while (i < n) {
        size_t a;
        if (s[i] != ' ') {
            syntax(p, MC_ANOM_IMAP_SPACE, off + i);
            return;
        }
        a = ++i;
        while (i < n && atom_char(s[i]))
            i++;
        if (i == a || (i < n && s[i] != ' ')) {
            syntax(p, i == a && i < n && s[i] == ' ' ? MC_ANOM_IMAP_SPACE : MC_ANOM_IMAP_ATOM_CHAR,
                   off + i);
            return;
        }
        if (i - a == 9 &&
            (name_is("IMAP4REV1", s + a, 9) || name_is("IMAP4REV2", s + a, 9)))
            seen_rev = true;
    }
    if (rev && !seen_rev)
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_CAPA_NO_REV, off + n);
}

/* uid-set = (uniqueid / uid-range) *("," uid-set) (RFC 4315 s4) */
static size_t uid_set_at(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i,
                         uint64_t off)
{
    for (;;) {
        bool ok;
        uint64_t v;
        size_t j = number_at(s, n, i, true, &v, &ok);
        if (!ok) {
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off + i);
            return 0;
        }
        if (j < n && s[j] == ':') {
            i = j + 1;
            j = number_at(s, n, i, true, &v, &ok);
            if (!ok) {
                syntax(p, MC_ANOM_IMAP_CODE_ARG, off + i);
                return 0;
            }
        }
        if (j < n && s[j] == ',') {
            i = j + 1;
            continue;
        }
        return j;
    }
}

/* ---- response codes (RFC 3501 s7.1, RFC 5530, RFC 4315) ---- */

enum code_arg {
    ARG_NONE,      /* no argument allowed */
    ARG_CHARSETS,  /* [SP "(" astring *(SP astring) ")"] */
    ARG_CAPA,      /* capability list with IMAP4rev1/rev2 */
    ARG_PERMFLAGS, /* SP "(" [flag-perm *(SP flag-perm)] ")" */
    ARG_NZ,        /* SP nz-number */
    ARG_APPENDUID, /* SP nz-number SP uid-set */
    ARG_COPYUID,   /* SP nz-number SP uid-set SP uid-set */
    ARG_ANY        /* unknown code: [SP 1*<TEXT-CHAR except "]">] */
};

/* The argument of the response code (RFC 3501 s7.1, RFC 5530 s3, RFC 4315
 * s3) s (n octets, the rest of the line) starts with, the code's length in
 * *len; ARG_ANY when it starts with none. As keyword_at (below): matched in
 * place, dispatched on the first letter. */
static uint8_t code_kind_at(const uint8_t *s, size_t n, size_t *len)
{
    /* a match also stores the code's length */
#define IS(name) (keyword_is(name, sizeof(name) - 1, s, n) && (*len = sizeof(name) - 1) > 0)
    uint8_t c = n > 0 ? s[0] : 0;
    if (c >= 'a' && c <= 'z')
        c = (uint8_t)(c - 32);
    switch (c) {
    case 'A':
        return IS("ALERT") || IS("AUTHENTICATIONFAILED") || IS("AUTHORIZATIONFAILED") ||
                       IS("ALREADYEXISTS")
                   ? ARG_NONE
               : IS("APPENDUID") ? ARG_APPENDUID
                                 : ARG_ANY;
    case 'B':
        return IS("BADCHARSET") ? ARG_CHARSETS : ARG_ANY;
    case 'C':
        return IS("CAPABILITY") ? ARG_CAPA
               : IS("CONTACTADMIN") || IS("CORRUPTION") || IS("CLIENTBUG") || IS("CANNOT")
                   ? ARG_NONE
               : IS("COPYUID") ? ARG_COPYUID
                               : ARG_ANY;
    case 'E':
        return IS("EXPIRED") || IS("EXPUNGEISSUED") ? ARG_NONE : ARG_ANY;
    case 'I':
        return IS("INUSE") ? ARG_NONE : ARG_ANY;
    case 'L':
        return IS("LIMIT") ? ARG_NONE : ARG_ANY;
    case 'N':
        return IS("NOPERM") || IS("NONEXISTENT") ? ARG_NONE : ARG_ANY;
    case 'O':
        return IS("OVERQUOTA") ? ARG_NONE : ARG_ANY;
    case 'P':
        return IS("PARSE") || IS("PRIVACYREQUIRED") ? ARG_NONE
               : IS("PERMANENTFLAGS")                 ? ARG_PERMFLAGS
                                                      : ARG_ANY;
    case 'R':
        return IS("READ-ONLY") || IS("READ-WRITE") ? ARG_NONE : ARG_ANY;
    case 'S':
        return IS("SERVERBUG") ? ARG_NONE : ARG_ANY;
    case 'T':
        return IS("TRYCREATE") ? ARG_NONE : ARG_ANY;
    case 'U':
        return IS("UIDNEXT") || IS("UIDVALIDITY") || IS("UNSEEN") ? ARG_NZ
               : IS("UNAVAILABLE") || IS("UIDNOTSTICKY")          ? ARG_NONE
                                                                  : ARG_ANY;
    default:
        return ARG_ANY;
    }
#undef IS
}

/* "(" astring *(SP astring) ")" covering s[0..n): BADCHARSET's charsets */
static void charset_list(struct mc_imap_resp *p, const uint8_t *s, size_t n, uint64_t off)
{
    size_t i = 1;
    if (n < 3 || s[0] != '(') {
        syntax(p, MC_ANOM_IMAP_CODE_ARG, off);
        return;
    }
    for (;;) {
        size_t a = i;
        if (i < n && s[i] == '"') {
            i = quoted_at(p, s, n, i, off);
            if (i == 0)
                return;
        } else {
            /* astring-char here, minus the "]" that ends the code */
            while (i < n && atom_char(s[i]))
                i++;
            if (i == a) {
                syntax(p, MC_ANOM_IMAP_CODE_ARG, off + i);
                return;
            }
        }
        if (i < n && s[i] == ' ') {
            i++;
            continue;
        }
        break;
    }
    if (i + 1 != n || s[i] != ')')
        syntax(p, MC_ANOM_IMAP_CODE_ARG, off + i);
}

static void code_args(struct mc_imap_resp *p, uint8_t kind, const uint8_t *s, size_t n,
                      uint64_t off, bool has_sp)
{
    size_t i;
    switch (kind) {
    case ARG_NONE:
        if (has_sp)
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off - 1);
        return;
    case ARG_CHARSETS:
        if (has_sp)
            charset_list(p, s, n, off);
        return;
    case ARG_CAPA:
        /* atom_list wants the leading SP the span lacks */
        if (!has_sp) {
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off);
            return;
        }
        atom_list(p, s - 1, n + 1, off - 1, true);
        return;
    case ARG_PERMFLAGS:
        if (!has_sp)
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off);
        else
            flag_list(p, s, n, off, true);
        return;
    case ARG_NZ:
        if (!has_sp)
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off);
        else
            number_span(p, s, n, off, true, NULL);
        return;
    case ARG_APPENDUID:
    case ARG_COPYUID: {
        bool ok;
        uint64_t v;
        if (!has_sp) {
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off);
            return;
        }
        i = number_at(s, n, 0, true, &v, &ok);
        if (!ok || i >= n || s[i] != ' ') {
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off + (ok ? i : 0));
            return;
        }
        i = uid_set_at(p, s, n, i + 1, off);
        if (i == 0)
            return;
        if (kind == ARG_COPYUID) {
            if (i >= n || s[i] != ' ') {
                syntax(p, MC_ANOM_IMAP_CODE_ARG, off + i);
                return;
            }
            i = uid_set_at(p, s, n, i + 1, off);
            if (i == 0)
                return;
        }
        if (i != n)
            syntax(p, MC_ANOM_IMAP_CODE_ARG, off + i);
        return;
    }
    default:
        return; /* any TEXT-CHAR but "]" up to the "]" */
    }
}

/* "[" resp-text-code "]" at s[i]; returns the index after "]" or 0. */
static size_t resp_code(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i, uint64_t off)
{
    size_t j = i + 1, a = j, e, len = 0;
    bool has_sp;
    /* a known code ends its atom; any other atom is scanned */
    uint8_t kind = code_kind_at(s + a, n - a, &len);
    if (kind != ARG_ANY) {
        j = a + len;
    } else {
        while (j < n && atom_char(s[j]))
            j++;
    }
    if (j == a || j >= n || (s[j] != ']' && s[j] != ' ')) {
        syntax(p, MC_ANOM_IMAP_CODE_SYNTAX, off + j);
        return 0;
    }
    p->code_at = a;
    p->code_len = j - a;
    has_sp = s[j] == ' ';
    e = has_sp ? j + 1 : j;
    while (e < n && s[e] != ']')
        e++;
    if (e >= n) {
        syntax(p, MC_ANOM_IMAP_CODE_SYNTAX, off + n);
        return 0;
    }
    if (has_sp) {
        p->arg_at = j + 1;
        p->arg_len = e - (j + 1);
        if (p->arg_len == 0) {
            syntax(p, MC_ANOM_IMAP_CODE_SYNTAX, off + e);
            return 0;
        }
    }
    code_args(p, kind, s + (has_sp ? j + 1 : j), e - (has_sp ? j + 1 : j),
              off + (has_sp ? j + 1 : j), has_sp);
    return e + 1;
}

/* resp-text after a status keyword that ends at s[i]: SP ["[" code "]" SP]
 * text. Continuations pass cont: text may be empty (base64 may be). */
static void resp_text(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i, uint64_t off,
                      bool cont)
{
    p->text_at = i;
    if (i >= n || s[i] != ' ') {
        if (cont)
            syntax(p, MC_ANOM_IMAP_CONT_NO_SP, off + i);
        else if (i >= n)
            mc_anoms_add(&p->anoms, MC_ANOM_IMAP_TEXT_MISSING, off + i);
        else
            syntax(p, MC_ANOM_IMAP_RESP_SYNTAX, off + i);
        p->text_len = n - i;
        return;
    }
    i++;
    if (i < n && s[i] == '[') {
        size_t e = resp_code(p, s, n, i, off);
        if (e != 0 && e < n && s[e] != ' ')
            syntax(p, MC_ANOM_IMAP_CODE_SYNTAX, off + e);
        else if (e != 0)
            i = e < n ? e + 1 : e;
    }
    p->text_at = i;
    p->text_len = n - i;
    /* RFC 3501: text = 1*TEXT-CHAR (RFC 9051 made it optional) */
    if (i == n && !cont)
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_TEXT_MISSING, off + i);
}

/* ---- the data walker ---- */

/* What a list holds; each open level carries one (the explicit stack). */
enum schema {
    S_ANY,       /* not checked further (extensions, sections, ID, NAMESPACE) */
    S_FETCH,     /* msg-att: name SP value pairs */
    S_FLAGS,     /* flag-fetch list */
    S_MBXFLAGS,  /* mbx-list-flags: "\" atom each */
    S_STATUS,    /* status-att-list: att SP number pairs */
    S_ENVELOPE,  /* the 10 envelope fields */
    S_ADDRLIST,  /* "(" 1*address ")" */
    S_ADDRESS,   /* 4 nstrings */
    S_BODY,      /* body-type-1part / body-type-mpart */
    S_PARAMS,    /* body-fld-param: string SP string pairs */
    S_SECT,      /* BODY[section-spec]; flags 1: HEADER.FIELDS wants its list */
    S_SECT_BIN,  /* BINARY[section-part] (RFC 3516) */
    S_HDRLIST,   /* header-list: "(" header-fld-name *(SP header-fld-name) ")" */
    S_NSLIST,    /* RFC 2342 Namespace: "(" 1*namespace-descr ")" */
    S_NS,        /* "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil) *ext ")" */
    S_IDPARAMS,  /* RFC 2971: *(string SP nstring) */
    S_DSP,       /* body-fld-dsp: "(" string SP body-fld-param ")" */
    S_LANG       /* body-fld-lang list: "(" string *(SP string) ")" */
};

/* S_BODY flags */
#define B_MPART   0x01u
#define B_TEXT    0x02u
#define B_MSG     0x04u   /* type MESSAGE; with subtype RFC822/GLOBAL: B_RFC822 */
#define B_RFC822  0x08u
#define B_SUBTYPE 0x10u   /* multipart: the subtype came */

/* S_FETCH flags: the att whose value comes next */
enum fetch_att {
    FA_OTHER, FA_UID, FA_SIZE, FA_DATE, FA_FLAGS, FA_ENVELOPE, FA_BODY, FA_NSTRING,
    FA_BINARY   /* nstring / literal8 (RFC 3516 s4.2) */
};

static bool push(struct mc_imap_resp *p, uint8_t c, uint8_t schema, uint64_t off)
{
    if (p->depth >= MC_IMAP_NEST_MAX) {
        syntax(p, MC_ANOM_IMAP_NEST_TOO_DEEP, off);
        return false;
    }
    p->stack[p->depth++] = (struct mc_imap_level){c, schema, 0, 0, 0};
    return true;
}

/* Items a closed list must have had, by its schema. */
static bool count_ok(const struct mc_imap_level *lv)
{
    switch (lv->schema) {
    case S_FETCH:
        return lv->count >= 2 && lv->count % 2 == 0;
    case S_STATUS:
        return lv->count % 2 == 0;
    case S_PARAMS:
        return lv->count >= 2 && lv->count % 2 == 0;
    case S_ENVELOPE:
        return lv->count == 10;
    case S_ADDRLIST:
        return lv->count >= 1;
    case S_ADDRESS:
        return lv->count == 4;
    case S_SECT:
        return (lv->flags & 1u) ? lv->count == 2 : lv->count <= 1;
    case S_SECT_BIN:
        return lv->count <= 1;
    case S_HDRLIST:
    case S_NSLIST:
        return lv->count >= 1;
    case S_NS:
        return lv->count >= 2;
    case S_IDPARAMS:
        return lv->count % 2 == 0;
    case S_DSP:
        return lv->count == 2;
    case S_LANG:
        return lv->count >= 1;
    case S_BODY:
        if (lv->flags & B_MPART)
            return (lv->flags & B_SUBTYPE) != 0;
        return lv->count >= ((lv->flags & B_RFC822) ? 10u : (lv->flags & B_TEXT) ? 8u : 7u);
    default:
        return true;
    }
}

static bool pop(struct mc_imap_resp *p, uint8_t c, uint64_t off)
{
    uint8_t want = c == ')' ? '(' : '[';
    if (p->depth == 0 || p->stack[p->depth - 1].open != want) {
        syntax(p, MC_ANOM_IMAP_PAREN, off);
        return false;
    }
    if (!count_ok(&p->stack[p->depth - 1])) {
        syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return false;
    }
    p->depth--;
    return true;
}

static bool month_ok(const uint8_t *m)
{
    static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    for (size_t k = 0; k < 36; k += 3)
        if (name_is(months + k, m, 3))
            return true;
    return false;
}

/* date-time inside its quotes: "dd-Mon-yyyy hh:mm:ss +zzzz" (26 octets,
 * the day may be SP DIGIT). Returns the index of the first bad octet or n. */
static size_t date_time_bad(const uint8_t *s, size_t n)
{
    static const char shape[] = "dd-Mmm-dddd dd:dd:dd zdddd";
    for (size_t k = 0; k < 26; k++) {
        char w = shape[k];
        uint8_t c;
        if (k >= n)
            return n;
        c = s[k];
        if (w == 'd') {
            if (!digit(c) && !(k == 0 && c == ' '))
                return k;
        } else if (w == 'M') {
            if (k + 3 > n || !month_ok(s + k))
                return k;
            k += 2;
        } else if (w == 'z') {
            if (c != '+' && c != '-')
                return k;
        } else if (c != (uint8_t)w) {
            return k;
        }
    }
    if (n != 26)
        return 26;
    /* ranges: day 1-31, hour 0-23, minute 0-59, second 0-60 (leap) */
    unsigned day = (s[0] == ' ' ? 0u : (unsigned)(s[0] - '0') * 10u) + (unsigned)(s[1] - '0');
    if (day < 1 || day > 31)
        return 0;
    if ((s[12] - '0') * 10 + (s[13] - '0') > 23)
        return 12;
    if ((s[15] - '0') * 10 + (s[16] - '0') > 59)
        return 15;
    if ((s[18] - '0') * 10 + (s[19] - '0') > 60)
        return 18;
    return n;
}

/* The att a FETCH name announces; 'sect' when "[" followed the word.
 * Dispatched on the first letter: this runs for every att of every FETCH. */
static uint8_t fetch_att_of(const uint8_t *s, size_t n, bool sect)
{
#define IS(name) (n == sizeof(name) - 1 && name_is(name, s, n))
#define ATT(plain, with_section) (sect ? (with_section) : (plain))
    uint8_t c = n > 0 ? s[0] : 0;
    if (c >= 'a' && c <= 'z')
        c = (uint8_t)(c - 32);
    switch (c) {
    case 'B':
        /* BODY alone is the structure, BODY[section] the content; RFC 3516:
         * BINARY[...] is nstring or literal8, BINARY.SIZE[...] a number */
        return IS("BODY")            ? ATT(FA_BODY, FA_NSTRING)
               : IS("BODYSTRUCTURE") ? ATT(FA_BODY, FA_OTHER)
               : IS("BINARY")        ? ATT(FA_OTHER, FA_BINARY)
               : IS("BINARY.SIZE")   ? ATT(FA_OTHER, FA_SIZE)
                                     : FA_OTHER;
    case 'E':
        return IS("ENVELOPE") ? ATT(FA_ENVELOPE, FA_OTHER) : FA_OTHER;
    case 'F':
        return IS("FLAGS") ? ATT(FA_FLAGS, FA_OTHER) : FA_OTHER;
    case 'I':
        return IS("INTERNALDATE") ? ATT(FA_DATE, FA_OTHER) : FA_OTHER;
    case 'R':
        return IS("RFC822") || IS("RFC822.HEADER") || IS("RFC822.TEXT") ? ATT(FA_NSTRING, FA_OTHER)
               : IS("RFC822.SIZE")                                      ? ATT(FA_SIZE, FA_OTHER)
                                                                        : FA_OTHER;
    case 'U':
        return IS("UID") ? ATT(FA_UID, FA_OTHER) : FA_OTHER;
    default:
        return FA_OTHER;
    }
#undef ATT
#undef IS
}

/* Item types: '(' a list, '"' quoted, '{' literal, '8' literal8, 'w' a
 * word, 'W' a word followed by a "[section]". A literal8 is a string only
 * where BINARY[] allows it; lists of unchecked schema take anything. */
static bool is_nil(uint8_t t, const uint8_t *s, size_t n)
{
    return t == 'w' && n == 3 && name_is("NIL", s, 3);
}

static bool is_string(uint8_t t)
{
    return t == '"' || t == '{';
}

static bool is_nstring(uint8_t t, const uint8_t *s, size_t n)
{
    return is_string(t) || is_nil(t, s, n);
}

static bool quoted_is(uint8_t t, const uint8_t *s, size_t n, const char *up)
{
    size_t k = strlen(up);
    return t == '"' && n == k + 2 && name_is(up, s + 1, k);
}

/* flag = "\" atom / atom (RFC 3501 s9); "\*" is only for PERMANENTFLAGS */
static bool flag_word(const uint8_t *s, size_t n)
{
    size_t i = n > 0 && s[0] == '\\' ? 1 : 0;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (!atom_char(s[i]))
            return false;
    return true;
}

/* A value of a FETCH att (odd items of S_FETCH). Returns the child schema. */
static uint8_t fetch_value(struct mc_imap_resp *p, uint8_t att, uint8_t t, const uint8_t *s,
                           size_t n, uint64_t off)
{
    switch (att) {
    case FA_UID:
    case FA_SIZE:
        if (t != 'w')
            syntax(p, MC_ANOM_IMAP_NUMBER, off);
        else
            number_span(p, s, n, off, att == FA_UID, NULL);
        return S_ANY;
    case FA_DATE:
        if (t != '"') {
            syntax(p, MC_ANOM_IMAP_DATE_SYNTAX, off);
        } else {
            size_t bad = date_time_bad(s + 1, n - 2);
            if (bad != n - 2)
                syntax(p, MC_ANOM_IMAP_DATE_SYNTAX, off + 1 + bad);
        }
        return S_ANY;
    case FA_FLAGS:
        if (t != '(')
            syntax(p, MC_ANOM_IMAP_FLAG_SYNTAX, off);
        return S_FLAGS;
    case FA_ENVELOPE:
        if (t != '(')
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ENVELOPE;
    case FA_BODY:
        if (t != '(')
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_BODY;
    case FA_BINARY:
        if (t != '8' && !is_nstring(t, s, n))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;
    case FA_NSTRING:
        if (!is_nstring(t, s, n))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;
    default:
        return S_ANY;
    }
}

/* Extension data of a body, item e after the fields (RFC 3501 s9):
 *   body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang
 *                    [SP body-fld-loc *(SP body-extension)]]]
 *   body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang
 *                    [SP body-fld-loc *(SP body-extension)]]]
 * e == 0 is md5 (nstring) or param; then dsp, lang, loc; the rest free. */
static uint8_t body_ext(struct mc_imap_resp *p, bool mpart, unsigned e, uint8_t t,
                        const uint8_t *s, size_t n, uint64_t off)
{
    bool bad = false;
    uint8_t child = S_ANY;
    switch (e) {
    case 0:
        if (mpart) {
            bad = t != '(' && !is_nil(t, s, n);
            child = S_PARAMS;
        } else {
            bad = !is_nstring(t, s, n);
        }
        break;
    case 1:   /* body-fld-dsp = "(" string SP body-fld-param ")" / nil */
        bad = t != '(' && !is_nil(t, s, n);
        child = S_DSP;
        break;
    case 2:   /* body-fld-lang = nstring / "(" string *(SP string) ")" */
        bad = t != '(' && !is_nstring(t, s, n);
        child = S_LANG;
        break;
    case 3:   /* body-fld-loc = nstring */
        bad = !is_nstring(t, s, n);
        break;
    default:
        break;
    }
    if (bad)
        syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
    return child;
}

/* body = "(" (body-type-1part / body-type-mpart) ")": item k of a body. */
static uint8_t body_item(struct mc_imap_resp *p, struct mc_imap_level *lv, uint16_t k, uint8_t t,
                         const uint8_t *s, size_t n, uint64_t off)
{
    bool bad = false;
    if (k == 0 && t == '(')
        lv->flags |= B_MPART;
    if (lv->flags & B_MPART) {
        /* 1*body SP media-subtype [SP body-ext-mpart] */
        if (lv->flags & B_SUBTYPE)
            return body_ext(p, true, (unsigned)(k - lv->mark - 1u), t, s, n, off);
        if (t == '(')
            return S_BODY;
        if (!is_string(t))
            bad = true;
        lv->flags |= B_SUBTYPE;
        lv->mark = k;
    } else {
        unsigned ext = (lv->flags & B_RFC822) ? 10u : (lv->flags & B_TEXT) ? 8u : 7u;
        if (k >= ext)
            return body_ext(p, false, k - ext, t, s, n, off);
        switch (k) {
        case 0:
            bad = !is_string(t);
            if (quoted_is(t, s, n, "TEXT"))
                lv->flags |= B_TEXT;
            else if (quoted_is(t, s, n, "MESSAGE"))
                lv->flags |= B_MSG;
            break;
        case 1:
            bad = !is_string(t);
            if ((lv->flags & B_MSG) &&
                (quoted_is(t, s, n, "RFC822") || quoted_is(t, s, n, "GLOBAL")))
                lv->flags |= B_RFC822;
            break;
        case 2:   /* body-fld-param */
            bad = t != '(' && !is_nil(t, s, n);
            if (!bad && t == '(')
                return S_PARAMS;
            break;
        case 3:   /* body-fld-id */
        case 4:   /* body-fld-desc */
            bad = !is_nstring(t, s, n);
            break;
        case 5:   /* body-fld-enc */
            bad = !is_string(t);
            break;
        case 6:   /* body-fld-octets */
        case 7:   /* body-fld-lines (text), envelope (message/rfc822) */
        case 9:
            if (k == 7 && (lv->flags & B_RFC822)) {
                bad = t != '(';
                if (!bad)
                    return S_ENVELOPE;
                break;
            }
            if (t != 'w')
                bad = true;
            else
                number_span(p, s, n, off, false, NULL);
            break;
        case 8:   /* body (message/rfc822) */
            bad = t != '(';
            if (!bad)
                return S_BODY;
            break;
        default:
            break;
        }
    }
    if (bad)
        syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
    return S_ANY;
}

/* Top-level items of the data responses with a positional grammar. */
static uint8_t top_item(struct mc_imap_resp *p, uint16_t k, uint8_t t, const uint8_t *s, size_t n,
                        uint64_t off)
{
    bool bad = false;
    uint8_t child = S_ANY;
    switch (p->kind) {
    case MC_IMAP_KIND_FETCH:
        bad = k > 0 || t != '(';
        child = S_FETCH;
        break;
    case MC_IMAP_KIND_LIST:
    case MC_IMAP_KIND_LSUB:
        /* "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP
         * mailbox [SP mbox-list-extended (RFC 5258)] */
        if (k == 0) {
            bad = t != '(';
            child = S_MBXFLAGS;
        } else if (k == 1) {
            bad = !is_nil(t, s, n) && !(t == '"' && (n == 3 || (n == 4 && s[1] == '\\')));
        } else if (k == 2) {
            bad = t == '(' || t == 'W';
        } else {
            bad = k > 3 || t != '(';
        }
        break;
    case MC_IMAP_KIND_NAMESPACE:
        /* RFC 2342 s5: Namespace SP Namespace SP Namespace */
        bad = k > 2 || (t != '(' && !is_nil(t, s, n));
        child = S_NSLIST;
        break;
    case MC_IMAP_KIND_ID:
        /* RFC 2971 s3.2: "ID" SP id-params-list */
        bad = k > 0 || (t != '(' && !is_nil(t, s, n));
        child = S_IDPARAMS;
        break;
    case MC_IMAP_KIND_STATUS:
        /* mailbox SP "(" [status-att-list] ")" */
        if (k == 0)
            bad = t == '(' || t == 'W';
        else
            bad = k > 1 || t != '(';
        child = S_STATUS;
        break;
    default:
        break;
    }
    if (bad)
        syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
    return child;
}

/* section-part = nz-number *("." nz-number); returns the index after it
 * (0: none). A "." followed by a non-digit is left for section-text. */
static size_t section_part(const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t a = i;
        while (i < n && digit(s[i]))
            i++;
        if (i == a || s[a] == '0')
            return a;          /* no digits (or nz-number broken): stop before */
        if (i + 1 < n && s[i] == '.' && digit(s[i + 1])) {
            i++;
            continue;
        }
        return i;
    }
}

/* section-spec = section-msgtext / (section-part ["." section-text])
 * section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list /
 *                   "TEXT";  section-text = section-msgtext / "MIME".
 * Returns the index of the first bad octet or n; *fields set when a
 * header-list must follow. */
static size_t section_spec_bad(const uint8_t *s, size_t n, bool binary, bool *fields)
{
    size_t i = section_part(s, n), r;
    bool part = i > 0;
    *fields = false;
    if (binary || i == n)
        return i == n && (part || !binary) ? n : i;
    if (part) {
        if (s[i] != '.')
            return i;
        i++;
    }
    r = n - i;
    if ((r == 6 && name_is("HEADER", s + i, 6)) ||
        (r == 4 && name_is("TEXT", s + i, 4)) ||
        (part && r == 4 && name_is("MIME", s + i, 4)))
        return n;
    if ((r == 13 && name_is("HEADER.FIELDS", s + i, 13)) ||
        (r == 17 && name_is("HEADER.FIELDS.NOT", s + i, 17))) {
        *fields = true;
        return n;
    }
    return i;
}

/* An item begins at the current level: checks it against the level's
 * schema and returns the schema of the list it opens (t == '('). */
static uint8_t item(struct mc_imap_resp *p, uint8_t t, const uint8_t *s, size_t n, uint64_t off)
{
    struct mc_imap_level *lv;
    uint16_t k;
    if (p->depth == 0) {
        k = p->top_count;
        if (p->top_count < UINT16_MAX)
            p->top_count++;
        return top_item(p, k, t, s, n, off);
    }
    lv = &p->stack[p->depth - 1];
    k = lv->count;
    if (lv->count < UINT16_MAX)
        lv->count++;
    switch (lv->schema) {
    case S_FETCH:
        if (k % 2 == 0) {
            if (t != 'w' && t != 'W')
                syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
            lv->flags = t == 'w' || t == 'W' ? fetch_att_of(s, n, t == 'W') : FA_OTHER;
            /* the schema of the "[" section that follows a 'W' name */
            if (t == 'W' && n >= 6 && name_is("BINARY", s, 6))
                return S_SECT_BIN;
            return t == 'W' && n == 4 && name_is("BODY", s, 4) ? S_SECT : S_ANY;
        }
        return fetch_value(p, lv->flags, t, s, n, off);
    case S_FLAGS:
        if ((t != 'w' || !flag_word(s, n)))
            syntax(p, MC_ANOM_IMAP_FLAG_SYNTAX, off);
        return S_ANY;
    case S_MBXFLAGS:
        if (t != 'w' || n < 2 || s[0] != '\\' || !flag_word(s, n))
            syntax(p, MC_ANOM_IMAP_FLAG_SYNTAX, off);
        return S_ANY;
    case S_STATUS:
        if (k % 2 == 0) {
            if (t != 'w')
                syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
            /* RFC 9051 s7.5.4 (SIZE number64) and RFC 7162 s7
             * (HIGHESTMODSEQ mod-sequence-valzer) are 63-bit; MESSAGES,
             * UIDNEXT, UIDVALIDITY, UNSEEN, RECENT, DELETED are 32-bit */
            lv->flags = t == 'w' && ((n == 4 && name_is("SIZE", s, n)) ||
                                     (n == 13 && name_is("HIGHESTMODSEQ", s, n)));
        } else if (t != 'w' || !digits_at_most(s, n, lv->flags ? INT64_MAX : UINT32_MAX)) {
            syntax(p, MC_ANOM_IMAP_NUMBER, off);
        }
        return S_ANY;
    case S_ENVELOPE:
        if (k >= 2 && k <= 7) {
            if (t == '(')
                return S_ADDRLIST;
            if (!is_nil(t, s, n))
                syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        } else if (!is_nstring(t, s, n)) {
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        }
        return S_ANY;
    case S_ADDRLIST:
        if (t != '(')
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ADDRESS;
    case S_ADDRESS:
        if (!is_nstring(t, s, n))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;
    case S_BODY:
        return body_item(p, lv, k, t, s, n, off);
    case S_PARAMS:
        if (!is_string(t))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;
    case S_SECT:
    case S_SECT_BIN:
        if (k == 0) {
            bool fields;
            size_t bad = t == 'w' ? section_spec_bad(s, n, lv->schema == S_SECT_BIN, &fields) : 0;
            if (t != 'w' || bad != n)
                syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off + bad);
            else if (fields)
                lv->flags = 1;
        } else if (k == 1 && (lv->flags & 1u) && t == '(') {
            return S_HDRLIST;
        } else {
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        }
        return S_ANY;
    case S_HDRLIST:
        /* header-fld-name = astring */
        if (t != 'w' && !is_string(t))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;
    case S_NSLIST:
        if (t != '(')
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_NS;
    case S_NS:
        if ((k == 0 && !is_string(t)) ||
            (k == 1 && !is_nil(t, s, n) && !(t == '"' && (n == 3 || (n == 4 && s[1] == '\\')))))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;   /* Namespace_Response_Extension: not checked */
    case S_IDPARAMS:
        if (k % 2 == 0 ? !is_string(t) : !is_nstring(t, s, n))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;
    case S_DSP:
        if (k == 0 && !is_string(t))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        if (k == 1 && t != '(' && !is_nil(t, s, n))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return k == 1 ? S_PARAMS : S_ANY;
    case S_LANG:
        if (!is_string(t))
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
        return S_ANY;
    default:
        return S_ANY;
    }
}

/* The end of an item: SP or a closer must follow (lists: their items). */
static void item_done(struct mc_imap_resp *p, uint8_t t)
{
    p->need_sp = t != '(';
    p->just_opened = t == '(';
}

/* A word: atom, number, NIL, flag ("\Seen", "\*"), or a fetch att with its
 * section ("BODY[" ... "]<0>"). Returns the index after it or 0. */
static size_t word_at(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i, uint64_t off)
{
    /* "]" is an ASTRING-CHAR, but inside a section it closes the section */
    bool in_sect = p->depth > 0 && p->stack[p->depth - 1].open == '[';
    size_t j = i;
    if (s[j] == '\\') {
        j++;
        if (j < n && s[j] == '*')
            return j + 1;   /* flag-perm "\*"; judged by the list's schema */
    }
    for (;;) {
        while (j < n && (char_class[s[j]] & C_WORD))
            j++;
        if (j < n && s[j] == ']' && !in_sect) {
            j++;
            continue;
        }
        break;
    }
    if (j == i || (j < n && s[j] != ' ' && s[j] != ')' && s[j] != '[' && s[j] != ']')) {
        syntax(p, MC_ANOM_IMAP_ATOM_CHAR, off + j);
        return 0;
    }
    return j;
}

/* "<" number ["." nz-number] ">" after a section's "]" (RFC 3501 s9 and
 * RFC 9051: the origin octet of a partial BODY[]). */
static size_t partial_at(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i,
                         uint64_t off)
{
    bool ok;
    uint64_t v;
    size_t j = number_at(s, n, i + 1, false, &v, &ok);
    if (ok && j < n && s[j] == '.')
        j = number_at(s, n, j + 1, true, &v, &ok);
    if (!ok || j >= n || s[j] != '>') {
        syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off + j);
        return 0;
    }
    return j + 1;
}

/* Walks s[i..n) of a data response, continuing the state of the segments
 * before it. Stops at the first syntax anomaly. */
static void walk(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i, uint64_t off)
{
    while (i < n && !p->bad) {
        uint8_t c = s[i];
        if (p->need_sp) {
            if (c == ' ') {
                p->need_sp = false;
                p->just_opened = false;
                i++;
            } else if (c == '(' && i > 0 && s[i - 1] == ')') {
                /* body-type-mpart = 1*body SP media-subtype and address
                 * lists "(" 1*address ")" put lists side by side */
                p->need_sp = false;
            } else if ((c == ')' || c == ']') && p->depth > 0) {
                if (!pop(p, c, off + i))
                    return;
                i++;
                if (c == ']' && i < n && s[i] == '<') {
                    i = partial_at(p, s, n, i, off);
                    if (i == 0)
                        return;
                }
            } else {
                syntax(p, c == ')' || c == ']' ? MC_ANOM_IMAP_PAREN : MC_ANOM_IMAP_SPACE,
                       off + i);
            }
            continue;
        }
        if (c == '(') {
            uint8_t child = item(p, '(', s + i, 0, off + i);
            item_done(p, '(');
            push(p, '(', child, off + i);
            i++;
        } else if ((c == ')' || c == ']') && p->just_opened) {
            /* "()" and "BODY[]": an empty list or section */
            if (!pop(p, c, off + i))
                return;
            i++;
            p->need_sp = true;
            p->just_opened = false;
            if (c == ']' && i < n && s[i] == '<')
                i = partial_at(p, s, n, i, off);
        } else if (c == '"') {
            size_t e = quoted_at(p, s, n, i, off);
            if (e == 0)
                return;
            item(p, '"', s + i, e - i, off + i);
            item_done(p, '"');
            i = e;
        } else if (c == ' ') {
            syntax(p, MC_ANOM_IMAP_SPACE, off + i);
        } else {
            size_t e = word_at(p, s, n, i, off);
            if (e == 0)
                return;
            bool sect = e < n && s[e] == '[';
            uint8_t child = item(p, sect ? 'W' : 'w', s + i, e - i, off + i);
            item_done(p, 'w');
            i = e;
            if (sect) {
                /* BODY[section]: the section holds items of its own */
                push(p, '[', child, off + i);
                p->need_sp = false;
                p->just_opened = true;
                i++;
            }
        }
    }
}

/* A literal stands as one string item where the walker is. */
static void walk_literal(struct mc_imap_resp *p, uint64_t off, bool lit8)
{
    if (p->bad)
        return;
    if (p->need_sp) {
        syntax(p, MC_ANOM_IMAP_SPACE, off);
        return;
    }
    item(p, lit8 ? '8' : '{', NULL, 0, off);
    item_done(p, '{');
}

/* The response line ended: every list closed, no trailing SP. */
static void walk_end(struct mc_imap_resp *p, uint64_t off)
{
    if (p->bad)
        return;
    if (p->depth > 0)
        syntax(p, MC_ANOM_IMAP_PAREN, off);
    else if (!p->need_sp)
        syntax(p, MC_ANOM_IMAP_SPACE, off - 1);
    else if ((p->kind == MC_IMAP_KIND_FETCH && p->top_count != 1) ||
             ((p->kind == MC_IMAP_KIND_LIST || p->kind == MC_IMAP_KIND_LSUB) &&
              p->top_count < 3) ||
             (p->kind == MC_IMAP_KIND_STATUS && p->top_count != 2) ||
             (p->kind == MC_IMAP_KIND_NAMESPACE && p->top_count != 3) ||
             (p->kind == MC_IMAP_KIND_ID && p->top_count != 1))
        syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off);
}

/* ---- first segment: what kind of response ---- */

static uint8_t status_of(const uint8_t *s, size_t n)
{
    if (n == 2 && name_is("OK", s, 2))
        return MC_IMAP_STATUS_OK;
    if (n == 2 && name_is("NO", s, 2))
        return MC_IMAP_STATUS_NO;
    if (n == 3 && name_is("BAD", s, 3))
        return MC_IMAP_STATUS_BAD;
    if (n == 3 && name_is("BYE", s, 3))
        return MC_IMAP_STATUS_BYE;
    if (n == 7 && name_is("PREAUTH", s, 7))
        return MC_IMAP_STATUS_PREAUTH;
    return MC_IMAP_STATUS_NONE;
}

/* The untagged keyword s (n octets, the rest of the line) starts with, its
 * length in *len; MC_IMAP_KIND_OTHER when it starts with none. Matching in
 * place also finds where the atom ends, so a known keyword is not scanned
 * twice; dispatched on the first letter: this runs for every untagged
 * response, and a table scan cost more than the rest of a short response's
 * checks. */
static uint8_t keyword_at(const uint8_t *s, size_t n, size_t *len)
{
    /* a match also stores the keyword's length */
#define IS(name) (keyword_is(name, sizeof(name) - 1, s, n) && (*len = sizeof(name) - 1) > 0)
    uint8_t c = n > 0 ? s[0] : 0;
    if (c >= 'a' && c <= 'z')
        c = (uint8_t)(c - 32);
    switch (c) {
    case 'B':
        return IS("BAD") ? MC_IMAP_KIND_STATE : IS("BYE") ? MC_IMAP_KIND_BYE : MC_IMAP_KIND_OTHER;
    case 'C':
        return IS("CAPABILITY") ? MC_IMAP_KIND_CAPABILITY : MC_IMAP_KIND_OTHER;
    case 'E':
        return IS("ENABLED")   ? MC_IMAP_KIND_ENABLED
               : IS("EXISTS")  ? MC_IMAP_KIND_EXISTS
               : IS("EXPUNGE") ? MC_IMAP_KIND_EXPUNGE
                               : MC_IMAP_KIND_OTHER;
    case 'F':
        return IS("FLAGS")   ? MC_IMAP_KIND_FLAGS
               : IS("FETCH") ? MC_IMAP_KIND_FETCH
                             : MC_IMAP_KIND_OTHER;
    case 'I':
        return IS("ID") ? MC_IMAP_KIND_ID : MC_IMAP_KIND_OTHER;
    case 'L':
        return IS("LIST")   ? MC_IMAP_KIND_LIST
               : IS("LSUB") ? MC_IMAP_KIND_LSUB
                            : MC_IMAP_KIND_OTHER;
    case 'N':
        return IS("NO")          ? MC_IMAP_KIND_STATE
               : IS("NAMESPACE") ? MC_IMAP_KIND_NAMESPACE
                                 : MC_IMAP_KIND_OTHER;
    case 'O':
        return IS("OK") ? MC_IMAP_KIND_STATE : MC_IMAP_KIND_OTHER;
    case 'P':
        return IS("PREAUTH") ? MC_IMAP_KIND_PREAUTH : MC_IMAP_KIND_OTHER;
    case 'R':
        return IS("RECENT") ? MC_IMAP_KIND_RECENT : MC_IMAP_KIND_OTHER;
    case 'S':
        return IS("SEARCH")   ? MC_IMAP_KIND_SEARCH
               : IS("STATUS") ? MC_IMAP_KIND_STATUS
                              : MC_IMAP_KIND_OTHER;
    default:
        return MC_IMAP_KIND_OTHER;
    }
#undef IS
}

/* Reads "* " [number SP] keyword; sets kind and name; returns the index
 * after the keyword, or 0 if the response could not be classified. */
static size_t untagged_head(struct mc_imap_resp *p, const uint8_t *s, size_t n, uint64_t off)
{
    size_t i = 2, a;
    if (n < 2 || s[1] != ' ') {
        syntax(p, MC_ANOM_IMAP_RESP_SYNTAX, off + 1);
        return 0;
    }
    if (i < n && digit(s[i])) {
        bool ok;
        i = number_at(s, n, i, false, &p->number, &ok);
        if (!ok) {
            syntax(p, MC_ANOM_IMAP_NUMBER, off + 2);
            return 0;
        }
        p->has_number = true;
        if (i >= n || s[i] != ' ') {
            syntax(p, MC_ANOM_IMAP_RESP_SYNTAX, off + i);
            return 0;
        }
        i++;
    }
    a = i;
    /* a known keyword ends its atom; any other atom is scanned (and is
     * an unknown response: kind OTHER) */
    size_t len = 0;
    uint8_t kind = keyword_at(s + a, n - a, &len);
    if (kind != MC_IMAP_KIND_OTHER) {
        i = a + len;
    } else {
        while (i < n && atom_char(s[i]))
            i++;
    }
    p->name_at = a;
    p->name_len = i - a;
    if (i == a || (i < n && s[i] != ' ')) {
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_RESP_UNKNOWN, off + i);
        p->bad = true;
        return 0;
    }
    p->kind = kind;
    bool numbered = p->kind == MC_IMAP_KIND_EXISTS || p->kind == MC_IMAP_KIND_RECENT ||
                    p->kind == MC_IMAP_KIND_EXPUNGE || p->kind == MC_IMAP_KIND_FETCH;
    if (p->kind == MC_IMAP_KIND_OTHER) {
        /* number SP atom is message-data of some extension; both allowed */
    } else if (numbered != p->has_number) {
        syntax(p, MC_ANOM_IMAP_RESP_SYNTAX, off + a);
    } else if ((p->kind == MC_IMAP_KIND_EXPUNGE || p->kind == MC_IMAP_KIND_FETCH) &&
               p->number == 0) {
        syntax(p, MC_ANOM_IMAP_NUMBER, off + 2);   /* nz-number */
    }
    return i;
}

/* Exact grammars of the data responses that fit one line (no literal). */
static void single_line_data(struct mc_imap_resp *p, const uint8_t *s, size_t n, size_t i,
                             uint64_t off)
{
    switch (p->kind) {
    case MC_IMAP_KIND_CAPABILITY:
        atom_list(p, s + i, n - i, off + i, true);
        break;
    case MC_IMAP_KIND_ENABLED:
        atom_list(p, s + i, n - i, off + i, false);
        break;
    case MC_IMAP_KIND_FLAGS:
        if (i >= n || s[i] != ' ')
            syntax(p, MC_ANOM_IMAP_SPACE, off + i);
        else
            flag_list(p, s + i + 1, n - i - 1, off + i + 1, false);
        break;
    case MC_IMAP_KIND_SEARCH:
        while (i < n && !p->bad) {
            size_t a;
            if (s[i] != ' ') {
                syntax(p, MC_ANOM_IMAP_SPACE, off + i);
                break;
            }
            a = ++i;
            if (a < n && s[a] == '(') {
                /* RFC 7162 s3.1.5: a last "(MODSEQ" SP mod-sequence-value ")" */
                size_t e = a + 8;
                if (n - a < 10 || !name_is("MODSEQ ", s + a + 1, 7) || s[n - 1] != ')') {
                    syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off + a);
                    break;
                }
                while (e < n - 1 && digit(s[e]))
                    e++;
                /* mod-sequence-value: a positive 63-bit number */
                if (e != n - 1 || !digits_at_most(s + a + 8, e - (a + 8), INT64_MAX))
                    syntax(p, MC_ANOM_IMAP_NUMBER, off + (e == n - 1 ? a + 8 : e));
                break;
            }
            i = mc_skip_to_sp(s, i, n);
            number_span(p, s + a, i - a, off + a, true, NULL);
        }
        break;
    case MC_IMAP_KIND_EXISTS:
    case MC_IMAP_KIND_RECENT:
    case MC_IMAP_KIND_EXPUNGE:
        if (i < n)
            syntax(p, MC_ANOM_IMAP_DATA_SYNTAX, off + i);
        break;
    default:
        walk(p, s, n, i, off);
        walk_end(p, off + n);
        break;
    }
}

static bool has_single_line_grammar(uint8_t kind)
{
    return kind == MC_IMAP_KIND_CAPABILITY || kind == MC_IMAP_KIND_ENABLED ||
           kind == MC_IMAP_KIND_FLAGS || kind == MC_IMAP_KIND_SEARCH ||
           kind == MC_IMAP_KIND_EXISTS || kind == MC_IMAP_KIND_RECENT ||
           kind == MC_IMAP_KIND_EXPUNGE;
}

/* Classifies the first segment and checks status responses whole. Returns
 * the index where data (after the keyword) starts, 0 for no data walk. */
static size_t first_segment(struct mc_imap_resp *p, const uint8_t *s, size_t n, uint64_t off)
{
    size_t i;
    if (n == 0) {
        syntax(p, MC_ANOM_IMAP_RESP_SYNTAX, off);
        return 0;
    }
    if (s[0] == '+') {
        p->kind = MC_IMAP_KIND_CONTINUATION;
        p->tag_len = 1;
        resp_text(p, s, n, 1, off, true);
        return 0;
    }
    if (s[0] == '*') {
        p->tag_len = 1;
        i = untagged_head(p, s, n, off);
        if (i == 0)
            return 0;
        /* only these kinds are status responses: no second look-up for
         * the others */
        if (p->kind == MC_IMAP_KIND_STATE || p->kind == MC_IMAP_KIND_BYE ||
            p->kind == MC_IMAP_KIND_PREAUTH)
            p->status = status_of(s + p->name_at, p->name_len);
        if (p->status != MC_IMAP_STATUS_NONE) {
            resp_text(p, s, n, i, off, false);
            return 0;
        }
        return i;
    }
    /* tagged: tag SP ("OK" / "NO" / "BAD") SP resp-text */
    p->kind = MC_IMAP_KIND_TAGGED;
    /* one pass over a good tag: SP is no tag char, so this stops at the
     * SP or at the first bad octet, after which the SP is looked for */
    i = 0;
    while (i < n && astring_char(s[i]) && s[i] != '+')
        i++;
    if (i == 0 && n > 0 && s[0] == ' ') {
        /* tag = 1*<any ASTRING-CHAR except "+">: a line starting with SP
         * has none */
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_TAG_SYNTAX, off);
    } else if (i < n && s[i] != ' ') {
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_TAG_SYNTAX, off + i);
        while (i < n && s[i] != ' ')
            i++;
    }
    p->tag_len = i;
    if (i >= n) {
        syntax(p, MC_ANOM_IMAP_RESP_SYNTAX, off + i);
        return 0;
    }
    size_t a = ++i;
    /* a loop, not mc_skip_to_sp(): the name is a few octets, and a memchr
     * call per response made the release build 3% slower on FETCH */
    while (i < n && s[i] != ' ')
        i++;
    p->name_at = a;
    p->name_len = i - a;
    p->status = status_of(s + a, i - a);
    if (p->status == MC_IMAP_STATUS_NONE || p->status == MC_IMAP_STATUS_BYE ||
        p->status == MC_IMAP_STATUS_PREAUTH) {
        p->status = MC_IMAP_STATUS_NONE;
        syntax(p, MC_ANOM_IMAP_TAGGED_STATUS, off + a);
        return 0;
    }
    resp_text(p, s, n, i, off, false);
    return 0;
}

/* ---- framing ---- */

static void tail_push(struct mc_imap_resp *p, const uint8_t *b, size_t u)
{
    size_t cap = sizeof(p->tail);
    /* the usual case first: it runs on every feed that ends inside a line,
     * once per octet when the octets come one at a time, and each test is
     * a traced compare under libFuzzer (the two below give the same result
     * in this case) */
    if (p->tail_len + u <= cap) {
        memcpy(p->tail + p->tail_len, b, u);
        p->tail_len = (uint8_t)(p->tail_len + u);
        return;
    }
    if (u >= cap) {
        memcpy(p->tail, b + u - cap, cap);
        p->tail_len = (uint8_t)cap;
        return;
    }
    if (p->tail_len + u > cap) {
        size_t drop = p->tail_len + u - cap;
        memmove(p->tail, p->tail + drop, p->tail_len - drop);
        p->tail_len = (uint8_t)(p->tail_len - drop);
    }
    memcpy(p->tail + p->tail_len, b, u);
    p->tail_len = (uint8_t)(p->tail_len + u);
}

/* A "{n}" or "~{n}" at the end of the segment just completed. Returns its
 * length (0: none) with the count in *count, or sets *overflow when the
 * count has more than 20 digits or exceeds MC_IMAP_LITERAL_MAX. The tail
 * ring, not the kept prefix, holds the segment's last octets, so a header
 * after MC_LINE_KEEP octets is still seen. tail (tail_len octets) holds
 * them: the ring, or the caller's buffer (see mc_imap_resp_feed). */
static size_t literal_header(const struct mc_imap_resp *p, const uint8_t *tail, size_t tail_len,
                             uint64_t *count, bool *lit8, bool *overflow)
{
    const struct mc_line *l = &p->line;
    size_t term = l->term == MC_LINE_TERM_CRLF ? 2 : l->term == MC_LINE_TERM_LF ? 1 : 0;
    size_t avail = tail_len >= term ? tail_len - term : 0;
    size_t m = l->total < avail ? (size_t)l->total : avail;
    const uint8_t *t = tail + (avail - m);
    size_t j, k;

    *lit8 = false;
    *overflow = false;
    if (m < 3 || t[m - 1] != '}')
        return 0;
    j = m - 1;
    k = j;
    while (k > 0 && digit(t[k - 1]))
        k--;
    if (k == j)
        return 0;
    if (k == 0 && m < l->total) {
        *overflow = true;           /* the digits run past what the ring holds */
        return j - k + 1;
    }
    if (k == 0 || t[k - 1] != '{')
        return 0;
    *lit8 = k >= 2 && t[k - 2] == '~';
    if (j - k > 20 || !mc_parse_u64(t + k, j - k, MC_IMAP_LITERAL_MAX, count))
        *overflow = true;
    return j - k + 2 + (*lit8 ? 1u : 0u);
}

_Static_assert(MC_IMAP_HEAD_KEEP <= MC_LINE_KEEP, "the head is copied from the line buffer");

static void begin_response(struct mc_imap_resp *p)
{
    const struct mc_line *l = &p->line;
    p->in_resp = true;
    p->kind = MC_IMAP_KIND_INVALID;
    p->status = MC_IMAP_STATUS_NONE;
    p->start = l->start;
    p->line_len = 0;
    p->number = 0;
    p->has_number = false;
    p->literals = 0;
    p->anoms.n = 0;            /* mc_anoms_clear, without a call per response */
    p->anoms.dropped = 0;
    /* the head is copied only when a literal follows (on_segment) */
    p->tag_len = p->name_at = p->name_len = 0;
    p->code_at = p->code_len = p->arg_at = p->arg_len = p->text_at = p->text_len = 0;
    p->depth = 0;
    p->bad = false;
    p->need_sp = true;
    p->just_opened = false;
    p->top_count = 0;
}

/* Line-layer anomalies and the RFC 7162 length, counted over segments. */
static void segment_common(struct mc_imap_resp *p)
{
    const struct mc_line *l = &p->line;
    uint64_t before = p->line_len;
    size_t term = l->term == MC_LINE_TERM_CRLF ? 2 : l->term == MC_LINE_TERM_LF ? 1 : 0;
    for (unsigned k = 0; k < l->anoms.n; k++)
        mc_anoms_add(&p->anoms, (enum mc_anom)l->anoms.hit[k].code, l->anoms.hit[k].off);
    for (unsigned k = 0; k < l->anoms.dropped && p->anoms.dropped < UINT8_MAX; k++)
        p->anoms.dropped++;
    p->line_len += l->total + term;
    if (before <= MC_IMAP_LINE_MAX && p->line_len > MC_IMAP_LINE_MAX)
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_LINE_TOO_LONG, l->start + (MC_IMAP_LINE_MAX - before));
}

/* A line segment is complete; tail holds its last raw octets (at most
 * sizeof(p->tail)). Returns true when the response is complete, false when
 * a literal follows (in_lit set). */
/* After a gap, a line is taken for the start of a response only when it
 * looks like one: "*" or "+" and SP (or "+" alone), or a tag, SP and a
 * status (OK, NO, BAD, BYE, PREAUTH). What a gap leaves behind is most
 * often the rest of a literal (message text), which must not be judged as
 * responses, nor blamed on the server. */
static bool plausible_start(const uint8_t *s, size_t n)
{
    static const char *const status[] = {"OK", "NO", "BAD", "BYE", "PREAUTH"};
    size_t i = 0;
    if (n >= 1 && s[0] == '+')
        return n == 1 || s[1] == ' ';
    if (n >= 2 && s[0] == '*')
        return s[1] == ' ';
    while (i < n && astring_char(s[i]) && s[i] != '+')
        i++;
    if (i == 0 || i >= n || s[i] != ' ')
        return false;
    i++;
    for (size_t k = 0; k < sizeof(status) / sizeof(status[0]); k++) {
        size_t w = strlen(status[k]);
        if (n - i >= w && name_is(status[k], s + i, w) && (n - i == w || s[i + w] == ' '))
            return true;
    }
    return false;
}

static bool on_segment(struct mc_imap_resp *p, const uint8_t *tail, size_t tail_len)
{
    const struct mc_line *l = &p->line;
    bool first = !p->in_resp, lit8, overflow, data;
    uint64_t count = 0;
    size_t hdr, from = 0, n;

    if (first)
        begin_response(p);
    segment_common(p);
    hdr = literal_header(p, tail, tail_len, &count, &lit8, &overflow);
    p->tail_len = 0;
    if (first)
        from = first_segment(p, l->buf, l->kept, l->start);
    if (first && from > 0) {
        /* data responses: the text span is the kept data after "keyword SP" */
        p->text_at = from < l->kept && l->buf[from] == ' ' ? from + 1 : from;
        p->text_len = l->kept - p->text_at;
    }
    data = p->kind >= MC_IMAP_KIND_CAPABILITY;
    if (!data)
        return true;   /* status, continuation, unreadable: one line */
    if (first && from == 0)
        return true;   /* the head was bad: nothing more to check */
    if (hdr == 0 && first && has_single_line_grammar(p->kind)) {
        if (l->total > l->kept)
            p->bad = true;   /* only a prefix is kept: cannot judge */
        else
            single_line_data(p, l->buf, l->kept, from, l->start);
        return true;
    }

    n = l->kept < l->total - hdr ? l->kept : (size_t)(l->total - hdr);
    walk(p, l->buf, n, from, l->start);
    if (l->total - hdr > l->kept)
        p->bad = true;   /* the rest of the segment was not kept */
    if (hdr == 0) {
        walk_end(p, l->start + l->total);
        return true;
    }
    if (overflow) {
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_LITERAL_COUNT, l->start + l->total - hdr);
        p->bad = true;
        return true;
    }
    walk_literal(p, l->start + l->total - hdr, lit8);
    if (l->term == MC_LINE_TERM_EOF) {
        /* the header's CRLF never came: no literal started */
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_LITERAL_UNTERMINATED, l->start + l->total);
        return true;
    }
    if (p->literals == 0) {
        /* the first literal can only end the first segment (a segment
         * without one ends the response), whose spans the event keeps: save
         * its head before the line buffer moves on. A fixed-size copy (the
         * line buffer is larger and initialised): gcc makes a bounded
         * variable-length memcpy 'rep movs', slow per line. */
        p->head_len = l->kept < MC_IMAP_HEAD_KEEP ? l->kept : MC_IMAP_HEAD_KEEP;
        memcpy(p->head, l->buf, MC_IMAP_HEAD_KEEP);
    }
    p->in_lit = true;
    p->lit8 = lit8;
    p->lit_size = count;
    p->lit_done = 0;
    p->literals++;
    return false;
}

/* clamp: cut the span to the avail octets at base (see fill_response) */
static inline void span_set(struct mc_span *sp, const uint8_t *base, size_t avail, bool clamp,
                            size_t at, size_t len, uint64_t start)
{
    if (clamp) {
        if (at > avail)
            at = avail;
        if (len > avail - at)
            len = avail - at;
    }
    sp->ptr = len ? base + at : NULL;
    sp->len = len;
    sp->off = start + at;
}

static inline void spans_set(const struct mc_imap_resp *p, struct mc_imap_resp_ev *ev,
                             const uint8_t *base, size_t avail, bool clamp, size_t text_len)
{
    span_set(&ev->tag, base, avail, clamp, 0, p->tag_len, p->start);
    span_set(&ev->name, base, avail, clamp, p->name_at, p->name_len, p->start);
    span_set(&ev->code, base, avail, clamp, p->code_at, p->code_len, p->start);
    span_set(&ev->code_arg, base, avail, clamp, p->arg_at, p->arg_len, p->start);
    span_set(&ev->text, base, avail, clamp, p->text_at, text_len, p->start);
}

/* The response fields of an event from what is known so far. */
static void fill_response(struct mc_imap_resp *p, struct mc_imap_resp_ev *ev)
{
    ev->type = MC_IMAP_RESP_RESPONSE;
    ev->data = (struct mc_span){NULL, 0, 0};
    ev->lit_pos = ev->lit_size = 0;
    ev->lit8 = ev->lit_last = false;
    ev->kind = (enum mc_imap_resp_kind)p->kind;
    ev->status = (enum mc_imap_status)p->status;
    ev->start = p->start;
    ev->line_len = p->line_len;
    ev->literals = p->literals;
    if (p->literals == 0) {
        /* one segment, still in the line buffer: every span was cut from
         * the kept line, so none needs clamping (the per-response path) */
        spans_set(p, ev, p->line.buf, p->line.kept, false, p->text_len);
    } else {
        /* a response with literals spans several segments: its head was
         * copied, and kept only as far as it goes; no data span */
        spans_set(p, ev, p->head, p->head_len, true, 0);
    }
    ev->number = p->number;
    ev->has_number = p->has_number;
    /* mc_anoms_copy, here where the compiler sees it: the call and its
     * memcpy cost more than the copy of the usual zero hits */
    ev->anoms.n = p->anoms.n;
    ev->anoms.dropped = p->anoms.dropped;
    for (unsigned k = 0; k < p->anoms.n; k++)
        ev->anoms.hit[k] = p->anoms.hit[k];
}

/* The response is complete: its event, and the parser is between responses. */
static void build_response(struct mc_imap_resp *p, struct mc_imap_resp_ev *ev)
{
    fill_response(p, ev);
    p->in_resp = false;
}

int mc_imap_resp_feed(struct mc_imap_resp *p, const uint8_t *buf, size_t len, size_t *used_out,
                      struct mc_imap_resp_ev *ev)
{
    size_t i = 0;
    p->finished_line = false;
    for (;;) {
        if (p->in_lit) {
            /* stream literal data straight from the caller's buffer */
            uint64_t rem = p->lit_size - p->lit_done;
            size_t c = rem < len - i ? (size_t)rem : len - i;
            if (c == 0 && rem > 0) {
                *used_out = i;
                return MC_NEED_MORE;
            }
            /* the response fields hold what is known so far (no spans) */
            fill_response(p, ev);
            ev->tag = ev->name = ev->code = ev->code_arg = ev->text = (struct mc_span){NULL, 0, 0};
            mc_anoms_clear(&ev->anoms);
            ev->type = MC_IMAP_RESP_LITERAL;
            ev->data = (struct mc_span){c ? buf + i : NULL, c, p->line.pos};
            ev->lit_pos = p->lit_done;
            ev->lit_size = p->lit_size;
            ev->lit8 = p->lit8;
            mc_line_advance(&p->line, c);
            p->lit_done += c;
            ev->lit_last = p->lit_done == p->lit_size;
            p->in_lit = !ev->lit_last;
            *used_out = i + c;
            return MC_EVENT;
        }
        size_t u = 0;
        int r = mc_line_feed(&p->line, buf + i, len - i, &u);
        const uint8_t *tail = p->tail;
        size_t tail_len;
        if (r == MC_EVENT && p->tail_len == 0) {
            /* the segment's last octets are all in this buffer, alive until
             * on_segment returns: read them there rather than copy each
             * line into the ring */
            tail_len = u < sizeof(p->tail) ? u : sizeof(p->tail);
            tail = buf + i + u - tail_len;
        } else {
            tail_push(p, buf + i, u);
            tail_len = p->tail_len;
        }
        i += u;
        if (r != MC_EVENT) {
            *used_out = i;
            return MC_NEED_MORE;
        }
        if (p->after_gap && !p->in_resp) {
            if (!plausible_start(p->line.buf, p->line.kept)) {
                p->tail_len = 0;
                continue;   /* not judged: what the gap left of something */
            }
            p->after_gap = false;
        }
        if (on_segment(p, tail, tail_len)) {
            build_response(p, ev);
            *used_out = i;
            return MC_EVENT;
        }
    }
}

int mc_imap_resp_finish(struct mc_imap_resp *p, struct mc_imap_resp_ev *ev)
{
    if (p->in_lit) {
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_LITERAL_UNTERMINATED, p->line.pos);
        p->in_lit = false;
        build_response(p, ev);
        return MC_EVENT;
    }
    if (!p->finished_line) {
        p->finished_line = true;
        if (mc_line_finish(&p->line) == MC_EVENT &&
            !(p->after_gap && !p->in_resp && !plausible_start(p->line.buf, p->line.kept))) {
            /* an EOF-terminated segment never opens a literal */
            (void)on_segment(p, p->tail, p->tail_len);
            build_response(p, ev);
            return MC_EVENT;
        }
    }
    if (p->in_resp) {
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_RESP_UNTERMINATED, p->line.pos);
        build_response(p, ev);
        return MC_EVENT;
    }
    return MC_NEED_MORE;
}

void mc_imap_resp_gap(struct mc_imap_resp *p, uint64_t n)
{
    if (p->in_lit && n < p->lit_size - p->lit_done) {
        /* literal data is opaque: the response survives a hole in it */
        p->lit_done += n;
        mc_line_advance(&p->line, n);
        return;
    }
    mc_line_gap(&p->line, n);
    p->in_resp = false;
    p->in_lit = false;
    p->tail_len = 0;
    p->after_gap = true;
}
