/*
 * imap_resp: response classification, status responses and codes, data
 * grammars, literals and literal8 streamed across segments, limits, gaps and
 * end of stream. Every stream case runs in the three feeding modes on
 * guard-page input (test_harness.h).
 *
 * Log lines:
 *   RESP off=N kind=K st=S tag='..' name='..' [code='..'] [arg='..']
 *        [text='..'] [num=N] len=N [lits=N] anoms=[..]
 *   LIT off=N size=N [lit8] data='..'
 * A literal is logged once, at its last fragment, with the octets of all
 * its fragments (how the input was cut must not show; the test checks that
 * fragments are contiguous and point into the fed buffer).
 *
 * MC_PRINT_LOGS=1 in the environment prints every case's log, to review the
 * expected log of a new case before pasting it in.
 */
#include "test_harness.h"

#include "imap/imap_resp.h"

#include <stdlib.h>

struct ictx {
    struct mc_imap_resp p;
    uint64_t pos;
    /* the literal being reassembled */
    uint8_t lit[64];
    size_t lit_kept;
    uint64_t lit_off, lit_next;
};

static const char *kind_name(enum mc_imap_resp_kind k)
{
    static const char *const names[] = {
        "INVALID", "CONT", "TAGGED", "STATE", "BYE", "PREAUTH", "CAPABILITY", "ENABLED",
        "ID", "NAMESPACE", "FLAGS", "LIST", "LSUB", "SEARCH", "STATUS", "EXISTS",
        "RECENT", "EXPUNGE", "FETCH", "OTHER"};
    return names[k];
}

static const char *const status_names[] = {"-", "OK", "NO", "BAD", "BYE", "PREAUTH"};

static void span_log(struct th_log *log, const char *label, const struct mc_span *s,
                     uint64_t start)
{
    if (s->len == 0)
        return;
    th_logf(log, " %s", label);
    th_log_bytes(log, s->ptr, s->len);
    assert_true(s->off >= start);
}

static void resp_log(struct ictx *c, struct th_log *log, const struct mc_imap_resp_ev *ev)
{
    if (ev->type == MC_IMAP_RESP_LITERAL) {
        if (ev->lit_pos == 0) {
            c->lit_kept = 0;
            c->lit_off = ev->data.off;
            c->lit_next = ev->data.off;
        }
        /* fragments follow each other (or a gap the caller reported) */
        assert_true(ev->data.off >= c->lit_next);
        c->lit_next = ev->data.off + ev->data.len;
        assert_int_equal(ev->data.off - c->lit_off, ev->lit_pos);
        for (size_t k = 0; k < ev->data.len && c->lit_kept < sizeof(c->lit); k++)
            c->lit[c->lit_kept++] = ev->data.ptr[k];
        assert_int_equal(ev->anoms.n, 0);
        assert_true(ev->literals >= 1 && ev->tag.len == 0 && ev->text.len == 0);
        assert_true(mc_imap_resp_partial(&c->p) || ev->lit_last);
        if (ev->lit_last) {
            th_logf(log, "LIT off=%llu size=%llu%s data=", (unsigned long long)c->lit_off,
                    (unsigned long long)ev->lit_size, ev->lit8 ? " lit8" : "");
            th_log_bytes(log, c->lit, c->lit_kept);
            th_logf(log, "\n");
        }
        return;
    }
    th_logf(log, "RESP off=%llu kind=%s st=%s", (unsigned long long)ev->start,
            kind_name(ev->kind), status_names[ev->status]);
    span_log(log, "tag=", &ev->tag, ev->start);
    span_log(log, "name=", &ev->name, ev->start);
    span_log(log, "code=", &ev->code, ev->start);
    span_log(log, "arg=", &ev->code_arg, ev->start);
    span_log(log, "text=", &ev->text, ev->start);
    if (ev->has_number)
        th_logf(log, " num=%llu", (unsigned long long)ev->number);
    th_logf(log, " len=%llu", (unsigned long long)ev->line_len);
    if (ev->literals)
        th_logf(log, " lits=%u", ev->literals);
    th_log_anoms(log, &ev->anoms);
    th_logf(log, "\n");
    assert_false(mc_imap_resp_partial(&c->p));
}

static void i_start(void *vc)
{
    struct ictx *c = vc;
    mc_imap_resp_init(&c->p);
    assert_false(mc_imap_resp_partial(&c->p));
    c->pos = 0;
}

static void i_feed(void *vc, struct th_log *log, const uint8_t *p, size_t n)
{
    struct ictx *c = vc;
    size_t off = 0;
    for (;;) {
        struct mc_imap_resp_ev ev;
        size_t used = (size_t)-1;
        int r = mc_imap_resp_feed(&c->p, p + off, n - off, &used, &ev);
        assert_true(used <= n - off);
        if (r == MC_EVENT && ev.type == MC_IMAP_RESP_LITERAL && ev.data.len)
            assert_true(ev.data.ptr >= p + off && ev.data.ptr + ev.data.len <= p + off + used);
        off += used;
        if (r == MC_NEED_MORE) {
            assert_int_equal(off, n);
            break;
        }
        assert_int_equal(r, MC_EVENT);
        resp_log(c, log, &ev);
    }
    c->pos += n;
    assert_int_equal(mc_imap_resp_offset(&c->p), c->pos);
}

static void i_finish(void *vc, struct th_log *log)
{
    struct ictx *c = vc;
    struct mc_imap_resp_ev ev;
    int rounds = 0;
    while (mc_imap_resp_finish(&c->p, &ev) == MC_EVENT) {
        assert_true(++rounds <= 2);
        resp_log(c, log, &ev);
    }
    assert_int_equal(mc_imap_resp_finish(&c->p, &ev), MC_NEED_MORE);
    assert_false(mc_imap_resp_partial(&c->p));
}

static void i_gap(void *vc, struct th_log *log, uint64_t n)
{
    struct ictx *c = vc;
    (void)log;
    mc_imap_resp_gap(&c->p, n);
    c->pos += n;
    assert_int_equal(mc_imap_resp_offset(&c->p), c->pos);
}

static const struct th_target imap_target = {i_start, i_feed, i_finish, i_gap};

struct icase {
    const char *name;
    const char *in;
    size_t len;
    size_t gap_at;
    uint64_t gap;
    const char *want;
};

static void run_cases(const struct icase *cases, size_t count)
{
    static struct ictx c;
    static struct th_log got;
    bool ok = true;
    for (size_t k = 0; k < count; k++) {
        th_run_modes_gap(&imap_target, &c, cases[k].in, cases[k].len, cases[k].gap_at,
                         cases[k].gap, &got);
        if (getenv("MC_PRINT_LOGS"))
            printf("== %s\n%s", cases[k].name, got.s);
        ok = th_expect_log(cases[k].name, cases[k].want, &got) && ok;
    }
    assert_true(ok);
}

/* ---- cases ---- */
static const struct icase status_cases[] = {
    {.name = "greeting",
     TH_IN("* OK IMAP4rev1 Service Ready\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' text='IMAP4rev1 Service Ready' len="
             "30 anoms=[]\n"},
    {.name = "preauth",
     TH_IN("* PREAUTH IMAP4rev1 server logged in as Smith\r\n"),
     .want = "RESP off=0 kind=PREAUTH st=PREAUTH tag='*' name='PREAUTH' text='IMAP4rev1 server "
             "logged in as Smith' len=47 anoms=[]\n"},
    {.name = "bye",
     TH_IN("* BYE Autologout; idle for too long\r\n"),
     .want = "RESP off=0 kind=BYE st=BYE tag='*' name='BYE' text='Autologout; idle for too long"
             "' len=37 anoms=[]\n"},
    {.name = "tagged ok, lower case",
     TH_IN("a001 ok LOGIN completed\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a001' name='ok' text='LOGIN completed' len=25 a"
             "noms=[]\n"},
    {.name = "tagged no, bad",
     TH_IN("A1 NO failed\r\n"
           "A2 BAD junk\r\n"),
     .want = "RESP off=0 kind=TAGGED st=NO tag='A1' name='NO' text='failed' len=14 anoms=[]\n"
             "RESP off=14 kind=TAGGED st=BAD tag='A2' name='BAD' text='junk' len=13 anoms=[]\n"},
    {.name = "tagged BYE",
     TH_IN("a002 BYE x\r\n"),
     .want = "RESP off=0 kind=TAGGED st=- tag='a002' name='BYE' len=12 anoms=[IMAP_TAGGED_STATU"
             "S@5]\n"},
    {.name = "tag with +",
     TH_IN("a+b OK x\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a+b' name='OK' text='x' len=10 anoms=[IMAP_TAG_"
             "SYNTAX@1]\n"},
    {.name = "tag with {",
     TH_IN("a{1 OK x\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a{1' name='OK' text='x' len=10 anoms=[IMAP_TAG_"
             "SYNTAX@1]\n"},
    {.name = "tag alone",
     TH_IN("a003\r\n"),
     .want = "RESP off=0 kind=TAGGED st=- tag='a003' len=6 anoms=[IMAP_RESP_SYNTAX@4]\n"},
    {.name = "no text",
     TH_IN("* OK\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' len=6 anoms=[IMAP_TEXT_MISSING@4]\n"},
    {.name = "empty text",
     TH_IN("* OK \r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' len=7 anoms=[IMAP_TEXT_MISSING@5]\n"},
    {.name = "no SP after *",
     TH_IN("*OK x\r\n"),
     .want = "RESP off=0 kind=INVALID st=- tag='*' len=7 anoms=[IMAP_RESP_SYNTAX@1]\n"},
    {.name = "no SP after status",
     TH_IN("* OK[ALERT] x\r\n"),
     .want = "RESP off=0 kind=INVALID st=- tag='*' name='OK[ALERT' len=15 anoms=[IMAP_RESP_UNKN"
             "OWN@10]\n"},
    {.name = "continuation",
     TH_IN("+ idling\r\n"
           "+ \r\n"
           "+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHe=\r\n"),
     .want = "RESP off=0 kind=CONT st=- tag='+' text='idling' len=10 anoms=[]\n"
             "RESP off=10 kind=CONT st=- tag='+' len=4 anoms=[]\n"
             "RESP off=14 kind=CONT st=- tag='+' text='YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkT"
             "zBeBi...' len=53 anoms=[]\n"},
    {.name = "bare continuation",
     TH_IN("+\r\n"),
     .want = "RESP off=0 kind=CONT st=- tag='+' len=3 anoms=[IMAP_CONT_NO_SP@1]\n"},
    {.name = "continuation without SP",
     TH_IN("+x\r\n"),
     .want = "RESP off=0 kind=CONT st=- tag='+' text='x' len=4 anoms=[IMAP_CONT_NO_SP@1]\n"},
    {.name = "continuation with code",
     TH_IN("+ [ALERT] go on\r\n"),
     .want = "RESP off=0 kind=CONT st=- tag='+' code='ALERT' text='go on' len=17 anoms=[]\n"},
    {.name = "empty line",
     TH_IN("\r\n"),
     .want = "RESP off=0 kind=INVALID st=- len=2 anoms=[IMAP_RESP_SYNTAX@0]\n"},
    {.name = "brace in text is text",
     TH_IN("* OK see {5}\r\n"
           "hello\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' text='see {5}' len=14 anoms=[]\n"
             "RESP off=14 kind=TAGGED st=- tag='hello' len=7 anoms=[IMAP_RESP_SYNTAX@19]\n"},
    {.name = "bare LF",
     TH_IN("* OK hi\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' text='hi' len=8 anoms=[BARE_LF@7]\n"},
    {.name = "unterminated",
     TH_IN("* OK hi"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' text='hi' len=7 anoms=[UNTERMINATED"
             "_LINE@7]\n"},
    {.name = "unknown untagged not an atom",
     TH_IN("* (x)\r\n"),
     .want = "RESP off=0 kind=INVALID st=- tag='*' len=7 anoms=[IMAP_RESP_UNKNOWN@2]\n"},
    {.name = "unknown untagged atom",
     TH_IN("* XFOO bar (baz)\r\n"
           "* 5 XBAR\r\n"),
     .want = "RESP off=0 kind=OTHER st=- tag='*' name='XFOO' text='bar (baz)' len=18 anoms=[]\n"
             "RESP off=18 kind=OTHER st=- tag='*' name='XBAR' num=5 len=10 anoms=[]\n"},
    {.name = "gap drops the line",
     TH_IN("* OK a\r\n"
           "* OK b\r\n"), .gap_at = 3, .gap = 2,
     .want = "RESP off=10 kind=STATE st=OK tag='*' name='OK' text='b' len=8 anoms=[]\n"},
};

static const struct icase code_cases[] = {
    {.name = "UNSEEN",
     TH_IN("* OK [UNSEEN 12] Message 12 is first unseen\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='UNSEEN' arg='12' text='Messag"
             "e 12 is first unseen' len=45 anoms=[]\n"},
    {.name = "UIDVALIDITY",
     TH_IN("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='UIDVALIDITY' arg='3857529045'"
             " text='UIDs valid' len=42 anoms=[]\n"},
    {.name = "UIDNEXT 0",
     TH_IN("* OK [UIDNEXT 0] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='UIDNEXT' arg='0' text='x' len"
             "=20 anoms=[IMAP_NUMBER@14]\n"},
    {.name = "UIDNEXT too big",
     TH_IN("* OK [UIDNEXT 4294967296] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='UIDNEXT' arg='4294967296' tex"
             "t='x' len=29 anoms=[IMAP_NUMBER@14]\n"},
    {.name = "UIDNEXT without number",
     TH_IN("* OK [UIDNEXT] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='UIDNEXT' text='x' len=18 anom"
             "s=[IMAP_CODE_ARG@13]\n"},
    {.name = "UIDNEXT empty argument",
     TH_IN("* OK [UIDNEXT ] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='UIDNEXT' text='[UIDNEXT ] x' "
             "len=19 anoms=[IMAP_CODE_SYNTAX@14]\n"},
    {.name = "PERMANENTFLAGS",
     TH_IN("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='PERMANENTFLAGS' arg='(\\\\Del"
             "eted \\\\Seen \\\\*)' text='Limited' len=51 anoms=[]\n"},
    {.name = "PERMANENTFLAGS empty",
     TH_IN("* OK [PERMANENTFLAGS ()] none\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='PERMANENTFLAGS' arg='()' text"
             "='none' len=31 anoms=[]\n"},
    {.name = "PERMANENTFLAGS bad",
     TH_IN("* OK [PERMANENTFLAGS (\\Deleted \\*x)] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='PERMANENTFLAGS' arg='(\\\\Del"
             "eted \\\\*x)' text='x' len=40 anoms=[IMAP_FLAG_SYNTAX@33]\n"},
    {.name = "PERMANENTFLAGS no list",
     TH_IN("* OK [PERMANENTFLAGS \\Seen] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='PERMANENTFLAGS' arg='\\\\Seen"
             "' text='x' len=31 anoms=[IMAP_FLAG_SYNTAX@21]\n"},
    {.name = "READ-WRITE",
     TH_IN("a002 OK [READ-WRITE] SELECT completed\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a002' name='OK' code='READ-WRITE' text='SELECT "
             "completed' len=39 anoms=[]\n"},
    {.name = "READ-ONLY with argument",
     TH_IN("a OK [READ-ONLY x] y\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a' name='OK' code='READ-ONLY' arg='x' text='y' "
             "len=22 anoms=[IMAP_CODE_ARG@15]\n"},
    {.name = "BADCHARSET",
     TH_IN("a NO [BADCHARSET (UTF-8 \"US-ASCII\")] x\r\n"
           "a NO [BADCHARSET] y\r\n"),
     .want = "RESP off=0 kind=TAGGED st=NO tag='a' name='NO' code='BADCHARSET' arg='(UTF-8 \"US"
             "-ASCII\")' text='x' len=40 anoms=[]\n"
             "RESP off=40 kind=TAGGED st=NO tag='a' name='NO' code='BADCHARSET' text='y' len=21"
             " anoms=[]\n"},
    {.name = "BADCHARSET empty list",
     TH_IN("a NO [BADCHARSET ()] x\r\n"),
     .want = "RESP off=0 kind=TAGGED st=NO tag='a' name='NO' code='BADCHARSET' arg='()' text='x"
             "' len=24 anoms=[IMAP_CODE_ARG@17]\n"},
    {.name = "CAPABILITY code",
     TH_IN("* OK [CAPABILITY IMAP4rev1 IDLE] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='CAPABILITY' arg='IMAP4rev1 ID"
             "LE' text='x' len=36 anoms=[]\n"},
    {.name = "CAPABILITY code without rev",
     TH_IN("* OK [CAPABILITY IDLE] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='CAPABILITY' arg='IDLE' text='"
             "x' len=26 anoms=[IMAP_CAPA_NO_REV@21]\n"},
    {.name = "RFC 5530",
     TH_IN("a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
           "b NO [overquota] Sorry\r\n"
           "c NO [NONEXISTENT] none\r\n"),
     .want = "RESP off=0 kind=TAGGED st=NO tag='a' name='NO' code='AUTHENTICATIONFAILED' text='"
             "Authentication failed' len=51 anoms=[]\n"
             "RESP off=51 kind=TAGGED st=NO tag='b' name='NO' code='overquota' text='Sorry' len"
             "=24 anoms=[]\n"
             "RESP off=75 kind=TAGGED st=NO tag='c' name='NO' code='NONEXISTENT' text='none' le"
             "n=25 anoms=[]\n"},
    {.name = "APPENDUID",
     TH_IN("a OK [APPENDUID 38505 3955] APPEND completed\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a' name='OK' code='APPENDUID' arg='38505 3955' "
             "text='APPEND completed' len=46 anoms=[]\n"},
    {.name = "COPYUID",
     TH_IN("a OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a' name='OK' code='COPYUID' arg='38505 304,319:"
             "320 3956:3958' text='Done' len=49 anoms=[]\n"},
    {.name = "COPYUID short",
     TH_IN("a OK [COPYUID 38505 304] x\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a' name='OK' code='COPYUID' arg='38505 304' tex"
             "t='x' len=28 anoms=[IMAP_CODE_ARG@23]\n"},
    {.name = "APPENDUID zero",
     TH_IN("a OK [APPENDUID 38505 0] x\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK tag='a' name='OK' code='APPENDUID' arg='38505 0' tex"
             "t='x' len=28 anoms=[IMAP_CODE_ARG@22]\n"},
    {.name = "unknown codes",
     TH_IN("* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"
           "* NO [X-FOO] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='HIGHESTMODSEQ' arg='715194045"
             "007' text='Highest' len=43 anoms=[]\n"
             "RESP off=43 kind=STATE st=NO tag='*' name='NO' code='X-FOO' text='x' len=16 anoms"
             "=[]\n"},
    {.name = "code without text",
     TH_IN("* OK [ALERT]\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='ALERT' len=14 anoms=[IMAP_TEX"
             "T_MISSING@12]\n"},
    {.name = "code glued to text",
     TH_IN("* OK [ALERT]x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='ALERT' text='[ALERT]x' len=15"
             " anoms=[IMAP_CODE_SYNTAX@12]\n"},
    {.name = "code not closed",
     TH_IN("* OK [ALERT x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='ALERT' text='[ALERT x' len=15"
             " anoms=[IMAP_CODE_SYNTAX@13]\n"},
    {.name = "empty code",
     TH_IN("* OK [] x\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' text='[] x' len=11 anoms=[IMAP_CODE"
             "_SYNTAX@6]\n"},
};

static const struct icase data_cases[] = {
    {.name = "CAPABILITY",
     TH_IN("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n"
           "* capability imap4rev2 IDLE\r\n"),
     .want = "RESP off=0 kind=CAPABILITY st=- tag='*' name='CAPABILITY' text='IMAP4rev1 STARTTL"
             "S AUTH=GSSAPI LOGINDISABLED' len=59 anoms=[]\n"
             "RESP off=59 kind=CAPABILITY st=- tag='*' name='capability' text='imap4rev2 IDLE' "
             "len=29 anoms=[]\n"},
    {.name = "CAPABILITY without rev",
     TH_IN("* CAPABILITY IDLE\r\n"),
     .want = "RESP off=0 kind=CAPABILITY st=- tag='*' name='CAPABILITY' text='IDLE' len=19 anom"
             "s=[IMAP_CAPA_NO_REV@17]\n"},
    {.name = "CAPABILITY double SP",
     TH_IN("* CAPABILITY IMAP4rev1  IDLE\r\n"),
     .want = "RESP off=0 kind=CAPABILITY st=- tag='*' name='CAPABILITY' text='IMAP4rev1  IDLE' "
             "len=30 anoms=[IMAP_SPACE@23]\n"},
    {.name = "CAPABILITY bad atom",
     TH_IN("* CAPABILITY IMAP4rev1 A(B\r\n"),
     .want = "RESP off=0 kind=CAPABILITY st=- tag='*' name='CAPABILITY' text='IMAP4rev1 A(B' le"
             "n=28 anoms=[IMAP_ATOM_CHAR@24]\n"},
    {.name = "ENABLED",
     TH_IN("* ENABLED CONDSTORE\r\n"
           "* ENABLED\r\n"),
     .want = "RESP off=0 kind=ENABLED st=- tag='*' name='ENABLED' text='CONDSTORE' len=21 anoms"
             "=[]\n"
             "RESP off=21 kind=ENABLED st=- tag='*' name='ENABLED' len=11 anoms=[]\n"},
    {.name = "FLAGS",
     TH_IN("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)\r\n"),
     .want = "RESP off=0 kind=FLAGS st=- tag='*' name='FLAGS' text='(\\\\Answered \\\\Flagged \\"
             "\\Deleted \\\\Seen \\\\Draf...' len=58 anoms=[]\n"},
    {.name = "FLAGS unclosed",
     TH_IN("* FLAGS (\\Seen\r\n"),
     .want = "RESP off=0 kind=FLAGS st=- tag='*' name='FLAGS' text='(\\\\Seen' len=16 anoms=[IM"
             "AP_FLAG_SYNTAX@14]\n"},
    {.name = "FLAGS missing",
     TH_IN("* FLAGS\r\n"),
     .want = "RESP off=0 kind=FLAGS st=- tag='*' name='FLAGS' len=9 anoms=[IMAP_SPACE@7]\n"},
    {.name = "SEARCH",
     TH_IN("* SEARCH 2 84 882\r\n"
           "* SEARCH\r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='2 84 882' len=19 anoms=[]"
             "\n"
             "RESP off=19 kind=SEARCH st=- tag='*' name='SEARCH' len=10 anoms=[]\n"},
    {.name = "SEARCH zero",
     TH_IN("* SEARCH 0\r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='0' len=12 anoms=[IMAP_NUM"
             "BER@9]\n"},
    {.name = "SEARCH atom",
     TH_IN("* SEARCH 2 x\r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='2 x' len=14 anoms=[IMAP_N"
             "UMBER@11]\n"},
    {.name = "SEARCH trailing SP",
     TH_IN("* SEARCH 2 \r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='2 ' len=13 anoms=[IMAP_NU"
             "MBER@11]\n"},
    {.name = "EXISTS RECENT EXPUNGE",
     TH_IN("* 23 EXISTS\r\n"
           "* 0 RECENT\r\n"
           "* 44 EXPUNGE\r\n"),
     .want = "RESP off=0 kind=EXISTS st=- tag='*' name='EXISTS' num=23 len=13 anoms=[]\n"
             "RESP off=13 kind=RECENT st=- tag='*' name='RECENT' num=0 len=12 anoms=[]\n"
             "RESP off=25 kind=EXPUNGE st=- tag='*' name='EXPUNGE' num=44 len=14 anoms=[]\n"},
    {.name = "EXPUNGE zero",
     TH_IN("* 0 EXPUNGE\r\n"),
     .want = "RESP off=0 kind=EXPUNGE st=- tag='*' name='EXPUNGE' num=0 len=13 anoms=[IMAP_NUMB"
             "ER@2]\n"},
    {.name = "EXISTS without number",
     TH_IN("* EXISTS\r\n"),
     .want = "RESP off=0 kind=EXISTS st=- tag='*' name='EXISTS' len=10 anoms=[IMAP_RESP_SYNTAX@"
             "2]\n"},
    {.name = "EXISTS with data",
     TH_IN("* 3 EXISTS x\r\n"),
     .want = "RESP off=0 kind=EXISTS st=- tag='*' name='EXISTS' text='x' num=3 len=14 anoms=[IM"
             "AP_DATA_SYNTAX@10]\n"},
    {.name = "EXISTS too big",
     TH_IN("* 4294967296 EXISTS\r\n"),
     .want = "RESP off=0 kind=INVALID st=- tag='*' len=21 anoms=[IMAP_NUMBER@2]\n"},
    {.name = "LIST LSUB",
     TH_IN("* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n"
           "* LIST () NIL INBOX\r\n"
           "* LSUB (\\Noselect) \".\" #news.comp.mail.misc\r\n"),
     .want = "RESP off=0 kind=LIST st=- tag='*' name='LIST' text='(\\\\Noselect) \"/\" ~/Mail/f"
             "oo' len=35 anoms=[]\n"
             "RESP off=35 kind=LIST st=- tag='*' name='LIST' text='() NIL INBOX' len=21 anoms=["
             "]\n"
             "RESP off=56 kind=LSUB st=- tag='*' name='LSUB' text='(\\\\Noselect) \".\" #news.c"
             "omp.mail.misc' len=45 anoms=[]\n"},
    {.name = "STATUS",
     TH_IN("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n"),
     .want = "RESP off=0 kind=STATUS st=- tag='*' name='STATUS' text='blurdybloop (MESSAGES 231"
             " UIDNEXT 44292)' len=51 anoms=[]\n"},
    {.name = "ID",
     TH_IN("* ID (\"name\" \"Cyrus\" \"version\" \"1.5\")\r\n"
           "* ID NIL\r\n"),
     .want = "RESP off=0 kind=ID st=- tag='*' name='ID' text='(\"name\" \"Cyrus\" \"version\" \""
             "1.5\")' len=39 anoms=[]\n"
             "RESP off=39 kind=ID st=- tag='*' name='ID' text='NIL' len=10 anoms=[]\n"},
    {.name = "NAMESPACE",
     TH_IN("* NAMESPACE ((\"\" \"/\")) NIL ((\"Other Users/\" \"/\"))\r\n"),
     .want = "RESP off=0 kind=NAMESPACE st=- tag='*' name='NAMESPACE' text='((\"\" \"/\")) NIL "
             "((\"Other Users/\" \"/\"))' len=51 anoms=[]\n"},
    {.name = "FETCH",
     TH_IN("* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZ"
           "E 4286 UID 7)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(FLAGS (\\\\Seen) INTERNALD"
             "ATE \"17-Jul-1996 02:...' num=12 len=93 anoms=[]\n"},
    {.name = "FETCH sections",
     TH_IN("* 1 FETCH (BODY[TEXT]<0> \"abc\" BODY[1.2.MIME] NIL BODY[] \"\")\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[TEXT]<0> \"abc\" BODY"
             "[1.2.MIME] NIL BODY[...' num=1 len=62 anoms=[]\n"},
    {.name = "FETCH HEADER.FIELDS",
     TH_IN("* 1 FETCH (BODY[HEADER.FIELDS (DATE FROM)] \"x\")\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[HEADER.FIELDS (DATE F"
             "ROM)] \"x\")' num=1 len=49 anoms=[]\n"},
    {.name = "FETCH bad month",
     TH_IN("* 1 FETCH (INTERNALDATE \"17-Jly-1996 02:44:25 -0700\")\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(INTERNALDATE \"17-Jly-1996"
             " 02:44:25 -0700\")' num=1 len=55 anoms=[IMAP_DATE_SYNTAX@28]\n"},
    {.name = "FETCH bad hour",
     TH_IN("* 1 FETCH (INTERNALDATE \" 7-Jul-1996 24:00:00 +0000\")\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(INTERNALDATE \" 7-Jul-1996"
             " 24:00:00 +0000\")' num=1 len=55 anoms=[IMAP_DATE_SYNTAX@37]\n"},
    {.name = "FETCH zone without sign",
     TH_IN("* 1 FETCH (INTERNALDATE \"17-Jul-1996 02:44:25 0700\")\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(INTERNALDATE \"17-Jul-1996"
             " 02:44:25 0700\")' num=1 len=54 anoms=[IMAP_DATE_SYNTAX@46]\n"},
    {.name = "FETCH date as atom",
     TH_IN("* 1 FETCH (INTERNALDATE 17-Jul-1996)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(INTERNALDATE 17-Jul-1996)'"
             " num=1 len=38 anoms=[IMAP_DATE_SYNTAX@24]\n"},
    {.name = "FETCH UID 0",
     TH_IN("* 1 FETCH (UID 0)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(UID 0)' num=1 len=19 anoms"
             "=[IMAP_NUMBER@15]\n"},
    {.name = "FETCH flag \\*",
     TH_IN("* 1 FETCH (FLAGS (\\Seen \\*))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(FLAGS (\\\\Seen \\\\*))' n"
             "um=1 len=30 anoms=[IMAP_FLAG_SYNTAX@24]\n"},
    {.name = "FETCH name without value",
     TH_IN("* 1 FETCH (UID)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(UID)' num=1 len=17 anoms=["
             "IMAP_DATA_SYNTAX@14]\n"},
    {.name = "FETCH on message 0",
     TH_IN("* 0 FETCH (UID 1)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(UID 1)' num=0 len=19 anoms"
             "=[IMAP_NUMBER@2]\n"},
    {.name = "BODYSTRUCTURE multipart",
     TH_IN("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL "
           "\"7BIT\" 1152 23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff"
           "\") \"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 455"
           "4 73) \"MIXED\"))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE ((\"TEXT\" \""
             "PLAIN\" (\"CHARSET\" \"U...' num=1 len=232 anoms=[]\n"},
    {.name = "list not closed",
     TH_IN("* 1 FETCH (UID 1\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(UID 1' num=1 len=18 anoms="
             "[IMAP_PAREN@16]\n"},
    {.name = "list closed twice",
     TH_IN("* 1 FETCH (UID 1))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(UID 1))' num=1 len=20 anom"
             "s=[IMAP_PAREN@17]\n"},
    {.name = "bracket closes paren",
     TH_IN("* 1 FETCH (BODY[TEXT) NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[TEXT) NIL)' num=1 len"
             "=28 anoms=[IMAP_PAREN@20]\n"},
    {.name = "bad escape",
     TH_IN("* ID (\"a\\x\" NIL)\r\n"),
     .want = "RESP off=0 kind=ID st=- tag='*' name='ID' text='(\"a\\\\x\" NIL)' len=18 anoms=[I"
             "MAP_QUOTED@9]\n"},
    {.name = "quoted not closed",
     TH_IN("* ID (\"abc)\r\n"),
     .want = "RESP off=0 kind=ID st=- tag='*' name='ID' text='(\"abc)' len=13 anoms=[IMAP_QUOTE"
             "D@11]\n"},
    {.name = "atom special",
     TH_IN("* ID (a%b NIL)\r\n"),
     .want = "RESP off=0 kind=ID st=- tag='*' name='ID' text='(a%b NIL)' len=16 anoms=[IMAP_ATO"
             "M_CHAR@7]\n"},
    {.name = "nesting at the limit",
     TH_IN("* XNEST (((((((((((((((((((((((((((((((())))))))))))))))))))))))))))))))\r\n"),
     .want = "RESP off=0 kind=OTHER st=- tag='*' name='XNEST' text='((((((((((((((((((((((((((("
             "((((()))))))))))))...' len=74 anoms=[]\n"},
    {.name = "nesting past the limit",
     TH_IN("* XNEST ((((((((((((((((((((((((((((((((()))))))))))))))))))))))))))))))))\r\n"),
     .want = "RESP off=0 kind=OTHER st=- tag='*' name='XNEST' text='((((((((((((((((((((((((((("
             "(((((())))))))))))...' len=76 anoms=[IMAP_NEST_TOO_DEEP@40]\n"},
    {.name = "glued items",
     TH_IN("* ID (\"a\"\"b\")\r\n"),
     .want = "RESP off=0 kind=ID st=- tag='*' name='ID' text='(\"a\"\"b\")' len=15 anoms=[IMAP_"
             "SPACE@9]\n"},
    {.name = "SEARCH with MODSEQ",
     TH_IN("* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='2 5 6 7 11 12 18 19 20 23"
             " (MODSEQ 917162500)' len=55 anoms=[]\n"},
    {.name = "SEARCH MODSEQ not last",
     TH_IN("* SEARCH 2 (MODSEQ 9) 3\r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='2 (MODSEQ 9) 3' len=25 an"
             "oms=[IMAP_DATA_SYNTAX@11]\n"},
    {.name = "SEARCH MODSEQ not a number",
     TH_IN("* SEARCH 2 (MODSEQ x)\r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='2 (MODSEQ x)' len=23 anom"
             "s=[IMAP_NUMBER@19]\n"},
};

static const struct icase literal_cases[] = {
    {.name = "literal",
     TH_IN("* 1 FETCH (BODY[] {5}\r\n"
           "hello)\r\n"),
     .want = "LIT off=23 size=5 data='hello'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=26 lits=1 anoms=[]\n"},
    {.name = "literal holding CRLF",
     TH_IN("* 1 FETCH (RFC822 {7}\r\n"
           "ab\r\n"
           "cd\n"
           " UID 3)\r\n"),
     .want = "LIT off=23 size=7 data='ab\\r\\ncd\\n'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=32 lits=1 anoms=[]\n"},
    {.name = "literal8",
     TH_IN("* 1 FETCH (BINARY[1] ~{3}\r\n"
           "a\r\n"
           ")\r\n"),
     .want = "LIT off=27 size=3 lit8 data='a\\r\\n'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=30 lits=1 anoms=[]\n"},
    {.name = "two literals, one empty",
     TH_IN("* 2 FETCH (BODY[HEADER] {3}\r\n"
           "ab\n"
           " BODY[TEXT] {0}\r\n"
           ")\r\n"),
     .want = "LIT off=29 size=3 data='ab\\n'\n"
             "LIT off=49 size=0 data=''\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=2 len=49 lits=2 anoms=[]\n"},
    {.name = "literal mailbox",
     TH_IN("* LIST () \"/\" {4}\r\n"
           "foo \r\n"),
     .want = "LIT off=19 size=4 data='foo '\n"
             "RESP off=0 kind=LIST st=- tag='*' name='LIST' len=21 lits=1 anoms=[]\n"},
    {.name = "literal in a section list",
     TH_IN("* 1 FETCH (BODY[HEADER.FIELDS ({4}\r\n"
           "DATE)] NIL)\r\n"),
     .want = "LIT off=36 size=4 data='DATE'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=45 lits=1 anoms=[]\n"},
    {.name = "literal then bad",
     TH_IN("* 1 FETCH (BODY[] {2}\r\n"
           "ab UID)\r\n"),
     .want = "LIT off=23 size=2 data='ab'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=30 lits=1 anoms=[IMAP_D"
             "ATA_SYNTAX@29]\n"},
    {.name = "literal glued",
     TH_IN("* 1 FETCH (BODY[]{2}\r\n"
           "ab)\r\n"),
     .want = "LIT off=22 size=2 data='ab'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=25 lits=1 anoms=[IMAP_S"
             "PACE@17]\n"},
    {.name = "count of 21 digits",
     TH_IN("* 1 FETCH (BODY[] {123456789012345678901}\r\n"
           ")\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[] {123456789012345678"
             "901}' num=1 len=43 anoms=[IMAP_LITERAL_COUNT@18]\n"
             "RESP off=43 kind=TAGGED st=- tag=')' len=3 anoms=[IMAP_TAG_SYNTAX@43,IMAP_RESP_SY"
             "NTAX@44]\n"},
    {.name = "count over number64",
     TH_IN("* 1 FETCH (BODY[] {18446744073709551615}\r\n"
           "* 1 EXISTS\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[] {184467440737095516"
             "15}' num=1 len=42 anoms=[IMAP_LITERAL_COUNT@18]\n"
             "RESP off=42 kind=EXISTS st=- tag='*' name='EXISTS' num=1 len=12 anoms=[]\n"},
    {.name = "huge count streams",
     TH_IN("* 1 FETCH (BODY[] {4294967295}\r\n"
           "abc"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=32 lits=1 anoms=[IMAP_L"
             "ITERAL_UNTERMINATED@35]\n"},
    {.name = "literal cut by EOF",
     TH_IN("* 1 FETCH (BODY[] {5}\r\n"
           "ab"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=23 lits=1 anoms=[IMAP_L"
             "ITERAL_UNTERMINATED@25]\n"},
    {.name = "header cut by EOF",
     TH_IN("* 1 FETCH (BODY[] {5}"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[] {5}' num=1 len=21 a"
             "noms=[UNTERMINATED_LINE@21,IMAP_LITERAL_UNTERMINATED@21]\n"},
    {.name = "line never resumes",
     TH_IN("* 1 FETCH (BODY[] {2}\r\n"
           "ab"),
     .want = "LIT off=23 size=2 data='ab'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=23 lits=1 anoms=[IMAP_R"
             "ESP_UNTERMINATED@25]\n"},
    {.name = "gap inside a literal",
     TH_IN("* 1 FETCH (BODY[] {5}\r\n"
           "hel)\r\n"), .gap_at = 25, .gap = 2,
     .want = "LIT off=23 size=5 data='hel'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=26 lits=1 anoms=[]\n"},
    {.name = "gap across a literal's end",
     TH_IN("* 1 FETCH (BODY[] {3}\r\n"
           "ab)\r\n"
           "* 2 EXISTS\r\n"), .gap_at = 25, .gap = 4,
     .want = "RESP off=32 kind=EXISTS st=- tag='*' name='EXISTS' num=2 len=12 anoms=[]\n"},
    {.name = "literal8 outside BINARY",
     TH_IN("* 1 FETCH (BODY[] ~{2}\r\n"
           "ab)\r\n"),
     .want = "LIT off=24 size=2 lit8 data='ab'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=27 lits=1 anoms=[IMAP_D"
             "ATA_SYNTAX@18]\n"},
};

/* The server side of the RFC sample sessions verbatim (RFC 3501 s8, RFC 9051
 * s8), the lines the RFCs break "for editorial clarity" joined again. They
 * give no anomaly. The last case holds RFC 9051 example lines that break
 * its own grammar, each flagged: UIDVALIDITY 9877410381 exceeds the 32-bit
 * nz-number (s7.1); BADCHARSET's charsets need parentheses (s9); the LIST
 * example has two SPs before "INBOX" (s7.3.1); a response code with no
 * text after it lacks the SP that resp-text requires (s9). */
static const struct icase rfc_cases[] = {
    {.name = "RFC 3501 s8 sample session",
     TH_IN("* OK IMAP4rev1 Service Ready\r\n"
           "a001 OK LOGIN completed\r\n"
           "* 18 EXISTS\r\n"
           "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
           "* 2 RECENT\r\n"
           "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"
           "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
           "a002 OK [READ-WRITE] SELECT completed\r\n"
           "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZ"
           "E 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg sum"
           "mary and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Ter"
           "ry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"c"
           "ac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"min"
           "utes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL "
           "NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\""
           " \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n"
           "a003 OK FETCH completed\r\n"
           "* 12 FETCH (BODY[HEADER] {342}\r\n"
           "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
           "From: Terry Gray <gray@cac.washington.edu>\r\n"
           "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
           "To: imap@cac.washington.edu\r\n"
           "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
           "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
           "\r\n"
           ")\r\n"
           "a004 OK FETCH completed\r\n"
           "* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"
           "a005 OK +FLAGS completed\r\n"
           "* BYE IMAP4rev1 server terminating connection\r\n"
           "a006 OK LOGOUT completed\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' text='IMAP4rev1 Service Ready' len="
             "30 anoms=[]\n"
             "RESP off=30 kind=TAGGED st=OK tag='a001' name='OK' text='LOGIN completed' len=25 "
             "anoms=[]\n"
             "RESP off=55 kind=EXISTS st=- tag='*' name='EXISTS' num=18 len=13 anoms=[]\n"
             "RESP off=68 kind=FLAGS st=- tag='*' name='FLAGS' text='(\\\\Answered \\\\Flagged "
             "\\\\Deleted \\\\Seen \\\\Draft)' len=52 anoms=[]\n"
             "RESP off=120 kind=RECENT st=- tag='*' name='RECENT' num=2 len=12 anoms=[]\n"
             "RESP off=132 kind=STATE st=OK tag='*' name='OK' code='UNSEEN' arg='17' text='Mess"
             "age 17 is the first unseen message' len=57 anoms=[]\n"
             "RESP off=189 kind=STATE st=OK tag='*' name='OK' code='UIDVALIDITY' arg='385752904"
             "5' text='UIDs valid' len=42 anoms=[]\n"
             "RESP off=231 kind=TAGGED st=OK tag='a002' name='OK' code='READ-WRITE' text='SELEC"
             "T completed' len=39 anoms=[]\n"
             "RESP off=270 kind=FETCH st=- tag='*' name='FETCH' text='(FLAGS (\\\\Seen) INTERNA"
             "LDATE \"17-Jul-1996 02:...' num=12 len=560 anoms=[]\n"
             "RESP off=830 kind=TAGGED st=OK tag='a003' name='OK' text='FETCH completed' len=25"
             " anoms=[]\n"
             "LIT off=887 size=342 data='Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\\r...'\n"
             "RESP off=855 kind=FETCH st=- tag='*' name='FETCH' num=12 len=35 lits=1 anoms=[]\n"
             "RESP off=1232 kind=TAGGED st=OK tag='a004' name='OK' text='FETCH completed' len=2"
             "5 anoms=[]\n"
             "RESP off=1257 kind=FETCH st=- tag='*' name='FETCH' text='(FLAGS (\\\\Seen \\\\Del"
             "eted))' num=12 len=37 anoms=[]\n"
             "RESP off=1294 kind=TAGGED st=OK tag='a005' name='OK' text='+FLAGS completed' len="
             "26 anoms=[]\n"
             "RESP off=1320 kind=BYE st=BYE tag='*' name='BYE' text='IMAP4rev1 server terminati"
             "ng connection' len=47 anoms=[]\n"
             "RESP off=1367 kind=TAGGED st=OK tag='a006' name='OK' text='LOGOUT completed' len="
             "26 anoms=[]\n"},
    {.name = "RFC 9051 s8 sample session",
     TH_IN("* OK [CAPABILITY STARTTLS AUTH=SCRAM-SHA-256 LOGINDISABLED IMAP4rev2] IMAP4rev2 S"
           "ervice Ready\r\n"
           "a000 OK Proceed with TLS negotiation\r\n"
           "+ cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlp"
           "hSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n"
           "+ dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==\r\n"
           "A001 OK SCRAM-SHA-256 authentication successful\r\n"
           "* ENABLED IMAP4rev2\r\n"
           "babc OK Some capabilities enabled\r\n"
           "* 18 EXISTS\r\n"
           "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
           "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
           "* LIST () \"/\" INBOX (\"OLDNAME\" (\"inbox\"))\r\n"
           "a002 OK [READ-WRITE] SELECT completed\r\n"
           "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZ"
           "E 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev2 WG mtg sum"
           "mary and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Ter"
           "ry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"c"
           "ac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"min"
           "utes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL "
           "NIL \"<B27397-0100000@cac.washington.ed>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\""
           " \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n"
           "a003 OK FETCH completed\r\n"
           "* 12 FETCH (BODY[HEADER] {342}\r\n"
           "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
           "From: Terry Gray <gray@cac.washington.edu>\r\n"
           "Subject: IMAP4rev2 WG mtg summary and minutes\r\n"
           "To: imap@cac.washington.edu\r\n"
           "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
           "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
           "\r\n"
           ")\r\n"
           "a004 OK FETCH completed\r\n"
           "* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"
           "a005 OK +FLAGS completed\r\n"
           "* BYE IMAP4rev2 server terminating connection\r\n"
           "a006 OK LOGOUT completed\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='CAPABILITY' arg='STARTTLS AUT"
             "H=SCRAM-SHA-256 LOGINDISABLED IMA...' text='IMAP4rev2 Service Ready' len=95 anoms"
             "=[]\n"
             "RESP off=95 kind=TAGGED st=OK tag='a000' name='OK' text='Proceed with TLS negotia"
             "tion' len=38 anoms=[]\n"
             "RESP off=133 kind=CONT st=- tag='+' text='cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFd"
             "VYTJSY...' len=120 anoms=[]\n"
             "RESP off=253 kind=CONT st=- tag='+' text='dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4"
             "vZEI1b...' len=68 anoms=[]\n"
             "RESP off=321 kind=TAGGED st=OK tag='A001' name='OK' text='SCRAM-SHA-256 authentic"
             "ation successful' len=49 anoms=[]\n"
             "RESP off=370 kind=ENABLED st=- tag='*' name='ENABLED' text='IMAP4rev2' len=21 ano"
             "ms=[]\n"
             "RESP off=391 kind=TAGGED st=OK tag='babc' name='OK' text='Some capabilities enabl"
             "ed' len=35 anoms=[]\n"
             "RESP off=426 kind=EXISTS st=- tag='*' name='EXISTS' num=18 len=13 anoms=[]\n"
             "RESP off=439 kind=FLAGS st=- tag='*' name='FLAGS' text='(\\\\Answered \\\\Flagged"
             " \\\\Deleted \\\\Seen \\\\Draft)' len=52 anoms=[]\n"
             "RESP off=491 kind=STATE st=OK tag='*' name='OK' code='UIDVALIDITY' arg='385752904"
             "5' text='UIDs valid' len=42 anoms=[]\n"
             "RESP off=533 kind=LIST st=- tag='*' name='LIST' text='() \"/\" INBOX (\"OLDNAME\""
             " (\"inbox\"))' len=43 anoms=[]\n"
             "RESP off=576 kind=TAGGED st=OK tag='a002' name='OK' code='READ-WRITE' text='SELEC"
             "T completed' len=39 anoms=[]\n"
             "RESP off=615 kind=FETCH st=- tag='*' name='FETCH' text='(FLAGS (\\\\Seen) INTERNA"
             "LDATE \"17-Jul-1996 02:...' num=12 len=559 anoms=[]\n"
             "RESP off=1174 kind=TAGGED st=OK tag='a003' name='OK' text='FETCH completed' len=2"
             "5 anoms=[]\n"
             "LIT off=1231 size=342 data='Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\\r...'\n"
             "RESP off=1199 kind=FETCH st=- tag='*' name='FETCH' num=12 len=35 lits=1 anoms=[]\n"
             "RESP off=1576 kind=TAGGED st=OK tag='a004' name='OK' text='FETCH completed' len=2"
             "5 anoms=[]\n"
             "RESP off=1601 kind=FETCH st=- tag='*' name='FETCH' text='(FLAGS (\\\\Seen \\\\Del"
             "eted))' num=12 len=37 anoms=[]\n"
             "RESP off=1638 kind=TAGGED st=OK tag='a005' name='OK' text='+FLAGS completed' len="
             "26 anoms=[]\n"
             "RESP off=1664 kind=BYE st=BYE tag='*' name='BYE' text='IMAP4rev2 server terminati"
             "ng connection' len=47 anoms=[]\n"
             "RESP off=1711 kind=TAGGED st=OK tag='a006' name='OK' text='LOGOUT completed' len="
             "26 anoms=[]\n"},
    {.name = "RFC 9051 examples that break its grammar",
     TH_IN("* OK [UIDVALIDITY 9877410381] UIDs valid\r\n"
           "B283 NO [BADCHARSET UTF-8] KOI8-R is not supported\r\n"
           "* LIST () \".\"  \"INBOX\"\r\n"
           "* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI]\r\n"),
     .want = "RESP off=0 kind=STATE st=OK tag='*' name='OK' code='UIDVALIDITY' arg='9877410381'"
             " text='UIDs valid' len=42 anoms=[IMAP_NUMBER@18]\n"
             "RESP off=42 kind=TAGGED st=NO tag='B283' name='NO' code='BADCHARSET' arg='UTF-8' "
             "text='KOI8-R is not supported' len=52 anoms=[IMAP_CODE_ARG@62]\n"
             "RESP off=94 kind=LIST st=- tag='*' name='LIST' text='() \".\"  \"INBOX\"' len=24 "
             "anoms=[IMAP_SPACE@108]\n"
             "RESP off=118 kind=STATE st=OK tag='*' name='OK' code='CAPABILITY' arg='IMAP4rev2 "
             "STARTTLS AUTH=GSSAPI' len=50 anoms=[IMAP_TEXT_MISSING@166]\n"},
};

static const struct icase schema_cases[] = {
    {.name = "ENVELOPE with 9 fields",
     TH_IN("* 1 FETCH (ENVELOPE (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(ENVELOPE (NIL \"s\" NIL NI"
             "L NIL NIL NIL NIL NIL))' num=1 len=60 anoms=[IMAP_DATA_SYNTAX@56]\n"},
    {.name = "ENVELOPE address of 3",
     TH_IN("* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\")) NIL NIL NIL NIL NIL NIL NIL))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(ENVELOPE (NIL NIL ((NIL NI"
             "L \"a\")) NIL NIL NI...' num=1 len=76 anoms=[IMAP_DATA_SYNTAX@42]\n"},
    {.name = "ENVELOPE empty address list",
     TH_IN("* 1 FETCH (ENVELOPE (NIL NIL () NIL NIL NIL NIL NIL NIL NIL))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(ENVELOPE (NIL NIL () NIL N"
             "IL NIL NIL NIL NIL...' num=1 len=63 anoms=[IMAP_DATA_SYNTAX@30]\n"},
    {.name = "ENVELOPE number as subject",
     TH_IN("* 1 FETCH (ENVELOPE (NIL 5 NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(ENVELOPE (NIL 5 NIL NIL NI"
             "L NIL NIL NIL NIL ...' num=1 len=62 anoms=[IMAP_DATA_SYNTAX@25]\n"},
    {.name = "ENVELOPE as atom",
     TH_IN("* 1 FETCH (ENVELOPE NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(ENVELOPE NIL)' num=1 len=2"
             "6 anoms=[IMAP_DATA_SYNTAX@20]\n"},
    {.name = "BODY message/rfc822",
     TH_IN("* 1 FETCH (BODY (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 342 (NIL NIL NIL NIL"
           " NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) 12))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY (\"MESSAGE\" \"RFC822"
             "\" NIL NIL NIL \"7BIT\" ...' num=1 len=148 anoms=[]\n"},
    {.name = "BODY text without lines",
     TH_IN("* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY (\"TEXT\" \"PLAIN\" N"
             "IL NIL NIL \"7BIT\" 10))' num=1 len=57 anoms=[IMAP_DATA_SYNTAX@53]\n"},
    {.name = "BODY basic with extensions",
     TH_IN("* 1 FETCH (BODYSTRUCTURE (\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") NIL NIL \""
           "BASE64\" 4554 NIL (\"ATTACHMENT\" (\"FILENAME\" \"a.pdf\")) NIL NIL))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (\"APPLICATI"
             "ON\" \"PDF\" (\"NAME\" \"...' num=1 len=136 anoms=[]\n"},
    {.name = "BODY size not a number",
     TH_IN("* 1 FETCH (BODY (\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" \"12\"))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY (\"IMAGE\" \"GIF\" NI"
             "L NIL NIL \"BASE64\" \"12\"))' num=1 len=60 anoms=[IMAP_DATA_SYNTAX@52]\n"},
    {.name = "BODY odd params",
     TH_IN("* 1 FETCH (BODY (\"IMAGE\" \"GIF\" (\"NAME\") NIL NIL \"BASE64\" 12))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY (\"IMAGE\" \"GIF\" (\""
             "NAME\") NIL NIL \"BASE64...' num=1 len=63 anoms=[IMAP_DATA_SYNTAX@38]\n"},
    {.name = "BODY multipart without subtype",
     TH_IN("* 1 FETCH (BODY ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY ((\"TEXT\" \"PLAIN\" "
             "NIL NIL NIL \"7BIT\" 1 1)))' num=1 len=60 anoms=[IMAP_DATA_SYNTAX@56]\n"},
    {.name = "BODY multipart with extensions",
     TH_IN("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)(\"TEXT\" "
           "\"HTML\" NIL NIL NIL \"7BIT\" 1 1) \"ALTERNATIVE\" (\"BOUNDARY\" \"x\") NIL NIL N"
           "IL))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE ((\"TEXT\" \""
             "PLAIN\" NIL NIL NIL \"...' num=1 len=150 anoms=[]\n"},
    {.name = "BODY type as literal",
     TH_IN("* 1 FETCH (BODY ({4}\r\n"
           "TEXT \"PLAIN\" NIL NIL NIL \"7BIT\" 1))\r\n"),
     .want = "LIT off=22 size=4 data='TEXT'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=55 lits=1 anoms=[]\n"},
    {.name = "BINARY",
     TH_IN("* 1 FETCH (BINARY[1] ~{2}\r\n"
           "\x00\x01 BINARY.SIZE[1] 2 BINARY[2] NIL)\r\n"),
     .want = "LIT off=27 size=2 lit8 data='\\x00\\x01'\n"
             "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=61 lits=1 anoms=[]\n"},
    {.name = "BINARY.SIZE not a number",
     TH_IN("* 1 FETCH (BINARY.SIZE[1] NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BINARY.SIZE[1] NIL)' num=1"
             " len=32 anoms=[IMAP_NUMBER@26]\n"},
    {.name = "FETCH empty",
     TH_IN("* 1 FETCH ()\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='()' num=1 len=14 anoms=[IMA"
             "P_DATA_SYNTAX@11]\n"},
    {.name = "FETCH two lists",
     TH_IN("* 1 FETCH (UID 1) (UID 2)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(UID 1) (UID 2)' num=1 len="
             "27 anoms=[IMAP_DATA_SYNTAX@18]\n"},
    {.name = "FETCH unknown att",
     TH_IN("* 1 FETCH (X-GM-MSGID 123 MODSEQ (12345) UID 9)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(X-GM-MSGID 123 MODSEQ (123"
             "45) UID 9)' num=1 len=49 anoms=[]\n"},
    {.name = "LIST delimiter too long",
     TH_IN("* LIST () \"ab\" INBOX\r\n"),
     .want = "RESP off=0 kind=LIST st=- tag='*' name='LIST' text='() \"ab\" INBOX' len=22 anoms"
             "=[IMAP_DATA_SYNTAX@10]\n"},
    {.name = "LIST escaped delimiter",
     TH_IN("* LIST (\\HasNoChildren) \"\\\\\" INBOX\r\n"),
     .want = "RESP off=0 kind=LIST st=- tag='*' name='LIST' text='(\\\\HasNoChildren) \"\\\\\\\\"
             "\" INBOX' len=36 anoms=[]\n"},
    {.name = "LIST without mailbox",
     TH_IN("* LIST () \"/\"\r\n"),
     .want = "RESP off=0 kind=LIST st=- tag='*' name='LIST' text='() \"/\"' len=15 anoms=[IMAP_"
             "DATA_SYNTAX@13]\n"},
    {.name = "LIST flag without backslash",
     TH_IN("* LIST (Noselect) \"/\" foo\r\n"),
     .want = "RESP off=0 kind=LIST st=- tag='*' name='LIST' text='(Noselect) \"/\" foo' len=27 "
             "anoms=[IMAP_FLAG_SYNTAX@8]\n"},
    {.name = "LIST extended",
     TH_IN("* LIST (\\Subscribed) \"/\" foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"),
     .want = "RESP off=0 kind=LIST st=- tag='*' name='LIST' text='(\\\\Subscribed) \"/\" foo (\""
             "CHILDINFO\" (\"SUBSCRI...' len=59 anoms=[]\n"},
    {.name = "STATUS bad count",
     TH_IN("* STATUS INBOX (MESSAGES x)\r\n"),
     .want = "RESP off=0 kind=STATUS st=- tag='*' name='STATUS' text='INBOX (MESSAGES x)' len=2"
             "9 anoms=[IMAP_NUMBER@25]\n"},
    {.name = "STATUS odd list",
     TH_IN("* STATUS INBOX (MESSAGES)\r\n"),
     .want = "RESP off=0 kind=STATUS st=- tag='*' name='STATUS' text='INBOX (MESSAGES)' len=27 "
             "anoms=[IMAP_DATA_SYNTAX@24]\n"},
    {.name = "STATUS literal mailbox",
     TH_IN("* STATUS {5}\r\n"
           "INBOX (UIDNEXT 4 SIZE 12345678901)\r\n"),
     .want = "LIT off=14 size=5 data='INBOX'\n"
             "RESP off=0 kind=STATUS st=- tag='*' name='STATUS' len=45 lits=1 anoms=[]\n"},
    {.name = "STATUS counts are 32-bit, SIZE and HIGHESTMODSEQ 63-bit",
     TH_IN("* STATUS INBOX (MESSAGES 4294967295 SIZE 9223372036854775807 "
           "HIGHESTMODSEQ 9223372036854775807)\r\n"
           "* STATUS INBOX (MESSAGES 4294967296)\r\n"
           "* STATUS INBOX (HIGHESTMODSEQ 9223372036854775808)\r\n"),
     .want = "RESP off=0 kind=STATUS st=- tag='*' name='STATUS' text='INBOX (MESSAGES 4294967295 "
             "SIZE 9223372036854...' len=97 anoms=[]\n"
             "RESP off=97 kind=STATUS st=- tag='*' name='STATUS' text='INBOX (MESSAGES 4294967296)"
             "' len=38 anoms=[IMAP_NUMBER@122]\n"
             "RESP off=135 kind=STATUS st=- tag='*' name='STATUS' text='INBOX (HIGHESTMODSEQ 92233"
             "72036854775808)' len=52 anoms=[IMAP_NUMBER@165]\n"},
    {.name = "SEARCH MODSEQ above 63 bits",
     TH_IN("* SEARCH 2 5 (MODSEQ 9223372036854775808)\r\n"),
     .want = "RESP off=0 kind=SEARCH st=- tag='*' name='SEARCH' text='2 5 (MODSEQ 922337203685477"
             "5808)' len=43 anoms=[IMAP_NUMBER@21]\n"},
    {.name = "empty tag",
     TH_IN(" OK done\r\n"),
     .want = "RESP off=0 kind=TAGGED st=OK name='OK' text='done' len=10 anoms=[IMAP_TAG_SYNTAX@0]\n"},
    {.name = "STATUS without list",
     TH_IN("* STATUS INBOX\r\n"),
     .want = "RESP off=0 kind=STATUS st=- tag='*' name='STATUS' text='INBOX' len=16 anoms=[IMAP"
             "_DATA_SYNTAX@14]\n"},
    {.name = "deep BODYSTRUCTURE past the limit",
     TH_IN("* 1 FETCH (BODYSTRUCTURE ((((((((((((((((((((((((((((((((\"TEXT\" \"PLAIN\" NIL N"
           "IL NIL \"7BIT\" 1 1) \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIX"
           "ED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\""
           ") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \""
           "MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXE"
           "D\") \"MIXED\") \"MIXED\") \"MIXED\"))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (((((((((((("
             "((((((((((((((((((...' num=1 len=377 anoms=[IMAP_NEST_TOO_DEEP@56]\n"},
    {.name = "deep BODYSTRUCTURE at the limit",
     TH_IN("* 1 FETCH (BODYSTRUCTURE (((((((((((((((((((((((((((((((\"TEXT\" \"PLAIN\" NIL NI"
           "L NIL \"7BIT\" 1 1) \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXE"
           "D\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\")"
           " \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"M"
           "IXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED\") \"MIXED"
           "\") \"MIXED\") \"MIXED\"))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (((((((((((("
             "((((((((((((((((((...' num=1 len=367 anoms=[]\n"},
    {.name = "sections",
     TH_IN("* 1 FETCH (BODY[1.2.MIME] NIL BODY[HEADER.FIELDS.NOT (Subject \"To\")] NIL BODY[3"
           ".HEADER] NIL BINARY[] NIL BINARY[1.1] NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[1.2.MIME] NIL BODY[HE"
             "ADER.FIELDS.NOT (S...' num=1 len=123 anoms=[]\n"},
    {.name = "section part 0",
     TH_IN("* 1 FETCH (BODY[0] NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[0] NIL)' num=1 len=25"
             " anoms=[IMAP_DATA_SYNTAX@16]\n"},
    {.name = "section unknown text",
     TH_IN("* 1 FETCH (BODY[1.FOO] NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[1.FOO] NIL)' num=1 le"
             "n=29 anoms=[IMAP_DATA_SYNTAX@18]\n"},
    {.name = "section MIME without part",
     TH_IN("* 1 FETCH (BODY[MIME] NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[MIME] NIL)' num=1 len"
             "=28 anoms=[IMAP_DATA_SYNTAX@16]\n"},
    {.name = "section HEADER.FIELDS without list",
     TH_IN("* 1 FETCH (BODY[HEADER.FIELDS] NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODY[HEADER.FIELDS] NIL)' "
             "num=1 len=37 anoms=[IMAP_DATA_SYNTAX@29]\n"},
    {.name = "section BINARY TEXT",
     TH_IN("* 1 FETCH (BINARY[TEXT] NIL)\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BINARY[TEXT] NIL)' num=1 l"
             "en=30 anoms=[IMAP_DATA_SYNTAX@18]\n"},
    {.name = "NAMESPACE two",
     TH_IN("* NAMESPACE NIL NIL\r\n"),
     .want = "RESP off=0 kind=NAMESPACE st=- tag='*' name='NAMESPACE' text='NIL NIL' len=21 ano"
             "ms=[IMAP_DATA_SYNTAX@19]\n"},
    {.name = "NAMESPACE long delimiter",
     TH_IN("* NAMESPACE ((\"\" \"ab\")) NIL NIL\r\n"),
     .want = "RESP off=0 kind=NAMESPACE st=- tag='*' name='NAMESPACE' text='((\"\" \"ab\")) NIL"
             " NIL' len=33 anoms=[IMAP_DATA_SYNTAX@17]\n"},
    {.name = "NAMESPACE with extension",
     TH_IN("* NAMESPACE ((\"\" \"/\" \"X-PARAM\" (\"a\"))) NIL NIL\r\n"),
     .want = "RESP off=0 kind=NAMESPACE st=- tag='*' name='NAMESPACE' text='((\"\" \"/\" \"X-PA"
             "RAM\" (\"a\"))) NIL NIL' len=48 anoms=[]\n"},
    {.name = "ID odd",
     TH_IN("* ID (\"name\")\r\n"),
     .want = "RESP off=0 kind=ID st=- tag='*' name='ID' text='(\"name\")' len=15 anoms=[IMAP_DA"
             "TA_SYNTAX@12]\n"},
    {.name = "ID atom key",
     TH_IN("* ID (name \"x\")\r\n"),
     .want = "RESP off=0 kind=ID st=- tag='*' name='ID' text='(name \"x\")' len=17 anoms=[IMAP_"
             "DATA_SYNTAX@6]\n"},
    {.name = "BODY 1part full extension data",
     TH_IN("* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QU"
           "OTED-PRINTABLE\" 120 4 \"Aladdin==\" (\"INLINE\" NIL) (\"EN\" \"DE\") \"http://x/"
           "\" 7 (\"X\")))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (\"TEXT\" \""
             "PLAIN\" (\"CHARSET\" \"UT...' num=1 len=156 anoms=[]\n"},
    {.name = "BODY md5 as number",
     TH_IN("* 1 FETCH (BODYSTRUCTURE (\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 12 5))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (\"IMAGE\" \""
             "PNG\" NIL NIL NIL \"BA...' num=1 len=69 anoms=[IMAP_DATA_SYNTAX@64]\n"},
    {.name = "BODY disposition as string",
     TH_IN("* 1 FETCH (BODYSTRUCTURE (\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 12 NIL \"INLIN"
           "E\"))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (\"IMAGE\" \""
             "PNG\" NIL NIL NIL \"BA...' num=1 len=80 anoms=[IMAP_DATA_SYNTAX@68]\n"},
    {.name = "BODY disposition of 1",
     TH_IN("* 1 FETCH (BODYSTRUCTURE (\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 12 NIL (\"INLI"
           "NE\")))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (\"IMAGE\" \""
             "PNG\" NIL NIL NIL \"BA...' num=1 len=82 anoms=[IMAP_DATA_SYNTAX@77]\n"},
    {.name = "BODY language list with NIL",
     TH_IN("* 1 FETCH (BODYSTRUCTURE (\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 12 NIL NIL (\""
           "EN\" NIL)))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE (\"IMAGE\" \""
             "PNG\" NIL NIL NIL \"BA...' num=1 len=86 anoms=[IMAP_DATA_SYNTAX@78]\n"},
    {.name = "BODY multipart odd params",
     TH_IN("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1) \"MIXED\""
           " (\"BOUNDARY\")))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE ((\"TEXT\" \""
             "PLAIN\" NIL NIL NIL \"...' num=1 len=90 anoms=[IMAP_DATA_SYNTAX@85]\n"},
    {.name = "BODY multipart location as list",
     TH_IN("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1) \"MIXED\""
           " NIL NIL NIL (\"x\")))\r\n"),
     .want = "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' text='(BODYSTRUCTURE ((\"TEXT\" \""
             "PLAIN\" NIL NIL NIL \"...' num=1 len=95 anoms=[IMAP_DATA_SYNTAX@86]\n"},
};
static void test_status(void **state)
{
    (void)state;
    run_cases(status_cases, TH_COUNT(status_cases));
}

static void test_codes(void **state)
{
    (void)state;
    run_cases(code_cases, TH_COUNT(code_cases));
}

static void test_data(void **state)
{
    (void)state;
    run_cases(data_cases, TH_COUNT(data_cases));
}

static void test_schemas(void **state)
{
    (void)state;
    run_cases(schema_cases, TH_COUNT(schema_cases));
}

static void test_literals(void **state)
{
    (void)state;
    run_cases(literal_cases, TH_COUNT(literal_cases));
}

static void test_rfc(void **state)
{
    (void)state;
    run_cases(rfc_cases, TH_COUNT(rfc_cases));
}

/* A line of 9000 octets: LINE_TOO_LONG at octet 8192, prefix kept. */
static void test_long_line(void **state)
{
    static uint8_t in[10000];
    static struct ictx c;
    static struct th_log got;
    char want[512];
    size_t n = th_build(in, sizeof(in), "* OK ", 'x', 9000, "\r\n");
    (void)state;
    th_run_modes(&imap_target, &c, in, n, &got);
    snprintf(want, sizeof(want),
             "RESP off=0 kind=STATE st=OK tag='*' name='OK' text='%s' len=9007"
             " anoms=[IMAP_LINE_TOO_LONG@8192]\n",
             th_shown('x', MC_LINE_KEEP - 5));
    assert_true(th_expect_log("long line", want, &got));
}

/* A literal header after the kept prefix of a long segment is still seen
 * (the tail ring), and the announced octets stream through. */
static void test_literal_after_long_segment(void **state)
{
    static uint8_t in[5000];
    static struct ictx c;
    static struct th_log got;
    size_t n = th_build(in, sizeof(in), "* 1 FETCH (X-LONG ", 'y', 3000, " BODY[] {3}\r\nabc)\r\n");
    (void)state;
    th_run_modes(&imap_target, &c, in, n, &got);
    assert_true(th_expect_log("literal after long segment",
                              "LIT off=3031 size=3 data='abc'\n"
                              "RESP off=0 kind=FETCH st=- tag='*' name='FETCH' num=1 len=3034"
                              " lits=1 anoms=[]\n",
                              &got));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_rfc),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_literal_after_long_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
