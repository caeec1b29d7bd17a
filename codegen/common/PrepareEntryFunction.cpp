//===- PrepareEntryFunction.cpp - Entry ABI before bufferization ----------===//
//
// This file implements kiln-prepare-entry-function: read-only inputs and
// one fresh tensor per output, so that one-shot bufferization never writes
// into the caller's input buffers and every output has a buffer of its own.
// Inputs and outputs with no elements cross the boundary as rank-1 tensors
// (reshaped inside): MLIR's bare-pointer calling convention cannot pass a
// multi-dimensional memref with a zero dimension, and the pointer is never
// dereferenced anyway.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

namespace kiln {
#define GEN_PASS_DEF_PREPAREENTRYFUNCTION
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// tensor<0xT> for a tensor type with zero elements and rank other than 1,
/// else null.
static RankedTensorType flatEmptyType(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || tensor.getNumElements() != 0 ||
      tensor.getRank() == 1)
    return {};
  return RankedTensorType::get({0}, tensor.getElementType());
}

/// All dimensions of a rank-`rank` tensor in one reassociation group.
static SmallVector<ReassociationIndices> oneGroup(int64_t rank) {
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  return {all};
}

static void flattenEmptyTensors(func::FuncOp func, OpBuilder &b) {
  Block &entry = func.getBody().front();
  SmallVector<Type> inputs(func.getArgumentTypes());
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    BlockArgument arg = entry.getArgument(i);
    auto original = cast<RankedTensorType>(arg.getType());
    RankedTensorType flat = flatEmptyType(original);
    if (!flat)
      continue;
    arg.setType(flat);
    inputs[i] = flat;
    b.setInsertionPointToStart(&entry);
    auto expanded = b.create<tensor::ExpandShapeOp>(
        func.getLoc(), original, arg, oneGroup(original.getRank()));
    arg.replaceAllUsesExcept(expanded, expanded);
  }
  SmallVector<Type> results(func.getResultTypes());
  func.walk([&](func::ReturnOp ret) {
    for (OpOperand &operand : ret->getOpOperands()) {
      auto original = dyn_cast<RankedTensorType>(operand.get().getType());
      RankedTensorType flat = flatEmptyType(original);
      if (!flat)
        continue;
      b.setInsertionPoint(ret);
      operand.set(b.create<tensor::CollapseShapeOp>(
          ret.getLoc(), flat, operand.get(), oneGroup(original.getRank())));
      results[operand.getOperandNumber()] = flat;
    }
  });
  func.setType(FunctionType::get(func.getContext(), inputs, results));
}

struct PrepareEntryFunctionPass
    : kiln::impl::PrepareEntryFunctionBase<PrepareEntryFunctionPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(kiln::kEntryAttr) || func.isExternal())
        continue;
      OpBuilder b(func.getContext());
      flattenEmptyTensors(func, b);
      for (unsigned i = 0; i < func.getNumArguments(); ++i)
        func.setArgAttr(i,
                        bufferization::BufferizationDialect::kWritableAttrName,
                        b.getBoolAttr(false));
      func.walk([&](func::ReturnOp ret) {
        llvm::SmallPtrSet<Value, 4> seen;
        b.setInsertionPoint(ret);
        for (OpOperand &operand : ret->getOpOperands()) {
          Value v = operand.get();
          auto type = dyn_cast<RankedTensorType>(v.getType());
          if (!type)
            continue;
          bool fresh = !isa<BlockArgument>(v) &&
                       !v.getDefiningOp<arith::ConstantOp>() &&
                       seen.insert(v).second;
          if (fresh)
            continue;
          Value empty = b.create<tensor::EmptyOp>(ret.getLoc(), type.getShape(),
                                                  type.getElementType());
          operand.set(
              b.create<linalg::CopyOp>(ret.getLoc(), v, empty).getResult(0));
        }
      });
    }
  }
};

} // namespace
