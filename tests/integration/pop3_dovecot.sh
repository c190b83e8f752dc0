#!/usr/bin/env bash
# Integration test: real POP3 clients (curl, Python's poplib, a raw socket)
# talk to a real Dovecot on loopback THROUGH `mailconform relay`, which
# records and validates every session; each recording is then validated
# again with `mailconform check`.
#
# usage: tests/integration/pop3_dovecot.sh PATH/TO/mailconform
# Exit: 0 all passed, 1 a case failed, 77 Dovecot is not installed (skip).
# Needs root (Dovecot switches to the mail uid 5000). Sends nothing beyond
# 127.0.0.1. Ports: lib.sh (21110, 21995, relay 21111; 21119 must be closed).
# KEEP_TMP=1 keeps the temp dir (recordings, logs) for inspection.
set -euo pipefail

MC=${1:?usage: pop3_dovecot.sh PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENTS=$HERE/pop3_clients.py
. "$HERE/lib.sh"

if ! command -v dovecot >/dev/null 2>&1; then
  echo "SKIP: dovecot is not installed (scripts/install-deps.sh installs it)"
  exit 77
fi
need_tools curl python3 openssl
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (Dovecot switches to the mail uid 5000)"; exit 1; }
need_ports_closed "override MC_*_PORT, see lib.sh" "$MC_POP3_PORT" "$MC_POP3S_PORT" "$MC_RELAY_PORT" "$MC_CLOSED_PORT"

T0=$(date +%s%N)
DOVECOT_PID= RELAY_PID= HOLD_PID= TMP=
cleanup() {
  [ -n "$HOLD_PID" ] && stop_pid "$HOLD_PID"
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$DOVECOT_PID" ] && stop_pid "$DOVECOT_PID"
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_tmp
make_cert
make_maildir
if ! start_dovecot; then
  echo "FAIL: Dovecot did not come up on 127.0.0.1:$MC_POP3_PORT/$MC_POP3S_PORT"
  tail -20 "$TMP/dovecot/dovecot.log" 2>/dev/null || true
  exit 1
fi

PASSED=0 FAILED=0 CASE= CASE_OK=1
begin() { CASE=$1; CASE_OK=1; }
bad() { echo "    $CASE: $*"; CASE_OK=0; }
# end [FILES...]: the PASS/FAIL line; on failure show the named files of $TMP
end() {
  if [ "$CASE_OK" = 1 ]; then
    echo "PASS: $CASE"; PASSED=$((PASSED + 1))
  else
    echo "FAIL: $CASE"; FAILED=$((FAILED + 1))
    local f
    for f in "$@"; do
      [ -f "$TMP/$f" ] && { echo "    --- $f"; head -c 4000 "$TMP/$f" | sed 's/^/    | /'; }
    done
  fi
  return 0
}

# relayed NAME WANT_RELAY_RC RELAY_OPTS -- CLIENT_CMD...: one client session through the relay
relayed() {
  local name=$1 want=$2 opts=() rc=0; shift 2
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done; shift
  if ! start_relay "$name" "${opts[@]}"; then bad "the relay did not start listening"; return 0; fi
  timeout 20 "$@" > "$TMP/$name.client" 2>&1 || { rc=$?; bad "client exited $rc"; }
  wait_relay 15
  [ "$RELAY_RC" = "$want" ] || bad "relay exited $RELAY_RC, expected $want"
  [ -s "$TMP/$name.mct" ] || bad "no recording $name.mct"
}
# has NAME LITERAL...: the recording holds each literal (transcript escapes: \r\n)
has() {
  local name=$1; shift
  for s in "$@"; do grep -qF -- "$s" "$TMP/$name.mct" || bad "recording lacks '$s'"; done
}
# checks NAME WANT_RC: `mailconform check` on the recording exits WANT_RC
checks() {
  local rc=0
  "$MC" check "$TMP/$1.mct" > "$TMP/$1.check" 2>&1 || rc=$?
  [ "$rc" = "$2" ] || bad "mailconform check exited $rc, expected $2"
}
# rules NAME: the rule ids (check exits 1 on findings: not an error here) `mailconform check --format jsonl` reports, sorted, one per line
rules() {
  { "$MC" check --format jsonl "$TMP/$1.mct" 2>/dev/null || true; } |
    python3 -c 'import sys, json; print("\n".join(sorted({json.loads(l)["rule"] for l in sys.stdin if l.strip()})))'
}
CURL=(curl -sS --max-time 15)
CA=$TMP/cert.pem
R=$MC_RELAY_PORT
DOTS=$'A line before the dots.\n.leading dot line\n..\n.\na line after the dots'

# (a) curl, plaintext: LIST, then RETR of the dot-line message on the same connection
begin "curl pop3 LIST + RETR 2 (byte-stuffed dot lines)"
relayed curl-plain 0 --max-sessions 1 -- "${CURL[@]}" -u alice:alicepw pop3://127.0.0.1:$R/ pop3://127.0.0.1:$R/2
has curl-plain 'C: CAPA\r\n' 'C: LIST\r\n' 'C: RETR 2\r\n' 'S: +OK Dovecot' \
  '\r\n..leading dot line\r\n...\r\n..\r\n' 'C: QUIT\r\n' '! close C' '! close S'
tr -d '\r' < "$TMP/curl-plain.client" | grep -qxF '2 208' || bad "curl's LIST output lacks '2 208'"
tr -d '\r' < "$TMP/curl-plain.client" | grep -qF -- "$DOTS" || bad "curl's RETR output lacks the unstuffed dot lines"
checks curl-plain 0
end curl-plain.client curl-plain.relay.err curl-plain.relay.out curl-plain.mct curl-plain.check

# (b) curl, STLS required, certificate verified against localhost
begin "curl pop3 --ssl-reqd (STLS) RETR 1"
relayed curl-stls 0 --max-sessions 1 -- "${CURL[@]}" --ssl-reqd --cacert "$CA" \
  --resolve localhost:$R:127.0.0.1 -u alice:alicepw pop3://localhost:$R/1
has curl-stls 'C: STLS\r\n' 'S: +OK Begin TLS' '! tls' 'C: \x16\x03'
grep -qF 'Subject: first' "$TMP/curl-stls.client" || bad "curl did not fetch message 1"
grep -qE '^C: (USER|AUTH|PASS)' "$TMP/curl-stls.mct" && bad "credentials were sent before TLS"
checks curl-stls 0
end curl-stls.client curl-stls.relay.err curl-stls.relay.out curl-stls.mct curl-stls.check

# (c) poplib: the whole TRANSACTION state
begin "poplib stat list uidl retr top noop dele rset quit"
relayed poplib 0 --max-sessions 1 -- python3 "$CLIENTS" session $R "$CA"
has poplib 'C: CAPA\r\n' 'C: USER alice\r\n' 'C: STAT\r\n' 'C: LIST\r\n' 'C: LIST 2\r\n' 'C: UIDL\r\n' \
  'C: UIDL 1\r\n' 'C: RETR 2\r\n' '..leading dot line\r\n' 'C: TOP 3 2\r\n' 'C: NOOP\r\n' \
  'C: DELE 1\r\n' 'C: RSET\r\n' 'C: QUIT\r\n'
checks poplib 0
end poplib.client poplib.relay.err poplib.relay.out poplib.mct poplib.check

# (d) poplib: STLS, then USER/PASS/STAT/RETR/QUIT inside TLS
begin "poplib stls + user/pass/stat/retr/quit"
relayed poplib-stls 0 --max-sessions 1 -- python3 "$CLIENTS" stls $R "$CA"
has poplib-stls 'C: STLS\r\n' 'S: +OK Begin TLS' '! tls'
grep -qE '^C: (USER|PASS|STAT)' "$TMP/poplib-stls.mct" && bad "commands recorded in plaintext after STLS"
checks poplib-stls 0
end poplib-stls.client poplib-stls.relay.err poplib-stls.relay.out poplib-stls.mct poplib-stls.check

# (e) AUTH PLAIN: poplib with a continuation, curl with an initial response
begin "poplib AUTH PLAIN (challenge + response)"
relayed auth-poplib 0 --max-sessions 1 -- python3 "$CLIENTS" auth-plain $R "$CA"
has auth-poplib 'C: AUTH PLAIN\r\n' 'S: + \r\n' 'C: AGFsaWNlAGFsaWNlcHc=\r\n' 'S: +OK Logged in.' 'C: STAT\r\n'
checks auth-poplib 0
end auth-poplib.client auth-poplib.relay.err auth-poplib.relay.out auth-poplib.mct auth-poplib.check

begin "curl AUTH PLAIN with initial response (SASL-IR)"
relayed auth-curl 0 --max-sessions 1 -- "${CURL[@]}" --login-options AUTH=PLAIN --sasl-ir \
  -u alice:alicepw pop3://127.0.0.1:$R/3
has auth-curl 'C: AUTH PLAIN AGFsaWNlAGFsaWNlcHc=\r\n' 'S: +OK Logged in.' 'C: RETR 3\r\n'
grep -qF 'Subject: third' "$TMP/auth-curl.client" || bad "curl did not fetch message 3"
checks auth-curl 0
end auth-curl.client auth-curl.relay.err auth-curl.relay.out auth-curl.mct auth-curl.check

# (f) implicit TLS (pop3s): the recording starts with '! tls'
begin "curl pop3s through the relay (implicit TLS)"
relayed curl-pop3s 0 --max-sessions 1 --to 127.0.0.1:$MC_POP3S_PORT -- "${CURL[@]}" --cacert "$CA" \
  --resolve localhost:$R:127.0.0.1 -u alice:alicepw pop3s://localhost:$R/
[ "$(grep -m1 -E '^(!|C:|S:)' "$TMP/curl-pop3s.mct" 2>/dev/null)" = "! tls" ] || bad "first record is not '! tls'"
tr -d '\r' < "$TMP/curl-pop3s.client" | grep -qxF '3 185' || bad "curl's LIST over pop3s lacks '3 185'"
checks curl-pop3s 0
end curl-pop3s.client curl-pop3s.relay.err curl-pop3s.mct curl-pop3s.check

# (g) two clients at once: one recording, two interleaved sessions
begin "two concurrent poplib sessions in one recording"
if start_relay concurrent --max-sessions 2; then
  timeout 20 python3 "$CLIENTS" session $R "$CA" > "$TMP/concurrent.client" 2>&1 & C1=$!
  timeout 20 python3 "$CLIENTS" stls $R "$CA" >> "$TMP/concurrent.client" 2>&1 & C2=$!
  wait $C1 || bad "first client failed"
  wait $C2 || bad "second client failed"
  wait_relay 15
  [ "$RELAY_RC" = 0 ] || bad "relay exited $RELAY_RC, expected 0"
  has concurrent '@ session 1' '@ session 2' 'C: TOP 3 2\r\n' 'C: STLS\r\n' '! tls'
  [ "$(grep -c '^# session [12] ended' "$TMP/concurrent.mct")" = 2 ] || bad "not two ended sessions"
  checks concurrent 0
  grep -q '2 sessions' "$TMP/concurrent.check" || bad "check did not see 2 sessions"
else
  bad "the relay did not start listening"
fi
end concurrent.client concurrent.relay.err concurrent.relay.out concurrent.mct concurrent.check

# (h) a misbehaving client: bare LF, then STLS with CAPA pipelined behind it
begin "STARTTLS command injection + bare LF is reported"
relayed inject 1 --max-sessions 1 -- python3 "$CLIENTS" inject $R "$CA"
has inject 'C: CAPA\n' 'C: STLS\r\nCAPA\r\n' 'S: +OK Begin TLS'
checks inject 1
got=$(rules inject)
for want in POP3.CMD.BARE_LF POP3.STLS.CMD_INJECTION; do
  grep -qxF "$want" <<< "$got" || bad "check --format jsonl lacks $want (got: $(echo $got))"
done
others=$(grep -vxE 'POP3\.CMD\.BARE_LF|POP3\.STLS\.CMD_INJECTION' <<< "$got" || true)
[ -z "$others" ] || bad "unexpected rules: $(echo $others)"
live=$(python3 -c 'import sys, json; print(" ".join(sorted({json.loads(l)["rule"] for l in open(sys.argv[1]) if l.strip()})))' "$TMP/inject.relay.out" 2>&1)
[ "$live" = "POP3.CMD.BARE_LF POP3.STLS.CMD_INJECTION" ] || bad "relay --check reported '$live'"
end inject.client inject.relay.err inject.relay.out inject.mct inject.check

# (i) SIGTERM while a session is open: the session is finished, exit 0
begin "SIGTERM ends an open session gracefully"
if start_relay sigterm; then
  python3 - $R > "$TMP/sigterm.client" 2>&1 <<'EOF' & HOLD_PID=$!
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
f = s.makefile("rb")
print(f.readline()); s.sendall(b"CAPA\r\n")
while f.readline() not in (b".\r\n", b""):
    pass
print("holding"); sys.stdout.flush()
print("eof" if f.read() == b"" else "data")
EOF
  end_t=$(( $(date +%s) + 10 ))
  until grep -q holding "$TMP/sigterm.client" 2>/dev/null || [ "$(date +%s)" -ge "$end_t" ]; do sleep 0.02; done
  kill -TERM "$RELAY_PID"
  wait_relay 10
  [ "$RELAY_RC" = 0 ] || bad "relay exited $RELAY_RC after SIGTERM, expected 0"
  wait "$HOLD_PID" || bad "holding client failed"; HOLD_PID=
  grep -qx eof "$TMP/sigterm.client" || bad "client did not see the connection end"
  has sigterm 'C: CAPA\r\n' 'torn down: relay stopped by a signal' '# session 1 ended'
  checks sigterm 0
else
  bad "the relay did not start listening"
fi
end sigterm.client sigterm.relay.err sigterm.mct sigterm.check

# (j) the target is down: exit 2, the message names the address, no listener
begin "relay to a closed port exits 2 naming the address"
rc=0
timeout 15 "$MC" relay --listen 127.0.0.1:$R --to 127.0.0.1:$MC_CLOSED_PORT --record "$TMP/closed.mct" \
  --max-sessions 1 > "$TMP/closed.out" 2> "$TMP/closed.err" || rc=$?
[ "$rc" = 2 ] || bad "exited $rc, expected 2"
grep -qF "127.0.0.1:$MC_CLOSED_PORT" "$TMP/closed.err" || bad "message does not name 127.0.0.1:$MC_CLOSED_PORT"
grep -qi 'refused' "$TMP/closed.err" || bad "message does not say the connection was refused"
grep -q 'listening on' "$TMP/closed.err" && bad "it listened anyway"
end closed.out closed.err

T1=$(date +%s%N)
echo "time: $(( (T1 - T0) / 1000000 )) ms (Dovecot stop follows)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
