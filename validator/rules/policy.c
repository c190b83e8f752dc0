/* Rule policy: --rules and --severity (see policy.h). */
#include "policy.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

void mc_policy_init(struct mc_policy *p)
{
    memset(p, 0, sizeof(*p));
    memset(p->severity, -1, sizeof(p->severity));
}

/* Rules are matched on their dotted id, upper-cased pattern against
 * upper-case ids, so "smtp.*" works as well. */
static void upcase(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = '\0';
}

static unsigned match_rules(const char *pattern, bool *hit)
{
    char pat[128];
    unsigned n = 0;
    upcase(pat, pattern, sizeof(pat));
    for (unsigned i = 0; i < MC_RULE_COUNT; i++) {
        const char *id = mc_rule_info((enum mc_rule)i)->id;
        hit[i] = fnmatch(pat, id, 0) == 0;
        /* the underscore form of an id names the same rule */
        if (!hit[i]) {
            enum mc_rule r;
            hit[i] = strpbrk(pat, "*?[") == NULL && mc_rule_lookup(pat, &r) && r == (enum mc_rule)i;
        }
        n += hit[i];
    }
    return n;
}

bool mc_policy_rules(struct mc_policy *p, const char *spec, char *err, size_t errlen)
{
    const char *s = spec;
    bool hit[MC_RULE_COUNT];
    if (!*spec) {
        snprintf(err, errlen, "empty rule list");
        return false;
    }
    while (*s) {
        char pat[128];
        size_t len = strcspn(s, ",");
        bool disable = false;
        const char *q = s;
        while (len && isspace((unsigned char)*q)) { q++; len--; }
        while (len && isspace((unsigned char)q[len - 1])) len--;
        if (len && (*q == '-' || *q == '+')) {
            disable = *q == '-';
            q++;
            len--;
        }
        if (len == 0 || len >= sizeof(pat)) {
            snprintf(err, errlen, "bad rule pattern in '%s'", spec);
            return false;
        }
        memcpy(pat, q, len);
        pat[len] = '\0';
        if (match_rules(pat, hit) == 0) {
            snprintf(err, errlen, "'%s' matches no rule (see 'mailconform rules')", pat);
            return false;
        }
        if (!p->rules_given && !disable)
            for (unsigned i = 0; i < MC_RULE_COUNT; i++)
                p->disabled[i] = true;   /* an allow-list */
        p->rules_given = true;
        for (unsigned i = 0; i < MC_RULE_COUNT; i++)
            if (hit[i])
                p->disabled[i] = disable;
        s += strcspn(s, ",");
        if (*s == ',')
            s++;
    }
    return true;
}

bool mc_policy_severity(struct mc_policy *p, const char *spec, char *err, size_t errlen)
{
    const char *eq = strrchr(spec, '=');
    char pat[128];
    enum mc_severity sev;
    bool hit[MC_RULE_COUNT];
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(pat)) {
        snprintf(err, errlen, "expected RULE=SEVERITY, got '%s'", spec);
        return false;
    }
    if (!mc_severity_parse(eq + 1, &sev)) {
        snprintf(err, errlen, "unknown severity '%s' (error, warning, note)", eq + 1);
        return false;
    }
    memcpy(pat, spec, (size_t)(eq - spec));
    pat[eq - spec] = '\0';
    if (match_rules(pat, hit) == 0) {
        snprintf(err, errlen, "'%s' matches no rule (see 'mailconform rules')", pat);
        return false;
    }
    for (unsigned i = 0; i < MC_RULE_COUNT; i++)
        if (hit[i])
            p->severity[i] = (signed char)sev;
    return true;
}

bool mc_policy_enabled(const struct mc_policy *p, enum mc_rule r)
{
    return !p || !p->disabled[r];
}

enum mc_severity mc_policy_severity_of(const struct mc_policy *p, enum mc_rule r)
{
    if (p && p->severity[r] >= 0)
        return (enum mc_severity)p->severity[r];
    return mc_rule_info(r)->severity;
}
