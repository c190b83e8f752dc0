/*
 * mc_line: line splitting, terminators, bare CR/LF, NUL, limits, truncation,
 * end of stream and gaps. Every table case runs in the three feeding modes
 * on guard-page input (test_harness.h).
 *
 * Log line per event:
 *   LINE off=<start> len=<total> term=CRLF|LF|EOF '<kept, escaped>' [kept=N] anoms=[...]
 */
#include "test_harness.h"

#include <stdlib.h>

#include "common/mc_line.h"

struct lctx {
    struct mc_line l;
    size_t limit;
    uint64_t pos;   /* stream offset of the next octet, gaps included */
};

static void line_log(struct th_log *log, const struct mc_line *l)
{
    static const char *const term[] = {"CRLF", "LF", "EOF"};
    th_logf(log, "LINE off=%llu len=%llu term=%s ", (unsigned long long)l->start,
            (unsigned long long)l->total, term[l->term]);
    th_log_bytes(log, l->buf, l->kept);
    if (l->kept != l->total)
        th_logf(log, " kept=%zu", l->kept);
    th_log_anoms(log, &l->anoms);
    th_logf(log, "\n");
}

static void l_start(void *vc)
{
    struct lctx *c = vc;
    mc_line_init(&c->l, c->limit);
    c->pos = 0;
}

static void l_feed(void *vc, struct th_log *log, const uint8_t *p, size_t n)
{
    struct lctx *c = vc;
    size_t off = 0;
    for (;;) {
        size_t used = (size_t)-1;
        int r = mc_line_feed(&c->l, p + off, n - off, &used);
        assert_true(used <= n - off);
        off += used;
        if (r == MC_NEED_MORE) {
            assert_int_equal(off, n);
            break;
        }
        assert_int_equal(r, MC_EVENT);
        assert_true(used > 0);
        assert_true(c->l.kept <= MC_LINE_KEEP && c->l.kept <= c->l.total);
        /* the line and its terminator end exactly where the parser stopped */
        assert_int_equal(c->l.start + c->l.total + (c->l.term == MC_LINE_TERM_CRLF ? 2 : 1),
                         c->pos + off);
        line_log(log, &c->l);
    }
    c->pos += n;
}

static void l_finish(void *vc, struct th_log *log)
{
    struct lctx *c = vc;
    if (mc_line_finish(&c->l) == MC_EVENT) {
        assert_int_equal(c->l.term, MC_LINE_TERM_EOF);
        assert_int_equal(c->l.start + c->l.total, c->pos);
        line_log(log, &c->l);
    }
    assert_int_equal(mc_line_finish(&c->l), MC_NEED_MORE);
}

static void l_gap(void *vc, struct th_log *log, uint64_t n)
{
    struct lctx *c = vc;
    (void)log;
    mc_line_gap(&c->l, n);
    c->pos += n;
}

static const struct th_target line_target = {l_start, l_feed, l_finish, l_gap};

struct lcase {
    const char *name;
    const char *in;
    size_t len;
    size_t limit;
    size_t gap_at;
    uint64_t gap;
    const char *want;
};

static const struct lcase cases[] = {
    {.name = "empty input", TH_IN(""), .want = ""},
    {.name = "CRLF line", TH_IN("abc\r\n"),
     .want = "LINE off=0 len=3 term=CRLF 'abc' anoms=[]\n"},
    {.name = "empty line", TH_IN("\r\n"),
     .want = "LINE off=0 len=0 term=CRLF '' anoms=[]\n"},
    {.name = "two lines", TH_IN("a\r\nbc\r\n"),
     .want = "LINE off=0 len=1 term=CRLF 'a' anoms=[]\n"
             "LINE off=3 len=2 term=CRLF 'bc' anoms=[]\n"},
    {.name = "bare LF", TH_IN("ab\ncd\r\n"),
     .want = "LINE off=0 len=2 term=LF 'ab' anoms=[BARE_LF@2]\n"
             "LINE off=3 len=2 term=CRLF 'cd' anoms=[]\n"},
    {.name = "LF only lines", TH_IN("\n\n"),
     .want = "LINE off=0 len=0 term=LF '' anoms=[BARE_LF@0]\n"
             "LINE off=1 len=0 term=LF '' anoms=[BARE_LF@1]\n"},
    {.name = "bare CR inside", TH_IN("a\rb\r\n"),
     .want = "LINE off=0 len=3 term=CRLF 'a\\rb' anoms=[BARE_CR@1]\n"},
    {.name = "CR CR LF", TH_IN("a\r\r\n"),
     .want = "LINE off=0 len=2 term=CRLF 'a\\r' anoms=[BARE_CR@1]\n"},
    {.name = "CRLF then LF", TH_IN("a\r\n\n"),
     .want = "LINE off=0 len=1 term=CRLF 'a' anoms=[]\n"
             "LINE off=3 len=0 term=LF '' anoms=[BARE_LF@3]\n"},
    {.name = "LF then CR", TH_IN("a\n\rb\r\n"),
     .want = "LINE off=0 len=1 term=LF 'a' anoms=[BARE_LF@1]\n"
             "LINE off=2 len=2 term=CRLF '\\rb' anoms=[BARE_CR@2]\n"},
    {.name = "NUL reported once", TH_IN("a\0b\0\r\n"),
     .want = "LINE off=0 len=4 term=CRLF 'a\\x00b\\x00' anoms=[NUL_BYTE@1]\n"},
    {.name = "NUL then bare CR", TH_IN("\0\rx\r\n"),
     .want = "LINE off=0 len=3 term=CRLF '\\x00\\rx' anoms=[NUL_BYTE@0,BARE_CR@1]\n"},
    {.name = "bare CR then NUL", TH_IN("\r\0\r\n"),
     .want = "LINE off=0 len=2 term=CRLF '\\r\\x00' anoms=[BARE_CR@0,NUL_BYTE@1]\n"},
    {.name = "NUL on each line", TH_IN("\0\r\n\0\r\n"),
     .want = "LINE off=0 len=1 term=CRLF '\\x00' anoms=[NUL_BYTE@0]\n"
             "LINE off=3 len=1 term=CRLF '\\x00' anoms=[NUL_BYTE@3]\n"},
    {.name = "unterminated at finish", TH_IN("abc"),
     .want = "LINE off=0 len=3 term=EOF 'abc' anoms=[UNTERMINATED_LINE@3]\n"},
    {.name = "CR at end of stream", TH_IN("abc\r"),
     .want = "LINE off=0 len=4 term=EOF 'abc\\r' anoms=[BARE_CR@3,UNTERMINATED_LINE@4]\n"},
    {.name = "lone CR after a line", TH_IN("ab\r\n\r"),
     .want = "LINE off=0 len=2 term=CRLF 'ab' anoms=[]\n"
             "LINE off=4 len=1 term=EOF '\\r' anoms=[BARE_CR@4,UNTERMINATED_LINE@5]\n"},
    {.name = "more than MC_ANOMS_MAX", TH_IN("\rx\rx\rx\rx\rx\rx\rx\rx\rx\rx\r\n"),
     .want = "LINE off=0 len=20 term=CRLF '\\rx\\rx\\rx\\rx\\rx\\rx\\rx\\rx\\rx\\rx' "
             "anoms=[BARE_CR@0,BARE_CR@2,BARE_CR@4,BARE_CR@6,BARE_CR@8,BARE_CR@10,"
             "BARE_CR@12,BARE_CR@14+2]\n"},
    /* limit 10 includes CRLF: 8 octets of text are the most allowed */
    {.name = "limit-1", TH_IN("1234567\r\n"), .limit = 10,
     .want = "LINE off=0 len=7 term=CRLF '1234567' anoms=[]\n"},
    {.name = "limit", TH_IN("12345678\r\n"), .limit = 10,
     .want = "LINE off=0 len=8 term=CRLF '12345678' anoms=[]\n"},
    {.name = "limit+1", TH_IN("123456789\r\n"), .limit = 10,
     .want = "LINE off=0 len=9 term=CRLF '123456789' anoms=[LINE_TOO_LONG@8]\n"},
    {.name = "limit+1 on the second line", TH_IN("ab\r\n123456789\r\n"), .limit = 10,
     .want = "LINE off=0 len=2 term=CRLF 'ab' anoms=[]\n"
             "LINE off=4 len=9 term=CRLF '123456789' anoms=[LINE_TOO_LONG@12]\n"},
    {.name = "limit+1 with bare LF", TH_IN("123456789\n"), .limit = 10,
     .want = "LINE off=0 len=9 term=LF '123456789' anoms=[BARE_LF@9,LINE_TOO_LONG@8]\n"},
    {.name = "limit+1 unterminated", TH_IN("123456789"), .limit = 10,
     .want = "LINE off=0 len=9 term=EOF '123456789' "
             "anoms=[UNTERMINATED_LINE@9,LINE_TOO_LONG@8]\n"},
    {.name = "limit 0 means none", TH_IN("123456789\r\n"),
     .want = "LINE off=0 len=9 term=CRLF '123456789' anoms=[]\n"},
    /* gaps: nothing from the damaged line is reported; offsets count the gap */
    {.name = "gap inside a line", TH_IN("abc\r\ndef\r\nghi\r\n"), .gap_at = 7, .gap = 4,
     .want = "LINE off=0 len=3 term=CRLF 'abc' anoms=[]\n"
             "LINE off=14 len=3 term=CRLF 'ghi' anoms=[]\n"},
    {.name = "gap at a line boundary", TH_IN("abc\r\nxy\r\nok\r\n"), .gap_at = 5, .gap = 2,
     .want = "LINE off=0 len=3 term=CRLF 'abc' anoms=[]\n"
             "LINE off=11 len=2 term=CRLF 'ok' anoms=[]\n"},
    {.name = "gap after CR", TH_IN("abc\r\r\nok\r\n"), .gap_at = 4, .gap = 1,
     .want = "LINE off=7 len=2 term=CRLF 'ok' anoms=[]\n"},
    {.name = "gap at start", TH_IN("xx\r\nok\r\n"), .gap_at = 0, .gap = 5,
     .want = "LINE off=9 len=2 term=CRLF 'ok' anoms=[]\n"},
    {.name = "gap then unterminated", TH_IN("ab\r\ncd"), .gap_at = 4, .gap = 2,
     .want = "LINE off=0 len=2 term=CRLF 'ab' anoms=[]\n"},
    {.name = "gap at end of stream", TH_IN("ab\r\ncd"), .gap_at = 6, .gap = 3,
     .want = "LINE off=0 len=2 term=CRLF 'ab' anoms=[]\n"},
    {.name = "gap drops a bare-LF line", TH_IN("a\r\nb\nc\r\n"), .gap_at = 3, .gap = 1,
     .want = "LINE off=0 len=1 term=CRLF 'a' anoms=[]\n"
             "LINE off=6 len=1 term=CRLF 'c' anoms=[]\n"},
};

static void test_table(void **state)
{
    static struct th_log got;
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < TH_COUNT(cases); i++) {
        const struct lcase *tc = &cases[i];
        struct lctx c = {.limit = tc->limit};
        th_run_modes_gap(&line_target, &c, tc->in, tc->len, tc->gap_at, tc->gap, &got);
        bad += !th_expect_log(tc->name, tc->want, &got);
    }
    assert_int_equal(bad, 0);
}

/* Lines longer than MC_LINE_KEEP: only KEEP octets kept, the whole length
 * counted, anomalies past the kept part still found with exact offsets. */
static void test_keep(void **state)
{
    const size_t sizes[] = {MC_LINE_KEEP - 1, MC_LINE_KEEP, MC_LINE_KEEP + 1, 3000};
    (void)state;
    for (size_t i = 0; i < TH_COUNT(sizes); i++) {
        size_t n = sizes[i], len = n + 2 + 4;
        uint8_t *in = malloc(len);
        char want[512], kept[32] = "";
        struct lctx c = {.limit = 0};
        static struct th_log got;
        assert_non_null(in);
        memset(in, 'x', n);
        in[n - 2] = '\0';
        memcpy(in + n, "\r\nok\r\n", 6);
        if (n > MC_LINE_KEEP)
            snprintf(kept, sizeof(kept), " kept=%d", MC_LINE_KEEP);
        snprintf(want, sizeof(want),
                 "LINE off=0 len=%zu term=CRLF '%s'%s anoms=[NUL_BYTE@%zu]\n"
                 "LINE off=%zu len=2 term=CRLF 'ok' anoms=[]\n",
                 n, th_shown('x', n), kept, n - 2, n + 2);
        th_run_modes(&line_target, &c, in, len, &got);
        assert_true(th_expect_log("keep", want, &got));
        free(in);
    }
}

static void test_keep_content(void **state)
{
    struct mc_line l;
    static uint8_t in[MC_LINE_KEEP + 12];
    size_t used;
    (void)state;
    for (size_t i = 0; i < sizeof(in) - 2; i++)
        in[i] = (uint8_t)('a' + i % 26);
    memcpy(in + sizeof(in) - 2, "\r\n", 2);
    mc_line_init(&l, 0);
    assert_int_equal(mc_line_feed(&l, in, sizeof(in), &used), MC_EVENT);
    assert_int_equal(used, sizeof(in));
    assert_int_equal(l.kept, MC_LINE_KEEP);
    assert_int_equal(l.total, sizeof(in) - 2);
    assert_memory_equal(l.buf, in, MC_LINE_KEEP);
}

static void test_partial(void **state)
{
    struct mc_line l;
    size_t used;
    (void)state;
    mc_line_init(&l, 0);
    assert_false(mc_line_partial(&l));
    assert_int_equal(mc_line_feed(&l, (const uint8_t *)"ab", 2, &used), MC_NEED_MORE);
    assert_true(mc_line_partial(&l));
    assert_int_equal(mc_line_feed(&l, (const uint8_t *)"\r\n", 2, &used), MC_EVENT);
    assert_false(mc_line_partial(&l));
    assert_int_equal(mc_line_feed(&l, (const uint8_t *)"\r", 1, &used), MC_NEED_MORE);
    assert_true(mc_line_partial(&l));   /* a CR alone has started a line */
    mc_line_gap(&l, 3);
    assert_false(mc_line_partial(&l));
    assert_int_equal(mc_line_finish(&l), MC_NEED_MORE);
}

static void test_set_limit(void **state)
{
    struct mc_line l;
    size_t used;
    const uint8_t *in = (const uint8_t *)"123456789\r\n";
    (void)state;
    mc_line_init(&l, 0);
    assert_int_equal(mc_line_feed(&l, in, 11, &used), MC_EVENT);
    assert_int_equal(l.anoms.n, 0);
    mc_line_set_limit(&l, 10);
    assert_int_equal(mc_line_feed(&l, in, 11, &used), MC_EVENT);
    assert_int_equal(l.anoms.n, 1);
    assert_int_equal(l.anoms.hit[0].code, MC_ANOM_LINE_TOO_LONG);
    assert_int_equal(l.anoms.hit[0].off, 11 + 8);
    mc_line_set_limit(&l, 11);
    assert_int_equal(mc_line_feed(&l, in, 11, &used), MC_EVENT);
    assert_int_equal(l.anoms.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_keep),
        cmocka_unit_test(test_keep_content),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_set_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
