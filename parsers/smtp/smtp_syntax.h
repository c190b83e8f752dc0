/*
 * SMTP grammar pieces both directions share (RFC 5321 s4.1.2-s4.1.3, RFC
 * 6531 for UTF-8 addresses, RFC 3461 s4 xtext). Stateless; offsets are
 * relative to s; *bad_out is the index of the first offending octet.
 */
#ifndef MC_SMTP_SYNTAX_H
#define MC_SMTP_SYNTAX_H

#include "../common/mc_parser.h"

/* Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str].
 * With utf8, octets >= 0x80 count as letters (RFC 6531 s3.3, U-labels). */
bool mc_smtp_domain_valid(const uint8_t *s, size_t n, bool utf8, size_t *bad_out);

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" 1*dcontent ) "]" */
bool mc_smtp_addr_literal_valid(const uint8_t *s, size_t n, size_t *bad_out);

/* Domain or address-literal (EHLO's argument, a mailbox's domain). */
bool mc_smtp_host_valid(const uint8_t *s, size_t n, bool utf8, size_t *bad_out);

/* String = Atom / Quoted-string (VRFY, EXPN, HELP arguments). */
bool mc_smtp_string_valid(const uint8_t *s, size_t n, size_t *bad_out);

/* Result of parsing a path "<...>" or the null path "<>". */
struct mc_smtp_path {
    bool null_path;           /* "<>" */
    bool source_route;        /* "<@a,@b:user@c>" */
    bool eight_bit;           /* octets >= 0x80 anywhere (UTF-8) */
    bool postmaster;          /* "<Postmaster>" with no domain (RCPT only) */
    size_t local_at, local_len;    /* local-part, relative to s */
    size_t domain_at, domain_len;  /* domain or address literal */
    size_t len;               /* octets of the path including the brackets */
};

/* Parses the path at the start of s (it must start with '<'; the caller
 * reports a missing bracket). The path ends at its '>'; what follows is the
 * caller's. Returns MC_ANOM_NONE, MC_ANOM_SMTP_PATH_SYNTAX, or a length
 * anomaly (SMTP_LOCAL_TOO_LONG, SMTP_DOMAIN_TOO_LONG, SMTP_PATH_TOO_LONG;
 * the path is otherwise valid then). 8-bit octets are accepted as UTF-8
 * and flagged in eight_bit. */
enum mc_anom mc_smtp_parse_path(const uint8_t *s, size_t n, struct mc_smtp_path *out,
                                size_t *bad_out);

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
bool mc_smtp_keyword_valid(const uint8_t *s, size_t n);

/* xtext = *( xchar / hexchar ), RFC 3461 s4 */
bool mc_smtp_xtext_valid(const uint8_t *s, size_t n, size_t *bad_out);

#endif
