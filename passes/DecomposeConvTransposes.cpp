//===- DecomposeConvTransposes.cpp - ConvTranspose as Conv and a shuffle --===//
//
// This file implements kiln-decompose-conv-transposes. A ConvTranspose of
// stride s (per spatial dim) computes each output phase r (the outputs
// s * q + r) from the input alone, with the taps k = t + s * j of its
// kernel, t = (r + p) mod s for the pad p at the start:
//
//   y[s * q + r] = sum_j x[q + c - j] * w[t + s * j],   c = (r + p - t) / s
//
// a stride-1 correlation. Over all phases these read the inputs q + lo to
// q + hi (lo, hi the least c - j and the greatest c): so one stride-1 Conv
// over the input padded by -lo at the start, of a window of hi - lo + 1
// taps, with an output channel per phase and output channel of the
// ConvTranspose (each phase's taps placed in the window, zeros elsewhere),
// computes every phase, and a Reshape, a Transpose and a Reshape interleave
// the phases into the output (a Slice dropping what the last phases computed
// past its end): the depth-to-space shuffle of sub-pixel convolutions. The
// Conv then runs on the convolution kernels (im2col GEMMs, Winograd) where
// the ConvTranspose ran as one loop nest over the input spread out with
// zeros between its elements, s^2 times as many multiply-adds of which all
// but one in s^2 were by zero, and none of it a GEMM. The window holds the
// phases' taps exactly when s divides the kernel (a 2x2 kernel at stride
// 2: a 1x1 Conv; 4x4 at stride 2: 2x2); a 3x3 kernel at stride 2 computes
// 16 products per output quad for 9.
//
// An activation that alone reads the ConvTranspose (Relu, Clip, LeakyRelu,
// Sigmoid, Tanh, HardSigmoid, HardSwish, Elu, Selu, Softplus: elementwise,
// so it commutes with the shuffle) moves before the shuffle, onto the
// Conv's output, where the Conv's kernel runs it (a BatchNormalization in
// between kiln-fold-batch-norms has folded into the ConvTranspose before).
//
// Taken for f32 with constant weights (and a constant bias, or none), one
// group, no dilation, and a window that starts at or before the input
// (pads no larger than the kernel); others keep the direct lowering.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"
#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_DECOMPOSECONVTRANSPOSES
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// One spatial dim's phases: per phase r, its first tap t, its tap count
/// and c; over them the window [lo, hi] of inputs (relative to q).
struct Phases {
  SmallVector<int64_t> first, taps, c;
  int64_t lo = 0, hi = 0;
  int64_t window() const { return hi - lo + 1; }
};

std::optional<Phases> phasesOf(int64_t kernel, int64_t stride, int64_t pad) {
  Phases ph;
  bool any = false;
  for (int64_t r = 0; r < stride; ++r) {
    int64_t t = ((r + pad) % stride + stride) % stride;
    int64_t taps = t < kernel ? (kernel - t + stride - 1) / stride : 0;
    int64_t c = (r + pad - t) / stride;
    ph.first.push_back(t);
    ph.taps.push_back(taps);
    ph.c.push_back(c);
    if (!taps)
      continue;
    ph.lo = any ? std::min(ph.lo, c - taps + 1) : c - taps + 1;
    ph.hi = any ? std::max(ph.hi, c) : c;
    any = true;
  }
  if (!any)
    return std::nullopt;
  return ph;
}

Value i64Constant(OpBuilder &b, Location loc, ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getI64Type());
  return b.create<onnx::ConstantOp>(loc, type,
                                    DenseElementsAttr::get(type, values));
}

Value reshape(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(
      shape, cast<RankedTensorType>(v.getType()).getElementType());
  return b.create<onnx::ReshapeOp>(loc, type, v, i64Constant(b, loc, shape),
                                   b.getI64IntegerAttr(0));
}

/// `v` cut to `sizes` from the start of its trailing `sizes.size()` dims,
/// or `v` where it is that size already.
Value sliceTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> sizes) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t lead = type.getRank() - static_cast<int64_t>(sizes.size());
  SmallVector<int64_t> shape(type.getShape()), axes, starts;
  bool same = true;
  for (auto [i, size] : llvm::enumerate(sizes)) {
    same &= shape[lead + i] == size;
    shape[lead + i] = size;
    axes.push_back(lead + i);
    starts.push_back(0);
  }
  if (same)
    return v;
  Value none = b.create<onnx::NoValueOp>(loc, b.getNoneType());
  return b.create<onnx::SliceOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), v,
      i64Constant(b, loc, starts), i64Constant(b, loc, sizes),
      i64Constant(b, loc, axes), none);
}

/// The only user of `v` if it is an activation of f32 elements whose
/// other operands (a Clip's bounds) are scalars: an op on each element
/// alone, which commutes with moving the elements.
Operation *activationOf(Value v) {
  if (!v.hasOneUse())
    return nullptr;
  Operation *user = *v.getUsers().begin();
  if (!isa<onnx::ReluOp, onnx::LeakyReluOp, onnx::ClipOp, onnx::SigmoidOp,
           onnx::TanhOp, onnx::HardSigmoidOp, onnx::HardSwishOp, onnx::EluOp,
           onnx::SeluOp, onnx::SoftplusOp>(user) ||
      user->getOperand(0) != v || user->getNumResults() != 1 ||
      user->getResult(0).getType() != v.getType())
    return nullptr;
  for (Value operand : user->getOperands().drop_front()) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!onnx::isNoValue(operand) && (!type || type.getNumElements() != 1))
      return nullptr;
  }
  return user;
}

void decompose(onnx::ConvTransposeOp op) {
  auto xType = dyn_cast<RankedTensorType>(op.getX().getType());
  auto yType = dyn_cast<RankedTensorType>(op.getY().getType());
  SmallVector<float> wValues, bValues;
  if (!xType || !yType || !xType.hasStaticShape() || !yType.hasStaticShape() ||
      !xType.getElementType().isF32() || op.getGroup() != 1 ||
      xType.getRank() < 3 || failed(getConstantFloats(op.getW(), wValues)))
    return;
  bool bias = !onnx::isNoValue(op.getB());
  if (bias && failed(getConstantFloats(op.getB(), bValues)))
    return;
  int64_t sr = xType.getRank() - 2;
  auto wType = cast<RankedTensorType>(op.getW().getType());
  int64_t n = xType.getDimSize(0), ch = xType.getDimSize(1);
  int64_t m = wType.getDimSize(1);
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  SmallVector<int64_t> strides = getI64Array(op.getStrides(), sr, 1);
  SmallVector<int64_t> dil = getI64Array(op.getDilations(), sr, 1);
  SmallVector<int64_t> pads = convTransposePadsBegin(op);
  if (llvm::any_of(dil, [](int64_t d) { return d != 1; }))
    return;
  SmallVector<Phases> phases;
  SmallVector<int64_t> windows, quads, convPads(2 * sr), convOut;
  int64_t phaseCount = 1;
  for (int64_t i = 0; i < sr; ++i) {
    std::optional<Phases> ph = phasesOf(kernel[i], strides[i], pads[i]);
    if (!ph || ph->lo > 0)
      return;
    int64_t in = xType.getDimSize(2 + i), out = yType.getDimSize(2 + i);
    int64_t q = (out + strides[i] - 1) / strides[i];
    int64_t end = std::max<int64_t>(q - 1 + ph->hi - (in - 1), 0);
    convPads[i] = -ph->lo;
    convPads[sr + i] = end;
    windows.push_back(ph->window());
    quads.push_back(q);
    convOut.push_back(in - ph->lo + end - ph->window() + 1);
    phaseCount *= strides[i];
    phases.push_back(std::move(*ph));
  }

  // The Conv's weights [phases * M, C, window...] and bias.
  int64_t windowSize = 1, kernelSize = 1;
  for (int64_t i = 0; i < sr; ++i) {
    windowSize *= windows[i];
    kernelSize *= kernel[i];
  }
  SmallVector<float> weights(phaseCount * m * ch * windowSize, 0.0f);
  SmallVector<int64_t> r(sr), u(sr);
  for (int64_t p = 0; p < phaseCount; ++p) {
    // Phase p's index per dim, row-major over the strides.
    for (int64_t i = sr - 1, rest = p; i >= 0; --i) {
      r[i] = rest % strides[i];
      rest /= strides[i];
    }
    for (int64_t e = 0; e < windowSize; ++e) {
      // Window position e per dim, and the tap it holds (or none).
      int64_t tap = 0;
      bool valid = true;
      for (int64_t i = sr - 1, rest = e; i >= 0; --i) {
        u[i] = rest % windows[i];
        rest /= windows[i];
      }
      for (int64_t i = 0; i < sr; ++i) {
        const Phases &ph = phases[i];
        int64_t j = ph.c[r[i]] - ph.lo - u[i];
        valid &= j >= 0 && j < ph.taps[r[i]];
        tap = tap * kernel[i] + ph.first[r[i]] + strides[i] * j;
      }
      if (!valid)
        continue;
      for (int64_t o = 0; o < m; ++o)
        for (int64_t c = 0; c < ch; ++c)
          weights[((p * m + o) * ch + c) * windowSize + e] =
              wValues[(c * m + o) * kernelSize + tap];
    }
  }

  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<int64_t> vShape{phaseCount * m, ch};
  vShape.append(windows);
  auto vType = RankedTensorType::get(vShape, b.getF32Type());
  Value v = b.create<onnx::ConstantOp>(
      loc, vType, DenseElementsAttr::get(vType, ArrayRef<float>(weights)));
  Value convBias;
  if (bias) {
    SmallVector<float> tiled;
    for (int64_t p = 0; p < phaseCount; ++p)
      tiled.append(bValues);
    auto bType = RankedTensorType::get({phaseCount * m}, b.getF32Type());
    convBias = b.create<onnx::ConstantOp>(
        loc, bType, DenseElementsAttr::get(bType, ArrayRef<float>(tiled)));
  } else {
    convBias = b.create<onnx::NoValueOp>(loc, b.getNoneType());
  }
  SmallVector<int64_t> convShape{n, phaseCount * m};
  convShape.append(convOut);
  SmallVector<int64_t> ones(sr, 1);
  Value conv = b.create<onnx::ConvOp>(
      loc, RankedTensorType::get(convShape, b.getF32Type()), op.getX(), v,
      convBias, b.getStringAttr("NOTSET"), b.getI64ArrayAttr(ones),
      b.getI64IntegerAttr(1), b.getI64ArrayAttr(windows),
      b.getI64ArrayAttr(convPads), b.getI64ArrayAttr(ones));
  conv = sliceTo(b, loc, conv, quads);
  // An activation that alone reads the result runs on the Conv's output
  // instead, before the shuffle (which only moves elements), where the
  // Conv's kernel fuses it.
  Operation *activation = activationOf(op.getY());
  if (activation) {
    Operation *early = b.clone(*activation);
    early->setOperand(0, conv);
    early->getResult(0).setType(conv.getType());
    conv = early->getResult(0);
  }

  // [N, s..., M, Q...] -> [N, M, Q0, s0, Q1, s1, ...] -> [N, M, Q0 * s0, ...].
  SmallVector<int64_t> split{n};
  split.append(strides);
  split.push_back(m);
  split.append(quads);
  Value phased = reshape(b, loc, conv, split);
  SmallVector<int64_t> perm{0, 1 + sr}, permShape{n, m}, joined{n, m};
  for (int64_t i = 0; i < sr; ++i) {
    perm.append({2 + sr + i, 1 + i});
    permShape.append({quads[i], strides[i]});
    joined.push_back(quads[i] * strides[i]);
  }
  Value shuffled = b.create<onnx::TransposeOp>(
      loc, RankedTensorType::get(permShape, b.getF32Type()), phased,
      b.getI64ArrayAttr(perm));
  Value y = reshape(b, loc, shuffled, joined);
  y = sliceTo(b, loc, y, yType.getShape().drop_front(2));
  if (activation) {
    activation->getResult(0).replaceAllUsesWith(y);
    activation->erase();
  } else {
    op.getY().replaceAllUsesWith(y);
  }
  op.erase();
}

struct DecomposeConvTransposesPass
    : kiln::impl::DecomposeConvTransposesBase<DecomposeConvTransposesPass> {
  void runOnOperation() override {
    SmallVector<onnx::ConvTransposeOp> ops;
    getOperation().walk([&](onnx::ConvTransposeOp op) { ops.push_back(op); });
    for (onnx::ConvTransposeOp op : ops)
      decompose(op);
  }
};

} // namespace
