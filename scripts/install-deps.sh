#!/usr/bin/env bash
# Installs everything mailconform needs to build, test and fuzz, from Debian's
# packages only. Idempotent: safe to run again; skips apt when all is present.
# Usage: scripts/install-deps.sh [--check]   (--check: report what is missing, install nothing)
set -euo pipefail

PACKAGES=(
  # build
  cmake make gcc pkg-config zip ca-certificates
  # libraries
  libssl-dev libpcap-dev libcmocka-dev
  # fuzzing and coverage: clang + libFuzzer runtime, AFL++ (LTO needs lld)
  clang-14 libclang-rt-14-dev llvm-14 lld-14 afl++
  # integration tests: a real POP3/IMAP server and real clients
  dovecot-core dovecot-pop3d dovecot-imapd openssl curl python3 procps iproute2
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -eq 0 ]; then echo "all dependencies present"; exit 0; fi
  echo "missing: ${missing[*]}"; exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
# Without an init system, package scripts must not try to start daemons
# (Dovecot would otherwise be started system-wide); tests run their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
