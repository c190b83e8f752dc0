# IMAP parser tests (issue 3), one binary per parser once it exists.
foreach(t test_imap_resp test_imap_cmd)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
    mc_add_cmocka_test(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  endif()
endforeach()

# The canonical printer of fuzz_imap_resp's round-trip oracle: a test
# oracle that lives in fuzz/, compiled into its test.
mc_add_cmocka_test(test_imap_canon ${CMAKE_CURRENT_LIST_DIR}/test_imap_canon.c)
target_sources(test_imap_canon PRIVATE ${CMAKE_SOURCE_DIR}/fuzz/imap_canon.c)
target_include_directories(test_imap_canon PRIVATE ${CMAKE_SOURCE_DIR}/fuzz)
