#!/usr/bin/env bash
# Integration test: real SMTP clients (swaks, curl, Python's smtplib) talk to
# a real MTA on loopback THROUGH `mailconform relay`, which records and
# validates every session; each recording is then validated again with
# `mailconform check`, and each message must have arrived intact in the MTA's
# private Maildir.
#
# usage: tests/integration/smtp_mta.sh postfix|exim PATH/TO/mailconform
#   postfix: `postfix -c` private instance; AUTH through a private Dovecot's
#            SASL socket (SERVERS.md sections 1, 2)
#   exim:    exim4 with a private -C config; an installed exim4, else the one
#            scripts/install-deps.sh unpacks into $MC_EXIM_ROOT (SERVERS.md 3.1,
#            3.3); AUTH by Exim's plaintext authenticator (fixed alice/alicepw:
#            exim4-daemon-light has no dovecot authenticator)
# Exit: 0 all passed, 1 a case failed, 77 the MTA is not installed (skip).
# Needs root. Sends nothing beyond 127.0.0.1. Ports: lib.sh (MC_PF_* and
# MC_EXIM_*). KEEP_TMP=1 keeps the temp dir (recordings, logs).
# RECORD_SAMPLES=DIR copies the recordings of the plaintext and STARTTLS
# sessions that have no finding at all to DIR/MTA-CASE.mct (for corpus/samples;
# STARTTLS ones only once the relay marks the switch with '! tls').
set -euo pipefail

MTA=${1:-}
case $MTA in
  postfix|exim) ;;
  *) echo "usage: smtp_mta.sh postfix|exim PATH/TO/mailconform"; exit 2 ;;
esac
MC=${2:?usage: smtp_mta.sh postfix|exim PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$HERE/smtp_clients.py
. "$HERE/lib.sh"

if [ "$MTA" = postfix ]; then
  command -v postfix >/dev/null 2>&1 || { echo "SKIP: postfix is not installed (scripts/install-deps.sh installs it)"; exit 77; }
  command -v dovecot >/dev/null 2>&1 || { echo "SKIP: dovecot (Postfix's SASL) is not installed (scripts/install-deps.sh)"; exit 77; }
  P25=$MC_PF_SMTP_PORT P587=$MC_PF_SUBM_PORT P465=$MC_PF_SMTPS_PORT R=$MC_PF_RELAY_PORT
else
  find_exim || { echo "SKIP: exim4 is not installed or unpacked in $MC_EXIM_ROOT, or user Debian-exim is missing (scripts/install-deps.sh)"; exit 77; }
  P25=$MC_EXIM_SMTP_PORT P587=$MC_EXIM_SUBM_PORT P465=$MC_EXIM_SMTPS_PORT R=$MC_EXIM_RELAY_PORT
fi
need_tools swaks curl python3 openssl
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (the MTA delivers as another user)"; exit 1; }
need_ports_closed "override the ports, see lib.sh" "$P25" "$P587" "$P465" "$R"

T0=$(date +%s%N)
DOVECOT_PID= POSTFIX_PID= EXIM_PID= RELAY_PID= TMP=
cleanup() {
  [ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID"
  [ -n "$POSTFIX_PID" ] && stop_pid "$POSTFIX_PID"
  [ -n "$EXIM_PID" ] && stop_pid "$EXIM_PID"
  [ -n "$DOVECOT_PID" ] && stop_pid "$DOVECOT_PID"
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_tmp
make_cert
if [ "$MTA" = postfix ]; then
  make_smtp_mailboxes 5000:5000
  start_dovecot_sasl || { echo "FAIL: Dovecot's SASL socket did not appear"; tail -20 "$TMP/dovecot/dovecot.log" 2>/dev/null || true; exit 1; }
  start_postfix "$P25" "$P587" "$P465" ||
    { echo "FAIL: Postfix did not come up on 127.0.0.1:$P25/$P587/$P465"; tail -20 "$TMP/postfix/postfix.log" 2>/dev/null || true; exit 1; }
  LOGS=$TMP/postfix/postfix.log
else
  make_smtp_mailboxes Debian-exim:Debian-exim
  start_exim "$P25" "$P587" "$P465" ||
    { echo "FAIL: Exim did not come up on 127.0.0.1:$P25/$P587/$P465"; cat "$TMP/exim/bV.out" "$TMP/exim/daemon.out" "$TMP/exim/log/"* 2>/dev/null | tail -20; exit 1; }
  LOGS=$TMP/exim/log/mainlog
fi
T_UP=$(date +%s%N)

# --protocol for the relay and check: smtp / submission once the CLI knows
# them; until then the sessions are detected (and reported "not validated")
PROTO_SMTP=$(mc_protocol_opts smtp)
PROTO_SUBM=$(mc_protocol_opts submission smtp)
# With SMTP known to the relay, it must mark where STARTTLS switched to TLS
TLS_MARK=()
[ -n "$PROTO_SMTP" ] && TLS_MARK=(--marker)
echo "# $MTA: smtp $P25, submission $P587, smtps $P465, relay $R; relay/check options: smtp '${PROTO_SMTP:-detect}', submission '${PROTO_SUBM:-detect}'"

# Error findings that are true deviations of the MTA or client, each with the
# RFC text it breaks: ALLOW[CASE]="RULE ...". None known yet.
declare -A ALLOW=()

PASSED=0 FAILED=0 CASE= CASE_OK=1 PASSED_CASES=()
begin() { CASE=$1; CASE_OK=1; }
bad() { echo "    $CASE: $*"; CASE_OK=0; }
# end [FILES...]: the PASS/FAIL line; on failure show the named files of $TMP
end() {
  if [ "$CASE_OK" = 1 ]; then
    echo "PASS: $MTA $CASE"; PASSED=$((PASSED + 1)); PASSED_CASES+=("$NAME")
  else
    echo "FAIL: $MTA $CASE"; FAILED=$((FAILED + 1))
    local f
    for f in "$@"; do
      [ -f "$TMP/$f" ] && { echo "    --- $f"; head -c 3000 "$TMP/$f" | sed 's/^/    | /'; }
    done
    echo "    --- MTA log (last lines)"; tail -8 "$LOGS" 2>/dev/null | sed 's/^/    | /' || true
  fi
  return 0
}
# py WHAT ARGS...: run smtp_clients.py, its output appended to $TMP/$NAME.py; bad WHAT on failure
py() {
  local what=$1; shift
  python3 "$PY" "$@" >> "$TMP/$NAME.py" 2>&1 || bad "$what: $(tail -1 "$TMP/$NAME.py")"
}

# relayed TARGET_PORT PROTO_OPTS -- CLIENT_CMD...: one client session of case
# $NAME through the relay; the client must succeed, the relay end by itself
# with exit 0 and leave a recording
relayed() {
  local to=$1 proto=$2 rc=0; shift 3
  # shellcheck disable=SC2086
  if ! start_relay_to "$NAME" "$R" "127.0.0.1:$to" --max-sessions 1 $proto; then
    bad "the relay did not start listening"; return 0
  fi
  timeout 30 "$@" > "$TMP/$NAME.client" 2>&1 || { rc=$?; bad "client exited $rc"; }
  wait_relay 15
  local want=0
  [ -n "${ALLOW[$NAME]:-}" ] && [ "$RELAY_RC" = 1 ] && want=1
  [ "$RELAY_RC" = "$want" ] || bad "relay exited $RELAY_RC, expected 0"
  [ -s "$TMP/$NAME.mct" ] || bad "no recording $NAME.mct"
}
# validated: `mailconform check` on the recording exits 0 or 1 (never 2), its
# JSONL lines are findings and none is an error (ALLOW aside); the same for
# the relay's live findings; one session in the JSON summary
validated() {
  local rc=0 allow=() r
  for r in ${ALLOW[$NAME]:-}; do allow+=(--allow "$r"); done
  # shellcheck disable=SC2086
  "$MC" check --format jsonl $PROTO_OPTS "$TMP/$NAME.mct" > "$TMP/$NAME.jsonl" 2> "$TMP/$NAME.check.err" || rc=$?
  case $rc in 0|1) ;; *) bad "mailconform check exited $rc: $(head -1 "$TMP/$NAME.check.err")" ;; esac
  py "check --format jsonl" findings "$TMP/$NAME.jsonl" "${allow[@]}"
  py "relay --check (live)" findings "$TMP/$NAME.relay.out" "${allow[@]}"
  rc=0
  # shellcheck disable=SC2086
  "$MC" check --format json $PROTO_OPTS "$TMP/$NAME.mct" > "$TMP/$NAME.json" 2>> "$TMP/$NAME.check.err" || rc=$?
  case $rc in 0|1) py "check --format json" summary "$TMP/$NAME.json" 1 ;; *) bad "mailconform check --format json exited $rc" ;; esac
}
SHOW=()
show() { SHOW=("$NAME.client" "$NAME.py" "$NAME.relay.err" "$NAME.relay.out" "$NAME.jsonl" "$NAME.check.err" "$NAME.mct"); }

CA=$TMP/cert.pem
FROM=a@example.org
SWAKS=(swaks --server 127.0.0.1 --port "$R" --helo client.example --from "$FROM" --timeout 15)
CURL=(curl -sS --max-time 15)
STUFFED='\r\n..leading dot line\r\n...\r\n..\r\n.. a dot and a space\r\na line after the dots\r\n.....\r\n.\r\n'

# 1. swaks, plaintext SMTP: one message, lock-step
NAME=swaks-plain PROTO_OPTS=$PROTO_SMTP; begin "swaks plain SMTP (port $P25)"; show
py message message plain "$MTA-$NAME" "$TMP/$NAME.eml" --no-final-crlf
relayed "$P25" "$PROTO_SMTP" -- "${SWAKS[@]}" --to alice@test.example --data "$TMP/$NAME.eml"
py transcript transcript "$TMP/$NAME.mct" plain --client-has 'EHLO client.example\r\n' \
  --client-has "MAIL FROM:<$FROM>" --client-has 'RCPT TO:<alice@test.example>'
py delivery delivered "$TMP/mail/alice/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

# 2. swaks --pipeline: MAIL, RCPT and DATA in one write (RFC 2920)
NAME=swaks-pipeline PROTO_OPTS=$PROTO_SMTP; begin "swaks --pipeline (PIPELINING, port $P25)"; show
py message message plain "$MTA-$NAME" "$TMP/$NAME.eml" --no-final-crlf
relayed "$P25" "$PROTO_SMTP" -- "${SWAKS[@]}" --pipeline --to alice@test.example --data "$TMP/$NAME.eml"
py transcript transcript "$TMP/$NAME.mct" plain --pipelined
py delivery delivered "$TMP/mail/alice/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

# 3. swaks --tls: STARTTLS on port 25, certificate verified
NAME=swaks-starttls PROTO_OPTS=$PROTO_SMTP; begin "swaks --tls (STARTTLS, port $P25)"; show
py message message plain "$MTA-$NAME" "$TMP/$NAME.eml" --no-final-crlf
relayed "$P25" "$PROTO_SMTP" -- "${SWAKS[@]}" --tls --tls-verify --tls-ca-path "$CA" \
  --to alice@test.example --data "$TMP/$NAME.eml"
py transcript transcript "$TMP/$NAME.mct" starttls "${TLS_MARK[@]}"
py delivery delivered "$TMP/mail/alice/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

# 4. curl: upload of a message whose lines start with '.'; curl dot-stuffs
NAME=curl-dots PROTO_OPTS=$PROTO_SMTP; begin "curl smtp:// lines starting with '.' (port $P25)"; show
py message message dots "$MTA-$NAME" "$TMP/$NAME.eml"
relayed "$P25" "$PROTO_SMTP" -- "${CURL[@]}" "smtp://127.0.0.1:$R/client.example" \
  --mail-from "$FROM" --mail-rcpt alice@test.example -T "$TMP/$NAME.eml"
py transcript transcript "$TMP/$NAME.mct" plain --client-has "$STUFFED"
py delivery delivered "$TMP/mail/alice/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

# 5. curl --ssl-reqd: STARTTLS required, certificate verified against localhost
NAME=curl-starttls PROTO_OPTS=$PROTO_SMTP; begin "curl --ssl-reqd (STARTTLS, port $P25)"; show
py message message dots "$MTA-$NAME" "$TMP/$NAME.eml"
relayed "$P25" "$PROTO_SMTP" -- "${CURL[@]}" --ssl-reqd --cacert "$CA" --resolve "localhost:$R:127.0.0.1" \
  "smtp://localhost:$R/client.example" --mail-from "$FROM" --mail-rcpt alice@test.example -T "$TMP/$NAME.eml"
py transcript transcript "$TMP/$NAME.mct" starttls "${TLS_MARK[@]}"
py delivery delivered "$TMP/mail/alice/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

# 6. smtplib, plaintext: a 200 KB message (SIZE= on MAIL, stuffed '.' lines throughout)
NAME=smtplib-big PROTO_OPTS=$PROTO_SMTP; begin "smtplib plain 200 KB message (port $P25)"; show
py message message big "$MTA-$NAME" "$TMP/$NAME.eml"
relayed "$P25" "$PROTO_SMTP" -- python3 "$PY" smtplib-plain "$R" "$TMP/$NAME.eml" "$FROM" alice@test.example
py transcript transcript "$TMP/$NAME.mct" plain --client-has "FROM:<$FROM> size=$(stat -c %s "$TMP/$NAME.eml")" \
  --client-has '\r\n..ine 00097 '
py delivery delivered "$TMP/mail/alice/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

# 7. smtplib on submission: STARTTLS, then AUTH (offered only inside TLS), then mail to bob
NAME=smtplib-submission PROTO_OPTS=$PROTO_SUBM; begin "smtplib starttls + login (submission, port $P587)"; show
py message message plain "$MTA-$NAME" "$TMP/$NAME.eml"
relayed "$P587" "$PROTO_SUBM" -- python3 "$PY" smtplib-starttls "$R" "$CA" "$TMP/$NAME.eml" alice@test.example bob@test.example
py transcript transcript "$TMP/$NAME.mct" starttls --no-auth-before-tls "${TLS_MARK[@]}"
py delivery delivered "$TMP/mail/bob/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

# 8. smtplib SMTP_SSL: implicit TLS; the relay sees only TLS records
NAME=smtplib-smtps PROTO_OPTS=$PROTO_SUBM; begin "smtplib SMTP_SSL + login (implicit TLS, port $P465)"; show
py message message plain "$MTA-$NAME" "$TMP/$NAME.eml"
relayed "$P465" "$PROTO_SUBM" -- python3 "$PY" smtplib-ssl "$R" "$CA" "$TMP/$NAME.eml" alice@test.example bob@test.example
py transcript transcript "$TMP/$NAME.mct" implicit
py delivery delivered "$TMP/mail/bob/Maildir" "$MTA-$NAME" "$TMP/$NAME.eml"
validated
end "${SHOW[@]}"

if [ -n "${RECORD_SAMPLES:-}" ]; then
  mkdir -p "$RECORD_SAMPLES"
  for n in swaks-plain swaks-pipeline curl-dots swaks-starttls curl-starttls smtplib-submission; do
    if [[ " ${PASSED_CASES[*]} " != *" $n "* ]]; then
      echo "# sample $MTA-$n not written: the case failed"
    elif [ -s "$TMP/$n.jsonl" ]; then
      echo "# sample $MTA-$n not written: it has findings"
    elif [[ $n = *starttls* || $n = *submission* ]] && ! grep -qx '! tls' "$TMP/$n.mct"; then
      echo "# sample $MTA-$n not written: no '! tls' marker (the relay does not know SMTP's STARTTLS yet)"
    else
      cp "$TMP/$n.mct" "$RECORD_SAMPLES/$MTA-$n.mct"
      echo "# sample: $RECORD_SAMPLES/$MTA-$n.mct ($(grep -c '^[CS]:' "$TMP/$n.mct") records)"
    fi
  done
fi

T1=$(date +%s%N)
echo "time: $(( (T1 - T0) / 1000000 )) ms ($MTA up after $(( (T_UP - T0) / 1000000 )) ms; its stop follows)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
