//===- Quantize.cpp - Lower onnx quantisation ops -------------------------===//
//
// This file implements the lowering of QuantizeLinear, DequantizeLinear and
// DynamicQuantizeLinear as elementwise generics. Per-axis scales and zero
// points are reshaped to broadcast along their axis; rounding is half to
// even and results saturate to the integer type's range, as ONNX specifies.
// MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv widen their
// 8-bit operands to i32 minus the zero points and build an i32 onnx.MatMul
// or onnx.Conv (lowered like the float ones); the QLinear ops then
// requantize the i32 accumulator to the output's scale and zero point.
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

//===----------------------------------------------------------------------===//
// Integer and quantized products
//===----------------------------------------------------------------------===//

/// Whether `from` broadcasts to `to` with numpy's (one-directional) rules.
static bool broadcastsTo(RankedTensorType from, ArrayRef<int64_t> to) {
  int64_t offset = static_cast<int64_t>(to.size()) - from.getRank();
  if (offset < 0)
    return false;
  for (int64_t i = 0; i < from.getRank(); ++i)
    if (from.getDimSize(i) != 1 && from.getDimSize(i) != to[offset + i])
      return false;
  return true;
}

/// Aligns a zero point or scale for broadcasting against a tensor of
/// `shape`: one element becomes a scalar; a vector as long as dim `vecAxis`
/// (-1: none) gets trailing unit dims so that it runs along that dim (per
/// row, column or channel); any other shape must broadcast as it is.
static FailureOr<Value> alignParam(OpBuilder &b, Location loc, Value v,
                                   ArrayRef<int64_t> shape, int64_t vecAxis) {
  auto t = tensorType(v);
  Type et = t.getElementType();
  if (t.getNumElements() == 1)
    return reshapeTo(b, loc, v, RankedTensorType::get({}, et));
  if (t.getRank() == 1 && vecAxis >= 0 && t.getDimSize(0) == shape[vecAxis]) {
    SmallVector<int64_t> aligned{t.getDimSize(0)};
    aligned.append(shape.size() - vecAxis - 1, 1);
    return reshapeTo(b, loc, v, RankedTensorType::get(aligned, et));
  }
  if (broadcastsTo(t, shape))
    return v;
  return failure();
}

/// x - zero_point, widened to i32 elementwise (`zp`, aligned to x, may be
/// null); ONNX gives both the same 8-bit type.
static Value subtractZeroPoint(OpBuilder &b, Location loc, Value x, Value zp,
                               bool isUnsigned) {
  auto xType = tensorType(x);
  auto type = RankedTensorType::get(xType.getShape(), b.getI32Type());
  SmallVector<Value> inputs{x};
  if (zp)
    inputs.push_back(zp);
  return buildElementwise(
      b, loc, type, inputs, [&](OpBuilder &nb, Location l, ValueRange args) {
        Type i32 = nb.getI32Type();
        Value v = convertScalar(nb, l, args[0], i32, isUnsigned, false);
        if (args.size() == 1)
          return v;
        return nb
            .create<arith::SubIOp>(
                l, v, convertScalar(nb, l, args[1], i32, isUnsigned, false))
            .getResult();
      });
}

/// The vector axis of a matrix operand's per-row (A) or per-column (B)
/// parameters in a tensor of rank `rank`, or -1 for a 1-d operand.
static int64_t matrixAxis(int64_t operandRank, int64_t rank, bool perRow) {
  if (operandRank < 2)
    return -1;
  return perRow ? rank - 2 : rank - 1;
}

/// Widens a MatMulInteger or QLinearMatMul operand (input `index` of `op`)
/// to i32 minus its zero point (input `zpIndex`, may be none).
static FailureOr<Value> matmulOperand(OpBuilder &b, Operation *op,
                                      unsigned index, unsigned zpIndex,
                                      bool perRow) {
  Value x = op->getOperand(index), zp = op->getOperand(zpIndex);
  auto xType = tensorType(x);
  bool u = isUnsignedOperand(op, index);
  Value aligned;
  if (!onnx::isNoValue(zp)) {
    auto r = alignParam(b, op->getLoc(), zp, xType.getShape(),
                        matrixAxis(xType.getRank(), xType.getRank(), perRow));
    if (failed(r))
      return failure();
    aligned = *r;
  }
  return subtractZeroPoint(b, op->getLoc(), x, aligned, u);
}

/// MatMulInteger as an i32 onnx.MatMul of the widened operands, which the
/// MatMul lowering turns into linalg.(batch_)matmul.
struct MatMulIntegerLowering : OpRewritePattern<onnx::MatMulIntegerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulIntegerOp op,
                                PatternRewriter &rewriter) const override {
    auto yType = tensorType(op.getY());
    if (!yType.getElementType().isInteger(32))
      return unsupported(op, "MatMulInteger's output must be int32");
    auto a = matmulOperand(rewriter, op, 0, 2, /*perRow=*/true);
    if (failed(a))
      return unsupported(op, "a_zero_point must be a scalar or one per row");
    auto b = matmulOperand(rewriter, op, 1, 3, /*perRow=*/false);
    if (failed(b))
      return unsupported(op, "b_zero_point must be a scalar or one per column");
    rewriter.replaceOpWithNewOp<onnx::MatMulOp>(op, yType, *a, *b);
    return success();
  }
};

/// Requantizes an i32 accumulator: saturate(round(acc * scale) + y_zp) with
/// scale = sa * sb / sy (each aligned to the accumulator), in f32 as ONNX
/// Runtime does.
static Value requantize(OpBuilder &b, Location loc, Value acc, Value sa,
                        Value sb, Value sy, Value yzp, RankedTensorType yType,
                        bool isUnsigned) {
  Type it = yType.getElementType();
  return buildElementwise(
      b, loc, yType, ValueRange{acc, sa, sb, sy, yzp},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Type f32 = nb.getF32Type();
        Value scale = nb.create<arith::DivFOp>(
            l, nb.create<arith::MulFOp>(l, args[1], args[2]), args[3]);
        Value v = nb.create<arith::MulFOp>(
            l, convertScalar(nb, l, args[0], f32, false, false), scale);
        return quantizeScalar(nb, l, v, args[4], it, isUnsigned);
      });
}

struct QLinearMatMulLowering : OpRewritePattern<onnx::QLinearMatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::QLinearMatMulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto yType = tensorType(op.getY());
    if (!isa<IntegerType>(yType.getElementType()))
      return unsupported(op, "QLinearMatMul's output must be 8-bit integers");
    auto a = matmulOperand(rewriter, op, 0, 2, /*perRow=*/true);
    if (failed(a))
      return unsupported(op, "a_zero_point must be a scalar or one per row");
    auto b = matmulOperand(rewriter, op, 3, 5, /*perRow=*/false);
    if (failed(b))
      return unsupported(op, "b_zero_point must be a scalar or one per column");
    auto acc = rewriter.create<onnx::MatMulOp>(
        loc, RankedTensorType::get(yType.getShape(), rewriter.getI32Type()), *a,
        *b);
    // The scales of A and B align with Y's rows and columns.
    int64_t rank = yType.getRank();
    auto sa = alignParam(
        rewriter, loc, op.getAScale(), yType.getShape(),
        matrixAxis(tensorType(op.getA()).getRank(), rank, /*perRow=*/true));
    auto sb = alignParam(
        rewriter, loc, op.getBScale(), yType.getShape(),
        matrixAxis(tensorType(op.getB()).getRank(), rank, /*perRow=*/false));
    auto sy = alignParam(rewriter, loc, op.getYScale(), yType.getShape(), -1);
    auto zy =
        alignParam(rewriter, loc, op.getYZeroPoint(), yType.getShape(), -1);
    if (failed(sa) || failed(sb) || failed(sy) || failed(zy))
      return unsupported(op, "scales and zero points must be scalars or run "
                             "along the rows of A and the columns of B");
    rewriter.replaceOp(op, requantize(rewriter, loc, acc, *sa, *sb, *sy, *zy,
                                      yType, isUnsignedResult(op, 0)));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Integer and quantized convolutions
//===----------------------------------------------------------------------===//

/// Widens a ConvInteger or QLinearConv input and weight to i32 minus their
/// zero points (x's per tensor, w's per tensor or per output channel).
/// Padding the widened input with 0 then pads x with its zero point, as
/// ONNX specifies.
static LogicalResult convOperands(OpBuilder &b, Operation *op, unsigned xIndex,
                                  unsigned xzpIndex, unsigned wIndex,
                                  unsigned wzpIndex, Value &x32, Value &w32) {
  Location loc = op->getLoc();
  Value x = op->getOperand(xIndex), w = op->getOperand(wIndex);
  Value xzp = op->getOperand(xzpIndex), wzp = op->getOperand(wzpIndex);
  Value xAligned, wAligned;
  if (!onnx::isNoValue(xzp)) {
    if (tensorType(xzp).getNumElements() != 1)
      return unsupported(op, "x_zero_point must be a scalar");
    xAligned =
        reshapeTo(b, loc, xzp,
                  RankedTensorType::get({}, tensorType(xzp).getElementType()));
  }
  if (!onnx::isNoValue(wzp)) {
    auto r = alignParam(b, loc, wzp, tensorType(w).getShape(), 0);
    if (failed(r))
      return unsupported(
          op, "w_zero_point must be a scalar or one per output channel");
    wAligned = *r;
  }
  x32 = subtractZeroPoint(b, loc, x, xAligned, isUnsignedOperand(op, xIndex));
  w32 = subtractZeroPoint(b, loc, w, wAligned, isUnsignedOperand(op, wIndex));
  return success();
}

/// An i32 onnx.Conv with the window attributes of `op` (ConvInteger or
/// QLinearConv), lowered by the Conv lowering (im2col + matmul).
template <typename OpTy>
static Value buildIntegerConv(OpBuilder &b, OpTy op, Value x32, Value w32,
                              Value bias) {
  auto yType = tensorType(op.getY());
  return b.create<onnx::ConvOp>(
      op.getLoc(), RankedTensorType::get(yType.getShape(), b.getI32Type()), x32,
      w32, bias, op.getAutoPadAttr(), op.getDilationsAttr(), op.getGroupAttr(),
      op.getKernelShapeAttr(), op.getPadsAttr(), op.getStridesAttr());
}

struct ConvIntegerLowering : OpRewritePattern<onnx::ConvIntegerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConvIntegerOp op,
                                PatternRewriter &rewriter) const override {
    if (!tensorType(op.getY()).getElementType().isInteger(32))
      return unsupported(op, "ConvInteger's output must be int32");
    Value x32, w32;
    if (failed(convOperands(rewriter, op, 0, 2, 1, 3, x32, w32)))
      return failure();
    Value none =
        rewriter.create<onnx::NoValueOp>(op.getLoc(), rewriter.getNoneType());
    rewriter.replaceOp(op, buildIntegerConv(rewriter, op, x32, w32, none));
    return success();
  }
};

struct QLinearConvLowering : OpRewritePattern<onnx::QLinearConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::QLinearConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto yType = tensorType(op.getY());
    if (!isa<IntegerType>(yType.getElementType()) || yType.getRank() < 3)
      return unsupported(op, "QLinearConv's output must be 8-bit integers "
                             "with spatial dims");
    if (!onnx::isNoValue(op.getB()) &&
        !tensorType(op.getB()).getElementType().isInteger(32))
      return unsupported(op, "QLinearConv's bias must be int32");
    Value x32, w32;
    if (failed(convOperands(rewriter, op, 0, 2, 3, 5, x32, w32)))
      return failure();
    Value acc = buildIntegerConv(rewriter, op, x32, w32, op.getB());
    auto sx = alignParam(rewriter, loc, op.getXScale(), yType.getShape(), -1);
    auto sw = alignParam(rewriter, loc, op.getWScale(), yType.getShape(), 1);
    auto sy = alignParam(rewriter, loc, op.getYScale(), yType.getShape(), -1);
    auto zy =
        alignParam(rewriter, loc, op.getYZeroPoint(), yType.getShape(), -1);
    if (failed(sx) || failed(sw) || failed(sy) || failed(zy))
      return unsupported(op, "scales and zero points must be scalars (w's may "
                             "be one per output channel)");
    rewriter.replaceOp(op, requantize(rewriter, loc, acc, *sx, *sw, *sy, *zy,
                                      yType, isUnsignedResult(op, 0)));
    return success();
  }
};

} // namespace

void kiln::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLowering, DequantizeLowering, DynamicQuantizeLowering,
               MatMulIntegerLowering, QLinearMatMulLowering,
               ConvIntegerLowering, QLinearConvLowering>(patterns.getContext());
}
