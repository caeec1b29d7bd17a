//===- Random.cpp - Dropout, the op that draws random numbers -------------===//
//
// This file lowers Dropout. At inference (training_mode absent or false) it
// is the identity with an all-true mask. In training mode each element is
// kept when a uniform draw in [0, 1) is at least `ratio`, and kept elements
// are scaled by 1 / (1 - ratio). The draw is a counter-based hash of the
// seed and the element's flat index (SplitMix64's finaliser), so a model's
// outputs are the same from run to run, and ratio 0 keeps every element
// exactly. ONNX leaves the generator open: masks differ from numpy's.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

namespace {

/// SplitMix64's finaliser of `x` (i64), to a float in [0, 1) with 24 bits.
Value uniformFromCounter(OpBuilder &b, Location loc, Value x) {
  Type i64 = b.getI64Type();
  auto c = [&](uint64_t v) {
    return b.create<arith::ConstantIntOp>(loc, (int64_t)v, i64);
  };
  auto mixStep = [&](Value z, uint64_t shift, uint64_t mul) {
    Value s = b.create<arith::ShRUIOp>(loc, z, c(shift));
    return b.create<arith::MulIOp>(loc, b.create<arith::XOrIOp>(loc, z, s),
                                   c(mul));
  };
  Value z = mixStep(x, 30, 0xBF58476D1CE4E5B9ull);
  z = mixStep(z, 27, 0x94D049BB133111EBull);
  z = b.create<arith::XOrIOp>(loc, z,
                              b.create<arith::ShRUIOp>(loc, z, c(31)));
  Value top24 = b.create<arith::ShRUIOp>(loc, z, c(40));
  Value f = b.create<arith::UIToFPOp>(loc, b.getF32Type(), top24);
  return b.create<arith::MulFOp>(
      loc, f, b.create<arith::ConstantFloatOp>(loc, APFloat(0x1.0p-24f),
                                               b.getF32Type()));
}

struct DropoutLowering : OpRewritePattern<onnx::DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DropoutOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getData();
    auto type = tensorType(x);
    Type et = type.getElementType();
    auto maskType = op.getMask() ? tensorType(op.getMask()) : RankedTensorType();

    // Inference: the identity, whatever the ratio.
    bool inference = onnx::isNoValue(op.getTrainingMode());
    if (auto data = getConstantData(op.getTrainingMode()))
      inference = !data.getSplatValue<bool>();
    if (inference) {
      SmallVector<Value> results{x};
      if (maskType)
        results.push_back(
            createFilled(rewriter, loc, maskType,
                         createScalar(rewriter, loc,
                                      maskType.getElementType(), 1)));
      rewriter.replaceOp(op, results);
      return success();
    }
    if (!isFloat(et))
      return unsupported(op, "Dropout needs a float input");

    // ratio (default 0.5) as f32; the training flag, when it is run-time.
    FloatType f32 = rewriter.getF32Type();
    Value ratio = rewriter.create<arith::ConstantFloatOp>(loc, APFloat(0.5f),
                                                          f32);
    if (!onnx::isNoValue(op.getRatio())) {
      auto ratioType = tensorType(op.getRatio());
      if (ratioType.getNumElements() != 1 ||
          !isFloat(ratioType.getElementType()))
        return unsupported(op, "Dropout's ratio must be a float scalar");
      ratio = convertScalar(rewriter, loc,
                            extractElement(rewriter, loc, op.getRatio()), f32,
                            false, false);
    }
    Value training = Value();
    if (!getConstantData(op.getTrainingMode()))
      training = extractElement(rewriter, loc, op.getTrainingMode());
    Value one = rewriter.create<arith::ConstantFloatOp>(loc, APFloat(1.0f),
                                                        f32);
    Value scale = rewriter.create<arith::DivFOp>(
        loc, one, rewriter.create<arith::SubFOp>(loc, one, ratio));
    int64_t seed = op.getSeed() ? (int64_t)*op.getSeed() : 0;

    // One generic over the input: y and, when asked for, the mask.
    int64_t rank = type.getRank();
    SmallVector<AffineMap> maps(maskType ? 3 : 2,
                                rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    SmallVector<Value> outs{createEmpty(rewriter, loc, type)};
    if (maskType)
      outs.push_back(createEmpty(rewriter, loc, maskType));
    SmallVector<Type> resultTypes{type};
    if (maskType)
      resultTypes.push_back(maskType);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultTypes, ValueRange{x}, outs, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          // The flat index of the element, then the draw.
          Type i64 = b.getI64Type();
          Value flat = b.create<arith::ConstantIntOp>(l, 0, i64);
          for (int64_t d = 0; d < rank; ++d) {
            Value idx = b.create<arith::IndexCastOp>(
                l, i64, b.create<linalg::IndexOp>(l, d));
            flat = b.create<arith::AddIOp>(
                l,
                b.create<arith::MulIOp>(
                    l, flat,
                    b.create<arith::ConstantIntOp>(l, type.getDimSize(d), i64)),
                idx);
          }
          Value counter = b.create<arith::AddIOp>(
              l, flat,
              b.create<arith::ConstantIntOp>(
                  l, (int64_t)((uint64_t)seed * 0x9E3779B97F4A7C15ull), i64));
          Value u = uniformFromCounter(b, l, counter);
          Value keep =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, u, ratio);
          if (training)
            keep = b.create<arith::OrIOp>(
                l, keep,
                b.create<arith::XOrIOp>(
                    l, training,
                    b.create<arith::ConstantIntOp>(l, 1, b.getI1Type())));
          // Kept elements are scaled, unless training is off at run time.
          Value s = scale;
          if (training)
            s = b.create<arith::SelectOp>(l, training, scale, one);
          Value scaled = b.create<arith::MulFOp>(
              l, args[0], convertScalar(b, l, s, et, false, false));
          Value zero = createScalar(b, l, et, 0);
          SmallVector<Value> yields{
              b.create<arith::SelectOp>(l, keep, scaled, zero)};
          if (maskType)
            yields.push_back(
                convertScalar(b, l, keep, maskType.getElementType(), false, false));
          b.create<linalg::YieldOp>(l, yields);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void kiln::populateRandomPatterns(RewritePatternSet &patterns) {
  patterns.add<DropoutLowering>(patterns.getContext());
}
