/*
 * POP3 session validation: RFC 1939 states AUTHORIZATION / TRANSACTION /
 * UPDATE, RFC 2449 CAPA and PIPELINING, RFC 2595 s4 STLS, RFC 5034 AUTH.
 *
 * Commands queue up as they arrive (pipelining is legal with PIPELINING and
 * happens without it); each status line answers the oldest one. A command is
 * judged against the state when its answer arrives, which is when the server
 * judged it. The session tells the response parser which answers are
 * multi-line and the command parser when a SASL exchange runs.
 */
#include "session/fnv.h"
#include "session/session.h"
#include "session/tls_switch.h"
#include "pop3/pop3_cmd.h"
#include "pop3/pop3_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum pstate { ST_GREETING, ST_AUTHORIZATION, ST_TRANSACTION, ST_DONE };
static const char *const state_names[] = {"greeting", "AUTHORIZATION", "TRANSACTION", "UPDATE"};


/* bit per state a command is valid in (RFC 1939 s4-s7, RFC 2449 s5,
 * RFC 2595 s4, RFC 5034 s4) */
#define IN_AUTH (1u << ST_AUTHORIZATION)
#define IN_TRANS (1u << ST_TRANSACTION)
static const unsigned valid_in[MC_POP3_VERB_COUNT] = {
    [MC_POP3_USER] = IN_AUTH, [MC_POP3_PASS] = IN_AUTH, [MC_POP3_APOP] = IN_AUTH,
    [MC_POP3_AUTH] = IN_AUTH, [MC_POP3_STLS] = IN_AUTH,
    [MC_POP3_STAT] = IN_TRANS, [MC_POP3_LIST] = IN_TRANS, [MC_POP3_RETR] = IN_TRANS,
    [MC_POP3_DELE] = IN_TRANS, [MC_POP3_NOOP] = IN_TRANS, [MC_POP3_RSET] = IN_TRANS,
    [MC_POP3_TOP] = IN_TRANS, [MC_POP3_UIDL] = IN_TRANS,
    [MC_POP3_QUIT] = IN_AUTH | IN_TRANS, [MC_POP3_CAPA] = IN_AUTH | IN_TRANS,
};

struct pending {
    enum mc_pop3_verb verb;
    unsigned argc;
    bool syntax_ok;
    bool num_ok;
    bool injected;          /* sent in plaintext behind STLS */
    bool cancelled;         /* AUTH: the client sent "*" */
    bool pipelined;         /* sent behind an unanswered state-deciding command */
    bool sasl_ir_plain;     /* AUTH PLAIN/LOGIN: a password mechanism */
    uint64_t msg;
    uint64_t off;           /* offset of the command line */
    char excerpt[MC_EXCERPT_MAX];
};

struct pop3 {
    struct mc_session_ctx *c;
    struct mc_pop3_cmd cmd;
    struct mc_pop3_resp resp;
    enum pstate state;
    struct mc_tls tls;        /* +OK to STLS: MC_TLS_STARTING (session/tls_switch.h) */
    bool tls_active;
    bool closed[2];

    struct pending q[MC_POP3_PENDING_MAX];
    unsigned q_head, q_len;
    struct pending cur;       /* command whose multi-line answer is running */

    bool greeting_timestamp;
    bool user_ok;             /* the previous command was an accepted USER */
    bool quit_sent;
    bool awaiting_stls;       /* STLS sent, its answer not yet seen */
    bool stls_refused;        /* the last STLS got -ERR: the client asked for TLS in vain */
    unsigned resp_injected;   /* plaintext status lines after the +OK to STLS that
                                 answered nothing: a client inside TLS that goes on
                                 as if one answered its command took it as the answer */
    /* injected commands a conformant server discarded at TLS start; kept
     * so an answer to one inside TLS is recognised (and its shape known) */
    struct pending injected[8];
    unsigned n_injected;
    bool capa_after_tls;

    /* capabilities from the last CAPA answer */
    bool cap_stls, cap_pipelining;

    /* Both allocated when first needed (a DELE accepted, a UIDL listing)
     * and freed when no longer (RSET, a new login; the listing's end): at
     * 40 KiB together they would be most of a session's memory, and a
     * capture may keep a thousand sessions open at once. */
    uint8_t *deleted;         /* MC_POP3_MSGS_TRACKED bits, or NULL: none deleted */
    uint64_t *uid_hash;       /* UID_SLOTS, open addressing, 0 = empty; NULL: none */
    unsigned uid_n;

    /* after a gap, answers cannot be matched to commands with certainty:
     * unmatched and malformed status lines are not blamed on the server */
    bool c_resync, s_resync;

    /* rules reported at most once per session */
    bool said_before_greeting, said_after_quit, said_pipelining, said_cleartext,
        said_capa_not_reissued, said_refused_credentials, said_injected_used;
};

static void emit_line(struct pop3 *s, enum mc_rule r, uint64_t off, const struct mc_span *line,
                      const struct mc_span *secret, const char *msg)
{
    mc__emit_line(s->c, r, off, line, secret, msg);
}

static void map_anoms(struct pop3 *s, const struct mc_anoms *a, enum mc_side side,
                      const struct mc_span *line, const struct mc_span *secret)
{
    mc__emit_anoms(s->c, MC_PROTO_POP3, side, a, line, secret);
}

#define UID_SLOTS (MC_POP3_UIDS_TRACKED * 2)

static bool is_deleted(const struct pop3 *s, uint64_t msg)
{
    return s->deleted && msg > 0 && msg <= MC_POP3_MSGS_TRACKED &&
           (s->deleted[(msg - 1) / 8] & (1u << ((msg - 1) % 8)));
}

static void set_deleted(struct pop3 *s, uint64_t msg)
{
    if (msg == 0 || msg > MC_POP3_MSGS_TRACKED)
        return;
    if (!s->deleted)
        s->deleted = calloc(MC_POP3_MSGS_TRACKED / 8, 1);
    if (!s->deleted) {   /* a later use of the message would go unseen */
        mc__out_of_memory(s->c);
        return;
    }
    s->deleted[(msg - 1) / 8] |= (uint8_t)(1u << ((msg - 1) % 8));
}

/* No message is marked deleted any more (RSET, a new login). */
static void clear_deleted(struct pop3 *s)
{
    free(s->deleted);
    s->deleted = NULL;
}

/* The listing's ids are no longer needed. */
static void forget_uids(struct pop3 *s)
{
    free(s->uid_hash);
    s->uid_hash = NULL;
    s->uid_n = 0;
}

/* 0 marks an empty slot of the table */
static uint64_t uid_key(const uint8_t *p, size_t n)
{
    uint64_t h = mc_fnv1a(MC_FNV_OFFSET, p, n);
    return h ? h : 1;
}

/* Returns true if the uid was already in this listing. */
static bool uid_seen(struct pop3 *s, const uint8_t *p, size_t n)
{
    const size_t slots = UID_SLOTS;
    uint64_t h = uid_key(p, n);
    size_t i = (size_t)(h % slots);
    if (s->uid_n >= MC_POP3_UIDS_TRACKED)
        return false; /* bounded: later ids of huge listings are not compared */
    if (!s->uid_hash)
        s->uid_hash = calloc(slots, sizeof(s->uid_hash[0]));
    if (!s->uid_hash) {
        mc__out_of_memory(s->c);   /* a repeated id would go unseen */
        return false;
    }
    while (s->uid_hash[i]) {
        if (s->uid_hash[i] == h)
            return true;
        i = (i + 1) % slots;
    }
    s->uid_hash[i] = h;
    s->uid_n++;
    return false;
}

static void pop3_init(void *p, struct mc_session_ctx *c)
{
    struct pop3 *s = p;
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->tls.ctx = c;   /* a decrypting caller takes over TLS records (tls_switch.h) */
    mc_pop3_cmd_init(&s->cmd);
    mc_pop3_resp_init(&s->resp);
    s->state = ST_GREETING;
}

/* ---- client side ------------------------------------------------------- */

static bool mech_is(const struct mc_span *m, const char *name)
{
    size_t n = strlen(name);
    return m->len == n && strncasecmp((const char *)m->ptr, name, n) == 0;
}

/* SASL mechanisms that carry the password itself */
static bool password_mech(const struct mc_span *m)
{
    return mech_is(m, "PLAIN") || mech_is(m, "LOGIN");
}

/* SASL mechanisms that carry no secret an eavesdropper could use: the
 * client's TLS certificate, none at all, a Kerberos ticket. Every other
 * one (CRAM-MD5, DIGEST-MD5, SCRAM-*, OAUTHBEARER, ...) carries a password,
 * a token or something derived from a password (open to offline guessing). */
static bool secretless_mech(const struct mc_span *m)
{
    return mech_is(m, "EXTERNAL") || mech_is(m, "ANONYMOUS") || mech_is(m, "GSSAPI") ||
           mech_is(m, "GS2-KRB5");
}

/* Credentials sent outside TLS: a password in the clear (PASS, AUTH PLAIN
 * or LOGIN) where STLS was on offer or accepted, or any credentials (APOP
 * and password-derived SASL too) after STLS was refused (RFC 8314 s5.2). */
static void check_credentials(struct pop3 *s, const struct mc_pop3_cmd_ev *ev, bool password)
{
    bool creds = password || ev->verb == MC_POP3_APOP ||
                 (ev->verb == MC_POP3_AUTH && ev->argc >= 1 && !secretless_mech(&ev->arg[0]));
    if (s->tls_active || !creds)
        return;
    if (s->stls_refused) {
        if (!s->said_refused_credentials) {
            s->said_refused_credentials = true;
            emit_line(s, MC_R_POP3_STLS_REFUSED_CREDENTIALS, ev->line.off, &ev->line, &ev->secret,
                      "credentials in the clear after the server refused STLS");
        }
    } else if (password && !s->said_cleartext &&
               (s->cap_stls || s->tls.state == MC_TLS_STARTING)) {
        s->said_cleartext = true;
        emit_line(s, MC_R_POP3_CLEARTEXT_PASSWORD, ev->line.off, &ev->line, &ev->secret,
                  s->tls.state == MC_TLS_STARTING
                      ? "password in the clear after the +OK to STLS, where the TLS negotiation must start"
                      : NULL);
    }
}

/* Removes and returns the oldest unanswered command; q_len MUST be > 0. */
static struct pending pop_pending(struct pop3 *s)
{
    struct pending pd = s->q[s->q_head];
    s->q_head = (s->q_head + 1) % MC_POP3_PENDING_MAX;
    s->q_len--;
    return pd;
}

static void on_command(struct pop3 *s, const struct mc_pop3_cmd_ev *ev)
{
    struct pending pd;

    map_anoms(s, &ev->anoms, MC_SIDE_CLIENT, &ev->line, &ev->secret);

    if (s->state == ST_GREETING && !s->said_before_greeting) {
        s->said_before_greeting = true;
        emit_line(s, MC_R_POP3_CMD_BEFORE_GREETING, ev->line.off, &ev->line, &ev->secret, NULL);
    }
    if (s->quit_sent && !s->said_after_quit) {
        s->said_after_quit = true;
        emit_line(s, MC_R_POP3_CMD_AFTER_QUIT, ev->line.off, &ev->line, &ev->secret, NULL);
    }
    if (ev->verb == MC_POP3_UNKNOWN && ev->keyword.len > 0 && !mc_anoms_has(&ev->anoms, MC_ANOM_POP3_KEYWORD_SYNTAX))
        emit_line(s, MC_R_POP3_UNKNOWN_COMMAND, ev->line.off, &ev->line, &ev->secret, NULL);

    memset(&pd, 0, sizeof(pd));
    pd.verb = ev->verb;
    pd.argc = ev->argc;
    pd.syntax_ok = ev->syntax_ok;
    pd.num_ok = ev->num_ok[0];
    pd.msg = ev->num[0];
    pd.off = ev->line.off;
    mc_excerpt(pd.excerpt, ev->line.ptr, ev->line.len, ev->line.off, ev->secret.off, ev->secret.len);

    if ((s->awaiting_stls && s->tls.state != MC_TLS_MAYBE) || s->tls.state == MC_TLS_STARTING) {
        /* RFC 2595 s4: nothing may follow STLS until the answer and the
         * handshake; a server that reads it is open to CVE-2011-0411 style
         * injection */
        pd.injected = true;
        emit_line(s, MC_R_POP3_STLS_CMD_INJECTION, ev->line.off, &ev->line, &ev->secret,
                  s->awaiting_stls
                      ? "command sent behind STLS before the server's answer and the TLS handshake"
                      : "plaintext command after the +OK to STLS where the TLS handshake must start");
    } else if (s->resp_injected > 0 && s->tls.state == MC_TLS_PLAIN &&
               (s->q_len > 0 || mc_pop3_resp_in_multiline(&s->resp))) {
        /* RFC 2595 s4: what came before TLS is void; a client that goes on
         * before the answer inside TLS took the injected line for it */
        if (!s->said_injected_used) {
            s->said_injected_used = true;
            emit_line(s, MC_R_POP3_STLS_INJECTED_RESPONSE_USED, ev->line.off, &ev->line, &ev->secret,
                      "command sent inside TLS before the answer to the previous one: the client "
                      "took plaintext injected after the +OK to STLS as that answer");
        }
    } else if ((s->q_len > 0 || mc_pop3_resp_in_multiline(&s->resp)) && !s->cap_pipelining &&
               !s->said_pipelining && s->state != ST_GREETING) {
        s->said_pipelining = true;
        emit_line(s, MC_R_POP3_PIPELINING_UNADVERTISED, ev->line.off, &ev->line, &ev->secret, NULL);
    }

    if (ev->verb == MC_POP3_AUTH && ev->argc >= 1)
        pd.sasl_ir_plain = password_mech(&ev->arg[0]);
    check_credentials(s, ev, ev->verb == MC_POP3_PASS || pd.sasl_ir_plain);
    if (s->tls_active && s->tls.state == MC_TLS_PLAIN) {
        if (ev->verb == MC_POP3_CAPA)
            s->capa_after_tls = true;
        else if (!s->capa_after_tls && !s->said_capa_not_reissued &&
                 (ev->verb == MC_POP3_USER || ev->verb == MC_POP3_PASS ||
                  ev->verb == MC_POP3_APOP || ev->verb == MC_POP3_AUTH)) {
            s->said_capa_not_reissued = true;
            emit_line(s, MC_R_POP3_CAPA_NOT_REISSUED, ev->line.off, &ev->line, &ev->secret, NULL);
        }
    }
    if (ev->verb == MC_POP3_STLS)
        s->awaiting_stls = true;
    /* Until the server's final answer, client lines belong to the SASL
     * exchange (RFC 5034 s4), even if sent before the first "+ " challenge:
     * they carry credentials and must never be parsed as commands. */
    if (ev->verb == MC_POP3_AUTH && ev->argc > 0)
        mc_pop3_cmd_expect_sasl(&s->cmd, true);
    if (ev->verb == MC_POP3_QUIT)
        s->quit_sent = true;

    /* batched behind an unanswered command whose answer decides the state
     * this one meets (a login step or QUIT): the client could not know */
    for (unsigned i = 0; i < s->q_len; i++) {
        enum mc_pop3_verb v = s->q[(s->q_head + i) % MC_POP3_PENDING_MAX].verb;
        if (v == MC_POP3_USER || v == MC_POP3_PASS || v == MC_POP3_APOP || v == MC_POP3_AUTH ||
            v == MC_POP3_QUIT)
            pd.pipelined = true;
    }
    if (s->q_len == MC_POP3_PENDING_MAX) {
        /* bounded: the oldest command is forgotten; answers can no longer
         * be matched with certainty, so unmatched ones are not blamed */
        s->c_resync = true;
        (void)pop_pending(s);
    }
    s->q[(s->q_head + s->q_len) % MC_POP3_PENDING_MAX] = pd;
    s->q_len++;
}

static void on_sasl(struct pop3 *s, const struct mc_pop3_cmd_ev *ev)
{
    map_anoms(s, &ev->anoms, MC_SIDE_CLIENT, &ev->line, &ev->secret);
    if (ev->cancel && s->q_len > 0 && s->q[s->q_head].verb == MC_POP3_AUTH)
        s->q[s->q_head].cancelled = true;
}

/* ---- server side ------------------------------------------------------- */

static void on_greeting(struct pop3 *s, const struct mc_pop3_resp_ev *ev)
{
    size_t at, len;
    enum mc_anom a;
    if (ev->status != MC_POP3_STATUS_OK)
        emit_line(s, MC_R_POP3_GREETING_NOT_OK, ev->line.off, &ev->line, NULL, NULL);
    if (mc_pop3_find_timestamp(ev->text.ptr, ev->text.len, &at, &len, &a)) {
        s->greeting_timestamp = true;
        if (a != MC_ANOM_NONE)
            emit_line(s, MC_R_POP3_TIMESTAMP_SYNTAX, ev->text.off + at, &ev->line, NULL, NULL);
    }
    s->state = ST_AUTHORIZATION;
}

static bool multiline_answer(const struct pending *pd)
{
    switch (pd->verb) {
    case MC_POP3_RETR:
    case MC_POP3_TOP:
    case MC_POP3_CAPA:
        return true;
    case MC_POP3_AUTH:
        /* bare AUTH lists mechanisms (a de facto extension, not RFC 5034) */
        return pd->argc == 0;
    case MC_POP3_LIST:
    case MC_POP3_UIDL:
        return pd->argc == 0;
    default:
        return false;
    }
}

/* The command is judged now: the state it meets is the state the server
 * met when it answered. */
static void judge(struct pop3 *s, const struct pending *pd, const struct mc_pop3_resp_ev *ev)
{
    bool ok = ev->status == MC_POP3_STATUS_OK;
    bool state_ok = true;
    char msg[MC_MESSAGE_MAX];

    if (pd->verb != MC_POP3_UNKNOWN && !(valid_in[pd->verb] & (1u << s->state))) {
        state_ok = false;
        snprintf(msg, sizeof(msg), "%s is not permitted in the %s state",
                 mc_pop3_verb_name(pd->verb), state_names[s->state]);
        /* A command batched behind unanswered ones (RFC 2449 s6.6 allows
         * USER and PASS together) met a state the client could not know:
         * only the server's answer is judged then. */
        if (!pd->pipelined)
            mc__emit(s->c, pd->verb == MC_POP3_STLS ? MC_R_POP3_STLS_WRONG_STATE : MC_R_POP3_CMD_WRONG_STATE,
                     pd->off, pd->excerpt, "%s", msg);
    } else if (pd->verb == MC_POP3_PASS && !s->user_ok) {
        state_ok = false;
        if (!pd->pipelined)
            mc__emit(s->c, MC_R_POP3_PASS_WITHOUT_USER, pd->off, pd->excerpt, NULL);
    }
    if (ok && !state_ok)
        emit_line(s, MC_R_POP3_OK_IN_WRONG_STATE, ev->line.off, &ev->line, NULL, NULL);
    if (ok && state_ok && !pd->syntax_ok && pd->verb != MC_POP3_UNKNOWN &&
        !(pd->verb == MC_POP3_AUTH && pd->argc == 0))
        emit_line(s, MC_R_POP3_OK_TO_INVALID, ev->line.off, &ev->line, NULL, NULL);

    if (state_ok && pd->num_ok && s->state == ST_TRANSACTION && is_deleted(s, pd->msg) &&
        (pd->verb == MC_POP3_RETR || pd->verb == MC_POP3_DELE || pd->verb == MC_POP3_TOP ||
         pd->verb == MC_POP3_LIST || pd->verb == MC_POP3_UIDL)) {
        mc__emit(s->c, MC_R_POP3_CMD_DELETED_MSG, pd->off, pd->excerpt,
                 "message %llu is marked as deleted", (unsigned long long)pd->msg);
        if (ok)
            emit_line(s, MC_R_POP3_OK_FOR_DELETED, ev->line.off, &ev->line, NULL, NULL);
    }

    if (!ok || !state_ok)
        return;
    if (pd->verb == MC_POP3_AUTH && pd->argc == 0)
        return; /* a mechanism listing, not a login */
    /* effects of an accepted command */
    switch (pd->verb) {
    case MC_POP3_PASS:
    case MC_POP3_APOP:
    case MC_POP3_AUTH:
        if (pd->verb == MC_POP3_APOP && !s->greeting_timestamp)
            emit_line(s, MC_R_POP3_APOP_NO_TIMESTAMP, ev->line.off, &ev->line, NULL, NULL);
        if (pd->verb == MC_POP3_AUTH && pd->cancelled)
            emit_line(s, MC_R_POP3_AUTH_CANCEL_ACCEPTED, ev->line.off, &ev->line, NULL, NULL);
        s->state = ST_TRANSACTION;
        clear_deleted(s);
        break;
    case MC_POP3_STAT: {
        uint64_t n, sz;
        size_t bad;
        if (mc_pop3_parse_listing(ev->text.ptr, ev->text.len, &n, &sz, &bad) != MC_ANOM_NONE)
            emit_line(s, MC_R_POP3_LISTING_SYNTAX, ev->text.off + bad, &ev->line, NULL,
                      "STAT answer is not '+OK count size'");
        break;
    }
    case MC_POP3_LIST:
    case MC_POP3_UIDL:
        if (pd->argc == 1) {
            uint64_t n = 0, sz;
            size_t bad, ua, ul;
            enum mc_anom a = pd->verb == MC_POP3_LIST
                                 ? mc_pop3_parse_listing(ev->text.ptr, ev->text.len, &n, &sz, &bad)
                                 : mc_pop3_parse_uidl(ev->text.ptr, ev->text.len, &n, &ua, &ul, &bad);
            enum mc_rule r;
            if (a != MC_ANOM_NONE && mc_rule_for_anom(a, MC_PROTO_POP3, MC_SIDE_SERVER, &r))
                emit_line(s, r, ev->text.off + bad, &ev->line, NULL, NULL);
            else if (a == MC_ANOM_NONE && pd->num_ok && n != pd->msg)
                emit_line(s, MC_R_POP3_LISTING_WRONG_MSG, ev->text.off, &ev->line, NULL, NULL);
        }
        break;
    case MC_POP3_DELE:
        if (pd->num_ok)
            set_deleted(s, pd->msg);
        break;
    case MC_POP3_RSET:
        clear_deleted(s);
        break;
    case MC_POP3_QUIT:
        s->state = ST_DONE;
        break;
    case MC_POP3_STLS:
        s->tls.state = MC_TLS_STARTING;
        break;
    default:
        break;
    }
}

/* A status line after the +OK to STLS, where the TLS handshake must start
 * (RFC 2595 s4). If commands were pipelined behind STLS, it answers them. */
/* The server answered an injected command pd: reported, and the answer's
 * multi-line body (if any) is followed so its lines are not misread. */
static void answered_injected(struct pop3 *s, const struct pending *pd,
                              const struct mc_pop3_resp_ev *ev, const char *msg)
{
    emit_line(s, MC_R_POP3_STLS_INJECTION_ANSWERED, ev->line.off, &ev->line, NULL, msg);
    if (ev->status == MC_POP3_STATUS_OK && multiline_answer(pd)) {
        mc_pop3_resp_expect_multiline(&s->resp);
        s->cur = *pd;
    }
}

static void on_injected_status(struct pop3 *s, const struct mc_pop3_resp_ev *ev)
{
    if (s->q_len > 0 && s->q[s->q_head].injected) {
        struct pending pd = pop_pending(s);
        answered_injected(s, &pd, ev, "plaintext answer to a command pipelined behind STLS");
        return;
    }
    if (s->n_injected > 0) {
        struct pending pd = s->injected[0];
        memmove(&s->injected[0], &s->injected[1], --s->n_injected * sizeof(s->injected[0]));
        answered_injected(s, &pd, ev, "plaintext answer to a command pipelined behind STLS");
        return;
    }
    emit_line(s, MC_R_POP3_STLS_RESPONSE_INJECTION, ev->line.off, &ev->line, NULL,
              "plaintext after the +OK to STLS where the TLS handshake must start");
    s->resp_injected++;
}

static void on_status(struct pop3 *s, const struct mc_pop3_resp_ev *ev)
{
    struct pending pd;

    if (s->tls.state == MC_TLS_STARTING) {
        on_injected_status(s, ev);
        return;
    }
    if (s->s_resync && ev->status == MC_POP3_STATUS_INVALID)
        return; /* a body line whose status line fell into the gap */
    map_anoms(s, &ev->anoms, MC_SIDE_SERVER, &ev->line, NULL);
    if (s->state == ST_GREETING) {
        on_greeting(s, ev);
        return;
    }
    if (s->q_len == 0) {
        if (s->c_resync || s->s_resync)
            return; /* answers a command lost in a gap */
        if (s->n_injected > 0) {
            pd = s->injected[0];
            memmove(&s->injected[0], &s->injected[1], --s->n_injected * sizeof(s->injected[0]));
            answered_injected(s, &pd, ev,
                              "the server answered a command the client sent in plaintext behind STLS");
        } else {
            emit_line(s, MC_R_POP3_UNSOLICITED_RESPONSE, ev->line.off, &ev->line, NULL, NULL);
        }
        return;
    }
    pd = pop_pending(s);
    s->s_resync = false;

    if (pd.verb == MC_POP3_AUTH)
        mc_pop3_cmd_expect_sasl(&s->cmd, false);
    if (pd.verb == MC_POP3_STLS) {
        s->awaiting_stls = false;
        s->stls_refused = ev->status != MC_POP3_STATUS_OK;
    }
    if (pd.verb != MC_POP3_USER && pd.verb != MC_POP3_PASS)
        s->user_ok = false;

    judge(s, &pd, ev);

    if (pd.verb == MC_POP3_USER)
        s->user_ok = ev->status == MC_POP3_STATUS_OK;
    else if (pd.verb == MC_POP3_PASS)
        s->user_ok = false;

    if (ev->status == MC_POP3_STATUS_OK && multiline_answer(&pd)) {
        mc_pop3_resp_expect_multiline(&s->resp);
        s->cur = pd;
        if (pd.verb == MC_POP3_UIDL)
            forget_uids(s);   /* a fresh listing: forget the previous one's ids */
        if (pd.verb == MC_POP3_CAPA) {
            s->cap_stls = false;
            s->cap_pipelining = false;
        }
    }
}

static void on_cont(struct pop3 *s, const struct mc_pop3_resp_ev *ev)
{
    map_anoms(s, &ev->anoms, MC_SIDE_SERVER, &ev->line, NULL);
    if (s->q_len > 0 && s->q[s->q_head].verb == MC_POP3_AUTH) {
        mc_pop3_cmd_expect_sasl(&s->cmd, true);
        return;
    }
    emit_line(s, MC_R_POP3_UNSOLICITED_RESPONSE, ev->line.off, &ev->line, NULL,
              "SASL continuation '+' outside an AUTH exchange");
}

static void on_body(struct pop3 *s, const struct mc_pop3_resp_ev *ev)
{
    const uint8_t *p = ev->line.ptr;
    size_t n = ev->line.len, bad = 0;
    enum mc_anom a = MC_ANOM_NONE;
    enum mc_rule r;

    if (s->cur.verb == MC_POP3_RETR || s->cur.verb == MC_POP3_TOP) {
        /* Message content: RFC 2449 s3 allows any CHAR in dot-stuffed
         * lines, a lone CR included; only the line structure is checked. */
        struct mc_anoms content = ev->anoms;
        unsigned k = 0;
        for (unsigned i = 0; i < content.n; i++)
            if (content.hit[i].code != MC_ANOM_BARE_CR)
                content.hit[k++] = content.hit[i];
        content.n = (uint8_t)k;
        map_anoms(s, &content, MC_SIDE_SERVER, &ev->line, NULL);
        return;
    }
    map_anoms(s, &ev->anoms, MC_SIDE_SERVER, &ev->line, NULL);
    switch (s->cur.verb) {
    case MC_POP3_LIST: {
        uint64_t msg, sz;
        a = mc_pop3_parse_listing(p, n, &msg, &sz, &bad);
        if (a == MC_ANOM_NONE && is_deleted(s, msg))
            emit_line(s, MC_R_POP3_LISTING_DELETED, ev->line.off, &ev->line, NULL, NULL);
        break;
    }
    case MC_POP3_UIDL: {
        uint64_t msg;
        size_t ua, ul;
        a = mc_pop3_parse_uidl(p, n, &msg, &ua, &ul, &bad);
        if (a == MC_ANOM_NONE) {
            if (is_deleted(s, msg))
                emit_line(s, MC_R_POP3_LISTING_DELETED, ev->line.off, &ev->line, NULL, NULL);
            if (uid_seen(s, p + ua, ul))
                emit_line(s, MC_R_POP3_UID_DUPLICATE, ev->line.off + ua, &ev->line, NULL, NULL);
        }
        break;
    }
    case MC_POP3_CAPA: {
        size_t tl;
        /* RFC 2449 s5: 512 octets including CRLF; the line layer has no
         * limit inside multi-line bodies, so it is checked here */
        if (ev->line_len + 2 > MC_POP3_RESP_LINE_MAX)
            emit_line(s, MC_R_POP3_CAPA_LINE_TOO_LONG, ev->line.off + MC_POP3_RESP_LINE_MAX - 2,
                      &ev->line, NULL, NULL);
        a = ev->stuffed ? MC_ANOM_POP3_CAPA_SYNTAX : mc_pop3_parse_capa(p, n, &tl, &bad);
        if (a == MC_ANOM_NONE) {
            if (tl == 4 && strncasecmp((const char *)p, "STLS", 4) == 0) {
                s->cap_stls = true;
                /* not in a plaintext answer to a command injected behind STLS */
                if (s->tls_active && !s->cur.injected)
                    emit_line(s, MC_R_POP3_STLS_ADVERTISED_IN_TLS, ev->line.off, &ev->line, NULL, NULL);
            } else if (tl == 10 && strncasecmp((const char *)p, "PIPELINING", 10) == 0) {
                s->cap_pipelining = true;
            }
        }
        break;
    }
    default:
        return; /* RETR, TOP: message content, no structure to check */
    }
    if (a != MC_ANOM_NONE && mc_rule_for_anom(a, MC_PROTO_POP3, MC_SIDE_SERVER, &r))
        emit_line(s, r, ev->line.off + bad, &ev->line, NULL, NULL);
}

static void on_end(struct pop3 *s, const struct mc_pop3_resp_ev *ev)
{
    map_anoms(s, &ev->anoms, MC_SIDE_SERVER, &ev->line, NULL);
    if (s->cur.verb == MC_POP3_UIDL)
        forget_uids(s);   /* ids are compared within one listing only */
}

static void on_resp(struct pop3 *s, const struct mc_pop3_resp_ev *ev)
{
    switch (ev->type) {
    case MC_POP3_RESP_STATUS: on_status(s, ev); break;
    case MC_POP3_RESP_CONT: on_cont(s, ev); break;
    case MC_POP3_RESP_BODY: on_body(s, ev); break;
    case MC_POP3_RESP_END: on_end(s, ev); break;
    }
}

/* ---- plumbing ---------------------------------------------------------- */

static void drop_injected(struct pop3 *s)
{
    /* A conformant server throws away what was pipelined behind STLS; keep
     * count so an answer to it inside TLS is recognised. */
    while (s->q_len > 0 && s->q[s->q_head].injected) {
        struct pending pd = pop_pending(s);
        if (s->n_injected < sizeof(s->injected) / sizeof(s->injected[0]))
            s->injected[s->n_injected++] = pd;
    }
}

static void skip(void *p, enum mc_dir dir, uint64_t n)
{
    struct pop3 *s = p;
    if (dir == MC_DIR_C2S)
        mc_pop3_cmd_gap(&s->cmd, n);
    else
        mc_pop3_resp_gap(&s->resp, n);
}

/* One event from the parser of one direction (the TLS switch's feed). */
static size_t feed_one(void *p, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct pop3 *s = p;
    size_t used = 0;
    if (dir == MC_DIR_C2S) {
        struct mc_pop3_cmd_ev ev;
        if (mc_pop3_cmd_feed(&s->cmd, buf, len, &used, &ev) == MC_EVENT) {
            if (ev.type == MC_POP3_CMD_SASL)
                on_sasl(s, &ev);
            else
                on_command(s, &ev);
        }
    } else {
        struct mc_pop3_resp_ev ev;
        if (mc_pop3_resp_feed(&s->resp, buf, len, &used, &ev) == MC_EVENT)
            on_resp(s, &ev);
    }
    return used;
}

static bool at_line_start(const void *p, enum mc_dir dir)
{
    const struct pop3 *s = p;
    return dir == MC_DIR_C2S ? !mc_pop3_cmd_partial(&s->cmd)
                             : !mc_pop3_resp_partial(&s->resp) && !mc_pop3_resp_in_multiline(&s->resp);
}

static bool resyncing(const void *p, enum mc_dir dir)
{
    const struct pop3 *s = p;
    return dir == MC_DIR_C2S ? mc_pop3_cmd_resyncing(&s->cmd) : mc_pop3_resp_resyncing(&s->resp);
}

static void went_opaque(void *p, enum mc_dir dir)
{
    struct pop3 *s = p;
    s->tls_active = true;
    if (dir == MC_DIR_S2C)
        drop_injected(s);
}

/* The answer to STLS was lost in a gap; the next octets told whether TLS
 * started (tls_switch.h, MC_TLS_MAYBE). */
static void maybe_settled(void *p, bool tls)
{
    struct pop3 *s = p;
    (void)tls;
    s->awaiting_stls = false;
}

static const struct mc_tls_ops tls_ops = {
    .maybe_settled = maybe_settled,
    .feed_one = feed_one,
    .at_line_start = at_line_start,
    .resyncing = resyncing,
    .skip = skip,
    .went_opaque = went_opaque,
};

static void pop3_data(void *p, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct pop3 *s = p;
    mc_tls_data(&s->tls, &tls_ops, s, dir, buf, len);
}

static void pop3_tls(void *p, bool decrypted)
{
    struct pop3 *s = p;
    /* TLS records after the +OK (the relay marks the first one): each
     * direction turns to records when its own first record comes
     * (tls_switch.h), so a plaintext answer after the client's ClientHello
     * is still seen, as it is in a capture */
    if (!decrypted && s->tls.state == MC_TLS_STARTING)
        return;
    s->tls_active = true;
    s->awaiting_stls = false;
    drop_injected(s);
    /* RFC 2595 s4: capabilities learned before TLS are void */
    s->cap_stls = false;
    s->cap_pipelining = false;
    s->capa_after_tls = s->state == ST_GREETING; /* implicit TLS: no plaintext capabilities to re-check */
    s->tls.state = decrypted ? MC_TLS_PLAIN : MC_TLS_OPAQUE;
}

static void pop3_gap(void *p, enum mc_dir dir, uint64_t n)
{
    struct pop3 *s = p;
    skip(s, dir, n);
    if (s->tls.state == MC_TLS_STARTING && !s->tls.opaque[dir]) {
        /* octets lost where the handshake should start: plaintext and TLS
         * can no longer be told apart in this direction; assume TLS */
        mc_tls_go_opaque(&s->tls, &tls_ops, s, dir);
        return;
    }
    if (dir == MC_DIR_C2S) {
        /* commands may be lost: their answers would look unsolicited */
        s->c_resync = true;
        return;
    }
    /* answers may be lost: the queue can no longer be matched, and a lost
     * greeting must not make the client's commands look early */
    s->s_resync = true;
    if (s->awaiting_stls && s->tls.state == MC_TLS_NONE)
        s->tls.state = MC_TLS_MAYBE;   /* the +OK to STLS may be in the gap */
    s->q_len = 0;
    if (s->state == ST_GREETING)
        s->state = ST_AUTHORIZATION;
}

static void pop3_close(void *p, enum mc_dir dir)
{
    struct pop3 *s = p;
    enum mc_dir other = dir == MC_DIR_C2S ? MC_DIR_S2C : MC_DIR_C2S;
    s->closed[dir] = true;
    if (s->tls.state == MC_TLS_OPAQUE)
        return;
    if (dir == MC_DIR_C2S && s->tls.state == MC_TLS_STARTING && !s->tls.opaque[MC_DIR_C2S] &&
        !s->closed[other] && !s->c->finishing)
        mc__emit(s->c, MC_R_POP3_STLS_NO_HANDSHAKE, s->c->pos[MC_DIR_C2S], NULL,
                 "the client closed the connection after the +OK to STLS without a TLS handshake");
    /* A line or multi-line answer cut off is the closing side's fault only
     * if it closed first, while its peer was still there: not when the
     * peer had gone (an aborted download) or the capture just ended. */
    if (s->closed[other] || s->c->finishing)
        return;
    if (dir == MC_DIR_C2S) {
        struct mc_pop3_cmd_ev ev;
        while (mc_pop3_cmd_finish(&s->cmd, &ev) == MC_EVENT) {
            if (ev.type == MC_POP3_CMD_SASL)
                on_sasl(s, &ev);
            else
                on_command(s, &ev);
        }
    } else {
        struct mc_pop3_resp_ev ev;
        while (mc_pop3_resp_finish(&s->resp, &ev) == MC_EVENT)
            on_resp(s, &ev);
    }
}

static bool pop3_in_tls(const void *p)
{
    const struct pop3 *s = p;
    return s->tls.state != MC_TLS_NONE && s->tls.state != MC_TLS_MAYBE;
}

static void pop3_release(void *p)
{
    struct pop3 *s = p;
    clear_deleted(s);
    forget_uids(s);
}

const struct mc_proto_ops mc_pop3_ops = {
    .proto = MC_PROTO_POP3,
    .size = sizeof(struct pop3),
    .init = pop3_init,
    .data = pop3_data,
    .tls = pop3_tls,
    .gap = pop3_gap,
    .close = pop3_close,
    .in_tls = pop3_in_tls,
    .release = pop3_release,
};
