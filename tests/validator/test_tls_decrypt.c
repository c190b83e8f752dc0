/*
 * TLS record tracking and decryption on real traffic: the recordings of
 * tests/data/tls/ (openssl s_server and Python's ssl client on loopback,
 * made by tests/tls/gen_tls_streams.py) or, when MC_TLS_FIXTURE_DIR is set,
 * recordings made at test time by the same script (the "tls_live" ctest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tls_test_util.h"

#ifndef MC_TLS_DATA_DIR
#error "MC_TLS_DATA_DIR must name tests/data/tls"
#endif

struct fixture {
    uint8_t *rec, *c2s, *s2c, *meta;
    size_t rec_len, c2s_len, s2c_len, meta_len;
    struct mc_tls_keylog *kl;
    char dir[512];
};

static const char *data_dir(void)
{
    const char *d = getenv("MC_TLS_FIXTURE_DIR");
    return d && *d ? d : MC_TLS_DATA_DIR;
}

static uint8_t *load(const struct fixture *f, const char *name, size_t *len)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    uint8_t *p = tt_read_file(path, len);
    if (!p)
        fail_msg("cannot read %s", path);
    return p;
}

static void fixture_load(struct fixture *f, const char *name)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/%s", data_dir(), name);
    f->rec = load(f, "chunks.bin", &f->rec_len);
    f->c2s = load(f, "c2s.txt", &f->c2s_len);
    f->s2c = load(f, "s2c.txt", &f->s2c_len);
    f->meta = load(f, "meta", &f->meta_len);
    f->kl = mc_tls_keylog_new();
    assert_non_null(f->kl);
    char path[700];
    snprintf(path, sizeof path, "%s/keylog", f->dir);
    assert_int_equal(mc_tls_keylog_load_file(f->kl, path, NULL, NULL), 0);
}

static void fixture_free(struct fixture *f)
{
    free(f->rec);
    free(f->c2s);
    free(f->s2c);
    free(f->meta);
    mc_tls_keylog_free(f->kl);
}

static unsigned meta_hex(const struct fixture *f, const char *key)
{
    const char *p = strstr((const char *)f->meta, key);
    assert_non_null(p);
    return (unsigned)strtoul(p + strlen(key) + 1, NULL, 16);
}

/* Events other than the notes a clean conversation may give. */
static unsigned count_events(const struct tt_log *l)
{
    unsigned n = 0;
    for (int i = 0; i < MC_TLS_EV_COUNT; i++)
        if (i != MC_TLS_EV_HELLO_RETRY && i != MC_TLS_EV_KEY_UPDATE)
            n += l->ev[i];
    return n;
}

/* The whole conversation decrypts to what the client sent and received,
 * with no event at all, the hellos say what was negotiated, and both
 * sides closed with close_notify. */
static void check_clean_decrypt(const char *name)
{
    struct fixture f;
    struct tt_log log = {0};
    fixture_load(&f, name);
    assert_int_equal(tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log), 0);
    if (count_events(&log) != 0)
        fail_msg("%s: unexpected events:\n%s", name, (char *)log.text.p);
    assert_int_equal(log.app[0].n, f.c2s_len);
    assert_memory_equal(log.app[0].p, f.c2s, f.c2s_len);
    assert_int_equal(log.app[1].n, f.s2c_len);
    assert_memory_equal(log.app[1].p, f.s2c, f.s2c_len);
    assert_int_equal(log.hello[1].version, meta_hex(&f, "version"));
    assert_int_equal(log.hello[1].suites[0], meta_hex(&f, "suite"));
    assert_true(log.hello[0].has_sni);
    assert_string_equal(log.hello[0].sni, "mail.example");
    assert_string_equal(log.hello[0].alpn, "imap,pop3");
    assert_int_equal(log.close_notify, 2);
    fixture_free(&f);
    tt_log_free(&log);
}

static void test_tls13_aes128gcm(void **st) { (void)st; check_clean_decrypt("tls13-aes128gcm"); }
static void test_tls13_aes256gcm(void **st) { (void)st; check_clean_decrypt("tls13-aes256gcm"); }
static void test_tls13_chacha20(void **st) { (void)st; check_clean_decrypt("tls13-chacha20"); }
static void test_tls12_aes128gcm(void **st) { (void)st; check_clean_decrypt("tls12-ecdhe-aes128gcm"); }
static void test_tls12_aes256gcm(void **st) { (void)st; check_clean_decrypt("tls12-ecdhe-aes256gcm"); }
static void test_tls12_chacha20(void **st) { (void)st; check_clean_decrypt("tls12-ecdhe-chacha20"); }

static void test_tls13_hello_retry(void **st)
{
    struct fixture f;
    struct tt_log log = {0};
    (void)st;
    check_clean_decrypt("tls13-hrr");
    fixture_load(&f, "tls13-hrr");
    tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log);
    assert_int_equal(log.ev[MC_TLS_EV_HELLO_RETRY], 1);
    assert_int_equal(log.hellos[0], 2); /* the ClientHello again */
    assert_int_equal(log.hellos[1], 2); /* HelloRetryRequest, then the ServerHello */
    assert_false(log.hello[1].hrr);
    fixture_free(&f);
    tt_log_free(&log);
}

/* openssl s_client's "K": a KeyUpdate with update_requested, the server's
 * KeyUpdate in answer; both directions go on decrypting. */
static void test_tls13_key_update_real(void **st)
{
    struct fixture f;
    struct tt_log log = {0};
    (void)st;
    check_clean_decrypt("tls13-keyupdate");
    fixture_load(&f, "tls13-keyupdate");
    tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log);
    assert_int_equal(log.ev[MC_TLS_EV_KEY_UPDATE], 2);
    assert_non_null(strstr((char *)log.text.p, "client updates its keys (update_requested)"));
    assert_non_null(strstr((char *)log.text.p, "server updates its keys (update_not_requested)"));
    fixture_free(&f);
    tt_log_free(&log);
}

/* The negotiated ALPN protocol comes from the decrypted EncryptedExtensions
 * in TLS 1.3 and from the ServerHello in TLS 1.2. */
static void test_alpn_and_info(void **st)
{
    const char *names[] = {"tls13-chacha20", "tls12-ecdhe-chacha20"};
    (void)st;
    for (int i = 0; i < 2; i++) {
        struct fixture f;
        struct tt_log log = {0};
        fixture_load(&f, names[i]);
        tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log);
        assert_non_null(strstr((char *)log.text.p, "alpn=imap\n"));
        assert_non_null(strstr((char *)log.text.p, "sni=mail.example alpn=imap\n"));
        /* the ClientHello offered TLS 1.3 (Python's default) or only up to 1.2 */
        assert_int_equal(log.hello[0].version, i == 0 ? 0x0304 : 0x0303);
        assert_true(log.hello[0].n_suites > 3);
        fixture_free(&f);
        tt_log_free(&log);
    }
}

/* Every split of either direction gives the same callbacks; and feeding
 * one octet at a time too. */
static void check_split_invariance(const char *name)
{
    struct fixture f;
    struct tt_log whole = {0};
    fixture_load(&f, name);
    tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &whole);
    uint64_t stream_len[2] = {0, 0};
    for (size_t k = 0; k + 5 <= f.rec_len;) {
        size_t n = (size_t)f.rec[k + 1] << 24 | (size_t)f.rec[k + 2] << 16 |
                   (size_t)f.rec[k + 3] << 8 | f.rec[k + 4];
        stream_len[f.rec[k] == 'S'] += n;
        k += 5 + n;
    }
    assert_true(stream_len[0] > 3000 && stream_len[1] > 3000);
    for (int dir = 0; dir < 2; dir++) {
        for (uint64_t at = 1; at < stream_len[dir]; at++) {
            struct tt_log cut = {0};
            tt_run(f.rec, f.rec_len, f.kl, 0, dir, at, &cut);
            if (cut.text.n != whole.text.n || memcmp(cut.text.p, whole.text.p, whole.text.n))
                fail_msg("%s: split of dir %d at %llu differs:\n%s\nvs whole:\n%s", name, dir,
                         (unsigned long long)at, (char *)cut.text.p, (char *)whole.text.p);
            tt_log_free(&cut);
        }
    }
    struct tt_log bytes = {0};
    tt_run(f.rec, f.rec_len, f.kl, 1, -1, 0, &bytes);
    assert_int_equal(bytes.text.n, whole.text.n);
    assert_memory_equal(bytes.text.p, whole.text.p, whole.text.n);
    tt_log_free(&bytes);
    tt_log_free(&whole);
    fixture_free(&f);
}

static void test_split_tls13(void **st) { (void)st; check_split_invariance("tls13-aes256gcm"); }
static void test_split_tls12(void **st) { (void)st; check_split_invariance("tls12-ecdhe-aes128gcm"); }

/* Without a key log: the handshake is still tracked, one note names the
 * client random, nothing is decrypted, no tag failure is claimed. */
static void test_no_key(void **st)
{
    const char *names[] = {"tls13-aes128gcm", "tls12-ecdhe-aes256gcm"};
    (void)st;
    for (int i = 0; i < 2; i++) {
        struct fixture f;
        struct tt_log log = {0};
        char want[200] = "encrypted, not validated: no key for client random ";
        fixture_load(&f, names[i]);
        struct mc_tls_keylog *empty = mc_tls_keylog_new();
        tt_run(f.rec, f.rec_len, empty, 0, -1, 0, &log);
        assert_int_equal(log.ev[MC_TLS_EV_NO_KEY], 1);
        for (int k = 0; k < 32; k++)
            snprintf(want + strlen(want), 3, "%02x", log.hello[0].random[k]);
        assert_non_null(strstr(log.first_detail[MC_TLS_EV_NO_KEY], want));
        assert_int_equal(log.ev[MC_TLS_EV_DECRYPT_FAILED], 0);
        assert_int_equal(log.app[0].n + log.app[1].n, 0);
        assert_int_equal(log.hellos[1], 1);
        /* a NULL key log gives the same */
        struct tt_log log2 = {0};
        tt_run(f.rec, f.rec_len, NULL, 0, -1, 0, &log2);
        assert_int_equal(log2.text.n, log.text.n);
        mc_tls_keylog_free(empty);
        fixture_free(&f);
        tt_log_free(&log);
        tt_log_free(&log2);
    }
}

/* A key log of another connection's secrets under this client random:
 * authentication tag failures are reported, once per direction. */
static void test_wrong_key(void **st)
{
    const char *names[] = {"tls13-chacha20", "tls12-ecdhe-chacha20"};
    (void)st;
    for (int i = 0; i < 2; i++) {
        struct fixture f;
        struct tt_log log = {0};
        fixture_load(&f, names[i]);
        /* rewrite the key log: same randoms, every secret octet flipped */
        char path[700];
        size_t n = 0;
        snprintf(path, sizeof path, "%s/keylog", f.dir);
        uint8_t *text = tt_read_file(path, &n);
        assert_non_null(text);
        for (size_t k = 0; k < n; k++) {
            uint8_t *line_end = memchr(text + k, '\n', n - k);
            size_t e = line_end ? (size_t)(line_end - text) : n;
            uint8_t *sp = NULL;
            for (size_t j = e; j > k; j--)
                if (text[j - 1] == ' ') {
                    sp = text + j;
                    break;
                }
            if (sp && text[k] != '#')
                for (uint8_t *q = sp; q < text + e; q++)
                    *q = *q == '0' ? '1' : '0';
            k = e;
        }
        struct mc_tls_keylog *bad = mc_tls_keylog_new();
        assert_int_equal(mc_tls_keylog_load_mem(bad, "flipped", text, n, NULL, NULL), 0);
        tt_run(f.rec, f.rec_len, bad, 0, -1, 0, &log);
        assert_int_equal(log.ev[MC_TLS_EV_DECRYPT_FAILED], 2);
        assert_non_null(strstr(log.first_detail[MC_TLS_EV_DECRYPT_FAILED],
                               "authentication tag does not verify"));
        assert_int_equal(log.app[0].n + log.app[1].n, 0);
        assert_int_equal(log.ev[MC_TLS_EV_NO_KEY], 0);
        free(text);
        mc_tls_keylog_free(bad);
        fixture_free(&f);
        tt_log_free(&log);
    }
}

/* Flips one octet of the ciphertext of a record in the middle: that record
 * fails its tag, the records after it still decrypt. */
static void test_corrupted_record(void **st)
{
    const char *names[] = {"tls13-aes128gcm", "tls12-ecdhe-aes128gcm"};
    (void)st;
    for (int i = 0; i < 2; i++) {
        struct fixture f;
        struct tt_log log = {0};
        fixture_load(&f, names[i]);
        /* the client's long line: the largest client chunk */
        size_t best = 0, best_len = 0;
        for (size_t k = 0; k + 5 <= f.rec_len;) {
            size_t n = (size_t)f.rec[k + 1] << 24 | (size_t)f.rec[k + 2] << 16 |
                       (size_t)f.rec[k + 3] << 8 | f.rec[k + 4];
            if (f.rec[k] == 'C' && n > best_len) {
                best = k;
                best_len = n;
            }
            k += 5 + n;
        }
        assert_true(best_len > 3000);
        f.rec[best + 5 + 100] ^= 0x40;
        tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log);
        assert_int_equal(log.ev[MC_TLS_EV_DECRYPT_FAILED], 1);
        /* the first and the last line still arrive */
        assert_true(log.app[0].n > 0);
        assert_memory_equal(log.app[0].p, "a001 CAPABILITY\r\n", 17);
        assert_int_equal(log.app[0].n, f.c2s_len - (best_len - (i == 0 ? 22 : 29)));
        assert_memory_equal(log.app[1].p, f.s2c, f.s2c_len);
        fixture_free(&f);
        tt_log_free(&log);
    }
}

/* The capture ends inside a record, and a gap inside a record: reported,
 * nothing crashes, the rest decrypts after an in-record gap. */
static void test_truncated_and_gap(void **st)
{
    struct fixture f;
    struct tt_log log = {0};
    (void)st;
    fixture_load(&f, "tls13-aes128gcm");
    /* feed by hand: the first 3 chunks whole, then the client's long-line
     * record with 50 octets replaced by a gap */
    struct mc_tls_cb cb = tt_callbacks(&log);
    memset(&log, 0, sizeof log);
    struct mc_tls_conn *c = mc_tls_conn_new(&cb, f.kl);
    size_t k = 0;
    uint64_t frame = 0;
    while (k + 5 <= f.rec_len) {
        size_t n = (size_t)f.rec[k + 1] << 24 | (size_t)f.rec[k + 2] << 16 |
                   (size_t)f.rec[k + 3] << 8 | f.rec[k + 4];
        enum mc_tls_dir d = f.rec[k] == 'C' ? MC_TLS_C2S : MC_TLS_S2C;
        const uint8_t *p = f.rec + k + 5;
        frame++;
        if (d == MC_TLS_C2S && n > 3000) {
            mc_tls_conn_data(c, d, p, 1000, frame);
            mc_tls_conn_gap(c, d, 50, frame);
            mc_tls_conn_data(c, d, p + 1050, n - 1050, frame);
        } else {
            mc_tls_conn_data(c, d, p, n, frame);
        }
        k += 5 + n;
    }
    mc_tls_conn_end(c, MC_TLS_C2S, frame);
    mc_tls_conn_end(c, MC_TLS_S2C, frame);
    assert_int_equal(log.ev[MC_TLS_EV_GAP_IN_RECORD], 1);
    assert_int_equal(log.ev[MC_TLS_EV_DECRYPT_FAILED], 0);
    /* the record after the gap decrypts: the LOGOUT line arrives */
    assert_non_null(log.app[0].p);
    assert_int_equal(log.app[0].n, 17 + 13);
    assert_memory_equal(log.app[0].p + 17, "a003 LOGOUT\r\n", 13);
    mc_tls_conn_free(c);
    tt_log_free(&log);

    /* a gap between records loses the direction, and the end inside a
     * record is reported */
    memset(&log, 0, sizeof log);
    c = mc_tls_conn_new(&cb, f.kl);
    mc_tls_conn_data(c, MC_TLS_C2S, f.rec + 5, 100, 1);
    mc_tls_conn_end(c, MC_TLS_C2S, 2);
    assert_int_equal(log.ev[MC_TLS_EV_TRUNCATED_RECORD], 1);
    mc_tls_conn_gap(c, MC_TLS_S2C, 10, 3);
    mc_tls_conn_data(c, MC_TLS_S2C, (const uint8_t *)"\x16\x03\x03\x00\x01\x02", 6, 4);
    assert_int_equal(log.ev[MC_TLS_EV_GAP_LOST], 1);
    assert_int_equal(log.hellos[1], 0);
    assert_true(mc_tls_conn_info(c)->lost[1]);
    mc_tls_conn_free(c);
    tt_log_free(&log);
    fixture_free(&f);
}

/* RFC 8996: TLS 1.1 negotiated is reported; its CBC suite is not
 * decryptable, which is said once; the encrypted alerts are unreadable. */
static void test_tls11_detected(void **st)
{
    struct fixture f;
    struct tt_log log = {0};
    (void)st;
    fixture_load(&f, "tls11");
    tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log);
    assert_int_equal(log.ev[MC_TLS_EV_OLD_VERSION], 1);
    assert_non_null(strstr(log.first_detail[MC_TLS_EV_OLD_VERSION], "TLS 1.1"));
    assert_int_equal(log.hello[1].version, 0x0302);
    assert_int_equal(log.ev[MC_TLS_EV_UNSUPPORTED_SUITE], 1);
    assert_int_equal(log.ev[MC_TLS_EV_DECRYPT_FAILED], 0);
    assert_int_equal(log.ev[MC_TLS_EV_NO_CLOSE_NOTIFY], 0);
    assert_int_equal(log.app[0].n + log.app[1].n, 0);
    fixture_free(&f);
    tt_log_free(&log);
}

/* A TLS 1.3-only client and a TLS 1.2-only server: the server's fatal
 * protocol_version alert during the handshake. */
static void test_handshake_failure(void **st)
{
    struct fixture f;
    struct tt_log log = {0};
    (void)st;
    fixture_load(&f, "handshake-failure");
    tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log);
    assert_int_equal(log.ev[MC_TLS_EV_HANDSHAKE_FAILED], 1);
    assert_non_null(strstr(log.first_detail[MC_TLS_EV_HANDSHAKE_FAILED], "protocol_version (70)"));
    assert_int_equal(log.fatal_alerts, 1);
    assert_int_equal(log.last_alert_desc, 70);
    assert_int_equal(log.hellos[0], 1);
    assert_int_equal(log.hellos[1], 0);
    fixture_free(&f);
    tt_log_free(&log);
}

/* Frames: app data carries the frame of the chunk that completed its
 * record. Checked against the recording parsed here on its own: the frame
 * holding the last octet of every application_data record (TLS 1.2, where
 * alerts have their own type). */
static void test_frames(void **st)
{
    struct fixture f;
    struct tt_log log = {0};
    (void)st;
    fixture_load(&f, "tls12-ecdhe-chacha20");
    tt_run(f.rec, f.rec_len, f.kl, 0, -1, 0, &log);
    for (int dir = 0; dir < 2; dir++) {
        const char tag = dir ? 'S' : 'C';
        uint64_t frame = 0, want[64];
        unsigned n_want = 0;
        uint8_t hdr[5];
        size_t hdr_have = 0, body_left = 0;
        bool app = false;
        for (size_t k = 0; k + 5 <= f.rec_len;) {
            size_t n = (size_t)f.rec[k + 1] << 24 | (size_t)f.rec[k + 2] << 16 |
                       (size_t)f.rec[k + 3] << 8 | f.rec[k + 4];
            frame++;
            if (f.rec[k] == tag) {
                for (size_t i = 0; i < n; i++) {
                    uint8_t b = f.rec[k + 5 + i];
                    if (body_left == 0) {
                        hdr[hdr_have++] = b;
                        if (hdr_have == 5) {
                            hdr_have = 0;
                            body_left = (size_t)hdr[3] << 8 | hdr[4];
                            app = hdr[0] == 23;
                        }
                    } else if (--body_left == 0 && app && n_want < 64) {
                        want[n_want++] = frame;
                    }
                }
            }
            k += 5 + n;
        }
        assert_int_equal(n_want, 3);
        assert_int_equal(log.n_app[dir], n_want);
        for (unsigned i = 0; i < n_want; i++)
            assert_int_equal(log.app_frames[dir][i], want[i]);
    }
    fixture_free(&f);
    tt_log_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls13_aes128gcm),
        cmocka_unit_test(test_tls13_aes256gcm),
        cmocka_unit_test(test_tls13_chacha20),
        cmocka_unit_test(test_tls12_aes128gcm),
        cmocka_unit_test(test_tls12_aes256gcm),
        cmocka_unit_test(test_tls12_chacha20),
        cmocka_unit_test(test_tls13_hello_retry),
        cmocka_unit_test(test_tls13_key_update_real),
        cmocka_unit_test(test_alpn_and_info),
        cmocka_unit_test(test_no_key),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_corrupted_record),
        cmocka_unit_test(test_truncated_and_gap),
        cmocka_unit_test(test_tls11_detected),
        cmocka_unit_test(test_handshake_failure),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_split_tls13),
        cmocka_unit_test(test_split_tls12),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
