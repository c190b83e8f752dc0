/*
 * The cryptography of the TLS module (internal): cipher-suite table, key
 * derivation (TLS 1.3 HKDF-Expand-Label, TLS 1.2 PRF key block) and AEAD
 * record opening, all through OpenSSL's EVP interface (libcrypto only).
 *
 * Decryptable suites: the three TLS 1.3 suites and the TLS 1.2 AEAD suites
 * with AES-GCM (explicit 8-octet nonce, RFC 5288) or ChaCha20-Poly1305
 * (RFC 7905 nonce). The key exchange does not matter once the key log gives
 * the master secret, so the DHE and RSA variants of those AEAD suites are
 * in the table too.
 */
#ifndef MC_TLS_CRYPTO_H
#define MC_TLS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_keylog.h"

enum mc_tls_aead_alg { MC_TLS_AES_128_GCM, MC_TLS_AES_256_GCM, MC_TLS_CHACHA20_POLY1305 };

struct mc_tls_suite {
    uint16_t id;
    const char *name; /* IANA name */
    bool tls13;
    enum mc_tls_aead_alg alg;
    bool sha384;       /* the suite's hash: SHA-384, else SHA-256 */
    uint8_t key_len;
    uint8_t fixed_iv_len; /* TLS 1.2: 4 (GCM salt) or 12 (ChaCha20); TLS 1.3: 12 */
};

#define MC_TLS_AEAD_TAG_LEN 16
#define MC_TLS12_EXPLICIT_NONCE_LEN 8

/* The suite if this module can decrypt it, else NULL. */
const struct mc_tls_suite *mc_tls_suite_find(uint16_t id);

/* One direction's record protection. */
struct mc_tls_aead {
    void *ctx;               /* EVP_CIPHER_CTX, allocated once, reused on rekey */
    const struct mc_tls_suite *suite;
    uint8_t iv[12];
    uint64_t seq;            /* records opened with this key */
    bool ready;
};

/* Installs TLS 1.3 traffic keys from a traffic secret (key and iv by
 * HKDF-Expand-Label, RFC 8446 s7.3); seq restarts at 0. */
bool mc_tls_aead_set_13(struct mc_tls_aead *a, const struct mc_tls_suite *s,
                        const uint8_t *secret, size_t secret_len);

/* Installs TLS 1.2 keys: key_len octets of key, fixed_iv_len octets of iv. */
bool mc_tls_aead_set_12(struct mc_tls_aead *a, const struct mc_tls_suite *s,
                        const uint8_t *key, const uint8_t *iv);

void mc_tls_aead_clear(struct mc_tls_aead *a);

/* Opens one record in place. hdr: the 5-octet record header as received;
 * frag/len: its fragment. On success returns true with the plaintext at
 * frag + *plain_off, *plain_len octets long, and advances seq; false: the
 * tag does not verify or the fragment is too short (seq unchanged). */
bool mc_tls_aead_open(struct mc_tls_aead *a, const uint8_t hdr[5], uint8_t *frag, size_t len,
                      size_t *plain_off, size_t *plain_len);

/* TLS 1.3 KeyUpdate: secret = HKDF-Expand-Label(secret, "traffic upd", "",
 * Hash.length), in place. */
bool mc_tls13_update_secret(const struct mc_tls_suite *s, uint8_t *secret, size_t secret_len);

/* TLS 1.2 key block (RFC 5246 s6.3) from the master secret and the randoms,
 * written to out (2 * (key_len + fixed_iv_len) octets): client key, server
 * key, client iv, server iv. */
bool mc_tls12_key_block(const struct mc_tls_suite *s, const uint8_t master[48],
                        const uint8_t client_random[MC_TLS_RANDOM_LEN],
                        const uint8_t server_random[MC_TLS_RANDOM_LEN], uint8_t *out,
                        size_t out_len);

/* HKDF-Expand-Label(secret, label, context = "", out_len) with the suite's
 * hash (exposed for the tests' known-answer check). */
bool mc_tls13_expand_label(const struct mc_tls_suite *s, const uint8_t *secret,
                           size_t secret_len, const char *label, uint8_t *out, size_t out_len);

#endif
