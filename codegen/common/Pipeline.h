//===- Pipeline.h - Target-independent code generation phases ---*- C++ -*-===//
//
// This file declares the phases shared by every target: from onnx to linalg,
// linalg optimisation, and bufferization with the static memory plan, and
// the attribute names through which they talk to the output stage.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_PIPELINE_H
#define KILN_CODEGEN_COMMON_PIPELINE_H

#include "codegen/common/TargetProfile.h"

#include "mlir/Pass/PassManager.h"

namespace kiln {

/// Marks the function that becomes NAME_graph.
constexpr const char *kEntryAttr = "kiln.entry";
/// Set by kiln-plan-memory on the entry function.
constexpr const char *kWorkspaceSizeAttr = "kiln.workspace_size";
constexpr const char *kWorkspaceLowerBoundAttr = "kiln.workspace_lower_bound";
constexpr const char *kWorkspaceTotalAttr = "kiln.workspace_unplanned";
constexpr const char *kWorkspaceAlignAttr = "kiln.workspace_align";
constexpr const char *kBuffersAttr = "kiln.buffers";

/// onnx dialect -> linalg on tensors (kiln-onnx-to-linalg-pipeline).
void buildONNXToLinalgPipeline(mlir::OpPassManager &pm);

/// Fusion, tiling and vectorisation on tensors
/// (kiln-linalg-optimize-pipeline).
void buildLinalgOptimizationPipeline(mlir::OpPassManager &pm);

/// One-shot bufferization, results as out-parameters, the CPU kernels for
/// `profile`, and the static memory plan (kiln-bufferize-pipeline, with the
/// default profile).
void buildBufferizationPipeline(mlir::OpPassManager &pm,
                                const TargetProfile &profile = {});

/// Registers the pipelines above by name, for kiln-opt.
void registerCommonPipelines();

} // namespace kiln

#endif // KILN_CODEGEN_COMMON_PIPELINE_H
