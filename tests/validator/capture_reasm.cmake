# TCP reassembly (validator/capture/tcp_reasm.c)
mc_add_cmocka_test(test_tcp_reasm ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_tcp_reasm.c)
