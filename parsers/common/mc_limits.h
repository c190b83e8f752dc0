/* Named limits with their defaults; one place, like curl's DYN_* list. */
#ifndef MC_LIMITS_H
#define MC_LIMITS_H

/* Octets of one line a parser keeps (longer lines are measured, not kept).
 * Large enough for every line limit the RFCs set (SMTP text 1000) with room
 * for real-world excess, small enough to bound a parser at a few KiB. */
#define MC_LINE_KEEP 2048

/* RFC 1939 section 3, RFC 2449 section 4: response lines, including CRLF. */
#define MC_POP3_RESP_LINE_MAX 512
/* RFC 2449 section 4: command lines, including CRLF. */
#define MC_POP3_CMD_LINE_MAX 255
/* RFC 1939 section 3: argument length before RFC 2449 raised the line limit. */
#define MC_POP3_ARG_MAX_1939 40
/* RFC 1939 section 7: a unique-id is 1 to 70 octets. */
#define MC_POP3_UID_MAX 70
/* Commands awaiting a response that a session tracks (pipelining). */
#define MC_POP3_PENDING_MAX 64
/* Message numbers a session remembers deletion marks for. */
#define MC_POP3_MSGS_TRACKED 65536
/* Unique-ids per listing checked for duplicates. */
#define MC_POP3_UIDS_TRACKED 2048

/* RFC 5321 s4.5.3.1.5: reply lines, including CRLF. */
#define MC_SMTP_REPLY_LINE_MAX 512
/* RFC 5321 s4.5.3.1.4: command lines, including CRLF. */
#define MC_SMTP_CMD_LINE_MAX 512
/* RFC 4954 s4: AUTH lines and SASL responses may be this long (the RFC's
 * "sufficient line length" for deployed mechanisms). */
#define MC_SMTP_AUTH_LINE_MAX 12288
/* RFC 5321 s4.5.3.1.6: text lines of message content, including CRLF. */
#define MC_SMTP_TEXT_LINE_MAX 1000
/* RFC 5321 s4.5.3.1.1-3: local-part, domain, path. */
#define MC_SMTP_LOCAL_MAX 64
#define MC_SMTP_DOMAIN_MAX 255
#define MC_SMTP_PATH_MAX 256
/* ESMTP parameters kept per MAIL/RCPT command. */
#define MC_SMTP_PARAMS_MAX 8
/* Commands awaiting a reply that a session tracks (pipelining). */
#define MC_SMTP_PENDING_MAX 128
/* AUTH mechanisms remembered from the EHLO reply. */
#define MC_SMTP_MECHS_MAX 16

/* RFC 7162 s4: IMAP lines should stay within 8192 octets including CRLF;
 * longer response lines (literal data excluded) are flagged, not refused. */
#define MC_IMAP_LINE_MAX 8192
/* Nesting of IMAP lists and brackets the response parser tracks (an explicit
 * stack, never recursion); deeper nesting is an anomaly. BODYSTRUCTURE of
 * real messages rarely goes past 10. */
#define MC_IMAP_NEST_MAX 32
/* RFC 9051 s9: literal counts are number64 (at most 2^63-1); a larger count
 * or one of more than 20 digits cannot be honoured. */
#define MC_IMAP_LITERAL_MAX 0x7fffffffffffffffULL
/* Octets of the start of an IMAP response ("* " number keyword) kept while
 * literals stream, for the event's tag and keyword spans. */
#define MC_IMAP_HEAD_KEEP 64

/* IMAP commands (parsers/imap/imap_cmd.c). */
/* RFC 7162 s4: command lines (literal data excluded) should stay within
 * 8192 octets; longer ones are flagged. Also the octets of command text
 * kept for judging. */
#define MC_IMAP_CMD_LINE_MAX 8192
#define MC_IMAP_CMD_KEEP MC_IMAP_CMD_LINE_MAX
/* Line segments (literals + 1) of one command kept for judging. */
#define MC_IMAP_CMD_SEGS_MAX 64
/* Nesting of SEARCH keys (parentheses, NOT, OR) judged with an explicit
 * stack; deeper nesting is an anomaly. */
#define MC_IMAP_CMD_NEST_MAX 32
/* RFC 7888 s4: LITERAL- allows non-synchronizing literals up to 4096. */
#define MC_IMAP_CMD_LITERAL_MINUS_MAX 4096
/* RFC 9051 s9: number64 is at most 2^63-1. */
#define MC_IMAP_CMD_LITERAL_MAX 0x7fffffffffffffffULL

#endif
