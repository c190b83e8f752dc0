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

#endif
