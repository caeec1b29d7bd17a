//===- ConcatInPlace.cpp - Concatenated values computed in their place ----===//
//
// This file implements kiln-concat-in-place. A Concat lowers to a chain of
// tensor.insert_slice ops into a tensor.empty, after the ops that compute
// its parts; those ops write into tensor.empty inits of their own, which
// CSE has merged into one for every op of a shape. Empty-tensor elimination
// would make each part's op write into its slice of the result, but only
// where that slice (the chain so far) is defined before the op, and only
// for an init that no other op shares: so every part was computed into a
// buffer of its own and copied (a Fire module's two expand layers in
// SqueezeNet, an Inception block's four branches). This pass moves the
// chain's tensor.empty before the first part's op and each insert_slice
// right after its part (legal on values: an insert_slice only reads its
// operands), and gives each part's op a tensor.empty init of its own; the
// parts are then computed in place.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_CONCATINPLACE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The tensor.empty at the start of `insert`'s chain of destinations, when
/// it is static and in the same block.
tensor::EmptyOp chainRoot(tensor::InsertSliceOp insert) {
  Value dest = insert.getDest();
  while (auto previous = dest.getDefiningOp<tensor::InsertSliceOp>())
    dest = previous.getDest();
  auto empty = dest.getDefiningOp<tensor::EmptyOp>();
  if (!empty || !empty.getDynamicSizes().empty() ||
      empty->getBlock() != insert->getBlock())
    return {};
  return empty;
}

struct ConcatInPlacePass : kiln::impl::ConcatInPlaceBase<ConcatInPlacePass> {
  void runOnOperation() override {
    SmallVector<tensor::InsertSliceOp> inserts;
    getOperation().walk(
        [&](tensor::InsertSliceOp insert) { inserts.push_back(insert); });
    for (tensor::InsertSliceOp insert : inserts) {
      tensor::EmptyOp root = chainRoot(insert);
      Operation *part = insert.getSource().getDefiningOp();
      auto dps = dyn_cast_or_null<DestinationStyleOpInterface>(part);
      if (!root || !insert.getOffsets().empty() || !dps ||
          dps.getNumDpsInits() != 1 || part->getBlock() != insert->getBlock())
        continue;
      auto init =
          dps.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>();
      if (!init || !init.getDynamicSizes().empty())
        continue;
      if (part->isBeforeInBlock(root))
        root->moveBefore(part);
      Operation *after = part;
      if (Operation *dest = insert.getDest().getDefiningOp();
          dest->getBlock() == part->getBlock() && part->isBeforeInBlock(dest))
        after = dest;
      insert->moveAfter(after);
      if (!init->hasOneUse()) {
        OpBuilder b(part);
        dps.getDpsInitOperand(0)->set(b.clone(*init)->getResult(0));
      }
    }
  }
};

} // namespace
