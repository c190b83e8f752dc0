/*
 * Engine-free driver: runs a harness's LLVMFuzzerTestOneInput once over every
 * file named on the command line, walking into directories (sorted, so runs
 * are reproducible) and skipping dot-entries, so an AFL++ queue/ with its
 * .state/ works as input. Each file is copied into a malloc buffer of exactly
 * its size, so ASan catches a read past the end. Built with any compiler;
 * with -DMC_SANITIZE=ON it is the corpus-regression test that ctest runs.
 *
 *   replay_fuzz_pop3_resp corpus/pop3_resp [more files or directories]
 *
 * Exit status: 0 when every input ran; 1 when a named path is missing or a
 * file cannot be read (a crash or oracle failure aborts the process).
 *
 * An input that runs longer than REPLAY_TIMEOUT seconds (environment; default
 * 60, 0 = no limit) aborts the replay too: fuzz/campaign files the engines'
 * timeouts as regression inputs, and ctest must fail on them rather than hang
 * until its own limit. The default is far above any seed's time even under
 * gcc -O0 with ASan (milliseconds) and far below ctest's.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* Present when linked with ASan (gcc or clang): runs before a sanitizer exits. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static unsigned long replayed;
static int failures;
static const char *current;   /* the input being run, for crash messages */

/* Names the input that crashed; async-signal-safe (write only). */
static void say_current(void)
{
    static const char pre[] = "replay: crashed on input ";
    if (!current)
        return;
    if (write(2, pre, sizeof(pre) - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0)
        return;
}

static unsigned input_timeout = 60;

static void on_alarm(int sig)
{
    static const char msg[] = "replay: timeout (REPLAY_TIMEOUT exceeded)\n";
    (void)sig;
    if (write(2, msg, sizeof(msg) - 1) < 0)
        return;
    abort();   /* on_abort names the input */
}

static void on_abort(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, nc);
            if (!nb) {
                fprintf(stderr, "replay: %s: out of memory\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);

    /* Exact-size copy: the byte after the input is outside the allocation. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        free(buf);
        return -1;
    }
    if (n)
        memcpy(exact, buf, n);
    free(buf);
    current = path;
    alarm(input_timeout);
    LLVMFuzzerTestOneInput(exact, n);
    alarm(0);
    current = NULL;
    free(exact);
    replayed++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, int top)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (!top && !S_ISREG(st.st_mode))
            return 0; /* sockets, fifos found while walking */
        return run_file(path);
    }

    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof(*names));
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t pl = strlen(path), el = strlen(e->d_name);
        char *full = malloc(pl + 1 + el + 1);
        if (!full) {
            rc = -1;
            break;
        }
        memcpy(full, path, pl);
        full[pl] = '/';
        memcpy(full + pl + 1, e->d_name, el + 1);
        names[n++] = full;
    }
    closedir(d);
    if (rc != 0)
        fprintf(stderr, "replay: %s: out of memory\n", path);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        if (run_path(names[i], 0) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGABRT, on_abort);
    signal(SIGALRM, on_alarm);
    const char *t = getenv("REPLAY_TIMEOUT");
    if (t && *t) {
        char *end;
        unsigned long v = strtoul(t, &end, 10);
        if (*end == '\0' && v <= 86400)
            input_timeout = (unsigned)v;
    }
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(say_current);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (run_path(argv[i], 1) != 0)
            failures++;
    }
    printf("replayed %lu inputs\n", replayed);
    return failures ? 1 : 0;
}
