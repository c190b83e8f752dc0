#!/usr/bin/env python3
"""Real POP3 client conversations (Python's poplib, or a raw socket for the
misbehaving client), run against the relay by the integration scripts.

usage: pop3_clients.py CASE PORT CAFILE
CASE: sample | session | stls | auth-plain | inject
Prints what it saw; exits non-zero if the server did not answer as expected.
"""
import base64
import poplib
import socket
import ssl
import sys

HOST = "127.0.0.1"
USER, PASSWORD = "alice", "alicepw"
DOT_LINES = [b".leading dot line", b"..", b"."]


def expect(cond, what):
    if not cond:
        raise SystemExit(f"pop3_clients: unexpected: {what}")


def session(port, cafile):
    """The whole TRANSACTION state: stat, list, uidl, retr, top, dele, rset, quit."""
    p = poplib.POP3(HOST, port, timeout=10)
    expect(p.getwelcome().startswith(b"+OK"), "greeting")
    caps = p.capa()
    expect("UIDL" in caps and "TOP" in caps, f"CAPA {caps}")
    p.user(USER)
    p.pass_(PASSWORD)
    count, size = p.stat()
    expect(count == 3, f"STAT {count} {size}")
    resp, listing, _ = p.list()
    expect(len(listing) == 3, f"LIST {listing}")
    expect(p.list(2).startswith(b"+OK 2 "), "LIST 2")
    resp, uids, _ = p.uidl()
    expect(len(uids) == 3, f"UIDL {uids}")
    expect(p.uidl(1).startswith(b"+OK 1 "), "UIDL 1")
    resp, lines, _ = p.retr(2)   # poplib removes the byte-stuffing
    for want in DOT_LINES:
        expect(want in lines, f"RETR 2 lacks {want!r}: {lines}")
    resp, lines, _ = p.top(3, 2)
    expect(b"Third message, line 1." in lines and b"line 3" not in lines, f"TOP 3 2 {lines}")
    p.noop()
    expect(p.dele(1).startswith(b"+OK"), "DELE 1")
    expect(p.rset().startswith(b"+OK"), "RSET")
    expect(p.quit().startswith(b"+OK"), "QUIT")
    print("poplib session: ok")


def sample(port, cafile):
    """The conversation of corpus/samples/dovecot-pop3.mct: CAPA, USER/PASS,
    STAT, LIST, UIDL, RETR of the dot-line message, TOP, QUIT."""
    p = poplib.POP3(HOST, port, timeout=10)
    p.capa()
    p.user(USER)
    p.pass_(PASSWORD)
    count, _ = p.stat()
    expect(count == 3, f"STAT {count}")
    p.list()
    p.uidl()
    resp, lines, _ = p.retr(2)
    for want in DOT_LINES:
        expect(want in lines, f"RETR 2 lacks {want!r}")
    p.top(3, 2)
    p.quit()
    print("poplib sample: ok")


def context(cafile):
    return ssl.create_default_context(cafile=cafile)


def stls(port, cafile):
    """STLS first, then log in and look, all inside TLS."""
    p = poplib.POP3(HOST, port, timeout=10)
    p.stls(context=context(cafile))   # certificate has IP:127.0.0.1, verified
    caps = p.capa()
    expect("STLS" not in caps, f"STLS advertised inside TLS: {caps}")
    p.user(USER)
    p.pass_(PASSWORD)
    count, _ = p.stat()
    expect(count == 3, f"STAT {count}")
    resp, lines, _ = p.retr(2)
    for want in DOT_LINES:
        expect(want in lines, f"RETR 2 lacks {want!r}")
    p.quit()
    print("poplib stls: ok")


def auth_plain(port, cafile):
    """AUTH PLAIN with the credentials sent after the server's '+ ' (RFC 5034)."""
    p = poplib.POP3(HOST, port, timeout=10)
    p.capa()
    token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    p._putcmd("AUTH PLAIN")
    line, _ = p._getline()
    expect(line.startswith(b"+"), f"AUTH PLAIN challenge {line!r}")
    expect(p._shortcmd(token).startswith(b"+OK"), "AUTH PLAIN accepted")
    count, _ = p.stat()
    expect(count == 3, f"STAT {count}")
    p.quit()
    print("poplib auth plain: ok")


def recv_until(sock, end, limit=65536):
    data = b""
    while not data.endswith(end) and len(data) < limit:
        b = sock.recv(4096)
        if not b:
            break
        data += b
    return data


def inject(port, cafile):
    """A misbehaving client: a bare-LF command, then STLS with CAPA pipelined
    in the same segment (STARTTLS command injection, CVE-2011-0411 style),
    then a real TLS handshake and QUIT inside TLS."""
    s = socket.create_connection((HOST, port), timeout=10)
    expect(recv_until(s, b"\r\n").startswith(b"+OK"), "greeting")
    s.sendall(b"CAPA\n")                       # bare LF
    expect(b"STLS" in recv_until(s, b"\r\n.\r\n"), "CAPA answer")
    s.sendall(b"STLS\r\nCAPA\r\n")             # one segment
    line = recv_until(s, b"\r\n")
    expect(line.startswith(b"+OK"), f"STLS answer {line!r}")
    # A server that kept reading commands would answer the injected CAPA,
    # in plaintext or inside TLS. Dovecot 2.3 instead feeds the injected
    # octets to its TLS stack, which fails the handshake ("wrong version
    # number") and closes: safe, and accepted here.
    try:
        t = context(cafile).wrap_socket(s, server_hostname=HOST)
    except (ssl.SSLError, OSError) as e:
        print(f"inject: TLS handshake refused after the injected command ({e.__class__.__name__}); ok")
        s.close()
        return
    t.sendall(b"QUIT\r\n")
    answer = recv_until(t, b"\r\n")
    print(f"inject: inside TLS, QUIT answered: {answer!r}")
    expect(answer.startswith(b"+OK"), "QUIT inside TLS")
    t.close()
    print("inject: ok")


CASES = {"sample": sample, "session": session, "stls": stls, "auth-plain": auth_plain, "inject": inject}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        sys.exit(__doc__)
    CASES[sys.argv[1]](int(sys.argv[2]), sys.argv[3])
