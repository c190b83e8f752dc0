#!/usr/bin/env python3
"""End-to-end capture cases: captures built with mkpcap.py (never
hand-edited binaries), checked with `mailconform check --format jsonl`.

usage: capture_cases.py MAILCONFORM

Each case builds one capture and asserts on the findings, the per-flow
objects ({"flow": ...}) and the capture object ({"capture": ...}): link
types, VLANs, IPv6, pcapng with several interfaces, reordering,
retransmissions (identical and conflicting), loss, snaplen, a file cut
mid-record, mid-stream starts, port roles and banner sniffing, implicit TLS,
non-mail traffic, port reuse, stdin; TLS with key logs (--keylog, pcapng
Decryption Secrets Blocks): real TLS 1.2 and 1.3 sessions made by
tlsmail.py (implicit TLS and STARTTLS for POP3, IMAP and SMTP) validate
with the findings of the same conversation in plaintext or in a transcript,
wrong and missing keys, the committed recordings of tests/data/tls/, and
crafted records for every TLS.* rule. Prints "ok NAME" / "FAIL NAME: why"
and a last line "N passed, M failed"; exits 1 on any failure.

Every check runs with --jobs 1, 2 and 3 (JOBS): the flows are sharded
across threads, so the order of lines may differ, but the sorted jsonl
lines (findings, flows, capture summary) and the exit status must be the
same as with one thread.

CAPTURE_TRIGGERED lists the rules only a capture can trigger (TLS records):
the run fails unless every one of them was reported by some case, and
tests/golden/rule_coverage.py and explain_examples.py count this list as
their trigger (validator/rules/explain/README.md).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mkpcap as m  # noqa: E402
import tlsmail  # noqa: E402

TLS_DATA = os.path.join(HERE, "..", "data", "tls")

# Rules only a capture can trigger; each is asserted by a case below.
CAPTURE_TRIGGERED = [
    "TLS.CLIENT.NOT_TLS", "TLS.SERVER.NOT_TLS", "TLS.CLIENT.SSLV2_HELLO",
    "TLS.CLIENT.PLAINTEXT", "TLS.SERVER.PLAINTEXT",
    "TLS.CLIENT.RECORD_INVALID", "TLS.SERVER.RECORD_INVALID",
    "TLS.CLIENT.RECORD_TOO_LONG", "TLS.SERVER.RECORD_TOO_LONG",
    "TLS.CLIENT.UNEXPECTED_MESSAGE", "TLS.SERVER.UNEXPECTED_MESSAGE",
    "TLS.CLIENT.OLD_VERSION", "TLS.SERVER.OLD_VERSION",
    "TLS.CLIENT.HANDSHAKE_ABORTED", "TLS.SERVER.HANDSHAKE_ABORTED",
    "TLS.CLIENT.DECRYPT_FAILED", "TLS.SERVER.DECRYPT_FAILED",
]
SEEN_RULES = set()

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
        self.lines = sorted(proc.stdout.splitlines())
        self.findings, self.flows, self.captures = [], [], []
        for line in proc.stdout.splitlines():
            d = json.loads(line)
            if "rule" in d:
                self.findings.append(d)
            elif "flow" in d:
                self.flows.append(d)
            elif "capture" in d:
                self.captures.append(d)
        SEEN_RULES.update(self.rules())

    def rules(self):
        return [f["rule"] for f in self.findings]


# --jobs values compared with one thread on every check
JOBS = (2, 3)


def run_check(mc, path, *args, stdin=None):
    if stdin is not None:
        with open(path, "rb") as f:
            return subprocess.run([mc, "check", "--format", "jsonl", *args, "-"], stdin=f,
                                  capture_output=True, text=True, timeout=120)
    return subprocess.run([mc, "check", "--format", "jsonl", *args, path], capture_output=True,
                          text=True, timeout=120)


def check(mc, path, *args, stdin=None):
    """One thread's result, after checking that --jobs 2 and 3 give the
    same lines (in any order) and the same exit status."""
    p = run_check(mc, path, *args, stdin=stdin)
    for j in JOBS:
        pj = run_check(mc, path, *args, "--jobs", str(j), stdin=stdin)
        expect(pj.returncode == p.returncode,
               f"--jobs {j}: exit {pj.returncode}, one thread {p.returncode}: {pj.stderr}")
        one, many = sorted(p.stdout.splitlines()), sorted(pj.stdout.splitlines())
        if one != many:
            diff = [x for x in many if x not in one][:2] + ["<>"] + \
                   [x for x in one if x not in many][:2]
            raise Failure(f"--jobs {j} differs from one thread: {diff}")
    return Result(p)


def shard_of(client_port, server_port, jobs=2, client="192.0.2.1", server="192.0.2.2"):
    """The shard of a connection with --jobs N, as shard_of() and
    shard0_share() in validator/capture/capture.c compute it (0: the
    reading thread's, 1..N-1: the workers'); used to build captures that
    put connections on chosen shards."""
    mask = 0xffffffff
    a = b = 2166136261
    for x, y in zip(bytes(map(int, client.split("."))), bytes(map(int, server.split(".")))):
        a = ((a ^ x) * 16777619) & mask
        b = ((b ^ y) * 16777619) & mask
    a = ((a ^ client_port) * 16777619) & mask
    b = ((b ^ server_port) * 16777619) & mask
    a ^= b
    a ^= a >> 15
    a = (a * 0x2c1b3c6d) & mask
    a ^= a >> 12
    share0 = 64 if jobs > 4 else max(64, 1024 * (100 - 18 * (jobs - 1)) // (100 * jobs))
    return 0 if a % 1024 < share0 else 1 + (a // 1024) % (jobs - 1)


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

    def c_midstream_first_line():
        # The capture starts where a line starts (as segments usually do):
        # that first line is validated, not skipped as the tail of a lost
        # one. Here it carries message 1's UID, so message 2's lower UID is
        # a finding only if it was read.
        r = check(mc, pcap("m1.pcap", IMAP_BAD[10:], start_mid=True, client_port=50000))
        one_flow(r, "imap", findings=1, midstream=True)
        expect(r.rules() == ["IMAP.UID.NOT_ASCENDING"] and r.findings[0]["frame"] == 1,
               f"first line not validated: {r.findings}")
        # The server's first reply read: the client's second NOOP is not
        # taken for one pipelined behind an unanswered first.
        smtp = [("C", b"NOOP\r\n"), ("S", b"250 ok\r\n"), ("C", b"NOOP\r\n"), ("S", b"250 ok\r\n"),
                ("C", b"QUIT\r\n"), ("S", b"221 bye\r\n")]
        r = check(mc, pcap("m2.pcap", smtp, server_port=25, start_mid=True, client_port=50000))
        one_flow(r, "smtp", midstream=True)
        # Started inside a line: that partial line (a bare LF, each side) is
        # not blamed; the complete line after it is validated.
        smtp = [("C", b"tial\nNOOP\n"), ("S", b"k\n250 ok\n"), ("C", b"QUIT\r\n"), ("S", b"221 bye\r\n")]
        r = check(mc, pcap("m3.pcap", smtp, server_port=25, start_mid=True, client_port=50000))
        one_flow(r, "smtp", findings=2, midstream=True)
        got = sorted((x["rule"], x["offset"]) for x in r.findings)
        expect(got == [("SMTP.CMD.BARE_LF", 10), ("SMTP.REPLY.BARE_LF", 9)], f"findings {got}")
    yield "mid-stream: the first complete line is validated, a partial one is not blamed", \
        c_midstream_first_line

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

    cert, key = tlsmail.make_cert(tmp)

    def tls_pcap(name, items, version, port, keylog=None, **kw):
        """items through real TLS endpoints; returns (pcap path, key log path)."""
        kl = keylog or os.path.join(tmp, name + ".keylog")
        if os.path.exists(kl):
            os.unlink(kl)
        sealed = tlsmail.tls_items(items, kl, version, cert, key, alpn=kw.pop("alpn", None))
        path = os.path.join(tmp, name)
        m.conversation_pcap(sealed, path, server_port=port, **kw)
        return path, kl

    def positions(r):
        return [(f["rule"], f["offset"]) for f in r.findings]

    def c_implicit_tls():
        path, kl = tls_pcap("t.pcap", [("TLS",)] + IMAP_OK, "1.3", 993, alpn="imap")
        r = check(mc, path)
        f = one_flow(r, "imap", mode="implicit TLS", validated=False)
        expect(r.captures[0]["encrypted_flows"] == 1, str(r.captures))
        t = f["tls"]
        expect(t["version"] == "TLS 1.3" and t["sni"] == "mail.example" and not t["decrypted"], str(t))
        expect(t["note"].startswith("encrypted, not validated: no key for client random "), t["note"])
    yield "implicit TLS without a key: encrypted, not validated, the client random named", c_implicit_tls

    def c_implicit_decrypted():
        plain = check(mc, pcap("plain.pcap", IMAP_BAD, server_port=143))
        expect(plain.rules() == ["IMAP.UID.NOT_ASCENDING"], str(plain.rules()))
        for v, suite in (("1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
                         ("1.3", "TLS_AES_256_GCM_SHA384")):
            path, kl = tls_pcap("imaps%s.pcap" % v, [("TLS",)] + IMAP_BAD, v, 993, alpn="imap")
            r = check(mc, path, "--keylog", kl)
            f = one_flow(r, "imap", findings=1, mode="implicit TLS", validated=True)
            expect(positions(r) == positions(plain), f"TLS {v}: {positions(r)} != {positions(plain)}")
            expect(f["tls"] == {"version": "TLS " + v, "cipher_suite": suite, "sni": "mail.example",
                                "alpn": "imap", "decrypted": True, "note": None}, str(f["tls"]))
            expect(r.captures[0]["encrypted_flows"] == 0, str(r.captures))
            # the same from the configuration file ("keylog = FILE")
            conf = os.path.join(tmp, "kl.conf")
            with open(conf, "w") as fh:
                fh.write("# a comment line after it must not clobber the path\nkeylog = %s\n# end\n" % kl)
            r = check(mc, path, "--config", conf)
            expect(positions(r) == positions(plain), f"config: {positions(r)} {r.stderr}")
    yield "implicit TLS 1.2 and 1.3 with a key log: the plaintext's findings", c_implicit_decrypted

    def c_implicit_pop3_smtps():
        for port, items, proto in ((995, POP3_OK, "pop3"), (465, SMTP_SUB, "smtp")):
            plain = check(mc, pcap("p%d.pcap" % port, items, server_port={995: 110, 465: 587}[port]))
            path, kl = tls_pcap("s%d.pcap" % port, [("TLS",)] + items, "1.3", port)
            r = check(mc, path, "--keylog", kl)
            one_flow(r, proto, findings=len(plain.findings), validated=True)
            expect(positions(r) == positions(plain), f"{port}: {positions(r)} != {positions(plain)}")
    yield "POP3S (995) and SMTPS (465) decrypted like their plaintext", c_implicit_pop3_smtps

    def starttls_case(name, items, proto, port, mct_proto=None):
        mct = os.path.join(tmp, name + ".mct")
        tlsmail.transcript(items, mct, mct_proto or proto)
        want = check(mc, mct)
        expect(want.rc in (0, 1) and want.findings, f"{name}: the transcript finds nothing {want.stderr}")
        for v in ("1.2", "1.3"):
            path, kl = tls_pcap("%s%s.pcap" % (name, v), items, v, port, close=False)
            r = check(mc, path, "--keylog", kl)
            f = one_flow(r, proto, findings=len(want.findings), mode="STARTTLS", validated=True)
            expect(positions(r) == positions(want), f"TLS {v}: {positions(r)} != {positions(want)}")
            expect(f["tls"]["decrypted"] and f["tls"]["version"] == "TLS " + v, str(f["tls"]))
            # without the key log the records stay opaque, as before: the
            # findings inside TLS are not seen
            r = check(mc, path)
            expect(r.flows[0]["tls"] is None and len(r.findings) < len(want.findings),
                   f"{r.flows[0]} {r.rules()}")

    def c_starttls_pop3():
        items = [("S", b"+OK POP3 ready\r\n"), ("C", b"CAPA\r\n"), ("S", b"+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
                 ("C", b"STLS\r\n"), ("S", b"+OK begin TLS\r\n"), ("TLS",),
                 ("C", b"CAPA\r\n"), ("S", b"+OK\r\nUSER\r\n.\r\n"),
                 ("C", b"USER mrc\r\n"), ("S", b"+OK\r\n"), ("C", b"PASS secret\r\n"),
                 ("S", b"+ok logged in\r\n"), ("C", b"QUIT\r\n"), ("S", b"+OK bye\r\n")]
        starttls_case("stls", items, "pop3", 110)
    yield "POP3 STLS with a key log: inside TLS judged as in the transcript", c_starttls_pop3

    def c_starttls_imap():
        items = [("S", b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
                 ("C", b"a0 STARTTLS\r\n"), ("S", b"a0 OK begin TLS\r\n"), ("TLS",),
                 ("C", b"a1 CAPABILITY\r\n"),
                 ("S", b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n")] + IMAP_BAD[1:]
        starttls_case("imapstarttls", items, "imap", 143)
    yield "IMAP STARTTLS with a key log: inside TLS judged as in the transcript", c_starttls_imap

    def c_starttls_smtp():
        items = [("S", b"220 mx.example ESMTP\r\n"), ("C", b"EHLO client.example\r\n"),
                 ("S", b"250-mx.example\r\n250 STARTTLS\r\n"), ("C", b"STARTTLS\r\n"),
                 ("S", b"220 go ahead\r\n"), ("TLS",)] + SMTP_SUB[1:]
        starttls_case("smtpstarttls", items, "smtp", 587, mct_proto="submission")
    yield "SMTP STARTTLS (submission) with a key log: as in the transcript", c_starttls_smtp

    def c_injection_before_tls():
        # plaintext sent before a direction's first record is judged as
        # before; what follows the records is decrypted
        items = [("S", b"+OK POP3 ready\r\n"), ("C", b"STLS\r\nUSER mrc\r\n"),
                 ("S", b"+OK begin TLS\r\n"), ("TLS",), ("C", b"CAPA\r\n"), ("S", b"+OK\r\nUSER\r\n.\r\n"),
                 ("C", b"QUIT\r\n"), ("S", b"+OK bye\r\n")]
        path, kl = tls_pcap("inj.pcap", items, "1.3", 110, close=False)
        r = check(mc, path, "--keylog", kl)
        expect(r.rules() == ["POP3.STLS.CMD_INJECTION"], str(r.rules()))
        expect(r.flows[0]["tls"]["decrypted"], str(r.flows[0]))
    yield "a command pipelined behind STLS is still injection with a key log", c_injection_before_tls

    def c_wrong_key():
        path, kl = tls_pcap("w.pcap", [("TLS",)] + IMAP_OK, "1.3", 993)
        _, other = tls_pcap("w2.pcap", [("TLS",)] + IMAP_OK, "1.3", 993)
        # the other session's secrets, filed under this session's client random
        mine = [l.split()[1] for l in open(kl).read().splitlines() if l and not l.startswith("#")][0]
        theirs = [l.split() for l in open(other).read().splitlines() if l and not l.startswith("#")]
        wrong = os.path.join(tmp, "wrong.keylog")
        with open(wrong, "w") as f:
            for label, _, secret in theirs:
                f.write(f"{label} {mine} {secret}\n")
        r = check(mc, path, "--keylog", wrong)
        expect(sorted(set(r.rules())) == ["TLS.CLIENT.DECRYPT_FAILED", "TLS.SERVER.DECRYPT_FAILED"],
               str(r.rules()))
        expect(not r.flows[0]["validated"] and not r.flows[0]["tls"]["decrypted"], str(r.flows[0]))
        expect("do not authenticate" in r.flows[0]["tls"]["note"], str(r.flows[0]))
    yield "a wrong key log: authentication failures reported, not validated", c_wrong_key

    def c_dsb():
        path = os.path.join(tmp, "dsb.pcapng")
        kl = os.path.join(tmp, "dsb.keylog")
        sealed = tlsmail.tls_items([("TLS",)] + IMAP_BAD, kl, "1.3", cert, key)
        m.conversation_pcap(sealed, path, fmt="pcapng", server_port=993, secrets=open(kl, "rb").read())
        r = check(mc, path)
        one_flow(r, "imap", findings=1, validated=True)
        expect(r.rules() == ["IMAP.UID.NOT_ASCENDING"], str(r.rules()))
        expect(r.flows[0]["tls"]["decrypted"], str(r.flows[0]))
    yield "a pcapng Decryption Secrets Block decrypts without --keylog", c_dsb

    def recording(name):
        d = os.path.join(TLS_DATA, name)
        items, data = [], open(os.path.join(d, "chunks.bin"), "rb").read()
        i = 0
        while i < len(data):
            n = int.from_bytes(data[i + 1:i + 5], "big")
            items.append((chr(data[i]), data[i + 5:i + 5 + n]))
            i += 5 + n
        return items, os.path.join(d, "keylog")

    def c_tls11():
        items, kl = recording("tls11")
        r = check(mc, pcap("tls11.pcap", items, server_port=993), "--keylog", kl)
        expect({"TLS.CLIENT.OLD_VERSION", "TLS.SERVER.OLD_VERSION"} <= set(r.rules()), str(r.rules()))
        expect(r.flows[0]["tls"]["version"] == "TLS 1.1", str(r.flows[0]))
        expect("not decryptable" in (r.flows[0]["tls"]["note"] or ""), str(r.flows[0]))
    yield "TLS 1.1 is reported (RFC 8996), its CBC suite not decrypted", c_tls11

    def c_handshake_failure():
        items, kl = recording("handshake-failure")
        r = check(mc, pcap("hf.pcap", items, server_port=993), "--keylog", kl)
        expect(r.rules() == ["TLS.SERVER.HANDSHAKE_ABORTED"], str(r.rules()))
        expect("protocol_version" in r.findings[0]["message"], r.findings[0]["message"])
    yield "a handshake failure is reported", c_handshake_failure

    def c_records():
        sealed = tlsmail.tls_items([("TLS",), ("S", b"* OK ready\r\n")], os.path.join(tmp, "r.kl"),
                                   "1.3", cert, key)
        ch, sh = sealed[0][1], sealed[1][1]
        h = bytes.fromhex
        crafted = [
            ("TLS.CLIENT.NOT_TLS", [("C", b"a1 LOGIN alice secret\r\n")]),
            ("TLS.SERVER.NOT_TLS", [("C", ch), ("S", b"* OK ready\r\n")]),
            ("TLS.CLIENT.SSLV2_HELLO", [("C", h("802e0103010015000000100000") + bytes(35))]),
            ("TLS.CLIENT.PLAINTEXT", [("C", ch), ("S", sh), ("C", b"a1 NOOP\r\n")]),
            ("TLS.SERVER.PLAINTEXT", [("C", ch), ("S", sh + b"* BYE internal error\r\n")]),
            ("TLS.CLIENT.RECORD_INVALID", [("C", ch + h("1709090005") + b"hello")]),
            ("TLS.SERVER.RECORD_INVALID", [("C", ch), ("S", h("16030300080200000403030000"))]),
            ("TLS.CLIENT.RECORD_TOO_LONG", [("C", ch + h("170303ffff") + b"x" * 100)]),
            ("TLS.SERVER.RECORD_TOO_LONG", [("C", ch), ("S", h("160303ffff") + b"x" * 100)]),
            ("TLS.CLIENT.UNEXPECTED_MESSAGE", [("C", h("170303000b") + b"a1 LOGOUT\r\n")]),
            ("TLS.SERVER.UNEXPECTED_MESSAGE", [("C", ch), ("S", h("170303000c") + b"* OK ready\r\n")]),
            ("TLS.CLIENT.HANDSHAKE_ABORTED", [("C", ch), ("S", sh), ("C", h("15030300020230"))]),
            ("TLS.SERVER.HANDSHAKE_ABORTED", [("C", ch), ("S", h("15030300020228"))]),
        ]
        for rule, items in crafted:
            r = check(mc, pcap("rec.pcap", items, server_port=993))
            expect(r.rules() == [rule], f"{rule}: {r.rules()}")
            f = r.findings[0]
            expect(f["side"] == rule.split(".")[1].lower() and f["frame"], str(f))
        # the handshake's records alone are no finding
        r = check(mc, pcap("rec.pcap", [("C", ch), ("S", sh)], server_port=993))
        expect(not r.findings, str(r.rules()))
        # a connection captured mid-stream: the records' framing is unknown,
        # nothing is blamed
        r = check(mc, pcap("mid.pcap", [("C", ch[7:]), ("S", sh[3:]), ("C", b"a1 NOOP\r\n")],
                           server_port=993, handshake=False))
        expect(len(r.flows) == 1 and r.flows[0]["midstream"] and not r.findings,
               f"{r.flows} {r.rules()}")
    yield "TLS record rules: crafted records, each blamed on its sender", c_records

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

    def c_many_flows():
        # 24 connections on three protocols, their packets interleaved in
        # time (so every worker opens flows while the others run), half of
        # them with findings: numbered, validated and summed as one thread
        # does, whatever --jobs
        convs = {143: (IMAP_OK, IMAP_BAD), 110: (POP3_OK, POP3_OK), 587: (SMTP_SUB, SMTP_SUB)}
        packets = []
        for i in range(24):
            port = list(convs)[i % 3]
            items = convs[port][i % 2]
            packets += m.conversation(items, server_port=port, client_port=41000 + i,
                                      t0_ns=1700000000 * 10**9 + i * 350000,
                                      isn=(1000 + i, 5000 + i))
        packets.sort(key=lambda pk: pk.ts_ns)
        path = os.path.join(tmp, "many.pcap")
        m.write_pcap(path, packets)
        r = check(mc, path)
        expect(len(r.flows) == 24, f"{len(r.flows)} flows")
        expect(sorted(int(f["flow"].split()[1]) for f in r.flows) == list(range(1, 25)),
               str([f["flow"] for f in r.flows]))
        expect(r.rules().count("IMAP.UID.NOT_ASCENDING") == 4, str(r.rules()))
        expect(r.captures and r.captures[0]["mail_flows"] == 24, str(r.captures))
    yield "24 interleaved connections: the same with --jobs 1, 2, 3", c_many_flows

    def c_held_for_numbers():
        # With -j 2 a connection of the worker's shard opens and stays
        # open; 150 connections of the reading thread's shard follow, one
        # after the other, each with one finding (mail before AUTH). Their
        # numbers depend on the worker passing their first frames, which
        # waits in its batch: their findings and summaries are held, and
        # past 128 closed connections the reading thread waits for the
        # numbers. Then a second worker connection opens and 150 more of
        # the reader's follow, with 7 findings each (bare LF on every
        # client line too): past 512 held findings it waits again. Either
        # way the lines must be those of one thread, with -j 2 and 3.
        bare = [(d, b.replace(b"\r\n", b"\n") if d == "C" else b) for d, b in SMTP_SUB]
        workers = [p for p in range(30000, 31000) if shard_of(p, 110) == 1][:2]
        readers = [p for p in range(31000, 33000) if shard_of(p, 587) == 0][:300]
        t0 = 1700000000 * 10**9
        w = [m.conversation(POP3_OK, server_port=110, client_port=port, t0_ns=t0 + k * 10**9,
                            isn=(1000 + k, 5000 + k)) for k, port in enumerate(workers)]
        packets = w[0][:3]
        for i, port in enumerate(readers):
            if i == 150:
                packets += w[1][:3]
            packets += m.conversation(SMTP_SUB if i < 150 else bare, server_port=587,
                                      client_port=port, t0_ns=t0 + 10**9 + i * 40 * 10**6,
                                      isn=(1000 + i, 5000 + i))
        for pk in w[0][3:] + w[1][3:]:
            pk.ts_ns += 100 * 10**9
        packets += w[0][3:] + w[1][3:]
        path = os.path.join(tmp, "held.pcap")
        m.write_pcap(path, packets)
        r = check(mc, path)
        expect(len(r.flows) == 302, f"{len(r.flows)} flows")
        expect(sorted(int(f["flow"].split()[1]) for f in r.flows) == list(range(1, 303)),
               "flows not numbered 1..302")
        expect(len(r.findings) >= 150 + 7 * 150, f"{len(r.findings)} findings")
    yield "300 connections while a worker waits: findings held for their numbers, " \
        "--jobs 1, 2, 3", c_held_for_numbers

    def c_worker_lags_mapping():
        # A connection of the worker's shard (-j 2) says one line, then one
        # of the reading thread's shard moves 24 MiB, then the first goes
        # on: the worker reads its payload in the file's mapping, so the
        # pages behind the reader may be dropped only past the worker's
        # first segment; past pinned_max() (6 to 18 MiB, as the queue's
        # depth) the reader hands out and waits for it. The result must be
        # that of one thread.
        worker = next(p for p in range(30000, 31000) if shard_of(p, 110) == 1)
        reader = next(p for p in range(31000, 32000) if shard_of(p, 110) == 0)
        big = b"+OK message follows\r\n" + (b"z" * 998 + b"\r\n") * 25200 + b".\r\n"
        long_pop = POP3_OK[:9] + [("C", b"RETR 1\r\n"), ("S", big)] + POP3_OK[11:]
        a = m.conversation(POP3_OK, server_port=110, client_port=worker,
                           t0_ns=1700000000 * 10**9, isn=(1000, 5000))
        b = m.conversation(long_pop, server_port=110, client_port=reader,
                           t0_ns=1700000000 * 10**9 + 4 * 10**6, step_ns=1000,
                           isn=(9000, 7000))
        # a's first packets (handshake, greeting), then all of b, then the rest of a
        for pk in a[4:]:
            pk.ts_ns += 10**9
        packets = a[:4] + b + a[4:]
        path = os.path.join(tmp, "lag.pcap")
        m.write_pcap(path, packets)
        expect(os.path.getsize(path) > 24 << 20, f"{os.path.getsize(path)} octets")
        r = check(mc, path)
        expect(len(r.flows) == 2 and all(f["validated"] for f in r.flows), str(r.flows))
    yield "a worker's connection waits while the reader's moves 24 MiB: --jobs 1, 2, 3", \
        c_worker_lags_mapping

    def c_hand_out_while_a_queue_is_full():
        # With -j 3 (and 4): worker 2's connection sends a SYN, then
        # nothing. Worker 1 gets a long SMTP DATA transfer (24 MiB, more
        # than its queue holds) with 400 SYN/RST connections of its own
        # shard between its segments. Worker 2's partial batch keeps
        # "handed out" below its SYN; when worker 1's queue is full the
        # reading thread hands out every partial batch and waits. Worker 2
        # does its SYN and goes idle; worker 1, past 128 closed
        # connections, must wait for a flow number, so for worker 2 to be
        # past a frame after that SYN: "handed out" must have moved past
        # it before the reading thread waited, or the run hangs (it did,
        # in 7 runs of 8 with -j 3).
        for jobs in (3, 4):
            ports = iter(range(20000, 40000))
            heavy = next(p for p in ports if shard_of(p, 25, jobs) == 1)
            quiet = next(p for p in ports if shard_of(p, 25, jobs) == 2)
            short = [p for p in ports if shard_of(p, 25, jobs) == 1][:400]
            # 8 KiB segments of 3-octet lines (mss: one segment each):
            # worker 1 takes far longer over 129 of them (to the 129th
            # closed connection, in its queue's first 5 batches) than the
            # reader takes to fill its queue (16 to 64 batches of 32
            # segments, as the depth)
            body = b"x\r\n" * 2730
            smtp = [("S", b"220 mx ESMTP\r\n"), ("C", b"EHLO a.example\r\n"), ("S", b"250 mx\r\n"),
                    ("C", b"MAIL FROM:<a@a.example>\r\n"), ("S", b"250 ok\r\n"),
                    ("C", b"RCPT TO:<b@b.example>\r\n"), ("S", b"250 ok\r\n"),
                    ("C", b"DATA\r\n"), ("S", b"354 go\r\n")] + [("C", body)] * 3000 + \
                [("C", b".\r\n"), ("S", b"250 queued\r\n"), ("C", b"QUIT\r\n"), ("S", b"221 bye\r\n")]
            conv = m.conversation(smtp, server_port=25, client_port=heavy, mss=len(body),
                                  close=False)

            def syn_or_rst(port, seq, flags):
                return m.Packet(0, m.link("ether", m.tcp_ip(4, "192.0.2.1", "192.0.2.2", port, 25,
                                                            seq, 0, flags, checksum=False)))

            first_body = 3 + 9   # handshake, then the dialogue up to 354
            packets = conv[:first_body] + [syn_or_rst(quiet, 77, "S")]
            for k, pk in enumerate(conv[first_body:]):
                packets.append(pk)
                if k < len(short):
                    packets += [syn_or_rst(short[k], 9000, "S"), syn_or_rst(short[k], 9001, "R")]
            for k, pk in enumerate(packets):
                pk.ts_ns = 1700000000 * 10**9 + k * 1000
            path = os.path.join(tmp, "handout.pcap")
            m.write_pcap(path, packets)
            r = check(mc, path)   # one thread against --jobs 2 and 3
            pj = run_check(mc, path, "--jobs", str(jobs))
            expect(pj.returncode == r.rc and sorted(pj.stdout.splitlines()) == r.lines,
                   f"--jobs {jobs} differs from one thread")
            expect(len(r.flows) == 402, f"{len(r.flows)} flows")
    yield "a worker idle while another's queue is full: no hang with --jobs 3 and 4", \
        c_hand_out_while_a_queue_is_full

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
    missing = [r for r in CAPTURE_TRIGGERED if r not in SEEN_RULES]
    if missing:
        failed += 1
        print("FAIL CAPTURE_TRIGGERED rules no case reported: " + ", ".join(missing))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
