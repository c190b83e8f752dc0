#!/usr/bin/env python3
"""Throughput and memory of `mailconform check` on a large POP3 transcript.

Speed is reported as a ratio against a baseline run in the same invocation
(`wc -l` over the same file: one memchr pass, the floor for any line-based
reader), alternating the two, so the figure survives a shared, noisy machine.
Memory is the peak RSS of the check at two input sizes: it must stay flat.

usage: bench/bench_check.py MAILCONFORM [--mb 64] [--runs 5]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def make_transcript(path, target_bytes):
    """A realistic session repeated: login, listings, RETR of multi-line
    messages with dot-stuffed lines, DELE, QUIT; one session per block."""
    body = "".join("Line %d of the message, with some text to read.\\r\\n" % i for i in range(40))
    body += "..a dot-stuffed line\\r\\n"
    n = 0
    with open(path, "w") as f:
        while f.tell() < target_bytes:
            n += 1
            f.write("@ session s%d\n" % n)
            f.write("S: +OK POP3 ready <%d.1@bench.example>\\r\\n\n" % n)
            f.write("C: CAPA\\r\\n\n")
            f.write("S: +OK\\r\\nTOP\\r\\nUIDL\\r\\nUSER\\r\\nPIPELINING\\r\\n.\\r\\n\n")
            f.write("C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS alicepw\\r\\n\nS: +OK logged in\\r\\n\n")
            f.write("C: STAT\\r\\n\nS: +OK 10 20000\\r\\n\n")
            f.write("C: LIST\\r\\n\nS: +OK\\r\\n" + "".join("%d 2000\\r\\n" % i for i in range(1, 11)) + ".\\r\\n\n")
            f.write("C: UIDL\\r\\n\nS: +OK\\r\\n" + "".join("%d uid%08d\\r\\n" % (i, i) for i in range(1, 11)) + ".\\r\\n\n")
            for m in range(1, 11):
                f.write("C: RETR %d\\r\\n\n" % m)
                f.write("S: +OK 2000 octets\\r\\n%s.\\r\\n\n" % body)
                f.write("C: DELE %d\\r\\n\nS: +OK\\r\\n\n" % m)
            f.write("C: QUIT\\r\\n\nS: +OK bye\\r\\n\n! close S\n! close C\n")
    return n


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if r.returncode not in (0, 1):
        sys.exit("bench: %s failed (%d): %s" % (cmd[0], r.returncode, r.stderr.decode()[:500]))
    return dt


def peak_rss_kib(cmd):
    """Peak RSS of one child, measured in a fresh process so earlier children
    do not mask it (RUSAGE_CHILDREN keeps the maximum over all children)."""
    code = ("import resource,subprocess,sys;"
            "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True, text=True)
    return int(out.stdout.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mailconform")
    ap.add_argument("--mb", type=int, default=64, help="transcript size in MB (default 64)")
    ap.add_argument("--runs", type=int, default=5, help="alternating runs (default 5)")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as d:
        big = os.path.join(d, "big.mct")
        small = os.path.join(d, "small.mct")
        sessions = make_transcript(big, a.mb << 20)
        make_transcript(small, max(1, a.mb // 8) << 20)
        size = os.path.getsize(big)
        check = [a.mailconform, "check", "--quiet", big]
        base = ["wc", "-l", big]
        timed(check), timed(base)  # warm the page cache
        ratios, tcheck, tbase = [], [], []
        for _ in range(a.runs):
            tb = timed(base)
            tc = timed(check)
            tbase.append(tb)
            tcheck.append(tc)
            ratios.append(tc / tb)
        rss_big = peak_rss_kib(check)
        rss_small = peak_rss_kib([a.mailconform, "check", "--quiet", small])
        med = statistics.median(tcheck)
        print("input: %.1f MB transcript, %d sessions" % (size / 1e6, sessions))
        print("mailconform check: median %.3f s = %.1f MB/s" % (med, size / 1e6 / med))
        print("baseline wc -l:    median %.3f s = %.1f MB/s" % (statistics.median(tbase), size / 1e6 / statistics.median(tbase)))
        print("ratio check / wc -l (median of %d alternating pairs): %.2f" % (a.runs, statistics.median(ratios)))
        print("peak RSS: %d KiB at %.0f MB, %d KiB at %.0f MB (ratio %.2f)"
              % (rss_big, size / 1e6, rss_small, os.path.getsize(small) / 1e6, rss_big / rss_small))


if __name__ == "__main__":
    main()
