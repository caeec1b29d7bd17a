//===- Pipeline.cpp - Target-independent code generation phases -----------===//
//
// This file implements the phases every target shares: onnx to linalg,
// linalg optimisation on tensors, and bufferization ending in the static
// memory plan, where no memref.alloc is left.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace kiln {

/// Copies between buffers as linalg.copy, which lowers to loops: memref.copy
/// of strided views would call a runtime library.
static LogicalResult createLinalgCopy(OpBuilder &b, Location loc, Value from,
                                      Value to) {
  b.create<linalg::CopyOp>(loc, from, to);
  return success();
}

void buildONNXToLinalgPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createFuseQDQ());
  pm.addNestedPass<func::FuncOp>(createFoldONNXConstants());
  pm.addNestedPass<func::FuncOp>(createFoldBatchNorms());
  pm.addNestedPass<func::FuncOp>(createDecomposeConvTransposes());
  pm.addNestedPass<func::FuncOp>(createONNXSignless());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertONNXToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildLinalgOptimizationPipeline(OpPassManager &pm) {
  // Integer matmuls are tiled and vectorised here; f32 ones stay named ops
  // for kiln-lower-matmuls, which kiln-fuse-elementwise leaves alone.
  pm.addNestedPass<func::FuncOp>(createTileAndVectorize());
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addNestedPass<func::FuncOp>(createKnownFinite());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildBufferizationPipeline(OpPassManager &pm,
                                const TargetProfile &profile) {
  // Before the entry is prepared: the pattern driver folds, and would fold
  // away the copies that keep an output from being an input.
  pm.addNestedPass<func::FuncOp>(createDecomposePads());
  pm.addNestedPass<func::FuncOp>(createUnshareFills());
  pm.addNestedPass<func::FuncOp>(createConcatInPlace());
  pm.addPass(createPrepareEntryFunction());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = true;
  options.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  options.memCpyFn = createLinalgCopy;
  pm.addPass(bufferization::createOneShotBufferizePass(options));
  bufferization::BufferResultsToOutParamsOpts outParams;
  outParams.hoistStaticAllocs = true;
  outParams.memCpyFn = createLinalgCopy;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // CSE merges the twin subviews that bufferizing an scf.for's yielded
  // insert_slice leaves, which turns its copy into a self-copy: canonicalize
  // again to erase those, or they would stop the accumulator hoisting.
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createAbsorbTransposes());
  pm.addNestedPass<func::FuncOp>(createSliceEnds());
  pm.addNestedPass<func::FuncOp>(createPadInPlace());
  FuseSoftmaxOptions softmax;
  softmax.vectorWidth = profile.vectorWidth;
  softmax.parallel = profile.threads;
  pm.addPass(createFuseSoftmax(softmax));
  FuseRowsOptions rows;
  rows.parallel = profile.threads;
  pm.addPass(createFuseRows(rows));
  LowerMatmulsOptions matmuls;
  matmuls.vectorWidth = profile.vectorWidth;
  matmuls.tileM = profile.tileM;
  matmuls.tileNVectors = profile.tileNVectors;
  matmuls.vectorRegisters = profile.vectorRegisters;
  matmuls.packMinRows = profile.packMinRows;
  matmuls.packMinRowsPlain = profile.packMinRowsPlain;
  matmuls.chunkBytes = profile.chunkBytes;
  matmuls.parallel = profile.threads;
  matmuls.winograd = profile.winograd;
  matmuls.int8Dot = profile.int8Dot;
  matmuls.blendStores = profile.slowMaskedStores;
  matmuls.packA = profile.rowBlockWeights;
  // A convolution fused with the depthwise convolution or max pool after it
  // (MobileNetV2's expansions and first layers, SqueezeNet's first): the
  // band buffer is on the stack, only where there are threads (hosted
  // targets, cached cores), and at most 256 KB (the runtime's workers have
  // 1 MB; MobileNetV2 on two threads ran as fast with 256 as with 512).
  matmuls.fuseDepthwise = profile.threads ? 256 : 0;
  matmuls.windowRows = profile.windowRows;
  // The panels each thread packs for itself, on its stack, 96 KB at a time
  // (where there are threads; interleaved rounds on Zen 5, two threads
  // far: ResNet-50 0.965-0.975, SqueezeNet 0.973-1.000, MobileNetV2 level;
  // 32, 160 and 256 KB did less).
  matmuls.stackPackKB = profile.threads ? 96 : 0;
  // Winograd convolutions of many tiles and few channels (SqueezeNet's
  // 55x55 ones) by blocks of 28 tiles on two or more threads; the others of
  // more than a quarter vector of tile columns (ResNet's 56x56 ones) by
  // spans of about 98 tiles on as many threads as spans (two there:
  // ResNet-50 on two threads, far, 0.990 of by products).
  matmuls.winogradBlockTiles = profile.threads ? 28 : 0;
  matmuls.winogradSpanTiles = profile.threads ? 98 : 0;
  matmuls.splitK = profile.threads;
  pm.addPass(createLowerMatmuls(matmuls));
  LowerWindowsOptions windows;
  windows.vectorWidth = profile.vectorWidth;
  windows.parallel = profile.threads;
  windows.tapLoads = profile.costlyLaneShifts;
  windows.blendStores = profile.slowMaskedStores;
  windows.rows = profile.windowRows;
  pm.addPass(createLowerWindows(windows));
  if (profile.threads)
    pm.addPass(createParallelizeLoops());
  pm.addPass(
      createLowerReductions(LowerReductionsOptions{profile.vectorWidth}));
  pm.addPass(
      createLowerTransposes(LowerTransposesOptions{profile.vectorWidth}));
  pm.addPass(createPlanMemory(PlanMemoryOptions{profile.alignment}));
  pm.addPass(createLowerRunTimeChecks());
}

void registerCommonPipelines() {
  PassPipelineRegistration<>("kiln-onnx-to-linalg-pipeline",
                             "onnx dialect to linalg on tensors",
                             buildONNXToLinalgPipeline);
  PassPipelineRegistration<>("kiln-linalg-optimize-pipeline",
                             "fusion, tiling and vectorisation on tensors",
                             buildLinalgOptimizationPipeline);
  PassPipelineRegistration<>(
      "kiln-bufferize-pipeline",
      "bufferization, out-parameters, the CPU kernels and the static "
      "memory plan",
      [](OpPassManager &pm) { buildBufferizationPipeline(pm); });
}

} // namespace kiln
