/*
 * Unit tests of the probe without a network: the modes table and option
 * values, target parsing, verdicts, line limits (the scanner, and a
 * connection over a socketpair that floods, stalls or closes), the recorder
 * feeding a session, and the matrix writers.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "probe/probe_internal.h"
#include "report/report_matrix.h"

static void test_modes_table(void **state)
{
    static const unsigned ports[MC_PROBE_MODES] = {110, 995, 110, 143, 993, 143,
                                                   25,  465, 587, 465, 25};
    struct mc_probe_opts o;
    (void)state;
    mc_probe_opts_init(&o);
    for (unsigned m = 0; m < MC_PROBE_MODES; m++) {
        const struct mc_probe_mode_info *mi = mc_probe_mode_info((enum mc_probe_mode)m);
        enum mc_probe_mode back;
        assert_int_equal(mi->default_port, ports[m]);
        assert_int_equal(o.ports[m], ports[m]);
        assert_true(o.modes[m]);
        assert_true(mc_probe_mode_parse(mi->name, &back));
        assert_int_equal(back, m);
    }
    assert_int_equal(mc_probe_mode_info(MC_MODE_SMTP_SUBMISSION_SSL)->tls, MC_TLS_IMPLICIT);
    assert_true(mc_probe_mode_info(MC_MODE_SMTP_SUBMISSION_SSL)->submission);
    assert_false(mc_probe_mode_info(MC_MODE_SMTP_SSL)->submission);
    assert_int_equal(mc_probe_mode_info(MC_MODE_POP3_TLS)->tls, MC_TLS_STARTTLS);
    assert_int_equal(mc_probe_mode_info(MC_MODE_IMAP4_PLAIN)->proto, MC_PROTO_IMAP);
    assert_null(mc_probe_mode_info(MC_PROBE_MODES));
}

static void test_modes_and_ports(void **state)
{
    bool sel[MC_PROBE_MODES];
    uint16_t ports[MC_PROBE_MODES] = {0};
    char err[256];
    (void)state;
    assert_true(mc_probe_modes_parse("pop3-tls,SMTP-Submission-SSL", sel, err, sizeof(err)));
    for (unsigned m = 0; m < MC_PROBE_MODES; m++)
        assert_int_equal(sel[m], m == MC_MODE_POP3_TLS || m == MC_MODE_SMTP_SUBMISSION_SSL);
    assert_false(mc_probe_modes_parse("POP3-TLS,,IMAP4-SSL", sel, err, sizeof(err)));
    assert_false(mc_probe_modes_parse("POP3-XYZ", sel, err, sizeof(err)));
    assert_non_null(strstr(err, "POP3-XYZ"));
    assert_true(mc_probe_modes_parse("all", sel, err, sizeof(err)));
    assert_true(sel[MC_MODE_SMTP_TLS] && sel[MC_MODE_POP3_PLAIN]);

    assert_true(mc_probe_port_parse("imap4-ssl=10993", ports, err, sizeof(err)));
    assert_int_equal(ports[MC_MODE_IMAP4_SSL], 10993);
    assert_int_equal(ports[MC_MODE_IMAP4_TLS], 0);
    assert_false(mc_probe_port_parse("IMAP4-SSL=0", ports, err, sizeof(err)));
    assert_false(mc_probe_port_parse("IMAP4-SSL=65536", ports, err, sizeof(err)));
    assert_false(mc_probe_port_parse("IMAP4-SSL=-1", ports, err, sizeof(err)));
    assert_false(mc_probe_port_parse("IMAP4-SSL=", ports, err, sizeof(err)));
    assert_false(mc_probe_port_parse("IMAP4-SSL", ports, err, sizeof(err)));
    assert_false(mc_probe_port_parse("IMAP5=143", ports, err, sizeof(err)));
    assert_int_equal(ports[MC_MODE_IMAP4_SSL], 10993);
}

static void test_targets(void **state)
{
    char n[64], a[64];
    (void)state;
    assert_true(mc_probe_target_parse("mail.example.org", n, sizeof(n), a, sizeof(a)));
    assert_string_equal(n, "mail.example.org");
    assert_string_equal(a, "mail.example.org");
    assert_true(mc_probe_target_parse("mail.example.org:127.0.0.1", n, sizeof(n), a, sizeof(a)));
    assert_string_equal(n, "mail.example.org");
    assert_string_equal(a, "127.0.0.1");
    assert_true(mc_probe_target_parse("[::1]", n, sizeof(n), a, sizeof(a)));
    assert_string_equal(n, "::1");
    assert_string_equal(a, "::1");
    assert_true(mc_probe_target_parse("localhost:[::1]", n, sizeof(n), a, sizeof(a)));
    assert_string_equal(n, "localhost");
    assert_string_equal(a, "::1");
    assert_true(mc_probe_target_parse("2001:db8::25", n, sizeof(n), a, sizeof(a)));
    assert_string_equal(a, "2001:db8::25");
    assert_false(mc_probe_target_parse("", n, sizeof(n), a, sizeof(a)));
    assert_false(mc_probe_target_parse("[::1", n, sizeof(n), a, sizeof(a)));
    assert_false(mc_probe_target_parse("[::1]:25", n, sizeof(n), a, sizeof(a)));
    assert_false(mc_probe_target_parse("host:", n, sizeof(n), a, sizeof(a)));
    assert_false(mc_probe_target_parse(":127.0.0.1", n, sizeof(n), a, sizeof(a)));
}

static void test_verdicts(void **state)
{
    (void)state;
    assert_int_equal(mc_probe_verdict_of(MC_OUTCOME_DONE, 0, 0, 0), MC_VERDICT_WORKS);
    assert_int_equal(mc_probe_verdict_of(MC_OUTCOME_DONE, 0, 0, 1), MC_VERDICT_WORKS_WARNINGS);
    assert_int_equal(mc_probe_verdict_of(MC_OUTCOME_DONE, 0, 2, 0), MC_VERDICT_WORKS_WARNINGS);
    assert_int_equal(mc_probe_verdict_of(MC_OUTCOME_DONE, 1, 2, 3), MC_VERDICT_NONCONFORMANT);
    assert_int_equal(mc_probe_verdict_of(MC_OUTCOME_NOT_OFFERED, 1, 0, 0), MC_VERDICT_NOT_OFFERED);
    assert_int_equal(mc_probe_verdict_of(MC_OUTCOME_FAILED, 3, 0, 0), MC_VERDICT_FAILED);
    assert_string_equal(mc_probe_verdict_name(MC_VERDICT_WORKS), "works");
    assert_string_equal(mc_probe_verdict_name(MC_VERDICT_WORKS_WARNINGS), "works with warnings");
    assert_string_equal(mc_probe_verdict_name(MC_VERDICT_NONCONFORMANT), "non-conformant");
    assert_string_equal(mc_probe_verdict_name(MC_VERDICT_NOT_OFFERED), "not offered");
    assert_string_equal(mc_probe_verdict_name(MC_VERDICT_FAILED), "failed");
}

static void test_line_scan(void **state)
{
    size_t used = 0, len = 0;
    const uint8_t *crlf = (const uint8_t *)"+OK hi\r\nrest";
    (void)state;
    assert_int_equal(probe_line_scan(crlf, 12, 100, &used, &len), PROBE_SCAN_LINE);
    assert_int_equal(used, 8);
    assert_int_equal(len, 6);
    assert_int_equal(probe_line_scan((const uint8_t *)"+OK\n", 4, 100, &used, &len),
                     PROBE_SCAN_LINE);
    assert_int_equal(len, 3);
    assert_int_equal(probe_line_scan((const uint8_t *)"+OK", 3, 100, &used, &len), PROBE_SCAN_MORE);
    /* exactly max octets before CR LF is fine; one more is not */
    assert_int_equal(probe_line_scan((const uint8_t *)"abcd\r\n", 6, 4, &used, &len),
                     PROBE_SCAN_LINE);
    assert_int_equal(probe_line_scan((const uint8_t *)"abcde\r\n", 7, 4, &used, &len),
                     PROBE_SCAN_TOO_LONG);
    /* no LF yet: more than max + CR LF octets can no longer end in time */
    assert_int_equal(probe_line_scan((const uint8_t *)"abcd\r", 5, 4, &used, &len),
                     PROBE_SCAN_MORE);
    assert_int_equal(probe_line_scan((const uint8_t *)"abcdef", 6, 4, &used, &len),
                     PROBE_SCAN_TOO_LONG);
    assert_true(probe_has_word("IMAP4rev1 STARTTLS AUTH=PLAIN", 29, "starttls"));
    assert_false(probe_has_word("IMAP4rev1 XSTARTTLS", 19, "STARTTLS"));
}

/* ---- a connection over a socketpair ---- */

struct pair {
    struct mc_probe_opts o;
    struct probe_env env;
    struct probe_rec rec;
    struct probe_conn c;
    int peer;
    uint64_t findings;
};

static void count_finding(void *ctx, const struct mc_finding *f)
{
    (void)f;
    ((struct pair *)ctx)->findings++;
}

static void pair_open(struct pair *p, size_t line_max, unsigned timeout_ms)
{
    int sv[2];
    memset(p, 0, sizeof(*p));
    mc_probe_opts_init(&p->o);
    p->o.line_max = line_max;
    p->o.timeout_ms = timeout_ms;
    p->env.o = &p->o;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    p->rec.s = mc_session_new("pair", MC_PROTO_POP3, count_finding, p);
    assert_true(probe_conn_init(&p->c, &p->env, &p->rec));
    p->c.fd = sv[0];
    p->peer = sv[1];
}

static void pair_close(struct pair *p)
{
    probe_conn_free(&p->c);
    if (p->peer >= 0)
        close(p->peer);
    mc_session_free(p->rec.s);
}

static void test_conn_lines(void **state)
{
    struct pair p;
    const char *l;
    size_t n;
    (void)state;
    pair_open(&p, 64, 2000);
    assert_int_equal(write(p.peer, "+OK ready\r\n", 11), 11);
    probe_expect(&p.c);
    assert_int_equal(probe_line(&p.c, &l, &n), PROBE_OK);
    assert_int_equal(n, 9);
    assert_memory_equal(l, "+OK ready", 9);
    assert_int_equal(probe_send(&p.c, "QUIT\r\n", 6), PROBE_OK);
    /* a line in two pieces */
    assert_int_equal(write(p.peer, "+OK", 3), 3);
    assert_int_equal(write(p.peer, " bye\r\n", 6), 6);
    assert_int_equal(probe_line(&p.c, &l, &n), PROBE_OK);
    assert_int_equal(n, 7);
    assert_memory_equal(l, "+OK bye", 7);
    close(p.peer);
    p.peer = -1;
    assert_int_equal(probe_line(&p.c, &l, &n), PROBE_EOF);
    /* what was sent and received went into the session, in order: a
     * conformant POP3 session, so no findings */
    mc_session_finish(p.rec.s);
    assert_int_equal(mc_session_proto(p.rec.s), MC_PROTO_POP3);
    assert_true(mc_session_validated(p.rec.s));
    assert_int_equal(p.findings, 0);
    pair_close(&p);
}

static void test_conn_endless_line(void **state)
{
    struct pair p;
    const char *l;
    size_t n;
    char junk[200];
    (void)state;
    pair_open(&p, 100, 2000);
    memset(junk, 'A', sizeof(junk));
    assert_int_equal(write(p.peer, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    probe_expect(&p.c);
    assert_int_equal(probe_line(&p.c, &l, &n), PROBE_TOO_LONG);
    pair_close(&p);
}

static void test_conn_timeout(void **state)
{
    struct pair p;
    const char *l;
    size_t n;
    uint64_t t0;
    (void)state;
    pair_open(&p, 100, 150);
    t0 = probe_now_ms();
    probe_expect(&p.c);
    assert_int_equal(probe_line(&p.c, &l, &n), PROBE_TIMEOUT);
    assert_true(probe_now_ms() - t0 >= 140);
    assert_true(probe_now_ms() - t0 < 2000);
    pair_close(&p);
}

static void test_conn_literal_skip(void **state)
{
    struct pair p;
    const char *l;
    size_t n;
    (void)state;
    pair_open(&p, 64, 2000);
    assert_int_equal(write(p.peer, "* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n", 31), 31);
    probe_expect(&p.c);
    assert_int_equal(probe_line(&p.c, &l, &n), PROBE_OK);
    assert_int_equal(probe_skip(&p.c, 5), PROBE_OK);
    assert_int_equal(probe_line(&p.c, &l, &n), PROBE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(l[0], ')');
    pair_close(&p);
}

/* ---- the matrix ---- */

static void test_matrix(void **state)
{
    static const char *const hosts[] = {"a.example", "b.example"};
    static const char *const modes[] = {"POP3-Plain", "IMAP4-SSL"};
    struct mc_matrix_tls tls = {"TLSv1.3",
                                "TLS_AES_128_GCM_SHA256",
                                "CN=a",
                                "CN=ca",
                                "2030-01-01T00:00:00Z",
                                "a.example",
                                true,
                                true};
    struct mc_matrix_cell cells[4] = {
        {"a.example", "POP3-Plain", 110, "works", NULL, NULL, 0, 0, 0, NULL, NULL, 0},
        {"b.example", "POP3-Plain", 110, "not offered", "connection refused", NULL, 0, 0, 0, NULL,
         NULL, 0},
        {"a.example", "IMAP4-SSL", 993, "works with warnings", NULL, &tls, 0, 1, 0, "x.mct", NULL,
         0},
        {"b.example", "IMAP4-SSL", 993, "failed", "timeout waiting for the greeting", NULL, 0, 0, 0,
         NULL, NULL, 0},
    };
    struct mc_matrix m = {hosts, 2, modes, 2, cells};
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    (void)state;
    f = open_memstream(&buf, &len);
    mc_report_matrix_text(f, &m, false);
    fclose(f);
    assert_non_null(strstr(buf, "mode        a.example            b.example\n"));
    assert_non_null(strstr(buf, "POP3-Plain  works                not offered\n"));
    assert_non_null(
        strstr(buf, "IMAP4-SSL   works with warnings  failed: timeout waiting for the greeting\n"));
    assert_non_null(
        strstr(buf, "b.example / POP3-Plain (port 110): not offered: connection refused\n"));
    free(buf);
    f = open_memstream(&buf, &len);
    mc_report_matrix_md(f, &m);
    fclose(f);
    assert_non_null(strstr(buf, "| mode | a.example | b.example |\n|---|---|---|\n"
                                "| POP3-Plain | works | not offered |\n"));
    free(buf);
    f = open_memstream(&buf, &len);
    mc_report_matrix_json(f, &m);
    fclose(f);
    assert_non_null(
        strstr(buf, "{\"host\":\"a.example\",\"mode\":\"IMAP4-SSL\",\"port\":993,"
                    "\"verdict\":\"works with warnings\",\"reason\":null,\"tls\":{\"version\":"
                    "\"TLSv1.3\",\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"subject\":\"CN=a\","
                    "\"issuer\":\"CN=ca\",\"not_after\":\"2030-01-01T00:00:00Z\",\"verified\":true,"
                    "\"name_ok\":true,\"sni\":\"a.example\"},\"findings\":1,\"errors\":0,"
                    "\"warnings\":1,\"notes\":0,\"transcript\":\"x.mct\""));
    assert_non_null(strstr(buf, "\"summary\":{\"cells\":4,\"works\":1,\"works with warnings\":1,"
                                "\"non-conformant\":0,\"not offered\":1,\"failed\":1}}"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_table),       cmocka_unit_test(test_modes_and_ports),
        cmocka_unit_test(test_targets),           cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_line_scan),         cmocka_unit_test(test_conn_lines),
        cmocka_unit_test(test_conn_endless_line), cmocka_unit_test(test_conn_timeout),
        cmocka_unit_test(test_conn_literal_skip), cmocka_unit_test(test_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
