/* The TLS layer of a captured connection (capture_tls.h). */
#include "capture_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_MAX 200

struct mc_capture_tls {
    struct mc_session *s;
    struct mc_tls_conn *conn;
    char note[NOTE_MAX];          /* why the flow is not validated inside TLS */
    bool said_client_old;
    bool lost[2];                 /* the session was told a direction is lost */
    char alpn[64];                /* copies for the summary */
    char version[32];
    void (*on_plain)(void *ctx, enum mc_dir d, const uint8_t *p, size_t n);
    void *on_plain_ctx;
};

static enum mc_tls_dir tls_dir(enum mc_dir d)
{
    return d == MC_DIR_C2S ? MC_TLS_C2S : MC_TLS_S2C;
}

static enum mc_dir session_dir(enum mc_tls_dir d)
{
    return d == MC_TLS_C2S ? MC_DIR_C2S : MC_DIR_S2C;
}

/* The rule an event breaks for the side that sent the record, or false. */
static bool rule_of(enum mc_tls_ev ev, enum mc_tls_dir d, enum mc_rule *r)
{
    bool client = d == MC_TLS_C2S;
    switch (ev) {
    case MC_TLS_EV_NOT_TLS:
        *r = client ? MC_R_TLS_CLIENT_NOT_TLS : MC_R_TLS_SERVER_NOT_TLS;
        return true;
    case MC_TLS_EV_SSLV2_HELLO:
        *r = MC_R_TLS_CLIENT_SSLV2_HELLO;
        return client;
    case MC_TLS_EV_PLAINTEXT_AFTER_START:
        *r = client ? MC_R_TLS_CLIENT_PLAINTEXT : MC_R_TLS_SERVER_PLAINTEXT;
        return true;
    case MC_TLS_EV_BAD_RECORD_TYPE:
    case MC_TLS_EV_BAD_RECORD_VERSION:
    case MC_TLS_EV_RECORD_VERSION_MISMATCH:
    case MC_TLS_EV_EMPTY_RECORD:
    case MC_TLS_EV_BAD_MESSAGE:
    case MC_TLS_EV_HS_SPANS_KEY_CHANGE:
    case MC_TLS_EV_BAD_INNER_PLAINTEXT:
        *r = client ? MC_R_TLS_CLIENT_RECORD_INVALID : MC_R_TLS_SERVER_RECORD_INVALID;
        return true;
    case MC_TLS_EV_RECORD_TOO_LONG:
        *r = client ? MC_R_TLS_CLIENT_RECORD_TOO_LONG : MC_R_TLS_SERVER_RECORD_TOO_LONG;
        return true;
    case MC_TLS_EV_UNEXPECTED_MESSAGE:
    case MC_TLS_EV_DATA_AFTER_CLOSE_NOTIFY:
        *r = client ? MC_R_TLS_CLIENT_UNEXPECTED_MESSAGE : MC_R_TLS_SERVER_UNEXPECTED_MESSAGE;
        return true;
    case MC_TLS_EV_OLD_VERSION:
        /* the server picks the version (RFC 8446 s4.1.3, RFC 5246 s7.4.1.3);
         * the event comes with the ServerHello */
        *r = MC_R_TLS_SERVER_OLD_VERSION;
        return true;
    case MC_TLS_EV_HANDSHAKE_FAILED:
        *r = client ? MC_R_TLS_CLIENT_HANDSHAKE_ABORTED : MC_R_TLS_SERVER_HANDSHAKE_ABORTED;
        return true;
    case MC_TLS_EV_DECRYPT_FAILED:
        *r = client ? MC_R_TLS_CLIENT_DECRYPT_FAILED : MC_R_TLS_SERVER_DECRYPT_FAILED;
        return true;
    default:
        return false;
    }
}

/* The session's parser of d cannot trust what follows: plaintext is missing. */
static void tell_lost(struct mc_capture_tls *t, enum mc_dir d, uint64_t n, uint64_t frame)
{
    struct mc_origin o = {frame, 0};
    mc_session_gap(t->s, d, n ? n : 1, &o);
}

static void on_event(void *ctx, const struct mc_tls_event *e)
{
    struct mc_capture_tls *t = ctx;
    enum mc_dir d = session_dir(e->dir);
    struct mc_origin o = {e->frame, 0};
    enum mc_rule r;
    switch (e->code) {
    case MC_TLS_EV_NO_KEY:
    case MC_TLS_EV_UNSUPPORTED_SUITE:
        if (!t->note[0])
            snprintf(t->note, sizeof(t->note), "%s", e->detail);
        return;
    case MC_TLS_EV_EARLY_DATA_SKIPPED:
        if (!t->note[0])
            snprintf(t->note, sizeof(t->note), "0-RTT early data not decrypted");
        return;
    case MC_TLS_EV_GAP_IN_RECORD:
        /* one record's plaintext is missing: the session resynchronises */
        tell_lost(t, d, e->octets, e->frame);
        return;
    case MC_TLS_EV_OUT_OF_MEMORY:
        /* our failure, not the peers': the engine follows the connection
         * no further, and the session, which would now miss plaintext,
         * stops here too (it judges nothing after this frame, TLS findings
         * included); the capture reports the stop as out of memory
         * (mc_session_out_of_memory) */
        snprintf(t->note, sizeof(t->note), "not validated: out of memory");
        mc_session_abandon(t->s, &o);
        return;
    case MC_TLS_EV_GAP_LOST:
        if (!t->note[0])
            snprintf(t->note, sizeof(t->note), "encrypted, not validated: %s", e->detail);
        if (!t->lost[d]) {
            t->lost[d] = true;
            tell_lost(t, d, 1, e->frame);
        }
        return;
    default:
        break;
    }
    if (!rule_of(e->code, e->dir, &r))
        return;
    {
        char msg[MC_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s: %s", mc_rule_info(r)->summary, e->detail);
        mc_session_report(t->s, r, &o, e->offset, NULL, msg);
    }
    if (e->code == MC_TLS_EV_DECRYPT_FAILED)
        tell_lost(t, d, 1, e->frame);   /* that record's plaintext is missing */
}

static void on_hello(void *ctx, const struct mc_tls_hello *h)
{
    struct mc_capture_tls *t = ctx;
    /* RFC 8996 s5: a client that offers nothing newer than TLS 1.1; a
     * ServerHello that settles on it is the server's OLD_VERSION event */
    if (h->dir == MC_TLS_C2S && h->version && h->version < 0x0303 && !t->said_client_old) {
        struct mc_origin o = {h->frame, 0};
        char msg[MC_MESSAGE_MAX];
        t->said_client_old = true;
        snprintf(msg, sizeof(msg), "%s: the ClientHello offers at most %s",
                 mc_rule_info(MC_R_TLS_CLIENT_OLD_VERSION)->summary,
                 mc_tls_version_name(h->version));
        mc_session_report(t->s, MC_R_TLS_CLIENT_OLD_VERSION, &o, h->offset, NULL, msg);
    }
}

static void on_app_data(void *ctx, enum mc_tls_dir dir, const uint8_t *p, size_t n,
                        uint64_t frame, uint64_t offset)
{
    struct mc_capture_tls *t = ctx;
    struct mc_origin o = {frame, 0};
    (void)offset;
    if (t->on_plain)
        t->on_plain(t->on_plain_ctx, session_dir(dir), p, n);
    mc_session_data(t->s, session_dir(dir), p, n, &o);
}

void mc_capture_tls_on_plain(struct mc_capture_tls *t,
                             void (*fn)(void *ctx, enum mc_dir d, const uint8_t *p, size_t n),
                             void *ctx)
{
    t->on_plain = fn;
    t->on_plain_ctx = ctx;
}

struct mc_capture_tls *mc_capture_tls_new(struct mc_session *s, const struct mc_tls_keylog *kl)
{
    struct mc_capture_tls *t = calloc(1, sizeof(*t));
    struct mc_tls_cb cb;
    if (!t)
        return NULL;
    t->s = s;
    cb = (struct mc_tls_cb){t, on_hello, NULL, on_event, on_app_data};
    t->conn = mc_tls_conn_new(&cb, kl);
    if (!t->conn) {
        free(t);
        return NULL;
    }
    return t;
}

void mc_capture_tls_free(struct mc_capture_tls *t)
{
    if (!t)
        return;
    mc_tls_conn_free(t->conn);
    free(t);
}

void mc_capture_tls_data(struct mc_capture_tls *t, enum mc_dir d, const uint8_t *p, size_t n,
                         uint64_t frame)
{
    if (!t)
        return;
    mc_tls_conn_data(t->conn, tls_dir(d), p, n, frame);
}

void mc_capture_tls_gap(struct mc_capture_tls *t, enum mc_dir d, uint64_t n, uint64_t frame)
{
    if (!t)
        return;
    mc_tls_conn_gap(t->conn, tls_dir(d), n, frame);
}

void mc_capture_tls_end(struct mc_capture_tls *t, enum mc_dir d, uint64_t frame)
{
    if (!t)
        return;
    mc_tls_conn_end(t->conn, tls_dir(d), frame);
}

bool mc_capture_tls_decrypted(const struct mc_capture_tls *t)
{
    const struct mc_tls_info *i;
    if (!t)
        return false;
    i = mc_tls_conn_info(t->conn);
    return i->app_octets[0] + i->app_octets[1] > 0;
}

void mc_capture_tls_summary(const struct mc_capture_tls *t, struct mc_flow_summary *fs)
{
    struct mc_capture_tls *w = (struct mc_capture_tls *)t;   /* the copies are caches */
    const struct mc_tls_info *i = mc_tls_conn_info(t->conn);
    fs->tls = true;
    fs->tls_decrypted = mc_capture_tls_decrypted(t);
    if (i->version) {
        const char *v = mc_tls_version_name(i->version);
        snprintf(w->version, sizeof(w->version), "%s", v ? v : "?");
        fs->tls_version = w->version;
        fs->tls_suite = mc_tls_suite_name(i->suite);
    }
    fs->tls_sni = i->sni[0] ? i->sni : NULL;
    if (i->alpn[0]) {
        snprintf(w->alpn, sizeof(w->alpn), "%s", i->alpn);
        fs->tls_alpn = w->alpn;
    }
    if (!fs->tls_decrypted)
        fs->tls_note = t->note[0] ? t->note
                       : i->records[0] + i->records[1] == 0 ? "no TLS records seen"
                       : i->encrypted_records[0] + i->encrypted_records[1] > 0
                           ? "encrypted, not validated: the records do not authenticate with "
                             "the logged keys"
                           : "encrypted, not validated";
}
