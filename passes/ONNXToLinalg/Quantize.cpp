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
#include "passes/Passes.h"

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

/// An output clamp [lo, hi] inside the integer type's range; none: the
/// whole range.
using Clamp = std::optional<std::pair<int64_t, int64_t>>;

/// The clamp a QLinearConv carries (kClampAttr), if any.
static Clamp clampOf(Operation *op) {
  auto bounds = op->getAttrOfType<DenseI64ArrayAttr>(kClampAttr);
  if (!bounds || bounds.size() != 2)
    return std::nullopt;
  return std::make_pair(bounds[0], bounds[1]);
}

/// saturate(roundeven(v) + zp) in the integer type `it`, within `clamp`.
static Value quantizeScalar(OpBuilder &b, Location l, Value scaled, Value zp,
                            Type it, bool isUnsigned, Clamp clamp = {}) {
  Type f32 = b.getF32Type();
  Value r = b.create<math::RoundEvenOp>(l, scaled);
  if (zp)
    r = b.create<arith::AddFOp>(
        l, r, convertScalar(b, l, zp, f32, isUnsigned, false));
  unsigned w = it.getIntOrFloatBitWidth();
  double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, w - 1);
  double hi = isUnsigned ? std::ldexp(1.0, w) - 1 : std::ldexp(1.0, w - 1) - 1;
  if (clamp) {
    lo = std::max<double>(lo, clamp->first);
    hi = std::min<double>(hi, clamp->second);
  }
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
          // The difference is exact in i64 for every ONNX integer input,
          // in i32 for 8- and 16-bit ones (twice the lanes per vector).
          Type wide = xType.getElementType().getIntOrFloatBitWidth() <= 16
                          ? b.getI32Type()
                          : b.getI64Type();
          Value x = convertScalar(b, l, args[0], wide, u, false);
          if (hasZp)
            x = b.create<arith::SubIOp>(
                l, x, convertScalar(b, l, args[2], wide, u, false));
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
                        bool isUnsigned, Clamp clamp = {}) {
  Type it = yType.getElementType();
  return buildElementwise(
      b, loc, yType, ValueRange{acc, sa, sb, sy, yzp},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Type f32 = nb.getF32Type();
        Value scale = nb.create<arith::DivFOp>(
            l, nb.create<arith::MulFOp>(l, args[1], args[2]), args[3]);
        Value v = nb.create<arith::MulFOp>(
            l, convertScalar(nb, l, args[0], f32, false, false), scale);
        return quantizeScalar(nb, l, v, args[4], it, isUnsigned, clamp);
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
    rewriter.replaceOp(op,
                       requantize(rewriter, loc, acc, *sx, *sw, *sy, *zy, yType,
                                  isUnsignedResult(op, 0), clampOf(op)));
    return success();
  }
};

/// The values of an optional constant 8-bit zero point (unsigned when
/// `isUnsigned`): {0} when it is absent, failure when not a constant.
static LogicalResult getZeroPoints(Value zp, bool isUnsigned,
                                   SmallVectorImpl<int64_t> &out) {
  if (onnx::isNoValue(zp)) {
    out.push_back(0);
    return success();
  }
  if (failed(getConstantInts(zp, out)))
    return failure();
  if (isUnsigned)
    for (int64_t &v : out)
      v &= 0xff;
  return success();
}

/// init[m, n] + sum over k of sext(a[m, k]) * zext(b[k, n]): signed 8-bit
/// weights by unsigned 8-bit activations into i32, the form
/// kiln-lower-matmuls runs on dot-product instructions.
static Value buildInt8Matmul(OpBuilder &b, Location loc, Value a, Value bm,
                             Value init) {
  MLIRContext *ctx = b.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  SmallVector<AffineMap> maps{AffineMap::get(3, 0, {m, k}, ctx),
                              AffineMap::get(3, 0, {k, n}, ctx),
                              AffineMap::get(3, 0, {m, n}, ctx)};
  using IT = utils::IteratorType;
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{init.getType()}, ValueRange{a, bm}, ValueRange{init},
          maps, ArrayRef<IT>{IT::parallel, IT::parallel, IT::reduction},
          [](OpBuilder &nb, Location l, ValueRange args) {
            Type i32 = nb.getI32Type();
            Value wa = nb.create<arith::ExtSIOp>(l, i32, args[0]);
            Value wb = nb.create<arith::ExtUIOp>(l, i32, args[1]);
            Value p = nb.create<arith::MulIOp>(l, wa, wb);
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::AddIOp>(l, args[2], p)});
          })
      .getResult(0);
}

/// QLinearConv with constant, symmetric signed 8-bit weights (per tensor or
/// per output channel) and a per-tensor input: an 8-bit convolution that
/// never widens its operands. The input is taken to unsigned (signed input
/// plus 128) and padded with its zero point; per (image, group) its im2col
/// [K, P] multiplies the weights [Fg, K] in a linalg.generic that widens
/// each byte as it multiplies (extsi of the weight, extui of the input),
/// which kiln-lower-matmuls runs on 4-byte dot-product instructions. The
/// input's zero point comes out of the sum at compile time: the i32
/// accumulator starts at bias - zx * sum(w) per output channel. It is then
/// requantized with one f32 multiplier per output channel, computed as the
/// general lowering computes it (x_scale * w_scale / y_scale, in f32), so
/// both give the same integers, and both honour a folded activation's clamp
/// (kClampAttr). Other QLinearConvs (depthwise,
/// run-time weights or scales, asymmetric weights) take the general path.
struct QLinearConvInt8Lowering : OpRewritePattern<onnx::QLinearConvOp> {
  QLinearConvInt8Lowering(MLIRContext *context)
      : OpRewritePattern(context, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(onnx::QLinearConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX()), wType = tensorType(op.getW());
    auto yType = tensorType(op.getY());
    auto i8 = rewriter.getIntegerType(8);
    if (xType.getRank() != 4 || xType.getElementType() != i8 ||
        wType.getElementType() != i8 || yType.getElementType() != i8 ||
        isUnsignedOperand(op, 3))
      return rewriter.notifyMatchFailure(op, "not an 8-bit 2-d convolution "
                                             "with signed weights");
    int64_t n = xType.getDimSize(0), c = xType.getDimSize(1);
    int64_t f = wType.getDimSize(0), g = op.getGroup();
    if (g <= 0 || c % g || f % g)
      return rewriter.notifyMatchFailure(op, "bad groups");
    bool depthwise = c == g && f == g && g > 1;
    bool xUnsigned = isUnsignedOperand(op, 0);
    bool yUnsigned = isUnsignedResult(op, 0);
    SmallVector<int64_t> zx, zw, zy, weights, bias;
    SmallVector<float> sx, sw, sy;
    if (failed(getZeroPoints(op.getXZeroPoint(), xUnsigned, zx)) ||
        failed(getZeroPoints(op.getWZeroPoint(), false, zw)) ||
        failed(getZeroPoints(op.getYZeroPoint(), yUnsigned, zy)) ||
        failed(getConstantInts(op.getW(), weights)) ||
        failed(getConstantFloats(op.getXScale(), sx)) ||
        failed(getConstantFloats(op.getWScale(), sw)) ||
        failed(getConstantFloats(op.getYScale(), sy)) ||
        (!onnx::isNoValue(op.getB()) &&
         failed(getConstantInts(op.getB(), bias))))
      return rewriter.notifyMatchFailure(op, "run-time parameters");
    if (zx.size() != 1 || zy.size() != 1 || sx.size() != 1 || sy.size() != 1 ||
        (sw.size() != 1 && (int64_t)sw.size() != f) ||
        llvm::any_of(zw, [](int64_t v) { return v != 0; }) ||
        (!bias.empty() && (int64_t)bias.size() != f))
      return rewriter.notifyMatchFailure(op, "not per-tensor input and "
                                             "symmetric weights");
    Window w;
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
    if (failed(resolveWindow(op, xType, yType, kernel, op.getPads(),
                             op.getStrides(), op.getDilations(),
                             op.getAutoPad(), w)))
      return failure();

    // The input as unsigned bytes, padded with its zero point.
    int64_t zxu = xUnsigned ? zx[0] : zx[0] + 128;
    Value xu = op.getX();
    if (!xUnsigned)
      xu = buildElementwise(
          rewriter, loc, xType, xu,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return b.create<arith::XOrIOp>(
                l, args[0],
                b.create<arith::ConstantOp>(l, b.getIntegerAttr(i8, -128)));
          });
    Value xp = padSpatial(
        rewriter, loc, xu, w,
        rewriter.create<arith::ConstantOp>(
            loc, rewriter.getIntegerAttr(i8, static_cast<int8_t>(zxu))));

    if (depthwise)
      return lowerDepthwise(op, rewriter, xp, zxu, w, weights, bias, sx, sw, sy,
                            zy[0], yUnsigned);

    // Per output channel: the accumulator's start and the multiplier.
    int64_t k = weights.size() / f;
    SmallVector<int32_t> start(f);
    SmallVector<float> multiplier(f);
    for (int64_t o = 0; o < f; ++o) {
      int64_t sum = 0;
      for (int64_t i = 0; i < k; ++i)
        sum += weights[o * k + i];
      int64_t s = (bias.empty() ? 0 : bias[o]) - zxu * sum;
      if (s < INT32_MIN || s > INT32_MAX)
        return rewriter.notifyMatchFailure(op, "bias out of range");
      start[o] = static_cast<int32_t>(s);
      float scale = sx[0] * sw[sw.size() == 1 ? 0 : o];
      multiplier[o] = scale / sy[0];
    }
    auto i32 = rewriter.getI32Type();
    auto f32 = rewriter.getF32Type();
    int64_t oh = yType.getDimSize(2), ow = yType.getDimSize(3);
    auto accType = RankedTensorType::get({n, f, oh * ow}, i32);
    // Per-channel values reach [N, F, P] through the map (n, f, p) -> (f),
    // a projected permutation: the GEMM pass fuses such ops into its
    // kernel, and reshapes move through them.
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr dn, df, dp;
    bindDims(ctx, dn, df, dp);
    AffineMap all = AffineMap::get(3, 0, {dn, df, dp}, ctx);
    AffineMap channel = AffineMap::get(3, 0, {df}, ctx);
    using IT = utils::IteratorType;
    SmallVector<IT> parallel(3, IT::parallel);
    auto perChannel = [&](Type et, auto values) -> Value {
      return rewriter.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(RankedTensorType::get({f}, et), values));
    };
    Value acc = rewriter
                    .create<linalg::GenericOp>(
                        loc, TypeRange{accType},
                        ValueRange{perChannel(i32, ArrayRef<int32_t>(start))},
                        ValueRange{createEmpty(rewriter, loc, accType)},
                        ArrayRef<AffineMap>{channel, all}, parallel,
                        [](OpBuilder &b, Location l, ValueRange args) {
                          b.create<linalg::YieldOp>(l, args[0]);
                        })
                    .getResult(0);
    Value sum = buildConvGemms(
        rewriter, loc, xp, op.getW(), acc, g, oh, ow, w,
        [](OpBuilder &b, Location l, Value ws, Value col, Value init) {
          return buildInt8Matmul(b, l, ws, col, init);
        });

    // Requantized: saturate(round(acc * multiplier) + zy), within the
    // folded activation's clamp.
    Clamp clamp = clampOf(op);
    auto yFlat = RankedTensorType::get({n, f, oh * ow}, i8);
    Value y =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{yFlat},
                ValueRange{sum, perChannel(f32, ArrayRef<float>(multiplier))},
                ValueRange{createEmpty(rewriter, loc, yFlat)},
                ArrayRef<AffineMap>{all, channel, all}, parallel,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value v = b.create<arith::MulFOp>(
                      l, convertScalar(b, l, args[0], f32, false, false),
                      args[1]);
                  b.create<linalg::YieldOp>(
                      l, quantizeScalar(b, l, v, createScalar(b, l, f32, zy[0]),
                                        i8, yUnsigned, clamp));
                })
            .getResult(0);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, y, yType));
    return success();
  }

  /// A depthwise convolution (one channel per group) of the padded bytes
  /// `xp`: kiln-lower-windows' row kernel in f32, whose products and sums
  /// are exact integers while they stay below 2^24, so the result is the
  /// i32 path's. The kernel starts from bias - zx * sum(w) and adds x * w
  /// tap by tap, so its partial sums reach |bias| plus twice the taps'
  /// largest products; the generic reads the
  /// bytes and subtracts the zero point itself (kiln.depthwise's fifth
  /// value), and the requantization after it is the kernel's epilogue.
  static LogicalResult
  lowerDepthwise(onnx::QLinearConvOp op, PatternRewriter &rewriter, Value xp,
                 int64_t zxu, const Window &w, ArrayRef<int64_t> weights,
                 ArrayRef<int64_t> bias, ArrayRef<float> sx, ArrayRef<float> sw,
                 ArrayRef<float> sy, int64_t zy, bool yUnsigned) {
    Location loc = op.getLoc();
    auto yType = tensorType(op.getY());
    int64_t n = yType.getDimSize(0), g = yType.getDimSize(1);
    int64_t oh = yType.getDimSize(2), ow = yType.getDimSize(3);
    int64_t taps = weights.size() / g;
    int64_t largest = 0;
    for (int64_t b : bias)
      largest = std::max(largest, std::abs(b));
    if (largest + 2 * taps * 255 * 128 >= (int64_t(1) << 24))
      return rewriter.notifyMatchFailure(op, "sums beyond f32's integers");
    auto f32 = rewriter.getF32Type();
    auto i8 = rewriter.getIntegerType(8);
    int64_t kh = w.kernel[0], kw = w.kernel[1];
    SmallVector<float> multiplier(g), start(g);
    for (int64_t o = 0; o < g; ++o) {
      multiplier[o] = (sx[0] * sw[sw.size() == 1 ? 0 : o]) / sy[0];
      start[o] = bias.empty() ? 0.0f : static_cast<float>(bias[o]);
    }
    auto constant = [&](ArrayRef<int64_t> shape, ArrayRef<float> values) {
      return rewriter.create<arith::ConstantOp>(
          loc,
          DenseElementsAttr::get(RankedTensorType::get(shape, f32), values));
    };
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr dn, dg, df, dc, dkh, dkw, doh, dow;
    bindDims(ctx, dn, dg, df, dc, dkh, dkw, doh, dow);
    auto accType = RankedTensorType::get({n, g, 1, oh, ow}, f32);
    using IT = utils::IteratorType;
    // The bias starts the sums (a value per plane, which the kernel loads
    // into its accumulators).
    AffineMap all5 = AffineMap::getMultiDimIdentityMap(5, ctx);
    AffineExpr en, eg, ef, eh, ew;
    bindDims(ctx, en, eg, ef, eh, ew);
    AffineMap channel5 = AffineMap::get(5, 0, {eg}, ctx);
    SmallVector<IT> parallel5(5, IT::parallel);
    Value init =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{accType}, ValueRange{constant({g}, start)},
                ValueRange{createEmpty(rewriter, loc, accType)},
                ArrayRef<AffineMap>{channel5, all5}, parallel5,
                [](OpBuilder &b, Location l, ValueRange args) {
                  b.create<linalg::YieldOp>(l, args[0]);
                })
            .getResult(0);
    SmallVector<AffineMap> maps{
        AffineMap::get(8, 0,
                       {dn, dg + dc, doh * w.strides[0] + dkh * w.dilations[0],
                        dow * w.strides[1] + dkw * w.dilations[1]},
                       ctx),
        AffineMap::get(8, 0, {dg, df, dc, dkh, dkw}, ctx),
        AffineMap::get(8, 0, {dn, dg, df, doh, dow}, ctx)};
    SmallVector<IT> iterators{IT::parallel,  IT::parallel,  IT::parallel,
                              IT::reduction, IT::reduction, IT::reduction,
                              IT::parallel,  IT::parallel};
    auto i32 = rewriter.getI32Type();
    // The weights stay bytes: each becomes f32 once per plane.
    Value wg = reshapeTo(rewriter, loc, op.getW(),
                         RankedTensorType::get({g, 1, 1, kh, kw}, i8));
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{accType}, ValueRange{xp, wg}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = b.create<arith::SubIOp>(
              l, b.create<arith::ExtUIOp>(l, i32, args[0]),
              b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(zxu)));
          Value p = b.create<arith::MulFOp>(
              l, b.create<arith::SIToFPOp>(l, f32, x),
              b.create<arith::SIToFPOp>(l, f32, args[1]));
          Value sum = b.create<arith::AddFOp>(l, args[2], p);
          b.create<linalg::YieldOp>(l, sum);
        });
    generic->setAttr(
        kDepthwiseAttr,
        rewriter.getDenseI64ArrayAttr(
            {w.strides[0], w.strides[1], w.dilations[0], w.dilations[1], zxu}));
    // Requantized: saturate(round(acc * multiplier) + zy), within the
    // folded activation's clamp.
    Clamp clamp = clampOf(op);
    auto y5 = RankedTensorType::get({n, g, 1, oh, ow}, i8);
    Value y =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{y5},
                ValueRange{generic.getResult(0), constant({g}, multiplier)},
                ValueRange{createEmpty(rewriter, loc, y5)},
                ArrayRef<AffineMap>{all5, channel5, all5}, parallel5,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value v = b.create<arith::MulFOp>(l, args[0], args[1]);
                  b.create<linalg::YieldOp>(
                      l, quantizeScalar(b, l, v, createScalar(b, l, f32, zy),
                                        i8, yUnsigned, clamp));
                })
            .getResult(0);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, y, yType));
    return success();
  }
};

} // namespace

void kiln::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns
      .add<QuantizeLowering, DequantizeLowering, DynamicQuantizeLowering,
           MatMulIntegerLowering, QLinearMatMulLowering, ConvIntegerLowering,
           QLinearConvLowering, QLinearConvInt8Lowering>(patterns.getContext());
}
