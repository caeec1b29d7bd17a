//===- NN.cpp - Lower onnx convolution, pooling and normalisation ---------===//
//
// This file implements the lowering of the onnx NN family. A 2-d Conv
// becomes, per image and group, an im2col copy (a linalg.generic whose input
// map is affine in the window) feeding a linalg.matmul whose accumulator
// starts as the bias; a depthwise Conv is one direct generic with the
// reduction loops outside the innermost (vectorisable) output column. A 1-d
// Conv is the 2-d one of height 1; a 3-d Conv sums, per output depth, the
// 2-d products of the input depth slices its kernel covers.
// 2-d float pools use linalg's pooling ops on a padded input, other spatial
// ranks and integer max pools one generic with the same loops; average
// pooling divides by a compile-time table of window sizes, so
// count_include_pad and ceil_mode come out exactly as ONNX specifies.
// MaxPool's Indices are a min-reduction over the flat indices of the window
// elements equal to the max (the first max, as ONNX's reference picks).
// LpPool sums |x|^p over the same windows; MaxUnpool scatters in an scf.for.
// BatchNormalization in training mode reduces the batch statistics first.
//
//===----------------------------------------------------------------------===//

#include "passes/EvaluatorTensors.h"
#include "passes/ONNXToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

LogicalResult kiln::resolveWindow(Operation *op, RankedTensorType in,
                                  RankedTensorType out,
                                  ArrayRef<int64_t> kernel,
                                  std::optional<ArrayAttr> padsAttr,
                                  std::optional<ArrayAttr> stridesAttr,
                                  std::optional<ArrayAttr> dilationsAttr,
                                  StringRef autoPad, Window &w) {
  size_t n = kernel.size();
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = getI64Array(stridesAttr, n, 1);
  w.dilations = getI64Array(dilationsAttr, n, 1);
  SmallVector<int64_t> pads = getI64Array(padsAttr, 2 * n, 0);
  w.padBegin.assign(pads.begin(), pads.begin() + n);
  w.padEnd.assign(pads.begin() + n, pads.end());
  for (size_t i = 0; i < n; ++i) {
    int64_t size = in.getDimSize(2 + i);
    int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t o = (size + w.strides[i] - 1) / w.strides[i];
      int64_t total =
          std::max<int64_t>((o - 1) * w.strides[i] + extent - size, 0);
      int64_t small = total / 2;
      w.padBegin[i] = autoPad == "SAME_UPPER" ? small : total - small;
      w.padEnd[i] = total - w.padBegin[i];
    } else if (autoPad == "VALID") {
      w.padBegin[i] = w.padEnd[i] = 0;
    }
    if (w.padBegin[i] < 0 || w.padEnd[i] < 0)
      return unsupported(op, "negative pads are not supported");
    w.declaredPadEnd.push_back(w.padEnd[i]);
    int64_t o = out.getDimSize(2 + i);
    int64_t needed = (o - 1) * w.strides[i] + extent;
    if (needed > size + w.padBegin[i] + w.padEnd[i])
      w.padEnd[i] = needed - size - w.padBegin[i];
  }
  return success();
}

SmallVector<int64_t> kiln::convTransposePadsBegin(onnx::ConvTransposeOp op) {
  auto xType = cast<RankedTensorType>(op.getX().getType());
  auto wType = cast<RankedTensorType>(op.getW().getType());
  int64_t sr = xType.getRank() - 2;
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  SmallVector<int64_t> strides = getI64Array(op.getStrides(), sr, 1);
  SmallVector<int64_t> dil = getI64Array(op.getDilations(), sr, 1);
  SmallVector<int64_t> outPad = getI64Array(op.getOutputPadding(), sr, 0);
  SmallVector<int64_t> pads = getI64Array(op.getPads(), 2 * sr, 0);
  StringRef autoPad = op.getAutoPad();
  SmallVector<int64_t> padBegin(pads.begin(), pads.begin() + sr);
  if (op.getOutputShape() || autoPad == "SAME_UPPER" ||
      autoPad == "SAME_LOWER") {
    SmallVector<int64_t> outShape;
    if (op.getOutputShape()) {
      outShape = getI64Array(op.getOutputShape(), 0, 0);
      if ((int64_t)outShape.size() > sr) // N and C may be included
        outShape.erase(outShape.begin(), outShape.end() - sr);
    } else {
      for (int64_t i = 0; i < sr; ++i)
        outShape.push_back(xType.getDimSize(2 + i) * strides[i]);
    }
    for (int64_t i = 0; i < sr; ++i) {
      int64_t total = strides[i] * (xType.getDimSize(2 + i) - 1) + outPad[i] +
                      (kernel[i] - 1) * dil[i] + 1 - outShape[i];
      // Floor division, as ONNX's reference (total may be negative).
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      padBegin[i] = autoPad == "SAME_UPPER" ? half : total - half;
    }
  } else if (autoPad == "VALID") {
    padBegin.assign(sr, 0);
  }

  return padBegin;
}

Value kiln::padSpatial(OpBuilder &b, Location loc, Value x, const Window &w,
                       Value value) {
  if (llvm::all_of(w.padBegin, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(w.padEnd, [](int64_t p) { return p == 0; }))
    return x;
  auto type = tensorType(x);
  SmallVector<int64_t> low{0, 0}, high{0, 0}, shape(type.getShape());
  for (size_t i = 0; i < w.padBegin.size(); ++i) {
    low.push_back(w.padBegin[i]);
    high.push_back(w.padEnd[i]);
    shape[2 + i] += w.padBegin[i] + w.padEnd[i];
  }
  auto padType = RankedTensorType::get(shape, type.getElementType());
  SmallVector<OpFoldResult> lowOfr, highOfr;
  for (int64_t v : low)
    lowOfr.push_back(b.getIndexAttr(v));
  for (int64_t v : high)
    highOfr.push_back(b.getIndexAttr(v));
  return b.create<tensor::PadOp>(loc, padType, x, lowOfr, highOfr, value);
}

namespace {

/// col[c, kh, kw, oh, ow] = xp[0, c, oh*s + kh*d, ow*s + kw*d], returned
/// as [C*KH*KW, OH*OW]. A 1x1, stride-1 window needs no copy.
static Value im2col(OpBuilder &b, Location loc, Value xp, int64_t c, int64_t kh,
                    int64_t kw, int64_t oh, int64_t ow, const Window &w) {
  Type et = tensorType(xp).getElementType();
  auto colType = RankedTensorType::get({c * kh * kw, oh * ow}, et);
  auto xpType = tensorType(xp);
  if (kh == 1 && kw == 1 && w.strides[0] == 1 && w.strides[1] == 1 &&
      xpType.getDimSize(2) == oh && xpType.getDimSize(3) == ow)
    return reshapeTo(b, loc, xp, colType);
  MLIRContext *ctx = b.getContext();
  AffineExpr dc, dkh, dkw, doh, dow;
  bindDims(ctx, dc, dkh, dkw, doh, dow);
  auto fullType = RankedTensorType::get({c, kh, kw, oh, ow}, et);
  SmallVector<AffineMap> maps{
      AffineMap::get(5, 0,
                     {b.getAffineConstantExpr(0), dc,
                      doh * w.strides[0] + dkh * w.dilations[0],
                      dow * w.strides[1] + dkw * w.dilations[1]},
                     ctx),
      b.getMultiDimIdentityMap(5)};
  SmallVector<utils::IteratorType> iterators(5, utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{fullType}, ValueRange{xp},
      ValueRange{createEmpty(b, loc, fullType)}, maps, iterators,
      [](OpBuilder &nb, Location l, ValueRange args) {
        nb.create<linalg::YieldOp>(l, args[0]);
      });
  return reshapeTo(b, loc, generic.getResult(0), colType);
}

} // namespace

namespace {
/// Up to this many (image, group) products of buildConvGemms are
/// straight-line code, each on static slices; more are an scf.for nest over
/// them.
constexpr int64_t kStraightLineProducts = 8;
} // namespace

Value kiln::buildConvGemms(OpBuilder &rewriter, Location loc, Value xp,
                           Value weights, Value acc, int64_t g, int64_t oh,
                           int64_t ow, const Window &w, ConvProduct product) {
  auto xpType = tensorType(xp), wType = tensorType(weights);
  auto accType = tensorType(acc);
  int64_t n = xpType.getDimSize(0), c = xpType.getDimSize(1);
  int64_t f = wType.getDimSize(0), kh = wType.getDimSize(2),
          kw = wType.getDimSize(3);
  int64_t fg = f / g, cg = c / g;
  int64_t k = cg * kh * kw, p = oh * ow;
  Type xt = xpType.getElementType(), wt = wType.getElementType();
  auto tileIn = RankedTensorType::get(
      {1, cg, xpType.getDimSize(2), xpType.getDimSize(3)}, xt);
  auto tileAcc = RankedTensorType::get({fg, p}, accType.getElementType());
  auto oneGroup = [&](OpBuilder &b, Location l, OpFoldResult ni,
                      OpFoldResult gi, Value out) -> Value {
    auto idx = [&](OpFoldResult v, int64_t scale) -> OpFoldResult {
      if (auto a = dyn_cast<Attribute>(v))
        return b.getIndexAttr(cast<IntegerAttr>(a).getInt() * scale);
      return b
          .create<arith::MulIOp>(l, cast<Value>(v),
                                 b.create<arith::ConstantIndexOp>(l, scale))
          .getResult();
    };
    auto one = b.getIndexAttr(1), z = b.getIndexAttr(0);
    Value xs = b.create<tensor::ExtractSliceOp>(
        l, tileIn, xp, ArrayRef<OpFoldResult>{ni, idx(gi, cg), z, z},
        ArrayRef<OpFoldResult>{one, b.getIndexAttr(cg),
                               b.getIndexAttr(xpType.getDimSize(2)),
                               b.getIndexAttr(xpType.getDimSize(3))},
        ArrayRef<OpFoldResult>{one, one, one, one});
    Value col = im2col(b, l, xs, cg, kh, kw, oh, ow, w);
    Value wAll = reshapeTo(b, l, weights, RankedTensorType::get({f, k}, wt));
    Value ws = b.create<tensor::ExtractSliceOp>(
        l, RankedTensorType::get({fg, k}, wt), wAll,
        ArrayRef<OpFoldResult>{idx(gi, fg), z},
        ArrayRef<OpFoldResult>{b.getIndexAttr(fg), b.getIndexAttr(k)},
        ArrayRef<OpFoldResult>{one, one});
    SmallVector<OpFoldResult> accOff{ni, idx(gi, fg), z},
        accSize{one, b.getIndexAttr(fg), b.getIndexAttr(p)},
        accStride{one, one, one};
    Value init = b.create<tensor::ExtractSliceOp>(l, tileAcc, out, accOff,
                                                  accSize, accStride);
    Value prod = product(b, l, ws, col, init);
    return b.create<tensor::InsertSliceOp>(l, prod, out, accOff, accSize,
                                           accStride);
  };
  if (n * g <= kStraightLineProducts) {
    // Static slices: the GEMM pass then reads the padded input through the
    // im2col (or runs a 3x3 convolution as Winograd) per product.
    Value out = acc;
    for (int64_t ni = 0; ni < n; ++ni)
      for (int64_t gi = 0; gi < g; ++gi)
        out = oneGroup(rewriter, loc, rewriter.getIndexAttr(ni),
                       rewriter.getIndexAttr(gi), out);
    return out;
  }
  Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
  Value step = rewriter.create<arith::ConstantIndexOp>(loc, 1);
  auto outer = rewriter.create<scf::ForOp>(
      loc, lb, rewriter.create<arith::ConstantIndexOp>(loc, n), step,
      ValueRange{acc}, [&](OpBuilder &b, Location l, Value ni, ValueRange a) {
        auto inner = b.create<scf::ForOp>(
            l, lb, b.create<arith::ConstantIndexOp>(l, g), step, a,
            [&](OpBuilder &b2, Location l2, Value gi, ValueRange a2) {
              b2.create<scf::YieldOp>(l2, oneGroup(b2, l2, ni, gi, a2[0]));
            });
        b.create<scf::YieldOp>(l, inner.getResults());
      });
  return outer.getResult(0);
}

namespace {

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

struct ConvLowering : OpRewritePattern<onnx::ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX()), wType = tensorType(op.getW());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    // Integer Convs are the i32 ones ConvInteger and QLinearConv lower to.
    if (!isFloat(et) && !isa<IntegerType>(et))
      return unsupported(op, "Conv needs float or integer inputs");
    if (xType.getRank() == 3)
      return lowerAs2d(op, rewriter);
    if (xType.getRank() == 5)
      return lower3d(op, rewriter);
    if (xType.getRank() != 4)
      return unsupported(op, "Conv needs 1, 2 or 3 spatial dimensions");
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
    Window w;
    Value zero, xp;
    if (failed(padInput(op, rewriter, w, zero, xp)))
      return failure();

    int64_t n = xType.getDimSize(0), c = xType.getDimSize(1);
    int64_t f = wType.getDimSize(0), g = op.getGroup();
    int64_t oh = yType.getDimSize(2), ow = yType.getDimSize(3);
    int64_t kh = kernel[0], kw = kernel[1];

    int64_t fg = f / g, cg = c / g;
    bool depthwise = cg == 1 && fg == 1 && g > 1;
    if (!depthwise && !directGroups(n, g, cg, et)) {
      // im2col + matmul per (image, group): [Fg, Cg*KH*KW] x [Cg*KH*KW, P]
      // into an accumulator that starts as the bias.
      auto accType = RankedTensorType::get({n, f, oh * ow}, et);
      Value acc;
      if (onnx::isNoValue(op.getB())) {
        acc = createFilled(rewriter, loc, accType, zero);
      } else {
        Value bias = reshapeTo(rewriter, loc, op.getB(),
                               RankedTensorType::get({f, 1}, et));
        acc = buildElementwise(
            rewriter, loc, accType, bias,
            [](OpBuilder &, Location, ValueRange args) { return args[0]; });
      }
      Value out = buildConvGemms(
          rewriter, loc, xp, op.getW(), acc, g, oh, ow, w,
          [](OpBuilder &b, Location l, Value ws, Value col, Value init) {
            return b
                .create<linalg::MatmulOp>(l, TypeRange{init.getType()},
                                          ValueRange{ws, col}, ValueRange{init})
                .getResult(0);
          });
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, out, yType));
      return success();
    }

    Value init;
    // Depthwise (or grouped, directGroups): one direct generic, loops (n, g,
    // fg, cg, kh, kw, oh, ow), the innermost (vectorisable by LLVM) along
    // the output row.
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr dn, dg, df, dc, dkh, dkw, doh, dow;
    bindDims(ctx, dn, dg, df, dc, dkh, dkw, doh, dow);
    auto yInit = RankedTensorType::get({n, g, fg, oh, ow}, et);
    if (onnx::isNoValue(op.getB())) {
      init = createFilled(rewriter, loc, yInit, zero);
    } else {
      Value bias = reshapeTo(rewriter, loc, op.getB(),
                             RankedTensorType::get({g, fg, 1, 1}, et));
      init = buildElementwise(
          rewriter, loc, yInit, bias,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    }
    Value wg = reshapeTo(rewriter, loc, op.getW(),
                         RankedTensorType::get({g, fg, cg, kh, kw}, et));
    SmallVector<AffineMap> maps{
        AffineMap::get(8, 0,
                       {dn, dg * cg + dc,
                        doh * w.strides[0] + dkh * w.dilations[0],
                        dow * w.strides[1] + dkw * w.dilations[1]},
                       ctx),
        AffineMap::get(8, 0, {dg, df, dc, dkh, dkw}, ctx),
        AffineMap::get(8, 0, {dn, dg, df, doh, dow}, ctx)};
    using IT = utils::IteratorType;
    SmallVector<IT> iterators{IT::parallel,  IT::parallel,  IT::parallel,
                              IT::reduction, IT::reduction, IT::reduction,
                              IT::parallel,  IT::parallel};
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{yInit}, ValueRange{xp, wg}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value sum;
          if (isFloat(et)) {
            Value p = b.create<arith::MulFOp>(l, args[0], args[1]);
            sum = b.create<arith::AddFOp>(l, args[2], p);
          } else {
            Value p = b.create<arith::MulIOp>(l, args[0], args[1]);
            sum = b.create<arith::AddIOp>(l, args[2], p);
          }
          b.create<linalg::YieldOp>(l, sum);
        });
    // kiln-lower-windows gives f32 ones vectorised row kernels.
    generic->setAttr(kDepthwiseAttr, rewriter.getDenseI64ArrayAttr(
                                         {w.strides[0], w.strides[1],
                                          w.dilations[0], w.dilations[1]}));
    rewriter.replaceOp(op,
                       reshapeTo(rewriter, loc, generic.getResult(0), yType));
    return success();
  }

  /// Whether a grouped f32 Conv of n images and g groups of cg input
  /// channels runs as the depthwise one's direct generic (kiln-lower-windows
  /// sums each output plane over its group's input planes) rather than a
  /// GEMM per (image, group): where those GEMMs would be a loop (an im2col
  /// copy each, their weights not packed, on the caller) of not too large
  /// ones. One-layer 3x3 models on one thread (AVX2), interleaved: 32 groups
  /// of 4 channels at 56x56 (ResNeXt-50's first stage) 1.96 -> 0.56 ms, of 8
  /// at 28x28 0.86 -> 0.49, of 16 at 14x14 0.65 -> 0.42; 32 groups of 32 at
  /// 7x7 0.98 of the GEMMs' time, 16 of 64 at 14x14 0.92. With up to 8
  /// products (static, each GEMM reading its input through the im2col, its
  /// weights packed) the kernel took 0.92 to 1.26 of the GEMMs' time (8
  /// groups of 8 at 28x28 to 2 of 16 at 112x112 stride 2): they stay GEMMs.
  static bool directGroups(int64_t n, int64_t g, int64_t cg, Type et) {
    return g > 1 && et.isF32() && n * g > kStraightLineProducts && cg <= 64;
  }

  /// The Conv's window and X padded with zeros as it says (`zero` the
  /// element type's 0).
  static LogicalResult padInput(onnx::ConvOp op, PatternRewriter &rewriter,
                                Window &w, Value &zero, Value &xp) {
    auto xType = tensorType(op.getX()), wType = tensorType(op.getW());
    auto yType = tensorType(op.getY());
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
    if (failed(resolveWindow(op, xType, yType, kernel, op.getPads(),
                             op.getStrides(), op.getDilations(),
                             op.getAutoPad(), w)))
      return failure();
    zero = createScalar(rewriter, op.getLoc(), yType.getElementType(), 0);
    xp = padSpatial(rewriter, op.getLoc(), op.getX(), w, zero);
    return success();
  }

  /// A 1-d Conv is the 2-d one of height 1: X [N, C, L] as [N, C, 1, L], W
  /// [F, Cg, K] as [F, Cg, 1, K], and every window attribute with a leading
  /// 1 (or 0 for pads), so it runs on the same kernels (GEMM, depthwise).
  static LogicalResult lowerAs2d(onnx::ConvOp op, PatternRewriter &rewriter) {
    Location loc = op.getLoc();
    auto lift = [&](Value v) {
      auto t = tensorType(v);
      SmallVector<int64_t> shape(t.getShape());
      shape.insert(shape.begin() + 2, 1);
      return reshapeTo(rewriter, loc, v,
                       RankedTensorType::get(shape, t.getElementType()));
    };
    auto prepend = [&](std::optional<ArrayAttr> attr,
                       int64_t value) -> ArrayAttr {
      if (!attr)
        return {};
      SmallVector<int64_t> v = getI64Array(attr, 0, 0);
      if (v.size() == 2) // pads: [begin, end] -> [0, begin, 0, end]
        return rewriter.getI64ArrayAttr({value, v[0], value, v[1]});
      v.insert(v.begin(), value);
      return rewriter.getI64ArrayAttr(v);
    };
    auto yType = tensorType(op.getY());
    SmallVector<int64_t> yShape(yType.getShape());
    yShape.insert(yShape.begin() + 2, 1);
    auto y4 = RankedTensorType::get(yShape, yType.getElementType());
    Value b = op.getB();
    auto conv = rewriter.create<onnx::ConvOp>(
        loc, y4, lift(op.getX()), lift(op.getW()), b, op.getAutoPadAttr(),
        prepend(op.getDilations(), 1), op.getGroupAttr(),
        prepend(op.getKernelShape(), 1), prepend(op.getPads(), 0),
        prepend(op.getStrides(), 1));
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, conv.getY(), yType));
    return success();
  }

  /// A 3-d Conv, per image, group and output depth, sums over the kernel's
  /// depth the 2-d products of one input depth slice (its 2-d im2col) by
  /// that depth's weights [Fg, Cg*KH*KW]: the 2-d GEMM path, with no im2col
  /// buffer over the whole volume. The weights are reordered to
  /// [KD, F, Cg*KH*KW] once, so each depth's are a contiguous slice.
  static LogicalResult lower3d(onnx::ConvOp op, PatternRewriter &rewriter) {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX()), wType = tensorType(op.getW());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
    Window w;
    Value zero, xp;
    if (failed(padInput(op, rewriter, w, zero, xp)))
      return failure();
    auto xpType = tensorType(xp);
    int64_t n = xType.getDimSize(0), c = xType.getDimSize(1);
    int64_t f = wType.getDimSize(0), g = op.getGroup();
    int64_t fg = f / g, cg = c / g;
    int64_t kd = kernel[0], kh = kernel[1], kw = kernel[2];
    int64_t od = yType.getDimSize(2), oh = yType.getDimSize(3),
            ow = yType.getDimSize(4);
    int64_t k = cg * kh * kw, p = oh * ow;
    // The window of one depth slice: the height and width of `w`.
    Window w2;
    w2.strides = {w.strides[1], w.strides[2]};
    w2.dilations = {w.dilations[1], w.dilations[2]};

    // The first kernel depth of each output slice starts from the bias (or
    // zeros), a tile the GEMM's initializer takes in; no pass fills the
    // whole volume first.
    auto accType = RankedTensorType::get({n, f, od, p}, et);
    Value acc = createEmpty(rewriter, loc, accType);
    Value bias;
    if (!onnx::isNoValue(op.getB()))
      bias = reshapeTo(rewriter, loc, op.getB(),
                       RankedTensorType::get({f, 1}, et));
    Value wFlat = reorderWeights(rewriter, loc, op.getW());

    auto index = [&](OpBuilder &b, Location l, int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(l, v);
    };
    auto affine = [&](OpBuilder &b, Location l, Value i, int64_t scale, Value j,
                      int64_t jscale) -> Value {
      Value r = b.create<arith::MulIOp>(l, i, index(b, l, scale));
      if (j)
        r = b.create<arith::AddIOp>(
            l, r, b.create<arith::MulIOp>(l, j, index(b, l, jscale)));
      return r;
    };
    // One (image, group, output depth, kernel depth) step of the sum; the
    // first starts from the bias.
    auto step = [&](OpBuilder &b, Location l, Value ni, Value gi, Value oi,
                    Value ki, Value out, bool first) -> Value {
      auto one = b.getIndexAttr(1), z = b.getIndexAttr(0);
      Value depth = affine(b, l, oi, w.strides[0], ki, w.dilations[0]);
      // The depth slice, then its unit depth merged into the channels (a
      // rank-reducing slice would leave which unit dimension went to the
      // canonicalizer, which picks the wrong one when there are two).
      auto slice = RankedTensorType::get(
          {1, cg, 1, xpType.getDimSize(3), xpType.getDimSize(4)}, et);
      Value xs5 = b.create<tensor::ExtractSliceOp>(
          l, slice, xp,
          ArrayRef<OpFoldResult>{ni, affine(b, l, gi, cg, {}, 0), depth, z, z},
          ArrayRef<OpFoldResult>{one, b.getIndexAttr(cg), one,
                                 b.getIndexAttr(xpType.getDimSize(3)),
                                 b.getIndexAttr(xpType.getDimSize(4))},
          ArrayRef<OpFoldResult>{one, one, one, one, one});
      Value xs = b.create<tensor::CollapseShapeOp>(
          l, xs5, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
      Value col = im2col(b, l, xs, cg, kh, kw, oh, ow, w2);
      Value ws = b.create<tensor::CollapseShapeOp>(
          l,
          b.create<tensor::ExtractSliceOp>(
              l, RankedTensorType::get({1, fg, k}, et), wFlat,
              ArrayRef<OpFoldResult>{ki, affine(b, l, gi, fg, {}, 0), z},
              ArrayRef<OpFoldResult>{one, b.getIndexAttr(fg),
                                     b.getIndexAttr(k)},
              ArrayRef<OpFoldResult>{one, one, one}),
          ArrayRef<ReassociationIndices>{{0, 1}, {2}});
      SmallVector<OpFoldResult> accOff{ni, affine(b, l, gi, fg, {}, 0), oi, z},
          accSize{one, b.getIndexAttr(fg), one, b.getIndexAttr(p)},
          accStride{one, one, one, one};
      // [1, fg, 1, p] as [fg, p]: both unit dims merged into fg.
      auto tileAcc = RankedTensorType::get({fg, p}, et);
      auto accSlice = RankedTensorType::get({1, fg, 1, p}, et);
      SmallVector<ReassociationIndices> merge{{0, 1, 2}, {3}};
      Value init;
      if (!first) {
        init = b.create<tensor::CollapseShapeOp>(
            l,
            b.create<tensor::ExtractSliceOp>(l, accSlice, out, accOff, accSize,
                                             accStride),
            merge);
      } else if (!bias) {
        init = createFilled(b, l, tileAcc, zero);
      } else {
        Value slice = b.create<tensor::ExtractSliceOp>(
            l, RankedTensorType::get({fg, 1}, et), bias,
            ArrayRef<OpFoldResult>{affine(b, l, gi, fg, {}, 0), z},
            ArrayRef<OpFoldResult>{b.getIndexAttr(fg), one},
            ArrayRef<OpFoldResult>{one, one});
        init = buildElementwise(
            b, l, tileAcc, slice,
            [](OpBuilder &, Location, ValueRange args) { return args[0]; });
      }
      Value prod =
          b.create<linalg::MatmulOp>(l, TypeRange{tileAcc}, ValueRange{ws, col},
                                     ValueRange{init})
              .getResult(0);
      Value back = b.create<tensor::ExpandShapeOp>(
          l, accSlice, prod, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
      return b.create<tensor::InsertSliceOp>(l, back, out, accOff, accSize,
                                             accStride);
    };
    // Kernel depth 0 from the bias, then the other depths, for one output
    // slice (image ni, group gi, output depth oi).
    auto depths = [&](OpBuilder &b, Location l, ArrayRef<Value> ivs,
                      Value out) -> Value {
      out = step(b, l, ivs[0], ivs[1], ivs[2], index(b, l, 0), out, true);
      if (kd == 1)
        return out;
      auto loop = b.create<scf::ForOp>(
          l, index(b, l, 1), index(b, l, kd), index(b, l, 1), ValueRange{out},
          [&](OpBuilder &nb, Location nl, Value ki, ValueRange args) {
            nb.create<scf::YieldOp>(
                nl, step(nb, nl, ivs[0], ivs[1], ivs[2], ki, args[0], false));
          });
      return loop.getResult(0);
    };
    // scf.for over n, g and od around that, the accumulator carried through.
    std::array<int64_t, 3> extents{n, g, od};
    std::function<Value(OpBuilder &, Location, SmallVector<Value>, Value)>
        nest = [&](OpBuilder &b, Location l, SmallVector<Value> ivs,
                   Value out) -> Value {
      if (ivs.size() == extents.size())
        return depths(b, l, ivs, out);
      auto loop = b.create<scf::ForOp>(
          l, index(b, l, 0), index(b, l, extents[ivs.size()]), index(b, l, 1),
          ValueRange{out},
          [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
            SmallVector<Value> inner = ivs;
            inner.push_back(iv);
            nb.create<scf::YieldOp>(nl, nest(nb, nl, inner, args[0]));
          });
      return loop.getResult(0);
    };
    Value out = nest(rewriter, loc, {}, acc);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, out, yType));
    return success();
  }

  /// A 3-d Conv's W [F, Cg, KD, KH, KW] as [KD, F, Cg*KH*KW]: reordered
  /// at compile time when W is a constant (a layer's weights), else by a
  /// linalg.transpose.
  static Value reorderWeights(PatternRewriter &rewriter, Location loc,
                              Value w) {
    auto type = tensorType(w);
    Type et = type.getElementType();
    int64_t f = type.getDimSize(0), cg = type.getDimSize(1),
            kd = type.getDimSize(2),
            khw = type.getDimSize(3) * type.getDimSize(4);
    auto flatType = RankedTensorType::get({kd, f, cg * khw}, et);
    if (auto c = w.getDefiningOp<onnx::ConstantOp>())
      if (auto attr = dyn_cast<DenseElementsAttr>(c.getValue()))
        if (std::optional<eval::Tensor> t = toTensor(attr))
          if (std::optional<eval::Tensor> r =
                  eval::transpose(*t, {2, 0, 1, 3, 4})) {
            r->dims = {kd, f, cg * khw};
            if (DenseElementsAttr folded = fromTensor(*r, flatType))
              return rewriter.create<arith::ConstantOp>(loc, folded);
          }
    auto wtType = RankedTensorType::get(
        {kd, f, cg, type.getDimSize(3), type.getDimSize(4)}, et);
    Value wt = rewriter
                   .create<linalg::TransposeOp>(
                       loc, w, createEmpty(rewriter, loc, wtType),
                       ArrayRef<int64_t>{2, 0, 1, 3, 4})
                   .getResult()[0];
    return reshapeTo(rewriter, loc, wt, flatType);
  }
};

/// ConvTranspose as a stride-1 convolution over the input spread out by the
/// stride (zeros between) and placed at offset d*(k-1) - pad_begin, with the
/// kernel flipped through the indexing map (k-1-kh is affine).
struct ConvTransposeLowering : OpRewritePattern<onnx::ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX()), wType = tensorType(op.getW());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    if (!isFloat(et))
      return unsupported(op, "ConvTranspose needs float inputs");
    int64_t sr = xType.getRank() - 2;
    if (sr < 1)
      return unsupported(op, "ConvTranspose needs spatial dimensions");
    int64_t n = xType.getDimSize(0), c = xType.getDimSize(1);
    int64_t g = op.getGroup(), cg = c / g, mg = wType.getDimSize(1);
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
    SmallVector<int64_t> strides = getI64Array(op.getStrides(), sr, 1);
    SmallVector<int64_t> dil = getI64Array(op.getDilations(), sr, 1);
    SmallVector<int64_t> padBegin = convTransposePadsBegin(op);

    // Xp: zeros, with X's elements at offset + i * stride where they fit.
    SmallVector<int64_t> xpShape{n, c};
    SmallVector<int64_t> offsets, firsts, counts;
    for (int64_t i = 0; i < sr; ++i) {
      int64_t size = yType.getDimSize(2 + i) + dil[i] * (kernel[i] - 1);
      int64_t offset = dil[i] * (kernel[i] - 1) - padBegin[i];
      int64_t in = xType.getDimSize(2 + i);
      int64_t first = offset < 0 ? (-offset + strides[i] - 1) / strides[i] : 0;
      int64_t last = std::min(in - 1, (size - 1 - offset) / strides[i]);
      if (size - 1 - offset < 0)
        last = -1;
      xpShape.push_back(size);
      offsets.push_back(offset + first * strides[i]);
      firsts.push_back(first);
      counts.push_back(std::max<int64_t>(last - first + 1, 0));
    }
    Value zero = createScalar(rewriter, loc, et, 0);
    auto xpType = RankedTensorType::get(xpShape, et);
    Value xp = createFilled(rewriter, loc, xpType, zero);
    if (llvm::all_of(counts, [](int64_t k) { return k > 0; })) {
      SmallVector<OpFoldResult> srcOff{rewriter.getIndexAttr(0),
                                       rewriter.getIndexAttr(0)},
          srcSize{rewriter.getIndexAttr(n), rewriter.getIndexAttr(c)},
          one(sr + 2, rewriter.getIndexAttr(1)), dstOff = srcOff,
                                                 dstStride = one;
      SmallVector<int64_t> sliceShape{n, c};
      for (int64_t i = 0; i < sr; ++i) {
        srcOff.push_back(rewriter.getIndexAttr(firsts[i]));
        srcSize.push_back(rewriter.getIndexAttr(counts[i]));
        dstOff.push_back(rewriter.getIndexAttr(offsets[i]));
        dstStride[2 + i] = rewriter.getIndexAttr(strides[i]);
        sliceShape.push_back(counts[i]);
      }
      Value slice = rewriter.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get(sliceShape, et), op.getX(), srcOff,
          srcSize, one);
      xp = rewriter.create<tensor::InsertSliceOp>(loc, slice, xp, dstOff,
                                                  srcSize, dstStride);
    }

    // Y[n, g, m, o...] += Xp[n, g*cg + c, o + k*d ...] * W[g*cg + c, m, K-1-k
    // ...]
    MLIRContext *ctx = getContext();
    int64_t loops = 4 + 2 * sr;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr dn = d(0), dg = d(1), dm = d(2), dc = d(3);
    SmallVector<AffineExpr> xExprs{dn, dg * cg + dc}, wExprs{dg * cg + dc, dm},
        yExprs{dn, dg, dm};
    for (int64_t i = 0; i < sr; ++i) {
      AffineExpr dk = d(4 + i), dout = d(4 + sr + i);
      xExprs.push_back(dout + dk * dil[i]);
      wExprs.push_back(getAffineConstantExpr(kernel[i] - 1, ctx) - dk);
      yExprs.push_back(dout);
    }
    // A shape-only operand gives the (c, k...) loops their sizes: no other
    // operand indexes them with a plain dimension.
    SmallVector<AffineExpr> extentExprs{dc};
    SmallVector<int64_t> extentShape{cg};
    for (int64_t i = 0; i < sr; ++i) {
      extentExprs.push_back(d(4 + i));
      extentShape.push_back(kernel[i]);
    }
    Value extent = rewriter.create<tensor::EmptyOp>(loc, extentShape, et);
    SmallVector<AffineMap> maps{AffineMap::get(loops, 0, xExprs, ctx),
                                AffineMap::get(loops, 0, wExprs, ctx),
                                AffineMap::get(loops, 0, extentExprs, ctx),
                                AffineMap::get(loops, 0, yExprs, ctx)};
    using IT = utils::IteratorType;
    SmallVector<IT> iterators{IT::parallel, IT::parallel, IT::parallel,
                              IT::reduction};
    iterators.append(sr, IT::reduction);
    iterators.append(sr, IT::parallel);
    SmallVector<int64_t> accShape{n, g, mg};
    for (int64_t i = 0; i < sr; ++i)
      accShape.push_back(yType.getDimSize(2 + i));
    auto accType = RankedTensorType::get(accShape, et);
    Value init;
    if (onnx::isNoValue(op.getB())) {
      init = createFilled(rewriter, loc, accType, zero);
    } else {
      SmallVector<int64_t> biasShape{g, mg};
      biasShape.append(sr, 1);
      Value bias = reshapeTo(rewriter, loc, op.getB(),
                             RankedTensorType::get(biasShape, et));
      init = buildElementwise(
          rewriter, loc, accType, bias,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    }
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{accType}, ValueRange{xp, op.getW(), extent},
        ValueRange{init}, maps, iterators,
        [](OpBuilder &b, Location l, ValueRange args) {
          Value p = b.create<arith::MulFOp>(l, args[0], args[1]);
          b.create<linalg::YieldOp>(
              l,
              ValueRange{b.create<arith::AddFOp>(l, args[3], p).getResult()});
        });
    rewriter.replaceOp(op,
                       reshapeTo(rewriter, loc, generic.getResult(0), yType));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// The loops of a pooling generic over (n, c, outputs..., window...): maps
/// for the padded input, a shape-only window operand that gives the window
/// loops their sizes, and `numOutputLike` maps of the output's index space.
struct WindowLoops {
  Value window;
  SmallVector<AffineMap> maps;
  SmallVector<utils::IteratorType> iterators;
};

static WindowLoops windowLoops(OpBuilder &b, Location loc, const Window &w,
                               Type elementType, int64_t numOutputLike) {
  int64_t sr = w.kernel.size(), loops = 2 + 2 * sr;
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> xExprs{b.getAffineDimExpr(0), b.getAffineDimExpr(1)},
      kExprs, yExprs = xExprs;
  for (int64_t i = 0; i < sr; ++i) {
    AffineExpr o = b.getAffineDimExpr(2 + i),
               k = b.getAffineDimExpr(2 + sr + i);
    xExprs.push_back(o * w.strides[i] + k * w.dilations[i]);
    kExprs.push_back(k);
    yExprs.push_back(o);
  }
  WindowLoops r;
  r.window = b.create<tensor::EmptyOp>(loc, w.kernel, elementType);
  r.maps = {AffineMap::get(loops, 0, xExprs, ctx),
            AffineMap::get(loops, 0, kExprs, ctx)};
  for (int64_t i = 0; i < numOutputLike; ++i)
    r.maps.push_back(AffineMap::get(loops, 0, yExprs, ctx));
  r.iterators.assign(2 + sr, utils::IteratorType::parallel);
  r.iterators.append(sr, utils::IteratorType::reduction);
  return r;
}

/// Reduces every window of the padded NC... input `xp` into `init` (shaped
/// like the output) with `combine(x, acc)`: loops (n, c, o..., k...), the
/// window offsets k innermost, as linalg's named pooling ops order them.
static Value reduceWindows(
    OpBuilder &b, Location loc, Value xp, Value init, const Window &w,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = tensorType(init);
  WindowLoops loops = windowLoops(b, loc, w, type.getElementType(), 1);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, ValueRange{xp, loops.window}, ValueRange{init},
          loops.maps, loops.iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            nb.create<linalg::YieldOp>(l, combine(nb, l, args[0], args[2]));
          })
      .getResult(0);
}

/// MaxPool's Indices: for each output element, the smallest row-major index
/// into X (flattened over N, C and the spatial dims) of a window element
/// inside X equal to the max `y`, which is the first max in window order;
/// with storage_order=1 the spatial part is then re-flattened column-major.
static Value maxPoolIndices(OpBuilder &b, Location loc, Value xp, Value y,
                            RankedTensorType xType, RankedTensorType iType,
                            const Window &w, bool columnMajor) {
  int64_t sr = w.kernel.size();
  Type i64 = b.getI64Type();
  auto accType = RankedTensorType::get(iType.getShape(), i64);
  Value sentinel =
      createExtremum(b, loc, i64, /*lowest=*/false, /*isUnsigned=*/false);
  Value init = createFilled(b, loc, accType, sentinel);
  WindowLoops loops = windowLoops(b, loc, w, xType.getElementType(), 2);
  Value first =
      b.create<linalg::GenericOp>(
           loc, TypeRange{accType}, ValueRange{xp, loops.window, y},
           ValueRange{init}, loops.maps, loops.iterators,
           [&](OpBuilder &nb, Location l, ValueRange args) {
             Value x = args[0], max = args[2], acc = args[3];
             Value eq = isFloat(x.getType())
                            ? nb.create<arith::CmpFOp>(
                                    l, arith::CmpFPredicate::OEQ, x, max)
                                  .getResult()
                            : nb.create<arith::CmpIOp>(
                                    l, arith::CmpIPredicate::eq, x, max)
                                  .getResult();
             // flat = ((n * C + c) * D1 + p1) * D2 + p2 ..., with
             // p = o * s + k * d - pad_begin, counted only inside X.
             Value flat = nb.create<linalg::IndexOp>(l, 0);
             flat = nb.create<arith::AddIOp>(
                 l,
                 nb.create<arith::MulIOp>(
                     l, flat,
                     nb.create<arith::ConstantIndexOp>(l, xType.getDimSize(1))),
                 nb.create<linalg::IndexOp>(l, 1));
             Value inside = eq;
             Value zero = nb.create<arith::ConstantIndexOp>(l, 0);
             for (int64_t i = 0; i < sr; ++i) {
               Value o = nb.create<linalg::IndexOp>(l, 2 + i);
               Value k = nb.create<linalg::IndexOp>(l, 2 + sr + i);
               Value p = nb.create<arith::AddIOp>(
                   l,
                   nb.create<arith::MulIOp>(
                       l, o,
                       nb.create<arith::ConstantIndexOp>(l, w.strides[i])),
                   nb.create<arith::MulIOp>(
                       l, k,
                       nb.create<arith::ConstantIndexOp>(l, w.dilations[i])));
               p = nb.create<arith::SubIOp>(
                   l, p, nb.create<arith::ConstantIndexOp>(l, w.padBegin[i]));
               Value size = nb.create<arith::ConstantIndexOp>(
                   l, xType.getDimSize(2 + i));
               inside = nb.create<arith::AndIOp>(
                   l, inside,
                   nb.create<arith::AndIOp>(
                       l,
                       nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, p,
                                                zero),
                       nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, p,
                                                size)));
               flat = nb.create<arith::AddIOp>(
                   l, nb.create<arith::MulIOp>(l, flat, size), p);
             }
             Value idx =
                 nb.create<arith::IndexCastOp>(l, nb.getI64Type(), flat);
             Value cand = nb.create<arith::SelectOp>(
                 l, inside, idx,
                 createExtremum(nb, l, nb.getI64Type(), false, false));
             nb.create<linalg::YieldOp>(
                 l, ValueRange{
                        nb.create<arith::MinSIOp>(l, cand, acc).getResult()});
           })
          .getResult(0);
  if (!columnMajor || sr < 2)
    return first;
  // Re-flatten the spatial part column-major: split the row-major index into
  // (n*C + c, p1, ..., pk), then sum p_i * (D1 * ... * D_{i-1}).
  int64_t spatial = 1;
  for (int64_t i = 0; i < sr; ++i)
    spatial *= xType.getDimSize(2 + i);
  return buildElementwise(
      b, loc, accType, first, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value r = args[0];
        auto cst = [&](int64_t v) {
          return nb.create<arith::ConstantIntOp>(l, v, 64).getResult();
        };
        Value nc = nb.create<arith::DivSIOp>(l, r, cst(spatial));
        Value rest = nb.create<arith::RemSIOp>(l, r, cst(spatial));
        Value out = nb.create<arith::MulIOp>(l, nc, cst(spatial));
        int64_t inner = spatial, outer = 1;
        for (int64_t i = 0; i < sr; ++i) {
          inner /= xType.getDimSize(2 + i);
          Value p = nb.create<arith::DivSIOp>(l, rest, cst(inner));
          rest = nb.create<arith::RemSIOp>(l, rest, cst(inner));
          out = nb.create<arith::AddIOp>(
              l, out, nb.create<arith::MulIOp>(l, p, cst(outer)));
          outer *= xType.getDimSize(2 + i);
        }
        // A window with no match (a NaN max) keeps the sentinel.
        Value none = nb.create<arith::CmpIOp>(
            l, arith::CmpIPredicate::eq, r,
            createExtremum(nb, l, r.getType(), false, false));
        return nb.create<arith::SelectOp>(l, none, r, out).getResult();
      });
}

template <typename OpTy, bool IsMax>
struct PoolLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    int64_t sr = xType.getRank() - 2;
    if (sr < 1)
      return unsupported(op, "pooling needs an [N, C, D1, ...] input");
    if (!isFloat(et) && !IsMax)
      return unsupported(op, "AveragePool needs a float input");
    bool isUnsigned = isUnsignedOperand(op, 0);
    SmallVector<int64_t> kernel = getI64Array(op.getKernelShape(), 0, 0);
    std::optional<ArrayAttr> dilations;
    if constexpr (IsMax)
      dilations = op.getDilations();
    Window w;
    if (failed(resolveWindow(op, xType, yType, kernel, op.getPads(),
                             op.getStrides(), dilations, op.getAutoPad(), w)))
      return failure();
    Value padValue =
        IsMax ? createExtremum(rewriter, loc, et, /*lowest=*/true, isUnsigned)
              : createScalar(rewriter, loc, et, 0);
    Value xp = padSpatial(rewriter, loc, op.getX(), w, padValue);
    Value init = createFilled(rewriter, loc, yType, padValue);
    // 2-d float pools use linalg's named NCHW ops; other ranks and integer
    // max pools a generic with the same loops.
    bool named = sr == 2 && isFloat(et);
    Value window;
    if (named)
      window = rewriter.create<tensor::EmptyOp>(loc, kernel, et);
    auto strides = rewriter.getI64VectorAttr(w.strides);
    auto dil = rewriter.getI64VectorAttr(w.dilations);
    Value pooled;
    if (IsMax) {
      if (named)
        pooled = rewriter
                     .create<linalg::PoolingNchwMaxOp>(loc, TypeRange{yType},
                                                       ValueRange{xp, window},
                                                       init, strides, dil)
                     .getResult(0);
      else
        pooled = reduceWindows(
            rewriter, loc, xp, init, w,
            [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
              if (isFloat(et))
                return b.create<arith::MaximumFOp>(l, x, acc);
              if (isUnsigned)
                return b.create<arith::MaxUIOp>(l, x, acc);
              return b.create<arith::MaxSIOp>(l, x, acc);
            });
      // An integer 2-d max pool runs as kiln-lower-windows' row kernel.
      if (sr == 2 && !named)
        pooled.getDefiningOp()->setAttr(
            kMaxPoolAttr,
            rewriter.getDenseI64ArrayAttr(
                {w.strides[0], w.strides[1], w.dilations[0], w.dilations[1]}));
      SmallVector<Value> results{pooled};
      if (op->getNumResults() == 2) {
        int64_t storageOrder = 0;
        if constexpr (IsMax)
          storageOrder = op.getStorageOrder();
        results.push_back(maxPoolIndices(rewriter, loc, xp, pooled, xType,
                                         tensorType(op->getResult(1)), w,
                                         storageOrder == 1));
      }
      rewriter.replaceOp(op, results);
      return success();
    }
    if (named)
      pooled = rewriter
                   .create<linalg::PoolingNchwSumOp>(loc, TypeRange{yType},
                                                     ValueRange{xp, window},
                                                     init, strides, dil)
                   .getResult(0);
    else
      pooled =
          reduceWindows(rewriter, loc, xp, init, w,
                        [](OpBuilder &b, Location l, Value x, Value acc) {
                          return b.create<arith::AddFOp>(l, x, acc).getResult();
                        });
    // Divisors: window elements inside the input (count_include_pad=0) or
    // inside the input plus its explicit pads (=1); never the ceil overhang.
    // The count is a product over the spatial dims.
    int64_t includePad = 0;
    if constexpr (!IsMax)
      includePad = op.getCountIncludePad();
    SmallVector<SmallVector<int64_t>> counts(sr);
    SmallVector<int64_t> divShape;
    for (int64_t d = 0; d < sr; ++d) {
      int64_t lo = includePad ? -w.padBegin[d] : 0;
      int64_t hi =
          xType.getDimSize(2 + d) + (includePad ? w.declaredPadEnd[d] : 0);
      for (int64_t o = 0; o < yType.getDimSize(2 + d); ++o) {
        int64_t start = o * w.strides[d] - w.padBegin[d];
        int64_t k = 0;
        for (int64_t t = 0; t < w.kernel[d]; ++t)
          if (start + t * w.dilations[d] >= lo &&
              start + t * w.dilations[d] < hi)
            ++k;
        counts[d].push_back(k);
      }
      divShape.push_back(yType.getDimSize(2 + d));
    }
    SmallVector<float> divisors;
    SmallVector<int64_t> at(sr, 0);
    int64_t total = 1;
    for (int64_t s : divShape)
      total *= s;
    for (int64_t e = 0; e < total; ++e) {
      int64_t rest = e, product = 1;
      for (int64_t d = sr - 1; d >= 0; --d) {
        product *= counts[d][rest % divShape[d]];
        rest /= divShape[d];
      }
      divisors.push_back((float)product);
    }
    auto divType = RankedTensorType::get(divShape, rewriter.getF32Type());
    Value div = rewriter.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(divType, ArrayRef<float>(divisors)));
    Value result = buildElementwise(
        rewriter, loc, yType, ValueRange{pooled, div},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value d = convertScalar(b, l, args[1], et, false, false);
          return b.create<arith::DivFOp>(l, args[0], d).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// MaxUnpool as ONNX's reference computes it: a zero tensor of the inferred
/// shape [N, C, (D - 1) * s - pads + k ...] gets X's values at the flat
/// indices I, in order (a later duplicate wins); it is then placed at the
/// origin of the (possibly larger) output. One scf.for over X's elements
/// inserts each value at the output position of the same coordinates; bad
/// indices are clamped and fail a cf.assert.
struct MaxUnpoolLowering : OpRewritePattern<onnx::MaxUnpoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MaxUnpoolOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX()), yType = tensorType(op.getOutput());
    Type et = yType.getElementType();
    int64_t sr = xType.getRank() - 2;
    if (yType.getDimSize(0) != xType.getDimSize(0) ||
        yType.getDimSize(1) != xType.getDimSize(1))
      return unsupported(op, "MaxUnpool's output must keep X's N and C");
    SmallVector<int64_t> kernel = getI64Array(op.getKernelShape(), 0, 0);
    SmallVector<int64_t> strides = getI64Array(op.getStrides(), sr, 1);
    SmallVector<int64_t> pads = getI64Array(op.getPads(), 2 * sr, 0);
    SmallVector<int64_t> inferred;
    int64_t inferredPlane = 1, outPlane = 1;
    for (int64_t i = 0; i < sr; ++i) {
      inferred.push_back((xType.getDimSize(2 + i) - 1) * strides[i] - pads[i] -
                         pads[sr + i] + kernel[i]);
      if (inferred.back() < 1)
        return unsupported(op, "MaxUnpool's inferred shape is empty");
      inferredPlane *= inferred.back();
      outPlane *= yType.getDimSize(2 + i);
    }
    int64_t nc = xType.getDimSize(0) * xType.getDimSize(1);

    // output_shape, when given, must be the static output shape.
    Value shapeInput = op.getOutputShape();
    if (!onnx::isNoValue(shapeInput)) {
      SmallVector<int64_t> given;
      if (succeeded(getConstantInts(shapeInput, given))) {
        if (ArrayRef<int64_t>(given) != yType.getShape())
          return unsupported(op, "output_shape differs from the output's "
                                 "static shape");
      } else {
        auto shapeType = tensorType(shapeInput);
        if (shapeType.getRank() != 1 ||
            shapeType.getDimSize(0) != yType.getRank())
          return unsupported(op, "output_shape must have one value per dim");
        Value ok;
        for (int64_t i = 0; i < yType.getRank(); ++i) {
          Value at = rewriter.create<arith::ConstantIndexOp>(loc, i);
          Value v = rewriter.create<tensor::ExtractOp>(loc, shapeInput, at);
          Value eq = rewriter.create<arith::CmpIOp>(
              loc, arith::CmpIPredicate::eq, v,
              createScalar(rewriter, loc, v.getType(), yType.getDimSize(i)));
          ok =
              ok ? rewriter.create<arith::AndIOp>(loc, ok, eq).getResult() : eq;
        }
        rewriter.create<cf::AssertOp>(
            loc, ok, "MaxUnpool: output_shape differs from the static shape");
      }
    }

    int64_t count = xType.getNumElements();
    Value x = reshapeTo(rewriter, loc, op.getX(),
                        RankedTensorType::get({count}, xType.getElementType()));
    Value indices = reshapeTo(
        rewriter, loc, op.getI(),
        RankedTensorType::get({count}, tensorType(op.getI()).getElementType()));
    auto flatType = RankedTensorType::get({yType.getNumElements()}, et);
    Value init = createFilled(rewriter, loc, flatType,
                              createScalar(rewriter, loc, et, 0));
    Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = rewriter.create<arith::ConstantIndexOp>(loc, count);
    Value step = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = rewriter.create<scf::ForOp>(
        loc, lb, ub, step, ValueRange{init},
        [&](OpBuilder &b, Location l, Value iv, ValueRange args) {
          auto cst = [&](int64_t v) {
            return b.create<arith::ConstantIndexOp>(l, v).getResult();
          };
          Value v = b.create<tensor::ExtractOp>(l, x, iv);
          Value raw = b.create<arith::IndexCastOp>(
              l, b.getIndexType(), b.create<tensor::ExtractOp>(l, indices, iv));
          Value ok = b.create<arith::AndIOp>(
              l,
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, raw,
                                      cst(0)),
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, raw,
                                      cst(nc * inferredPlane)));
          Value idx = b.create<arith::MinSIOp>(
              l, b.create<arith::MaxSIOp>(l, raw, cst(0)),
              cst(nc * inferredPlane - 1));
          // Coordinates in the inferred shape, re-flattened in the output's.
          Value rest = b.create<arith::RemUIOp>(l, idx, cst(inferredPlane));
          Value pos = b.create<arith::MulIOp>(
              l, b.create<arith::DivUIOp>(l, idx, cst(inferredPlane)),
              cst(outPlane));
          int64_t inner = inferredPlane, outInner = outPlane;
          for (int64_t i = 0; i < sr; ++i) {
            inner /= inferred[i];
            outInner /= yType.getDimSize(2 + i);
            Value p = b.create<arith::DivUIOp>(l, rest, cst(inner));
            rest = b.create<arith::RemUIOp>(l, rest, cst(inner));
            int64_t size = yType.getDimSize(2 + i);
            if (inferred[i] > size) {
              ok = b.create<arith::AndIOp>(
                  l, ok,
                  b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, p,
                                          cst(size)));
              p = b.create<arith::MinUIOp>(l, p, cst(size - 1));
            }
            pos = b.create<arith::AddIOp>(
                l, pos, b.create<arith::MulIOp>(l, p, cst(outInner)));
          }
          b.create<cf::AssertOp>(
              l, ok, "MaxUnpool: an index is outside the unpooled tensor");
          Value next = b.create<tensor::InsertOp>(l, v, args[0], pos);
          b.create<scf::YieldOp>(l, next);
        });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, loop.getResult(0), yType));
    return success();
  }
};

/// (sum over each window of |x|^p)^(1/p), accumulated in f32 or wider; the
/// zero padding adds nothing.
static Value lpPool(OpBuilder &b, Location loc, Value x, const Window &w,
                    int64_t p, RankedTensorType yType) {
  Type et = yType.getElementType();
  Type ct = et.getIntOrFloatBitWidth() < 32 ? b.getF32Type() : et;
  Value xp = padSpatial(b, loc, x, w, createScalar(b, loc, et, 0));
  auto accType = RankedTensorType::get(yType.getShape(), ct);
  Value init = createFilled(b, loc, accType, createScalar(b, loc, ct, 0));
  Value sum = reduceWindows(
      b, loc, xp, init, w, [&](OpBuilder &nb, Location l, Value v, Value acc) {
        v = convertScalar(nb, l, v, ct, false, false);
        Value t = nb.create<math::AbsFOp>(l, v);
        if (p == 2)
          t = nb.create<arith::MulFOp>(l, v, v);
        else if (p != 1)
          t = nb.create<math::PowFOp>(l, t, createScalar(nb, l, ct, p));
        return nb.create<arith::AddFOp>(l, acc, t).getResult();
      });
  return buildElementwise(
      b, loc, yType, sum, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value r = args[0];
        if (p == 2)
          r = nb.create<math::SqrtOp>(l, r);
        else if (p != 1)
          r = nb.create<math::PowFOp>(l, r, createScalar(nb, l, ct, 1.0 / p));
        return convertScalar(nb, l, r, et, false, false);
      });
}

struct LpPoolLowering : OpRewritePattern<onnx::LpPoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::LpPoolOp op,
                                PatternRewriter &rewriter) const override {
    auto xType = tensorType(op.getX()), yType = tensorType(op.getY());
    if (!isFloat(yType.getElementType()))
      return unsupported(op, "LpPool needs a float input");
    SmallVector<int64_t> kernel = getI64Array(op.getKernelShape(), 0, 0);
    Window w;
    if (failed(resolveWindow(op, xType, yType, kernel, op.getPads(),
                             op.getStrides(), std::nullopt, op.getAutoPad(),
                             w)))
      return failure();
    rewriter.replaceOp(
        op, lpPool(rewriter, op.getLoc(), op.getX(), w, op.getP(), yType));
    return success();
  }
};

struct GlobalLpPoolLowering : OpRewritePattern<onnx::GlobalLpPoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GlobalLpPoolOp op,
                                PatternRewriter &rewriter) const override {
    auto xType = tensorType(op.getX()), yType = tensorType(op.getY());
    if (!isFloat(yType.getElementType()) || xType.getRank() < 3)
      return unsupported(op,
                         "GlobalLpPool needs a float [N, C, D1, ...] input");
    // One window covering every spatial dim.
    Window w;
    int64_t sr = xType.getRank() - 2;
    w.kernel.assign(xType.getShape().begin() + 2, xType.getShape().end());
    w.strides.assign(sr, 1);
    w.dilations.assign(sr, 1);
    w.padBegin.assign(sr, 0);
    w.padEnd.assign(sr, 0);
    w.declaredPadEnd.assign(sr, 0);
    rewriter.replaceOp(
        op, lpPool(rewriter, op.getLoc(), op.getX(), w, op.getP(), yType));
    return success();
  }
};

template <typename OpTy, bool IsMax>
struct GlobalPoolLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    if (!isFloat(et) && !IsMax)
      return unsupported(op, "GlobalAveragePool needs a float input");
    bool isUnsigned = isUnsignedOperand(op, 0);
    int64_t rank = xType.getRank(), count = 1;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t i = 0; i < rank; ++i) {
      bool spatial = i >= 2;
      if (spatial)
        count *= xType.getDimSize(i);
      outExprs.push_back(spatial ? rewriter.getAffineConstantExpr(0)
                                 : rewriter.getAffineDimExpr(i));
      iterators.push_back(spatial ? utils::IteratorType::reduction
                                  : utils::IteratorType::parallel);
    }
    Value init =
        createFilled(rewriter, loc, yType,
                     IsMax ? createExtremum(rewriter, loc, et,
                                            /*lowest=*/true, isUnsigned)
                           : createScalar(rewriter, loc, et, 0));
    SmallVector<AffineMap> maps{
        rewriter.getMultiDimIdentityMap(rank),
        AffineMap::get(rank, 0, outExprs, rewriter.getContext())};
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{yType}, op.getX(), init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value r;
          if (!IsMax)
            r = b.create<arith::AddFOp>(l, args[0], args[1]);
          else if (isFloat(et))
            r = b.create<arith::MaximumFOp>(l, args[0], args[1]);
          else if (isUnsigned)
            r = b.create<arith::MaxUIOp>(l, args[0], args[1]);
          else
            r = b.create<arith::MaxSIOp>(l, args[0], args[1]);
          b.create<linalg::YieldOp>(l, r);
        });
    Value result = generic.getResult(0);
    if (!IsMax)
      result =
          buildElementwise(rewriter, loc, yType, result,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return b
                                 .create<arith::DivFOp>(
                                     l, args[0], createScalar(b, l, et, count))
                                 .getResult();
                           });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// BatchNormalization: per channel, Y = scale * (X - mean) / sqrt(var + eps)
/// + B. In training mode mean and var are the batch's, reduced over N and
/// the spatial dims in f32 or wider, and the running statistics blend them
/// into the inputs with `momentum`.
struct BatchNormLowering : OpRewritePattern<onnx::BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::BatchNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    Type et = xType.getElementType();
    if (!isFloat(et))
      return unsupported(op, "BatchNormalization needs a float input");
    bool training = op.getTrainingMode() != 0;
    if (training && xType.getRank() < 2)
      return unsupported(op, "training mode needs an [N, C, ...] input");
    // Arithmetic in f32 or wider.
    Type st = et.getIntOrFloatBitWidth() < 32 ? rewriter.getF32Type() : et;
    // Per-channel vectors [C] broadcast as [C, 1, ...].
    SmallVector<int64_t> shape{xType.getRank() > 1 ? xType.getDimSize(1) : 1};
    for (int64_t i = 2; i < xType.getRank(); ++i)
      shape.push_back(1);
    auto chanType = [&](Value v) {
      return RankedTensorType::get(shape, tensorType(v).getElementType());
    };
    SmallVector<Value> inputs{op.getX()};
    for (Value v :
         {op.getScale(), op.getB(), op.getInputMean(), op.getInputVar()})
      inputs.push_back(reshapeTo(rewriter, loc, v, chanType(v)));
    Value batchMean, batchVar;
    if (training) {
      batchStatistics(rewriter, loc, op.getX(), st, batchMean, batchVar);
      inputs[3] = reshapeTo(rewriter, loc, batchMean, chanType(batchMean));
      inputs[4] = reshapeTo(rewriter, loc, batchVar, chanType(batchVar));
    }
    double eps = op.getEpsilon().convertToDouble();
    Value result = buildElementwise(
        rewriter, loc, tensorType(op.getY()), inputs,
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> a;
          for (Value v : args)
            a.push_back(convertScalar(b, l, v, st, false, false));
          Value centered = b.create<arith::SubFOp>(l, a[0], a[3]);
          Value denom = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, a[4], createScalar(b, l, st, eps)));
          Value norm = b.create<arith::DivFOp>(l, centered, denom);
          Value y = b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, norm, a[1]), a[2]);
          return convertScalar(b, l, y, et, false, false);
        });
    SmallVector<Value> results{result};
    // running = input * momentum + batch * (1 - momentum).
    double momentum = op.getMomentum().convertToDouble();
    Value stats[] = {batchMean, batchVar};
    Value given[] = {op.getInputMean(), op.getInputVar()};
    for (auto [i, out] : llvm::enumerate(op.getRunningStats())) {
      auto outType = tensorType(out);
      Type ot = outType.getElementType();
      Value batch = reshapeTo(
          rewriter, loc, stats[i],
          RankedTensorType::get(outType.getShape(),
                                tensorType(stats[i]).getElementType()));
      results.push_back(buildElementwise(
          rewriter, loc, outType, ValueRange{given[i], batch},
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value in = convertScalar(b, l, args[0], st, false, false);
            Value r = b.create<arith::AddFOp>(
                l,
                b.create<arith::MulFOp>(l, in,
                                        createScalar(b, l, st, momentum)),
                b.create<arith::MulFOp>(l, args[1],
                                        createScalar(b, l, st, 1 - momentum)));
            return convertScalar(b, l, r, ot, false, false);
          }));
    }
    rewriter.replaceOp(op, results);
    return success();
  }

  /// The mean and population variance of `x` in `st` per channel (axis 1),
  /// as [1, C, 1, ...].
  static void batchStatistics(OpBuilder &b, Location loc, Value x, Type st,
                              Value &mean, Value &var) {
    auto xType = tensorType(x);
    auto stType = RankedTensorType::get(xType.getShape(), st);
    if (xType.getElementType() != st)
      x = buildElementwise(
          b, loc, stType, x, [&](OpBuilder &nb, Location l, ValueRange args) {
            return convertScalar(nb, l, args[0], st, false, false);
          });
    SmallVector<int64_t> axes{0};
    int64_t count = xType.getDimSize(0);
    for (int64_t i = 2; i < xType.getRank(); ++i) {
      axes.push_back(i);
      count *= xType.getDimSize(i);
    }
    auto divide = [&](Value sum) {
      return buildElementwise(b, loc, tensorType(sum), sum,
                              [&](OpBuilder &nb, Location l, ValueRange args) {
                                return nb
                                    .create<arith::DivFOp>(
                                        l, args[0],
                                        createScalar(nb, l, st, count))
                                    .getResult();
                              });
    };
    mean = divide(reduceKeepDims(b, loc, x, axes, ReduceKind::Sum));
    Value sq =
        buildElementwise(b, loc, stType, ValueRange{x, mean},
                         [&](OpBuilder &nb, Location l, ValueRange args) {
                           Value d =
                               nb.create<arith::SubFOp>(l, args[0], args[1]);
                           return nb.create<arith::MulFOp>(l, d, d).getResult();
                         });
    var = divide(reduceKeepDims(b, loc, sq, axes, ReduceKind::Sum));
  }
};

/// Reduces the trailing dims from `axis` of `x` by sum into [outer..., 1...].
static Value sumTrailing(OpBuilder &b, Location loc, Value x, int64_t axis) {
  auto type = tensorType(x);
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = i >= axis;
    if (reduced)
      shape[i] = 1;
    outExprs.push_back(reduced ? b.getAffineConstantExpr(0)
                               : b.getAffineDimExpr(i));
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  Value init = createFilled(b, loc, resultType,
                            createScalar(b, loc, type.getElementType(), 0));
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, outExprs, b.getContext())};
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{resultType}, x, init, maps, iterators,
          [](OpBuilder &nb, Location l, ValueRange args) {
            nb.create<linalg::YieldOp>(
                l,
                ValueRange{
                    nb.create<arith::AddFOp>(l, args[0], args[1]).getResult()});
          })
      .getResult(0);
}

struct LayerNormLowering : OpRewritePattern<onnx::LayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::LayerNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    Type et = xType.getElementType();
    if (!isFloat(et))
      return unsupported(op, "LayerNormalization needs a float input");
    int64_t axis = onnx::normalizeAxis(op.getAxis(), xType.getRank());
    if (axis < 0)
      return unsupported(op, "axis out of range");
    // Statistics in f32 or wider.
    Type st = et.getIntOrFloatBitWidth() < 32 ? rewriter.getF32Type() : et;
    auto stType = RankedTensorType::get(xType.getShape(), st);
    Value x = op.getX();
    if (st != et)
      x = buildElementwise(rewriter, loc, stType, x,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return convertScalar(b, l, args[0], st, false,
                                                  false);
                           });
    int64_t count = 1;
    for (int64_t i = axis; i < xType.getRank(); ++i)
      count *= xType.getDimSize(i);
    Value sum = sumTrailing(rewriter, loc, x, axis);
    Value centered = buildElementwise(
        rewriter, loc, stType, ValueRange{x, sum},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value mean = b.create<arith::DivFOp>(l, args[1],
                                               createScalar(b, l, st, count));
          return b.create<arith::SubFOp>(l, args[0], mean).getResult();
        });
    Value sq = buildElementwise(
        rewriter, loc, stType, centered,
        [&](OpBuilder &b, Location l, ValueRange args) {
          return b.create<arith::MulFOp>(l, args[0], args[0]).getResult();
        });
    Value var = sumTrailing(rewriter, loc, sq, axis);
    SmallVector<Value> inputs{centered, var, op.getScale()};
    bool hasB = !onnx::isNoValue(op.getB());
    if (hasB)
      inputs.push_back(op.getB());
    double eps = op.getEpsilon().convertToDouble();
    Value result = buildElementwise(
        rewriter, loc, tensorType(op.getY()), inputs,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = b.create<arith::DivFOp>(l, args[1],
                                            createScalar(b, l, st, count));
          Value denom = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, v, createScalar(b, l, st, eps)));
          Value norm = b.create<arith::DivFOp>(l, args[0], denom);
          norm = convertScalar(b, l, norm, et, false, false);
          Value y = b.create<arith::MulFOp>(l, norm, args[2]);
          if (hasB)
            y = b.create<arith::AddFOp>(l, y, args[3]);
          return y;
        });
    SmallVector<Value> results{result};
    // Mean = sum / n and InvStdDev = 1 / sqrt(var + eps), when asked for.
    auto statType = cast<RankedTensorType>(sum.getType());
    if (op->getNumResults() > 1)
      results.push_back(
          buildElementwise(rewriter, loc, statType, sum,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return b
                                 .create<arith::DivFOp>(
                                     l, args[0], createScalar(b, l, st, count))
                                 .getResult();
                           }));
    if (op->getNumResults() > 2)
      results.push_back(buildElementwise(
          rewriter, loc, statType, var,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value v = b.create<arith::DivFOp>(l, args[0],
                                              createScalar(b, l, st, count));
            Value s = b.create<math::SqrtOp>(
                l, b.create<arith::AddFOp>(l, v, createScalar(b, l, st, eps)));
            return b.create<arith::DivFOp>(l, createScalar(b, l, st, 1), s)
                .getResult();
          }));
    for (unsigned i = 1; i < results.size(); ++i)
      results[i] =
          reshapeTo(rewriter, loc, results[i], tensorType(op->getResult(i)));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// x - mean(x) over `axes` (which hold `count` elements), and the sum of its
/// squares over them (size-1 dims kept): the two passes of a variance.
static std::pair<Value, Value> centerAndSquare(OpBuilder &b, Location loc,
                                               Value x, ArrayRef<int64_t> axes,
                                               int64_t count) {
  auto type = tensorType(x);
  Type et = type.getElementType();
  Value sum = reduceKeepDims(b, loc, x, axes, ReduceKind::Sum);
  Value centered = buildElementwise(
      b, loc, type, ValueRange{x, sum},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value mean = nb.create<arith::DivFOp>(l, args[1],
                                              createScalar(nb, l, et, count));
        return nb.create<arith::SubFOp>(l, args[0], mean).getResult();
      });
  Value sq = buildElementwise(
      b, loc, type, centered, [&](OpBuilder &nb, Location l, ValueRange args) {
        return nb.create<arith::MulFOp>(l, args[0], args[0]).getResult();
      });
  return {centered, reduceKeepDims(b, loc, sq, axes, ReduceKind::Sum)};
}

struct InstanceNormLowering : OpRewritePattern<onnx::InstanceNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::InstanceNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getInput());
    Type et = xType.getElementType();
    if (!isFloat(et) || xType.getRank() < 3)
      return unsupported(
          op, "InstanceNormalization needs a float [N, C, ...] input");
    SmallVector<int64_t> spatial;
    int64_t count = 1;
    for (int64_t i = 2; i < xType.getRank(); ++i) {
      spatial.push_back(i);
      count *= xType.getDimSize(i);
    }
    auto [centered, var] =
        centerAndSquare(rewriter, loc, op.getInput(), spatial, count);
    SmallVector<int64_t> chan{xType.getDimSize(1)};
    for (int64_t i = 2; i < xType.getRank(); ++i)
      chan.push_back(1);
    auto chanType = RankedTensorType::get(chan, et);
    Value scale = reshapeTo(rewriter, loc, op.getScale(), chanType);
    Value bias = reshapeTo(rewriter, loc, op.getB(), chanType);
    double eps = op.getEpsilon().convertToDouble();
    // scale / sqrt(var + eps) once per (image, channel), then one multiply
    // and add per element (a square root and two divisions per element took
    // 2.4 cycles an element: 128 planes of 56 x 56, 0.22 ms).
    Value factor = buildElementwise(
        rewriter, loc, tensorType(var), ValueRange{var, scale},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = b.create<arith::DivFOp>(l, args[0],
                                            createScalar(b, l, et, count));
          Value d = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, v, createScalar(b, l, et, eps)));
          return b.create<arith::DivFOp>(l, args[1], d).getResult();
        });
    Value y = buildElementwise(
        rewriter, loc, xType, ValueRange{centered, factor, bias},
        [&](OpBuilder &b, Location l, ValueRange args) {
          return b
              .create<arith::AddFOp>(
                  l, b.create<arith::MulFOp>(l, args[0], args[1]), args[2])
              .getResult();
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// MeanVarianceNormalization: (X - mean) / (sqrt(variance) + 1e-9) over
/// `axes` (default [0, 2, 3]), as ONNX's function body. The variance is the
/// mean of the squared deviations, equal to its E[X^2] - E[X]^2 without the
/// cancellation; f16 and bf16 are computed in f32.
struct MeanVarianceNormalizationLowering
    : OpRewritePattern<onnx::MeanVarianceNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MeanVarianceNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    Type et = xType.getElementType();
    int64_t rank = xType.getRank();
    if (!isFloat(et))
      return unsupported(op, "MeanVarianceNormalization needs a float input");
    SmallVector<int64_t> axes = op.getAxes() ? getI64Array(op.getAxes(), 0, 0)
                                             : SmallVector<int64_t>{0, 2, 3};
    for (int64_t &a : axes) {
      if (a < -rank || a >= rank)
        return unsupported(op, "an axis is out of range");
      a = onnx::normalizeAxis(a, rank);
    }
    llvm::sort(axes);
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    int64_t count = 1;
    for (int64_t a : axes)
      count *= xType.getDimSize(a);

    Type at = et.getIntOrFloatBitWidth() < 32 ? rewriter.getF32Type() : et;
    auto atType = RankedTensorType::get(xType.getShape(), at);
    Value x = op.getX();
    if (at != et)
      x = buildElementwise(rewriter, loc, atType, x,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return convertScalar(b, l, args[0], at, false,
                                                  false);
                           });
    auto [centered, var] = centerAndSquare(rewriter, loc, x, axes, count);
    Value y = buildElementwise(
        rewriter, loc, xType, ValueRange{centered, var},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = b.create<arith::DivFOp>(l, args[1],
                                            createScalar(b, l, at, count));
          Value d = b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, v),
                                            createScalar(b, l, at, 1e-9));
          return convertScalar(b, l, b.create<arith::DivFOp>(l, args[0], d), et,
                               false, false);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// LRN: y = x / (bias + alpha / size * sum of squares over a channel
/// window)^beta, the window [c - floor((size-1)/2), c + ceil((size-1)/2)].
struct LRNLowering : OpRewritePattern<onnx::LRNOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::LRNOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    Type et = xType.getElementType();
    int64_t rank = xType.getRank(), size = op.getSize();
    if (!isFloat(et) || rank < 2 || size < 1)
      return unsupported(op,
                         "LRN needs a float [N, C, ...] input and size >= 1");
    int64_t channels = xType.getDimSize(1), before = (size - 1) / 2;
    Value x = op.getX();
    // Loops: the output dims, then the window offset k (reduction).
    SmallVector<AffineMap> maps{
        AffineMap::getMultiDimIdentityMap(rank + 1, getContext())
            .getMajorSubMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Value init =
        createFilled(rewriter, loc, xType, createScalar(rewriter, loc, et, 0));
    auto window = RankedTensorType::get({size}, et);
    Value sizeTensor = createEmpty(rewriter, loc, window);
    maps.insert(maps.begin(),
                AffineMap::get(rank + 1, 0, {rewriter.getAffineDimExpr(rank)},
                               getContext()));
    auto sums = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{xType}, ValueRange{sizeTensor}, init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < rank; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          Value k = b.create<linalg::IndexOp>(l, rank);
          Value c = b.create<arith::SubIOp>(
              l, b.create<arith::AddIOp>(l, at[1], k),
              b.create<arith::ConstantIndexOp>(l, before));
          Value zero = b.create<arith::ConstantIndexOp>(l, 0);
          Value inside = b.create<arith::AndIOp>(
              l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, c, zero),
              b.create<arith::CmpIOp>(
                  l, arith::CmpIPredicate::slt, c,
                  b.create<arith::ConstantIndexOp>(l, channels)));
          Value cc = b.create<arith::MinSIOp>(
              l, b.create<arith::MaxSIOp>(l, c, zero),
              b.create<arith::ConstantIndexOp>(l, channels - 1));
          at[1] = cc;
          Value v = b.create<tensor::ExtractOp>(l, x, at);
          Value sq = b.create<arith::MulFOp>(l, v, v);
          sq = b.create<arith::SelectOp>(l, inside, sq,
                                         createScalar(b, l, et, 0));
          b.create<linalg::YieldOp>(
              l,
              ValueRange{b.create<arith::AddFOp>(l, args[1], sq).getResult()});
        });
    double alpha = op.getAlpha().convertToDouble(),
           beta = op.getBeta().convertToDouble(),
           bias = op.getBias().convertToDouble();
    Value y = buildElementwise(
        rewriter, loc, xType, ValueRange{x, sums.getResult(0)},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value d = b.create<arith::AddFOp>(
              l, createScalar(b, l, et, bias),
              b.create<arith::MulFOp>(l, createScalar(b, l, et, alpha / size),
                                      args[1]));
          d = b.create<math::PowFOp>(l, d, createScalar(b, l, et, beta));
          return b.create<arith::DivFOp>(l, args[0], d).getResult();
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void kiln::populateNNPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ConvLowering, ConvTransposeLowering,
               PoolLowering<onnx::MaxPoolOp, true>,
               PoolLowering<onnx::AveragePoolOp, false>,
               GlobalPoolLowering<onnx::GlobalAveragePoolOp, false>,
               GlobalPoolLowering<onnx::GlobalMaxPoolOp, true>, LpPoolLowering,
               GlobalLpPoolLowering, MaxUnpoolLowering, BatchNormLowering,
               LayerNormLowering, InstanceNormLowering, LRNLowering>(ctx);
  patterns.add<MeanVarianceNormalizationLowering>(ctx);
}
