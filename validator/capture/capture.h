/*
 * Validating a packet capture: the glue between the capture reader, frame
 * decoding, TCP reassembly and the protocol sessions. Per TCP connection it
 * decides whether it is mail (well-known or user-given ports, else the
 * server's first line), feeds both reassembled directions to a session in
 * capture order with the frame numbers that carried them, and reports the
 * flow (addresses, ports, protocol, mode, the server's banner, findings).
 * TLS (implicit TLS ports, and each direction from its first record after
 * a STARTTLS go-ahead) goes through the TLS engine (validator/tls/): its
 * findings are reported, and with a key log the decrypted plaintext is
 * validated by the session like any other (docs/capture.md).
 */
#ifndef MC_CAPTURE_H
#define MC_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "report/report.h"
#include "session/session.h"

/* What a port means (defaults below, overridable with --port). */
struct mc_port_role {
    uint16_t port;
    enum mc_proto proto;
    bool submission;      /* SMTP with the RFC 6409 rules */
    bool implicit_tls;    /* TLS from the first octet (RFC 8314) */
};

#define MC_CAPTURE_PORTS_MAX 64
/* Connections tracked at once by default. A connection costs about 60 KiB
 * (its session's parsers and outstanding commands, reassembly state), so
 * this keeps a hostile capture's memory near 64 MiB; the least recently
 * active connection is closed early beyond it, with a warning. A connection
 * whose TLS is followed costs about 35 KiB more per direction that sent
 * TLS records (the TLS engine's record buffer, docs/tls.md). */
#define MC_CAPTURE_MAX_FLOWS 1024
/* Key logs given with --keylog. */
#define MC_CAPTURE_KEYLOGS_MAX 16
/* --jobs at most */
#define MC_CAPTURE_JOBS_MAX 64

struct mc_capture_opts {
    /* forced protocol for every flow (--protocol), else MC_PROTO_UNKNOWN */
    enum mc_proto proto;
    bool submission;
    unsigned imap_version;
    /* user port roles (--port 10143=imap), before the defaults */
    struct mc_port_role ports[MC_CAPTURE_PORTS_MAX];
    unsigned n_ports;
    bool progress;        /* a progress line on stderr (a terminal) */
    unsigned max_flows;   /* connections tracked at once; 0: MC_CAPTURE_MAX_FLOWS */
    const struct mc_policy *policy;   /* --rules, --severity; NULL: defaults */
    /* NSS key logs (--keylog), read at the start of each capture; pcapng
     * Decryption Secrets Blocks add to them as they are read */
    const char *keylogs[MC_CAPTURE_KEYLOGS_MAX];
    unsigned n_keylogs;
    /* --jobs: threads validating the flows; 0 or 1: all in the caller's
     * thread. With more, the caller's thread reads and decodes and the
     * flows are sharded by connection (docs/capture.md, "Threads"). */
    unsigned jobs;
};

/* "imap", "imaps", "pop3", "pop3s", "smtp", "smtps", "submission" ->
 * role (port not set). False for anything else. */
bool mc_port_role_parse(const char *name, struct mc_port_role *out);
/* Parses "PORT=NAME" into opts; false (and *why set) when malformed. */
bool mc_capture_add_port(struct mc_capture_opts *opts, const char *spec, const char **why);

/* Validates the capture read from fd (a file or a pipe; name for messages
 * and session names). Findings and flows go to rep; a damaged capture is
 * reported as an input error after everything readable was validated.
 * Returns false when the capture could not be read at all. */
bool mc_capture_check_fd(struct mc_report *rep, int fd, const char *name,
                         const struct mc_capture_opts *opts);
/* The same when the first n octets were already read from fd (stdin). */
bool mc_capture_check_fd_prefix(struct mc_report *rep, int fd, const uint8_t *prefix, size_t n,
                                const char *name, const struct mc_capture_opts *opts);
/* The same over bytes in memory (tests, fuzzing). */
bool mc_capture_check_mem(struct mc_report *rep, const uint8_t *buf, size_t len, const char *name,
                          const struct mc_capture_opts *opts);

#endif
