/*
 * Line splitting shared by POP3, IMAP and SMTP.
 *
 *   line = *octet ( CRLF / LF )      ; LF alone is accepted and flagged
 *
 * RFC 1939 section 3, RFC 3501 section 2.2, RFC 5321 section 2.3.8 all end
 * lines with CRLF; real peers send bare LF, so it ends a line here too (the
 * way every deployed client reads it) and is reported as BARE_LF. A CR that
 * is not followed by LF stays in the line and is reported as BARE_CR.
 */
#include "mc_line.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static void line_reset(struct mc_line *l)
{
    l->start = l->pos;
    l->total = 0;
    l->kept = 0;
    l->term = MC_LINE_TERM_CRLF;
    l->complete = false;
    l->saw_nul = false;
    mc_anoms_clear(&l->anoms);
}

void mc_line_init(struct mc_line *l, size_t limit)
{
    memset(l, 0, sizeof(*l));
    l->limit = limit;
    line_reset(l);
}

void mc_line_set_limit(struct mc_line *l, size_t limit)
{
    l->limit = limit;
}

bool mc_line_partial(const struct mc_line *l)
{
    return !l->complete && (l->total > 0 || l->cr_pending);
}

bool mc_line_resyncing(const struct mc_line *l)
{
    return l->resync;
}

/* memcpy for the short pieces lines are made of: the compiler turns a
 * bounded variable-length memcpy into "rep movs", whose start-up cost
 * (40-80 ns here) is larger than a 14-octet reply line or a 60-octet FETCH
 * line; two fixed-size overlapping moves are not. Up to 64 octets that way. */
static void copy_piece(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n > 64) {
        memcpy(d, s, n);
    } else if (n > 32) {
        memcpy(d, s, 32);
        memcpy(d + n - 32, s + n - 32, 32);
    } else if (n >= 16) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* Keeps what fits of n octets that hold no CR, LF or NUL. */
static void append(struct mc_line *l, const uint8_t *p, size_t n)
{
    if (l->kept < MC_LINE_KEEP) {
        size_t room = MC_LINE_KEEP - l->kept;
        size_t c = n < room ? n : room;
        copy_piece(l->buf + l->kept, p, c);
        l->kept += c;
    }
    l->total += n;
}

/* Index of the first CR, LF or NUL in s, or n: one pass, 16 octets at a
 * time with SSE2 (the three memchr calls it replaces cost more than the
 * scan on the short lines mail protocols are made of). */
static size_t scan_special(const uint8_t *s, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i thirteen = _mm_set1_epi8(0x0d);
    while (i + 16 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* octets <= 0x0D: min(x, 13) == x; then the exact test */
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, thirteen), x));
        while (m) {
            size_t k = i + (size_t)__builtin_ctz(m);
            if (s[k] == '\n' || s[k] == '\r' || s[k] == 0)
                return k;
            m &= m - 1;
        }
        i += 16;
    }
#endif
    while (i < n && s[i] != '\n' && s[i] != '\r' && s[i] != 0)
        i++;
    return i;
}

static void complete(struct mc_line *l, enum mc_line_term term)
{
    l->term = term;
    l->complete = true;
    /* Limits count the CRLF (RFC 1939 s3, RFC 5321 s4.5.3.1). */
    if (l->limit && l->total + 2 > l->limit)
        mc_anoms_add(&l->anoms, MC_ANOM_LINE_TOO_LONG, l->start + l->limit - 2);
}

int mc_line_feed(struct mc_line *l, const uint8_t *buf, size_t len, size_t *used_out)
{
    const uint64_t base = l->pos;
    size_t i = 0;

    if (l->complete)
        line_reset(l);

    while (i < len) {
        if (l->resync) {
            const uint8_t *nl = memchr(buf + i, '\n', len - i);
            if (!nl) {
                i = len;
                break;
            }
            i = (size_t)(nl - buf) + 1;
            l->resync = false;
            l->cr_pending = false;
            l->pos = base + i;
            line_reset(l);
            continue;
        }
        if (l->cr_pending) {
            l->cr_pending = false;
            if (buf[i] == '\n') {
                i++;
                l->pos = base + i;
                complete(l, MC_LINE_TERM_CRLF);
                *used_out = i;
                return MC_EVENT;
            }
            mc_anoms_add(&l->anoms, MC_ANOM_BARE_CR, l->cr_off);
            append(l, (const uint8_t *)"\r", 1);
        }
        size_t j = i + scan_special(buf + i, len - i);
        if (j > i)
            append(l, buf + i, j - i);
        if (j == len) {
            i = len;
            break;
        }
        if (buf[j] == 0) {
            if (!l->saw_nul) {
                l->saw_nul = true;
                mc_anoms_add(&l->anoms, MC_ANOM_NUL_BYTE, base + j);
            }
            append(l, buf + j, 1);
            i = j + 1;
            continue;
        }
        if (buf[j] == '\n') {
            mc_anoms_add(&l->anoms, MC_ANOM_BARE_LF, base + j);
            i = j + 1;
            l->pos = base + i;
            complete(l, MC_LINE_TERM_LF);
            *used_out = i;
            return MC_EVENT;
        }
        /* CR: decided by the next octet, which may be in the next feed */
        l->cr_pending = true;
        l->cr_off = base + j;
        i = j + 1;
    }
    l->pos = base + len;
    *used_out = len;
    return MC_NEED_MORE;
}

int mc_line_finish(struct mc_line *l)
{
    if (l->complete)
        line_reset(l);
    if (l->resync)
        return MC_NEED_MORE;
    if (l->cr_pending) {
        l->cr_pending = false;
        mc_anoms_add(&l->anoms, MC_ANOM_BARE_CR, l->cr_off);
        append(l, (const uint8_t *)"\r", 1);
    }
    if (l->total == 0)
        return MC_NEED_MORE;
    mc_anoms_add(&l->anoms, MC_ANOM_UNTERMINATED_LINE, l->pos);
    complete(l, MC_LINE_TERM_EOF);
    return MC_EVENT;
}

void mc_line_gap(struct mc_line *l, uint64_t n)
{
    l->pos += n;
    l->cr_pending = false;
    l->resync = true;
    line_reset(l);
}

void mc_line_advance(struct mc_line *l, uint64_t n)
{
    l->pos += n;
    l->cr_pending = false;
    line_reset(l);
}

void mc_line_relimit(const struct mc_line *l, struct mc_anoms *a, size_t limit)
{
    mc_line_relimit_span(a, l->start, l->total, l->limit, limit);
}

void mc_line_relimit_span(struct mc_anoms *a, uint64_t start, uint64_t total, size_t old_limit,
                          size_t limit)
{
    bool fits = limit == 0 || total + 2 <= limit;
    for (unsigned i = 0; i < a->n; i++) {
        if (a->hit[i].code != MC_ANOM_LINE_TOO_LONG)
            continue;
        if (fits) {
            memmove(&a->hit[i], &a->hit[i + 1], (a->n - i - 1u) * sizeof(a->hit[0]));
            a->n--;
        } else {
            a->hit[i].off = start + limit - 2;
        }
        return;
    }
    /* not in the list although the line broke its limit: it was dropped
     * (the list was full); withdrawn, it no longer counts */
    if (fits && old_limit && total + 2 > old_limit && a->dropped > 0)
        a->dropped--;
}
