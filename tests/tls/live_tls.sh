#!/bin/sh
# Records fresh TLS conversations on loopback (real openssl s_server, Python
# ssl client, new certificate and keys every run) and decrypts them with the
# fixture tests: live_tls.sh PYTHON GENERATOR TEST_BINARY
set -eu
py=$1 gen=$2 bin=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/mc-tls-live.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
"$py" "$gen" "$dir"
MC_TLS_FIXTURE_DIR=$dir "$bin"
