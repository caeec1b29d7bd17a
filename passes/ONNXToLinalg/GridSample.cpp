//===- GridSample.cpp - Lower onnx.GridSample -----------------------------===//
//
// This file implements the lowering of GridSample. One linalg.generic over
// the output [N, C, H_out, W_out] reads the grid's (x, y) for its (n, h, w),
// maps them to input pixel coordinates (align_corners, then the padding
// mode: border clips, reflection folds at the borders), and gathers the
// input with tensor.extract at indices clamped into the image; taps outside
// it read zero. Nearest rounds half to even, bilinear weighs four taps and
// bicubic sixteen with A = -0.75, each step as PyTorch's grid_sample (which
// produced ONNX's reference outputs) computes it, in f32 or wider.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace kiln;

namespace {

/// Scalar arithmetic of one output element in the compute type `ct`.
struct Sampler {
  OpBuilder &b;
  Location loc;
  Type ct;
  bool alignCorners;
  StringRef padding;

  Value cst(double v) { return createScalar(b, loc, ct, v); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value floor(Value x) { return b.create<math::FloorOp>(loc, x); }
  /// min(hi, max(x, lo)), a number even for a NaN x.
  Value clip(Value x, double lo, double hi) {
    return b.create<arith::MinNumFOp>(
        loc, b.create<arith::MaxNumFOp>(loc, x, cst(lo)), cst(hi));
  }

  /// From [-1, 1] to pixel coordinates along an axis of `size` pixels.
  Value unnormalize(Value coord, int64_t size) {
    if (alignCorners)
      return mul(mul(add(coord, cst(1)), cst(0.5)), cst(size - 1));
    return mul(sub(mul(add(coord, cst(1)), cst(size)), cst(1)), cst(0.5));
  }

  /// Folds `x` into [twiceLow / 2, twiceHigh / 2] by reflecting it at the
  /// bounds as often as needed.
  Value reflect(Value x, int64_t twiceLow, int64_t twiceHigh) {
    if (twiceLow == twiceHigh)
      return cst(0);
    double min = twiceLow / 2.0, span = (twiceHigh - twiceLow) / 2.0;
    Value in = b.create<math::AbsFOp>(loc, sub(x, cst(min)));
    Value extra = b.create<arith::RemFOp>(loc, in, cst(span));
    Value flips = floor(b.create<arith::DivFOp>(loc, in, cst(span)));
    Value even = b.create<arith::CmpFOp>(
        loc, arith::CmpFPredicate::OEQ,
        b.create<arith::RemFOp>(loc, flips, cst(2)), cst(0));
    return b.create<arith::SelectOp>(loc, even, add(extra, cst(min)),
                                     add(sub(cst(span), extra), cst(min)));
  }

  /// The padding mode applied to a pixel coordinate: border clips into the
  /// image, reflection folds at its borders (pixel centres with
  /// align_corners, else pixel edges) and then clips.
  Value pad(Value x, int64_t size) {
    if (padding == "border")
      return clip(x, 0, size - 1);
    if (padding == "reflection") {
      x = alignCorners ? reflect(x, 0, 2 * (size - 1))
                       : reflect(x, -1, 2 * size - 1);
      return clip(x, 0, size - 1);
    }
    return x;
  }

  /// Keys' cubic convolution weights for the four taps around fraction t.
  SmallVector<Value> cubicWeights(Value t) {
    const double a = -0.75;
    auto near = [&](Value x) { // |x| <= 1
      return add(mul(mul(sub(mul(cst(a + 2), x), cst(a + 3)), x), x), cst(1));
    };
    auto far = [&](Value x) { // 1 < |x| < 2
      return sub(mul(add(mul(mul(cst(a), sub(x, cst(5))), x), cst(8 * a)), x),
                 cst(4 * a));
    };
    return {far(add(t, cst(1))), near(t), near(sub(cst(1), t)),
            far(sub(cst(2), t))};
  }
};

struct GridSampleLowering : OpRewritePattern<onnx::GridSampleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GridSampleOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX()), gType = tensorType(op.getGrid());
    auto yType = tensorType(op.getY());
    Type et = xType.getElementType(), gt = gType.getElementType();
    StringRef mode = op.getMode();
    if (!isFloat(gt))
      return unsupported(op, "GridSample needs a float grid");
    if (!isFloat(et) && mode != "nearest")
      return unsupported(op, "GridSample interpolates only float inputs; "
                             "use mode 'nearest' for other types");
    // Coordinates and weights in f32, or f64 when an operand is.
    Type ct = rewriter.getF32Type();
    if ((isFloat(et) && et.getIntOrFloatBitWidth() > 32) ||
        gt.getIntOrFloatBitWidth() > 32)
      ct = rewriter.getF64Type();
    int64_t n = gType.getDimSize(0), ho = gType.getDimSize(1),
            wo = gType.getDimSize(2);
    int64_t height = xType.getDimSize(2), width = xType.getDimSize(3);
    if (height < 1 || width < 1)
      return unsupported(op, "GridSample needs a non-empty image");

    // The grid's x and y planes, [N, H_out, W_out] each.
    auto planeType = RankedTensorType::get({n, ho, wo}, gt);
    auto one = rewriter.getIndexAttr(1);
    SmallVector<Value> planes;
    for (int64_t i = 0; i < 2; ++i)
      planes.push_back(rewriter.create<tensor::ExtractSliceOp>(
          loc, planeType, op.getGrid(),
          ArrayRef<OpFoldResult>{
              rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
              rewriter.getIndexAttr(0), rewriter.getIndexAttr(i)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(n),
                                 rewriter.getIndexAttr(ho),
                                 rewriter.getIndexAttr(wo), one},
          ArrayRef<OpFoldResult>{one, one, one, one}));
    MLIRContext *ctx = getContext();
    AffineExpr dn, dc, dh, dw;
    bindDims(ctx, dn, dc, dh, dw);
    auto planeMap = AffineMap::get(4, 0, {dn, dh, dw}, ctx);
    Value x = op.getX();
    bool alignCorners = op.getAlignCorners() != 0;
    StringRef padding = op.getPaddingMode();

    Value y = buildIndexed(
        rewriter, loc, yType, planes, {planeMap, planeMap},
        [&](OpBuilder &b, Location l, ValueRange args, ValueRange idx) {
          Sampler s{b, l, ct, alignCorners, padding};
          Value gx = convertScalar(b, l, args[0], ct, false, false);
          Value gy = convertScalar(b, l, args[1], ct, false, false);
          Value ix = s.unnormalize(gx, width), iy = s.unnormalize(gy, height);
          // X at integral pixel coordinates (xf, yf), or zero outside.
          auto tap = [&](Value xf, Value yf) -> Value {
            auto inside = [&](Value v, int64_t size) {
              return b.create<arith::AndIOp>(
                  l,
                  b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, v,
                                          s.cst(0)),
                  b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, v,
                                          s.cst(size - 1)));
            };
            auto index = [&](Value v, int64_t size) {
              Value i = b.create<arith::FPToSIOp>(l, b.getI64Type(),
                                                  s.clip(v, 0, size - 1));
              return b.create<arith::IndexCastOp>(l, b.getIndexType(), i);
            };
            Value ok = b.create<arith::AndIOp>(l, inside(xf, width),
                                               inside(yf, height));
            Value v = b.create<tensor::ExtractOp>(l, x,
                                                  ValueRange{idx[0], idx[1],
                                                             index(yf, height),
                                                             index(xf, width)});
            return b.create<arith::SelectOp>(l, ok, v,
                                             createScalar(b, l, et, 0));
          };
          auto toCt = [&](Value v) {
            return convertScalar(b, l, v, ct, isUnsignedOperand(op, 0), false);
          };
          if (mode == "nearest") {
            ix = b.create<math::RoundEvenOp>(l, s.pad(ix, width));
            iy = b.create<math::RoundEvenOp>(l, s.pad(iy, height));
            return tap(ix, iy);
          }
          if (mode == "bilinear") {
            ix = s.pad(ix, width);
            iy = s.pad(iy, height);
            Value x0 = s.floor(ix), y0 = s.floor(iy);
            Value x1 = s.add(x0, s.cst(1)), y1 = s.add(y0, s.cst(1));
            Value wx1 = s.sub(ix, x0), wx0 = s.sub(x1, ix);
            Value wy1 = s.sub(iy, y0), wy0 = s.sub(y1, iy);
            Value r = s.mul(toCt(tap(x0, y0)), s.mul(wx0, wy0));
            r = s.add(r, s.mul(toCt(tap(x1, y0)), s.mul(wx1, wy0)));
            r = s.add(r, s.mul(toCt(tap(x0, y1)), s.mul(wx0, wy1)));
            r = s.add(r, s.mul(toCt(tap(x1, y1)), s.mul(wx1, wy1)));
            return convertScalar(b, l, r, et, false, false);
          }
          // Bicubic: the 4x4 taps around floor(ix, iy), each coordinate
          // passed through the padding mode on its own.
          Value x0 = s.floor(ix), y0 = s.floor(iy);
          SmallVector<Value> wx = s.cubicWeights(s.sub(ix, x0));
          SmallVector<Value> wy = s.cubicWeights(s.sub(iy, y0));
          Value r;
          for (int64_t i = 0; i < 4; ++i) {
            Value yi = s.pad(s.add(y0, s.cst(i - 1)), height);
            Value row;
            for (int64_t j = 0; j < 4; ++j) {
              Value xj = s.pad(s.add(x0, s.cst(j - 1)), width);
              Value t = s.mul(toCt(tap(xj, yi)), wx[j]);
              row = row ? s.add(row, t) : t;
            }
            Value t = s.mul(row, wy[i]);
            r = r ? s.add(r, t) : t;
          }
          return convertScalar(b, l, r, et, false, false);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void kiln::populateGridSamplePatterns(RewritePatternSet &patterns) {
  patterns.add<GridSampleLowering>(patterns.getContext());
}
