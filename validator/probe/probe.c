/*
 * The probe's driver: the modes table, option values, verdicts, and the
 * cells run on a bounded pool of threads (probe.h).
 *
 * Decisions worth knowing:
 * - A cell's findings are those of the server. The probe is the client and
 *   misbehaves on purpose (a malformed command, an over-long line, a command
 *   pipelined behind STARTTLS), so client-side findings say nothing about
 *   the server and are dropped.
 * - The STARTTLS injection check runs on its own connection after the main
 *   conversation, as the session "<MODE>/inject" of the same cell (and of
 *   the same transcript), so that the main conversation stays clean.
 * - Each cell records into its own transcript, so threads share nothing but
 *   the work counter and the key log file.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "probe_internal.h"
#include "transcript/transcript.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const struct mc_probe_mode_info modes[MC_PROBE_MODES] = {
    [MC_MODE_POP3_PLAIN] = {"POP3-Plain", MC_PROTO_POP3, MC_TLS_NEVER, false, 110},
    [MC_MODE_POP3_SSL] = {"POP3-SSL", MC_PROTO_POP3, MC_TLS_IMPLICIT, false, 995},
    [MC_MODE_POP3_TLS] = {"POP3-TLS", MC_PROTO_POP3, MC_TLS_STARTTLS, false, 110},
    [MC_MODE_IMAP4_PLAIN] = {"IMAP4-Plain", MC_PROTO_IMAP, MC_TLS_NEVER, false, 143},
    [MC_MODE_IMAP4_SSL] = {"IMAP4-SSL", MC_PROTO_IMAP, MC_TLS_IMPLICIT, false, 993},
    [MC_MODE_IMAP4_TLS] = {"IMAP4-TLS", MC_PROTO_IMAP, MC_TLS_STARTTLS, false, 143},
    [MC_MODE_SMTP_PLAIN] = {"SMTP-Plain", MC_PROTO_SMTP, MC_TLS_NEVER, false, 25},
    [MC_MODE_SMTP_SSL] = {"SMTP-SSL", MC_PROTO_SMTP, MC_TLS_IMPLICIT, false, 465},
    [MC_MODE_SMTP_SUBMISSION_TLS] = {"SMTP-SUBMISSION-TLS", MC_PROTO_SMTP, MC_TLS_STARTTLS, true,
                                     587},
    [MC_MODE_SMTP_SUBMISSION_SSL] = {"SMTP-SUBMISSION-SSL", MC_PROTO_SMTP, MC_TLS_IMPLICIT, true,
                                     465},
    [MC_MODE_SMTP_TLS] = {"SMTP-TLS", MC_PROTO_SMTP, MC_TLS_STARTTLS, false, 25},
};

const struct mc_probe_mode_info *mc_probe_mode_info(enum mc_probe_mode m)
{
    return (unsigned)m < MC_PROBE_MODES ? &modes[m] : NULL;
}

bool mc_probe_mode_parse(const char *s, enum mc_probe_mode *out)
{
    for (unsigned m = 0; m < MC_PROBE_MODES; m++) {
        if (strcasecmp(s, modes[m].name) == 0) {
            *out = (enum mc_probe_mode)m;
            return true;
        }
    }
    return false;
}

bool mc_probe_modes_parse(const char *list, bool sel[MC_PROBE_MODES], char *err, size_t errlen)
{
    const char *p = list;
    memset(sel, 0, MC_PROBE_MODES * sizeof(sel[0]));
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[64];
        enum mc_probe_mode m;
        if (n == 0 || n >= sizeof(name)) {
            snprintf(err, errlen, "--modes: empty or unknown mode in '%s'", list);
            return false;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        if (strcasecmp(name, "all") == 0) {
            for (unsigned k = 0; k < MC_PROBE_MODES; k++)
                sel[k] = true;
        } else if (mc_probe_mode_parse(name, &m)) {
            sel[m] = true;
        } else {
            snprintf(
                err, errlen,
                "--modes: unknown mode '%s' (POP3-Plain, POP3-SSL, POP3-TLS, "
                "IMAP4-Plain, IMAP4-SSL, IMAP4-TLS, SMTP-Plain, SMTP-SSL, SMTP-SUBMISSION-TLS, "
                "SMTP-SUBMISSION-SSL, SMTP-TLS)",
                name);
            return false;
        }
        if (!comma)
            return true;
        p = comma + 1;
    }
}

bool mc_probe_port_parse(const char *spec, uint16_t ports[MC_PROBE_MODES], char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    char name[64], *end;
    enum mc_probe_mode m;
    unsigned long port;
    if (!eq || (size_t)(eq - spec) >= sizeof(name)) {
        snprintf(err, errlen, "--port takes MODE=PORT, not '%s'", spec);
        return false;
    }
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    if (!mc_probe_mode_parse(name, &m)) {
        snprintf(err, errlen, "--port: unknown mode '%s'", name);
        return false;
    }
    errno = 0;
    port = strtoul(eq + 1, &end, 10);
    if (eq[1] == '\0' || *end != '\0' || errno || port == 0 || port > 65535 || eq[1] == '-' ||
        eq[1] == '+') {
        snprintf(err, errlen, "--port: '%s' is not a port (1-65535)", eq + 1);
        return false;
    }
    ports[m] = (uint16_t)port;
    return true;
}

static bool copy_part(char *out, size_t outlen, const char *s, size_t n)
{
    if (n == 0 || n >= outlen)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

bool mc_probe_target_parse(const char *arg, char *name, size_t namelen, char *addr, size_t addrlen)
{
    const char *colon = strchr(arg, ':');
    if (arg[0] == '[') { /* [v6] */
        const char *close = strchr(arg, ']');
        if (!close || close[1] != '\0')
            return false;
        return copy_part(name, namelen, arg + 1, (size_t)(close - arg - 1)) &&
               copy_part(addr, addrlen, arg + 1, (size_t)(close - arg - 1));
    }
    if (!colon) /* HOST */
        return copy_part(name, namelen, arg, strlen(arg)) &&
               copy_part(addr, addrlen, arg, strlen(arg));
    if (colon[1] == '[') { /* HOST:[v6] */
        const char *close = strchr(colon, ']');
        if (!close || close[1] != '\0')
            return false;
        return copy_part(name, namelen, arg, (size_t)(colon - arg)) &&
               copy_part(addr, addrlen, colon + 2, (size_t)(close - colon - 2));
    }
    if (strchr(colon + 1, ':')) /* a bare IPv6 address */
        return copy_part(name, namelen, arg, strlen(arg)) &&
               copy_part(addr, addrlen, arg, strlen(arg));
    return copy_part(name, namelen, arg, (size_t)(colon - arg)) && /* HOST:ADDR */
           copy_part(addr, addrlen, colon + 1, strlen(colon + 1));
}

const char *mc_probe_verdict_name(enum mc_probe_verdict v)
{
    switch (v) {
    case MC_VERDICT_WORKS: return "works";
    case MC_VERDICT_WORKS_WARNINGS: return "works with warnings";
    case MC_VERDICT_NONCONFORMANT: return "non-conformant";
    case MC_VERDICT_NOT_OFFERED: return "not offered";
    case MC_VERDICT_FAILED: return "failed";
    }
    return "failed";
}

enum mc_probe_verdict mc_probe_verdict_of(enum mc_probe_outcome o, uint64_t errors,
                                          uint64_t warnings, uint64_t notes)
{
    if (o == MC_OUTCOME_FAILED)
        return MC_VERDICT_FAILED;
    if (o == MC_OUTCOME_NOT_OFFERED)
        return MC_VERDICT_NOT_OFFERED;
    if (errors)
        return MC_VERDICT_NONCONFORMANT;
    if (warnings || notes)
        return MC_VERDICT_WORKS_WARNINGS;
    return MC_VERDICT_WORKS;
}

void mc_probe_opts_init(struct mc_probe_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (unsigned m = 0; m < MC_PROBE_MODES; m++) {
        o->modes[m] = true;
        o->ports[m] = modes[m].default_port;
    }
    o->timeout_ms = 10000;
    o->jobs = 4;
    o->line_max = MC_PROBE_LINE_MAX;
    o->active_checks = true;
}

/* ---- helpers for the conversations ---- */

enum mc_probe_outcome probe_failed(struct probe_run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->cell->reason, sizeof(r->cell->reason), fmt, ap);
    va_end(ap);
    probe_rec_comment(r->rec, r->cell->reason);
    return MC_OUTCOME_FAILED;
}

enum mc_probe_outcome probe_not_offered(struct probe_run *r, const char *why)
{
    snprintf(r->cell->reason, sizeof(r->cell->reason), "%s", why);
    probe_rec_comment(r->rec, why);
    return MC_OUTCOME_NOT_OFFERED;
}

enum mc_probe_outcome probe_status_outcome(struct probe_run *r, enum probe_status st,
                                           const char *what)
{
    switch (st) {
    case PROBE_OK: return MC_OUTCOME_DONE;
    case PROBE_TIMEOUT: return probe_failed(r, "timeout waiting for %s", what);
    case PROBE_TOO_LONG:
        return probe_failed(r, "line longer than %zu octets (waiting for %s)", r->o->line_max,
                            what);
    case PROBE_EOF:
        return probe_failed(r, "connection closed by the server (waiting for %s)", what);
    case PROBE_REFUSED: return probe_not_offered(r, "connection refused");
    case PROBE_TOO_MUCH:
        return probe_failed(r, "more than %u octets from the server (waiting for %s)",
                            (unsigned)MC_PROBE_RECEIVE_MAX, what);
    case PROBE_ERROR: break;
    }
    return probe_failed(r, "%s", r->c->why);
}

enum mc_probe_outcome probe_long_line_answer(struct probe_run *r, enum probe_status st)
{
    if (st == PROBE_TOO_LONG)
        return probe_status_outcome(r, st, "the answer to an over-long line");
    if (st == PROBE_TIMEOUT)
        probe_rec_comment(r->rec, "probe: no answer to an over-long line");
    return MC_OUTCOME_DONE;
}

enum mc_probe_outcome probe_open(struct probe_run *r)
{
    enum probe_status st = probe_connect(r->c, r->addr, r->cell->port);
    if (st == PROBE_REFUSED)
        return probe_not_offered(r, "connection refused");
    if (st != PROBE_OK)
        return probe_failed(r, "%s", r->c->why);
    if (r->mi->tls == MC_TLS_IMPLICIT)
        return probe_upgrade(r);
    return MC_OUTCOME_DONE;
}

enum mc_probe_outcome probe_inject_handshake(struct probe_run *r, bool *tls_up)
{
    enum mc_probe_outcome out;
    *tls_up = false;
    (void)probe_wait_data(r->c, MC_PROBE_INJECT_WAIT_MS);
    if (r->c->eof) { /* Dovecot closes rather than start TLS: nothing answered */
        probe_rec_comment(r->rec, "probe: the server closed instead of starting TLS");
        probe_finish(r->c);
        return MC_OUTCOME_DONE;
    }
    out = probe_upgrade(r);
    if (out != MC_OUTCOME_DONE)
        return out;
    *tls_up = true;
    /* inside TLS, before any command of ours: an answer to the injected one */
    (void)probe_wait_data(r->c, MC_PROBE_INJECT_WAIT_MS);
    probe_discard(r->c);
    return MC_OUTCOME_DONE;
}

enum mc_probe_outcome probe_upgrade(struct probe_run *r)
{
    struct mc_probe_tls_info scratch, *info = r->inject ? &scratch : &r->cell->tls;
    enum probe_status st = probe_tls_start(r->c, r->servername, info);
    if (st != PROBE_OK)
        return probe_failed(r, "%s", r->c->why);
    r->in_tls = true;
    return MC_OUTCOME_DONE;
}

bool probe_may_login(const struct probe_run *r)
{
    return r->o->user && r->o->password && (r->in_tls || r->o->allow_plaintext_auth);
}

bool probe_has_word(const char *list, size_t len, const char *word)
{
    size_t wl = strlen(word), i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && list[j] != ' ')
            j++;
        if (j - i == wl && strncasecmp(list + i, word, wl) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

/* ---- cells ---- */

struct finding_sink {
    struct mc_probe_cell *cell;
    unsigned k; /* 0 main, 1 inject */
    bool lost;  /* a finding could not be kept (out of memory) */
};

static void on_finding(void *ctx, const struct mc_finding *f)
{
    struct finding_sink *fs = ctx;
    struct mc_probe_cell *c = fs->cell;
    if (f->side == MC_SIDE_CLIENT)
        return; /* the probe's own deliberate misbehaviour */
    if (c->nfindings == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct mc_finding *n = realloc(c->findings, ncap * sizeof(*n));
        if (!n) {
            fs->lost = true;   /* the cell fails for it (run_conversation) */
            return;
        }
        c->findings = n;
        c->cap = ncap;
    }
    c->findings[c->nfindings] = *f;
    c->findings[c->nfindings].session = c->session_names[fs->k];
    c->nfindings++;
    c->by_sev[f->severity]++;
}

static void safe_file_part(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
        out[i] = ok ? ch : '_';
    }
    out[i] = '\0';
}

/* The reason of a cell whose conversation (main or injection check) ran
 * out of memory: what it did not do cannot be judged, so the cell fails. */
static const char OUT_OF_MEMORY[] = "out of memory";

/* One connection of the cell (main or inject) with its own session. */
static enum mc_probe_outcome run_conversation(const struct probe_env *env,
                                              struct mc_probe_cell *cell, struct probe_rec *rec,
                                              const char *name, const char *addr, bool inject)
{
    const struct mc_probe_opts *o = env->o;
    const struct mc_probe_mode_info *mi = &modes[cell->mode];
    unsigned k = inject ? 1 : 0;
    struct finding_sink sink = {cell, k, false};
    struct probe_conn conn;
    struct probe_run run;
    enum mc_probe_outcome out;
    struct mc_session *s = mc_session_new(cell->session_names[k], mi->proto, on_finding, &sink);

    if (!s || !probe_conn_init(&conn, env, rec)) {
        mc_session_free(s);
        snprintf(cell->reason, sizeof(cell->reason), "%s", OUT_OF_MEMORY);
        return MC_OUTCOME_FAILED;
    }
    if (mi->submission)
        mc_session_set_submission(s);
    if (o->policy)
        mc_session_set_policy(s, o->policy);
    if (o->imap_version)
        mc_session_set_version(s, o->imap_version);
    rec->s = s;
    probe_rec_session(rec, cell->session_names[k], mi->proto, mi->submission);
    memset(&run, 0, sizeof(run));
    run.env = env;
    run.o = o;
    run.mi = mi;
    run.cell = cell;
    run.rec = rec;
    run.c = &conn;
    run.name = name;
    run.addr = addr;
    run.servername = o->servername ? o->servername : name;
    run.inject = inject;
    switch (mi->proto) {
    case MC_PROTO_POP3: out = probe_pop3(&run); break;
    case MC_PROTO_IMAP: out = probe_imap(&run); break;
    default: out = probe_smtp(&run); break;
    }
    probe_conn_free(&conn);
    mc_session_finish(s);
    if (mc_session_out_of_memory(s, NULL) || sink.lost) {
        /* the verdict would rest on a session that stopped judging, or
         * without a finding it made; this reason before any other */
        snprintf(cell->reason, sizeof(cell->reason), "%s", OUT_OF_MEMORY);
        out = MC_OUTCOME_FAILED;
    }
    cell->session_used[k] = true;
    cell->session_validated[k] = mc_session_validated(s);
    cell->suppressed[k] = mc_session_suppressed(s);
    rec->s = NULL;
    mc_session_free(s);
    return out;
}

static void run_cell(const struct probe_env *env, struct mc_probe_cell *cell)
{
    const struct mc_probe_opts *o = env->o;
    const struct mc_probe_mode_info *mi = &modes[cell->mode];
    struct probe_rec rec = {NULL, 0, NULL};
    char name[256], addr[256];

    if (!mc_probe_target_parse(o->hosts[cell->host], name, sizeof(name), addr, sizeof(addr))) {
        cell->outcome = MC_OUTCOME_FAILED;
        snprintf(cell->reason, sizeof(cell->reason), "bad target '%s'", o->hosts[cell->host]);
        goto verdict;
    }
    if (o->record_dir) {
        snprintf(cell->transcript, sizeof(cell->transcript), "%s/%s_%s.mct", o->record_dir,
                 cell->file_tag, mi->name);
        rec.f = fopen(cell->transcript, "w");
        if (!rec.f) {
            cell->outcome = MC_OUTCOME_FAILED;
            snprintf(cell->reason, sizeof(cell->reason), "cannot write %.180s: %.60s",
                     cell->transcript, strerror(errno));
            cell->transcript[0] = '\0';
            goto verdict;
        }
        {
            char c[400];
            snprintf(c, sizeof(c), "mailconform probe: %.150s (%.150s) port %u, mode %s", name,
                     addr, cell->port, mi->name);
            probe_rec_comment(&rec, c);
        }
    }
    cell->outcome = run_conversation(env, cell, &rec, name, addr, false);
    if (cell->outcome == MC_OUTCOME_DONE && mi->tls == MC_TLS_STARTTLS && o->active_checks) {
        char saved[sizeof(cell->reason)];
        memcpy(saved, cell->reason, sizeof(saved));
        /* the injection check's own trouble (a timeout, a refused second
         * connection) is in its transcript; the cell's verdict comes from
         * the main conversation and the findings of both */
        if (run_conversation(env, cell, &rec, name, addr, true) == MC_OUTCOME_FAILED &&
            strcmp(cell->reason, OUT_OF_MEMORY) == 0)
            cell->outcome = MC_OUTCOME_FAILED;   /* the check did not run: not "works" */
        else
            memcpy(cell->reason, saved, sizeof(saved));
    }
    if (rec.f && fclose(rec.f) != 0 && cell->outcome != MC_OUTCOME_FAILED) {
        cell->outcome = MC_OUTCOME_FAILED;
        snprintf(cell->reason, sizeof(cell->reason), "cannot write %.200s", cell->transcript);
    }
verdict:
    cell->verdict = mc_probe_verdict_of(cell->outcome, cell->by_sev[MC_SEV_ERROR],
                                        cell->by_sev[MC_SEV_WARNING], cell->by_sev[MC_SEV_NOTE]);
}

/* ---- the pool ---- */

struct pool {
    const struct probe_env *env;
    struct mc_probe_result *res;
    size_t next;
    pthread_mutex_t mu;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        size_t i;
        pthread_mutex_lock(&p->mu);
        i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->res->ncells)
            return NULL;
        run_cell(p->env, &p->res->cells[i]);
    }
}

static FILE *keylog_file;
static pthread_mutex_t keylog_mu = PTHREAD_MUTEX_INITIALIZER;

static void keylog_line(const SSL *ssl, const char *line)
{
    struct probe_conn *c = SSL_get_app_data(ssl);
    if (c)
        probe_wire_key(&c->wire, line);   /* --pcap: the connection's DSB */
    pthread_mutex_lock(&keylog_mu);
    if (keylog_file) {
        fprintf(keylog_file, "%s\n", line);
        fflush(keylog_file);
    }
    pthread_mutex_unlock(&keylog_mu);
}

static SSL_CTX *make_ssl_ctx(const struct mc_probe_opts *o, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot set up TLS");
        return NULL;
    }
    /* verification is judged after the handshake (probe_conn.c) */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (o->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
            snprintf(err, errlen, "%s: cannot read the CA certificates", o->ca_file);
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errlen, "cannot load the system's CA certificates");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (o->keylog || o->pcap)
        SSL_CTX_set_keylog_callback(ctx, keylog_line);
    return ctx;
}

int mc_probe_run(const struct mc_probe_opts *o, struct mc_probe_result *res, char *err,
                 size_t errlen)
{
    struct probe_env env = {o, NULL, NULL};
    struct probe_pcap pcap;
    struct pool pool;
    pthread_t threads[MC_PROBE_MAX_JOBS];
    unsigned nthreads, started = 0;
    size_t nmodes = 0, i = 0;

    memset(res, 0, sizeof(*res));
    for (unsigned m = 0; m < MC_PROBE_MODES; m++)
        nmodes += o->modes[m];
    res->nmodes_selected = nmodes;
    res->ncells = nmodes * o->nhosts;
    res->cells = calloc(res->ncells ? res->ncells : 1, sizeof(*res->cells));
    if (!res->cells) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    for (unsigned m = 0; m < MC_PROBE_MODES; m++) {
        if (!o->modes[m])
            continue;
        for (size_t h = 0; h < o->nhosts; h++, i++) {
            struct mc_probe_cell *c = &res->cells[i];
            char name[256], addr[256];
            c->host = h;
            c->mode = (enum mc_probe_mode)m;
            c->port = o->ports[m];
            if (!mc_probe_target_parse(o->hosts[h], name, sizeof(name), addr, sizeof(addr)))
                snprintf(name, sizeof(name), "%s", o->hosts[h]);
            snprintf(c->host_name, sizeof(c->host_name), "%s", name);
            safe_file_part(c->file_tag, sizeof(c->file_tag), name);
            /* two targets with one name ("mx:10.0.0.1", "mx:10.0.0.2") must
             * not write the same transcript */
            for (size_t e = 0; e < h; e++) {
                char en[256], ea[256];
                if (mc_probe_target_parse(o->hosts[e], en, sizeof(en), ea, sizeof(ea)) &&
                    strcmp(en, name) == 0) {
                    size_t l = strlen(c->file_tag);
                    snprintf(c->file_tag + l, sizeof(c->file_tag) - l, "-%zu", h + 1);
                    break;
                }
            }
            snprintf(c->input, sizeof(c->input), "%s/%s", name, modes[m].name);
            snprintf(c->session_names[0], sizeof(c->session_names[0]), "%s", modes[m].name);
            snprintf(c->session_names[1], sizeof(c->session_names[1]), "%s/inject", modes[m].name);
        }
    }
    if (o->record_dir) {
        struct stat st;
        if (stat(o->record_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s: not a directory (--record)", o->record_dir);
            mc_probe_result_free(res);
            return 2;
        }
    }
    if (o->keylog) {
        keylog_file = fopen(o->keylog, "a");
        if (!keylog_file) {
            snprintf(err, errlen, "%s: cannot write the key log: %s", o->keylog, strerror(errno));
            mc_probe_result_free(res);
            return 2;
        }
    }
    if (o->pcap) {
        memset(&pcap, 0, sizeof(pcap));
        pcap.f = fopen(o->pcap, "wb");
        if (!pcap.f || !probe_pcap_header(pcap.f)) {
            snprintf(err, errlen, "%s: cannot write the capture: %s", o->pcap, strerror(errno));
            if (pcap.f)
                fclose(pcap.f);
            if (keylog_file)
                fclose(keylog_file);
            keylog_file = NULL;
            mc_probe_result_free(res);
            return 2;
        }
        pthread_mutex_init(&pcap.mu, NULL);
        env.pcap = &pcap;
    }
    env.ssl_ctx = make_ssl_ctx(o, err, errlen);
    if (!env.ssl_ctx) {
        if (keylog_file)
            fclose(keylog_file);
        keylog_file = NULL;
        if (env.pcap) {
            fclose(pcap.f);
            pthread_mutex_destroy(&pcap.mu);
        }
        mc_probe_result_free(res);
        return 2;
    }
    /* a server closing while we write must not kill the process */
    signal(SIGPIPE, SIG_IGN);
    pool.env = &env;
    pool.res = res;
    pool.next = 0;
    pthread_mutex_init(&pool.mu, NULL);
    nthreads = o->jobs ? o->jobs : 1;
    if (nthreads > MC_PROBE_MAX_JOBS)
        nthreads = MC_PROBE_MAX_JOBS;
    if (nthreads > res->ncells)
        nthreads = res->ncells ? (unsigned)res->ncells : 1;
    for (unsigned t = 0; t < nthreads; t++)
        if (pthread_create(&threads[started], NULL, worker, &pool) == 0)
            started++;
    if (started == 0)
        worker(&pool);
    for (unsigned t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&pool.mu);
    SSL_CTX_free(env.ssl_ctx);
    if (env.pcap) {
        if (fclose(pcap.f) != 0 || pcap.failed)
            snprintf(res->output_error, sizeof(res->output_error),
                     "%.200s: the capture could not be written in full", o->pcap);
        else if (pcap.truncated)
            snprintf(res->output_error, sizeof(res->output_error),
                     "%.200s: %llu connection(s) recorded only in part (64 MiB each at most)",
                     o->pcap, (unsigned long long)pcap.truncated);
        pthread_mutex_destroy(&pcap.mu);
    }
    pthread_mutex_lock(&keylog_mu);
    if (keylog_file)
        fclose(keylog_file);
    keylog_file = NULL;
    pthread_mutex_unlock(&keylog_mu);
    return 0;
}

void mc_probe_result_free(struct mc_probe_result *res)
{
    for (size_t i = 0; i < res->ncells; i++)
        free(res->cells[i].findings);
    free(res->cells);
    memset(res, 0, sizeof(*res));
}
