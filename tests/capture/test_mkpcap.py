#!/usr/bin/env python3
"""Checks tests/capture/mkpcap.py against readers that do not share its code.

- A small pcap/pcapng parser and an Ethernet/SLL/NULL/IP/TCP decoder written
  here from the format documents (not from mkpcap), which also verifies the
  IPv4 header checksum and the TCP checksum.
- libpcap itself, through ctypes, when libpcap.so is installed (skipped
  otherwise): record count, link type, lengths, timestamps and octets.
- tcpdump -r, when tcpdump is on PATH (skipped otherwise).

Conversations are reassembled per direction from the decoded segments and
must give back the transcript's octets, with gaps where segments were
dropped. Run by ctest as test_mkpcap; Python 3 standard library only.
"""
import ctypes
import ctypes.util
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mkpcap  # noqa: E402


# ---- an independent reader ------------------------------------------------------

def read_capture(b):
    """[(linktype, ts_ns, data, origlen)] from pcap or pcapng bytes."""
    m = b[:4]
    if m in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        bo = "<" if m[0] in (0xd4, 0x4d) else ">"
        nsec = m in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        lt = struct.unpack_from(bo + "I", b, 20)[0]
        off, out = 24, []
        while off < len(b):
            sec, frac, cap, orig = struct.unpack_from(bo + "IIII", b, off)
            out.append((lt, sec * 10**9 + (frac if nsec else frac * 1000), b[off + 16:off + 16 + cap], orig))
            off += 16 + cap
        assert off == len(b), "trailing octets"
        return out
    assert m == b"\x0a\x0d\x0d\x0a", "not a capture"
    off, out, bo, ifs = 0, [], "<", []
    while off < len(b):
        if b[off:off + 4] == b"\x0a\x0d\x0d\x0a":
            bo = "<" if b[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifs = []
        btype, blen = struct.unpack_from(bo + "II", b, off)
        assert blen % 4 == 0 and blen >= 12
        assert struct.unpack_from(bo + "I", b, off + blen - 4)[0] == blen
        body = b[off + 8:off + blen - 4]
        if btype == 1:
            lt, _, snap = struct.unpack_from(bo + "HHI", body)
            res, tsoff, o = 6, 0, 8
            while o + 4 <= len(body):
                code, olen = struct.unpack_from(bo + "HH", body, o)
                if code == 0:
                    break
                if code == 9:
                    res = body[o + 4]
                if code == 14:
                    tsoff = struct.unpack_from(bo + "q", body, o + 4)[0]
                o += 4 + (olen + 3) // 4 * 4
            ifs.append((lt, snap, res, tsoff))
        elif btype in (2, 6):
            if btype == 6:
                i, hi, lo, cap, orig = struct.unpack_from(bo + "IIIII", body)
            else:
                i, _, hi, lo, cap, orig = struct.unpack_from(bo + "HHIIII", body)
            lt, _, res, tsoff = ifs[i]
            u = hi << 32 | lo
            ns = (u * 10**9 >> (res & 0x7F)) if res & 0x80 else u * 10**9 // 10**res
            out.append((lt, ns + tsoff * 10**9, body[20:20 + cap], orig))
        elif btype == 3:
            orig = struct.unpack_from(bo + "I", body)[0]
            lt, snap = ifs[0][0], ifs[0][1]
            cap = min(orig, len(body) - 4, snap or 1 << 32)
            out.append((lt, None, body[4:4 + cap], orig))
        off += blen
    return out


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def decode(lt, f):
    """(af, src, dst, sport, dport, seq, ack, flags, payload) or None."""
    if lt == 1:
        et, o = struct.unpack_from("!H", f, 12)[0], 14
        while et in (0x8100, 0x88A8, 0x9100):
            et, o = struct.unpack_from("!H", f, o + 2)[0], o + 4
    elif lt == 113:
        et, o = struct.unpack_from("!H", f, 14)[0], 16
    elif lt == 276:
        et, o = struct.unpack_from("!H", f, 0)[0], 20
    elif lt in (0, 108):
        af = struct.unpack_from("<I" if lt == 0 and f[0] else "!I", f)[0]
        et, o = (0x0800 if af == 2 else 0x86DD), 4
    else:
        et, o = (0x0800 if f[0] >> 4 == 4 else 0x86DD), 0
    ip = f[o:]
    if et == 0x0800:
        ihl = (ip[0] & 15) * 4
        assert csum(ip[:ihl]) == 0xFFFF, "IPv4 header checksum"
        total = struct.unpack_from("!H", ip, 2)[0]
        if struct.unpack_from("!H", ip, 6)[0] & 0x3FFF:
            return "fragment"
        src, dst, proto, seg = ip[12:16], ip[16:20], ip[9], ip[ihl:total]
        seglen = total - ihl
    else:
        total = 40 + struct.unpack_from("!H", ip, 4)[0]
        nh, o, src, dst = ip[6], 40, ip[8:24], ip[24:40]
        while nh in (0, 43, 60, 51, 44):
            if nh == 44:
                if struct.unpack_from("!H", ip, o + 2)[0] & 0xFFF9:
                    return "fragment"
                n = 8
            else:
                n = (ip[o + 1] + 2) * 4 if nh == 51 else (ip[o + 1] + 1) * 8
            nh, o = ip[o], o + n
        proto, seg = nh, ip[o:total]
        seglen = total - o
    if proto != 6:
        return None
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, seglen)
    else:
        pseudo = src + dst + struct.pack("!IxxxB", seglen, 6)
    if seg[16:18] != b"\0\0" and len(seg) == seglen:   # not cut by a snaplen
        assert csum(pseudo + seg) == 0xFFFF, "TCP checksum"
    sport, dport, seq, ack, doff, flags = struct.unpack_from("!HHIIBB", seg)
    payload = seg[(doff >> 4) * 4:]
    return (4 if et == 0x0800 else 6, src, dst, sport, dport, seq, ack, flags, payload,
            seglen - (doff >> 4) * 4 - len(payload))


def reassemble(pkts, server_port):
    """{dir: bytes with b'?' for gaps}, FIN flags, SYN count; checks acks."""
    streams = {"C": {}, "S": {}}
    base, fins, syns = {}, {"C": None, "S": None}, 0
    for lt, _, data, _ in pkts:
        d = decode(lt, data)
        assert d and d != "fragment"
        _, _, _, sport, dport, seq, ack, flags, payload, _ = d
        dr = "S" if sport == server_port else "C"
        if flags & mkpcap.SYN:
            syns += 1
            base[dr] = seq + 1
            continue
        base.setdefault(dr, seq)
        if flags & mkpcap.FIN:
            fins[dr] = seq + len(payload)
        for i, b in enumerate(payload):
            streams[dr].setdefault(seq + i, b)
    out = {}
    for dr, m in streams.items():
        if not m:
            out[dr] = b""
            continue
        lo, hi = base[dr], max(m) + 1
        out[dr] = bytes(m.get(i, ord("?")) for i in range(lo, hi))
    return out, fins, syns


# ---- libpcap through ctypes -------------------------------------------------

class _Hdr(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("usec", ctypes.c_long), ("caplen", ctypes.c_uint32),
                ("len", ctypes.c_uint32)]


def _libpcap():
    name = ctypes.util.find_library("pcap")
    for cand in (name, "libpcap.so", "libpcap.so.1", "libpcap.so.0.8"):
        if not cand:
            continue
        try:
            lib = ctypes.CDLL(cand)
        except OSError:
            continue
        lib.pcap_open_offline_with_tstamp_precision.restype = ctypes.c_void_p
        lib.pcap_open_offline_with_tstamp_precision.argtypes = [ctypes.c_char_p, ctypes.c_uint,
                                                                ctypes.c_char_p]
        lib.pcap_next_ex.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(_Hdr)),
                                     ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
        lib.pcap_datalink.argtypes = [ctypes.c_void_p]
        lib.pcap_close.argtypes = [ctypes.c_void_p]
        return lib
    return None


LIBPCAP = _libpcap()


def libpcap_read(path):
    """[(linktype, ts_ns, data, origlen)] as libpcap reads the file."""
    err = ctypes.create_string_buffer(512)
    p = LIBPCAP.pcap_open_offline_with_tstamp_precision(path.encode(), 1, err)  # nanoseconds
    if not p:
        raise AssertionError("libpcap: " + err.value.decode())
    out = []
    try:
        lt = LIBPCAP.pcap_datalink(p)
        h, d = ctypes.POINTER(_Hdr)(), ctypes.POINTER(ctypes.c_ubyte)()
        while True:
            r = LIBPCAP.pcap_next_ex(p, ctypes.byref(h), ctypes.byref(d))
            if r == -2:
                break
            if r != 1:
                raise AssertionError("libpcap read error %d" % r)
            hh = h.contents
            out.append((lt, hh.sec * 10**9 + hh.usec, ctypes.string_at(d, hh.caplen), hh.len))
    finally:
        LIBPCAP.pcap_close(p)
    return out


# ---- validator/capture through tests/capture/pcap_dump.c ---------------------

PCAP_DUMP = os.environ.get("MC_PCAP_DUMP")


def ours(data):
    """pcap_dump's lines for capture bytes (fed through a pipe on stdin)."""
    r = subprocess.run([PCAP_DUMP, "-"], input=data, capture_output=True)
    return r.stdout.decode().splitlines()


def expected_dump(data):
    """What pcap_dump must print for a whole capture, from read_capture()."""
    lines = []
    for k, (lt, ts, frame, orig) in enumerate(read_capture(data), 1):
        line = "%d %d %d %d %d" % (k, lt, ts or 0, len(frame), orig)
        try:
            d = decode(lt, frame)
        except (AssertionError, IndexError, struct.error):
            if len(frame) >= orig:
                raise
            d = "truncated"   # the snaplen cut the headers: MC_DEC_TRUNCATED
        if d == "truncated":
            line += " 3"
        elif d is None or d == "fragment":
            line += " %d" % (1 if d is None else 2)
        else:
            _, _, _, sport, dport, seq, ack, flags, payload, missing = d
            line += " 0 %d %d %d %d %d %d %d" % (sport, dport, seq, ack, flags, len(payload),
                                                missing)
        lines.append(line)
    return lines + ["end"]


# ---- tests ------------------------------------------------------------------------

TRANSCRIPT = r"""# an IMAP session
@ protocol imap
S: * OK [CAPABILITY IMAP4rev1] ready\r\n
C: a1 LOGIN user pass\r\n
S: a1 OK done\r\n
C: a2 APPEND INBOX {3000}\r\n
S: + go\r\n
C: """ + "x" * 3000 + r"""\r\n
! gap S 7
S: a2 OK \x00\xff\\ appended\r\n
C: a3 LOGOUT\r\n
! close C
"""


class MkpcapTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mkpcap-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def same_as_ours(self, data):
        if PCAP_DUMP:
            self.assertEqual(ours(data), expected_dump(data))

    def frames(self, af=4):
        out = []
        for k, kind in enumerate(("ether", "sll", "sll2", "null", "loop", "raw")):
            ip = mkpcap.tcp_ip(af, "192.0.2.1" if af == 4 else "2001:db8::1",
                               "192.0.2.2" if af == 4 else "2001:db8::2", 1000 + k, 25, k, 7, "PA",
                               b"payload %d" % k)
            out.append((kind, mkpcap.link(kind, ip)))
        return out

    def test_pcap_every_variant(self):
        for bo in "<>":
            for nsec in (False, True):
                ts = 1700000000 * 10**9 + 123456789
                pkts = [mkpcap.Packet(ts + i, b"\x00" * i + bytes([i])) for i in range(5)]
                b = mkpcap.pcap_bytes(pkts, linktype=113, byteorder=bo, nsec=nsec, snaplen=3)
                got = read_capture(b)
                self.assertEqual(len(got), 5)
                if PCAP_DUMP:   # frames of junk: the records only
                    want = ["%d %d %d %d %d" % (k, g[0], g[1], len(g[2]), g[3])
                            for k, g in enumerate(got, 1)]
                    self.assertEqual([" ".join(x.split()[:5]) for x in ours(b)[:-1]], want)
                for i, (lt, t, data, orig) in enumerate(got):
                    self.assertEqual(lt, 113)
                    self.assertEqual(t, ts + i if nsec else (ts + i) // 1000 * 1000)
                    self.assertEqual(data, (b"\x00" * i + bytes([i]))[:3])
                    self.assertEqual(orig, i + 1)
                if LIBPCAP:
                    p = self.path("v.pcap")
                    with open(p, "wb") as f:
                        f.write(b)
                    self.assertEqual(libpcap_read(p), got)

    def test_link_layers_decode(self):
        for af in (4, 6):
            for kind, f in self.frames(af):
                d = decode(mkpcap.LINKTYPES[kind], f)
                self.assertEqual(d[0], af, kind)
                self.assertTrue(d[8].startswith(b"payload"), kind)
        ip = mkpcap.tcp_ip(4, "10.0.0.1", "10.0.0.2", 1, 2, 3, 4, "A", b"x")
        f = mkpcap.link("ether", ip, vlans=[(0x88A8, 5), (0x8100, 6)])
        self.assertEqual(f[12:20], bytes.fromhex("88a8000581000006"))
        self.assertEqual(len(f), 14 + 8 + 41)
        self.assertEqual(len(mkpcap.link("ether", ip)), 60)   # padded to the minimum
        self.assertEqual(decode(1, f)[8], b"x")

    def test_ip_details(self):
        seg = mkpcap.tcp(1, 2, 3, 4, "S", b"", options=b"\x02\x04\x05\xb4")
        p = mkpcap.ipv4("10.0.0.1", "10.0.0.2", seg, options=b"\x94\x04\0\0")
        self.assertEqual(p[0], 0x46)
        self.assertEqual(csum(p[:24]), 0xFFFF)
        self.assertEqual(decode(228, p)[7], mkpcap.SYN)
        frag = mkpcap.ipv4("10.0.0.1", "10.0.0.2", seg, mf=True)
        self.assertEqual(decode(228, frag), "fragment")
        frag = mkpcap.ipv4("10.0.0.1", "10.0.0.2", seg, frag_offset=16, df=False)
        self.assertEqual(struct.unpack_from("!H", frag, 6)[0], 2)
        ext = [mkpcap.ext_hop(), mkpcap.ext_routing(16), mkpcap.ext_dstopts(), mkpcap.ext_ah()]
        p6 = mkpcap.tcp_ip(6, "2001:db8::1", "2001:db8::2", 5, 6, 7, 8, "A", b"data", ext=ext)
        self.assertEqual(decode(229, p6)[8], b"data")
        self.assertEqual(p6[6], 0)
        p6 = mkpcap.tcp_ip(6, "2001:db8::1", "2001:db8::2", 5, 6, 7, 8, "A", b"d",
                           ext=[mkpcap.ext_fragment(8, True)])
        self.assertEqual(decode(229, p6), "fragment")

    def test_pcapng(self):
        for bo in "<>":
            w = mkpcap.Pcapng(bo)
            w.block(0x0BAD, b"unknown")
            e = w.interface(1)
            r = w.interface(101, snaplen=40, tsresol=9)
            b2 = w.interface(113, tsresol=0x80 | 20, tsoffset=10)
            frames = dict(self.frames())
            w.epb(e, 1700000000123456000, frames["ether"])
            w.epb(r, 1700000000123456789, frames["raw"])
            w.pb(b2, 10 * 10**9 + 500000000, frames["sll"])   # 2^19 units of 2^-20 s
            w.section("<" if bo == ">" else ">")
            w.interface(276, snaplen=30)
            w.spb(frames["sll2"])
            w.epb(0, 5 * 10**9, frames["sll2"])
            got = read_capture(w.getvalue())
            self.assertEqual([g[0] for g in got], [1, 101, 113, 276, 276])
            self.assertEqual(got[0][1], 1700000000123456000)
            self.assertEqual(got[1][1], 1700000000123456789)
            self.assertEqual(got[1][2], frames["raw"][:40])
            self.assertEqual(got[2][1], 10 * 10**9 + 500000000)
            self.assertEqual(got[3][2], frames["sll2"][:30])
            self.assertEqual(got[3][3], len(frames["sll2"]))
            self.assertEqual(got[4][1], 5 * 10**9)
            self.same_as_ours(w.getvalue())
            # libpcap reads a single-link-type pcapng
            if LIBPCAP:
                w = mkpcap.Pcapng(bo)
                w.interface(1, tsresol=9)
                w.block(0x0BAD, b"x" * 5)
                w.epb(0, 42, frames["ether"])
                w.epb(0, 43, frames["ether"][:20], origlen=99)
                p = self.path("n.pcapng")
                w.write(p)
                self.assertEqual(libpcap_read(p), read_capture(w.getvalue()))

    def test_cut(self):
        pkts = [mkpcap.Packet(0, b"abcd" * 10) for _ in range(3)]
        b = mkpcap.cut(mkpcap.pcap_bytes(pkts), 5)
        self.assertEqual(len(b), 24 + 3 * 56 - 5)
        with self.assertRaises(Exception):
            read_capture(b)
        if PCAP_DUMP:
            got = ours(b)
            self.assertEqual(len(got), 3)
            self.assertTrue(got[2].startswith("error %d record of frame 3 cut short" % (24 + 2 * 56)),
                            got[2])

    def check_conv(self, pkts, items, server_port=143, expect=None, syns=2):
        got, fins, nsyn = reassemble([(mkpcap.LINKTYPES.get(self.kind, 1), None, p.data, None)
                                      for p in pkts], server_port)
        self.assertEqual(nsyn, syns)
        want = {"C": b"", "S": b""}
        for it in items:
            if it[0] in "CS":
                want[it[0]] += it[1]
            elif it[0] == "gap":
                want[it[1]] += b"?" * it[2]
        if expect:
            want.update(expect)
        self.assertEqual(got["C"], want["C"])
        # a gap at the very end of a direction is not visible in the data
        self.assertEqual(got["S"], want["S"].rstrip(b"?") if not fins["S"] else want["S"])
        return fins

    kind = "ether"

    def test_conversation(self):
        items = mkpcap.parse_transcript(TRANSCRIPT)
        self.assertEqual(items[-1], ("close", "C"))
        self.assertIn(("gap", "S", 7), items)
        self.assertEqual(items[5][1], b"x" * 3000 + b"\r\n")
        self.assertIn(("S", b"a2 OK \x00\xff\\ appended\r\n"), items)
        pkts = mkpcap.conversation(items, mss=1000)
        fins = self.check_conv(pkts, items)
        self.assertIsNotNone(fins["C"])
        self.assertIsNotNone(fins["S"])
        # every segment at most mss octets; frames in time order
        for p in pkts:
            self.assertLessEqual(len(decode(1, p.data)[8]), 1000)
        self.assertEqual(sorted(p.ts_ns for p in pkts), [p.ts_ns for p in pkts])

    def test_conversation_options(self):
        items = mkpcap.parse_transcript(TRANSCRIPT)
        for opts in ({"reorder": 0.5, "retransmit": 0.5, "seed": 3}, {"af": 6, "vlans": [(0x8100, 7)]},
                     {"link": "sll"}, {"link": "sll2", "af": 6}, {"link": "null"}, {"link": "raw"},
                     {"retransmit_diff": [1, 4]}, {"mss": 100, "reorder": 1.0}):
            self.kind = opts.get("link", "ether")
            pkts = mkpcap.conversation(items, **opts)
            self.check_conv(pkts, items)
            self.same_as_ours(mkpcap.pcap_bytes(pkts, linktype=mkpcap.LINKTYPES[self.kind]))
            # and cut by a snaplen: the decoder counts the missing octets
            self.same_as_ours(mkpcap.pcap_bytes(pkts, linktype=mkpcap.LINKTYPES[self.kind],
                                                snaplen=120))
        self.kind = "ether"
        # reordering never moves data across the other direction's data
        pkts = mkpcap.conversation(items, mss=100, reorder=1.0)
        dirs = [decode(1, p.data)[3] == 143 for p in pkts if decode(1, p.data)[8]]
        runs = [dirs[0]] + [b for a, b in zip(dirs, dirs[1:]) if a != b]
        self.assertEqual(len(runs), 8)
        # a dropped segment is a gap; mid-stream start has no SYN
        pkts = mkpcap.conversation([("C", b"A" * 30), ("S", b"B" * 5)], mss=10, drop=[1])
        self.check_conv(pkts, [], expect={"C": b"A" * 10 + b"?" * 10 + b"A" * 10, "S": b"B" * 5})
        pkts = mkpcap.conversation([("C", b"hello"), ("S", b"world")], handshake=False, close=False)
        self.check_conv(pkts, [("C", b"hello"), ("S", b"world")], syns=0)
        self.assertEqual(len(pkts), 2)
        # a conflicting retransmission has the same length and other octets
        pkts = mkpcap.conversation([("C", b"abc")], retransmit_diff=[0], close=False)
        a, b = decode(1, pkts[-2].data), decode(1, pkts[-1].data)
        self.assertEqual((a[5], len(a[8])), (b[5], len(b[8])))
        self.assertNotEqual(a[8], b[8])

    def test_cli_and_transcript_to_pcap(self):
        t = self.path("t.mct")
        with open(t, "w") as f:
            f.write(TRANSCRIPT)
        items = mkpcap.parse_transcript(TRANSCRIPT)
        for fmt, extra in (("pcap", []), ("pcap", ["--nsec", "--big-endian", "--vlan", "3"]),
                           ("pcapng", ["--ipv6", "--retransmit-diff", "2"]),
                           ("pcapng", ["--link", "sll2", "--start-mid"])):
            out = self.path("t." + fmt)
            subprocess.run([sys.executable, os.path.join(HERE, "mkpcap.py"), "conv", "--proto-port",
                            "143", "--out", out, "--format", fmt, t] + extra, check=True)
            with open(out, "rb") as f:
                raw = f.read()
            got = read_capture(raw)
            self.same_as_ours(raw)
            self.kind = "sll2" if "sll2" in extra else "ether"
            fins = self.check_conv([mkpcap.Packet(0, g[2]) for g in got], items,
                                   syns=0 if "--start-mid" in extra else 2)
            # only the transcript's '! close C'
            self.assertIsNotNone(fins["C"])
            self.assertIsNone(fins["S"])
            if LIBPCAP:
                self.assertEqual(libpcap_read(out), got)
            if shutil.which("tcpdump"):
                r = subprocess.run(["tcpdump", "-nn", "-r", out], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(len(r.stdout.splitlines()), len(got))
        self.kind = "ether"
        # the function the differential test calls
        out = self.path("api.pcap")
        mkpcap.transcript_to_pcap(t, out, server_port=110, reorder=0.3, retransmit=0.2, seed=7)
        with open(out, "rb") as f:
            got = read_capture(f.read())
        self.check_conv([mkpcap.Packet(0, g[2]) for g in got], items, server_port=110)


if __name__ == "__main__":
    unittest.main(verbosity=1)
