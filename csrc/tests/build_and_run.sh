#!/bin/sh
# Builds csrc/tests/test_core.cc with the core (csrc/fxsim/**/*.cc, not the bindings) under
# AddressSanitizer + UndefinedBehaviorSanitizer, without pybind11, and runs it.
# Usage: csrc/tests/build_and_run.sh   (from anywhere; BUILD_DIR and CXX may be overridden)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-${TMPDIR:-/tmp}/fxsim-csrc-tests}
CXX=${CXX:-g++}
FLAGS="-std=c++17 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -ffp-contract=off -fno-math-errno -Wall -Wextra -I$ROOT/csrc"
mkdir -p "$BUILD_DIR"
cd "$ROOT"
# The core's sources compiled JOBS at a time (default: the CPUs online; the sanitizer build of
# the vector kernels is most of CI's time), each by compile_one.sh; xargs fails if any fails.
JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
SOURCES=$(find csrc/fxsim -name '*.cc' | LC_ALL=C sort)
export CXX FLAGS BUILD_DIR
echo "$SOURCES" | xargs -P "$JOBS" -n 1 sh csrc/tests/compile_one.sh
OBJS=""
for src in $SOURCES; do
  OBJS="$OBJS $BUILD_DIR/$(echo "$src" | tr '/' '_').o"
done
echo "compile csrc/tests/test_core.cc"
# shellcheck disable=SC2086
$CXX $FLAGS csrc/tests/test_core.cc $OBJS -o "$BUILD_DIR/test_core"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} "$BUILD_DIR/test_core"
