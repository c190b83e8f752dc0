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
};

/* Runs until max_sessions connections have ended, or SIGINT/SIGTERM.
 * Before listening it connects to the target once and closes that connection
 * at once (the server sees one connection that sends nothing); a target that
 * refuses it is an error. A target that refuses a later connection is logged,
 * that client is closed, the connection counts as ended, and the run goes on.
 * Returns 0, or 2 on a usage or I/O error (bad address, cannot listen,
 * target unreachable at start or for any later connection, record file not
 * writable), with a message in err, e.g. "cannot connect to
 * 127.0.0.1:10110: Connection refused". Findings do not change the result;
 * the caller counts them through on_finding. */
int mc_relay_run(const struct mc_relay_opts *o, char *err, size_t errlen);

#endif
