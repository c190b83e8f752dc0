"""Small fake POP3, IMAP and SMTP servers for the probe's tests (stdlib only).

Each FakeServer listens on 127.0.0.1 on a free port and serves one protocol
in one way: plaintext (offering STLS/STARTTLS when a certificate is given)
or implicit TLS. The conformant behaviour follows the RFCs closely enough
that mailconform finds nothing; the flags below break one thing each:

  inject     after STARTTLS/STLS, commands that arrived in the same segment
             are kept and answered inside TLS (CVE-2011-0411)
  silent     accepts, never sends anything
  endless    greets with a line that never ends
  garbage    greets with something that is no mail protocol
  flood      greets, then answers the first command with short lines that
             never end (a multi-line answer without its end)
"""

import os
import socket
import ssl
import subprocess
import threading
import time


def make_cert(directory, name, cn, san):
    """A self-signed certificate and key made with the openssl CLI."""
    cert = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san,
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


failures = []


def check(cond, what):
    """One test assertion: printed either way, remembered when it fails."""
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def verdict(what):
    """The exit status of a test script: 1 if a check failed."""
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("all %s checks passed" % what)
    return 0


def free_port():
    """A port nothing listens on (bound, then closed: connections are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn:
    """A line reader over a socket that can turn into TLS."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self, limit=65536):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                return None
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def start_tls(self, ctx, keep_buffer):
        if not keep_buffer:
            self.buf = b""   # RFC 2595 s4, RFC 3207 s4.2: plaintext before the handshake is dropped
        self.sock = ctx.wrap_socket(self.sock, server_side=True)


class FakeServer(threading.Thread):
    def __init__(self, proto, tls="plain", cert=None, inject=False, silent=False, endless=False,
                 garbage=False, submission=False, flood=False, pipelining=False, ipv6=False,
                 drop_pipelined=False):
        super().__init__(daemon=True)
        self.submission = submission
        self.flood = flood
        self.pipelining = pipelining   # announce PIPELINING (POP3 CAPA, SMTP EHLO)
        self.drop_pipelined = drop_pipelined   # IMAP: forget what came behind a command
        self.proto, self.tls = proto, tls
        self.inject, self.silent, self.endless, self.garbage = inject, silent, endless, garbage
        self.ctx = None
        if cert:
            self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ctx.load_cert_chain(cert[0], cert[1])
        self.lsock = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("::1" if ipv6 else "127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.start()

    def run(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    def serve(self, s):
        s.settimeout(30)
        try:
            if self.tls == "implicit":
                s = self.ctx.wrap_socket(s, server_side=True)
            c = Conn(s)
            if self.silent:
                time.sleep(30)
                return
            if self.endless:
                chunk = b"+OK " + b"A" * 65536
                for _ in range(64):
                    c.send(chunk)
                time.sleep(5)
                return
            if self.flood:
                c.send(b"+OK ready\r\n")
                c.line()
                c.send(b"+OK here it comes\r\n")
                chunk = b"x\r\n" * 20000
                for _ in range(2000):   # 120 MB at most
                    c.send(chunk)
                return
            if self.garbage:
                c.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            getattr(self, "serve_" + self.proto)(c)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def offers_tls(self, in_tls):
        return self.tls == "plain" and self.ctx is not None and not in_tls

    # ---- POP3 (RFC 1939, 2449, 2595) ----
    def serve_pop3(self, c):
        in_tls = self.tls == "implicit"
        authed = False
        c.send(b"+OK fake POP3 ready\r\n")
        while True:
            line = c.line()
            if line is None:
                return
            if len(line) > 255:
                c.send(b"-ERR line too long\r\n")
                continue
            word = line.split(b" ")[0].upper()
            if word == b"CAPA":
                caps = b"+OK capabilities\r\nUSER\r\nTOP\r\nUIDL\r\n"
                if self.pipelining:
                    caps += b"PIPELINING\r\n"
                if self.offers_tls(in_tls):
                    caps += b"STLS\r\n"
                c.send(caps + b".\r\n")
            elif word == b"STLS" and self.offers_tls(in_tls):
                c.send(b"+OK begin TLS\r\n")
                c.start_tls(self.ctx, self.inject)
                in_tls = True
            elif word == b"USER" and not authed:
                c.send(b"+OK\r\n")
            elif word == b"PASS" and not authed:
                authed = True
                c.send(b"+OK logged in\r\n")
            elif word == b"STAT" and authed:
                c.send(b"+OK 1 60\r\n")
            elif word == b"LIST" and authed:
                c.send(b"+OK 1 messages\r\n1 60\r\n.\r\n")
            elif word == b"UIDL" and authed:
                c.send(b"+OK\r\n1 uid-one\r\n.\r\n")
            elif word == b"TOP" and authed:
                c.send(b"+OK\r\nFrom: <a@example.org>\r\nSubject: hi\r\n\r\n.\r\n")
            elif word == b"NOOP" and authed and line == b"NOOP":
                c.send(b"+OK\r\n")
            elif word == b"QUIT":
                c.send(b"+OK bye\r\n")
                return
            else:
                c.send(b"-ERR unknown or bad command\r\n")

    # ---- IMAP (RFC 3501, 2595) ----
    def serve_imap(self, c):
        in_tls = self.tls == "implicit"
        authed = False
        c.send(b"* OK fake IMAP ready\r\n")
        while True:
            line = c.line(100000)
            if line is None:
                return
            if self.drop_pipelined:
                c.buf = b""   # the bug: one command per read, the rest lost
            parts = line.split(b" ", 2)
            tag = parts[0]
            cmd = parts[1].upper() if len(parts) > 1 else b""
            if len(parts) < 2 or not tag:
                c.send(b"* BAD no tag or command\r\n")
            elif cmd == b"CAPABILITY":
                caps = b"* CAPABILITY IMAP4rev1"
                if self.offers_tls(in_tls):
                    caps += b" STARTTLS LOGINDISABLED"
                c.send(caps + b"\r\n" + tag + b" OK done\r\n")
            elif cmd == b"STARTTLS" and self.offers_tls(in_tls):
                c.send(tag + b" OK begin TLS\r\n")
                c.start_tls(self.ctx, self.inject)
                in_tls = True
            elif cmd == b"NOOP" and len(parts) == 2:
                c.send(tag + b" OK done\r\n")
            elif cmd == b"LOGIN" and not authed and in_tls:
                authed = True
                c.send(tag + b" OK logged in\r\n")
            elif cmd == b"LIST" and authed:
                c.send(b'* LIST () "/" INBOX\r\n' + tag + b" OK done\r\n")
            elif cmd == b"EXAMINE" and authed:
                c.send(b"* FLAGS (\\Seen)\r\n* 1 EXISTS\r\n* 0 RECENT\r\n"
                       b"* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n"
                       b"* OK [PERMANENTFLAGS ()] ok\r\n" + tag + b" OK [READ-ONLY] done\r\n")
            elif cmd == b"FETCH" and authed:
                c.send(b'* 1 FETCH (FLAGS (\\Seen) ENVELOPE (NIL {2}\r\nhi NIL NIL NIL NIL NIL NIL NIL NIL) '
                       b'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 5 1))\r\n'
                       + tag + b" OK done\r\n")
            elif cmd == b"LOGOUT":
                c.send(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                return
            else:
                c.send(tag + b" BAD unknown or bad command\r\n")

    # ---- SMTP (RFC 5321, 3207) ----
    def serve_smtp(self, c):
        in_tls = self.tls == "implicit"
        authed = False
        c.send(b"220 fake.example ESMTP ready\r\n")
        while True:
            line = c.line()
            if line is None:
                return
            if len(line) > 510:
                c.send(b"500 5.5.2 line too long\r\n")
                continue
            word = line.split(b" ")[0].upper()
            if word == b"EHLO":
                ext = [b"fake.example", b"8BITMIME"]
                if self.pipelining:
                    ext.append(b"PIPELINING")
                if self.offers_tls(in_tls):
                    ext.append(b"STARTTLS")
                if in_tls:
                    ext.append(b"AUTH PLAIN")
                c.send(b"".join(b"250-" + e + b"\r\n" for e in ext[:-1]) + b"250 " + ext[-1] + b"\r\n")
            elif word == b"HELO":
                c.send(b"250 fake.example\r\n")
            elif word == b"STARTTLS" and self.offers_tls(in_tls):
                c.send(b"220 2.0.0 go ahead\r\n")
                c.start_tls(self.ctx, self.inject)
                in_tls = True
            elif word == b"AUTH" and in_tls:
                authed = True
                c.send(b"235 2.7.0 authenticated\r\n")
            elif word == b"MAIL" and self.submission and not authed:
                c.send(b"530 5.7.0 authentication required\r\n")   # RFC 6409 s4.3
            elif word == b"RCPT" and self.submission and not authed:
                c.send(b"503 5.5.1 MAIL first\r\n")
            elif word == b"HELP":
                c.send(b"214 2.0.0 see RFC 5321\r\n")
            elif word in (b"MAIL", b"RCPT", b"RSET") or (word == b"NOOP" and line == b"NOOP"):
                c.send(b"250 2.0.0 ok\r\n")
            elif word == b"QUIT":
                c.send(b"221 2.0.0 bye\r\n")
                return
            else:
                c.send(b"500 5.5.1 unknown or bad command\r\n")


class ConformantFleet:
    """Conformant servers for all eleven modes: the plaintext ones (POP3-,
    IMAP4-, SMTP-Plain and -TLS) announce PIPELINING, the implicit-TLS ones
    do not, so both paths run. ports: mode -> port."""

    def __init__(self, cert):
        self.plain = {p: FakeServer(p, "plain", cert, pipelining=True) for p in ("pop3", "imap", "smtp")}
        self.implicit = {p: FakeServer(p, "implicit", cert) for p in ("pop3", "imap", "smtp")}
        self.sub_plain = FakeServer("smtp", "plain", cert, submission=True)
        self.sub_implicit = FakeServer("smtp", "implicit", cert, submission=True)
        self.ports = {
            "POP3-Plain": self.plain["pop3"].port, "POP3-TLS": self.plain["pop3"].port,
            "POP3-SSL": self.implicit["pop3"].port,
            "IMAP4-Plain": self.plain["imap"].port, "IMAP4-TLS": self.plain["imap"].port,
            "IMAP4-SSL": self.implicit["imap"].port,
            "SMTP-Plain": self.plain["smtp"].port, "SMTP-TLS": self.plain["smtp"].port,
            "SMTP-SSL": self.implicit["smtp"].port,
            "SMTP-SUBMISSION-TLS": self.sub_plain.port, "SMTP-SUBMISSION-SSL": self.sub_implicit.port,
        }

    def port_args(self, modes=None):
        """`probe` options that send each mode (all, or those in modes) to
        its server: ["--port", "MODE=PORT", ...]."""
        args = []
        for mode, port in self.ports.items():
            if modes is None or mode in modes:
                args += ["--port", "%s=%d" % (mode, port)]
        return args
