"""Shared helpers of the fuzz scripts (fuzz/campaign, fuzz/coverage, bench/fuzz_speed.py).

- targets(): every target registered with mc_fuzz_target(fuzz_<stem> ...) in
  any fuzz/*.cmake (fuzz.cmake, tls.cmake, ...), in file order.
- options(): the [libfuzzer] settings of fuzz/fuzz_<stem>.options.
- corpus_files(): the committed inputs of a target, split into seeds (top
  level and found/) and regression inputs (regress/).
- parse_duration(): "90", "90s", "10m", "2h", "1h30m" -> seconds.
- cmake_build(): configure a preset into a chosen build directory (once) and
  build the named targets.
"""
import glob
import hashlib
import os
import re
import subprocess
import sys

# MC_FUZZ_ROOT: another tree with fuzz/ and corpus/ (the scripts' own tests use a toy one)
ROOT = os.environ.get("MC_FUZZ_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ_DIR = os.path.join(ROOT, "fuzz")
CORPUS_DIR = os.path.join(ROOT, "corpus")

# mc_fuzz_target(fuzz_<stem> SOURCE LIBS...) at the start of a line (possibly
# indented inside if()); the function definition itself has no fuzz_ prefix.
_TARGET_RE = re.compile(r"^[ \t]*mc_fuzz_target[ \t]*\([ \t]*fuzz_([A-Za-z0-9_]+)", re.M)


def targets():
    """Stems of every registered target, fuzz.cmake first, then the other
    fuzz/*.cmake files in name order; duplicates dropped."""
    files = sorted(glob.glob(os.path.join(FUZZ_DIR, "*.cmake")),
                   key=lambda p: (os.path.basename(p) != "fuzz.cmake", p))
    seen = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        # drop comments so a commented-out registration does not count
        text = re.sub(r"#[^\n]*", "", text)
        for stem in _TARGET_RE.findall(text):
            if stem not in seen:
                seen.append(stem)
    return seen


def options(stem):
    """{'dict': ..., 'max_len': ..., ...} from fuzz/fuzz_<stem>.options
    ([libfuzzer] section; OSS-Fuzz's format)."""
    path = os.path.join(FUZZ_DIR, "fuzz_%s.options" % stem)
    opts = {}
    if not os.path.exists(path):
        return opts
    section = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]").strip()
                continue
            if section in (None, "libfuzzer") and "=" in line:
                k, v = line.split("=", 1)
                opts[k.strip()] = v.strip()
    return opts


def dict_path(stem):
    d = options(stem).get("dict")
    return os.path.join(FUZZ_DIR, d) if d else None


def max_len(stem):
    return int(options(stem).get("max_len", "8192"))


def _files_under(d):
    out = []
    if not os.path.isdir(d):
        return out
    for dirpath, dirnames, filenames in os.walk(d):
        dirnames[:] = sorted(x for x in dirnames if not x.startswith("."))
        for fn in sorted(filenames):
            if not fn.startswith("."):
                out.append(os.path.join(dirpath, fn))
    return out


def corpus_files(stem):
    """(seeds, regress): seeds are the top-level files and found/ (what
    campaigns added), regress the files under regress/."""
    base = os.path.join(CORPUS_DIR, stem)
    seeds, regress = [], []
    for p in _files_under(base):
        rel = os.path.relpath(p, base)
        (regress if rel.split(os.sep)[0] == "regress" else seeds).append(p)
    return seeds, regress


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def copy_unique(paths, dest, known=None):
    """Copies files into dest named by their SHA-256, skipping contents
    already there (or in the set known). Returns the number copied."""
    os.makedirs(dest, exist_ok=True)
    known = set(os.listdir(dest)) if known is None else known
    n = 0
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        h = hashlib.sha256(data).hexdigest()
        if h in known:
            continue
        known.add(h)
        with open(os.path.join(dest, h), "wb") as f:
            f.write(data)
        n += 1
    return n


def parse_duration(text):
    """Seconds from "600", "600s", "10m", "2h", "1h30m"; ValueError if bad."""
    m = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*", text)
    if not m or not any(m.groups()):
        raise ValueError("bad duration %r (use e.g. 90, 90s, 10m, 2h, 1h30m)" % text)
    h, mi, s = (int(x) if x else 0 for x in m.groups())
    return h * 3600 + mi * 60 + s


def cmake_build(preset, build_dir, build_targets, jobs, log_path, extra_defs=()):
    """Configures `preset` into build_dir unless already configured there,
    then builds build_targets. Returns True on success; the output goes to
    log_path."""
    with open(log_path, "w") as log:
        if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            cmd = ["cmake", "-S", ROOT, "-B", build_dir, "--preset", preset] + list(extra_defs)
            if subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT) != 0:
                return False
        cmd = ["cmake", "--build", build_dir, "-j", str(jobs)]
        for t in build_targets:
            cmd += ["--target", t]
        return subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT) == 0


def die(msg, code=2):
    print("%s: %s" % (os.path.basename(sys.argv[0]), msg), file=sys.stderr)
    sys.exit(code)
