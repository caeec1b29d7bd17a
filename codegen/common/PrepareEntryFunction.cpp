//===- PrepareEntryFunction.cpp - Entry ABI before bufferization ----------===//
//
// This file implements kiln-prepare-entry-function: read-only inputs and
// one fresh tensor per output, so that one-shot bufferization never writes
// into the caller's input buffers and every output has a buffer of its own.
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

struct PrepareEntryFunctionPass
    : kiln::impl::PrepareEntryFunctionBase<PrepareEntryFunctionPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(kiln::kEntryAttr) || func.isExternal())
        continue;
      OpBuilder b(func.getContext());
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
