/*
 * IMAP commands, client to server.
 *
 * RFC 3501 s6 and s9 (the formal syntax is the reference), RFC 9051 s9,
 * RFC 7888 (LITERAL+ / LITERAL-), RFC 3516 (literal8), RFC 2177 (IDLE),
 * RFC 5161 (ENABLE), RFC 2971 (ID), RFC 2342 (NAMESPACE), RFC 4315 (UID
 * EXPUNGE), RFC 6851 (MOVE), RFC 4959 (SASL-IR), RFC 5182 ("$"),
 * RFC 7162 (line length s4; CONDSTORE and QRESYNC parameters through the
 * RFC 4466 generic syntax).
 *
 *   command     = tag SP (command-any / command-auth / command-nonauth /
 *                 command-select) CRLF
 *   tag         = 1*<any ASTRING-CHAR except "+">
 *   literal     = "{" number64 ["+"] "}" CRLF *CHAR8      ; RFC 7888
 *   literal8    = "~{" number64 ["+"] "}" CRLF *OCTET     ; RFC 3516
 *   astring     = 1*ASTRING-CHAR / string
 *   string      = quoted / literal
 *   quoted      = DQUOTE *QUOTED-CHAR DQUOTE
 *   atom        = 1*ATOM-CHAR
 *   ATOM-CHAR   = <any CHAR except atom-specials>
 *   atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
 *                 quoted-specials / resp-specials
 *   mailbox     = "INBOX" / astring
 *   list-mailbox = 1*list-char / string
 *   authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")]
 *   login       = "LOGIN" SP userid SP password
 *   rename      = "RENAME" SP mailbox SP mailbox
 *   list        = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
 *                 [SP list-return-opts]             ; RFC 9051, RFC 5258
 *   lsub        = "LSUB" SP mailbox SP list-mailbox
 *   status      = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
 *   append      = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
 *   search      = "SEARCH" [SP "RETURN" SP "(" [search-return-opt
 *                 *(SP search-return-opt)] ")"]     ; RFC 9051, RFC 4731
 *                 [SP "CHARSET" SP astring] 1*(SP search-key)
 *   fetch       = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" /
 *                 fetch-att / "(" fetch-att *(SP fetch-att) ")")
 *   store       = "STORE" SP sequence-set SP store-att-flags
 *   store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
 *                 (flag-list / (flag *(SP flag)))
 *   copy        = "COPY" SP sequence-set SP mailbox     ; MOVE the same
 *   uid         = "UID" SP (copy / move / fetch / search / store / uid-expunge)
 *   uid-expunge = "EXPUNGE" SP sequence-set             ; RFC 4315
 *   enable      = "ENABLE" 1*(SP capability)            ; RFC 5161
 *   id          = "ID" SP id-params-list                ; RFC 2971
 *   id-params-list = "(" #(string SP nstring) ")" / nil
 *   sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"
 *   seq-range   = seq-number ":" seq-number
 *   seq-number  = nz-number / "*"
 *   date        = date-text / DQUOTE date-text DQUOTE
 *   date-text   = date-day "-" date-month "-" date-year
 *   date-time   = DQUOTE date-day-fixed "-" date-month "-" date-year
 *                 SP time SP zone DQUOTE
 *   idle        = "IDLE" CRLF "DONE"                     ; RFC 2177
 *   select      = "SELECT" SP mailbox [select-params]   ; RFC 4466 s2.1
 *   fetch       =/ ... [fetch-modifiers]; store =/ ... [store-modifiers]
 *   select-params = SP "(" select-param *(SP select-param) ")"
 *   select-param = name [SP tagged-ext-val]          ; modifiers alike
 */
#include "imap_cmd.h"

#include <string.h>

enum argkind {
    K_NONE, K_ANY, K_ID, K_AUTH, K_LOGIN, K_MAILBOX, K_SELECT, K_RENAME, K_LIST, K_LSUB, K_STATUS,
    K_APPEND, K_ENABLE, K_EXPUNGE, K_SEARCH, K_FETCH, K_STORE, K_COPY
};

static const struct mc_imap_verb_info info[MC_IMAP_VERB_COUNT] = {
    [MC_IMAP_UNKNOWN] = {"UNKNOWN", 0, false},
#define X(n, k, st, u) [MC_IMAP_##n] = {#n, st, u},
    MC_IMAP_VERBS(X)
#undef X
};

/* strlen() of each name in info[], known at compile time: lookup() runs
 * per command and compared every name's length */
static const size_t name_lens[MC_IMAP_VERB_COUNT] = {
    [MC_IMAP_UNKNOWN] = sizeof("UNKNOWN") - 1,
#define X(n, k, st, u) [MC_IMAP_##n] = sizeof(#n) - 1,
    MC_IMAP_VERBS(X)
#undef X
};

static const uint8_t kinds[MC_IMAP_VERB_COUNT] = {
    [MC_IMAP_UNKNOWN] = K_ANY,
#define X(n, k, st, u) [MC_IMAP_##n] = K_##k,
    MC_IMAP_VERBS(X)
#undef X
};

enum { M_LINE, M_LIT };

const struct mc_imap_verb_info *mc_imap_verb_info(enum mc_imap_verb v)
{
    return &info[(unsigned)v < MC_IMAP_VERB_COUNT ? v : MC_IMAP_UNKNOWN];
}

const char *mc_imap_verb_name(enum mc_imap_verb v)
{
    return mc_imap_verb_info(v)->name;
}

/* ---- character classes (RFC 3501 s9) ----------------------------------- */

static bool is_ctl(uint8_t c)
{
    return c < 0x20 || c == 0x7f;
}

/* ATOM-CHAR: CHAR (7-bit, not NUL) except atom-specials */
static bool atom_char(uint8_t c)
{
    return c >= 0x01 && c < 0x80 && !is_ctl(c) && !strchr("(){ %*\"\\]", c);
}

static bool astring_char(uint8_t c)
{
    return atom_char(c) || c == ']';
}

/* list-char = ATOM-CHAR / list-wildcards / resp-specials */
static bool list_char(uint8_t c)
{
    return astring_char(c) || c == '%' || c == '*';
}

static bool digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* ---- framing: line segments and literals -------------------------------- */

void mc_imap_cmd_init(struct mc_imap_cmd *p)
{
    memset(p, 0, sizeof(*p));
    /* the command limit spans segments: measured here, not per line */
    mc_line_init(&p->line, 0);
}

void mc_imap_cmd_expect_sasl(struct mc_imap_cmd *p, bool on)
{
    p->sasl = on;
}

bool mc_imap_cmd_in_sasl(const struct mc_imap_cmd *p)
{
    return p->sasl;
}

void mc_imap_cmd_expect_idle(struct mc_imap_cmd *p)
{
    p->idle = true;
}

void mc_imap_cmd_end_idle(struct mc_imap_cmd *p)
{
    p->idle = false;
}

bool mc_imap_cmd_in_idle(const struct mc_imap_cmd *p)
{
    return p->idle;
}

uint64_t mc_imap_cmd_offset(const struct mc_imap_cmd *p)
{
    return p->pos;
}

bool mc_imap_cmd_partial(const struct mc_imap_cmd *p)
{
    return p->in_cmd || mc_line_partial(&p->line);
}

bool mc_imap_cmd_resyncing(const struct mc_imap_cmd *p)
{
    return mc_line_resyncing(&p->line);
}

bool mc_imap_cmd_has_event(const struct mc_imap_cmd *p)
{
    return p->refused_pending;
}

bool mc_imap_cmd_literal_waiting(const struct mc_imap_cmd *p)
{
    return p->mode == M_LIT && p->lit.sync && !p->go && p->lit_used == 0 && !p->early_said;
}

/* The literal is over: the line layer skips its octets. */
static void end_literal(struct mc_imap_cmd *p)
{
    p->mode = M_LINE;
    p->tail_len = 0;
    mc_line_advance(&p->line, p->lit.size);
}

void mc_imap_cmd_literal_go(struct mc_imap_cmd *p)
{
    if (p->mode != M_LIT)
        return;
    p->go = true;
    if (p->lit_left == 0)   /* {0}: the line goes on at once */
        end_literal(p);
}

bool mc_imap_cmd_literal_refused(struct mc_imap_cmd *p)
{
    if (!mc_imap_cmd_literal_waiting(p))
        return false;
    /* the server reads what follows as a new command */
    p->mode = M_LINE;
    p->tail_len = 0;
    mc_line_advance(&p->line, 0);
    p->refused_pending = true;
    return true;
}

/* Keeps the last raw octets of the current line, where a literal's "{n}"
 * sits even when the line is longer than MC_LINE_KEEP. */
static void tail_add(struct mc_imap_cmd *p, const uint8_t *s, size_t n)
{
    const size_t cap = sizeof(p->tail);
    size_t keep;
    /* the usual case first: it runs on every feed, once per octet when the
     * octets come one at a time, and each test is a traced compare under
     * libFuzzer (the general path below gives the same result) */
    if (p->tail_len + n <= cap) {
        memcpy(p->tail + p->tail_len, s, n);
        p->tail_len = (uint8_t)(p->tail_len + n);
        return;
    }
    if (n >= cap) {
        memcpy(p->tail, s + n - cap, cap);
        p->tail_len = (uint8_t)cap;
        return;
    }
    keep = p->tail_len < cap - n ? p->tail_len : cap - n;
    memmove(p->tail, p->tail + p->tail_len - keep, keep);
    memcpy(p->tail + keep, s, n);
    p->tail_len = (uint8_t)(keep + n);
}

static void cmd_begin(struct mc_imap_cmd *p)
{
    p->in_cmd = true;
    p->cmd_trunc = false;
    p->cmd_start = p->line.start;
    p->cmd_octets = p->text_octets = 0;
    p->text_len = 0;
    p->nseg = 0;
    p->nlit = p->nlit_sync = p->nlit_nonsync = p->nlit8 = 0;
    p->nonsync_max = p->lit_octets = 0;
    mc_anoms_clear(&p->anoms);
}

/* Adds the completed line to the command: its anomalies, its length, its
 * text (while everything so far was kept). */
static void add_segment(struct mc_imap_cmd *p)
{
    const struct mc_line *l = &p->line;
    uint64_t before = p->cmd_octets;
    for (unsigned k = 0; k < l->anoms.n; k++)
        mc_anoms_add(&p->anoms, (enum mc_anom)l->anoms.hit[k].code, l->anoms.hit[k].off);
    for (unsigned k = 0; k < l->anoms.dropped && p->anoms.dropped < UINT8_MAX; k++)
        p->anoms.dropped++;
    /* RFC 7162 s4 counts the line ends of every segment too */
    p->cmd_octets += l->total + 2;
    p->text_octets += l->total;
    if (before <= MC_IMAP_CMD_LINE_MAX && p->cmd_octets > MC_IMAP_CMD_LINE_MAX) {
        uint64_t k = before + 2 <= MC_IMAP_CMD_LINE_MAX ? MC_IMAP_CMD_LINE_MAX - 2 - before : 0;
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_CMD_LINE_TOO_LONG, l->start + k);
    }
    if (p->cmd_trunc || p->nseg == MC_IMAP_CMD_SEGS_MAX ||
        p->text_len + l->kept > MC_IMAP_CMD_KEEP) {
        p->cmd_trunc = true;
        return;
    }
    /* the kept start of a long segment still holds the tag and name */
    if (l->total > l->kept)
        p->cmd_trunc = true;
    p->seg[p->nseg].at = p->text_len;
    p->seg[p->nseg].off = l->start;
    p->nseg++;
    memcpy(p->text + p->text_len, l->buf, l->kept);
    p->text_len += (uint32_t)l->kept;
}

/* Does the completed line end in a literal's announcement? Fills p->lit
 * (except index and secret). A count that is no number64 is flagged and
 * ends the command: the data's length cannot be known. */
static bool literal_spec(struct mc_imap_cmd *p)
{
    const struct mc_line *l = &p->line;
    const uint8_t *t = p->tail;
    size_t term = l->term == MC_LINE_TERM_CRLF ? 2 : 1, m, j, k, start;
    uint64_t size;
    if (l->term == MC_LINE_TERM_EOF || p->tail_len < term)
        return false;
    m = p->tail_len - term;
    if (m == 0 || t[m - 1] != '}')
        return false;
    j = m - 1;
    if (j > 0 && t[j - 1] == '+')
        j--;
    k = j;
    while (k > 0 && digit(t[k - 1]))
        k--;
    if (k == 0 || t[k - 1] != '{' || k == j)
        return false;
    start = k - 1;
    memset(&p->lit, 0, sizeof(p->lit));
    p->lit.literal8 = start > 0 && t[start - 1] == '~';
    if (p->lit.literal8)
        start--;
    p->lit.off = l->start + l->total - (m - start);
    p->lit.sync = j == m - 1;
    if (!mc_parse_u64(t + k, j - k, MC_IMAP_CMD_LITERAL_MAX, &size)) {
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_CMD_LITERAL_COUNT, l->start + l->total - (m - k));
        return false;
    }
    p->lit.size = size;
    return true;
}

static bool login_password_next(const struct mc_imap_cmd *p);

static void start_literal(struct mc_imap_cmd *p)
{
    p->lit.index = p->nlit++;
    p->lit.secret = login_password_next(p);
    if (p->lit.sync)
        p->nlit_sync++;
    else
        p->nlit_nonsync++;
    if (p->lit.literal8)
        p->nlit8++;
    if (!p->lit.sync && p->lit.size > p->nonsync_max)
        p->nonsync_max = p->lit.size;
    p->lit_octets += p->lit.size;
    p->mode = M_LIT;
    p->lit_left = p->lit.size;
    p->lit_used = 0;
    p->go = p->early_said = false;
    if (!p->lit.sync && p->lit.size == 0)
        end_literal(p);
}

static void judge(struct mc_imap_cmd *p, struct mc_imap_cmd_ev *ev);

/* how a command ended, when not by its last line */
enum { END_LINE, END_REFUSED, END_EOF };

static void build_command(struct mc_imap_cmd *p, struct mc_imap_cmd_ev *ev, int how)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = MC_IMAP_CMD_COMMAND;
    ev->text.ptr = p->text;
    ev->text.len = p->text_len;
    ev->text.off = p->cmd_start;
    ev->text_len = p->text_octets;
    ev->truncated = p->cmd_trunc;
    ev->refused = how == END_REFUSED;
    ev->unterminated = how == END_EOF;
    ev->nlit = p->nlit;
    ev->nlit_sync = p->nlit_sync;
    ev->nlit_nonsync = p->nlit_nonsync;
    ev->nlit8 = p->nlit8;
    ev->nonsync_max = p->nonsync_max;
    ev->lit_octets = p->lit_octets;
    mc_anoms_copy(&ev->anoms, &p->anoms);
    judge(p, ev);
    p->in_cmd = false;
}

static void sasl_line(struct mc_imap_cmd *p, struct mc_imap_cmd_ev *ev)
{
    const struct mc_line *l = &p->line;
    size_t bad = 0;
    memset(ev, 0, sizeof(*ev));
    mc_anoms_copy(&ev->anoms, &l->anoms);
    ev->text.ptr = l->buf;
    ev->text.len = l->kept;
    ev->text.off = l->start;
    ev->text_len = l->total;
    ev->truncated = l->total > l->kept;
    ev->syntax_ok = !mc_anoms_has(&l->anoms, MC_ANOM_NUL_BYTE);
    if (p->sasl) {
        ev->type = MC_IMAP_CMD_SASL;
        ev->secret = ev->text;
        /* RFC 3501 s6.2.2: base64, or "*" to cancel */
        if (l->kept == 1 && l->buf[0] == '*') {
            ev->cancel = true;
        } else if (!mc_base64_valid_prefix(l->buf, l->kept, ev->truncated, &bad)) {
            mc_anoms_add(&ev->anoms, MC_ANOM_IMAP_CMD_SASL_BAD_BASE64, l->start + bad);
            ev->syntax_ok = false;
        }
        return;
    }
    /* RFC 2177 s3: "DONE" ends IDLE; servers end it at any line */
    ev->type = MC_IMAP_CMD_DONE;
    p->idle = false;
    if (l->total != 4 || !mc_ascii_ieq(l->buf, "DONE", 4)) {
        mc_anoms_add(&ev->anoms, MC_ANOM_IMAP_CMD_IDLE_NOT_DONE, l->start);
        ev->syntax_ok = false;
    }
}

/* A line is complete. Returns true with an event, false if the command
 * goes on with a non-synchronizing literal. */
MC_NOINLINE static bool on_line(struct mc_imap_cmd *p, struct mc_imap_cmd_ev *ev)
{
    if (!p->in_cmd && (p->sasl || p->idle)) {
        sasl_line(p, ev);
        p->tail_len = 0;
        return true;
    }
    if (!p->in_cmd)
        cmd_begin(p);
    add_segment(p);
    if (literal_spec(p)) {
        p->tail_len = 0;
        start_literal(p);
        if (!p->lit.sync)
            return false;
        memset(ev, 0, sizeof(*ev));
        ev->type = MC_IMAP_CMD_LITERAL_WAIT;
        ev->lit = p->lit;
        return true;
    }
    p->tail_len = 0;
    build_command(p, ev, END_LINE);
    return true;
}

/* Literal data: one fragment of what is in buf. */
MC_NOINLINE static void literal_data(struct mc_imap_cmd *p, const uint8_t *buf, size_t len,
                                     size_t *used, struct mc_imap_cmd_ev *ev)
{
    size_t n = p->lit_left < len ? (size_t)p->lit_left : len;
    memset(ev, 0, sizeof(*ev));
    ev->type = MC_IMAP_CMD_LITERAL;
    ev->lit = p->lit;
    ev->data.ptr = buf;
    ev->data.len = n;
    ev->data.off = p->pos;
    ev->early = p->lit.sync && !p->go;
    if (ev->early && !p->early_said) {
        p->early_said = true;
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_CMD_LITERAL_EARLY, p->pos);
    }
    p->lit_left -= n;
    p->lit_used += n;
    p->pos += n;
    ev->remaining = p->lit_left;
    *used = n;
    if (p->lit_left == 0)
        end_literal(p);
}

static enum mc_imap_verb lookup(const uint8_t *s, size_t n);

/* After a gap, a line is taken for the start of a command only when it
 * looks like one: a tag, SP and a command name this parser knows (after
 * "UID " too). What a gap leaves behind is most often the rest of an
 * APPEND literal (message text), which must not be judged as commands. */
static bool plausible_command(const uint8_t *s, size_t n)
{
    size_t i = 0, st;
    while (i < n && astring_char(s[i]) && s[i] != '+')
        i++;
    if (i == 0 || i >= n || s[i] != ' ')
        return false;
    st = ++i;
    i = mc_skip_to_sp(s, i, n);
    if (i - st == 3 && mc_ascii_ieq(s + st, "UID", 3)) {
        st = ++i;
        i = mc_skip_to_sp(s, i, n);
    }
    return i > st && lookup(s + st, i - st) != MC_IMAP_UNKNOWN;
}

/* The loop of mc_imap_cmd_feed() from octet i of buf on; have_line: the
 * line layer has just completed a line there (the caller fed it). */
MC_NOINLINE static int feed_from(struct mc_imap_cmd *p, const uint8_t *buf, size_t len, size_t i,
                                 bool have_line, size_t *used_out, struct mc_imap_cmd_ev *ev)
{
    for (;;) {
        size_t used = 0;
        if (!have_line) {
            if (p->mode == M_LIT) {
                if (i == len)
                    break;
                if (p->lit_left == 0) {
                    /* {0} not waited for: the line went on before the "+" */
                    p->early_said = true;
                    mc_anoms_add(&p->anoms, MC_ANOM_IMAP_CMD_LITERAL_EARLY, p->pos);
                    end_literal(p);
                    continue;
                }
                literal_data(p, buf + i, len - i, &used, ev);
                *used_out = i + used;
                return MC_EVENT;
            }
            if (mc_line_feed(&p->line, buf + i, len - i, &used) != MC_EVENT) {
                tail_add(p, buf + i, used);
                p->pos = p->line.pos;
                break;
            }
            tail_add(p, buf + i, used);
            p->pos = p->line.pos;
            i += used;
        }
        have_line = false;
        if (p->after_gap && !p->in_cmd && !p->sasl && !p->idle) {
            if (!plausible_command(p->line.buf, p->line.kept)) {
                p->tail_len = 0;
                continue;   /* not judged: what the gap left of something */
            }
            p->after_gap = false;
        }
        if (on_line(p, ev)) {
            *used_out = i;
            return MC_EVENT;
        }
    }
    *used_out = len;
    return MC_NEED_MORE;
}

/* The usual call, octets inside a command line (one at a time in the fuzz
 * targets' cut runs), takes no loop; feed_from() does the rest, out of line
 * (see MC_NOINLINE). */
int mc_imap_cmd_feed(struct mc_imap_cmd *p, const uint8_t *buf, size_t len, size_t *used_out,
                     struct mc_imap_cmd_ev *ev)
{
    *used_out = 0;
    if (p->refused_pending) {
        p->refused_pending = false;
        build_command(p, ev, END_REFUSED);
        return MC_EVENT;
    }
    if (len > 0)
        p->finished = false;
    if (p->mode != M_LIT) {
        size_t used = 0;
        int r = mc_line_feed(&p->line, buf, len, &used);
        tail_add(p, buf, used);
        p->pos = p->line.pos;
        if (r != MC_EVENT) {
            *used_out = len;
            return MC_NEED_MORE;
        }
        return feed_from(p, buf, len, used, true, used_out, ev);
    }
    return feed_from(p, buf, len, 0, false, used_out, ev);
}

void mc_imap_cmd_gap(struct mc_imap_cmd *p, uint64_t n)
{
    uint64_t rest = n;
    p->pos += n;
    p->tail_len = 0;
    if (p->mode == M_LIT) {
        if (n < p->lit_left) {   /* the command goes on after the literal */
            p->lit_left -= n;
            p->lit_used += n;
            return;
        }
        rest = n - p->lit_left;
        p->lit_used += p->lit_left;
        p->lit_left = 0;
        end_literal(p);
        if (rest == 0)
            return;
    }
    /* A line was hit: nothing of it, nor of the command it belongs to, can
     * be judged; the line layer skips to the next LF. */
    p->in_cmd = false;
    p->after_gap = true;
    mc_line_gap(&p->line, rest);
}

int mc_imap_cmd_finish(struct mc_imap_cmd *p, struct mc_imap_cmd_ev *ev)
{
    if (p->refused_pending) {
        p->refused_pending = false;
        build_command(p, ev, END_REFUSED);
        return MC_EVENT;
    }
    if (p->finished)
        return MC_NEED_MORE;
    if (p->mode == M_LIT) {
        /* inside a literal, or before the line after it began */
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_CMD_UNTERMINATED, p->pos);
        p->mode = M_LINE;
        build_command(p, ev, END_EOF);
        p->finished = true;
        return MC_EVENT;
    }
    p->finished = true;
    if (mc_line_finish(&p->line) == MC_EVENT) {
        p->tail_len = 0;
        if (!p->in_cmd && (p->sasl || p->idle)) {
            sasl_line(p, ev);
            return MC_EVENT;
        }
        if (!p->in_cmd)
            cmd_begin(p);
        add_segment(p);
        build_command(p, ev, END_LINE);
        return MC_EVENT;
    }
    if (p->in_cmd) {   /* after a literal's data, before any octet of the line */
        mc_anoms_add(&p->anoms, MC_ANOM_IMAP_CMD_UNTERMINATED, p->pos);
        build_command(p, ev, END_EOF);
        return MC_EVENT;
    }
    return MC_NEED_MORE;
}

/* ---- argument grammar ---------------------------------------------------
 *
 * Judged at the end of the command on the kept text, in which each literal
 * shows as its "{n}" and is followed by the next segment. Each function
 * consumes one production at g->i and returns true, or reports the first
 * deviation (one per command: what follows it cannot be read reliably) and
 * returns false.
 */

struct gram {
    const struct mc_imap_cmd *p;
    struct mc_imap_cmd_ev *ev;
    const uint8_t *s;
    size_t n, i;
    bool said8;     /* QUOTED_8BIT was reported */
};

static uint64_t abs_off(const struct mc_imap_cmd *p, size_t i)
{
    unsigned k = p->nseg;
    while (k > 1 && p->seg[k - 1].at > i)
        k--;
    return p->seg[k - 1].off + (i - p->seg[k - 1].at);
}

/* A literal's "}" must end its segment (the data follows its CRLF). */
static bool seg_boundary(const struct mc_imap_cmd *p, size_t i)
{
    for (unsigned k = 1; k < p->nseg; k++)
        if (p->seg[k].at == i)
            return true;
    return false;
}

static bool fail(struct gram *g, enum mc_anom a, size_t at)
{
    mc_anoms_add(&g->ev->anoms, a, abs_off(g->p, at));
    g->ev->syntax_ok = false;
    return false;
}

static int peek(const struct gram *g)
{
    return g->i < g->n ? g->s[g->i] : -1;
}

static bool at_end(const struct gram *g)
{
    return g->i >= g->n;
}

static bool sp(struct gram *g)
{
    if (peek(g) != ' ')
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
    g->i++;
    return true;
}

static bool ch(struct gram *g, char c)
{
    if (peek(g) != c)
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
    g->i++;
    return true;
}

static size_t run(const struct gram *g, size_t from, bool (*cls)(uint8_t))
{
    size_t j = from;
    while (j < g->n && cls(g->s[j]))
        j++;
    return j - from;
}

/* The next n octets equal word (upper case), ignoring case, and no atom
 * character follows. */
static bool word_at(const struct gram *g, const char *word)
{
    size_t n = strlen(word);
    return g->n - g->i >= n && mc_ascii_ieq(g->s + g->i, word, n) &&
           (g->i + n == g->n || !atom_char(g->s[g->i + n]));
}

static bool take_word(struct gram *g, const char *word)
{
    if (!word_at(g, word))
        return false;
    g->i += strlen(word);
    return true;
}

/* literal / literal8: "{" number64 ["+"] "}" at the end of a segment */
static bool literal(struct gram *g, bool allow8)
{
    size_t st = g->i, j = g->i;
    if (allow8 && peek(g) == '~')
        j++;
    if (j >= g->n || g->s[j] != '{')
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, st);
    j++;
    while (j < g->n && digit(g->s[j]))
        j++;
    if (j < g->n && g->s[j] == '+')
        j++;
    if (j >= g->n || g->s[j] != '}' || !seg_boundary(g->p, j + 1))
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, st);
    g->i = j + 1;
    return true;
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE. 8-bit octets are UTF-8, which RFC
 * 9051 s6.3.1 allows once UTF8=ACCEPT is enabled: flagged for the session
 * to judge, not a syntax error. */
static bool quoted(struct gram *g)
{
    size_t j = g->i + 1;
    while (j < g->n && g->s[j] != '"') {
        if (g->s[j] >= 0x80 && !g->said8) {
            g->said8 = true;
            mc_anoms_add(&g->ev->anoms, MC_ANOM_IMAP_CMD_QUOTED_8BIT, abs_off(g->p, j));
        }
        if (g->s[j] == '\\') {
            if (j + 1 >= g->n || (g->s[j + 1] != '"' && g->s[j + 1] != '\\'))
                return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, j);
            j++;
        } else if (g->s[j] == '\r' || g->s[j] == '\n' || g->s[j] == 0) {
            return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, j);
        }
        j++;
    }
    if (j >= g->n)
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
    g->i = j + 1;
    return true;
}

static bool string(struct gram *g)
{
    return peek(g) == '"' ? quoted(g) : literal(g, false);
}

/* the span of the production that starts at from and ends at g->i */
static struct mc_span span_of(const struct gram *g, size_t from)
{
    struct mc_span sp = {g->s + from, g->i - from, abs_off(g->p, from)};
    return sp;
}

static bool char_run(struct gram *g, bool (*cls)(uint8_t))
{
    size_t k = run(g, g->i, cls);
    if (k == 0)
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
    g->i += k;
    return true;
}

static bool astring(struct gram *g)
{
    int c = peek(g);
    if (c == '"' || c == '{')
        return string(g);
    return char_run(g, astring_char);
}

static bool atom(struct gram *g)
{
    return char_run(g, atom_char);
}

static bool nstring(struct gram *g)
{
    if (take_word(g, "NIL"))
        return true;
    return string(g);
}

static bool list_mailbox(struct gram *g)
{
    int c = peek(g);
    if (c == '"' || c == '{')
        return string(g);
    return char_run(g, list_char);
}

/* number = 1*DIGIT (32-bit unsigned); nz-number without a leading 0 */
static bool number(struct gram *g, bool nz, enum mc_anom a)
{
    size_t k = run(g, g->i, digit);
    uint64_t v;
    if (k == 0 || (nz && g->s[g->i] == '0') ||
        !mc_parse_u64(g->s + g->i, k, 0xffffffffu, &v))
        return fail(g, a, g->i);
    g->i += k;
    return true;
}

/* sequence-set, and "$" (RFC 5182) for the whole set */
static bool seqset(struct gram *g)
{
    if (peek(g) == '$') {
        g->i++;
        return true;
    }
    for (;;) {
        for (int half = 0; half < 2; half++) {
            if (peek(g) == '*')
                g->i++;
            else if (!number(g, true, MC_ANOM_IMAP_CMD_SEQSET_SYNTAX))
                return false;
            if (half == 1 || peek(g) != ':')
                break;
            g->i++;
        }
        if (peek(g) != ',')
            break;
        g->i++;
    }
    /* a set ends at SP, ")" or the end of the command */
    if (!at_end(g) && peek(g) != ' ' && peek(g) != ')')
        return fail(g, MC_ANOM_IMAP_CMD_SEQSET_SYNTAX, g->i);
    return true;
}

static bool month(const uint8_t *s)
{
    static const char *const m[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    for (size_t k = 0; k < 12; k++)
        if (mc_ascii_ieq(s, m[k], 3))
            return true;
    return false;
}

static bool digits_at(const uint8_t *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!digit(s[k]))
            return false;
    return true;
}

/* date-text = date-day "-" date-month "-" date-year; date-day = 1*2DIGIT.
 * fixed: date-day-fixed = (SP DIGIT) / 2DIGIT. Returns the length, 0 if
 * not one. */
static size_t date_text(const uint8_t *s, size_t n, bool fixed)
{
    size_t d;
    if (fixed)
        d = n >= 2 && (s[0] == ' ' || digit(s[0])) && digit(s[1]) ? 2 : 0;
    else
        d = n >= 1 && digit(s[0]) ? (n >= 2 && digit(s[1]) ? 2 : 1) : 0;
    if (d == 0 || n < d + 9 || s[d] != '-' || !month(s + d + 1) || s[d + 4] != '-' ||
        !digits_at(s + d + 5, 4))
        return 0;
    return d + 9;
}

static bool date(struct gram *g)
{
    bool q = peek(g) == '"';
    size_t at = g->i + q, k = date_text(g->s + at, g->n - at, false);
    if (k == 0 || (q && (at + k >= g->n || g->s[at + k] != '"')))
        return fail(g, MC_ANOM_IMAP_CMD_DATE_SYNTAX, g->i);
    g->i = at + k + q;
    if (!at_end(g) && peek(g) != ' ' && peek(g) != ')')
        return fail(g, MC_ANOM_IMAP_CMD_DATE_SYNTAX, g->i);
    return true;
}

/* DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
static bool date_time(struct gram *g)
{
    const uint8_t *s = g->s + g->i + 1;
    size_t n = g->n - g->i - 1, k = date_text(s, n, true);
    /* time = 2DIGIT ":" 2DIGIT ":" 2DIGIT; zone = ("+" / "-") 4DIGIT */
    if (k == 0 || n < k + 16 || s[k] != ' ' || !digits_at(s + k + 1, 2) || s[k + 3] != ':' ||
        !digits_at(s + k + 4, 2) || s[k + 6] != ':' || !digits_at(s + k + 7, 2) ||
        s[k + 9] != ' ' || (s[k + 10] != '+' && s[k + 10] != '-') || !digits_at(s + k + 11, 4) ||
        s[k + 15] != '"')
        return fail(g, MC_ANOM_IMAP_CMD_DATE_SYNTAX, g->i);
    g->i += 1 + k + 16;
    return true;
}

/* flag = "\" atom / keyword (flag-extension covers the system flags) */
static bool flag(struct gram *g)
{
    if (peek(g) == '\\')
        g->i++;
    return atom(g);
}

/* Parenthesised lists: item *(SP item) ")" after the "(" */
static bool list_rest(struct gram *g, bool (*item)(struct gram *))
{
    for (;;) {
        if (!item(g))
            return false;
        if (peek(g) == ')') {
            g->i++;
            return true;
        }
        if (!sp(g))
            return false;
    }
}

/* "(" [item *(SP item)] ")" */
static bool paren_list(struct gram *g, bool (*item)(struct gram *))
{
    if (!ch(g, '('))
        return false;
    if (peek(g) == ')') {
        g->i++;
        return true;
    }
    return list_rest(g, item);
}

/* "(" item *(SP item) ")" */
static bool paren_list1(struct gram *g, bool (*item)(struct gram *))
{
    return ch(g, '(') && list_rest(g, item);
}

/* "(" [flag *(SP flag)] ")" */
static bool flag_list(struct gram *g)
{
    return paren_list(g, flag);
}

/* ---- per-command grammars ---- */

/* mailbox = "INBOX" / astring; INBOX in any case names the inbox (RFC 3501
 * s5.1). The first mailbox argument goes into the event. */
static bool mailbox(struct gram *g)
{
    size_t from = g->i;
    struct mc_span m;
    if (!astring(g))
        return false;
    if (g->ev->mailbox.ptr)
        return true;
    m = span_of(g, from);
    g->ev->mailbox = m;
    g->ev->inbox = (m.len == 5 && mc_ascii_ieq(m.ptr, "INBOX", 5)) ||
                   (m.len == 7 && m.ptr[0] == '"' && mc_ascii_ieq(m.ptr + 1, "INBOX", 5));
    return true;
}

static bool args_auth(struct gram *g)
{
    size_t from;
    if (!sp(g) || !atom(g))
        return false;
    if (at_end(g))
        return true;
    if (!sp(g))
        return false;
    /* RFC 4959: initial response = base64 / "=" */
    from = g->i;
    g->i = g->n;
    g->ev->secret = span_of(g, from);
    if (g->n - from == 1 && g->s[from] == '=')
        return true;
    {
        size_t bad = 0;
        if (g->n == from || !mc_base64_valid(g->s + from, g->n - from, &bad))
            return fail(g, MC_ANOM_IMAP_CMD_SASL_BAD_BASE64, from + bad);
    }
    return true;
}

static bool args_login(struct gram *g)
{
    size_t from;
    if (!sp(g) || !astring(g) || !sp(g))
        return false;
    from = g->i;
    if (!astring(g))
        return false;
    /* a literal password streams as LITERAL events flagged secret */
    if (g->s[from] != '{')
        g->ev->secret = span_of(g, from);
    return true;
}

static bool status_att(struct gram *g)
{
    static const char *const att[] = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
                                      "DELETED", "SIZE", "HIGHESTMODSEQ", "APPENDLIMIT",
                                      "MAILBOXID", NULL};
    for (const char *const *a = att; *a; a++)
        if (take_word(g, *a))
            return true;
    return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
}

/* "(" status-att *(SP status-att) ")" */
static bool status_atts(struct gram *g)
{
    return paren_list1(g, status_att);
}

static bool args_status(struct gram *g)
{
    return sp(g) && mailbox(g) && sp(g) && status_atts(g);
}

/* return-option = "SUBSCRIBED" / "CHILDREN" / "STATUS" SP "(" status-att
 * *(SP status-att) ")" / option-extension (RFC 9051 s9, RFC 5258) */
static bool return_option(struct gram *g)
{
    if (take_word(g, "STATUS"))
        return sp(g) && status_atts(g);
    return atom(g);
}

/* list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
 *        [SP list-return-opts]                       ; RFC 9051, RFC 5258
 * mbox-or-pat = list-mailbox / "(" list-mailbox *(SP list-mailbox) ")" */
static bool args_list(struct gram *g, bool extended)
{
    if (!sp(g))
        return false;
    if (extended && peek(g) == '(' && (!paren_list(g, atom) || !sp(g)))
        return false;
    if (!astring(g) || !sp(g))
        return false;
    if (extended && peek(g) == '(') {
        /* patterns need one list-mailbox at least */
        if (g->i + 1 < g->n && g->s[g->i + 1] == ')')
            return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i + 1);
        if (!paren_list(g, list_mailbox))
            return false;
    } else if (!list_mailbox(g)) {
        return false;
    }
    if (extended && peek(g) == ' ') {
        g->i++;
        if (!take_word(g, "RETURN"))
            return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
        return sp(g) && paren_list(g, return_option);
    }
    return true;
}

static bool args_append(struct gram *g)
{
    if (!sp(g) || !mailbox(g) || !sp(g))
        return false;
    if (peek(g) == '(' && (!flag_list(g) || !sp(g)))
        return false;
    if (peek(g) == '"' && (!date_time(g) || !sp(g)))
        return false;
    if (!literal(g, true))
        return false;
    return true;
}

static bool args_enable(struct gram *g)
{
    do {
        if (!sp(g) || !atom(g))
            return false;
    } while (!at_end(g));
    return true;
}

/* string SP nstring: one key and its value */
static bool id_param(struct gram *g)
{
    return string(g) && sp(g) && nstring(g);
}

/* id-params-list = "(" #(string SP nstring) ")" / nil */
static bool args_id(struct gram *g)
{
    if (!sp(g))
        return false;
    if (take_word(g, "NIL"))
        return true;
    return paren_list(g, id_param);
}

/* tagged-ext-comp = astring / tagged-ext-comp *(SP tagged-ext-comp) /
 *                   "(" tagged-ext-comp ")"             ; RFC 4466 s2.1
 * Parentheses of one kind only: a depth count is the whole stack. */
static bool ext_comp(struct gram *g)
{
    unsigned depth = 0;
    for (;;) {
        while (peek(g) == '(') {
            if (++depth > MC_IMAP_CMD_NEST_MAX)
                return fail(g, MC_ANOM_IMAP_CMD_NEST_TOO_DEEP, g->i);
            g->i++;
        }
        if (!astring(g))
            return false;
        while (depth > 0 && peek(g) == ')') {
            depth--;
            g->i++;
        }
        if (depth == 0 && peek(g) != ' ')
            return true;
        if (!sp(g))
            return false;
    }
}

/* tagged-ext-val = tagged-ext-simple / "(" [tagged-ext-comp] ")" */
static bool ext_val(struct gram *g)
{
    if (peek(g) != '(')
        return seqset(g);   /* sequence-set / number / number64 */
    g->i++;
    if (peek(g) != ')' && !ext_comp(g))
        return false;
    return ch(g, ')');
}

/* One RFC 4466 parameter: name [SP value]. A name starts with ALPHA, "-",
 * "_" or ".", so a value (a number, a set or a list) is told apart. */
static bool ext_param(struct gram *g)
{
    int c;
    if (!atom(g))
        return false;
    if (peek(g) != ' ' || g->i + 1 >= g->n)
        return true;
    c = g->s[g->i + 1];
    if (c == '(' || c == '*' || c == '$' || digit((uint8_t)c)) {
        g->i++;
        return ext_val(g);
    }
    return true;
}

/* SP "(" param *(SP param) ")": SELECT/EXAMINE parameters (RFC 7162
 * CONDSTORE, QRESYNC), FETCH and STORE modifiers (CHANGEDSINCE,
 * UNCHANGEDSINCE) */
static bool ext_params(struct gram *g)
{
    if (!sp(g) || !ch(g, '('))
        return false;
    for (;;) {
        if (!ext_param(g))
            return false;
        if (peek(g) == ')') {
            g->i++;
            return true;
        }
        if (!sp(g))
            return false;
    }
}

static bool args_select(struct gram *g)
{
    if (!sp(g) || !mailbox(g))
        return false;
    return at_end(g) || ext_params(g);
}

static bool args_store(struct gram *g)
{
    if (!sp(g) || !seqset(g))
        return false;
    if (g->i + 1 < g->n && g->s[g->i + 1] == '(' && !ext_params(g))
        return false;
    if (!sp(g))
        return false;
    if (peek(g) == '+' || peek(g) == '-')
        g->i++;
    if (!take_word(g, "FLAGS") && !take_word(g, "FLAGS.SILENT"))
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
    if (!sp(g))
        return false;
    if (peek(g) == '(')
        return flag_list(g);
    for (;;) {
        if (!flag(g))
            return false;
        if (at_end(g))
            return true;
        if (!sp(g))
            return false;
    }
}

/* ---- SEARCH ---- */

enum skey { S_NONE, S_ASTRING, S_DATE, S_ATOM, S_HEADER, S_NUMBER, S_SEQ, S_NOT, S_OR };

static const struct {
    const char *name;
    uint8_t arg;
} skeys[] = {
    {"ALL", S_NONE},          {"ANSWERED", S_NONE},      {"BCC", S_ASTRING},
    {"BEFORE", S_DATE},       {"BODY", S_ASTRING},       {"CC", S_ASTRING},
    {"DELETED", S_NONE},      {"FLAGGED", S_NONE},       {"FROM", S_ASTRING},
    {"KEYWORD", S_ATOM},      {"NEW", S_NONE},           {"OLD", S_NONE},
    {"ON", S_DATE},           {"RECENT", S_NONE},        {"SEEN", S_NONE},
    {"SINCE", S_DATE},        {"SUBJECT", S_ASTRING},    {"TEXT", S_ASTRING},
    {"TO", S_ASTRING},        {"UNANSWERED", S_NONE},    {"UNDELETED", S_NONE},
    {"UNFLAGGED", S_NONE},    {"UNKEYWORD", S_ATOM},     {"UNSEEN", S_NONE},
    {"DRAFT", S_NONE},        {"HEADER", S_HEADER},      {"LARGER", S_NUMBER},
    {"NOT", S_NOT},           {"OR", S_OR},              {"SENTBEFORE", S_DATE},
    {"SENTON", S_DATE},       {"SENTSINCE", S_DATE},     {"SMALLER", S_NUMBER},
    {"UID", S_SEQ},           {"UNDRAFT", S_NONE},
};

/* One key that is not "(": consumes it with its arguments; *pending is
 * the number of keys that must follow (NOT 1, OR 2). */
static bool search_key(struct gram *g, unsigned *pending)
{
    int c = peek(g);
    *pending = 0;
    if (c == '*' || c == '$' || (c >= '0' && c <= '9'))
        return seqset(g);
    for (size_t k = 0; k < sizeof(skeys) / sizeof(skeys[0]); k++) {
        if (!take_word(g, skeys[k].name))
            continue;
        switch (skeys[k].arg) {
        case S_NONE:
            return true;
        case S_ASTRING:
            return sp(g) && astring(g);
        case S_DATE:
            return sp(g) && date(g);
        case S_ATOM:
            return sp(g) && atom(g);
        case S_HEADER:
            return sp(g) && astring(g) && sp(g) && astring(g);
        case S_NUMBER:
            return sp(g) && number(g, false, MC_ANOM_IMAP_CMD_ARG_SYNTAX);
        case S_SEQ:
            return sp(g) && seqset(g);
        default:   /* S_NOT, S_OR */
            *pending = skeys[k].arg == S_NOT ? 1 : 2;
            return sp(g);
        }
    }
    return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
}

#define FRAME_PAREN 0xff

/* 1*(SP search-key), nested with an explicit stack: each frame is an open
 * "(" or the number of keys a NOT or OR still needs. */
static bool search_keys(struct gram *g)
{
    uint8_t stack[MC_IMAP_CMD_NEST_MAX];
    unsigned depth = 0;
    for (;;) {
        unsigned pending = 0;
        bool paren = peek(g) == '(';
        if (!paren && !search_key(g, &pending))
            return false;
        if (paren || pending) {
            if (depth == MC_IMAP_CMD_NEST_MAX)
                return fail(g, MC_ANOM_IMAP_CMD_NEST_TOO_DEEP, g->i);
            if (paren)
                g->i++;
            stack[depth++] = paren ? FRAME_PAREN : (uint8_t)pending;
            continue;
        }
        /* a key is complete: close what it completes */
        for (;;) {
            if (depth == 0) {
                if (at_end(g))
                    return true;
                if (!sp(g))
                    return false;
                break;
            }
            if (stack[depth - 1] == FRAME_PAREN) {
                if (peek(g) == ')') {
                    g->i++;
                    depth--;
                    continue;
                }
                if (!sp(g))
                    return false;
                break;
            }
            if (--stack[depth - 1] > 0) {
                if (!sp(g))
                    return false;
                break;
            }
            depth--;
        }
    }
}

static bool args_search(struct gram *g)
{
    if (!sp(g))
        return false;
    /* search-return-opts = SP "RETURN" SP "(" [search-return-opt
     * *(SP search-return-opt)] ")"  (RFC 9051, RFC 4731) */
    if (take_word(g, "RETURN") && (!sp(g) || !paren_list(g, atom) || !sp(g)))
        return false;
    if (take_word(g, "CHARSET") && (!sp(g) || !astring(g) || !sp(g)))
        return false;
    return search_keys(g);
}

/* ---- FETCH ---- */

static bool upper_or_dot(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || digit(c);
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")" */
static bool header_list(struct gram *g)
{
    return paren_list1(g, astring);
}

/* section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list /
 * "TEXT"; section-text adds "MIME" (after a part only) */
static bool section_text(struct gram *g, bool part)
{
    if (take_word(g, "HEADER.FIELDS") || take_word(g, "HEADER.FIELDS.NOT"))
        return sp(g) && header_list(g);
    if (take_word(g, "HEADER") || take_word(g, "TEXT") || (part && take_word(g, "MIME")))
        return true;
    return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
}

/* section = "[" [section-spec] "]"; binary: "[" [section-part] "]" */
static bool section(struct gram *g, bool binary)
{
    if (!ch(g, '['))
        return false;
    if (peek(g) == ']') {
        g->i++;
        return true;
    }
    if (digit((uint8_t)peek(g))) {
        /* section-part = nz-number *("." nz-number) */
        for (;;) {
            if (!number(g, true, MC_ANOM_IMAP_CMD_ARG_SYNTAX))
                return false;
            if (peek(g) != '.')
                break;
            g->i++;
            if (!binary && !digit((uint8_t)peek(g))) {
                if (!section_text(g, true))
                    return false;
                break;
            }
        }
    } else if (binary || !section_text(g, false)) {
        return binary ? fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i) : false;
    }
    return ch(g, ']');
}

/* partial = "<" number "." nz-number ">" */
static bool partial(struct gram *g)
{
    if (peek(g) != '<')
        return true;
    g->i++;
    return number(g, false, MC_ANOM_IMAP_CMD_ARG_SYNTAX) && ch(g, '.') &&
           number(g, true, MC_ANOM_IMAP_CMD_ARG_SYNTAX) && ch(g, '>');
}

static bool fetch_att(struct gram *g)
{
    static const char *const plain[] = {"ENVELOPE", "FLAGS", "INTERNALDATE", "RFC822.HEADER",
                                        "RFC822.SIZE", "RFC822.TEXT", "RFC822", "BODYSTRUCTURE",
                                        "UID", "MODSEQ", "EMAILID", "THREADID", NULL};
    size_t k = run(g, g->i, upper_or_dot);
    struct gram w = *g;
    w.n = g->i + k;   /* the name alone: "BODY" in "BODY[" */
    for (const char *const *a = plain; *a; a++)
        if (take_word(&w, *a) && w.i == w.n) {
            g->i = w.i;
            return true;
        }
    if (take_word(&w, "BODY") && w.i == w.n) {
        g->i = w.i;
        return peek(g) != '[' || (section(g, false) && partial(g));
    }
    if (take_word(&w, "BODY.PEEK") && w.i == w.n) {
        g->i = w.i;
        return section(g, false) && partial(g);
    }
    if ((take_word(&w, "BINARY") || take_word(&w, "BINARY.PEEK")) && w.i == w.n) {
        g->i = w.i;
        return section(g, true) && partial(g);
    }
    if (take_word(&w, "BINARY.SIZE") && w.i == w.n) {
        g->i = w.i;
        return section(g, true);
    }
    return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i);
}

static bool fetch_items(struct gram *g)
{
    if (take_word(g, "ALL") || take_word(g, "FULL") || take_word(g, "FAST"))
        return true;
    if (peek(g) != '(')
        return fetch_att(g);
    if (g->i + 1 < g->n && g->s[g->i + 1] == ')')   /* one fetch-att at least */
        return fail(g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g->i + 1);
    return paren_list(g, fetch_att);
}

/* fetch [fetch-modifiers] (RFC 4466 s2.4) */
static bool args_fetch(struct gram *g)
{
    if (!sp(g) || !seqset(g) || !sp(g) || !fetch_items(g))
        return false;
    return at_end(g) || ext_params(g);
}

static bool args(struct gram *g, enum argkind k, bool uid)
{
    switch (k) {
    case K_NONE:
        return true;
    case K_ANY:
        g->i = g->n;
        return true;
    case K_ID:
        return args_id(g);
    case K_AUTH:
        return args_auth(g);
    case K_LOGIN:
        return args_login(g);
    case K_MAILBOX:
        return sp(g) && mailbox(g);
    case K_SELECT:
        return args_select(g);
    case K_RENAME:
        return sp(g) && mailbox(g) && sp(g) && astring(g);
    case K_LIST:
        return args_list(g, true);
    case K_LSUB:
        return args_list(g, false);
    case K_STATUS:
        return args_status(g);
    case K_APPEND:
        return args_append(g);
    case K_ENABLE:
        return args_enable(g);
    case K_EXPUNGE:   /* UID EXPUNGE sequence-set (RFC 4315) */
        return !uid || (sp(g) && seqset(g));
    case K_SEARCH:
        return args_search(g);
    case K_FETCH:
        return args_fetch(g);
    case K_STORE:
        return args_store(g);
    case K_COPY:
        return sp(g) && seqset(g) && sp(g) && mailbox(g);
    }
    return true;
}

static enum mc_imap_verb lookup(const uint8_t *s, size_t n)
{
    for (unsigned v = 1; v < MC_IMAP_VERB_COUNT; v++)
        if (name_lens[v] == n && mc_ascii_ieq(s, info[v].name, n))
            return (enum mc_imap_verb)v;
    return MC_IMAP_UNKNOWN;
}

static bool tag_char(uint8_t c)
{
    return astring_char(c) && c != '+';
}

/* tag SP [ "UID" SP ] name: the name's end, or false */
static bool head(struct gram *g)
{
    struct mc_imap_cmd_ev *ev = g->ev;
    size_t k = run(g, 0, tag_char);
    ev->tag = span_of(g, 0);
    ev->tag.len = k;
    if (g->n == 0)
        return fail(g, MC_ANOM_IMAP_CMD_EMPTY, 0);
    g->i = k;
    if (k == 0 || peek(g) != ' ')
        return fail(g, MC_ANOM_IMAP_CMD_TAG_SYNTAX, k);
    g->i++;
    if (take_word(g, "UID") && peek(g) == ' ') {
        ev->uid = true;
        g->i++;
    }
    k = run(g, g->i, atom_char);
    ev->name = span_of(g, g->i);
    ev->name.len = k;
    if (k == 0 || (g->i + k < g->n && g->s[g->i + k] != ' '))
        return fail(g, MC_ANOM_IMAP_CMD_NAME_SYNTAX, g->i + k);
    ev->verb = lookup(g->s + g->i, k);
    g->i += k;
    if (ev->uid && !info[ev->verb].uid_ok)
        return fail(g, MC_ANOM_IMAP_CMD_UID_VERB, g->i - k);
    return true;
}

static void judge(struct mc_imap_cmd *p, struct mc_imap_cmd_ev *ev)
{
    struct gram g = {p, ev, p->text, p->text_len, 0, false};
    ev->syntax_ok = !mc_anoms_has(&ev->anoms, MC_ANOM_NUL_BYTE);
    if (p->nseg == 0)   /* not even the first segment was kept */
        return;
    if (!head(&g) || ev->truncated || ev->refused || ev->unterminated)
        return;
    if (args(&g, (enum argkind)kinds[ev->verb], ev->uid) && !at_end(&g))
        fail(&g, MC_ANOM_IMAP_CMD_ARG_SYNTAX, g.i);
}

/* At a literal's announcement: is it LOGIN's password? The text so far is
 * judged up to the "{": tag SP LOGIN SP astring SP. When the text was not
 * kept whole, any literal of a LOGIN may be the password: redacted. */
static bool login_password_next(const struct mc_imap_cmd *p)
{
    struct mc_imap_cmd_ev ev;
    struct gram g = {p, &ev, p->text, p->text_len, 0, false};
    size_t brace;
    if (p->text_len == 0)
        return false;
    memset(&ev, 0, sizeof(ev));
    if (p->cmd_trunc)
        return head(&g) && ev.verb == MC_IMAP_LOGIN;
    brace = p->text_len - 1;
    while (brace > 0 && p->text[brace] != '{')
        brace--;
    g.n = brace;
    if (!head(&g) || ev.verb != MC_IMAP_LOGIN)
        return false;
    return sp(&g) && astring(&g) && sp(&g) && at_end(&g);
}
