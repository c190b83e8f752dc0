/*
 * From a captured frame to a TCP segment: link layer (Ethernet with
 * 802.1Q/802.1ad VLAN tags, Linux cooked v1 and v2, BSD/OpenBSD loopback,
 * raw IPv4/IPv6), IPv4 (options; fragments are reported and not
 * reassembled) and IPv6 (extension headers walked; a Fragment header is
 * reported likewise), then TCP (options skipped). Pure function over the
 * frame's octets: no allocation, no state.
 *
 * A frame cut by the snaplen keeps what was captured: the segment carries
 * the captured payload and the count of payload octets that were on the
 * wire but not captured (missing), which TCP reassembly announces as a gap.
 */
#ifndef MC_PACKET_H
#define MC_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#define MC_TCP_FIN 0x01
#define MC_TCP_SYN 0x02
#define MC_TCP_RST 0x04
#define MC_TCP_PSH 0x08
#define MC_TCP_ACK 0x10

enum mc_decode {
    MC_DEC_TCP = 0,         /* *seg filled */
    MC_DEC_NOT_TCP,         /* IP but another protocol (UDP, ICMP, ...) or not IP */
    MC_DEC_FRAGMENT,        /* an IP fragment: not reassembled */
    MC_DEC_TRUNCATED,       /* cut before the TCP header ends */
    MC_DEC_MALFORMED,       /* lengths or header fields impossible */
    MC_DEC_LINKTYPE         /* a link type this decoder does not know */
};

struct mc_tcp_seg {
    uint8_t af;             /* 4 or 6 */
    uint8_t src[16], dst[16];   /* IPv4 in the first 4 octets */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t window;
    uint8_t flags;          /* MC_TCP_* */
    const uint8_t *payload; /* into the frame */
    uint32_t len;           /* captured payload octets */
    uint32_t missing;       /* payload octets on the wire but not captured */
};

enum mc_decode mc_decode_frame(uint32_t linktype, const uint8_t *frame, uint32_t caplen,
                               uint32_t origlen, struct mc_tcp_seg *seg);

/* "TCP", "not TCP", "IP fragment", ... for reports. */
const char *mc_decode_name(enum mc_decode d);

#endif
