#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, deterministically.

    fuzz/make_seeds.py            write corpus/{pop3_resp,pop3_cmd,transcript,pop3_session}/
    fuzz/make_seeds.py --prune    also delete top-level files this script no longer makes
    fuzz/make_seeds.py --check    exit 1 if a seed is missing (nothing is written)

Every seed is named by the SHA-256 of its content. corpus/<target>/regress/
(minimised crashers) is never touched. The conversations below come from the
examples of RFC 1939, RFC 2449 and RFC 5034, plus realistic sessions (STLS,
AUTH PLAIN, pipelining, dot-stuffing) and deliberately broken lines. The
binary layouts mirror the comments at the top of fuzz/fuzz_<target>.c.
"""
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------
# Conversations: ('C'|'S', bytes) chunks and markers ('tls',), ('tls-dec',),
# ('gap', 'C'|'S', n), ('close', 'C'|'S').

GREETING_APOP = b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
MSG1 = (b"From: a@example.com\r\nTo: b@example.org\r\nSubject: hello\r\n\r\n"
        b"line one\r\n..a line that starts with a dot\r\n.\r\n")

CONVERSATIONS = {
    # RFC 1939 section 10, the example POP3 session
    "rfc1939_session": [
        ("S", GREETING_APOP),
        ("C", b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
        ("S", b"+OK mrose's maildrop has 2 messages (320 octets)\r\n"),
        ("C", b"STAT\r\n"),
        ("S", b"+OK 2 320\r\n"),
        ("C", b"LIST\r\n"),
        ("S", b"+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"),
        ("C", b"RETR 1\r\n"),
        ("S", b"+OK 120 octets\r\n"),
        ("S", b"Subject: message 1\r\n\r\nbody of message 1\r\n.\r\n"),
        ("C", b"DELE 1\r\n"),
        ("S", b"+OK message 1 deleted\r\n"),
        ("C", b"RETR 2\r\n"),
        ("S", b"+OK 200 octets\r\nSubject: message 2\r\n\r\nbody\r\n.\r\n"),
        ("C", b"DELE 2\r\n"),
        ("S", b"+OK message 2 deleted\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK dewey POP3 server signing off (maildrop empty)\r\n"),
        ("close", "S"),
        ("close", "C"),
    ],
    # RFC 1939 sections 5-7, one command each
    "rfc1939_commands": [
        ("S", b"+OK POP3 server ready\r\n"),
        ("C", b"USER frated\r\n"),
        ("S", b"-ERR sorry, no mailbox for frated here\r\n"),
        ("C", b"USER mrose\r\n"),
        ("S", b"+OK mrose is a real hoopy frood\r\n"),
        ("C", b"PASS secret\r\n"),
        ("S", b"+OK mrose's maildrop has 2 messages (320 octets)\r\n"),
        ("C", b"LIST 2\r\n"),
        ("S", b"+OK 2 200\r\n"),
        ("C", b"LIST 3\r\n"),
        ("S", b"-ERR no such message, only 2 messages in maildrop\r\n"),
        ("C", b"TOP 1 10\r\n"),
        ("S", b"+OK\r\nSubject: top\r\n\r\nfirst line\r\n.\r\n"),
        ("C", b"TOP 100 3\r\n"),
        ("S", b"-ERR no such message\r\n"),
        ("C", b"UIDL\r\n"),
        ("S", b"+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"),
        ("C", b"UIDL 2\r\n"),
        ("S", b"+OK 2 QhdPYR:00WBw1Ph7x7\r\n"),
        ("C", b"DELE 1\r\n"),
        ("S", b"+OK message 1 deleted\r\n"),
        ("C", b"DELE 1\r\n"),
        ("S", b"-ERR message 1 already deleted\r\n"),
        ("C", b"NOOP\r\n"),
        ("S", b"+OK\r\n"),
        ("C", b"RSET\r\n"),
        ("S", b"+OK maildrop has 2 messages (320 octets)\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK dewey POP3 server signing off (2 messages left)\r\n"),
    ],
    # RFC 2449 section 5 (CAPA) and section 8 (response codes)
    "rfc2449_capa": [
        ("S", b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\n"
              b"RESP-CODES\r\nLOGIN-DELAY 900\r\nPIPELINING\r\nEXPIRE 60\r\nUIDL\r\n"
              b"IMPLEMENTATION Shlemazle-Plotz-v302\r\n.\r\n"),
        ("C", b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
        ("S", b"-ERR [IN-USE] Do you have another POP session running?\r\n"),
        ("C", b"USER mrose\r\n"),
        ("S", b"+OK\r\n"),
        ("C", b"PASS secret\r\n"),
        ("S", b"-ERR [LOGIN-DELAY] wait a while\r\n"),
        ("C", b"PASS secret\r\n"),
        ("S", b"-ERR [SYS/TEMP] try again later\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK\r\n"),
    ],
    # RFC 5034 section 6: STLS, then AUTH PLAIN with an initial response
    "rfc5034_stls_plain_ir": [
        ("S", b"+OK pop.example.com BlurdyBlurp POP3 server ready\r\n"),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK List of capabilities follows\r\nSASL DIGEST-MD5 GSSAPI ANONYMOUS\r\n"
              b"STLS\r\nIMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n"),
        ("C", b"STLS\r\n"),
        ("S", b"+OK Begin TLS negotiation now\r\n"),
        ("tls-dec",),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK List of capabilities follows\r\nSASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\n"
              b"IMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n"),
        ("C", b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"),
        ("S", b"+OK Maildrop locked and ready\r\n"),
        ("C", b"STAT\r\n"),
        ("S", b"+OK 0 0\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK bye\r\n"),
    ],
    # RFC 5034 section 6: AUTH PLAIN with an empty challenge
    "rfc5034_plain_challenge": [
        ("S", b"+OK pop.example.com BlurdyBlurp POP3 server ready\r\n"),
        ("C", b"AUTH PLAIN\r\n"),
        ("S", b"+ \r\n"),
        ("C", b"dGVzdAB0ZXN0AHRlc3Q=\r\n"),
        ("S", b"+OK Maildrop locked and ready\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK\r\n"),
    ],
    # RFC 5034 section 6: DIGEST-MD5, two challenges
    "rfc5034_digest_md5": [
        ("S", b"+OK pop.example.com BlurdyBlurp POP3 server ready\r\n"),
        ("C", b"AUTH DIGEST-MD5\r\n"),
        ("S", b"+ cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJo"
              b"aCIscW9wPSJhdXRoIixhbGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA==\r\n"),
        ("C", b"Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3Nv"
              b"ZnQuY29tIixub25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNub25jZT0i\r\n"),
        ("S", b"+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==\r\n"),
        ("C", b"\r\n"),
        ("S", b"+OK Maildrop locked and ready\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK\r\n"),
    ],
    # a day-to-day client: CAPA, USER/PASS, STAT, LIST, UIDL, RETR with a
    # dot-stuffed line, TOP, DELE, QUIT
    "mua_session": [
        ("S", b"+OK Dovecot ready.\r\n"),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
              b"AUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n"),
        ("C", b"USER alice\r\n"),
        ("S", b"+OK\r\n"),
        ("C", b"PASS correct horse battery staple\r\n"),
        ("S", b"+OK Logged in.\r\n"),
        ("C", b"STAT\r\n"),
        ("S", b"+OK 2 1234\r\n"),
        ("C", b"LIST\r\n"),
        ("S", b"+OK 2 messages:\r\n1 617\r\n2 617\r\n.\r\n"),
        ("C", b"UIDL\r\n"),
        ("S", b"+OK\r\n1 00000001595b3f2a\r\n2 00000002595b3f2a\r\n.\r\n"),
        ("C", b"RETR 1\r\n"),
        ("S", b"+OK 617 octets\r\n" + MSG1),
        ("C", b"TOP 2 0\r\n"),
        ("S", b"+OK\r\nFrom: c@example.net\r\nSubject: second\r\n\r\n.\r\n"),
        ("C", b"DELE 1\r\n"),
        ("S", b"+OK Marked to be deleted.\r\n"),
        ("C", b"LIST 1\r\n"),
        ("S", b"-ERR Message is deleted.\r\n"),
        ("C", b"RSET\r\n"),
        ("S", b"+OK\r\n"),
        ("C", b"DELE 2\r\n"),
        ("S", b"+OK Marked to be deleted.\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK Logging out, messages deleted.\r\n"),
        ("close", "S"),
    ],
    # STLS with opaque TLS records afterwards (no key log)
    "stls_opaque": [
        ("S", b"+OK Dovecot ready.\r\n"),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK\r\nCAPA\r\nSTLS\r\nUSER\r\n.\r\n"),
        ("C", b"STLS\r\n"),
        ("S", b"+OK Begin TLS negotiation now.\r\n"),
        ("tls",),
        ("C", b"\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03" + bytes(range(32))),
        ("S", b"\x16\x03\x03\x00\x31\x02\x00\x00\x2d\x03\x03" + bytes(range(32, 64))),
        ("C", b"\x17\x03\x03\x00\x10" + b"\xaa" * 16),
        ("close", "C"),
        ("close", "S"),
    ],
    # AUTH PLAIN without IR, then a cancelled AUTH LOGIN
    "auth_cancel": [
        ("S", b"+OK ready\r\n"),
        ("C", b"AUTH LOGIN\r\n"),
        ("S", b"+ VXNlcm5hbWU6\r\n"),
        ("C", b"*\r\n"),
        ("S", b"-ERR Authentication cancelled\r\n"),
        ("C", b"AUTH PLAIN =\r\n"),
        ("S", b"-ERR [AUTH] Authentication failed\r\n"),
        ("C", b"AUTH PLAIN\r\n"),
        ("S", b"+ \r\n"),
        ("C", b"AGFsaWNlAHNlY3JldA==\r\n"),
        ("S", b"+OK Logged in.\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"+OK\r\n"),
    ],
    # PIPELINING: several commands in one chunk, answers in one chunk
    "pipelining": [
        ("S", b"+OK ready\r\n"),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK\r\nPIPELINING\r\nUSER\r\n.\r\n"),
        ("C", b"USER bob\r\nPASS hunter2\r\nSTAT\r\nLIST\r\nUIDL 1\r\n"),
        ("S", b"+OK\r\n+OK\r\n+OK 1 5\r\n+OK\r\n1 5\r\n.\r\n+OK 1 abc\r\n"),
        ("C", b"RETR 1\r\nDELE 1\r\nQUIT\r\n"),
        ("S", b"+OK\r\nhi\r\n.\r\n+OK\r\n+OK\r\n"),
    ],
    # capture loss in the middle of a message, then the session goes on
    "gap_in_retr": [
        ("S", b"+OK ready\r\n"),
        ("C", b"USER a\r\nPASS b\r\n"),
        ("S", b"+OK\r\n+OK\r\n"),
        ("C", b"RETR 1\r\n"),
        ("S", b"+OK 5000 octets\r\nSubject: big\r\n\r\nfirst part"),
        ("gap", "S", 4000),
        ("S", b"tail of a line\r\nlast line\r\n.\r\n"),
        ("C", b"QU"),
        ("gap", "C", 2),
        ("C", b"\r\nQUIT\r\n"),
        ("S", b"+OK\r\n"),
    ],
    # everything a strict validator should flag
    "violations": [
        ("C", b"USER early\r\n"),
        ("S", b"+ok lower case greeting <no-at-sign>\r\n"),
        ("S", b"-ERR\r\n"),
        ("C", b"user x\nPASS y\r\n"),
        ("S", b"+OKAY\r\n+OK\x01ctl\r\n"),
        ("C", b"LIST  1\r\nRETR 0\r\nDELE x\r\nTOP 1\r\nAPOP u C4C9\r\nXTND XMIT\r\n"),
        ("S", b"-ERR [SYS/]\r\n-ERR [] x\r\n+OK [unterminated\r\n-ERR\r\n+OK\r\n+OK\r\n"),
        ("C", b"AUTH PLAIN not*base64\r\n"),
        ("S", b"+\r\n"),
        ("C", b"=\r\n"),
        ("S", b"+OK\r\n"),
        ("C", b"LIST\r\n"),
        ("S", b"+OK\r\n1 x\r\n2 3 4\r\n.\r\n"),
        ("C", b"UIDL\r\n"),
        ("S", b"+OK\r\n1 dup\r\n2 dup\r\n3 \r\n4 " + b"u" * 71 + b"\r\n.\r\n"),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK\r\n bad tag\r\n..\r\nSTLS\r\n" + b"X" * 520 + b"\r\n.\r\n"),
        ("C", b"NOOP\x00\r\n" + b"NOOP " + b"9" * 300 + b"\r\n"),
        ("S", b"+OK\r\n\r\n+OK\rstray CR\r\n"),
        ("C", b"QUIT\r\nNOOP\r\n"),
        ("S", b"+OK\r\n-ERR"),
    ],
    # STLS command injection (CVE-2011-0411 style) and a server that
    # answers the injected command in plaintext
    "stls_injection": [
        ("S", b"+OK ready\r\n"),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK\r\nSTLS\r\n.\r\n"),
        ("C", b"STLS\r\nCAPA\r\n"),
        ("S", b"+OK Begin TLS\r\n"),
        ("S", b"+OK\r\nSTLS\r\n.\r\n"),
        ("tls",),
        ("S", b"\x16\x03\x03\x00\x02\x02\x00"),
    ],
    # the server sends its STLS answer and more plaintext in one segment
    "stls_response_injection": [
        ("S", b"+OK ready\r\n"),
        ("C", b"STLS\r\n"),
        ("S", b"+OK Begin TLS\r\n-ERR injected\r\n"),
        ("tls-dec",),
        ("C", b"CAPA\r\n"),
        ("S", b"+OK\r\nSTLS\r\n.\r\n"),
        ("C", b"USER a\r\n"),
        ("S", b"+OK\r\n"),
    ],
    # bare LF everywhere, unterminated last lines
    "bare_lf": [
        ("S", b"+OK ready\n"),
        ("C", b"USER a\nPASS b\n"),
        ("S", b"+OK\n+OK\n"),
        ("C", b"RETR 1\n"),
        ("S", b"+OK\nline\n.\n"),
        ("C", b"QUIT"),
        ("S", b"+OK bye"),
    ],
}

# ---------------------------------------------------------------------------
# Helpers that mirror the parsers' view of lines.


def read_mct(path):
    """A conversation from a transcript: the real server recordings under
    corpus/samples/ become seeds for every target (one session per file)."""
    conv = []
    esc = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}
    for line in open(path, encoding="ascii").read().splitlines():
        if line.startswith(("C: ", "S: ")):
            out, i, t = bytearray(), 0, line[3:]
            while i < len(t):
                if t[i] == "\\":
                    if t[i + 1] == "x":
                        out.append(int(t[i + 2:i + 4], 16))
                        i += 4
                        continue
                    out += esc[t[i + 1]]
                    i += 2
                    continue
                out.append(ord(t[i]))
                i += 1
            conv.append((line[0], bytes(out)))
        elif line.startswith("! tls"):
            conv.append(("tls-dec",) if "decrypted" in line else ("tls",))
        elif line.startswith("! close "):
            conv.append(("close", line.split()[2]))
        elif line.startswith("! gap "):
            conv.append(("gap", line.split()[2], int(line.split()[3])))
    return conv


SAMPLES = os.path.join(ROOT, "corpus", "samples")
for _f in sorted(os.listdir(SAMPLES)) if os.path.isdir(SAMPLES) else []:
    if _f.endswith(".mct"):
        CONVERSATIONS["sample_" + _f[:-4].replace("-", "_")] = read_mct(os.path.join(SAMPLES, _f))


def lines_of(data):
    """Complete lines (without terminator) of a chunk; a trailing partial line too."""
    out = []
    for b in data.split(b"\n"):
        out.append(b)
    last = out.pop()
    res = [l[:-1] if l.endswith(b"\r") else l for l in out]
    if last:
        res.append(last)
    return res


def verb_of(line):
    return line.split(b" ", 1)[0].upper()


def opens_multiline(cmd):
    parts = cmd.split(b" ")
    v = parts[0].upper()
    args = [p for p in parts[1:] if p]
    if v in (b"RETR", b"TOP", b"CAPA"):
        return True
    return v in (b"LIST", b"UIDL") and not args


def simulate(conv):
    """Walks a conversation the way the POP3 session does. Returns
    (ok_multi, auth_sasl, sasl_exit): for each +OK status line, whether it
    opens a multi-line response; for each AUTH command, whether a SASL
    exchange follows; for each SASL line, whether it is the last one."""
    queue, ok_multi, auth_sasl, sasl_exit = [], [], [], []
    multi = greeted = sasl = False
    auth_idx = None
    tls_opaque = False
    for item in conv:
        if item[0] == "tls":
            tls_opaque = True
            continue
        if item[0] == "tls-dec":
            continue
        if item[0] not in ("C", "S") or tls_opaque:
            continue
        for line in lines_of(item[1]):
            if item[0] == "C":
                if sasl:
                    sasl_exit.append(False)
                    if line == b"*":
                        sasl_exit[-1] = True
                        sasl = False
                    continue
                queue.append(line)
                if verb_of(line) == b"AUTH":
                    auth_sasl.append(False)
                    auth_idx = len(auth_sasl) - 1
                continue
            if multi:
                if line == b".":
                    multi = False
                continue
            if line == b"+" or line.startswith(b"+ "):
                if queue and verb_of(queue[0]) == b"AUTH" and auth_idx is not None:
                    auth_sasl[auth_idx] = True
                    sasl = True
                continue
            cmd = queue.pop(0) if (greeted and queue) else None
            greeted = True
            if cmd is not None and verb_of(cmd) == b"AUTH":
                if sasl and sasl_exit:
                    sasl_exit[-1] = True
                sasl = False
            if line[:3].upper() == b"+OK":
                ok_multi.append(cmd is not None and opens_multiline(cmd))
    return ok_multi, auth_sasl, sasl_exit


def bits(flags, period, shift=0):
    m = 0
    for i, f in enumerate(flags):
        if f:
            m |= 1 << (shift + i % period)
    return m


def stream(conv, side, stop_at_opaque_tls=True):
    out = b""
    for item in conv:
        if item[0] == "tls" and stop_at_opaque_tls:
            break
        if item[0] == side:
            out += item[1]
    return out


# ---------------------------------------------------------------------------
# Seeds per target.

def resp_seeds():
    seeds = []
    hdr_modes = [0x08, 0x09, 0x0a, 0x0b]
    for i, (name, conv) in enumerate(sorted(CONVERSATIONS.items())):
        s = stream(conv, "S")
        ok_multi, _, _ = simulate(conv)
        mask = bits(ok_multi, 8)
        mode = hdr_modes[i % 4]
        seeds.append(bytes([mode, mask, i, 0]) + s)
        # the same stream with a gap in the middle
        seeds.append(bytes([mode | 0x04 | 0x30, mask, i + 1, 0x80]) + s)

    single = [
        b"+OK\r\n", b"-ERR\r\n", b"+OK 2 320\r\n", b"+OK POP3 server ready\r\n",
        GREETING_APOP, b"+ok lower\r\n", b"-Err mixed\r\n", b"+OKAY\r\n", b"-ERRno space\r\n",
        b"OK no sign\r\n", b"\r\n", b"-ERR [IN-USE] in use\r\n", b"-ERR [SYS/TEMP] later\r\n",
        b"-ERR [SYS/PERM]\r\n", b"-ERR [AUTH] failed\r\n", b"-ERR [LOGIN-DELAY] wait\r\n",
        b"-ERR []\r\n", b"-ERR [SYS/]\r\n", b"-ERR [/X]\r\n", b"-ERR [A]B]\r\n",
        b"-ERR [unterminated\r\n", b"+OK [CODE] text\r\n", b"+OK\ttab\r\n",
        b"+OK text\x01ctl\r\n", b"+OK nul\x00here\r\n", b"+OK bare cr\rinside\r\n",
        b"+OK bare lf\n", b"+OK unterminated", b"+OK crlf split\r", b"+ \r\n", b"+\r\n",
        b"+ dGVzdA==\r\n", b"+ not base64!\r\n", b"+ abc\r\n", b"+ ====\r\n",
        b"+OK " + b"x" * 508 + b"\r\n", b"+OK " + b"x" * 509 + b"\r\n",
        b"+OK " + b"y" * 2100 + b"\r\n", b"\x00\x00\r\n", b"\xff\xfe\r\n",
    ]
    for i, line in enumerate(single):
        seeds.append(bytes([0x00 | (i % 4), 0x00, i, 0]) + line)

    multi = [
        b"+OK\r\n1 120\r\n2 200\r\n.\r\n",
        b"+OK\r\n..stuffed\r\n...\r\n.\r\n",
        b"+OK\r\n.\r\n",
        b"+OK\r\nline\r\n.\r",
        b"+OK\r\nnever ends\r\n",
        b"+OK\r\n.\n",
        b"+OK\r\n" + b"z" * 3000 + b"\r\n.\r\n",
        b"+OK\r\nTOP\r\nSASL PLAIN\r\n.\r\n-ERR next\r\n",
        b"+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n",
        b"+OK\r\n.\r\n+OK\r\nx\r\n.\r\n+OK\r\n",
    ]
    for i, s in enumerate(multi):
        seeds.append(bytes([0x08 | (i % 4), 0xff, i, 0]) + s)
        seeds.append(bytes([0x0c | (i % 4) | (i << 4 & 0xf0), 0x05, i, 0x40]) + s)
    return seeds


def cmd_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(CONVERSATIONS.items())):
        c = stream(conv, "C")
        _, auth_sasl, sasl_exit = simulate(conv)
        mask = bits(auth_sasl, 4) | bits(sasl_exit, 4, 4)
        seeds.append(bytes([0x08 | (i % 4), mask, i, 0]) + c)
        seeds.append(bytes([0x0c | ((i + 1) % 4) | 0x20, mask, i + 7, 0x60]) + c)

    single = [
        b"USER mrose", b"USER", b"USER a b", b"PASS secret", b"PASS with spaces in it",
        b"PASS", b"PASS ", b"APOP mrose c4c9334bac560ecc979e58001b3e22fb",
        b"APOP mrose C4C9334BAC560ECC979E58001B3E22FB", b"APOP mrose short",
        b"AUTH PLAIN", b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", b"AUTH PLAIN =", b"AUTH PLAIN bad!",
        b"AUTH", b"STAT", b"STAT 1", b"LIST", b"LIST 2", b"LIST 0", b"LIST x", b"LIST 1 2",
        b"LIST 18446744073709551615", b"LIST 18446744073709551616", b"RETR 1", b"RETR",
        b"DELE 1", b"NOOP", b"RSET", b"QUIT", b"TOP 1 10", b"TOP 1", b"TOP 1 x", b"UIDL",
        b"UIDL 2", b"CAPA", b"STLS", b"stls", b"Quit", b"XTND XMIT", b"LAST", b"AB", b"ABCDE",
        b"", b" ", b"USER  a", b"USER a ", b" USER a", b"USER \x01", b"US\x00R a",
        b"USER " + b"a" * 41, b"NOOP " + b"b" * 260, b"PASS " + b"c" * 2100,
        b"A B C D E F G",
    ]
    for i, line in enumerate(single):
        term = [b"\r\n", b"\r\n", b"\n", b"\r\n"][i % 4]
        seeds.append(bytes([i % 4, 0, i, 0]) + line + term)

    sasl = [
        (0x11, b"AUTH PLAIN\r\ndGVzdAB0ZXN0AHRlc3Q=\r\nSTAT\r\n"),
        (0x01, b"AUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\n*\r\nQUIT\r\n"),
        (0x11, b"AUTH X\r\nnot base64\r\nNOOP\r\n"),
        (0x33, b"AUTH A\r\n=\r\nAUTH B\r\n\r\nQUIT\r\n"),
        (0x11, b"AUTH PLAIN\r\n" + b"QUFB" * 600 + b"\r\nQUIT\r\n"),
    ]
    for i, (mask, s) in enumerate(sasl):
        seeds.append(bytes([0x08 | (i % 4), mask, i, 0]) + s)
    return seeds


def escape(data):
    """What mc_transcript_write_data() writes after 'C: '."""
    out = []
    for i, c in enumerate(data):
        if c == 0x0d:
            out.append("\\r")
        elif c == 0x0a:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x5c:
            out.append("\\\\")
        elif 0x20 <= c < 0x7f and not (c == 0x20 and i + 1 == len(data)):
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def to_transcript(name, conv):
    lines = ["# %s: generated by fuzz/make_seeds.py" % name, "@ protocol pop3",
             "@ session %s" % name, "@ client 192.0.2.1:40312", "@ server 192.0.2.2:110"]
    for item in conv:
        if item[0] in ("C", "S"):
            lines.append("%s: %s" % (item[0], escape(item[1])))
        elif item[0] == "tls":
            lines.append("! tls")
        elif item[0] == "tls-dec":
            lines.append("! tls decrypted")
        elif item[0] == "gap":
            lines.append("! gap %s %d" % (item[1], item[2]))
        elif item[0] == "close":
            lines.append("! close %s" % item[1])
    return "\n".join(lines) + "\n"


def transcript_seeds():
    seeds = []
    for name, conv in sorted(CONVERSATIONS.items()):
        seeds.append(to_transcript(name, conv).encode())
    # two interleaved sessions, CRLF file line ends
    a = to_transcript("one", CONVERSATIONS["pipelining"]).splitlines()
    b = to_transcript("two", CONVERSATIONS["bare_lf"]).splitlines()
    mixed = []
    for i in range(max(len(a), len(b))):
        if i < len(a):
            mixed.append(a[i])
        if i < len(b):
            mixed.append(b[i])
    seeds.append(("\r\n".join(mixed) + "\r\n").encode())
    # the format's corners, valid and not
    seeds.append(
        b"# corners\n\n@ protocol pop3\n@ unknown-directive with value\n@key-only\n"
        b"C:USER no space after colon\\r\\n\nS:  two spaces\\r\\n\n"
        b"S: trailing space\\x20\nC: \\x00\\xff\\xFe\\t\\\\\\r\\n\n"
        b"!tls\n!  gap   C   7\n! gap S 9223372036854775807\n! close c\n! close s\n"
        b"! tls decrypted\nC: no final newline\\r\\n")
    seeds.append(
        b"C: bad escape \\q\nS: raw\x01control\nC: cut escape \\\nS: \\x4\n"
        b"! gap C 0\n! gap C\n! gap X 5\n! gap C 99999999999999999999\n! tls nope\n"
        b"! close\n! unknown\n@\nX: not a record\nC; wrong separator\n"
        b"@ " + b"k" * 70 + b" v\n@ k " + b"v" * 600 + b"\n" + b"C: \xc3\xa9 8-bit\n")
    seeds.append(b"S: +OK\\r\\n\r\nC: QUIT\\r\\n\r\n")
    seeds.append(b"C:\nS: \n\n\n#\n")
    return seeds


def encode_len(n):
    if n < 14:
        return n, b""
    if n < 270:
        return 14, bytes([n - 14])
    assert n - 270 < 65536
    return 15, bytes([(n - 270) & 0xff, (n - 270) >> 8])


def to_session(conv):
    out = b""
    for item in conv:
        kind = item[0]
        if kind in ("C", "S"):
            d = 0x80 if kind == "S" else 0
            data = item[1]
            while True:
                part, data = data[:65805], data[65805:]
                l, extra = encode_len(len(part))
                out += bytes([d | l]) + extra + part
                if not data:
                    break
        elif kind in ("tls", "tls-dec"):
            out += bytes([(4 if kind == "tls" else 5) << 4])
        elif kind == "gap":
            d = 0x80 if item[1] == "S" else 0
            n = item[2]
            if n <= 15:
                out += bytes([d | 6 << 4 | (n - 1)])
            else:
                out += bytes([d | 6 << 4 | 15]) + (n - 16).to_bytes(4, "little")
        elif kind == "close":
            d = 0x80 if item[1] == "S" else 0
            out += bytes([d | 7 << 4])
    return out


def session_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(CONVERSATIONS.items())):
        body = to_session(conv)
        seeds.append(bytes([(i % 4) | (i << 3 & 0xf8), i]) + body)
        if i % 3 == 0:
            # the same conversation with protocol detection
            seeds.append(bytes([0x04 | (i % 4), i + 1]) + body)
    return seeds


TARGETS = {
    "pop3_resp": resp_seeds,
    "pop3_cmd": cmd_seeds,
    "transcript": transcript_seeds,
    "pop3_session": session_seeds,
}


def main(argv):
    prune = "--prune" in argv
    check = "--check" in argv
    missing = 0
    for target, make in TARGETS.items():
        d = os.path.join(ROOT, "corpus", target)
        want = {}
        for s in make():
            want[hashlib.sha256(s).hexdigest()] = s
        if check:
            for h in want:
                if not os.path.exists(os.path.join(d, h)):
                    print("missing: corpus/%s/%s" % (target, h))
                    missing += 1
            continue
        os.makedirs(d, exist_ok=True)
        for h, s in sorted(want.items()):
            with open(os.path.join(d, h), "wb") as f:
                f.write(s)
        removed = 0
        if prune:
            for e in os.listdir(d):
                p = os.path.join(d, e)
                if os.path.isfile(p) and e not in want:
                    os.unlink(p)
                    removed += 1
        print("corpus/%s: %d seeds%s" % (target, len(want),
                                        ", %d stale removed" % removed if prune else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
