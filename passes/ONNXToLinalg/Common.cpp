//===- Common.cpp - Helpers shared by the onnx-to-linalg lowerings --------===//
//
// This file implements the helpers declared in Common.h: broadcasting
// elementwise generics, fills, scalar constants, reshapes and constant
// reading.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <cstring>

using namespace mlir;

namespace kiln {

Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
}

Value createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                   Value value) {
  return b.create<linalg::FillOp>(loc, value, createEmpty(b, loc, type))
      .getResult(0);
}

Value createScalar(OpBuilder &b, Location loc, Type type, double value) {
  if (auto ft = dyn_cast<FloatType>(type))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(ft, value));
  return b.create<arith::ConstantOp>(
      loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

bool isUnsignedOperand(Operation *op, unsigned i) {
  auto flags = op->getAttrOfType<DenseBoolArrayAttr>(kUnsignedOperandsAttr);
  return flags && i < flags.size() && flags[i];
}

bool isUnsignedResult(Operation *op, unsigned i) {
  auto flags = op->getAttrOfType<DenseBoolArrayAttr>(kUnsignedResultsAttr);
  return flags && i < flags.size() && flags[i];
}

Value createExtremum(OpBuilder &b, Location loc, Type type, bool lowest,
                     bool isUnsigned) {
  if (auto ft = dyn_cast<FloatType>(type))
    return b.create<arith::ConstantOp>(
        loc, b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(),
                                                /*Negative=*/lowest)));
  unsigned width = type.getIntOrFloatBitWidth();
  APInt v = width == 1   ? APInt(1, lowest ? 0 : 1)
            : isUnsigned ? (lowest ? APInt::getMinValue(width)
                                   : APInt::getMaxValue(width))
                         : (lowest ? APInt::getSignedMinValue(width)
                                   : APInt::getSignedMaxValue(width));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(type, v));
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, ScalarBuilder body) {
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps;
  for (Value in : inputs) {
    auto type = tensorType(in);
    SmallVector<AffineExpr> exprs;
    int64_t offset = rank - type.getRank();
    for (int64_t i = 0; i < type.getRank(); ++i) {
      bool broadcast =
          type.getDimSize(i) == 1 && resultType.getDimSize(offset + i) != 1;
      exprs.push_back(broadcast ? b.getAffineConstantExpr(0)
                                : b.getAffineDimExpr(offset + i));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, b.getContext()));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, inputs,
      ValueRange{createEmpty(b, loc, resultType)}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = body(nb, nloc, args.drop_back());
        nb.create<linalg::YieldOp>(nloc, v);
      });
  return generic.getResult(0);
}

Value reshapeTo(OpBuilder &b, Location loc, Value value,
                RankedTensorType type) {
  auto src = tensorType(value);
  if (src.getShape() == type.getShape())
    return value;
  auto flatType =
      RankedTensorType::get({src.getNumElements()}, src.getElementType());
  Value flat = value;
  if (src.getRank() == 0) {
    flat = b.create<tensor::ExpandShapeOp>(loc, flatType, value,
                                           ArrayRef<ReassociationIndices>{});
  } else if (src.getRank() > 1) {
    ReassociationIndices all;
    for (int64_t i = 0; i < src.getRank(); ++i)
      all.push_back(i);
    flat = b.create<tensor::CollapseShapeOp>(
        loc, flatType, value, ArrayRef<ReassociationIndices>{all});
  }
  if (type.getRank() == 1)
    return flat;
  if (type.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, type, flat,
                                             ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return b.create<tensor::ExpandShapeOp>(loc, type, flat,
                                         ArrayRef<ReassociationIndices>{all});
}

DenseElementsAttr getConstantData(Value v) {
  if (auto c = v.getDefiningOp<onnx::ConstantOp>())
    return dyn_cast<DenseElementsAttr>(c.getValue());
  if (auto c = v.getDefiningOp<arith::ConstantOp>())
    return dyn_cast<DenseElementsAttr>(c.getValue());
  return {};
}

LogicalResult getConstantInts(Value v, SmallVectorImpl<int64_t> &out) {
  auto data = getConstantData(v);
  if (!data || !isa<IntegerType>(data.getElementType()))
    return failure();
  for (const APInt &i : data.getValues<APInt>())
    out.push_back(i.getSExtValue());
  return success();
}

LogicalResult getConstantFloats(Value v, SmallVectorImpl<float> &out) {
  auto data = getConstantData(v);
  if (!data || !data.getElementType().isF32())
    return failure();
  for (float f : data.getValues<float>())
    out.push_back(f);
  return success();
}

SmallVector<int64_t> getI64Array(std::optional<ArrayAttr> attr, size_t count,
                                 int64_t fill) {
  SmallVector<int64_t> out;
  if (attr) {
    for (Attribute a : *attr)
      out.push_back(cast<IntegerAttr>(a).getInt());
    return out;
  }
  out.assign(count, fill);
  return out;
}

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to,
                    bool srcUnsigned, bool dstUnsigned) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = dyn_cast<FloatType>(from);
  auto toF = dyn_cast<FloatType>(to);
  if (to.isInteger(1)) {
    Value zero = createScalar(b, loc, from, 0);
    if (fromF)
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, v, zero);
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (fromF && toF) {
    if (fromF.getWidth() < toF.getWidth())
      return b.create<arith::ExtFOp>(loc, to, v);
    return b.create<arith::TruncFOp>(loc, to, v);
  }
  if (fromF) {
    if (dstUnsigned)
      return b.create<arith::FPToUIOp>(loc, to, v);
    return b.create<arith::FPToSIOp>(loc, to, v);
  }
  bool fromUnsigned = srcUnsigned || from.isInteger(1);
  if (toF) {
    if (fromUnsigned)
      return b.create<arith::UIToFPOp>(loc, to, v);
    return b.create<arith::SIToFPOp>(loc, to, v);
  }
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw > tw)
    return b.create<arith::TruncIOp>(loc, to, v);
  if (fromUnsigned)
    return b.create<arith::ExtUIOp>(loc, to, v);
  return b.create<arith::ExtSIOp>(loc, to, v);
}

Value reduceKeepDims(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> axes, ReduceKind kind, bool isUnsigned) {
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
    init = createExtremum(b, loc, et, /*lowest=*/true, isUnsigned);
    break;
  case ReduceKind::Min:
    init = createExtremum(b, loc, et, /*lowest=*/false, isUnsigned);
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
      loc, TypeRange{resultType}, input, createFilled(b, loc, resultType, init),
      maps, iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
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
              : isUnsigned ? nb.create<arith::MaxUIOp>(nl, x, acc).getResult()
                           : nb.create<arith::MaxSIOp>(nl, x, acc).getResult();
          break;
        case ReduceKind::Min:
          r = f ? nb.create<arith::MinimumFOp>(nl, x, acc).getResult()
              : isUnsigned ? nb.create<arith::MinUIOp>(nl, x, acc).getResult()
                           : nb.create<arith::MinSIOp>(nl, x, acc).getResult();
          break;
        }
        nb.create<linalg::YieldOp>(nl, r);
      });
  return generic.getResult(0);
}

/// Transposes a 2-d value: at compile time when it is a constant, else with
/// linalg.transpose.
Value transpose2D(OpBuilder &b, Location loc, Value v) {
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

/// A generic over the output's index space whose body computes each element
/// from the loop indices (linalg.index), for gathers and index arithmetic.
Value buildIndexed(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  int64_t rank = type.getRank();
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, inputs, ValueRange{createEmpty(b, loc, type)},
          maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            SmallVector<Value> idx;
            for (int64_t i = 0; i < rank; ++i)
              idx.push_back(nb.create<linalg::IndexOp>(l, i));
            nb.create<linalg::YieldOp>(l, body(nb, l, args.drop_back(), idx));
          })
      .getResult(0);
}

Value clampIndex(OpBuilder &b, Location l, Value v, int64_t size) {
  Value idx = b.create<arith::IndexCastOp>(l, b.getIndexType(), v);
  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
  Value n = b.create<arith::ConstantIndexOp>(l, size);
  Value neg = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, idx, zero);
  idx = b.create<arith::SelectOp>(l, neg, b.create<arith::AddIOp>(l, idx, n),
                                  idx);
  idx = b.create<arith::MaxSIOp>(l, idx, zero);
  return b.create<arith::MinSIOp>(
      l, idx,
      b.create<arith::ConstantIndexOp>(l, std::max<int64_t>(size - 1, 0)));
}

Value extractElement(OpBuilder &b, Location loc, Value t, int64_t j) {
  auto type = tensorType(t);
  SmallVector<Value> idx(type.getRank());
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    int64_t n = std::max<int64_t>(type.getDimSize(d), 1);
    idx[d] = b.create<arith::ConstantIndexOp>(loc, j % n);
    j /= n;
  }
  return b.create<tensor::ExtractOp>(loc, t, idx);
}

Value extractI64(OpBuilder &b, Location loc, Value t, int64_t j) {
  Value v = extractElement(b, loc, t, j);
  if (v.getType() != b.getI64Type())
    v = b.create<arith::ExtSIOp>(loc, b.getI64Type(), v);
  return v;
}

Value runtimeAxis(OpBuilder &b, Location loc, Value axis, int64_t rank,
                  StringRef opName) {
  using P = arith::CmpIPredicate;
  Value zero = b.create<arith::ConstantIntOp>(loc, 0, 64);
  Value r = b.create<arith::ConstantIntOp>(loc, rank, 64);
  Value neg = b.create<arith::CmpIOp>(loc, P::slt, axis, zero);
  axis = b.create<arith::SelectOp>(loc, neg,
                                   b.create<arith::AddIOp>(loc, axis, r), axis);
  Value ok = b.create<arith::AndIOp>(
      loc, b.create<arith::CmpIOp>(loc, P::sge, axis, zero),
      b.create<arith::CmpIOp>(loc, P::slt, axis, r));
  b.create<cf::AssertOp>(loc, ok, (opName + ": axis out of range").str());
  axis = b.create<arith::MaxSIOp>(loc, axis, zero);
  return b.create<arith::MinSIOp>(
      loc, axis, b.create<arith::ConstantIntOp>(loc, rank - 1, 64));
}

LogicalResult unsupported(Operation *op, const Twine &why) {
  op->emitError(why);
  return failure();
}

} // namespace kiln
