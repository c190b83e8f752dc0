/*
 * fuzz_tls_record: TLS record tracking, handshake parsing and decryption
 * (validator/tls/), both directions of one connection.
 *
 * Input: 2 option bytes, then
 *   option 0  bits 0-1  how the cut run cuts every chunk (fz_feed_opts)
 *             bit 2     a gap in one direction (fz_gap_plan; bits 4-7 its
 *                       length class, option 1 where it falls)
 *             bit 3     fixture mode (below); otherwise raw mode
 *   option 1  where the gap falls (fraction of the input / fixture)
 *   raw mode      records: one octet h (bit 7: server to client; bits
 *                 0-6: length, 127: a 2-octet little-endian length
 *                 follows), then that many octets of TLS stream; no keys.
 *   fixture mode  option 0 bit 4 picks a recording committed in
 *                 tests/data/tls/ (TLS 1.3 ChaCha20 or TLS 1.2 AES-128-GCM,
 *                 compiled in by fuzz/tls.cmake) and its key log; the rest
 *                 of the input is a corruption script of 3-octet entries
 *                 (position in the recording's payload, 2 octets LE, scaled
 *                 to its length; xor mask, 1 octet), so that decryption
 *                 runs with valid keys over damaged records.
 *
 * Oracles (abort() on failure):
 * - split invariance: the callbacks (all but frame numbers) of the run
 *   that feeds each chunk whole equal those of the run that re-cuts it;
 * - every event code is a known one with a non-empty detail; offsets of
 *   records lie within what the direction was fed; decrypted application
 *   data never exceeds the octets fed;
 * - fixture mode with no effective corruption and no gap: exactly the
 *   callbacks of the clean recording (computed once at start-up), which
 *   include the whole expected plaintext.
 */
#include "fuzz_common.h"

#include "tls.h"
#include "tls_fixture.h" /* generated: fz_tls_fixture[] */

struct run {
    struct fz_log log;
    uint64_t fed[2];
    uint64_t app[2];
    struct mc_tls_conn *c;
    enum mc_tls_dir cur;
};

FZ_ORACLE static void on_hello(void *ctx, const struct mc_tls_hello *h)
{
    struct run *r = ctx;
    FZ_CHECK(h->dir == MC_TLS_C2S || h->dir == MC_TLS_S2C);
    FZ_CHECK(h->offset < r->fed[h->dir]);
    FZ_CHECK(memchr(h->sni, 0, sizeof h->sni) != NULL);
    FZ_CHECK(memchr(h->alpn, 0, sizeof h->alpn) != NULL);
    FZ_CHECK(h->n_suites >= 1);
    fz_log_u64(&r->log, 1);
    fz_log_u64(&r->log, (uint64_t)h->dir | (uint64_t)h->hrr << 1 | (uint64_t)h->early_data << 2);
    fz_log_u64(&r->log, h->offset);
    fz_log_u64(&r->log, (uint64_t)h->version << 16 | h->legacy_version);
    fz_log_u64(&r->log, (uint64_t)h->n_suites << 32 | h->n_versions);
    fz_log_bytes(&r->log, h->random, sizeof h->random);
    fz_log_blob(&r->log, h->sni, strlen(h->sni));
    fz_log_blob(&r->log, h->alpn, strlen(h->alpn));
}

FZ_ORACLE static void on_alert(void *ctx, const struct mc_tls_alert *a)
{
    struct run *r = ctx;
    FZ_CHECK(a->offset < r->fed[a->dir]);
    FZ_CHECK(a->readable || (a->level == 0 && a->encrypted));
    fz_log_u64(&r->log, 2);
    fz_log_u64(&r->log, (uint64_t)a->dir | (uint64_t)a->level << 8 | (uint64_t)a->desc << 16 |
                            (uint64_t)a->encrypted << 24 | (uint64_t)a->readable << 25);
    fz_log_u64(&r->log, a->offset);
}

FZ_ORACLE static void on_event(void *ctx, const struct mc_tls_event *e)
{
    struct run *r = ctx;
    FZ_CHECK((unsigned)e->code < MC_TLS_EV_COUNT);
    FZ_CHECK(e->detail != NULL && e->detail[0] != '\0');
    FZ_CHECK(e->offset <= r->fed[e->dir]);
    FZ_CHECK(e->octets == 0 || e->code == MC_TLS_EV_GAP_IN_RECORD);
    FZ_CHECK(strcmp(mc_tls_ev_name(e->code), "?") != 0);
    fz_log_u64(&r->log, 3);
    fz_log_u64(&r->log, (uint64_t)e->code << 8 | e->dir);
    fz_log_u64(&r->log, e->offset);
    fz_log_u64(&r->log, e->octets);
    fz_log_blob(&r->log, e->detail, strlen(e->detail));
}

FZ_ORACLE static void on_app(void *ctx, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                             uint64_t frame, uint64_t offset)
{
    struct run *r = ctx;
    (void)frame;
    FZ_CHECK(n > 0 && n <= MC_TLS_RECORD_BUF);
    FZ_CHECK(offset < r->fed[dir]);
    r->app[dir] += n;
    FZ_CHECK(r->app[dir] <= r->fed[dir]);
    fz_log_u64(&r->log, 4);
    fz_log_u64(&r->log, dir);
    fz_log_u64(&r->log, offset);
    fz_log_blob(&r->log, p, n);
}

static void feed_cur(void *ctx, const uint8_t *p, size_t n)
{
    struct run *r = ctx;
    r->fed[r->cur] += n;
    mc_tls_conn_data(r->c, r->cur, p, n, 1);
}

struct chunk {
    enum mc_tls_dir dir;
    const uint8_t *p;
    size_t n;
};

#define MAX_CHUNKS 4096

/* One run over the chunks; cut: re-cut each chunk; gap_at: octet position
 * (over all chunks) before which gap_len octets of gap_dir go missing. */
static void run_chunks(struct run *r, const struct chunk *ch, size_t nch,
                       const struct mc_tls_keylog *kl, struct fz_rng *rng, uint8_t opts,
                       size_t gap_at, uint64_t gap_len)
{
    struct mc_tls_cb cb = {r, on_hello, on_alert, on_event, on_app};
    size_t pos = 0;
    bool gap_done = gap_len == 0;
    r->c = mc_tls_conn_new(&cb, kl);
    FZ_CHECK(r->c != NULL);
    for (size_t i = 0; i < nch; i++) {
        r->cur = ch[i].dir;
        if (!gap_done && pos + ch[i].n > gap_at) {
            size_t k = gap_at - pos;
            fz_feed_opts(r, feed_cur, ch[i].p, k, rng, opts);
            mc_tls_conn_gap(r->c, ch[i].dir, gap_len, 2);
            r->fed[ch[i].dir] += gap_len;
            fz_feed_opts(r, feed_cur, ch[i].p + k, ch[i].n - k, rng, opts);
            gap_done = true;
        } else {
            fz_feed_opts(r, feed_cur, ch[i].p, ch[i].n, rng, opts);
        }
        pos += ch[i].n;
    }
    mc_tls_conn_end(r->c, MC_TLS_C2S, 3);
    mc_tls_conn_end(r->c, MC_TLS_S2C, 3);
    mc_tls_conn_end(r->c, MC_TLS_S2C, 3); /* idempotent */
    const struct mc_tls_info *info = mc_tls_conn_info(r->c);
    for (int d = 0; d < 2; d++) {
        FZ_CHECK(info->app_octets[d] == r->app[d]);
        FZ_CHECK(info->records[d] <= r->fed[d] / MC_TLS_RECORD_HDR);
        FZ_CHECK(info->encrypted_records[d] <= info->records[d]);
        fz_log_u64(&r->log, info->records[d]);
        fz_log_u64(&r->log, info->encrypted_records[d]);
    }
    mc_tls_conn_free(r->c);
    r->c = NULL;
}

/* ---- fixture mode --------------------------------------------------------- */

struct fixture {
    const uint8_t *rec;
    size_t rec_len;
    struct mc_tls_keylog *kl;
    struct fz_log clean; /* the callbacks of the undamaged recording */
};

static struct fixture fixtures[2];

static size_t split_recording(const uint8_t *rec, size_t len, struct chunk *ch)
{
    size_t i = 0, n = 0;
    while (i + 5 <= len && n < MAX_CHUNKS) {
        size_t l = (size_t)rec[i + 1] << 24 | (size_t)rec[i + 2] << 16 |
                   (size_t)rec[i + 3] << 8 | rec[i + 4];
        FZ_CHECK(l <= len - i - 5);
        ch[n].dir = rec[i] == 'C' ? MC_TLS_C2S : MC_TLS_S2C;
        ch[n].p = rec + i + 5;
        ch[n].n = l;
        n++;
        i += 5 + l;
    }
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static struct chunk ch[MAX_CHUNKS];
    (void)argc;
    (void)argv;
    for (int f = 0; f < 2; f++) {
        fixtures[f].rec = fz_tls_fixture[f].rec;
        fixtures[f].rec_len = fz_tls_fixture[f].rec_len;
        fixtures[f].kl = mc_tls_keylog_new();
        FZ_CHECK(fixtures[f].kl != NULL);
        FZ_CHECK(mc_tls_keylog_load_mem(fixtures[f].kl, "fixture", fz_tls_fixture[f].keylog,
                                        fz_tls_fixture[f].keylog_len, NULL, NULL) == 0);
        size_t n = split_recording(fixtures[f].rec, fixtures[f].rec_len, ch);
        struct run r;
        memset(&r, 0, sizeof r);
        run_chunks(&r, ch, n, fixtures[f].kl, NULL, 0, 0, 0);
        fixtures[f].clean = r.log;
        /* the clean recording decrypts: its plaintext is in the log */
        FZ_CHECK(r.app[0] == fz_tls_fixture[f].c2s_len && r.app[1] == fz_tls_fixture[f].s2c_len);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct chunk ch[MAX_CHUNKS];
    static uint8_t work[65536];
    struct fz_rng rng;
    size_t nch = 0, total = 0, gap_at;
    uint64_t gap_len;
    const struct mc_tls_keylog *kl = NULL;
    bool damaged = false;
    int fx = -1;

    if (size < 2)
        return 0;
    if (!fixtures[0].kl)
        LLVMFuzzerInitialize(NULL, NULL);
    const uint8_t opts = data[0];
    fz_rng_seed(&rng, (uint32_t)data[1] << 8 | data[0]);

    if (opts & 8) {
        fx = (opts >> 4) & 1;
        const struct fixture *f = &fixtures[fx];
        FZ_CHECK(f->rec_len <= sizeof work);
        memcpy(work, f->rec, f->rec_len);
        kl = f->kl;
        nch = split_recording(work, f->rec_len, ch);
        for (size_t i = 0; i < nch; i++)
            total += ch[i].n;
        for (size_t i = 2; i + 3 <= size; i += 3) {
            size_t at = (size_t)((data[i] | (size_t)data[i + 1] << 8) * (uint64_t)total / 65536);
            uint8_t mask = data[i + 2];
            /* the at-th payload octet */
            for (size_t k = 0; k < nch; k++) {
                if (at < ch[k].n) {
                    ((uint8_t *)ch[k].p)[at] ^= mask;
                    damaged |= mask != 0;
                    break;
                }
                at -= ch[k].n;
            }
        }
    } else {
        size_t i = 2;
        while (i < size && nch < MAX_CHUNKS) {
            uint8_t h = data[i++];
            size_t len = h & 0x7f;
            if (len == 127) {
                if (size - i < 2)
                    break;
                len = data[i] | (size_t)data[i + 1] << 8;
                i += 2;
            }
            if (len > size - i)
                len = size - i;
            ch[nch].dir = (h & 0x80) ? MC_TLS_S2C : MC_TLS_C2S;
            ch[nch].p = data + i;
            ch[nch].n = len;
            nch++;
            total += len;
            i += len;
        }
    }
    fz_gap_plan(opts, data[1], total, &gap_at, &gap_len);

    struct run whole, cut;
    memset(&whole, 0, sizeof whole);
    memset(&cut, 0, sizeof cut);
    run_chunks(&whole, ch, nch, kl, NULL, opts, gap_at, gap_len);
    run_chunks(&cut, ch, nch, kl, &rng, opts, gap_at, gap_len);
    FZ_LOGS_AGREE(&whole.log, &cut.log, "split invariance", "callback", "cut run differs");
    if (fx >= 0 && !damaged && gap_len == 0)
        FZ_LOGS_AGREE(&whole.log, &fixtures[fx].clean, "clean fixture", "callback",
                      "undamaged fixture gives other callbacks");
    fz_log_free(&whole.log);
    fz_log_free(&cut.log);
    return 0;
}
