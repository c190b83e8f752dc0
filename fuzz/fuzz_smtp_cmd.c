/*
 * fuzz_smtp_cmd: the SMTP client-to-server parser (parsers/smtp/smtp_cmd.c):
 * command lines, SASL responses, and message content after DATA and in
 * BDAT chunks.
 *
 * Input: 5 option bytes, then the client byte stream.
 *   byte 0  bits 0-1  how the second run cuts the stream: 0 = chunks of 1..8
 *                     octets, 1 = 1..64, 2 = one octet at a time, 3 = 1..700
 *           bit 2     insert a gap (mc_smtp_cmd_gap) inside the stream
 *           bit 3     SASL policy on (off: the parser never leaves command mode)
 *           bits 4-7  gap length class (15: 2^40 octets)
 *   byte 1  DATA policy, two bits for the k-th DATA command line (k from 0,
 *           bits 2*(k%4)): 0 = refused, no content follows; 1 and 3 =
 *           mc_smtp_cmd_expect_data() (the server sent 354); 2 =
 *           expect_data() and at once mc_smtp_cmd_abort_data() (the reply
 *           was a refusal after all, before any content octet)
 *   byte 2  SASL mask. Low nibble: after the k-th AUTH command the harness
 *           switches the parser to SASL mode when bit k%4 is set (the
 *           server's 334). High nibble: after the k-th SASL line it switches
 *           back when bit k%4 is set (the final reply); "*" always does.
 *   byte 3  seed for the chunk sizes
 *   byte 4  gap position, as the fraction byte4/255 of the stream
 * Every decision depends on events only, never on where a chunk ends, so
 * the whole and the cut run take the same decisions.
 *
 * Oracles (abort() on failure):
 * - split invariance: whole and cut runs give the same log. LINE and SASL
 *   events are logged in full (type, verb, flags, offsets, lengths, every
 *   span's bytes, path, parameters, chunk size, anomalies). CONTENT events
 *   are logged as their anomaly codes and offsets only (how anomalies of
 *   neighbouring octets group into events, and how far an event consumed,
 *   may depend on the cut); CONTENT_END by its offset, content_octets,
 *   flags and anomalies;
 * - used <= len, NEED_MORE consumes everything, an event consumes >= 1
 *   octet except the pending end of a BDAT chunk (mc_smtp_cmd_has_event(),
 *   fed with len 0); mc_smtp_cmd_offset() is always octets fed + gap octets;
 * - a model of the parser's mode (commands, SASL, DATA, BDAT with the
 *   octets left in the chunk) agrees with mc_smtp_cmd_in_sasl(),
 *   _in_content(), _has_event(), _content_octets(); abort_data() succeeds
 *   right after expect_data() and fails everywhere else;
 * - lines start at or after the previous event; anomalies of a line lie in
 *   [line start, offset]; content anomalies and CONTENT_END lie in
 *   [start of the message's content, offset] (a look-alike may start in an
 *   earlier BDAT chunk);
 * - spans: keyword, argument, path, parameters, host, mechanism and secret
 *   lie inside the event's line, ptr and off in step; the path's parts lie
 *   inside the path; the verb matches the keyword; content events carry no
 *   line;
 * - content_octets: never more than the content octets fed (gaps included)
 *   since the message started; a DATA message's is exactly that minus the
 *   3 octets of "." CRLF; a BDAT chunk end's is at least the chunk size;
 *   content_8bit says whether SMTP_BODY_8BIT was reported for the message;
 * - syntax_ok is false exactly when a grammar anomaly (or NUL) is reported;
 * - every anomaly code is < MC_ANOM_COUNT and maps to an SMTP client rule
 *   (mc_rule_for_anom), except SMTP_PATH_8BIT and SMTP_BODY_8BIT, which the
 *   session judges itself (they depend on SMTPUTF8 / 8BITMIME);
 * - round trip (whole run only: the cut run's lines are the same, by split
 *   invariance): a command line that was kept whole is printed canonically
 *   (see print_canonical()) and parsed by a fresh parser. "Same" means: the
 *   same verb, path (presence, validity, every field of struct mc_smtp_path,
 *   the bytes of the path span), the same kept parameters (keyword, value,
 *   has_val), host, mechanism, initial response, secret, chunk size and
 *   LAST flag, and for lines printed verbatim the same argument bytes. It
 *   does not include syntax_ok or the anomalies: the printer drops what the
 *   parser skipped (spaces around the colon, malformed parameters). A line
 *   without anomalies must reparse without anomalies, and the canonical form
 *   is a fixed point (printing the reparsed line gives the same bytes).
 */
#include "fuzz_common.h"

#include <stdbool.h>

#include "rules/rules.h"
#include "smtp/smtp_cmd.h"

enum mode { M_NONE, M_DATA, M_BDAT };

struct run {
    struct mc_smtp_cmd p;
    struct fz_log log;
    uint8_t opts, data_mask, sasl_mask;
    unsigned data_count, auth_count, sasl_count;
    /* model of the parser */
    bool sasl;
    enum mode mode;
    bool bdat_open;           /* a BDAT message without LAST goes on */
    bool seen8;               /* SMTP_BODY_8BIT reported since the message started */
    uint64_t remaining;       /* BDAT: chunk octets still to come */
    uint64_t chunk_size;
    uint64_t content_fed;     /* content octets fed (and gap octets inside content) */
    uint64_t fed_at_enter;    /* content_fed at expect_data() or the BDAT command */
    uint64_t fed_at_msg;      /* content_fed when the message started */
    uint64_t msg_off;         /* stream offset where the message's content started */
    uint64_t pos;             /* octets fed + gap octets */
    uint64_t floor;           /* offset after the previous event or gap */
};

/* Set during the whole run. The checks that are a function of one event's
 * logged fields alone (the round trip) run in the whole run
 * only: split invariance makes the cut run's events equal to the whole
 * run's field for field, so repeating them there would only repeat the same
 * computation on the same bytes. */
static bool whole_run;

/* The session decides these from the negotiated extensions (SMTPUTF8,
 * 8BITMIME): they map to no client rule of their own. */
FZ_ORACLE
static bool session_judged(unsigned code)
{
    return code == MC_ANOM_SMTP_PATH_8BIT || code == MC_ANOM_SMTP_BODY_8BIT;
}

FZ_ORACLE
static bool span_eq(const struct mc_span *a, const struct mc_span *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

FZ_ORACLE
static uint8_t upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

/* Anomalies that make a command or SASL line invalid (syntax_ok false). */
FZ_ORACLE
static bool hard_anom(unsigned code)
{
    switch (code) {
    case MC_ANOM_NUL_BYTE:
    case MC_ANOM_SMTP_CMD_EMPTY:
    case MC_ANOM_SMTP_VERB_SYNTAX:
    case MC_ANOM_SMTP_ARG_SYNTAX:
    case MC_ANOM_SMTP_DOMAIN_SYNTAX:
    case MC_ANOM_SMTP_PATH_SYNTAX:
    case MC_ANOM_SMTP_PATH_NO_BRACKETS:
    case MC_ANOM_SMTP_PARAM_SYNTAX:
    case MC_ANOM_SMTP_PARAM_VALUE:
    case MC_ANOM_SMTP_PARAM_DUPLICATE:
    case MC_ANOM_SMTP_SASL_BAD_BASE64:
        return true;
    default:
        return false;
    }
}

FZ_ORACLE
static void check_syntax_ok(const struct mc_smtp_cmd_ev *ev)
{
    bool hard = false;
    for (unsigned i = 0; i < ev->anoms.n; i++)
        if (hard_anom(ev->anoms.hit[i].code))
            hard = true;
    if (ev->syntax_ok)
        FZ_CHECK(!hard);
    else
        FZ_CHECK(hard || ev->anoms.dropped > 0);
}

/* ---- round trip ----------------------------------------------------------- */

struct pbuf {
    uint8_t b[MC_LINE_KEEP + 64];
    size_t n;
};

FZ_ORACLE
static void put(struct pbuf *o, const void *p, size_t n)
{
    FZ_CHECK(o->n + n <= sizeof(o->b));
    if (n)
        memcpy(o->b + o->n, p, n);
    o->n += n;
}

FZ_ORACLE
static void put_s(struct pbuf *o, const char *s)
{
    put(o, s, strlen(s));
}

/* How a command line is printed: whole (VERB SP arg), as MAIL/RCPT with a
 * path, or as BDAT with a number. */
enum pform { P_VERBATIM, P_PATH, P_BDAT };

FZ_ORACLE
static enum pform form_of(const struct mc_smtp_cmd_ev *ev)
{
    if ((ev->verb == MC_SMTP_MAIL || ev->verb == MC_SMTP_RCPT) && ev->path_present)
        return P_PATH;
    if (ev->verb == MC_SMTP_BDAT && ev->syntax_ok)
        return P_BDAT;
    return P_VERBATIM;
}

/* The canonical form of a command line, CRLF excluded:
 * - MAIL/RCPT with a path: "MAIL FROM:" / "RCPT TO:", the path span as
 *   parsed, then " KW" or " KW=VALUE" for every parameter kept;
 * - BDAT that parsed: "BDAT " chunk-size in decimal [" LAST"];
 * - everything else: the keyword with a-z upper-cased, then the rest of
 *   the line as it was (SP and the argument). */
FZ_ORACLE
static void print_canonical(const struct mc_smtp_cmd_ev *ev, struct pbuf *o)
{
    o->n = 0;
    switch (form_of(ev)) {
    case P_PATH:
        put_s(o, ev->verb == MC_SMTP_MAIL ? "MAIL FROM:" : "RCPT TO:");
        put(o, ev->path_span.ptr, ev->path_span.len);
        for (unsigned i = 0; i < ev->nparams && i < MC_SMTP_PARAMS_MAX; i++) {
            put_s(o, " ");
            put(o, ev->param[i].kw.ptr, ev->param[i].kw.len);
            if (ev->param[i].has_val) {
                put_s(o, "=");
                put(o, ev->param[i].val.ptr, ev->param[i].val.len);
            }
        }
        return;
    case P_BDAT: {
        char num[32];
        snprintf(num, sizeof(num), "BDAT %llu%s", (unsigned long long)ev->chunk_size,
                 ev->last ? " LAST" : "");
        put_s(o, num);
        return;
    }
    case P_VERBATIM:
        for (size_t i = 0; i < ev->keyword.len; i++) {
            uint8_t c = upper(ev->keyword.ptr[i]);
            put(o, &c, 1);
        }
        /* the rest as is: SP and the argument (unknown verbs have no arg span) */
        if (ev->line.len > ev->keyword.len)
            put(o, ev->line.ptr + ev->keyword.len, ev->line.len - ev->keyword.len);
        return;
    }
}

FZ_ORACLE
static void same_parse(const struct mc_smtp_cmd_ev *a, const struct mc_smtp_cmd_ev *b)
{
    FZ_CHECK(b->type == MC_SMTP_CMD_LINE && a->verb == b->verb);
    FZ_CHECK(a->path_present == b->path_present && a->path_ok == b->path_ok);
    FZ_CHECK(span_eq(&a->path_span, &b->path_span));
    if (a->path_ok) {
        const struct mc_smtp_path *x = &a->path, *y = &b->path;
        FZ_CHECK(x->null_path == y->null_path && x->source_route == y->source_route &&
                 x->eight_bit == y->eight_bit && x->postmaster == y->postmaster);
        FZ_CHECK(x->local_at == y->local_at && x->local_len == y->local_len);
        FZ_CHECK(x->domain_at == y->domain_at && x->domain_len == y->domain_len);
        FZ_CHECK(x->len == y->len);
    }
    FZ_CHECK(a->nparams == b->nparams);
    for (unsigned i = 0; i < a->nparams && i < MC_SMTP_PARAMS_MAX; i++) {
        FZ_CHECK(span_eq(&a->param[i].kw, &b->param[i].kw));
        FZ_CHECK(a->param[i].has_val == b->param[i].has_val);
        FZ_CHECK(span_eq(&a->param[i].val, &b->param[i].val));
    }
    FZ_CHECK(span_eq(&a->host, &b->host) && span_eq(&a->mech, &b->mech));
    FZ_CHECK(a->initial_response == b->initial_response && span_eq(&a->secret, &b->secret));
    FZ_CHECK(a->chunk_size == b->chunk_size && a->last == b->last);
    if (form_of(a) == P_VERBATIM) {
        /* the keyword up to case, then the same octets */
        FZ_CHECK(a->keyword.len == b->keyword.len && a->line.len == b->line.len);
        for (size_t i = 0; i < a->keyword.len; i++)
            FZ_CHECK(upper(a->keyword.ptr[i]) == b->keyword.ptr[i]);
        FZ_CHECK(a->line.len == a->keyword.len ||
                 memcmp(a->line.ptr + a->keyword.len, b->line.ptr + b->keyword.len,
                        a->line.len - a->keyword.len) == 0);
        FZ_CHECK(span_eq(&a->arg, &b->arg));
    }
}

FZ_ORACLE
static void reparse(const struct pbuf *o, struct mc_smtp_cmd *q, struct mc_smtp_cmd_ev *ev)
{
    static uint8_t line[sizeof(((struct pbuf *)0)->b) + 2];
    size_t used = 0;
    memcpy(line, o->b, o->n);
    line[o->n] = '\r';
    line[o->n + 1] = '\n';
    mc_smtp_cmd_init(q);
    FZ_CHECK(mc_smtp_cmd_feed(q, line, o->n + 2, &used, ev) == MC_EVENT);
    FZ_CHECK(used == o->n + 2 && ev->type == MC_SMTP_CMD_LINE && !ev->truncated);
    FZ_CHECK(ev->line_len == o->n);
}

FZ_ORACLE
static void round_trip(const struct mc_smtp_cmd_ev *ev)
{
    static struct mc_smtp_cmd q;
    static struct pbuf o1, o2;
    struct mc_smtp_cmd_ev e1, e2;
    const bool clean = ev->anoms.n == 0 && ev->anoms.dropped == 0;

    if (ev->truncated || ev->nparams > MC_SMTP_PARAMS_MAX)
        return;
    print_canonical(ev, &o1);
    reparse(&o1, &q, &e1);
    same_parse(ev, &e1);
    if (clean)
        FZ_CHECK(e1.anoms.n == 0 && e1.anoms.dropped == 0 && e1.syntax_ok);
    /* the canonical form is a fixed point */
    print_canonical(&e1, &o2);
    FZ_CHECK(o1.n == o2.n && memcmp(o1.b, o2.b, o1.n) == 0);
    reparse(&o2, &q, &e2);
    FZ_CHECK(e2.syntax_ok == e1.syntax_ok && e2.anoms.n == e1.anoms.n);
}

/* ---- per-event checks ------------------------------------------------------ */

FZ_ORACLE
static void check_command(const struct mc_smtp_cmd_ev *ev)
{
    const struct mc_span *line = &ev->line;

    FZ_CHECK((unsigned)ev->verb < MC_SMTP_VERB_COUNT);
    FZ_CHECK(!ev->cancel);
    fz_check_sub(line, &ev->keyword);
    if (ev->line_len > 0) {
        FZ_CHECK(ev->keyword.ptr == line->ptr && ev->keyword.off == line->off);
        FZ_CHECK(memchr(ev->keyword.ptr, ' ', ev->keyword.len) == NULL);
        FZ_CHECK(ev->keyword.len == line->len || line->ptr[ev->keyword.len] == ' ');
    }
    if (ev->line_len == 0)
        FZ_CHECK(mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_CMD_EMPTY) && !ev->syntax_ok);
    if (ev->verb != MC_SMTP_UNKNOWN) {
        const char *name = mc_smtp_verb_name(ev->verb);
        FZ_CHECK(name && strlen(name) == ev->keyword.len);
        for (size_t i = 0; i < ev->keyword.len; i++)
            FZ_CHECK(upper(ev->keyword.ptr[i]) == (uint8_t)name[i]);
    }
    fz_check_sub(line, &ev->arg);
    if (ev->arg.ptr)
        FZ_CHECK(ev->arg.ptr == line->ptr + ev->keyword.len + 1 &&
                 ev->arg.len == line->len - ev->keyword.len - 1);

    fz_check_sub(line, &ev->path_span);
    if (ev->path_ok) {
        const struct mc_smtp_path *pa = &ev->path;
        FZ_CHECK(ev->path_present && pa->len == ev->path_span.len && pa->len >= 2);
        FZ_CHECK(ev->path_span.ptr[0] == '<' && ev->path_span.ptr[pa->len - 1] == '>');
        FZ_CHECK(pa->local_at <= pa->len && pa->local_len <= pa->len - pa->local_at);
        FZ_CHECK(pa->domain_at <= pa->len && pa->domain_len <= pa->len - pa->domain_at);
        if (pa->null_path)
            FZ_CHECK(pa->len == 2 && ev->verb == MC_SMTP_MAIL);
        if (pa->eight_bit)
            FZ_CHECK(mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_PATH_8BIT) || ev->anoms.dropped);
    }
    if (ev->path_present)
        FZ_CHECK(ev->verb == MC_SMTP_MAIL || ev->verb == MC_SMTP_RCPT);
    for (unsigned i = 0; i < ev->nparams && i < MC_SMTP_PARAMS_MAX; i++) {
        const struct mc_smtp_param *pm = &ev->param[i];
        FZ_CHECK(pm->kw.len >= 1);
        fz_check_sub(line, &pm->kw);
        fz_check_sub(line, &pm->val);
        if (!pm->has_val)
            FZ_CHECK(pm->val.len == 0);
        else
            FZ_CHECK(pm->val.ptr == pm->kw.ptr + pm->kw.len + 1 && pm->val.ptr[-1] == '=');
        FZ_CHECK(pm->kw.off > ev->path_span.off);
    }
    if (ev->nparams)
        FZ_CHECK(ev->path_present);
    fz_check_sub(line, &ev->host);
    fz_check_sub(line, &ev->mech);
    fz_check_sub(line, &ev->secret);
    if (ev->host.len)
        FZ_CHECK(ev->verb == MC_SMTP_HELO || ev->verb == MC_SMTP_EHLO);
    if (ev->initial_response || ev->mech.len)
        FZ_CHECK(ev->verb == MC_SMTP_AUTH);
    if (ev->secret.ptr)
        FZ_CHECK(ev->initial_response);
    if (ev->chunk_size || ev->last)
        FZ_CHECK(ev->verb == MC_SMTP_BDAT);
    if (ev->verb == MC_SMTP_BDAT && ev->syntax_ok) {
        uint64_t v = 0;
        size_t dl = 0;
        while (dl < ev->arg.len && ev->arg.ptr[dl] != ' ')
            dl++;
        FZ_CHECK(mc_parse_u64(ev->arg.ptr, dl, UINT64_MAX, &v) && v == ev->chunk_size);
        FZ_CHECK(ev->last == (dl < ev->arg.len));
    }
    FZ_CHECK(ev->content_octets == 0 && !ev->content_8bit && !ev->content_bdat);
    check_syntax_ok(ev);
    if (whole_run)
        round_trip(ev);
}

FZ_ORACLE
static void check_sasl(const struct mc_smtp_cmd_ev *ev)
{
    FZ_CHECK(ev->verb == MC_SMTP_UNKNOWN && ev->keyword.len == 0 && ev->arg.len == 0);
    FZ_CHECK(!ev->path_present && ev->nparams == 0 && ev->host.len == 0);
    FZ_CHECK(ev->secret.ptr == ev->line.ptr && ev->secret.len == ev->line.len &&
             ev->secret.off == ev->line.off);
    FZ_CHECK(ev->cancel == (ev->line.len == 1 && ev->line_len == 1 && ev->line.ptr[0] == '*'));
    check_syntax_ok(ev);
}

FZ_ORACLE
static void check_model(struct run *r)
{
    FZ_CHECK(mc_smtp_cmd_in_sasl(&r->p) == r->sasl);
    FZ_CHECK(mc_smtp_cmd_in_content(&r->p) == (r->mode != M_NONE));
    FZ_CHECK(mc_smtp_cmd_has_event(&r->p) == (r->mode == M_BDAT && r->remaining == 0));
    FZ_CHECK(mc_smtp_cmd_content_octets(&r->p) ==
             (r->mode == M_NONE ? 0 : r->content_fed - r->fed_at_enter));
    FZ_CHECK(mc_smtp_cmd_offset(&r->p) == r->pos);
    if (r->mode != M_NONE)
        FZ_CHECK(!mc_smtp_cmd_partial(&r->p) && !mc_smtp_cmd_resyncing(&r->p));
}

/* A new message starts (the parser's content_reset()). */
FZ_ORACLE
static void new_message(struct run *r)
{
    r->fed_at_msg = r->content_fed;
    r->msg_off = r->pos;
    r->seen8 = false;
}

FZ_ORACLE
static void log_line(struct fz_log *l, const struct mc_smtp_cmd_ev *ev, uint64_t after,
                     bool at_finish)
{
    const struct mc_smtp_path *pa = &ev->path;
    fz_log_u64(l, (uint64_t)ev->type | (uint64_t)ev->verb << 8 |
                      (uint64_t)ev->truncated << 16 | (uint64_t)ev->syntax_ok << 17 |
                      (uint64_t)ev->cancel << 18 | (uint64_t)ev->path_present << 19 |
                      (uint64_t)ev->path_ok << 20 | (uint64_t)ev->initial_response << 21 |
                      (uint64_t)ev->last << 22 | (uint64_t)at_finish << 23);
    fz_log_u64(l, after);
    fz_log_u64(l, ev->line_len);
    fz_log_u64(l, ev->chunk_size);
    fz_log_u64(l, ev->nparams);
    fz_log_span(l, &ev->line);
    fz_log_span(l, &ev->keyword);
    fz_log_span(l, &ev->arg);
    fz_log_span(l, &ev->path_span);
    if (ev->path_ok) {
        fz_log_u64(l, (uint64_t)pa->null_path | (uint64_t)pa->source_route << 1 |
                          (uint64_t)pa->eight_bit << 2 | (uint64_t)pa->postmaster << 3);
        fz_log_u64(l, pa->local_at);
        fz_log_u64(l, pa->local_len);
        fz_log_u64(l, pa->domain_at);
        fz_log_u64(l, pa->domain_len);
        fz_log_u64(l, pa->len);
    }
    for (unsigned i = 0; i < ev->nparams && i < MC_SMTP_PARAMS_MAX; i++) {
        fz_log_u64(l, ev->param[i].has_val);
        fz_log_span(l, &ev->param[i].kw);
        fz_log_span(l, &ev->param[i].val);
    }
    fz_log_span(l, &ev->host);
    fz_log_span(l, &ev->mech);
    fz_log_span(l, &ev->secret);
    fz_log_anoms(l, &ev->anoms);
}

FZ_ORACLE
static void on_event(struct run *r, const struct mc_smtp_cmd_ev *ev, bool at_finish)
{
    const uint64_t after = r->pos;

    FZ_CHECK(ev->type >= MC_SMTP_CMD_LINE && ev->type <= MC_SMTP_CMD_CONTENT_END);
    FZ_CHECK(mc_smtp_cmd_offset(&r->p) == after);

    if (ev->type == MC_SMTP_CMD_LINE || ev->type == MC_SMTP_CMD_SASL) {
        const uint64_t start = ev->line.off;
        FZ_CHECK(r->mode == M_NONE);
        FZ_CHECK(!mc_smtp_cmd_partial(&r->p));
        FZ_CHECK(start >= r->floor);
        FZ_CHECK(start + ev->line_len <= after);
        if (!at_finish)
            FZ_CHECK(start + ev->line_len < after);
        fz_check_anoms(&ev->anoms, start, after, MC_PROTO_SMTP, MC_SIDE_CLIENT, session_judged);
        FZ_CHECK(fz_span_in(ev->line.ptr, ev->line.len, r->p.line.buf, MC_LINE_KEEP));
        FZ_CHECK(ev->line.len <= ev->line_len && ev->line.len <= MC_LINE_KEEP);
        FZ_CHECK(ev->truncated == (ev->line_len > ev->line.len));
        FZ_CHECK(!mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_BODY_UNTERMINATED));
        if (ev->type == MC_SMTP_CMD_LINE) {
            FZ_CHECK(!r->sasl);
            check_command(ev);
        } else {
            FZ_CHECK(r->sasl);
            check_sasl(ev);
        }
        log_line(&r->log, ev, after, at_finish);
    } else {
        /* content: no line, anomalies inside the message fed so far */
        FZ_CHECK(r->mode != M_NONE);
        FZ_CHECK(ev->line.ptr == NULL && ev->line.len == 0 && ev->line_len == 0);
        FZ_CHECK(ev->verb == MC_SMTP_UNKNOWN && ev->keyword.len == 0 && ev->nparams == 0);
        FZ_CHECK(ev->secret.len == 0 && ev->arg.len == 0);
        fz_check_anoms(&ev->anoms, r->msg_off, after, MC_PROTO_SMTP, MC_SIDE_CLIENT,
                       session_judged);
        for (unsigned i = 0; i < ev->anoms.n; i++) {
            unsigned code = ev->anoms.hit[i].code;
            FZ_CHECK(code >= MC_ANOM_SMTP_BODY_BARE_LF && code <= MC_ANOM_SMTP_BODY_UNTERMINATED);
            if (code == MC_ANOM_SMTP_BODY_8BIT) {
                FZ_CHECK(!r->seen8);
                r->seen8 = true;
            }
            /* dot rules apply to DATA only: BDAT content is not stuffed */
            if (code == MC_ANOM_SMTP_BODY_DOT_LOOKALIKE || code == MC_ANOM_SMTP_BODY_UNSTUFFED_DOT)
                FZ_CHECK(r->mode == M_DATA);
        }
        FZ_CHECK(ev->line.off >= r->msg_off && ev->line.off <= after);
    }

    if (ev->type == MC_SMTP_CMD_CONTENT) {
        FZ_CHECK(ev->anoms.n > 0);
        FZ_CHECK(!mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_BODY_UNTERMINATED));
        FZ_CHECK(ev->line.off == ev->anoms.hit[0].off);
        FZ_CHECK(ev->content_octets == 0);
        fz_log_u64(&r->log, 0xc0u);
        for (unsigned i = 0; i < ev->anoms.n; i++) {
            fz_log_u64(&r->log, ev->anoms.hit[i].code);
            fz_log_u64(&r->log, ev->anoms.hit[i].off);
        }
        FZ_CHECK(ev->anoms.dropped == 0);
        /* content has been consumed: too late to refuse the DATA */
        FZ_CHECK(mc_smtp_cmd_content_octets(&r->p) > 0);
    } else if (ev->type == MC_SMTP_CMD_CONTENT_END) {
        const bool unterminated = mc_anoms_has(&ev->anoms, MC_ANOM_SMTP_BODY_UNTERMINATED);
        const uint64_t fed = r->content_fed - r->fed_at_msg;
        FZ_CHECK(unterminated == at_finish);
        FZ_CHECK(ev->content_bdat == (r->mode == M_BDAT));
        FZ_CHECK(ev->content_octets <= fed);
        FZ_CHECK(ev->content_8bit == r->seen8);
        if (r->mode == M_DATA && !unterminated) {
            FZ_CHECK(ev->last);
            FZ_CHECK(ev->content_octets + 3 == r->content_fed - r->fed_at_enter);
            FZ_CHECK(ev->line.off + 3 == after);
        }
        if (r->mode == M_BDAT && !unterminated) {
            FZ_CHECK(r->remaining == 0 && ev->line.off == after);
            FZ_CHECK(ev->last == !r->bdat_open);
            FZ_CHECK(r->content_fed - r->fed_at_enter == r->chunk_size);
            FZ_CHECK(ev->content_octets >= r->chunk_size);
        }
        if (unterminated) {
            FZ_CHECK(!ev->last);
            r->bdat_open = false;
        }
        fz_log_u64(&r->log, 0xe0u | (uint64_t)ev->last << 8 | (uint64_t)ev->content_8bit << 9 |
                                (uint64_t)ev->content_bdat << 10 | (uint64_t)at_finish << 11);
        fz_log_u64(&r->log, ev->line.off);
        fz_log_u64(&r->log, ev->content_octets);
        fz_log_anoms(&r->log, &ev->anoms);
        r->mode = M_NONE;
    }

    /* the session's part, from events only */
    if (ev->type == MC_SMTP_CMD_LINE && !at_finish) {
        if (ev->verb == MC_SMTP_RSET)
            r->bdat_open = false;
        if (ev->verb == MC_SMTP_BDAT && ev->syntax_ok) {
            /* the parser counts the chunk by itself */
            if (!r->bdat_open)
                new_message(r);
            r->mode = M_BDAT;
            r->remaining = r->chunk_size = ev->chunk_size;
            r->fed_at_enter = r->content_fed;
            r->bdat_open = !ev->last;
        }
        if (ev->verb == MC_SMTP_DATA) {
            unsigned pol = (r->data_mask >> (2 * (r->data_count % 4))) & 3;
            r->data_count++;
            if (pol != 0) {
                mc_smtp_cmd_expect_data(&r->p);
                r->mode = M_DATA;
                r->bdat_open = false; /* a DATA message is a new one */
                r->fed_at_enter = r->content_fed;
                new_message(r);
                check_model(r);
                if (pol == 2) {
                    FZ_CHECK(mc_smtp_cmd_abort_data(&r->p));
                    r->mode = M_NONE;
                }
            }
        }
        if ((r->opts & 8) && ev->verb == MC_SMTP_AUTH) {
            if ((r->sasl_mask >> (r->auth_count % 4)) & 1) {
                mc_smtp_cmd_expect_sasl(&r->p, true);
                r->sasl = true;
            }
            r->auth_count++;
        }
    } else if (ev->type == MC_SMTP_CMD_SASL && !at_finish) {
        if (ev->cancel || ((r->sasl_mask >> (4 + r->sasl_count % 4)) & 1)) {
            mc_smtp_cmd_expect_sasl(&r->p, false);
            r->sasl = false;
        }
        r->sasl_count++;
    }
    /* abort_data() works only before the first content octet of a DATA;
     * anywhere else it must fail and change nothing */
    if (r->mode != M_DATA || r->content_fed > r->fed_at_enter)
        FZ_CHECK(!mc_smtp_cmd_abort_data(&r->p));
    check_model(r);
    r->floor = after;
}

FZ_ORACLE
static void feed_chunk(struct run *r, const uint8_t *buf, size_t len)
{
    while (len > 0 || mc_smtp_cmd_has_event(&r->p)) {
        struct mc_smtp_cmd_ev ev;
        size_t used = SIZE_MAX;
        const bool pending = mc_smtp_cmd_has_event(&r->p);
        const enum mode before = r->mode;
        int rc = mc_smtp_cmd_feed(&r->p, buf, len, &used, &ev);
        FZ_CHECK(rc == MC_EVENT || rc == MC_NEED_MORE);
        FZ_CHECK(used <= len);
        r->pos += used;
        if (before != M_NONE)
            r->content_fed += used;
        if (before == M_BDAT) {
            FZ_CHECK(used <= r->remaining);
            r->remaining -= used;
        }
        if (rc == MC_NEED_MORE) {
            FZ_CHECK(used == len && !pending);
            FZ_CHECK(mc_smtp_cmd_offset(&r->p) == r->pos);
            return;
        }
        if (pending)
            FZ_CHECK(used == 0 && ev.type == MC_SMTP_CMD_CONTENT_END);
        else
            FZ_CHECK(used > 0);
        on_event(r, &ev, false);
        buf += used;
        len -= used;
    }
}

FZ_ORACLE
static void feed_chunk_cb(void *r, const uint8_t *buf, size_t len)
{
    feed_chunk(r, buf, len);
}

FZ_ORACLE
static void gap(struct run *r, uint64_t n)
{
    mc_smtp_cmd_gap(&r->p, n);
    r->pos += n;
    if (r->mode == M_DATA) {
        r->content_fed += n;
    } else if (r->mode == M_BDAT) {
        if (n < r->remaining) {
            r->remaining -= n;
            r->content_fed += n;
        } else {
            /* the chunk ended inside the gap: back to commands */
            r->content_fed += r->remaining;
            r->remaining = 0;
            r->mode = M_NONE;
            r->bdat_open = false;
        }
    }
    check_model(r);
    r->floor = r->pos;
    fz_log_u64(&r->log, 0xfeedu);
    fz_log_u64(&r->log, r->pos);
}

FZ_ORACLE
static void run_once(struct run *r, const uint8_t *hdr, const uint8_t *s, size_t n, bool cut)
{
    struct fz_rng rng;
    size_t gap_at;
    uint64_t gap_len;

    memset(r, 0, sizeof(*r));
    whole_run = !cut;
    r->opts = hdr[0];
    r->data_mask = hdr[1];
    r->sasl_mask = hdr[2];
    fz_rng_seed(&rng, (uint32_t)hdr[3] << 8 | hdr[0]);
    mc_smtp_cmd_init(&r->p);
    check_model(r);
    FZ_CHECK(!mc_smtp_cmd_partial(&r->p) && !mc_smtp_cmd_resyncing(&r->p));
    FZ_CHECK(!mc_smtp_cmd_abort_data(&r->p));

    fz_gap_plan(hdr[0], hdr[4], n, &gap_at, &gap_len);
    fz_feed_opts(r, feed_chunk_cb, s, gap_at, cut ? &rng : NULL, r->opts);
    if (gap_len)
        gap(r, gap_len);
    fz_feed_opts(r, feed_chunk_cb, s + gap_at, n - gap_at, cut ? &rng : NULL, r->opts);

    for (int k = 0;; k++) {
        struct mc_smtp_cmd_ev ev;
        FZ_CHECK(k <= 1); /* the open content or the unterminated line */
        if (mc_smtp_cmd_finish(&r->p, &ev) != MC_EVENT)
            break;
        on_event(r, &ev, true);
    }
    FZ_CHECK(r->mode == M_NONE && !mc_smtp_cmd_in_content(&r->p));
    FZ_CHECK(mc_smtp_cmd_offset(&r->p) == r->pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, cut;
    if (size < 5)
        return 0;
    FZ_SPLIT_INVARIANT((run_once(&whole, data, data + 5, size - 5, false),
                        run_once(&cut, data, data + 5, size - 5, true)),
                       &whole.log, &cut.log, "split invariance", "event",
                       "the same stream cut differently gave different events");
    return 0;
}
