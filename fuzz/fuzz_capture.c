/*
 * fuzz_capture: a packet capture end to end (validator/capture/): the
 * pcap/pcapng reader, frame decoding, TCP reassembly, protocol detection
 * and every session, over the input bytes as a capture file.
 *
 * Input: the capture itself (seeds in corpus/capture/ are small pcap and
 * pcapng files of mail sessions built by tests/capture/mkpcap.py).
 *
 * Oracles (abort() on failure):
 * - the report (JSON Lines) of two runs over the same bytes is identical:
 *   nothing depends on addresses, uninitialised memory or earlier inputs;
 * - every finding names a frame, from 1 to the number of frames read, and
 *   no transcript line.
 */
#define _POSIX_C_SOURCE 200809L

#include "fuzz_capture_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest "frames" count of the capture line, and every finding's frame. */
FZ_ORACLE static void check_frames(const char *report)
{
    unsigned long long frames = 0;
    const char *p = strstr(report, "{\"capture\":");
    if (p) {
        const char *f = strstr(p, "\"frames\":");
        FZ_CHECK(f != NULL);
        frames = strtoull(f + 9, NULL, 10);
    }
    for (p = report; (p = strstr(p, "{\"rule\":")) != NULL; p++) {
        const char *end = strchr(p, '\n');
        const char *f = strstr(p, "\"frame\":");
        FZ_CHECK(end != NULL && f != NULL && f < end);
        FZ_CHECK(f[8] != 'n');   /* not null */
        unsigned long long fr = strtoull(f + 8, NULL, 10);
        FZ_CHECK(fr >= 1 && fr <= frames);
        {
            const char *l = strstr(p, "\"line\":");
            FZ_CHECK(l == NULL || l > end);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n1 = 0, n2 = 0;
    bool ok;
    char *a = fz_capture_jsonl(data, size, &n1, &ok);
    char *b = fz_capture_jsonl(data, size, &n2, &ok);
    FZ_CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
    check_frames(a);
    free(a);
    free(b);
    return 0;
}
