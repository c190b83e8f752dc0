/*
 * The selected mailbox as the server reports it (RFC 3501 s2.3.1, s5.2,
 * s6.3.1-2, s7.3-7.4; RFC 9051 where IMAP4rev2 differs; RFC 7162 VANISHED;
 * RFC 4315 COPYUID/APPENDUID): the message count kept by EXISTS and
 * EXPUNGE, sequence numbers within it, UIDs ascending with sequence
 * numbers and below UIDNEXT, what SELECT and EXAMINE must report, and when
 * EXPUNGE and VANISHED may be sent.
 *
 * Everything here is judged only while it is known: a server gap, a new
 * SELECT or a failed one forgets the mailbox (mbox_lost), so nothing is
 * blamed on data that was not seen.
 */
#include "imap_internal.h"
#include "imap_scan.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The text of a data response was kept whole (no literal, not cut). */
static bool text_whole(const struct mc_imap_resp_ev *ev)
{
    return ev->literals == 0 && ev->text.len < MC_LINE_KEEP;
}

static bool code_number(const struct mc_imap_resp_ev *ev, uint64_t *v)
{
    const uint8_t *p = ev->code_arg.ptr;
    size_t n = ev->code_arg.len;
    uint64_t x = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    *v = x;
    return true;
}

static void keep_name(char *out, size_t *out_len, const struct mc_span *sp)
{
    size_t n = sp->len < IMAP_MAILBOX_KEEP - 1 ? sp->len : IMAP_MAILBOX_KEEP - 1;
    if (n > 0)
        memcpy(out, sp->ptr, n);
    out[n] = '\0';
    *out_len = n;
}

static void out_of_range(struct imap *s, const struct mc_imap_resp_ev *ev, enum mc_rule r,
                         const char *what, uint64_t v)
{
    char msg[MC_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), "%s %llu, but the mailbox holds %llu messages", what,
             (unsigned long long)v, (unsigned long long)s->mb.exists);
    imap_emit(s, r, ev->start, &ev->text, msg);
}

void mbox_lost(struct imap *s)
{
    struct mbox *m = &s->mb;
    m->exists_known = m->uidnext_known = m->uidvalidity_known = false;
    m->pair_known = m->grew = false;
}

/* ---- SELECT / EXAMINE / CLOSE / STATUS ------------------------------------ */

bool mbox_switching(const struct imap *s)
{
    return imap_find_verb(s, MC_IMAP_SELECT, false) || imap_find_verb(s, MC_IMAP_EXAMINE, false);
}

/* Until a SELECT completes, data may still describe the mailbox selected
 * before (pipelined commands, or updates the server pushes while the
 * SELECT is on its way): values are recorded, nothing is compared. */
void mbox_select_sent(struct imap *s, struct pending *pd, const struct mc_imap_cmd_ev *ev)
{
    (void)s;
    pd->inbox = ev->inbox;
    keep_name(pd->mailbox, &pd->mailbox_len, &ev->mailbox);
}

static void require(struct imap *s, const struct pending *pd, const struct mc_imap_resp_ev *ev,
                    unsigned bit, enum mc_rule r, const char *what)
{
    char msg[MC_MESSAGE_MAX];
    if (pd->seen & bit)
        return;
    snprintf(msg, sizeof(msg), "OK to %s (tag %s) without %s", mc_imap_verb_name(pd->verb),
             pd->tag, what);
    imap_emit(s, r, ev->start, &ev->text, msg);
}

/* What SELECT and EXAMINE must report before their OK (per version). */
static void select_requirements(struct imap *s, const struct pending *pd,
                                const struct mc_imap_resp_ev *ev)
{
    unsigned prof = imap_profile(s);
    require(s, pd, ev, SEEN_FLAGS, MC_R_IMAP_SELECT_NO_FLAGS, "an untagged FLAGS response");
    require(s, pd, ev, SEEN_EXISTS, MC_R_IMAP_SELECT_NO_EXISTS, "an untagged EXISTS response");
    require(s, pd, ev, SEEN_UIDVALIDITY, MC_R_IMAP_SELECT_NO_UIDVALIDITY, "OK [UIDVALIDITY n]");
    if (prof != 9051)   /* RFC 9051 Appendix E item 12: RECENT deprecated */
        require(s, pd, ev, SEEN_RECENT, MC_R_IMAP_SELECT_NO_RECENT, "an untagged RECENT response");
    if (prof != 2060) {  /* RFC 2060 s6.3.1 made both optional */
        require(s, pd, ev, SEEN_UIDNEXT, MC_R_IMAP_SELECT_NO_UIDNEXT, "OK [UIDNEXT n]");
        require(s, pd, ev, SEEN_PERMANENTFLAGS, MC_R_IMAP_SELECT_NO_PERMANENTFLAGS,
                "OK [PERMANENTFLAGS (...)]");
    }
    if (prof == 9051) {
        require(s, pd, ev, SEEN_LIST, MC_R_IMAP_SELECT_NO_LIST, "a LIST response for the mailbox");
        if (s->mb.selected)   /* as the server ran it, after what came before */
            require(s, pd, ev, SEEN_CLOSED, MC_R_IMAP_SELECT_NO_CLOSED,
                    "OK [CLOSED] for the mailbox it deselected");
    }
}

void mbox_select_done(struct imap *s, const struct pending *pd, const struct mc_imap_resp_ev *ev)
{
    struct mbox *m = &s->mb;
    bool recent = m->recent_switching_known, unseen = m->unseen_switching_known;
    m->pair_known = m->grew = m->recent_switching_known = m->unseen_switching_known = false;
    if (ev->status != MC_IMAP_STATUS_OK) {
        /* RFC 3501 s6.3.1: a failed SELECT leaves no mailbox selected */
        m->selected = false;
        mbox_lost(s);
        return;
    }
    if (!pd->gap)   /* what it reported may have been lost */
        select_requirements(s, pd, ev);
    /* RECENT while selecting is judged against the count the SELECT ends
     * with: the last EXISTS before the OK is the new mailbox's */
    if (m->exists_known && !mbox_switching(s)) {
        if (recent && m->recent_switching > m->exists)
            out_of_range(s, ev, MC_R_IMAP_RECENT_ABOVE_EXISTS, "RECENT while selecting was",
                         m->recent_switching);
        if (unseen && m->unseen_switching > m->exists)
            out_of_range(s, ev, MC_R_IMAP_UNSEEN_OUT_OF_RANGE, "UNSEEN while selecting named message",
                         m->unseen_switching);
    }
    /* RFC 3501 s6.3.2 */
    if (pd->verb == MC_IMAP_EXAMINE && !span_is(&ev->code, "READ-ONLY"))
        imap_emit(s, MC_R_IMAP_EXAMINE_NOT_READ_ONLY, ev->start, &ev->text, NULL);
    m->selected = m->ever_selected = true;
    memcpy(m->name, pd->mailbox, pd->mailbox_len + 1);
    m->name_len = pd->mailbox_len;
    m->inbox = pd->inbox;
    if (mbox_switching(s))
        mbox_lost(s);   /* another SELECT follows: its data is not this one's */
}

void mbox_deselect(struct imap *s)
{
    s->mb.selected = false;
    mbox_lost(s);
}

/* A mailbox name as written, without the quotes of a quoted string;
 * false for a literal ("{n}": its name is not in the text). */
static bool bare_name(const uint8_t *p, size_t n, const uint8_t **out, size_t *out_len)
{
    if (n == 0 || p[0] == '{' || (n > 1 && p[0] == '~' && p[1] == '{'))
        return false;
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        p++;
        n -= 2;
    }
    *out = p;
    *out_len = n;
    return true;
}

/* RFC 3501 s6.3.10, RFC 9051 s6.3.11: STATUS is for other mailboxes than
 * the selected one */
void mbox_status_sent(struct imap *s, const struct mc_imap_cmd_ev *ev)
{
    const struct mbox *m = &s->mb;
    const uint8_t *a, *b;
    size_t an, bn;
    bool same;
    if (!m->selected || mbox_switching(s) || imap_find_verb(s, MC_IMAP_CLOSE, false) ||
        imap_find_verb(s, MC_IMAP_UNSELECT, false))
        return;   /* which mailbox is selected when STATUS runs is not known */
    if (m->inbox || ev->inbox) {
        same = m->inbox && ev->inbox;
    } else {
        if (!bare_name(ev->mailbox.ptr, ev->mailbox.len, &a, &an) ||
            !bare_name((const uint8_t *)m->name, m->name_len, &b, &bn))
            return;
        same = an == bn && memcmp(a, b, an) == 0;
    }
    if (same)
        imap_emit(s, MC_R_IMAP_STATUS_SELECTED_MAILBOX, ev->mailbox.off, &ev->text, NULL);
}

/* ---- message data ---------------------------------------------------------- */

static bool in_progress(const struct imap *s)
{
    return s->q_len > 0 || s->c_in_cmd;
}

/* RFC 3501 s7.4.1 (EXPUNGE), RFC 7162 s3.2.10 (VANISHED): not when no
 * command is in progress, nor while responding to FETCH, STORE or SEARCH
 * (their UID forms are different commands). */
static void check_turn(struct imap *s, const struct mc_imap_resp_ev *ev, enum mc_rule no_cmd,
                       enum mc_rule during, const char *what)
{
    static const enum mc_imap_verb seq_verbs[] = {MC_IMAP_FETCH, MC_IMAP_STORE, MC_IMAP_SEARCH};
    char msg[MC_MESSAGE_MAX];
    if (!in_progress(s)) {
        if (!s->c_resync && !s->s_resync) {
            snprintf(msg, sizeof(msg), "untagged %s while no command is in progress", what);
            imap_emit(s, no_cmd, ev->start, &ev->text, msg);
        }
        return;
    }
    /* "while responding to" one of them: only when every command in
     * progress is one (another may be the one the response belongs to) */
    for (unsigned i = 0; i < s->q_len; i++) {
        const struct pending *pd = &s->q[i];
        bool seq = !pd->uid && (pd->verb == seq_verbs[0] || pd->verb == seq_verbs[1] ||
                                pd->verb == seq_verbs[2]);
        if (!seq && !pd->injected)
            return;
    }
    for (unsigned i = 0; i < s->q_len; i++) {
        const struct pending *pd = &s->q[i];
        if (!pd->injected) {
            snprintf(msg, sizeof(msg), "untagged %s while %s (tag %s) is in progress", what,
                     mc_imap_verb_name(pd->verb), pd->tag);
            imap_emit(s, during, ev->start, &ev->text, msg);
            return;
        }
    }
}

/* RFC 3501 s6.4.2, RFC 7162 s3.2.8: CLOSE expunges silently; judged when
 * CLOSE is the oldest command in progress (responses to commands before it
 * come first). */
static void check_close(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    if (s->q_len > 0 && s->q[0].verb == MC_IMAP_CLOSE && !s->q[0].injected && !s->q[0].gap)
        imap_emit(s, MC_R_IMAP_CLOSE_SENT_EXPUNGE, ev->start, &ev->text, NULL);
}

static void on_expunge(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    struct mbox *m = &s->mb;
    check_turn(s, ev, MC_R_IMAP_EXPUNGE_NO_COMMAND, MC_R_IMAP_EXPUNGE_DURING_FETCH, "EXPUNGE");
    check_close(s, ev);
    m->pair_known = false;   /* sequence numbers above it moved down */
    if (mbox_switching(s)) {
        m->exists_known = false;   /* which mailbox it shrinks is not known */
        return;
    }
    if (m->exists_known && ev->has_number) {
        if (ev->number > m->exists || ev->number == 0) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "EXPUNGE of message %llu, but the mailbox holds %llu",
                     (unsigned long long)ev->number, (unsigned long long)m->exists);
            imap_emit(s, MC_R_IMAP_EXPUNGE_OUT_OF_RANGE, ev->start, &ev->text, msg);
        } else {
            m->exists--;
        }
    }
}

static void on_exists(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    struct mbox *m = &s->mb;
    if (!ev->has_number)
        return;
    if (m->exists_known && ev->number < m->exists && !mbox_switching(s)) {
        char msg[MC_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "EXISTS %llu after %llu: only EXPUNGE reduces the count",
                 (unsigned long long)ev->number, (unsigned long long)m->exists);
        imap_emit(s, MC_R_IMAP_EXISTS_DECREASED, ev->start, &ev->text, msg);
    }
    if (m->exists_known && ev->number > m->exists && !mbox_switching(s))
        m->grew = true;
    m->exists = ev->number;
    m->exists_known = true;
}


/* RFC 3501 s2.3.1.1: UIDs ascend with sequence numbers; a message keeps its
 * UID; messages present when UIDNEXT was reported have UIDs below it. */
static void check_uid(struct imap *s, const struct mc_imap_resp_ev *ev, uint64_t uid)
{
    struct mbox *m = &s->mb;
    uint64_t msn = ev->number;
    char msg[MC_MESSAGE_MAX];
    if (m->pair_known &&
        ((msn > m->pair_msn && uid <= m->pair_uid) || (msn < m->pair_msn && uid >= m->pair_uid) ||
         (msn == m->pair_msn && uid != m->pair_uid))) {
        snprintf(msg, sizeof(msg), "message %llu has UID %llu, message %llu UID %llu",
                 (unsigned long long)msn, (unsigned long long)uid,
                 (unsigned long long)m->pair_msn, (unsigned long long)m->pair_uid);
        imap_emit(s, MC_R_IMAP_UID_NOT_ASCENDING, ev->start, &ev->text, msg);
    }
    if (m->uidnext_known && !m->grew && uid >= m->uidnext) {
        snprintf(msg, sizeof(msg), "UID %llu, but UIDNEXT is %llu and no message arrived since",
                 (unsigned long long)uid, (unsigned long long)m->uidnext);
        imap_emit(s, MC_R_IMAP_UID_ABOVE_UIDNEXT, ev->start, &ev->text, msg);
    }
    m->pair_msn = msn;
    m->pair_uid = uid;
    m->pair_known = true;
}

static void on_fetch(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    struct mbox *m = &s->mb;
    uint64_t uid;
    bool whole = text_whole(ev);
    bool has_uid = whole && mc_imap_fetch_number(ev->text.ptr, ev->text.len, "UID", &uid);
    bool seq_cmd = imap_find_verb(s, MC_IMAP_FETCH, false) || imap_find_verb(s, MC_IMAP_STORE, false);
    bool uid_cmd = imap_find_verb(s, MC_IMAP_FETCH, true) || imap_find_verb(s, MC_IMAP_STORE, true);

    if (mbox_switching(s))
        return;   /* about the old mailbox or the new one */
    if (m->exists_known && ev->has_number && ev->number > m->exists)
        out_of_range(s, ev, MC_R_IMAP_FETCH_OUT_OF_RANGE, "FETCH of message", ev->number);
    /* RFC 3501 s6.4.8: FETCH responses caused by a UID command include UID;
     * judged while only UID FETCH / UID STORE are outstanding */
    if (whole && !has_uid && uid_cmd && !seq_cmd && !imap_find_verb(s, MC_IMAP_NOOP, false) &&
        !imap_find_verb(s, MC_IMAP_IDLE, false))
        imap_emit(s, MC_R_IMAP_FETCH_UID_MISSING, ev->start, &ev->text, NULL);
    /* RFC 9051 s7.5.2: every unsolicited FETCH carries UID */
    if (whole && !has_uid && !uid_cmd && !seq_cmd && imap_profile(s) == 9051 && !s->c_resync &&
        !s->s_resync && s->q_len < IMAP_PENDING_MAX)
        imap_emit(s, MC_R_IMAP_FETCH_UNSOLICITED_NO_UID, ev->start, &ev->text, NULL);
    if (has_uid && ev->has_number)
        check_uid(s, ev, uid);
}

struct search_ctx {
    struct imap *s;
    const struct mc_imap_resp_ev *ev;
    bool reported;
};

static void search_number(void *p, uint64_t v)
{
    struct search_ctx *k = p;
    if (!k->reported && (v > k->s->mb.exists || v == 0)) {
        out_of_range(k->s, k->ev, MC_R_IMAP_SEARCH_OUT_OF_RANGE, "SEARCH result", v);
        k->reported = true;
    }
}

static void on_search(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    struct search_ctx k = {s, ev, false};
    /* results are sequence numbers only when no UID SEARCH may have caused it */
    if (!s->mb.exists_known || !text_whole(ev) || mbox_switching(s) ||
        !imap_find_verb(s, MC_IMAP_SEARCH, false) ||
        imap_find_verb(s, MC_IMAP_SEARCH, true))
        return;
    mc_imap_each_number(ev->text.ptr, ev->text.len, search_number, &k);
}

/* ---- response codes -------------------------------------------------------- */

static void on_code(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    struct mbox *m = &s->mb;
    uint64_t v;
    if (span_is(&ev->code, "UIDVALIDITY") && code_number(ev, &v)) {
        if (m->uidvalidity_known && v != m->uidvalidity)
            m->uidnext_known = m->pair_known = false;   /* UIDs start over */
        m->uidvalidity = v;
        m->uidvalidity_known = true;
    } else if (span_is(&ev->code, "UIDNEXT") && code_number(ev, &v)) {
        if (m->uidnext_known && v < m->uidnext && !mbox_switching(s)) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "UIDNEXT %llu after %llu with the same UIDVALIDITY",
                     (unsigned long long)v, (unsigned long long)m->uidnext);
            imap_emit(s, MC_R_IMAP_UIDNEXT_DECREASED, ev->start, &ev->text, msg);
        }
        m->uidnext = v;
        m->uidnext_known = true;
        m->grew = false;
    } else if (span_is(&ev->code, "UNSEEN") && code_number(ev, &v)) {
        if (mbox_switching(s)) {
            if (!m->unseen_switching_known || v > m->unseen_switching)
                m->unseen_switching = v;
            m->unseen_switching_known = true;
        } else if (m->exists_known && (v > m->exists || v == 0)) {
            out_of_range(s, ev, MC_R_IMAP_UNSEEN_OUT_OF_RANGE, "UNSEEN names message", v);
        }
    } else if (span_is(&ev->code, "COPYUID") || span_is(&ev->code, "APPENDUID")) {
        /* uidvalidity SP uid-set [SP uid-set] */
        const uint8_t *p = ev->code_arg.ptr;
        size_t n = ev->code_arg.len, a = 0, b;
        uint64_t c1, c2;
        bool same1, same2;
        while (a < n && p[a] != ' ')
            a++;
        if (a++ >= n)
            return;
        b = a;
        while (b < n && p[b] != ' ')
            b++;
        if (!mc_imap_uid_set_count(p + a, b - a, &c1, &same1))
            return;
        if (span_is(&ev->code, "APPENDUID")) {
            if (same1 && c1 == 1)   /* MULTIAPPEND sets may hold n:n among others */
                imap_emit(s, MC_R_IMAP_APPENDUID_RANGE, ev->start, &ev->text, NULL);
            return;
        }
        if (b < n && mc_imap_uid_set_count(p + b + 1, n - b - 1, &c2, &same2) && c1 != c2) {
            char msg[MC_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "COPYUID source set of %llu UIDs, destination set of %llu",
                     (unsigned long long)c1, (unsigned long long)c2);
            imap_emit(s, MC_R_IMAP_COPYUID_MISMATCH, ev->start, &ev->text, msg);
        }
    }
}

void mbox_on_response(struct imap *s, const struct mc_imap_resp_ev *ev)
{
    if (ev->code.len > 0)
        on_code(s, ev);
    switch (ev->kind) {
    case MC_IMAP_KIND_EXISTS:
        on_exists(s, ev);
        break;
    case MC_IMAP_KIND_RECENT:
        if (!ev->has_number)
            break;
        if (mbox_switching(s)) {
            if (!s->mb.recent_switching_known || ev->number > s->mb.recent_switching)
                s->mb.recent_switching = ev->number;
            s->mb.recent_switching_known = true;
        } else if (s->mb.exists_known && ev->number > s->mb.exists) {
            out_of_range(s, ev, MC_R_IMAP_RECENT_ABOVE_EXISTS, "RECENT", ev->number);
        }
        break;
    case MC_IMAP_KIND_EXPUNGE:
        on_expunge(s, ev);
        break;
    case MC_IMAP_KIND_FETCH:
        on_fetch(s, ev);
        break;
    case MC_IMAP_KIND_SEARCH:
        on_search(s, ev);
        break;
    case MC_IMAP_KIND_OTHER:
        if (span_is(&ev->name, "VANISHED")) {
            check_turn(s, ev, MC_R_IMAP_VANISHED_OUT_OF_TURN, MC_R_IMAP_VANISHED_OUT_OF_TURN,
                       "VANISHED");
            check_close(s, ev);
            mbox_lost(s);   /* the count drops by an amount not worked out here */
        }
        break;
    default:
        break;
    }
}
