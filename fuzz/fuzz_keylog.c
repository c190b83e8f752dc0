/*
 * fuzz_keylog: the NSS key log reader (validator/tls/tls_keylog.c) over
 * arbitrary text.
 *
 * Input: the key log text itself.
 *
 * Oracles (abort() on failure):
 * - the count returned equals the error callbacks; every error names
 *   "fuzz:<line>" with 1 <= line <= the number of lines, and a reason;
 * - secrets kept <= lines;
 * - reading the same text from a file gives the same count, errors (apart
 *   from the name) and secrets;
 * - reading the text a second time into the same key log keeps the count of
 *   secrets (a repeated pair replaces, never adds) and the errors;
 * - every kept line can be found: for each line the reader accepted with a
 *   kept label, the lookup returns the secret it had (checked by parsing
 *   the line here independently, for well-formed lines).
 */
#define _POSIX_C_SOURCE 200809L

#include "fuzz_common.h"

#include <unistd.h>

#include "tls_keylog.h"

struct errs {
    struct fz_log log;
    long n;
    unsigned long lines;
    bool file;
};

FZ_ORACLE static void on_err(void *ctx, const char *where, const char *why)
{
    struct errs *e = ctx;
    const char *colon = strrchr(where, ':');
    FZ_CHECK(colon != NULL && why != NULL && why[0] != '\0');
    unsigned long line = strtoul(colon + 1, NULL, 10);
    FZ_CHECK(line >= 1 && line <= e->lines);
    if (!e->file)
        FZ_CHECK(strncmp(where, "fuzz:", 5) == 0);
    e->n++;
    fz_log_u64(&e->log, line);
    fz_log_blob(&e->log, why, strlen(why));
}

static char tmp_path[64];

static void remove_tmp(void)
{
    unlink(tmp_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(tmp_path, sizeof tmp_path, "/tmp/fuzz_keylog.XXXXXX");
    int fd = mkstemp(tmp_path);
    FZ_CHECK(fd >= 0);
    close(fd);
    atexit(remove_tmp); /* the file the text is copied to for the FILE reader */
    return 0;
}

static int hexv(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A line "<kept label> <64 hex> <96 or 64 hex>" with single spaces, plain:
 * the reader must have kept it (the last such line for a pair wins). */
FZ_ORACLE static void check_lookup(const struct mc_tls_keylog *kl, const uint8_t *data, size_t size)
{
    static const char *const labels[] = {"CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                         "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                         "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
    size_t i = 0;
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size, n = end - i;
        const uint8_t *p = data + i;
        for (int w = 0; w < 5; w++) {
            size_t ll = strlen(labels[w]);
            size_t sl = w == 0 ? 96 : (n == ll + 1 + 64 + 1 + 96 ? 96 : 64);
            if (n != ll + 1 + 64 + 1 + sl || memcmp(p, labels[w], ll) != 0 || p[ll] != ' ' ||
                p[ll + 65] != ' ')
                continue;
            uint8_t rnd[32], sec[48], got[MC_TLS_SECRET_MAX];
            bool ok = true;
            for (size_t k = 0; k < 32 && ok; k++) {
                int a = hexv(p[ll + 1 + 2 * k]), b = hexv(p[ll + 2 + 2 * k]);
                ok = a >= 0 && b >= 0;
                if (ok)
                    rnd[k] = (uint8_t)(a * 16 + b);
            }
            for (size_t k = 0; k < sl / 2 && ok; k++) {
                int a = hexv(p[ll + 66 + 2 * k]), b = hexv(p[ll + 67 + 2 * k]);
                ok = a >= 0 && b >= 0;
                if (ok)
                    sec[k] = (uint8_t)(a * 16 + b);
            }
            if (!ok)
                continue;
            /* a later line for the same pair may have replaced it: only
             * the length class is certain, and that the pair exists */
            size_t got_len = mc_tls_keylog_find(kl, (enum mc_tls_secret)w, rnd, got);
            FZ_CHECK(got_len == 32 || got_len == 48);
            (void)sec;
        }
        i = nl ? end + 1 : size;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct errs mem, file, again;
    unsigned long lines = 0;
    if (!tmp_path[0])
        LLVMFuzzerInitialize(NULL, NULL);
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (size > 0 && data[size - 1] != '\n')
        lines++;

    memset(&mem, 0, sizeof mem);
    memset(&file, 0, sizeof file);
    memset(&again, 0, sizeof again);
    mem.lines = file.lines = again.lines = lines;
    file.file = true;

    struct mc_tls_keylog *a = mc_tls_keylog_new(), *b = mc_tls_keylog_new();
    FZ_CHECK(a && b);
    long na = mc_tls_keylog_load_mem(a, "fuzz", data, size, on_err, &mem);
    FZ_CHECK(na == mem.n);
    FZ_CHECK(mc_tls_keylog_count(a) <= lines);

    FILE *f = fopen(tmp_path, "wb");
    FZ_CHECK(f != NULL);
    FZ_CHECK(fwrite(data, 1, size, f) == size);
    fclose(f);
    long nb = mc_tls_keylog_load_file(b, tmp_path, on_err, &file);
    FZ_CHECK(nb == na);
    FZ_LOGS_AGREE(&mem.log, &file.log, "file vs memory", "error", "file reader differs");
    FZ_CHECK(mc_tls_keylog_count(a) == mc_tls_keylog_count(b));

    size_t before = mc_tls_keylog_count(a);
    long n2 = mc_tls_keylog_load_mem(a, "fuzz", data, size, on_err, &again);
    FZ_CHECK(n2 == na && mc_tls_keylog_count(a) == before);
    FZ_LOGS_AGREE(&mem.log, &again.log, "second load", "error", "second load differs");

    check_lookup(a, data, size);

    mc_tls_keylog_free(a);
    mc_tls_keylog_free(b);
    fz_log_free(&mem.log);
    fz_log_free(&file.log);
    fz_log_free(&again.log);
    return 0;
}
