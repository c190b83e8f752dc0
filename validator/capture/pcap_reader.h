/*
 * Streaming reader of packet captures: classic pcap (either byte order,
 * microsecond or nanosecond timestamps) and pcapng (every section and byte
 * order, several interfaces with their own link types and timestamp
 * resolutions; Enhanced, Simple and obsolete Packet Blocks; other blocks
 * skipped). Our own reader rather than libpcap: it reads a pipe as well as
 * a file, fuzzes over plain bytes (Debian's libpcap cannot be linked into a
 * static fuzz target), and allocates only at open: one buffer that grows to
 * the largest record it accepts (MC_PCAP_RECORD_MAX), never per packet.
 *
 * Hostile input: every length is checked against what remains and against
 * the record limit. A record cut short (a capture whose writer died) ends
 * the stream with MC_PCAP_ERROR after every whole packet was delivered; the
 * error names the byte offset and frame.
 */
#ifndef MC_PCAP_READER_H
#define MC_PCAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest record (pcap packet, pcapng block) accepted; a larger one is an
 * error (no capture tool writes one; a hostile length must not allocate). */
#define MC_PCAP_RECORD_MAX (16u * 1024 * 1024)

/* Link types (https://www.tcpdump.org/linktypes.html) the decoder knows. */
#define MC_LINKTYPE_NULL 0          /* BSD loopback: 4-octet AF in host order */
#define MC_LINKTYPE_ETHERNET 1
#define MC_LINKTYPE_RAW 101         /* raw IPv4 or IPv6 */
#define MC_LINKTYPE_LOOP 108        /* OpenBSD loopback: AF in network order */
#define MC_LINKTYPE_LINUX_SLL 113
#define MC_LINKTYPE_IPV4 228
#define MC_LINKTYPE_IPV6 229
#define MC_LINKTYPE_LINUX_SLL2 276

enum mc_pcap_status {
    MC_PCAP_PACKET = 1,   /* *pkt filled */
    MC_PCAP_END = 0,      /* clean end of input */
    MC_PCAP_ERROR = -1    /* mc_pcap_error() says what and where */
};

struct mc_packet {
    uint64_t frame;       /* 1-based packet number, as Wireshark counts them */
    uint64_t ts_ns;       /* timestamp, nanoseconds since the epoch */
    uint32_t linktype;    /* MC_LINKTYPE_* or another LINKTYPE_ value */
    uint32_t interface;   /* pcapng interface id; 0 for pcap */
    uint32_t caplen;      /* octets captured (data) */
    uint32_t origlen;     /* octets on the wire (>= caplen when snaplen cut it) */
    const uint8_t *data;  /* caplen octets, valid until the next call */
};

struct mc_pcap_reader;

/* fd: a file or a pipe, read sequentially (never seeked); not closed by
 * mc_pcap_close. name is for messages. NULL on allocation failure. */
struct mc_pcap_reader *mc_pcap_open_fd(int fd, const char *name);
/* The same when the first n octets (at most a few KiB) were already read
 * from fd to tell a capture from a transcript (a pipe cannot be rewound). */
struct mc_pcap_reader *mc_pcap_open_fd_prefix(int fd, const uint8_t *prefix, size_t n,
                                              const char *name);
/* The same over bytes in memory (fuzzing, tests); buf must outlive it. */
struct mc_pcap_reader *mc_pcap_open_mem(const uint8_t *buf, size_t len, const char *name);

/* pcapng Decryption Secrets Block (block type 0x0000000A): secrets of
 * secrets_type (MC_PCAP_SECRETS_TLS: NSS key log text), n octets, valid
 * during the call. Called from mc_pcap_next while it reads on to the next
 * packet, so secrets are known before the packets that follow them. */
#define MC_PCAP_SECRETS_TLS 0x544c534bu   /* "TLSK" */
typedef void (*mc_pcap_secrets_fn)(void *ctx, uint32_t secrets_type, const uint8_t *p, size_t n);
void mc_pcap_on_secrets(struct mc_pcap_reader *r, mc_pcap_secrets_fn fn, void *ctx);

/* The next packet. Non-packet blocks are consumed silently (Decryption
 * Secrets Blocks go to the mc_pcap_on_secrets callback). */
enum mc_pcap_status mc_pcap_next(struct mc_pcap_reader *r, struct mc_packet *pkt);

/* After MC_PCAP_ERROR: a sentence naming the problem ("record of frame 12
 * cut short: 1514 octets announced, 600 present"), and the byte offset in
 * the input where the bad record starts. */
const char *mc_pcap_error(const struct mc_pcap_reader *r);
uint64_t mc_pcap_error_offset(const struct mc_pcap_reader *r);

/* "pcap" or "pcapng" once the header was read, else NULL. */
const char *mc_pcap_format(const struct mc_pcap_reader *r);
/* Input octets consumed so far (progress). */
uint64_t mc_pcap_offset(const struct mc_pcap_reader *r);

void mc_pcap_close(struct mc_pcap_reader *r);

/* True when the first octets (at least 4) are a pcap or pcapng magic:
 * how `check` tells a capture from a transcript. */
bool mc_pcap_magic(const uint8_t *p, size_t n);

#endif
