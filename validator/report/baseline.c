/*
 * Baselines: findings someone has looked at and accepted, so that a CI job
 * fails only on new ones. The file is text, one accepted finding per line,
 * so that it diffs and reviews well:
 *
 *   # mailconform baseline 1
 *   9f1c2a7b3d4e5f60 POP3.STATUS.CASE t.mct line 7: +ok hi
 *
 * Only the first field counts (the fingerprint, 16 hex digits); the rest is
 * for people. A fingerprint listed n times accepts n occurrences.
 */
#include "report.h"
#include "report_internal.h"
#include "session/fnv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_entry {
    uint64_t fp;
    uint32_t count;
};

struct mc_baseline {
    struct bl_entry *e;   /* sorted by fp, duplicates merged into count */
    size_t n;
};

/* Digit runs fold to one '0'; the field separator keeps "a"+"bc" apart
 * from "ab"+"c". */
static uint64_t fnv_folded(uint64_t h, const char *s)
{
    bool in_digits = false;
    for (; *s; s++) {
        bool d = isdigit((unsigned char)*s) != 0;
        if (d && in_digits)
            continue;
        h = (h ^ (unsigned char)(d ? '0' : *s)) * 1099511628211ull;
        in_digits = d;
    }
    return (h ^ 0x1f) * 1099511628211ull;
}

uint64_t mc_finding_fingerprint(const struct mc_finding *f, const char *input)
{
    const char *id = mc_rule_info(f->rule)->id;
    uint64_t h = mc_fnv1a(MC_FNV_OFFSET, id, strlen(id) + 1);
    h = mc_fnv1a(h, input ? input : "", strlen(input ? input : "") + 1);
    h = fnv_folded(h, f->excerpt);
    /* without an excerpt the message is what tells two findings apart */
    if (!f->excerpt[0])
        h = fnv_folded(h, f->message);
    return h;
}

static int cmp_entry(const void *a, const void *b)
{
    uint64_t x = ((const struct bl_entry *)a)->fp, y = ((const struct bl_entry *)b)->fp;
    return x < y ? -1 : x > y;
}

struct mc_baseline *mc_baseline_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct mc_baseline *b;
    char line[1024];
    size_t cap = 0;
    unsigned long lineno = 0;
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the baseline: %s", path, strerror(errno));
        return NULL;
    }
    b = calloc(1, sizeof(*b));
    if (!b)
        goto oom;
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *end;
        uint64_t fp;
        size_t len = strlen(line);
        lineno++;
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            int c;  /* the rest of an over-long line is only for people */
            while ((c = getc(f)) != EOF && c != '\n')
                ;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        fp = strtoull(p, &end, 16);
        if (end - p != 16 || (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r' && *end)) {
            snprintf(err, errlen, "%s:%lu: expected a 16-digit hexadecimal fingerprint", path, lineno);
            fclose(f);
            mc_baseline_free(b);
            return NULL;
        }
        if (b->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct bl_entry *ne = realloc(b->e, nc * sizeof(*ne));
            if (!ne)
                goto oom;
            b->e = ne;
            cap = nc;
        }
        b->e[b->n].fp = fp;
        b->e[b->n].count = 1;
        b->n++;
    }
    fclose(f);
    qsort(b->e, b->n, sizeof(*b->e), cmp_entry);
    {
        size_t w = 0;
        for (size_t i = 0; i < b->n; i++) {
            if (w && b->e[w - 1].fp == b->e[i].fp)
                b->e[w - 1].count++;
            else
                b->e[w++] = b->e[i];
        }
        b->n = w;
    }
    return b;
oom:
    snprintf(err, errlen, "%s: out of memory reading the baseline", path);
    fclose(f);
    mc_baseline_free(b);
    return NULL;
}

bool mc_baseline_take(struct mc_baseline *b, uint64_t fp)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->e[mid].fp < fp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < b->n && b->e[lo].fp == fp && b->e[lo].count) {
        b->e[lo].count--;
        return true;
    }
    return false;
}

void mc_baseline_free(struct mc_baseline *b)
{
    if (!b)
        return;
    free(b->e);
    free(b);
}

void mc_baseline_write_header(FILE *o)
{
    fputs("# mailconform baseline 1: one accepted finding per line. Only the first field\n"
          "# (the fingerprint) counts; the rest is for people. See docs/reports.md.\n", o);
}

void mc_baseline_write(FILE *o, uint64_t fp, const struct mc_finding *f, const char *input)
{
    fprintf(o, "%016llx %s %s", (unsigned long long)fp, mc_rule_info(f->rule)->id,
            input ? input : (f->session ? f->session : "-"));
    if (f->origin.line)
        fprintf(o, " line %llu", (unsigned long long)f->origin.line);
    if (f->origin.frame)
        fprintf(o, " frame %llu", (unsigned long long)f->origin.frame);
    fputs(": ", o);
    /* one line per finding, whatever the message holds */
    for (const char *s = f->excerpt[0] ? f->excerpt : f->message; *s; s++)
        putc(*s == '\n' || *s == '\r' ? ' ' : *s, o);
    putc('\n', o);
}
