# TLS record tracking, key logs and decryption (validator/tls/, library mc_tls).
# Fixtures: tests/data/tls/ (made by tests/tls/gen_tls_streams.py).
set(_mc_tls_test_dir ${CMAKE_CURRENT_SOURCE_DIR})
foreach(_t test_tls_decrypt test_tls_records test_tls_keylog)
  if(EXISTS ${_mc_tls_test_dir}/validator/${_t}.c)
    mc_add_cmocka_test(${_t} ${_mc_tls_test_dir}/validator/${_t}.c mc_tls)
    target_include_directories(${_t} PRIVATE ${_mc_tls_test_dir}/tls)
    target_compile_definitions(${_t} PRIVATE MC_TLS_DATA_DIR="${_mc_tls_test_dir}/data/tls")
  endif()
endforeach()

# Live: records fresh conversations with the real openssl s_server and
# Python's ssl client on 127.0.0.1, then decrypts them with the same checks.
find_program(MC_OPENSSL_BIN openssl)
find_package(Python3 COMPONENTS Interpreter)
if(MC_OPENSSL_BIN AND Python3_Interpreter_FOUND)
  add_test(NAME tls_live
           COMMAND sh ${_mc_tls_test_dir}/tls/live_tls.sh ${Python3_EXECUTABLE}
                   ${_mc_tls_test_dir}/tls/gen_tls_streams.py $<TARGET_FILE:test_tls_decrypt>)
  set_tests_properties(tls_live PROPERTIES LABELS integration TIMEOUT 300)
endif()
