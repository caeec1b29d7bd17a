//===- PlanMemory.cpp - Place intermediates in one workspace arena --------===//
//
// This file implements kiln-plan-memory. After bufferization every
// intermediate is a memref.alloc. The pass numbers the top-level ops of each
// entry function, finds each buffer's lifetime (from its alloc to the last
// op that uses it or any view of it), plans offsets with planMemory, appends
// the workspace argument and turns each alloc into a memref.view of it.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/MemoryPlanner.h"
#include "codegen/common/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace kiln {
#define GEN_PASS_DEF_PLANMEMORY
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The ancestor of `op` that sits directly in `block`.
static Operation *topLevelAncestor(Operation *op, Block *block) {
  while (op && op->getBlock() != block)
    op = op->getParentOp();
  return op;
}

/// An op whose results alias its memref operand: a view, reshape or cast.
static bool isAlias(Operation *op) {
  return isa<ViewLikeOpInterface, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::CastOp,
             memref::ReinterpretCastOp>(op);
}

/// Erases the buffers nothing reads or writes any more, and the views of
/// them that nothing uses: a kernel pass that fused a buffer's producer and
/// consumer away leaves them (a GEMM's C when its bias and activation went
/// into the kernel and its result into a padded buffer), and they would
/// hold arena bytes for the steps between their views. Post-order lists
/// each op after the ops that define its operands, so in reverse a view's
/// users come before it, and one pass reaches the buffer.
static void eraseUnusedBuffers(func::FuncOp func) {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isAlias(op) || isa<memref::AllocOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : llvm::reverse(ops)) {
    if (isa<memref::AllocOp>(op) && !op->use_empty() &&
        llvm::all_of(op->getUsers(), llvm::IsaPred<memref::DeallocOp>))
      for (Operation *user : llvm::make_early_inc_range(op->getUsers()))
        user->erase();
    if (isOpTriviallyDead(op))
      op->erase();
  }
}

struct PlanMemoryPass : kiln::impl::PlanMemoryBase<PlanMemoryPass> {
  using PlanMemoryBase::PlanMemoryBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(kEntryAttr) && failed(planFunction(func)))
        return signalPassFailure();
  }

  LogicalResult planFunction(func::FuncOp func) {
    eraseUnusedBuffers(func);
    Block &body = func.getBody().front();
    llvm::DenseMap<Operation *, int64_t> step;
    int64_t n = 0;
    for (Operation &op : body)
      step[&op] = n++;

    SmallVector<memref::AllocOp> allocs;
    func.walk([&](memref::AllocOp alloc) { allocs.push_back(alloc); });

    std::vector<BufferRequest> requests;
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity())
        return alloc.emitError("cannot plan a buffer of dynamic shape or "
                               "non-identity layout: ")
               << type;
      int64_t bits = type.getElementTypeBitWidth();
      int64_t bytes = type.getNumElements() * std::max<int64_t>(bits / 8, 1);
      Operation *def = topLevelAncestor(alloc, &body);
      BufferRequest r{bytes, step[def], step[def]};
      // Follow every alias: views of the buffer and results of ops whose
      // regions yield it.
      SmallVector<Value> worklist{alloc.getResult()};
      llvm::DenseSet<Value> seen;
      while (!worklist.empty()) {
        Value v = worklist.pop_back_val();
        if (!seen.insert(v).second)
          continue;
        for (OpOperand &use : v.getUses()) {
          Operation *user = use.getOwner();
          if (isa<func::ReturnOp>(user))
            return alloc.emitError("a planned buffer escapes the function");
          Operation *top = topLevelAncestor(user, &body);
          r.firstUse = std::min(r.firstUse, step[top]);
          r.lastUse = std::max(r.lastUse, step[top]);
          if (isAlias(user))
            for (Value res : user->getResults())
              worklist.push_back(res);
          if (user->hasTrait<OpTrait::IsTerminator>() && user != top &&
              alloc->getBlock() != &body)
            return alloc.emitError("a buffer allocated inside a loop is "
                                   "carried across iterations; cannot plan it");
          if (user->hasTrait<OpTrait::IsTerminator>())
            for (Value res : user->getParentOp()->getResults())
              worklist.push_back(res);
        }
      }
      requests.push_back(r);
    }

    MemoryPlan plan = planMemory(requests, alignment);

    // Append the workspace argument and replace every alloc by a view.
    OpBuilder b(func.getContext());
    auto wsType =
        MemRefType::get({std::max<int64_t>(plan.arenaSize, 1)}, b.getI8Type());
    unsigned wsIndex = func.getNumArguments();
    func.insertArgument(wsIndex, wsType, {}, func.getLoc());
    Value ws = func.getArgument(wsIndex);
    SmallVector<Attribute> buffers;
    for (auto [alloc, r, offset] : llvm::zip(allocs, requests, plan.offsets)) {
      b.setInsertionPoint(alloc);
      Value off = b.create<arith::ConstantIndexOp>(alloc.getLoc(), offset);
      Value view = b.create<memref::ViewOp>(alloc.getLoc(), alloc.getType(), ws,
                                            off, ValueRange{});
      std::string typeStr;
      llvm::raw_string_ostream os(typeStr);
      os << alloc.getType();
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.replaceAllUsesWith(view);
      alloc.erase();
      buffers.push_back(b.getDictionaryAttr({
          b.getNamedAttr("offset", b.getI64IntegerAttr(offset)),
          b.getNamedAttr("size", b.getI64IntegerAttr(r.size)),
          b.getNamedAttr("first", b.getI64IntegerAttr(r.firstUse)),
          b.getNamedAttr("last", b.getI64IntegerAttr(r.lastUse)),
          b.getNamedAttr("type", b.getStringAttr(typeStr)),
      }));
    }
    int64_t total = 0;
    for (const BufferRequest &r : requests)
      total += r.size;
    func->setAttr(kWorkspaceSizeAttr, b.getI64IntegerAttr(plan.arenaSize));
    func->setAttr(kWorkspaceLowerBoundAttr,
                  b.getI64IntegerAttr(plan.lowerBound));
    func->setAttr(kWorkspaceTotalAttr, b.getI64IntegerAttr(total));
    func->setAttr(kWorkspaceAlignAttr, b.getI64IntegerAttr(alignment));
    func->setAttr(kBuffersAttr, b.getArrayAttr(buffers));
    return success();
  }
};

} // namespace
