/*
 * Frame -> TCP segment.
 *
 *   Ethernet II (IEEE 802.3), 802.1Q / 802.1ad tags (and the pre-standard
 *   0x9100 QinQ outer tag); Linux cooked capture v1 and v2
 *   (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html, _SLL2);
 *   BSD NULL and OpenBSD LOOP; raw IP.
 *   IPv4 (RFC 791), IPv6 (RFC 8200) with its extension headers, AH
 *   (RFC 4302: length in 32-bit words minus 2), TCP (RFC 9293).
 *
 * Every read is bounded by caplen. Two lengths are tracked down the layers:
 * what was captured (cap) and what the IP header says was on the wire
 * (wire). Trailing octets beyond the IP length (Ethernet padding of short
 * frames to 60 octets) are cut off by taking min(cap, IP length); octets
 * the IP length announces beyond the capture are the snaplen's doing and
 * become seg->missing. An IP length larger than the frame on the wire is
 * impossible: MALFORMED.
 */
#include "capture/packet.h"

#include <string.h>

#include "capture/pcap_reader.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_8021Q 0x8100
#define ETH_8021AD 0x88A8
#define ETH_QINQ_OLD 0x9100

/* Link types some systems write for raw IP (DLT_RAW's value on BSDs and
 * OpenBSD leaking into files). */
#define LINKTYPE_RAW_BSD12 12
#define LINKTYPE_RAW_BSD14 14

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_TCP_ 6
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_DSTOPTS_ 60

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* cap: octets captured from p on; wire: octets on the wire from p on, as
 * far as the IP layer knows (wire >= cap). */
static enum mc_decode tcp(const uint8_t *p, uint32_t cap, uint32_t wire, struct mc_tcp_seg *seg)
{
    if (wire < 20)
        return MC_DEC_MALFORMED;
    if (cap < 20)
        return MC_DEC_TRUNCATED;
    uint32_t doff = (uint32_t)(p[12] >> 4) * 4;
    if (doff < 20 || doff > wire)
        return MC_DEC_MALFORMED;
    if (doff > cap)
        return MC_DEC_TRUNCATED;
    seg->sport = be16(p);
    seg->dport = be16(p + 2);
    seg->seq = be32(p + 4);
    seg->ack = be32(p + 8);
    seg->flags = p[13];
    seg->window = be16(p + 14);
    seg->payload = p + doff;
    seg->len = cap - doff;
    seg->missing = wire - cap;
    return MC_DEC_TCP;
}

static enum mc_decode ipv4(const uint8_t *p, uint32_t cap, uint32_t wire, struct mc_tcp_seg *seg)
{
    if (cap < 1)
        return MC_DEC_TRUNCATED;
    if (p[0] >> 4 != 4)
        return MC_DEC_MALFORMED;
    uint32_t ihl = (uint32_t)(p[0] & 15) * 4;
    if (ihl < 20 || ihl > wire)
        return MC_DEC_MALFORMED;
    if (cap < ihl)
        return MC_DEC_TRUNCATED;
    uint32_t total = be16(p + 2);
    /* 0 is what Linux records for a TCP segmentation offload super-packet
     * larger than 64 KiB, captured before the NIC splits it: the frame is
     * the datagram (Wireshark reads it the same way). */
    if (total == 0)
        total = wire;
    if (total < ihl || total > wire)
        return MC_DEC_MALFORMED;
    seg->af = 4;
    memcpy(seg->src, p + 12, 4);
    memcpy(seg->dst, p + 16, 4);
    /* MF set or a non-zero offset: a piece of a datagram, not reassembled */
    if (be16(p + 6) & 0x3FFF)
        return MC_DEC_FRAGMENT;
    if (p[9] != IPPROTO_TCP_)
        return MC_DEC_NOT_TCP;
    /* padding after the datagram (short Ethernet frames) is not payload */
    if (cap > total)
        cap = total;
    return tcp(p + ihl, cap - ihl, total - ihl, seg);
}

static enum mc_decode ipv6(const uint8_t *p, uint32_t cap, uint32_t wire, struct mc_tcp_seg *seg)
{
    if (cap >= 1 && p[0] >> 4 != 6)
        return MC_DEC_MALFORMED;
    if (wire < 40)
        return MC_DEC_MALFORMED;
    if (cap < 40)
        return MC_DEC_TRUNCATED;
    uint32_t total = 40u + be16(p + 4);
    seg->af = 6;
    memcpy(seg->src, p + 8, 16);
    memcpy(seg->dst, p + 24, 16);
    /* payload length 0 with a Hop-by-Hop jumbo option (RFC 2675): never
     * seen on a mail connection; not decoded */
    if (total == 40 && p[6] == IPPROTO_HOPOPTS_)
        return MC_DEC_MALFORMED;
    if (total > wire)
        return MC_DEC_MALFORMED;
    if (cap > total)
        cap = total;
    uint8_t nh = p[6];
    uint32_t off = 40;
    /* each extension header is at least 8 octets, so the walk ends */
    for (;;) {
        uint32_t hlen;
        switch (nh) {
        case IPPROTO_TCP_:
            return tcp(p + off, cap - off, total - off, seg);
        case IPPROTO_HOPOPTS_:
        case IPPROTO_ROUTING_:
        case IPPROTO_DSTOPTS_:
        case IPPROTO_AH_:
        case IPPROTO_FRAGMENT_:
            if (total - off < 8)
                return MC_DEC_MALFORMED;
            if (cap - off < 8)
                return MC_DEC_TRUNCATED;
            if (nh == IPPROTO_FRAGMENT_) {
                /* offset 0 and M clear is an "atomic fragment" (RFC 6946):
                 * the whole datagram, to be processed as unfragmented */
                if ((be16(p + off + 2) & 0xFFF9) != 0)
                    return MC_DEC_FRAGMENT;
                hlen = 8;
            } else if (nh == IPPROTO_AH_) {
                hlen = ((uint32_t)p[off + 1] + 2) * 4;
            } else {
                hlen = ((uint32_t)p[off + 1] + 1) * 8;
            }
            if (hlen > total - off)
                return MC_DEC_MALFORMED;
            if (hlen > cap - off)
                return MC_DEC_TRUNCATED;
            nh = p[off];
            off += hlen;
            break;
        default:
            /* UDP, ICMPv6, ESP, No Next Header, ... */
            return MC_DEC_NOT_TCP;
        }
    }
}

/* After the link layer: an EtherType-like protocol number. */
static enum mc_decode by_ethertype(uint16_t et, const uint8_t *p, uint32_t cap, uint32_t wire,
                                   struct mc_tcp_seg *seg)
{
    uint32_t off = 0;
    /* any number of VLAN tags: 2 octets of tag control, then the next type */
    while (et == ETH_8021Q || et == ETH_8021AD || et == ETH_QINQ_OLD) {
        if (cap - off < 4)
            return MC_DEC_TRUNCATED;
        et = be16(p + off + 2);
        off += 4;
    }
    if (et == ETH_IPV4)
        return ipv4(p + off, cap - off, wire - off, seg);
    if (et == ETH_IPV6)
        return ipv6(p + off, cap - off, wire - off, seg);
    return MC_DEC_NOT_TCP;
}

/* BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 is 24
 * (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS). */
static enum mc_decode by_af(uint32_t af, const uint8_t *p, uint32_t cap, uint32_t wire,
                            struct mc_tcp_seg *seg)
{
    if (af == 2)
        return ipv4(p, cap, wire, seg);
    if (af == 24 || af == 28 || af == 30)
        return ipv6(p, cap, wire, seg);
    return MC_DEC_NOT_TCP;
}

enum mc_decode mc_decode_frame(uint32_t linktype, const uint8_t *frame, uint32_t caplen,
                               uint32_t origlen, struct mc_tcp_seg *seg)
{
    memset(seg, 0, sizeof(*seg));
    /* wire >= cap always, so that the subtractions below cannot wrap */
    uint32_t cap = caplen, wire = origlen > caplen ? origlen : caplen;
    const uint8_t *p = frame;
    uint32_t af;
    switch (linktype) {
    case MC_LINKTYPE_ETHERNET:
        if (cap < 14)
            return MC_DEC_TRUNCATED;
        /* below 0x0600 the field is an 802.3 length (LLC follows): not IP */
        return by_ethertype(be16(p + 12), p + 14, cap - 14, wire - 14, seg);
    case MC_LINKTYPE_LINUX_SLL:
        if (cap < 16)
            return MC_DEC_TRUNCATED;
        return by_ethertype(be16(p + 14), p + 16, cap - 16, wire - 16, seg);
    case MC_LINKTYPE_LINUX_SLL2:
        if (cap < 20)
            return MC_DEC_TRUNCATED;
        return by_ethertype(be16(p), p + 20, cap - 20, wire - 20, seg);
    case MC_LINKTYPE_NULL:
        if (cap < 4)
            return MC_DEC_TRUNCATED;
        /* the capturing host's byte order, which the file does not record:
         * the value is small, so whichever order gives a known family wins */
        af = le32(p);
        if (af > 0xFFFF)
            af = be32(p);
        return by_af(af, p + 4, cap - 4, wire - 4, seg);
    case MC_LINKTYPE_LOOP:
        if (cap < 4)
            return MC_DEC_TRUNCATED;
        return by_af(be32(p), p + 4, cap - 4, wire - 4, seg);
    case MC_LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD12:
    case LINKTYPE_RAW_BSD14:
        if (cap < 1)
            return MC_DEC_TRUNCATED;
        if (p[0] >> 4 == 4)
            return ipv4(p, cap, wire, seg);
        if (p[0] >> 4 == 6)
            return ipv6(p, cap, wire, seg);
        return MC_DEC_NOT_TCP;
    case MC_LINKTYPE_IPV4:
        return ipv4(p, cap, wire, seg);
    case MC_LINKTYPE_IPV6:
        return ipv6(p, cap, wire, seg);
    default:
        return MC_DEC_LINKTYPE;
    }
}

const char *mc_decode_name(enum mc_decode d)
{
    switch (d) {
    case MC_DEC_TCP:
        return "TCP";
    case MC_DEC_NOT_TCP:
        return "not TCP";
    case MC_DEC_FRAGMENT:
        return "IP fragment";
    case MC_DEC_TRUNCATED:
        return "truncated before the end of the TCP header";
    case MC_DEC_MALFORMED:
        return "malformed IP or TCP header";
    case MC_DEC_LINKTYPE:
        return "unknown link type";
    }
    return "unknown decode result";
}
