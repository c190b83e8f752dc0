/* Options, configuration file and report set-up shared by the commands. */
#include "cli_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mc_cli_opts_init(struct mc_cli_opts *o, bool is_check)
{
    memset(o, 0, sizeof(*o));
    o->format = MC_FMT_TEXT;
    o->fail_on = MC_SEV_ERROR;
    o->proto = MC_PROTO_UNKNOWN;
    o->color = -1;
    o->is_check = is_check;
    mc_policy_init(&o->policy);
}

int mc_cli_usage_error(const char *msg, const char *arg, const char *usage)
{
    fprintf(stderr, "mailconform: %s%s%s\n\n%s", msg, arg ? ": " : "", arg ? arg : "", usage);
    return 2;
}

/* --imap-version and '@ imap-version': 2060, 3501, 9051 or auto (0). */
bool mc_cli_parse_imap_version(const char *s, unsigned *out)
{
    static const char *const names[] = {"auto", "2060", "3501", "9051"};
    static const unsigned values[] = {0, 2060, 3501, 9051};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = values[i];
            return true;
        }
    }
    return false;
}

bool mc_cli_parse_proto(const char *s, enum mc_proto *out, bool *submission)
{
    *submission = false;
    if (strcmp(s, "pop3") == 0) {
        *out = MC_PROTO_POP3;
        return true;
    }
    if (strcmp(s, "imap") == 0) {
        *out = MC_PROTO_IMAP;
        return true;
    }
    if (strcmp(s, "smtp") == 0 || strcmp(s, "submission") == 0) {
        *out = MC_PROTO_SMTP;
        *submission = s[1] == 'u';
        return true;
    }
    return false;
}

static bool want_color(const struct mc_cli_opts *o);

/* Options that take a value, shared by check and relay (and the
 * configuration file). */
static const char *const valued_opts[] = {
    "--format", "--fail-on", "--protocol", "--color", "--imap-version", "--rules", "--severity",
    "--baseline", "--write-baseline", "--port", "--max-flows", "--keylog",
    "--jobs", "-j",
};

/* Options only check takes (they concern captures); relay ignores them in
 * the configuration file and does not know them on its command line. */
static bool check_only_opt(const char *a)
{
    return strcmp(a, "--port") == 0 || strcmp(a, "--max-flows") == 0 || strcmp(a, "--keylog") == 0 ||
           strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0;
}

static bool is_valued_opt(const char *a)
{
    for (size_t k = 0; k < sizeof(valued_opts) / sizeof(valued_opts[0]); k++)
        if (strcmp(a, valued_opts[k]) == 0)
            return true;
    return false;
}

/* Applies option a with value v (NULL for flags). Returns NULL, or what is
 * wrong with it (static or in err). */
static const char *apply_opt(struct mc_cli_opts *o, const char *a, const char *v, char *err, size_t errlen)
{
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        o->quiet = true;
        return NULL;
    }
    if (strcmp(a, "--format") == 0)
        return mc_format_parse(v, &o->format) ? NULL : "unknown format (text, json, jsonl, sarif, junit)";
    if (strcmp(a, "--fail-on") == 0)
        return mc_severity_parse(v, &o->fail_on) ? NULL : "unknown severity (error, warning, note)";
    if (strcmp(a, "--protocol") == 0)
        return mc_cli_parse_proto(v, &o->proto, &o->submission) ? NULL
                                                          : "unsupported protocol (" MC_CLI_PROTOCOLS ")";
    if (strcmp(a, "--imap-version") == 0)
        return mc_cli_parse_imap_version(v, &o->imap_version) ? NULL : "--imap-version takes 2060, 3501, 9051 or auto";
    if (strcmp(a, "--color") == 0) {
        if (strcmp(v, "auto") == 0) o->color = -1;
        else if (strcmp(v, "always") == 0) o->color = 1;
        else if (strcmp(v, "never") == 0) o->color = 0;
        else return "--color takes auto, always or never";
        return NULL;
    }
    if (strcmp(a, "--rules") == 0)
        return mc_policy_rules(&o->policy, v, err, errlen) ? NULL : err;
    if (strcmp(a, "--severity") == 0)
        return mc_policy_severity(&o->policy, v, err, errlen) ? NULL : err;
    if (strcmp(a, "--baseline") == 0 || strcmp(a, "--write-baseline") == 0) {
        /* copied: a value from the configuration file lives in a line
         * buffer that the next line overwrites */
        static char paths[2][4096];
        bool write = strcmp(a, "--write-baseline") == 0;
        if (strlen(v) >= sizeof(paths[0]))
            return "the path is too long";
        memcpy(paths[write], v, strlen(v) + 1);
        if (write)
            o->write_baseline = paths[1];
        else
            o->baseline = paths[0];
        return NULL;
    }
    if (strcmp(a, "--max-flows") == 0) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*v == '\0' || *end || n == 0 || n > 1000000)
            return "--max-flows takes a number from 1 to 1000000";
        o->capture.max_flows = (unsigned)n;
        return NULL;
    }
    if (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*v == '\0' || *end || n == 0 || n > MC_CAPTURE_JOBS_MAX)
            return "--jobs takes a number from 1 to 64";
        o->capture.jobs = (unsigned)n;
        return NULL;
    }
    if (strcmp(a, "--port") == 0) {
        const char *why;
        return mc_capture_add_port(&o->capture, v, &why) ? NULL : why;
    }
    if (strcmp(a, "--keylog") == 0) {
        /* copied: a value from the configuration file lives in a line
         * buffer that the next line overwrites */
        static char paths[MC_CAPTURE_KEYLOGS_MAX][4096];
        unsigned k = o->capture.n_keylogs;
        if (k >= MC_CAPTURE_KEYLOGS_MAX)
            return "--keylog: too many key logs";
        if (strlen(v) >= sizeof(paths[k]))
            return "--keylog: the path is too long";
        memcpy(paths[k], v, strlen(v) + 1);
        o->capture.keylogs[o->capture.n_keylogs++] = paths[k];
        return NULL;
    }
    return "unknown option";
}

/* Parses one shared option at argv[*i]; returns 0 (also when it is not
 * one: *handled false), or 2 after a message. *i is advanced past a value. */
int mc_cli_common_opt(struct mc_cli_opts *o, int argc, char **argv, int *i, const char *usage, bool *handled)
{
    const char *a = argv[*i], *v = NULL, *why;
    char err[256];
    *handled = false;
    if (strcmp(a, "--config") == 0) {     /* read before everything else */
        *handled = true;
        ++*i;
        return 0;
    }
    if (strcmp(a, "--no-config") == 0) {
        *handled = true;
        return 0;
    }
    if (!is_valued_opt(a) && strcmp(a, "-q") != 0 && strcmp(a, "--quiet") != 0)
        return 0;
    if (check_only_opt(a) && !o->is_check)
        return 0;   /* capture options: unknown to relay */
    *handled = true;
    if (is_valued_opt(a)) {
        if (*i + 1 >= argc)
            return mc_cli_usage_error("option needs a value", a, usage);
        v = argv[++*i];
    }
    why = apply_opt(o, a, v, err, sizeof(err));
    if (why == err) {   /* a sentence that names the value already */
        fprintf(stderr, "mailconform: %s\n", err);
        return 2;
    }
    return why ? mc_cli_usage_error(why, v, usage) : 0;
}

/* The configuration file: the shared options, one per line, without their
 * dashes ("fail-on = warning", "rules = -IMAP.ID.*", "quiet"); '#' starts a
 * comment line. Read before the command line, which therefore wins for
 * single-valued options and adds to the repeatable ones. Options that do
 * not apply to the command (port, max-flows for relay) are ignored. An
 * explicit --config FILE must exist; ./.mailconform.conf is read if present.
 * Returns 0 or 2 after a message naming the file and line. */
#define MC_CONFIG_DEFAULT ".mailconform.conf"

int mc_cli_load_config(struct mc_cli_opts *o, int argc, char **argv)
{
    const char *path = MC_CONFIG_DEFAULT;
    bool explicit = false;
    FILE *f;
    char line[4096];
    unsigned long lineno = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--no-config") == 0)
            return 0;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
            explicit = true;
        } else if (is_valued_opt(argv[i])) {
            i++;
        }
    }
    f = fopen(path, "r");
    if (!f) {
        if (!explicit && errno == ENOENT)
            return 0;
        fprintf(stderr, "mailconform: %s: cannot read the configuration: %s\n", path, strerror(errno));
        return 2;
    }
    while (fgets(line, sizeof(line), f)) {
        char opt[64], err[256], *key = line, *val, *end;
        const char *why;
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        while (*key == ' ' || *key == '\t')
            key++;
        if (*key == '#' || *key == '\0')
            continue;
        val = strchr(key, '=');
        if (val) {
            *val++ = '\0';
            while (*val == ' ' || *val == '\t')
                val++;
        }
        end = key + strlen(key);
        while (end > key && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (strlen(key) > sizeof(opt) - 3)
            key[sizeof(opt) - 3] = '\0';   /* too long for any option: reported as unknown */
        memcpy(opt, "--", 2);
        memcpy(opt + 2, key, strlen(key) + 1);
        if (strcmp(opt, "--config") == 0 || strcmp(opt, "--no-config") == 0) {
            why = "the configuration cannot name another one";
        } else if (is_valued_opt(opt) != (val != NULL) && strcmp(opt, "--quiet") != 0) {
            why = val ? "this option takes no value" : "this option needs a value ('key = value')";
            if (!is_valued_opt(opt))
                why = "unknown option";
        } else if (check_only_opt(opt) && !o->is_check) {
            continue;
        } else if (strcmp(opt, "--quiet") == 0 && val) {
            why = "quiet takes no value";
        } else {
            why = apply_opt(o, opt, val, err, sizeof(err));
        }
        if (why) {
            fprintf(stderr, "mailconform: %s:%lu: %s: %s\n", path, lineno, key, why);
            rc = 2;
        }
    }
    fclose(f);
    return rc;
}

/* Sets up the report for the options: policy, baseline, colour. Returns 0
 * or 2 after a message. */
int mc_cli_report_setup(struct mc_report *rep, struct mc_cli_opts *o, const char *command)
{
    char err[512];
    mc_report_init(rep, stdout, o->format, o->fail_on);
    rep->color = want_color(o);
    rep->quiet = o->quiet;
    rep->policy = &o->policy;
    rep->command = command;
    rep->version = MC_VERSION;
    if (o->baseline && !(rep->baseline = mc_baseline_load(o->baseline, err, sizeof(err)))) {
        fprintf(stderr, "mailconform: %s\n", err);
        return 2;
    }
    if (o->write_baseline && !(rep->write_baseline = fopen(o->write_baseline, "w"))) {
        fprintf(stderr, "mailconform: %s: cannot write the baseline: %s\n", o->write_baseline,
                strerror(errno));
        mc_baseline_free(rep->baseline);
        return 2;
    }
    return 0;
}

/* Ends the report; returns the exit status. */
int mc_cli_report_finish(struct mc_report *rep)
{
    int rc;
    mc_report_end(rep);
    rc = mc_report_exit_code(rep);
    mc_baseline_free(rep->baseline);
    rep->baseline = NULL;
    if (rep->write_baseline && fclose(rep->write_baseline) != 0) {
        fprintf(stderr, "mailconform: cannot write the baseline: %s\n", strerror(errno));
        rc = 2;
    }
    rep->write_baseline = NULL;
    return rc;
}

static bool want_color(const struct mc_cli_opts *o)
{
    if (o->color >= 0)
        return o->color == 1;
    return getenv("NO_COLOR") == NULL && isatty(STDOUT_FILENO);
}