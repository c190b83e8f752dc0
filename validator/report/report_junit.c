/*
 * JUnit XML, as CI systems read it (Jenkins, GitLab, GitHub test
 * reporters): <testsuites> holds one <testsuite> per input (transcript,
 * capture, or the relay's run), and each suite one <testcase> per session
 * or TCP connection. A finding at or above --fail-on is a <failure> of its
 * session; findings below it are listed in the session's <system-out>; a
 * session that could not be validated (encrypted, unknown protocol) is
 * <skipped>; an input error is a test case with an <error>.
 *
 * Sessions of a capture interleave, so each collects its elements in
 * memory until it ends; a suite collects its test cases in a temporary
 * file until the input ends, since the suite's counts come first.
 */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#include "report_internal.h"
#include "session/session.h"

#include <stdlib.h>
#include <string.h>

struct mc_report_junit {
    FILE *suite;            /* test cases of the current input */
    char *mem;              /* when no temporary file could be made: */
    size_t mem_len;         /* suite is an open_memstream over mem */
    bool in_mem;
    const char *suite_name; /* the input's name (lives until its end), NULL: none begun */
    unsigned long tests, failures, errors, skipped;
};

/* Out of memory is reported here: every caller loses what it came to keep. */
static struct mc_report_junit *state(struct mc_report *r)
{
    if (!r->junit && !(r->junit = calloc(1, sizeof(*r->junit))))
        mc__report_oom(r);
    return r->junit;
}

void mc__junit_begin(struct mc_report *r)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", r->out);
    mc__xml_str(r->out, r->command ? r->command : "check");
    fputs("\">\n", r->out);
}

static bool suite_open(struct mc_report_junit *j)
{
    j->suite = tmpfile();
    j->in_mem = !j->suite;
    if (j->in_mem)   /* no temporary directory: keep it in memory */
        j->suite = open_memstream(&j->mem, &j->mem_len);
    return j->suite != NULL;
}

void mc__junit_input_begin(struct mc_report *r, const char *name)
{
    struct mc_report_junit *j = state(r);
    if (!j)
        return;
    if (j->suite_name)
        mc__junit_input_end(r);
    j->suite_name = name;
    j->tests = j->failures = j->errors = j->skipped = 0;
    /* if this fails, suite() tries again when a test case comes, and an
     * input without any needs no file: nothing is lost yet */
    (void)suite_open(j);
}

/* The suite of the current input, begun if a finding or error comes
 * before any input was announced (the relay), its file opened if that
 * failed before. */
static struct mc_report_junit *suite(struct mc_report *r)
{
    struct mc_report_junit *j = state(r);
    if (!j)
        return NULL;
    if (!j->suite_name)
        mc__junit_input_begin(r, r->input ? r->input : (r->command ? r->command : "check"));
    if (!j->suite && !suite_open(j)) {
        mc__report_oom(r);
        return NULL;
    }
    return j;
}

void mc__junit_input_end(struct mc_report *r)
{
    struct mc_report_junit *j = r->junit;
    char buf[65536];
    size_t n;
    if (!j || !j->suite_name)
        return;
    fprintf(r->out, "  <testsuite name=\"");
    mc__xml_str(r->out, j->suite_name);
    fprintf(r->out, "\" tests=\"%lu\" failures=\"%lu\" errors=\"%lu\" skipped=\"%lu\" time=\"0\">\n",
            j->tests, j->failures, j->errors, j->skipped);
    if (j->suite) {   /* none: no test case came, or each that did was reported lost */
        fflush(j->suite);
        if (j->in_mem) {
            fwrite(j->mem, 1, j->mem_len, r->out);
        } else {
            rewind(j->suite);
            while ((n = fread(buf, 1, sizeof(buf), j->suite)) > 0)
                fwrite(buf, 1, n, r->out);
        }
        fclose(j->suite);
    }
    fputs("  </testsuite>\n", r->out);
    j->suite = NULL;
    free(j->mem);
    j->mem = NULL;
    j->suite_name = NULL;
}

/* The session's <failure> elements or its <system-out>; NULL (reported)
 * if it cannot be made. */
static FILE *session_stream(struct mc_report *r, struct mc_open_session *os, bool failure)
{
    FILE **f = failure ? &os->junit_f : &os->out_f;
    if (!*f && !(*f = failure ? open_memstream(&os->junit, &os->junit_len)
                              : open_memstream(&os->out, &os->out_len)))
        mc__report_oom(r);
    return *f;
}

/* "t.mct:12: server offset 40" / "frame 9: client offset 0" */
static void position(FILE *o, const struct mc_finding *f)
{
    if (f->origin.line)
        fprintf(o, "line %llu, ", (unsigned long long)f->origin.line);
    if (f->origin.frame)
        fprintf(o, "frame %llu, ", (unsigned long long)f->origin.frame);
    fprintf(o, "%s offset %llu", f->dir == MC_DIR_C2S ? "client" : "server", (unsigned long long)f->offset);
}

void mc__junit_finding(struct mc_report *r, const struct mc_finding *f)
{
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    struct mc_open_session *os = mc__session_get(r, f->session ? f->session : "", true);
    bool failure = f->severity >= r->fail_on;
    FILE *o;
    if (!os || !(o = session_stream(r, os, failure)))
        return;
    if (failure) {
        os->failures++;
        fputs("      <failure type=\"", o);
        mc__xml_str(o, ri->id);
        fputs("\" message=\"", o);
        mc__xml_str(o, f->message);
        fputs("\">", o);
    }
    /* the body: what a person needs to find and judge the finding */
    fprintf(o, "%s %s (%s at fault, RFC %u section %s, ", mc_severity_name(f->severity), ri->id,
            mc_side_name(f->side), ri->rfc, ri->section);
    position(o, f);
    fputs("): ", o);
    mc__xml_str(o, f->message);
    if (f->excerpt[0]) {
        fputs(failure ? "&#10;" : "\n", o);
        fputs(f->dir == MC_DIR_C2S ? "C: " : "S: ", o);
        mc__xml_str(o, f->excerpt);
    }
    fputs(failure ? "</failure>\n" : "\n", o);
}

void mc__junit_session(struct mc_report *r, const char *name, enum mc_proto proto,
                       const char *why_not, uint64_t suppressed)
{
    struct mc_report_junit *j = suite(r);
    struct mc_open_session *os = mc__session_get(r, name, false);
    FILE *o;
    if (!j)
        return;
    o = j->suite;
    j->tests++;
    fputs("    <testcase classname=\"mailconform.", o);
    fputs(mc_proto_name(proto), o);
    fputs("\" name=\"", o);
    mc__xml_str(o, name);
    fputs("\" time=\"0\">\n", o);
    if (why_not) {
        j->skipped++;
        fputs("      <skipped message=\"", o);
        mc__xml_str(o, why_not);
        fputs("\"/>\n", o);
    }
    if (os && os->error_reason) {
        j->errors++;
        fputs("      <error type=\"failed\" message=\"", o);
        mc__xml_str(o, os->error_reason);
        fputs("\"/>\n", o);
    }
    if (os && os->junit_f) {
        fflush(os->junit_f);
        fwrite(os->junit, 1, os->junit_len, o);
    }
    if (os && os->failures)
        j->failures++;
    if ((os && os->out_f) || suppressed) {
        fputs("      <system-out>", o);
        if (os && os->out_f) {
            fflush(os->out_f);
            fwrite(os->out, 1, os->out_len, o);
        }
        if (suppressed)
            fprintf(o, "%llu more findings counted but not shown (at most %d per rule and session)\n",
                    (unsigned long long)suppressed, MC_FINDINGS_PER_RULE);
        fputs("</system-out>\n", o);
    }
    fputs("    </testcase>\n", o);
}

void mc__junit_input_error(struct mc_report *r, const char *file, uint64_t line, const char *msg)
{
    struct mc_report_junit *j = suite(r);
    FILE *o;
    if (!j)
        return;
    o = j->suite;
    j->tests++;
    j->errors++;
    fputs("    <testcase classname=\"mailconform.input\" name=\"", o);
    mc__xml_str(o, file);
    if (line)
        fprintf(o, ":%llu", (unsigned long long)line);
    fputs("\" time=\"0\">\n      <error type=\"input\" message=\"", o);
    mc__xml_str(o, msg);
    fputs("\"/>\n    </testcase>\n", o);
}

void mc__junit_end(struct mc_report *r)
{
    mc__junit_input_end(r);
    fputs("</testsuites>\n", r->out);
    if (r->junit) {
        free(r->junit);
        r->junit = NULL;
    }
}
