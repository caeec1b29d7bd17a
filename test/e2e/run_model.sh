#!/usr/bin/env bash
# run_model.sh BUILD_DIR MODEL_DIR WORK_DIR: compiles MODEL_DIR/model.onnx to
# a shared library and checks it against torch's outputs in every
# test_data_set_* (rtol 1e-3, atol 1e-4), on one thread and on two (the
# runtime's pool runs the large GEMMs and the depthwise convolutions).
set -euo pipefail
build=$1 model=$2 work=$3
name=$(basename "$model")
mkdir -p "$work"
# MODEL_DIR/kilnc_flags, where the exporter wrote one, holds extra kilnc
# flags, one per line (the --input-shape pins of a model exported with
# dynamic axes).
flags=()
if [[ -f "$model/kilnc_flags" ]]; then
  mapfile -t flags < "$model/kilnc_flags"
fi
"$build/bin/kilnc" "$model/model.onnx" -o "$work/$name.so" --name "$name" "${flags[@]}"
for data in "$model"/test_data_set_*; do
  for threads in 1 2; do
    "$build/bin/kiln-run" "$work/$name.so" --data "$data" --threads $threads \
      --rtol 1e-3 --atol 1e-4
  done
done
