//===- ClampsAsCompares.cpp - Float max/min with a constant as a compare --===//
//
// This file implements kiln-clamps-as-compares. arith.maximumf(x, c) and
// minimumf(x, c) return NaN when x is NaN; x86's maxps and minps return
// their second operand when either is NaN, so LLVM follows each with a
// compare for unordered and a blend (four instructions for a Relu6 where
// two would do). When c is a constant and not NaN, only x can be NaN, and
//
//   maximumf(x, c) = select(c > x, c, x)
//   minimumf(x, c) = select(c < x, c, x)
//
// return x when it is NaN (an unordered compare is false) and are exactly
// maxps(c, x) and minps(c, x), which LLVM's x86 backend selects for them.
// The results differ from IEEE maximum only in the sign of a zero that
// compares equal to c (x = -0, c = +0 gives -0, as numpy's maximum does).
// Relu and Clip after every convolution, and the clamps of the fused
// epilogues, are such ops. Ops already marked `nnan` (kiln-known-finite)
// are left alone: LLVM emits one instruction for them anyway.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_CLAMPSASCOMPARES
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Whether `v` is a float constant (a scalar, a splat, or a vector
/// broadcast of one) that is not NaN.
bool isNonNaNConstant(Value v) {
  if (auto broadcast = v.getDefiningOp<vector::BroadcastOp>())
    v = broadcast.getSource();
  else if (auto splat = v.getDefiningOp<vector::SplatOp>())
    v = splat.getInput();
  Attribute value;
  if (!matchPattern(v, m_Constant(&value)))
    return false;
  if (auto f = dyn_cast<FloatAttr>(value))
    return !f.getValue().isNaN();
  if (auto dense = dyn_cast<DenseFPElementsAttr>(value))
    return llvm::none_of(dense.getValues<APFloat>(),
                         [](const APFloat &f) { return f.isNaN(); });
  return false;
}

template <typename MinMaxOp, arith::CmpFPredicate predicate>
struct ClampAsCompare : OpRewritePattern<MinMaxOp> {
  using OpRewritePattern<MinMaxOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(MinMaxOp op,
                                PatternRewriter &rewriter) const override {
    if (bitEnumContainsAll(op.getFastmath(), arith::FastMathFlags::nnan))
      return failure();
    Value x = op.getLhs(), c = op.getRhs();
    if (!isNonNaNConstant(c))
      std::swap(x, c);
    if (!isNonNaNConstant(c) || isNonNaNConstant(x))
      return failure();
    Value takeC = rewriter.create<arith::CmpFOp>(op.getLoc(), predicate, c, x);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, takeC, c, x);
    return success();
  }
};

struct ClampsAsComparesPass
    : kiln::impl::ClampsAsComparesBase<ClampsAsComparesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ClampAsCompare<arith::MaximumFOp, arith::CmpFPredicate::OGT>,
                 ClampAsCompare<arith::MinimumFOp, arith::CmpFPredicate::OLT>>(
        &getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
