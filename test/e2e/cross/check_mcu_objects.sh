#!/usr/bin/env bash
# check_mcu_objects.sh BUILD_DIR MODEL_DIR WORK_DIR: compiles MODEL_DIR's
# model for cortex-m4, cortex-m7 and cortex-m55 and checks each object:
# Thumb-2 code for that CPU with the hard-float ABI's build attributes; the
# Helium (MVE) float FMA on 4 lanes for the M55; weights in read-only data
# and no writable data; and nothing undefined but symbols that the Kiln
# runtime built for that architecture defines (nm -u). Exits 1 on failure.
set -euo pipefail
build=$1 model=$2 work=$3
mkdir -p "$work"
die() { echo "FAIL: $*" >&2; exit 1; }

for cpu in cortex-m4 cortex-m7 cortex-m55; do
  obj=$work/$cpu.o
  "$build/bin/kilnc" "$model/model.onnx" -o "$obj" --target=$cpu --name=net
  attrs=$(arm-none-eabi-readelf -A "$obj")
  grep -q "Tag_CPU_name: \"$cpu\"" <<<"$attrs" || die "$cpu: no Tag_CPU_name $cpu"
  # Thumb-2 (Armv8-M says "Yes": Thumb is all it has).
  grep -Eq 'Tag_ARM_ISA_use: No' <<<"$attrs" &&
    grep -Eq 'Tag_THUMB_ISA_use: (Thumb-2|Yes)' <<<"$attrs" || die "$cpu: not Thumb-only code"
  grep -q 'Tag_ABI_VFP_args: VFP registers' <<<"$attrs" || die "$cpu: not hard-float ABI"
  if [[ $cpu == cortex-m55 ]]; then
    runtime=$build/lib/kiln/thumbv8.1m.main-none-eabihf/libkiln_runtime.a
    grep -q 'Tag_MVE_arch: MVE Integer and FP' <<<"$attrs" || die "$cpu: no MVE"
    fma=$(arm-none-eabi-objdump -d "$obj" | grep -c $'vfma.f32\tq' || true)
    (( fma > 0 )) || die "$cpu: no Helium vfma.f32 on q registers"
  else
    runtime=$build/lib/kiln/thumbv7em-none-eabihf/libkiln_runtime.a
  fi
  # Weights are constants (flash); nothing is writable.
  sizes=$(arm-none-eabi-size -A "$obj")
  rodata=$(awk '$1 ~ /^\.rodata/ {s += $2} END {print s + 0}' <<<"$sizes")
  data=$(awk '$1 ~ /^\.(data|bss)/ {s += $2} END {print s + 0}' <<<"$sizes")
  (( rodata > 0 )) || die "$cpu: no read-only data"
  (( data == 0 )) || die "$cpu: $data bytes of writable data"
  undefined=$(arm-none-eabi-nm -u "$obj" | awk '{print $2}' | sort -u)
  defined=$(arm-none-eabi-nm --defined-only "$runtime" | awk 'NF == 3 {print $3}' | sort -u)
  missing=$(comm -23 <(echo "$undefined") <(echo "$defined") | sed '/^$/d')
  [[ -z $missing ]] || die "$cpu: undefined symbols the runtime lacks: $missing"
  echo "$cpu: Thumb-2, hard float, $rodata B read-only data, undefined only" \
       "runtime symbols ($(echo $undefined))"
done
echo PASS
