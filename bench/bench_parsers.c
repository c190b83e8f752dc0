/*
 * Parser throughput against a memchr baseline, measured in one process.
 *
 * Each workload is a realistic byte stream built in memory. The parser is
 * fed the stream in 64 KiB chunks (as a capture or relay would); the
 * baseline is a memchr scan for LF over the same buffer, the floor for any
 * line-based reader. The two alternate for --runs rounds and the median of
 * each is reported, with the ratio parser/baseline, so the figure survives a
 * shared, noisy machine (absolute MB/s are for orientation only).
 *
 *   smtp-data    DATA content: headers and ~70-octet body lines, some
 *                dot-stuffed, one CRLF.CRLF per message
 *   smtp-reply   server replies: multi-line EHLO replies and short
 *                "250 2.1.0 Ok" lines with enhanced status codes
 *   imap-fetch   IMAP FETCH responses with ENVELOPE, BODYSTRUCTURE and a
 *                ~20 KB BODY[] literal each (literal-heavy)
 *   imap-small   small untagged IMAP responses (EXISTS, RECENT, FETCH
 *                FLAGS, EXPUNGE) and tagged completions
 *
 * usage: bench_parsers [--mb N] [--runs N] [--min-ratio WORKLOAD=R ...]
 * Exit 0, or 1 when a ratio is below its --min-ratio (for CI gates).
 */
#define _POSIX_C_SOURCE 200809L
#include "imap/imap_resp.h"
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 65536

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            fprintf(stderr, "bench_parsers: out of memory\n");
            exit(2);
        }
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- workloads --------------------------------------------------------- */

/* Messages of ~20 KB: header block, then text lines, every 25th stuffed. */
static void make_data(struct buf *b, size_t target)
{
    char line[160];
    unsigned m = 0;
    while (b->len < target) {
        m++;
        snprintf(line, sizeof(line),
                 "Received: from client.example (client.example [192.0.2.1])\r\n"
                 "\tby mx.example with ESMTP id %u\r\nFrom: alice@example.org\r\n"
                 "To: bob@example.com\r\nSubject: report %u\r\n\r\n", m, m);
        puts_(b, line);
        for (unsigned i = 0; i < 280; i++) {
            snprintf(line, sizeof(line), "%sLine %u of message %u: the quick brown fox jumps over.\r\n",
                     i % 25 == 24 ? ".." : "", i, m);
            puts_(b, line);
        }
        puts_(b, ".\r\n");
        /* the next message starts after its own DATA, not measured here:
         * content restarts at once, as a pipelined client sends it */
        puts_(b, "DATA\r\n");
    }
}

static void make_replies(struct buf *b, size_t target)
{
    while (b->len < target) {
        puts_(b, "250-mx.example.com Hello client.example [192.0.2.1]\r\n250-SIZE 52428800\r\n"
                 "250-8BITMIME\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-STARTTLS\r\n"
                 "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n");
        for (int i = 0; i < 6; i++)
            puts_(b, "250 2.1.5 Ok\r\n");
        puts_(b, "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4XyZ1234\r\n");
    }
}

static void make_imap_fetch(struct buf *b, size_t target)
{
    char head[1024], line[160];
    unsigned m = 0;
    while (b->len < target) {
        size_t body_len = 0;
        char body[24000];
        m++;
        for (unsigned i = 0; body_len + 80 < sizeof(body) - 100 && i < 280; i++)
            body_len += (size_t)snprintf(body + body_len, sizeof(body) - body_len,
                                         "Line %u of message %u: the quick brown fox jumps.\r\n", i, m);
        snprintf(head, sizeof(head),
                 "* %u FETCH (UID %u FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
                 "RFC822.SIZE %zu ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
                 "\"IMAP4rev1 WG mtg summary\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
                 "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) NIL "
                 "((NIL NIL \"imap\" \"cac.washington.edu\")) NIL NIL NIL \"<B27397-0100000@cac.washington.edu>\") "
                 "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)"
                 "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
                 "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) \"MIXED\") "
                 "BODY[] {%zu}\r\n", m, m, body_len, body_len);
        puts_(b, head);
        put(b, body, body_len);
        puts_(b, ")\r\n");
        snprintf(line, sizeof(line), "a%u OK FETCH completed\r\n", m);
        puts_(b, line);
    }
}

static void make_imap_small(struct buf *b, size_t target)
{
    char line[160];
    unsigned m = 0;
    while (b->len < target) {
        m++;
        snprintf(line, sizeof(line),
                 "* %u EXISTS\r\n* 1 RECENT\r\n* %u FETCH (FLAGS (\\Seen \\Answered))\r\n"
                 "* %u EXPUNGE\r\na%u OK [READ-WRITE] done\r\n", m, m, m, m);
        puts_(b, line);
    }
}

/* ---- runners (each returns a checksum so nothing is optimised away) --- */

static uint64_t run_memchr(const struct buf *b)
{
    const uint8_t *p = b->p, *end = b->p + b->len;
    uint64_t n = 0;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        n++;
        p = nl + 1;
    }
    return n;
}

static uint64_t run_smtp_data(const struct buf *b)
{
    static struct mc_smtp_cmd p;
    uint64_t events = 0;
    mc_smtp_cmd_init(&p);
    mc_smtp_cmd_expect_data(&p);
    for (size_t off = 0; off < b->len; off += CHUNK) {
        const uint8_t *s = b->p + off;
        size_t len = b->len - off < CHUNK ? b->len - off : CHUNK;
        while (len > 0) {
            struct mc_smtp_cmd_ev ev;
            size_t used = 0;
            if (mc_smtp_cmd_feed(&p, s, len, &used, &ev) == MC_EVENT) {
                events++;
                if (ev.type == MC_SMTP_CMD_LINE && ev.verb == MC_SMTP_DATA)
                    mc_smtp_cmd_expect_data(&p);
            }
            s += used;
            len -= used;
        }
    }
    return events;
}

static uint64_t run_smtp_reply(const struct buf *b)
{
    static struct mc_smtp_reply p;
    uint64_t events = 0;
    mc_smtp_reply_init(&p);
    for (size_t off = 0; off < b->len; off += CHUNK) {
        const uint8_t *s = b->p + off;
        size_t len = b->len - off < CHUNK ? b->len - off : CHUNK;
        while (len > 0) {
            struct mc_smtp_reply_ev ev;
            size_t used = 0;
            if (mc_smtp_reply_feed(&p, s, len, &used, &ev) == MC_EVENT)
                events += ev.anoms.n + 1u;
            s += used;
            len -= used;
        }
    }
    return events;
}

static uint64_t run_imap_resp(const struct buf *b)
{
    static struct mc_imap_resp p;
    uint64_t events = 0;
    mc_imap_resp_init(&p);
    for (size_t off = 0; off < b->len; off += CHUNK) {
        const uint8_t *s = b->p + off;
        size_t len = b->len - off < CHUNK ? b->len - off : CHUNK;
        while (len > 0) {
            struct mc_imap_resp_ev ev;
            size_t used = 0;
            if (mc_imap_resp_feed(&p, s, len, &used, &ev) == MC_EVENT)
                events += ev.type == MC_IMAP_RESP_RESPONSE ? ev.anoms.n + 1u : 1u;
            s += used;
            len -= used;
        }
    }
    return events;
}

struct workload {
    const char *name;
    void (*make)(struct buf *, size_t);
    uint64_t (*run)(const struct buf *);
    double min_ratio;     /* from --min-ratio, 0: none */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    struct workload w[] = {
        {"smtp-data", make_data, run_smtp_data, 0},
        {"smtp-reply", make_replies, run_smtp_reply, 0},
        {"imap-fetch", make_imap_fetch, run_imap_resp, 0},
        {"imap-small", make_imap_small, run_imap_resp, 0},
    };
    const int nw = (int)(sizeof(w) / sizeof(w[0]));
    size_t mb = 64;
    int runs = 7, fail = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) {
            mb = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--min-ratio") == 0 && i + 1 < argc) {
            const char *arg = argv[++i], *eq = strchr(arg, '=');
            int k;
            for (k = 0; eq && k < nw; k++)
                if (strlen(w[k].name) == (size_t)(eq - arg) && strncmp(w[k].name, arg, (size_t)(eq - arg)) == 0)
                    break;
            if (!eq || k == nw) {
                fprintf(stderr, "bench_parsers: --min-ratio takes WORKLOAD=R\n");
                return 2;
            }
            w[k].min_ratio = strtod(eq + 1, NULL);
        } else {
            fprintf(stderr, "usage: bench_parsers [--mb N] [--runs N] [--min-ratio WORKLOAD=R ...]\n");
            return 2;
        }
    }
    if (mb == 0 || runs < 1 || runs > 101) {
        fprintf(stderr, "bench_parsers: --mb must be > 0 and --runs 1 to 101\n");
        return 2;
    }

    printf("%-12s %10s %12s %12s %8s\n", "workload", "MB", "parser MB/s", "memchr MB/s", "ratio");
    for (int k = 0; k < nw; k++) {
        struct buf b = {0};
        double tp[101], tb[101];
        uint64_t sink = 0;
        w[k].make(&b, mb << 20);
        for (int r = 0; r < runs; r++) {
            double t0 = now();
            sink += w[k].run(&b);
            double t1 = now();
            sink += run_memchr(&b);
            double t2 = now();
            tp[r] = t1 - t0;
            tb[r] = t2 - t1;
        }
        double mp = median(tp, runs), mbase = median(tb, runs);
        double size = (double)b.len / 1e6;
        double ratio = mbase / mp;
        printf("%-12s %10.1f %12.0f %12.0f %7.0f%%%s\n", w[k].name, size, size / mp, size / mbase,
               ratio * 100, w[k].min_ratio > 0 && ratio < w[k].min_ratio ? "  BELOW GOAL" : "");
        if (w[k].min_ratio > 0 && ratio < w[k].min_ratio)
            fail = 1;
        if (sink == 0)
            printf("(no events)\n");
        free(b.p);
    }
    return fail;
}
