/*
 * The libpcap read limit: pcap_next_ex over every packet of a capture file,
 * summing the captured lengths so the loop is not optimised away. No parsing.
 * Baseline for bench/bench_capture.py.
 *
 * build: cc -O2 -o pcap_loop bench/pcap_loop.c -lpcap
 * usage: pcap_loop FILE.pcap   (prints "<packets> packets, <bytes> captured octets")
 */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, sum = 0;
    unsigned x = 0;
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: pcap_loop FILE.pcap\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcap_loop: %s\n", err);
        return 2;
    }
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        n++;
        sum += h->caplen;
        if (h->caplen)
            x ^= d[h->caplen - 1];  /* touch the packet data */
    }
    if (r == PCAP_ERROR) {
        fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(p));
        return 2;
    }
    printf("%llu packets, %llu captured octets (%u)\n", n, sum, x);
    pcap_close(p);
    return 0;
}
