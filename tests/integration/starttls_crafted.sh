#!/usr/bin/env bash
# Integration test: crafted STARTTLS peers (issue 6). For every scenario of
# tests/integration/starttls_peers.py (a fake POP3, IMAP or SMTP server and
# client, one of them breaking a STARTTLS rule: a command pipelined behind
# STARTTLS, a server that answers it, a response injected after the
# go-ahead, credentials after a refused STARTTLS or a cleartext PREAUTH, a
# password in the clear where STARTTLS was offered, a close where the
# handshake belongs, STLS in the wrong state; and one conformant session
# per protocol), the client talks to the server through `mailconform relay
# --record` (a transcript) while tcpdump captures the client's side on lo
# (a pcap). `mailconform check` must then report the scenario's rules, in
# the transcript and in the capture alike (the same rule ids in both); the
# conformant sessions must give no finding at all.
#
# usage: tests/integration/starttls_crafted.sh PATH/TO/mailconform
# Exit: 0 all passed, 1 a case failed, 77 tcpdump missing or not root
# (skip). Needs python3 and openssl. Sends nothing beyond 127.0.0.1.
# Ports (override in the environment): MC_ST_* below. KEEP_TMP=1 keeps the
# temp dir (transcripts, capture, logs).
set -euo pipefail

MC=${1:?usage: starttls_crafted.sh PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/starttls_peers.py
. "$HERE/lib.sh"

MC_ST_SERVER_PORT=${MC_ST_SERVER_PORT:-27100}   # the crafted server of the scenario running
MC_ST_R_POP3=${MC_ST_R_POP3:-27110}             # the relay, one port per protocol so that
MC_ST_R_IMAP=${MC_ST_R_IMAP:-27143}             # the capture can name them
MC_ST_R_SMTP=${MC_ST_R_SMTP:-27025}

command -v tcpdump >/dev/null 2>&1 || { echo "SKIP: tcpdump is not installed (scripts/install-deps.sh installs it)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (tcpdump on lo)"; exit 77; }
need_tools python3 openssl
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
need_ports_closed "override MC_ST_*" "$MC_ST_SERVER_PORT" "$MC_ST_R_POP3" "$MC_ST_R_IMAP" "$MC_ST_R_SMTP"

T0=$(date +%s%N)
SRV_PID= RELAY_PID= TCPDUMP_PID= TMP=
cleanup() {
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$SRV_PID" ] && stop_pid "$SRV_PID"
  if [ -n "$TCPDUMP_PID" ]; then kill -INT "$TCPDUMP_PID" 2>/dev/null || true; wait "$TCPDUMP_PID" 2>/dev/null || true; fi
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM
make_tmp
make_cert

relay_port() { case $1 in pop3) echo "$MC_ST_R_POP3";; imap) echo "$MC_ST_R_IMAP";; smtp) echo "$MC_ST_R_SMTP";; esac; }

# tcpdump on lo, the client's side of every relayed session, each packet
# written at once; waits for "listening on"
tcpdump -i lo -n -U --immediate-mode -s 0 -B 16384 -Z root -w "$TMP/crafted.pcap" \
  "tcp port $MC_ST_R_POP3 or tcp port $MC_ST_R_IMAP or tcp port $MC_ST_R_SMTP" \
  > "$TMP/tcpdump.out" 2> "$TMP/tcpdump.err" &
TCPDUMP_PID=$!
end=$(( $(date +%s) + 10 ))
until grep -q 'listening on' "$TMP/tcpdump.err" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$end" ] || ! kill -0 "$TCPDUMP_PID" 2>/dev/null; then
    echo "FAIL: tcpdump did not start:"; sed 's/^/    | /' "$TMP/tcpdump.err"; exit 1
  fi
  sleep 0.02
done

# Each scenario: its server, the relay in front of it, its client
python3 "$PEERS" list > "$TMP/scenarios.txt"
: > "$TMP/ran.txt"
while read -r name proto rules; do
  python3 "$PEERS" server "$name" "$MC_ST_SERVER_PORT" "$TMP/cert.pem" "$TMP/key.pem" \
    > "$TMP/$name.server.out" 2>&1 &
  SRV_PID=$!
  end=$(( $(date +%s) + 10 ))
  until grep -q ready "$TMP/$name.server.out" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$end" ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
      echo "FAIL: the crafted server of $name did not start"; exit 1
    fi
    sleep 0.02
  done
  rport=$(relay_port "$proto") status=ok
  if start_relay_to "$name" "$rport" "127.0.0.1:$MC_ST_SERVER_PORT" --max-sessions 1 --protocol "$proto"; then
    timeout 30 python3 "$PEERS" client "$name" "$rport" > "$TMP/$name.client" 2>&1 || status=client-failed
    wait_relay 15
    [ "$RELAY_RC" = 124 ] && status=relay-hung
  else
    status=relay-did-not-start RELAY_PID=
  fi
  stop_pid "$SRV_PID"; SRV_PID=
  echo "$name $proto $rules $status" >> "$TMP/ran.txt"
done < "$TMP/scenarios.txt"

# stop the capture once the file stops growing
last=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.2
  now=$(stat -c %s "$TMP/crafted.pcap")
  [ "$now" = "$last" ] && break
  last=$now
done
kill -INT "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=

# Every transcript and the capture through `mailconform check`
while read -r name proto rules status; do
  rc=0
  timeout 60 "$MC" check --format jsonl --protocol "$proto" "$TMP/$name.mct" \
    > "$TMP/$name.jsonl" 2> "$TMP/$name.check.err" || rc=$?
  echo "$rc" > "$TMP/$name.check.rc"
done < "$TMP/ran.txt"
rc=0
timeout 120 "$MC" check --format jsonl --port "$MC_ST_R_POP3=pop3" --port "$MC_ST_R_IMAP=imap" \
  --port "$MC_ST_R_SMTP=smtp" "$TMP/crafted.pcap" > "$TMP/crafted.jsonl" 2> "$TMP/crafted.check.err" || rc=$?
echo "$rc" > "$TMP/crafted.check.rc"

# The comparison: per scenario, the flow whose client is the transcript's
# "@ client"; the scenario's rules in both, the same rule ids in both
rc=0
python3 - "$TMP" "$MC_ST_R_POP3" "$MC_ST_R_IMAP" "$MC_ST_R_SMTP" <<'EOF' || rc=$?
import collections, json, os, sys
tmp = sys.argv[1]
relay_port = {"pop3": sys.argv[2], "imap": sys.argv[3], "smtp": sys.argv[4]}

def jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out

def client_of(mct):
    with open(mct, "rb") as f:
        for raw in f:
            if raw.startswith(b"@ client "):
                return raw[9:].decode().strip()
    return None

cap_rc = int(open(os.path.join(tmp, "crafted.check.rc")).read())
cap = jsonl(os.path.join(tmp, "crafted.jsonl"))
# A flow is found by its client and server address: the kernel may give a
# later scenario's connection the same client port (to another relay port,
# or even the same one: then the flows come in the order the scenarios ran)
flows = collections.defaultdict(list)
for d in cap:
    if "flow" in d and "rule" not in d:
        flows[(d["client"], d["server"])].append(d)
by_flow = collections.defaultdict(list)
for d in cap:
    if "rule" in d:
        by_flow[d["session"]].append(d)
passed = failed = 0
if cap_rc not in (0, 1):
    print(f"FAIL: mailconform check on the capture exited {cap_rc}")
    failed += 1
for line in open(os.path.join(tmp, "ran.txt")):
    name, proto, rules, status = line.split()
    want = set() if rules == "-" else set(rules.split(","))
    problems = []
    if status != "ok":
        problems.append(status)
    mct = os.path.join(tmp, name + ".mct")
    if not os.path.exists(mct):
        print(f"FAIL: {name}: no transcript")
        failed += 1
        continue
    rc = int(open(os.path.join(tmp, name + ".check.rc")).read())
    if rc not in (0, 1):
        problems.append(f"mailconform check on the transcript exited {rc}")
    tr = {d["rule"] for d in jsonl(os.path.join(tmp, name + ".jsonl")) if "rule" in d}
    key = (client_of(mct), "127.0.0.1:" + relay_port[proto])
    flow = flows[key].pop(0) if flows.get(key) else None
    if flow is None:
        problems.append(f"no flow in the capture from {client_of(mct)}")
        cr = set()
    else:
        if flow["protocol"] != proto or not flow["validated"]:
            problems.append(f"flow {flow['flow']}: protocol {flow['protocol']}, validated {flow['validated']}")
        cr = {d["rule"] for d in by_flow.get(flow["flow"], [])}
    if want - tr:
        problems.append(f"transcript lacks {sorted(want - tr)} (has {sorted(tr)})")
    if want - cr:
        problems.append(f"capture lacks {sorted(want - cr)} (has {sorted(cr)})")
    if not want and (tr or cr):
        problems.append(f"a conformant session with findings: transcript {sorted(tr)}, capture {sorted(cr)}")
    if tr != cr:
        problems.append(f"transcript and capture differ: transcript only {sorted(tr - cr)}, capture only {sorted(cr - tr)}")
    label = f"{name} ({proto}): " + (", ".join(sorted(want)) or "no finding")
    if problems:
        print(f"FAIL: {label}")
        for p in problems:
            print(f"    {name}: {p}")
        failed += 1
    else:
        print(f"PASS: {label}" + (f" (also {', '.join(sorted(tr - want))})" if tr - want else ""))
        passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
echo "time: $(( ($(date +%s%N) - T0) / 1000000 )) ms"
exit $rc
