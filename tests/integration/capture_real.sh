#!/usr/bin/env bash
# Integration test: packet captures of real sessions. Real clients (curl,
# Python's poplib/imaplib/smtplib, swaks when installed) talk to a real
# Dovecot (POP3 + IMAP) and a real Postfix on loopback THROUGH `mailconform
# relay`, which records each session as a transcript; meanwhile two tcpdumps
# capture the same sessions, one on the servers' ports (relay <-> server),
# one on the relay's listening ports (client <-> relay). Then
# `mailconform check --format jsonl --port P=NAME...` on each capture must
# show every session as one flow with the right protocol, validated, no gap,
# the transcript's octet counts each way, and the same findings (rule,
# severity, direction, offset) as `mailconform check` on its transcript;
# no finding of severity error (ALLOW below aside).
#
# usage: tests/integration/capture_real.sh PATH/TO/mailconform
# Exit: 0 all passed, 1 a case failed, 77 Dovecot, Postfix or tcpdump is not
# installed (skip). Needs root (tcpdump on lo; Dovecot and Postfix deliver as
# uid 5000). Sends nothing beyond loopback (127.0.0.1, and MC_CAP_NOTLS_ADDR
# below). Ports: MC_CAP_* below.
# KEEP_TMP=1 keeps the temp dir (captures, recordings, logs).
# SAMPLE_PCAP=FILE (needs swaks) writes the server side of five sessions that
# have no finding at all (SAMPLE_CASES below) to FILE, checks that it is
# silent, and prints the command that checks it: this is how
# corpus/samples/dovecot-postfix-loopback.pcap is made.
set -euo pipefail

MC=${1:?usage: capture_real.sh PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

# Ports (override in the environment if they clash): the servers, and one
# relay port per protocol so that the client-side capture can name them
MC_CAP_POP3_PORT=${MC_CAP_POP3_PORT:-26110}     # Dovecot POP3, STLS offered
MC_CAP_POP3S_PORT=${MC_CAP_POP3S_PORT:-26995}   # Dovecot POP3 implicit TLS (unused, but bound)
MC_CAP_IMAP_PORT=${MC_CAP_IMAP_PORT:-26143}     # Dovecot IMAP, STARTTLS offered
MC_CAP_IMAPS_PORT=${MC_CAP_IMAPS_PORT:-26993}   # Dovecot IMAP implicit TLS (unused, but bound)
MC_CAP_SMTP_PORT=${MC_CAP_SMTP_PORT:-26025}     # Postfix smtpd, STARTTLS offered
MC_CAP_SUBM_PORT=${MC_CAP_SUBM_PORT:-26587}     # Postfix submission (STARTTLS, then AUTH)
MC_CAP_SMTPS_PORT=${MC_CAP_SMTPS_PORT:-26465}   # Postfix implicit TLS (unused, but bound)
MC_CAP_R_POP3=${MC_CAP_R_POP3:-26111}           # the relays
MC_CAP_R_IMAP=${MC_CAP_R_IMAP:-26144}
MC_CAP_R_SMTP=${MC_CAP_R_SMTP:-26026}
MC_CAP_R_SUBM=${MC_CAP_R_SUBM:-26588}
# Dovecot also listens on this loopback address, on the same ports, with TLS
# off (lib.sh dovecot_notls): it offers no STARTTLS, so the plaintext IMAP
# cases log in in the clear without IMAP.CLEARTEXT.PASSWORD (RFC 8314 5.2)
MC_CAP_NOTLS_ADDR=${MC_CAP_NOTLS_ADDR:-127.0.0.2}

command -v dovecot >/dev/null 2>&1 || { echo "SKIP: dovecot is not installed (scripts/install-deps.sh installs it)"; exit 77; }
command -v postfix >/dev/null 2>&1 || { echo "SKIP: postfix is not installed (scripts/install-deps.sh installs it)"; exit 77; }
command -v tcpdump >/dev/null 2>&1 || { echo "SKIP: tcpdump is not installed (scripts/install-deps.sh installs it)"; exit 77; }
need_tools curl python3 openssl
HAVE_SWAKS=0
command -v swaks >/dev/null 2>&1 && HAVE_SWAKS=1
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (tcpdump on lo; the servers deliver as uid 5000)"; exit 1; }
need_ports_closed "override MC_CAP_*, see this script" "$MC_CAP_POP3_PORT" "$MC_CAP_POP3S_PORT" "$MC_CAP_IMAP_PORT" "$MC_CAP_IMAPS_PORT" \
         "$MC_CAP_SMTP_PORT" "$MC_CAP_SUBM_PORT" "$MC_CAP_SMTPS_PORT" \
         "$MC_CAP_R_POP3" "$MC_CAP_R_IMAP" "$MC_CAP_R_SMTP" "$MC_CAP_R_SUBM"

T0=$(date +%s%N)
DOVECOT_PID= POSTFIX_PID= RELAY_PID= TMP= TCPDUMP_PIDS=()
# stop_tcpdump PID: SIGINT (tcpdump writes out what it holds and exits), at most 10 s, then SIGKILL
stop_tcpdump() {
  local end=$(( $(date +%s) + 10 ))
  kill -INT "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
  kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${TCPDUMP_PIDS[@]}"; do stop_tcpdump "$p"; done
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$POSTFIX_PID" ] && stop_pid "$POSTFIX_PID"
  [ -n "$DOVECOT_PID" ] && stop_pid "$DOVECOT_PID"
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_tmp
make_cert
make_maildir   # alice: the POP3 messages (message 2 with dot lines); swapped for IMAP's below

# One Dovecot for everything: POP3 (write_dovecot_conf's own), IMAP, and the
# SASL socket Postfix authenticates through (start_dovecot_sasl's socket name);
# on 127.0.0.1 with STLS/STARTTLS, on $MC_CAP_NOTLS_ADDR without TLS
MC_NOTLS_ADDR=$MC_CAP_NOTLS_ADDR dovecot_notls
write_dovecot_conf pop3 "$DOVECOT_LISTEN" "$MC_CAP_POP3_PORT" "$MC_CAP_POP3S_PORT" "$DOVECOT_NOTLS
protocols = pop3 imap
service imap-login {
  inet_listener imap {
    port = $MC_CAP_IMAP_PORT
  }
  inet_listener imaps {
    port = $MC_CAP_IMAPS_PORT
    ssl = yes
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}"
dovecot -F -c "$TMP/dovecot/dovecot.conf" & DOVECOT_PID=$!
if ! { wait_banner "$MC_CAP_POP3_PORT" '+OK' && wait_banner "$MC_CAP_IMAP_PORT" '* OK' &&
       wait_banner "$MC_CAP_NOTLS_ADDR:$MC_CAP_IMAP_PORT" '* OK' && [ -S "$TMP/dovecot/run/auth-postfix" ]; }; then
  echo "FAIL: Dovecot did not come up on 127.0.0.1:$MC_CAP_POP3_PORT/$MC_CAP_IMAP_PORT, $MC_CAP_NOTLS_ADDR:$MC_CAP_IMAP_PORT with its SASL socket"
  tail -20 "$TMP/dovecot/dovecot.log" 2>/dev/null || true
  exit 1
fi
start_postfix "$MC_CAP_SMTP_PORT" "$MC_CAP_SUBM_PORT" "$MC_CAP_SMTPS_PORT" ||
  { echo "FAIL: Postfix did not come up on 127.0.0.1:$MC_CAP_SMTP_PORT"; tail -20 "$TMP/postfix/postfix.log" 2>/dev/null || true; exit 1; }
T_UP=$(date +%s%N)

# start_tcpdump NAME FILTER: capture on lo into $TMP/NAME.pcap, each packet
# written at once (-U, --immediate-mode), whole packets (-s 0), a 64 MiB
# kernel buffer (-B: with the default 2 MiB, bursts of 64 KiB loopback
# segments of the 200 KB messages were dropped), staying root (-Z root:
# Debian's tcpdump would switch to the user tcpdump, which may not write
# into $TMP); waits until it prints "listening on" (at most 10 s)
start_tcpdump() {
  local name=$1 filter=$2 pid
  tcpdump -i lo -n -U --immediate-mode -s 0 -B 65536 -Z root -w "$TMP/$name.pcap" "$filter" \
    > "$TMP/$name.tcpdump.out" 2> "$TMP/$name.tcpdump.err" &
  pid=$!
  TCPDUMP_PIDS+=("$pid")
  local end=$(( $(date +%s) + 10 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    grep -q 'listening on' "$TMP/$name.tcpdump.err" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  echo "FAIL: tcpdump ($name) did not start listening:"; sed 's/^/    | /' "$TMP/$name.tcpdump.err"
  exit 1
}
# The servers' ports: the relay's side of each session (client = the relay).
# The relay's ports: the clients' side (client = the real client). Each
# relayed session is on lo twice; each capture holds it once.
SERVER_PORTS=("$MC_CAP_POP3_PORT=pop3" "$MC_CAP_IMAP_PORT=imap" "$MC_CAP_SMTP_PORT=smtp" "$MC_CAP_SUBM_PORT=submission")
RELAY_PORTS=("$MC_CAP_R_POP3=pop3" "$MC_CAP_R_IMAP=imap" "$MC_CAP_R_SMTP=smtp" "$MC_CAP_R_SUBM=submission")
bpf() { local f= p; for p in "$@"; do f="${f:+$f or }tcp port ${p%%=*}"; done; echo "$f"; }
start_tcpdump server "$(bpf "${SERVER_PORTS[@]}")"
start_tcpdump relay "$(bpf "${RELAY_PORTS[@]}")"

# Error findings that are true deviations of a server or client, each with
# the RFC text it breaks: ALLOW[CASE]="RULE ...".
declare -A ALLOW=()
# pop3-inject is pop3_clients.py's deliberately misbehaving client: "CAPA\n"
# (RFC 1939 section 3: commands end in CRLF) and STLS with CAPA pipelined
# behind it in one segment (RFC 2595 section 4 / CVE-2011-0411 style injection).
ALLOW[pop3-inject]="POP3.CMD.BARE_LF POP3.STLS.CMD_INJECTION"
# imap-bare-lf / smtp-bare-lf are rude.py below, deliberately ending two
# command lines with a bare LF (RFC 3501 section 2.2: lines end in CRLF;
# RFC 5321 section 2.3.8: CR and LF only together, as CRLF).
# rude.py also sends its LOGIN in the clear to the listener that offers
# STARTTLS, so imap-bare-lf has the warning IMAP.CLEARTEXT.PASSWORD too (RFC
# 8314 section 5.2); the comparison below wants exactly these rules.
ALLOW[imap-bare-lf]="IMAP.CMD.BARE_LF IMAP.CLEARTEXT.PASSWORD"
ALLOW[smtp-bare-lf]="SMTP.CMD.BARE_LF"

PASSED=0 FAILED=0 NAME= SESSIONS=()
# relayed NAME PROTO RELAY_PORT [ADDR:]TARGET_PORT -- CLIENT_CMD...: one
# client session through a relay to ADDR (127.0.0.1 if not given) that
# records $TMP/NAME.mct; the client must succeed, the relay end by itself
# (exit 0, or 1 with ALLOWed findings). Failures are reported with the
# comparison below.
declare -A CLIENT_FAIL=()
relayed() {
  NAME=$1; local proto=$2 rport=$3 to=$4 rc=0 want=0; shift 5
  case $to in *:*) ;; *) to=127.0.0.1:$to ;; esac
  SESSIONS+=("$NAME $proto")
  if ! start_relay_to "$NAME" "$rport" "$to" --max-sessions 1 --protocol "$proto"; then
    CLIENT_FAIL[$NAME]="the relay did not start listening"; RELAY_PID=; return 0
  fi
  timeout 30 "$@" > "$TMP/$NAME.client" 2>&1 || rc=$?
  wait_relay 15
  [ -n "${ALLOW[$NAME]:-}" ] && [ "$RELAY_RC" = 1 ] && want=1
  if [ "$rc" != 0 ]; then CLIENT_FAIL[$NAME]="client exited $rc: $(tail -1 "$TMP/$NAME.client")"
  elif [ "$RELAY_RC" != "$want" ]; then CLIENT_FAIL[$NAME]="relay exited $RELAY_RC, expected $want"
  elif [ ! -s "$TMP/$NAME.mct" ]; then CLIENT_FAIL[$NAME]="no recording $NAME.mct"
  fi
  return 0
}

# rude.py imap|smtp PORT: a raw-socket client that ends some lines with a
# bare LF, so that the IMAP and SMTP sessions have findings (with offsets)
# for the captures to reproduce; Dovecot and Postfix 3.7 accept them. Its
# IMAP LOGIN goes in the clear although STARTTLS is offered (a finding too).
cat > "$TMP/rude.py" <<'RUDE'
import socket, sys
proto, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
def upto(pred):
    while True:
        line = f.readline()
        if not line:
            raise SystemExit(f"rude: connection closed while waiting ({proto})")
        if pred(line):
            return line
if proto == "imap":
    upto(lambda l: l.startswith(b"* OK"))
    for tag, cmd, end in ((b"a1", b"CAPABILITY", b"\n"), (b"a2", b"NOOP", b"\r\n"),
                          (b"a3", b"LOGIN alice alicepw", b"\n"), (b"a4", b"LOGOUT", b"\r\n")):
        s.sendall(tag + b" " + cmd + end)
        line = upto(lambda l: l.startswith(tag + b" "))
        if not line.startswith(tag + b" OK"):
            raise SystemExit(f"rude: {cmd!r} answered {line!r}")
else:
    upto(lambda l: l.startswith(b"220 "))
    steps = ((b"EHLO client.example\n", b"250 "), (b"MAIL FROM:<a@example.org>\r\n", b"250 "),
             (b"RCPT TO:<bob@test.example>\n", b"250 "), (b"DATA\r\n", b"354 "),
             (b"Subject: rude\r\n\r\na line\r\n.\r\n", b"250 "), (b"QUIT\r\n", b"221 "))
    for cmd, want in steps:
        s.sendall(cmd)
        line = upto(lambda l: l[3:4] == b" ")
        if not line.startswith(want):
            raise SystemExit(f"rude: {cmd!r} answered {line!r}")
print(f"rude {proto}: ok")
RUDE

CA=$TMP/cert.pem
CURL=(curl -sS --max-time 20 -u alice:alicepw)
POPPY=$HERE/pop3_clients.py IMAPPY=$HERE/imap_clients.py SMTPPY=$HERE/smtp_clients.py
R=$MC_CAP_R_POP3 S=$MC_CAP_POP3_PORT

# POP3 (messages of make_maildir)
relayed pop3-curl-plain pop3 "$R" "$S" -- "${CURL[@]}" "pop3://127.0.0.1:$R/" "pop3://127.0.0.1:$R/2"
relayed pop3-curl-stls pop3 "$R" "$S" -- "${CURL[@]}" --ssl-reqd --cacert "$CA" \
  --resolve "localhost:$R:127.0.0.1" "pop3://localhost:$R/1"
relayed pop3-poplib pop3 "$R" "$S" -- python3 "$POPPY" session "$R" "$CA"
relayed pop3-poplib-stls pop3 "$R" "$S" -- python3 "$POPPY" stls "$R" "$CA"
relayed pop3-poplib-auth pop3 "$R" "$S" -- python3 "$POPPY" auth-plain "$R" "$CA"
relayed pop3-inject pop3 "$R" "$S" -- python3 "$POPPY" inject "$R" "$CA"

# IMAP: alice's Maildir replaced by make_imap_maildir's (no session is open)
rm -rf "$TMP/mail/alice/Maildir"
make_imap_maildir
# (the plaintext sessions to the listener without STARTTLS)
R=$MC_CAP_R_IMAP S=$MC_CAP_IMAP_PORT PLAIN=$MC_CAP_NOTLS_ADDR:$MC_CAP_IMAP_PORT
URLS=(/ "/INBOX;UID=1" "/INBOX;UID=2" "/INBOX;UID=3")
relayed imap-curl-plain imap "$R" "$PLAIN" -- "${CURL[@]}" "${URLS[@]/#/imap://127.0.0.1:$R}"
relayed imap-curl-starttls imap "$R" "$S" -- "${CURL[@]}" --ssl-reqd --cacert "$CA" \
  --resolve "localhost:$R:127.0.0.1" "${URLS[@]/#/imap://localhost:$R}"
relayed imap-imaplib imap "$R" "$PLAIN" -- python3 "$IMAPPY" session "$R" "$CA" "$TMP/msgs"
relayed imap-imaplib-starttls imap "$R" "$S" -- python3 "$IMAPPY" session "$R" "$CA" "$TMP/msgs" --starttls
relayed imap-bare-lf imap "$R" "$S" -- python3 "$TMP/rude.py" imap "$R"

# SMTP (Postfix; mail to bob, so alice's mailbox stays as it is)
R=$MC_CAP_R_SMTP S=$MC_CAP_SMTP_PORT FROM=a@example.org
for k in plain dots big; do python3 "$SMTPPY" message "$k" "capture-$k" "$TMP/$k.eml" > /dev/null; done
if [ "$HAVE_SWAKS" = 1 ]; then
  SWAKS=(swaks --server 127.0.0.1 --port "$R" --helo client.example --from "$FROM" --to bob@test.example --timeout 15)
  relayed smtp-swaks-plain smtp "$R" "$S" -- "${SWAKS[@]}" --data "$TMP/plain.eml"
  relayed smtp-swaks-pipeline smtp "$R" "$S" -- "${SWAKS[@]}" --pipeline --data "$TMP/plain.eml"
  relayed smtp-swaks-starttls smtp "$R" "$S" -- "${SWAKS[@]}" --tls --tls-verify --tls-ca-path "$CA" --data "$TMP/plain.eml"
else
  echo "# swaks is not installed: its SMTP sessions are left out"
fi
relayed smtp-curl-dots smtp "$R" "$S" -- curl -sS --max-time 20 "smtp://127.0.0.1:$R/client.example" \
  --mail-from "$FROM" --mail-rcpt bob@test.example -T "$TMP/dots.eml"
relayed smtp-curl-starttls smtp "$R" "$S" -- curl -sS --max-time 20 --ssl-reqd --cacert "$CA" \
  --resolve "localhost:$R:127.0.0.1" "smtp://localhost:$R/client.example" \
  --mail-from "$FROM" --mail-rcpt bob@test.example -T "$TMP/dots.eml"
relayed smtp-smtplib-big smtp "$R" "$S" -- python3 "$SMTPPY" smtplib-plain "$R" "$TMP/big.eml" "$FROM" bob@test.example
relayed smtp-bare-lf smtp "$R" "$S" -- python3 "$TMP/rude.py" smtp "$R"
R=$MC_CAP_R_SUBM S=$MC_CAP_SUBM_PORT
relayed subm-smtplib-starttls submission "$R" "$S" -- python3 "$SMTPPY" smtplib-starttls "$R" "$CA" \
  "$TMP/plain.eml" alice@test.example bob@test.example

# Stop the captures once both files have stopped growing (every packet of
# the last session written), then SIGINT
end_t=$(( $(date +%s) + 5 )) last=
while [ "$(date +%s)" -lt "$end_t" ]; do
  sleep 0.3
  now=$(stat -c %s "$TMP/server.pcap" "$TMP/relay.pcap" | tr '\n' ' ')
  [ "$now" = "$last" ] && break
  last=$now
done
for p in "${TCPDUMP_PIDS[@]}"; do stop_tcpdump "$p"; done
TCPDUMP_PIDS=()
T_CAP=$(date +%s%N)

# Each transcript, and each capture, through `mailconform check`
: > "$TMP/sessions.txt"
for s in "${SESSIONS[@]}"; do
  read -r n proto <<< "$s"
  rc=0
  timeout 60 "$MC" check --format jsonl --protocol "$proto" "$TMP/$n.mct" > "$TMP/$n.jsonl" 2> "$TMP/$n.check.err" || rc=$?
  echo "$n $proto $rc ${CLIENT_FAIL[$n]:+client-failed} ${ALLOW[$n]:-}" >> "$TMP/sessions.txt"
  [ -n "${CLIENT_FAIL[$n]:-}" ] && echo "    $n: ${CLIENT_FAIL[$n]}" >> "$TMP/client-failures.txt"
done
check_capture() {
  local name=$1 rc=0 opts=() p; shift
  for p in "$@"; do opts+=(--port "$p"); done
  timeout 120 "$MC" check --format jsonl "${opts[@]}" "$TMP/$name.pcap" > "$TMP/$name.jsonl" 2> "$TMP/$name.check.err" || rc=$?
  echo "$rc" > "$TMP/$name.check.rc"
}
check_capture server "${SERVER_PORTS[@]}"
check_capture relay "${RELAY_PORTS[@]}"

# compare.py SIDE MAPPING: the flows of $TMP/SIDE.jsonl against the
# transcripts of sessions.txt. MAPPING order: the flows in the order of
# their first frame are the sessions in theirs, each one preceded by the
# relay's probe (it connects to the server once before listening, and
# closes without sending anything: a flow whose client sent 0 octets, which
# may carry a warning such as SMTP.CLOSE.WITHOUT_QUIT but no error); port:
# the flow from the transcript's "@ client" to the relay's listening address
# (its "# listening on" line; the client address alone is not enough: the
# kernel may give the same ephemeral port to a later client of another
# relay port). The capture on the relay's ports has no probes. Octets each
# way must equal the transcript's, but for the client's in pop3-inject
# (Dovecot drops the TLS handshake and resets; the relay tears the session
# down, '# ... torn down: ...'), two races: on the server's side, when the
# relay could not pass on the client's last octets ("torn down: writing to
# the server"), the server saw fewer; on the relay's side, the client's TLS
# alert may reach the relay's socket after the relay stopped reading it, so
# the client sent more.
# Prints PASS/FAIL per session, the counts last.
cat > "$TMP/compare.py" <<'EOF'
import collections, json, os, re, sys
tmp, side, mapping = sys.argv[1], sys.argv[2], sys.argv[3]
ESC = re.compile(rb"\\(x[0-9A-Fa-f]{2}|.)")
def unescape(t):
    def one(m):
        e = m.group(1)
        if e[:1] == b"x" and len(e) == 3:
            return bytes([int(e[1:], 16)])
        return {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}.get(e, b"\\" + e)
    return ESC.sub(one, t)
def transcript(path):
    """octets each way, ('@ client' address, the relay's listening address),
    whether '! tls' appears, why the relay tore the session down (None if
    it ended normally)"""
    octets, client, relay, tls, torn = {"C": 0, "S": 0}, None, None, False, None
    with open(path, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\n").rstrip(b"\r")
            if line[:3] in (b"C: ", b"S: "):
                octets[line[:1].decode()] += len(unescape(line[3:]))
            elif line.startswith(b"@ client "):
                client = line[9:].decode().strip()
            elif line.startswith(b"# listening on ") and relay is None:
                relay = line[15:].split(b",")[0].decode().strip()
            elif line.strip() == b"! tls":
                tls = True
            elif line.startswith(b"# ") and b" torn down: " in line:
                torn = line.split(b" torn down: ", 1)[1].decode(errors="replace")
    return octets, (client, relay), tls, torn
def key(d):
    return (d["rule"], d["severity"], d["direction"], d["offset"])
def jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                out.append(json.loads(line))
    return out

sessions = []
with open(os.path.join(tmp, "sessions.txt")) as f:
    for line in f:
        w = line.split()
        sessions.append({"name": w[0], "proto": w[1], "rc": int(w[2]),
                         "client_failed": "client-failed" in w[3:],
                         "allow": {x for x in w[3:] if x != "client-failed"}})
cap = jsonl(os.path.join(tmp, side + ".jsonl"))
cap_rc = int(open(os.path.join(tmp, side + ".check.rc")).read())
flows = sorted((d for d in cap if "flow" in d), key=lambda d: d["first_frame"])
by_flow = collections.defaultdict(list)
for d in cap:
    if "rule" in d:
        by_flow[d["session"]].append(d)
summaries = [d for d in cap if "capture" in d]
passed = failed = 0
problems_all = []
if cap_rc not in (0, 1):
    problems_all.append(f"mailconform check on {side}.pcap exited {cap_rc}")
probes = []
if mapping == "order":
    # the relay's probe before each session (all sessions here send something)
    probes = [f for f in flows if f["octets"]["client"] == 0]
    flows = [f for f in flows if f["octets"]["client"] != 0]
    for f in probes:
        errs = [d["rule"] for d in by_flow.get(f["flow"], []) if d["severity"] == "error"]
        if errs:
            problems_all.append(f"the relay's probe {f['flow']} has error findings {errs}")
    if len(probes) != len(sessions):
        problems_all.append(f"{len(probes)} probe flows (client sent nothing), {len(sessions)} sessions recorded")
    else:
        print(f"# {side} capture: {len(probes)} relay probes (no client octets), findings: "
              + (", ".join(sorted(d["rule"] for p in probes for d in by_flow.get(p["flow"], []))) or "none"))
if len(flows) != len(sessions):
    problems_all.append(f"{len(flows)} flows in {side}.pcap, {len(sessions)} sessions recorded")
elif mapping == "order" and len(probes) == len(sessions):
    for i, (p, f) in enumerate(zip(probes, flows)):
        if not (p["first_frame"] < f["first_frame"] and (i == 0 or flows[i - 1]["first_frame"] < p["first_frame"])):
            problems_all.append(f"probe {p['flow']} does not come just before {f['flow']}")
if len(summaries) != 1:
    problems_all.append(f"{len(summaries)} capture summaries")
known = {f["flow"] for f in flows + probes}
stray = [n for n in by_flow if n not in known]
if stray:
    problems_all.append(f"findings of no flow: {stray}")
for p in problems_all:
    print(f"    {side}: {p}")
by_client = {(f["client"], f["server"]): f for f in flows}
for i, s in enumerate(sessions):
    name, problems = s["name"], []
    mct = os.path.join(tmp, name + ".mct")
    if s["client_failed"]:
        problems.append("the client session failed (see above)")
    if not os.path.exists(mct):
        print(f"FAIL: {side} capture: {name}: no transcript"); failed += 1; continue
    octets, client, tls, torn = transcript(mct)
    if mapping == "port":
        flow = by_client.get(client)
        if flow is None:
            problems.append(f"no flow from the transcript's client {client[0]} to the relay {client[1]}")
    else:
        flow = flows[i] if i < len(flows) else None
        if flow is None:
            problems.append("no flow")
    if s["rc"] not in (0, 1):
        problems.append(f"mailconform check on the transcript exited {s['rc']}")
    tr = [d for d in jsonl(os.path.join(tmp, name + ".jsonl")) if "rule" in d]
    if flow is not None:
        want_proto = "smtp" if s["proto"] == "submission" else s["proto"]
        if flow["protocol"] != want_proto or flow["submission"] != (s["proto"] == "submission"):
            problems.append(f"flow protocol {flow['protocol']} submission={flow['submission']}, expected {s['proto']}")
        if not flow["validated"]:
            problems.append("flow not validated")
        if flow["mode"] != ("STARTTLS" if tls else "plain"):
            problems.append(f"flow mode {flow['mode']!r}, transcript {'has' if tls else 'lacks'} '! tls'")
        if flow["roles_from"] != "syn" or flow["midstream"]:
            problems.append(f"roles from {flow['roles_from']}, midstream {flow['midstream']}")
        if flow["gaps"] or flow["overlaps_differing"]:
            problems.append(f"{flow['gaps']} gaps ({flow['gap_octets']} octets), {flow['overlaps_differing']} differing overlaps")
        fc_c = flow["octets"]["client"]
        short = mapping == "order" and torn and torn.startswith("writing to the server") and fc_c <= octets["C"]
        late = mapping == "port" and torn and fc_c >= octets["C"]
        if flow["octets"] != {"client": octets["C"], "server": octets["S"]} and not (
                (short or late) and flow["octets"]["server"] == octets["S"]):
            problems.append(f"flow octets {flow['octets']}, transcript client {octets['C']} server {octets['S']}")
        fc = collections.Counter(key(d) for d in by_flow.get(flow["flow"], []))
        tc = collections.Counter(key(d) for d in tr)
        if fc != tc:
            problems.append(f"findings differ: capture only {sorted((fc - tc).elements())}, "
                            f"transcript only {sorted((tc - fc).elements())}")
        if flow["findings"] != sum(fc.values()):
            problems.append(f"flow summary counts {flow['findings']} findings, {sum(fc.values())} listed")
    errors = sorted({d["rule"] for d in tr if d["severity"] == "error"} - s["allow"])
    if errors:
        problems.append(f"error findings {errors}")
    found = sorted({d["rule"] for d in tr})
    if s["allow"] and found != sorted(s["allow"]):
        problems.append(f"expected exactly the rules {sorted(s['allow'])}, found {found}")
    label = f"{name} ({s['proto']}, {len(tr)} findings" + (f", {flow['flow']}" if flow else "") + ")"
    if problems or problems_all:
        print(f"FAIL: {side} capture: {label}")
        for p in problems:
            print(f"    {name}: {p}")
        failed += 1
    else:
        print(f"PASS: {side} capture: {label}")
        passed += 1
print(f"{side}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF

echo "# $(wc -l < "$TMP/sessions.txt") sessions; tcpdump: $(grep -h 'packets captured' "$TMP"/server.tcpdump.err "$TMP"/relay.tcpdump.err | tr '\n' ' ')"
[ -s "$TMP/client-failures.txt" ] && { echo "# client sessions that failed:"; cat "$TMP/client-failures.txt"; }
for side in server relay; do
  dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel$/\1/p' "$TMP/$side.tcpdump.err")
  [ "${dropped:-x}" = 0 ] || { echo "FAIL: tcpdump ($side) dropped packets: $(tr '\n' ' ' < "$TMP/$side.tcpdump.err")"; FAILED=$((FAILED + 1)); }
done
mapping=order
for side in server relay; do
  [ "$side" = relay ] && mapping=port
  out=$(python3 "$TMP/compare.py" "$TMP" "$side" "$mapping" 2>&1) || true
  echo "$out" | grep -v '^[a-z]*: [0-9]* passed, [0-9]* failed$' || true
  p=$(echo "$out" | sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(echo "$out" | sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  if [ -z "$p" ]; then echo "FAIL: $side capture: the comparison did not finish"; FAILED=$((FAILED + 1))
  else PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); fi
  if [ "${f:-1}" != 0 ]; then
    for x in "$side.check.err" "$side.tcpdump.err"; do
      [ -s "$TMP/$x" ] && { echo "    --- $x"; head -c 2000 "$TMP/$x" | sed 's/^/    | /'; }
    done
  fi
done

# SAMPLE_PCAP: the server side of SAMPLE_CASES (each flow found by its place
# among the flows that are not probes, as in compare.py's "order" mapping),
# cut out of server.pcap by tcpdump, then checked: exactly these flows, each
# validated, no finding at all
SAMPLE_CASES=(pop3-curl-stls imap-curl-plain smtp-swaks-plain smtp-swaks-starttls subm-smtplib-starttls)
SAMPLE_PORTS=("$MC_CAP_POP3_PORT=pop3" "$MC_CAP_IMAP_PORT=imap" "$MC_CAP_SMTP_PORT=smtp" "$MC_CAP_SUBM_PORT=submission")
write_sample() {
  local out=$1 filter rc=0
  [ "$HAVE_SWAKS" = 1 ] || { echo "FAIL: SAMPLE_PCAP needs swaks (its SMTP sessions are in the sample)"; return 1; }
  [ "$FAILED" = 0 ] || { echo "FAIL: SAMPLE_PCAP not written: a case failed"; return 1; }
  filter=$(python3 - "$TMP" "${SAMPLE_CASES[@]}" <<'PY'
import json, os, sys
tmp, want = sys.argv[1], sys.argv[2:]
names = [line.split()[0] for line in open(os.path.join(tmp, "sessions.txt"))]
flows = []
for line in open(os.path.join(tmp, "server.jsonl"), encoding="utf-8"):
    if line.strip():
        d = json.loads(line)
        if "flow" in d and d["octets"]["client"] != 0:
            flows.append(d)
flows.sort(key=lambda d: d["first_frame"])
assert len(flows) == len(names), f"{len(flows)} flows, {len(names)} sessions"
by_name = dict(zip(names, flows))
parts = []
for n in want:
    f = by_name[n]
    assert f["findings"] == 0, f"{n} has {f['findings']} findings"
    (ch, cp), (sh, sp) = (f[k].rsplit(":", 1) for k in ("client", "server"))
    parts.append(f"(host {ch} and tcp port {cp} and host {sh} and tcp port {sp})")
print(" or ".join(parts))
PY
  ) || { echo "FAIL: SAMPLE_PCAP: the sessions' flows were not found in server.pcap"; return 1; }
  tcpdump -r "$TMP/server.pcap" -w "$TMP/sample.pcap" "$filter" 2> "$TMP/sample.tcpdump.err" ||
    { echo "FAIL: SAMPLE_PCAP: tcpdump -r: $(tail -1 "$TMP/sample.tcpdump.err")"; return 1; }
  local opts=() p
  for p in "${SAMPLE_PORTS[@]}"; do opts+=(--port "$p"); done
  "$MC" check --format jsonl "${opts[@]}" "$TMP/sample.pcap" > "$TMP/sample.jsonl" 2>&1 || rc=$?
  python3 - "$TMP/sample.jsonl" "$rc" "${#SAMPLE_CASES[@]}" <<'PY' || { echo "FAIL: SAMPLE_PCAP: the sample is not as expected"; return 1; }
import json, sys
path, rc, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ds = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
flows = [d for d in ds if "flow" in d]
rules = [d["rule"] for d in ds if "rule" in d]
ok = rc == 0 and not rules and len(flows) == n and all(f["validated"] and not f["gaps"] for f in flows)
print(f"# sample: exit {rc}, {len(flows)} flows " + " ".join(f"{f['protocol']}/{f['mode']}" for f in flows)
      + f", findings {rules or 'none'}")
sys.exit(0 if ok else 1)
PY
  cp "$TMP/sample.pcap" "$out"
  echo "# sample: wrote $out; check it with: mailconform check ${opts[*]} $out"
}
if [ -n "${SAMPLE_PCAP:-}" ]; then
  write_sample "$SAMPLE_PCAP" || FAILED=$((FAILED + 1))
fi

T1=$(date +%s%N)
echo "time: $(( (T1 - T0) / 1000000 )) ms (servers up after $(( (T_UP - T0) / 1000000 )) ms, captures stopped after $(( (T_CAP - T0) / 1000000 )) ms; the servers' stop follows)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
