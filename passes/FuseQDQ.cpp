//===- FuseQDQ.cpp - QDQ patterns into quantized ops ----------------------===//
//
// This file implements kiln-fuse-qdq. A model in QDQ form (ONNX Runtime's
// quantizer, PyTorch's export) says "this convolution is 8-bit" with
// DequantizeLinear on its input and weights and QuantizeLinear on its
// output:
//
//   DQ(x) ─┐
//   DQ(w) ─┼─ Conv ─ [Relu | Clip] ─ Q ─ y
//   DQ(b) ─┘
//
// Run as written, that is float arithmetic between a dequantization and a
// quantization. This pass rewrites each such pattern into one QLinearConv on
// the 8-bit tensors (bias int32 at scale x_scale * w_scale, as the QDQ
// format quantizes it), which lowers to an integer kernel. A Relu or a
// Clip with constant bounds between the Conv and Q folds into the
// QLinearConv's output clamp (`kiln.clamp`, on the 8-bit scale): Q is
// monotone, so Q(clip(v, lo, hi)) = clamp(Q(v), Q(lo), Q(hi)) exactly.
// A classifier's DQ -> Gemm -> Q (weights [N, K], transB = 1) is the same
// QLinearConv as a 1x1 convolution, between reshapes; so is a transformer's
// Linear layer, DQ -> MatMul -> [Add of a bias] -> Q with constant weights
// [K, N], on the transposed activations [1, K, M, 1]. DQ -> MaxPool -> Q
// with one scale and zero point on both sides is a MaxPool of the 8-bit
// tensor: DQ and Q are monotone and Q(DQ(v)) = v, so the max commutes.
// DQ -> GlobalAveragePool -> [Flatten] -> Q sums the bytes in i32 and
// requantizes that sum once, as ONNX Runtime's QLinearGlobalAveragePool;
// DQ -> AveragePool -> Q (each window divided by the kernel's size) is a
// depthwise QLinearConv of weights 1, the sum requantized once too.
// An embedding table stored in 8 bits, Gather(DQ(table), ids), gathers the
// bytes and dequantizes only the rows it read.
// The DequantizeLinear ops stay for any other user (canonicalisation drops
// the unused ones). The result is the QDQ model's own arithmetic, but with
// the sum exact in i32 instead of rounded in f32, as ONNX Runtime runs it.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_FUSEQDQ
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// An 8-bit integer type, signed or unsigned (before kiln-onnx-signless).
static bool isByte(Type t) { return t.isInteger(8); }

/// A zero point: `zp`, or a constant 0 of `et` when it is absent.
static Value zeroPointOr(PatternRewriter &rewriter, Location loc, Value zp,
                         Type et, int64_t count) {
  if (!onnx::isNoValue(zp))
    return zp;
  auto type = RankedTensorType::get(
      count == 1 ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{count}, et);
  return rewriter.create<onnx::ConstantOp>(
      loc, type,
      DenseElementsAttr::get(type, APInt(et.getIntOrFloatBitWidth(), 0)));
}

/// The value of an 8-bit zero point (0 when absent), or none.
static std::optional<int64_t> zeroPoint(Value zp) {
  if (onnx::isNoValue(zp))
    return 0;
  auto data = getConstantData(zp);
  if (!data || data.getNumElements() != 1)
    return std::nullopt;
  APInt v = *data.getValues<APInt>().begin();
  return data.getElementType().isUnsignedInteger() ? v.getZExtValue()
                                                   : v.getSExtValue();
}

/// An absent zero point, or a constant one of zeros only.
static bool isZeroPoint0(Value zp) {
  if (onnx::isNoValue(zp))
    return true;
  auto data = getConstantData(zp);
  return data && llvm::all_of(data.getValues<APInt>(),
                              [](const APInt &v) { return v.isZero(); });
}

/// `v` reshaped to `shape` (an onnx.Reshape).
static Value reshapeTo(PatternRewriter &rewriter, Location loc, Value v,
                       ArrayRef<int64_t> shape) {
  auto shapeType = RankedTensorType::get({static_cast<int64_t>(shape.size())},
                                         rewriter.getI64Type());
  Value s = rewriter.create<onnx::ConstantOp>(
      loc, shapeType, DenseElementsAttr::get(shapeType, shape));
  auto type = RankedTensorType::get(shape, tensorType(v).getElementType());
  return rewriter.create<onnx::ReshapeOp>(loc, type, v, s,
                                          rewriter.getI64IntegerAttr(0));
}

/// The pattern FuseConv fuses, on 4-d tensors: DQ(x4) -> 1x1 Conv(DQ(w4)
/// along `wAxis`, bias) -> Q, with x4 [N, K, H, 1] dequantized as `dx`
/// says, w4 [F, K, 1, 1] with `dw`'s scale and zero point, and the result
/// quantized as `q` says. Returns Q's output, [N, F, H, 1].
static Value pointwiseQDQ(PatternRewriter &rewriter, Location loc, Value x4,
                          onnx::DequantizeLinearOp dx, Value w4,
                          onnx::DequantizeLinearOp dw, IntegerAttr wAxis,
                          Value bias, onnx::QuantizeLinearOp q) {
  auto xType = tensorType(x4), wType = tensorType(w4);
  Type ft = tensorType(dx.getY()).getElementType(); // the floats DQ gave
  auto floats = [&](RankedTensorType t) {
    return RankedTensorType::get(t.getShape(), ft);
  };
  Value xd = rewriter.create<onnx::DequantizeLinearOp>(
      loc, floats(xType), x4, dx.getXScale(), dx.getXZeroPoint(),
      dx.getAxisAttr());
  Value wd = rewriter.create<onnx::DequantizeLinearOp>(
      loc, floats(wType), w4, dw.getXScale(), dw.getXZeroPoint(), wAxis);
  SmallVector<int64_t> yShape{xType.getDimSize(0), wType.getDimSize(0),
                              xType.getDimSize(2), xType.getDimSize(3)};
  auto ones = rewriter.getI64ArrayAttr({1, 1});
  Value conv = rewriter.create<onnx::ConvOp>(
      loc, RankedTensorType::get(yShape, ft), xd, wd, bias,
      rewriter.getStringAttr("NOTSET"), ones, rewriter.getI64IntegerAttr(1),
      ones, rewriter.getI64ArrayAttr({0, 0, 0, 0}), ones);
  return rewriter.create<onnx::QuantizeLinearOp>(
      loc, RankedTensorType::get(yShape, tensorType(q.getY()).getElementType()),
      conv, q.getYScale(), q.getYZeroPoint(), q.getAxisAttr());
}

struct FuseConv : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    auto yType = tensorType(q.getY());
    Type yt = yType.getElementType();
    if (!isByte(yt) || tensorType(q.getYScale()).getNumElements() != 1)
      return failure();
    // An activation between the Conv and Q: its bounds, in floats.
    Value v = q.getX();
    std::optional<float> lo, hi;
    Operation *activation = v.getDefiningOp();
    if (auto relu = dyn_cast_or_null<onnx::ReluOp>(activation)) {
      lo = 0.0f;
      v = relu.getX();
    } else if (auto clip = dyn_cast_or_null<onnx::ClipOp>(activation)) {
      auto bound = [](Value b) -> std::optional<std::optional<float>> {
        if (onnx::isNoValue(b))
          return std::optional<float>();
        SmallVector<float> f;
        if (failed(getConstantFloats(b, f)) || f.size() != 1)
          return std::nullopt;
        return std::optional<float>(f[0]);
      };
      auto min = bound(clip.getMin()), max = bound(clip.getMax());
      if (!min || !max)
        return failure();
      lo = *min;
      hi = *max;
      v = clip.getInput();
    } else {
      activation = nullptr;
    }
    if (activation && !activation->hasOneUse())
      return failure();
    auto conv = v.getDefiningOp<onnx::ConvOp>();
    if (!conv || !conv->hasOneUse())
      return failure();
    auto dx = conv.getX().getDefiningOp<onnx::DequantizeLinearOp>();
    auto dw = conv.getW().getDefiningOp<onnx::DequantizeLinearOp>();
    if (!dx || !dw)
      return failure();
    Type xt = tensorType(dx.getX()).getElementType();
    Type wt = tensorType(dw.getX()).getElementType();
    int64_t f = tensorType(conv.getW()).getDimSize(0);
    int64_t wScales = tensorType(dw.getXScale()).getNumElements();
    if (!isByte(xt) || !isByte(wt) ||
        tensorType(dx.getXScale()).getNumElements() != 1 ||
        (wScales != 1 && (wScales != f || dw.getAxis() != 0 ||
                          tensorType(dw.getXScale()).getRank() != 1)))
      return failure();

    // The bias: int32 at scale x_scale * w_scale, zero point 0.
    Value bias = conv.getB();
    if (!onnx::isNoValue(bias)) {
      auto db = bias.getDefiningOp<onnx::DequantizeLinearOp>();
      if (!db || !tensorType(db.getX()).getElementType().isInteger(32) ||
          !isZeroPoint0(db.getXZeroPoint()))
        return failure();
      SmallVector<float> sx, sw, sb;
      if (failed(getConstantFloats(dx.getXScale(), sx)) ||
          failed(getConstantFloats(dw.getXScale(), sw)) ||
          failed(getConstantFloats(db.getXScale(), sb)) ||
          (sb.size() != 1 && (int64_t)sb.size() != f))
        return failure();
      for (int64_t o = 0; o < f; ++o) {
        float expected = sx[0] * sw[sw.size() == 1 ? 0 : o];
        float got = sb[sb.size() == 1 ? 0 : o];
        if (std::fabs(got - expected) > 1e-6f * std::fabs(expected))
          return failure();
      }
      bias = db.getX();
    }

    // The activation's bounds on the output's 8-bit scale.
    Location loc = q.getLoc();
    SmallVector<int64_t> clamp;
    if (lo || hi) {
      SmallVector<float> sy;
      auto zy = zeroPoint(q.getYZeroPoint());
      if (failed(getConstantFloats(q.getYScale(), sy)) || !zy)
        return failure();
      bool u = yt.isUnsignedInteger();
      double min = u ? 0 : -128, max = u ? 255 : 127;
      auto quantize = [&](std::optional<float> x, double dflt) -> int64_t {
        if (!x)
          return static_cast<int64_t>(dflt);
        float scaled = *x / sy[0];
        double r = std::nearbyint(static_cast<double>(scaled)) + *zy;
        return static_cast<int64_t>(std::clamp(r, min, max));
      };
      clamp = {quantize(lo, min), quantize(hi, max)};
    }

    auto fused = rewriter.create<onnx::QLinearConvOp>(
        loc, yType, dx.getX(), dx.getXScale(),
        zeroPointOr(rewriter, loc, dx.getXZeroPoint(), xt, 1), dw.getX(),
        dw.getXScale(),
        zeroPointOr(rewriter, loc, dw.getXZeroPoint(), wt, wScales),
        q.getYScale(), zeroPointOr(rewriter, loc, q.getYZeroPoint(), yt, 1),
        bias, conv.getAutoPadAttr(), conv.getDilationsAttr(),
        conv.getGroupAttr(), conv.getKernelShapeAttr(), conv.getPadsAttr(),
        conv.getStridesAttr());
    if (!clamp.empty())
      fused->setAttr(kClampAttr, rewriter.getDenseI64ArrayAttr(clamp));
    rewriter.replaceOp(q, fused.getResult());
    return success();
  }
};

/// DQ -> Gemm -> Q, a classifier (A [M, K] activations, B [N, K] constant
/// weights with transB = 1, a bias [N], alpha = beta = 1): the same
/// QLinearConv as a 1x1 convolution of M images of K channels, between
/// two reshapes.
struct FuseGemm : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    auto gemm = q.getX().getDefiningOp<onnx::GemmOp>();
    if (!gemm || !gemm->hasOneUse() || gemm.getTransA() != 0 ||
        gemm.getTransB() != 1 || gemm.getAlpha().convertToFloat() != 1.0f ||
        gemm.getBeta().convertToFloat() != 1.0f)
      return failure();
    auto da = gemm.getA().getDefiningOp<onnx::DequantizeLinearOp>();
    auto dw = gemm.getB().getDefiningOp<onnx::DequantizeLinearOp>();
    if (!da || !dw || tensorType(gemm.getA()).getRank() != 2 ||
        tensorType(gemm.getB()).getRank() != 2 ||
        (!onnx::isNoValue(gemm.getC()) &&
         tensorType(gemm.getC()).getRank() != 1))
      return failure();
    Location loc = gemm.getLoc();
    auto reshape = [&](Value v, ArrayRef<int64_t> shape) {
      return reshapeTo(rewriter, loc, v, shape);
    };
    auto aType = tensorType(gemm.getA()), bType = tensorType(gemm.getB());
    int64_t m = aType.getDimSize(0), k = aType.getDimSize(1),
            n = bType.getDimSize(0);
    // The same pattern on 4-d tensors, which FuseConv then fuses.
    Value q4 = pointwiseQDQ(rewriter, loc, reshape(da.getX(), {m, k, 1, 1}), da,
                            reshape(dw.getX(), {n, k, 1, 1}), dw,
                            dw.getAxisAttr(), gemm.getC(), q);
    rewriter.replaceOp(q, reshape(q4, {m, n}));
    return success();
  }
};

/// DQ(x) -> MatMul(DQ(w)) -> [Add(DQ(b))] -> Q, a Linear layer: x [..., K]
/// (M rows in all), constant int8 weights [K, N] per tensor or per column,
/// an int32 bias [N]. As the QLinearConv kernel computes it: the 1x1
/// convolution of one image [1, K, M, 1], x's rows transposed into its
/// pixels, by the weights transposed into [N, K, 1, 1] (at compile time);
/// the result [1, N, M, 1] is transposed back.
struct FuseMatMul : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    Value v = q.getX(), bias;
    auto add = v.getDefiningOp<onnx::AddOp>();
    if (add) {
      if (!add->hasOneUse())
        return failure();
      bool first = (bool)add.getA().getDefiningOp<onnx::MatMulOp>();
      v = first ? add.getA() : add.getB();
      bias = first ? add.getB() : add.getA();
    }
    auto matmul = v.getDefiningOp<onnx::MatMulOp>();
    if (!matmul || !matmul->hasOneUse())
      return failure();
    auto dx = matmul.getA().getDefiningOp<onnx::DequantizeLinearOp>();
    auto dw = matmul.getB().getDefiningOp<onnx::DequantizeLinearOp>();
    if (!dx || !dw)
      return failure();
    auto xType = tensorType(dx.getX()), wType = tensorType(dw.getX());
    auto yType = tensorType(q.getY());
    DenseElementsAttr w = getConstantData(dw.getX());
    if (!w || wType.getRank() != 2 || xType.getRank() < 2 ||
        !xType.hasStaticShape() || !yType.hasStaticShape() ||
        tensorType(dx.getXScale()).getNumElements() != 1)
      return failure();
    int64_t k = wType.getDimSize(0), n = wType.getDimSize(1);
    int64_t wScales = tensorType(dw.getXScale()).getNumElements();
    if (wScales != 1 && (wScales != n || dw.getAxis() != 1))
      return failure();
    if (bias) {
      auto db = bias.getDefiningOp<onnx::DequantizeLinearOp>();
      if (!db || tensorType(bias).getRank() != 1 ||
          tensorType(bias).getDimSize(0) != n)
        return failure();
    }
    int64_t m = xType.getNumElements() / k;
    Location loc = q.getLoc();
    auto i64s = [&](ArrayRef<int64_t> v) {
      return rewriter.getI64ArrayAttr(v);
    };
    auto reshape = [&](Value v, ArrayRef<int64_t> shape) {
      return reshapeTo(rewriter, loc, v, shape);
    };
    auto transpose = [&](Value v) -> Value {
      auto type = tensorType(v);
      auto t = RankedTensorType::get({type.getDimSize(1), type.getDimSize(0)},
                                     type.getElementType());
      return rewriter.create<onnx::TransposeOp>(loc, t, v, i64s({1, 0}));
    };
    // x [M, K] -> [K, M] -> [1, K, M, 1].
    Value x4 = reshape(transpose(reshape(dx.getX(), {m, k})), {1, k, m, 1});
    // The weights [K, N] -> [N, K, 1, 1], a new constant.
    auto wValues = llvm::to_vector(w.getValues<APInt>());
    SmallVector<APInt> wt;
    for (int64_t o = 0; o < n; ++o)
      for (int64_t j = 0; j < k; ++j)
        wt.push_back(wValues[j * n + o]);
    auto w4Type = RankedTensorType::get({n, k, 1, 1}, wType.getElementType());
    Value w4 = rewriter.create<onnx::ConstantOp>(
        loc, w4Type, DenseElementsAttr::get(w4Type, wt));
    if (!bias)
      bias = rewriter.create<onnx::NoValueOp>(loc, rewriter.getNoneType());
    Value q4 = pointwiseQDQ(rewriter, loc, x4, dx, w4, dw,
                            rewriter.getI64IntegerAttr(0), bias, q);
    // [1, N, M, 1] -> [N, M] -> [M, N] -> y's shape.
    Value y = transpose(reshape(q4, {n, m}));
    rewriter.replaceOp(q, reshape(y, yType.getShape()));
    return success();
  }
};

/// The pool that defines `v`, used only there, of a DequantizeLinear's
/// output, and that DequantizeLinear; nulls when `v` is no such pool's.
template <typename PoolOp>
static std::pair<PoolOp, onnx::DequantizeLinearOp> poolOfDequantized(Value v) {
  auto pool = v.getDefiningOp<PoolOp>();
  if (!pool || !pool->hasOneUse())
    return {};
  auto dq = pool.getX().template getDefiningOp<onnx::DequantizeLinearOp>();
  if (!dq)
    return {};
  return {pool, dq};
}

/// DQ -> MaxPool -> Q with the same scale and zero point: the MaxPool of
/// the 8-bit tensor itself, exactly (ONNX Runtime's quantizer gives a
/// MaxPool's output its input's parameters for this).
struct FuseMaxPool : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    auto [pool, dq] = poolOfDequantized<onnx::MaxPoolOp>(q.getX());
    if (!pool || pool.getIndices())
      return failure();
    auto yType = tensorType(q.getY());
    Type xt = tensorType(dq.getX()).getElementType();
    SmallVector<float> sx, sy;
    auto zx = zeroPoint(dq.getXZeroPoint()), zy = zeroPoint(q.getYZeroPoint());
    if (!isByte(xt) || xt != yType.getElementType() ||
        failed(getConstantFloats(dq.getXScale(), sx)) ||
        failed(getConstantFloats(q.getYScale(), sy)) || sx.size() != 1 ||
        sy.size() != 1 || sx[0] != sy[0] || !zx || !zy || *zx != *zy)
      return failure();
    auto fused = rewriter.create<onnx::MaxPoolOp>(
        pool.getLoc(), TypeRange{yType}, ValueRange{dq.getX()},
        pool->getAttrs());
    rewriter.replaceOp(q, fused.getY());
    return success();
  }
};

/// DQ -> GlobalAveragePool -> [Flatten | Reshape] -> Q, per tensor: the
/// mean of the bytes as ONNX Runtime's QLinearGlobalAveragePool takes it,
/// the sum of each plane's n bytes in i32 less n * x_zero_point, times
/// x_scale / (y_scale * n) in f32, rounded and saturated around
/// y_zero_point (a QuantizeLinear of scale 1); a Flatten or Reshape after
/// the pool then moves the bytes. Not the float simulation's arithmetic
/// (dequantize, sum and divide in f32), but exact integers up to the one
/// rounding of the product.
struct FuseGlobalAveragePool : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    Value v = q.getX();
    Operation *reshape = v.getDefiningOp();
    if (reshape && isa<onnx::FlattenOp, onnx::ReshapeOp>(reshape) &&
        reshape->hasOneUse())
      v = reshape->getOperand(0);
    else
      reshape = nullptr;
    auto [pool, dq] = poolOfDequantized<onnx::GlobalAveragePoolOp>(v);
    if (!pool)
      return failure();
    auto xType = tensorType(dq.getX()), poolType = tensorType(pool.getY());
    auto qType = tensorType(q.getY());
    Type xt = xType.getElementType(), yt = qType.getElementType();
    SmallVector<float> sx, sy;
    auto zx = zeroPoint(dq.getXZeroPoint());
    if (!isByte(xt) || !isByte(yt) || !xType.hasStaticShape() ||
        xType.getRank() < 3 || !poolType.hasStaticShape() ||
        failed(getConstantFloats(dq.getXScale(), sx)) ||
        failed(getConstantFloats(q.getYScale(), sy)) || sx.size() != 1 ||
        sy.size() != 1 || !zx || !(sy[0] > 0))
      return failure();
    int64_t n = 1;
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < xType.getRank(); ++d) {
      n *= xType.getDimSize(d);
      axes.push_back(d);
    }
    // The centred sum, at most 255 * n in magnitude, stays below 2^23, so
    // f32 holds it exactly (planes of up to 32896 bytes).
    if (n <= 0 || n > (int64_t(1) << 23) / 255)
      return failure();
    Location loc = q.getLoc();
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    auto like = [](RankedTensorType t, Type et) {
      return RankedTensorType::get(t.getShape(), et);
    };
    auto scalar = [&](Attribute value, Type et) -> Value {
      auto type = RankedTensorType::get({}, et);
      return rewriter.create<onnx::ConstantOp>(
          loc, type, DenseElementsAttr::get(type, value));
    };
    auto axesType =
        RankedTensorType::get({(int64_t)axes.size()}, rewriter.getI64Type());
    Value axesValue = rewriter.create<onnx::ConstantOp>(
        loc, axesType, DenseElementsAttr::get(axesType, ArrayRef(axes)));
    Value wide = rewriter.create<onnx::CastOp>(
        loc, like(xType, i32), dq.getX(),
        rewriter.getI64IntegerAttr(6 /*INT32*/), rewriter.getI64IntegerAttr(1));
    Value sum = rewriter.create<onnx::ReduceSumOp>(
        loc, like(poolType, i32), wide, axesValue,
        rewriter.getI64IntegerAttr(1), rewriter.getI64IntegerAttr(0));
    Value centered = rewriter.create<onnx::SubOp>(
        loc, like(poolType, i32), sum,
        scalar(rewriter.getI32IntegerAttr(n * *zx), i32));
    Value floats = rewriter.create<onnx::CastOp>(
        loc, like(poolType, f32), centered,
        rewriter.getI64IntegerAttr(1 /*FLOAT*/), rewriter.getI64IntegerAttr(1));
    float multiplier = sx[0] / (sy[0] * static_cast<float>(n));
    Value scaled = rewriter.create<onnx::MulOp>(
        loc, like(poolType, f32), floats,
        scalar(rewriter.getF32FloatAttr(multiplier), f32));
    Value bytes = rewriter.create<onnx::QuantizeLinearOp>(
        loc, like(poolType, yt), scaled,
        scalar(rewriter.getF32FloatAttr(1.0f), f32),
        zeroPointOr(rewriter, loc, q.getYZeroPoint(), yt, 1), q.getAxisAttr());
    if (auto flatten = dyn_cast_or_null<onnx::FlattenOp>(reshape))
      bytes = rewriter.create<onnx::FlattenOp>(loc, qType, bytes,
                                               flatten.getAxisAttr());
    else if (auto r = dyn_cast_or_null<onnx::ReshapeOp>(reshape))
      bytes = rewriter.create<onnx::ReshapeOp>(loc, qType, bytes, r.getShape(),
                                               r.getAllowzeroAttr());
    rewriter.replaceOp(q, bytes);
    return success();
  }
};

/// DQ -> AveragePool -> Q, per tensor, whose every window divides by the
/// kernel's size (no padding, or count_include_pad = 1; not ceil_mode's
/// partial windows): a depthwise QLinearConv of the bytes with weights 1
/// and w_scale 1 / (kh * kw), which sums each window's bytes less
/// x_zero_point exactly (padding adds nothing) and requantizes that sum
/// once, x_scale * w_scale / y_scale in f32 as any QLinearConv; the 8-bit
/// depthwise kernel runs it. Other average pools stay float.
struct FuseAveragePool : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp q,
                                PatternRewriter &rewriter) const override {
    auto [pool, dq] = poolOfDequantized<onnx::AveragePoolOp>(q.getX());
    if (!pool)
      return failure();
    auto xType = tensorType(dq.getX()), yType = tensorType(q.getY());
    Type xt = xType.getElementType(), yt = yType.getElementType();
    SmallVector<int64_t> kernel, pads, strides;
    for (Attribute a : pool.getKernelShape())
      kernel.push_back(cast<IntegerAttr>(a).getInt());
    if (auto p = pool.getPads())
      for (Attribute a : *p)
        pads.push_back(cast<IntegerAttr>(a).getInt());
    if (auto st = pool.getStrides())
      for (Attribute a : *st)
        strides.push_back(cast<IntegerAttr>(a).getInt());
    int64_t rank = xType.hasRank() ? xType.getRank() : 0;
    int64_t spatial = rank - 2;
    if (pads.empty())
      pads.assign(2 * spatial, 0);
    if (strides.empty())
      strides.assign(spatial, 1);
    if (!isByte(xt) || !isByte(yt) || !xType.hasStaticShape() ||
        !yType.hasStaticShape() || spatial < 1 ||
        (int64_t)kernel.size() != spatial ||
        (int64_t)pads.size() != 2 * spatial ||
        (int64_t)strides.size() != spatial ||
        (pool.getAutoPad() != "NOTSET" && pool.getAutoPad() != "VALID") ||
        tensorType(dq.getXScale()).getNumElements() != 1 ||
        tensorType(q.getYScale()).getNumElements() != 1)
      return failure();
    // Every window divides by the kernel's size, and the output is the
    // convolution's (floor) shape.
    bool padded = llvm::any_of(pads, [](int64_t v) { return v != 0; });
    if (padded && pool.getCountIncludePad() == 0)
      return failure();
    int64_t count = 1;
    for (int64_t d = 0; d < spatial; ++d) {
      int64_t in = xType.getDimSize(2 + d) + pads[d] + pads[spatial + d];
      if (kernel[d] < 1 || strides[d] < 1 || in < kernel[d] ||
          yType.getDimSize(2 + d) != (in - kernel[d]) / strides[d] + 1)
        return failure();
      count *= kernel[d];
    }
    int64_t channels = xType.getDimSize(1);
    Location loc = q.getLoc();
    Type i8 = rewriter.getIntegerType(8); // ONNX int8 is signless here
    SmallVector<int64_t> wShape{channels, 1};
    wShape.append(kernel.begin(), kernel.end());
    auto wType = RankedTensorType::get(wShape, i8);
    auto oneType = RankedTensorType::get({1}, rewriter.getF32Type());
    auto zwType = RankedTensorType::get({1}, i8);
    Value w = rewriter.create<onnx::ConstantOp>(
        loc, wType, DenseElementsAttr::get(wType, APInt(8, 1)));
    Value sw = rewriter.create<onnx::ConstantOp>(
        loc, oneType,
        DenseElementsAttr::get(oneType, 1.0f / static_cast<float>(count)));
    Value zw = rewriter.create<onnx::ConstantOp>(
        loc, zwType, DenseElementsAttr::get(zwType, APInt(8, 0)));
    Value none = rewriter.create<onnx::NoValueOp>(loc, rewriter.getNoneType());
    auto fused = rewriter.create<onnx::QLinearConvOp>(
        loc, yType, dq.getX(), dq.getXScale(),
        zeroPointOr(rewriter, loc, dq.getXZeroPoint(), xt, 1), w, sw, zw,
        q.getYScale(), zeroPointOr(rewriter, loc, q.getYZeroPoint(), yt, 1),
        none, rewriter.getStringAttr("NOTSET"), ArrayAttr(),
        rewriter.getI64IntegerAttr(channels), rewriter.getI64ArrayAttr(kernel),
        rewriter.getI64ArrayAttr(pads), rewriter.getI64ArrayAttr(strides));
    rewriter.replaceOp(q, fused.getResult());
    return success();
  }
};

/// Gather(DQ(table [V, D], per tensor or per column), ids) on axis 0:
/// DQ(Gather(table, ids)) along the last axis, the same values from the
/// rows that are read instead of the whole table dequantized every run.
struct FuseGather : OpRewritePattern<onnx::GatherOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::GatherOp gather,
                                PatternRewriter &rewriter) const override {
    auto dq = gather.getData().getDefiningOp<onnx::DequantizeLinearOp>();
    if (!dq || gather.getAxis() != 0)
      return failure();
    auto tableType = tensorType(dq.getX());
    auto yType = tensorType(gather.getOutput());
    int64_t scales = tensorType(dq.getXScale()).getNumElements();
    if (!isByte(tableType.getElementType()) || tableType.getRank() != 2 ||
        !yType.hasStaticShape() ||
        (scales != 1 && (scales != tableType.getDimSize(1) ||
                         (static_cast<int64_t>(dq.getAxis()) != 1 &&
                          static_cast<int64_t>(dq.getAxis()) != -1))))
      return failure();
    Location loc = gather.getLoc();
    auto bytesType =
        RankedTensorType::get(yType.getShape(), tableType.getElementType());
    Value bytes = rewriter.create<onnx::GatherOp>(
        loc, bytesType, dq.getX(), gather.getIndices(), gather.getAxisAttr());
    rewriter.replaceOpWithNewOp<onnx::DequantizeLinearOp>(
        gather, yType, bytes, dq.getXScale(), dq.getXZeroPoint(),
        rewriter.getI64IntegerAttr(yType.getRank() - 1));
    return success();
  }
};

struct FuseQDQPass : kiln::impl::FuseQDQBase<FuseQDQPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConv, FuseGemm, FuseMatMul, FuseMaxPool,
                 FuseGlobalAveragePool, FuseAveragePool, FuseGather>(
        &getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
