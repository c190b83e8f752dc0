/*
 * SMTP server-to-client parser (RFC 5321 s4.2, RFC 2034 / RFC 3463 enhanced
 * status codes, RFC 4954 s4 "334" challenges).
 *
 * One event per reply line. A reply is one or more lines; every line but the
 * last has '-' after the code (RFC 5321 s4.2.1). The parser tracks the reply
 * a line belongs to (first/last, the code of its first line) and checks
 * code, separator, text and a leading enhanced status code; what the reply
 * means is the session's business. Stateless helpers check EHLO keyword
 * lines and domains.
 */
#ifndef MC_SMTP_REPLY_H
#define MC_SMTP_REPLY_H

#include "../common/mc_line.h"

struct mc_smtp_reply_ev {
    struct mc_span line;      /* kept octets, terminator excluded */
    uint64_t line_len;        /* octets in the whole line, terminator excluded */
    bool truncated;           /* line_len exceeds what was kept */
    unsigned code;            /* this line's code 200-559 as a number, 0 if not three digits */
    unsigned reply_code;      /* the code of the reply's first line (0: invalid) */
    bool first;               /* first line of a reply */
    bool last;                /* last line of a reply (no '-' after the code) */
    struct mc_span text;      /* after the code and its separator; ESC included */
    struct mc_span esc;       /* a leading x.y.z enhanced status code, or len 0 */
    unsigned esc_class;       /* its class digit (2, 4, 5), 0 if none or malformed */
    struct mc_anoms anoms;
};

struct mc_smtp_reply {
    /* private */
    struct mc_line line;
    bool in_reply;            /* a '-' line was seen; the reply goes on */
    unsigned reply_code;
    uint8_t esc[12];          /* the first line's enhanced code (RFC 2034 s4) */
    uint8_t esc_len;
    bool finished_line;
};

void mc_smtp_reply_init(struct mc_smtp_reply *p);

/* Returns MC_EVENT (*ev_out filled, *used_out octets consumed) or
 * MC_NEED_MORE (all len octets consumed). Never fails. */
int mc_smtp_reply_feed(struct mc_smtp_reply *p, const uint8_t *buf, size_t len,
                       size_t *used_out, struct mc_smtp_reply_ev *ev_out);

/* End of stream. Call until MC_NEED_MORE: yields an unterminated last line,
 * then, if a multi-line reply was still open, an event with last set and
 * SMTP_REPLY_MULTI_UNTERMINATED (code 0, empty line). */
int mc_smtp_reply_finish(struct mc_smtp_reply *p, struct mc_smtp_reply_ev *ev_out);

/* n octets are missing: drops the damaged line and any open reply. */
void mc_smtp_reply_gap(struct mc_smtp_reply *p, uint64_t n);

bool mc_smtp_reply_partial(const struct mc_smtp_reply *p);
bool mc_smtp_reply_resyncing(const struct mc_smtp_reply *p);
/* True between a '-' line and the last line of its reply. */
bool mc_smtp_reply_in_reply(const struct mc_smtp_reply *p);
uint64_t mc_smtp_reply_offset(const struct mc_smtp_reply *p);

/* Stateless helpers; offsets relative to s. Each returns MC_ANOM_NONE or the
 * anomaly with the index of the first offending octet in *bad_out. */

/* ehlo-line = ehlo-keyword *( SP ehlo-param ) (RFC 5321 s4.1.1.1), with the
 * parameter syntax of SIZE (RFC 1870 s4) and AUTH (RFC 4954 s3) checked.
 * *kw_len_out is the keyword's length. */
enum mc_anom mc_smtp_parse_ehlo_line(const uint8_t *s, size_t n, size_t *kw_len_out,
                                     size_t *bad_out);

#endif
