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
 *   nothing before it is judged; offsets count from that point. When a
 *   direction's first captured octets begin a line of its protocol (a
 *   status, reply code, tag or command word: line_start() below), the
 *   octet before them is taken to be the LF that ended the line before,
 *   and given to the session as such, so that this first line is
 *   validated rather than skipped as the tail of a lost one; the flow's
 *   octet counts do not include it.
 * - TCP-level anomalies (retransmissions whose octets differ, gaps) are not
 *   protocol findings (no RFC in scope states them as a rule of the mail
 *   protocols): they are counted per flow and shown in its summary.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE   /* madvise(MADV_DONTNEED) */
#define _GNU_SOURCE
#include "capture.h"
#include "capture_tls.h"
#include "packet.h"
#include "pcap_reader.h"
#include "tcp_reasm.h"
#include "imap/imap_cmd.h"
#include "pop3/pop3_cmd.h"
#include "smtp/smtp_cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
    /* midstream: this direction's first octets are still to come, right
     * after the gap that stands for everything before the capture */
    bool mid_first[2];
    bool swapped;                 /* roles from ports were wrong: the banner says so */
    bool any_data;
    struct mc_session *s;
    struct capture *cap;
    struct shard *sh;
    /* --jobs > 1: the number (part of the name) is known once every worker
     * has passed first_frame; until then the flow waits in its worker's
     * list of unnumbered flows (flow numbering below) */
    bool named;
    bool oom_said;                /* out of memory: reported, validation stopped */
    struct flow *unnumbered_next;
    /* --jobs > 1: findings made before the number was known (flow_finding)
     * and, while there are any, the flow's place in its shard's list */
    struct pending *pending, *pending_last;
    struct flow *pending_next;
    bool listed;                  /* in its shard's list of flows waiting for the number */
    bool closing;                 /* closed: its summary waits for the number */
    bool mail;                    /* closed as a mail flow (it has a summary) */
    struct mc_flow_summary summary;
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

struct shard;

struct capture {
    struct mc_report *rep;
    const struct mc_capture_opts *opts;
    const char *name;
    /* flows opened so far: numbers them (atomic: read by the progress line
     * while workers open flows) */
    _Atomic uint64_t flows;
    uint64_t frames, tcp, not_tcp, fragments, truncated, malformed, linktypes;
    _Atomic uint64_t evicted;
    uint32_t bad_linktype;
    struct mc_tls_keylog *keylog; /* --keylog files and Decryption Secrets Blocks */
    bool keylog_oom;              /* it could not be made: to say at the first secrets */
    uint64_t dsb;                 /* Decryption Secrets Blocks read */
    /* shards: one per job; with one, it runs in this thread */
    unsigned jobs;
    struct shard *shards;
    struct capture_threads *threads;   /* jobs > 1 (capture_threads below) */
    /* a regular file read through a mapping (see mc_capture_check_fd_prefix):
     * the part behind the reader is dropped from it as it goes */
    uint8_t *map;
    size_t map_len, map_dropped;
    const uint8_t *prefetched;    /* the mapping is being prefetched up to here */
};

/* Per shard: its own reassembler, hence its own flows, sessions and TLS
 * connections; the counts are added up at the end. */
struct shard {
    struct capture *c;
    struct mc_reasm *reasm;
    uint64_t mail_flows, encrypted_flows, other_flows;
    struct worker *w;             /* jobs > 1: the thread that runs it */
    struct flow *pending_flows;   /* flows with findings or a summary held for their number */
    unsigned pending;             /* findings held, all flows */
    unsigned closing;             /* closed flows held */
};

/* A finding held until its flow's number is known (see "flow numbering"). */
struct pending {
    struct pending *next;
    bool swapped;                 /* the flow's roles when it was made */
    struct mc_finding f;
};

/* Findings held per shard at most (about 330 octets each), and closed
 * flows (about 1.5 KiB each, their TLS state included when followed);
 * beyond, the shard waits for the number as it did before holding any. */
#define PENDING_MAX 512
#define CLOSING_MAX 128

/* Octets held out of order in all (split between the shards). 16 MiB,
 * half of the reassembler's own default: with --max-flows connections of
 * ordinary traffic open at once it keeps the peak of a capture built to
 * fill the holding area under 64 MiB (docs/capture.md, Bounds), and it
 * still holds 16 connections' full 1 MiB per direction at once, while a
 * hole normally lasts one round trip (a retransmission fills it, or the
 * peer's ACK shows it as a gap). */
#define HELD_TOTAL (16u << 20)

static unsigned max_flows(const struct capture *c)
{
    return c->opts->max_flows ? c->opts->max_flows : MC_CAPTURE_MAX_FLOWS;
}

/* ---- the shared report ------------------------------------------------------------
 * With several jobs, every report call of a worker (findings, flows,
 * warnings) and of the reading thread goes through one mutex. */

static void report_lock(struct capture *c);
static void report_unlock(struct capture *c);

static void locked_finding(void *ctx, const struct mc_finding *fnd)
{
    struct capture *c = ctx;
    report_lock(c);
    mc_report_finding(c->rep, fnd);
    report_unlock(c);
}

static void report_warning(struct capture *c, const char *file, const char *msg)
{
    report_lock(c);
    mc_report_warning(c->rep, file, msg);
    report_unlock(c);
}

static void report_input_error(struct capture *c, const char *file, const char *msg)
{
    report_lock(c);
    mc_report_input_error(c->rep, file, 0, 0, msg);
    report_unlock(c);
}

/* Flow numbers (in order of appearance): given at once with one job;
 * with several, see "flow numbering" below. */
static void number_flow(struct shard *sh, struct flow *f);
static uint64_t number_now(struct shard *sh, uint64_t frame);
static void ensure_named(struct flow *f);
static void flow_name(struct flow *f);

/* With several jobs a session's findings come here (ctx: its flow), so
 * that they carry the flow's name with its final number. A finding made
 * before that number is known is held, not waited for: waiting stalled the
 * reading thread at every early finding (an SMTP note at MAIL FROM) until
 * the worker caught up, which ran the two threads one after the other.
 * Held findings go out, in their order, once the number is known
 * (flush_numbered, ensure_named), at the latest before the flow's summary. */
static bool hold_finding(struct flow *f, const struct mc_finding *fnd);
static void emit_finding(struct flow *f, struct mc_finding *fnd, bool swapped);
static void flush_pending(struct flow *f);
static void named_now(struct flow *f);
static void list_flow(struct flow *f);
static void unlist_flow(struct flow *f);
static void flush_numbered(struct shard *sh);

static void flow_finding(void *ctx, const struct mc_finding *fnd)
{
    struct flow *f = ctx;
    struct mc_finding named;
    if (!f->named) {
        if (f->sh->pending >= PENDING_MAX)
            flush_numbered(f->sh);   /* what has its number by now goes first */
        if (!f->named && f->sh->pending < PENDING_MAX && hold_finding(f, fnd))
            return;
        ensure_named(f);   /* too many held, or no memory: wait for it */
    }
    named = *fnd;
    emit_finding(f, &named, f->swapped);
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

/* What flow f needs from frame on could not be allocated: its session
 * stops there (nothing after it is judged, so nothing is blamed on a peer
 * for our missing state) and the stop is reported as an input error. The
 * flow is named by its endpoints: with several jobs its number may not be
 * known yet. */
static void out_of_memory_at(struct capture *c, const char *client, const char *server,
                             uint64_t first_frame, uint64_t frame)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "out of memory: connection %s > %s (first frame %llu) not validated "
             "from frame %llu on", client, server, (unsigned long long)first_frame,
             (unsigned long long)frame);
    report_input_error(c, c->name, msg);
}

static void flow_out_of_memory(struct flow *f, uint64_t frame)
{
    if (f->oom_said)
        return;
    f->oom_said = true;
    if (f->s) {
        struct mc_origin o = {frame, 0};
        mc_session_abandon(f->s, &o);
    } else {
        f->ignored = true;
    }
    out_of_memory_at(f->cap, f->client, f->server, f->first_frame, frame);
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
    f->s = c->jobs > 1 ? mc_session_new(f->name, proto, flow_finding, f)
                       : mc_session_new(f->name, proto, mc_report_finding, c->rep);
    if (!f->s) {
        flow_out_of_memory(f, f->last_frame);
        return;
    }
    if (f->implicit_tls) {
        /* TLS from the first octet: the session sees only what is decrypted */
        struct mc_origin o = {f->first_frame, 0};
        mc_session_tls(f->s, true, &o);
        if (!follow_tls(c, f)) {
            flow_out_of_memory(f, f->first_frame);   /* never the records as plaintext */
        } else {
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
        /* only where the session knows its protocol, so its parsers (not
         * the detection hold) get the gap, and only for plaintext */
        if (mc_session_proto(f->s) != MC_PROTO_UNKNOWN && !f->implicit_tls)
            f->mid_first[MC_DIR_C2S] = f->mid_first[MC_DIR_S2C] = true;
    }
}

/* ---- mid-stream starts --------------------------------------------------------- */

static bool is_tag_char(uint8_t ch)
{
    /* RFC 3501 tag: ASTRING-CHAR except "+" */
    return ch > 0x20 && ch < 0x7f && !strchr("(){%*\"\\]+", ch);
}

/* p[0, n) starts with word (upper case, as clients and servers write
 * it) followed by SP, CR or LF. */
static bool word_at(const uint8_t *p, size_t n, const char *word)
{
    size_t k = strlen(word);
    return n > k && memcmp(p, word, k) == 0 && (p[k] == ' ' || p[k] == '\r' || p[k] == '\n');
}

static bool any_word(const uint8_t *p, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (word_at(p, n, *words))
            return true;
    return false;
}

/* A command word of proto's client at p: the verbs its parser knows
 * (mc_*_verb_name: the parsers' own tables, so that the two cannot
 * drift apart), and IMAP's "UID" prefix. */
static bool command_word(enum mc_proto proto, const uint8_t *p, size_t n)
{
    switch (proto) {
    case MC_PROTO_POP3:
        for (int v = MC_POP3_UNKNOWN + 1; v < MC_POP3_VERB_COUNT; v++)
            if (word_at(p, n, mc_pop3_verb_name((enum mc_pop3_verb)v)))
                return true;
        return false;
    case MC_PROTO_SMTP:
        for (int v = MC_SMTP_UNKNOWN + 1; v < MC_SMTP_VERB_COUNT; v++)
            if (word_at(p, n, mc_smtp_verb_name((enum mc_smtp_verb)v)))
                return true;
        return false;
    case MC_PROTO_IMAP:
        for (int v = MC_IMAP_UNKNOWN + 1; v < MC_IMAP_VERB_COUNT; v++)
            if (word_at(p, n, mc_imap_verb_name((enum mc_imap_verb)v)))
                return true;
        return word_at(p, n, "UID");
    default:
        return false;
    }
}

/* The first captured octets of a mid-stream direction begin a line of
 * proto: a POP3 status, an SMTP reply code, an IMAP untagged, continuation
 * or tagged status response; a command word of the protocol (after an IMAP
 * tag). Conservative: command words in upper case only, so that message
 * text caught in the middle of DATA or a literal is rarely taken for a
 * command; a line start missed is only skipped, as before. */
static bool line_start(enum mc_proto proto, enum mc_dir d, const uint8_t *p, size_t n)
{
    static const char *const imap_status[] = {"OK", "NO", "BAD", NULL};
    size_t t = 0;
    switch (proto) {
    case MC_PROTO_POP3:
        if (d == MC_DIR_C2S)
            return command_word(proto, p, n);
        return word_at(p, n, "+OK") || word_at(p, n, "-ERR") || word_at(p, n, "+");
    case MC_PROTO_SMTP:
        if (d == MC_DIR_C2S)
            return command_word(proto, p, n);
        return n >= 4 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
               p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '-' || p[3] == '\r' || p[3] == '\n');
    case MC_PROTO_IMAP:
        if (d == MC_DIR_S2C) {
            if (word_at(p, n, "+"))
                return true;
            if (n >= 3 && p[0] == '*' && p[1] == ' ')
                return (p[2] >= 'A' && p[2] <= 'Z') || (p[2] >= '0' && p[2] <= '9');
        } else if (word_at(p, n, "DONE")) {
            return true;   /* the end of IDLE */
        }
        while (t < n && t < 64 && is_tag_char(p[t]))
            t++;
        if (t == 0 || t == n || p[t] != ' ')
            return false;
        if (d == MC_DIR_S2C)
            return any_word(p + t + 1, n - t - 1, imap_status);
        return command_word(proto, p + t + 1, n - t - 1);
    default:
        return false;
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
    if (f->named)
        flow_name(f);
}

static void *on_open(void *ctx, const struct mc_reasm_flow_info *fi)
{
    struct shard *sh = ctx;
    struct capture *c = sh->c;
    struct flow *f = calloc(1, sizeof(*f));
    if (!f) {
        char client[64], server[64];
        endpoint(client, fi->af, fi->client, fi->client_port);
        endpoint(server, fi->af, fi->server, fi->server_port);
        out_of_memory_at(c, client, server, fi->first_frame, fi->first_frame);
        /* still numbered, so that the flows after it are numbered as with
         * any --jobs */
        (void)number_now(sh, fi->first_frame);
        return NULL;
    }
    endpoint(f->client, fi->af, fi->client, fi->client_port);
    endpoint(f->server, fi->af, fi->server, fi->server_port);
    f->first_frame = f->last_frame = fi->first_frame;
    f->sh = sh;
    number_flow(sh, f);
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
    if (!follow_tls(f->cap, f)) {
        flow_out_of_memory(f, frame);
        return;
    }
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
    if (f->mid_first[d]) {
        /* the first octets after the start gap: see "mid-stream starts" */
        static const uint8_t lf = '\n';
        f->mid_first[d] = false;
        if (line_start(mc_session_proto(f->s), d, p, n))
            mc_session_data(f->s, d, &lf, 1, &o);
    }
    start = mc_session_offset(f->s, d);
    mc_session_data(f->s, d, p, n, &o);
    take_turn(f, d, start, p, n, 0, frame);
}

static void on_data(void *ctx, void *flow, enum mc_reasm_dir d, const uint8_t *p, size_t n,
                    uint64_t frame)
{
    struct capture *c = ((struct shard *)ctx)->c;
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
                if (!f->hold) {   /* mail or not: cannot tell */
                    f->decided = true;
                    flow_out_of_memory(f, frame);
                    return;
                }
            }
            if (f->hold_len + n > SNIFF_HOLD_MAX) {
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
    f->mid_first[sdir(d)] = false;   /* what follows starts anywhere */
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
    struct capture *c = ((struct shard *)ctx)->c;
    struct flow *f = flow;
    (void)d;
    (void)detail;
    if (!f)
        return;
    if (n == MC_REASM_OVERLAP_DIFFERS)
        f->overlaps++;
    if (n == MC_REASM_EVICTED && !f->ignored && f->decided && c->evicted++ == 0) {
        char msg[400];
        ensure_named(f);
        snprintf(msg, sizeof(msg),
                 "frame %llu: %s closed early: more than %u connections open at once "
                 "(--max-flows); later ones are counted at the end",
                 (unsigned long long)frame, f->name, max_flows(c));
        report_warning(c, c->name, msg);
    }
}

static void free_flow(struct flow *f)
{
    mc_capture_tls_free(f->tls);
    if (f->s)
        mc_session_free(f->s);
    free(f->hold);
    free(f);
}

/* A closed flow goes, with its summary when it is a mail flow. */
static void send_close(struct flow *f)
{
    struct capture *c = f->cap;
    if (f->mail) {
        f->summary.name = f->name;
        report_lock(c);
        mc_report_flow(c->rep, &f->summary);
        report_unlock(c);
    }
    free_flow(f);
}

/* The flow's number is known: it takes its name, and what was held for
 * the number goes out (a closed flow goes with it). */
static void named_now(struct flow *f)
{
    flow_name(f);
    flush_pending(f);
    unlist_flow(f);
    if (f->closing) {
        f->sh->closing--;
        send_close(f);
    }
}

static void on_close(void *ctx, void *flow, uint64_t frame)
{
    struct shard *sh = ctx;
    struct flow *f = flow;
    struct mc_flow_summary *fs;
    if (!f)
        return;
    if (f->last_frame < frame)
        f->last_frame = frame;
    for (int d = 0; d < 2; d++)
        if (f->to_tls[d])
            mc_capture_tls_end(f->tls, (enum mc_dir)d, f->last_frame);
    if (f->s) {
        struct mc_origin o = {f->last_frame, 0}, at;
        mc_session_mark(f->s, &o);
        mc_session_finish(f->s);
        if (mc_session_out_of_memory(f->s, &at))
            flow_out_of_memory(f, at.frame);   /* said, unless it was already */
    }
    f->mail = !f->ignored && f->decided;
    if (f->mail) {
        bool decrypted = f->tls && mc_capture_tls_decrypted(f->tls);
        bool encrypted = f->implicit_tls && !decrypted;
        fs = &f->summary;
        memset(fs, 0, sizeof(*fs));
        fs->client = f->client;
        fs->server = f->server;
        fs->proto = f->s ? mc_session_proto(f->s) : f->proto;
        fs->submission = f->role && f->role->submission;
        fs->mode = f->implicit_tls ? "implicit TLS"
                   : f->s && mc_session_in_tls(f->s) ? "STARTTLS"
                                                     : "plain";
        fs->validated = f->s && mc_session_validated(f->s) && !encrypted && !f->oom_said;
        fs->encrypted = encrypted;
        fs->roles_guessed = f->roles_guessed;
        fs->midstream = f->midstream;
        fs->first_frame = f->first_frame;
        fs->last_frame = f->last_frame;
        fs->octets_c2s = f->octets[0];
        fs->octets_s2c = f->octets[1];
        fs->gaps = f->gaps;
        fs->gap_octets = f->gap_octets;
        fs->overlaps = f->overlaps;
        fs->banner = f->banner[0] ? f->banner : NULL;
        fs->findings = f->s ? mc_session_findings(f->s) : 0;
        fs->suppressed = f->s ? mc_session_suppressed(f->s) : 0;
        if (f->tls)
            mc_capture_tls_summary(f->tls, fs);
        sh->mail_flows++;
        if (encrypted)
            sh->encrypted_flows++;
    } else {
        sh->other_flows++;
    }
    if (!f->named && sh->closing >= CLOSING_MAX)
        flush_numbered(sh);   /* what has its number by now goes first */
    if (!f->named && sh->closing < CLOSING_MAX) {
        /* several jobs, and a worker is still behind the flow's first
         * frame: held rather than waited for (flush_numbered sends it);
         * the summary needs only the flow itself and its TLS state */
        if (f->s)
            mc_session_free(f->s);
        f->s = NULL;
        free(f->hold);
        f->hold = NULL;
        f->closing = true;
        sh->closing++;
        list_flow(f);
        return;
    }
    ensure_named(f);   /* with several jobs: numbered before it goes */
    send_close(f);
}

static bool on_is_server_port(void *ctx, uint16_t port)
{
    return role_of(((struct shard *)ctx)->c, port) != NULL;
}

/* ---- key logs ------------------------------------------------------------------- */

struct keylog_err {
    struct capture *c;
    const char *file;
    bool unreadable;
    bool oom;                     /* the loader ran out of memory at oom_where ... */
    char oom_where[300];          /* ... ("<name>:<line>"), stopped, and returns -1 */
};

static void on_keylog_error(void *ctx, const char *where, const char *why)
{
    struct keylog_err *ke = ctx;
    char msg[400];
    if (ke->unreadable)
        return;   /* reported once as an input error by the caller */
    if (strcmp(why, "out of memory") == 0) {
        /* not a bad line: the caller reports it as an input error */
        ke->oom = true;
        snprintf(ke->oom_where, sizeof(ke->oom_where), "%s", where);
        return;
    }
    snprintf(msg, sizeof(msg), "key log %s: %s (line skipped)", where, why);
    report_warning(ke->c, ke->file, msg);
}

/* The key log loader returned -1 after running out of memory (ke->oom):
 * the secrets from that line on are missing, so their flows are not
 * decrypted (encrypted, not validated: judged by nothing). */
static void keylog_out_of_memory(struct keylog_err *ke, const char *name)
{
    char msg[400];
    snprintf(msg, sizeof(msg), "out of memory for the key log at %s: the secrets from there "
             "on are not loaded", ke->oom ? ke->oom_where : name);
    report_input_error(ke->c, ke->file, msg);
}

/* --keylog files: an unreadable one is an input error (exit status 2);
 * malformed lines are warnings and skipped. */
static void load_keylogs(struct capture *c)
{
    c->keylog = mc_tls_keylog_new();
    if (!c->keylog) {
        /* a loss only where there are secrets to keep: said now for
         * --keylog files, at the first Decryption Secrets Block otherwise */
        c->keylog_oom = true;
        if (c->opts->n_keylogs)
            mc_report_input_error(c->rep, c->name, 0, 0, "out of memory for the key log");
        return;
    }
    for (unsigned i = 0; i < c->opts->n_keylogs; i++) {
        const char *path = c->opts->keylogs[i];
        struct keylog_err ke = {c, path, false, false, ""};
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
            if (ke.oom)
                keylog_out_of_memory(&ke, path);
            else
                mc_report_input_error(c->rep, path, 0, 0, "cannot read the key log");
        }
    }
}

/* ---- threads (--jobs N, N > 1) --------------------------------------------------------
 *
 * N shards, each with its own reassembler (so its own flows, sessions and
 * TLS connections); a connection's shard comes from a symmetric hash of its
 * addresses and ports, so both directions land in the same one. Shard 0 is
 * run by this thread, the reading one (on 2 cores, reading + 2 workers
 * would be 3 busy threads); it takes a smaller share of the connections
 * because it also reads and decodes every packet. Shards 1..N-1 have a
 * worker thread each: their segments go into batches (pointing into the
 * mapping of a file, copied from a pipe), and full batches go through a
 * queue per worker; when it is full this thread waits until it has
 * drained to half, so memory stays bounded however far the reading runs
 * ahead. The queue holds 16 to 64 batches (4 to 16 MiB of a file), as
 * memory allows: see "depth" below. A deep queue lets one shard run ahead
 * while its connections are quieter than the other's for a while; with 4
 * batches the two threads mostly took turns (measured on 1 GB under the
 * same load: -j 2 0.71-0.80 s with 4, 0.46-0.51 s with 16).
 *
 * Each shard publishes the frame it is at (`at`: all its frames before it
 * are done); an idle worker (AT_IDLE) has done every frame handed out up to
 * `handed`. Flow numbers (in order of appearance, part of every flow's
 * name) need every flow opened before a flow's first frame: see "flow
 * numbering" below; what a shard reports of a flow before its number is
 * known is held, not waited for. Deadlock-free: a shard waiting for the others to pass
 * frame F needs only frames below F, which are handed out (a waiting worker
 * asks this thread for its partial batches; this thread hands them out
 * before it waits for anything, in frame order) and whose shards wait, if
 * at all, for frames below their own.
 *
 * Key logs: the workers read them; a Decryption Secrets Block is applied
 * after every worker has done every packet before it (drain_workers). */

#define BATCH_ITEMS 2048
#define BATCH_OCTETS (256u << 10)
#define QUEUE_UNIT 16         /* batches per unit of depth */
#define AT_IDLE 0            /* frames count from 1 */
#define AT_DONE UINT64_MAX   /* no more segments */

struct item {
    struct mc_tcp_seg seg;   /* payload: in the mapping, or at `off` in the batch's octets */
    size_t off;              /* COPY_NONE: the payload points into the mapping */
    uint64_t frame, ts_ns;
};

#define COPY_NONE SIZE_MAX

struct batch {
    struct batch *next;
    struct item items[BATCH_ITEMS];
    unsigned n;
    uint8_t *octets;
    size_t used, size;
    bool end;                /* the last batch: finish the reassembler */
    size_t map_first, map_end;   /* mapped input: the part of the file its items are in */
};

/* Fields by the thread that writes them often, each group on its own
 * cache line: the worker stores `at` at every segment, the reading thread
 * reads `filling` at every packet; on one line the two cores passed it
 * back and forth at every packet. */
#define CACHE_LINE 64

struct worker {
    /* the reading thread's */
    struct batch *filling;   /* being filled by the reading thread */
    uint64_t queued_total;   /* batches queued (mapped input, "pinned" below) */
    struct batch *last;      /* kept from the start for the end of capture */
    struct shard *sh;
    pthread_t thread;
    bool started;
    /* the worker's: the frame being processed (AT_IDLE, AT_DONE); batches
     * done, and the end in the file of the last one done (set before
     * `done` moves) */
    _Alignas(CACHE_LINE) _Atomic uint64_t at;
    _Atomic uint64_t done;
    _Atomic size_t done_end;
    /* shared, under lock */
    _Alignas(CACHE_LINE) pthread_mutex_t lock;
    pthread_cond_t work;     /* a batch was queued */
    pthread_cond_t space;    /* the queue drained to half, or a batch was done */
    struct batch *head, *tail, *spare;
    unsigned batches;        /* allocated: queued, spare, being filled or done */
    _Atomic unsigned queued; /* changed under lock; read without by the reader */
    /* the reading thread waits on `space` for the queue to drain to half
     * (space_wanted) or for a batch to be done (done_wanted) */
    bool space_wanted, done_wanted;
    struct flow *unnumbered, *unnumbered_last;   /* under turn_lock */
};

struct capture_threads {
    pthread_mutex_t report_lock;
    pthread_mutex_t turn_lock;       /* flow numbering waits */
    pthread_cond_t turn;
    _Atomic unsigned waiting;        /* workers waiting for their turn */
    _Atomic bool hand_out;           /* a waiter asks for the partial batches */
    _Atomic uint64_t handed;         /* every frame up to it is queued or done */
    uint64_t total_frames;           /* for mc_reasm_finish */
    _Atomic unsigned depth;          /* 1..DEPTH_MAX: set by the reading thread */
    _Atomic size_t read_off;         /* mapped input: the reading thread is about here
                                        (unmap_behind, every 64 frames) */
    pthread_mutex_t populate_lock;   /* workers: */
    size_t populated;                /* the mapping is populated up to here */
    bool populate_failed;            /* MADV_POPULATE_READ refused: no more tries */
    unsigned queued_since;           /* batches filled since depth was set */
    int statm;                       /* /proc/self/statm, or -1 */
    struct worker workers[MC_CAPTURE_JOBS_MAX];
};

static void report_lock(struct capture *c)
{
    if (c->threads)
        pthread_mutex_lock(&c->threads->report_lock);
}

static void report_unlock(struct capture *c)
{
    if (c->threads)
        pthread_mutex_unlock(&c->threads->report_lock);
}

static void wake_waiters(struct capture_threads *t)
{
    if (atomic_load(&t->waiting)) {
        pthread_mutex_lock(&t->turn_lock);
        pthread_cond_broadcast(&t->turn);
        pthread_mutex_unlock(&t->turn_lock);
    }
}

/* Every worker but `self` has passed frame. `handed` is read before each
 * worker's `at`: an idle worker seen after it has done every frame handed
 * out up to it (handing out sets `at` before `handed` moves). */
static bool others_past(struct capture *c, const struct worker *self, uint64_t frame,
                        bool *someone_idle)
{
    struct capture_threads *t = c->threads;
    uint64_t handed = atomic_load(&t->handed);
    bool past = true;
    for (unsigned i = 0; i < c->jobs; i++) {
        const struct worker *w = &t->workers[i];
        uint64_t at;
        if (w == self)
            continue;
        at = atomic_load(&w->at);
        if (at == AT_IDLE) {
            *someone_idle = true;
            at = handed == UINT64_MAX ? UINT64_MAX : handed + 1;
        }
        if (at <= frame)
            past = false;
    }
    return past;
}

/* ---- flow numbering (several jobs) ----
 * A flow opened at frame F is numbered once every other worker has passed
 * F: then every flow opened before F is known. Unnumbered flows wait in
 * their worker's list (in frame order); numbering takes the lowest first
 * frame of all lists while it qualifies, so numbers follow the order of
 * appearance as with one thread. A worker needs a flow's number only when
 * it reports something of it (a finding, the eviction warning, its
 * summary). Findings and summaries are held meanwhile (up to PENDING_MAX
 * findings and CLOSING_MAX closed flows per shard) and sent by the
 * shard's own thread once the number is known (flush_numbered, between
 * batches; flush_all at the end); it waits only beyond those bounds and
 * for the eviction warning. Waiting at every early finding, as before,
 * made the reading thread stop until the worker caught up, hundreds of
 * times on the benchmark capture. */

static void hand_out_all(struct capture *c, uint64_t upto);

static void give_numbers(struct capture *c)
{
    struct capture_threads *t = c->threads;
    for (;;) {
        struct worker *owner = NULL;
        struct flow *f;
        bool idle = false;
        for (unsigned i = 0; i < c->jobs; i++) {
            struct worker *w = &t->workers[i];
            if (w->unnumbered &&
                (!owner || w->unnumbered->first_frame < owner->unnumbered->first_frame))
                owner = w;
        }
        if (!owner)
            return;
        f = owner->unnumbered;
        if (!others_past(c, owner, f->first_frame, &idle))
            return;
        owner->unnumbered = f->unnumbered_next;
        if (!owner->unnumbered)
            owner->unnumbered_last = NULL;
        f->no = atomic_fetch_add(&c->flows, 1) + 1;
    }
}

#define WAIT_TURN_NS (10L * 1000000L)

/* Waits on the numbering condition; asks the reading thread for its
 * partial batches when a worker it waits for is idle. */
static void wait_turn(struct capture *c, const struct worker *self, uint64_t frame)
{
    struct capture_threads *t = c->threads;
    bool idle = false;
    if (self == &t->workers[0]) {
        /* the reading thread: it hands out what the others need itself,
         * without the numbering lock (handing out may wait for a queue) */
        pthread_mutex_unlock(&t->turn_lock);
        hand_out_all(c, c->frames);
        pthread_mutex_lock(&t->turn_lock);
        if (others_past(c, self, frame, &idle))
            return;
    } else {
        (void)others_past(c, self, frame, &idle);
        if (idle)
            atomic_store(&t->hand_out, true);
    }
    /* Bounded: a wake-up can be missed. A thread stores its `at`, then
     * reads `waiting` (wake_waiters); a waiter adds itself to `waiting`,
     * then reads `at`; x86, like C11, lets both reads see the old value
     * (the store still in its core's store buffer). That thread's next
     * store wakes the waiter anyway, unless it blocks first. A fence at
     * every store cost 8 % of -j 2's time (measured), so instead a
     * waiter looks again after WAIT_TURN_NS. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += WAIT_TURN_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&t->turn, &t->turn_lock, &until);
}

/* "flow N CLIENT > SERVER": a flow's name in every report */
static void format_name(char *out, size_t cap, uint64_t no, const char *from, const char *to)
{
    snprintf(out, cap, "flow %llu %s > %s", (unsigned long long)no, from, to);
}

static void flow_name(struct flow *f)
{
    format_name(f->name, sizeof(f->name), f->no, f->client, f->server);
    f->named = true;
}

static void number_flow(struct shard *sh, struct flow *f)
{
    struct capture *c = sh->c;
    struct capture_threads *t = c->threads;
    struct worker *w = sh->w;
    if (!t) {
        f->no = atomic_fetch_add(&c->flows, 1) + 1;
        flow_name(f);
        return;
    }
    /* a provisional name for the session: its findings are renamed */
    snprintf(f->name, sizeof(f->name), "flow ? %s > %s", f->client, f->server);
    pthread_mutex_lock(&t->turn_lock);
    f->unnumbered_next = NULL;
    if (w->unnumbered_last)
        w->unnumbered_last->unnumbered_next = f;
    else
        w->unnumbered = f;
    w->unnumbered_last = f;
    give_numbers(c);
    pthread_mutex_unlock(&t->turn_lock);
}

static void ensure_named(struct flow *f)
{
    struct capture *c = f->cap;
    struct capture_threads *t = c->threads;
    if (f->named)
        return;
    pthread_mutex_lock(&t->turn_lock);
    atomic_fetch_add(&t->waiting, 1);
    for (;;) {
        give_numbers(c);
        if (f->no)
            break;
        wait_turn(c, f->sh->w, f->first_frame);
    }
    atomic_fetch_sub(&t->waiting, 1);
    pthread_mutex_unlock(&t->turn_lock);
    named_now(f);
}

static void list_flow(struct flow *f)
{
    if (f->listed)
        return;
    f->listed = true;
    f->pending_next = f->sh->pending_flows;
    f->sh->pending_flows = f;
}

static void unlist_flow(struct flow *f)
{
    struct flow **at = &f->sh->pending_flows;
    if (!f->listed)
        return;
    while (*at != f)
        at = &(*at)->pending_next;
    *at = f->pending_next;
    f->listed = false;
}

/* The held findings of a named flow go out, in the order they were made. */
static void flush_pending(struct flow *f)
{
    struct shard *sh = f->sh;
    struct pending *p = f->pending;
    f->pending = f->pending_last = NULL;
    while (p) {
        struct pending *next = p->next;
        emit_finding(f, &p->f, p->swapped);
        sh->pending--;
        free(p);
        p = next;
    }
}

static bool hold_finding(struct flow *f, const struct mc_finding *fnd)
{
    struct pending *p = malloc(sizeof(*p));
    if (!p)
        return false;
    p->next = NULL;
    p->swapped = f->swapped;
    p->f = *fnd;
    if (f->pending_last)
        f->pending_last->next = p;
    else
        f->pending = p;
    f->pending_last = p;
    f->sh->pending++;
    list_flow(f);
    return true;
}

/* A finding under the flow's final name: the roles it was made with
 * (swap_roles may have turned them since it was held). */
static void emit_finding(struct flow *f, struct mc_finding *fnd, bool swapped)
{
    char name[sizeof(f->name)];
    fnd->session = f->name;
    if (swapped != f->swapped) {
        format_name(name, sizeof(name), f->no, f->server, f->client);
        fnd->session = name;
    }
    locked_finding(f->cap, fnd);
}

/* Sends the held findings of the shard's flows that have their number
 * now; run by the shard's own thread between segments. */
static void flush_numbered(struct shard *sh)
{
    struct capture_threads *t = sh->c->threads;
    struct flow *ready[64];
    unsigned n = 0;
    if (!sh->pending_flows)
        return;
    pthread_mutex_lock(&t->turn_lock);
    give_numbers(sh->c);
    for (struct flow *f = sh->pending_flows; f && n < 64; f = f->pending_next)
        if (f->no)
            ready[n++] = f;
    pthread_mutex_unlock(&t->turn_lock);
    for (unsigned i = 0; i < n; i++)
        named_now(ready[i]);
}

/* At the shard's end: whatever is still held goes out, in the order of
 * the flows' numbers (waiting for them as needed). */
static void flush_all(struct shard *sh)
{
    if (!sh->c->threads)
        return;
    while (sh->pending_flows) {
        struct flow *first = sh->pending_flows;
        for (struct flow *f = first->pending_next; f; f = f->pending_next)
            if (f->first_frame < first->first_frame)
                first = f;
        ensure_named(first);
    }
}

/* The number of a flow that could not be allocated: once every flow
 * before it is numbered. */
static uint64_t number_now(struct shard *sh, uint64_t frame)
{
    struct capture *c = sh->c;
    struct capture_threads *t = c->threads;
    bool idle = false;
    uint64_t no;
    if (!t)
        return atomic_fetch_add(&c->flows, 1) + 1;
    pthread_mutex_lock(&t->turn_lock);
    atomic_fetch_add(&t->waiting, 1);
    for (;;) {
        give_numbers(c);
        if (others_past(c, sh->w, frame, &idle))
            break;
        wait_turn(c, sh->w, frame);
    }
    /* the others are past frame: every flow opened before it can be
     * numbered now (an idle worker's bound may have been lower during
     * the give_numbers above), none after it */
    give_numbers(c);
    no = atomic_fetch_add(&c->flows, 1) + 1;
    atomic_fetch_sub(&t->waiting, 1);
    pthread_mutex_unlock(&t->turn_lock);
    return no;
}

static void free_batches(struct batch *b);

/* ---- depth: how far the reading thread may run ahead of the workers ----
 * A deeper queue absorbs longer stretches in which one shard's connections
 * are busier than the other's (measured on 1 GB with -j 2: 64 batches and
 * 16 MiB of the file pinned were 3-4% faster than 16 batches and 4 MiB),
 * but what is queued costs memory: a mapped file's pages between the
 * workers and the reading thread count in the resident set (see "pinned"
 * below), as do a pipe's segments copied into the batches. So the depth,
 * 1 to DEPTH_MAX units of QUEUE_UNIT batches, follows the process's
 * anonymous memory (connections, sessions, data held out of order): the
 * full depth while that is small, one unit (16 batches, 4 MiB) when it
 * nears MEM_BUDGET. Resident set with -j 2 on a file: that memory, about
 * 6 MiB of program and libraries, 2.5 MiB, and DEPTH_COST per unit of
 * pinned, stepped and populated file pages: MEM_BUDGET keeps it under
 * 60 MiB unless the connections alone take more. The batches themselves
 * (their segment lists, up to 192 KiB each, and a pipe's copies) are
 * anonymous memory, in every worker's queue: they count in what is read,
 * so more workers or a pipe make the depth shrink sooner. The
 * anonymous memory is read from /proc/self/statm every DEPTH_EVERY
 * batches filled (a few microseconds; about every 4 MiB of a file), so a
 * capture whose connections grow faster than that can overshoot by at
 * most DEPTH_MAX - 1 units for that long. */
#define DEPTH_MAX 4
#define DEPTH_COST (8u << 20)   /* per unit: 4 MiB of queue, 2 MiB of mapping step,
                                   2 MiB populated ahead (populate_ahead) */
#define MEM_BUDGET (52u << 20)
#define DEPTH_EVERY 16

static unsigned queue_cap(struct capture_threads *t)
{
    return QUEUE_UNIT * atomic_load_explicit(&t->depth, memory_order_relaxed);
}

static void update_depth(struct capture_threads *t)
{
    char buf[128];
    unsigned long size, resident, shared;
    uint64_t anon;
    unsigned depth;
    ssize_t n;
    if (t->statm < 0)
        return;   /* stays at one unit */
    n = pread(t->statm, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    if (sscanf(buf, "%lu %lu %lu", &size, &resident, &shared) != 3 || shared > resident)
        return;
    anon = (uint64_t)(resident - shared) * (uint64_t)sysconf(_SC_PAGESIZE);
    depth = anon >= MEM_BUDGET ? 1 : (unsigned)((MEM_BUDGET - anon) / DEPTH_COST);
    if (depth < 1)
        depth = 1;
    if (depth > DEPTH_MAX)
        depth = DEPTH_MAX;
    atomic_store_explicit(&t->depth, depth, memory_order_relaxed);
}

/* The worker asks the cache for the payload of the segment PAYLOAD_AHEAD
 * after the one it is at: the reading thread read only its headers, so
 * its payload comes from the shared cache or memory, and without this the
 * worker waited for it line by line (measured on 1 GB with -j 2: 0.365 s
 * without, 0.345 s with 2 ahead; 1 and 4 the same as 2). */
#define PAYLOAD_AHEAD 2

static void prefetch_payload(const struct item *it)
{
    if (it->off != COPY_NONE)
        return;   /* copied into the batch by the reading thread: cached */
    for (uint32_t k = 0; k < it->seg.len; k += 64)
        __builtin_prefetch(it->seg.payload + k);
}

/* ---- populate ahead: an idle worker takes the reading thread's page faults ----
 * The reading thread faults in every page of a mapped file (a fault per
 * 64 KiB, or per 2 MiB where the page cache holds huge folios: 13,000 or
 * 2,700 faults for the same 1 GB file, depending on how it was cached),
 * and those faults were up to a tenth of its time. A worker with nothing
 * to do populates the mapping ahead of it instead (MADV_POPULATE_READ: for
 * a file in the page cache the page tables only; otherwise it reads the
 * file too), in steps of up to 2 MiB, at most (depth - 1) x
 * MAP_POPULATE_UNIT ahead (none at depth 1). So the faults go to whichever
 * thread has time (measured on 1 GB with -j 2, 11 alternating rounds on
 * each file: one thread / -j 2 1.78 on both, against 1.74 and 1.64
 * without). */
#define MAP_POPULATE_UNIT (2u << 20)
#define MAP_POPULATE_STEP ((size_t)2u << 20)

/* One step, up to the next 2 MiB boundary; false when there is nothing
 * to do. The step is claimed under the lock and populated outside it (it
 * may read the file from disk), so another worker is never held up. */
static bool populate_ahead(struct capture *c)
{
    struct capture_threads *t = c->threads;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t at = atomic_load_explicit(&t->read_off, memory_order_relaxed) & ~(page - 1);
    size_t ahead = (size_t)MAP_POPULATE_UNIT *
                   (atomic_load_explicit(&t->depth, memory_order_relaxed) - 1);
    size_t from, to, upto = at + ahead;
    bool did = false;
    if (ahead == 0)
        return false;
    pthread_mutex_lock(&t->populate_lock);
    /* `populated` is page-aligned, or the end of the file */
    from = t->populated > at ? t->populated : at;
    to = (from + MAP_POPULATE_STEP) & ~(MAP_POPULATE_STEP - 1);
    if (to > upto)
        to = upto;   /* page-aligned, as at and ahead are */
    if (to > c->map_len)
        to = c->map_len;
    if (!t->populate_failed && from < to) {
        t->populated = to;
        did = true;
    }
    pthread_mutex_unlock(&t->populate_lock);
    if (!did)
        return false;
#ifdef MADV_POPULATE_READ
    /* fails on kernels before 5.14, and past a file truncated meanwhile
     * (EFAULT rather than SIGBUS): the reading thread reports that */
    did = madvise(c->map + from, to - from, MADV_POPULATE_READ) == 0;
#else
    did = false;
#endif
    if (!did) {
        pthread_mutex_lock(&t->populate_lock);
        t->populate_failed = true;
        pthread_mutex_unlock(&t->populate_lock);
    }
    return did;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shard *sh = w->sh;
    struct capture_threads *t = sh->c->threads;
    pthread_setname_np(pthread_self(), "mc-shard");
    for (;;) {
        struct batch *b;
        bool end;
        pthread_mutex_lock(&w->lock);
        while (!w->head) {
            if (sh->c->map) {
                bool did;
                pthread_mutex_unlock(&w->lock);
                did = populate_ahead(sh->c);
                pthread_mutex_lock(&w->lock);
                if (did || w->head)
                    continue;   /* a batch queued meanwhile: its signal is gone */
            }
            pthread_cond_wait(&w->work, &w->lock);
        }
        b = w->head;
        w->head = b->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        if (w->space_wanted && w->queued <= queue_cap(t) / 2) {
            /* the reading thread waits for a full queue to drain to half,
             * not for one slot: a wake-up per batch costs more than the
             * batch on a VM */
            w->space_wanted = false;
            pthread_cond_signal(&w->space);
        }
        pthread_mutex_unlock(&w->lock);

        for (unsigned i = 0; i < b->n; i++) {
            struct item *it = &b->items[i];
            atomic_store_explicit(&w->at, it->frame, memory_order_release);
            wake_waiters(t);
            if (it->off != COPY_NONE)
                it->seg.payload = b->octets + it->off;
            if (i + PAYLOAD_AHEAD < b->n)
                prefetch_payload(&b->items[i + PAYLOAD_AHEAD]);
            mc_reasm_segment(sh->reasm, &it->seg, it->frame, it->ts_ns);
        }
        flush_numbered(sh);
        atomic_store(&w->done_end, b->map_end);
        atomic_fetch_add(&w->done, 1);
        end = b->end;
        if (end) {
            atomic_store(&w->at, AT_DONE);
            wake_waiters(t);
            mc_reasm_finish(sh->reasm, t->total_frames);
            flush_all(sh);
        }
        pthread_mutex_lock(&w->lock);
        if (w->batches > queue_cap(t) + 2) {
            /* the queue is shallower than it was: memory back */
            w->batches--;
            b->next = NULL;
            free_batches(b);
        } else {
            b->next = w->spare;
            w->spare = b;
        }
        if (!w->head && !end)
            atomic_store(&w->at, AT_IDLE);
        if (w->done_wanted) {
            w->done_wanted = false;
            pthread_cond_broadcast(&w->space);
        }
        pthread_mutex_unlock(&w->lock);
        wake_waiters(t);
        if (end)
            return NULL;
    }
}

/* Queues w's partial batch; waits while the queue is full. */
static void queue_batch(struct worker *w)
{
    struct batch *b = w->filling;
    struct capture_threads *t = w->sh->c->threads;
    pthread_mutex_lock(&w->lock);
    while (w->queued >= queue_cap(t))
    {
        w->space_wanted = true;
        pthread_cond_wait(&w->space, &w->lock);
    }
    b->next = NULL;
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    w->queued++;
    w->queued_total++;
    if (atomic_load(&w->at) == AT_IDLE && b->n)
        atomic_store(&w->at, b->items[0].frame);
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    w->filling = NULL;
}

/* Handed out: up to the lowest frame still in a partial batch, else up to
 * `upto`. */
static void update_handed(struct capture *c, uint64_t upto)
{
    struct capture_threads *t = c->threads;
    uint64_t h = upto;
    for (unsigned i = 0; i < c->jobs; i++) {
        struct batch *b = t->workers[i].filling;
        if (b && b->n && b->items[0].frame - 1 < h)
            h = b->items[0].frame - 1;
    }
    atomic_store(&t->handed, h);
}

/* Queues every partial batch, lowest first frame first; then every frame
 * up to `upto` is handed out. */
static void hand_out_all(struct capture *c, uint64_t upto)
{
    struct capture_threads *t = c->threads;
    for (;;) {
        struct worker *first = NULL;
        for (unsigned i = 0; i < c->jobs; i++) {
            struct worker *w = &t->workers[i];
            if (w->filling && w->filling->n &&
                (!first || w->filling->items[0].frame < first->filling->items[0].frame))
                first = w;
        }
        if (!first)
            break;
        /* every frame below the lowest partial batch is handed out: say so
         * before queue_batch may wait, or a worker idle since it did them
         * still looks stuck at the old `handed` to a worker waiting for it */
        update_handed(c, upto);
        wake_waiters(t);
        queue_batch(first);
    }
    atomic_store(&t->handed, upto);
    wake_waiters(t);
}

/* Before the reading thread waits for a worker (drain_workers, pinned_low):
 * it has done frame c->frames, and a worker may be waiting for shard 0 to
 * pass it (a flow number, after an allocation failed or past the held
 * findings); its `at` would say "at c->frames" for the whole wait, and
 * both would wait for ever. */
static void reader_past_frame(struct capture *c)
{
    struct capture_threads *t = c->threads;
    atomic_store(&t->workers[0].at, c->frames + 1);
    wake_waiters(t);
}

static struct batch *take_batch(struct worker *w)
{
    struct batch *b;
    pthread_mutex_lock(&w->lock);
    b = w->spare;
    if (b)
        w->spare = b->next;
    pthread_mutex_unlock(&w->lock);
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b)
            return NULL;
        pthread_mutex_lock(&w->lock);
        w->batches++;
        pthread_mutex_unlock(&w->lock);
    }
    b->next = NULL;
    b->n = 0;
    b->used = 0;
    b->end = false;
    b->map_first = b->map_end = 0;
    return b;
}

/* Shard 0's share of the connections, in 1024ths (see shard_of): the
 * reading thread also reads and decodes every packet, so it takes less:
 * 1/N of the connections less 18% of 1/N for each other thread, and at
 * least 1/16. With -j 2 that is 419/1024, about the best of 378-460 on the 1 GB
 * benchmark capture whether its file faults in few pages or many, since
 * idle workers take the page faults off the reading thread (see
 * populate_ahead). Before that the best share depended on the page
 * cache: 378 with 13,000 page faults, 420 with 2,700 (the same file
 * written afresh). */
static unsigned shard0_share(const struct capture *c)
{
    unsigned n = c->jobs, share;
    if (n > 4)
        return 64;
    share = 1024 * (100 - 18 * (n - 1)) / (100 * n);
    return share < 64 ? 64 : share;
}

static unsigned shard_of(const struct capture *c, const struct mc_tcp_seg *seg)
{
    /* symmetric: the same for both directions of a connection */
    size_t alen = seg->af == 4 ? 4 : 16;
    uint32_t a = 2166136261u, b = 2166136261u;
    for (size_t i = 0; i < alen; i++) {
        a = (a ^ seg->src[i]) * 16777619u;
        b = (b ^ seg->dst[i]) * 16777619u;
    }
    a = (a ^ seg->sport) * 16777619u;
    b = (b ^ seg->dport) * 16777619u;
    a ^= b;
    a ^= a >> 15;
    a *= 0x2c1b3c6du;
    a ^= a >> 12;
    /* shard 0 is the reading thread's own: a smaller share (shard0_share) */
    if (a % 1024 < shard0_share(c))
        return 0;
    return 1 + (unsigned)((a / 1024) % (c->jobs - 1));
}

/* Hands the segment to worker i's batch. False when out of memory.
 * From a mapped file the worker reads the payload where it is (the pages
 * stay mapped while it may: see "pinned" below); otherwise it is copied
 * into the batch, since the reader's buffer is reused. Copying from the
 * mapping too cost CPU on both cores (the reading thread writes every
 * octet of the worker's share, the worker reads it from the other core's
 * cache): measured on 1 GB, 0.88-0.95 s of CPU for both threads with the
 * copy, 0.81-0.83 s without. */
static bool hand_segment(struct capture *c, unsigned i, const struct mc_tcp_seg *seg,
                         const struct mc_packet *pkt)
{
    struct capture_threads *t = c->threads;
    struct worker *w = &t->workers[i];
    struct batch *b = w->filling;
    bool copy = !c->map;
    struct item *it;
    if (b && b->n && (b->n == BATCH_ITEMS || (copy && b->used + seg->len > b->size) ||
                      (!copy && (size_t)(pkt->data - c->map) - b->map_first > BATCH_OCTETS))) {
        /* frame itself is not handed out yet */
        if (++t->queued_since == DEPTH_EVERY) {
            /* here, not in queue_batch: a queue that the new depth makes
             * full must take the hand-out-then-wait path below */
            t->queued_since = 0;
            update_depth(t);
        }
        if (w->queued >= queue_cap(t))
            hand_out_all(c, pkt->frame - 1);   /* it will wait: nothing partial held back */
        else
            queue_batch(w);
        update_handed(c, pkt->frame - 1);
        b = NULL;
    }
    if (!b) {
        b = w->filling = take_batch(w);
        if (!b)
            return false;
    }
    it = &b->items[b->n++];
    it->seg = *seg;
    it->frame = pkt->frame;
    it->ts_ns = pkt->ts_ns;
    it->off = COPY_NONE;
    if (!copy) {
        if (b->n == 1)
            b->map_first = (size_t)(pkt->data - c->map);
        b->map_end = (size_t)(pkt->data - c->map) + pkt->caplen;
        return true;
    }
    if (b->size < seg->len || !b->octets) {
        size_t size = seg->len > BATCH_OCTETS ? seg->len : BATCH_OCTETS;
        uint8_t *o = realloc(b->octets, size);
        if (!o) {
            b->n--;
            return false;
        }
        b->octets = o;
        b->size = size;
    }
    it->seg.payload = NULL;
    it->off = b->used;
    if (seg->len)
        memcpy(b->octets + b->used, seg->payload, seg->len);
    b->used += seg->len;
    return true;
}

/* Waits until every worker has done everything handed to it (a barrier
 * before a Decryption Secrets Block changes the key log they read). */
static void drain_workers(struct capture *c)
{
    struct capture_threads *t = c->threads;
    hand_out_all(c, c->frames);
    reader_past_frame(c);
    for (unsigned i = 1; i < c->jobs; i++) {
        struct worker *w = &t->workers[i];
        pthread_mutex_lock(&w->lock);
        while (w->head || atomic_load(&w->at) != AT_IDLE) {
            w->done_wanted = true;
            pthread_cond_wait(&w->space, &w->lock);
        }
        pthread_mutex_unlock(&w->lock);
    }
}

static void free_batches(struct batch *b)
{
    while (b) {
        struct batch *next = b->next;
        free(b->octets);
        free(b);
        b = next;
    }
}

/* Stops the workers (after the end of capture: each finishes its
 * reassembler) and frees them. */
static void stop_workers(struct capture *c, uint64_t total_frames)
{
    struct capture_threads *t = c->threads;
    /* the reading thread's shard gets no more segments */
    atomic_store(&t->workers[0].at, AT_DONE);
    hand_out_all(c, total_frames);
    t->total_frames = total_frames;   /* before the queue's lock: seen by the workers */
    for (unsigned i = 0; i < c->jobs; i++) {
        struct worker *w = &t->workers[i];
        if (!w->started)
            continue;
        free_batches(w->filling);   /* empty after an allocation failed */
        w->filling = w->last;
        w->last = NULL;
        w->filling->n = 0;
        w->filling->end = true;
        queue_batch(w);
    }
    atomic_store(&t->handed, UINT64_MAX);
    wake_waiters(t);
    mc_reasm_finish(c->shards[0].reasm, total_frames);
    flush_all(&c->shards[0]);
    for (unsigned i = 0; i < c->jobs; i++) {
        struct worker *w = &t->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        free_batches(w->head);
        free_batches(w->spare);
        free_batches(w->filling);
        free_batches(w->last);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->space);
    }
    pthread_mutex_destroy(&t->turn_lock);
    pthread_mutex_destroy(&t->populate_lock);
    pthread_cond_destroy(&t->turn);
    pthread_mutex_destroy(&t->report_lock);
}

static bool start_workers(struct capture *c)
{
    struct capture_threads *t = c->threads;
    pthread_mutex_init(&t->report_lock, NULL);
    pthread_mutex_init(&t->turn_lock, NULL);
    pthread_mutex_init(&t->populate_lock, NULL);
    pthread_cond_init(&t->turn, NULL);
    for (unsigned i = 0; i < c->jobs; i++) {
        struct worker *w = &t->workers[i];
        w->sh = &c->shards[i];
        c->shards[i].w = w;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->work, NULL);
        pthread_cond_init(&w->space, NULL);
    }
    for (unsigned i = 1; i < c->jobs; i++) {
        struct worker *w = &t->workers[i];
        w->last = calloc(1, sizeof(*w->last));
        if (!w->last || pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return false;
        w->started = true;
    }
    return true;
}

/* A pcapng Decryption Secrets Block: TLS key log text joins the key log
 * (flows after it can be decrypted; pcapng writers put them first). With
 * several jobs it is a barrier: the workers, which read the key log, have
 * done every packet before it and wait while it is added. */
static void on_secrets(void *ctx, uint32_t type, const uint8_t *p, size_t n)
{
    struct capture *c = ctx;
    char name[64];
    struct keylog_err ke = {c, c->name, false, false, ""};
    if (type != MC_PCAP_SECRETS_TLS)
        return;
    if (!c->keylog) {
        if (c->keylog_oom && !c->opts->n_keylogs)
            report_input_error(c, c->name, "out of memory for the key log: the Decryption "
                               "Secrets Blocks are not used");
        c->keylog_oom = false;   /* said once */
        return;
    }
    if (c->threads)
        drain_workers(c);
    c->dsb++;
    snprintf(name, sizeof(name), "decryption secrets block %llu", (unsigned long long)c->dsb);
    if (mc_tls_keylog_load_mem(c->keylog, name, p, n, on_keylog_error, &ke) < 0)
        keylog_out_of_memory(&ke, name);   /* -1: only when out of memory */
}

/* ---- the loop ------------------------------------------------------------------- */

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

/* A mapped file's pages behind the reader, MAP_LAG and more, leave the
 * mapping (they stay in the page cache): without that, every page read
 * would count in the process's resident set until the end, and the peak
 * RSS of a 1 GB capture would be 1 GB. Dropped pages read again (a
 * worker's segment that lags further behind) are simply faulted in again
 * from the file. */
#define MAP_LAG (512u << 10)
#define MAP_STEP (512u << 10)
/* With several jobs, in steps of 2 MiB per unit of depth: dropping pages
 * of a mapping that two threads use makes the kernel flush the other
 * core's TLB (an interrupt, expensive on a VM) at every call (measured on
 * 1 GB with -j 2: steps of 8 MiB 2% faster than 2 MiB). */
#define MAP_STEP_JOBS_UNIT (2u << 20)
/* Pages are dropped up to a huge page boundary: the kernel maps a file's
 * large folios with huge pages where it can, and dropping part of one made
 * it split the mapping first (measured: about 1.5% of -j 2's time). */
#define MAP_ALIGN ((uintptr_t)2u << 20)

/* ---- pinned: a mapped file's pages a worker may still read ----
 * With several jobs the workers read their segments' payload in the
 * mapping (hand_segment), so pages are dropped only behind the lowest
 * offset any worker may still read: the end of the last batch it has done
 * while it has batches to do, else its partial batch's start. That keeps
 * at most pinned_max() of the file mapped behind the reading thread (it
 * waits for a worker that lags further), the price of letting a worker
 * fall that far behind when its connections are busier for a while. */
static size_t pinned_max(struct capture_threads *t)
{
    return (size_t)queue_cap(t) * BATCH_OCTETS + (2u << 20);
}

static size_t worker_needs(const struct worker *w)
{
    if (atomic_load(&w->done) < w->queued_total)
        return atomic_load(&w->done_end);
    if (w->filling && w->filling->n)
        return w->filling->map_first;
    return SIZE_MAX;
}

/* The lowest offset still needed, reader included; waits while a worker
 * needs one more than pinned_max() behind it. */
static size_t pinned_low(struct capture *c, size_t off)
{
    struct capture_threads *t = c->threads;
    size_t low = off;
    for (unsigned i = 1; i < c->jobs; i++) {
        struct worker *w = &t->workers[i];
        size_t need = worker_needs(w);
        if (need != SIZE_MAX && need + pinned_max(t) < off) {
            hand_out_all(c, c->frames);   /* nothing partial held back, then wait */
            reader_past_frame(c);
            pthread_mutex_lock(&w->lock);
            while ((need = worker_needs(w)) != SIZE_MAX && need + pinned_max(t) < off) {
                w->done_wanted = true;
                pthread_cond_wait(&w->space, &w->lock);
            }
            pthread_mutex_unlock(&w->lock);
        }
        if (need < low)
            low = need;
    }
    return low;
}

/* The mapping PREFETCH_AHEAD octets ahead of the packet being decoded is
 * asked into the cache, line by line. With several jobs the reading
 * thread reads only the headers of most packets (the workers read their
 * payload), so the hardware prefetcher no longer streams the file in
 * ahead of it; without this, every record header was a miss to memory
 * (measured: mc_pcap_next and the frame decoding took 7 times their
 * one-thread time). */
#define PREFETCH_AHEAD 4096u

static void prefetch_ahead(struct capture *c, const uint8_t *at)
{
    const uint8_t *end = c->map + c->map_len;
    const uint8_t *want = (size_t)(end - at) > PREFETCH_AHEAD ? at + PREFETCH_AHEAD : end;
    const uint8_t *next = c->prefetched < at ? at : c->prefetched;
    for (; next < want; next += 64)
        __builtin_prefetch(next);
    c->prefetched = next;
}

static void unmap_behind(struct capture *c, struct mc_pcap_reader *r)
{
    uint64_t off = mc_pcap_offset(r);
    size_t keep, step = MAP_STEP;
    uintptr_t upto;
    if (c->threads) {
        /* where the workers populate ahead of (populate_ahead) */
        atomic_store_explicit(&c->threads->read_off, (size_t)off, memory_order_relaxed);
        off = pinned_low(c, (size_t)off);
        step = MAP_STEP_JOBS_UNIT * atomic_load_explicit(&c->threads->depth, memory_order_relaxed);
    }
    if (off < (uint64_t)MAP_LAG + step + c->map_dropped)
        return;
    upto = ((uintptr_t)c->map + (size_t)(off - MAP_LAG)) & ~(MAP_ALIGN - 1);
    if (upto <= (uintptr_t)c->map + c->map_dropped)
        return;   /* also when the mapping does not start on a boundary */
    keep = (size_t)(upto - (uintptr_t)c->map);
    (void)madvise(c->map + c->map_dropped, keep - c->map_dropped, MADV_DONTNEED);
    c->map_dropped = keep;
}

/* One reassembler per shard; the connections tracked at once and the
 * octets held out of order are shared out between them. */
static bool make_shards(struct capture *c, struct shard *one)
{
    struct mc_reasm_limits lim = {max_flows(c), 0, HELD_TOTAL, 3600ull * 1000000000ull};
    struct mc_reasm_cb cb = {NULL,    on_open,  on_data, on_gap, on_fin,
                             on_note, on_close, on_is_server_port};
    if (c->jobs > 1) {
        c->shards = calloc(c->jobs, sizeof(*c->shards));
        /* aligned as its cache-line groups (struct worker) */
        c->threads = aligned_alloc(CACHE_LINE, sizeof(*c->threads));
        if (c->threads) {
            memset(c->threads, 0, sizeof(*c->threads));
            c->threads->statm = -1;
        }
        if (!c->shards || !c->threads)
            return false;
        c->threads->depth = 1;
        c->threads->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        update_depth(c->threads);
    } else {
        c->shards = one;
    }
    for (unsigned i = 0; i < c->jobs; i++) {
        if (c->jobs > 1) {
            /* each shard's part of the bounds follows its part of the
             * connections (shard_of): split evenly, the workers' shards
             * evicted at 1/N of --max-flows while holding more than 1/N
             * of the connections, i.e. with fewer open in all than
             * --max-flows */
            uint64_t share = i == 0 ? shard0_share(c) : (1024 - shard0_share(c)) / (c->jobs - 1);
            lim.max_flows = (uint32_t)((uint64_t)max_flows(c) * share / 1024);
            if (!lim.max_flows)
                lim.max_flows = 1;
            lim.held_total = HELD_TOTAL / 1024 * share;
        }
        c->shards[i].c = c;
        cb.ctx = &c->shards[i];
        c->shards[i].reasm = mc_reasm_new(&lim, &cb);
        if (!c->shards[i].reasm)
            return false;
    }
    return true;
}

static void free_shards(struct capture *c, struct shard *one)
{
    if (c->shards)
        for (unsigned i = 0; i < c->jobs; i++)
            mc_reasm_free(c->shards[i].reasm);
    if (c->shards != one)
        free(c->shards);
    if (c->threads && c->threads->statm >= 0)
        close(c->threads->statm);
    free(c->threads);
}

/* The reassemblers' failed allocations, once for the capture: a dropped
 * segment, out-of-order data given up as a gap, a retransmission window
 * that could not grow (under real memory pressure there would be too many
 * to name one by one). */
static void report_reasm_out_of_memory(struct capture *c)
{
    uint64_t n = 0, first = 0;
    char msg[300];
    for (unsigned i = 0; i < c->jobs; i++) {
        const struct mc_reasm_stats *rs = mc_reasm_stats(c->shards[i].reasm);
        if (rs->out_of_memory && (!n || rs->oom_first_frame < first))
            first = rs->oom_first_frame;
        n += rs->out_of_memory;
    }
    if (!n)
        return;
    snprintf(msg, sizeof(msg), "out of memory %llu times in TCP reassembly (the first at frame %llu): "
             "the connections concerned are not fully validated", (unsigned long long)n,
             (unsigned long long)first);
    mc_report_input_error(c->rep, c->name, 0, 0, msg);
}

static bool run(struct capture *c, struct mc_pcap_reader *r, uint64_t total)
{
    struct shard one;
    struct mc_packet pkt;
    enum mc_pcap_status st;
    bool ok = true, made, started;
    memset(&one, 0, sizeof(one));
    c->jobs = c->opts->jobs > 1 ? c->opts->jobs : 1;
    load_keylogs(c);
    made = make_shards(c, &one);
    started = made && (!c->threads || start_workers(c));
    if (!started) {
        report_input_error(c, c->name, c->threads ? "cannot start the threads (out of memory)"
                                                  : "out of memory");
        if (made && c->threads)
            stop_workers(c, 0);   /* the threads that did start */
        free_shards(c, &one);
        mc_tls_keylog_free(c->keylog);
        return false;
    }
    mc_pcap_on_secrets(r, on_secrets, c);
    while ((st = mc_pcap_next(r, &pkt)) == MC_PCAP_PACKET) {
        struct mc_tcp_seg seg;
        unsigned shard;
        c->frames++;
        if (c->map)
            prefetch_ahead(c, pkt.data);
        if (c->threads) {
            /* shard 0, this thread's, is at this frame */
            atomic_store_explicit(&c->threads->workers[0].at, c->frames, memory_order_release);
            wake_waiters(c->threads);
        }
        switch (mc_decode_frame(pkt.linktype, pkt.data, pkt.caplen, pkt.origlen, &seg)) {
        case MC_DEC_TCP:
            c->tcp++;
            shard = c->threads ? shard_of(c, &seg) : 0;
            if (shard == 0)
                mc_reasm_segment(c->shards[0].reasm, &seg, pkt.frame, pkt.ts_ns);
            else if (!hand_segment(c, shard, &seg, &pkt) && ok) {
                report_input_error(c, c->name, "out of memory: segments skipped");
                ok = false;
            }
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
        if (c->threads && atomic_load_explicit(&c->threads->hand_out, memory_order_relaxed)) {
            /* a worker waits to number a flow: hand out what it needs */
            atomic_store(&c->threads->hand_out, false);
            hand_out_all(c, c->frames);
        }
        if (c->map && (c->frames & 0x3f) == 0)
            unmap_behind(c, r);
        if (c->threads && (c->frames & 0xff) == 0)
            flush_numbered(&c->shards[0]);
        if (c->opts->progress && (c->frames & 0xffff) == 1)
            progress(c, r, total, false);
    }
    if (c->threads)
        stop_workers(c, c->frames);   /* also finishes shard 0 */
    else
        mc_reasm_finish(c->shards[0].reasm, c->frames);
    if (c->opts->progress)
        progress(c, r, total, true);
    if (c->evicted > 1) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%llu connections in all were closed early for --max-flows %u",
                 (unsigned long long)c->evicted, max_flows(c));
        mc_report_warning(c->rep, c->name, msg);
    }
    report_reasm_out_of_memory(c);
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
        for (unsigned i = 0; i < c->jobs; i++) {
            cs.mail_flows += c->shards[i].mail_flows;
            cs.encrypted_flows += c->shards[i].encrypted_flows;
            cs.other_flows += c->shards[i].other_flows;
        }
        cs.not_tcp = c->not_tcp;
        cs.fragments = c->fragments;
        cs.truncated = c->truncated;
        cs.malformed = c->malformed;
        cs.unknown_linktype = c->linktypes;
        cs.linktype = c->bad_linktype;
        mc_report_capture(c->rep, &cs);
    }
    free_shards(c, &one);
    mc_tls_keylog_free(c->keylog);
    return ok;
}


bool mc_capture_check_fd(struct mc_report *rep, int fd, const char *name,
                         const struct mc_capture_opts *opts)
{
    return mc_capture_check_fd_prefix(rep, fd, NULL, 0, name, opts);
}

/* A mapped file that shrinks under the reader (another program truncating
 * it) raises SIGBUS on the next page: say so and stop, rather than die
 * without a word. Only what async-signal-safe calls allow. */
static const char *volatile mapped_name;

static void on_sigbus(int sig)
{
    static const char a[] = "mailconform: ", b[] = ": the file shrank while it was being read "
                                                  "(check a copy, or read it from a pipe)\n";
    const char *n = mapped_name ? mapped_name : "capture";
    (void)sig;
    (void)!write(2, a, sizeof(a) - 1);
    (void)!write(2, n, strlen(n));
    (void)!write(2, b, sizeof(b) - 1);
    _exit(2);
}

bool mc_capture_check_fd_prefix(struct mc_report *rep, int fd, const uint8_t *prefix, size_t n,
                                const char *name, const struct mc_capture_opts *opts)
{
    struct capture c = {.rep = rep, .opts = opts, .name = name};
    struct mc_pcap_reader *r;
    struct stat st;
    uint64_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    bool ok;
    /* A regular file read from its start is mapped rather than read(): no
     * copy of every octet into a buffer (on the 1 GB benchmark file the
     * kernel's copy was 13 % of all samples). Pipes, and anything that
     * cannot be mapped, are read. A file truncated while it is read ends
     * the run with a message (on_sigbus); the same file still being
     * appended to is read up to the size it had at the start. */
    if (n == 0 && total > 0 && total <= SIZE_MAX && lseek(fd, 0, SEEK_CUR) == 0) {
        void *map = mmap(NULL, (size_t)total, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            struct sigaction sa, old_sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = on_sigbus;
            sigemptyset(&sa.sa_mask);
            mapped_name = name;
            (void)sigaction(SIGBUS, &sa, &old_sa);
            (void)madvise(map, (size_t)total, MADV_SEQUENTIAL);
            c.map = map;
            c.map_len = (size_t)total;
            r = mc_pcap_open_mem(c.map, c.map_len, name);
            ok = r ? run(&c, r, total) : false;
            if (!r)
                mc_report_input_error(rep, name, 0, 0, "out of memory");
            mc_pcap_close(r);
            munmap(map, (size_t)total);
            (void)sigaction(SIGBUS, &old_sa, NULL);
            mapped_name = NULL;
            return ok;
        }
    }
    r = n ? mc_pcap_open_fd_prefix(fd, prefix, n, name) : mc_pcap_open_fd(fd, name);
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
