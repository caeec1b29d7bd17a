//===- Sort.cpp - Lower onnx ops that reorder elements along an axis ------===//
//
// This file implements the lowering of TopK and ReverseSequence. TopK is a
// selection per slice along its axis: K passes, each picking the best
// element that ranks after the previous pick in the total order (value,
// then lower index first), so no "taken" mask is needed; the loops are
// scf.for nests carrying the output tensors. ReverseSequence is one
// linalg.generic gathering with tensor.extract at a reversed, clamped time
// index. Run-time K and sequence lengths are checked against the static
// shapes with cf.assert.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

namespace {

/// An scf.for from 0 to `ub` (step 1) carrying `inits`; `body` gets the
/// induction variable and the carried values and returns the next ones.
static scf::ForOp buildFor(
    OpBuilder &b, Location loc, int64_t ub, ValueRange inits,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
        body) {
  Value lb = b.create<arith::ConstantIndexOp>(loc, 0);
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  return b.create<scf::ForOp>(
      loc, lb, b.create<arith::ConstantIndexOp>(loc, ub), one, inits,
      [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
        nb.create<scf::YieldOp>(l, body(nb, l, iv, args));
      });
}

//===----------------------------------------------------------------------===//
// TopK
//===----------------------------------------------------------------------===//

/// Whether element (a, ia) comes before (b, ib) in TopK's order: the larger
/// (or smaller) value first, equal values by lower index. NaN ranks above
/// every number, as in numpy's sort (first when largest, last otherwise).
static Value ranksBefore(OpBuilder &b, Location l, Value a, Value ia, Value bv,
                         Value ib, bool largest, bool isUnsigned) {
  Value lowerIndex =
      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, ia, ib);
  if (!isFloat(a.getType())) {
    using P = arith::CmpIPredicate;
    P pred = largest ? (isUnsigned ? P::ugt : P::sgt)
                     : (isUnsigned ? P::ult : P::slt);
    Value better = b.create<arith::CmpIOp>(l, pred, a, bv);
    Value eq = b.create<arith::CmpIOp>(l, P::eq, a, bv);
    return b.create<arith::OrIOp>(l, better,
                                  b.create<arith::AndIOp>(l, eq, lowerIndex));
  }
  using P = arith::CmpFPredicate;
  Value aNan = b.create<arith::CmpFOp>(l, P::UNO, a, a);
  Value bNan = b.create<arith::CmpFOp>(l, P::UNO, bv, bv);
  Value tru = b.create<arith::ConstantIntOp>(l, 1, 1);
  // greater(x, y) with NaN above every number: x > y, or x NaN and y not.
  auto greater = [&](Value x, Value xNan, Value y, Value yNan) -> Value {
    Value gt = b.create<arith::CmpFOp>(l, P::OGT, x, y);
    Value nanOnly =
        b.create<arith::AndIOp>(l, xNan, b.create<arith::XOrIOp>(l, yNan, tru));
    return b.create<arith::OrIOp>(l, gt, nanOnly);
  };
  Value better =
      largest ? greater(a, aNan, bv, bNan) : greater(bv, bNan, a, aNan);
  Value eq =
      b.create<arith::OrIOp>(l, b.create<arith::CmpFOp>(l, P::OEQ, a, bv),
                             b.create<arith::AndIOp>(l, aNan, bNan));
  return b.create<arith::OrIOp>(l, better,
                                b.create<arith::AndIOp>(l, eq, lowerIndex));
}

struct TopKLowering : OpRewritePattern<onnx::TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TopKOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto vType = tensorType(op.getValues());
    auto iType = tensorType(op.getIndices());
    int64_t rank = xType.getRank();
    if (rank == 0)
      return unsupported(op, "TopK needs an input of rank 1 or more");
    Type et = xType.getElementType();
    if (!isFloat(et) && !isa<IntegerType>(et))
      return unsupported(op, "TopK needs a numeric input");
    if (!iType.getElementType().isInteger(64))
      return unsupported(op, "TopK indices must be int64");
    int64_t axis =
        onnx::normalizeAxis(static_cast<int64_t>(op.getAxis()), rank);
    int64_t r = xType.getDimSize(axis), k = vType.getDimSize(axis);
    if (k > r)
      return unsupported(op, "K is larger than the axis");
    bool largest = op.getLargest() != 0;
    bool isUnsigned = isUnsignedOperand(op, 0);

    // K decides the output shape: a constant must match it, a run-time K is
    // checked.
    SmallVector<int64_t> kValues;
    if (succeeded(getConstantInts(op.getK(), kValues))) {
      if (kValues.size() != 1 || kValues[0] != k)
        return unsupported(op, "K does not match the static output shape");
    } else {
      auto kType = tensorType(op.getK());
      if (kType.getNumElements() != 1)
        return unsupported(op, "K must have one element");
      Value kScalar =
          reshapeTo(rewriter, loc, op.getK(),
                    RankedTensorType::get({}, kType.getElementType()));
      Value kv = rewriter.create<tensor::ExtractOp>(loc, kScalar);
      Value ok = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, kv,
          createScalar(rewriter, loc, kv.getType(), k));
      rewriter.create<cf::AssertOp>(
          loc, ok, "TopK: K does not match the static output shape");
    }

    if (k == 0) {
      rewriter.replaceOp(op, {createEmpty(rewriter, loc, vType),
                              createEmpty(rewriter, loc, iType)});
      return success();
    }

    // View the input as [outer, r, inner] and the outputs as [outer, k,
    // inner].
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < axis; ++i)
      outer *= xType.getDimSize(i);
    for (int64_t i = axis + 1; i < rank; ++i)
      inner *= xType.getDimSize(i);
    Value x = reshapeTo(rewriter, loc, op.getX(),
                        RankedTensorType::get({outer, r, inner}, et));
    auto v3Type = RankedTensorType::get({outer, k, inner}, et);
    auto i3Type =
        RankedTensorType::get({outer, k, inner}, rewriter.getI64Type());
    Value values = createEmpty(rewriter, loc, v3Type);
    Value indices = createEmpty(rewriter, loc, i3Type);

    // For each slice, pick K times the best element that ranks after the
    // previous pick (prevJ < 0: nothing picked yet).
    auto slice = [&](OpBuilder &b, Location l, Value o, Value in,
                     ValueRange outs) -> SmallVector<Value> {
      Value none = b.create<arith::ConstantIndexOp>(l, -1);
      Value zero = b.create<arith::ConstantIndexOp>(l, 0);
      Value first = b.create<tensor::ExtractOp>(l, x, ValueRange{o, zero, in});
      auto picks = buildFor(
          b, l, k, ValueRange{outs[0], outs[1], first, none},
          [&](OpBuilder &b1, Location l1, Value kk, ValueRange a1) {
            Value prevV = a1[2], prevJ = a1[3];
            auto scan = buildFor(
                b1, l1, r, ValueRange{first, none},
                [&](OpBuilder &b2, Location l2, Value j, ValueRange a2) {
                  Value bestV = a2[0], bestJ = a2[1];
                  Value v =
                      b2.create<tensor::ExtractOp>(l2, x, ValueRange{o, j, in});
                  Value noPrev = b2.create<arith::CmpIOp>(
                      l2, arith::CmpIPredicate::slt, prevJ, zero);
                  Value eligible = b2.create<arith::OrIOp>(
                      l2, noPrev,
                      ranksBefore(b2, l2, prevV, prevJ, v, j, largest,
                                  isUnsigned));
                  Value noBest = b2.create<arith::CmpIOp>(
                      l2, arith::CmpIPredicate::slt, bestJ, zero);
                  Value beats = b2.create<arith::OrIOp>(
                      l2, noBest,
                      ranksBefore(b2, l2, v, j, bestV, bestJ, largest,
                                  isUnsigned));
                  Value take = b2.create<arith::AndIOp>(l2, eligible, beats);
                  return SmallVector<Value>{
                      b2.create<arith::SelectOp>(l2, take, v, bestV),
                      b2.create<arith::SelectOp>(l2, take, j, bestJ)};
                });
            Value bestV = scan.getResult(0), bestJ = scan.getResult(1);
            Value vals = b1.create<tensor::InsertOp>(l1, bestV, a1[0],
                                                     ValueRange{o, kk, in});
            Value idx = b1.create<tensor::InsertOp>(
                l1, b1.create<arith::IndexCastOp>(l1, b1.getI64Type(), bestJ),
                a1[1], ValueRange{o, kk, in});
            return SmallVector<Value>{vals, idx, bestV, bestJ};
          });
      return {picks.getResult(0), picks.getResult(1)};
    };
    auto loops = buildFor(
        rewriter, loc, outer, ValueRange{values, indices},
        [&](OpBuilder &b, Location l, Value o, ValueRange a) {
          return SmallVector<Value>(
              buildFor(b, l, inner, a,
                       [&](OpBuilder &b1, Location l1, Value in,
                           ValueRange a1) { return slice(b1, l1, o, in, a1); })
                  .getResults());
        });
    rewriter.replaceOp(op,
                       {reshapeTo(rewriter, loc, loops.getResult(0), vType),
                        reshapeTo(rewriter, loc, loops.getResult(1), iType)});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ReverseSequence
//===----------------------------------------------------------------------===//

/// Asserts at run time that every element of the int64 vector `v` lies in
/// [lo, hi]: one reduction to an i1, then cf.assert.
static void assertAllInRange(OpBuilder &b, Location loc, Value v, int64_t lo,
                             int64_t hi, StringRef message) {
  auto type = tensorType(v);
  auto okType = RankedTensorType::get({}, b.getI1Type());
  Value init =
      createFilled(b, loc, okType, b.create<arith::ConstantIntOp>(loc, 1, 1));
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(type.getRank()),
      AffineMap::get(type.getRank(), 0, {}, b.getContext())};
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::reduction);
  Value ok =
      b.create<linalg::GenericOp>(
           loc, TypeRange{okType}, v, init, maps, iterators,
           [&](OpBuilder &nb, Location l, ValueRange args) {
             Type et = args[0].getType();
             Value geLo =
                 nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, args[0],
                                          createScalar(nb, l, et, lo));
             Value leHi =
                 nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, args[0],
                                          createScalar(nb, l, et, hi));
             Value both = nb.create<arith::AndIOp>(l, geLo, leHi);
             nb.create<linalg::YieldOp>(
                 l,
                 ValueRange{
                     nb.create<arith::AndIOp>(l, both, args[1]).getResult()});
           })
          .getResult(0);
  b.create<cf::AssertOp>(loc, b.create<tensor::ExtractOp>(loc, ok), message);
}

struct ReverseSequenceLowering : OpRewritePattern<onnx::ReverseSequenceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ReverseSequenceOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getInput());
    auto yType = tensorType(op.getY());
    auto lType = tensorType(op.getSequenceLens());
    int64_t rank = xType.getRank();
    if (rank < 2)
      return unsupported(op,
                         "ReverseSequence needs an input of rank 2 or more");
    int64_t batchAxis =
        onnx::normalizeAxis(static_cast<int64_t>(op.getBatchAxis()), rank);
    int64_t timeAxis =
        onnx::normalizeAxis(static_cast<int64_t>(op.getTimeAxis()), rank);
    if (batchAxis == timeAxis)
      return unsupported(op, "batch_axis and time_axis must differ");
    int64_t steps = xType.getDimSize(timeAxis);
    if (lType.getRank() != 1 ||
        lType.getDimSize(0) != xType.getDimSize(batchAxis) ||
        !isa<IntegerType>(lType.getElementType()))
      return unsupported(op, "sequence_lens must be an integer vector with "
                             "one length per batch entry");

    SmallVector<int64_t> lens;
    if (succeeded(getConstantInts(op.getSequenceLens(), lens))) {
      for (int64_t len : lens)
        if (len < 0 || len > steps)
          return unsupported(op, "a sequence length exceeds the time axis");
    } else {
      assertAllInRange(rewriter, loc, op.getSequenceLens(), 0, steps,
                       "ReverseSequence: a sequence length is outside "
                       "[0, time steps]");
    }

    // y[..., t, ...] = x[..., t < len[b] ? len[b] - 1 - t : t, ...], with
    // the source index clamped so a bad length never reads out of bounds.
    Value x = op.getInput();
    Value y = buildIndexed(
        rewriter, loc, yType, op.getSequenceLens(),
        AffineMap::get(rank, 0, {rewriter.getAffineDimExpr(batchAxis)},
                       rewriter.getContext()),
        [&](OpBuilder &b, Location l, ValueRange args, ValueRange idx) {
          Value len =
              b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          Value t = idx[timeAxis];
          Value one = b.create<arith::ConstantIndexOp>(l, 1);
          Value reversed = b.create<arith::SubIOp>(
              l, b.create<arith::SubIOp>(l, len, one), t);
          Value inside =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, t, len);
          Value src = b.create<arith::SelectOp>(l, inside, reversed, t);
          src = b.create<arith::MaxSIOp>(
              l, src, b.create<arith::ConstantIndexOp>(l, 0));
          src = b.create<arith::MinSIOp>(
              l, src, b.create<arith::ConstantIndexOp>(l, steps - 1));
          SmallVector<Value> at(idx.begin(), idx.end());
          at[timeAxis] = src;
          return b.create<tensor::ExtractOp>(l, x, at).getResult();
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void kiln::populateSortPatterns(RewritePatternSet &patterns) {
  patterns.add<TopKLowering, ReverseSequenceLowering>(patterns.getContext());
}
