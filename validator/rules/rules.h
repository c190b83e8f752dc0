/* The rule catalogue (rules.def) as C: enum, metadata table, lookups. */
#ifndef MC_RULES_H
#define MC_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include "common/mc_parser.h"

enum mc_proto { MC_PROTO_UNKNOWN = 0, MC_PROTO_POP3, MC_PROTO_IMAP, MC_PROTO_SMTP, MC_PROTO_TLS };
enum mc_side { MC_SIDE_CLIENT = 0, MC_SIDE_SERVER };
enum mc_level { MC_LEVEL_MUST, MC_LEVEL_SHOULD, MC_LEVEL_MAY, MC_LEVEL_LIMIT, MC_LEVEL_INTEROP };
/* Ordered by weight: a larger value is more severe. */
enum mc_severity { MC_SEV_NOTE = 0, MC_SEV_WARNING, MC_SEV_ERROR };

enum mc_rule {
#define RULE(id, proto, side, level, sev, rfc, sec, summary) MC_R_##id,
#define ANOM_RULE(anom, proto, side, rule)
#include "rules.def"
#undef RULE
#undef ANOM_RULE
    MC_RULE_COUNT
};

struct mc_rule_info {
    const char *id;          /* dotted form: POP3.STATUS.CASE */
    enum mc_proto proto;
    enum mc_side side;
    enum mc_level level;
    enum mc_severity severity;
    unsigned rfc;
    const char *section;
    const char *summary;
};

const struct mc_rule_info *mc_rule_info(enum mc_rule r);
/* Accepts the dotted or the underscore form; returns false if unknown. */
bool mc_rule_lookup(const char *id, enum mc_rule *r_out);
/* The rule an anomaly breaks for this protocol and side, or false. */
bool mc_rule_for_anom(enum mc_anom a, enum mc_proto proto, enum mc_side side, enum mc_rule *r_out);

const char *mc_proto_name(enum mc_proto p);   /* "pop3" ... */
const char *mc_side_name(enum mc_side s);     /* "client" / "server" */
const char *mc_level_name(enum mc_level l);   /* "MUST" ... */
const char *mc_severity_name(enum mc_severity s); /* "error" ... */
bool mc_severity_parse(const char *s, enum mc_severity *out);

#endif
