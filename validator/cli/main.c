/*
 * mailconform: command-line front end.
 *
 *   mailconform check [options] FILE...    validate transcripts
 *   mailconform relay [options]            record (and validate) live sessions
 *   mailconform rules [--format F]         list the rule catalogue
 *   mailconform explain RULE...            why a rule matters, with examples
 *
 * Exit codes (DESIGN.md): 0 nothing at or above --fail-on, 1 findings at or
 * above it, 2 usage or input error.
 */
#define _GNU_SOURCE   /* fopencookie: stdin with its first octets put back */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/pcap_reader.h"
#include "relay/relay.h"
#include "cli/cli_common.h"
#include "report/report.h"
#include "rules/policy.h"
#include "session/session.h"
#include "transcript/transcript.h"

/* validator/cli/cmd_probe.c */
int mc_cmd_probe(int argc, char **argv);


/* Sessions open at once within one transcript (multi-session files). */
#define MC_CLI_MAX_SESSIONS 1024

static const char usage_main[] =
    "usage: mailconform <command> [options]\n"
    "\n"
    "Tells whether POP3, IMAP and SMTP servers and clients speak their protocol as the RFCs say.\n"
    "\n"
    "commands:\n"
    "  check FILE...     validate recorded sessions (transcripts; '-' reads stdin)\n"
    "  relay             relay a live TCP connection, record it, validate it\n"
    "  probe HOST...     connect to live servers in the eleven modes, print the matrix\n"
    "  rules             list the rule catalogue\n"
    "  explain RULE...   why a rule matters, with a conformant and a non-conformant example\n"
    "  version           print the version\n"
    "\n"
    "Run 'mailconform <command> --help' for the options of a command, 'man mailconform'\n"
    "(docs/mailconform.1) for all of it.\n"
    "Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.\n";


static const char usage_check[] =
    "usage: mailconform check [options] FILE...\n"
    "\n"
    "Validates each session recorded in the FILEs: transcripts (docs/transcript.md) or packet\n"
    "captures (pcap, pcapng: every TCP connection to a mail port, or whose server greets like\n"
    "a mail server, is reassembled and validated). Prints every finding with its rule, RFC\n"
    "section, side at fault and position (transcript line, or capture frame number).\n"
    "\n"
    "options:\n"
    REPORT_OPTIONS_HELP
    "  --protocol P     pop3, imap, smtp or submission (SMTP with RFC 6409 rules);\n"
    "                   default: detected from the server's first line\n"
    "  --imap-version V IMAP rules where RFC 2060, 3501 and 9051 differ: 2060, 3501,\n"
    "                   9051, or auto (default: IMAP4rev2 when the server announces\n"
    "                   only IMAP4rev2 or the client enables it, else RFC 3501)\n"
    "  --port P=NAME    captures: port P carries NAME (pop3, pop3s, imap, imaps, smtp, smtps,\n"
    "                   submission; the 's' forms are implicit TLS); repeatable. Defaults:\n"
    "                   110 pop3, 995 pop3s, 143 imap, 993 imaps, 25 and 2525 smtp,\n"
    "                   587 submission, 465 smtps\n"
    "  --max-flows N    captures: connections tracked at once (default 1024, about 60 KiB\n"
    "                   each); beyond it the least recently active one is closed early\n"
    "  --keylog FILE    captures: TLS secrets in the NSS key log format (SSLKEYLOGFILE) to\n"
    "                   decrypt implicit TLS and what follows STARTTLS; repeatable (a\n"
    "                   pcapng file's Decryption Secrets Blocks are used as well)\n"
    "  -j, --jobs N     captures: validate the flows in N threads (default 1); the same\n"
    "                   findings and totals, lines of different flows in any order\n"
    "  -h, --help       this help\n";

static const char usage_relay[] =
    "usage: mailconform relay --listen ADDR:PORT --to ADDR:PORT [options]\n"
    "\n"
    "Accepts clients on --listen, connects each to the server at --to and copies bytes both\n"
    "ways, recording every chunk to a transcript and validating the session as it runs.\n"
    "Stops after --max-sessions connections, or on SIGINT/SIGTERM.\n"
    "\n"
    "options:\n"
    "  --listen ADDR:PORT   where clients connect (127.0.0.1:11110, [::1]:11110)\n"
    "  --to ADDR:PORT       the real server\n"
    "  --record FILE        write the transcript to FILE\n"
    "  --check              validate sessions and print findings (default when no --record)\n"
    "  --max-sessions N     stop after N connections have ended (default: run until signalled)\n"
    "  --idle-timeout SECS  close connections idle this long (default 300, 0: never)\n"
    "  --protocol P         pop3, imap, smtp or submission; default: detected per connection\n"
    "  --imap-version V     2060, 3501, 9051 or auto (default), as for check\n"
    "  -h, --help           this help\n"
    "\n"
    "terminating TLS (docs/relay.md): clients talk TLS with the relay, the relay with the\n"
    "server; both legs' plaintext is recorded after '! tls decrypted' and validated:\n"
    "  --tls-cert FILE      PEM certificate (chain) presented to clients; turns TLS on\n"
    "  --tls-key FILE       its PEM private key\n"
    "  --tls MODE           starttls (default: plaintext until the server's go-ahead to\n"
    "                       STARTTLS/STLS) or implicit (TLS from the first octet: 993, 995, 465)\n"
    "  --tls-ca FILE        PEM CA certificates that verify the server (default: system store)\n"
    "  --tls-insecure       do not verify the server's certificate (test servers only)\n"
    "  --tls-servername N   SNI and the name verified (default: the host part of --to)\n"
    "  --keylog FILE        append NSS key log lines (SSLKEYLOGFILE format) for both legs\n"
    "\n"
    "report options, as for check:\n"
    REPORT_OPTIONS_HELP;


/* ---- check ------------------------------------------------------------- */

struct live {
    char name[160];
    struct mc_session *s;
    enum mc_proto proto;     /* from '@ protocol', before the session starts */
    bool submission;
    unsigned imap_version;   /* from '@ imap-version'; 0: the default */
    bool closed[2];
    bool abandoned;          /* out of memory: said already (the reader's, or the session's) */
};

struct checker {
    struct mc_report *rep;
    const char *file;
    enum mc_proto default_proto;
    bool default_submission;
    unsigned default_imap_version;
    const struct mc_policy *policy;
    struct live live[MC_CLI_MAX_SESSIONS];
    unsigned n_live;
    unsigned cur;            /* index into live */
    unsigned next_evict;
    bool overflow_said;
};

/* A finished session's summary (check and relay); one that stopped for
 * lack of memory is an input error of file, unless said already, and is
 * not counted as validated. */
static void report_session_end(struct mc_report *rep, const char *file, const struct mc_session *s,
                               bool said)
{
    struct mc_origin at;
    bool stopped = mc_session_out_of_memory(s, &at);
    if (stopped && !said) {
        char msg[300];
        snprintf(msg, sizeof(msg), "out of memory: session %s not validated from here on",
                 mc_session_name(s));
        mc_report_input_error(rep, file, at.line, 0, msg);
    }
    mc_report_session(rep, mc_session_name(s), mc_session_proto(s), mc_session_validated(s) && !stopped,
                      mc_session_findings(s), mc_session_suppressed(s));
}

static void end_session(struct checker *k, struct live *l)
{
    if (!l->s)
        return;
    mc_session_finish(l->s);
    report_session_end(k->rep, k->file, l->s, l->abandoned);
    mc_session_free(l->s);
    l->s = NULL;
}

/* The session records go to; NULL when it could not be allocated (said
 * once, at the line that needed it: its records are skipped, the other
 * sessions and the report go on). */
static struct mc_session *current(struct checker *k, uint64_t line)
{
    struct live *l = &k->live[k->cur];
    if (!l->s && !l->abandoned) {
        l->closed[0] = l->closed[1] = false;
        enum mc_proto p = l->proto != MC_PROTO_UNKNOWN ? l->proto : k->default_proto;
        l->s = mc_session_new(l->name, p, mc_report_finding, k->rep);
        if (!l->s) {
            char msg[300];
            snprintf(msg, sizeof(msg), "out of memory: session %s not validated", l->name);
            mc_report_input_error(k->rep, k->file, line, 0, msg);
            l->abandoned = true;
            return NULL;
        }
        if (l->proto != MC_PROTO_UNKNOWN ? l->submission : k->default_submission)
            mc_session_set_submission(l->s);
        mc_session_set_policy(l->s, k->policy);
        if (l->imap_version || k->default_imap_version)
            mc_session_set_version(l->s, l->imap_version ? l->imap_version : k->default_imap_version);
    }
    return l->s;
}

/* The slot for session 'name': its own while it is open, otherwise a free
 * one: an ended session's, a new one, or past the bound the oldest open
 * session's, finished early (memory stays bounded on any input). */
static unsigned slot_for(struct checker *k, const char *name, uint64_t line)
{
    unsigned slot = MC_CLI_MAX_SESSIONS;
    for (unsigned i = 0; i < k->n_live; i++) {
        const struct live *l = &k->live[i];
        bool ended = l->closed[0] && l->closed[1];
        if (!ended && strcmp(l->name, name) == 0)
            return i;
        if (ended && slot == MC_CLI_MAX_SESSIONS)
            slot = i;
    }
    if (slot == MC_CLI_MAX_SESSIONS) {
        if (k->n_live < MC_CLI_MAX_SESSIONS) {
            slot = k->n_live++;
        } else {
            if (!k->overflow_said)
                fprintf(stderr, "mailconform: %s:%llu: more than %d sessions open at once; "
                        "finishing the oldest early\n", k->file, (unsigned long long)line,
                        MC_CLI_MAX_SESSIONS);
            k->overflow_said = true;
            slot = k->next_evict;
            k->next_evict = (k->next_evict + 1) % MC_CLI_MAX_SESSIONS;
        }
    }
    end_session(k, &k->live[slot]);
    memset(&k->live[slot], 0, sizeof(k->live[slot]));
    snprintf(k->live[slot].name, sizeof(k->live[slot].name), "%s", name);
    return slot;
}

static void ck_directive(void *ctx, const char *key, const char *value, uint64_t line)
{
    struct checker *k = ctx;
    if (strcmp(key, "session") == 0) {
        char name[160];
        snprintf(name, sizeof(name), "%s#%s", k->file, value);
        k->cur = slot_for(k, name, line);
    } else if (strcmp(key, "protocol") == 0) {
        enum mc_proto p;
        bool sub;
        if (!mc_cli_parse_proto(value, &p, &sub)) {
            char msg[200];
            snprintf(msg, sizeof(msg), "unsupported protocol '%s' (" MC_CLI_PROTOCOLS ")", value);
            mc_report_input_error(k->rep, k->file, line, 0, msg);
            return;
        }
        if (k->live[k->cur].s)
            mc_report_input_error(k->rep, k->file, line, 0, "'@ protocol' must come before the session's data");
        else {
            k->live[k->cur].proto = p;
            k->live[k->cur].submission = sub;
        }
    } else if (strcmp(key, "imap-version") == 0) {
        unsigned v;
        if (!mc_cli_parse_imap_version(value, &v))
            mc_report_input_error(k->rep, k->file, line, 0,
                                  "'@ imap-version' takes 2060, 3501, 9051 or auto");
        else if (k->live[k->cur].s)
            mc_report_input_error(k->rep, k->file, line, 0,
                                  "'@ imap-version' must come before the session's data");
        else
            k->live[k->cur].imap_version = v;
    }
    /* other directives (client, server, comments for people) are informative */
}

static void ck_data(void *ctx, enum mc_dir dir, const uint8_t *buf, size_t len, uint64_t line)
{
    struct mc_origin o = {0, line};
    struct mc_session *s = current(ctx, line);
    if (s)
        mc_session_data(s, dir, buf, len, &o);
}

static void ck_tls(void *ctx, bool decrypted, uint64_t line)
{
    struct mc_origin o = {0, line};
    struct mc_session *s = current(ctx, line);
    if (s)
        mc_session_tls(s, decrypted, &o);
}

static void ck_gap(void *ctx, enum mc_dir dir, uint64_t n, uint64_t line)
{
    struct mc_origin o = {0, line};
    struct mc_session *s = current(ctx, line);
    if (s)
        mc_session_gap(s, dir, n, &o);
}

static void ck_close(void *ctx, enum mc_dir dir, uint64_t line)
{
    struct checker *k = ctx;
    struct live *l = &k->live[k->cur];
    struct mc_origin o = {0, line};
    struct mc_session *s = current(k, line);
    if (s)
        mc_session_close(s, dir, &o);
    l->closed[dir] = true;
    if (l->closed[MC_DIR_C2S] && l->closed[MC_DIR_S2C])
        end_session(k, l);  /* both sides closed: report and free it now */
}

static void ck_error(void *ctx, uint64_t line, uint64_t col, const char *msg)
{
    struct checker *k = ctx;
    mc_report_input_error(k->rep, k->file, line, col, msg);
}

/* The reader stopped at line (reported through ck_error): the open
 * sessions stop there too, unjudged beyond it. */
static void ck_out_of_memory(void *ctx, uint64_t line)
{
    struct checker *k = ctx;
    struct mc_origin o = {0, line};
    for (unsigned i = 0; i < k->n_live; i++) {
        if (k->live[i].s) {
            mc_session_abandon(k->live[i].s, &o);
            k->live[i].abandoned = true;
        }
    }
}

/* stdin after its first octets were read to tell a capture from a
 * transcript: those octets first, then the rest of fd 0 (a pipe cannot be
 * rewound, and stdio promises to push back only one octet). */
struct prefixed_stdin {
    uint8_t pre[8];
    size_t n, at;
};

static ssize_t prefixed_read(void *cookie, char *buf, size_t size)
{
    struct prefixed_stdin *p = cookie;
    if (p->at < p->n) {
        size_t k = p->n - p->at < size ? p->n - p->at : size;
        memcpy(buf, p->pre + p->at, k);
        p->at += k;
        return (ssize_t)k;
    }
    for (;;) {
        ssize_t r = read(0, buf, size);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

/* Reads up to n octets of fd 0 (fewer only at its end). */
static size_t read_stdin(uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(0, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void capture_opts(struct mc_capture_opts *co, const struct mc_cli_opts *o)
{
    *co = o->capture;
    co->proto = o->proto;
    co->submission = o->submission;
    co->imap_version = o->imap_version;
    co->progress = isatty(2) && !o->quiet;
    co->policy = &o->policy;
}

/* The file starts with a pcap or pcapng magic; rewinds it. */
static bool is_capture(FILE *f)
{
    uint8_t magic[4];
    size_t n = fread(magic, 1, sizeof(magic), f);
    bool cap = mc_pcap_magic(magic, n);
    rewind(f);
    return cap;
}

static void check_file(struct mc_report *rep, const char *path, const struct mc_cli_opts *o)
{
    static struct checker k; /* large: kept off the stack */
    struct mc_transcript_handler h = {&k, ck_directive, ck_data, ck_tls, ck_gap, ck_close, ck_error,
                                      ck_out_of_memory};
    FILE *f;
    unsigned errors;

    memset(&k, 0, sizeof(k));
    k.rep = rep;
    k.file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    k.default_proto = o->proto;
    k.default_submission = o->submission;
    k.default_imap_version = o->imap_version;
    k.policy = &o->policy;
    k.n_live = 1;
    snprintf(k.live[0].name, sizeof(k.live[0].name), "%s", k.file);
    mc_report_input_begin(rep, k.file);

    if (strcmp(path, "-") == 0) {
        static struct prefixed_stdin pre;
        cookie_io_functions_t io = {prefixed_read, NULL, NULL, NULL};
        pre.n = read_stdin(pre.pre, 4);
        pre.at = 0;
        if (mc_pcap_magic(pre.pre, pre.n)) {
            struct mc_capture_opts co;
            capture_opts(&co, o);
            (void)mc_capture_check_fd_prefix(rep, 0, pre.pre, pre.n, k.file, &co);
            mc_report_input_end(rep);
            return;
        }
        f = fopencookie(&pre, "r", io);
    } else {
        f = fopen(path, "rb");
    }
    if (!f) {
        mc_report_input_error(rep, k.file, 0, 0, strerror(errno));
        mc_report_input_end(rep);
        return;
    }
    if (strcmp(path, "-") != 0 && is_capture(f)) {
        /* a pcap or pcapng file: the capture path reads it from the fd */
        struct mc_capture_opts co;
        capture_opts(&co, o);
        (void)mc_capture_check_fd(rep, fileno(f), k.file, &co);
        fclose(f);
        mc_report_input_end(rep);
        return;
    }
    errors = mc_transcript_read(f, &h);
    if (errors >= MC_TRANSCRIPT_MAX_ERRORS)
        mc_report_input_error(rep, k.file, 0, 0,
                              "too many malformed lines; stopped reading (is this a transcript?)");
    fclose(f);   /* a file, or the cookie stream over stdin (fd 0 stays open) */
    for (unsigned i = 0; i < k.n_live; i++)
        end_session(&k, &k.live[i]);
    mc_report_input_end(rep);
}

static int cmd_check(int argc, char **argv)
{
    static struct mc_cli_opts o;   /* the policy tables are large: kept off the stack */
    struct mc_report rep;
    /* the file names, gathered in place over the arguments already read
     * (file k goes to argv[1 + k], never past the one being read): no
     * allocation, so nothing to fail before the report has begun */
    char **files = argv + 1;
    int nfiles = 0, rc;

    mc_cli_opts_init(&o, true);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_check, stdout);
            return 0;
        }
    }
    if (mc_cli_load_config(&o, argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        bool handled;
        if (strcmp(argv[i], "--") == 0) {
            while (++i < argc)
                files[nfiles++] = argv[i];
            break;
        }
        if (mc_cli_common_opt(&o, argc, argv, &i, usage_check, &handled) != 0)
            return 2;
        if (handled)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return mc_cli_usage_error("unknown option", argv[i], usage_check);
        files[nfiles++] = argv[i];
    }
    if (nfiles == 0)
        return mc_cli_usage_error("no input files", NULL, usage_check);

    if (mc_cli_report_setup(&rep, &o, "check") != 0)
        return 2;
    mc_report_begin(&rep);
    for (int i = 0; i < nfiles; i++) {
        /* many inputs: which one is being read, on a terminal (a capture
         * shows its own progress within the file) */
        if (nfiles > 1 && !o.quiet && isatty(STDERR_FILENO))
            fprintf(stderr, "\r[%d/%d] %.60s\033[K", i + 1, nfiles, files[i]);
        check_file(&rep, files[i], &o);
    }
    if (nfiles > 1 && !o.quiet && isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    rc = mc_cli_report_finish(&rep);
    return rc;
}

/* ---- relay ------------------------------------------------------------- */

static void relay_session_end(void *ctx, const struct mc_session *s)
{
    report_session_end(ctx, "relay", s, false);
}

static int cmd_relay(int argc, char **argv)
{
    static struct mc_cli_opts o;
    struct mc_relay_opts ro;
    struct mc_report rep;
    char err[256] = "";
    int rc;
    bool check = false;

    memset(&ro, 0, sizeof(ro));
    ro.idle_timeout_ms = 300000;
    mc_cli_opts_init(&o, false);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_relay, stdout);
            return 0;
        }
    }
    if (mc_cli_load_config(&o, argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool handled;
        /* before the shared options: --keylog there is check's (an input) */
        if (strcmp(a, "--tls-cert") == 0 || strcmp(a, "--tls-key") == 0 ||
            strcmp(a, "--tls") == 0 || strcmp(a, "--tls-ca") == 0 ||
            strcmp(a, "--tls-servername") == 0 || strcmp(a, "--keylog") == 0) {
            const char *v;
            if (i + 1 >= argc)
                return mc_cli_usage_error("option needs a value", a, usage_relay);
            v = argv[++i];
            if (strcmp(a, "--tls-cert") == 0) ro.tls_cert = v;
            else if (strcmp(a, "--tls-key") == 0) ro.tls_key = v;
            else if (strcmp(a, "--tls-ca") == 0) ro.tls_ca = v;
            else if (strcmp(a, "--tls-servername") == 0) ro.tls_servername = v;
            else if (strcmp(a, "--keylog") == 0) ro.keylog = v;
            else if (strcmp(v, "implicit") == 0) ro.tls = MC_RELAY_TLS_IMPLICIT;
            else if (strcmp(v, "starttls") == 0) ro.tls = MC_RELAY_TLS_STARTTLS;
            else
                return mc_cli_usage_error("--tls takes starttls or implicit", v, usage_relay);
            continue;
        }
        if (strcmp(a, "--tls-insecure") == 0) {
            ro.tls_insecure = true;
            continue;
        }
        if (mc_cli_common_opt(&o, argc, argv, &i, usage_relay, &handled) != 0)
            return 2;
        if (handled)
            continue;
        if (strcmp(a, "--check") == 0) {
            check = true;
            continue;
        }
        if (strcmp(a, "--listen") == 0 || strcmp(a, "--to") == 0 || strcmp(a, "--record") == 0 ||
            strcmp(a, "--max-sessions") == 0 || strcmp(a, "--idle-timeout") == 0) {
            const char *v;
            if (i + 1 >= argc)
                return mc_cli_usage_error("option needs a value", a, usage_relay);
            v = argv[++i];
            if (strcmp(a, "--listen") == 0) ro.listen = v;
            else if (strcmp(a, "--to") == 0) ro.to = v;
            else if (strcmp(a, "--record") == 0) ro.record = v;
            else {
                char *end;
                unsigned long n = strtoul(v, &end, 10);
                if (*v == '\0' || *end != '\0' || n > 1000000)
                    return mc_cli_usage_error("expected a number", v, usage_relay);
                if (strcmp(a, "--max-sessions") == 0) ro.max_sessions = (unsigned)n;
                else ro.idle_timeout_ms = (unsigned)n * 1000u;
            }
            continue;
        }
        return mc_cli_usage_error("unknown option", a, usage_relay);
    }
    if (!ro.listen || !ro.to)
        return mc_cli_usage_error("--listen and --to are required", NULL, usage_relay);
    if (ro.tls_cert && ro.tls == MC_RELAY_TLS_OFF)
        ro.tls = MC_RELAY_TLS_STARTTLS;
    if ((ro.tls_cert || ro.tls_key || ro.tls != MC_RELAY_TLS_OFF) && (!ro.tls_cert || !ro.tls_key))
        return mc_cli_usage_error("terminating TLS needs both --tls-cert and --tls-key", NULL,
                                  usage_relay);
    if (ro.tls == MC_RELAY_TLS_OFF &&
        (ro.tls_ca || ro.tls_insecure || ro.tls_servername || ro.keylog))
        return mc_cli_usage_error(
            "--tls-ca, --tls-insecure, --tls-servername and --keylog need --tls-cert", NULL,
            usage_relay);
    if (!ro.record)
        check = true;

    if (mc_cli_report_setup(&rep, &o, "relay") != 0)
        return 2;
    ro.policy = &o.policy;
    ro.proto = o.proto;
    ro.submission = o.submission;
    ro.imap_version = o.imap_version;
    ro.check = check;
    ro.on_finding = mc_report_finding;
    ro.finding_ctx = &rep;
    ro.on_session_end = relay_session_end;
    ro.log = stderr;
    mc_report_begin(&rep);
    mc_report_input_begin(&rep, ro.record ? ro.record : "relay");
    rc = mc_relay_run(&ro, err, sizeof(err));
    if (rc != 0)
        mc_report_input_error(&rep, "relay", 0, 0, err[0] ? err : "relay failed");
    mc_report_input_end(&rep);
    return mc_cli_report_finish(&rep);
}

/* ---- rules ------------------------------------------------------------- */

static int cmd_rules(int argc, char **argv)
{
    const char *fmt = "text";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs("usage: mailconform rules [--format text|md|json]\n\n"
                  "Lists every rule: id, protocol, side at fault, RFC 2119 level, default\n"
                  "severity, RFC and section, summary. '--format md' writes docs/rules.md.\n",
                  stdout);
            return 0;
        }
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            fmt = argv[++i];
            if (strcmp(fmt, "text") && strcmp(fmt, "md") && strcmp(fmt, "json"))
                return mc_cli_usage_error("unknown format (text, md, json)", fmt, "usage: mailconform rules [--format text|md|json]\n");
            continue;
        }
        return mc_cli_usage_error("unknown option", argv[i], "usage: mailconform rules [--format text|md|json]\n");
    }
    mc_report_rules(stdout, fmt);
    return 0;
}

/* ---- explain ----------------------------------------------------------- */

static const char usage_explain[] =
    "usage: mailconform explain [--format text|md] RULE...\n"
    "\n"
    "Prints each RULE (an id such as SMTP.CLEARTEXT.PASSWORD, or a glob such as\n"
    "'POP3.STLS.*'): its RFC requirement and section, why it matters, a session\n"
    "that breaks it and the same session done right. The examples are real\n"
    "transcripts (docs/transcript.md); the test suite checks that the first makes\n"
    "the rule fire and the second is silent. 'mailconform rules' lists the ids.\n";

static int cmd_explain(int argc, char **argv)
{
    const char *fmt = "text";
    bool any = false;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_explain, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--format") == 0) {
            if (i + 1 >= argc)
                return mc_cli_usage_error("option needs a value", argv[i], usage_explain);
            fmt = argv[++i];
            if (strcmp(fmt, "text") != 0 && strcmp(fmt, "md") != 0)
                return mc_cli_usage_error("unknown format (text, md)", fmt, usage_explain);
        }
    }
    for (int i = 1; i < argc; i++) {
        struct mc_policy sel;
        char err[256];
        if (strcmp(argv[i], "--format") == 0) {
            i++;
            continue;
        }
        /* a glob or id, matched as --rules matches them */
        mc_policy_init(&sel);
        if (!mc_policy_rules(&sel, argv[i], err, sizeof(err)) || argv[i][0] == '-') {
            fprintf(stderr, "mailconform: %s\n", argv[i][0] == '-' ? "unknown option" : err);
            rc = 2;
            continue;
        }
        for (unsigned r = 0; r < MC_RULE_COUNT; r++) {
            if (sel.disabled[r])
                continue;
            if (any)
                fputs(strcmp(fmt, "md") == 0 ? "" : "\n", stdout);
            any = true;
            mc_report_explain(stdout, (enum mc_rule)r, fmt);
        }
    }
    if (!any && rc == 0)
        return mc_cli_usage_error("name a rule", NULL, usage_explain);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    if (!cmd)
        return mc_cli_usage_error("no command given", NULL, usage_main);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "probe") == 0)
        return mc_cmd_probe(argc - 1, argv + 1);
    if (strcmp(cmd, "relay") == 0)
        return cmd_relay(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0)) {
            fputs("usage: mailconform version\n\nPrints the version.\n", stdout);
            return 0;
        }
        printf("mailconform %s\n", MC_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    return mc_cli_usage_error("unknown command", cmd, usage_main);
}
