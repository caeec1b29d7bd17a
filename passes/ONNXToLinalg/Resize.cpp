//===- Resize.cpp - Lower onnx.Resize -------------------------------------===//
//
// This file implements the lowering of Resize. Every output coordinate maps
// to input coordinates through a 1-d function per axis. The output shape is
// static, but `scales` and the `roi` of tf_crop_and_resize may be run-time
// values, so each resized axis first gets small tables over its output
// length, built by a 1-d linalg.generic in closed form from the coordinate
// transform of ONNX's reference (onnx/backend/test/case/node/resize.py),
// computed in f64 as it does: the taps (neighbour indices, clamped to the
// edge), their coefficients, and whether the position lies outside the crop.
// Constant scales build the same IR with constant operands. Nearest then
// gathers the input through the index tables in one linalg.generic; linear
// and cubic interpolate one axis at a time (their weights are a tensor
// product), so an element costs the sum, not the product, of the axes' taps.
// Run-time scales are checked against the static output shape with
// cf.assert.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <optional>

using namespace mlir;
using namespace kiln;

namespace {

/// Parameters of the 1-d interpolation, as the reference names them.
struct ResizeParams {
  std::string mode, transform, nearestMode;
  double cubicA = -0.75;
  bool excludeOutside = false;
  bool nearest() const { return mode == "nearest"; }
  bool crop() const { return transform == "tf_crop_and_resize"; }
  /// The number of neighbours the reference takes around a coordinate.
  int64_t window() const { return mode == "cubic" ? 4 : 2; }
};

/// The per-axis tables over the output length.
struct AxisTables {
  SmallVector<Value> index; // per tap: tensor<out x index>, edge-clamped
  SmallVector<Value> coeff; // per tap: tensor<out x acc> (not for nearest)
  Value outside;            // tensor<out x i1>, tf_crop_and_resize only
};

/// The cubic convolution coefficients of taps -1, 0, 1, 2 at `ratio`
/// (reference's cubic_coeffs), as a function of scalar arithmetic `T`.
template <typename T, typename Mul, typename Add>
static std::array<T, 4> cubicCoeffs(T a, T r, T one, T two, T three, T four,
                                    T five, T eight, Mul mul, Add add) {
  auto sub = [&](T x, T y) { return add(x, y, /*negate=*/true); };
  auto outer = [&](T t) { // ((a*t - 5a)*t + 8a)*t - 4a
    T v = sub(mul(a, t), mul(five, a));
    v = add(mul(v, t), mul(eight, a), false);
    return sub(mul(v, t), mul(four, a));
  };
  auto inner = [&](T t) { // ((a+2)*t - (a+3))*t*t + 1
    T v = sub(mul(add(a, two, false), t), add(a, three, false));
    return add(mul(mul(v, t), t), one, false);
  };
  T s = sub(one, r);
  return {outer(add(r, one, false)), inner(r), inner(s),
          outer(add(s, one, false))};
}

/// Builds the tables of one axis: a 1-d linalg.generic over the output
/// length. `scale`, `roiStart` and `roiEnd` are f64 scalars (the roi only for
/// tf_crop_and_resize).
static AxisTables buildAxisTables(OpBuilder &b, Location loc,
                                  const ResizeParams &p, int64_t inLen,
                                  int64_t outLen, Value scale, Value roiStart,
                                  Value roiEnd, Type accType) {
  Type f64 = b.getF64Type(), i64 = b.getI64Type();
  int64_t window = p.window(), pad = window / 2;
  int64_t taps = p.nearest() ? 1 : window;
  SmallVector<Type> types;
  SmallVector<Value> inits;
  auto addTable = [&](Type et) {
    auto type = RankedTensorType::get({outLen}, et);
    types.push_back(type);
    inits.push_back(createEmpty(b, loc, type));
  };
  for (int64_t k = 0; k < taps; ++k)
    addTable(b.getIndexType());
  if (!p.nearest())
    for (int64_t k = 0; k < taps; ++k)
      addTable(accType);
  if (p.crop())
    addTable(b.getI1Type());

  // Loop-invariant scalars: the reference's output_width = scale * in.
  Value outWidth =
      b.create<arith::MulFOp>(loc, scale, createScalar(b, loc, f64, inLen));
  Value widthIsOne = b.create<arith::CmpFOp>(
      loc, arith::CmpFPredicate::OEQ, outWidth, createScalar(b, loc, f64, 1));
  SmallVector<AffineMap> maps(types.size(), b.getMultiDimIdentityMap(1));
  auto generic = b.create<linalg::GenericOp>(
      loc, types, ValueRange{}, inits, maps,
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange) {
        auto c = [&](double v) { return createScalar(nb, l, f64, v); };
        auto ci = [&](int64_t v) { return createScalar(nb, l, i64, v); };
        auto add = [&](Value x, Value y) -> Value {
          return nb.create<arith::AddFOp>(l, x, y);
        };
        auto sub = [&](Value x, Value y) -> Value {
          return nb.create<arith::SubFOp>(l, x, y);
        };
        auto mul = [&](Value x, Value y) -> Value {
          return nb.create<arith::MulFOp>(l, x, y);
        };
        auto div = [&](Value x, Value y) -> Value {
          return nb.create<arith::DivFOp>(l, x, y);
        };
        auto cmp = [&](arith::CmpFPredicate pred, Value x, Value y) -> Value {
          return nb.create<arith::CmpFOp>(l, pred, x, y);
        };
        auto select = [&](Value cond, Value x, Value y) -> Value {
          return nb.create<arith::SelectOp>(l, cond, x, y);
        };
        Value x = nb.create<arith::SIToFPOp>(
            l, f64,
            nb.create<arith::IndexCastOp>(l, i64,
                                          nb.create<linalg::IndexOp>(l, 0)));

        // x_original, in the reference's order of operations.
        Value xo, outside;
        Value last = c(double(inLen - 1));
        if (p.transform == "align_corners") {
          xo = select(widthIsOne, c(0), div(mul(x, last), sub(outWidth, c(1))));
        } else if (p.transform == "asymmetric") {
          xo = div(x, scale);
        } else if (p.crop()) {
          Value span = sub(roiEnd, roiStart);
          xo = select(widthIsOne, div(mul(span, last), c(2)),
                      div(mul(mul(x, span), last), sub(outWidth, c(1))));
          xo = add(xo, mul(roiStart, last));
          outside = nb.create<arith::OrIOp>(
              l, cmp(arith::CmpFPredicate::OLT, xo, c(0)),
              cmp(arith::CmpFPredicate::OGT, xo, last));
        } else if (p.transform == "pytorch_half_pixel") {
          xo = select(widthIsOne, c(-0.5),
                      sub(div(add(x, c(0.5)), scale), c(0.5)));
        } else if (p.transform == "tf_half_pixel_for_nn") {
          xo = div(add(x, c(0.5)), scale);
        } else { // half_pixel
          xo = sub(div(add(x, c(0.5)), scale), c(0.5));
        }

        // The ratio in (0, 1] from the tap left of x_original.
        Value floor = nb.create<math::FloorOp>(l, xo);
        Value isInteger = cmp(arith::CmpFPredicate::OEQ, xo, floor);
        Value ratio = select(isInteger, c(1), sub(xo, floor));

        // The reference takes the `window` indices of the edge-padded axis
        // nearest to x_original (ties to the smaller): ceil(x) - window / 2
        // onwards, kept inside the padded axis [-pad, inLen + pad). Clamping
        // x first keeps the conversion defined for any scale.
        Value xc = nb.create<arith::MinNumFOp>(
            l, nb.create<arith::MaxNumFOp>(l, xo, c(double(-pad - 1))),
            c(double(inLen + pad + 1)));
        Value start = nb.create<arith::SubIOp>(
            l,
            nb.create<arith::FPToSIOp>(l, i64, nb.create<math::CeilOp>(l, xc)),
            ci(window / 2));
        start = nb.create<arith::MinSIOp>(
            l, nb.create<arith::MaxSIOp>(l, start, ci(-pad)),
            ci(inLen + pad - window));
        auto tapIndex = [&](Value raw) -> Value {
          Value clamped = nb.create<arith::MinSIOp>(
              l, nb.create<arith::MaxSIOp>(l, raw, ci(0)), ci(inLen - 1));
          return nb.create<arith::IndexCastOp>(l, nb.getIndexType(), clamped);
        };

        SmallVector<Value> results;
        if (p.nearest()) {
          // Tap 1 (the ceiling) has the coefficient 1 when x_original is an
          // integer or when the nearest_mode rounds up.
          Value up = isInteger;
          if (p.nearestMode == "ceil")
            up = createScalar(nb, l, nb.getI1Type(), 1);
          else if (p.nearestMode == "round_prefer_ceil")
            up = cmp(arith::CmpFPredicate::OGE, ratio, c(0.5));
          else if (p.nearestMode == "round_prefer_floor")
            up = cmp(arith::CmpFPredicate::OGT, ratio, c(0.5));
          up = nb.create<arith::OrIOp>(l, up, isInteger);
          results.push_back(tapIndex(nb.create<arith::AddIOp>(
              l, start, nb.create<arith::ExtUIOp>(l, i64, up))));
        } else {
          SmallVector<Value> coeffs;
          if (p.mode == "linear") {
            coeffs = {sub(c(1), ratio), ratio};
          } else {
            auto arr = cubicCoeffs<Value>(
                c(p.cubicA), ratio, c(1), c(2), c(3), c(4), c(5), c(8), mul,
                [&](Value x, Value y, bool negate) {
                  return negate ? sub(x, y) : add(x, y);
                });
            coeffs.assign(arr.begin(), arr.end());
          }
          SmallVector<Value> raw;
          for (int64_t k = 0; k < window; ++k)
            raw.push_back(nb.create<arith::AddIOp>(l, start, ci(k)));
          if (p.excludeOutside) {
            // Taps outside the axis get 0; the rest are renormalised.
            Value sum;
            for (int64_t k = 0; k < window; ++k) {
              Value inside = nb.create<arith::AndIOp>(
                  l,
                  nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, raw[k],
                                           ci(0)),
                  nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, raw[k],
                                           ci(inLen)));
              coeffs[k] = select(inside, coeffs[k], c(0));
              sum = sum ? add(sum, coeffs[k]) : coeffs[k];
            }
            for (Value &v : coeffs)
              v = div(v, sum);
          }
          for (int64_t k = 0; k < window; ++k)
            results.push_back(tapIndex(raw[k]));
          for (Value v : coeffs)
            results.push_back(convertScalar(nb, l, v, accType, false, false));
        }
        if (outside)
          results.push_back(outside);
        nb.create<linalg::YieldOp>(l, results);
      });

  AxisTables t;
  ValueRange res = generic.getResults();
  t.index.assign(res.begin(), res.begin() + taps);
  if (!p.nearest())
    t.coeff.assign(res.begin() + taps, res.begin() + 2 * taps);
  if (p.crop())
    t.outside = res.back();
  return t;
}

/// Whether the axis maps output i to input i with weight 1, so that it needs
/// no tables. Only decided for axes whose scale is known at compile time, or
/// of length 1 (every tap reads element 0 and the weights sum to 1).
static bool isIdentityAxis(const ResizeParams &p, int64_t inLen, int64_t outLen,
                           std::optional<double> scale) {
  if (p.crop() || inLen != outLen)
    return false;
  if (inLen == 1)
    return true;
  if (scale != 1.0 || p.transform == "tf_half_pixel_for_nn")
    return false;
  // x_original = x exactly: nearest and linear take tap x with weight 1;
  // cubic does when its coefficients at ratio 1 are exactly 0, 0, 1, 0.
  if (p.mode != "cubic")
    return true;
  auto arr = cubicCoeffs<double>(
      p.cubicA, 1, 1, 2, 3, 4, 5, 8, [](double x, double y) { return x * y; },
      [](double x, double y, bool negate) { return negate ? x - y : x + y; });
  return arr[0] == 0 && arr[1] == 0 && arr[2] == 1 && arr[3] == 0;
}

/// Element `i` of a 1-d tensor as an f64 scalar.
static Value extractF64(OpBuilder &b, Location loc, Value t, int64_t i) {
  Value v = b.create<tensor::ExtractOp>(
      loc, t, ValueRange{b.create<arith::ConstantIndexOp>(loc, i)});
  return convertScalar(b, loc, v, b.getF64Type(), false, false);
}

struct ResizeLowering : OpRewritePattern<onnx::ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ResizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    int64_t rank = xType.getRank();
    ResizeParams p{
        op.getMode().str(), op.getCoordinateTransformationMode().str(),
        op.getNearestMode().str(), op.getCubicCoeffA().convertToDouble(),
        op.getExcludeOutside() != 0};
    if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic")
      return unsupported(op, "unknown Resize mode '" + p.mode + "'");
    if (!llvm::is_contained({"half_pixel", "pytorch_half_pixel",
                             "align_corners", "asymmetric",
                             "tf_half_pixel_for_nn", "tf_crop_and_resize"},
                            p.transform))
      return unsupported(op, "unknown Resize coordinate_transformation_mode '" +
                                 p.transform + "'");
    if (p.nearest() &&
        !llvm::is_contained(
            {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
            p.nearestMode))
      return unsupported(op,
                         "unknown Resize nearest_mode '" + p.nearestMode + "'");
    if (!p.nearest() && !isFloat(et))
      return unsupported(op, "linear and cubic Resize need a float input");
    for (int64_t i = 0; i < rank; ++i)
      if (xType.getDimSize(i) == 0 && yType.getDimSize(i) != 0)
        return unsupported(op, "Resize cannot fill an axis from an empty one");
    if (p.crop() && (onnx::isNoValue(op.getRoi()) ||
                     tensorType(op.getRoi()).getNumElements() != 2 * rank ||
                     !isFloat(tensorType(op.getRoi()).getElementType())))
      return unsupported(op,
                         "tf_crop_and_resize needs a roi of 2 x rank floats");
    bool hasScales = !onnx::isNoValue(op.getScales()) &&
                     tensorType(op.getScales()).getNumElements() > 0;
    bool constantSizes = false;
    if (hasScales) {
      if (tensorType(op.getScales()).getNumElements() != rank ||
          !isFloat(tensorType(op.getScales()).getElementType()))
        return unsupported(op, "Resize scales must be rank float values");
    } else {
      if (onnx::isNoValue(op.getSizes()) ||
          tensorType(op.getSizes()).getNumElements() != rank)
        return unsupported(op, "Resize needs scales or sizes of rank values");
      SmallVector<int64_t> sizes;
      constantSizes = succeeded(getConstantInts(op.getSizes(), sizes));
      if (constantSizes && ArrayRef(sizes) != yType.getShape())
        return unsupported(op, "Resize sizes differ from the output shape");
    }

    Type f64 = rewriter.getF64Type();
    auto f64Const = [&](double v) {
      return createScalar(rewriter, loc, f64, v);
    };
    auto assertThat = [&](Value ok, const Twine &what) {
      rewriter.create<cf::AssertOp>(loc, ok, ("Resize: " + what).str());
    };

    // The roi bounds of tf_crop_and_resize, as f64 scalars.
    SmallVector<Value> roi;
    if (p.crop()) {
      if (auto data = getConstantData(op.getRoi())) {
        for (const APFloat &v : data.getValues<APFloat>())
          roi.push_back(f64Const(v.convertToDouble()));
      } else {
        for (int64_t i = 0; i < 2 * rank; ++i)
          roi.push_back(extractF64(rewriter, loc, op.getRoi(), i));
      }
    }

    // Scale factors as f64 scalars: `scales` if given, else output / input.
    // Those known at compile time are also kept as numbers.
    SmallVector<Value> scale(rank);
    SmallVector<std::optional<double>> known(rank);
    if (hasScales) {
      if (auto data = getConstantData(op.getScales())) {
        for (auto [i, v] : llvm::enumerate(data.getValues<APFloat>())) {
          known[i] = v.convertToDouble();
          scale[i] = f64Const(*known[i]);
        }
      } else {
        for (int64_t i = 0; i < rank; ++i)
          scale[i] = extractF64(rewriter, loc, op.getScales(), i);
      }
    } else {
      if (!constantSizes) {
        for (int64_t i = 0; i < rank; ++i) {
          Value v = rewriter.create<tensor::ExtractOp>(
              loc, op.getSizes(),
              ValueRange{rewriter.create<arith::ConstantIndexOp>(loc, i)});
          v = convertScalar(rewriter, loc, v, rewriter.getI64Type(), false,
                            false);
          assertThat(rewriter.create<arith::CmpIOp>(
                         loc, arith::CmpIPredicate::eq, v,
                         createScalar(rewriter, loc, rewriter.getI64Type(),
                                      yType.getDimSize(i))),
                     "sizes differ from the static output shape");
        }
      }
      for (int64_t i = 0; i < rank; ++i) {
        known[i] = double(yType.getDimSize(i)) / xType.getDimSize(i);
        scale[i] = f64Const(*known[i]);
      }
    }

    // Run-time scales must give the static output length: floor(in * scale)
    // as the reference computes it (f64) or as ONNX's shape inference does
    // (f32), or, for tf_crop_and_resize, with the spec's roi factor.
    for (int64_t i = 0; i < rank && hasScales; ++i) {
      if (known[i])
        continue;
      int64_t in = xType.getDimSize(i), out = yType.getDimSize(i);
      auto floorIs = [&](Value v) -> Value {
        Type t = v.getType();
        return rewriter.create<arith::CmpFOp>(
            loc, arith::CmpFPredicate::OEQ,
            rewriter.create<math::FloorOp>(loc, v),
            createScalar(rewriter, loc, t, out));
      };
      Value ok =
          floorIs(rewriter.create<arith::MulFOp>(loc, f64Const(in), scale[i]));
      Type f32 = rewriter.getF32Type();
      ok = rewriter.create<arith::OrIOp>(
          loc, ok,
          floorIs(rewriter.create<arith::MulFOp>(
              loc, createScalar(rewriter, loc, f32, in),
              rewriter.create<arith::TruncFOp>(loc, f32, scale[i]))));
      if (p.crop()) {
        Value span = rewriter.create<arith::SubFOp>(loc, roi[rank + i], roi[i]);
        ok = rewriter.create<arith::OrIOp>(
            loc, ok,
            floorIs(rewriter.create<arith::MulFOp>(
                loc, rewriter.create<arith::MulFOp>(loc, f64Const(in), span),
                scale[i])));
      }
      assertThat(ok, "floor(input length * scale) differs from the static "
                     "output length on axis " +
                         Twine(i));
    }

    SmallVector<int64_t> axes;
    for (int64_t i = 0; i < rank; ++i)
      if (!isIdentityAxis(p, xType.getDimSize(i), yType.getDimSize(i),
                          known[i]))
        axes.push_back(i);
    if (axes.empty()) {
      rewriter.replaceOp(op, op.getX());
      return success();
    }
    double extrapolation = op.getExtrapolationValue().convertToDouble();
    auto tablesOf = [&](int64_t i, Type accType) {
      return buildAxisTables(rewriter, loc, p, xType.getDimSize(i),
                             yType.getDimSize(i), scale[i],
                             p.crop() ? roi[i] : Value(),
                             p.crop() ? roi[rank + i] : Value(), accType);
    };
    auto axisMap = [&](int64_t i) {
      return AffineMap::get(rank, 0, rewriter.getAffineDimExpr(i));
    };

    Value x = op.getX();
    if (p.nearest()) {
      // One gather through the index tables.
      SmallVector<Value> inputs, outsides;
      SmallVector<AffineMap> maps;
      for (int64_t i : axes) {
        AxisTables t = tablesOf(i, f64);
        inputs.push_back(t.index[0]);
        maps.push_back(axisMap(i));
        if (t.outside)
          outsides.push_back(t.outside);
      }
      for (auto [o, i] : llvm::zip(outsides, axes)) {
        inputs.push_back(o);
        maps.push_back(axisMap(i));
      }
      Value result = buildIndexed(
          rewriter, loc, yType, inputs, maps,
          [&](OpBuilder &b, Location l, ValueRange args, ValueRange pos) {
            SmallVector<Value> at(pos.begin(), pos.end());
            for (auto [k, i] : llvm::enumerate(axes))
              at[i] = args[k];
            Value v = b.create<tensor::ExtractOp>(l, x, at);
            if (p.crop()) {
              Value out = args[axes.size()];
              for (Value o : args.drop_front(axes.size() + 1))
                out = b.create<arith::OrIOp>(l, out, o);
              v = b.create<arith::SelectOp>(
                  l, out, createScalar(b, l, et, extrapolation), v);
            }
            return v;
          });
      rewriter.replaceOp(op, result);
      return success();
    }

    // Linear and cubic: one pass per resized axis, the one that shrinks the
    // data most first, accumulating in f32 (f64 for f64 data).
    Type accType = et.isF64() ? f64 : Type(rewriter.getF32Type());
    auto ratioOf = [&](int64_t i) {
      return double(yType.getDimSize(i)) / xType.getDimSize(i);
    };
    llvm::sort(axes, [&](int64_t a, int64_t b) {
      return std::make_pair(ratioOf(a), a) < std::make_pair(ratioOf(b), b);
    });
    SmallVector<int64_t> shape(xType.getShape());
    for (size_t n = 0; n < axes.size(); ++n) {
      int64_t i = axes[n];
      AxisTables t = tablesOf(i, accType);
      shape[i] = yType.getDimSize(i);
      bool lastPass = n + 1 == axes.size();
      auto type = lastPass ? yType : RankedTensorType::get(shape, accType);
      SmallVector<Value> inputs(t.index);
      inputs.append(t.coeff);
      if (t.outside)
        inputs.push_back(t.outside);
      SmallVector<AffineMap> maps(inputs.size(), axisMap(i));
      int64_t taps = t.index.size();
      Value cur = x;
      x = buildIndexed(
          rewriter, loc, type, inputs, maps,
          [&](OpBuilder &b, Location l, ValueRange args, ValueRange pos) {
            SmallVector<Value> at(pos.begin(), pos.end());
            Value sum;
            for (int64_t k = 0; k < taps; ++k) {
              at[i] = args[k];
              Value v =
                  convertScalar(b, l, b.create<tensor::ExtractOp>(l, cur, at),
                                accType, false, false);
              Value term = b.create<arith::MulFOp>(l, args[taps + k], v);
              sum = sum ? b.create<arith::AddFOp>(l, sum, term) : term;
            }
            if (t.outside)
              sum = b.create<arith::SelectOp>(
                  l, args[2 * taps], createScalar(b, l, accType, extrapolation),
                  sum);
            return convertScalar(b, l, sum, type.getElementType(), false,
                                 false);
          });
    }
    rewriter.replaceOp(op, x);
    return success();
  }
};

} // namespace

void kiln::populateResizePatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeLowering>(patterns.getContext());
}
