#!/usr/bin/env bash
# Installs what is needed, builds mailconform (release), and validates the
# bundled recording of a real Dovecot POP3 session, then a transcript with
# planted violations so you see what findings look like.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset release >/dev/null
echo "== a real Dovecot POP3 session (expected: clean) =="
build/release/mailconform check corpus/samples/dovecot-pop3.mct
echo
echo "== a session with planted violations (expected: findings, exit status 1) =="
build/release/mailconform check docs/examples/planted-violations.mct || true
