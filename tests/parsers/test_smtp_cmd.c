/*
 * smtp_cmd: command lines (verbs, EHLO hosts, MAIL/RCPT paths and ESMTP
 * parameters, VRFY/HELP strings, AUTH and SASL lines, BDAT), message
 * content (DATA with dot-stuffing, the terminator and its look-alikes; BDAT
 * chunks), limits, gaps and end of stream. Every stream case runs in the
 * three feeding modes on guard-page input (test_harness.h); the longest
 * inputs run whole, byte by byte, in fixed-size pieces and split at chosen
 * positions (every split would be quadratic).
 *
 * Log line per event:
 *   CMD <VERB> off=N [kw='..'] [arg='..'] [host='..'] [mech='..' [ir]]
 *       [path='..' (local='..' dom='..' | null | invalid) [sr] [8bit] [pm]]
 *       [p:KW[=VAL]]... [np=N] [size=N [last]] [secret=OFF+LEN] ok|bad
 *       [len=N trunc] anoms=[..]             (kw only for UNKNOWN)
 *   SASL off=N '..' [cancel] secret=OFF+LEN ok|bad [len=N trunc] anoms=[..]
 *   CONTENT off=N anoms=[..]
 *   END off=N octets=N [8bit] [bdat] [last] anoms=[..]
 * A case's .plan has one character per CMD or SASL event, the session's
 * part: 's' expect_sasl(true), 'c' expect_sasl(false), 'd' expect_data,
 * 'a' expect_data then abort_data, 'n' nothing. Without one ('.' or past
 * the end), a valid DATA gets expect_data and nothing else happens.
 */
#include "test_harness.h"

#include <stdlib.h>

#include "smtp/smtp_cmd.h"

struct cctx {
    struct mc_smtp_cmd p;
    const char *plan;
    unsigned nline;
    uint64_t pos;
};

static bool span_ok(const struct mc_span *s, const struct mc_span *line)
{
    return th_span_in(s, line);
}

static void log_line(struct th_log *log, const struct mc_smtp_cmd_ev *ev, bool *spans)
{
    const struct mc_span *L = &ev->line;
    enum mc_smtp_verb v = ev->verb;
    th_logf(log, "CMD %s off=%llu", mc_smtp_verb_name(v), (unsigned long long)L->off);
    *spans = *spans && span_ok(&ev->keyword, L) && span_ok(&ev->arg, L) &&
             span_ok(&ev->host, L) && span_ok(&ev->mech, L) && span_ok(&ev->path_span, L);
    if (v == MC_SMTP_UNKNOWN) {
        th_logf(log, " kw=");
        th_log_bytes(log, ev->keyword.ptr, ev->keyword.len);
    }
    if (ev->arg.ptr && v != MC_SMTP_HELO && v != MC_SMTP_EHLO && v != MC_SMTP_MAIL &&
        v != MC_SMTP_RCPT && v != MC_SMTP_BDAT && v != MC_SMTP_AUTH) {
        th_logf(log, " arg=");
        th_log_bytes(log, ev->arg.ptr, ev->arg.len);
    }
    if (ev->host.ptr) {
        th_logf(log, " host=");
        th_log_bytes(log, ev->host.ptr, ev->host.len);
    }
    if (ev->mech.ptr) {
        th_logf(log, " mech=");
        th_log_bytes(log, ev->mech.ptr, ev->mech.len);
    }
    if (ev->initial_response)
        th_logf(log, " ir");
    if (ev->path_present) {
        const struct mc_smtp_path *pa = &ev->path;
        const uint8_t *b = ev->path_span.ptr;
        th_logf(log, " path=");
        th_log_bytes(log, b, ev->path_span.len);
        if (!ev->path_ok) {
            th_logf(log, " invalid");
        } else if (pa->null_path) {
            th_logf(log, " null");
        } else {
            *spans = *spans && pa->len == ev->path_span.len &&
                     pa->local_at + pa->local_len <= pa->len &&
                     pa->domain_at + pa->domain_len <= pa->len;
            th_logf(log, " local=");
            th_log_bytes(log, b + pa->local_at, pa->local_len);
            if (!pa->postmaster) {
                th_logf(log, " dom=");
                th_log_bytes(log, b + pa->domain_at, pa->domain_len);
            }
        }
        if (pa->source_route)
            th_logf(log, " sr");
        if (pa->eight_bit)
            th_logf(log, " 8bit");
        if (pa->postmaster)
            th_logf(log, " pm");
    }
    for (unsigned i = 0; i < ev->nparams && i < MC_SMTP_PARAMS_MAX; i++) {
        const struct mc_smtp_param *pm = &ev->param[i];
        char esc[TH_TEXT_CAP + 1];
        mc_escape(esc, sizeof(esc), pm->kw.ptr, pm->kw.len);
        th_logf(log, " p:%s", esc);
        if (pm->has_val) {
            mc_escape(esc, sizeof(esc), pm->val.ptr, pm->val.len);
            th_logf(log, "=%s", esc);
        }
        *spans = *spans && span_ok(&pm->kw, L) && span_ok(&pm->val, L) &&
                 (pm->has_val || pm->val.len == 0);
    }
    if (ev->nparams > MC_SMTP_PARAMS_MAX)
        th_logf(log, " np=%u", ev->nparams);
    if (v == MC_SMTP_BDAT)
        th_logf(log, " size=%llu%s", (unsigned long long)ev->chunk_size, ev->last ? " last" : "");
}

static void cmd_log(struct cctx *c, struct th_log *log, const struct mc_smtp_cmd_ev *ev)
{
    bool spans = true;
    switch (ev->type) {
    case MC_SMTP_CMD_LINE:
        log_line(log, ev, &spans);
        break;
    case MC_SMTP_CMD_SASL:
        th_logf(log, "SASL off=%llu ", (unsigned long long)ev->line.off);
        th_log_bytes(log, ev->line.ptr, ev->line.len);
        if (ev->cancel)
            th_logf(log, " cancel");
        break;
    case MC_SMTP_CMD_CONTENT:
        th_logf(log, "CONTENT off=%llu", (unsigned long long)ev->line.off);
        spans = ev->line.ptr == NULL && ev->line.len == 0 && ev->anoms.n > 0 &&
                ev->line.off == ev->anoms.hit[0].off;
        break;
    case MC_SMTP_CMD_CONTENT_END:
        th_logf(log, "END off=%llu octets=%llu%s%s%s", (unsigned long long)ev->line.off,
                (unsigned long long)ev->content_octets, ev->content_8bit ? " 8bit" : "",
                ev->content_bdat ? " bdat" : "", ev->last ? " last" : "");
        spans = ev->line.ptr == NULL && ev->line.len == 0;
        assert_false(mc_smtp_cmd_in_content(&c->p));
        break;
    default:
        th_logf(log, "BADTYPE %d", (int)ev->type);
    }
    if (ev->type == MC_SMTP_CMD_LINE || ev->type == MC_SMTP_CMD_SASL) {
        if (ev->secret.ptr)
            th_logf(log, " secret=%llu+%zu", (unsigned long long)ev->secret.off, ev->secret.len);
        th_logf(log, ev->syntax_ok ? " ok" : " bad");
        if (ev->truncated)
            th_logf(log, " len=%llu trunc", (unsigned long long)ev->line_len);
        spans = spans && span_ok(&ev->secret, &ev->line) && ev->line.len <= MC_LINE_KEEP &&
                ev->truncated == (ev->line_len > MC_LINE_KEEP);
    }
    if (!spans)
        th_logf(log, " BADSPAN");
    th_log_anoms(log, &ev->anoms);
    th_logf(log, "\n");

    if (ev->type == MC_SMTP_CMD_LINE || ev->type == MC_SMTP_CMD_SASL) {
        char act = c->plan && c->nline < strlen(c->plan) ? c->plan[c->nline] : '.';
        c->nline++;
        if (act == '.' && ev->type == MC_SMTP_CMD_LINE && ev->verb == MC_SMTP_DATA &&
            ev->syntax_ok)
            act = 'd';
        switch (act) {
        case 's':
        case 'c':
            mc_smtp_cmd_expect_sasl(&c->p, act == 's');
            assert_int_equal(mc_smtp_cmd_in_sasl(&c->p), act == 's');
            break;
        case 'd':
        case 'a':
            mc_smtp_cmd_expect_data(&c->p);
            assert_true(mc_smtp_cmd_in_content(&c->p));
            assert_int_equal(mc_smtp_cmd_content_octets(&c->p), 0);
            if (act == 'a') {
                assert_true(mc_smtp_cmd_abort_data(&c->p));
                assert_false(mc_smtp_cmd_in_content(&c->p));
            }
            break;
        default:
            break;
        }
    }
}

static void c_start(void *vc)
{
    struct cctx *c = vc;
    mc_smtp_cmd_init(&c->p);
    assert_false(mc_smtp_cmd_in_sasl(&c->p));
    assert_false(mc_smtp_cmd_in_content(&c->p));
    assert_false(mc_smtp_cmd_has_event(&c->p));
    c->nline = 0;
    c->pos = 0;
}

static void c_feed(void *vc, struct th_log *log, const uint8_t *p, size_t n)
{
    struct cctx *c = vc;
    size_t off = 0;
    for (;;) {
        struct mc_smtp_cmd_ev ev;
        size_t used = (size_t)-1;
        int r = mc_smtp_cmd_feed(&c->p, p + off, n - off, &used, &ev);
        assert_true(used <= n - off);
        off += used;
        if (r == MC_NEED_MORE) {
            assert_int_equal(off, n);
            assert_false(mc_smtp_cmd_has_event(&c->p));
            break;
        }
        assert_int_equal(r, MC_EVENT);
        /* only a BDAT chunk's end may come without an octet */
        if (used == 0)
            assert_true(ev.type == MC_SMTP_CMD_CONTENT_END && ev.content_bdat);
        assert_false(mc_smtp_cmd_partial(&c->p));
        cmd_log(c, log, &ev);
    }
    c->pos += n;
    assert_int_equal(mc_smtp_cmd_offset(&c->p), c->pos);
}

static void c_finish(void *vc, struct th_log *log)
{
    struct cctx *c = vc;
    struct mc_smtp_cmd_ev ev;
    int rounds = 0;
    while (mc_smtp_cmd_finish(&c->p, &ev) == MC_EVENT) {
        assert_true(++rounds <= 2);
        cmd_log(c, log, &ev);
    }
    assert_int_equal(mc_smtp_cmd_finish(&c->p, &ev), MC_NEED_MORE);
    assert_false(mc_smtp_cmd_in_content(&c->p));
}

static void c_gap(void *vc, struct th_log *log, uint64_t n)
{
    struct cctx *c = vc;
    (void)log;
    mc_smtp_cmd_gap(&c->p, n);
    c->pos += n;
    assert_int_equal(mc_smtp_cmd_offset(&c->p), c->pos);
}

static const struct th_target cmd_target = {c_start, c_feed, c_finish, c_gap};

struct ccase {
    const char *name;
    const char *in;
    size_t len;
    const char *plan;
    size_t gap_at;
    uint64_t gap;
    const char *want;
};

/* The client side of the RFC examples verbatim ("C:" / "S:" lines with
 * CRLF, the RFC 3030 message octet for octet). Expected logs come from an
 * independent model (offsets = sums of line lengths). None yields an
 * anomaly. */
static const struct ccase rfc_cases[] = {
    {.name = "RFC 5321 D.1 typical transaction",
     TH_IN("EHLO bar.com\r\n"
           "MAIL FROM:<Smith@bar.com>\r\n"
           "RCPT TO:<Jones@foo.com>\r\n"
           "RCPT TO:<Green@foo.com>\r\n"
           "RCPT TO:<Brown@foo.com>\r\n"
           "DATA\r\n"
           "Blah blah blah...\r\n"
           "...etc. etc. etc.\r\n"
           ".\r\n"
           "QUIT\r\n"),
     .want = "CMD EHLO off=0 host='bar.com' ok anoms=[]\n"
             "CMD MAIL off=14 path='<Smith@bar.com>' local='Smith' dom='bar.com' ok anoms=[]\n"
             "CMD RCPT off=41 path='<Jones@foo.com>' local='Jones' dom='foo.com' ok anoms=[]\n"
             "CMD RCPT off=66 path='<Green@foo.com>' local='Green' dom='foo.com' ok anoms=[]\n"
             "CMD RCPT off=91 path='<Brown@foo.com>' local='Brown' dom='foo.com' ok anoms=[]\n"
             "CMD DATA off=116 ok anoms=[]\n"
             "END off=160 octets=38 last anoms=[]\n"
             "CMD QUIT off=163 ok anoms=[]\n"},
    {.name = "RFC 5321 D.2 aborted transaction",
     TH_IN("EHLO bar.com\r\n"
           "MAIL FROM:<Smith@bar.com>\r\n"
           "RCPT TO:<Jones@foo.com>\r\n"
           "RCPT TO:<Green@foo.com>\r\n"
           "RSET\r\n"
           "QUIT\r\n"),
     .want = "CMD EHLO off=0 host='bar.com' ok anoms=[]\n"
             "CMD MAIL off=14 path='<Smith@bar.com>' local='Smith' dom='bar.com' ok anoms=[]\n"
             "CMD RCPT off=41 path='<Jones@foo.com>' local='Jones' dom='foo.com' ok anoms=[]\n"
             "CMD RCPT off=66 path='<Green@foo.com>' local='Green' dom='foo.com' ok anoms=[]\n"
             "CMD RSET off=91 ok anoms=[]\n"
             "CMD QUIT off=97 ok anoms=[]\n"},
    {.name = "RFC 5321 D.3 relayed, step 1",
     TH_IN("EHLO bar.com\r\n"
           "MAIL FROM:<JQP@bar.com>\r\n"
           "RCPT TO:<Jones@XYZ.COM>\r\n"
           "DATA\r\n"
           "Date: Thu, 21 May 1998 05:33:29 -0700\r\n"
           "From: John Q. Public <JQP@bar.com>\r\n"
           "Subject: The Next Meeting of the Board\r\n"
           "To: Jones@xyz.com\r\n"
           "\r\n"
           "Bill:\r\n"
           "The next meeting of the board of directors will be\r\n"
           "on Tuesday.\r\n"
           "John.\r\n"
           ".\r\n"
           "QUIT\r\n"),
     .want = "CMD EHLO off=0 host='bar.com' ok anoms=[]\n"
             "CMD MAIL off=14 path='<JQP@bar.com>' local='JQP' dom='bar.com' ok anoms=[]\n"
             "CMD RCPT off=39 path='<Jones@XYZ.COM>' local='Jones' dom='XYZ.COM' ok anoms=[]\n"
             "CMD DATA off=64 ok anoms=[]\n"
             "END off=285 octets=215 last anoms=[]\n"
             "CMD QUIT off=288 ok anoms=[]\n"},
    {.name = "RFC 5321 D.3 relayed, step 2",
     TH_IN("EHLO foo.com\r\n"
           "MAIL FROM:<JQP@bar.com>\r\n"
           "RCPT TO:<Jones@XYZ.COM>\r\n"
           "DATA\r\n"
           "Received: from bar.com by foo.com ; Thu, 21 May 1998\r\n"
           "    05:33:29 -0700\r\n"
           "Date: Thu, 21 May 1998 05:33:22 -0700\r\n"
           "From: John Q. Public <JQP@bar.com>\r\n"
           "Subject:  The Next Meeting of the Board\r\n"
           "To: Jones@xyz.com\r\n"
           "\r\n"
           "Bill:\r\n"
           "The next meeting of the board of directors will be\r\n"
           "on Tuesday.\r\n"
           "                        John.\r\n"
           ".\r\n"
           "QUIT\r\n"),
     .want = "CMD EHLO off=0 host='foo.com' ok anoms=[]\n"
             "CMD MAIL off=14 path='<JQP@bar.com>' local='JQP' dom='bar.com' ok anoms=[]\n"
             "CMD RCPT off=39 path='<Jones@XYZ.COM>' local='Jones' dom='XYZ.COM' ok anoms=[]\n"
             "CMD DATA off=64 ok anoms=[]\n"
             "END off=384 octets=314 last anoms=[]\n"
             "CMD QUIT off=387 ok anoms=[]\n"},
    {.name = "RFC 5321 D.4 verifying and sending",
     TH_IN("EHLO bar.com\r\n"
           "VRFY Crispin\r\n"
           "MAIL FROM:<EAK@bar.com>\r\n"
           "RCPT TO:<Admin.MRC@foo.com>\r\n"
           "DATA\r\n"
           "Blah blah blah...\r\n"
           "...etc. etc. etc.\r\n"
           ".\r\n"
           "QUIT\r\n"),
     .want = "CMD EHLO off=0 host='bar.com' ok anoms=[]\n"
             "CMD VRFY off=14 arg='Crispin' ok anoms=[]\n"
             "CMD MAIL off=28 path='<EAK@bar.com>' local='EAK' dom='bar.com' ok anoms=[]\n"
             "CMD RCPT off=53 path='<Admin.MRC@foo.com>' local='Admin.MRC' dom='foo.com' ok"
             " anoms=[]\n"
             "CMD DATA off=82 ok anoms=[]\n"
             "END off=126 octets=38 last anoms=[]\n"
             "CMD QUIT off=129 ok anoms=[]\n"},
    {.name = "RFC 3030 4.1 simple chunking",
     TH_IN("EHLO ymir.claremont.edu\r\n"
           "MAIL FROM:<Sam@Random.com>\r\n"
           "RCPT TO:<Susan@Random.com>\r\n"
           "BDAT 86 LAST\r\n"
           "To: Susan@random.com\r\n"
           "From: Sam@random.com\r\n"
           "Subject: This is a bodyless test message\r\n"
           "QUIT\r\n"),
     .want = "CMD EHLO off=0 host='ymir.claremont.edu' ok anoms=[]\n"
             "CMD MAIL off=25 path='<Sam@Random.com>' local='Sam' dom='Random.com' ok anoms=[]\n"
             "CMD RCPT off=53 path='<Susan@Random.com>' local='Susan' dom='Random.com' ok"
             " anoms=[]\n"
             "CMD BDAT off=81 size=86 last ok anoms=[]\n"
             "END off=181 octets=86 bdat last anoms=[]\n"
             "CMD QUIT off=181 ok anoms=[]\n"},
    {.name = "RFC 4954 4.1 PLAIN with initial response, before TLS",
     TH_IN("EHLO client.example.com\r\n"
           "STARTTLS\r\n"),
     .want = "CMD EHLO off=0 host='client.example.com' ok anoms=[]\n"
             "CMD STARTTLS off=25 ok anoms=[]\n"},
    {.name = "RFC 4954 4.1 PLAIN with initial response, after TLS",
     TH_IN("EHLO client.example.com\r\n"
           "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"),
     .want = "CMD EHLO off=0 host='client.example.com' ok anoms=[]\n"
             "CMD AUTH off=25 mech='PLAIN' ir secret=36+20 ok anoms=[]\n"},
    {.name = "RFC 4954 4.1 PLAIN without initial response", .plan = ".sc",
     TH_IN("EHLO client.example.com\r\n"
           "AUTH PLAIN\r\n"
           "dGVzdAB0ZXN0ADEyMzQ=\r\n"),
     .want = "CMD EHLO off=0 host='client.example.com' ok anoms=[]\n"
             "CMD AUTH off=25 mech='PLAIN' ok anoms=[]\n"
             "SASL off=37 'dGVzdAB0ZXN0ADEyMzQ=' secret=37+20 ok anoms=[]\n"},
    {.name = "RFC 4954 4.1 CRAM-MD5", .plan = ".sc",
     TH_IN("EHLO client.example.com\r\n"
           "AUTH CRAM-MD5\r\n"
           "cmpzMyBlYzNhNTlmZWQzOTVhYmExZWM2MzY3YzRmNGI0MWFjMA==\r\n"),
     .want = "CMD EHLO off=0 host='client.example.com' ok anoms=[]\n"
             "CMD AUTH off=25 mech='CRAM-MD5' ok anoms=[]\n"
             "SASL off=40 'cmpzMyBlYzNhNTlmZWQzOTVhYmExZWM2MzY3YzRmNGI0M...' secret=40+52 ok"
             " anoms=[]\n"},
    {.name = "RFC 4954 4.1 EXTERNAL, after TLS",
     TH_IN("EHLO client.example.com\r\n"
           "AUTH EXTERNAL =\r\n"),
     .want = "CMD EHLO off=0 host='client.example.com' ok anoms=[]\n"
             "CMD AUTH off=25 mech='EXTERNAL' ir secret=39+1 ok anoms=[]\n"},
};

#define A44 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L65 A44 "aaaaaaaaaaaaaaaaaaaaa"

/* Command lines: verbs, arguments, paths, parameters, limits of the line
 * layer. */
static const struct ccase cmd_cases[] = {
    {.name = "empty input", TH_IN(""), .want = ""},
    {.name = "lower-case verbs",
     TH_IN("ehlo bar.com\r\nmail from:<a@b>\r\nrcpt to:<c@d>\r\nQuit\r\n"),
     .want = "CMD EHLO off=0 host='bar.com' ok anoms=[]\n"
             "CMD MAIL off=14 path='<a@b>' local='a' dom='b' ok anoms=[]\n"
             "CMD RCPT off=31 path='<c@d>' local='c' dom='d' ok anoms=[]\n"
             "CMD QUIT off=46 ok anoms=[]\n"},
    {.name = "empty line", TH_IN("\r\n"),
     .want = "CMD UNKNOWN off=0 kw='' bad anoms=[SMTP_CMD_EMPTY@0]\n"},
    {.name = "unknown verb", TH_IN("XFOO bar baz\r\nX1\r\n"),
     .want = "CMD UNKNOWN off=0 kw='XFOO' arg='bar baz' ok anoms=[]\n"
             "CMD UNKNOWN off=14 kw='X1' ok anoms=[]\n"},
    {.name = "verb with '-'", TH_IN("X-FOO\r\n"),
     .want = "CMD UNKNOWN off=0 kw='X-FOO' bad anoms=[SMTP_VERB_SYNTAX@1]\n"},
    {.name = "leading space", TH_IN(" QUIT\r\n"),
     .want = "CMD UNKNOWN off=0 kw='' arg='QUIT' bad anoms=[SMTP_VERB_SYNTAX@0]\n"},
    {.name = "control octet in the verb", TH_IN("QU\x01T\r\n"),
     .want = "CMD UNKNOWN off=0 kw='QU\\x01T' bad anoms=[SMTP_VERB_SYNTAX@2]\n"},
    {.name = "TAB after the verb", TH_IN("QUIT\t\r\n"),
     .want = "CMD UNKNOWN off=0 kw='QUIT\\t' bad anoms=[SMTP_VERB_SYNTAX@4]\n"},
    {.name = "argument to DATA", TH_IN("DATA x\r\nQUIT\r\n"),
     .want = "CMD DATA off=0 arg='x' bad anoms=[SMTP_ARG_SYNTAX@4]\n"
             "CMD QUIT off=8 ok anoms=[]\n"},
    {.name = "arguments to commands without", TH_IN("QUIT \r\nRSET \r\nSTARTTLS x\r\n"),
     .want = "CMD QUIT off=0 arg='' bad anoms=[SMTP_ARG_SYNTAX@4]\n"
             "CMD RSET off=7 arg='' bad anoms=[SMTP_ARG_SYNTAX@11]\n"
             "CMD STARTTLS off=14 arg='x' bad anoms=[SMTP_ARG_SYNTAX@22]\n"},
    /* EHLO / HELO (RFC 5321 s4.1.1.1) */
    {.name = "EHLO address literals",
     TH_IN("EHLO [192.0.2.1]\r\nEHLO [IPv6:2001:db8::1]\r\nHELO a\r\n"),
     .want = "CMD EHLO off=0 host='[192.0.2.1]' ok anoms=[]\n"
             "CMD EHLO off=18 host='[IPv6:2001:db8::1]' ok anoms=[]\n"
             "CMD HELO off=43 host='a' ok anoms=[]\n"},
    {.name = "HELO takes a domain only", TH_IN("HELO [192.0.2.1]\r\n"),
     .want = "CMD HELO off=0 host='[192.0.2.1]' bad anoms=[SMTP_DOMAIN_SYNTAX@5]\n"},
    {.name = "EHLO without a domain", TH_IN("EHLO\r\nEHLO \r\n"),
     .want = "CMD EHLO off=0 bad anoms=[SMTP_ARG_SYNTAX@4]\n"
             "CMD EHLO off=6 bad anoms=[SMTP_ARG_SYNTAX@10]\n"},
    {.name = "EHLO with a bad domain",
     TH_IN("EHLO bar_baz.com\r\nEHLO  bar.com\r\nEHLO b\xc3\xbc.de\r\nEHLO [1.2.3]\r\n"),
     .want = "CMD EHLO off=0 host='bar_baz.com' bad anoms=[SMTP_DOMAIN_SYNTAX@8]\n"
             "CMD EHLO off=18 host=' bar.com' bad anoms=[SMTP_DOMAIN_SYNTAX@23]\n"
             "CMD EHLO off=33 host='b\\xc3\\xbc.de' bad anoms=[SMTP_DOMAIN_SYNTAX@39]\n"
             "CMD EHLO off=46 host='[1.2.3]' bad anoms=[SMTP_DOMAIN_SYNTAX@57]\n"},
    /* MAIL / RCPT paths (RFC 5321 s3.3, s4.1.2) */
    {.name = "null reverse-path", TH_IN("MAIL FROM:<>\r\n"),
     .want = "CMD MAIL off=0 path='<>' null ok anoms=[]\n"},
    {.name = "space after the colon", TH_IN("MAIL FROM: <a@b>\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' ok anoms=[SMTP_PATH_SPACE@10]\n"},
    {.name = "space before the colon", TH_IN("MAIL FROM :<a@b>\r\nRCPT TO : <c@d>\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' ok anoms=[SMTP_PATH_SPACE@9]\n"
             "CMD RCPT off=18 path='<c@d>' local='c' dom='d' ok"
             " anoms=[SMTP_PATH_SPACE@25,SMTP_PATH_SPACE@27]\n"},
    {.name = "several spaces after the colon", TH_IN("MAIL FROM:   <a@b>\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' ok anoms=[SMTP_PATH_SPACE@10]\n"},
    {.name = "path without brackets", TH_IN("MAIL FROM:a@b\r\nRCPT TO:c@d NOTIFY=NEVER\r\n"),
     .want = "CMD MAIL off=0 path='a@b' invalid bad anoms=[SMTP_PATH_NO_BRACKETS@10]\n"
             "CMD RCPT off=15 path='c@d' invalid p:NOTIFY=NEVER bad"
             " anoms=[SMTP_PATH_NO_BRACKETS@23]\n"},
    {.name = "no path", TH_IN("MAIL FROM:\r\nMAIL FROM: \r\n"),
     .want = "CMD MAIL off=0 bad anoms=[SMTP_PATH_SYNTAX@10]\n"
             "CMD MAIL off=12 bad anoms=[SMTP_PATH_SPACE@22,SMTP_PATH_SYNTAX@23]\n"},
    {.name = "no FROM:",
     TH_IN("MAIL\r\nMAIL TO:<a@b>\r\nMAIL FROM<a@b>\r\nMAIL  FROM:<a@b>\r\nRCPT FROM:<a@b>\r\n"),
     .want = "CMD MAIL off=0 bad anoms=[SMTP_ARG_SYNTAX@4]\n"
             "CMD MAIL off=6 bad anoms=[SMTP_ARG_SYNTAX@11]\n"
             "CMD MAIL off=21 bad anoms=[SMTP_ARG_SYNTAX@30]\n"
             "CMD MAIL off=37 bad anoms=[SMTP_ARG_SYNTAX@42]\n"
             "CMD RCPT off=55 bad anoms=[SMTP_ARG_SYNTAX@60]\n"},
    {.name = "path syntax", TH_IN("MAIL FROM:<a b@c> SIZE=1\r\nMAIL FROM:<a@b\r\n"),
     .want = "CMD MAIL off=0 path='<a b@c>' invalid p:SIZE=1 bad anoms=[SMTP_PATH_SYNTAX@12]\n"
             "CMD MAIL off=26 path='<a@b' invalid bad anoms=[SMTP_PATH_SYNTAX@40]\n"},
    {.name = "source route", TH_IN("RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org>\r\n"),
     .want = "CMD RCPT off=0 path='<@hosta.int,@jkl.org:userc@d.bar.org>' local='userc'"
             " dom='d.bar.org' sr ok anoms=[SMTP_PATH_SOURCE_ROUTE@9]\n"},
    {.name = "Postmaster", TH_IN("RCPT TO:<Postmaster>\r\nRCPT TO:<postmaster@foo.com>\r\n"),
     .want = "CMD RCPT off=0 path='<Postmaster>' local='Postmaster' pm ok anoms=[]\n"
             "CMD RCPT off=22 path='<postmaster@foo.com>' local='postmaster' dom='foo.com' ok"
             " anoms=[]\n"},
    /* Reverse-path = Path / "<>": "<Postmaster>" is only a forward path;
     * Forward-path = Path: "<>" is only a reverse path */
    {.name = "Postmaster without domain in MAIL", TH_IN("MAIL FROM:<Postmaster>\r\n"),
     .want = "CMD MAIL off=0 path='<Postmaster>' invalid pm bad anoms=[SMTP_PATH_SYNTAX@21]\n"},
    {.name = "null forward-path", TH_IN("RCPT TO:<>\r\n"),
     .want = "CMD RCPT off=0 path='<>' invalid bad anoms=[SMTP_PATH_SYNTAX@9]\n"},
    {.name = "UTF-8 address (RFC 6531)", TH_IN("MAIL FROM:<j\xc3\xb6rg@example.com> SMTPUTF8\r\n"),
     .want = "CMD MAIL off=0 path='<j\\xc3\\xb6rg@example.com>' local='j\\xc3\\xb6rg'"
             " dom='example.com' 8bit p:SMTPUTF8 ok anoms=[SMTP_PATH_8BIT@10]\n"},
    {.name = "local-part too long", TH_IN("MAIL FROM:<" L65 "@x> SIZE=1\r\n"),
     .want = "CMD MAIL off=0 path='<" A44 "...' local='" A44 "a...' dom='x' p:SIZE=1 ok"
             " anoms=[SMTP_LOCAL_TOO_LONG@75]\n"},
    {.name = "NUL in a path", TH_IN("MAIL FROM:<a\0@b>\r\n"),
     .want = "CMD MAIL off=0 path='<a\\x00@b>' invalid bad"
             " anoms=[NUL_BYTE@12,SMTP_PATH_SYNTAX@12]\n"},
    /* ESMTP parameters (RFC 1870, 6152, 6531, 3461, 4954 s5) */
    {.name = "parameters", TH_IN("MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:SIZE=1000 p:BODY=8BITMIME ok"
             " anoms=[]\n"},
    {.name = "BODY values",
     TH_IN("MAIL FROM:<a@b> BODY=7BIT\r\nMAIL FROM:<a@b> BODY=binarymime\r\n"
           "MAIL FROM:<a@b> BODY=UTF8\r\nMAIL FROM:<a@b> BODY\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:BODY=7BIT ok anoms=[]\n"
             "CMD MAIL off=27 path='<a@b>' local='a' dom='b' p:BODY=binarymime ok anoms=[]\n"
             "CMD MAIL off=60 path='<a@b>' local='a' dom='b' p:BODY=UTF8 bad"
             " anoms=[SMTP_PARAM_VALUE@81]\n"
             "CMD MAIL off=87 path='<a@b>' local='a' dom='b' p:BODY bad"
             " anoms=[SMTP_PARAM_VALUE@103]\n"},
    {.name = "SIZE values",
     TH_IN("MAIL FROM:<a@b> SIZE=0\r\nMAIL FROM:<a@b> SIZE=99999999999999999999\r\n"
           "MAIL FROM:<a@b> SIZE=123456789012345678901\r\nMAIL FROM:<a@b> SIZE=1k\r\n"
           "MAIL FROM:<a@b> SIZE=\r\nMAIL FROM:<a@b> SIZE\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:SIZE=0 ok anoms=[]\n"
             "CMD MAIL off=24 path='<a@b>' local='a' dom='b' p:SIZE=99999999999999999999 ok"
             " anoms=[]\n"
             "CMD MAIL off=67 path='<a@b>' local='a' dom='b' p:SIZE=123456789012345678901 bad"
             " anoms=[SMTP_PARAM_VALUE@88]\n"
             "CMD MAIL off=111 path='<a@b>' local='a' dom='b' p:SIZE=1k bad"
             " anoms=[SMTP_PARAM_VALUE@132]\n"
             "CMD MAIL off=136 path='<a@b>' local='a' dom='b' bad anoms=[SMTP_PARAM_SYNTAX@157]\n"
             "CMD MAIL off=159 path='<a@b>' local='a' dom='b' p:SIZE bad"
             " anoms=[SMTP_PARAM_VALUE@175]\n"},
    {.name = "SMTPUTF8 and RET",
     TH_IN("MAIL FROM:<a@b> SMTPUTF8=yes RET=FULL\r\nMAIL FROM:<a@b> RET=HDRS\r\n"
           "MAIL FROM:<a@b> RET=ALL\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:SMTPUTF8=yes p:RET=FULL bad"
             " anoms=[SMTP_PARAM_VALUE@25]\n"
             "CMD MAIL off=39 path='<a@b>' local='a' dom='b' p:RET=HDRS ok anoms=[]\n"
             "CMD MAIL off=65 path='<a@b>' local='a' dom='b' p:RET=ALL bad"
             " anoms=[SMTP_PARAM_VALUE@85]\n"},
    {.name = "ENVID", TH_IN("MAIL FROM:<a@b> ENVID=QQ314159\r\nMAIL FROM:<a@b> ENVID=a+2\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:ENVID=QQ314159 ok anoms=[]\n"
             "CMD MAIL off=32 path='<a@b>' local='a' dom='b' p:ENVID=a+2 bad"
             " anoms=[SMTP_PARAM_VALUE@54]\n"},
    {.name = "AUTH parameter",
     TH_IN("MAIL FROM:<e@x> AUTH=<>\r\nMAIL FROM:<e@x> AUTH=e+3Dmc2@example.com\r\n"
           "MAIL FROM:<e@x> AUTH=a=b\r\n"),
     .want = "CMD MAIL off=0 path='<e@x>' local='e' dom='x' p:AUTH=<> ok anoms=[]\n"
             "CMD MAIL off=25 path='<e@x>' local='e' dom='x' p:AUTH=e+3Dmc2@example.com ok"
             " anoms=[]\n"
             "CMD MAIL off=67 path='<e@x>' local='e' dom='x' bad anoms=[SMTP_PARAM_SYNTAX@88]\n"},
    {.name = "NOTIFY and ORCPT (RFC 3461 s4)",
     TH_IN("RCPT TO:<Jones@foo.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Jones@foo.com\r\n"),
     .want = "CMD RCPT off=0 path='<Jones@foo.com>' local='Jones' dom='foo.com'"
             " p:NOTIFY=SUCCESS,FAILURE p:ORCPT=rfc822;Jones@foo.com ok anoms=[]\n"},
    {.name = "NOTIFY values",
     TH_IN("RCPT TO:<a@b> NOTIFY=NEVER\r\nRCPT TO:<a@b> NOTIFY=NEVER,DELAY\r\n"
           "RCPT TO:<a@b> NOTIFY=DELAY,\r\nRCPT TO:<a@b> NOTIFY=sometimes\r\n"),
     .want = "CMD RCPT off=0 path='<a@b>' local='a' dom='b' p:NOTIFY=NEVER ok anoms=[]\n"
             "CMD RCPT off=28 path='<a@b>' local='a' dom='b' p:NOTIFY=NEVER,DELAY bad"
             " anoms=[SMTP_PARAM_VALUE@49]\n"
             "CMD RCPT off=62 path='<a@b>' local='a' dom='b' p:NOTIFY=DELAY, bad"
             " anoms=[SMTP_PARAM_VALUE@83]\n"
             "CMD RCPT off=91 path='<a@b>' local='a' dom='b' p:NOTIFY=sometimes bad"
             " anoms=[SMTP_PARAM_VALUE@112]\n"},
    {.name = "ORCPT values",
     TH_IN("RCPT TO:<a@b> ORCPT=rfc822\r\nRCPT TO:<a@b> ORCPT=;x\r\n"
           "RCPT TO:<a@b> ORCPT=rfc822;\r\nRCPT TO:<a@b> ORCPT=rfc822;a+2Bb\r\n"),
     .want = "CMD RCPT off=0 path='<a@b>' local='a' dom='b' p:ORCPT=rfc822 bad"
             " anoms=[SMTP_PARAM_VALUE@20]\n"
             "CMD RCPT off=28 path='<a@b>' local='a' dom='b' p:ORCPT=;x bad"
             " anoms=[SMTP_PARAM_VALUE@48]\n"
             "CMD RCPT off=52 path='<a@b>' local='a' dom='b' p:ORCPT=rfc822; bad"
             " anoms=[SMTP_PARAM_VALUE@72]\n"
             "CMD RCPT off=81 path='<a@b>' local='a' dom='b' p:ORCPT=rfc822;a+2Bb ok anoms=[]\n"},
    {.name = "unknown parameters", TH_IN("MAIL FROM:<a@b> X-FOO=bar X-BAR\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:X-FOO=bar p:X-BAR ok anoms=[]\n"},
    {.name = "duplicate parameter", TH_IN("MAIL FROM:<a@b> SIZE=1 size=2\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:SIZE=1 p:size=2 bad"
             " anoms=[SMTP_PARAM_DUPLICATE@23]\n"},
    {.name = "parameter syntax",
     TH_IN("MAIL FROM:<a@b> -X=1\r\nMAIL FROM:<a@b> =1\r\nMAIL FROM:<a@b> X=\xc3\xa9\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' bad anoms=[SMTP_PARAM_SYNTAX@16]\n"
             "CMD MAIL off=22 path='<a@b>' local='a' dom='b' bad anoms=[SMTP_PARAM_SYNTAX@38]\n"
             /* RFC 6531 s3.3: esmtp-value =/ UTF8-non-ascii */
             "CMD MAIL off=42 path='<a@b>' local='a' dom='b' p:X=\\xc3\\xa9 ok anoms=[]\n"},
    {.name = "parameter spacing",
     TH_IN("MAIL FROM:<a@b> \r\nMAIL FROM:<a@b>  SIZE=1\r\nMAIL FROM:<a@b>SIZE=1\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' bad anoms=[SMTP_PARAM_SYNTAX@15]\n"
             "CMD MAIL off=18 path='<a@b>' local='a' dom='b' bad anoms=[SMTP_PARAM_SYNTAX@33]\n"
             "CMD MAIL off=43 path='<a@b>' local='a' dom='b' bad anoms=[SMTP_PARAM_SYNTAX@58]\n"},
    {.name = "nine parameters", TH_IN("MAIL FROM:<a@b> A B C D E F G H I\r\n"),
     .want = "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:A p:B p:C p:D p:E p:F p:G p:H"
             " np=9 ok anoms=[]\n"},
    /* VRFY, EXPN, HELP, NOOP; RFC 821 commands */
    {.name = "VRFY and EXPN",
     TH_IN("VRFY Crispin\r\nEXPN Example-People\r\nVRFY\r\nVRFY \r\nEXPN a\x01\r\n"),
     .want = "CMD VRFY off=0 arg='Crispin' ok anoms=[]\n"
             "CMD EXPN off=14 arg='Example-People' ok anoms=[]\n"
             "CMD VRFY off=35 bad anoms=[SMTP_ARG_SYNTAX@39]\n"
             "CMD VRFY off=41 arg='' bad anoms=[SMTP_ARG_SYNTAX@45]\n"
             "CMD EXPN off=48 arg='a\\x01' bad anoms=[SMTP_ARG_SYNTAX@52]\n"},
    {.name = "HELP and NOOP", TH_IN("HELP\r\nHELP MAIL\r\nNOOP x y\r\nNOOP \r\n"),
     .want = "CMD HELP off=0 ok anoms=[]\n"
             "CMD HELP off=6 arg='MAIL' ok anoms=[]\n"
             "CMD NOOP off=17 arg='x y' ok anoms=[]\n"
             "CMD NOOP off=27 arg='' bad anoms=[SMTP_ARG_SYNTAX@31]\n"},
    {.name = "RFC 821 commands", TH_IN("SEND FROM:<a@b>\r\nSOML x\r\nSAML\r\nTURN\r\nTURN x\r\n"),
     .want = "CMD SEND off=0 arg='FROM:<a@b>' ok anoms=[]\n"
             "CMD SOML off=17 arg='x' ok anoms=[]\n"
             "CMD SAML off=25 ok anoms=[]\n"
             "CMD TURN off=31 ok anoms=[]\n"
             "CMD TURN off=37 arg='x' bad anoms=[SMTP_ARG_SYNTAX@41]\n"},
    /* the line layer */
    {.name = "NUL in an argument", TH_IN("NOOP a\0b\r\n"),
     .want = "CMD NOOP off=0 arg='a\\x00b' bad anoms=[NUL_BYTE@6,SMTP_ARG_SYNTAX@4]\n"},
    {.name = "NUL in the verb", TH_IN("QUIT\0\r\n"),
     .want = "CMD UNKNOWN off=0 kw='QUIT\\x00' bad anoms=[NUL_BYTE@4,SMTP_VERB_SYNTAX@4]\n"},
    {.name = "NUL after a valid command", TH_IN("RSET\r\n\0QUIT\r\n"),
     .want = "CMD RSET off=0 ok anoms=[]\n"
             "CMD UNKNOWN off=6 kw='\\x00QUIT' bad anoms=[NUL_BYTE@6,SMTP_VERB_SYNTAX@6]\n"},
    {.name = "bare LF", TH_IN("NOOP\nQUIT\n"),
     .want = "CMD NOOP off=0 ok anoms=[BARE_LF@4]\n"
             "CMD QUIT off=5 ok anoms=[BARE_LF@9]\n"},
    {.name = "bare CR", TH_IN("NOOP a\rb\r\n"),
     .want = "CMD NOOP off=0 arg='a\\rb' bad anoms=[BARE_CR@6,SMTP_ARG_SYNTAX@4]\n"},
    {.name = "CR CR LF", TH_IN("QUIT\r\r\n"),
     .want = "CMD UNKNOWN off=0 kw='QUIT\\r' bad anoms=[BARE_CR@4,SMTP_VERB_SYNTAX@4]\n"},
    {.name = "unterminated", TH_IN("NOOP\r\nQUIT"),
     .want = "CMD NOOP off=0 ok anoms=[]\n"
             "CMD QUIT off=6 ok anoms=[UNTERMINATED_LINE@10]\n"},
    {.name = "unterminated CR", TH_IN("QUIT\r"),
     .want = "CMD UNKNOWN off=0 kw='QUIT\\r' bad"
             " anoms=[BARE_CR@4,UNTERMINATED_LINE@5,SMTP_VERB_SYNTAX@4]\n"},
    {.name = "gap inside a command", TH_IN("NOOP\r\nVRFY x\r\nQUIT\r\n"), .gap_at = 8, .gap = 2,
     .want = "CMD NOOP off=0 ok anoms=[]\n"
             "CMD QUIT off=16 ok anoms=[]\n"},
    {.name = "gap between commands", TH_IN("NOOP\r\nQUIT\r\n"), .gap_at = 6, .gap = 3,
     .want = "CMD NOOP off=0 ok anoms=[]\n"},
};

/* AUTH (RFC 4954 s4) and SASL mode. */
static const struct ccase auth_cases[] = {
    {.name = "AUTH initial responses",
     TH_IN("AUTH PLAIN =\r\nAUTH plain dGVzdAB0ZXN0ADEyMzQ=\r\nAUTH PLAIN abc\r\n"
           "AUTH PLAIN a*cd\r\nAUTH PLAIN \r\nAUTH PLAIN AAAA BBBB\r\n"),
     .want = "CMD AUTH off=0 mech='PLAIN' ir secret=11+1 ok anoms=[]\n"
             "CMD AUTH off=14 mech='plain' ir secret=25+20 ok anoms=[]\n"
             "CMD AUTH off=47 mech='PLAIN' ir secret=58+3 bad anoms=[SMTP_SASL_BAD_BASE64@61]\n"
             "CMD AUTH off=63 mech='PLAIN' ir secret=74+4 bad anoms=[SMTP_SASL_BAD_BASE64@75]\n"
             "CMD AUTH off=80 mech='PLAIN' ir secret=91+0 bad anoms=[SMTP_SASL_BAD_BASE64@91]\n"
             "CMD AUTH off=93 mech='PLAIN' ir secret=104+9 bad"
             " anoms=[SMTP_SASL_BAD_BASE64@108]\n"},
    {.name = "AUTH mechanism",
     TH_IN("AUTH\r\nAUTH \r\nAUTH X.Y\r\nAUTH ABCDEFGHIJKLMNOPQRSTU\r\n"
           "AUTH ABCDEFGHIJKLMNOPQRST\r\n"),
     .want = "CMD AUTH off=0 bad anoms=[SMTP_ARG_SYNTAX@4]\n"
             "CMD AUTH off=6 bad anoms=[SMTP_ARG_SYNTAX@10]\n"
             "CMD AUTH off=13 mech='X.Y' bad anoms=[SMTP_ARG_SYNTAX@18]\n"
             "CMD AUTH off=23 mech='ABCDEFGHIJKLMNOPQRSTU' bad anoms=[SMTP_ARG_SYNTAX@28]\n"
             "CMD AUTH off=51 mech='ABCDEFGHIJKLMNOPQRST' ok anoms=[]\n"},
    {.name = "SASL lines", .plan = "s...c", TH_IN("AUTH X\r\n*\r\nabc!\r\n\r\n=\r\nQUIT\r\n"),
     .want = "CMD AUTH off=0 mech='X' ok anoms=[]\n"
             "SASL off=8 '*' cancel secret=8+1 ok anoms=[]\n"
             "SASL off=11 'abc!' secret=11+4 bad anoms=[SMTP_SASL_BAD_BASE64@14]\n"
             "SASL off=17 '' secret=17+0 ok anoms=[]\n"
             "SASL off=19 '=' secret=19+1 bad anoms=[SMTP_SASL_BAD_BASE64@20]\n"
             "CMD QUIT off=22 ok anoms=[]\n"},
    {.name = "SASL line with NUL and bare LF", .plan = "s", TH_IN("AUTH X\r\nAA\0A\nAAAA\n"),
     .want = "CMD AUTH off=0 mech='X' ok anoms=[]\n"
             "SASL off=8 'AA\\x00A' secret=8+4 bad anoms=[NUL_BYTE@10,BARE_LF@12,"
             "SMTP_SASL_BAD_BASE64@10]\n"
             "SASL off=13 'AAAA' secret=13+4 ok anoms=[BARE_LF@17]\n"},
    {.name = "SASL mode is the session's", TH_IN("AUTH X\r\nAAAA\r\n"),
     .want = "CMD AUTH off=0 mech='X' ok anoms=[]\n"
             "CMD UNKNOWN off=8 kw='AAAA' ok anoms=[]\n"},
};

/* DATA content (RFC 5321 s4.1.1.4, s4.5.2): events only for anomalies and
 * the terminator; END's offset is the terminator's '.', octets exclude
 * ".\r\n". Each feeding mode cuts the look-alikes differently. */
static const struct ccase data_cases[] = {
    {.name = "DATA", TH_IN("DATA\r\nHello\r\n.\r\nQUIT\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=13 octets=7 last anoms=[]\n"
             "CMD QUIT off=16 ok anoms=[]\n"},
    {.name = "empty message", TH_IN("DATA\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=6 octets=0 last anoms=[]\n"},
    {.name = "empty lines", TH_IN("DATA\r\n\r\n\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=10 octets=4 last anoms=[]\n"},
    {.name = "stuffed dots", TH_IN("DATA\r\n..\r\n...x\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=16 octets=10 last anoms=[]\n"},
    {.name = "unstuffed dots", TH_IN("DATA\r\n.x\r\n. \r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=6 anoms=[SMTP_BODY_UNSTUFFED_DOT@6]\n"
             "CONTENT off=10 anoms=[SMTP_BODY_UNSTUFFED_DOT@10]\n"
             "END off=14 octets=8 last anoms=[]\n"},
    {.name = "dot inside a line", TH_IN("DATA\r\na.b\r\na.\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=15 octets=9 last anoms=[]\n"},
    {.name = "bare LF", TH_IN("DATA\r\na\nb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_LF@7]\n"
             "END off=11 octets=5 last anoms=[]\n"},
    {.name = "bare CR", TH_IN("DATA\r\na\rb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_CR@7]\n"
             "END off=11 octets=5 last anoms=[]\n"},
    {.name = "CR CR LF", TH_IN("DATA\r\na\r\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_CR@7]\n"
             "END off=10 octets=4 last anoms=[]\n"},
    {.name = "NUL", TH_IN("DATA\r\na\0\0b\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_NUL@7]\n"
             "CONTENT off=8 anoms=[SMTP_BODY_NUL@8]\n"
             "END off=12 octets=6 last anoms=[]\n"},
    {.name = "8-bit, first occurrence only", TH_IN("DATA\r\nb\xc3\xbc\r\n\xc3\xa9\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_8BIT@7]\n"
             "END off=15 octets=9 8bit last anoms=[]\n"},
    {.name = "8-bit in each message", TH_IN("DATA\r\n\xc3\xa9\r\n.\r\nDATA\r\nb\xc3\xa9\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=6 anoms=[SMTP_BODY_8BIT@6]\n"
             "END off=10 octets=4 8bit last anoms=[]\n"
             "CMD DATA off=13 ok anoms=[]\n"
             "CONTENT off=20 anoms=[SMTP_BODY_8BIT@20]\n"
             "END off=24 octets=5 8bit last anoms=[]\n"},
    /* end-of-data look-alikes (SMTP smuggling) */
    {.name = "<LF>.<LF>", TH_IN("DATA\r\na\n.\nb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_LF@7]\n"
             "CONTENT off=9 anoms=[SMTP_BODY_BARE_LF@9,SMTP_BODY_DOT_LOOKALIKE@8]\n"
             "END off=13 octets=7 last anoms=[]\n"},
    {.name = "<LF>.<CR><LF>", TH_IN("DATA\r\na\n.\r\nb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_LF@7]\n"
             "CONTENT off=8 anoms=[SMTP_BODY_DOT_LOOKALIKE@8]\n"
             "END off=14 octets=8 last anoms=[]\n"},
    {.name = "<CR><LF>.<LF>", TH_IN("DATA\r\na\r\n.\nb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=10 anoms=[SMTP_BODY_BARE_LF@10,SMTP_BODY_DOT_LOOKALIKE@9]\n"
             "END off=14 octets=8 last anoms=[]\n"},
    {.name = "<CR>.<CR>", TH_IN("DATA\r\na\r.\rb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_CR@7]\n"
             "CONTENT off=9 anoms=[SMTP_BODY_BARE_CR@9,SMTP_BODY_DOT_LOOKALIKE@8]\n"
             "END off=13 octets=7 last anoms=[]\n"},
    {.name = "<CR>.<CR><LF>", TH_IN("DATA\r\na\r.\r\nb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_CR@7]\n"
             "CONTENT off=8 anoms=[SMTP_BODY_DOT_LOOKALIKE@8]\n"
             "END off=14 octets=8 last anoms=[]\n"},
    {.name = "<CR><LF>.<CR>", TH_IN("DATA\r\na\r\n.\rb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=10 anoms=[SMTP_BODY_BARE_CR@10,SMTP_BODY_DOT_LOOKALIKE@9]\n"
             "END off=14 octets=8 last anoms=[]\n"},
    {.name = "<LF>.<CR>", TH_IN("DATA\r\na\n.\rb\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_LF@7]\n"
             "CONTENT off=9 anoms=[SMTP_BODY_BARE_CR@9,SMTP_BODY_DOT_LOOKALIKE@8]\n"
             "END off=13 octets=7 last anoms=[]\n"},
    {.name = "look-alike right after DATA", TH_IN("DATA\r\n.\nQUIT\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=7 anoms=[SMTP_BODY_BARE_LF@7,SMTP_BODY_DOT_LOOKALIKE@6]\n"
             "END off=14 octets=8 last anoms=[]\n"},
    {.name = "smuggled command",
     TH_IN("DATA\r\nx\r\n.\nMAIL FROM:<evil@x>\r\n.\r\nQUIT\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=10 anoms=[SMTP_BODY_BARE_LF@10,SMTP_BODY_DOT_LOOKALIKE@9]\n"
             "END off=31 octets=25 last anoms=[]\n"
             "CMD QUIT off=34 ok anoms=[]\n"},
    {.name = "dot, CR, CR, LF", TH_IN("DATA\r\na\r\n.\r\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=10 anoms=[SMTP_BODY_BARE_CR@10,SMTP_BODY_DOT_LOOKALIKE@9]\n"
             "END off=13 octets=7 last anoms=[]\n"},
    /* end of stream inside the content */
    {.name = "unterminated content", TH_IN("DATA\r\nabc"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=9 octets=3 anoms=[SMTP_BODY_UNTERMINATED@9]\n"},
    {.name = "unterminated after CRLF .", TH_IN("DATA\r\na\r\n."),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=10 octets=4 anoms=[SMTP_BODY_UNTERMINATED@10]\n"},
    {.name = "unterminated after CRLF . CR", TH_IN("DATA\r\na\r\n.\r"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=11 octets=5 anoms=[SMTP_BODY_UNTERMINATED@11]\n"},
    /* the session's part: 354 or not */
    {.name = "DATA refused", .plan = "a", TH_IN("DATA\r\nRSET\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CMD RSET off=6 ok anoms=[]\n"},
    {.name = "DATA without 354", .plan = "n", TH_IN("DATA\r\nHello\r\n.\r\n"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CMD UNKNOWN off=6 kw='Hello' ok anoms=[]\n"
             "CMD UNKNOWN off=13 kw='.' bad anoms=[SMTP_VERB_SYNTAX@13]\n"},
    /* capture loss inside content: the scan goes on */
    {.name = "gap in DATA content", TH_IN("DATA\r\nab\r\ncd\r\n.\r\nQUIT\r\n"), .gap_at = 7,
     .gap = 3,
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=17 octets=11 last anoms=[]\n"
             "CMD QUIT off=20 ok anoms=[]\n"},
    /* After a gap the damaged line is not judged, its first LF ends it as
     * a CRLF would (the CR may be lost), and a terminator right after the
     * gap still ends DATA (the gap may have ended at a line start). */
    {.name = "terminator right after a gap",
     TH_IN("DATA\r\nab.\r\nQUIT\r\n.\r\n"), .gap_at = 8, .gap = 2,
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=10 octets=4 last anoms=[]\n"
             "CMD QUIT off=13 ok anoms=[]\n"
             "CMD UNKNOWN off=19 kw='.' bad anoms=[SMTP_VERB_SYNTAX@19]\n"},
    {.name = "LF right after a gap, then the terminator",
     TH_IN("DATA\r\nab\n.\r\nQUIT\r\n"), .gap_at = 8, .gap = 1,
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=10 octets=4 last anoms=[]\n"
             "CMD QUIT off=13 ok anoms=[]\n"},
    {.name = "nothing judged on the line damaged by a gap",
     TH_IN("DATA\r\nab\rc\x00\n.x\r\n.\r\n"), .gap_at = 7, .gap = 3,
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "CONTENT off=15 anoms=[SMTP_BODY_UNSTUFFED_DOT@15]\n"
             "END off=19 octets=13 last anoms=[]\n"},
    {.name = "gap right after DATA", TH_IN("DATA\r\n.x\r\n.\r\n"), .gap_at = 6, .gap = 1,
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=11 octets=5 last anoms=[]\n"},
};

/* BDAT (RFC 3030 s2): the parser counts the chunk itself; dots are data. */
static const struct ccase bdat_cases[] = {
    {.name = "BDAT LAST", TH_IN("BDAT 4 LAST\r\nab\r\nQUIT\r\n"),
     .want = "CMD BDAT off=0 size=4 last ok anoms=[]\n"
             "END off=17 octets=4 bdat last anoms=[]\n"
             "CMD QUIT off=17 ok anoms=[]\n"},
    {.name = "BDAT 0 LAST", TH_IN("BDAT 0 LAST\r\nQUIT\r\n"),
     .want = "CMD BDAT off=0 size=0 last ok anoms=[]\n"
             "END off=13 octets=0 bdat last anoms=[]\n"
             "CMD QUIT off=13 ok anoms=[]\n"},
    {.name = "BDAT 0 LAST at the end of the stream", TH_IN("BDAT 0 LAST\r\n"),
     .want = "CMD BDAT off=0 size=0 last ok anoms=[]\n"
             "END off=13 octets=0 bdat last anoms=[]\n"},
    {.name = "CRLF across two chunks", TH_IN("BDAT 3\r\nab\rBDAT 2 LAST\r\n\nx"),
     .want = "CMD BDAT off=0 size=3 ok anoms=[]\n"
             "END off=11 octets=3 bdat anoms=[]\n"
             "CMD BDAT off=11 size=2 last ok anoms=[]\n"
             "END off=26 octets=5 bdat last anoms=[]\n"},
    {.name = "dots are data", TH_IN("BDAT 9 LAST\r\n.\r\n.x\n.\r\n"),
     .want = "CMD BDAT off=0 size=9 last ok anoms=[]\n"
             "CONTENT off=18 anoms=[SMTP_BODY_BARE_LF@18]\n"
             "END off=22 octets=9 bdat last anoms=[]\n"},
    {.name = "CR ends the message", TH_IN("BDAT 2 LAST\r\na\r"),
     .want = "CMD BDAT off=0 size=2 last ok anoms=[]\n"
             "END off=15 octets=2 bdat last anoms=[SMTP_BODY_BARE_CR@14]\n"},
    {.name = "anomaly on a chunk's last octet", TH_IN("BDAT 2\r\na\0QUIT\r\n"),
     .want = "CMD BDAT off=0 size=2 ok anoms=[]\n"
             "CONTENT off=9 anoms=[SMTP_BODY_NUL@9]\n"
             "END off=10 octets=2 bdat anoms=[]\n"
             "CMD QUIT off=10 ok anoms=[]\n"},
    {.name = "anomaly on the last octet of the stream", TH_IN("BDAT 2 LAST\r\na\n"),
     .want = "CMD BDAT off=0 size=2 last ok anoms=[]\n"
             "CONTENT off=14 anoms=[SMTP_BODY_BARE_LF@14]\n"
             "END off=15 octets=2 bdat last anoms=[]\n"},
    {.name = "8-bit across chunks", TH_IN("BDAT 2\r\n\xc3\xa9" "BDAT 2 LAST\r\n\xc3\xa9"),
     .want = "CMD BDAT off=0 size=2 ok anoms=[]\n"
             "CONTENT off=8 anoms=[SMTP_BODY_8BIT@8]\n"
             "END off=10 octets=2 8bit bdat anoms=[]\n"
             "CMD BDAT off=10 size=2 last ok anoms=[]\n"
             "END off=25 octets=4 8bit bdat last anoms=[]\n"},
    {.name = "BDAT syntax",
     TH_IN("BDAT\r\nBDAT x\r\nBDAT 1 NOTLAST\r\nBDAT 1  LAST\r\nBDAT -1\r\n"
           "BDAT 4611686018427387905\r\nBDAT 1 last\r\nz"),
     .want = "CMD BDAT off=0 size=0 bad anoms=[SMTP_ARG_SYNTAX@4]\n"
             "CMD BDAT off=6 size=0 bad anoms=[SMTP_ARG_SYNTAX@11]\n"
             "CMD BDAT off=14 size=1 bad anoms=[SMTP_ARG_SYNTAX@20]\n"
             "CMD BDAT off=30 size=1 bad anoms=[SMTP_ARG_SYNTAX@36]\n"
             "CMD BDAT off=44 size=0 bad anoms=[SMTP_ARG_SYNTAX@49]\n"
             "CMD BDAT off=53 size=0 bad anoms=[SMTP_ARG_SYNTAX@58]\n"
             "CMD BDAT off=79 size=1 last ok anoms=[]\n"
             "END off=93 octets=1 bdat last anoms=[]\n"},
    {.name = "BDAT unterminated", TH_IN("BDAT 10\r\nabc"),
     .want = "CMD BDAT off=0 size=10 ok anoms=[]\n"
             "END off=12 octets=3 bdat anoms=[SMTP_BODY_UNTERMINATED@12]\n"},
    {.name = "RSET between chunks", TH_IN("BDAT 2\r\nabRSET\r\nBDAT 1 LAST\r\nc"),
     .want = "CMD BDAT off=0 size=2 ok anoms=[]\n"
             "END off=10 octets=2 bdat anoms=[]\n"
             "CMD RSET off=10 ok anoms=[]\n"
             "CMD BDAT off=16 size=1 last ok anoms=[]\n"
             "END off=30 octets=1 bdat last anoms=[]\n"},
    {.name = "DATA ends an open BDAT message",
     TH_IN("BDAT 2\r\nabDATA\r\nx\r\n.\r\nBDAT 1 LAST\r\ny"),
     .want = "CMD BDAT off=0 size=2 ok anoms=[]\n"
             "END off=10 octets=2 bdat anoms=[]\n"
             "CMD DATA off=10 ok anoms=[]\n"
             "END off=19 octets=3 last anoms=[]\n"
             "CMD BDAT off=22 size=1 last ok anoms=[]\n"
             "END off=36 octets=1 bdat last anoms=[]\n"},
    {.name = "BDAT LAST after DATA", TH_IN("DATA\r\nx\r\n.\r\nBDAT 1 LAST\r\ny"),
     .want = "CMD DATA off=0 ok anoms=[]\n"
             "END off=9 octets=3 last anoms=[]\n"
             "CMD BDAT off=12 size=1 last ok anoms=[]\n"
             "END off=26 octets=1 bdat last anoms=[]\n"},
    {.name = "gap inside a chunk", TH_IN("BDAT 4\r\nacQUIT\r\n"), .gap_at = 9, .gap = 2,
     .want = "CMD BDAT off=0 size=4 ok anoms=[]\n"
             "END off=12 octets=4 bdat anoms=[]\n"
             "CMD QUIT off=12 ok anoms=[]\n"},
    {.name = "gap over a chunk's end", TH_IN("BDAT 4\r\nabT\r\nNOOP\r\n"), .gap_at = 10,
     .gap = 4,
     .want = "CMD BDAT off=0 size=4 ok anoms=[]\n"
             "CMD NOOP off=17 ok anoms=[]\n"},
};

static int run_table(const struct ccase *tc, size_t n)
{
    static struct th_log got;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct cctx c = {.plan = tc[i].plan};
        th_run_modes_gap(&cmd_target, &c, tc[i].in, tc[i].len, tc[i].gap_at, tc[i].gap, &got);
        bad += !th_expect_log(tc[i].name, tc[i].want, &got);
    }
    return bad;
}

static void test_rfc_examples(void **state)
{
    (void)state;
    assert_int_equal(run_table(rfc_cases, TH_COUNT(rfc_cases)), 0);
}

static void test_commands(void **state)
{
    (void)state;
    assert_int_equal(run_table(cmd_cases, TH_COUNT(cmd_cases)), 0);
}

static void test_auth(void **state)
{
    (void)state;
    assert_int_equal(run_table(auth_cases, TH_COUNT(auth_cases)), 0);
}

static void test_data(void **state)
{
    (void)state;
    assert_int_equal(run_table(data_cases, TH_COUNT(data_cases)), 0);
}

static void test_bdat(void **state)
{
    (void)state;
    assert_int_equal(run_table(bdat_cases, TH_COUNT(bdat_cases)), 0);
}

/* ---- long lines ---- */

struct lcase {
    const char *name, *prefix;
    char fill;
    size_t n;
    const char *suffix, *plan;
    const char *fmt;   /* expected log; %s = th_shown(fill, n) */
};

/* RFC 5321 s4.5.3.1.4: 512 octets per command line; RFC 4954 s4: AUTH
 * lines and SASL responses up to 12288 (MC_SMTP_AUTH_LINE_MAX);
 * s4.5.3.1.6: 1000 per text line of content. */
static const struct lcase long_cases[] = {
    {"command limit", "NOOP ", 'x', 505, "\r\n", NULL,
     "CMD NOOP off=0 arg='%s' ok anoms=[]\n"},
    {"command limit+1", "NOOP ", 'x', 506, "\r\n", NULL,
     "CMD NOOP off=0 arg='%s' ok anoms=[LINE_TOO_LONG@510]\n"},
    {"command over MC_LINE_KEEP", "NOOP ", 'x', 2995, "\r\n", NULL,
     "CMD NOOP off=0 arg='%s' ok len=3000 trunc anoms=[LINE_TOO_LONG@510]\n"},
    {"MAIL parameter over the limit", "MAIL FROM:<a@b> X=", 'x', 600, "\r\n", NULL,
     "CMD MAIL off=0 path='<a@b>' local='a' dom='b' p:X=%s ok anoms=[LINE_TOO_LONG@510]\n"},
    {"AUTH over 512", "AUTH PLAIN ", 'A', 600, "\r\n", NULL,
     "CMD AUTH off=0 mech='PLAIN' ir secret=11+600 ok anoms=[]\n"},
    {"AUTH over MC_LINE_KEEP", "AUTH PLAIN ", 'A', 3001, "\r\n", NULL,
     "CMD AUTH off=0 mech='PLAIN' ir secret=11+2037 ok len=3012 trunc anoms=[]\n"},
    {"AUTH at its limit", "AUTH PLAIN ", 'A', 12275, "\r\n", NULL,
     "CMD AUTH off=0 mech='PLAIN' ir secret=11+2037 ok len=12286 trunc anoms=[]\n"},
    {"AUTH over its limit", "AUTH PLAIN ", 'A', 12276, "\r\n", NULL,
     "CMD AUTH off=0 mech='PLAIN' ir secret=11+2037 ok len=12287 trunc"
     " anoms=[LINE_TOO_LONG@12286]\n"},
    {"SASL response at its limit", "AUTH X\r\n", 'A', 12286, "\r\n", "s",
     "CMD AUTH off=0 mech='X' ok anoms=[]\n"
     "SASL off=8 '%s' secret=8+2048 ok len=12286 trunc anoms=[]\n"},
    {"SASL response over its limit", "AUTH X\r\n", 'A', 12287, "\r\n", "s",
     "CMD AUTH off=0 mech='X' ok anoms=[]\n"
     "SASL off=8 '%s' secret=8+2048 ok len=12287 trunc anoms=[LINE_TOO_LONG@12294]\n"},
    {"512 again after SASL", "AUTH X\r\nAAAA\r\nNOOP ", 'x', 506, "\r\n", "sc",
     "CMD AUTH off=0 mech='X' ok anoms=[]\n"
     "SASL off=8 'AAAA' secret=8+4 ok anoms=[]\n"
     "CMD NOOP off=14 arg='%s' ok anoms=[LINE_TOO_LONG@524]\n"},
    {"content line of 998", "DATA\r\n", 'x', 998, "\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "END off=1006 octets=1000 last anoms=[]\n"},
    {"content line of 999", "DATA\r\n", 'x', 999, "\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=1004 anoms=[SMTP_BODY_LINE_TOO_LONG@1004]\n"
     "END off=1007 octets=1001 last anoms=[]\n"},
    {"content line of 5000", "DATA\r\nab\r\n", 'x', 5000, "\r\nc\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=1008 anoms=[SMTP_BODY_LINE_TOO_LONG@1008]\n"
     "END off=5015 octets=5009 last anoms=[]\n"},
    /* s4.5.3.1.6: the dot duplicated for transparency is not counted */
    {"stuffed line of 998 counted", "DATA\r\n.", '.', 998, "\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "END off=1007 octets=1001 last anoms=[]\n"},
    {"stuffed line of 999 counted", "DATA\r\n.", '.', 999, "\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=1005 anoms=[SMTP_BODY_LINE_TOO_LONG@1005]\n"
     "END off=1008 octets=1002 last anoms=[]\n"},
    {"unstuffed long line", "DATA\r\n.", 'x', 3000, "\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=6 anoms=[SMTP_BODY_UNSTUFFED_DOT@6]\n"
     "CONTENT off=1004 anoms=[SMTP_BODY_LINE_TOO_LONG@1004]\n"
     "END off=3009 octets=3003 last anoms=[]\n"},
    {"998 octets, bare CR, 1 more", "DATA\r\n", 'x', 998, "\ry\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=1004 anoms=[SMTP_BODY_BARE_CR@1004,SMTP_BODY_LINE_TOO_LONG@1004]\n"
     "END off=1008 octets=1002 last anoms=[]\n"},
    {"997 octets, CR CR LF", "DATA\r\n", 'x', 997, "\r\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=1003 anoms=[SMTP_BODY_BARE_CR@1003]\n"
     "END off=1006 octets=1000 last anoms=[]\n"},
    {"999th octet 8-bit", "DATA\r\n", 'x', 998, "\xc3\xa9\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=1004 anoms=[SMTP_BODY_LINE_TOO_LONG@1004,SMTP_BODY_8BIT@1004]\n"
     "END off=1008 octets=1002 8bit last anoms=[]\n"},
    {"999th octet NUL", "DATA\r\n", 'x', 998, "\0\r\n.\r\n", NULL, ""},
    {"999th octet after 8-bit", "DATA\r\n\xc3\xa9", 'x', 996, "\xc3\xa9\r\n.\r\n", NULL,
     "CMD DATA off=0 ok anoms=[]\n"
     "CONTENT off=6 anoms=[SMTP_BODY_8BIT@6]\n"
     "CONTENT off=1004 anoms=[SMTP_BODY_LINE_TOO_LONG@1004]\n"
     "END off=1008 octets=1002 8bit last anoms=[]\n"},
    {"long lines in BDAT", "BDAT 1200 LAST\r\n", 'x', 1200, "", NULL,
     "CMD BDAT off=0 size=1200 last ok anoms=[]\n"
     "CONTENT off=1014 anoms=[SMTP_BODY_LINE_TOO_LONG@1014]\n"
     "END off=1216 octets=1200 bdat last anoms=[]\n"},
};

static size_t build_case(uint8_t *in, size_t cap, const struct lcase *tc)
{
    /* th_build stops at a NUL in the suffix; the one case with a NUL
     * appends it by hand */
    if (strcmp(tc->name, "999th octet NUL") == 0) {
        size_t n = th_build(in, cap, tc->prefix, tc->fill, tc->n, "");
        memcpy(in + n, "\0\r\n.\r\n", 6);
        return n + 6;
    }
    return th_build(in, cap, tc->prefix, tc->fill, tc->n, tc->suffix);
}

static void test_long_lines(void **state)
{
    static uint8_t in[16384];
    static struct th_log got;
    char want[2048];
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < TH_COUNT(long_cases); i++) {
        const struct lcase *tc = &long_cases[i];
        struct cctx c = {.plan = tc->plan};
        size_t len = build_case(in, sizeof(in), tc);
        if (tc->fmt[0])
            snprintf(want, sizeof(want), tc->fmt, th_shown(tc->fill, tc->n));
        else
            snprintf(want, sizeof(want), "CMD DATA off=0 ok anoms=[]\n"
                     "CONTENT off=1004 anoms=[SMTP_BODY_LINE_TOO_LONG@1004,SMTP_BODY_NUL@1004]\n"
                     "END off=1007 octets=1001 last anoms=[]\n");
        th_run_modes(&cmd_target, &c, in, len, &got);
        bad += !th_expect_log(tc->name, want, &got);
    }
    assert_int_equal(bad, 0);
}

/* ---- the fast path: one special octet at every position of a line ---- */

/* Each of NUL, bare CR, bare LF and the first 8-bit octet at every column
 * 0..40 of an 80-octet content line: the plain-octet scan works eight
 * octets at a time, so every alignment is tried (and the feeding modes
 * shift the alignment again). */
static void test_content_positions(void **state)
{
    static const struct {
        uint8_t c;
        const char *anom;
        bool eight;
    } sp[] = {
        {0x00, "SMTP_BODY_NUL", false},
        {'\r', "SMTP_BODY_BARE_CR", false},
        {'\n', "SMTP_BODY_BARE_LF", false},
        {0xe9, "SMTP_BODY_8BIT", true},
    };
    static struct th_log got;
    uint8_t in[128];
    char want[512];
    int bad = 0;
    (void)state;
    for (size_t k = 0; k < TH_COUNT(sp); k++) {
        for (size_t pos = 0; pos <= 40; pos++) {
            struct cctx c = {.plan = NULL};
            size_t n = 0;
            memcpy(in, "DATA\r\n", 6);
            n = 6;
            memset(in + n, 'x', pos);
            n += pos;
            in[n++] = sp[k].c;
            memset(in + n, 'y', 40 - pos);
            n += 40 - pos;
            memcpy(in + n, "\r\n.\r\n", 5);
            n += 5;
            snprintf(want, sizeof(want),
                     "CMD DATA off=0 ok anoms=[]\n"
                     "CONTENT off=%zu anoms=[%s@%zu]\n"
                     "END off=49 octets=43%s last anoms=[]\n",
                     6 + pos, sp[k].anom, 6 + pos, sp[k].eight ? " 8bit" : "");
            th_run_modes(&cmd_target, &c, in, n, &got);
            if (!th_expect_log(sp[k].anom, want, &got)) {
                print_error("(at column %zu)\n", pos);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- long inputs: whole, byte by byte, fixed pieces, chosen splits ---- */

static void run_sampled(struct cctx *c, const uint8_t *in, size_t len, const size_t *cuts,
                        size_t ncuts, struct th_log *out)
{
    static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 13, 64, 999, 1000, 1001, 4096, 65536};
    static struct th_log l2;
    struct th_guard g;
    th_guard_init(&g, len);
    out->len = 0;
    out->s[0] = '\0';
    c_start(c);
    c_feed(c, out, th_guard_put(&g, in, len), len);
    c_finish(c, out);
    for (size_t k = 0; k < TH_COUNT(sizes) + ncuts; k++) {
        l2.len = 0;
        l2.s[0] = '\0';
        c_start(c);
        if (k < TH_COUNT(sizes)) {
            for (size_t off = 0; off < len; off += sizes[k]) {
                size_t m = len - off < sizes[k] ? len - off : sizes[k];
                c_feed(c, &l2, th_guard_put(&g, in + off, m), m);
            }
        } else {
            size_t cut = cuts[k - TH_COUNT(sizes)];
            assert_true(cut <= len);
            c_feed(c, &l2, th_guard_put(&g, in, cut), cut);
            c_feed(c, &l2, th_guard_put(&g, in + cut, len - cut), len - cut);
        }
        c_finish(c, &l2);
        if (strcmp(out->s, l2.s) != 0) {
            print_error("piece size / cut #%zu differs from whole input:\n--- whole:\n%s"
                        "--- pieces:\n%s", k, out->s, l2.s);
            fail();
        }
    }
    th_guard_free(&g);
}

static size_t put(uint8_t *buf, size_t at, const char *s)
{
    memcpy(buf + at, s, strlen(s));
    return at + strlen(s);
}

/* ---- random content against a reference model ---- */

/* A byte-at-a-time model of the content rules as RFC 5321 s4.1.1.4 and
 * s4.5.2 and the header describe them, with none of the parser's fast
 * path: it writes the log the parser must give for "DATA\r\n" + content. */
struct model {
    struct th_log *log;
    bool cr, dot, long_said, seen8;
    int ls, dot_kind;   /* how the last line ended: 0 none, 1 CRLF, 2 LF, 3 CR */
    uint64_t cr_off, dot_off, col, line_start, start;
    char pend[512];
    size_t np;
    uint64_t first;
};

static void m_anom(struct model *m, const char *name, uint64_t off)
{
    if (m->np == 0)
        m->first = off;
    m->np += (size_t)snprintf(m->pend + m->np, sizeof(m->pend) - m->np, "%s%s@%llu",
                              m->np ? "," : "", name, (unsigned long long)off);
}

/* returns true at the terminator's LF */
static bool m_octet(struct model *m, uint8_t b, uint64_t o)
{
    m->np = 0;
    if (m->cr) {
        m->cr = false;
        if (b == '\n') {
            if (m->dot && m->dot_kind == 1)
                return true;
            if (m->dot)
                m_anom(m, "SMTP_BODY_DOT_LOOKALIKE", m->dot_off);
            m->dot = false;
            m->ls = 1;
            m->col = 0;
            m->long_said = false;
            m->line_start = o + 1;
            goto out;
        }
        m_anom(m, "SMTP_BODY_BARE_CR", m->cr_off);
        if (m->dot)
            m_anom(m, "SMTP_BODY_DOT_LOOKALIKE", m->dot_off);
        m->dot = false;
        m->ls = 3;
    }
    if (b == '\r') {
        m->cr = true;
        m->cr_off = o;
        m->col++;
        goto out;
    }
    if (b == '\n') {
        m_anom(m, "SMTP_BODY_BARE_LF", o);
        if (m->dot)
            m_anom(m, "SMTP_BODY_DOT_LOOKALIKE", m->dot_off);
        m->dot = false;
        m->ls = 2;
        m->col = 0;
        m->long_said = false;
        m->line_start = o + 1;
        goto out;
    }
    if (m->dot) {
        m->dot = false;
        if (b != '.' && m->dot_kind == 1)
            m_anom(m, "SMTP_BODY_UNSTUFFED_DOT", m->dot_off);
        if (b == '.') {        /* the stuffing dot is not counted */
            m->col--;
            m->line_start++;
        }
    } else if (m->ls && b == '.') {
        m->dot = true;
        m->dot_kind = m->ls;
        m->dot_off = o;
    }
    m->ls = 0;
    if (++m->col > 998 && !m->long_said) {
        m->long_said = true;
        m_anom(m, "SMTP_BODY_LINE_TOO_LONG", m->line_start + 998);
    }
    if (b == 0)
        m_anom(m, "SMTP_BODY_NUL", o);
    if (b >= 0x80 && !m->seen8) {
        m->seen8 = true;
        m_anom(m, "SMTP_BODY_8BIT", o);
    }
out:
    if (m->np)
        th_logf(m->log, "CONTENT off=%llu anoms=[%s]\n", (unsigned long long)m->first, m->pend);
    return false;
}

static void model_data(struct th_log *log, const uint8_t *c, size_t n)
{
    struct model m = {.log = log, .ls = 1, .line_start = 6, .start = 6};
    log->len = 0;
    log->s[0] = '\0';
    th_logf(log, "CMD DATA off=0 ok anoms=[]\n");
    for (size_t i = 0; i < n; i++) {
        if (m_octet(&m, c[i], 6 + i)) {
            th_logf(log, "END off=%llu octets=%zu%s last anoms=[]\n",
                    (unsigned long long)m.dot_off, i - 2, m.seen8 ? " 8bit" : "");
            if (i + 1 < n)
                th_logf(log, "TAIL\n");
            return;
        }
    }
    th_logf(log, "END off=%zu octets=%zu%s anoms=[SMTP_BODY_UNTERMINATED@%zu]\n", 6 + n, n,
            m.seen8 ? " 8bit" : "", 6 + n);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

static void test_content_random(void **state)
{
    static const uint8_t alpha[] = {'a', 'a', 'a', 'a', '.', '.', '\r', '\r', '\n', '\n', 0,
                                    0xe9};
    static uint8_t in[2600];
    static struct th_log got, want;
    int bad = 0, ends = 0;
    (void)state;
    for (int t = 0; t < 600; t++) {
        struct cctx c = {.plan = NULL};
        size_t n = 6, len = 1 + rnd() % 60;
        memcpy(in, "DATA\r\n", 6);
        for (size_t k = 0; k < len; k++) {
            if (rnd() % 50 == 0 && n < 1400) {   /* now and then a long run */
                size_t run = 900 + rnd() % 200;
                memset(in + n, 'a', run);
                n += run;
            } else {
                in[n++] = alpha[rnd() % sizeof(alpha)];
            }
        }
        if (t % 2)   /* half of them end properly */
            n = put(in, n, "\r\n.\r\n");
        model_data(&want, in + 6, n - 6);
        if (strstr(want.s, "TAIL"))
            continue;   /* the terminator came early: commands follow */
        ends += strstr(want.s, "last") != NULL;
        if (n > 300) {
            size_t cuts[] = {7, 8, 9, 100, 200, 300, 1000, 1001, 1002, 1003, 1004, 1005, n - 3};
            for (size_t k = 0; k < TH_COUNT(cuts); k++)
                if (cuts[k] > n)
                    cuts[k] = n;
            run_sampled(&c, in, n, cuts, TH_COUNT(cuts), &got);
        } else {
            th_run_modes(&cmd_target, &c, in, n, &got);
        }
        if (!th_expect_log("random content", want.s, &got)) {
            char esc[4096];
            mc_escape(esc, sizeof(esc), in, n);
            print_error("input: '%s'\n", esc);
            if (++bad > 3)
                break;
        }
    }
    assert_true(ends > 100);
    assert_int_equal(bad, 0);
}

/* Random client streams mixing commands, DATA and BDAT content and a gap:
 * no expected log, but every feeding mode must give the same one, and the
 * driver checks offsets, has_event and in_content after every call. */
static void test_stream_random(void **state)
{
    static const uint8_t alpha[] = {'a', 'a', '.', '\r', '\n', 0, 0xe9, ' '};
    static uint8_t in[1024];
    static struct th_log got;
    (void)state;
    for (int t = 0; t < 400; t++) {
        struct cctx c = {.plan = NULL};
        size_t n = 0, gap_at = 0;
        uint64_t gap = 0;
        int parts = 1 + (int)(rnd() % 6);
        for (int k = 0; k < parts && n < 800; k++) {
            unsigned what = rnd() % 6;
            if (what == 0) {
                n = put(in, n, "NOOP\r\n");
            } else if (what == 1 || what == 2) {
                size_t sz = rnd() % 12;
                n += (size_t)snprintf((char *)in + n, 32, "BDAT %zu%s\r\n", sz,
                                      what == 2 ? " LAST" : "");
                for (size_t i = 0; i < sz; i++)
                    in[n++] = alpha[rnd() % sizeof(alpha)];
            } else if (what == 3) {
                size_t sz = rnd() % 20;
                n = put(in, n, "DATA\r\n");
                for (size_t i = 0; i < sz; i++)
                    in[n++] = alpha[rnd() % sizeof(alpha)];
                if (rnd() % 4)
                    n = put(in, n, "\r\n.\r\n");
            } else if (what == 4) {
                n = put(in, n, "RSET\r\n");
            } else {
                size_t sz = rnd() % 10;
                for (size_t i = 0; i < sz; i++)
                    in[n++] = alpha[rnd() % sizeof(alpha)];
            }
        }
        if (n > 0 && rnd() % 3 == 0) {
            gap_at = rnd() % (n + 1);
            gap = 1 + rnd() % 8;
        }
        th_run_modes_gap(&cmd_target, &c, in, n, gap_at, gap, &got);
    }
}



/* RFC 3030 s4.2 verbatim but for the message: "(First 10000 octets of
 * canonical MIME message data)" stands for the 100000 octets the BDAT
 * announces, and "(Remaining 324 octets ...)" for the rest; here they are
 * lines of 78 letters and a last line "ab", CRLF each. */
static void test_rfc3030_pipelining(void **state)
{
    static uint8_t in[101000];
    static uint8_t msg[100324];
    static struct th_log got;
    struct cctx c = {.plan = NULL};
    size_t n = 0, m = 0;
    const size_t cuts[] = {152, 164, 165, 166, 100164, 100165, 100166, 100175, 100498, 100499,
                           100511, 100512};
    (void)state;
    while (m + 80 <= 100320) {
        memset(msg + m, 'a' + (int)(m / 80 % 26), 78);
        msg[m + 78] = '\r';
        msg[m + 79] = '\n';
        m += 80;
    }
    memcpy(msg + m, "ab\r\n", 4);
    m += 4;
    assert_int_equal(m, sizeof(msg));
    n = put(in, n, "EHLO ymir.claremont.edu\r\n"
                   "MAIL FROM:<ned@ymir.claremont.edu> BODY=BINARYMIME\r\n"
                   "RCPT TO:<gvaudre@cnri.reston.va.us>\r\n"
                   "RCPT TO:<jstewart@cnri.reston.va.us>\r\n"
                   "BDAT 100000\r\n");
    memcpy(in + n, msg, 100000);
    n += 100000;
    n = put(in, n, "BDAT 324\r\n");
    memcpy(in + n, msg + 100000, 324);
    n += 324;
    n = put(in, n, "BDAT 0 LAST\r\n" "QUIT\r\n");
    run_sampled(&c, in, n, cuts, TH_COUNT(cuts), &got);
    assert_true(th_expect_log(
        "RFC 3030 4.2 pipelining BINARYMIME",
        "CMD EHLO off=0 host='ymir.claremont.edu' ok anoms=[]\n"
        "CMD MAIL off=25 path='<ned@ymir.claremont.edu>' local='ned' dom='ymir.claremont.edu'"
        " p:BODY=BINARYMIME ok anoms=[]\n"
        "CMD RCPT off=77 path='<gvaudre@cnri.reston.va.us>' local='gvaudre'"
        " dom='cnri.reston.va.us' ok anoms=[]\n"
        "CMD RCPT off=114 path='<jstewart@cnri.reston.va.us>' local='jstewart'"
        " dom='cnri.reston.va.us' ok anoms=[]\n"
        "CMD BDAT off=152 size=100000 ok anoms=[]\n"
        "END off=100165 octets=100000 bdat anoms=[]\n"
        "CMD BDAT off=100165 size=324 ok anoms=[]\n"
        "END off=100499 octets=100324 bdat anoms=[]\n"
        "CMD BDAT off=100499 size=0 last ok anoms=[]\n"
        "END off=100512 octets=100324 bdat last anoms=[]\n"
        "CMD QUIT off=100512 ok anoms=[]\n",
        &got));
}

/* A large DATA message: long lines, a first 8-bit octet deep inside a run,
 * a look-alike after 60000 octets; fed whole, in pieces and cut at and
 * around every anomaly. */
static void test_large_message(void **state)
{
    static uint8_t in[70000];
    static struct th_log got;
    struct cctx c = {.plan = NULL};
    size_t n = 0;
    const size_t cuts[] = {6, 1003, 1004, 1005, 5006, 5007, 5008, 7777, 7778, 60029, 60030,
                           60031, 60032, 60033, 61034, 61035, 62038, 62039};
    (void)state;
    n = put(in, n, "DATA\r\n");
    memset(in + n, 'x', 5000);     /* 6..5005: LINE_TOO_LONG at 1004 */
    n += 5000;
    n = put(in, n, "\r\n");        /* 5006 */
    while (n < 60000) {            /* 5008..60027: 70-octet lines */
        memset(in + n, 'y', 68);
        n += 68;
        n = put(in, n, "\r\n");
    }
    in[7777] = 0xf0;               /* inside a line of 'y' */
    assert_int_equal(n, 60028);
    n = put(in, n, "z\n.\r\nw\r\n"); /* bare LF at 60029, look-alike '.' at 60030 */
    memset(in + n, 'v', 2000);
    n += 2000;
    n = put(in, n, "\r\n.\r\nQUIT\r\n");
    run_sampled(&c, in, n, cuts, TH_COUNT(cuts), &got);
    assert_true(th_expect_log(
        "large message",
        "CMD DATA off=0 ok anoms=[]\n"
        "CONTENT off=1004 anoms=[SMTP_BODY_LINE_TOO_LONG@1004]\n"
        "CONTENT off=7777 anoms=[SMTP_BODY_8BIT@7777]\n"
        "CONTENT off=60029 anoms=[SMTP_BODY_BARE_LF@60029]\n"
        "CONTENT off=60030 anoms=[SMTP_BODY_DOT_LOOKALIKE@60030]\n"
        "CONTENT off=61034 anoms=[SMTP_BODY_LINE_TOO_LONG@61034]\n"
        "END off=62038 octets=62032 8bit last anoms=[]\n"
        "CMD QUIT off=62041 ok anoms=[]\n",
        &got));
}

/* A message line that goes on across BDAT chunks: the 999th octet is in
 * the second chunk, after the BDAT command line between them. */
static void test_bdat_line_across_chunks(void **state)
{
    static uint8_t in[2048];
    static struct th_log got;
    struct cctx c = {.plan = NULL};
    size_t n = 0;
    (void)state;
    n = put(in, n, "BDAT 600\r\n");
    memset(in + n, 'x', 600);
    n += 600;
    n = put(in, n, "BDAT 402 LAST\r\n");
    memset(in + n, 'x', 400);
    n += 400;
    n = put(in, n, "\r\n");
    th_run_modes(&cmd_target, &c, in, n, &got);
    assert_true(th_expect_log("line across chunks",
                              "CMD BDAT off=0 size=600 ok anoms=[]\n"
                              "END off=610 octets=600 bdat anoms=[]\n"
                              "CMD BDAT off=610 size=402 last ok anoms=[]\n"
                              "CONTENT off=1023 anoms=[SMTP_BODY_LINE_TOO_LONG@1023]\n"
                              "END off=1027 octets=1002 bdat last anoms=[]\n",
                              &got));
}

/* ---- the API around content ---- */

static void test_api(void **state)
{
    struct mc_smtp_cmd p;
    struct mc_smtp_cmd_ev ev;
    size_t used;
    (void)state;
    assert_string_equal(mc_smtp_verb_name(MC_SMTP_UNKNOWN), "UNKNOWN");
    assert_string_equal(mc_smtp_verb_name(MC_SMTP_STARTTLS), "STARTTLS");
    assert_string_equal(mc_smtp_verb_name(MC_SMTP_TURN), "TURN");
    assert_string_equal(mc_smtp_verb_name(MC_SMTP_VERB_COUNT), "INVALID");
    assert_string_equal(mc_smtp_verb_name((enum mc_smtp_verb)-1), "INVALID");

    /* "BDAT 0 LAST": the chunk's end is an event without an octet */
    mc_smtp_cmd_init(&p);
    assert_int_equal(mc_smtp_cmd_feed(&p, (const uint8_t *)"BDAT 0 LAST\r\nQUIT\r\n", 19, &used,
                                      &ev), MC_EVENT);
    assert_int_equal(used, 13);
    assert_int_equal(ev.verb, MC_SMTP_BDAT);
    assert_true(mc_smtp_cmd_in_content(&p));
    assert_true(mc_smtp_cmd_has_event(&p));
    assert_int_equal(mc_smtp_cmd_feed(&p, NULL, 0, &used, &ev), MC_EVENT);
    assert_int_equal(used, 0);
    assert_int_equal(ev.type, MC_SMTP_CMD_CONTENT_END);
    assert_true(ev.last);
    assert_false(mc_smtp_cmd_has_event(&p));
    assert_false(mc_smtp_cmd_in_content(&p));
    assert_int_equal(mc_smtp_cmd_offset(&p), 13);

    /* DATA: abort only before the first content octet */
    mc_smtp_cmd_init(&p);
    assert_int_equal(mc_smtp_cmd_feed(&p, (const uint8_t *)"DATA\r\n", 6, &used, &ev), MC_EVENT);
    assert_false(mc_smtp_cmd_abort_data(&p));   /* no DATA expected yet */
    mc_smtp_cmd_expect_data(&p);
    assert_int_equal(mc_smtp_cmd_feed(&p, (const uint8_t *)"ab", 2, &used, &ev), MC_NEED_MORE);
    assert_int_equal(mc_smtp_cmd_content_octets(&p), 2);
    assert_false(mc_smtp_cmd_partial(&p));
    assert_false(mc_smtp_cmd_abort_data(&p));
    assert_true(mc_smtp_cmd_in_content(&p));
    assert_int_equal(mc_smtp_cmd_offset(&p), 8);
    mc_smtp_cmd_gap(&p, 10);
    assert_int_equal(mc_smtp_cmd_offset(&p), 18);
    assert_int_equal(mc_smtp_cmd_content_octets(&p), 12);
    assert_int_equal(mc_smtp_cmd_feed(&p, (const uint8_t *)"\r\n.\r\nQU", 7, &used, &ev),
                     MC_EVENT);
    assert_int_equal(used, 5);
    assert_int_equal(ev.type, MC_SMTP_CMD_CONTENT_END);
    assert_int_equal(ev.line.off, 20);
    assert_int_equal(ev.content_octets, 14);
    assert_int_equal(mc_smtp_cmd_content_octets(&p), 0);
    assert_int_equal(mc_smtp_cmd_feed(&p, (const uint8_t *)"QU", 2, &used, &ev), MC_NEED_MORE);
    assert_true(mc_smtp_cmd_partial(&p));
    assert_int_equal(mc_smtp_cmd_offset(&p), 25);

    /* SASL mode */
    mc_smtp_cmd_init(&p);
    mc_smtp_cmd_expect_sasl(&p, true);
    assert_true(mc_smtp_cmd_in_sasl(&p));
    assert_int_equal(mc_smtp_cmd_feed(&p, (const uint8_t *)"*\r\n", 3, &used, &ev), MC_EVENT);
    assert_int_equal(ev.type, MC_SMTP_CMD_SASL);
    assert_true(ev.cancel);
    mc_smtp_cmd_expect_sasl(&p, false);
    assert_false(mc_smtp_cmd_in_sasl(&p));
    assert_false(mc_smtp_cmd_resyncing(&p));
    mc_smtp_cmd_gap(&p, 1);
    assert_true(mc_smtp_cmd_resyncing(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_content_positions),
        cmocka_unit_test(test_content_random),
        cmocka_unit_test(test_stream_random),
        cmocka_unit_test(test_rfc3030_pipelining),
        cmocka_unit_test(test_large_message),
        cmocka_unit_test(test_bdat_line_across_chunks),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
