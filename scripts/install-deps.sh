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
  # IMAP integration test: a full sync client (mbsync)
  isync
  # SMTP integration tests: Postfix (its SASL goes through Dovecot), swaks with
  # TLS (Net::SSLeay), and the libraries the extracted Exim needs (see below)
  postfix swaks libnet-ssleay-perl libgnutls-dane0 libidn12
  # capture integration test: real sessions recorded on lo
  tcpdump
  # report formats: SARIF checked against a JSON schema (with its uri
  # formats), JUnit against an XSD; the man page checked by groff
  python3-jsonschema python3-rfc3987 libxml2-utils groff-base
  # compatibility matrix (tests/integration/fleet.sh): Cyrus as the second
  # IMAP/POP3 server (its imapd/pop3d are unpacked, see install_cyrus), and
  # fetchmail as one more real client through the relay
  cyrus-common sasl2-bin fetchmail
  # probe --pcap test (tests/probe/probe_pcap.py): Wireshark's own reading
  # and decryption of the captures the probe writes; also bench's anchor
  tshark
)

# Exim is the second MTA of the SMTP tests. Installing exim4-daemon-light
# would remove Postfix (both provide mail-transport-agent), so its .debs are
# unpacked with `dpkg -x` into EXIM_ROOT instead (/work/shared/SERVERS.md
# section 3.3); it runs only from the tests, with a private -C config.
EXIM_ROOT=${MC_EXIM_ROOT:-/opt/mailconform/exim4}
EXIM_DEBS=(exim4-daemon-light exim4-base)
exim_ready() { [ -x "$EXIM_ROOT/usr/sbin/exim4" ] && id -u Debian-exim >/dev/null 2>&1; }

# Cyrus IMAP is the second POP3/IMAP server of the compatibility matrix
# (tests/integration/fleet.sh). cyrus-imapd and cyrus-pop3d Conflict with
# dovecot-imapd and dovecot-pop3d (imap-server, pop3-server), so only those
# two are unpacked with `dpkg -x` into CYRUS_ROOT; cyrus-common (master,
# ctl_cyrusdb, the user cyrus; in PACKAGES) installs beside Dovecot.
CYRUS_ROOT=${MC_CYRUS_ROOT:-/opt/mailconform/cyrus}
CYRUS_DEBS=(cyrus-imapd cyrus-pop3d)
# ready: both daemons there, unpacked from the version of the installed
# cyrus-common (they link against its libcyrus; an upgrade must re-unpack)
cyrus_ready() {
  [ -x "$CYRUS_ROOT/usr/lib/cyrus/bin/imapd" ] && [ -x "$CYRUS_ROOT/usr/lib/cyrus/bin/pop3d" ] &&
    [ "$(cat "$CYRUS_ROOT/.version" 2>/dev/null)" = "$(dpkg-query -W -f='${Version}' cyrus-common 2>/dev/null)" ]
}

# install_cyrus: unpack Cyrus's imapd and pop3d (not install them)
install_cyrus() {
  cyrus_ready && return 0
  echo "install-deps: unpacking ${CYRUS_DEBS[*]} into $CYRUS_ROOT"
  local dl
  dl=$(mktemp -d)
  $SUDO chown _apt "$dl" 2>/dev/null || chmod 777 "$dl"
  (cd "$dl" && { $SUDO apt-get download -q "${CYRUS_DEBS[@]}" ||
    { $SUDO apt-get update -q && $SUDO apt-get download -q "${CYRUS_DEBS[@]}"; }; })
  $SUDO mkdir -p "$CYRUS_ROOT"
  for d in "$dl"/*.deb; do $SUDO dpkg -x "$d" "$CYRUS_ROOT"; done
  dpkg-deb -f "$dl"/cyrus-imapd_*.deb Version | $SUDO tee "$CYRUS_ROOT/.version" >/dev/null
  $SUDO rm -rf "$dl"
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${1:-}" = "--check" ]; then
  exim_ready || missing+=("exim4 (unpacked in $EXIM_ROOT, user Debian-exim)")
  cyrus_ready || missing+=("cyrus-imapd/cyrus-pop3d (unpacked in $CYRUS_ROOT)")
  if [ ${#missing[@]} -eq 0 ]; then echo "all dependencies present"; exit 0; fi
  echo "missing: ${missing[*]}"; exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# install_exim: unpack Exim (not install it) and create its run-time user
install_exim() {
  exim_ready && return 0
  echo "install-deps: unpacking ${EXIM_DEBS[*]} into $EXIM_ROOT"
  local dl
  dl=$(mktemp -d)
  # apt downloads as the user _apt, which must be able to write there
  $SUDO chown _apt "$dl" 2>/dev/null || chmod 777 "$dl"
  (cd "$dl" && { $SUDO apt-get download -q "${EXIM_DEBS[@]}" ||
    { $SUDO apt-get update -q && $SUDO apt-get download -q "${EXIM_DEBS[@]}"; }; })
  $SUDO mkdir -p "$EXIM_ROOT"
  for d in "$dl"/*.deb; do $SUDO dpkg -x "$d" "$EXIM_ROOT"; done
  $SUDO rm -rf "$dl"
  # exim_user is compiled in as Debian-exim (looked up by name)
  id -u Debian-exim >/dev/null 2>&1 ||
    $SUDO useradd --system --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin Debian-exim
}

if [ ${#missing[@]} -eq 0 ]; then
  install_exim
  install_cyrus
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
# Without an init system, package scripts must not try to start daemons
# (Dovecot, Postfix would otherwise be started system-wide); tests run their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Postfix: "No configuration" writes no /etc/postfix/main.cf, so even with an
# init system the package's own Postfix has nothing to start on port 25; the
# tests run `postfix -c DIR` with a private main.cf.
echo 'postfix postfix/main_mailer_type select No configuration' | $SUDO debconf-set-selections
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
install_exim
install_cyrus
