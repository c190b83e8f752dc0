# Capture input, first stage: pcap/pcapng reader and frame decoder
# (validator/capture/pcap_reader.c, packet.c), and the capture builder the
# golden capture tests use (tests/capture/mkpcap.py).
mc_add_cmocka_test(test_pcap_reader ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_pcap_reader.c
                   Threads::Threads)
mc_add_cmocka_test(test_packet ${CMAKE_CURRENT_SOURCE_DIR}/validator/test_packet.c)

# mkpcap.py checked against an independent reader: libpcap through ctypes
# when it is installed, tcpdump -r when it is on PATH, a plain Python
# parser always; and our own reader and decoder through pcap_dump (every
# capture mkpcap writes must read back the same through validator/capture).
add_executable(pcap_dump ${CMAKE_CURRENT_SOURCE_DIR}/capture/pcap_dump.c)
target_link_libraries(pcap_dump PRIVATE mc_validator)
target_compile_options(pcap_dump PRIVATE ${MC_WARN})
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME test_mkpcap
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/capture/test_mkpcap.py)
  set_tests_properties(test_mkpcap PROPERTIES LABELS unit
                       ENVIRONMENT "MC_PCAP_DUMP=$<TARGET_FILE:pcap_dump>")
endif()
