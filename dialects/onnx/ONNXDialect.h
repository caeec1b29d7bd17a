//===- ONNXDialect.h - The onnx dialect -------------------------*- C++ -*-===//
//
// This file declares the onnx dialect and includes its ops.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_ONNXDIALECT_H
#define KILN_DIALECTS_ONNX_ONNXDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/onnx/ONNXDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/onnx/ONNXOps.h.inc"

namespace kiln::onnx {

/// Returns true if `v` is an omitted optional input (the none value).
inline bool isNoValue(mlir::Value v) {
  return !v || mlir::isa<mlir::NoneType>(v.getType());
}

/// Normalises a possibly negative `axis` for a tensor of `rank`; returns -1
/// when it is out of range.
inline int64_t normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return -1;
  return axis < 0 ? axis + rank : axis;
}

} // namespace kiln::onnx

#endif // KILN_DIALECTS_ONNX_ONNXDIALECT_H
