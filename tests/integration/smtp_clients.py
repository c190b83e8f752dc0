#!/usr/bin/env python3
"""SMTP pieces of tests/integration/smtp_mta.sh: the test messages, Python's
smtplib as a client, and checks of what arrived and of what was recorded.

usage: smtp_clients.py COMMAND ARGS...
  message KIND MARKER FILE [--no-final-crlf]
                                    write a test message (KIND: plain | dots | big)
                                    with Message-ID <MARKER@mailconform.test>, CRLF lines
                                    (swaks adds CRLF before the final '.' itself)
  smtplib-plain PORT FILE FROM TO   EHLO, MAIL (SIZE=), RCPT, DATA, QUIT; no TLS
  smtplib-starttls PORT CAFILE FILE FROM TO
                                    EHLO, STARTTLS (certificate verified), EHLO,
                                    AUTH as alice, MAIL, RCPT, DATA, QUIT
  smtplib-ssl PORT CAFILE FILE FROM TO
                                    the same on implicit TLS (SMTP_SSL), no STARTTLS
  delivered MAILDIR MARKER FILE [SECS]
                                    wait until MAILDIR/new holds the message with that
                                    marker; its body must equal FILE's body and every
                                    header line of FILE must be there (line ends aside)
  transcript MCT MODE [OPTIONS]     structure of a relay recording, MODE:
       plain     no TLS; EHLO, MAIL, RCPT, DATA, the end-of-data line, QUIT,
                 a 220 greeting, 354, 221
       starttls  plaintext EHLO then STARTTLS, a 220 answer, then TLS records;
                 no command after STARTTLS is visible
       implicit  the first record is TLS ('! tls' before any data)
     OPTIONS: --pipelined       one client chunk holds MAIL FROM, RCPT TO and DATA
              --marker          '! tls' is required (STARTTLS known to the relay)
              --no-auth-before-tls  the server's plaintext EHLO answer offers no AUTH
              --client-has S    the client's octets hold S (transcript escapes: \\r\\n)
  findings JSONL [--allow RULE]...  every line parses as a finding (or a summary); no
                                    finding of severity error except the allowed rules
  summary JSON SESSIONS             `check --format json`: that many sessions, no input error
Prints what it saw; exits non-zero when something is not as expected.
"""
import inspect
import json
import os
import re
import smtplib
import ssl
import sys
import time

HOST = "127.0.0.1"
HELO = "client.example"
USER, PASSWORD = "alice", "alicepw"
DOT_LINES = [".leading dot line", "..", ".", ". a dot and a space"]


def fail(what):
    raise SystemExit(f"smtp_clients: {what}")


def expect(cond, what):
    if not cond:
        fail(f"unexpected: {what}")


# ---- messages ---------------------------------------------------------------

def message(kind, marker, path, *opts):
    headers = [
        "From: Alice <alice@test.example>",
        "To: Bob <bob@test.example>",
        f"Subject: mailconform {kind} {marker}",
        "Date: Mon, 1 Jan 2024 10:00:00 +0000",
        f"Message-ID: <{marker}@mailconform.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    if kind == "plain":
        body = ["Hello,", "", "a plain test message.", "-- ", "mailconform"]
    elif kind == "dots":
        body = ["A line before the dots."] + DOT_LINES + ["a line after the dots", "...."]
    elif kind == "big":
        body, n = [], 0
        size = sum(len(h) + 2 for h in headers) + 2
        while size < 200 * 1024:
            n += 1
            # every 97th line starts with '.', so stuffing runs all through the message
            lead = "." if n % 97 == 0 else "L"
            line = f"{lead}ine {n:05d} " + "abcdefghijklmnopqrstuvwxyz0123456789"[n % 36:] + "x" * 40
            line = line[:76]
            body.append(line)
            size += len(line) + 2
    else:
        fail(f"unknown message kind {kind}")
    data = ("\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(body) + "\r\n").encode("ascii")
    if "--no-final-crlf" in opts:
        data = data[:-2]
    with open(path, "wb") as f:
        f.write(data)
    print(f"message {kind}: {len(data)} octets, {len(body)} body lines")


# ---- clients ----------------------------------------------------------------

def context(cafile):
    return ssl.create_default_context(cafile=cafile)   # the certificate holds IP:127.0.0.1


def read(path):
    with open(path, "rb") as f:
        return f.read()


def send(s, path, frm, to):
    refused = s.sendmail(frm, [to], read(path))   # bytes: sent as they are, dot-stuffed
    expect(not refused, f"recipients refused: {refused}")
    code, _ = s.quit()
    expect(code == 221, f"QUIT answered {code}")


def smtplib_plain(port, path, frm, to):
    s = smtplib.SMTP(HOST, int(port), local_hostname=HELO, timeout=15)
    s.ehlo()
    expect(s.has_extn("size"), "no SIZE in EHLO")
    send(s, path, frm, to)
    print(f"smtplib plain: sent {len(read(path))} octets")


def smtplib_starttls(port, cafile, path, frm, to):
    s = smtplib.SMTP(HOST, int(port), local_hostname=HELO, timeout=15)
    s.ehlo()
    expect(s.has_extn("starttls"), "no STARTTLS in EHLO")
    expect(not s.has_extn("auth"), f"AUTH offered before TLS: {s.esmtp_features.get('auth')}")
    code, _ = s.starttls(context=context(cafile))
    expect(code == 220, f"STARTTLS answered {code}")
    s.ehlo()
    expect(s.has_extn("auth"), "no AUTH inside TLS")
    code, _ = s.login(USER, PASSWORD)
    expect(code == 235, f"AUTH answered {code}")
    send(s, path, frm, to)
    print(f"smtplib starttls + login: sent {len(read(path))} octets as {USER}")


def smtplib_ssl(port, cafile, path, frm, to):
    s = smtplib.SMTP_SSL(HOST, int(port), local_hostname=HELO, timeout=15, context=context(cafile))
    s.ehlo()
    expect(s.has_extn("auth"), "no AUTH on implicit TLS")
    code, _ = s.login(USER, PASSWORD)
    expect(code == 235, f"AUTH answered {code}")
    send(s, path, frm, to)
    print(f"smtplib SMTP_SSL + login: sent {len(read(path))} octets as {USER}")


# ---- delivery -----------------------------------------------------------------

def split_message(data):
    data = data.replace(b"\r\n", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"   # the client ends the last line before the final '.'
    head, sep, body = data.partition(b"\n\n")
    expect(sep, "no header/body separator")
    return head.split(b"\n"), body


def delivered(maildir, marker, path, secs="15"):
    want_head, want_body = split_message(read(path))
    needle = f"<{marker}@mailconform.test>".encode()
    end = time.time() + float(secs)
    found = None
    while time.time() < end and found is None:
        new = os.path.join(maildir, "new")
        for name in sorted(os.listdir(new)) if os.path.isdir(new) else []:
            data = read(os.path.join(new, name))
            if needle in data:
                found = (name, data)
                break
        else:
            time.sleep(0.05)
    if found is None:
        fail(f"no message with {needle.decode()} in {maildir}/new after {secs} s")
    name, data = found
    head, body = split_message(data)
    for h in want_head:
        expect(h in head, f"delivered header lacks {h!r}")
    if body != want_body:
        n = next((i for i, (a, b) in enumerate(zip(body, want_body)) if a != b), min(len(body), len(want_body)))
        fail(f"delivered body differs at octet {n}: {len(body)} octets vs {len(want_body)} sent; "
             f"got {body[max(0, n - 20):n + 40]!r}, want {want_body[max(0, n - 20):n + 40]!r}")
    print(f"delivered: {name} ({len(data)} octets, body {len(body)} octets intact)")


# ---- transcripts ----------------------------------------------------------------

ESC = re.compile(rb"\\(x[0-9A-Fa-f]{2}|.)")


def unescape(text):
    def one(m):
        e = m.group(1)
        if e[:1] == b"x" and len(e) == 3:
            return bytes([int(e[1:], 16)])
        return {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}.get(e, b"\\" + e)
    return ESC.sub(one, text)


def records(path):
    """[(kind, bytes)]: kind C or S with the chunk, or '!' with the marker text."""
    out = []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\n").rstrip(b"\r")
            if line[:3] in (b"C: ", b"S: "):
                out.append((line[:1].decode(), unescape(line[3:])))
            elif line.startswith(b"! "):
                out.append(("!", line[2:]))
    return out


def lines(stream):
    return [l for l in stream.split(b"\r\n")]


def transcript(path, mode, *opts):
    opts = list(opts)
    recs = records(path)
    expect(recs, "empty recording")
    client_has = [unescape(opts[i + 1].encode()) for i, o in enumerate(opts) if o == "--client-has"]
    markers = [r for k, r in recs if k == "!"]
    allc = b"".join(d for k, d in recs if k == "C")
    if mode == "implicit":
        first = recs[0]
        expect(first == ("!", b"tls"), f"first record is {first!r}, not '! tls'")
        expect(all(c not in allc.upper() for c in (b"MAIL FROM", b"AUTH ")), "plaintext commands on implicit TLS")
        print(f"transcript implicit: {len(recs)} records, all TLS")
        return
    # plaintext part: up to the first '! tls' or, without one, the first TLS record
    plain = []
    for k, d in recs:
        if k == "!" and d.startswith(b"tls"):
            break
        if k == "C" and len(d) >= 2 and d[0] == 0x16 and d[1] == 3:
            break
        plain.append((k, d))
    cstream = b"".join(d for k, d in plain if k == "C")
    sstream = b"".join(d for k, d in plain if k == "S")
    cmds, in_data = [], False   # command verbs, message content left out
    for l in lines(cstream):
        if in_data:
            in_data = l != b"."
        elif l:
            cmds.append(l.split(b" ")[0].split(b":")[0].upper())
            in_data = cmds[-1] == b"DATA"
    expect(sstream.startswith(b"220"), f"server did not greet with 220: {sstream[:60]!r}")
    expect(cmds[:1] == [b"EHLO"], f"first command {cmds[:1]}")
    if mode == "plain":
        expect(not any(m.startswith(b"tls") for m in markers), "a '! tls' in a plaintext session")
        for c in (b"MAIL", b"RCPT", b"DATA", b"QUIT"):
            expect(c in cmds, f"no {c.decode()} command")
        expect(b"\r\n.\r\n" in cstream, "no end-of-data line")
        expect(cstream.upper().endswith(b"QUIT\r\n"), f"client stream ends {cstream[-20:]!r}")
        for code in (b"354", b"221"):
            expect(re.search(rb"(^|\r\n)" + code + b"[ -]", sstream), f"no {code.decode()} reply")
        if "--pipelined" in opts:
            expect(any(k == "C" and b"MAIL FROM:" in d.upper() and b"RCPT TO:" in d.upper() and b"DATA\r\n" in d.upper()
                       for k, d in recs),
                   "MAIL, RCPT and DATA never in one client chunk")
    elif mode == "starttls":
        expect(len(plain) < len(recs), "no TLS after STARTTLS")
        expect(cmds[-1:] == [b"STARTTLS"], f"plaintext commands {cmds}, not ending with STARTTLS")
        expect(cstream.endswith(b"STARTTLS\r\n"), "STARTTLS is not the last plaintext octets")
        last = lines(sstream.rstrip(b"\r\n"))[-1]
        expect(last.startswith(b"220 "), f"STARTTLS answered {last!r}")
        expect(all(c not in allc.upper() for c in (b"MAIL FROM", b"AUTH ", b"RCPT TO")),
               "a command after STARTTLS is visible in plaintext")
        if "--marker" in opts:
            expect(b"tls" in markers, "no '! tls' marker after STARTTLS")
        if "--no-auth-before-tls" in opts:
            expect(not re.search(rb"(^|\r\n)250[ -]AUTH", sstream), "AUTH offered before TLS")
    else:
        fail(f"unknown mode {mode}")
    for s in client_has:
        expect(s in allc, f"client octets lack {s!r}")
    print(f"transcript {mode}: {len(recs)} records, plaintext commands: {b' '.join(cmds).decode()}"
          f"{', then TLS' if mode == 'starttls' else ''}{' (marked)' if b'tls' in markers else ''}")


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
            expect(isinstance(d, dict), f"{path}:{n}: not a JSON object: {line[:120]!r}")
            if "summary" in d and "rule" not in d:
                continue   # a summary line
            expect("rule" in d and "severity" in d, f"{path}:{n}: not a finding: {line[:120]!r}")
            seen.append(f"{d['severity']} {d['rule']}: {d.get('message', '')}")
            if d["severity"] == "error" and d["rule"] not in allow:
                bad.append(seen[-1])
    for s in seen:
        print(f"finding: {s}")
    if bad:
        fail(f"{len(bad)} error finding(s): " + "; ".join(bad))
    print(f"findings: {len(seen)}, none of severity error" + (f" (allowed: {' '.join(sorted(allow))})" if allow else ""))


def summary(path, sessions):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    s = d["summary"]
    expect(s["sessions"] == int(sessions), f"{s['sessions']} sessions, expected {sessions}")
    expect(s["input_errors"] == 0, f"{s['input_errors']} input errors")
    print(f"summary: {s['sessions']} session(s), {s['validated']} validated, {s['findings']} findings")


COMMANDS = {
    "message": message, "smtplib-plain": smtplib_plain, "smtplib-starttls": smtplib_starttls,
    "smtplib-ssl": smtplib_ssl, "delivered": delivered, "transcript": transcript,
    "findings": findings, "summary": summary,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    fn = COMMANDS[sys.argv[1]]
    try:
        inspect.signature(fn).bind(*sys.argv[2:])
    except TypeError as e:
        sys.exit(f"smtp_clients: {sys.argv[1]}: {e}\n{__doc__}")
    try:
        fn(*sys.argv[2:])
    except (smtplib.SMTPException, ssl.SSLError, OSError) as e:
        fail(f"{e.__class__.__name__}: {e}")
