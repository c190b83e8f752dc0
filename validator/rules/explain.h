/*
 * Rule explanations: why each rule matters, with a non-conformant and a
 * conformant example transcript. The text comes from
 * validator/rules/explain/ (*.txt) (format in its README.md), embedded into the
 * binary at build time; tests/golden/explain_examples.py checks every
 * example against the validator.
 */
#ifndef MC_EXPLAIN_H
#define MC_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include "rules.h"

struct mc_text {
    const char *p;
    size_t len;
};

struct mc_explain {
    struct mc_text why;    /* the paragraph, '#' comment lines included */
    struct mc_text bad;    /* transcript records */
    struct mc_text good;
};

/* False when the rule has no entry. */
bool mc_explain_get(enum mc_rule r, struct mc_explain *out);

#endif
