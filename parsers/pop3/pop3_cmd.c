/*
 * POP3 commands, client to server.
 *
 * RFC 1939 s3-s7, RFC 2449 s3-s4, RFC 2595 s4 (STLS), RFC 5034 s4-s5 (AUTH).
 *
 *   command      =  keyword *(SP param) CRLF    ;255 octets maximum
 *   keyword      =  3*4VCHAR
 *   param        =  1*VCHAR                     ;RFC 1939: up to 40 characters
 *   auth-command =  "AUTH" SP sasl-mech [SP initial-response]
 *                   *(CRLF [base64]) [CRLF cancel-response] CRLF
 *   initial-response = base64 / "="
 *
 * Keywords are case-insensitive (RFC 1939 s3). PASS takes the rest of the
 * line as its one argument: RFC 1939 s7 lets a password hold spaces.
 */
#include "pop3_cmd.h"

#include <string.h>

enum argkind { K_NONE, K_ANY, K_REST, K_MSG, K_COUNT, K_DIGEST, K_SASLIR };

struct verbinfo {
    const char *name;
    uint8_t min, max;
    enum argkind kind[2];
};

static const struct verbinfo verbs[MC_POP3_VERB_COUNT] = {
    [MC_POP3_UNKNOWN] = {"UNKNOWN", 0, MC_POP3_ARGS_MAX, {K_ANY, K_ANY}},
#define X(n, mn, mx, k1, k2) [MC_POP3_##n] = {#n, mn, mx, {K_##k1, K_##k2}},
    MC_POP3_VERBS(X)
#undef X
};

const char *mc_pop3_verb_name(enum mc_pop3_verb v)
{
    return (unsigned)v < MC_POP3_VERB_COUNT ? verbs[v].name : "INVALID";
}

void mc_pop3_cmd_init(struct mc_pop3_cmd *p)
{
    memset(p, 0, sizeof(*p));
    mc_line_init(&p->line, MC_POP3_CMD_LINE_MAX);
}

void mc_pop3_cmd_expect_sasl(struct mc_pop3_cmd *p, bool on)
{
    p->sasl = on;
    /* RFC 5034 s4: SASL responses may be of arbitrary length */
    mc_line_set_limit(&p->line, on ? 0 : MC_POP3_CMD_LINE_MAX);
}

bool mc_pop3_cmd_in_sasl(const struct mc_pop3_cmd *p)
{
    return p->sasl;
}

bool mc_pop3_cmd_resyncing(const struct mc_pop3_cmd *p)
{
    return mc_line_resyncing(&p->line);
}

uint64_t mc_pop3_cmd_offset(const struct mc_pop3_cmd *p)
{
    return p->line.pos;
}

bool mc_pop3_cmd_partial(const struct mc_pop3_cmd *p)
{
    return mc_line_partial(&p->line);
}

static bool vchar(uint8_t c)
{
    return c >= 0x21 && c <= 0x7e;
}

static enum mc_pop3_verb lookup(const uint8_t *s, size_t n)
{
    char up[4];
    if (n < 3 || n > 4)
        return MC_POP3_UNKNOWN;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i]);
    for (int v = 1; v < MC_POP3_VERB_COUNT; v++)
        if (strlen(verbs[v].name) == n && memcmp(verbs[v].name, up, n) == 0)
            return (enum mc_pop3_verb)v;
    return MC_POP3_UNKNOWN;
}

static void check_arg(struct mc_pop3_cmd_ev *ev, unsigned idx, enum argkind kind,
                      const struct mc_span *a)
{
    size_t bad;
    if (kind != K_REST && kind != K_SASLIR && a->len > MC_POP3_ARG_MAX_1939)
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_ARG_OVER_40, a->off + MC_POP3_ARG_MAX_1939);
    for (size_t i = 0; i < a->len; i++) {
        uint8_t c = a->ptr[i];
        if (!vchar(c) && !(kind == K_REST && c == ' ')) {
            /* NUL is already reported by the line layer (NUL_BYTE) */
            if (c != 0)
                mc_anoms_add(&ev->anoms, MC_ANOM_POP3_ARG_BAD_CHAR, a->off + i);
            /* 8-bit names and passwords are what UTF-8 clients send (and
             * legal after RFC 6856 UTF8): flagged, but not a command a
             * server must refuse */
            if (c < 0x80 || (kind != K_ANY && kind != K_REST))
                ev->syntax_ok = false;
            break;
        }
    }
    switch (kind) {
    case K_MSG:
    case K_COUNT:
        if (idx < 2 && mc_parse_u64(a->ptr, a->len, UINT64_MAX, &ev->num[idx])) {
            ev->num_ok[idx] = true;
            /* message-numbers start at 1 (RFC 1939 s4) */
            /* 0 names no message: flagged, but an ordinary -ERR case for
             * the server (RFC 1939 s5), not a syntax error */
            if (kind == K_MSG && ev->num[idx] == 0)
                mc_anoms_add(&ev->anoms, MC_ANOM_POP3_ARG_ZERO, a->off);
        } else {
            mc_anoms_add(&ev->anoms, MC_ANOM_POP3_ARG_NOT_NUMBER, a->off);
            ev->syntax_ok = false;
        }
        break;
    case K_DIGEST: {
        /* RFC 1939 s7: 16 octets in hex, lower-case */
        bool ok = a->len == 32;
        for (size_t i = 0; ok && i < a->len; i++)
            ok = (a->ptr[i] >= '0' && a->ptr[i] <= '9') || (a->ptr[i] >= 'a' && a->ptr[i] <= 'f');
        if (!ok) {
            mc_anoms_add(&ev->anoms, MC_ANOM_POP3_APOP_DIGEST, a->off);
            ev->syntax_ok = false;
        }
        ev->secret = *a;
        break;
    }
    case K_SASLIR:
        if (!(a->len == 1 && a->ptr[0] == '=') && !mc_base64_valid_prefix(a->ptr, a->len, ev->truncated, &bad)) {
            mc_anoms_add(&ev->anoms, MC_ANOM_POP3_SASL_BAD_BASE64, a->off + bad);
            ev->syntax_ok = false;
        }
        ev->secret = *a;
        break;
    case K_REST:
        ev->secret = *a;
        break;
    default:
        break;
    }
}

static void parse_command(struct mc_pop3_cmd_ev *ev, const uint8_t *s, size_t n, uint64_t off)
{
    size_t i = 0, k;
    const struct verbinfo *vi;

    ev->type = MC_POP3_CMD_LINE;
    ev->syntax_ok = true;
    if (n == 0) {
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_CMD_EMPTY, off);
        ev->syntax_ok = false;
        return;
    }
    i = mc_skip_to_sp(s, i, n);
    ev->keyword.ptr = s;
    ev->keyword.len = i;
    ev->keyword.off = off;
    for (k = 0; k < i && vchar(s[k]); k++)
        ;
    if (i < 3 || i > 4 || k < i) {
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_KEYWORD_SYNTAX, off + (k < i ? k : 0));
        ev->syntax_ok = false;
    }
    /* "PASS\tsecret", "AUTHPLAIN ...": a malformed keyword that starts like
     * a credential-carrying command still hides what follows it */
    if (i > 4 && (lookup(s, 4) == MC_POP3_PASS || lookup(s, 4) == MC_POP3_APOP ||
                  lookup(s, 4) == MC_POP3_AUTH)) {
        ev->secret.ptr = s + 4;
        ev->secret.len = n - 4;
        ev->secret.off = off + 4;
    }
    ev->verb = lookup(s, i);
    vi = &verbs[ev->verb];

    if (vi->kind[0] == K_REST) {
        /* PASS: everything after the first SP is the argument */
        if (i < n) {
            struct mc_span *a = &ev->arg[0];
            a->ptr = s + i + 1;
            a->len = n - i - 1;
            a->off = off + i + 1;
            ev->argc = a->len > 0 ? 1 : 0;
            if (ev->argc)
                check_arg(ev, 0, K_REST, a);
            else
                ev->secret = *a;
        }
    } else {
        while (i < n) {
            size_t start = ++i; /* skip the SP at s[i-1] */
            i = mc_skip_to_sp(s, i, n);
            if (i == start) {
                /* double SP or trailing SP (RFC 1939 s3: a single SPACE) */
                mc_anoms_add(&ev->anoms, MC_ANOM_POP3_ARG_SPACING, off + start - 1);
                ev->syntax_ok = false;
                continue;
            }
            if (ev->argc < MC_POP3_ARGS_MAX) {
                struct mc_span *a = &ev->arg[ev->argc];
                a->ptr = s + start;
                a->len = i - start;
                a->off = off + start;
                if (ev->verb != MC_POP3_UNKNOWN && ev->argc < vi->max)
                    check_arg(ev, ev->argc, vi->kind[ev->argc < 2 ? ev->argc : 1], a);
            }
            ev->argc++;
        }
    }
    if (ev->verb != MC_POP3_UNKNOWN && (ev->argc < vi->min || ev->argc > vi->max)) {
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_ARG_COUNT, off + n);
        ev->syntax_ok = false;
    }
}

static void parse_sasl(struct mc_pop3_cmd_ev *ev, const uint8_t *s, size_t n, uint64_t off)
{
    size_t bad;
    ev->type = MC_POP3_CMD_SASL;
    ev->syntax_ok = true;
    ev->secret.ptr = s;
    ev->secret.len = n;
    ev->secret.off = off;
    if (n == 1 && s[0] == '*') {
        ev->cancel = true;
        return;
    }
    if (!mc_base64_valid_prefix(s, n, ev->truncated, &bad)) {
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_SASL_BAD_BASE64, off + bad);
        ev->syntax_ok = false;
    }
}

static void build_event(struct mc_pop3_cmd *p, struct mc_pop3_cmd_ev *ev)
{
    const struct mc_line *l = &p->line;
    memset(ev, 0, sizeof(*ev));
    mc_anoms_copy(&ev->anoms, &l->anoms);
    ev->line.ptr = l->buf;
    ev->line.len = l->kept;
    ev->line.off = l->start;
    ev->line_len = l->total;
    ev->truncated = l->total > l->kept;
    if (p->sasl)
        parse_sasl(ev, l->buf, l->kept, l->start);
    else
        parse_command(ev, l->buf, l->kept, l->start);
}

int mc_pop3_cmd_feed(struct mc_pop3_cmd *p, const uint8_t *buf, size_t len,
                     size_t *used_out, struct mc_pop3_cmd_ev *ev_out)
{
    if (mc_line_feed(&p->line, buf, len, used_out) != MC_EVENT)
        return MC_NEED_MORE;
    build_event(p, ev_out);
    return MC_EVENT;
}

int mc_pop3_cmd_finish(struct mc_pop3_cmd *p, struct mc_pop3_cmd_ev *ev_out)
{
    if (mc_line_finish(&p->line) != MC_EVENT)
        return MC_NEED_MORE;
    build_event(p, ev_out);
    return MC_EVENT;
}

void mc_pop3_cmd_gap(struct mc_pop3_cmd *p, uint64_t n)
{
    mc_line_gap(&p->line, n);
}
