#!/usr/bin/env python3
"""Executions per second of every fuzz target under libFuzzer with ASan+UBSan.

  bench/fuzz_speed.py --build-dir build/fuzz                 # 10 s per target
  bench/fuzz_speed.py --build-dir build/fuzz --seconds 20 pop3_resp smtp_cmd
  bench/fuzz_speed.py --build-dir build/fuzz --profile      # + where the time goes (perf)
  bench/fuzz_speed.py --build-dir /tmp/old --build-dir build/fuzz --rounds 2
                                                            # two builds, alternating

Each target runs alone on one core (one process, no -fork), one after the
other, from a copy of its committed corpus with -max_len set by --max-len
(default p90: the 90th percentile of the target's seed sizes, capped by the
target's own max_len), so the inputs stay seed-sized instead of growing
through the run: libFuzzer cuts every seed longer than -max_len to
-max_len and never makes a longer input. "p90" measures the sizes the
corpus is made of without letting its few largest files (whole recorded
sessions, up to 200 KiB for imap_resp) set the size of every mutation;
"max" (the largest seed) was the setting of the first measurement, "p50"
the median seed, a number a fixed size. The size used is printed. The
percentiles are taken over the whole committed corpus (the seeds
fuzz/make_seeds.py writes and the campaigns' finds in found/), or with
--written-seeds over the written seeds alone (the top level of
corpus/<target>/); "median seed" in the output is the same set's median.
The figure is libFuzzer's stat::average_exec_per_sec. "seed replay" runs
the committed corpus itself (no mutation, no engine) through the replay
driver of the same build, repeated for about a quarter of --seconds: the
cost of the harness and the code under test on exactly the seeds.

Several --build-dir: every target runs under each build in turn, --rounds
times, so two builds are compared under the same load (the machine is
shared); one column per build and round.

With --profile the run is sampled with `perf record -g` and every sample is
charged to the first frame that is project code (instrumentation callbacks
such as __sanitizer_cov_trace_cmp8 and ASan checks count for the function
that called them):

  parser     parsers/**            the code the fuzzer is meant to test
  validator  validator/**          sessions, rules, capture, transcript
  harness    fuzz/**               oracles: the second (cut) run's bookkeeping,
                                   logs, comparisons, round-trip printers
  engine     libFuzzer, sanitizer runtimes, libc (mutation, malloc, memcmp)

The machine is shared: compare targets within one run, and state the load
(printed at the start and the end). The goal of issue 8 is >= 50,000
execs/s per parser target on one core.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz"))
import fuzzlib  # noqa: E402

GOAL = 50000
PARSER_TARGETS = {"pop3_resp", "pop3_cmd", "smtp_reply", "smtp_cmd", "imap_resp", "imap_cmd"}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def symbol_files(binary):
    """function name -> source file, from the binary's debug info."""
    out = subprocess.run(["nm", "-l", "--defined-only", binary], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode("utf-8", "replace")
    files = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1] in "tTwW":
            files[parts[2]] = parts[3].rsplit(":", 1)[0]
    return files


def classify(path):
    root = fuzzlib.ROOT + "/"
    if path.startswith(root):
        rel = path[len(root):]
        for top in ("parsers", "validator", "fuzz"):
            if rel.startswith(top + "/"):
                return {"fuzz": "harness", "parsers": "parser"}.get(top, top)
    return None


def profile(binary, cmd, workdir):
    """Shares of samples per class (see the module comment)."""
    data = os.path.join(workdir, "perf.data")
    r = subprocess.run(["perf", "record", "-q", "-F", "499", "-g", "-o", data, "--"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
    if r.returncode != 0 or not os.path.exists(data):
        return None
    files = symbol_files(binary)
    script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=workdir)
    counts = {"parser": 0, "validator": 0, "harness": 0, "engine": 0}
    frames = []

    def charge():
        cls = "engine"
        for sym in frames:
            c = classify(files.get(sym, ""))
            if c:
                cls = c
                break
            # engine entry points: libFuzzer's own code, not instrumentation
            if sym.startswith("fuzzer::"):
                break
        counts[cls] += 1

    for line in script.stdout.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            if frames:
                charge()
            frames = []
            continue
        m = re.match(r"^[0-9a-f]+\s+(\S+)", line)
        sym = m.group(1) if m else line.split()[0]
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        frames.append(sym)
    if frames:
        charge()
    total = sum(counts.values()) or 1
    return {k: 100.0 * v / total for k, v in counts.items()}


def replay_rate(build_dir, stem, seeds, seconds):
    """Seeds per second through the engine-free replay driver of the same
    build (ASan+UBSan, coverage callbacks but no libFuzzer behind them): the
    committed seeds exactly as they are, no mutation, no engine. None when
    the driver is missing."""
    binary = os.path.join(build_dir, "replay_fuzz_" + stem)
    if not os.access(binary, os.X_OK) or not seeds:
        return None
    corpus = os.path.join(fuzzlib.CORPUS_DIR, stem)
    reps, elapsed = 1, 0.0
    while True:
        t0 = time.time()
        r = subprocess.run([binary] + [corpus] * reps, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        elapsed = time.time() - t0
        if r.returncode != 0:
            return None
        if elapsed >= seconds / 4 or reps >= 4096:
            break
        reps *= 4
    m = re.search(r"replayed (\d+) inputs", r.stdout.decode())
    return int(int(m.group(1)) / elapsed) if m else None


def pick_max_len(policy, sizes, cap):
    """-max_len for seeds of these sizes (sorted) under --max-len policy."""
    if policy == "max":
        n = sizes[-1]
    elif policy in ("p90", "p50"):
        q = 0.9 if policy == "p90" else 0.5
        n = sizes[min(len(sizes) - 1, int(q * len(sizes)))]
    else:
        n = int(policy)
    return max(1, min(n, cap))


def fuzz_rate(binary, stem, seeds, max_len, seconds, want_profile):
    """(execs/s, exit status, profile shares or None) of one libFuzzer run."""
    work = tempfile.mkdtemp(prefix="mc-fuzz-speed.")
    try:
        corpus = os.path.join(work, "corpus")
        fuzzlib.copy_unique(seeds, corpus)
        cmd = [binary, "-max_len=%d" % max_len, "-max_total_time=%d" % seconds,
               "-print_final_stats=1", "-rss_limit_mb=2048", "-timeout=10",
               "-artifact_prefix=%s/" % work]
        d = fuzzlib.dict_path(stem)
        if d:
            cmd.append("-dict=" + d)
        r = subprocess.run(cmd + [corpus], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work)
        out = r.stdout.decode("utf-8", "replace")
        m = re.search(r"stat::average_exec_per_sec:\s*(\d+)", out)
        eps = int(m.group(1)) if m else 0
        if r.returncode != 0:
            sys.stderr.write(out[-3000:])
        prof = None
        if want_profile:
            shutil.rmtree(corpus)
            fuzzlib.copy_unique(seeds, corpus)
            prof = profile(binary, cmd + [corpus], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return eps, r.returncode, prof


def main():
    ap = argparse.ArgumentParser(prog="bench/fuzz_speed.py", description=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="*", metavar="TARGET")
    ap.add_argument("--build-dir", action="append", default=None,
                    help="libFuzzer build of preset fuzz (default build/fuzz); repeat to compare builds")
    ap.add_argument("--seconds", type=int, default=10, help="per target and build (default 10)")
    ap.add_argument("--rounds", type=int, default=1, help="runs per target and build, alternating (default 1)")
    ap.add_argument("--max-len", default="p90",
                    help="max|p90|p50|N: -max_len from the seed sizes or a number (default p90)")
    ap.add_argument("--written-seeds", action="store_true",
                    help="take the p90/p50 of --max-len over the seeds fuzz/make_seeds.py writes (the top "
                         "level of corpus/<target>/) instead of the whole committed corpus (found/ too)")
    ap.add_argument("--no-replay", action="store_true", help="skip the seed replay figure")
    ap.add_argument("--profile", action="store_true", help="also sample with perf (a second run)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args()
    if args.max_len not in ("max", "p90", "p50") and not args.max_len.isdigit():
        fuzzlib.die("--max-len: max, p90, p50 or a number")
    # absolute: the runs start in a scratch directory
    builds = [os.path.abspath(b) for b in args.build_dir or []] or [os.path.join(fuzzlib.ROOT, "build", "fuzz")]

    stems = args.targets or fuzzlib.targets()
    rows = []
    ok = True
    print("load average at start: %s" % loadavg(), flush=True)
    print("-max_len policy: %s%s; builds: %s" % (args.max_len, " of the written seeds" if args.written_seeds else "",
                                               " ".join(builds)), flush=True)
    for stem in stems:
        for b in builds:
            binary = os.path.join(b, "fuzz_" + stem)
            if not os.access(binary, os.X_OK):
                fuzzlib.die("%s missing (cmake --preset fuzz -B %s && cmake --build %s)" % (binary, b, b))
        seeds, regress = fuzzlib.corpus_files(stem)
        sized = [p for p in seeds if os.path.dirname(p) == os.path.join(fuzzlib.CORPUS_DIR, stem)] \
            if args.written_seeds else seeds
        sizes = sorted(os.path.getsize(p) for p in sized) or [1]
        max_len = pick_max_len(args.max_len, sizes, fuzzlib.max_len(stem))
        eps = []  # per round, per build
        prof = None
        for rnd in range(args.rounds):
            for b in builds:
                want = args.profile and rnd == 0 and b == builds[-1]
                e, rc, p = fuzz_rate(os.path.join(b, "fuzz_" + stem), stem, seeds, max_len, args.seconds, want)
                eps.append(e)
                ok = ok and rc == 0
                if p:
                    prof = p
        replay = None if args.no_replay else replay_rate(builds[-1], stem, seeds, args.seconds)
        best = [max(eps[i::len(builds)]) for i in range(len(builds))]
        row = dict(target=stem, eps=eps, replay=replay, median=sizes[len(sizes) // 2], max_len=max_len,
                   goal=("yes" if best[-1] >= GOAL else "NO") if stem in PARSER_TARGETS else "-", prof=prof)
        rows.append(row)
        line = "%-14s %s execs/s  seed replay %8s/s  median seed %5d octets  max_len %5d  goal %s" % (
            stem, " / ".join("%6d" % e for e in eps), replay if replay is not None else "?", row["median"],
            max_len, row["goal"])
        if prof:
            line += "  parser %4.1f%% validator %4.1f%% harness %4.1f%% engine %4.1f%%" % (
                prof["parser"], prof["validator"], prof["harness"], prof["engine"])
        print(line, flush=True)
    print("load average at end: %s" % loadavg())
    if args.markdown:
        cols = ["execs/s %s r%d" % (os.path.basename(b.rstrip("/")), r + 1)
                for r in range(args.rounds) for b in builds]
        if len(cols) == 1:
            cols = ["execs/s (libFuzzer)"]
        hdr = "| target | %s | seed replay/s | median seed (octets) | max_len | >= 50k (parser targets) |" % " | ".join(cols)
        sep = "|---|%s---:|---:|---:|---|" % ("---:|" * len(cols))
        if args.profile:
            hdr += " parser % | validator % | harness % | engine % |"
            sep += "---:|---:|---:|---:|"
        print(hdr)
        print(sep)
        for r in rows:
            line = "| %s | %s | %s | %d | %d | %s |" % (
                r["target"], " | ".join("{:,}".format(e) for e in r["eps"]),
                r["replay"] if r["replay"] is not None else "?", r["median"], r["max_len"], r["goal"])
            if r["prof"]:
                line += " %.1f | %.1f | %.1f | %.1f |" % (r["prof"]["parser"], r["prof"]["validator"],
                                                        r["prof"]["harness"], r["prof"]["engine"])
            elif args.profile:
                line += " ? | ? | ? | ? |"
            print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
