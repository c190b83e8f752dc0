#!/usr/bin/env python3
"""Crafted STARTTLS peers for starttls_crafted.sh: fake POP3, IMAP and SMTP
servers and clients that break the STARTTLS rules on purpose, one scenario
per rule and protocol, talking over loopback (through `mailconform relay`).

usage: starttls_peers.py list
           prints one line per scenario: NAME PROTOCOL RULE[,RULE...]
       starttls_peers.py server NAME PORT CERT KEY
           serves scenario NAME on 127.0.0.1:PORT until killed; prints
           "ready" once listening. Every connection gets the scenario's
           server side (the relay's probe, which sends nothing, too).
       starttls_peers.py client NAME PORT
           runs the client side of scenario NAME against 127.0.0.1:PORT;
           exit 0 when it could play its part to the end

TLS, where a scenario gets that far, is real (Python's ssl module, the
self-signed CERT/KEY; the client does not verify it: only the behaviour
around the switch is under test). A peer that meets a broken handshake
(plaintext where a TLS record belongs) closes: that is part of the
scenario, not a failure. Rules that can only be seen inside TLS (CAPA or
CAPABILITY not re-issued, STARTTLS advertised or accepted inside TLS, a
client acting on an injected response) need the decrypted session and are
not crafted here; transcripts cover them (tests/data/).
Python 3 standard library only; nothing leaves 127.0.0.1.
"""
import socket
import ssl
import sys
import threading

TIMEOUT = 10


class Peer:
    """One side of a connection: line reads, sends, and the switch to TLS."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        """One line with its LF; b"" at EOF."""
        while b"\n" not in self.buf:
            try:
                got = self.sock.recv(4096)
            except (OSError, ssl.SSLError):
                got = b""
            if not got:
                out, self.buf = self.buf, b""
                return out
            self.buf += got
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def smtp_reply(self):
        """A whole SMTP reply (up to the line with SP after the code)."""
        lines = []
        while True:
            ln = self.line()
            if not ln:
                return b"".join(lines)
            lines.append(ln)
            if ln[3:4] != b"-":
                return b"".join(lines)

    def imap_tagged(self, tag):
        """IMAP responses up to the completion of tag."""
        lines = []
        while True:
            ln = self.line()
            if not ln:
                return b"".join(lines)
            lines.append(ln)
            if ln.startswith(tag + b" "):
                return b"".join(lines)

    def pop3_multiline(self):
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if not ln or ln == b".\r\n":
                return b"".join(lines)

    def tls_client(self):
        """Starts TLS as the client; False if the handshake failed."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        except (OSError, ssl.SSLError):
            return False
        self.buf = b""
        return True

    def tls_server(self, cert, key):
        """Starts TLS as the server; False if the handshake failed."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        try:
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError):
            return False
        self.buf = b""
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- POP3 --------------------------------------------------------------------

POP3_CAPA = b"+OK\r\nUSER\r\nSTLS\r\n.\r\n"
POP3_CAPA_TLS = b"+OK\r\nUSER\r\n.\r\n"


def pop3_server(p, sc, cert, key):
    """A POP3 server; sc["server"] says where it misbehaves."""
    how = sc.get("server", "")
    p.send(b"+OK crafted POP3 ready\r\n")
    authed = in_tls = False
    while True:
        ln = p.line()
        if not ln:
            return
        verb = ln.split(b" ")[0].strip().upper()
        if verb == b"CAPA":
            p.send(POP3_CAPA_TLS if in_tls else POP3_CAPA)
        elif verb == b"STLS":
            if how == "refuse" or authed:
                p.send(b"-ERR TLS not available\r\n")
                continue
            if how == "answer-injected":
                # CVE-2011-0411: the command pipelined behind STLS is read
                # from the plaintext buffer and answered
                p.send(b"+OK Begin TLS negotiation\r\n")
                if p.line().upper().startswith(b"CAPA"):
                    p.send(POP3_CAPA)
                return
            if how == "inject-response":
                p.send(b"+OK Begin TLS negotiation\r\n+OK injected\r\n")
            else:
                p.send(b"+OK Begin TLS negotiation\r\n")
            if not p.tls_server(cert, key):
                return
            authed, in_tls = False, True
        elif verb == b"USER":
            p.send(b"+OK\r\n")
        elif verb == b"PASS":
            authed = True
            p.send(b"+OK logged in\r\n")
        elif verb == b"QUIT":
            p.send(b"+OK bye\r\n")
            return
        else:
            p.send(b"-ERR unknown command\r\n")


def pop3_client(p, sc):
    how = sc["client"]
    if not p.line().startswith(b"+OK"):
        return False
    p.send(b"CAPA\r\n")
    p.pop3_multiline()
    if how == "cleartext":
        p.send(b"USER mia\r\n")
        p.line()
        p.send(b"PASS hunter2\r\n")
        p.line()
        p.send(b"QUIT\r\n")
        p.line()
        return True
    if how == "wrong-state":
        p.send(b"USER mia\r\n")
        p.line()
        p.send(b"PASS hunter2\r\n")
        p.line()
        p.send(b"STLS\r\n")
        p.line()
        p.send(b"QUIT\r\n")
        p.line()
        return True
    if how == "pipeline":
        p.send(b"STLS\r\nCAPA\r\n")   # one segment: injection
    else:
        p.send(b"STLS\r\n")
    answer = p.line()
    if how == "after-refusal":
        if not answer.startswith(b"-ERR"):
            return False
        p.send(b"USER mia\r\n")
        p.line()
        p.send(b"PASS hunter2\r\n")
        p.line()
        p.send(b"QUIT\r\n")
        p.line()
        return True
    if not answer.startswith(b"+OK"):
        return False
    if how == "close":
        return True
    # a real handshake; a server that answered the injected command, or
    # injected a response, breaks it: the scenario has shown its behaviour
    if p.tls_client():
        p.send(b"CAPA\r\n")
        p.pop3_multiline()
        p.send(b"QUIT\r\n")
        p.line()
    return True


# ---- SMTP --------------------------------------------------------------------

SMTP_EHLO = b"250-mx.crafted.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
SMTP_EHLO_AUTH = b"250-mx.crafted.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
SMTP_EHLO_TLS = b"250-mx.crafted.example\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n"


def smtp_server(p, sc, cert, key):
    how = sc.get("server", "")
    p.send(b"220 mx.crafted.example ESMTP\r\n")
    in_tls = False
    while True:
        ln = p.line()
        if not ln:
            return
        verb = ln.split(b" ")[0].strip().upper()
        if verb == b"EHLO":
            p.send(SMTP_EHLO_TLS if in_tls else SMTP_EHLO_AUTH if sc.get("auth_before_tls")
                   else SMTP_EHLO)
        elif verb == b"STARTTLS":
            if how == "refuse":
                p.send(b"454 4.7.0 TLS not available due to temporary reason\r\n")
                continue
            if how == "answer-injected":
                p.send(b"220 2.0.0 Ready to start TLS\r\n")
                if p.line().upper().startswith(b"EHLO"):
                    p.send(SMTP_EHLO)
                return
            if how == "inject-response":
                p.send(b"220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 AUTH PLAIN\r\n")
            else:
                p.send(b"220 2.0.0 Ready to start TLS\r\n")
            if not p.tls_server(cert, key):
                return
            in_tls = True
        elif verb == b"AUTH":
            if ln.upper().startswith(b"AUTH LOGIN"):
                p.send(b"334 VXNlcm5hbWU6\r\n")
                p.line()
                p.send(b"334 UGFzc3dvcmQ6\r\n")
                p.line()
            p.send(b"235 2.7.0 Authentication successful\r\n")
        elif verb == b"QUIT":
            p.send(b"221 2.0.0 bye\r\n")
            return
        else:
            p.send(b"500 5.5.2 unknown command\r\n")


def smtp_client(p, sc):
    how = sc["client"]
    if not p.smtp_reply().startswith(b"220"):
        return False
    p.send(b"EHLO client.crafted.example\r\n")
    p.smtp_reply()
    if how == "cleartext":
        p.send(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        p.smtp_reply()
        p.send(b"QUIT\r\n")
        p.smtp_reply()
        return True
    if how == "pipeline":
        p.send(b"STARTTLS\r\nEHLO client.crafted.example\r\n")
    else:
        p.send(b"STARTTLS\r\n")
    answer = p.smtp_reply()
    if how == "after-refusal":
        if not answer.startswith(b"454"):
            return False
        p.send(b"AUTH LOGIN\r\n")
        p.smtp_reply()
        p.send(b"YWxpY2U=\r\n")
        p.smtp_reply()
        p.send(b"c2VjcmV0\r\n")
        p.smtp_reply()
        p.send(b"QUIT\r\n")
        p.smtp_reply()
        return True
    if not answer.startswith(b"220"):
        return False
    if how == "close":
        return True
    if p.tls_client():
        p.send(b"EHLO client.crafted.example\r\n")
        p.smtp_reply()
        p.send(b"QUIT\r\n")
        p.smtp_reply()
    return True


# ---- IMAP --------------------------------------------------------------------

IMAP_CAPS = b"IMAP4rev1 STARTTLS AUTH=PLAIN"
IMAP_CAPS_TLS = b"IMAP4rev1 AUTH=PLAIN"


def imap_server(p, sc, cert, key):
    how = sc.get("server", "")
    if how == "preauth":
        p.send(b"* PREAUTH IMAP4rev1 crafted server, logged in as mia\r\n")
    else:
        p.send(b"* OK [CAPABILITY " + IMAP_CAPS + b"] crafted IMAP ready\r\n")
    in_tls = False
    while True:
        ln = p.line()
        if not ln:
            return
        words = ln.split(b" ")
        tag = words[0]
        verb = words[1].strip().upper() if len(words) > 1 else b""
        if verb == b"CAPABILITY":
            caps = IMAP_CAPS_TLS if in_tls else IMAP_CAPS
            p.send(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
        elif verb == b"STARTTLS":
            if how == "refuse":
                p.send(tag + b" NO TLS not available\r\n")
                continue
            if how == "preauth":
                p.send(tag + b" BAD already authenticated\r\n")
                continue
            if how == "answer-injected":
                p.send(tag + b" OK Begin TLS negotiation now\r\n")
                pipelined = p.line()
                if b"CAPABILITY" in pipelined.upper():
                    t2 = pipelined.split(b" ")[0]
                    p.send(b"* CAPABILITY " + IMAP_CAPS + b"\r\n" + t2 + b" OK done\r\n")
                return
            if how == "inject-response":
                p.send(tag + b" OK Begin TLS negotiation now\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
            else:
                p.send(tag + b" OK Begin TLS negotiation now\r\n")
            if not p.tls_server(cert, key):
                return
            in_tls = True
        elif verb in (b"LOGIN", b"AUTHENTICATE"):
            if how == "preauth":
                p.send(tag + b" BAD already authenticated\r\n")
            else:
                p.send(tag + b" OK logged in\r\n")
        elif verb == b"LOGOUT":
            p.send(b"* BYE bye\r\n" + tag + b" OK LOGOUT completed\r\n")
            return
        else:
            p.send(tag + b" BAD unknown command\r\n")


def imap_client(p, sc):
    how = sc["client"]
    if not p.line().startswith(b"* "):
        return False
    if how == "cleartext":
        p.send(b"a1 LOGIN mia hunter2\r\n")
        p.imap_tagged(b"a1")
        p.send(b"a2 LOGOUT\r\n")
        p.imap_tagged(b"a2")
        return True
    if how == "preauth-credentials":
        p.send(b"a1 STARTTLS\r\n")
        p.imap_tagged(b"a1")
        p.send(b"a2 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        p.imap_tagged(b"a2")
        p.send(b"a3 LOGOUT\r\n")
        p.imap_tagged(b"a3")
        return True
    if how == "pipeline":
        p.send(b"a1 STARTTLS\r\na2 CAPABILITY\r\n")
    else:
        p.send(b"a1 STARTTLS\r\n")
    answer = p.imap_tagged(b"a1")
    if how == "after-refusal":
        if b"a1 NO" not in answer:
            return False
        p.send(b"a2 LOGIN mia hunter2\r\n")
        p.imap_tagged(b"a2")
        p.send(b"a3 LOGOUT\r\n")
        p.imap_tagged(b"a3")
        return True
    if b"a1 OK" not in answer:
        return False
    if how == "close":
        return True
    if p.tls_client():
        p.send(b"a3 CAPABILITY\r\n")
        p.imap_tagged(b"a3")
        p.send(b"a4 LOGOUT\r\n")
        p.imap_tagged(b"a4")
    return True


# ---- scenarios -----------------------------------------------------------------

# name: protocol, the rules mailconform must report, server and client behaviour
SCENARIOS = {
    "pop3-cmd-injection": {"proto": "pop3", "rules": ["POP3.STLS.CMD_INJECTION"],
                           "client": "pipeline"},
    "pop3-injection-answered": {"proto": "pop3", "rules": ["POP3.STLS.INJECTION_ANSWERED"],
                                "client": "pipeline", "server": "answer-injected"},
    "pop3-response-injection": {"proto": "pop3", "rules": ["POP3.STLS.RESPONSE_INJECTION"],
                                "client": "tls", "server": "inject-response"},
    "pop3-refused-credentials": {"proto": "pop3", "rules": ["POP3.STLS.REFUSED_CREDENTIALS"],
                                 "client": "after-refusal", "server": "refuse"},
    "pop3-cleartext-password": {"proto": "pop3", "rules": ["POP3.CLEARTEXT.PASSWORD"],
                                "client": "cleartext"},
    "pop3-no-handshake": {"proto": "pop3", "rules": ["POP3.STLS.NO_HANDSHAKE"], "client": "close"},
    "pop3-wrong-state": {"proto": "pop3", "rules": ["POP3.STLS.WRONG_STATE"],
                         "client": "wrong-state"},
    "pop3-ok": {"proto": "pop3", "rules": [], "client": "tls"},
    "smtp-cmd-injection": {"proto": "smtp", "rules": ["SMTP.STARTTLS.CMD_INJECTION"],
                           "client": "pipeline"},
    "smtp-injection-answered": {"proto": "smtp", "rules": ["SMTP.STARTTLS.INJECTION_ANSWERED"],
                                "client": "pipeline", "server": "answer-injected"},
    "smtp-response-injection": {"proto": "smtp", "rules": ["SMTP.STARTTLS.RESPONSE_INJECTION"],
                                "client": "tls", "server": "inject-response"},
    "smtp-refused-credentials": {"proto": "smtp",
                                 "rules": ["SMTP.STARTTLS.REFUSED_CREDENTIALS"],
                                 "client": "after-refusal", "server": "refuse",
                                 "auth_before_tls": True},
    "smtp-cleartext-password": {"proto": "smtp", "rules": ["SMTP.CLEARTEXT.PASSWORD"],
                                "client": "cleartext", "auth_before_tls": True},
    "smtp-no-handshake": {"proto": "smtp", "rules": ["SMTP.STARTTLS.NO_HANDSHAKE"],
                          "client": "close"},
    "smtp-ok": {"proto": "smtp", "rules": [], "client": "tls"},
    "imap-cmd-injection": {"proto": "imap", "rules": ["IMAP.STARTTLS.CMD_INJECTION"],
                           "client": "pipeline"},
    "imap-injection-answered": {"proto": "imap", "rules": ["IMAP.STARTTLS.INJECTION_ANSWERED"],
                                "client": "pipeline", "server": "answer-injected"},
    "imap-response-injection": {"proto": "imap", "rules": ["IMAP.STARTTLS.RESPONSE_INJECTION"],
                                "client": "tls", "server": "inject-response"},
    "imap-refused-credentials": {"proto": "imap",
                                 "rules": ["IMAP.STARTTLS.REFUSED_CREDENTIALS"],
                                 "client": "after-refusal", "server": "refuse"},
    "imap-cleartext-password": {"proto": "imap", "rules": ["IMAP.CLEARTEXT.PASSWORD"],
                                "client": "cleartext"},
    "imap-no-handshake": {"proto": "imap", "rules": ["IMAP.STARTTLS.NO_HANDSHAKE"],
                          "client": "close"},
    "imap-preauth": {"proto": "imap",
                     "rules": ["IMAP.PREAUTH.CLEARTEXT", "IMAP.STARTTLS.REFUSED_CREDENTIALS"],
                     "client": "preauth-credentials", "server": "preauth"},
    "imap-ok": {"proto": "imap", "rules": [], "client": "tls"},
}

SERVERS = {"pop3": pop3_server, "smtp": smtp_server, "imap": imap_server}
CLIENTS = {"pop3": pop3_client, "smtp": smtp_client, "imap": imap_client}


def serve(name, port, cert, key):
    sc = SCENARIOS[name]
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)
    print("ready", flush=True)

    def one(c):
        p = Peer(c)
        try:
            SERVERS[sc["proto"]](p, sc, cert, key)
        except (OSError, ssl.SSLError):
            pass
        finally:
            p.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def run_client(name, port):
    sc = SCENARIOS[name]
    p = Peer(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))
    try:
        ok = CLIENTS[sc["proto"]](p, sc)
    except (OSError, ssl.SSLError) as e:
        print(f"{name}: client: {e}", file=sys.stderr)
        ok = False
    finally:
        p.close()
    print(f"{name}: client {'done' if ok else 'FAILED'}")
    return ok


def main(argv):
    if len(argv) == 2 and argv[1] == "list":
        for name, sc in SCENARIOS.items():
            print(name, sc["proto"], ",".join(sc["rules"]) or "-")
        return 0
    if len(argv) == 6 and argv[1] == "server" and argv[2] in SCENARIOS:
        serve(argv[2], int(argv[3]), argv[4], argv[5])
        return 0
    if len(argv) == 4 and argv[1] == "client" and argv[2] in SCENARIOS:
        return 0 if run_client(argv[2], int(argv[3])) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
