//===- FoldONNXConstants.cpp - Evaluate onnx ops on constants -------------===//
//
// This file implements kiln-fold-onnx-constants: onnx ops whose inputs are
// all constants become onnx.Constant. Shape and Size need no constant input
// at all, since every tensor type is static. The semantics are the shared
// evaluator's (dialects/onnx/Evaluator.h), the one the importer folds shape
// arithmetic with; this file only converts between DenseElementsAttr and its
// tensors. Ops that only move elements (Reshape, Transpose...) fold at any
// size, so weights arrive in the layout their users read; any other op folds
// when its results hold at most `kMaxComputedElements` elements and, if they
// are floats, are no larger than its inputs (eval::worthFolding).
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/Evaluator.h"
#include "dialects/onnx/ONNXDialect.h"
#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_FOLDONNXCONSTANTS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

constexpr int64_t kMaxComputedElements = 4096;

DenseElementsAttr constantOf(Value v) {
  if (auto c = v.getDefiningOp<onnx::ConstantOp>())
    return dyn_cast<DenseElementsAttr>(c.getValue());
  return {};
}

/// The evaluator's element type for an MLIR element type, or 0.
int32_t elementTypeOf(Type type) {
  if (type.isF32())
    return eval::kFloat;
  if (type.isF64())
    return eval::kDouble;
  if (type.isF16())
    return eval::kFloat16;
  if (type.isBF16())
    return eval::kBFloat16;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return 0;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1:
    return eval::kBool;
  case 8:
    return isUnsigned ? eval::kUInt8 : eval::kInt8;
  case 16:
    return isUnsigned ? eval::kUInt16 : eval::kInt16;
  case 32:
    return isUnsigned ? eval::kUInt32 : eval::kInt32;
  case 64:
    return isUnsigned ? eval::kUInt64 : eval::kInt64;
  default:
    return 0;
  }
}

std::optional<eval::Tensor> toTensor(DenseElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  eval::Tensor t;
  t.type = elementTypeOf(type.getElementType());
  if (!t.type || !type.hasStaticShape())
    return std::nullopt;
  t.dims.assign(type.getShape().begin(), type.getShape().end());
  int64_t n = type.getNumElements();
  size_t width = eval::elementSize(t.type);
  if (t.type == eval::kBool) {
    for (bool b : attr.getValues<bool>())
      t.bytes.push_back(b);
    return t;
  }
  ArrayRef<char> raw = attr.getRawData();
  if (attr.isSplat()) {
    t.bytes.resize(n * width);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(t.bytes.data() + i * width, raw.data(), width);
  } else {
    if ((int64_t)raw.size() != n * (int64_t)width)
      return std::nullopt;
    t.bytes.assign(raw.begin(), raw.end());
  }
  return t;
}

DenseElementsAttr fromTensor(const eval::Tensor &t, RankedTensorType type) {
  if (elementTypeOf(type.getElementType()) != t.type ||
      ArrayRef<int64_t>(t.dims) != type.getShape())
    return {};
  if (t.type == eval::kBool) {
    SmallVector<bool> bits(t.bytes.begin(), t.bytes.end());
    return DenseElementsAttr::get(type, bits);
  }
  ArrayRef<char> raw(reinterpret_cast<const char *>(t.bytes.data()),
                     t.bytes.size());
  bool splat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, raw, splat))
    return {};
  return DenseElementsAttr::getFromRawBuffer(type, raw);
}

/// An onnx op's attributes as the importer wrote them (IntegerAttr,
/// FloatAttr, ArrayAttr of either, StringAttr, DenseElementsAttr).
class OpAttributes : public eval::Attributes {
public:
  explicit OpAttributes(Operation *op) : op(op) {}

  std::optional<int64_t> getInt(const std::string &name) const override {
    if (auto a = op->getAttrOfType<IntegerAttr>(name))
      return a.getValue().getSExtValue();
    return std::nullopt;
  }
  std::optional<double> getFloat(const std::string &name) const override {
    if (auto a = op->getAttrOfType<FloatAttr>(name))
      return a.getValueAsDouble();
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>>
  getInts(const std::string &name) const override {
    auto a = op->getAttrOfType<ArrayAttr>(name);
    if (!a)
      return std::nullopt;
    std::vector<int64_t> out;
    for (Attribute e : a) {
      auto i = dyn_cast<IntegerAttr>(e);
      if (!i)
        return std::nullopt;
      out.push_back(i.getValue().getSExtValue());
    }
    return out;
  }
  std::optional<std::vector<double>>
  getFloats(const std::string &name) const override {
    auto a = op->getAttrOfType<ArrayAttr>(name);
    if (!a)
      return std::nullopt;
    std::vector<double> out;
    for (Attribute e : a) {
      auto f = dyn_cast<FloatAttr>(e);
      if (!f)
        return std::nullopt;
      out.push_back(f.getValueAsDouble());
    }
    return out;
  }
  std::optional<std::string> getString(const std::string &name) const override {
    if (auto a = op->getAttrOfType<StringAttr>(name))
      return a.str();
    return std::nullopt;
  }
  std::optional<eval::Tensor>
  getTensor(const std::string &name) const override {
    if (auto a = op->getAttrOfType<DenseElementsAttr>(name))
      return toTensor(a);
    return std::nullopt;
  }
  bool has(const std::string &name) const override { return op->hasAttr(name); }

private:
  Operation *op;
};

/// Evaluates `op` if it is foldable; returns one attribute per result, or
/// nothing.
SmallVector<DenseElementsAttr> evaluate(Operation *op) {
  std::string opType = op->getName().stripDialect().str();
  bool movesOnly = eval::isDataMovement(opType);
  int64_t maxElements =
      movesOnly ? std::numeric_limits<int64_t>::max() : kMaxComputedElements;
  SmallVector<RankedTensorType> resultTypes;
  for (Value r : op->getResults()) {
    auto type = dyn_cast<RankedTensorType>(r.getType());
    if (!type || !type.hasStaticShape() || type.getNumElements() > maxElements)
      return {};
    resultTypes.push_back(type);
  }

  // Shape and Size read the operand's type; every other op its value.
  bool shapeOnly = opType == "Shape" || opType == "Size";
  SmallVector<DenseElementsAttr> constants;
  for (Value v : op->getOperands()) {
    DenseElementsAttr c = onnx::isNoValue(v) ? nullptr : constantOf(v);
    if (!c && !onnx::isNoValue(v) && !shapeOnly)
      return {};
    constants.push_back(c);
  }
  // A splat that only moves stays a splat, however large.
  if (movesOnly && !constants.empty() && constants[0] &&
      constants[0].isSplat() && resultTypes.size() == 1) {
    auto from = cast<ShapedType>(constants[0].getType());
    if (from.getNumElements() == resultTypes[0].getNumElements() &&
        from.getElementType() == resultTypes[0].getElementType())
      return {constants[0].reshape(resultTypes[0])};
  }

  std::vector<eval::Tensor> values(op->getNumOperands());
  std::vector<std::vector<int64_t>> shapes(op->getNumOperands());
  std::vector<eval::Operand> operands(op->getNumOperands());
  for (unsigned i = 0; i < op->getNumOperands(); ++i) {
    Value v = op->getOperand(i);
    eval::Operand &o = operands[i];
    if (onnx::isNoValue(v)) {
      o.absent = true;
      continue;
    }
    if (auto type = dyn_cast<RankedTensorType>(v.getType());
        type && type.hasStaticShape()) {
      shapes[i].assign(type.getShape().begin(), type.getShape().end());
      o.shape = &shapes[i];
    }
    if (constants[i] && !shapeOnly) {
      std::optional<eval::Tensor> t = toTensor(constants[i]);
      if (!t)
        return {};
      values[i] = std::move(*t);
      o.value = &values[i];
    }
  }
  std::optional<std::vector<eval::Tensor>> results = eval::evaluate(
      opType, OpAttributes(op), operands, op->getNumResults(), maxElements);
  if (!results || !eval::worthFolding(*results, operands))
    return {};
  SmallVector<DenseElementsAttr> attrs;
  for (auto [t, type] : llvm::zip(*results, resultTypes)) {
    DenseElementsAttr a = fromTensor(t, type);
    if (!a)
      return {};
    attrs.push_back(a);
  }
  return attrs;
}

struct FoldONNXConstantsPass
    : kiln::impl::FoldONNXConstantsBase<FoldONNXConstantsPass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    // One forward walk suffices: producers are folded before their users.
    getOperation().walk([&](Operation *op) {
      if (!isa<onnx::ONNXDialect>(op->getDialect()) ||
          isa<onnx::ConstantOp, onnx::NoValueOp>(op) ||
          op->getNumResults() == 0 || op->getNumRegions() != 0)
        return;
      SmallVector<DenseElementsAttr> values = evaluate(op);
      if (values.empty())
        return;
      builder.setInsertionPoint(op);
      for (auto [result, value] : llvm::zip(op->getResults(), values)) {
        auto c = builder.create<onnx::ConstantOp>(op->getLoc(), value.getType(),
                                                  value);
        result.replaceAllUsesWith(c);
      }
    });
    // Drop what became dead, users before their producers.
    bool changed = true;
    while (changed) {
      changed = false;
      SmallVector<Operation *> dead;
      getOperation().walk([&](Operation *op) {
        if (isa<onnx::ONNXDialect>(op->getDialect()) && op->use_empty() &&
            !isa<onnx::NoValueOp>(op) && !op->hasTrait<OpTrait::IsTerminator>())
          dead.push_back(op);
      });
      for (Operation *op : dead)
        op->erase();
      changed = !dead.empty();
    }
  }
};

} // namespace
