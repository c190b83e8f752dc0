# Fuzz targets, included from the top-level CMakeLists.txt after MC_FUZZ,
# MC_FUZZ_LINK, mc_parsers and mc_validator are defined and enable_testing()
# has run.
#
# mc_fuzz_target(fuzz_<stem> SOURCE LIBS...) builds
#   replay_fuzz_<stem>  always, with any compiler: the harness plus
#                       fuzz/replay_main.c, which runs it over files and
#                       directories (the corpus regression test);
#   fuzz_<stem>         when MC_FUZZ is not "none": the harness linked with
#                       ${MC_FUZZ_LINK} (libFuzzer, AFL++'s driver, or
#                       $LIB_FUZZING_ENGINE for OSS-Fuzz, linked with $CXX);
# and, when tests are on, registers the ctest corpus_<stem> (label "corpus")
# that replays corpus/<stem>/ including corpus/<stem>/regress/.
# fuzz/fuzz_<stem>.options and the dictionary it names are copied next to
# the fuzz binary, the way OSS-Fuzz expects them in $OUT.

set(MC_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

# The engine flag may be several words ("-fsanitize=fuzzer -lstdc++").
separate_arguments(_mc_fuzz_link UNIX_COMMAND "${MC_FUZZ_LINK}")

# OSS-Fuzz links every harness with $CXX, even for C. enable_language() only
# works at file scope: inside the function the link rule comes out empty.
if(MC_FUZZ STREQUAL "oss-fuzz")
  enable_language(CXX)
endif()

function(mc_fuzz_target name src)
  string(REGEX REPLACE "^fuzz_" "" stem "${name}")

  add_executable(replay_${name} ${src} ${MC_FUZZ_DIR}/replay_main.c)
  target_include_directories(replay_${name} PRIVATE ${MC_FUZZ_DIR})
  target_link_libraries(replay_${name} PRIVATE ${ARGN})
  target_compile_options(replay_${name} PRIVATE ${MC_WARN})

  if(NOT MC_FUZZ STREQUAL "none")
    add_executable(${name} ${src})
    target_include_directories(${name} PRIVATE ${MC_FUZZ_DIR})
    target_link_libraries(${name} PRIVATE ${ARGN} ${_mc_fuzz_link})
    target_compile_options(${name} PRIVATE ${MC_WARN})
    if(MC_FUZZ STREQUAL "oss-fuzz")
      set_target_properties(${name} PROPERTIES LINKER_LANGUAGE CXX)
    endif()
    set(opts ${MC_FUZZ_DIR}/${name}.options)
    if(EXISTS ${opts})
      configure_file(${opts} ${CMAKE_CURRENT_BINARY_DIR}/${name}.options COPYONLY)
      file(STRINGS ${opts} dict_line REGEX "^[ \t]*dict[ \t]*=")
      if(dict_line)
        string(REGEX REPLACE "^[ \t]*dict[ \t]*=[ \t]*" "" dict "${dict_line}")
        string(STRIP "${dict}" dict)
        configure_file(${MC_FUZZ_DIR}/${dict} ${CMAKE_CURRENT_BINARY_DIR}/${dict} COPYONLY)
      endif()
    endif()
  endif()

  if(MC_TESTS)
    add_test(NAME corpus_${stem}
             COMMAND replay_${name} ${CMAKE_SOURCE_DIR}/corpus/${stem})
    set_tests_properties(corpus_${stem} PROPERTIES LABELS corpus)
  endif()
endfunction()

mc_fuzz_target(fuzz_pop3_resp    ${MC_FUZZ_DIR}/fuzz_pop3_resp.c    mc_validator mc_parsers)
mc_fuzz_target(fuzz_pop3_cmd     ${MC_FUZZ_DIR}/fuzz_pop3_cmd.c     mc_validator mc_parsers)
mc_fuzz_target(fuzz_transcript   ${MC_FUZZ_DIR}/fuzz_transcript.c   mc_validator)
mc_fuzz_target(fuzz_pop3_session ${MC_FUZZ_DIR}/fuzz_pop3_session.c mc_validator)
mc_fuzz_target(fuzz_smtp_reply   ${MC_FUZZ_DIR}/fuzz_smtp_reply.c   mc_validator mc_parsers)
mc_fuzz_target(fuzz_smtp_cmd     ${MC_FUZZ_DIR}/fuzz_smtp_cmd.c     mc_validator mc_parsers)
mc_fuzz_target(fuzz_smtp_session ${MC_FUZZ_DIR}/fuzz_smtp_session.c mc_validator)
mc_fuzz_target(fuzz_imap_resp    ${MC_FUZZ_DIR}/fuzz_imap_resp.c    mc_validator mc_parsers)
# its round-trip oracle's canonical printer (also compiled into test_imap_canon)
target_sources(replay_fuzz_imap_resp PRIVATE ${MC_FUZZ_DIR}/imap_canon.c)
if(TARGET fuzz_imap_resp)
  target_sources(fuzz_imap_resp PRIVATE ${MC_FUZZ_DIR}/imap_canon.c)
endif()
mc_fuzz_target(fuzz_imap_cmd     ${MC_FUZZ_DIR}/fuzz_imap_cmd.c     mc_validator mc_parsers)
mc_fuzz_target(fuzz_imap_session ${MC_FUZZ_DIR}/fuzz_imap_session.c mc_validator)
# capture input (validator/capture/): TCP reassembly driven by a segment
# script, and a whole capture file end to end
mc_fuzz_target(fuzz_tcp_reasm    ${MC_FUZZ_DIR}/fuzz_tcp_reasm.c    mc_validator)
mc_fuzz_target(fuzz_capture      ${MC_FUZZ_DIR}/fuzz_capture.c      mc_validator)
# differential: records straight into a session versus the same octets as a
# synthetic capture through TCP reassembly
mc_fuzz_target(fuzz_differential ${MC_FUZZ_DIR}/fuzz_differential.c mc_validator)
# TLS record tracking and key logs (validator/tls/): registered in their own file
include(${MC_FUZZ_DIR}/tls.cmake OPTIONAL)
