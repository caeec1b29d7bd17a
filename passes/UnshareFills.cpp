//===- UnshareFills.cpp - A fill of its own for every user ----------------===//
//
// This file implements kiln-unshare-fills. CSE merges equal fills on
// tensors: every matmul of one shape, every row reduction of one shape
// starts from the same zeros. One-shot bufferization can then let at most
// one of them write into the fill's buffer in place, and copies the zeros
// for each other one: a pass over memory per matmul, and an initializer that
// the kernel passes see as a copy instead of a fill. Each further user of a
// fill on tensors in the fill's own block (not in a loop's body) gets its
// own fill, and its own tensor.empty, right before it; the pass runs right
// before bufferization, after the last CSE.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_UNSHAREFILLS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct UnshareFillsPass : kiln::impl::UnshareFillsBase<UnshareFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
      if (fill.hasPureTensorSemantics() && !fill->hasOneUse() && empty &&
          empty.getDynamicSizes().empty())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : fill->getUses())
        uses.push_back(&use);
      // The first user (in the fill's block) keeps the original.
      Block *block = fill->getBlock();
      auto earlier = [&](OpOperand *x, OpOperand *y) {
        Operation *a = block->findAncestorOpInBlock(*x->getOwner());
        Operation *b = block->findAncestorOpInBlock(*y->getOwner());
        return a && b && a != b && a->isBeforeInBlock(b);
      };
      for (OpOperand *&use : uses)
        if (earlier(use, uses.front()))
          std::swap(use, uses.front());
      for (OpOperand *use : llvm::drop_begin(uses)) {
        Operation *user = use->getOwner();
        // Not into a loop's body: a buffer made there would be carried
        // from one iteration to the next.
        if (user->getBlock() != block)
          continue;
        OpBuilder b(user);
        Value newEmpty = b.clone(*empty)->getResult(0);
        IRMapping mapping;
        mapping.map(empty.getResult(), newEmpty);
        use->set(b.clone(*fill, mapping)->getResult(0));
      }
    }
  }
};

} // namespace
