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
OBJS=""
for src in $(find csrc/fxsim -name '*.cc' | LC_ALL=C sort); do
  ISA=""
  case "$(uname -m)" in
    x86_64|amd64)
      # the flags of the file's ISA suffix, from csrc/isa_flags.txt (shared with setup.py)
      while read -r suffix flags; do
        case "$suffix" in "#"*|"") continue ;; esac
        case "$src" in *"$suffix") ISA="$flags" ;; esac
      done < csrc/isa_flags.txt ;;
  esac
  obj="$BUILD_DIR/$(echo "$src" | tr '/' '_').o"
  echo "compile $src $ISA"
  # shellcheck disable=SC2086
  $CXX $FLAGS $ISA -c "$src" -o "$obj"
  OBJS="$OBJS $obj"
done
echo "compile csrc/tests/test_core.cc"
# shellcheck disable=SC2086
$CXX $FLAGS csrc/tests/test_core.cc $OBJS -o "$BUILD_DIR/test_core"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} "$BUILD_DIR/test_core"
