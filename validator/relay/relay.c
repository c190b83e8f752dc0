/*
 * The recording relay (relay.h): one poll() loop, no threads.
 *
 * Each accepted client gets its own non-blocking connection to the target.
 * Every successful read is one chunk: one transcript record, one
 * mc_session_data call, then copied to the other side. Each direction has a
 * bounded buffer (MC_RELAY_BUF); a side is not read from while its peer's
 * buffer is full, so a slow reader slows the writer instead of growing memory.
 *
 * Decisions worth knowing:
 * - The target is probe-connected once before listening (relay.h).
 * - A side's EOF is recorded as "! close C|S", passed to the session, and
 *   forwarded as shutdown(SHUT_WR) once that direction's buffer is empty; the
 *   other direction keeps flowing. A connection ends when both directions
 *   are closed and drained; it is torn down (both sockets closed, a '#'
 *   comment says why) on a read error such as a reset (recorded as that
 *   side's close first), a write error, the idle timeout, or when the relay
 *   stops (signal, max_sessions reached).
 * - The listen backlog is SOMAXCONN: clients that connect faster than the
 *   loop accepts must not see dropped SYNs (a one-second retransmit).
 * - "! tls" is written (and mc_session_tls called) before the first chunk
 *   that is a TLS record (content type 20-24, version major 3) once the
 *   session has switched to TLS, or when a connection's very first chunk is
 *   one (implicit TLS). A plaintext chunk where the handshake should start
 *   (a server answering commands pipelined behind STLS) is recorded as data,
 *   so the session flags it both live and when the transcript is checked.
 * - Findings carry the transcript line of their chunk when recording.
 * - Terminating TLS (--tls-cert, docs/relay.md): each side ("leg") is
 *   plaintext, pending (plaintext still to send before its handshake),
 *   handshaking or TLS. The chunks recorded and validated are always the
 *   plaintext, after "! tls decrypted". In STARTTLS mode the go-ahead is the
 *   session's own decision (mc_session_in_tls after a server chunk), so the
 *   relay and the validator never disagree on it; the relay itself only
 *   recognises the client's STARTTLS/STLS line (relay_tls.c) to hold back
 *   what follows it: held octets are recorded and validated (the session
 *   reports the injection) but dropped at the go-ahead, never sent inside
 *   TLS; if the server answers otherwise they are forwarded in plaintext.
 *   While holding, the client is not read from, so a ClientHello sent too
 *   early is read by the handshake, not as plaintext.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "relay/relay.h"
#include "relay/relay_tls.h"
#include "transcript/transcript.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>

#define ADDR_MAX 64          /* "[v6 address]:port" */
#define ACCEPT_BURST 32      /* accepts per wake-up */
#define PROBE_TIMEOUT_MS 5000
#define REFUSE_LOG_MS 1000   /* at most one "too many connections" line per second */
#define ACCEPT_PAUSE_MS 250  /* accept failing (out of descriptors): wait, do not spin */

enum side { SIDE_CLIENT = 0, SIDE_SERVER = 1 };

/* A side's TLS state when the relay terminates TLS. */
enum leg {
    LEG_PLAIN,      /* bytes as they are (no TLS, or before a STARTTLS go-ahead) */
    LEG_PENDING,    /* go-ahead seen: plaintext buffered for this side is sent first */
    LEG_HANDSHAKE,  /* SSL_do_handshake in progress */
    LEG_TLS         /* SSL_read / SSL_write */
};

struct conn {
    /* private */
    int fd[2];                        /* by side */
    uint8_t buf[2][MC_RELAY_BUF];     /* by direction: C2S goes to the server */
    size_t off[2], len[2];
    bool eof[2];                      /* by direction: its source sent EOF */
    bool shut[2];                     /* by direction: its destination got SHUT_WR */
    bool connecting, started, dead;
    bool tls_check;                   /* the next record may be the first TLS record */
    bool tls_done;
    uint64_t records;
    uint64_t octets[2];
    uint64_t start_ms, last_ms;
    unsigned id;
    struct mc_session *sess;
    SSL *ssl[2];                      /* by side; NULL while plaintext */
    enum leg leg[2];                  /* by side */
    /* by side: what OpenSSL asked to wait for (POLLIN/POLLOUT) before the
     * read, write or handshake is retried; 0: the usual event */
    short need_rd[2], need_wr[2], need_hs[2];
    uint64_t hs_start_ms;             /* when the handshakes began */
    bool line_start;                  /* the next client octet starts a line */
    bool holding;                     /* client STARTTLS seen, server answer not yet */
    size_t hold_at;                   /* C2S buffer offset where held octets begin */
    uint64_t hold_ms;                 /* when holding began */
    char client[ADDR_MAX];
    char why[160];                    /* why it was torn down, "" if it ended cleanly */
};

struct relay {
    /* private */
    const struct mc_relay_opts *o;
    FILE *log;
    FILE *rec;
    struct sockaddr_storage to;
    socklen_t to_len;
    char to_str[ADDR_MAX];
    char listen_str[ADDR_MAX];
    int lfd;
    struct mc_relay_tls *tls;         /* NULL: TLS is not terminated */
    struct conn *conns[MC_RELAY_MAX_CONNS];
    unsigned nconns;
    unsigned accepted, ended, refused;
    unsigned out_of_memory;           /* connections refused or relayed unvalidated for it */
    unsigned last_session;            /* last "@ session" written, 0: none */
    uint64_t rec_line;                /* lines written to the record */
    uint64_t last_refuse_log;
    uint64_t accept_pause_until;      /* the listener is not watched before this */
    int rc;
    char *err;
    size_t errlen;
};

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    int saved = errno;
    got_signal = sig;
    if (sig_pipe[1] >= 0) {
        ssize_t n = write(sig_pipe[1], "x", 1);
        (void)n;
    }
    errno = saved;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void say(struct relay *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void say(struct relay *r, const char *fmt, ...)
{
    va_list ap;
    fputs("relay: ", r->log);
    va_start(ap, fmt);
    vfprintf(r->log, fmt, ap);
    va_end(ap);
    putc('\n', r->log);
    fflush(r->log);
}

/* Records an error for the return value; the first one is kept in err. */
static void fail(struct relay *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void fail(struct relay *r, const char *fmt, ...)
{
    va_list ap;
    if (r->rc == 0 && r->err && r->errlen) {
        va_start(ap, fmt);
        vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    r->rc = 2;
}

static bool set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return false;
    return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

static void format_addr(const struct sockaddr *sa, socklen_t len, char out[ADDR_MAX])
{
    char host[INET6_ADDRSTRLEN], serv[8];
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, ADDR_MAX, "?");
        return;
    }
    if (sa->sa_family == AF_INET6)
        snprintf(out, ADDR_MAX, "[%s]:%s", host, serv);
    else
        snprintf(out, ADDR_MAX, "%s:%s", host, serv);
}

/* "ADDR:PORT" or "[v6]:PORT"; ADDR may be a host name (resolved once). */
static bool parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *msg,
                       size_t msglen)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL;
    size_t hl;
    int e;

    if (!s || !*s) {
        snprintf(msg, msglen, "empty address (expected ADDR:PORT or [v6]:PORT)");
        return false;
    }
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') {
            snprintf(msg, msglen, "bad address '%s' (expected [v6]:PORT)", s);
            return false;
        }
        hl = (size_t)(rb - s - 1);
        if (hl >= sizeof(host)) {
            snprintf(msg, msglen, "bad address '%s' (host too long)", s);
            return false;
        }
        memcpy(host, s + 1, hl);
        port = rb + 2;
    } else {
        const char *c = strrchr(s, ':');
        if (!c || strchr(s, ':') != c) {
            snprintf(msg, msglen, "bad address '%s' (expected ADDR:PORT, or [v6]:PORT for IPv6)",
                     s);
            return false;
        }
        hl = (size_t)(c - s);
        if (hl == 0 || hl >= sizeof(host)) {
            snprintf(msg, msglen, "bad address '%s' (expected ADDR:PORT)", s);
            return false;
        }
        memcpy(host, s, hl);
        port = c + 1;
    }
    host[hl] = '\0';
    {
        /* the port: 1-65535, digits only */
        unsigned long p = 0;
        size_t n = strlen(port);
        if (n == 0 || n > 5 || strspn(port, "0123456789") != n ||
            (p = strtoul(port, NULL, 10)) == 0 || p > 65535) {
            snprintf(msg, msglen, "bad port in '%s' (expected 1-65535)", s);
            return false;
        }
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    e = getaddrinfo(host, port, &hints, &res);
    if (e != 0 || !res) {
        snprintf(msg, msglen, "cannot resolve '%s': %s", s, e ? gai_strerror(e) : "no address");
        if (res)
            freeaddrinfo(res);
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

/* A non-blocking connect to the target. Returns the socket, or -1 with errno.
 * *done is true if it completed at once. */
static int connect_target(const struct relay *r, bool *done)
{
    int fd = socket(r->to.ss_family, SOCK_STREAM, 0);
    *done = false;
    if (fd < 0)
        return -1;
    if (!set_nonblock(fd)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&r->to, r->to_len) == 0) {
        *done = true;
        return fd;
    }
    if (errno == EINPROGRESS || errno == EINTR)
        return fd;
    {
        int e = errno;
        close(fd);
        errno = e;
    }
    return -1;
}

static int so_error(int fd)
{
    int e = 0;
    socklen_t l = sizeof(e);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
        return errno;
    return e;
}

/* Connects once and closes: is the target there at all? */
static bool probe(struct relay *r)
{
    bool done;
    int e = 0;
    int fd = connect_target(r, &done);
    if (fd < 0) {
        e = errno;
    } else if (!done) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        uint64_t end = now_ms() + PROBE_TIMEOUT_MS;
        for (;;) {
            uint64_t t = now_ms();
            int n;
            if (t >= end) {
                e = ETIMEDOUT;
                break;
            }
            n = poll(&p, 1, (int)(end - t));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                e = errno;
            else if (n == 0)
                e = ETIMEDOUT;
            else
                e = so_error(fd);
            break;
        }
    }
    if (fd >= 0)
        close(fd);
    if (e != 0) {
        fail(r, "cannot connect to %s: %s", r->to_str, strerror(e));
        return false;
    }
    return true;
}

static bool open_listener(struct relay *r, const char *spec)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char msg[200];
    int one = 1;

    if (!parse_addr(spec, &ss, &len, msg, sizeof(msg))) {
        fail(r, "--listen: %s", msg);
        return false;
    }
    format_addr((const struct sockaddr *)&ss, len, r->listen_str);
    r->lfd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (r->lfd < 0 || !set_nonblock(r->lfd) ||
        setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(r->lfd, (const struct sockaddr *)&ss, len) != 0 || listen(r->lfd, SOMAXCONN) != 0) {
        fail(r, "cannot listen on %s: %s", r->listen_str, strerror(errno));
        return false;
    }
    return true;
}

/* ---- recording ---------------------------------------------------------- */

static void rec_check(struct relay *r)
{
    if (!r->rec)
        return;
    if (fflush(r->rec) != 0 || ferror(r->rec)) {
        int e = errno;
        say(r, "cannot write %s: %s; recording stopped", r->o->record, strerror(e));
        fail(r, "cannot write %s: %s", r->o->record, strerror(e));
        fclose(r->rec);
        r->rec = NULL;
    }
}

static void rec_comment(struct relay *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void rec_comment(struct relay *r, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    if (!r->rec)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    mc_transcript_write_comment(r->rec, text);
    r->rec_line++;
    rec_check(r);
}

static void rec_select(struct relay *r, const struct conn *c)
{
    char id[16];
    if (!r->rec || r->last_session == c->id)
        return;
    snprintf(id, sizeof(id), "%u", c->id);
    mc_transcript_write_directive(r->rec, "session", id);
    r->rec_line++;
    r->last_session = c->id;
}

static void utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(out, 32, "?");
}

static void rec_session_start(struct relay *r, struct conn *c)
{
    char when[32];
    if (!r->rec)
        return;
    utc_now(when);
    rec_comment(r, "session %u: client %s, relay %s, server %s, %s", c->id, c->client,
                r->listen_str, r->to_str, when);
    if (!r->rec)
        return;
    r->last_session = 0;
    rec_select(r, c);
    mc_transcript_write_directive(r->rec, "client", c->client);
    mc_transcript_write_directive(r->rec, "server", r->to_str);
    r->rec_line += 2;
    if (r->o->proto != MC_PROTO_UNKNOWN) {
        mc_transcript_write_directive(r->rec, "protocol", r->o->submission ? "submission" : mc_proto_name(r->o->proto));
        r->rec_line++;
    }
    rec_check(r);
}

/* ---- one connection ----------------------------------------------------- */

static const char *side_name(enum side s)
{
    return s == SIDE_CLIENT ? "client" : "server";
}

static void teardown(struct conn *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void teardown(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    if (c->dead)
        return;
    c->dead = true;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
}

/* True for the start of a TLS record: content type change_cipher_spec (20)
 * to heartbeat (24), then protocol version major 3. */
static bool looks_tls(const uint8_t *p, size_t n)
{
    return n >= 1 && p[0] >= 20 && p[0] <= 24 && (n < 2 || p[1] == 3);
}

static enum side dst_side(enum mc_dir d)
{
    return d == MC_DIR_C2S ? SIDE_SERVER : SIDE_CLIENT;
}

static enum side src_side(enum mc_dir d)
{
    return d == MC_DIR_C2S ? SIDE_CLIENT : SIDE_SERVER;
}

/* Octets of direction d that may be sent now: all but what is held. */
static size_t send_limit(const struct conn *c, enum mc_dir d)
{
    return d == MC_DIR_C2S && c->holding ? c->hold_at : c->len[d];
}

/* "! tls decrypted": what follows on both directions is the plaintext. */
static void mark_decrypted(struct relay *r, struct conn *c)
{
    struct mc_origin o = {0, 0};
    c->tls_done = true;
    if (r->rec) {
        rec_select(r, c);
        mc_transcript_write_tls(r->rec, true);
        o.line = ++r->rec_line;
        rec_check(r);
    }
    if (c->sess)
        mc_session_tls(c->sess, true, &o);
}

/* The server said yes to STARTTLS/STLS (the session saw it): drop what the
 * client pipelined behind the command, switch both legs. */
static void go_ahead(struct relay *r, struct conn *c)
{
    if (c->holding) {
        size_t dropped = c->len[MC_DIR_C2S] - c->hold_at;
        c->len[MC_DIR_C2S] = c->hold_at;
        c->holding = false;
        if (dropped) {
            rec_comment(r, "session %u: %zu client octets pipelined behind STARTTLS not forwarded",
                        c->id, dropped);
            say(r, "session %u: %zu client octets pipelined behind STARTTLS not forwarded", c->id,
                dropped);
        }
    }
    mark_decrypted(r, c);
    c->leg[SIDE_CLIENT] = c->leg[SIDE_SERVER] = LEG_PENDING;
    c->hs_start_ms = now_ms();
}

static void on_chunk(struct relay *r, struct conn *c, enum mc_dir d, const uint8_t *p, size_t n)
{
    struct mc_origin o = {0, 0};
    bool first = c->records == 0;

    c->records++;
    c->octets[d] += n;
    rec_select(r, c);
    if (!r->tls && c->tls_check && !c->tls_done && looks_tls(p, n)) {
        c->tls_done = true;
        if (r->rec) {
            mc_transcript_write_tls(r->rec, false);
            o.line = ++r->rec_line;
        }
        if (c->sess)
            mc_session_tls(c->sess, false, &o);
    }
    if (first && !c->tls_done)
        c->tls_check = false;
    if (r->rec) {
        mc_transcript_write_data(r->rec, d, p, n);
        o.line = ++r->rec_line;
        rec_check(r);
    }
    if (r->tls && !c->tls_done && d == MC_DIR_C2S && !c->holding) {
        size_t end = mc_relay_starttls_end(p, n, &c->line_start);
        if (end) {
            c->holding = true;
            c->hold_at = (size_t)(p - c->buf[MC_DIR_C2S]) + end;
            c->hold_ms = now_ms();
        }
    }
    if (c->sess) {
        mc_session_data(c->sess, d, p, n, &o);
        if (!r->tls && !c->tls_done && mc_session_in_tls(c->sess))
            c->tls_check = true;
    }
    if (r->tls && !c->tls_done && d == MC_DIR_S2C) {
        if (c->sess && mc_session_in_tls(c->sess))
            go_ahead(r, c);
        else
            c->holding = false;   /* refused (or not the answer yet): held octets go on */
    }
}

/* One step of side s's handshake. */
static void handshake(struct relay *r, struct conn *c, enum side s)
{
    int ret = SSL_do_handshake(c->ssl[s]);
    char why[200];
    c->need_hs[s] = 0;
    if (ret == 1) {
        c->leg[s] = LEG_TLS;
        rec_comment(r, "session %u: TLS with the %s: %s, %s", c->id, side_name(s),
                    SSL_get_version(c->ssl[s]), SSL_get_cipher_name(c->ssl[s]));
        say(r, "session %u: TLS with the %s: %s, %s", c->id, side_name(s),
            SSL_get_version(c->ssl[s]), SSL_get_cipher_name(c->ssl[s]));
        return;
    }
    switch (SSL_get_error(c->ssl[s], ret)) {
    case SSL_ERROR_WANT_READ:
        c->need_hs[s] = POLLIN;
        return;
    case SSL_ERROR_WANT_WRITE:
        c->need_hs[s] = POLLOUT;
        return;
    default:
        mc_relay_tls_why(c->ssl[s], ret, why, sizeof(why));
        teardown(c, "TLS handshake with the %s failed: %s", side_name(s), why);
    }
}

static void leg_start(struct relay *r, struct conn *c, enum side s)
{
    c->ssl[s] = mc_relay_tls_leg(r->tls, s == SIDE_SERVER, c->fd[s]);
    if (!c->ssl[s]) {
        teardown(c, "cannot set up TLS towards the %s", side_name(s));
        return;
    }
    c->leg[s] = LEG_HANDSHAKE;
    handshake(r, c, s);
}

/* A pending side whose plaintext has all been sent starts its handshake. */
static void start_pending(struct relay *r, struct conn *c)
{
    for (int s = 0; s < 2 && !c->dead; s++) {
        enum mc_dir to = s == SIDE_CLIENT ? MC_DIR_S2C : MC_DIR_C2S;
        if (c->leg[s] == LEG_PENDING && c->off[to] >= c->len[to])
            leg_start(r, c, (enum side)s);
    }
}

/* Sends up to n octets of direction d to its destination: plaintext or
 * SSL_write. Returns the octets sent, 0 to wait (need_wr says for what),
 * -1 after a teardown. */
static ssize_t send_some(struct conn *c, enum mc_dir d, const uint8_t *p, size_t n)
{
    enum side t = dst_side(d);
    size_t done = 0;
    int ret, e;
    char why[200];

    if (c->leg[t] != LEG_TLS) {
        ssize_t k;
        do
            k = send(c->fd[t], p, n, MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        if (k > 0)
            return k;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        teardown(c, "writing to the %s: %s", side_name(t), k < 0 ? strerror(errno) : "no progress");
        return -1;
    }
    c->need_wr[t] = 0;
    ret = SSL_write_ex(c->ssl[t], p, n, &done);
    if (ret == 1)
        return (ssize_t)done;
    e = SSL_get_error(c->ssl[t], ret);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        c->need_wr[t] = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    mc_relay_tls_why(c->ssl[t], ret, why, sizeof(why));
    teardown(c, "writing to the %s (TLS): %s", side_name(t), why);
    return -1;
}

static void flush_dir(struct conn *c, enum mc_dir d)
{
    enum side t = dst_side(d);
    size_t limit = send_limit(c, d);
    if (c->leg[t] == LEG_HANDSHAKE)
        return;
    while (c->off[d] < limit && !c->dead) {
        ssize_t n = send_some(c, d, c->buf[d] + c->off[d], limit - c->off[d]);
        if (n <= 0)
            return;
        c->off[d] += (size_t)n;
    }
    if (c->dead || c->off[d] < c->len[d])
        return;
    c->off[d] = c->len[d] = 0;
    if (d == MC_DIR_C2S)
        c->hold_at = 0;   /* nothing held: a STARTTLS line alone */
    if (c->eof[d] && !c->shut[d]) {
        /* forward the half-close (with close_notify inside TLS); ENOTCONN
         * (peer already gone) is harmless; a close_notify that cannot be
         * sent at once is not waited for */
        if (c->leg[t] == LEG_TLS) {
            SSL_shutdown(c->ssl[t]);
            ERR_clear_error();
        }
        shutdown(c->fd[t], SHUT_WR);
        c->shut[d] = true;
    }
}

/* The source of direction d sent EOF (or reset): "! close C|S". */
static void source_closed(struct relay *r, struct conn *c, enum mc_dir d)
{
    struct mc_origin o = {0, 0};
    if (c->eof[d])
        return;
    c->eof[d] = true;
    if (r->rec) {
        rec_select(r, c);
        mc_transcript_write_close(r->rec, d);
        o.line = ++r->rec_line;
        rec_check(r);
    }
    if (c->sess)
        mc_session_close(c->sess, d, &o);
}

/* Reads into p[0..space) from direction d's source: > 0 octets, 0 EOF,
 * -1 to wait (need_rd says for what), -2 error (errno or why set). */
static ssize_t recv_some(struct conn *c, enum mc_dir d, uint8_t *p, size_t space, char *why,
                         size_t whylen)
{
    enum side s = src_side(d);
    size_t got = 0;
    int ret, e;

    if (c->leg[s] != LEG_TLS) {
        ssize_t n;
        do
            n = recv(c->fd[s], p, space, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -1;
        if (n < 0) {
            snprintf(why, whylen, "%s", strerror(errno));
            return -2;
        }
        return n;
    }
    c->need_rd[s] = 0;
    ret = SSL_read_ex(c->ssl[s], p, space, &got);
    if (ret == 1)
        return (ssize_t)got;
    e = SSL_get_error(c->ssl[s], ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c->need_rd[s] = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    mc_relay_tls_why(c->ssl[s], ret, why, whylen);
    return -2;
}

static void read_dir(struct relay *r, struct conn *c, enum mc_dir d, uint64_t now)
{
    ssize_t n;
    char why[200];
    if (c->off[d] > 0) {
        memmove(c->buf[d], c->buf[d] + c->off[d], c->len[d] - c->off[d]);
        c->len[d] -= c->off[d];
        if (d == MC_DIR_C2S && c->holding)
            c->hold_at -= c->off[d];
        c->off[d] = 0;
    }
    if (c->len[d] == MC_RELAY_BUF)
        return;
    n = recv_some(c, d, c->buf[d] + c->len[d], MC_RELAY_BUF - c->len[d], why, sizeof(why));
    if (n == -1)
        return;
    c->last_ms = now;
    if (n == -2) {
        /* a reset ends that direction too: recorded as its close */
        source_closed(r, c, d);
        teardown(c, "reading from the %s: %s", side_name(src_side(d)), why);
        return;
    }
    if (n == 0) {
        source_closed(r, c, d);
        flush_dir(c, d);
        return;
    }
    on_chunk(r, c, d, c->buf[d] + c->len[d], (size_t)n);
    c->len[d] += (size_t)n;
    flush_dir(c, d);
}

static void conn_started(struct relay *r, struct conn *c)
{
    char name[160];
    c->connecting = false;
    c->started = true;
    snprintf(name, sizeof(name), "#%u %s > %s", c->id, c->client, r->to_str);
    c->sess = mc_session_new(name, r->o->proto, r->o->check ? r->o->on_finding : NULL,
                             r->o->finding_ctx);
    if (!c->sess) {
        say(r, "session %u: out of memory for the session; relaying without validation", c->id);
        r->out_of_memory++;
    } else {
        if (r->o->submission)
            mc_session_set_submission(c->sess);
        mc_session_set_policy(c->sess, r->o->policy);
        if (r->o->imap_version)
            mc_session_set_version(c->sess, r->o->imap_version);
    }
    rec_session_start(r, c);
    say(r, "session %u: %s connected, relaying to %s", c->id, c->client, r->to_str);
    if (r->tls && r->o->tls == MC_RELAY_TLS_IMPLICIT) {
        mark_decrypted(r, c);
        c->hs_start_ms = now_ms();
        leg_start(r, c, SIDE_SERVER);
        leg_start(r, c, SIDE_CLIENT);
    }
}

static void conn_failed(struct relay *r, struct conn *c, int e)
{
    say(r, "cannot connect to %s: %s (closing client %s)", r->to_str, strerror(e), c->client);
    fail(r, "cannot connect to %s: %s", r->to_str, strerror(e));
    teardown(c, "cannot connect to %s: %s", r->to_str, strerror(e));
}

static void conn_end(struct relay *r, struct conn *c)
{
    for (int s = 0; s < 2; s++) {
        SSL_free(c->ssl[s]);
        if (c->fd[s] >= 0)
            close(c->fd[s]);
    }
    if (c->started) {
        if (c->why[0]) {
            rec_comment(r, "session %u torn down: %s", c->id, c->why);
            say(r, "session %u: torn down: %s", c->id, c->why);
        }
        rec_comment(r, "session %u ended: client sent %llu octets, server %llu", c->id,
                    (unsigned long long)c->octets[MC_DIR_C2S],
                    (unsigned long long)c->octets[MC_DIR_S2C]);
        say(r, "session %u: ended (client %llu octets, server %llu)", c->id,
            (unsigned long long)c->octets[MC_DIR_C2S], (unsigned long long)c->octets[MC_DIR_S2C]);
    }
    if (c->sess) {
        mc_session_finish(c->sess);
        if (mc_session_out_of_memory(c->sess, NULL)) {
            rec_comment(r, "session %u: out of memory: its validation stopped early", c->id);
            say(r, "session %u: out of memory: its validation stopped early", c->id);
        }
        if (r->o->on_session_end)
            r->o->on_session_end(r->o->finding_ctx, c->sess);
        mc_session_free(c->sess);
    }
    r->ended++;
    free(c);
}

static void conn_accept(struct relay *r, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
    struct conn *c;
    bool done;
    int e;

    if (!set_nonblock(fd)) {
        say(r, "accept: %s", strerror(errno));
        close(fd);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        say(r, "out of memory; refusing a connection");
        r->out_of_memory++;
        r->accepted++;   /* it counts towards --max-sessions, ended at once */
        r->ended++;
        close(fd);
        return;
    }
    c->fd[SIDE_CLIENT] = fd;
    c->fd[SIDE_SERVER] = -1;
    c->id = ++r->accepted;
    c->tls_check = true;
    c->line_start = true;
    c->start_ms = c->last_ms = now_ms();
    format_addr((const struct sockaddr *)ss, len, c->client);
    r->conns[r->nconns++] = c;

    c->fd[SIDE_SERVER] = connect_target(r, &done);
    if (c->fd[SIDE_SERVER] < 0) {
        e = errno;
        conn_failed(r, c, e);
        return;
    }
    if (done)
        conn_started(r, c);
    else
        c->connecting = true;
}

static void accept_some(struct relay *r)
{
    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept(r->lfd, (struct sockaddr *)&ss, &len);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) {
                /* e.g. EMFILE: the pending connection stays queued and the
                 * listener stays readable; pause instead of spinning */
                say(r, "accept: %s (pausing %d ms)", strerror(errno), ACCEPT_PAUSE_MS);
                r->accept_pause_until = now_ms() + ACCEPT_PAUSE_MS;
            }
            return;
        }
        if (r->nconns == MC_RELAY_MAX_CONNS) {
            uint64_t t = now_ms();
            r->refused++;
            if (r->last_refuse_log == 0 || t - r->last_refuse_log >= REFUSE_LOG_MS) {
                char a[ADDR_MAX];
                format_addr((const struct sockaddr *)&ss, len, a);
                say(r, "too many connections (%d): refusing %s (%u refused so far)",
                    MC_RELAY_MAX_CONNS, a, r->refused);
                r->last_refuse_log = t;
            }
            close(fd);
            continue;
        }
        conn_accept(r, fd, &ss, len);
        if (r->o->max_sessions && r->accepted >= r->o->max_sessions)
            return;
    }
}

/* ---- the loop ----------------------------------------------------------- */

/* Side s is read from now: plaintext or TLS, not at EOF, room in the
 * buffer, and not a client whose STARTTLS answer is awaited. */
static bool reading(const struct conn *c, enum side s)
{
    enum mc_dir from = s == SIDE_CLIENT ? MC_DIR_C2S : MC_DIR_S2C;
    if (c->leg[s] != LEG_PLAIN && c->leg[s] != LEG_TLS)
        return false;
    if (s == SIDE_CLIENT && c->holding)
        return false;
    return !c->eof[from] && c->len[from] - c->off[from] < MC_RELAY_BUF;
}

/* Side s has octets waiting to be written to it, and may take them. */
static bool writing(const struct conn *c, enum side s)
{
    enum mc_dir to = s == SIDE_CLIENT ? MC_DIR_S2C : MC_DIR_C2S;
    return c->leg[s] != LEG_HANDSHAKE && c->off[to] < send_limit(c, to);
}

/* Decrypted octets OpenSSL holds for side s: poll() cannot see them.
 * SSL_pending, not SSL_has_pending: the latter is also true for half a
 * record, which only the socket can complete (waking for it would spin). */
static bool tls_buffered(const struct conn *c, enum side s)
{
    return c->leg[s] == LEG_TLS && reading(c, s) && SSL_pending(c->ssl[s]) > 0;
}

static short want(const struct conn *c, enum side s)
{
    short ev = 0;
    if (c->dead)
        return 0;
    if (c->connecting)
        return s == SIDE_SERVER ? POLLOUT : 0;
    if (c->leg[s] == LEG_HANDSHAKE)
        return c->need_hs[s] ? c->need_hs[s] : POLLIN;
    if (reading(c, s))
        ev |= c->leg[s] == LEG_TLS && c->need_rd[s] ? c->need_rd[s] : POLLIN;
    if (writing(c, s))
        ev |= c->leg[s] == LEG_TLS && c->need_wr[s] ? c->need_wr[s] : POLLOUT;
    return ev;
}

static bool conn_done(const struct conn *c)
{
    return c->dead || (c->started && c->eof[0] && c->eof[1] && c->shut[0] && c->shut[1]);
}

static void handle(struct relay *r, struct conn *c, const short ev[2], const short rev[2],
                   uint64_t now)
{
    if (c->connecting) {
        if (rev[SIDE_SERVER]) {
            int e = so_error(c->fd[SIDE_SERVER]);
            if (e)
                conn_failed(r, c, e);
            else
                conn_started(r, c);
        }
        return;
    }
    (void)ev;
    /* Any event on a watched side (data, EOF, error, hang-up) leads to a
     * read, a write or a handshake step on it, which makes progress, waits
     * for what OpenSSL asked for, or tears down: no spin. */
    for (int s = 0; s < 2 && !c->dead; s++)
        if (rev[s] && c->leg[s] == LEG_HANDSHAKE) {
            handshake(r, c, (enum side)s);
            c->last_ms = now;
        }
    for (int s = 0; s < 2 && !c->dead; s++) {
        enum mc_dir from = s == SIDE_CLIENT ? MC_DIR_C2S : MC_DIR_S2C;
        if (rev[s] && reading(c, (enum side)s))
            read_dir(r, c, from, now);
    }
    for (int s = 0; s < 2 && !c->dead; s++) {
        enum mc_dir to = s == SIDE_CLIENT ? MC_DIR_S2C : MC_DIR_C2S;
        if (rev[s] && writing(c, (enum side)s)) {
            size_t before = c->off[to];
            flush_dir(c, to);
            if (c->off[to] != before || c->len[to] == 0)
                c->last_ms = now;
        }
    }
    /* a side that just finished its handshake may have octets waiting */
    for (int s = 0; s < 2 && !c->dead; s++) {
        enum mc_dir to = s == SIDE_CLIENT ? MC_DIR_S2C : MC_DIR_C2S;
        if (c->leg[s] == LEG_TLS && c->off[to] < send_limit(c, to) && c->need_wr[s] == 0)
            flush_dir(c, to);
    }
    if (!c->dead)
        start_pending(r, c);
}

static bool handshaking(const struct conn *c)
{
    for (int s = 0; s < 2; s++)
        if (c->leg[s] == LEG_PENDING || c->leg[s] == LEG_HANDSHAKE)
            return true;
    return false;
}

static int next_timeout(const struct relay *r, uint64_t now)
{
    uint64_t best = r->accept_pause_until > now ? r->accept_pause_until : UINT64_MAX;
    for (unsigned i = 0; i < r->nconns; i++) {
        const struct conn *c = r->conns[i];
        uint64_t due;
        if (!c->dead && (tls_buffered(c, SIDE_CLIENT) || tls_buffered(c, SIDE_SERVER)))
            return 0;
        if (c->connecting)
            due = c->start_ms + MC_RELAY_CONNECT_TIMEOUT_MS;
        else if (handshaking(c))
            due = c->hs_start_ms + MC_RELAY_TLS_HANDSHAKE_TIMEOUT_MS;
        else if (c->holding)
            due = c->hold_ms + MC_RELAY_STARTTLS_HOLD_MS;
        else if (r->o->idle_timeout_ms)
            due = c->last_ms + r->o->idle_timeout_ms;
        else
            continue;
        if (due < best)
            best = due;
    }
    if (best == UINT64_MAX)
        return -1;
    if (best <= now)
        return 0;
    return best - now > 60000 ? 60000 : (int)(best - now);
}

static void check_timeouts(struct relay *r, uint64_t now)
{
    for (unsigned i = 0; i < r->nconns; i++) {
        struct conn *c = r->conns[i];
        if (c->dead)
            continue;
        if (c->connecting && now - c->start_ms >= MC_RELAY_CONNECT_TIMEOUT_MS)
            conn_failed(r, c, ETIMEDOUT);
        else if (c->holding && now >= c->hold_ms + MC_RELAY_STARTTLS_HOLD_MS) {
            /* no answer: it was not a command (message text); let it go */
            c->holding = false;
            rec_comment(r, "session %u: no answer to the STARTTLS line in %d ms; "
                        "forwarding what followed it", c->id, MC_RELAY_STARTTLS_HOLD_MS);
            say(r, "session %u: no answer to the STARTTLS line in %d ms; forwarding what "
                "followed it", c->id, MC_RELAY_STARTTLS_HOLD_MS);
        } else if (!c->connecting && handshaking(c) &&
                 now >= c->hs_start_ms + MC_RELAY_TLS_HANDSHAKE_TIMEOUT_MS) {
            /* (hs_start_ms may be later than now: set while handling this wake-up) */
            bool cl = c->leg[SIDE_CLIENT] != LEG_TLS, sv = c->leg[SIDE_SERVER] != LEG_TLS;
            teardown(c, "TLS handshake not completed within %d ms by the %s",
                     MC_RELAY_TLS_HANDSHAKE_TIMEOUT_MS,
                     cl && sv ? "client and the server" : cl ? "client" : "server");
        } else if (!c->connecting && r->o->idle_timeout_ms &&
                 now - c->last_ms >= r->o->idle_timeout_ms)
            teardown(c, "idle for %u ms", r->o->idle_timeout_ms);
    }
}

static void reap(struct relay *r)
{
    unsigned j = 0;
    for (unsigned i = 0; i < r->nconns; i++) {
        struct conn *c = r->conns[i];
        if (conn_done(c))
            conn_end(r, c);
        else
            r->conns[j++] = c;
    }
    r->nconns = j;
}

static bool accepting(const struct relay *r)
{
    return r->o->max_sessions == 0 || r->accepted < r->o->max_sessions;
}

static void loop(struct relay *r)
{
    struct pollfd pfd[2 + 2 * MC_RELAY_MAX_CONNS];
    short ev[MC_RELAY_MAX_CONNS][2];
    struct conn *map[MC_RELAY_MAX_CONNS];

    for (;;) {
        unsigned n = 0, nc = r->nconns;
        int ready;
        uint64_t now;
        bool listen_polled;

        if (got_signal) {
            say(r, "signal %d: stopping, %u session(s) open", (int)got_signal, r->nconns);
            return;
        }
        if (!accepting(r) && r->nconns == 0)
            return;

        pfd[n++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
        listen_polled = accepting(r) && now_ms() >= r->accept_pause_until;
        pfd[n++] = (struct pollfd){.fd = listen_polled ? r->lfd : -1, .events = POLLIN};
        for (unsigned i = 0; i < nc; i++) {
            struct conn *c = r->conns[i];
            map[i] = c;
            for (int s = 0; s < 2; s++) {
                ev[i][s] = want(c, (enum side)s);
                /* an fd with nothing to wait for is not watched: a hang-up
                 * there would otherwise wake the loop forever */
                pfd[n++] = (struct pollfd){.fd = ev[i][s] ? c->fd[s] : -1, .events = ev[i][s]};
            }
        }
        ready = poll(pfd, n, next_timeout(r, now_ms()));
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            say(r, "poll: %s", strerror(errno));
            fail(r, "poll: %s", strerror(errno));
            return;
        }
        now = now_ms();
        if (pfd[0].revents) {
            char b[64];
            while (read(sig_pipe[0], b, sizeof(b)) > 0) {
            }
        }
        for (unsigned i = 0; i < nc; i++) {
            short rev[2] = {pfd[2 + 2 * i].revents, pfd[3 + 2 * i].revents};
            /* plaintext OpenSSL already decrypted counts as readable */
            for (int s = 0; s < 2; s++)
                if (!map[i]->dead && tls_buffered(map[i], (enum side)s))
                    rev[s] |= POLLIN;
            if (rev[0] || rev[1])
                handle(r, map[i], ev[i], rev, now);
        }
        check_timeouts(r, now);
        reap(r);
        if (listen_polled && pfd[1].revents && !got_signal)
            accept_some(r);
        reap(r);   /* connections that failed at once */
    }
}

static void stop_all(struct relay *r, const char *why)
{
    for (unsigned i = 0; i < r->nconns; i++)
        teardown(r->conns[i], "%s", why);
    reap(r);
}

int mc_relay_run(const struct mc_relay_opts *o, char *err, size_t errlen)
{
    struct relay r;
    struct sigaction sa, old_int, old_term;
    char msg[200];

    memset(&r, 0, sizeof(r));
    r.o = o;
    r.log = o->log ? o->log : stderr;
    r.lfd = -1;
    r.err = err;
    r.errlen = errlen;
    if (err && errlen)
        err[0] = '\0';

    if (!o->listen || !o->to) {
        fail(&r, "relay needs --listen ADDR:PORT and --to ADDR:PORT");
        return r.rc;
    }
    if (!parse_addr(o->to, &r.to, &r.to_len, msg, sizeof(msg))) {
        fail(&r, "--to: %s", msg);
        return r.rc;
    }
    format_addr((const struct sockaddr *)&r.to, r.to_len, r.to_str);
    if (o->tls != MC_RELAY_TLS_OFF) {
        if (!o->tls_cert || !o->tls_key) {
            fail(&r, "terminating TLS needs --tls-cert FILE and --tls-key FILE");
            return r.rc;
        }
        r.tls = mc_relay_tls_new(o, o->to, msg, sizeof(msg));
        if (!r.tls) {
            fail(&r, "%s", msg);
            return r.rc;
        }
    }
    if (!probe(&r) || !open_listener(&r, o->listen)) {
        if (r.lfd >= 0)
            close(r.lfd);
        mc_relay_tls_free(r.tls);
        return r.rc;
    }
    if (o->record) {
        r.rec = fopen(o->record, "w");
        if (!r.rec) {
            fail(&r, "cannot write %s: %s", o->record, strerror(errno));
            close(r.lfd);
            mc_relay_tls_free(r.tls);
            return r.rc;
        }
        {
            char when[32];
            utc_now(when);
            rec_comment(&r, "mailconform relay recording, started %s", when);
            rec_comment(&r, "listening on %s, relaying to %s; one record per chunk read",
                        r.listen_str, r.to_str);
        }
    }
    if (pipe(sig_pipe) != 0 || !set_nonblock(sig_pipe[0]) || !set_nonblock(sig_pipe[1])) {
        fail(&r, "pipe: %s", strerror(errno));
        if (sig_pipe[0] >= 0) {
            close(sig_pipe[0]);
            close(sig_pipe[1]);
        }
        sig_pipe[0] = sig_pipe[1] = -1;
        close(r.lfd);
        if (r.rec)
            fclose(r.rec);
        mc_relay_tls_free(r.tls);
        return r.rc;
    }
    got_signal = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    say(&r, "listening on %s, relaying to %s%s%s%s", r.listen_str, r.to_str,
        o->record ? ", recording to " : "", o->record ? o->record : "",
        !r.tls ? "" : o->tls == MC_RELAY_TLS_IMPLICIT ? ", terminating implicit TLS"
                                                        : ", terminating TLS after STARTTLS");
    loop(&r);
    stop_all(&r, got_signal ? "relay stopped by a signal" : "relay stopped");

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    close(r.lfd);
    mc_relay_tls_free(r.tls);
    if (r.rec) {
        rec_comment(&r, "relay stopped after %u session(s)", r.ended);
        if (r.rec && fclose(r.rec) != 0)
            fail(&r, "cannot write %s: %s", o->record, strerror(errno));
    }
    say(&r, "stopped after %u session(s)%s", r.ended, got_signal ? " (signal)" : "");
    if (r.out_of_memory)   /* a session that stopped for it is the caller's to report */
        fail(&r, "out of memory %u time(s): connections refused or relayed without validation "
             "(see the log)", r.out_of_memory);
    return r.rc;
}
