/*
 * Report writers: the only place that formats findings for output.
 * text: one finding per block, grep-friendly first line; json: one document;
 * jsonl: one finding object per line, streamed as found.
 */
#ifndef MC_REPORT_H
#define MC_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "session/finding.h"

enum mc_format { MC_FMT_TEXT, MC_FMT_JSON, MC_FMT_JSONL };

struct mc_report {
    FILE *out;
    enum mc_format format;
    bool color;
    bool quiet;                       /* text: only the summary */
    enum mc_severity fail_on;
    const char *input;                /* current input file name */
    /* totals */
    uint64_t by_sev[3];
    uint64_t by_rule[MC_RULE_COUNT];
    uint64_t sessions, sessions_validated, input_errors, suppressed;
    bool any_json;
};

bool mc_format_parse(const char *s, enum mc_format *out);
void mc_report_init(struct mc_report *r, FILE *out, enum mc_format fmt, enum mc_severity fail_on);
void mc_report_begin(struct mc_report *r);
/* A finding callback (mc_finding_fn) with ctx = struct mc_report *. */
void mc_report_finding(void *ctx, const struct mc_finding *f);
/* A session ended: proto, whether it was validated, its findings, and how
 * many more were counted but not shown (MC_FINDINGS_PER_RULE). */
void mc_report_session(struct mc_report *r, const char *name, enum mc_proto proto, bool validated,
                       uint64_t findings, uint64_t suppressed);
/* An input problem (bad file, malformed line): stderr, and counted. */
void mc_report_input_error(struct mc_report *r, const char *file, uint64_t line, uint64_t col,
                           const char *msg);
void mc_report_end(struct mc_report *r);
/* 0 nothing at or above fail_on, 1 findings at or above it, 2 input errors. */
int mc_report_exit_code(const struct mc_report *r);

/* The catalogue listing: text, markdown (docs/rules.md) or json. */
void mc_report_rules(FILE *out, const char *format);

#endif
