/*
 * The IMAP conversation of the probe (RFC 3501, RFC 9051, RFC 2595):
 * greeting, CAPABILITY, STARTTLS and CAPABILITY again (IMAP4-TLS), LOGIN
 * when asked and allowed, LIST "" "*", EXAMINE INBOX, FETCH 1 (FLAGS
 * ENVELOPE BODYSTRUCTURE) when it holds messages, the active checks
 * (two commands pipelined in one write, an unknown command, an over-long
 * line, the STARTTLS injection on a connection of its own), LOGOUT.
 * Literals in responses ({N} at a line's end, RFC 3501 s4.3) are read
 * through and discarded; the session sees them whole.
 */
#define _POSIX_C_SOURCE 200809L
#include "probe_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longer than the about 8192 octets RFC 7162 s4 asks clients to keep a
 * command line within. */
#define IMAP_LONG_LINE 10000

enum imap_result { RES_OK, RES_NO, RES_BAD, RES_OTHER, RES_UNTAGGED_BAD, RES_BYE };

struct imap_state {
    unsigned tag;
    bool starttls, logindisabled;
    unsigned long exists;
    bool bye;
    bool literal_too_big;
};

/* A literal announced at the end of a line: {N} or {N+} (RFC 7888). */
static bool literal_at_end(const char *l, size_t n, uint64_t *size)
{
    size_t i;
    uint64_t v = 0;
    if (n < 3 || l[n - 1] != '}')
        return false;
    i = n - 2;
    if (l[i] == '+')
        i--;
    if (l[i] < '0' || l[i] > '9')
        return false;
    while (i > 0 && l[i] >= '0' && l[i] <= '9')
        i--;
    if (l[i] != '{')
        return false;
    for (size_t k = i + 1; k < n && l[k] >= '0' && l[k] <= '9'; k++) {
        v = v * 10 + (uint64_t)(l[k] - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *size = v;
    return true;
}

static bool starts(const char *l, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && strncasecmp(l, p, k) == 0;
}

/* An untagged line: what the probe needs to know from it. */
static void untagged(struct imap_state *is, const char *l, size_t n)
{
    if (starts(l, n, "* CAPABILITY ")) {
        is->starttls = probe_has_word(l + 13, n - 13, "STARTTLS");
        is->logindisabled = probe_has_word(l + 13, n - 13, "LOGINDISABLED");
    } else if (starts(l, n, "* BYE")) {
        is->bye = true;
    } else if (n > 2 && l[2] >= '0' && l[2] <= '9') {
        char *end;
        unsigned long v = strtoul(l + 2, &end, 10);
        if ((size_t)(end - l) + 7 <= n && strncasecmp(end, " EXISTS", 7) == 0)
            is->exists = v;
    }
}

/* Reads responses until the tagged one for tag (or, with stop_on_bad, an
 * untagged BAD or BYE: the answer to a line the server could not parse). */
static enum probe_status until_tagged(struct probe_run *r, struct imap_state *is, unsigned tag,
                                      bool stop_on_bad, enum imap_result *res)
{
    char t[16];
    size_t tl = (size_t)snprintf(t, sizeof(t), "a%u ", tag);
    bool continuation = false; /* the line goes on after a literal */
    *res = RES_OTHER;
    for (;;) {
        const char *l;
        size_t n;
        uint64_t lit;
        bool first;
        enum probe_status st = probe_line(r->c, &l, &n);
        if (st != PROBE_OK)
            return st;
        first = !continuation;
        continuation = literal_at_end(l, n, &lit);
        if (first && n >= tl && strncmp(l, t, tl) == 0) {
            const char *s = l + tl;
            size_t sn = n - tl;
            *res = starts(s, sn, "OK")    ? RES_OK
                   : starts(s, sn, "NO")  ? RES_NO
                   : starts(s, sn, "BAD") ? RES_BAD
                                          : RES_NO;
            if (!continuation)
                return PROBE_OK;
        } else if (first && n >= 2 && l[0] == '*' && l[1] == ' ') {
            untagged(is, l, n);
            if (stop_on_bad && !continuation && (starts(l, n, "* BAD") || starts(l, n, "* BYE"))) {
                *res = starts(l, n, "* BAD") ? RES_UNTAGGED_BAD : RES_BYE;
                return PROBE_OK;
            }
        }
        if (continuation) {
            if (lit > MC_PROBE_LITERAL_MAX) {
                is->literal_too_big = true;
                return PROBE_TOO_LONG;
            }
            st = probe_skip(r->c, lit);
            if (st != PROBE_OK)
                return st;
        } else if (*res != RES_OTHER) {
            return PROBE_OK;
        }
    }
}

static enum probe_status command(struct probe_run *r, struct imap_state *is, const char *cmd,
                                 enum imap_result *res)
{
    unsigned tag = ++is->tag;
    enum probe_status st = probe_sendf(r->c, "a%u %s\r\n", tag, cmd);
    if (st != PROBE_OK)
        return st;
    return until_tagged(r, is, tag, false, res);
}

/* An IMAP quoted string (RFC 3501 s4.3) of s; false if s cannot be one. */
static bool quoted(char *out, size_t outlen, const char *s)
{
    size_t k = 0;
    out[k++] = '"';
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n' || k + 4 >= outlen)
            return false;
        if (*s == '"' || *s == '\\')
            out[k++] = '\\';
        out[k++] = *s;
    }
    out[k++] = '"';
    out[k] = '\0';
    return true;
}

/* LOGOUT and the close; a LOGOUT that is not answered is left to the
 * session to judge (the server may have closed after the over-long line). */
static void logout(struct probe_run *r, struct imap_state *is)
{
    enum imap_result res;
    if (command(r, is, "LOGOUT", &res) != PROBE_OK)
        probe_rec_comment(r->rec, "probe: no answer to LOGOUT");
    probe_finish(r->c);
}

/* STARTTLS and a harmless NOOP in one write (RFC 9051 s6.2.1: the NOOP is
 * TLS handshake or thrown away, never executed). */
static enum mc_probe_outcome inject_check(struct probe_run *r, struct imap_state *is)
{
    unsigned tag = ++is->tag, noop = ++is->tag;
    enum imap_result res;
    enum mc_probe_outcome out;
    bool tls_up;
    PROBE_TRY(probe_sendf(r->c, "a%u STARTTLS\r\na%u NOOP\r\n", tag, noop), "the answer to STARTTLS");
    PROBE_TRY(until_tagged(r, is, tag, false, &res), "the answer to STARTTLS");
    if (res != RES_OK)
        return probe_not_offered(r, "STARTTLS refused");
    out = probe_inject_handshake(r, &tls_up);
    if (out != MC_OUTCOME_DONE || !tls_up)
        return out;
    logout(r, is);
    return MC_OUTCOME_DONE;
}

static enum mc_probe_outcome active_checks(struct probe_run *r, struct imap_state *is, bool *alive)
{
    enum imap_result res;
    enum probe_status st;
    char prefix[32];
    unsigned tag;
    *alive = false;
    /* pipelining: IMAP needs no capability for it (RFC 3501 s5.5, RFC 9051
     * s5.5): two commands in one write, each answered under its own tag,
     * in order (the session checks the order; a server that drops the
     * second times out here) */
    tag = ++is->tag;
    PROBE_TRY(probe_sendf(r->c, "a%u CAPABILITY\r\na%u NOOP\r\n", tag, tag + 1),
              "the answer to two pipelined commands");
    is->tag++;
    PROBE_TRY(until_tagged(r, is, tag, false, &res), "the answer to the first of two pipelined commands");
    PROBE_TRY(until_tagged(r, is, tag + 1, false, &res),
              "the answer to the second of two pipelined commands");
    PROBE_TRY(command(r, is, "NOSUCHCOMMAND", &res), "the answer to an unknown command");
    if (res == RES_OK)
        probe_rec_comment(r->rec, "probe: OK to an unknown command");
    PROBE_TRY(command(r, is, "NOOP", &res), "the answer to NOOP after an unknown command");
    tag = ++is->tag;
    snprintf(prefix, sizeof(prefix), "a%u NOOP ", tag);
    st = probe_send_long_line(r->c, prefix, IMAP_LONG_LINE);
    if (st == PROBE_OK)
        st = until_tagged(r, is, tag, true, &res);
    *alive = st == PROBE_OK && res != RES_BYE;
    return probe_long_line_answer(r, st);
}

enum mc_probe_outcome probe_imap(struct probe_run *r)
{
    struct imap_state is;
    enum imap_result res;
    const char *l;
    size_t n;
    bool authenticated = false, alive = true;
    enum mc_probe_outcome out = probe_open(r);
    if (out != MC_OUTCOME_DONE)
        return out;
    memset(&is, 0, sizeof(is));

    probe_expect(r->c);
    PROBE_TRY(probe_line(r->c, &l, &n), "the greeting");
    if (starts(l, n, "* PREAUTH")) {
        authenticated = true;
    } else if (starts(l, n, "* BYE")) {
        return probe_failed(r, "the server refuses service: %.*s", (int)(n > 80 ? 80 : n), l);
    } else if (!starts(l, n, "* OK")) {
        return probe_failed(r, "garbage instead of a greeting");
    }
    PROBE_TRY(command(r, &is, "CAPABILITY", &res), "the answer to CAPABILITY");

    if (r->mi->tls == MC_TLS_STARTTLS) {
        if (!is.starttls)
            return probe_not_offered(r, "STARTTLS not advertised");
        if (authenticated) /* RFC 3501 s6.2: STARTTLS is a not-authenticated command */
            return probe_not_offered(r, "PREAUTH: STARTTLS not possible");
        if (r->inject)
            return inject_check(r, &is);
        PROBE_TRY(command(r, &is, "STARTTLS", &res), "the answer to STARTTLS");
        if (res != RES_OK)
            return probe_not_offered(r, "STARTTLS refused");
        out = probe_upgrade(r);
        if (out != MC_OUTCOME_DONE)
            return out;
        PROBE_TRY(command(r, &is, "CAPABILITY", &res), "the answer to CAPABILITY after STARTTLS");
    }

    if (!authenticated && probe_may_login(r) && !is.logindisabled) {
        char cmd[1100], u[520], p[520];
        if (!quoted(u, sizeof(u), r->o->user) || !quoted(p, sizeof(p), r->o->password))
            return probe_failed(r, "the user name or password cannot be an IMAP quoted string");
        snprintf(cmd, sizeof(cmd), "LOGIN %s %s", u, p);
        PROBE_TRY(command(r, &is, cmd, &res), "the answer to LOGIN");
        if (res != RES_OK)
            return probe_failed(r, "login rejected");
        authenticated = true;
    } else if (!authenticated && r->o->user) {
        probe_rec_comment(r->rec, is.logindisabled
                                      ? "probe: no login: LOGINDISABLED"
                                      : "probe: no login: the channel is not encrypted");
    }

    if (authenticated) {
        PROBE_TRY(command(r, &is, "LIST \"\" \"*\"", &res), "the answer to LIST");
        is.exists = 0;
        PROBE_TRY(command(r, &is, "EXAMINE INBOX", &res), "the answer to EXAMINE");
        if (res == RES_OK && is.exists > 0)
            PROBE_TRY(command(r, &is, "FETCH 1 (FLAGS ENVELOPE BODYSTRUCTURE)", &res),
                "the answer to FETCH");
    }

    if (r->o->active_checks) {
        out = active_checks(r, &is, &alive);
        if (out != MC_OUTCOME_DONE)
            return out;
    }
    if (alive)
        logout(r, &is);
    else
        probe_finish(r->c);
    return MC_OUTCOME_DONE;
}
