# Allocation failure torture (tests/torture/torture.py): every allocation of
# `mailconform check` on a set of captures and transcripts failed in turn.
# Only where the executable can fail them on demand: MC_FAULT_INJECTION
# (validator/cli/fault_inject.c), on in the dev preset.
if(MC_FAULT_INJECTION)
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    add_test(NAME torture
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/torture/torture.py
                     $<TARGET_FILE:mailconform>)
    set_tests_properties(torture PROPERTIES LABELS golden TIMEOUT 900)
  endif()
endif()
