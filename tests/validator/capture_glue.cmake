# Capture input end to end (validator/capture/capture.c and the CLI):
#   capture_cases           captures built by tests/capture/mkpcap.py for link
#                           types, VLANs, IPv6, pcapng interfaces, reordering,
#                           loss, snaplen, cut files, mid-stream, port roles,
#                           implicit TLS, non-mail traffic, port reuse, stdin
#   capture_vs_transcript   every single-session transcript under tests/data
#                           and corpus/samples, built into a capture (also
#                           reordered and retransmitted), gives exactly the
#                           findings of the transcript
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME capture_cases
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/capture/capture_cases.py
                   $<TARGET_FILE:mailconform>)
  add_test(NAME capture_vs_transcript
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/capture/capture_vs_transcript.py
                   $<TARGET_FILE:mailconform> ${CMAKE_SOURCE_DIR}/tests/data
                   ${CMAKE_SOURCE_DIR}/corpus/samples)
  set_tests_properties(capture_cases capture_vs_transcript PROPERTIES LABELS golden TIMEOUT 600)
endif()
