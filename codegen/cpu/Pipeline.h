//===- Pipeline.h - CPU lowering to the LLVM dialect ------------*- C++ -*-===//
//
// This file declares the CPU phase: bufferized linalg/vector IR down to the
// LLVM dialect with the bare-pointer calling convention.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CPU_PIPELINE_H
#define KILN_CODEGEN_CPU_PIPELINE_H

#include "codegen/common/TargetProfile.h"

#include "mlir/Pass/PassManager.h"

namespace kiln {

/// Bufferized IR to the LLVM dialect for `profile`
/// (kiln-cpu-lower-to-llvm-pipeline, with the default profile).
void buildCPULoweringPipeline(mlir::OpPassManager &pm,
                              const TargetProfile &profile = {});

/// Registers the pipeline above by name, for kiln-opt.
void registerCPUPipelines();

} // namespace kiln

#endif // KILN_CODEGEN_CPU_PIPELINE_H
