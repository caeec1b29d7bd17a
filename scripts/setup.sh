#!/usr/bin/env bash
# Kiln set-up: installs every Debian package the project needs (idempotent,
# non-interactive), then configures and builds with ninja, clang-19, lld and
# ccache. Usage: scripts/setup.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}

PACKAGES=(
  # compiler toolchain and MLIR/LLVM 19
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 lld-19
  cmake ninja-build ccache
  # ONNX import, backend test data, test and model-generation tools
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libgtest-dev python3-onnx python3-numpy python3-torch python3-torchvision
  # cross targets: aarch64 Linux under qemu-aarch64, Cortex-M firmware under
  # qemu-system-arm (MPS2 boards)
  qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -G Ninja -S . -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=/usr/lib/llvm-19/bin/clang \
  -DCMAKE_CXX_COMPILER=/usr/lib/llvm-19/bin/clang++ \
  -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir \
  "${LAUNCHER[@]}"
cmake --build "$BUILD_DIR"
echo "setup: built into $BUILD_DIR/bin"
