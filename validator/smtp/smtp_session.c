/*
 * SMTP session validation: RFC 5321 (greeting, EHLO, transactions, replies
 * in order), RFC 2920 (PIPELINING), RFC 3207 (STARTTLS), RFC 4954 (AUTH),
 * RFC 3030 (CHUNKING/BDAT), RFC 1870/6152/6531/3461 (MAIL and RCPT
 * parameters), RFC 2034 (enhanced status codes), RFC 6409 (submission).
 *
 * Two views of one conversation are kept apart. What the client could know
 * when it sent a command (what it sent, and the replies that had arrived)
 * judges the client; what the server had accepted when it replied judges
 * the server. Commands queue up as they arrive; each complete reply answers
 * the oldest one (RFC 2920 s3.2: replies come in order). DATA waits for its
 * 354 and then for the reply after the content; AUTH waits through its 334
 * challenges.
 *
 * Message content is the parser's to scan; the session only learns of its
 * anomalies and of its end. A content end-of-data look-alike ("
.
") is
 * the client's fault; a reply that comes while the content goes on, or
 * more replies than the client sent commands after such a message, show a
 * server that ended the message there (SMTP smuggling).
 *
 * STARTTLS: what the client sends after STARTTLS and before the handshake,
 * and what the server sends after its 220, is injection; a TLS marker in
 * the recording starts the session over (RFC 3207 s4.2). Capture loss: a
 * gap empties the queue of the side that lost octets' replies, and checks
 * that depend on what a gap may have held (the client's transaction state,
 * an EHLO reply) are skipped until that is known again.
 */
#include "session/session.h"
#include "session/tls_switch.h"
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum sstate {
    ST_GREETING,   /* no greeting yet */
    ST_READY,      /* greeted (or TLS just started): EHLO/HELO expected */
    ST_SESSION,    /* EHLO/HELO accepted */
    ST_REFUSED,    /* 554 greeting: only QUIT makes sense */
    ST_DONE        /* 221 to QUIT */
};

/* what the server advertised in its last positive EHLO reply */
struct caps {
    bool pipelining, starttls, eightbit, binarymime, smtputf8, chunking, dsn, enhanced, auth;
    bool size;
    uint64_t size_max;                    /* 0: no fixed maximum */
    char mech[MC_SMTP_MECHS_MAX][21];
    unsigned n_mech;
};

struct pending {
    enum mc_smtp_verb verb;
    bool syntax_ok;
    bool injected;          /* sent in plaintext behind STARTTLS */
    bool cancelled;         /* AUTH: the client sent "*" */
    bool password;          /* AUTH PLAIN / LOGIN */
    bool last;              /* BDAT ... LAST */
    bool got_354;           /* DATA: the intermediate reply arrived */
    bool content_done;      /* DATA / BDAT: all content sent */
    bool lookalike;         /* DATA: the content held an end-of-data look-alike */
    bool ends_group;        /* RFC 2920 s3.1: nothing may be pipelined behind it */
    bool bad_chars;         /* EHLO/HELO/MAIL/RCPT with invalid characters in its
                               domain or path (RFC 5321 s4.1.2: 501) */
    bool binarymime;        /* MAIL with BODY=BINARYMIME */
    bool lost_before;       /* sent after client commands were lost (c_lost): what
                               the server had accepted is unknown, so is its order */
    uint64_t off;
    char excerpt[MC_EXCERPT_MAX];
};

struct smtp {
    struct mc_session_ctx *c;
    struct mc_smtp_cmd cmd;
    struct mc_smtp_reply reply;
    enum sstate state;
    struct mc_tls tls;        /* 220 to STARTTLS: MC_TLS_STARTING (session/tls_switch.h) */
    bool tls_active;
    bool closed[2];
    bool submission;

    /* outstanding commands: a ring of q_cap entries from q_head, grown as
     * commands are pipelined up to MC_SMTP_PENDING_MAX (128 entries are
     * 15 KiB, most of a session; most clients have a few outstanding) */
    struct pending *q;
    unsigned q_head, q_len, q_cap;
    struct pending injected[8];
    unsigned n_injected;

    struct caps caps, next_caps;          /* next_caps: the EHLO reply being read */

    /* client view */
    bool c_ehlo;             /* EHLO/HELO sent since the greeting or TLS */
    bool c_tx;               /* a transaction is open (MAIL sent) */
    bool c_tx_data, c_tx_bdat;   /* the open transaction sent DATA / BDAT */
    bool c_tx_bdat_last;         /* BDAT LAST sent: nothing may follow until MAIL */
    bool c_tx_utf8;          /* MAIL carried SMTPUTF8 */
    uint8_t c_tx_body;       /* 0 none/7BIT, 1 8BITMIME, 2 BINARYMIME */
    bool c_in_bdat;          /* the content being read is a BDAT chunk's */
    unsigned c_rcpt_pending, c_rcpt_ok;
    bool c_rcpt_sent;        /* an RCPT was sent in this transaction */
    bool quit_sent;
    bool awaiting_starttls;
    bool starttls_refused;   /* the last STARTTLS got no 220: the client asked for TLS in vain */
    unsigned resp_injected;  /* plaintext replies after the 220 to STARTTLS that answered
                                nothing: a client inside TLS that goes on as if one
                                answered its command took it as the answer */
    bool after_tls_first;    /* TLS started: the next command should be EHLO */
    bool authed;             /* an AUTH got 235 */

    /* server view */
    bool s_tx;
    unsigned s_rcpts;
    bool s_tx_data, s_tx_bdat;   /* the open transaction had DATA / BDAT accepted */
    bool s_tx_bdat_last;         /* BDAT LAST accepted: no BDAT until the next MAIL */
    bool s_tx_binary;            /* MAIL with BODY=BINARYMIME accepted */
    bool s_closing;          /* 421 sent */
    bool s_authed;
    bool smuggle_window;     /* a message with a look-alike was answered: replies to
                                smuggled commands may follow, for the rest of the session */
    bool smuggle_said;       /* SMTP.SMUGGLING.ACCEPTED reported for this window */

    /* reply being read */
    bool r_multiline;        /* the reply being read has more than one line */

    bool c_resync, s_resync;
    /* Capture loss. c_lost: client commands were lost, so the client's
     * transaction state is unknown until EHLO/HELO, RSET, MAIL or the end
     * of a message; caps_lost: an EHLO reply was lost, so what the server
     * offers is unknown until the next one. Checks that depend on what is
     * unknown are skipped meanwhile (nothing is blamed on a gap). */
    bool c_lost, caps_lost;
    bool said_before_greeting, said_after_quit, said_pipelining, said_not_last,
        said_esc_missing, said_cleartext, said_content_early, said_no_ehlo, said_plain_offered,
        said_refused_credentials, said_injected_used;
};

/* ---- helpers ------------------------------------------------------------- */

static void emit_line(struct smtp *s, enum mc_rule r, uint64_t off, const struct mc_span *line,
                      const struct mc_span *secret, const char *msg)
{
    mc__emit_line(s->c, r, off, line, secret, msg);
}

static void map_anoms(struct smtp *s, const struct mc_anoms *a, enum mc_side side,
                      const struct mc_span *line, const struct mc_span *secret)
{
    mc__emit_anoms(s->c, MC_PROTO_SMTP, side, a, line, secret);
}

static struct pending *head(struct smtp *s)
{
    return s->q_len ? &s->q[s->q_head] : NULL;
}

static struct pending *tail(struct smtp *s)
{
    return s->q_len ? &s->q[(s->q_head + s->q_len - 1) % s->q_cap] : NULL;
}

static struct pending pop_pending(struct smtp *s)
{
    struct pending pd = s->q[s->q_head];
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_len--;
    return pd;
}

/* Room for one more outstanding command (q_len == q_cap < the maximum):
 * the ring is copied, oldest first, into one twice its size. false: out
 * of memory. */
static bool grow_pending(struct smtp *s)
{
    unsigned cap = s->q_cap ? s->q_cap * 2 : 4;
    struct pending *q;
    if (cap > MC_SMTP_PENDING_MAX)
        cap = MC_SMTP_PENDING_MAX;
    q = malloc(cap * sizeof(*q));
    if (!q)
        return false;
    for (unsigned i = 0; i < s->q_len; i++)
        q[i] = s->q[(s->q_head + i) % s->q_cap];
    free(s->q);
    s->q = q;
    s->q_cap = cap;
    s->q_head = 0;
    return true;
}

static bool span_is(const struct mc_span *sp, const char *lit)
{
    size_t n = strlen(lit);
    return sp->len == n && strncasecmp((const char *)sp->ptr, lit, n) == 0;
}

static void smtp_init(void *p, struct mc_session_ctx *c)
{
    struct smtp *s = p;
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->tls.ctx = c;   /* a decrypting caller takes over TLS records (tls_switch.h) */
    mc_smtp_cmd_init(&s->cmd);
    mc_smtp_reply_init(&s->reply);
    s->state = ST_GREETING;
}

static void forget_caps(struct smtp *s)
{
    memset(&s->caps, 0, sizeof(s->caps));
}

/* ---- client side ----------------------------------------------------------- */

/* SASL mechanisms that carry the password itself */
static bool password_mech(const struct mc_span *m)
{
    return span_is(m, "PLAIN") || span_is(m, "LOGIN");
}

/* SASL mechanisms that carry no secret an eavesdropper could use: the
 * client's TLS certificate, none at all, a Kerberos ticket. Every other
 * one (CRAM-MD5, DIGEST-MD5, SCRAM-*, OAUTHBEARER, ...) carries a password,
 * a token or something derived from a password (open to offline guessing). */
static bool secretless_mech(const struct mc_span *m)
{
    return span_is(m, "EXTERNAL") || span_is(m, "ANONYMOUS") || span_is(m, "GSSAPI") ||
           span_is(m, "GS2-KRB5");
}

/* AUTH outside TLS: a password in the clear (PLAIN, LOGIN) where STARTTLS
 * was on offer or accepted, or any credentials after STARTTLS was refused
 * (RFC 8314 s5.2). Judged for commands injected behind STARTTLS too: the
 * password went over the wire all the same. */
static void check_credentials(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    const struct mc_span *L = &ev->line, *sec = &ev->secret;
    if (ev->verb != MC_SMTP_AUTH || s->tls_active || ev->mech.len == 0 || secretless_mech(&ev->mech))
        return;
    if (s->starttls_refused) {
        if (!s->said_refused_credentials) {
            s->said_refused_credentials = true;
            emit_line(s, MC_R_SMTP_STARTTLS_REFUSED_CREDENTIALS, L->off, L, sec,
                      "credentials in the clear after the server refused STARTTLS");
        }
    } else if (password_mech(&ev->mech) && !s->said_cleartext &&
               ((s->caps.starttls && !s->caps_lost) || s->tls.state == MC_TLS_STARTING)) {
        s->said_cleartext = true;
        emit_line(s, MC_R_SMTP_CLEARTEXT_PASSWORD, L->off, L, sec,
                  s->tls.state == MC_TLS_STARTING
                      ? "password in the clear after the 220 to STARTTLS, where the TLS handshake must start"
                      : NULL);
    }
}

static bool mech_offered(const struct smtp *s, const struct mc_span *m)
{
    for (unsigned i = 0; i < s->caps.n_mech; i++)
        if (span_is(m, s->caps.mech[i]))
            return true;
    return false;
}

/* RFC 2920 s3.1, RFC 3207 s4, RFC 4954 s4: commands that end a group */
static bool ends_group(const struct mc_smtp_cmd_ev *ev)
{
    switch (ev->verb) {
    case MC_SMTP_EHLO:
    case MC_SMTP_HELO:
    case MC_SMTP_DATA:
    case MC_SMTP_VRFY:
    case MC_SMTP_EXPN:
    case MC_SMTP_TURN:
    case MC_SMTP_QUIT:
    case MC_SMTP_NOOP:
    case MC_SMTP_STARTTLS:
    case MC_SMTP_UNKNOWN:
        return true;
    case MC_SMTP_AUTH:
        /* except a one-round-trip mechanism with its initial response */
        return !(ev->initial_response &&
                 (span_is(&ev->mech, "PLAIN") || span_is(&ev->mech, "EXTERNAL")));
    default:
        return false;
    }
}

/* The extension a MAIL/RCPT parameter belongs to, checked against what was
 * advertised (RFC 1869 s6); also records what the transaction declared. */
static void check_params(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    unsigned n = ev->nparams < MC_SMTP_PARAMS_MAX ? ev->nparams : MC_SMTP_PARAMS_MAX;
    for (unsigned i = 0; i < n; i++) {
        const struct mc_smtp_param *pm = &ev->param[i];
        const char *ext = NULL;
        bool have = true;
        if (span_is(&pm->kw, "SIZE")) {
            ext = "SIZE";
            have = s->caps.size;
            if (have && s->caps.size_max && pm->has_val && !s->caps_lost) {
                uint64_t v;
                if (mc_parse_u64(pm->val.ptr, pm->val.len, UINT64_MAX, &v) &&
                    v > s->caps.size_max) {
                    char msg[MC_MESSAGE_MAX];
                    snprintf(msg, sizeof(msg), "SIZE=%llu exceeds the advertised maximum %llu",
                             (unsigned long long)v, (unsigned long long)s->caps.size_max);
                    emit_line(s, MC_R_SMTP_SIZE_EXCEEDS_LIMIT, pm->val.off, &ev->line, NULL, msg);
                }
            }
        } else if (span_is(&pm->kw, "BODY")) {
            if (span_is(&pm->val, "BINARYMIME")) {
                ext = "BINARYMIME";
                /* RFC 3030 s3: only together with CHUNKING */
                have = s->caps.binarymime && s->caps.chunking;
                s->c_tx_body = 2;
            } else {
                ext = "8BITMIME";
                have = s->caps.eightbit;
                s->c_tx_body = span_is(&pm->val, "8BITMIME") ? 1 : 0;
            }
        } else if (span_is(&pm->kw, "SMTPUTF8")) {
            ext = "SMTPUTF8";
            have = s->caps.smtputf8;
            s->c_tx_utf8 = true;
        } else if (span_is(&pm->kw, "RET") || span_is(&pm->kw, "ENVID") ||
                   span_is(&pm->kw, "NOTIFY") || span_is(&pm->kw, "ORCPT")) {
            ext = "DSN";
            have = s->caps.dsn;
        } else if (span_is(&pm->kw, "AUTH")) {
            ext = "AUTH";
            have = s->caps.auth;
        }
        if (ext && !have && !s->caps_lost) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "parameter %.*s needs the %s extension, which the "
                     "server did not advertise", (int)pm->kw.len, (const char *)pm->kw.ptr, ext);
            emit_line(s, MC_R_SMTP_PARAM_UNADVERTISED, pm->kw.off, &ev->line, NULL, msg);
        }
    }
}

static void check_utf8_path(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    if (!ev->path_ok || !ev->path.eight_bit || s->caps_lost)
        return;
    if (!s->caps.smtputf8)
        emit_line(s, MC_R_SMTP_UTF8_UNADVERTISED, ev->path_span.off, &ev->line, NULL, NULL);
    else if (!s->c_tx_utf8 && !s->c_lost)
        emit_line(s, MC_R_SMTP_UTF8_UNDECLARED, ev->path_span.off, &ev->line, NULL, NULL);
}

/* The client ends (or aborts) its transaction: RSET, EHLO, TLS. */
static void c_tx_reset(struct smtp *s)
{
    s->c_tx = s->c_tx_data = s->c_tx_bdat = s->c_tx_bdat_last = false;
}

static void s_tx_reset(struct smtp *s)
{
    s->s_tx = s->s_tx_data = s->s_tx_bdat = s->s_tx_bdat_last = s->s_tx_binary = false;
}

static void client_checks(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    const struct mc_span *L = &ev->line, *sec = &ev->secret;
    switch (ev->verb) {
    case MC_SMTP_EHLO:
    case MC_SMTP_HELO:
        s->c_ehlo = true;
        s->c_lost = false;
        c_tx_reset(s);
        break;
    case MC_SMTP_MAIL:
        if (!s->c_ehlo && !s->after_tls_first)
            emit_line(s, MC_R_SMTP_MAIL_BEFORE_EHLO, L->off, L, sec, NULL);
        if (s->c_tx && !s->c_lost)
            emit_line(s, MC_R_SMTP_MAIL_IN_TRANSACTION, L->off, L, sec, NULL);
        s->c_lost = false;
        s->c_tx = true;
        s->c_tx_data = s->c_tx_bdat = s->c_tx_bdat_last = s->c_tx_utf8 = false;
        s->c_tx_body = 0;
        s->c_rcpt_pending = s->c_rcpt_ok = 0;
        s->c_rcpt_sent = false;
        check_params(s, ev);
        check_utf8_path(s, ev);
        break;
    case MC_SMTP_RCPT:
        if (!s->c_tx && !s->c_lost)
            emit_line(s, MC_R_SMTP_RCPT_BEFORE_MAIL, L->off, L, sec, NULL);
        check_params(s, ev);
        check_utf8_path(s, ev);
        s->c_rcpt_pending++;
        s->c_rcpt_sent = true;
        break;
    case MC_SMTP_DATA:
        if (!s->c_lost) {
            if (!s->c_tx)
                emit_line(s, MC_R_SMTP_RCPT_BEFORE_MAIL, L->off, L, sec, "DATA without MAIL");
            else if (!s->c_rcpt_sent)   /* DATA after rejected RCPTs is allowed (s3.3) */
                emit_line(s, MC_R_SMTP_DATA_WITHOUT_RCPT, L->off, L, sec, NULL);
            if (s->c_tx && s->c_tx_bdat)
                emit_line(s, MC_R_SMTP_BDAT_DATA_MIXED, L->off, L, sec,
                          "DATA after BDAT in one transaction");
            if (s->c_tx_body == 2)
                emit_line(s, MC_R_SMTP_BINARYMIME_WITH_DATA, L->off, L, sec, NULL);
        }
        s->c_tx_data = true;
        break;
    case MC_SMTP_BDAT:
        if (!s->caps.chunking && !s->caps_lost)
            emit_line(s, MC_R_SMTP_BDAT_UNADVERTISED, L->off, L, sec, NULL);
        /* RFC 3030 s2: after BDAT LAST the message is complete; that BDAT
         * rule is the one to name, not "no transaction" */
        if (s->c_lost)
            ;   /* the transaction state is unknown */
        else if (s->c_tx_bdat_last)
            emit_line(s, MC_R_SMTP_BDAT_DATA_MIXED, L->off, L, sec, "BDAT after BDAT LAST");
        else if (!s->c_tx)
            emit_line(s, MC_R_SMTP_RCPT_BEFORE_MAIL, L->off, L, sec, "BDAT without MAIL");
        else if (s->c_tx_data)
            emit_line(s, MC_R_SMTP_BDAT_DATA_MIXED, L->off, L, sec, "BDAT after DATA in one transaction");
        s->c_tx_bdat = true;
        if (ev->last)
            s->c_tx_bdat_last = true;
        break;
    case MC_SMTP_RSET:
        c_tx_reset(s);
        s->c_lost = false;
        break;
    case MC_SMTP_STARTTLS:
        if (s->tls_active)
            emit_line(s, MC_R_SMTP_STARTTLS_IN_TLS, L->off, L, sec, NULL);
        s->awaiting_starttls = true;
        break;
    case MC_SMTP_AUTH:
        if (s->authed)
            emit_line(s, MC_R_SMTP_AUTH_REPEAT, L->off, L, sec, NULL);
        if (s->c_tx && !s->c_lost)
            emit_line(s, MC_R_SMTP_AUTH_IN_TRANSACTION, L->off, L, sec, NULL);
        if (ev->mech.len && !s->caps_lost && (!s->caps.auth || !mech_offered(s, &ev->mech)))
            emit_line(s, MC_R_SMTP_AUTH_UNADVERTISED, ev->mech.off, L, sec,
                      s->caps.auth ? "mechanism not in the server's AUTH list"
                                   : "AUTH without the AUTH extension advertised");
        if (ev->initial_response && ev->line_len + 2 > MC_SMTP_CMD_LINE_MAX)
            emit_line(s, MC_R_SMTP_AUTH_IR_TOO_LONG, L->off + MC_SMTP_CMD_LINE_MAX - 2, L, sec, NULL);
        /* without an initial response the client's next lines are SASL
         * responses; with one, they may be pipelined commands (PLAIN) and
         * the exchange goes on only if a 334 comes */
        if (!ev->initial_response && ev->syntax_ok)
            mc_smtp_cmd_expect_sasl(&s->cmd, true);
        break;
    case MC_SMTP_QUIT:
        s->quit_sent = true;
        break;
    case MC_SMTP_TURN:
        if (s->authed)
            break;   /* Appendix F.1: TURN only with an authenticated client */
        /* fall through */
    case MC_SMTP_SEND:
    case MC_SMTP_SOML:
    case MC_SMTP_SAML:
        emit_line(s, MC_R_SMTP_CMD_OBSOLETE, L->off, L, sec, NULL);
        break;
    default:
        break;
    }
}

static void on_command(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    struct pending pd;
    const struct mc_span *L = &ev->line, *sec = &ev->secret;
    struct pending *t = tail(s);

    if (ev->verb == MC_SMTP_MAIL && mc_anoms_has(&ev->anoms, MC_ANOM_LINE_TOO_LONG)) {
        /* RFC 5321 s4.5.3.1.4: extensions raise the limit of MAIL; by
         * what their RFCs say (RFC 1870 s3, RFC 3030 s3, RFC 6531 s3.1,
         * RFC 4954 s3) */
        struct mc_anoms a = ev->anoms;
        size_t limit = MC_SMTP_CMD_LINE_MAX + (s->caps.size ? 26 : 0) +
                       (s->caps.binarymime ? 16 : 0) + (s->caps.smtputf8 ? 10 : 0) +
                       (s->caps.auth ? 500 : 0);
        mc_line_relimit_span(&a, L->off, ev->line_len, MC_SMTP_CMD_LINE_MAX, limit);
        map_anoms(s, &a, MC_SIDE_CLIENT, L, sec);
    } else {
        map_anoms(s, &ev->anoms, MC_SIDE_CLIENT, L, sec);
    }
    if (s->state == ST_GREETING && !s->said_before_greeting && !s->s_resync) {
        s->said_before_greeting = true;
        emit_line(s, MC_R_SMTP_CMD_BEFORE_GREETING, L->off, L, sec, NULL);
    }
    if (s->quit_sent && !s->said_after_quit) {
        s->said_after_quit = true;
        emit_line(s, MC_R_SMTP_CMD_AFTER_QUIT, L->off, L, sec, NULL);
    }
    if (ev->verb == MC_SMTP_UNKNOWN && ev->keyword.len > 0 &&
        !mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_VERB_SYNTAX))
        emit_line(s, MC_R_SMTP_CMD_UNKNOWN, L->off, L, sec, NULL);

    memset(&pd, 0, sizeof(pd));
    pd.verb = ev->verb;
    /* a line over the limit may be refused as a whole ("500 Line too
     * long", RFC 5321 s4.5.3.1.9, s4.2.2): the command's own reply rules
     * (NOOP 250, RSET 250, QUIT 221) do not apply to it */
    pd.syntax_ok = ev->syntax_ok && !mc_anoms_has(&ev->anoms, MC_ANOM_LINE_TOO_LONG);
    pd.last = ev->last;
    pd.password = ev->verb == MC_SMTP_AUTH && password_mech(&ev->mech);
    pd.ends_group = ends_group(ev);
    pd.bad_chars = (ev->verb == MC_SMTP_EHLO || ev->verb == MC_SMTP_HELO ||
                    ev->verb == MC_SMTP_MAIL || ev->verb == MC_SMTP_RCPT) &&
                   (mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_DOMAIN_SYNTAX) ||
                    mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_PATH_SYNTAX));
    for (unsigned i = 0; ev->verb == MC_SMTP_MAIL && i < ev->nparams && i < MC_SMTP_PARAMS_MAX; i++)
        if (span_is(&ev->param[i].kw, "BODY") && span_is(&ev->param[i].val, "BINARYMIME"))
            pd.binarymime = true;
    pd.lost_before = s->c_lost;
    pd.off = L->off;
    mc_excerpt(pd.excerpt, L->ptr, L->len, L->off, sec->off, sec->len);

    if ((s->awaiting_starttls && s->tls.state != MC_TLS_MAYBE) || s->tls.state == MC_TLS_STARTING) {
        /* RFC 3207 s4: STARTTLS ends the group; after its 220 the TLS
         * handshake comes first. A server that reads what follows in
         * plaintext is open to CVE-2011-0411 style injection. */
        pd.injected = true;
        emit_line(s, MC_R_SMTP_STARTTLS_CMD_INJECTION, L->off, L, sec,
                  s->awaiting_starttls
                      ? "command sent behind STARTTLS before its reply and the TLS handshake"
                      : "plaintext command after the 220 to STARTTLS where the TLS handshake must start");
    } else if (s->resp_injected > 0 && s->tls.state == MC_TLS_PLAIN && s->q_len > 0) {
        /* RFC 3207 s4.2: what came before TLS is void; a client that goes
         * on before the reply inside TLS took the injected reply for it */
        if (!s->said_injected_used) {
            s->said_injected_used = true;
            emit_line(s, MC_R_SMTP_STARTTLS_INJECTED_RESPONSE_USED, L->off, L, sec,
                      "command sent inside TLS before the reply to the previous one: the client "
                      "took a reply injected after the 220 to STARTTLS as that reply");
        }
    } else if (s->q_len > 0 && s->state != ST_GREETING && !s->caps.pipelining && !s->caps_lost) {
        if (!s->said_pipelining) {
            s->said_pipelining = true;
            emit_line(s, MC_R_SMTP_PIPELINING_UNADVERTISED, L->off, L, sec, NULL);
        }
    } else if (t && t->ends_group && !(t->verb == MC_SMTP_DATA && t->got_354) &&
               s->caps.pipelining && !s->said_not_last) {
        char msg[MC_MESSAGE_MAX];
        s->said_not_last = true;
        snprintf(msg, sizeof(msg), "sent before the reply to %s, which ends a pipelined group",
                 mc_smtp_verb_name(t->verb));
        emit_line(s, MC_R_SMTP_PIPELINING_NOT_LAST, L->off, L, sec, msg);
    }

    if (s->after_tls_first) {
        if (ev->verb != MC_SMTP_EHLO && ev->verb != MC_SMTP_QUIT && !s->said_no_ehlo) {
            s->said_no_ehlo = true;
            emit_line(s, MC_R_SMTP_STARTTLS_NO_EHLO, L->off, L, sec, NULL);
        }
    }
    check_credentials(s, ev);
    if (!pd.injected)
        client_checks(s, ev);   /* a MAIL first in TLS is SMTP.STARTTLS.NO_EHLO only */
    s->after_tls_first = false;

    if (ev->verb == MC_SMTP_BDAT || ev->verb == MC_SMTP_DATA)   /* the parser reads a */
        s->c_in_bdat = ev->verb == MC_SMTP_BDAT && ev->syntax_ok; /* chunk by itself */
    if (ev->verb == MC_SMTP_DATA && ev->syntax_ok && !pd.injected) {
        /* content follows the 354; if the reply refuses DATA before any
         * content arrived, the parser goes back to commands */
        mc_smtp_cmd_expect_data(&s->cmd);
    }
    if (s->q_len < MC_SMTP_PENDING_MAX && s->q_len == s->q_cap && !grow_pending(s)) {
        /* replies could no longer be matched with their commands */
        mc__out_of_memory(s->c);
        return;
    }
    if (s->q_len == MC_SMTP_PENDING_MAX) {
        s->c_resync = true;
        (void)pop_pending(s);
    }
    s->q[(s->q_head + s->q_len) % s->q_cap] = pd;
    s->q_len++;
}

static void on_sasl(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    struct pending *h = head(s);
    map_anoms(s, &ev->anoms, MC_SIDE_CLIENT, &ev->line, &ev->secret);
    if (ev->cancel && h && h->verb == MC_SMTP_AUTH)
        h->cancelled = true;
}

/* The DATA (or BDAT) command whose content this is: the newest one. */
static struct pending *content_owner(struct smtp *s, enum mc_smtp_verb v)
{
    for (unsigned i = s->q_len; i > 0; i--) {
        struct pending *pd = &s->q[(s->q_head + i - 1) % s->q_cap];
        if (pd->verb == v && !pd->content_done)
            return pd;
    }
    return NULL;
}

/* RFC 3030 s3: BODY=BINARYMIME content sent with BDAT is binary: line ends,
 * line lengths and NULs mean nothing in it. (Sent with DATA it is judged
 * as text, next to SMTP.BINARYMIME.WITH_DATA.) */
static void map_content_anoms(struct smtp *s, const struct mc_anoms *a)
{
    struct mc_anoms b = *a;
    if (s->c_in_bdat && s->c_tx_body == 2) {
        unsigned k = 0;
        for (unsigned i = 0; i < b.n; i++) {
            enum mc_anom code = (enum mc_anom)b.hit[i].code;
            if (code != MC_ANOM_SMTP_BODY_BARE_LF && code != MC_ANOM_SMTP_BODY_BARE_CR &&
                code != MC_ANOM_SMTP_BODY_NUL && code != MC_ANOM_SMTP_BODY_LINE_TOO_LONG)
                b.hit[k++] = b.hit[i];
        }
        b.n = (uint8_t)k;
    }
    map_anoms(s, &b, MC_SIDE_CLIENT, NULL, NULL);
}

static void on_content(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    struct pending *pd = content_owner(s, MC_SMTP_DATA);
    map_content_anoms(s, &ev->anoms);
    if (pd && mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_BODY_DOT_LOOKALIKE))
        pd->lookalike = true;
}

static void on_content_end(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    struct pending *pd = content_owner(s, ev->content_bdat ? MC_SMTP_BDAT : MC_SMTP_DATA);
    map_content_anoms(s, &ev->anoms);
    s->c_in_bdat = false;
    if (pd)
        pd->content_done = true;
    if (!ev->last)
        return;   /* a BDAT chunk; the message goes on */
    if (ev->content_8bit && !s->caps_lost && !s->c_lost) {
        if (!s->caps.eightbit && s->c_tx_body != 2)
            mc__emit(s->c, MC_R_SMTP_BODY_8BIT_UNADVERTISED, ev->line.off, NULL,
                     "8-bit message content, but the server did not advertise 8BITMIME");
        else if (s->c_tx_body == 0)
            mc__emit(s->c, MC_R_SMTP_BODY_8BIT_UNDECLARED, ev->line.off, NULL,
                     "8-bit message content without BODY=8BITMIME on MAIL");
    }
    s->c_tx = false;   /* RFC 2920 s3.1: the next MAIL may follow at once */
    s->c_lost = false;
}

static void on_client_event(struct smtp *s, const struct mc_smtp_cmd_ev *ev)
{
    switch (ev->type) {
    case MC_SMTP_CMD_LINE: on_command(s, ev); break;
    case MC_SMTP_CMD_SASL: on_sasl(s, ev); break;
    case MC_SMTP_CMD_CONTENT: on_content(s, ev); break;
    case MC_SMTP_CMD_CONTENT_END: on_content_end(s, ev); break;
    }
}

/* ---- server side ------------------------------------------------------------ */

/* RFC 5321 s4.3.2 (and RFC 3207 s4, RFC 4954 s4, RFC 3030 s2): the
 * positive and intermediate codes each command can get. Error codes are
 * not judged: servers use many, and s4.3.2 allows others. */
static bool code_expected(enum mc_smtp_verb v, unsigned code, bool final_of_data)
{
    if (code >= 400 || code < 200)
        return true;
    if (final_of_data)
        return code == 250;
    switch (v) {
    case MC_SMTP_HELO:
    case MC_SMTP_EHLO:
    case MC_SMTP_MAIL:
    case MC_SMTP_RSET:
    case MC_SMTP_NOOP:
    case MC_SMTP_BDAT:
    case MC_SMTP_SEND:
    case MC_SMTP_SOML:
    case MC_SMTP_SAML:
    case MC_SMTP_TURN:
        return code == 250;
    case MC_SMTP_RCPT:
        return code == 250 || code == 251;
    case MC_SMTP_DATA:
        return code == 354;
    case MC_SMTP_VRFY:
        return code == 250 || code == 251 || code == 252;
    case MC_SMTP_EXPN:
        return code == 250 || code == 252;
    case MC_SMTP_HELP:
        return code == 211 || code == 214;
    case MC_SMTP_QUIT:
        return code == 221;
    case MC_SMTP_STARTTLS:
        return code == 220;
    case MC_SMTP_AUTH:
        return code == 235 || code == 334;
    default:
        return true;
    }
}

/* RFC 5321 s4.2: Reply-code = %x32-35 %x30-35 %x30-39. A code outside it
 * is reported by the parser and then treated as unreadable (0): nothing
 * else is judged from it. */
static bool code_valid(unsigned code)
{
    return code / 100 >= 2 && code / 100 <= 5 && code / 10 % 10 <= 5;
}

static void on_greeting(struct smtp *s, unsigned code, const struct mc_span *line)
{
    if (code == 220 || code == 0)   /* 0: unreadable, reported already */
        s->state = ST_READY;
    else if (code == 554)
        s->state = ST_REFUSED;
    else {
        if (code == 421)
            s->s_closing = true;
        else
            emit_line(s, MC_R_SMTP_GREETING_CODE, line->off, line, NULL, NULL);
        s->state = code >= 200 && code < 300 ? ST_READY : ST_REFUSED;
    }
}

static void judge(struct smtp *s, const struct pending *pd, unsigned code,
                  const struct mc_span *line, bool final_of_data)
{
    bool ok = code >= 200 && code < 300;
    /* RSET, NOOP and QUIT have rules of their own for their one reply
     * (421, "service shutting down", may answer any command: s3.8) */
    bool own_rule = pd->syntax_ok && !final_of_data &&
                    (pd->verb == MC_SMTP_RSET || pd->verb == MC_SMTP_NOOP || pd->verb == MC_SMTP_QUIT);
    bool judged = own_rule && code != 0 && code != 421;
    /* after lost client commands, what the server had accepted is unknown */
    bool order = !pd->lost_before;
    char msg[MC_MESSAGE_MAX];

    if (code != 0 && !own_rule && !code_expected(pd->verb, code, final_of_data)) {
        snprintf(msg, sizeof(msg), "%u is not a reply %s can get", code,
                 final_of_data ? "the end of message content" : mc_smtp_verb_name(pd->verb));
        emit_line(s, MC_R_SMTP_REPLY_UNEXPECTED_CODE, line->off, line, NULL, msg);
    }
    if (final_of_data) {
        s->s_tx = false;
        return;
    }
    /* RFC 5321 s4.1.2: invalid characters in a domain get 501 */
    if (ok && pd->bad_chars && !final_of_data)
        emit_line(s, MC_R_SMTP_INVALID_ARG_ACCEPTED, line->off, line, NULL, NULL);
    switch (pd->verb) {
    case MC_SMTP_EHLO:
    case MC_SMTP_HELO:
        if (ok) {
            s->state = ST_SESSION;
            s_tx_reset(s);
            if (pd->verb == MC_SMTP_EHLO) {
                s->caps = s->next_caps;
            } else {
                forget_caps(s);
                /* RFC 5321 s3.2: no EHLO-style list in reply to HELO */
                if (s->r_multiline)
                    emit_line(s, MC_R_SMTP_HELO_EXTENDED_REPLY, line->off, line, NULL, NULL);
            }
            s->caps_lost = false;
        }
        break;
    case MC_SMTP_MAIL:
        if (ok) {
            /* a MAIL inside a transaction may be accepted: it clears the
             * buffers (RFC 5321 s4.1.1.2); only RCPT without MAIL MUST get
             * 503 (s3.3) */
            if (order && s->submission && !s->s_authed)
                emit_line(s, MC_R_SMTP_SUBMISSION_UNAUTH_MAIL, line->off, line, NULL, NULL);
            s_tx_reset(s);
            s->s_tx = true;
            s->s_tx_binary = pd->binarymime;
            s->s_rcpts = 0;
        } else {
            s->c_tx = false;   /* the client now knows there is no transaction */
        }
        break;
    case MC_SMTP_RCPT:
        if (s->c_rcpt_pending)
            s->c_rcpt_pending--;
        if (ok) {
            s->c_rcpt_ok++;
            if (order && !s->s_tx)
                emit_line(s, MC_R_SMTP_OUT_OF_ORDER_ACCEPTED, line->off, line, NULL,
                          "RCPT accepted with no transaction open");
            s->s_rcpts++;
        }
        break;
    case MC_SMTP_DATA:   /* the 354 or a refusal */
        if (code == 354 && order && s->s_tx_binary)   /* RFC 3030 s3: 503 */
            emit_line(s, MC_R_SMTP_BINARYMIME_DATA_ACCEPTED, line->off, line, NULL, NULL);
        if (code == 354 && order) {
            /* without MAIL or recipients the server MAY refuse (s3.3); with
             * PIPELINING it SHOULD (RFC 2920 s3.2 (3)) */
            if (s->s_tx && s->s_rcpts == 0 && s->caps.pipelining)
                emit_line(s, MC_R_SMTP_DATA_NO_RCPT_ACCEPTED, line->off, line, NULL, NULL);
            if (s->s_tx && s->s_tx_bdat)
                emit_line(s, MC_R_SMTP_BDAT_MIX_ACCEPTED, line->off, line, NULL,
                          "DATA accepted after BDAT in the same transaction");
        }
        if (code == 354)
            s->s_tx_data = true;
        break;
    case MC_SMTP_BDAT:
        if (ok && order) {
            if (s->s_tx_bdat_last)
                emit_line(s, MC_R_SMTP_BDAT_MIX_ACCEPTED, line->off, line, NULL,
                          "BDAT accepted after BDAT LAST");
            else if (s->s_tx && s->s_tx_data)
                emit_line(s, MC_R_SMTP_BDAT_MIX_ACCEPTED, line->off, line, NULL,
                          "BDAT accepted after DATA in the same transaction");
        }
        if (ok) {
            s->s_tx_bdat = true;
            if (pd->last) {
                s->s_tx_bdat_last = true;
                s->s_tx = false;
            }
        }
        break;
    case MC_SMTP_RSET:
        if (judged && code != 250 && s->state != ST_REFUSED)
            emit_line(s, MC_R_SMTP_RSET_REPLY, line->off, line, NULL, NULL);
        if (ok)
            s_tx_reset(s);
        break;
    case MC_SMTP_NOOP:
        /* in a session refused with 554, 503 answers everything (s3.1) */
        if (judged && code != 250 && s->state != ST_REFUSED)
            emit_line(s, MC_R_SMTP_NOOP_REPLY, line->off, line, NULL, NULL);
        break;
    case MC_SMTP_QUIT:
        if (judged && code != 221)
            emit_line(s, MC_R_SMTP_QUIT_REPLY, line->off, line, NULL, NULL);
        /* answered (even wrongly): the server may close now (s4.1.1.10) */
        s->state = ST_DONE;
        break;
    case MC_SMTP_STARTTLS:
        s->awaiting_starttls = false;
        s->starttls_refused = code != 220;
        if (code == 220)
            s->tls.state = MC_TLS_STARTING;
        break;
    case MC_SMTP_AUTH:
        mc_smtp_cmd_expect_sasl(&s->cmd, false);
        if (code == 235) {
            if (s->s_authed)
                emit_line(s, MC_R_SMTP_AUTH_REPEAT_ACCEPTED, line->off, line, NULL, NULL);
            if (order && s->s_tx)
                emit_line(s, MC_R_SMTP_AUTH_IN_TRANSACTION_ACCEPTED, line->off, line, NULL, NULL);
            if (pd->cancelled)
                emit_line(s, MC_R_SMTP_AUTH_CANCEL_ACCEPTED, line->off, line, NULL, NULL);
            s->s_authed = s->authed = true;
        }
        break;
    default:
        break;
    }
}

/* A reply to a command injected behind STARTTLS (reported), or plaintext
 * where the handshake must start. */
static void on_injected_reply(struct smtp *s, const struct mc_span *line)
{
    if (s->q_len > 0 && head(s)->injected) {
        (void)pop_pending(s);
        emit_line(s, MC_R_SMTP_STARTTLS_INJECTION_ANSWERED, line->off, line, NULL,
                  "plaintext reply to a command pipelined behind STARTTLS");
        return;
    }
    if (s->n_injected > 0) {
        /* the client's handshake began first (its commands were set
         * aside then); the server still answers one in plaintext */
        memmove(&s->injected[0], &s->injected[1], --s->n_injected * sizeof(s->injected[0]));
        emit_line(s, MC_R_SMTP_STARTTLS_INJECTION_ANSWERED, line->off, line, NULL,
                  "plaintext reply to a command pipelined behind STARTTLS");
        return;
    }
    emit_line(s, MC_R_SMTP_STARTTLS_RESPONSE_INJECTION, line->off, line, NULL,
              "plaintext after the 220 to STARTTLS where the TLS handshake must start");
    s->resp_injected++;
}

/* Could this reply answer the oldest pending command? Failures fit any
 * command; positive and intermediate codes only those s4.3.2 lists. */
static bool reply_fits(const struct pending *h, unsigned code)
{
    if (code == 0 || code >= 400)
        return true;
    if (h->verb == MC_SMTP_DATA)
        return h->got_354 ? code == 250 : code == 354;
    return code_expected(h->verb, code, false);
}

/* After a message whose content held an end-of-data look-alike was
 * answered, a server that ended the message at the look-alike also answers
 * the commands smuggled behind it, which the client never sent as
 * commands: more replies than commands. Such a reply (one with nothing to
 * answer, or one that cannot answer the oldest pending command) is
 * reported once and set aside. */
static bool smuggled_reply(struct smtp *s, const struct pending *h, unsigned code,
                           const struct mc_span *line)
{
    if (!s->smuggle_window || code == 421 || (h && reply_fits(h, code)))
        return false;
    if (!s->smuggle_said) {
        s->smuggle_said = true;
        emit_line(s, MC_R_SMTP_SMUGGLING_ACCEPTED, line->off, line, NULL,
                  "a reply to no command the client sent, after a message with an end-of-data "
                  "look-alike: the server ran commands smuggled in the message content");
    }
    return true;
}

/* A complete reply (its last line has arrived). */
static void on_reply(struct smtp *s, unsigned code, const struct mc_span *line)
{
    struct pending *h;
    struct pending pd;

    if (!code_valid(code))
        code = 0;
    if (s->tls.state == MC_TLS_STARTING) {
        on_injected_reply(s, line);
        return;
    }
    if (s->state == ST_GREETING) {
        on_greeting(s, code, line);
        return;
    }
    if (code == 0 && (s->s_resync || s->c_resync))
        return;
    h = head(s);
    if (smuggled_reply(s, h, code, line))
        return;
    if (!h) {
        if (code == 421) {
            s->s_closing = true;
            return;
        }
        if (s->c_resync || s->s_resync)
            return;
        if (s->n_injected > 0) {
            memmove(&s->injected[0], &s->injected[1], --s->n_injected * sizeof(s->injected[0]));
            emit_line(s, MC_R_SMTP_STARTTLS_INJECTION_ANSWERED, line->off, line, NULL,
                      "the server answered a command the client sent in plaintext behind STARTTLS");
            return;
        }
        emit_line(s, MC_R_SMTP_UNSOLICITED_REPLY, line->off, line, NULL, NULL);
        return;
    }
    if (code == 421)
        s->s_closing = true;
    s->s_resync = false;

    if ((h->verb == MC_SMTP_DATA && h->got_354) || h->verb == MC_SMTP_BDAT) {
        if (!h->content_done && mc_smtp_cmd_in_content(&s->cmd)) {
            /* a reply before the content ended */
            if (h->lookalike) {
                emit_line(s, MC_R_SMTP_SMUGGLING_ACCEPTED, line->off, line, NULL,
                          "reply while the content goes on, after an end-of-data look-alike: "
                          "the server ended the message there");
                s->smuggle_window = s->smuggle_said = true;
            } else if (code != 421) {
                emit_line(s, MC_R_SMTP_REPLY_DURING_DATA, line->off, line, NULL, NULL);
            }
            pd = pop_pending(s);
            s->s_tx = false;
            return;
        }
        pd = pop_pending(s);
        if (pd.verb == MC_SMTP_DATA) {
            judge(s, &pd, code, line, true);
            if (pd.lookalike && !s->smuggle_window) {
                /* the server may have ended the message at the look-alike
                 * all the same: the replies that follow tell */
                s->smuggle_window = true;
                s->smuggle_said = false;
            }
        } else {
            judge(s, &pd, code, line, false);
        }
        return;
    }
    if (h->verb == MC_SMTP_AUTH && code == 334) {
        mc_smtp_cmd_expect_sasl(&s->cmd, true);
        return;   /* a challenge; the AUTH goes on */
    }
    if (h->verb == MC_SMTP_DATA && code == 354) {
        h->got_354 = true;
        judge(s, h, code, line, false);
        return;
    }
    pd = pop_pending(s);
    /* DATA refused: back to commands, unless content was sent before the
     * refusal (SMTP.CONTENT.BEFORE_354); then it is read to its end */
    if (pd.verb == MC_SMTP_DATA)
        (void)mc_smtp_cmd_abort_data(&s->cmd);
    judge(s, &pd, code, line, false);
}

/* First line of a greeting or of a positive EHLO reply: a domain or an
 * address literal leads the text (RFC 5321 s4.2, s4.1.1.1). */
static bool leading_host_ok(const struct mc_span *text)
{
    const uint8_t *sp = memchr(text->ptr, ' ', text->len);
    size_t n = sp ? (size_t)(sp - text->ptr) : text->len, bad;
    return mc_smtp_host_valid(text->ptr, n, false, &bad);
}

static void ehlo_keyword(struct smtp *s, const struct mc_smtp_reply_ev *ev)
{
    const uint8_t *p = ev->text.ptr;
    size_t n = ev->text.len, kw = 0, bad = 0;
    struct caps *k = &s->next_caps;
    enum mc_anom a;
    if (n >= 5 && strncasecmp((const char *)p, "AUTH=", 5) == 0) {
        emit_line(s, MC_R_SMTP_EHLO_AUTH_EQUALS, ev->text.off, &ev->line, NULL, NULL);
        return;
    }
    a = mc_smtp_parse_ehlo_line(p, n, &kw, &bad);
    if (a == MC_ANOM_SMTP_EHLO_LINE_SYNTAX) {
        emit_line(s, MC_R_SMTP_EHLO_LINE_SYNTAX, ev->text.off + bad, &ev->line, NULL, NULL);
        return;
    }
#define KW(name) (kw == sizeof(name) - 1 && strncasecmp((const char *)p, name, kw) == 0)
    if (a == MC_ANOM_SMTP_EHLO_PARAM_VALUE)
        emit_line(s, KW("SIZE") ? MC_R_SMTP_EHLO_SIZE_SYNTAX : MC_R_SMTP_EHLO_AUTH_SYNTAX,
                  ev->text.off + bad, &ev->line, NULL, NULL);
    if (KW("PIPELINING"))
        k->pipelining = true;
    else if (KW("STARTTLS")) {
        k->starttls = true;
        if (s->tls_active)
            emit_line(s, MC_R_SMTP_STARTTLS_ADVERTISED_IN_TLS, ev->text.off, &ev->line, NULL, NULL);
    } else if (KW("8BITMIME"))
        k->eightbit = true;
    else if (KW("BINARYMIME"))
        k->binarymime = true;
    else if (KW("SMTPUTF8"))
        k->smtputf8 = true;
    else if (KW("CHUNKING"))
        k->chunking = true;
    else if (KW("DSN"))
        k->dsn = true;
    else if (KW("ENHANCEDSTATUSCODES"))
        k->enhanced = true;
    else if (KW("SIZE")) {
        k->size = true;
        if (kw < n && a == MC_ANOM_NONE)
            (void)mc_parse_u64(p + kw + 1, n - kw - 1, UINT64_MAX, &k->size_max);
    } else if (KW("AUTH")) {
        size_t i = kw;
        k->auth = true;
        while (i < n) {
            size_t st = ++i;
            while (i < n && p[i] != ' ')
                i++;
            if (k->n_mech < MC_SMTP_MECHS_MAX && i - st <= 20) {
                memcpy(k->mech[k->n_mech], p + st, i - st);
                k->mech[k->n_mech][i - st] = '\0';
                k->n_mech++;
            }
            if (!s->tls_active && !s->said_plain_offered &&
                password_mech(&(struct mc_span){p + st, i - st, ev->text.off + st})) {
                s->said_plain_offered = true;
                emit_line(s, MC_R_SMTP_PLAINTEXT_AUTH_OFFERED, ev->text.off + st, &ev->line, NULL,
                          NULL);
            }
        }
    }
#undef KW
}

/* What the reply parser flags that this session allows:
 * - enhanced status code checks, unless ENHANCEDSTATUSCODES was advertised:
 *   RFC 2034 binds servers that support it, and other text may start like
 *   a code ("250 2.5 GB free");
 * - the first line of an EHLO reply, whose ehlo-greet allows any octet but
 *   CR and LF (RFC 5321 s4.1.1.1);
 * - UTF-8 in reply text once SMTPUTF8 is offered (RFC 6531 s3.7.4). */
static void filter_reply_anoms(const struct smtp *s, const struct mc_smtp_reply_ev *ev,
                               bool to_ehlo, struct mc_anoms *out)
{
    mc_anoms_clear(out);
    out->dropped = ev->anoms.dropped;
    for (unsigned i = 0; i < ev->anoms.n; i++) {
        enum mc_anom code = (enum mc_anom)ev->anoms.hit[i].code;
        uint64_t off = ev->anoms.hit[i].off;
        if (!s->caps.enhanced &&
            (code == MC_ANOM_SMTP_ESC_SYNTAX || code == MC_ANOM_SMTP_ESC_CLASS ||
             code == MC_ANOM_SMTP_ESC_NO_SP || code == MC_ANOM_SMTP_ESC_LINE_MISMATCH))
            continue;
        if (code == MC_ANOM_SMTP_REPLY_TEXT_CHAR) {
            uint8_t c = off >= ev->line.off && off - ev->line.off < ev->line.len
                            ? ev->line.ptr[off - ev->line.off] : 0;
            if ((to_ehlo && ev->first) || (c >= 0x80 && s->caps.smtputf8))
                continue;
        }
        if (code == MC_ANOM_NUL_BYTE && to_ehlo && ev->first)
            continue;
        out->hit[out->n++] = ev->anoms.hit[i];
    }
}

static void on_reply_line(struct smtp *s, const struct mc_smtp_reply_ev *ev)
{
    struct pending *h = head(s);
    bool in_greeting = s->state == ST_GREETING;
    bool to_ehlo = h && (h->verb == MC_SMTP_EHLO || h->verb == MC_SMTP_HELO) && !h->injected;

    if (s->tls.state == MC_TLS_STARTING) {
        /* judged at its first line: where the plaintext starts */
        if (ev->first)
            on_injected_reply(s, &ev->line);
        return;
    }
    if (s->s_resync && ev->code == 0)
        return;   /* part of a reply whose start fell into a gap */
    s->r_multiline = !ev->first;
    {
        struct mc_anoms a;
        filter_reply_anoms(s, ev, to_ehlo, &a);
        map_anoms(s, &a, MC_SIDE_SERVER, &ev->line, NULL);
    }

    /* RFC 2034 s4: every 2xx/4xx/5xx line but the greeting's and the
     * EHLO/HELO reply's carries an enhanced code */
    if (s->caps.enhanced && !in_greeting && !to_ehlo && ev->code >= 200 && ev->code / 100 != 3 &&
        ev->esc.len == 0 && !mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_ESC_SYNTAX) && !s->said_esc_missing) {
        s->said_esc_missing = true;
        emit_line(s, MC_R_SMTP_ESC_MISSING, ev->text.off, &ev->line, NULL, NULL);
    }
    if (ev->first) {
        /* the Greeting grammar covers 220 only; a 554 is a Reply-line */
        if (in_greeting && ev->reply_code == 220 && !leading_host_ok(&ev->text))
            emit_line(s, MC_R_SMTP_GREETING_DOMAIN, ev->text.off, &ev->line, NULL, NULL);
        if (to_ehlo && h->verb == MC_SMTP_EHLO) {
            memset(&s->next_caps, 0, sizeof(s->next_caps));
            if (ev->code == 250 && !leading_host_ok(&ev->text))
                emit_line(s, MC_R_SMTP_EHLO_REPLY_DOMAIN, ev->text.off, &ev->line, NULL, NULL);
        }
    } else if (to_ehlo && h->verb == MC_SMTP_EHLO && ev->reply_code == 250) {
        ehlo_keyword(s, ev);
    }
    if (h && h->verb == MC_SMTP_AUTH && ev->code == 334 && ev->last) {
        size_t bad = 0;
        /* RFC 4954 s4: "334" SP base64, nothing else ("334 " is an empty one) */
        if (ev->line.len < 4 || ev->line.ptr[3] != ' ' ||
            !mc_base64_valid_prefix(ev->text.ptr, ev->text.len, ev->truncated, &bad))
            emit_line(s, MC_R_SMTP_AUTH_CHALLENGE_SYNTAX, ev->text.off + bad, &ev->line, NULL, NULL);
    }
    if (ev->last)
        on_reply(s, ev->reply_code, &ev->line);
}

/* ---- plumbing ---------------------------------------------------------------- */

static void drop_injected(struct smtp *s)
{
    while (s->q_len > 0 && head(s)->injected) {
        struct pending pd = pop_pending(s);
        if (s->n_injected < sizeof(s->injected) / sizeof(s->injected[0]))
            s->injected[s->n_injected++] = pd;
    }
}

/* TLS runs from here on: RFC 3207 s4.2, the session starts over. */
static void tls_reset(struct smtp *s)
{
    s->tls_active = true;
    s->awaiting_starttls = false;
    drop_injected(s);
    forget_caps(s);
    s->c_ehlo = false;
    c_tx_reset(s);
    s_tx_reset(s);
    if (s->state != ST_GREETING) {
        s->state = ST_READY;
        s->after_tls_first = true;
    }
}

static void went_opaque(void *p, enum mc_dir dir)
{
    struct smtp *s = p;
    if (!s->tls_active)
        tls_reset(s);
    if (dir == MC_DIR_S2C)
        drop_injected(s);
}

static void skip(void *p, enum mc_dir dir, uint64_t n)
{
    struct smtp *s = p;
    if (dir == MC_DIR_C2S)
        mc_smtp_cmd_gap(&s->cmd, n);
    else
        mc_smtp_reply_gap(&s->reply, n);
}

static void content_early_check(struct smtp *s)
{
    struct pending *pd;
    if (s->said_content_early || !mc_smtp_cmd_in_content(&s->cmd))
        return;
    pd = content_owner(s, MC_SMTP_DATA);
    if (pd && !pd->got_354) {
        s->said_content_early = true;
        mc__emit(s->c, MC_R_SMTP_CONTENT_BEFORE_354, mc_smtp_cmd_offset(&s->cmd), NULL, NULL);
    }
}

/* One event from the parser of one direction; returns octets used. */
static size_t feed_one(void *p, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct smtp *s = p;
    size_t used = 0;
    if (dir == MC_DIR_C2S) {
        struct mc_smtp_cmd_ev ev;
        if (len > 0)
            content_early_check(s);
        if (mc_smtp_cmd_feed(&s->cmd, buf, len, &used, &ev) == MC_EVENT)
            on_client_event(s, &ev);
    } else {
        struct mc_smtp_reply_ev ev;
        if (mc_smtp_reply_feed(&s->reply, buf, len, &used, &ev) == MC_EVENT)
            on_reply_line(s, &ev);
    }
    return used;
}

static bool event_due(const void *p, enum mc_dir dir)
{
    const struct smtp *s = p;
    return dir == MC_DIR_C2S && mc_smtp_cmd_has_event(&s->cmd);
}

static bool at_line_start(const void *p, enum mc_dir dir)
{
    const struct smtp *s = p;
    return dir == MC_DIR_C2S
               ? !mc_smtp_cmd_partial(&s->cmd) && !mc_smtp_cmd_in_content(&s->cmd)
               : !mc_smtp_reply_partial(&s->reply) && !mc_smtp_reply_in_reply(&s->reply);
}

static bool resyncing(const void *p, enum mc_dir dir)
{
    const struct smtp *s = p;
    return dir == MC_DIR_C2S ? mc_smtp_cmd_resyncing(&s->cmd) : mc_smtp_reply_resyncing(&s->reply);
}

/* The reply to STARTTLS was lost in a gap; the next octets told whether
 * TLS started (tls_switch.h, MC_TLS_MAYBE). */
static void maybe_settled(void *p, bool tls)
{
    struct smtp *s = p;
    (void)tls;
    s->awaiting_starttls = false;
}

static const struct mc_tls_ops tls_ops = {
    .maybe_settled = maybe_settled,
    .feed_one = feed_one,
    .event_due = event_due,
    .at_line_start = at_line_start,
    .resyncing = resyncing,
    .skip = skip,
    .went_opaque = went_opaque,
};

static void smtp_data(void *p, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct smtp *s = p;
    mc_tls_data(&s->tls, &tls_ops, s, dir, buf, len);
}

static void smtp_tls(void *p, bool decrypted)
{
    struct smtp *s = p;
    /* TLS records after the 220 (the relay marks the first one): each
     * direction turns to records when its own first record comes
     * (tls_switch.h), so a plaintext reply after the client's ClientHello
     * is still seen, as it is in a capture */
    if (!decrypted && s->tls.state == MC_TLS_STARTING)
        return;
    /* The recording says TLS runs, so a STARTTLS still pending was
     * answered with 220 even if the replies seen did not say so (a reply
     * that was lost or misread, e.g. a greeting that never ended): drop it
     * and what came before it, so that the session inside TLS starts in
     * step. Commands behind it were injected (drop_injected keeps them). */
    for (unsigned i = s->q_len; i > 0; i--) {
        if (s->q[(s->q_head + i - 1) % s->q_cap].verb == MC_SMTP_STARTTLS) {
            while (i-- > 0)
                (void)pop_pending(s);
            break;
        }
    }
    tls_reset(s);
    s->tls.state = decrypted ? MC_TLS_PLAIN : MC_TLS_OPAQUE;
}

static void smtp_gap(void *p, enum mc_dir dir, uint64_t n)
{
    struct smtp *s = p;
    skip(s, dir, n);
    if (s->tls.state == MC_TLS_STARTING && !s->tls.opaque[dir]) {
        mc_tls_go_opaque(&s->tls, &tls_ops, s, dir);
        return;
    }
    if (dir == MC_DIR_C2S) {
        s->c_resync = true;
        s->c_lost = true;
        s->c_ehlo = true;   /* an EHLO may have been lost: not blamed */
        return;
    }
    s->s_resync = true;
    if (s->awaiting_starttls && s->tls.state == MC_TLS_NONE)
        s->tls.state = MC_TLS_MAYBE;   /* the 220 to STARTTLS may be in the gap */
    for (unsigned i = 0; i < s->q_len; i++)
        if (s->q[(s->q_head + i) % s->q_cap].verb == MC_SMTP_EHLO)
            s->caps_lost = true;   /* its reply may be in the gap */
    s->q_len = 0;
    if (s->state == ST_GREETING)
        s->state = ST_READY;
}

static void smtp_close(void *p, enum mc_dir dir)
{
    struct smtp *s = p;
    enum mc_dir other = dir == MC_DIR_C2S ? MC_DIR_S2C : MC_DIR_C2S;
    s->closed[dir] = true;
    if (s->tls.state == MC_TLS_OPAQUE || s->closed[other] || s->c->finishing)
        return;
    if (dir == MC_DIR_C2S && s->tls.state == MC_TLS_STARTING && !s->tls.opaque[MC_DIR_C2S]) {
        mc__emit(s->c, MC_R_SMTP_STARTTLS_NO_HANDSHAKE, s->c->pos[MC_DIR_C2S], NULL,
                 "the client closed the connection after the 220 to STARTTLS without a TLS handshake");
        return;   /* no QUIT is owed: the session was to start over inside TLS */
    }
    if (dir == MC_DIR_C2S) {
        struct mc_smtp_cmd_ev ev;
        /* cut off inside message content (SMTP.BODY.UNTERMINATED): the
         * missing QUIT is the same fault */
        bool in_content = mc_smtp_cmd_in_content(&s->cmd);
        while (mc_smtp_cmd_finish(&s->cmd, &ev) == MC_EVENT)
            on_client_event(s, &ev);
        if (!s->quit_sent && !in_content && s->state != ST_GREETING && s->state != ST_REFUSED &&
            !s->s_closing)
            mc__emit(s->c, MC_R_SMTP_CLOSE_WITHOUT_QUIT, s->c->pos[MC_DIR_C2S], NULL, NULL);
        return;
    }
    {
        struct mc_smtp_reply_ev ev;
        while (mc_smtp_reply_finish(&s->reply, &ev) == MC_EVENT)
            on_reply_line(s, &ev);
    }
    /* after a 554 greeting too, the server waits for QUIT (s3.1) */
    if (s->state != ST_DONE && !s->s_closing)
        mc__emit(s->c, MC_R_SMTP_SERVER_CLOSED, s->c->pos[MC_DIR_S2C], NULL,
                 "the server closed the connection without 221 to QUIT or a 421");
}

static bool smtp_in_tls(const void *p)
{
    const struct smtp *s = p;
    return s->tls.state != MC_TLS_NONE && s->tls.state != MC_TLS_MAYBE;
}

static void smtp_set_submission(void *p, bool on)
{
    struct smtp *s = p;
    s->submission = on;
}

static void smtp_release(void *p)
{
    struct smtp *s = p;
    free(s->q);
    s->q = NULL;
    s->q_head = s->q_len = s->q_cap = 0;
}

const struct mc_proto_ops mc_smtp_ops = {
    .proto = MC_PROTO_SMTP,
    .size = sizeof(struct smtp),
    .init = smtp_init,
    .release = smtp_release,
    .data = smtp_data,
    .tls = smtp_tls,
    .gap = smtp_gap,
    .close = smtp_close,
    .in_tls = smtp_in_tls,
    .set_submission = smtp_set_submission,
};
