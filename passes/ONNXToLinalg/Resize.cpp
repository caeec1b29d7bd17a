//===- Resize.cpp - Lower onnx.Resize -------------------------------------===//
//
// This file implements the lowering of Resize. Every output coordinate maps
// to input coordinates through a 1-d function per axis, and the shapes are
// static, so the taps (neighbour indices, already clamped to the edge) and
// their coefficients are computed at compile time, following ONNX's
// reference implementation step by step (onnx/backend/test/case/node/
// resize.py), and stored as constant tables. One linalg.generic then sums,
// for each output element, the product of the per-axis coefficients times
// the input at the tapped indices.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include <cmath>

using namespace mlir;
using namespace kiln;

namespace {

/// The taps of one axis: for each output position, n (index, coefficient)
/// pairs, and whether the position lies outside the crop (extrapolated).
struct AxisTaps {
  int64_t taps = 1;
  std::vector<int64_t> index; // [out][taps]
  std::vector<double> coeff;  // [out][taps]
  std::vector<bool> outside;  // [out]
  bool identity = true;       // output i reads input i with weight 1
};

/// Parameters of the 1-d interpolation, as the reference names them.
struct ResizeParams {
  std::string mode, transform, nearestMode;
  double cubicA = -0.75;
  bool excludeOutside = false;
};

static std::vector<double> coefficients(const ResizeParams &p, double ratio,
                                        bool integer) {
  if (p.mode == "nearest") {
    if (integer)
      return {0, 1};
    if (p.nearestMode == "round_prefer_ceil")
      return {double(ratio < 0.5), double(ratio >= 0.5)};
    if (p.nearestMode == "floor")
      return {1, 0};
    if (p.nearestMode == "ceil")
      return {0, 1};
    return {double(ratio <= 0.5), double(ratio > 0.5)}; // round_prefer_floor
  }
  if (p.mode == "linear")
    return {1 - ratio, ratio};
  double a = p.cubicA, r = ratio, s = 1 - ratio;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1,
          ((a + 2) * s - (a + 3)) * s * s + 1,
          ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a};
}

/// The n input indices nearest to x (ties to the smaller), as the reference
/// picks them from the edge-padded input, before clamping.
static std::vector<int64_t> neighbours(double x, int64_t n, int64_t length) {
  int64_t pad = (n + 1) / 2;
  double xp = x + pad;
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < length + 2 * pad; ++i)
    idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    double da = std::abs(xp - a), db = std::abs(xp - b);
    return da != db ? da < db : a < b;
  });
  idx.resize(n);
  std::sort(idx.begin(), idx.end());
  for (int64_t &i : idx)
    i -= pad;
  return idx;
}

static AxisTaps axisTaps(const ResizeParams &p, int64_t inLen, int64_t outLen,
                         double scale, double roiStart, double roiEnd) {
  AxisTaps t;
  t.taps = p.mode == "cubic" ? 4 : 2;
  double outWidth = scale * inLen;
  for (int64_t x = 0; x < outLen; ++x) {
    double xo = 0;
    bool outside = false;
    if (p.transform == "align_corners") {
      xo = outWidth == 1 ? 0 : x * double(inLen - 1) / (outWidth - 1);
    } else if (p.transform == "asymmetric") {
      xo = x / scale;
    } else if (p.transform == "tf_crop_and_resize") {
      xo = outWidth == 1
               ? (roiEnd - roiStart) * (inLen - 1) / 2
               : x * (roiEnd - roiStart) * (inLen - 1) / (outWidth - 1);
      xo += roiStart * (inLen - 1);
      outside = xo < 0 || xo > inLen - 1;
    } else if (p.transform == "pytorch_half_pixel") {
      xo = outWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    } else if (p.transform == "tf_half_pixel_for_nn") {
      xo = (x + 0.5) / scale;
    } else { // half_pixel
      xo = (x + 0.5) / scale - 0.5;
    }
    double fl = std::floor(xo);
    bool integer = xo == fl;
    double ratio = integer ? 1 : xo - fl;
    std::vector<double> c = coefficients(p, ratio, integer);
    std::vector<int64_t> idx = neighbours(xo, t.taps, inLen);
    if (p.excludeOutside) {
      double sum = 0;
      for (int64_t k = 0; k < t.taps; ++k) {
        if (idx[k] < 0 || idx[k] >= inLen)
          c[k] = 0;
        sum += c[k];
      }
      for (double &v : c)
        v /= sum;
    }
    for (int64_t k = 0; k < t.taps; ++k) {
      int64_t clamped = std::clamp<int64_t>(idx[k], 0, inLen - 1);
      t.index.push_back(clamped);
      t.coeff.push_back(c[k]);
      // Identity: this tap is the only one with weight, at input x.
      if (c[k] != 0 && (clamped != x || c[k] != 1))
        t.identity = false;
    }
    t.outside.push_back(outside);
    if (outside || inLen != outLen)
      t.identity = false;
  }
  return t;
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
    if (p.mode != "nearest" && !isFloat(et))
      return unsupported(op, "linear and cubic Resize need a float input");

    // Scale factors: the constant scales if given, else output / input.
    SmallVector<double> scales;
    if (!onnx::isNoValue(op.getScales()) &&
        tensorType(op.getScales()).getNumElements() > 0) {
      auto data = getConstantData(op.getScales());
      if (!data)
        return unsupported(op, "Resize scales must be a constant");
      for (const APFloat &v : data.getValues<APFloat>())
        scales.push_back(v.convertToDouble());
    } else {
      for (int64_t i = 0; i < rank; ++i)
        scales.push_back(double(yType.getDimSize(i)) / xType.getDimSize(i));
    }
    if ((int64_t)scales.size() != rank)
      return unsupported(op, "Resize scales do not match the input's rank");
    SmallVector<double> roi(2 * rank, 0);
    for (int64_t i = 0; i < rank; ++i)
      roi[rank + i] = 1;
    if (p.transform == "tf_crop_and_resize") {
      auto data = onnx::isNoValue(op.getRoi()) ? DenseElementsAttr()
                                               : getConstantData(op.getRoi());
      if (!data || data.getNumElements() != 2 * rank)
        return unsupported(op, "tf_crop_and_resize needs a constant roi");
      roi.clear();
      for (const APFloat &v : data.getValues<APFloat>())
        roi.push_back(v.convertToDouble());
    }

    SmallVector<AxisTaps> axes;
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(axisTaps(p, xType.getDimSize(i), yType.getDimSize(i),
                              scales[i], roi[i], roi[rank + i]));

    // Constant tables for the non-identity axes.
    SmallVector<Value> idxTables(rank), coeffTables(rank), outsideTables(rank);
    bool anyOutside = false;
    for (int64_t i = 0; i < rank; ++i) {
      const AxisTaps &t = axes[i];
      if (t.identity)
        continue;
      int64_t out = yType.getDimSize(i);
      auto idxType =
          RankedTensorType::get({out, t.taps}, rewriter.getIndexType());
      SmallVector<APInt> idx;
      for (int64_t v : t.index)
        idx.push_back(APInt(64, v));
      idxTables[i] = rewriter.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(idxType, idx));
      auto coeffType =
          RankedTensorType::get({out, t.taps}, rewriter.getF64Type());
      coeffTables[i] = rewriter.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(coeffType, ArrayRef<double>(t.coeff)));
      if (llvm::is_contained(t.outside, true)) {
        anyOutside = true;
        SmallVector<bool> bits(t.outside.begin(), t.outside.end());
        outsideTables[i] = rewriter.create<arith::ConstantOp>(
            loc, DenseElementsAttr::get(
                     RankedTensorType::get({out}, rewriter.getI1Type()),
                     ArrayRef<bool>(bits)));
      }
    }

    Value x = op.getX();
    double extrapolation = op.getExtrapolationValue().convertToDouble();
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{yType}, ValueRange{},
        ValueRange{createEmpty(rewriter, loc, yType)}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> pos;
          for (int64_t i = 0; i < rank; ++i)
            pos.push_back(b.create<linalg::IndexOp>(l, i));
          // Per axis, its taps as (index, coefficient) values.
          SmallVector<SmallVector<std::pair<Value, Value>>> taps(rank);
          for (int64_t i = 0; i < rank; ++i) {
            if (axes[i].identity) {
              taps[i].push_back({pos[i], Value()});
              continue;
            }
            for (int64_t k = 0; k < axes[i].taps; ++k) {
              Value kv = b.create<arith::ConstantIndexOp>(l, k);
              Value idx = b.create<tensor::ExtractOp>(l, idxTables[i],
                                                      ValueRange{pos[i], kv});
              Value c = b.create<tensor::ExtractOp>(l, coeffTables[i],
                                                    ValueRange{pos[i], kv});
              taps[i].push_back({idx, c});
            }
          }
          Value result;
          if (p.mode == "nearest") {
            // The tap with coefficient 1 on each axis.
            SmallVector<Value> at;
            for (int64_t i = 0; i < rank; ++i) {
              if (axes[i].identity) {
                at.push_back(pos[i]);
                continue;
              }
              Value chosen = taps[i][0].first;
              for (auto [idx, c] : ArrayRef(taps[i]).drop_front()) {
                Value one = b.create<arith::CmpFOp>(
                    l, arith::CmpFPredicate::OEQ, c,
                    createScalar(b, l, b.getF64Type(), 1));
                chosen = b.create<arith::SelectOp>(l, one, idx, chosen);
              }
              at.push_back(chosen);
            }
            result = b.create<tensor::ExtractOp>(l, x, at);
          } else {
            // Sum over the tensor product of the taps, in f64.
            Type f64 = b.getF64Type();
            Value sum = createScalar(b, l, f64, 0);
            SmallVector<size_t> k(rank, 0);
            while (true) {
              SmallVector<Value> at;
              Value w = createScalar(b, l, f64, 1);
              for (int64_t i = 0; i < rank; ++i) {
                at.push_back(taps[i][k[i]].first);
                if (Value c = taps[i][k[i]].second)
                  w = b.create<arith::MulFOp>(l, w, c);
              }
              Value v =
                  convertScalar(b, l, b.create<tensor::ExtractOp>(l, x, at),
                                f64, false, false);
              sum = b.create<arith::AddFOp>(l, sum,
                                            b.create<arith::MulFOp>(l, w, v));
              int64_t i = rank - 1;
              while (i >= 0 && ++k[i] == taps[i].size())
                k[i--] = 0;
              if (i < 0)
                break;
            }
            result = convertScalar(b, l, sum, et, false, false);
          }
          if (anyOutside) {
            Value outside = createScalar(b, l, b.getI1Type(), 0);
            for (int64_t i = 0; i < rank; ++i)
              if (outsideTables[i])
                outside = b.create<arith::OrIOp>(
                    l, outside,
                    b.create<tensor::ExtractOp>(l, outsideTables[i], pos[i]));
            result = b.create<arith::SelectOp>(
                l, outside, createScalar(b, l, et, extrapolation), result);
          }
          b.create<linalg::YieldOp>(l, result);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void kiln::populateResizePatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeLowering>(patterns.getContext());
}
