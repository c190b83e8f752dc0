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

# explain_examples  every rule has an explanation whose bad example makes it
#                   fire and whose good example is silent
#                   (tests/golden/explain_examples.py)
add_test(NAME explain_examples
  COMMAND ${MC_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/golden/explain_examples.py
          $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR}/validator/rules/explain)
set_tests_properties(explain_examples PROPERTIES LABELS golden)

# report_schemas  SARIF and JUnit output of check and relay validate against
#                 tests/report/*.schema.json / junit.xsd and agree with jsonl
#                 (tests/report/validate_reports.py). It needs Debian's own
#                 python3 (python3-jsonschema, python3-rfc3987) and xmllint,
#                 which scripts/install-deps.sh installs; another python3 on
#                 PATH (pyenv) would not see those packages.
find_program(MC_DEBIAN_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT MC_DEBIAN_PYTHON3)
  set(MC_DEBIAN_PYTHON3 ${MC_PYTHON3})
endif()
add_test(NAME report_schemas
  COMMAND ${MC_DEBIAN_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/report/validate_reports.py
          $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR})
set_tests_properties(report_schemas PROPERTIES LABELS golden TIMEOUT 300)

# docs_man  docs/mailconform.1 is clean roff and documents every command and
#           option of every --help (tests/report/check_docs.sh)
add_test(NAME docs_man
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report/check_docs.sh
          $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR})
set_tests_properties(docs_man PROPERTIES LABELS golden)
