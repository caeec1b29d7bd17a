//===- LowerRunTimeChecks.cpp - Run-time checks as a status ---------------===//
//
// This file implements kiln-lower-run-time-checks. Lowerings state what a
// run-time input must agree with (Slice's starts, TopK's K, NonZero's count
// against the static output shape) as `cf.assert`; they have already made
// every access safe, so a failed check only means the outputs are wrong.
// Instead of aborting, the entry function folds the checks into one flag and
// returns a status: 0, or KILN_ERROR_SHAPE when any check failed, which
// NAME_run passes on to the caller.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace kiln {
#define GEN_PASS_DEF_LOWERRUNTIMECHECKS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Matches KILN_ERROR_SHAPE in runtime/include/kiln/runtime.h.
constexpr int32_t kErrorShape = 3;

struct LowerRunTimeChecksPass
    : kiln::impl::LowerRunTimeChecksBase<LowerRunTimeChecksPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(kiln::kEntryAttr) || func.isExternal())
        continue;
      if (func.getNumResults() != 0) {
        func.emitError("internal error: the entry function still has results "
                       "after bufferization");
        return signalPassFailure();
      }
      lower(func);
    }
  }

  void lower(func::FuncOp func) {
    OpBuilder b(func.getContext());
    Location loc = func.getLoc();
    Type i1 = b.getI1Type(), i32 = b.getI32Type();

    SmallVector<cf::AssertOp> checks;
    func.walk([&](cf::AssertOp op) { checks.push_back(op); });

    // One i1 flag on the stack, true until a check fails (LLVM promotes it
    // to a register where the checks are not inside loops).
    Value flag;
    if (!checks.empty()) {
      b.setInsertionPointToStart(&func.getBody().front());
      flag = b.create<memref::AllocaOp>(loc, MemRefType::get({}, i1));
      b.create<memref::StoreOp>(
          loc, b.create<arith::ConstantIntOp>(loc, 1, i1), flag);
    }
    for (cf::AssertOp check : checks) {
      b.setInsertionPoint(check);
      Value old = b.create<memref::LoadOp>(check.getLoc(), flag);
      Value ok = b.create<arith::AndIOp>(check.getLoc(), old, check.getArg());
      b.create<memref::StoreOp>(check.getLoc(), ok, flag);
      check.erase();
    }

    func.setType(FunctionType::get(func.getContext(),
                                   func.getFunctionType().getInputs(), {i32}));
    func.walk([&](func::ReturnOp ret) {
      b.setInsertionPoint(ret);
      Value status = b.create<arith::ConstantIntOp>(ret.getLoc(), 0, i32);
      if (flag) {
        Value ok = b.create<memref::LoadOp>(ret.getLoc(), flag);
        Value error =
            b.create<arith::ConstantIntOp>(ret.getLoc(), kErrorShape, i32);
        status = b.create<arith::SelectOp>(ret.getLoc(), ok, status, error);
      }
      ret->setOperands(status);
    });
  }
};

} // namespace
