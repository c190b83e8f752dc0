/*
 * TLS key schedule pieces and AEAD record opening with OpenSSL EVP.
 * References (checked against the RFC texts): RFC 8446 s5.2 (TLSInnerPlaintext,
 * additional data = record header), s5.3 (per-record nonce: iv XOR the
 * 64-bit sequence number, left-padded), s7.1 (HKDF-Expand-Label), s7.2
 * (KeyUpdate: "traffic upd"), s7.3 (traffic key = "key", iv = "iv");
 * RFC 5246 s5 (PRF), s6.2.3.3 (AEAD additional data: seq_num, type,
 * version, length), s6.3 (key block order); RFC 5288 s3 (GCM nonce = 4-octet
 * salt from the key block + 8-octet explicit nonce in the record);
 * RFC 7905 s2 (ChaCha20-Poly1305 nonce like TLS 1.3's, no explicit part).
 */
#include "tls_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

static const struct mc_tls_suite suites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", true, MC_TLS_AES_128_GCM, false, 16, 12},
    {0x1302, "TLS_AES_256_GCM_SHA384", true, MC_TLS_AES_256_GCM, true, 32, 12},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, MC_TLS_CHACHA20_POLY1305, false, 32, 12},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, MC_TLS_AES_128_GCM, false, 16, 4},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, MC_TLS_AES_128_GCM, false, 16, 4},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, MC_TLS_AES_256_GCM, true, 32, 4},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, MC_TLS_AES_256_GCM, true, 32, 4},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, MC_TLS_CHACHA20_POLY1305, false, 32, 12},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, MC_TLS_CHACHA20_POLY1305, false, 32, 12},
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, MC_TLS_AES_128_GCM, false, 16, 4},
    {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, MC_TLS_AES_256_GCM, true, 32, 4},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, MC_TLS_AES_128_GCM, false, 16, 4},
    {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, MC_TLS_AES_256_GCM, true, 32, 4},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, MC_TLS_CHACHA20_POLY1305, false, 32, 12},
};

const struct mc_tls_suite *mc_tls_suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

static const EVP_CIPHER *cipher_of(const struct mc_tls_suite *s)
{
    switch (s->alg) {
    case MC_TLS_AES_128_GCM:
        return EVP_aes_128_gcm();
    case MC_TLS_AES_256_GCM:
        return EVP_aes_256_gcm();
    case MC_TLS_CHACHA20_POLY1305:
        return EVP_chacha20_poly1305();
    }
    return NULL;
}

static const char *digest_name(const struct mc_tls_suite *s)
{
    return s->sha384 ? "SHA384" : "SHA256";
}

bool mc_tls13_expand_label(const struct mc_tls_suite *s, const uint8_t *secret,
                           size_t secret_len, const char *label, uint8_t *out, size_t out_len)
{
    /* struct { uint16 length; opaque label<7..255> = "tls13 " + Label;
     *          opaque context<0..255>; } HkdfLabel;  (RFC 8446 s7.1) */
    uint8_t info[2 + 1 + 255 + 1];
    size_t ll = strlen(label), n = 0;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    bool ok = false;
    if (6 + ll > 255 || out_len > 0xffff)
        return false;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0; /* empty context */

    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kctx) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest_name(s), 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_KDF_derive(kctx, out, out_len, params) == 1;
    }
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok;
}

bool mc_tls13_update_secret(const struct mc_tls_suite *s, uint8_t *secret, size_t secret_len)
{
    uint8_t next[MC_TLS_SECRET_MAX];
    if (secret_len > sizeof next ||
        !mc_tls13_expand_label(s, secret, secret_len, "traffic upd", next, secret_len))
        return false;
    memcpy(secret, next, secret_len);
    return true;
}

bool mc_tls12_key_block(const struct mc_tls_suite *s, const uint8_t master[48],
                        const uint8_t client_random[MC_TLS_RANDOM_LEN],
                        const uint8_t server_random[MC_TLS_RANDOM_LEN], uint8_t *out,
                        size_t out_len)
{
    /* key_block = PRF(master_secret, "key expansion",
     *                 server_random + client_random)  (RFC 5246 s6.3) */
    static const char label[] = "key expansion";
    uint8_t seed[sizeof label - 1 + 2 * MC_TLS_RANDOM_LEN];
    bool ok = false;
    memcpy(seed, label, sizeof label - 1);
    memcpy(seed + sizeof label - 1, server_random, MC_TLS_RANDOM_LEN);
    memcpy(seed + sizeof label - 1 + MC_TLS_RANDOM_LEN, client_random, MC_TLS_RANDOM_LEN);

    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kctx) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest_name(s), 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, 48),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_KDF_derive(kctx, out, out_len, params) == 1;
    }
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok;
}

static bool set_key(struct mc_tls_aead *a, const struct mc_tls_suite *s, const uint8_t *key)
{
    if (!a->ctx && !(a->ctx = EVP_CIPHER_CTX_new()))
        return false;
    EVP_CIPHER_CTX *c = a->ctx;
    a->ready = false;
    if (EVP_DecryptInit_ex(c, cipher_of(s), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
        EVP_DecryptInit_ex(c, NULL, NULL, key, NULL) != 1)
        return false;
    a->suite = s;
    a->seq = 0;
    a->ready = true;
    return true;
}

bool mc_tls_aead_set_13(struct mc_tls_aead *a, const struct mc_tls_suite *s,
                        const uint8_t *secret, size_t secret_len)
{
    uint8_t key[32];
    bool ok;
    a->ready = false;
    if (!mc_tls13_expand_label(s, secret, secret_len, "key", key, s->key_len) ||
        !mc_tls13_expand_label(s, secret, secret_len, "iv", a->iv, 12))
        return false;
    ok = set_key(a, s, key);
    memset(key, 0, sizeof key);
    return ok;
}

bool mc_tls_aead_set_12(struct mc_tls_aead *a, const struct mc_tls_suite *s,
                        const uint8_t *key, const uint8_t *iv)
{
    memset(a->iv, 0, sizeof a->iv);
    memcpy(a->iv, iv, s->fixed_iv_len);
    return set_key(a, s, key);
}

void mc_tls_aead_clear(struct mc_tls_aead *a)
{
    EVP_CIPHER_CTX_free(a->ctx);
    memset(a, 0, sizeof *a);
}

bool mc_tls_aead_open(struct mc_tls_aead *a, const uint8_t hdr[5], uint8_t *frag, size_t len,
                      size_t *plain_off, size_t *plain_len)
{
    EVP_CIPHER_CTX *c = a->ctx;
    const struct mc_tls_suite *s = a->suite;
    uint8_t nonce[12], aad[13];
    size_t aad_len, off = 0, ct_len;
    int outl = 0;

    if (!a->ready)
        return false;
    if (!s->tls13 && s->alg != MC_TLS_CHACHA20_POLY1305)
        off = MC_TLS12_EXPLICIT_NONCE_LEN;
    if (len < off + MC_TLS_AEAD_TAG_LEN)
        return false;
    ct_len = len - off - MC_TLS_AEAD_TAG_LEN;

    if (off) { /* GCM in TLS 1.2: salt || explicit nonce from the record */
        memcpy(nonce, a->iv, 4);
        memcpy(nonce + 4, frag, 8);
    } else {
        memcpy(nonce, a->iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= (uint8_t)(a->seq >> (56 - 8 * i));
    }
    if (s->tls13) {
        memcpy(aad, hdr, 5);
        aad_len = 5;
    } else {
        for (int i = 0; i < 8; i++)
            aad[i] = (uint8_t)(a->seq >> (56 - 8 * i));
        aad[8] = hdr[0];
        aad[9] = hdr[1];
        aad[10] = hdr[2];
        aad[11] = (uint8_t)(ct_len >> 8);
        aad[12] = (uint8_t)ct_len;
        aad_len = 13;
    }
    if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aad_len) != 1 ||
        EVP_DecryptUpdate(c, frag + off, &outl, frag + off, (int)ct_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, MC_TLS_AEAD_TAG_LEN,
                            frag + off + ct_len) != 1 ||
        EVP_DecryptFinal_ex(c, frag + off + (size_t)outl, &outl) != 1)
        return false;
    a->seq++;
    *plain_off = off;
    *plain_len = ct_len;
    return true;
}
