//===- RoiAlign.cpp - RoiAlign, bilinear pooling of regions ---------------===//
//
// This file lowers RoiAlign to one linalg.generic over the output
// [R, C, output_height, output_width]. Each element reads its region and
// batch index, then runs an scf.for nest over the bin's sampling grid, whose
// size depends on the region at run time when sampling_ratio is 0, and
// reads X with tensor.extract. Sampling follows onnxruntime (and ONNX's
// reference): a sample more than one pixel outside the map counts as 0,
// coordinates clamp into the map, and "max" takes the largest of the four
// bilinearly weighted corners. Batch indices are clamped for the reads and
// checked with cf.assert.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

namespace {

struct RoiAlignLowering : OpRewritePattern<onnx::RoiAlignOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::RoiAlignOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto roisType = tensorType(op.getRois());
    auto biType = tensorType(op.getBatchIndices());
    auto yType = tensorType(op.getY());
    Type et = xType.getElementType();
    if (xType.getRank() != 4 || !isFloat(et))
      return unsupported(op, "RoiAlign needs a 4-d float X");
    if (roisType.getRank() != 2 || roisType.getDimSize(1) != 4 ||
        !isFloat(roisType.getElementType()))
      return unsupported(op, "RoiAlign needs float rois of shape [R, 4]");
    int64_t numRois = roisType.getDimSize(0);
    if (biType.getRank() != 1 || biType.getDimSize(0) != numRois ||
        !isa<IntegerType>(biType.getElementType()))
      return unsupported(op,
                         "RoiAlign needs integer batch_indices of shape [R]");
    bool isMax = op.getMode() == "max";
    if (!isMax && op.getMode() != "avg")
      return unsupported(op, "RoiAlign mode '" + op.getMode() +
                                 "' is not avg or max");
    bool halfPixel = op.getCoordinateTransformationMode() == "half_pixel";
    if (!halfPixel &&
        op.getCoordinateTransformationMode() != "output_half_pixel")
      return unsupported(op, "RoiAlign coordinate_transformation_mode '" +
                                 op.getCoordinateTransformationMode() +
                                 "' is not supported");
    int64_t n = xType.getDimSize(0), c = xType.getDimSize(1);
    int64_t h = xType.getDimSize(2), w = xType.getDimSize(3);
    int64_t oh = (int64_t)op.getOutputHeight();
    int64_t ow = (int64_t)op.getOutputWidth();
    int64_t samplingRatio = (int64_t)op.getSamplingRatio();
    if (yType.getRank() != 4 || yType.getDimSize(0) != numRois ||
        yType.getDimSize(1) != c || yType.getDimSize(2) != oh ||
        yType.getDimSize(3) != ow)
      return unsupported(op, "RoiAlign's output shape does not match");
    if (yType.getNumElements() == 0) {
      rewriter.replaceOp(op, createEmpty(rewriter, loc, yType));
      return success();
    }
    if (n == 0 || h == 0 || w == 0)
      return unsupported(op, "RoiAlign needs a non-empty X");

    // Every batch index must address an image; reads clamp it.
    Type i64 = rewriter.getI64Type();
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    rewriter.create<scf::ForOp>(
        loc, c0, rewriter.create<arith::ConstantIndexOp>(loc, numRois), c1,
        ValueRange{}, [&](OpBuilder &b, Location l, Value r, ValueRange) {
          Value bi = convertScalar(
              b, l, b.create<tensor::ExtractOp>(l, op.getBatchIndices(), r),
              i64, false, false);
          Value ok = b.create<arith::AndIOp>(
              l,
              b.create<arith::CmpIOp>(
                  l, arith::CmpIPredicate::sge, bi,
                  b.create<arith::ConstantIntOp>(l, 0, i64)),
              b.create<arith::CmpIOp>(
                  l, arith::CmpIPredicate::slt, bi,
                  b.create<arith::ConstantIntOp>(l, n, i64)));
          b.create<cf::AssertOp>(l, ok, "RoiAlign: batch index out of range");
          b.create<scf::YieldOp>(l);
        });

    // Coordinates and sums in f32 (f64 for a f64 X).
    FloatType ct = et.isF64() ? (FloatType)rewriter.getF64Type()
                              : (FloatType)rewriter.getF32Type();
    float spatialScale = op.getSpatialScale().convertToFloat();
    Value x = op.getX(), rois = op.getRois(), batch = op.getBatchIndices();
    Value y = buildIndexed(
        rewriter, loc, yType, ValueRange{}, {},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange idx) {
          auto cst = [&](double v) { return createScalar(b, l, ct, v); };
          auto cidx = [&](int64_t v) {
            return b.create<arith::ConstantIndexOp>(l, v);
          };
          Value r = idx[0], ci = idx[1];
          auto toCt = [&](Value v, bool isIndex = false) -> Value {
            if (isIndex)
              v = b.create<arith::IndexCastOp>(l, i64, v);
            return convertScalar(b, l, v, ct, false, false);
          };
          auto coord = [&](int64_t k) {
            Value v =
                b.create<tensor::ExtractOp>(l, rois, ValueRange{r, cidx(k)});
            return b.create<arith::SubFOp>(
                l, b.create<arith::MulFOp>(l, toCt(v), cst(spatialScale)),
                cst(halfPixel ? 0.5 : 0.0));
          };
          Value startW = coord(0), startH = coord(1);
          Value roiW = b.create<arith::SubFOp>(l, coord(2), startW);
          Value roiH = b.create<arith::SubFOp>(l, coord(3), startH);
          if (!halfPixel) {
            // Malformed regions become 1 x 1.
            roiW = b.create<arith::MaximumFOp>(l, roiW, cst(1));
            roiH = b.create<arith::MaximumFOp>(l, roiH, cst(1));
          }
          Value binH = b.create<arith::DivFOp>(l, roiH, cst(oh));
          Value binW = b.create<arith::DivFOp>(l, roiW, cst(ow));
          // The sampling grid: sampling_ratio, or ceil(bin size) (clamped
          // so that a huge or NaN region cannot make the conversion poison).
          auto gridOf = [&](Value bin) -> Value {
            if (samplingRatio > 0)
              return cidx(samplingRatio);
            Value g = b.create<math::CeilOp>(l, bin);
            g = b.create<arith::MaxNumFOp>(l, g, cst(0));
            g = b.create<arith::MinNumFOp>(l, g, cst(1 << 20));
            return b.create<arith::IndexCastOp>(
                l, b.getIndexType(), b.create<arith::FPToSIOp>(l, i64, g));
          };
          Value gridH = gridOf(binH), gridW = gridOf(binW);
          Value gridHf = toCt(gridH, true), gridWf = toCt(gridW, true);

          // Batch index clamped into [0, N).
          Value bi =
              convertScalar(b, l, b.create<tensor::ExtractOp>(l, batch, r), i64,
                            false, false);
          bi = b.create<arith::MaxSIOp>(
              l, bi, b.create<arith::ConstantIntOp>(l, 0, i64));
          bi = b.create<arith::MinSIOp>(
              l, bi, b.create<arith::ConstantIntOp>(l, n - 1, i64));
          Value bIdx = b.create<arith::IndexCastOp>(l, b.getIndexType(), bi);

          // Position of sample i of bin p along one axis.
          auto samplePos = [&](OpBuilder &nb, Value start, Value bin, Value p,
                               Value i, Value grid) {
            Value pf = toCt(p, true), iff = toCt(i, true);
            Value off = nb.create<arith::DivFOp>(
                l,
                nb.create<arith::MulFOp>(
                    l, nb.create<arith::AddFOp>(l, iff, cst(0.5)), bin),
                grid);
            return nb.create<arith::AddFOp>(
                l,
                nb.create<arith::AddFOp>(l, start,
                                         nb.create<arith::MulFOp>(l, pf, bin)),
                off);
          };
          // Low and high pixel and the fraction along one axis of size
          // `size`, for a coordinate already known to be in [-1, size].
          struct Axis {
            Value low, high, frac;
          };
          auto axis = [&](OpBuilder &nb, Value v, int64_t size) {
            v = nb.create<arith::MaxNumFOp>(l, v, cst(0));
            v = nb.create<arith::MinNumFOp>(l, v, cst(size - 1));
            Value low = nb.create<arith::FPToSIOp>(l, i64, v);
            Value last = nb.create<arith::ConstantIntOp>(l, size - 1, i64);
            Value atEnd = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge,
                                                   low, last);
            low = nb.create<arith::SelectOp>(l, atEnd, last, low);
            Value high = nb.create<arith::SelectOp>(
                l, atEnd, last,
                nb.create<arith::AddIOp>(
                    l, low, nb.create<arith::ConstantIntOp>(l, 1, i64)));
            Value lowF = convertScalar(nb, l, low, ct, false, false);
            v = nb.create<arith::SelectOp>(l, atEnd, lowF, v);
            Value frac = nb.create<arith::SubFOp>(l, v, lowF);
            auto toIdx = [&](Value i) {
              return nb.create<arith::IndexCastOp>(l, nb.getIndexType(), i);
            };
            return Axis{toIdx(low), toIdx(high), frac};
          };

          Value init =
              isMax ? createExtremum(b, l, ct, /*lowest=*/true) : cst(0);
          auto outer = b.create<scf::ForOp>(
              l, cidx(0), gridH, cidx(1), ValueRange{init},
              [&](OpBuilder &b1, Location, Value iy, ValueRange acc1) {
                Value yy = samplePos(b1, startH, binH, idx[2], iy, gridHf);
                auto inner = b1.create<scf::ForOp>(
                    l, cidx(0), gridW, cidx(1), acc1,
                    [&](OpBuilder &b2, Location, Value ix, ValueRange acc2) {
                      Value xx =
                          samplePos(b2, startW, binW, idx[3], ix, gridWf);
                      auto cmp = [&](arith::CmpFPredicate p, Value a,
                                     double v) {
                        return b2.create<arith::CmpFOp>(l, p, a, cst(v));
                      };
                      Value outside = b2.create<arith::OrIOp>(
                          l,
                          b2.create<arith::OrIOp>(
                              l, cmp(arith::CmpFPredicate::OLT, yy, -1.0),
                              cmp(arith::CmpFPredicate::OGT, yy, (double)h)),
                          b2.create<arith::OrIOp>(
                              l, cmp(arith::CmpFPredicate::OLT, xx, -1.0),
                              cmp(arith::CmpFPredicate::OGT, xx, (double)w)));
                      Axis ay = axis(b2, yy, h), ax = axis(b2, xx, w);
                      Value hy = b2.create<arith::SubFOp>(l, cst(1), ay.frac);
                      Value hx = b2.create<arith::SubFOp>(l, cst(1), ax.frac);
                      auto corner = [&](Value wy, Value wx, Value py,
                                        Value px) -> Value {
                        Value v = b2.create<tensor::ExtractOp>(
                            l, x, ValueRange{bIdx, ci, py, px});
                        return b2.create<arith::MulFOp>(
                            l, b2.create<arith::MulFOp>(l, wy, wx),
                            convertScalar(b2, l, v, ct, false, false));
                      };
                      Value v1 = corner(hy, hx, ay.low, ax.low);
                      Value v2 = corner(hy, ax.frac, ay.low, ax.high);
                      Value v3 = corner(ay.frac, hx, ay.high, ax.low);
                      Value v4 = corner(ay.frac, ax.frac, ay.high, ax.high);
                      Value s, next;
                      if (isMax) {
                        s = b2.create<arith::MaximumFOp>(
                            l,
                            b2.create<arith::MaximumFOp>(
                                l, b2.create<arith::MaximumFOp>(l, v1, v2), v3),
                            v4);
                        s = b2.create<arith::SelectOp>(l, outside, cst(0), s);
                        next = b2.create<arith::MaximumFOp>(l, acc2[0], s);
                      } else {
                        s = b2.create<arith::AddFOp>(
                            l,
                            b2.create<arith::AddFOp>(
                                l, b2.create<arith::AddFOp>(l, v1, v2), v3),
                            v4);
                        s = b2.create<arith::SelectOp>(l, outside, cst(0), s);
                        next = b2.create<arith::AddFOp>(l, acc2[0], s);
                      }
                      b2.create<scf::YieldOp>(l, next);
                    });
                b1.create<scf::YieldOp>(l, inner.getResults());
              });
          Value acc = outer.getResult(0);
          Value gridCount = b.create<arith::MulIOp>(l, gridH, gridW);
          Value result;
          if (isMax) {
            // No sample (an empty region) gives 0.
            Value any = b.create<arith::AndIOp>(
                l,
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, gridH,
                                        cidx(0)),
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, gridW,
                                        cidx(0)));
            result = b.create<arith::SelectOp>(l, any, acc, cst(0));
          } else {
            Value count = b.create<arith::MaxSIOp>(l, gridCount, cidx(1));
            result = b.create<arith::DivFOp>(l, acc, toCt(count, true));
          }
          return convertScalar(b, l, result, et, false, false);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void kiln::populateRoiAlignPatterns(RewritePatternSet &patterns) {
  patterns.add<RoiAlignLowering>(patterns.getContext());
}
