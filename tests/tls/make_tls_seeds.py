#!/usr/bin/env python3
"""Writes the seed corpora of the TLS fuzz targets, named by SHA-1:
corpus/tls_record/ (layouts in fuzz/fuzz_tls_record.c) from the recordings
of tests/data/tls/, and corpus/keylog/ from their key logs plus malformed
lines. Usage: make_tls_seeds.py [REPO_ROOT]"""
import hashlib
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
data = os.path.join(root, "tests", "data", "tls")


def chunks(name):
    b = open(os.path.join(data, name, "chunks.bin"), "rb").read()
    i, out = 0, []
    while i < len(b):
        n = int.from_bytes(b[i + 1:i + 5], "big")
        out.append((b[i:i + 1] == b"S", b[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def raw_mode(opts0, opts1, parts):
    out = bytearray([opts0 & ~8, opts1])
    for server, b in parts:
        while b:
            piece, b = b[:4000], b[4000:]
            if len(piece) < 127:
                out.append((0x80 if server else 0) | len(piece))
            else:
                out.append((0x80 if server else 0) | 127)
                out += len(piece).to_bytes(2, "little")
            out += piece
    return bytes(out)


def write(d, blob):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(blob).hexdigest()), "wb") as f:
        f.write(blob)


rec_dir = os.path.join(root, "corpus", "tls_record")
names = sorted(os.listdir(data))
names = [n for n in names if os.path.isdir(os.path.join(data, n))]
for k, name in enumerate(names):
    c = chunks(name)
    write(rec_dir, raw_mode(k & 3, 0x40, c))
    write(rec_dir, raw_mode(0x95, 0x80, c[:4]))   # a gap in the handshake
# fixture mode: clean, one flipped octet, several, a gap
for fx in (0, 1):
    o = 0x08 | fx << 4
    write(rec_dir, bytes([o, 0]))
    write(rec_dir, bytes([o | 1, 0, 0x00, 0x80, 0x01]))
    write(rec_dir, bytes([o | 3, 7, 0x10, 0xf0, 0x80, 0x00, 0x10, 0x02, 0xff, 0xff, 0x40]))
    write(rec_dir, bytes([o | 0x34, 0xc0]))
# crafted: plaintext where TLS must start, SSLv2, garbage after a record
write(rec_dir, bytes([0, 0]) + bytes([8]) + b"EHLO x\r\n" + bytes([0x80 | 6]) + b"-ERR\r\n")
write(rec_dir, bytes([1, 0]) + bytes([5]) + bytes([0x80, 0x2e, 0x01, 0x00, 0x02]))
write(rec_dir, bytes([2, 0]) + bytes([7]) + b"\x15\x03\x03\x00\x02\x02\x28" + bytes([4]) + b"a001")

kl_dir = os.path.join(root, "corpus", "keylog")
for name in names:
    write(kl_dir, open(os.path.join(data, name, "keylog"), "rb").read())
r = "00112233445566778899aabbccddeeff" * 2
write(kl_dir, ("# comment\r\nCLIENT_RANDOM %s %s\r\nCLIENT_RANDOM %s 0102\n"
               "SERVER_TRAFFIC_SECRET_0 zz%s %s extra\nEXPORTER_SECRET %s %s" %
               (r, "ab" * 48, r, r, "cd" * 32, r, "ef" * 32)).encode())
write(kl_dir, b"CLIENT_RANDOM \x00\n" + b"x" * 1500 + b"\n\tCLIENT_TRAFFIC_SECRET_0\t" + r.encode() + b"  " + b"11" * 32)
