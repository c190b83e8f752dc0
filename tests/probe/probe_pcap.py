#!/usr/bin/env python3
"""`mailconform probe --pcap` against fake servers on loopback (fake_servers.py).

Usage: probe_pcap.py MAILCONFORM

The capture the probe writes must say what the probe saw:
1. every mode but SMTP-SSL, recorded both as transcripts (--record) and as
   a pcapng (--pcap): `check` on the capture, with the ports' roles, follows
   every connection (eleven modes minus one, plus the four STARTTLS-injection
   connections), decrypts every TLS one from the file's own Decryption
   Secrets Blocks, and finds exactly the findings `check` finds on the
   transcripts (the probe's deliberate client misbehaviour, nothing of the
   servers). SMTP-SSL is left out of the comparison because a capture has no
   role for "SMTP relay over implicit TLS": `--port N=smtps` means
   submission (RFC 8314), whose rules the relay-mode conversation breaks.
2. servers that answer the command injected behind STARTTLS/STLS: the
   capture shows the same non-conformance as the probe's verdict.
3. IPv6: a STARTTLS conversation over ::1 is written with IPv6 headers and
   checks the same way.
4. tshark, when installed (.ci/run installs it): reads the file, finds no
   bad IP or TCP checksum and no TCP analysis flag, and decrypts both a
   STARTTLS and an implicit-TLS conversation with the file's secrets.
5. an unwritable --pcap path: exit 2 naming the file, before any probing.
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_servers import ConformantFleet, FakeServer, check, make_cert, verdict  # noqa: E402

MC = sys.argv[1]
def run(*args):
    return subprocess.run([MC] + list(args), capture_output=True, text=True, timeout=120)


def jsonl(text):
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def rule_counts(objs):
    return collections.Counter(o["rule"] for o in objs if "rule" in o)


def flows(objs):
    return [o for o in objs if "flow" in o and "rule" not in o and "protocol" in o]


def main():
    tmp = tempfile.mkdtemp(prefix="mc-probe-pcap-")
    good = make_cert(tmp, "good", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1")
    ca = good[0]
    fleet = ConformantFleet(good)
    plain, implicit = fleet.plain, fleet.implicit
    sub_plain, sub_implicit = fleet.sub_plain, fleet.sub_implicit
    ports = {m: p for m, p in fleet.ports.items() if m != "SMTP-SSL"}
    roles = {plain["pop3"].port: "pop3", plain["imap"].port: "imap", plain["smtp"].port: "smtp",
             implicit["pop3"].port: "pop3s", implicit["imap"].port: "imaps",
             sub_plain.port: "submission", sub_implicit.port: "smtps"}
    probe_args = ["probe", "--no-config", "--ca", ca, "--timeout", "5", "--format", "json",
                  "--modes", ",".join(ports)] + fleet.port_args(ports)
    role_args = []
    for port, role in roles.items():
        role_args += ["--port", "%d=%s" % (port, role)]

    # 1. the capture checks to the transcripts' findings
    rec = os.path.join(tmp, "rec")
    os.mkdir(rec)
    pcap = os.path.join(tmp, "all.pcapng")
    r = run(*probe_args, "--record", rec, "--pcap", pcap, "127.0.0.1")
    doc = json.loads(r.stdout)
    check(r.returncode == 0 and doc["summary"]["works"] == 10,
          "probe with --pcap: ten cells work (exit %d, %s)" % (r.returncode, r.stderr.strip()))
    check(os.path.getsize(pcap) > 0, "the capture is written")
    rc = run("check", "--no-config", "--format", "jsonl", *role_args, pcap)
    cap = jsonl(rc.stdout)
    fl = flows(cap)
    capsum = [o for o in cap if "capture" in o]
    check(rc.returncode != 2 and not rc.stderr.strip().startswith("mailconform:"),
          "check reads the capture (exit %d, %s)" % (rc.returncode, rc.stderr.strip()[:300]))
    check(len(fl) == 14, "14 connections: 10 conversations and 4 injection checks (got %d)" % len(fl))
    check(all(f["validated"] for f in fl), "every connection validated: %s"
          % [(f["server"], f["mode"], f.get("tls")) for f in fl if not f["validated"]])
    tls_flows = [f for f in fl if f["mode"] != "plain"]
    check(len(tls_flows) == 11 and all(f["tls"] and f["tls"]["decrypted"] for f in tls_flows),
          "every TLS connection decrypted by the file's own secrets (%d)" % len(tls_flows))
    check(capsum and capsum[0]["encrypted_flows"] == 0 and capsum[0]["malformed_frames"] == 0
          and capsum[0]["flows"] == 14 and capsum[0]["mail_flows"] == 14,
          "capture summary: 14 mail connections, none left encrypted or malformed (%s)" % capsum)
    check(all(f["gaps"] == 0 and f["overlaps_differing"] == 0 and f["roles_from"] == "syn" for f in fl),
          "synthetic TCP: handshakes, no gaps, no differing overlaps")
    mct = sorted(os.path.join(rec, x) for x in os.listdir(rec))
    rt = run("check", "--no-config", "--format", "jsonl", *mct)
    want, got = rule_counts(jsonl(rt.stdout)), rule_counts(cap)
    check(want and got == want, "capture findings = transcript findings (%s vs %s)"
          % (dict(got), dict(want)))
    check(all(o["side"] == "client" for o in cap if "rule" in o),
          "all of them the probe's own (client side)")

    # 2. a server answering the injected command: non-conformant in the capture too
    inj = {p: FakeServer(p, "plain", good, inject=True) for p in ("pop3", "imap", "smtp")}
    pcap2 = os.path.join(tmp, "inject.pcapng")
    r = run("probe", "--no-config", "--ca", ca, "--format", "json", "--pcap", pcap2,
            "--modes", "POP3-TLS,IMAP4-TLS,SMTP-TLS",
            "--port", "POP3-TLS=%d" % inj["pop3"].port, "--port", "IMAP4-TLS=%d" % inj["imap"].port,
            "--port", "SMTP-TLS=%d" % inj["smtp"].port, "127.0.0.1")
    check(r.returncode == 1, "injection answered: probe exit 1")
    rc = run("check", "--no-config", "--format", "jsonl", "--port", "%d=pop3" % inj["pop3"].port,
             "--port", "%d=imap" % inj["imap"].port, "--port", "%d=smtp" % inj["smtp"].port, pcap2)
    answered = {o["rule"] for o in jsonl(rc.stdout) if "rule" in o and o["side"] == "server"}
    check(rc.returncode == 1 and answered == {"POP3.STLS.INJECTION_ANSWERED",
                                               "IMAP.STARTTLS.INJECTION_ANSWERED",
                                               "SMTP.STARTTLS.INJECTION_ANSWERED"},
          "the capture shows the injected commands answered (%s)" % sorted(answered))

    # 3. IPv6
    v6 = FakeServer("pop3", "plain", good, ipv6=True)
    pcap3 = os.path.join(tmp, "v6.pcapng")
    r = run("probe", "--no-config", "--ca", ca, "--format", "json", "--pcap", pcap3,
            "--modes", "POP3-TLS", "--port", "POP3-TLS=%d" % v6.port, "localhost:[::1]")
    check(r.returncode == 0, "IPv6 probe works (%s)" % r.stderr.strip())
    rc = run("check", "--no-config", "--format", "jsonl", "--port", "%d=pop3" % v6.port, pcap3)
    fl = flows(jsonl(rc.stdout))
    check(len(fl) == 2 and all(f["client"].startswith("[::1]:") and f["validated"]
                               and f["tls"]["decrypted"] for f in fl),
          "IPv6 connections checked and decrypted (%s)" % [(f["client"], f["tls"]) for f in fl])

    # 4. Wireshark's reading of the file
    tshark = shutil.which("tshark")
    if not tshark:
        print("skip: tshark not installed (.ci/run installs it)")
    else:
        def ts(*args):
            return subprocess.run([tshark, "-n", "-r", pcap] + list(args), capture_output=True,
                                  text=True, timeout=120)
        t = ts("-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
               "-Y", "ip.checksum.status == 0 || tcp.checksum.status == 0 || tcp.analysis.flags")
        check(t.returncode == 0 and t.stdout.strip() == "",
              "tshark: no bad checksum, no TCP analysis flag (%s%s)" % (t.stdout[:300], t.stderr[-300:]))
        p = plain["pop3"].port
        t = ts("-d", "tcp.port==%d,pop" % p, "-Y", "pop.request.command == \"QUIT\"",
               "-T", "fields", "-e", "tcp.srcport")
        # POP3-Plain's QUIT in the clear, POP3-TLS's and its injection check's inside TLS
        check(len(t.stdout.split()) == 3, "tshark decrypts STLS: QUIT seen 3 times (%s)" % t.stdout.split())
        p = implicit["pop3"].port
        t = ts("-d", "tcp.port==%d,tls" % p, "-d", "tls.port==%d,pop" % p,
               "-Y", "pop.request.command == \"CAPA\"", "-T", "fields", "-e", "frame.number")
        check(len(t.stdout.split()) >= 1, "tshark decrypts implicit TLS: CAPA seen (%s)" % t.stdout.split())

    # 5. an unwritable path
    r = run(*probe_args, "--pcap", os.path.join(tmp, "no", "such", "dir.pcapng"), "127.0.0.1")
    check(r.returncode == 2 and "dir.pcapng" in r.stderr and r.stdout == "",
          "unwritable --pcap: exit 2 naming the file (%d: %s)" % (r.returncode, r.stderr.strip()))

    if verdict('probe --pcap') == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
