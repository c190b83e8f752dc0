# The probe's tests (validator/probe/, docs/probe.md). Included from
# tests/CMakeLists.txt; needs the mc_probe library (validator/probe/probe.cmake).
#
# test_probe: cmocka, no network: modes table, option values, targets,
# verdicts, line limits and timeouts over a socketpair, the matrix writers.
mc_add_cmocka_test(test_probe ${CMAKE_CURRENT_LIST_DIR}/test_probe.c mc_probe)

# probe_fake_servers: `mailconform probe` against fake POP3/IMAP/SMTP servers
# on 127.0.0.1 (free ports chosen by the kernel): all eleven modes, STARTTLS
# injection answered, silent, endless-line, garbage and refusing servers,
# wrong and untrusted certificates, login only over TLS, every format.
# Needs python3 and the openssl CLI only.
add_test(NAME probe_fake_servers
         COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/probe_fake.py $<TARGET_FILE:mailconform>)
set_tests_properties(probe_fake_servers PROPERTIES LABELS "probe;integration" TIMEOUT 240)

# probe_pcap: `mailconform probe --pcap` against the same fake servers; the
# capture must check to the transcripts' findings (decrypted with its own
# DSBs), over IPv4 and IPv6, and tshark must read and decrypt it.
add_test(NAME probe_pcap
         COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/probe_pcap.py $<TARGET_FILE:mailconform>)
set_tests_properties(probe_pcap PROPERTIES LABELS "probe;integration" TIMEOUT 240)
