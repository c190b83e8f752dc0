#!/usr/bin/env bash
# Fuzz smoke test: builds the presets "fuzz" (clang-14 libFuzzer + ASan/UBSan)
# and "afl" (afl-clang-lto), then runs every fuzz target for a short while
# under each engine, starting from a copy of its seed corpus.
#
# Usage: scripts/fuzz-smoke.sh [SECONDS]
#   SECONDS       libFuzzer time per target (default 10)
#   AFL_SECONDS   AFL++ time per target (default: SECONDS, at least 3)
#   KEEP_WORK=1   keep the work directory even when everything passed
#   FUZZ_BUILD_DIR, AFL_BUILD_DIR  build directories of the presets "fuzz"
#                 and "afl" (default build/fuzz, build/afl)
#
# Exit status: 0 when every run finished without a crash, an oracle failure,
# a timeout or a leak; 1 otherwise (the work directory with the artifacts and
# logs is kept and named). afl-fuzz exits 0 even when it found crashes, so
# its fuzzer_stats (saved_crashes) and crashes/ directory are checked.
# Works unattended as root under CI (no tty). corpus/ is only read.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${1:-10}
if ! [[ $SECS =~ ^[0-9]+$ ]] || [ "$SECS" -lt 1 ]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi
AFL_SECS=${AFL_SECONDS:-$SECS}
[ "$AFL_SECS" -ge 3 ] || AFL_SECS=3

# Every target any fuzz/*.cmake registers (mc_fuzz_target(fuzz_<stem> ...)):
# fuzz.cmake, tls.cmake, ... (fuzz/campaign --list reads them the same way).
mapfile -t TARGETS < <(python3 fuzz/campaign --list)
if [ "${#TARGETS[@]}" -eq 0 ]; then
  echo "fuzz-smoke: no targets found in fuzz/*.cmake" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mc-fuzz-smoke.XXXXXX")
FAILED=0
cleanup() {
  if [ "$FAILED" -ne 0 ] || [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "fuzz-smoke: logs and artifacts kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build/fuzz}
AFL_BUILD_DIR=${AFL_BUILD_DIR:-build/afl}

build() {
  local preset=$1 dir=$2 log=$WORK/build-$1.log
  echo "== build preset $preset in $dir"
  if ! { cmake --preset "$preset" -B "$dir" && cmake --build "$dir" -j 2; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz-smoke: build of preset $preset failed (log: $log)" >&2
    FAILED=1
    exit 1
  fi
}

# option value from fuzz/<target>.options ("key = value" under [libfuzzer])
opt() {
  [ -f "fuzz/fuzz_$1.options" ] || return 0
  sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "fuzz/fuzz_$1.options" | tail -n 1
}

stat_of() { # stat_of FILE KEY: a value from afl's fuzzer_stats
  sed -n "s/^$2[[:space:]]*:[[:space:]]*//p" "$1" | tail -n 1
}

summary() { # target engine status execs/s corpus note
  printf '%-14s %-9s %-4s execs/s=%-8s corpus=%-6s %s\n' "$@"
}

build fuzz "$FUZZ_BUILD_DIR"
build afl "$AFL_BUILD_DIR"

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_TRY_AFFINITY=1 AFL_NO_CRASH_README=1 AFL_QUIET=1

echo "== fuzzing: libFuzzer ${SECS}s, AFL++ ${AFL_SECS}s per target"
for t in "${TARGETS[@]}"; do
  w=$WORK/$t
  # a dictionary only where the options file names one (binary inputs such
  # as captures and segment scripts have none)
  dict=$(opt "$t" dict)
  lf_dict=() afl_dict=()
  if [ -n "$dict" ]; then
    lf_dict=(-dict="fuzz/$dict")
    afl_dict=(-x "fuzz/$dict")
  fi
  max_len=$(opt "$t" max_len)
  max_len=${max_len:-8192}
  mkdir -p "$w/seeds" "$w/lf-corpus" "$w/lf-artifacts"
  # a registered target that did not build is a failure, not a skip
  for b in "$FUZZ_BUILD_DIR/fuzz_$t" "$AFL_BUILD_DIR/fuzz_$t"; do
    if [ ! -x "$b" ]; then
      FAILED=1
      summary "$t" - FAIL "?" "?" "$b was not built (registered in fuzz/*.cmake)"
      continue 2
    fi
  done

  # Seeds and regression inputs, flattened (AFL++ does not recurse).
  if [ -d "corpus/$t" ]; then
    find "corpus/$t" -type f ! -name '.*' -exec cp {} "$w/seeds/" \;
  fi
  if [ -z "$(ls -A "$w/seeds")" ]; then
    printf '\n' >"$w/seeds/empty"
  fi
  cp "$w/seeds/"* "$w/lf-corpus/"

  # libFuzzer (ASan+UBSan): the exit status says it all.
  rc=0
  timeout -k 10 $((SECS + 120)) "$FUZZ_BUILD_DIR/fuzz_$t" \
    "${lf_dict[@]}" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 \
    -max_total_time="$SECS" -print_final_stats=1 \
    -artifact_prefix="$w/lf-artifacts/" "$w/lf-corpus" >"$w/libfuzzer.log" 2>&1 || rc=$?
  eps=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$w/libfuzzer.log" | tail -n 1)
  corp=$(find "$w/lf-corpus" -type f | wc -l)
  arts=$(find "$w/lf-artifacts" -type f | wc -l)
  if [ "$rc" -eq 0 ] && [ "$arts" -eq 0 ]; then
    summary "$t" libfuzzer ok "${eps:-?}" "$corp" ""
  else
    FAILED=1
    summary "$t" libfuzzer FAIL "${eps:-?}" "$corp" "exit $rc, $arts artifact(s) in $w/lf-artifacts"
    grep -m 3 -E 'fuzz oracle failed|ERROR: |SUMMARY: |runtime error' "$w/libfuzzer.log" >&2 || true
  fi

  # AFL++ (afl-clang-lto, no sanitizer): exit 0 even on crashes.
  rc=0
  timeout -k 10 $((AFL_SECS + 180)) afl-fuzz -i "$w/seeds" -o "$w/afl" "${afl_dict[@]}" \
    -G "$max_len" -V "$AFL_SECS" -- "$AFL_BUILD_DIR/fuzz_$t" >"$w/afl.log" 2>&1 </dev/null || rc=$?
  stats=$w/afl/default/fuzzer_stats
  if [ "$rc" -ne 0 ] || [ ! -f "$stats" ]; then
    FAILED=1
    summary "$t" afl FAIL "?" "?" "afl-fuzz exit $rc, no fuzzer_stats (log: $w/afl.log)"
    grep -m 5 -E 'PROGRAM ABORT|ERROR|crash' "$w/afl.log" >&2 || true
    continue
  fi
  # A seed that crashes is skipped with a warning, not counted in saved_crashes.
  seed_crashes=$(grep -c 'results in a crash' "$w/afl.log" || true)
  crashes=$(stat_of "$stats" saved_crashes)
  crash_files=$(find "$w/afl/default/crashes" -type f ! -name README.txt 2>/dev/null | wc -l)
  hangs=$(stat_of "$stats" saved_hangs)
  eps=$(stat_of "$stats" execs_per_sec)
  corp=$(stat_of "$stats" corpus_count)
  note=""
  [ "${hangs:-0}" = 0 ] || note="warning: $hangs hang(s) in $w/afl/default/hangs"
  [ "$seed_crashes" = 0 ] || note="$seed_crashes seed(s) crash at startup (see $w/afl.log) $note"
  if [ "${crashes:-1}" = 0 ] && [ "$crash_files" -eq 0 ] && [ "$seed_crashes" = 0 ]; then
    summary "$t" afl ok "${eps:-?}" "${corp:-?}" "$note"
  else
    FAILED=1
    summary "$t" afl FAIL "${eps:-?}" "${corp:-?}" \
      "saved_crashes=${crashes:-?} in $w/afl/default/crashes $note"
  fi
done

if [ "$FAILED" -ne 0 ]; then
  echo "fuzz-smoke: FAILED" >&2
  exit 1
fi
echo "fuzz-smoke: all targets passed"
