#!/usr/bin/env bash
# Integration test (issue 3): real IMAP clients (curl, Python's imaplib,
# mbsync from isync) talk to a real Dovecot on loopback THROUGH `mailconform
# relay --protocol imap`, which records and validates every session; each
# recording is then validated again with `mailconform check`. The mailbox
# holds a multipart MIME message, an 8-bit message and a ~200 KB message
# (lib.sh make_imap_maildir); every client must fetch them byte for byte.
#
# usage: tests/integration/imap_dovecot.sh PATH/TO/mailconform
# Exit: 0 all passed, 1 a case failed, 77 Dovecot (IMAP) is not installed.
# Needs root (Dovecot switches to the mail uid 5000), curl, python3, openssl,
# mbsync (isync; scripts/install-deps.sh). Sends nothing beyond 127.0.0.1.
# Ports: lib.sh (MC_IMAP_PORT 24143, MC_IMAPS_PORT 24993, relay
# MC_IMAP_RELAY_PORT 24144). The plaintext cases go to a Dovecot listener
# with TLS off, MC_NOTLS_ADDR:MC_IMAP_PORT (default 127.0.0.2:24143, lib.sh
# dovecot_notls): it offers no STARTTLS, so logging in in the clear there is
# no IMAP.CLEARTEXT.PASSWORD (RFC 8314 section 5.2), and those sessions must
# have no finding at all. KEEP_TMP=1 keeps the temp dir.
# RECORD_SAMPLES=DIR copies the recordings of the plaintext and STARTTLS
# cases that have no finding at all to DIR/dovecot-imap-CASE.mct
# (corpus/samples/dovecot-imap-imaplib-plain.mct is the imaplib-plain one).
set -euo pipefail

MC=${1:?usage: imap_dovecot.sh PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$HERE/imap_clients.py
. "$HERE/lib.sh"
MC_NOTLS_ADDR=${MC_NOTLS_ADDR:-127.0.0.2}

if ! command -v dovecot >/dev/null 2>&1 || [ ! -e /usr/lib/dovecot/imap ]; then
  echo "SKIP: dovecot (dovecot-imapd) is not installed (scripts/install-deps.sh installs it)"
  exit 77
fi
need_tools curl python3 openssl mbsync
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (Dovecot switches to the mail uid 5000)"; exit 1; }
R=$MC_IMAP_RELAY_PORT
need_ports_closed "override MC_IMAP*_PORT, see lib.sh" "$MC_IMAP_PORT" "$MC_IMAPS_PORT" "$R"

T0=$(date +%s%N)
DOVECOT_PID= RELAY_PID= TMP=
cleanup() {
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$DOVECOT_PID" ] && stop_pid "$DOVECOT_PID"
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_tmp
make_cert
make_imap_maildir
if ! start_dovecot_imap; then
  echo "FAIL: Dovecot did not come up on 127.0.0.1:$MC_IMAP_PORT/$MC_IMAPS_PORT and $MC_NOTLS_ADDR:$MC_IMAP_PORT"
  tail -20 "$TMP/dovecot/dovecot.log" 2>/dev/null || true
  exit 1
fi
T_UP=$(date +%s%N)
PROTO=(--protocol imap)
"$MC" check --protocol imap /dev/null >/dev/null 2>&1 || { echo "FAIL: mailconform check does not know --protocol imap"; exit 1; }
PLAIN=$MC_NOTLS_ADDR:$MC_IMAP_PORT   # the target of the plaintext cases: no STARTTLS offered
echo "# dovecot imap $MC_IMAP_PORT, imaps $MC_IMAPS_PORT, imap without TLS $PLAIN, relay $R"

# Error findings that are true deviations of Dovecot or a client, each with
# the RFC text it breaks: ALLOW[CASE]="RULE ...". None known so far.
declare -A ALLOW=()

PASSED=0 FAILED=0 CASE= CASE_OK=1 PASSED_CASES=() NAME=
begin() { NAME=$1; CASE=$2; CASE_OK=1; }
bad() { echo "    $CASE: $*"; CASE_OK=0; }
end() {
  if [ "$CASE_OK" = 1 ]; then
    echo "PASS: $CASE"; PASSED=$((PASSED + 1)); PASSED_CASES+=("$NAME")
  else
    echo "FAIL: $CASE"; FAILED=$((FAILED + 1))
    local f
    for f in "$NAME.client" "$NAME.py" "$NAME.relay.err" "$NAME.relay.out" "$NAME.jsonl" "$NAME.check.err" "$NAME.mct"; do
      [ -f "$TMP/$f" ] && { echo "    --- $f"; head -c 3000 "$TMP/$f" | sed 's/^/    | /'; }
    done
    echo "    --- dovecot log (last lines)"; tail -8 "$TMP/dovecot/dovecot.log" 2>/dev/null | sed 's/^/    | /' || true
  fi
  return 0
}
# py WHAT ARGS...: run imap_clients.py, output appended to $TMP/$NAME.py; bad WHAT on failure
py() {
  local what=$1; shift
  python3 "$PY" "$@" >> "$TMP/$NAME.py" 2>&1 || bad "$what: $(tail -1 "$TMP/$NAME.py")"
}
# relayed [ADDR:]TARGET_PORT -- CLIENT_CMD...: one client session of case
# $NAME through the relay to ADDR (127.0.0.1 if not given); the client must
# succeed, the relay end by itself with exit 0 (1 if the case has ALLOWed
# findings) and leave a recording
relayed() {
  local to=$1 rc=0; shift 2
  case $to in *:*) ;; *) to=127.0.0.1:$to ;; esac
  if ! start_relay_to "$NAME" "$R" "$to" --max-sessions 1 "${PROTO[@]}"; then
    bad "the relay did not start listening"; return 0
  fi
  timeout 30 "$@" > "$TMP/$NAME.client" 2>&1 || { rc=$?; bad "client exited $rc"; }
  wait_relay 15
  local want=0
  [ -n "${ALLOW[$NAME]:-}" ] && [ "$RELAY_RC" = 1 ] && want=1
  [ "$RELAY_RC" = "$want" ] || bad "relay exited $RELAY_RC, expected 0"
  [ -s "$TMP/$NAME.mct" ] || bad "no recording $NAME.mct"
}
# validated: check exits 0 or 1 (never 2), no error finding (ALLOW aside),
# live findings likewise; `check --format json` saw one session, validated as IMAP
validated() {
  local rc=0 allow=() r
  for r in ${ALLOW[$NAME]:-}; do allow+=(--allow "$r"); done
  "$MC" check --format jsonl "${PROTO[@]}" "$TMP/$NAME.mct" > "$TMP/$NAME.jsonl" 2> "$TMP/$NAME.check.err" || rc=$?
  case $rc in 0|1) ;; *) bad "mailconform check exited $rc: $(head -1 "$TMP/$NAME.check.err")" ;; esac
  py "check --format jsonl" findings "$TMP/$NAME.jsonl" "${allow[@]}"
  py "relay --check (live)" findings "$TMP/$NAME.relay.out" "${allow[@]}"
  rc=0
  "$MC" check --format json "${PROTO[@]}" "$TMP/$NAME.mct" > "$TMP/$NAME.json" 2>> "$TMP/$NAME.check.err" || rc=$?
  case $rc in 0|1) py "check --format json" summary "$TMP/$NAME.json" ;; *) bad "mailconform check --format json exited $rc" ;; esac
}
# plain_ok: a plaintext session with the listener that offers no STARTTLS:
# no CAPABILITY (greeting or response) lists STARTTLS, the client sent none
plain_ok() {
  grep -qE '^S: .*CAPABILITY[^\]*STARTTLS' "$TMP/$NAME.mct" && bad "STARTTLS offered on the listener without TLS"
  grep -qF 'STARTTLS\r\n' "$TMP/$NAME.mct" && bad "STARTTLS in a plaintext session"
  return 0
}
# silent (after validated): no finding at all, warnings included
silent() {
  [ -s "$TMP/$NAME.jsonl" ] && bad "findings on a plaintext session without STARTTLS offered: $(head -c 300 "$TMP/$NAME.jsonl")"
  return 0
}
# has LITERAL...: the recording holds each literal (transcript escapes: \r\n)
has() {
  local s
  for s in "$@"; do grep -qF -- "$s" "$TMP/$NAME.mct" 2>/dev/null || bad "recording lacks '$s'"; done
}
# starttls_ok: STARTTLS answered OK, then the '! tls' marker; nothing after it in the clear
starttls_ok() {
  has 'STARTTLS\r\n' '! tls'
  grep -qE '^S: [^ ]+ OK' "$TMP/$NAME.mct" || bad "no tagged OK"
  awk '/^! tls/{t=1; next} t && /^C: / && !/^C: \\x/ {print; exit 1}' "$TMP/$NAME.mct" >/dev/null ||
    bad "plaintext client data after '! tls'"
  grep -qE '^C: [^ ]+ (LOGIN|AUTHENTICATE)' "$TMP/$NAME.mct" && bad "credentials sent before TLS"
  return 0
}

CA=$TMP/cert.pem
CURL=(curl -sS --max-time 20 -u alice:alicepw)
URLS=(/ "/INBOX;UID=1" "/INBOX;UID=2" "/INBOX;UID=3")

# 1. curl, plaintext: LIST, then each message by UID on one connection
begin curl-plain "curl imap:// LIST + FETCH of each message (plain)"
relayed "$PLAIN" -- "${CURL[@]}" "${URLS[@]/#/imap://127.0.0.1:$R}"
has 'LIST "" *' 'UID FETCH 1 BODY[]' 'UID FETCH 3 BODY[]' 'LOGOUT\r\n'
plain_ok
py "curl output" contains "$TMP/$NAME.client" "$TMP/msgs"
validated
silent
end

# 2. curl --ssl-reqd: STARTTLS, certificate verified against localhost
begin curl-starttls "curl imap:// --ssl-reqd (STARTTLS) LIST + FETCH of each message"
relayed "$MC_IMAP_PORT" -- "${CURL[@]}" --ssl-reqd --cacert "$CA" --resolve "localhost:$R:127.0.0.1" \
  "${URLS[@]/#/imap://localhost:$R}"
starttls_ok
py "curl output" contains "$TMP/$NAME.client" "$TMP/msgs"
validated
end

# 3. imaplib, plaintext
begin imaplib-plain "imaplib login/capability/select/search/fetch/uid fetch/append/store/expunge/logout (plain)"
relayed "$PLAIN" -- python3 "$PY" session "$R" "$CA" "$TMP/msgs"
has 'LOGIN alice' 'SELECT INBOX' 'SEARCH ALL' 'BODYSTRUCTURE' 'BODY[]' 'UID FETCH' '+FLAGS' 'EXPUNGE\r\n' 'LOGOUT\r\n' 'S: * BYE'
plain_ok
validated
silent
end

# 4. imaplib, starttls()
begin imaplib-starttls "imaplib starttls() + the same session"
relayed "$MC_IMAP_PORT" -- python3 "$PY" session "$R" "$CA" "$TMP/msgs" --starttls
starttls_ok
validated
end

# mbsync_rc DIR PORT SSLTYPE: an mbsync config syncing alice's mailboxes into DIR/local
mbsync_rc() {
  mkdir -p "$1/local"
  cat > "$1/rc" <<EOF
IMAPAccount test
Host localhost
Port $2
User alice
Pass alicepw
SSLType $3
CertificateFile $CA
AuthMechs LOGIN PLAIN

IMAPStore remote
Account test

MaildirStore local
Path $1/local/
Inbox $1/local/INBOX

Channel test
Far :remote:
Near :local:
Patterns *
Create Near
SyncState *
EOF
}

# 5./6. mbsync (isync): a full sync into an empty Maildir, plain and STARTTLS
for mode in None STARTTLS; do
  if [ $mode = None ]; then begin mbsync-plain "mbsync full sync (plain)"
  else begin mbsync-starttls "mbsync full sync (STARTTLS)"; fi
  mbsync_rc "$TMP/$NAME" "$R" $mode
  if [ $mode = None ]; then to=$PLAIN; else to=$MC_IMAP_PORT; fi
  relayed "$to" -- env HOME="$TMP/$NAME" mbsync -V -c "$TMP/$NAME/rc" -a
  if [ $mode = None ]; then plain_ok; else starttls_ok; fi
  py "fetched messages" same "$TMP/msgs" "$TMP/$NAME/local"
  validated
  [ $mode = None ] && silent
  end
done

# 7. implicit TLS through the relay: only TLS records, nothing blamed
begin curl-imaps "curl imaps:// through the relay (implicit TLS)"
relayed "$MC_IMAPS_PORT" -- "${CURL[@]}" --cacert "$CA" --resolve "localhost:$R:127.0.0.1" \
  "imaps://localhost:$R/INBOX;UID=2"
[ "$(grep -m1 -E '^(!|C:|S:)' "$TMP/$NAME.mct" 2>/dev/null)" = "! tls" ] || bad "first record is not '! tls'"
grep -qF 'Grüße aus Köln' "$TMP/$NAME.client" || bad "curl did not fetch message 2"
validated
[ -s "$TMP/$NAME.jsonl" ] && bad "findings on an implicit-TLS session: $(head -c 300 "$TMP/$NAME.jsonl")"
end

if [ -n "${RECORD_SAMPLES:-}" ]; then
  mkdir -p "$RECORD_SAMPLES"
  for n in curl-plain curl-starttls imaplib-plain imaplib-starttls mbsync-plain mbsync-starttls; do
    if [[ " ${PASSED_CASES[*]} " != *" $n "* ]]; then
      echo "# sample dovecot-imap-$n not written: the case failed"
    elif [ -s "$TMP/$n.jsonl" ]; then
      echo "# sample dovecot-imap-$n not written: it has findings"
    else
      cp "$TMP/$n.mct" "$RECORD_SAMPLES/dovecot-imap-$n.mct"
      echo "# sample: $RECORD_SAMPLES/dovecot-imap-$n.mct ($(grep -c '^[CS]:' "$TMP/$n.mct") records)"
    fi
  done
fi

T1=$(date +%s%N)
echo "time: $(( (T1 - T0) / 1000000 )) ms (Dovecot up after $(( (T_UP - T0) / 1000000 )) ms; its stop follows)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
