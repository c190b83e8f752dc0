#include "finding.h"

#include <string.h>

void mc_excerpt(char out[MC_EXCERPT_MAX], const uint8_t *line, size_t len, uint64_t line_off,
                uint64_t secret_off, size_t secret_len)
{
    size_t a, b, o;
    if (secret_len == 0 || secret_off + secret_len <= line_off || secret_off >= line_off + len) {
        mc_escape(out, MC_EXCERPT_MAX, line, len);
        return;
    }
    a = secret_off > line_off ? (size_t)(secret_off - line_off) : 0;
    b = (size_t)(secret_off + secret_len - line_off);
    if (b > len)
        b = len;
    o = mc_escape(out, MC_EXCERPT_MAX, line, a);
    if (o + 11 < MC_EXCERPT_MAX) {
        memcpy(out + o, "<redacted>", 10);
        o += 10;
        out[o] = '\0';
        mc_escape(out + o, MC_EXCERPT_MAX - o, line + b, len - b);
    }
}
