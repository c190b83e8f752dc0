# validator/tls/: TLS record tracking, NSS key logs, decryption with
# OpenSSL's EVP (libcrypto only). Included from the top-level CMakeLists.txt
# after mc_validator; paths are relative to CMAKE_SOURCE_DIR. mc_tls depends
# on nothing else of the project (no sessions, no rules): it reports its own
# event codes (validator/tls/tls.h) for the caller to map to rules.
# find_package rather than pkg-config: OPENSSL_USE_STATIC_LIBS then gives
# libcrypto.a for OSS-Fuzz style static fuzz binaries (TOOLCHAIN.md).
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)

add_library(mc_tls STATIC
  validator/tls/tls_conn.c
  validator/tls/tls_hello.c
  validator/tls/tls_crypto.c
  validator/tls/tls_keylog.c)
target_include_directories(mc_tls PUBLIC ${CMAKE_SOURCE_DIR}/validator/tls)
target_link_libraries(mc_tls PUBLIC OpenSSL::Crypto)
# allocation-free parsing of hostile input: conversions are checked as in parsers/
target_compile_options(mc_tls PRIVATE ${MC_WARN} -Wconversion -Wsign-conversion)
