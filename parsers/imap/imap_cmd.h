/*
 * IMAP client-to-server parser (RFC 3501 s6 and s9, RFC 9051, RFC 7888
 * LITERAL+/LITERAL-, RFC 3516 BINARY literal8, RFC 2177 IDLE, RFC 5161
 * ENABLE, RFC 2971 ID, RFC 2342 NAMESPACE, RFC 4315 UIDPLUS, RFC 6851 MOVE,
 * RFC 4959 SASL-IR, RFC 5182 "$", RFC 5258 LIST-EXTENDED and RFC 4731
 * SEARCH RETURN as RFC 9051 includes them, RFC 7162 s4 line length).
 *
 * A command is tag SP name [args] CRLF, where the args may embed literals:
 * a line segment that ends in {n}, {n+} or ~{n} is followed by n octets of
 * literal data and then by the next line segment of the same command. The
 * parser yields:
 *   - MC_IMAP_CMD_LITERAL_WAIT when a segment announces a synchronizing
 *     literal {n} / ~{n}. The client must wait for the server's "+" before
 *     sending the data (RFC 3501 s7.5); only the session sees the server, so
 *     the CALLER says what happened:
 *       mc_imap_cmd_literal_go(p)      the continuation came;
 *       mc_imap_cmd_literal_refused(p) a tagged NO/BAD refused the literal:
 *                                      the command ends there.
 *     Octets that arrive before go are still literal data (a client that
 *     does not wait sends them as such), but their LITERAL events carry
 *     'early' and the command gets IMAP_CMD_LITERAL_EARLY at the first one.
 *     What is early depends only on the offset at which the caller called
 *     go, never on how the input was split: a fragment never mixes early and
 *     waited-for octets, because go can only come between two calls. refused
 *     is accepted only before any octet after the announcement was consumed
 *     (otherwise those octets were already read as data; it returns false).
 *   - MC_IMAP_CMD_LITERAL: a fragment of literal data (zero-copy: data points
 *     into the caller's buffer). Literals are never buffered.
 *   - MC_IMAP_CMD_COMMAND: one per command, after its last line segment,
 *     with the tag, the verb, the literals it used, the argument anomalies
 *     and the secret span.
 *   - MC_IMAP_CMD_SASL / MC_IMAP_CMD_DONE: lines in SASL mode (after an
 *     AUTHENTICATE continuation; the caller switches it on and off) and in
 *     IDLE mode (after IDLE's "+"; the caller switches it on, the first line
 *     switches it off, as servers do).
 *
 * The command text (all segments, literal data excluded) is kept up to
 * MC_IMAP_CMD_KEEP octets and judged at the end; a command whose text was
 * not kept whole (a segment over MC_LINE_KEEP, more than
 * MC_IMAP_CMD_SEGS_MAX segments) has 'truncated' set and only its tag and
 * name are judged.
 *
 * What the parser leaves to the session: whether the verb is valid in the
 * current state (mc_imap_verb_info()->states), whether LITERAL+ or LITERAL-
 * was advertised for a {n+} (nlit_nonsync, nonsync_max against
 * MC_IMAP_CMD_LITERAL_MINUS_MAX), whether BINARY was for ~{n} (nlit8), whether
 * UTF8=ACCEPT was enabled for IMAP_CMD_QUOTED_8BIT, tag uniqueness, and when
 * SASL and IDLE modes begin and end. SELECT/EXAMINE parameters and FETCH
 * and STORE modifiers are checked against the generic RFC 4466 syntax
 * (CONDSTORE, QRESYNC); other extension arguments (MULTIAPPEND, CATENATE,
 * SEARCH MODSEQ, CREATE USE) are not known yet and are flagged
 * IMAP_CMD_ARG_SYNTAX.
 */
#ifndef MC_IMAP_CMD_H
#define MC_IMAP_CMD_H

#include "../common/mc_line.h"

/* States a command is valid in (RFC 3501 s3, s6). */
#define MC_IMAP_ST_NOTAUTH 1u
#define MC_IMAP_ST_AUTH 2u
#define MC_IMAP_ST_SELECTED 4u
#define MC_IMAP_ST_ANY (MC_IMAP_ST_NOTAUTH | MC_IMAP_ST_AUTH | MC_IMAP_ST_SELECTED)
#define MC_IMAP_ST_AS (MC_IMAP_ST_AUTH | MC_IMAP_ST_SELECTED)

/* X(name, argument grammar, states, may follow UID). Names are
 * case-insensitive. */
#define MC_IMAP_VERBS(X)                                  \
    X(CAPABILITY, NONE, MC_IMAP_ST_ANY, 0)                \
    X(NOOP, NONE, MC_IMAP_ST_ANY, 0)                      \
    X(LOGOUT, NONE, MC_IMAP_ST_ANY, 0)                    \
    X(ID, ID, MC_IMAP_ST_ANY, 0)                          \
    X(STARTTLS, NONE, MC_IMAP_ST_NOTAUTH, 0)              \
    X(AUTHENTICATE, AUTH, MC_IMAP_ST_NOTAUTH, 0)          \
    X(LOGIN, LOGIN, MC_IMAP_ST_NOTAUTH, 0)                \
    X(SELECT, SELECT, MC_IMAP_ST_AS, 0)                  \
    X(EXAMINE, SELECT, MC_IMAP_ST_AS, 0)                 \
    X(CREATE, MAILBOX, MC_IMAP_ST_AS, 0)                  \
    X(DELETE, MAILBOX, MC_IMAP_ST_AS, 0)                  \
    X(RENAME, RENAME, MC_IMAP_ST_AS, 0)                   \
    X(SUBSCRIBE, MAILBOX, MC_IMAP_ST_AS, 0)               \
    X(UNSUBSCRIBE, MAILBOX, MC_IMAP_ST_AS, 0)             \
    X(LIST, LIST, MC_IMAP_ST_AS, 0)                       \
    X(LSUB, LSUB, MC_IMAP_ST_AS, 0)                       \
    X(STATUS, STATUS, MC_IMAP_ST_AS, 0)                   \
    X(APPEND, APPEND, MC_IMAP_ST_AS, 0)                   \
    X(ENABLE, ENABLE, MC_IMAP_ST_AUTH, 0)                 \
    X(NAMESPACE, NONE, MC_IMAP_ST_AS, 0)                  \
    X(IDLE, NONE, MC_IMAP_ST_AS, 0)                       \
    X(CHECK, NONE, MC_IMAP_ST_SELECTED, 0)                \
    X(CLOSE, NONE, MC_IMAP_ST_SELECTED, 0)                \
    X(UNSELECT, NONE, MC_IMAP_ST_SELECTED, 0)             \
    X(EXPUNGE, EXPUNGE, MC_IMAP_ST_SELECTED, 1)           \
    X(SEARCH, SEARCH, MC_IMAP_ST_SELECTED, 1)             \
    X(FETCH, FETCH, MC_IMAP_ST_SELECTED, 1)               \
    X(STORE, STORE, MC_IMAP_ST_SELECTED, 1)               \
    X(COPY, COPY, MC_IMAP_ST_SELECTED, 1)                 \
    X(MOVE, COPY, MC_IMAP_ST_SELECTED, 1)

enum mc_imap_verb {
    MC_IMAP_UNKNOWN = 0,
#define X(name, kind, states, uid) MC_IMAP_##name,
    MC_IMAP_VERBS(X)
#undef X
    MC_IMAP_VERB_COUNT
};

struct mc_imap_verb_info {
    const char *name;
    unsigned states;   /* MC_IMAP_ST_* */
    bool uid_ok;       /* may follow "UID " */
};
/* The table, for the session: valid states per verb. Out-of-range verbs
 * get the UNKNOWN row (states 0). */
const struct mc_imap_verb_info *mc_imap_verb_info(enum mc_imap_verb v);
const char *mc_imap_verb_name(enum mc_imap_verb v);

enum mc_imap_cmd_type {
    MC_IMAP_CMD_COMMAND = 1,
    MC_IMAP_CMD_LITERAL_WAIT,
    MC_IMAP_CMD_LITERAL,
    MC_IMAP_CMD_SASL,
    MC_IMAP_CMD_DONE
};

/* One literal: LITERAL_WAIT and LITERAL events. */
struct mc_imap_lit {
    uint64_t size;
    uint64_t off;      /* of the '{' ('~' for literal8) */
    bool sync;         /* {n}: the client must wait for "+" */
    bool literal8;     /* ~{n} (RFC 3516) */
    bool secret;       /* a LOGIN password */
    unsigned index;    /* 0 for the command's first literal */
};

struct mc_imap_cmd_ev {
    enum mc_imap_cmd_type type;

    /* COMMAND: the kept command text, segments joined without their line
     * ends and literal data (a literal shows as its "{n}"); off is the
     * command's first octet, but offsets are not contiguous across
     * segments: each span below has its own off. SASL, DONE: the line. */
    struct mc_span text;
    uint64_t text_len;       /* COMMAND: octets of all segments; SASL/DONE: the line */
    bool truncated;          /* the text was not kept whole: arguments not judged */
    struct mc_span tag;
    struct mc_span name;     /* the command name (after "UID " for UID commands) */
    enum mc_imap_verb verb;  /* MC_IMAP_UNKNOWN: a valid atom nobody knows, or no name */
    bool uid;
    /* the tag, name and arguments match the grammar; only the first
     * deviation is reported (what follows it cannot be read reliably);
     * a NUL octet makes it false too */
    bool syntax_ok;
    bool refused;            /* ended by mc_imap_cmd_literal_refused() */
    bool unterminated;       /* the stream ended inside a literal or right
                              * after one: arguments not judged */
    struct mc_span secret;   /* LOGIN password or AUTHENTICATE initial response (in
                              * text), SASL line; len 0: none (literal passwords
                              * are flagged in their LITERAL events) */
    bool cancel;             /* SASL: the "*" line */
    /* the first mailbox argument (SELECT, EXAMINE, CREATE, DELETE, RENAME's
     * old name, SUBSCRIBE, UNSUBSCRIBE, STATUS, APPEND, COPY, MOVE) as
     * written: quoted with its quotes, a literal as its "{n}"; inbox: it is
     * INBOX in any case, as an atom or quoted */
    struct mc_span mailbox;
    bool inbox;

    /* COMMAND: literals used */
    unsigned nlit, nlit_sync, nlit_nonsync, nlit8;
    uint64_t nonsync_max;    /* the largest {n+} (LITERAL- allows 4096) */
    uint64_t lit_octets;

    /* LITERAL_WAIT, LITERAL */
    struct mc_imap_lit lit;
    /* LITERAL: a fragment; remaining = octets of the literal after it */
    struct mc_span data;
    uint64_t remaining;
    bool early;              /* sent before mc_imap_cmd_literal_go() */

    struct mc_anoms anoms;
};

struct mc_imap_cmd_seg {
    uint32_t at;   /* index in text */
    uint64_t off;  /* absolute offset of its first octet */
};

struct mc_imap_cmd {
    /* private */
    struct mc_line line;
    uint8_t mode;               /* enum in imap_cmd.c */
    bool sasl, idle, finished;
    bool after_gap;   /* lines are skipped until one starts a command */
    bool go, early_said, refused_pending;
    uint8_t tail[32];           /* last raw octets of the current line */
    uint8_t tail_len;
    uint64_t pos;               /* absolute offset of the next octet */
    struct mc_imap_lit lit;
    uint64_t lit_left, lit_used;
    /* the command being gathered */
    bool in_cmd, cmd_trunc;
    uint64_t cmd_start, cmd_octets, text_octets;
    uint32_t text_len;
    unsigned nseg;
    unsigned nlit, nlit_sync, nlit_nonsync, nlit8;
    uint64_t nonsync_max, lit_octets;
    struct mc_anoms anoms;
    struct mc_imap_cmd_seg seg[MC_IMAP_CMD_SEGS_MAX];
    uint8_t text[MC_IMAP_CMD_KEEP];
};

void mc_imap_cmd_init(struct mc_imap_cmd *p);

/* After a LITERAL_WAIT event: the server sent "+" (go), or refused the
 * literal with a tagged NO/BAD (refused; returns false and changes nothing
 * if octets were already consumed as data, or no literal waits). After
 * refused the next feed (len 0 allowed) yields the COMMAND event. */
void mc_imap_cmd_literal_go(struct mc_imap_cmd *p);
bool mc_imap_cmd_literal_refused(struct mc_imap_cmd *p);
/* True while a synchronizing literal waits for go (no octet consumed). */
bool mc_imap_cmd_literal_waiting(const struct mc_imap_cmd *p);
/* True when the next feed yields an event even without input. */
bool mc_imap_cmd_has_event(const struct mc_imap_cmd *p);

/* SASL mode: lines are AUTHENTICATE responses (base64 or "*"). */
void mc_imap_cmd_expect_sasl(struct mc_imap_cmd *p, bool on);
bool mc_imap_cmd_in_sasl(const struct mc_imap_cmd *p);
/* IDLE mode: the next line should be DONE; it ends the mode. */
void mc_imap_cmd_expect_idle(struct mc_imap_cmd *p);
/* IDLE ended without a DONE seen (it was lost in a gap and the server
 * completed IDLE): lines are commands again. */
void mc_imap_cmd_end_idle(struct mc_imap_cmd *p);
bool mc_imap_cmd_in_idle(const struct mc_imap_cmd *p);

/* Returns MC_EVENT or MC_NEED_MORE, as every parser. Never fails. */
int mc_imap_cmd_feed(struct mc_imap_cmd *p, const uint8_t *buf, size_t len, size_t *used_out,
                     struct mc_imap_cmd_ev *ev_out);
/* End of stream: the unterminated command (IMAP_CMD_UNTERMINATED inside a
 * literal; UNTERMINATED_LINE inside a line). Call until MC_NEED_MORE. */
int mc_imap_cmd_finish(struct mc_imap_cmd *p, struct mc_imap_cmd_ev *ev_out);
uint64_t mc_imap_cmd_offset(const struct mc_imap_cmd *p);
/* True while a command has started and is not complete (inside a line, or
 * between the segments of a command with literals). */
bool mc_imap_cmd_partial(const struct mc_imap_cmd *p);
/* True while the rest of a line damaged by a gap is being skipped. */
bool mc_imap_cmd_resyncing(const struct mc_imap_cmd *p);
/* n octets of the stream are missing (capture loss). Inside a literal the
 * count goes on (the command is still reported when the gap ends inside the
 * literal or at its end); a gap that hits a line drops that line and the
 * command it belongs to, and parsing resumes after the next LF. */
void mc_imap_cmd_gap(struct mc_imap_cmd *p, uint64_t n);

#endif
