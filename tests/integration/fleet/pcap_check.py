#!/usr/bin/env python3
"""The probe's capture of one fleet server against its transcripts.

Usage: pcap_check.py MAILCONFORM SERVER CAPTURE TRANSCRIPT_DIR MODE=PORT...

`mailconform probe --pcap` wrote CAPTURE while it recorded the same
conversations as transcripts in TRANSCRIPT_DIR. `check` on the capture, with
each port's role taken from the modes probed on it, must follow every
connection, decrypt every TLS one with the capture's own secrets, and find
what `check` finds on the transcripts (the same rules, as many times).
Prints one line; exit 1 on a difference.
"""

import collections
import json
import os
import subprocess
import sys


def role(mode):
    proto = {"POP3": "pop3", "IMAP4": "imap", "SMTP": "smtp"}[mode.split("-")[0]]
    if mode == "SMTP-SUBMISSION-TLS":
        return "submission"
    if mode.endswith("-SSL"):
        return proto + "s"
    return proto


def findings(mc, args):
    r = subprocess.run([mc, "check", "--no-config", "--format", "jsonl"] + args,
                       capture_output=True, text=True, timeout=300)
    objs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    return r, objs


def main():
    mc, server, capture, tdir = sys.argv[1:5]
    ports = {}
    for spec in sys.argv[5:]:
        mode, port = spec.split("=")
        ports.setdefault(port, role(mode))
    args = []
    for port, name in sorted(ports.items()):
        args += ["--port", "%s=%s" % (port, name)]
    r, cap = findings(mc, args + [capture])
    flows = [o for o in cap if "protocol" in o and "rule" not in o and "flow" in o]
    mct = sorted(os.path.join(tdir, f) for f in os.listdir(tdir) if f.endswith(".mct"))
    _, tr = findings(mc, mct)
    sessions = sum(1 for f in mct for line in open(f, errors="replace") if line.startswith("@ session"))
    got = collections.Counter((o["rule"], o["side"]) for o in cap if "rule" in o)
    want = collections.Counter((o["rule"], o["side"]) for o in tr if "rule" in o)
    problems = []
    if r.returncode == 2:
        problems.append("check failed: " + r.stderr.strip()[:300])
    if len(flows) != sessions:
        problems.append("%d connections in the capture, %d sessions in the transcripts"
                        % (len(flows), sessions))
    # (a server that closes instead of a handshake, as Dovecot does after a
    # command injected behind STLS, leaves a STARTTLS flow without TLS)
    bad = [(f["server"], f["mode"]) for f in flows
           if not f["validated"] or (f["tls"] and not f["tls"]["decrypted"])]
    if bad:
        problems.append("not validated or not decrypted: %s" % bad)
    # SMTP-SSL is a relay conversation on the submission port (465): the
    # transcript says "smtp", but a capture knows the port only as smtps,
    # i.e. submission (RFC 8314 s3.3), whose rules only the capture applies
    # to it (an unauthenticated MAIL accepted: SMTP.SUBMISSION.UNAUTH_MAIL).
    if any(spec.startswith("SMTP-SSL=") for spec in sys.argv[5:]):
        for key in list(got):
            if key[0].startswith("SMTP.SUBMISSION.") and got[key] > want[key]:
                got[key] = want[key]
        got = +got
    if got != want:
        problems.append("findings differ: capture only %s, transcripts only %s"
                        % (dict(got - want), dict(want - got)))
    if problems:
        print("FAIL: %s: probe --pcap: %s" % (server, "; ".join(problems)))
        return 1
    print("PASS: %s: probe --pcap: %d connections (%d TLS) checked and decrypted, %d findings as in the transcripts"
          % (server, len(flows), sum(1 for f in flows if f["mode"] != "plain"), sum(got.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
