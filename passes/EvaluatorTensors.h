//===- EvaluatorTensors.h - Constants as evaluator tensors ------*- C++ -*-===//
//
// This file declares the conversions between MLIR's dense constants and the
// constant evaluator's tensors (dialects/onnx/Evaluator.h), for the passes
// that evaluate ops on constants: kiln-fold-onnx-constants, and the lowering
// of a 3-d Conv, which reorders constant weights.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_EVALUATORTENSORS_H
#define KILN_PASSES_EVALUATORTENSORS_H

#include "dialects/onnx/Evaluator.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <optional>

namespace kiln {

/// `attr`'s elements as an evaluator tensor (a splat expanded), or nullopt
/// for an element type the evaluator does not hold or a dynamic shape.
std::optional<eval::Tensor> toTensor(mlir::DenseElementsAttr attr);

/// `t` as a constant of `type`; null unless its element type and shape are
/// exactly `type`'s.
mlir::DenseElementsAttr fromTensor(const eval::Tensor &t,
                                   mlir::RankedTensorType type);

} // namespace kiln

#endif // KILN_PASSES_EVALUATORTENSORS_H
