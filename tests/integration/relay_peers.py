#!/usr/bin/env python3
"""Loopback peers for relay_loopback.sh: a scripted server and clients that
check what the relay passes through (bytes, half-close, limits, timeouts).

usage: relay_peers.py server PORT            serve until killed; prints "ready"
       relay_peers.py CLIENT RELAY_PORT      run one client check; exit 0 if it holds
The server answers by the first line the client sends:
  "BIG n\\r\\n"   n octets of a fixed pseudo-random stream, then close
  "SHA\\r\\n"     read to EOF (the client half-closes), answer the SHA-256, close
  anything else: answer "+OK hold\\r\\n" and hold until the client closes
"""
import hashlib
import random
import socket
import sys
import threading
import time


def stream(n):
    return random.Random(1939).randbytes(n)


def readline(c):
    b = b""
    while not b.endswith(b"\n"):
        x = c.recv(1)
        if not x:
            break
        b += x
    return b


def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    print("ready", flush=True)

    def one(c):
        try:
            c.settimeout(30)
            first = readline(c)
            if first.startswith(b"BIG "):
                c.sendall(stream(int(first[4:])))
            elif first == b"SHA\r\n":
                h = hashlib.sha256()
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    h.update(b)
                c.sendall(h.hexdigest().encode() + b"\r\n")
            elif first:
                c.sendall(b"+OK hold\r\n")
                while c.recv(4096):
                    pass
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def connect(port, host="127.0.0.1"):
    return socket.create_connection((host, port), timeout=20)


def recv_all(s, slow=False):
    parts = []
    while True:
        b = s.recv(4096 if slow else 65536)
        if not b:
            return b"".join(parts)
        parts.append(b)
        if slow and len(parts) % 64 == 0:
            time.sleep(0.01)


def big(port, n=4 << 20):
    """4 MB through a slowly reading client: every octet arrives, in order."""
    s = connect(port)
    s.sendall(b"BIG %d\r\n" % n)
    h, got, reads = hashlib.sha256(), 0, 0
    while True:
        b = s.recv(16384)
        if not b:
            break
        h.update(b)
        got += len(b)
        reads += 1
        if reads % 16 == 0:
            time.sleep(0.002)   # slower than the server: the relay must hold back
    assert got == n and h.digest() == hashlib.sha256(stream(n)).digest(), f"got {got} octets"
    print(f"big: {n} octets intact")


def huge(port):
    """48 MB the same way (the relay's memory is watched meanwhile)."""
    big(port, 48 << 20)


def half(port, host="127.0.0.1", count=3):
    """Clients that half-close after sending still get the answer."""
    errs = []

    def one(i):
        try:
            s = connect(port, host)
            data = b"SHA\r\n" + bytes([i]) * 300000
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = recv_all(s).strip().decode()
            want = hashlib.sha256(data[5:]).hexdigest()
            assert got == want, f"client {i}: {got!r}"
        except Exception as e:  # noqa: BLE001 (reported below)
            errs.append(repr(e))

    ts = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errs, errs
    print(f"half: {count} concurrent half-closed clients answered")


def half6(port):
    half(port, "::1", 2)


def limit(port):
    """70 clients at once: 64 relayed, the rest closed at once; then idle-timed out."""
    socks = [connect(port) for _ in range(70)]
    for s in socks:
        s.sendall(b"HOLD\r\n")
    time.sleep(0.3)
    served = closed = 0
    for s in socks:
        s.settimeout(5)
        try:
            b = s.recv(100)
        except OSError:
            b = b""
        if b.startswith(b"+OK"):
            served += 1
        elif b == b"":
            closed += 1
    assert (served, closed) == (64, 6), (served, closed)
    t = time.time()
    for s in socks:
        s.settimeout(10)
        try:
            while s.recv(100):
                pass
        except OSError:
            pass
    print(f"limit: 64 served, 6 refused; all closed by the idle timeout after {time.time() - t:.1f} s")


def refused(port):
    """The target is gone: the client is closed without data."""
    s = connect(port)
    s.settimeout(10)
    assert s.recv(100) == b"", "expected the relay to close the client"
    print("refused: client closed")


CLIENTS = {"big": big, "huge": huge, "half": half, "half6": half6, "limit": limit, "refused": refused}

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] in CLIENTS:
        CLIENTS[sys.argv[1]](int(sys.argv[2]))
    else:
        sys.exit(__doc__)
