/*
 * IMAP session validation: RFC 3501 / RFC 9051 states (not authenticated,
 * authenticated, selected, logout) and the greeting, tag correlation of
 * commands and their tagged completions, the untagged responses a command
 * requires before its OK, command continuation requests ("+") for
 * synchronizing literals, AUTHENTICATE and IDLE (RFC 2177), capabilities
 * from CAPABILITY responses and codes (LOGINDISABLED, LITERAL+ / LITERAL-
 * of RFC 7888, IDLE), ENABLE and ENABLED (RFC 5161), ID (RFC 2971),
 * STARTTLS (RFC 2595 s3.1, RFC 9051 s6.2.1) through the shared TLS switch,
 * and the version profile. The selected mailbox is imap_mailbox.c's.
 *
 * Versions: RFC 2060, RFC 3501 (IMAP4rev1) and RFC 9051 (IMAP4rev2) differ
 * in what SELECT must report, in commands IMAP4rev2 removed (CHECK) or
 * deprecated (LSUB), extensions it folded in (IDLE needs no capability),
 * unsolicited FETCH carrying UID, and empty resp-text. The profile is
 * IMAP4rev2 when the server announces only IMAP4rev2 or the client
 * enabled it (RFC 9051 s6.3.1), IMAP4rev1 otherwise; RFC 2060 cannot be
 * told from IMAP4rev1 on the wire, so it is only chosen by the user
 * (--imap-version, '@ imap-version').
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
#include "imap_internal.h"
#include "imap_scan.h"
#include "session/fnv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- helpers ------------------------------------------------------------- */

/* Server findings quote the whole response line, not only the part of it
 * the check looked at ("S: * 2 FETCH (UID 40)", not "S: (UID 40)"). */
static const struct mc_span *excerpt_of(const struct imap *s, const struct mc_span *line)
{
    const struct mc_span *r = &s->resp_line;
    if (line && r->len && line->ptr >= r->ptr && line->ptr + line->len <= r->ptr + r->len)
        return r;
    return line;
}

static void emit_line(struct imap *s, enum mc_rule r, uint64_t off, const struct mc_span *line,
                      const struct mc_span *secret, const char *msg)
{
    mc__emit_line(s->c, r, off, excerpt_of(s, line), secret, msg);
}

void imap_emit(struct imap *s, enum mc_rule r, uint64_t off, const struct mc_span *line,
               const char *msg)
{
    mc__emit_line(s->c, r, off, excerpt_of(s, line), NULL, msg);
}

/* The response's line from its tag to the end of its text, when the parser
 * kept it in one piece (no literal); else empty. */
static struct mc_span whole_line(const struct mc_imap_resp_ev *ev)
{
    const uint8_t *a = ev->tag.ptr, *e;
    if (ev->literals || !a || !ev->text.ptr || ev->text.len == 0 || ev->text.ptr < a)
        return (struct mc_span){NULL, 0, 0};
    e = ev->text.ptr + ev->text.len;
    if ((size_t)(e - a) > MC_LINE_KEEP)
        return (struct mc_span){NULL, 0, 0};
    return (struct mc_span){a, (size_t)(e - a), ev->start};
}

unsigned imap_profile(const struct imap *s)
{
    if (s->profile_forced)
        return s->profile_forced;
    /* RFC 9051 s1: a server that announces only IMAP4rev2 speaks it; one
     * that announces both speaks IMAP4rev1 until ENABLE IMAP4rev2 */
    return s->rev2_only || s->rev2_enabled ? 9051 : 3501;
}

static void map_anoms(struct imap *s, const struct mc_anoms *a, enum mc_side side,
                      const struct mc_span *line, const struct mc_span *secret)
{
    for (unsigned i = 0; i < a->n; i++) {
        enum mc_anom code = (enum mc_anom)a->hit[i].code;
        /* RFC 6855 s3: 8-bit quoted strings are fine after ENABLE UTF8=ACCEPT */
        if (code == MC_ANOM_IMAP_CMD_QUOTED_8BIT && s->utf8_accept)
            continue;
        /* RFC 9051 Appendix E item 23: resp-text may be empty in IMAP4rev2 */
        if (code == MC_ANOM_IMAP_TEXT_MISSING && imap_profile(s) == 9051)
            continue;
        mc__emit_anom(s->c, MC_PROTO_IMAP, side, &a->hit[i], excerpt_of(s, line), secret);
    }
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

const struct pending *imap_find_verb(const struct imap *s, enum mc_imap_verb v, bool uid)
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
    s->tls.ctx = c;   /* a decrypting caller takes over TLS records (tls_switch.h) */
    mc_imap_cmd_init(&s->cmd);
    mc_imap_resp_init(&s->resp);
    s->state = ST_GREETING;
}

/* A capability list (CAPABILITY response or [CAPABILITY ...] code).
 * in_completion: it came in a tagged completion (typically the OK of LOGIN
 * or AUTHENTICATE, which describes the session after it). */
static void set_caps(struct imap *s, const struct mc_span *list, const struct mc_span *line,
                     bool in_completion)
{
    const uint8_t *p = list->ptr;
    size_t n = list->len, i = 0;
    uint64_t digest = mc_imap_caps_digest(p, n);
    memset(&s->caps, 0, sizeof(s->caps));
    /* RFC 5161 s3.1: ENABLE leaves the list as it was */
    if (s->caps_known && s->enabled_since_caps && digest != s->caps_digest)
        emit_line(s, MC_R_IMAP_CAPABILITY_CHANGED_BY_ENABLE, list->off, line, NULL,
                  "the capability list after ENABLE differs from the one before it");
    s->caps_known = true;
    s->caps_digest = digest;
    s->enabled_since_caps = false;
    s->caps_refresh_due = false;
    while (i < n) {
        size_t st = i;
        struct mc_span w;
        while (i < n && p[i] != ' ')
            i++;
        w = (struct mc_span){p + st, i - st, list->off + st};
        if (span_is(&w, "IMAP4rev1"))
            s->caps.rev1 = true;
        else if (span_is(&w, "IMAP4rev2"))
            s->caps.rev2 = true;
        else if (span_is(&w, "IDLE"))
            s->caps.idle = true;
        else if (span_is(&w, "STARTTLS")) {
            s->caps.starttls = true;
            if (s->tls_active)
                emit_line(s, MC_R_IMAP_STARTTLS_ADVERTISED_IN_TLS, w.off, line, NULL, NULL);
        } else if (span_is(&w, "LOGINDISABLED")) {
            s->caps.logindisabled = true;
            /* only before authentication: once logged in, LOGIN is
             * rightly disabled (Cyrus says so in the OK of LOGIN) */
            if (s->tls_active && s->state == ST_NOTAUTH && !in_completion)
                emit_line(s, MC_R_IMAP_LOGINDISABLED_IN_TLS, w.off, line, NULL, NULL);
        }
        else if (span_is(&w, "LITERAL+"))
            s->caps.literal_plus = true;
        else if (span_is(&w, "LITERAL-"))
            s->caps.literal_minus = true;
        i++;
    }
    s->rev2_only = s->caps.rev2 && !s->caps.rev1;
    /* RFC 7888 s5: never both */
    if (s->caps.literal_plus && s->caps.literal_minus)
        emit_line(s, MC_R_IMAP_CAPABILITY_LITERAL_BOTH, list->off, line, NULL, NULL);
}

/* ---- client side ----------------------------------------------------------- */

/* The names ENABLE commands in progress asked for (RFC 5161 s3.2: what
 * ENABLED may list), joined; cleared when none is outstanding. */
static void remember_enable(struct imap *s, const struct mc_span *L)
{
    size_t room, n;
    if (!imap_find_verb(s, MC_IMAP_ENABLE, false))
        s->enable_req_len = 0;
    room = IMAP_ENABLE_KEEP - s->enable_req_len;
    n = L->len + 1 < room ? L->len : (room > 0 ? room - 1 : 0);
    if (n == 0)
        return;
    memcpy(s->enable_req + s->enable_req_len, L->ptr, n);
    s->enable_req_len += n;
    s->enable_req[s->enable_req_len++] = ' ';
}

/* The secret as a span of the kept text. The text joins a command's line
 * segments (a literal shows as its "{n}"), so its octets are not contiguous
 * in the stream: the parser's offset of the secret does not say where it
 * sits in the text, its pointer does. Excerpts redact by offset from the
 * text's start. */
static struct mc_span secret_in_text(const struct mc_imap_cmd_ev *ev)
{
    struct mc_span sec = ev->secret;
    const uint8_t *t = ev->text.ptr;
    if (sec.len > 0 && sec.ptr >= t && sec.ptr + sec.len <= t + ev->text.len)
        sec.off = ev->text.off + (uint64_t)(sec.ptr - t);
    return sec;
}

/* The arguments of a command kept whole: after the name and SP. */
static bool command_args(const struct mc_imap_cmd_ev *ev, const uint8_t **p, size_t *n)
{
    const uint8_t *end = ev->text.ptr + ev->text.len;
    const uint8_t *a = ev->name.ptr + ev->name.len + 1;
    if (ev->truncated || ev->unterminated || ev->nlit > 0 || ev->name.len == 0 ||
        ev->name.ptr < ev->text.ptr || a > end)
        return false;
    *p = a;
    *n = (size_t)(end - a);
    return true;
}

/* Rules on what the client may send, given what the server said: the
 * extensions advertised, the version spoken, the mailbox selected. */
static void check_command(struct imap *s, const struct mc_imap_cmd_ev *ev, struct pending *pd)
{
    const struct mc_span sec_text = secret_in_text(ev);
    const struct mc_span *L = &ev->text, *sec = &sec_text;
    unsigned prof = imap_profile(s);
    const uint8_t *args;
    size_t nargs;
    char msg[MC_MESSAGE_MAX];

    /* RFC 3501 s6.2.1: after STARTTLS, CAPABILITY again before relying on it */
    if (s->caps_refresh_due && ev->verb != MC_IMAP_CAPABILITY && ev->verb != MC_IMAP_LOGOUT)
        emit_line(s, MC_R_IMAP_CAPABILITY_NOT_REFRESHED, ev->name.off, L, sec, NULL);
    s->caps_refresh_due = false;

    switch (ev->verb) {
    case MC_IMAP_IDLE:
        /* RFC 2177 s3; IDLE is part of IMAP4rev2 (RFC 9051 Appendix E) */
        if (s->caps_known && !s->caps.idle && prof != 9051)
            emit_line(s, MC_R_IMAP_IDLE_UNADVERTISED, ev->name.off, L, sec, NULL);
        break;
    case MC_IMAP_ENABLE:
        /* in the selected state IMAP_CMD_WRONG_STATE says it already */
        if (s->mb.ever_selected && s->state != ST_SELECTED)
            emit_line(s, MC_R_IMAP_ENABLE_AFTER_SELECT, ev->name.off, L, sec, NULL);
        break;
    case MC_IMAP_CHECK:
        if (prof == 9051)
            emit_line(s, MC_R_IMAP_CHECK_IN_REV2, ev->name.off, L, sec, NULL);
        break;
    case MC_IMAP_LSUB:
        if (prof == 9051)
            emit_line(s, MC_R_IMAP_LSUB_IN_REV2, ev->name.off, L, sec, NULL);
        break;
    case MC_IMAP_SELECT:
    case MC_IMAP_EXAMINE:
        mbox_select_sent(s, pd, ev);
        break;
    case MC_IMAP_STATUS:
        mbox_status_sent(s, ev);
        break;
    case MC_IMAP_ID:
        if (command_args(ev, &args, &nargs) &&
            mc_imap_id_limits(args, nargs, msg, sizeof(msg)))
            emit_line(s, MC_R_IMAP_ID_CMD_LIMITS, ev->name.off, L, sec, msg);
        break;
    default:
        break;
    }
}

/* The mechanism AUTHENTICATE names (its first argument); len 0: none. */
static struct mc_span auth_mechanism(const struct mc_imap_cmd_ev *ev)
{
    struct mc_span m = {NULL, 0, 0};
    const uint8_t *end = ev->text.ptr + ev->text.len;
    const uint8_t *a = ev->name.ptr + ev->name.len;
    if (ev->name.len == 0 || ev->name.ptr < ev->text.ptr || a >= end || *a != ' ')
        return m;
    m.ptr = ++a;
    m.off = ev->name.off + ev->name.len + 1;
    while (a < end && *a != ' ')
        a++;
    m.len = (size_t)(a - m.ptr);
    return m;
}

/* Credentials outside TLS (RFC 8314 s5.2): a password in the clear (LOGIN,
 * AUTHENTICATE PLAIN or LOGIN) where STARTTLS was on offer or accepted; any
 * credentials (password-derived SASL too) after STARTTLS was refused or a
 * cleartext PREAUTH ruled it out. Mechanisms that carry no secret an
 * eavesdropper could use (EXTERNAL, ANONYMOUS, GSSAPI, GS2-KRB5) are
 * not credentials here. Commands injected behind STARTTLS count: the
 * password went over the wire all the same. */
static void check_credentials(struct imap *s, const struct mc_imap_cmd_ev *ev,
                              const struct mc_span *L, const struct mc_span *sec)
{
    bool password = ev->verb == MC_IMAP_LOGIN;
    if (s->tls_active || (ev->verb != MC_IMAP_LOGIN && ev->verb != MC_IMAP_AUTHENTICATE))
        return;
    if (ev->verb == MC_IMAP_AUTHENTICATE) {
        struct mc_span m = auth_mechanism(ev);
        if (m.len == 0 || span_is(&m, "EXTERNAL") || span_is(&m, "ANONYMOUS") ||
            span_is(&m, "GSSAPI") || span_is(&m, "GS2-KRB5"))
            return;
        password = span_is(&m, "PLAIN") || span_is(&m, "LOGIN");
    }
    if (s->starttls_refused || s->preauth_clear) {
        if (!s->said_refused_credentials) {
            s->said_refused_credentials = true;
            emit_line(s, MC_R_IMAP_STARTTLS_REFUSED_CREDENTIALS, L->off, L, sec,
                      s->starttls_refused
                          ? "credentials in the clear after the server refused STARTTLS"
                          : "credentials in the clear after a PREAUTH greeting without TLS "
                            "(which rules STARTTLS out)");
        }
    } else if (password && !s->said_cleartext &&
               !(ev->verb == MC_IMAP_LOGIN && s->caps.logindisabled) &&   /* IMAP.LOGIN.DISABLED */
               (s->caps.starttls || s->tls.state == MC_TLS_STARTING)) {
        s->said_cleartext = true;
        emit_line(s, MC_R_IMAP_CLEARTEXT_PASSWORD, L->off, L, sec,
                  s->tls.state == MC_TLS_STARTING
                      ? "password in the clear after the OK to STARTTLS, where the TLS negotiation must start"
                      : NULL);
    }
}

/* The tag as kept (keep_tag's length), hashed */
static uint32_t tag_hash(const struct mc_span *tag)
{
    size_t n = tag->len < IMAP_TAG_KEEP - 1 ? tag->len : IMAP_TAG_KEEP - 1;
    return (uint32_t)mc_fnv1a(MC_FNV_OFFSET, tag->ptr, n);
}

/* A command that could not be queued (IMAP_PENDING_MAX outstanding): its
 * completion will not be judged, and what it changes is not known. */
static void untracked(struct imap *s, const struct mc_imap_cmd_ev *ev)
{
    if (s->n_untracked < IMAP_UNTRACKED_KEEP)
        s->untracked[s->n_untracked++] = tag_hash(&ev->tag);
    else
        s->untracked_uncounted++;
    if (state_changing(ev->verb))
        s->state_unsure = true;
}

/* The completion of an untracked command (forgotten: true) */
static bool forget_untracked(struct imap *s, const struct mc_span *tag)
{
    uint32_t h = tag_hash(tag);
    for (unsigned i = 0; i < s->n_untracked; i++) {
        if (s->untracked[i] == h) {
            s->untracked[i] = s->untracked[--s->n_untracked];
            return true;
        }
    }
    if (s->untracked_uncounted) {   /* may be one of those beyond the kept tags */
        s->untracked_uncounted--;
        return true;
    }
    return false;
}

static void on_command(struct imap *s, const struct mc_imap_cmd_ev *ev)
{
    const struct mc_span sec_text = secret_in_text(ev);
    const struct mc_span *L = &ev->text, *sec = &sec_text;
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
    if (ev->verb == MC_IMAP_ENABLE) {
        pd.utf8_enable = text_has(L->ptr, L->len, "UTF8=ACCEPT");
        pd.rev2_enable = text_has(L->ptr, L->len, "IMAP4rev2");
        remember_enable(s, L);
    }
    /* RFC 9051 s6.4.4: RETURN (SAVE) alone suppresses the result response */
    if (ev->verb == MC_IMAP_SEARCH && text_has(L->ptr, L->len, "(SAVE)"))
        pd.search_save = true;

    if ((s->awaiting_starttls && s->tls.state != MC_TLS_MAYBE) || s->tls.state == MC_TLS_STARTING) {
        /* RFC 2595 s3.1: nothing after STARTTLS until the response and the
         * TLS negotiation (CVE-2011-0411 style injection) */
        pd.injected = true;
        emit_line(s, MC_R_IMAP_STARTTLS_CMD_INJECTION, L->off, L, sec,
                  s->awaiting_starttls
                      ? "command sent behind STARTTLS before the server's response and the TLS negotiation"
                      : "plaintext command where the TLS negotiation must start");
    }
    check_credentials(s, ev, L, sec);
    if (s->inj_tag_len > 0 && s->tls.state == MC_TLS_PLAIN && !s->said_injected_used) {
        /* RFC 9051 s6.2.1: what came before TLS is void */
        for (unsigned i = 0; i < s->q_len; i++) {
            if (!s->q[i].injected && s->q[i].tag_len == s->inj_tag_len &&
                memcmp(s->q[i].tag, s->inj_tag, s->inj_tag_len) == 0) {
                char msg[MC_MESSAGE_MAX];
                s->said_injected_used = true;
                (void)snprintf(msg, sizeof(msg), "sent before the completion of %.24s inside "
                               "TLS: the client took the completion injected after the OK to "
                               "STARTTLS for it", s->inj_tag);
                emit_line(s, MC_R_IMAP_STARTTLS_INJECTED_RESPONSE_USED, L->off, L, sec, msg);
                break;
            }
        }
    }
    {
        int k = find_pending(s, &ev->tag);
        if (k >= 0 && s->q[k].gap)
            (void)remove_pending(s, (unsigned)k);   /* its completion fell into a gap */
        else if (k >= 0)
            emit_line(s, MC_R_IMAP_TAG_REUSED, ev->tag.off, L, sec, NULL);
    }

    for (unsigned i = 0; i < s->q_len; i++)
        if (state_changing(s->q[i].verb))
            unsure = true;
    if (!pd.injected && !unsure && !s->c_resync && !s->state_unsure && ev->verb != MC_IMAP_UNKNOWN &&
        state_bit(s->state) && !(vi->states & state_bit(s->state))) {
        char msg[MC_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s is not valid in the %s state", vi->name,
                 state_name(s->state));
        emit_line(s, MC_R_IMAP_CMD_WRONG_STATE, ev->name.off, L, sec, msg);
    }
    pd.login_disabled = s->caps.logindisabled;
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
    if (!pd.injected && !s->c_resync)
        check_command(s, ev, &pd);
    if (ev->verb == MC_IMAP_STARTTLS && !pd.injected)
        s->awaiting_starttls = true;
    /* Until its completion, client lines belong to the AUTHENTICATE
     * exchange (RFC 3501 s6.2.2), even when sent before the first "+":
     * they carry credentials and must never be read as commands. */
    if (ev->verb == MC_IMAP_AUTHENTICATE && !pd.injected && !ev->unterminated)
        mc_imap_cmd_expect_sasl(&s->cmd, true);
    if (ev->unterminated)
        return;   /* cut off: no completion is due */
    if (s->q_len == s->q_cap && s->q_cap < IMAP_PENDING_MAX) {
        unsigned cap = s->q_cap ? s->q_cap * 2 : 4;
        struct pending *q;
        if (cap > IMAP_PENDING_MAX)
            cap = IMAP_PENDING_MAX;
        q = realloc(s->q, cap * sizeof(*q));
        if (!q) {   /* its completion would be taken for an unknown tag */
            mc__out_of_memory(s->c);
            return;
        }
        s->q = q;
        s->q_cap = cap;
    }
    if (s->q_len < s->q_cap)
        s->q[s->q_len++] = pd;
    else
        untracked(s, ev);
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
        if (!s->tls_active) {
            s->preauth_clear = true;
            emit_line(s, MC_R_IMAP_PREAUTH_CLEARTEXT, ev->start, &ev->text, NULL, NULL);
        }
    } else if (ev->kind == MC_IMAP_KIND_BYE) {
        s->state = ST_LOGOUT;
        s->bye = true;
    } else {
        emit_line(s, MC_R_IMAP_GREETING_INVALID, ev->start, &ev->text, NULL, NULL);
        s->state = ST_NOTAUTH;
    }
}

/* The untagged responses a command requires before its OK. */
static void check_required(struct imap *s, const struct pending *pd,
                           const struct mc_imap_resp_ev *ev)
{
    static const struct {
        enum mc_imap_verb verb;
        unsigned seen;
        enum mc_rule rule;
        const char *what;
    } req[] = {
        {MC_IMAP_CAPABILITY, SEEN_CAPABILITY, MC_R_IMAP_CAPABILITY_NO_RESPONSE, "CAPABILITY"},
        {MC_IMAP_SEARCH, SEEN_SEARCH, MC_R_IMAP_SEARCH_NO_RESPONSE, "SEARCH or ESEARCH"},
        {MC_IMAP_STATUS, SEEN_STATUS, MC_R_IMAP_STATUS_NO_RESPONSE, "STATUS"},
        {MC_IMAP_NAMESPACE, SEEN_NAMESPACE, MC_R_IMAP_NAMESPACE_NO_RESPONSE, "NAMESPACE"},
        {MC_IMAP_ENABLE, SEEN_ENABLED, MC_R_IMAP_ENABLE_NO_RESPONSE, "ENABLED"},
    };
    if (pd->injected)
        return;
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        if (req[i].verb == pd->verb && !(pd->seen & req[i].seen) && !pd->search_save) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "OK to %s%s (tag %s) without an untagged %s response",
                     pd->uid ? "UID " : "", mc_imap_verb_name(pd->verb), pd->tag, req[i].what);
            emit_line(s, req[i].rule, ev->start, &ev->text, NULL, msg);
        }
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
    /* an extension command this checker does not know is the client's
     * fault only if the server did not know it either (RFC 3501 s7.1.3) */
    if (pd->verb == MC_IMAP_UNKNOWN && ev->status == MC_IMAP_STATUS_BAD && !pd->injected)
        mc__emit(s->c, MC_R_IMAP_CMD_UNKNOWN, pd->off, pd->excerpt,
                 "tag %s: a command the server answered with BAD", pd->tag);
    /* judged by what was advertised when LOGIN was sent: the OK's own
     * [CAPABILITY] describes the session after it (and rightly lists
     * LOGINDISABLED once logged in) */
    if (pd->verb == MC_IMAP_LOGIN && ok && pd->login_disabled && !pd->injected)
        emit_line(s, MC_R_IMAP_LOGIN_DISABLED_ACCEPTED, ev->start, &ev->text, NULL, NULL);
    if (pd->verb == MC_IMAP_STARTTLS) {
        s->awaiting_starttls = false;
        if (!s->tls_active && !pd->gap)
            s->starttls_refused = !ok;
        if (s->tls.state == MC_TLS_MAYBE)
            s->tls.state = MC_TLS_NONE;   /* its answer came after all */
    }
    if (pd->verb == MC_IMAP_IDLE && mc_imap_cmd_in_idle(&s->cmd))
        mc_imap_cmd_end_idle(&s->cmd);   /* its DONE fell into a client gap */
    if (state_changing(pd->verb) && !pd->gap)
        s->state_unsure = false;   /* the state is known again from here */
    if (ok && pd->verb != MC_IMAP_UNKNOWN && bit && !(vi->states & bit) && !s->c_resync &&
        !s->state_unsure) {
        char msg[MC_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "OK to %s in the %s state", vi->name, state_name(s->state));
        emit_line(s, MC_R_IMAP_OK_IN_WRONG_STATE, ev->start, &ev->text, NULL, msg);
        return;
    }
    if (ok && !pd->gap)
        check_required(s, pd, ev);
    switch (pd->verb) {
    case MC_IMAP_LOGIN:
    case MC_IMAP_AUTHENTICATE:
        if (ok) {
            s->state = ST_AUTH;
            s->enabled_since_caps = false;
            /* RFC 9051 s7.2.2: servers commonly change the list after
             * authentication; unless the OK carries it, it is unknown */
            if (!span_is(&ev->code, "CAPABILITY"))
                s->caps_known = false;
        }
        break;
    case MC_IMAP_SELECT:
    case MC_IMAP_EXAMINE:
        /* RFC 3501 s6.3.1: a failed SELECT leaves no mailbox selected */
        s->state = ok ? ST_SELECTED : ST_AUTH;
        mbox_select_done(s, pd, ev);
        break;
    case MC_IMAP_CLOSE:
    case MC_IMAP_UNSELECT:
        if (ok) {
            s->state = ST_AUTH;
            mbox_deselect(s);
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
        if (ok && s->tls_active)
            emit_line(s, MC_R_IMAP_STARTTLS_OK_IN_TLS, ev->start, &ev->text, NULL, NULL);
        else if (ok)
            s->tls.state = MC_TLS_STARTING;
        break;
    case MC_IMAP_ENABLE:
        if (ok && pd->utf8_enable)
            s->utf8_accept = true;
        if (ok && s->caps_known)
            s->enabled_since_caps = true;
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
    bool injected_open = s->n_injected > 0;
    if (i >= 0 && s->q[i].injected) {
        (void)remove_pending(s, (unsigned)i);
        emit_line(s, MC_R_IMAP_STARTTLS_INJECTION_ANSWERED, ev->start, &ev->text, NULL,
                  "plaintext completion of a command pipelined behind STARTTLS");
        return;
    }
    for (unsigned k = 0; ev->kind == MC_IMAP_KIND_TAGGED && k < s->n_injected; k++) {
        if (tag_is(&s->injected[k], &ev->tag)) {
            /* the client's handshake began first (its commands were set
             * aside then); the server still completes one in plaintext */
            memmove(&s->injected[k], &s->injected[k + 1],
                    (--s->n_injected - k) * sizeof(s->injected[0]));
            emit_line(s, MC_R_IMAP_STARTTLS_INJECTION_ANSWERED, ev->start, &ev->text, NULL,
                      "plaintext completion of a command pipelined behind STARTTLS");
            return;
        }
    }
    for (unsigned k = 0; k < s->q_len; k++)
        injected_open = injected_open || s->q[k].injected;
    if (ev->kind != MC_IMAP_KIND_TAGGED && injected_open)
        return;   /* data of the injected command's answer; its completion is reported */
    emit_line(s, MC_R_IMAP_STARTTLS_RESPONSE_INJECTION, ev->start, &ev->text, NULL,
              "plaintext after the OK to STARTTLS where the TLS negotiation must start");
    if (ev->kind == MC_IMAP_KIND_TAGGED && ev->tag.len > 0) {
        s->inj_tag_len = ev->tag.len < IMAP_TAG_KEEP - 1 ? ev->tag.len : IMAP_TAG_KEEP - 1;
        memcpy(s->inj_tag, ev->tag.ptr, s->inj_tag_len);
        s->inj_tag[s->inj_tag_len] = '\0';
    }
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
        if (forget_untracked(s, &ev->tag))
            return;   /* a command pipelined beyond IMAP_PENDING_MAX: not judged */
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

/* Records, for every command in progress, the untagged data it received
 * (what SELECT, CAPABILITY, SEARCH, ... must send before their OK). */
static void mark_seen(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    static const struct {
        enum mc_imap_resp_kind kind;
        unsigned bit;
    } kinds[] = {
        {MC_IMAP_KIND_CAPABILITY, SEEN_CAPABILITY}, {MC_IMAP_KIND_SEARCH, SEEN_SEARCH},
        {MC_IMAP_KIND_STATUS, SEEN_STATUS},         {MC_IMAP_KIND_NAMESPACE, SEEN_NAMESPACE},
        {MC_IMAP_KIND_ENABLED, SEEN_ENABLED},       {MC_IMAP_KIND_FLAGS, SEEN_FLAGS},
        {MC_IMAP_KIND_EXISTS, SEEN_EXISTS},         {MC_IMAP_KIND_RECENT, SEEN_RECENT},
        {MC_IMAP_KIND_LIST, SEEN_LIST},             {MC_IMAP_KIND_FETCH, SEEN_FETCH},
    };
    static const struct {
        const char *code;
        unsigned bit;
    } codes[] = {
        {"UIDVALIDITY", SEEN_UIDVALIDITY},
        {"UIDNEXT", SEEN_UIDNEXT},
        {"PERMANENTFLAGS", SEEN_PERMANENTFLAGS},
        {"CLOSED", SEEN_CLOSED},
    };
    unsigned bits = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (ev->kind == kinds[i].kind)
            bits |= kinds[i].bit;
    if (ev->kind == MC_IMAP_KIND_OTHER && span_is(&ev->name, "ESEARCH"))
        bits |= SEEN_SEARCH;   /* RFC 4731; the only form in IMAP4rev2 */
    if (ev->kind == MC_IMAP_KIND_STATE && ev->code.len > 0)
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
            if (span_is(&ev->code, codes[i].code))
                bits |= codes[i].bit;
    if (bits == 0)
        return;
    for (unsigned i = 0; i < s->q_len; i++)
        s->q[i].seen |= bits;
}

static bool enable_requested(const struct imap *s, const uint8_t *w, size_t n)
{
    const uint8_t *req = (const uint8_t *)s->enable_req;
    if (mc_imap_list_has(req, s->enable_req_len, w, n))
        return true;
    /* RFC 7162 s3.2.3: "ENABLE QRESYNC" enables CONDSTORE as well */
    return n == 9 && strncasecmp((const char *)w, "CONDSTORE", 9) == 0 &&
           mc_imap_list_has(req, s->enable_req_len, (const uint8_t *)"QRESYNC", 7);
}

/* RFC 5161 s3.2: ENABLED answers an ENABLE and lists what it asked for. */
static void on_enabled(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    const uint8_t *p = ev->text.ptr;
    size_t n = ev->text.len, i = 0;
    if (!imap_find_verb(s, MC_IMAP_ENABLE, false)) {
        if (!s->c_resync && !s->s_resync)
            emit_line(s, MC_R_IMAP_ENABLED_UNSOLICITED, ev->start, &ev->text, NULL, NULL);
        return;
    }
    while (i < n) {
        size_t st = i;
        while (i < n && p[i] != ' ')
            i++;
        if (i > st && !enable_requested(s, p + st, i - st)) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "ENABLED lists %.*s, which the ENABLE did not name",
                     (int)(i - st), (const char *)p + st);
            emit_line(s, MC_R_IMAP_ENABLED_NOT_REQUESTED, ev->text.off + st, &ev->text, NULL, msg);
        } else if (i - st == 9 && strncasecmp((const char *)p + st, "IMAP4rev2", 9) == 0) {
            s->rev2_enabled = true;   /* RFC 9051 s6.3.1 */
        }
        i++;
    }
}

static void on_response(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    if (ev->type != MC_IMAP_RESP_RESPONSE)
        return;   /* literal data: not looked into */
    s->resp_line = whole_line(ev);
    if (s->tls.state == MC_TLS_STARTING) {
        on_injected_response(s, ev);
        return;
    }
    if (s->s_resync && ev->kind == MC_IMAP_KIND_INVALID)
        return;   /* the rest of a response whose start fell into a gap */
    s->s_resync = false;
    map_anoms(s, &ev->anoms, MC_SIDE_SERVER, &ev->text, NULL);
    mark_seen(s, ev);
    if (span_is(&ev->code, "CAPABILITY"))
        set_caps(s, &ev->code_arg, &ev->text, ev->kind == MC_IMAP_KIND_TAGGED);
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
        if (imap_find_verb(s, MC_IMAP_LOGOUT, false))
            s->bye_logout = true;
        break;
    case MC_IMAP_KIND_CAPABILITY:
        if (ev->literals == 0)
            set_caps(s, &ev->text, &ev->text, false);
        break;
    case MC_IMAP_KIND_ENABLED:
        on_enabled(s, ev);
        break;
    case MC_IMAP_KIND_ID:
        if (ev->literals == 0 && ev->text.len < MC_LINE_KEEP) {
            char msg[MC_MESSAGE_MAX];
            if (mc_imap_id_limits(ev->text.ptr, ev->text.len, msg, sizeof(msg)))
                emit_line(s, MC_R_IMAP_ID_RESP_LIMITS, ev->start, &ev->text, NULL, msg);
        }
        break;
    default:
        break;
    }
    mbox_on_response(s, ev);
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
    /* after STARTTLS (not on an implicit-TLS connection) the client owes a
     * new CAPABILITY (RFC 3501 s6.2.1) */
    s->caps_refresh_due = !s->tls_active && (s->awaiting_starttls || s->tls.state == MC_TLS_STARTING);
    s->enabled_since_caps = false;
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

/* The answer to STARTTLS was lost in a gap; the next octets told whether
 * TLS started (tls_switch.h, MC_TLS_MAYBE). */
static void maybe_settled(void *p, bool tls)
{
    struct imap *s = p;
    s->awaiting_starttls = false;
    if (!tls)
        return;
    for (unsigned i = 0; i < s->q_len; i++) {
        if (s->q[i].verb == MC_IMAP_STARTTLS && !s->q[i].injected) {
            (void)remove_pending(s, i);
            break;
        }
    }
}

static const struct mc_tls_ops tls_ops = {
    .feed_one = feed_one,
    .event_due = event_due,
    .at_line_start = at_line_start,
    .resyncing = resyncing,
    .skip = skip,
    .went_opaque = went_opaque,
    .maybe_settled = maybe_settled,
};

static void imap_data(void *p, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct imap *s = p;
    mc_tls_data(&s->tls, &tls_ops, s, dir, buf, len);
}

static void imap_tls(void *p, bool decrypted)
{
    struct imap *s = p;
    /* TLS records after the OK (the relay marks the first one): each
     * direction turns to records when its own first record comes
     * (tls_switch.h), so a plaintext response after the client's
     * ClientHello is still seen, as it is in a capture */
    if (!decrypted && s->tls.state == MC_TLS_STARTING)
        return;
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

/* A server gap may have hidden a continuation request: the client, which
 * may have seen it, is not blamed for going on (a literal's data, DONE, a
 * SASL response). */
static void assume_continuation(struct imap *s)
{
    if (s->lit_waiting && mc_imap_cmd_literal_waiting(&s->cmd)) {
        mc_imap_cmd_literal_go(&s->cmd);
        s->lit_waiting = false;
        if (s->lit_owed > 0)
            s->lit_owed--;
    }
    for (unsigned i = 0; i < s->q_len; i++) {
        struct pending *pd = &s->q[i];
        if (pd->verb == MC_IMAP_IDLE && !pd->continued && !pd->injected) {
            pd->continued = true;
            mc_imap_cmd_expect_idle(&s->cmd);
        }
    }
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
        s->caps_refresh_due = false;   /* the first command may be in the gap */
        s->c_in_cmd = s->lit_waiting = false;
        s->lit_owed = 0;
        return;
    }
    /* untagged data and completions may be lost: the commands outstanding
     * stay (their completions may still come) but are not judged on what
     * they received, nor owed a completion; the message count is unknown */
    s->s_resync = true;
    for (unsigned i = 0; i < s->q_len; i++) {
        s->q[i].gap = true;
        if (state_changing(s->q[i].verb))
            s->state_unsure = true;
    }
    assume_continuation(s);
    if (s->awaiting_starttls && s->tls.state == MC_TLS_NONE)
        s->tls.state = MC_TLS_MAYBE;
    mbox_lost(s);
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
    if (dir == MC_DIR_C2S && s->tls.state == MC_TLS_STARTING && !s->tls.opaque[MC_DIR_C2S])
        mc__emit(s->c, MC_R_IMAP_STARTTLS_NO_HANDSHAKE, s->c->pos[MC_DIR_C2S], NULL,
                 "the client closed the connection after the OK to STARTTLS without a TLS handshake");
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
        if (pd->injected || pd->gap)
            continue;
        mc__emit(s->c, MC_R_IMAP_CMD_NO_COMPLETION, s->c->pos[MC_DIR_S2C], pd->excerpt,
                 "the server closed the connection without completing %s (tag %s)",
                 mc_imap_verb_name(pd->verb), pd->tag);
    }
}

static void imap_set_version(void *p, unsigned rfc)
{
    struct imap *s = p;
    s->profile_forced = rfc;
}

static bool imap_in_tls(const void *p)
{
    const struct imap *s = p;
    return s->tls.state != MC_TLS_NONE && s->tls.state != MC_TLS_MAYBE;
}

static void imap_release(void *p)
{
    struct imap *s = p;
    free(s->q);
    s->q = NULL;
    s->q_len = s->q_cap = 0;
}

const struct mc_proto_ops mc_imap_ops = {
    .proto = MC_PROTO_IMAP,
    .size = sizeof(struct imap),
    .init = imap_init,
    .release = imap_release,
    .data = imap_data,
    .tls = imap_tls,
    .gap = imap_gap,
    .close = imap_close,
    .in_tls = imap_in_tls,
    .set_version = imap_set_version,
};
