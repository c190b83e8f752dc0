# Validator unit tests (cmocka); mc_add_cmocka_test is in tests/CMakeLists.txt.
# Tests named test_bug_* inside them assert fixes for known defects and are
# skipped unless MC_KNOWN_BUGS=1 is set in the environment.
mc_add_cmocka_test(test_transcript ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_transcript.c)
mc_add_cmocka_test(test_pop3_session ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_pop3_session.c)
mc_add_cmocka_test(test_rules ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_rules.c)
mc_add_cmocka_test(test_report ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_report.c)
mc_add_cmocka_test(test_smtp_session ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_smtp_session.c)
mc_add_cmocka_test(test_imap_session ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_imap_session.c)
mc_add_cmocka_test(test_imap_scan ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_imap_scan.c)
# capture input (validator/capture/): each piece registers its own tests
include(${CMAKE_CURRENT_SOURCE_DIR}/validator/capture_reader.cmake OPTIONAL)
include(${CMAKE_CURRENT_SOURCE_DIR}/validator/capture_reasm.cmake OPTIONAL)
include(${CMAKE_CURRENT_SOURCE_DIR}/validator/capture_glue.cmake OPTIONAL)
include(${CMAKE_CURRENT_SOURCE_DIR}/validator/tls.cmake OPTIONAL)
