/*
 * TLS for the recording relay (relay.h): the two OpenSSL contexts (the
 * relay as a server towards clients, as a client towards the real server),
 * the NSS key log, and the small STARTTLS/STLS command check that lets the
 * relay hold back what a client pipelines behind that command.
 */
#ifndef MC_RELAY_TLS_H
#define MC_RELAY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

struct mc_relay_opts;
struct mc_relay_tls;

/* Loads the certificate and key clients see, sets up verification of the
 * server (--tls-ca, else the system store; --tls-insecure: none) and opens
 * the key log. to is the --to address: its host part is the SNI and the
 * name verified, unless --tls-servername is given. Returns NULL with a
 * message in err. */
struct mc_relay_tls *mc_relay_tls_new(const struct mc_relay_opts *o, const char *to, char *err,
                                      size_t errlen);
void mc_relay_tls_free(struct mc_relay_tls *t);

/* A new TLS object on fd: towards the server (SSL_connect state, SNI and
 * host name set) or towards a client (SSL_accept state). NULL on failure. */
SSL *mc_relay_tls_leg(struct mc_relay_tls *t, bool to_server, int fd);

/* Why an OpenSSL call on ssl returned ret (SSL_get_error already known to
 * be neither WANT_READ nor WANT_WRITE): the queued OpenSSL error, the
 * verification result, or errno. Clears the error queue. */
void mc_relay_tls_why(SSL *ssl, int ret, char *out, size_t outlen);

/* The client's STARTTLS command (POP3 "STLS", SMTP "STARTTLS", IMAP
 * "tag STARTTLS", any case, CRLF or bare LF) in the client chunk p[0..n):
 * returns the offset just past its line feed, 0 if the chunk has no such
 * line. *at_line_start says whether p starts a line and is updated for the
 * next chunk. */
size_t mc_relay_starttls_end(const uint8_t *p, size_t n, bool *at_line_start);

#endif
