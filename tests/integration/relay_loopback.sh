#!/usr/bin/env bash
# Integration test of the relay's plumbing with scripted loopback peers (no
# mail server, no root): lossless recording under back-pressure, half-close,
# IPv6 listening, the connection limit, the idle timeout, SIGTERM, and a
# target that goes away. The protocol side is pop3_dovecot.sh.
#
# usage: tests/integration/relay_loopback.sh PATH/TO/mailconform
# Ports: 21130 (peer server), 21131 (relay). KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

MC=${1:?usage: relay_loopback.sh PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/relay_peers.py
. "$HERE/lib.sh"
SRV_PORT=${MC_PEER_PORT:-21130}
R=${MC_LOOP_RELAY_PORT:-21131}

command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is not installed"; exit 1; }
need_ports_closed "" "$SRV_PORT" "$R"

T0=$(date +%s%N)
SRV_PID= RELAY_PID= TMP=
cleanup() {
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$SRV_PID" ] && stop_pid "$SRV_PID"
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM
make_tmp

start_server() {
  python3 "$PEERS" server "$SRV_PORT" > "$TMP/server.out" 2>&1 & SRV_PID=$!
  local end=$(( $(date +%s) + 10 ))
  until grep -q ready "$TMP/server.out" 2>/dev/null; do
    [ "$(date +%s)" -lt "$end" ] && kill -0 "$SRV_PID" 2>/dev/null || return 1
    sleep 0.02
  done
}
# relay NAME OPTS...: start the relay to the peer server (see lib.sh start_relay)
relay() {
  local name=$1; shift
  "$MC" relay --to 127.0.0.1:$SRV_PORT "$@" > "$TMP/$name.relay.out" 2> "$TMP/$name.relay.err" &
  RELAY_PID=$!
  local end=$(( $(date +%s) + 15 ))
  until grep -q '^relay: listening on' "$TMP/$name.relay.err" 2>/dev/null; do
    [ "$(date +%s)" -lt "$end" ] && kill -0 "$RELAY_PID" 2>/dev/null || return 1
    sleep 0.02
  done
}

PASSED=0 FAILED=0 CASE= CASE_OK=1
begin() { CASE=$1; CASE_OK=1; }
bad() { echo "    $CASE: $*"; CASE_OK=0; }
end() {
  if [ "$CASE_OK" = 1 ]; then echo "PASS: $CASE"; PASSED=$((PASSED + 1)); return 0; fi
  echo "FAIL: $CASE"; FAILED=$((FAILED + 1))
  local f
  for f in "$@"; do
    [ -f "$TMP/$f" ] && { echo "    --- $f"; head -c 3000 "$TMP/$f" | sed 's/^/    | /'; }
  done
  return 0
}
client() { timeout 30 python3 "$PEERS" "$1" "$R" > "$TMP/$1.client" 2>&1 || bad "client '$1' failed"; }

start_server || { echo "FAIL: the peer server did not start"; exit 1; }

begin "4 MB to a slow reader: relayed and recorded losslessly"
if relay big --listen 127.0.0.1:$R --record "$TMP/big.mct" --max-sessions 1; then
  client big
  wait_relay 30
  [ "$RELAY_RC" = 0 ] || bad "relay exited $RELAY_RC"
  # the S: records, decoded, are exactly the stream the client received
  python3 - "$TMP/big.mct" <<'EOF' || bad "the recording does not reproduce the stream"
import random, re, sys
esc = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}
def dec(m):
    g = m.group(1)
    return bytes([int(g[1:], 16)]) if g[:1] == b"x" else esc[g]
out = b"".join(re.sub(rb"\\(x[0-9a-f]{2}|[rnt\\])", dec, l[3:].rstrip(b"\n"))
               for l in open(sys.argv[1], "rb") if l.startswith(b"S: "))
want = random.Random(1939).randbytes(4 << 20)
sys.exit(0 if out == want else 1)
EOF
  [ "$(grep -c '^S: ' "$TMP/big.mct")" -gt 10 ] || bad "expected many chunks"
else
  bad "relay did not start"
fi
end big.client big.relay.err

begin "48 MB to a slow reader: the relay's memory stays bounded"
if relay huge --listen 127.0.0.1:$R --record /dev/null --max-sessions 1; then
  client huge &
  CL=$!
  hwm=0
  while kill -0 "$CL" 2>/dev/null; do   # the relay's peak RSS (VmHWM, kB) while it runs
    h=$(awk '/^VmHWM/ {print $2}' /proc/$RELAY_PID/status 2>/dev/null || true)
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
    sleep 0.05
  done
  wait "$CL" || true
  wait_relay 30
  [ "$RELAY_RC" = 0 ] || bad "relay exited $RELAY_RC"
  echo "    peak RSS of the relay (ASan build): $((hwm / 1024)) MB for 48 MB relayed"
  [ "$hwm" -gt 0 ] && [ "$hwm" -lt $((32 * 1024)) ] || bad "peak RSS $hwm kB (limit 32 MB)"
else
  bad "relay did not start"
fi
end huge.client huge.relay.err

begin "3 concurrent clients that half-close get their answers"
if relay half --listen 127.0.0.1:$R --record "$TMP/half.mct" --max-sessions 3; then
  client half
  wait_relay 30
  [ "$RELAY_RC" = 0 ] || bad "relay exited $RELAY_RC"
  [ "$(grep -c '^! close C' "$TMP/half.mct")" = 3 ] || bad "expected 3 '! close C'"
  [ "$(grep -c '^! close S' "$TMP/half.mct")" = 3 ] || bad "expected 3 '! close S'"
  grep -q 'torn down' "$TMP/half.mct" && bad "a session was torn down"
else
  bad "relay did not start"
fi
end half.client half.relay.err

if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  begin "listening on [::1]"
  if relay half6 --listen "[::1]:$R" --record "$TMP/half6.mct" --max-sessions 2; then
    client half6
    wait_relay 30
    [ "$RELAY_RC" = 0 ] || bad "relay exited $RELAY_RC"
    grep -q '^@ client \[::1\]:' "$TMP/half6.mct" || bad "no '@ client [::1]:PORT'"
  else
    bad "relay did not start"
  fi
  end half6.client half6.relay.err
else
  echo "SKIP: listening on [::1] (no IPv6 loopback here)"
fi

begin "64 connections at most; the idle timeout closes them; SIGTERM exits 0"
if relay limit --listen 127.0.0.1:$R --idle-timeout 1; then
  client limit
  kill -TERM "$RELAY_PID"
  wait_relay 15
  [ "$RELAY_RC" = 0 ] || bad "relay exited $RELAY_RC"
  grep -q 'too many connections (64)' "$TMP/limit.relay.err" || bad "no 'too many connections' line"
  [ "$(grep -c 'torn down: idle' "$TMP/limit.relay.err")" = 64 ] || bad "expected 64 idle teardowns"
else
  bad "relay did not start"
fi
end limit.client limit.relay.err

begin "a target that goes away: client closed, exit 2 naming the address"
if relay gone --listen 127.0.0.1:$R; then
  stop_pid "$SRV_PID"; SRV_PID=
  client refused
  kill -TERM "$RELAY_PID"
  wait_relay 15
  [ "$RELAY_RC" = 2 ] || bad "relay exited $RELAY_RC, expected 2"
  grep -q "relay: cannot connect to 127.0.0.1:$SRV_PORT: Connection refused" "$TMP/gone.relay.err" ||
    bad "no 'cannot connect' line naming the address"
else
  bad "relay did not start"
fi
end refused.client gone.relay.err

echo "time: $(( ($(date +%s%N) - T0) / 1000000 )) ms"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
