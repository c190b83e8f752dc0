/* Shared by the probe's modules (probe*.c) and its unit tests only. */
#ifndef MC_PROBE_INTERNAL_H
#define MC_PROBE_INTERNAL_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include "probe.h"
#include "session/session.h"

/* ---- recording: every chunk goes to the transcript and the session ---- */

struct probe_rec {
    FILE *f;              /* the cell's transcript, NULL if not recorded */
    uint64_t line;        /* transcript lines written so far */
    struct mc_session *s; /* the session being fed */
};

void probe_rec_session(struct probe_rec *r, const char *name, enum mc_proto proto, bool submission);
void probe_rec_data(struct probe_rec *r, enum mc_dir dir, const uint8_t *buf, size_t len);
void probe_rec_tls(struct probe_rec *r);
void probe_rec_close(struct probe_rec *r, enum mc_dir dir);
void probe_rec_comment(struct probe_rec *r, const char *text);

/* ---- lines ---- */

enum probe_scan { PROBE_SCAN_LINE, PROBE_SCAN_MORE, PROBE_SCAN_TOO_LONG };
/* Looks for one line in b[0..n): LINE with *used octets through its LF and
 * *linelen octets before its CR LF (or bare LF); MORE when no LF yet;
 * TOO_LONG when the line holds (or must hold) more than max octets. */
enum probe_scan probe_line_scan(const uint8_t *b, size_t n, size_t max, size_t *used,
                                size_t *linelen);

/* ---- connections ---- */

enum probe_status {
    PROBE_OK,
    PROBE_EOF, /* the server closed */
    PROBE_TIMEOUT,
    PROBE_TOO_LONG, /* a line longer than line_max */
    PROBE_REFUSED,  /* connection refused */
    PROBE_TOO_MUCH, /* more than MC_PROBE_RECEIVE_MAX octets */
    PROBE_ERROR     /* anything else: why[] says it */
};

/* ---- the wire (probe_wire.c): `--pcap`, synthetic TCP framing ---- */

struct probe_wire {
    bool on;                                /* recording this connection */
    bool truncated;                         /* more than the recording keeps */
    bool fin[2];                            /* FIN recorded, per direction */
    struct sockaddr_storage client, server; /* the connection's addresses */
    uint8_t *ev;                            /* events: connect, data, FIN */
    size_t len, cap;
    char *keys; /* the connection's TLS key log lines */
    size_t keys_len;
};

/* After connect(): the addresses; the three-way handshake. */
void probe_wire_connect(struct probe_wire *w, int fd);
void probe_wire_data(struct probe_wire *w, enum mc_dir d, const void *buf, size_t len);
void probe_wire_fin(struct probe_wire *w, enum mc_dir d);
void probe_wire_key(struct probe_wire *w, const char *line);
/* Gives ssl the socket fd, through a BIO that records the TLS records. */
bool probe_wire_attach(struct probe_wire *w, SSL *ssl, int fd);
/* The pcapng section and interface, once per file. */
bool probe_pcap_header(FILE *f);
/* The connection as a DSB and its packets (the caller holds the file). */
bool probe_wire_write(const struct probe_wire *w, FILE *f);
void probe_wire_free(struct probe_wire *w);

/* The --pcap file, shared by the cells' threads. */
struct probe_pcap {
    FILE *f;
    pthread_mutex_t mu;    /* held while a connection is written */
    bool failed;           /* a write failed */
    uint64_t truncated;    /* connections recorded only in part */
};

/* What every connection of one run shares (read-only while cells run,
 * apart from the pcapng file, written under its lock). */
struct probe_env {
    const struct mc_probe_opts *o;
    SSL_CTX *ssl_ctx;
    struct probe_pcap *pcap; /* NULL when not asked for */
};

struct probe_conn {
    const struct probe_env *env;
    struct probe_rec *rec;
    int fd;
    SSL *ssl;
    uint8_t *buf;
    size_t cap, start, end; /* unread octets: buf[start..end) */
    uint64_t deadline_ms;
    uint64_t received; /* octets from the server so far */
    bool eof;
    bool closed_c; /* "! close C" recorded */
    struct probe_wire wire; /* --pcap */
    char why[200];
    char ehlo_literal[80]; /* "[127.0.0.1]" or "[IPv6:::1]": our address */
};

uint64_t probe_now_ms(void);
bool probe_conn_init(struct probe_conn *c, const struct probe_env *env, struct probe_rec *rec);
void probe_conn_free(struct probe_conn *c);
/* Resolves addr, connects to port within the step timeout. */
enum probe_status probe_connect(struct probe_conn *c, const char *addr, uint16_t port);
/* TLS handshake (recorded as "! tls decrypted" first); checks the
 * certificate against servername unless insecure; fills info. */
enum probe_status probe_tls_start(struct probe_conn *c, const char *servername,
                                  struct mc_probe_tls_info *info);
/* Starts the step timeout for the next reply. */
void probe_expect(struct probe_conn *c);
enum probe_status probe_send(struct probe_conn *c, const void *buf, size_t len);
enum probe_status probe_sendf(struct probe_conn *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* One line (without CR LF) in *line and *len, valid until the next call. */
enum probe_status probe_line(struct probe_conn *c, const char **line, size_t *len);
/* Reads and discards n octets (an IMAP literal). */
enum probe_status probe_skip(struct probe_conn *c, uint64_t n);
/* Sends one line of total octets: prefix, 'x' up to the CR LF (the
 * over-long-line check). */
#define PROBE_LONG_LINE_MAX 16384   /* total of probe_send_long_line, at most */
enum probe_status probe_send_long_line(struct probe_conn *c, const char *prefix, size_t total);
/* Drops what is buffered (recorded already). */
void probe_discard(struct probe_conn *c);
/* Waits up to ms for octets (recorded); true if any came. */
bool probe_wait_data(struct probe_conn *c, unsigned ms);
/* After QUIT/LOGOUT: closes our side and waits (step timeout) for the
 * server's close, recording both. */
void probe_finish(struct probe_conn *c);
void probe_close_now(struct probe_conn *c);

/* ---- one cell's conversation ---- */

struct probe_run {
    const struct probe_env *env;
    const struct mc_probe_opts *o;
    const struct mc_probe_mode_info *mi;
    struct mc_probe_cell *cell;
    struct probe_rec *rec;
    struct probe_conn *c;
    const char *name;       /* host name: shown, SNI, certificate */
    const char *addr;       /* where to connect */
    const char *servername; /* --servername or name */
    bool inject;            /* the STARTTLS injection connection */
    bool in_tls;
};

/* Sets the cell's reason; returns MC_OUTCOME_FAILED. */
enum mc_probe_outcome probe_failed(struct probe_run *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
enum mc_probe_outcome probe_not_offered(struct probe_run *r, const char *why);
/* Maps a status other than OK to the outcome ("failed: timeout waiting for
 * WHAT", "failed: line longer than N octets", ...). */
enum mc_probe_outcome probe_status_outcome(struct probe_run *r, enum probe_status st,
                                           const char *what);
/* Connects and, for implicit TLS, handshakes. */
enum mc_probe_outcome probe_open(struct probe_run *r);
/* STARTTLS/STLS was answered with a go-ahead: TLS starts now. */
enum mc_probe_outcome probe_upgrade(struct probe_run *r);
/* The STARTTLS-injection check after the go-ahead: waits for a plaintext
 * answer to the injected command, starts TLS (unless the server closed
 * instead: *tls_up false, the connection finished, MC_OUTCOME_DONE) and
 * drops what arrives before the probe's next command inside TLS. */
enum mc_probe_outcome probe_inject_handshake(struct probe_run *r, bool *tls_up);
/* After the over-long line: st is how reading its answer went. A line too
 * long ends the cell; no answer is left as a comment (the server may
 * rightly say nothing, or close). */
enum mc_probe_outcome probe_long_line_answer(struct probe_run *r, enum probe_status st);
/* Credentials may be sent now (TLS, or --allow-plaintext-auth). */
bool probe_may_login(const struct probe_run *r);

enum mc_probe_outcome probe_pop3(struct probe_run *r);
enum mc_probe_outcome probe_imap(struct probe_run *r);
enum mc_probe_outcome probe_smtp(struct probe_run *r);

/* Case-insensitive: does the space-separated word list hold word? */
bool probe_has_word(const char *list, size_t len, const char *word);

/* In a conversation step (r: the struct probe_run *): an I/O status other
 * than PROBE_OK ends the conversation with the outcome it stands for. */
#define PROBE_TRY(expr, what)                                                                      \
    do {                                                                                           \
        enum probe_status st_ = (expr);                                                            \
        if (st_ != PROBE_OK)                                                                       \
            return probe_status_outcome(r, st_, (what));                                           \
    } while (0)

#endif
