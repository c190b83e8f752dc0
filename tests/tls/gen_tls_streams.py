#!/usr/bin/env python3
"""Records real TLS conversations on loopback for the TLS module's tests.

For each case an `openssl s_server -rev` (it answers every line with the
line reversed) is started with the TLS version and cipher suite the case
forces, and Python's ssl module connects to it as the client, writing a
key log (keylog_filename). Between the two runs a small TCP relay written
here, which records every chunk it forwards in the order it saw them,
tagged with the direction: the raw TCP payload of both directions in
capture order, as the capture reader would deliver it.

One case (tls13-keyupdate) uses `openssl s_client` as the client instead,
for its KeyUpdate command.

Each case directory gets:
  chunks.bin   the recording: per chunk 1 octet direction ('C' client to
               server, 'S' server to client), 4 octets big-endian length,
               the octets
  keylog       the client's NSS key log
  c2s.txt      the application data the client sent
  s2c.txt      the application data the client received
  meta         key=value lines: version (hex), suite (hex), sni; a comment
               with what the client library reported

Usage: gen_tls_streams.py OUTDIR [CASE...]   (default: every case)
Needs: openssl (the binary), python3. Only 127.0.0.1 is used.
"""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings

# name: (s_server options, client max version ("s_client": use openssl s_client),
#        client min version, client ciphers, expected version, expected suite);
# version None: the handshake must fail
CASES = {
    "tls13-aes128gcm": (["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"], None, None, None, 0x0304, 0x1301),
    "tls13-aes256gcm": (["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"], None, None, None, 0x0304, 0x1302),
    "tls13-chacha20": (["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"], None, None, None, 0x0304, 0x1303),
    "tls12-ecdhe-aes128gcm": (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], "TLSv1_2", None, None, 0x0303, 0xC02B),
    "tls12-ecdhe-aes256gcm": (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"], "TLSv1_2", None, None, 0x0303, 0xC02C),
    "tls12-ecdhe-chacha20": (["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"], "TLSv1_2", None, None, 0x0303, 0xCCA9),
    # RFC 8996 forbids it; Debian 12's OpenSSL allows it only at security level 0
    "tls11": (["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], "TLSv1_1", "TLSv1_1", "DEFAULT@SECLEVEL=0", 0x0302, None),
    # the client's key share (x25519) is not acceptable: HelloRetryRequest for P-384
    "tls13-hrr": (["-tls1_3", "-groups", "P-384", "-ciphersuites", "TLS_AES_128_GCM_SHA256"], None, None, None, 0x0304, 0x1301),
    # openssl s_client as the client: its "K" command sends a KeyUpdate that
    # requests the server's too (client None: see run_s_client)
    "tls13-keyupdate": (["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"], "s_client", None, None, 0x0304, 0x1302),
    # a TLS 1.3-only client against a TLS 1.2-only server: protocol_version alert
    "handshake-failure": (["-tls1_2"], None, "TLSv1_3", None, None, None),
}

LINES = [b"a001 CAPABILITY\r\n", b"a002 NOOP " + b"x" * 3000 + b"\r\n", b"a003 LOGOUT\r\n"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    """Accepts one connection and forwards it to the server, recording."""

    def __init__(self, to_port):
        self.to_port = to_port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.chunks = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def pump(self, src, dst, tag):
        while True:
            try:
                b = src.recv(65536)
            except OSError:
                b = b""
            if not b:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            with self.lock:  # recorded and forwarded in one step: capture order
                self.chunks.append((tag, b))
                dst.sendall(b)

    def run(self):
        c, _ = self.lsock.accept()
        s = socket.create_connection(("127.0.0.1", self.to_port))
        t = threading.Thread(target=self.pump, args=(s, c, b"S"), daemon=True)
        t.start()
        self.pump(c, s, b"C")
        # s_server -rev keeps its side open after the client's close_notify
        # and FIN: give its answer a moment, then wake the pump by shutdown
        t.join(1.0)
        for sock in (s, c):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        t.join(5)
        c.close()
        s.close()
        self.lsock.close()


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "3650", "-subj", "/CN=mail.example"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def wait_listening(port, proc):
    for _ in range(100):
        if proc.poll() is not None:
            raise RuntimeError("openssl s_server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("openssl s_server does not listen")


def recv_line(s):
    got = b""
    while not got.endswith(b"\n"):
        b = s.recv(65536)
        if not b:
            break
        got += b
    return got


def write_case(d, chunks, sent, received, version, suite, got_version, got_suite):
    with open(os.path.join(d, "chunks.bin"), "wb") as f:
        for tag, b in chunks:
            f.write(tag + len(b).to_bytes(4, "big") + b)
    with open(os.path.join(d, "c2s.txt"), "wb") as f:
        f.write(sent)
    with open(os.path.join(d, "s2c.txt"), "wb") as f:
        f.write(received)
    with open(os.path.join(d, "meta"), "w") as f:
        f.write("version=%04x\n" % (version or 0))
        f.write("suite=%04x\n" % (suite or 0))
        f.write("sni=mail.example\n")
        f.write("# python reports %s %s\n" % (got_version, got_suite))


def read_until(proc, token, limit=10.0):
    """Reads s_client's stdout until token appears (or limit seconds)."""
    got = b""
    end = time.time() + limit
    os.set_blocking(proc.stdout.fileno(), False)
    while token not in got and time.time() < end:
        try:
            b = proc.stdout.read()
        except BlockingIOError:
            b = None
        if b:
            got += b
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.02)
    if token not in got:
        raise RuntimeError("s_client did not print %r" % token)
    return got


def run_s_client(port, keylog):
    """openssl s_client: two lines with a KeyUpdate between them. s_server
    -rev answers each line reversed without its line end, plus LF."""
    lines = [b"a001 NOOP\n", b"a002 LOGOUT\n"]
    proc = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-keylogfile",
                             keylog, "-servername", "mail.example", "-alpn", "imap,pop3"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sent = received = b""
    try:
        read_until(proc, b"Verify return code")
        for k, line in enumerate(lines):
            answer = line.rstrip(b"\r\n")[::-1] + b"\n"
            proc.stdin.write(line)
            proc.stdin.flush()
            read_until(proc, answer.rstrip(b"\n"))
            sent += line
            received += answer
            if k == 0:
                proc.stdin.write(b"K\n")  # KeyUpdate, update_requested
                proc.stdin.flush()
                read_until(proc, b"KEYUPDATE")
        proc.stdin.close()  # s_client ends: close_notify
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return sent, received


def run_case(name, outdir, cert, key):
    sopts, cmax, cmin, cciphers, version, suite = CASES[name]
    port = free_port()
    # the probe connection of wait_listening() is the first accept: allow two
    server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", cert,
                               "-key", key, "-rev", "-naccept", "2", "-alpn", "imap"] + sopts,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, server)
        relay = Relay(port)
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        keylog = os.path.join(d, "keylog")
        if os.path.exists(keylog):
            os.unlink(keylog)
        if cmax == "s_client":
            sent, received = run_s_client(relay.port, keylog)
            relay.thread.join(10)
            write_case(d, relay.chunks, sent, received, version, suite, "s_client", "")
            return
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.keylog_filename = keylog
        ctx.set_alpn_protocols(["imap", "pop3"])
        if cmax:  # TLSv1_1 is deprecated in Python, and exactly what the case needs
            ctx.maximum_version = getattr(ssl.TLSVersion, cmax)
        if cmin:
            ctx.minimum_version = getattr(ssl.TLSVersion, cmin)
        if cciphers:
            ctx.set_ciphers(cciphers)
        sent, received = b"", b""
        got_version = got_suite = None
        with socket.create_connection(("127.0.0.1", relay.port)) as raw:
            if version is None:  # the handshake must fail
                try:
                    ctx.wrap_socket(raw, server_hostname="mail.example").close()
                except (OSError, ssl.SSLError) as e:
                    got_version = "failed: %s" % e.__class__.__name__
                else:
                    raise RuntimeError(name + ": the handshake did not fail")
                raw.close()
                relay.thread.join(10)
                write_case(d, relay.chunks, sent, received, version, suite, got_version, got_suite)
                return
            s = ctx.wrap_socket(raw, server_hostname="mail.example")
            for line in LINES:
                s.sendall(line)
                sent += line
                received += recv_line(s)
            got_version = s.version()
            got_suite = s.cipher()[0]
            try:
                s.unwrap().close()  # close_notify, then FIN
            except (OSError, ssl.SSLError):
                pass
            s.close()
        relay.thread.join(10)
        write_case(d, relay.chunks, sent, received, version, suite, got_version, got_suite)
    finally:
        server.kill()
        server.wait()


def main():
    warnings.simplefilter("ignore", DeprecationWarning)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = make_cert(tmp)
        for name in names:
            run_case(name, outdir, cert, key)
            print("recorded", name)


if __name__ == "__main__":
    main()
