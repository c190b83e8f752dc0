#!/usr/bin/env python3
"""Golden tests: every transcript's findings, compared exactly.

usage: run_golden.py MAILCONFORM_BINARY DATA_DIR [--update]

For each DATA_DIR/X.mct (recursively, sorted) this runs
    mailconform check --format jsonl X.mct
turns each finding into one line
    <rule> line=<transcript line> offset=<offset>
in output order, and compares the lines with DATA_DIR/X.expected exactly
(an empty file: no finding). It also checks that

  * the exit status is 1 when some finding has severity "error" and 0
    otherwise (2, an input error, always fails),
  * nothing is written to stderr (input errors, sanitizer reports),
  * every .expected has its .mct.

--update rewrites each .expected from what the binary prints now and shows
what changed; review every changed line against the RFC before committing.

Prints a unified diff per mismatch and a closing line "N passed, M failed";
exits 1 on any mismatch, 2 on a usage error. Python 3 standard library only.
"""
import difflib
import json
import os
import subprocess
import sys

TIMEOUT = 120  # seconds per transcript (ASan builds are slow, hangs are bugs)


def usage(msg=None):
    if msg:
        print("run_golden.py: " + msg, file=sys.stderr)
    print("usage: run_golden.py MAILCONFORM_BINARY DATA_DIR [--update]", file=sys.stderr)
    sys.exit(2)


def find(data_dir, ext):
    out = []
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        for f in files:
            if f.endswith(ext):
                out.append(os.path.join(root, f))
    return sorted(out)


def run_check(binary, path):
    """Returns (finding lines, error-severity count, exit code, stderr, problems)."""
    problems = []
    try:
        p = subprocess.run([binary, "check", "--format", "jsonl", "--color", "never", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return [], 0, None, "", ["timed out after %d s" % TIMEOUT]
    lines, errors = [], 0
    for n, raw in enumerate(p.stdout.decode("utf-8", "replace").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            f = json.loads(raw)
        except ValueError as e:
            problems.append("stdout line %d is not JSON (%s): %r" % (n, e, raw[:200]))
            continue
        for key in ("rule", "severity", "offset"):
            if key not in f:
                problems.append("stdout line %d has no %r field: %r" % (n, key, raw[:200]))
        if f.get("severity") == "error":
            errors += 1
        line = f.get("line")
        lines.append("%s line=%s offset=%s" % (f.get("rule"), "?" if line is None else line,
                                                f.get("offset")))
    return lines, errors, p.returncode, p.stderr.decode("utf-8", "replace"), problems


def report(name, problems):
    print("FAIL %s" % name)
    for pr in problems:
        for line in pr.splitlines():
            print("  " + line)


def read_expected(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return [l.rstrip("\r\n") for l in fh if l.strip()]
    except FileNotFoundError:
        return None


def main(argv):
    args = [a for a in argv[1:] if a != "--update"]
    update = len(args) != len(argv) - 1
    if len(args) != 2:
        usage()
    binary, data_dir = args
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        usage("not an executable: " + binary)
    if not os.path.isdir(data_dir):
        usage("not a directory: " + data_dir)

    transcripts = find(data_dir, ".mct")
    if not transcripts:
        usage("no .mct files under " + data_dir)
    passed = failed = 0

    for exp in find(data_dir, ".expected"):
        if not os.path.exists(exp[:-len(".expected")] + ".mct"):
            print("FAIL %s: no transcript %s beside it"
                  % (os.path.relpath(exp, data_dir), os.path.basename(exp)[:-len(".expected")] + ".mct"))
            failed += 1

    for mct in transcripts:
        name = os.path.relpath(mct, data_dir)
        exp_path = mct[:-len(".mct")] + ".expected"
        got, errors, rc, err, problems = run_check(binary, mct)
        want_rc = 1 if errors else 0

        if rc is not None and rc not in (0, 1, 2):
            problems.append("mailconform crashed or was killed (exit status %d)" % rc)
        elif rc == 2:
            problems.append("exit status 2: input error")
        elif rc is not None and rc != want_rc:
            problems.append("exit status %d, expected %d (%d error-severity finding%s)"
                            % (rc, want_rc, errors, "" if errors == 1 else "s"))
        if err.strip():
            problems.append("stderr is not empty:\n" + "\n".join("  " + l for l in err.strip().splitlines()[:40]))

        if update:
            old = read_expected(exp_path)
            if old != got:
                with open(exp_path, "w", encoding="utf-8") as fh:
                    fh.write("".join(l + "\n" for l in got))
                print("UPDATED %s" % name)
                for d in difflib.unified_diff(old or [], got, exp_path, "now", lineterm="", n=0):
                    print("    " + d)
            if problems:
                report(name, problems)
                failed += 1
            else:
                passed += 1
            continue

        want = read_expected(exp_path)
        if want is None:
            problems.append("no %s (run with --update, then review it)" % os.path.basename(exp_path))
        elif want != got:
            diff = difflib.unified_diff(want, got, "expected", "actual", lineterm="")
            problems.append("findings differ from %s:\n" % os.path.basename(exp_path)
                            + "\n".join("  " + d for d in diff))
        if problems:
            report(name, problems)
            failed += 1
        else:
            passed += 1

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
