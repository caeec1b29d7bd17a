//===- DataDependent.cpp - Lower onnx ops whose output size is data ------===//
//
// This file implements NonZero, Compress, NonMaxSuppression and Unique: ops
// whose output length depends on the values of their inputs. Kiln's tensors
// are static, so the length shape inference declared is authoritative. Each
// lowering counts the entries at run time and checks with cf.assert that the
// count it found is the declared one. Writes never go out of bounds: the
// output is built one slot longer than declared, every entry past the
// declared length (or not selected at all) goes to that last slot, and the
// declared part is sliced off at the end. So the loops are scf.for nests
// carrying their tensors with no conditional writes, which bufferization
// updates in place.
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

/// The slot an entry goes to in an output one longer than `declared`: the
/// entry's position `count` while it is selected (`cond`) and below the
/// declared length, else the spare last slot.
static Value slotFor(OpBuilder &b, Location l, Value cond, Value count,
                     int64_t declared) {
  Value spare = indexConst(b, l, declared);
  Value clamped = b.create<arith::MinUIOp>(l, count, spare);
  return b.create<arith::SelectOp>(l, cond, clamped, spare);
}

/// `type` with dimension `dim` one longer: room for the spare slot.
static RankedTensorType withSpareSlot(RankedTensorType type, int64_t dim) {
  SmallVector<int64_t> shape(type.getShape());
  ++shape[dim];
  return RankedTensorType::get(shape, type.getElementType());
}

/// The leading part of `value` of the static shape of `type`: the declared
/// entries without the spare slot.
static Value dropSpareSlot(OpBuilder &b, Location l, Value value,
                           RankedTensorType type) {
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
      strides(rank, b.getIndexAttr(1)), sizes;
  for (int64_t dim : type.getShape())
    sizes.push_back(b.getIndexAttr(dim));
  return b.create<tensor::ExtractSliceOp>(l, type, value, offsets, sizes,
                                          strides);
}

/// A zero-filled tensor of `type`.
static Value createZeros(OpBuilder &b, Location l, RankedTensorType type) {
  return createFilled(b, l, type, createScalar(b, l, type.getElementType(), 0));
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
/// `elseValues`. Only for scalars: a tensor written in a branch could not
/// be updated in place.
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

/// One pass over the condition: each slice of the input is copied
/// (extract_slice / insert_slice) to the next slot of the output when its
/// condition holds, else to the spare slot.
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
    SmallVector<Value> r = buildFor(
        rewriter, loc, indexConst(rewriter, loc, 0),
        indexConst(rewriter, loc, length),
        ValueRange{indexConst(rewriter, loc, 0),
                   createZeros(rewriter, loc, withSpareSlot(outType, axis))},
        [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
          Value keep =
              isNonZero(b, l, b.create<tensor::ExtractOp>(l, condition, i));
          // An empty result only counts (a copy to the spare slot alone
          // would fold to a value the loop cannot update in place).
          Value out = acc[1];
          if (declared > 0) {
            Value slice = b.create<tensor::ExtractSliceOp>(
                l, sliceType, input, offsetsAt(i), sizes, strides);
            out = b.create<tensor::InsertSliceOp>(
                l, slice, out, offsetsAt(slotFor(b, l, keep, acc[0], declared)),
                sizes, strides);
          }
          return SmallVector<Value>{addIf(b, l, acc[0], keep), out};
        });
    assertCount(rewriter, loc, r[0], declared,
                "Compress: the number of true conditions differs from the " +
                    Twine(declared) + " the model declares");
    rewriter.replaceOp(op, dropSpareSlot(rewriter, loc, r[1], outType));
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
/// result (the spare row once it is full), and marks every remaining box whose
/// IOU with it exceeds the threshold as removed: the reference's selection
/// order, at most max_output_boxes_per_class steps of O(boxes) each.
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
    Value init = createZeros(b0, loc, withSpareSlot(outType, 0));
    Value c0 = indexConst(b0, loc, 0);

    // One class of one batch: carries (row, out).
    auto perClass = [&](OpBuilder &b, Location l, Value batch, Value cls,
                        Value row, Value out) -> SmallVector<Value> {
      Value removed = createFilled(b, l, removedType, falseV);
      // Steps carry (more, row, out, removed); once no candidate is left,
      // the scans of the remaining steps are empty.
      return buildFor(
          b, l, indexConst(b, l, 0), steps,
          ValueRange{trueV, row, out, removed},
          [&](OpBuilder &b, Location l, Value, ValueRange acc) {
            Value removed = acc[3];
            Value n = indexConst(b, l, numBoxes), none = indexConst(b, l, 0);
            // The best remaining candidate: carries (found, best, score).
            SmallVector<Value> best = buildFor(
                b, l, indexConst(b, l, 0),
                b.create<arith::SelectOp>(l, acc[0], n, none),
                ValueRange{falseV, indexConst(b, l, 0),
                           createScalar(b, l, f32, 0)},
                [&](OpBuilder &b, Location l, Value i, ValueRange best) {
                  Value s = b.create<tensor::ExtractOp>(
                      l, scores, ValueRange{batch, cls, i});
                  Value cand = b.create<arith::XOrIOp>(
                      l, b.create<tensor::ExtractOp>(l, removed, i), trueV);
                  if (scoreThreshold)
                    cand = b.create<arith::AndIOp>(
                        l, cand,
                        b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, s,
                                                scoreThreshold));
                  // Higher, or a number where the best so far is NaN.
                  Value higher = b.create<arith::OrIOp>(
                      l,
                      b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, s,
                                              best[2]),
                      b.create<arith::AndIOp>(
                          l,
                          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO,
                                                  best[2], best[2]),
                          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::ORD,
                                                  s, s)));
                  Value first = b.create<arith::XOrIOp>(l, best[0], trueV);
                  Value take = b.create<arith::AndIOp>(
                      l, cand, b.create<arith::OrIOp>(l, first, higher));
                  return SmallVector<Value>{
                      b.create<arith::OrIOp>(l, best[0], cand),
                      b.create<arith::SelectOp>(l, take, i, best[1]),
                      b.create<arith::SelectOp>(l, take, s, best[2])};
                });
            Value found = best[0], pick = best[1];
            // Its row, or the spare row when there is none.
            Value slot = slotFor(b, l, found, acc[1], declared);
            Value out = acc[2];
            Value fields[3] = {batch, cls, pick};
            for (int64_t k = 0; k < 3; ++k)
              out = b.create<tensor::InsertOp>(
                  l, toI64(b, l, fields[k]), out,
                  ValueRange{slot, indexConst(b, l, k)});
            // It and the boxes it overlaps leave the candidates.
            Value marked = b.create<tensor::InsertOp>(
                l,
                b.create<arith::OrIOp>(
                    l, found, b.create<tensor::ExtractOp>(l, removed, pick)),
                removed, pick);
            BoxExtent picked = loadBox(b, l, boxes, batch, pick, centerPoint);
            Value swept =
                buildFor(b, l, indexConst(b, l, 0),
                         b.create<arith::SelectOp>(l, found, n, none),
                         ValueRange{marked},
                         [&](OpBuilder &b, Location l, Value i, ValueRange r) {
                           BoxExtent other =
                               loadBox(b, l, boxes, batch, i, centerPoint);
                           Value gone = b.create<arith::OrIOp>(
                               l, b.create<tensor::ExtractOp>(l, r[0], i),
                               iouAbove(b, l, picked, other, iouThreshold));
                           return SmallVector<Value>{
                               b.create<tensor::InsertOp>(l, gone, r[0], i)};
                         })
                    .front();
            return SmallVector<Value>{found, addIf(b, l, acc[1], found), out,
                                      swept};
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
    rewriter.replaceOp(op, dropSpareSlot(rewriter, loc, result[1], outType));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// NonZero
//===----------------------------------------------------------------------===//

/// One pass over the flattened input: each element's coordinates go to the
/// next column of Y when it is non-zero, else to the spare column.
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
    SmallVector<int64_t> strides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * xType.getDimSize(d + 1);
    Location loc = op.getLoc();
    Value flat =
        reshapeTo(rewriter, loc, op.getX(),
                  RankedTensorType::get({numel}, xType.getElementType()));
    SmallVector<Value> r = buildFor(
        rewriter, loc, indexConst(rewriter, loc, 0),
        indexConst(rewriter, loc, numel),
        ValueRange{indexConst(rewriter, loc, 0),
                   createZeros(rewriter, loc, withSpareSlot(yType, 1))},
        [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
          Value nz = isNonZero(b, l, b.create<tensor::ExtractOp>(l, flat, i));
          Value slot = slotFor(b, l, nz, acc[0], declared);
          Value y = acc[1];
          for (int64_t d = 0; d < rank; ++d) {
            Value c =
                b.create<arith::DivUIOp>(l, i, indexConst(b, l, strides[d]));
            c = b.create<arith::RemUIOp>(l, c,
                                         indexConst(b, l, xType.getDimSize(d)));
            y = b.create<tensor::InsertOp>(
                l, toI64(b, l, c), y, ValueRange{indexConst(b, l, d), slot});
          }
          return SmallVector<Value>{addIf(b, l, acc[0], nz), y};
        });
    assertCount(rewriter, loc, r[0], declared,
                "NonZero: the number of non-zero elements differs from the " +
                    Twine(declared) + " the model declares");
    rewriter.replaceOp(op, dropSpareSlot(rewriter, loc, r[1], yType));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Unique
//===----------------------------------------------------------------------===//

/// Elementwise order of scalars: (less, equal). Floats put NaN after every
/// number and count NaNs as equal, so that the order is total.
static std::pair<Value, Value> compareScalars(OpBuilder &b, Location l, Value x,
                                              Value y, bool isUnsigned) {
  if (!isFloat(x.getType())) {
    bool u = isUnsigned || x.getType().isInteger(1);
    return {
        b.create<arith::CmpIOp>(
            l, u ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt, x, y),
        b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, x, y)};
  }
  auto cmp = [&](arith::CmpFPredicate p, Value u, Value v) {
    return b.create<arith::CmpFOp>(l, p, u, v).getResult();
  };
  Value xNaN = cmp(arith::CmpFPredicate::UNO, x, x);
  Value yNaN = cmp(arith::CmpFPredicate::UNO, y, y);
  Value xNum =
      b.create<arith::XOrIOp>(l, xNaN, b.create<arith::ConstantIntOp>(l, 1, 1));
  Value less = b.create<arith::OrIOp>(l, cmp(arith::CmpFPredicate::OLT, x, y),
                                      b.create<arith::AndIOp>(l, xNum, yNaN));
  Value equal = b.create<arith::OrIOp>(l, cmp(arith::CmpFPredicate::OEQ, x, y),
                                       b.create<arith::AndIOp>(l, xNaN, yNaN));
  return {less, equal};
}

/// Lexicographic order of rows `i` and `j` of the [n, L] tensor `items`:
/// (row i < row j, row i == row j).
static std::pair<Value, Value> compareRows(OpBuilder &b, Location l,
                                           Value items, Value i, Value j,
                                           bool isUnsigned) {
  int64_t width = tensorType(items).getDimSize(1);
  auto atColumn = [&](OpBuilder &b, Location l, Value k) {
    return compareScalars(
        b, l, b.create<tensor::ExtractOp>(l, items, ValueRange{i, k}),
        b.create<tensor::ExtractOp>(l, items, ValueRange{j, k}), isUnsigned);
  };
  if (width == 1)
    return atColumn(b, l, indexConst(b, l, 0));
  // Carries (decided, less): the first unequal column decides.
  Value falseV = b.create<arith::ConstantIntOp>(l, 0, 1);
  Value trueV = b.create<arith::ConstantIntOp>(l, 1, 1);
  SmallVector<Value> r = buildFor(
      b, l, indexConst(b, l, 0), indexConst(b, l, width),
      ValueRange{falseV, falseV},
      [&](OpBuilder &b, Location l, Value k, ValueRange acc) {
        auto [less, equal] = atColumn(b, l, k);
        Value decided = b.create<arith::OrIOp>(
            l, acc[0], b.create<arith::XOrIOp>(l, equal, trueV));
        return SmallVector<Value>{
            decided, b.create<arith::SelectOp>(l, acc[0], acc[1], less)};
      });
  return {r[1], b.create<arith::XOrIOp>(l, r[0], trueV)};
}

/// The items (elements of the flattened input, or slices along the axis) as
/// rows of an [n, L] tensor: three passes over them find each item's first
/// occurrence, each unique item's position in Y (ascending, or by first
/// occurrence), then scatter Y, indices, inverse_indices and counts,
/// skipping positions past the declared count.
struct UniqueLowering : OpRewritePattern<onnx::UniqueOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::UniqueOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b0 = rewriter;
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    Type elemType = xType.getElementType();
    int64_t rank = xType.getRank();
    bool isUnsigned = isUnsignedOperand(op, 0);
    std::optional<int64_t> axis;
    if (std::optional<uint64_t> a = op.getAxis()) {
      axis = onnx::normalizeAxis(static_cast<int64_t>(*a), rank);
      if (*axis < 0)
        return unsupported(op, "axis out of range");
    }
    int64_t n = axis ? xType.getDimSize(*axis) : xType.getNumElements();
    int64_t width = 1;
    for (int64_t d = 0; axis && d < rank; ++d)
      if (d != *axis)
        width *= xType.getDimSize(d);
    bool yOk = yType.getElementType() == elemType &&
               yType.getRank() == (axis ? rank : 1);
    for (int64_t d = 0; yOk && axis && d < rank; ++d)
      yOk = d == *axis || yType.getDimSize(d) == xType.getDimSize(d);
    if (!yOk)
      return unsupported(op, "Unique's Y must be the input with the axis "
                             "resized, or 1-d without an axis");
    int64_t declared = yType.getDimSize(axis ? *axis : 0);
    Type i64 = b0.getI64Type();
    auto vecType = [&](int64_t len) {
      return RankedTensorType::get({len}, i64);
    };
    if (tensorType(op.getIndices()) != vecType(declared) ||
        tensorType(op.getCounts()) != vecType(declared) ||
        tensorType(op.getInverseIndices()) != vecType(n))
      return unsupported(op, "Unique's indices, inverse_indices and counts "
                             "must be 1-d int64 of the declared lengths");

    // The items as rows: the axis moved first, the rest flattened.
    SmallVector<int64_t> perm, movedShape;
    Value x = op.getX();
    if (axis && *axis != 0) {
      perm.push_back(*axis);
      for (int64_t d = 0; d < rank; ++d)
        if (d != *axis)
          perm.push_back(d);
      for (int64_t d : perm)
        movedShape.push_back(xType.getDimSize(d));
      Value init =
          createEmpty(b0, loc, RankedTensorType::get(movedShape, elemType));
      x = b0.create<linalg::TransposeOp>(loc, x, init, perm).getResult()[0];
    }
    auto rowsType = RankedTensorType::get({n, width}, elemType);
    Value items = reshapeTo(b0, loc, x, rowsType);

    auto indexVec = RankedTensorType::get({n}, b0.getIndexType());
    Value c0 = indexConst(b0, loc, 0);
    Value cn = indexConst(b0, loc, n);
    Value falseV = b0.create<arith::ConstantIntOp>(loc, 0, 1);
    Value trueV = b0.create<arith::ConstantIntOp>(loc, 1, 1);
    auto eqIndex = [](OpBuilder &b, Location l, Value p, Value q) {
      return b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, p, q)
          .getResult();
    };

    // 1. first[i]: the first item equal to item i.
    Value first =
        buildFor(b0, loc, c0, cn, ValueRange{createEmpty(b0, loc, indexVec)},
                 [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
                   SmallVector<Value> found = buildFor(
                       b, l, indexConst(b, l, 0), i, ValueRange{falseV, i},
                       [&](OpBuilder &b, Location l, Value j, ValueRange f) {
                         Value equal =
                             compareRows(b, l, items, j, i, isUnsigned).second;
                         Value take = b.create<arith::AndIOp>(
                             l, equal, b.create<arith::XOrIOp>(l, f[0], trueV));
                         return SmallVector<Value>{
                             b.create<arith::OrIOp>(l, f[0], equal),
                             b.create<arith::SelectOp>(l, take, j, f[1])};
                       });
                   return SmallVector<Value>{
                       b.create<tensor::InsertOp>(l, found[1], acc[0], i)};
                 })[0];

    // 2. pos[i] for each first occurrence i, and the number of unique items.
    SmallVector<Value> positions = buildFor(
        b0, loc, c0, cn, ValueRange{c0, createEmpty(b0, loc, indexVec)},
        [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
          Value isFirst =
              eqIndex(b, l, b.create<tensor::ExtractOp>(l, first, i), i);
          Value pos = acc[0];
          if (op.getSorted()) {
            // The unique items below item i.
            pos = buildIf(
                b, l, isFirst, ValueRange{acc[0]},
                [&](OpBuilder &b, Location l) {
                  return buildFor(
                      b, l, indexConst(b, l, 0), indexConst(b, l, n),
                      ValueRange{indexConst(b, l, 0)},
                      [&](OpBuilder &b, Location l, Value j, ValueRange cnt) {
                        Value jFirst = eqIndex(
                            b, l, b.create<tensor::ExtractOp>(l, first, j), j);
                        Value less =
                            compareRows(b, l, items, j, i, isUnsigned).first;
                        return SmallVector<Value>{
                            addIf(b, l, cnt[0],
                                  b.create<arith::AndIOp>(l, jFirst, less))};
                      });
                })[0];
          }
          return SmallVector<Value>{
              addIf(b, l, acc[0], isFirst),
              b.create<tensor::InsertOp>(l, pos, acc[1], i)};
        });
    Value numUnique = positions[0], pos = positions[1];

    // 3. The outputs: each item counts at its position (the spare slot past
    // the declared count); a first occurrence also writes its row of Y and
    // its index there, other items write them to the spare slot.
    auto yRowsType = RankedTensorType::get({declared, width}, elemType);
    SmallVector<Value> outs = buildFor(
        b0, loc, c0, cn,
        ValueRange{createZeros(b0, loc, withSpareSlot(yRowsType, 0)),
                   createZeros(b0, loc, vecType(declared + 1)),
                   createZeros(b0, loc, vecType(n)),
                   createZeros(b0, loc, vecType(declared + 1))},
        [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
          Value f = b.create<tensor::ExtractOp>(l, first, i);
          Value p = b.create<tensor::ExtractOp>(l, pos, f);
          Value inverse =
              b.create<tensor::InsertOp>(l, toI64(b, l, p), acc[2], i);
          Value slot = slotFor(b, l, trueV, p, declared);
          Value count = b.create<arith::AddIOp>(
              l, b.create<tensor::ExtractOp>(l, acc[3], slot),
              createScalar(b, l, i64, 1));
          Value counts = b.create<tensor::InsertOp>(l, count, acc[3], slot);
          Value firstSlot = slotFor(b, l, eqIndex(b, l, f, i), p, declared);
          Value indices =
              b.create<tensor::InsertOp>(l, toI64(b, l, i), acc[1], firstSlot);
          // No rows to write to an empty Y (a copy to the spare row alone
          // would fold to a value the loop cannot update in place).
          Value y = acc[0];
          if (declared > 0) {
            SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                               b.getIndexAttr(width)};
            SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
            Value row = b.create<tensor::ExtractSliceOp>(
                l, RankedTensorType::get({1, width}, elemType), items,
                SmallVector<OpFoldResult>{i, b.getIndexAttr(0)}, sizes,
                strides);
            y = b.create<tensor::InsertSliceOp>(
                l, row, y,
                SmallVector<OpFoldResult>{firstSlot, b.getIndexAttr(0)}, sizes,
                strides);
          }
          return SmallVector<Value>{y, indices, inverse, counts};
        });
    outs[0] = dropSpareSlot(b0, loc, outs[0], yRowsType);
    outs[1] = dropSpareSlot(b0, loc, outs[1], vecType(declared));
    outs[3] = dropSpareSlot(b0, loc, outs[3], vecType(declared));
    assertCount(rewriter, loc, numUnique, declared,
                Twine("Unique: the number of unique ") +
                    (axis ? "slices" : "values") + " differs from the " +
                    Twine(declared) + " the model declares");

    // Y back in the input's layout.
    Value y = outs[0];
    if (axis) {
      SmallVector<int64_t> shape = {declared};
      for (int64_t d = 0; d < rank; ++d)
        if (d != *axis)
          shape.push_back(xType.getDimSize(d));
      y = reshapeTo(b0, loc, y, RankedTensorType::get(shape, elemType));
      if (*axis != 0) {
        SmallVector<int64_t> inverse(rank);
        for (int64_t d = 0; d < rank; ++d)
          inverse[perm[d]] = d;
        y = b0.create<linalg::TransposeOp>(loc, y, createEmpty(b0, loc, yType),
                                           inverse)
                .getResult()[0];
      }
    } else {
      y = reshapeTo(b0, loc, y, yType);
    }
    rewriter.replaceOp(op, ValueRange{y, outs[1], outs[2], outs[3]});
    return success();
  }
};

} // namespace

void kiln::populateDataDependentPatterns(RewritePatternSet &patterns) {
  patterns.add<CompressLowering, NonMaxSuppressionLowering, NonZeroLowering,
               UniqueLowering>(patterns.getContext());
}
