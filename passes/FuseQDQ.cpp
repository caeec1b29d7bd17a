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
// QLinearConv as a 1x1 convolution, between reshapes.
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
    auto reshape = [&](Value v, ArrayRef<int64_t> shape) -> Value {
      auto shapeType = RankedTensorType::get(
          {static_cast<int64_t>(shape.size())}, rewriter.getI64Type());
      Value s = rewriter.create<onnx::ConstantOp>(
          loc, shapeType, DenseElementsAttr::get(shapeType, shape));
      auto type = RankedTensorType::get(shape, tensorType(v).getElementType());
      return rewriter.create<onnx::ReshapeOp>(loc, type, v, s,
                                              rewriter.getI64IntegerAttr(0));
    };
    auto aType = tensorType(gemm.getA()), bType = tensorType(gemm.getB());
    int64_t m = aType.getDimSize(0), k = aType.getDimSize(1),
            n = bType.getDimSize(0);
    // The same pattern on 4-d tensors, which FuseConv then fuses.
    Value x = reshape(da.getX(), {m, k, 1, 1});
    Value xd = rewriter.create<onnx::DequantizeLinearOp>(
        loc, RankedTensorType::get({m, k, 1, 1}, aType.getElementType()), x,
        da.getXScale(), da.getXZeroPoint(), da.getAxisAttr());
    Value w = reshape(dw.getX(), {n, k, 1, 1});
    Value wd = rewriter.create<onnx::DequantizeLinearOp>(
        loc, RankedTensorType::get({n, k, 1, 1}, bType.getElementType()), w,
        dw.getXScale(), dw.getXZeroPoint(), dw.getAxisAttr());
    auto yType = RankedTensorType::get({m, n, 1, 1}, aType.getElementType());
    auto ones = rewriter.getI64ArrayAttr({1, 1});
    Value conv = rewriter.create<onnx::ConvOp>(
        loc, yType, xd, wd, gemm.getC(), rewriter.getStringAttr("NOTSET"), ones,
        rewriter.getI64IntegerAttr(1), ones,
        rewriter.getI64ArrayAttr({0, 0, 0, 0}), ones);
    auto qType = RankedTensorType::get({m, n, 1, 1},
                                       tensorType(q.getY()).getElementType());
    Value q4 = rewriter.create<onnx::QuantizeLinearOp>(
        loc, qType, conv, q.getYScale(), q.getYZeroPoint(), q.getAxisAttr());
    rewriter.replaceOp(q, reshape(q4, {m, n}));
    return success();
  }
};

struct FuseQDQPass : kiln::impl::FuseQDQBase<FuseQDQPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConv, FuseGemm>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
