#!/usr/bin/env bash
# Installs every dependency, builds, and runs every test: unit (cmocka),
# golden transcripts, rule coverage, corpus replay under ASan+UBSan, the
# integration test against a real Dovecot, the rules-doc check, and a short
# run of every fuzz target under libFuzzer and AFL++.
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

step "all tests passed"
