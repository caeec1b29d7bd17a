//===- Passes.h - Kiln's passes ---------------------------------*- C++ -*-===//
//
// This file declares Kiln's passes and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_PASSES_H
#define KILN_PASSES_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

/// On a depthwise convolution's linalg.generic: [stride h, stride w,
/// dilation h, dilation w], for kiln-lower-windows; an 8-bit one (unsigned
/// byte input and signed byte weights, f32 sums) adds the input's zero
/// point.
constexpr const char *kDepthwiseAttr = "kiln.depthwise";

/// On an integer 2-d MaxPool's linalg.generic (over (n, c, oh, ow, kh, kw),
/// like linalg.pooling_nchw_max, which has no unsigned form): [stride h,
/// stride w, dilation h, dilation w], for kiln-lower-windows. Its body's
/// arith.maxui or arith.maxsi says how the bytes compare.
constexpr const char *kMaxPoolAttr = "kiln.max_pool";

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace kiln

#endif // KILN_PASSES_PASSES_H
