#!/usr/bin/env python3
"""Clients for tests/integration/relay_tls.sh: real Python mail clients
(poplib, imaplib) that trust only the test CA, talking TLS to
`mailconform relay --tls-cert ...`, and a crafted POP3 client that pipelines
a command behind STLS. Loopback only.

usage: tls_relay_peers.py CASE PORT CAFILE [KEYLOG]
  pop3s       poplib.POP3_SSL: USER/PASS, STAT, RETR 2, QUIT
  pop3-stls   poplib.POP3 + stls(): the same inside TLS
  imaps       imaplib.IMAP4_SSL: LOGIN, SELECT INBOX, FETCH 1 BODY[], LOGOUT
  imap-starttls  imaplib.IMAP4 + starttls(): the same inside TLS
  pop3-pipelined  STLS and CAPA in one write, then the handshake, CAPA, QUIT
  idle        connects and sends nothing until the relay closes (handshake timeout)
  smtp-starttls  smtplib: EHLO, STARTTLS, EHLO, MAIL, RCPT, DATA, QUIT
  smtp-plain-data  smtplib without TLS: a message with a line "STARTTLS"
usage: tls_relay_peers.py smtp-server PORT CERT KEY
  a scripted SMTP server for one connection: STARTTLS offered, the
  message accepted inside TLS (printed), STARTTLS no longer offered there
Prints what it got; exits 1 on an unexpected answer.
"""
import imaplib
import poplib
import smtplib
import socket
import ssl
import sys
import time


def context(cafile, keylog):
    ctx = ssl.create_default_context(cafile=cafile)
    if keylog:
        ctx.keylog_filename = keylog
    return ctx


def check_retr(lines):
    body = b"\n".join(lines)
    if b"Subject: dots" not in body:
        sys.exit("RETR 2 did not return the dots message")


def pop3_session(p):
    p.user("alice")
    p.pass_("alicepw")
    count, _ = p.stat()
    if count != 3:
        sys.exit("STAT: expected 3 messages, got %d" % count)
    _, lines, _ = p.retr(2)
    check_retr(lines)
    p.quit()


def imap_session(m):
    m.login("alice", "alicepw")
    typ, data = m.select("INBOX")
    if typ != "OK" or data[0] != b"3":
        sys.exit("SELECT: %r %r" % (typ, data))
    typ, data = m.fetch("1", "(BODY[])")
    if typ != "OK" or b"multipart test" not in data[0][1]:
        sys.exit("FETCH 1: %r" % (typ,))
    m.logout()


def read_line(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        b = s.recv(1)
        if not b:
            break
        buf += b
    return buf


def pop3_pipelined(port, ctx):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    banner = read_line(s)
    if not banner.startswith(b"+OK"):
        sys.exit("banner: %r" % banner)
    s.sendall(b"STLS\r\nCAPA\r\n")  # CAPA pipelined behind STLS: injection
    ok = read_line(s)
    if not ok.startswith(b"+OK"):
        sys.exit("STLS answer: %r" % ok)
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"CAPA\r\n")
    capa = b""
    while not capa.endswith(b"\r\n.\r\n"):
        b = t.recv(4096)
        if not b:
            sys.exit("connection closed during CAPA")
        capa += b
    if b"STLS" in capa:
        sys.exit("STLS still advertised inside TLS")
    t.sendall(b"QUIT\r\n")
    print(read_line(t).decode().strip())
    t.close()


def idle(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    t0 = time.monotonic()
    got = s.recv(100)
    print("closed after %.1f s (%d octets)" % (time.monotonic() - t0, len(got)))


def smtp_server(port, cert, key):
    ls = socket.create_server(("127.0.0.1", port))
    ls.settimeout(30)
    print("listening", flush=True)
    # the relay connects once and closes before it listens: serve until a
    # session ends with QUIT
    while True:
        conn, _ = ls.accept()
        try:
            if smtp_session(conn, cert, key):
                return
        except OSError:
            pass
        finally:
            conn.close()


def smtp_session(conn, cert, key):
    conn.settimeout(15)
    f = conn.makefile("rb")
    out = conn

    def reply(text):
        out.sendall(text.encode() + b"\r\n")

    reply("220 mx.test.example ESMTP scripted")
    tls = False
    while True:
        line = f.readline()
        if not line:
            return False
        cmd = line.decode().strip()
        verb = cmd.split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            ext = ["PIPELINING", "8BITMIME"] + ([] if tls else ["STARTTLS"])
            lines = ["mx.test.example"] + ext
            for i, l in enumerate(lines):
                reply(("250 " if i == len(lines) - 1 else "250-") + l)
        elif verb == "STARTTLS" and not tls:
            reply("220 2.0.0 Ready to start TLS")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            out = ctx.wrap_socket(conn, server_side=True)
            f = out.makefile("rb")
            tls = True
        elif verb == "MAIL" or verb == "RCPT":
            reply("250 2.1.0 Ok")
        elif verb == "DATA":
            reply("354 End data with <CR><LF>.<CR><LF>")
            while True:
                l = f.readline()
                if not l or l == b".\r\n":
                    break
                sys.stdout.write("| " + l.decode())
            reply("250 2.0.0 Ok: queued")
        elif verb == "QUIT":
            reply("221 2.0.0 Bye")
            print("server: tls=%s" % tls)
            return True
        else:
            reply("502 5.5.2 Error: command not recognized")


def smtp_starttls(port, ctx):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test.example", timeout=15)
    s.ehlo()
    s.starttls(context=ctx)
    s.ehlo()
    if s.has_extn("starttls"):
        sys.exit("STARTTLS still advertised inside TLS")
    s.sendmail("bob@test.example", ["alice@test.example"],
               "From: bob@test.example\r\nTo: alice@test.example\r\nSubject: via the TLS relay\r\n"
               "\r\nHello inside TLS.\r\n")
    s.quit()


def smtp_plain_data(port):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test.example", timeout=15)
    s.ehlo()
    s.sendmail("bob@test.example", ["alice@test.example"],
               "From: bob@test.example\r\nTo: alice@test.example\r\nSubject: about TLS\r\n"
               "\r\nThe next line is text, not a command:\r\nSTARTTLS\r\nThe end.\r\n")
    s.quit()


def main():
    if sys.argv[1] == "smtp-server":
        smtp_server(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    case, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ctx = context(cafile, sys.argv[4] if len(sys.argv) > 4 else None)
    if case == "pop3s":
        pop3_session(poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=15))
    elif case == "pop3-stls":
        p = poplib.POP3("127.0.0.1", port, timeout=15)
        p.stls(context=ctx)
        pop3_session(p)
    elif case == "imaps":
        imap_session(imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=15))
    elif case == "imap-starttls":
        m = imaplib.IMAP4("127.0.0.1", port, timeout=15)
        m.starttls(ssl_context=ctx)
        imap_session(m)
    elif case == "pop3-pipelined":
        pop3_pipelined(port, ctx)
    elif case == "idle":
        idle(port)
    elif case == "smtp-starttls":
        smtp_starttls(port, ctx)
    elif case == "smtp-plain-data":
        smtp_plain_data(port)
    else:
        sys.exit("unknown case " + case)
    print("ok " + case)


if __name__ == "__main__":
    main()
