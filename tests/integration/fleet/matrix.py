#!/usr/bin/env python3
"""The compatibility matrix of the fleet (issue 7): turns the JSON of
`mailconform probe --format json` into one line per cell, compares those
lines with tests/integration/probe_matrix.expected, and prints the matrix
(modes as rows, servers as columns) as text or Markdown.

A cell line reads

    SERVER  MODE  VERDICT  [RULE ...]

VERDICT is one of the probe's verdicts ("works", "works with warnings",
"non-conformant", "not offered", "failed"; a failed cell's reason is shown but
not compared, it names timeouts and addresses). RULE are the ids of the
server's findings in that cell, sorted and unique, so a new or vanished
finding changes the line as much as a new verdict does.

usage:
  matrix.py lines SERVER PROBE.json          cell lines of one probe run
  matrix.py compare EXPECTED ACTUAL          exit 1 on any difference (unified
                                             diff), or on a finding in EXPECTED
                                             that its comments do not document
  matrix.py table [--md] LINES [SERVER=VERSION ...]
                                             the matrix; columns in the order
                                             of the SERVER=VERSION arguments
  matrix.py details [--brief] SERVER PROBE.json
                                             per-cell findings and failure
                                             reasons (--brief: without the
                                             excerpts, which may hold a host
                                             name or a time: for the docs)
  matrix.py clients [--md] RESULTS SERVER[=HEADER]...
                                             the real clients through the relay:
                                             RESULTS lines CASE, SERVER, STATUS,
                                             the relay's JSONL (tab-separated)
  matrix.py tls [--md] SERVER PROBE.json     the TLS each TLS cell negotiated;
                                             exit 1 if one was not verified
  matrix.py canonical LINES                  the cell lines sorted by server, then mode
  matrix.py documented EXPECTED              the "Documented findings" comment
                                             block of EXPECTED, uncommented
"""
import difflib
import json
import re
import sys

MODES = ["POP3-Plain", "POP3-SSL", "POP3-TLS", "IMAP4-Plain", "IMAP4-SSL", "IMAP4-TLS",
         "SMTP-Plain", "SMTP-SSL", "SMTP-SUBMISSION-TLS", "SMTP-SUBMISSION-SSL", "SMTP-TLS"]
VERDICTS = ["works", "works with warnings", "non-conformant", "not offered", "failed"]
RULE_ID = re.compile(r"^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$")


def load_cells(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list):
        sys.exit(f"{path}: no \"cells\" array")
    return cells


def verdict_of(cell):
    """The verdict word of a cell: "failed: REASON" counts as "failed"."""
    v = str(cell.get("verdict", ""))
    return "failed" if v.startswith("failed") else v


def findings_of(cell):
    """The finding objects of a cell: "details" (with "findings" their
    count), or "findings" itself when that is the list."""
    for key in ("details", "findings"):
        if isinstance(cell.get(key), list):
            return [f for f in cell[key] if isinstance(f, dict)]
    return []


def rules_of(cell):
    findings = findings_of(cell)
    return sorted({str(f.get("rule")) for f in findings if f.get("rule")})


def mode_key(mode):
    return MODES.index(mode) if mode in MODES else len(MODES)


def cell_lines(server, cells):
    out = []
    for c in sorted(cells, key=lambda c: mode_key(str(c.get("mode")))):
        words = [server, str(c.get("mode")), verdict_of(c)] + rules_of(c)
        out.append(" ".join(words))
    return out


def parse_line(line):
    """(server, mode, verdict, rules) of a cell line; None for comments/blank."""
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    words = line.split()
    if len(words) < 3:
        raise ValueError(f"not SERVER MODE VERDICT [RULE...]: {line!r}")
    server, mode, rest = words[0], words[1], words[2:]
    verdict = []
    while rest and not RULE_ID.match(rest[0]):
        verdict.append(rest.pop(0))
    verdict = " ".join(verdict)
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r} in: {line!r}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} in: {line!r}")
    return server, mode, verdict, sorted(set(rest))


def read_lines(path):
    cells, comments = [], []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            if raw.lstrip().startswith("#"):
                comments.append(raw)
                continue
            try:
                c = parse_line(raw)
            except ValueError as e:
                sys.exit(f"{path}:{n}: {e}")
            if c:
                cells.append(c)
    return cells, "".join(comments)


def canonical(cells):
    return [" ".join([s, m, v] + r) for s, m, v, r in sorted(cells, key=lambda c: (c[0], mode_key(c[1])))]


def cmd_compare(expected_path, actual_path):
    expected, comments = read_lines(expected_path)
    actual, _ = read_lines(actual_path)
    rc = 0
    # Every finding the expected matrix accepts must be documented in its
    # comments (the rule id, next to the RFC text the server breaks).
    undocumented = sorted({(s, r) for s, _, _, rules in expected for r in rules
                           if not re.search(r"(?<![\w.])" + re.escape(r) + r"(?![\w.])", comments)})
    for s, r in undocumented:
        print(f"{expected_path}: {s}: finding {r} is expected but not documented in a comment "
              f"(quote the RFC text it breaks)")
        rc = 1
    exp, act = canonical(expected), canonical(actual)
    if exp != act:
        print("the probed matrix differs from the expected one (- expected, + probed):")
        for d in difflib.unified_diff(exp, act, expected_path, "probed", lineterm="", n=0):
            print(d)
        rc = 1
    return rc


def short(verdict):
    return {"works with warnings": "works (warnings)"}.get(verdict, verdict)


def cmd_table(md, lines_path, columns):
    cells, _ = read_lines(lines_path)
    by = {(s, m): (v, r) for s, m, v, r in cells}
    names, heads = [], []
    for col in columns:
        name, _, version = col.partition("=")
        names.append(name)
        heads.append(version or name)
    if not names:
        names = heads = sorted({s for s, _, _, _ in cells})

    def cell(server, mode):
        if (server, mode) not in by:
            return "-"
        v, rules = by[(server, mode)]
        if md and rules:
            return f"{short(v)}: " + ", ".join(f"`{r}`" for r in rules)
        return short(v)

    rows = [[m] + [cell(s, m) for s in names] for m in MODES]
    head = ["mode"] + heads
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return 0
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip())
    return 0


def cmd_details(server, path, brief=False):
    for c in sorted(load_cells(path), key=lambda c: mode_key(str(c.get("mode")))):
        v = str(c.get("verdict", ""))
        findings = findings_of(c)
        if v == "works" and not findings:
            continue
        reason = f" ({c['reason']})" if c.get("reason") and not v.startswith("failed") else ""
        print(f"{server} {c.get('mode')} port {c.get('port')}: {v}{reason}")
        for f in findings:
            where = f.get("section") or ""
            print(f"    {f.get('severity')} {f.get('rule')} (RFC {f.get('rfc')} {where}): "
                  f"{f.get('message')}")
            if f.get("excerpt") and not brief:
                print(f"        {f.get('excerpt')}")
    return 0


def relay_findings(path, seen=None):
    """Sorted unique "RULE (severity, side)" of a relay's JSONL output;
    seen[RULE] = (rfc, section, message) of its first finding."""
    out = set()
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                obj = json.loads(line)
                if "rule" in obj:
                    out.add(f"{obj['rule']} ({obj.get('severity')}, {obj.get('side')})")
                    if seen is not None:
                        seen.setdefault(obj["rule"], (obj.get("rfc"), obj.get("section"),
                                                      obj.get("message")))
    except OSError:
        return None
    return sorted(out)


def cmd_clients(md, results_path, servers):
    """The clients-through-the-relay table: results lines are
    CASE<tab>SERVER<tab>STATUS<tab>RELAY-JSONL."""
    cases, by, seen = [], {}, {}
    names = [x.partition("=")[0] for x in servers]
    heads = [x.partition("=")[2] or x.partition("=")[0] for x in servers]
    with open(results_path, encoding="utf-8") as f:
        for raw in f:
            case, server, status, jsonl = raw.rstrip("\n").split("\t")
            if case not in cases:
                cases.append(case)
            if status != "ok":
                by[(case, server)] = f"client failed ({status})"
                continue
            found = relay_findings(jsonl, seen)
            if found is None:
                by[(case, server)] = "no relay output"
            elif not found:
                by[(case, server)] = "no findings"
            else:
                by[(case, server)] = "; ".join(f"`{x}`" if md else x for x in found)
    head = ["client"] + heads
    rows = [[c] + [by.get((c, s), "-") for s in names] for c in cases]
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        for r in [head] + rows:
            print("  ".join(r))
    if seen:
        print()
        print("The rules reported above:" if md else "rules:")
        print()
        for rule in sorted(seen):
            rfc, section, message = seen[rule]
            print(f"- `{rule}` (RFC {rfc} section {section}): {message}" if md
                  else f"  {rule} (RFC {rfc} {section}): {message}")
    return 0


def is_tls_mode(mode):
    return not mode.endswith("-Plain")


def cmd_tls(md, server, path):
    """One line per distinct TLS outcome of a server's TLS cells (version,
    cipher, certificate verified and its name matched, and which modes).
    Exit 1 when a TLS mode that was probed (neither "not offered" nor
    "failed") has no verified handshake with the name checked: the fleet's
    CA is given, so anything else means the probe's TLS went wrong."""
    groups, rc = {}, 0
    for c in sorted(load_cells(path), key=lambda c: mode_key(str(c.get("mode")))):
        mode, v = str(c.get("mode")), verdict_of(c)
        if not is_tls_mode(mode) or v in ("not offered", "failed"):
            continue
        t = c.get("tls")
        if not isinstance(t, dict):
            print(f"{server} {mode}: no TLS information in a {v!r} cell")
            rc = 1
            continue
        ok = bool(t.get("verified")) and bool(t.get("name_ok"))
        if not ok:
            print(f"{server} {mode}: certificate not verified or name not matched: {t}")
            rc = 1
        key = (t.get("version"), t.get("cipher"),
               "certificate verified, name matched" if ok else "NOT verified")
        groups.setdefault(key, []).append(mode)
    for (version, cipher, check), modes in groups.items():
        if md:
            print(f"- {server}: {version}, `{cipher}`, {check} ({', '.join(modes)})")
        else:
            print(f"{server}: {version} {cipher}, {check}: {' '.join(modes)}")
    return rc


def cmd_documented(path):
    """Prints the comment block that starts at "Documented findings" and
    ends at the first line that is not a comment, without the '# '."""
    inside = False
    with open(path, encoding="utf-8") as f:
        for raw in f:
            if not raw.startswith("#"):
                if inside:
                    break
                continue
            text = raw[1:].rstrip("\n")
            text = text[1:] if text.startswith(" ") else text
            if text.startswith("Documented findings"):
                inside = True
                continue
            if inside and not set(text) <= {"-"}:
                print(text)
            elif inside and not text:
                print()
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "lines":
        print("\n".join(cell_lines(argv[1], load_cells(argv[2]))))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return cmd_compare(argv[1], argv[2])
    if len(argv) >= 2 and argv[0] == "table":
        md = argv[1] == "--md"
        rest = argv[2:] if md else argv[1:]
        if not rest:
            sys.exit(__doc__)
        return cmd_table(md, rest[0], rest[1:])
    if len(argv) >= 2 and argv[0] == "clients":
        md = argv[1] == "--md"
        rest = argv[2:] if md else argv[1:]
        if not rest:
            sys.exit(__doc__)
        return cmd_clients(md, rest[0], rest[1:])
    if len(argv) >= 3 and argv[0] == "tls":
        md = argv[1] == "--md"
        rest = argv[2:] if md else argv[1:]
        if len(rest) != 2:
            sys.exit(__doc__)
        return cmd_tls(md, rest[0], rest[1])
    if len(argv) == 2 and argv[0] == "canonical":
        print("\n".join(canonical(read_lines(argv[1])[0])))
        return 0
    if len(argv) == 2 and argv[0] == "documented":
        return cmd_documented(argv[1])
    if len(argv) == 3 and argv[0] == "details":
        return cmd_details(argv[1], argv[2])
    if len(argv) == 4 and argv[0] == "details" and argv[1] == "--brief":
        return cmd_details(argv[2], argv[3], brief=True)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
