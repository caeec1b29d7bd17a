//===- FoldONNXConstants.cpp - Evaluate onnx ops on constants -------------===//
//
// This file implements kiln-fold-onnx-constants: onnx ops whose inputs are
// all constants become onnx.Constant. Shape and Size need no constant input
// at all, since every tensor type is static. The semantics are the shared
// evaluator's (dialects/onnx/Evaluator.h), the one the importer folds shape
// arithmetic with; this file reads an op's attributes for it and converts
// its operands and results (passes/EvaluatorTensors.h). Ops that only move
// elements (Reshape, Transpose...) fold at any size, so weights arrive in the
// layout their users read; any other op folds when its results hold at most
// `kMaxComputedElements` elements and, if they are floats, are no larger than
// its inputs (eval::worthFolding).
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"
#include "passes/EvaluatorTensors.h"
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
