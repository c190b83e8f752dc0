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
};

/* Input errors kept for the log; a garbage file could produce millions. */
#define SARIF_MAX_NOTES 1000

/* Made when an input or an input error first needs it; NULL (reported as
 * out of memory, since the caller loses what it came to keep) if it
 * cannot be. */
static struct mc_report_sarif *state(struct mc_report *r)
{
    struct mc_report_sarif *s = r->sarif;
    if (s)
        return s;
    s = calloc(1, sizeof(*s));
    if (!s)
        goto oom;
    s->cur = -1;
    s->artifacts_f = open_memstream(&s->artifacts, &s->artifacts_len);
    s->notes_f = open_memstream(&s->notes, &s->notes_len);
    if (!s->artifacts_f || !s->notes_f) {
        if (s->artifacts_f) fclose(s->artifacts_f);
        if (s->notes_f) fclose(s->notes_f);
        free(s->artifacts);
        free(s->notes);
        free(s);
        goto oom;
    }
    r->sarif = s;
    return s;
oom:
    mc__report_oom(r);
    return NULL;
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

/* An explanation is written straight into its JSON string, not copied to
 * memory first: the log holds two per rule, and a copy could fail to be
 * made where this cannot. The paragraph alone (without examples) is one
 * line: its line breaks become spaces, the last one dropped. */
struct explain_json {
    FILE *o;
    bool paragraph;
    size_t breaks;       /* line breaks not yet written (paragraph) */
};

static void ej_put(void *ctx, const char *s, size_t n)
{
    struct explain_json *j = ctx;
    while (n) {
        const char *nl = memchr(s, '\n', n);
        size_t k = nl ? (size_t)(nl - s) : n;
        if (k && j->paragraph)
            for (; j->breaks; j->breaks--)
                putc(' ', j->o);
        mc__json_chars(j->o, s, k);
        if (!nl)
            return;
        if (j->paragraph)
            j->breaks++;
        else
            mc__json_chars(j->o, "\n", 1);
        s += k + 1;
        n -= k + 1;
    }
}

/* An explanation as a JSON string: the paragraph, or with examples */
static void explain_json(FILE *o, const struct mc_explain *e, bool with_examples)
{
    struct explain_json j = {o, !with_examples, 0};
    putc('"', o);
    mc__each_line(&e->why, "", true, ej_put, &j);
    if (with_examples) {
        ej_put(&j, "\nNon-conformant:\n", strlen("\nNon-conformant:\n"));
        mc__each_line(&e->bad, "  ", false, ej_put, &j);
        ej_put(&j, "\nConformant:\n", strlen("\nConformant:\n"));
        mc__each_line(&e->good, "  ", false, ej_put, &j);
    }
    /* of the paragraph's trailing line breaks, all but the last are spaces */
    for (; j.breaks > 1; j.breaks--)
        putc(' ', o);
    putc('"', o);
}

static void write_rule(FILE *o, enum mc_rule i, const struct mc_policy *pol)
{
    const struct mc_rule_info *ri = mc_rule_info(i);
    struct mc_explain e;
    bool have = mc_explain_get(i, &e);
    char url[160];
    mc_report_rfc_url(url, sizeof(url), ri);
    fputs("{\"id\":", o);
    mc__json_str(o, ri->id);
    fputs(",\"name\":", o);
    rule_name(o, ri->id);
    fputs(",\"shortDescription\":{\"text\":", o);
    mc__json_str(o, ri->summary);
    fputs("},\"fullDescription\":{\"text\":", o);
    if (have)
        explain_json(o, &e, false);
    else
        mc__json_str(o, ri->summary);
    fputs("},\"helpUri\":", o);
    mc__json_str(o, url);
    if (have) {
        fputs(",\"help\":{\"text\":", o);
        explain_json(o, &e, true);
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
    struct mc_report_sarif *s = r->sarif;   /* made by mc__sarif_input, if there was one */
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    FILE *o = r->out;
    if (r->any_json)
        fputs(",\n", o);
    r->any_json = true;
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
    struct mc_report_sarif *s = r->sarif;   /* NULL: none needed (or reported) */
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
