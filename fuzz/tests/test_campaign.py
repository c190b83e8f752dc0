#!/usr/bin/env python3
"""Test of fuzz/campaign on a toy target with planted bugs (toy_harness.c).

Builds the toy with clang-14 -fsanitize=fuzzer,address,undefined in a
temporary tree (fuzz/toy.cmake registers it, corpus/toy/ holds a seed and a
passing regression input), points the campaign at that tree with
MC_FUZZ_ROOT, and checks that a short campaign:
  - exits 1 and files exactly one minimised reproducer per planted bug
    (oracle failure, heap overflow, timeout) in corpus/toy/regress/, each of
    which makes the replay driver (the corpus ctest) fail,
  - leaves the seed and the old regression input alone,
  - adds new inputs to corpus/toy/found/ and prints the summary table;
that a second campaign resumes from the work corpus, knows the open bugs
(files nothing new) and exits 0; and, when AFL++ is installed, that an
AFL++ campaign (main + secondary) files the oracle failure and the heap
overflow that only the sanitizer build sees (afl_phase).
Usage: fuzz/tests/test_campaign.py   (needs clang-14 with libclang-rt-14-dev)
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CAMPAIGN = os.path.join(ROOT, "fuzz", "campaign")


def fail(msg, out=""):
    sys.stdout.write(out)
    print("test_campaign: FAIL: " + msg)
    sys.exit(1)


def campaign(tree, secs, engine="libfuzzer", jobs=1, extra=()):
    env = dict(os.environ, MC_FUZZ_ROOT=tree)
    p = subprocess.run([sys.executable, CAMPAIGN, "toy", "--time", str(secs), "--jobs", str(jobs)] + list(extra) + [
                        "--engine", engine, "--afl-build-dir", os.path.join(tree, "afl"),
                        "--timeout", "2", "--minimise-time", "5", "--progress", "5", "--no-build",
                        "--build-dir", os.path.join(tree, "build"),
                        "--work-dir", os.path.join(tree, "work")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=secs + 240)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def afl_phase():
    """AFL++ (afl-clang-lto, no sanitizer) with a main and a secondary: the
    oracle failure and the hang are AFL crashes and hangs; the heap overflow
    does not crash the AFL build, so its input sits in the queue and the
    ASan+UBSan screening of the queue must catch and file it."""
    tree = tempfile.mkdtemp(prefix="mc-test-campaign-afl.")
    try:
        make_tree(tree)
        os.makedirs(os.path.join(tree, "afl"))
        subprocess.check_call(["afl-clang-lto", "-fsanitize=fuzzer", os.path.join(HERE, "toy_harness.c"),
                               "-o", os.path.join(tree, "afl", "fuzz_toy")],
                              env=dict(os.environ, AFL_QUIET="1"))
        rc, out = campaign(tree, 35, engine="afl", jobs=2)
        regress = os.path.join(tree, "corpus", "toy", "regress")
        kinds = sorted(n.rsplit("-", 1)[0] for n in os.listdir(regress) if n != "old-fixed")
        if rc != 1 or "asan-heap-buffer-overflow" not in kinds or "oracle" not in kinds:
            fail("AFL++ campaign exited %d and filed %s; expected the oracle failure and the "
                 "ASan-only overflow" % (rc, kinds), out)
        print(out)
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def make_tree(tree):
    os.makedirs(os.path.join(tree, "fuzz"))
    os.makedirs(os.path.join(tree, "corpus", "toy", "regress"))
    os.makedirs(os.path.join(tree, "build"))
    with open(os.path.join(tree, "fuzz", "toy.cmake"), "w") as f:
        f.write("# a toy registration, found like fuzz/tls.cmake's\n"
                "mc_fuzz_target(fuzz_toy toy_harness.c)\n")
    with open(os.path.join(tree, "fuzz", "fuzz_toy.options"), "w") as f:
        f.write("[libfuzzer]\ndict = toy.dict\nmax_len = 64\n")
    with open(os.path.join(tree, "fuzz", "toy.dict"), "w") as f:
        f.write('"BUGA"\n"BUGB"\n"HANG"\n')
    with open(os.path.join(tree, "corpus", "toy", "seed-hello"), "wb") as f:
        f.write(b"hello BUG")
    with open(os.path.join(tree, "corpus", "toy", "regress", "old-fixed"), "wb") as f:
        f.write(b"BUG fixed long ago")
    subprocess.check_call(["clang-14", "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
                           os.path.join(HERE, "toy_harness.c"), "-o",
                           os.path.join(tree, "build", "fuzz_toy")])


def main():
    libfuzzer_phase()
    if shutil.which("afl-clang-lto") and shutil.which("afl-fuzz"):
        afl_phase()
    else:
        print("test_campaign: AFL++ not installed, AFL++ phase skipped")
    print("test_campaign: ok")


def check_reports(reports, kinds, out):
    """--json and --junit say what the table says: the filed crashes."""
    import json
    import xml.etree.ElementTree as ET
    with open(reports[0]) as f:
        doc = json.load(f)
    t = doc["targets"]
    if len(t) != 1 or t[0]["target"] != "toy" or sorted(c["kind"] for c in t[0]["filed"]) != kinds:
        fail("--json does not list the filed crashes: %s" % doc, out)
    xsd = os.path.join(ROOT, "tests", "report", "junit.xsd")
    if shutil.which("xmllint"):
        p = subprocess.run(["xmllint", "--noout", "--schema", xsd, reports[1]],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            fail("--junit does not validate against %s: %s" % (xsd, p.stdout.decode()), out)
    root = ET.parse(reports[1]).getroot()
    failures = sorted(f.get("type") for f in root.iter("failure"))
    suite = root.find("testsuite")
    if failures != kinds or suite.get("tests") != "1" or suite.get("failures") != "1":
        fail("--junit: failures %s, suite %s" % (failures, suite.attrib), out)


def libfuzzer_phase():
    tree = tempfile.mkdtemp(prefix="mc-test-campaign.")
    try:
        make_tree(tree)
        reports = [os.path.join(tree, "summary.json"), os.path.join(tree, "summary.xml")]
        # 50 s: the planted hang costs seconds per hit; with 30 s a loaded
        # machine once ran too few executions to reach all three bugs
        rc, out = campaign(tree, 50, extra=["--json", reports[0], "--junit", reports[1]])
        regress = os.path.join(tree, "corpus", "toy", "regress")
        names = sorted(os.listdir(regress))
        if rc != 1:
            fail("first campaign exited %d, expected 1 (new crashes)" % rc, out)
        kinds = sorted(n.rsplit("-", 1)[0] for n in names if n != "old-fixed")
        if kinds != ["asan-heap-buffer-overflow", "oracle", "timeout"]:
            fail("filed %s, expected one oracle, one heap overflow, one timeout" % names, out)
        check_reports(reports, kinds, out)
        for n in names:
            if n.startswith("oracle-") or n.startswith("asan-"):
                size = os.path.getsize(os.path.join(regress, n))
                if size != 4:
                    fail("%s is %d octets, expected the minimised 4" % (n, size), out)
        # each filed input fails the corpus regression test (what ctest
        # corpus_<stem> runs: the replay driver, gcc ASan+UBSan)
        replay = os.path.join(tree, "build", "replay_fuzz_toy")
        subprocess.check_call(["gcc", "-std=c11", "-g", "-fsanitize=address,undefined",
                               "-fno-sanitize-recover=undefined", os.path.join(HERE, "toy_harness.c"),
                               os.path.join(ROOT, "fuzz", "replay_main.c"), "-o", replay])
        for n in names:
            r = subprocess.run([replay, os.path.join(regress, n)], env=dict(os.environ, REPLAY_TIMEOUT="3"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            want_ok = n == "old-fixed"
            if (r.returncode == 0) != want_ok:
                fail("replay of regress/%s exited %d" % (n, r.returncode), r.stdout.decode("utf-8", "replace"))
        if not os.path.exists(os.path.join(tree, "corpus", "toy", "seed-hello")):
            fail("the seed was deleted", out)
        if not os.path.isdir(os.path.join(tree, "corpus", "toy", "found")) or \
                not os.listdir(os.path.join(tree, "corpus", "toy", "found")):
            fail("no new inputs in corpus/toy/found/", out)
        if "unique crashes" not in out or "3 new/3" not in out:
            fail("no summary table with 3 new crashes", out)
        print(out)

        rc, out = campaign(tree, 12)
        if rc != 0:
            fail("second campaign exited %d, expected 0 (only known crashes)" % rc, out)
        if sorted(os.listdir(regress)) != names:
            fail("second campaign filed again: %s" % sorted(os.listdir(regress)), out)
        if "3 regression input(s) still fail" not in out:
            fail("second campaign did not report the open regression inputs", out)
        print(out)
    finally:
        shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    main()
