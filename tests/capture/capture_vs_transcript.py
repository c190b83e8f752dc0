#!/usr/bin/env python3
"""Differential test: a session validated from a packet capture gives the
same findings as the same session validated from its transcript.

usage: capture_vs_transcript.py MAILCONFORM DATA_DIR... [--keep DIR]

For every single-session transcript X.mct under the DATA_DIRs (recursively)
that a capture can carry (no '! tls' marker: a capture holds TLS records, not
the decrypted text; no '@ session'), this builds X.pcap with
tests/capture/mkpcap.py (one TCP connection on the protocol's well-known
port, handshake, segments of at most 1448 octets, '! gap' as dropped
octets, '! close' as FIN), runs `mailconform check --format jsonl` on both,
and compares the findings as (rule, direction, offset) in order. The
capture's findings must also carry frame numbers and no line numbers.

A second pass builds every capture again with its data segments reordered
and some retransmitted (mkpcap's reorder/retransmit options): TCP
reassembly must give exactly the same findings.

Prints one line per mismatch and "N passed, M failed, K skipped"; exits 1
on any mismatch. Python 3 standard library only.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mkpcap  # noqa: E402  (tests/capture/mkpcap.py)

PORTS = {"pop3": 110, "imap": 143, "smtp": 25, "submission": 587}


def transcript_protocol(path):
    """'@ protocol' of a transcript, None when it has none; False when the
    transcript cannot be carried by a capture."""
    proto = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("! tls") or line.startswith("@ session"):
                return False
            if line.startswith("@ protocol "):
                proto = line.split()[2]
            if line.startswith("@ imap-version"):
                return False   # not expressible as a capture option per flow
    return proto


def findings(mc, path, extra=()):
    p = subprocess.run([mc, "check", "--format", "jsonl", *extra, path], capture_output=True,
                       text=True, timeout=120)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{path}: exit {p.returncode}: {p.stderr.strip()[:300]}")
    out = []
    for line in p.stdout.splitlines():
        d = json.loads(line)
        if "rule" in d:
            out.append(d)
    return out, p.stderr


def key(d):
    return (d["rule"], d["direction"], d["offset"])


def main(argv):
    args = list(argv[1:])
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i:i + 2]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    mc, dirs = args[0], args[1:]
    passed = failed = skipped = 0
    tmp = keep or tempfile.mkdtemp(prefix="mc-capture-")
    for d in dirs:
        for root, _, files in sorted(os.walk(d)):
            for name in sorted(files):
                if not name.endswith(".mct"):
                    continue
                path = os.path.join(root, name)
                proto = transcript_protocol(path)
                if proto is False or proto is None:
                    skipped += 1
                    continue
                want, _ = findings(mc, path)
                for variant, opts in (("plain", {}), ("reordered", {"reorder": 0.3, "retransmit": 0.2,
                                                                    "seed": 7})):
                    pcap = os.path.join(tmp, name[:-4] + "." + variant + ".pcap")
                    mkpcap.transcript_to_pcap(path, pcap, server_port=PORTS[proto], **opts)
                    extra = []
                    got, err = findings(mc, pcap, extra)
                    problems = []
                    if [key(x) for x in got] != [key(x) for x in want]:
                        problems.append("findings differ:\n    transcript: %s\n    capture:    %s" % (
                            [key(x) for x in want], [key(x) for x in got]))
                    if any(x.get("frame") in (None, 0) or "line" in x for x in got):
                        problems.append("a capture finding without a frame number, or with a line")
                    if err.strip():
                        problems.append("stderr: " + err.strip()[:300])
                    if problems:
                        failed += 1
                        print(f"FAIL {path} ({variant}): " + "; ".join(problems))
                    else:
                        passed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
