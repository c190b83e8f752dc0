/*
 * A recording TCP relay: listens, connects each accepted client to the
 * target, copies bytes both ways, writes every chunk to a transcript, and
 * optionally validates each connection as it goes (mc_session).
 */
#ifndef MC_RELAY_H
#define MC_RELAY_H

#include <stdbool.h>
#include <stdio.h>
#include "session/session.h"

/* Connections relayed at the same time; more are accepted and closed at once. */
#define MC_RELAY_MAX_CONNS 64
/* Octets buffered per direction of a connection. A side whose peer has this
 * much unsent is not read from until the peer takes some. */
#define MC_RELAY_BUF 32768
/* A connection to the target that has not completed after this long fails. */
#define MC_RELAY_CONNECT_TIMEOUT_MS 10000
/* Both TLS handshakes of a connection must be done this long after they
 * began (implicit TLS: the accept; STARTTLS: the go-ahead), else it is torn
 * down and the side that did not finish is named. */
#define MC_RELAY_TLS_HANDSHAKE_TIMEOUT_MS 10000
/* What a client sends behind its STARTTLS line is held until the server
 * answers; with no answer for this long it is forwarded after all (a
 * "STARTTLS" line that was message text, not a command, must not stall). */
#define MC_RELAY_STARTTLS_HOLD_MS 2000

/* Terminating TLS (docs/relay.md): off (bytes are copied as they are),
 * implicit (TLS from the first octet on both legs) or after the server's
 * go-ahead to STARTTLS/STLS. */
enum mc_relay_tls_mode { MC_RELAY_TLS_OFF, MC_RELAY_TLS_STARTTLS, MC_RELAY_TLS_IMPLICIT };

struct mc_relay_opts {
    const char *listen;        /* "ADDR:PORT" or "[v6]:PORT" to listen on */
    const char *to;            /* "ADDR:PORT" of the real server */
    const char *record;        /* transcript path, NULL: do not record */
    enum mc_proto proto;       /* MC_PROTO_UNKNOWN: detect per connection */
    bool submission;           /* SMTP sessions are message submission (RFC 6409) */
    unsigned imap_version;     /* 2060, 3501, 9051; 0: from the capabilities */
    bool check;                /* validate sessions as they run */
    unsigned max_sessions;     /* stop after this many connections ended; 0: run until signalled */
    unsigned idle_timeout_ms;  /* close a connection idle this long; 0: never */
    mc_finding_fn on_finding;  /* findings, when check is set */
    void *finding_ctx;
    /* Called with finding_ctx when a session ends (validated or not), e.g.
     * for a summary; also when check is off. */
    void (*on_session_end)(void *ctx, const struct mc_session *s);
    FILE *log;                 /* progress and errors (stderr if NULL) */
    const struct mc_policy *policy;  /* --rules, --severity; NULL: defaults */
    /* TLS termination; the rest is used only when tls is not OFF */
    enum mc_relay_tls_mode tls;
    const char *tls_cert;      /* PEM chain presented to clients */
    const char *tls_key;       /* its PEM private key */
    const char *tls_ca;        /* PEM CAs that verify the server; NULL: system store */
    bool tls_insecure;         /* do not verify the server at all */
    const char *tls_servername; /* SNI and verified name; NULL: the host part of to */
    const char *keylog;        /* append NSS key log lines of both legs; NULL: none */
};

/* Runs until max_sessions connections have ended, or SIGINT/SIGTERM.
 * Before listening it connects to the target once and closes that connection
 * at once (the server sees one connection that sends nothing); a target that
 * refuses it is an error. A target that refuses a later connection is logged,
 * that client is closed, the connection counts as ended, and the run goes on.
 * Returns 0, or 2 on a usage or I/O error (bad address, cannot listen,
 * target unreachable at start or for any later connection, record file not
 * writable, TLS certificate, key, CA or key log not usable; memory that ran
 * out for a connection or its session), with a message
 * in err, e.g. "cannot connect to 127.0.0.1:10110: Connection refused".
 * Findings do not change the result; the caller counts them through
 * on_finding. A TLS handshake that fails or times out tears down that
 * connection only (logged, and commented in the record). */
int mc_relay_run(const struct mc_relay_opts *o, char *err, size_t errlen);

#endif
