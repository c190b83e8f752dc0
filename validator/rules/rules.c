/* Tables generated from rules.def; see rules.h. */
#include "rules.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

/* The dotted id: the first two '_' of the enum name become '.'. Computed once
 * into static storage so every output shows the same string. */
static char dotted[MC_RULE_COUNT][64];
static const char *const raw_ids[MC_RULE_COUNT] = {
#define RULE(id, proto, side, level, sev, rfc, sec, summary) #id,
#define ANOM_RULE(anom, proto, side, rule)
#include "rules.def"
#undef RULE
#undef ANOM_RULE
};

static struct mc_rule_info infos[MC_RULE_COUNT] = {
#define RULE(id, proto, side, level, sev, rfc, sec, summary) \
    {NULL, MC_PROTO_##proto, MC_SIDE_##side, MC_LEVEL_##level, MC_SEV_##sev, rfc, sec, summary},
#define ANOM_RULE(anom, proto, side, rule)
#include "rules.def"
#undef RULE
#undef ANOM_RULE
};

struct anom_map {
    enum mc_anom anom;
    enum mc_proto proto;
    enum mc_side side;
    enum mc_rule rule;
};
static const struct anom_map anom_maps[] = {
#define RULE(id, proto, side, level, sev, rfc, sec, summary)
#define ANOM_RULE(anom, proto, side, rule) {MC_ANOM_##anom, MC_PROTO_##proto, MC_SIDE_##side, MC_R_##rule},
#include "rules.def"
#undef RULE
#undef ANOM_RULE
};

/* Fills the dotted ids once per process. Through pthread_once: with
 * `check -j N` the first findings of several shards can come at once, and
 * a plain "done" flag was a data race (ThreadSanitizer, -j 4). */
static void fill_ids(void)
{
    for (unsigned r = 0; r < MC_RULE_COUNT; r++) {
        const char *s = raw_ids[r];
        size_t n = strlen(s), i;
        int seps = 0;
        if (n >= sizeof(dotted[r]))
            n = sizeof(dotted[r]) - 1;
        for (i = 0; i < n; i++) {
            char c = s[i];
            if (c == '_' && seps < 2) {
                c = '.';
                seps++;
            }
            dotted[r][i] = c;
        }
        dotted[r][n] = '\0';
        infos[r].id = dotted[r];
    }
}

static void init_ids(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, fill_ids);
}

const struct mc_rule_info *mc_rule_info(enum mc_rule r)
{
    init_ids();
    return (unsigned)r < MC_RULE_COUNT ? &infos[r] : NULL;
}

bool mc_rule_lookup(const char *id, enum mc_rule *r_out)
{
    init_ids();
    for (unsigned r = 0; r < MC_RULE_COUNT; r++) {
        if (strcasecmp(id, dotted[r]) == 0 || strcasecmp(id, raw_ids[r]) == 0) {
            *r_out = (enum mc_rule)r;
            return true;
        }
    }
    return false;
}

bool mc_rule_for_anom(enum mc_anom a, enum mc_proto proto, enum mc_side side, enum mc_rule *r_out)
{
    for (size_t i = 0; i < sizeof(anom_maps) / sizeof(anom_maps[0]); i++) {
        if (anom_maps[i].anom == a && anom_maps[i].proto == proto && anom_maps[i].side == side) {
            *r_out = anom_maps[i].rule;
            return true;
        }
    }
    return false;
}

const char *mc_proto_name(enum mc_proto p)
{
    static const char *const n[] = {"unknown", "pop3", "imap", "smtp", "tls"};
    return (unsigned)p < sizeof(n) / sizeof(n[0]) ? n[p] : "unknown";
}

const char *mc_side_name(enum mc_side s)
{
    return s == MC_SIDE_SERVER ? "server" : "client";
}

const char *mc_level_name(enum mc_level l)
{
    static const char *const n[] = {"MUST", "SHOULD", "MAY", "LIMIT", "INTEROP"};
    return (unsigned)l < sizeof(n) / sizeof(n[0]) ? n[l] : "?";
}

const char *mc_severity_name(enum mc_severity s)
{
    static const char *const n[] = {"note", "warning", "error"};
    return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

bool mc_severity_parse(const char *s, enum mc_severity *out)
{
    for (int i = MC_SEV_NOTE; i <= MC_SEV_ERROR; i++) {
        if (strcmp(s, mc_severity_name((enum mc_severity)i)) == 0) {
            *out = (enum mc_severity)i;
            return true;
        }
    }
    return false;
}
