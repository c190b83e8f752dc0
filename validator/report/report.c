/* Output formats live here (text, json, jsonl) and in report_sarif.c,
 * report_junit.c; this file also keeps the totals and the open sessions. */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#include "report.h"
#include "report_internal.h"
#include "rules/explain.h"
#include "session/fnv.h"
#include "session/session.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const sev_color[] = {"\033[36m", "\033[33m", "\033[31m"};
#define RESET "\033[0m"

bool mc_format_parse(const char *s, enum mc_format *out)
{
    if (strcmp(s, "text") == 0) *out = MC_FMT_TEXT;
    else if (strcmp(s, "json") == 0) *out = MC_FMT_JSON;
    else if (strcmp(s, "jsonl") == 0) *out = MC_FMT_JSONL;
    else if (strcmp(s, "sarif") == 0) *out = MC_FMT_SARIF;
    else if (strcmp(s, "junit") == 0) *out = MC_FMT_JUNIT;
    else return false;
    return true;
}

void mc_report_init(struct mc_report *r, FILE *out, enum mc_format fmt, enum mc_severity fail_on)
{
    memset(r, 0, sizeof(*r));
    r->out = out;
    r->format = fmt;
    r->fail_on = fail_on;
    r->command = "check";
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
size_t mc__utf8_len(const unsigned char *s)
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

/* JSON string contents (RFC 8259 s7); octets that are not UTF-8 (session
 * and file names are arbitrary octets) become U+FFFD so the output stays
 * JSON. A sequence cut by the end of the n octets is not UTF-8. */
void mc__json_chars(FILE *o, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    while (s < end) {
        unsigned char c = *s;
        if (c == '"' || c == '\\') { putc('\\', o); putc(c, o); s++; }
        else if (c < 0x20 || c == 0x7f) { fprintf(o, "\\u%04x", c); s++; }
        else if (c < 0x80) { putc(c, o); s++; }
        else {
            unsigned char seq[4] = {0};   /* mc__utf8_len reads up to 4 */
            size_t len;
            memcpy(seq, s, (size_t)(end - s) < 4 ? (size_t)(end - s) : 4);
            if ((len = mc__utf8_len(seq)) != 0) { fwrite(s, 1, len, o); s += len; }
            else { fputs("\\ufffd", o); s++; }
        }
    }
}

void mc__json_str(FILE *o, const char *str)
{
    putc('"', o);
    mc__json_chars(o, str, strlen(str));
    putc('"', o);
}

/* XML 1.0 s2.2: TAB, LF, CR and U+0020 and up, except U+FFFE/U+FFFF;
 * markup characters as entities (s2.4). */
void mc__xml_str(FILE *o, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned char c = *s;
        size_t n;
        if (c == '<') fputs("&lt;", o);
        else if (c == '>') fputs("&gt;", o);
        else if (c == '&') fputs("&amp;", o);
        else if (c == '"') fputs("&quot;", o);
        else if (c == '\'') fputs("&apos;", o);
        else if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f)) putc(c, o);
        else if (c < 0x80) fputs("\xef\xbf\xbd", o);   /* controls and DEL */
        else if ((n = mc__utf8_len(s)) != 0 &&
                 !(n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe)) {
            fwrite(s, 1, n, o);
            s += n;
            continue;
        } else fputs("\xef\xbf\xbd", o);
        s++;
    }
}

/* ---- open sessions: chained hash table by name ---- */

struct sess_node {
    struct mc_open_session s;
    struct sess_node *next;
};

struct mc_report_sessions {
    struct sess_node **b;
    size_t nb, count;
};

static size_t name_hash(const char *s)
{
    return (size_t)mc_fnv1a(MC_FNV_OFFSET, s, strlen(s));
}

static bool sessions_grow(struct mc_report_sessions *t)
{
    size_t nb = t->nb ? t->nb * 2 : 256;
    struct sess_node **b = calloc(nb, sizeof(*b));
    if (!b)
        return false;
    for (size_t i = 0; i < t->nb; i++) {
        struct sess_node *n = t->b[i], *next;
        for (; n; n = next) {
            size_t h = name_hash(n->s.name) & (nb - 1);
            next = n->next;
            n->next = b[h];
            b[h] = n;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return true;
}

struct mc_open_session *mc__session_get(struct mc_report *r, const char *name, bool create)
{
    struct mc_report_sessions *t = r->open;
    struct sess_node *n;
    if (!t && !create)
        return NULL;
    if (!t && !(t = r->open = calloc(1, sizeof(*t))))
        goto oom;
    if (t->nb) {
        for (n = t->b[name_hash(name) & (t->nb - 1)]; n; n = n->next)
            if (strcmp(n->s.name, name) == 0)
                return &n->s;
    }
    if (!create)
        return NULL;
    /* a table that could not grow still works, with longer chains */
    if (t->count >= t->nb && !sessions_grow(t) && t->nb == 0)
        goto oom;
    n = calloc(1, sizeof(*n));
    if (!n || !(n->s.name = strdup(name))) {
        free(n);
        goto oom;
    }
    size_t h = name_hash(name) & (t->nb - 1);
    n->next = t->b[h];
    t->b[h] = n;
    t->count++;
    return &n->s;
oom:
    /* every caller that creates has something to keep there */
    mc__report_oom(r);
    return NULL;
}

static void open_session_free(struct mc_open_session *s)
{
    if (s->junit_f)
        fclose(s->junit_f);
    if (s->out_f)
        fclose(s->out_f);
    free(s->junit);
    free(s->out);
    free(s->skip_reason);
    free(s->error_reason);
    free(s->name);
}

void mc__session_drop(struct mc_report *r, struct mc_open_session *s)
{
    struct mc_report_sessions *t = r->open;
    size_t h = name_hash(s->name) & (t->nb - 1);
    for (struct sess_node **p = &t->b[h]; *p; p = &(*p)->next) {
        if (&(*p)->s == s) {
            struct sess_node *n = *p;
            *p = n->next;
            open_session_free(&n->s);
            free(n);
            t->count--;
            return;
        }
    }
}

void mc__sessions_free(struct mc_report *r)
{
    struct mc_report_sessions *t = r->open;
    if (!t)
        return;
    for (size_t i = 0; i < t->nb; i++) {
        struct sess_node *n = t->b[i], *next;
        for (; n; n = next) {
            next = n->next;
            open_session_free(&n->s);
            free(n);
        }
    }
    free(t->b);
    free(t);
    r->open = NULL;
}

void mc_report_begin(struct mc_report *r)
{
    if (r->write_baseline)
        mc_baseline_write_header(r->write_baseline);
    if (r->format == MC_FMT_JSON)
        fputs("{\"tool\":\"mailconform\",\"findings\":[", r->out);
    else if (r->format == MC_FMT_SARIF)
        mc__sarif_begin(r);
    else if (r->format == MC_FMT_JUNIT)
        mc__junit_begin(r);
}

void mc_report_input_begin(struct mc_report *r, const char *name)
{
    r->input = name;
    r->oom_told = false;
    if (r->format == MC_FMT_SARIF)
        mc__sarif_input(r, name);
    else if (r->format == MC_FMT_JUNIT)
        mc__junit_input_begin(r, name);
}

void mc_report_input_end(struct mc_report *r)
{
    if (r->format == MC_FMT_JUNIT)
        mc__junit_input_end(r);
    r->input = NULL;
}

void mc__finding_json(FILE *o, const struct mc_finding *f, const char *input)
{
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    fputs("{\"rule\":", o);
    mc__json_str(o, ri->id);
    fprintf(o, ",\"severity\":\"%s\",\"side\":\"%s\",\"protocol\":\"%s\",\"level\":\"%s\"",
            mc_severity_name(f->severity), mc_side_name(f->side), mc_proto_name(f->proto),
            mc_level_name(ri->level));
    fprintf(o, ",\"rfc\":%u,\"section\":", ri->rfc);
    mc__json_str(o, ri->section);
    fputs(",\"session\":", o);
    mc__json_str(o, f->session ? f->session : "");
    if (input) {
        fputs(",\"input\":", o);
        mc__json_str(o, input);
    }
    if (f->origin.frame)
        fprintf(o, ",\"frame\":%llu", (unsigned long long)f->origin.frame);
    else
        fputs(",\"frame\":null", o);
    if (f->origin.line)
        fprintf(o, ",\"line\":%llu", (unsigned long long)f->origin.line);
    fprintf(o, ",\"direction\":\"%s\",\"offset\":%llu,\"excerpt\":",
            f->dir == MC_DIR_C2S ? "client" : "server", (unsigned long long)f->offset);
    mc__json_str(o, f->excerpt);
    fputs(",\"message\":", o);
    mc__json_str(o, f->message);
    fputs("}", o);
}

void mc_report_finding(void *ctx, const struct mc_finding *f)
{
    struct mc_report *r = ctx;
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    uint64_t fp = 0;
    if (r->baseline || r->write_baseline || r->format == MC_FMT_SARIF)
        fp = mc_finding_fingerprint(f, r->input);
    if (r->write_baseline)
        mc_baseline_write(r->write_baseline, fp, f, r->input);
    if (r->baseline && mc_baseline_take(r->baseline, fp)) {
        struct mc_open_session *os = mc__session_get(r, f->session ? f->session : "", true);
        r->baselined++;
        if (os)
            os->baselined++;
        return;
    }
    r->by_sev[f->severity]++;
    r->by_rule[f->rule]++;
    switch (r->format) {
    case MC_FMT_JSONL:
        mc__finding_json(r->out, f, r->input);
        putc('\n', r->out);
        fflush(r->out);
        break;
    case MC_FMT_JSON:
        if (r->any_json)
            putc(',', r->out);
        r->any_json = true;
        mc__finding_json(r->out, f, r->input);
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
    case MC_FMT_SARIF:
        mc__sarif_finding(r, f, fp);
        break;
    case MC_FMT_JUNIT:
        mc__junit_finding(r, f);
        break;
    }
}

void mc_report_session_note(struct mc_report *r, const char *name, bool failed, const char *reason)
{
    struct mc_open_session *os = mc__session_get(r, name, true);
    char **slot;
    if (!os)
        return;
    slot = failed ? &os->error_reason : &os->skip_reason;
    free(*slot);
    if (!(*slot = strdup(reason)))
        mc__report_oom(r);
    if (failed && r->format == MC_FMT_SARIF) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s: %s", name, reason);
        mc__sarif_input_error(r, r->input ? r->input : name, 0, msg);
    }
}

/* Findings of a session the baseline left out; forgets the session. */
static uint64_t session_done(struct mc_report *r, const char *name, enum mc_proto proto,
                             const char *why_not, uint64_t suppressed)
{
    struct mc_open_session *os = mc__session_get(r, name, false);
    uint64_t baselined = os ? os->baselined : 0;
    if (os && os->skip_reason)
        why_not = os->skip_reason;
    if (r->format == MC_FMT_JUNIT)
        mc__junit_session(r, name, proto, why_not, suppressed);
    os = mc__session_get(r, name, false);
    if (os)
        mc__session_drop(r, os);
    return baselined;
}

static void text_session_count(struct mc_report *r, uint64_t shown, uint64_t baselined)
{
    if (shown == 0)
        fputs("no findings", r->out);
    else
        fprintf(r->out, "%llu findings", (unsigned long long)shown);
    if (baselined)
        fprintf(r->out, " (%llu more in the baseline)", (unsigned long long)baselined);
}

void mc_report_session(struct mc_report *r, const char *name, enum mc_proto proto, bool validated,
                       uint64_t findings, uint64_t suppressed)
{
    const char *why_not = validated ? NULL
                          : proto == MC_PROTO_UNKNOWN ? "protocol not recognised"
                                                      : "no validator for this protocol";
    uint64_t baselined = session_done(r, name, proto, why_not, suppressed);
    r->sessions++;
    r->suppressed += suppressed;
    if (validated)
        r->sessions_validated++;
    if (r->format == MC_FMT_TEXT && !r->quiet && validated) {
        fprintf(r->out, "%s: session %s (%s): ", r->input ? r->input : "-", name, mc_proto_name(proto));
        text_session_count(r, findings + suppressed - baselined, baselined);
        putc('\n', r->out);
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
    if (r->format == MC_FMT_SARIF)
        mc__sarif_input_error(r, file, line, msg);
    else if (r->format == MC_FMT_JUNIT)
        mc__junit_input_error(r, file, line, msg);
    if (line && col)
        fprintf(stderr, "mailconform: %s:%llu:%llu: %s\n", file, (unsigned long long)line,
                (unsigned long long)col, msg);
    else if (line)
        fprintf(stderr, "mailconform: %s:%llu: %s\n", file, (unsigned long long)line, msg);
    else
        fprintf(stderr, "mailconform: %s: %s\n", file, msg);
}

void mc__report_oom(struct mc_report *r)
{
    /* told before reporting: the input error may need memory itself and
     * come back here (the SARIF or JUnit state) */
    if (r->oom_told)
        return;
    r->oom_told = true;
    mc_report_input_error(r, r->input ? r->input : r->command ? r->command : "-", 0, 0,
                          "out of memory: the report is incomplete");
}

void mc_report_warning(struct mc_report *r, const char *file, const char *msg)
{
    (void)r;
    fprintf(stderr, "mailconform: %s: %s\n", file, msg);
}

static void json_str_or_null(FILE *o, const char *v)
{
    if (v)
        mc__json_str(o, v);
    else
        fputs("null", o);
}

static void flow_json(FILE *o, const struct mc_flow_summary *fs, const char *input)
{
    fputs("{\"flow\":", o);
    mc__json_str(o, fs->name);
    if (input) {
        fputs(",\"input\":", o);
        mc__json_str(o, input);
    }
    fputs(",\"client\":", o);
    mc__json_str(o, fs->client);
    fputs(",\"server\":", o);
    mc__json_str(o, fs->server);
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
        mc__json_str(o, fs->banner);
    else
        fputs("null", o);
    fputs(",\"tls\":", o);
    if (fs->tls) {
        fputs("{\"version\":", o);
        json_str_or_null(o, fs->tls_version);
        fputs(",\"cipher_suite\":", o);
        json_str_or_null(o, fs->tls_suite);
        fputs(",\"sni\":", o);
        json_str_or_null(o, fs->tls_sni);
        fputs(",\"alpn\":", o);
        json_str_or_null(o, fs->tls_alpn);
        fprintf(o, ",\"decrypted\":%s,\"note\":", fs->tls_decrypted ? "true" : "false");
        json_str_or_null(o, fs->tls_note);
        fputc('}', o);
    } else {
        fputs("null", o);
    }
    fprintf(o, ",\"findings\":%llu}", (unsigned long long)(fs->findings + fs->suppressed));
}

void mc_report_flow(struct mc_report *r, const struct mc_flow_summary *fs)
{
    const char *why_not = fs->encrypted ? (fs->tls_note ? fs->tls_note : "encrypted, not validated")
                          : !fs->validated ? "protocol not recognised" : NULL;
    uint64_t baselined = session_done(r, fs->name, fs->proto, why_not, fs->suppressed);
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
    case MC_FMT_SARIF:
    case MC_FMT_JUNIT:
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
        if (fs->tls) {
            fprintf(r->out, ", %s", fs->tls_version ? fs->tls_version : "TLS");
            if (fs->tls_suite)
                fprintf(r->out, " %s", fs->tls_suite);
            if (fs->tls_sni)
                fprintf(r->out, ", SNI %s", fs->tls_sni);
            if (fs->tls_alpn)
                fprintf(r->out, ", ALPN %s", fs->tls_alpn);
            fputs(fs->tls_decrypted ? ", decrypted" : ", not decrypted", r->out);
        }
        if (fs->encrypted)
            fprintf(r->out, ": %s\n", fs->tls_note ? fs->tls_note : "encrypted, not validated");
        else if (!fs->validated)
            fputs(": not validated: protocol not recognised\n", r->out);
        else {
            fputs(": ", r->out);
            text_session_count(r, fs->findings + fs->suppressed - baselined, baselined);
            putc('\n', r->out);
        }
        break;
    default:
        break;
    }
}

void mc_report_capture(struct mc_report *r, const struct mc_capture_summary *cs)
{
    if (r->format == MC_FMT_JSONL) {
        fputs("{\"capture\":", r->out);
        mc__json_str(r->out, cs->name);
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
                "\"error\":%llu,\"warning\":%llu,\"note\":%llu,\"not_shown\":%llu,\"baselined\":%llu,"
                "\"input_errors\":%llu}}\n",
                (unsigned long long)r->sessions, (unsigned long long)r->sessions_validated,
                (unsigned long long)total, (unsigned long long)r->by_sev[MC_SEV_ERROR],
                (unsigned long long)r->by_sev[MC_SEV_WARNING], (unsigned long long)r->by_sev[MC_SEV_NOTE],
                (unsigned long long)r->suppressed, (unsigned long long)r->baselined,
                (unsigned long long)r->input_errors);
        break;
    case MC_FMT_JSONL:
        break;
    case MC_FMT_SARIF:
        mc__sarif_end(r);
        break;
    case MC_FMT_JUNIT:
        mc__junit_end(r);
        break;
    case MC_FMT_TEXT:
        if (total > 0 && !r->quiet) {
            fputs("\nfindings by rule:\n", r->out);
            for (unsigned i = 0; i < MC_RULE_COUNT; i++) {
                if (r->by_rule[i]) {
                    const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)i);
                    fprintf(r->out, "  %6llu  %-7s  %-32s RFC %u §%s\n", (unsigned long long)r->by_rule[i],
                            mc_severity_name(mc_policy_severity_of(r->policy, (enum mc_rule)i)), ri->id,
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
        if (r->baselined)
            fprintf(r->out, "(%llu findings left out: already in the baseline)\n",
                    (unsigned long long)r->baselined);
        break;
    }
    fflush(r->out);
    mc__sessions_free(r);
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

/* GitHub's heading anchor for "### `POP3.RESP.BARE_LF`": lower case, dots
 * dropped, underscores kept: "pop3respbare_lf". */
static const char *md_anchor(const char *id)
{
    static char a[96];
    size_t n = 0;
    for (; *id && n + 1 < sizeof(a); id++)
        if (*id != '.')
            a[n++] = (char)tolower((unsigned char)*id);
    a[n] = '\0';
    return a;
}

void mc_report_rfc_url(char *buf, size_t n, const struct mc_rule_info *ri)
{
    /* rfc-editor.org anchors: "section-4.2", appendices "appendix-A.1" */
    bool appendix = ri->section[0] >= 'A' && ri->section[0] <= 'Z';
    snprintf(buf, n, "https://www.rfc-editor.org/rfc/rfc%u#%s-%s", ri->rfc,
             appendix ? "appendix" : "section", ri->section);
}

/* Writes each line of t with a prefix; '#' lines left out if skip_comments. */
void mc__each_line(const struct mc_text *t, const char *prefix, bool skip_comments,
                   void (*put)(void *ctx, const char *s, size_t n), void *ctx)
{
    size_t at = 0;
    while (at < t->len) {
        const char *nl = memchr(t->p + at, '\n', t->len - at);
        size_t n = nl ? (size_t)(nl - (t->p + at)) : t->len - at;
        if (!(skip_comments && n && t->p[at] == '#')) {
            put(ctx, prefix, strlen(prefix));
            put(ctx, t->p + at, n);
            put(ctx, "\n", 1);
        }
        at += n + 1;
    }
}

static void put_file(void *ctx, const char *s, size_t n)
{
    fwrite(s, 1, n, ctx);
}

void mc__write_lines(FILE *o, const struct mc_text *t, const char *prefix, bool skip_comments)
{
    mc__each_line(t, prefix, skip_comments, put_file, o);
}

void mc_report_explain(FILE *out, enum mc_rule r, const char *format)
{
    const struct mc_rule_info *ri = mc_rule_info(r);
    struct mc_explain e;
    bool have = mc_explain_get(r, &e);
    char url[160];
    mc_report_rfc_url(url, sizeof(url), ri);
    if (strcmp(format, "md") == 0) {
        fprintf(out, "### `%s`\n\n%s; %s at fault; %s; default severity %s. "
                     "[RFC %u §%s](%s): %s.\n\n",
                ri->id, mc_proto_name(ri->proto), mc_side_name(ri->side), mc_level_name(ri->level),
                mc_severity_name(ri->severity), ri->rfc, ri->section, url, ri->summary);
        if (!have)
            return;
        mc__write_lines(out, &e.why, "", true);
        fputs("\nNon-conformant:\n\n```\n", out);
        mc__write_lines(out, &e.bad, "", false);
        fputs("```\n\nConformant:\n\n```\n", out);
        mc__write_lines(out, &e.good, "", false);
        fputs("```\n\n", out);
        return;
    }
    fprintf(out, "%s\n  %s, %s at fault, %s, default severity %s\n  RFC %u §%s: %s\n  %s\n", ri->id,
            mc_proto_name(ri->proto), mc_side_name(ri->side), mc_level_name(ri->level),
            mc_severity_name(ri->severity), ri->rfc, ri->section, ri->summary, url);
    if (!have) {
        fputs("\n(no explanation written for this rule yet)\n", out);
        return;
    }
    fputs("\nWhy it matters:\n", out);
    mc__write_lines(out, &e.why, "  ", true);
    fputs("\nNon-conformant (the rule reports this):\n", out);
    mc__write_lines(out, &e.bad, "  ", false);
    fputs("\nConformant:\n", out);
    mc__write_lines(out, &e.good, "  ", false);
}

void mc_report_rules(FILE *out, const char *format)
{
    bool md = strcmp(format, "md") == 0, json = strcmp(format, "json") == 0;
    if (md) {
        fputs("# mailconform rule catalogue\n\n"
              "Generated by `mailconform rules --format md` from `validator/rules/rules.def` and "
              "`validator/rules/explain/`; do not edit by hand. `mailconform explain RULE` prints "
              "one rule's entry.\n\n"
              "| id | protocol | side | level | severity | RFC | section | summary |\n"
              "|---|---|---|---|---|---|---|---|\n", out);
    } else if (json) {
        fputs("[", out);
    }
    for (unsigned i = 0; i < MC_RULE_COUNT; i++) {
        const struct mc_rule_info *ri = mc_rule_info((enum mc_rule)i);
        if (md) {
            fprintf(out, "| [`%s`](#%s) | %s | %s | %s | %s | %u | %s | %s |\n", ri->id, md_anchor(ri->id),
                    mc_proto_name(ri->proto), mc_side_name(ri->side), mc_level_name(ri->level),
                    mc_severity_name(ri->severity), ri->rfc, ri->section, ri->summary);
        } else if (json) {
            char url[160];
            mc_report_rfc_url(url, sizeof(url), ri);
            fputs(i ? ",\n{\"id\":" : "\n{\"id\":", out);
            mc__json_str(out, ri->id);
            fprintf(out, ",\"protocol\":\"%s\",\"side\":\"%s\",\"level\":\"%s\",\"severity\":\"%s\","
                         "\"rfc\":%u,\"section\":",
                    mc_proto_name(ri->proto), mc_side_name(ri->side), mc_level_name(ri->level),
                    mc_severity_name(ri->severity), ri->rfc);
            mc__json_str(out, ri->section);
            fputs(",\"summary\":", out);
            mc__json_str(out, ri->summary);
            fputs(",\"url\":", out);
            mc__json_str(out, url);
            fputs("}", out);
        } else {
            fprintf(out, "%-32s %-4s %-6s %-7s %-7s RFC %u §%-5s %s\n", ri->id, mc_proto_name(ri->proto),
                    mc_side_name(ri->side), mc_level_name(ri->level), mc_severity_name(ri->severity),
                    ri->rfc, ri->section, ri->summary);
        }
    }
    if (json)
        fputs("\n]\n", out);
    if (md) {
        fputs("\n## The rules in detail\n\n", out);
        for (unsigned i = 0; i < MC_RULE_COUNT; i++)
            mc_report_explain(out, (enum mc_rule)i, "md");
    }
}
