/*
 * pcap_dump FILE|-: one line per packet as validator/capture reads and
 * decodes it, for test_mkpcap.py to compare with its own reading:
 *
 *   frame linktype ts_ns caplen origlen decode [sport dport seq ack flags len missing]
 *
 * then "end" or "error OFFSET MESSAGE". Test helper, not installed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/packet.h"
#include "capture/pcap_reader.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_dump FILE|-\n");
        return 2;
    }
    int fd = strcmp(argv[1], "-") == 0 ? 0 : open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 2;
    }
    struct mc_pcap_reader *r = mc_pcap_open_fd(fd, argv[1]);
    if (!r)
        return 2;
    struct mc_packet pkt;
    enum mc_pcap_status st;
    while ((st = mc_pcap_next(r, &pkt)) == MC_PCAP_PACKET) {
        struct mc_tcp_seg seg;
        enum mc_decode d = mc_decode_frame(pkt.linktype, pkt.data, pkt.caplen, pkt.origlen, &seg);
        printf("%llu %lu %llu %lu %lu %d", (unsigned long long)pkt.frame,
               (unsigned long)pkt.linktype, (unsigned long long)pkt.ts_ns,
               (unsigned long)pkt.caplen, (unsigned long)pkt.origlen, (int)d);
        if (d == MC_DEC_TCP)
            printf(" %u %u %lu %lu %u %lu %lu", seg.sport, seg.dport, (unsigned long)seg.seq,
                   (unsigned long)seg.ack, seg.flags, (unsigned long)seg.len,
                   (unsigned long)seg.missing);
        printf("\n");
    }
    if (st == MC_PCAP_END)
        printf("end\n");
    else
        printf("error %llu %s\n", (unsigned long long)mc_pcap_error_offset(r), mc_pcap_error(r));
    mc_pcap_close(r);
    if (fd > 0)
        close(fd);
    return st == MC_PCAP_END ? 0 : 1;
}
