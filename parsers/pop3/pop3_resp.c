/*
 * POP3 responses, server to client.
 *
 * RFC 1939 (POP3), RFC 2449 (CAPA, response codes), RFC 5034 (SASL), RFC 3206.
 *
 *   response     =  greeting / single-line / capa-resp / multi-line
 *   single-line  =  status [SP text] CRLF       ;512 octets maximum
 *   status       =  "+OK" / "-ERR"              ;upper case, RFC 1939 s3
 *   text         =  *schar / resp-code *CHAR
 *   resp-code    =  "[" resp-level *("/" resp-level) "]"
 *   resp-level   =  1*rchar
 *   rchar        =  %x21-2E / %x30-5C / %x5E-7F
 *   multi-line   =  single-line *dot-stuffed "." CRLF
 *   continue-req =  "+" SP [base64] CRLF        ;RFC 5034 s5
 */
#include "pop3_resp.h"

#include <string.h>

void mc_pop3_resp_init(struct mc_pop3_resp *p)
{
    memset(p, 0, sizeof(*p));
    mc_line_init(&p->line, MC_POP3_RESP_LINE_MAX);
}

void mc_pop3_resp_expect_multiline(struct mc_pop3_resp *p)
{
    p->multiline = true;
    /* RFC 1939 sets no limit on the lines of a message; the session checks
     * the 512-octet CAPA line limit itself (RFC 2449 s5). */
    mc_line_set_limit(&p->line, 0);
}

bool mc_pop3_resp_in_multiline(const struct mc_pop3_resp *p)
{
    return p->multiline;
}

bool mc_pop3_resp_partial(const struct mc_pop3_resp *p)
{
    return mc_line_partial(&p->line);
}

bool mc_pop3_resp_resyncing(const struct mc_pop3_resp *p)
{
    return mc_line_resyncing(&p->line);
}

uint64_t mc_pop3_resp_offset(const struct mc_pop3_resp *p)
{
    return p->line.pos;
}

static bool rchar(uint8_t c)
{
    return (c >= 0x21 && c <= 0x2e) || (c >= 0x30 && c <= 0x5c) || (c >= 0x5e && c <= 0x7f);
}

/* text after the status: optional [resp-code], then free text */
static void parse_text(struct mc_pop3_resp_ev *ev, const uint8_t *s, size_t n, uint64_t off)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        size_t j = 1, level_start = 1;
        bool bad = false;
        size_t bad_at = 0;
        while (j < n && s[j] != ']') {
            if (s[j] == '/') {
                if (j == level_start && !bad) {
                    bad = true;
                    bad_at = j;
                }
                level_start = j + 1;
            } else if (!rchar(s[j]) && !bad) {
                bad = true;
                bad_at = j;
            }
            j++;
        }
        if (j == n) {
            mc_anoms_add(&ev->anoms, MC_ANOM_POP3_RESP_CODE_SYNTAX, off + n);
        } else {
            if (j == level_start && !bad) {
                bad = true;   /* empty level: "[]" or "[SYS/]" */
                bad_at = j;
            }
            if (bad)
                mc_anoms_add(&ev->anoms, MC_ANOM_POP3_RESP_CODE_SYNTAX, off + bad_at);
            ev->code.ptr = s + 1;
            ev->code.len = j - 1;
            ev->code.off = off + 1;
            i = j + 1;
            if (i < n && s[i] == ' ')
                i++;
        }
    }
    ev->text.ptr = s + i;
    ev->text.len = n - i;
    ev->text.off = off + i;
    for (size_t k = i; k < n; k++) {
        if (s[k] < 0x20 && s[k] != '\t' && s[k] != '\r' && s[k] != 0) {
            mc_anoms_add(&ev->anoms, MC_ANOM_POP3_TEXT_CTRL, off + k);
            break;
        }
    }
}

static void parse_status(struct mc_pop3_resp_ev *ev, const uint8_t *s, size_t n, uint64_t off)
{
    size_t sl = 0;
    ev->type = MC_POP3_RESP_STATUS;
    if (n >= 3 && mc_ascii_ieq(s, "+OK", 3)) {
        ev->status = MC_POP3_STATUS_OK;
        sl = 3;
        if (memcmp(s, "+OK", 3) != 0)
            mc_anoms_add(&ev->anoms, MC_ANOM_POP3_STATUS_CASE, off);
    } else if (n >= 4 && mc_ascii_ieq(s, "-ERR", 4)) {
        ev->status = MC_POP3_STATUS_ERR;
        sl = 4;
        if (memcmp(s, "-ERR", 4) != 0)
            mc_anoms_add(&ev->anoms, MC_ANOM_POP3_STATUS_CASE, off);
    } else {
        ev->status = MC_POP3_STATUS_INVALID;
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_STATUS_UNKNOWN, off);
        ev->text.ptr = s;
        ev->text.len = n;
        ev->text.off = off;
        return;
    }
    if (n == sl) {
        ev->text.ptr = s + n;
        ev->text.len = 0;
        ev->text.off = off + n;
        return;
    }
    if (s[sl] != ' ') {
        /* "+OKAY" or "+OK\t...": status SP text is the only form */
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_STATUS_NO_SP, off + sl);
        parse_text(ev, s + sl, n - sl, off + sl);
        return;
    }
    parse_text(ev, s + sl + 1, n - sl - 1, off + sl + 1);
}

static void parse_cont(struct mc_pop3_resp_ev *ev, const uint8_t *s, size_t n, uint64_t off)
{
    size_t bad;
    ev->type = MC_POP3_RESP_CONT;
    /* RFC 5034 s4: challenges may be of arbitrary length, independent of
     * line limits; the 512-octet limit is for status lines only. */
    if (n == 1) {
        /* a bare "+": curl and others accept it; RFC 5034 s5 wants "+" SP */
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_CONT_NO_SP, off + 1);
        ev->text.ptr = s + 1;
        ev->text.len = 0;
        ev->text.off = off + 1;
        return;
    }
    ev->text.ptr = s + 2;
    ev->text.len = n - 2;
    ev->text.off = off + 2;
    if (!mc_base64_valid_prefix(s + 2, n - 2, ev->truncated, &bad))
        mc_anoms_add(&ev->anoms, MC_ANOM_POP3_CONT_BAD_BASE64, off + 2 + bad);
}

static void build_event(struct mc_pop3_resp *p, struct mc_pop3_resp_ev *ev)
{
    const struct mc_line *l = &p->line;
    const uint8_t *s = l->buf;
    size_t n = l->kept;

    memset(ev, 0, sizeof(*ev));
    mc_anoms_copy(&ev->anoms, &l->anoms);
    ev->line.ptr = s;
    ev->line.len = n;
    ev->line.off = l->start;
    ev->line_len = l->total;
    ev->truncated = l->total > n;

    if (p->multiline) {
        if (n >= 1 && s[0] == '.') {
            if (l->total == 1) {
                ev->type = MC_POP3_RESP_END;
                p->multiline = false;
                mc_line_set_limit(&p->line, MC_POP3_RESP_LINE_MAX);
                return;
            }
            ev->stuffed = true;
            ev->line.ptr = s + 1;
            ev->line.len = n - 1;
            ev->line.off = l->start + 1;
        }
        ev->type = MC_POP3_RESP_BODY;
        return;
    }
    if (n >= 1 && s[0] == '+' && (n == 1 || s[1] == ' ')) {
        /* RFC 5034 s4: challenges may be of arbitrary length, independent
         * of line limits; the 512-octet limit is for status lines only */
        mc_line_relimit(l, &ev->anoms, 0);
        parse_cont(ev, s, n, l->start);
        return;
    }
    parse_status(ev, s, n, l->start);
}

int mc_pop3_resp_feed(struct mc_pop3_resp *p, const uint8_t *buf, size_t len,
                      size_t *used_out, struct mc_pop3_resp_ev *ev_out)
{
    p->finished_line = false;
    if (mc_line_feed(&p->line, buf, len, used_out) != MC_EVENT)
        return MC_NEED_MORE;
    build_event(p, ev_out);
    return MC_EVENT;
}

int mc_pop3_resp_finish(struct mc_pop3_resp *p, struct mc_pop3_resp_ev *ev_out)
{
    if (!p->finished_line) {
        p->finished_line = true;
        if (mc_line_finish(&p->line) == MC_EVENT) {
            build_event(p, ev_out);
            return MC_EVENT;
        }
    }
    if (p->multiline) {
        memset(ev_out, 0, sizeof(*ev_out));
        ev_out->type = MC_POP3_RESP_END;
        ev_out->line.off = p->line.pos;
        mc_anoms_add(&ev_out->anoms, MC_ANOM_POP3_MULTI_UNTERMINATED, p->line.pos);
        p->multiline = false;
        return MC_EVENT;
    }
    return MC_NEED_MORE;
}

void mc_pop3_resp_gap(struct mc_pop3_resp *p, uint64_t n)
{
    mc_line_gap(&p->line, n);
}

static size_t digits(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* "number SP number [SP anything]" */
enum mc_anom mc_pop3_parse_listing(const uint8_t *s, size_t n, uint64_t *a_out,
                                   uint64_t *b_out, size_t *bad_out)
{
    size_t d1 = digits(s, n), d2;
    if (d1 == 0 || !mc_parse_u64(s, d1, UINT64_MAX, a_out)) {
        *bad_out = d1;
        return MC_ANOM_POP3_LISTING_SYNTAX;
    }
    if (d1 >= n || s[d1] != ' ') {
        *bad_out = d1;
        return MC_ANOM_POP3_LISTING_SYNTAX;
    }
    d2 = digits(s + d1 + 1, n - d1 - 1);
    if (d2 == 0 || !mc_parse_u64(s + d1 + 1, d2, UINT64_MAX, b_out)) {
        *bad_out = d1 + 1 + d2;
        return MC_ANOM_POP3_LISTING_SYNTAX;
    }
    /* RFC 1939 s5: no requirement on what follows the size, but a SP must
     * separate it ("12 345abc" is a malformed size). */
    if (d1 + 1 + d2 < n && s[d1 + 1 + d2] != ' ') {
        *bad_out = d1 + 1 + d2;
        return MC_ANOM_POP3_LISTING_SYNTAX;
    }
    return MC_ANOM_NONE;
}

enum mc_anom mc_pop3_parse_uidl(const uint8_t *s, size_t n, uint64_t *msg_out,
                                size_t *uid_at_out, size_t *uid_len_out, size_t *bad_out)
{
    size_t d = digits(s, n);
    if (d == 0 || !mc_parse_u64(s, d, UINT64_MAX, msg_out) || d >= n || s[d] != ' ') {
        *bad_out = d;
        return MC_ANOM_POP3_UIDL_SYNTAX;
    }
    *uid_at_out = d + 1;
    *uid_len_out = n - d - 1;
    /* unique-id: 1 to 70 octets in 0x21-0x7E, nothing after it (RFC 1939 s7) */
    if (n - d - 1 == 0) {
        *bad_out = d + 1;
        return MC_ANOM_POP3_UID_INVALID;
    }
    for (size_t i = d + 1; i < n; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            *bad_out = i;
            return MC_ANOM_POP3_UID_INVALID;
        }
    }
    if (n - d - 1 > MC_POP3_UID_MAX) {
        *bad_out = d + 1 + MC_POP3_UID_MAX;
        return MC_ANOM_POP3_UID_INVALID;
    }
    return MC_ANOM_NONE;
}

/* capa-tag = 1*cchar, cchar = %x21-2D / %x2F-7F ; param = 1*VCHAR */
enum mc_anom mc_pop3_parse_capa(const uint8_t *s, size_t n, size_t *tag_len_out, size_t *bad_out)
{
    size_t i = 0;
    while (i < n && s[i] != ' ') {
        if (s[i] < 0x21 || s[i] > 0x7f || s[i] == '.') {
            *bad_out = i;
            return MC_ANOM_POP3_CAPA_SYNTAX;
        }
        i++;
    }
    *tag_len_out = i;
    if (i == 0) {
        *bad_out = 0;
        return MC_ANOM_POP3_CAPA_SYNTAX;
    }
    while (i < n) {
        size_t start;
        /* s[i] == ' ' here: exactly one SP, then a non-empty param */
        i++;
        start = i;
        while (i < n && s[i] != ' ') {
            if (s[i] < 0x21 || s[i] > 0x7e) {
                *bad_out = i;
                return MC_ANOM_POP3_CAPA_SYNTAX;
            }
            i++;
        }
        if (i == start) {
            *bad_out = i;
            return MC_ANOM_POP3_CAPA_SYNTAX;
        }
    }
    return MC_ANOM_NONE;
}

/* msg-id (RFC 822 s6.1, as RFC 1939 s7 requires): "<" local-part "@" domain ">".
 * Checked loosely: printable, no SP or further brackets, one "@" with text
 * on both sides. */
bool mc_pop3_find_timestamp(const uint8_t *s, size_t n, size_t *at_out, size_t *len_out,
                            enum mc_anom *anom_out)
{
    const uint8_t *lt = memchr(s, '<', n);
    const uint8_t *gt;
    size_t a, e, at = 0, ats = 0;
    if (!lt)
        return false;
    a = (size_t)(lt - s);
    gt = memchr(lt, '>', n - a);
    if (!gt) {
        *at_out = a;
        *len_out = n - a;
        *anom_out = MC_ANOM_POP3_TIMESTAMP_SYNTAX;
        return true;
    }
    e = (size_t)(gt - s);
    *at_out = a;
    *len_out = e - a + 1;
    *anom_out = MC_ANOM_NONE;
    for (size_t i = a + 1; i < e; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '<') {
            *anom_out = MC_ANOM_POP3_TIMESTAMP_SYNTAX;
            return true;
        }
        if (s[i] == '@') {
            ats++;
            at = i;
        }
    }
    if (ats != 1 || at == a + 1 || at + 1 == e)
        *anom_out = MC_ANOM_POP3_TIMESTAMP_SYNTAX;
    return true;
}
