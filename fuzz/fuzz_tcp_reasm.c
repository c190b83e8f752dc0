/*
 * fuzz_tcp_reasm: TCP reassembly (validator/capture/tcp_reasm.c), fed a
 * script of segments with small limits so that eviction, timeouts, holding
 * caps, FIN/RST handling and port reuse are all reached.
 *
 * Input: 2 option bytes, then records of 5 octets plus payload.
 *   option 0  bits 0-1  max_flows 1..4
 *             bits 2-4  held_per_dir = 8 << n octets
 *             bits 5-6  held_total = 16 << 2n octets
 *             bit 7     "dirty": payload octets come from the input (so
 *                       retransmissions may differ); otherwise each payload
 *                       octet is the low byte of its own sequence number
 *   option 1  bits 0-3  idle timeout = n * 1000 ns (0: never)
 *             bit 4     no is_server_port callback
 *   record    byte 0  bits 0-1  which 4-tuple (client ports 1000..1002 and
 *                               30 against server port 25)
 *                     bit 2     sent by the "server" endpoint
 *                     bits 3-7  TCP flags FIN SYN RST PSH ACK
 *             byte 1-2  seq: int16 delta from where this direction of the
 *                       tuple left off (little endian)
 *             byte 3    payload length (captured)
 *             byte 4    bits 0-2 missing octets (snaplen cut), bits 3-5 time
 *                       step (n^3 * 100 ns), bits 6-7 ack: the peer's
 *                       position +0 / -7 / +7 / +4096
 *             payload   when dirty: `length` octets from the input
 *
 * Oracles (abort() on failure):
 * - every callback of a flow lies between its open and its close; every
 *   flow is closed by mc_reasm_finish(); data and gap lengths are > 0;
 * - per direction nothing after its fin, at most one fin;
 * - clean mode: a delivered octet at stream position p is the low byte of
 *   isn + p for one isn per direction, so no octet is delivered twice, out
 *   of order or shifted (modulo 256), and no OVERLAP_DIFFERS is ever noted;
 * - the stats agree with the callbacks (flows, gaps, gap octets, differing
 *   overlaps, evictions, timeouts) and held_peak <= held_total.
 */
#include "fuzz_common.h"

#include "capture/tcp_reasm.h"

struct fflow {
    struct fflow *next_all;
    bool closed, fin[2], have_base[2];
    uint8_t base[2];        /* low byte of isn */
    uint64_t pos[2];
};

struct run {
    bool dirty;
    struct fflow *all;
    uint64_t opens, closes, gaps, gap_octets, differs, evicted, timeouts;
};

FZ_ORACLE
static void live(const struct fflow *f)
{
    FZ_CHECK(f != NULL);
    FZ_CHECK(!f->closed);
}

FZ_ORACLE
static void *on_open(void *ctx, const struct mc_reasm_flow_info *fi)
{
    struct run *r = ctx;
    FZ_CHECK(fi->af == 4 || fi->af == 6);
    struct fflow *f = calloc(1, sizeof *f);
    FZ_CHECK(f != NULL);
    f->next_all = r->all;
    r->all = f;
    r->opens++;
    return f;
}

FZ_ORACLE
static void on_data(void *ctx, void *flow, enum mc_reasm_dir d, const uint8_t *p, size_t n,
                    uint64_t frame)
{
    struct run *r = ctx;
    struct fflow *f = flow;
    (void)frame;
    live(f);
    FZ_CHECK(d == MC_REASM_C2S || d == MC_REASM_S2C);
    FZ_CHECK(n > 0);
    FZ_CHECK(!f->fin[d]);
    if (!r->dirty) {
        if (!f->have_base[d]) {
            f->have_base[d] = true;
            f->base[d] = (uint8_t)(p[0] - (uint8_t)f->pos[d]);
        }
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(p[i] == (uint8_t)(f->base[d] + f->pos[d] + i));
    }
    f->pos[d] += n;
}

FZ_ORACLE
static void on_gap(void *ctx, void *flow, enum mc_reasm_dir d, uint64_t n, uint64_t frame)
{
    struct run *r = ctx;
    struct fflow *f = flow;
    (void)frame;
    live(f);
    FZ_CHECK(n > 0);
    FZ_CHECK(!f->fin[d]);
    f->pos[d] += n;
    r->gaps++;
    r->gap_octets += n;
}

FZ_ORACLE
static void on_fin(void *ctx, void *flow, enum mc_reasm_dir d, bool rst, uint64_t frame)
{
    struct fflow *f = flow;
    (void)ctx;
    (void)rst;
    (void)frame;
    live(f);
    FZ_CHECK(!f->fin[d]);
    f->fin[d] = true;
}

FZ_ORACLE
static void on_note(void *ctx, void *flow, enum mc_reasm_note n, enum mc_reasm_dir d,
                    uint64_t frame, uint64_t detail)
{
    struct run *r = ctx;
    (void)frame;
    (void)d;
    live(flow);
    FZ_CHECK(n <= MC_REASM_PORT_REUSE);
    if (n == MC_REASM_OVERLAP_DIFFERS) {
        FZ_CHECK(r->dirty);
        FZ_CHECK(detail > 0);
        r->differs++;
    }
    r->evicted += n == MC_REASM_EVICTED;
    r->timeouts += n == MC_REASM_IDLE_TIMEOUT;
}

FZ_ORACLE
static void on_close(void *ctx, void *flow, uint64_t frame)
{
    struct run *r = ctx;
    struct fflow *f = flow;
    (void)frame;
    live(f);
    f->closed = true;
    r->closes++;
}

FZ_ORACLE
static bool server_port(void *ctx, uint16_t port)
{
    (void)ctx;
    return port == 25;
}

struct side {
    uint32_t seq;       /* where this direction of the tuple left off */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct run run;
    memset(&run, 0, sizeof run);
    uint8_t o0 = data[0], o1 = data[1];
    run.dirty = o0 & 0x80;
    struct mc_reasm_limits lim = {
        .max_flows = 1u + (o0 & 3),
        .held_per_dir = 8u << ((o0 >> 2) & 7),
        .held_total = 16u << (2 * ((o0 >> 5) & 3)),
        .idle_timeout_ns = 1000u * (o1 & 15),
    };
    struct mc_reasm_cb cb = {&run, on_open, on_data, on_gap, on_fin, on_note, on_close,
                             (o1 & 0x10) ? NULL : server_port};
    struct mc_reasm *r = mc_reasm_new(&lim, &cb);
    FZ_CHECK(r != NULL);

    static const uint16_t cports[4] = {1000, 1001, 1002, 30};
    struct side sides[4][2];
    for (int t = 0; t < 4; t++)
        for (int s = 0; s < 2; s++)
            sides[t][s].seq = 0x10000u * (uint32_t)(t + 1) + (s ? 0x7fff0000u : 0xfffff000u);
    uint8_t buf[256];
    uint64_t ts = 0, frame = 0;
    size_t i = 2;
    while (i + 5 <= size) {
        uint8_t b0 = data[i], len = data[i + 3], b4 = data[i + 4];
        int16_t delta = (int16_t)(uint16_t)(data[i + 1] | data[i + 2] << 8);
        i += 5;
        int t = b0 & 3, srv = (b0 >> 2) & 1;
        struct mc_tcp_seg seg;
        memset(&seg, 0, sizeof seg);
        seg.af = t == 2 ? 6 : 4;
        seg.src[0] = seg.dst[0] = 10;
        seg.src[seg.af == 6 ? 15 : 3] = srv ? 2 : 1;
        seg.dst[seg.af == 6 ? 15 : 3] = srv ? 1 : 2;
        seg.sport = srv ? 25 : cports[t];
        seg.dport = srv ? cports[t] : 25;
        seg.flags = (uint8_t)(b0 >> 3);
        seg.seq = sides[t][srv].seq + (uint32_t)(int32_t)delta;
        static const uint32_t ack_delta[4] = {0, (uint32_t)-7, 7, 4096};
        seg.ack = sides[t][!srv].seq + ack_delta[b4 >> 6];
        seg.len = len;
        seg.missing = b4 & 7;
        uint32_t first = seg.seq + ((seg.flags & MC_TCP_SYN) ? 1 : 0);
        if (run.dirty) {
            if (len > size - i)
                seg.len = len = (uint8_t)(size - i);
            memcpy(buf, data + i, len);
            i += len;
        } else {
            for (uint32_t k = 0; k < len; k++)
                buf[k] = (uint8_t)(first + k);
        }
        seg.payload = buf;
        sides[t][srv].seq = first + seg.len + seg.missing +
                            ((seg.flags & MC_TCP_FIN) ? 1 : 0);
        uint32_t step = (b4 >> 3) & 7;
        ts += step * step * step * 100;
        mc_reasm_segment(r, &seg, ++frame, ts);
    }
    mc_reasm_finish(r, frame);

    const struct mc_reasm_stats *st = mc_reasm_stats(r);
    FZ_CHECK(run.opens == run.closes);
    FZ_CHECK(st->flows == run.opens);
    FZ_CHECK(st->gaps == run.gaps);
    FZ_CHECK(st->gap_octets == run.gap_octets);
    FZ_CHECK(st->overlaps_differing == run.differs);
    FZ_CHECK(st->evicted == run.evicted);
    FZ_CHECK(st->timeouts == run.timeouts);
    FZ_CHECK(st->held_peak <= lim.held_total);
    FZ_CHECK(st->segments == frame);
    mc_reasm_free(r);
    while (run.all) {
        struct fflow *f = run.all;
        FZ_CHECK(f->closed);
        run.all = f->next_all;
        free(f);
    }
    return 0;
}
