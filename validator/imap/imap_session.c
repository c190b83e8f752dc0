/*
 * IMAP session validation, first version: RFC 3501 / RFC 9051 states (not
 * authenticated, authenticated, selected, logout) and the greeting, tag
 * correlation of commands and their tagged completions, command
 * continuation requests ("+") for synchronizing literals, AUTHENTICATE
 * and IDLE (RFC 2177), capabilities from CAPABILITY responses and codes
 * (LOGINDISABLED, LITERAL+ / LITERAL- of RFC 7888), STARTTLS (RFC 2595
 * s3.1, RFC 9051 s6.2.1) through the shared TLS switch, and the message
 * count kept by EXISTS and EXPUNGE.
 *
 * IMAP commands run concurrently: a tagged completion answers the
 * outstanding command of its tag, not the oldest one. The state is the
 * server's (it changes with tagged OK completions); a client command is
 * judged against it only when no command that may change it is
 * outstanding, since otherwise the client could not know it either.
 *
 * The session drives the command parser from the server's responses: a
 * "+" releases a synchronizing literal (mc_imap_cmd_literal_go), a tagged
 * NO/BAD with the tag of no complete command refuses it; a "+" to
 * AUTHENTICATE switches SASL mode on, to IDLE IDLE mode.
 */
#include "session/session.h"
#include "session/tls_switch.h"
#include "imap/imap_cmd.h"
#include "imap/imap_resp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Outstanding commands tracked; more are not correlated (bounded). */
#define IMAP_PENDING_MAX 64
#define IMAP_TAG_KEEP 64

enum istate { ST_GREETING, ST_NOTAUTH, ST_AUTH, ST_SELECTED, ST_LOGOUT };

struct pending {
    char tag[IMAP_TAG_KEEP];
    size_t tag_len;
    enum mc_imap_verb verb;
    bool uid;
    bool injected;       /* sent in plaintext behind STARTTLS */
    bool continued;      /* AUTHENTICATE / IDLE: a "+" came */
    unsigned lit_owed;   /* synchronizing literals whose "+" has not come (the
                            client sent their data early) */
    bool utf8_enable;    /* ENABLE naming UTF8=ACCEPT */
    bool cancelled;      /* AUTHENTICATE: the client sent "*" */
    uint64_t off;
    char excerpt[MC_EXCERPT_MAX];
};

struct caps {
    bool rev, starttls, logindisabled, literal_plus, literal_minus;
};

struct imap {
    struct mc_session_ctx *c;
    struct mc_imap_cmd cmd;
    struct mc_imap_resp resp;
    enum istate state;
    struct mc_tls tls;        /* tagged OK to STARTTLS: MC_TLS_STARTING */
    bool tls_active;
    bool closed[2];

    struct pending q[IMAP_PENDING_MAX];
    unsigned q_len;           /* outstanding commands, oldest first */
    struct pending injected[8];
    unsigned n_injected;

    struct caps caps;
    bool caps_known;          /* a capability list arrived since the greeting or TLS */
    bool utf8_accept;         /* ENABLE UTF8=ACCEPT succeeded */

    bool c_in_cmd;            /* a command announced a literal and is not complete */
    bool lit_waiting;         /* ... a synchronizing one that waits for "+" */
    unsigned lit_owed;        /* its synchronizing literals whose "+" has not come */
    char done_tag[IMAP_TAG_KEEP];   /* completed before the command itself was */
    size_t done_tag_len;
    bool awaiting_starttls;
    bool bye;                 /* the server sent BYE */
    bool bye_logout;          /* ... while a LOGOUT was outstanding */

    uint64_t exists;          /* message count of the selected mailbox */
    bool exists_known;

    bool c_resync, s_resync;
};

/* ---- helpers ------------------------------------------------------------- */

static void emit_line(struct imap *s, enum mc_rule r, uint64_t off, const struct mc_span *line,
                      const struct mc_span *secret, const char *msg)
{
    mc__emit_line(s->c, r, off, line, secret, msg);
}

static void map_anoms(struct imap *s, const struct mc_anoms *a, enum mc_side side,
                      const struct mc_span *line, const struct mc_span *secret)
{
    for (unsigned i = 0; i < a->n; i++) {
        enum mc_anom code = (enum mc_anom)a->hit[i].code;
        /* RFC 6855 s3: 8-bit quoted strings are fine after ENABLE UTF8=ACCEPT */
        if (code == MC_ANOM_IMAP_CMD_QUOTED_8BIT && s->utf8_accept)
            continue;
        mc__emit_anom(s->c, MC_PROTO_IMAP, side, &a->hit[i], line, secret);
    }
}

static bool span_is(const struct mc_span *sp, const char *lit)
{
    size_t n = strlen(lit);
    return sp->len == n && strncasecmp((const char *)sp->ptr, lit, n) == 0;
}

static bool tag_is(const struct pending *pd, const struct mc_span *tag)
{
    size_t n = tag->len < IMAP_TAG_KEEP - 1 ? tag->len : IMAP_TAG_KEEP - 1;
    return pd->tag_len == n && (n == 0 || memcmp(pd->tag, tag->ptr, n) == 0);
}

static size_t keep_tag(char *out, const struct mc_span *tag)
{
    size_t n = tag->len < IMAP_TAG_KEEP - 1 ? tag->len : IMAP_TAG_KEEP - 1;
    if (n > 0)
        memcpy(out, tag->ptr, n);
    out[n] = '\0';
    return n;
}

static int find_pending(const struct imap *s, const struct mc_span *tag)
{
    for (unsigned i = 0; i < s->q_len; i++)
        if (tag_is(&s->q[i], tag))
            return (int)i;
    return -1;
}

static struct pending remove_pending(struct imap *s, unsigned i)
{
    struct pending pd = s->q[i];
    memmove(&s->q[i], &s->q[i + 1], (s->q_len - i - 1) * sizeof(s->q[0]));
    s->q_len--;
    return pd;
}

static const struct pending *find_verb(const struct imap *s, enum mc_imap_verb v, bool uid)
{
    for (unsigned i = 0; i < s->q_len; i++)
        if (s->q[i].verb == v && s->q[i].uid == uid && !s->q[i].injected)
            return &s->q[i];
    return NULL;
}

/* Commands whose completion may change the state. */
static bool state_changing(enum mc_imap_verb v)
{
    switch (v) {
    case MC_IMAP_LOGIN:
    case MC_IMAP_AUTHENTICATE:
    case MC_IMAP_SELECT:
    case MC_IMAP_EXAMINE:
    case MC_IMAP_CLOSE:
    case MC_IMAP_UNSELECT:
    case MC_IMAP_LOGOUT:
    case MC_IMAP_STARTTLS:
        return true;
    default:
        return false;
    }
}

static unsigned state_bit(enum istate st)
{
    switch (st) {
    case ST_NOTAUTH: return MC_IMAP_ST_NOTAUTH;
    case ST_AUTH: return MC_IMAP_ST_AUTH;
    case ST_SELECTED: return MC_IMAP_ST_SELECTED;
    default: return 0;
    }
}

static const char *state_name(enum istate st)
{
    static const char *const n[] = {"greeting", "not authenticated", "authenticated", "selected",
                                    "logout"};
    return n[st];
}

static bool text_has(const uint8_t *p, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++)
        if (strncasecmp((const char *)p + i, word, w) == 0 &&
            (i == 0 || p[i - 1] == ' ' || p[i - 1] == '(') &&
            (i + w == n || p[i + w] == ' ' || p[i + w] == ')'))
            return true;
    return false;
}

static void imap_init(void *p, struct mc_session_ctx *c)
{
    struct imap *s = p;
    memset(s, 0, sizeof(*s));
    s->c = c;
    mc_imap_cmd_init(&s->cmd);
    mc_imap_resp_init(&s->resp);
    s->state = ST_GREETING;
}

/* A capability list (CAPABILITY response or [CAPABILITY ...] code). */
static void set_caps(struct imap *s, const struct mc_span *list, const struct mc_span *line)
{
    const uint8_t *p = list->ptr;
    size_t n = list->len, i = 0;
    memset(&s->caps, 0, sizeof(s->caps));
    s->caps_known = true;
    while (i < n) {
        size_t st = i;
        struct mc_span w;
        while (i < n && p[i] != ' ')
            i++;
        w = (struct mc_span){p + st, i - st, list->off + st};
        if (span_is(&w, "IMAP4rev1") || span_is(&w, "IMAP4rev2"))
            s->caps.rev = true;
        else if (span_is(&w, "STARTTLS")) {
            s->caps.starttls = true;
            if (s->tls_active)
                emit_line(s, MC_R_IMAP_STARTTLS_ADVERTISED_IN_TLS, w.off, line, NULL, NULL);
        } else if (span_is(&w, "LOGINDISABLED"))
            s->caps.logindisabled = true;
        else if (span_is(&w, "LITERAL+"))
            s->caps.literal_plus = true;
        else if (span_is(&w, "LITERAL-"))
            s->caps.literal_minus = true;
        i++;
    }
    /* RFC 7888 s5: never both */
    if (s->caps.literal_plus && s->caps.literal_minus)
        emit_line(s, MC_R_IMAP_CAPABILITY_LITERAL_BOTH, list->off, line, NULL, NULL);
}

/* ---- client side ----------------------------------------------------------- */

static void on_command(struct imap *s, const struct mc_imap_cmd_ev *ev)
{
    const struct mc_span *L = &ev->text, *sec = &ev->secret;
    const struct mc_imap_verb_info *vi = mc_imap_verb_info(ev->verb);
    struct pending pd;
    bool unsure = false;

    unsigned owed = s->lit_owed;
    s->c_in_cmd = false;
    s->lit_waiting = false;
    s->lit_owed = 0;
    map_anoms(s, &ev->anoms, MC_SIDE_CLIENT, L, sec);
    if (ev->tag.len == 0 || mc_anoms_has(&ev->anoms, MC_ANOM_IMAP_CMD_TAG_SYNTAX))
        return;   /* nothing to correlate (reported as syntax) */
    if (ev->refused)
        return;   /* its completion refused the literal and came already */
    if (s->done_tag_len && ev->tag.len == s->done_tag_len &&
        memcmp(ev->tag.ptr, s->done_tag, s->done_tag_len) == 0) {
        s->done_tag_len = 0;
        return;   /* completed while its literal was still arriving */
    }

    memset(&pd, 0, sizeof(pd));
    pd.tag_len = keep_tag(pd.tag, &ev->tag);
    pd.verb = ev->verb;
    pd.uid = ev->uid;
    pd.lit_owed = owed;
    pd.off = L->off;
    mc_excerpt(pd.excerpt, L->ptr, L->len, L->off, sec->off, sec->len);
    if (ev->verb == MC_IMAP_ENABLE && text_has(L->ptr, L->len, "UTF8=ACCEPT"))
        pd.utf8_enable = true;

    if (s->awaiting_starttls || s->tls.state == MC_TLS_STARTING) {
        /* RFC 2595 s3.1: nothing after STARTTLS until the response and the
         * TLS negotiation (CVE-2011-0411 style injection) */
        pd.injected = true;
        emit_line(s, MC_R_IMAP_STARTTLS_CMD_INJECTION, L->off, L, sec,
                  s->awaiting_starttls
                      ? "command sent behind STARTTLS before the server's response and the TLS negotiation"
                      : "plaintext command where the TLS negotiation must start");
    }
    if (find_pending(s, &ev->tag) >= 0)
        emit_line(s, MC_R_IMAP_TAG_REUSED, ev->tag.off, L, sec, NULL);

    for (unsigned i = 0; i < s->q_len; i++)
        if (state_changing(s->q[i].verb))
            unsure = true;
    if (!pd.injected && !unsure && !s->c_resync && ev->verb != MC_IMAP_UNKNOWN &&
        state_bit(s->state) && !(vi->states & state_bit(s->state))) {
        char msg[MC_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s is not valid in the %s state", vi->name,
                 state_name(s->state));
        emit_line(s, MC_R_IMAP_CMD_WRONG_STATE, ev->name.off, L, sec, msg);
    }
    if (ev->verb == MC_IMAP_LOGIN && s->caps.logindisabled && !pd.injected)
        emit_line(s, MC_R_IMAP_LOGIN_DISABLED, ev->name.off, L, sec, NULL);
    if (ev->nlit_nonsync > 0 && !pd.injected && !s->c_resync) {
        if (!s->caps.literal_plus && !s->caps.literal_minus)
            emit_line(s, MC_R_IMAP_LITERAL_NONSYNC_UNADVERTISED, L->off, L, sec, NULL);
        else if (s->caps.literal_minus && !s->caps.literal_plus &&
                 ev->nonsync_max > MC_IMAP_CMD_LITERAL_MINUS_MAX) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "non-synchronizing literal of %llu octets under LITERAL-",
                     (unsigned long long)ev->nonsync_max);
            emit_line(s, MC_R_IMAP_LITERAL_MINUS_TOO_BIG, L->off, L, sec, msg);
        }
    }
    if (ev->verb == MC_IMAP_STARTTLS && !pd.injected)
        s->awaiting_starttls = true;
    if (ev->unterminated)
        return;   /* cut off: no completion is due */
    if (s->q_len < IMAP_PENDING_MAX)
        s->q[s->q_len++] = pd;
}

static void on_client_event(struct imap *s, const struct mc_imap_cmd_ev *ev)
{
    switch (ev->type) {
    case MC_IMAP_CMD_COMMAND:
        on_command(s, ev);
        break;
    case MC_IMAP_CMD_LITERAL_WAIT:
        s->c_in_cmd = true;
        s->lit_waiting = ev->lit.sync;
        if (ev->lit.sync)
            s->lit_owed++;
        break;
    case MC_IMAP_CMD_LITERAL:
        s->c_in_cmd = true;
        break;
    case MC_IMAP_CMD_SASL:
        map_anoms(s, &ev->anoms, MC_SIDE_CLIENT, &ev->text, &ev->secret);
        if (ev->cancel)
            for (unsigned i = 0; i < s->q_len; i++)
                if (s->q[i].verb == MC_IMAP_AUTHENTICATE && s->q[i].continued)
                    s->q[i].cancelled = true;
        break;
    case MC_IMAP_CMD_DONE:
        map_anoms(s, &ev->anoms, MC_SIDE_CLIENT, &ev->text, &ev->secret);
        break;
    }
}

/* ---- server side ------------------------------------------------------------ */

static void on_greeting(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    if (ev->kind == MC_IMAP_KIND_STATE && ev->status == MC_IMAP_STATUS_OK) {
        s->state = ST_NOTAUTH;
    } else if (ev->kind == MC_IMAP_KIND_PREAUTH) {
        s->state = ST_AUTH;
        if (!s->tls_active)
            emit_line(s, MC_R_IMAP_PREAUTH_CLEARTEXT, ev->start, &ev->text, NULL, NULL);
    } else if (ev->kind == MC_IMAP_KIND_BYE) {
        s->state = ST_LOGOUT;
        s->bye = true;
    } else {
        emit_line(s, MC_R_IMAP_GREETING_INVALID, ev->start, &ev->text, NULL, NULL);
        s->state = ST_NOTAUTH;
    }
}

static void complete(struct imap *s, const struct pending *pd, const struct mc_imap_resp_ev *ev)
{
    bool ok = ev->status == MC_IMAP_STATUS_OK;
    const struct mc_imap_verb_info *vi = mc_imap_verb_info(pd->verb);
    unsigned bit = state_bit(s->state);

    if (pd->verb == MC_IMAP_AUTHENTICATE) {
        mc_imap_cmd_expect_sasl(&s->cmd, false);
        /* RFC 3501 s6.2.2: a cancelled exchange gets a tagged BAD */
        if (pd->cancelled && ev->status != MC_IMAP_STATUS_BAD)
            emit_line(s, MC_R_IMAP_AUTH_CANCEL_ACCEPTED, ev->start, &ev->text, NULL, NULL);
    }
    if (pd->verb == MC_IMAP_LOGIN && ok && s->caps.logindisabled && !pd->injected)
        emit_line(s, MC_R_IMAP_LOGIN_DISABLED_ACCEPTED, ev->start, &ev->text, NULL, NULL);
    if (pd->verb == MC_IMAP_STARTTLS)
        s->awaiting_starttls = false;
    if (ok && pd->verb != MC_IMAP_UNKNOWN && bit && !(vi->states & bit)) {
        char msg[MC_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "OK to %s in the %s state", vi->name, state_name(s->state));
        emit_line(s, MC_R_IMAP_OK_IN_WRONG_STATE, ev->start, &ev->text, NULL, msg);
        return;
    }
    switch (pd->verb) {
    case MC_IMAP_LOGIN:
    case MC_IMAP_AUTHENTICATE:
        if (ok)
            s->state = ST_AUTH;
        break;
    case MC_IMAP_SELECT:
    case MC_IMAP_EXAMINE:
        /* RFC 3501 s6.3.1: a failed SELECT leaves no mailbox selected */
        s->state = ok ? ST_SELECTED : ST_AUTH;
        if (!ok)
            s->exists_known = false;
        break;
    case MC_IMAP_CLOSE:
    case MC_IMAP_UNSELECT:
        if (ok) {
            s->state = ST_AUTH;
            s->exists_known = false;
        }
        break;
    case MC_IMAP_LOGOUT:
        if (ok) {
            if (!s->bye)
                emit_line(s, MC_R_IMAP_LOGOUT_NO_BYE, ev->start, &ev->text, NULL, NULL);
            s->state = ST_LOGOUT;
        }
        break;
    case MC_IMAP_STARTTLS:
        if (ok)
            s->tls.state = MC_TLS_STARTING;
        break;
    case MC_IMAP_ENABLE:
        if (ok && pd->utf8_enable)
            s->utf8_accept = true;
        break;
    default:
        break;
    }
}

/* A response after the OK to STARTTLS, where the TLS negotiation must
 * start: it answers an injected command, or is injected itself. */
static void on_injected_response(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    int i = ev->kind == MC_IMAP_KIND_TAGGED ? find_pending(s, &ev->tag) : -1;
    if (i >= 0 && s->q[i].injected) {
        (void)remove_pending(s, (unsigned)i);
        emit_line(s, MC_R_IMAP_STARTTLS_INJECTION_ANSWERED, ev->start, &ev->text, NULL,
                  "plaintext completion of a command pipelined behind STARTTLS");
        return;
    }
    emit_line(s, MC_R_IMAP_STARTTLS_RESPONSE_INJECTION, ev->start, &ev->text, NULL,
              "plaintext after the OK to STARTTLS where the TLS negotiation must start");
}

static void on_tagged(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    int i = ev->tag.len > 0 ? find_pending(s, &ev->tag) : -1;
    if (i < 0) {
        if (ev->tag.len == 0)
            return;   /* unreadable: reported as syntax */
        if (s->c_in_cmd) {
            /* the command still arriving (its literal) is completed */
            if (!(s->lit_waiting && ev->status != MC_IMAP_STATUS_OK &&
                  mc_imap_cmd_literal_refused(&s->cmd)))
                s->done_tag_len = keep_tag(s->done_tag, &ev->tag);
            s->lit_waiting = false;
            return;
        }
        for (unsigned k = 0; k < s->n_injected; k++) {
            if (tag_is(&s->injected[k], &ev->tag)) {
                memmove(&s->injected[k], &s->injected[k + 1],
                        (--s->n_injected - k) * sizeof(s->injected[0]));
                emit_line(s, MC_R_IMAP_STARTTLS_INJECTION_ANSWERED, ev->start, &ev->text, NULL,
                          "the server completed a command the client sent in plaintext behind STARTTLS");
                return;
            }
        }
        if (!s->c_resync && !s->s_resync)
            emit_line(s, MC_R_IMAP_TAG_UNKNOWN, ev->start, &ev->text, NULL, NULL);
        return;
    }
    {
        struct pending pd = remove_pending(s, (unsigned)i);
        complete(s, &pd, ev);
    }
}

static void on_continuation(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    if (s->lit_owed > 0) {
        /* the literal being announced (or one whose data came early) */
        s->lit_owed--;
        if (s->lit_waiting && mc_imap_cmd_literal_waiting(&s->cmd))
            mc_imap_cmd_literal_go(&s->cmd);
        s->lit_waiting = false;
        return;
    }
    for (unsigned i = 0; i < s->q_len; i++) {
        if (s->q[i].lit_owed > 0 && !s->q[i].injected) {
            s->q[i].lit_owed--;   /* late "+" for literal data sent early */
            return;
        }
    }
    for (unsigned i = 0; i < s->q_len; i++) {
        struct pending *pd = &s->q[i];
        if (pd->injected)
            continue;
        if (pd->verb == MC_IMAP_AUTHENTICATE) {
            pd->continued = true;
            mc_imap_cmd_expect_sasl(&s->cmd, true);
            return;
        }
        if (pd->verb == MC_IMAP_IDLE && !pd->continued) {
            pd->continued = true;
            mc_imap_cmd_expect_idle(&s->cmd);
            return;
        }
    }
    if (!s->c_resync && !s->s_resync)
        emit_line(s, MC_R_IMAP_CONT_UNEXPECTED, ev->start, &ev->text, NULL, NULL);
}

static bool fetch_has_uid(const struct mc_imap_resp_ev *ev)
{
    const uint8_t *p = ev->text.ptr;
    size_t n = ev->text.len;
    unsigned depth = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (quoted) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                quoted = false;
            continue;
        }
        if (ch == '"')
            quoted = true;
        else if (ch == '(' || ch == '[')
            depth++;
        else if (ch == ')' || ch == ']')
            depth--;
        else if (depth == 1 && (p[i - 1] == '(' || p[i - 1] == ' ') && i + 4 <= n &&
                 strncasecmp((const char *)p + i, "UID ", 4) == 0)
            return true;
    }
    return false;
}

static void on_expunge(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    bool in_progress = s->q_len > 0 || s->c_in_cmd;
    if (!in_progress && !s->c_resync && !s->s_resync) {
        emit_line(s, MC_R_IMAP_EXPUNGE_NO_COMMAND, ev->start, &ev->text, NULL, NULL);
    } else {
        static const enum mc_imap_verb seq_verbs[] = {MC_IMAP_FETCH, MC_IMAP_STORE, MC_IMAP_SEARCH};
        for (unsigned k = 0; k < 3; k++) {
            const struct pending *pd = find_verb(s, seq_verbs[k], false);
            if (pd) {
                char msg[MC_MESSAGE_MAX];
                snprintf(msg, sizeof(msg), "untagged EXPUNGE while %s (tag %s) is in progress",
                         mc_imap_verb_name(pd->verb), pd->tag);
                emit_line(s, MC_R_IMAP_EXPUNGE_DURING_FETCH, ev->start, &ev->text, NULL, msg);
                break;
            }
        }
    }
    if (s->exists_known && ev->has_number) {
        if (ev->number > s->exists) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "EXPUNGE of message %llu, but the mailbox holds %llu",
                     (unsigned long long)ev->number, (unsigned long long)s->exists);
            emit_line(s, MC_R_IMAP_EXPUNGE_OUT_OF_RANGE, ev->start, &ev->text, NULL, msg);
        } else if (s->exists > 0) {
            s->exists--;
        }
    }
}

static void on_response(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    if (ev->type != MC_IMAP_RESP_RESPONSE)
        return;   /* literal data: not looked into */
    if (s->tls.state == MC_TLS_STARTING) {
        on_injected_response(s, ev);
        return;
    }
    if (s->s_resync && ev->kind == MC_IMAP_KIND_INVALID)
        return;   /* the rest of a response whose start fell into a gap */
    s->s_resync = false;
    map_anoms(s, &ev->anoms, MC_SIDE_SERVER, &ev->text, NULL);
    if (span_is(&ev->code, "CAPABILITY"))
        set_caps(s, &ev->code_arg, &ev->text);
    if (s->state == ST_GREETING) {
        on_greeting(s, ev);
        return;
    }
    switch (ev->kind) {
    case MC_IMAP_KIND_TAGGED:
        on_tagged(s, ev);
        break;
    case MC_IMAP_KIND_CONTINUATION:
        on_continuation(s, ev);
        break;
    case MC_IMAP_KIND_BYE:
        s->bye = true;
        if (find_verb(s, MC_IMAP_LOGOUT, false))
            s->bye_logout = true;
        break;
    case MC_IMAP_KIND_CAPABILITY:
        if (ev->literals == 0)
            set_caps(s, &ev->text, &ev->text);
        break;
    case MC_IMAP_KIND_EXISTS:
        if (ev->has_number) {
            s->exists = ev->number;
            s->exists_known = true;
        }
        break;
    case MC_IMAP_KIND_EXPUNGE:
        on_expunge(s, ev);
        break;
    case MC_IMAP_KIND_FETCH:
        /* RFC 3501 s6.4.8: FETCH responses caused by a UID command include
         * UID; judged while only UID FETCH / UID STORE are outstanding */
        if (ev->literals == 0 && ev->text.len < MC_LINE_KEEP &&
            (find_verb(s, MC_IMAP_FETCH, true) || find_verb(s, MC_IMAP_STORE, true)) &&
            !find_verb(s, MC_IMAP_FETCH, false) && !find_verb(s, MC_IMAP_STORE, false) &&
            !find_verb(s, MC_IMAP_NOOP, false) && !find_verb(s, MC_IMAP_IDLE, false) &&
            !fetch_has_uid(ev))
            emit_line(s, MC_R_IMAP_FETCH_UID_MISSING, ev->start, &ev->text, NULL, NULL);
        break;
    default:
        break;
    }
}

/* ---- plumbing ---------------------------------------------------------------- */

static void drop_injected(struct imap *s)
{
    for (unsigned i = 0; i < s->q_len;) {
        if (s->q[i].injected) {
            struct pending pd = remove_pending(s, i);
            if (s->n_injected < sizeof(s->injected) / sizeof(s->injected[0]))
                s->injected[s->n_injected++] = pd;
        } else {
            i++;
        }
    }
}

/* TLS runs from here on: capabilities learned before it are void
 * (RFC 2595 s3.1, RFC 9051 s6.2.1). */
static void tls_reset(struct imap *s)
{
    s->tls_active = true;
    s->awaiting_starttls = false;
    drop_injected(s);
    memset(&s->caps, 0, sizeof(s->caps));
    s->caps_known = false;
}

static void skip(void *p, enum mc_dir dir, uint64_t n)
{
    struct imap *s = p;
    if (dir == MC_DIR_C2S)
        mc_imap_cmd_gap(&s->cmd, n);
    else
        mc_imap_resp_gap(&s->resp, n);
}

static size_t feed_one(void *p, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct imap *s = p;
    size_t used = 0;
    if (dir == MC_DIR_C2S) {
        struct mc_imap_cmd_ev ev;
        if (mc_imap_cmd_feed(&s->cmd, buf, len, &used, &ev) == MC_EVENT)
            on_client_event(s, &ev);
    } else {
        struct mc_imap_resp_ev ev;
        if (mc_imap_resp_feed(&s->resp, buf, len, &used, &ev) == MC_EVENT)
            on_response(s, &ev);
    }
    return used;
}

static bool event_due(const void *p, enum mc_dir dir)
{
    const struct imap *s = p;
    return dir == MC_DIR_C2S && mc_imap_cmd_has_event(&s->cmd);
}

static bool at_line_start(const void *p, enum mc_dir dir)
{
    const struct imap *s = p;
    return dir == MC_DIR_C2S ? !s->c_in_cmd && !mc_imap_cmd_partial(&s->cmd)
                             : !mc_imap_resp_partial(&s->resp);
}

static bool resyncing(const void *p, enum mc_dir dir)
{
    const struct imap *s = p;
    return dir == MC_DIR_C2S ? mc_imap_cmd_resyncing(&s->cmd) : mc_imap_resp_resyncing(&s->resp);
}

static void went_opaque(void *p, enum mc_dir dir)
{
    struct imap *s = p;
    if (!s->tls_active)
        tls_reset(s);
    if (dir == MC_DIR_S2C)
        drop_injected(s);
}

static const struct mc_tls_ops tls_ops = {
    .feed_one = feed_one,
    .event_due = event_due,
    .at_line_start = at_line_start,
    .resyncing = resyncing,
    .skip = skip,
    .went_opaque = went_opaque,
};

static void imap_data(void *p, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct imap *s = p;
    mc_tls_data(&s->tls, &tls_ops, s, dir, buf, len);
}

static void imap_tls(void *p, bool decrypted)
{
    struct imap *s = p;
    /* the recording says TLS runs: a STARTTLS still outstanding was
     * answered with OK, whatever the responses seen said */
    for (unsigned i = 0; i < s->q_len; i++) {
        if (s->q[i].verb == MC_IMAP_STARTTLS && !s->q[i].injected) {
            (void)remove_pending(s, i);
            break;
        }
    }
    tls_reset(s);
    s->tls.state = decrypted ? MC_TLS_PLAIN : MC_TLS_OPAQUE;
}

static void imap_gap(void *p, enum mc_dir dir, uint64_t n)
{
    struct imap *s = p;
    skip(s, dir, n);
    if (s->tls.state == MC_TLS_STARTING && !s->tls.opaque[dir]) {
        mc_tls_go_opaque(&s->tls, &tls_ops, s, dir);
        return;
    }
    if (dir == MC_DIR_C2S) {
        s->c_resync = true;
        s->c_in_cmd = s->lit_waiting = false;
        s->lit_owed = 0;
        return;
    }
    /* completions may be lost: what is outstanding and the message count
     * are unknown */
    s->s_resync = true;
    s->q_len = 0;
    s->exists_known = false;
    if (s->state == ST_GREETING)
        s->state = ST_NOTAUTH;
}

static void imap_close(void *p, enum mc_dir dir)
{
    struct imap *s = p;
    enum mc_dir other = dir == MC_DIR_C2S ? MC_DIR_S2C : MC_DIR_C2S;
    s->closed[dir] = true;
    if (s->tls.state == MC_TLS_OPAQUE || s->closed[other] || s->c->finishing)
        return;
    if (dir == MC_DIR_C2S) {
        struct mc_imap_cmd_ev ev;
        while (mc_imap_cmd_finish(&s->cmd, &ev) == MC_EVENT)
            on_client_event(s, &ev);
        return;
    }
    {
        struct mc_imap_resp_ev ev;
        while (mc_imap_resp_finish(&s->resp, &ev) == MC_EVENT)
            on_response(s, &ev);
    }
    /* the server closed while the client was there: every command is
     * owed its completion (RFC 3501 s2.2.2), unless a BYE announced the
     * close; LOGOUT's own OK follows its BYE (s6.1.3) */
    if (s->bye && !s->bye_logout)
        return;
    for (unsigned i = 0; i < s->q_len; i++) {
        const struct pending *pd = &s->q[i];
        if (pd->injected)
            continue;
        mc__emit(s->c, MC_R_IMAP_CMD_NO_COMPLETION, s->c->pos[MC_DIR_S2C], pd->excerpt,
                 "the server closed the connection without completing %s (tag %s)",
                 mc_imap_verb_name(pd->verb), pd->tag);
    }
}

static bool imap_in_tls(const void *p)
{
    const struct imap *s = p;
    return s->tls.state != MC_TLS_NONE;
}

const struct mc_proto_ops mc_imap_ops = {
    .proto = MC_PROTO_IMAP,
    .size = sizeof(struct imap),
    .init = imap_init,
    .data = imap_data,
    .tls = imap_tls,
    .gap = imap_gap,
    .close = imap_close,
    .in_tls = imap_in_tls,
};
