#!/usr/bin/env bash
#===- examples/host/run_example.sh - Build and run the host example ------===#
#
# Usage: run_example.sh BUILD_DIR MODEL.onnx WORK_DIR
#
# Configures examples/host with CMake and Ninja in WORK_DIR against
# BUILD_DIR/bin/kilnc and the source tree's runtime/include (or
# KILN_RUNTIME_INCLUDE), builds `app`, checks that a second build has nothing
# to do (the kilnc step is declared with its real outputs), and runs `app`.
# Exits non-zero on any failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 BUILD_DIR MODEL.onnx WORK_DIR" >&2
  exit 2
fi

abspath() { (cd "$1" && pwd); }

BUILD_DIR=$(abspath "$1")
MODEL=$(abspath "$(dirname "$2")")/$(basename "$2")
mkdir -p "$3"
WORK_DIR=$(abspath "$3")
HERE=$(abspath "$(dirname "${BASH_SOURCE[0]}")")
RUNTIME_INCLUDE=${KILN_RUNTIME_INCLUDE:-$(abspath "$HERE/../../runtime/include")}

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

[[ -x $BUILD_DIR/bin/kilnc ]] || die "no $BUILD_DIR/bin/kilnc"
[[ -f $MODEL ]] || die "no $MODEL"

echo "== configure"
run cmake -G Ninja -S "$HERE" -B "$WORK_DIR" \
  -DKILNC="$BUILD_DIR/bin/kilnc" \
  -DKILN_RUNTIME_INCLUDE="$RUNTIME_INCLUDE" \
  -DMODEL="$MODEL"

echo "== build"
run cmake --build "$WORK_DIR"

echo "== rebuild (must have nothing to do)"
REBUILD=$(cmake --build "$WORK_DIR" 2>&1) || die "rebuild failed: $REBUILD"
echo "$REBUILD"
grep -q 'no work to do' <<<"$REBUILD" || die "a second build was not a no-op"

echo "== run"
OUTPUT=$("$WORK_DIR/app") || die "app failed: $OUTPUT"
echo "$OUTPUT"
grep -q '^top-[0-9]* classes:' <<<"$OUTPUT" || die "app printed no top classes"
echo "PASS: host example with $MODEL"
