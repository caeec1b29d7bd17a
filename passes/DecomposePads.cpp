//===- DecomposePads.cpp - Pads as a fill and an in-place insert ----------===//
//
// This file implements kiln-decompose-pads. One-shot bufferization turns a
// tensor.pad into a new buffer, a fill of all of it, and a copy of the
// source into its interior: one more pass over memory for every padded
// convolution input. As tensor.empty + linalg.fill + tensor.insert_slice
// (upstream's GeneralizePadOpPattern), empty-tensor elimination then lets the
// op that produces the source write straight into the interior, and the copy
// is gone. The fill moves up to where the source is produced, so that the
// slice can be built there; the pass runs right before bufferization, as
// CSE would merge equal fills and make bufferization copy them.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_DECOMPOSEPADS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct DecomposePadsPass : kiln::impl::DecomposePadsBase<DecomposePadsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<linalg::GeneralizePadOpPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
    // Empty-tensor elimination builds the slice of the padded tensor where
    // the source's tensor.empty stands, so the fill must come first: move
    // it (and its own tensor.empty) there.
    getOperation().walk([](tensor::InsertSliceOp insert) {
      auto fill = insert.getDest().getDefiningOp<linalg::FillOp>();
      if (!fill || !fill->hasOneUse())
        return;
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
      Operation *producer = insert.getSource().getDefiningOp();
      if (!empty || !producer || producer->getBlock() != fill->getBlock())
        return;
      Operation *first = producer;
      if (!first->isBeforeInBlock(empty))
        return;
      // The producer's own tensor.empty may be shared (CSE) and far above:
      // give it a fresh one right before it instead of moving the fill there.
      if (auto dps = dyn_cast<DestinationStyleOpInterface>(producer))
        for (OpOperand &init : dps.getDpsInitsMutable())
          if (auto initEmpty = init.get().getDefiningOp<tensor::EmptyOp>()) {
            OpBuilder b(producer);
            init.set(b.clone(*initEmpty)->getResult(0));
            first = init.get().getDefiningOp();
          }
      Value padValue = fill.getInputs()[0];
      if (Operation *def = padValue.getDefiningOp())
        if (def->getBlock() == first->getBlock() &&
            first->isBeforeInBlock(def))
          return;
      empty->moveBefore(first);
      fill->moveBefore(first);
    });
  }
};

} // namespace
