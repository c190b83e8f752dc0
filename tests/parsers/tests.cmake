# Parser unit tests (cmocka), one binary per parser module; see STYLE.md
# "Tests and fuzz targets mirror the modules". Each runs every table case in
# three feeding modes on guard-page input (tests/test_harness.h).
mc_add_cmocka_test(test_common    ${CMAKE_CURRENT_LIST_DIR}/test_common.c)
mc_add_cmocka_test(test_line      ${CMAKE_CURRENT_LIST_DIR}/test_line.c)
mc_add_cmocka_test(test_pop3_resp ${CMAKE_CURRENT_LIST_DIR}/test_pop3_resp.c)
mc_add_cmocka_test(test_pop3_cmd  ${CMAKE_CURRENT_LIST_DIR}/test_pop3_cmd.c)
mc_add_cmocka_test(test_smtp_reply  ${CMAKE_CURRENT_LIST_DIR}/test_smtp_reply.c)
mc_add_cmocka_test(test_smtp_cmd    ${CMAKE_CURRENT_LIST_DIR}/test_smtp_cmd.c)
mc_add_cmocka_test(test_smtp_syntax ${CMAKE_CURRENT_LIST_DIR}/test_smtp_syntax.c)
include(${CMAKE_CURRENT_LIST_DIR}/imap.cmake)
