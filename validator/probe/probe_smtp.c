/*
 * The SMTP conversation of the probe (RFC 5321, RFC 3207 STARTTLS, RFC 4954
 * AUTH, RFC 6409 submission): greeting, EHLO (HELO if refused), STARTTLS
 * and EHLO again (-TLS modes), AUTH PLAIN in the submission modes when asked
 * and allowed, MAIL FROM:<>, RCPT TO, RSET (in one write when PIPELINING
 * is advertised, RFC 2920), DATA only with
 * --send-test-message, the active checks, QUIT. SMTP-Plain, SMTP-SSL and
 * SMTP-TLS behave as a relaying MTA and never authenticate.
 */
#define _POSIX_C_SOURCE 200809L
#include "probe_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* RFC 5321 s4.5.3.1.4: a command line is at most 512 octets. The line is a
 * HELP with a long argument: its error replies are not judged, while a
 * 500 "Line too long" (s4.5.3.1.9) to a NOOP would be taken for a NOOP
 * answered wrongly. */
#define SMTP_LONG_LINE 1100

struct smtp_ext {
    bool starttls, auth_plain, pipelining;
};

/* One reply (all its lines); *code 0 when its first line has no code. */
static enum probe_status reply(struct probe_run *r, unsigned *code, struct smtp_ext *ext)
{
    bool first = true;
    *code = 0;
    for (;;) {
        const char *l;
        size_t n;
        enum probe_status st = probe_line(r->c, &l, &n);
        if (st != PROBE_OK)
            return st;
        if (n < 3 || l[0] < '0' || l[0] > '9' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
            l[2] > '9')
            return PROBE_OK; /* not a reply line: the session judges it */
        if (first)
            *code = (unsigned)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'));
        first = false;
        if (ext && n > 4) {
            const char *kw = l + 4;
            size_t kn = n - 4, w = 0;
            while (w < kn && kw[w] != ' ')
                w++;
            if (w == 8 && strncasecmp(kw, "STARTTLS", 8) == 0)
                ext->starttls = true;
            if (w == 10 && strncasecmp(kw, "PIPELINING", 10) == 0)
                ext->pipelining = true;
            if (w == 4 && strncasecmp(kw, "AUTH", 4) == 0 &&
                probe_has_word(kw + w, kn - w, "PLAIN"))
                ext->auth_plain = true;
        }
        if (n == 3 || l[3] != '-')
            return PROBE_OK;
    }
}

static enum probe_status cmd(struct probe_run *r, const char *line, unsigned *code,
                             struct smtp_ext *ext)
{
    enum probe_status st = probe_sendf(r->c, "%s\r\n", line);
    if (st != PROBE_OK)
        return st;
    return reply(r, code, ext);
}

static enum probe_status hello(struct probe_run *r, struct smtp_ext *ext, unsigned *code)
{
    char line[128];
    enum probe_status st;
    memset(ext, 0, sizeof(*ext));
    snprintf(line, sizeof(line), "EHLO %s", r->c->ehlo_literal);
    st = cmd(r, line, code, ext);
    if (st != PROBE_OK || *code == 250)
        return st;
    snprintf(line, sizeof(line), "HELO %s", r->c->ehlo_literal);
    return cmd(r, line, code, NULL);
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0, k = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[k++] = tab[v >> 18 & 63];
        out[k++] = tab[v >> 12 & 63];
        out[k++] = tab[v >> 6 & 63];
        out[k++] = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[k++] = tab[v >> 18 & 63];
        out[k++] = tab[v >> 12 & 63];
        out[k++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[k++] = '=';
    }
    out[k] = '\0';
}

/* postmaster at the host: a name, or an address literal (RFC 5321 s4.1.3). */
static void postmaster(const char *host, char *out, size_t n)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, host, a) == 1)
        snprintf(out, n, "postmaster@[%s]", host);
    else if (inet_pton(AF_INET6, host, a) == 1)
        snprintf(out, n, "postmaster@[IPv6:%s]", host);
    else
        snprintf(out, n, "postmaster@%s", host);
}

/* QUIT and the close; a QUIT that is not answered is left to the session
 * to judge (the server may have closed after the over-long line). */
static void quit(struct probe_run *r)
{
    unsigned code;
    if (cmd(r, "QUIT", &code, NULL) != PROBE_OK)
        probe_rec_comment(r->rec, "probe: no answer to QUIT");
    probe_finish(r->c);
}

/* STARTTLS and a harmless NOOP in one write (RFC 3207 s4.2: the server
 * discards it; CVE-2011-0411). */
static enum mc_probe_outcome inject_check(struct probe_run *r)
{
    unsigned code;
    enum mc_probe_outcome out;
    bool tls_up;
    PROBE_TRY(probe_send(r->c, "STARTTLS\r\nNOOP\r\n", 16), "the answer to STARTTLS");
    PROBE_TRY(reply(r, &code, NULL), "the answer to STARTTLS");
    if (code != 220)
        return probe_not_offered(r, "STARTTLS refused");
    out = probe_inject_handshake(r, &tls_up);
    if (out != MC_OUTCOME_DONE || !tls_up)
        return out;
    quit(r);
    return MC_OUTCOME_DONE;
}

static enum mc_probe_outcome send_message(struct probe_run *r)
{
    const struct mc_probe_opts *o = r->o;
    char line[700], date[64], msg[1600];
    unsigned code;
    time_t now = time(NULL);
    struct tm tm;
    int n;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    snprintf(line, sizeof(line), "MAIL FROM:<%s>", o->mail_from);
    PROBE_TRY(cmd(r, line, &code, NULL), "the answer to MAIL");
    if (code != 250)
        return probe_failed(r, "test message: MAIL refused (%u)", code);
    snprintf(line, sizeof(line), "RCPT TO:<%s>", o->rcpt_to);
    PROBE_TRY(cmd(r, line, &code, NULL), "the answer to RCPT");
    if (code != 250 && code != 251)
        return probe_failed(r, "test message: RCPT refused (%u)", code);
    PROBE_TRY(cmd(r, "DATA", &code, NULL), "the answer to DATA");
    if (code != 354)
        return probe_failed(r, "test message: DATA refused (%u)", code);
    n = snprintf(msg, sizeof(msg),
                 "From: <%s>\r\nTo: <%s>\r\nSubject: mailconform probe test message\r\n"
                 "Date: %s\r\nMessage-ID: <probe.%lld.%ld@mailconform.invalid>\r\n\r\n"
                 "A test message sent by mailconform probe (%s).\r\n.\r\n",
                 o->mail_from, o->rcpt_to, date, (long long)now, (long)getpid(), r->mi->name);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return probe_failed(r, "test message too long");
    PROBE_TRY(probe_send(r->c, msg, (size_t)n), "the answer to the message");
    PROBE_TRY(reply(r, &code, NULL), "the answer to the message");
    if (code != 250)
        return probe_failed(r, "test message refused (%u)", code);
    return MC_OUTCOME_DONE;
}

static enum mc_probe_outcome active_checks(struct probe_run *r, bool *alive)
{
    unsigned code;
    enum probe_status st;
    *alive = false;
    PROBE_TRY(cmd(r, "NOSUCHCOMMAND", &code, NULL), "the answer to an unknown command");
    if (code / 100 != 5)
        probe_rec_comment(r->rec, "probe: no 5xx to an unknown command");
    PROBE_TRY(cmd(r, "NOOP", &code, NULL), "the answer to NOOP after an unknown command");
    st = probe_send_long_line(r->c, "HELP ", SMTP_LONG_LINE);
    if (st == PROBE_OK)
        st = reply(r, &code, NULL);
    *alive = st == PROBE_OK && code != 421;
    return probe_long_line_answer(r, st);
}

enum mc_probe_outcome probe_smtp(struct probe_run *r)
{
    struct smtp_ext ext;
    unsigned code;
    bool alive = true;
    char line[900], rcpt[300];
    enum mc_probe_outcome out = probe_open(r);
    if (out != MC_OUTCOME_DONE)
        return out;

    probe_expect(r->c);
    PROBE_TRY(reply(r, &code, NULL), "the greeting");
    if (code == 0)
        return probe_failed(r, "garbage instead of a greeting");
    if (code != 220)   /* 554 (RFC 5321 s3.1), 421, ... */
        return probe_failed(r, "the server refuses service (%u)", code);
    PROBE_TRY(hello(r, &ext, &code), "the answer to EHLO");
    if (code != 250)
        return probe_failed(r, "EHLO and HELO refused (%u)", code);

    if (r->mi->tls == MC_TLS_STARTTLS) {
        if (!ext.starttls)
            return probe_not_offered(r, "STARTTLS not advertised");
        if (r->inject)
            return inject_check(r);
        PROBE_TRY(cmd(r, "STARTTLS", &code, NULL), "the answer to STARTTLS");
        if (code != 220)
            return probe_not_offered(r, "STARTTLS refused");
        out = probe_upgrade(r);
        if (out != MC_OUTCOME_DONE)
            return out;
        PROBE_TRY(hello(r, &ext, &code), "the answer to EHLO after STARTTLS");
    }

    if (r->mi->submission && probe_may_login(r)) {
        size_t ul = strlen(r->o->user), pl = strlen(r->o->password);
        uint8_t raw[600];
        char b64[808];
        if (!ext.auth_plain) {
            probe_rec_comment(r->rec, "probe: no login: AUTH PLAIN not advertised");
        } else if (ul + pl + 2 > sizeof(raw)) {
            return probe_failed(r, "user name and password too long");
        } else {
            raw[0] = 0;
            memcpy(raw + 1, r->o->user, ul);
            raw[1 + ul] = 0;
            memcpy(raw + 2 + ul, r->o->password, pl);
            base64(raw, ul + pl + 2, b64);
            snprintf(line, sizeof(line), "AUTH PLAIN %s", b64);
            PROBE_TRY(cmd(r, line, &code, NULL), "the answer to AUTH");
            if (code != 235)
                return probe_failed(r, "login rejected");
        }
    } else if (r->mi->submission && r->o->user) {
        probe_rec_comment(r->rec, "probe: no login: the channel is not encrypted");
    }

    if (r->o->rcpt_to)
        snprintf(rcpt, sizeof(rcpt), "%s", r->o->rcpt_to);
    else
        postmaster(r->name, rcpt, sizeof(rcpt));
    if (ext.pipelining) {
        /* RFC 2920 s3.1: MAIL, RCPT and RSET may share one write; the
         * replies come back in order, one per command */
        int n = snprintf(line, sizeof(line), "MAIL FROM:<>\r\nRCPT TO:<%s>\r\nRSET\r\n", rcpt);
        PROBE_TRY(probe_send(r->c, line, (size_t)n), "the answer to MAIL (pipelined)");
        PROBE_TRY(reply(r, &code, NULL), "the answer to MAIL (pipelined)");
        PROBE_TRY(reply(r, &code, NULL), "the answer to RCPT (pipelined)");
        PROBE_TRY(reply(r, &code, NULL), "the answer to RSET (pipelined)");
    } else {
        PROBE_TRY(cmd(r, "MAIL FROM:<>", &code, NULL), "the answer to MAIL");
        if (code == 250) {
            snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt);
            PROBE_TRY(cmd(r, line, &code, NULL), "the answer to RCPT");
        }
        PROBE_TRY(cmd(r, "RSET", &code, NULL), "the answer to RSET");
    }
    if (r->o->send_test_message) {
        out = send_message(r);
        if (out != MC_OUTCOME_DONE)
            return out;
    }

    if (r->o->active_checks) {
        out = active_checks(r, &alive);
        if (out != MC_OUTCOME_DONE)
            return out;
    }
    if (alive)
        quit(r);
    else
        probe_finish(r->c);
    return MC_OUTCOME_DONE;
}
