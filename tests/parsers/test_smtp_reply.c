/*
 * smtp_reply: reply lines, codes, multi-line replies, enhanced status codes
 * (RFC 2034), 334 challenges, limits, gaps, end of stream, and the EHLO
 * keyword helper. Every stream case runs in the three feeding modes on
 * guard-page input (test_harness.h).
 *
 * Log line per event:
 *   REPLY off=N code=N rc=N [first] [last] text='..' [esc='..'] [len=N trunc]
 *         anoms=[..]
 * rc is the code of the reply's first line (reply_code).
 */
#include "test_harness.h"

#include "smtp/smtp_reply.h"

struct rctx {
    struct mc_smtp_reply p;
    uint64_t pos;
};

static void reply_log(struct rctx *c, struct th_log *log, const struct mc_smtp_reply_ev *ev)
{
    bool spans_ok = th_span_in(&ev->text, &ev->line) && th_span_in(&ev->esc, &ev->line);
    unsigned want_class = ev->esc.len ? (unsigned)(ev->esc.ptr[0] - '0') : 0;
    th_logf(log, "REPLY off=%llu code=%u rc=%u%s%s text=", (unsigned long long)ev->line.off,
            ev->code, ev->reply_code, ev->first ? " first" : "", ev->last ? " last" : "");
    th_log_bytes(log, ev->text.ptr, ev->text.len);
    if (ev->esc.len) {
        th_logf(log, " esc=");
        th_log_bytes(log, ev->esc.ptr, ev->esc.len);
    }
    if (ev->truncated)
        th_logf(log, " len=%llu trunc", (unsigned long long)ev->line_len);
    if (!spans_ok || ev->line.len > MC_LINE_KEEP ||
        ev->truncated != (ev->line_len > MC_LINE_KEEP) || ev->esc_class != want_class)
        th_logf(log, " BADSPAN");
    th_log_anoms(log, &ev->anoms);
    th_logf(log, "\n");
    assert_int_equal(mc_smtp_reply_in_reply(&c->p), !ev->last);
}

static void r_start(void *vc)
{
    struct rctx *c = vc;
    mc_smtp_reply_init(&c->p);
    assert_false(mc_smtp_reply_in_reply(&c->p));
    assert_false(mc_smtp_reply_partial(&c->p));
    c->pos = 0;
}

static void r_feed(void *vc, struct th_log *log, const uint8_t *p, size_t n)
{
    struct rctx *c = vc;
    size_t off = 0;
    for (;;) {
        struct mc_smtp_reply_ev ev;
        size_t used = (size_t)-1;
        int r = mc_smtp_reply_feed(&c->p, p + off, n - off, &used, &ev);
        assert_true(used <= n - off);
        off += used;
        if (r == MC_NEED_MORE) {
            assert_int_equal(off, n);
            break;
        }
        assert_int_equal(r, MC_EVENT);
        assert_true(used > 0);
        assert_false(mc_smtp_reply_partial(&c->p));
        reply_log(c, log, &ev);
    }
    c->pos += n;
    assert_int_equal(mc_smtp_reply_offset(&c->p), c->pos);
}

static void r_finish(void *vc, struct th_log *log)
{
    struct rctx *c = vc;
    struct mc_smtp_reply_ev ev;
    int rounds = 0;
    while (mc_smtp_reply_finish(&c->p, &ev) == MC_EVENT) {
        assert_true(++rounds <= 2);
        reply_log(c, log, &ev);
    }
    assert_int_equal(mc_smtp_reply_finish(&c->p, &ev), MC_NEED_MORE);
    assert_false(mc_smtp_reply_in_reply(&c->p));
}

static void r_gap(void *vc, struct th_log *log, uint64_t n)
{
    struct rctx *c = vc;
    (void)log;
    mc_smtp_reply_gap(&c->p, n);
    assert_false(mc_smtp_reply_in_reply(&c->p));
    c->pos += n;
    assert_int_equal(mc_smtp_reply_offset(&c->p), c->pos);
}

static const struct th_target reply_target = {r_start, r_feed, r_finish, r_gap};

struct rcase {
    const char *name;
    const char *in;
    size_t len;
    size_t gap_at;
    uint64_t gap;
    const char *want;
};

/* The server side of the RFC examples verbatim ("S:" / "R:" lines with
 * CRLF). Expected logs come from an independent model of the grammar
 * (offsets = sums of line lengths). RFC 5321 Appendix D and RFC 3030 s4
 * yield no anomaly. */
static const struct rcase rfc_cases[] = {
    {.name = "RFC 5321 D.1 typical transaction",
     TH_IN("220 foo.com Simple Mail Transfer Service Ready\r\n"
           "250-foo.com greets bar.com\r\n"
           "250-8BITMIME\r\n"
           "250-SIZE\r\n"
           "250-DSN\r\n"
           "250 HELP\r\n"
           "250 OK\r\n"
           "250 OK\r\n"
           "550 No such user here\r\n"
           "250 OK\r\n"
           "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
           "250 OK\r\n"
           "221 foo.com Service closing transmission channel\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first last text='foo.com Simple Mail Transfer Service"
             " Ready' anoms=[]\n"
             "REPLY off=48 code=250 rc=250 first text='foo.com greets bar.com' anoms=[]\n"
             "REPLY off=76 code=250 rc=250 text='8BITMIME' anoms=[]\n"
             "REPLY off=90 code=250 rc=250 text='SIZE' anoms=[]\n"
             "REPLY off=100 code=250 rc=250 text='DSN' anoms=[]\n"
             "REPLY off=109 code=250 rc=250 last text='HELP' anoms=[]\n"
             "REPLY off=119 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=127 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=135 code=550 rc=550 first last text='No such user here' anoms=[]\n"
             "REPLY off=158 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=166 code=354 rc=354 first last text='Start mail input; end with"
             " <CRLF>.<CRLF>' anoms=[]\n"
             "REPLY off=212 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=220 code=221 rc=221 first last text='foo.com Service closing transmission"
             " channel' anoms=[]\n"},
    {.name = "RFC 5321 D.2 aborted transaction",
     TH_IN("220 foo.com Simple Mail Transfer Service Ready\r\n"
           "250-foo.com greets bar.com\r\n"
           "250-8BITMIME\r\n"
           "250-SIZE\r\n"
           "250-DSN\r\n"
           "250 HELP\r\n"
           "250 OK\r\n"
           "250 OK\r\n"
           "550 No such user here\r\n"
           "250 OK\r\n"
           "221 foo.com Service closing transmission channel\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first last text='foo.com Simple Mail Transfer Service"
             " Ready' anoms=[]\n"
             "REPLY off=48 code=250 rc=250 first text='foo.com greets bar.com' anoms=[]\n"
             "REPLY off=76 code=250 rc=250 text='8BITMIME' anoms=[]\n"
             "REPLY off=90 code=250 rc=250 text='SIZE' anoms=[]\n"
             "REPLY off=100 code=250 rc=250 text='DSN' anoms=[]\n"
             "REPLY off=109 code=250 rc=250 last text='HELP' anoms=[]\n"
             "REPLY off=119 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=127 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=135 code=550 rc=550 first last text='No such user here' anoms=[]\n"
             "REPLY off=158 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=166 code=221 rc=221 first last text='foo.com Service closing transmission"
             " channel' anoms=[]\n"},
    {.name = "RFC 5321 D.3 relayed, step 1",
     TH_IN("220 foo.com Simple Mail Transfer Service Ready\r\n"
           "250-foo.com greets bar.com\r\n"
           "250-8BITMIME\r\n"
           "250-SIZE\r\n"
           "250-DSN\r\n"
           "250 HELP\r\n"
           "250 OK\r\n"
           "250 OK\r\n"
           "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
           "250 OK\r\n"
           "221 foo.com Service closing transmission channel\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first last text='foo.com Simple Mail Transfer Service"
             " Ready' anoms=[]\n"
             "REPLY off=48 code=250 rc=250 first text='foo.com greets bar.com' anoms=[]\n"
             "REPLY off=76 code=250 rc=250 text='8BITMIME' anoms=[]\n"
             "REPLY off=90 code=250 rc=250 text='SIZE' anoms=[]\n"
             "REPLY off=100 code=250 rc=250 text='DSN' anoms=[]\n"
             "REPLY off=109 code=250 rc=250 last text='HELP' anoms=[]\n"
             "REPLY off=119 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=127 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=135 code=354 rc=354 first last text='Start mail input; end with"
             " <CRLF>.<CRLF>' anoms=[]\n"
             "REPLY off=181 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=189 code=221 rc=221 first last text='foo.com Service closing transmission"
             " channel' anoms=[]\n"},
    {.name = "RFC 5321 D.3 relayed, step 2",
     TH_IN("220 xyz.com Simple Mail Transfer Service Ready\r\n"
           "250 xyz.com is on the air\r\n"
           "250 OK\r\n"
           "250 OK\r\n"
           "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
           "250 OK\r\n"
           "221 foo.com Service closing transmission channel\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first last text='xyz.com Simple Mail Transfer Service"
             " Ready' anoms=[]\n"
             "REPLY off=48 code=250 rc=250 first last text='xyz.com is on the air' anoms=[]\n"
             "REPLY off=75 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=83 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=91 code=354 rc=354 first last text='Start mail input; end with"
             " <CRLF>.<CRLF>' anoms=[]\n"
             "REPLY off=137 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=145 code=221 rc=221 first last text='foo.com Service closing transmission"
             " channel' anoms=[]\n"},
    {.name = "RFC 5321 D.4 verifying and sending",
     TH_IN("220 foo.com Simple Mail Transfer Service Ready\r\n"
           "250-foo.com greets bar.com\r\n"
           "250-8BITMIME\r\n"
           "250-SIZE\r\n"
           "250-DSN\r\n"
           "250-VRFY\r\n"
           "250 HELP\r\n"
           "250 Mark Crispin <Admin.MRC@foo.com>\r\n"
           "250 OK\r\n"
           "250 OK\r\n"
           "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
           "250 OK\r\n"
           "221 foo.com Service closing transmission channel\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first last text='foo.com Simple Mail Transfer Service"
             " Ready' anoms=[]\n"
             "REPLY off=48 code=250 rc=250 first text='foo.com greets bar.com' anoms=[]\n"
             "REPLY off=76 code=250 rc=250 text='8BITMIME' anoms=[]\n"
             "REPLY off=90 code=250 rc=250 text='SIZE' anoms=[]\n"
             "REPLY off=100 code=250 rc=250 text='DSN' anoms=[]\n"
             "REPLY off=109 code=250 rc=250 text='VRFY' anoms=[]\n"
             "REPLY off=119 code=250 rc=250 last text='HELP' anoms=[]\n"
             "REPLY off=129 code=250 rc=250 first last text='Mark Crispin <Admin.MRC@foo.com>'"
             " anoms=[]\n"
             "REPLY off=167 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=175 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=183 code=354 rc=354 first last text='Start mail input; end with"
             " <CRLF>.<CRLF>' anoms=[]\n"
             "REPLY off=229 code=250 rc=250 first last text='OK' anoms=[]\n"
             "REPLY off=237 code=221 rc=221 first last text='foo.com Service closing transmission"
             " channel' anoms=[]\n"},
    {.name = "RFC 3030 4.1 simple chunking",
     TH_IN("220 cnri.reston.va.us SMTP service ready\r\n"
           "250-cnri.reston.va.us says hello\r\n"
           "250 CHUNKING\r\n"
           "250 <Sam@Random.com> Sender ok\r\n"
           "250 <Susan@random.com> Recipient ok\r\n"
           "250 Message OK, 86 octets received\r\n"
           "221 Goodbye\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first last text='cnri.reston.va.us SMTP service ready'"
             " anoms=[]\n"
             "REPLY off=42 code=250 rc=250 first text='cnri.reston.va.us says hello' anoms=[]\n"
             "REPLY off=76 code=250 rc=250 last text='CHUNKING' anoms=[]\n"
             "REPLY off=90 code=250 rc=250 first last text='<Sam@Random.com> Sender ok' anoms=[]\n"
             "REPLY off=122 code=250 rc=250 first last text='<Susan@random.com> Recipient ok'"
             " anoms=[]\n"
             "REPLY off=159 code=250 rc=250 first last text='Message OK, 86 octets received'"
             " anoms=[]\n"
             "REPLY off=195 code=221 rc=221 first last text='Goodbye' anoms=[]\n"},
    {.name = "RFC 3030 4.2 pipelining BINARYMIME",
     TH_IN("220 cnri.reston.va.us SMTP service ready\r\n"
           "250-cnri.reston.va.us says hello\r\n"
           "250-PIPELINING\r\n"
           "250-BINARYMIME\r\n"
           "250 CHUNKING\r\n"
           "250 <ned@ymir.claremont.edu>... Sender and BINARYMIME ok\r\n"
           "250 <gvaudre@cnri.reston.va.us>... Recipient ok\r\n"
           "250 <jstewart@cnri.reston.va.us>... Recipient ok\r\n"
           "250 100000 octets received\r\n"
           "250 324 octets received\r\n"
           "250 Message OK, 100324 octets received\r\n"
           "221 Goodbye\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first last text='cnri.reston.va.us SMTP service ready'"
             " anoms=[]\n"
             "REPLY off=42 code=250 rc=250 first text='cnri.reston.va.us says hello' anoms=[]\n"
             "REPLY off=76 code=250 rc=250 text='PIPELINING' anoms=[]\n"
             "REPLY off=92 code=250 rc=250 text='BINARYMIME' anoms=[]\n"
             "REPLY off=108 code=250 rc=250 last text='CHUNKING' anoms=[]\n"
             "REPLY off=122 code=250 rc=250 first last text='<ned@ymir.claremont.edu>... Sender and"
             " BINARY...' anoms=[]\n"
             "REPLY off=180 code=250 rc=250 first last text='<gvaudre@cnri.reston.va.us>..."
             " Recipient ok' anoms=[]\n"
             "REPLY off=229 code=250 rc=250 first last text='<jstewart@cnri.reston.va.us>..."
             " Recipient ok' anoms=[]\n"
             "REPLY off=279 code=250 rc=250 first last text='100000 octets received' anoms=[]\n"
             "REPLY off=307 code=250 rc=250 first last text='324 octets received' anoms=[]\n"
             "REPLY off=332 code=250 rc=250 first last text='Message OK, 100324 octets received'"
             " anoms=[]\n"
             "REPLY off=372 code=221 rc=221 first last text='Goodbye' anoms=[]\n"},
    {.name = "RFC 4954 4.1 PLAIN, no initial response (after TLS)",
     TH_IN("250-smtp.example.com Hello client.example.com\r\n"
           "250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n"
           "334 \r\n"
           "235 2.7.0 Authentication successful\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='smtp.example.com Hello client.example.com'"
             " anoms=[]\n"
             "REPLY off=47 code=250 rc=250 last text='AUTH GSSAPI DIGEST-MD5 PLAIN' anoms=[]\n"
             "REPLY off=81 code=334 rc=334 first last text='' anoms=[]\n"
             "REPLY off=87 code=235 rc=235 first last text='2.7.0 Authentication successful'"
             " esc='2.7.0' anoms=[]\n"},
    /* RFC 4954 s4.1 opens its examples with "220-smtp.example.com ESMTP
     * Server" and never finishes that greeting (the example elides it), so
     * fed verbatim the 250 lines continue a 220 reply: the parser rightly
     * reports each of them. */
    {.name = "RFC 4954 4.1 PLAIN with initial response, before TLS",
     TH_IN("220-smtp.example.com ESMTP Server\r\n"
           "250-smtp.example.com Hello client.example.com\r\n"
           "250-AUTH GSSAPI DIGEST-MD5\r\n"
           "250-ENHANCEDSTATUSCODES\r\n"
           "250 STARTTLS\r\n"
           "220 Ready to start TLS\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first text='smtp.example.com ESMTP Server' anoms=[]\n"
             "REPLY off=35 code=250 rc=220 text='smtp.example.com Hello client.example.com'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@35]\n"
             "REPLY off=82 code=250 rc=220 text='AUTH GSSAPI DIGEST-MD5'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@82]\n"
             "REPLY off=110 code=250 rc=220 text='ENHANCEDSTATUSCODES'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@110]\n"
             "REPLY off=135 code=250 rc=220 last text='STARTTLS'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@135]\n"
             "REPLY off=149 code=220 rc=220 first last text='Ready to start TLS' anoms=[]\n"},
    {.name = "RFC 4954 4.1 PLAIN with initial response, after TLS",
     TH_IN("250-smtp.example.com Hello client.example.com\r\n"
           "250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n"
           "235 2.7.0 Authentication successful\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='smtp.example.com Hello client.example.com'"
             " anoms=[]\n"
             "REPLY off=47 code=250 rc=250 last text='AUTH GSSAPI DIGEST-MD5 PLAIN' anoms=[]\n"
             "REPLY off=81 code=235 rc=235 first last text='2.7.0 Authentication successful'"
             " esc='2.7.0' anoms=[]\n"},
    {.name = "RFC 4954 4.1 CRAM-MD5",
     TH_IN("220-smtp.example.com ESMTP Server\r\n"
           "250-smtp.example.com Hello client.example.com\r\n"
           "250-AUTH DIGEST-MD5 CRAM-MD5\r\n"
           "250-ENHANCEDSTATUSCODES\r\n"
           "250 STARTTLS\r\n"
           "334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=\r\n"
           "235 2.7.0 Authentication successful\r\n"),
     .want = "REPLY off=0 code=220 rc=220 first text='smtp.example.com ESMTP Server' anoms=[]\n"
             "REPLY off=35 code=250 rc=220 text='smtp.example.com Hello client.example.com'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@35]\n"
             "REPLY off=82 code=250 rc=220 text='AUTH DIGEST-MD5 CRAM-MD5'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@82]\n"
             "REPLY off=112 code=250 rc=220 text='ENHANCEDSTATUSCODES'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@112]\n"
             "REPLY off=137 code=250 rc=220 last text='STARTTLS'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@137]\n"
             "REPLY off=151 code=334 rc=334 first last"
             " text='PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hb...' anoms=[]\n"
             "REPLY off=221 code=235 rc=235 first last text='2.7.0 Authentication successful'"
             " esc='2.7.0' anoms=[]\n"},
    {.name = "RFC 4954 4.1 EXTERNAL, after TLS",
     TH_IN("250-smtp.example.com Hello client.example.com\r\n"
           "250 AUTH EXTERNAL GSSAPI DIGEST-MD5 PLAIN\r\n"
           "235 2.7.0 Authentication successful\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='smtp.example.com Hello client.example.com'"
             " anoms=[]\n"
             "REPLY off=47 code=250 rc=250 last text='AUTH EXTERNAL GSSAPI DIGEST-MD5 PLAIN'"
             " anoms=[]\n"
             "REPLY off=90 code=235 rc=235 first last text='2.7.0 Authentication successful'"
             " esc='2.7.0' anoms=[]\n"},
};

static const struct rcase anom_cases[] = {
    {.name = "empty input", TH_IN(""), .want = ""},
    {.name = "bare code", TH_IN("250\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='' anoms=[SMTP_REPLY_NO_TEXT@3]\n"},
    {.name = "code and SP only", TH_IN("250 \r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='' anoms=[]\n"},
    {.name = "empty continuation line", TH_IN("250-\r\n250 OK\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='' anoms=[]\n"
             "REPLY off=6 code=250 rc=250 last text='OK' anoms=[]\n"},
    {.name = "two-digit code", TH_IN("25 OK\r\n"),
     .want = "REPLY off=0 code=0 rc=0 first last text='25 OK' anoms=[SMTP_REPLY_CODE_SYNTAX@2]\n"},
    {.name = "four-digit code", TH_IN("2500 OK\r\n"),
     .want = "REPLY off=0 code=0 rc=0 first last text='2500 OK'"
             " anoms=[SMTP_REPLY_CODE_SYNTAX@3]\n"},
    {.name = "no code", TH_IN("OK\r\n"),
     .want = "REPLY off=0 code=0 rc=0 first last text='OK' anoms=[SMTP_REPLY_CODE_SYNTAX@0]\n"},
    {.name = "empty line", TH_IN("\r\n"),
     .want = "REPLY off=0 code=0 rc=0 first last text='' anoms=[SMTP_REPLY_CODE_SYNTAX@0]\n"},
    {.name = "first digit 1", TH_IN("199 x\r\n"),
     .want = "REPLY off=0 code=199 rc=199 first last text='x' anoms=[SMTP_REPLY_CODE_RANGE@0]\n"},
    {.name = "first digit 6", TH_IN("600 x\r\n"),
     .want = "REPLY off=0 code=600 rc=600 first last text='x' anoms=[SMTP_REPLY_CODE_RANGE@0]\n"},
    {.name = "second digit 6", TH_IN("260 x\r\n"),
     .want = "REPLY off=0 code=260 rc=260 first last text='x' anoms=[SMTP_REPLY_CODE_RANGE@1]\n"},
    {.name = "highest valid code", TH_IN("559 x\r\n"),
     .want = "REPLY off=0 code=559 rc=559 first last text='x' anoms=[]\n"},
    {.name = "separator '_'", TH_IN("250_OK\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='_OK'"
             " anoms=[SMTP_REPLY_SEPARATOR@3]\n"},
    {.name = "separator TAB", TH_IN("250\tOK\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='\\tOK'"
             " anoms=[SMTP_REPLY_SEPARATOR@3]\n"},
    {.name = "code mismatch", TH_IN("250-a\r\n251 b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=7 code=251 rc=250 last text='b' anoms=[SMTP_REPLY_CODE_MISMATCH@7]\n"},
    {.name = "garbage inside a multi-line reply ends it", TH_IN("250-a\r\nxyz\r\n250 b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=7 code=0 rc=250 last text='xyz' anoms=[SMTP_REPLY_CODE_SYNTAX@7]\n"
             "REPLY off=12 code=250 rc=250 first last text='b' anoms=[]\n"},
    {.name = "control octet in text", TH_IN("250 a\x01" "b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='a\\x01b'"
             " anoms=[SMTP_REPLY_TEXT_CHAR@5]\n"},
    {.name = "DEL in text", TH_IN("250 a\x7f" "b\x7f\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='a\\x7fb\\x7f'"
             " anoms=[SMTP_REPLY_TEXT_CHAR@5]\n"},
    {.name = "8-bit text", TH_IN("250 caf\xc3\xa9\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='caf\\xc3\\xa9'"
             " anoms=[SMTP_REPLY_TEXT_CHAR@7]\n"},
    {.name = "TAB in text", TH_IN("250 a\tb\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='a\\tb' anoms=[]\n"},
    {.name = "NUL in text", TH_IN("250 a\0b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='a\\x00b' anoms=[NUL_BYTE@5]\n"},
    {.name = "bare CR in text", TH_IN("250 a\rb\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='a\\rb' anoms=[BARE_CR@5]\n"},
    {.name = "bare LF", TH_IN("250-a\n250 b\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[BARE_LF@5]\n"
             "REPLY off=6 code=250 rc=250 last text='b' anoms=[BARE_LF@11]\n"},
    {.name = "CR at the end of the stream", TH_IN("250 a\r"),
     .want = "REPLY off=0 code=250 rc=250 first last text='a\\r'"
             " anoms=[BARE_CR@5,UNTERMINATED_LINE@6]\n"},
    {.name = "unterminated last line", TH_IN("250 OK"),
     .want = "REPLY off=0 code=250 rc=250 first last text='OK' anoms=[UNTERMINATED_LINE@6]\n"},
    {.name = "unterminated multi-line reply", TH_IN("250-a\r\n250-b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=7 code=250 rc=250 text='b' anoms=[]\n"
             "REPLY off=14 code=0 rc=250 last text=''"
             " anoms=[SMTP_REPLY_MULTI_UNTERMINATED@14]\n"},
    {.name = "unterminated multi-line reply and line", TH_IN("250-a\r\n250-b"),
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=7 code=250 rc=250 text='b' anoms=[UNTERMINATED_LINE@12]\n"
             "REPLY off=12 code=0 rc=250 last text=''"
             " anoms=[SMTP_REPLY_MULTI_UNTERMINATED@12]\n"},
    {.name = "unterminated last line of a multi-line reply", TH_IN("250-a\r\n250 b"),
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=7 code=250 rc=250 last text='b' anoms=[UNTERMINATED_LINE@12]\n"},
    /* RFC 2034 s4 / RFC 3463 s2 enhanced status codes */
    {.name = "enhanced code", TH_IN("250 2.1.0 Sender ok\r\n550 5.1.1 No such user\r\n"
                                    "452 4.2.2 Mailbox full\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.1.0 Sender ok' esc='2.1.0'"
             " anoms=[]\n"
             "REPLY off=21 code=550 rc=550 first last text='5.1.1 No such user' esc='5.1.1'"
             " anoms=[]\n"
             "REPLY off=45 code=452 rc=452 first last text='4.2.2 Mailbox full' esc='4.2.2'"
             " anoms=[]\n"},
    {.name = "enhanced code, three-digit parts", TH_IN("550 5.123.999 x\r\n"),
     .want = "REPLY off=0 code=550 rc=550 first last text='5.123.999 x' esc='5.123.999'"
             " anoms=[]\n"},
    {.name = "enhanced code alone", TH_IN("250 2.0.0\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.0.0' esc='2.0.0' anoms=[]\n"},
    {.name = "enhanced code of another class", TH_IN("250 5.1.1 x\r\n550 2.0.0 y\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='5.1.1 x' esc='5.1.1'"
             " anoms=[SMTP_ESC_CLASS@4]\n"
             "REPLY off=13 code=550 rc=550 first last text='2.0.0 y' esc='2.0.0'"
             " anoms=[SMTP_ESC_CLASS@17]\n"},
    {.name = "enhanced code on a 3xx reply", TH_IN("354 2.0.0 go ahead\r\n"),
     .want = "REPLY off=0 code=354 rc=354 first last text='2.0.0 go ahead' esc='2.0.0'"
             " anoms=[]\n"},
    {.name = "class 3 is no enhanced code", TH_IN("250 3.1.4 pi\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='3.1.4 pi' anoms=[]\n"},
    {.name = "enhanced code without SP", TH_IN("250 2.1.0Sender ok\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.1.0Sender ok' esc='2.1.0'"
             " anoms=[SMTP_ESC_NO_SP@9]\n"},
    {.name = "enhanced code and TAB", TH_IN("250 2.1.0\tok\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.1.0\\tok' esc='2.1.0'"
             " anoms=[SMTP_ESC_NO_SP@9]\n"},
    {.name = "enhanced code without detail", TH_IN("250 2.1 ok\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.1 ok'"
             " anoms=[SMTP_ESC_SYNTAX@7]\n"},
    {.name = "enhanced code cut short", TH_IN("250 2.1\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.1' anoms=[SMTP_ESC_SYNTAX@7]\n"},
    {.name = "enhanced code, empty subject", TH_IN("250 2..0 x\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2..0 x'"
             " anoms=[SMTP_ESC_SYNTAX@6]\n"},
    /* RFC 3463 s2: no leading zero in a sub-code ("0" alone is fine) */
    {.name = "enhanced code, leading zeros", TH_IN("250 2.01.0 x\r\n250 2.1.00 x\r\n250 2.0.0 x\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.01.0 x' anoms=[SMTP_ESC_SYNTAX@6]\n"
             "REPLY off=14 code=250 rc=250 first last text='2.1.00 x' anoms=[SMTP_ESC_SYNTAX@22]\n"
             "REPLY off=28 code=250 rc=250 first last text='2.0.0 x' esc='2.0.0' anoms=[]\n"},
    {.name = "enhanced code, empty detail", TH_IN("250 2.0. x\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.0. x'"
             " anoms=[SMTP_ESC_SYNTAX@8]\n"},
    {.name = "enhanced code, four-digit subject", TH_IN("250 2.1000.0 x\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.1000.0 x'"
             " anoms=[SMTP_ESC_SYNTAX@9]\n"},
    {.name = "enhanced code, four-digit detail", TH_IN("250 2.1.1000 x\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first last text='2.1.1000 x'"
             " anoms=[SMTP_ESC_SYNTAX@11]\n"},
    {.name = "same enhanced code on every line", TH_IN("250-2.0.0 a\r\n250 2.0.0 b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='2.0.0 a' esc='2.0.0' anoms=[]\n"
             "REPLY off=13 code=250 rc=250 last text='2.0.0 b' esc='2.0.0' anoms=[]\n"},
    {.name = "enhanced code differs between lines", TH_IN("250-2.1.0 a\r\n250 2.1.5 b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='2.1.0 a' esc='2.1.0' anoms=[]\n"
             "REPLY off=13 code=250 rc=250 last text='2.1.5 b' esc='2.1.5'"
             " anoms=[SMTP_ESC_LINE_MISMATCH@17]\n"},
    {.name = "enhanced code only on a later line", TH_IN("250-a\r\n250 2.0.0 b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=7 code=250 rc=250 last text='2.0.0 b' esc='2.0.0' anoms=[]\n"},
    {.name = "code and enhanced code differ", TH_IN("250-2.0.0 a\r\n550 5.0.0 b\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='2.0.0 a' esc='2.0.0' anoms=[]\n"
             "REPLY off=13 code=550 rc=250 last text='5.0.0 b' esc='5.0.0'"
             " anoms=[SMTP_REPLY_CODE_MISMATCH@13,SMTP_ESC_LINE_MISMATCH@17]\n"},
    {.name = "the next reply starts afresh", TH_IN("250-2.1.0 a\r\n250 2.1.0 b\r\n"
                                                  "550 5.1.1 c\r\n"),
     .want = "REPLY off=0 code=250 rc=250 first text='2.1.0 a' esc='2.1.0' anoms=[]\n"
             "REPLY off=13 code=250 rc=250 last text='2.1.0 b' esc='2.1.0' anoms=[]\n"
             "REPLY off=26 code=550 rc=550 first last text='5.1.1 c' esc='5.1.1' anoms=[]\n"},
    /* RFC 4954 s4: "334" SP base64; an empty challenge is "334 " */
    {.name = "challenges", TH_IN("334 \r\n334 VXNlcm5hbWU6\r\n"),
     .want = "REPLY off=0 code=334 rc=334 first last text='' anoms=[]\n"
             "REPLY off=6 code=334 rc=334 first last text='VXNlcm5hbWU6' anoms=[]\n"},
    /* capture loss: the damaged line and the open reply are dropped */
    {.name = "gap inside a line", TH_IN("250 a\r\n250 bcd\r\n550 x\r\n"), .gap_at = 9, .gap = 3,
     .want = "REPLY off=0 code=250 rc=250 first last text='a' anoms=[]\n"
             "REPLY off=19 code=550 rc=550 first last text='x' anoms=[]\n"},
    {.name = "gap inside a multi-line reply", TH_IN("250-a\r\n250-bc\r\n250 d\r\n"),
     .gap_at = 10, .gap = 4,
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=19 code=250 rc=250 first last text='d' anoms=[]\n"},
    {.name = "gap at a line start", TH_IN("250-a\r\n250-b\r\n250 c\r\n"), .gap_at = 7,
     .gap = 1,
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
             "REPLY off=15 code=250 rc=250 first last text='c' anoms=[]\n"},
    {.name = "gap at the end", TH_IN("250-a\r\n"), .gap_at = 7, .gap = 5,
     .want = "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"},
};

static int run_table(const struct rcase *tc, size_t n)
{
    static struct th_log got;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct rctx c;
        th_run_modes_gap(&reply_target, &c, tc[i].in, tc[i].len, tc[i].gap_at, tc[i].gap, &got);
        bad += !th_expect_log(tc[i].name, tc[i].want, &got);
    }
    return bad;
}

static void test_rfc_examples(void **state)
{
    (void)state;
    assert_int_equal(run_table(rfc_cases, TH_COUNT(rfc_cases)), 0);
}

static void test_anomalies(void **state)
{
    (void)state;
    assert_int_equal(run_table(anom_cases, TH_COUNT(anom_cases)), 0);
}

struct lcase {
    const char *name, *prefix;
    char fill;
    size_t n;
    const char *suffix;
    const char *fmt;   /* expected log; %s = th_shown(fill, n) */
};

/* RFC 5321 s4.5.3.1.5: 512 octets including CRLF; RFC 4954 s4: 334
 * challenges are exempt up to MC_SMTP_AUTH_LINE_MAX (12288). */
static const struct lcase long_cases[] = {
    {"limit-1", "250 ", 'x', 505, "\r\n",
     "REPLY off=0 code=250 rc=250 first last text='%s' anoms=[]\n"},
    {"limit", "250 ", 'x', 506, "\r\n",
     "REPLY off=0 code=250 rc=250 first last text='%s' anoms=[]\n"},
    {"limit+1", "250 ", 'x', 507, "\r\n",
     "REPLY off=0 code=250 rc=250 first last text='%s' anoms=[LINE_TOO_LONG@510]\n"},
    {"limit+1, bare LF", "250 ", 'x', 508, "\n",
     "REPLY off=0 code=250 rc=250 first last text='%s' anoms=[BARE_LF@512,LINE_TOO_LONG@510]\n"},
    {"limit+1 on a continuation line", "250-a\r\n250 ", 'x', 507, "\r\n",
     "REPLY off=0 code=250 rc=250 first text='a' anoms=[]\n"
     "REPLY off=7 code=250 rc=250 last text='%s' anoms=[LINE_TOO_LONG@517]\n"},
    {"over MC_LINE_KEEP", "550 ", 'x', 2996, "\r\n",
     "REPLY off=0 code=550 rc=550 first last text='%s' len=3000 trunc"
     " anoms=[LINE_TOO_LONG@510]\n"},
    {"long unterminated", "250-", 'x', 600, "",
     "REPLY off=0 code=250 rc=250 first text='%s'"
     " anoms=[UNTERMINATED_LINE@604,LINE_TOO_LONG@510]\n"
     "REPLY off=604 code=0 rc=250 last text='' anoms=[SMTP_REPLY_MULTI_UNTERMINATED@604]\n"},
    {"challenge over 512 octets", "334 ", 'A', 600, "\r\n",
     "REPLY off=0 code=334 rc=334 first last text='%s' anoms=[]\n"},
    {"challenge over MC_LINE_KEEP", "334 ", 'A', 4000, "\r\n",
     "REPLY off=0 code=334 rc=334 first last text='%s' len=4004 trunc anoms=[]\n"},
    {"challenge at the AUTH limit", "334 ", 'A', 12282, "\r\n",
     "REPLY off=0 code=334 rc=334 first last text='%s' len=12286 trunc anoms=[]\n"},
    {"challenge over the AUTH limit", "334 ", 'A', 12283, "\r\n",
     "REPLY off=0 code=334 rc=334 first last text='%s' len=12287 trunc"
     " anoms=[LINE_TOO_LONG@12286]\n"},
    {"not a challenge", "335 ", 'A', 600, "\r\n",
     "REPLY off=0 code=335 rc=335 first last text='%s' anoms=[LINE_TOO_LONG@510]\n"},
};

static void test_long_lines(void **state)
{
    static uint8_t in[16384];
    static struct th_log got;
    char want[1024];
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < TH_COUNT(long_cases); i++) {
        const struct lcase *tc = &long_cases[i];
        struct rctx c;
        size_t len = th_build(in, sizeof(in), tc->prefix, tc->fill, tc->n, tc->suffix);
        snprintf(want, sizeof(want), tc->fmt, th_shown(tc->fill, tc->n));
        th_run_modes(&reply_target, &c, in, len, &got);
        bad += !th_expect_log(tc->name, want, &got);
    }
    assert_int_equal(bad, 0);
}

/* ---- mc_smtp_parse_ehlo_line ---- */

struct ecase {
    const char *in;
    size_t len;
    enum mc_anom anom;
    size_t kw;    /* keyword length */
    size_t bad;   /* with an anomaly: first offending octet */
};

#define M20 "ABCDEFGHIJ_-0123456"   /* 19 + 1 below = 20 */

static const struct ecase ehlo_lines[] = {
    /* keyword lines of the RFC examples (RFC 5321 D, RFC 3030 4, RFC 4954 4.1) */
    {TH_IN("8BITMIME"), .kw = 8},
    {TH_IN("SIZE"), .kw = 4},
    {TH_IN("DSN"), .kw = 3},
    {TH_IN("HELP"), .kw = 4},
    {TH_IN("VRFY"), .kw = 4},
    {TH_IN("CHUNKING"), .kw = 8},
    {TH_IN("PIPELINING"), .kw = 10},
    {TH_IN("BINARYMIME"), .kw = 10},
    {TH_IN("ENHANCEDSTATUSCODES"), .kw = 19},
    {TH_IN("STARTTLS"), .kw = 8},
    {TH_IN("AUTH GSSAPI DIGEST-MD5"), .kw = 4},
    {TH_IN("AUTH GSSAPI DIGEST-MD5 PLAIN"), .kw = 4},
    {TH_IN("AUTH DIGEST-MD5 CRAM-MD5"), .kw = 4},
    {TH_IN("AUTH EXTERNAL GSSAPI DIGEST-MD5 PLAIN"), .kw = 4},
    /* ehlo-line = ehlo-keyword *( SP ehlo-param ) */
    {TH_IN("X-EXT a b=c ~!"), .kw = 5},
    {TH_IN("9X"), .kw = 2},
    {TH_IN(""), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 0, 0},
    {TH_IN(" SIZE"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 0, 0},
    {TH_IN("-X"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 2, 0},
    {TH_IN("X_Y"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 3, 1},
    {TH_IN("foo.com greets bar.com"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 7, 3},
    {TH_IN("AUTH=LOGIN PLAIN"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 10, 4},
    {TH_IN("X-EXT  a"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 5, 6},
    {TH_IN("X-EXT a "), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 5, 8},
    {TH_IN("X-EXT "), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 5, 6},
    {TH_IN("X-EXT a\tb"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 5, 7},
    {TH_IN("X-EXT \xc3\xa9"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 5, 6},
    {TH_IN("X-EXT a\x7f"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 5, 7},
    /* SIZE [SP 1*DIGIT] (RFC 1870 s4) */
    {TH_IN("SIZE 10240000"), .kw = 4},
    {TH_IN("SIZE 0"), .kw = 4},
    {TH_IN("size 14680064"), .kw = 4},
    {TH_IN("SIZE 99999999999999999999999"), .kw = 4},
    {TH_IN("SIZE x"), MC_ANOM_SMTP_EHLO_PARAM_VALUE, 4, 5},
    {TH_IN("SIZE 10M"), MC_ANOM_SMTP_EHLO_PARAM_VALUE, 4, 5},
    {TH_IN("SIZE -1"), MC_ANOM_SMTP_EHLO_PARAM_VALUE, 4, 5},
    {TH_IN("SIZE 1 2"), MC_ANOM_SMTP_EHLO_PARAM_VALUE, 4, 7},
    {TH_IN("SIZE  1"), MC_ANOM_SMTP_EHLO_LINE_SYNTAX, 4, 5},
    {TH_IN("SIZES x"), .kw = 5},
    /* AUTH 1*(SP sasl-mech), sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_") */
    {TH_IN("AUTH PLAIN"), .kw = 4},
    {TH_IN("auth PLAIN LOGIN"), .kw = 4},
    {TH_IN("AUTH " M20 "7"), .kw = 4},
    {TH_IN("AUTH " M20 "78"), MC_ANOM_SMTP_EHLO_PARAM_VALUE, 4, 25},
    {TH_IN("AUTH"), MC_ANOM_SMTP_EHLO_PARAM_VALUE, 4, 4},
    {TH_IN("AUTH PLAIN login"), MC_ANOM_NONE, 4, 0},   /* RFC 4954 s8: case-insensitive */
    {TH_IN("AUTH PLAIN X.Y"), MC_ANOM_SMTP_EHLO_PARAM_VALUE, 4, 12},
};

static void test_ehlo_lines(void **state)
{
    struct th_guard g;
    int bad = 0;
    (void)state;
    th_guard_init(&g, 256);
    for (size_t i = 0; i < TH_COUNT(ehlo_lines); i++) {
        const struct ecase *tc = &ehlo_lines[i];
        size_t kw = 12345, at = 12345;
        enum mc_anom a = mc_smtp_parse_ehlo_line(th_guard_put(&g, tc->in, tc->len), tc->len,
                                                 &kw, &at);
        if (a != tc->anom || kw != tc->kw || (a != MC_ANOM_NONE && at != tc->bad)) {
            char esc[96];
            mc_escape(esc, sizeof(esc), (const uint8_t *)tc->in, tc->len);
            print_error("ehlo line '%s': want %s kw=%zu bad=%zu, got %s kw=%zu bad=%zu\n", esc,
                        mc_anom_name(tc->anom), tc->kw, tc->bad, mc_anom_name(a), kw, at);
            bad++;
        }
    }
    th_guard_free(&g);
    assert_int_equal(bad, 0);
}

/* A 334 challenge and the line after it: the exemption is per line. */
static void test_partial_and_state(void **state)
{
    struct mc_smtp_reply p;
    struct mc_smtp_reply_ev ev;
    size_t used;
    (void)state;
    mc_smtp_reply_init(&p);
    assert_int_equal(mc_smtp_reply_feed(&p, (const uint8_t *)"250-a\r\n25", 9, &used, &ev),
                     MC_EVENT);
    assert_int_equal(used, 7);
    assert_true(ev.first);
    assert_false(ev.last);
    assert_true(mc_smtp_reply_in_reply(&p));
    assert_false(mc_smtp_reply_partial(&p));
    assert_int_equal(mc_smtp_reply_feed(&p, (const uint8_t *)"25", 2, &used, &ev), MC_NEED_MORE);
    assert_true(mc_smtp_reply_partial(&p));
    assert_int_equal(mc_smtp_reply_offset(&p), 9);
    /* a gap drops the partial line and the open reply; resync to the LF */
    mc_smtp_reply_gap(&p, 3);
    assert_false(mc_smtp_reply_in_reply(&p));
    assert_true(mc_smtp_reply_resyncing(&p));
    assert_int_equal(mc_smtp_reply_offset(&p), 12);
    assert_int_equal(mc_smtp_reply_feed(&p, (const uint8_t *)"0 x\r\n221 y\r\n", 12, &used, &ev),
                     MC_EVENT);
    assert_int_equal(used, 12);
    assert_false(mc_smtp_reply_resyncing(&p));
    assert_int_equal(ev.code, 221);
    assert_int_equal(ev.line.off, 17);
    assert_true(ev.first && ev.last);
    assert_int_equal(mc_smtp_reply_finish(&p, &ev), MC_NEED_MORE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_anomalies),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_ehlo_lines),
        cmocka_unit_test(test_partial_and_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
