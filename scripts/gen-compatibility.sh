#!/usr/bin/env bash
# Writes docs/compatibility.md, the verified compatibility matrix (issue 7):
# starts the fleet of real servers (tests/integration/fleet.sh: Dovecot,
# Cyrus, Postfix, Exim on loopback), probes every server in every mode it
# offers with `mailconform probe` (as tests/integration/probe_matrix.sh
# does), then drives real clients (curl, Python's poplib/imaplib/smtplib,
# swaks, fetchmail, mbsync) against the same servers through
# `mailconform relay --check` and summarises what the relay found.
#
# usage: scripts/gen-compatibility.sh [--check] [PATH/TO/mailconform]
#   (default build/dev/mailconform)
#   --check  regenerate into a temporary file and diff it against
#            docs/compatibility.md; exit 1 when they differ. Lines ending in
#            "<!-- volatile -->" (the Debian package versions, which move with
#            every security update) are the only ones left out of the diff.
# Exit: 0 written / current, 1 stale or a step failed, 77 skipped (not root,
# or a server is not installed: scripts/install-deps.sh). Needs root; sends
# nothing beyond 127.0.0.1 (ports MC_FLEET_BASE+1 and the fleet's).
set -euo pipefail

CHECK=0
if [ "${1:-}" = --check ]; then CHECK=1; shift; fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MC=${1:-$ROOT/build/dev/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
DOC=$ROOT/docs/compatibility.md
IT=$ROOT/tests/integration
MATRIX=$IT/fleet/matrix.py
. "$IT/fleet.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the servers drop privileges to their users)"; exit 77; }
if ! missing=$(fleet_missing); then echo "SKIP: not installed: $missing (scripts/install-deps.sh)"; exit 77; fi
for tool in python3 openssl curl swaks fetchmail mbsync; do
  command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed (scripts/install-deps.sh)"; exit 77; }
done
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable (build first, or pass its path)"; exit 1; }
"$MC" probe --help >/dev/null 2>&1 || { echo "FAIL: '$MC probe --help' failed: no probe command"; exit 1; }

FLEET_DIR=
trap 'fleet_stop "$FLEET_DIR"' EXIT
trap 'exit 130' INT TERM
fleet_start || { echo "FAIL: the fleet did not come up (above)"; exit 1; }
OUT=$FLEET_DIR/compatibility.md
P=$FLEET_DIR/probe
mkdir -p "$P"

# ---- 1. the probe matrix --------------------------------------------------
: > "$P/matrix.lines"
COLUMNS_ARGS=()
for s in $FLEET_SERVERS; do
  rc=0
  fleet_probe "$MC" "$s" "$P/$s.json" "$P/$s.err" || rc=$?
  [ "$rc" -le 1 ] || { echo "FAIL: mailconform probe against $s exited $rc"; head -20 "$P/$s.err"; exit 1; }
  python3 "$MATRIX" lines "$s" "$P/$s.json" >> "$P/matrix.lines"
  v=FLEET_VERSION_$s
  COLUMNS_ARGS+=("$s=${!v}")
done
echo "# probed: $FLEET_SERVERS"

# ---- 2. real clients through the relay -------------------------------------
C=$FLEET_DIR/clients
mkdir -p "$C"
RELAY_PORT=$((MC_FLEET_BASE + 1))
port_closed "$RELAY_PORT" || { echo "FAIL: port $RELAY_PORT (the relay's) is in use"; exit 1; }
CA=$FLEET_CA
RESOLVE=(--resolve "localhost:$RELAY_PORT:127.0.0.1")
CURL=(curl -sS --max-time 20)
SWAKS=(swaks --server 127.0.0.1 --port "$RELAY_PORT" --helo client.example --from a@example.org
       --to alice@test.example --timeout 20)
printf '%s\r\n' 'From: a@example.org' 'To: alice@test.example' 'Subject: compatibility' \
  'Message-ID: <compatibility-curl@mailconform.test>' '' 'hello' > "$C/msg.eml"
: > "$C/results"

# fetchmail (rc file, mode 0600) and mbsync configurations, both STARTTLS/STLS
# against the relay with the certificate checked for "localhost"
mkdir -p "$C/fetchmail" "$C/mbsync/local" && chmod 700 "$C/fetchmail"
cat > "$C/fetchmail/rc" <<EOF
set no syslog
poll localhost service $RELAY_PORT protocol POP3 auth password
  user "$FLEET_USER" password "$FLEET_PASSWORD" is root here
  sslcertck sslcertfile "$CA"
  keep fetchall
  mda "/bin/cat >> $C/fetchmail/fetched.mbox"
EOF
chmod 600 "$C/fetchmail/rc"
cat > "$C/mbsync/rc" <<EOF
IMAPAccount fleet
Host localhost
Port $RELAY_PORT
User $FLEET_USER
Pass $FLEET_PASSWORD
SSLType STARTTLS
CertificateFile $CA

IMAPStore remote
Account fleet

MaildirStore local
Path $C/mbsync/local/
Inbox $C/mbsync/local/INBOX

Channel fleet
Far :remote:
Near :local:
Patterns INBOX
Create Near
SyncState *
EOF

# client SERVER CASE TARGET_PORT RELAY_OPTS -- COMMAND...: one client session
# through a relay in front of SERVER's TARGET_PORT; appends
# "CASE<tab>SERVER<tab>STATUS<tab>JSONL" to $C/results (STATUS ok, or the failure)
client() {
  local server=$1 case=$2 to=$3 opts=$4 name="$1-$2" status=ok rc=0; shift 5
  local TMP=$C
  # shellcheck disable=SC2086
  if ! start_relay_to "$name" "$RELAY_PORT" "127.0.0.1:$to" --max-sessions 1 $opts; then
    printf '%s\t%s\t%s\t%s\n' "$case" "$server" relay-did-not-start - >> "$C/results"; return 0
  fi
  timeout 40 "$@" > "$C/$name.client" 2>&1 || { rc=$?; status="client-exit-$rc"; }
  wait_relay 15
  [ "$RELAY_RC" = 124 ] && status="relay-did-not-end"
  printf '%s\t%s\t%s\t%s\n' "$case" "$server" "$status" "$C/$name.relay.out" >> "$C/results"
  [ "$status" = ok ] || { echo "# $name: $status"; tail -5 "$C/$name.client" | sed 's/^/#   | /'; }
}

for s in $FLEET_SERVERS; do
  kind=FLEET_KIND_$s ports=FLEET_PORTS_$s
  declare -A port=()
  for spec in ${!ports}; do port[${spec%%=*}]=${spec##*=}; done
  if [ "${!kind}" = mailstore ]; then
    p3=${port[POP3-Plain]} i4=${port[IMAP4-Plain]}
    client "$s" "curl POP3 (RETR 1)" "$p3" "" -- \
      "${CURL[@]}" -u "$FLEET_USER:$FLEET_PASSWORD" "pop3://127.0.0.1:$RELAY_PORT/1"
    client "$s" "curl POP3 STLS" "$p3" "" -- \
      "${CURL[@]}" --ssl-reqd --cacert "$CA" "${RESOLVE[@]}" -u "$FLEET_USER:$FLEET_PASSWORD" "pop3://localhost:$RELAY_PORT/"
    client "$s" "Python poplib" "$p3" "" -- python3 "$IT/fleet/clients.py" poplib "$RELAY_PORT"
    client "$s" "fetchmail STLS" "$p3" "" -- env FETCHMAILHOME="$C/fetchmail" fetchmail -f "$C/fetchmail/rc"
    client "$s" "curl IMAP (FETCH UID 1)" "$i4" "" -- \
      "${CURL[@]}" -u "$FLEET_USER:$FLEET_PASSWORD" "imap://127.0.0.1:$RELAY_PORT/INBOX;UID=1"
    client "$s" "curl IMAP STARTTLS" "$i4" "" -- \
      "${CURL[@]}" --ssl-reqd --cacert "$CA" "${RESOLVE[@]}" -u "$FLEET_USER:$FLEET_PASSWORD" "imap://localhost:$RELAY_PORT/INBOX;UID=2"
    client "$s" "Python imaplib" "$i4" "" -- python3 "$IT/fleet/clients.py" imaplib "$RELAY_PORT"
    rm -rf "$C/mbsync/local" && mkdir -p "$C/mbsync/local"
    client "$s" "mbsync STARTTLS" "$i4" "" -- mbsync -q -c "$C/mbsync/rc" -a
  else
    p25=${port[SMTP-Plain]} p587=${port[SMTP-SUBMISSION-TLS]}
    client "$s" "swaks" "$p25" "--protocol smtp" -- "${SWAKS[@]}"
    client "$s" "swaks --pipeline" "$p25" "--protocol smtp" -- "${SWAKS[@]}" --pipeline
    client "$s" "swaks STARTTLS" "$p25" "--protocol smtp" -- "${SWAKS[@]}" --tls --tls-verify --tls-ca-path "$CA"
    client "$s" "curl SMTP STARTTLS" "$p25" "--protocol smtp" -- \
      "${CURL[@]}" --ssl-reqd --cacert "$CA" "${RESOLVE[@]}" "smtp://localhost:$RELAY_PORT/client.example" \
      --mail-from a@example.org --mail-rcpt alice@test.example -T "$C/msg.eml"
    client "$s" "Python smtplib submission" "$p587" "--protocol submission" -- \
      python3 "$IT/fleet/clients.py" smtplib-submission "$RELAY_PORT" "$CA" alice@test.example bob@test.example
  fi
  unset port
done
echo "# clients done"

# ---- 3. the document --------------------------------------------------------
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
{
  cat <<'EOF'
# Compatibility matrix

Generated by `scripts/gen-compatibility.sh`; do not edit by hand. CI runs
`scripts/gen-compatibility.sh --check`, which regenerates this file and fails
when it differs; only the line of package versions below (marked
`<!-- volatile -->`, it moves with every security update) is not compared.

Each column is a real server from Debian 12's packages, started by
`tests/integration/fleet.sh` on 127.0.0.1 with a private configuration
(self-signed certificate for `localhost`, user `alice`, three messages in the
mailbox), and probed in every mode it offers:

```sh
mailconform probe 127.0.0.1 --modes MODES --port MODE=PORT ... --ca cert.pem \
  --servername localhost --user alice --password-env VAR --allow-plaintext-auth \
  --to alice@test.example --format json
```

It logs in in every mode, the Plain ones too (`--allow-plaintext-auth`: loopback
and our own servers), so every cell runs the whole read-only exercise and the
active checks (STARTTLS injection, a malformed command, an over-long line).

EOF
  echo "Packages: dovecot-core $(pkgver dovecot-core), postfix $(pkgver postfix), cyrus-common $(pkgver cyrus-common) (cyrus-imapd and cyrus-pop3d unpacked beside Dovecot), ${FLEET_VERSION_exim:-Exim} (exim4-daemon-light unpacked beside Postfix). <!-- volatile -->"
  cat <<'EOF'

Where the servers sit: Dovecot serves POP3 and IMAP with STLS/STARTTLS on the
plain ports and implicit TLS on their own ports (Plain and TLS modes share a
port); Cyrus IMAP 3.6 the same; Postfix offers STARTTLS on its SMTP port, an
implicit-TLS smtpd for SMTP-SSL and SMTP-SUBMISSION-SSL (as on port 465,
RFC 8314 section 3.3) and a submission port that requires STARTTLS before AUTH
(SASL through Dovecot); Exim the same three ports with its plaintext
authenticator.

## Servers and modes

Verdicts: **works** (no finding), **works (warnings)** (warnings or notes,
listed), **non-conformant** (errors), **not offered**, **failed** (TLS,
timeout, refused). The rules are listed in [rules.md](rules.md) and
explained by `mailconform explain RULE`.

EOF
  python3 "$MATRIX" table --md "$P/matrix.lines" "${COLUMNS_ARGS[@]}"
  echo
  echo "TLS as the probe negotiated it (certificate checked against the fleet's CA for \`localhost\`):"
  echo
  for s in $FLEET_SERVERS; do python3 "$MATRIX" tls --md "$s" "$P/$s.json"; done
  echo
  echo "The same cells are kept in"
  echo "[tests/integration/probe_matrix.expected](../tests/integration/probe_matrix.expected),"
  echo "which \`integration_probe_matrix\` compares against on every CI run; its"
  echo "comments document every finding with the RFC text at stake:"
  echo
  python3 "$MATRIX" documented "$IT/probe_matrix.expected" | sed 's/^/> /; s/^> $/>/'
  echo
  echo "### Findings per cell"
  echo
  any=0
  for s in $FLEET_SERVERS; do
    if [ -n "$(python3 "$MATRIX" details --brief "$s" "$P/$s.json")" ]; then
      any=1
      echo '```'
      python3 "$MATRIX" details --brief "$s" "$P/$s.json"
      echo '```'
    fi
  done
  [ "$any" = 1 ] || echo "None: every cell works without a finding."
  cat <<'EOF'

## Real clients through the relay

Each client talks to the servers above through
`mailconform relay --check --max-sessions 1` (one relay per session), which
records and validates the session as it passes. After STLS/STARTTLS the relay
sees only TLS records, so for those sessions it validates the plaintext part
(the greeting, capabilities, the switch itself); the plaintext sessions are
validated whole. A cell lists the rules the relay reported for that session
(`rule (severity, side)`), or "no findings".

EOF
  python3 "$MATRIX" clients --md "$C/results" "${COLUMNS_ARGS[@]}"
} > "$OUT"

if [ "$CHECK" = 1 ]; then
  strip() { grep -v '<!-- volatile -->$' "$1" || true; }
  if diff -u --label docs/compatibility.md --label regenerated <(strip "$DOC") <(strip "$OUT") > "$FLEET_DIR/doc.diff"; then
    echo "PASS: docs/compatibility.md is current"
  else
    cat "$FLEET_DIR/doc.diff"
    echo "FAIL: docs/compatibility.md is stale (- committed, + regenerated): run scripts/gen-compatibility.sh"
    exit 1
  fi
else
  cp "$OUT" "$DOC"
  echo "wrote $DOC"
fi
