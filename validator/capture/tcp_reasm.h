/*
 * TCP reassembly: turns the segments of a capture into, per connection,
 * the two byte streams in capture order, with gaps where octets are
 * missing. Knows nothing of mail protocols.
 *
 * - Flows: keyed by the address/port 4-tuple in a hash table. The client is
 *   the sender of the SYN (without ACK); a flow first seen mid-stream takes
 *   its roles from the caller's guess (is_server_port) and says so
 *   (roles_from_syn false). A SYN on a 4-tuple whose flow ended, or whose
 *   sequence numbers jump, starts a new flow (port reuse).
 * - Per direction: sequence numbers with wrap-around (32-bit serial
 *   arithmetic); in-order data is delivered at once; out-of-order segments
 *   are copied into a bounded holding area and delivered when the hole
 *   fills; retransmissions of delivered data are dropped, and when a
 *   retransmission overlaps delivered data with DIFFERENT octets, the first
 *   version wins and MC_REASM_OVERLAP_DIFFERS is noted.
 * - Gaps: when the holding area of a direction (or the global budget) is
 *   full, at FIN/RST with a hole, at end of capture, or when a snaplen cut
 *   payload, the missing octets are announced with gap(n) and delivery goes
 *   on after them. Octets are never delivered twice, never out of order.
 * - Order: every callback for every flow happens in capture order, during
 *   the mc_reasm_segment() call of the segment that made it possible, so
 *   both directions of a flow interleave as on the wire.
 * - Bounds: at most limits.max_flows flows (the least recently active is
 *   evicted, noted, and closed); per-direction and global caps on held
 *   octets; flows idle longer than limits.idle_timeout_ns (capture time)
 *   are closed. Memory: one allocation per flow at open, per direction a
 *   retransmission compare ring that grows with the stream up to 4 KiB,
 *   held segments charged against the caps; nothing per in-order segment.
 */
#ifndef MC_TCP_REASM_H
#define MC_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

enum mc_reasm_dir { MC_REASM_C2S = 0, MC_REASM_S2C = 1 };

enum mc_reasm_note {
    MC_REASM_OVERLAP_DIFFERS,   /* retransmitted octets differ from the first copy; detail: octets */
    MC_REASM_HELD_OVERFLOW,     /* out-of-order data dropped for the caps; a gap follows */
    MC_REASM_EVICTED,           /* the flow table was full: this flow is closed early */
    MC_REASM_IDLE_TIMEOUT,      /* no segment for idle_timeout_ns: closed */
    MC_REASM_DATA_AFTER_FIN,    /* data beyond the FIN of its direction (ignored) */
    MC_REASM_PORT_REUSE         /* a new SYN on the 4-tuple of this flow: it is closed */
};

struct mc_reasm_flow_info {
    uint8_t af;                      /* 4 or 6 */
    uint8_t client[16], server[16];
    uint16_t client_port, server_port;
    bool roles_from_syn;             /* false: guessed from the ports */
    bool midstream;                  /* the start of the connection was not captured */
    uint64_t first_frame;
    uint64_t first_ts_ns;
};

struct mc_reasm_cb {
    void *ctx;
    /* A new flow. Returns the caller's pointer for it (may be NULL: the
     * flow is then still tracked, and every callback gets NULL). */
    void *(*open)(void *ctx, const struct mc_reasm_flow_info *fi);
    /* In-order octets of one direction; frame: the frame whose segment
     * carried the first of them. */
    void (*data)(void *ctx, void *flow, enum mc_reasm_dir d, const uint8_t *p, size_t n,
                 uint64_t frame);
    /* n octets of d are missing before what comes next. */
    void (*gap)(void *ctx, void *flow, enum mc_reasm_dir d, uint64_t n, uint64_t frame);
    /* d sent FIN (rst false) or RST (rst true) and everything before it
     * was delivered or announced as a gap. */
    void (*fin)(void *ctx, void *flow, enum mc_reasm_dir d, bool rst, uint64_t frame);
    void (*note)(void *ctx, void *flow, enum mc_reasm_note n, enum mc_reasm_dir d,
                 uint64_t frame, uint64_t detail);
    /* The flow ends (both FINs, RST, eviction, timeout, port reuse, end of
     * capture): the last callback for it. */
    void (*close)(void *ctx, void *flow, uint64_t frame);
    /* Mid-stream flows: true when port is a server port (a mail port);
     * when both or neither are, the lower port is the server's. May be NULL. */
    bool (*is_server_port)(void *ctx, uint16_t port);
};

struct mc_reasm_limits {
    uint32_t max_flows;           /* default 65536 */
    uint32_t held_per_dir;        /* octets held out of order per direction; default 1 MiB */
    uint64_t held_total;          /* all flows; default 32 MiB */
    uint64_t idle_timeout_ns;     /* default 3600 s; 0: never */
};

struct mc_reasm_stats {
    uint64_t segments, flows, overlaps_differing, gaps, gap_octets, evicted, timeouts;
    uint64_t held_peak;           /* most octets held at once */
    /* allocations that failed: a segment that could not open its flow
     * (dropped), out-of-order data that could not be held (a gap, as for
     * the caps), a retransmission window that could not grow (later
     * differences unseen); and the frame of the first */
    uint64_t out_of_memory, oom_first_frame;
};

struct mc_reasm;

/* limits NULL or fields 0: the defaults. NULL on allocation failure. */
struct mc_reasm *mc_reasm_new(const struct mc_reasm_limits *limits, const struct mc_reasm_cb *cb);
/* One TCP segment of frame `frame` at capture time ts_ns. */
void mc_reasm_segment(struct mc_reasm *r, const struct mc_tcp_seg *seg, uint64_t frame,
                      uint64_t ts_ns);
/* End of capture: holes become gaps, every flow is closed. */
void mc_reasm_finish(struct mc_reasm *r, uint64_t last_frame);
const struct mc_reasm_stats *mc_reasm_stats(const struct mc_reasm *r);
void mc_reasm_free(struct mc_reasm *r);

#endif
