/*
 * pop3_cmd: keywords, argument grammar per command, PASS and secrets, APOP
 * digests, AUTH initial responses, SASL mode lines, limits, gaps. Every
 * stream case runs in the three feeding modes on guard-page input.
 *
 * Log line per event:
 *   CMD <VERB> off=N [kw='..'] argc=N 'arg'... [#1=N] [#2=N] [secret=OFF+LEN] ok|bad
 *       [len=N trunc] anoms=[..]                    (kw only for UNKNOWN)
 *   SASL off=N '..' [cancel] secret=OFF+LEN ok|bad [len=N trunc] anoms=[..]
 * A case's .sasl string has one character per event: 's' means the driver
 * calls mc_pop3_cmd_expect_sasl(true) after it, 'c' expect_sasl(false).
 */
#include "test_harness.h"

#include "pop3/pop3_cmd.h"

struct cctx {
    struct mc_pop3_cmd p;
    const char *plan;
    unsigned nev;
    uint64_t pos;
};

static void cmd_log(struct cctx *c, struct th_log *log, const struct mc_pop3_cmd_ev *ev)
{
    bool spans_ok = th_span_in(&ev->keyword, &ev->line) && th_span_in(&ev->secret, &ev->line);
    char act = c->plan && c->nev < strlen(c->plan) ? c->plan[c->nev] : '.';
    if (ev->type == MC_POP3_CMD_SASL) {
        th_logf(log, "SASL off=%llu ", (unsigned long long)ev->line.off);
        th_log_bytes(log, ev->line.ptr, ev->line.len);
        if (ev->cancel)
            th_logf(log, " cancel");
    } else {
        th_logf(log, "CMD %s off=%llu", mc_pop3_verb_name(ev->verb),
                (unsigned long long)ev->line.off);
        if (ev->verb == MC_POP3_UNKNOWN) {
            th_logf(log, " kw=");
            th_log_bytes(log, ev->keyword.ptr, ev->keyword.len);
        }
        th_logf(log, " argc=%u", ev->argc);
        for (unsigned i = 0; i < ev->argc && i < MC_POP3_ARGS_MAX; i++) {
            th_logf(log, " ");
            th_log_bytes(log, ev->arg[i].ptr, ev->arg[i].len);
            spans_ok = spans_ok && th_span_in(&ev->arg[i], &ev->line);
        }
        for (unsigned i = 0; i < 2; i++)
            if (ev->num_ok[i])
                th_logf(log, " #%u=%llu", i + 1, (unsigned long long)ev->num[i]);
    }
    if (ev->secret.ptr)
        th_logf(log, " secret=%llu+%zu", (unsigned long long)ev->secret.off, ev->secret.len);
    th_logf(log, ev->syntax_ok ? " ok" : " bad");
    if (ev->truncated)
        th_logf(log, " len=%llu trunc", (unsigned long long)ev->line_len);
    if (!spans_ok || ev->truncated != (ev->line_len > MC_LINE_KEEP))
        th_logf(log, " BADSPAN");
    th_log_anoms(log, &ev->anoms);
    th_logf(log, "\n");
    if (act == 's' || act == 'c') {
        mc_pop3_cmd_expect_sasl(&c->p, act == 's');
        assert_int_equal(mc_pop3_cmd_in_sasl(&c->p), act == 's');
    }
    c->nev++;
}

static void c_start(void *vc)
{
    struct cctx *c = vc;
    mc_pop3_cmd_init(&c->p);
    assert_false(mc_pop3_cmd_in_sasl(&c->p));
    c->nev = 0;
    c->pos = 0;
}

static void c_feed(void *vc, struct th_log *log, const uint8_t *p, size_t n)
{
    struct cctx *c = vc;
    size_t off = 0;
    for (;;) {
        struct mc_pop3_cmd_ev ev;
        size_t used = (size_t)-1;
        int r = mc_pop3_cmd_feed(&c->p, p + off, n - off, &used, &ev);
        assert_true(used <= n - off);
        off += used;
        if (r == MC_NEED_MORE) {
            assert_int_equal(off, n);
            break;
        }
        assert_int_equal(r, MC_EVENT);
        assert_true(used > 0);
        assert_false(mc_pop3_cmd_partial(&c->p));
        cmd_log(c, log, &ev);
    }
    c->pos += n;
    assert_int_equal(mc_pop3_cmd_offset(&c->p), c->pos);
}

static void c_finish(void *vc, struct th_log *log)
{
    struct cctx *c = vc;
    struct mc_pop3_cmd_ev ev;
    if (mc_pop3_cmd_finish(&c->p, &ev) == MC_EVENT)
        cmd_log(c, log, &ev);
    assert_int_equal(mc_pop3_cmd_finish(&c->p, &ev), MC_NEED_MORE);
}

static void c_gap(void *vc, struct th_log *log, uint64_t n)
{
    struct cctx *c = vc;
    (void)log;
    mc_pop3_cmd_gap(&c->p, n);
    c->pos += n;
}

static const struct th_target cmd_target = {c_start, c_feed, c_finish, c_gap};

struct ccase {
    const char *name;
    const char *in;
    size_t len;
    const char *sasl;
    size_t gap_at;
    uint64_t gap;
    const char *want;
};

/* The RFC examples verbatim, "C:" lines with CRLF; expected logs from an
 * independent model of the grammar. */
static const struct ccase rfc_cases[] = {
    {.name = "RFC 1939 s4 QUIT", TH_IN("QUIT\r\n"),
     .want = "CMD QUIT off=0 argc=0 ok anoms=[]\n"},
    {.name = "RFC 1939 s5 STAT", TH_IN("STAT\r\n"),
     .want = "CMD STAT off=0 argc=0 ok anoms=[]\n"},
    {.name = "RFC 1939 s5 LIST", TH_IN("LIST\r\n" "LIST 2\r\n" "LIST 3\r\n"),
     .want = "CMD LIST off=0 argc=0 ok anoms=[]\n"
             "CMD LIST off=6 argc=1 '2' #1=2 ok anoms=[]\n"
             "CMD LIST off=14 argc=1 '3' #1=3 ok anoms=[]\n"},
    {.name = "RFC 1939 s5 RETR", TH_IN("RETR 1\r\n"),
     .want = "CMD RETR off=0 argc=1 '1' #1=1 ok anoms=[]\n"},
    {.name = "RFC 1939 s5 DELE", TH_IN("DELE 1\r\n" "DELE 2\r\n"),
     .want = "CMD DELE off=0 argc=1 '1' #1=1 ok anoms=[]\n"
             "CMD DELE off=8 argc=1 '2' #1=2 ok anoms=[]\n"},
    {.name = "RFC 1939 s5 NOOP", TH_IN("NOOP\r\n"),
     .want = "CMD NOOP off=0 argc=0 ok anoms=[]\n"},
    {.name = "RFC 1939 s5 RSET", TH_IN("RSET\r\n"),
     .want = "CMD RSET off=0 argc=0 ok anoms=[]\n"},
    {.name = "RFC 1939 s6 QUIT", TH_IN("QUIT\r\n" "QUIT\r\n"),
     .want = "CMD QUIT off=0 argc=0 ok anoms=[]\n"
             "CMD QUIT off=6 argc=0 ok anoms=[]\n"},
    {.name = "RFC 1939 s7 TOP", TH_IN("TOP 1 10\r\n" "TOP 100 3\r\n"),
     .want = "CMD TOP off=0 argc=2 '1' '10' #1=1 #2=10 ok anoms=[]\n"
             "CMD TOP off=10 argc=2 '100' '3' #1=100 #2=3 ok anoms=[]\n"},
    {.name = "RFC 1939 s7 UIDL", TH_IN("UIDL\r\n" "UIDL 2\r\n" "UIDL 3\r\n"),
     .want = "CMD UIDL off=0 argc=0 ok anoms=[]\n"
             "CMD UIDL off=6 argc=1 '2' #1=2 ok anoms=[]\n"
             "CMD UIDL off=14 argc=1 '3' #1=3 ok anoms=[]\n"},
    {.name = "RFC 1939 s7 USER", TH_IN("USER frated\r\n" "USER mrose\r\n"),
     .want = "CMD USER off=0 argc=1 'frated' ok anoms=[]\n"
             "CMD USER off=13 argc=1 'mrose' ok anoms=[]\n"},
    {.name = "RFC 1939 s7 PASS",
     TH_IN("USER mrose\r\n" "PASS secret\r\n" "USER mrose\r\n" "PASS secret\r\n"),
     .want = "CMD USER off=0 argc=1 'mrose' ok anoms=[]\n"
             "CMD PASS off=12 argc=1 'secret' secret=17+6 ok anoms=[]\n"
             "CMD USER off=25 argc=1 'mrose' ok anoms=[]\n"
             "CMD PASS off=37 argc=1 'secret' secret=42+6 ok anoms=[]\n"},
    {.name = "RFC 1939 s7 APOP", TH_IN("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
     .want = "CMD APOP off=0 argc=2 'mrose' 'c4c9334bac560ecc979e58001b3e22fb' secret=11+32 ok"
             " anoms=[]\n"},
    {.name = "RFC 1939 s10 session",
     TH_IN("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n" "STAT\r\n" "LIST\r\n" "RETR 1\r\n"
           "DELE 1\r\n" "RETR 2\r\n" "DELE 2\r\n" "QUIT\r\n"),
     .want = "CMD APOP off=0 argc=2 'mrose' 'c4c9334bac560ecc979e58001b3e22fb' secret=11+32 ok"
             " anoms=[]\n"
             "CMD STAT off=45 argc=0 ok anoms=[]\n"
             "CMD LIST off=51 argc=0 ok anoms=[]\n"
             "CMD RETR off=57 argc=1 '1' #1=1 ok anoms=[]\n"
             "CMD DELE off=65 argc=1 '1' #1=1 ok anoms=[]\n"
             "CMD RETR off=73 argc=1 '2' #1=2 ok anoms=[]\n"
             "CMD DELE off=81 argc=1 '2' #1=2 ok anoms=[]\n"
             "CMD QUIT off=89 argc=0 ok anoms=[]\n"},
    {.name = "RFC 2449 s5 CAPA", TH_IN("CAPA\r\n"),
     .want = "CMD CAPA off=0 argc=0 ok anoms=[]\n"},
    {.name = "RFC 5034 s6 example 1",
     TH_IN("CAPA\r\n" "STLS\r\n" "CAPA\r\n" "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"),
     .want = "CMD CAPA off=0 argc=0 ok anoms=[]\n"
             "CMD STLS off=6 argc=0 ok anoms=[]\n"
             "CMD CAPA off=12 argc=0 ok anoms=[]\n"
             "CMD AUTH off=18 argc=2 'PLAIN' 'dGVzdAB0ZXN0AHRlc3Q=' secret=29+20 ok anoms=[]\n"},
    {.name = "RFC 5034 s6 example 2", .sasl = ".sc",
     TH_IN("CAPA\r\n" "AUTH PLAIN\r\n" "dGVzdAB0ZXN0AHRlc3Q=\r\n"),
     .want = "CMD CAPA off=0 argc=0 ok anoms=[]\n"
             "CMD AUTH off=6 argc=1 'PLAIN' ok anoms=[]\n"
             "SASL off=18 'dGVzdAB0ZXN0AHRlc3Q=' secret=18+20 ok anoms=[]\n"},
    {.name = "RFC 5034 s6 example 3", .sasl = ".s.c",
     TH_IN("CAPA\r\n" "AUTH DIGEST-MD5\r\n"
           "Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5u"
           "b3NvZnQuY29tIixub25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNu"
           "b25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2VzdC11cmk9InBvcC9lbHdvb2QuaW5u"
           "b3NvZnQuY29tIixyZXNwb25zZT1iMGQ1NmQyZjA1NGMyNGI2MjA3MjMyMjEwNjQ2"
           "OGRiOSxxb3A9YXV0aA==\r\n" "\r\n"),
     .want = "CMD CAPA off=0 argc=0 ok anoms=[]\n"
             "CMD AUTH off=6 argc=1 'DIGEST-MD5' ok anoms=[]\n"
             "SASL off=23 'Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlY...' secret=23+276 ok"
             " anoms=[]\n"
             "SASL off=301 '' secret=301+0 ok anoms=[]\n"},
};

#define S40 "abcdefghijabcdefghijabcdefghijabcdefghij"

static const struct ccase anom_cases[] = {
    {.name = "empty input", TH_IN(""), .want = ""},
    {.name = "lower-case keyword", TH_IN("list 1\r\n"),
     .want = "CMD LIST off=0 argc=1 '1' #1=1 ok anoms=[]\n"},
    {.name = "mixed-case keyword", TH_IN("Uidl\r\nsTlS\r\n"),
     .want = "CMD UIDL off=0 argc=0 ok anoms=[]\n"
             "CMD STLS off=6 argc=0 ok anoms=[]\n"},
    {.name = "argument to STAT", TH_IN("STAT 1\r\n"),
     .want = "CMD STAT off=0 argc=1 '1' bad anoms=[POP3_ARG_COUNT@6]\n"},
    {.name = "RETR without argument", TH_IN("RETR\r\n"),
     .want = "CMD RETR off=0 argc=0 bad anoms=[POP3_ARG_COUNT@4]\n"},
    {.name = "RETR with two arguments", TH_IN("RETR 1 2\r\n"),
     .want = "CMD RETR off=0 argc=2 '1' '2' #1=1 bad anoms=[POP3_ARG_COUNT@8]\n"},
    {.name = "TOP with one argument", TH_IN("TOP 1\r\n"),
     .want = "CMD TOP off=0 argc=1 '1' #1=1 bad anoms=[POP3_ARG_COUNT@5]\n"},
    {.name = "TOP with three arguments", TH_IN("TOP 1 2 3\r\n"),
     .want = "CMD TOP off=0 argc=3 '1' '2' '3' #1=1 #2=2 bad anoms=[POP3_ARG_COUNT@9]\n"},
    {.name = "double space", TH_IN("LIST  1\r\n"),
     .want = "CMD LIST off=0 argc=1 '1' #1=1 bad anoms=[POP3_ARG_SPACING@4]\n"},
    {.name = "trailing space", TH_IN("LIST 1 \r\n"),
     .want = "CMD LIST off=0 argc=1 '1' #1=1 bad anoms=[POP3_ARG_SPACING@6]\n"},
    {.name = "trailing space, no argument", TH_IN("NOOP \r\n"),
     .want = "CMD NOOP off=0 argc=0 bad anoms=[POP3_ARG_SPACING@4]\n"},
    {.name = "message number 0", TH_IN("RETR 0\r\n"),
     .want = "CMD RETR off=0 argc=1 '0' #1=0 ok anoms=[POP3_ARG_ZERO@5]\n"},
    {.name = "TOP with 0 lines", TH_IN("TOP 1 0\r\n"),
     .want = "CMD TOP off=0 argc=2 '1' '0' #1=1 #2=0 ok anoms=[]\n"},
    {.name = "TOP of message 0", TH_IN("TOP 0 5\r\n"),
     .want = "CMD TOP off=0 argc=2 '0' '5' #1=0 #2=5 ok anoms=[POP3_ARG_ZERO@4]\n"},
    {.name = "non-digit", TH_IN("DELE x1\r\nDELE +1\r\n"),
     .want = "CMD DELE off=0 argc=1 'x1' bad anoms=[POP3_ARG_NOT_NUMBER@5]\n"
             "CMD DELE off=9 argc=1 '+1' bad anoms=[POP3_ARG_NOT_NUMBER@14]\n"},
    {.name = "TOP count not a number", TH_IN("TOP 1 x\r\n"),
     .want = "CMD TOP off=0 argc=2 '1' 'x' #1=1 bad anoms=[POP3_ARG_NOT_NUMBER@6]\n"},
    {.name = "largest number", TH_IN("RETR 18446744073709551615\r\n"),
     .want = "CMD RETR off=0 argc=1 '18446744073709551615' #1=18446744073709551615 ok"
             " anoms=[]\n"},
    {.name = "number overflow", TH_IN("RETR 18446744073709551616\r\n"),
     .want = "CMD RETR off=0 argc=1 '18446744073709551616' bad"
             " anoms=[POP3_ARG_NOT_NUMBER@5]\n"},
    {.name = "40-char argument", TH_IN("USER " S40 "\r\n"),
     .want = "CMD USER off=0 argc=1 '" S40 "' ok anoms=[]\n"},
    {.name = "41-char argument", TH_IN("USER " S40 "x\r\n"),
     .want = "CMD USER off=0 argc=1 '" S40 "x' ok anoms=[POP3_ARG_OVER_40@45]\n"},
    {.name = "PASS with spaces", TH_IN("PASS my secret pw\r\n"),
     .want = "CMD PASS off=0 argc=1 'my secret pw' secret=5+12 ok anoms=[]\n"},
    {.name = "PASS with leading space", TH_IN("PASS  x\r\n"),
     .want = "CMD PASS off=0 argc=1 ' x' secret=5+2 ok anoms=[]\n"},
    {.name = "PASS without argument", TH_IN("PASS\r\nPASS \r\n"),
     .want = "CMD PASS off=0 argc=0 bad anoms=[POP3_ARG_COUNT@4]\n"
             "CMD PASS off=6 argc=0 secret=11+0 bad anoms=[POP3_ARG_COUNT@11]\n"},
    {.name = "PASS with TAB", TH_IN("PASS a\tb\r\n"),
     .want = "CMD PASS off=0 argc=1 'a\\tb' secret=5+3 bad anoms=[POP3_ARG_BAD_CHAR@6]\n"},
    {.name = "APOP upper-case digest", TH_IN("APOP mrose C4C9334BAC560ECC979E58001B3E22FB\r\n"),
     .want = "CMD APOP off=0 argc=2 'mrose' 'C4C9334BAC560ECC979E58001B3E22FB' secret=11+32 bad"
             " anoms=[POP3_APOP_DIGEST@11]\n"},
    {.name = "APOP short digest", TH_IN("APOP mrose c4c9\r\n"),
     .want = "CMD APOP off=0 argc=2 'mrose' 'c4c9' secret=11+4 bad anoms=[POP3_APOP_DIGEST@11]\n"},
    {.name = "APOP without digest", TH_IN("APOP mrose\r\n"),
     .want = "CMD APOP off=0 argc=1 'mrose' bad anoms=[POP3_ARG_COUNT@10]\n"},
    {.name = "AUTH empty initial response", TH_IN("AUTH PLAIN =\r\n"),
     .want = "CMD AUTH off=0 argc=2 'PLAIN' '=' secret=11+1 ok anoms=[]\n"},
    {.name = "AUTH initial response of bad length", TH_IN("AUTH PLAIN abc\r\n"),
     .want = "CMD AUTH off=0 argc=2 'PLAIN' 'abc' secret=11+3 bad"
             " anoms=[POP3_SASL_BAD_BASE64@14]\n"},
    {.name = "AUTH initial response, bad char", TH_IN("AUTH PLAIN a*cd\r\n"),
     .want = "CMD AUTH off=0 argc=2 'PLAIN' 'a*cd' secret=11+4 bad"
             " anoms=[POP3_SASL_BAD_BASE64@12]\n"},
    {.name = "AUTH without mechanism", TH_IN("AUTH\r\n"),
     .want = "CMD AUTH off=0 argc=0 ok anoms=[]\n"},
    {.name = "SASL cancel", .sasl = "s", TH_IN("AUTH X\r\n*\r\n"),
     .want = "CMD AUTH off=0 argc=1 'X' ok anoms=[]\n"
             "SASL off=8 '*' cancel secret=8+1 ok anoms=[]\n"},
    {.name = "SASL not base64", .sasl = "s", TH_IN("AUTH X\r\nabc!\r\n**\r\n"),
     .want = "CMD AUTH off=0 argc=1 'X' ok anoms=[]\n"
             "SASL off=8 'abc!' secret=8+4 bad anoms=[POP3_SASL_BAD_BASE64@11]\n"
             "SASL off=14 '**' secret=14+2 bad anoms=[POP3_SASL_BAD_BASE64@14]\n"},
    /* RFC 5034 s5: "=" is only an initial response; later ones are base64 */
    {.name = "SASL =", .sasl = "s", TH_IN("AUTH X\r\n=\r\n"),
     .want = "CMD AUTH off=0 argc=1 'X' ok anoms=[]\n"
             "SASL off=8 '=' secret=8+1 bad anoms=[POP3_SASL_BAD_BASE64@9]\n"},
    {.name = "SASL and back to commands", .sasl = "sc", TH_IN("AUTH X\r\nAAAA\r\nQUIT\r\n"),
     .want = "CMD AUTH off=0 argc=1 'X' ok anoms=[]\n"
             "SASL off=8 'AAAA' secret=8+4 ok anoms=[]\n"
             "CMD QUIT off=14 argc=0 ok anoms=[]\n"},
    {.name = "unknown keyword", TH_IN("XTND XLST a\r\n"),
     .want = "CMD UNKNOWN off=0 kw='XTND' argc=2 'XLST' 'a' ok anoms=[]\n"},
    {.name = "unknown keyword, 5 arguments", TH_IN("XYZW a b c d e\r\n"),
     .want = "CMD UNKNOWN off=0 kw='XYZW' argc=5 'a' 'b' 'c' 'd' ok anoms=[]\n"},
    {.name = "2-char keyword", TH_IN("LI\r\n"),
     .want = "CMD UNKNOWN off=0 kw='LI' argc=0 bad anoms=[POP3_KEYWORD_SYNTAX@0]\n"},
    {.name = "5-char keyword", TH_IN("LISTS 1\r\n"),
     .want = "CMD UNKNOWN off=0 kw='LISTS' argc=1 '1' bad anoms=[POP3_KEYWORD_SYNTAX@0]\n"},
    {.name = "control char in keyword", TH_IN("LI\x01T\r\n"),
     .want = "CMD UNKNOWN off=0 kw='LI\\x01T' argc=0 bad anoms=[POP3_KEYWORD_SYNTAX@2]\n"},
    {.name = "leading space", TH_IN(" LIST\r\n"),
     .want = "CMD UNKNOWN off=0 kw='' argc=1 'LIST' bad anoms=[POP3_KEYWORD_SYNTAX@0]\n"},
    {.name = "empty line", TH_IN("\r\n"),
     .want = "CMD UNKNOWN off=0 kw='' argc=0 bad anoms=[POP3_CMD_EMPTY@0]\n"},
    {.name = "bare LF", TH_IN("QUIT\n"),
     .want = "CMD QUIT off=0 argc=0 ok anoms=[BARE_LF@4]\n"},
    {.name = "unterminated at finish", TH_IN("NOOP\r\nQUIT"),
     .want = "CMD NOOP off=0 argc=0 ok anoms=[]\n"
             "CMD QUIT off=6 argc=0 ok anoms=[UNTERMINATED_LINE@10]\n"},
    {.name = "NUL in argument", TH_IN("USER a\0b\r\n"),
     .want = "CMD USER off=0 argc=1 'a\\x00b' bad anoms=[NUL_BYTE@6]\n"},
    {.name = "bare CR in argument", TH_IN("USER a\rb\r\n"),
     .want = "CMD USER off=0 argc=1 'a\\rb' bad anoms=[BARE_CR@6,POP3_ARG_BAD_CHAR@6]\n"},
    {.name = "gap", TH_IN("STAT\r\nLIST 1\r\nQUIT\r\n"), .gap_at = 8, .gap = 2,
     .want = "CMD STAT off=0 argc=0 ok anoms=[]\n"
             "CMD QUIT off=16 argc=0 ok anoms=[]\n"},
};

static int run_table(const struct ccase *tc, size_t n)
{
    static struct th_log got;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct cctx c = {.plan = tc[i].sasl};
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

static void test_anomalies(void **state)
{
    (void)state;
    assert_int_equal(run_table(anom_cases, TH_COUNT(anom_cases)), 0);
}

struct lcase {
    const char *name, *prefix;
    size_t n;   /* octets after the prefix ('p', or 'A' in SASL mode), then CRLF */
    const char *sasl;
    const char *fmt;   /* expected log; %s = th_shown(fill, n) */
};

/* RFC 2449 s4: 255 octets per command line including CRLF; RFC 5034 s4:
 * SASL responses have no limit. */
static const struct lcase long_cases[] = {
    {"limit-1", "PASS ", 247, NULL, "CMD PASS off=0 argc=1 '%s' secret=5+247 ok anoms=[]\n"},
    {"limit", "PASS ", 248, NULL, "CMD PASS off=0 argc=1 '%s' secret=5+248 ok anoms=[]\n"},
    {"limit+1", "PASS ", 249, NULL,
     "CMD PASS off=0 argc=1 '%s' secret=5+249 ok anoms=[LINE_TOO_LONG@253]\n"},
    {"over MC_LINE_KEEP", "PASS ", 3000, NULL,
     "CMD PASS off=0 argc=1 '%s' secret=5+2043 ok len=3005 trunc"
     " anoms=[LINE_TOO_LONG@253]\n"},
    {"long SASL response", "AUTH X\r\n", 400, "s",
     "CMD AUTH off=0 argc=1 'X' ok anoms=[]\n"
     "SASL off=8 '%s' secret=8+400 ok anoms=[]\n"},
    {"SASL response over MC_LINE_KEEP", "AUTH X\r\n", 4000, "s",
     "CMD AUTH off=0 argc=1 'X' ok anoms=[]\n"
     "SASL off=8 '%s' secret=8+2048 ok len=4000 trunc anoms=[]\n"},
};

static void test_long_lines(void **state)
{
    static uint8_t in[8192];
    static struct th_log got;
    char want[512];
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < TH_COUNT(long_cases); i++) {
        const struct lcase *tc = &long_cases[i];
        struct cctx c = {.plan = tc->sasl};
        char fill = tc->sasl ? 'A' : 'p';
        size_t len = th_build(in, sizeof(in), tc->prefix, fill, tc->n, "\r\n");
        snprintf(want, sizeof(want), tc->fmt, th_shown(fill, tc->n));
        th_run_modes(&cmd_target, &c, in, len, &got);
        bad += !th_expect_log(tc->name, want, &got);
    }
    assert_int_equal(bad, 0);
}

/* Verb names and the table behind them. */
static void test_verb_names(void **state)
{
    (void)state;
    assert_string_equal(mc_pop3_verb_name(MC_POP3_UNKNOWN), "UNKNOWN");
    assert_string_equal(mc_pop3_verb_name(MC_POP3_TOP), "TOP");
    assert_string_equal(mc_pop3_verb_name(MC_POP3_STLS), "STLS");
    assert_string_equal(mc_pop3_verb_name(MC_POP3_VERB_COUNT), "INVALID");
    assert_string_equal(mc_pop3_verb_name((enum mc_pop3_verb)-1), "INVALID");
}

/* mc_pop3_cmd_partial() follows the line layer. */
static void test_partial(void **state)
{
    struct mc_pop3_cmd p;
    struct mc_pop3_cmd_ev ev;
    size_t used;
    (void)state;
    mc_pop3_cmd_init(&p);
    assert_false(mc_pop3_cmd_partial(&p));
    assert_int_equal(mc_pop3_cmd_feed(&p, (const uint8_t *)"QU", 2, &used, &ev), MC_NEED_MORE);
    assert_true(mc_pop3_cmd_partial(&p));
    assert_int_equal(mc_pop3_cmd_feed(&p, (const uint8_t *)"IT\r\n", 4, &used, &ev), MC_EVENT);
    assert_int_equal(ev.verb, MC_POP3_QUIT);
    assert_false(mc_pop3_cmd_partial(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_anomalies),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_verb_names),
        cmocka_unit_test(test_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
