/* A finding: one rule broken at one place, as every report writer sees it. */
#ifndef MC_FINDING_H
#define MC_FINDING_H

#include <stdint.h>
#include "rules/rules.h"

enum mc_dir { MC_DIR_C2S = 0, MC_DIR_S2C = 1 };

/* Where a chunk of bytes came from: a capture frame, a transcript line. */
struct mc_origin {
    uint64_t frame;   /* capture frame number, 0 if none */
    uint64_t line;    /* transcript line number, 0 if none */
};

#define MC_EXCERPT_MAX 96
#define MC_MESSAGE_MAX 200

struct mc_finding {
    enum mc_rule rule;
    enum mc_severity severity;
    enum mc_side side;
    enum mc_proto proto;
    enum mc_dir dir;          /* the direction holding the offending bytes */
    const char *session;      /* session name (transcript name, addresses) */
    uint64_t offset;          /* absolute offset in that direction's stream */
    struct mc_origin origin;  /* frame / transcript line of that offset */
    char excerpt[MC_EXCERPT_MAX];  /* escaped, credentials redacted */
    char message[MC_MESSAGE_MAX];
};

typedef void (*mc_finding_fn)(void *ctx, const struct mc_finding *f);

/* Builds an excerpt of a line with the secret range (absolute offsets;
 * len 0 for none) replaced by "<redacted>". */
void mc_excerpt(char out[MC_EXCERPT_MAX], const uint8_t *line, size_t len, uint64_t line_off,
                uint64_t secret_off, size_t secret_len);

#endif
