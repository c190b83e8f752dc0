#!/usr/bin/env python3
"""Write a deterministic, realistic packet capture of mail traffic.

Benchmark input for `mailconform check FILE.pcap` (bench/bench_capture.py).
Python 3 standard library only.

Output: classic pcap (microsecond timestamps, LINKTYPE_ETHERNET), Ethernet II
+ IPv4 (DF, correct header checksum) + TCP (timestamps option on every
segment; MSS/SACK-permitted/window scale on the SYNs; checksum computed with
a cheap whole-segment fold, correct per RFC 1071). Each connection has a full
three-way handshake, exact absolute seq/ack numbers (random ISNs, so some
wrap past 2^32), data segments of at most 1448 octets, PSH on the last
segment of each application write, one pure ACK per two data segments, and a
FIN close started by the server. --concurrency sessions (default 64) are open
at once and their packets are interleaved one by one.

Sessions (all conformant: `mailconform check` reports no error or warning):
  IMAP (143)  greeting with CAPABILITY, LOGIN, SELECT INBOX (FLAGS, EXISTS,
              RECENT, OK [UNSEEN], [PERMANENTFLAGS], [UIDVALIDITY], [UIDNEXT],
              OK [READ-WRITE]), UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE
              ENVELOPE BODYSTRUCTURE), UID FETCH of BODY.PEEK[] literals in
              batches, UID STORE +FLAGS, sometimes IDLE (a new message
              arrives) / DONE, APPEND with a synchronizing literal sent after
              the "+" continuation, LOGOUT with BYE.
  POP3 (110)  CAPA, USER/PASS, STAT, LIST, UIDL, RETR (dot-stuffed), some
              DELE, QUIT.
  SMTP (25, 587)  220 greeting, EHLO with a multi-line reply (PIPELINING,
              SIZE, 8BITMIME, ENHANCEDSTATUSCODES), 1-3 transactions of
              MAIL/RCPT/DATA (about half pipelined; some RCPTs refused with
              550), dot-stuffed MIME content, sometimes RSET, QUIT/221.
              No AUTH (so no plaintext-AUTH findings); on 587 the server
              accepts mail without AUTH, which mailconform reports as a note
              (SMTP.SUBMISSION.UNAUTH_MAIL), never a warning or error.
Messages: text/plain, multipart/alternative (text + HTML) or multipart/mixed
(text + base64 attachment); sizes log-normal, median ~12 KB, clipped to
2-200 KB; bodies hold lines starting with '.' and lone '.' lines. ENVELOPE
and BODYSTRUCTURE agree with the bodies (octet and line counts).

Determinism: the same options give a byte-identical file. Each session
draws on its own random stream (seeded from --seed and its index), and
--reorder/--retrans draw on separate streams, so a reordered file carries
exactly the same TCP byte streams as the clean file with the same seed
(with --retrans the file grows, so the last session or two may differ).

  --reorder F  swap a fraction F of data segments with the next data segment
               of the same direction (within one application write)
  --retrans F  send a fraction F of data segments twice

--bytes is an upper bound: each session is built whole before its first
packet is written, and the first one that would take the file past the
target is dropped (no more start), so the file ends just below the target.

usage: gen_capture.py -o OUT.pcap [--bytes 1G] [--seed 1] [--concurrency 64]
                      [--reorder F] [--retrans F] [--stats]
"""
import argparse
import base64
import bisect
import math
import random
import struct
import sys
import time

MSS = 1448
EPOCH = 1780272000  # 2026-06-01 00:00:00 UTC

WORDS = ("the of and to in is for on that with as by at from this be are or an it "
         "report meeting quarterly budget review draft schedule update project server "
         "mailbox delivery network backup release notes customer invoice attached "
         "please find below regards thanks tomorrow morning afternoon agenda minutes "
         "office team status migration storage quota policy security audit ticket "
         "request change window maintenance planned outage summary details figures "
         "analysis results proposal contract signed version revision comments").split()
FIRST = "alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter".split()
DOMAINS = "example.com example.org example.net mail.example.com corp.example.org".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


# ---- message corpus --------------------------------------------------------

class Corpus:
    """Pre-built text and base64 lines; a body is a slice of whole lines."""

    def __init__(self, rng):
        lines = []
        for i in range(40000):
            r = rng.random()
            if r < 0.004:
                lines.append(".")                      # lone dot: stuffed to ".."
            elif r < 0.02:
                lines.append("." + self._words(rng, 30, 70))   # leading dot
            elif r < 0.07:
                lines.append("")
            else:
                lines.append(self._words(rng, 30, 76))
        self.text = self._pack(lines)
        self.html = self._pack(["<p>%s</p>" % l if l and l[0] != "." else l for l in lines])
        raw = bytes(rng.getrandbits(8) for _ in range(57 * 20000))
        b64 = base64.b64encode(raw).decode()
        self.b64 = self._pack([b64[i:i + 76] for i in range(0, len(b64), 76)])

    @staticmethod
    def _words(rng, lo, hi):
        n = rng.randint(lo, hi)
        out = []
        size = 0
        while size < n:
            w = rng.choice(WORDS)
            out.append(w)
            size += len(w) + 1
        s = " ".join(out)
        return s[0].upper() + s[1:] + "."

    @staticmethod
    def _pack(lines):
        blob = "".join(l + "\r\n" for l in lines).encode()
        offs = [0]
        for l in lines:
            offs.append(offs[-1] + len(l) + 2)
        return blob, offs

    @staticmethod
    def take(src, rng, nbytes):
        """Whole lines, at least nbytes (at least one line), CRLF-terminated."""
        blob, offs = src
        total = offs[-1]
        nbytes = min(nbytes, total // 2)
        hi = bisect.bisect_right(offs, total - nbytes) - 1
        start = rng.randrange(0, max(1, hi))
        end = bisect.bisect_left(offs, offs[start] + nbytes)
        if end <= start:
            end = start + 1
        return blob[offs[start]:offs[end]]


def qstr(s):
    return '"%s"' % s


def addr_env(name, mailbox, host):
    return "((%s NIL %s %s))" % (qstr(name), qstr(mailbox), qstr(host))


def text_bs(subtype, body, enc="7BIT"):
    return '("TEXT" "%s" ("CHARSET" "us-ascii") NIL NIL "%s" %d %d)' % (
        subtype, enc, len(body), body.count(b"\r\n"))


class Message:
    __slots__ = ("raw", "envelope", "bodystructure", "date", "idate")


def make_message(rng, corpus, size, serial):
    """A MIME message of about `size` octets with matching ENVELOPE and
    BODYSTRUCTURE strings."""
    f, t = rng.sample(FIRST, 2)
    fd, td = rng.choice(DOMAINS), rng.choice(DOMAINS)
    subj = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7))).capitalize()
    day = rng.randint(1, 28)
    mon = rng.randrange(12)
    hh, mm, ss = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    date = "%s, %02d %s 2026 %02d:%02d:%02d +0000" % (DAYS[(day + mon) % 7], day, MONTHS[mon], hh, mm, ss)
    idate = "%02d-%s-2026 %02d:%02d:%02d +0000" % (day, MONTHS[mon], hh, mm, ss)
    msgid = "<%d.%d@%s>" % (serial, rng.randrange(10 ** 9), fd)
    hdr = ("Return-Path: <%s@%s>\r\n"
           "Received: from client.%s (client.%s [192.0.2.%d])\r\n"
           "\tby mx.example.net with ESMTP id %08X\r\n"
           "\tfor <%s@%s>; %s\r\n"
           "Date: %s\r\nFrom: %s <%s@%s>\r\nTo: %s <%s@%s>\r\nSubject: %s\r\n"
           "Message-ID: %s\r\nMIME-Version: 1.0\r\n") % (
        f, fd, fd, fd, rng.randrange(1, 255), rng.getrandbits(32), t, td, date,
        date, f.capitalize(), f, fd, t.capitalize(), t, td, subj, msgid)
    kind = rng.random()
    need = max(200, size - len(hdr) - 100)
    if kind < 0.5:
        body = Corpus.take(corpus.text, rng, need)
        hdr += "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n"
        bs = text_bs("PLAIN", body)
        raw = hdr.encode() + b"\r\n" + body
    else:
        bnd = "=_b%016x" % rng.getrandbits(64)
        if kind < 0.8:
            p1 = Corpus.take(corpus.text, rng, need // 2)
            p2 = Corpus.take(corpus.html, rng, need // 2)
            h2 = "Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
            bs2 = text_bs("HTML", p2)
            sub = "ALTERNATIVE"
        else:
            p1 = Corpus.take(corpus.text, rng, max(200, need // 5))
            p2 = Corpus.take(corpus.b64, rng, need - need // 5)
            name = "file%d.bin" % rng.randrange(1000)
            h2 = ("Content-Type: application/octet-stream; name=\"%s\"\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n") % name
            bs2 = '("APPLICATION" "OCTET-STREAM" ("NAME" "%s") NIL NIL "BASE64" %d)' % (name, len(p2))
            sub = "MIXED"
        h1 = "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        hdr += 'Content-Type: multipart/%s; boundary="%s"\r\n' % (sub.lower(), bnd)
        # Each part's body ends before the CRLF that precedes the boundary.
        p1b, p2b = p1[:-2], p2[:-2]
        raw = b"".join([hdr.encode(), b"\r\nThis is a multi-part message in MIME format.\r\n\r\n--",
                        bnd.encode(), b"\r\n", h1.encode(), p1b, b"\r\n--", bnd.encode(), b"\r\n",
                        h2.encode(), p2b, b"\r\n--", bnd.encode(), b"--\r\n"])
        bs1 = text_bs("PLAIN", p1b)
        if sub == "ALTERNATIVE":
            bs2 = text_bs("HTML", p2b)
        else:
            bs2 = bs2.replace(" %d)" % len(p2), " %d)" % len(p2b))
        bs = "(%s%s %s)" % (bs1, bs2, qstr(sub))
    m = Message()
    m.raw = raw
    fa = addr_env(f.capitalize(), f, fd)
    m.envelope = "(%s %s %s %s %s %s NIL NIL NIL %s)" % (
        qstr(date), qstr(subj), fa, fa, fa, addr_env(t.capitalize(), t, td), qstr(msgid))
    m.bodystructure = bs
    m.date = date
    m.idate = idate
    return m


def msg_size(rng):
    return int(min(200000, max(2000, rng.lognormvariate(math.log(12000), 0.9))))


def stuff(raw):
    """Dot-stuff a CRLF-terminated message (RFC 1939 s3, RFC 5321 s4.5.2)."""
    s = raw.replace(b"\r\n.", b"\r\n..")
    if s[:1] == b".":
        s = b"." + s
    return s


# ---- TCP/IP framing -----------------------------------------------------------

def fold(s):
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


class Clock:
    def __init__(self):
        self.us = 0


class Half:
    """One direction of a connection: constant header parts and next seq."""
    __slots__ = ("eth", "src", "dst", "sport", "dport", "seq", "ip_id",
                 "ipsum", "pseudo", "tsoff", "jump", "writes")

    def __init__(self, smac, dmac, src, dst, sport, dport, isn, ip_id, tsoff):
        self.eth = dmac + smac + b"\x08\x00"
        self.src, self.dst, self.sport, self.dport = src, dst, sport, dport
        self.seq = isn
        self.ip_id = ip_id
        w = struct.unpack("!HHHH", src + dst)
        # constant IPv4 header words: 0x4500, flags 0x4000, ttl/proto 0x4006, addresses
        self.ipsum = 0x4500 + 0x4000 + 0x4006 + sum(w)
        self.pseudo = sum(w) + 6
        self.tsoff = tsoff
        # --jump: this direction's sequence numbers leap forward by `jump`
        # while the peer goes on acknowledging the unjumped ones
        self.jump = 0
        self.writes = 0


PACK_IP = struct.Struct("!BBHHHBBH4s4s").pack
PACK_TCP = struct.Struct("!HHIIHHHH").pack
PACK_TS = struct.Struct("!BBBBII").pack


IMPAIR = [0, 0]   # segments swapped, segments duplicated


class Conn:
    def __init__(self, rng, clock, cip, sip, cport, sport):
        self.us = clock.us
        cmac = b"\x02\x00" + cip
        smac = b"\x02\x01" + sip
        self.c = Half(cmac, smac, cip, sip, cport, sport, rng.getrandbits(32),
                      rng.getrandbits(16), rng.getrandbits(31))
        self.s = Half(smac, cmac, sip, cip, sport, cport, rng.getrandbits(32),
                      rng.getrandbits(16), rng.getrandbits(31))
        self.reorder = 0.0
        self.retrans = 0.0
        self.irng = None
        self.jump = None   # (client?, before write n, octets): see --jump

    def frame(self, h, peer, flags, payload=b"", seq=None, syn=False):
        if seq is None:
            seq = (h.seq + h.jump) & 0xFFFFFFFF
        ack = peer.seq if flags & 0x10 else 0
        # A session is built before its packets are written, so its own
        # clock advances ~0.8 ms a packet (64 flows sharing ~13 us gaps).
        self.us += 832
        ms = self.us // 1000
        tsval = (h.tsoff + ms) & 0xFFFFFFFF
        tsecr = (peer.tsoff + ms - 1) & 0xFFFFFFFF if flags & 0x10 else 0
        if syn:
            opts = (b"\x02\x04\x05\xb4\x04\x02" + struct.pack("!BBII", 8, 10, tsval, tsecr)
                    + b"\x01\x03\x03\x07")
        else:
            opts = PACK_TS(1, 1, 8, 10, tsval, tsecr)
        doff = (20 + len(opts)) // 4
        tcplen = 20 + len(opts) + len(payload)
        hdr = PACK_TCP(h.sport, h.dport, seq, ack, (doff << 12) | flags, 2048, 0, 0) + opts
        seg = hdr + payload
        v = int.from_bytes(seg + b"\0" if tcplen & 1 else seg, "big") % 0xFFFF
        cs = 0xFFFF - (h.pseudo + tcplen + v) % 0xFFFF
        iplen = 20 + tcplen
        h.ip_id = (h.ip_id + 1) & 0xFFFF
        ics = 0xFFFF - fold(h.ipsum + iplen + h.ip_id)
        return b"".join((h.eth, PACK_IP(0x45, 0, iplen, h.ip_id, 0x4000, 64, 6, ics, h.src, h.dst),
                         hdr[:16], struct.pack("!H", cs), hdr[18:], payload))

    def handshake(self):
        c, s = self.c, self.s
        out = [self.frame(c, s, 0x02, syn=True)]
        c.seq = (c.seq + 1) & 0xFFFFFFFF
        out.append(self.frame(s, c, 0x12, syn=True))
        s.seq = (s.seq + 1) & 0xFFFFFFFF
        out.append(self.frame(c, s, 0x10))
        return out

    def send(self, client, data):
        """Frames for one application write: data segments (maybe reordered
        or duplicated) with the peer's pure ACKs, one per two segments."""
        h, peer = (self.c, self.s) if client else (self.s, self.c)
        if self.jump and self.jump[0] == client and self.jump[1] == h.writes:
            h.jump = self.jump[2]
        h.writes += 1
        segs = []
        n = len(data)
        for off in range(0, n, MSS):
            chunk = data[off:off + MSS]
            flags = 0x18 if off + MSS >= n else 0x10
            segs.append(((h.seq + h.jump + off) & 0xFFFFFFFF, off, chunk, flags))
        start = h.seq
        irng = self.irng
        if self.reorder and len(segs) > 1:
            i = 0
            while i < len(segs) - 1:
                if irng[0].random() < self.reorder:
                    segs[i], segs[i + 1] = segs[i + 1], segs[i]
                    IMPAIR[0] += 1
                    i += 2
                else:
                    i += 1
        out = []
        expected = 0       # in-order octets received by the peer
        have = {}
        since_ack = 0
        for seq, off, chunk, flags in segs:
            out.append(self.frame(h, peer, flags, chunk, seq=seq))
            if self.retrans and irng[1].random() < self.retrans:
                out.append(self.frame(h, peer, flags, chunk, seq=seq))
                IMPAIR[1] += 1
            have[off] = len(chunk)
            while expected in have:
                expected += have.pop(expected)
            since_ack += 1
            if since_ack == 2:
                saved = h.seq
                h.seq = (start + expected) & 0xFFFFFFFF
                out.append(self.frame(peer, h, 0x10))
                h.seq = saved
                since_ack = 0
        h.seq = (start + n) & 0xFFFFFFFF
        if since_ack:
            out.append(self.frame(peer, h, 0x10))
        return out

    def close(self):
        c, s = self.c, self.s
        out = [self.frame(s, c, 0x11)]
        s.seq = (s.seq + 1) & 0xFFFFFFFF
        out.append(self.frame(c, s, 0x11))
        c.seq = (c.seq + 1) & 0xFFFFFFFF
        out.append(self.frame(s, c, 0x10))
        return out


# ---- sessions --------------------------------------------------------------

C, S = True, False


def crlf(*lines):
    return "".join(l + "\r\n" for l in lines).encode()


def imap_session(conn, rng, corpus, serial):
    yield conn.handshake()
    caps = "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE UIDPLUS"
    yield conn.send(S, crlf("* OK [CAPABILITY %s] imap.example.net IMAP4rev1 ready" % caps))
    user = rng.choice(FIRST)
    yield conn.send(C, crlf("a001 LOGIN %s %s%04d" % (user, user, rng.randrange(10000))))
    yield conn.send(S, crlf("a001 OK [CAPABILITY %s] Logged in" % caps))
    nmsg = rng.randint(4, 30)
    uid0 = rng.randint(1, 5000)
    uids = []
    u = uid0
    for _ in range(nmsg):
        uids.append(u)
        u += rng.randint(1, 3)
    uidnext = u
    uidvalidity = 1700000000 + rng.randrange(10 ** 6)
    msgs = [make_message(rng, corpus, msg_size(rng), serial * 1000 + i) for i in range(nmsg)]
    flags = ["\\Seen" if rng.random() < 0.7 else "" for _ in range(nmsg)]
    unseen = [i for i, f in enumerate(flags) if not f]
    sel = ["* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
           "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted",
           "* %d EXISTS" % nmsg, "* 0 RECENT"]
    if unseen:
        sel.append("* OK [UNSEEN %d] First unseen" % (unseen[0] + 1))
    sel += ["* OK [UIDVALIDITY %d] UIDs valid" % uidvalidity,
            "* OK [UIDNEXT %d] Predicted next UID" % uidnext,
            "a002 OK [READ-WRITE] Select completed"]
    yield conn.send(C, crlf("a002 SELECT INBOX"))
    yield conn.send(S, crlf(*sel))
    yield conn.send(C, crlf("a003 UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)"))
    lines = ["* %d FETCH (UID %d FLAGS (%s) INTERNALDATE \"%s\" RFC822.SIZE %d ENVELOPE %s BODYSTRUCTURE %s)"
             % (i + 1, uids[i], flags[i], m.idate, len(m.raw), m.envelope, m.bodystructure)
             for i, m in enumerate(msgs)]
    lines.append("a003 OK Fetch completed")
    yield conn.send(S, crlf(*lines))
    tag = 4
    # Bodies: in batches of 1-4 consecutive messages.
    i = 0
    while i < nmsg:
        k = min(nmsg - i, rng.randint(1, 4))
        t = "a%03d" % tag
        tag += 1
        rng_uids = "%d:%d" % (uids[i], uids[i + k - 1]) if k > 1 else "%d" % uids[i]
        yield conn.send(C, crlf("%s UID FETCH %s (BODY.PEEK[])" % (t, rng_uids)))
        parts = []
        for j in range(i, i + k):
            m = msgs[j]
            parts.append(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (j + 1, uids[j], len(m.raw)))
            parts.append(m.raw)
            parts.append(b")\r\n")
        parts.append(crlf("%s OK Fetch completed" % t))
        yield conn.send(S, b"".join(parts))
        i += k
    if unseen:
        t = "a%03d" % tag
        tag += 1
        seqs = [j for j in unseen[:5]]
        yield conn.send(C, crlf("%s UID STORE %s +FLAGS (\\Seen)" % (t, ",".join(str(uids[j]) for j in seqs))))
        yield conn.send(S, crlf(*["* %d FETCH (UID %d FLAGS (\\Seen))" % (j + 1, uids[j]) for j in seqs]
                                 + ["%s OK Store completed" % t]))
    if rng.random() < 0.5:
        t = "a%03d" % tag
        tag += 1
        yield conn.send(C, crlf("%s IDLE" % t))
        yield conn.send(S, crlf("+ idling"))
        if rng.random() < 0.5:
            yield conn.send(S, crlf("* %d EXISTS" % (nmsg + 1), "* 1 RECENT"))
        yield conn.send(C, crlf("DONE"))
        yield conn.send(S, crlf("%s OK IDLE terminated" % t))
    if rng.random() < 0.6:
        m = make_message(rng, corpus, msg_size(rng), serial * 1000 + 999)
        t = "a%03d" % tag
        tag += 1
        yield conn.send(C, crlf("%s APPEND Sent (\\Seen) {%d}" % (t, len(m.raw))))
        yield conn.send(S, crlf("+ Ready for literal data"))
        yield conn.send(C, m.raw + b"\r\n")
        yield conn.send(S, crlf("%s OK [APPENDUID %d %d] Append completed"
                                % (t, uidvalidity + 1, rng.randint(1, 9999))))
    t = "a%03d" % tag
    yield conn.send(C, crlf("%s LOGOUT" % t))
    yield conn.send(S, crlf("* BYE Logging out", "%s OK Logout completed" % t))
    yield conn.close()


def pop3_session(conn, rng, corpus, serial):
    yield conn.handshake()
    yield conn.send(S, crlf("+OK POP3 server ready <%d.%d@pop.example.net>" % (serial, rng.randrange(10 ** 6))))
    yield conn.send(C, crlf("CAPA"))
    yield conn.send(S, crlf("+OK Capability list follows", "USER", "UIDL", "TOP", "PIPELINING",
                            "RESP-CODES", "."))
    user = rng.choice(FIRST)
    yield conn.send(C, crlf("USER %s" % user))
    yield conn.send(S, crlf("+OK"))
    yield conn.send(C, crlf("PASS %s%04d" % (user, rng.randrange(10000))))
    nmsg = rng.randint(2, 20)
    msgs = [make_message(rng, corpus, msg_size(rng), serial * 1000 + i) for i in range(nmsg)]
    total = sum(len(m.raw) for m in msgs)
    yield conn.send(S, crlf("+OK Logged in"))
    yield conn.send(C, crlf("STAT"))
    yield conn.send(S, crlf("+OK %d %d" % (nmsg, total)))
    yield conn.send(C, crlf("LIST"))
    yield conn.send(S, crlf("+OK %d messages (%d octets)" % (nmsg, total),
                            *["%d %d" % (i + 1, len(m.raw)) for i, m in enumerate(msgs)] + ["."]))
    yield conn.send(C, crlf("UIDL"))
    yield conn.send(S, crlf("+OK", *["%d %08x%08x" % (i + 1, serial, i) for i in range(nmsg)] + ["."]))
    dele = rng.random() < 0.5
    for i, m in enumerate(msgs):
        yield conn.send(C, crlf("RETR %d" % (i + 1)))
        yield conn.send(S, b"".join((b"+OK %d octets\r\n" % len(m.raw), stuff(m.raw), b".\r\n")))
        if dele:
            yield conn.send(C, crlf("DELE %d" % (i + 1)))
            yield conn.send(S, crlf("+OK message %d deleted" % (i + 1)))
    yield conn.send(C, crlf("QUIT"))
    yield conn.send(S, crlf("+OK Bye"))
    yield conn.close()


def smtp_session(conn, rng, corpus, serial, submission):
    yield conn.handshake()
    host = "smtp.example.net" if submission else "mx.example.net"
    yield conn.send(S, crlf("220 %s ESMTP ready" % host))
    cdom = "client%d.example.org" % rng.randrange(1000)
    yield conn.send(C, crlf("EHLO %s" % cdom))
    yield conn.send(S, crlf("250-%s Hello %s" % (host, cdom), "250-PIPELINING", "250-SIZE 52428800",
                            "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250 HELP"))
    pipelining = rng.random() < 0.5
    for tx in range(rng.randint(1, 3)):
        m = make_message(rng, corpus, msg_size(rng), serial * 10 + tx)
        sender = "%s@%s" % (rng.choice(FIRST), rng.choice(DOMAINS))
        nr = rng.randint(1, 3)
        rcpts = ["%s@%s" % (rng.choice(FIRST), rng.choice(DOMAINS)) for _ in range(nr)]
        ok = [True] + [rng.random() > 0.2 for _ in range(nr - 1)]
        rng.shuffle(ok)
        mail = "MAIL FROM:<%s> SIZE=%d" % (sender, len(m.raw))
        rr = ["250 2.1.5 Ok" if a else "550 5.1.1 <%s>: Recipient address rejected" % r
              for r, a in zip(rcpts, ok)]
        if pipelining:
            yield conn.send(C, crlf(mail, *["RCPT TO:<%s>" % r for r in rcpts] + ["DATA"]))
            yield conn.send(S, crlf("250 2.1.0 Ok", *rr + ["354 End data with <CR><LF>.<CR><LF>"]))
        else:
            yield conn.send(C, crlf(mail))
            yield conn.send(S, crlf("250 2.1.0 Ok"))
            for r, line in zip(rcpts, rr):
                yield conn.send(C, crlf("RCPT TO:<%s>" % r))
                yield conn.send(S, crlf(line))
            yield conn.send(C, crlf("DATA"))
            yield conn.send(S, crlf("354 End data with <CR><LF>.<CR><LF>"))
        yield conn.send(C, stuff(m.raw) + b".\r\n")
        yield conn.send(S, crlf("250 2.0.0 Ok: queued as %010X" % rng.getrandbits(40)))
        if rng.random() < 0.2:
            yield conn.send(C, crlf("RSET"))
            yield conn.send(S, crlf("250 2.0.0 Ok"))
    yield conn.send(C, crlf("QUIT"))
    yield conn.send(S, crlf("221 2.0.0 Bye"))
    yield conn.close()


# ---- driver ------------------------------------------------------------------

SERVERS = {143: b"\xc0\x00\x02\x0a", 110: b"\xc0\x00\x02\x0b", 25: b"\xc0\x00\x02\x19",
           587: b"\xc0\x00\x02\x1a"}


def literal_session(conn, total):
    """Hostile: a FETCH literal announcing 4 GB ({4294967296}), of which
    `total` octets are sent before the connection closes."""
    yield conn.handshake()
    yield conn.send(S, crlf("* OK [CAPABILITY IMAP4rev1] ready"))
    yield conn.send(C, crlf("a1 LOGIN user secret", "a2 SELECT INBOX", "a3 FETCH 1 BODY[]"))
    yield conn.send(S, crlf("a1 OK done", "* 1 EXISTS", "a2 OK [READ-WRITE] done",
                            "* 1 FETCH (BODY[] {4294967296}"))
    chunk = (b"x" * 78 + b"\r\n") * 800
    for _ in range(total // len(chunk)):
        yield conn.send(S, chunk)
    yield conn.close()


def flood_session(conn, total):
    """Hostile: after EHLO, `total` octets of client data without a line end."""
    yield conn.handshake()
    yield conn.send(S, crlf("220 mx.example.net ESMTP"))
    yield conn.send(C, crlf("EHLO flood.example.org"))
    yield conn.send(S, crlf("250 mx.example.net"))
    chunk = b"A" * 65536
    for _ in range(total // len(chunk)):
        yield conn.send(C, chunk)
    yield conn.close()


def new_session(idx, seed, clock, corpus, reorder, retrans, irng, jump=0.0):
    rng = random.Random(seed * 1000003 + idx)
    r = rng.random()
    port = 143 if r < 0.45 else 110 if r < 0.65 else 25 if r < 0.88 else 587
    cip = bytes((10, (idx >> 16) & 255, (idx >> 8) & 255, 1 + idx % 250))
    cport = 32768 + (idx * 7) % 28000
    conn = Conn(rng, clock, cip, SERVERS[port], cport, port)
    conn.reorder, conn.retrans, conn.irng = reorder, retrans, irng
    if jump:
        # its own stream, so that --jump leaves the sessions' octets as they are
        jr = random.Random(seed * 1000003 + idx + 0x4A554D50)
        if jr.random() < jump:
            # a leap past anything the rest of the session sends: its octets
            # are held out of order, and the peer's ACKs never reveal the hole
            conn.jump = (jr.random() < 0.5, jr.randint(1, 3), jr.randint(1 << 21, 1 << 24))
    if port == 143:
        gen = imap_session(conn, rng, corpus, idx)
    elif port == 110:
        gen = pop3_session(conn, rng, corpus, idx)
    else:
        gen = smtp_session(conn, rng, corpus, idx, port == 587)
    return port, gen


def parse_size(s):
    s = s.strip().upper()
    mult = {"K": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def special_session(kind, seed, clock):
    """--hostile: kind 0 the 4 GB literal (IMAP), 1 the flood (SMTP)."""
    rng = random.Random(seed * 1000003 + 0x484F5354 + kind)
    port = 143 if kind == 0 else 25
    cip = bytes((10, 255, 255, 1 + kind))
    conn = Conn(rng, clock, cip, SERVERS[port], 61000 + kind, port)
    gen = literal_session(conn, 8 << 20) if kind == 0 else flood_session(conn, 16 << 20)
    return port, gen


def generate(out, target, seed, concurrency, reorder, retrans, jump=0.0, hostile=False):
    sched = random.Random(seed ^ 0x5EED)
    irng = (random.Random(seed * 7 + 1), random.Random(seed * 7 + 2))
    corpus = Corpus(random.Random(seed))
    clock = Clock()
    clock.us = 0
    written = 24
    packets = 0
    started = 0
    counts = {143: 0, 110: 0, 25: 0, 587: 0}
    buf = []
    bufsize = 0
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    active = []   # [frames of the whole session, position]
    pending = 0   # octets (records included) of the frames not yet written
    starting = True
    pack_rec = struct.Struct("<IIII").pack
    if hostile:
        for kind in (0, 1):
            port, gen = special_session(kind, seed, clock)
            frames = [f for step in gen for f in step]
            pending += sum(len(f) for f in frames) + 16 * len(frames)
            counts[port] += 1
            active.append([frames, 0])
    while True:
        # Sessions are built whole, so their size is known: one that would
        # take the file past the target is dropped and no more are started.
        while starting and len(active) < concurrency:
            port, gen = new_session(started, seed, clock, corpus, reorder, retrans, irng, jump)
            frames = [f for step in gen for f in step]
            size = sum(len(f) for f in frames) + 16 * len(frames)
            if written + bufsize + pending + size > target and started:
                starting = False
                break
            started += 1
            counts[port] += 1
            pending += size
            active.append([frames, 0])
        if not active:
            break
        i = sched.randrange(len(active))
        a = active[i]
        fr = a[0][a[1]]
        a[1] += 1
        if a[1] == len(a[0]):
            active[i] = active[-1]
            active.pop()
        clock.us += sched.randint(2, 24)
        sec, usec = divmod(clock.us, 1000000)
        n = len(fr)
        buf.append(pack_rec(EPOCH + sec, usec, n, n))
        buf.append(fr)
        bufsize += n + 16
        pending -= n + 16
        packets += 1
        if bufsize >= 1 << 22:
            out.write(b"".join(buf))
            written += bufsize
            buf = []
            bufsize = 0
    out.write(b"".join(buf))
    written += bufsize
    return written, packets, started, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", required=True, help="pcap file to write ('-' for stdout)")
    ap.add_argument("--bytes", default="1G", help="target size, e.g. 20M, 1G (default 1G; K/M/G are powers of 10)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=64, help="sessions open at once (default 64)")
    ap.add_argument("--reorder", type=float, default=0.0, help="fraction of data segments swapped with the next")
    ap.add_argument("--retrans", type=float, default=0.0, help="fraction of data segments sent twice")
    ap.add_argument("--jump", type=float, default=0.0,
                    help="fraction of sessions whose sequence numbers leap forward in one direction, "
                         "unacknowledged (their later octets are held out of order)")
    ap.add_argument("--hostile", action="store_true",
                    help="add a 4 GB IMAP literal (8 MiB of it sent) and a 16 MiB SMTP flood without a line end")
    ap.add_argument("--stats", action="store_true", help="print a summary on stderr")
    a = ap.parse_args()
    t0 = time.perf_counter()
    target = parse_size(a.bytes)
    if a.output == "-":
        out = sys.stdout.buffer
        res = generate(out, target, a.seed, max(1, a.concurrency), a.reorder, a.retrans,
                       a.jump, a.hostile)
        out.flush()
    else:
        with open(a.output, "wb", buffering=1 << 22) as out:
            res = generate(out, target, a.seed, max(1, a.concurrency), a.reorder, a.retrans,
                       a.jump, a.hostile)
    if a.stats:
        written, packets, sessions, counts = res
        print("gen_capture: %d bytes, %d packets, %d sessions (IMAP %d, POP3 %d, SMTP %d, submission %d), %d swaps, %d duplicates in %.1f s"
              % (written, packets, sessions, counts[143], counts[110], counts[25], counts[587],
                 IMPAIR[0], IMPAIR[1], time.perf_counter() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
