//===- Signal.cpp - Lower DFT, STFT and MelWeightMatrix -------------------===//
//
// This file implements the lowering of the signal-processing ops of opset
// 17. A DFT along one axis is a matrix product: the samples, moved to rows
// [other dims] x columns [(channel, sample)] in f32 or wider, times the DFT
// matrix [(channel, sample), (re/im, bin)] of cos and sin terms (angle
// 2*pi*(k*m mod N)/N) with linalg.matmul, which the CPU pipeline
// register-tiles and vectorises; the product is then rearranged into the
// output [..., bins, ..., 2] (times 1/N for the inverse). When the DFT length
// is known at compile time the matrix is a constant computed in f64 (or, if
// large, gathered from constant one-period tables); a run-time length
// (STFT's frame_length, DFT's dft_length) builds it in the IR, samples at or
// past the length weighted zero. STFT gathers the (windowed) frames as the
// rows. MelWeightMatrix is computed elementwise from its scalar inputs,
// following ONNX's reference (onnx/backend/test/case/node/melweightmatrix.py)
// in f64, with exp and log built from arith ops (the CPU pipeline is
// libm-free): the band edges are floor-divided bin indices, then each band
// is a triangle. Run-time inputs that decide the output shape are checked
// against it with cf.assert.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <functional>
#include <optional>

using namespace mlir;
using namespace kiln;

namespace {

/// Tables larger than this many elements are computed in the IR rather than
/// stored as constants.
constexpr int64_t kMaxConstantTable = 1 << 20;

/// f32 for f16, bf16 and f32; f64 for f64.
static Type accTypeFor(Type et) {
  return et.isF64() ? et : Float32Type::get(et.getContext());
}

/// Whether `v` is a scalar (0-d or one element) of an integer type.
static bool isIntScalar(Value v) {
  auto t = tensorType(v);
  return t.getNumElements() == 1 && t.getRank() <= 1 &&
         isa<IntegerType>(t.getElementType());
}

/// Emits cf.assert(ok, "<op>: <what>").
static void assertThat(OpBuilder &b, Location loc, Value ok, StringRef opName,
                       const Twine &what) {
  b.create<cf::AssertOp>(loc, ok, (opName + ": " + what).str());
}

static Value cmpI(OpBuilder &b, Location loc, arith::CmpIPredicate p, Value x,
                  Value y) {
  return b.create<arith::CmpIOp>(loc, p, x, y);
}

static Value i64Const(OpBuilder &b, Location loc, int64_t v) {
  return createScalar(b, loc, b.getI64Type(), v);
}

/// The DFT length: a compile-time number, or an i64 scalar known only at run
/// time.
struct Length {
  std::optional<int64_t> known;
  Value value; // i64, set when !known
};

/// Sign of the sine terms: e^{-i theta} forward, e^{+i theta} inverse.
static double sineSign(bool inverse) { return inverse ? 1.0 : -1.0; }

/// The DFT matrix [channels * samples, 2 * bins] that right-multiplies the
/// samples [rows, channels * samples] into [rows, 2 * bins]. Row (c, m) is
/// sample m's real (c = 0) or imaginary (c = 1) part, column (q, k) bin k's
/// real (q = 0) or imaginary (q = 1) part. With theta = 2*pi*(k*m mod N)/N
/// and s = -1 forward, +1 inverse, entry (c, m, q, k) is cos(theta) for
/// c = q, s sin(theta) for (0, 1) and -s sin(theta) for (1, 0); zero for
/// m >= N. A small table with a known N is a constant computed in f64; a
/// larger one is gathered from constant one-period tables; a run-time N
/// computes it in the IR (f64 angle, f32 cos and sin: libm-free).
static Value buildDFTMatrix(OpBuilder &b, Location loc, const Length &n,
                            int64_t channels, int64_t samples, int64_t bins,
                            bool inverse, Type acc) {
  auto type = RankedTensorType::get({channels * samples, 2 * bins}, acc);
  double sign = sineSign(inverse);
  auto entry = [&](int64_t c, int64_t q, double cosv, double sinv) {
    return c == q ? cosv : (c == 0 ? sign : -sign) * sinv;
  };
  auto toAttr = [&](RankedTensorType t, ArrayRef<double> v) {
    if (acc.isF64())
      return DenseElementsAttr::get(t, v);
    SmallVector<float> f(v.begin(), v.end());
    return DenseElementsAttr::get(t, ArrayRef<float>(f));
  };
  // The angle of (k*m mod N), reduced to [-N/2, N/2] so it is small.
  auto angleOf = [](int64_t r, int64_t len) {
    if (2 * r > len)
      r -= len;
    return 2.0 * M_PI * double(r) / double(len);
  };

  if (n.known && type.getNumElements() <= kMaxConstantTable) {
    int64_t len = *n.known;
    SmallVector<double> v;
    v.reserve(type.getNumElements());
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t m = 0; m < samples; ++m)
        for (int64_t q = 0; q < 2; ++q)
          for (int64_t k = 0; k < bins; ++k) {
            if (m >= len) {
              v.push_back(0.0);
              continue;
            }
            double angle = angleOf((k * m) % len, len);
            v.push_back(entry(c, q, std::cos(angle), std::sin(angle)));
          }
    return b.create<arith::ConstantOp>(loc, toAttr(type, v));
  }

  // cos and sin of residue r (an i64), as `acc`.
  std::function<std::pair<Value, Value>(OpBuilder &, Location, Value)> trig;
  Value len;
  if (n.known && *n.known <= kMaxConstantTable) {
    // Gathered from constant tables over one period.
    int64_t period = *n.known;
    len = i64Const(b, loc, period);
    auto periodType = RankedTensorType::get({period}, acc);
    SmallVector<double> cs, sn;
    for (int64_t r = 0; r < period; ++r) {
      cs.push_back(std::cos(angleOf(r, period)));
      sn.push_back(std::sin(angleOf(r, period)));
    }
    Value cosTable = b.create<arith::ConstantOp>(loc, toAttr(periodType, cs));
    Value sinTable = b.create<arith::ConstantOp>(loc, toAttr(periodType, sn));
    trig = [=](OpBuilder &nb, Location l, Value r) -> std::pair<Value, Value> {
      Value at = nb.create<arith::IndexCastOp>(l, nb.getIndexType(), r);
      return {nb.create<tensor::ExtractOp>(l, cosTable, ValueRange{at}),
              nb.create<tensor::ExtractOp>(l, sinTable, ValueRange{at})};
    };
  } else {
    len = n.known ? i64Const(b, loc, *n.known) : n.value;
    len = b.create<arith::MaxSIOp>(loc, len, i64Const(b, loc, 1));
    trig = [=](OpBuilder &nb, Location l, Value r) -> std::pair<Value, Value> {
      Type f64 = nb.getF64Type(), f32 = nb.getF32Type();
      Value twice = nb.create<arith::AddIOp>(l, r, r);
      r = nb.create<arith::SelectOp>(
          l, cmpI(nb, l, arith::CmpIPredicate::sgt, twice, len),
          nb.create<arith::SubIOp>(l, r, len), r);
      Value angle = nb.create<arith::DivFOp>(
          l,
          nb.create<arith::MulFOp>(l, nb.create<arith::SIToFPOp>(l, f64, r),
                                   createScalar(nb, l, f64, 2.0 * M_PI)),
          nb.create<arith::SIToFPOp>(l, f64, len));
      angle = nb.create<arith::TruncFOp>(l, f32, angle);
      Value cv = nb.create<math::CosOp>(l, angle);
      Value sv = nb.create<math::SinOp>(l, angle);
      if (acc != f32) {
        cv = nb.create<arith::ExtFOp>(l, acc, cv);
        sv = nb.create<arith::ExtFOp>(l, acc, sv);
      }
      return {cv, sv};
    };
  }
  return buildIndexed(
      b, loc, type, {}, {},
      [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) -> Value {
        Type i64 = nb.getI64Type();
        auto i64Of = [&](Value v) -> Value {
          return nb.create<arith::IndexCastOp>(l, i64, v);
        };
        Value row = i64Of(idx[0]), col = i64Of(idx[1]);
        Value sampleCount = i64Const(nb, l, samples),
              binCount = i64Const(nb, l, bins);
        Value c = nb.create<arith::DivUIOp>(l, row, sampleCount);
        Value m = nb.create<arith::RemUIOp>(l, row, sampleCount);
        Value q = nb.create<arith::DivUIOp>(l, col, binCount);
        Value k = nb.create<arith::RemUIOp>(l, col, binCount);
        Value r = nb.create<arith::RemUIOp>(
            l, nb.create<arith::MulIOp>(l, k, m), len);
        auto [cv, sv] = trig(nb, l, r);
        Value signedSin =
            nb.create<arith::MulFOp>(l, sv, createScalar(nb, l, acc, sign));
        Value offDiagonal = nb.create<arith::SelectOp>(
            l, cmpI(nb, l, arith::CmpIPredicate::eq, c, i64Const(nb, l, 0)),
            signedSin, nb.create<arith::NegFOp>(l, signedSin));
        Value v = nb.create<arith::SelectOp>(
            l, cmpI(nb, l, arith::CmpIPredicate::eq, c, q), cv, offDiagonal);
        return nb.create<arith::SelectOp>(
            l, cmpI(nb, l, arith::CmpIPredicate::slt, m, len), v,
            createScalar(nb, l, acc, 0.0));
      });
}

/// Multiplies the samples [rows, channels * samples] by the DFT matrix into
/// [rows, 2 * bins] with linalg.matmul (register-tiled and vectorised later).
static Value buildDFTMatmul(OpBuilder &b, Location loc, Value samples,
                            Value matrix) {
  auto xType = tensorType(samples), mType = tensorType(matrix);
  Type acc = mType.getElementType();
  auto outType =
      RankedTensorType::get({xType.getDimSize(0), mType.getDimSize(1)}, acc);
  Value zero = createFilled(b, loc, outType, createScalar(b, loc, acc, 0.0));
  return b
      .create<linalg::MatmulOp>(loc, TypeRange{outType},
                                ValueRange{samples, matrix}, ValueRange{zero})
      .getResult(0);
}

/// Rearranges the matmul result [rows, 2 * bins] (rows over the output's
/// dims other than `axis` and the last, in order) into `type`
/// [..., bins at axis, ..., 2], times `scale` (an acc scalar) when given.
static Value buildDFTOutput(OpBuilder &b, Location loc, Value product,
                            RankedTensorType type, int64_t axis, Value scale) {
  int64_t rank = type.getRank();
  int64_t bins = type.getDimSize(axis);
  Type acc = tensorType(product).getElementType();
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i + 1 < rank; ++i) {
    if (i == axis)
      continue;
    shape.push_back(type.getDimSize(i));
    exprs.push_back(getAffineDimExpr(i, ctx));
  }
  shape.append({2, bins});
  exprs.append({getAffineDimExpr(rank - 1, ctx), getAffineDimExpr(axis, ctx)});
  Value parts = reshapeTo(b, loc, product, RankedTensorType::get(shape, acc));
  Type et = type.getElementType();
  return buildIndexed(
      b, loc, type, {parts}, {AffineMap::get(rank, 0, exprs, ctx)},
      [&](OpBuilder &nb, Location l, ValueRange args, ValueRange) -> Value {
        Value v = args[0];
        if (scale)
          v = nb.create<arith::MulFOp>(l, v, scale);
        if (v.getType() != et)
          v = nb.create<arith::TruncFOp>(l, et, v);
        return v;
      });
}

struct DFTLowering : OpRewritePattern<onnx::DFTOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DFTOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getInput());
    auto yType = tensorType(op.getOutput());
    Type et = xType.getElementType();
    int64_t rank = xType.getRank();
    if (!isFloat(et) || yType.getElementType() != et)
      return unsupported(op, "DFT needs a float input and output");
    if (rank < 2 ||
        (xType.getDimSize(rank - 1) != 1 && xType.getDimSize(rank - 1) != 2))
      return unsupported(op, "DFT input must end in an axis of 1 or 2");
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank - 1)
      return unsupported(op, "DFT axis out of range");
    bool inverse = op.getInverse() != 0, onesided = op.getOnesided() != 0;
    bool complexIn = xType.getDimSize(rank - 1) == 2;
    if (onesided && complexIn)
      return unsupported(op, "onesided DFT of a complex input");
    if (onesided && inverse)
      return unsupported(op, "DFT cannot be both onesided and inverse");
    if (yType.getRank() != rank || yType.getDimSize(rank - 1) != 2)
      return unsupported(op, "DFT output must end in an axis of 2");
    for (int64_t i = 0; i + 1 < rank; ++i)
      if (i != axis && yType.getDimSize(i) != xType.getDimSize(i))
        return unsupported(op, "DFT output shape differs from the input's");
    int64_t bins = yType.getDimSize(axis), inLen = xType.getDimSize(axis);
    if (xType.getNumElements() == 0 || bins == 0)
      return unsupported(op, "DFT of an empty tensor");

    // The DFT length: the axis length, a constant, or a run-time value.
    Length n;
    Value lenInput = op.getDftLength();
    bool runtimeLen = false;
    if (onnx::isNoValue(lenInput)) {
      n.known = inLen;
    } else {
      if (!isIntScalar(lenInput))
        return unsupported(op, "DFT dft_length must be an integer scalar");
      SmallVector<int64_t> v;
      if (succeeded(getConstantInts(lenInput, v)))
        n.known = v[0];
      else if (!onesided)
        n.known = bins, runtimeLen = true;
      else
        runtimeLen = true;
    }
    if (n.known &&
        (*n.known <= 0 || bins != (onesided ? *n.known / 2 + 1 : *n.known)))
      return unsupported(op, "DFT length does not give the output shape");

    Type acc = accTypeFor(et);
    if (runtimeLen) {
      Value len = extractI64(rewriter, loc, lenInput, 0);
      Value ok;
      if (onesided) {
        Value half = rewriter.create<arith::DivSIOp>(
            loc, len, i64Const(rewriter, loc, 2));
        ok = cmpI(rewriter, loc, arith::CmpIPredicate::eq,
                  rewriter.create<arith::AddIOp>(loc, half,
                                                 i64Const(rewriter, loc, 1)),
                  i64Const(rewriter, loc, bins));
        ok = rewriter.create<arith::AndIOp>(loc, ok,
                                            cmpI(rewriter, loc,
                                                 arith::CmpIPredicate::sgt, len,
                                                 i64Const(rewriter, loc, 0)));
        n.value = len;
      } else {
        ok = cmpI(rewriter, loc, arith::CmpIPredicate::eq, len,
                  i64Const(rewriter, loc, bins));
      }
      assertThat(rewriter, loc, ok, "DFT",
                 "dft_length differs from the static output shape");
    }

    // Samples past the DFT length are dropped; missing ones are zeros. The
    // samples become the rows [other dims, (channel, sample)] of a matmul.
    int64_t samples = n.known ? std::min(*n.known, inLen) : inLen;
    int64_t channels = xType.getDimSize(rank - 1);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<int64_t> permShape;
    SmallVector<AffineExpr> xExprs(rank);
    for (int64_t i = 0; i + 1 < rank; ++i) {
      if (i == axis)
        continue;
      xExprs[i] = getAffineDimExpr(permShape.size(), ctx);
      permShape.push_back(xType.getDimSize(i));
    }
    xExprs[rank - 1] = getAffineDimExpr(rank - 2, ctx);
    xExprs[axis] = getAffineDimExpr(rank - 1, ctx);
    permShape.append({channels, samples});
    Value x = op.getInput();
    if (samples != inLen) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
          strides(rank, rewriter.getIndexAttr(1)), sizes;
      for (int64_t i = 0; i < rank; ++i)
        sizes.push_back(
            rewriter.getIndexAttr(i == axis ? samples : xType.getDimSize(i)));
      x = rewriter.create<tensor::ExtractSliceOp>(loc, x, offsets, sizes,
                                                  strides);
    }
    Value perm = buildIndexed(
        rewriter, loc, RankedTensorType::get(permShape, acc), {x},
        {AffineMap::get(rank, 0, xExprs, ctx)},
        [&](OpBuilder &nb, Location l, ValueRange args, ValueRange) -> Value {
          return args[0].getType() == acc
                     ? args[0]
                     : nb.create<arith::ExtFOp>(l, acc, args[0]).getResult();
        });
    int64_t rows = xType.getNumElements() / (inLen * channels);
    Value lhs =
        reshapeTo(rewriter, loc, perm,
                  RankedTensorType::get({rows, channels * samples}, acc));
    Value matrix =
        buildDFTMatrix(rewriter, loc, n, channels, samples, bins, inverse, acc);
    Value product = buildDFTMatmul(rewriter, loc, lhs, matrix);
    Value scale;
    if (inverse) {
      if (n.known) {
        scale = createScalar(rewriter, loc, acc, 1.0 / double(*n.known));
      } else {
        scale = rewriter.create<arith::DivFOp>(
            loc, createScalar(rewriter, loc, acc, 1.0),
            rewriter.create<arith::SIToFPOp>(loc, acc, n.value));
      }
    }
    rewriter.replaceOp(
        op, buildDFTOutput(rewriter, loc, product, yType, axis, scale));
    return success();
  }
};

struct STFTLowering : OpRewritePattern<onnx::STFTOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::STFTOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto sType = tensorType(op.getSignal());
    auto yType = tensorType(op.getOutput());
    Type et = sType.getElementType();
    if (!isFloat(et) || yType.getElementType() != et)
      return unsupported(op, "STFT needs a float signal and output");
    if (sType.getRank() != 3 ||
        (sType.getDimSize(2) != 1 && sType.getDimSize(2) != 2))
      return unsupported(op, "STFT signal must be [batch, length, 1 or 2]");
    bool onesided = op.getOnesided() != 0;
    bool complexIn = sType.getDimSize(2) == 2;
    if (onesided && complexIn)
      return unsupported(op, "onesided STFT of a complex signal");
    int64_t batch = sType.getDimSize(0), length = sType.getDimSize(1);
    if (yType.getRank() != 4 || yType.getDimSize(0) != batch ||
        yType.getDimSize(3) != 2)
      return unsupported(op, "STFT output must be [batch, frames, bins, 2]");
    int64_t frames = yType.getDimSize(1), bins = yType.getDimSize(2);
    if (sType.getNumElements() == 0 || yType.getNumElements() == 0)
      return unsupported(op, "STFT of an empty signal or to an empty output");
    if (!isIntScalar(op.getFrameStep()))
      return unsupported(op, "STFT frame_step must be an integer scalar");

    Value window = op.getWindow(), lenInput = op.getFrameLength();
    bool hasWindow = !onnx::isNoValue(window);
    bool hasLen = !onnx::isNoValue(lenInput);
    if (!hasWindow && !hasLen)
      return unsupported(op, "STFT needs a window or a frame_length");
    if (hasWindow && (tensorType(window).getRank() != 1 ||
                      tensorType(window).getElementType() != et))
      return unsupported(op, "STFT window must be 1-d, of the signal's type");
    if (hasLen && !isIntScalar(lenInput))
      return unsupported(op, "STFT frame_length must be an integer scalar");

    // The frame (DFT) length: the window's, a constant, or a run-time value
    // (then checked against the window's length or the output's bins).
    Length n;
    std::optional<int64_t> constLen, constStep;
    SmallVector<int64_t> v;
    if (hasLen && succeeded(getConstantInts(lenInput, v)))
      constLen = v[0];
    v.clear();
    if (succeeded(getConstantInts(op.getFrameStep(), v)))
      constStep = v[0];
    if (hasWindow)
      n.known = tensorType(window).getDimSize(0);
    else if (constLen)
      n.known = constLen;
    else if (!onesided)
      n.known = bins;
    if (constLen && n.known && *constLen != *n.known)
      return unsupported(op, "STFT frame_length differs from the window's");
    if (n.known && (*n.known <= 0 || *n.known > length ||
                    bins != (onesided ? *n.known / 2 + 1 : *n.known)))
      return unsupported(op, "STFT frame length does not give the output "
                             "shape");
    if (constStep && *constStep <= 0)
      return unsupported(op, "STFT frame_step must be positive");
    if (n.known && constStep && frames != (length - *n.known) / *constStep + 1)
      return unsupported(op, "STFT frame_step does not give the output "
                             "shape");

    // Run-time checks.
    Value len;
    if (n.known) {
      len = i64Const(rewriter, loc, *n.known);
      if (hasLen && !constLen)
        assertThat(rewriter, loc,
                   cmpI(rewriter, loc, arith::CmpIPredicate::eq,
                        extractI64(rewriter, loc, lenInput, 0), len),
                   "STFT",
                   hasWindow ? "frame_length differs from the window's length"
                             : "frame_length differs from the static output "
                               "shape");
    } else {
      len = extractI64(rewriter, loc, lenInput, 0);
      n.value = len;
      Value half =
          rewriter.create<arith::DivSIOp>(loc, len, i64Const(rewriter, loc, 2));
      Value ok = cmpI(
          rewriter, loc, arith::CmpIPredicate::eq,
          rewriter.create<arith::AddIOp>(loc, half, i64Const(rewriter, loc, 1)),
          i64Const(rewriter, loc, bins));
      ok = rewriter.create<arith::AndIOp>(
          loc, ok,
          rewriter.create<arith::AndIOp>(
              loc,
              cmpI(rewriter, loc, arith::CmpIPredicate::sgt, len,
                   i64Const(rewriter, loc, 0)),
              cmpI(rewriter, loc, arith::CmpIPredicate::sle, len,
                   i64Const(rewriter, loc, length))));
      assertThat(rewriter, loc, ok, "STFT",
                 "frame_length differs from the static output shape");
    }
    Value step = constStep ? i64Const(rewriter, loc, *constStep)
                           : extractI64(rewriter, loc, op.getFrameStep(), 0);
    if (!constStep || !n.known) {
      Value positive = cmpI(rewriter, loc, arith::CmpIPredicate::sgt, step,
                            i64Const(rewriter, loc, 0));
      Value safeStep = rewriter.create<arith::MaxSIOp>(
          loc, step, i64Const(rewriter, loc, 1));
      Value count = rewriter.create<arith::AddIOp>(
          loc,
          rewriter.create<arith::DivSIOp>(
              loc,
              rewriter.create<arith::SubIOp>(
                  loc, i64Const(rewriter, loc, length), len),
              safeStep),
          i64Const(rewriter, loc, 1));
      Value ok = rewriter.create<arith::AndIOp>(
          loc, positive,
          cmpI(rewriter, loc, arith::CmpIPredicate::eq, count,
               i64Const(rewriter, loc, frames)));
      assertThat(rewriter, loc, ok, "STFT",
                 "frame_step and frame length differ from the static output "
                 "shape");
      step = safeStep;
    }

    // Frames [batch, frames, channel, sample], windowed, in the accumulator
    // type (reads clamped into the signal), are the rows of the matmul.
    Type acc = accTypeFor(et);
    int64_t channels = sType.getDimSize(2);
    int64_t samples =
        n.known ? *n.known : std::min<int64_t>(2 * bins - 1, length);
    auto frameType =
        RankedTensorType::get({batch, frames, channels, samples}, acc);
    Value signal = op.getSignal();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    if (hasWindow) {
      inputs.push_back(window);
      maps.push_back(
          AffineMap::get(4, 0, {getAffineDimExpr(3, rewriter.getContext())},
                         rewriter.getContext()));
    }
    Value framed = buildIndexed(
        rewriter, loc, frameType, inputs, maps,
        [&](OpBuilder &nb, Location l, ValueRange args,
            ValueRange idx) -> Value {
          Type i64 = nb.getI64Type();
          Value f = nb.create<arith::IndexCastOp>(l, i64, idx[1]);
          Value m = nb.create<arith::IndexCastOp>(l, i64, idx[3]);
          Value pos = nb.create<arith::AddIOp>(
              l, nb.create<arith::MulIOp>(l, f, step), m);
          pos = nb.create<arith::MinSIOp>(l, pos, i64Const(nb, l, length - 1));
          Value x = nb.create<tensor::ExtractOp>(
              l, signal,
              ValueRange{
                  idx[0],
                  nb.create<arith::IndexCastOp>(l, nb.getIndexType(), pos),
                  idx[2]});
          auto ext = [&](Value v) -> Value {
            return v.getType() == acc ? v : nb.create<arith::ExtFOp>(l, acc, v);
          };
          x = ext(x);
          if (hasWindow)
            x = nb.create<arith::MulFOp>(l, x, ext(args[0]));
          return x;
        });
    Value lhs = reshapeTo(
        rewriter, loc, framed,
        RankedTensorType::get({batch * frames, channels * samples}, acc));
    Value matrix = buildDFTMatrix(rewriter, loc, n, channels, samples, bins,
                                  /*inverse=*/false, acc);
    Value product = buildDFTMatmul(rewriter, loc, lhs, matrix);
    rewriter.replaceOp(
        op, buildDFTOutput(rewriter, loc, product, yType, 2, Value()));
    return success();
  }
};

/// e^t in f64 from arith ops only (the CPU pipeline approximates f32 math
/// but would call libm for f64): t = n ln2 + r, |r| <= ln2 / 2, e^r by its
/// Taylor series to degree 13 (error below 1e-17), times 2^n built from the
/// exponent bits. n is clamped to the normal range.
static Value buildExp64(OpBuilder &b, Location loc, Value t) {
  Type f64 = b.getF64Type(), i64 = b.getI64Type();
  auto c = [&](double v) { return createScalar(b, loc, f64, v); };
  Value n = b.create<math::FloorOp>(
      loc, b.create<arith::AddFOp>(
               loc, b.create<arith::MulFOp>(loc, t, c(1.0 / M_LN2)), c(0.5)));
  // Clamped with compares and selects (soft-float targets cannot legalise
  // llvm.minimum/maximum on f64).
  auto clamp = [&](Value v, double bound, arith::CmpFPredicate beyond) {
    return b.create<arith::SelectOp>(
        loc, b.create<arith::CmpFOp>(loc, beyond, v, c(bound)), c(bound), v);
  };
  n = clamp(clamp(n, -1022.0, arith::CmpFPredicate::OLT), 1023.0,
            arith::CmpFPredicate::OGT);
  // ln2 in two parts (fdlibm's) so that n * ln2_hi is exact.
  Value r = b.create<arith::SubFOp>(
      loc, t, b.create<arith::MulFOp>(loc, n, c(6.93147180369123816490e-01)));
  r = b.create<arith::SubFOp>(
      loc, r, b.create<arith::MulFOp>(loc, n, c(1.90821492927058770002e-10)));
  Value p = c(1.0);
  for (int k = 13; k >= 1; --k) // Horner: 1 + r/1 (1 + r/2 (1 + ...))
    p = b.create<arith::AddFOp>(
        loc, c(1.0),
        b.create<arith::MulFOp>(
            loc, b.create<arith::MulFOp>(loc, r, c(1.0 / k)), p));
  Value bits = b.create<arith::ShLIOp>(
      loc,
      b.create<arith::AddIOp>(loc, b.create<arith::FPToSIOp>(loc, i64, n),
                              i64Const(b, loc, 1023)),
      i64Const(b, loc, 52));
  return b.create<arith::MulFOp>(loc, p,
                                 b.create<arith::BitcastOp>(loc, f64, bits));
}

/// ln(u) in f64 from arith ops only, for u > 0 (NaN otherwise): u = 2^e m
/// with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1) / (m + 1),
/// |s| <= 0.172, by its series to s^21 (error below 1e-17).
static Value buildLog64(OpBuilder &b, Location loc, Value u) {
  Type f64 = b.getF64Type();
  auto c = [&](double v) { return createScalar(b, loc, f64, v); };
  Value bits = b.create<arith::BitcastOp>(loc, b.getI64Type(), u);
  Value e = b.create<arith::SubIOp>(
      loc, b.create<arith::ShRUIOp>(loc, bits, i64Const(b, loc, 52)),
      i64Const(b, loc, 1023));
  Value m = b.create<arith::BitcastOp>(
      loc, f64,
      b.create<arith::OrIOp>(
          loc,
          b.create<arith::AndIOp>(loc, bits,
                                  i64Const(b, loc, (int64_t(1) << 52) - 1)),
          i64Const(b, loc, int64_t(1023) << 52)));
  Value big =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, m, c(M_SQRT2));
  m = b.create<arith::SelectOp>(loc, big,
                                b.create<arith::MulFOp>(loc, m, c(0.5)), m);
  Value ef = b.create<arith::SIToFPOp>(
      loc, f64,
      b.create<arith::SelectOp>(
          loc, big, b.create<arith::AddIOp>(loc, e, i64Const(b, loc, 1)), e));
  Value s =
      b.create<arith::DivFOp>(loc, b.create<arith::SubFOp>(loc, m, c(1.0)),
                              b.create<arith::AddFOp>(loc, m, c(1.0)));
  Value s2 = b.create<arith::MulFOp>(loc, s, s);
  Value p = c(1.0 / 21.0);
  for (int k = 19; k >= 1; k -= 2) // 1 + s2/3 + s2^2/5 + ... + s2^10/21
    p = b.create<arith::AddFOp>(loc, c(1.0 / k),
                                b.create<arith::MulFOp>(loc, s2, p));
  Value lnM =
      b.create<arith::MulFOp>(loc, b.create<arith::MulFOp>(loc, c(2.0), s), p);
  Value ln = b.create<arith::AddFOp>(
      loc, b.create<arith::MulFOp>(loc, ef, c(M_LN2)), lnM);
  Value positive =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, u, c(0.0));
  return b.create<arith::SelectOp>(loc, positive, ln, c(std::nan("")));
}

struct MelWeightMatrixLowering : OpRewritePattern<onnx::MelWeightMatrixOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MelWeightMatrixOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto yType = tensorType(op.getOutput());
    if (yType.getRank() != 2)
      return unsupported(op, "MelWeightMatrix output must be 2-d");
    for (Value v : {op.getNumMelBins(), op.getDftLength(), op.getSampleRate()})
      if (!isIntScalar(v))
        return unsupported(op, "MelWeightMatrix needs integer scalars for "
                               "num_mel_bins, dft_length and sample_rate");
    for (Value v : {op.getLowerEdgeHertz(), op.getUpperEdgeHertz()}) {
      auto t = tensorType(v);
      if (t.getNumElements() != 1 || t.getRank() > 1 ||
          !isFloat(t.getElementType()))
        return unsupported(op, "MelWeightMatrix needs float scalar edges");
    }
    int64_t specBins = yType.getDimSize(0), melBins = yType.getDimSize(1);
    Type i64 = rewriter.getI64Type(), f64 = rewriter.getF64Type();

    Value numMel = extractI64(rewriter, loc, op.getNumMelBins(), 0);
    Value dftLen = extractI64(rewriter, loc, op.getDftLength(), 0);
    Value rate = extractI64(rewriter, loc, op.getSampleRate(), 0);
    Value ok = cmpI(rewriter, loc, arith::CmpIPredicate::eq, numMel,
                    i64Const(rewriter, loc, melBins));
    ok = rewriter.create<arith::AndIOp>(
        loc, ok,
        cmpI(rewriter, loc, arith::CmpIPredicate::eq,
             rewriter.create<arith::AddIOp>(
                 loc,
                 rewriter.create<arith::DivSIOp>(loc, dftLen,
                                                 i64Const(rewriter, loc, 2)),
                 i64Const(rewriter, loc, 1)),
             i64Const(rewriter, loc, specBins)));
    assertThat(rewriter, loc, ok, "MelWeightMatrix",
               "num_mel_bins or dft_length differ from the static output "
               "shape");
    assertThat(rewriter, loc,
               cmpI(rewriter, loc, arith::CmpIPredicate::ne, rate,
                    i64Const(rewriter, loc, 0)),
               "MelWeightMatrix", "sample_rate is zero");

    // mel(f) = 2595 log10(1 + f/700), in f64 as the reference computes it.
    auto toF64 = [&](Value t) {
      return convertScalar(rewriter, loc, extractElement(rewriter, loc, t), f64,
                           false, false);
    };
    const double melScale = 2595.0, hzScale = 700.0;
    auto mel = [&](Value hz) -> Value {
      Value u = rewriter.create<arith::AddFOp>(
          loc, createScalar(rewriter, loc, f64, 1.0),
          rewriter.create<arith::DivFOp>(
              loc, hz, createScalar(rewriter, loc, f64, hzScale)));
      return rewriter.create<arith::MulFOp>(
          loc, buildLog64(rewriter, loc, u),
          createScalar(rewriter, loc, f64, melScale / M_LN10));
    };
    Value lowMel = mel(toF64(op.getLowerEdgeHertz()));
    Value highMel = mel(toF64(op.getUpperEdgeHertz()));
    Value melStep = rewriter.create<arith::DivFOp>(
        loc, rewriter.create<arith::SubFOp>(loc, highMel, lowMel),
        createScalar(rewriter, loc, f64, double(melBins + 2)));
    Value dftPlus1 = rewriter.create<arith::SIToFPOp>(
        loc, f64,
        rewriter.create<arith::AddIOp>(loc, dftLen,
                                       i64Const(rewriter, loc, 1)));
    Value rateF = rewriter.create<arith::SIToFPOp>(loc, f64, rate);

    // The band edges: floor((dft_length + 1) * hz(k) / sample_rate) for
    // k in [0, num_mel_bins + 2), hz(k) = 700 (10^(mel_k / 2595) - 1).
    auto edgeType = RankedTensorType::get({melBins + 2}, i64);
    Value edges = buildIndexed(
        rewriter, loc, edgeType, {}, {},
        [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) -> Value {
          Value k = nb.create<arith::SIToFPOp>(
              l, f64, nb.create<arith::IndexCastOp>(l, i64, idx[0]));
          Value m = nb.create<arith::AddFOp>(
              l, nb.create<arith::MulFOp>(l, k, melStep), lowMel);
          Value power =
              buildExp64(nb, l,
                         nb.create<arith::MulFOp>(
                             l,
                             nb.create<arith::DivFOp>(
                                 l, m, createScalar(nb, l, f64, melScale)),
                             createScalar(nb, l, f64, M_LN10)));
          Value hz = nb.create<arith::MulFOp>(
              l,
              nb.create<arith::SubFOp>(l, power, createScalar(nb, l, f64, 1.0)),
              createScalar(nb, l, f64, hzScale));
          Value bin = nb.create<math::FloorOp>(
              l, nb.create<arith::DivFOp>(
                     l, nb.create<arith::MulFOp>(l, dftPlus1, hz), rateF));
          return nb.create<arith::FPToSIOp>(l, i64, bin);
        });

    // Element (j, i): band i rises over [left, center] and falls over
    // [center, right); a band of zero rise is 1 at its center. The falling
    // edge is written last in the reference, so it wins.
    Type et = yType.getElementType();
    bool dstUnsigned = isUnsignedResult(op, 0);
    Value result = buildIndexed(
        rewriter, loc, yType, {}, {},
        [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) -> Value {
          auto edge = [&](int64_t off) -> Value {
            Value at = nb.create<arith::AddIOp>(
                l, idx[1], nb.create<arith::ConstantIndexOp>(l, off));
            return nb.create<tensor::ExtractOp>(l, edges, ValueRange{at});
          };
          Value left = edge(0), center = edge(1), right = edge(2);
          Value j = nb.create<arith::IndexCastOp>(l, i64, idx[0]);
          auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
            return cmpI(nb, l, p, x, y);
          };
          auto andI = [&](Value x, Value y) -> Value {
            return nb.create<arith::AndIOp>(l, x, y);
          };
          auto ratio = [&](Value num, Value den) -> Value {
            return nb.create<arith::DivFOp>(
                l, nb.create<arith::SIToFPOp>(l, f64, num),
                nb.create<arith::SIToFPOp>(l, f64, den));
          };
          using P = arith::CmpIPredicate;
          Value zero = createScalar(nb, l, f64, 0.0);
          Value one = createScalar(nb, l, f64, 1.0);
          Value riseLen = nb.create<arith::SubIOp>(l, center, left);
          Value fallLen = nb.create<arith::SubIOp>(l, right, center);
          Value flat = cmp(P::eq, riseLen, i64Const(nb, l, 0));
          Value inRise = andI(cmp(P::sge, j, left), cmp(P::sle, j, center));
          Value safeRise =
              nb.create<arith::SelectOp>(l, flat, i64Const(nb, l, 1), riseLen);
          Value v = nb.create<arith::SelectOp>(
              l, inRise, ratio(nb.create<arith::SubIOp>(l, j, left), safeRise),
              zero);
          v = nb.create<arith::SelectOp>(l, andI(flat, cmp(P::eq, j, center)),
                                         one, v);
          Value inFall = andI(andI(cmp(P::sgt, fallLen, i64Const(nb, l, 0)),
                                   cmp(P::sge, j, center)),
                              cmp(P::slt, j, right));
          Value safeFall =
              nb.create<arith::MaxSIOp>(l, fallLen, i64Const(nb, l, 1));
          v = nb.create<arith::SelectOp>(
              l, inFall, ratio(nb.create<arith::SubIOp>(l, right, j), safeFall),
              v);
          return convertScalar(nb, l, v, et, false, dstUnsigned);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void kiln::populateSignalPatterns(RewritePatternSet &patterns) {
  patterns.add<DFTLowering, STFTLowering, MelWeightMatrixLowering>(
      patterns.getContext());
}
