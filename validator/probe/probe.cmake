# validator/probe/: the live probe (`mailconform probe`, docs/probe.md) and
# its matrix report (validator/report/report_matrix.c, which needs nothing
# from the probe but lives with the report writers). Included from the
# top-level CMakeLists.txt after mc_validator; paths relative to
# CMAKE_SOURCE_DIR. OpenSSL's libssl for the connections, libcrypto for
# certificates, threads for cells probed at once.
pkg_check_modules(PROBE_SSL REQUIRED IMPORTED_TARGET libssl>=3.0 libcrypto>=3.0)

add_library(mc_probe STATIC
  validator/probe/probe.c
  validator/probe/probe_conn.c
  validator/probe/probe_pop3.c
  validator/probe/probe_imap.c
  validator/probe/probe_smtp.c
  validator/probe/probe_wire.c
  validator/report/report_matrix.c)
target_include_directories(mc_probe PUBLIC ${CMAKE_SOURCE_DIR}/validator/probe)
target_link_libraries(mc_probe PUBLIC mc_validator PkgConfig::PROBE_SSL Threads::Threads)
target_compile_options(mc_probe PRIVATE ${MC_WARN})
