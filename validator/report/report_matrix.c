/* The probe's compatibility matrix: text, Markdown and JSON (report_matrix.h). */
#include "report_matrix.h"
#include "report_internal.h"

#include <stdlib.h>
#include <string.h>

#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define DIM "\033[2m"
#define RESET "\033[0m"

void mc_matrix_cell_text(const struct mc_matrix_cell *c, char *out, size_t n)
{
    if (strcmp(c->verdict, "failed") == 0 && c->reason && c->reason[0])
        snprintf(out, n, "failed: %s", c->reason);
    else
        snprintf(out, n, "%s", c->verdict);
}

static const char *verdict_color(const char *v)
{
    if (strcmp(v, "works") == 0)
        return GREEN;
    if (strcmp(v, "works with warnings") == 0)
        return YELLOW;
    if (strcmp(v, "not offered") == 0)
        return DIM;
    return RED;
}

static const struct mc_matrix_cell *cell_at(const struct mc_matrix *m, size_t mode, size_t host)
{
    return &m->cells[mode * m->nhosts + host];
}

static void pad(FILE *o, size_t n)
{
    while (n--)
        putc(' ', o);
}

static void tls_line(FILE *o, const struct mc_matrix_tls *t, const char *prefix)
{
    fprintf(o, "%sTLS: %s %s; certificate %s, issuer %s, expires %s; chain %s, name %s; SNI %s\n",
            prefix, t->version, t->cipher, t->subject[0] ? t->subject : "(none)",
            t->issuer[0] ? t->issuer : "(none)", t->not_after[0] ? t->not_after : "(unknown)",
            t->verified ? "verified" : "NOT verified", t->name_ok ? "matches" : "does NOT match",
            t->sni && t->sni[0] ? t->sni : "(none: an address)");
}

/* The width of host h's column: its name or its widest cell. Computed
 * where it is needed rather than kept, so the table needs no memory and
 * cannot be lost for the want of it. */
static size_t column_width(const struct mc_matrix *m, size_t h)
{
    char buf[400];
    size_t w = strlen(m->hosts[h]);
    for (size_t r = 0; r < m->nmodes; r++) {
        mc_matrix_cell_text(cell_at(m, r, h), buf, sizeof(buf));
        if (strlen(buf) > w)
            w = strlen(buf);
    }
    return w;
}

void mc_report_matrix_text(FILE *out, const struct mc_matrix *m, bool color)
{
    size_t wmode = strlen("mode");
    char buf[400];
    for (size_t r = 0; r < m->nmodes; r++)
        if (strlen(m->modes[r]) > wmode)
            wmode = strlen(m->modes[r]);
    fprintf(out, "%s", "mode");
    pad(out, wmode - 4);
    for (size_t h = 0; h < m->nhosts; h++) {
        fprintf(out, "  %s", m->hosts[h]);
        if (h + 1 < m->nhosts)
            pad(out, column_width(m, h) - strlen(m->hosts[h]));
    }
    putc('\n', out);
    for (size_t r = 0; r < m->nmodes; r++) {
        fprintf(out, "%s", m->modes[r]);
        pad(out, wmode - strlen(m->modes[r]));
        for (size_t h = 0; h < m->nhosts; h++) {
            const struct mc_matrix_cell *c = cell_at(m, r, h);
            mc_matrix_cell_text(c, buf, sizeof(buf));
            fprintf(out, "  %s%s%s", color ? verdict_color(c->verdict) : "", buf,
                    color ? RESET : "");
            if (h + 1 < m->nhosts)
                pad(out, column_width(m, h) - strlen(buf));
        }
        putc('\n', out);
    }
    putc('\n', out);
    for (size_t r = 0; r < m->nmodes; r++) {
        for (size_t h = 0; h < m->nhosts; h++) {
            const struct mc_matrix_cell *c = cell_at(m, r, h);
            fprintf(out, "%s / %s (port %u): %s", c->host, c->mode, c->port, c->verdict);
            if (c->reason && c->reason[0])
                fprintf(out, ": %s", c->reason);
            putc('\n', out);
            if (c->tls)
                tls_line(out, c->tls, "  ");
            if (c->errors + c->warnings + c->notes)
                fprintf(out, "  findings: %llu errors, %llu warnings, %llu notes\n",
                        (unsigned long long)c->errors, (unsigned long long)c->warnings,
                        (unsigned long long)c->notes);
            if (c->transcript)
                fprintf(out, "  transcript: %s\n", c->transcript);
        }
    }
    putc('\n', out);
}

/* Markdown table cell text: '|' escaped, line ends dropped. */
static void md_str(FILE *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", o);
        else if (*s == '\r' || *s == '\n')
            putc(' ', o);
        else
            putc(*s, o);
    }
}

void mc_report_matrix_md(FILE *out, const struct mc_matrix *m)
{
    char buf[400];
    fputs("| mode |", out);
    for (size_t h = 0; h < m->nhosts; h++) {
        putc(' ', out);
        md_str(out, m->hosts[h]);
        fputs(" |", out);
    }
    fputs("\n|---|", out);
    for (size_t h = 0; h < m->nhosts; h++)
        fputs("---|", out);
    putc('\n', out);
    for (size_t r = 0; r < m->nmodes; r++) {
        fprintf(out, "| %s |", m->modes[r]);
        for (size_t h = 0; h < m->nhosts; h++) {
            mc_matrix_cell_text(cell_at(m, r, h), buf, sizeof(buf));
            putc(' ', out);
            md_str(out, buf);
            fputs(" |", out);
        }
        putc('\n', out);
    }
    fputs("\n## Cells\n\n", out);
    for (size_t r = 0; r < m->nmodes; r++) {
        for (size_t h = 0; h < m->nhosts; h++) {
            const struct mc_matrix_cell *c = cell_at(m, r, h);
            fputs("- **", out);
            md_str(out, c->host);
            fprintf(out, " / %s** (port %u): %s", c->mode, c->port, c->verdict);
            if (c->reason && c->reason[0]) {
                fputs(": ", out);
                md_str(out, c->reason);
            }
            putc('\n', out);
            if (c->tls)
                tls_line(out, c->tls, "  - ");
            if (c->transcript)
                fprintf(out, "  - transcript: `%s`\n", c->transcript);
            for (size_t i = 0; i < c->nfindings; i++) {
                const struct mc_finding *f = &c->findings[i];
                const struct mc_rule_info *ri = mc_rule_info(f->rule);
                fprintf(out, "  - %s `%s` (%s, RFC %u §%s, %s offset %llu): ",
                        mc_severity_name(f->severity), ri->id, f->session ? f->session : "",
                        ri->rfc, ri->section, f->dir == MC_DIR_C2S ? "client" : "server",
                        (unsigned long long)f->offset);
                md_str(out, f->message);
                if (f->excerpt[0]) {
                    fputs(": `", out);
                    for (const char *s = f->excerpt; *s; s++)
                        putc(*s == '`' ? '\'' : *s, out);
                    putc('`', out);
                }
                putc('\n', out);
            }
        }
    }
}

static void json_opt_str(FILE *o, const char *s)
{
    if (s && s[0])
        mc__json_str(o, s);
    else
        fputs("null", o);
}


static void cell_obj(FILE *o, const struct mc_matrix_cell *c)
{
    fputs("{\"host\":", o);
    mc__json_str(o, c->host);
    fputs(",\"mode\":", o);
    mc__json_str(o, c->mode);
    fprintf(o, ",\"port\":%u,\"verdict\":", c->port);
    mc__json_str(o, c->verdict);
    fputs(",\"reason\":", o);
    json_opt_str(o, c->reason);
    fputs(",\"tls\":", o);
    if (c->tls) {
        const struct mc_matrix_tls *t = c->tls;
        fputs("{\"version\":", o);
        mc__json_str(o, t->version);
        fputs(",\"cipher\":", o);
        mc__json_str(o, t->cipher);
        fputs(",\"subject\":", o);
        mc__json_str(o, t->subject);
        fputs(",\"issuer\":", o);
        mc__json_str(o, t->issuer);
        fputs(",\"not_after\":", o);
        json_opt_str(o, t->not_after);
        fprintf(o, ",\"verified\":%s,\"name_ok\":%s,\"sni\":", t->verified ? "true" : "false",
                t->name_ok ? "true" : "false");
        json_opt_str(o, t->sni);
        putc('}', o);
    } else {
        fputs("null", o);
    }
    fprintf(o,
            ",\"findings\":%llu,\"errors\":%llu,\"warnings\":%llu,\"notes\":%llu,\"transcript\":",
            (unsigned long long)(c->errors + c->warnings + c->notes), (unsigned long long)c->errors,
            (unsigned long long)c->warnings, (unsigned long long)c->notes);
    json_opt_str(o, c->transcript);
    fputs(",\"details\":[", o);
    for (size_t i = 0; i < c->nfindings; i++) {
        if (i)
            putc(',', o);
        mc__finding_json(o, &c->findings[i], NULL);
    }
    fputs("]}", o);
}

void mc_report_matrix_json(FILE *out, const struct mc_matrix *m)
{
    uint64_t by_verdict[5] = {0};
    static const char *const verdicts[5] = {"works", "works with warnings", "non-conformant",
                                            "not offered", "failed"};
    size_t n = m->nmodes * m->nhosts;
    fputs("{\"tool\":\"mailconform\",\"command\":\"probe\",\"cells\":[", out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            putc(',', out);
        cell_obj(out, &m->cells[i]);
        for (int v = 0; v < 5; v++)
            if (strcmp(m->cells[i].verdict, verdicts[v]) == 0)
                by_verdict[v]++;
    }
    fprintf(out, "],\"summary\":{\"cells\":%llu", (unsigned long long)n);
    for (int v = 0; v < 5; v++) {
        fputs(",", out);
        mc__json_str(out, verdicts[v]);
        fprintf(out, ":%llu", (unsigned long long)by_verdict[v]);
    }
    fputs("}}\n", out);
}

void mc_report_matrix_jsonl_cell(FILE *out, const struct mc_matrix_cell *c)
{
    fputs("{\"cell\":", out);
    cell_obj(out, c);
    fputs("}\n", out);
}
