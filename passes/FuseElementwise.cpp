//===- FuseElementwise.cpp - Elementwise fusion that spares contractions --===//
//
// This file implements kiln-fuse-elementwise: upstream's elementwise fusion
// and reshape propagation (the patterns of linalg-fuse-elementwise-ops) with
// a control that fuses a producer into a consumer only where the consumer
// reads each of the producer's elements once (its indexing map for the
// operand is a permutation), and moves reshapes only through all-parallel
// generics. Upstream's default would turn a matmul whose operand is
// reshaped into a batched generic, and then fuse, say, a Gelu into it,
// recomputing the Gelu once per output column; kiln-lower-matmuls could no
// longer see the matmul either.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// A linalg.generic with only parallel loops.
bool isAllParallel(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  return generic && generic.getNumReductionLoops() == 0;
}

struct FuseElementwisePass
    : kiln::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);

    // Producer into consumer: a single-use producer, read once per element.
    linalg::ControlFusionFn fuseOnce = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
      if (!producer || !producer->hasOneUse() || !consumer)
        return false;
      return consumer.getMatchingIndexingMap(operand).isPermutation();
    };
    // Reshapes through generics: only where every loop is parallel.
    linalg::ControlFusionFn elementwiseOnly = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      Operation *consumer = operand->getOwner();
      if (!producer || !producer->hasOneUse())
        return false;
      bool producerIsLinalg = isa<linalg::LinalgOp>(producer);
      bool consumerIsLinalg = isa<linalg::LinalgOp>(consumer);
      return (!producerIsLinalg || isAllParallel(producer)) &&
             (!consumerIsLinalg || isAllParallel(consumer));
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, fuseOnce);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns,
                                                      elementwiseOnly);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, elementwiseOnly);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
