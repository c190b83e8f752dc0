/* Output formats live here and nowhere else. */
#include "report.h"
#include "session/session.h"

#include <string.h>

static const char *const sev_color[] = {"\033[36m", "\033[33m", "\033[31m"};
#define RESET "\033[0m"

bool mc_format_parse(const char *s, enum mc_format *out)
{
    if (strcmp(s, "text") == 0) *out = MC_FMT_TEXT;
    else if (strcmp(s, "json") == 0) *out = MC_FMT_JSON;
    else if (strcmp(s, "jsonl") == 0) *out = MC_FMT_JSONL;
    else return false;
    return true;
}

void mc_report_init(struct mc_report *r, FILE *out, enum mc_format fmt, enum mc_severity fail_on)
{
    memset(r, 0, sizeof(*r));
    r->out = out;
    r->format = fmt;
    r->fail_on = fail_on;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    unsigned cp;
    if (s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
    cp = s[0] & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* JSON string (RFC 8259 s7); octets that are not UTF-8 (session and file
 * names are arbitrary octets) become U+FFFD so the output stays JSON. */
static void json_str(FILE *o, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    putc('"', o);
    while (*s) {
        unsigned char c = *s;
        if (c == '"' || c == '\\') { putc('\\', o); putc(c, o); s++; }
        else if (c < 0x20 || c == 0x7f) { fprintf(o, "\\u%04x", c); s++; }
        else if (c < 0x80) { putc(c, o); s++; }
        else {
            size_t n = utf8_len(s);
            if (n) { fwrite(s, 1, n, o); s += n; }
            else { fputs("\\ufffd", o); s++; }
        }
    }
    putc('"', o);
}

void mc_report_begin(struct mc_report *r)
{
    if (r->format == MC_FMT_JSON)
        fputs("{\"tool\":\"mailconform\",\"findings\":[", r->out);
}

static void finding_json(FILE *o, const struct mc_finding *f, const char *input)
{
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    fputs("{\"rule\":", o);
    json_str(o, ri->id);
    fprintf(o, ",\"severity\":\"%s\",\"side\":\"%s\",\"protocol\":\"%s\",\"level\":\"%s\"",
            mc_severity_name(f->severity), mc_side_name(f->side), mc_proto_name(f->proto),
            mc_level_name(ri->level));
    fprintf(o, ",\"rfc\":%u,\"section\":", ri->rfc);
    json_str(o, ri->section);
    fputs(",\"session\":", o);
    json_str(o, f->session ? f->session : "");
    if (input) {
        fputs(",\"input\":", o);
        json_str(o, input);
    }
    if (f->origin.frame)
        fprintf(o, ",\"frame\":%llu", (unsigned long long)f->origin.frame);
    else
        fputs(",\"frame\":null", o);
    if (f->origin.line)
        fprintf(o, ",\"line\":%llu", (unsigned long long)f->origin.line);
    fprintf(o, ",\"direction\":\"%s\",\"offset\":%llu,\"excerpt\":",
            f->dir == MC_DIR_C2S ? "client" : "server", (unsigned long long)f->offset);
    json_str(o, f->excerpt);
    fputs(",\"message\":", o);
    json_str(o, f->message);
    fputs("}", o);
}

void mc_report_finding(void *ctx, const struct mc_finding *f)
{
    struct mc_report *r = ctx;
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    r->by_sev[f->severity]++;
    r->by_rule[f->rule]++;
    switch (r->format) {
    case MC_FMT_JSONL:
        finding_json(r->out, f, r->input);
        putc('\n', r->out);
        fflush(r->out);
        break;
    case MC_FMT_JSON:
        if (r->any_json)
            putc(',', r->out);
        r->any_json = true;
        finding_json(r->out, f, r->input);
        break;
    case MC_FMT_TEXT:
        if (r->quiet)
            break;
        /* file:line: severity RULE (side, RFC n §s, offset o): message */
        fprintf(r->out, "%s", r->input ? r->input : f->session);
        if (f->origin.line)
            fprintf(r->out, ":%llu", (unsigned long long)f->origin.line);
        if (f->origin.frame)
            fprintf(r->out, ": frame %llu", (unsigned long long)f->origin.frame);
        fprintf(r->out, ": %s%s%s %s (%s, RFC %u §%s, %s offset %llu): %s\n",
                r->color ? sev_color[f->severity] : "", mc_severity_name(f->severity),
                r->color ? RESET : "", ri->id, mc_side_name(f->side), ri->rfc, ri->section,
                f->dir == MC_DIR_C2S ? "client" : "server", (unsigned long long)f->offset,
                f->message);
        if (f->excerpt[0])
            fprintf(r->out, "    %s %s\n", f->dir == MC_DIR_C2S ? "C:" : "S:", f->excerpt);
        break;
    }
}

void mc_report_session(struct mc_report *r, const char *name, enum mc_proto proto, bool validated,
                       uint64_t findings, uint64_t suppressed)
{
    r->sessions++;
    r->suppressed += suppressed;
    if (validated)
        r->sessions_validated++;
    if (r->format == MC_FMT_TEXT && !r->quiet && validated)
    {
        if (findings + suppressed == 0)
            fprintf(r->out, "%s: session %s (%s): no findings\n", r->input ? r->input : "-", name,
                    mc_proto_name(proto));
        else
            fprintf(r->out, "%s: session %s (%s): %llu findings\n", r->input ? r->input : "-", name,
                    mc_proto_name(proto), (unsigned long long)(findings + suppressed));
    }
    if (r->format == MC_FMT_TEXT && !r->quiet && !validated) {
        if (proto == MC_PROTO_UNKNOWN)
            fprintf(r->out, "%s: session %s not validated: protocol not recognised\n",
                    r->input ? r->input : "-", name);
        else
            fprintf(r->out, "%s: session %s (%s) not validated: no %s validator yet\n",
                    r->input ? r->input : "-", name, mc_proto_name(proto), mc_proto_name(proto));
    }
}

void mc_report_input_error(struct mc_report *r, const char *file, uint64_t line, uint64_t col,
                           const char *msg)
{
    r->input_errors++;
    if (line && col)
        fprintf(stderr, "mailconform: %s:%llu:%llu: %s\n", file, (unsigned long long)line,
                (unsigned long long)col, msg);
    else if (line)
        fprintf(stderr, "mailconform: %s:%llu: %s\n", file, (unsigned long long)line, msg);
    else
        fprintf(stderr, "mailconform: %s: %s\n", file, msg);
}

void mc_report_warning(struct mc_report *r, const char *file, const char *msg)
{
    (void)r;
    fprintf(stderr, "mailconform: %s: %s\n", file, msg);
}

static void flow_json(FILE *o, const struct mc_flow_summary *fs, const char *input)
{
    fputs("{\"flow\":", o);
    json_str(o, fs->name);
    if (input) {
        fputs(",\"input\":", o);
        json_str(o, input);
    }
    fputs(",\"client\":", o);
    json_str(o, fs->client);
    fputs(",\"server\":", o);
    json_str(o, fs->server);
    fprintf(o, ",\"protocol\":\"%s\",\"submission\":%s,\"mode\":\"%s\",\"validated\":%s",
            mc_proto_name(fs->proto), fs->submission ? "true" : "false", fs->mode,
            fs->validated ? "true" : "false");
    fprintf(o, ",\"roles_from\":\"%s\",\"midstream\":%s", fs->roles_guessed ? "ports" : "syn",
            fs->midstream ? "true" : "false");
    fprintf(o, ",\"first_frame\":%llu,\"last_frame\":%llu,\"octets\":{\"client\":%llu,\"server\":%llu}",
            (unsigned long long)fs->first_frame, (unsigned long long)fs->last_frame,
            (unsigned long long)fs->octets_c2s, (unsigned long long)fs->octets_s2c);
    fprintf(o, ",\"gaps\":%llu,\"gap_octets\":%llu,\"overlaps_differing\":%llu",
            (unsigned long long)fs->gaps, (unsigned long long)fs->gap_octets,
            (unsigned long long)fs->overlaps);
    fputs(",\"server_banner\":", o);
    if (fs->banner)
        json_str(o, fs->banner);
    else
        fputs("null", o);
    fprintf(o, ",\"findings\":%llu}", (unsigned long long)(fs->findings + fs->suppressed));
}

void mc_report_flow(struct mc_report *r, const struct mc_flow_summary *fs)
{
    r->sessions++;
    r->suppressed += fs->suppressed;
    if (fs->validated)
        r->sessions_validated++;
    switch (r->format) {
    case MC_FMT_JSONL:
        flow_json(r->out, fs, r->input);
        putc('\n', r->out);
        break;
    case MC_FMT_JSON:
        break;   /* the document lists findings; flows are counted in its summary */
    case MC_FMT_TEXT:
        if (r->quiet)
            break;
        fprintf(r->out, "%s: %s: %s%s, %s, frames %llu-%llu, %llu/%llu octets",
                r->input ? r->input : "-", fs->name, mc_proto_name(fs->proto),
                fs->submission ? " (submission)" : "", fs->mode,
                (unsigned long long)fs->first_frame, (unsigned long long)fs->last_frame,
                (unsigned long long)fs->octets_c2s, (unsigned long long)fs->octets_s2c);
        if (fs->roles_guessed)
            fputs(", roles from ports", r->out);
        if (fs->midstream)
            fputs(", start not captured", r->out);
        if (fs->gaps)
            fprintf(r->out, ", %llu octets missing in %llu gaps", (unsigned long long)fs->gap_octets,
                    (unsigned long long)fs->gaps);
        if (fs->overlaps)
            fprintf(r->out, ", %llu retransmissions with different octets (first copy used)",
                    (unsigned long long)fs->overlaps);
        if (fs->banner)
            fprintf(r->out, ", server \"%s\"", fs->banner);
        if (fs->encrypted)
            fputs(": encrypted, not validated\n", r->out);
        else if (!fs->validated)
            fputs(": not validated: protocol not recognised\n", r->out);
        else if (fs->findings + fs->suppressed == 0)
            fputs(": no findings\n", r->out);
        else
            fprintf(r->out, ": %llu findings\n", (unsigned long long)(fs->findings + fs->suppressed));
        break;
    }
}

void mc_report_capture(struct mc_report *r, const struct mc_capture_summary *cs)
{
    if (r->format == MC_FMT_JSONL) {
        fputs("{\"capture\":", r->out);
        json_str(r->out, cs->name);
        fprintf(r->out,
                ",\"format\":\"%s\",\"frames\":%llu,\"tcp_segments\":%llu,\"flows\":%llu,"
                "\"mail_flows\":%llu,\"encrypted_flows\":%llu,\"other_flows\":%llu,\"not_tcp\":%llu,"
                "\"ip_fragments\":%llu,\"truncated_frames\":%llu,\"malformed_frames\":%llu,"
                "\"unknown_linktype_frames\":%llu}\n",
                cs->format ? cs->format : "unknown", (unsigned long long)cs->frames,
                (unsigned long long)cs->tcp_segments, (unsigned long long)cs->flows,
                (unsigned long long)cs->mail_flows, (unsigned long long)cs->encrypted_flows,
                (unsigned long long)cs->other_flows, (unsigned long long)cs->not_tcp,
                (unsigned long long)cs->fragments, (unsigned long long)cs->truncated,
                (unsigned long long)cs->malformed, (unsigned long long)cs->unknown_linktype);
        return;
    }
    if (r->format != MC_FMT_TEXT || r->quiet)
        return;
    fprintf(r->out, "%s: %s, %llu frames, %llu TCP connections: %llu mail (%llu encrypted), %llu other",
            cs->name, cs->format ? cs->format : "unreadable", (unsigned long long)cs->frames,
            (unsigned long long)cs->flows, (unsigned long long)cs->mail_flows,
            (unsigned long long)cs->encrypted_flows, (unsigned long long)cs->other_flows);
    if (cs->fragments)
        fprintf(r->out, "; %llu IP fragments not reassembled", (unsigned long long)cs->fragments);
    if (cs->truncated)
        fprintf(r->out, "; %llu frames cut before the TCP payload", (unsigned long long)cs->truncated);
    if (cs->malformed)
        fprintf(r->out, "; %llu malformed frames", (unsigned long long)cs->malformed);
    if (cs->unknown_linktype)
        fprintf(r->out, "; %llu frames of unknown link type %u", (unsigned long long)cs->unknown_linktype,
                cs->linktype);
    fputc('\n', r->out);
}

void mc_report_end(struct mc_report *r)
{
    uint64_t total = r->by_sev[0] + r->by_sev[1] + r->by_sev[2];
    switch (r->format) {
    case MC_FMT_JSON:
        fprintf(r->out,
                "],\"summary\":{\"sessions\":%llu,\"validated\":%llu,\"findings\":%llu,"
                "\"error\":%llu,\"warning\":%llu,\"note\":%llu,\"not_shown\":%llu,\"input_errors\":%llu}}\n",
                (unsigned long long)r->sessions, (unsigned long long)r->sessions_validated,
                (unsigned long long)total, (unsigned long long)r->by_sev[MC_SEV_ERROR],
                (unsigned long long)r->by_sev[MC_SEV_WARNING], (unsigned long long)r->by_sev[MC_SEV_NOTE],
                (unsigned long long)r->suppressed, (unsigned long long)r->input_errors);
        break;
    case MC_FMT_JSONL:
        break;
    case MC_FMT_TEXT:
        if (total > 0 && !r->quiet) {
            fputs("\nfindings by rule:\n", r->out);
            for (unsigned i = 0; i < MC_RULE_COUNT; i++) {
                if (r->by_rule[i]) {
                    const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)i);
                    fprintf(r->out, "  %6llu  %-7s  %-32s RFC %u §%s\n",
                            (unsigned long long)r->by_rule[i], mc_severity_name(ri->severity), ri->id,
                            ri->rfc, ri->section);
                }
            }
        }
        fprintf(r->out,
                "summary: %llu session%s (%llu validated), %llu finding%s: %llu error%s, "
                "%llu warning%s, %llu note%s%s\n",
                (unsigned long long)r->sessions, r->sessions == 1 ? "" : "s",
                (unsigned long long)r->sessions_validated, (unsigned long long)total,
                total == 1 ? "" : "s", (unsigned long long)r->by_sev[MC_SEV_ERROR],
                r->by_sev[MC_SEV_ERROR] == 1 ? "" : "s", (unsigned long long)r->by_sev[MC_SEV_WARNING],
                r->by_sev[MC_SEV_WARNING] == 1 ? "" : "s", (unsigned long long)r->by_sev[MC_SEV_NOTE],
                r->by_sev[MC_SEV_NOTE] == 1 ? "" : "s",
                r->input_errors ? "; input errors (see stderr)" : "");
        if (r->suppressed)
            fprintf(r->out, "(%llu more findings counted but not shown: at most %d per rule and session)\n",
                    (unsigned long long)r->suppressed, MC_FINDINGS_PER_RULE);
        break;
    }
    fflush(r->out);
}

int mc_report_exit_code(const struct mc_report *r)
{
    if (r->input_errors)
        return 2;
    for (int s = r->fail_on; s <= MC_SEV_ERROR; s++)
        if (r->by_sev[s])
            return 1;
    return 0;
}

void mc_report_rules(FILE *out, const char *format)
{
    bool md = strcmp(format, "md") == 0, json = strcmp(format, "json") == 0;
    if (md) {
        fputs("# mailconform rule catalogue\n\n"
              "Generated by `mailconform rules --format md` from `validator/rules/rules.def`; "
              "do not edit by hand.\n\n"
              "| id | protocol | side | level | severity | RFC | section | summary |\n"
              "|---|---|---|---|---|---|---|---|\n", out);
    } else if (json) {
        fputs("[", out);
    }
    for (unsigned i = 0; i < MC_RULE_COUNT; i++) {
        const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)i);
        if (md) {
            fprintf(out, "| `%s` | %s | %s | %s | %s | %u | %s | %s |\n", ri->id,
                    mc_proto_name(ri->proto), mc_side_name(ri->side), mc_level_name(ri->level),
                    mc_severity_name(ri->severity), ri->rfc, ri->section, ri->summary);
        } else if (json) {
            fputs(i ? ",\n{\"id\":" : "\n{\"id\":", out);
            json_str(out, ri->id);
            fprintf(out, ",\"protocol\":\"%s\",\"side\":\"%s\",\"level\":\"%s\",\"severity\":\"%s\","
                         "\"rfc\":%u,\"section\":",
                    mc_proto_name(ri->proto), mc_side_name(ri->side), mc_level_name(ri->level),
                    mc_severity_name(ri->severity), ri->rfc);
            json_str(out, ri->section);
            fputs(",\"summary\":", out);
            json_str(out, ri->summary);
            fputs("}", out);
        } else {
            fprintf(out, "%-32s %-4s %-6s %-7s %-7s RFC %u §%-5s %s\n", ri->id, mc_proto_name(ri->proto),
                    mc_side_name(ri->side), mc_level_name(ri->level), mc_severity_name(ri->severity),
                    ri->rfc, ri->section, ri->summary);
        }
    }
    if (json)
        fputs("\n]\n", out);
}
