/*
 * mailconform parser conventions (every parser under parsers/ follows them).
 *
 * - The caller owns all memory. A parser struct is plain data the caller
 *   allocates (stack, heap, array); parsers never call malloc.
 * - Input is pushed: feed(p, buf, len, &used, &ev). The parser consumes bytes
 *   until it has one event, returns MC_EVENT and sets *used; or consumes all
 *   of buf and returns MC_NEED_MORE. Call again with buf + used.
 * - Any split of the same byte stream yields the same events and anomalies
 *   (the fuzz targets check this). Offsets are absolute stream offsets,
 *   counted from the first byte ever fed (gaps included).
 * - Spans in an event point into the parser's own bounded line buffer and are
 *   valid only until the next call on that parser.
 * - Deviations never stop a parser: they are reported as anomaly codes
 *   (mc_anom.def) with the absolute offset of the offending byte, and parsing
 *   resumes at the next line. Memory is bounded by MC_LINE_KEEP per parser:
 *   only the first MC_LINE_KEEP octets of a line are kept; the length of the
 *   whole line is still reported.
 * - NULL pointers are never valid arguments unless a comment says so.
 */
#ifndef MC_PARSER_H
#define MC_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#define MC_EVENT     1
#define MC_NEED_MORE 0

enum mc_anom {
    MC_ANOM_NONE = 0,
#define ANOM(name, desc) MC_ANOM_##name,
#include "mc_anom.def"
#undef ANOM
    MC_ANOM_COUNT
};

/* A byte range: ptr/len within an event, off = absolute stream offset. */
struct mc_span {
    const uint8_t *ptr;
    size_t len;
    uint64_t off;
};

/* Anomalies found while building one event. At most MC_ANOMS_MAX are kept;
 * 'dropped' counts the rest so nothing disappears silently. */
#define MC_ANOMS_MAX 8
struct mc_anom_hit {
    uint16_t code;   /* enum mc_anom */
    uint64_t off;    /* absolute offset of the offending byte */
};
struct mc_anoms {
    struct mc_anom_hit hit[MC_ANOMS_MAX];
    uint8_t n;
    uint8_t dropped;
};

void mc_anoms_clear(struct mc_anoms *a);
/* Copies the hits in use only (events are built for every line: the hot
 * path should not move unused slots). */
void mc_anoms_copy(struct mc_anoms *dst, const struct mc_anoms *src);
void mc_anoms_add(struct mc_anoms *a, enum mc_anom code, uint64_t off);
bool mc_anoms_has(const struct mc_anoms *a, enum mc_anom code);

const char *mc_anom_name(enum mc_anom code);
const char *mc_anom_desc(enum mc_anom code);

/* Stateless helpers shared by the protocols. */

/* RFC 4648 section 4 base64 as RFC 5034 and RFC 4954 constrain it: only the
 * alphabet, padding only at the end, length a multiple of 4. An empty string
 * is valid. Returns true if valid; otherwise *bad_out is the index of the
 * first offending octet. */
bool mc_base64_valid(const uint8_t *s, size_t n, size_t *bad_out);

/* The same for a value of which only the first n octets were kept (a line
 * longer than MC_LINE_KEEP): the kept prefix, cut to a multiple of 4, must be
 * valid; the length and final padding of the whole cannot be judged. */
bool mc_base64_valid_prefix(const uint8_t *s, size_t n, bool truncated, size_t *bad_out);

/* True if the n octets at s equal lit ignoring ASCII case; lit is upper
 * case and at least n characters long. */
bool mc_ascii_ieq(const uint8_t *s, const char *lit, size_t n);

/* Parses 1*DIGIT into *v_out; rejects empty input, non-digits and values
 * above max. */
bool mc_parse_u64(const uint8_t *s, size_t n, uint64_t max, uint64_t *v_out);

/* For the per-line (or rarer) work a feed function calls: kept out of line
 * so that the feed's per-call path stays short. Inlined into the feed's
 * loop, that work's UBSan alignment checks are loop-invariant and get
 * hoisted to the loop's entry, where under libFuzzer each one is a traced
 * compare on every call (45 of them per call in mc_imap_cmd_feed, once per
 * octet when the octets come one at a time). A call per line costs the
 * release build nothing measurable. */
#if defined(__GNUC__)
#define MC_NOINLINE __attribute__((noinline))
#else
#define MC_NOINLINE
#endif

/* Index of the first SP in s[i..n), or n; i itself when i >= n, as the
 * loop it replaces, "while (i < n && s[i] != ' ') i++;", leaves it. One
 * memchr where the loop made two compares per octet, each a traced compare
 * under libFuzzer (memchr is libc: checked by ASan, not instrumented). */
static inline size_t mc_skip_to_sp(const uint8_t *s, size_t i, size_t n)
{
    const uint8_t *sp;
    if (i >= n)
        return i;
    sp = memchr(s + i, ' ', n - i);
    return sp ? (size_t)(sp - s) : n;
}

/* Escapes bytes for human output: printable ASCII stays, \r \n \t \\ and
 * \xHH otherwise. Writes at most cap-1 characters plus NUL; appends "..."
 * when the input does not fit. Returns the number of characters written. */
size_t mc_escape(char *out, size_t cap, const uint8_t *s, size_t n);

#endif
