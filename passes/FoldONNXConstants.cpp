//===- FoldONNXConstants.cpp - Evaluate onnx ops on constants -------------===//
//
// This file implements kiln-fold-onnx-constants: onnx ops whose inputs are
// all constants become onnx.Constant. Shape needs no constant input at all,
// since every tensor type is static. The evaluator covers what shape
// computations use (Shape, Gather, Concat, Unsqueeze/Squeeze/Reshape, Cast
// between integers, integer Add/Sub/Mul/Div) and the data movement of
// weights (Transpose and reshapes of any constant).
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"
#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_FOLDONNXCONSTANTS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

static DenseElementsAttr constantOf(Value v) {
  if (auto c = v.getDefiningOp<onnx::ConstantOp>())
    return dyn_cast<DenseElementsAttr>(c.getValue());
  return {};
}

/// Reads an integer constant (any width) as int64 values.
static bool readInts(DenseElementsAttr attr, SmallVectorImpl<int64_t> &out) {
  if (!attr || !isa<IntegerType>(attr.getElementType()))
    return false;
  bool isUnsigned = attr.getElementType().isUnsignedInteger();
  for (const APInt &v : attr.getValues<APInt>())
    out.push_back(isUnsigned ? (int64_t)v.getZExtValue() : v.getSExtValue());
  return true;
}

static DenseElementsAttr intsAttr(RankedTensorType type,
                                  ArrayRef<int64_t> values) {
  SmallVector<APInt> ints;
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  for (int64_t v : values)
    ints.push_back(APInt(width, (uint64_t)v, /*isSigned=*/true));
  return DenseElementsAttr::get(type, ints);
}

/// Evaluates `op` if it is foldable; returns the result attribute or null.
static DenseElementsAttr evaluate(Operation *op) {
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType || !resultType.hasStaticShape())
    return {};

  if (auto shape = dyn_cast<onnx::ShapeOp>(op)) {
    auto dims = cast<RankedTensorType>(shape.getData().getType()).getShape();
    int64_t rank = dims.size();
    int64_t start = shape.getStart().value_or(0),
            end = shape.getEnd().value_or(rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, start, rank);
    return intsAttr(resultType, dims.slice(start, end - start));
  }

  SmallVector<DenseElementsAttr> inputs;
  for (Value v : op->getOperands()) {
    if (onnx::isNoValue(v)) {
      inputs.push_back({});
      continue;
    }
    auto c = constantOf(v);
    if (!c)
      return {};
    inputs.push_back(c);
  }
  if (inputs.empty() || !inputs[0])
    return {};

  // Data movement that only relabels the shape.
  if (isa<onnx::ReshapeOp, onnx::FlattenOp, onnx::SqueezeOp, onnx::UnsqueezeOp,
          onnx::IdentityOp>(op))
    return inputs[0].reshape(resultType);

  if (auto transpose = dyn_cast<onnx::TransposeOp>(op)) {
    auto type = cast<RankedTensorType>(inputs[0].getType());
    if (inputs[0].isSplat())
      return inputs[0].reshape(resultType);
    unsigned width = type.getElementType().getIntOrFloatBitWidth();
    if (width % 8 != 0)
      return {};
    int64_t rank = type.getRank();
    SmallVector<int64_t> perm;
    if (transpose.getPerm())
      for (Attribute a : transpose.getPerm()->getValue())
        perm.push_back(cast<IntegerAttr>(a).getInt());
    else
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    ArrayRef<char> raw = inputs[0].getRawData();
    size_t bytes = width / 8;
    std::vector<char> out(raw.size());
    SmallVector<int64_t> inStrides(rank, 1);
    for (int64_t i = rank - 2; i >= 0; --i)
      inStrides[i] = inStrides[i + 1] * type.getDimSize(i + 1);
    SmallVector<int64_t> idx(rank, 0);
    int64_t total = type.getNumElements();
    for (int64_t o = 0; o < total; ++o) {
      int64_t src = 0;
      for (int64_t i = 0; i < rank; ++i)
        src += idx[i] * inStrides[perm[i]];
      std::memcpy(&out[o * bytes], &raw[src * bytes], bytes);
      for (int64_t i = rank - 1; i >= 0; --i) {
        if (++idx[i] < resultType.getDimSize(i))
          break;
        idx[i] = 0;
      }
    }
    return DenseElementsAttr::getFromRawBuffer(resultType, out);
  }

  // Integer shape arithmetic from here on.
  if (!isa<IntegerType>(resultType.getElementType()) ||
      resultType.getNumElements() > 4096)
    return {};
  SmallVector<SmallVector<int64_t>> ints(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i] && !readInts(inputs[i], ints[i]))
      return {};

  if (isa<onnx::CastOp>(op))
    return intsAttr(resultType, ints[0]);

  if (isa<onnx::ConcatOp>(op) && resultType.getRank() == 1) {
    SmallVector<int64_t> all;
    for (auto &v : ints)
      all.append(v);
    return intsAttr(resultType, all);
  }

  if (auto gather = dyn_cast<onnx::GatherOp>(op)) {
    if (cast<RankedTensorType>(inputs[0].getType()).getRank() != 1)
      return {};
    SmallVector<int64_t> out;
    int64_t size = ints[0].size();
    for (int64_t i : ints[1]) {
      if (i < 0)
        i += size;
      if (i < 0 || i >= size)
        return {};
      out.push_back(ints[0][i]);
    }
    return intsAttr(resultType, out);
  }

  if (isa<onnx::AddOp, onnx::SubOp, onnx::MulOp, onnx::DivOp>(op)) {
    auto &a = ints[0], &b = ints[1];
    int64_t n = resultType.getNumElements();
    if ((int64_t)a.size() != n && a.size() != 1)
      return {};
    if ((int64_t)b.size() != n && b.size() != 1)
      return {};
    SmallVector<int64_t> out;
    for (int64_t i = 0; i < n; ++i) {
      int64_t x = a[a.size() == 1 ? 0 : i], y = b[b.size() == 1 ? 0 : i];
      if (isa<onnx::AddOp>(op))
        out.push_back(x + y);
      else if (isa<onnx::SubOp>(op))
        out.push_back(x - y);
      else if (isa<onnx::MulOp>(op))
        out.push_back(x * y);
      else {
        if (y == 0)
          return {};
        out.push_back(x / y);
      }
    }
    return intsAttr(resultType, out);
  }
  return {};
}

struct FoldONNXConstantsPass
    : kiln::impl::FoldONNXConstantsBase<FoldONNXConstantsPass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    // One forward walk suffices: producers are folded before their users.
    getOperation().walk([&](Operation *op) {
      if (!isa<onnx::ONNXDialect>(op->getDialect()) ||
          isa<onnx::ConstantOp, onnx::NoValueOp>(op) ||
          op->getNumResults() != 1)
        return;
      DenseElementsAttr value = evaluate(op);
      if (!value)
        return;
      builder.setInsertionPoint(op);
      auto c = builder.create<onnx::ConstantOp>(op->getLoc(), value.getType(),
                                                value);
      op->getResult(0).replaceAllUsesWith(c);
    });
    // Drop what became dead, users before their producers.
    bool changed = true;
    while (changed) {
      changed = false;
      SmallVector<Operation *> dead;
      getOperation().walk([&](Operation *op) {
        if (isa<onnx::ONNXDialect>(op->getDialect()) && op->use_empty() &&
            !isa<onnx::NoValueOp>(op) &&
            !op->hasTrait<OpTrait::IsTerminator>())
          dead.push_back(op);
      });
      for (Operation *op : dead)
        op->erase();
      changed = !dead.empty();
    }
  }
};

} // namespace
