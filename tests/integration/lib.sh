# shellcheck shell=bash
# Shared pieces of the integration scripts (sourced, not run): a private
# Dovecot on loopback high ports, readiness helpers, and starting the relay.
# Recipes: /work/shared/SERVERS.md sections 0 and 1. Needs root (Dovecot
# drops privileges to the mail uid 5000) and sends nothing beyond loopback.
#
# Ports (override in the environment if they clash):
MC_POP3_PORT=${MC_POP3_PORT:-21110}     # Dovecot POP3, plain + STLS
MC_POP3S_PORT=${MC_POP3S_PORT:-21995}   # Dovecot POP3, implicit TLS
MC_RELAY_PORT=${MC_RELAY_PORT:-21111}   # the relay under test
MC_CLOSED_PORT=${MC_CLOSED_PORT:-21119} # must have no listener

# wait_banner [ADDR:]PORT PREFIX [SECS]: until ADDR:PORT (ADDR 127.0.0.1 if
# not given) sends a first line starting with PREFIX
wait_banner() {
  local end=$(( $(date +%s) + ${3:-20} )) line addr=127.0.0.1 port=$1
  case $1 in *:*) addr=${1%:*} port=${1##*:} ;; esac
  while [ "$(date +%s)" -lt "$end" ]; do
    line=$(timeout 3 bash -c "exec 3<>/dev/tcp/$addr/$port && IFS= read -r l <&3 && printf %s \"\$l\"" 2>/dev/null) &&
      case $line in "$2"*) return 0;; esac
    sleep 0.05
  done; return 1
}
# wait_tls PORT [SECS]: until a TLS handshake with 127.0.0.1:PORT succeeds
wait_tls() {
  local end=$(( $(date +%s) + ${2:-20} ))
  while [ "$(date +%s)" -lt "$end" ]; do
    timeout 3 openssl s_client -connect 127.0.0.1:$1 </dev/null >/dev/null 2>&1 && return 0
    sleep 0.05
  done; return 1
}
# stop_pid PID: SIGTERM, reap if it is our child, then wait until it is gone
# (safe under set -e: a process already gone or killed by the signal is not an error)
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; while kill -0 "$1" 2>/dev/null; do sleep 0.05; done; }
# port_closed PORT: nothing listens on 127.0.0.1:PORT
port_closed() { ! timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# need_tools TOOL...: exit 1 (FAIL) unless every TOOL is on PATH
need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t is not installed (scripts/install-deps.sh)"; exit 1; }
  done
}
# need_ports_closed HINT PORT...: exit 1 (FAIL) if something listens on a
# PORT of 127.0.0.1; HINT (may be empty) says how to move the ports
need_ports_closed() {
  local hint=$1 p
  shift
  for p in "$@"; do
    port_closed "$p" || { echo "FAIL: port $p on 127.0.0.1 is in use${hint:+ ($hint)}"; exit 1; }
  done
}

# make_tmp: $TMP, world-traversable (the mail uid must get through it)
# remove_tmp: the end of a test's cleanup: removes $TMP (if made), or keeps
# it and says where with KEEP_TMP=1
remove_tmp() {
  if [ -n "$TMP" ]; then
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  fi
}
make_tmp() {
  TMP=$(mktemp -d /tmp/mailconform-it.XXXXXX)
  chmod 755 "$TMP"
}

# make_cert: $TMP/cert.pem (self-signed, CA:TRUE, localhost + 127.0.0.1 + ::1) and key.pem
make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
}

# make_maildir: alice's Maildir with three messages, stored in this order.
# Message 2 has body lines that start with '.', so the server must byte-stuff
# them: ".leading dot line", a line "..", and a line holding only ".".
make_maildir() {
  local md=$TMP/mail/alice/Maildir
  mkdir -p "$md/cur" "$md/new" "$md/tmp" "$TMP/mail/bob"
  printf '%s\n' 'From: bob@test.example' 'To: alice@test.example' 'Subject: first' \
    'Date: Mon, 1 Jan 2024 10:00:00 +0000' 'Message-ID: <m1@test.example>' '' \
    'Hello Alice,' 'this is the first message.' > "$md/cur/1704103200.M1P1.mailconform:2,"
  printf '%s\n' 'From: bob@test.example' 'To: alice@test.example' 'Subject: dots' \
    'Date: Mon, 1 Jan 2024 11:00:00 +0000' 'Message-ID: <m2@test.example>' '' \
    'A line before the dots.' '.leading dot line' '..' '.' 'a line after the dots' \
    > "$md/cur/1704106800.M2P1.mailconform:2,"
  printf '%s\n' 'From: carol@test.example' 'To: alice@test.example' 'Subject: third' \
    'Date: Mon, 1 Jan 2024 12:00:00 +0000' 'Message-ID: <m3@test.example>' '' \
    'Third message, line 1.' 'line 2' 'line 3' 'line 4' > "$md/cur/1704110400.M3P1.mailconform:2,"
  chown -R 5000:5000 "$TMP/mail"
}

# write_dovecot_conf PROTO LISTEN PORT TLS_PORT [EXTRA]: the private Dovecot
# configuration of start_dovecot and start_dovecot_imap: users alice and bob
# (mail uid 5000, maildirs under $TMP/mail), PROTO (pop3 or imap) on PORT
# (STLS/STARTTLS offered) and on TLS_PORT (implicit TLS), EXTRA appended.
write_dovecot_conf() {
  local proto=$1 listen=$2 port=$3 tls_port=$4 extra=${5:-}
  mkdir -p "$TMP/dovecot"
  cat > "$TMP/dovecot/users" <<EOF
alice:{PLAIN}alicepw:5000:5000::$TMP/mail/alice::
bob:{PLAIN}bobpw:5000:5000::$TMP/mail/bob::
EOF
  cat > "$TMP/dovecot/dovecot.conf" <<EOF
base_dir = $TMP/dovecot/run
state_dir = $TMP/dovecot/state
log_path = $TMP/dovecot/dovecot.log
instance_name = mailconform-$proto-$$
protocols = $proto
listen = $listen
ssl = yes
ssl_cert = <$TMP/cert.pem
ssl_key = <$TMP/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $TMP/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $TMP/dovecot/users
}
service $proto-login {
  inet_listener $proto {
    port = $port
  }
  inet_listener ${proto}s {
    port = $tls_port
    ssl = yes
  }
}
$extra
EOF
}

# dovecot_notls: sets DOVECOT_LISTEN (the listen addresses for
# write_dovecot_conf) and DOVECOT_NOTLS (configuration to append). Without
# MC_NOTLS_ADDR: 127.0.0.1 and nothing. With MC_NOTLS_ADDR (e.g. 127.0.0.2,
# any loopback address; Linux routes all of 127.0.0.0/8 to lo): Dovecot also
# listens there on the same ports with TLS off, so a connection to it sees
# no STLS/STARTTLS: logging in in the clear there is what RFC 8314 section 5.2
# leaves a client when TLS is not offered (no *.CLEARTEXT.PASSWORD finding).
dovecot_notls() {
  DOVECOT_LISTEN=127.0.0.1 DOVECOT_NOTLS=
  if [ -n "${MC_NOTLS_ADDR:-}" ]; then
    DOVECOT_LISTEN="127.0.0.1, $MC_NOTLS_ADDR"
    DOVECOT_NOTLS="local $MC_NOTLS_ADDR {
  ssl = no
}"
  fi
}

# start_dovecot: private config, POP3 only; sets DOVECOT_PID; waits until ready.
# With MC_NOTLS_ADDR set, also plain POP3 without STLS there (dovecot_notls;
# the POP3-Plain mode).
start_dovecot() {
  dovecot_notls
  write_dovecot_conf pop3 "$DOVECOT_LISTEN" "$MC_POP3_PORT" "$MC_POP3S_PORT" "$DOVECOT_NOTLS"
  dovecot -F -c "$TMP/dovecot/dovecot.conf" & DOVECOT_PID=$!
  wait_banner "$MC_POP3_PORT" '+OK' && wait_tls "$MC_POP3S_PORT" &&
    { [ -z "${MC_NOTLS_ADDR:-}" ] || wait_banner "$MC_NOTLS_ADDR:$MC_POP3_PORT" '+OK'; }
}

# start_relay NAME [extra relay options...]: relay 127.0.0.1:$MC_RELAY_PORT ->
# Dovecot, recording $TMP/NAME.mct, findings (jsonl) in $TMP/NAME.relay.out,
# log in $TMP/NAME.relay.err; sets RELAY_PID; waits for its "listening" line.
start_relay() {
  local name=$1; shift
  "$MC" relay --listen 127.0.0.1:$MC_RELAY_PORT --to 127.0.0.1:$MC_POP3_PORT \
    --record "$TMP/$name.mct" --check --format jsonl --idle-timeout 20 "$@" \
    > "$TMP/$name.relay.out" 2> "$TMP/$name.relay.err" &
  RELAY_PID=$!
  local end=$(( $(date +%s) + 15 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    grep -q '^relay: listening on' "$TMP/$name.relay.err" 2>/dev/null && return 0
    kill -0 "$RELAY_PID" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# wait_relay [SECS]: wait for the relay to exit by itself; sets RELAY_RC
# (124 if it had to be stopped)
wait_relay() {
  local end=$(( $(date +%s) + ${1:-15} ))
  while kill -0 "$RELAY_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.02; done
  if kill -0 "$RELAY_PID" 2>/dev/null; then
    stop_pid "$RELAY_PID"; RELAY_RC=124
  else
    RELAY_RC=0; wait "$RELAY_PID" || RELAY_RC=$?
  fi
  RELAY_PID=
}

# ---------------------------------------------------------------------------
# SMTP (smtp_mta.sh): a private Postfix (SASL through a Dovecot auth socket)
# or an Exim unpacked by scripts/install-deps.sh. Recipes: SERVERS.md
# sections 1, 2, 3.1 and 3.3. Ports (override in the environment):
MC_PF_SMTP_PORT=${MC_PF_SMTP_PORT:-22025}       # Postfix smtpd, STARTTLS offered
MC_PF_SUBM_PORT=${MC_PF_SUBM_PORT:-22587}       # Postfix submission: STARTTLS required, then AUTH
MC_PF_SMTPS_PORT=${MC_PF_SMTPS_PORT:-22465}     # Postfix implicit TLS + AUTH
MC_PF_RELAY_PORT=${MC_PF_RELAY_PORT:-22026}     # the relay in front of Postfix
MC_EXIM_SMTP_PORT=${MC_EXIM_SMTP_PORT:-22125}   # Exim, STARTTLS offered
MC_EXIM_SUBM_PORT=${MC_EXIM_SUBM_PORT:-22187}   # Exim submission: AUTH after TLS required
MC_EXIM_SMTPS_PORT=${MC_EXIM_SMTPS_PORT:-22165} # Exim implicit TLS + AUTH
MC_EXIM_RELAY_PORT=${MC_EXIM_RELAY_PORT:-22126} # the relay in front of Exim
MC_EXIM_ROOT=${MC_EXIM_ROOT:-/opt/mailconform/exim4}  # where install-deps.sh unpacks Exim

# find_exim: sets EXIM_BIN to an installed exim4, else the unpacked one; fails if neither
find_exim() {
  EXIM_BIN=
  if command -v exim4 >/dev/null 2>&1; then EXIM_BIN=$(command -v exim4)
  elif [ -x "$MC_EXIM_ROOT/usr/sbin/exim4" ]; then EXIM_BIN=$MC_EXIM_ROOT/usr/sbin/exim4
  fi
  [ -n "$EXIM_BIN" ] && id -u Debian-exim >/dev/null 2>&1
}

# make_smtp_mailboxes OWNER: empty $TMP/mail/{alice,bob}/Maildir owned by OWNER
make_smtp_mailboxes() {
  local u
  for u in alice bob; do mkdir -p "$TMP/mail/$u/Maildir/new" "$TMP/mail/$u/Maildir/cur" "$TMP/mail/$u/Maildir/tmp"; done
  chown -R "$1" "$TMP/mail"
}

# start_dovecot_sasl: a Dovecot with no mail protocol, only the auth socket
# $TMP/dovecot/run/auth-postfix (users alice/alicepw, bob/bobpw) for
# Postfix's smtpd_sasl_type = dovecot; sets DOVECOT_PID; waits for the socket.
start_dovecot_sasl() {
  mkdir -p "$TMP/dovecot"
  cat > "$TMP/dovecot/users" <<EOF
alice:{PLAIN}alicepw:5000:5000::$TMP/mail/alice::
bob:{PLAIN}bobpw:5000:5000::$TMP/mail/bob::
EOF
  cat > "$TMP/dovecot/dovecot.conf" <<EOF
base_dir = $TMP/dovecot/run
state_dir = $TMP/dovecot/state
log_path = $TMP/dovecot/dovecot.log
instance_name = mailconform-sasl-$$
protocols = none
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $TMP/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $TMP/dovecot/users
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
EOF
  dovecot -F -c "$TMP/dovecot/dovecot.conf" & DOVECOT_PID=$!
  local end=$(( $(date +%s) + 20 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    [ -S "$TMP/dovecot/run/auth-postfix" ] && return 0
    kill -0 "$DOVECOT_PID" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# start_postfix SMTP SUBMISSION SMTPS: private instance (postfix -c) on
# 127.0.0.1; mail for alice@/bob@test.example goes to $TMP/mail/USER/Maildir
# (uid 5000), everything else is discarded; SASL through start_dovecot_sasl's
# socket. Sets POSTFIX_PID; log in $TMP/postfix/postfix.log.
start_postfix() {
  mkdir -p "$TMP/postfix/conf" "$TMP/postfix/queue"
  cat > "$TMP/postfix/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $TMP/postfix/queue
data_directory = $TMP/postfix/data
maillog_file = $TMP/postfix/postfix.log
maillog_file_prefixes = $TMP
myhostname = mx.test.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks =
alias_maps =
alias_database =
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_mailbox_domains = test.example
virtual_mailbox_base = $TMP/mail
virtual_mailbox_maps = inline:{ alice@test.example=alice/Maildir/, bob@test.example=bob/Maildir/ }
virtual_uid_maps = static:5000
virtual_gid_maps = static:5000
smtpd_tls_cert_file = $TMP/cert.pem
smtpd_tls_key_file = $TMP/key.pem
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = $TMP/dovecot/run/auth-postfix
biff = no
EOF
  cat > "$TMP/postfix/conf/master.cf" <<EOF
127.0.0.1:$1 inet n - n - - smtpd
127.0.0.1:$2 inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:$3 inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix n - n 60 1 pickup
cleanup   unix n - n -  0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
  postfix -c "$TMP/postfix/conf" start >/dev/null 2>&1 || return 1   # returns once the ports are bound
  POSTFIX_PID=$(tr -d ' ' < "$TMP/postfix/queue/pid/master.pid")
  wait_banner "$1" 220 && wait_tls "$3"
}

# start_exim SMTP SUBMISSION SMTPS: Exim ($EXIM_BIN, find_exim) with a
# private -C config: mail for alice@/bob@test.example goes to
# $TMP/mail/USER/Maildir, delivered as Debian-exim (no trusted_configs entry
# needed); authenticated mail to anyone else is blackholed. AUTH PLAIN/LOGIN
# (plaintext authenticator, fixed alice/alicepw: the light daemon has no
# dovecot authenticator) is offered only inside TLS; the submission port
# refuses RCPT without it. Sets EXIM_PID; logs in $TMP/exim/log.
start_exim() {
  mkdir -p "$TMP/exim/spool" "$TMP/exim/log"
  chown Debian-exim "$TMP/exim/spool" "$TMP/exim/log"
  install -o Debian-exim -m 600 "$TMP/key.pem" "$TMP/exim/key.pem"   # read as Debian-exim
  cat > "$TMP/exim/exim.conf" <<EOF
exim_path = $EXIM_BIN
keep_environment =
primary_hostname = mx.test.example
spool_directory = $TMP/exim/spool
log_file_path = $TMP/exim/log/%slog
pid_file_path = $TMP/exim/exim.pid
local_interfaces = 127.0.0.1
daemon_smtp_ports = $1 : $2 : $3
tls_on_connect_ports = $3
tls_certificate = $TMP/cert.pem
tls_privatekey = $TMP/exim/key.pem
tls_advertise_hosts = *
auth_advertise_hosts = \${if eq{\$tls_in_cipher}{}{}{*}}
host_lookup =
rfc1413_hosts =
domainlist local_domains = test.example
acl_smtp_rcpt = acl_rcpt

begin acl
acl_rcpt:
  deny    condition = \${if eq{\$received_port}{$2}}
          !authenticated = *
  accept  authenticated = *
  accept  domains = +local_domains
          local_parts = alice : bob
  deny    message = relay not permitted

begin routers
mailbox:
  driver = accept
  domains = +local_domains
  local_parts = alice : bob
  transport = maildir
blackhole:
  driver = redirect
  data = :blackhole:

begin transports
maildir:
  driver = appendfile
  directory = $TMP/mail/\${local_part_data}/Maildir
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if eq{\$auth2:\$auth3}{alice:alicepw}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if eq{\$auth1:\$auth2}{alice:alicepw}}
  server_set_id = \$auth1
EOF
  "$EXIM_BIN" -C "$TMP/exim/exim.conf" -bV > "$TMP/exim/bV.out" 2>&1 || return 1
  "$EXIM_BIN" -C "$TMP/exim/exim.conf" -bdf > "$TMP/exim/daemon.out" 2>&1 & EXIM_PID=$!
  wait_banner "$1" 220 && wait_tls "$3"
}

# start_relay_to NAME LISTEN_PORT TO_ADDR:PORT [extra relay options...]: like
# start_relay, for any target (records $TMP/NAME.mct, live findings in
# $TMP/NAME.relay.out, log in $TMP/NAME.relay.err); sets RELAY_PID.
start_relay_to() {
  local name=$1 listen=$2 to=$3; shift 3
  "$MC" relay --listen 127.0.0.1:$listen --to "$to" \
    --record "$TMP/$name.mct" --check --format jsonl --idle-timeout 20 "$@" \
    > "$TMP/$name.relay.out" 2> "$TMP/$name.relay.err" &
  RELAY_PID=$!
  local end=$(( $(date +%s) + 15 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    grep -q '^relay: listening on' "$TMP/$name.relay.err" 2>/dev/null && return 0
    kill -0 "$RELAY_PID" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# mc_protocol_opts NAME...: prints "--protocol NAME" for the first NAME that
# `mailconform check` accepts (exit 0 on an empty input), nothing if it accepts none (then sessions are
# detected from the server's first line)
mc_protocol_opts() {
  local p
  for p in "$@"; do
    if "$MC" check --protocol "$p" /dev/null >/dev/null 2>&1; then echo "--protocol $p"; return 0; fi
  done
}

# ---------------------------------------------------------------------------
# IMAP (imap_dovecot.sh): a private Dovecot serving IMAP. Recipes: SERVERS.md
# sections 1 and 5 (mbsync). Ports (override in the environment):
MC_IMAP_PORT=${MC_IMAP_PORT:-24143}             # Dovecot IMAP, plain + STARTTLS
MC_IMAPS_PORT=${MC_IMAPS_PORT:-24993}           # Dovecot IMAP, implicit TLS
MC_IMAP_RELAY_PORT=${MC_IMAP_RELAY_PORT:-24144} # the relay in front of Dovecot IMAP

# make_imap_maildir: alice's Maildir with three messages (LF line ends, as
# Dovecot stores them), each also copied to $TMP/msgs/N.eml (N = 1..3, the
# sequence number): 1 a multipart/mixed MIME message (text/plain + nested
# multipart/alternative + a base64 attachment), 2 an 8-bit UTF-8 text body
# (Content-Transfer-Encoding: 8bit), 3 a ~200 KB text message.
make_imap_maildir() {
  local md=$TMP/mail/alice/Maildir
  mkdir -p "$md/cur" "$md/new" "$md/tmp" "$TMP/mail/bob" "$TMP/msgs"
  printf '%s\n' 'From: Bob <bob@test.example>' 'To: Alice <alice@test.example>' \
    'Subject: multipart test' 'Date: Mon, 1 Jan 2024 10:00:00 +0000' \
    'Message-ID: <mime1@test.example>' 'MIME-Version: 1.0' \
    'Content-Type: multipart/mixed; boundary="outer-boundary"' '' \
    'This is a multi-part message in MIME format.' '' \
    '--outer-boundary' 'Content-Type: multipart/alternative; boundary="inner-boundary"' '' \
    '--inner-boundary' 'Content-Type: text/plain; charset=us-ascii' '' \
    'Hello Alice, the plain part.' '' \
    '--inner-boundary' 'Content-Type: text/html; charset=us-ascii' '' \
    '<p>Hello Alice, the <b>HTML</b> part.</p>' '' \
    '--inner-boundary--' '' \
    '--outer-boundary' 'Content-Type: application/octet-stream; name="data.bin"' \
    'Content-Disposition: attachment; filename="data.bin"' 'Content-Transfer-Encoding: base64' '' \
    "$(head -c 600 /dev/urandom | base64 -w 76)" '' \
    '--outer-boundary--' > "$TMP/msgs/1.eml"
  printf '%s\n' 'From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@test.example>' 'To: alice@test.example' \
    'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_8bit?=' 'Date: Mon, 1 Jan 2024 11:00:00 +0000' \
    'Message-ID: <eight2@test.example>' 'MIME-Version: 1.0' \
    'Content-Type: text/plain; charset=utf-8' 'Content-Transfer-Encoding: 8bit' '' \
    'Grüße aus Köln, schöne Grüße!' 'Ελληνικά, русский, 日本語 — and a € sign.' \
    '.a line that starts with a dot' > "$TMP/msgs/2.eml"
  { printf '%s\n' 'From: carol@test.example' 'To: alice@test.example' 'Subject: big' \
      'Date: Mon, 1 Jan 2024 12:00:00 +0000' 'Message-ID: <big3@test.example>' \
      'MIME-Version: 1.0' 'Content-Type: text/plain; charset=us-ascii' ''
    local n
    for n in $(seq 1 2700); do printf 'line %05d abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\n' "$n"; done
  } > "$TMP/msgs/3.eml"
  cp "$TMP/msgs/1.eml" "$md/cur/1704103200.M1P1.mailconform:2,"
  cp "$TMP/msgs/2.eml" "$md/cur/1704106800.M2P1.mailconform:2,"
  cp "$TMP/msgs/3.eml" "$md/cur/1704110400.M3P1.mailconform:2,"
  chown -R 5000:5000 "$TMP/mail"
}

# start_dovecot_imap: private config (as start_dovecot), IMAP only, on
# $MC_IMAP_PORT (STARTTLS offered) and $MC_IMAPS_PORT (implicit TLS); with
# MC_NOTLS_ADDR set, also IMAP without STARTTLS on $MC_NOTLS_ADDR:$MC_IMAP_PORT
# (dovecot_notls); sets DOVECOT_PID; waits until all answer.
start_dovecot_imap() {
  dovecot_notls
  write_dovecot_conf imap "$DOVECOT_LISTEN" "$MC_IMAP_PORT" "$MC_IMAPS_PORT" "$DOVECOT_NOTLS"
  dovecot -F -c "$TMP/dovecot/dovecot.conf" & DOVECOT_PID=$!
  wait_banner "$MC_IMAP_PORT" '* OK' && wait_tls "$MC_IMAPS_PORT" &&
    { [ -z "${MC_NOTLS_ADDR:-}" ] || wait_banner "$MC_NOTLS_ADDR:$MC_IMAP_PORT" '* OK'; }
}
