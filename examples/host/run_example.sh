#!/usr/bin/env bash
#===- examples/host/run_example.sh - Build and run the host example ------===#
#
# Usage: run_example.sh PREFIX MODEL.onnx WORK_DIR [aarch64]
#
# Configures examples/host with CMake and Ninja in WORK_DIR against the Kiln
# package installed in PREFIX (cmake --install), builds `app`, checks that a
# second build has nothing to do (kiln_add_model declares its real outputs),
# and runs `app`. With `aarch64` it cross-compiles with PREFIX's toolchain
# file instead, checks that app is an AArch64 program and runs it under
# qemu-aarch64-static. Exits non-zero on any failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

if [[ $# -lt 3 || $# -gt 4 ]]; then
  echo "usage: $0 PREFIX MODEL.onnx WORK_DIR [aarch64]" >&2
  exit 2
fi

abspath() { (cd "$1" && pwd); }

PREFIX=$(abspath "$1")
MODEL=$(abspath "$(dirname "$2")")/$(basename "$2")
mkdir -p "$3"
WORK_DIR=$(abspath "$3")
CROSS=${4:-}
HERE=$(abspath "$(dirname "${BASH_SOURCE[0]}")")

run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  "$@"
}
die() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ -f $PREFIX/lib/cmake/Kiln/KilnConfig.cmake ]] || die "no Kiln package in $PREFIX"
[[ -f $MODEL ]] || die "no $MODEL"

CONFIG=(-DCMAKE_PREFIX_PATH="$PREFIX" -DMODEL="$MODEL")
RUNNER=()
if [[ $CROSS == aarch64 ]]; then
  CONFIG+=(-DCMAKE_TOOLCHAIN_FILE="$PREFIX/share/kiln/toolchains/aarch64-linux-gnu.cmake")
  RUNNER=(qemu-aarch64-static -L /usr/aarch64-linux-gnu)
elif [[ -n $CROSS ]]; then
  die "unknown cross target '$CROSS' (only aarch64)"
fi

echo "== configure"
run cmake -G Ninja -S "$HERE" -B "$WORK_DIR" "${CONFIG[@]}"

echo "== build"
run cmake --build "$WORK_DIR"

echo "== rebuild (must have nothing to do)"
REBUILD=$(cmake --build "$WORK_DIR" 2>&1) || die "rebuild failed: $REBUILD"
echo "$REBUILD"
grep -q 'no work to do' <<<"$REBUILD" || die "a second build was not a no-op"

if [[ $CROSS == aarch64 ]]; then
  aarch64-linux-gnu-readelf -h "$WORK_DIR/app" | grep -q AArch64 || die "app is not an AArch64 program"
fi

echo "== run"
OUTPUT=$("${RUNNER[@]}" "$WORK_DIR/app") || die "app failed: $OUTPUT"
echo "$OUTPUT"
grep -q '^top-[0-9]* classes:' <<<"$OUTPUT" || die "app printed no top classes"
echo "PASS: host example${CROSS:+ for $CROSS} with $MODEL"
