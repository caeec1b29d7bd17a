//===- UnshareFills.cpp - An initializer of its own for every user --------===//
//
// This file implements kiln-unshare-fills. CSE merges equal ops on tensors:
// every matmul of one shape, every row reduction of one shape starts from
// the same zeros; two layers whose biases hold the same values (one weight
// tensor used twice, a weight-tied model, or biases that are all zeros)
// start from the same broadcast of that constant. One-shot bufferization
// can then let at most one of them write into the initializer's buffer in
// place, and copies it for each other one: a pass over memory per layer,
// and an initializer that the kernel passes (kiln-lower-matmuls' fused
// bias, kiln-lower-windows') see as a copy instead of a fill or a bias, so
// the layer's bias and epilogue are no longer fused into its kernel.
//
// The initializers: fills, and generics that only broadcast constants (all
// loops parallel, every input a constant, the output a static tensor.empty
// that the body does not read). A user is an op with the initializer among
// its operands, or a destination-style op that writes into it through
// slices and reshapes of it (a per-image matmul's extract_slice, which CSE
// merges too). A fill's users are every op that reads it, as before; a
// broadcast's only those that write into it (readers alone need no copy,
// and a second broadcast would be a pass over memory of its own). The
// first user in the initializer's block keeps it; each other one there
// (not in a loop's body: a buffer made there would be carried from one
// iteration to the next) gets a clone of the initializer, of its
// tensor.empty and of the slices and reshapes between them, right before
// it. Last, the op that computes one of the function's results gets a
// tensor.empty of its own: empty-tensor elimination makes that empty the
// output buffer, and with it every op that CSE let share it (a layer
// before the last, whose output the last one then reads from the buffer
// its epilogue writes: a hazard no kernel fuses). The pass runs right
// before bufferization, after the last CSE.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include <functional>

namespace kiln {
#define GEN_PASS_DEF_UNSHAREFILLS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The static tensor.empty that `op`, a fill or a broadcast of constants
/// on tensors, writes into; null for any other op.
tensor::EmptyOp initializerEmpty(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureTensorSemantics() ||
      linalgOp->getNumResults() != 1 || linalgOp.getNumDpsInits() != 1)
    return nullptr;
  OpOperand *init = linalgOp.getDpsInitOperand(0);
  auto empty = init->get().getDefiningOp<tensor::EmptyOp>();
  if (!empty || !empty.getDynamicSizes().empty())
    return nullptr;
  if (isa<linalg::FillOp>(op))
    return empty;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumReductionLoops() != 0 ||
      generic.payloadUsesValueFromOperand(init) ||
      !llvm::all_of(generic.getDpsInputs(),
                    [](Value v) { return matchPattern(v, m_Constant()); }))
    return nullptr;
  return empty;
}

/// A user of an initializer: the operand it reads the initializer (or the
/// end of `views`) through, the slices and reshapes from the initializer
/// to that operand, in order, and the insert_slices that put its result
/// back into the initializer (a per-image matmul's), which write into its
/// clone too.
struct InitUse {
  OpOperand *operand;
  SmallVector<Operation *> views;
  SmallVector<OpOperand *> inserts;
};

/// The users of `root`, an initializer (initializerEmpty): destination-style
/// linalg ops writing into it directly or through slices and reshapes, and
/// for a fill every other op reading it directly.
SmallVector<InitUse> usersOf(Operation *root) {
  SmallVector<InitUse> users;
  SmallVector<OpOperand *> inserts;
  bool fill = isa<linalg::FillOp>(root);
  std::function<void(Value, SmallVector<Operation *> &)> visit =
      [&](Value v, SmallVector<Operation *> &views) {
        for (OpOperand &use : v.getUses()) {
          Operation *user = use.getOwner();
          if (isa<tensor::ExtractSliceOp, tensor::CollapseShapeOp,
                  tensor::ExpandShapeOp>(user)) {
            views.push_back(user);
            visit(user->getResult(0), views);
            views.pop_back();
          } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
                     linalgOp && linalgOp.isDpsInit(&use)) {
            users.push_back({&use, views, {}});
          } else if (auto insert = dyn_cast<tensor::InsertSliceOp>(user);
                     insert && views.empty() &&
                     &use == &insert.getDestMutable()) {
            inserts.push_back(&use);
          } else if (fill && views.empty()) {
            users.push_back({&use, {}, {}});
          }
        }
      };
  SmallVector<Operation *> views;
  visit(root->getResult(0), views);
  for (OpOperand *insert : inserts) {
    Operation *source = cast<tensor::InsertSliceOp>(insert->getOwner())
                            .getSource()
                            .getDefiningOp();
    auto *owner = llvm::find_if(users, [&](const InitUse &u) {
      return u.operand->getOwner() == source && !u.views.empty();
    });
    if (owner != users.end())
      owner->inserts.push_back(insert);
    else if (fill)
      users.push_back({insert, {}, {}});
  }
  return users;
}

struct UnshareFillsPass : kiln::impl::UnshareFillsBase<UnshareFillsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> roots;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (initializerEmpty(op))
        roots.push_back(op);
    });
    for (Operation *root : roots) {
      SmallVector<InitUse> uses = usersOf(root);
      if (uses.size() < 2)
        continue;
      // The first user (in the initializer's block) keeps the original.
      Block *block = root->getBlock();
      auto earlier = [&](const InitUse &x, const InitUse &y) {
        Operation *a = block->findAncestorOpInBlock(*x.operand->getOwner());
        Operation *b = block->findAncestorOpInBlock(*y.operand->getOwner());
        return a && b && a != b && a->isBeforeInBlock(b);
      };
      for (InitUse &use : uses)
        if (earlier(use, uses.front()))
          std::swap(use, uses.front());
      tensor::EmptyOp empty = initializerEmpty(root);
      for (InitUse &use : llvm::drop_begin(uses)) {
        Operation *user = use.operand->getOwner();
        if (user->getBlock() != block ||
            llvm::any_of(use.inserts, [&](OpOperand *insert) {
              return insert->getOwner()->getBlock() != block;
            }))
          continue;
        OpBuilder b(user);
        IRMapping mapping;
        mapping.map(empty.getResult(), b.clone(*empty)->getResult(0));
        Operation *clone = b.clone(*root, mapping);
        Operation *last = clone;
        mapping.map(root->getResult(0), clone->getResult(0));
        for (Operation *view : use.views) {
          last = b.clone(*view, mapping);
          mapping.map(view->getResult(0), last->getResult(0));
        }
        use.operand->set(last->getResult(0));
        for (OpOperand *insert : use.inserts)
          insert->set(clone->getResult(0));
      }
    }
    // The op that computes one of the function's results writes into a
    // tensor.empty of its own: empty-tensor elimination makes that empty
    // the output buffer, and with it every other op that CSE let share it
    // (a layer before, whose output the last layer then reads while its
    // epilogue writes the same buffer, which no kernel can fuse).
    getOperation().walk([&](func::ReturnOp ret) {
      for (Value v : ret.getOperands()) {
        while (Operation *def = v.getDefiningOp()) {
          if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def))
            break;
          v = def->getOperand(0);
        }
        auto dps = v.getDefiningOp<DestinationStyleOpInterface>();
        if (!dps || !dps.hasPureTensorSemantics())
          continue;
        OpOperand *init = dps.getTiedOpOperand(cast<OpResult>(v));
        auto empty = init->get().getDefiningOp<tensor::EmptyOp>();
        if (!empty || empty->hasOneUse() ||
            empty->getBlock() != dps->getBlock())
          continue;
        OpBuilder b(dps);
        init->set(b.clone(*empty)->getResult(0));
      }
    });
  }
};

} // namespace
