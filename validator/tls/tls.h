/*
 * TLS record tracking and decryption for one TCP connection.
 *
 * Conventions:
 * - The caller owns a struct mc_tls_conn per connection and feeds it the
 *   octets of each direction in capture order, starting where TLS starts:
 *   the first octet of the connection on implicit-TLS ports (993, 995,
 *   465), or the first octet after the server's STARTTLS/STLS go-ahead.
 *   Every chunk is tagged with the frame number that carried it (Wireshark's
 *   frame.number; any increasing number for transcripts). Octets lost in
 *   the capture are announced with mc_tls_conn_gap(); the end of a direction
 *   (FIN/RST) with mc_tls_conn_end().
 * - The connection reports through callbacks, during the feed call whose
 *   octets completed what is reported, with the frame of the chunk that
 *   carried the last octet of that record and the record's offset (octets
 *   of that direction from where TLS started):
 *     hello     a ClientHello or ServerHello (or HelloRetryRequest) was parsed;
 *     alert     an alert record (plaintext or decrypted);
 *     event     an anomaly or a note (enum mc_tls_ev below), with a
 *               NUL-terminated detail text for the finding's message;
 *     app_data  decrypted application data of one record, in order; this
 *               is what the mail session above is fed.
 *   Any callback may be NULL. Callbacks must not feed the same connection.
 * - The connection never trusts a length: records longer than the limits
 *   are reported and skipped by their length (never buffered); handshake
 *   messages are only buffered when they are parsed here (hellos,
 *   EncryptedExtensions, Finished, KeyUpdate) and fit MC_TLS_HS_MAX.
 * - Memory: one allocation per direction at its first octet, holding one
 *   maximal record (MC_TLS_RECORD_BUF) and the handshake message buffer;
 *   OpenSSL cipher contexts are allocated once per direction when keys are
 *   installed and reused on key changes. Nothing is allocated per record.
 *   When an allocation fails (a direction's buffer, a cipher context), the
 *   connection stops following BOTH directions (one direction's judgement
 *   rests on the other's handshake): one OUT_OF_MEMORY event (direction
 *   and frame of the chunk that needed the memory), info.out_of_memory set,
 *   and no callback at all after it. What was reported before stands; what
 *   comes later is neither judged nor decrypted, and the caller reports
 *   the loss (it is our failure, never the peers').
 * - Any split of the same octets into chunks gives the same callbacks
 *   (apart from frame numbers, which follow the chunks).
 * - Decryption needs the key log (may be NULL: then nothing is decrypted
 *   and a NO_KEY note says so). Looked up by the ClientHello's random when
 *   the ServerHello has fixed version and suite.
 *
 * Limits of this version (docs/tls.md): no TLS 1.3 0-RTT early data (the
 * records are skipped with a note), no CBC or other non-AEAD suites, no
 * SSLv2-format hellos, no renegotiation; after a gap that does not fall
 * inside one record the direction cannot be followed any further.
 */
#ifndef MC_TLS_H
#define MC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_keylog.h"

#define MC_TLS_PLAINTEXT_MAX 16384                   /* 2^14: RFC 8446 s5.1, RFC 5246 s6.2.1 */
#define MC_TLS13_CIPHERTEXT_MAX (16384 + 256)        /* RFC 8446 s5.2 */
#define MC_TLS12_CIPHERTEXT_MAX (16384 + 2048)       /* RFC 5246 s6.2.3 */
#define MC_TLS_RECORD_HDR 5
#define MC_TLS_RECORD_BUF (MC_TLS_RECORD_HDR + MC_TLS12_CIPHERTEXT_MAX)
#define MC_TLS_HS_MAX 16384        /* largest parsed handshake message body */
#define MC_TLS_MAX_LIST 64         /* versions/suites kept from a hello */

enum mc_tls_dir { MC_TLS_C2S = 0, MC_TLS_S2C = 1 };

/* Events: X(name, description). The caller maps them to rules; the module
 * only tells what it saw. */
#define MC_TLS_EVENTS(X)                                                                    \
    X(NOT_TLS, "non-TLS octets where TLS must start")                                       \
    X(SSLV2_HELLO, "SSL 2.0 format ClientHello")                                            \
    X(PLAINTEXT_AFTER_START, "octets that are not TLS records after the handshake began")   \
    X(BAD_RECORD_TYPE, "record of an unknown content type")                                 \
    X(BAD_RECORD_VERSION, "record version is not 3.x")                                      \
    X(RECORD_VERSION_MISMATCH, "record version differs from the negotiated one")            \
    X(RECORD_TOO_LONG, "record longer than the protocol allows")                            \
    X(EMPTY_RECORD, "zero-length handshake or alert record")                                \
    X(BAD_MESSAGE, "malformed handshake message, alert or ChangeCipherSpec")                \
    X(HANDSHAKE_TOO_LONG, "handshake message too long to parse")                            \
    X(UNEXPECTED_MESSAGE, "message not allowed at this point")                              \
    X(HS_SPANS_KEY_CHANGE, "handshake data after a key change in the same record")          \
    X(OLD_VERSION, "TLS 1.1 or older negotiated")                                           \
    X(HELLO_RETRY, "HelloRetryRequest")                                                     \
    X(HANDSHAKE_FAILED, "fatal alert before the handshake completed")                       \
    X(NO_KEY, "encrypted, not validated: no key")                                           \
    X(UNSUPPORTED_SUITE, "encrypted, not validated: cipher suite not decryptable")          \
    X(DECRYPT_FAILED, "record authentication failed")                                       \
    X(BAD_INNER_PLAINTEXT, "decrypted record without content type or too long")             \
    X(EARLY_DATA_SKIPPED, "0-RTT early data not decrypted")                                 \
    X(KEY_UPDATE, "KeyUpdate")                                                              \
    X(GAP_LOST, "octets missing: the direction cannot be followed further")                 \
    X(GAP_IN_RECORD, "octets missing inside a record: that record is skipped")              \
    X(TRUNCATED_RECORD, "the stream ended inside a record")                                 \
    X(NO_CLOSE_NOTIFY, "closed without close_notify")                                       \
    X(DATA_AFTER_CLOSE_NOTIFY, "records after close_notify")                                \
    X(OUT_OF_MEMORY, "out of memory: the connection is not followed further")

enum mc_tls_ev {
#define MC_TLS_EV_ENUM(name, desc) MC_TLS_EV_##name,
    MC_TLS_EVENTS(MC_TLS_EV_ENUM)
#undef MC_TLS_EV_ENUM
    MC_TLS_EV_COUNT
};

const char *mc_tls_ev_name(enum mc_tls_ev ev);   /* "NOT_TLS" */
const char *mc_tls_ev_desc(enum mc_tls_ev ev);

/* What a ClientHello or ServerHello said. Lists keep the first
 * MC_TLS_MAX_LIST entries; n_* counts all of them. */
struct mc_tls_hello {
    enum mc_tls_dir dir;           /* C2S: ClientHello, S2C: ServerHello */
    bool hrr;                      /* a HelloRetryRequest */
    uint64_t frame, offset;        /* the record that completed it */
    uint16_t legacy_version;
    uint8_t random[MC_TLS_RANDOM_LEN];
    uint16_t versions[MC_TLS_MAX_LIST]; /* supported_versions: offered / the selected one */
    unsigned n_versions;
    uint16_t suites[MC_TLS_MAX_LIST];   /* offered / the chosen one */
    unsigned n_suites;
    char sni[256];                 /* host_name; printable ASCII, others as '?' */
    bool has_sni;
    char alpn[256];                /* protocols, comma-separated (truncated) */
    bool has_alpn;
    bool early_data;               /* early_data extension present */
    uint16_t version;              /* what it amounts to: the highest offered
                                    * or the selected version */
};

struct mc_tls_alert {
    enum mc_tls_dir dir;
    uint64_t frame, offset;
    uint8_t level;                 /* 1 warning, 2 fatal; 0 when unreadable */
    uint8_t desc;                  /* 0 close_notify, 40 handshake_failure, ... */
    bool encrypted;                /* came inside protection (decrypted, or unreadable) */
    bool readable;                 /* false: encrypted and no key */
};

struct mc_tls_event {
    enum mc_tls_ev code;
    enum mc_tls_dir dir;
    uint64_t frame, offset;
    uint64_t octets;               /* GAP_IN_RECORD: application data octets lost, at
                                    * most (the record's length less its overhead);
                                    * the session above can be told of a gap that long */
    const char *detail;            /* NUL-terminated, valid during the call */
};

struct mc_tls_cb {
    void *ctx;
    void (*hello)(void *ctx, const struct mc_tls_hello *h);
    void (*alert)(void *ctx, const struct mc_tls_alert *a);
    void (*event)(void *ctx, const struct mc_tls_event *e);
    void (*app_data)(void *ctx, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                     uint64_t frame, uint64_t offset);
};

/* A summary of the connection so far (for the flow line of a report). */
struct mc_tls_info {
    uint16_t version;              /* negotiated; 0 until the ServerHello */
    uint16_t suite;
    char sni[256];
    char alpn[64];                 /* chosen protocol (ServerHello or, decrypted, EncryptedExtensions) */
    bool handshake_done[2];        /* this direction finished its handshake */
    bool decrypting[2];            /* keys installed and no failure in that direction */
    bool closed[2];                /* close_notify seen */
    bool lost[2];                  /* no longer followed (garbage, gap, failure) */
    uint64_t records[2];
    uint64_t app_octets[2];        /* decrypted application data */
    uint64_t encrypted_records[2]; /* records that could not be decrypted */
    bool out_of_memory;            /* an allocation failed: nothing followed since
                                    * (OUT_OF_MEMORY event); lost[] both set */
};

struct mc_tls_conn;

/* keylog may be NULL and must outlive the connection. NULL: out of memory. */
struct mc_tls_conn *mc_tls_conn_new(const struct mc_tls_cb *cb, const struct mc_tls_keylog *keylog);
void mc_tls_conn_free(struct mc_tls_conn *c);

void mc_tls_conn_data(struct mc_tls_conn *c, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                      uint64_t frame);
/* n octets of dir are missing before what comes next. */
void mc_tls_conn_gap(struct mc_tls_conn *c, enum mc_tls_dir dir, uint64_t n, uint64_t frame);
/* dir ended (FIN or RST); idempotent. */
void mc_tls_conn_end(struct mc_tls_conn *c, enum mc_tls_dir dir, uint64_t frame);

const struct mc_tls_info *mc_tls_conn_info(const struct mc_tls_conn *c);

/* Names for the report: "TLS 1.3", "TLS_AES_128_GCM_SHA256" (NULL when
 * unknown), "handshake_failure" (NULL when unknown). */
const char *mc_tls_version_name(uint16_t v);
const char *mc_tls_suite_name(uint16_t id);
const char *mc_tls_alert_name(uint8_t desc);

#endif
