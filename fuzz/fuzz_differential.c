/*
 * fuzz_differential: one conversation validated two ways must give the same
 * findings. (A) Its records go straight into a session, as a transcript
 * would feed them; (B) the same octets become a synthetic pcap capture of
 * one TCP connection (handshake, segments of fuzzer-chosen sizes, optionally
 * swapped and retransmitted, FINs) that the capture path
 * (validator/capture/: pcap reader, frame decoding, TCP reassembly,
 * protocol by port, the session) must put back together. The findings of
 * both, as (rule, offset) in order, must be identical. This is the fuzzed
 * form of tests/capture/capture_vs_transcript.py.
 *
 * Input: 2 option bytes, then records.
 *   byte 0  bits 0-1  protocol and server port: 0 POP3/110, 1 IMAP/143,
 *                     2 SMTP/25, 3 submission/587
 *           bits 2-3  segment payload sizes: 0 = 1..16 octets, 1 = 1..1448,
 *                     2 = 1448 (full segments), 3 = 1 octet
 *           bit 4     swap each pair of consecutive segments of a record
 *                     (out-of-order arrival; reassembly holds the second)
 *           bit 5     send every segment twice (exact retransmissions)
 *           bits 6-7  seed for the sizes
 *   byte 1  more seed
 *   record  as in fuzz_pop3_session.c: a header byte h (bit 7 direction:
 *           0 client, 1 server; bits 4-6 kind: 0-3 data, 4-5 "! tls", 6 gap,
 *           7 close; bits 0-3 length L: L if < 14, 14 + next octet if 14,
 *           270 + next 2 octets (little endian) if 15), then the payload.
 *
 * Left out of both paths, as capture_vs_transcript.py leaves them out,
 * because they are legitimate differences, not bugs:
 * - "! tls" records: a capture carries TLS records, not the decrypted text;
 * - gaps: reassembly announces a hole only when it gives up on it (FIN, end
 *   of capture, full holding area), so data of the other direction passes
 *   it and the interleaving differs from a transcript's gap;
 * - data after a direction's close: TCP ignores data beyond a FIN.
 * Whole records go to (A) in one call: split invariance of the session is
 * the session targets' oracle, reassembly's cuts are this one's.
 *
 * Oracle (abort() on failure): the two lists of findings are equal; on a
 * difference both are printed.
 */
#define _POSIX_C_SOURCE 200809L

#include "fuzz_capture_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_NAME "fuzz"
#define MSS 1448
#define CLIENT_PORT 40000
#define CLIENT_ISN 1000u
#define SERVER_ISN 5000000u

static const uint16_t server_port[4] = {110, 143, 25, 587};
static const enum mc_proto protocol[4] = {MC_PROTO_POP3, MC_PROTO_IMAP, MC_PROTO_SMTP,
                                          MC_PROTO_SMTP};

/* ---- (A) records straight into a session --------------------------------- */

struct direct {
    struct fz_log log;   /* "RULE.ID offset\n" per finding */
};

FZ_ORACLE static void log_finding(struct fz_log *l, const char *rule, unsigned long long offset)
{
    char line[160];
    int n = snprintf(line, sizeof(line), "%s %llu\n", rule, offset);
    FZ_CHECK(n > 0 && (size_t)n < sizeof(line));
    fz_log_bytes(l, line, (size_t)n);
}

FZ_ORACLE static void on_direct_finding(void *ctx, const struct mc_finding *f)
{
    struct direct *d = ctx;
    const struct mc_rule_info *ri = mc_rule_info(f->rule);
    FZ_CHECK(ri != NULL);
    log_finding(&d->log, ri->id, (unsigned long long)f->offset);
}

/* ---- (B) the synthetic capture ------------------------------------------- */

struct pcap {
    struct fz_log out;       /* the pcap file */
    uint32_t seq[2];         /* next sequence number per direction */
    uint32_t frames;
};

FZ_ORACLE static void put_le32(struct fz_log *l, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fz_log_bytes(l, b, 4);
}

FZ_ORACLE static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

FZ_ORACLE static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

FZ_ORACLE static void pcap_begin(struct pcap *pc)
{
    put_le32(&pc->out, 0xa1b2c3d4u);   /* microsecond pcap, written little endian */
    put_le32(&pc->out, 2u | 4u << 16); /* version 2.4 */
    put_le32(&pc->out, 0);             /* thiszone */
    put_le32(&pc->out, 0);             /* sigfigs */
    put_le32(&pc->out, 262144);        /* snaplen */
    put_le32(&pc->out, 1);             /* LINKTYPE_ETHERNET */
    pc->seq[MC_DIR_C2S] = CLIENT_ISN;
    pc->seq[MC_DIR_S2C] = SERVER_ISN;
}

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = 0x10 };

/* One Ethernet/IPv4/TCP frame from dir with sequence number seq (checksums
 * zero: captures taken on the sending host carry offloaded ones). */
FZ_ORACLE static void pcap_segment(struct pcap *pc, enum mc_dir dir, uint16_t port, uint8_t flags,
                                   uint32_t seq, const uint8_t *p, size_t n)
{
    uint8_t h[14 + 20 + 20];
    const bool c2s = dir == MC_DIR_C2S;
    const uint32_t ack = pc->seq[c2s ? MC_DIR_S2C : MC_DIR_C2S];
    const uint32_t us = ++pc->frames * 1000u;   /* 1 ms apart */
    memset(h, 0, sizeof(h));
    /* Ethernet: dst, src, IPv4 */
    h[5] = c2s ? 2 : 1;
    h[11] = c2s ? 1 : 2;
    put_be16(h + 12, 0x0800);
    /* IPv4 */
    h[14] = 0x45;
    put_be16(h + 16, (uint16_t)(20 + 20 + n));
    put_be16(h + 18, (uint16_t)pc->frames);
    put_be16(h + 20, 0x4000);   /* don't fragment */
    h[22] = 64;
    h[23] = 6;                  /* TCP */
    const uint8_t client_ip[4] = {192, 0, 2, 1}, server_ip[4] = {192, 0, 2, 2};
    memcpy(h + 26, c2s ? client_ip : server_ip, 4);
    memcpy(h + 30, c2s ? server_ip : client_ip, 4);
    /* TCP */
    put_be16(h + 34, c2s ? CLIENT_PORT : port);
    put_be16(h + 36, c2s ? port : CLIENT_PORT);
    put_be32(h + 38, seq);
    put_be32(h + 42, (flags & TCP_ACK) ? ack : 0);
    h[46] = 0x50;
    h[47] = flags;
    put_be16(h + 48, 0xffff);

    put_le32(&pc->out, us / 1000000u);
    put_le32(&pc->out, us % 1000000u);
    put_le32(&pc->out, (uint32_t)(sizeof(h) + n));
    put_le32(&pc->out, (uint32_t)(sizeof(h) + n));
    fz_log_bytes(&pc->out, h, sizeof(h));
    fz_log_bytes(&pc->out, p, n);
}

/* The octets of one record as segments: sizes from the options, pairs
 * swapped (bit 4), every segment sent twice (bit 5). */
FZ_ORACLE static void pcap_data(struct pcap *pc, enum mc_dir dir, uint16_t port, uint8_t opts,
                                struct fz_rng *rng, const uint8_t *p, size_t n)
{
    static const size_t max_seg[4] = {16, MSS, MSS, 1};
    size_t i = 0;
    while (i < n) {
        size_t a = (opts >> 2 & 3) == 2 ? MSS : fz_rng_range(rng, 1, max_seg[opts >> 2 & 3]);
        size_t b = 0;
        if (a > n - i)
            a = n - i;
        if ((opts & 0x10) && i + a < n) {
            b = (opts >> 2 & 3) == 2 ? MSS : fz_rng_range(rng, 1, max_seg[opts >> 2 & 3]);
            if (b > n - i - a)
                b = n - i - a;
        }
        const uint32_t s0 = pc->seq[dir];
        const uint32_t s1 = s0 + (uint32_t)a;
        if (b) {   /* the second segment first */
            pc->seq[dir] = s1 + (uint32_t)b;
            for (int k = 0; k < ((opts & 0x20) ? 2 : 1); k++)
                pcap_segment(pc, dir, port, TCP_ACK | TCP_PSH, s1, p + i + a, b);
        } else {
            pc->seq[dir] = s1;
        }
        for (int k = 0; k < ((opts & 0x20) ? 2 : 1); k++)
            pcap_segment(pc, dir, port, TCP_ACK | TCP_PSH, s0, p + i, a);
        i += a + b;
    }
}

FZ_ORACLE static void pcap_fin(struct pcap *pc, enum mc_dir dir, uint16_t port)
{
    pcap_segment(pc, dir, port, TCP_ACK | TCP_FIN, pc->seq[dir], NULL, 0);
    pc->seq[dir]++;
}

/* Findings of the capture report (JSON Lines) as "RULE.ID offset\n". */
FZ_ORACLE static void capture_findings(const uint8_t *pcap, size_t n, struct fz_log *log)
{
    size_t len = 0;
    bool ok;
    char *buf = fz_capture_jsonl(pcap, n, &len, &ok);
    FZ_CHECK(ok);
    for (const char *p = buf; (p = strstr(p, "{\"rule\":\"")) != NULL; p++) {
        const char *id = p + 9, *q = strchr(id, '"');
        const char *end = strchr(p, '\n');
        const char *off = strstr(p, "\"offset\":");
        FZ_CHECK(q != NULL && end != NULL && off != NULL && off < end);
        char rule[96];
        FZ_CHECK((size_t)(q - id) < sizeof(rule));
        memcpy(rule, id, (size_t)(q - id));
        rule[q - id] = '\0';
        log_finding(log, rule, strtoull(off + 9, NULL, 10));
    }
    free(buf);
}

/* ---- both ------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t opts = data[0];
    const unsigned which = opts & 3;
    const uint16_t port = server_port[which];
    struct fz_rng rng;
    struct direct d;
    struct pcap pc;
    struct fz_log via_capture;
    bool closed[2] = {false, false};
    struct fz_reader rd = {data + 2, size - 2};
    struct fz_record rec;

    memset(&d, 0, sizeof(d));
    memset(&pc, 0, sizeof(pc));
    memset(&via_capture, 0, sizeof(via_capture));
    memset(&rec, 0, sizeof(rec));
    fz_rng_seed(&rng, (uint32_t)data[1] << 8 | data[0]);

    struct mc_session *s = mc_session_new(SESSION_NAME, protocol[which], on_direct_finding, &d);
    FZ_CHECK(s != NULL);
    if (which == 3)
        mc_session_set_submission(s);

    pcap_begin(&pc);
    pcap_segment(&pc, MC_DIR_C2S, port, TCP_SYN, pc.seq[MC_DIR_C2S]++, NULL, 0);
    pcap_segment(&pc, MC_DIR_S2C, port, TCP_SYN | TCP_ACK, pc.seq[MC_DIR_S2C]++, NULL, 0);
    pcap_segment(&pc, MC_DIR_C2S, port, TCP_ACK, pc.seq[MC_DIR_C2S], NULL, 0);

    /* gaps and "! tls" records (kinds 4-6) are left out: see above */
    while (fz_next_record(&rd, &rec)) {
        if (rec.kind < 4 && rec.len > 0 && !closed[rec.dir]) {
            mc_session_data(s, rec.dir, rec.p, rec.len, &rec.o);
            pcap_data(&pc, rec.dir, port, opts, &rng, rec.p, rec.len);
        } else if (rec.kind == 7 && !closed[rec.dir]) {
            closed[rec.dir] = true;
            mc_session_close(s, rec.dir, &rec.o);
            pcap_fin(&pc, rec.dir, port);
        }
    }
    mc_session_finish(s);
    mc_session_free(s);

    capture_findings(pc.out.b, pc.out.n, &via_capture);
    if (!fz_log_same(&d.log, &via_capture)) {
        fprintf(stderr, "differential: findings differ (port %u)\n--- records into a session:\n%.*s"
                "--- synthetic capture:\n%.*s", port, (int)d.log.n, d.log.b ? (char *)d.log.b : "",
                (int)via_capture.n, via_capture.b ? (char *)via_capture.b : "");
        FZ_CHECK(!"a session fed from records and from a capture of the same octets disagree");
    }
    fz_log_free(&d.log);
    fz_log_free(&pc.out);
    fz_log_free(&via_capture);
    return 0;
}
