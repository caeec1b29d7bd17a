//===- Pipelines.h - The whole compiler, phase by phase ---------*- C++ -*-===//
//
// This file declares the phases of Kiln in order, the enum behind
// `--compile-to=` and `--emit=mlir`, and the function that builds the pass
// pipeline up to a phase.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_PIPELINES_H
#define KILN_COMPILER_PIPELINES_H

#include "codegen/common/TargetProfile.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace kiln {

/// The phases, in the order they run. Each names the IR it leaves behind.
enum class Phase {
  ONNX,       ///< onnx dialect as imported
  Linalg,     ///< linalg / tensor / arith / math on tensors
  Optimized,  ///< fused, tiled and vectorised, still on tensors
  Bufferized, ///< memrefs, every intermediate in the workspace arena
  LLVM,       ///< the LLVM dialect, ready for translation
};

/// Parses a phase name (onnx, linalg, optimized, bufferized, llvm).
std::optional<Phase> parsePhase(llvm::StringRef name);

/// Adds the passes that take imported IR to `upTo` to `pm`, generating code
/// for `profile`.
void buildPipeline(mlir::OpPassManager &pm, Phase upTo,
                   const TargetProfile &profile = {});

/// Registers every dialect, interface and translation Kiln uses.
void registerKilnDialects(mlir::DialectRegistry &registry);

/// Registers Kiln's passes and named pipelines (for kiln-opt).
void registerKilnPassesAndPipelines();

} // namespace kiln

#endif // KILN_COMPILER_PIPELINES_H
