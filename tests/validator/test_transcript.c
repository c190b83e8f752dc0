/*
 * Transcript reader and writer (validator/transcript, docs/transcript.md).
 *
 * Every reader callback is turned into one text line of an event log, so a
 * test states the whole expected outcome in one string:
 *
 *   3 D C "USER a\r\n"       line 3: a client chunk
 *   5 T decrypted            line 5: '! tls decrypted'
 *   6 G C 10                 line 6: '! gap C 10'
 *   7 X S                    line 7: '! close S'
 *   2 @ protocol=pop3        line 2: a directive
 *   9:4 E                    line 9, column 4: a malformed line
 *
 * Data bytes are printed escaped (\r \n \t \\ \xHH), so logs stay readable.
 */
#define _GNU_SOURCE /* fopencookie, fmemopen */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "transcript/transcript.h"

/* ---- event log --------------------------------------------------------- */

struct log {
    char *buf;
    size_t len, cap;
    unsigned errors;         /* error() calls */
    unsigned data_events;
    /* raw data of all chunks, for the round-trip tests */
    uint8_t *raw;
    size_t raw_len, raw_cap;
    size_t chunk_len[1024];
    unsigned chunks;
};

static void log_free(struct log *l)
{
    free(l->buf);
    free(l->raw);
    memset(l, 0, sizeof(*l));
}

static void logf_(struct log *l, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (l->len + (size_t)n + 1 > l->cap) {
        size_t cap = (l->cap ? l->cap * 2 : 256) + (size_t)n;
        l->buf = realloc(l->buf, cap);
        assert_non_null(l->buf);
        l->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(l->buf + l->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    l->len += (size_t)n;
}

static const char *log_str(const struct log *l)
{
    return l->buf ? l->buf : "";
}

static void log_bytes(struct log *l, const uint8_t *p, size_t n)
{
    /* Huge chunks (the line-limit tests) are summarised, not printed. */
    if (n > 256) {
        logf_(l, "<%zu bytes>", n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\r') logf_(l, "\\r");
        else if (c == '\n') logf_(l, "\\n");
        else if (c == '\t') logf_(l, "\\t");
        else if (c == '\\') logf_(l, "\\\\");
        else if (c == '"') logf_(l, "\\\"");
        else if (c >= 0x20 && c < 0x7f) logf_(l, "%c", c);
        else logf_(l, "\\x%02x", c);
    }
}

static char dirc(enum mc_dir d)
{
    return d == MC_DIR_C2S ? 'C' : 'S';
}

static void on_directive(void *ctx, const char *key, const char *value, uint64_t line)
{
    logf_(ctx, "%llu @ %s=%s\n", (unsigned long long)line, key, value);
}

static void on_data(void *ctx, enum mc_dir dir, const uint8_t *buf, size_t len, uint64_t line)
{
    struct log *l = ctx;
    logf_(l, "%llu D %c \"", (unsigned long long)line, dirc(dir));
    log_bytes(l, buf, len);
    logf_(l, "\"\n");
    l->data_events++;
    if (l->raw_len + len > l->raw_cap) {
        size_t cap = (l->raw_cap ? l->raw_cap * 2 : 1024) + len;
        l->raw = realloc(l->raw, cap);
        assert_non_null(l->raw);
        l->raw_cap = cap;
    }
    memcpy(l->raw + l->raw_len, buf, len);
    l->raw_len += len;
    if (l->chunks < sizeof(l->chunk_len) / sizeof(l->chunk_len[0]))
        l->chunk_len[l->chunks] = len;
    l->chunks++;
}

static void on_tls(void *ctx, bool decrypted, uint64_t line)
{
    logf_(ctx, "%llu T%s\n", (unsigned long long)line, decrypted ? " decrypted" : "");
}

static void on_gap(void *ctx, enum mc_dir dir, uint64_t n, uint64_t line)
{
    logf_(ctx, "%llu G %c %llu\n", (unsigned long long)line, dirc(dir), (unsigned long long)n);
}

static void on_close(void *ctx, enum mc_dir dir, uint64_t line)
{
    logf_(ctx, "%llu X %c\n", (unsigned long long)line, dirc(dir));
}

static void on_error(void *ctx, uint64_t line, uint64_t col, const char *msg)
{
    struct log *l = ctx;
    assert_non_null(msg);
    assert_true(msg[0] != '\0');
    logf_(l, "%llu:%llu E\n", (unsigned long long)line, (unsigned long long)col);
    l->errors++;
}

static struct mc_transcript_handler handler(struct log *l)
{
    struct mc_transcript_handler h = {
        .ctx = l,
        .directive = on_directive,
        .data = on_data,
        .tls = on_tls,
        .gap = on_gap,
        .close = on_close,
        .error = on_error,
    };
    return h;
}

/* Reads len bytes with mc_transcript_read_mem. */
static unsigned read_mem(const void *buf, size_t len, struct log *l)
{
    struct mc_transcript_handler h = handler(l);
    return mc_transcript_read_mem(buf, len, &h);
}

/* The same bytes through a real FILE (tmpfile), with mc_transcript_read. */
static unsigned read_file(const void *buf, size_t len, struct log *l)
{
    struct mc_transcript_handler h = handler(l);
    FILE *f = tmpfile();
    unsigned n;
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(buf, 1, len, f), len);
    rewind(f);
    n = mc_transcript_read(f, &h);
    fclose(f);
    return n;
}

/* The same bytes through fmemopen (no file system involved). */
static unsigned read_fmem(const void *buf, size_t len, struct log *l)
{
    struct mc_transcript_handler h = handler(l);
    FILE *f;
    unsigned n;
    if (len == 0)
        return read_file(buf, len, l); /* fmemopen refuses size 0 on older glibc */
    f = fmemopen((void *)buf, len, "r");
    assert_non_null(f);
    n = mc_transcript_read(f, &h);
    fclose(f);
    return n;
}

/* Replaces every "\n" with "\r\n": the same transcript saved with CRLF. */
static char *to_crlf(const char *s, size_t *len_out)
{
    size_t n = strlen(s), o = 0;
    char *d = malloc(2 * n + 1);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            d[o++] = '\r';
        d[o++] = s[i];
    }
    d[o] = '\0';
    *len_out = o;
    return d;
}

/* Reads text with all three readers, LF and CRLF; every log must equal want
 * and the return value must equal the number of error lines. */
static void check_all_readers(const char *text, const char *want, unsigned want_errors)
{
    size_t crlf_len;
    char *crlf = to_crlf(text, &crlf_len);
    const struct {
        const char *name;
        const char *buf;
        size_t len;
        unsigned (*fn)(const void *, size_t, struct log *);
    } runs[] = {
        {"mem LF", text, strlen(text), read_mem},
        {"file LF", text, strlen(text), read_file},
        {"fmemopen LF", text, strlen(text), read_fmem},
        {"mem CRLF", crlf, crlf_len, read_mem},
        {"file CRLF", crlf, crlf_len, read_file},
    };
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct log l = {0};
        unsigned n = runs[i].fn(runs[i].buf, runs[i].len, &l);
        if (strcmp(log_str(&l), want) != 0 || n != want_errors || l.errors != want_errors) {
            print_error("reader '%s': returned %u (want %u)\n--- got:\n%s--- want:\n%s", runs[i].name,
                        n, want_errors, log_str(&l), want);
            log_free(&l);
            free(crlf);
            fail();
        }
        log_free(&l);
    }
    free(crlf);
}

/* ---- valid input ------------------------------------------------------- */

static void test_valid_all_records(void **state)
{
    (void)state;
    const char *text =
        "# a comment line\n"                       /* 1 */
        "@ protocol pop3\n"                        /* 2 */
        "@   session   alpha beta\n"               /* 3: value keeps inner spaces */
        "\n"                                       /* 4: blank */
        "S: +OK ready\\r\\n\n"                     /* 5 */
        "C: a\\\\b\\tc\\r\\n\\x00\\xff\\x7F\\xAb~ \n" /* 6: every escape, raw '~' and ' ' */
        "#C: commented out data\n"                 /* 7 */
        "! tls\n"                                  /* 8 */
        "! tls decrypted\n"                        /* 9 */
        "! gap C 10\n"                             /* 10 */
        "!  gap  S  9223372036854775807\n"         /* 11: extra spaces, largest count */
        "! close S\n"                              /* 12 */
        "! close C\n"                              /* 13 */
        "C:no-space\n"                             /* 14: the space after ':' is optional */
        "C:  two\n"                                /* 15: only one space belongs to the syntax */
        "S: \n"                                    /* 16: empty chunk: no event */
        "S:\n"                                     /* 17: empty chunk: no event */
        "\n"                                       /* 18 */
        "S: \\x20\n"                               /* 19: an escaped space */
        "! gap c 3\n"                              /* 20: lower-case direction */
        "@ client 127.0.0.1:40312";                /* 21: no final newline */
    const char *want =
        "2 @ protocol=pop3\n"
        "3 @ session=alpha beta\n"
        "5 D S \"+OK ready\\r\\n\"\n"
        "6 D C \"a\\\\b\\tc\\r\\n\\x00\\xff\\x7f\\xab~ \"\n"
        "8 T\n"
        "9 T decrypted\n"
        "10 G C 10\n"
        "11 G S 9223372036854775807\n"
        "12 X S\n"
        "13 X C\n"
        "14 D C \"no-space\"\n"
        "15 D C \" two\"\n"
        "19 D S \" \"\n"
        "20 G C 3\n"
        "21 @ client=127.0.0.1:40312\n";
    check_all_readers(text, want, 0);
}

static void test_valid_data_bytes(void **state)
{
    (void)state;
    /* The decoded chunk, byte for byte. */
    struct log l = {0};
    const char *text = "C: a\\\\b\\tc\\r\\n\\x00\\xff\\x7F\\xAb~ \n";
    const uint8_t want[] = {'a', '\\', 'b', '\t', 'c', '\r', '\n', 0x00, 0xff, 0x7f, 0xab, '~', ' '};
    assert_int_equal(read_mem(text, strlen(text), &l), 0);
    assert_int_equal(l.chunks, 1);
    assert_int_equal(l.raw_len, sizeof(want));
    assert_memory_equal(l.raw, want, sizeof(want));
    log_free(&l);
}

static void test_null_callbacks(void **state)
{
    (void)state;
    /* Every callback may be NULL (transcript.h). */
    struct mc_transcript_handler h = {0};
    const char *text = "@ protocol pop3\nC: x\n! tls\n! gap C 1\n! close S\nbad\n";
    assert_int_equal(mc_transcript_read_mem((const uint8_t *)text, strlen(text), &h), 1);
}

/* ---- malformed lines --------------------------------------------------- */

static void test_malformed_positions(void **state)
{
    (void)state;
    const char *text =
        "X foo\n"            /* 1: unknown prefix, column 1 */
        "C: a\\qb\n"         /* 2: unknown escape: column of 'q' */
        "C: \\x4\n"          /* 3: \x4 cut off: column of 'x' */
        "C: a\x01" "b\n"     /* 4: raw control byte: its column */
        "! gap C 0\n"        /* 5: zero count: column of the count */
        "! gap X 5\n"        /* 6: bad direction: its column */
        "! frob\n"           /* 7: unknown marker: column of the word */
        "CAPA\n"             /* 8: missing ':' after C: column 2 */
        "C: ab\\\n"          /* 9: a lone backslash at the end: its column */
        "! tls maybe\n"      /* 10: '! tls' takes only 'decrypted' */
        "! gap C\n"          /* 11: no count: the column after the line */
        "@\n"                /* 12: directive without key */
        "C: \\xZZ\n"         /* 13: \x with non-hex digits: column of 'x' */
        "S: caf\xc3\xa9\n"   /* 14: raw 8-bit octet: its column */
        "! gap S -5\n"       /* 15: negative count */
        "! gap S 1x\n"       /* 16: count with a suffix */
        "C: still read\\r\\n\n" /* 17: reading goes on */
        "S\n"                /* 18: direction letter alone */
        "c: lower\n"         /* 19: data records need an upper-case letter */
        "! close S x\n"      /* 20: text after a marker: its column */
        "! gap C 10 junk\n"  /* 21: text after the count */
        "   \n";             /* 22: spaces only: a blank line (the 20th error
                                 was the last one read) */
    const char *want =
        "1:1 E\n"
        "2:6 E\n"
        "3:5 E\n"
        "4:5 E\n"
        "5:9 E\n"
        "6:7 E\n"
        "7:3 E\n"
        "8:2 E\n"
        "9:6 E\n"
        "10:7 E\n"
        "11:8 E\n"
        "12:2 E\n"
        "13:5 E\n"
        "14:7 E\n"
        "15:9 E\n"
        "16:9 E\n"
        "17 D C \"still read\\r\\n\"\n"
        "18:2 E\n"
        "19:1 E\n"
        "20:11 E\n"
        "21:12 E\n";
    check_all_readers(text, want, 20);
}

static void test_spaces_only_line_is_blank(void **state)
{
    (void)state;
    struct log l = {0};
    const char *text = "   \nC: x\n  \r\n! tls decrypted x\n";
    assert_int_equal(read_mem(text, strlen(text), &l), 1);
    assert_string_equal(log_str(&l), "2 D C \"x\"\n4:17 E\n");
    log_free(&l);
}

static void test_malformed_record_is_skipped_whole(void **state)
{
    (void)state;
    /* A bad escape at the end must not deliver the good prefix. */
    struct log l = {0};
    const char *text = "C: USER alice\\q\n! gap C 0\n";
    assert_int_equal(read_mem(text, strlen(text), &l), 2);
    assert_int_equal(l.data_events, 0);
    assert_string_equal(log_str(&l), "1:15 E\n2:9 E\n");
    log_free(&l);
}

static void test_error_limit_text(void **state)
{
    (void)state;
    /* 30 malformed lines, then a good one: reading stops after the 20th. */
    char text[30 * 8 + 16];
    size_t o = 0;
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "junk%02d\n", i);
    o += (size_t)snprintf(text + o, sizeof(text) - o, "C: x\n");
    struct log a = {0}, b = {0};
    assert_int_equal(read_mem(text, o, &a), MC_TRANSCRIPT_MAX_ERRORS);
    assert_int_equal(a.errors, MC_TRANSCRIPT_MAX_ERRORS);
    assert_int_equal(a.data_events, 0);
    assert_int_equal(read_file(text, o, &b), MC_TRANSCRIPT_MAX_ERRORS);
    assert_string_equal(log_str(&a), log_str(&b));
    log_free(&a);
    log_free(&b);
}

static uint32_t rng(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_error_limit_binary_garbage(void **state)
{
    (void)state;
    /* Binary garbage of many shapes: never more than MAX_ERRORS reports,
     * the return value counts them, and both readers agree. */
    uint32_t seed = 12345;
    for (int round = 0; round < 40; round++) {
        size_t n = 1 + rng(&seed) % 20000;
        uint8_t *g = malloc(n);
        struct log a = {0}, b = {0};
        unsigned ra, rb;
        assert_non_null(g);
        for (size_t i = 0; i < n; i++) {
            g[i] = (uint8_t)rng(&seed);
            /* every 16th round: garbage made of many short lines */
            if (round % 4 == 0 && rng(&seed) % 8 == 0)
                g[i] = '\n';
        }
        ra = read_mem(g, n, &a);
        rb = read_file(g, n, &b);
        assert_true(ra <= MC_TRANSCRIPT_MAX_ERRORS);
        assert_int_equal(ra, a.errors);
        assert_int_equal(ra, rb);
        assert_string_equal(log_str(&a), log_str(&b));
        log_free(&a);
        log_free(&b);
        free(g);
    }
    /* Many short garbage lines: exactly MAX_ERRORS. */
    {
        uint8_t g[4000];
        struct log a = {0};
        for (size_t i = 0; i < sizeof(g); i++)
            g[i] = (i % 5 == 4) ? '\n' : (uint8_t)(0x80 + i % 100);
        assert_int_equal(read_mem(g, sizeof(g), &a), MC_TRANSCRIPT_MAX_ERRORS);
        log_free(&a);
    }
}

/* ---- the two readers agree --------------------------------------------- */

static void test_readers_agree(void **state)
{
    (void)state;
    static const struct {
        const char *buf;
        size_t len;
    } inputs[] = {
#define IN(s) {s, sizeof(s) - 1}
        IN(""),
        IN("\n"),
        IN("\r\n"),
        IN("\r"),
        IN("\n\n\n"),
        IN("C: x"),
        IN("C: x\r"),
        IN("C: a\\r\\n\nS: b\\r\\n\n"),
        IN("C: a\0b\n"),
        IN("C: a\\x0\n! gap C 0\nS: ok\n"),
        IN("@ k v\r\n@ k2\r\n# c\r\n"),
        IN("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        IN("C: \\\\\\\\\\r\\n\n! close\n! close C junk\n"),
        IN("S: +OK\\r\\n\n! tls\n!\n! \n"),
#undef IN
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct log a = {0}, b = {0}, c = {0};
        unsigned ra = read_mem(inputs[i].buf, inputs[i].len, &a);
        unsigned rb = read_file(inputs[i].buf, inputs[i].len, &b);
        unsigned rc = read_fmem(inputs[i].buf, inputs[i].len, &c);
        if (ra != rb || ra != rc || strcmp(log_str(&a), log_str(&b)) != 0 ||
            strcmp(log_str(&a), log_str(&c)) != 0) {
            print_error("input %zu: mem=%u file=%u fmem=%u\n--- mem:\n%s--- file:\n%s--- fmem:\n%s", i,
                        ra, rb, rc, log_str(&a), log_str(&b), log_str(&c));
            fail();
        }
        log_free(&a);
        log_free(&b);
        log_free(&c);
    }
}

/* ---- writer / reader round trip ---------------------------------------- */

/* Writes chunks with the writer, checks the text is plain printable ASCII
 * without trailing spaces, reads it back and compares the chunks. */
static void round_trip(const uint8_t *const *chunks, const size_t *lens, unsigned n)
{
    FILE *f = tmpfile();
    char line[4096];
    struct log l = {0};
    struct mc_transcript_handler h = handler(&l);
    size_t total = 0, off = 0;
    unsigned nonempty = 0;

    assert_non_null(f);
    for (unsigned i = 0; i < n; i++)
        mc_transcript_write_data(f, i % 2 ? MC_DIR_S2C : MC_DIR_C2S, chunks[i], lens[i]);
    rewind(f);
    while (fgets(line, sizeof(line), f)) {
        size_t k = strlen(line);
        assert_true(k >= 1 && line[k - 1] == '\n');
        assert_true(line[0] == 'C' || line[0] == 'S');
        for (size_t j = 0; j + 1 < k; j++)
            assert_true(line[j] >= 0x20 && line[j] < 0x7f);
        /* no trailing space, except the "C: " of an empty chunk */
        if (k != 4)
            assert_true(line[k - 2] != ' ');
    }
    rewind(f);
    assert_int_equal(mc_transcript_read(f, &h), 0);
    fclose(f);

    for (unsigned i = 0; i < n; i++) {
        total += lens[i];
        nonempty += lens[i] > 0;
    }
    assert_int_equal(l.chunks, nonempty);
    assert_int_equal(l.raw_len, total);
    for (unsigned i = 0, c = 0; i < n; i++) {
        if (lens[i] == 0)
            continue;
        assert_int_equal(l.chunk_len[c], lens[i]);
        assert_memory_equal(l.raw + off, chunks[i], lens[i]);
        off += lens[i];
        c++;
    }
    log_free(&l);
}

static void test_round_trip_all_bytes(void **state)
{
    (void)state;
    static uint8_t all[256], rev[256], single[256][1];
    const uint8_t *chunks[258];
    size_t lens[258];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
        rev[i] = (uint8_t)(255 - i);
        single[i][0] = (uint8_t)i;
    }
    chunks[0] = all;
    lens[0] = 256;
    chunks[1] = rev;
    lens[1] = 256;
    round_trip(chunks, lens, 2);
    /* each byte as a chunk of its own: first and last position at once */
    for (int i = 0; i < 256; i++) {
        chunks[i] = single[i];
        lens[i] = 1;
    }
    round_trip(chunks, lens, 256);
}

static void test_round_trip_spaces(void **state)
{
    (void)state;
    static const char *const s[] = {"abc ", " ", "  ", " x", "a b", " \r\n ", "   a   "};
    const uint8_t *chunks[7];
    size_t lens[7];
    for (unsigned i = 0; i < 7; i++) {
        chunks[i] = (const uint8_t *)s[i];
        lens[i] = strlen(s[i]);
    }
    round_trip(chunks, lens, 7);

    /* the writer escapes the trailing space (docs/transcript.md) */
    {
        char *out = NULL;
        size_t outlen = 0;
        FILE *f = open_memstream(&out, &outlen);
        assert_non_null(f);
        mc_transcript_write_data(f, MC_DIR_C2S, (const uint8_t *)"abc ", 4);
        mc_transcript_write_data(f, MC_DIR_S2C, (const uint8_t *)" ", 1);
        fclose(f);
        assert_string_equal(out, "C: abc\\x20\nS: \\x20\n");
        free(out);
    }
}

static void test_round_trip_empty_chunk(void **state)
{
    (void)state;
    /* An empty chunk carries nothing: it reads back as no record and no
     * error, and the chunks around it are unchanged. */
    const uint8_t *chunks[3] = {(const uint8_t *)"a", (const uint8_t *)"", (const uint8_t *)"b"};
    size_t lens[3] = {1, 0, 1};
    round_trip(chunks, lens, 3);
}

static void test_round_trip_markers(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct log l = {0};
    struct mc_transcript_handler h = handler(&l);
    assert_non_null(f);
    mc_transcript_write_comment(f, "multi\nline comment");
    mc_transcript_write_directive(f, "protocol", "pop3");
    mc_transcript_write_directive(f, "session", "a b");
    mc_transcript_write_data(f, MC_DIR_S2C, (const uint8_t *)"+OK\r\n", 5);
    mc_transcript_write_tls(f, false);
    mc_transcript_write_tls(f, true);
    mc_transcript_write_gap(f, MC_DIR_C2S, 1);
    mc_transcript_write_gap(f, MC_DIR_S2C, 123456789012ull);
    mc_transcript_write_close(f, MC_DIR_S2C);
    mc_transcript_write_close(f, MC_DIR_C2S);
    rewind(f);
    assert_int_equal(mc_transcript_read(f, &h), 0);
    fclose(f);
    assert_string_equal(log_str(&l), "2 @ protocol=pop3\n"
                                     "3 @ session=a b\n"
                                     "4 D S \"+OK\\r\\n\"\n"
                                     "5 T\n"
                                     "6 T decrypted\n"
                                     "7 G C 1\n"
                                     "8 G S 123456789012\n"
                                     "9 X S\n"
                                     "10 X C\n");
    log_free(&l);
}

/* ---- the line limit ---------------------------------------------------- */

/* "C: " + fill 'a' up to len octets, "\n", then "C: ok\n". */
static uint8_t *long_line(size_t len, size_t *total_out)
{
    size_t total = len + 1 + 6;
    uint8_t *b = malloc(total);
    assert_non_null(b);
    memcpy(b, "C: ", 3);
    memset(b + 3, 'a', len - 3);
    b[len] = '\n';
    memcpy(b + len + 1, "C: ok\n", 6);
    *total_out = total;
    return b;
}

static void test_line_limit_boundaries(void **state)
{
    (void)state;
    const size_t max = MC_TRANSCRIPT_LINE_MAX;
    char want[128];
    for (size_t len = max - 1; len <= max + 1; len++) {
        size_t total;
        uint8_t *b = long_line(len, &total);
        struct log a = {0}, f = {0};
        unsigned ra = read_mem(b, total, &a), rf = read_file(b, total, &f);
        if (len <= max) {
            snprintf(want, sizeof(want), "1 D C \"<%zu bytes>\"\n2 D C \"ok\"\n", len - 3);
            assert_int_equal(ra, 0);
        } else {
            snprintf(want, sizeof(want), "1:%zu E\n2 D C \"ok\"\n", max);
            assert_int_equal(ra, 1);
        }
        assert_string_equal(log_str(&a), want);
        assert_int_equal(rf, ra);
        assert_string_equal(log_str(&f), want);
        log_free(&a);
        log_free(&f);
        free(b);
    }
}

/* A FILE that produces "S: +OK\n", one line of 'size' octets of 'a' (no
 * newline until the end), then "C: after\n", without holding any of it. */
struct gen {
    uint64_t size, pos;
    bool fail_at_end;       /* report a read error instead of the tail */
};

static const char gen_head[] = "S: +OK\\r\\n\n";
static const char gen_tail[] = "\nC: after\\r\\n\n";

static ssize_t gen_read(void *cookie, char *buf, size_t size)
{
    struct gen *g = cookie;
    const uint64_t h = sizeof(gen_head) - 1, t = sizeof(gen_tail) - 1;
    size_t o = 0;
    while (o < size) {
        if (g->pos < h) {
            buf[o++] = gen_head[g->pos++];
        } else if (g->pos < h + g->size) {
            uint64_t left = h + g->size - g->pos;
            size_t k = (size_t)(left < size - o ? left : size - o);
            memset(buf + o, 'a', k);
            o += k;
            g->pos += k;
        } else if (g->fail_at_end) {
            if (o > 0)
                break;
            return -1;
        } else if (g->pos < h + g->size + t) {
            buf[o++] = gen_tail[g->pos - h - g->size];
            g->pos++;
        } else {
            break;
        }
    }
    return (ssize_t)o;
}

static long max_rss_kib(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

static void test_line_too_long_streamed(void **state)
{
    (void)state;
    /* 64 MiB in one line: reported once, skipped, and the reader's memory
     * stays near MC_TRANSCRIPT_LINE_MAX rather than the line's size. */
    struct gen g = {.size = 64ull << 20};
    cookie_io_functions_t io = {.read = gen_read};
    struct log l = {0};
    struct mc_transcript_handler h = handler(&l);
    char want[128];
    long before = max_rss_kib(), after;
    FILE *f = fopencookie(&g, "r", io);
    assert_non_null(f);
    assert_int_equal(mc_transcript_read(f, &h), 1);
    fclose(f);
    after = max_rss_kib();
    /* generous: the line buffer, allocator slack and sanitizer quarantine */
    if (after - before > 40 * 1024) {
        print_error("peak RSS grew by %ld KiB reading a 64 MiB line\n", after - before);
        fail();
    }
    snprintf(want, sizeof(want), "1 D S \"+OK\\r\\n\"\n2:%u E\n3 D C \"after\\r\\n\"\n",
             MC_TRANSCRIPT_LINE_MAX);
    assert_string_equal(log_str(&l), want);
    log_free(&l);
}

static void test_read_error_reported(void **state)
{
    (void)state;
    /* A read error: reported through error() with column 0. */
    struct gen g = {.size = 10, .fail_at_end = true};
    cookie_io_functions_t io = {.read = gen_read};
    struct log l = {0};
    struct mc_transcript_handler h = handler(&l);
    FILE *f = fopencookie(&g, "r", io);
    assert_non_null(f);
    assert_true(mc_transcript_read(f, &h) >= 1);
    fclose(f);
    assert_non_null(strstr(log_str(&l), "1 D S \"+OK\\r\\n\"\n"));
    assert_non_null(strstr(log_str(&l), ":0 E\n"));
    log_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_all_records),
        cmocka_unit_test(test_valid_data_bytes),
        cmocka_unit_test(test_null_callbacks),
        cmocka_unit_test(test_malformed_positions),
        cmocka_unit_test(test_spaces_only_line_is_blank),
        cmocka_unit_test(test_malformed_record_is_skipped_whole),
        cmocka_unit_test(test_error_limit_text),
        cmocka_unit_test(test_error_limit_binary_garbage),
        cmocka_unit_test(test_readers_agree),
        cmocka_unit_test(test_round_trip_all_bytes),
        cmocka_unit_test(test_round_trip_spaces),
        cmocka_unit_test(test_round_trip_empty_chunk),
        cmocka_unit_test(test_round_trip_markers),
        cmocka_unit_test(test_line_limit_boundaries),
        cmocka_unit_test(test_line_too_long_streamed),
        cmocka_unit_test(test_read_error_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
