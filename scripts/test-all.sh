#!/usr/bin/env bash
# Installs every dependency, builds, and runs every test: unit (cmocka),
# golden transcripts, rule coverage, corpus replay under ASan+UBSan, the
# integration test against a real Dovecot, the rules-doc check, a short
# run of every fuzz target under libFuzzer and AFL++, a 1 s run of the fuzz
# speed script, the fuzz campaign
# script's own test, and the parser coverage gate (fuzz/coverage --gate:
# every parsers/**/*.c file keeps >= 90% lines and >= 80% branches from the
# committed corpus).
# Usage: scripts/test-all.sh            (FUZZ_SECONDS=N to change the fuzz time)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==== %s ====\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "build and test (preset dev: gcc, ASan+UBSan, -Werror)"
rm -rf build/dev
cmake --workflow --preset dev

step "docs/rules.md is current"
if ! build/dev/mailconform rules --format md | diff -u docs/rules.md -; then
  echo "docs/rules.md is stale: run 'build/dev/mailconform rules --format md > docs/rules.md'" >&2
  exit 1
fi
echo "docs/rules.md matches the catalogue"

step "fuzz smoke (libFuzzer and AFL++, every target)"
scripts/fuzz-smoke.sh "${FUZZ_SECONDS:-10}"

step "fuzz speed script (bench/fuzz_speed.py runs; its figures are not checked here)"
# 1 s per run: only that the script works with and without --written-seeds
# (it once broke unnoticed); the figures need a quiet machine (bench/RESULTS.md).
python3 bench/fuzz_speed.py --build-dir "${FUZZ_BUILD_DIR:-build/fuzz}" --seconds 1 --no-replay pop3_cmd
python3 bench/fuzz_speed.py --build-dir "${FUZZ_BUILD_DIR:-build/fuzz}" --seconds 1 --no-replay \
  --max-len p50 --written-seeds smtp_cmd

step "fuzz campaign script (toy target with planted bugs)"
python3 fuzz/tests/test_campaign.py

step "coverage gate (parsers from the committed corpus, clang source-based)"
rm -rf build/coverage
fuzz/coverage --gate --build-dir build/coverage

step "all tests passed"
