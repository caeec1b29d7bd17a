//===- FoldBatchNorms.cpp - BatchNormalization into the Conv before it ----===//
//
// This file implements kiln-fold-batch-norms. An inference-mode
// BatchNormalization of a layer's output that nothing else reads, with
// constant scale, B, mean and var, and a layer of constant f32 weights (and
// a constant bias, or none) -- a Conv, a ConvTranspose of one group, or a
// Gemm (BatchNorm1d after a Linear layer) -- becomes that layer with its
// weights and bias rescaled at compile time, per output channel f (W[f]
// the weights along the layer's output-channel axis: a Conv's first, a
// ConvTranspose's second, a Gemm's B's rows or columns as transB says):
//
//   s[f] = scale[f] / sqrt(var[f] + epsilon)
//   W'[f] = W[f] * s[f]
//   B'[f] = (B[f] - mean[f]) * s[f] + b[f]   (B[f] = 0 without a bias)
//
// in double, rounded once to f32. The layer then takes the normalisation's
// place, so its bias and the activation or residual Add after it run in its
// kernel (kiln-lower-matmuls' fused ends) rather than the normalisation,
// and then the activation, each in a pass over memory of its own. The new
// layer's location names both nodes, so profiles name both. ONNX Runtime and
// onnx-mlir fold the same way. Exporters that keep BatchNormalization nodes
// (torch with do_constant_folding off or in training mode, TensorFlow and
// Keras converters, the ONNX model zoo's older ResNets) write this pattern;
// torch's eval-mode export folds it itself.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"
#include "passes/Passes.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_FOLDBATCHNORMS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The layer a normalisation folds into: its weights (operand `weights`,
/// whose dim `axis` indexes the output channels) and bias (operand
/// `bias`, a NoValue or one value per output channel).
struct Layer {
  Operation *op;
  unsigned weights, bias;
  int64_t axis;
};

/// The Conv, ConvTranspose (one group) or Gemm (alpha and beta 1, A not
/// transposed) whose output `v` is, if nothing else reads it.
std::optional<Layer> layerOf(Value v) {
  Operation *op = v.getDefiningOp();
  if (!op || !v.hasOneUse())
    return std::nullopt;
  if (isa<onnx::ConvOp>(op))
    return Layer{op, 1, 2, 0};
  if (auto t = dyn_cast<onnx::ConvTransposeOp>(op); t && t.getGroup() == 1)
    return Layer{op, 1, 2, 1};
  if (auto g = dyn_cast<onnx::GemmOp>(op);
      g && g.getAlpha().convertToDouble() == 1.0 &&
      g.getBeta().convertToDouble() == 1.0 && g.getTransA() == 0)
    return Layer{op, 1, 2, g.getTransB() ? 0 : 1};
  return std::nullopt;
}

/// Folds `norm` into the layer before it, if it can (the file's comment).
void fold(onnx::BatchNormalizationOp norm) {
  if (norm.getTrainingMode() != 0 || !norm.getRunningStats().empty())
    return;
  std::optional<Layer> layer = layerOf(norm.getX());
  if (!layer || layer->op->getResult(0).getType() != norm.getY().getType())
    return;
  Value wValue = layer->op->getOperand(layer->weights);
  Value bValue = layer->op->getOperand(layer->bias);
  auto wType = dyn_cast<RankedTensorType>(wValue.getType());
  if (!wType || !wType.hasStaticShape() || wType.getRank() <= layer->axis)
    return;
  int64_t filters = wType.getDimSize(layer->axis);
  SmallVector<float> w, bias;
  if (failed(getConstantFloats(wValue, w)))
    return;
  if (onnx::isNoValue(bValue))
    bias.assign(filters, 0.0f);
  else if (failed(getConstantFloats(bValue, bias)))
    return;
  Value stats[] = {norm.getScale(), norm.getB(), norm.getInputMean(),
                   norm.getInputVar()};
  SmallVector<SmallVector<float>> params(4);
  for (int i = 0; i < 4; ++i)
    if (failed(getConstantFloats(stats[i], params[i])) ||
        static_cast<int64_t>(params[i].size()) != filters)
      return;
  if (static_cast<int64_t>(bias.size()) != filters)
    return;
  double epsilon = norm.getEpsilon().convertToDouble();
  // W as [outer][filters][inner] around its channel axis.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < wType.getRank(); ++d)
    if (d < layer->axis)
      outer *= wType.getDimSize(d);
    else if (d > layer->axis)
      inner *= wType.getDimSize(d);
  SmallVector<float> newW(w.size()), newB(filters);
  for (int64_t f = 0; f < filters; ++f) {
    double s = double(params[0][f]) / std::sqrt(double(params[3][f]) + epsilon);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t at = (o * filters + f) * inner + i;
        newW[at] = static_cast<float>(w[at] * s);
      }
    newB[f] =
        static_cast<float>((double(bias[f]) - params[2][f]) * s + params[1][f]);
  }
  OpBuilder b(norm);
  Location loc = b.getFusedLoc({layer->op->getLoc(), norm.getLoc()});
  auto bType = RankedTensorType::get({filters}, b.getF32Type());
  Value weights = b.create<onnx::ConstantOp>(
      wValue.getLoc(), wType,
      DenseElementsAttr::get(wType, ArrayRef<float>(newW)));
  Value biases = b.create<onnx::ConstantOp>(
      loc, bType, DenseElementsAttr::get(bType, ArrayRef<float>(newB)));
  Operation *folded = b.clone(*layer->op);
  folded->setOperand(layer->weights, weights);
  folded->setOperand(layer->bias, biases);
  folded->setLoc(loc);
  norm.getY().replaceAllUsesWith(folded->getResult(0));
  norm.erase();
  layer->op->erase();
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
