//===- Tensor.cpp - Lower onnx shape and data-movement ops ----------------===//
//
// This file implements the lowering of the onnx tensor family. Ops whose
// result shape is decided by an input (Reshape, Expand, ConstantOfShape,
// Squeeze, Unsqueeze) take it from their static result type, which shape
// inference fixed at import; reshapes become collapse/expand_shape (views
// after bufferization), Transpose a linalg.transpose, Concat insert_slices,
// Gather a generic that extracts at the (clamped) index.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

using namespace mlir;
using namespace kiln;

namespace {

struct ConstantLowering : OpRewritePattern<onnx::ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConstantOp op,
                                PatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value)
      return unsupported(op, "unsupported constant");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

/// Every op whose result is its first operand reshaped to the result type.
template <typename OpTy> struct ReshapeLikeLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op->getResult(0));
    if (tensorType(op->getOperand(0)).getNumElements() != type.getNumElements())
      return unsupported(op, "element count changes");
    rewriter.replaceOp(
        op, reshapeTo(rewriter, op.getLoc(), op->getOperand(0), type));
    return success();
  }
};

struct IdentityLowering : OpRewritePattern<onnx::IdentityOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::IdentityOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

struct TransposeLowering : OpRewritePattern<onnx::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    int64_t rank = tensorType(op.getData()).getRank();
    SmallVector<int64_t> perm;
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
    if (op.getPerm())
      perm = getI64Array(op.getPerm(), 0, 0);
    auto type = tensorType(op.getTransposed());
    Value result = rewriter
                       .create<linalg::TransposeOp>(
                           op.getLoc(), op.getData(),
                           createEmpty(rewriter, op.getLoc(), type), perm)
                       .getResult()[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConcatLowering : OpRewritePattern<onnx::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getConcatResult());
    int64_t rank = type.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    Value result = createEmpty(rewriter, loc, type);
    int64_t offset = 0;
    for (Value in : op.getInputs()) {
      auto inType = tensorType(in);
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
      for (int64_t d : inType.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      offsets[axis] = rewriter.getIndexAttr(offset);
      offset += inType.getDimSize(axis);
      if (inType.getNumElements() == 0)
        continue;
      result = rewriter.create<tensor::InsertSliceOp>(loc, in, result, offsets,
                                                      sizes, strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GatherLowering : OpRewritePattern<onnx::GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GatherOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto dataType = tensorType(op.getData());
    auto idxType = tensorType(op.getIndices());
    auto outType = tensorType(op.getOutput());
    int64_t axis = onnx::normalizeAxis(op.getAxis(), dataType.getRank());
    int64_t q = idxType.getRank(), outRank = outType.getRank();
    int64_t axisSize = dataType.getDimSize(axis);
    // The indices are an input of the generic, indexed by out dims
    // [axis, axis + q).
    SmallVector<AffineExpr> idxExprs;
    for (int64_t i = 0; i < q; ++i)
      idxExprs.push_back(rewriter.getAffineDimExpr(axis + i));
    SmallVector<AffineMap> maps{
        AffineMap::get(outRank, 0, idxExprs, rewriter.getContext()),
        rewriter.getMultiDimIdentityMap(outRank)};
    SmallVector<utils::IteratorType> iterators(outRank,
                                               utils::IteratorType::parallel);
    Value data = op.getData();
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{outType}, ValueRange{op.getIndices()},
        ValueRange{createEmpty(rewriter, loc, outType)}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value idx = clampIndex(b, l, args[0], axisSize);
          SmallVector<Value> indices;
          for (int64_t i = 0; i < dataType.getRank(); ++i) {
            if (i < axis)
              indices.push_back(b.create<linalg::IndexOp>(l, i));
            else if (i == axis)
              indices.push_back(idx);
            else
              indices.push_back(b.create<linalg::IndexOp>(l, i + q - 1));
          }
          Value v = b.create<tensor::ExtractOp>(l, data, indices);
          b.create<linalg::YieldOp>(l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct SliceLowering : OpRewritePattern<onnx::SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SliceOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getData());
    auto outType = tensorType(op.getOutput());
    int64_t rank = type.getRank();
    SmallVector<int64_t> starts, ends, axes, steps;
    if (failed(getConstantInts(op.getStarts(), starts)) ||
        failed(getConstantInts(op.getEnds(), ends)))
      return unsupported(op, "Slice starts and ends must be constants");
    if (!onnx::isNoValue(op.getAxes()) &&
        failed(getConstantInts(op.getAxes(), axes)))
      return unsupported(op, "Slice axes must be a constant");
    if (!onnx::isNoValue(op.getSteps()) &&
        failed(getConstantInts(op.getSteps(), steps)))
      return unsupported(op, "Slice steps must be a constant");
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i)
        axes.push_back(i);
    if (steps.empty())
      steps.assign(starts.size(), 1);
    SmallVector<int64_t> offset(rank, 0), stride(rank, 1);
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = onnx::normalizeAxis(axes[i], rank);
      if (a < 0 || steps[i] == 0)
        return unsupported(op, "invalid Slice axes or steps");
      int64_t dim = type.getDimSize(a), s = starts[i], step = steps[i];
      if (s < 0)
        s += dim;
      s = step > 0 ? std::clamp<int64_t>(s, 0, dim)
                   : std::clamp<int64_t>(s, 0, dim - 1);
      offset[a] = s;
      stride[a] = step;
    }
    // Negative steps read backwards: a generic with index arithmetic.
    if (llvm::any_of(stride, [](int64_t s) { return s < 0; })) {
      Value data = op.getData();
      SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
      SmallVector<utils::IteratorType> iterators(rank,
                                                 utils::IteratorType::parallel);
      auto generic = rewriter.create<linalg::GenericOp>(
          loc, TypeRange{outType}, ValueRange{},
          ValueRange{createEmpty(rewriter, loc, outType)}, maps, iterators,
          [&](OpBuilder &b, Location l, ValueRange) {
            SmallVector<Value> idx;
            for (int64_t i = 0; i < rank; ++i) {
              Value iv = b.create<linalg::IndexOp>(l, i);
              Value scaled = b.create<arith::MulIOp>(
                  l, iv, b.create<arith::ConstantIndexOp>(l, stride[i]));
              idx.push_back(b.create<arith::AddIOp>(
                  l, scaled, b.create<arith::ConstantIndexOp>(l, offset[i])));
            }
            b.create<linalg::YieldOp>(
                l, ValueRange{b.create<tensor::ExtractOp>(l, data, idx)});
          });
      rewriter.replaceOp(op, generic.getResult(0));
      return success();
    }
    if (outType.getNumElements() == 0) {
      rewriter.replaceOp(op, createEmpty(rewriter, loc, outType));
      return success();
    }
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (int64_t i = 0; i < rank; ++i) {
      offsets.push_back(rewriter.getIndexAttr(offset[i]));
      sizes.push_back(rewriter.getIndexAttr(outType.getDimSize(i)));
      strides.push_back(rewriter.getIndexAttr(stride[i]));
    }
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, outType, op.getData(), offsets, sizes, strides);
    return success();
  }
};

struct ShapeLowering : OpRewritePattern<onnx::ShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ShapeOp op,
                                PatternRewriter &rewriter) const override {
    auto shape = tensorType(op.getData()).getShape();
    int64_t rank = shape.size();
    int64_t start = op.getStart().value_or(0), end = op.getEnd().value_or(rank);
    if (start < 0)
      start += rank;
    if (end < 0)
      end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    SmallVector<int64_t> dims(shape.begin() + start, shape.begin() + end);
    auto type =
        RankedTensorType::get({(int64_t)dims.size()}, rewriter.getI64Type());
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, ArrayRef<int64_t>(dims)));
    return success();
  }
};

struct ConstantOfShapeLowering : OpRewritePattern<onnx::ConstantOfShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConstantOfShapeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op.getOutput());
    Type et = type.getElementType();
    Attribute fill = isFloat(et) ? (Attribute)rewriter.getFloatAttr(et, 0.0)
                                 : (Attribute)rewriter.getIntegerAttr(et, 0);
    if (op.getValue()) {
      auto data = dyn_cast<DenseElementsAttr>(*op.getValue());
      if (!data || data.getNumElements() != 1)
        return unsupported(op, "value must hold one element");
      fill = data.getValues<Attribute>()[0];
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, fill));
    return success();
  }
};

struct ExpandLowering : OpRewritePattern<onnx::ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ExpandOp op,
                                PatternRewriter &rewriter) const override {
    Value result = buildElementwise(
        rewriter, op.getLoc(), tensorType(op.getOutput()), op.getInput(),
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct RangeLowering : OpRewritePattern<onnx::RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::RangeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getOutput());
    Type et = type.getElementType();
    auto scalar = [&](Value v) {
      return rewriter.create<tensor::ExtractOp>(loc, v, ValueRange{});
    };
    Value start = scalar(op.getStart()), delta = scalar(op.getDelta());
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(1)};
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{},
        ValueRange{createEmpty(rewriter, loc, type)}, maps,
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, 0));
          Value fi = convertScalar(b, l, i, et, false, false);
          Value v = isFloat(et)
                        ? b.create<arith::AddFOp>(
                               l, start, b.create<arith::MulFOp>(l, fi, delta))
                              .getResult()
                        : b.create<arith::AddIOp>(
                               l, start, b.create<arith::MulIOp>(l, fi, delta))
                              .getResult();
          b.create<linalg::YieldOp>(l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct PadLowering : OpRewritePattern<onnx::PadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::PadOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getData());
    auto outType = tensorType(op.getOutput());
    int64_t rank = type.getRank();
    SmallVector<int64_t> pads;
    if (failed(getConstantInts(op.getPads(), pads)) ||
        (int64_t)pads.size() != 2 * rank)
      return unsupported(op, "Pad pads must be a constant of 2*rank entries");
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
      return unsupported(op, "negative pads are not supported yet");
    Type et = type.getElementType();
    if (llvm::all_of(pads, [](int64_t p) { return p == 0; })) {
      rewriter.replaceOp(op, op.getData());
      return success();
    }
    if (op.getMode() != "constant") {
      // reflect / edge: each output index maps to a clamped or mirrored input.
      bool reflect = op.getMode() == "reflect";
      if (!reflect && op.getMode() != "edge")
        return unsupported(op, "unknown Pad mode '" + op.getMode() + "'");
      Value data = op.getData();
      SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
      SmallVector<utils::IteratorType> iterators(rank,
                                                 utils::IteratorType::parallel);
      auto generic = rewriter.create<linalg::GenericOp>(
          loc, TypeRange{outType}, ValueRange{},
          ValueRange{createEmpty(rewriter, loc, outType)}, maps, iterators,
          [&](OpBuilder &b, Location l, ValueRange) {
            SmallVector<Value> idx;
            for (int64_t i = 0; i < rank; ++i) {
              int64_t n = type.getDimSize(i);
              Value iv = b.create<arith::IndexCastOp>(
                  l, b.getI64Type(), b.create<linalg::IndexOp>(l, i));
              Value x = b.create<arith::SubIOp>(
                  l, iv, createScalar(b, l, b.getI64Type(), pads[i]));
              Value zero = createScalar(b, l, b.getI64Type(), 0);
              Value last = createScalar(b, l, b.getI64Type(), n - 1);
              if (reflect && n > 1) {
                // Mirror without repeating the edge: period 2(n-1).
                Value period = createScalar(b, l, b.getI64Type(), 2 * (n - 1));
                Value m = b.create<arith::RemSIOp>(l, x, period);
                m = b.create<arith::SelectOp>(
                    l,
                    b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, m,
                                            zero),
                    b.create<arith::AddIOp>(l, m, period), m);
                Value over = b.create<arith::CmpIOp>(
                    l, arith::CmpIPredicate::sgt, m, last);
                x = b.create<arith::SelectOp>(
                    l, over, b.create<arith::SubIOp>(l, period, m), m);
              }
              x = b.create<arith::MaxSIOp>(l, x, zero);
              x = b.create<arith::MinSIOp>(l, x, last);
              idx.push_back(
                  b.create<arith::IndexCastOp>(l, b.getIndexType(), x));
            }
            b.create<linalg::YieldOp>(
                l, ValueRange{b.create<tensor::ExtractOp>(l, data, idx)});
          });
      rewriter.replaceOp(op, generic.getResult(0));
      return success();
    }
    Value padValue;
    if (onnx::isNoValue(op.getConstantValue()))
      padValue = createScalar(rewriter, loc, et, 0);
    else
      padValue = rewriter.create<tensor::ExtractOp>(loc, op.getConstantValue(),
                                                    ValueRange{});
    SmallVector<OpFoldResult> low, high;
    for (int64_t i = 0; i < rank; ++i) {
      low.push_back(rewriter.getIndexAttr(pads[i]));
      high.push_back(rewriter.getIndexAttr(pads[rank + i]));
    }
    rewriter.replaceOpWithNewOp<tensor::PadOp>(op, outType, op.getData(), low,
                                               high, padValue);
    return success();
  }
};

struct SizeLowering : OpRewritePattern<onnx::SizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SizeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op.getSize());
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(
                type, rewriter.getIntegerAttr(
                          type.getElementType(),
                          tensorType(op.getData()).getNumElements())));
    return success();
  }
};

struct TriluLowering : OpRewritePattern<onnx::TriluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TriluOp op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op.getOutput());
    int64_t rank = type.getRank();
    if (rank < 2)
      return unsupported(op, "Trilu needs rank 2 or more");
    // k is read at run time when it is not a constant.
    Value k = createScalar(rewriter, op.getLoc(), rewriter.getI64Type(), 0);
    if (!onnx::isNoValue(op.getK())) {
      auto kType = tensorType(op.getK());
      if (kType.getNumElements() != 1)
        return unsupported(op, "Trilu k must be a scalar");
      SmallVector<Value> zeros(
          kType.getRank(),
          rewriter.create<arith::ConstantIndexOp>(op.getLoc(), 0));
      k = rewriter.create<tensor::ExtractOp>(op.getLoc(), op.getK(), zeros);
    }
    bool upper = op.getUpper();
    Type et = type.getElementType();
    Value result = buildIndexed(
        rewriter, op.getLoc(), type, op.getInput(),
        {rewriter.getMultiDimIdentityMap(rank)},
        [&](OpBuilder &b, Location l, ValueRange args,
            ValueRange idx) -> Value {
          auto i64 = [&](Value v) {
            return b.create<arith::IndexCastOp>(l, b.getI64Type(), v);
          };
          Value diff = b.create<arith::SubIOp>(l, i64(idx[rank - 1]),
                                               i64(idx[rank - 2]));
          Value keep = b.create<arith::CmpIOp>(
              l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
              diff, k);
          return b.create<arith::SelectOp>(l, keep, args[0],
                                           createScalar(b, l, et, 0));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GatherElementsLowering : OpRewritePattern<onnx::GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GatherElementsOp op,
                                PatternRewriter &rewriter) const override {
    auto dataType = tensorType(op.getData());
    auto outType = tensorType(op.getOutput());
    int64_t rank = dataType.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    if (axis < 0)
      return unsupported(op, "axis out of range");
    Value data = op.getData();
    Value result =
        buildIndexed(rewriter, op.getLoc(), outType, op.getIndices(),
                     {rewriter.getMultiDimIdentityMap(rank)},
                     [&](OpBuilder &b, Location l, ValueRange args,
                         ValueRange idx) -> Value {
                       SmallVector<Value> at(idx.begin(), idx.end());
                       at[axis] =
                           clampIndex(b, l, args[0], dataType.getDimSize(axis));
                       return b.create<tensor::ExtractOp>(l, data, at);
                     });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct TileLowering : OpRewritePattern<onnx::TileOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TileOp op,
                                PatternRewriter &rewriter) const override {
    auto inType = tensorType(op.getInput());
    Value input = op.getInput();
    Value result = buildIndexed(
        rewriter, op.getLoc(), tensorType(op.getOutput()), {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange idx) -> Value {
          SmallVector<Value> at;
          for (int64_t i = 0; i < inType.getRank(); ++i)
            at.push_back(b.create<arith::RemUIOp>(
                l, idx[i],
                b.create<arith::ConstantIndexOp>(l, inType.getDimSize(i))));
          return b.create<tensor::ExtractOp>(l, input, at);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SplitLowering : OpRewritePattern<onnx::SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SplitOp op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op.getInput());
    int64_t rank = type.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    if (axis < 0)
      return unsupported(op, "axis out of range");
    SmallVector<Value> results;
    int64_t offset = 0;
    for (Value out : op.getOutputs()) {
      auto outType = tensorType(out);
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)), sizes,
          strides(rank, rewriter.getIndexAttr(1));
      for (int64_t d : outType.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      offsets[axis] = rewriter.getIndexAttr(offset);
      offset += outType.getDimSize(axis);
      results.push_back(rewriter.create<tensor::ExtractSliceOp>(
          op.getLoc(), outType, op.getInput(), offsets, sizes, strides));
    }
    if (offset != type.getDimSize(axis))
      return unsupported(op, "Split outputs do not cover the input");
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// DepthToSpace / SpaceToDepth as reshape -> transpose -> reshape.
static Value blockShuffle(OpBuilder &b, Location loc, Value x,
                          ArrayRef<int64_t> splitShape, ArrayRef<int64_t> perm,
                          RankedTensorType outType) {
  Type et = outType.getElementType();
  Value split = reshapeTo(b, loc, x, RankedTensorType::get(splitShape, et));
  SmallVector<int64_t> permuted;
  for (int64_t p : perm)
    permuted.push_back(splitShape[p]);
  auto tType = RankedTensorType::get(permuted, et);
  Value t = b.create<linalg::TransposeOp>(loc, split,
                                          createEmpty(b, loc, tType), perm)
                .getResult()[0];
  return reshapeTo(b, loc, t, outType);
}

struct DepthToSpaceLowering : OpRewritePattern<onnx::DepthToSpaceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DepthToSpaceOp op,
                                PatternRewriter &rewriter) const override {
    auto t = tensorType(op.getInput());
    if (t.getRank() != 4)
      return unsupported(op, "DepthToSpace needs a 4-d input");
    int64_t n = t.getDimSize(0), c = t.getDimSize(1), h = t.getDimSize(2),
            w = t.getDimSize(3), bs = op.getBlocksize();
    Value r;
    if (op.getMode() == "DCR")
      r = blockShuffle(rewriter, op.getLoc(), op.getInput(),
                       {n, bs, bs, c / (bs * bs), h, w}, {0, 3, 4, 1, 5, 2},
                       tensorType(op.getOutput()));
    else if (op.getMode() == "CRD")
      r = blockShuffle(rewriter, op.getLoc(), op.getInput(),
                       {n, c / (bs * bs), bs, bs, h, w}, {0, 1, 4, 2, 5, 3},
                       tensorType(op.getOutput()));
    else
      return unsupported(op,
                         "unknown DepthToSpace mode '" + op.getMode() + "'");
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct SpaceToDepthLowering : OpRewritePattern<onnx::SpaceToDepthOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SpaceToDepthOp op,
                                PatternRewriter &rewriter) const override {
    auto t = tensorType(op.getInput());
    if (t.getRank() != 4)
      return unsupported(op, "SpaceToDepth needs a 4-d input");
    int64_t n = t.getDimSize(0), c = t.getDimSize(1), h = t.getDimSize(2),
            w = t.getDimSize(3), bs = op.getBlocksize();
    rewriter.replaceOp(op, blockShuffle(rewriter, op.getLoc(), op.getInput(),
                                        {n, c, h / bs, bs, w / bs, bs},
                                        {0, 3, 5, 1, 2, 4},
                                        tensorType(op.getOutput())));
    return success();
  }
};

struct EyeLikeLowering : OpRewritePattern<onnx::EyeLikeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::EyeLikeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op.getOutput());
    if (type.getRank() != 2)
      return unsupported(op, "EyeLike needs a 2-d input");
    Type et = type.getElementType();
    int64_t k = op.getK();
    Value result = buildIndexed(
        rewriter, op.getLoc(), type, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange idx) -> Value {
          Value col = b.create<arith::IndexCastOp>(l, b.getI64Type(), idx[1]);
          Value row = b.create<arith::IndexCastOp>(l, b.getI64Type(), idx[0]);
          Value diag = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::eq, b.create<arith::SubIOp>(l, col, row),
              createScalar(b, l, b.getI64Type(), k));
          return b.create<arith::SelectOp>(l, diag, createScalar(b, l, et, 1),
                                           createScalar(b, l, et, 0));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct OneHotLowering : OpRewritePattern<onnx::OneHotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::OneHotOp op,
                                PatternRewriter &rewriter) const override {
    auto outType = tensorType(op.getOutput());
    auto idxType = tensorType(op.getIndices());
    int64_t rank = outType.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    if (axis < 0)
      return unsupported(op, "axis out of range");
    int64_t depth = outType.getDimSize(axis);
    SmallVector<AffineExpr> idxExprs;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        idxExprs.push_back(rewriter.getAffineDimExpr(i));
    Value values = op.getValues();
    Type it = idxType.getElementType();
    Value result = buildIndexed(
        rewriter, op.getLoc(), outType, op.getIndices(),
        {AffineMap::get(rank, 0, idxExprs, rewriter.getContext())},
        [&](OpBuilder &b, Location l, ValueRange args,
            ValueRange idx) -> Value {
          Value raw = args[0];
          if (isFloat(it))
            raw = b.create<arith::FPToSIOp>(l, b.getI64Type(), raw);
          else if (it != b.getI64Type())
            raw = b.create<arith::ExtSIOp>(l, b.getI64Type(), raw);
          Value d = createScalar(b, l, b.getI64Type(), depth);
          Value zero = createScalar(b, l, b.getI64Type(), 0);
          Value neg =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, raw, zero);
          raw = b.create<arith::SelectOp>(
              l, neg, b.create<arith::AddIOp>(l, raw, d), raw);
          Value pos =
              b.create<arith::IndexCastOp>(l, b.getI64Type(), idx[axis]);
          Value hit =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, raw, pos);
          Value off = b.create<tensor::ExtractOp>(
              l, values, ValueRange{b.create<arith::ConstantIndexOp>(l, 0)});
          Value on = b.create<tensor::ExtractOp>(
              l, values, ValueRange{b.create<arith::ConstantIndexOp>(l, 1)});
          return b.create<arith::SelectOp>(l, hit, on, off);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void kiln::populateTensorPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<
      ConstantLowering, IdentityLowering, ReshapeLikeLowering<onnx::ReshapeOp>,
      ReshapeLikeLowering<onnx::FlattenOp>,
      ReshapeLikeLowering<onnx::SqueezeOp>,
      ReshapeLikeLowering<onnx::UnsqueezeOp>, TransposeLowering, ConcatLowering,
      GatherLowering, SliceLowering, ShapeLowering, ConstantOfShapeLowering,
      ExpandLowering, RangeLowering, PadLowering, SizeLowering, TriluLowering,
      GatherElementsLowering, TileLowering, SplitLowering, DepthToSpaceLowering,
      SpaceToDepthLowering, EyeLikeLowering, OneHotLowering>(ctx);
}
