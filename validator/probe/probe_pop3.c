/*
 * The POP3 conversation of the probe (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS):
 * greeting, CAPA, STLS and CAPA again (POP3-TLS), USER/PASS when asked and
 * allowed, STAT, LIST, UIDL (in one write when PIPELINING is announced),
 * TOP 1 0, the active checks, QUIT.
 */
#define _POSIX_C_SOURCE 200809L
#include "probe_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 2449 s4: a command is at most 255 octets including its CRLF; the
 * over-long line is well past it. It is a USER command whose
 * only defect is its length (a NOOP with an argument would be a second,
 * different defect). */
#define POP3_LONG_LINE 2000

struct pop3_caps {
    bool stls, user, top, uidl, pipelining;
};

static bool is_ok(const char *l, size_t n)
{
    return n >= 3 && strncmp(l, "+OK", 3) == 0;
}

/* One status line; *ok tells +OK from anything else. */
static enum probe_status status_line(struct probe_run *r, bool *ok, const char **l, size_t *n)
{
    enum probe_status st = probe_line(r->c, l, n);
    *ok = st == PROBE_OK && is_ok(*l, *n);
    return st;
}

/* The rest of a multi-line answer, through its "." line. */
static enum probe_status multi_body(struct probe_run *r, struct pop3_caps *caps)
{
    for (;;) {
        const char *l;
        size_t n;
        enum probe_status st = probe_line(r->c, &l, &n);
        if (st != PROBE_OK)
            return st;
        if (n == 1 && l[0] == '.')
            return PROBE_OK;
        if (caps) {
            size_t w = 0;
            while (w < n && l[w] != ' ')
                w++;
            if (w == 4 && strncasecmp(l, "STLS", 4) == 0)
                caps->stls = true;
            if (w == 4 && strncasecmp(l, "USER", 4) == 0)
                caps->user = true;
            if (w == 3 && strncasecmp(l, "TOP", 3) == 0)
                caps->top = true;
            if (w == 10 && strncasecmp(l, "PIPELINING", 10) == 0)
                caps->pipelining = true;
            if (w == 4 && strncasecmp(l, "UIDL", 4) == 0)
                caps->uidl = true;
        }
    }
}

/* A command whose +OK answer is multi-line. */
static enum probe_status multi_cmd(struct probe_run *r, const char *cmd, bool *ok,
                                   struct pop3_caps *caps)
{
    const char *l;
    size_t n;
    enum probe_status st = probe_sendf(r->c, "%s\r\n", cmd);
    if (st != PROBE_OK)
        return st;
    st = status_line(r, ok, &l, &n);
    if (st != PROBE_OK || !*ok)
        return st;
    return multi_body(r, caps);
}

static enum probe_status simple_cmd(struct probe_run *r, const char *cmd, bool *ok, const char **l,
                                    size_t *n)
{
    enum probe_status st = probe_sendf(r->c, "%s\r\n", cmd);
    if (st != PROBE_OK)
        return st;
    return status_line(r, ok, l, n);
}

/* STLS and a harmless CAPA in one write (RFC 2595 s4: the server must not
 * answer the CAPA); whatever comes back before and inside TLS is recorded. */
static enum mc_probe_outcome inject_check(struct probe_run *r)
{
    const char *l;
    size_t n;
    bool ok;
    enum mc_probe_outcome out;
    bool tls_up;
    PROBE_TRY(probe_send(r->c, "STLS\r\nCAPA\r\n", 12), "the answer to STLS");
    PROBE_TRY(status_line(r, &ok, &l, &n), "the answer to STLS");
    if (!ok)
        return probe_not_offered(r, "STLS refused");
    /* plaintext after the +OK: the answer to the injected CAPA */
    out = probe_inject_handshake(r, &tls_up);
    if (out != MC_OUTCOME_DONE || !tls_up)
        return out;
    if (simple_cmd(r, "QUIT", &ok, &l, &n) == PROBE_OK)
        probe_finish(r->c);
    return MC_OUTCOME_DONE;
}

/* A malformed command, then a check that the server still answers; then an
 * over-long line, whose answer the session judges. False: the connection
 * is gone. */
static enum mc_probe_outcome active_checks(struct probe_run *r, bool transaction, bool *alive)
{
    const char *l;
    size_t n;
    bool ok;
    enum probe_status st;
    *alive = false;
    PROBE_TRY(simple_cmd(r, "NOSUCHCOMMAND", &ok, &l, &n), "the answer to an unknown command");
    if (ok)
        probe_rec_comment(r->rec, "probe: +OK to an unknown command");
    if (transaction) {
        PROBE_TRY(simple_cmd(r, "NOOP", &ok, &l, &n), "the answer to NOOP after an unknown command");
    } else {
        PROBE_TRY(multi_cmd(r, "CAPA", &ok, NULL), "the answer to CAPA after an unknown command");
    }
    st = probe_send_long_line(r->c, "USER ", POP3_LONG_LINE);
    if (st == PROBE_OK)
        st = probe_line(r->c, &l, &n);
    *alive = st == PROBE_OK;
    return probe_long_line_answer(r, st);
}

enum mc_probe_outcome probe_pop3(struct probe_run *r)
{
    struct pop3_caps caps = {false, false, false, false, false};
    const char *l;
    size_t n;
    bool ok, transaction = false, alive = true;
    enum mc_probe_outcome out = probe_open(r);
    if (out != MC_OUTCOME_DONE)
        return out;

    probe_expect(r->c);
    PROBE_TRY(status_line(r, &ok, &l, &n), "the greeting");
    if (!ok) {
        if (n >= 4 && strncmp(l, "-ERR", 4) == 0)
            return probe_failed(r, "the server refuses service: %.*s", (int)(n > 80 ? 80 : n), l);
        return probe_failed(r, "garbage instead of a greeting");
    }
    PROBE_TRY(multi_cmd(r, "CAPA", &ok, &caps), "the answer to CAPA");

    if (r->mi->tls == MC_TLS_STARTTLS) {
        if (!caps.stls)
            return probe_not_offered(r, "STLS not advertised");
        if (r->inject)
            return inject_check(r);
        PROBE_TRY(simple_cmd(r, "STLS", &ok, &l, &n), "the answer to STLS");
        if (!ok)
            return probe_not_offered(r, "STLS refused");
        out = probe_upgrade(r);
        if (out != MC_OUTCOME_DONE)
            return out;
        memset(&caps, 0, sizeof(caps));
        PROBE_TRY(multi_cmd(r, "CAPA", &ok, &caps), "the answer to CAPA after STLS");
    }

    if (probe_may_login(r)) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "USER %s", r->o->user);
        PROBE_TRY(simple_cmd(r, cmd, &ok, &l, &n), "the answer to USER");
        if (ok) {
            snprintf(cmd, sizeof(cmd), "PASS %s", r->o->password);
            PROBE_TRY(simple_cmd(r, cmd, &ok, &l, &n), "the answer to PASS");
        }
        if (!ok)
            return probe_failed(r, "login rejected");
        transaction = true;
    } else if (r->o->user) {
        probe_rec_comment(r->rec, "probe: no login: the channel is not encrypted");
    }

    if (transaction) {
        unsigned long count = 0;
        if (caps.pipelining) {
            /* RFC 2449 s6.6: STAT, LIST and UIDL in one write, the answers
             * in order */
            PROBE_TRY(probe_send(r->c, "STAT\r\nLIST\r\nUIDL\r\n", 18), "the answer to STAT (pipelined)");
            PROBE_TRY(status_line(r, &ok, &l, &n), "the answer to STAT (pipelined)");
            if (ok && n > 4)
                count = strtoul(l + 4, NULL, 10);
            PROBE_TRY(status_line(r, &ok, &l, &n), "the answer to LIST (pipelined)");
            if (ok)
                PROBE_TRY(multi_body(r, NULL), "the answer to LIST (pipelined)");
            PROBE_TRY(status_line(r, &ok, &l, &n), "the answer to UIDL (pipelined)");
            if (ok)
                PROBE_TRY(multi_body(r, NULL), "the answer to UIDL (pipelined)");
        } else {
            PROBE_TRY(simple_cmd(r, "STAT", &ok, &l, &n), "the answer to STAT");
            if (ok && n > 4)
                count = strtoul(l + 4, NULL, 10);
            PROBE_TRY(multi_cmd(r, "LIST", &ok, NULL), "the answer to LIST");
            PROBE_TRY(multi_cmd(r, "UIDL", &ok, NULL), "the answer to UIDL");
        }
        if (count > 0)
            PROBE_TRY(multi_cmd(r, "TOP 1 0", &ok, NULL), "the answer to TOP");
    }

    if (r->o->active_checks) {
        out = active_checks(r, transaction, &alive);
        if (out != MC_OUTCOME_DONE)
            return out;
    }
    if (alive) {
        enum probe_status st = simple_cmd(r, "QUIT", &ok, &l, &n);
        /* after the over-long line a server may close (Dovecot answers
         * "-ERR Input buffer full, aborting"): judged, not a failure */
        if (st != PROBE_OK && !r->o->active_checks)
            return probe_status_outcome(r, st, "the answer to QUIT");
        if (st != PROBE_OK)
            probe_rec_comment(r->rec, "probe: no answer to QUIT after the active checks");
    }
    probe_finish(r->c);
    return MC_OUTCOME_DONE;
}
