/*
 * SARIF 2.1.0 (OASIS, https://docs.oasis-open.org/sarif/sarif/v2.1.0/):
 * one log, one run. tool.driver.rules lists the whole catalogue in rule
 * order (ruleIndex is the rule's number); results are streamed as findings
 * come; artifacts (the inputs), invocations (input errors as notifications)
 * and the run's summary follow at the end, which JSON's unordered objects
 * allow.
 *
 * Locations: the transcript or capture is the artifact. Transcript findings
 * carry region.startLine; capture findings have no line, so their frame
 * number, direction and stream offset go into the result's properties
 * (SARIF regions only know lines, columns and file offsets).
 */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#include "report_internal.h"
#include "rules/explain.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct mc_report_sarif {
    FILE *artifacts_f;   /* the artifacts array's elements, written at the end */
    char *artifacts;
    size_t artifacts_len;
    long cur;            /* artifact index of the current input, -1 none */
    long n_artifacts;
    FILE *notes_f;       /* toolExecutionNotifications */
    char *notes;
    size_t notes_len;
    unsigned long n_notes;
    bool any_result;
};

/* Input errors kept for the log; a garbage file could produce millions. */
#define SARIF_MAX_NOTES 1000

static struct mc_report_sarif *state(struct mc_report *r)
{
    struct mc_report_sarif *s = r->sarif;
    if (s)
        return s;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cur = -1;
    s->artifacts_f = open_memstream(&s->artifacts, &s->artifacts_len);
    s->notes_f = open_memstream(&s->notes, &s->notes_len);
    if (!s->artifacts_f || !s->notes_f) {
        if (s->artifacts_f) fclose(s->artifacts_f);
        if (s->notes_f) fclose(s->notes_f);
        free(s->artifacts);
        free(s->notes);
        free(s);
        return NULL;
    }
    r->sarif = s;
    return s;
}

/* A file name as a URI reference (RFC 3986 s4.1): unreserved characters
 * and '/' as they are, everything else percent-encoded. An absolute path
 * becomes a file: URI (SARIF 3.10.3 wants relative references that can be
 * resolved against a uriBaseId, which one starting with '/' cannot). */
static void json_uri(FILE *o, const char *path)
{
    putc('"', o);
    if (path[0] == '/')
        fputs("file://", o);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("-._~/", *p))
            putc(*p, o);
        else
            fprintf(o, "%%%02X", *p);
    }
    putc('"', o);
}

/* "POP3.RESP.BARE_LF" -> "Pop3RespBareLf": SARIF's rule name is meant to be
 * an identifier-like word. */
static void rule_name(FILE *o, const char *id)
{
    bool up = true;
    putc('"', o);
    for (const char *p = id; *p; p++) {
        if (*p == '.' || *p == '_') {
            up = true;
            continue;
        }
        putc(up ? toupper((unsigned char)*p) : tolower((unsigned char)*p), o);
        up = false;
    }
    putc('"', o);
}

static char *explain_text(enum mc_rule r, bool with_examples)
{
    struct mc_explain e;
    char *buf = NULL;
    size_t len = 0;
    FILE *o;
    if (!mc_explain_get(r, &e) || !(o = open_memstream(&buf, &len)))
        return NULL;
    mc__write_lines(o, &e.why, "", true);
    if (with_examples) {
        fputs("\nNon-conformant:\n", o);
        mc__write_lines(o, &e.bad, "  ", false);
        fputs("\nConformant:\n", o);
        mc__write_lines(o, &e.good, "  ", false);
    }
    fclose(o);
    /* one paragraph: the line breaks of the source file are not meaningful */
    if (!with_examples)
        for (char *p = buf; *p; p++)
            if (*p == '\n')
                *p = p[1] ? ' ' : '\0';
    return buf;
}

static void write_rule(FILE *o, enum mc_rule i, const struct mc_policy *pol)
{
    const struct mc_rule_info *ri = mc_rule_info(i);
    char url[160];
    char *why = explain_text(i, false), *help = explain_text(i, true);
    mc_report_rfc_url(url, sizeof(url), ri);
    fputs("{\"id\":", o);
    mc__json_str(o, ri->id);
    fputs(",\"name\":", o);
    rule_name(o, ri->id);
    fputs(",\"shortDescription\":{\"text\":", o);
    mc__json_str(o, ri->summary);
    fputs("},\"fullDescription\":{\"text\":", o);
    mc__json_str(o, why ? why : ri->summary);
    fputs("},\"helpUri\":", o);
    mc__json_str(o, url);
    if (help) {
        fputs(",\"help\":{\"text\":", o);
        mc__json_str(o, help);
        fputs("}", o);
    }
    fprintf(o, ",\"defaultConfiguration\":{\"level\":\"%s\",\"enabled\":%s}",
            mc_severity_name(mc_policy_severity_of(pol, i)), mc_policy_enabled(pol, i) ? "true" : "false");
    fprintf(o, ",\"properties\":{\"protocol\":\"%s\",\"side\":\"%s\",\"requirement\":\"%s\",\"rfc\":%u,"
               "\"section\":",
            mc_proto_name(ri->proto), mc_side_name(ri->side), mc_level_name(ri->level), ri->rfc);
    mc__json_str(o, ri->section);
    fprintf(o, ",\"tags\":[\"%s\",\"%s\",\"RFC%u\"]}}", mc_proto_name(ri->proto), mc_side_name(ri->side),
            ri->rfc);
    free(why);
    free(help);
}

void mc__sarif_begin(struct mc_report *r)
{
    FILE *o = r->out;
    fputs("{\"$schema\":\"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
          "sarif-schema-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{"
          "\"name\":\"mailconform\"",
          o);
    if (r->version) {
        fputs(",\"semanticVersion\":", o);
        mc__json_str(o, r->version);
    }
    fputs(",\"rules\":[", o);
    for (unsigned i = 0; i < MC_RULE_COUNT; i++) {
        if (i)
            fputs(",\n", o);
        write_rule(o, (enum mc_rule)i, r->policy);
    }
    fputs("]}},\n\"columnKind\":\"unicodeCodePoints\",\"results\":[", o);
    state(r);
}

void mc__sarif_input(struct mc_report *r, const char *name)
{
    struct mc_report_sarif *s = state(r);
    if (!s)
        return;
    if (s->n_artifacts)
        putc(',', s->artifacts_f);
    fputs("{\"location\":{\"uri\":", s->artifacts_f);
    json_uri(s->artifacts_f, name);
    fputs("},\"roles\":[\"analysisTarget\"]}", s->artifacts_f);
    s->cur = s->n_artifacts++;
}

void mc__sarif_finding(struct mc_report *r, const struct mc_finding *f, uint64_t fp)
{
    struct mc_report_sarif *s = state(r);
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    FILE *o = r->out;
    if (s && s->any_result)
        fputs(",\n", o);
    if (s)
        s->any_result = true;
    fputs("{\"ruleId\":", o);
    mc__json_str(o, ri->id);
    fprintf(o, ",\"ruleIndex\":%u,\"level\":\"%s\",\"message\":{\"text\":", (unsigned)f->rule,
            mc_severity_name(f->severity));
    mc__json_str(o, f->message);
    fputs("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":", o);
    json_uri(o, r->input ? r->input : (f->session ? f->session : "-"));
    if (r->input && s && s->cur >= 0)
        fprintf(o, ",\"index\":%ld", s->cur);
    fputs("}", o);
    if (f->origin.line) {
        fprintf(o, ",\"region\":{\"startLine\":%llu", (unsigned long long)f->origin.line);
        if (f->excerpt[0]) {
            fputs(",\"snippet\":{\"text\":", o);
            mc__json_str(o, f->excerpt);
            fputs("}", o);
        }
        fputs("}", o);
    }
    fputs("},\"logicalLocations\":[{\"name\":", o);
    mc__json_str(o, f->session ? f->session : "");
    fputs(",\"kind\":\"module\"}]}]", o);
    fprintf(o, ",\"partialFingerprints\":{\"mailconform/v1\":\"%016llx\"}", (unsigned long long)fp);
    fprintf(o, ",\"properties\":{\"protocol\":\"%s\",\"side\":\"%s\",\"direction\":\"%s\",\"offset\":%llu",
            mc_proto_name(f->proto), mc_side_name(f->side), f->dir == MC_DIR_C2S ? "client" : "server",
            (unsigned long long)f->offset);
    if (f->origin.frame)
        fprintf(o, ",\"frame\":%llu", (unsigned long long)f->origin.frame);
    fputs(",\"excerpt\":", o);
    mc__json_str(o, f->excerpt);
    fputs("}}", o);
}

void mc__sarif_input_error(struct mc_report *r, const char *file, uint64_t line, const char *msg)
{
    struct mc_report_sarif *s = state(r);
    FILE *o;
    if (!s || s->n_notes >= SARIF_MAX_NOTES)
        return;
    o = s->notes_f;
    if (s->n_notes++)
        putc(',', o);
    fputs("{\"level\":\"error\",\"message\":{\"text\":", o);
    mc__json_str(o, msg);
    fputs("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":", o);
    json_uri(o, file);
    fputs("}", o);
    if (line)
        fprintf(o, ",\"region\":{\"startLine\":%llu}", (unsigned long long)line);
    fputs("}}]}", o);
}

void mc__sarif_end(struct mc_report *r)
{
    struct mc_report_sarif *s = state(r);
    FILE *o = r->out;
    uint64_t total = r->by_sev[0] + r->by_sev[1] + r->by_sev[2];
    fputs("],\n\"artifacts\":[", o);
    if (s) {
        fflush(s->artifacts_f);
        fwrite(s->artifacts, 1, s->artifacts_len, o);
    }
    fprintf(o, "],\n\"invocations\":[{\"executionSuccessful\":%s,\"toolExecutionNotifications\":[",
            r->input_errors ? "false" : "true");
    if (s) {
        fflush(s->notes_f);
        fwrite(s->notes, 1, s->notes_len, o);
    }
    fprintf(o, "]}],\n\"properties\":{\"command\":");
    mc__json_str(o, r->command ? r->command : "check");
    fprintf(o, ",\"sessions\":%llu,\"validated\":%llu,\"findings\":%llu,\"error\":%llu,\"warning\":%llu,"
               "\"note\":%llu,\"not_shown\":%llu,\"baselined\":%llu,\"input_errors\":%llu}}]}\n",
            (unsigned long long)r->sessions, (unsigned long long)r->sessions_validated,
            (unsigned long long)total, (unsigned long long)r->by_sev[MC_SEV_ERROR],
            (unsigned long long)r->by_sev[MC_SEV_WARNING], (unsigned long long)r->by_sev[MC_SEV_NOTE],
            (unsigned long long)r->suppressed, (unsigned long long)r->baselined,
            (unsigned long long)r->input_errors);
    if (s) {
        fclose(s->artifacts_f);
        fclose(s->notes_f);
        free(s->artifacts);
        free(s->notes);
        free(s);
        r->sarif = NULL;
    }
}
