/*
 * What the validating commands (check, relay, probe) share: the report
 * options, the configuration file, and setting up and finishing a report.
 */
#ifndef MC_CLI_COMMON_H
#define MC_CLI_COMMON_H

#include <stdbool.h>
#include "capture/capture.h"
#include "report/report.h"
#include "rules/policy.h"

#ifndef MC_VERSION
#define MC_VERSION "dev"
#endif

/* The options every validating command shares (check, relay), also
 * accepted in the configuration file without their dashes. */
#define REPORT_OPTIONS_HELP \
    "  --format F       text (default), json (one document), jsonl (one finding per line,\n" \
    "                   streamed), sarif (SARIF 2.1.0) or junit (JUnit XML)\n" \
    "  --fail-on S      lowest severity that makes the exit status 1: error (default),\n" \
    "                   warning or note\n" \
    "  --rules LIST     rules to report: comma-separated ids or globs ('SMTP.*'), '-' before\n" \
    "                   one leaves it out ('-IMAP.ID.*'); starting with an id or glob\n" \
    "                   without '-' reports only what is listed; repeatable\n" \
    "  --severity R=S   report rule(s) R (id or glob) at severity S; repeatable\n" \
    "  --baseline FILE  leave out findings recorded in FILE (see --write-baseline)\n" \
    "  --write-baseline FILE\n" \
    "                   write every finding of this run to FILE, to accept them\n" \
    "  --config FILE    read options from FILE (default: ./.mailconform.conf if present)\n" \
    "  --no-config      ignore ./.mailconform.conf\n" \
    "  --color WHEN     auto (default; off when NO_COLOR is set or output is no terminal),\n" \
    "                   always, never\n" \
    "  -q, --quiet      text format: print only the summary; no progress line\n"

/* Protocol names for --protocol and '@ protocol'. "submission" is SMTP with
 * the message submission rules of RFC 6409 (port 587). */
#define MC_CLI_PROTOCOLS "pop3, imap, smtp, submission"

struct mc_cli_opts {
    enum mc_format format;
    enum mc_severity fail_on;
    enum mc_proto proto;
    bool submission;         /* --protocol submission */
    unsigned imap_version;   /* --imap-version; 0: auto */
    int color; /* -1 auto, 0 never, 1 always */
    bool quiet;
    struct mc_capture_opts capture;   /* --port, --max-flows, --keylog: for captures */
    struct mc_policy policy;          /* --rules, --severity */
    const char *baseline, *write_baseline;
    bool is_check;                    /* the command is check (--port, --max-flows, --keylog) */
};

void mc_cli_opts_init(struct mc_cli_opts *o, bool is_check);
/* Prints "mailconform: msg: arg" and the usage; returns 2. */
int mc_cli_usage_error(const char *msg, const char *arg, const char *usage);
bool mc_cli_parse_imap_version(const char *s, unsigned *out);
bool mc_cli_parse_proto(const char *s, enum mc_proto *out, bool *submission);
/* Parses one shared option at argv[*i]; returns 0 (also when it is not
 * one: *handled false), or 2 after a message. *i is advanced past a value. */
int mc_cli_common_opt(struct mc_cli_opts *o, int argc, char **argv, int *i, const char *usage,
                      bool *handled);
/* Reads ./.mailconform.conf or --config FILE (see the man page); 0 or 2. */
int mc_cli_load_config(struct mc_cli_opts *o, int argc, char **argv);
/* Sets up the report for the options (policy, baseline, colour); 0 or 2. */
int mc_cli_report_setup(struct mc_report *rep, struct mc_cli_opts *o, const char *command);
/* Ends the report; returns the exit status. */
int mc_cli_report_finish(struct mc_report *rep);

#endif
