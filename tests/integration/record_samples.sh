#!/usr/bin/env bash
# Regenerates the bundled real recordings in corpus/samples/ with the relay,
# using the same private Dovecot as pop3_dovecot.sh (lib.sh):
#
#   dovecot-pop3.mct       Python's poplib, POP3-Plain: greeting, CAPA,
#                          USER/PASS, STAT, LIST, UIDL, RETR 2 (the message
#                          with byte-stuffed dot lines), TOP 3 2, QUIT. Dovecot
#                          is reached on 127.0.0.2, where TLS is off: it offers
#                          no STLS, so a clear-text password is no finding
#                          (POP3.CLEARTEXT.PASSWORD would fire on 127.0.0.1).
#   dovecot-pop3-stls.mct  curl --ssl-reqd: CAPA, STLS, then TLS records
#                          (opaque; the RETR 2 runs inside TLS)
#
# The IMAP sample dovecot-imap-imaplib-plain.mct comes from imap_dovecot.sh
# (RECORD_SAMPLES=DIR), whose plaintext cases reach Dovecot on 127.0.0.2 the
# same way; the SMTP ones from smtp_mta.sh (RECORD_SAMPLES=DIR).
#
# usage: tests/integration/record_samples.sh PATH/TO/mailconform [OUTDIR]
# OUTDIR defaults to corpus/samples of this repository. Needs root, Dovecot,
# curl, python3, openssl; sends nothing beyond 127.0.0.1.
#
# What differs between runs: the timestamps in '#' comments, the client's
# ephemeral port ('@ client'), the UIDL unique-ids (Dovecot's default
# %08Xu%08Xv holds the mailbox's UIDVALIDITY, a creation time) and every TLS
# octet. Everything else (commands, answers, chunking on loopback) is the same.
# Both are conformant samples: `mailconform check` must report no finding at
# all (tests/golden rule coverage requires every sample to be silent).
set -euo pipefail

MC=${1:?usage: record_samples.sh PATH/TO/mailconform [OUTDIR]}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${2:-$HERE/../../corpus/samples}
. "$HERE/lib.sh"

command -v dovecot >/dev/null 2>&1 || { echo "record_samples: dovecot is not installed"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "record_samples: needs root (Dovecot switches to the mail uid 5000)"; exit 1; }
for p in "$MC_POP3_PORT" "$MC_POP3S_PORT" "$MC_RELAY_PORT"; do
  port_closed "$p" || { echo "record_samples: port $p on 127.0.0.1 is in use"; exit 1; }
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

DOVECOT_PID= RELAY_PID= TMP=
cleanup() {
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$DOVECOT_PID" ] && stop_pid "$DOVECOT_PID"
  [ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_tmp
make_cert
make_maildir
MC_NOTLS_ADDR=127.0.0.2
start_dovecot || { echo "record_samples: Dovecot did not come up"; exit 1; }

# record NAME TARGET CLIENT_CMD...: one session through the relay to TARGET into $OUT/NAME.mct
record() {
  local name=$1 to=$2; shift 2
  start_relay "$name" --to "$to" --max-sessions 1 --protocol pop3 || { echo "record_samples: relay did not start"; exit 1; }
  timeout 20 "$@" > "$TMP/$name.client" 2>&1 || { echo "record_samples: $name: client failed"; cat "$TMP/$name.client"; exit 1; }
  wait_relay 15
  [ "$RELAY_RC" = 0 ] || { echo "record_samples: $name: relay exited $RELAY_RC"; cat "$TMP/$name.relay.err" "$TMP/$name.relay.out"; exit 1; }
  "$MC" check "$TMP/$name.mct" > "$TMP/$name.check" 2>&1 ||
    { echo "record_samples: $name: mailconform check failed"; cat "$TMP/$name.check"; exit 1; }
  "$MC" check --format jsonl "$TMP/$name.mct" > "$TMP/$name.jsonl" 2>&1 || true
  [ ! -s "$TMP/$name.jsonl" ] ||
    { echo "record_samples: $name: a conformant sample must have no finding:"; cat "$TMP/$name.jsonl"; exit 1; }
  cp "$TMP/$name.mct" "$OUT/$name.mct"
  echo "record_samples: wrote $OUT/$name.mct ($(grep -c '^[CS]:' "$OUT/$name.mct") records); check: $(tail -1 "$TMP/$name.check")"
}

record dovecot-pop3 "$MC_NOTLS_ADDR:$MC_POP3_PORT" python3 "$HERE/pop3_clients.py" sample "$MC_RELAY_PORT" "$TMP/cert.pem"
record dovecot-pop3-stls "127.0.0.1:$MC_POP3_PORT" curl -sS --max-time 15 --ssl-reqd --cacert "$TMP/cert.pem" \
  --resolve "localhost:$MC_RELAY_PORT:127.0.0.1" -u alice:alicepw "pop3://localhost:$MC_RELAY_PORT/2"
