#!/usr/bin/env python3
"""Python's own mail clients (poplib, imaplib, smtplib) as used by
scripts/gen-compatibility.sh against the fleet through the relay: each runs
an ordinary read-only (POP3, IMAP) or submitting (SMTP) session and checks
only what every server of the fleet must give (alice's three messages).

usage: clients.py poplib PORT                 plaintext: CAPA, USER/PASS, STAT,
                                               LIST, UIDL, RETR 1, TOP 2 0, QUIT
       clients.py imaplib PORT                 plaintext: CAPABILITY, LOGIN, LIST,
                                               SELECT INBOX, FETCH 1:* (FLAGS
                                               ENVELOPE BODYSTRUCTURE), FETCH 1
                                               BODY.PEEK[], LOGOUT
       clients.py smtplib-submission PORT CAFILE FROM TO
                                               EHLO, STARTTLS (certificate checked
                                               for localhost), EHLO, AUTH, MAIL,
                                               RCPT, DATA, QUIT
Exits non-zero (with the reason) when the server did not answer as expected.
"""
import imaplib
import poplib
import smtplib
import ssl
import sys

HOST = "127.0.0.1"
USER, PASSWORD = "alice", "alicepw"
MESSAGES = 3


def expect(cond, what):
    if not cond:
        raise SystemExit(f"clients.py: unexpected: {what}")


def pop3(port):
    p = poplib.POP3(HOST, port, timeout=20)
    caps = p.capa()
    expect("UIDL" in caps and "TOP" in caps, f"CAPA {caps}")
    p.user(USER)
    p.pass_(PASSWORD)
    count, _ = p.stat()
    expect(count == MESSAGES, f"STAT {count}")
    expect(len(p.list()[1]) == MESSAGES, "LIST")
    expect(len(p.uidl()[1]) == MESSAGES, "UIDL")
    lines = p.retr(1)[1]
    expect(b"Subject: first" in lines, "RETR 1")
    expect(b"Subject: dots" in p.top(2, 0)[1], "TOP 2 0")
    p.quit()


def imap(port):
    m = imaplib.IMAP4(HOST, port, timeout=20)
    m.capability()
    expect(m.login(USER, PASSWORD)[0] == "OK", "LOGIN")
    expect(m.list()[0] == "OK", "LIST")
    typ, data = m.select("INBOX", readonly=True)
    expect(typ == "OK" and data[0] == str(MESSAGES).encode(), f"SELECT {typ} {data}")
    typ, data = m.fetch("1:*", "(FLAGS ENVELOPE BODYSTRUCTURE)")
    expect(typ == "OK" and len([d for d in data if d]) >= MESSAGES, f"FETCH {typ}")
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    expect(typ == "OK" and b"Subject: first" in data[0][1], f"FETCH BODY.PEEK[] {typ}")
    m.logout()


def submission(port, cafile, frm, to):
    ctx = ssl.create_default_context(cafile=cafile)
    # "localhost", the name the certificate carries (and the relay listens
    # on 127.0.0.1: a refused ::1 is skipped)
    s = smtplib.SMTP("localhost", port, local_hostname="client.example", timeout=20)
    s.ehlo()
    s.starttls(context=ctx)
    s.ehlo()
    s.login(USER, PASSWORD)
    msg = (f"From: {frm}\r\nTo: {to}\r\nSubject: compatibility\r\n"
           "Message-ID: <compatibility@mailconform.test>\r\n\r\nhello\r\n")
    refused = s.sendmail(frm, [to], msg)
    expect(not refused, f"refused {refused}")
    s.quit()


def main(argv):
    if len(argv) == 2 and argv[0] == "poplib":
        pop3(int(argv[1]))
    elif len(argv) == 2 and argv[0] == "imaplib":
        imap(int(argv[1]))
    elif len(argv) == 5 and argv[0] == "smtplib-submission":
        submission(int(argv[1]), argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
