#!/usr/bin/env python3
"""mailconform probe against fake servers on loopback (fake_servers.py).

Usage: probe_fake.py MAILCONFORM

Covers: all eleven modes against conformant POP3/IMAP/SMTP servers in
plaintext, STARTTLS/STLS and implicit TLS (a self-signed certificate made
with the openssl CLI, trusted with --ca), a server that answers a command
injected behind STARTTLS, one that never answers, one that sends an endless
line, one that sends garbage, a refused port, a certificate with the wrong
name and one nobody trusts, login only over TLS, transcripts that check
again to the same findings, the key log, every output format and the exit
status.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_servers import ConformantFleet, FakeServer, check, free_port, make_cert, verdict  # noqa: E402

MC = sys.argv[1]
def probe(*args, env=None):
    t = time.monotonic()
    r = subprocess.run([MC, "probe", "--no-config"] + list(args), capture_output=True, text=True,
                       env=env, timeout=120)
    return r, time.monotonic() - t


def cells(r):
    doc = json.loads(r.stdout)
    return {c["mode"] + "@" + c["host"]: c for c in doc["cells"]}, doc


def main():
    tmp = tempfile.mkdtemp(prefix="mc-probe-")
    good = make_cert(tmp, "good", "localhost", "DNS:localhost,IP:127.0.0.1")
    wrong = make_cert(tmp, "wrong", "wrong.example", "DNS:wrong.example")
    ca = os.path.join(tmp, "ca.pem")
    with open(ca, "w") as out:
        for c in (good[0], wrong[0]):
            out.write(open(c).read())

    fleet = ConformantFleet(good)
    plain, implicit, ports = fleet.plain, fleet.implicit, fleet.ports
    port_args = fleet.port_args()
    rec = os.path.join(tmp, "rec")
    os.mkdir(rec)
    keylog = os.path.join(tmp, "keys.log")

    # 1. every mode against conformant servers: all "works"
    r, _ = probe("--ca", ca, "--timeout", "5", "--format", "json", "--record", rec, "--keylog", keylog,
                 *port_args, "127.0.0.1")
    got, doc = cells(r)
    check(r.returncode == 0, "conformant servers: exit 0 (got %d: %s)" % (r.returncode, r.stderr))
    check(len(got) == 11, "eleven cells")
    for mode in ports:
        c = got.get(mode + "@127.0.0.1", {})
        check(c.get("verdict") == "works", "%s works (got %s %s, %s findings)"
              % (mode, c.get("verdict"), c.get("reason"), c.get("findings")))
        tls = c.get("tls")
        if mode.endswith("Plain"):
            check(tls is None, mode + ": no TLS")
        else:
            check(tls and tls["verified"] and tls["name_ok"] and tls["version"].startswith("TLS")
                  and "CN=localhost" in tls["subject"] and tls["not_after"], mode + ": TLS details")
        check(c.get("transcript") and os.path.exists(c["transcript"]), mode + ": transcript written")
    check(doc["summary"]["works"] == 11, "summary counts")
    check(os.path.getsize(keylog) > 0 and "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in open(keylog).read(),
          "key log written")
    # the transcripts check again to the same (no) findings; the -TLS ones hold the inject session
    for mode in ("POP3-TLS", "IMAP4-TLS", "SMTP-TLS", "SMTP-SSL"):
        path = os.path.join(rec, "127.0.0.1_%s.mct" % mode)
        text = open(path).read()
        check("! tls decrypted" in text, mode + ": transcript marks the TLS start")
        rr = subprocess.run([MC, "check", "--no-config", "--format", "json", path], capture_output=True,
                            text=True)
        found = json.loads(rr.stdout)["findings"]
        # the probe's own deliberate misbehaviour is all a check finds: the client's
        check(found and all(f["side"] == "client" for f in found),
              mode + ": transcript checks clean on the server side (%s)"
              % sorted({f["rule"] for f in found if f["side"] == "server"}))
        if mode.endswith("-TLS"):
            check("@ session %s/inject" % mode in text, mode + ": inject session recorded")

    # 2. text and Markdown matrices
    r, _ = probe("--ca", ca, "--modes", "pop3-ssl,SMTP-TLS", *port_args, "127.0.0.1")
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[0].split() == ["mode", "127.0.0.1"], "text: header row")
    check(lines[1].split() == ["POP3-SSL", "works"] and lines[2].split() == ["SMTP-TLS", "works"],
          "text: one row per mode")
    r, _ = probe("--ca", ca, "--modes", "IMAP4-SSL", "--format", "md", *port_args, "localhost:127.0.0.1")
    check(r.stdout.startswith("| mode | localhost |\n|---|---|\n| IMAP4-SSL | works |"), "md table")
    check("SNI localhost" in r.stdout, "md: SNI sent for a name")

    # 3. a server that answers the command injected behind STARTTLS/STLS
    inj = {p: FakeServer(p, "plain", good, inject=True) for p in ("pop3", "imap", "smtp")}
    r, _ = probe("--ca", ca, "--format", "json", "--modes", "POP3-TLS,IMAP4-TLS,SMTP-TLS",
                 "--port", "POP3-TLS=%d" % inj["pop3"].port, "--port", "IMAP4-TLS=%d" % inj["imap"].port,
                 "--port", "SMTP-TLS=%d" % inj["smtp"].port, "127.0.0.1")
    got, _ = cells(r)
    check(r.returncode == 1, "injection: exit 1")
    for mode, proto in (("POP3-TLS", "POP3"), ("IMAP4-TLS", "IMAP"), ("SMTP-TLS", "SMTP")):
        c = got[mode + "@127.0.0.1"]
        rules = {d["rule"] for d in c["details"]}
        check(c["verdict"] == "non-conformant" and any("INJECTION_ANSWERED" in x for x in rules)
              and all(d["session"] == mode + "/inject" for d in c["details"]),
              "%s: injected command answered -> non-conformant (%s)" % (mode, sorted(rules)))

    # a baseline of those findings, or leaving the rules out, makes the cells work again
    inj_args = ["--ca", ca, "--format", "json", "--modes", "POP3-TLS,IMAP4-TLS,SMTP-TLS",
                "--port", "POP3-TLS=%d" % inj["pop3"].port, "--port", "IMAP4-TLS=%d" % inj["imap"].port,
                "--port", "SMTP-TLS=%d" % inj["smtp"].port, "127.0.0.1"]
    bl = os.path.join(tmp, "baseline")
    r, _ = probe("--write-baseline", bl, *inj_args)
    check(r.returncode == 1 and os.path.getsize(bl) > 0, "--write-baseline")
    r, _ = probe("--baseline", bl, *inj_args)
    got, _ = cells(r)
    check(r.returncode == 0 and all(c["verdict"] == "works" for c in got.values()),
          "--baseline: cells work again (%s)" % [c["verdict"] for c in got.values()])
    r, _ = probe("--rules", "-*.INJECTION_ANSWERED,-*.RESPONSE_INJECTION", *inj_args)
    got, _ = cells(r)
    check(r.returncode == 0 and all(c["verdict"] == "works" for c in got.values()),
          "--rules: left-out rules do not count (%s)" % [c["verdict"] for c in got.values()])
    r, _ = probe("--severity", "*.INJECTION_ANSWERED=warning", "--severity", "*.RESPONSE_INJECTION=warning",
                 *inj_args)
    got, _ = cells(r)
    check(r.returncode == 0 and all(c["verdict"] == "works with warnings" for c in got.values()),
          "--severity: warnings only (%s)" % [c["verdict"] for c in got.values()])

    # 4. bad targets: a clear verdict per cell within the timeout
    silent = FakeServer("pop3", silent=True)
    endless = FakeServer("pop3", endless=True)
    garbage = FakeServer("imap", garbage=True)
    refused = free_port()
    wrongname = FakeServer("imap", "implicit", wrong)
    r, took = probe("--ca", ca, "--timeout", "1", "--format", "json", "--jobs", "5",
                    "--modes", "POP3-Plain,POP3-SSL,IMAP4-Plain,IMAP4-SSL,SMTP-Plain",
                    "--port", "POP3-Plain=%d" % silent.port, "--port", "POP3-SSL=%d" % endless.port,
                    "--port", "IMAP4-Plain=%d" % garbage.port, "--port", "IMAP4-SSL=%d" % wrongname.port,
                    "--port", "SMTP-Plain=%d" % refused, "127.0.0.1")
    got, _ = cells(r)
    v = {k.split("@")[0]: (c["verdict"], c["reason"] or "") for k, c in got.items()}
    check(r.returncode == 1, "bad targets: exit 1")
    check(took < 8, "bad targets: done within the timeouts (%.1fs)" % took)
    check(v["POP3-Plain"] == ("failed", "timeout waiting for the greeting"), "silent: %s" % (v["POP3-Plain"],))
    # POP3-SSL on a plaintext server that floods: the handshake fails
    check(v["POP3-SSL"][0] == "failed", "endless plaintext on a TLS port fails: %s" % (v["POP3-SSL"],))
    check(v["IMAP4-Plain"] == ("failed", "garbage instead of a greeting"), "garbage: %s" % (v["IMAP4-Plain"],))
    check(v["IMAP4-SSL"][0] == "failed" and v["IMAP4-SSL"][1].startswith("certificate does not match"),
          "wrong certificate name: %s" % (v["IMAP4-SSL"],))
    check(got["IMAP4-SSL@127.0.0.1"]["tls"] is not None and not got["IMAP4-SSL@127.0.0.1"]["tls"]["name_ok"],
          "wrong name: certificate still shown")
    check(v["SMTP-Plain"] == ("not offered", "connection refused"), "refused: %s" % (v["SMTP-Plain"],))
    # the same cells as JUnit: failed cells are errors, not-offered ones skipped
    bad_args = ["--ca", ca, "--timeout", "1", "--jobs", "5",
                "--modes", "POP3-Plain,IMAP4-Plain,IMAP4-SSL,SMTP-Plain",
                "--port", "POP3-Plain=%d" % silent.port, "--port", "IMAP4-Plain=%d" % garbage.port,
                "--port", "IMAP4-SSL=%d" % wrongname.port, "--port", "SMTP-Plain=%d" % refused,
                "127.0.0.1"]
    r, _ = probe("--format", "junit", *bad_args)
    try:
        import xml.etree.ElementTree as ET
        root = ET.fromstring(r.stdout)
        errors = {tc.get("name"): tc.find("error").get("message")
                  for tc in root.iter("testcase") if tc.find("error") is not None}
        skipped = {tc.get("name"): tc.find("skipped").get("message")
                   for tc in root.iter("testcase") if tc.find("skipped") is not None}
        suites_ok = all(int(ts.get("errors")) == sum(1 for tc in ts.iter("testcase") if tc.find("error") is not None)
                        for ts in root.iter("testsuite"))
    except ET.ParseError as e:
        errors, skipped, suites_ok = {}, {}, False
        print(r.stdout[:500], e)
    check(any(m == "failed: timeout waiting for the greeting" for m in errors.values()) and
          any(m.startswith("failed: certificate does not match") for m in errors.values()) and
          len(errors) == 3, "junit: failed cells are errors (%s)" % errors)
    check(list(skipped.values()) == ["not offered: connection refused"], "junit: not offered is skipped (%s)" % skipped)
    check(suites_ok, "junit: suite error counts add up")
    r, _ = probe("--format", "sarif", *bad_args)
    notes = json.loads(r.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    check(len(notes) == 3 and all("failed: " in n["message"]["text"] for n in notes),
          "sarif: a notification per failed cell (%d)" % len(notes))
    r, took = probe("--format", "json", "--timeout", "2", "--modes", "POP3-Plain",
                    "--port", "POP3-Plain=%d" % endless.port, "127.0.0.1")
    got, _ = cells(r)
    c = got["POP3-Plain@127.0.0.1"]
    check(c["verdict"] == "failed" and c["reason"].startswith("line longer than 65536 octets"),
          "endless line: %s %s" % (c["verdict"], c["reason"]))
    check(took < 5, "endless line: quick (%.1fs)" % took)
    flood = FakeServer("pop3", flood=True)
    r, took = probe("--format", "json", "--timeout", "20", "--modes", "POP3-Plain",
                    "--port", "POP3-Plain=%d" % flood.port, "127.0.0.1")
    c = cells(r)[0]["POP3-Plain@127.0.0.1"]
    check(c["verdict"] == "failed" and c["reason"].startswith("more than 33554432 octets from the server"),
          "endless multi-line answer: %s %s (%.1fs)" % (c["verdict"], c["reason"], took))
    # nobody trusts the certificate without --ca; --insecure goes on
    r, _ = probe("--format", "json", "--modes", "POP3-SSL", "--port", "POP3-SSL=%d" % implicit["pop3"].port,
                 "127.0.0.1")
    c = cells(r)[0]["POP3-SSL@127.0.0.1"]
    check(c["verdict"] == "failed" and c["reason"].startswith("certificate not trusted"),
          "untrusted certificate: %s" % c["reason"])
    r, _ = probe("--insecure", "--format", "json", "--modes", "POP3-SSL",
                 "--port", "POP3-SSL=%d" % implicit["pop3"].port, "127.0.0.1")
    c = cells(r)[0]["POP3-SSL@127.0.0.1"]
    check(c["verdict"] == "works" and c["tls"]["verified"] is False, "--insecure: works, not verified")
    # an IMAP server that loses a command pipelined behind another (RFC 3501 s5.5)
    dropper = FakeServer("imap", drop_pipelined=True)
    r, took = probe("--format", "json", "--timeout", "1", "--modes", "IMAP4-Plain",
                    "--port", "IMAP4-Plain=%d" % dropper.port, "127.0.0.1")
    c = cells(r)[0]["IMAP4-Plain@127.0.0.1"]
    check(c["verdict"] == "failed"
          and c["reason"] == "timeout waiting for the answer to the second of two pipelined commands"
          and took < 5, "IMAP pipelined command lost: %s %s (%.1fs)" % (c["verdict"], c["reason"], took))
    # DNS failure
    r, _ = probe("--format", "json", "--modes", "POP3-Plain", "no-such-host.invalid")
    c = cells(r)[0]["POP3-Plain@no-such-host.invalid"]
    check(c["verdict"] == "failed" and c["reason"].startswith("DNS"), "DNS failure: %s" % c["reason"])

    # 5. login: over TLS only, never on plaintext unless allowed
    env = dict(os.environ, MC_PW="secret-pw")
    rec2 = os.path.join(tmp, "rec2")
    os.mkdir(rec2)
    r, _ = probe("--ca", ca, "--format", "json", "--record", rec2, "--user", "alice", "--password-env", "MC_PW",
                 "--modes", "POP3-Plain,POP3-TLS,IMAP4-TLS,SMTP-SUBMISSION-TLS", *port_args, "127.0.0.1",
                 env=env)
    got, _ = cells(r)
    check(all(c["verdict"] == "works" for c in got.values()),
          "login: all work (%s)" % {k: (c["verdict"], c["reason"]) for k, c in got.items()})
    plain_t = open(os.path.join(rec2, "127.0.0.1_POP3-Plain.mct")).read()
    tls_t = open(os.path.join(rec2, "127.0.0.1_POP3-TLS.mct")).read()
    check("PASS" not in plain_t and "secret-pw" not in plain_t, "no password on plaintext")
    check("C: PASS secret-pw" in tls_t and "C: STAT" in tls_t and "C: TOP 1 0" in tls_t,
          "POP3 login and read-only exercise inside TLS")
    imap_t = open(os.path.join(rec2, "127.0.0.1_IMAP4-TLS.mct")).read()
    check("C: STAT\\r\\nLIST\\r\\nUIDL\\r\\n" in tls_t, "POP3 PIPELINING: one write")
    smtp_t = open(os.path.join(rec, "127.0.0.1_SMTP-TLS.mct")).read()
    check("C: MAIL FROM:<>\\r\\nRCPT TO:<postmaster@[127.0.0.1]>\\r\\nRSET\\r\\n" in smtp_t,
          "SMTP PIPELINING: one write")
    ssl_t = open(os.path.join(rec, "127.0.0.1_SMTP-SSL.mct")).read()
    check("C: MAIL FROM:<>\\r\\n\n" in ssl_t, "SMTP without PIPELINING: one command per write")
    check("EXAMINE INBOX" in imap_t and "FETCH 1 (FLAGS ENVELOPE BODYSTRUCTURE)" in imap_t, "IMAP exercise")
    check(re.search(r"C: a(\d+) CAPABILITY\\r\\na(\d+) NOOP\\r\\n\n", imap_t), "IMAP pipelining: one write")
    sub_t = open(os.path.join(rec2, "127.0.0.1_SMTP-SUBMISSION-TLS.mct")).read()
    check("C: AUTH PLAIN" in sub_t and "RCPT TO:<postmaster@[127.0.0.1]>" in sub_t, "submission AUTH, RCPT")
    r, _ = probe("--format", "json", "--user", "alice", "--password-env", "MC_PW", "--allow-plaintext-auth",
                 "--modes", "POP3-Plain", "--record", rec2, *port_args, "127.0.0.1", env=env)
    check("PASS secret-pw" in open(os.path.join(rec2, "127.0.0.1_POP3-Plain.mct")).read(),
          "--allow-plaintext-auth logs in on plaintext")

    # 6. other formats and usage errors
    r, _ = probe("--ca", ca, "--format", "jsonl", "--modes", "SMTP-SSL", *port_args, "127.0.0.1")
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    check(r.returncode == 0 and objs[0]["cell"]["verdict"] == "works", "jsonl: a cell record")
    r, _ = probe("--ca", ca, "--format", "junit", "--modes", "SMTP-SSL", *port_args, "127.0.0.1")
    check(r.returncode == 0 and "<testsuites" in r.stdout and "SMTP-SSL" in r.stdout, "junit")
    r, _ = probe("--ca", ca, "--format", "sarif", "--modes", "SMTP-SSL", *port_args, "127.0.0.1")
    check(r.returncode == 0 and json.loads(r.stdout)["version"] == "2.1.0", "sarif")
    r, _ = probe("--modes", "POP3-Nothing", "127.0.0.1")
    check(r.returncode == 2, "unknown mode: exit 2")
    r, _ = probe("--user", "alice", "127.0.0.1")
    check(r.returncode == 2, "--user without a password: exit 2")
    r, _ = probe()
    check(r.returncode == 2, "no hosts: exit 2")
    targets = os.path.join(tmp, "targets")
    with open(targets, "w") as f:
        f.write("# hosts\n127.0.0.1\n\nlocalhost:127.0.0.1  # by name\n")
    r, _ = probe("--ca", ca, "--format", "json", "--targets", targets, "--modes", "SMTP-Plain", *port_args)
    got, _ = cells(r)
    check(sorted(got) == ["SMTP-Plain@127.0.0.1", "SMTP-Plain@localhost"], "--targets: %s" % sorted(got))

    return verdict('probe')


if __name__ == "__main__":
    sys.exit(main())
