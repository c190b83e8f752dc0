/*
 * The probe's connections: non-blocking TCP and OpenSSL, every wait bounded
 * by poll() and the step deadline, every chunk sent or received recorded
 * (transcript and session) the moment it passes, in order.
 *
 * Decisions worth knowing:
 * - The handshake runs with SSL_VERIFY_NONE and the chain result and the
 *   name check (X509_check_host / X509_check_ip_asc, the rules of RFC 7817
 *   s3) are looked at afterwards, so that the matrix can show the certificate
 *   even when it is refused. Without --insecure a refused certificate ends
 *   the connection before a single command is sent inside TLS.
 * - SNI is sent only for names: the extension carries host names, never
 *   literal addresses.
 * - After a go-ahead to STARTTLS/STLS, octets already buffered are
 *   plaintext the server sent before the handshake (recorded, so the
 *   session judges them); they are dropped before OpenSSL takes the socket.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "probe_internal.h"
#include "transcript/transcript.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Room beyond the longest line, so that a line of line_max fits with its
 * CR LF and reads need not be tiny. */
#define PROBE_BUF_SLACK 16384

uint64_t probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- recording ---- */

static struct mc_origin rec_origin(const struct probe_rec *r)
{
    struct mc_origin o = {0, r->f ? r->line : 0};
    return o;
}

void probe_rec_session(struct probe_rec *r, const char *name, enum mc_proto proto, bool submission)
{
    if (!r->f)
        return;
    mc_transcript_write_directive(r->f, "session", name);
    mc_transcript_write_directive(r->f, "protocol",
                                  submission ? "submission" : mc_proto_name(proto));
    r->line += 2;
}

void probe_rec_data(struct probe_rec *r, enum mc_dir dir, const uint8_t *buf, size_t len)
{
    struct mc_origin o;
    if (len == 0)
        return;
    if (r->f) {
        mc_transcript_write_data(r->f, dir, buf, len);
        r->line++;
    }
    o = rec_origin(r);
    if (r->s)
        mc_session_data(r->s, dir, buf, len, &o);
}

void probe_rec_tls(struct probe_rec *r)
{
    struct mc_origin o;
    if (r->f) {
        mc_transcript_write_tls(r->f, true);
        r->line++;
    }
    o = rec_origin(r);
    if (r->s)
        mc_session_tls(r->s, true, &o);
}

void probe_rec_close(struct probe_rec *r, enum mc_dir dir)
{
    struct mc_origin o;
    if (r->f) {
        mc_transcript_write_close(r->f, dir);
        r->line++;
    }
    o = rec_origin(r);
    if (r->s)
        mc_session_close(r->s, dir, &o);
}

void probe_rec_comment(struct probe_rec *r, const char *text)
{
    if (!r->f)
        return;
    mc_transcript_write_comment(r->f, text);
    r->line++;
}

/* ---- lines ---- */

enum probe_scan probe_line_scan(const uint8_t *b, size_t n, size_t max, size_t *used,
                                size_t *linelen)
{
    size_t look = n < max + 2 ? n : max + 2; /* content, CR, LF */
    const uint8_t *lf = memchr(b, '\n', look);
    size_t len;
    if (!lf)
        return n >= max + 2 ? PROBE_SCAN_TOO_LONG : PROBE_SCAN_MORE;
    len = (size_t)(lf - b);
    *used = len + 1;
    if (len > 0 && b[len - 1] == '\r')
        len--;
    if (len > max)
        return PROBE_SCAN_TOO_LONG;
    *linelen = len;
    return PROBE_SCAN_LINE;
}

/* ---- connections ---- */

bool probe_conn_init(struct probe_conn *c, const struct probe_env *env, struct probe_rec *rec)
{
    memset(c, 0, sizeof(*c));
    c->env = env;
    c->rec = rec;
    c->fd = -1;
    c->cap = env->o->line_max + PROBE_BUF_SLACK;
    c->buf = malloc(c->cap);
    c->wire.on = env->pcap != NULL;
    return c->buf != NULL;
}

void probe_close_now(struct probe_conn *c)
{
    if (c->fd >= 0)
        probe_wire_fin(&c->wire, MC_DIR_C2S);   /* close() sends our FIN */
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

void probe_conn_free(struct probe_conn *c)
{
    struct probe_pcap *pc = c->env ? c->env->pcap : NULL;
    probe_close_now(c);
    free(c->buf);
    c->buf = NULL;
    if (pc && c->wire.len > 0) {
        pthread_mutex_lock(&pc->mu);
        if (!probe_wire_write(&c->wire, pc->f))
            pc->failed = true;
        if (c->wire.truncated)
            pc->truncated++;
        pthread_mutex_unlock(&pc->mu);
    }
    probe_wire_free(&c->wire);
}

static int remaining_ms(const struct probe_conn *c)
{
    uint64_t now = probe_now_ms();
    if (now >= c->deadline_ms)
        return 0;
    return (int)(c->deadline_ms - now);
}

/* Waits for events on the socket until the deadline: 1 ready, 0 timeout,
 * -1 error. */
static int wait_fd(struct probe_conn *c, short events)
{
    for (;;) {
        struct pollfd p = {c->fd, events, 0};
        int ms = remaining_ms(c), rc;
        if (ms == 0)
            return 0;
        rc = poll(&p, 1, ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            snprintf(c->why, sizeof(c->why), "poll: %s", strerror(errno));
            return -1;
        }
        return rc > 0 ? 1 : 0;
    }
}

void probe_expect(struct probe_conn *c)
{
    c->deadline_ms = probe_now_ms() + c->env->o->timeout_ms;
}

static enum probe_status connect_one(struct probe_conn *c, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol), err = 0, rc;
    socklen_t el = sizeof(err);
    if (fd < 0) {
        snprintf(c->why, sizeof(c->why), "socket: %s", strerror(errno));
        return PROBE_ERROR;
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        err = errno;
    } else {
        probe_expect(c);
        rc = wait_fd(c, POLLOUT);
        if (rc == 0) {
            snprintf(c->why, sizeof(c->why), "timeout connecting");
            close(fd);
            c->fd = -1;
            return PROBE_TIMEOUT;
        }
        if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = err ? err : errno;
    }
    if (err) {
        snprintf(c->why, sizeof(c->why), "connect: %s", strerror(err));
        close(fd);
        c->fd = -1;
        return err == ECONNREFUSED ? PROBE_REFUSED : PROBE_ERROR;
    }
    return PROBE_OK;
}

/* Our own address as an SMTP address literal (RFC 5321 s4.1.3) for EHLO. */
static void local_literal(struct probe_conn *c)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char a[INET6_ADDRSTRLEN] = "127.0.0.1";
    bool v6 = false;
    if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
            v6 = !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
            inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
        } else if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
        }
    }
    snprintf(c->ehlo_literal, sizeof(c->ehlo_literal), v6 ? "[IPv6:%s]" : "[%s]", a);
}

enum probe_status probe_connect(struct probe_conn *c, const char *addr, uint16_t port)
{
    struct addrinfo hints, *res = NULL, *ai;
    char portstr[8];
    enum probe_status st = PROBE_ERROR;
    int rc;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%u", port);
    rc = getaddrinfo(addr, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(c->why, sizeof(c->why), "DNS: %s: %s", addr, gai_strerror(rc));
        return PROBE_ERROR;
    }
    /* every address in turn; refused everywhere is "not offered" */
    for (ai = res; ai; ai = ai->ai_next) {
        st = connect_one(c, ai);
        if (st == PROBE_OK)
            break;
    }
    freeaddrinfo(res);
    if (st == PROBE_OK) {
        local_literal(c);
        probe_wire_connect(&c->wire, c->fd);
    }
    return st;
}

/* ---- TLS ---- */

static void name_string(X509_NAME *n, char *out, size_t outlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    int len;
    out[0] = '\0';
    if (!b)
        return;
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    len = BIO_read(b, out, (int)outlen - 1);
    out[len > 0 ? len : 0] = '\0';
    BIO_free(b);
}

static void time_string(const ASN1_TIME *t, char *out, size_t outlen)
{
    struct tm tm;
    out[0] = '\0';
    if (t && ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool is_ip_literal(const char *s)
{
    uint8_t a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static void tls_error(struct probe_conn *c, const char *what, int sslerr)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (r)
        snprintf(c->why, sizeof(c->why), "%s: %s", what, r);
    else if (sslerr == SSL_ERROR_SYSCALL)
        snprintf(c->why, sizeof(c->why), "%s: connection closed by the server", what);
    else
        snprintf(c->why, sizeof(c->why), "%s: error %d", what, sslerr);
    ERR_clear_error();
}

/* Waits for what SSL asked for; PROBE_OK to retry. */
static enum probe_status ssl_wait(struct probe_conn *c, int rc, const char *what)
{
    int e = SSL_get_error(c->ssl, rc), w;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        w = wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
        if (w == 0)
            return PROBE_TIMEOUT;
        return w < 0 ? PROBE_ERROR : PROBE_OK;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return PROBE_EOF;
    if (e == SSL_ERROR_SYSCALL && (errno == ECONNRESET || errno == EPIPE)) {
        ERR_clear_error();
        return PROBE_EOF;   /* a reset is the server closing, as on plain TCP */
    }
    tls_error(c, what, e);
    return PROBE_ERROR;
}

enum probe_status probe_tls_start(struct probe_conn *c, const char *servername,
                                  struct mc_probe_tls_info *info)
{
    X509 *cert;
    long vr;
    enum probe_status st;
    probe_discard(c);
    probe_rec_tls(c->rec);
    c->ssl = SSL_new(c->env->ssl_ctx);
    if (c->ssl)
        SSL_set_app_data(c->ssl, c);   /* the key log callback's connection */
    if (!c->ssl || !probe_wire_attach(&c->wire, c->ssl, c->fd)) {
        tls_error(c, "TLS setup", 0);
        return PROBE_ERROR;
    }
    memset(info, 0, sizeof(*info));
    if (servername && !is_ip_literal(servername)) {
        SSL_set_tlsext_host_name(c->ssl, servername);
        snprintf(info->sni, sizeof(info->sni), "%s", servername);
    }
    probe_expect(c);
    for (;;) {
        int rc = SSL_connect(c->ssl);
        if (rc == 1)
            break;
        st = ssl_wait(c, rc, "TLS handshake failed");
        if (st == PROBE_TIMEOUT) {
            snprintf(c->why, sizeof(c->why), "timeout in the TLS handshake");
            return st;
        }
        if (st == PROBE_EOF) {
            snprintf(c->why, sizeof(c->why),
                     "TLS handshake failed: connection closed by the server");
            return PROBE_ERROR;
        }
        if (st != PROBE_OK)
            return st;
    }
    info->present = true;
    snprintf(info->version, sizeof(info->version), "%s", SSL_get_version(c->ssl));
    snprintf(info->cipher, sizeof(info->cipher), "%s", SSL_get_cipher_name(c->ssl));
    cert = SSL_get1_peer_certificate(c->ssl);
    if (!cert) {
        snprintf(c->why, sizeof(c->why), "certificate: the server sent none");
        return c->env->o->insecure ? PROBE_OK : PROBE_ERROR;
    }
    name_string(X509_get_subject_name(cert), info->subject, sizeof(info->subject));
    name_string(X509_get_issuer_name(cert), info->issuer, sizeof(info->issuer));
    time_string(X509_get0_notAfter(cert), info->not_after, sizeof(info->not_after));
    vr = SSL_get_verify_result(c->ssl);
    info->verified = vr == X509_V_OK;
    if (servername && is_ip_literal(servername))
        info->name_ok = X509_check_ip_asc(cert, servername, 0) == 1;
    else if (servername)
        info->name_ok = X509_check_host(cert, servername, strlen(servername), 0, NULL) == 1;
    X509_free(cert);
    if (c->env->o->insecure)
        return PROBE_OK;
    if (!info->verified) {
        snprintf(c->why, sizeof(c->why), "certificate not trusted (%s)",
                 X509_verify_cert_error_string(vr));
        return PROBE_ERROR;
    }
    if (!info->name_ok) {
        snprintf(c->why, sizeof(c->why), "certificate does not match the name %s",
                 servername ? servername : "(none)");
        return PROBE_ERROR;
    }
    return PROBE_OK;
}

/* ---- reading and writing ---- */

/* Reads once (after waiting) into the buffer; records what came. */
static enum probe_status fill(struct probe_conn *c)
{
    if (c->eof)
        return PROBE_EOF;
    if (c->start > 0 && c->end == c->cap) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    if (c->end == c->cap) {
        snprintf(c->why, sizeof(c->why), "read buffer full");
        return PROBE_TOO_LONG;
    }
    for (;;) {
        ssize_t n;
        if (c->ssl) {
            int rc = SSL_read(c->ssl, c->buf + c->end, (int)(c->cap - c->end));
            enum probe_status st;
            if (rc > 0) {
                n = rc;
            } else {
                st = ssl_wait(c, rc, "TLS read failed");
                if (st == PROBE_OK)
                    continue;
                if (st == PROBE_TIMEOUT)
                    return st;
                /* a close_notify, or a close without one (unexpected EOF
                 * is ignored by the context options): the server closed */
                if (st == PROBE_EOF) {
                    c->eof = true;
                    probe_wire_fin(&c->wire, MC_DIR_S2C);
                    probe_rec_close(c->rec, MC_DIR_S2C);
                    return PROBE_EOF;
                }
                return st;
            }
        } else {
            n = recv(c->fd, c->buf + c->end, c->cap - c->end, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                int w = wait_fd(c, POLLIN);
                if (w == 0)
                    return PROBE_TIMEOUT;
                if (w < 0)
                    return PROBE_ERROR;
                continue;
            }
            if (n < 0) {
                if (errno == ECONNRESET) {
                    c->eof = true;
                    probe_wire_fin(&c->wire, MC_DIR_S2C);
                    probe_rec_close(c->rec, MC_DIR_S2C);
                    return PROBE_EOF;
                }
                snprintf(c->why, sizeof(c->why), "recv: %s", strerror(errno));
                return PROBE_ERROR;
            }
            if (n == 0) {
                c->eof = true;
                probe_wire_fin(&c->wire, MC_DIR_S2C);
                probe_rec_close(c->rec, MC_DIR_S2C);
                return PROBE_EOF;
            }
            probe_wire_data(&c->wire, MC_DIR_S2C, c->buf + c->end, (size_t)n);
        }
        if (c->received + (uint64_t)n > MC_PROBE_RECEIVE_MAX)
            return PROBE_TOO_MUCH; /* not recorded: the flood ends here */
        c->received += (uint64_t)n;
        probe_rec_data(c->rec, MC_DIR_S2C, c->buf + c->end, (size_t)n);
        c->end += (size_t)n;
        return PROBE_OK;
    }
}

enum probe_status probe_line(struct probe_conn *c, const char **line, size_t *len)
{
    for (;;) {
        size_t used, ll;
        enum probe_scan sc =
            probe_line_scan(c->buf + c->start, c->end - c->start, c->env->o->line_max, &used, &ll);
        enum probe_status st;
        if (sc == PROBE_SCAN_LINE) {
            *line = (const char *)c->buf + c->start;
            *len = ll;
            c->start += used;
            return PROBE_OK;
        }
        if (sc == PROBE_SCAN_TOO_LONG)
            return PROBE_TOO_LONG;
        st = fill(c);
        if (st != PROBE_OK)
            return st;
    }
}

enum probe_status probe_skip(struct probe_conn *c, uint64_t n)
{
    while (n > 0) {
        size_t have = c->end - c->start, k;
        enum probe_status st;
        if (have == 0) {
            c->start = c->end = 0;
            st = fill(c);
            if (st != PROBE_OK)
                return st;
            continue;
        }
        k = have < n ? have : (size_t)n;
        c->start += k;
        n -= k;
    }
    return PROBE_OK;
}

/* The lines are at most PROBE_LONG_LINE_MAX octets (10,000 for IMAP):
 * built on the stack, so that the check cannot be skipped for want of
 * memory (its failure would read as the server dropping the line). */
enum probe_status probe_send_long_line(struct probe_conn *c, const char *prefix, size_t total)
{
    size_t n = strlen(prefix);
    char line[PROBE_LONG_LINE_MAX];
    if (total < n + 2 || total > sizeof(line))
        return PROBE_ERROR;
    memcpy(line, prefix, n);
    memset(line + n, 'x', total - 2 - n);
    memcpy(line + total - 2, "\r\n", 2);
    return probe_send(c, line, total);
}

void probe_discard(struct probe_conn *c)
{
    c->start = c->end = 0;
}

bool probe_wait_data(struct probe_conn *c, unsigned ms)
{
    uint64_t saved = c->deadline_ms;
    bool got;
    c->deadline_ms = probe_now_ms() + ms;
    got = fill(c) == PROBE_OK;
    c->deadline_ms = saved;
    return got;
}

enum probe_status probe_send(struct probe_conn *c, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t off = 0;
    probe_rec_data(c->rec, MC_DIR_C2S, p, len);
    probe_expect(c);
    while (off < len) {
        if (c->ssl) {
            int rc = SSL_write(c->ssl, p + off, (int)(len - off));
            enum probe_status st;
            if (rc > 0) {
                off += (size_t)rc;
                continue;
            }
            st = ssl_wait(c, rc, "TLS write failed");
            if (st != PROBE_OK)
                return st;
        } else {
            ssize_t n = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
            if (n > 0) {
                probe_wire_data(&c->wire, MC_DIR_C2S, p + off, (size_t)n);
                off += (size_t)n;
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                int w = wait_fd(c, POLLOUT);
                if (w == 0)
                    return PROBE_TIMEOUT;
                if (w < 0)
                    return PROBE_ERROR;
                continue;
            }
            snprintf(c->why, sizeof(c->why), "send: %s", strerror(errno));
            return errno == EPIPE || errno == ECONNRESET ? PROBE_EOF : PROBE_ERROR;
        }
    }
    return PROBE_OK;
}

enum probe_status probe_sendf(struct probe_conn *c, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        snprintf(c->why, sizeof(c->why), "command too long to send");
        return PROBE_ERROR;
    }
    return probe_send(c, line, (size_t)n);
}

void probe_finish(struct probe_conn *c)
{
    if (c->fd < 0)
        return;
    if (c->ssl && !c->eof)
        (void)SSL_shutdown(c->ssl); /* close_notify; the answer is not awaited */
    if (!c->eof)
        (void)shutdown(c->fd, SHUT_WR);
    probe_wire_fin(&c->wire, MC_DIR_C2S);
    probe_rec_close(c->rec, MC_DIR_C2S);
    c->closed_c = true;
    probe_expect(c);
    while (!c->eof) {
        c->start = c->end = 0;
        if (fill(c) != PROBE_OK)
            break;
    }
    probe_close_now(c);
}
