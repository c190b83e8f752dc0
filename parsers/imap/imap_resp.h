/*
 * IMAP server-to-client parser (RFC 3501 s7 and s9, RFC 9051, RFC 5530
 * response codes, RFC 4315 APPENDUID/COPYUID, RFC 3516 literal8).
 *
 * A response is one line that may embed literals: "{n}" CRLF (or "~{n}"
 * CRLF, literal8) followed by exactly n octets, after which the same
 * response line goes on. The parser splits the stream into line segments
 * (mc_line), streams literal data through, and checks the whole response
 * against the grammar with a bounded explicit stack.
 *
 * Events:
 * - MC_IMAP_RESP_LITERAL, one per fragment of literal data as it arrives.
 *   'data' points into the CALLER's input buffer (not the parser's), valid
 *   as long as that buffer; data.off is absolute. How the data is cut into
 *   fragments depends on how the input was fed; lit_pos (offset of the
 *   fragment inside the literal), lit_size and lit_last do not. An empty
 *   literal gives one fragment of length 0. Every literal ends with a
 *   fragment that has lit_last set (unless end of stream or a gap cuts it).
 *   Of the response fields, a LITERAL event carries kind, status, start,
 *   number and literals (this one included) as known so far; its spans are
 *   empty and its anomalies none (they come with the RESPONSE event).
 * - MC_IMAP_RESP_RESPONSE, one per complete response, after its last line
 *   segment, with the anomalies of the whole response (literal data is not
 *   checked: it is the session's business).
 *
 * Literals are honoured only in data responses (untagged, not a status
 * response): in resp-text a trailing "{5}" is text (RFC 3501 s9).
 */
#ifndef MC_IMAP_RESP_H
#define MC_IMAP_RESP_H

#include "../common/mc_line.h"

enum mc_imap_resp_ev_type {
    MC_IMAP_RESP_RESPONSE,
    MC_IMAP_RESP_LITERAL
};

enum mc_imap_resp_kind {
    MC_IMAP_KIND_INVALID,       /* not even the response's start could be read */
    MC_IMAP_KIND_CONTINUATION,  /* "+" */
    MC_IMAP_KIND_TAGGED,        /* tag SP resp-cond-state */
    MC_IMAP_KIND_STATE,         /* "*" SP OK / NO / BAD */
    MC_IMAP_KIND_BYE,
    MC_IMAP_KIND_PREAUTH,
    MC_IMAP_KIND_CAPABILITY,
    MC_IMAP_KIND_ENABLED,       /* RFC 5161 */
    MC_IMAP_KIND_ID,            /* RFC 2971 */
    MC_IMAP_KIND_NAMESPACE,     /* RFC 2342 */
    MC_IMAP_KIND_FLAGS,
    MC_IMAP_KIND_LIST,
    MC_IMAP_KIND_LSUB,
    MC_IMAP_KIND_SEARCH,
    MC_IMAP_KIND_STATUS,        /* mailbox-data STATUS */
    MC_IMAP_KIND_EXISTS,
    MC_IMAP_KIND_RECENT,
    MC_IMAP_KIND_EXPUNGE,
    MC_IMAP_KIND_FETCH,
    MC_IMAP_KIND_OTHER          /* an untagged atom-led response not known here */
};

enum mc_imap_status {
    MC_IMAP_STATUS_NONE,
    MC_IMAP_STATUS_OK,
    MC_IMAP_STATUS_NO,
    MC_IMAP_STATUS_BAD,
    MC_IMAP_STATUS_BYE,
    MC_IMAP_STATUS_PREAUTH
};

struct mc_imap_resp_ev {
    enum mc_imap_resp_ev_type type;
    /* LITERAL */
    struct mc_span data;       /* into the caller's input (see above) */
    uint64_t lit_pos;          /* offset of data inside the literal */
    uint64_t lit_size;         /* the announced count */
    bool lit8;                 /* "~{n}" */
    bool lit_last;             /* the literal's last fragment */
    /* RESPONSE */
    enum mc_imap_resp_kind kind;
    enum mc_imap_status status; /* OK/NO/BAD/BYE/PREAUTH, else NONE */
    uint64_t start;            /* absolute offset of the response's first octet */
    uint64_t line_len;         /* octets of its line segments incl. CRLFs, literal data excluded */
    unsigned literals;         /* literals embedded in it */
    /* Spans point into the parser (valid until the next call). A response
     * with literals keeps only its first MC_IMAP_HEAD_KEEP octets for tag
     * and name; code and text exist only for status responses and
     * continuations, which never hold literals. Unset spans have len 0. */
    struct mc_span tag;        /* "*", "+" or the tag */
    struct mc_span name;       /* the keyword: OK, FETCH, CAPABILITY, ... */
    struct mc_span code;       /* response code name without "[" */
    struct mc_span code_arg;   /* after the code name and SP, up to "]" */
    struct mc_span text;       /* resp-text after the code (or continuation text);
                                * data responses without literals: the data
                                * after "keyword SP" (e.g. the capabilities),
                                * of which at most MC_LINE_KEEP octets of the
                                * line are kept */
    uint64_t number;           /* EXISTS, RECENT, EXPUNGE, FETCH */
    bool has_number;
    struct mc_anoms anoms;
};

struct mc_imap_resp {
    /* private */
    struct mc_line line;
    uint8_t tail[32];          /* last raw octets of the segment (literal header) */
    uint8_t tail_len;
    bool in_resp;              /* a segment ended in a literal; the line goes on */
    bool in_lit;
    bool lit8;
    bool finished_line;
    bool after_gap;            /* lines are skipped until one starts a response */
    uint64_t lit_size, lit_done;
    /* the response being built */
    uint8_t kind, status;
    uint64_t start, line_len, number;
    bool has_number;
    unsigned literals;
    struct mc_anoms anoms;
    uint8_t head[MC_IMAP_HEAD_KEEP];
    size_t head_len, tag_len, name_at, name_len;
    size_t code_at, code_len, arg_at, arg_len, text_at, text_len;
    /* grammar walker state, kept across line segments */
    struct mc_imap_level {
        uint8_t open;          /* '(' or '[' */
        uint8_t schema;        /* what the list holds (imap_resp.c) */
        uint8_t flags;         /* per schema: body type, FETCH att */
        uint16_t count;        /* items seen in it (saturates) */
        uint16_t mark;         /* multipart body: index of the subtype */
    } stack[MC_IMAP_NEST_MAX];
    uint32_t depth;            /* open levels, at most MC_IMAP_NEST_MAX */
    uint16_t top_count;        /* items outside any list */
    bool bad;                  /* a syntax anomaly was reported: stop checking */
    bool need_sp;              /* the last item wants SP or a closer next */
    bool just_opened;          /* the last octet opened a list: ')' may follow */
};

void mc_imap_resp_init(struct mc_imap_resp *p);

/* Returns MC_EVENT (*ev_out filled, *used_out octets consumed) or
 * MC_NEED_MORE (all len octets consumed). Never fails. */
int mc_imap_resp_feed(struct mc_imap_resp *p, const uint8_t *buf, size_t len, size_t *used_out,
                      struct mc_imap_resp_ev *ev_out);

/* End of stream. Call until MC_NEED_MORE: yields the pending response (an
 * unterminated line, a literal cut short: IMAP_LITERAL_UNTERMINATED, or a
 * line that never resumed after its literal: IMAP_RESP_UNTERMINATED). */
int mc_imap_resp_finish(struct mc_imap_resp *p, struct mc_imap_resp_ev *ev_out);

/* n octets are missing. Inside literal data that does not end before the
 * gap, the literal just goes on; otherwise the open response is dropped
 * and parsing resumes at the next line. */
void mc_imap_resp_gap(struct mc_imap_resp *p, uint64_t n);

/* True while a response has started but is not complete. */
bool mc_imap_resp_partial(const struct mc_imap_resp *p);
/* True while the rest of a line damaged by a gap is being skipped. */
bool mc_imap_resp_resyncing(const struct mc_imap_resp *p);
/* True while literal data is streaming. */
bool mc_imap_resp_in_literal(const struct mc_imap_resp *p);
uint64_t mc_imap_resp_offset(const struct mc_imap_resp *p);

#endif
