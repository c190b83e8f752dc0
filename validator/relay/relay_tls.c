/*
 * TLS for the recording relay (relay_tls.h). Decisions worth knowing:
 * - The server leg is verified by default (the system store, or --tls-ca):
 *   a relay that silently accepts any server would hide a man in the middle
 *   behind the one it is. --tls-insecure turns verification off for test
 *   servers with self-signed certificates.
 * - SNI is the host part of --to (or --tls-servername); an IP literal is
 *   verified as an address and not sent as SNI (the server_name extension
 *   carries host names only).
 * - An unexpected EOF (no close_notify) ends a direction like a clean
 *   close (SSL_OP_IGNORE_UNEXPECTED_EOF): many mail clients just close.
 * - The key log is opened for appending and flushed per line, so a capture
 *   of either leg can be decrypted while the relay still runs.
 */
#define _POSIX_C_SOURCE 200809L

#include "relay/relay_tls.h"
#include "relay/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

struct mc_relay_tls {
    /* private */
    SSL_CTX *to_client;       /* the relay as a TLS server */
    SSL_CTX *to_server;       /* the relay as a TLS client */
    FILE *keylog;
    char name[256];           /* SNI and the name verified; "" if none */
    bool name_is_ip;
    bool verify;
};

static void keylog_line(const SSL *ssl, const char *line)
{
    FILE *f = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (f) {
        fputs(line, f);
        putc('\n', f);
        fflush(f);
    }
}

static void ssl_errors(char *out, size_t outlen)
{
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, out, outlen);
    else
        snprintf(out, outlen, "unknown OpenSSL error");
    ERR_clear_error();
}

/* The host part of "host:port" or "[v6]:port". */
static void host_of(const char *to, char *out, size_t outlen)
{
    const char *end;
    size_t n;
    if (to[0] == '[') {
        to++;
        end = strchr(to, ']');
    } else {
        end = strrchr(to, ':');
    }
    n = end ? (size_t)(end - to) : strlen(to);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, to, n);
    out[n] = '\0';
}

static bool is_ip(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

struct mc_relay_tls *mc_relay_tls_new(const struct mc_relay_opts *o, const char *to, char *err,
                                      size_t errlen)
{
    struct mc_relay_tls *t = calloc(1, sizeof(*t));
    char why[256];
    long opts = SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION;

    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->to_client = SSL_CTX_new(TLS_server_method());
    t->to_server = SSL_CTX_new(TLS_client_method());
    if (!t->to_client || !t->to_server) {
        ssl_errors(why, sizeof(why));
        snprintf(err, errlen, "TLS setup: %s", why);
        goto fail;
    }
    SSL_CTX_set_options(t->to_client, (uint64_t)opts);
    SSL_CTX_set_options(t->to_server, (uint64_t)opts);
    /* SSL_write may be retried from a buffer that moved (memmove) or grew */
    SSL_CTX_set_mode(t->to_client,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_mode(t->to_server,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(t->to_client, o->tls_cert) != 1) {
        ssl_errors(why, sizeof(why));
        snprintf(err, errlen, "--tls-cert %s: %s", o->tls_cert, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(t->to_client, o->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->to_client) != 1) {
        ssl_errors(why, sizeof(why));
        snprintf(err, errlen, "--tls-key %s: %s", o->tls_key, why);
        goto fail;
    }
    t->verify = !o->tls_insecure;
    if (t->verify) {
        int ok = o->tls_ca ? SSL_CTX_load_verify_locations(t->to_server, o->tls_ca, NULL)
                           : SSL_CTX_set_default_verify_paths(t->to_server);
        if (ok != 1) {
            ssl_errors(why, sizeof(why));
            snprintf(err, errlen, "%s%s: %s", o->tls_ca ? "--tls-ca " : "the system CA store",
                     o->tls_ca ? o->tls_ca : "", why);
            goto fail;
        }
        SSL_CTX_set_verify(t->to_server, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(t->to_server, SSL_VERIFY_NONE, NULL);
    }
    if (o->tls_servername)
        snprintf(t->name, sizeof(t->name), "%s", o->tls_servername);
    else
        host_of(to, t->name, sizeof(t->name));
    t->name_is_ip = is_ip(t->name);
    if (o->keylog) {
        t->keylog = fopen(o->keylog, "a");
        if (!t->keylog) {
            snprintf(err, errlen, "--keylog %s: %s", o->keylog, strerror(errno));
            goto fail;
        }
        SSL_CTX_set_app_data(t->to_client, t->keylog);
        SSL_CTX_set_app_data(t->to_server, t->keylog);
        SSL_CTX_set_keylog_callback(t->to_client, keylog_line);
        SSL_CTX_set_keylog_callback(t->to_server, keylog_line);
    }
    return t;
fail:
    mc_relay_tls_free(t);
    return NULL;
}

void mc_relay_tls_free(struct mc_relay_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->to_client);
    SSL_CTX_free(t->to_server);
    if (t->keylog)
        fclose(t->keylog);
    free(t);
}

SSL *mc_relay_tls_leg(struct mc_relay_tls *t, bool to_server, int fd)
{
    SSL *ssl = SSL_new(to_server ? t->to_server : t->to_client);
    if (!ssl)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1)
        goto fail;
    if (!to_server) {
        SSL_set_accept_state(ssl);
        return ssl;
    }
    if (t->name[0] && !t->name_is_ip && SSL_set_tlsext_host_name(ssl, t->name) != 1)
        goto fail;
    if (t->verify && t->name[0]) {
        if (t->name_is_ip) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->name) != 1)
                goto fail;
        } else if (SSL_set1_host(ssl, t->name) != 1) {
            goto fail;
        }
    }
    SSL_set_connect_state(ssl);
    return ssl;
fail:
    ERR_clear_error();
    SSL_free(ssl);
    return NULL;
}

void mc_relay_tls_why(SSL *ssl, int ret, char *out, size_t outlen)
{
    int e = SSL_get_error(ssl, ret);
    long v = SSL_get_verify_result(ssl);
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        snprintf(out, outlen, "%s", errno ? strerror(errno) : "connection closed");
        return;
    }
    if (v != X509_V_OK) {
        snprintf(out, outlen, "certificate verification failed: %s",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
        return;
    }
    ssl_errors(out, outlen);
}

static bool same_ci(const uint8_t *p, size_t n, const char *word)
{
    size_t w = strlen(word);
    if (n != w)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 'a' + 'A');
        if (c != (uint8_t)word[i])
            return false;
    }
    return true;
}

/* One command line (without its line end): STLS, STARTTLS or tag STARTTLS. */
static bool is_starttls_line(const uint8_t *p, size_t n)
{
    const uint8_t *sp;
    if (same_ci(p, n, "STLS") || same_ci(p, n, "STARTTLS"))
        return true;
    sp = memchr(p, ' ', n);
    if (!sp || sp == p)
        return false;
    return same_ci(sp + 1, n - (size_t)(sp + 1 - p), "STARTTLS");
}

size_t mc_relay_starttls_end(const uint8_t *p, size_t n, bool *at_line_start)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *lf = memchr(p + i, '\n', n - i);
        size_t end = lf ? (size_t)(lf - p) : n;
        if (lf && *at_line_start) {
            size_t len = end - i;
            if (len > 0 && p[end - 1] == '\r')
                len--;
            if (is_starttls_line(p + i, len))
                return end + 1;
        }
        if (!lf) {
            *at_line_start = false;
            return 0;
        }
        *at_line_start = true;
        i = end + 1;
    }
    return 0;
}
