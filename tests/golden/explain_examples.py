#!/usr/bin/env python3
"""Checks the rule explanations in validator/rules/explain/*.txt.

usage: explain_examples.py MAILCONFORM_BINARY EXPLAIN_DIR [RULE_ID...]

Each file holds entries of this shape (see validator/rules/explain/README.md):

    == POP3.STATUS.CASE
    Why the rule matters: one short paragraph of plain text.
    -- bad
    <transcript records (docs/transcript.md) of a session that breaks it>
    -- good
    <transcript records of the same exchange done right>

The check fails unless, for every rule of `mailconform rules --format json`
(or only the RULE_IDs given):
  * there is exactly one entry, and no entry names an unknown rule;
  * the paragraph says something (at least 40 characters);
  * the bad example makes `mailconform check` report that rule, without any
    input error (exit status 0 or 1);
  * the good example yields no finding at all and exit status 0;
  * each example has at most 30 records, so that `explain` stays readable.
A bad part whose first line starts with "# capture only" is for a rule
only a capture can trigger (TLS records; validator/rules/explain/README.md):
it is not run; instead the rule must be in CAPTURE_TRIGGERED of
tests/capture/capture_cases.py, whose cases assert that each of those rules
is reported.
Prints one line per failure and a closing "N passed, M failed" line; exit 1
on failure, 2 on usage error. Python 3 standard library only.
"""
import ast
import glob
import json
import os
import subprocess
import sys
import tempfile

MAX_RECORDS = 30
CAPTURE_CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "capture",
                             "capture_cases.py")
CAPTURE_ONLY = "# capture only"


def capture_triggered(path=CAPTURE_CASES):
    """The rule ids capture_cases.py lists (and asserts) as triggered."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CAPTURE_TRIGGERED"
                                                 for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def parse(path, entries, errors):
    cur = None
    part = None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("== "):
                cur = {"id": line[3:].strip(), "why": [], "bad": [], "good": [],
                       "where": "%s:%d" % (path, n)}
                part = "why"
                entries.append(cur)
            elif cur is None:
                if line.strip() and not line.startswith("#"):
                    errors.append("%s:%d: text before the first '== RULE' line" % (path, n))
            elif line in ("-- bad", "-- good"):
                part = line[3:]
                if cur[part]:
                    errors.append("%s:%d: second '%s' in %s" % (path, n, line, cur["id"]))
                cur[part + "_seen"] = True
            else:
                cur[part].append(line)


def records(lines):
    return [l for l in lines if l.strip() and not l.startswith("#")]


def run_check(binary, lines):
    with tempfile.NamedTemporaryFile("w", suffix=".mct", delete=False) as t:
        t.write("\n".join(lines) + "\n")
        name = t.name
    try:
        p = subprocess.run([binary, "check", "--format", "jsonl", name],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.unlink(name)
    rules = []
    for l in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            o = json.loads(l)
        except ValueError:
            continue
        if "rule" in o:
            rules.append(o["rule"])
    return p.returncode, rules, p.stderr.decode("utf-8", "replace").strip()


def main():
    if len(sys.argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    binary, top = sys.argv[1], sys.argv[2]
    only = set(sys.argv[3:])
    p = subprocess.run([binary, "rules", "--format", "json"], stdout=subprocess.PIPE, check=True)
    catalogue = [r["id"] for r in json.loads(p.stdout.decode("utf-8"))]
    entries, errors = [], []
    for path in sorted(glob.glob(os.path.join(top, "*.txt"))):
        parse(path, entries, errors)
    by_id = {}
    for e in entries:
        if e["id"] in by_id:
            errors.append("%s: second entry for %s (first at %s)" % (e["where"], e["id"], by_id[e["id"]]["where"]))
        by_id.setdefault(e["id"], e)
        if e["id"] not in catalogue:
            errors.append("%s: %s is not in the catalogue" % (e["where"], e["id"]))
    passed = 0
    by_capture = capture_triggered()
    for rid in catalogue:
        if only and rid not in only:
            continue
        e = by_id.get(rid)
        bad = []
        if e is None:
            errors.append("%s: no entry" % rid)
            continue
        why = " ".join(l.strip() for l in e["why"] if not l.startswith("#")).strip()
        if len(why) < 40:
            bad.append("the paragraph says too little")
        for part in ("bad", "good"):
            if not e.get(part + "_seen"):
                bad.append("no '-- %s' part" % part)
            elif len(records(e[part])) > MAX_RECORDS:
                bad.append("the %s example has more than %d records" % (part, MAX_RECORDS))
        capture_only = bool(e["bad"]) and e["bad"][0].startswith(CAPTURE_ONLY)
        if capture_only:
            if rid not in by_capture:
                bad.append("bad example is capture only, but %s is not in CAPTURE_TRIGGERED of %s"
                           % (rid, os.path.normpath(CAPTURE_CASES)))
        elif e.get("bad_seen"):
            rc, found, err = run_check(binary, e["bad"])
            if rc not in (0, 1):
                bad.append("bad example: exit %d (%s)" % (rc, err))
            if rid not in found:
                bad.append("bad example does not report %s (reports: %s)" % (rid, ", ".join(found) or "nothing"))
        if e.get("good_seen"):
            rc, found, err = run_check(binary, e["good"])
            if rc != 0 or found:
                bad.append("good example is not silent: exit %d, %s %s" % (rc, ", ".join(found), err))
        if bad:
            errors.extend("%s (%s): %s" % (rid, e["where"], b) for b in bad)
        else:
            passed += 1
    for m in errors:
        print("FAIL " + m)
    print("%d passed, %d failed" % (passed, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
