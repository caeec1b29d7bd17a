#!/usr/bin/env bash
#===- test/e2e/link/run_link_test.sh - Link a model from C and C++ --------===#
#
# Usage: run_link_test.sh BUILD_DIR MODELS_DIR MODEL_NAME WORK_DIR
#
# Proves the contract of the generated artifact (DESIGN.md, "The generated
# artifact") for MODELS_DIR/MODEL_NAME/model.onnx:
#   1. converts test_data_set_0/{input,output}_<i>.pb to raw little-endian .bin;
#   2. compiles the model with BUILD_DIR/bin/kilnc as --emit=lib (.a),
#      --emit=obj (.o) and --emit=so (.so), and checks that the three NAME.h
#      are identical and include nothing but <stddef.h> and <stdint.h>;
#   3. checks that `nm -u` of the .o lists only kiln_alloc, kiln_free, kiln_parallel_rows, memcpy
#      and memset, and that the .so exports kiln_model (and NAME_run,
#      NAME_info);
#   4. builds main.c (C99, -pedantic -Werror) against the .a alone, against
#      the .a with replaced kiln_alloc/kiln_free/kiln_error hooks, against the
#      .o plus BUILD_DIR/lib/libkiln_runtime.a, and against the .so; builds
#      main.cpp (C++17) against the .a; runs all five.
# Exits non-zero on the first failure. CC and CXX override cc and c++; the
# runtime header comes from KILN_RUNTIME_INCLUDE, by default the source tree's.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 BUILD_DIR MODELS_DIR MODEL_NAME WORK_DIR" >&2
  exit 2
fi

abspath() { (cd "$1" && pwd); }

BUILD_DIR=$(abspath "$1")
MODELS_DIR=$(abspath "$2")
MODEL_NAME=$3
mkdir -p "$4"
WORK_DIR=$(abspath "$4")
HERE=$(abspath "$(dirname "${BASH_SOURCE[0]}")")
RUNTIME_INCLUDE=${KILN_RUNTIME_INCLUDE:-$HERE/../../../runtime/include}
CC=${CC:-cc}
CXX=${CXX:-c++}
PYTHON=/usr/bin/python3

KILNC=$BUILD_DIR/bin/kilnc
RUNTIME_LIB=$BUILD_DIR/lib/libkiln_runtime.a
MODEL=$MODELS_DIR/$MODEL_NAME/model.onnx
DATA=$MODELS_DIR/$MODEL_NAME/test_data_set_0

# The symbol prefix: the model's directory name made a C identifier.
NAME=$(printf '%s' "$MODEL_NAME" | tr -c 'A-Za-z0-9_' '_')
[[ $NAME =~ ^[0-9] ]] && NAME=_$NAME

step() { printf '\n== %s\n' "$*"; }
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

for f in "$KILNC" "$RUNTIME_LIB" "$MODEL" "$HERE/main.c" "$HERE/main.cpp" \
  "$RUNTIME_INCLUDE/kiln/runtime.h"; do
  [[ -e $f ]] || die "missing $f"
done

echo "link test: model $MODEL as '$NAME', work dir $WORK_DIR"
rm -rf "${WORK_DIR:?}"/{data,lib,obj,so,bin}
mkdir -p "$WORK_DIR"/{data,lib,obj,so,bin}

#===--- 1. Reference data -------------------------------------------------===#
step "convert $DATA/*.pb to raw little-endian .bin"
# Lists the .bin paths in data/files.txt, inputs first, in index order.
"$PYTHON" -c '
import glob, os, re, sys
import numpy as np
import onnx
from onnx import numpy_helper

src, dst = sys.argv[1], sys.argv[2]
def index(p):
    return int(re.search(r"_(\d+)\.pb$", p).group(1))
for kind in ("input", "output"):
    paths = sorted(glob.glob(os.path.join(src, kind + "_*.pb")), key=index)
    if not paths:
        sys.exit("no %s_*.pb in %s" % (kind, src))
    for i, p in enumerate(paths):
        if index(p) != i:
            sys.exit("%s: expected %s_%d.pb" % (p, kind, i))
        t = onnx.TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        a = numpy_helper.to_array(t)
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        out = os.path.join(dst, "%s_%d.bin" % (kind, i))
        with open(out, "wb") as f:
            f.write(a.tobytes())
        sys.stderr.write("  %s: %s %s %s -> %s\n" % (p, t.name, a.dtype, a.shape, out))
        print(out)
' "$DATA" "$WORK_DIR/data" >"$WORK_DIR/data/files.txt"
mapfile -t DATA_FILES <"$WORK_DIR/data/files.txt"
[[ ${#DATA_FILES[@]} -ge 2 ]] || die "no test data converted"

#===--- 2. Compile the model three ways -----------------------------------===#
step "compile $MODEL_NAME with kilnc: --emit=lib, --emit=obj, --emit=so"
run "$KILNC" "$MODEL" -o "$WORK_DIR/lib/$NAME.a" --emit=lib --name="$NAME"
run "$KILNC" "$MODEL" -o "$WORK_DIR/obj/$NAME.o" --emit=obj --name="$NAME"
run "$KILNC" "$MODEL" -o "$WORK_DIR/so/$NAME.so" --emit=so --name="$NAME"
for d in lib obj so; do
  [[ -s $WORK_DIR/$d/$NAME.h ]] || die "kilnc --emit=$d wrote no $NAME.h beside its output"
done

step "check the headers: identical for the three emissions, only <stddef.h>/<stdint.h> included"
cmp "$WORK_DIR/lib/$NAME.h" "$WORK_DIR/obj/$NAME.h" ||
  die "$NAME.h differs between --emit=lib and --emit=obj"
cmp "$WORK_DIR/lib/$NAME.h" "$WORK_DIR/so/$NAME.h" ||
  die "$NAME.h differs between --emit=lib and --emit=so"
BAD_INCLUDES=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$WORK_DIR/lib/$NAME.h" |
  grep -vE '<(stddef|stdint)\.h>' || true)
[[ -z $BAD_INCLUDES ]] || die "$NAME.h includes more than <stddef.h>/<stdint.h>: $BAD_INCLUDES"
echo "  ok"

#===--- 3. Symbols --------------------------------------------------------===#
step "check undefined symbols of $NAME.o (allowed: kiln_alloc kiln_free kiln_parallel_rows memcpy memset)"
run nm -u "$WORK_DIR/obj/$NAME.o"
OFFENDERS=$(nm -u "$WORK_DIR/obj/$NAME.o" | awk '{print $NF}' |
  grep -vxE 'kiln_alloc|kiln_free|kiln_parallel_rows|memcpy|memset' || true)
[[ -z $OFFENDERS ]] ||
  die "$NAME.o has undefined symbols beyond the runtime's hooks and memcpy/memset: $(echo $OFFENDERS)"
echo "  ok"

step "check $NAME.so exports kiln_model, ${NAME}_run, ${NAME}_info"
run nm -D --defined-only "$WORK_DIR/so/$NAME.so"
for sym in kiln_model "${NAME}_run" "${NAME}_info"; do
  nm -D --defined-only "$WORK_DIR/so/$NAME.so" | awk '$2 == "T" {print $3}' |
    grep -qx "$sym" || die "$NAME.so does not export the function $sym"
done
echo "  ok"

step "dlopen $NAME.so from Python ctypes: kiln_model() is ${NAME}_info()"
"$PYTHON" -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
name = sys.argv[2]
for f in (lib.kiln_model, getattr(lib, name + "_info")):
    f.restype = ctypes.c_void_p
    f.argtypes = []
a, b = lib.kiln_model(), getattr(lib, name + "_info")()
if not a or a != b:
    sys.exit("FAIL: kiln_model() = %r, %s_info() = %r" % (a, name, b))
# abi_version, struct_size, name: the first fields of kiln_model_info.
class Head(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint32), ("struct_size", ctypes.c_uint32),
                ("name", ctypes.c_char_p)]
h = Head.from_address(a)
if h.name != name.encode():
    sys.exit("FAIL: kiln_model()->name is %r, expected %r" % (h.name, name))
print("  ok   kiln_model() == %s_info(), abi_version %d, struct_size %d, name %s"
      % (name, h.abi_version, h.struct_size, h.name.decode()))
' "$WORK_DIR/so/$NAME.so" "$NAME"

#===--- 4. Build and run the C and C++ programs ---------------------------===#
DEFS=(-DKILN_MODEL="$NAME" -DKILN_MODEL_HEADER="\"$NAME.h\"")
CFLAGS=(-std=c99 -O2 -Wall -Wextra -Werror -pedantic -I "$RUNTIME_INCLUDE" "${DEFS[@]}")
CXXFLAGS=(-std=c++17 -O2 -Wall -Wextra -Werror -I "$RUNTIME_INCLUDE" "${DEFS[@]}")
BIN=$WORK_DIR/bin

step "build main.c against $NAME.a alone (the archive carries the runtime)"
run "$CC" "${CFLAGS[@]}" -I "$WORK_DIR/lib" "$HERE/main.c" "$WORK_DIR/lib/$NAME.a" -lm -o "$BIN/c_lib"

step "build main.c against $NAME.a with replaced kiln_alloc/kiln_free/kiln_error"
run "$CC" "${CFLAGS[@]}" -DKILN_TEST_REPLACE_HOOKS -I "$WORK_DIR/lib" "$HERE/main.c" \
  "$WORK_DIR/lib/$NAME.a" -lm -o "$BIN/c_lib_hooks"

step "build main.c against $NAME.o + libkiln_runtime.a"
run "$CC" "${CFLAGS[@]}" -I "$WORK_DIR/obj" "$HERE/main.c" "$WORK_DIR/obj/$NAME.o" \
  "$RUNTIME_LIB" -lm -o "$BIN/c_obj"

step "build main.c against $NAME.so"
run "$CC" "${CFLAGS[@]}" -I "$WORK_DIR/so" "$HERE/main.c" "$WORK_DIR/so/$NAME.so" \
  -Wl,-rpath,"$WORK_DIR/so" -lm -o "$BIN/c_so"

step "build main.cpp (C++17) against $NAME.a"
run "$CXX" "${CXXFLAGS[@]}" -I "$WORK_DIR/lib" "$HERE/main.cpp" "$WORK_DIR/lib/$NAME.a" \
  -o "$BIN/cpp_lib"

for exe in c_lib c_lib_hooks c_obj c_so cpp_lib; do
  step "run $exe"
  run "$BIN/$exe" "${DATA_FILES[@]}" || die "$exe failed"
done

printf '\nPASS: link test for %s\n' "$MODEL_NAME"
