/* FNV-1a, 64 bits: the hash of session names, POP3 unique-ids, IMAP tags
 * and baseline fingerprints (whose values are stored in baseline files:
 * the function must not change). h is MC_FNV_OFFSET, or an earlier result
 * to chain fields. */
#ifndef MC_FNV_H
#define MC_FNV_H

#include <stddef.h>
#include <stdint.h>

#define MC_FNV_OFFSET 14695981039346656037ull

static inline uint64_t mc_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

#endif
