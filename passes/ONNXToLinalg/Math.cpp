//===- Math.cpp - Lower onnx math ops to linalg ---------------------------===//
//
// This file implements the lowering of the onnx math family: elementwise
// ops as broadcasting linalg.generic ops, MatMul and Gemm as linalg.matmul /
// linalg.batch_matmul (constant weights transposed at compile time), Softmax
// and the reductions as reduction generics that accumulate in f32 or wider.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kiln;

namespace {

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Emits the scalar op for an elementwise onnx op. Returns null for element
/// types the op does not support.
static Value emitScalar(OpBuilder &b, Location loc, Operation *op,
                        ValueRange args) {
  Value x = args[0];
  Type t = x.getType();
  bool f = isFloat(t);
  bool u = false; // unsigned integers are rejected before this point
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](onnx::AbsOp) -> Value {
        return f ? b.create<math::AbsFOp>(loc, x).getResult()
                 : b.create<math::AbsIOp>(loc, x).getResult();
      })
      .Case([&](onnx::NegOp) -> Value {
        return f ? b.create<arith::NegFOp>(loc, x).getResult()
                 : b.create<arith::SubIOp>(loc, createScalar(b, loc, t, 0), x)
                       .getResult();
      })
      .Case([&](onnx::ReluOp) -> Value {
        Value zero = createScalar(b, loc, t, 0);
        return f ? b.create<arith::MaximumFOp>(loc, x, zero).getResult()
                 : b.create<arith::MaxSIOp>(loc, x, zero).getResult();
      })
      .Case([&](onnx::NotOp) -> Value {
        return b.create<arith::XOrIOp>(loc, x, createScalar(b, loc, t, 1));
      })
      .Case([&](onnx::CeilOp) -> Value {
        return f ? b.create<math::CeilOp>(loc, x).getResult() : x;
      })
      .Case([&](onnx::FloorOp) -> Value {
        return f ? b.create<math::FloorOp>(loc, x).getResult() : x;
      })
      .Case([&](onnx::ErfOp) -> Value {
        return f ? b.create<math::ErfOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::ExpOp) -> Value {
        return f ? b.create<math::ExpOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::LogOp) -> Value {
        return f ? b.create<math::LogOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::SqrtOp) -> Value {
        return f ? b.create<math::SqrtOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::TanhOp) -> Value {
        return f ? b.create<math::TanhOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::ReciprocalOp) -> Value {
        return f ? b.create<arith::DivFOp>(loc, createScalar(b, loc, t, 1), x)
                       .getResult()
                 : Value();
      })
      .Case([&](onnx::SigmoidOp) -> Value {
        if (!f)
          return Value();
        Value one = createScalar(b, loc, t, 1);
        Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
        return b.create<arith::DivFOp>(loc, one,
                                       b.create<arith::AddFOp>(loc, one, e));
      })
      .Case([&](onnx::LeakyReluOp lr) -> Value {
        if (!f)
          return Value();
        Value zero = createScalar(b, loc, t, 0);
        Value alpha = createScalar(b, loc, t, lr.getAlpha().convertToDouble());
        Value neg = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                            zero);
        return b.create<arith::SelectOp>(loc, neg,
                                         b.create<arith::MulFOp>(loc, x, alpha),
                                         x);
      })
      .Case([&](onnx::HardSigmoidOp hs) -> Value {
        if (!f)
          return Value();
        Value alpha = createScalar(b, loc, t, hs.getAlpha().convertToDouble());
        Value beta = createScalar(b, loc, t, hs.getBeta().convertToDouble());
        Value v = b.create<arith::AddFOp>(
            loc, b.create<arith::MulFOp>(loc, x, alpha), beta);
        v = b.create<arith::MaximumFOp>(loc, v, createScalar(b, loc, t, 0));
        return b.create<arith::MinimumFOp>(loc, v, createScalar(b, loc, t, 1));
      })
      .Case([&](onnx::AddOp) -> Value {
        return f ? b.create<arith::AddFOp>(loc, x, args[1]).getResult()
                 : b.create<arith::AddIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::SubOp) -> Value {
        return f ? b.create<arith::SubFOp>(loc, x, args[1]).getResult()
                 : b.create<arith::SubIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::MulOp) -> Value {
        return f ? b.create<arith::MulFOp>(loc, x, args[1]).getResult()
                 : b.create<arith::MulIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::DivOp) -> Value {
        if (f)
          return b.create<arith::DivFOp>(loc, x, args[1]);
        return u ? b.create<arith::DivUIOp>(loc, x, args[1]).getResult()
                 : b.create<arith::DivSIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::PowOp) -> Value {
        Value y = args[1];
        if (!f)
          return Value();
        if (y.getType() != t)
          y = convertScalar(b, loc, y, t, false, false);
        return b.create<math::PowFOp>(loc, x, y);
      })
      .Case([&](onnx::AndOp) -> Value {
        return b.create<arith::AndIOp>(loc, x, args[1]);
      })
      .Case([&](onnx::OrOp) -> Value {
        return b.create<arith::OrIOp>(loc, x, args[1]);
      })
      .Case([&](onnx::EqualOp) -> Value {
        return f ? b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x,
                                           args[1])
                       .getResult()
                 : b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x,
                                           args[1])
                       .getResult();
      })
      .Case([&](onnx::LessOp) -> Value {
        return f ? b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                           args[1])
                       .getResult()
                 : b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x,
                                           args[1])
                       .getResult();
      })
      .Case([&](onnx::GreaterOp) -> Value {
        return f ? b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x,
                                           args[1])
                       .getResult()
                 : b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, x,
                                           args[1])
                       .getResult();
      })
      .Default([](Operation *) { return Value(); });
}

/// Lowers any elementwise onnx op whose operands are all tensors.
template <typename OpTy>
struct ElementwiseLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto resultType = tensorType(op->getResult(0));
    for (Value v : op->getOperands())
      if (tensorType(v).getElementType().isUnsignedInteger())
        return unsupported(op, "unsigned integer operands are not supported yet");
    bool ok = true;
    Value result = buildElementwise(
        rewriter, op.getLoc(), resultType, op->getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value v = emitScalar(b, loc, op, args);
          if (!v) {
            ok = false;
            return args[0];
          }
          return v;
        });
    if (!ok) {
      rewriter.eraseOp(result.getDefiningOp());
      return unsupported(op, "element type " +
                                 llvm::Twine(mlirTypeString(
                                     tensorType(op->getOperand(0))
                                         .getElementType())) +
                                 " is not supported by this op");
    }
    rewriter.replaceOp(op, result);
    return success();
  }

  static std::string mlirTypeString(Type t) {
    std::string s;
    llvm::raw_string_ostream os(s);
    t.print(os);
    return s;
  }
};

struct ClipLowering : OpRewritePattern<onnx::ClipOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ClipOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> inputs{op.getInput()};
    bool hasMin = !onnx::isNoValue(op.getMin());
    bool hasMax = !onnx::isNoValue(op.getMax());
    if (hasMin)
      inputs.push_back(op.getMin());
    if (hasMax)
      inputs.push_back(op.getMax());
    Type t = tensorType(op.getInput()).getElementType();
    if (t.isUnsignedInteger())
      return unsupported(op, "unsigned integer operands are not supported yet");
    Value result = buildElementwise(
        rewriter, op.getLoc(), tensorType(op.getOutput()), inputs,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value v = args[0];
          unsigned next = 1;
          if (hasMin) {
            Value lo = args[next++];
            v = isFloat(t) ? b.create<arith::MaximumFOp>(loc, v, lo).getResult()
                           : b.create<arith::MaxSIOp>(loc, v, lo).getResult();
          }
          if (hasMax) {
            Value hi = args[next++];
            v = isFloat(t) ? b.create<arith::MinimumFOp>(loc, v, hi).getResult()
                           : b.create<arith::MinSIOp>(loc, v, hi).getResult();
          }
          return v;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct WhereLowering : OpRewritePattern<onnx::WhereOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::WhereOp op,
                                PatternRewriter &rewriter) const override {
    Value result = buildElementwise(
        rewriter, op.getLoc(), tensorType(op.getOutput()), op->getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return b.create<arith::SelectOp>(loc, args[0], args[1], args[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct CastLowering : OpRewritePattern<onnx::CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::CastOp op,
                                PatternRewriter &rewriter) const override {
    Type from = tensorType(op.getInput()).getElementType();
    Type to = tensorType(op.getOutput()).getElementType();
    if (from.isUnsignedInteger() || to.isUnsignedInteger())
      return unsupported(op, "unsigned integer types are not supported yet");
    Value result = buildElementwise(
        rewriter, op.getLoc(), tensorType(op.getOutput()), op.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return convertScalar(b, loc, args[0], to, false, false);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

/// Transposes a 2-d value: at compile time when it is a constant, else with
/// linalg.transpose.
static Value transpose2D(OpBuilder &b, Location loc, Value v) {
  auto type = tensorType(v);
  auto resultType = RankedTensorType::get(
      {type.getDimSize(1), type.getDimSize(0)}, type.getElementType());
  if (auto data = getConstantData(v)) {
    if (data.isSplat())
      return b.create<arith::ConstantOp>(loc, data.reshape(resultType));
    unsigned width = type.getElementType().getIntOrFloatBitWidth();
    if (width % 8 == 0) {
      ArrayRef<char> raw = data.getRawData();
      size_t bytes = width / 8;
      int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
      std::vector<char> out(raw.size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          std::memcpy(&out[(c * rows + r) * bytes],
                      &raw[(r * cols + c) * bytes], bytes);
      return b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::getFromRawBuffer(resultType, out));
    }
  }
  return b
      .create<linalg::TransposeOp>(loc, v, createEmpty(b, loc, resultType),
                                   ArrayRef<int64_t>{1, 0})
      .getResult()[0];
}

/// C = A * B for 2-d A [M,K], B [K,N], accumulating into `init`.
static Value matmul2D(OpBuilder &b, Location loc, Value a, Value bm,
                      Value init) {
  return b
      .create<linalg::MatmulOp>(loc, TypeRange{init.getType()},
                                ValueRange{a, bm}, ValueRange{init})
      .getResult(0);
}

struct MatMulLowering : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto aType = tensorType(op.getA()), bType = tensorType(op.getB());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    if (!isFloat(et))
      return unsupported(op, "integer MatMul is not supported yet");
    Value a = op.getA(), bv = op.getB();
    // Promote 1-d operands as numpy does.
    if (aType.getRank() == 1) {
      aType = RankedTensorType::get({1, aType.getDimSize(0)}, et);
      a = reshapeTo(rewriter, loc, a, aType);
    }
    if (bType.getRank() == 1) {
      bType = RankedTensorType::get({bType.getDimSize(0), 1}, et);
      bv = reshapeTo(rewriter, loc, bv, bType);
    }
    int64_t m = aType.getDimSize(aType.getRank() - 2);
    int64_t k = aType.getDimSize(aType.getRank() - 1);
    int64_t n = bType.getDimSize(bType.getRank() - 1);
    Value zero = createScalar(rewriter, loc, et, 0);
    auto aBatch = aType.getShape().drop_back(2);
    auto bBatch = bType.getShape().drop_back(2);
    int64_t aCount = 1, bCount = 1;
    for (int64_t d : aBatch)
      aCount *= d;
    for (int64_t d : bBatch)
      bCount *= d;

    Value result;
    if (bCount == 1) {
      // [..., M, K] x [K, N]: fold A's batch into M, one matmul.
      auto a2 = RankedTensorType::get({aCount * m, k}, et);
      auto b2 = RankedTensorType::get({k, n}, et);
      auto c2 = RankedTensorType::get({aCount * m, n}, et);
      result = matmul2D(rewriter, loc, reshapeTo(rewriter, loc, a, a2),
                        reshapeTo(rewriter, loc, bv, b2),
                        createFilled(rewriter, loc, c2, zero));
    } else {
      // Broadcast both batch shapes to the result's, then batch_matmul.
      auto batchShape = yType.getShape().drop_back(
          (tensorType(op.getA()).getRank() == 1 ||
           tensorType(op.getB()).getRank() == 1)
              ? 1
              : 2);
      int64_t count = 1;
      for (int64_t d : batchShape)
        count *= d;
      auto expand = [&](Value v, RankedTensorType t) {
        SmallVector<int64_t> shape(batchShape.begin(), batchShape.end());
        shape.push_back(t.getDimSize(t.getRank() - 2));
        shape.push_back(t.getDimSize(t.getRank() - 1));
        auto full = RankedTensorType::get(shape, et);
        if (full.getShape() != t.getShape())
          v = buildElementwise(rewriter, loc, full, v,
                               [](OpBuilder &, Location, ValueRange args) {
                                 return args[0];
                               });
        return reshapeTo(rewriter, loc, v,
                         RankedTensorType::get({count, shape[shape.size() - 2],
                                                shape.back()},
                                               et));
      };
      Value a3 = expand(a, aType), b3 = expand(bv, bType);
      auto c3 = RankedTensorType::get({count, m, n}, et);
      result = rewriter
                   .create<linalg::BatchMatmulOp>(
                       loc, TypeRange{c3}, ValueRange{a3, b3},
                       ValueRange{createFilled(rewriter, loc, c3, zero)})
                   .getResult(0);
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, result, yType));
    return success();
  }
};

struct GemmLowering : OpRewritePattern<onnx::GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GemmOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    if (!isFloat(et))
      return unsupported(op, "integer Gemm is not supported yet");
    Value a = op.getA(), bv = op.getB();
    if (op.getTransA())
      a = transpose2D(rewriter, loc, a);
    if (op.getTransB())
      bv = transpose2D(rewriter, loc, bv);
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    // Accumulate into beta * C when C is given, so the bias add is free.
    Value init;
    if (!onnx::isNoValue(op.getC()) && beta != 0.0 && alpha == 1.0) {
      init = buildElementwise(rewriter, loc, yType, op.getC(),
                              [&](OpBuilder &b, Location l, ValueRange args) {
                                if (beta == 1.0)
                                  return args[0];
                                return b
                                    .create<arith::MulFOp>(
                                        l, args[0], createScalar(b, l, et, beta))
                                    .getResult();
                              });
      rewriter.replaceOp(op, matmul2D(rewriter, loc, a, bv, init));
      return success();
    }
    init = createFilled(rewriter, loc, yType, createScalar(rewriter, loc, et, 0));
    Value product = matmul2D(rewriter, loc, a, bv, init);
    SmallVector<Value> inputs{product};
    bool hasC = !onnx::isNoValue(op.getC()) && beta != 0.0;
    if (hasC)
      inputs.push_back(op.getC());
    Value result = buildElementwise(
        rewriter, loc, yType, inputs,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = args[0];
          if (alpha != 1.0)
            v = b.create<arith::MulFOp>(l, v, createScalar(b, l, et, alpha));
          if (hasC) {
            Value c = args[1];
            if (beta != 1.0)
              c = b.create<arith::MulFOp>(l, c, createScalar(b, l, et, beta));
            v = b.create<arith::AddFOp>(l, v, c);
          }
          return v;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

enum class ReduceKind { Sum, Max, Min, Prod };

/// Reduces `input` over the (sorted, normalised) `axes`, keeping them as
/// size-1 dims. Float inputs narrower than f32 accumulate in f32.
static Value reduceKeepDims(OpBuilder &b, Location loc, Value input,
                            ArrayRef<int64_t> axes, ReduceKind kind) {
  auto type = tensorType(input);
  Type et = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t a : axes)
    shape[a] = 1;
  auto resultType = RankedTensorType::get(shape, et);
  Value init;
  switch (kind) {
  case ReduceKind::Sum:
    init = createScalar(b, loc, et, 0);
    break;
  case ReduceKind::Prod:
    init = createScalar(b, loc, et, 1);
    break;
  case ReduceKind::Max:
    init = createExtremum(b, loc, et, /*lowest=*/true);
    break;
  case ReduceKind::Min:
    init = createExtremum(b, loc, et, /*lowest=*/false);
    break;
  }
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    outExprs.push_back(reduced ? b.getAffineConstantExpr(0)
                               : b.getAffineDimExpr(i));
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, outExprs, b.getContext())};
  bool f = isFloat(et);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, input,
      createFilled(b, loc, resultType, init), maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = args[0], acc = args[1], r;
        switch (kind) {
        case ReduceKind::Sum:
          r = f ? nb.create<arith::AddFOp>(nl, x, acc).getResult()
                : nb.create<arith::AddIOp>(nl, x, acc).getResult();
          break;
        case ReduceKind::Prod:
          r = f ? nb.create<arith::MulFOp>(nl, x, acc).getResult()
                : nb.create<arith::MulIOp>(nl, x, acc).getResult();
          break;
        case ReduceKind::Max:
          r = f ? nb.create<arith::MaximumFOp>(nl, x, acc).getResult()
                : nb.create<arith::MaxSIOp>(nl, x, acc).getResult();
          break;
        case ReduceKind::Min:
          r = f ? nb.create<arith::MinimumFOp>(nl, x, acc).getResult()
                : nb.create<arith::MinSIOp>(nl, x, acc).getResult();
          break;
        }
        nb.create<linalg::YieldOp>(nl, r);
      });
  return generic.getResult(0);
}

/// Normalises and sorts axes; empty means all.
static LogicalResult normaliseAxes(Operation *op, SmallVectorImpl<int64_t> &axes,
                                   int64_t rank) {
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  for (int64_t &a : axes) {
    a = onnx::normalizeAxis(a, rank);
    if (a < 0)
      return unsupported(op, "axis out of range");
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return success();
}

template <typename OpTy, ReduceKind Kind, bool Mean = false>
struct ReduceAttrLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getData());
    SmallVector<int64_t> axes = getI64Array(op.getAxes(), 0, 0);
    if (failed(normaliseAxes(op, axes, type.getRank())))
      return failure();
    Value r = reduceKeepDims(rewriter, loc, op.getData(), axes, Kind);
    if (Mean) {
      int64_t count = 1;
      for (int64_t a : axes)
        count *= type.getDimSize(a);
      Type et = type.getElementType();
      if (!isFloat(et))
        return unsupported(op, "integer ReduceMean is not supported yet");
      r = buildElementwise(rewriter, loc, tensorType(r), r,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return b
                                 .create<arith::DivFOp>(
                                     l, args[0], createScalar(b, l, et, count))
                                 .getResult();
                           });
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, r,
                                     tensorType(op->getResult(0))));
    return success();
  }
};

struct ReduceSumLowering : OpRewritePattern<onnx::ReduceSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ReduceSumOp op,
                                PatternRewriter &rewriter) const override {
    auto type = tensorType(op.getData());
    SmallVector<int64_t> axes;
    if (!onnx::isNoValue(op.getAxes()) &&
        failed(getConstantInts(op.getAxes(), axes)))
      return unsupported(op, "ReduceSum axes must be a constant");
    if (axes.empty() && op.getNoopWithEmptyAxes()) {
      rewriter.replaceOp(op, op.getData());
      return success();
    }
    if (failed(normaliseAxes(op, axes, type.getRank())))
      return failure();
    Value r = reduceKeepDims(rewriter, op.getLoc(), op.getData(), axes,
                             ReduceKind::Sum);
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), r,
                                     tensorType(op.getReduced())));
    return success();
  }
};

/// Softmax and LogSoftmax: exp(x - max) / sum, along one axis.
template <typename OpTy, bool Log>
struct SoftmaxLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getInput());
    Type et = type.getElementType();
    if (!isFloat(et))
      return unsupported(op, "softmax needs a float input");
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    if (axis < 0)
      return unsupported(op, "axis out of range");
    Value x = op.getInput();
    Value max = reduceKeepDims(rewriter, loc, x, axis, ReduceKind::Max);
    Value shifted = buildElementwise(
        rewriter, loc, type, ValueRange{x, max},
        [&](OpBuilder &b, Location l, ValueRange args) {
          return b.create<arith::SubFOp>(l, args[0], args[1]).getResult();
        });
    Value e = buildElementwise(rewriter, loc, type, shifted,
                               [&](OpBuilder &b, Location l, ValueRange args) {
                                 return b.create<math::ExpOp>(l, args[0])
                                     .getResult();
                               });
    Value sum = reduceKeepDims(rewriter, loc, e, axis, ReduceKind::Sum);
    Value result = buildElementwise(
        rewriter, loc, type, ValueRange{Log ? shifted : e, sum},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          if (Log)
            return b.create<arith::SubFOp>(l, args[0],
                                           b.create<math::LogOp>(l, args[1]));
          return b.create<arith::DivFOp>(l, args[0], args[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void kiln::populateMathPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<
      ElementwiseLowering<onnx::AbsOp>, ElementwiseLowering<onnx::CeilOp>,
      ElementwiseLowering<onnx::ErfOp>, ElementwiseLowering<onnx::ExpOp>,
      ElementwiseLowering<onnx::FloorOp>, ElementwiseLowering<onnx::LogOp>,
      ElementwiseLowering<onnx::NegOp>, ElementwiseLowering<onnx::NotOp>,
      ElementwiseLowering<onnx::ReciprocalOp>,
      ElementwiseLowering<onnx::ReluOp>, ElementwiseLowering<onnx::SigmoidOp>,
      ElementwiseLowering<onnx::SqrtOp>, ElementwiseLowering<onnx::TanhOp>,
      ElementwiseLowering<onnx::LeakyReluOp>,
      ElementwiseLowering<onnx::HardSigmoidOp>,
      ElementwiseLowering<onnx::AddOp>, ElementwiseLowering<onnx::AndOp>,
      ElementwiseLowering<onnx::DivOp>, ElementwiseLowering<onnx::EqualOp>,
      ElementwiseLowering<onnx::GreaterOp>, ElementwiseLowering<onnx::LessOp>,
      ElementwiseLowering<onnx::MulOp>, ElementwiseLowering<onnx::OrOp>,
      ElementwiseLowering<onnx::PowOp>, ElementwiseLowering<onnx::SubOp>,
      ClipLowering, WhereLowering, CastLowering, MatMulLowering, GemmLowering,
      ReduceAttrLowering<onnx::ReduceMaxOp, ReduceKind::Max>,
      ReduceAttrLowering<onnx::ReduceMinOp, ReduceKind::Min>,
      ReduceAttrLowering<onnx::ReduceProdOp, ReduceKind::Prod>,
      ReduceAttrLowering<onnx::ReduceMeanOp, ReduceKind::Sum, true>,
      ReduceSumLowering, SoftmaxLowering<onnx::SoftmaxOp, false>,
      SoftmaxLowering<onnx::LogSoftmaxOp, true>>(ctx);
}
