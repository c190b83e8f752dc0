#!/usr/bin/env python3
"""Real TLS mail conversations for the capture tests, made in memory.

A scripted mail conversation (the items of mkpcap.conversation_pcap:
("C", bytes) and ("S", bytes), plus ("TLS",) where TLS starts) is run
through two real TLS endpoints of Python's ssl module (OpenSSL), client
and server, connected by memory BIOs instead of a socket: every octet each
side writes is recorded, in the order it was sent, as one chunk of that
direction. The result is the TCP payload a capture of the same conversation
would hold: the plaintext before ("TLS",), the real handshake, the
application data records, close_notify. The client writes an NSS key log
(keylog_filename), as curl or Thunderbird would.

    tls_items(items, keylog, version="1.3", cert=..., key=...) -> items
    plain_items(items) -> the same conversation without TLS (("TLS",) dropped)
    transcript(items, path, proto) -> a .mct of the conversation, with
        "! tls decrypted" where TLS starts (docs/transcript.md)
    make_cert(dir) -> (cert, key)   a throwaway self-signed certificate
                                    (the openssl binary)

Nothing touches the network. Python 3 standard library and openssl only.
"""
import os
import ssl
import subprocess


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=mail.example"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class _Pair:
    """A TLS client and server joined by memory BIOs; records each flight."""

    def __init__(self, keylog, version, cert, key, alpn):
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.check_hostname = False
        cctx.verify_mode = ssl.CERT_NONE
        cctx.keylog_filename = keylog
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(cert, key)
        v = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[version]
        for ctx in (cctx, sctx):
            ctx.minimum_version = ctx.maximum_version = v
        if alpn:
            cctx.set_alpn_protocols([alpn])
            sctx.set_alpn_protocols([alpn])
        self.bio = {k: (ssl.MemoryBIO(), ssl.MemoryBIO()) for k in "CS"}   # (incoming, outgoing)
        self.obj = {
            "C": cctx.wrap_bio(*self.bio["C"], server_side=False, server_hostname="mail.example"),
            "S": sctx.wrap_bio(*self.bio["S"], server_side=True),
        }
        self.chunks = []

    def _flush(self, side):
        """What side wrote goes to the peer, recorded as one chunk."""
        out = self.bio[side][1].read()
        if out:
            self.chunks.append((side, out))
            self.bio["S" if side == "C" else "C"][0].write(out)
        return bool(out)

    def _pump(self, step):
        for _ in range(100):
            done = step()
            moved = self._flush("C") | self._flush("S")
            if done and not moved:
                return
        raise RuntimeError("TLS pump does not settle")

    def handshake(self):
        state = {"C": False, "S": False}

        def step():
            for side in "CS":
                if not state[side]:
                    try:
                        self.obj[side].do_handshake()
                        state[side] = True
                    except ssl.SSLWantReadError:
                        pass
            return all(state.values())
        self._pump(step)

    def send(self, side, data):
        self.obj[side].write(data)
        self._flush(side)
        peer = "S" if side == "C" else "C"
        got = b""
        while len(got) < len(data):
            try:
                got += self.obj[peer].read(65536)
            except ssl.SSLWantReadError:
                break
        self._flush(peer)   # TLS 1.3 tickets and the like, sent while reading
        if got != data:
            raise RuntimeError("TLS pair lost data")

    def close(self):
        for side in "CS":
            try:
                self.obj[side].unwrap()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
            self._flush(side)


def tls_items(items, keylog, version="1.3", cert=None, key=None, alpn=None):
    """items with ("TLS",) as the first item: implicit TLS; anywhere else:
    after a STARTTLS go-ahead. The TLS part is sealed by real endpoints."""
    out, pair = [], None
    for it in items:
        if it[0] == "TLS":
            pair = _Pair(keylog, version, cert, key, alpn)
            pair.handshake()
            out.extend(pair.chunks)
            continue
        if pair is None:
            out.append(it)
        else:
            pair.chunks = []
            pair.send(it[0], it[1])
            out.extend(pair.chunks)
    if pair is not None:
        pair.chunks = []
        pair.close()
        out.extend(pair.chunks)
    return out


def plain_items(items):
    return [it for it in items if it[0] != "TLS"]


def _escape(b):
    out = []
    for c in b:
        if c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    s = "".join(out)
    if s.endswith(" "):
        s = s[:-1] + "\\x20"
    return s


def transcript(items, path, proto):
    with open(path, "w") as f:
        f.write("@ protocol %s\n" % proto)
        for it in items:
            if it[0] == "TLS":
                f.write("! tls decrypted\n")
            else:
                f.write("%s: %s\n" % (it[0], _escape(it[1])))
