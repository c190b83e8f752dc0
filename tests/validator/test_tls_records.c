/*
 * TLS record layer and handshake parsing on crafted input: anomalies at the
 * start and after it, length limits, alerts, hellos (SNI, ALPN,
 * supported_versions with GREASE, fragmentation across records), and a
 * synthetic TLS 1.3 session encrypted here with known secrets to reach
 * what the recorded peers do not do: KeyUpdate, padding, inner content
 * without a type, 0-RTT early data, record too long after protection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "tls_crypto.h"
#include "tls_test_util.h"

/* ---- building records ------------------------------------------------------ */

static void put8(struct tt_buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    tt_put(b, &x, 1);
}

static void put16(struct tt_buf *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put24(struct tt_buf *b, unsigned v)
{
    put8(b, v >> 16);
    put16(b, v & 0xffff);
}

static void record(struct tt_buf *out, unsigned type, unsigned version, const void *p, size_t n)
{
    put8(out, type);
    put16(out, version);
    put16(out, (unsigned)n);
    tt_put(out, p, n);
}

static void handshake(struct tt_buf *out, unsigned type, const struct tt_buf *body)
{
    put8(out, type);
    put24(out, (unsigned)body->n);
    tt_put(out, body->p, body->n);
}

static const uint8_t client_random[32] = {
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
};

/* A ClientHello body: TLS 1.3 offered (after a GREASE value), SNI, ALPN,
 * optionally early_data. */
static void client_hello(struct tt_buf *hs, bool early)
{
    struct tt_buf body = {0}, ext = {0};
    put16(&body, 0x0303);
    tt_put(&body, client_random, 32);
    put8(&body, 0);
    put16(&body, 6);
    put16(&body, 0x1301);
    put16(&body, 0x1302);
    put16(&body, 0xC02B);
    put8(&body, 1);
    put8(&body, 0);
    /* server_name */
    put16(&ext, 0);
    put16(&ext, 2 + 1 + 2 + 11);
    put16(&ext, 1 + 2 + 11);
    put8(&ext, 0);
    put16(&ext, 11);
    tt_put(&ext, "imap.example", 11); /* "imap.exampl": 11 of 12 */
    /* ALPN: imap, pop3 */
    put16(&ext, 16);
    put16(&ext, 2 + 5 + 5);
    put16(&ext, 5 + 5);
    put8(&ext, 4);
    tt_put(&ext, "imap", 4);
    put8(&ext, 4);
    tt_put(&ext, "pop3", 4);
    /* supported_versions: GREASE, 1.3, 1.2 */
    put16(&ext, 43);
    put16(&ext, 7);
    put8(&ext, 6);
    put16(&ext, 0x7a7a);
    put16(&ext, 0x0304);
    put16(&ext, 0x0303);
    if (early) {
        put16(&ext, 42);
        put16(&ext, 0);
    }
    put16(&body, (unsigned)ext.n);
    tt_put(&body, ext.p, ext.n);
    handshake(hs, 1, &body);
    tt_free(&body);
    tt_free(&ext);
}

static void server_hello(struct tt_buf *hs, unsigned version, unsigned suite, bool sv)
{
    struct tt_buf body = {0};
    uint8_t random[32];
    memset(random, 0x22, sizeof random);
    put16(&body, version > 0x0303 ? 0x0303 : version);
    tt_put(&body, random, 32);
    put8(&body, 0);
    put16(&body, suite);
    put8(&body, 0);
    if (sv) {
        put16(&body, 6);
        put16(&body, 43);
        put16(&body, 2);
        put16(&body, version);
    }
    handshake(hs, 2, &body);
    tt_free(&body);
}

static unsigned count_ev_total(const struct tt_log *l)
{
    unsigned n = 0;
    for (int i = 0; i < MC_TLS_EV_COUNT; i++)
        n += l->ev[i];
    return n;
}

/* ---- a run ----------------------------------------------------------------- */

struct run {
    struct tt_log log;
    struct mc_tls_cb cb;
    struct mc_tls_conn *c;
    uint64_t frame;
};

static void run_start(struct run *r, const struct mc_tls_keylog *kl)
{
    memset(r, 0, sizeof *r);
    r->cb = tt_callbacks(&r->log);
    r->c = mc_tls_conn_new(&r->cb, kl);
    assert_non_null(r->c);
}

static void give(struct run *r, enum mc_tls_dir d, const void *p, size_t n)
{
    mc_tls_conn_data(r->c, d, p, n, ++r->frame);
}

static void give_buf(struct run *r, enum mc_tls_dir d, struct tt_buf *b)
{
    give(r, d, b->p, b->n);
    tt_free(b);
}

static void run_end(struct run *r)
{
    mc_tls_conn_end(r->c, MC_TLS_C2S, ++r->frame);
    mc_tls_conn_end(r->c, MC_TLS_S2C, r->frame);
    mc_tls_conn_free(r->c);
    tt_log_free(&r->log);
}

static void plain_hello(struct run *r)
{
    struct tt_buf hs = {0}, rec = {0};
    client_hello(&hs, false);
    record(&rec, 22, 0x0301, hs.p, hs.n);
    tt_free(&hs);
    give_buf(r, MC_TLS_C2S, &rec);
}

/* ---- start of TLS ---------------------------------------------------------- */

static void test_not_tls_at_start(void **st)
{
    struct run r;
    (void)st;
    run_start(&r, NULL);
    give(&r, MC_TLS_C2S, "EHLO x\r\n", 8);
    assert_int_equal(r.log.ev[MC_TLS_EV_NOT_TLS], 1);
    assert_non_null(strstr(r.log.first_detail[MC_TLS_EV_NOT_TLS], "\"EHLO \""));
    assert_true(mc_tls_conn_info(r.c)->lost[0]);
    give(&r, MC_TLS_C2S, "\x16\x03\x01\x00\x00", 5); /* ignored: lost */
    assert_int_equal(mc_tls_conn_info(r.c)->records[0], 0);
    /* the server answers in plaintext where TLS must start */
    give(&r, MC_TLS_S2C, "-ERR", 4);
    mc_tls_conn_end(r.c, MC_TLS_S2C, 9);
    assert_int_equal(r.log.ev[MC_TLS_EV_NOT_TLS], 2);
    run_end(&r);

    run_start(&r, NULL); /* SSL 2.0 hello: 0x80 len, type 1 */
    give(&r, MC_TLS_C2S, "\x80\x2e\x01\x00\x02", 5);
    assert_int_equal(r.log.ev[MC_TLS_EV_SSLV2_HELLO], 1);
    run_end(&r);
}

static void test_plaintext_after_start(void **st)
{
    struct run r;
    (void)st;
    run_start(&r, NULL);
    plain_hello(&r);
    assert_int_equal(r.log.hellos[0], 1);
    give(&r, MC_TLS_C2S, "a001 LOGIN", 10);
    assert_int_equal(r.log.ev[MC_TLS_EV_PLAINTEXT_AFTER_START], 1);
    assert_non_null(strstr(r.log.first_detail[MC_TLS_EV_PLAINTEXT_AFTER_START], "a001 "));
    run_end(&r);

    run_start(&r, NULL); /* binary garbage: bad type; then bad version */
    plain_hello(&r);
    give(&r, MC_TLS_C2S, "\x99\x03\x03\x00\x01", 5);
    assert_int_equal(r.log.ev[MC_TLS_EV_BAD_RECORD_TYPE], 1);
    give(&r, MC_TLS_S2C, "\x16\x03\x03\x00\x00", 5);
    give(&r, MC_TLS_S2C, "\x16\x02\x00\x00\x01", 5);
    assert_int_equal(r.log.ev[MC_TLS_EV_EMPTY_RECORD], 1);
    assert_int_equal(r.log.ev[MC_TLS_EV_BAD_RECORD_VERSION], 1);
    run_end(&r);
}

/* ---- lengths ----------------------------------------------------------------- */

static void test_record_too_long(void **st)
{
    struct run r;
    static uint8_t big[20000];
    (void)st;
    run_start(&r, NULL);
    plain_hello(&r);
    /* 2^14 + 1 plaintext: reported, still parsed (buffer holds it) */
    uint8_t hdr[5] = {22, 3, 3, 0x40, 0x01};
    give(&r, MC_TLS_C2S, hdr, 5);
    give(&r, MC_TLS_C2S, big, 16385);
    assert_int_equal(r.log.ev[MC_TLS_EV_RECORD_TOO_LONG], 1);
    /* 20000 octets: more than any record may be: skipped by its length,
     * the record after it is parsed */
    uint8_t hdr2[5] = {23, 3, 3, 20000 >> 8, 20000 & 0xff};
    give(&r, MC_TLS_C2S, hdr2, 5);
    for (int i = 0; i < 4; i++)
        give(&r, MC_TLS_C2S, big, 5000);
    assert_int_equal(r.log.ev[MC_TLS_EV_RECORD_TOO_LONG], 2);
    give(&r, MC_TLS_C2S, "\x15\x03\x03\x00\x02\x02\x28", 7); /* fatal handshake_failure */
    assert_int_equal(r.log.alerts, 1);
    assert_int_equal(r.log.ev[MC_TLS_EV_HANDSHAKE_FAILED], 1);
    assert_false(mc_tls_conn_info(r.c)->lost[0]);
    /* the handshake message of 16385 octets of zeros: a HelloRequest (type 0)
     * of length 0, then more zero-length HelloRequests: nothing parsed */
    run_end(&r);
}

/* A ClientHello split across three records and a second one too long to
 * parse. */
static void test_hello_fragmented(void **st)
{
    struct run r;
    struct tt_buf hs = {0};
    (void)st;
    run_start(&r, NULL);
    client_hello(&hs, true);
    size_t a = 7, b = hs.n / 2;
    struct tt_buf rec = {0};
    record(&rec, 22, 0x0301, hs.p, a);
    record(&rec, 22, 0x0301, hs.p + a, b - a);
    record(&rec, 22, 0x0301, hs.p + b, hs.n - b);
    for (size_t i = 0; i < rec.n; i++) /* one octet at a time */
        give(&r, MC_TLS_C2S, rec.p + i, 1);
    tt_free(&rec);
    assert_int_equal(r.log.hellos[0], 1);
    const struct mc_tls_hello *h = &r.log.hello[0];
    assert_string_equal(h->sni, "imap.exampl");
    assert_string_equal(h->alpn, "imap,pop3");
    assert_int_equal(h->n_versions, 3);
    assert_int_equal(h->version, 0x0304); /* GREASE skipped */
    assert_int_equal(h->n_suites, 3);
    assert_int_equal(h->suites[2], 0xC02B);
    assert_true(h->early_data);
    assert_memory_equal(h->random, client_random, 32);
    assert_int_equal(count_ev_total(&r.log), 0);
    tt_free(&hs);
    run_end(&r);
}

static void test_bad_hellos(void **st)
{
    struct run r;
    struct tt_buf hs = {0}, rec = {0};
    (void)st;
    /* a ClientHello whose extension list overruns the message */
    run_start(&r, NULL);
    client_hello(&hs, false);
    /* header 4, version 2, random 32, session id 1, suites 2+6, compression
     * 2, extensions length 2, then server_name: type 2, length 2, list
     * length at 55: now longer than the extension */
    hs.p[55] = 0x7f;
    record(&rec, 22, 0x0301, hs.p, hs.n);
    give_buf(&r, MC_TLS_C2S, &rec);
    tt_free(&hs);
    if (r.log.ev[MC_TLS_EV_BAD_MESSAGE] != 1)
        fail_msg("%s", (char *)r.log.text.p);
    assert_int_equal(r.log.hellos[0], 0);
    run_end(&r);

    /* a 20000-octet ClientHello: not parsed, said once */
    run_start(&r, NULL);
    static uint8_t zeros[20000];
    put8(&hs, 1);
    put24(&hs, 20000);
    tt_put(&hs, zeros, 20000);
    record(&rec, 22, 0x0301, hs.p, 16000);
    record(&rec, 22, 0x0301, hs.p + 16000, hs.n - 16000);
    give_buf(&r, MC_TLS_C2S, &rec);
    tt_free(&hs);
    assert_int_equal(r.log.ev[MC_TLS_EV_HANDSHAKE_TOO_LONG], 1);
    assert_int_equal(r.log.hellos[0], 0);
    assert_int_equal(r.log.ev[MC_TLS_EV_BAD_MESSAGE], 0);
    run_end(&r);

    /* a ServerHello selecting TLS 1.0: RFC 8996 */
    run_start(&r, NULL);
    plain_hello(&r);
    server_hello(&hs, 0x0301, 0xC013, false);
    record(&rec, 22, 0x0301, hs.p, hs.n);
    give_buf(&r, MC_TLS_S2C, &rec);
    tt_free(&hs);
    assert_int_equal(r.log.ev[MC_TLS_EV_OLD_VERSION], 1);
    assert_non_null(strstr(r.log.first_detail[MC_TLS_EV_OLD_VERSION], "TLS 1.0"));
    assert_int_equal(r.log.ev[MC_TLS_EV_UNSUPPORTED_SUITE], 1);
    run_end(&r);

    /* a ServerHello without any ClientHello (capture began later) */
    run_start(&r, NULL);
    server_hello(&hs, 0x0304, 0x1301, true);
    record(&rec, 22, 0x0303, hs.p, hs.n);
    give_buf(&r, MC_TLS_S2C, &rec);
    tt_free(&hs);
    assert_int_equal(r.log.ev[MC_TLS_EV_NO_KEY], 1);
    assert_non_null(strstr(r.log.first_detail[MC_TLS_EV_NO_KEY], "no ClientHello seen"));
    run_end(&r);
}

static void test_alerts_and_clear_data(void **st)
{
    struct run r;
    struct tt_buf hs = {0}, rec = {0};
    (void)st;
    run_start(&r, NULL);
    plain_hello(&r);
    give(&r, MC_TLS_C2S, "\x17\x03\x03\x00\x03" "abc", 8); /* app data in the clear */
    assert_int_equal(r.log.ev[MC_TLS_EV_UNEXPECTED_MESSAGE], 1);
    assert_int_equal(r.log.app[0].n, 0);
    give(&r, MC_TLS_S2C, "\x14\x03\x03\x00\x01\x01", 6); /* CCS before the ServerHello */
    assert_int_equal(r.log.ev[MC_TLS_EV_UNEXPECTED_MESSAGE], 2);
    give(&r, MC_TLS_S2C, "\x15\x03\x03\x00\x02\x01\x00", 7); /* close_notify */
    assert_int_equal(r.log.close_notify, 1);
    assert_int_equal(r.log.ev[MC_TLS_EV_HANDSHAKE_FAILED], 0);
    give(&r, MC_TLS_S2C, "\x15\x03\x03\x00\x03\x01\x00\x00", 8); /* 3-octet alert */
    assert_int_equal(r.log.ev[MC_TLS_EV_DATA_AFTER_CLOSE_NOTIFY], 1);
    assert_int_equal(r.log.ev[MC_TLS_EV_BAD_MESSAGE], 1);
    give(&r, MC_TLS_S2C, "\x15\x03\x03\x00\x00", 5); /* empty alert */
    assert_int_equal(r.log.ev[MC_TLS_EV_EMPTY_RECORD], 1);
    give(&r, MC_TLS_S2C, "\x18\x03\x03\x00\x01\x01", 6); /* heartbeat */
    assert_int_equal(r.log.ev[MC_TLS_EV_UNEXPECTED_MESSAGE], 3);
    run_end(&r);
    (void)hs;
    (void)rec;
}

/* ---- a synthetic TLS 1.3 session with known secrets ---------------------- */

struct sealer {
    EVP_CIPHER_CTX *ctx;
    uint8_t key[16], iv[12], secret[32];
    uint64_t seq;
};

static const struct mc_tls_suite *aes128(void)
{
    const struct mc_tls_suite *s = mc_tls_suite_find(0x1301);
    assert_non_null(s);
    return s;
}

static void sealer_set(struct sealer *s, const uint8_t secret[32])
{
    memcpy(s->secret, secret, 32);
    assert_true(mc_tls13_expand_label(aes128(), secret, 32, "key", s->key, 16));
    assert_true(mc_tls13_expand_label(aes128(), secret, 32, "iv", s->iv, 12));
    s->seq = 0;
    if (!s->ctx)
        s->ctx = EVP_CIPHER_CTX_new();
}

/* One protected record: content, inner type, pad zeros (RFC 8446 s5.2). */
static void seal(struct sealer *s, struct tt_buf *out, unsigned type, const void *p, size_t n,
                 size_t pad)
{
    uint8_t inner[17000], hdr[5], nonce[12], tag[16];
    int outl;
    size_t len = n + 1 + pad;
    assert_true(len <= sizeof inner);
    memcpy(inner, p, n);
    inner[n] = (uint8_t)type;
    memset(inner + n + 1, 0, pad);
    if (type == 0) /* no content type at all: all zeros */
        memset(inner, 0, len);
    hdr[0] = 23;
    hdr[1] = 3;
    hdr[2] = 3;
    hdr[3] = (uint8_t)((len + 16) >> 8);
    hdr[4] = (uint8_t)(len + 16);
    memcpy(nonce, s->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(s->seq >> (56 - 8 * i));
    s->seq++;
    assert_int_equal(EVP_EncryptInit_ex(s->ctx, EVP_aes_128_gcm(), NULL, s->key, nonce), 1);
    assert_int_equal(EVP_EncryptUpdate(s->ctx, NULL, &outl, hdr, 5), 1);
    assert_int_equal(EVP_EncryptUpdate(s->ctx, inner, &outl, inner, (int)len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(s->ctx, inner + outl, &outl), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
    tt_put(out, hdr, 5);
    tt_put(out, inner, len);
    tt_put(out, tag, 16);
}

static const char keylog_text[] =
    "# synthetic\n"
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET 1111111111111111111111111111111111111111111111111111111111111111 "
    "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\n"
    "SERVER_HANDSHAKE_TRAFFIC_SECRET 1111111111111111111111111111111111111111111111111111111111111111 "
    "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1\n"
    "CLIENT_TRAFFIC_SECRET_0 1111111111111111111111111111111111111111111111111111111111111111 "
    "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2\n"
    "SERVER_TRAFFIC_SECRET_0 1111111111111111111111111111111111111111111111111111111111111111 "
    "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2\n";

struct synth {
    struct run r;
    struct mc_tls_keylog *kl;
    struct sealer cs, ss;
};

/* Up to both Finished: ClientHello, ServerHello, the server's
 * EncryptedExtensions (ALPN imap) + Finished in one record (padded), the
 * client's Finished; then both sides on application keys. */
static void synth_handshake_keys(struct synth *y, bool early, bool bad_client_keys)
{
    uint8_t sec[32];
    struct tt_buf hs = {0}, rec = {0}, body = {0}, msgs = {0};
    char text[sizeof keylog_text];
    memcpy(text, keylog_text, sizeof text);
    if (bad_client_keys) { /* the key log has other client secrets */
        for (char *q = text; (q = strstr(q, "a1a1")) != NULL; q += 4)
            q[1] = '0';
        for (char *q = text; (q = strstr(q, "a2a2")) != NULL; q += 4)
            q[1] = '0';
    }
    memset(y, 0, sizeof *y);
    y->kl = mc_tls_keylog_new();
    assert_int_equal(mc_tls_keylog_load_mem(y->kl, "synthetic", (const uint8_t *)text,
                                            strlen(text), NULL, NULL), 0);
    assert_int_equal(mc_tls_keylog_count(y->kl), 4);
    run_start(&y->r, y->kl);
    client_hello(&hs, early);
    record(&rec, 22, 0x0301, hs.p, hs.n);
    tt_free(&hs);
    give_buf(&y->r, MC_TLS_C2S, &rec);
    if (early) { /* 0-RTT: a record under a key we do not have */
        struct sealer e = {0};
        memset(sec, 0xe1, 32);
        sealer_set(&e, sec);
        seal(&e, &rec, 23, "a0 NOOP\r\n", 9, 0);
        give_buf(&y->r, MC_TLS_C2S, &rec);
        EVP_CIPHER_CTX_free(e.ctx);
    }
    server_hello(&hs, 0x0304, 0x1301, true);
    record(&rec, 22, 0x0303, hs.p, hs.n);
    tt_free(&hs);
    give_buf(&y->r, MC_TLS_S2C, &rec);
    give(&y->r, MC_TLS_S2C, "\x14\x03\x03\x00\x01\x01", 6); /* compatibility CCS */

    memset(sec, 0xb1, 32);
    sealer_set(&y->ss, sec);
    put16(&body, 2 + 2 + 2 + 5 + (early ? 4 : 0));
    put16(&body, 16);
    put16(&body, 2 + 5);
    put16(&body, 5);
    put8(&body, 4);
    tt_put(&body, "imap", 4);
    if (early) { /* the server accepts 0-RTT data */
        put16(&body, 42);
        put16(&body, 0);
    }
    handshake(&msgs, 8, &body);
    tt_free(&body);
    tt_put(&body, sec, 32); /* a Finished's verify_data: its value is not checked */
    handshake(&msgs, 20, &body);
    seal(&y->ss, &rec, 22, msgs.p, msgs.n, 40);
    tt_free(&msgs);
    give_buf(&y->r, MC_TLS_S2C, &rec);

    memset(sec, 0xa1, 32);
    sealer_set(&y->cs, sec);
    give(&y->r, MC_TLS_C2S, "\x14\x03\x03\x00\x01\x01", 6);
    handshake(&msgs, 20, &body);
    tt_free(&body);
    seal(&y->cs, &rec, 22, msgs.p, msgs.n, 0);
    tt_free(&msgs);
    give_buf(&y->r, MC_TLS_C2S, &rec);

    memset(sec, 0xa2, 32);
    sealer_set(&y->cs, sec);
    memset(sec, 0xb2, 32);
    sealer_set(&y->ss, sec);
}

static void synth_handshake(struct synth *y, bool early)
{
    synth_handshake_keys(y, early, false);
}

static void synth_free(struct synth *y)
{
    run_end(&y->r);
    EVP_CIPHER_CTX_free(y->cs.ctx);
    EVP_CIPHER_CTX_free(y->ss.ctx);
    mc_tls_keylog_free(y->kl);
}

static void key_update(struct synth *y, struct sealer *s, enum mc_tls_dir d, bool request)
{
    struct tt_buf msgs = {0}, body = {0}, rec = {0};
    put8(&body, request);
    handshake(&msgs, 24, &body);
    seal(s, &rec, 22, msgs.p, msgs.n, 0);
    give_buf(&y->r, d, &rec);
    tt_free(&msgs);
    tt_free(&body);
    /* the sender's next secret */
    uint8_t next[32];
    assert_true(mc_tls13_expand_label(aes128(), s->secret, 32, "traffic upd", next, 32));
    sealer_set(s, next);
}

static void test_tls13_key_update(void **st)
{
    struct synth y;
    struct tt_buf rec = {0};
    (void)st;
    synth_handshake(&y, false);
    assert_string_equal(mc_tls_conn_info(y.r.c)->alpn, "imap");
    assert_true(mc_tls_conn_info(y.r.c)->handshake_done[0]);
    assert_true(mc_tls_conn_info(y.r.c)->handshake_done[1]);

    seal(&y.ss, &rec, 23, "* OK ready\r\n", 12, 0);
    give_buf(&y.r, MC_TLS_S2C, &rec);
    seal(&y.cs, &rec, 23, "a1 NOOP\r\n", 9, 100); /* padded */
    give_buf(&y.r, MC_TLS_C2S, &rec);
    key_update(&y, &y.cs, MC_TLS_C2S, true);
    key_update(&y, &y.ss, MC_TLS_S2C, false);
    seal(&y.cs, &rec, 23, "a2 LOGOUT\r\n", 11, 0);
    give_buf(&y.r, MC_TLS_C2S, &rec);
    key_update(&y, &y.cs, MC_TLS_C2S, false); /* twice in a row */
    seal(&y.cs, &rec, 23, "a3 X\r\n", 6, 0);
    give_buf(&y.r, MC_TLS_C2S, &rec);
    seal(&y.ss, &rec, 23, "* BYE\r\n", 7, 0);
    give_buf(&y.r, MC_TLS_S2C, &rec);
    seal(&y.ss, &rec, 21, "\x01\x00", 2, 0);
    give_buf(&y.r, MC_TLS_S2C, &rec);

    assert_int_equal(y.r.log.ev[MC_TLS_EV_KEY_UPDATE], 3);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_DECRYPT_FAILED], 0);
    assert_int_equal(y.r.log.app[0].n, 9 + 11 + 6);
    assert_memory_equal(y.r.log.app[0].p, "a1 NOOP\r\na2 LOGOUT\r\na3 X\r\n", 26);
    assert_memory_equal(y.r.log.app[1].p, "* OK ready\r\n* BYE\r\n", 19);
    assert_int_equal(y.r.log.close_notify, 1);
    /* the client did not close: its end is noted */
    mc_tls_conn_end(y.r.c, MC_TLS_C2S, 99);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_NO_CLOSE_NOTIFY], 1);
    synth_free(&y);
}

static void test_tls13_bad_inner(void **st)
{
    struct synth y;
    struct tt_buf rec = {0};
    static uint8_t big[16400];
    (void)st;
    synth_handshake(&y, false);
    seal(&y.cs, &rec, 0, "xx", 2, 3); /* all zeros: no content type */
    give_buf(&y.r, MC_TLS_C2S, &rec);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_BAD_INNER_PLAINTEXT], 1);
    memset(big, 'a', sizeof big);
    seal(&y.cs, &rec, 23, big, 16385, 0); /* content 2^14 + 1 */
    give_buf(&y.r, MC_TLS_C2S, &rec);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_BAD_INNER_PLAINTEXT], 2);
    seal(&y.cs, &rec, 23, big, 10, 16400 - 11 + 300); /* ciphertext over 2^14 + 256 */
    give_buf(&y.r, MC_TLS_C2S, &rec);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_RECORD_TOO_LONG], 1);
    seal(&y.cs, &rec, 23, "ok\r\n", 4, 0);
    give_buf(&y.r, MC_TLS_C2S, &rec);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_DECRYPT_FAILED], 0);
    assert_int_equal(y.r.log.app[0].n, 16385 + 10 + 4);
    synth_free(&y);
}

/* 0-RTT data is skipped with a note, not reported as a tag failure, and
 * the handshake and application data after it still decrypt. */
static void test_tls13_early_data(void **st)
{
    struct synth y;
    struct tt_buf rec = {0};
    (void)st;
    synth_handshake(&y, true);
    seal(&y.cs, &rec, 23, "a1 NOOP\r\n", 9, 0);
    give_buf(&y.r, MC_TLS_C2S, &rec);
    if (y.r.log.ev[MC_TLS_EV_EARLY_DATA_SKIPPED] != 1)
        fail_msg("%s", (char *)y.r.log.text.p);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_DECRYPT_FAILED], 0);
    assert_int_equal(y.r.log.app[0].n, 9);
    synth_free(&y);

    /* the same with wrong client keys: with 0-RTT accepted, failures look
     * like early data at first; the end of the stream says that none of
     * the client's records could be decrypted */
    synth_handshake_keys(&y, true, true);
    seal(&y.cs, &rec, 23, "a1 NOOP\r\n", 9, 0);
    give_buf(&y.r, MC_TLS_C2S, &rec);
    assert_int_equal(y.r.log.app[0].n, 0);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_DECRYPT_FAILED], 0);
    mc_tls_conn_end(y.r.c, MC_TLS_C2S, 50);
    assert_int_equal(y.r.log.ev[MC_TLS_EV_DECRYPT_FAILED], 1);
    assert_non_null(strstr(y.r.log.first_detail[MC_TLS_EV_DECRYPT_FAILED], "wrong key"));
    assert_int_equal(y.r.log.app[1].n, 0);
    synth_free(&y);
}

/* The ServerHello and the next handshake message in one plaintext record
 * (TLS 1.3 keys change after the ServerHello), and a record whose version
 * is not 0x0303 after a TLS 1.3 ServerHello. */
static void test_key_change_and_record_version(void **st)
{
    struct run r;
    struct tt_buf hs = {0}, rec = {0}, body = {0};
    (void)st;
    run_start(&r, NULL);
    plain_hello(&r);
    server_hello(&hs, 0x0304, 0x1301, true);
    put16(&body, 0);
    handshake(&hs, 8, &body); /* EncryptedExtensions in the clear, same record */
    tt_free(&body);
    record(&rec, 22, 0x0303, hs.p, hs.n);
    tt_free(&hs);
    give_buf(&r, MC_TLS_S2C, &rec);
    assert_int_equal(r.log.ev[MC_TLS_EV_HS_SPANS_KEY_CHANGE], 1);
    give(&r, MC_TLS_C2S, "\x17\x03\x01\x00\x11" "0123456789abcdefg", 22);
    give(&r, MC_TLS_C2S, "\x17\x03\x02\x00\x11" "0123456789abcdefg", 22);
    assert_int_equal(r.log.ev[MC_TLS_EV_RECORD_VERSION_MISMATCH], 1); /* once per direction */
    assert_non_null(strstr(r.log.first_detail[MC_TLS_EV_RECORD_VERSION_MISMATCH], "0x0301"));
    assert_int_equal(r.log.ev[MC_TLS_EV_NO_KEY], 1);
    assert_int_equal(mc_tls_conn_info(r.c)->encrypted_records[0], 2);
    run_end(&r);
}

/* Every event has a distinct name and a description. */
static void test_event_names(void **st)
{
    (void)st;
    for (int i = 0; i < MC_TLS_EV_COUNT; i++) {
        assert_true(strlen(mc_tls_ev_name((enum mc_tls_ev)i)) > 2);
        assert_true(strlen(mc_tls_ev_desc((enum mc_tls_ev)i)) > 5);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(mc_tls_ev_name((enum mc_tls_ev)i),
                                    mc_tls_ev_name((enum mc_tls_ev)k));
    }
    assert_string_equal(mc_tls_ev_name(MC_TLS_EV_COUNT), "?");
    assert_string_equal(mc_tls_version_name(0x0304), "TLS 1.3");
    assert_string_equal(mc_tls_alert_name(40), "handshake_failure");
    assert_null(mc_tls_alert_name(255));
    assert_string_equal(mc_tls_suite_name(0xCCA9), "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_null(mc_tls_suite_name(0x002F));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_tls_at_start),
        cmocka_unit_test(test_plaintext_after_start),
        cmocka_unit_test(test_record_too_long),
        cmocka_unit_test(test_hello_fragmented),
        cmocka_unit_test(test_bad_hellos),
        cmocka_unit_test(test_alerts_and_clear_data),
        cmocka_unit_test(test_tls13_key_update),
        cmocka_unit_test(test_tls13_bad_inner),
        cmocka_unit_test(test_tls13_early_data),
        cmocka_unit_test(test_key_change_and_record_version),
        cmocka_unit_test(test_event_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
