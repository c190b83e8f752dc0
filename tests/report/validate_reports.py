#!/usr/bin/python3
"""SARIF and JUnit output of every command, checked against schemas.

usage: validate_reports.py MAILCONFORM_BINARY SOURCE_DIR

For `check` on transcripts (with findings, conformant, with input errors),
on a real capture, on stdin, and for `relay` over a live loopback session:
  * --format sarif must validate against tests/report/sarif-2.1.0-subset.schema.json
    (JSON Schema draft 7, formats checked) and agree with --format jsonl:
    one result per finding, same rule ids, lines and levels;
  * --format junit must validate against tests/report/junit.xsd (xmllint)
    and agree with jsonl: one test case per session, a <failure> per
    finding at or above --fail-on, suite counts that add up.
Needs Debian's python3-jsonschema, python3-rfc3987 (so that uri formats
are checked) and libxml2-utils. With MC_SARIF_MULTITOOL=PATH (Microsoft's
Sarif.Multitool) every SARIF document is also validated by it. Prints one line per check and
"N passed, M failed"; exit 1 on failure.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import jsonschema

PASSED, FAILED = [], []


def check(name, ok, detail=""):
    (PASSED if ok else FAILED).append(name)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))


def run(binary, args, stdin=None):
    p = subprocess.run([binary] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def jsonl_findings(out):
    return [o for o in (json.loads(l) for l in out.decode().splitlines() if l.strip()) if "rule" in o]


def validate_sarif(name, doc_bytes, findings, validator):
    try:
        doc = json.loads(doc_bytes.decode("utf-8"))
    except ValueError as e:
        check(name + ": SARIF is JSON", False, str(e))
        return
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    check(name + ": SARIF validates", not errors,
          "; ".join("%s at %s" % (e.message[:200], "/".join(map(str, e.path))) for e in errors[:5]))
    multitool = os.environ.get("MC_SARIF_MULTITOOL")
    if multitool:
        # Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool): the
        # OASIS schema and its own SARIF rules. Not in CI (npm is not one of
        # its package sources); run by hand, see docs/reports.md.
        with tempfile.NamedTemporaryFile(suffix=".sarif", delete=False) as t:
            t.write(doc_bytes)
        p = subprocess.run([multitool, "validate", t.name], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        os.unlink(t.name)
        out = p.stdout.decode("utf-8", "replace")
        bad = [l for l in out.splitlines() if ": error " in l]
        check(name + ": SARIF Multitool finds no error", p.returncode == 0 and not bad,
              "\n".join(bad[:5]) or out[-300:])
    run0 = doc["runs"][0]
    results = run0.get("results", [])
    rules = run0["tool"]["driver"]["rules"]
    got = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"))
           for r in results]
    want = [(f["rule"], f["severity"], f.get("line")) for f in findings]
    check(name + ": SARIF results match the findings", got == want, "%s != %s" % (got[:3], want[:3]))
    bad_index = [r for r in results if rules[r["ruleIndex"]]["id"] != r["ruleId"]]
    check(name + ": ruleIndex points at the rule", not bad_index, str(bad_index[:1]))
    uris = {a["location"]["uri"] for a in run0.get("artifacts", [])}
    missing = [r for r in results
               if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] not in uris]
    check(name + ": every result's artifact is listed", not missing, str(missing[:1]))


def validate_junit(name, doc_bytes, findings, fail_on, xsd):
    with tempfile.NamedTemporaryFile(suffix=".xml", delete=False) as t:
        t.write(doc_bytes)
        path = t.name
    p = subprocess.run(["xmllint", "--noout", "--schema", xsd, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    os.unlink(path)
    check(name + ": JUnit validates", p.returncode == 0, p.stderr.decode("utf-8", "replace")[-400:])
    if p.returncode != 0:
        return
    root = ET.fromstring(doc_bytes)
    order = {"note": 0, "warning": 1, "error": 2}
    failing = [f for f in findings if order[f["severity"]] >= order[fail_on]]
    failures = root.findall(".//failure")
    check(name + ": a <failure> per finding at or above " + fail_on, len(failures) == len(failing),
          "%d != %d" % (len(failures), len(failing)))
    check(name + ": failure types are the rule ids",
          sorted(f.get("type") for f in failures) == sorted(f["rule"] for f in failing))
    ok = True
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        ok &= int(suite.get("tests")) == len(cases)
        ok &= int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        ok &= int(suite.get("errors")) == sum(1 for c in cases if c.find("error") is not None)
        ok &= int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
    check(name + ": suite counts add up", ok)


def formats(binary, name, args, validator, xsd, stdin=None, fail_on="error", expect_rc=None):
    rc_l, out_l, err = run(binary, ["check", "--format", "jsonl"] + args, stdin)
    findings = jsonl_findings(out_l)
    rc_s, out_s, _ = run(binary, ["check", "--format", "sarif", "--fail-on", fail_on] + args, stdin)
    rc_j, out_j, _ = run(binary, ["check", "--format", "junit", "--fail-on", fail_on] + args, stdin)
    if expect_rc is not None:
        check(name + ": exit status %d" % expect_rc, rc_s == expect_rc and rc_j == expect_rc,
              "sarif %d junit %d %s" % (rc_s, rc_j, err[-200:]))
    validate_sarif(name, out_s, findings, validator)
    validate_junit(name, out_j, findings, fail_on, xsd)
    return findings


def pop3_server(listener):
    """A POP3 server that answers in lower case (POP3.STATUS.CASE)."""
    conn, _ = listener.accept()
    f = conn.makefile("rwb", buffering=0)
    f.write(b"+ok fake POP3 ready\r\n")
    for line in f:
        cmd = line.strip().upper()
        if cmd == b"QUIT":
            f.write(b"+OK bye\r\n")
            break
        f.write(b"-ERR no such command\r\n")
    f.close()   # the socket closes only when its file object does too
    conn.close()


def relay_formats(binary, validator, xsd):
    for fmt in ("sarif", "junit"):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        lport = probe.getsockname()[1]
        probe.close()
        # the relay connects once to check the target: accept and drop that first
        def first_then_real():
            c, _ = srv.accept()
            c.close()
            pop3_server(srv)
        t = threading.Thread(target=first_then_real, daemon=True)
        t.start()
        # output to a file: the SARIF rule table alone is more than a pipe holds
        out_file = tempfile.TemporaryFile()
        relay = subprocess.Popen([binary, "relay", "--listen", "127.0.0.1:%d" % lport, "--to",
                                  "127.0.0.1:%d" % srv.getsockname()[1], "--max-sessions", "1",
                                  "--format", fmt], stdout=out_file, stderr=subprocess.PIPE)
        c = None
        for _ in range(200):
            try:
                c = socket.create_connection(("127.0.0.1", lport), timeout=5)
                break
            except OSError:
                time.sleep(0.05)
        if c is None:
            relay.kill()
            check("relay --format " + fmt + ": connects", False, "relay did not listen")
            continue
        f = c.makefile("rwb", buffering=0)
        f.readline()
        f.write(b"QUIT\r\n")
        f.readline()
        f.close()
        c.close()
        _, err = relay.communicate(timeout=30)
        out_file.seek(0)
        out = out_file.read()
        findings = [{"rule": "POP3.STATUS.CASE", "severity": "error", "line": None}]
        if fmt == "sarif":
            validate_sarif("relay", out, findings, validator)
        else:
            validate_junit("relay", out, findings, "error", xsd)
        check("relay --format %s: exit status 1 (an error finding)" % fmt, relay.returncode == 1,
              "exit %d: %s" % (relay.returncode, err.decode()[-300:]))
        srv.close()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "tests/report/sarif-2.1.0-subset.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    xsd = os.path.join(src, "tests/report/junit.xsd")
    data = os.path.join(src, "tests/data")

    # transcripts that break rules of each protocol, a conformant one, a file name
    # that needs percent-encoding
    bad = [os.path.join(data, p) for p in ("pop3/pop3-status-case.mct", "smtp/rfc4954-example-verbatim.mct",
                                           "imap/imap-capability-no-rev.mct")]
    good = os.path.join(data, "pop3/ok-apop.mct")
    tmp = tempfile.mkdtemp()
    odd = os.path.join(tmp, "a b&<c>.mct")
    with open(bad[0], "rb") as s, open(odd, "wb") as d:
        d.write(s.read())
    found = formats(binary, "transcripts", bad + [good, odd], validator, xsd, expect_rc=1)
    check("transcripts: there are findings to report", len(found) >= 5, str(len(found)))
    formats(binary, "transcripts, --fail-on note", bad, validator, xsd, fail_on="note", expect_rc=1)
    formats(binary, "conformant transcript", [good], validator, xsd, expect_rc=0)
    # input errors: a malformed record and a missing file
    broken = os.path.join(tmp, "broken.mct")
    with open(broken, "w") as f:
        f.write("S: +OK hi\\r\\n\nX: what\nC: QUIT\\q\n")
    formats(binary, "input errors", [broken, os.path.join(tmp, "missing.mct")], validator, xsd, expect_rc=2)
    # a real capture, and the same read from stdin
    pcap = os.path.join(src, "corpus/samples/dovecot-postfix-loopback.pcap")
    ports = ["--port", "26110=pop3", "--port", "26143=imap", "--port", "26025=smtp", "--port", "26587=submission"]
    formats(binary, "capture", ports + [pcap], validator, xsd, fail_on="note")
    with open(pcap, "rb") as f:
        formats(binary, "capture on stdin", ports + ["-"], validator, xsd, stdin=f.read(), fail_on="note")
    relay_formats(binary, validator, xsd)
    print("%d passed, %d failed" % (len(PASSED), len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
