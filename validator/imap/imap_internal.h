/*
 * The IMAP session's state, shared by its two halves:
 * - imap_session.c: states, tag correlation, continuations, capabilities,
 *   STARTTLS, extensions and the version profile;
 * - imap_mailbox.c: the selected mailbox (message count, UIDs, what SELECT
 *   and EXAMINE must report, when EXPUNGE and VANISHED may come).
 * Private to validator/imap/.
 */
#ifndef MC_IMAP_INTERNAL_H
#define MC_IMAP_INTERNAL_H

#include "session/session.h"
#include "session/tls_switch.h"
#include "imap/imap_cmd.h"
#include "imap/imap_resp.h"

#include <string.h>
#include <strings.h>

/* Outstanding commands tracked; more are not correlated (bounded). */
#define IMAP_PENDING_MAX 64
#define IMAP_UNTRACKED_KEEP 64   /* tags of commands pipelined beyond it (4 octets each) */
#define IMAP_TAG_KEEP 64
#define IMAP_MAILBOX_KEEP 128
#define IMAP_ENABLE_KEEP 256

enum istate { ST_GREETING, ST_NOTAUTH, ST_AUTH, ST_SELECTED, ST_LOGOUT };

/* What a command received while it was outstanding (pending.seen). */
enum {
    SEEN_CAPABILITY = 1u << 0,
    SEEN_SEARCH = 1u << 1,      /* SEARCH or ESEARCH */
    SEEN_STATUS = 1u << 2,
    SEEN_NAMESPACE = 1u << 3,
    SEEN_ENABLED = 1u << 4,
    SEEN_FLAGS = 1u << 5,
    SEEN_EXISTS = 1u << 6,
    SEEN_RECENT = 1u << 7,
    SEEN_LIST = 1u << 8,
    SEEN_UIDVALIDITY = 1u << 9,
    SEEN_UIDNEXT = 1u << 10,
    SEEN_PERMANENTFLAGS = 1u << 11,
    SEEN_CLOSED = 1u << 12,
    SEEN_FETCH = 1u << 13
};

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
    bool rev2_enable;    /* ENABLE naming IMAP4rev2 */
    bool cancelled;      /* AUTHENTICATE: the client sent "*" */
    bool login_disabled; /* LOGINDISABLED was advertised when it was sent */
    bool search_save;    /* SEARCH RETURN (SAVE): no result response (RFC 9051 s6.4.4) */
    bool gap;            /* outstanding across a server gap: its untagged data,
                            even its completion, may be lost */
    unsigned seen;       /* SEEN_* */
    char mailbox[IMAP_MAILBOX_KEEP];   /* SELECT / EXAMINE: as written */
    size_t mailbox_len;
    bool inbox;
    uint64_t off;
    char excerpt[MC_EXCERPT_MAX];
};

struct caps {
    bool rev1, rev2, starttls, logindisabled, literal_plus, literal_minus, idle;
};

/* The selected mailbox, as the server reported it. */
struct mbox {
    uint64_t exists;          /* message count */
    bool exists_known;
    uint64_t uidvalidity, uidnext;
    bool uidvalidity_known, uidnext_known;
    bool grew;                /* EXISTS grew since UIDNEXT was reported */
    uint64_t pair_msn, pair_uid;   /* the last FETCH that showed a UID */
    bool pair_known;
    uint64_t recent_switching;     /* the largest RECENT while a SELECT ran */
    uint64_t unseen_switching;     /* the largest [UNSEEN n] while a SELECT ran */
    bool recent_switching_known, unseen_switching_known;
    char name[IMAP_MAILBOX_KEEP];  /* selected mailbox as written, for STATUS */
    size_t name_len;
    bool inbox;
    bool selected;
    bool ever_selected;       /* a SELECT / EXAMINE succeeded once */
};

struct imap {
    struct mc_session_ctx *c;
    struct mc_imap_cmd cmd;
    struct mc_imap_resp resp;
    enum istate state;
    struct mc_tls tls;        /* tagged OK to STARTTLS: MC_TLS_STARTING */
    bool tls_active;
    bool closed[2];
    unsigned profile_forced;  /* 2060, 3501, 9051 or 0: from the capabilities */

    /* outstanding commands, oldest first: q_cap entries allocated, grown
     * as commands are pipelined up to IMAP_PENDING_MAX (64 entries are
     * 22 KiB, half a session; most clients have one or two outstanding) */
    struct pending *q;
    unsigned q_len, q_cap;
    /* commands pipelined beyond IMAP_PENDING_MAX: not queued, so their
     * completions are not judged; known by a hash of their tags (the first
     * IMAP_UNTRACKED_KEEP of them), the rest only counted */
    uint32_t untracked[IMAP_UNTRACKED_KEEP];
    unsigned n_untracked, untracked_uncounted;
    struct pending injected[8];
    unsigned n_injected;

    struct caps caps;
    bool caps_known;          /* a capability list arrived since the greeting or TLS */
    bool rev2_only;           /* the last list named IMAP4rev2 and not IMAP4rev1 */
    bool rev2_enabled;        /* ENABLE IMAP4rev2 succeeded (RFC 9051 s6.3.1) */
    bool utf8_accept;         /* ENABLE UTF8=ACCEPT succeeded */
    uint64_t caps_digest;     /* of the last capability list */
    bool enabled_since_caps;  /* an ENABLE succeeded after it, no login or TLS since */
    bool caps_refresh_due;    /* STARTTLS done: the client has not asked again */
    char enable_req[IMAP_ENABLE_KEEP];   /* the ENABLE commands outstanding, joined */
    size_t enable_req_len;

    bool c_in_cmd;            /* a command announced a literal and is not complete */
    bool lit_waiting;         /* ... a synchronizing one that waits for "+" */
    unsigned lit_owed;        /* its synchronizing literals whose "+" has not come */
    char done_tag[IMAP_TAG_KEEP];   /* completed before the command itself was */
    size_t done_tag_len;
    bool awaiting_starttls;
    bool starttls_refused;    /* a STARTTLS got NO or BAD: the client asked for TLS in vain */
    bool preauth_clear;       /* PREAUTH greeting without TLS: STARTTLS is ruled out */
    /* the tag of a tagged response injected in plaintext after the OK to
     * STARTTLS; a client that, inside TLS, sends that tag and goes on
     * without waiting for its completion took the injected one for it */
    char inj_tag[IMAP_TAG_KEEP];
    size_t inj_tag_len;
    bool said_cleartext, said_refused_credentials, said_injected_used;
    bool bye;                 /* the server sent BYE */
    bool bye_logout;          /* ... while a LOGOUT was outstanding */

    struct mbox mb;

    struct mc_span resp_line; /* the response being judged, whole (for excerpts) */
    bool c_resync, s_resync;
    bool state_unsure;        /* a state-changing completion may be lost in a gap */
};

/* The span is the literal, ignoring case. */
static inline bool span_is(const struct mc_span *sp, const char *lit)
{
    size_t n = strlen(lit);
    return sp->len == n && strncasecmp((const char *)sp->ptr, lit, n) == 0;
}

/* imap_session.c */
void imap_emit(struct imap *s, enum mc_rule r, uint64_t off, const struct mc_span *line,
               const char *msg);
const struct pending *imap_find_verb(const struct imap *s, enum mc_imap_verb v, bool uid);
/* The RFC the session is judged by where versions differ: 2060, 3501 or
 * 9051 (IMAP4rev2). */
unsigned imap_profile(const struct imap *s);

/* imap_mailbox.c */
void mbox_select_sent(struct imap *s, struct pending *pd, const struct mc_imap_cmd_ev *ev);
void mbox_select_done(struct imap *s, const struct pending *pd, const struct mc_imap_resp_ev *ev);
void mbox_deselect(struct imap *s);
void mbox_status_sent(struct imap *s, const struct mc_imap_cmd_ev *ev);
void mbox_on_response(struct imap *s, const struct mc_imap_resp_ev *ev);
void mbox_lost(struct imap *s);
/* A SELECT or EXAMINE is outstanding: data may describe either mailbox. */
bool mbox_switching(const struct imap *s);

#endif
