/*
 * The live probe (`mailconform probe`, docs/probe.md): connects to each host
 * in each of the eleven connection modes (DESIGN.md), runs a scripted
 * conversation plus active checks, feeds everything it sends and receives
 * into an mc_session for that cell, and gives each cell a verdict.
 *
 * Cells (host x mode) run in parallel on a bounded number of threads; each
 * cell owns its connection, session, transcript and findings, so nothing
 * but the work queue and the key log is shared.
 */
#ifndef MC_PROBE_H
#define MC_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "rules/policy.h"
#include "session/finding.h"

/* The longest line (without its CRLF) a server may send before the cell
 * fails as "line longer than N octets". IMAP literals do not count. */
#define MC_PROBE_LINE_MAX 65536
/* The largest IMAP literal the probe reads through (discarded as it goes). */
#define MC_PROBE_LITERAL_MAX (16u << 20)
/* Octets one connection may receive: a server flooding short lines within
 * the step timeout must not fill the disk through the transcript. */
#define MC_PROBE_RECEIVE_MAX (32u << 20)
/* How long the injection check waits for plaintext the server should not
 * send after its go-ahead to STARTTLS/STLS, and for an answer inside TLS to
 * the command pipelined behind it. */
#define MC_PROBE_INJECT_WAIT_MS 500
#define MC_PROBE_MAX_JOBS 64
#define MC_PROBE_MAX_TIMEOUT 3600

enum mc_probe_mode {
    MC_MODE_POP3_PLAIN,
    MC_MODE_POP3_SSL,
    MC_MODE_POP3_TLS,
    MC_MODE_IMAP4_PLAIN,
    MC_MODE_IMAP4_SSL,
    MC_MODE_IMAP4_TLS,
    MC_MODE_SMTP_PLAIN,
    MC_MODE_SMTP_SSL,
    MC_MODE_SMTP_SUBMISSION_TLS,
    MC_MODE_SMTP_SUBMISSION_SSL,
    MC_MODE_SMTP_TLS,
    MC_PROBE_MODES
};

enum mc_probe_tls { MC_TLS_NEVER, MC_TLS_IMPLICIT, MC_TLS_STARTTLS };

struct mc_probe_mode_info {
    const char *name; /* "POP3-Plain", as in DESIGN.md */
    enum mc_proto proto;
    enum mc_probe_tls tls;
    bool submission; /* RFC 6409 client behaviour and rules */
    uint16_t default_port;
};

const struct mc_probe_mode_info *mc_probe_mode_info(enum mc_probe_mode m);
/* A mode name, case-insensitive. */
bool mc_probe_mode_parse(const char *s, enum mc_probe_mode *out);
/* --modes: a comma-separated list; sets sel[] (all false first). */
bool mc_probe_modes_parse(const char *list, bool sel[MC_PROBE_MODES], char *err, size_t errlen);
/* --port MODE=PORT into ports[]. */
bool mc_probe_port_parse(const char *spec, uint16_t ports[MC_PROBE_MODES], char *err,
                         size_t errlen);
/* A target "HOST", "HOST:ADDR", "[v6]", "HOST:[v6]" or a bare IPv6
 * address: name (shown, SNI, certificate name) and the address to connect
 * to (the name itself when no ADDR). */
bool mc_probe_target_parse(const char *arg, char *name, size_t namelen, char *addr, size_t addrlen);

enum mc_probe_verdict {
    MC_VERDICT_WORKS,
    MC_VERDICT_WORKS_WARNINGS,
    MC_VERDICT_NONCONFORMANT,
    MC_VERDICT_NOT_OFFERED,
    MC_VERDICT_FAILED
};

/* How the conversation ended, before findings are weighed. */
enum mc_probe_outcome { MC_OUTCOME_DONE, MC_OUTCOME_NOT_OFFERED, MC_OUTCOME_FAILED };

/* The verdict words of the contract: "works", "works with warnings",
 * "non-conformant", "not offered", "failed". */
const char *mc_probe_verdict_name(enum mc_probe_verdict v);
/* Failed and not offered win over findings; then errors make the cell
 * non-conformant, warnings or notes "works with warnings". */
enum mc_probe_verdict mc_probe_verdict_of(enum mc_probe_outcome o, uint64_t errors,
                                          uint64_t warnings, uint64_t notes);

struct mc_probe_opts {
    char **hosts; /* targets as given (mc_probe_target_parse) */
    size_t nhosts;
    bool modes[MC_PROBE_MODES];
    uint16_t ports[MC_PROBE_MODES];
    unsigned timeout_ms; /* per step */
    unsigned jobs;
    size_t line_max;     /* MC_PROBE_LINE_MAX unless a test lowers it */
    const char *ca_file; /* NULL: the system store */
    bool insecure;
    const char *servername;      /* SNI and name check; NULL: the host name */
    const char *user, *password; /* optional login */
    bool allow_plaintext_auth;
    bool send_test_message;
    const char *mail_from, *rcpt_to;
    const char *record_dir;
    const char *keylog;
    const char *pcap;   /* pcapng of every connection (probe_wire.c) */
    bool active_checks; /* malformed, over-long, injection (default on) */
    const struct mc_policy *policy;
    unsigned imap_version;
};

void mc_probe_opts_init(struct mc_probe_opts *o);

struct mc_probe_tls_info {
    bool present;
    char version[32], cipher[128];
    char subject[512], issuer[512];
    char not_after[40]; /* ISO 8601, UTC */
    char sni[256];      /* "" when none was sent (an address) */
    bool verified, name_ok;
};

struct mc_probe_cell {
    size_t host; /* index into opts.hosts */
    enum mc_probe_mode mode;
    char host_name[256];
    uint16_t port;
    enum mc_probe_outcome outcome;
    enum mc_probe_verdict verdict;
    char reason[256]; /* for failed / not offered */
    struct mc_probe_tls_info tls;
    char input[320];       /* "host/MODE": the findings' input name */
    char file_tag[300];    /* the host part of the transcript's name */
    char transcript[1024]; /* "" when not recorded */
    /* findings of the server (client-side ones are the probe's own doing) */
    struct mc_finding *findings;
    size_t nfindings, cap;
    char session_names[2][340]; /* main, "<mode>/inject" */
    uint64_t suppressed[2];
    bool session_used[2], session_validated[2];
    uint64_t by_sev[3];
};

struct mc_probe_result {
    struct mc_probe_cell *cells; /* mode-major over the selected modes */
    size_t ncells;
    size_t nmodes_selected;
    /* "" or what went wrong with an output written during the run (the
     * --pcap file): the results are still whole */
    char output_error[320];
};

/* Runs every cell. Returns 0, or 2 with a message in err (bad --ca file,
 * key log or record directory not writable). */
int mc_probe_run(const struct mc_probe_opts *o, struct mc_probe_result *res, char *err,
                 size_t errlen);
void mc_probe_result_free(struct mc_probe_result *res);

#endif
