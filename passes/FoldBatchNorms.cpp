//===- FoldBatchNorms.cpp - BatchNormalization into the Conv before it ----===//
//
// This file implements kiln-fold-batch-norms. An inference-mode
// BatchNormalization of a Conv's output that nothing else reads, with
// constant scale, B, mean and var, and a Conv of constant f32 weights (and
// a constant bias, or none), becomes that Conv with its weights and bias
// rescaled at compile time, per output channel f:
//
//   s[f] = scale[f] / sqrt(var[f] + epsilon)
//   W'[f] = W[f] * s[f]
//   B'[f] = (B[f] - mean[f]) * s[f] + b[f]   (B[f] = 0 without a bias)
//
// in double, rounded once to f32. The Conv then takes the normalisation's
// place, so its bias and the activation or residual Add after it run in its
// kernel (kiln-lower-matmuls' fused ends) rather than the normalisation,
// and then the activation, each in a pass over memory of its own. The new
// Conv's location names both nodes, so profiles name both. ONNX Runtime and
// onnx-mlir fold the same way. Exporters that keep BatchNormalization nodes
// (torch with do_constant_folding off or in training mode, TensorFlow and
// Keras converters, the ONNX model zoo's older ResNets) write this pattern;
// torch's eval-mode export folds it itself.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"
#include "passes/Passes.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_FOLDBATCHNORMS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// `v`'s values, if it is an onnx.Constant of f32 elements.
std::optional<SmallVector<double>> f32Values(Value v) {
  auto c = v.getDefiningOp<onnx::ConstantOp>();
  auto attr = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : nullptr;
  if (!attr || !attr.getElementType().isF32())
    return std::nullopt;
  SmallVector<double> values;
  values.reserve(attr.getNumElements());
  for (float x : attr.getValues<float>())
    values.push_back(x);
  return values;
}

/// Folds `norm` into the Conv before it, if it can (the file's comment).
void fold(onnx::BatchNormalizationOp norm) {
  if (norm.getTrainingMode() != 0 || !norm.getRunningStats().empty())
    return;
  auto conv = norm.getX().getDefiningOp<onnx::ConvOp>();
  if (!conv || !conv.getY().hasOneUse() ||
      conv.getY().getType() != norm.getY().getType())
    return;
  auto wType = dyn_cast<RankedTensorType>(conv.getW().getType());
  if (!wType || !wType.hasStaticShape() || wType.getRank() < 1)
    return;
  int64_t filters = wType.getDimSize(0);
  std::optional<SmallVector<double>> w = f32Values(conv.getW());
  std::optional<SmallVector<double>> bias;
  if (!onnx::isNoValue(conv.getB()))
    bias = f32Values(conv.getB());
  else
    bias = SmallVector<double>(filters, 0.0);
  SmallVector<SmallVector<double>> params;
  for (Value v : {norm.getScale(), norm.getB(), norm.getInputMean(),
                  norm.getInputVar()}) {
    std::optional<SmallVector<double>> p = f32Values(v);
    if (!p || static_cast<int64_t>(p->size()) != filters)
      return;
    params.push_back(std::move(*p));
  }
  if (!w || !bias || static_cast<int64_t>(bias->size()) != filters)
    return;
  double epsilon = norm.getEpsilon().convertToDouble();
  int64_t perFilter = static_cast<int64_t>(w->size()) / filters;
  SmallVector<float> newW(w->size()), newB(filters);
  for (int64_t f = 0; f < filters; ++f) {
    double s = params[0][f] / std::sqrt(params[3][f] + epsilon);
    for (int64_t i = 0; i < perFilter; ++i)
      newW[f * perFilter + i] = static_cast<float>((*w)[f * perFilter + i] * s);
    newB[f] =
        static_cast<float>(((*bias)[f] - params[2][f]) * s + params[1][f]);
  }
  OpBuilder b(norm);
  Location loc = b.getFusedLoc({conv.getLoc(), norm.getLoc()});
  auto bType = RankedTensorType::get({filters}, b.getF32Type());
  Value weights = b.create<onnx::ConstantOp>(
      conv.getW().getLoc(), wType,
      DenseElementsAttr::get(wType, ArrayRef<float>(newW)));
  Value biases = b.create<onnx::ConstantOp>(
      loc, bType, DenseElementsAttr::get(bType, ArrayRef<float>(newB)));
  Operation *folded = b.clone(*conv);
  folded->setOperand(1, weights);
  folded->setOperand(2, biases);
  folded->setLoc(loc);
  norm.getY().replaceAllUsesWith(folded->getResult(0));
  norm.erase();
  conv.erase();
}

struct FoldBatchNormsPass : kiln::impl::FoldBatchNormsBase<FoldBatchNormsPass> {
  void runOnOperation() override {
    SmallVector<onnx::BatchNormalizationOp> norms;
    getOperation().walk(
        [&](onnx::BatchNormalizationOp norm) { norms.push_back(norm); });
    for (onnx::BatchNormalizationOp norm : norms)
      fold(norm);
  }
};

} // namespace
