/*
 * The IMAP text readers of validator/imap/imap_scan.c: FETCH item numbers,
 * SEARCH numbers, UID sets, the RFC 2971 ID limits and the capability
 * digest, on valid and malformed text (never a crash, never a false "found").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_scan.h"

#define S(lit) (const uint8_t *)(lit), strlen(lit)

static void fetch_number_found(void **state)
{
    static const struct {
        const char *text, *name;
        uint64_t want;
    } ok[] = {
        {"(UID 4827313)", "UID", 4827313},
        {"(FLAGS (\\Seen) UID 7)", "UID", 7},
        {"(uid 7 FLAGS ())", "UID", 7},
        {"(BODY[HEADER.FIELDS (UID DATE)] \"x\" UID 9)", "UID", 9},
        {"(ENVELOPE (\"d\" \"UID 3\" NIL NIL NIL NIL NIL NIL NIL NIL) UID 12)", "UID", 12},
        {"(RFC822.SIZE 44827 UID 447)", "RFC822.SIZE", 44827},
        {"(X-GM-LABELS (UID) MODSEQ (5) UID 18446744073709551615)", "UID", UINT64_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 0;
        assert_true(mc_imap_fetch_number(S(ok[i].text), ok[i].name, &v));
        assert_int_equal(v, ok[i].want);
    }
}

static void fetch_number_absent(void **state)
{
    static const char *const none[] = {
        "",
        "UID 5",                          /* not a list */
        "(FLAGS (UID 5))",                /* nested: a flag, not the item */
        "(FLAGS (\\Seen))",
        "(UID)",                          /* no value */
        "(UID x5)",
        "(UID 5x)",
        "(BODY[] \"UID 5\")",             /* inside a string */
        "(X-LABEL UID FLAGS ())",         /* a value that reads UID */
        "(\"unterminated UID 5",
        "(((((",
        ")",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        uint64_t v = 99;
        assert_false(mc_imap_fetch_number(S(none[i]), "UID", &v));
    }
}

struct nums {
    uint64_t v[8];
    unsigned n;
};

static void collect(void *ctx, uint64_t v)
{
    struct nums *k = ctx;
    if (k->n < 8)
        k->v[k->n++] = v;
}

static void each_number(void **state)
{
    struct nums k = {{0}, 0};
    (void)state;
    mc_imap_each_number(S("2 84 882"), collect, &k);
    assert_int_equal(k.n, 3);
    assert_int_equal(k.v[2], 882);
    k.n = 0;
    mc_imap_each_number(S("2 3 (MODSEQ 917162500)"), collect, &k);
    assert_int_equal(k.n, 2);   /* RFC 7162 MODSEQ ends the list */
    k.n = 0;
    mc_imap_each_number(S(""), collect, &k);
    assert_int_equal(k.n, 0);
}

static void uid_sets(void **state)
{
    uint64_t c;
    bool same;
    (void)state;
    assert_true(mc_imap_uid_set_count(S("3955"), &c, &same));
    assert_int_equal(c, 1);
    assert_false(same);
    assert_true(mc_imap_uid_set_count(S("304,319:320"), &c, &same));
    assert_int_equal(c, 3);
    assert_true(mc_imap_uid_set_count(S("12:10"), &c, &same));   /* = 10:12 */
    assert_int_equal(c, 3);
    assert_true(mc_imap_uid_set_count(S("123:123"), &c, &same));
    assert_true(same);
    assert_true(mc_imap_uid_set_count(S("1:18446744073709551615,5"), &c, &same));
    assert_int_equal(c, UINT64_MAX);   /* saturates */
    assert_false(mc_imap_uid_set_count(S(""), &c, &same));
    assert_false(mc_imap_uid_set_count(S("1,"), &c, &same));
    assert_false(mc_imap_uid_set_count(S("1:*"), &c, &same));
    assert_false(mc_imap_uid_set_count(S(":5"), &c, &same));
    assert_false(mc_imap_uid_set_count(S("1 2"), &c, &same));
}

static void id_limits(void **state)
{
    char msg[128], big[1200], list[1400];
    (void)state;
    assert_null(mc_imap_id_limits(S("NIL"), msg, sizeof(msg)));
    assert_null(mc_imap_id_limits(S("(\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" NIL)"), msg,
                                  sizeof(msg)));
    assert_null(mc_imap_id_limits(S("()"), msg, sizeof(msg)));
    /* exactly 30 octets is allowed, 31 is not */
    assert_null(mc_imap_id_limits(S("(\"abcdefghijabcdefghijabcdefghij\" \"v\")"), msg, sizeof(msg)));
    assert_non_null(mc_imap_id_limits(S("(\"abcdefghijabcdefghijabcdefghijk\" \"v\")"), msg, sizeof(msg)));
    /* an escape counts once */
    assert_null(mc_imap_id_limits(S("(\"abcdefghijabcdefghijabcdefghi\\\"\" \"v\")"), msg, sizeof(msg)));
    memset(big, 'x', 1025);
    big[1025] = '\0';
    snprintf(list, sizeof(list), "(\"name\" \"%s\")", big);
    assert_non_null(mc_imap_id_limits(S(list), msg, sizeof(msg)));
    big[1024] = '\0';
    snprintf(list, sizeof(list), "(\"name\" \"%s\")", big);
    assert_null(mc_imap_id_limits(S(list), msg, sizeof(msg)));
    assert_non_null(mc_imap_id_limits(S("(\"name\" \"a\" \"Name\" \"b\")"), msg, sizeof(msg)));
    assert_non_null(strstr(msg, "twice"));
    /* 31 pairs */
    {
        size_t n = 0;
        n += (size_t)snprintf(list + n, sizeof(list) - n, "(");
        for (int i = 0; i < 31; i++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"f%d\" \"v\"", i ? " " : "", i);
        snprintf(list + n, sizeof(list) - n, ")");
        assert_non_null(mc_imap_id_limits(S(list), msg, sizeof(msg)));
        assert_non_null(strstr(msg, "30"));
    }
    /* unreadable: literals and junk are not judged */
    assert_null(mc_imap_id_limits(S("(\"name\" {5}"), msg, sizeof(msg)));
    assert_null(mc_imap_id_limits(S("(\"name"), msg, sizeof(msg)));
    assert_null(mc_imap_id_limits(S("(x y)"), msg, sizeof(msg)));
}

static void caps_digest(void **state)
{
    (void)state;
    assert_true(mc_imap_caps_digest(S("IMAP4rev1 IDLE ENABLE")) ==
                mc_imap_caps_digest(S("enable imap4REV1 idle")));
    assert_true(mc_imap_caps_digest(S("IMAP4rev1 IDLE ENABLE")) !=
                mc_imap_caps_digest(S("IMAP4rev1 ENABLE")));
    assert_true(mc_imap_caps_digest(S("IMAP4rev1  IDLE")) == mc_imap_caps_digest(S("IMAP4rev1 IDLE")));
    assert_true(mc_imap_list_has(S("a1 ENABLE CONDSTORE QRESYNC"), (const uint8_t *)"qresync", 7));
    assert_false(mc_imap_list_has(S("a1 ENABLE CONDSTORE"), (const uint8_t *)"CONDSTOR", 8));
}

/* Every prefix of every case: the readers never read past their length
 * (ASan) and never crash on cut text. */
static void prefixes_are_safe(void **state)
{
    static const char *const texts[] = {
        "(BODY[HEADER.FIELDS (UID DATE)] \"x\\\"y\" UID 9)",
        "(\"name\" \"a\\\\b\" \"os\" NIL)",
        "304,319:320",
        "2 84 (MODSEQ 5)",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        size_t n = strlen(texts[i]);
        for (size_t k = 0; k <= n; k++) {
            uint8_t *p = malloc(k ? k : 1);   /* exact size: ASan sees overreads */
            uint64_t v, c;
            bool same;
            char msg[64];
            struct nums nn = {{0}, 0};
            assert_non_null(p);
            memcpy(p, texts[i], k);
            (void)mc_imap_fetch_number(p, k, "UID", &v);
            (void)mc_imap_uid_set_count(p, k, &c, &same);
            (void)mc_imap_id_limits(p, k, msg, sizeof(msg));
            mc_imap_each_number(p, k, collect, &nn);
            (void)mc_imap_caps_digest(p, k);
            free(p);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fetch_number_found), cmocka_unit_test(fetch_number_absent),
        cmocka_unit_test(each_number),        cmocka_unit_test(uid_sets),
        cmocka_unit_test(id_limits),          cmocka_unit_test(caps_digest),
        cmocka_unit_test(prefixes_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
