/*
 * The compatibility matrix of `mailconform probe`: text (modes as rows,
 * hosts as columns, then one block per cell), Markdown (the same as tables)
 * and JSON (one document with every cell). The findings themselves go
 * through the normal report writers (report.h) in the other formats.
 *
 * This writer knows nothing of the probe: the caller fills the cells.
 */
#ifndef MC_REPORT_MATRIX_H
#define MC_REPORT_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "session/finding.h"

struct mc_matrix_tls {
    const char *version, *cipher, *subject, *issuer, *not_after;
    const char *sni; /* NULL or "": none was sent */
    bool verified, name_ok;
};

struct mc_matrix_cell {
    const char *host, *mode;
    unsigned port;
    const char *verdict;             /* "works", ..., "failed" */
    const char *reason;              /* NULL or "" when there is none */
    const struct mc_matrix_tls *tls; /* NULL: no TLS in this cell */
    uint64_t errors, warnings, notes;
    const char *transcript; /* NULL: not recorded */
    const struct mc_finding *findings;
    size_t nfindings;
};

struct mc_matrix {
    const char *const *hosts; /* column titles */
    size_t nhosts;
    const char *const *modes; /* row titles */
    size_t nmodes;
    const struct mc_matrix_cell *cells; /* [mode * nhosts + host] */
};

/* "failed: REASON" for failed cells, the verdict otherwise. */
void mc_matrix_cell_text(const struct mc_matrix_cell *c, char *out, size_t n);

/* The matrix, then a block per cell (TLS details, transcript). Findings are
 * left to the text report that follows. */
void mc_report_matrix_text(FILE *out, const struct mc_matrix *m, bool color);
/* A Markdown table, then per-cell details and findings as lists. */
void mc_report_matrix_md(FILE *out, const struct mc_matrix *m);
/* {"tool":"mailconform","command":"probe","cells":[...],"summary":{...}}:
 * the cell objects of docs/probe.md, each with its findings. */
void mc_report_matrix_json(FILE *out, const struct mc_matrix *m);
/* One cell object as a JSON Lines record: {"cell":{...}}. */
void mc_report_matrix_jsonl_cell(FILE *out, const struct mc_matrix_cell *c);

#endif
