/*
 * POP3 server-to-client parser (RFC 1939, RFC 2449, RFC 5034, RFC 3206).
 *
 * It splits the server stream into status lines, SASL continuations and the
 * lines of multi-line responses. Whether a +OK opens a multi-line response
 * depends on the command it answers, which only the session knows: after a
 * STATUS event the caller MUST call mc_pop3_resp_expect_multiline() before
 * feeding more if the response is multi-line. The parser never guesses.
 */
#ifndef MC_POP3_RESP_H
#define MC_POP3_RESP_H

#include "../common/mc_line.h"

enum mc_pop3_resp_type {
    MC_POP3_RESP_STATUS = 1,   /* +OK / -ERR line (or a line that should be one) */
    MC_POP3_RESP_CONT,         /* "+ " base64 SASL challenge (RFC 5034 s4) */
    MC_POP3_RESP_BODY,         /* a line of a multi-line response, unstuffed */
    MC_POP3_RESP_END           /* the "." CRLF terminator of a multi-line response */
};

enum mc_pop3_status {
    MC_POP3_STATUS_INVALID = 0,
    MC_POP3_STATUS_OK,
    MC_POP3_STATUS_ERR
};

struct mc_pop3_resp_ev {
    enum mc_pop3_resp_type type;
    enum mc_pop3_status status;  /* STATUS only */
    struct mc_span line;         /* kept octets, terminator excluded; BODY: unstuffed */
    uint64_t line_len;           /* octets in the whole line, terminator excluded */
    bool truncated;              /* line_len exceeds what was kept */
    bool stuffed;                /* BODY: the leading '.' was removed */
    struct mc_span code;         /* STATUS: response code without brackets, or len 0 */
    struct mc_span text;         /* STATUS: text after "+OK " and the code; CONT: payload */
    struct mc_anoms anoms;
};

struct mc_pop3_resp {
    /* private */
    struct mc_line line;
    bool multiline;
    bool finished_line;          /* finish(): the partial line was returned */
};

void mc_pop3_resp_init(struct mc_pop3_resp *p);

/* The last STATUS event opened a multi-line response. */
void mc_pop3_resp_expect_multiline(struct mc_pop3_resp *p);

/* True between expect_multiline() and the END event. */
bool mc_pop3_resp_in_multiline(const struct mc_pop3_resp *p);

/* Returns MC_EVENT (*ev_out filled, *used_out octets consumed) or
 * MC_NEED_MORE (all len octets consumed). Never fails. */
int mc_pop3_resp_feed(struct mc_pop3_resp *p, const uint8_t *buf, size_t len,
                      size_t *used_out, struct mc_pop3_resp_ev *ev_out);

/* End of stream. Call until it returns MC_NEED_MORE: it yields the pending
 * unterminated line, then an END event carrying POP3_MULTI_UNTERMINATED if
 * a multi-line response was still open. */
int mc_pop3_resp_finish(struct mc_pop3_resp *p, struct mc_pop3_resp_ev *ev_out);

/* n octets are missing; resynchronises at the next line. A multi-line
 * response in progress stays open (the terminator may still come). */
void mc_pop3_resp_gap(struct mc_pop3_resp *p, uint64_t n);

/* True while a line has started but not ended. */
bool mc_pop3_resp_partial(const struct mc_pop3_resp *p);
/* True while the rest of a line damaged by a gap is being skipped. */
bool mc_pop3_resp_resyncing(const struct mc_pop3_resp *p);

/* Absolute offset of the next octet the parser expects. */
uint64_t mc_pop3_resp_offset(const struct mc_pop3_resp *p);

/* Stateless helpers for the contents of lines (offsets relative to s). Each
 * returns MC_ANOM_NONE when the line is well-formed, or the anomaly and the
 * index of the first offending octet in *bad_out. */

/* scan listing "msg SP size [SP ...]" (RFC 1939 s5 LIST); also the drop
 * listing "count SP size [SP ...]" of STAT. */
enum mc_anom mc_pop3_parse_listing(const uint8_t *s, size_t n, uint64_t *a_out,
                                   uint64_t *b_out, size_t *bad_out);
/* unique-id listing "msg SP uid" (RFC 1939 s7 UIDL); *uid_at_out and *uid_len_out
 * locate the unique-id in s. */
enum mc_anom mc_pop3_parse_uidl(const uint8_t *s, size_t n, uint64_t *msg_out,
                                size_t *uid_at_out, size_t *uid_len_out, size_t *bad_out);
/* capability "capa-tag *(SP param)" (RFC 2449 s3); *tag_len_out is the tag. */
enum mc_anom mc_pop3_parse_capa(const uint8_t *s, size_t n, size_t *tag_len_out,
                                size_t *bad_out);
/* Finds an APOP timestamp "<...>" in greeting text (RFC 1939 s7). Returns
 * false if none; otherwise *at_out and *len_out locate it and *anom_out says
 * whether it is a well-formed msg-id <local@domain>. */
bool mc_pop3_find_timestamp(const uint8_t *s, size_t n, size_t *at_out, size_t *len_out,
                            enum mc_anom *anom_out);

#endif
