//===- Signal.cpp - Lower DFT, STFT and MelWeightMatrix -------------------===//
//
// This file implements the lowering of the signal-processing ops of opset
// 17. A DFT along one axis is a contraction of the input with cos and sin
// tables [bins, samples] (the twiddle factors, angle 2*pi*(k*n mod N)/N): one
// linalg.generic reduces over the samples into the real and imaginary sums
// (accumulated in f32 or wider), and a second one interleaves them into the
// trailing [2] axis (scaled by 1/N for the inverse). When the DFT length is
// known at compile time the tables are constants computed in f64; a run-time
// length (STFT's frame_length, DFT's dft_length) builds them in the IR, with
// samples at or past the length weighted zero. STFT gathers the (windowed)
// frames and transforms them the same way. MelWeightMatrix is computed
// elementwise from its scalar inputs, following ONNX's reference
// (onnx/backend/test/case/node/melweightmatrix.py): the band edges are
// floor-divided bin indices, then each band is a triangle. Run-time inputs
// that decide the output shape are checked against it with cf.assert.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
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

/// Reads element 0 of a 0-d or one-element tensor.
static Value extractScalar(OpBuilder &b, Location loc, Value t) {
  SmallVector<Value> idx(tensorType(t).getRank(),
                         b.create<arith::ConstantIndexOp>(loc, 0));
  return b.create<tensor::ExtractOp>(loc, t, idx);
}

/// Reads a 0-d or one-element integer tensor as an i64 scalar.
static Value extractI64(OpBuilder &b, Location loc, Value t) {
  return convertScalar(b, loc, extractScalar(b, loc, t), b.getI64Type(), false,
                       false);
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

/// The cos and sin tables [bins, samples] of a DFT of length `n`, entry
/// (k, m) being cos and sin of 2*pi*(k*m mod N)/N, zero for m >= N.
struct Twiddles {
  Value cos, sin;
};

/// A constant table of `type` ([bins, samples], or [N] for k = 1) holding
/// cos or sin of 2*pi*(k*m mod N)/N, computed in f64; zero for m >= N.
static Value constantTable(OpBuilder &b, Location loc, RankedTensorType type,
                           int64_t len, bool isSin) {
  // One period is row k = 1 of the [bins, samples] table.
  bool period = type.getRank() == 1;
  int64_t kBegin = period ? 1 : 0, kEnd = period ? 2 : type.getDimSize(0);
  int64_t cols = type.getShape().back();
  SmallVector<double> v;
  for (int64_t k = kBegin; k < kEnd; ++k) {
    for (int64_t m = 0; m < cols; ++m) {
      if (m >= len) {
        v.push_back(0.0);
        continue;
      }
      // Reduce to [-N/2, N/2] so the angle is exact and small.
      int64_t r = (k * m) % len;
      if (2 * r > len)
        r -= len;
      double angle = 2.0 * M_PI * double(r) / double(len);
      v.push_back(isSin ? std::sin(angle) : std::cos(angle));
    }
  }
  DenseElementsAttr attr;
  if (type.getElementType().isF64()) {
    attr = DenseElementsAttr::get(type, ArrayRef<double>(v));
  } else {
    SmallVector<float> f(v.begin(), v.end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(f));
  }
  return b.create<arith::ConstantOp>(loc, attr);
}

static Twiddles buildTwiddles(OpBuilder &b, Location loc, const Length &n,
                              int64_t bins, int64_t samples, Type acc) {
  auto type = RankedTensorType::get({bins, samples}, acc);
  if (n.known && bins * samples <= kMaxConstantTable)
    return {constantTable(b, loc, type, *n.known, false),
            constantTable(b, loc, type, *n.known, true)};

  // A known length too long for constant [bins, samples] tables: gather
  // them in the IR from constant tables over one period.
  if (n.known && *n.known <= kMaxConstantTable) {
    int64_t len = *n.known;
    auto periodType = RankedTensorType::get({len}, acc);
    auto gather = [&](bool isSin) {
      Value period = constantTable(b, loc, periodType, len, isSin);
      return buildIndexed(
          b, loc, type, {}, {},
          [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) -> Value {
            // samples <= len, so every m is inside the period.
            Value r = nb.create<arith::RemUIOp>(
                l, nb.create<arith::MulIOp>(l, idx[0], idx[1]),
                nb.create<arith::ConstantIndexOp>(l, len));
            return nb.create<tensor::ExtractOp>(l, period, ValueRange{r});
          });
    };
    return {gather(false), gather(true)};
  }

  // In the IR: f64 angle reduction, f32 cos and sin (libm-free), as `acc`.
  Value len = n.known ? i64Const(b, loc, *n.known) : n.value;
  len = b.create<arith::MaxSIOp>(loc, len, i64Const(b, loc, 1));
  auto table = [&](bool isSin) {
    return buildIndexed(
        b, loc, type, {}, {},
        [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) -> Value {
          Type i64 = nb.getI64Type(), f64 = nb.getF64Type(),
               f32 = nb.getF32Type();
          Value k = nb.create<arith::IndexCastOp>(l, i64, idx[0]);
          Value m = nb.create<arith::IndexCastOp>(l, i64, idx[1]);
          Value r = nb.create<arith::RemSIOp>(
              l, nb.create<arith::MulIOp>(l, k, m), len);
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
          Value v = isSin ? nb.create<math::SinOp>(l, angle).getResult()
                          : nb.create<math::CosOp>(l, angle).getResult();
          if (acc != f32)
            v = nb.create<arith::ExtFOp>(l, acc, v);
          Value inside = cmpI(nb, l, arith::CmpIPredicate::slt, m, len);
          return nb.create<arith::SelectOp>(l, inside, v,
                                            createScalar(nb, l, acc, 0.0));
        });
  };
  return {table(false), table(true)};
}

/// Splits `x` [..., C] (C = 1 or 2) into its real and imaginary parts
/// [...] (imaginary null when C = 1), keeping the first `samples` entries
/// of `axis`.
static std::pair<Value, Value> splitComplex(OpBuilder &b, Location loc, Value x,
                                            int64_t axis, int64_t samples) {
  auto xType = tensorType(x);
  int64_t rank = xType.getRank();
  SmallVector<int64_t> shape(xType.getShape().drop_back());
  shape[axis] = samples;
  auto partType = RankedTensorType::get(shape, xType.getElementType());
  auto part = [&](int64_t c) -> Value {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
        strides(rank, b.getIndexAttr(1)), sizes;
    for (int64_t d : shape)
      sizes.push_back(b.getIndexAttr(d));
    sizes.push_back(b.getIndexAttr(1));
    offsets[rank - 1] = b.getIndexAttr(c);
    return b.create<tensor::ExtractSliceOp>(loc, partType, x, offsets, sizes,
                                            strides);
  };
  return {part(0), xType.getDimSize(rank - 1) == 2 ? part(1) : Value()};
}

/// The DFT of `re` + i `im` (im may be null) along `axis`, whose length must
/// equal the tables' samples: real and imaginary sums, `bins` long on
/// `axis`, in the tables' type.
static std::pair<Value, Value>
buildContraction(OpBuilder &b, Location loc, Value re, Value im, int64_t axis,
                 const Twiddles &tw, bool inverse) {
  auto tableType = tensorType(tw.cos);
  Type acc = tableType.getElementType();
  int64_t bins = tableType.getDimSize(0);
  auto xType = tensorType(re);
  int64_t rank = xType.getRank();
  SmallVector<int64_t> shape(xType.getShape());
  shape[axis] = bins;
  auto outType = RankedTensorType::get(shape, acc);
  Value zero = createFilled(b, loc, outType, createScalar(b, loc, acc, 0.0));

  // Dims d0..d{rank-1} are the output's, d{rank} the summed sample.
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> xExprs, outExprs;
  for (int64_t i = 0; i < rank; ++i) {
    outExprs.push_back(getAffineDimExpr(i, ctx));
    xExprs.push_back(getAffineDimExpr(i == axis ? rank : i, ctx));
  }
  auto xMap = AffineMap::get(rank + 1, 0, xExprs, ctx);
  auto tableMap = AffineMap::get(
      rank + 1, 0, {getAffineDimExpr(axis, ctx), getAffineDimExpr(rank, ctx)},
      ctx);
  auto outMap = AffineMap::get(rank + 1, 0, outExprs, ctx);
  SmallVector<Value> inputs = {re};
  SmallVector<AffineMap> maps = {xMap};
  if (im) {
    inputs.push_back(im);
    maps.push_back(xMap);
  }
  inputs.append({tw.cos, tw.sin});
  maps.append({tableMap, tableMap, outMap, outMap});
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{outType, outType}, inputs, ValueRange{zero, zero}, maps,
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        auto ext = [&](Value v) -> Value {
          return v.getType() == acc ? v : nb.create<arith::ExtFOp>(l, acc, v);
        };
        unsigned i = 0;
        Value xr = ext(args[i++]);
        Value xi = im ? ext(args[i++]) : Value();
        Value c = args[i++], s = args[i++];
        Value accRe = args[i++], accIm = args[i++];
        auto mul = [&](Value x, Value y) -> Value {
          return nb.create<arith::MulFOp>(l, x, y);
        };
        // Forward: (xr + i xi)(c - i s); inverse: (xr + i xi)(c + i s).
        Value pr = mul(xr, c), pi;
        Value xrS = mul(xr, s);
        if (xi) {
          Value xiS = mul(xi, s), xiC = mul(xi, c);
          pr = inverse ? nb.create<arith::SubFOp>(l, pr, xiS).getResult()
                       : nb.create<arith::AddFOp>(l, pr, xiS).getResult();
          pi = inverse ? nb.create<arith::AddFOp>(l, xiC, xrS).getResult()
                       : nb.create<arith::SubFOp>(l, xiC, xrS).getResult();
        } else {
          pi = inverse ? xrS : nb.create<arith::NegFOp>(l, xrS).getResult();
        }
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::AddFOp>(l, accRe, pr),
                          nb.create<arith::AddFOp>(l, accIm, pi)});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

/// Interleaves real and imaginary sums [...] into `type` [..., 2], times
/// `scale` (an acc scalar) when given.
static Value buildInterleave(OpBuilder &b, Location loc, RankedTensorType type,
                             Value re, Value im, Value scale) {
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i + 1 < rank; ++i)
    exprs.push_back(getAffineDimExpr(i, ctx));
  auto map = AffineMap::get(rank, 0, exprs, ctx);
  Type et = type.getElementType();
  return buildIndexed(
      b, loc, type, {re, im}, {map, map},
      [&](OpBuilder &nb, Location l, ValueRange args, ValueRange idx) -> Value {
        Value isRe =
            nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, idx[rank - 1],
                                     nb.create<arith::ConstantIndexOp>(l, 0));
        Value v = nb.create<arith::SelectOp>(l, isRe, args[0], args[1]);
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
      Value len = extractI64(rewriter, loc, lenInput);
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

    // Samples past the DFT length are dropped; missing ones are zeros.
    int64_t samples = n.known ? std::min(*n.known, inLen) : inLen;
    auto [re, im] = splitComplex(rewriter, loc, op.getInput(), axis, samples);
    Twiddles tw = buildTwiddles(rewriter, loc, n, bins, samples, acc);
    auto [sumRe, sumIm] =
        buildContraction(rewriter, loc, re, im, axis, tw, inverse);
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
        op, buildInterleave(rewriter, loc, yType, sumRe, sumIm, scale));
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
                        extractI64(rewriter, loc, lenInput), len),
                   "STFT",
                   hasWindow ? "frame_length differs from the window's length"
                             : "frame_length differs from the static output "
                               "shape");
    } else {
      len = extractI64(rewriter, loc, lenInput);
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
                           : extractI64(rewriter, loc, op.getFrameStep());
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

    // Frames [batch, frames, samples] (real and imaginary), windowed, in the
    // accumulator type; reads are clamped into the signal.
    Type acc = accTypeFor(et);
    int64_t samples =
        n.known ? *n.known : std::min<int64_t>(2 * bins - 1, length);
    auto frameType = RankedTensorType::get({batch, frames, samples}, acc);
    Value signal = op.getSignal();
    auto gather = [&](int64_t c) {
      SmallVector<Value> inputs;
      SmallVector<AffineMap> maps;
      if (hasWindow) {
        inputs.push_back(window);
        maps.push_back(
            AffineMap::get(3, 0, {getAffineDimExpr(2, rewriter.getContext())},
                           rewriter.getContext()));
      }
      return buildIndexed(
          rewriter, loc, frameType, inputs, maps,
          [&](OpBuilder &nb, Location l, ValueRange args,
              ValueRange idx) -> Value {
            Type i64 = nb.getI64Type();
            Value f = nb.create<arith::IndexCastOp>(l, i64, idx[1]);
            Value m = nb.create<arith::IndexCastOp>(l, i64, idx[2]);
            Value pos = nb.create<arith::AddIOp>(
                l, nb.create<arith::MulIOp>(l, f, step), m);
            pos =
                nb.create<arith::MinSIOp>(l, pos, i64Const(nb, l, length - 1));
            Value x = nb.create<tensor::ExtractOp>(
                l, signal,
                ValueRange{
                    idx[0],
                    nb.create<arith::IndexCastOp>(l, nb.getIndexType(), pos),
                    nb.create<arith::ConstantIndexOp>(l, c)});
            if (hasWindow)
              x = nb.create<arith::MulFOp>(l, x, args[0]);
            if (x.getType() != acc)
              x = nb.create<arith::ExtFOp>(l, acc, x);
            return x;
          });
    };
    Value re = gather(0), im = complexIn ? gather(1) : Value();
    Twiddles tw = buildTwiddles(rewriter, loc, n, bins, samples, acc);
    auto [sumRe, sumIm] =
        buildContraction(rewriter, loc, re, im, 2, tw, /*inverse=*/false);
    rewriter.replaceOp(
        op, buildInterleave(rewriter, loc, yType, sumRe, sumIm, Value()));
    return success();
  }
};

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
    Type i64 = rewriter.getI64Type(), f64 = rewriter.getF64Type(),
         f32 = rewriter.getF32Type();

    Value numMel = extractI64(rewriter, loc, op.getNumMelBins());
    Value dftLen = extractI64(rewriter, loc, op.getDftLength());
    Value rate = extractI64(rewriter, loc, op.getSampleRate());
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

    // mel(f) = 2595 log10(1 + f/700), through log1p (f32, libm-free).
    auto toF64 = [&](Value t) {
      return convertScalar(rewriter, loc, extractScalar(rewriter, loc, t), f64,
                           false, false);
    };
    const double melScale = 2595.0, hzScale = 700.0;
    auto mel = [&](Value hz) -> Value {
      Value r = rewriter.create<arith::DivFOp>(
          loc, hz, createScalar(rewriter, loc, f64, hzScale));
      r = rewriter.create<math::Log1pOp>(
          loc, rewriter.create<arith::TruncFOp>(loc, f32, r));
      return rewriter.create<arith::MulFOp>(
          loc, rewriter.create<arith::ExtFOp>(loc, f64, r),
          createScalar(rewriter, loc, f64, melScale / std::log(10.0)));
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
          Value e = nb.create<arith::MulFOp>(
              l, m, createScalar(nb, l, f64, std::log(10.0) / melScale));
          e = nb.create<math::ExpM1Op>(l,
                                       nb.create<arith::TruncFOp>(l, f32, e));
          Value hz =
              nb.create<arith::MulFOp>(l, nb.create<arith::ExtFOp>(l, f64, e),
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
