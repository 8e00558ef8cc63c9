#!/bin/sh
# Compiles one core source for build_and_run.sh (which runs several at once): $1 the source,
# relative to the repository root (the working directory); CXX, FLAGS and BUILD_DIR from the
# caller's environment. The flags of the file's ISA suffix come from csrc/isa_flags.txt.
set -eu
src=$1
ISA=""
case "$(uname -m)" in
  x86_64|amd64)
    while read -r suffix flags; do
      case "$suffix" in "#"*|"") continue ;; esac
      case "$src" in *"$suffix") ISA="$flags" ;; esac
    done < csrc/isa_flags.txt ;;
esac
obj="$BUILD_DIR/$(echo "$src" | tr '/' '_').o"
echo "compile $src $ISA"
# shellcheck disable=SC2086
$CXX $FLAGS $ISA -c "$src" -o "$obj"
