/* Shared by the report writers (report*.c, baseline.c) and nothing else. */
#ifndef MC_REPORT_INTERNAL_H
#define MC_REPORT_INTERNAL_H

#include "report.h"

/* JSON string (RFC 8259 s7); non-UTF-8 octets become U+FFFD. */
void mc__json_str(FILE *o, const char *s);
/* The n octets at s escaped as in a JSON string, without the quotes. */
void mc__json_chars(FILE *o, const char *s, size_t n);
/* XML character data or attribute value (XML 1.0 s2.2, s2.4): markup
 * escaped, characters XML cannot carry (controls, non-UTF-8) as U+FFFD. */
void mc__xml_str(FILE *o, const char *s);
/* One finding as a JSON object (the jsonl and json formats; the probe's
 * cells): input NULL leaves out the "input" field. */
void mc__finding_json(FILE *o, const struct mc_finding *f, const char *input);
/* Writes each line of t with a prefix; '#' lines left out if skip_comments. */
struct mc_text;
void mc__write_lines(FILE *o, const struct mc_text *t, const char *prefix, bool skip_comments);
/* The same lines (prefix, line, "\n") given to put piece by piece. */
void mc__each_line(const struct mc_text *t, const char *prefix, bool skip_comments,
                   void (*put)(void *ctx, const char *s, size_t n), void *ctx);
/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
size_t mc__utf8_len(const unsigned char *s);

/* An allocation failed and the report lost something it should hold: an
 * input error "out of memory: the report is incomplete" naming the input
 * (stderr, every format, exit status 2), once per input. */
void mc__report_oom(struct mc_report *r);

/* The sessions of an input still open, with what their end must report. */
struct mc_open_session {
    char *name;
    uint64_t baselined;          /* findings the baseline left out */
    uint64_t failures;           /* junit: findings at or above fail_on */
    char *junit;                 /* junit: <failure> elements so far */
    size_t junit_len;
    FILE *junit_f;               /* open_memstream over junit */
    char *skip_reason;           /* mc_report_session_note: not offered */
    char *error_reason;          /* mc_report_session_note: failed */
    char *out;                   /* junit: findings below fail_on, for <system-out> */
    size_t out_len;
    FILE *out_f;
};
/* The open session named name, created if create (NULL if not found, or
 * out of memory, which it reports with mc__report_oom). */
struct mc_open_session *mc__session_get(struct mc_report *r, const char *name, bool create);
/* Forgets a session (its end was reported). */
void mc__session_drop(struct mc_report *r, struct mc_open_session *s);
void mc__sessions_free(struct mc_report *r);

/* SARIF (report_sarif.c) */
void mc__sarif_begin(struct mc_report *r);
void mc__sarif_input(struct mc_report *r, const char *name);
void mc__sarif_finding(struct mc_report *r, const struct mc_finding *f, uint64_t fp);
void mc__sarif_input_error(struct mc_report *r, const char *file, uint64_t line, const char *msg);
void mc__sarif_end(struct mc_report *r);

/* JUnit XML (report_junit.c) */
void mc__junit_begin(struct mc_report *r);
void mc__junit_input_begin(struct mc_report *r, const char *name);
void mc__junit_input_end(struct mc_report *r);
void mc__junit_finding(struct mc_report *r, const struct mc_finding *f);
/* why_not: NULL if validated, else why it was not ("encrypted, ..."). */
void mc__junit_session(struct mc_report *r, const char *name, enum mc_proto proto,
                       const char *why_not, uint64_t suppressed);
void mc__junit_input_error(struct mc_report *r, const char *file, uint64_t line, const char *msg);
void mc__junit_end(struct mc_report *r);

#endif
