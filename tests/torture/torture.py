#!/usr/bin/env python3
"""Allocation failure torture: `mailconform check` with each allocation failed in turn.

    torture.py MAILCONFORM [--max-runs N] [--jobs N] [--only NAME]

MAILCONFORM must be built with MC_FAULT_INJECTION (the dev preset):
validator/cli/fault_inject.c then fails the call of malloc, calloc,
realloc, aligned_alloc, strdup, strndup, open_memstream or pthread_create
that MC_FAULT_FAIL numbers (or, with "N+", that call and every later
one). For every scenario below (captures with one and several threads,
from a file and from a pipe, reordered, STARTTLS decrypted with a key log
and by a pcapng's Decryption Secrets Block, transcripts, every report
format, the probe against fake servers of the eleven modes, the relay
with a POP3 client through it), a first run counts the calls; then one run per call fails that
call (or --max-runs of them, spread evenly, when there are more), and for
every fourth of them every call from there on (--every-after). What each
run must do (the policy, docs/capture.md "Out of memory"):

- no sanitizer report, no signal, no hang (a timeout), an exit status of
  0, 1 or 2, and output that parses (JSON Lines, SARIF, JUnit XML);
- no finding that the run without failure does not make: running out of
  memory never blames a client or a server;
- when the failed call lost anything, say so: exit status 2 and "out of
  memory" on stderr (the probe: or the cells it hit failed "out of
  memory", exit status 1, the other cells unchanged); otherwise (the failure was absorbed, for instance by
  a buffer that grows later) exactly the output and exit status of the run
  without failure.

With several threads the calls interleave differently from run to run, so
the Nth call is not always the same one; the rules above hold for any.
Every failure prints the command that reproduces it (MC_FAULT_FAIL=N ...).
Python 3 standard library, openssl; nothing touches the network.
"""
import argparse
import concurrent.futures
import glob
import json
import os
import poplib
import re
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "capture"))
import mkpcap as m  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "probe"))
import fake_servers  # noqa: E402
import tlsmail  # noqa: E402

SAN_EXIT = 86
ENV = dict(os.environ,
           ASAN_OPTIONS="detect_leaks=1:exitcode=%d:abort_on_error=0" % SAN_EXIT,
           UBSAN_OPTIONS="halt_on_error=1:exitcode=%d:print_stacktrace=1" % SAN_EXIT,
           LSAN_OPTIONS="exitcode=%d" % SAN_EXIT)
TIMEOUT = 60
COUNT_RE = re.compile(r"mailconform: fault injection: (\d+) calls, "
                      r"(?:call (\d+) \((\w+)\) failed, called from (\S+)\+0x([0-9a-f]+)|none failed)")
LOOPBACK = os.path.join(ROOT, "corpus", "samples", "dovecot-postfix-loopback.pcap")
LOOPBACK_PORTS = ["--port", "26110=pop3", "--port", "26143=imap", "--port", "26025=smtp",
                  "--port", "26587=submission"]

IMAP_TLS = [("S", b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
            ("C", b"a0 STARTTLS\r\n"), ("S", b"a0 OK begin TLS\r\n"), ("TLS",),
            ("C", b"a1 CAPABILITY\r\n"), ("S", b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n"),
            ("C", b"a2 LOGIN mrc secret\r\n"), ("S", b"a2 OK logged in\r\n"),
            ("C", b"a3 SELECT INBOX\r\n"),
            ("S", b"* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT 9] ok\r\n"
                  b"* FLAGS (\\Seen)\r\n* OK [PERMANENTFLAGS (\\Seen)] ok\r\na3 OK [READ-WRITE] done\r\n"),
            ("C", b"a4 UID FETCH 1:* (FLAGS)\r\n"),
            ("S", b"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n* 2 FETCH (UID 3 FLAGS ())\r\na4 OK done\r\n"),
            ("C", b"a5 LOGOUT\r\n"), ("S", b"* BYE bye\r\na5 OK done\r\n")]


class Scenario:
    def __init__(self, name, args, stdin=None, cmd="check", max_runs=None):
        self.name, self.args, self.stdin, self.cmd = name, args, stdin, cmd
        self.max_runs = max_runs   # fewer than --max-runs: runs that take seconds


def scenarios(mc, tmp):
    """(name, arguments after `check`, file for stdin or None)"""
    cert, key = tlsmail.make_cert(tmp)
    kl = os.path.join(tmp, "imap.keylog")
    sealed = tlsmail.tls_items(IMAP_TLS, kl, "1.3", cert, key)
    starttls = os.path.join(tmp, "starttls.pcap")
    m.conversation_pcap(sealed, starttls, server_port=143)
    dsb_kl = os.path.join(tmp, "dsb.keylog")
    dsb_items = tlsmail.tls_items([("TLS",)] + [i for i in IMAP_TLS[4:]], dsb_kl, "1.2", cert, key)
    dsb = os.path.join(tmp, "dsb.pcapng")
    m.conversation_pcap(dsb_items, dsb, fmt="pcapng", server_port=993, secrets=open(dsb_kl, "rb").read())
    # out of order, retransmitted, small segments, commands pipelined: the
    # reassembler's holding area and retransmission window, queues that grow
    plain = [i for i in IMAP_TLS if i != ("TLS",)][3:]
    plain = plain[:4] + [("C", b"".join(b"n%d NOOP\r\n" % k for k in range(12))),
                         ("S", b"".join(b"n%d OK done\r\n" % k for k in range(12)))] + plain[4:]
    fetch = [("C", b"f1 FETCH 1:40 (FLAGS)\r\n"),
             ("S", b"".join(b"* %d FETCH (FLAGS (\\Seen))\r\n" % k for k in range(1, 41)) + b"f1 OK done\r\n")]
    shuffled = os.path.join(tmp, "shuffled.pcap")
    m.conversation_pcap([("S", b"* OK ready\r\n")] + plain[:-2] + fetch + plain[-2:], shuffled,
                        server_port=143, mss=24, reorder=0.3, retransmit=0.3, seed=7)
    data = os.path.join(ROOT, "tests", "data")
    mct = [os.path.join(ROOT, "docs", "examples", "planted-violations.mct"),
           os.path.join(data, "smtp", "smtp-smuggling-accepted.mct"),
           os.path.join(data, "imap", "imap-appenduid-range.mct"),
           os.path.join(ROOT, "corpus", "samples", "dovecot-pop3-stls.mct")]
    v6 = os.path.join(tmp, "v6.pcapng")
    m.conversation_pcap(plain, v6, server_port=143, af=6, vlans=[(0x88A8, 10), (0x8100, 20)],
                        fmt="pcapng", byteorder=">", nsec=True)
    baseline = os.path.join(tmp, "baseline")
    subprocess.run([mc, "check", "--write-baseline", baseline] + mct[:2], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=dict(ENV, MC_FAULT_FAIL=""))
    jl = ["--format", "jsonl"]
    # the probe against fake servers of the eleven modes, conformant and
    # served from this process (tests/probe/fake_servers.py)
    cert = fake_servers.make_cert(tmp, "probe", "localhost", "DNS:localhost,IP:127.0.0.1")
    fleet = fake_servers.ConformantFleet(cert)
    probe = ["--no-config", "--ca", cert[0], "--timeout", "10", "--format", "jsonl"] + fleet.port_args()
    pop3 = fake_servers.FakeServer("pop3")
    relay = ["--no-config", "--to", "127.0.0.1:%d" % pop3.port, "--max-sessions", "1",
             "--imap-version", "3501", "--format", "jsonl"]
    return [
        Scenario("relay, a POP3 conversation", relay, cmd="relay"),
        Scenario("probe, eleven modes", probe + ["--jobs", "1", "127.0.0.1"], cmd="probe"),
        Scenario("probe, eleven modes, --jobs 4", probe + ["--jobs", "4", "127.0.0.1"], cmd="probe",
                 max_runs=24),
        Scenario("capture, one thread", jl + LOOPBACK_PORTS + [LOOPBACK]),
        Scenario("capture, -j 2", jl + ["-j", "2"] + LOOPBACK_PORTS + [LOOPBACK]),
        Scenario("capture, -j 3 from a pipe", jl + ["-j", "3"] + LOOPBACK_PORTS + ["-"], stdin=LOOPBACK),
        Scenario("capture, reordered and retransmitted", jl + [shuffled]),
        Scenario("pcapng, IPv6 in VLANs", jl + [v6]),
        Scenario("capture, STARTTLS with --keylog", jl + ["--keylog", kl, starttls]),
        Scenario("capture, -j 2, STARTTLS with --keylog", jl + ["-j", "2", "--keylog", kl, starttls]),
        Scenario("pcapng with a Decryption Secrets Block", jl + [dsb]),
        Scenario("transcripts", jl + mct),
        Scenario("transcripts, text report", mct),
        Scenario("recorded sessions (corpus/samples)",
                 jl + sorted(glob.glob(os.path.join(ROOT, "corpus", "samples", "*.mct")))),
        Scenario("transcripts against a baseline", jl + ["--baseline", baseline] + mct),
        Scenario("transcripts, SARIF", ["--format", "sarif"] + mct[:2]),
        Scenario("transcripts, JUnit", ["--format", "junit"] + mct[:2]),
    ]


class Run:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err
        mt = COUNT_RE.search(err)
        self.calls = int(mt.group(1)) if mt else None
        self.failed = (int(mt.group(2)), mt.group(3)) if mt and mt.group(2) else None
        self.caller = (mt.group(4), int(mt.group(5), 16)) if self.failed else None

    def findings(self):
        """the findings' lines (JSON Lines output)"""
        return {ln for ln in self.out.splitlines() if ln.startswith('{"rule":')}

    def same_as(self, other):
        """the same exit status and output lines (in any order: -j)"""
        return self.rc == other.rc and sorted(self.out.splitlines()) == sorted(other.out.splitlines())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pop3_client(port):
    """one POP3 conversation through the relay on port; the relay may close
    it at any point (out of memory), which ends it quietly"""
    deadline = time.time() + 10
    while True:
        try:
            c = poplib.POP3("127.0.0.1", port, timeout=10)
            break
        except ConnectionRefusedError:   # not listening yet
            if time.time() > deadline:
                return
            time.sleep(0.05)
        except (OSError, poplib.error_proto):
            return
    try:
        c.capa()
        c.user("mrc")
        c.pass_("secret")
        c.stat()
        c.list()
        c.uidl()
        c.top(1, 0)
        c.quit()
    except (OSError, poplib.error_proto):
        pass


def run_relay(mc, sc, env):
    """the relay on a free port, one client conversation through it; client
    ports in session names become PORT, so that runs compare"""
    port = free_port()
    p = subprocess.Popen([mc, "relay"] + sc.args + ["--listen", "127.0.0.1:%d" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    pop3_client(port)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return Run(None, "", "timeout after %d s" % TIMEOUT)
    out = re.sub(r"(#\d+ 127\.0\.0\.1:)\d+", r"\1PORT", out.decode("utf-8", "replace"))
    return Run(p.returncode, out, err.decode("utf-8", "replace"))


def run(mc, sc, fail):
    env = dict(ENV, MC_FAULT_FAIL=str(fail))
    if sc.cmd == "relay":
        return run_relay(mc, sc, env)
    stdin = open(sc.stdin, "rb") if sc.stdin else subprocess.DEVNULL
    try:
        p = subprocess.run([mc, sc.cmd] + sc.args, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return Run(None, "", "timeout after %d s" % TIMEOUT)
    finally:
        if sc.stdin:
            stdin.close()
    return Run(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def malformed(sc, out):
    """why the output of a structured format does not parse, or None"""
    fmt = sc.args[sc.args.index("--format") + 1] if "--format" in sc.args else "text"
    try:
        if fmt == "jsonl":
            for ln in out.splitlines():
                json.loads(ln)
        elif fmt in ("json", "sarif"):
            json.loads(out)
        elif fmt == "junit":
            xml.etree.ElementTree.fromstring(out)
    except (ValueError, xml.etree.ElementTree.ParseError) as e:
        return "%s: %s" % (fmt, e)
    return None


def cells(out):
    """the probe's cells by host and mode"""
    got = {}
    for ln in out.splitlines():
        c = json.loads(ln).get("cell") if ln.startswith('{"cell":') else None
        if c:
            got[(c["host"], c["mode"])] = c
    return got


def oom_cells_only(base, r):
    """every cell is as without the failure, or failed for "out of memory"
    (the probe reports a loss in the cell it hit, and exits 1)"""
    want, got = cells(base.out), cells(r.out)
    if set(got) != set(want):
        return False
    lost = [k for k in got if got[k] != want[k]]
    return bool(lost) and all(got[k]["verdict"] == "failed" and got[k]["reason"] == "out of memory"
                              and got[k]["findings"] == 0 for k in lost)


def judge(sc, base, r):
    """None when the run keeps the rules, else why not"""
    if r.rc is None:
        return "hangs"
    if r.rc < 0:
        return "killed by signal %d" % -r.rc
    if r.rc == SAN_EXIT or "Sanitizer" in r.err or "runtime error" in r.err:
        return "sanitizer report"
    if r.rc not in (0, 1, 2):
        return "exit status %d" % r.rc
    bad_form = malformed(sc, r.out)
    if bad_form:
        return "the output is not well-formed: " + bad_form
    if not r.failed:
        if not r.same_as(base):
            return "no call failed, but the output differs from the run without failure"
        return None
    if "jsonl" in sc.args:
        extra = r.findings() - base.findings()
        if extra:
            return "a finding the run without failure does not make: " + sorted(extra)[0][:300]
    if r.rc == 2 and "out of memory" in r.err:
        return None
    if sc.cmd == "probe" and r.rc != 0 and oom_cells_only(base, r):
        return None
    if r.same_as(base):
        return None
    return "something was lost without a word (exit status %d, no \"out of memory\" on stderr)" % r.rc


_sites = {}


def site(caller):
    """"file:line (function)" of a failed call's caller, by addr2line"""
    if caller not in _sites:
        obj, off = caller
        try:
            out = subprocess.run(["addr2line", "-f", "-C", "-e", obj, "0x%x" % (off - 1)],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30).stdout.decode()
            fn, loc = (out.splitlines() + ["?", "?"])[:2]
            _sites[caller] = "%s (%s)" % (os.path.relpath(loc, ROOT) if loc.startswith("/") else loc, fn)
        except (OSError, subprocess.TimeoutExpired):
            _sites[caller] = "%s+0x%x" % caller
    return _sites[caller]


def picks(calls, max_runs):
    if calls <= max_runs:
        return list(range(1, calls + 1))
    step = calls / max_runs
    return sorted({int(i * step) + 1 for i in range(max_runs)})


def reproducer(mc, sc, n):
    cmd = "MC_FAULT_FAIL=%s %s %s %s" % (n, mc, sc.cmd, " ".join(sc.args))
    return cmd + (" < " + sc.stdin if sc.stdin else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mailconform")
    ap.add_argument("--max-runs", type=int, default=400, help="runs per scenario at most (default 400)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="runs at once (default: the CPUs)")
    ap.add_argument("--every-after", type=int, default=4, metavar="K",
                    help="also fail every call from N on, for every Kth N (default 4)")
    ap.add_argument("--only", help="scenarios whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    mc = os.path.abspath(a.mailconform)
    tmp = tempfile.mkdtemp(prefix="mc-torture-")
    problems = 0
    total_runs = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for sc in scenarios(mc, tmp):
            if a.only and a.only not in sc.name:
                continue
            base = run(mc, sc, 0)
            if base.calls is None or base.rc not in (0, 1):
                print("FAIL %s: the run without failure: exit %s, stderr:\n%s" % (sc.name, base.rc, base.err[-2000:]))
                problems += 1
                continue
            ns = picks(base.calls, min(a.max_runs, sc.max_runs or a.max_runs))
            # "N+": that call and every later one fails, so the paths that
            # report a failure must not need memory themselves
            ns += ["%d+" % n for n in ns[::a.every_after]]
            if sc.cmd in ("probe", "relay"):
                # its runs mostly wait on the network (the over-long-line
                # checks, closes): more at once than there are CPUs
                with concurrent.futures.ThreadPoolExecutor(max_workers=max(a.jobs, 8)) as wide:
                    results = list(wide.map(lambda n: (n, run(mc, sc, n)), ns))
            else:
                results = list(pool.map(lambda n: (n, run(mc, sc, n)), ns))
            total_runs += len(ns)
            bad = [(n, r, judge(sc, base, r)) for n, r in results]
            bad = [b for b in bad if b[2]]
            said = [r for _, r in results if r.failed and r.rc and "out of memory" in r.err + r.out]
            reported = len(said)
            absorbed = sum(1 for _, r in results if r.failed) - reported
            print("%-44s %5d calls, %4d runs: %4d reported out of memory, %4d absorbed, %d broke the rules"
                  % (sc.name, base.calls, len(ns), reported, absorbed, len(bad)))
            # one report per call site (and reason): the same site fails the
            # same way in every run that reaches it
            seen = set()
            for n, r, why in bad:
                problems += 1
                where = site(r.caller) if r.caller else "no call failed"
                if (where, why[:40]) in seen:
                    continue
                seen.add((where, why[:40]))
                print("  FAIL call %s, %s of %s: %s\n    reproduce: %s"
                      % (n, r.failed[1] if r.failed else "-", where, why, reproducer(mc, sc, n)))
                if r.rc == SAN_EXIT or r.rc is None or (r.rc or 0) < 0:
                    tail = "\n".join(r.err.strip().splitlines()[-12:])
                    print("    stderr:\n      " + tail.replace("\n", "\n      "))
    if not a.keep:
        subprocess.run(["rm", "-rf", tmp])
    print("torture: %d runs, %s" % (total_runs, "%d broke the rules" % problems if problems else "all kept the rules"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
