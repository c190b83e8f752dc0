/*
 * Report writers: the only place that formats findings for output.
 * text: one finding per block, grep-friendly first line; json: one document;
 * jsonl: one finding object per line, streamed as found; sarif: one SARIF
 * 2.1.0 log (report_sarif.c); junit: JUnit XML, one test case per session
 * (report_junit.c). Baselines (baseline.c) drop findings already accepted.
 */
#ifndef MC_REPORT_H
#define MC_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "rules/policy.h"
#include "session/finding.h"

enum mc_format { MC_FMT_TEXT, MC_FMT_JSON, MC_FMT_JSONL, MC_FMT_SARIF, MC_FMT_JUNIT };

struct mc_baseline;
struct mc_report_sessions;
struct mc_report_sarif;
struct mc_report_junit;

struct mc_report {
    FILE *out;
    enum mc_format format;
    bool color;
    bool quiet;                       /* text: only the summary */
    enum mc_severity fail_on;
    const char *input;                /* current input file name */
    const char *command;              /* "check", "relay": for SARIF/JUnit names */
    const char *version;              /* the tool's version, for SARIF */
    const struct mc_policy *policy;   /* severities shown in the rule summary; may be NULL */
    struct mc_baseline *baseline;     /* --baseline: findings to leave out; may be NULL */
    FILE *write_baseline;             /* --write-baseline: every finding goes there */
    /* totals */
    uint64_t by_sev[3];
    uint64_t by_rule[MC_RULE_COUNT];
    uint64_t sessions, sessions_validated, input_errors, suppressed, baselined;
    bool any_json;                    /* json, sarif: a finding was written (comma before the next) */
    bool oom_told;                    /* "out of memory" reported for the current input */
    /* per-format and per-session state, allocated on first use */
    struct mc_report_sessions *open;
    struct mc_report_sarif *sarif;
    struct mc_report_junit *junit;
};

bool mc_format_parse(const char *s, enum mc_format *out);
void mc_report_init(struct mc_report *r, FILE *out, enum mc_format fmt, enum mc_severity fail_on);
void mc_report_begin(struct mc_report *r);
/* An input (file, stdin, the relay's sessions) starts and ends; r->input
 * names it meanwhile, so name must stay valid until mc_report_input_end.
 * Optional for text, json and jsonl. */
void mc_report_input_begin(struct mc_report *r, const char *name);
void mc_report_input_end(struct mc_report *r);
/* A finding callback (mc_finding_fn) with ctx = struct mc_report *. */
void mc_report_finding(void *ctx, const struct mc_finding *f);
/* A session ended: proto, whether it was validated, its findings, and how
 * many more were counted but not shown (MC_FINDINGS_PER_RULE). */
void mc_report_session(struct mc_report *r, const char *name, enum mc_proto proto, bool validated,
                       uint64_t findings, uint64_t suppressed);
/* Before mc_report_session for name: the session (a probe cell) was not
 * offered (failed false: JUnit <skipped> with the reason) or failed (a TLS
 * error, a timeout: a JUnit <error>, a SARIF notification). Text and JSON
 * Lines leave it to the caller, who prints its own verdict. */
void mc_report_session_note(struct mc_report *r, const char *name, bool failed, const char *reason);
/* An input problem (bad file, malformed line): stderr, and counted. */
void mc_report_input_error(struct mc_report *r, const char *file, uint64_t line, uint64_t col,
                           const char *msg);
/* A problem worth telling that does not make the input unreadable (a flow
 * closed early for the bounds): stderr, not counted as an input error. */
void mc_report_warning(struct mc_report *r, const char *file, const char *msg);

/* One TCP connection of a capture, when it ends. */
struct mc_flow_summary {
    const char *name;             /* the session name its findings carry */
    const char *client, *server;  /* "10.0.0.1:40312", "[::1]:143" */
    enum mc_proto proto;
    bool submission;
    const char *mode;             /* "plain", "STARTTLS", "implicit TLS" */
    bool validated;               /* false: encrypted (no keys) or unknown */
    bool encrypted;
    bool roles_guessed;           /* no SYN: client and server told by ports */
    bool midstream;               /* its start was not captured */
    uint64_t first_frame, last_frame;
    uint64_t octets_c2s, octets_s2c;
    uint64_t gaps, gap_octets;    /* octets missing from the capture */
    uint64_t overlaps;            /* retransmissions whose octets differed */
    const char *banner;           /* the server's first line, or NULL */
    uint64_t findings, suppressed;
    /* TLS records followed (implicit TLS; after STARTTLS with a key log) */
    bool tls;
    bool tls_decrypted;           /* application data was decrypted and validated */
    const char *tls_version;      /* "TLS 1.3"; NULL before a ServerHello */
    const char *tls_suite;        /* "TLS_AES_128_GCM_SHA256"; NULL when unknown */
    const char *tls_sni, *tls_alpn;   /* NULL when absent */
    const char *tls_note;         /* not decrypted: why ("encrypted, not validated:
                                     no key for client random ...") */
};
void mc_report_flow(struct mc_report *r, const struct mc_flow_summary *fs);

/* A whole capture, after its flows. */
struct mc_capture_summary {
    const char *name;
    const char *format;           /* "pcap", "pcapng", NULL if unreadable */
    uint64_t frames, tcp_segments;
    uint64_t flows, mail_flows, encrypted_flows, other_flows;
    uint64_t not_tcp, fragments, truncated, malformed, unknown_linktype;
    uint32_t linktype;            /* the first unknown one */
};
void mc_report_capture(struct mc_report *r, const struct mc_capture_summary *cs);
/* Closes the document and frees what the report allocated. */
void mc_report_end(struct mc_report *r);
/* 0 nothing at or above fail_on, 1 findings at or above it, 2 input errors.
 * Findings left out by the baseline do not count. */
int mc_report_exit_code(const struct mc_report *r);

/* The catalogue listing: text, markdown (docs/rules.md) or json. */
void mc_report_rules(FILE *out, const char *format);
/* One rule explained (`mailconform explain`): text or md. */
void mc_report_explain(FILE *out, enum mc_rule r, const char *format);
/* The RFC section's address: https://www.rfc-editor.org/rfc/rfcN#section-S */
void mc_report_rfc_url(char *buf, size_t n, const struct mc_rule_info *ri);

/* ---- baselines (baseline.c) ---- */
/* A finding's fingerprint: rule, input and excerpt, with digit runs folded
 * (so ports, timestamps and message numbers that change between recordings
 * of the same conversation do not make an old finding look new). Position
 * and session name are left out for the same reason. */
uint64_t mc_finding_fingerprint(const struct mc_finding *f, const char *input);
/* Reads a baseline file; NULL with a message naming file and line. */
struct mc_baseline *mc_baseline_load(const char *path, char *err, size_t errlen);
/* True (and one occurrence used up) if the baseline holds fingerprint fp. */
bool mc_baseline_take(struct mc_baseline *b, uint64_t fp);
void mc_baseline_free(struct mc_baseline *b);
void mc_baseline_write_header(FILE *o);
void mc_baseline_write(FILE *o, uint64_t fp, const struct mc_finding *f, const char *input);

#endif
