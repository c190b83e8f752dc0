/*
 * Internals of the TLS module shared by its files: the hello and
 * EncryptedExtensions parsers (tls_hello.c). Allocation-free; they read
 * only inside the given body and never trust a length.
 */
#ifndef MC_TLS_INTERNAL_H
#define MC_TLS_INTERNAL_H

#include "tls.h"

#define MC_TLS_HS_CLIENT_HELLO 1
#define MC_TLS_HS_SERVER_HELLO 2
#define MC_TLS_HS_NEW_SESSION_TICKET 4
#define MC_TLS_HS_END_OF_EARLY_DATA 5
#define MC_TLS_HS_ENCRYPTED_EXTENSIONS 8
#define MC_TLS_HS_FINISHED 20
#define MC_TLS_HS_KEY_UPDATE 24

#define MC_TLS_CT_CHANGE_CIPHER_SPEC 20
#define MC_TLS_CT_ALERT 21
#define MC_TLS_CT_HANDSHAKE 22
#define MC_TLS_CT_APPLICATION_DATA 23
#define MC_TLS_CT_HEARTBEAT 24

/* Parses a ClientHello (client true) or ServerHello body into h (which the
 * caller zeroed and whose dir/frame/offset it sets). Returns NULL or why
 * the message is malformed (h then holds what was read before). */
const char *mc_tls_parse_hello(const uint8_t *p, size_t n, bool client, struct mc_tls_hello *h);

/* Parses an EncryptedExtensions body; the ALPN protocol chosen (if any)
 * goes to alpn (cap octets, NUL-terminated), *early_data says whether the
 * server accepted 0-RTT data. Returns NULL or why malformed. */
const char *mc_tls_parse_encrypted_extensions(const uint8_t *p, size_t n, char *alpn,
                                              size_t cap, bool *early_data);

#endif
