/*
 * Key logs in the NSS key log format ("SSLKEYLOGFILE"), as written by
 * OpenSSL's keylog callback, curl, Firefox and Python's keylog_filename,
 * and carried as text by a pcapng Decryption Secrets Block.
 *
 * Each line is "<LABEL> <client random, 64 hex> <secret, hex>"; lines that
 * are empty or start with '#' are skipped. Labels kept:
 *   CLIENT_RANDOM                    TLS 1.2 and older: the 48-octet master secret
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET  TLS 1.3, 32 or 48 octets (by the suite's hash)
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET
 *   CLIENT_TRAFFIC_SECRET_0
 *   SERVER_TRAFFIC_SECRET_0
 * Other labels (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, RSA, ...) are
 * ignored without complaint: they are valid lines we have no use for.
 * A line with a kept label but a malformed random or secret (not hex, odd
 * length, wrong size) is skipped and reported as "<name>:<line>: <why>".
 *
 * Lookup is by (label, client random). When a pair repeats, the last line
 * read wins (a key log is appended to; a later line is the newer session).
 * Memory: one array of entries, grown by doubling, at most
 * MC_TLS_KEYLOG_MAX_ENTRIES (further lines are reported and skipped).
 * Nothing is allocated by a lookup.
 */
#ifndef MC_TLS_KEYLOG_H
#define MC_TLS_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_TLS_RANDOM_LEN 32
#define MC_TLS_SECRET_MAX 48       /* SHA-384 output; the TLS 1.2 master secret */
#define MC_TLS_KEYLOG_MAX_ENTRIES (1u << 22)
#define MC_TLS_KEYLOG_LINE_MAX 1024 /* longer lines are malformed */

enum mc_tls_secret {
    MC_TLS_SECRET_MASTER,              /* CLIENT_RANDOM */
    MC_TLS_SECRET_CLIENT_HANDSHAKE,    /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    MC_TLS_SECRET_SERVER_HANDSHAKE,    /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    MC_TLS_SECRET_CLIENT_APP,          /* CLIENT_TRAFFIC_SECRET_0 */
    MC_TLS_SECRET_SERVER_APP,          /* SERVER_TRAFFIC_SECRET_0 */
    MC_TLS_SECRET_COUNT
};

struct mc_tls_keylog;

/* Called once per malformed line. where: "<name>:<line>"; why: a short
 * reason. Both strings live only during the call. */
typedef void (*mc_tls_keylog_error_fn)(void *ctx, const char *where, const char *why);

/* An empty key log, or NULL when out of memory. */
struct mc_tls_keylog *mc_tls_keylog_new(void);
void mc_tls_keylog_free(struct mc_tls_keylog *kl);

/* Adds the lines of a file. Returns the number of malformed lines (each
 * reported through err when it is not NULL), or -1 when the file cannot be
 * read (err gets "<path>:0: <strerror>") or memory ran out (err gets
 * "<path>:<line>: out of memory", why exactly "out of memory"; reading
 * stops there). Loading allocates nothing but the key log's table. */
long mc_tls_keylog_load_file(struct mc_tls_keylog *kl, const char *path,
                             mc_tls_keylog_error_fn err, void *err_ctx);

/* The same for text in memory (e.g. a pcapng Decryption Secrets Block);
 * name is used in error locations. A last line without a newline counts;
 * NUL octets make their line malformed. Returns malformed lines or -1 when
 * out of memory (reported through err as for a file). */
long mc_tls_keylog_load_mem(struct mc_tls_keylog *kl, const char *name, const uint8_t *text,
                            size_t len, mc_tls_keylog_error_fn err, void *err_ctx);

/* The secret of (which, client_random): copies it to out (MC_TLS_SECRET_MAX
 * octets of room) and returns its length, or 0 when there is none. */
size_t mc_tls_keylog_find(const struct mc_tls_keylog *kl, enum mc_tls_secret which,
                          const uint8_t client_random[MC_TLS_RANDOM_LEN],
                          uint8_t out[MC_TLS_SECRET_MAX]);

/* Number of secrets kept. */
size_t mc_tls_keylog_count(const struct mc_tls_keylog *kl);

/* The key log label of which ("CLIENT_RANDOM", ...). */
const char *mc_tls_secret_label(enum mc_tls_secret which);

#endif
