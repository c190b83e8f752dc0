/*
 * TLS record tracking and decryption for one connection (API in tls.h).
 *
 * Per direction: a record assembler (header, then body into one buffer of
 * MC_TLS_RECORD_BUF octets, or skipped by length when too long), then per
 * record: protection (decrypt in place), then by content type: handshake
 * messages (reassembled across records, bodies kept only for the messages
 * parsed here), alerts, ChangeCipherSpec, application data (handed on).
 *
 * Protection, per direction:
 *   TLS 1.3  records of type application_data after the ServerHello are
 *            protected: handshake traffic keys until that side's Finished,
 *            then application traffic keys, renewed by KeyUpdate
 *            (RFC 8446 s5.2, s7.2, s4.6.3). ChangeCipherSpec is only the
 *            middlebox-compatibility record and ignored (s5, D.4).
 *   TLS 1.2  everything after that side's ChangeCipherSpec (RFC 5246 s7.1),
 *            keys from the key block.
 * Record limits: plaintext 2^14 (RFC 8446 s5.1, RFC 5246 s6.2.1),
 * TLS 1.3 ciphertext 2^14 + 256 (RFC 8446 s5.2), TLS 1.2 ciphertext
 * 2^14 + 2048 (RFC 5246 s6.2.3).
 */
#include "tls.h"
#include "tls_crypto.h"
#include "tls_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum keys { KEYS_NONE, KEYS_HANDSHAKE, KEYS_APP };

struct dir {
    uint8_t *rec;          /* MC_TLS_RECORD_BUF octets, then the handshake buffer */
    uint8_t *hs;           /* MC_TLS_HS_MAX octets */
    size_t have;           /* octets of the current record held (header included) */
    uint64_t skip;         /* octets of a skipped record still to come */
    bool skip_protected;   /* the skipped record used up a sequence number */
    uint64_t off;          /* octets seen in this direction */
    uint64_t rec_off;      /* offset of the current record's first octet */
    uint64_t frame;        /* frame of the chunk being fed */
    bool started;          /* a valid record header was seen */
    bool lost, ended, protected_, close_notify, after_close_reported;
    bool version_mismatch_reported, early_reported, hs_lost;
    bool last_unreadable_alert; /* the last record: an alert we could not read */
    uint64_t early_suspects;    /* records skipped as 0-RTT data after the ServerHello */
    /* handshake message reassembly */
    uint8_t hs_hdr[4];
    unsigned hs_hdr_have;
    uint32_t hs_len, hs_have;
    bool hs_keep;
    /* protection */
    struct mc_tls_aead aead;
    enum keys keys;
    uint8_t secret[MC_TLS_SECRET_MAX]; /* TLS 1.3: current traffic secret */
    size_t secret_len;
    unsigned fail_streak;
    bool opened_any;       /* a record of this direction was decrypted */
};

struct mc_tls_conn {
    struct mc_tls_cb cb;
    const struct mc_tls_keylog *keylog;
    struct dir d[2];
    struct mc_tls_info info;
    bool have_client_random, have_server_hello, tls13, early_offered, hrr, client_offered_13;
    bool ee_seen, early_accepted; /* the server's EncryptedExtensions, decrypted */
    bool no_key_reported, suite_reported;
    uint8_t client_random[MC_TLS_RANDOM_LEN], server_random[MC_TLS_RANDOM_LEN];
    const struct mc_tls_suite *suite;
    /* TLS 1.2: keys from the key block, installed at each ChangeCipherSpec */
    bool have_key_block;
    uint8_t key_block[2 * (32 + 12)];
};

static const char *const ev_names[] = {
#define MC_TLS_EV_NAME(name, desc) #name,
    MC_TLS_EVENTS(MC_TLS_EV_NAME)
#undef MC_TLS_EV_NAME
};
static const char *const ev_descs[] = {
#define MC_TLS_EV_DESC(name, desc) desc,
    MC_TLS_EVENTS(MC_TLS_EV_DESC)
#undef MC_TLS_EV_DESC
};

const char *mc_tls_ev_name(enum mc_tls_ev ev)
{
    return (unsigned)ev < MC_TLS_EV_COUNT ? ev_names[ev] : "?";
}

const char *mc_tls_ev_desc(enum mc_tls_ev ev)
{
    return (unsigned)ev < MC_TLS_EV_COUNT ? ev_descs[ev] : "?";
}

const char *mc_tls_version_name(uint16_t v)
{
    switch (v) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: return "unknown version";
    }
}

const char *mc_tls_suite_name(uint16_t id)
{
    const struct mc_tls_suite *s = mc_tls_suite_find(id);
    return s ? s->name : NULL;
}

const char *mc_tls_alert_name(uint8_t desc)
{
    switch (desc) { /* RFC 8446 s6, RFC 5246 s7.2 */
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return NULL;
    }
}

static const char *side(enum mc_tls_dir d)
{
    return d == MC_TLS_C2S ? "client" : "server";
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void event_n(struct mc_tls_conn *c, enum mc_tls_dir dir, enum mc_tls_ev ev,
                    uint64_t octets, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#include <stdarg.h>

static void event_n(struct mc_tls_conn *c, enum mc_tls_dir dir, enum mc_tls_ev ev,
                    uint64_t octets, const char *fmt, ...)
{
    char detail[320];
    va_list ap;
    if (!c->cb.event || c->info.out_of_memory)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    struct mc_tls_event e = {ev, dir, c->d[dir].frame, c->d[dir].rec_off, octets, detail};
    c->cb.event(c->cb.ctx, &e);
}

#define EVENT(c, dir, ev, ...) event_n(c, dir, ev, 0, __VA_ARGS__)

/* An allocation failed: neither direction is followed any further (one
 * direction's judgement rests on the other's handshake, so following the
 * other alone would blame a peer for what we failed to keep). One
 * OUT_OF_MEMORY event; after it no callback at all (event_n and the
 * callers of the other callbacks check info.out_of_memory). */
static void out_of_memory(struct mc_tls_conn *c, enum mc_tls_dir dir, const char *what)
{
    if (c->info.out_of_memory)
        return;
    EVENT(c, dir, MC_TLS_EV_OUT_OF_MEMORY, "out of memory for %s (%s's records): the TLS "
          "connection is not followed further", what, side(dir));
    c->info.out_of_memory = true;
    for (int i = 0; i < 2; i++) {
        c->d[i].lost = true;
        c->info.lost[i] = true;
        c->info.decrypting[i] = false;
    }
}

/* ---- keys ---------------------------------------------------------------- */

static void note_no_key(struct mc_tls_conn *c, enum mc_tls_dir dir, enum mc_tls_secret which)
{
    char rnd[2 * MC_TLS_RANDOM_LEN + 1];
    if (c->no_key_reported)
        return;
    c->no_key_reported = true;
    if (!c->have_client_random) {
        EVENT(c, dir, MC_TLS_EV_NO_KEY, "encrypted, not validated: no ClientHello seen, so no "
                                        "client random to look a key up by");
        return;
    }
    hex(rnd, c->client_random, MC_TLS_RANDOM_LEN);
    if (which == MC_TLS_SECRET_MASTER)
        EVENT(c, dir, MC_TLS_EV_NO_KEY, "encrypted, not validated: no key for client random %s",
              rnd);
    else
        EVENT(c, dir, MC_TLS_EV_NO_KEY, "encrypted, not validated: no key for client random %s "
              "(%s)", rnd, mc_tls_secret_label(which));
}

/* TLS 1.3: installs the traffic secret `which` for dir. */
static void install_13(struct mc_tls_conn *c, enum mc_tls_dir dir, enum mc_tls_secret which,
                       enum keys keys)
{
    struct dir *d = &c->d[dir];
    uint8_t secret[MC_TLS_SECRET_MAX];
    size_t len = mc_tls_keylog_find(c->keylog, which, c->client_random, secret);
    size_t want = c->suite->sha384 ? 48 : 32;
    d->keys = keys;
    d->aead.ready = false;
    d->fail_streak = 0;
    if (len == 0) {
        note_no_key(c, dir, which);
    } else if (len != want) {
        EVENT(c, dir, MC_TLS_EV_NO_KEY, "encrypted, not validated: %s in the key log has %zu "
              "octets, %s needs %zu", mc_tls_secret_label(which), len, c->suite->name, want);
    } else if (mc_tls_aead_set_13(&d->aead, c->suite, secret, len)) {
        memcpy(d->secret, secret, len);
        d->secret_len = len;
    } else if (!d->aead.ctx) { /* the cipher context could not be allocated */
        out_of_memory(c, dir, "a cipher context");
    }
    c->info.decrypting[dir] = d->aead.ready && !c->info.out_of_memory;
    memset(secret, 0, sizeof secret);
}

/* TLS 1.2: the key block from the master secret, once the ServerHello is in. */
static void prepare_12(struct mc_tls_conn *c, enum mc_tls_dir dir)
{
    uint8_t master[MC_TLS_SECRET_MAX];
    size_t len = mc_tls_keylog_find(c->keylog, MC_TLS_SECRET_MASTER, c->client_random, master);
    if (len != 48) {
        note_no_key(c, dir, MC_TLS_SECRET_MASTER);
        return;
    }
    c->have_key_block = mc_tls12_key_block(c->suite, master, c->client_random, c->server_random,
                                           c->key_block,
                                           2u * (c->suite->key_len + c->suite->fixed_iv_len));
    memset(master, 0, sizeof master);
}

static void install_12(struct mc_tls_conn *c, enum mc_tls_dir dir)
{
    const struct mc_tls_suite *s = c->suite;
    const uint8_t *kb = c->key_block;
    struct dir *d = &c->d[dir];
    size_t k = s ? s->key_len : 0;
    d->keys = KEYS_APP;
    if (!s || !c->have_key_block)
        return;
    /* client_write_key, server_write_key, client_write_IV, server_write_IV */
    if (!mc_tls_aead_set_12(&d->aead, s, kb + (dir == MC_TLS_C2S ? 0 : k),
                            kb + 2 * k + (dir == MC_TLS_C2S ? 0 : s->fixed_iv_len)) &&
        !d->aead.ctx) /* the cipher context could not be allocated */
        out_of_memory(c, dir, "a cipher context");
    c->info.decrypting[dir] = d->aead.ready && !c->info.out_of_memory;
}

/* ---- handshake messages -------------------------------------------------- */

static bool handshake_done(const struct mc_tls_conn *c)
{
    return c->info.handshake_done[0] && c->info.handshake_done[1];
}

/* Parses a ClientHello (client) or ServerHello at the current record into
 * h; false, with a BAD_MESSAGE event, when it is malformed. */
static bool parse_hello(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                        bool client, struct mc_tls_hello *h)
{
    const char *why;
    memset(h, 0, sizeof *h);
    h->dir = dir;
    h->frame = c->d[dir].frame;
    h->offset = c->d[dir].rec_off;
    why = mc_tls_parse_hello(p, n, client, h);
    if (why)
        EVENT(c, dir, MC_TLS_EV_BAD_MESSAGE, "%s: %s", client ? "ClientHello" : "ServerHello", why);
    return why == NULL;
}

static void on_client_hello(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p,
                            size_t n, bool prot)
{
    struct mc_tls_hello h;
    if (dir != MC_TLS_C2S) {
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "the server sent a ClientHello");
        return;
    }
    if (prot || c->have_server_hello) {
        if (!c->hrr || prot) {
            EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE,
                  "ClientHello after the ServerHello (renegotiation is not followed)");
            return;
        }
    }
    if (!parse_hello(c, dir, p, n, true, &h))
        return;
    memcpy(c->client_random, h.random, MC_TLS_RANDOM_LEN);
    c->have_client_random = true;
    c->early_offered = h.early_data;
    c->client_offered_13 = h.version >= 0x0304;
    if (h.has_sni)
        memcpy(c->info.sni, h.sni, sizeof c->info.sni);
    if (c->cb.hello && !c->info.out_of_memory)
        c->cb.hello(c->cb.ctx, &h);
}

static void on_server_hello(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p,
                            size_t n, bool prot)
{
    struct mc_tls_hello h;
    if (dir != MC_TLS_S2C || prot || c->have_server_hello) {
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "%s",
              dir != MC_TLS_S2C ? "the client sent a ServerHello"
                                : "second ServerHello (renegotiation is not followed)");
        return;
    }
    if (!parse_hello(c, dir, p, n, false, &h))
        return;
    if (c->cb.hello && !c->info.out_of_memory)
        c->cb.hello(c->cb.ctx, &h);
    if (h.hrr) { /* only TLS 1.3 has it; the real ServerHello follows */
        c->hrr = true;
        EVENT(c, dir, MC_TLS_EV_HELLO_RETRY, "HelloRetryRequest for %s",
              mc_tls_suite_name(h.suites[0]) ? mc_tls_suite_name(h.suites[0]) : "a cipher suite");
        return;
    }
    c->have_server_hello = true;
    memcpy(c->server_random, h.random, MC_TLS_RANDOM_LEN);
    c->info.version = h.version;
    c->info.suite = h.suites[0];
    if (h.has_alpn) { /* one protocol; longer names are cut */
        size_t l = 0;
        while (l < sizeof c->info.alpn - 1 && h.alpn[l])
            l++;
        memcpy(c->info.alpn, h.alpn, l);
        c->info.alpn[l] = '\0';
    }
    if (h.version < 0x0303) {
        EVENT(c, dir, MC_TLS_EV_OLD_VERSION, "%s negotiated (0x%04x); RFC 8996 forbids TLS 1.0 "
              "and 1.1, RFC 8314 s4 wants TLS 1.2 or later", mc_tls_version_name(h.version),
              h.version);
    }
    c->tls13 = h.version == 0x0304;
    c->suite = mc_tls_suite_find(h.suites[0]);
    if (!c->suite || c->suite->tls13 != c->tls13 || h.version < 0x0303 || h.version > 0x0304) {
        c->suite = NULL;
        c->suite_reported = true;
        EVENT(c, dir, MC_TLS_EV_UNSUPPORTED_SUITE, "encrypted, not validated: %s with cipher "
              "suite 0x%04x is not decryptable here", mc_tls_version_name(h.version),
              h.suites[0]);
        return;
    }
    if (!c->have_client_random) {
        note_no_key(c, dir, MC_TLS_SECRET_MASTER);
        return;
    }
    if (c->tls13) {
        /* both directions now protected: the server from its next record,
         * the client from its next application_data record */
        install_13(c, MC_TLS_S2C, MC_TLS_SECRET_SERVER_HANDSHAKE, KEYS_HANDSHAKE);
        install_13(c, MC_TLS_C2S, MC_TLS_SECRET_CLIENT_HANDSHAKE, KEYS_HANDSHAKE);
    } else {
        prepare_12(c, dir);
    }
}

static void on_finished(struct mc_tls_conn *c, enum mc_tls_dir dir, bool prot)
{
    struct dir *d = &c->d[dir];
    if (!prot) {
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "Finished sent in the clear");
        return;
    }
    c->info.handshake_done[dir] = true;
    if (c->tls13 && d->keys == KEYS_HANDSHAKE)
        install_13(c, dir, dir == MC_TLS_C2S ? MC_TLS_SECRET_CLIENT_APP : MC_TLS_SECRET_SERVER_APP,
                   KEYS_APP);
}

static void on_key_update(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                          bool prot)
{
    struct dir *d = &c->d[dir];
    if (!c->tls13 || !prot || d->keys != KEYS_APP) {
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "KeyUpdate outside TLS 1.3 application data");
        return;
    }
    if (n != 1 || p[0] > 1) {
        EVENT(c, dir, MC_TLS_EV_BAD_MESSAGE, "KeyUpdate: body is not one octet 0 or 1");
        return;
    }
    EVENT(c, dir, MC_TLS_EV_KEY_UPDATE, "%s updates its keys (%s)", side(dir),
          p[0] ? "update_requested" : "update_not_requested");
    if (d->secret_len && mc_tls13_update_secret(c->suite, d->secret, d->secret_len))
        mc_tls_aead_set_13(&d->aead, c->suite, d->secret, d->secret_len);
    else
        d->aead.ready = false;
    c->info.decrypting[dir] = d->aead.ready;
}

/* A complete handshake message; returns true when it changed the keys of
 * dir (the record must end with it). */
static bool on_message(struct mc_tls_conn *c, enum mc_tls_dir dir, uint8_t type,
                       const uint8_t *p, size_t n, bool prot)
{
    enum keys before = c->d[dir].keys;
    bool was_protected = c->d[dir].protected_;
    switch (type) {
    case MC_TLS_HS_CLIENT_HELLO:
        on_client_hello(c, dir, p, n, prot);
        break;
    case MC_TLS_HS_SERVER_HELLO:
        on_server_hello(c, dir, p, n, prot);
        if (c->tls13 && c->have_server_hello) {
            c->d[MC_TLS_S2C].protected_ = true;
            c->d[MC_TLS_C2S].protected_ = true;
        }
        break;
    case MC_TLS_HS_ENCRYPTED_EXTENSIONS:
        if (prot && c->tls13 && dir == MC_TLS_S2C) {
            char alpn[64] = "";
            bool early = false;
            const char *why = mc_tls_parse_encrypted_extensions(p, n, alpn, sizeof alpn, &early);
            if (why) {
                EVENT(c, dir, MC_TLS_EV_BAD_MESSAGE, "%s", why);
            } else {
                c->ee_seen = true;
                c->early_accepted = early;
                if (alpn[0])
                    memcpy(c->info.alpn, alpn, sizeof alpn);
            }
        }
        break;
    case MC_TLS_HS_FINISHED:
        on_finished(c, dir, prot);
        break;
    case MC_TLS_HS_KEY_UPDATE:
        on_key_update(c, dir, p, n, prot);
        return true;
    default:
        break;
    }
    return c->d[dir].keys != before || c->d[dir].protected_ != was_protected;
}

static bool hs_kept(uint8_t type)
{
    return type == MC_TLS_HS_CLIENT_HELLO || type == MC_TLS_HS_SERVER_HELLO ||
           type == MC_TLS_HS_ENCRYPTED_EXTENSIONS || type == MC_TLS_HS_KEY_UPDATE;
}

/* The handshake octets of one record (plaintext or decrypted). */
static void hs_feed(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                    bool prot)
{
    struct dir *d = &c->d[dir];
    if (d->hs_lost)
        return;
    while (n > 0) {
        if (d->hs_hdr_have < 4) {
            d->hs_hdr[d->hs_hdr_have++] = *p++;
            n--;
            if (d->hs_hdr_have < 4)
                continue;
            d->hs_len = (uint32_t)d->hs_hdr[1] << 16 | (uint32_t)d->hs_hdr[2] << 8 | d->hs_hdr[3];
            d->hs_have = 0;
            d->hs_keep = hs_kept(d->hs_hdr[0]);
            if (d->hs_keep && d->hs_len > MC_TLS_HS_MAX) {
                d->hs_keep = false;
                EVENT(c, dir, MC_TLS_EV_HANDSHAKE_TOO_LONG, "handshake message type %u of %u "
                      "octets not parsed (limit %u)", d->hs_hdr[0], d->hs_len, MC_TLS_HS_MAX);
            }
        }
        size_t take = d->hs_len - d->hs_have;
        if (take > n)
            take = n;
        if (d->hs_keep)
            memcpy(d->hs + d->hs_have, p, take);
        d->hs_have += (uint32_t)take;
        p += take;
        n -= take;
        if (d->hs_have < d->hs_len)
            return;
        d->hs_hdr_have = 0;
        bool parsed = d->hs_keep || !hs_kept(d->hs_hdr[0]);
        if (parsed && on_message(c, dir, d->hs_hdr[0], d->hs, d->hs_keep ? d->hs_len : 0, prot) &&
            n > 0) {
            EVENT(c, dir, MC_TLS_EV_HS_SPANS_KEY_CHANGE, "%zu handshake octets follow a key "
                  "change in the same record", n);
        }
    }
}

/* ---- records -------------------------------------------------------------- */

static void on_alert(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                     bool prot)
{
    struct dir *d = &c->d[dir];
    if (n != 2) {
        EVENT(c, dir, MC_TLS_EV_BAD_MESSAGE, "alert record of %zu octets (an alert is 2)", n);
        if (n < 2)
            return;
    }
    struct mc_tls_alert a = {dir, d->frame, d->rec_off, p[0], p[1], prot, true};
    if (c->cb.alert && !c->info.out_of_memory)
        c->cb.alert(c->cb.ctx, &a);
    if (a.desc == 0) {
        d->close_notify = true;
        c->info.closed[dir] = true;
    } else if (!handshake_done(c) && (a.level == 2 || c->tls13) && a.desc != 90) {
        const char *name = mc_tls_alert_name(a.desc);
        EVENT(c, dir, MC_TLS_EV_HANDSHAKE_FAILED, "the %s sent the fatal alert %s (%u) during "
              "the handshake", side(dir), name ? name : "unknown", a.desc);
    }
}

static void on_app_data(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n)
{
    if (!c->info.handshake_done[dir] && !(c->tls13 && c->d[dir].keys == KEYS_APP)) {
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "application data before the %s finished "
              "its handshake", side(dir));
        return;
    }
    c->info.app_octets[dir] += n;
    if (c->cb.app_data && n > 0 && !c->info.out_of_memory)
        c->cb.app_data(c->cb.ctx, dir, p, n, c->d[dir].frame, c->d[dir].rec_off);
}

/* Content after protection is removed (or of a plaintext record). */
static void dispatch(struct mc_tls_conn *c, enum mc_tls_dir dir, uint8_t type, const uint8_t *p,
                     size_t n, bool prot)
{
    switch (type) {
    case MC_TLS_CT_HANDSHAKE:
        if (n == 0)
            EVENT(c, dir, MC_TLS_EV_EMPTY_RECORD, "zero-length handshake record");
        hs_feed(c, dir, p, n, prot);
        break;
    case MC_TLS_CT_ALERT:
        if (n == 0) {
            EVENT(c, dir, MC_TLS_EV_EMPTY_RECORD, "zero-length alert record");
            break;
        }
        on_alert(c, dir, p, n, prot);
        break;
    case MC_TLS_CT_APPLICATION_DATA:
        if (!prot) {
            EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "application data record in the clear");
            break;
        }
        on_app_data(c, dir, p, n);
        break;
    default:
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "%s record%s", type == MC_TLS_CT_HEARTBEAT ?
              "heartbeat" : "unexpected content type", prot ? " inside protection" : "");
        break;
    }
}

static void on_ccs(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n)
{
    struct dir *d = &c->d[dir];
    if (n != 1 || p[0] != 1)
        EVENT(c, dir, MC_TLS_EV_BAD_MESSAGE, "ChangeCipherSpec is not the single octet 1");
    /* TLS 1.3: middlebox compatibility only (RFC 8446 s5, D.4); a client
     * offering TLS 1.3 may send it before the ServerHello */
    if (c->tls13 || c->hrr || (!c->have_server_hello && dir == MC_TLS_C2S && c->client_offered_13)) {
        if (c->info.handshake_done[dir])
            EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "ChangeCipherSpec after the handshake");
        return;
    }
    if (!c->have_server_hello) {
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "ChangeCipherSpec before the ServerHello");
        return;
    }
    if (d->protected_) {
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE,
              "second ChangeCipherSpec (renegotiation is not followed)");
        return;
    }
    d->protected_ = true;
    install_12(c, dir);
}

/* A protected record: decrypts in place and dispatches. */
static void open_record(struct mc_tls_conn *c, enum mc_tls_dir dir, uint8_t *rec, size_t len)
{
    struct dir *d = &c->d[dir];
    uint8_t *frag = rec + MC_TLS_RECORD_HDR;
    size_t off, n;

    if (!d->aead.ready) {
        c->info.encrypted_records[dir]++;
        if (!c->tls13 && d->keys == KEYS_APP && !c->info.handshake_done[dir])
            c->info.handshake_done[dir] = true; /* its encrypted Finished */
        if (rec[0] == MC_TLS_CT_ALERT) {
            struct mc_tls_alert a = {dir, d->frame, d->rec_off, 0, 0, true, false};
            d->last_unreadable_alert = true; /* may well be close_notify */
            if (c->cb.alert && !c->info.out_of_memory)
                c->cb.alert(c->cb.ctx, &a);
        }
        return;
    }
    if (!mc_tls_aead_open(&d->aead, rec, frag, len, &off, &n)) {
        c->info.encrypted_records[dir]++;
        if (c->tls13 && dir == MC_TLS_C2S && c->early_offered && !d->opened_any &&
            (!c->ee_seen || c->early_accepted)) {
            /* 0-RTT data under the early traffic secret, which we do not
             * use: the client sends it until the server's EncryptedExtensions
             * say it was refused, or until EndOfEarlyData if accepted. Should
             * no client record ever open, mc_tls_conn_end() says so. */
            d->early_suspects++;
            if (!d->early_reported)
                EVENT(c, dir, MC_TLS_EV_EARLY_DATA_SKIPPED, "0-RTT early data record(s) "
                      "skipped (CLIENT_EARLY_TRAFFIC_SECRET is not used)");
            d->early_reported = true;
            return;
        }
        if (d->fail_streak++ == 0)
            EVENT(c, dir, MC_TLS_EV_DECRYPT_FAILED, "%s record %llu (%s keys, sequence %llu): "
                  "authentication tag does not verify (wrong key or corrupted record)",
                  side(dir), (unsigned long long)c->info.records[dir],
                  d->keys == KEYS_HANDSHAKE ? "handshake" : "traffic",
                  (unsigned long long)d->aead.seq);
        d->aead.seq++; /* the record used up its number all the same */
        c->info.decrypting[dir] = false;
        return;
    }
    d->fail_streak = 0;
    d->opened_any = true;
    c->info.decrypting[dir] = true;
    frag += off;
    if (!c->tls13) {
        if (n > MC_TLS_PLAINTEXT_MAX)
            EVENT(c, dir, MC_TLS_EV_RECORD_TOO_LONG, "decrypted record of %zu octets (limit "
                  "2^14)", n);
        dispatch(c, dir, rec[0], frag, n, true);
        return;
    }
    /* TLSInnerPlaintext: content, type, zeros (RFC 8446 s5.2) */
    while (n > 0 && frag[n - 1] == 0)
        n--;
    if (n == 0) {
        EVENT(c, dir, MC_TLS_EV_BAD_INNER_PLAINTEXT, "decrypted record has no content type");
        return;
    }
    n--;
    if (n > MC_TLS_PLAINTEXT_MAX)
        EVENT(c, dir, MC_TLS_EV_BAD_INNER_PLAINTEXT, "decrypted content of %zu octets (limit "
              "2^14)", n);
    dispatch(c, dir, frag[n], frag, n, true);
}

static void on_record(struct mc_tls_conn *c, enum mc_tls_dir dir, uint8_t *rec, size_t len)
{
    struct dir *d = &c->d[dir];
    uint8_t type = rec[0];
    uint16_t version = (uint16_t)(rec[1] << 8 | rec[2]);

    c->info.records[dir]++;
    d->last_unreadable_alert = false;
    if (d->close_notify && !d->after_close_reported) {
        d->after_close_reported = true;
        EVENT(c, dir, MC_TLS_EV_DATA_AFTER_CLOSE_NOTIFY, "record after the %s's close_notify",
              side(dir));
    }
    if (c->have_server_hello && !d->version_mismatch_reported) {
        uint16_t want = c->tls13 ? 0x0303 : c->info.version;
        if (version != want) {
            d->version_mismatch_reported = true;
            EVENT(c, dir, MC_TLS_EV_RECORD_VERSION_MISMATCH, "record version 0x%04x, expected "
                  "0x%04x", version, want);
        }
    }
    if (type == MC_TLS_CT_CHANGE_CIPHER_SPEC) {
        on_ccs(c, dir, rec + MC_TLS_RECORD_HDR, len);
        return;
    }
    if (type == MC_TLS_CT_APPLICATION_DATA && dir == MC_TLS_C2S && c->early_offered &&
        !c->have_server_hello) { /* 0-RTT data right behind the ClientHello */
        c->info.encrypted_records[dir]++;
        if (!d->early_reported)
            EVENT(c, dir, MC_TLS_EV_EARLY_DATA_SKIPPED, "0-RTT early data record(s) skipped "
                  "(CLIENT_EARLY_TRAFFIC_SECRET is not used)");
        d->early_reported = true;
        return;
    }
    if (d->protected_ && (!c->tls13 || type == MC_TLS_CT_APPLICATION_DATA)) {
        open_record(c, dir, rec, len);
        return;
    }
    if (c->tls13 && d->protected_ && type == MC_TLS_CT_HANDSHAKE)
        EVENT(c, dir, MC_TLS_EV_UNEXPECTED_MESSAGE, "handshake record in the clear after the "
              "ServerHello");
    dispatch(c, dir, type, rec + MC_TLS_RECORD_HDR, len, false);
}

/* Escapes up to n octets for a detail text. */
static void excerpt(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
    }
    out[o] = '\0';
}

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\r' || p[i] == '\n' || p[i] == '\t'))
            return false;
    return true;
}

/* The header of the current record is complete: judge it. Returns false
 * when the direction is lost. */
static bool check_header(struct mc_tls_conn *c, enum mc_tls_dir dir)
{
    struct dir *d = &c->d[dir];
    const uint8_t *h = d->rec;
    size_t len = (size_t)h[3] << 8 | h[4];
    char ex[64];
    bool type_ok = h[0] >= MC_TLS_CT_CHANGE_CIPHER_SPEC && h[0] <= MC_TLS_CT_HEARTBEAT;

    if (!type_ok || h[1] != 3) {
        excerpt(ex, sizeof ex, h, MC_TLS_RECORD_HDR);
        if (!d->started) {
            if ((h[0] & 0x80) && h[2] == 1)
                EVENT(c, dir, MC_TLS_EV_SSLV2_HELLO, "SSL 2.0 ClientHello; not followed");
            else
                EVENT(c, dir, MC_TLS_EV_NOT_TLS, "the %s sent \"%s\" where TLS must start",
                      side(dir), ex);
        } else if (printable(h, MC_TLS_RECORD_HDR)) {
            EVENT(c, dir, MC_TLS_EV_PLAINTEXT_AFTER_START, "the %s sent plaintext \"%s\" "
                  "after the TLS handshake began", side(dir), ex);
        } else if (!type_ok) {
            EVENT(c, dir, MC_TLS_EV_BAD_RECORD_TYPE, "record type %u (\"%s\")", h[0], ex);
        } else {
            EVENT(c, dir, MC_TLS_EV_BAD_RECORD_VERSION, "record version 0x%02x%02x", h[1], h[2]);
        }
        d->lost = true;
        c->info.lost[dir] = true;
        return false;
    }
    d->started = true;
    /* the limit: ciphertext where protection applies, else plaintext */
    size_t limit = MC_TLS_PLAINTEXT_MAX;
    if (d->protected_ && h[0] != MC_TLS_CT_CHANGE_CIPHER_SPEC)
        limit = c->tls13 ? MC_TLS13_CIPHERTEXT_MAX : MC_TLS12_CIPHERTEXT_MAX;
    if (len > limit) {
        EVENT(c, dir, MC_TLS_EV_RECORD_TOO_LONG, "%s record of %zu octets (limit %zu)",
              limit == MC_TLS_PLAINTEXT_MAX ? "plaintext" : "protected", len, limit);
        if (len > MC_TLS12_CIPHERTEXT_MAX) { /* never buffered: skipped by its length */
            d->skip = len;
            d->skip_protected = d->protected_ && (!c->tls13 || h[0] == MC_TLS_CT_APPLICATION_DATA);
            d->have = 0;
        }
    }
    return true;
}

static void end_skip(struct mc_tls_conn *c, enum mc_tls_dir dir)
{
    struct dir *d = &c->d[dir];
    c->info.records[dir]++;
    if (d->skip_protected && d->aead.ready)
        d->aead.seq++;
    if (d->skip_protected)
        c->info.encrypted_records[dir]++;
    d->skip_protected = false;
}

/* The direction's buffers, allocated at its first octet (offset 0: a gap
 * before any record loses the direction without needing them); false when
 * out of memory, and the connection is then no longer followed. */
static bool dir_buffers(struct mc_tls_conn *c, enum mc_tls_dir dir)
{
    struct dir *d = &c->d[dir];
    if (!d->rec && !d->lost && !d->ended) {
        d->rec = malloc(MC_TLS_RECORD_BUF + MC_TLS_HS_MAX);
        if (!d->rec) {
            out_of_memory(c, dir, "a record buffer");
            return false;
        }
        d->hs = d->rec + MC_TLS_RECORD_BUF;
    }
    return true;
}

void mc_tls_conn_data(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                      uint64_t frame)
{
    struct dir *d;
    if (!c || n == 0)
        return;
    dir = dir != MC_TLS_C2S ? MC_TLS_S2C : MC_TLS_C2S;
    d = &c->d[dir];
    d->frame = frame;
    dir_buffers(c, dir); /* when it fails, d is lost and the octets only counted */
    while (n > 0) {
        if (d->lost || d->ended) {
            d->off += n;
            return;
        }
        if (d->skip > 0) {
            size_t take = d->skip < n ? (size_t)d->skip : n;
            d->skip -= take;
            d->off += take;
            p += take;
            n -= take;
            if (d->skip == 0)
                end_skip(c, dir);
            continue;
        }
        if (d->have == 0)
            d->rec_off = d->off;
        if (d->have < MC_TLS_RECORD_HDR) {
            size_t take = MC_TLS_RECORD_HDR - d->have;
            if (take > n)
                take = n;
            memcpy(d->rec + d->have, p, take);
            d->have += take;
            d->off += take;
            p += take;
            n -= take;
            if (d->have == MC_TLS_RECORD_HDR && !check_header(c, dir))
                continue;
            continue;
        }
        size_t len = (size_t)d->rec[3] << 8 | d->rec[4];
        size_t take = MC_TLS_RECORD_HDR + len - d->have;
        if (take > n)
            take = n;
        memcpy(d->rec + d->have, p, take);
        d->have += take;
        d->off += take;
        p += take;
        n -= take;
        if (d->have == MC_TLS_RECORD_HDR + len) {
            d->have = 0;
            on_record(c, dir, d->rec, len);
        }
    }
    /* a header whose record is empty completes without more octets */
    if (!d->lost && d->have == MC_TLS_RECORD_HDR && d->skip == 0 &&
        ((size_t)d->rec[3] << 8 | d->rec[4]) == 0) {
        d->have = 0;
        on_record(c, dir, d->rec, 0);
    }
}

void mc_tls_conn_gap(struct mc_tls_conn *c, enum mc_tls_dir dir, uint64_t n, uint64_t frame)
{
    struct dir *d;
    if (!c || n == 0)
        return;
    dir = dir != MC_TLS_C2S ? MC_TLS_S2C : MC_TLS_C2S;
    d = &c->d[dir]; /* no buffers needed: a record under way has them */
    d->frame = frame;
    if (d->lost || d->ended) {
        d->off += n;
        return;
    }
    uint64_t left = 0;
    bool prot = false;
    if (d->skip > 0) {
        left = d->skip;
        prot = d->skip_protected;
    } else if (d->have >= MC_TLS_RECORD_HDR) {
        left = MC_TLS_RECORD_HDR + ((size_t)d->rec[3] << 8 | d->rec[4]) - d->have;
        prot = d->protected_ && (!c->tls13 || d->rec[0] == MC_TLS_CT_APPLICATION_DATA);
    }
    if (left > 0 && n <= left) {
        /* framing survives: skip the rest of this record */
        size_t len = (size_t)d->rec[3] << 8 | d->rec[4];
        uint64_t overhead = !prot ? 0 : c->tls13 ? MC_TLS_AEAD_TAG_LEN + 1
                            : MC_TLS_AEAD_TAG_LEN + (c->suite && c->suite->fixed_iv_len == 4 ? 8 : 0);
        uint64_t app = d->skip > 0 || d->rec[0] != MC_TLS_CT_APPLICATION_DATA || len <= overhead
                       ? 0 : len - overhead;
        if (d->skip == 0) {
            d->skip = left;
            d->skip_protected = prot;
            d->have = 0;
            if (d->rec[0] == MC_TLS_CT_HANDSHAKE || (c->tls13 && prot))
                d->hs_lost = d->rec[0] == MC_TLS_CT_HANDSHAKE || !c->info.handshake_done[dir];
        }
        event_n(c, dir, MC_TLS_EV_GAP_IN_RECORD, app, "%llu octets missing inside a record of "
                "%zu octets: the record is skipped", (unsigned long long)n, len);
        d->skip -= n;
        d->off += n;
        if (d->skip == 0)
            end_skip(c, dir);
        return;
    }
    EVENT(c, dir, MC_TLS_EV_GAP_LOST, "%llu octets missing between records: the %s's TLS "
          "stream cannot be followed further", (unsigned long long)n, side(dir));
    d->off += n;
    d->lost = true;
    c->info.lost[dir] = true;
}

void mc_tls_conn_end(struct mc_tls_conn *c, enum mc_tls_dir dir, uint64_t frame)
{
    struct dir *d;
    if (!c)
        return;
    dir = dir != MC_TLS_C2S ? MC_TLS_S2C : MC_TLS_C2S;
    d = &c->d[dir];
    if (d->ended)
        return;
    d->frame = frame;
    if (!d->lost && (d->have > 0 || d->skip > 0)) {
        if (!d->started && d->have < MC_TLS_RECORD_HDR) {
            char ex[64];
            excerpt(ex, sizeof ex, d->rec, d->have);
            if (printable(d->rec, d->have))
                EVENT(c, dir, MC_TLS_EV_NOT_TLS, "the %s sent \"%s\" where TLS must start",
                      side(dir), ex);
            else
                EVENT(c, dir, MC_TLS_EV_TRUNCATED_RECORD, "the %s's stream ended after %zu "
                      "octets of a record header", side(dir), d->have);
        } else {
            EVENT(c, dir, MC_TLS_EV_TRUNCATED_RECORD, "the %s's stream ended inside a record",
                  side(dir));
        }
    }
    if (d->early_suspects > 0 && !d->opened_any && d->aead.ready) {
        EVENT(c, dir, MC_TLS_EV_DECRYPT_FAILED, "none of the %s's %llu protected records "
              "after the ServerHello could be decrypted: wrong key (or all 0-RTT data)",
              side(dir), (unsigned long long)d->early_suspects);
    } else if (!d->lost && (d->have > 0 || d->skip > 0)) {
        /* reported above */
    } else if (!d->lost && c->info.handshake_done[dir] && !d->close_notify &&
               !d->last_unreadable_alert &&
               c->info.app_octets[dir] + c->info.encrypted_records[dir] > 0) {
        EVENT(c, dir, MC_TLS_EV_NO_CLOSE_NOTIFY, "the %s closed the connection without "
              "close_notify", side(dir));
    }
    d->ended = true;
}

struct mc_tls_conn *mc_tls_conn_new(const struct mc_tls_cb *cb, const struct mc_tls_keylog *keylog)
{
    struct mc_tls_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (cb)
        c->cb = *cb;
    c->keylog = keylog;
    return c;
}

void mc_tls_conn_free(struct mc_tls_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < 2; i++) {
        mc_tls_aead_clear(&c->d[i].aead);
        memset(c->d[i].secret, 0, sizeof c->d[i].secret);
        free(c->d[i].rec);
    }
    memset(c->key_block, 0, sizeof c->key_block);
    free(c);
}

const struct mc_tls_info *mc_tls_conn_info(const struct mc_tls_conn *c)
{
    return &c->info;
}
