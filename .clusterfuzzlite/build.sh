#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script (run by the base-builder image, or
# by hand: see fuzz/README.md "ClusterFuzzLite and OSS-Fuzz").
#
# Uses $CC, $CXX, $CFLAGS and $CXXFLAGS unchanged (they carry the sanitizer
# and coverage flags), links every harness with $LIB_FUZZING_ENGINE through
# $CXX (CMake option MC_FUZZ=oss-fuzz), builds in $WORK and puts into $OUT,
# for every target registered in any fuzz/*.cmake:
#   fuzz_<stem>                    the fuzzer
#   fuzz_<stem>.options            its libFuzzer options (max_len, dict)
#   fuzz_<stem>.dict               its dictionary, when it has one
#   fuzz_<stem>_seed_corpus.zip    corpus/<stem>/ flattened: seeds, found/, regress/
SRC_DIR=${MC_SRC_DIR:-$SRC/mailconform}
BUILD=$WORK/mailconform-build

# The TLS targets need OpenSSL 3's libcrypto, linked statically: the runner
# image has no libcrypto.so.3. The Dockerfile fetches OpenSSL 3 into
# $SRC/openssl (the base image's Ubuntu has only 1.1); it is built here with
# the same compiler and flags, as OSS-Fuzz wants for dependencies. Without
# $SRC/openssl (a local check on Debian 12) the system's libcrypto.a is used.
OPENSSL_ARGS=(-DOPENSSL_USE_STATIC_LIBS=TRUE)
if [ -d "$SRC/openssl" ]; then
  if [ ! -f "$WORK/openssl/lib64/libcrypto.a" ] && [ ! -f "$WORK/openssl/lib/libcrypto.a" ]; then
    (cd "$SRC/openssl" &&
       ./Configure --prefix="$WORK/openssl" --libdir=lib no-shared no-tests no-asm \
         $CFLAGS &&
       make -j"$(nproc)" build_libs && make install_dev)
  fi
  OPENSSL_ARGS+=(-DOPENSSL_ROOT_DIR="$WORK/openssl")
fi

cmake -S "$SRC_DIR" -B "$BUILD" \
  -DMC_FUZZ=oss-fuzz -DMC_FUZZ_LINK="$LIB_FUZZING_ENGINE" \
  -DMC_TESTS=OFF -DMC_INTEGRATION=OFF -DCMAKE_BUILD_TYPE= "${OPENSSL_ARGS[@]}"
mapfile -t STEMS < <(sed -n 's/^[[:space:]]*mc_fuzz_target([[:space:]]*fuzz_\([A-Za-z0-9_]*\).*/\1/p' \
                       "$SRC_DIR"/fuzz/*.cmake | sort -u)
if [ "${#STEMS[@]}" -eq 0 ]; then
  echo "build.sh: no targets in fuzz/*.cmake" >&2
  exit 1
fi
cmake --build "$BUILD" -j "$(nproc)" $(printf -- '--target fuzz_%s ' "${STEMS[@]}")

for stem in "${STEMS[@]}"; do
  t=fuzz_$stem
  cp "$BUILD/$t" "$OUT/$t"
  opts=$SRC_DIR/fuzz/$t.options
  if [ -f "$opts" ]; then
    cp "$opts" "$OUT/$t.options"
    dict=$(sed -n 's/^[[:space:]]*dict[[:space:]]*=[[:space:]]*//p' "$opts" | tail -n 1)
    if [ -n "$dict" ]; then
      # <target>.dict is picked up by itself; the options line names it too
      cp "$SRC_DIR/fuzz/$dict" "$OUT/$t.dict"
      sed -i "s|^[[:space:]]*dict[[:space:]]*=.*|dict = $t.dict|" "$OUT/$t.options"
    fi
  fi
  rm -f "$OUT/${t}_seed_corpus.zip"
  if [ -d "$SRC_DIR/corpus/$stem" ]; then
    # -j flattens found/ and regress/ (names are unique: hashes and kinds)
    (cd "$SRC_DIR/corpus/$stem" && find . -type f ! -name '.*' -print0 |
       xargs -0 zip -qj "$OUT/${t}_seed_corpus.zip")
  fi
done
