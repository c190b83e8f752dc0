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

# wait_banner PORT PREFIX [SECS]: until 127.0.0.1:PORT sends a first line starting with PREFIX
wait_banner() {
  local end=$(( $(date +%s) + ${3:-20} )) line
  while [ "$(date +%s)" -lt "$end" ]; do
    line=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && IFS= read -r l <&3 && printf %s \"\$l\"" 2>/dev/null) &&
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

# make_tmp: $TMP, world-traversable (the mail uid must get through it)
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

# start_dovecot: private config, POP3 only; sets DOVECOT_PID; waits until ready.
# With MC_NOTLS_ADDR set (e.g. 127.0.0.2), Dovecot also listens there with
# TLS off, so connections to it see no STLS (the POP3-Plain mode).
start_dovecot() {
  local listen=127.0.0.1 notls=
  if [ -n "${MC_NOTLS_ADDR:-}" ]; then
    listen="127.0.0.1, $MC_NOTLS_ADDR"
    notls="local $MC_NOTLS_ADDR {
  ssl = no
}"
  fi
  mkdir -p "$TMP/dovecot"
  cat > "$TMP/dovecot/users" <<EOF
alice:{PLAIN}alicepw:5000:5000::$TMP/mail/alice::
bob:{PLAIN}bobpw:5000:5000::$TMP/mail/bob::
EOF
  cat > "$TMP/dovecot/dovecot.conf" <<EOF
base_dir = $TMP/dovecot/run
state_dir = $TMP/dovecot/state
log_path = $TMP/dovecot/dovecot.log
instance_name = mailconform-it-$$
protocols = pop3
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
service pop3-login {
  inet_listener pop3 {
    port = $MC_POP3_PORT
  }
  inet_listener pop3s {
    port = $MC_POP3S_PORT
    ssl = yes
  }
}
$notls
EOF
  dovecot -F -c "$TMP/dovecot/dovecot.conf" & DOVECOT_PID=$!
  wait_banner "$MC_POP3_PORT" '+OK' && wait_tls "$MC_POP3S_PORT"
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
