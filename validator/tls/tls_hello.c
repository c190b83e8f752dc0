/*
 * ClientHello, ServerHello and EncryptedExtensions parsing.
 *
 *   ClientHello: legacy_version(2) random(32) legacy_session_id<0..32>
 *                cipher_suites<2..2^16-2> legacy_compression_methods<1..2^8-1>
 *                extensions<8..2^16-1>            (RFC 8446 s4.1.2; in
 *                TLS 1.2 the extensions may be absent, RFC 5246 s7.4.1.2)
 *   ServerHello: legacy_version(2) random(32) legacy_session_id_echo<0..32>
 *                cipher_suite(2) legacy_compression_method(1)
 *                extensions<6..2^16-1>            (RFC 8446 s4.1.3)
 *   Extension:   extension_type(2) extension_data<0..2^16-1>
 *   server_name (0):          ServerNameList<1..2^16-1> of
 *                             name_type(1) HostName<1..2^16-1> (RFC 6066 s3)
 *   ALPN (16):                ProtocolNameList<2..2^16-1> of
 *                             ProtocolName<1..2^8-1> (RFC 7301 s3.1)
 *   early_data (42), supported_versions (43): RFC 8446 s4.2.10, s4.2.1
 *   A HelloRetryRequest is a ServerHello whose random is SHA-256 of
 *   "HelloRetryRequest" (RFC 8446 s4.1.3).
 */
#include "tls_internal.h"

#include <string.h>

static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

/* A bounded reader: every read checks what is left. */
struct rd {
    const uint8_t *p;
    size_t n;
};

static bool get_u8(struct rd *r, unsigned *v)
{
    if (r->n < 1)
        return false;
    *v = r->p[0];
    r->p++;
    r->n--;
    return true;
}

static bool get_u16(struct rd *r, unsigned *v)
{
    if (r->n < 2)
        return false;
    *v = (unsigned)r->p[0] << 8 | r->p[1];
    r->p += 2;
    r->n -= 2;
    return true;
}

/* A sub-reader of len octets (vector body). */
static bool get_sub(struct rd *r, size_t len, struct rd *sub)
{
    if (r->n < len)
        return false;
    sub->p = r->p;
    sub->n = len;
    r->p += len;
    r->n -= len;
    return true;
}

static bool get_vec8(struct rd *r, struct rd *sub)
{
    unsigned l;
    return get_u8(r, &l) && get_sub(r, l, sub);
}

static bool get_vec16(struct rd *r, struct rd *sub)
{
    unsigned l;
    return get_u16(r, &l) && get_sub(r, l, sub);
}

static bool is_grease(unsigned v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Copies name into out as printable ASCII (others become '?'), appending
 * after a comma when out is not empty; truncates at cap. */
static void append_name(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = strlen(out);
    if (o > 0 && o + 1 < cap)
        out[o++] = ',';
    for (size_t i = 0; i < n && o + 1 < cap; i++)
        out[o++] = (p[i] >= 0x21 && p[i] < 0x7f && p[i] != ',') ? (char)p[i] : '?';
    out[o] = '\0';
}

static const char *parse_sni(struct rd e, struct mc_tls_hello *h)
{
    struct rd list, name;
    if (!get_vec16(&e, &list) || e.n != 0 || list.n == 0)
        return "server_name: bad list length";
    while (list.n > 0) {
        unsigned type;
        if (!get_u8(&list, &type) || !get_vec16(&list, &name))
            return "server_name: truncated entry";
        if (type == 0 && !h->has_sni) {
            if (name.n == 0)
                return "server_name: empty host_name";
            h->has_sni = true;
            h->sni[0] = '\0';
            append_name(h->sni, sizeof h->sni, name.p, name.n);
        }
    }
    return NULL;
}

static const char *parse_alpn(struct rd e, char *out, size_t cap, unsigned *count)
{
    struct rd list, name;
    if (!get_vec16(&e, &list) || e.n != 0 || list.n == 0)
        return "ALPN: bad list length";
    out[0] = '\0';
    *count = 0;
    while (list.n > 0) {
        if (!get_vec8(&list, &name) || name.n == 0)
            return "ALPN: empty or truncated protocol name";
        append_name(out, cap, name.p, name.n);
        (*count)++;
    }
    return NULL;
}

static const char *parse_versions(struct rd e, bool client, struct mc_tls_hello *h)
{
    unsigned v;
    if (!client) { /* the selected version */
        if (!get_u16(&e, &v) || e.n != 0)
            return "supported_versions: not one version";
        h->versions[0] = (uint16_t)v;
        h->n_versions = 1;
        return NULL;
    }
    struct rd list;
    if (!get_vec8(&e, &list) || e.n != 0 || list.n < 2 || list.n % 2)
        return "supported_versions: bad list length";
    while (get_u16(&list, &v)) {
        if (h->n_versions < MC_TLS_MAX_LIST)
            h->versions[h->n_versions] = (uint16_t)v;
        h->n_versions++;
    }
    return NULL;
}

static const char *parse_extensions(struct rd *r, bool client, struct mc_tls_hello *h)
{
    struct rd exts, data;
    bool seen_sv = false;
    if (r->n == 0) /* TLS 1.2 and older may omit them */
        return NULL;
    if (!get_vec16(r, &exts) || r->n != 0)
        return "extensions: length does not match the message";
    while (exts.n > 0) {
        unsigned type;
        const char *why = NULL;
        if (!get_u16(&exts, &type) || !get_vec16(&exts, &data))
            return "extensions: truncated extension";
        switch (type) {
        case 0:
            if (client)
                why = parse_sni(data, h);
            else
                h->has_sni = true; /* the server's empty acknowledgement */
            break;
        case 16: {
            unsigned count;
            why = parse_alpn(data, h->alpn, sizeof h->alpn, &count);
            if (!why && !client && count != 1)
                why = "ALPN: the server must choose exactly one protocol";
            h->has_alpn = why == NULL;
            break;
        }
        case 42:
            h->early_data = true;
            break;
        case 43:
            if (seen_sv)
                return "supported_versions: appears twice";
            seen_sv = true;
            why = parse_versions(data, client, h);
            break;
        default:
            break;
        }
        if (why)
            return why;
    }
    return NULL;
}

const char *mc_tls_parse_hello(const uint8_t *p, size_t n, bool client, struct mc_tls_hello *h)
{
    struct rd r = {p, n}, sid, list;
    unsigned v;
    const char *why;

    if (!get_u16(&r, &v))
        return "truncated before the version";
    h->legacy_version = (uint16_t)v;
    if (r.n < MC_TLS_RANDOM_LEN)
        return "truncated in the random";
    memcpy(h->random, r.p, MC_TLS_RANDOM_LEN);
    r.p += MC_TLS_RANDOM_LEN;
    r.n -= MC_TLS_RANDOM_LEN;
    if (!get_vec8(&r, &sid) || sid.n > 32)
        return "bad session id";
    if (client) {
        if (!get_vec16(&r, &list) || list.n < 2 || list.n % 2)
            return "bad cipher_suites length";
        while (get_u16(&list, &v)) {
            if (h->n_suites < MC_TLS_MAX_LIST)
                h->suites[h->n_suites] = (uint16_t)v;
            h->n_suites++;
        }
        if (!get_vec8(&r, &list) || list.n < 1)
            return "bad compression methods";
    } else {
        h->hrr = memcmp(h->random, hrr_random, sizeof hrr_random) == 0;
        if (!get_u16(&r, &v))
            return "truncated before the cipher suite";
        h->suites[0] = (uint16_t)v;
        h->n_suites = 1;
        if (!get_u8(&r, &v))
            return "truncated before the compression method";
    }
    why = parse_extensions(&r, client, h);

    /* what it amounts to: the highest offered, or the selected version
     * (supported_versions wins over legacy_version; GREASE values skipped) */
    h->version = h->legacy_version;
    uint16_t best = 0;
    for (unsigned i = 0; i < h->n_versions && i < MC_TLS_MAX_LIST; i++)
        if (!is_grease(h->versions[i]) && h->versions[i] > best)
            best = h->versions[i];
    if (best)
        h->version = best;
    return why;
}

const char *mc_tls_parse_encrypted_extensions(const uint8_t *p, size_t n, char *alpn, size_t cap,
                                              bool *early_data)
{
    struct rd r = {p, n}, exts, data;
    *early_data = false;
    if (!get_vec16(&r, &exts) || r.n != 0)
        return "EncryptedExtensions: length does not match the message";
    while (exts.n > 0) {
        unsigned type, count;
        if (!get_u16(&exts, &type) || !get_vec16(&exts, &data))
            return "EncryptedExtensions: truncated extension";
        if (type == 42)
            *early_data = true;
        if (type == 16) {
            const char *why = parse_alpn(data, alpn, cap, &count);
            if (why)
                return why;
            if (count != 1)
                return "ALPN: the server must choose exactly one protocol";
        }
    }
    return NULL;
}
