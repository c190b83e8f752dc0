#!/usr/bin/env bash
# Installs what is needed, builds mailconform (release), and validates the
# bundled real capture and recordings of Dovecot POP3 and IMAP and Postfix SMTP sessions,
# then transcripts with planted violations so you see what findings look like.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset release >/dev/null
echo "== a real packet capture: Dovecot POP3/IMAP and Postfix SMTP/submission on loopback (expected: clean) =="
build/release/mailconform check --port 26110=pop3 --port 26143=imap --port 26025=smtp \
  --port 26587=submission corpus/samples/dovecot-postfix-loopback.pcap
echo
echo "== a real Dovecot POP3 session (expected: clean) =="
build/release/mailconform check corpus/samples/dovecot-pop3.mct
echo
echo "== a real Postfix SMTP session through swaks, pipelined (expected: clean) =="
build/release/mailconform check corpus/samples/postfix-swaks-pipeline.mct
echo
echo "== a real Dovecot IMAP session driven by Python's imaplib (expected: clean) =="
build/release/mailconform check corpus/samples/dovecot-imap-imaplib-plain.mct
echo
echo "== an SMTP smuggling attempt against a vulnerable server (expected: findings) =="
build/release/mailconform check docs/examples/smtp-smuggling.mct || true
echo
echo "== a session with planted violations (expected: findings, exit status 1) =="
build/release/mailconform check docs/examples/planted-violations.mct || true
