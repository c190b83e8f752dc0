/*
 * SMTP client-to-server parser (RFC 5321 s4.1, RFC 3207, RFC 4954, RFC 3030,
 * RFC 1870, RFC 6152, RFC 3461, RFC 6531).
 *
 * The client stream holds three kinds of octets: command lines, SASL
 * responses during AUTH, and message content (after DATA, and the chunks
 * BDAT announces). The parser knows by itself where a BDAT chunk starts and
 * ends (the command counts its octets). Whether DATA content follows needs
 * the server's 354, which only the session sees: on a DATA command event the
 * caller calls mc_smtp_cmd_expect_data() if content will follow, and
 * mc_smtp_cmd_abort_data() if the reply turns out to be a refusal before any
 * content octet arrived. During AUTH the caller switches SASL mode on and off
 * as for POP3.
 *
 * Message content is never buffered: it is scanned as it streams by, and an
 * event comes only for what matters (an anomaly, the end of the content, the
 * end of a BDAT chunk). Which octets made up the content is known from the
 * offsets.
 */
#ifndef MC_SMTP_CMD_H
#define MC_SMTP_CMD_H

#include "../common/mc_line.h"
#include "smtp_syntax.h"

/* X(name, argument kind). Verbs are case-insensitive (RFC 5321 s2.4).
 * SEND, SOML, SAML and TURN are RFC 821 commands RFC 5321 Appendix F
 * deprecates; they are recognised so they can be named as such. */
#define MC_SMTP_VERBS(X)      \
    X(HELO, HOST)             \
    X(EHLO, HOST)             \
    X(MAIL, MAIL)             \
    X(RCPT, RCPT)             \
    X(DATA, NONE)             \
    X(BDAT, BDAT)             \
    X(RSET, NONE)             \
    X(VRFY, STRING)           \
    X(EXPN, STRING)           \
    X(HELP, OPTSTRING)        \
    X(NOOP, OPTSTRING)        \
    X(QUIT, NONE)             \
    X(STARTTLS, NONE)         \
    X(AUTH, AUTH)             \
    X(SEND, ANY)              \
    X(SOML, ANY)              \
    X(SAML, ANY)              \
    X(TURN, NONE)

enum mc_smtp_verb {
    MC_SMTP_UNKNOWN = 0,
#define X(name, kind) MC_SMTP_##name,
    MC_SMTP_VERBS(X)
#undef X
    MC_SMTP_VERB_COUNT
};

enum mc_smtp_cmd_type {
    MC_SMTP_CMD_LINE = 1,   /* a command line */
    MC_SMTP_CMD_SASL,       /* a SASL response line (base64 or "*") */
    MC_SMTP_CMD_CONTENT,    /* message content: anomalies at their offsets */
    MC_SMTP_CMD_CONTENT_END /* DATA: the "." CRLF terminator; BDAT: the chunk's last octet */
};

struct mc_smtp_param {
    struct mc_span kw;      /* keyword */
    struct mc_span val;     /* value after "=", len 0 if none */
    bool has_val;
};

struct mc_smtp_cmd_ev {
    enum mc_smtp_cmd_type type;
    enum mc_smtp_verb verb;          /* LINE: MC_SMTP_UNKNOWN for unknown verbs */
    struct mc_span line;             /* LINE, SASL: kept octets, terminator excluded */
    uint64_t line_len;
    bool truncated;
    struct mc_span keyword;
    struct mc_span arg;              /* everything after the verb and one SP */
    bool syntax_ok;                  /* the line matches the verb's grammar */

    /* MAIL, RCPT */
    bool path_present;               /* a path was found (valid or not) */
    bool path_ok;                    /* ... and it is valid */
    struct mc_smtp_path path;        /* offsets relative to path_span.ptr */
    struct mc_span path_span;
    struct mc_smtp_param param[MC_SMTP_PARAMS_MAX];
    unsigned nparams;                /* parameters present (may exceed PARAMS_MAX) */

    /* EHLO, HELO: the host; AUTH: the mechanism */
    struct mc_span host;
    struct mc_span mech;
    bool initial_response;           /* AUTH: one was given (secret holds it) */

    /* BDAT */
    uint64_t chunk_size;
    bool last;                       /* BDAT ... LAST; CONTENT_END: the message is complete */

    bool cancel;                     /* SASL: the "*" line */
    struct mc_span secret;           /* octets no output may show (len 0: none) */

    /* CONTENT_END */
    uint64_t content_octets;         /* of the whole message so far, terminator excluded */
    bool content_8bit;               /* an octet >= 0x80 was seen in the message */
    bool content_bdat;               /* the content came in BDAT chunks */

    struct mc_anoms anoms;
};

enum content_mode { MC_SMTP_CONTENT_NONE, MC_SMTP_CONTENT_DATA, MC_SMTP_CONTENT_BDAT };

struct mc_smtp_cmd {
    /* private */
    struct mc_line line;
    bool sasl;
    uint8_t mode;               /* enum content_mode */
    bool bdat_open;             /* a BDAT without LAST: the message goes on */
    bool bdat_last;
    bool finished_line;
    uint64_t pos;               /* absolute offset of the next octet in content mode */
    uint64_t remaining;         /* BDAT: octets of the chunk still to come */
    /* content scanner (one message, across BDAT chunks) */
    uint8_t ls;                 /* at a line start: how the previous line ended */
    bool cr;                    /* the previous octet was CR, LF undecided */
    bool dot;                   /* a '.' right after a line start */
    uint8_t dot_kind;
    bool long_said;
    bool seen8;
    bool quiet;                 /* after a gap: the damaged line is not judged */
    uint64_t cr_off, dot_off, col, line_start, octets;
    uint64_t body_started;      /* content octets since expect_data() */
};

void mc_smtp_cmd_init(struct mc_smtp_cmd *p);
void mc_smtp_cmd_expect_sasl(struct mc_smtp_cmd *p, bool on);
bool mc_smtp_cmd_in_sasl(const struct mc_smtp_cmd *p);

/* The octets after the DATA command line are message content, up to the
 * CRLF "." CRLF terminator (RFC 5321 s4.1.1.4). */
void mc_smtp_cmd_expect_data(struct mc_smtp_cmd *p);
/* The DATA was refused: back to commands. Only while no content octet has
 * been consumed (mc_smtp_cmd_content_octets() == 0); returns false, and
 * changes nothing, otherwise. */
bool mc_smtp_cmd_abort_data(struct mc_smtp_cmd *p);
/* Octets of content consumed since expect_data() or the BDAT command. */
uint64_t mc_smtp_cmd_content_octets(const struct mc_smtp_cmd *p);
/* True while message content (DATA or a BDAT chunk) is being read. */
bool mc_smtp_cmd_in_content(const struct mc_smtp_cmd *p);

/* True when the next feed yields an event even with no input (the end of a
 * BDAT chunk that is complete, e.g. "BDAT 0 LAST"): feed with len 0. */
bool mc_smtp_cmd_has_event(const struct mc_smtp_cmd *p);

/* Returns MC_EVENT or MC_NEED_MORE, as every parser. Never fails. */
int mc_smtp_cmd_feed(struct mc_smtp_cmd *p, const uint8_t *buf, size_t len,
                     size_t *used_out, struct mc_smtp_cmd_ev *ev_out);
/* End of stream: an unterminated last line, or CONTENT_END carrying
 * SMTP_BODY_UNTERMINATED when content was open. Call until MC_NEED_MORE. */
int mc_smtp_cmd_finish(struct mc_smtp_cmd *p, struct mc_smtp_cmd_ev *ev_out);
/* n octets are missing. Inside DATA content the scan goes on (the
 * terminator may still come); inside a BDAT chunk the count goes on. */
void mc_smtp_cmd_gap(struct mc_smtp_cmd *p, uint64_t n);
uint64_t mc_smtp_cmd_offset(const struct mc_smtp_cmd *p);
bool mc_smtp_cmd_partial(const struct mc_smtp_cmd *p);
bool mc_smtp_cmd_resyncing(const struct mc_smtp_cmd *p);

const char *mc_smtp_verb_name(enum mc_smtp_verb v);

#endif
