//===- Pipelines.cpp - The whole compiler, phase by phase -----------------===//
//
// This file is Kiln read top to bottom. The importer (compiler/import) has
// produced the onnx dialect with static shapes; then:
//
//   1. onnx -> linalg      fold constants, lower each op family
//                          (passes/ONNXToLinalg)
//   2. optimise on tensors fuse elementwise chains (kiln-fuse-elementwise),
//                          register-tile integer matmuls
//                          (kiln-tile-and-vectorize)
//   3. bufferize           pads written in place (kiln-decompose-pads),
//                          one-shot bufferization, results as out-params,
//                          the CPU kernels: packed GEMMs and depthwise row
//                          kernels with their bias and activation fused, on
//                          the runtime's threads (kiln-lower-matmuls,
//                          kiln-lower-windows), and the static memory plan
//                          (kiln-plan-memory)
//   4. lower to LLVM       vector and loop lowering, libm-free math, bare
//                          pointers (codegen/cpu/Pipeline.cpp)
//
// After phase 4 the driver translates to LLVM IR, adds the C entry points
// (codegen/common/EntryPoints.cpp), runs LLVM's O3 pipeline and writes the
// artifact (codegen/cpu/Target.cpp). Each phase is a named pipeline that
// kiln-opt can replay.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"
#include "codegen/common/Pipeline.h"
#include "codegen/cpu/Pipeline.h"
#include "dialects/onnx/ONNXDialect.h"
#include "passes/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace kiln {

std::optional<Phase> parsePhase(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Phase>>(name)
      .Case("onnx", Phase::ONNX)
      .Case("linalg", Phase::Linalg)
      .Case("optimized", Phase::Optimized)
      .Case("bufferized", Phase::Bufferized)
      .Case("llvm", Phase::LLVM)
      .Default(std::nullopt);
}

void buildPipeline(OpPassManager &pm, Phase upTo,
                   const TargetProfile &profile) {
  if (upTo == Phase::ONNX)
    return;
  buildONNXToLinalgPipeline(pm);
  if (upTo == Phase::Linalg)
    return;
  buildLinalgOptimizationPipeline(pm);
  if (upTo == Phase::Optimized)
    return;
  buildBufferizationPipeline(pm, profile);
  if (upTo == Phase::Bufferized)
    return;
  buildCPULoweringPipeline(pm, profile);
}

void registerKilnDialects(DialectRegistry &registry) {
  registry.insert<onnx::ONNXDialect>();
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void registerKilnPassesAndPipelines() {
  registerKilnPasses();
  registerCommonPipelines();
  registerCPUPipelines();
}

} // namespace kiln
