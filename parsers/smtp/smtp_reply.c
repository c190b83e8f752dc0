/*
 * SMTP replies, server to client.
 *
 * RFC 5321 s4.2 (replies), s4.2.1 (multi-line), s4.5.3.1.5 (512 octets);
 * RFC 2034 s4 and RFC 3463 s2 (enhanced status codes); RFC 4954 s4 (334).
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 *   Reply-code = %x32-35 %x30-35 %x30-39
 *   textstring = 1*(%d09 / %d32-126)
 *   status-code = class "." subject "." detail    ; RFC 2034 s4
 *   class = "2" / "4" / "5" ; subject = 1*3digit ; detail = 1*3digit
 *
 *   ehlo-line  = ehlo-keyword *( SP ehlo-param )  ; RFC 5321 s4.1.1.1
 *   ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 *   ehlo-param = 1*(%d33-126)
 */
#include "smtp_reply.h"
#include "smtp_syntax.h"

#include <string.h>

void mc_smtp_reply_init(struct mc_smtp_reply *p)
{
    memset(p, 0, sizeof(*p));
    mc_line_init(&p->line, MC_SMTP_REPLY_LINE_MAX);
}

bool mc_smtp_reply_partial(const struct mc_smtp_reply *p)
{
    return mc_line_partial(&p->line);
}

bool mc_smtp_reply_resyncing(const struct mc_smtp_reply *p)
{
    return mc_line_resyncing(&p->line);
}

bool mc_smtp_reply_in_reply(const struct mc_smtp_reply *p)
{
    return p->in_reply;
}

uint64_t mc_smtp_reply_offset(const struct mc_smtp_reply *p)
{
    return p->line.pos;
}

static bool digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* 1*3digit at s; returns the count (0 if none, 4 if too many) */
static size_t digits13(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n && digit(s[i]) && i < 4)
        i++;
    return i;
}

/* An enhanced status code leads the text when it starts "2." "4." or "5."
 * (a leading digit and dot is how RFC 3463 codes look; other text rarely
 * does). Checks it, its class against the reply code, and the SP after. */
static void parse_esc(struct mc_smtp_reply_ev *ev, const uint8_t *s, size_t n, uint64_t off)
{
    size_t i, d;
    if (n < 2 || s[1] != '.' || (s[0] != '2' && s[0] != '4' && s[0] != '5'))
        return;
    i = 2;
    d = digits13(s + i, n - i);
    if (d == 0 || d > 3 || i + d >= n || s[i + d] != '.') {
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_ESC_SYNTAX, off + i + (d > 3 ? 3 : d));
        return;
    }
    /* RFC 3463 s2: sub-codes carry no leading zero ("2.01.0") */
    if (d > 1 && s[i] == '0') {
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_ESC_SYNTAX, off + i);
        return;
    }
    i += d + 1;
    d = digits13(s + i, n - i);
    if (d == 0 || d > 3) {
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_ESC_SYNTAX, off + i + (d > 3 ? 3 : d));
        return;
    }
    if (d > 1 && s[i] == '0') {
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_ESC_SYNTAX, off + i);
        return;
    }
    i += d;
    ev->esc.ptr = s;
    ev->esc.len = i;
    ev->esc.off = off;
    ev->esc_class = (unsigned)(s[0] - '0');
    if (i < n && s[i] != ' ')
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_ESC_NO_SP, off + i);
    /* RFC 2034 s4: 2xx carries 2.X.X, 4xx 4.X.X, 5xx 5.X.X; 3xx replies
     * carry no enhanced code, so there is nothing to agree with */
    if (ev->code >= 200 && ev->code / 100 != 3 && ev->esc_class != ev->code / 100)
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_ESC_CLASS, off);
}

/* Octets that reply text may not hold: controls other than HT, and DEL
 * and above. NUL and bare CR are the line layer's findings. A table: the
 * per-octet test is one load, where the five compares it replaces were
 * each a traced compare under libFuzzer. */
static const uint8_t text_bad[256] = {
    0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1,  /* 0x00: NUL, HT, CR pass */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x10 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xa0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xb0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xc0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xd0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xe0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xf0 */
};

static void check_text(struct mc_smtp_reply_ev *ev, const uint8_t *s, size_t n, uint64_t off)
{
    size_t i = 0;
    /* eight octets a test while none is bad, then the first bad one */
    while (n - i >= 8 && !(text_bad[s[i]] | text_bad[s[i + 1]] | text_bad[s[i + 2]] |
                           text_bad[s[i + 3]] | text_bad[s[i + 4]] | text_bad[s[i + 5]] |
                           text_bad[s[i + 6]] | text_bad[s[i + 7]]))
        i += 8;
    while (i < n && !text_bad[s[i]])
        i++;
    if (i < n)
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_REPLY_TEXT_CHAR, off + i);
}

static void build_event(struct mc_smtp_reply *p, struct mc_smtp_reply_ev *ev)
{
    const struct mc_line *l = &p->line;
    const uint8_t *s = l->buf;
    size_t n = l->kept, i = 0;
    uint64_t off = l->start;

    /* every field set, no memset: this runs once per reply line */
    mc_anoms_copy(&ev->anoms, &l->anoms);
    ev->line.ptr = s;
    ev->line.len = n;
    ev->line.off = off;
    ev->line_len = l->total;
    ev->truncated = l->total > n;
    ev->code = 0;
    ev->first = !p->in_reply;
    ev->last = true;
    ev->esc = (struct mc_span){NULL, 0, 0};
    ev->esc_class = 0;

    while (i < n && i < 3 && digit(s[i]))
        i++;
    if (i < 3 || (n > 3 && digit(s[3]))) {
        mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_REPLY_CODE_SYNTAX, off + (i < 3 ? i : 3));
        ev->text.ptr = s;
        ev->text.len = n;
        ev->text.off = off;
    } else {
        ev->code = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
                   (unsigned)(s[2] - '0');
        /* RFC 4954 s4: challenges are not bound by the reply line limit */
        if (ev->code == 334)
            mc_line_relimit(l, &ev->anoms, MC_SMTP_AUTH_LINE_MAX);
        if (s[0] < '2' || s[0] > '5')
            mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_REPLY_CODE_RANGE, off);
        else if (s[1] > '5')
            mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_REPLY_CODE_RANGE, off + 1);
        if (n == 3) {
            mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_REPLY_NO_TEXT, off + 3);
            i = 3;
        } else if (s[3] == ' ' || s[3] == '-') {
            ev->last = s[3] == ' ';
            i = 4;   /* "250 " with no text is what s4.2.1 recommends */
        } else {
            mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_REPLY_SEPARATOR, off + 3);
            i = 3;
        }
        ev->text.ptr = s + i;
        ev->text.len = n - i;
        ev->text.off = off + i;
        check_text(ev, s + i, n - i, off + i);
        parse_esc(ev, s + i, n - i, off + i);
    }

    if (ev->first) {
        p->reply_code = ev->code;
        p->esc_len = (uint8_t)(ev->esc.len <= sizeof(p->esc) ? ev->esc.len : 0);
        memcpy(p->esc, ev->esc.ptr ? ev->esc.ptr : s, p->esc_len);
    } else {
        if (ev->code != p->reply_code && ev->code != 0)
            mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_REPLY_CODE_MISMATCH, off);
        /* RFC 2034 s4: the same status code on each line of the reply */
        if (ev->esc.len && p->esc_len &&
            (ev->esc.len != p->esc_len || memcmp(ev->esc.ptr, p->esc, p->esc_len) != 0))
            mc_anoms_add(&ev->anoms, MC_ANOM_SMTP_ESC_LINE_MISMATCH, ev->esc.off);
    }
    ev->reply_code = p->reply_code;
    p->in_reply = !ev->last;
}

int mc_smtp_reply_feed(struct mc_smtp_reply *p, const uint8_t *buf, size_t len,
                       size_t *used_out, struct mc_smtp_reply_ev *ev_out)
{
    p->finished_line = false;
    if (mc_line_feed(&p->line, buf, len, used_out) != MC_EVENT)
        return MC_NEED_MORE;
    build_event(p, ev_out);
    return MC_EVENT;
}

int mc_smtp_reply_finish(struct mc_smtp_reply *p, struct mc_smtp_reply_ev *ev_out)
{
    if (!p->finished_line) {
        p->finished_line = true;
        if (mc_line_finish(&p->line) == MC_EVENT) {
            build_event(p, ev_out);
            return MC_EVENT;
        }
    }
    if (p->in_reply) {
        memset(ev_out, 0, sizeof(*ev_out));
        ev_out->last = true;
        ev_out->reply_code = p->reply_code;
        ev_out->line.off = p->line.pos;
        ev_out->text.off = p->line.pos;
        mc_anoms_add(&ev_out->anoms, MC_ANOM_SMTP_REPLY_MULTI_UNTERMINATED, p->line.pos);
        p->in_reply = false;
        return MC_EVENT;
    }
    return MC_NEED_MORE;
}

void mc_smtp_reply_gap(struct mc_smtp_reply *p, uint64_t n)
{
    mc_line_gap(&p->line, n);
    p->in_reply = false;
}

/* SIZE [SP number] (RFC 1870 s4); AUTH SP mechanism *(SP mechanism) with
 * sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_") (RFC 4954 s3, RFC 4422
 * s3.1). Other keywords' parameters are free-form ehlo-params. */
static enum mc_anom check_params(const uint8_t *s, size_t n, size_t kw, size_t *bad_out)
{
    bool is_size = kw == 4 && (s[0] | 0x20) == 's' && (s[1] | 0x20) == 'i' &&
                   (s[2] | 0x20) == 'z' && (s[3] | 0x20) == 'e';
    bool is_auth = kw == 4 && (s[0] | 0x20) == 'a' && (s[1] | 0x20) == 'u' &&
                   (s[2] | 0x20) == 't' && (s[3] | 0x20) == 'h';
    size_t i = kw, nparams = 0;
    while (i < n) {
        size_t start = ++i; /* s[i-1] == ' ' */
        i = mc_skip_to_sp(s, i, n);
        nparams++;
        if (is_size) {
            /* size-param ::= [1*DIGIT]; a value beyond 64 bits is still
             * the grammar's (the session judges what it can use) */
            bool digits = i > start;
            for (size_t k = start; k < i && digits; k++)
                digits = digit(s[k]);
            if (nparams > 1 || !digits) {
                *bad_out = start;
                return MC_ANOM_SMTP_EHLO_PARAM_VALUE;
            }
        } else if (is_auth) {
            if (i - start > 20) {
                *bad_out = start + 20;
                return MC_ANOM_SMTP_EHLO_PARAM_VALUE;
            }
            for (size_t k = start; k < i; k++) {
                uint8_t c = s[k];
                /* names are upper case (RFC 4422 s3.1) but compared
                 * case-insensitively (RFC 4954 s8): lower case passes */
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || digit(c) || c == '-' ||
                      c == '_')) {
                    *bad_out = k;
                    return MC_ANOM_SMTP_EHLO_PARAM_VALUE;
                }
            }
        }
    }
    if (is_auth && nparams == 0) {
        *bad_out = n;
        return MC_ANOM_SMTP_EHLO_PARAM_VALUE;
    }
    return MC_ANOM_NONE;
}

enum mc_anom mc_smtp_parse_ehlo_line(const uint8_t *s, size_t n, size_t *kw_len_out,
                                     size_t *bad_out)
{
    size_t i = 0;
    i = mc_skip_to_sp(s, i, n);
    *kw_len_out = i;
    if (!mc_smtp_keyword_valid(s, i)) {
        size_t k = 0;
        while (k < i && ((s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= 'a' && s[k] <= 'z') ||
                         digit(s[k]) || (k > 0 && s[k] == '-')))
            k++;
        *bad_out = k;
        return MC_ANOM_SMTP_EHLO_LINE_SYNTAX;
    }
    while (i < n) {
        size_t start;
        i++; /* ' ' */
        start = i;
        while (i < n && s[i] != ' ') {
            if (s[i] < 33 || s[i] > 126) {
                *bad_out = i;
                return MC_ANOM_SMTP_EHLO_LINE_SYNTAX;
            }
            i++;
        }
        if (i == start) {
            *bad_out = i;
            return MC_ANOM_SMTP_EHLO_LINE_SYNTAX;
        }
    }
    return check_params(s, n, *kw_len_out, bad_out);
}
