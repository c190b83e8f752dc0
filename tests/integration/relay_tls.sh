#!/usr/bin/env bash
# Integration test: `mailconform relay --tls-cert CERT --tls-key KEY`
# terminates TLS on both legs. Real clients (curl, Python's poplib and
# imaplib) that trust only a test CA made here talk TLS to the relay; the
# relay talks TLS to a real Dovecot on loopback (verified with --tls-ca),
# in implicit TLS (POP3S, IMAPS) and after STLS/STARTTLS. Each recording
# must hold "! tls decrypted" and the commands sent inside TLS, `mailconform
# check` on it must find no error, and the relay's live findings must be the
# same rules. Also: a crafted client pipelining CAPA behind STLS
# (POP3.STLS.CMD_INJECTION, held and not forwarded), a client that never
# completes its handshake (torn down after the timeout), a server leg that
# fails verification, the key log decrypting a tcpdump capture of the
# client leg (when tcpdump is there), and smtplib with STARTTLS through the
# relay to a scripted SMTP server (tls_relay_peers.py smtp-server), and a
# plaintext message with a line "STARTTLS" that must not stall the relay.
#
# usage: tests/integration/relay_tls.sh PATH/TO/mailconform
# Exit: 0 all passed, 1 a case failed, 77 Dovecot is not installed (skip).
# Needs root (Dovecot switches to the mail uid 5000). Sends nothing beyond
# 127.0.0.1. Ports: lib.sh (POP3 21110/21995, IMAP 24143/24993, relay 21111).
# KEEP_TMP=1 keeps the temp dir (recordings, logs) for inspection.
set -euo pipefail

MC=${1:?usage: relay_tls.sh PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/tls_relay_peers.py
. "$HERE/lib.sh"

if ! command -v dovecot >/dev/null 2>&1; then
  echo "SKIP: dovecot is not installed (scripts/install-deps.sh installs it)"
  exit 77
fi
need_tools curl python3 openssl
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (Dovecot switches to the mail uid 5000)"; exit 1; }
need_ports_closed "override MC_*_PORT, see lib.sh" "$MC_POP3_PORT" "$MC_POP3S_PORT" "$MC_IMAP_PORT" "$MC_IMAPS_PORT" "$MC_RELAY_PORT"

DOVECOT_PID= RELAY_PID= DUMP_PID= SMTPD_PID= TMP=
cleanup() {
  [ -n "$DUMP_PID" ] && stop_pid "$DUMP_PID"
  [ -n "$SMTPD_PID" ] && stop_pid "$SMTPD_PID"
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$DOVECOT_PID" ] && stop_pid "$DOVECOT_PID"
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_tmp
make_cert           # Dovecot's own certificate: the server leg verifies it (--tls-ca)
make_maildir        # POP3: alice's three messages
# The test CA and the relay's certificate, signed by it: the clients trust
# only this CA, so a session that works went through the relay's TLS.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mailconform test CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$TMP/relay.key" \
  -out "$TMP/relay.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$TMP/relay.ext"
openssl x509 -req -in "$TMP/relay.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
  -days 2 -extfile "$TMP/relay.ext" -out "$TMP/relay.pem" 2>/dev/null

PASSED=0 FAILED=0 CASE= CASE_OK=1
begin() { CASE=$1; CASE_OK=1; }
bad() { echo "    $CASE: $*"; CASE_OK=0; }
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

TLSOPTS=(--tls-cert "$TMP/relay.pem" --tls-key "$TMP/relay.key" --tls-ca "$TMP/cert.pem")
R=$MC_RELAY_PORT
CURL=(curl -sS --max-time 15 --cacert "$TMP/ca.pem")

# relayed NAME TO SESSIONS RELAY_OPTS -- CLIENT_CMD...: client(s) through the relay to TO
relayed() {
  local name=$1 to=$2 n=$3 opts=() rc=0; shift 3
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done; shift
  if ! start_relay_to "$name" "$R" "$to" --max-sessions "$n" "${opts[@]}"; then
    bad "the relay did not start listening"; return 0
  fi
  timeout 30 "$@" >> "$TMP/$name.client" 2>&1 || { rc=$?; bad "client exited $rc"; }
}
# finish [RC]: wait for the relay to stop by itself (max-sessions); it
# exits RC (default 0; 1: it reported findings)
finish() {
  wait_relay 20
  [ "$RELAY_RC" = "${1:-0}" ] || bad "relay exited $RELAY_RC, expected ${1:-0}"
}
# has NAME LITERAL...: the recording holds each literal (transcript escapes: \r\n)
has() {
  local name=$1; shift
  for s in "$@"; do grep -qF -- "$s" "$TMP/$name.mct" || bad "recording lacks '$s'"; done
}
# after_tls NAME LITERAL...: each literal comes after the first "! tls decrypted"
# (a file, not a pipe: grep -q would leave sed a SIGPIPE, failing under pipefail)
after_tls() {
  local name=$1; shift
  sed -n '/^! tls decrypted$/,$p' "$TMP/$name.mct" > "$TMP/$name.intls"
  for s in "$@"; do
    grep -qF -- "$s" "$TMP/$name.intls" || bad "'$s' is not inside TLS in the recording"
  done
}
# rules_of FILE: sorted rule ids of a jsonl findings file
rules_of() {
  python3 -c 'import sys, json; print("\n".join(sorted({json.loads(l)["rule"] for l in open(sys.argv[1]) if l.strip().startswith("{") and "rule" in json.loads(l)})))' "$1"
}
errors_of() {
  python3 -c 'import sys, json; print("\n".join(sorted({json.loads(l)["rule"] for l in open(sys.argv[1]) if l.strip().startswith("{") and json.loads(l).get("severity") == "error"})))' "$1"
}
# validated NAME: check finds no error in the recording, and the same rules as the relay live
validated() {
  local name=$1
  "$MC" check --format jsonl "$TMP/$name.mct" > "$TMP/$name.check" 2>&1 || true
  local errs; errs=$(errors_of "$TMP/$name.check")
  [ -z "$errs" ] || bad "mailconform check reports errors: $errs"
  [ "$(rules_of "$TMP/$name.check")" = "$(rules_of "$TMP/$name.relay.out")" ] ||
    bad "check and the relay disagree: '$(rules_of "$TMP/$name.check")' vs '$(rules_of "$TMP/$name.relay.out")'"
}
LOGS=(relay.err relay.out client check)
logs() { local n=$1; printf "$n.%s " "${LOGS[@]}" mct; }

if ! start_dovecot; then
  echo "FAIL: Dovecot (POP3) did not come up"; tail -20 "$TMP/dovecot/dovecot.log" 2>/dev/null || true; exit 1
fi

# (a) POP3 in implicit TLS: poplib and curl pop3s through the relay to 995
begin "pop3s: poplib + curl, implicit TLS on both legs"
relayed pop3s 127.0.0.1:$MC_POP3S_PORT 2 "${TLSOPTS[@]}" --tls implicit -- python3 "$PEERS" pop3s $R "$TMP/ca.pem"
timeout 30 "${CURL[@]}" -u alice:alicepw pop3s://localhost:$R/1 --resolve localhost:$R:127.0.0.1 \
  >> "$TMP/pop3s.client" 2>&1 || bad "curl pop3s failed"
finish
grep -qF 'Subject: first' "$TMP/pop3s.client" || bad "curl did not fetch message 1"
has pop3s '! tls decrypted' 'S: +OK Dovecot'
after_tls pop3s 'C: USER alice\r\n' 'C: RETR 2\r\n' 'C: RETR 1\r\n' '..leading dot line\r\n'
grep -q '^# session 1: TLS with the client: TLSv1' "$TMP/pop3s.mct" || bad "no TLS note for the client leg"
grep -q '^# session 1: TLS with the server: TLSv1' "$TMP/pop3s.mct" || bad "no TLS note for the server leg"
validated pop3s
end $(logs pop3s)

# (b) POP3 with STLS: poplib.stls and curl --ssl-reqd through the relay to 110
begin "pop3 STLS: poplib + curl --ssl-reqd, TLS after the go-ahead"
relayed pop3-stls 127.0.0.1:$MC_POP3_PORT 2 "${TLSOPTS[@]}" -- python3 "$PEERS" pop3-stls $R "$TMP/ca.pem"
timeout 30 "${CURL[@]}" --ssl-reqd -u alice:alicepw pop3://localhost:$R/1 --resolve localhost:$R:127.0.0.1 \
  >> "$TMP/pop3-stls.client" 2>&1 || bad "curl pop3 --ssl-reqd failed"
finish
grep -qF 'Subject: first' "$TMP/pop3-stls.client" || bad "curl did not fetch message 1"
has pop3-stls 'C: STLS\r\n' 'S: +OK Begin TLS'
after_tls pop3-stls 'C: USER alice\r\n' 'C: RETR 2\r\n' 'C: RETR 1\r\n'
sed -n '1,/^! tls decrypted$/p' "$TMP/pop3-stls.mct" > "$TMP/pop3-stls.plain"
grep -qE '^C: (USER|PASS)' "$TMP/pop3-stls.plain" && bad "credentials before TLS"
grep -qF 'C: \x16\x03' "$TMP/pop3-stls.mct" && bad "TLS records were recorded instead of plaintext"
validated pop3-stls
end $(logs pop3-stls)

# (c) a crafted client pipelines CAPA behind STLS: reported live and by check;
# the relay holds CAPA back (never forwarded, inside TLS or outside)
begin "pop3 STLS with a pipelined command: POP3.STLS.CMD_INJECTION"
relayed pipelined 127.0.0.1:$MC_POP3_PORT 1 "${TLSOPTS[@]}" -- python3 "$PEERS" pop3-pipelined $R "$TMP/ca.pem"
finish 1
has pipelined 'C: STLS\r\nCAPA\r\n' '! tls decrypted' '6 client octets pipelined behind STARTTLS not forwarded'
after_tls pipelined 'C: CAPA\r\n' 'C: QUIT\r\n'
grep -q 'POP3.STLS.CMD_INJECTION' "$TMP/pipelined.relay.out" || bad "the relay did not report POP3.STLS.CMD_INJECTION"
"$MC" check --format jsonl "$TMP/pipelined.mct" > "$TMP/pipelined.check" 2>&1 || true
grep -q 'POP3.STLS.CMD_INJECTION' "$TMP/pipelined.check" || bad "check did not report POP3.STLS.CMD_INJECTION"
grep -q 'INJECTION_ANSWERED' "$TMP/pipelined.check" && bad "the held command reached the server"
end $(logs pipelined)

# (d) the server leg is verified by default: Dovecot's self-signed
# certificate is not in the system store, so the session is refused
begin "server leg verified against the system store by default"
relayed noverify 127.0.0.1:$MC_POP3S_PORT 1 --tls-cert "$TMP/relay.pem" --tls-key "$TMP/relay.key" \
  --tls implicit -- bash -c "! python3 '$PEERS' pop3s $R '$TMP/ca.pem'"
finish
grep -q 'TLS handshake with the server failed: certificate verification failed' "$TMP/noverify.relay.err" ||
  bad "no verification failure in the relay's log"
grep -q '^# session 1 torn down: TLS handshake with the server failed' "$TMP/noverify.mct" ||
  bad "the recording does not say why the session was torn down"
end $(logs noverify)

# (e) a client that never starts its handshake is closed after the timeout
begin "a client that never completes the handshake is closed and reported"
# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
if start_relay_to idle "$R" 127.0.0.1:$MC_POP3S_PORT --max-sessions 1 "${TLSOPTS[@]}" --tls implicit; then
  timeout 30 python3 "$PEERS" idle $R "$TMP/ca.pem" > "$TMP/idle.client" 2>&1 & IDLE_PID=$!
  # waiting for a handshake must not busy-loop: well under half a second of CPU in 6 s
  sleep 1; t1=$(cpu_ticks "$RELAY_PID"); sleep 6; t2=$(cpu_ticks "$RELAY_PID")
  [ $(( t2 - t1 )) -lt $(( $(getconf CLK_TCK) / 2 )) ] ||
    bad "the relay used $(( t2 - t1 )) ticks of CPU in 6 s of waiting for a handshake"
  wait "$IDLE_PID" || bad "the idle client failed"
else
  bad "the relay did not start listening"
fi
finish
grep -qE 'closed after (9|1[0-2])\.' "$TMP/idle.client" || bad "the client was not closed after about 10 s"
grep -q 'TLS handshake not completed within 10000 ms by the client' "$TMP/idle.relay.err" ||
  bad "the timeout is not in the relay's log"
end $(logs idle)

stop_pid "$DOVECOT_PID"; DOVECOT_PID=
# a fresh maildir and index: the IMAP messages reuse the POP3 file names
rm -rf "$TMP/mail" "$TMP/dovecot"
make_imap_maildir
if ! start_dovecot_imap; then
  echo "FAIL: Dovecot (IMAP) did not come up"; tail -20 "$TMP/dovecot/dovecot.log" 2>/dev/null || true; exit 1
fi

# (f) IMAP in implicit TLS: imaplib and curl imaps, with a key log; the
# client leg captured by tcpdump is decrypted by check --keylog
begin "imaps: imaplib + curl, implicit TLS, key log"
DUMP=0
if command -v tcpdump >/dev/null 2>&1; then
  tcpdump -i lo -U -s 0 -w "$TMP/imaps.pcap" "tcp port $R" 2> "$TMP/tcpdump.err" & DUMP_PID=$!
  for _ in $(seq 100); do grep -q 'listening on' "$TMP/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
  DUMP=1
fi
relayed imaps 127.0.0.1:$MC_IMAPS_PORT 2 "${TLSOPTS[@]}" --tls implicit --keylog "$TMP/relay.keylog" \
  -- python3 "$PEERS" imaps $R "$TMP/ca.pem"
timeout 30 "${CURL[@]}" -u alice:alicepw "imaps://localhost:$R/INBOX;UID=2" --resolve localhost:$R:127.0.0.1 \
  >> "$TMP/imaps.client" 2>&1 || bad "curl imaps failed"
finish
grep -qF 'Grüße aus Köln' "$TMP/imaps.client" || bad "curl did not fetch message 2"
has imaps '! tls decrypted' '* OK'
after_tls imaps 'LOGIN alice' 'SELECT INBOX' 'FETCH 1 (BODY[])'
validated imaps
[ "$(grep -c '^CLIENT_TRAFFIC_SECRET_0 \|^CLIENT_RANDOM ' "$TMP/relay.keylog")" -ge 4 ] ||
  bad "the key log lacks the secrets of both legs of two sessions"
if [ "$DUMP" = 1 ]; then
  sleep 0.3; stop_pid "$DUMP_PID"; DUMP_PID=
  "$MC" check --format jsonl --port $R=imaps --keylog "$TMP/relay.keylog" "$TMP/imaps.pcap" \
    > "$TMP/imaps.pcapcheck" 2>&1 || true
  grep -q 'not validated\|no key' "$TMP/imaps.pcapcheck" && bad "the capture was not decrypted with the key log"
  errs=$(errors_of "$TMP/imaps.pcapcheck")
  [ -z "$errs" ] || bad "check of the decrypted capture reports errors: $errs"
  "$MC" check --port $R=imaps --keylog "$TMP/relay.keylog" "$TMP/imaps.pcap" > "$TMP/imaps.pcaptext" 2>&1 || true
  grep -qi 'decrypt' "$TMP/imaps.pcaptext" || bad "check does not say it decrypted the capture"
else
  echo "    (tcpdump not installed: key log decryption of a capture not tested)"
fi
end $(logs imaps) imaps.pcapcheck imaps.pcaptext

# (g) IMAP with STARTTLS: imaplib.starttls through the relay to 143
begin "imap STARTTLS: imaplib, TLS after the tagged OK"
relayed imap-starttls 127.0.0.1:$MC_IMAP_PORT 1 "${TLSOPTS[@]}" --tls starttls \
  -- python3 "$PEERS" imap-starttls $R "$TMP/ca.pem"
finish
has imap-starttls 'STARTTLS\r\n' 'OK Begin TLS'
after_tls imap-starttls 'LOGIN alice' 'SELECT INBOX' 'FETCH 1 (BODY[])' 'LOGOUT'
validated imap-starttls
end $(logs imap-starttls)

# (h) SMTP with STARTTLS: smtplib through the relay to a scripted server
# (tls_relay_peers.py smtp-server, Dovecot's certificate) on $MC_POP3_PORT
# (free again: Dovecot's POP3 is stopped)
begin "smtp STARTTLS: smtplib, TLS after the 220, message sent inside TLS"
python3 "$PEERS" smtp-server "$MC_POP3_PORT" "$TMP/cert.pem" "$TMP/key.pem" > "$TMP/smtp.server" 2>&1 & SMTPD_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/smtp.server" 2>/dev/null && break; sleep 0.05; done
relayed smtp 127.0.0.1:$MC_POP3_PORT 1 "${TLSOPTS[@]}" --tls-servername localhost \
  -- python3 "$PEERS" smtp-starttls $R "$TMP/ca.pem"
finish
timeout 10 tail --pid="$SMTPD_PID" -f /dev/null || true
wait "$SMTPD_PID" || bad "the scripted server failed"
SMTPD_PID=
grep -q 'server: tls=True' "$TMP/smtp.server" || bad "the server did not end inside TLS"
grep -q 'Hello inside TLS' "$TMP/smtp.server" || bad "the message did not arrive"
has smtp 'C: STARTTLS\r\n' 'S: 220 2.0.0 Ready to start TLS\r\n'
after_tls smtp 'C: mail FROM:<bob@test.example>' 'C: rcpt TO:<alice@test.example>' 'Hello inside TLS.' 'C: quit\r\n' 'S: 221 '
validated smtp
end $(logs smtp) smtp.server

# (i) a line "STARTTLS" inside a plaintext message is held only until the
# hold time runs out (no answer comes during DATA), then forwarded: no stall
begin "smtp DATA with a line STARTTLS: held for 2 s, then forwarded"
python3 "$PEERS" smtp-server "$MC_POP3_PORT" "$TMP/cert.pem" "$TMP/key.pem" > "$TMP/smtpdata.server" 2>&1 & SMTPD_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/smtpdata.server" 2>/dev/null && break; sleep 0.05; done
relayed smtpdata 127.0.0.1:$MC_POP3_PORT 1 "${TLSOPTS[@]}" -- python3 "$PEERS" smtp-plain-data $R "$TMP/ca.pem"
finish
timeout 10 tail --pid="$SMTPD_PID" -f /dev/null || true
wait "$SMTPD_PID" || bad "the scripted server failed"
SMTPD_PID=
grep -q 'The end.' "$TMP/smtpdata.server" || bad "the message did not arrive whole"
has smtpdata 'no answer to the STARTTLS line in 2000 ms; forwarding what followed it' 'C: quit\r\n'
grep -q '^! tls' "$TMP/smtpdata.mct" && bad "the relay switched to TLS on message text"
end $(logs smtpdata) smtpdata.server

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
