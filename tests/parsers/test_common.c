/*
 * mc_common: base64 validation (RFC 4648 s4 as RFC 5034 s5 constrains it),
 * decimal numbers, escaping for output, anomaly lists and names. Inputs and
 * output buffers sit right before a PROT_NONE page (test_harness.h).
 */
#include "test_harness.h"

#include <ctype.h>

#define FOR_EACH(t) for (size_t i = 0; i < TH_COUNT(t); i++)
#define OK ((size_t)-1)

struct b64case {
    const char *in;
    size_t len;
    size_t bad;   /* OK: valid; else the index *bad_out must name */
};

static const struct b64case b64[] = {
    {TH_IN(""), OK},
    {TH_IN("QQ=="), OK},
    {TH_IN("QUI="), OK},
    {TH_IN("QUJD"), OK},
    {TH_IN("QUJDRA=="), OK},
    {TH_IN("+/+/"), OK},
    {TH_IN("dGVzdAB0ZXN0AHRlc3Q="), OK},   /* RFC 5034 s6 */
    {TH_IN("A"), 1},
    {TH_IN("AB"), 2},
    {TH_IN("ABC"), 3},
    {TH_IN("AAAAA"), 5},
    {TH_IN("="), 1},
    {TH_IN("=="), 2},
    {TH_IN("Q==="), 1},
    {TH_IN("QQ=A"), 3},
    {TH_IN("=AAA"), 0},          /* RFC 5034 s4 names these two */
    {TH_IN("AAA=BBB"), 3},
    {TH_IN("AA==AAAA"), 2},
    {TH_IN("AAAA===="), 4},
    {TH_IN("AB C"), 2},
    {TH_IN("AB-_"), 2},          /* the URL-safe alphabet is not base64 here */
    {TH_IN("AB\0D"), 2},
    {TH_IN("ABC\x80"), 3},
    {TH_IN("AB\r\n"), 2},
};

static void test_base64(void **state)
{
    (void)state;
    FOR_EACH(b64) {
        struct th_guard g;
        size_t bad = OK;
        bool valid;
        th_guard_init(&g, b64[i].len);
        valid = mc_base64_valid(th_guard_put(&g, b64[i].in, b64[i].len), b64[i].len, &bad);
        if (valid != (b64[i].bad == OK) || (!valid && bad != b64[i].bad))
            fail_msg("base64 case %zu '%s': valid=%d bad=%zu", i, b64[i].in, valid, bad);
        th_guard_free(&g);
    }
}

struct u64case {
    const char *in;
    size_t len;
    uint64_t max;
    bool ok;
    uint64_t v;
};

static const struct u64case u64[] = {
    {TH_IN("0"), UINT64_MAX, true, 0},
    {TH_IN("1"), UINT64_MAX, true, 1},
    {TH_IN("4294967296"), UINT64_MAX, true, 4294967296u},
    {TH_IN("18446744073709551615"), UINT64_MAX, true, UINT64_MAX},
    {TH_IN("0000000000000000000000001"), UINT64_MAX, true, 1},
    {TH_IN("18446744073709551616"), UINT64_MAX, false, 0},
    {TH_IN("18446744073709551620"), UINT64_MAX, false, 0},
    {TH_IN("99999999999999999999"), UINT64_MAX, false, 0},
    {TH_IN(""), UINT64_MAX, false, 0},
    {TH_IN("1a"), UINT64_MAX, false, 0},
    {TH_IN("-1"), UINT64_MAX, false, 0},
    {TH_IN("+1"), UINT64_MAX, false, 0},
    {TH_IN(" 1"), UINT64_MAX, false, 0},
    {TH_IN("1 "), UINT64_MAX, false, 0},
    {TH_IN("100"), 100, true, 100},
    {TH_IN("101"), 100, false, 0},
    {TH_IN("5"), 5, true, 5},
    {TH_IN("6"), 5, false, 0},
    {TH_IN("7"), 5, false, 0},   /* a digit above a one-digit max */
    {TH_IN("9"), 8, false, 0},
    {TH_IN("007"), 7, true, 7},
    {TH_IN("008"), 7, false, 0},
    {TH_IN("0"), 0, true, 0},
    {TH_IN("1"), 0, false, 0},
};

static void test_parse_u64(void **state)
{
    (void)state;
    FOR_EACH(u64) {
        struct th_guard g;
        uint64_t v = 12345;
        bool ok;
        th_guard_init(&g, u64[i].len);
        ok = mc_parse_u64(th_guard_put(&g, u64[i].in, u64[i].len), u64[i].len, u64[i].max, &v);
        if (ok != u64[i].ok || (ok && v != u64[i].v))
            fail_msg("u64 case %zu '%s' max %llu: ok=%d v=%llu", i, u64[i].in,
                     (unsigned long long)u64[i].max, ok, (unsigned long long)v);
        th_guard_free(&g);
    }
}

struct esccase {
    const char *in;
    size_t len;
    size_t cap;
    const char *out;
};

static const struct esccase esc[] = {
    {TH_IN("abc"), 10, "abc"},
    {TH_IN("abc"), 4, "abc"},              /* exactly fits with its NUL */
    {TH_IN("abcd"), 4, "..."},
    {TH_IN("abcdefgh"), 6, "ab..."},
    {TH_IN("\r\n\t\\"), 20, "\\r\\n\\t\\\\"},
    {TH_IN("\0\x7f\xff ~'"), 40, "\\x00\\x7f\\xff ~'"},
    {TH_IN("a\x01"), 6, "a\\x01"},
    {TH_IN("a\x01"), 5, "a..."},           /* an escape is never split */
    {TH_IN("\x01\x02"), 7, "..."},
    {TH_IN("abc"), 3, ".."},
    {TH_IN("abc"), 2, "."},
    {TH_IN("abc"), 1, ""},
    {TH_IN(""), 1, ""},
};

static void test_escape(void **state)
{
    (void)state;
    FOR_EACH(esc) {
        struct th_guard g;
        char *out;
        size_t r;
        th_guard_init(&g, esc[i].cap);
        /* the output buffer ends right before the guard page */
        out = (char *)th_guard_put(&g, "", 0) - esc[i].cap;
        memset(out, 'Z', esc[i].cap);
        r = mc_escape(out, esc[i].cap, (const uint8_t *)esc[i].in, esc[i].len);
        if (strcmp(out, esc[i].out) != 0 || r != strlen(esc[i].out))
            fail_msg("escape case %zu cap %zu: got '%s' (%zu), want '%s'", i, esc[i].cap, out,
                     r, esc[i].out);
        th_guard_free(&g);
    }
}

static void test_escape_cap0(void **state)
{
    struct th_guard g;
    (void)state;
    th_guard_init(&g, 0);
    /* nothing may be written: the pointer is the first byte of the guard page */
    assert_int_equal(mc_escape((char *)th_guard_put(&g, "", 0), 0, (const uint8_t *)"ab", 2), 0);
    th_guard_free(&g);
}

static void test_anoms(void **state)
{
    struct mc_anoms a;
    (void)state;
    memset(&a, 0x5a, sizeof(a));
    mc_anoms_clear(&a);
    assert_int_equal(a.n, 0);
    assert_int_equal(a.dropped, 0);
    assert_false(mc_anoms_has(&a, MC_ANOM_BARE_LF));

    for (unsigned i = 0; i < MC_ANOMS_MAX; i++)
        mc_anoms_add(&a, (enum mc_anom)(MC_ANOM_BARE_LF + i), 100 + i);
    assert_int_equal(a.n, MC_ANOMS_MAX);
    assert_int_equal(a.dropped, 0);
    for (unsigned i = 0; i < MC_ANOMS_MAX; i++) {
        assert_int_equal(a.hit[i].code, MC_ANOM_BARE_LF + i);
        assert_int_equal(a.hit[i].off, 100 + i);
        assert_true(mc_anoms_has(&a, (enum mc_anom)(MC_ANOM_BARE_LF + i)));
    }

    /* the ninth is counted, not kept */
    mc_anoms_add(&a, MC_ANOM_POP3_UID_INVALID, 7);
    assert_int_equal(a.n, MC_ANOMS_MAX);
    assert_int_equal(a.dropped, 1);
    assert_false(mc_anoms_has(&a, MC_ANOM_POP3_UID_INVALID));

    /* the count saturates */
    for (int i = 0; i < 300; i++)
        mc_anoms_add(&a, MC_ANOM_NUL_BYTE, 0);
    assert_int_equal(a.dropped, UINT8_MAX);

    mc_anoms_clear(&a);
    assert_int_equal(a.n, 0);
    assert_int_equal(a.dropped, 0);
}

static void test_anom_names(void **state)
{
    (void)state;
    assert_string_equal(mc_anom_name(MC_ANOM_NONE), "NONE");
    assert_string_equal(mc_anom_name(MC_ANOM_BARE_LF), "BARE_LF");
    assert_string_equal(mc_anom_name(MC_ANOM_POP3_TIMESTAMP_SYNTAX), "POP3_TIMESTAMP_SYNTAX");
    assert_string_equal(mc_anom_name(MC_ANOM_COUNT), "INVALID");
    assert_string_equal(mc_anom_name((enum mc_anom)9999), "INVALID");
    assert_string_equal(mc_anom_desc(MC_ANOM_NONE), "no anomaly");
    assert_string_equal(mc_anom_desc(MC_ANOM_BARE_LF), "line ended by LF without CR");
    assert_string_equal(mc_anom_desc(MC_ANOM_COUNT), "invalid anomaly code");
    /* Rows are only appended (mc_anom.def): the first numbers are fixed. */
    assert_int_equal(MC_ANOM_BARE_LF, 1);
    assert_int_equal(MC_ANOM_UNTERMINATED_LINE, 5);

    /* every code has a distinct upper-case name and a description */
    for (int c = 1; c < MC_ANOM_COUNT; c++) {
        const char *n = mc_anom_name((enum mc_anom)c);
        assert_true(strlen(n) > 0 && strlen(mc_anom_desc((enum mc_anom)c)) > 0);
        for (const char *p = n; *p; p++)
            assert_true(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_');
        for (int d = 0; d < c; d++)
            assert_string_not_equal(n, mc_anom_name((enum mc_anom)d));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_cap0),
        cmocka_unit_test(test_anoms),
        cmocka_unit_test(test_anom_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
