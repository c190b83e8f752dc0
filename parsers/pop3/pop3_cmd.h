/*
 * POP3 client-to-server parser (RFC 1939, RFC 2449, RFC 2595 s4, RFC 5034).
 *
 * Splits the client stream into command lines and checks each against the
 * argument grammar of its keyword. While a SASL exchange runs (the session
 * saw "AUTH" and a "+ " challenge) the caller MUST switch the parser to SASL
 * mode with mc_pop3_cmd_expect_sasl(), and back when the server's final
 * status arrives; client lines are then base64 responses, not commands.
 */
#ifndef MC_POP3_CMD_H
#define MC_POP3_CMD_H

#include "../common/mc_line.h"

/* X(name, min args, max args, argument 1 kind, argument 2 kind).
 * AUTH with no argument is the mechanism-listing probe many clients send
 * (a de facto extension older than RFC 5034); it is accepted here. */
#define MC_POP3_VERBS(X)                      \
    X(USER, 1, 1, ANY, NONE)                  \
    X(PASS, 1, 1, REST, NONE)                 \
    X(APOP, 2, 2, ANY, DIGEST)                \
    X(AUTH, 0, 2, ANY, SASLIR)                \
    X(STAT, 0, 0, NONE, NONE)                 \
    X(LIST, 0, 1, MSG, NONE)                  \
    X(RETR, 1, 1, MSG, NONE)                  \
    X(DELE, 1, 1, MSG, NONE)                  \
    X(NOOP, 0, 0, NONE, NONE)                 \
    X(RSET, 0, 0, NONE, NONE)                 \
    X(QUIT, 0, 0, NONE, NONE)                 \
    X(TOP, 2, 2, MSG, COUNT)                  \
    X(UIDL, 0, 1, MSG, NONE)                  \
    X(CAPA, 0, 0, NONE, NONE)                 \
    X(STLS, 0, 0, NONE, NONE)

enum mc_pop3_verb {
    MC_POP3_UNKNOWN = 0,
#define X(name, mn, mx, k1, k2) MC_POP3_##name,
    MC_POP3_VERBS(X)
#undef X
    MC_POP3_VERB_COUNT
};

enum mc_pop3_cmd_type {
    MC_POP3_CMD_LINE = 1,   /* a command */
    MC_POP3_CMD_SASL        /* a SASL response line (base64, "=" or "*") */
};

#define MC_POP3_ARGS_MAX 4

struct mc_pop3_cmd_ev {
    enum mc_pop3_cmd_type type;
    enum mc_pop3_verb verb;          /* MC_POP3_UNKNOWN for unknown keywords */
    struct mc_span line;             /* kept octets, terminator excluded */
    uint64_t line_len;               /* octets in the whole line */
    bool truncated;
    struct mc_span keyword;
    struct mc_span arg[MC_POP3_ARGS_MAX];
    unsigned argc;                   /* arguments present (may exceed ARGS_MAX) */
    uint64_t num[2];                 /* numeric value of argument 1 and 2 ... */
    bool num_ok[2];                  /* ... when that argument is a valid number */
    bool syntax_ok;                  /* no argument anomaly for this keyword (a NUL in
                                        an argument, reported as NUL_BYTE, clears it too) */
    bool cancel;                     /* SASL: the "*" cancel line */
    struct mc_span secret;           /* octets no output may show: password,
                                        APOP digest, SASL data (len 0: none) */
    struct mc_anoms anoms;
};

struct mc_pop3_cmd {
    /* private */
    struct mc_line line;
    bool sasl;
};

void mc_pop3_cmd_init(struct mc_pop3_cmd *p);
void mc_pop3_cmd_expect_sasl(struct mc_pop3_cmd *p, bool on);
bool mc_pop3_cmd_in_sasl(const struct mc_pop3_cmd *p);

/* Returns MC_EVENT or MC_NEED_MORE, as mc_pop3_resp_feed. Never fails. */
int mc_pop3_cmd_feed(struct mc_pop3_cmd *p, const uint8_t *buf, size_t len,
                     size_t *used_out, struct mc_pop3_cmd_ev *ev_out);
/* End of stream: yields an unterminated last line, if any. */
int mc_pop3_cmd_finish(struct mc_pop3_cmd *p, struct mc_pop3_cmd_ev *ev_out);
void mc_pop3_cmd_gap(struct mc_pop3_cmd *p, uint64_t n);
uint64_t mc_pop3_cmd_offset(const struct mc_pop3_cmd *p);
/* True while a command line has started but not ended. */
bool mc_pop3_cmd_partial(const struct mc_pop3_cmd *p);
/* True while the rest of a line damaged by a gap is being skipped. */
bool mc_pop3_cmd_resyncing(const struct mc_pop3_cmd *p);

const char *mc_pop3_verb_name(enum mc_pop3_verb v);

#endif
