#!/usr/bin/env python3
"""Rule-coverage gate: every rule is triggered, no conformant sample is blamed.

usage: rule_coverage.py MAILCONFORM_BINARY DATA_DIR [SAMPLES_DIR...]

The catalogue comes from `mailconform rules --format json` (an array of
objects with "id"). The gate fails unless

  * positive: every rule id appears in at least one DATA_DIR/**/*.expected
    file (the golden test, run_golden.py, checks that each .expected is what
    the binary really prints), or, for rules only a capture can trigger (TLS
    records), in CAPTURE_TRIGGERED of tests/capture/capture_cases.py (its
    cases assert each of them is reported, and it fails if one never is);
    no .expected names a rule the catalogue does not have (a renamed or
    removed rule);
  * negative: every DATA_DIR/**/ok-*.mct, and every *.mct under each
    SAMPLES_DIR (real recordings; a missing or empty directory is fine),
    yields no finding at all and exit status 0 from
    `mailconform check --format jsonl`.

Prints each uncovered rule and each blamed sample, and a closing line
"N passed, M failed" (one check per rule, one per negative transcript);
exits 1 if anything failed, 2 on a usage error. Python 3 standard library
only.
"""
import ast
import json
import os
import subprocess
import sys

TIMEOUT = 120  # seconds per transcript
CAPTURE_CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "capture",
                             "capture_cases.py")


def capture_triggered(path=CAPTURE_CASES):
    """Rule ids capture_cases.py lists (and asserts) as triggered by a capture."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CAPTURE_TRIGGERED"
                                                 for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def usage(msg=None):
    if msg:
        print("rule_coverage.py: " + msg, file=sys.stderr)
    print("usage: rule_coverage.py MAILCONFORM_BINARY DATA_DIR [SAMPLES_DIR...]", file=sys.stderr)
    sys.exit(2)


def walk(top, pred):
    out = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        out.extend(os.path.join(root, f) for f in files if pred(f))
    return sorted(out)


def catalogue(binary):
    try:
        p = subprocess.run([binary, "rules", "--format", "json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        usage("cannot run %s rules: %s" % (binary, e))
    if p.returncode != 0:
        usage("%s rules --format json failed (exit %d): %s"
              % (binary, p.returncode, p.stderr.decode("utf-8", "replace").strip()))
    try:
        rules = json.loads(p.stdout.decode("utf-8"))
        ids = [r["id"] for r in rules]
    except (ValueError, TypeError, KeyError) as e:
        usage("rules --format json is not an array of objects with \"id\": %s" % e)
    if not ids:
        usage("the rule catalogue is empty")
    return ids


def covered_rules(data_dir):
    """Maps rule id -> sorted list of .expected files naming it."""
    seen = {}
    for exp in walk(data_dir, lambda f: f.endswith(".expected")):
        with open(exp, encoding="utf-8") as fh:
            for line in fh:
                words = line.split()
                if words:
                    seen.setdefault(words[0], set()).add(os.path.relpath(exp, data_dir))
    return {k: sorted(v) for k, v in seen.items()}


def findings_of(binary, path):
    """Returns (list of 'rule line=L offset=O', exit status or None, stderr)."""
    try:
        p = subprocess.run([binary, "check", "--format", "jsonl", "--color", "never", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return ["(timed out after %d s)" % TIMEOUT], None, ""
    out = []
    for raw in p.stdout.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            continue
        try:
            f = json.loads(raw)
            out.append("%s line=%s offset=%s" % (f.get("rule"), f.get("line", "?"), f.get("offset")))
        except ValueError:
            out.append("(not JSON) " + raw[:200])
    return out, p.returncode, p.stderr.decode("utf-8", "replace")


def main(argv):
    if len(argv) < 3:
        usage()
    binary, data_dir, sample_dirs = argv[1], argv[2], argv[3:]
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        usage("not an executable: " + binary)
    if not os.path.isdir(data_dir):
        usage("not a directory: " + data_dir)

    passed = failed = 0
    ids = catalogue(binary)
    known = set(ids)

    # positive: each rule is triggered by some golden transcript
    seen = covered_rules(data_dir)
    for rid in capture_triggered():
        seen.setdefault(rid, []).append(os.path.relpath(CAPTURE_CASES, data_dir))
    uncovered = []
    for rid in ids:
        if rid in seen:
            passed += 1
        else:
            uncovered.append(rid)
            failed += 1
    if uncovered:
        print("uncovered rules (no .expected under %s names them):" % data_dir)
        for rid in uncovered:
            name = rid.lower().replace(".", "-").replace("_", "-") + ".mct"
            print("  %s    (add %s)" % (rid, name))
    for rid in sorted(set(seen) - known):
        print("FAIL unknown rule %s in %s (not in the catalogue)" % (rid, ", ".join(seen[rid])))
        failed += 1

    # negative: conformant transcripts and real samples yield nothing
    negatives = walk(data_dir, lambda f: f.startswith("ok-") and f.endswith(".mct"))
    n_samples = 0
    for d in sample_dirs:
        if not os.path.isdir(d):
            print("note: samples directory %s does not exist; skipped" % d)
            continue
        found = walk(d, lambda f: f.endswith(".mct"))
        if not found:
            print("note: no .mct under %s" % d)
        n_samples += len(found)
        negatives.extend(found)
    if not negatives:
        print("FAIL no conformant transcript (ok-*.mct) under %s" % data_dir)
        failed += 1
    for path in negatives:
        got, rc, err = findings_of(binary, path)
        problems = []
        if got:
            problems.append("%d finding%s:" % (len(got), "" if len(got) == 1 else "s"))
            problems.extend("    " + g for g in got)
        if rc != 0:
            problems.append("exit status %s, expected 0" % rc)
        if err.strip():
            problems.append("stderr: " + err.strip().splitlines()[0][:300])
        if problems:
            print("FAIL %s must yield no finding" % path)
            for pr in problems:
                print("  " + pr)
            failed += 1
        else:
            passed += 1

    print("%d of %d rules covered; %d conformant transcripts checked (%d samples)"
          % (len(ids) - len(uncovered), len(ids), len(negatives), n_samples))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
