/*
 * mc_line: the line layer every text protocol shares. Splits a byte stream
 * into lines on LF, tells CRLF from bare LF, flags CR not followed by LF,
 * NUL octets and lines over a limit, and keeps at most MC_LINE_KEEP octets of
 * each line (the whole length is still counted).
 */
#ifndef MC_LINE_H
#define MC_LINE_H

#include "mc_parser.h"
#include "mc_limits.h"

enum mc_line_term {
    MC_LINE_TERM_CRLF,
    MC_LINE_TERM_LF,   /* bare LF (anomaly BARE_LF is set too) */
    MC_LINE_TERM_EOF   /* stream ended inside the line (mc_line_finish) */
};

struct mc_line {
    /* Public after mc_line_feed() returned MC_EVENT, until the next call: */
    uint64_t start;            /* absolute offset of the line's first octet */
    uint64_t total;            /* octets in the line, terminator excluded */
    size_t kept;               /* octets of it in buf (<= MC_LINE_KEEP) */
    enum mc_line_term term;
    struct mc_anoms anoms;
    uint8_t buf[MC_LINE_KEEP];
    /* Private: */
    size_t limit;              /* line limit including CRLF, 0 = none */
    uint64_t pos;              /* absolute offset of the next octet */
    uint64_t cr_off;
    bool cr_pending;           /* the last octet seen was CR */
    bool complete;             /* a line is ready; cleared by the next call */
    bool resync;               /* after a gap: drop octets up to the next LF */
    bool saw_nul;
};

/* Prepares l; limit is the longest allowed line including CRLF (0: none). */
void mc_line_init(struct mc_line *l, size_t limit);

/* Changes the limit for lines that have not started yet. */
void mc_line_set_limit(struct mc_line *l, size_t limit);

/* Consumes octets until a line is complete. Returns MC_EVENT (line ready in
 * the public fields; *used_out octets consumed) or MC_NEED_MORE (all of len
 * consumed). */
int mc_line_feed(struct mc_line *l, const uint8_t *buf, size_t len, size_t *used_out);

/* End of stream. Returns MC_EVENT if an unterminated line was pending (term
 * MC_LINE_TERM_EOF, anomaly UNTERMINATED_LINE), otherwise MC_NEED_MORE. */
int mc_line_finish(struct mc_line *l);

/* n octets of the stream are missing (capture loss). Drops the partial line
 * and skips to the next LF, so nothing from a damaged line is reported. */
void mc_line_gap(struct mc_line *l, uint64_t n);

/* n octets were consumed by another layer (SMTP message content between
 * two command lines): the next line starts after them. Call only between
 * lines (not while mc_line_partial()). */
void mc_line_advance(struct mc_line *l, uint64_t n);

/* Judges the LINE_TOO_LONG of the line l just completed again, in anoms (a
 * copy of l's), by another limit (including CRLF; 0: none), for lines the
 * protocol exempts from its usual limit once it knows what they are (SASL
 * data, RFC 4954 s4, RFC 5034 s4): drops the anomaly if the line fits, or
 * moves it to the octet that breaks the new limit. Call it before adding
 * anomalies of one's own, so a freed slot serves them. */
void mc_line_relimit(const struct mc_line *l, struct mc_anoms *anoms, size_t limit);
/* The same for a line known only by its event: start offset, length, and
 * the limit it was judged by. */
void mc_line_relimit_span(struct mc_anoms *anoms, uint64_t start, uint64_t total,
                          size_t old_limit, size_t limit);

/* True while a line has started but is not complete. */
bool mc_line_partial(const struct mc_line *l);

/* True while octets after a gap are being skipped up to the next LF. */
bool mc_line_resyncing(const struct mc_line *l);

#endif
