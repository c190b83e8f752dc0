/*
 * The scan limit: read a file in 1 MiB blocks and find every LF with
 * memchr, the least work any line-based reader must do over the same bytes.
 * Baseline for bench/bench_capture.py (mailconform reads its input with
 * read() as well, so both pay the same kernel copy).
 *
 * build: cc -O2 -o memchr_scan bench/memchr_scan.c
 * usage: memchr_scan FILE   ('-' reads standard input; prints "<lines> LF in <bytes> octets")
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (1u << 20)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: memchr_scan FILE\n");
        return 2;
    }
    int fd = strcmp(argv[1], "-") == 0 ? 0 : open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 2;
    }
    char *buf = malloc(BLOCK);
    if (!buf) {
        fprintf(stderr, "memchr_scan: out of memory\n");
        return 2;
    }
    unsigned long long lines = 0, total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, BLOCK);
        if (n < 0) {
            perror("read");
            return 2;
        }
        if (n == 0)
            break;
        total += (unsigned long long)n;
        const char *p = buf, *e = buf + n;
        while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
            lines++;
            p++;
        }
    }
    printf("%llu LF in %llu octets\n", lines, total);
    free(buf);
    return 0;
}
