/*
 * Capture -> flows -> sessions (see capture.h).
 *
 * Decisions, written down here because the issue leaves them open:
 * - A flow is mail when its server port has a role (user --port first, then
 *   the well-known ports), when --protocol forces one, or else when the
 *   server's first octets look like a mail greeting ("+OK", "-ERR", "* OK",
 *   "* PREAUTH", "* BYE", or three digits and SP/'-'). Client octets sent
 *   before the server spoke are held (at most SNIFF_HOLD_MAX) until then;
 *   other flows are counted and otherwise ignored.
 * - Flows on implicit-TLS ports go through the TLS engine from their first
 *   octet (capture_tls.h): its findings are reported, and with a key log
 *   (--keylog, pcapng Decryption Secrets Blocks) the plaintext inside is
 *   validated; without the keys the flow is reported as encrypted, not
 *   validated, with a note naming the client random.
 * - After a STARTTLS/STLS go-ahead, when a key log was given, the session
 *   says where each direction turned to TLS records
 *   (mc_session_on_tls_turn); from there on that direction goes through
 *   the TLS engine and its plaintext back into the session. Without a key
 *   log nothing changes: the records stay opaque to the session, as they
 *   are in a transcript with `! tls`.
 * - A flow whose start was not captured begins with a gap of one octet in
 *   each direction, so the parsers resynchronise at the next line and
 *   nothing before it is judged; offsets count from that point.
 * - TCP-level anomalies (retransmissions whose octets differ, gaps) are not
 *   protocol findings (no RFC in scope states them as a rule of the mail
 *   protocols): they are counted per flow and shown in its summary.
 */
#define _POSIX_C_SOURCE 200809L
#include "capture.h"
#include "capture_tls.h"
#include "packet.h"
#include "pcap_reader.h"
#include "tcp_reasm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SNIFF_HOLD_MAX 4096
#define BANNER_MAX 96
#define ENDPOINT_MAX 64

static const struct mc_port_role default_ports[] = {
    {110, MC_PROTO_POP3, false, false}, {995, MC_PROTO_POP3, false, true},
    {143, MC_PROTO_IMAP, false, false}, {993, MC_PROTO_IMAP, false, true},
    {25, MC_PROTO_SMTP, false, false},  {2525, MC_PROTO_SMTP, false, false},
    {587, MC_PROTO_SMTP, true, false},  {465, MC_PROTO_SMTP, true, true},
};

static const struct {
    const char *name;
    struct mc_port_role role;
} role_names[] = {
    {"pop3", {0, MC_PROTO_POP3, false, false}},   {"pop3s", {0, MC_PROTO_POP3, false, true}},
    {"imap", {0, MC_PROTO_IMAP, false, false}},   {"imaps", {0, MC_PROTO_IMAP, false, true}},
    {"smtp", {0, MC_PROTO_SMTP, false, false}},   {"smtps", {0, MC_PROTO_SMTP, true, true}},
    {"submission", {0, MC_PROTO_SMTP, true, false}},
};

bool mc_port_role_parse(const char *name, struct mc_port_role *out)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strcmp(name, role_names[i].name) == 0) {
            *out = role_names[i].role;
            return true;
        }
    }
    return false;
}

bool mc_capture_add_port(struct mc_capture_opts *opts, const char *spec, const char **why)
{
    const char *eq = strchr(spec, '=');
    char *end;
    unsigned long port;
    struct mc_port_role role;
    if (!eq || eq == spec) {
        *why = "--port takes PORT=PROTOCOL (e.g. 10143=imap)";
        return false;
    }
    port = strtoul(spec, &end, 10);
    if (end != eq || port == 0 || port > 65535) {
        *why = "--port: the port is a number from 1 to 65535";
        return false;
    }
    if (!mc_port_role_parse(eq + 1, &role)) {
        *why = "--port: the protocol is pop3, pop3s, imap, imaps, smtp, smtps or submission";
        return false;
    }
    if (opts->n_ports >= MC_CAPTURE_PORTS_MAX) {
        *why = "--port: too many ports";
        return false;
    }
    role.port = (uint16_t)port;
    opts->ports[opts->n_ports++] = role;
    return true;
}

/* ---- state ------------------------------------------------------------------ */

struct flow {
    uint64_t no;                  /* 1-based, in order of appearance */
    char name[160];
    char client[ENDPOINT_MAX], server[ENDPOINT_MAX];
    const struct mc_port_role *role;   /* NULL: sniffed or forced */
    enum mc_proto proto;
    bool decided;                 /* mail or not is known */
    bool ignored;                 /* not mail */
    bool implicit_tls;
    bool roles_guessed, midstream;
    bool swapped;                 /* roles from ports were wrong: the banner says so */
    bool any_data;
    struct mc_session *s;
    struct capture *cap;
    struct mc_capture_tls *tls;   /* TLS records followed (implicit TLS, after STARTTLS) */
    bool to_tls[2];               /* this direction's octets go to the TLS engine */
    bool turned[2];               /* set by the session during a feed: d turned ... */
    uint64_t turn_off[2];         /* ... at this session offset */
    uint8_t *hold;                /* client octets before the server spoke */
    size_t hold_len;
    uint64_t hold_frame, hold_gap;
    char banner[BANNER_MAX];
    bool banner_done;
    uint64_t first_frame, last_frame, octets[2], gaps, gap_octets, overlaps;
};

struct capture {
    struct mc_report *rep;
    const struct mc_capture_opts *opts;
    const char *name;
    struct mc_reasm *reasm;
    uint64_t flows, mail_flows, encrypted_flows, other_flows;
    uint64_t frames, tcp, not_tcp, fragments, truncated, malformed, linktypes, evicted;
    uint32_t bad_linktype;
    struct mc_tls_keylog *keylog; /* --keylog files and Decryption Secrets Blocks */
    uint64_t dsb;                 /* Decryption Secrets Blocks read */
};

static unsigned max_flows(const struct capture *c)
{
    return c->opts->max_flows ? c->opts->max_flows : MC_CAPTURE_MAX_FLOWS;
}

static const struct mc_port_role *role_of(const struct capture *c, uint16_t port)
{
    for (unsigned i = 0; i < c->opts->n_ports; i++)
        if (c->opts->ports[i].port == port)
            return &c->opts->ports[i];
    for (size_t i = 0; i < sizeof(default_ports) / sizeof(default_ports[0]); i++)
        if (default_ports[i].port == port)
            return &default_ports[i];
    return NULL;
}

static void endpoint(char *out, uint8_t af, const uint8_t *a, uint16_t port)
{
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(af == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip)))
        snprintf(ip, sizeof(ip), "?");
    snprintf(out, ENDPOINT_MAX, af == 4 ? "%s:%u" : "[%s]:%u", ip, port);
}

/* ---- sessions ---------------------------------------------------------------- */

/* The session found where direction d turned to TLS records (STARTTLS). */
static void on_tls_turn(void *arg, enum mc_dir d, uint64_t off)
{
    struct flow *f = arg;
    f->turned[d] = true;
    f->turn_off[d] = off;
}

static void keep_banner(struct flow *f, const uint8_t *p, size_t n);

/* Decrypted plaintext: the server's first line is the flow's banner. */
static void on_plain(void *ctx, enum mc_dir d, const uint8_t *p, size_t n)
{
    struct flow *f = ctx;
    if (d == MC_DIR_S2C && !f->banner_done)
        keep_banner(f, p, n);
}

static bool follow_tls(struct capture *c, struct flow *f)
{
    if (!f->tls) {
        f->tls = mc_capture_tls_new(f->s, c->keylog);
        if (f->tls)
            mc_capture_tls_on_plain(f->tls, on_plain, f);
    }
    return f->tls != NULL;
}

static void start_session(struct capture *c, struct flow *f, enum mc_proto proto, bool submission)
{
    f->s = mc_session_new(f->name, proto, mc_report_finding, c->rep);
    if (!f->s) {
        f->ignored = true;   /* out of memory: counted, not validated */
        return;
    }
    if (f->implicit_tls) {
        /* TLS from the first octet: the session sees only what is decrypted */
        struct mc_origin o = {f->first_frame, 0};
        mc_session_tls(f->s, true, &o);
        if (follow_tls(c, f)) {
            f->to_tls[0] = f->to_tls[1] = true;
            if (f->midstream) {
                /* the records' framing is unknown: not followed, not blamed */
                mc_capture_tls_gap(f->tls, MC_DIR_C2S, 1, f->first_frame);
                mc_capture_tls_gap(f->tls, MC_DIR_S2C, 1, f->first_frame);
            }
        }
    } else if (c->keylog && mc_tls_keylog_count(c->keylog) > 0) {
        mc_session_on_tls_turn(f->s, on_tls_turn, f);
    }
    if (submission)
        mc_session_set_submission(f->s);
    mc_session_set_policy(f->s, c->opts->policy);
    if (c->opts->imap_version)
        mc_session_set_version(f->s, c->opts->imap_version);
    if (f->midstream) {
        struct mc_origin o = {f->first_frame, 0};
        mc_session_gap(f->s, MC_DIR_S2C, 1, &o);
        mc_session_gap(f->s, MC_DIR_C2S, 1, &o);
    }
}

/* The server's first octets look like a mail greeting. */
static bool mail_greeting(const uint8_t *p, size_t n)
{
    static const char *const starts[] = {"+OK", "-ERR", "* OK", "* PREAUTH", "* BYE"};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        size_t k = strlen(starts[i]);
        if (n >= k && memcmp(p, starts[i], k) == 0)
            return true;
    }
    return n >= 4 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
           p[2] <= '9' && (p[3] == ' ' || p[3] == '-' || p[3] == '\r');
}

static void keep_banner(struct flow *f, const uint8_t *p, size_t n)
{
    size_t k = strlen(f->banner);
    for (size_t i = 0; i < n && !f->banner_done; i++) {
        if (p[i] == '\r' || p[i] == '\n' || k + 1 >= BANNER_MAX) {
            f->banner_done = true;
            break;
        }
        f->banner[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
        f->banner[k] = '\0';
    }
}

/* ---- reassembly callbacks ------------------------------------------------------- */

static enum mc_reasm_dir dir_of(const struct flow *f, enum mc_reasm_dir d)
{
    return f->swapped ? (d == MC_REASM_C2S ? MC_REASM_S2C : MC_REASM_C2S) : d;
}

static void swap_roles(struct flow *f)
{
    char t[ENDPOINT_MAX];
    f->swapped = true;
    memcpy(t, f->client, sizeof(t));
    memcpy(f->client, f->server, sizeof(t));
    memcpy(f->server, t, sizeof(t));
    snprintf(f->name, sizeof(f->name), "flow %llu %s > %s", (unsigned long long)f->no, f->client,
             f->server);
}

static void *on_open(void *ctx, const struct mc_reasm_flow_info *fi)
{
    struct capture *c = ctx;
    struct flow *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->no = ++c->flows;
    endpoint(f->client, fi->af, fi->client, fi->client_port);
    endpoint(f->server, fi->af, fi->server, fi->server_port);
    snprintf(f->name, sizeof(f->name), "flow %llu %s > %s", (unsigned long long)f->no, f->client,
             f->server);
    f->first_frame = f->last_frame = fi->first_frame;
    f->roles_guessed = !fi->roles_from_syn;
    f->midstream = fi->midstream;
    f->role = role_of(c, fi->server_port);
    f->cap = c;
    f->implicit_tls = f->role && f->role->implicit_tls;
    if (c->opts->proto != MC_PROTO_UNKNOWN) {
        f->decided = true;
        f->proto = c->opts->proto;
        start_session(c, f, c->opts->proto, c->opts->submission);
    } else if (f->role) {
        f->decided = true;
        f->proto = f->role->proto;
        start_session(c, f, f->role->proto, f->role->submission);
    }
    return f;
}

static enum mc_dir sdir(enum mc_reasm_dir d)
{
    return d == MC_REASM_C2S ? MC_DIR_C2S : MC_DIR_S2C;
}

/* The session said during the last call that d turned to TLS records at
 * turn_off: from there on d goes to the TLS engine (the rest of the chunk,
 * p[cut..n), when the turn fell inside it). */
static void take_turn(struct flow *f, enum mc_dir d, uint64_t start, const uint8_t *p, size_t n,
                      uint64_t gap, uint64_t frame)
{
    uint64_t cut;
    if (!f->turned[d] || f->to_tls[d])
        return;
    if (!follow_tls(f->cap, f))
        return;   /* out of memory: the rest is not looked into */
    f->to_tls[d] = true;
    if (gap) {
        /* the start of the records is lost: the engine cannot follow d */
        mc_capture_tls_gap(f->tls, d, gap, frame);
        return;
    }
    cut = f->turn_off[d] > start ? f->turn_off[d] - start : 0;
    if (cut < n)
        mc_capture_tls_data(f->tls, d, p + cut, (size_t)(n - cut), frame);
}

static void feed(struct flow *f, enum mc_reasm_dir rd, const uint8_t *p, size_t n, uint64_t frame)
{
    struct mc_origin o = {frame, 0};
    enum mc_dir d = sdir(rd);
    uint64_t start;
    if (f->to_tls[d]) {
        mc_capture_tls_data(f->tls, d, p, n, frame);
        return;
    }
    if (!f->s)
        return;
    start = mc_session_offset(f->s, d);
    mc_session_data(f->s, d, p, n, &o);
    take_turn(f, d, start, p, n, 0, frame);
}

static void on_data(void *ctx, void *flow, enum mc_reasm_dir d, const uint8_t *p, size_t n,
                    uint64_t frame)
{
    struct capture *c = ctx;
    struct flow *f = flow;
    if (!f)
        return;
    /* Roles guessed from the ports, and the side taken for the client
     * speaks first with a mail greeting: it is the server. Decided on the
     * first octets, before the session saw any data. */
    if (!f->any_data && f->roles_guessed && d == MC_REASM_C2S && mail_greeting(p, n))
        swap_roles(f);
    f->any_data = true;
    d = dir_of(f, d);
    f->octets[d] += n;
    f->last_frame = frame;
    if (d == MC_REASM_S2C && !f->banner_done && !f->to_tls[MC_DIR_S2C])
        keep_banner(f, p, n);
    if (f->ignored)
        return;
    if (!f->decided) {
        if (d == MC_REASM_C2S) {
            /* the client spoke first: hold it until the server shows what
             * this is; a client that talks long first is not mail */
            if (!f->hold) {
                f->hold = malloc(SNIFF_HOLD_MAX);
                f->hold_frame = frame;
            }
            if (!f->hold || f->hold_len + n > SNIFF_HOLD_MAX) {
                f->decided = f->ignored = true;
                free(f->hold);
                f->hold = NULL;
                return;
            }
            memcpy(f->hold + f->hold_len, p, n);
            f->hold_len += n;
            return;
        }
        f->decided = true;
        if (!mail_greeting(p, n)) {
            f->ignored = true;
            free(f->hold);
            f->hold = NULL;
            return;
        }
        start_session(c, f, MC_PROTO_UNKNOWN, false);
        if (f->hold_len)
            feed(f, MC_REASM_C2S, f->hold, f->hold_len, f->hold_frame);
        if (f->hold_gap && f->s) {
            struct mc_origin o = {f->hold_frame, 0};
            mc_session_gap(f->s, MC_DIR_C2S, f->hold_gap, &o);
        }
        free(f->hold);
        f->hold = NULL;
    }
    feed(f, d, p, n, frame);
}

static void on_gap(void *ctx, void *flow, enum mc_reasm_dir d, uint64_t n, uint64_t frame)
{
    struct flow *f = flow;
    (void)ctx;
    if (!f)
        return;
    d = dir_of(f, d);
    f->gaps++;
    f->gap_octets += n;
    if (!f->decided && d == MC_REASM_C2S) {
        f->hold_gap += n;
        return;
    }
    if (f->to_tls[sdir(d)]) {
        mc_capture_tls_gap(f->tls, sdir(d), n, frame);
    } else if (f->s) {
        struct mc_origin o = {frame, 0};
        mc_session_gap(f->s, sdir(d), n, &o);
        take_turn(f, sdir(d), 0, NULL, 0, n, frame);
    }
}

static void on_fin(void *ctx, void *flow, enum mc_reasm_dir d, bool rst, uint64_t frame)
{
    struct flow *f = flow;
    (void)ctx;
    (void)rst;
    if (!f)
        return;
    d = dir_of(f, d);
    f->last_frame = frame;
    if (f->to_tls[sdir(d)])
        mc_capture_tls_end(f->tls, sdir(d), frame);   /* may flush plaintext first */
    if (f->s) {
        struct mc_origin o = {frame, 0};
        mc_session_close(f->s, sdir(d), &o);
    }
}

static void on_note(void *ctx, void *flow, enum mc_reasm_note n, enum mc_reasm_dir d, uint64_t frame,
                    uint64_t detail)
{
    struct capture *c = ctx;
    struct flow *f = flow;
    (void)d;
    (void)detail;
    if (!f)
        return;
    if (n == MC_REASM_OVERLAP_DIFFERS)
        f->overlaps++;
    if (n == MC_REASM_EVICTED && !f->ignored && f->decided && c->evicted++ == 0) {
        char msg[400];
        snprintf(msg, sizeof(msg),
                 "frame %llu: %s closed early: more than %u connections open at once "
                 "(--max-flows); later ones are counted at the end",
                 (unsigned long long)frame, f->name, max_flows(c));
        mc_report_warning(c->rep, c->name, msg);
    }
}

static void on_close(void *ctx, void *flow, uint64_t frame)
{
    struct capture *c = ctx;
    struct flow *f = flow;
    struct mc_flow_summary fs;
    if (!f)
        return;
    if (f->last_frame < frame)
        f->last_frame = frame;
    for (int d = 0; d < 2; d++)
        if (f->to_tls[d])
            mc_capture_tls_end(f->tls, (enum mc_dir)d, f->last_frame);
    if (f->s) {
        struct mc_origin o = {f->last_frame, 0};
        mc_session_mark(f->s, &o);
        mc_session_finish(f->s);
    }
    if (!f->ignored && f->decided) {
        bool decrypted = f->tls && mc_capture_tls_decrypted(f->tls);
        bool encrypted = f->implicit_tls && !decrypted;
        memset(&fs, 0, sizeof(fs));
        fs.name = f->name;
        fs.client = f->client;
        fs.server = f->server;
        fs.proto = f->s ? mc_session_proto(f->s) : f->proto;
        fs.submission = f->role && f->role->submission;
        fs.mode = f->implicit_tls ? "implicit TLS"
                  : f->s && mc_session_in_tls(f->s) ? "STARTTLS"
                                                    : "plain";
        fs.validated = f->s && mc_session_validated(f->s) && !encrypted;
        fs.encrypted = encrypted;
        fs.roles_guessed = f->roles_guessed;
        fs.midstream = f->midstream;
        fs.first_frame = f->first_frame;
        fs.last_frame = f->last_frame;
        fs.octets_c2s = f->octets[0];
        fs.octets_s2c = f->octets[1];
        fs.gaps = f->gaps;
        fs.gap_octets = f->gap_octets;
        fs.overlaps = f->overlaps;
        fs.banner = f->banner[0] ? f->banner : NULL;
        fs.findings = f->s ? mc_session_findings(f->s) : 0;
        fs.suppressed = f->s ? mc_session_suppressed(f->s) : 0;
        if (f->tls)
            mc_capture_tls_summary(f->tls, &fs);
        mc_report_flow(c->rep, &fs);
        c->mail_flows++;
        if (encrypted)
            c->encrypted_flows++;
    } else {
        c->other_flows++;
    }
    mc_capture_tls_free(f->tls);
    if (f->s)
        mc_session_free(f->s);
    free(f->hold);
    free(f);
}

static bool on_is_server_port(void *ctx, uint16_t port)
{
    return role_of(ctx, port) != NULL;
}

/* ---- key logs ------------------------------------------------------------------- */

struct keylog_err {
    struct capture *c;
    const char *file;
    bool unreadable;
};

static void on_keylog_error(void *ctx, const char *where, const char *why)
{
    struct keylog_err *ke = ctx;
    char msg[400];
    if (ke->unreadable)
        return;   /* reported once as an input error by the caller */
    snprintf(msg, sizeof(msg), "key log %s: %s (line skipped)", where, why);
    mc_report_warning(ke->c->rep, ke->file, msg);
}

/* --keylog files: an unreadable one is an input error (exit status 2);
 * malformed lines are warnings and skipped. */
static void load_keylogs(struct capture *c)
{
    c->keylog = mc_tls_keylog_new();
    if (!c->keylog) {
        mc_report_input_error(c->rep, c->name, 0, 0, "out of memory for the key log");
        return;
    }
    for (unsigned i = 0; i < c->opts->n_keylogs; i++) {
        const char *path = c->opts->keylogs[i];
        struct keylog_err ke = {c, path, false};
        FILE *probe = fopen(path, "r");
        if (!probe) {
            char msg[300];
            snprintf(msg, sizeof(msg), "cannot read the key log: %s", strerror(errno));
            mc_report_input_error(c->rep, path, 0, 0, msg);
            continue;
        }
        fclose(probe);
        if (mc_tls_keylog_load_file(c->keylog, path, on_keylog_error, &ke) < 0) {
            ke.unreadable = true;
            mc_report_input_error(c->rep, path, 0, 0, "cannot read the key log");
        }
    }
}

/* A pcapng Decryption Secrets Block: TLS key log text joins the key log
 * (flows after it can be decrypted; pcapng writers put them first). */
static void on_secrets(void *ctx, uint32_t type, const uint8_t *p, size_t n)
{
    struct capture *c = ctx;
    char name[64];
    struct keylog_err ke = {c, c->name, false};
    if (type != MC_PCAP_SECRETS_TLS || !c->keylog)
        return;
    c->dsb++;
    snprintf(name, sizeof(name), "decryption secrets block %llu", (unsigned long long)c->dsb);
    if (mc_tls_keylog_load_mem(c->keylog, name, p, n, on_keylog_error, &ke) < 0)
        mc_report_input_error(c->rep, c->name, 0, 0, "out of memory for the key log");
}

/* ---- the loop ------------------------------------------------------------------- */

static void progress(struct capture *c, struct mc_pcap_reader *r, uint64_t total, bool done)
{
    static struct timespec t0, last;
    struct timespec now;
    double secs, mb;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (c->frames <= 1) {
        t0 = last = now;
        return;
    }
    if (!done && (double)(now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9 < 0.25)
        return;
    last = now;
    secs = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
    mb = (double)mc_pcap_offset(r) / 1e6;
    if (done) {
        fputs("\r\033[K", stderr);
        return;
    }
    if (total)
        fprintf(stderr, "\r%s: %.0f/%.0f MB (%.0f%%), %.0f MB/s, %llu flows", c->name, mb,
                (double)total / 1e6, 100.0 * mb * 1e6 / (double)total, secs > 0 ? mb / secs : 0.0,
                (unsigned long long)c->flows);
    else
        fprintf(stderr, "\r%s: %.0f MB, %.0f MB/s, %llu flows", c->name, mb,
                secs > 0 ? mb / secs : 0.0, (unsigned long long)c->flows);
}

static bool run(struct capture *c, struct mc_pcap_reader *r, uint64_t total)
{
    struct mc_reasm_limits lim = {max_flows(c), 0, 0, 3600ull * 1000000000ull};
    struct mc_reasm_cb cb = {c,      on_open,  on_data, on_gap, on_fin,
                             on_note, on_close, on_is_server_port};
    struct mc_packet pkt;
    enum mc_pcap_status st;
    bool ok = true;
    load_keylogs(c);
    mc_pcap_on_secrets(r, on_secrets, c);
    c->reasm = mc_reasm_new(&lim, &cb);
    if (!c->reasm) {
        mc_report_input_error(c->rep, c->name, 0, 0, "out of memory");
        mc_tls_keylog_free(c->keylog);
        return false;
    }
    while ((st = mc_pcap_next(r, &pkt)) == MC_PCAP_PACKET) {
        struct mc_tcp_seg seg;
        c->frames++;
        switch (mc_decode_frame(pkt.linktype, pkt.data, pkt.caplen, pkt.origlen, &seg)) {
        case MC_DEC_TCP:
            c->tcp++;
            mc_reasm_segment(c->reasm, &seg, pkt.frame, pkt.ts_ns);
            break;
        case MC_DEC_NOT_TCP:
            c->not_tcp++;
            break;
        case MC_DEC_FRAGMENT:
            c->fragments++;
            break;
        case MC_DEC_TRUNCATED:
            c->truncated++;
            break;
        case MC_DEC_MALFORMED:
            c->malformed++;
            break;
        case MC_DEC_LINKTYPE:
            if (!c->linktypes++)
                c->bad_linktype = pkt.linktype;
            break;
        }
        if (c->opts->progress && (c->frames & 0xffff) == 1)
            progress(c, r, total, false);
    }
    mc_reasm_finish(c->reasm, c->frames);
    if (c->opts->progress)
        progress(c, r, total, true);
    if (c->evicted > 1) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%llu connections in all were closed early for --max-flows %u",
                 (unsigned long long)c->evicted, max_flows(c));
        mc_report_warning(c->rep, c->name, msg);
    }
    if (st == MC_PCAP_ERROR) {
        char msg[400];
        snprintf(msg, sizeof(msg), "byte %llu: %s%s", (unsigned long long)mc_pcap_error_offset(r),
                 mc_pcap_error(r), c->frames ? " (every packet before it was validated)" : "");
        mc_report_input_error(c->rep, c->name, 0, 0, msg);
        ok = c->frames > 0;
    }
    {
        struct mc_capture_summary cs;
        memset(&cs, 0, sizeof(cs));
        cs.name = c->name;
        cs.format = mc_pcap_format(r);
        cs.frames = c->frames;
        cs.tcp_segments = c->tcp;
        cs.flows = c->flows;
        cs.mail_flows = c->mail_flows;
        cs.encrypted_flows = c->encrypted_flows;
        cs.other_flows = c->other_flows;
        cs.not_tcp = c->not_tcp;
        cs.fragments = c->fragments;
        cs.truncated = c->truncated;
        cs.malformed = c->malformed;
        cs.unknown_linktype = c->linktypes;
        cs.linktype = c->bad_linktype;
        mc_report_capture(c->rep, &cs);
    }
    mc_reasm_free(c->reasm);
    mc_tls_keylog_free(c->keylog);
    return ok;
}

bool mc_capture_check_fd(struct mc_report *rep, int fd, const char *name,
                         const struct mc_capture_opts *opts)
{
    return mc_capture_check_fd_prefix(rep, fd, NULL, 0, name, opts);
}

bool mc_capture_check_fd_prefix(struct mc_report *rep, int fd, const uint8_t *prefix, size_t n,
                                const char *name, const struct mc_capture_opts *opts)
{
    struct capture c = {.rep = rep, .opts = opts, .name = name};
    struct mc_pcap_reader *r = n ? mc_pcap_open_fd_prefix(fd, prefix, n, name)
                                 : mc_pcap_open_fd(fd, name);
    struct stat st;
    uint64_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    bool ok;
    if (!r) {
        mc_report_input_error(rep, name, 0, 0, "out of memory");
        return false;
    }
    ok = run(&c, r, total);
    mc_pcap_close(r);
    return ok;
}

bool mc_capture_check_mem(struct mc_report *rep, const uint8_t *buf, size_t len, const char *name,
                          const struct mc_capture_opts *opts)
{
    struct capture c = {.rep = rep, .opts = opts, .name = name};
    struct mc_pcap_reader *r = mc_pcap_open_mem(buf, len, name);
    bool ok;
    if (!r) {
        mc_report_input_error(rep, name, 0, 0, "out of memory");
        return false;
    }
    ok = run(&c, r, len);
    mc_pcap_close(r);
    return ok;
}
