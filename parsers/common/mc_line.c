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

/* append(), copy_piece() and scan_special() run on every feed. Inlined,
 * the fuzz build saves the call and UBSan's alignment checks of l done
 * again in the callee, each a traced compare under libFuzzer (clang -O1
 * did not inline append by itself), and gcc -O2 keeps scan_special inline
 * in both of its callers (out of line it cost the release build 3%). */
#if defined(__GNUC__)
#define MC_LINE_HOT inline __attribute__((always_inline))
#else
#define MC_LINE_HOT inline
#endif

/* memcpy for the short pieces lines are made of: the compiler turns a
 * bounded variable-length memcpy into "rep movs", whose start-up cost
 * (40-80 ns here) is larger than a 14-octet reply line or a 60-octet FETCH
 * line; two fixed-size overlapping moves are not. Up to 64 octets that way.
 * n >= 1. The smallest pieces are tested first and 1..3 octets take three
 * single moves with no loop: the fuzz targets feed one octet at a time, and
 * under libFuzzer every size test here is a traced compare. */
static MC_LINE_HOT void copy_piece(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n < 4) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    } else if (n <= 16) {
        if (n >= 8) {
            memcpy(d, s, 8);
            memcpy(d + n - 8, s + n - 8, 8);
        } else {
            memcpy(d, s, 4);
            memcpy(d + n - 4, s + n - 4, 4);
        }
    } else if (n <= 32) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n <= 64) {
        memcpy(d, s, 32);
        memcpy(d + n - 32, s + n - 32, 32);
    } else {
        memcpy(d, s, n);
    }
}

/* Keeps what fits of n >= 1 octets that hold no CR, LF or NUL. */
static MC_LINE_HOT void append(struct mc_line *l, const uint8_t *p, size_t n)
{
    if (l->kept < MC_LINE_KEEP) {
        size_t room = MC_LINE_KEEP - l->kept;
        size_t c = n < room ? n : room;
        copy_piece(l->buf + l->kept, p, c);
        l->kept += c;
    }
    l->total += n;
}

/* Keeps one octet (a CR found bare, a NUL): append() of one octet, with
 * no size class to choose. */
static void append_octet(struct mc_line *l, uint8_t c)
{
    if (l->kept < MC_LINE_KEEP)
        l->buf[l->kept++] = c;
    l->total++;
}

#if defined(__SSE2__)
/* Bit k set where octet k of x is CR, LF or NUL. */
static unsigned special_mask(__m128i x)
{
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
                               _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
    hit = _mm_or_si128(hit, _mm_cmpeq_epi8(x, _mm_setzero_si128()));
    return (unsigned)_mm_movemask_epi8(hit);
}
#else
/* CR, LF and NUL: a table, so the per-octet test is a load and one test
 * (three compares per octet otherwise, each a callback under libFuzzer). */
static const uint8_t special_octet[256] = {[0] = 1, ['\n'] = 1, ['\r'] = 1};
#endif

/* Index of the first CR, LF or NUL in s[0..n), or n: one pass, 16 octets
 * at a time with SSE2 (the three memchr calls it replaces cost more than
 * the scan on the short lines mail protocols are made of). The `back`
 * octets before s are readable too: the last 0..15 octets are tested as the
 * 16 that end at s + n (the mask shifted past the ones before s) when
 * back + n >= 16, else as a copy padded with non-special octets. Either way
 * the tail has no per-octet loop: a feed of one octet at a time (the fuzz
 * targets' cut runs) costs two tests here, not four per octet. */
static MC_LINE_HOT size_t scan_special(const uint8_t *s, size_t n, size_t back)
{
    size_t i = 0;
#if defined(__SSE2__)
    unsigned m;
    size_t r;
    for (; n - i >= 16; i += 16) {
        m = special_mask(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    r = n - i; /* 0..15 octets left */
    if (back + n >= 16) {
        m = special_mask(_mm_loadu_si128((const __m128i *)(const void *)(s + n - 16))) >> (16 - r);
    } else {
        uint8_t t[16];
        memset(t, 'x', sizeof(t));
        memcpy(t, s + i, r);
        m = special_mask(_mm_loadu_si128((const __m128i *)(const void *)t));
    }
    /* bit r stands for "none": no bit at or above r is set in m */
    return i + (size_t)__builtin_ctz(m | 1u << r);
#else
    (void)back;
    while (i < n && !special_octet[s[i]])
        i++;
    return i;
#endif
}

static void complete(struct mc_line *l, enum mc_line_term term)
{
    l->term = term;
    l->complete = true;
    /* Limits count the CRLF (RFC 1939 s3, RFC 5321 s4.5.3.1). */
    if (l->limit && l->total + 2 > l->limit)
        mc_anoms_add(&l->anoms, MC_ANOM_LINE_TOO_LONG, l->start + l->limit - 2);
}

/* mc_line_feed() from octet i of buf on, with the octets before i already
 * taken; base is the offset of buf[0]. Every case: pending CR, resync after
 * a gap, NUL, bare LF, CR at the end of buf. */
MC_NOINLINE static int feed_from(struct mc_line *l, const uint8_t *buf, size_t len, size_t i,
                                 uint64_t base, size_t *used_out)
{
    while (i < len) {
        /* one test for the two rare states */
        if (l->resync | l->cr_pending) {
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
            l->cr_pending = false;
            if (buf[i] == '\n') {
                i++;
                l->pos = base + i;
                complete(l, MC_LINE_TERM_CRLF);
                *used_out = i;
                return MC_EVENT;
            }
            mc_anoms_add(&l->anoms, MC_ANOM_BARE_CR, l->cr_off);
            append_octet(l, '\r');
        }
        size_t j = i + scan_special(buf + i, len - i, i);
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
            append_octet(l, 0);
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

/* The two usual cases, with no loop: octets that hold no CR, LF or NUL (all
 * of buf taken), and a line that ends in CRLF inside buf. Everything else
 * goes on in feed_from(), out of line. Why not one loop: under UBSan the
 * alignment checks of every field the loop touches are hoisted to its
 * entry, and under libFuzzer each is a traced compare on every call (six
 * of them, once per octet when the octets come one at a time); here only
 * the fields of the path taken are checked. */
int mc_line_feed(struct mc_line *l, const uint8_t *buf, size_t len, size_t *used_out)
{
    size_t j;

    if (l->complete)
        line_reset(l);
    if (len == 0) { /* nothing to scan (buf may be NULL) */
        *used_out = 0;
        return MC_NEED_MORE;
    }
    if (l->resync | l->cr_pending)
        return feed_from(l, buf, len, 0, l->pos, used_out);
    j = scan_special(buf, len, 0);
    if (j > 0)
        append(l, buf, j);
    if (j == len) {
        l->pos += len;
        *used_out = len;
        return MC_NEED_MORE;
    }
    if (buf[j] == '\r' && len - j >= 2 && buf[j + 1] == '\n') {
        l->pos += j + 2;
        complete(l, MC_LINE_TERM_CRLF);
        *used_out = j + 2;
        return MC_EVENT;
    }
    /* buf[j] is special: feed_from() takes it (its scan stops there again) */
    return feed_from(l, buf, len, j, l->pos, used_out);
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
        append_octet(l, '\r');
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
