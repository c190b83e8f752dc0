#!/usr/bin/env bash
# The real-server fleet of the compatibility matrix (issue 7): Dovecot
# (POP3 + IMAP, all six modes), Cyrus IMAP 3.6 (POP3 + IMAP, all six modes),
# Postfix (the five SMTP modes, SASL through Dovecot) and Exim (the five SMTP
# modes), all at once on 127.0.0.1 high ports with private configurations in
# one temporary directory. Nothing goes beyond loopback; every MTA transport
# is local or a discard. Recipes: /work/shared/SERVERS.md sections 0-4.
#
# As a command:
#   fleet.sh start        starts every server (exit 77 if one is not
#                         installed), prints the fleet directory on stdout
#   fleet.sh env DIR      prints DIR/fleet.env (shell assignments, below)
#   fleet.sh stop DIR     stops what DIR/fleet.env lists and removes DIR
#   fleet.sh check        which servers are present; exit 1 if one is missing
# Sourced (probe_matrix.sh, gen-compatibility.sh): fleet_start, fleet_stop,
# fleet_missing, fleet_probe, and the variables of fleet.env in the current shell.
#
# fleet.env holds, for every server S that runs (FLEET_SERVERS="dovecot ..."):
#   FLEET_KIND_S      mailstore (POP3 + IMAP) or mta (SMTP)
#   FLEET_VERSION_S   the version the server reports ("Dovecot 2.3.19.1 ...")
#   FLEET_PORTS_S     MODE=PORT ... for `mailconform probe --port` (the modes
#                     the server offers; the others it does not listen for)
#   FLEET_PID_S       the PIDs to stop
# plus FLEET_CA (the self-signed CA = server certificate, CN and SAN
# localhost), FLEET_USER / FLEET_PASSWORD (alice / alicepw on every server;
# bob / bobpw too except on Exim) and FLEET_RCPT (a local recipient of every MTA).
# Mailboxes: alice's INBOX holds three messages on Dovecot and on Cyrus.
#
# Needs root. Environment: MC_FLEET_BASE (default 28000; the ports are in
# fleet_ports, BASE+25 to BASE+995, and BASE+1 for gen-compatibility.sh's
# relay), MC_EXIM_ROOT and MC_CYRUS_ROOT (where
# scripts/install-deps.sh unpacks the Exim and Cyrus daemons: installing them
# as packages would remove Postfix resp. Dovecot), KEEP_TMP=1 keeps DIR on stop.
#
# Cyrus: cyrus-common (master, ctl_cyrusdb, user cyrus) and sasl2-bin
# (saslpasswd2) are installed packages; imapd and pop3d come from cyrus-imapd
# and cyrus-pop3d unpacked with dpkg -x (those two Conflict with dovecot-imapd
# and dovecot-pop3d through imap-server / pop3-server; cyrus-common does not).

FLEET_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$FLEET_HERE/lib.sh"

MC_FLEET_BASE=${MC_FLEET_BASE:-28000}
MC_CYRUS_ROOT=${MC_CYRUS_ROOT:-/opt/mailconform/cyrus}
FLEET_USER=alice
FLEET_PASSWORD=alicepw
FLEET_RCPT=alice@test.example

# Ports: MC_FLEET_BASE + the usual port (110, 995, 143, 993; 25, 587, 465)
# for Dovecot and Postfix; Cyrus 100 apart from Dovecot, Exim one above Postfix.
fleet_ports() {
  local b=$MC_FLEET_BASE
  DOVECOT_POP3=$((b + 110)) DOVECOT_POP3S=$((b + 995)) DOVECOT_IMAP=$((b + 143)) DOVECOT_IMAPS=$((b + 993))
  CYRUS_POP3=$((b + 210)) CYRUS_POP3S=$((b + 895)) CYRUS_IMAP=$((b + 243)) CYRUS_IMAPS=$((b + 893))
  POSTFIX_SMTP=$((b + 25)) POSTFIX_SUBM=$((b + 587)) POSTFIX_SMTPS=$((b + 465))
  EXIM_SMTP=$((b + 26)) EXIM_SUBM=$((b + 588)) EXIM_SMTPS=$((b + 466))
}
fleet_ports

# mailstore_modes POP3 POP3S IMAP IMAPS / mta_modes SMTP SUBMISSION SMTPS:
# the MODE=PORT list of a server. Plain and STLS/STARTTLS share a port; the
# relaying MTA (SMTP-SSL) and the submitting client (SMTP-SUBMISSION-SSL)
# share the implicit-TLS port, as on 465 (RFC 8314 section 3.3).
mailstore_modes() {
  echo "POP3-Plain=$1 POP3-TLS=$1 POP3-SSL=$2 IMAP4-Plain=$3 IMAP4-TLS=$3 IMAP4-SSL=$4"
}
mta_modes() {
  echo "SMTP-Plain=$1 SMTP-TLS=$1 SMTP-SUBMISSION-TLS=$2 SMTP-SSL=$3 SMTP-SUBMISSION-SSL=$3"
}

# cyrus_bin NAME: a Cyrus service binary, installed or unpacked
cyrus_bin() {
  if [ -x "/usr/lib/cyrus/bin/$1" ]; then echo "/usr/lib/cyrus/bin/$1"
  elif [ -x "$MC_CYRUS_ROOT/usr/lib/cyrus/bin/$1" ]; then echo "$MC_CYRUS_ROOT/usr/lib/cyrus/bin/$1"
  else return 1
  fi
}

# fleet_missing: prints one line per server software that is absent; exit 1 if any
fleet_missing() {
  local missing=0
  command -v dovecot >/dev/null 2>&1 || { echo "dovecot (dovecot-core dovecot-imapd dovecot-pop3d)"; missing=1; }
  command -v postfix >/dev/null 2>&1 || { echo "postfix"; missing=1; }
  find_exim || { echo "exim4 (installed, or unpacked in $MC_EXIM_ROOT with user Debian-exim)"; missing=1; }
  { cyrus_bin master && cyrus_bin imapd && cyrus_bin pop3d && id -u cyrus; } >/dev/null 2>&1 ||
    { echo "cyrus (cyrus-common, and cyrus-imapd + cyrus-pop3d unpacked in $MC_CYRUS_ROOT)"; missing=1; }
  command -v saslpasswd2 >/dev/null 2>&1 || { echo "saslpasswd2 (sasl2-bin)"; missing=1; }
  return $missing
}

# fleet_log WHAT: where a server's start failure is reported (stderr)
fleet_log() { echo "fleet: $*" >&2; }

# fleet_record NAME VALUE: one assignment in fleet.env (and in this shell)
fleet_record() {
  printf '%s=%q\n' "$1" "$2" >> "$FLEET_DIR/fleet.env"
  printf -v "$1" '%s' "$2"
}

# fleet_messages DIR: the three test messages of alice's mailbox as
# DIR/1.eml..3.eml (CRLF, for IMAP APPEND; Dovecot's Maildir copies get LF)
fleet_messages() {
  mkdir -p "$1"
  printf '%s\r\n' 'From: Bob <bob@test.example>' 'To: Alice <alice@test.example>' 'Subject: first' \
    'Date: Mon, 1 Jan 2024 10:00:00 +0000' 'Message-ID: <fleet1@test.example>' '' \
    'Hello Alice,' 'this is the first message.' > "$1/1.eml"
  printf '%s\r\n' 'From: Bob <bob@test.example>' 'To: alice@test.example' 'Subject: dots' \
    'Date: Mon, 1 Jan 2024 11:00:00 +0000' 'Message-ID: <fleet2@test.example>' '' \
    'A line before the dots.' '.leading dot line' '..' '.' 'a line after the dots' > "$1/2.eml"
  printf '%s\r\n' 'From: Carol <carol@test.example>' 'To: alice@test.example' 'Subject: multipart' \
    'Date: Mon, 1 Jan 2024 12:00:00 +0000' 'Message-ID: <fleet3@test.example>' 'MIME-Version: 1.0' \
    'Content-Type: multipart/mixed; boundary="b1"' '' '--b1' 'Content-Type: text/plain; charset=us-ascii' '' \
    'The text part.' '--b1' 'Content-Type: application/octet-stream; name="x.bin"' \
    'Content-Transfer-Encoding: base64' '' 'AAECAwQFBgcICQ==' '--b1--' > "$1/3.eml"
}

# fleet_start_dovecot: POP3 and IMAP, plain (+STLS/STARTTLS) and implicit TLS,
# and the auth socket $TMP/dovecot/run/auth-postfix for Postfix's SASL
fleet_start_dovecot() {
  local md=$TMP/mail/alice/Maildir n
  mkdir -p "$md/cur" "$md/new" "$md/tmp" "$TMP/mail/bob/Maildir/cur" "$TMP/mail/bob/Maildir/new" "$TMP/mail/bob/Maildir/tmp"
  for n in 1 2 3; do tr -d '\r' < "$TMP/msgs/$n.eml" > "$md/cur/170410$((n + 2))000.M${n}P1.fleet:2,"; done
  chown -R 5000:5000 "$TMP/mail"
  # lib.sh's configuration for IMAP, plus POP3 (the later "protocols" line
  # wins in Dovecot's config) and the SASL socket for Postfix
  write_dovecot_conf imap 127.0.0.1 "$DOVECOT_IMAP" "$DOVECOT_IMAPS" "protocols = imap pop3
service pop3-login {
  inet_listener pop3 {
    port = $DOVECOT_POP3
  }
  inet_listener pop3s {
    port = $DOVECOT_POP3S
    ssl = yes
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}"
  # write_dovecot_conf names the instance after its protocol; make it ours
  sed -i "s/^instance_name = .*/instance_name = mailconform-fleet-$$/" "$TMP/dovecot/dovecot.conf"
  dovecot -F -c "$TMP/dovecot/dovecot.conf" > "$TMP/dovecot/stdout.log" 2>&1 & local pid=$!
  fleet_record FLEET_PID_dovecot "$pid"
  if wait_banner "$DOVECOT_IMAP" '* OK' && wait_banner "$DOVECOT_POP3" '+OK' &&
     wait_tls "$DOVECOT_IMAPS" && wait_tls "$DOVECOT_POP3S" && [ -S "$TMP/dovecot/run/auth-postfix" ]; then
    fleet_record FLEET_KIND_dovecot mailstore
    fleet_record FLEET_VERSION_dovecot "Dovecot $(dovecot --version)"
    fleet_record FLEET_PORTS_dovecot "$(mailstore_modes "$DOVECOT_POP3" "$DOVECOT_POP3S" "$DOVECOT_IMAP" "$DOVECOT_IMAPS")"
    FLEET_SERVERS+=" dovecot"
    return 0
  fi
  fleet_log "Dovecot did not come up"; tail -20 "$TMP/dovecot/dovecot.log" "$TMP/dovecot/stdout.log" >&2 2>/dev/null
  return 1
}

# fleet_start_postfix: lib.sh's private Postfix (SASL through Dovecot's socket)
fleet_start_postfix() {
  POSTFIX_PID=
  if start_postfix "$POSTFIX_SMTP" "$POSTFIX_SUBM" "$POSTFIX_SMTPS"; then
    fleet_record FLEET_PID_postfix "$POSTFIX_PID"
    fleet_record FLEET_KIND_postfix mta
    fleet_record FLEET_VERSION_postfix "Postfix $(postconf -d -h mail_version)"
    fleet_record FLEET_PORTS_postfix "$(mta_modes "$POSTFIX_SMTP" "$POSTFIX_SUBM" "$POSTFIX_SMTPS")"
    FLEET_SERVERS+=" postfix"
    return 0
  fi
  fleet_log "Postfix did not come up"; tail -20 "$TMP/postfix/postfix.log" >&2 2>/dev/null
  [ -n "$POSTFIX_PID" ] && fleet_record FLEET_PID_postfix "$POSTFIX_PID"   # fleet_stop also reads master.pid
  return 1
}

# fleet_start_exim: lib.sh's Exim, in a box of its own under $TMP/exim-box:
# it delivers as Debian-exim, so it must not share Dovecot's uid-5000 maildirs
fleet_start_exim() {
  find_exim || { fleet_log "no exim4 (installed, or in $MC_EXIM_ROOT)"; return 1; }
  local TMP=$TMP/exim-box
  mkdir -p "$TMP" && chmod 755 "$TMP"
  cp "$FLEET_DIR/cert.pem" "$FLEET_DIR/key.pem" "$TMP/"
  make_smtp_mailboxes Debian-exim:Debian-exim
  EXIM_PID=
  start_exim "$EXIM_SMTP" "$EXIM_SUBM" "$EXIM_SMTPS"; local ok=$?
  [ -n "$EXIM_PID" ] && fleet_record FLEET_PID_exim "$EXIM_PID"
  if [ "$ok" = 0 ]; then
    fleet_record FLEET_KIND_exim mta
    fleet_record FLEET_VERSION_exim "$("$EXIM_BIN" -C "$TMP/exim/exim.conf" -bV 2>/dev/null | sed -n 's/^Exim version \([^ ]*\).*/Exim \1/p')"
    fleet_record FLEET_PORTS_exim "$(mta_modes "$EXIM_SMTP" "$EXIM_SUBM" "$EXIM_SMTPS")"
    FLEET_SERVERS+=" exim"
    return 0
  fi
  fleet_log "Exim did not come up"; cat "$TMP/exim/bV.out" "$TMP/exim/daemon.out" "$TMP/exim/log/"* 2>/dev/null | tail -20 >&2
  return 1
}

# fleet_start_cyrus: Cyrus IMAP 3.6 master with a private imapd.conf
# (SERVERS.md 4.1); master -C does not reach the services, so every cmd=
# carries -C. Users in a private sasldb; INBOX autocreated at the first login,
# then filled with APPEND.
fleet_start_cyrus() {
  local cy=$TMP/cyrus u imapd pop3d master ctl
  master=$(cyrus_bin master) imapd=$(cyrus_bin imapd) pop3d=$(cyrus_bin pop3d) ctl=$(cyrus_bin ctl_cyrusdb) || return 1
  mkdir -p "$cy"/conf/{db,proc,socket,log,msg,user,quota,lock} "$cy/spool" "$cy/sieve"
  install -m 644 "$TMP/cert.pem" "$cy/cert.pem"
  install -o cyrus -m 600 "$TMP/key.pem" "$cy/key.pem"
  cat > "$cy/imapd.conf" <<EOF
configdirectory: $cy/conf
defaultpartition: default
partition-default: $cy/spool
sievedir: $cy/sieve
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $cy/sasldb2
sasl_mech_list: PLAIN LOGIN
tls_server_cert: $cy/cert.pem
tls_server_key: $cy/key.pem
autocreate_quota: 0
unixhierarchysep: yes
EOF
  cat > "$cy/cyrus.conf" <<EOF
START {
  recover cmd="$ctl -C $cy/imapd.conf -r"
}
SERVICES {
  imap  cmd="$imapd -C $cy/imapd.conf"    listen="127.0.0.1:$CYRUS_IMAP" prefork=0
  imaps cmd="$imapd -s -C $cy/imapd.conf" listen="127.0.0.1:$CYRUS_IMAPS" prefork=0
  pop3  cmd="$pop3d -C $cy/imapd.conf"    listen="127.0.0.1:$CYRUS_POP3" prefork=0
  pop3s cmd="$pop3d -s -C $cy/imapd.conf" listen="127.0.0.1:$CYRUS_POP3S" prefork=0
}
EVENTS {
}
EOF
  for u in alice:alicepw bob:bobpw cyrus:adminpw; do
    printf %s "${u#*:}" | saslpasswd2 -f "$cy/sasldb2" -p -c "${u%%:*}"
  done
  chown -R cyrus:mail "$cy"
  "$master" -C "$cy/imapd.conf" -M "$cy/cyrus.conf" -p "$cy/master.pid" -L "$cy/master.log" > "$cy/stdout.log" 2>&1 &
  fleet_record FLEET_PID_cyrus $!
  if wait_banner "$CYRUS_IMAP" '* OK' && wait_banner "$CYRUS_POP3" '+OK' &&
     wait_tls "$CYRUS_IMAPS" && wait_tls "$CYRUS_POP3S" && fleet_fill_imap "$CYRUS_IMAP"; then
    fleet_record FLEET_KIND_cyrus mailstore
    fleet_record FLEET_VERSION_cyrus "Cyrus IMAP $("$master" -V 2>&1 | sed -n 's/^cyrus-imapd \([^-]*\).*/\1/p')"
    fleet_record FLEET_PORTS_cyrus "$(mailstore_modes "$CYRUS_POP3" "$CYRUS_POP3S" "$CYRUS_IMAP" "$CYRUS_IMAPS")"
    FLEET_SERVERS+=" cyrus"
    return 0
  fi
  fleet_log "Cyrus did not come up (it logs only to syslog; master's output follows)"
  cat "$cy/stdout.log" "$cy/master.log" 2>/dev/null | tail -20 >&2
  return 1
}

# fleet_fill_imap PORT: log in as alice over plain IMAP on 127.0.0.1:PORT
# and APPEND the three messages to INBOX (created at the login)
fleet_fill_imap() {
  python3 - "$1" "$FLEET_USER" "$FLEET_PASSWORD" "$TMP/msgs" <<'EOF'
import imaplib, sys
port, user, password, msgs = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
m.login(user, password)
for n in (1, 2, 3):
    with open(f"{msgs}/{n}.eml", "rb") as f:
        typ, data = m.append("INBOX", None, None, f.read())
    if typ != "OK":
        sys.exit(f"APPEND {n}: {typ} {data}")
typ, data = m.select("INBOX", readonly=True)
if typ != "OK" or data[0] != b"3":
    sys.exit(f"SELECT INBOX: {typ} {data} (want 3 messages)")
m.logout()
EOF
}

# fleet_probe MAILCONFORM SERVER OUT.json ERR [OPTIONS...]: `mailconform
# probe` against every mode SERVER offers (FLEET_PORTS_SERVER), as alice,
# with the fleet's CA and the certificate's name; JSON on OUT.json, stderr
# in ERR; returns the probe's exit status (0 or 1: verdicts; 2: usage).
#   --allow-plaintext-auth: log in in the Plain modes too (loopback, our own
#     servers), so every cell runs the whole exercise and the active checks
#   --to: the RCPT of the SMTP exercise, a local recipient of every MTA (the
#     default postmaster@127.0.0.1 is no domain of theirs)
#   timeout: a hung probe fails (124) with the fleet still stoppable
fleet_probe() {
  local mc=$1 s=$2 out=$3 err=$4 ports=FLEET_PORTS_$2 spec modes='' args=()
  shift 4
  for spec in ${!ports}; do
    modes+=${modes:+,}${spec%%=*}
    args+=(--port "$spec")
  done
  MC_FLEET_PASSWORD=$FLEET_PASSWORD timeout 150 "$mc" probe 127.0.0.1 --modes "$modes" "${args[@]}" \
    --ca "$FLEET_CA" --servername localhost --user "$FLEET_USER" --password-env MC_FLEET_PASSWORD \
    --allow-plaintext-auth --to "$FLEET_RCPT" --timeout 10 --jobs 4 --format json "$@" > "$out" 2> "$err"
}

# fleet_start: FLEET_DIR with a certificate, then every server; exit 1 if one
# did not come up (the others keep running: stop them with fleet_stop)
fleet_start() {
  local p rc=0
  fleet_ports
  for p in "$DOVECOT_POP3" "$DOVECOT_POP3S" "$DOVECOT_IMAP" "$DOVECOT_IMAPS" "$CYRUS_POP3" "$CYRUS_POP3S" \
           "$CYRUS_IMAP" "$CYRUS_IMAPS" "$POSTFIX_SMTP" "$POSTFIX_SUBM" "$POSTFIX_SMTPS" "$EXIM_SMTP" "$EXIM_SUBM" "$EXIM_SMTPS"; do
    port_closed "$p" || { fleet_log "port $p on 127.0.0.1 is in use (set MC_FLEET_BASE)"; return 1; }
  done
  make_tmp
  FLEET_DIR=$TMP FLEET_SERVERS=
  : > "$FLEET_DIR/fleet.env"
  make_cert || { fleet_log "openssl could not make the certificate"; return 1; }
  fleet_record FLEET_DIR "$FLEET_DIR"
  fleet_record FLEET_CA "$FLEET_DIR/cert.pem"
  fleet_record FLEET_USER "$FLEET_USER"
  fleet_record FLEET_PASSWORD "$FLEET_PASSWORD"
  fleet_record FLEET_RCPT "$FLEET_RCPT"
  fleet_messages "$TMP/msgs"
  # Dovecot first: Postfix's SASL needs its socket
  fleet_start_dovecot || rc=1
  fleet_start_postfix || rc=1
  fleet_start_exim || rc=1
  fleet_start_cyrus || rc=1
  fleet_record FLEET_SERVERS "${FLEET_SERVERS# }"
  return $rc
}

# fleet_stop [DIR]: stop every server of DIR/fleet.env (default: this
# shell's fleet), then remove DIR unless KEEP_TMP=1
fleet_stop() {
  local dir=${1:-${FLEET_DIR:-}} s pid
  [ -n "$dir" ] && [ -f "$dir/fleet.env" ] || return 0
  # shellcheck disable=SC1091
  . "$dir/fleet.env"
  local pids=()
  # every PID recorded at launch, also of a server that never became ready
  while read -r s; do
    pid=FLEET_PID_$s
    [ -n "${!pid:-}" ] && pids+=("${!pid}")
  done < <(sed -n 's/^FLEET_PID_\([a-z]*\)=.*/\1/p' "$dir/fleet.env")
  # the Postfix master may be up without a PID recorded (start_postfix failed after `postfix start`)
  if [ -f "$dir/postfix/queue/pid/master.pid" ]; then
    pid=$(tr -d ' ' < "$dir/postfix/queue/pid/master.pid")
    [ -n "$pid" ] && pids+=("$pid")
  fi
  # all at once: Dovecot and Postfix each take 1-3 s to wind down their children
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "fleet: kept $dir" >&2; else rm -rf "$dir"; fi
}

# As a command (not when sourced)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case ${1:-} in
    start)
      [ "$(id -u)" = 0 ] || { echo "fleet: needs root" >&2; exit 77; }
      if missing=$(fleet_missing); then :; else echo "fleet: missing: $missing" >&2; exit 77; fi
      FLEET_DIR=
      trap 'fleet_stop "$FLEET_DIR"' EXIT   # also when a helper dies of set -u
      if fleet_start; then trap - EXIT; echo "$FLEET_DIR"; exit 0; fi
      exit 1 ;;
    env)  [ -f "${2:-}/fleet.env" ] || { echo "usage: fleet.sh env DIR" >&2; exit 2; }; cat "$2/fleet.env" ;;
    stop) [ -f "${2:-}/fleet.env" ] || { echo "usage: fleet.sh stop DIR" >&2; exit 2; }; fleet_stop "$2" ;;
    check) fleet_missing && echo "fleet: every server is present" ;;
    *) echo "usage: fleet.sh start | env DIR | stop DIR | check" >&2; exit 2 ;;
  esac
fi
