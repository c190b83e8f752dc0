/*
 * The capture path run over a capture in memory, for the targets that
 * drive it (fuzz_capture.c, fuzz_differential.c): its JSON Lines report.
 */
#ifndef MC_FUZZ_CAPTURE_RUN_H
#define MC_FUZZ_CAPTURE_RUN_H

#include "fuzz_common.h"

#include <stdio.h>

#include "capture/capture.h"
#include "report/report.h"

/* The report of `check --format jsonl` over the capture data[0..size) with
 * the default options (the protocol told by the port): a malloc'd text of
 * *len octets. *ok: what mc_capture_check_mem() returned. */
FZ_ORACLE static char *fz_capture_jsonl(const uint8_t *data, size_t size, size_t *len, bool *ok)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    struct mc_report rep;
    struct mc_capture_opts opts;
    FZ_CHECK(out != NULL);
    memset(&opts, 0, sizeof(opts));
    mc_report_init(&rep, out, MC_FMT_JSONL, MC_SEV_ERROR);
    rep.input = "fuzz.pcap";
    mc_report_begin(&rep);
    *ok = mc_capture_check_mem(&rep, data, size, "fuzz.pcap", &opts);
    mc_report_end(&rep);
    fclose(out);
    return buf;
}

#endif
