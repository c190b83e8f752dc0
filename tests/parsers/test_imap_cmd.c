/*
 * imap_cmd: framing (line segments, synchronizing and non-synchronizing
 * literals, literal8, early data, refused literals, the command length
 * limit), tags, names, UID, every verb's argument grammar, SEARCH nesting,
 * sequence sets and dates, AUTHENTICATE/SASL and IDLE/DONE, gaps, end of
 * stream, and the client lines of the RFC examples. Every case runs in the
 * three feeding modes on guard-page input; the longest inputs run whole,
 * byte by byte, in fixed-size pieces and split at chosen positions; random
 * streams check that every split gives the same log. IMAP_CMD_DUMP=1 in the
 * environment prints the whole log of a case that fails.
 *
 * Log line per event (LITERAL fragments of one literal with the same
 * 'early' are joined, so the log does not depend on the split):
 *   CMD <VERB> [uid] off=N tag='..' [name='..'] [mbox='..' [inbox]]
 *       [lits=N/sync/nonsync/l8
 *       max=N octets=N] [secret=OFF+LEN] [refused] [unterminated] ok|bad
 *       [trunc len=N] anoms=[..]                     (name only for UNKNOWN)
 *   WAIT #i off=N size=N [l8] [secret]
 *   LIT #i off=N len=N [sync|nonsync] [l8] [early] [secret] '..'
 *   SASL off=N '..' [cancel] ok|bad anoms=[..]
 *   DONE off=N ok|bad anoms=[..]
 * A case's .plan has one character per WAIT, CMD, SASL or DONE event, the
 * session's part: 'g' literal_go, 'r' literal_refused, 'n' nothing, 'l'
 * go once the stream reaches .go_at ('r' and 'l' act on WAIT only), 's'
 * expect_sasl(true), 'c' expect_sasl(false), 'i' expect_idle. Without one
 * ('.' or past the end), WAIT gets go and nothing else happens.
 */
#include "test_harness.h"

#include <stdlib.h>

#include "imap/imap_cmd.h"

struct cctx {
    struct mc_imap_cmd p;
    const char *plan;
    uint64_t go_at;
    bool go_later;
    unsigned nact;
    uint64_t pos;
    /* the LITERAL run being joined */
    bool lit_open;
    struct mc_imap_cmd_ev lit;
    uint64_t lit_len;
    uint8_t lit_data[40];
};

static void flush_lit(struct cctx *c, struct th_log *log)
{
    const struct mc_imap_cmd_ev *e = &c->lit;
    size_t shown = c->lit_len < sizeof(c->lit_data) ? (size_t)c->lit_len : sizeof(c->lit_data);
    if (!c->lit_open)
        return;
    c->lit_open = false;
    th_logf(log, "LIT #%u off=%llu len=%llu %s%s%s%s ", e->lit.index,
            (unsigned long long)e->data.off, (unsigned long long)c->lit_len,
            e->lit.sync ? "sync" : "nonsync", e->lit.literal8 ? " l8" : "",
            e->early ? " early" : "", e->lit.secret ? " secret" : "");
    th_log_bytes(log, c->lit_data, shown);
    th_logf(log, "\n");
}

static bool in_text(const struct mc_span *s, const struct mc_span *t)
{
    return s->len == 0 || (s->ptr >= t->ptr && s->ptr + s->len <= t->ptr + t->len);
}

static char next_act(struct cctx *c)
{
    char a = c->plan && c->nact < strlen(c->plan) ? c->plan[c->nact] : '.';
    c->nact++;
    return a;
}

static void on_event(struct cctx *c, struct th_log *log, const struct mc_imap_cmd_ev *ev)
{
    const struct mc_span *T = &ev->text;
    char act;
    if (ev->type == MC_IMAP_CMD_LITERAL) {
        bool joins = c->lit_open && c->lit.lit.index == ev->lit.index &&
                     c->lit.early == ev->early && c->lit.data.off + c->lit_len == ev->data.off;
        assert_true(ev->data.len > 0);
        if (!joins) {
            flush_lit(c, log);
            c->lit = *ev;
            c->lit_len = 0;
            c->lit_open = true;
        }
        for (size_t k = 0; k < ev->data.len && c->lit_len + k < sizeof(c->lit_data); k++)
            c->lit_data[c->lit_len + k] = ev->data.ptr[k];
        c->lit_len += ev->data.len;
        return;
    }
    flush_lit(c, log);
    switch (ev->type) {
    case MC_IMAP_CMD_COMMAND:
        th_logf(log, "CMD %s%s off=%llu tag=", mc_imap_verb_name(ev->verb), ev->uid ? " uid" : "",
                (unsigned long long)T->off);
        th_log_bytes(log, ev->tag.ptr, ev->tag.len);
        if (ev->verb == MC_IMAP_UNKNOWN) {
            th_logf(log, " name=");
            th_log_bytes(log, ev->name.ptr, ev->name.len);
        }
        if (ev->mailbox.len) {
            th_logf(log, " mbox=");
            th_log_bytes(log, ev->mailbox.ptr, ev->mailbox.len);
            th_logf(log, "%s", ev->inbox ? " inbox" : "");
        }
        if (ev->nlit)
            th_logf(log, " lits=%u/%u/%u/%u max=%llu octets=%llu", ev->nlit, ev->nlit_sync,
                    ev->nlit_nonsync, ev->nlit8, (unsigned long long)ev->nonsync_max,
                    (unsigned long long)ev->lit_octets);
        if (ev->secret.len)
            th_logf(log, " secret=%llu+%zu", (unsigned long long)ev->secret.off,
                    ev->secret.len);
        th_logf(log, "%s%s %s", ev->refused ? " refused" : "",
                ev->unterminated ? " unterminated" : "", ev->syntax_ok ? "ok" : "bad");
        if (ev->truncated)
            th_logf(log, " trunc len=%llu", (unsigned long long)ev->text_len);
        if (!in_text(&ev->tag, T) || !in_text(&ev->name, T) || !in_text(&ev->secret, T) ||
            !in_text(&ev->mailbox, T) || (ev->inbox && !ev->mailbox.len) ||
            T->len > ev->text_len || (!ev->truncated && T->len != ev->text_len))
            th_logf(log, " BADSPAN");
        break;
    case MC_IMAP_CMD_LITERAL_WAIT:
        th_logf(log, "WAIT #%u off=%llu size=%llu%s%s", ev->lit.index,
                (unsigned long long)ev->lit.off, (unsigned long long)ev->lit.size,
                ev->lit.literal8 ? " l8" : "", ev->lit.secret ? " secret" : "");
        assert_true(mc_imap_cmd_literal_waiting(&c->p));
        break;
    case MC_IMAP_CMD_SASL:
    case MC_IMAP_CMD_DONE:
        th_logf(log, "%s off=%llu ", ev->type == MC_IMAP_CMD_SASL ? "SASL" : "DONE",
                (unsigned long long)T->off);
        th_log_bytes(log, T->ptr, T->len);
        th_logf(log, "%s %s", ev->cancel ? " cancel" : "", ev->syntax_ok ? "ok" : "bad");
        if (ev->type == MC_IMAP_CMD_SASL && (ev->secret.ptr != T->ptr || ev->secret.len != T->len))
            th_logf(log, " BADSPAN");
        break;
    default:
        th_logf(log, "BADTYPE %d", (int)ev->type);
    }
    if (ev->type != MC_IMAP_CMD_LITERAL_WAIT)
        th_log_anoms(log, &ev->anoms);
    th_logf(log, "\n");

    act = next_act(c);
    switch (act) {
    case 'g':
    case '.':
        if (ev->type == MC_IMAP_CMD_LITERAL_WAIT)
            mc_imap_cmd_literal_go(&c->p);
        break;
    case 'r':
        if (ev->type == MC_IMAP_CMD_LITERAL_WAIT) {
            assert_true(mc_imap_cmd_literal_refused(&c->p));
            assert_true(mc_imap_cmd_has_event(&c->p));
        }
        break;
    case 'l':
        c->go_later = ev->type == MC_IMAP_CMD_LITERAL_WAIT;
        break;
    case 's':
    case 'c':
        mc_imap_cmd_expect_sasl(&c->p, act == 's');
        assert_int_equal(mc_imap_cmd_in_sasl(&c->p), act == 's');
        break;
    case 'i':
        mc_imap_cmd_expect_idle(&c->p);
        assert_true(mc_imap_cmd_in_idle(&c->p));
        break;
    default:
        break;
    }
}

static void c_start(void *vc)
{
    struct cctx *c = vc;
    mc_imap_cmd_init(&c->p);
    c->nact = 0;
    c->pos = 0;
    c->go_later = false;
    c->lit_open = false;
}

static void c_feed(void *vc, struct th_log *log, const uint8_t *p, size_t n)
{
    struct cctx *c = vc;
    size_t off = 0;
    for (;;) {
        struct mc_imap_cmd_ev ev;
        size_t used = (size_t)-1, lim = n - off;
        int r;
        /* the "+" arrives when the stream reaches go_at: the session
         * feeds up to there, then calls go */
        if (c->go_later && c->pos + off == c->go_at) {
            c->go_later = false;
            mc_imap_cmd_literal_go(&c->p);
        }
        if (c->go_later && c->pos + off < c->go_at && c->go_at - c->pos - off < lim)
            lim = (size_t)(c->go_at - c->pos - off);
        r = mc_imap_cmd_feed(&c->p, p + off, lim, &used, &ev);
        assert_true(used <= lim);
        off += used;
        if (r == MC_NEED_MORE) {
            assert_int_equal(used, lim);
            if (off == n)
                break;
            continue;
        }
        assert_int_equal(r, MC_EVENT);
        on_event(c, log, &ev);
    }
    c->pos += n;
    assert_int_equal(mc_imap_cmd_offset(&c->p), c->pos);
}

static void c_finish(void *vc, struct th_log *log)
{
    struct cctx *c = vc;
    struct mc_imap_cmd_ev ev;
    int rounds = 0;
    if (c->go_later && c->pos == c->go_at)
        mc_imap_cmd_literal_go(&c->p);
    while (mc_imap_cmd_finish(&c->p, &ev) == MC_EVENT) {
        assert_true(++rounds <= 2);
        on_event(c, log, &ev);
    }
    flush_lit(c, log);
    assert_int_equal(mc_imap_cmd_finish(&c->p, &ev), MC_NEED_MORE);
}

static void c_gap(void *vc, struct th_log *log, uint64_t n)
{
    struct cctx *c = vc;
    (void)log;
    mc_imap_cmd_gap(&c->p, n);
    c->pos += n;
    assert_int_equal(mc_imap_cmd_offset(&c->p), c->pos);
}

static const struct th_target cmd_target = {c_start, c_feed, c_finish, c_gap};

struct ccase {
    const char *name;
    const char *in;
    size_t len;
    const char *plan;
    uint64_t go_at;
    size_t gap_at;   /* with gap > 0: gap octets go missing before in[gap_at] */
    uint64_t gap;
    const char *want;
};

static void run_cases(const struct ccase *cs, size_t n)
{
    static struct cctx c;
    static struct th_log log;
    bool ok = true;
    for (size_t k = 0; k < n; k++) {
        memset(&c, 0, sizeof(c));
        c.plan = cs[k].plan;
        c.go_at = cs[k].go_at;
        th_run_modes_gap(&cmd_target, &c, cs[k].in, cs[k].len, cs[k].gap_at, cs[k].gap, &log);
        /* IMAP_CMD_DUMP=1 prints whole logs (cmocka cuts long messages) */
        if (getenv("IMAP_CMD_DUMP") && strcmp(cs[k].want, log.s) != 0)
            printf("case '%s':\n%s", cs[k].name, log.s);
        ok = th_expect_log(cs[k].name, cs[k].want, &log) && ok;
    }
    assert_true(ok);
}

/* The client side of the RFC 3501 s8 sample session, verbatim (the LOGIN
 * password is a plain atom there). No anomaly. */
static const struct ccase rfc_cases[] = {
    {.name = "RFC 3501 s8",
     TH_IN("a001 login mrc secret\r\n"
           "a002 select inbox\r\n"
           "a003 fetch 12 full\r\n"
           "a004 fetch 12 body[header]\r\n"
           "a005 store 12 +flags \\deleted\r\n"
           "a006 logout\r\n"),
     .want =
             "CMD LOGIN off=0 tag='a001' secret=15+6 ok anoms=[]\n"
             "CMD SELECT off=23 tag='a002' mbox='inbox' inbox ok anoms=[]\n"
             "CMD FETCH off=42 tag='a003' ok anoms=[]\n"
             "CMD FETCH off=62 tag='a004' ok anoms=[]\n"
             "CMD STORE off=90 tag='a005' ok anoms=[]\n"
             "CMD LOGOUT off=121 tag='a006' ok anoms=[]\n"},
};

/* Client examples of RFC 3501 and the extension RFCs, verbatim (the RFC
 * 2971 example's continuation joined to its line). */
static const struct ccase ext_rfc_cases[] = {
    {.name = "RFC 7888 s4, RFC 2971 s3.1/s3.2, RFC 3501 s6.3.9/s6.4.4",
     TH_IN("A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n"
           "A001 LOGIN \"FRED FOOBAR\" \"fat man\"\r\n"
           "a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" "
           "\"Pink Floyd Music Limited\")\r\n"
           "a042 ID NIL\r\n"
           "A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n"
           "A003 LSUB \"#news.\" \"comp.%\"\r\n"
           "A202 LIST ~/Mail/ %\r\n"),
     .want =
             "LIT #0 off=18 len=11 nonsync 'FRED FOOBAR'\n"
             "LIT #1 off=36 len=7 nonsync secret 'fat man'\n"
             "CMD LOGIN off=0 tag='A001' lits=2/0/2/0 max=11 octets=18 ok anoms=[]\n"
             "CMD LOGIN off=45 tag='A001' secret=70+9 ok anoms=[]\n"
             "CMD ID off=81 tag='a023' ok anoms=[]\n"
             "CMD ID off=160 tag='a042' ok anoms=[]\n"
             "WAIT #0 off=204 size=6\n"
             "LIT #0 off=209 len=6 sync 'XXXXXX'\n"
             "CMD SEARCH off=173 tag='A284' lits=1/1/0/0 max=0 octets=6 ok anoms=[]\n"
             "CMD LSUB off=217 tag='A003' ok anoms=[]\n"
             "CMD LIST off=246 tag='A202' ok anoms=[]\n"},
    {.name = "RFC 2177 s3 IDLE example",
     TH_IN("A002 IDLE\r\nDONE\r\nA003 FETCH 4 ALL\r\nA004 IDLE\r\nDONE\r\n"
           "A005 FETCH 3 ALL\r\nA006 IDLE\r\n"),
     .plan = "i..i..i", .want =
             "CMD IDLE off=0 tag='A002' ok anoms=[]\n"
             "DONE off=11 'DONE' ok anoms=[]\n"
             "CMD FETCH off=17 tag='A003' ok anoms=[]\n"
             "CMD IDLE off=35 tag='A004' ok anoms=[]\n"
             "DONE off=46 'DONE' ok anoms=[]\n"
             "CMD FETCH off=52 tag='A005' ok anoms=[]\n"
             "CMD IDLE off=70 tag='A006' ok anoms=[]\n"},
};

/* Every complete client line of RFC 9051's examples, in order, once each
 * (literal data as the examples show it; the AUTHENTICATE, IDLE exchanges
 * and lines the RFC abridges or that continue elsewhere are left out). */
static const struct ccase rfc9051_cases[] = {
    {.name = "RFC 9051 client examples, part 1",
     TH_IN("abcd CAPABILITY\r\n"
           "efgh STARTTLS\r\n"
           "ijkl CAPABILITY\r\n"
           "a002 NOOP\r\n"
           "a047 NOOP\r\n"
           "A023 LOGOUT\r\n"
           "a001 CAPABILITY\r\n"
           "a002 STARTTLS\r\n"
           "a003 CAPABILITY\r\n"
           "a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"
           "A01 STARTTLS\r\n"
           "A02 CAPABILITY\r\n"
           "A03 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"
           "C01 CAPABILITY\r\n"
           "A01 AUTHENTICATE EXTERNAL =\r\n"
           "a001 LOGIN SMITH SESAME\r\n"
           "t1 CAPABILITY\r\n"
           "t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n"
           "t3 CAPABILITY\r\n"
           "a1 ENABLE CONDSTORE\r\n"
           "A142 SELECT INBOX\r\n"
           "A143 SELECT Drafts\r\n"
           "A932 EXAMINE blurdybloop\r\n"
           "A003 CREATE owatagusiam/\r\n"),
     .want =
             "CMD CAPABILITY off=0 tag='abcd' ok anoms=[]\n"
             "CMD STARTTLS off=17 tag='efgh' ok anoms=[]\n"
             "CMD CAPABILITY off=32 tag='ijkl' ok anoms=[]\n"
             "CMD NOOP off=49 tag='a002' ok anoms=[]\n"
             "CMD NOOP off=60 tag='a047' ok anoms=[]\n"
             "CMD LOGOUT off=71 tag='A023' ok anoms=[]\n"
             "CMD CAPABILITY off=84 tag='a001' ok anoms=[]\n"
             "CMD STARTTLS off=101 tag='a002' ok anoms=[]\n"
             "CMD CAPABILITY off=116 tag='a003' ok anoms=[]\n"
             "CMD AUTHENTICATE off=133 tag='a004' secret=157+20 ok anoms=[]\n"
             "CMD STARTTLS off=179 tag='A01' ok anoms=[]\n"
             "CMD CAPABILITY off=193 tag='A02' ok anoms=[]\n"
             "CMD AUTHENTICATE off=209 tag='A03' secret=232+20 ok anoms=[]\n"
             "CMD CAPABILITY off=254 tag='C01' ok anoms=[]\n"
             "CMD AUTHENTICATE off=270 tag='A01' secret=296+1 ok anoms=[]\n"
             "CMD LOGIN off=299 tag='a001' secret=316+6 ok anoms=[]\n"
             "CMD CAPABILITY off=324 tag='t1' ok anoms=[]\n"
             "CMD ENABLE off=339 tag='t2' ok anoms=[]\n"
             "CMD CAPABILITY off=372 tag='t3' ok anoms=[]\n"
             "CMD ENABLE off=387 tag='a1' ok anoms=[]\n"
             "CMD SELECT off=408 tag='A142' mbox='INBOX' inbox ok anoms=[]\n"
             "CMD SELECT off=427 tag='A143' mbox='Drafts' ok anoms=[]\n"
             "CMD EXAMINE off=447 tag='A932' mbox='blurdybloop' ok anoms=[]\n"
             "CMD CREATE off=473 tag='A003' mbox='owatagusiam/' ok anoms=[]\n"},
    {.name = "RFC 9051 client examples, part 2",
     TH_IN("A004 CREATE owatagusiam/blurdybloop\r\n"
           "A005 CREATE NonNormalized\r\n"
           "A682 LIST \"\" *\r\n"
           "A683 DELETE blurdybloop\r\n"
           "A684 DELETE foo\r\n"
           "A685 DELETE foo/bar\r\n"
           "A686 LIST \"\" *\r\n"
           "A687 DELETE foo\r\n"
           "A82 LIST \"\" *\r\n"
           "A83 DELETE blurdybloop\r\n"
           "A84 DELETE foo\r\n"
           "A85 LIST \"\" *\r\n"
           "A86 LIST \"\" %\r\n"
           "A683 RENAME blurdybloop sarasoop\r\n"
           "A684 RENAME foo zowie\r\n"
           "A685 LIST \"\" *\r\n"
           "Z432 LIST \"\" *\r\n"
           "Z433 RENAME INBOX old-mail\r\n"
           "Z434 LIST \"\" *\r\n"
           "1001 RENAME X Y\r\n"
           "1002 SUBSCRIBE Y\r\n"
           "1003 UNSUBSCRIBE X\r\n"
           "A002 SUBSCRIBE #news.comp.mail.mime\r\n"
           "A002 UNSUBSCRIBE #news.comp.mail.mime\r\n"),
     .want =
             "CMD CREATE off=0 tag='A004' mbox='owatagusiam/blurdybloop' ok anoms=[]\n"
             "CMD CREATE off=37 tag='A005' mbox='NonNormalized' ok anoms=[]\n"
             "CMD LIST off=64 tag='A682' ok anoms=[]\n"
             "CMD DELETE off=80 tag='A683' mbox='blurdybloop' ok anoms=[]\n"
             "CMD DELETE off=105 tag='A684' mbox='foo' ok anoms=[]\n"
             "CMD DELETE off=122 tag='A685' mbox='foo/bar' ok anoms=[]\n"
             "CMD LIST off=143 tag='A686' ok anoms=[]\n"
             "CMD DELETE off=159 tag='A687' mbox='foo' ok anoms=[]\n"
             "CMD LIST off=176 tag='A82' ok anoms=[]\n"
             "CMD DELETE off=191 tag='A83' mbox='blurdybloop' ok anoms=[]\n"
             "CMD DELETE off=215 tag='A84' mbox='foo' ok anoms=[]\n"
             "CMD LIST off=231 tag='A85' ok anoms=[]\n"
             "CMD LIST off=246 tag='A86' ok anoms=[]\n"
             "CMD RENAME off=261 tag='A683' mbox='blurdybloop' ok anoms=[]\n"
             "CMD RENAME off=295 tag='A684' mbox='foo' ok anoms=[]\n"
             "CMD LIST off=318 tag='A685' ok anoms=[]\n"
             "CMD LIST off=334 tag='Z432' ok anoms=[]\n"
             "CMD RENAME off=350 tag='Z433' mbox='INBOX' inbox ok anoms=[]\n"
             "CMD LIST off=378 tag='Z434' ok anoms=[]\n"
             "CMD RENAME off=394 tag='1001' mbox='X' ok anoms=[]\n"
             "CMD SUBSCRIBE off=411 tag='1002' mbox='Y' ok anoms=[]\n"
             "CMD UNSUBSCRIBE off=429 tag='1003' mbox='X' ok anoms=[]\n"
             "CMD SUBSCRIBE off=449 tag='A002' mbox='#news.comp.mail.mime' ok anoms=[]\n"
             "CMD UNSUBSCRIBE off=486 tag='A002' mbox='#news.comp.mail.mime' ok anoms=[]\n"},
    {.name = "RFC 9051 client examples, part 3",
     TH_IN("A101 LIST \"\" \"\"\r\n"
           "A102 LIST #news.comp.mail.misc \"\"\r\n"
           "A103 LIST /usr/staff/jones \"\"\r\n"
           "A202 LIST ~/Mail/ %\r\n"
           "A01 LIST \"\" \"*\"\r\n"
           "A02 LIST (SUBSCRIBED) \"\" \"*\"\r\n"
           "A03 LIST () \"\" \"%\" RETURN (CHILDREN)\r\n"
           "A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)\r\n"
           "A05 LIST (REMOTE SUBSCRIBED) \"\" \"*\"\r\n"
           "A06 LIST (REMOTE) \"\" \"*\" RETURN (SUBSCRIBED)\r\n"
           "C01 LIST \"\" \"*\"\r\n"
           "CA3 LIST \"\" \"%\" RETURN (CHILDREN)\r\n"
           "C02 LIST (SUBSCRIBED) \"\" \"*\"\r\n"
           "C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"\r\n"
           "D01 LIST \"\" \"*\"\r\n"
           "D02 LIST (SUBSCRIBED) \"\" \"*\"\r\n"
           "D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"\r\n"
           "D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*\"\r\n"
           "a1 LIST \"\" (\"foo\")\r\n"
           "a2 LIST (SUBSCRIBED) \"\" \"foo/*\"\r\n"
           "a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)\r\n"
           "a1 LIST (REMOTE) \"\" *\r\n"
           "a2 LIST () \"\" %\r\n"
           "a3 LIST (REMOTE) \"\" %\r\n"),
     .want =
             "CMD LIST off=0 tag='A101' ok anoms=[]\n"
             "CMD LIST off=17 tag='A102' ok anoms=[]\n"
             "CMD LIST off=52 tag='A103' ok anoms=[]\n"
             "CMD LIST off=83 tag='A202' ok anoms=[]\n"
             "CMD LIST off=104 tag='A01' ok anoms=[]\n"
             "CMD LIST off=121 tag='A02' ok anoms=[]\n"
             "CMD LIST off=151 tag='A03' ok anoms=[]\n"
             "CMD LIST off=189 tag='A04' ok anoms=[]\n"
             "CMD LIST off=233 tag='A05' ok anoms=[]\n"
             "CMD LIST off=270 tag='A06' ok anoms=[]\n"
             "CMD LIST off=316 tag='C01' ok anoms=[]\n"
             "CMD LIST off=333 tag='CA3' ok anoms=[]\n"
             "CMD LIST off=368 tag='C02' ok anoms=[]\n"
             "CMD LIST off=398 tag='C04' ok anoms=[]\n"
             "CMD LIST off=443 tag='D01' ok anoms=[]\n"
             "CMD LIST off=460 tag='D02' ok anoms=[]\n"
             "CMD LIST off=490 tag='D03' ok anoms=[]\n"
             "CMD LIST off=536 tag='D03' ok anoms=[]\n"
             "CMD LIST off=581 tag='a1' ok anoms=[]\n"
             "CMD LIST off=601 tag='a2' ok anoms=[]\n"
             "CMD LIST off=634 tag='a3' ok anoms=[]\n"
             "CMD LIST off=696 tag='a1' ok anoms=[]\n"
             "CMD LIST off=719 tag='a2' ok anoms=[]\n"
             "CMD LIST off=736 tag='a3' ok anoms=[]\n"},
    {.name = "RFC 9051 client examples, part 4",
     TH_IN("a3.1 LIST \"\" (% music/rock)\r\n"
           "A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\r\n"
           "A001 NAMESPACE\r\n"
           "A002 CREATE \"INBOX.Sent Mail\"\r\n"
           "A002 LIST (SPECIAL-USE) \"\" \"*\"\r\n"
           "A003 LIST (SPECIAL-USE) \"#mh/\" \"*\"\r\n"
           "A004 CREATE \"Sent Mail\"\r\n"
           "A005 CREATE \"Delete Items\"\r\n"
           "A006 CREATE \"#mh/Deleted Items\"\r\n"
           "A002 LIST \"\" \"Other Users/%\"\r\n"
           "A002 LIST \"\" \"#Users/%\"\r\n"
           "A003 LIST \"\" \"#Users/Mike/%\"\r\n"
           "A002 LIST \"\" \"~mark/%\"\r\n"
           "A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n"
           "A003 APPEND saved-messages (\\Seen) {326}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800 "
           "(PST)\r\nFrom: Fred Foobar <foobar@Blurdybloop.example>\r\nSubject: afternoon "
           "meeting\r\nTo: mooch@owatagu.siam.edu.example\r\nMessage-Id: "
           "<B27397-0100000@Blurdybloop.example>\r\nMIME-Version: 1.0\r\nContent-Type: "
           "TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\nHello Joe, do you think we can meet at 3:30 "
           "tomorrow?\r\n\r\n"
           "A003 APPEND saved-messages (\\Seen) {297+}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800 "
           "(PST)\r\nFrom: Fred Foobar <foobar@example.com>\r\nSubject: afternoon meeting\r\nTo: "
           "mooch@example.com\r\nMessage-Id: <B27397-0100000@example.com>\r\nMIME-Version: "
           "1.0\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\nHello Joe, do you think we "
           "can meet at 3:30 tomorrow?\r\n\r\n"
           "A004 COPY 2:4 meeting\r\n"
           "A005 UID COPY 305:310 meeting\r\n"
           "A006 COPY 2 funny\r\n"
           "A007 SELECT funny\r\n"
           "A001 SELECT INBOX\r\n"
           "A003 FETCH 4 ALL\r\n"
           "A005 FETCH 3 ALL\r\n"
           "A341 CLOSE\r\n"),
     .want =
             "CMD LIST off=0 tag='a3.1' ok anoms=[]\n"
             "CMD LIST off=29 tag='A01' ok anoms=[]\n"
             "CMD NAMESPACE off=78 tag='A001' ok anoms=[]\n"
             "CMD CREATE off=94 tag='A002' mbox='\"INBOX.Sent Mail\"' ok anoms=[]\n"
             "CMD LIST off=125 tag='A002' ok anoms=[]\n"
             "CMD LIST off=157 tag='A003' ok anoms=[]\n"
             "CMD CREATE off=193 tag='A004' mbox='\"Sent Mail\"' ok anoms=[]\n"
             "CMD CREATE off=218 tag='A005' mbox='\"Delete Items\"' ok anoms=[]\n"
             "CMD CREATE off=246 tag='A006' mbox='\"#mh/Deleted Items\"' ok anoms=[]\n"
             "CMD LIST off=279 tag='A002' ok anoms=[]\n"
             "CMD LIST off=309 tag='A002' ok anoms=[]\n"
             "CMD LIST off=334 tag='A003' ok anoms=[]\n"
             "CMD LIST off=364 tag='A002' ok anoms=[]\n"
             "CMD STATUS off=388 tag='A042' mbox='blurdybloop' ok anoms=[]\n"
             "WAIT #0 off=467 size=326\n"
             "LIT #0 off=474 len=326 sync 'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PS'\n"
             "CMD APPEND off=432 tag='A003' mbox='saved-messages' lits=1/1/0/0 max=0 octets=326 "
             "ok anoms=[]\n"
             "LIT #0 off=845 len=297 nonsync 'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PS'\n"
             "CMD APPEND off=802 tag='A003' mbox='saved-messages' lits=1/0/1/0 max=297 "
             "octets=297 ok anoms=[]\n"
             "CMD COPY off=1144 tag='A004' mbox='meeting' ok anoms=[]\n"
             "CMD COPY uid off=1167 tag='A005' mbox='meeting' ok anoms=[]\n"
             "CMD COPY off=1198 tag='A006' mbox='funny' ok anoms=[]\n"
             "CMD SELECT off=1217 tag='A007' mbox='funny' ok anoms=[]\n"
             "CMD SELECT off=1236 tag='A001' mbox='INBOX' inbox ok anoms=[]\n"
             "CMD FETCH off=1255 tag='A003' ok anoms=[]\n"
             "CMD FETCH off=1273 tag='A005' ok anoms=[]\n"
             "CMD CLOSE off=1291 tag='A341' ok anoms=[]\n"},
    {.name = "RFC 9051 client examples, part 5",
     TH_IN("A342 UNSELECT\r\n"
           "A202 EXPUNGE\r\n"
           "A282 SEARCH RETURN (MIN COUNT) FLAGGED\r\n"
           "A283 SEARCH RETURN () FLAGGED\r\n"
           "A284 SEARCH TEXT \"string not in mailbox\"\r\n"
           "A285 SEARCH CHARSET UTF-8 TEXT "
           "{12}\r\n\xd0\xbe""\xd1\x82""\xd0\xbf""\xd1\x83""\xd1\x81""\xd0\xba""\r\n"
           "A284 SEARCH RETURN (MIN) UNSEEN\r\n"
           "A285 UID SEARCH RETURN (MIN MAX) 1:5000\r\n"
           "A286 SEARCH RETURN (COUNT) DELETED\r\n"
           "A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994\r\n"
           "A283 FETCH $ (UID INTERNALDATE FLAGS BODY.PEEK[HEADER])\r\n"
           "A300 SEARCH RETURN (SAVE) SINCE 1-Jan-2004\r\n"
           "A301 UID SEARCH UID $ SMALLER 4096\r\n"
           "A301 UID SEARCH $ SMALLER 4096\r\n"
           "P282 SEARCH RETURN (SAVE) SINCE 1-Feb-1994\r\n"
           "P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT "
           "{8+}\r\n\xd0\xbc""\xd0\xb0""\xd1\x82""\xd1\x8c""\r\n"
           "B282 SEARCH RETURN (SAVE) SINCE 1-Feb-1994\r\n"
           "E282 SEARCH RETURN (SAVE) SINCE 28-Oct-2006\r\n"
           "E283 COPY $ \"Other Messages\"\r\n"
           "F282 SEARCH RETURN (SAVE) KEYWORD $Junk\r\n"
           "F283 COPY $ \"Junk\"\r\n"
           "F284 STORE $ +FLAGS.Silent (\\Deleted)\r\n"
           "G282 SEARCH RETURN (SAVE) KEYWORD $Junk\r\n"
           "G283 SEARCH RETURN (ALL) SINCE 28-Oct-2006\r\n"),
     .want =
             "CMD UNSELECT off=0 tag='A342' ok anoms=[]\n"
             "CMD EXPUNGE off=15 tag='A202' ok anoms=[]\n"
             "CMD SEARCH off=29 tag='A282' ok anoms=[]\n"
             "CMD SEARCH off=69 tag='A283' ok anoms=[]\n"
             "CMD SEARCH off=100 tag='A284' ok anoms=[]\n"
             "WAIT #0 off=173 size=12\n"
             "LIT #0 off=179 len=12 sync "
             "'\\xd0\\xbe\\xd1\\x82\\xd0\\xbf\\xd1\\x83\\xd1\\x81\\xd0\\xba'\n"
             "CMD SEARCH off=142 tag='A285' lits=1/1/0/0 max=0 octets=12 ok anoms=[]\n"
             "CMD SEARCH off=193 tag='A284' ok anoms=[]\n"
             "CMD SEARCH uid off=226 tag='A285' ok anoms=[]\n"
             "CMD SEARCH off=267 tag='A286' ok anoms=[]\n"
             "CMD SEARCH off=303 tag='A282' ok anoms=[]\n"
             "CMD FETCH off=355 tag='A283' ok anoms=[]\n"
             "CMD SEARCH off=412 tag='A300' ok anoms=[]\n"
             "CMD SEARCH uid off=456 tag='A301' ok anoms=[]\n"
             "CMD SEARCH uid off=492 tag='A301' ok anoms=[]\n"
             "CMD SEARCH off=524 tag='P282' ok anoms=[]\n"
             "LIT #0 off=624 len=8 nonsync '\\xd0\\xbc\\xd0\\xb0\\xd1\\x82\\xd1\\x8c'\n"
             "CMD SEARCH off=568 tag='P283' lits=1/0/1/0 max=8 octets=8 ok anoms=[]\n"
             "CMD SEARCH off=634 tag='B282' ok anoms=[]\n"
             "CMD SEARCH off=678 tag='E282' ok anoms=[]\n"
             "CMD COPY off=723 tag='E283' mbox='\"Other Messages\"' ok anoms=[]\n"
             "CMD SEARCH off=753 tag='F282' ok anoms=[]\n"
             "CMD COPY off=794 tag='F283' mbox='\"Junk\"' ok anoms=[]\n"
             "CMD STORE off=814 tag='F284' ok anoms=[]\n"
             "CMD SEARCH off=853 tag='G282' ok anoms=[]\n"
             "CMD SEARCH off=894 tag='G283' ok anoms=[]\n"},
    {.name = "RFC 9051 client examples, part 6",
     TH_IN("H282 SEARCH RETURN (SAVE) KEYWORD $Junk\r\n"
           "H283 SEARCH RETURN (SAVE) SINCE 28-Oct-2006\r\n"
           "C282 SEARCH RETURN (ALL) SINCE 12-Feb-2006\r\n"
           "C283 SEARCH RETURN (ALL SAVE) SINCE 12-Feb-2006\r\n"
           "C284 SEARCH RETURN (SAVE MIN) SINCE 12-Feb-2006\r\n"
           "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n"
           "A003 STORE 2:4 +FLAGS (\\Deleted)\r\n"
           "A003 COPY 2:4 MEETING\r\n"
           "a UID MOVE 42:69 foo\r\n"
           "A003 UID EXPUNGE 3000:3002\r\n"
           "A999 UID FETCH 4827313:4828442 FLAGS\r\n"
           "a441 CAPABILITY\r\n"
           "A442 XPIG-LATIN\r\n"
           "o356 RENAME this that\r\n"
           "b LOGIN \"fred\" \"foo\"\r\n"
           "c1 AUTHENTICATE PLAIN\r\n"
           "c2 AUTHENTICATE PLAIN\r\n"
           "l create \"///////\"\r\n"
           "k1 select \"/archive/projects/experiment-iv\"\r\n"
           "k2 status \"/archive/projects/experiment-iv\" (messages)\r\n"
           "e login \"fred\" \"foo\"\r\n"
           "i select \"/archive/projects/experiment-iv\"\r\n"
           "d login \"fred\" \"foo\"\r\n"
           "h search from maria@example.com\r\n"),
     .want =
             "CMD SEARCH off=0 tag='H282' ok anoms=[]\n"
             "CMD SEARCH off=41 tag='H283' ok anoms=[]\n"
             "CMD SEARCH off=86 tag='C282' ok anoms=[]\n"
             "CMD SEARCH off=130 tag='C283' ok anoms=[]\n"
             "CMD SEARCH off=179 tag='C284' ok anoms=[]\n"
             "CMD FETCH off=228 tag='A654' ok anoms=[]\n"
             "CMD STORE off=284 tag='A003' ok anoms=[]\n"
             "CMD COPY off=318 tag='A003' mbox='MEETING' ok anoms=[]\n"
             "CMD MOVE uid off=341 tag='a' mbox='foo' ok anoms=[]\n"
             "CMD EXPUNGE uid off=363 tag='A003' ok anoms=[]\n"
             "CMD FETCH uid off=391 tag='A999' ok anoms=[]\n"
             "CMD CAPABILITY off=429 tag='a441' ok anoms=[]\n"
             "CMD UNKNOWN off=446 tag='A442' name='XPIG-LATIN' ok anoms=[]\n"
             "CMD RENAME off=463 tag='o356' mbox='this' ok anoms=[]\n"
             "CMD LOGIN off=486 tag='b' secret=501+5 ok anoms=[]\n"
             "CMD AUTHENTICATE off=508 tag='c1' ok anoms=[]\n"
             "CMD AUTHENTICATE off=531 tag='c2' ok anoms=[]\n"
             "CMD CREATE off=554 tag='l' mbox='\"///////\"' ok anoms=[]\n"
             "CMD SELECT off=574 tag='k1' mbox='\"/archive/projects/experiment-iv\"' ok anoms=[]\n"
             "CMD STATUS off=619 tag='k2' mbox='\"/archive/projects/experiment-iv\"' ok anoms=[]\n"
             "CMD LOGIN off=675 tag='e' secret=690+5 ok anoms=[]\n"
             "CMD SELECT off=697 tag='i' mbox='\"/archive/projects/experiment-iv\"' ok anoms=[]\n"
             "CMD LOGIN off=741 tag='d' secret=756+5 ok anoms=[]\n"
             "CMD SEARCH off=763 tag='h' ok anoms=[]\n"},
    {.name = "RFC 9051 client examples, part 7",
     TH_IN("m356 DELETE Notes\r\n"
           "g delete \"/archive/projects/experiment-iv\"\r\n"
           "m STORE 42 FLAGS f1 f2 f3 f4 f5 ... f250\r\n"
           "p RENAME this that\r\n"
           "f select \"/archive/projects/experiment-iv\"\r\n"
           "n1 uid copy 1:* oldmail\r\n"
           "n2 uid copy 1:* oldmail\r\n"
           "d select inbox\r\n"
           "j select \"/archive/projects/experiment-iv\"\r\n"
           "a LOGIN \"fred\" \"foo\"\r\n"
           "A001 LOGIN fred blurdybloop\r\n"
           "A222 COPY 1:2 owatagusiam\r\n"
           "A223 COPY 3:200 blurdybloop\r\n"
           "A443 EXPUNGE\r\n"
           "A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n"
           "a000 starttls\r\n"
           "babc ENABLE IMAP4rev2\r\n"
           "a002 select inbox\r\n"
           "a003 fetch 12 full\r\n"
           "a004 fetch 12 body[header]\r\n"
           "a005 store 12 +flags \\deleted\r\n"
           "a006 logout\r\n"),
     .want =
             "CMD DELETE off=0 tag='m356' mbox='Notes' ok anoms=[]\n"
             "CMD DELETE off=19 tag='g' mbox='\"/archive/projects/experiment-iv\"' ok anoms=[]\n"
             "CMD STORE off=63 tag='m' ok anoms=[]\n"
             "CMD RENAME off=105 tag='p' mbox='this' ok anoms=[]\n"
             "CMD SELECT off=125 tag='f' mbox='\"/archive/projects/experiment-iv\"' ok anoms=[]\n"
             "CMD COPY uid off=169 tag='n1' mbox='oldmail' ok anoms=[]\n"
             "CMD COPY uid off=194 tag='n2' mbox='oldmail' ok anoms=[]\n"
             "CMD SELECT off=219 tag='d' mbox='inbox' inbox ok anoms=[]\n"
             "CMD SELECT off=235 tag='j' mbox='\"/archive/projects/experiment-iv\"' ok anoms=[]\n"
             "CMD LOGIN off=279 tag='a' secret=294+5 ok anoms=[]\n"
             "CMD LOGIN off=301 tag='A001' secret=317+11 ok anoms=[]\n"
             "CMD COPY off=330 tag='A222' mbox='owatagusiam' ok anoms=[]\n"
             "CMD COPY off=357 tag='A223' mbox='blurdybloop' ok anoms=[]\n"
             "CMD EXPUNGE off=386 tag='A443' ok anoms=[]\n"
             "WAIT #0 off=411 size=11\n"
             "LIT #0 off=417 len=11 sync 'FRED FOOBAR'\n"
             "WAIT #1 off=429 size=7 secret\n"
             "LIT #1 off=434 len=7 sync secret 'fat man'\n"
             "CMD LOGIN off=400 tag='A001' lits=2/2/0/0 max=0 octets=18 ok anoms=[]\n"
             "CMD STARTTLS off=443 tag='a000' ok anoms=[]\n"
             "CMD ENABLE off=458 tag='babc' ok anoms=[]\n"
             "CMD SELECT off=481 tag='a002' mbox='inbox' inbox ok anoms=[]\n"
             "CMD FETCH off=500 tag='a003' ok anoms=[]\n"
             "CMD FETCH off=520 tag='a004' ok anoms=[]\n"
             "CMD STORE off=548 tag='a005' ok anoms=[]\n"
             "CMD LOGOUT off=579 tag='a006' ok anoms=[]\n"},
};

static void test_rfc(void **state)
{
    (void)state;
    run_cases(rfc_cases, TH_COUNT(rfc_cases));
    run_cases(rfc9051_cases, TH_COUNT(rfc9051_cases));
    run_cases(ext_rfc_cases, TH_COUNT(ext_rfc_cases));
}

static const struct ccase framing_cases[] = {
    {.name = "sync literal, go",
     TH_IN("A1 LOGIN {5}\r\nalice {6}\r\nsecret\r\nA2 NOOP\r\n"),
     .want = "WAIT #0 off=9 size=5\n"
             "LIT #0 off=14 len=5 sync 'alice'\n"
             "WAIT #1 off=20 size=6 secret\n"
             "LIT #1 off=25 len=6 sync secret 'secret'\n"
             "CMD LOGIN off=0 tag='A1' lits=2/2/0/0 max=0 octets=11 ok anoms=[]\n"
             "CMD NOOP off=33 tag='A2' ok anoms=[]\n"},
    {.name = "literal split over lines, CR LF and '{' inside the data",
     TH_IN("t APPEND INBOX {12}\r\nab\r\n{3}\r\nx\r\n\r\nt2 CHECK\r\n"),
     .want =
             "WAIT #0 off=15 size=12\n"
             "LIT #0 off=21 len=12 sync 'ab\\r\\n{3}\\r\\nx\\r\\n'\n"
             "CMD APPEND off=0 tag='t' mbox='INBOX' inbox lits=1/1/0/0 max=0 octets=12 ok "
             "anoms=[]\n"
             "CMD CHECK off=35 tag='t2' ok anoms=[]\n"},
    {.name = "non-synchronizing literals: no wait (LITERAL+)",
     TH_IN("A1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n"),
     .want = "LIT #0 off=15 len=5 nonsync 'alice'\n"
             "LIT #1 off=27 len=6 nonsync secret 'secret'\n"
             "CMD LOGIN off=0 tag='A1' lits=2/0/2/0 max=6 octets=11 ok anoms=[]\n"},
    {.name = "literal8 in APPEND (BINARY)",
     TH_IN("A1 APPEND x ~{3}\r\n\0\1\2\r\n"),
     .want =
             "WAIT #0 off=12 size=3 l8\n"
             "LIT #0 off=18 len=3 sync l8 '\\x00\\x01\\x02'\n"
             "CMD APPEND off=0 tag='A1' mbox='x' lits=1/1/0/1 max=0 octets=3 ok anoms=[]\n"},
    {.name = "zero-length literals",
     TH_IN("A1 LOGIN {0}\r\n {0+}\r\n\r\n"),
     .want =
             "WAIT #0 off=9 size=0\n"
             "CMD LOGIN off=0 tag='A1' lits=2/1/1/0 max=0 octets=0 ok anoms=[]\n"},
    {.name = "data before the continuation is early",
     TH_IN("A1 LOGIN {5}\r\nalice x\r\n"), .plan = "n",
     .want =
             "WAIT #0 off=9 size=5\n"
             "LIT #0 off=14 len=5 sync early 'alice'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/1/0/0 max=0 octets=5 secret=20+1 ok "
             "anoms=[IMAP_CMD_LITERAL_EARLY@14]\n"},
    {.name = "continuation in the middle of the data",
     TH_IN("A1 LOGIN {5}\r\nalice x\r\n"), .plan = "l", .go_at = 16,
     .want =
             "WAIT #0 off=9 "
           "size=5\n"
             "LIT #0 off=14 len=2 sync early 'al'\n"
             "LIT #0 off=16 len=3 sync 'ice'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/1/0/0 max=0 octets=5 secret=20+1 ok "
             "anoms=[IMAP_CMD_LITERAL_EARLY@14]\n"},
    {.name = "continuation before the data",
     TH_IN("A1 LOGIN {5}\r\nalice x\r\n"), .plan = "l", .go_at = 14,
     .want =
             "WAIT #0 off=9 "
           "size=5\n"
             "LIT #0 off=14 len=5 sync 'alice'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/1/0/0 max=0 octets=5 secret=20+1 ok anoms=[]\n"},
    {.name = "{0} not waited for",
     TH_IN("A1 LOGIN {0}\r\n x\r\n"), .plan = "n",
     .want =
             "WAIT #0 off=9 size=0\n"
             "CMD LOGIN off=0 tag='A1' lits=1/1/0/0 max=0 octets=0 secret=15+1 ok "
             "anoms=[IMAP_CMD_LITERAL_EARLY@14]\n"},
    {.name = "refused literal: the next line is a new command",
     TH_IN("A1 APPEND x {99999999}\r\nA2 NOOP\r\n"), .plan = "r",
     .want =
             "WAIT #0 off=12 "
           "size=99999999\n"
             "CMD APPEND off=0 tag='A1' lits=1/1/0/0 max=0 octets=99999999 refused ok anoms=[]\n"
             "CMD NOOP off=24 tag='A2' ok anoms=[]\n"},
    {.name = "literal count not a number64",
     TH_IN("A1 LOGIN {9223372036854775808}\r\nA2 NOOP\r\n"),
     .want =
             "CMD LOGIN off=0 tag='A1' "
           "bad anoms=[IMAP_CMD_LITERAL_COUNT@10,IMAP_CMD_ARG_SYNTAX@9]\n"
             "CMD NOOP off=32 tag='A2' ok anoms=[]\n"},
    {.name = "largest literal count, stream ends inside",
     TH_IN("A1 LOGIN {9223372036854775807+}\r\nab"),
     .want =
             "LIT #0 off=33 len=2 nonsync 'ab'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/0/1/0 max=9223372036854775807 "
             "octets=9223372036854775807 unterminated ok anoms=[IMAP_CMD_UNTERMINATED@35]\n"},
    {.name = "stream ends after the data, before the line goes on",
     TH_IN("A1 LOGIN {2+}\r\nab"),
     .want =
             "LIT #0 off=15 len=2 nonsync 'ab'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/0/1/0 max=2 octets=2 unterminated ok "
             "anoms=[IMAP_CMD_UNTERMINATED@17]\n"},
    {.name = "stream ends while the literal waits",
     TH_IN("A1 LOGIN {2}\r\n"), .plan = "n",
     .want =
             "WAIT #0 off=9 size=2\n"
             "CMD LOGIN off=0 tag='A1' lits=1/1/0/0 max=0 octets=2 unterminated ok "
             "anoms=[IMAP_CMD_UNTERMINATED@14]\n"},
    {.name = "unterminated last line",
     TH_IN("A1 NOOP\r\nA2 NOOP"),
     .want =
             "CMD NOOP off=0 tag='A1' ok anoms=[]\n"
             "CMD NOOP off=9 tag='A2' ok anoms=[UNTERMINATED_LINE@16]\n"},
    {.name = "bare LF ends segments too",
     TH_IN("A1 LOGIN {1}\nx y\n"),
     .want =
             "WAIT #0 off=9 size=1\n"
             "LIT #0 off=13 len=1 sync 'x'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/1/0/0 max=0 octets=1 secret=15+1 ok "
             "anoms=[BARE_LF@12,BARE_LF@16]\n"},
    {.name = "'{n}' not at the end of a segment is no literal",
     TH_IN("A1 LOGIN {1}x y\r\n"),
     .want =
             "CMD LOGIN off=0 tag='A1' bad "
           "anoms=[IMAP_CMD_ARG_SYNTAX@9]\n"},
};

static void test_framing(void **state)
{
    (void)state;
    run_cases(framing_cases, TH_COUNT(framing_cases));
}

/* One command per case: valid forms of every verb, then deviations. */
static const struct ccase grammar_cases[] = {
    {.name = "any-state commands",
     TH_IN("a CAPABILITY\r\nb noop\r\nc Logout\r\n"),
     .want =
             "CMD CAPABILITY off=0 tag='a' ok anoms=[]\n"
             "CMD NOOP off=14 tag='b' ok anoms=[]\n"
             "CMD LOGOUT off=22 tag='c' ok anoms=[]\n"},
    {.name = "STARTTLS, NAMESPACE, IDLE, CHECK, CLOSE, UNSELECT, EXPUNGE",
     TH_IN("1 STARTTLS\r\n2 NAMESPACE\r\n3 CHECK\r\n4 CLOSE\r\n5 UNSELECT\r\n6 EXPUNGE\r\n"),
     .want = "CMD STARTTLS off=0 tag='1' ok anoms=[]\n"
             "CMD NAMESPACE off=12 tag='2' ok anoms=[]\n"
             "CMD CHECK off=25 tag='3' ok anoms=[]\n"
             "CMD CLOSE off=34 tag='4' ok anoms=[]\n"
             "CMD UNSELECT off=43 tag='5' ok anoms=[]\n"
             "CMD EXPUNGE off=55 tag='6' ok anoms=[]\n"},
    {.name = "mailboxes: atom, quoted, INBOX",
     TH_IN("a SELECT INBOX\r\nb EXAMINE \"a b\\\"c\"\r\nc CREATE owatagusiam/\r\n"
           "d DELETE blurdybloop\r\ne RENAME \"x\" y]z\r\nf SUBSCRIBE #news.c\r\n"
           "g UNSUBSCRIBE {3+}\r\na b\r\n"),
     .want =
             "CMD SELECT off=0 tag='a' mbox='INBOX' inbox ok anoms=[]\n"
             "CMD EXAMINE off=16 tag='b' mbox='\"a b\\\\\"c\"' ok anoms=[]\n"
             "CMD CREATE off=36 tag='c' mbox='owatagusiam/' ok anoms=[]\n"
             "CMD DELETE off=59 tag='d' mbox='blurdybloop' ok anoms=[]\n"
             "CMD RENAME off=81 tag='e' mbox='\"x\"' ok anoms=[]\n"
             "CMD SUBSCRIBE off=99 tag='f' mbox='#news.c' ok anoms=[]\n"
             "LIT #0 off=140 len=3 nonsync 'a b'\n"
             "CMD UNSUBSCRIBE off=120 tag='g' mbox='{3+}' lits=1/0/1/0 max=3 octets=3 ok "
             "anoms=[]\n"},
    {.name = "INBOX in any case, atom or quoted",
     TH_IN("a SELECT \"InBoX\"\r\nb SELECT INBOXES\r\nc STATUS inbox (UNSEEN)\r\n"),
     .want =
             "CMD SELECT off=0 tag='a' mbox='\"InBoX\"' inbox ok anoms=[]\n"
             "CMD SELECT off=18 tag='b' mbox='INBOXES' ok anoms=[]\n"
             "CMD STATUS off=36 tag='c' mbox='inbox' inbox ok anoms=[]\n"},
    {.name = "LIST and LSUB with wildcards",
     TH_IN("a LIST \"\" *\r\nb LIST #news. comp.mail.%\r\nc LSUB \"#news.\" \"comp.*\"\r\n"),
     .want = "CMD LIST off=0 tag='a' ok anoms=[]\n"
             "CMD LIST off=13 tag='b' ok anoms=[]\n"
             "CMD LSUB off=40 tag='c' ok anoms=[]\n"},
    {.name = "STATUS",
     TH_IN("a STATUS blurdybloop (UIDNEXT MESSAGES)\r\n"),
     .want =
             "CMD STATUS off=0 tag='a' mbox='blurdybloop' ok anoms=[]\n"},
    {.name = "APPEND with flags and date-time",
     TH_IN("A003 APPEND saved-messages (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {3}\r\nabc\r\n"),
     .want =
             "WAIT #0 off=64 size=3\n"
             "LIT #0 off=69 len=3 sync 'abc'\n"
             "CMD APPEND off=0 tag='A003' mbox='saved-messages' lits=1/1/0/0 max=0 octets=3 ok "
             "anoms=[]\n"},
    {.name = "AUTHENTICATE with and without initial response",
     TH_IN("a AUTHENTICATE GSSAPI\r\nb AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n"
           "c AUTHENTICATE EXTERNAL =\r\n"),
     .want = "CMD AUTHENTICATE off=0 tag='a' ok anoms=[]\n"
             "CMD AUTHENTICATE off=23 tag='b' secret=44+20 ok anoms=[]\n"
             "CMD AUTHENTICATE off=66 tag='c' secret=90+1 ok anoms=[]\n"},
    {.name = "ENABLE and ID",
     TH_IN("a ENABLE CONDSTORE X-GOOD-IDEA\r\nb ID NIL\r\n"
           "c ID (\"name\" \"sodr\" \"version\" NIL)\r\nd ID ()\r\n"),
     .want = "CMD ENABLE off=0 tag='a' ok anoms=[]\n"
             "CMD ID off=32 tag='b' ok anoms=[]\n"
             "CMD ID off=42 tag='c' ok anoms=[]\n"
             "CMD ID off=78 tag='d' ok anoms=[]\n"},
    {.name = "SEARCH keys",
     TH_IN("a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"
           "b SEARCH CHARSET UTF-8 OR (DELETED SEEN) HEADER X-A {1}\r\nb\r\n"
           "c UID SEARCH $ UID 2:4 LARGER 10 SENTON \"05-Mar-2001\" KEYWORD $x\r\n"
           "d SEARCH NOT NOT (OR ALL NEW (OLD)) UNKEYWORD a UNDRAFT\r\n"),
     .want = "CMD SEARCH off=0 tag='a' ok anoms=[]\n"
             "WAIT #0 off=104 size=1\n"
             "LIT #0 off=109 len=1 sync 'b'\n"
             "CMD SEARCH off=52 tag='b' lits=1/1/0/0 max=0 octets=1 ok anoms=[]\n"
             "CMD SEARCH uid off=112 tag='c' ok anoms=[]\n"
             "CMD SEARCH off=178 tag='d' ok anoms=[]\n"},
    {.name = "FETCH attributes",
     TH_IN("a FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n"
           "b UID FETCH * (BODY.PEEK[1.2.MIME]<0.1024> RFC822.SIZE BINARY[1]<5.6>)\r\n"
           "c FETCH 1 BINARY.SIZE[]\r\nd FETCH 1 (ENVELOPE BODYSTRUCTURE UID BODY)\r\n"
           "e FETCH 1,3 BODY[3.HEADER.FIELDS.NOT (X)]\r\nf FETCH $ fast\r\n"),
     .want = "CMD FETCH off=0 tag='a' ok anoms=[]\n"
             "CMD FETCH uid off=53 tag='b' ok anoms=[]\n"
             "CMD FETCH off=125 tag='c' ok anoms=[]\n"
             "CMD FETCH off=150 tag='d' ok anoms=[]\n"
             "CMD FETCH off=195 tag='e' ok anoms=[]\n"
             "CMD FETCH off=238 tag='f' ok anoms=[]\n"},
    {.name = "STORE, COPY, MOVE, UID EXPUNGE",
     TH_IN("a STORE 2:4 +FLAGS (\\Deleted)\r\nb UID STORE 1 -FLAGS.SILENT \\Seen $Junk\r\n"
           "c STORE 1 FLAGS ()\r\nd COPY 2:4 MEETING\r\ne UID MOVE 42 Trash\r\n"
           "f UID EXPUNGE 3000:3002\r\n"),
     .want =
             "CMD STORE off=0 tag='a' ok anoms=[]\n"
             "CMD STORE uid off=31 tag='b' ok anoms=[]\n"
             "CMD STORE off=72 tag='c' ok anoms=[]\n"
             "CMD COPY off=92 tag='d' mbox='MEETING' ok anoms=[]\n"
             "CMD MOVE uid off=112 tag='e' mbox='Trash' ok anoms=[]\n"
             "CMD EXPUNGE uid off=133 tag='f' ok anoms=[]\n"},
    {.name = "RFC 4466 parameters and modifiers (RFC 7162 CONDSTORE, QRESYNC)",
     TH_IN("a SELECT INBOX (CONDSTORE)\r\n"
           "b EXAMINE INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n"
           "c FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n"
           "d UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"
           "e STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n"
           "f FETCH 1 (FLAGS MODSEQ)\r\ng SELECT x (A (B (C)) D 5)\r\n"),
     .want =
             "CMD SELECT off=0 tag='a' mbox='INBOX' inbox ok anoms=[]\n"
             "CMD EXAMINE off=28 tag='b' mbox='INBOX' inbox ok anoms=[]\n"
             "CMD FETCH off=102 tag='c' ok anoms=[]\n"
             "CMD FETCH uid off=144 tag='d' ok anoms=[]\n"
             "CMD STORE off=203 tag='e' ok anoms=[]\n"
             "CMD FETCH off=270 tag='f' ok anoms=[]\n"
             "CMD SELECT off=296 tag='g' mbox='x' ok anoms=[]\n"},
    {.name = "bad parameters and modifiers",
     TH_IN("a SELECT INBOX ()\r\nb FETCH 1 FLAGS (CHANGEDSINCE)x\r\n"
           "c STORE 1 (UNCHANGEDSINCE 5 +FLAGS x\r\nd FETCH 1 ()\r\ne SELECT x (A (B)\r\n"
           "f SELECT x (A 1:)\r\n"),
     .want =
             "CMD SELECT off=0 tag='a' mbox='INBOX' inbox bad anoms=[IMAP_CMD_ARG_SYNTAX@16]\n"
             "CMD FETCH off=19 tag='b' bad anoms=[IMAP_CMD_ARG_SYNTAX@49]\n"
             "CMD STORE off=52 tag='c' bad anoms=[IMAP_CMD_ARG_SYNTAX@88]\n"
             "CMD FETCH off=90 tag='d' bad anoms=[IMAP_CMD_ARG_SYNTAX@101]\n"
             "CMD SELECT off=104 tag='e' mbox='x' bad anoms=[IMAP_CMD_ARG_SYNTAX@121]\n"
             "CMD SELECT off=123 tag='f' mbox='x' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@139]\n"},
    {.name = "unknown command: a valid atom, not judged further",
     TH_IN("a XLIST \"\" (*\r\nb X-FOO\r\n"),
     .want =
             "CMD UNKNOWN off=0 tag='a' name='XLIST' ok "
           "anoms=[]\n"
             "CMD UNKNOWN off=15 tag='b' name='X-FOO' ok anoms=[]\n"},
    {.name = "tags",
     TH_IN("+a NOOP\r\n NOOP\r\na(b NOOP\r\n*]! NOOP\r\n"),
     .want =
             "CMD UNKNOWN off=0 tag='' name='' bad anoms=[IMAP_CMD_TAG_SYNTAX@0]\n"
             "CMD UNKNOWN off=9 tag='' name='' bad anoms=[IMAP_CMD_TAG_SYNTAX@9]\n"
             "CMD UNKNOWN off=16 tag='a' name='' bad anoms=[IMAP_CMD_TAG_SYNTAX@17]\n"
             "CMD UNKNOWN off=26 tag='' name='' bad anoms=[IMAP_CMD_TAG_SYNTAX@26]\n"},
    {.name = "empty line, name missing, bad name",
     TH_IN("\r\nabc\r\nabc \r\nabc NO(OP\r\n"),
     .want =
             "CMD UNKNOWN off=0 tag='' name='' bad "
           "anoms=[IMAP_CMD_EMPTY@0]\n"
             "CMD UNKNOWN off=2 tag='abc' name='' bad anoms=[IMAP_CMD_TAG_SYNTAX@5]\n"
             "CMD UNKNOWN off=7 tag='abc' name='' bad anoms=[IMAP_CMD_NAME_SYNTAX@11]\n"
             "CMD UNKNOWN off=13 tag='abc' name='NO' bad anoms=[IMAP_CMD_NAME_SYNTAX@19]\n"},
    {.name = "UID before other commands",
     TH_IN("a UID COPYX 1 x\r\nb UID SELECT x\r\n"),
     .want = "CMD UNKNOWN uid off=0 tag='a' name='COPYX' bad anoms=[IMAP_CMD_UID_VERB@6]\n"
             "CMD SELECT uid off=17 tag='b' bad anoms=[IMAP_CMD_UID_VERB@23]\n"},
    {.name = "arguments where none belong, missing, extra",
     TH_IN("a NOOP x\r\nb SELECT\r\nc SELECT a b\r\nd LOGIN a\r\ne SELECT  a\r\n"),
     .want =
             "CMD NOOP off=0 tag='a' bad anoms=[IMAP_CMD_ARG_SYNTAX@6]\n"
             "CMD SELECT off=10 tag='b' bad anoms=[IMAP_CMD_ARG_SYNTAX@18]\n"
             "CMD SELECT off=20 tag='c' mbox='a' bad anoms=[IMAP_CMD_ARG_SYNTAX@31]\n"
             "CMD LOGIN off=34 tag='d' bad anoms=[IMAP_CMD_ARG_SYNTAX@43]\n"
             "CMD SELECT off=45 tag='e' bad anoms=[IMAP_CMD_ARG_SYNTAX@54]\n"},
    {.name = "bad sequence sets",
     TH_IN("a FETCH 0 FLAGS\r\nb FETCH 1: FLAGS\r\nc FETCH 1,,2 FLAGS\r\n"
           "d FETCH 4294967296 FLAGS\r\ne COPY 1:2x y\r\nf FETCH 01 FLAGS\r\ng FETCH 1,$ "
           "FLAGS\r\n"),
     .want = "CMD FETCH off=0 tag='a' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@8]\n"
             "CMD FETCH off=17 tag='b' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@27]\n"
             "CMD FETCH off=35 tag='c' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@45]\n"
             "CMD FETCH off=55 tag='d' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@63]\n"
             "CMD COPY off=81 tag='e' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@91]\n"
             "CMD FETCH off=96 tag='f' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@104]\n"
             "CMD FETCH off=114 tag='g' bad anoms=[IMAP_CMD_SEQSET_SYNTAX@124]\n"},
    {.name = "bad dates",
     TH_IN("a SEARCH SINCE 1-Foo-1994\r\nb SEARCH ON 123-Feb-1994\r\n"
           "c SEARCH BEFORE \"1-Feb-1994\r\nd SEARCH SENTSINCE 1-Feb-94\r\n"
           "e APPEND x \"7-Feb-1994 21:52:25 -0800\" {1+}\r\nz\r\n"),
     .want =
             "CMD SEARCH off=0 tag='a' bad anoms=[IMAP_CMD_DATE_SYNTAX@15]\n"
             "CMD SEARCH off=27 tag='b' bad anoms=[IMAP_CMD_DATE_SYNTAX@39]\n"
             "CMD SEARCH off=53 tag='c' bad anoms=[IMAP_CMD_DATE_SYNTAX@69]\n"
             "CMD SEARCH off=82 tag='d' bad anoms=[IMAP_CMD_DATE_SYNTAX@101]\n"
             "LIT #0 off=156 len=1 nonsync 'z'\n"
             "CMD APPEND off=111 tag='e' mbox='x' lits=1/0/1/0 max=1 octets=1 bad "
             "anoms=[IMAP_CMD_DATE_SYNTAX@122]\n"},
    {.name = "bad SEARCH keys",
     TH_IN("a SEARCH\r\nb SEARCH ()\r\nc SEARCH (ALL\r\nd SEARCH OR ALL\r\n"
           "e SEARCH FOO\r\nf SEARCH ALL)\r\ng SEARCH LARGER x\r\n"),
     .want = "CMD SEARCH off=0 tag='a' bad anoms=[IMAP_CMD_ARG_SYNTAX@8]\n"
             "CMD SEARCH off=10 tag='b' bad anoms=[IMAP_CMD_ARG_SYNTAX@20]\n"
             "CMD SEARCH off=23 tag='c' bad anoms=[IMAP_CMD_ARG_SYNTAX@36]\n"
             "CMD SEARCH off=38 tag='d' bad anoms=[IMAP_CMD_ARG_SYNTAX@53]\n"
             "CMD SEARCH off=55 tag='e' bad anoms=[IMAP_CMD_ARG_SYNTAX@64]\n"
             "CMD SEARCH off=69 tag='f' bad anoms=[IMAP_CMD_ARG_SYNTAX@81]\n"
             "CMD SEARCH off=84 tag='g' bad anoms=[IMAP_CMD_ARG_SYNTAX@100]\n"},
    {.name = "bad FETCH",
     TH_IN("a FETCH 1 BODY.PEEK\r\nb FETCH 1 (FLAGS\r\nc FETCH 1 BODY[HEADER.FIELDS]\r\n"
           "d FETCH 1 BODY[]<1>\r\ne FETCH 1 BINARY[TEXT]\r\nf FETCH 1 FOO\r\n"),
     .want = "CMD FETCH off=0 tag='a' bad anoms=[IMAP_CMD_ARG_SYNTAX@19]\n"
             "CMD FETCH off=21 tag='b' bad anoms=[IMAP_CMD_ARG_SYNTAX@37]\n"
             "CMD FETCH off=39 tag='c' bad anoms=[IMAP_CMD_ARG_SYNTAX@67]\n"
             "CMD FETCH off=70 tag='d' bad anoms=[IMAP_CMD_ARG_SYNTAX@88]\n"
             "CMD FETCH off=91 tag='e' bad anoms=[IMAP_CMD_ARG_SYNTAX@108]\n"
             "CMD FETCH off=115 tag='f' bad anoms=[IMAP_CMD_ARG_SYNTAX@125]\n"},
    {.name = "bad STORE, STATUS, ENABLE, ID, AUTHENTICATE",
     TH_IN("a STORE 1 FLAG (x)\r\nb STORE 1 +FLAGS (\\)\r\nc STATUS x (FOO)\r\n"
           "d ENABLE\r\ne ID (\"a\")\r\nf AUTHENTICATE PLAIN a=b\r\ng ID (a b)\r\n"),
     .want =
             "CMD STORE off=0 tag='a' bad anoms=[IMAP_CMD_ARG_SYNTAX@10]\n"
             "CMD STORE off=20 tag='b' bad anoms=[IMAP_CMD_ARG_SYNTAX@39]\n"
             "CMD STATUS off=42 tag='c' mbox='x' bad anoms=[IMAP_CMD_ARG_SYNTAX@54]\n"
             "CMD ENABLE off=60 tag='d' bad anoms=[IMAP_CMD_ARG_SYNTAX@68]\n"
             "CMD ID off=70 tag='e' bad anoms=[IMAP_CMD_ARG_SYNTAX@79]\n"
             "CMD AUTHENTICATE off=82 tag='f' secret=103+3 bad "
             "anoms=[IMAP_CMD_SASL_BAD_BASE64@105]\n"
             "CMD ID off=108 tag='g' bad anoms=[IMAP_CMD_ARG_SYNTAX@114]\n"},
    {.name = "8-bit in quoted strings: flagged once, not a syntax error",
     TH_IN("a SELECT \"\xc3\xa4\xc3\xb6\"\r\nb SELECT \xc3\xa4\r\n"),
     .want =
             "CMD SELECT off=0 tag='a' mbox='\"\\xc3\\xa4\\xc3\\xb6\"' ok "
             "anoms=[IMAP_CMD_QUOTED_8BIT@10]\n"
             "CMD SELECT off=17 tag='b' bad anoms=[IMAP_CMD_ARG_SYNTAX@26]\n"},
    {.name = "bad quoted strings and APPEND without literal",
     TH_IN("a SELECT \"a\\b\"\r\nb SELECT \"ab\r\nc APPEND x (\\Seen)\r\nd LOGIN a \"b\"c\r\n"),
     .want =
             "CMD SELECT off=0 tag='a' bad anoms=[IMAP_CMD_ARG_SYNTAX@11]\n"
             "CMD SELECT off=16 tag='b' bad anoms=[IMAP_CMD_ARG_SYNTAX@25]\n"
             "CMD APPEND off=30 tag='c' mbox='x' bad anoms=[IMAP_CMD_ARG_SYNTAX@48]\n"
             "CMD LOGIN off=50 tag='d' secret=60+3 bad anoms=[IMAP_CMD_ARG_SYNTAX@63]\n"},
};

static void test_grammar(void **state)
{
    (void)state;
    run_cases(grammar_cases, TH_COUNT(grammar_cases));
}

/* Capture loss: inside literal data the count goes on; a damaged line
 * is dropped with its command. */
static const struct ccase gap_cases[] = {
    {.name = "gap inside a literal",
     TH_IN("A1 LOGIN {5+}\r\nace x\r\nA2 NOOP\r\n"), .gap_at = 16, .gap = 2,
     .want =
             "LIT #0 off=15 len=1 nonsync 'a'\n"
             "LIT #0 off=18 len=2 nonsync 'ce'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/0/1/0 max=5 octets=5 secret=21+1 ok anoms=[]\n"
             "CMD NOOP off=24 tag='A2' ok anoms=[]\n"},
    {.name = "gap ends at the literal's end",
     TH_IN("A1 LOGIN {5+}\r\nal x\r\nA2 NOOP\r\n"), .gap_at = 17, .gap = 3, .want =
             "LIT #0 off=15 len=2 nonsync 'al'\n"
             "CMD LOGIN off=0 tag='A1' lits=1/0/1/0 max=5 octets=5 secret=21+1 ok anoms=[]\n"
             "CMD NOOP off=24 tag='A2' ok anoms=[]\n"},
    {.name = "gap runs past the literal into the line",
     TH_IN("A1 LOGIN {5}\r\nalicx\r\nA2 NOOP\r\n"), .gap_at = 18, .gap = 2,
     .want =
             "WAIT #0 off=9 size=5\n"
             "LIT #0 off=14 len=4 sync 'alic'\n"
             "CMD NOOP off=23 tag='A2' ok anoms=[]\n"},
    {.name = "gap in a command line",
     TH_IN("A1 NOOP\r\nA2 SEL INBOX\r\nA3 NOOP\r\n"), .gap_at = 14, .gap = 3, .want =
             "CMD NOOP off=0 tag='A1' ok anoms=[]\n"
             "CMD NOOP off=26 tag='A3' ok anoms=[]\n"},
    {.name = "gap after a sync literal's announcement, before go",
     TH_IN("A1 LOGIN {5}\r\n x\r\n"), .plan = "n", .gap_at = 14, .gap = 5, .want =
             "WAIT #0 off=9 size=5\n"
             "CMD LOGIN off=0 tag='A1' lits=1/1/0/0 max=0 octets=5 secret=20+1 ok anoms=[]\n"},
};

static void test_gaps(void **state)
{
    (void)state;
    run_cases(gap_cases, TH_COUNT(gap_cases));
}

/* AUTHENTICATE exchanges (SASL mode) and IDLE. */
static const struct ccase mode_cases[] = {
    {.name = "RFC 3501 s6.2.2 GSSAPI exchange",
     TH_IN("A001 AUTHENTICATE GSSAPI\r\n"
           "YIIB+wYJKoZIhvcSAQICAQBuggHqMIIB5qADAgEFoQMCAQ6iBwMFACAAAACjggEmYYIBIjCCAR6gAwIBBaES"
           "GxB1\r\n"
           "\r\n"
           "BQQF/wAAAAAAAAAAAAAAAA==\r\n"
           "A002 NOOP\r\n"),
     .plan = "snnc",
     .want =
             "CMD AUTHENTICATE off=0 tag='A001' ok anoms=[]\n"
             "SASL off=26 'YIIB+wYJKoZIhvcSAQICAQBuggHqMIIB5qADAgEFoQMCA...' ok anoms=[]\n"
             "SASL off=116 '' ok anoms=[]\n"
             "SASL off=118 'BQQF/wAAAAAAAAAAAAAAAA==' ok anoms=[]\n"
             "CMD NOOP off=144 tag='A002' ok anoms=[]\n"},
    {.name = "cancelled, bad base64",
     TH_IN("a AUTHENTICATE PLAIN\r\nab!=\r\n*\r\nb NOOP\r\n"), .plan = "snc",
     .want =
             "CMD "
           "AUTHENTICATE off=0 tag='a' ok anoms=[]\n"
             "SASL off=22 'ab!=' bad anoms=[IMAP_CMD_SASL_BAD_BASE64@24]\n"
             "SASL off=28 '*' cancel ok anoms=[]\n"
             "CMD NOOP off=31 tag='b' ok anoms=[]\n"},
    {.name = "IDLE and DONE",
     TH_IN("a IDLE\r\nDONE\r\nb IDLE\r\ndone\r\nc IDLE\r\nNOOP\r\nd NOOP\r\n"),
     .plan = "i.i.i.",
     .want =
             "CMD IDLE off=0 tag='a' ok anoms=[]\n"
             "DONE off=8 'DONE' ok anoms=[]\n"
             "CMD IDLE off=14 tag='b' ok anoms=[]\n"
             "DONE off=22 'done' ok anoms=[]\n"
             "CMD IDLE off=28 tag='c' ok anoms=[]\n"
             "DONE off=36 'NOOP' bad anoms=[IMAP_CMD_IDLE_NOT_DONE@36]\n"
             "CMD NOOP off=42 tag='d' ok anoms=[]\n"},
};

static void test_modes(void **state)
{
    (void)state;
    run_cases(mode_cases, TH_COUNT(mode_cases));
}

/* ---- long inputs: whole, byte by byte, fixed pieces, chosen splits ---- */

static void run_sampled(struct cctx *c, const uint8_t *in, size_t len, const size_t *cuts,
                        size_t ncuts, struct th_log *out)
{
    static const size_t sizes[] = {1, 2, 3, 7, 64, 999, 2048, 4096};
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

static uint8_t big[20000];
static char want[4096];

/* RFC 7888 s4: LITERAL- allows {n+} up to 4096; the event reports the
 * largest so the session can judge it. */
static void test_literal_minus(void **state)
{
    static struct cctx c;
    static struct th_log log;
    (void)state;
    for (size_t n = 4095; n <= 4097; n++) {
        char pre[64];
        size_t len, cuts[3];
        snprintf(pre, sizeof(pre), "A1 APPEND x {%zu+}\r\n", n);
        len = th_build(big, sizeof(big), pre, 'a', n, "\r\n");
        cuts[0] = strlen(pre);
        cuts[1] = strlen(pre) + n;
        cuts[2] = strlen(pre) + n + 1;
        memset(&c, 0, sizeof(c));
        run_sampled(&c, big, len, cuts, TH_COUNT(cuts), &log);
        snprintf(want, sizeof(want),
                 "LIT #0 off=%zu len=%zu nonsync '%s'\n"
                 "CMD APPEND off=0 tag='A1' mbox='x' lits=1/0/1/0 max=%zu octets=%zu ok "
                 "anoms=[]\n",
                 strlen(pre), n, th_shown('a', 40), n, n);
        assert_true(th_expect_log("LITERAL-", want, &log));
        assert_int_equal(n > MC_IMAP_CMD_LITERAL_MINUS_MAX, n == 4097);
    }
}

/* RFC 7162 s4: 8192 octets with CRLF; longer lines are flagged at the
 * first octet past the limit. Lines longer than MC_LINE_KEEP are kept in
 * part: the tag and name are judged, the arguments are not. */
static void test_line_limit(void **state)
{
    static struct cctx c;
    static struct th_log log;
    (void)state;
    for (size_t total = MC_IMAP_CMD_LINE_MAX - 1; total <= MC_IMAP_CMD_LINE_MAX + 1; total++) {
        const char *pre = "a SEARCH TEXT ";
        size_t len =
            th_build(big, sizeof(big), pre, 'x', total - 2 - strlen(pre), "\r\nb NOOP\r\n");
        size_t cuts[] = {MC_LINE_KEEP, total - 2, total - 1, total};
        char an[80] = "";
        memset(&c, 0, sizeof(c));
        run_sampled(&c, big, len, cuts, TH_COUNT(cuts), &log);
        if (total > MC_IMAP_CMD_LINE_MAX)
            snprintf(an, sizeof(an), "IMAP_CMD_LINE_TOO_LONG@%d", MC_IMAP_CMD_LINE_MAX - 2);
        snprintf(want, sizeof(want),
                 "CMD SEARCH off=0 tag='a' ok trunc len=%zu anoms=[%s]\n"
                 "CMD NOOP off=%zu tag='b' ok anoms=[]\n", total - 2, an, total);
        assert_true(th_expect_log("line limit", want, &log));
    }
}

/* A literal announced at the end of a segment longer than MC_LINE_KEEP is
 * still found (the parser keeps the line's last octets apart); which LOGIN
 * argument it is cannot be told, so it is redacted. */
static void test_long_segment_literal(void **state)
{
    static struct cctx c;
    static struct th_log log;
    size_t len = th_build(big, sizeof(big), "a LOGIN ", 'x', 3000, " {3}\r\nabc\r\n");
    size_t cuts[] = {3005, 3008, 3010, 3012};
    (void)state;
    memset(&c, 0, sizeof(c));
    run_sampled(&c, big, len, cuts, TH_COUNT(cuts), &log);
    assert_true(th_expect_log("long segment", "WAIT #0 off=3009 size=3 secret\n"
                                              "LIT #0 off=3014 len=3 sync secret 'abc'\n"
                                              "CMD LOGIN off=0 tag='a' lits=1/1/0/0 max=0 "
                                              "octets=3 ok trunc len=3012 anoms=[]\n",
                              &log));
}

/* The limit counts all segments, literal data excluded; the text kept for
 * judging ends at MC_IMAP_CMD_KEEP. */
static void test_line_limit_segments(void **state)
{
    static struct cctx c;
    static struct th_log log;
    size_t len = 0, seg_start[8], data_at[8], text = 0, cuts[8];
    uint64_t over = 0;
    (void)state;
    memset(&c, 0, sizeof(c));
    len = th_build(big, sizeof(big), "a SEARCH TEXT {1+}\r\n", 'x', 0, "");
    text = len;   /* octets of segments so far, CRLF included */
    for (unsigned k = 0; k < 5; k++) {
        data_at[k] = len;
        big[len++] = 'y';
        seg_start[k] = len;
        len += th_build(big + len, sizeof(big) - len, " TEXT ", 'x', 1900, " TEXT {1+}\r\n");
        if (!over && text + (len - seg_start[k]) > MC_IMAP_CMD_LINE_MAX)
            over = seg_start[k] + (MC_IMAP_CMD_LINE_MAX - 2 - text);
        text += len - seg_start[k];
        cuts[k] = data_at[k];
    }
    big[len++] = 'y';
    len += th_build(big + len, sizeof(big) - len, "\r\n", 'x', 0, "");
    cuts[5] = len - 3;
    run_sampled(&c, big, len, cuts, 6, &log);
    {
        char *w = want;
        size_t cap = sizeof(want);
        int r = snprintf(w, cap, "LIT #0 off=%zu len=1 nonsync 'y'\n", data_at[0]);
        for (unsigned k = 1; k < 5; k++)
            r += snprintf(w + r, cap - (size_t)r, "LIT #%u off=%zu len=1 nonsync 'y'\n", k,
                          data_at[k]);
        r += snprintf(w + r, cap - (size_t)r, "LIT #5 off=%zu len=1 nonsync 'y'\n", len - 3);
        snprintf(w + r, cap - (size_t)r,
                 "CMD SEARCH off=0 tag='a' lits=6/0/6/0 max=1 octets=6 ok trunc len=%zu "
                 "anoms=[IMAP_CMD_LINE_TOO_LONG@%llu]\n",
                 (size_t)(text - 2 * 6), (unsigned long long)over);
    }
    assert_true(th_expect_log("segments", want, &log));
}

/* SEARCH keys nest up to MC_IMAP_CMD_NEST_MAX frames (NOT, OR, "("). */
static void test_search_depth(void **state)
{
    static struct cctx c;
    static struct th_log log;
    static const char *const open[] = {"NOT ", "(", "OR ALL "};
    (void)state;
    for (unsigned kind = 0; kind < 3; kind++) {
        for (unsigned d = MC_IMAP_CMD_NEST_MAX; d <= MC_IMAP_CMD_NEST_MAX + 1; d++) {
            size_t len = th_build(big, sizeof(big), "a SEARCH ", 'x', 0, ""), at = 0;
            for (unsigned k = 0; k < d; k++) {
                if (k == MC_IMAP_CMD_NEST_MAX)
                    at = len + (kind == 0 ? 4 : kind == 2 ? 3 : 0);   /* after "NOT ", "OR " */
                len += th_build(big + len, sizeof(big) - len, open[kind], 'x', 0, "");
            }
            len += th_build(big + len, sizeof(big) - len, "ALL", 'x', 0, "");
            for (unsigned k = 0; kind == 1 && k < d; k++)
                big[len++] = ')';
            len += th_build(big + len, sizeof(big) - len, "\r\n", 'x', 0, "");
            memset(&c, 0, sizeof(c));
            th_run_modes(&cmd_target, &c, big, len, &log);
            if (d > MC_IMAP_CMD_NEST_MAX)
                snprintf(want, sizeof(want),
                         "CMD SEARCH off=0 tag='a' bad anoms=[IMAP_CMD_NEST_TOO_DEEP@%zu]\n", at);
            else
                snprintf(want, sizeof(want), "CMD SEARCH off=0 tag='a' ok anoms=[]\n");
            assert_true(th_expect_log(open[kind], want, &log));
        }
    }
}

/* More segments than MC_IMAP_CMD_SEGS_MAX: counted, not all kept. */
static void test_many_segments(void **state)
{
    static struct cctx c;
    static struct th_log log;
    size_t len = th_build(big, sizeof(big), "a SEARCH TEXT {0+}\r\n", 'x', 0, "");
    (void)state;
    for (unsigned k = 1; k < MC_IMAP_CMD_SEGS_MAX + 1; k++)
        len += th_build(big + len, sizeof(big) - len, " TEXT {0+}\r\n", 'x', 0, "");
    len += th_build(big + len, sizeof(big) - len, "\r\n", 'x', 0, "");
    memset(&c, 0, sizeof(c));
    th_run_modes(&cmd_target, &c, big, len, &log);
    snprintf(want, sizeof(want),
             "CMD SEARCH off=0 tag='a' lits=%d/0/%d/0 max=0 octets=0 ok trunc len=%zu anoms=[]\n",
             MC_IMAP_CMD_SEGS_MAX + 1, MC_IMAP_CMD_SEGS_MAX + 1,
             len - 2 * (MC_IMAP_CMD_SEGS_MAX + 2));
    assert_true(th_expect_log("many segments", want, &log));
}

/* The session's calls outside the usual order. */
static void test_api(void **state)
{
    static struct mc_imap_cmd p;
    struct mc_imap_cmd_ev ev;
    size_t used;
    const uint8_t *in = (const uint8_t *)"A1 LOGIN {2}\r\nab c\r\n";
    (void)state;
    mc_imap_cmd_init(&p);
    mc_imap_cmd_literal_go(&p);   /* no literal: nothing happens */
    assert_false(mc_imap_cmd_literal_refused(&p));
    assert_false(mc_imap_cmd_has_event(&p));
    assert_int_equal(mc_imap_cmd_feed(&p, in, 20, &used, &ev), MC_EVENT);
    assert_int_equal(ev.type, MC_IMAP_CMD_LITERAL_WAIT);
    assert_int_equal(used, 14);
    assert_true(mc_imap_cmd_literal_waiting(&p));
    /* one early octet: too late to refuse */
    assert_int_equal(mc_imap_cmd_feed(&p, in + 14, 1, &used, &ev), MC_EVENT);
    assert_int_equal(ev.type, MC_IMAP_CMD_LITERAL);
    assert_true(ev.early);
    assert_int_equal(ev.remaining, 1);
    assert_false(mc_imap_cmd_literal_waiting(&p));
    assert_false(mc_imap_cmd_literal_refused(&p));
    mc_imap_cmd_literal_go(&p);
    assert_int_equal(mc_imap_cmd_feed(&p, in + 15, 5, &used, &ev), MC_EVENT);
    assert_false(ev.early);
    assert_int_equal(ev.remaining, 0);
    assert_int_equal(mc_imap_cmd_feed(&p, in + 16, 4, &used, &ev), MC_EVENT);
    assert_int_equal(ev.type, MC_IMAP_CMD_COMMAND);
    assert_true(mc_anoms_has(&ev.anoms, MC_ANOM_IMAP_CMD_LITERAL_EARLY));
    assert_int_equal(mc_imap_cmd_offset(&p), 20);
    assert_int_equal(mc_imap_cmd_finish(&p, &ev), MC_NEED_MORE);

    /* the verb table the session reads */
    assert_int_equal(mc_imap_verb_info(MC_IMAP_LOGIN)->states, MC_IMAP_ST_NOTAUTH);
    assert_int_equal(mc_imap_verb_info(MC_IMAP_FETCH)->states, MC_IMAP_ST_SELECTED);
    assert_true(mc_imap_verb_info(MC_IMAP_MOVE)->uid_ok);
    assert_false(mc_imap_verb_info(MC_IMAP_SELECT)->uid_ok);
    assert_int_equal(mc_imap_verb_info(MC_IMAP_NOOP)->states, MC_IMAP_ST_ANY);
    assert_string_equal(mc_imap_verb_name(MC_IMAP_UNSELECT), "UNSELECT");
    assert_string_equal(mc_imap_verb_name((enum mc_imap_verb)999), "UNKNOWN");
    assert_int_equal(mc_imap_verb_info((enum mc_imap_verb)999)->states, 0);
}

/* Random streams of IMAP pieces: no crash, and the same log in every
 * feeding mode (the DESIGN.md oracle), with random session calls and
 * gaps. */
static void test_random(void **state)
{
    static const char *const pieces[] = {
        "{3}\r\n", "{0}\r\n", "{2+}\r\n", "{0+}\r\n", "~{1}\r\n", "{99999999999999999999}\r\n",
        " ", " ", "(", ")", "\"", "\\", "a", "A1 ", "t ", "1:*", "$", ",", "SEARCH ", "NOT ",
        "OR ", "FETCH ", "BODY[", "]", "<0.1>", "HEADER.FIELDS ", "\r\n", "\r\n", "\n", "\r",
        "\0", "UID ", "LOGIN ", "APPEND ", "AUTHENTICATE ", "IDLE", "DONE", "STORE ",
        "+FLAGS ", "\\Seen", "1-Feb-1994", "\" 1-Feb-1994 00:00:00 +0000\"", "*", "=",
        "LIST ", "STATUS ", "(MESSAGES)", "ID ", "NIL", "ENABLE ", "\xc3\xa4", "%"};
    static const char acts[] = "gnlrsci..";
    static struct cctx c;
    static struct th_log log;
    static char plan[64];
    uint32_t seed = 12345;
    (void)state;
    for (unsigned round = 0; round < 1000; round++) {
        size_t len = 0, n;
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % 24;
        for (size_t k = 0; k < n; k++) {
            const char *pc;
            size_t pl;
            seed = seed * 1103515245u + 12345u;
            pc = pieces[(seed >> 16) % TH_COUNT(pieces)];
            pl = pc[0] ? strlen(pc) : 1;   /* the NUL piece */
            memcpy(big + len, pc, pl);
            len += pl;
        }
        for (size_t k = 0; k + 1 < sizeof(plan); k++) {
            seed = seed * 1103515245u + 12345u;
            plan[k] = acts[(seed >> 16) % (sizeof(acts) - 1)];
        }
        memset(&c, 0, sizeof(c));
        c.plan = plan;
        seed = seed * 1103515245u + 12345u;
        c.go_at = (seed >> 16) % (len + 1);
        /* every other round loses 1 to 4 octets somewhere */
        seed = seed * 1103515245u + 12345u;
        th_run_modes_gap(&cmd_target, &c, big, len, (seed >> 16) % (len + 1),
                         round % 2 ? 1 + (seed >> 8) % 4 : 0, &log);
        assert_null(strstr(log.s, "BADSPAN"));
        assert_null(strstr(log.s, "BADTYPE"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_grammar),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_literal_minus),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_line_limit_segments),
        cmocka_unit_test(test_long_segment_literal),
        cmocka_unit_test(test_search_depth),
        cmocka_unit_test(test_many_segments),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
