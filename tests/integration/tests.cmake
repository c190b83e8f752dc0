# Integration tests on loopback (label "integration"); each script prints a
# PASS/FAIL line per case and ends with "N passed, M failed".
#
# integration_pop3_dovecot: real Dovecot, real clients (curl, poplib) through
# `mailconform relay`. Exits 77 (skipped) when Dovecot is not installed; needs
# root, curl, python3, openssl (scripts/install-deps.sh) and the ports in
# tests/integration/lib.sh.
add_test(NAME integration_pop3_dovecot
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/pop3_dovecot.sh $<TARGET_FILE:mailconform>)
set_tests_properties(integration_pop3_dovecot PROPERTIES
  LABELS integration
  TIMEOUT 120
  SKIP_RETURN_CODE 77
  RESOURCE_LOCK mailconform_dovecot_ports)

# integration_relay_loopback: the relay's plumbing with scripted Python peers
# (back-pressure, half-close, IPv6, the connection limit, timeouts, signals).
# Needs python3 only; ports 21130-21131.
add_test(NAME integration_relay_loopback
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/relay_loopback.sh $<TARGET_FILE:mailconform>)
set_tests_properties(integration_relay_loopback PROPERTIES
  LABELS integration
  TIMEOUT 120
  RESOURCE_LOCK mailconform_relay_loopback_ports)

# integration_smtp_postfix / integration_smtp_exim: real MTAs, real clients
# (swaks, curl, smtplib: plain, PIPELINING, STARTTLS, dot-stuffing, a 200 KB
# message, submission with AUTH, implicit TLS) through `mailconform relay`;
# every message must arrive intact in the MTA's private Maildir. One script,
# the MTA as its argument; both hold one lock so they run one after the
# other. Exit 77 (skipped) when the MTA is not installed (Exim: unpacked by
# scripts/install-deps.sh). Needs root, swaks, curl, python3, openssl;
# ports 22025-22587 (tests/integration/lib.sh, docs/integration.md).
foreach(mta postfix exim)
  add_test(NAME integration_smtp_${mta}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/smtp_mta.sh ${mta} $<TARGET_FILE:mailconform>)
  set_tests_properties(integration_smtp_${mta} PROPERTIES
    LABELS integration
    TIMEOUT 120
    SKIP_RETURN_CODE 77
    RESOURCE_LOCK mailconform_smtp_mta)
endforeach()

# integration_imap_dovecot (issue 3): real Dovecot IMAP, real clients (curl
# plain/STARTTLS/imaps, imaplib plain/starttls(), a full mbsync sync plain and
# STARTTLS) through `mailconform relay --protocol imap`; a multipart MIME, an
# 8-bit and a ~200 KB message must arrive byte for byte. Exit 77 (skipped)
# when Dovecot's IMAP is not installed. Needs root, curl, python3, openssl,
# mbsync (isync); ports 24143, 24993, 24144 (tests/integration/lib.sh). It
# holds the POP3 Dovecot test's lock: different ports and private base_dirs,
# but both start Dovecot master processes, so they run one after the other.
add_test(NAME integration_imap_dovecot
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/imap_dovecot.sh $<TARGET_FILE:mailconform>)
set_tests_properties(integration_imap_dovecot PROPERTIES
  LABELS integration
  TIMEOUT 120
  SKIP_RETURN_CODE 77
  RESOURCE_LOCK mailconform_dovecot_ports)

# integration_capture_real: the same real sessions recorded twice, by the
# relay as transcripts and by tcpdump on lo (once on the servers' ports, once
# on the relay's): Dovecot POP3 + IMAP and Postfix, real clients (curl,
# poplib, imaplib, smtplib, swaks when installed, and a raw-socket client
# with bare LFs). `mailconform check` on each capture must show every session
# as a validated flow of the right protocol, with the transcript's octets and
# the same findings (rule, severity, direction, offset). Exit 77 (skipped)
# when Dovecot, Postfix or tcpdump is not installed. Needs root, curl,
# python3, openssl; ports 26025-26995 (MC_CAP_* in the script). It starts a
# Dovecot and a Postfix master, so it holds both servers' locks.
add_test(NAME integration_capture_real
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/capture_real.sh $<TARGET_FILE:mailconform>)
set_tests_properties(integration_capture_real PROPERTIES
  LABELS integration
  TIMEOUT 180
  SKIP_RETURN_CODE 77
  RESOURCE_LOCK "mailconform_dovecot_ports;mailconform_smtp_mta")

# integration_starttls_crafted (issue 6): crafted POP3, IMAP and SMTP peers
# (tests/integration/starttls_peers.py) that break the STARTTLS rules on
# purpose (a command pipelined behind STARTTLS, a server that answers it, a
# response injected after the go-ahead, credentials after a refused
# STARTTLS or a cleartext PREAUTH, a password in the clear where STARTTLS
# was offered, a close instead of the handshake), one conformant session
# per protocol; each recorded by `mailconform relay --record` and captured
# by tcpdump on lo: both must report the scenario's rules (the same rule
# ids). Exit 77 (skipped) without tcpdump or root. Needs python3 and
# openssl; ports 27025, 27100, 27110, 27143 (MC_ST_* in the script).
add_test(NAME integration_starttls_crafted
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/starttls_crafted.sh $<TARGET_FILE:mailconform>)
set_tests_properties(integration_starttls_crafted PROPERTIES
  LABELS integration
  TIMEOUT 120
  SKIP_RETURN_CODE 77
  RESOURCE_LOCK mailconform_starttls_crafted_ports)

# integration_relay_tls (issue 6): `mailconform relay --tls-cert --tls-key`
# terminates TLS on both legs (docs/relay.md). curl, poplib and imaplib,
# trusting only a test CA made with the openssl CLI, go through it to a real
# Dovecot (POP3 995/110 STLS, IMAP 993/143 STARTTLS, the server leg verified
# with --tls-ca): the recordings hold "! tls decrypted" and the commands
# inside TLS, check finds no error and agrees with the relay's live
# findings; a client pipelining behind STLS is reported and its command
# held back; verification by default, the handshake timeout, (with
# tcpdump) the relay's --keylog decrypting a capture of the client leg, and
# smtplib with STARTTLS to a scripted SMTP server.
# Exit 77 (skipped) without Dovecot. Needs root, curl, python3, openssl;
# ports 21110, 21111, 21995, 24143, 24993 (tests/integration/lib.sh).
add_test(NAME integration_relay_tls
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/relay_tls.sh $<TARGET_FILE:mailconform>)
set_tests_properties(integration_relay_tls PROPERTIES
  LABELS integration
  TIMEOUT 120
  SKIP_RETURN_CODE 77
  RESOURCE_LOCK mailconform_dovecot_ports)

# the compatibility matrix: mailconform probe against the real-server fleet

# integration_tls_capture (issue 6): Python's imaplib, poplib and smtplib
# talk to a real Dovecot (IMAP, POP3: implicit TLS and STARTTLS/STLS) and a
# real Postfix (smtps, smtp and submission with STARTTLS), TLS 1.2 and TLS
# 1.3 each forced by the client, their secrets in one key log
# (keylog_filename), and the same conversations in the clear; tcpdump on lo.
# `mailconform check --keylog` must decrypt and validate every TLS flow
# with no error finding and the plaintext run's rules; without the key log
# implicit TLS is "encrypted, not validated" naming the client random. Exit
# 77 (skipped) without Dovecot, Postfix or tcpdump. Needs root, python3,
# openssl; ports 28025-28995 and 127.0.0.2 (MC_TC_* in the script). It
# starts a Dovecot and a Postfix master, so it holds both servers' locks.
add_test(NAME integration_tls_capture
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/tls_capture.sh $<TARGET_FILE:mailconform>)
set_tests_properties(integration_tls_capture PROPERTIES
  LABELS integration
  TIMEOUT 180
  SKIP_RETURN_CODE 77
  RESOURCE_LOCK "mailconform_dovecot_ports;mailconform_smtp_mta")
include(${CMAKE_CURRENT_LIST_DIR}/probe.cmake)
