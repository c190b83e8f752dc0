/*
 * Rule policy: which rules are reported and at what severity, as chosen by
 * --rules, --severity and the configuration file. Sessions consult it when
 * they emit a finding, so a disabled rule is neither shown nor counted, and
 * reports print the severity the user asked for.
 */
#ifndef MC_POLICY_H
#define MC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "rules.h"

struct mc_policy {
    bool disabled[MC_RULE_COUNT];
    signed char severity[MC_RULE_COUNT];   /* enum mc_severity, or -1: the rule's own */
    bool rules_given;                      /* a --rules pattern was applied */
};

void mc_policy_init(struct mc_policy *p);

/* Applies a --rules value: comma-separated patterns, each a rule id or a
 * glob over ids (fnmatch(3), case-insensitive: "SMTP.*", "*.CLEARTEXT.*"),
 * prefixed by '-' to disable or optionally '+' to enable, applied in order.
 * When the very first pattern ever applied enables, every other rule starts
 * disabled (an allow-list); when it disables, every rule starts enabled.
 * A pattern that matches no rule is an error (a typo would otherwise
 * silently change nothing). On error writes a sentence to err. */
bool mc_policy_rules(struct mc_policy *p, const char *spec, char *err, size_t errlen);

/* Applies a --severity value "PATTERN=error|warning|note". */
bool mc_policy_severity(struct mc_policy *p, const char *spec, char *err, size_t errlen);

/* NULL p means the defaults: every rule on, at its own severity. */
bool mc_policy_enabled(const struct mc_policy *p, enum mc_rule r);
enum mc_severity mc_policy_severity_of(const struct mc_policy *p, enum mc_rule r);

#endif
