#!/usr/bin/env python3
"""IMAP pieces of tests/integration/imap_dovecot.sh: Python's imaplib as a
client, and checks of fetched messages and of findings.

usage: imap_clients.py COMMAND ARGS...
  session PORT CAFILE MSGDIR [--starttls]
        LOGIN (after STARTTLS with the certificate verified, with --starttls),
        CAPABILITY, SELECT INBOX, SEARCH, FETCH BODYSTRUCTURE, FETCH BODY[] of
        each message (must equal MSGDIR/N.eml with CRLF line ends), UID FETCH,
        APPEND of a scratch message, STORE +FLAGS \\Deleted on it, EXPUNGE,
        LOGOUT; the three messages of MSGDIR stay untouched
  contains FILE MSGDIR       FILE (curl's output) holds every N.eml of MSGDIR with
                             CRLF line ends, byte for byte
  same MSGDIR DIR            every N.eml of MSGDIR is, byte for byte, one file
                             below DIR (an mbsync Maildir, LF line ends), but for
                             the one X-TUID header line mbsync adds
  findings JSONL [--allow RULE]...
                             every line parses as a finding (or a summary); no
                             finding of severity error except the allowed rules
  summary JSON               `check --format json`: 1 session, validated, no input error
Prints what it saw; exits non-zero when something is not as expected.
"""
import imaplib
import json
import os
import ssl
import sys

HOST = "127.0.0.1"
USER, PASSWORD = "alice", "alicepw"


def fail(what):
    raise SystemExit(f"imap_clients: {what}")


def expect(cond, what):
    if not cond:
        fail(f"unexpected: {what}")


def ok(res, what):
    typ, data = res
    expect(typ == "OK", f"{what}: {typ} {data!r}")
    return data


def messages(msgdir):
    out = {}
    for n in (1, 2, 3):
        with open(os.path.join(msgdir, f"{n}.eml"), "rb") as f:
            out[n] = f.read()
    return out


def session(port, cafile, msgdir, *opts):
    want = messages(msgdir)
    m = imaplib.IMAP4(HOST, int(port), timeout=15)
    if "--starttls" in opts:
        expect("STARTTLS" in m.capabilities, f"no STARTTLS in {m.capabilities}")
        ok(m.starttls(ssl_context=ssl.create_default_context(cafile=cafile)), "STARTTLS")
    ok(m.login(USER, PASSWORD), "LOGIN")
    caps = ok(m.capability(), "CAPABILITY")[0].split()
    expect(b"IMAP4rev1" in caps, f"CAPABILITY {caps}")
    count = int(ok(m.select("INBOX"), "SELECT")[0])
    expect(count == 3, f"SELECT: {count} messages")
    expect(ok(m.search(None, "ALL"), "SEARCH ALL")[0].split() == [b"1", b"2", b"3"], "SEARCH ALL")
    expect(ok(m.search(None, "SUBJECT", "big"), "SEARCH SUBJECT")[0].split() == [b"3"], "SEARCH SUBJECT big")
    bs = ok(m.fetch("1:3", "(BODYSTRUCTURE)"), "FETCH BODYSTRUCTURE")
    text = b" ".join(x if isinstance(x, bytes) else b"".join(x) for x in bs).upper()
    expect(b'"MIXED"' in text and b'"ALTERNATIVE"' in text and b'"BASE64"' in text and b'"8BIT"' in text,
           f"BODYSTRUCTURE {text[:400]!r}")
    for n in (1, 2, 3):
        data = ok(m.fetch(str(n), "(BODY[])"), f"FETCH {n} BODY[]")
        body = data[0][1]
        expect(body == want[n].replace(b"\n", b"\r\n"), f"FETCH {n} BODY[]: {len(body)} octets differ from {n}.eml")
    uids = ok(m.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)"), "UID FETCH")
    expect(len([u for u in uids if u]) == 3, f"UID FETCH {uids!r}")
    part = ok(m.fetch("1", "(BODY.PEEK[1.1])"), "FETCH BODY.PEEK[1.1]")[0][1]
    expect(b"the plain part" in part, f"BODY[1.1] {part!r}")
    scratch = b"From: alice@test.example\r\nSubject: scratch\r\n\r\nto be expunged\r\n"
    ok(m.append("INBOX", None, None, scratch), "APPEND")
    ok(m.store("4", "+FLAGS", "(\\Deleted)"), "STORE +FLAGS")
    expunged = ok(m.expunge(), "EXPUNGE")
    expect(expunged == [b"4"], f"EXPUNGE {expunged!r}")
    ok(m.close(), "CLOSE")
    typ, _ = m.logout()
    expect(typ == "BYE", f"LOGOUT {typ}")
    print(f"imaplib session{' (starttls)' if '--starttls' in opts else ''}: ok, "
          f"{sum(len(v) for v in want.values())} octets fetched")


def same(msgdir, root):
    want = messages(msgdir)
    got = []
    for d, _, files in os.walk(root):
        if os.path.basename(d) in ("cur", "new"):
            for f in files:
                with open(os.path.join(d, f), "rb") as fh:
                    data = fh.read()
                # mbsync adds its own tracking header "X-TUID: <12 chars>" at the
                # end of the header of every message it stores; drop that one line
                head, sep, body = data.partition(b"\n\n")
                lines = head.split(b"\n")
                tuid = [ln for ln in lines if ln.startswith(b"X-TUID: ")]
                if len(tuid) == 1:
                    lines.remove(tuid[0])
                    data = b"\n".join(lines) + sep + body
                got.append(data)
    for n, data in want.items():
        expect(data in got, f"message {n} ({len(data)} octets) is not byte for byte in {root} "
               f"(sizes there: {sorted(len(g) for g in got)})")
    expect(len(got) == len(want), f"{len(got)} messages in {root}, expected {len(want)}")
    print(f"same: {len(want)} messages byte for byte")


def contains(path, msgdir):
    with open(path, "rb") as f:
        out = f.read()
    for n, data in messages(msgdir).items():
        expect(data.replace(b"\n", b"\r\n") in out, f"message {n} is not byte for byte in {path} ({len(out)} octets)")
    print(f"contains: 3 messages byte for byte")


def findings(path, *opts):
    allow = {opts[i + 1] for i, o in enumerate(opts) if o == "--allow"}
    bad, seen = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError as e:
                fail(f"{path}:{n}: not JSON ({e}): {line[:120]!r}")
            expect(isinstance(d, dict), f"{path}:{n}: not a JSON object")
            if "summary" in d and "rule" not in d:
                continue
            expect("rule" in d and "severity" in d, f"{path}:{n}: not a finding: {line[:120]!r}")
            seen.append(f"{d['severity']} {d['rule']}: {d.get('message', '')}")
            if d["severity"] == "error" and d["rule"] not in allow:
                bad.append(seen[-1])
    for s in seen:
        print(f"finding: {s}")
    if bad:
        fail(f"{len(bad)} error finding(s): " + "; ".join(bad))
    print(f"findings: {len(seen)}, none of severity error" + (f" (allowed: {' '.join(sorted(allow))})" if allow else ""))


def summary(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)["summary"]
    expect(d["sessions"] == 1 and d["validated"] == 1 and d["input_errors"] == 0,
           f"summary {d}: expected 1 session, 1 validated, no input error")
    print(f"summary: {d['sessions']} session, {d['validated']} validated, {d['findings']} findings")


COMMANDS = {"session": session, "contains": contains, "same": same, "findings": findings, "summary": summary}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
