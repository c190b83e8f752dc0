/*
 * pop3_resp: status lines, response codes, SASL continuations, multi-line
 * responses (dot-stuffing, terminator, end of stream), limits, gaps, and the
 * stateless helpers (listing, uidl, capa, APOP timestamp). Every stream case
 * runs in the three feeding modes on guard-page input (test_harness.h).
 *
 * Log line per event:
 *   STATUS ok|err|invalid off=N code='..' text='..' [len=N trunc] anoms=[..]
 *   CONT off=N text='..' ...     BODY off=N '..' [stuffed] ...     END off=N ...
 * A case's .multi string has one character per STATUS event: 'm' means the
 * driver calls mc_pop3_resp_expect_multiline() after it (the session's job).
 */
#include "test_harness.h"

#include "pop3/pop3_resp.h"

struct rctx {
    struct mc_pop3_resp p;
    const char *multi;
    unsigned nstatus;
    uint64_t pos;
};

static void resp_log(struct rctx *c, struct th_log *log, const struct mc_pop3_resp_ev *ev)
{
    static const char *const st[] = {"invalid", "ok", "err"};
    bool spans_ok = true;
    switch (ev->type) {
    case MC_POP3_RESP_STATUS:
        th_logf(log, "STATUS %s off=%llu code=", st[ev->status], (unsigned long long)ev->line.off);
        th_log_bytes(log, ev->code.ptr, ev->code.len);
        th_logf(log, " text=");
        th_log_bytes(log, ev->text.ptr, ev->text.len);
        spans_ok = th_span_in(&ev->code, &ev->line) && th_span_in(&ev->text, &ev->line);
        break;
    case MC_POP3_RESP_CONT:
        th_logf(log, "CONT off=%llu text=", (unsigned long long)ev->line.off);
        th_log_bytes(log, ev->text.ptr, ev->text.len);
        spans_ok = th_span_in(&ev->text, &ev->line);
        break;
    case MC_POP3_RESP_BODY:
        th_logf(log, "BODY off=%llu ", (unsigned long long)ev->line.off);
        th_log_bytes(log, ev->line.ptr, ev->line.len);
        if (ev->stuffed)
            th_logf(log, " stuffed");
        break;
    case MC_POP3_RESP_END:
        th_logf(log, "END off=%llu", (unsigned long long)ev->line.off);
        break;
    default:
        th_logf(log, "BADTYPE %d", (int)ev->type);
    }
    if (ev->truncated)
        th_logf(log, " len=%llu trunc", (unsigned long long)ev->line_len);
    if (!spans_ok || ev->line.len > MC_LINE_KEEP || ev->truncated != (ev->line_len > MC_LINE_KEEP))
        th_logf(log, " BADSPAN");
    th_log_anoms(log, &ev->anoms);
    th_logf(log, "\n");
    if (ev->type == MC_POP3_RESP_STATUS) {
        if (c->multi && c->nstatus < strlen(c->multi) && c->multi[c->nstatus] == 'm') {
            mc_pop3_resp_expect_multiline(&c->p);
            assert_true(mc_pop3_resp_in_multiline(&c->p));
        }
        c->nstatus++;
    }
    if (ev->type == MC_POP3_RESP_END)
        assert_false(mc_pop3_resp_in_multiline(&c->p));
}

static void r_start(void *vc)
{
    struct rctx *c = vc;
    mc_pop3_resp_init(&c->p);
    c->nstatus = 0;
    c->pos = 0;
}

static void r_feed(void *vc, struct th_log *log, const uint8_t *p, size_t n)
{
    struct rctx *c = vc;
    size_t off = 0;
    for (;;) {
        struct mc_pop3_resp_ev ev;
        size_t used = (size_t)-1;
        int r = mc_pop3_resp_feed(&c->p, p + off, n - off, &used, &ev);
        assert_true(used <= n - off);
        off += used;
        if (r == MC_NEED_MORE) {
            assert_int_equal(off, n);
            break;
        }
        assert_int_equal(r, MC_EVENT);
        assert_true(used > 0);
        resp_log(c, log, &ev);
    }
    c->pos += n;
    assert_int_equal(mc_pop3_resp_offset(&c->p), c->pos);
}

static void r_finish(void *vc, struct th_log *log)
{
    struct rctx *c = vc;
    struct mc_pop3_resp_ev ev;
    int rounds = 0;
    while (mc_pop3_resp_finish(&c->p, &ev) == MC_EVENT) {
        assert_true(++rounds <= 2);
        resp_log(c, log, &ev);
    }
    assert_int_equal(mc_pop3_resp_finish(&c->p, &ev), MC_NEED_MORE);
}

static void r_gap(void *vc, struct th_log *log, uint64_t n)
{
    struct rctx *c = vc;
    (void)log;
    mc_pop3_resp_gap(&c->p, n);
    c->pos += n;
}

static const struct th_target resp_target = {r_start, r_feed, r_finish, r_gap};

struct rcase {
    const char *name;
    const char *in;
    size_t len;
    const char *multi;
    size_t gap_at;
    uint64_t gap;
    const char *want;
};

/* The RFC examples verbatim, "S:" lines with CRLF. Expected logs come from an
 * independent model of the grammar (offsets = sums of line lengths). */
static const struct rcase rfc_cases[] = {
    {.name = "RFC 1939 s4 QUIT", TH_IN("+OK dewey POP3 server signing off\r\n"),
     .want = "STATUS ok off=0 code='' text='dewey POP3 server signing off' anoms=[]\n"},
    {.name = "RFC 1939 s5 STAT", TH_IN("+OK 2 320\r\n"),
     .want = "STATUS ok off=0 code='' text='2 320' anoms=[]\n"},
    {.name = "RFC 1939 s5 LIST", .multi = "m",
     TH_IN("+OK 2 messages (320 octets)\r\n" "1 120\r\n" "2 200\r\n" ".\r\n" "+OK 2 200\r\n"
           "-ERR no such message, only 2 messages in maildrop\r\n"),
     .want = "STATUS ok off=0 code='' text='2 messages (320 octets)' anoms=[]\n"
             "BODY off=29 '1 120' anoms=[]\n"
             "BODY off=36 '2 200' anoms=[]\n"
             "END off=43 anoms=[]\n"
             "STATUS ok off=46 code='' text='2 200' anoms=[]\n"
             "STATUS err off=57 code='' text='no such message, only 2 messages in maildrop'"
             " anoms=[]\n"},
    {.name = "RFC 1939 s5 RETR", .multi = "m",
     TH_IN("+OK 120 octets\r\n" "<the POP3 server sends the entire message here>\r\n" ".\r\n"),
     .want = "STATUS ok off=0 code='' text='120 octets' anoms=[]\n"
             "BODY off=16 '<the POP3 server sends the entire message here>' anoms=[]\n"
             "END off=65 anoms=[]\n"},
    {.name = "RFC 1939 s5 DELE",
     TH_IN("+OK message 1 deleted\r\n" "-ERR message 2 already deleted\r\n"),
     .want = "STATUS ok off=0 code='' text='message 1 deleted' anoms=[]\n"
             "STATUS err off=23 code='' text='message 2 already deleted' anoms=[]\n"},
    {.name = "RFC 1939 s5 NOOP", TH_IN("+OK\r\n"),
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"},
    {.name = "RFC 1939 s5 RSET", TH_IN("+OK maildrop has 2 messages (320 octets)\r\n"),
     .want = "STATUS ok off=0 code='' text='maildrop has 2 messages (320 octets)' anoms=[]\n"},
    {.name = "RFC 1939 s6 QUIT",
     TH_IN("+OK dewey POP3 server signing off (maildrop empty)\r\n"
           "+OK dewey POP3 server signing off (2 messages left)\r\n"),
     .want = "STATUS ok off=0 code='' text='dewey POP3 server signing off (maildrop empty)'"
             " anoms=[]\n"
             "STATUS ok off=52 code='' text='dewey POP3 server signing off (2 messages left)'"
             " anoms=[]\n"},
    {.name = "RFC 1939 s7 TOP", .multi = "m",
     TH_IN("+OK\r\n" "<the POP3 server sends the headers of the message, a blank line,"
           " and the first 10 lines of the body of the message>\r\n" ".\r\n"
           "-ERR no such message\r\n"),
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=5 '<the POP3 server sends the headers of the mes...' anoms=[]\n"
             "END off=122 anoms=[]\n"
             "STATUS err off=125 code='' text='no such message' anoms=[]\n"},
    {.name = "RFC 1939 s7 UIDL", .multi = "m",
     TH_IN("+OK\r\n" "1 whqtswO00WBw418f9t5JxYwZ\r\n" "2 QhdPYR:00WBw1Ph7x7\r\n" ".\r\n"
           "+OK 2 QhdPYR:00WBw1Ph7x7\r\n"
           "-ERR no such message, only 2 messages in maildrop\r\n"),
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=5 '1 whqtswO00WBw418f9t5JxYwZ' anoms=[]\n"
             "BODY off=33 '2 QhdPYR:00WBw1Ph7x7' anoms=[]\n"
             "END off=55 anoms=[]\n"
             "STATUS ok off=58 code='' text='2 QhdPYR:00WBw1Ph7x7' anoms=[]\n"
             "STATUS err off=84 code='' text='no such message, only 2 messages in maildrop'"
             " anoms=[]\n"},
    {.name = "RFC 1939 s7 USER",
     TH_IN("-ERR sorry, no mailbox for frated here\r\n" "+OK mrose is a real hoopy frood\r\n"),
     .want = "STATUS err off=0 code='' text='sorry, no mailbox for frated here' anoms=[]\n"
             "STATUS ok off=40 code='' text='mrose is a real hoopy frood' anoms=[]\n"},
    {.name = "RFC 1939 s7 PASS",
     TH_IN("+OK mrose is a real hoopy frood\r\n" "-ERR maildrop already locked\r\n"
           "+OK mrose is a real hoopy frood\r\n"
           "+OK mrose's maildrop has 2 messages (320 octets)\r\n"),
     .want = "STATUS ok off=0 code='' text='mrose is a real hoopy frood' anoms=[]\n"
             "STATUS err off=33 code='' text='maildrop already locked' anoms=[]\n"
             "STATUS ok off=63 code='' text='mrose is a real hoopy frood' anoms=[]\n"
             "STATUS ok off=96 code='' text='mrose's maildrop has 2 messages (320 octets)'"
             " anoms=[]\n"},
    {.name = "RFC 1939 s7 APOP",
     TH_IN("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
           "+OK maildrop has 1 message (369 octets)\r\n"),
     .want = "STATUS ok off=0 code='' text='POP3 server ready <1896.697170952@dbc.mtview....'"
             " anoms=[]\n"
             "STATUS ok off=57 code='' text='maildrop has 1 message (369 octets)' anoms=[]\n"},
    {.name = "RFC 1939 s10 session", .multi = "...mm.m",
     TH_IN("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
           "+OK mrose's maildrop has 2 messages (320 octets)\r\n" "+OK 2 320\r\n"
           "+OK 2 messages (320 octets)\r\n" "1 120\r\n" "2 200\r\n" ".\r\n"
           "+OK 120 octets\r\n" "<the POP3 server sends message 1>\r\n" ".\r\n"
           "+OK message 1 deleted\r\n" "+OK 200 octets\r\n"
           "<the POP3 server sends message 2>\r\n" ".\r\n" "+OK message 2 deleted\r\n"
           "+OK dewey POP3 server signing off (maildrop empty)\r\n"),
     .want = "STATUS ok off=0 code='' text='POP3 server ready <1896.697170952@dbc.mtview....'"
             " anoms=[]\n"
             "STATUS ok off=57 code='' text='mrose's maildrop has 2 messages (320 octets)'"
             " anoms=[]\n"
             "STATUS ok off=107 code='' text='2 320' anoms=[]\n"
             "STATUS ok off=118 code='' text='2 messages (320 octets)' anoms=[]\n"
             "BODY off=147 '1 120' anoms=[]\n"
             "BODY off=154 '2 200' anoms=[]\n"
             "END off=161 anoms=[]\n"
             "STATUS ok off=164 code='' text='120 octets' anoms=[]\n"
             "BODY off=180 '<the POP3 server sends message 1>' anoms=[]\n"
             "END off=215 anoms=[]\n"
             "STATUS ok off=218 code='' text='message 1 deleted' anoms=[]\n"
             "STATUS ok off=241 code='' text='200 octets' anoms=[]\n"
             "BODY off=257 '<the POP3 server sends message 2>' anoms=[]\n"
             "END off=292 anoms=[]\n"
             "STATUS ok off=295 code='' text='message 2 deleted' anoms=[]\n"
             "STATUS ok off=318 code='' text='dewey POP3 server signing off (maildrop empty)'"
             " anoms=[]\n"},
    {.name = "RFC 2449 s5 CAPA", .multi = "m",
     TH_IN("+OK Capability list follows\r\n" "TOP\r\n" "USER\r\n"
           "SASL CRAM-MD5 KERBEROS_V4\r\n" "RESP-CODES\r\n" "LOGIN-DELAY 900\r\n"
           "PIPELINING\r\n" "EXPIRE 60\r\n" "UIDL\r\n"
           "IMPLEMENTATION Shlemazle-Plotz-v302\r\n" ".\r\n"),
     .want = "STATUS ok off=0 code='' text='Capability list follows' anoms=[]\n"
             "BODY off=29 'TOP' anoms=[]\n"
             "BODY off=34 'USER' anoms=[]\n"
             "BODY off=40 'SASL CRAM-MD5 KERBEROS_V4' anoms=[]\n"
             "BODY off=67 'RESP-CODES' anoms=[]\n"
             "BODY off=79 'LOGIN-DELAY 900' anoms=[]\n"
             "BODY off=96 'PIPELINING' anoms=[]\n"
             "BODY off=108 'EXPIRE 60' anoms=[]\n"
             "BODY off=119 'UIDL' anoms=[]\n"
             "BODY off=125 'IMPLEMENTATION Shlemazle-Plotz-v302' anoms=[]\n"
             "END off=162 anoms=[]\n"},
    {.name = "RFC 2449 s8 IN-USE",
     TH_IN("-ERR [IN-USE] Do you have another POP session running?\r\n"),
     .want = "STATUS err off=0 code='IN-USE' text='Do you have another POP session running?'"
             " anoms=[]\n"},
    {.name = "RFC 5034 s6 example 1", .multi = ".m.m",
     TH_IN("+OK pop.example.com BlurdyBlurp POP3 server ready\r\n"
           "+OK List of capabilities follows\r\n" "SASL DIGEST-MD5 GSSAPI ANONYMOUS\r\n"
           "STLS\r\n" "IMPLEMENTATION BlurdyBlurp POP3 server\r\n" ".\r\n"
           "+OK Begin TLS negotiation now\r\n" "+OK List of capabilities follows\r\n"
           "SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\n"
           "IMPLEMENTATION BlurdyBlurp POP3 server\r\n" ".\r\n"
           "+OK Maildrop locked and ready\r\n"),
     .want = "STATUS ok off=0 code='' text='pop.example.com BlurdyBlurp POP3 server ready'"
             " anoms=[]\n"
             "STATUS ok off=51 code='' text='List of capabilities follows' anoms=[]\n"
             "BODY off=85 'SASL DIGEST-MD5 GSSAPI ANONYMOUS' anoms=[]\n"
             "BODY off=119 'STLS' anoms=[]\n"
             "BODY off=125 'IMPLEMENTATION BlurdyBlurp POP3 server' anoms=[]\n"
             "END off=165 anoms=[]\n"
             "STATUS ok off=168 code='' text='Begin TLS negotiation now' anoms=[]\n"
             "STATUS ok off=199 code='' text='List of capabilities follows' anoms=[]\n"
             "BODY off=233 'SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS' anoms=[]\n"
             "BODY off=273 'IMPLEMENTATION BlurdyBlurp POP3 server' anoms=[]\n"
             "END off=313 anoms=[]\n"
             "STATUS ok off=316 code='' text='Maildrop locked and ready' anoms=[]\n"},
    {.name = "RFC 5034 s6 example 2", .multi = "m",
     TH_IN("+OK List of capabilities follows\r\n" "SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\n"
           "IMPLEMENTATION BlurdyBlurp POP3 server\r\n" ".\r\n" "+ \r\n"
           "+OK Maildrop locked and ready\r\n"),
     .want = "STATUS ok off=0 code='' text='List of capabilities follows' anoms=[]\n"
             "BODY off=34 'SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS' anoms=[]\n"
             "BODY off=74 'IMPLEMENTATION BlurdyBlurp POP3 server' anoms=[]\n"
             "END off=114 anoms=[]\n"
             "CONT off=117 text='' anoms=[]\n"
             "STATUS ok off=121 code='' text='Maildrop locked and ready' anoms=[]\n"},
    {.name = "RFC 5034 s6 example 3", .multi = ".m",
     TH_IN("+OK pop.example.com BlurdyBlurp POP3 server ready\r\n"
           "+OK List of capabilities follows\r\n" "SASL DIGEST-MD5 GSSAPI ANONYMOUS\r\n"
           "STLS\r\n" "IMPLEMENTATION BlurdyBlurp POP3 server\r\n" ".\r\n"
           "+ cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbT"
           "JoaCIscW9wPSJhdXRoIixhbGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA" "==\r\n"
           "+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==\r\n"
           "+OK Maildrop locked and ready\r\n"),
     .want = "STATUS ok off=0 code='' text='pop.example.com BlurdyBlurp POP3 server ready'"
             " anoms=[]\n"
             "STATUS ok off=51 code='' text='List of capabilities follows' anoms=[]\n"
             "BODY off=85 'SASL DIGEST-MD5 GSSAPI ANONYMOUS' anoms=[]\n"
             "BODY off=119 'STLS' anoms=[]\n"
             "BODY off=125 'IMPLEMENTATION BlurdyBlurp POP3 server' anoms=[]\n"
             "END off=165 anoms=[]\n"
             "CONT off=168 text='cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlP...' anoms=[]\n"
             "CONT off=300 text='cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiM...' anoms=[]\n"
             "STATUS ok off=360 code='' text='Maildrop locked and ready' anoms=[]\n"},
};

static const struct rcase anom_cases[] = {
    {.name = "empty input", TH_IN(""), .want = ""},
    {.name = "lower-case +ok", TH_IN("+ok ready\r\n"),
     .want = "STATUS ok off=0 code='' text='ready' anoms=[POP3_STATUS_CASE@0]\n"},
    {.name = "lower-case -err", TH_IN("-err nope\r\n"),
     .want = "STATUS err off=0 code='' text='nope' anoms=[POP3_STATUS_CASE@0]\n"},
    {.name = "mixed-case +Ok", TH_IN("+Ok\r\n"),
     .want = "STATUS ok off=0 code='' text='' anoms=[POP3_STATUS_CASE@0]\n"},
    {.name = "+OKAY, no SP", TH_IN("+OKAY\r\n"),
     .want = "STATUS ok off=0 code='' text='AY' anoms=[POP3_STATUS_NO_SP@3]\n"},
    {.name = "-ERRx, no SP", TH_IN("-ERRx y\r\n"),
     .want = "STATUS err off=0 code='' text='x y' anoms=[POP3_STATUS_NO_SP@4]\n"},
    {.name = "+OK TAB", TH_IN("+OK\tready\r\n"),
     .want = "STATUS ok off=0 code='' text='\\tready' anoms=[POP3_STATUS_NO_SP@3]\n"},
    {.name = "unknown status", TH_IN("HELLO\r\n"),
     .want = "STATUS invalid off=0 code='' text='HELLO' anoms=[POP3_STATUS_UNKNOWN@0]\n"},
    {.name = "truncated status +O and -ER", TH_IN("+O\r\n-ER\r\nOK\r\n"),
     .want = "STATUS invalid off=0 code='' text='+O' anoms=[POP3_STATUS_UNKNOWN@0]\n"
             "STATUS invalid off=4 code='' text='-ER' anoms=[POP3_STATUS_UNKNOWN@4]\n"
             "STATUS invalid off=9 code='' text='OK' anoms=[POP3_STATUS_UNKNOWN@9]\n"},
    {.name = "empty line", TH_IN("\r\n"),
     .want = "STATUS invalid off=0 code='' text='' anoms=[POP3_STATUS_UNKNOWN@0]\n"},
    {.name = "status only, trailing SP", TH_IN("+OK\r\n-ERR \r\n"),
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "STATUS err off=5 code='' text='' anoms=[]\n"},
    {.name = "response code", TH_IN("-ERR [SYS/TEMP] try later\r\n+OK [LOGIN-DELAY]\r\n"),
     .want = "STATUS err off=0 code='SYS/TEMP' text='try later' anoms=[]\n"
             "STATUS ok off=27 code='LOGIN-DELAY' text='' anoms=[]\n"},
    {.name = "response code, no SP after", TH_IN("-ERR [IN-USE]busy\r\n"),
     .want = "STATUS err off=0 code='IN-USE' text='busy' anoms=[]\n"},
    {.name = "response code []", TH_IN("-ERR [] x\r\n"),
     .want = "STATUS err off=0 code='' text='x' anoms=[POP3_RESP_CODE_SYNTAX@6]\n"},
    {.name = "response code [SYS/]", TH_IN("-ERR [SYS/] x\r\n"),
     .want = "STATUS err off=0 code='SYS/' text='x' anoms=[POP3_RESP_CODE_SYNTAX@10]\n"},
    {.name = "response code [/SYS]", TH_IN("-ERR [/SYS] x\r\n"),
     .want = "STATUS err off=0 code='/SYS' text='x' anoms=[POP3_RESP_CODE_SYNTAX@6]\n"},
    {.name = "response code [SYS//TEMP]", TH_IN("-ERR [SYS//TEMP] x\r\n"),
     .want = "STATUS err off=0 code='SYS//TEMP' text='x' anoms=[POP3_RESP_CODE_SYNTAX@10]\n"},
    {.name = "response code with SP", TH_IN("-ERR [IN USE] x\r\n"),
     .want = "STATUS err off=0 code='IN USE' text='x' anoms=[POP3_RESP_CODE_SYNTAX@8]\n"},
    {.name = "unterminated [", TH_IN("-ERR [SYS/TEMP oops\r\n"),
     .want = "STATUS err off=0 code='' text='[SYS/TEMP oops' anoms=[POP3_RESP_CODE_SYNTAX@19]\n"},
    {.name = "lone [", TH_IN("-ERR [\r\n"),
     .want = "STATUS err off=0 code='' text='[' anoms=[POP3_RESP_CODE_SYNTAX@6]\n"},
    {.name = "control character", TH_IN("+OK a\x01" "b\r\n"),
     .want = "STATUS ok off=0 code='' text='a\\x01b' anoms=[POP3_TEXT_CTRL@5]\n"},
    {.name = "NUL in text", TH_IN("+OK a\0b\r\n"),
     .want = "STATUS ok off=0 code='' text='a\\x00b' anoms=[NUL_BYTE@5]\n"},
    {.name = "bare CR in text", TH_IN("+OK a\rb\r\n"),
     .want = "STATUS ok off=0 code='' text='a\\rb' anoms=[BARE_CR@5]\n"},
    {.name = "bare LF", TH_IN("+OK hi\n-ERR\n"),
     .want = "STATUS ok off=0 code='' text='hi' anoms=[BARE_LF@6]\n"
             "STATUS err off=7 code='' text='' anoms=[BARE_LF@11]\n"},
    {.name = "unterminated status at finish", TH_IN("+OK hi"),
     .want = "STATUS ok off=0 code='' text='hi' anoms=[UNTERMINATED_LINE@6]\n"},
    {.name = "challenge", TH_IN("+ dGVzdA==\r\n"),
     .want = "CONT off=0 text='dGVzdA==' anoms=[]\n"},
    {.name = "empty challenge", TH_IN("+ \r\n"), .want = "CONT off=0 text='' anoms=[]\n"},
    {.name = "+ without SP", TH_IN("+\r\n"),
     .want = "CONT off=0 text='' anoms=[POP3_CONT_NO_SP@1]\n"},
    {.name = "non-base64 challenge", TH_IN("+ not base64!\r\n"),
     .want = "CONT off=0 text='not base64!' anoms=[POP3_CONT_BAD_BASE64@5]\n"},
    {.name = "challenge of bad length", TH_IN("+ abc\r\n"),
     .want = "CONT off=0 text='abc' anoms=[POP3_CONT_BAD_BASE64@5]\n"},
    {.name = "challenge with leading pad", TH_IN("+ =AAA\r\n"),
     .want = "CONT off=0 text='=AAA' anoms=[POP3_CONT_BAD_BASE64@2]\n"},
    {.name = "challenge after two SP", TH_IN("+  AAAA\r\n"),
     .want = "CONT off=0 text=' AAAA' anoms=[POP3_CONT_BAD_BASE64@2]\n"},
    {.name = "dot-stuffing", TH_IN("+OK\r\n..\r\n...x\r\n.y\r\n.\r\n"), .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=6 '.' stuffed anoms=[]\n"
             "BODY off=10 '..x' stuffed anoms=[]\n"
             "BODY off=16 'y' stuffed anoms=[]\n"
             "END off=19 anoms=[]\n"},
    {.name = "empty and status-like body lines", TH_IN("+OK\r\n\r\n+OK x\r\n+ abc\r\n.\r\n"),
     .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=5 '' anoms=[]\n"
             "BODY off=7 '+OK x' anoms=[]\n"
             "BODY off=14 '+ abc' anoms=[]\n"
             "END off=21 anoms=[]\n"},
    {.name = "dot SP is not the terminator", TH_IN("+OK\r\n. \r\n.\r\n"), .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=6 ' ' stuffed anoms=[]\n"
             "END off=9 anoms=[]\n"},
    {.name = "terminator with bare LF", TH_IN("+OK\r\n.\n"), .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "END off=5 anoms=[BARE_LF@6]\n"},
    {.name = "pipelined after the terminator", TH_IN("+OK\r\n.\r\n-ERR no\r\n"), .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "END off=5 anoms=[]\n"
             "STATUS err off=8 code='' text='no' anoms=[]\n"},
    {.name = "unterminated multi-line", TH_IN("+OK\r\n1 2\r\n"), .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=5 '1 2' anoms=[]\n"
             "END off=10 anoms=[POP3_MULTI_UNTERMINATED@10]\n"},
    {.name = "unterminated multi-line and line", TH_IN("+OK\r\nabc"), .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=5 'abc' anoms=[UNTERMINATED_LINE@8]\n"
             "END off=8 anoms=[POP3_MULTI_UNTERMINATED@8]\n"},
    {.name = "terminator without CRLF at finish", TH_IN("+OK\r\n."), .multi = "m",
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "END off=5 anoms=[UNTERMINATED_LINE@6]\n"},
    {.name = "gap inside a status line", TH_IN("+OK a\r\n+OK bcd\r\n-ERR x\r\n"),
     .gap_at = 9, .gap = 5,
     .want = "STATUS ok off=0 code='' text='a' anoms=[]\n"
             "STATUS err off=21 code='' text='x' anoms=[]\n"},
    {.name = "gap keeps the multi-line open", TH_IN("+OK\r\nline1\r\nline2\r\n.\r\n"),
     .multi = "m", .gap_at = 14, .gap = 3,
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=5 'line1' anoms=[]\n"
             "END off=22 anoms=[]\n"},
    {.name = "gap eats the terminator", TH_IN("+OK\r\nx\r\n.\r\n+OK y\r\n"),
     .multi = "m", .gap_at = 8, .gap = 1,
     .want = "STATUS ok off=0 code='' text='' anoms=[]\n"
             "BODY off=5 'x' anoms=[]\n"
             "BODY off=12 '+OK y' anoms=[]\n"
             "END off=19 anoms=[POP3_MULTI_UNTERMINATED@19]\n"},
};

static int run_table(const struct rcase *tc, size_t n)
{
    static struct th_log got;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct rctx c = {.multi = tc[i].multi};
        th_run_modes_gap(&resp_target, &c, tc[i].in, tc[i].len, tc[i].gap_at, tc[i].gap, &got);
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
    const char *suffix, *multi;
    const char *fmt;   /* expected log; %s = th_shown(fill, n) */
};

/* RFC 1939 s3 / RFC 2449 s4: 512 octets including CRLF for status lines;
 * multi-line data lines are unlimited. MC_LINE_KEEP truncates what is kept. */
static const struct lcase long_cases[] = {
    {"status limit-1", "+OK ", 'x', 505, "\r\n", "",
     "STATUS ok off=0 code='' text='%s' anoms=[]\n"},
    {"status limit", "+OK ", 'x', 506, "\r\n", "",
     "STATUS ok off=0 code='' text='%s' anoms=[]\n"},
    {"status limit+1", "+OK ", 'x', 507, "\r\n", "",
     "STATUS ok off=0 code='' text='%s' anoms=[LINE_TOO_LONG@510]\n"},
    {"limit+1 on the second line", "+OK\r\n+OK ", 'x', 507, "\r\n", "",
     "STATUS ok off=0 code='' text='' anoms=[]\n"
     "STATUS ok off=5 code='' text='%s' anoms=[LINE_TOO_LONG@515]\n"},
    {"status over MC_LINE_KEEP", "+OK ", 'x', 2996, "\r\n", "",
     "STATUS ok off=0 code='' text='%s' len=3000 trunc anoms=[LINE_TOO_LONG@510]\n"},
    {"no multi-line: body line is a status", "+OK\r\n", 'y', 600, "\r\n.\r\n+OK ", "",
     "STATUS ok off=0 code='' text='' anoms=[]\n"
     "STATUS invalid off=5 code='' text='%s'"
     " anoms=[LINE_TOO_LONG@515,POP3_STATUS_UNKNOWN@5]\n"
     "STATUS invalid off=607 code='' text='.' anoms=[POP3_STATUS_UNKNOWN@607]\n"
     "STATUS ok off=610 code='' text='' anoms=[UNTERMINATED_LINE@614]\n"},
    {"multi-line lines are unlimited", "+OK\r\n", 'y', 600, "\r\n.\r\n+OK \r\n", "m",
     "STATUS ok off=0 code='' text='' anoms=[]\n"
     "BODY off=5 '%s' anoms=[]\n"
     "END off=607 anoms=[]\n"
     "STATUS ok off=610 code='' text='' anoms=[]\n"},
    {"stuffed line over MC_LINE_KEEP", "+OK\r\n.", '.', 2999, "\r\n.\r\n", "m",
     "STATUS ok off=0 code='' text='' anoms=[]\n"
     "BODY off=6 '%s' stuffed len=3000 trunc anoms=[]\n"
     "END off=3007 anoms=[]\n"},
};

/* RFC 5034 s4: challenges "may be of arbitrary length ... independent of any
 * line-length limitations": no LINE_TOO_LONG, and a valid challenge longer
 * than MC_LINE_KEEP is not base64-invalid just because it was truncated. */
static const struct lcase long_challenges[] = {
    {"challenge over 512 octets", "+ ", 'A', 600, "\r\n", "",
     "CONT off=0 text='%s' anoms=[]\n"},
    {"challenge over MC_LINE_KEEP", "+ ", 'A', 4000, "\r\n", "",
     "CONT off=0 text='%s' len=4002 trunc anoms=[]\n"},
};

static int run_long(const struct lcase *tc, size_t n)
{
    static uint8_t in[8192];
    static struct th_log got;
    char want[1024];
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct rctx c = {.multi = tc[i].multi};
        size_t len = th_build(in, sizeof(in), tc[i].prefix, tc[i].fill, tc[i].n, tc[i].suffix);
        snprintf(want, sizeof(want), tc[i].fmt, th_shown(tc[i].fill, tc[i].n));
        th_run_modes(&resp_target, &c, in, len, &got);
        bad += !th_expect_log(tc[i].name, want, &got);
    }
    return bad;
}

static void test_long_lines(void **state)
{
    (void)state;
    assert_int_equal(run_long(long_cases, TH_COUNT(long_cases)), 0);
}

static void test_long_challenges(void **state)
{
    (void)state;
    assert_int_equal(run_long(long_challenges, TH_COUNT(long_challenges)), 0);
}

/* ---- stateless helpers: one table, offsets relative to the line ---- */

enum hkind { LISTING, UIDL, CAPA, STAMP };
#define ANY ((size_t)-1)
#define UID70 "0123456789012345678901234567890123456789012345678901234567890123456789"

struct hcase {
    enum hkind kind;
    const char *in;
    size_t len;
    enum mc_anom anom;
    uint64_t a, b;   /* LISTING: number and size; UIDL: msg; STAMP: a=1 if found */
    size_t at, n;    /* UIDL: unique-id; CAPA: tag length (n); STAMP: the timestamp */
    size_t bad;      /* first offending octet (not for STAMP); ANY: not checked */
};

static const struct hcase helpers[] = {
    /* RFC 1939 s5: scan listing and drop listing */
    {LISTING, TH_IN("1 120"), .a = 1, .b = 120},
    {LISTING, TH_IN("2 320"), .a = 2, .b = 320},
    {LISTING, TH_IN("1 120 more text"), .a = 1, .b = 120},
    {LISTING, TH_IN("18446744073709551615 0"), .a = UINT64_MAX, .b = 0},
    {LISTING, TH_IN(""), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 0},
    {LISTING, TH_IN("x 1"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 0},
    {LISTING, TH_IN("-1 2"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 0},
    {LISTING, TH_IN("1"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 1},
    {LISTING, TH_IN("1\t2"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 1},
    {LISTING, TH_IN("1 "), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 2},
    {LISTING, TH_IN("1  2"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 2},
    {LISTING, TH_IN("12 345abc"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = 6},
    {LISTING, TH_IN("18446744073709551616 1"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = ANY},
    {LISTING, TH_IN("1 18446744073709551616"), MC_ANOM_POP3_LISTING_SYNTAX, .bad = ANY},
    /* RFC 1939 s7: unique-id listing, 1 to 70 octets of 0x21-0x7E */
    {UIDL, TH_IN("1 whqtswO00WBw418f9t5JxYwZ"), .a = 1, .at = 2, .n = 24},
    {UIDL, TH_IN("2 QhdPYR:00WBw1Ph7x7"), .a = 2, .at = 2, .n = 18},
    {UIDL, TH_IN("3 !~"), .a = 3, .at = 2, .n = 2},
    {UIDL, TH_IN("1 " UID70), .a = 1, .at = 2, .n = 70},
    {UIDL, TH_IN("1 " UID70 "x"), MC_ANOM_POP3_UID_INVALID, .a = 1, .at = 2, .n = 71, .bad = 72},
    {UIDL, TH_IN("1 "), MC_ANOM_POP3_UID_INVALID, .a = 1, .at = 2, .bad = 2},
    {UIDL, TH_IN("1  ab"), MC_ANOM_POP3_UID_INVALID, .a = 1, .at = 2, .n = 3, .bad = 2},
    {UIDL, TH_IN("1 ab cd"), MC_ANOM_POP3_UID_INVALID, .a = 1, .at = 2, .n = 5, .bad = 4},
    {UIDL, TH_IN("1 ab\x7f"), MC_ANOM_POP3_UID_INVALID, .a = 1, .at = 2, .n = 3, .bad = 4},
    {UIDL, TH_IN("1"), MC_ANOM_POP3_UIDL_SYNTAX, .bad = 1},
    {UIDL, TH_IN("a b"), MC_ANOM_POP3_UIDL_SYNTAX, .bad = 0},
    {UIDL, TH_IN("1\tab"), MC_ANOM_POP3_UIDL_SYNTAX, .bad = 1},
    {UIDL, TH_IN(""), MC_ANOM_POP3_UIDL_SYNTAX, .bad = 0},
    /* RFC 2449 s3: capa-tag = 1*cchar (%x21-2D / %x2F-7F), param = 1*VCHAR */
    {CAPA, TH_IN("TOP"), .n = 3},
    {CAPA, TH_IN("SASL CRAM-MD5 KERBEROS_V4"), .n = 4},
    {CAPA, TH_IN("LOGIN-DELAY 900"), .n = 11},
    {CAPA, TH_IN("IMPLEMENTATION Shlemazle-Plotz-v302"), .n = 14},
    {CAPA, TH_IN("SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS"), .n = 4},
    {CAPA, TH_IN("X-\x7f"), .n = 3},
    {CAPA, TH_IN(""), MC_ANOM_POP3_CAPA_SYNTAX, .n = 0, .bad = 0},
    {CAPA, TH_IN(" TOP"), MC_ANOM_POP3_CAPA_SYNTAX, .n = 0, .bad = 0},
    {CAPA, TH_IN("X.Y"), MC_ANOM_POP3_CAPA_SYNTAX, .n = ANY, .bad = 1},
    {CAPA, TH_IN("T\x80"), MC_ANOM_POP3_CAPA_SYNTAX, .n = ANY, .bad = 1},
    {CAPA, TH_IN("SASL  PLAIN"), MC_ANOM_POP3_CAPA_SYNTAX, .n = 4, .bad = 5},
    {CAPA, TH_IN("SASL PLAIN "), MC_ANOM_POP3_CAPA_SYNTAX, .n = 4, .bad = 11},
    {CAPA, TH_IN("SASL PL\tAIN"), MC_ANOM_POP3_CAPA_SYNTAX, .n = 4, .bad = 7},
    {CAPA, TH_IN("EXPIRE 6\x7f"), MC_ANOM_POP3_CAPA_SYNTAX, .n = 6, .bad = 8},
    /* RFC 1939 s7: APOP timestamp, a msg-id <local@domain> */
    {STAMP, TH_IN("POP3 server ready <1896.697170952@dbc.mtview.ca.us>"), .a = 1, .at = 18,
     .n = 33},
    {STAMP, TH_IN("x <a@b> y <c d>"), .a = 1, .at = 2, .n = 5},
    {STAMP, TH_IN("POP3 server ready"), .a = 0},
    {STAMP, TH_IN("ready <abc"), MC_ANOM_POP3_TIMESTAMP_SYNTAX, .a = 1, .at = 6, .n = 4},
    {STAMP, TH_IN("<>"), MC_ANOM_POP3_TIMESTAMP_SYNTAX, .a = 1, .at = 0, .n = 2},
    {STAMP, TH_IN("<@b>"), MC_ANOM_POP3_TIMESTAMP_SYNTAX, .a = 1, .at = 0, .n = 4},
    {STAMP, TH_IN("<a@>"), MC_ANOM_POP3_TIMESTAMP_SYNTAX, .a = 1, .at = 0, .n = 4},
    {STAMP, TH_IN("<a@b@c>"), MC_ANOM_POP3_TIMESTAMP_SYNTAX, .a = 1, .at = 0, .n = 7},
    {STAMP, TH_IN("<a b@c>"), MC_ANOM_POP3_TIMESTAMP_SYNTAX, .a = 1, .at = 0, .n = 7},
    {STAMP, TH_IN("<<a@b>"), MC_ANOM_POP3_TIMESTAMP_SYNTAX, .a = 1, .at = 0, .n = 6},
};

static void test_helpers(void **state)
{
    int failed = 0;
    (void)state;
    for (size_t i = 0; i < TH_COUNT(helpers); i++) {
        const struct hcase *h = &helpers[i];
        struct th_guard g;
        const uint8_t *s;
        enum mc_anom anom = MC_ANOM_COUNT;
        uint64_t a = 0, b = 0;
        size_t at = 0, n = ANY, bad = ANY;
        bool found, ok;
        th_guard_init(&g, h->len);
        s = th_guard_put(&g, h->in, h->len);
        switch (h->kind) {
        case LISTING: anom = mc_pop3_parse_listing(s, h->len, &a, &b, &bad); break;
        case UIDL: anom = mc_pop3_parse_uidl(s, h->len, &a, &at, &n, &bad); break;
        case CAPA: anom = mc_pop3_parse_capa(s, h->len, &n, &bad); break;
        case STAMP:
            found = mc_pop3_find_timestamp(s, h->len, &at, &n, &anom);
            if (!found)
                anom = MC_ANOM_NONE;
            a = found;
            break;
        }
        ok = anom == h->anom &&
             (anom == MC_ANOM_NONE || h->kind == STAMP || h->bad == ANY || bad == h->bad);
        switch (h->kind) {
        case LISTING: ok = ok && (anom != MC_ANOM_NONE || (a == h->a && b == h->b)); break;
        case UIDL:
            ok = ok && (anom == MC_ANOM_POP3_UIDL_SYNTAX ||
                        (a == h->a && at == h->at && n == h->n));
            break;
        case CAPA: ok = ok && (h->n == ANY || n == h->n); break;
        case STAMP: ok = ok && a == h->a && (!a || (at == h->at && n == h->n)); break;
        }
        if (!ok) {
            print_error("helper case %zu '%.*s': anom=%s bad=%zu a=%llu b=%llu at=%zu n=%zu\n", i,
                        (int)h->len, h->in, mc_anom_name(anom), bad, (unsigned long long)a,
                        (unsigned long long)b, at, n);
            failed++;
        }
        th_guard_free(&g);
    }
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_anomalies),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_long_challenges),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
