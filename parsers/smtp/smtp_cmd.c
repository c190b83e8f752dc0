/*
 * SMTP commands and message content, client to server.
 *
 * RFC 5321 s4.1.1 (commands), s4.1.2 (paths), s4.5.2 (transparency),
 * s4.5.3.1 (limits); RFC 4954 s4 (AUTH), RFC 3030 s2 (BDAT), RFC 1870 (SIZE),
 * RFC 6152 (BODY=8BITMIME), RFC 3461 s4 (DSN), RFC 6531 s3.4 (SMTPUTF8).
 *
 *   ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
 *   helo = "HELO" SP Domain CRLF
 *   mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
 *   rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
 *                       Forward-path ) [SP Rcpt-parameters] CRLF
 *   esmtp-param = esmtp-keyword ["=" esmtp-value]
 *   esmtp-value = 1*(%d33-60 / %d62-126)
 *   vrfy = "VRFY" SP String CRLF        help = "HELP" [ SP String ] CRLF
 *   bdat = "BDAT" SP chunk-size [ SP end-marker ] CRLF   ; RFC 3030 s2
 *   auth = "AUTH" SP sasl-mech [SP initial-response] CRLF ; RFC 4954 s4
 *
 * Content: lines end in CRLF; "." CRLF after a CRLF ends DATA; a line that
 * starts with "." was stuffed with one more (s4.5.2). A lone "." between line
 * ends other than CRLF...CRLF is an end-of-data look-alike (SMTP smuggling):
 * a receiver that ends the message there reads the rest as commands.
 */
#include "smtp_cmd.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum argkind { K_NONE, K_HOST, K_MAIL, K_RCPT, K_BDAT, K_STRING, K_OPTSTRING, K_AUTH, K_ANY };

static const struct {
    const char *name;
    size_t len; /* strlen(name), known at compile time: lookup() runs per line */
    enum argkind kind;
} verbs[MC_SMTP_VERB_COUNT] = {
    [MC_SMTP_UNKNOWN] = {"UNKNOWN", sizeof("UNKNOWN") - 1, K_ANY},
#define X(n, k) [MC_SMTP_##n] = {#n, sizeof(#n) - 1, K_##k},
    MC_SMTP_VERBS(X)
#undef X
};

/* how the previous line ended (ls) */
enum { LS_NONE = 0, LS_CRLF, LS_LF, LS_CR };

const char *mc_smtp_verb_name(enum mc_smtp_verb v)
{
    return (unsigned)v < MC_SMTP_VERB_COUNT ? verbs[v].name : "INVALID";
}

void mc_smtp_cmd_init(struct mc_smtp_cmd *p)
{
    memset(p, 0, sizeof(*p));
    mc_line_init(&p->line, MC_SMTP_CMD_LINE_MAX);
}

void mc_smtp_cmd_expect_sasl(struct mc_smtp_cmd *p, bool on)
{
    p->sasl = on;
    /* RFC 4954 s4: responses may be far longer than commands */
    mc_line_set_limit(&p->line, on ? MC_SMTP_AUTH_LINE_MAX : MC_SMTP_CMD_LINE_MAX);
}

bool mc_smtp_cmd_in_sasl(const struct mc_smtp_cmd *p)
{
    return p->sasl;
}

bool mc_smtp_cmd_in_content(const struct mc_smtp_cmd *p)
{
    return p->mode != MC_SMTP_CONTENT_NONE;
}

uint64_t mc_smtp_cmd_content_octets(const struct mc_smtp_cmd *p)
{
    return p->mode == MC_SMTP_CONTENT_NONE ? 0 : p->body_started;
}

uint64_t mc_smtp_cmd_offset(const struct mc_smtp_cmd *p)
{
    return p->mode == MC_SMTP_CONTENT_NONE ? p->line.pos : p->pos;
}

bool mc_smtp_cmd_partial(const struct mc_smtp_cmd *p)
{
    return p->mode == MC_SMTP_CONTENT_NONE && mc_line_partial(&p->line);
}

bool mc_smtp_cmd_resyncing(const struct mc_smtp_cmd *p)
{
    return p->mode == MC_SMTP_CONTENT_NONE && mc_line_resyncing(&p->line);
}

/* A new message: the scanner starts at a line start (the command's CRLF). */
static void content_reset(struct mc_smtp_cmd *p)
{
    p->ls = LS_CRLF;
    p->cr = p->dot = p->long_said = p->seen8 = p->quiet = false;
    p->col = 0;
    p->line_start = p->pos;
    p->octets = 0;
}

static void enter_content(struct mc_smtp_cmd *p, uint8_t mode)
{
    p->pos = p->line.pos;
    p->mode = mode;
    p->body_started = 0;
}

void mc_smtp_cmd_expect_data(struct mc_smtp_cmd *p)
{
    /* a DATA message is a new one, even after BDAT chunks without LAST */
    p->bdat_open = false;
    enter_content(p, MC_SMTP_CONTENT_DATA);
    content_reset(p);
}

bool mc_smtp_cmd_abort_data(struct mc_smtp_cmd *p)
{
    if (p->mode != MC_SMTP_CONTENT_DATA || p->body_started > 0)
        return false;
    p->mode = MC_SMTP_CONTENT_NONE;
    return true;
}

static void leave_content(struct mc_smtp_cmd *p)
{
    p->mode = MC_SMTP_CONTENT_NONE;
    mc_line_advance(&p->line, p->pos - p->line.pos);
}

/* ---- command lines ----------------------------------------------------- */

static bool alnum(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static enum mc_smtp_verb lookup(const uint8_t *s, size_t n)
{
    for (unsigned v = 1; v < MC_SMTP_VERB_COUNT; v++)
        if (verbs[v].len == n && mc_ascii_ieq(s, verbs[v].name, n))
            return (enum mc_smtp_verb)v;
    return MC_SMTP_UNKNOWN;
}

static struct mc_span sub(const uint8_t *s, size_t at, size_t n, uint64_t off)
{
    struct mc_span sp = {s + at, n, off + at};
    return sp;
}

static void bad(struct mc_smtp_cmd_ev *ev, enum mc_anom a, uint64_t off)
{
    mc_anoms_add(&ev->anoms, a, off);
    ev->syntax_ok = false;
}

static bool kw_is(const struct mc_span *kw, const char *name)
{
    return kw->len == strlen(name) && mc_ascii_ieq(kw->ptr, name, kw->len);
}

/* One value out of a fixed list, case-insensitive. */
static bool one_of(const struct mc_span *v, const char *const *list)
{
    for (; *list; list++)
        if (kw_is(v, *list))
            return true;
    return false;
}

/* NOTIFY=NEVER / 1#( SUCCESS / FAILURE / DELAY ) (RFC 3461 s4.1) */
static bool notify_valid(const struct mc_span *v)
{
    size_t i = 0;
    bool never = false, other = false;
    while (i <= v->len) {
        size_t j = i;
        struct mc_span item;
        while (j < v->len && v->ptr[j] != ',')
            j++;
        item.ptr = v->ptr + i;
        item.len = j - i;
        if (kw_is(&item, "NEVER"))
            never = true;
        else if (kw_is(&item, "SUCCESS") || kw_is(&item, "FAILURE") || kw_is(&item, "DELAY"))
            other = true;
        else
            return false;
        i = j + 1;
    }
    return !(never && other);
}

/* 1*DIGIT; unlike mc_parse_u64 any count, as the grammars say */
static bool all_digits(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/* The syntax of the parameters RFC-defined extensions give a value. */
static bool param_value_ok(const struct mc_smtp_param *pm)
{
    static const char *const body[] = {"7BIT", "8BITMIME", "BINARYMIME", NULL};
    static const char *const ret[] = {"FULL", "HDRS", NULL};
    const struct mc_span *kw = &pm->kw, *v = &pm->val;
    size_t badpos;
    if (kw_is(kw, "SIZE"))   /* RFC 1870 s5: size-value ::= 1*20DIGIT */
        return pm->has_val && v->len <= 20 && all_digits(v->ptr, v->len);
    if (kw_is(kw, "BODY"))   /* RFC 6152 s3, RFC 3030 s3 */
        return pm->has_val && one_of(v, body);
    if (kw_is(kw, "SMTPUTF8")) /* RFC 6531 s3.4: no value */
        return !pm->has_val;
    if (kw_is(kw, "RET"))    /* RFC 3461 s4.3 */
        return pm->has_val && one_of(v, ret);
    if (kw_is(kw, "ENVID") || kw_is(kw, "AUTH")) /* RFC 3461 s4.4, RFC 4954 s5 */
        return pm->has_val && v->len > 0 && mc_smtp_xtext_valid(v->ptr, v->len, &badpos);
    if (kw_is(kw, "NOTIFY"))
        return pm->has_val && notify_valid(v);
    if (kw_is(kw, "ORCPT")) { /* RFC 3461 s4.2: addr-type ";" xtext */
        const uint8_t *semi = pm->has_val ? memchr(v->ptr, ';', v->len) : NULL;
        size_t at;
        if (!semi)
            return false;
        at = (size_t)(semi - v->ptr);
        return at > 0 && mc_smtp_keyword_valid(v->ptr, at) && at + 1 < v->len &&
               mc_smtp_xtext_valid(v->ptr + at + 1, v->len - at - 1, &badpos);
    }
    return true;
}

/* Mail-parameters / Rcpt-parameters after the path: *(SP esmtp-param) */
static void parse_params(struct mc_smtp_cmd_ev *ev, const uint8_t *s, size_t n, size_t i,
                         uint64_t off)
{
    while (i < n) {
        size_t start, eq = 0;
        struct mc_smtp_param pm;
        if (s[i] != ' ' || i + 1 >= n || s[i + 1] == ' ') {
            bad(ev, MC_ANOM_SMTP_PARAM_SYNTAX, off + i);
            return;
        }
        start = ++i;
        while (i < n && s[i] != ' ') {
            if (s[i] == '=' && !eq)
                eq = i;
            i++;
        }
        memset(&pm, 0, sizeof(pm));
        pm.kw = sub(s, start, (eq ? eq : i) - start, off);
        if (eq) {
            pm.has_val = true;
            pm.val = sub(s, eq + 1, i - eq - 1, off);
        }
        if (!mc_smtp_keyword_valid(pm.kw.ptr, pm.kw.len)) {
            bad(ev, MC_ANOM_SMTP_PARAM_SYNTAX, pm.kw.off);
            continue;
        }
        if (pm.has_val) {
            bool ok = pm.val.len > 0;
            /* esmtp-value = 1*(%d33-60 / %d62-126), and UTF-8 (RFC 6531 s3.3) */
            for (size_t k = 0; k < pm.val.len && ok; k++)
                if (pm.val.ptr[k] < 33 || pm.val.ptr[k] == 127 || pm.val.ptr[k] == '=')
                    ok = false;
            if (!ok) {
                bad(ev, MC_ANOM_SMTP_PARAM_SYNTAX, pm.val.off);
                continue;
            }
        }
        for (unsigned k = 0; k < ev->nparams && k < MC_SMTP_PARAMS_MAX; k++) {
            const struct mc_span *o = &ev->param[k].kw;
            bool same = o->len == pm.kw.len;
            for (size_t c = 0; same && c < o->len; c++)
                same = (o->ptr[c] | 0x20) == (pm.kw.ptr[c] | 0x20);
            if (same) {
                bad(ev, MC_ANOM_SMTP_PARAM_DUPLICATE, pm.kw.off);
                break;
            }
        }
        if (!param_value_ok(&pm))
            bad(ev, MC_ANOM_SMTP_PARAM_VALUE, pm.has_val ? pm.val.off : pm.kw.off);
        if (ev->nparams < MC_SMTP_PARAMS_MAX)
            ev->param[ev->nparams] = pm;
        ev->nparams++;
    }
}

/* "FROM:" / "TO:" Path [SP params]; i indexes the octet after the verb */
static void parse_mail_rcpt(struct mc_smtp_cmd_ev *ev, const uint8_t *s, size_t n, size_t i,
                            uint64_t off, const char *prefix)
{
    size_t pl = strlen(prefix), start, badpos = 0;
    enum mc_anom a;
    if (i >= n || s[i] != ' ') {
        bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
        return;
    }
    i++;
    /* "FROM:"; tolerate and flag "FROM :" and spaces after the colon
     * (RFC 5321 s3.3: no spaces on either side of the colon) */
    if (n - i < pl - 1 || !mc_ascii_ieq(s + i, prefix, pl - 1)) {
        bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
        return;
    }
    i += pl - 1;
    /* flagged, but not a reason to refuse: servers commonly accept it */
    if (i < n && s[i] == ' ') {
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_PATH_SPACE, off + i);
        while (i < n && s[i] == ' ')
            i++;
    }
    if (i >= n || s[i] != ':') {
        bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
        return;
    }
    i++;
    if (i < n && s[i] == ' ') {
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_PATH_SPACE, off + i);
        while (i < n && s[i] == ' ')
            i++;
    }
    start = i;
    if (i >= n) {
        bad(ev, MC_ANOM_SMTP_PATH_SYNTAX, off + i);
        return;
    }
    ev->path_present = true;
    if (s[i] != '<') {
        /* "MAIL FROM:user@example.com": common, and wrong */
        i = mc_skip_to_sp(s, i, n);
        ev->path_span = sub(s, start, i - start, off);
        bad(ev, MC_ANOM_SMTP_PATH_NO_BRACKETS, off + start);
        parse_params(ev, s, n, i, off);
        return;
    }
    a = mc_smtp_parse_path(s + start, n - start, &ev->path, &badpos);
    if (a == MC_ANOM_SMTP_PATH_SYNTAX) {
        const uint8_t *gt = memchr(s + start, '>', n - start);
        bad(ev, a, off + start + badpos);
        ev->path_span = sub(s, start, gt ? (size_t)(gt - s) + 1 - start : n - start, off);
        i = start + ev->path_span.len;
        parse_params(ev, s, n, i, off);
        return;
    }
    ev->path_span = sub(s, start, ev->path.len, off);
    /* Reverse-path = Path / "<>", and only RCPT has "<Postmaster>";
     * Forward-path = Path: "<>" is no recipient */
    if ((prefix[0] == 'T' && ev->path.null_path) || (prefix[0] == 'F' && ev->path.postmaster)) {
        bad(ev, MC_ANOM_SMTP_PATH_SYNTAX,
            off + start + (ev->path.null_path ? 1 : ev->path.len - 1));
        parse_params(ev, s, n, start + ev->path.len, off);
        return;
    }
    ev->path_ok = true;
    if (a != MC_ANOM_NONE) {
        bad(ev, a, off + start + badpos);
        ev->syntax_ok = true;   /* a length limit, not a grammar error */
    }
    if (ev->path.source_route)
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_PATH_SOURCE_ROUTE, off + start + 1);
    if (ev->path.eight_bit)
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_PATH_8BIT, off + start);
    parse_params(ev, s, n, start + ev->path.len, off);
}

static bool printable_rest(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 && s[i] != '\t')
            return false;
    return n > 0;
}

/* sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_"), RFC 4422 s3.1; the
 * command is case-insensitive, so lower case is accepted here */
static bool mech_valid(const uint8_t *s, size_t n)
{
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!alnum(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

static void parse_args(struct mc_smtp_cmd_ev *ev, const uint8_t *s, size_t n, size_t i,
                       uint64_t off)
{
    size_t badpos = 0;
    bool has_arg = i < n;
    if (has_arg && s[i] == ' ')
        ev->arg = sub(s, i + 1, n - i - 1, off);
    switch (verbs[ev->verb].kind) {
    case K_NONE:
        if (has_arg)
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
        return;
    case K_ANY:
        return;
    case K_HOST:
        if (!has_arg || s[i] != ' ' || ev->arg.len == 0) {
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
            return;
        }
        ev->host = ev->arg;
        /* EHLO takes a domain or an address literal, HELO a domain only
         * (RFC 5321 s4.1.1.1) */
        if (ev->verb == MC_SMTP_EHLO
                ? !mc_smtp_host_valid(ev->arg.ptr, ev->arg.len, false, &badpos)
                : !mc_smtp_domain_valid(ev->arg.ptr, ev->arg.len, false, &badpos))
            bad(ev, MC_ANOM_SMTP_DOMAIN_SYNTAX, ev->arg.off + badpos);
        return;
    case K_MAIL:
        parse_mail_rcpt(ev, s, n, i, off, "FROM:");
        return;
    case K_RCPT:
        parse_mail_rcpt(ev, s, n, i, off, "TO:");
        return;
    case K_STRING:
        if (!has_arg || s[i] != ' ' || !printable_rest(ev->arg.ptr, ev->arg.len))
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
        return;
    case K_OPTSTRING:
        if (has_arg && (s[i] != ' ' || !printable_rest(ev->arg.ptr, ev->arg.len)))
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
        return;
    case K_BDAT: {
        const uint8_t *sp;
        size_t dl;
        if (!has_arg || s[i] != ' ' || ev->arg.len == 0) {
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
            return;
        }
        sp = memchr(ev->arg.ptr, ' ', ev->arg.len);
        dl = sp ? (size_t)(sp - ev->arg.ptr) : ev->arg.len;
        if (!mc_parse_u64(ev->arg.ptr, dl, (uint64_t)1 << 62, &ev->chunk_size)) {
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, ev->arg.off);
            return;
        }
        if (sp) {
            if (ev->arg.len - dl - 1 == 4 && mc_ascii_ieq(ev->arg.ptr + dl + 1, "LAST", 4))
                ev->last = true;
            else
                bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, ev->arg.off + dl);
        }
        return;
    }
    case K_AUTH: {
        const uint8_t *sp;
        size_t ml;
        if (!has_arg || s[i] != ' ' || ev->arg.len == 0) {
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, off + i);
            return;
        }
        sp = memchr(ev->arg.ptr, ' ', ev->arg.len);
        ml = sp ? (size_t)(sp - ev->arg.ptr) : ev->arg.len;
        ev->mech = sub(ev->arg.ptr, 0, ml, ev->arg.off);
        if (!mech_valid(ev->mech.ptr, ev->mech.len))
            bad(ev, MC_ANOM_SMTP_ARG_SYNTAX, ev->mech.off);
        if (sp) {
            const uint8_t *ir = sp + 1;
            size_t irl = ev->arg.len - ml - 1;
            ev->initial_response = true;
            ev->secret = sub(ev->arg.ptr, ml + 1, irl, ev->arg.off);
            /* initial-response = base64 / "=" */
            if (!(irl == 1 && ir[0] == '=') &&
                (irl == 0 || !mc_base64_valid_prefix(ir, irl, ev->truncated, &badpos)))
                bad(ev, MC_ANOM_SMTP_SASL_BAD_BASE64, ev->secret.off + (irl ? badpos : 0));
        }
        return;
    }
    }
}

static void build_line(struct mc_smtp_cmd *p, struct mc_smtp_cmd_ev *ev)
{
    const struct mc_line *l = &p->line;
    const uint8_t *s = l->buf;
    size_t n = l->kept, i = 0;
    uint64_t off = l->start;

    memset(ev, 0, sizeof(*ev));
    mc_anoms_copy(&ev->anoms, &l->anoms);
    ev->line = sub(s, 0, n, off);
    ev->line_len = l->total;
    ev->truncated = l->total > n;
    ev->syntax_ok = !mc_anoms_has(&l->anoms, MC_ANOM_NUL_BYTE);

    if (p->sasl) {
        size_t badpos = 0;
        ev->type = MC_SMTP_CMD_SASL;
        ev->secret = ev->line;
        if (n == 1 && s[0] == '*')
            ev->cancel = true;
        else if (!mc_base64_valid_prefix(s, n, ev->truncated, &badpos))
            bad(ev, MC_ANOM_SMTP_SASL_BAD_BASE64, off + badpos);
        return;
    }
    ev->type = MC_SMTP_CMD_LINE;
    if (l->total == 0) {
        bad(ev, MC_ANOM_SMTP_CMD_EMPTY, off);
        return;
    }
    i = mc_skip_to_sp(s, i, n);
    ev->keyword = sub(s, 0, i, off);
    if (i < n)   /* s[i] == ' ' */
        ev->arg = sub(s, i + 1, n - i - 1, off);
    ev->verb = lookup(s, i);
    if (ev->verb == MC_SMTP_UNKNOWN) {
        size_t k = 0;
        while (k < i && alnum(s[k]))
            k++;
        if (i == 0 || k < i)   /* at the first octet that is no letter or digit */
            bad(ev, MC_ANOM_SMTP_VERB_SYNTAX, off + k);
        return;
    }
    /* RFC 4954 s4: AUTH lines carry base64 and may exceed 512 octets */
    if (ev->verb == MC_SMTP_AUTH)
        mc_line_relimit(l, &ev->anoms, MC_SMTP_AUTH_LINE_MAX);
    parse_args(ev, s, n, i, off);
    if (ev->verb == MC_SMTP_RSET)
        p->bdat_open = false;
}

/* ---- message content ---------------------------------------------------- */

static void end_line(struct mc_smtp_cmd *p, uint8_t kind, uint64_t next)
{
    p->ls = kind;
    p->col = 0;
    p->long_said = false;
    p->quiet = false;
    p->line_start = next;
}

/* One octet of content at absolute offset o that is CR, LF, NUL, 8-bit, at a
 * line start, or after a CR or a line-start '.': the slow path. Returns true
 * when it was the LF of a DATA terminator. */
static bool content_octet(struct mc_smtp_cmd *p, uint8_t b, uint64_t o, struct mc_anoms *a)
{
    bool dots = p->mode == MC_SMTP_CONTENT_DATA;
    if (p->cr) {
        p->cr = false;
        if (b == '\n') {
            if (p->dot) {
                p->dot = false;
                if (p->dot_kind == LS_CRLF)
                    return true;      /* CRLF "." CRLF */
                mc_anoms_add(a, MC_ANOM_SMTP_BODY_DOT_LOOKALIKE, p->dot_off);
            }
            end_line(p, LS_CRLF, o + 1);
            return false;
        }
        if (!p->quiet)
            mc_anoms_add(a, MC_ANOM_SMTP_BODY_BARE_CR, p->cr_off);
        if (p->dot) {               /* "." then a bare CR */
            p->dot = false;
            if (!p->quiet)
                mc_anoms_add(a, MC_ANOM_SMTP_BODY_DOT_LOOKALIKE, p->dot_off);
        }
        p->ls = LS_CR;  /* a receiver that ends lines at CR sees a line start */
    }
    if (b == '\r') {
        p->cr = true;
        p->cr_off = o;
        p->col++;
        return false;
    }
    if (b == '\n' && p->quiet) {
        /* the first line end after a gap: its CR may be in the gap, so it
         * ends the line as a CRLF would; nothing on that line is judged */
        bool after_dot = p->dot;
        p->dot = false;
        end_line(p, after_dot ? LS_LF : LS_CRLF, o + 1);
        return false;
    }
    if (b == '\n') {
        mc_anoms_add(a, MC_ANOM_SMTP_BODY_BARE_LF, o);
        if (p->dot) {
            p->dot = false;
            mc_anoms_add(a, MC_ANOM_SMTP_BODY_DOT_LOOKALIKE, p->dot_off);
        }
        end_line(p, LS_LF, o + 1);
        return false;
    }
    if (p->dot) {
        p->dot = false;
        if (b != '.' && p->dot_kind == LS_CRLF && !p->quiet)
            mc_anoms_add(a, MC_ANOM_SMTP_BODY_UNSTUFFED_DOT, p->dot_off);
        if (b == '.') {
            /* s4.5.3.1.6: the dot duplicated for transparency does not
             * count; the line's counted octets start one later */
            p->col--;
            p->line_start++;
        }
    } else if (p->ls != LS_NONE && b == '.' && dots) {
        p->dot = true;
        p->dot_kind = p->ls;
        p->dot_off = o;
    }
    p->ls = LS_NONE;
    p->col++;
    if (p->col > MC_SMTP_TEXT_LINE_MAX - 2 && !p->long_said) {
        p->long_said = true;
        mc_anoms_add(a, MC_ANOM_SMTP_BODY_LINE_TOO_LONG, p->line_start + MC_SMTP_TEXT_LINE_MAX - 2);
    }
    if (b == 0 && !p->quiet)
        mc_anoms_add(a, MC_ANOM_SMTP_BODY_NUL, o);
    if (b >= 0x80 && !p->seen8) {
        p->seen8 = true;
        mc_anoms_add(a, MC_ANOM_SMTP_BODY_8BIT, o);
    }
    return false;
}

static bool special(uint8_t c, bool seen8)
{
    return c == '\r' || c == '\n' || c == 0 || (c >= 0x80 && !seen8);
}

/* Length of the run of plain octets at s: none of CR, LF, NUL, nor (until
 * the first one is seen) an 8-bit octet. This is the hot loop of message
 * content: 16 octets at a time with SSE2 (every x86-64 has it), else 8 at a
 * time in a 64-bit word. */
static size_t plain_run(const uint8_t *s, size_t n, bool seen8)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i thirteen = _mm_set1_epi8(0x0d);
    while (i + 16 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* candidates: octets <= 0x0D (min(x, 13) == x), and 8-bit ones
         * (the sign bit) until one was seen; a candidate such as HT that
         * is not special is stepped over */
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, thirteen), x));
        if (!seen8)
            m |= (unsigned)_mm_movemask_epi8(x);
        while (m) {
            size_t k = i + (size_t)__builtin_ctz(m);
            if (special(s[k], seen8))
                return k;
            m &= m - 1;
        }
        i += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t high_mask = seen8 ? 0 : highs;
    while (i + 8 <= n) {
        uint64_t x, cr, lf;
        memcpy(&x, s + i, 8);
        cr = x ^ (ones * '\r');
        lf = x ^ (ones * '\n');
        /* a zero octet in x, cr or lf marks an octet to look at; the high
         * bits of x itself mark 8-bit octets */
        if ((((x - ones) & ~x) | ((cr - ones) & ~cr) | ((lf - ones) & ~lf)) & highs)
            break;
        if (x & high_mask)
            break;
        i += 8;
    }
#endif
    while (i < n && !special(s[i], seen8))
        i++;
    return i;
}

static void fill_end(struct mc_smtp_cmd *p, struct mc_smtp_cmd_ev *ev, uint64_t at)
{
    ev->type = MC_SMTP_CMD_CONTENT_END;
    ev->line.off = at;
    ev->content_octets = p->octets;
    ev->content_8bit = p->seen8;
    ev->content_bdat = p->mode == MC_SMTP_CONTENT_BDAT;
}

/* The BDAT chunk is complete: its CONTENT_END, back to commands. */
static void chunk_end(struct mc_smtp_cmd *p, struct mc_smtp_cmd_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    fill_end(p, ev, p->pos);
    ev->last = p->bdat_last;
    if (p->bdat_last) {
        p->bdat_open = false;
        if (p->cr)   /* a CR ending the message has no LF */
            mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_BODY_BARE_CR, p->cr_off);
    }
    leave_content(p);
}

bool mc_smtp_cmd_has_event(const struct mc_smtp_cmd *p)
{
    return p->mode == MC_SMTP_CONTENT_BDAT && p->remaining == 0;
}

/* Scans content; returns MC_EVENT at an anomaly, at the end of DATA or of
 * a BDAT chunk. */
static int feed_content(struct mc_smtp_cmd *p, const uint8_t *buf, size_t len,
                        size_t *used_out, struct mc_smtp_cmd_ev *ev)
{
    size_t i = 0, lim = len;
    if (p->mode == MC_SMTP_CONTENT_BDAT && p->remaining < lim)
        lim = (size_t)p->remaining;
    memset(ev, 0, sizeof(*ev));
    while (i < lim) {
        /* fast path: mid-line, nothing pending */
        if (p->ls == LS_NONE && !p->cr && !p->dot) {
            size_t r = plain_run(buf + i, lim - i, p->seen8);
            p->col += r;
            i += r;
            if (p->col > MC_SMTP_TEXT_LINE_MAX - 2 && !p->long_said) {
                p->long_said = true;
                mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_BODY_LINE_TOO_LONG,
                             p->line_start + MC_SMTP_TEXT_LINE_MAX - 2);
                break;
            }
            /* the usual line end, CRLF followed by anything but '.', needs
             * none of the slow path's checks */
            if (i + 2 < lim && buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] != '.') {
                i += 2;
                end_line(p, LS_NONE, p->pos + i);
                continue;
            }
            if (r > 0)
                continue;
        }
        if (content_octet(p, buf[i], p->pos + i, &ev->anoms)) {
            /* the terminator "." CRLF: its '.' and CR are not content */
            i++;
            p->octets += i;
            p->octets -= 2 + 1; /* the ".\r" of this feed or an earlier one */
            p->body_started += i;
            p->pos += i;
            fill_end(p, ev, p->dot_off);
            ev->last = true;
            leave_content(p);
            *used_out = i;
            return MC_EVENT;
        }
        i++;
        if (ev->anoms.n > 0)
            break;
    }
    p->octets += i;
    p->body_started += i;
    p->pos += i;
    *used_out = i;
    if (p->mode == MC_SMTP_CONTENT_BDAT) {
        p->remaining -= i;
        if (p->remaining == 0 && ev->anoms.n == 0) {
            chunk_end(p, ev);
            return MC_EVENT;
        }
        /* with an anomaly on the chunk's last octet, the chunk end is the
         * next event (mc_smtp_cmd_has_event) */
    }
    if (ev->anoms.n > 0) {
        ev->type = MC_SMTP_CMD_CONTENT;
        ev->line.off = ev->anoms.hit[0].off;
        return MC_EVENT;
    }
    return MC_NEED_MORE;
}

int mc_smtp_cmd_feed(struct mc_smtp_cmd *p, const uint8_t *buf, size_t len,
                     size_t *used_out, struct mc_smtp_cmd_ev *ev_out)
{
    if (p->mode != MC_SMTP_CONTENT_NONE) {
        int r;
        if (mc_smtp_cmd_has_event(p)) {
            chunk_end(p, ev_out);
            *used_out = 0;
            return MC_EVENT;
        }
        r = feed_content(p, buf, len, used_out, ev_out);
        if (r == MC_EVENT && ev_out->type == 0)
            ev_out->type = MC_SMTP_CMD_CONTENT;
        return r;
    }
    p->finished_line = false;
    if (mc_line_feed(&p->line, buf, len, used_out) != MC_EVENT)
        return MC_NEED_MORE;
    build_line(p, ev_out);
    if (ev_out->type == MC_SMTP_CMD_LINE && ev_out->verb == MC_SMTP_BDAT && ev_out->syntax_ok) {
        /* RFC 3030 s2: exactly chunk-size octets follow the command line */
        if (!p->bdat_open) {
            p->pos = p->line.pos;
            content_reset(p);
        } else {
            /* the message line goes on in this chunk: its start moves by
             * the octets of the command line between the chunks, so that
             * line_start + column is the offset of a later octet */
            p->line_start += p->line.pos - p->pos;
        }
        enter_content(p, MC_SMTP_CONTENT_BDAT);
        p->remaining = ev_out->chunk_size;
        p->bdat_last = ev_out->last;
        p->bdat_open = !ev_out->last;
    }
    return MC_EVENT;
}

int mc_smtp_cmd_finish(struct mc_smtp_cmd *p, struct mc_smtp_cmd_ev *ev_out)
{
    if (mc_smtp_cmd_has_event(p)) {
        chunk_end(p, ev_out);
        return MC_EVENT;
    }
    if (p->mode != MC_SMTP_CONTENT_NONE) {
        memset(ev_out, 0, sizeof(*ev_out));
        fill_end(p, ev_out, p->pos);
        mc_anoms_add(&ev_out->anoms, MC_ANOM_SMTP_BODY_UNTERMINATED, p->pos);
        leave_content(p);   /* the line layer moves past the content */
        p->bdat_open = false;
        p->finished_line = true;
        return MC_EVENT;
    }
    if (!p->finished_line) {
        p->finished_line = true;
        if (mc_line_finish(&p->line) == MC_EVENT) {
            build_line(p, ev_out);
            return MC_EVENT;
        }
    }
    return MC_NEED_MORE;
}

void mc_smtp_cmd_gap(struct mc_smtp_cmd *p, uint64_t n)
{
    if (p->mode == MC_SMTP_CONTENT_NONE) {
        mc_line_gap(&p->line, n);
        return;
    }
    p->pos += n;
    p->octets += n;
    p->body_started += n;
    /* The damaged line's start and length are unknown: it is not judged,
     * and its first LF ends it. The gap may also have ended at a line
     * start, so a terminator right after it still ends DATA. */
    p->ls = LS_CRLF;
    p->cr = p->dot = false;
    p->long_said = true;
    p->quiet = true;
    if (p->mode == MC_SMTP_CONTENT_BDAT) {
        if (n < p->remaining) {
            p->remaining -= n;
            return;
        }
        /* the chunk ended inside the gap, and commands may follow: resync
         * at the next line */
        n -= p->remaining;
        p->remaining = 0;
        p->mode = MC_SMTP_CONTENT_NONE;
        p->bdat_open = false;
        mc_line_advance(&p->line, p->pos - n - p->line.pos);
        if (n > 0)
            mc_line_gap(&p->line, n);
    }
}
