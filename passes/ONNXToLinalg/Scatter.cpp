//===- Scatter.cpp - Lower onnx gather/scatter by index tuples ------------===//
//
// This file implements GatherND (one generic extracting at index tuples),
// ScatterElements and ScatterND. Scatters have ONNX's sequential semantics
// (later updates win, or accumulate), so they are scf.for nests over the
// updates carrying the output tensor; bufferization updates it in place.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

namespace {

static bool isKnownReduction(StringRef r) {
  return r == "none" || r == "add" || r == "mul" || r == "max" || r == "min";
}

/// Combines the current value and an update per `reduction` (known).
static Value combine(OpBuilder &b, Location l, StringRef reduction, Value cur,
                     Value upd) {
  bool f = isFloat(cur.getType());
  if (reduction == "none")
    return upd;
  if (reduction == "add")
    return f ? b.create<arith::AddFOp>(l, cur, upd).getResult()
             : b.create<arith::AddIOp>(l, cur, upd).getResult();
  if (reduction == "mul")
    return f ? b.create<arith::MulFOp>(l, cur, upd).getResult()
             : b.create<arith::MulIOp>(l, cur, upd).getResult();
  if (reduction == "max")
    return f ? b.create<arith::MaximumFOp>(l, cur, upd).getResult()
             : b.create<arith::MaxSIOp>(l, cur, upd).getResult();
  assert(reduction == "min" && "reduction checked by the caller");
  return f ? b.create<arith::MinimumFOp>(l, cur, upd).getResult()
           : b.create<arith::MinSIOp>(l, cur, upd).getResult();
}

/// Builds a loop nest over `shape` carrying `init`; `body` gets the
/// induction variables and the carried tensor and returns the new one.
static Value buildLoopNest(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value init,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
  SmallVector<Value> ivs;
  std::function<Value(OpBuilder &, Location, size_t, Value)> nest =
      [&](OpBuilder &nb, Location l, size_t d, Value carried) -> Value {
    if (d == shape.size())
      return body(nb, l, ivs, carried);
    Value lb = nb.create<arith::ConstantIndexOp>(l, 0);
    Value ub = nb.create<arith::ConstantIndexOp>(l, shape[d]);
    Value one = nb.create<arith::ConstantIndexOp>(l, 1);
    auto loop = nb.create<scf::ForOp>(
        l, lb, ub, one, ValueRange{carried},
        [&](OpBuilder &lb2, Location l2, Value iv, ValueRange args) {
          ivs.push_back(iv);
          Value next = nest(lb2, l2, d + 1, args[0]);
          ivs.pop_back();
          lb2.create<scf::YieldOp>(l2, next);
        });
    return loop.getResult(0);
  };
  return nest(b, loc, 0, init);
}

struct GatherNDLowering : OpRewritePattern<onnx::GatherNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GatherNDOp op,
                                PatternRewriter &rewriter) const override {
    auto dataType = tensorType(op.getData());
    auto idxType = tensorType(op.getIndices());
    auto outType = tensorType(op.getOutput());
    int64_t q = idxType.getRank(), k = idxType.getDimSize(q - 1);
    int64_t batch = op.getBatchDims();
    Value data = op.getData(), indices = op.getIndices();
    int64_t rank = outType.getRank();
    Value result = buildIndexed(
        rewriter, op.getLoc(), outType, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange out) -> Value {
          // Output dims: indices.shape[:-1] then data.shape[batch + k:].
          SmallVector<Value> at(out.begin(), out.begin() + batch);
          SmallVector<Value> tuple(out.begin(), out.begin() + (q - 1));
          for (int64_t j = 0; j < k; ++j) {
            tuple.push_back(b.create<arith::ConstantIndexOp>(l, j));
            Value v = b.create<tensor::ExtractOp>(l, indices, tuple);
            tuple.pop_back();
            at.push_back(clampIndex(b, l, v, dataType.getDimSize(batch + j)));
          }
          for (int64_t i = q - 1; i < rank; ++i)
            at.push_back(out[i]);
          return b.create<tensor::ExtractOp>(l, data, at);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ScatterElementsLowering : OpRewritePattern<onnx::ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    auto dataType = tensorType(op.getData());
    auto updType = tensorType(op.getUpdates());
    int64_t axis = onnx::normalizeAxis(op.getAxis(), dataType.getRank());
    if (axis < 0)
      return unsupported(op, "axis out of range");
    StringRef reduction = op.getReduction();
    Value indices = op.getIndices(), updates = op.getUpdates();
    if (!isKnownReduction(reduction))
      return unsupported(op, "unknown reduction '" + reduction + "'");
    Value result = buildLoopNest(
        rewriter, op.getLoc(), updType.getShape(), op.getData(),
        [&](OpBuilder &b, Location l, ValueRange ivs, Value out) -> Value {
          SmallVector<Value> at(ivs.begin(), ivs.end());
          at[axis] =
              clampIndex(b, l, b.create<tensor::ExtractOp>(l, indices, ivs),
                         dataType.getDimSize(axis));
          Value upd = b.create<tensor::ExtractOp>(l, updates, ivs);
          Value cur = b.create<tensor::ExtractOp>(l, out, at);
          return b.create<tensor::InsertOp>(
              l, combine(b, l, reduction, cur, upd), out, at);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ScatterNDLowering : OpRewritePattern<onnx::ScatterNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ScatterNDOp op,
                                PatternRewriter &rewriter) const override {
    auto dataType = tensorType(op.getData());
    auto idxType = tensorType(op.getIndices());
    auto updType = tensorType(op.getUpdates());
    int64_t q = idxType.getRank(), k = idxType.getDimSize(q - 1);
    StringRef reduction = op.getReduction();
    Value indices = op.getIndices(), updates = op.getUpdates();
    if (!isKnownReduction(reduction))
      return unsupported(op, "unknown reduction '" + reduction + "'");
    Value result = buildLoopNest(
        rewriter, op.getLoc(), updType.getShape(), op.getData(),
        [&](OpBuilder &b, Location l, ValueRange ivs, Value out) -> Value {
          SmallVector<Value> tuple(ivs.begin(), ivs.begin() + (q - 1)), at;
          for (int64_t j = 0; j < k; ++j) {
            tuple.push_back(b.create<arith::ConstantIndexOp>(l, j));
            at.push_back(
                clampIndex(b, l, b.create<tensor::ExtractOp>(l, indices, tuple),
                           dataType.getDimSize(j)));
            tuple.pop_back();
          }
          for (size_t i = q - 1; i < ivs.size(); ++i)
            at.push_back(ivs[i]);
          Value upd = b.create<tensor::ExtractOp>(l, updates, ivs);
          Value cur = b.create<tensor::ExtractOp>(l, out, at);
          return b.create<tensor::InsertOp>(
              l, combine(b, l, reduction, cur, upd), out, at);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Window functions, evaluated at compile time (the length is static).
template <typename OpTy> struct WindowLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op.getOutput());
    if (type.getRank() != 1 || !isFloat(type.getElementType()))
      return unsupported(op, "window functions produce a 1-d float tensor");
    int64_t size = type.getDimSize(0);
    double n = op.getPeriodic() ? size : size - 1;
    SmallVector<APFloat> values;
    auto &sem = cast<FloatType>(type.getElementType()).getFloatSemantics();
    for (int64_t i = 0; i < size; ++i) {
      double x = 2 * M_PI * i / n, v;
      if (std::is_same<OpTy, onnx::HannWindowOp>::value)
        v = 0.5 - 0.5 * std::cos(x);
      else if (std::is_same<OpTy, onnx::HammingWindowOp>::value)
        v = 25.0 / 46 - 21.0 / 46 * std::cos(x);
      else
        v = 0.42 - 0.5 * std::cos(x) + 0.08 * std::cos(2 * x);
      APFloat f(v);
      bool lost;
      f.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      values.push_back(f);
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, values));
    return success();
  }
};

} // namespace

void kiln::populateScatterPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherNDLowering, ScatterElementsLowering, ScatterNDLowering,
               WindowLowering<onnx::BlackmanWindowOp>,
               WindowLowering<onnx::HammingWindowOp>,
               WindowLowering<onnx::HannWindowOp>>(patterns.getContext());
}
