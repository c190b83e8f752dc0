/*
 * NSS key log reader: kept and ignored labels, malformed lines named by
 * file:line, comments, CRLF, a last line without newline, long lines,
 * repeated pairs (the newer wins), file and memory giving the same.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "tls_test_util.h"

#define R64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define S32 "0101010101010101010101010101010101010101010101010101010101010101"
#define S48 S32 "02020202020202020202020202020202"

struct errs {
    struct tt_buf text;
    unsigned n;
};

static void on_err(void *ctx, const char *where, const char *why)
{
    struct errs *e = ctx;
    e->n++;
    tt_printf(&e->text, "%s: %s\n", where, why);
}

static const uint8_t random_[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

static const char good_and_bad[] =
    "# TLS secrets log file\n"                                          /* 1 */
    "\n"                                                                /* 2 */
    "CLIENT_RANDOM " R64 " " S48 "\n"                                   /* 3 */
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET " R64 " " S32 "\r\n"               /* 4 */
    "SERVER_HANDSHAKE_TRAFFIC_SECRET " R64 " " S48 "\n"                 /* 5 */
    "EXPORTER_SECRET " R64 " " S32 "\n"                                 /* 6: ignored */
    "CLIENT_RANDOM " R64 " 0102\n"                                      /* 7: short */
    "CLIENT_TRAFFIC_SECRET_0 " R64 "\n"                                 /* 8: two fields */
    "SERVER_TRAFFIC_SECRET_0 zz" R64 " " S32 "\n"                       /* 9: random */
    "CLIENT_TRAFFIC_SECRET_0 " R64 " " S32 " extra\n"                   /* 10 */
    "CLIENT_TRAFFIC_SECRET_0\t" R64 "  " S32 "x\n"                      /* 11: odd hex */
    "SERVER_TRAFFIC_SECRET_0 " R64 " " S32;                             /* 12: no newline */

static void check_loaded(struct mc_tls_keylog *kl)
{
    uint8_t out[MC_TLS_SECRET_MAX];
    assert_int_equal(mc_tls_keylog_count(kl), 4);
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_MASTER, random_, out), 48);
    assert_int_equal(out[0], 0x01);
    assert_int_equal(out[47], 0x02);
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_CLIENT_HANDSHAKE, random_, out), 32);
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_SERVER_HANDSHAKE, random_, out), 48);
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_CLIENT_APP, random_, out), 0);
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_SERVER_APP, random_, out), 32);
    uint8_t other[32] = {0};
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_MASTER, other, out), 0);
}

static void test_mem(void **st)
{
    struct errs e = {0};
    (void)st;
    struct mc_tls_keylog *kl = mc_tls_keylog_new();
    assert_int_equal(mc_tls_keylog_load_mem(kl, "dsb", (const uint8_t *)good_and_bad,
                                            strlen(good_and_bad), on_err, &e), 5);
    check_loaded(kl);
    const char *want = "dsb:7: master secret is not 96 hex digits\n"
                       "dsb:8: expected: label, client random, secret\n"
                       "dsb:9: client random is not 64 hex digits\n"
                       "dsb:10: more than three fields\n"
                       "dsb:11: traffic secret is not 64 or 96 hex digits\n";
    assert_string_equal((char *)e.text.p, want);
    mc_tls_keylog_free(kl);
    tt_free(&e.text);
}

static void test_file(void **st)
{
    struct errs e = {0};
    char path[] = "/tmp/mc-keylog-XXXXXX";
    (void)st;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fputs(good_and_bad, f);
    fclose(f);
    struct mc_tls_keylog *kl = mc_tls_keylog_new();
    assert_int_equal(mc_tls_keylog_load_file(kl, path, on_err, &e), 5);
    check_loaded(kl);
    char want[600];
    snprintf(want, sizeof want, "%s:9: client random is not 64 hex digits", path);
    assert_non_null(strstr((char *)e.text.p, want));
    unlink(path);
    /* a missing file: -1, named */
    tt_free(&e.text);
    e.n = 0;
    assert_int_equal(mc_tls_keylog_load_file(kl, path, on_err, &e), -1);
    assert_int_equal(e.n, 1);
    assert_non_null(strstr((char *)e.text.p, ":0: "));
    mc_tls_keylog_free(kl);
    tt_free(&e.text);
}

static void test_long_lines_and_nul(void **st)
{
    struct errs e = {0};
    struct tt_buf t = {0};
    (void)st;
    tt_printf(&t, "CLIENT_RANDOM " R64 " ");
    for (int i = 0; i < 300; i++)
        tt_printf(&t, "0123");
    tt_printf(&t, "\nCLIENT_RANDOM " R64 " " S48 "\n");
    tt_put(&t, "CLIENT_RANDOM \0", 15);
    tt_printf(&t, "\n");
    struct mc_tls_keylog *kl = mc_tls_keylog_new();
    assert_int_equal(mc_tls_keylog_load_mem(kl, "m", t.p, t.n, on_err, &e), 2);
    assert_string_equal((char *)e.text.p, "m:1: line too long\nm:3: NUL octet in line\n");
    assert_int_equal(mc_tls_keylog_count(kl), 1);
    mc_tls_keylog_free(kl);
    tt_free(&t);
    tt_free(&e.text);
}

static void test_newer_wins_and_many(void **st)
{
    struct tt_buf t = {0};
    uint8_t out[MC_TLS_SECRET_MAX], rnd[32];
    (void)st;
    struct mc_tls_keylog *kl = mc_tls_keylog_new();
    tt_printf(&t, "CLIENT_RANDOM " R64 " " S48 "\n");
    tt_printf(&t, "CLIENT_RANDOM " R64 " ");
    for (int i = 0; i < 48; i++)
        tt_printf(&t, "ee");
    tt_printf(&t, "\n");
    /* 5000 more connections: the table grows */
    for (unsigned i = 0; i < 5000; i++) {
        tt_printf(&t, "CLIENT_TRAFFIC_SECRET_0 %08x", i);
        for (int k = 0; k < 28; k++)
            tt_printf(&t, "00");
        tt_printf(&t, " %064x\n", 0);
    }
    assert_int_equal(mc_tls_keylog_load_mem(kl, "m", t.p, t.n, NULL, NULL), 0);
    assert_int_equal(mc_tls_keylog_count(kl), 5001);
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_MASTER, random_, out), 48);
    assert_int_equal(out[0], 0xee);
    memset(rnd, 0, sizeof rnd);
    rnd[2] = 0x12;
    rnd[3] = 0x34;
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_CLIENT_APP, rnd, out), 32);
    assert_int_equal(mc_tls_keylog_find(kl, MC_TLS_SECRET_SERVER_APP, rnd, out), 0);
    assert_string_equal(mc_tls_secret_label(MC_TLS_SECRET_CLIENT_APP), "CLIENT_TRAFFIC_SECRET_0");
    /* NULL-safe */
    assert_int_equal(mc_tls_keylog_find(NULL, MC_TLS_SECRET_MASTER, rnd, out), 0);
    assert_int_equal(mc_tls_keylog_count(NULL), 0);
    mc_tls_keylog_free(kl);
    mc_tls_keylog_free(NULL);
    tt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_long_lines_and_nul),
        cmocka_unit_test(test_newer_wins_and_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
