#!/usr/bin/env bash
#===- examples/cortex-m/run_example.sh - Build and run the firmware -------===#
#
# Usage: run_example.sh [--cpu cortex-m4|cortex-m7|cortex-m55] PREFIX WORK_DIR
#                       NAME=MODEL_DIR[:MAX_CODE_BYTES]...
#
# For each NAME, MODEL_DIR holds model.onnx and test_data_set_0 (ONNX test
# data with one float input and one float output). Against the Kiln package
# installed in PREFIX, with its toolchain file for the CPU (default
# cortex-m4; boards: MPS2 AN386, MPS2 AN500, MPS3 AN547), this configures
# and builds examples/cortex-m in WORK_DIR (a second build must be a no-op),
# then checks each model:
#   - its archive is freestanding: every symbol it leaves undefined is
#     defined by the archive itself (the Kiln runtime); `nm -u` proves it;
#   - its header states code, weight and arena bytes; the arena equals its
#     lower bound; the code is at most MAX_CODE_BYTES when given;
#   - NAME.elf runs under qemu-system-arm -M BOARD -semihosting and
#     prints outputs that match output_0.pb (rtol 1e-3, atol 1e-4).
# Exits non-zero on any failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

CPU=cortex-m4
if [[ ${1:-} == --cpu ]]; then
  CPU=${2:-}
  shift 2
fi
case $CPU in
  cortex-m4) BOARD=mps2-an386 ;;
  cortex-m7) BOARD=mps2-an500 ;;
  cortex-m55) BOARD=mps3-an547 ;;
  *) echo "unknown --cpu '$CPU'" >&2; exit 2 ;;
esac
if [[ $# -lt 3 ]]; then
  echo "usage: $0 [--cpu CPU] PREFIX WORK_DIR NAME=MODEL_DIR[:MAX_CODE_BYTES]..." >&2
  exit 2
fi

abspath() { (cd "$1" && pwd); }
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

PREFIX=$(abspath "$1")
mkdir -p "$2"
WORK_DIR=$(abspath "$2")
shift 2
HERE=$(abspath "$(dirname "${BASH_SOURCE[0]}")")
PY=/usr/bin/python3

[[ -f $PREFIX/lib/cmake/Kiln/KilnConfig.cmake ]] || die "no Kiln package in $PREFIX"

NAMES=()
CONFIG=()
declare -A DIRS LIMITS
for spec in "$@"; do
  name=${spec%%=*}
  rest=${spec#*=}
  dir=${rest%%:*}
  [[ $rest == *:* ]] && LIMITS[$name]=${rest#*:}
  [[ -f $dir/model.onnx && -f $dir/test_data_set_0/input_0.pb ]] ||
    die "$dir has no model.onnx and test_data_set_0/input_0.pb"
  DIRS[$name]=$(abspath "$dir")
  NAMES+=("$name")
  # The input's raw bytes, which the firmware embeds in flash.
  $PY - "$dir/test_data_set_0/input_0.pb" "$WORK_DIR/${name}_input.bin" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
t = onnx.TensorProto()
t.ParseFromString(open(sys.argv[1], "rb").read())
np.ascontiguousarray(numpy_helper.to_array(t), np.float32).tofile(sys.argv[2])
PYEOF
  CONFIG+=(-D"${name}_MODEL=${DIRS[$name]}/model.onnx"
           -D"${name}_INPUT=$WORK_DIR/${name}_input.bin")
done
MODELS=$(IFS=';'; echo "${NAMES[*]}")

echo "== configure"
run cmake -G Ninja -S "$HERE" -B "$WORK_DIR/build" \
  -DCMAKE_TOOLCHAIN_FILE="$PREFIX/share/kiln/toolchains/$CPU.cmake" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DFIRMWARE_MODELS="$MODELS" "${CONFIG[@]}"

echo "== build"
run cmake --build "$WORK_DIR/build"

echo "== rebuild (must have nothing to do)"
REBUILD=$(cmake --build "$WORK_DIR/build" 2>&1) || die "rebuild failed: $REBUILD"
grep -q 'no work to do' <<<"$REBUILD" || die "a second build was not a no-op: $REBUILD"

for name in "${NAMES[@]}"; do
  echo "== $name"
  lib=$WORK_DIR/build/kiln/$name/$name.a
  header=$WORK_DIR/build/kiln/$name/$name.h

  # Freestanding: nothing undefined but what the archive defines.
  undefined=$(arm-none-eabi-nm -u "$lib" | awk 'NF == 2 {print $2}' | sort -u)
  defined=$(arm-none-eabi-nm --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u)
  missing=$(comm -23 <(echo "$undefined") <(echo "$defined") | sed '/^$/d')
  [[ -z $missing ]] || die "$name.a needs symbols from outside: $missing"
  echo "nm -u: every undefined symbol is the runtime's own: $(echo $undefined)"
  arm-none-eabi-readelf -A "$lib" | grep -q 'Tag_ABI_VFP_args: VFP registers' ||
    die "$name.a is not built for the hard-float ABI"

  # The header's memory figures.
  value() { sed -n "s/^#define ${name}_$1 \([0-9]*\).*/\1/p" "$header"; }
  code=$(value CODE_SIZE) weights=$(value WEIGHTS_SIZE)
  arena=$(value WORKSPACE_SIZE) bound=$(value WORKSPACE_LOWER_BOUND)
  [[ -n $code && -n $weights && -n $arena && -n $bound ]] ||
    die "$header does not state code, weight and arena bytes"
  echo "header: code $code B, weights $weights B, arena $arena B (lower bound $bound B)"
  (( code > 0 && weights > 0 )) || die "$name: zero code or weight bytes"
  (( arena == bound )) || die "$name: arena $arena B above its lower bound $bound B"
  if [[ -n ${LIMITS[$name]:-} ]]; then
    (( code <= LIMITS[$name] )) || die "$name: $code B of code, more than ${LIMITS[$name]}"
  fi

  # Run it on the board and compare what it prints with the reference.
  log=$WORK_DIR/$name.log
  timeout 300 qemu-system-arm -M $BOARD -nographic -semihosting \
    -kernel "$WORK_DIR/build/$name.elf" >"$log" 2>&1 ||
    die "$name.elf failed under qemu-system-arm: $(tail -3 "$log")"
  cat "$log"
  $PY - "$log" "${DIRS[$name]}/test_data_set_0/output_0.pb" <<'PYEOF' || die "$name: wrong outputs"
import re, sys
import numpy as np
import onnx
from onnx import numpy_helper
lines = open(sys.argv[1]).read().splitlines()
if "done" not in lines:
    sys.exit("the firmware did not finish")
got = {int(m.group(1)): float(m.group(2)) for m in
       (re.match(r"output\[(\d+)\] = (\S+)$", l) for l in lines) if m}
t = onnx.TensorProto()
t.ParseFromString(open(sys.argv[2], "rb").read())
ref = numpy_helper.to_array(t).astype(np.float64).ravel()
if sorted(got) != list(range(ref.size)):
    sys.exit("printed %d outputs, expected %d" % (len(got), ref.size))
out = np.array([got[i] for i in range(ref.size)])
err = np.abs(out - ref)
bad = err > 1e-4 + 1e-3 * np.abs(ref)
if bad.any():
    i = int(np.argmax(bad))
    sys.exit("output[%d] = %g, expected %g" % (i, out[i], ref[i]))
print("outputs match the reference: max abs error %.3g" % err.max())
PYEOF
done
echo "PASS: $CPU firmware for ${NAMES[*]} under qemu-system-arm -M $BOARD"
