//===- Loss.cpp - Lower onnx loss functions -------------------------------===//
//
// This file implements the lowering of NegativeLogLikelihoodLoss (one
// generic that picks each target's log-probability and weight, then the
// reduction) and SoftmaxCrossEntropyLoss (LogSoftmax along axis 1, then
// NegativeLogLikelihoodLoss, both as onnx ops lowered in turn).
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

using namespace mlir;
using namespace kiln;

namespace {

struct NLLLowering : OpRewritePattern<onnx::NegativeLogLikelihoodLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::NegativeLogLikelihoodLossOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inType = tensorType(op.getInput());
    auto tType = tensorType(op.getTarget());
    Type et = inType.getElementType();
    if (!isFloat(et) || inType.getRank() < 2 || isUnsignedOperand(op, 1))
      return unsupported(op,
                         "needs float [N, C, ...] input and signed targets");
    StringRef reduction = op.getReduction();
    if (reduction != "none" && reduction != "sum" && reduction != "mean")
      return unsupported(op, "unknown reduction '" + reduction + "'");
    int64_t classes = inType.getDimSize(1), rank = tType.getRank();
    std::optional<int64_t> ignore;
    if (op.getIgnoreIndex())
      ignore = (int64_t)*op.getIgnoreIndex();
    bool hasWeight = !onnx::isNoValue(op.getWeight());
    Value input = op.getInput(), weight = op.getWeight();

    auto lossType = RankedTensorType::get(tType.getShape(), et);
    SmallVector<AffineMap> maps(3, rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{lossType, lossType}, op.getTarget(),
        ValueRange{createEmpty(rewriter, loc, lossType),
                   createEmpty(rewriter, loc, lossType)},
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value t = args[0];
          if (t.getType() != b.getI64Type())
            t = b.create<arith::ExtSIOp>(l, b.getI64Type(), t);
          Value ignored = createScalar(b, l, b.getI1Type(), 0);
          if (ignore)
            ignored = b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::eq, t,
                createScalar(b, l, b.getI64Type(), *ignore));
          // Clamp so an ignored (or bad) target never reads out of bounds.
          Value c = b.create<arith::IndexCastOp>(l, b.getIndexType(), t);
          c = b.create<arith::MaxSIOp>(l, c,
                                       b.create<arith::ConstantIndexOp>(l, 0));
          c = b.create<arith::MinSIOp>(
              l, c, b.create<arith::ConstantIndexOp>(l, classes - 1));
          SmallVector<Value> at{b.create<linalg::IndexOp>(l, 0), c};
          for (int64_t i = 1; i < rank; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          Value x = b.create<tensor::ExtractOp>(l, input, at);
          Value w = hasWeight
                        ? b.create<tensor::ExtractOp>(l, weight, c).getResult()
                        : createScalar(b, l, et, 1);
          w = b.create<arith::SelectOp>(l, ignored, createScalar(b, l, et, 0),
                                        w);
          Value loss =
              b.create<arith::NegFOp>(l, b.create<arith::MulFOp>(l, x, w));
          b.create<linalg::YieldOp>(l, ValueRange{loss, w});
        });
    Value loss = generic.getResult(0), w = generic.getResult(1);
    if (reduction == "none") {
      rewriter.replaceOp(op, loss);
      return success();
    }
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < rank; ++i)
      all.push_back(i);
    auto scalarType = RankedTensorType::get({}, et);
    Value sum = reshapeTo(
        rewriter, loc,
        reduceKeepDims(rewriter, loc, loss, all, ReduceKind::Sum), scalarType);
    if (reduction == "mean") {
      Value total = reshapeTo(
          rewriter, loc, reduceKeepDims(rewriter, loc, w, all, ReduceKind::Sum),
          scalarType);
      sum = buildElementwise(
          rewriter, loc, scalarType, ValueRange{sum, total},
          [](OpBuilder &b, Location l, ValueRange args) {
            return b.create<arith::DivFOp>(l, args[0], args[1]).getResult();
          });
    }
    rewriter.replaceOp(op,
                       reshapeTo(rewriter, loc, sum, tensorType(op.getLoss())));
    return success();
  }
};

struct SoftmaxCrossEntropyLowering
    : OpRewritePattern<onnx::SoftmaxCrossEntropyLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SoftmaxCrossEntropyLossOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getScores());
    if (type.getRank() < 2)
      return unsupported(op, "scores must be [N, C, ...]");
    Value logProb = rewriter.create<onnx::LogSoftmaxOp>(
        loc, type, op.getScores(), rewriter.getI64IntegerAttr(1));
    Value loss = rewriter.create<onnx::NegativeLogLikelihoodLossOp>(
        loc, op.getOutput().getType(), logProb, op.getLabels(), op.getWeights(),
        op.getIgnoreIndexAttr(), op.getReductionAttr());
    SmallVector<Value> results{loss};
    if (op->getNumResults() > 1)
      results.push_back(logProb);
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void kiln::populateLossPatterns(RewritePatternSet &patterns) {
  patterns.add<NLLLowering, SoftmaxCrossEntropyLowering>(patterns.getContext());
}
