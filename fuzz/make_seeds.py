#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, deterministically.

    fuzz/make_seeds.py            write corpus/{pop3_resp,pop3_cmd,transcript,pop3_session,
                                  smtp_reply,smtp_cmd,smtp_session,
                                  imap_resp,imap_cmd,imap_session,capture,differential}/
    fuzz/make_seeds.py --prune    also delete top-level files this script no longer makes
    fuzz/make_seeds.py --check    exit 1 if a seed is missing (nothing is written)

Every seed is named by the SHA-256 of its content. corpus/<target>/regress/
(minimised crashers) is never touched. The conversations below come from the
examples of RFC 1939, RFC 2449 and RFC 5034, plus realistic sessions (STLS,
AUTH PLAIN, pipelining, dot-stuffing) and deliberately broken lines. The
SMTP seeds come from RFC 5321 Appendix D, RFC 3030 s4, RFC 4954 s4.1,
submission, pipelining, STARTTLS injection, SMTP smuggling look-alikes, BDAT
chunks and gaps, plus the SMTP recordings under corpus/samples/ (which feed
the SMTP targets only, as the POP3 recordings feed the POP3 ones). The
IMAP seeds come from the examples of RFC 3501 and RFC 9051 (one
conversation per section), the transcripts tests/data/imap/*.mct (passing
sessions and the trigger of every rule),
a session of violations, and single responses and commands. The
binary layouts mirror the comments at the top of fuzz/fuzz_<target>.c.
"""
import hashlib
import os
import re
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


def mct_protocol(path):
    """The '@ protocol' of a transcript (pop3 when it names none)."""
    for line in open(path, encoding="ascii").read().splitlines():
        if line.startswith("@ protocol "):
            return line.split()[2]
    return "pop3"


SAMPLES = os.path.join(ROOT, "corpus", "samples")
SMTP_SAMPLES = {}   # name -> (conversation, submission?)
IMAP_SAMPLES = {}   # name -> conversation (the IMAP targets only)
for _f in sorted(os.listdir(SAMPLES)) if os.path.isdir(SAMPLES) else []:
    if _f.endswith(".mct"):
        _p = os.path.join(SAMPLES, _f)
        _name = "sample_" + _f[:-4].replace("-", "_")
        _proto = mct_protocol(_p)
        if _proto in ("smtp", "submission"):
            SMTP_SAMPLES[_name] = (read_mct(_p), _proto == "submission")
        elif _proto == "imap":
            IMAP_SAMPLES[_name] = read_mct(_p)
        else:
            CONVERSATIONS[_name] = read_mct(_p)


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


# ---------------------------------------------------------------------------
# SMTP (fuzz_smtp_reply, fuzz_smtp_cmd, fuzz_smtp_session). Conversations use
# the same items as above; the recordings under corpus/samples/ whose
# protocol is smtp or submission join them (SMTP_SAMPLES).

D_EHLO = (b"250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n"
          b"250 HELP\r\n")
D_BLAH = b"Blah blah blah...\r\n...etc. etc. etc.\r\n.\r\n"
D_MEETING = (b"Date: Thu, 21 May 1998 05:33:29 -0700\r\n"
             b"From: John Q. Public <JQP@bar.com>\r\n"
             b"Subject: The Next Meeting of the Board\r\nTo: Jones@xyz.com\r\n\r\n"
             b"Bill:\r\nThe next meeting of the board of directors will be\r\n"
             b"on Tuesday.\r\n                        John.\r\n.\r\n")
RFC3030_MSG = (b"To: Susan@random.com\r\nFrom: Sam@random.com\r\n"
               b"Subject: This is a bodyless test message\r\n")
SMTP_MSG = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\n"
            b"Subject: hi\r\n\r\nline one\r\n..a stuffed dot line\r\nlast\r\n.\r\n")


def smtp_smuggle(lookalike):
    """A DATA message holding an end-of-data look-alike followed by a
    smuggled transaction, as in the 2023 SMTP smuggling reports."""
    return [
        ("S", b"220 mx.example.com ESMTP\r\n"),
        ("C", b"EHLO attacker.example\r\n"),
        ("S", b"250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n"),
        ("C", b"MAIL FROM:<user@attacker.example>\r\n"),
        ("S", b"250 2.1.0 Ok\r\n"),
        ("C", b"RCPT TO:<victim@example.com>\r\n"),
        ("S", b"250 2.1.5 Ok\r\n"),
        ("C", b"DATA\r\n"),
        ("S", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
        ("C", b"From: user@attacker.example\r\n\r\nfirst message" + lookalike +
              b"MAIL FROM:<admin@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n"
              b"From: admin@example.com\r\n\r\nsmuggled\r\n.\r\n"),
        ("S", b"250 2.0.0 Ok: queued as 1\r\n"),
        ("C", b"QUIT\r\n"),
        ("S", b"221 2.0.0 Bye\r\n"),
    ]


SMTP_CONVERSATIONS = {
    # RFC 5321 Appendix D.1: a typical transaction
    "rfc5321_d1": [
        ("S", b"220 foo.com Simple Mail Transfer Service Ready\r\n"),
        ("C", b"EHLO bar.com\r\n"), ("S", D_EHLO),
        ("C", b"MAIL FROM:<Smith@bar.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"RCPT TO:<Jones@foo.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"RCPT TO:<Green@foo.com>\r\n"), ("S", b"550 No such user here\r\n"),
        ("C", b"RCPT TO:<Brown@foo.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"DATA\r\n"), ("S", b"354 Start mail input; end with <CRLF>.<CRLF>\r\n"),
        ("C", D_BLAH), ("S", b"250 OK\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 foo.com Service closing transmission channel\r\n"),
        ("close", "S"), ("close", "C"),
    ],
    # RFC 5321 Appendix D.2: an aborted transaction
    "rfc5321_d2": [
        ("S", b"220 foo.com Simple Mail Transfer Service Ready\r\n"),
        ("C", b"EHLO bar.com\r\n"), ("S", D_EHLO),
        ("C", b"MAIL FROM:<Smith@bar.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"RCPT TO:<Jones@foo.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"RCPT TO:<Green@foo.com>\r\n"), ("S", b"550 No such user here\r\n"),
        ("C", b"RSET\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 foo.com Service closing transmission channel\r\n"),
    ],
    # RFC 5321 Appendix D.3, step 1: source host to relay
    "rfc5321_d3_relay": [
        ("S", b"220 foo.com Simple Mail Transfer Service Ready\r\n"),
        ("C", b"EHLO bar.com\r\n"), ("S", D_EHLO),
        ("C", b"MAIL FROM:<JQP@bar.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"RCPT TO:<Jones@XYZ.COM>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"DATA\r\n"), ("S", b"354 Start mail input; end with <CRLF>.<CRLF>\r\n"),
        ("C", D_MEETING), ("S", b"250 OK\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 foo.com Service closing transmission channel\r\n"),
    ],
    # RFC 5321 Appendix D.3, step 2: relay to destination (one-line EHLO reply)
    "rfc5321_d3_destination": [
        ("S", b"220 xyz.com Simple Mail Transfer Service Ready\r\n"),
        ("C", b"EHLO foo.com\r\n"), ("S", b"250 xyz.com is on the air\r\n"),
        ("C", b"MAIL FROM:<JQP@bar.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"RCPT TO:<Jones@XYZ.COM>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"DATA\r\n"), ("S", b"354 Start mail input; end with <CRLF>.<CRLF>\r\n"),
        ("C", b"Received: from bar.com by foo.com ; Thu, 21 May 1998\r\n"
              b"    05:33:29 -0700\r\n" + D_MEETING),
        ("S", b"250 OK\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 foo.com Service closing transmission channel\r\n"),
    ],
    # RFC 5321 Appendix D.4: verifying and sending
    "rfc5321_d4_vrfy": [
        ("S", b"220 foo.com Simple Mail Transfer Service Ready\r\n"),
        ("C", b"EHLO bar.com\r\n"),
        ("S", b"250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n"
              b"250-VRFY\r\n250 HELP\r\n"),
        ("C", b"VRFY Crispin\r\n"), ("S", b"250 Mark Crispin <Admin.MRC@foo.com>\r\n"),
        ("C", b"MAIL FROM:<EAK@bar.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"RCPT TO:<Admin.MRC@foo.com>\r\n"), ("S", b"250 OK\r\n"),
        ("C", b"DATA\r\n"), ("S", b"354 Start mail input; end with <CRLF>.<CRLF>\r\n"),
        ("C", D_BLAH), ("S", b"250 OK\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 foo.com Service closing transmission channel\r\n"),
    ],
    # RFC 3030 section 4.1: simple chunking
    "rfc3030_chunking": [
        ("S", b"220 cnri.reston.va.us SMTP service ready\r\n"),
        ("C", b"EHLO ymir.claremont.edu\r\n"),
        ("S", b"250-cnri.reston.va.us says hello\r\n250 CHUNKING\r\n"),
        ("C", b"MAIL FROM:<Sam@Random.com>\r\n"), ("S", b"250 <Sam@Random.com> Sender ok\r\n"),
        ("C", b"RCPT TO:<Susan@Random.com>\r\n"),
        ("S", b"250 <Susan@random.com> Recipient ok\r\n"),
        ("C", b"BDAT %d LAST\r\n" % len(RFC3030_MSG) + RFC3030_MSG),
        ("S", b"250 Message OK, %d octets received\r\n" % len(RFC3030_MSG)),
        ("C", b"QUIT\r\n"), ("S", b"221 Goodbye\r\n"),
    ],
    # RFC 3030 section 4.2: pipelined BINARYMIME in three chunks (the first
    # one shortened from 100000 octets)
    "rfc3030_binarymime": [
        ("S", b"220 cnri.reston.va.us SMTP service ready\r\n"),
        ("C", b"EHLO ymir.claremont.edu\r\n"),
        ("S", b"250-cnri.reston.va.us says hello\r\n250-PIPELINING\r\n250-BINARYMIME\r\n"
              b"250 CHUNKING\r\n"),
        ("C", b"MAIL FROM:<ned@ymir.claremont.edu> BODY=BINARYMIME\r\n"
              b"RCPT TO:<gvaudre@cnri.reston.va.us>\r\nRCPT TO:<jstewart@cnri.reston.va.us>\r\n"),
        ("S", b"250 <ned@ymir.claremont.edu>... Sender and BINARYMIME ok\r\n"
              b"250 <gvaudre@cnri.reston.va.us>... Recipient ok\r\n"
              b"250 <jstewart@cnri.reston.va.us>... Recipient ok\r\n"),
        ("C", b"BDAT 1000\r\n" + bytes(range(256)) * 3 + b"\r\n.\r\n" + b"\x00" * 227 +
              b"BDAT 324\r\n" + (b"\r\n.\r\nQUIT\r\n" + b"x" * 324)[:324] +
              b"BDAT 0 LAST\r\n"),
        ("S", b"250 1000 octets received\r\n250 324 octets received\r\n"
              b"250 Message OK, 1324 octets received\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 Goodbye\r\n"),
    ],
    # RFC 4954 section 4.1: STARTTLS, then AUTH PLAIN with an initial response
    "rfc4954_plain_ir": [
        ("S", b"220-smtp.example.com ESMTP Server\r\n220 smtp.example.com\r\n"),
        ("C", b"EHLO client.example.com\r\n"),
        ("S", b"250-smtp.example.com Hello client.example.com\r\n250-AUTH GSSAPI DIGEST-MD5\r\n"
              b"250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"),
        ("C", b"STARTTLS\r\n"), ("S", b"220 Ready to start TLS\r\n"),
        ("tls-dec",),
        ("C", b"EHLO client.example.com\r\n"),
        ("S", b"250-smtp.example.com Hello client.example.com\r\n"
              b"250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n"),
        ("C", b"AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"),
        ("S", b"235 2.7.0 Authentication successful\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 2.0.0 Bye\r\n"),
    ],
    # RFC 4954 section 4.1: AUTH PLAIN without an initial response ("334 ")
    "rfc4954_plain_334": [
        ("S", b"220 smtp.example.com ESMTP Server\r\n"),
        ("tls-dec",),
        ("C", b"EHLO client.example.com\r\n"),
        ("S", b"250-smtp.example.com Hello client.example.com\r\n"
              b"250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n"),
        ("C", b"AUTH PLAIN\r\n"), ("S", b"334 \r\n"),
        ("C", b"dGVzdAB0ZXN0ADEyMzQ=\r\n"), ("S", b"235 2.7.0 Authentication successful\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 2.0.0 Bye\r\n"),
    ],
    # RFC 4954 section 4.1: CRAM-MD5 with a challenge
    "rfc4954_cram_md5": [
        ("S", b"220-smtp.example.com ESMTP Server\r\n220 ready\r\n"),
        ("C", b"EHLO client.example.com\r\n"),
        ("S", b"250-smtp.example.com Hello client.example.com\r\n250-AUTH DIGEST-MD5 CRAM-MD5\r\n"
              b"250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"),
        ("C", b"AUTH CRAM-MD5\r\n"),
        ("S", b"334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=\r\n"),
        ("C", b"cmpzMyBlYzNhNTlmZWQzOTVhYmExZWM2MzY3YzRmNGI0MWFjMA==\r\n"),
        ("S", b"235 2.7.0 Authentication successful\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 2.0.0 Bye\r\n"),
    ],
    # RFC 4954 section 4.1: AUTH EXTERNAL with the empty initial response "="
    "rfc4954_external": [
        ("S", b"220-smtp.example.com ESMTP Server\r\n220 ready\r\n"),
        ("C", b"EHLO client.example.com\r\n"),
        ("S", b"250-smtp.example.com Hello client.example.com\r\n250-AUTH GSSAPI DIGEST-MD5\r\n"
              b"250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"),
        ("C", b"STARTTLS\r\n"), ("S", b"220 Ready to start TLS\r\n"),
        ("tls-dec",),
        ("C", b"EHLO client.example.com\r\n"),
        ("S", b"250-smtp.example.com Hello client.example.com\r\n"
              b"250 AUTH EXTERNAL GSSAPI DIGEST-MD5 PLAIN\r\n"),
        ("C", b"AUTH EXTERNAL =\r\n"), ("S", b"235 2.7.0 Authentication successful\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 2.0.0 Bye\r\n"),
    ],
    # submission (RFC 6409): AUTH LOGIN, a cancelled AUTH, 8BITMIME, SMTPUTF8
    "submission_login": [
        ("S", b"220 smtp.example.com ESMTP submission\r\n"),
        ("tls-dec",),
        ("C", b"EHLO [192.0.2.7]\r\n"),
        ("S", b"250-smtp.example.com\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n"
              b"250-SMTPUTF8\r\n250-AUTH LOGIN PLAIN\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n"),
        ("C", b"AUTH LOGIN\r\n"), ("S", b"334 VXNlcm5hbWU6\r\n"),
        ("C", b"*\r\n"), ("S", b"501 5.7.0 Authentication cancelled\r\n"),
        ("C", b"AUTH LOGIN\r\n"), ("S", b"334 VXNlcm5hbWU6\r\n"),
        ("C", b"YWxpY2U=\r\n"), ("S", b"334 UGFzc3dvcmQ6\r\n"),
        ("C", b"c2VjcmV0\r\n"), ("S", b"235 2.7.0 Authentication successful\r\n"),
        ("C", b"MAIL FROM:<\xc3\xa9lise@example.org> BODY=8BITMIME SMTPUTF8 SIZE=120\r\n"
              b"RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com\r\n"
              b"DATA\r\n"),
        ("S", b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
        ("C", b"Subject: caf\xc3\xa9\r\n\r\n8-bit body \xe2\x82\xac\r\n.\r\n"),
        ("S", b"250 2.0.0 Ok: queued as 2\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 2.0.0 Bye\r\n"),
    ],
    # RFC 2920 pipelining with DSN parameters, a refused DATA, RSET
    "pipelining_refused": [
        ("S", b"220 mx.example.com ESMTP\r\n"),
        ("C", b"EHLO client.example\r\n"),
        ("S", b"250-mx.example.com\r\n250-PIPELINING\r\n250-DSN\r\n250 SIZE 1000000\r\n"),
        ("C", b"MAIL FROM:<> RET=HDRS ENVID=QQ314159\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\n"),
        ("S", b"250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.com>: unknown\r\n"
              b"554 5.5.1 Error: no valid recipients\r\n"),
        ("C", b"RSET\r\nNOOP\r\nHELP DATA\r\n"),
        ("S", b"250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n214-Commands:\r\n214 DATA\r\n"),
        ("C", b"QUIT\r\n"), ("S", b"221 2.0.0 Bye\r\n"),
    ],
    # STARTTLS then opaque TLS records
    "starttls_opaque": [
        ("S", b"220 mx.example.com ESMTP\r\n"),
        ("C", b"EHLO client.example\r\n"),
        ("S", b"250-mx.example.com\r\n250 STARTTLS\r\n"),
        ("C", b"STARTTLS\r\n"), ("S", b"220 2.0.0 Ready to start TLS\r\n"),
        ("tls",),
        ("C", b"\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03" + bytes(range(32))),
        ("S", b"\x16\x03\x03\x00\x31\x02\x00\x00\x2d\x03\x03" + bytes(range(32, 64))),
        ("close", "C"), ("close", "S"),
    ],
    # STARTTLS command injection (CVE-2011-0411) and response injection
    "starttls_injection": [
        ("S", b"220 mx.example.com ESMTP\r\n"),
        ("C", b"EHLO client.example\r\n"),
        ("S", b"250-mx.example.com\r\n250 STARTTLS\r\n"),
        ("C", b"STARTTLS\r\nRSET\r\n"),
        ("S", b"220 2.0.0 Ready to start TLS\r\n250 injected\r\n"),
        ("C", b"\x16\x03\x01\x00\x05hello"),
        ("S", b"\x16\x03\x03\x00\x02\x02\x00"),
    ],
    # SMTP smuggling look-alikes (one conversation each, below)
    # a session full of server and client violations
    "violations": [
        ("C", b"EHLO early.example\r\n"),
        ("S", b"220-first\r\n221 wrong code\r\n"),
        ("S", b"2200 four digits\r\n22 short\r\n220\r\n620 out of range\r\n"),
        ("C", b"HELO\r\nEHLO bad_domain!\r\nMAIL FROM:user@example.com\r\n"
              b"MAIL FROM : <a@b>\r\nRCPT TO:<@r1,@r2:x@y> FOO=\r\nDATA x\r\n"),
        ("S", b"250-x\r\n250-y\r\n251 z\r\n250 2.1.0x ok\r\n250 5.1.1 wrong class\r\n"
              b"250-2.0.0 a\r\n250 2.0.1 b\r\n501\x01ctl\r\n550 8bit \xc3\xa9\r\n"),
        ("C", b"RCPT TO:<" + b"l" * 70 + b"@example.com> SIZE=x SIZE=1 BODY=9BIT\r\n"
              b"VRFY\r\nEXPN \x01\r\nBDAT x\r\nBDAT 5 FIRST\r\nAUTH\r\nAUTH PL@IN\r\n"
              b"AUTH PLAIN not*base64\r\nSEND FROM:<a>\r\nTURN\r\n\r\nX\x00Y\r\n"),
        ("S", b"250 ok\r\n" * 14),
        ("C", b"NOOP " + b"n" * 600 + b"\r\nQUIT\r\nNOOP\r\n"),
        ("S", b"500 too long\r\n221 bye\r\n250 after quit\r\n"),
    ],
    # capture loss inside DATA content and inside a BDAT chunk
    "gaps": [
        ("S", b"220 mx.example.com ESMTP\r\n"),
        ("C", b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n"
              b"DATA\r\n"),
        ("S", b"250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ("C", b"Subject: big\r\n\r\nfirst part"),
        ("gap", "C", 5000),
        ("C", b"tail\r\n.\r\n"),
        ("S", b"250 queued\r\n"),
        ("C", b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nBDAT 100 LAST\r\nabc"),
        ("gap", "C", 40),
        ("C", b"x" * 57 + b"QUIT\r\n"),
        ("S", b"250 ok\r\n250 ok\r\n25"),
        ("gap", "S", 9),
        ("S", b"\r\n221 bye\r\n"),
    ],
    # bare LF line ends, unterminated last lines, a long body line
    "bare_lf": [
        ("S", b"220 mx ready\n"),
        ("C", b"HELO client\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nDATA\n"),
        ("S", b"250 hi\n250 ok\n250 ok\n354 go\n"),
        ("C", b"line\n" + b"w" * 1100 + b"\r\nnul\x00 and bare\rCR\r\n.\n.\r\n"),
        ("S", b"250 ok\n"),
        ("C", b"QUIT"),
        ("S", b"221 bye"),
    ],
}

for _i, (_name, _la) in enumerate([
        ("lf_dot_lf", b"\n.\n"), ("lf_dot_crlf", b"\n.\r\n"), ("crlf_dot_lf", b"\r\n.\n"),
        ("cr_dot_cr", b"\r.\r"), ("cr_dot_crlf", b"\r.\r\n"), ("crlf_dot_cr", b"\r\n.\r"),
        ("unstuffed", b"\r\n.x\r\n")]):
    SMTP_CONVERSATIONS["smuggling_" + _name] = smtp_smuggle(_la)
for _name, (_conv, _sub) in SMTP_SAMPLES.items():
    SMTP_CONVERSATIONS[_name] = _conv
SMTP_SUBMISSION = {"submission_login"} | {n for n, (c, sub) in SMTP_SAMPLES.items() if sub}


def smtp_reply_codes(data):
    """The code of each complete reply in a server stream (its last line)."""
    codes = []
    for line in lines_of(data):
        if len(line) >= 4 and line[3:4] == b"-":
            continue
        codes.append(line[:3])
    return codes


def smtp_plan(conv):
    """Walks a conversation the way the SMTP session does and returns the
    harness masks of fuzz_smtp_cmd: (data_policy, auth_sasl, sasl_exit).
    Commands and replies pair up in order (RFC 2920 s3.2)."""
    replies = smtp_reply_codes(stream(conv, "S"))
    c = stream(conv, "C")
    ri = 1 if replies else 0          # the greeting
    data_pol, auth_sasl, sasl_exit = [], [], []
    sasl = False
    i = 0

    def reply():
        nonlocal ri
        r = replies[ri] if ri < len(replies) else b""
        ri += 1
        return r

    while i < len(c):
        j = c.find(b"\n", i)
        if j < 0:
            break
        line = c[i:j].rstrip(b"\r")
        i = j + 1
        if sasl:
            r = reply()
            sasl = r == b"334" and line != b"*"
            sasl_exit.append(not sasl)
            continue
        verb = line.split(b" ", 1)[0].upper()
        if verb == b"BDAT":
            parts = line.split(b" ")
            if len(parts) >= 2 and parts[1].isdigit():
                i += int(parts[1])
            reply()
            continue
        r = reply()
        if verb == b"AUTH":
            sasl = r == b"334"
            auth_sasl.append(sasl)
        elif verb == b"DATA":
            data_pol.append(r == b"354")
            if r == b"354":
                k = c.find(b"\r\n.\r\n", i - 2)
                if c[i:i + 3] == b".\r\n":
                    k = i - 2
                i = len(c) if k < 0 else k + 5
                reply()
    return data_pol, auth_sasl, sasl_exit


def smtp_reply_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(SMTP_CONVERSATIONS.items())):
        s = stream(conv, "S")
        seeds.append(bytes([i % 4, 0, i, 0]) + s)
        if i % 2 == 0:
            # the same stream with a gap in the middle
            seeds.append(bytes([(i % 4) | 0x04 | (i << 4 & 0xf0), 0, i + 1, 0x80]) + s)
    single = [
        b"220 mx.example.com ESMTP ready\r\n", b"220-multi\r\n220 line greeting\r\n",
        b"250 2.0.0 Ok\r\n", b"250\r\n", b"250 \r\n", b"250-\r\n250 \r\n",
        b"250-a\r\n251 b\r\n", b"250-2.1.0 a\r\n250 2.1.5 b\r\n", b"250 2.0.0\r\n",
        b"250 2.0.0x\r\n", b"250 2.1000.0 big\r\n", b"250 2..0 x\r\n", b"250 2.0. x\r\n",
        b"550 2.0.0 class\r\n", b"450 4.7.1 later\r\n", b"354 3.0.0 none\r\n",
        b"334 VXNlcm5hbWU6\r\n", b"334 \r\n", b"334\r\n", b"334 " + b"Q" * 4000 + b"\r\n",
        b"250 " + b"x" * 506 + b"\r\n", b"250 " + b"x" * 507 + b"\r\n",
        b"250 " + b"y" * 2100 + b"\r\n", b"2500 four\r\n", b"25 two\r\n", b"abc\r\n",
        b"\r\n", b"199 low\r\n", b"600 high\r\n", b"260 second digit\r\n", b"250x sep\r\n",
        b"250 ctl\x01\r\n", b"250 8bit\xc3\xa9\r\n", b"250 nul\x00\r\n", b"250 bare\rcr\r\n",
        b"250 bare lf\n", b"250-open reply\r\n", b"250 unterminated", b"250 tab\tok\r\n",
        b"250 <Sam@Random.com> Sender ok\r\n", b"250 <@a,@b:c@d> route\r\n", b"250 <>\r\n",
        b"250-mx\r\n250-SIZE 10240000\r\n250-SIZE\r\n250-SIZE x\r\n250-AUTH\r\n"
        b"250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-AUTH plain\r\n250-AUTH=LOGIN\r\n"
        b"250-AUTH " + b"M" * 21 + b"\r\n250-8BITMIME\r\n250--bad\r\n250-KW  two\r\n"
        b"250-KW \x7f\r\n250 \r\n",
        b"220 [192.0.2.1] literal\r\n220 [IPv6:2001:db8::1] v6\r\n220 [x:y] tag\r\n",
        b"220 \xc3\xa9xample.com utf8\r\n220 -bad-.example\r\n",
    ]
    for i, line in enumerate(single):
        seeds.append(bytes([i % 4, 0, i, 0]) + line)
    return seeds


def smtp_cmd_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(SMTP_CONVERSATIONS.items())):
        c = stream(conv, "C")
        data_pol, auth_sasl, sasl_exit = smtp_plan(conv)
        dmask = 0
        for k, p in enumerate(data_pol):
            if p:
                dmask |= 1 << (2 * (k % 4))
        smask = bits(auth_sasl, 4) | bits(sasl_exit, 4, 4)
        seeds.append(bytes([0x08 | (i % 4), dmask, smask, i, 0]) + c)
        if i % 2 == 1:
            seeds.append(bytes([0x0c | ((i + 1) % 4) | 0x20, dmask, smask, i + 7, 0x60]) + c)

    single = [
        b"HELO bar.com", b"EHLO bar.com", b"EHLO [192.0.2.1]", b"EHLO [IPv6:2001:db8::1]",
        b"EHLO [IPv6:::1]", b"EHLO [tag:x]", b"EHLO", b"EHLO ", b"EHLO a..b", b"EHLO -a.b",
        b"helo lower.example", b"MAIL FROM:<>", b"MAIL FROM:<a@b.c>", b"MAIL FROM:a@b.c",
        b"MAIL FROM: <a@b.c>", b"MAIL FROM :<a@b.c>", b"MAIL FROM:<@x,@y:a@b.c>",
        b"MAIL FROM:<\"q u\"@b.c>", b"MAIL FROM:<\"a\\\"b\"@b.c>", b"MAIL FROM:<a@[192.0.2.1]>",
        b"MAIL FROM:<\xc3\xa9@b.c> SMTPUTF8", b"MAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME",
        b"MAIL FROM:<a@b.c> BODY=BINARYMIME RET=FULL ENVID=x+2By AUTH=<>",
        b"MAIL FROM:<a@b.c> SIZE=123456789012345678901", b"MAIL FROM:<a@b.c> SIZE",
        b"MAIL FROM:<a@b.c> SIZE=1 size=2", b"MAIL FROM:<a@b.c> =x", b"MAIL FROM:<a@b.c>  X",
        b"MAIL FROM:<a@b.c> X=", b"MAIL FROM:<a@b.c> X=a=b", b"MAIL FROM:<a@b.c> SMTPUTF8=1",
        b"MAIL FROM:<a@b.c> A B C D E F G H I J", b"MAIL FROM:<a@b.c>x", b"MAIL FROM:<a",
        b"MAIL FROM:<a b@c>", b"MAIL FROM:", b"MAIL TO:<a@b>", b"MAIL", b"MAIL  FROM:<a@b>",
        b"MAIL FROM:<" + b"l" * 65 + b"@b.c>", b"MAIL FROM:<a@" + b"d" * 256 + b">",
        b"MAIL FROM:<" + b"p" * 60 + b"@" + (b"d" * 60 + b".") * 4 + b"c>",
        b"RCPT TO:<Postmaster>", b"RCPT TO:<postmaster@example.com>", b"RCPT TO:<>",
        b"RCPT TO:<a@b> NOTIFY=NEVER", b"RCPT TO:<a@b> NOTIFY=NEVER,DELAY",
        b"RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;a+40b",
        b"RCPT TO:<a@b> ORCPT=rfc822", b"RCPT TO:<a@b> ORCPT=;x", b"rcpt to:<a@b>",
        b"DATA", b"data", b"DATA x", b"RSET", b"RSET x", b"NOOP", b"NOOP anything", b"QUIT",
        b"VRFY Crispin", b"VRFY", b"EXPN list", b"EXPN \x01", b"HELP", b"HELP DATA",
        b"STARTTLS", b"STARTTLS x", b"AUTH PLAIN", b"AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=",
        b"AUTH PLAIN =", b"AUTH PLAIN ", b"AUTH PLAIN ab$c", b"AUTH PLAIN abc",
        b"AUTH " + b"M" * 21, b"AUTH", b"AUTH PLAIN " + b"QUFB" * 700, b"BDAT 0 LAST",
        b"BDAT 0", b"BDAT 18446744073709551615", b"BDAT 4611686018427387905", b"BDAT x",
        b"BDAT 1 last", b"BDAT 1 LAST x", b"BDAT", b"BDAT ", b"SEND FROM:<a@b>",
        b"SOML FROM:<a@b>", b"SAML FROM:<a@b>", b"TURN", b"ETRN example.com", b"XCLIENT A=B",
        b"", b" ", b"MA\x00L FROM:<a@b>", b"NOOP\x00", b"M@IL", b"NOOP " + b"n" * 600,
        b"NOOP " + b"n" * 2100,
    ]
    for i, line in enumerate(single):
        term = [b"\r\n", b"\r\n", b"\n", b"\r\n"][i % 4]
        seeds.append(bytes([i % 4, 0, 0, i, 0]) + line + term)

    # The error paths of parsers/smtp/smtp_syntax.c, one per seed (the
    # coverage gate, fuzz/coverage, wants them reached): domains (RFC 5321
    # s4.1.2 Domain, sub-domain, Ldh-str), address literals (s4.1.3 IPv4,
    # IPv6-full/-comp/v4-full/v4-comp with the "::" group limits, General-
    # address-literal), source routes (A-d-l), quoted local parts (qtextSMTP,
    # quoted-pairSMTP), dot-strings, and esmtp-param values in xtext (RFC 3461
    # s4: ENVID, ORCPT; RFC 4954 s5: AUTH=).
    v6_comp_7 = b"1:2:3:4:5:6::7"
    syntax = [
        b"EHLO a-.example", b"EHLO a.", b"EHLO .a", b"EHLO a_b.example", b"EHLO a.-b",
        b"EHLO [1.2.3]", b"EHLO [1.2.3.4.5]", b"EHLO [256.1.1.1]", b"EHLO [1.2.3.4x]",
        b"EHLO [1234.1.1.1]", b"EHLO [1..2.3]", b"EHLO [1.2.3.]", b"EHLO [", b"EHLO []",
        b"EHLO [1.2.3.4", b"EHLO 1.2.3.4]", b"EHLO [IPv6:1:2:3:4:5:6:7::]",
        b"EHLO [IPv6:" + v6_comp_7 + b"]", b"EHLO [IPv6:::ffff:192.0.2.1]",
        b"EHLO [IPv6:1:2:3:4::5:192.0.2.1]", b"EHLO [IPv6:1:2::3:192.0.2.1]",
        b"EHLO [IPv6:1:2:3:4:5:6:7:8]", b"EHLO [IPv6:zz::1]", b"EHLO [IPv6:]",
        b"EHLO [ipv6:2001:db8::1]", b"EHLO [IPv6:" + b"1:" * 30 + b"1]",
        b"EHLO [IPv6:1::\x00]", b"EHLO [x-tag:abc]", b"EHLO [tag-:abc]", b"EHLO [tag:]",
        b"EHLO [tag:a[b]", b"EHLO [tag:a b]", b"EHLO [tag]", b"EHLO [:x]", b"EHLO [-:x]",
        b"EHLO [tag:\x7f]", b"HELO [192.0.2.1]", b"HELO a-.b",
        b"MAIL FROM:<@a.example,@b.example:user@c.example>", b"MAIL FROM:<@a..b:u@c.d>",
        b"MAIL FROM:<@a,b:u@c.d>", b"MAIL FROM:<@a.example u@c.d>", b"MAIL FROM:<@:u@c.d>",
        b"MAIL FROM:<@a.example,@-b:u@c.d>", b"MAIL FROM:<@a.example>",
        b"MAIL FROM:<\"bad\\\x01\"@ex.com>", b"MAIL FROM:<\"unterminated@ex.com>",
        b"MAIL FROM:<\"ctl\x01\"@ex.com>", b"MAIL FROM:<\"del\x7f\"@ex.com>",
        b"MAIL FROM:<\"ends in backslash\\", b"MAIL FROM:<\"8bit \xc3\xa9\"@ex.com>",
        b"MAIL FROM:<.user@ex.com>", b"MAIL FROM:<user.@ex.com>", b"MAIL FROM:<us..er@ex.com>",
        b"MAIL FROM:<Postmaster>", b"RCPT TO:<POSTMASTER>", b"RCPT TO:<@a.b:Postmaster>",
        b"MAIL FROM:<user>", b"MAIL FROM:<user@>", b"MAIL FROM:<user@[1.2.3.4]>",
        b"MAIL FROM:<user@[1.2.3.4>", b"MAIL FROM:<user@[1.2.3.4]x>",
        b"MAIL FROM:<user@[IPv6:2001:db8::1]>", b"MAIL FROM:<user@[tag:x]>",
        b"MAIL FROM:<user@ex.com", b"MAIL FROM:<user@-ex.com>", b"MAIL FROM:<user@ex..com>",
        b"MAIL FROM:<(comment)user@ex.com>", b"MAIL FROM:<u@" + b"d" * 250 + b".example>",
        b"MAIL FROM:<" + b"l" * 70 + b"@" + b"d" * 190 + b".e>",
        b"MAIL FROM:<a@b.c> AUTH=a+2Bb", b"MAIL FROM:<a@b.c> AUTH=a+zz", b"MAIL FROM:<a@b.c> AUTH=a+2",
        b"MAIL FROM:<a@b.c> AUTH=a+2b", b"MAIL FROM:<a@b.c> AUTH=a=b", b"MAIL FROM:<a@b.c> AUTH=",
        b"MAIL FROM:<a@b.c> AUTH=a\x7fb", b"MAIL FROM:<a@b.c> AUTH=<a@b.c>",
        b"MAIL FROM:<a@b.c> ENVID=abc+20", b"MAIL FROM:<a@b.c> ENVID=a+", b"MAIL FROM:<a@b.c> ENVID=",
        b"MAIL FROM:<a@b.c> RET=HDRS", b"MAIL FROM:<a@b.c> RET=BODY", b"MAIL FROM:<a@b.c> BODY=7BIT",
        b"MAIL FROM:<a@b.c> BODY=9BIT", b"MAIL FROM:<a@b.c> B_D=1", b"MAIL FROM:<a@b.c> -X=1",
        b"MAIL FROM:<a@b.c> X-=1", b"MAIL FROM:<a@b.c> SIZE=12x",
        b"RCPT TO:<a@b> ORCPT=rfc822;", b"RCPT TO:<a@b> ORCPT=-x;a", b"RCPT TO:<a@b> ORCPT=rfc-822;a",
        b"RCPT TO:<a@b> ORCPT=rfc822;a+4", b"RCPT TO:<a@b> ORCPT=rfc822;a b", b"RCPT TO:<a@b> ORCPT=",
        b"RCPT TO:<a@b> NOTIFY=", b"RCPT TO:<a@b> NOTIFY=SOMETIMES", b"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS",
        b"RCPT TO:<a@b> NOTIFY=SUCCESS,,DELAY",
    ]
    for i, line in enumerate(syntax):
        seeds.append(bytes([i % 4, 0, 0, i, 0]) + line + b"\r\n")

    content = [
        # (DATA policy, SASL mask, stream)
        (0x01, 0, b"DATA\r\nhello\r\n.\r\nQUIT\r\n"),
        (0x01, 0, b"DATA\r\n.\r\nQUIT\r\n"),
        (0x01, 0, b"DATA\r\n..stuffed\r\n.unstuffed\r\n.\r\n"),
        (0x01, 0, b"DATA\r\nx\n.\nMAIL FROM:<a@b>\r\n.\r\n"),
        (0x01, 0, b"DATA\r\nx\r.\rRCPT TO:<a@b>\r\n.\r\n"),
        (0x01, 0, b"DATA\r\nx\r\n.\nDATA\r\n.\r\n"),
        (0x01, 0, b"DATA\r\nbare\rcr and bare\nlf nul\x00 8bit\xff\r\n.\r\n"),
        (0x01, 0, b"DATA\r\n" + b"L" * 1200 + b"\r\n" + b"M" * 999 + b"\r\n.\r\n"),
        (0x01, 0, b"DATA\r\nnever terminated\r\n"),
        (0x02, 0, b"DATA\r\nRSET\r\nDATA\r\n"),
        (0x00, 0, b"DATA\r\n.\r\nQUIT\r\n"),
        (0x09, 0, b"DATA\r\na\r\n.\r\nDATA\r\nb\r\n.\r\nDATA\r\nQUIT\r\n"),
        (0, 0, b"BDAT 5\r\n12345BDAT 3 LAST\r\nabcQUIT\r\n"),
        (0, 0, b"BDAT 0 LAST\r\nQUIT\r\n"),
        (0, 0, b"BDAT 4\r\nab\r\rBDAT 2 LAST\r\n\nx"),
        (0, 0, b"BDAT 3\r\n\r\n.BDAT 2 LAST\r\n\r\n"),
        (0, 0, b"BDAT 10 LAST\r\nshort"),
        (0, 0, b"BDAT 2\r\nabRSET\r\nBDAT 1 LAST\r\n\xff"),
        (0x01, 0, b"BDAT 3\r\nabcDATA\r\nx\r\n.\r\nBDAT 1 LAST\r\ny"),
        (0x01, 0x11, b"AUTH PLAIN\r\ndGVzdAB0ZXN0ADEyMzQ=\r\nDATA\r\nx\r\n.\r\n"),
        (0, 0x01, b"AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n*\r\nQUIT\r\n"),
        (0, 0x11, b"AUTH X\r\nnot base64!\r\nNOOP\r\n"),
        (0, 0x11, b"AUTH PLAIN\r\n" + b"QUFB" * 800 + b"\r\nQUIT\r\n"),
        (0, 0x33, b"AUTH A\r\n=\r\nAUTH B\r\n\r\nQUIT\r\n"),
    ]
    for i, (dmask, smask, s) in enumerate(content):
        seeds.append(bytes([0x08 | (i % 4), dmask, smask, i, 0]) + s)
        if i % 3 == 0:
            seeds.append(bytes([0x0c | ((i + 2) % 4) | (i << 4 & 0xf0), dmask, smask, i, 0x90])
                         + s)
    return seeds


def smtp_session_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(SMTP_CONVERSATIONS.items())):
        body = to_session(conv)
        sub = 0x08 if name in SMTP_SUBMISSION else 0
        seeds.append(bytes([(i % 4) | sub | (i << 4 & 0xf0), i]) + body)
        if i % 3 == 0:
            # the same conversation with protocol detection
            seeds.append(bytes([0x04 | sub | (i % 4), i + 1]) + body)
        if i % 5 == 2:
            # and as submission (or not)
            seeds.append(bytes([(sub ^ 0x08) | ((i + 1) % 4), i + 2]) + body)
    return seeds


# ---------------------------------------------------------------------------
# IMAP (fuzz_imap_resp, fuzz_imap_cmd, fuzz_imap_session). Conversations come
# from the transcripts tests/data/imap/*.mct (read_mct), the IMAP
# recordings under corpus/samples/ (IMAP_SAMPLES) and from the examples of RFC 3501 and RFC 9051 (/work/shared/rfc/, or ../shared/rfc
# next to the checkout), one conversation per section with C:/S: lines.

RFC_DIRS = [os.path.join(os.path.dirname(ROOT), "shared", "rfc"), "/work/shared/rfc"]


def rfc_examples(rfc):
    """{section: conversation} of the "C: " / "S: " example lines of an RFC.
    A line without prefix inside an example continues the previous one (a
    literal's data or a wrapped response); page breaks are skipped."""
    path = next((os.path.join(d, "rfc%d.txt" % rfc) for d in RFC_DIRS
                 if os.path.exists(os.path.join(d, "rfc%d.txt" % rfc))), None)
    out = {}
    if path is None:
        return out
    section, conv, last = None, None, None
    for raw in open(path, encoding="latin-1").read().splitlines():
        line = raw.replace("\f", "")
        m = re.match(r"^(\d+(?:\.\d+)*)\.\s+\S", line)
        if m:
            if conv:
                out[section] = conv
            section, conv, last = m.group(1), [], None
            continue
        if conv is None or re.match(r"^(RFC \d+|Crispin|Melnikov)\s", line):
            continue
        m = re.match(r"^\s{3,}([CS]):\s(.*)$", line)
        if m:
            conv.append([m.group(1), m.group(2).encode("latin-1")])
            last = conv[-1]
        elif line.strip() == "":
            last = None
        elif last is not None and line.startswith("     "):
            last[1] += b"\r\n" + line.strip().encode("latin-1")
    if conv:
        out[section] = conv
    res = {}
    for sec, c in out.items():
        if c:
            res[sec] = [(side, data + b"\r\n") for side, data in c]
    return res


IMAP_CONVERSATIONS = {}
_IMAP_TESTS = os.path.join(ROOT, "tests", "data", "imap")
for _f in sorted(os.listdir(_IMAP_TESTS)) if os.path.isdir(_IMAP_TESTS) else []:
    # conformant sessions and the trigger of every rule: each reaches a
    # different corner of the session
    if _f.endswith(".mct"):
        _stem = _f[:-4][3:] if _f.startswith("ok-") else _f[:-4]
        IMAP_CONVERSATIONS["test_" + _stem.replace("-", "_")] = \
            read_mct(os.path.join(_IMAP_TESTS, _f))
for _rfc in (3501, 9051):
    for _sec, _conv in rfc_examples(_rfc).items():
        IMAP_CONVERSATIONS["rfc%d_s%s" % (_rfc, _sec)] = _conv
IMAP_CONVERSATIONS.update(IMAP_SAMPLES)
IMAP_CONVERSATIONS["violations"] = [
    ("S", b"* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] ready\r\n"),
    ("C", b"a1 LOGIN {5+}\r\nalice {6}\r\n"), ("S", b"+ go\r\n"), ("C", b"secret\r\n"),
    ("S", b"a1 OK done\r\n"), ("C", b"a1 SELECT INBOX\r\n"),
    ("S", b"* 3 EXISTS\r\n* FLAGS (\\Seen \\Bogus\r\na1 OK [READ-WRITE]\r\n"),
    ("C", b"a2 FETCH 1 (BODY[]\r\n"), ("S", b"* 1 FETCH (BODY[] {4}\r\nabc"),
    ("gap", "S", 3), ("S", b"\r\n)\r\na2 OK\r\n"), ("C", b"a3 IDLE\r\n"), ("S", b"+ idling\r\n"),
    ("C", b"DONE\r\n"), ("S", b"a3 OK\r\n"), ("C", b"a4 APPEND x {3}\r\nabc\r\n"),
    ("S", b"+ ready\r\na4 NO too late\r\n"), ("C", b"a5 LOGOUT\r\n"),
    ("S", b"* BYE\r\na5 OK\r\n"), ("close", "S"), ("close", "C"),
]


def imap_plan(conv):
    """Walks a conversation the way the IMAP session does and returns the
    harness masks of fuzz_imap_cmd: (auth_sasl, sasl_exit, idle). Literal
    policy is always "go"."""
    auth_sasl, sasl_exit, idle = [], [], []
    pending = None          # "auth" / "idle": a command waiting for "+"
    sasl = False
    for item in conv:
        if item[0] == "tls":
            break
        if item[0] not in ("C", "S"):
            continue
        for line in lines_of(item[1]):
            if item[0] == "C":
                if sasl:
                    sasl_exit.append(line == b"*")
                    if line == b"*":
                        sasl = False
                    continue
                words = line.split(b" ")
                v = words[1].upper() if len(words) > 1 else b""
                if v == b"AUTHENTICATE":
                    auth_sasl.append(False)
                    pending = "auth"
                elif v == b"IDLE":
                    idle.append(False)
                    pending = "idle"
                continue
            if line == b"+" or line.startswith(b"+ "):
                if pending == "auth" and auth_sasl:
                    auth_sasl[-1] = sasl = True
                elif pending == "idle" and idle:
                    idle[-1] = True
                pending = None if pending == "idle" else pending
            elif not line.startswith(b"*"):
                if sasl and sasl_exit:
                    sasl_exit[-1] = True
                sasl = False
                pending = None
    return auth_sasl, sasl_exit, idle


def imap_resp_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(IMAP_CONVERSATIONS.items())):
        s = stream(conv, "S")
        if s:
            seeds.append(bytes([i % 4, 0, i & 0xff, 0]) + s)
        if i % 10 == 0 and s:
            seeds.append(bytes([(i % 4) | 0x04 | (i << 4 & 0xf0), 0, (i + 1) & 0xff, 0x80]) + s)
    single = [
        b"* OK IMAP4rev1 Service Ready\r\n", b"* PREAUTH ready\r\n", b"* BYE bye\r\n",
        b"+ \r\n", b"+\r\n", b"+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n",
        b"a1 OK [READ-WRITE] SELECT completed\r\n", b"a1 NO [TRYCREATE] x\r\n", b"a1 BAD\r\n",
        b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", b"* OK [UIDNEXT 4392] x\r\n",
        b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
        b"* OK [ALERT] System shutdown in 10 minutes\r\n",
        b"a1 OK [APPENDUID 38505 3955] APPEND completed\r\n",
        b"a1 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
        b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
        b"* ENABLED CONDSTORE\r\n", b"* ID (\"name\" \"Cyrus\" \"version\" \"1.5\")\r\n", b"* ID NIL\r\n",
        b"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
        b"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n", b"* LIST () NIL INBOX\r\n", b"* LSUB () \".\" #news.comp.mail.misc\r\n",
        b"* SEARCH 2 84 882\r\n", b"* SEARCH\r\n", b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
        b"* 172 EXISTS\r\n", b"* 1 RECENT\r\n", b"* 44 EXPUNGE\r\n", b"* 0 EXPUNGE\r\n",
        b"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286)\r\n",
        b"* 12 FETCH (BODY[HEADER] {342}\r\n" + b"h" * 340 + b"\r\n)\r\n",
        b"* 1 FETCH (BODY[] {0}\r\n)\r\n", b"* 1 FETCH (BINARY[1] ~{3}\r\n\x00\x01\x02)\r\n",
        b"* 1 FETCH (BODY[1] {3}\r\nabc BODY[2] {2}\r\nde)\r\n",
        b"* 1 FETCH (BODY[] {10}\r\nshort", b"* 1 FETCH (BODY[] {5}\r\nabcde",
        b"* 12 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
        b"* 12 FETCH (ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"Subject\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) NIL NIL NIL NIL NIL NIL \"<B27397-0100000@cac.washington.edu>\"))\r\n",
        b"* 1 FETCH (UID 5 MODSEQ (12345))\r\n", b"* XUNKNOWN stuff\r\n", b"* 5 WHAT\r\n",
        b"* OK {5}\r\n", b"* LIST (((((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))))\r\n",
        b"* SEARCH 1 2\n", b"* OK bare\rcr\r\n", b"* OK nul\x00\r\n", b"* OK 8bit \xc3\xa9\r\n",
        b"\r\n", b"*\r\n", b"* \r\n", b"a1\r\n", b"* 99999999999999999999 EXISTS\r\n",
        b"* 1 FETCH (BODY[] {99999999999999999999}\r\n)\r\n", b"* OK " + b"x" * 9000 + b"\r\n",
        b"* 1 FETCH (X {1}\r\n\r)\r\n* 2 FETCH (Y \"q\\\"u\")\r\n", b"* OK unterminated",
    ]
    # two lines per seed (the corpus stays small)
    for i in range(0, len(single), 2):
        seeds.append(bytes([i % 4, 0, i, 0]) + b"".join(single[i:i + 2]))
    return seeds


def imap_cmd_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(IMAP_CONVERSATIONS.items())):
        c = stream(conv, "C")
        if not c:
            continue
        auth_sasl, sasl_exit, idle = imap_plan(conv)
        smask = bits(auth_sasl, 4) | bits(sasl_exit, 4, 4)
        seeds.append(bytes([0x08 | (i % 4), 0, smask, bits(idle, 8), i & 0xff, 0]) + c)
        if i % 10 == 1:
            seeds.append(bytes([0x0c | ((i + 1) % 4) | 0x20, 0x88, smask, bits(idle, 8),
                                (i + 7) & 0xff, 0x60]) + c)
    single = [
        b"a1 CAPABILITY", b"a1 NOOP", b"a1 LOGOUT", b"a1 STARTTLS", b"a1 ID (\"name\" \"x\")",
        b"a1 ID NIL", b"a1 LOGIN alice secret", b"a1 LOGIN \"al ice\" \"se\\\"cret\"",
        b"a1 AUTHENTICATE PLAIN", b"a1 AUTHENTICATE PLAIN dGVzdAB0ZXN0ADEyMzQ=",
        b"a1 AUTHENTICATE PLAIN =", b"a1 SELECT INBOX", b"a1 SELECT inbox (CONDSTORE)",
        b"a1 EXAMINE \"Sent Items\"", b"a1 CREATE owatagusiam/", b"a1 DELETE blurdybloop",
        b"a1 RENAME a b", b"a1 SUBSCRIBE #news.comp.mail.mime", b"a1 UNSUBSCRIBE x",
        b"a1 LIST \"\" \"*\"", b"a1 LIST \"\" %", b"a1 LIST (SUBSCRIBED) \"\" \"*\" RETURN (CHILDREN)",
        b"a1 LSUB \"#news.\" \"comp.mail.*\"", b"a1 STATUS blurdybloop (UIDNEXT MESSAGES)",
        b"a1 APPEND saved (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {0}",
        b"a1 ENABLE CONDSTORE UTF8=ACCEPT", b"a1 NAMESPACE", b"a1 IDLE", b"a1 CHECK",
        b"a1 CLOSE", b"a1 UNSELECT", b"a1 EXPUNGE", b"a1 UID EXPUNGE 3000:3002",
        b"a1 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
        b"a1 SEARCH CHARSET UTF-8 TEXT \"x\"", b"a1 UID SEARCH RETURN (MIN MAX) 1:* OR (A B) C",
        b"a1 SEARCH " + b"(" * 40 + b"ALL" + b")" * 40, b"a1 SEARCH $",
        b"a1 FETCH 12 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])", b"a1 FETCH 2:4 ALL",
        b"a1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)", b"a1 FETCH 1 BINARY.PEEK[1]<0.100>",
        b"a1 STORE 2:4 +FLAGS (\\Deleted)", b"a1 STORE 1 (UNCHANGEDSINCE 5) FLAGS.SILENT (\\Seen)",
        b"a1 COPY 2:4 MEETING", b"a1 UID MOVE 42 Archive", b"a1 UID FOO", b"a1 XFOO bar",
        b"a1", b"a1 ", b"", b" ", b"* NOOP", b"+ NOOP", b"a\x00 NOOP", b"a1 NOOP extra",
        b"a1 LOGIN \xc3\xa9 x", b"a1 SELECT \"\xc3\xa9\"", b"a1 FETCH 0 FLAGS", b"a1 FETCH * (",
        b"a1 NOOP " + b"n" * 9000, b"a1 LOGIN {5+}\r\nalice {6+}\r\nsecret",
        b"a1 APPEND x {3+}\r\nabc", b"a1 APPEND x ~{3}\r\n\x00\x01\x02", b"a1 APPEND x {4097+}\r\n" + b"m" * 4097,
        b"a1 APPEND x {3}\r\nabc", b"a1 APPEND x {0}\r\n", b"a1 APPEND x {99999999999999999999}",
        b"a1 APPEND x {3}\r\nab", b"a1 noop", b"A001 lOgIn a b", b"a1 NOOP\n",
    ]
    # two commands per seed (the corpus stays small)
    for i in range(0, len(single), 2):
        s = b"".join(line + [b"\r\n", b"\n"][(i + k) % 5 == 4]
                     for k, line in enumerate(single[i:i + 2]))
        seeds.append(bytes([i % 4, (i * 37) & 0xff, 0, 0, i, 0]) + s)
    modes = [
        # (literal policy, SASL mask, IDLE mask, stream)
        (0x00, 0, 0, b"a1 LOGIN {5}\r\nalice {6}\r\nsecret\r\na2 NOOP\r\n"),
        (0x01, 0, 0, b"a1 LOGIN {5}\r\nalice\r\na2 NOOP\r\n"),
        (0x02, 0, 0, b"a1 LOGIN {5}\r\nalice {6}\r\nsecret\r\n"),
        (0x06, 0, 0, b"a1 APPEND x {0}\r\n {2}\r\nab\r\n"),
        (0x00, 0x11, 0, b"a1 AUTHENTICATE PLAIN\r\ndGVzdAB0ZXN0ADEyMzQ=\r\na2 NOOP\r\n"),
        (0x00, 0x01, 0, b"a1 AUTHENTICATE LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n*\r\na2 NOOP\r\n"),
        (0x00, 0x11, 0, b"a1 AUTHENTICATE X\r\nnot base64!\r\na2 NOOP\r\n"),
        (0x00, 0, 0x01, b"a1 IDLE\r\nDONE\r\na2 NOOP\r\n"),
        (0x00, 0, 0x01, b"a1 IDLE\r\ndone\r\na2 IDLE\r\na3 NOOP\r\n"),
        (0x00, 0, 0x03, b"a1 IDLE\r\nNOPE\r\na2 IDLE\r\nDONE\r\n"),
    ]
    for i, (lmask, smask, imask, s) in enumerate(modes):
        seeds.append(bytes([0x08 | (i % 4), lmask, smask, imask, i, 0]) + s)
        if i % 3 == 0:
            seeds.append(bytes([0x0c | ((i + 2) % 4) | (i << 4 & 0xf0), lmask, smask, imask,
                                i, 0x90]) + s)
    return seeds


def imap_session_seeds():
    seeds = []
    for i, (name, conv) in enumerate(sorted(IMAP_CONVERSATIONS.items())):
        if not any(item[0] in ("C", "S") for item in conv):
            continue
        body = to_session(conv)
        seeds.append(bytes([(i % 4) | (i << 4 & 0xf0), i & 0xff]) + body)
        if i % 4 == 0:
            # the same conversation with protocol detection
            seeds.append(bytes([0x04 | (i % 4), (i + 1) & 0xff]) + body)
    return seeds


# ---------------------------------------------------------------------------
# Captures (fuzz_capture): small pcap and pcapng files of mail sessions,
# built by tests/capture/mkpcap.py from the sample recordings and a few
# transcripts, in the link layers, IP versions and damage the capture path
# handles (reordering, retransmission, loss, snaplen, mid-stream, VLANs).

def capture_seeds():
    sys.path.insert(0, os.path.join(ROOT, "tests", "capture"))
    import mkpcap  # noqa: E402 (tests/capture/mkpcap.py)
    ports = {"pop3": 110, "imap": 143, "smtp": 25, "submission": 587}
    picks = ["pop3/ok-rfc1939-example.mct", "pop3/ok-gap.mct", "imap/ok-extensions.mct",
             "imap/imap-uid-not-ascending.mct", "smtp/ok-rfc5321-d1-typical.mct",
             "smtp/smtp-smuggling-accepted.mct", "imap/ok-rfc3501-append.mct"]
    variants = [
        dict(),
        dict(link="sll2", af=6, reorder=0.5, retransmit=0.3, seed=1),
        dict(link="ether", vlans=[(0x8100, 7)], drop=[2], snaplen=120),
        dict(link="raw", start_mid=True, retransmit_diff=[1]),
    ]
    seeds = []
    for rel in picks:
        path = os.path.join(ROOT, "tests", "data", rel)
        if not os.path.exists(path):
            continue
        items = mkpcap.parse_transcript(open(path, encoding="utf-8").read())
        proto = mct_protocol(path)
        for i, v in enumerate(variants):
            kw = dict(v)
            snaplen = kw.pop("snaplen", 262144)
            pk = mkpcap.conversation(items, server_port=ports.get(proto, 143), **kw)
            link = mkpcap.LINKTYPES[kw.get("link", "ether")]
            if i % 2:
                w = mkpcap.Pcapng(">" if i == 3 else "<")
                w.interface(link, snaplen=snaplen, tsresol=9)
                for pkt in pk:
                    w.epb(0, pkt.ts_ns, pkt.data)
                seeds.append(w.getvalue())
            else:
                seeds.append(mkpcap.pcap_bytes(pk, linktype=link, snaplen=snaplen))
    return seeds


# ---------------------------------------------------------------------------
# fuzz_differential: the session conversations (same record layout), each
# with its protocol and port in option bits 0-1 and one of the segment
# shapes (sizes, swapped pairs, retransmissions) in bits 2-5.

def differential_seeds():
    seeds = []
    convs = [(0, c) for _, c in sorted(CONVERSATIONS.items())]
    convs += [(3 if name in SMTP_SUBMISSION else 2, c) for name, c in sorted(SMTP_CONVERSATIONS.items())]
    convs += [(1, c) for _, c in sorted(IMAP_CONVERSATIONS.items())
              if any(item[0] in ("C", "S") for item in c)]
    for i, (proto, conv) in enumerate(convs):
        shape = [0x00, 0x04, 0x08, 0x14, 0x20, 0x30, 0x0c][i % 7]
        seeds.append(bytes([proto | shape | (i << 6 & 0xc0), i & 0xff]) + to_session(conv))
    return seeds


TARGETS = {
    "differential": differential_seeds,
    "pop3_resp": resp_seeds,
    "pop3_cmd": cmd_seeds,
    "transcript": transcript_seeds,
    "pop3_session": session_seeds,
    "smtp_reply": smtp_reply_seeds,
    "smtp_cmd": smtp_cmd_seeds,
    "smtp_session": smtp_session_seeds,
    "imap_resp": imap_resp_seeds,
    "imap_cmd": imap_cmd_seeds,
    "imap_session": imap_session_seeds,
    "capture": capture_seeds,
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
