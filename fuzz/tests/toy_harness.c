/*
 * A toy target with planted bugs for the campaign's own test
 * (fuzz/tests/test_campaign.py): never part of the mailconform build.
 *
 * - "BUGA..."  an oracle failure (abort with the fuzz_common.h message)
 * - "BUGB..."  a heap-buffer-overflow read one past a 4-octet allocation
 * - "HANG..."  spins until the engine's timeout fires
 * Both string-gated bugs are easy to reach from the seed "BUG" plus the
 * dictionary, so a short run finds them; several inputs reach each bug, so
 * deduplication by stack must file one reproducer per bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_a(const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp(data, "BUGA", 4) == 0) {
        fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__, "planted A");
        abort();
    }
}

static int check_b(const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp(data, "BUGB", 4) == 0) {
        char *p = malloc(4);
        memcpy(p, data, 4);
        volatile int v = p[4 + (data[size - 1] & 1)];
        free(p);
        return v;
    }
    return 0;
}

static void check_hang(const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp(data, "HANG", 4) == 0) {
        volatile unsigned long n = 0;
        for (;;)
            n++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_a(data, size);
    (void)check_b(data, size);
    check_hang(data, size);
    return 0;
}
