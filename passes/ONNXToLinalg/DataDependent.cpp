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
  patterns.add<CompressLowering, NonZeroLowering>(patterns.getContext());
}
