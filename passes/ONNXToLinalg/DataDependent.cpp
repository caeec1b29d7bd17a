//===- DataDependent.cpp - Lower onnx ops whose output size is data ------===//
//
// This file implements NonZero, Compress, NonMaxSuppression and Unique: ops
// whose output length depends on the values of their inputs. Kiln's tensors
// are static, so the length shape inference declared is authoritative. Each
// lowering counts the entries at run time, writes at most the declared number
// of them (never out of bounds: a write past the end is skipped), and checks
// with cf.assert that the count it found is the declared one. The loops are
// scf.for nests carrying the output tensors; bufferization updates them in
// place.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static Value indexConst(OpBuilder &b, Location l, int64_t v) {
  return b.create<arith::ConstantIndexOp>(l, v);
}

/// True where a scalar of any element type is non-zero (NaN is non-zero).
static Value isNonZero(OpBuilder &b, Location l, Value v) {
  Value zero = createScalar(b, l, v.getType(), 0);
  if (isFloat(v.getType()))
    return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE, v, zero);
  return b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, v, zero);
}

/// Adds 1 to the index `count` where `cond` holds.
static Value addIf(OpBuilder &b, Location l, Value count, Value cond) {
  Value inc = b.create<arith::SelectOp>(l, cond, indexConst(b, l, 1),
                                        indexConst(b, l, 0));
  return b.create<arith::AddIOp>(l, count, inc);
}

/// `tensor` updated by `update` where `cond` holds, else unchanged: the
/// guard that keeps writes past a declared length from happening at all.
static Value updateIf(OpBuilder &b, Location l, Value cond, Value tensor,
                      function_ref<Value(OpBuilder &, Location)> update) {
  auto ifOp = b.create<scf::IfOp>(
      l, cond,
      [&](OpBuilder &tb, Location tl) {
        tb.create<scf::YieldOp>(tl, update(tb, tl));
      },
      [&](OpBuilder &eb, Location el) { eb.create<scf::YieldOp>(el, tensor); });
  return ifOp.getResult(0);
}

/// Body of a loop or a branch: the values it yields.
using BodyBuilder = function_ref<SmallVector<Value>(OpBuilder &, Location)>;
using LoopBodyBuilder =
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>;

/// An scf.for from `lb` to `ub` (step 1) carrying `inits`; returns its
/// results.
static SmallVector<Value> buildFor(OpBuilder &b, Location l, Value lb, Value ub,
                                   ValueRange inits, LoopBodyBuilder body) {
  auto loop = b.create<scf::ForOp>(
      l, lb, ub, indexConst(b, l, 1), inits,
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        nb.create<scf::YieldOp>(nl, body(nb, nl, iv, args));
      });
  return loop.getResults();
}

/// An scf.if yielding what `thenBody` builds where `cond` holds, else
/// `elseValues`.
static SmallVector<Value> buildIf(OpBuilder &b, Location l, Value cond,
                                  ValueRange elseValues, BodyBuilder thenBody) {
  auto ifOp = b.create<scf::IfOp>(
      l, cond,
      [&](OpBuilder &tb, Location tl) {
        tb.create<scf::YieldOp>(tl, thenBody(tb, tl));
      },
      [&](OpBuilder &eb, Location el) {
        eb.create<scf::YieldOp>(el, elseValues);
      });
  return ifOp.getResults();
}

/// Asserts at run time that the index `count` equals the `declared` length.
static void assertCount(OpBuilder &b, Location l, Value count, int64_t declared,
                        const Twine &message) {
  Value ok = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, count,
                                     indexConst(b, l, declared));
  b.create<cf::AssertOp>(l, ok, message.str());
}

/// An i64 scalar from an index.
static Value toI64(OpBuilder &b, Location l, Value index) {
  return b.create<arith::IndexCastOp>(l, b.getI64Type(), index);
}

//===----------------------------------------------------------------------===//
// Compress
//===----------------------------------------------------------------------===//

/// One pass over the condition: each selected slice of the input is copied
/// (extract_slice / insert_slice) into the next slot of the output, while
/// there is one.
struct CompressLowering : OpRewritePattern<onnx::CompressOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::CompressOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = tensorType(op.getOutput());
    auto condType = tensorType(op.getCondition());
    if (condType.getRank() != 1)
      return unsupported(op, "Compress's condition must be 1-d");
    Value input = op.getInput();
    auto inType = tensorType(input);
    int64_t axis = 0;
    if (std::optional<uint64_t> a = op.getAxis()) {
      axis = onnx::normalizeAxis(static_cast<int64_t>(*a), inType.getRank());
      if (axis < 0)
        return unsupported(op, "axis out of range");
    } else {
      // Without an axis the input is flattened.
      input = reshapeTo(rewriter, loc, input,
                        RankedTensorType::get({inType.getNumElements()},
                                              inType.getElementType()));
      inType = tensorType(input);
    }
    int64_t rank = inType.getRank();
    bool shapeOk = outType.getRank() == rank &&
                   outType.getElementType() == inType.getElementType();
    for (int64_t d = 0; shapeOk && d < rank; ++d)
      shapeOk = d == axis || outType.getDimSize(d) == inType.getDimSize(d);
    if (!shapeOk)
      return unsupported(op, "Compress's result must be the input with the "
                             "axis resized");
    int64_t declared = outType.getDimSize(axis);
    int64_t length = std::min(condType.getDimSize(0), inType.getDimSize(axis));

    // One slice of the input: the full extent but 1 along the axis.
    SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
    SmallVector<int64_t> sliceShape(inType.getShape());
    sliceShape[axis] = 1;
    for (int64_t dim : sliceShape)
      sizes.push_back(rewriter.getIndexAttr(dim));
    auto sliceType = RankedTensorType::get(sliceShape, inType.getElementType());
    auto offsetsAt = [&](Value at) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = at;
      return offsets;
    };

    Value condition = op.getCondition();
    Value init =
        createFilled(rewriter, loc, outType,
                     createScalar(rewriter, loc, outType.getElementType(), 0));
    auto loop = rewriter.create<scf::ForOp>(
        loc, indexConst(rewriter, loc, 0), indexConst(rewriter, loc, length),
        indexConst(rewriter, loc, 1),
        ValueRange{indexConst(rewriter, loc, 0), init},
        [&](OpBuilder &b, Location l, Value i, ValueRange args) {
          Value count = args[0], out = args[1];
          Value keep =
              isNonZero(b, l, b.create<tensor::ExtractOp>(l, condition, i));
          Value fits = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::slt, count, indexConst(b, l, declared));
          Value write = b.create<arith::AndIOp>(l, keep, fits);
          out = updateIf(b, l, write, out, [&](OpBuilder &tb, Location tl) {
            Value slice = tb.create<tensor::ExtractSliceOp>(
                tl, sliceType, input, offsetsAt(i), sizes, strides);
            return tb.create<tensor::InsertSliceOp>(
                tl, slice, out, offsetsAt(count), sizes, strides);
          });
          b.create<scf::YieldOp>(l, ValueRange{addIf(b, l, count, keep), out});
        });
    assertCount(rewriter, loc, loop.getResult(0), declared,
                "Compress: the number of true conditions differs from the " +
                    Twine(declared) + " the model declares");
    rewriter.replaceOp(op, loop.getResult(1));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// NonMaxSuppression
//===----------------------------------------------------------------------===//

/// A box's extent: x min, x max, y min, y max.
struct BoxExtent {
  Value xMin, xMax, yMin, yMax;
};

/// Reads box `i` of batch `batch` as an extent. Corners ([y1, x1, y2, x2],
/// any diagonal pair) are ordered; centre boxes ([xc, yc, w, h]) are not,
/// as in the reference.
static BoxExtent loadBox(OpBuilder &b, Location l, Value boxes, Value batch,
                         Value i, bool centerPoint) {
  Value c[4];
  for (int64_t k = 0; k < 4; ++k)
    c[k] = b.create<tensor::ExtractOp>(
        l, boxes, ValueRange{batch, i, indexConst(b, l, k)});
  if (!centerPoint)
    return {b.create<arith::MinimumFOp>(l, c[1], c[3]),
            b.create<arith::MaximumFOp>(l, c[1], c[3]),
            b.create<arith::MinimumFOp>(l, c[0], c[2]),
            b.create<arith::MaximumFOp>(l, c[0], c[2])};
  Value half = createScalar(b, l, c[0].getType(), 0.5);
  Value halfW = b.create<arith::MulFOp>(l, c[2], half);
  Value halfH = b.create<arith::MulFOp>(l, c[3], half);
  return {b.create<arith::SubFOp>(l, c[0], halfW),
          b.create<arith::AddFOp>(l, c[0], halfW),
          b.create<arith::SubFOp>(l, c[1], halfH),
          b.create<arith::AddFOp>(l, c[1], halfH)};
}

/// Whether the IOU of two boxes exceeds `threshold`. Boxes that do not
/// intersect, or have no area, never suppress each other.
static Value iouAbove(OpBuilder &b, Location l, const BoxExtent &p,
                      const BoxExtent &q, Value threshold) {
  auto gt = [&](Value x, Value y) {
    return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, y)
        .getResult();
  };
  auto sub = [&](Value x, Value y) {
    return b.create<arith::SubFOp>(l, x, y).getResult();
  };
  auto mul = [&](Value x, Value y) {
    return b.create<arith::MulFOp>(l, x, y).getResult();
  };
  Value zero = createScalar(b, l, threshold.getType(), 0);
  Value ixMin = b.create<arith::MaximumFOp>(l, p.xMin, q.xMin);
  Value ixMax = b.create<arith::MinimumFOp>(l, p.xMax, q.xMax);
  Value iyMin = b.create<arith::MaximumFOp>(l, p.yMin, q.yMin);
  Value iyMax = b.create<arith::MinimumFOp>(l, p.yMax, q.yMax);
  Value inter = mul(sub(ixMax, ixMin), sub(iyMax, iyMin));
  Value areaP = mul(sub(p.xMax, p.xMin), sub(p.yMax, p.yMin));
  Value areaQ = mul(sub(q.xMax, q.xMin), sub(q.yMax, q.yMin));
  Value uni = sub(b.create<arith::AddFOp>(l, areaP, areaQ), inter);
  Value iou = b.create<arith::DivFOp>(l, inter, uni);
  Value ok = gt(ixMax, ixMin);
  for (Value c : {gt(iyMax, iyMin), gt(inter, zero), gt(areaP, zero),
                  gt(areaQ, zero), gt(uni, zero), gt(iou, threshold)})
    ok = b.create<arith::AndIOp>(l, ok, c);
  return ok;
}

/// The first element of an optional scalar input as `type`, or null when it
/// is absent or empty.
static Value readOptionalScalar(OpBuilder &b, Location l, Value v, Type type) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || t.getNumElements() == 0)
    return nullptr;
  SmallVector<Value> at(t.getRank(), indexConst(b, l, 0));
  Value x = b.create<tensor::ExtractOp>(l, v, at);
  return convertScalar(b, l, x, type, false, false);
}

/// Per batch and class, a greedy loop takes the best remaining candidate
/// (highest score, lowest index on ties), appends [batch, class, box] to the
/// result while there is room, and marks every remaining box whose IOU with
/// it exceeds the threshold as removed: the reference's selection order, at
/// most max_output_boxes_per_class steps of O(boxes) each.
struct NonMaxSuppressionLowering : OpRewritePattern<onnx::NonMaxSuppressionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::NonMaxSuppressionOp op,
                                PatternRewriter &rewriter) const override {
    auto boxesType = tensorType(op.getBoxes());
    auto scoresType = tensorType(op.getScores());
    auto outType = tensorType(op.getSelectedIndices());
    Type f32 = rewriter.getF32Type();
    if (boxesType.getRank() != 3 || boxesType.getDimSize(2) != 4 ||
        scoresType.getRank() != 3 ||
        scoresType.getDimSize(0) != boxesType.getDimSize(0) ||
        scoresType.getDimSize(2) != boxesType.getDimSize(1) ||
        boxesType.getElementType() != f32 || scoresType.getElementType() != f32)
      return unsupported(op, "NonMaxSuppression takes f32 boxes [batches, "
                             "boxes, 4] and scores [batches, classes, boxes]");
    if (outType.getRank() != 2 || outType.getDimSize(1) != 3 ||
        !outType.getElementType().isInteger(64))
      return unsupported(op, "NonMaxSuppression's result must be [count, 3] "
                             "of int64");
    int64_t centerPoint = static_cast<int64_t>(op.getCenterPointBox());
    if (centerPoint != 0 && centerPoint != 1)
      return unsupported(op, "center_point_box must be 0 or 1");
    int64_t numBatches = boxesType.getDimSize(0);
    int64_t numClasses = scoresType.getDimSize(1);
    int64_t numBoxes = boxesType.getDimSize(1);
    int64_t declared = outType.getDimSize(0);

    Location loc = op.getLoc();
    OpBuilder &b0 = rewriter;
    Value boxes = op.getBoxes(), scores = op.getScores();
    // Steps per class: max_output_boxes_per_class clamped to [0, boxes].
    Value steps = indexConst(b0, loc, 0);
    if (Value m = readOptionalScalar(b0, loc, op.getMaxOutputBoxesPerClass(),
                                     b0.getI64Type())) {
      steps = b0.create<arith::IndexCastOp>(loc, b0.getIndexType(), m);
      steps = b0.create<arith::MaxSIOp>(loc, steps, indexConst(b0, loc, 0));
      steps =
          b0.create<arith::MinSIOp>(loc, steps, indexConst(b0, loc, numBoxes));
    }
    Value iouThreshold = readOptionalScalar(b0, loc, op.getIouThreshold(), f32);
    if (!iouThreshold)
      iouThreshold = createScalar(b0, loc, f32, 0);
    Value scoreThreshold =
        readOptionalScalar(b0, loc, op.getScoreThreshold(), f32);

    auto removedType = RankedTensorType::get({numBoxes}, b0.getI1Type());
    Value trueV = b0.create<arith::ConstantIntOp>(loc, 1, 1);
    Value falseV = b0.create<arith::ConstantIntOp>(loc, 0, 1);
    Value init = createFilled(b0, loc, outType,
                              createScalar(b0, loc, b0.getI64Type(), 0));
    Value c0 = indexConst(b0, loc, 0);

    // One class of one batch: carries (row, out).
    auto perClass = [&](OpBuilder &b, Location l, Value batch, Value cls,
                        Value row, Value out) -> SmallVector<Value> {
      Value removed = createFilled(b, l, removedType, falseV);
      // Steps carry (more, row, out, removed).
      return buildFor(
          b, l, indexConst(b, l, 0), steps,
          ValueRange{trueV, row, out, removed},
          [&](OpBuilder &sb, Location sl, Value, ValueRange args) {
            return buildIf(
                sb, sl, args[0], args, [&](OpBuilder &b, Location l) {
                  Value row = args[1], out = args[2], removed = args[3];
                  // The best remaining candidate: carries (found, best, score).
                  SmallVector<Value> best = buildFor(
                      b, l, indexConst(b, l, 0), indexConst(b, l, numBoxes),
                      ValueRange{falseV, indexConst(b, l, 0),
                                 createScalar(b, l, f32, 0)},
                      [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
                        Value s = b.create<tensor::ExtractOp>(
                            l, scores, ValueRange{batch, cls, i});
                        Value cand = b.create<arith::XOrIOp>(
                            l, b.create<tensor::ExtractOp>(l, removed, i),
                            trueV);
                        if (scoreThreshold)
                          cand = b.create<arith::AndIOp>(
                              l, cand,
                              b.create<arith::CmpFOp>(l,
                                                      arith::CmpFPredicate::OGT,
                                                      s, scoreThreshold));
                        // Higher, or a number where the best so far is NaN.
                        Value higher = b.create<arith::OrIOp>(
                            l,
                            b.create<arith::CmpFOp>(
                                l, arith::CmpFPredicate::OGT, s, acc[2]),
                            b.create<arith::AndIOp>(
                                l,
                                b.create<arith::CmpFOp>(
                                    l, arith::CmpFPredicate::UNO, acc[2],
                                    acc[2]),
                                b.create<arith::CmpFOp>(
                                    l, arith::CmpFPredicate::ORD, s, s)));
                        Value first = b.create<arith::XOrIOp>(l, acc[0], trueV);
                        Value take = b.create<arith::AndIOp>(
                            l, cand, b.create<arith::OrIOp>(l, first, higher));
                        return SmallVector<Value>{
                            b.create<arith::OrIOp>(l, acc[0], cand),
                            b.create<arith::SelectOp>(l, take, i, acc[1]),
                            b.create<arith::SelectOp>(l, take, s, acc[2])};
                      });
                  Value found = best[0], pick = best[1];
                  SmallVector<Value> taken = buildIf(
                      b, l, found, ValueRange{row, out, removed},
                      [&](OpBuilder &b, Location l) {
                        Value fits = b.create<arith::CmpIOp>(
                            l, arith::CmpIPredicate::slt, row,
                            indexConst(b, l, declared));
                        Value written = updateIf(
                            b, l, fits, out, [&](OpBuilder &b, Location l) {
                              Value o = out;
                              Value fields[3] = {batch, cls, pick};
                              for (int64_t k = 0; k < 3; ++k)
                                o = b.create<tensor::InsertOp>(
                                    l, toI64(b, l, fields[k]), o,
                                    ValueRange{row, indexConst(b, l, k)});
                              return o;
                            });
                        BoxExtent picked =
                            loadBox(b, l, boxes, batch, pick, centerPoint);
                        Value marked =
                            b.create<tensor::InsertOp>(l, trueV, removed, pick);
                        Value swept =
                            buildFor(
                                b, l, indexConst(b, l, 0),
                                indexConst(b, l, numBoxes), ValueRange{marked},
                                [&](OpBuilder &b, Location l, Value i,
                                    ValueRange acc) {
                                  BoxExtent other = loadBox(b, l, boxes, batch,
                                                            i, centerPoint);
                                  Value gone = b.create<arith::OrIOp>(
                                      l,
                                      b.create<tensor::ExtractOp>(l, acc[0], i),
                                      iouAbove(b, l, picked, other,
                                               iouThreshold));
                                  return SmallVector<Value>{
                                      b.create<tensor::InsertOp>(l, gone,
                                                                 acc[0], i)};
                                })
                                .front();
                        return SmallVector<Value>{addIf(b, l, row, trueV),
                                                  written, swept};
                      });
                  return SmallVector<Value>{found, taken[0], taken[1],
                                            taken[2]};
                });
          });
    };

    SmallVector<Value> result = buildFor(
        b0, loc, c0, indexConst(b0, loc, numBatches), ValueRange{c0, init},
        [&](OpBuilder &b, Location l, Value batch, ValueRange args) {
          return buildFor(
              b, l, indexConst(b, l, 0), indexConst(b, l, numClasses), args,
              [&](OpBuilder &b, Location l, Value cls, ValueRange acc) {
                SmallVector<Value> r =
                    perClass(b, l, batch, cls, acc[0], acc[1]);
                return SmallVector<Value>{r[1], r[2]};
              });
        });
    assertCount(rewriter, loc, result[0], declared,
                "NonMaxSuppression: the number of selected boxes differs "
                "from the " +
                    Twine(declared) + " the model declares");
    rewriter.replaceOp(op, result[1]);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// NonZero
//===----------------------------------------------------------------------===//

/// One pass over the flattened input: each non-zero element's coordinates
/// become the next column of Y, while there is one.
struct NonZeroLowering : OpRewritePattern<onnx::NonZeroOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::NonZeroOp op,
                                PatternRewriter &rewriter) const override {
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    int64_t rank = xType.getRank();
    if (yType.getRank() != 2 || yType.getDimSize(0) != rank ||
        !yType.getElementType().isInteger(64))
      return unsupported(op, "NonZero's result must be [rank of X, count] of "
                             "int64");
    int64_t declared = yType.getDimSize(1);
    int64_t numel = xType.getNumElements();
    Location loc = op.getLoc();
    Value flat =
        reshapeTo(rewriter, loc, op.getX(),
                  RankedTensorType::get({numel}, xType.getElementType()));
    Value init =
        createFilled(rewriter, loc, yType,
                     createScalar(rewriter, loc, rewriter.getI64Type(), 0));
    auto loop = rewriter.create<scf::ForOp>(
        loc, indexConst(rewriter, loc, 0), indexConst(rewriter, loc, numel),
        indexConst(rewriter, loc, 1),
        ValueRange{indexConst(rewriter, loc, 0), init},
        [&](OpBuilder &b, Location l, Value i, ValueRange args) {
          Value count = args[0], y = args[1];
          Value nz = isNonZero(b, l, b.create<tensor::ExtractOp>(l, flat, i));
          Value fits = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::slt, count, indexConst(b, l, declared));
          Value write = b.create<arith::AndIOp>(l, nz, fits);
          y = updateIf(b, l, write, y, [&](OpBuilder &tb, Location tl) {
            Value out = y;
            int64_t stride = numel;
            for (int64_t d = 0; d < rank; ++d) {
              int64_t dim = xType.getDimSize(d);
              stride /= dim;
              Value c =
                  tb.create<arith::DivUIOp>(tl, i, indexConst(tb, tl, stride));
              c = tb.create<arith::RemUIOp>(tl, c, indexConst(tb, tl, dim));
              out = tb.create<tensor::InsertOp>(
                  tl, toI64(tb, tl, c), out,
                  ValueRange{indexConst(tb, tl, d), count});
            }
            return out;
          });
          b.create<scf::YieldOp>(l, ValueRange{addIf(b, l, count, nz), y});
        });
    assertCount(rewriter, loc, loop.getResult(0), declared,
                "NonZero: the number of non-zero elements differs from the " +
                    Twine(declared) + " the model declares");
    rewriter.replaceOp(op, loop.getResult(1));
    return success();
  }
};

} // namespace

void kiln::populateDataDependentPatterns(RewritePatternSet &patterns) {
  patterns.add<CompressLowering, NonMaxSuppressionLowering, NonZeroLowering>(
      patterns.getContext());
}
