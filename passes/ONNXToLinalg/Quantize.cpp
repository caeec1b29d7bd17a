//===- Quantize.cpp - Lower onnx quantisation ops -------------------------===//
//
// This file implements the lowering of QuantizeLinear, DequantizeLinear and
// DynamicQuantizeLinear as elementwise generics. Per-axis scales and zero
// points are reshaped to broadcast along their axis; rounding is half to
// even and results saturate to the integer type's range, as ONNX specifies.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace kiln;

namespace {

/// Reshapes a scale or zero point for broadcasting against `x`: a scalar
/// stays, a 1-d per-axis vector becomes [C, 1, ...] aligned at `axis`.
static FailureOr<Value> alignToAxis(OpBuilder &b, Location loc, Value v,
                                    RankedTensorType x, int64_t axis) {
  auto t = tensorType(v);
  if (t.getNumElements() == 1)
    return reshapeTo(b, loc, v, RankedTensorType::get({}, t.getElementType()));
  if (t.getRank() != 1 || axis < 0 || t.getDimSize(0) != x.getDimSize(axis))
    return failure();
  SmallVector<int64_t> shape{t.getDimSize(0)};
  for (int64_t i = axis + 1; i < x.getRank(); ++i)
    shape.push_back(1);
  return reshapeTo(b, loc, v, RankedTensorType::get(shape, t.getElementType()));
}

/// saturate(roundeven(v) + zp) in the integer type `it`.
static Value quantizeScalar(OpBuilder &b, Location l, Value scaled, Value zp,
                            Type it, bool isUnsigned) {
  Type f32 = b.getF32Type();
  Value r = b.create<math::RoundEvenOp>(l, scaled);
  if (zp)
    r = b.create<arith::AddFOp>(
        l, r, convertScalar(b, l, zp, f32, isUnsigned, false));
  unsigned w = it.getIntOrFloatBitWidth();
  double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, w - 1);
  double hi = isUnsigned ? std::ldexp(1.0, w) - 1 : std::ldexp(1.0, w - 1) - 1;
  r = b.create<arith::MaximumFOp>(l, r, createScalar(b, l, f32, lo));
  r = b.create<arith::MinimumFOp>(l, r, createScalar(b, l, f32, hi));
  return convertScalar(b, l, r, it, false, isUnsigned);
}

struct QuantizeLowering : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    Type it = yType.getElementType();
    if (!isa<IntegerType>(it) || !isFloat(xType.getElementType()))
      return unsupported(op,
                         "QuantizeLinear needs float input, integer output");
    bool u = isUnsignedResult(op, 0) || onnx::isNoValue(op.getYZeroPoint());
    int64_t axis = xType.getRank()
                       ? onnx::normalizeAxis(op.getAxis(), xType.getRank())
                       : 0;
    auto scale = alignToAxis(rewriter, loc, op.getYScale(), xType, axis);
    if (failed(scale))
      return unsupported(op, "scale must be a scalar or a vector along axis");
    SmallVector<Value> inputs{op.getX(), *scale};
    bool hasZp = !onnx::isNoValue(op.getYZeroPoint());
    if (hasZp) {
      auto zp = alignToAxis(rewriter, loc, op.getYZeroPoint(), xType, axis);
      if (failed(zp))
        return unsupported(op, "zero point must match the scale");
      inputs.push_back(*zp);
    }
    Value y = buildElementwise(
        rewriter, loc, yType, inputs,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Type f32 = b.getF32Type();
          Value v = b.create<arith::DivFOp>(
              l, convertScalar(b, l, args[0], f32, false, false),
              convertScalar(b, l, args[1], f32, false, false));
          return quantizeScalar(b, l, v, hasZp ? args[2] : Value(), it, u);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct DequantizeLowering : OpRewritePattern<onnx::DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DequantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    if (!isa<IntegerType>(xType.getElementType()))
      return unsupported(op, "DequantizeLinear needs an integer input");
    bool u = isUnsignedOperand(op, 0);
    int64_t axis = xType.getRank()
                       ? onnx::normalizeAxis(op.getAxis(), xType.getRank())
                       : 0;
    auto scale = alignToAxis(rewriter, loc, op.getXScale(), xType, axis);
    if (failed(scale))
      return unsupported(op, "scale must be a scalar or a vector along axis");
    SmallVector<Value> inputs{op.getX(), *scale};
    bool hasZp = !onnx::isNoValue(op.getXZeroPoint());
    if (hasZp) {
      auto zp = alignToAxis(rewriter, loc, op.getXZeroPoint(), xType, axis);
      if (failed(zp))
        return unsupported(op, "zero point must match the scale");
      inputs.push_back(*zp);
    }
    Type ft = yType.getElementType();
    Value y = buildElementwise(
        rewriter, loc, yType, inputs,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          // The difference in i64 is exact for every ONNX integer input.
          Type i64 = b.getI64Type();
          Value x = convertScalar(b, l, args[0], i64, u, false);
          if (hasZp)
            x = b.create<arith::SubIOp>(
                l, x, convertScalar(b, l, args[2], i64, u, false));
          Value xf = convertScalar(b, l, x, ft, false, false);
          return b.create<arith::MulFOp>(
              l, xf, convertScalar(b, l, args[1], ft, false, false));
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct DynamicQuantizeLowering
    : OpRewritePattern<onnx::DynamicQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DynamicQuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    if (!xType.getElementType().isF32())
      return unsupported(op, "DynamicQuantizeLinear needs a float32 input");
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < xType.getRank(); ++i)
      all.push_back(i);
    auto scalar = RankedTensorType::get({}, rewriter.getF32Type());
    Value lo = reshapeTo(
        rewriter, loc,
        reduceKeepDims(rewriter, loc, op.getX(), all, ReduceKind::Min), scalar);
    Value hi = reshapeTo(
        rewriter, loc,
        reduceKeepDims(rewriter, loc, op.getX(), all, ReduceKind::Max), scalar);
    // The range always includes 0; scale = (max - min) / 255.
    Value scale = buildElementwise(
        rewriter, loc, scalar, ValueRange{lo, hi},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value zero = createScalar(b, l, b.getF32Type(), 0);
          Value mn = b.create<arith::MinimumFOp>(l, args[0], zero);
          Value mx = b.create<arith::MaximumFOp>(l, args[1], zero);
          return b.create<arith::DivFOp>(
              l, b.create<arith::SubFOp>(l, mx, mn),
              createScalar(b, l, b.getF32Type(), 255));
        });
    auto zpType = tensorType(op.getYZeroPoint());
    Type i8 = zpType.getElementType();
    Value zp = buildElementwise(
        rewriter, loc, zpType, ValueRange{lo, scale},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value mn = b.create<arith::MinimumFOp>(
              l, args[0], createScalar(b, l, b.getF32Type(), 0));
          Value v = b.create<arith::DivFOp>(l, b.create<arith::NegFOp>(l, mn),
                                            args[1]);
          return quantizeScalar(b, l, v, Value(), i8, true);
        });
    Value y = buildElementwise(
        rewriter, loc, tensorType(op.getY()), ValueRange{op.getX(), scale, zp},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value v = b.create<arith::DivFOp>(l, args[0], args[1]);
          return quantizeScalar(b, l, v, args[2], i8, true);
        });
    rewriter.replaceOp(op, {y, scale, zp});
    return success();
  }
};

} // namespace

void kiln::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLowering, DequantizeLowering, DynamicQuantizeLowering>(
      patterns.getContext());
}
