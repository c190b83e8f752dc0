#!/usr/bin/env python3
"""End-to-end capture cases: captures built with mkpcap.py (never
hand-edited binaries), checked with `mailconform check --format jsonl`.

usage: capture_cases.py MAILCONFORM

Each case builds one capture and asserts on the findings, the per-flow
objects ({"flow": ...}) and the capture object ({"capture": ...}): link
types, VLANs, IPv6, pcapng with several interfaces, reordering,
retransmissions (identical and conflicting), loss, snaplen, a file cut
mid-record, mid-stream starts, port roles and banner sniffing, implicit TLS,
non-mail traffic, port reuse, stdin. Prints "ok NAME" / "FAIL NAME: why"
and a last line "N passed, M failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mkpcap as m  # noqa: E402

IMAP_OK = [
    ("S", b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
    ("C", b"a1 LOGIN mrc secret\r\n"),
    ("S", b"a1 OK LOGIN completed\r\n"),
    ("C", b"a2 SELECT INBOX\r\n"),
    ("S", b"* FLAGS (\\Seen \\Deleted)\r\n* 3 EXISTS\r\n* 0 RECENT\r\n"
          b"* OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] Limited\r\n"
          b"* OK [UIDVALIDITY 42] UIDs valid\r\n* OK [UIDNEXT 10] Predicted next UID\r\n"),
    ("S", b"a2 OK [READ-WRITE] SELECT completed\r\n"),
    ("C", b"a3 FETCH 1:3 (UID BODY[])\r\n"),
    ("S", b"".join(b"* %d FETCH (UID %d BODY[] {3000}\r\n" % (i, i + 3) + (b"x" * 78 + b"\r\n") * 37
                   + b"x" * 38 + b"\r\n)\r\n" for i in (1, 2, 3))),
    ("S", b"a3 OK FETCH completed\r\n"),
    ("C", b"a5 UID FETCH 1:3 FLAGS\r\n"),
    ("S", b"* 1 FETCH (UID 4 FLAGS ())\r\n* 2 FETCH (UID 5 FLAGS ())\r\n* 3 FETCH (UID 6 FLAGS ())\r\n"),
    ("S", b"a5 OK FETCH completed\r\n"),
    ("C", b"a4 LOGOUT\r\n"),
    ("S", b"* BYE logging out\r\na4 OK LOGOUT completed\r\n"),
]
# the same with one fault: message 2 has a lower UID than message 1
IMAP_BAD = [(d, b.replace(b"* 2 FETCH (UID 5 FLAGS", b"* 2 FETCH (UID 3 FLAGS")) for d, b in IMAP_OK]
POP3_OK = [
    ("S", b"+OK POP3 ready\r\n"), ("C", b"CAPA\r\n"),
    ("S", b"+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n"),
    ("C", b"USER mrc\r\n"), ("S", b"+OK\r\n"), ("C", b"PASS secret\r\n"), ("S", b"+OK logged in\r\n"),
    ("C", b"STAT\r\n"), ("S", b"+OK 1 120\r\n"), ("C", b"RETR 1\r\n"),
    ("S", b"+OK 120 octets\r\nSubject: x\r\n\r\n" + b"..dot stuffed\r\n" + b"body\r\n" * 10 + b".\r\n"),
    ("C", b"QUIT\r\n"), ("S", b"+OK bye\r\n"),
]
SMTP_SUB = [
    ("S", b"220 mx.example ESMTP\r\n"), ("C", b"EHLO client.example\r\n"),
    ("S", b"250-mx.example\r\n250 8BITMIME\r\n"),
    ("C", b"MAIL FROM:<a@example.org>\r\n"), ("S", b"250 ok\r\n"),
    ("C", b"RCPT TO:<b@example.org>\r\n"), ("S", b"250 ok\r\n"),
    ("C", b"DATA\r\n"), ("S", b"354 go\r\n"), ("C", b"Subject: t\r\n\r\nhello\r\n.\r\n"),
    ("S", b"250 queued\r\n"), ("C", b"QUIT\r\n"), ("S", b"221 bye\r\n"),
]


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        self.findings, self.flows, self.captures = [], [], []
        for line in proc.stdout.splitlines():
            d = json.loads(line)
            if "rule" in d:
                self.findings.append(d)
            elif "flow" in d:
                self.flows.append(d)
            elif "capture" in d:
                self.captures.append(d)

    def rules(self):
        return [f["rule"] for f in self.findings]


def check(mc, path, *args, stdin=None):
    if stdin is not None:
        with open(path, "rb") as f:
            p = subprocess.run([mc, "check", "--format", "jsonl", *args, "-"], stdin=f,
                               capture_output=True, text=True, timeout=120)
    else:
        p = subprocess.run([mc, "check", "--format", "jsonl", *args, path], capture_output=True,
                           text=True, timeout=120)
    return Result(p)


class Failure(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Failure(why)


def one_flow(r, proto, findings=0, **fields):
    expect(len(r.flows) == 1, f"{len(r.flows)} flows: {r.flows}")
    f = r.flows[0]
    expect(f["protocol"] == proto, f"protocol {f['protocol']}")
    expect(f["findings"] == findings and len(r.findings) == findings,
           f"findings {f['findings']} / {r.rules()}")
    for k, v in fields.items():
        expect(f[k] == v, f"{k} = {f[k]!r}, want {v!r}")
    expect(all(x["frame"] and "line" not in x for x in r.findings), "finding without a frame")
    return f


def cases(mc, tmp):
    def pcap(name, items, **kw):
        path = os.path.join(tmp, name)
        m.conversation_pcap(items, path, **kw)
        return path

    def c_links():
        for link in ("ether", "sll", "sll2", "null", "loop", "raw"):
            r = check(mc, pcap("l.pcap", POP3_OK, server_port=110, link=link))
            expect(r.rc == 0, f"{link}: exit {r.rc} {r.stderr}")
            one_flow(r, "pop3", mode="plain", roles_from="syn")
    yield "link types ether sll sll2 null loop raw", c_links

    def c_vlan_v6_pcapng():
        r = check(mc, pcap("v.pcapng", IMAP_OK, af=6, vlans=[(0x88A8, 10), (0x8100, 20)],
                           fmt="pcapng", byteorder=">", nsec=True))
        expect(r.rc == 0, f"exit {r.rc} {r.stderr}")
        f = one_flow(r, "imap")
        expect(f["server"].startswith("[2001:db8::2]:143"), f["server"])
        expect(r.captures and r.captures[0]["format"] == "pcapng", str(r.captures))
    yield "IPv6 in QinQ VLANs, big-endian nanosecond pcapng", c_vlan_v6_pcapng

    def c_finding_frame():
        r = check(mc, pcap("b.pcap", IMAP_BAD))
        expect(r.rc == 1, f"exit {r.rc}")
        one_flow(r, "imap", findings=1)
        expect(r.rules() == ["IMAP.UID.NOT_ASCENDING"], str(r.rules()))
        # the frame named carries the offending response: it holds "UID 3"
        frame = r.findings[0]["frame"]
        pk = m.conversation(IMAP_BAD)
        expect(b"(UID 3 FLAGS" in pk[frame - 1].data, f"frame {frame} does not hold the response")
    yield "a finding names the frame that carried it", c_finding_frame

    def c_reorder():
        base = check(mc, pcap("r0.pcap", IMAP_BAD))
        for seed in (1, 2, 3):
            r = check(mc, pcap("r.pcap", IMAP_BAD, reorder=0.5, retransmit=0.3, seed=seed))
            expect([(x["rule"], x["offset"]) for x in r.findings] ==
                   [(x["rule"], x["offset"]) for x in base.findings], f"seed {seed}: {r.rules()}")
            expect(r.flows[0]["gaps"] == 0 and r.flows[0]["overlaps_differing"] == 0, str(r.flows))
    yield "reordered and retransmitted segments reassemble to the same findings", c_reorder

    def c_conflict():
        r = check(mc, pcap("x.pcap", IMAP_OK, retransmit_diff=[3]))
        f = one_flow(r, "imap")
        expect(f["overlaps_differing"] >= 1, str(f))
    yield "a retransmission with other octets is counted, the first copy wins", c_conflict

    def c_loss():
        r = check(mc, pcap("d.pcap", IMAP_OK, drop=[6]))
        f = r.flows[0]
        expect(f["gaps"] >= 1 and f["gap_octets"] > 0, str(f))
        expect(not any(x["severity"] == "error" for x in r.findings), f"errors after a gap: {r.rules()}")
    yield "a lost segment is a gap that blames nobody", c_loss

    def c_snaplen():
        r = check(mc, pcap("s.pcap", IMAP_OK, snaplen=200))
        f = r.flows[0]
        expect(f["gaps"] >= 1, str(f))
        expect(not any(x["severity"] == "error" for x in r.findings), f"errors: {r.rules()}")
    yield "frames cut by the snaplen are gaps", c_snaplen

    def c_cut_file():
        path = pcap("c.pcap", IMAP_BAD)
        data = open(path, "rb").read()
        with open(path, "wb") as f:
            f.write(m.cut(data, 40))
        r = check(mc, path)
        expect(r.rc == 2, f"exit {r.rc}")
        expect("byte " in r.stderr and "c.pcap" in r.stderr, r.stderr)
        expect("IMAP.UID.NOT_ASCENDING" in r.rules(), f"earlier findings lost: {r.rules()}")
    yield "a file cut mid-record: error with the offset, earlier packets validated", c_cut_file

    def c_midstream():
        r = check(mc, pcap("m.pcap", IMAP_OK[6:], start_mid=True, client_port=50000))
        f = one_flow(r, "imap", midstream=True, roles_from="ports")
        expect(f["client"].endswith(":50000"), f["client"])
    yield "a connection captured mid-stream: roles from ports, silent", c_midstream

    def c_roles_from_greeting():
        # no SYN, neither port a mail port: the lower port (2000) is taken
        # for the server, until the other side greets like a mail server
        r = check(mc, pcap("g.pcap", IMAP_OK, server_port=10143, client_port=2000, handshake=False))
        f = one_flow(r, "imap", roles_from="ports")
        expect(f["server"].endswith(":10143") and f["client"].endswith(":2000"), str(f))
    yield "no SYN, unknown ports: the greeting tells which side is the server", c_roles_from_greeting

    def c_sniff():
        r = check(mc, pcap("p.pcap", POP3_OK, server_port=10110))
        one_flow(r, "pop3")
        r = check(mc, pcap("p2.pcap", IMAP_OK, server_port=10143), "--port", "10143=imap")
        one_flow(r, "imap")
    yield "unknown ports: the greeting tells, or --port", c_sniff

    def c_other():
        http = [("C", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ("S", b"HTTP/1.1 200 OK\r\n\r\n")]
        r = check(mc, pcap("h.pcap", http, server_port=80))
        expect(not r.flows and not r.findings, str(r.flows))
        expect(r.captures[0]["other_flows"] == 1, str(r.captures))
    yield "non-mail connections are counted and ignored", c_other

    def c_implicit_tls():
        tls = [("C", b"\x16\x03\x01\x00\x05hello"), ("S", b"\x16\x03\x03\x00\x05world")]
        r = check(mc, pcap("t.pcap", tls, server_port=993))
        f = one_flow(r, "imap", mode="implicit TLS", validated=False)
        expect(r.captures[0]["encrypted_flows"] == 1, str(r.captures))
        del f
    yield "implicit TLS is reported as encrypted, not validated", c_implicit_tls

    def c_submission():
        r = check(mc, pcap("sub.pcap", SMTP_SUB, server_port=587))
        # the submission rules apply: mail submitted without authentication
        one_flow(r, "smtp", findings=1, submission=True)
        expect(r.rules() == ["SMTP.SUBMISSION.UNAUTH_MAIL"], str(r.rules()))
    yield "port 587 is submission (its rules apply)", c_submission

    def c_two_interfaces():
        w = m.Pcapng()
        eth = w.interface(m.LINKTYPES["ether"])
        raw = w.interface(m.LINKTYPES["raw"], tsresol=9)
        a = m.conversation(POP3_OK, server_port=110, link="ether")
        b = m.conversation(IMAP_BAD, server_port=143, link="raw", client_port=40001)
        for i in range(max(len(a), len(b))):
            if i < len(a):
                w.epb(eth, a[i].ts_ns, a[i].data)
            if i < len(b):
                w.epb(raw, b[i].ts_ns, b[i].data)
        path = os.path.join(tmp, "two.pcapng")
        w.write(path)
        r = check(mc, path)
        expect(sorted(f["protocol"] for f in r.flows) == ["imap", "pop3"], str(r.flows))
        expect(r.rules() == ["IMAP.UID.NOT_ASCENDING"], str(r.rules()))
    yield "pcapng with two interfaces of different link types", c_two_interfaces

    def c_port_reuse():
        a = m.conversation(POP3_OK, server_port=110, isn=(1000, 5000))
        b = m.conversation(POP3_OK, server_port=110, isn=(900000, 700000),
                           t0_ns=1700000100 * 10**9)
        path = os.path.join(tmp, "reuse.pcap")
        m.write_pcap(path, a + b)
        r = check(mc, path)
        expect(len(r.flows) == 2 and all(f["findings"] == 0 for f in r.flows), str(r.flows))
    yield "the same 4-tuple used twice gives two connections", c_port_reuse

    def c_real_sample():
        path = os.path.join(HERE, "..", "..", "corpus", "samples", "dovecot-postfix-loopback.pcap")
        r = check(mc, path, "--port", "26110=pop3", "--port", "26143=imap", "--port", "26025=smtp",
                  "--port", "26587=submission")
        expect(r.rc == 0 and not r.findings, f"exit {r.rc}: {r.rules()} {r.stderr}")
        expect([f["protocol"] for f in r.flows] == ["pop3", "imap", "smtp", "smtp", "smtp"],
               str([f["protocol"] for f in r.flows]))
        expect([f["mode"] for f in r.flows] == ["STARTTLS", "plain", "plain", "STARTTLS", "STARTTLS"],
               str([f["mode"] for f in r.flows]))
        expect(r.flows[4]["submission"], "port 26587 is not submission")
    yield "the bundled real capture (Dovecot, Postfix) is silent", c_real_sample

    def c_stdin():
        r = check(mc, pcap("in.pcap", IMAP_BAD), stdin=True)
        expect(r.rules() == ["IMAP.UID.NOT_ASCENDING"], f"{r.rules()} {r.stderr}")
    yield "a capture read from a pipe (stdin)", c_stdin


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    mc = argv[1]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="mc-cases-") as tmp:
        for name, fn in cases(mc, tmp):
            try:
                fn()
                passed += 1
                print("ok   " + name)
            except Failure as e:
                failed += 1
                print(f"FAIL {name}: {e}")
            except Exception as e:  # noqa: BLE001 - report and go on
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
