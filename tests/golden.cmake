# Golden tests (label "golden"), included by tests/CMakeLists.txt.
#
#   golden_pop3, golden_smtp, golden_imap
#                  every tests/data/<proto>/*.mct gives exactly the findings in its
#                  .expected, with the right exit status (tests/golden/run_golden.py;
#                  regenerate with --update, then review every changed line)
#   rule_coverage  every rule in the catalogue is triggered by some .expected,
#                  and every ok-*.mct and every real recording under
#                  corpus/samples/ yields no finding (tests/golden/rule_coverage.py)
#
# Both scripts need only python3 and its standard library.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  set(MC_PYTHON3 ${Python3_EXECUTABLE})
else()
  set(MC_PYTHON3 python3)
endif()

add_test(NAME golden_pop3
  COMMAND ${MC_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/golden/run_golden.py
          $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR}/tests/data/pop3)
add_test(NAME golden_smtp
  COMMAND ${MC_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/golden/run_golden.py
          $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR}/tests/data/smtp)
add_test(NAME golden_imap
  COMMAND ${MC_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/golden/run_golden.py
          $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR}/tests/data/imap)
add_test(NAME rule_coverage
  COMMAND ${MC_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/golden/rule_coverage.py
          $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR}/tests/data
          ${CMAKE_SOURCE_DIR}/corpus/samples)
set_tests_properties(golden_pop3 golden_smtp golden_imap rule_coverage PROPERTIES LABELS golden)
