#!/usr/bin/env bash
# Integration test (issue 6): decrypting captures with a key log. Python's
# imaplib, poplib and smtplib talk to a real Dovecot (IMAP and POP3: implicit
# TLS, and STARTTLS/STLS) and a real Postfix (implicit TLS on the smtps
# port, STARTTLS on smtp and submission) on loopback, once with TLS 1.2 and
# once with TLS 1.3 forced by the client, writing their TLS secrets to one
# NSS key log (keylog_filename); the same conversations also run in the
# clear (Dovecot's listener without TLS on 127.0.0.2, Postfix's smtp port
# without STARTTLS). tcpdump on lo captures it all. Then
# `mailconform check --keylog KEYLOG --port ...` must show
#   - every TLS flow decrypted and validated, with the forced version,
#   - no finding of severity error at all,
#   - for each protocol, the same rules in every TLS flow as in the
#     plaintext flow of that protocol (the conversations are the same;
#     STARTTLS flows may add rules about the switch itself, see below),
# and without --keylog every implicit-TLS flow is "encrypted, not validated"
# with the client random named.
# curl does the same IMAP, POP3 and SMTP sessions (implicit TLS and
# STARTTLS, TLS 1.2 and 1.3 forced with --tlsv1.x --tls-max, its secrets
# through SSLKEYLOGFILE into the same key log, its local port pinned to find
# its flow), compared with its own plaintext IMAP and POP3 runs.
#
# usage: tests/integration/tls_capture.sh PATH/TO/mailconform
# Exit: 0 all passed, 1 a case failed, 77 Dovecot, Postfix or tcpdump is
# not installed (skip). Needs root (tcpdump on lo; the servers deliver as uid
# 5000), python3, openssl, curl. Sends nothing beyond loopback (127.0.0.1 and
# 127.0.0.2). Ports: MC_TC_* below. KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

MC=${1:?usage: tls_capture.sh PATH/TO/mailconform}
MC=$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

MC_TC_POP3=${MC_TC_POP3:-28110}     # Dovecot POP3, STLS offered
MC_TC_POP3S=${MC_TC_POP3S:-28995}   # Dovecot POP3, implicit TLS
MC_TC_IMAP=${MC_TC_IMAP:-28143}     # Dovecot IMAP, STARTTLS offered
MC_TC_IMAPS=${MC_TC_IMAPS:-28993}   # Dovecot IMAP, implicit TLS
MC_TC_SMTP=${MC_TC_SMTP:-28025}     # Postfix smtpd, STARTTLS offered
MC_TC_SUBM=${MC_TC_SUBM:-28587}     # Postfix submission, STARTTLS required
MC_TC_SMTPS=${MC_TC_SMTPS:-28465}   # Postfix implicit TLS
MC_TC_NOTLS_ADDR=${MC_TC_NOTLS_ADDR:-127.0.0.2}   # Dovecot without TLS (plaintext runs)

command -v dovecot >/dev/null 2>&1 || { echo "SKIP: dovecot is not installed (scripts/install-deps.sh installs it)"; exit 77; }
command -v postfix >/dev/null 2>&1 || { echo "SKIP: postfix is not installed (scripts/install-deps.sh installs it)"; exit 77; }
command -v tcpdump >/dev/null 2>&1 || { echo "SKIP: tcpdump is not installed (scripts/install-deps.sh installs it)"; exit 77; }
need_tools python3 openssl
[ -x "$MC" ] || { echo "FAIL: $MC is not an executable"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (tcpdump on lo; the servers deliver as uid 5000)"; exit 1; }
need_ports_closed "override MC_TC_*, see this script" "$MC_TC_POP3" "$MC_TC_POP3S" "$MC_TC_IMAP" "$MC_TC_IMAPS" "$MC_TC_SMTP" "$MC_TC_SUBM" "$MC_TC_SMTPS"

DOVECOT_PID= POSTFIX_PID= TMP= TCPDUMP_PID=
stop_tcpdump() {
  local end=$(( $(date +%s) + 10 ))
  kill -INT "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
  kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null || true
}
cleanup() {
  [ -n "$TCPDUMP_PID" ] && stop_tcpdump "$TCPDUMP_PID"
  [ -n "$POSTFIX_PID" ] && stop_pid "$POSTFIX_PID"
  [ -n "$DOVECOT_PID" ] && stop_pid "$DOVECOT_PID"
  remove_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_tmp
make_cert
make_maildir

# One Dovecot: POP3 and IMAP (STLS/STARTTLS and implicit TLS on 127.0.0.1,
# no TLS on $MC_TC_NOTLS_ADDR) and the SASL socket Postfix authenticates with
MC_NOTLS_ADDR=$MC_TC_NOTLS_ADDR dovecot_notls
write_dovecot_conf pop3 "$DOVECOT_LISTEN" "$MC_TC_POP3" "$MC_TC_POP3S" "$DOVECOT_NOTLS
protocols = pop3 imap
service imap-login {
  inet_listener imap {
    port = $MC_TC_IMAP
  }
  inet_listener imaps {
    port = $MC_TC_IMAPS
    ssl = yes
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}"
dovecot -F -c "$TMP/dovecot/dovecot.conf" & DOVECOT_PID=$!
if ! { wait_banner "$MC_TC_POP3" '+OK' && wait_banner "$MC_TC_IMAP" '* OK' &&
       wait_banner "$MC_TC_NOTLS_ADDR:$MC_TC_IMAP" '* OK' && [ -S "$TMP/dovecot/run/auth-postfix" ]; }; then
  echo "FAIL: Dovecot did not come up"; tail -20 "$TMP/dovecot/dovecot.log" 2>/dev/null || true; exit 1
fi
start_postfix "$MC_TC_SMTP" "$MC_TC_SUBM" "$MC_TC_SMTPS" ||
  { echo "FAIL: Postfix did not come up"; tail -20 "$TMP/postfix/postfix.log" 2>/dev/null || true; exit 1; }

PORTS=("$MC_TC_POP3=pop3" "$MC_TC_POP3S=pop3s" "$MC_TC_IMAP=imap" "$MC_TC_IMAPS=imaps"
       "$MC_TC_SMTP=smtp" "$MC_TC_SUBM=submission" "$MC_TC_SMTPS=smtps")
FILTER= ; for p in "${PORTS[@]}"; do FILTER="${FILTER:+$FILTER or }tcp port ${p%%=*}"; done
tcpdump -i lo -n -U --immediate-mode -s 0 -B 65536 -Z root -w "$TMP/tls.pcap" "$FILTER" \
  > "$TMP/tcpdump.out" 2> "$TMP/tcpdump.err" & TCPDUMP_PID=$!
end=$(( $(date +%s) + 10 ))
until grep -q 'listening on' "$TMP/tcpdump.err" 2>/dev/null; do
  [ "$(date +%s)" -lt "$end" ] && kill -0 "$TCPDUMP_PID" 2>/dev/null || { echo "FAIL: tcpdump did not start"; cat "$TMP/tcpdump.err"; exit 1; }
  sleep 0.02
done

# The clients: each scenario once in the clear (where the server allows it)
# and once per forced TLS version; one line per session in sessions.txt:
# "NAME PROTO MODE VERSION CLIENT_PORT"
cat > "$TMP/clients.py" <<'PY'
import imaplib, poplib, smtplib, ssl, sys
tmp, ca, notls = sys.argv[1], sys.argv[2], sys.argv[3]
P = dict(a.split("=") for a in sys.argv[4:])
out = open(f"{tmp}/sessions.txt", "w")
MSG = b"From: alice@test.example\r\nTo: bob@test.example\r\nSubject: tls\r\n\r\nhello inside TLS\r\n"

def ctx(version):
    c = ssl.create_default_context(cafile=ca)
    c.keylog_filename = f"{tmp}/keylog"
    v = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[version]
    c.minimum_version = c.maximum_version = v
    return c

def note(name, proto, mode, version, sock):
    out.write(f"{name} {proto} {mode} {version} {sock.getsockname()[1]}\n")
    out.flush()

def imap_session(m):
    m.login("alice", "alicepw")
    m.select("INBOX")
    m.fetch("1:*", "(UID FLAGS RFC822.SIZE)")
    m.fetch("2", "(BODY.PEEK[])")
    m.logout()

def pop3_session(p):
    p.user("alice")
    p.pass_("alicepw")
    p.stat()
    p.list()
    p.retr(2)
    p.quit()

def smtp_session(s, auth):
    s.ehlo("client.example")
    if auth:
        s.login("alice", "alicepw")
    s.sendmail("alice@test.example", ["bob@test.example"], MSG)
    s.quit()

# plaintext
m = imaplib.IMAP4(notls, int(P["imap"])); note("imap-plain", "imap", "plain", "-", m.sock); imap_session(m)
p = poplib.POP3(notls, int(P["pop3"])); note("pop3-plain", "pop3", "plain", "-", p.sock); pop3_session(p)
s = smtplib.SMTP("127.0.0.1", int(P["smtp"]))
note("smtp-plain", "smtp", "plain", "-", s.sock); smtp_session(s, False)
for v in ("1.2", "1.3"):
    m = imaplib.IMAP4_SSL("127.0.0.1", int(P["imaps"]), ssl_context=ctx(v))
    note("imaps-" + v, "imap", "implicit", v, m.sock); imap_session(m)
    m = imaplib.IMAP4("127.0.0.1", int(P["imap"])); note("imap-starttls-" + v, "imap", "starttls", v, m.sock)
    m.starttls(ssl_context=ctx(v)); imap_session(m)
    p = poplib.POP3_SSL("127.0.0.1", int(P["pop3s"]), context=ctx(v))
    note("pop3s-" + v, "pop3", "implicit", v, p.sock); pop3_session(p)
    p = poplib.POP3("127.0.0.1", int(P["pop3"])); note("pop3-stls-" + v, "pop3", "starttls", v, p.sock)
    p.stls(context=ctx(v)); pop3_session(p)
    s = smtplib.SMTP_SSL("127.0.0.1", int(P["smtps"]), context=ctx(v))
    note("smtps-" + v, "smtp", "implicit", v, s.sock); smtp_session(s, True)
    for name, port, auth in (("smtp-starttls-", P["smtp"], False), ("subm-starttls-", P["submission"], True)):
        s = smtplib.SMTP("127.0.0.1", int(port)); note(name + v, "smtp", "starttls", v, s.sock)
        s.ehlo("client.example"); s.starttls(context=ctx(v)); smtp_session(s, auth)
print("clients: ok")
PY
# curl, the other client the issue names: the same sessions with libcurl's
# OpenSSL, its key log through SSLKEYLOGFILE, its local port pinned with
# --local-port so that its flow can be found
cat > "$TMP/curl_clients.sh" <<'SH'
set -eu
tmp=$1 ca=$2 notls=$3; shift 3
for a in "$@"; do eval "P_${a%%=*}=${a#*=}"; done
port=$(( 41000 + RANDOM % 2000 ))
printf 'From: alice@test.example\r\nTo: bob@test.example\r\nSubject: curl tls\r\n\r\nhello from curl\r\n' > "$tmp/curl-msg.txt"
# run NAME PROTO MODE VERSION CURL-ARGS...: one curl session, noted in sessions.txt
run() {
  local name=$1 proto=$2 mode=$3 version=$4; shift 4
  local tls=()
  case $version in
    1.2) tls=(--tlsv1.2 --tls-max 1.2) ;;
    1.3) tls=(--tlsv1.3 --tls-max 1.3) ;;
  esac
  port=$((port + 1))
  SSLKEYLOGFILE="$tmp/keylog" curl -sS --max-time 20 --cacert "$ca" --local-port "$port" \
    ${tls[@]+"${tls[@]}"} -u alice:alicepw "$@" > "$tmp/curl-$name.out"
  echo "$name $proto $mode $version $port" >> "$tmp/sessions.txt"
}
SMTP=(--mail-from alice@test.example --mail-rcpt bob@test.example --upload-file "$tmp/curl-msg.txt")
run curl-imap-plain imap plain - "imap://$notls:$P_imap/INBOX;UID=1"
run curl-pop3-plain pop3 plain - "pop3://$notls:$P_pop3/1"
for v in 1.2 1.3; do
  run "curl-imaps-$v" imap implicit "$v" --resolve "localhost:$P_imaps:127.0.0.1" "imaps://localhost:$P_imaps/INBOX;UID=1"
  run "curl-imap-starttls-$v" imap starttls "$v" --ssl-reqd --resolve "localhost:$P_imap:127.0.0.1" "imap://localhost:$P_imap/INBOX;UID=1"
  run "curl-pop3s-$v" pop3 implicit "$v" --resolve "localhost:$P_pop3s:127.0.0.1" "pop3s://localhost:$P_pop3s/1"
  run "curl-pop3-stls-$v" pop3 starttls "$v" --ssl-reqd --resolve "localhost:$P_pop3:127.0.0.1" "pop3://localhost:$P_pop3/1"
  run "curl-smtps-$v" smtp implicit "$v" --resolve "localhost:$P_smtps:127.0.0.1" "smtps://localhost:$P_smtps" "${SMTP[@]}"
  run "curl-subm-starttls-$v" smtp starttls "$v" --ssl-reqd --resolve "localhost:$P_submission:127.0.0.1" "smtp://localhost:$P_submission" "${SMTP[@]}"
done
echo "curl clients: ok"
SH
args=(); for p in "${PORTS[@]}"; do args+=("${p#*=}=${p%%=*}"); done
if ! timeout 120 python3 "$TMP/clients.py" "$TMP" "$TMP/cert.pem" "$MC_TC_NOTLS_ADDR" "${args[@]}" > "$TMP/clients.out" 2>&1; then
  echo "FAIL: the clients failed:"; sed 's/^/    | /' "$TMP/clients.out"; exit 1
fi
if ! timeout 180 bash "$TMP/curl_clients.sh" "$TMP" "$TMP/cert.pem" "$MC_TC_NOTLS_ADDR" "${args[@]}" > "$TMP/curl.out" 2>&1; then
  echo "FAIL: the curl clients failed:"; sed 's/^/    | /' "$TMP/curl.out"; exit 1
fi

# stop the capture once the file stopped growing
last=; end=$(( $(date +%s) + 5 ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 0.3; now=$(stat -c %s "$TMP/tls.pcap"); [ "$now" = "$last" ] && break; last=$now
done
stop_tcpdump "$TCPDUMP_PID"; TCPDUMP_PID=

opts=(); for p in "${PORTS[@]}"; do opts+=(--port "$p"); done
rc=0; timeout 120 "$MC" check --format jsonl "${opts[@]}" --keylog "$TMP/keylog" "$TMP/tls.pcap" \
  > "$TMP/keyed.jsonl" 2> "$TMP/keyed.err" || rc=$?
echo "$rc" > "$TMP/keyed.rc"
rc=0; timeout 120 "$MC" check --format jsonl "${opts[@]}" "$TMP/tls.pcap" \
  > "$TMP/nokey.jsonl" 2> "$TMP/nokey.err" || rc=$?
echo "$rc" > "$TMP/nokey.rc"

python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
sessions = [l.split() for l in open(f"{tmp}/sessions.txt")]
def load(name):
    # by client port, a list: the kernel may give a later session the same
    # port, and the flows then come in the order the sessions ran
    flows, findings = {}, {}
    for line in open(f"{tmp}/{name}.jsonl"):
        d = json.loads(line)
        if "flow" in d:
            flows.setdefault(int(d["client"].rsplit(":", 1)[1]), []).append(d)
        elif "rule" in d:
            findings.setdefault(d["session"], []).append(d)
    return flows, findings
passed = failed = 0
def result(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {why}")
for side in ("keyed", "nokey"):
    rc = open(f"{tmp}/{side}.rc").read().strip()
    err = open(f"{tmp}/{side}.err").read().strip()
    result(rc == "0" and not err, f"check {side}: exit 0, nothing on stderr", f"exit {rc}: {err[:300]}")
flows, findings = load("keyed")
rules_of = {}
for name, proto, mode, version, port in sessions:
    f = flows[int(port)].pop(0) if flows.get(int(port)) else None
    if f is None:
        result(False, name, f"no flow from client port {port}")
        continue
    got = sorted(x["rule"] for x in findings.get(f["flow"], []))
    errors = [x["rule"] for x in findings.get(f["flow"], []) if x["severity"] == "error"]
    rules_of[name] = got
    why = []
    if f["protocol"] != proto or not f["validated"]:
        why.append(f"protocol {f['protocol']}, validated {f['validated']}")
    if errors:
        why.append(f"error findings {errors}")
    if mode != "plain":
        t = f["tls"] or {}
        if not t.get("decrypted") or t.get("version") != "TLS " + version:
            why.append(f"tls {t}")
        if f["mode"] != {"implicit": "implicit TLS", "starttls": "STARTTLS"}[mode]:
            why.append(f"mode {f['mode']}")
    result(not why, f"{name}: decrypted and validated, no error finding ({', '.join(got) or 'no findings'})",
           "; ".join(why))
# the same conversation: the same rules in TLS as in the clear. STARTTLS
# sessions may differ by what the switch itself is judged for: Python's
# poplib.stls() sends CAPA before STLS but not again inside TLS, which is
# POP3.CAPA.NOT_REISSUED (RFC 2595 section 4, a warning): true of poplib
SWITCH_RULES = {"POP3.CAPA.NOT_REISSUED", "IMAP.CAPABILITY.NOT_REFRESHED", "IMAP.LOGINDISABLED.IN_TLS"}
def not_switch(rules):
    return [r for r in rules if ".STARTTLS." not in r and ".STLS." not in r and r not in SWITCH_RULES]
for name, proto, mode, version, port in sessions:
    if mode == "plain" or name not in rules_of:
        continue
    # each client against its own plaintext run (curl and Python send
    # different commands)
    base = ("curl-" if name.startswith("curl-") else "") + proto + "-plain"
    if proto == "smtp" and name.startswith("curl-"):
        continue   # no plaintext SMTP run for curl: port 25 offers STARTTLS, relaying differs
    want = rules_of.get(base)
    got = not_switch(rules_of[name])
    result(got == not_switch(want or []), f"{name}: the findings of {base}", f"{got} != {want}")
flows, findings = load("nokey")
for name, proto, mode, version, port in sessions:
    f = flows[int(port)].pop(0) if flows.get(int(port)) else None
    if mode != "implicit" or f is None:
        continue
    note = (f.get("tls") or {}).get("note") or ""
    result(not f["validated"] and note.startswith("encrypted, not validated: no key for client random"),
           f"{name} without the key log: not validated, client random named", str(f))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
