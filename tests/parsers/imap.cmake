# IMAP parser tests (issue 3), one binary per parser once it exists.
foreach(t test_imap_resp test_imap_cmd)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
    mc_add_cmocka_test(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  endif()
endforeach()
