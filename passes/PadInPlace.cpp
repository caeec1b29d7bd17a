//===- PadInPlace.cpp - A padded value written in its padded buffer -------===//
//
// This file implements kiln-pad-in-place. kiln-decompose-pads lets the op
// that produces a padded convolution's input write straight into the padded
// buffer, but only when the convolution is the value's one reader: a value
// that other ops read too (ResNet-18's block outputs, which the next
// block's strided convolution reads padded and its downsampling and
// residual read as they are; its max pool's output) is computed into a
// buffer X of its own, then copied into the interior of the padded buffer
// P: one more pass over memory.
//
// Here, on buffers, X's every use becomes the same place in P's interior
// (a strided view), so that its producers write there, its readers read
// there and the copy is gone. Only where that is sure to mean the same:
// X is an alloc that elementwise generics write and linalg ops read,
// through subviews at most; P is filled before the copy (only its border,
// then) and nothing else writes it while X is used.
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kiln {
#define GEN_PASS_DEF_PADINPLACE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct PadInPlacePass : kiln::impl::PadInPlaceBase<PadInPlacePass> {
  /// Whether X (the copy's input, an alloc) can live in `interior` (its
  /// output); `firstUse` is then the first op that uses X (or a view of it),
  /// above which `interior` must be.
  static bool canMove(linalg::CopyOp copy, Value x, memref::SubViewOp interior,
                      Operation *&firstUse) {
    Block *block = copy->getBlock();
    Value p = interior.getSource();
    auto xType = cast<MemRefType>(x.getType());
    std::optional<kiln::Box> interiorBox = kiln::staticBox(interior);
    if (!xType.hasStaticShape() || !xType.getLayout().isIdentity() ||
        !p.getDefiningOp<memref::AllocOp>() || !interiorBox ||
        cast<MemRefType>(interior.getType()).getShape() != xType.getShape())
      return false;
    // X's users: the copy, linalg ops, and subviews that only linalg ops
    // use; X written only by elementwise generics.
    SmallVector<Operation *> xOps;
    auto linalgUse = [&](Operation *user, Value through) {
      auto op = dyn_cast<linalg::LinalgOp>(user);
      if (!op || !op.hasPureBufferSemantics() || user->getBlock() != block)
        return false;
      for (OpOperand &init : op.getDpsInitsMutable())
        if (init.get() == through) {
          // A writer of X after the copy would write P's interior too.
          auto generic = dyn_cast<linalg::GenericOp>(user);
          if (!generic || !user->isBeforeInBlock(copy) ||
              generic.getNumParallelLoops() != generic.getNumLoops())
            return false;
        }
      xOps.push_back(user);
      return true;
    };
    firstUse = nullptr;
    for (Operation *user : x.getUsers()) {
      if (user != copy.getOperation() &&
          (!firstUse || user->isBeforeInBlock(firstUse)))
        firstUse = user;
      if (auto sub = dyn_cast<memref::SubViewOp>(user)) {
        for (Operation *u : sub->getUsers())
          if (!linalgUse(u, sub.getResult()))
            return false;
        continue;
      }
      if (user != copy.getOperation() && !linalgUse(user, x))
        return false;
    }
    if (xOps.empty())
      return false;
    Operation *firstX = xOps.front(), *lastX = xOps.front();
    for (Operation *op : xOps) {
      if (op->isBeforeInBlock(firstX))
        firstX = op;
      if (lastX->isBeforeInBlock(op))
        lastX = op;
    }
    // P: from X's first use to its last, only the copy, fills of its
    // border, and readers after the copy.
    SmallVector<Operation *> pOps;
    kiln::accessesOf(p, pOps);
    for (Operation *op : pOps) {
      if (op == copy.getOperation() || op->getBlock() != block)
        continue;
      if (op->isBeforeInBlock(firstX) || lastX->isBeforeInBlock(op))
        continue;
      if (kiln::fillsOutside(op, p, *interiorBox))
        continue;
      auto reader = dyn_cast<linalg::LinalgOp>(op);
      if (!reader || !reader.hasPureBufferSemantics() ||
          op->isBeforeInBlock(copy) ||
          llvm::any_of(reader.getDpsInits(),
                       [&](Value v) { return kiln::rootOf(v) == p; }))
        return false;
    }
    return kiln::hoistAbove(interior.getResult(), firstUse, /*dryRun=*/true);
  }

  /// X's uses moved to `interior` (made available above `firstUse`), the
  /// copy erased.
  static void move(linalg::CopyOp copy, Value x, memref::SubViewOp interior,
                   Operation *firstUse) {
    SmallVector<Operation *> users(x.getUsers().begin(), x.getUsers().end());
    kiln::hoistAbove(interior.getResult(), firstUse, /*dryRun=*/false);
    copy->erase();
    for (Operation *user : users) {
      if (user == copy.getOperation())
        continue;
      auto sub = dyn_cast<memref::SubViewOp>(user);
      if (!sub) {
        user->replaceUsesOfWith(x, interior.getResult());
        continue;
      }
      OpBuilder b(sub);
      auto type =
          cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
              sub.getType().getShape(), interior.getType(),
              sub.getMixedOffsets(), sub.getMixedSizes(),
              sub.getMixedStrides()));
      Value view = b.create<memref::SubViewOp>(
          sub.getLoc(), type, interior.getResult(), sub.getMixedOffsets(),
          sub.getMixedSizes(), sub.getMixedStrides());
      sub.getResult().replaceAllUsesWith(view);
      sub->erase();
    }
    x.getDefiningOp()->erase();
  }

  void runOnOperation() override {
    SmallVector<linalg::CopyOp> copies;
    getOperation().walk([&](linalg::CopyOp copy) { copies.push_back(copy); });
    OpBuilder b(&getContext());
    for (linalg::CopyOp copy : copies) {
      if (!copy.hasPureBufferSemantics())
        continue;
      Value x = copy.getInputs()[0];
      auto interior = copy.getOutputs()[0].getDefiningOp<memref::SubViewOp>();
      if (!interior || !x.getDefiningOp<memref::AllocOp>())
        continue;
      // A whole fill of P right before the copy keeps to its border first.
      kiln::fillBorderOfPad(b, interior.getSource());
      Operation *firstUse;
      if (canMove(copy, x, interior, firstUse))
        move(copy, x, interior, firstUse);
    }
  }
};

} // namespace
