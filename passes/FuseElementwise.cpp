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
// An elementwise producer of a contraction's result stays out of a
// reduction after it (a global average pool): it is the contraction's
// epilogue. A consumer of two contractions' results through elementwise
// producers (a residual add of two convolutions' requantized sums) absorbs
// only the producer of the later one: it then follows that contraction and
// becomes its fused epilogue, and the earlier one's producer stays the
// earlier one's epilogue. Fusing both would leave the consumer after the
// later contraction reading the earlier one's raw sums, and neither kernel
// could fuse it.
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

/// The contraction (a linalg op with reduction loops, a GEMM's or a
/// convolution's) that `v` is the result of, through reshapes and the
/// insertion of its result into a bigger tensor (one per image or group);
/// null for anything else.
Operation *contractionOf(Value v) {
  Operation *def = v.getDefiningOp();
  while (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
                         tensor::CastOp, tensor::InsertSliceOp>(def))
    def = def->getOperand(0).getDefiningOp();
  // Not a window (a pool, a depthwise convolution): a producer after one
  // is better fused into its consumer, which then reads the window's
  // output (a max pool's bytes) instead of the producer's.
  auto op = dyn_cast_or_null<linalg::LinalgOp>(def);
  bool window =
      op &&
      (op->hasAttr(kiln::kMaxPoolAttr) || op->hasAttr(kiln::kDepthwiseAttr) ||
       isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(def));
  return op && op.getNumReductionLoops() > 0 && !window ? def : nullptr;
}

/// True where `a` comes before `b` in the same block.
bool isBefore(Operation *a, Operation *b) {
  return a->getBlock() == b->getBlock() && a->isBeforeInBlock(b);
}

/// The contraction whose epilogue an op reading `v` could become: the one
/// `v` is the result of, or the last one that the elementwise generic
/// making `v` reads.
Operation *kernelBehind(Value v) {
  if (Operation *k = contractionOf(v))
    return k;
  Operation *last = nullptr;
  if (isAllParallel(v.getDefiningOp()))
    for (Value in : cast<linalg::GenericOp>(v.getDefiningOp()).getDpsInputs())
      if (Operation *k = contractionOf(in); k && (!last || isBefore(last, k)))
        last = k;
  return last;
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
      if (!producer || !producer->hasOneUse() || !consumer ||
          !consumer.getMatchingIndexingMap(operand).isPermutation())
        return false;
      // Not the producer of a contraction's result (its epilogue) into a
      // reduction, which would then read the contraction's raw sums and
      // do the epilogue's work in its own loops; nor into a consumer of a
      // later contraction's result.
      Operation *kernel = kernelBehind(operand->get());
      if (kernel && consumer.getNumReductionLoops() > 0)
        return false;
      return !kernel ||
             llvm::none_of(consumer.getDpsInputOperands(), [&](OpOperand *in) {
               Operation *k = in != operand ? kernelBehind(in->get()) : nullptr;
               return k && isBefore(kernel, k);
             });
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
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
