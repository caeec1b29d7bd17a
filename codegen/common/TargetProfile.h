//===- TargetProfile.h - What code generation knows of a target -*- C++ -*-===//
//
// This file declares TargetProfile: the few facts about a CPU that the
// MLIR phases need (vector width, micro-kernel tile, threads, alignment).
// The driver chooses one from the TargetMachine (profileFor in
// codegen/cpu/Target.cpp) and hands it to buildPipeline. The defaults are
// those of an AVX-512 x86-64 core, which kiln-opt's named pipelines use.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_TARGETPROFILE_H
#define KILN_CODEGEN_COMMON_TARGETPROFILE_H

#include <cstdint>
#include <string>

namespace kiln {

struct TargetProfile {
  /// f32 lanes per vector register (kiln-lower-matmuls, kiln-lower-windows).
  int64_t vectorWidth = 16;
  /// Rows of a GEMM micro-kernel, and vectors per row: together the
  /// accumulators, which must leave registers for a B vector and an A value.
  int64_t tileM = 8;
  int64_t tileNVectors = 2;
  /// Vector registers: the bound on a wider micro-kernel than the tile (a
  /// third vector per row for the dot-product tail's shapes).
  int64_t vectorRegisters = 32;
  /// GEMMs with at least this many rows pack B into panels at run time (for
  /// the caches); others read it in place, and so does every GEMM on a core
  /// without a data cache, where a packed copy costs time and arena. A
  /// packed panel pays for its copy only when enough row blocks read it:
  /// MobileNetV2's 1x1 convolutions with 16 to 96 output channels (2 to 12
  /// row blocks) ran 7% faster reading their input in place (5.44 -> 5.06
  /// ms on one thread), ResNet-50's 64-channel ones too (44.8 -> 41.8 ms).
  int64_t packMinRows = 128;
  /// The same for a plain GEMM (not a batch, no dot-product tail, which
  /// reads B packed), where it is more (0: packMinRows). On AVX-512 cores,
  /// whose 1-2 MB L2 holds a B read in place between its row blocks, 256:
  /// ResNet-50's 1x1 convolutions into 128 channels (56x56 from 256, 28x28
  /// from 512; 16 row blocks) then read their input in place, 2.52 -> 2.41
  /// ms a run on one thread and 1.42 -> 1.29 on two (Zen 5, `--profile`),
  /// the model 0.997 (IQR 0.997-0.999) and 0.993 (0.992-0.996) of before
  /// (interleaved, 3 copies each). With pack-min-rows itself at 256,
  /// MobileNetV2's 7x7 GEMMs of 160 rows lost their dot-product tail and
  /// the encoder's attention batches their packing: one thread 1.017 each.
  int64_t packMinRowsPlain = 0;
  /// Bytes of packed B per chunk: sized to stay in L2 on a cached core, to
  /// a few panels on a microcontroller, where the pack buffer is arena (an
  /// im2col is always packed: it never exists whole then). Half of a Zen 5
  /// core's 1 MB L2 (paired rounds): with 128, 192 or 256 KB MobileNetV2
  /// took 1.03-1.12 times as long on two threads (0.99-1.04 on one), with
  /// 768 KB ResNet-50 1.02 times on one.
  int64_t chunkBytes = 524288;
  /// The target's runtime has a thread pool: large loops go through
  /// kiln_parallel_rows. Bare-metal targets run everything on the caller.
  bool threads = true;
  /// Bits of the `index` type in the generated code: the pointer width, so
  /// that a 32-bit core does no 64-bit address arithmetic (nor calls a
  /// library for 64-bit division).
  int64_t indexBits = 64;
  /// Stride-1 3x3 convolutions run as Winograd F(2x2, 3x3) or F(4x4, 3x3),
  /// and stride-2 ones of many tiles by their phases (passes/Winograd.h):
  /// fewer multiplications for transformed copies of the input and output
  /// tiles (four or 2.25 times their size, 5 at stride 2) in the arena; not
  /// on a microcontroller.
  bool winograd = true;
  /// The 4-byte dot-product instruction of 8-bit contractions: "vnni"
  /// (AVX-512 VNNI's vpdpbusd), "maddubs" (x86 without VNNI: vpmaddubsw's
  /// saturating 16-bit pair sums, then vpmaddwd; exact only for weights
  /// whose pairs stay below 2^15, so the quantizer gives such targets 7-bit
  /// weights), "smlad" (two of Arm's DSP SMLADs), or none (widening vector
  /// multiplies).
  std::string int8Dot;
  /// AVX2's masked stores (vmaskmovps) are microcoded (AMD's Zen 1-3):
  /// a kernel's vectors that straddle the lines of a padded output are
  /// stored as loads, selects and stores instead (kiln-lower-matmuls'
  /// blend-stores).
  bool slowMaskedStores = false;
  /// Shifting lanes across two vectors takes more than one shuffle (AVX2:
  /// vperm2f128 and vshufps or vpalignr across the 128-bit halves; one
  /// vpermt2ps on AVX-512, one ext on Neon): a stride-1 window loads each
  /// of its taps instead (kiln-lower-windows' tap-loads).
  bool costlyLaneShifts = false;
  /// Output rows of a depthwise convolution or a pool made together, each
  /// input row read and shuffled once for all of them (kiln-lower-windows'
  /// rows): their accumulators, the window's weights and a row's taps must
  /// fit in the vector registers.
  int64_t windowRows = 1;
  /// A GEMM's constant A (a layer's weights) is packed into row blocks at
  /// compile time and prefetched (kiln-lower-matmuls' pack-a): one stream
  /// per micro-kernel instead of tileM rows, each k floats apart.
  bool rowBlockWeights = false;
  /// The ISA rounds half to even in one instruction (SSE4.1, AArch64):
  /// math.roundeven stays for LLVM instead of its integer expansion.
  bool roundEvenInstruction = false;
  /// Alignment of the workspace arena and of every buffer in it, in bytes.
  int64_t alignment = 64;
  /// The ISA has no NaN-propagating float max/min (llvm.maximum): lower
  /// arith.maximumf/minimumf to compares and selects (32-bit Arm).
  bool expandFloatMinMax = false;
  /// A float max/min with a constant is a compare and select that returns
  /// the other operand when it is NaN (kiln-clamps-as-compares): one maxps
  /// on x86, where llvm.maximum takes a compare and blend more, and fewer
  /// instructions than the expansion above. Not on AArch64, whose fmax and
  /// fmin propagate NaN in one instruction.
  bool clampsAsCompares = true;
  /// The target stores numbers in the host's byte order: a constant's data
  /// as kilnc holds it is the bytes the target reads
  /// (kiln-flatten-constants makes weights arrays of bytes).
  bool hostByteOrder = true;
};

} // namespace kiln

#endif // KILN_CODEGEN_COMMON_TARGETPROFILE_H
