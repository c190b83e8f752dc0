/*
 * fuzz_transcript: the transcript reader and writers
 * (validator/transcript/transcript.c, format in docs/transcript.md).
 *
 * Input: the transcript text itself (no option bytes).
 *
 * Three passes:
 *   1. mc_transcript_read_mem() over the input. Every record is checked,
 *      logged, and written back with the mc_transcript_write_* function for
 *      its kind into an open_memstream() buffer.
 *   2. mc_transcript_read_mem() over what pass 1 wrote.
 *   3. mc_transcript_read() over the input through fmemopen().
 *
 * Oracles (abort() on failure):
 * - callbacks come in strictly increasing line order, at most one per line,
 *   and never past the last line of the input;
 * - data records are non-empty, no longer than the input, with a valid
 *   direction; gaps are positive; directive keys and values fit their limits;
 * - round trip: pass 2 reports no error and the same records as pass 1 (same
 *   kinds, directions, bytes, markers, counts, directive strings);
 * - pass 3 (the FILE reader) reports exactly what pass 1 (the memory reader)
 *   reported, records and errors, with the same line numbers.
 */
#define _POSIX_C_SOURCE 200809L

#include "fuzz_common.h"

#include <stdbool.h>

#include "transcript/transcript.h"

enum rec_kind { REC_DIRECTIVE = 1, REC_DATA, REC_TLS, REC_GAP, REC_CLOSE, REC_ERROR };

struct pass {
    struct fz_log content;   /* records without line numbers (round trip) */
    struct fz_log full;      /* records and errors with line numbers */
    FILE *out;               /* pass 1: where records are written back */
    uint64_t last_line;
    uint64_t max_line;       /* lines in the input */
    size_t input_len;
    unsigned errors;
};

FZ_ORACLE
static void saw_line(struct pass *p, uint64_t line)
{
    FZ_CHECK(line >= 1);
    FZ_CHECK(line > p->last_line);
    FZ_CHECK(line <= p->max_line);
    p->last_line = line;
    fz_log_u64(&p->full, line);
}

FZ_ORACLE
static void rec(struct pass *p, enum rec_kind k)
{
    fz_log_u64(&p->content, k);
    fz_log_u64(&p->full, k);
}

FZ_ORACLE
static void rec_u64(struct pass *p, uint64_t v)
{
    fz_log_u64(&p->content, v);
    fz_log_u64(&p->full, v);
}

FZ_ORACLE
static void rec_blob(struct pass *p, const void *b, size_t n)
{
    fz_log_blob(&p->content, b, n);
    fz_log_blob(&p->full, b, n);
}

FZ_ORACLE
static void check_dir(enum mc_dir d)
{
    FZ_CHECK(d == MC_DIR_C2S || d == MC_DIR_S2C);
}

FZ_ORACLE
static void on_directive(void *ctx, const char *key, const char *value, uint64_t line)
{
    struct pass *p = ctx;
    FZ_CHECK(key != NULL && value != NULL);
    size_t kl = strlen(key), vl = strlen(value);
    FZ_CHECK(kl < 64 && vl < 512);
    saw_line(p, line);
    rec(p, REC_DIRECTIVE);
    rec_blob(p, key, kl);
    rec_blob(p, value, vl);
    if (p->out)
        mc_transcript_write_directive(p->out, key, value);
}

FZ_ORACLE
static void on_data(void *ctx, enum mc_dir dir, const uint8_t *buf, size_t len, uint64_t line)
{
    struct pass *p = ctx;
    check_dir(dir);
    FZ_CHECK(buf != NULL && len > 0 && len <= p->input_len);
    saw_line(p, line);
    rec(p, REC_DATA);
    rec_u64(p, dir);
    rec_blob(p, buf, len);
    if (p->out)
        mc_transcript_write_data(p->out, dir, buf, len);
}

FZ_ORACLE
static void on_tls(void *ctx, bool decrypted, uint64_t line)
{
    struct pass *p = ctx;
    saw_line(p, line);
    rec(p, REC_TLS);
    rec_u64(p, decrypted);
    if (p->out)
        mc_transcript_write_tls(p->out, decrypted);
}

FZ_ORACLE
static void on_gap(void *ctx, enum mc_dir dir, uint64_t n, uint64_t line)
{
    struct pass *p = ctx;
    check_dir(dir);
    FZ_CHECK(n > 0 && n <= UINT64_MAX / 2);
    saw_line(p, line);
    rec(p, REC_GAP);
    rec_u64(p, dir);
    rec_u64(p, n);
    if (p->out)
        mc_transcript_write_gap(p->out, dir, n);
}

FZ_ORACLE
static void on_close(void *ctx, enum mc_dir dir, uint64_t line)
{
    struct pass *p = ctx;
    check_dir(dir);
    saw_line(p, line);
    rec(p, REC_CLOSE);
    rec_u64(p, dir);
    if (p->out)
        mc_transcript_write_close(p->out, dir);
}

FZ_ORACLE
static void on_error(void *ctx, uint64_t line, uint64_t col, const char *msg)
{
    struct pass *p = ctx;
    FZ_CHECK(msg != NULL && msg[0] != '\0');
    saw_line(p, line);
    p->errors++;
    fz_log_u64(&p->full, REC_ERROR);
    fz_log_u64(&p->full, col);
    fz_log_blob(&p->full, msg, strlen(msg));
}

FZ_ORACLE
static void pass_init(struct pass *p, struct mc_transcript_handler *h, const uint8_t *buf,
                      size_t len)
{
    memset(p, 0, sizeof(*p));
    p->input_len = len;
    p->max_line = 1;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n')
            p->max_line++;
    memset(h, 0, sizeof(*h));
    h->ctx = p;
    h->directive = on_directive;
    h->data = on_data;
    h->tls = on_tls;
    h->gap = on_gap;
    h->close = on_close;
    h->error = on_error;
}

static void pass_free(struct pass *p)
{
    fz_log_free(&p->content);
    fz_log_free(&p->full);
}

FZ_ORACLE
static void compare(const struct fz_log *a, const struct fz_log *b, const char *what)
{
    FZ_LOGS_AGREE(a, b, what, "record", "records differ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pass p1, p2, p3;
    struct mc_transcript_handler h1, h2, h3;
    char *written = NULL;
    size_t written_len = 0;
    unsigned rc;

    /* 1: the memory reader, writing every record back */
    pass_init(&p1, &h1, data, size);
    p1.out = open_memstream(&written, &written_len);
    FZ_CHECK(p1.out != NULL);
    rc = mc_transcript_read_mem(data, size, &h1);
    FZ_CHECK(rc == p1.errors);
    FZ_CHECK(rc <= MC_TRANSCRIPT_MAX_ERRORS);
    FZ_CHECK(fclose(p1.out) == 0);

    /* 2: read back what the writers produced */
    pass_init(&p2, &h2, (const uint8_t *)written, written_len);
    rc = mc_transcript_read_mem((const uint8_t *)written, written_len, &h2);
    if (rc != 0) {
        fprintf(stderr, "round trip: the written transcript has %u malformed lines:\n%.*s\n",
                rc, (int)(written_len < 2000 ? written_len : 2000), written);
        FZ_CHECK(!"written transcript reads back with errors");
    }
    compare(&p1.content, &p2.content, "round trip");

    /* 3: the FILE reader must agree with the memory reader */
    if (size > 0) {
        FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");
        FZ_CHECK(f != NULL);
        pass_init(&p3, &h3, data, size);
        rc = mc_transcript_read(f, &h3);
        fclose(f);
        FZ_CHECK(rc == p3.errors);
        compare(&p1.full, &p3.full, "mc_transcript_read vs mc_transcript_read_mem");
        pass_free(&p3);
    }

    free(written);
    pass_free(&p1);
    pass_free(&p2);
    return 0;
}
