/*
 * mailconform probe: connects to live servers in the eleven connection
 * modes, validates what they say, and prints the compatibility matrix
 * (validator/probe/, docs/probe.md).
 *
 * Exit status: 0 every cell works (or is not offered), 1 a finding at or
 * above --fail-on in some cell or a cell failed, 2 usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli_common.h"
#include "probe/probe.h"
#include "report/report_matrix.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mc_cmd_probe(int argc, char **argv);

static const char usage_probe[] =
    "usage: mailconform probe [options] HOST[:ADDR]...\n"
    "\n"
    "Connects to each HOST in each connection mode, runs a short conversation and active\n"
    "checks (STARTTLS command injection, a malformed command, an over-long line), validates\n"
    "everything the server sent, and prints the compatibility matrix: modes as rows, hosts\n"
    "as columns, a verdict per cell (works, works with warnings, non-conformant, not offered,\n"
    "failed: REASON). HOST is a name or an address ([::1] for IPv6); ':ADDR' connects to ADDR\n"
    "while HOST is still shown and used for SNI and the certificate name.\n"
    "\n"
    "options:\n"
    "  --modes LIST         comma-separated modes (default: all): POP3-Plain POP3-SSL POP3-TLS\n"
    "                       IMAP4-Plain IMAP4-SSL IMAP4-TLS SMTP-Plain SMTP-SSL\n"
    "                       SMTP-SUBMISSION-TLS SMTP-SUBMISSION-SSL SMTP-TLS (any case)\n"
    "  --port MODE=PORT     port of MODE; repeatable. Defaults 110, 995, 110, 143, 993, 143,\n"
    "                       25, 465, 587, 465, 25 in the order above\n"
    "  --targets FILE       more hosts, one per line ('#' starts a comment)\n"
    "  --timeout SECS       per step: connect, TLS handshake, each reply (default 10)\n"
    "  --jobs N             cells probed at once (default 4)\n"
    "  --ca FILE            trust the CA certificates in FILE (default: the system store)\n"
    "  --insecure           do not refuse a certificate that fails verification (still shown)\n"
    "  --servername NAME    SNI and certificate name (default: HOST)\n"
    "  --user NAME          log in as NAME (POP3 USER/PASS, IMAP LOGIN, submission AUTH PLAIN)\n"
    "  --password-env VAR   the password is in environment variable VAR\n"
    "  --password-file FILE the password is the first line of FILE\n"
    "  --allow-plaintext-auth\n"
    "                       log in even on an unencrypted channel (never done otherwise)\n"
    "  --send-test-message  SMTP: send one test message (needs --from and --to)\n"
    "  --from ADDR, --to ADDR\n"
    "                       envelope of the test message; --to is also the RCPT of the\n"
    "                       read-only check (default postmaster@HOST)\n"
    "  --record DIR         write one transcript per cell: DIR/<host>_<mode>.mct\n"
    "  --keylog FILE        append the TLS secrets of every connection (NSS key log format)\n"
    "  --pcap FILE          write every connection as pcapng (synthetic TCP framing, TLS\n"
    "                       secrets in a Decryption Secrets Block): Wireshark and `check` read it\n"
    "  --no-active-checks   leave out the injection, malformed-command and long-line checks\n"
    "  --format F           text (default: the matrix, then the findings), md (Markdown),\n"
    "                       json (one document, every cell), jsonl, sarif, junit\n"
    "  -h, --help           this help\n"
    "\n"
    "report options, as for check:\n" REPORT_OPTIONS_HELP "\n"
    "Exit status: 0 every cell works or is not offered, 1 findings at or above --fail-on or\n"
    "a failed cell, 2 usage error.\n";

enum probe_format { PF_TEXT, PF_MD, PF_JSON, PF_REPORT };

struct host_list {
    char **v;
    size_t n, cap;
};

enum host_added { HOST_ADDED, HOST_INVALID, HOST_NO_MEMORY };

static enum host_added hosts_add(struct host_list *h, const char *s)
{
    char name[256], addr[256];
    if (!mc_probe_target_parse(s, name, sizeof(name), addr, sizeof(addr)))
        return HOST_INVALID;
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 8;
        char **nv = realloc(h->v, ncap * sizeof(*nv));
        if (!nv)
            return HOST_NO_MEMORY;
        h->v = nv;
        h->cap = ncap;
    }
    if (!(h->v[h->n] = strdup(s)))
        return HOST_NO_MEMORY;
    h->n++;
    return HOST_ADDED;
}

/* A target on the command line that was not added: why, as a usage error
 * (exit status 2) */
static void host_not_added(enum host_added r, const char *s, const char *what)
{
    if (r == HOST_NO_MEMORY)
        fprintf(stderr, "mailconform: out of memory\n");
    else
        mc_cli_usage_error(what, s, usage_probe);
}

static void hosts_free(struct host_list *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    free(h->v);
}

static int read_targets(struct host_list *h, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    unsigned long lineno = 0;
    if (!f) {
        fprintf(stderr, "mailconform: %s: %s\n", path, strerror(errno));
        return 2;
    }
    while (fgets(line, sizeof(line), f)) {
        char *s = line, *e;
        lineno++;
        line[strcspn(line, "#\r\n")] = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (*s == '\0')
            continue;
        enum host_added r = hosts_add(h, s);
        if (r != HOST_ADDED) {
            fprintf(stderr, "mailconform: %s:%lu: %s: %s\n", path, lineno,
                    r == HOST_NO_MEMORY ? "out of memory for the target" : "not a target", s);
            fclose(f);
            return 2;
        }
    }
    fclose(f);
    return 0;
}

/* The first line of FILE, without its line end. */
static char *read_password_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f) {
        fprintf(stderr, "mailconform: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    return strdup(line);
}

static bool parse_timeout(const char *v, unsigned *ms)
{
    char *end;
    double s;
    errno = 0;
    s = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno || !(s > 0) || s > MC_PROBE_MAX_TIMEOUT)
        return false;
    *ms = (unsigned)(s * 1000.0 + 0.5);
    if (*ms == 0)
        *ms = 1;
    return true;
}

/* Findings the baseline already accepts leave the cell (and its verdict). */
static void apply_baseline(struct mc_report *rep, struct mc_probe_result *res)
{
    if (!rep->baseline)
        return;
    for (size_t i = 0; i < res->ncells; i++) {
        struct mc_probe_cell *c = &res->cells[i];
        size_t kept = 0;
        for (size_t k = 0; k < c->nfindings; k++) {
            struct mc_finding *f = &c->findings[k];
            if (mc_baseline_take(rep->baseline, mc_finding_fingerprint(f, c->input))) {
                c->by_sev[f->severity]--;
                rep->baselined++;
                continue;
            }
            c->findings[kept++] = *f;
        }
        c->nfindings = kept;
        c->verdict = mc_probe_verdict_of(c->outcome, c->by_sev[MC_SEV_ERROR],
                                         c->by_sev[MC_SEV_WARNING], c->by_sev[MC_SEV_NOTE]);
    }
}

/* Each cell through the report: its input, findings and sessions. */
static void replay(struct mc_report *rep, const struct mc_probe_result *res,
                   const struct mc_matrix_cell *mcells, bool jsonl_cells)
{
    for (size_t i = 0; i < res->ncells; i++) {
        const struct mc_probe_cell *c = &res->cells[i];
        mc_report_input_begin(rep, c->input);
        if (jsonl_cells)
            mc_report_matrix_jsonl_cell(rep->out, &mcells[i]);
        for (size_t k = 0; k < c->nfindings; k++)
            mc_report_finding(rep, &c->findings[k]);
        /* a cell that failed or was not offered is a JUnit error or skip,
         * a SARIF notification: on its main session, or on the cell
         * itself when it never got as far as a session */
        if (c->verdict == MC_VERDICT_FAILED || c->verdict == MC_VERDICT_NOT_OFFERED) {
            const char *name = c->session_used[0] ? c->session_names[0] : c->input;
            char why[300];
            snprintf(why, sizeof(why), "%s%s%s", mc_probe_verdict_name(c->verdict),
                     c->reason[0] ? ": " : "", c->reason);
            mc_report_session_note(rep, name, c->verdict == MC_VERDICT_FAILED, why);
            if (!c->session_used[0])
                mc_report_session(rep, name, mc_probe_mode_info(c->mode)->proto, false, 0, 0);
        }
        for (unsigned s = 0; s < 2; s++) {
            uint64_t n = 0;
            if (!c->session_used[s])
                continue;
            for (size_t k = 0; k < c->nfindings; k++)
                n += c->findings[k].session == c->session_names[s];
            mc_report_session(rep, c->session_names[s], mc_probe_mode_info(c->mode)->proto,
                              c->session_validated[s], n, c->suppressed[s]);
        }
        mc_report_input_end(rep);
    }
}

static int run(struct mc_cli_opts *co, struct mc_probe_opts *po, enum probe_format pf)
{
    struct mc_probe_result res;
    struct mc_report rep;
    struct mc_baseline *baseline;
    struct mc_matrix m;
    struct mc_matrix_cell *mcells;
    struct mc_matrix_tls *mtls;
    const char **hosts, **modes;
    FILE *sink = NULL;
    char err[512] = "";
    bool any_failed = false;
    int rc;

    if (pf == PF_MD || pf == PF_JSON)
        co->format = MC_FMT_JSONL; /* the report only counts; its output is dropped */
    if (mc_cli_report_setup(&rep, co, "probe") != 0)
        return 2;
    if (pf == PF_MD || pf == PF_JSON) {
        sink = fopen("/dev/null", "w");
        if (!sink) {
            fprintf(stderr, "mailconform: /dev/null: %s\n", strerror(errno));
            return 2;
        }
        rep.out = sink;
    }
    po->policy = &co->policy;
    po->imap_version = co->imap_version;
    if (mc_probe_run(po, &res, err, sizeof(err)) != 0) {
        fprintf(stderr, "mailconform: %s\n", err);
        if (sink)
            fclose(sink);
        return 2;
    }
    baseline = rep.baseline;
    apply_baseline(&rep, &res);
    rep.baseline = NULL; /* applied: replayed findings must not be taken twice */

    mcells = calloc(res.ncells ? res.ncells : 1, sizeof(*mcells));
    mtls = calloc(res.ncells ? res.ncells : 1, sizeof(*mtls));
    hosts = calloc(po->nhosts ? po->nhosts : 1, sizeof(*hosts));
    modes = calloc(MC_PROBE_MODES, sizeof(*modes));
    if (!mcells || !mtls || !hosts || !modes) {
        fprintf(stderr, "mailconform: out of memory\n");
        free(mcells), free(mtls), free(hosts), free(modes);
        mc_probe_result_free(&res);
        if (sink)
            fclose(sink);
        return 2;
    }
    for (size_t i = 0; i < res.ncells; i++) {
        const struct mc_probe_cell *c = &res.cells[i];
        struct mc_matrix_cell *mc = &mcells[i];
        mc->host = c->host_name;
        mc->mode = mc_probe_mode_info(c->mode)->name;
        mc->port = c->port;
        mc->verdict = mc_probe_verdict_name(c->verdict);
        mc->reason = c->verdict == MC_VERDICT_FAILED || c->verdict == MC_VERDICT_NOT_OFFERED
                         ? c->reason
                         : NULL;
        if (c->tls.present) {
            struct mc_matrix_tls *t = &mtls[i];
            t->version = c->tls.version;
            t->cipher = c->tls.cipher;
            t->subject = c->tls.subject;
            t->issuer = c->tls.issuer;
            t->not_after = c->tls.not_after;
            t->sni = c->tls.sni;
            t->verified = c->tls.verified;
            t->name_ok = c->tls.name_ok;
            mc->tls = t;
        }
        mc->errors = c->by_sev[MC_SEV_ERROR];
        mc->warnings = c->by_sev[MC_SEV_WARNING];
        mc->notes = c->by_sev[MC_SEV_NOTE];
        mc->transcript = c->transcript[0] ? c->transcript : NULL;
        mc->findings = c->findings;
        mc->nfindings = c->nfindings;
        if (c->verdict == MC_VERDICT_FAILED)
            any_failed = true;
        if (i < po->nhosts)
            hosts[i] = c->host_name;
        if (i % (po->nhosts ? po->nhosts : 1) == 0)
            modes[i / (po->nhosts ? po->nhosts : 1)] = mc->mode;
    }
    m.hosts = hosts;
    m.nhosts = po->nhosts;
    m.modes = modes;
    m.nmodes = res.nmodes_selected;
    m.cells = mcells;

    if (pf == PF_TEXT)
        mc_report_matrix_text(stdout, &m, rep.color);
    else if (pf == PF_MD)
        mc_report_matrix_md(stdout, &m);
    else if (pf == PF_JSON)
        mc_report_matrix_json(stdout, &m);
    fflush(stdout);
    mc_report_begin(&rep);
    replay(&rep, &res, mcells, pf == PF_REPORT && co->format == MC_FMT_JSONL);
    rep.baseline = baseline; /* freed by mc_cli_report_finish */
    rc = mc_cli_report_finish(&rep);
    if (rc == 0 && any_failed)
        rc = 1;
    if (res.output_error[0]) {
        /* the report is whole; the file the user asked for is not */
        fprintf(stderr, "mailconform: %s\n", res.output_error);
        rc = 2;
    }
    free(mcells);
    free(mtls);
    free(hosts);
    free(modes);
    mc_probe_result_free(&res);
    if (sink)
        fclose(sink);
    return rc;
}

/* Options of the probe that take a value. */
static const char *const probe_valued[] = {
    "--modes", "--port",       "--targets", "--timeout",      "--jobs",
    "--ca",    "--servername", "--user",    "--password-env", "--password-file",
    "--from",  "--to",         "--record",  "--keylog",        "--pcap",
};

static bool is_probe_valued(const char *a)
{
    for (size_t k = 0; k < sizeof(probe_valued) / sizeof(probe_valued[0]); k++)
        if (strcmp(a, probe_valued[k]) == 0)
            return true;
    return false;
}

static bool has_line_end(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

int mc_cmd_probe(int argc, char **argv)
{
    static struct mc_cli_opts co; /* the policy tables are large: kept off the stack */
    static struct mc_probe_opts po;
    struct host_list hosts = {NULL, 0, 0};
    enum probe_format pf = PF_TEXT;
    bool md = false;
    char *password = NULL, err[512];
    const char *password_env = NULL, *password_file = NULL;
    int rc = 2;

    mc_cli_opts_init(&co, false);
    mc_probe_opts_init(&po);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_probe, stdout);
            return 0;
        }
    }
    if (mc_cli_load_config(&co, argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool handled;
        if (strcmp(a, "--") == 0) {
            while (++i < argc) {
                enum host_added r = hosts_add(&hosts, argv[i]);
                if (r != HOST_ADDED) {
                    host_not_added(r, argv[i], "not a target");
                    goto out;
                }
            }
            break;
        }
        if (strcmp(a, "--format") == 0 && i + 1 < argc && strcmp(argv[i + 1], "md") == 0) {
            md = true;
            i++;
            continue;
        }
        if (strcmp(a, "--format") == 0)
            md = false;
        if (mc_cli_common_opt(&co, argc, argv, &i, usage_probe, &handled) != 0)
            goto out;
        if (handled)
            continue;
        if (strcmp(a, "--insecure") == 0) {
            po.insecure = true;
            continue;
        }
        if (strcmp(a, "--allow-plaintext-auth") == 0) {
            po.allow_plaintext_auth = true;
            continue;
        }
        if (strcmp(a, "--send-test-message") == 0) {
            po.send_test_message = true;
            continue;
        }
        if (strcmp(a, "--no-active-checks") == 0) {
            po.active_checks = false;
            continue;
        }
        if (!is_probe_valued(a)) {
            if (a[0] == '-' && a[1] != '\0') {
                mc_cli_usage_error("unknown option", a, usage_probe);
                goto out;
            }
            enum host_added r = hosts_add(&hosts, a);
            if (r != HOST_ADDED) {
                host_not_added(r, a, "not a target (HOST, HOST:ADDR, [v6])");
                goto out;
            }
            continue;
        }
        if (i + 1 >= argc) {
            mc_cli_usage_error("option needs a value", a, usage_probe);
            goto out;
        }
        v = argv[++i];
        if (strcmp(a, "--modes") == 0) {
            if (!mc_probe_modes_parse(v, po.modes, err, sizeof(err))) {
                mc_cli_usage_error(err, NULL, usage_probe);
                goto out;
            }
        } else if (strcmp(a, "--port") == 0) {
            if (!mc_probe_port_parse(v, po.ports, err, sizeof(err))) {
                mc_cli_usage_error(err, NULL, usage_probe);
                goto out;
            }
        } else if (strcmp(a, "--targets") == 0) {
            if (read_targets(&hosts, v) != 0)
                goto out;
        } else if (strcmp(a, "--timeout") == 0) {
            if (!parse_timeout(v, &po.timeout_ms)) {
                mc_cli_usage_error("--timeout takes seconds, more than 0 and at most 3600", v,
                                   usage_probe);
                goto out;
            }
        } else if (strcmp(a, "--jobs") == 0) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n == 0 || n > MC_PROBE_MAX_JOBS) {
                mc_cli_usage_error("--jobs takes a number from 1 to 64", v, usage_probe);
                goto out;
            }
            po.jobs = (unsigned)n;
        } else if (strcmp(a, "--ca") == 0) {
            po.ca_file = v;
        } else if (strcmp(a, "--servername") == 0) {
            po.servername = v;
        } else if (strcmp(a, "--user") == 0) {
            po.user = v;
        } else if (strcmp(a, "--password-env") == 0) {
            password_env = v;
        } else if (strcmp(a, "--password-file") == 0) {
            password_file = v;
        } else if (strcmp(a, "--from") == 0) {
            po.mail_from = v;
        } else if (strcmp(a, "--to") == 0) {
            po.rcpt_to = v;
        } else if (strcmp(a, "--record") == 0) {
            po.record_dir = v;
        } else if (strcmp(a, "--keylog") == 0) {
            po.keylog = v;
        } else if (strcmp(a, "--pcap") == 0) {
            po.pcap = v;
        }
    }
    if (hosts.n == 0) {
        mc_cli_usage_error("no hosts given", NULL, usage_probe);
        goto out;
    }
    if (password_env && password_file) {
        mc_cli_usage_error("--password-env and --password-file exclude each other", NULL,
                           usage_probe);
        goto out;
    }
    if (password_env) {
        const char *p = getenv(password_env);
        if (!p) {
            mc_cli_usage_error("--password-env: the variable is not set", password_env,
                               usage_probe);
            goto out;
        }
        password = strdup(p);
    } else if (password_file) {
        password = read_password_file(password_file);
        if (!password)
            goto out;
    }
    if (password && !po.user) {
        mc_cli_usage_error("a password needs --user", NULL, usage_probe);
        goto out;
    }
    if (po.user && !password) {
        mc_cli_usage_error("--user needs --password-env or --password-file", NULL, usage_probe);
        goto out;
    }
    if ((po.user && has_line_end(po.user)) || (password && has_line_end(password)) ||
        (po.mail_from && (has_line_end(po.mail_from) || strpbrk(po.mail_from, "<>"))) ||
        (po.rcpt_to && (has_line_end(po.rcpt_to) || strpbrk(po.rcpt_to, "<>")))) {
        mc_cli_usage_error("user, password and addresses may not hold line ends or angle brackets",
                           NULL, usage_probe);
        goto out;
    }
    if (po.send_test_message && (!po.mail_from || !po.rcpt_to)) {
        mc_cli_usage_error("--send-test-message needs --from and --to", NULL, usage_probe);
        goto out;
    }
    po.password = password;
    po.hosts = hosts.v;
    po.nhosts = hosts.n;
    if (md)
        pf = PF_MD;
    else if (co.format == MC_FMT_TEXT)
        pf = PF_TEXT;
    else if (co.format == MC_FMT_JSON)
        pf = PF_JSON;
    else
        pf = PF_REPORT;
    rc = run(&co, &po, pf);
out:
    hosts_free(&hosts);
    free(password);
    return rc;
}
