#!/usr/bin/env bash
# Integration test (issue 7, "our own verified matrix"): starts the fleet
# (tests/integration/fleet.sh: Dovecot, Cyrus, Postfix, Exim on loopback),
# runs `mailconform probe` against every server in every mode it offers,
# logged in as alice with the CA of the fleet (in the Plain modes too:
# --allow-plaintext-auth, it is loopback), prints the matrix, and compares
# every cell (verdict and the rule ids of the server's findings) with
# tests/integration/probe_matrix.expected. Any difference fails with a diff;
# so does a finding the expected file accepts without documenting it, and a
# TLS cell whose certificate the probe did not verify against the fleet's CA
# for the name localhost.
#
# usage: tests/integration/probe_matrix.sh PATH/TO/mailconform [--update]
#   --update  write the probed cells into probe_matrix.expected, keeping its
#             comments (then document every finding there, with the RFC text)
# Exit: 0 the matrix is as expected, 1 it is not (or a server did not start),
# 77 skipped: not root, or a server is not installed (scripts/install-deps.sh).
# Environment: KEEP_TMP=1 keeps the fleet directory with the probe's JSON and
# its recorded transcripts (DIR/probe/SERVER/) and captures (DIR/probe/SERVER.pcapng);
# MC_FLEET_BASE moves the ports.
set -euo pipefail

MC=${1:?usage: probe_matrix.sh PATH/TO/mailconform [--update]}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
UPDATE=0
[ "${2:-}" = --update ] && UPDATE=1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXPECTED=$HERE/probe_matrix.expected
MATRIX=$HERE/fleet/matrix.py
. "$HERE/fleet.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the servers drop privileges to their users)"; exit 77; }
if ! missing=$(fleet_missing); then
  echo "SKIP: not installed: $missing (scripts/install-deps.sh)"; exit 77
fi
need_tools python3 openssl
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
"$MC" probe --help >/dev/null 2>&1 || { echo "FAIL: '$(basename "$MC") probe --help' failed: no probe command"; exit 1; }

T0=$(date +%s%N)
FLEET_DIR=
trap 'fleet_stop "$FLEET_DIR"' EXIT
trap 'exit 130' INT TERM
fleet_start || { echo "FAIL: the fleet did not come up (above)"; exit 1; }
T_UP=$(date +%s%N)
echo "# fleet up in $(( (T_UP - T0) / 1000000 )) ms: $FLEET_SERVERS"

FAIL=0
ACTUAL=$FLEET_DIR/probe/matrix.lines
mkdir -p "$FLEET_DIR/probe"
: > "$ACTUAL"
COLUMNS_ARGS=()
# every server in every mode it offers; transcripts in $FLEET_DIR/probe/SERVER/
for s in $FLEET_SERVERS; do
  mkdir -p "$FLEET_DIR/probe/$s"
  PROBE_RC=0
  fleet_probe "$MC" "$s" "$FLEET_DIR/probe/$s.json" "$FLEET_DIR/probe/$s.err" \
    --record "$FLEET_DIR/probe/$s" --pcap "$FLEET_DIR/probe/$s.pcapng" || PROBE_RC=$?
  if [ "$PROBE_RC" -gt 1 ] || ! python3 "$MATRIX" lines "$s" "$FLEET_DIR/probe/$s.json" >> "$ACTUAL"; then
    echo "FAIL: mailconform probe against $s exited $PROBE_RC:"
    head -20 "$FLEET_DIR/probe/$s.err" "$FLEET_DIR/probe/$s.json" | sed 's/^/    | /'
    FAIL=1
  fi
  v=FLEET_VERSION_$s
  COLUMNS_ARGS+=("$s=${!v}")
done
T_PROBED=$(date +%s%N)

echo
python3 "$MATRIX" table "$ACTUAL" "${COLUMNS_ARGS[@]}"
echo
for s in $FLEET_SERVERS; do
  [ -s "$FLEET_DIR/probe/$s.json" ] || continue
  python3 "$MATRIX" details "$s" "$FLEET_DIR/probe/$s.json"
  # every TLS cell: a handshake verified against the fleet's CA, name localhost
  python3 "$MATRIX" tls "$s" "$FLEET_DIR/probe/$s.json" || { echo "FAIL: $s: TLS not verified (above)"; FAIL=1; }
  # the same conversations as a capture (--pcap): the same findings
  ports=FLEET_PORTS_$s
  # shellcheck disable=SC2086
  python3 "$HERE/fleet/pcap_check.py" "$MC" "$s" "$FLEET_DIR/probe/$s.pcapng" "$FLEET_DIR/probe/$s" ${!ports} || FAIL=1
done

if [ "$UPDATE" = 1 ]; then
  { grep '^#' "$EXPECTED" 2>/dev/null || true; echo; python3 "$MATRIX" canonical "$ACTUAL"; } > "$EXPECTED.new"
  mv "$EXPECTED.new" "$EXPECTED"
  echo "# wrote $EXPECTED: document every finding in its comments"
fi
echo "# time: fleet $(( (T_UP - T0) / 1000000 )) ms, probes $(( (T_PROBED - T_UP) / 1000000 )) ms (the stop follows)"
# The comparison must be able to fail: one cell more than probed is a difference
{ cat "$ACTUAL"; echo "nosuchserver POP3-Plain works"; } > "$ACTUAL.extra"
if python3 "$MATRIX" compare "$EXPECTED" "$ACTUAL.extra" > /dev/null; then
  echo "FAIL: matrix.py compare let an extra cell pass"; FAIL=1
fi
if python3 "$MATRIX" compare "$EXPECTED" "$ACTUAL"; then
  echo "PASS: the matrix of $FLEET_SERVERS is as $(basename "$EXPECTED") says"
else
  FAIL=1
  echo "FAIL: see above; the probe's JSON and transcripts: KEEP_TMP=1 keeps them"
fi
[ "$FAIL" = 0 ]
