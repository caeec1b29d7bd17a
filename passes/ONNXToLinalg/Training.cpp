//===- Training.cpp - Adagrad, Adam and Momentum --------------------------===//
//
// This file lowers the optimizers of ONNX's training-preview domain. The
// learning rate R and the update count T are scalars read with
// tensor.extract; the per-step factors that depend only on them (Adagrad's
// decayed rate, Adam's bias correction, Momentum's first-step beta) are
// computed once in f64, then each optimized tensor X with its gradient and
// accumulators becomes one linalg.generic producing the new X and the new
// accumulators, in X's own float type, in the order of operations of ONNX's
// reference implementations.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace kiln;

namespace {

/// R (a float scalar) as f64 and T (an int64 scalar) as i64, read at run
/// time. Fails with a diagnostic on other types.
LogicalResult readRateAndCount(Operation *op, OpBuilder &b, Value R, Value T,
                               Value &rate, Value &count) {
  auto rType = tensorType(R), tType = tensorType(T);
  if (rType.getNumElements() != 1 || !isFloat(rType.getElementType()))
    return unsupported(op, "the learning rate R must be a float scalar");
  if (tType.getNumElements() != 1 || !tType.getElementType().isInteger(64))
    return unsupported(op, "the update count T must be an int64 scalar");
  Location loc = op->getLoc();
  rate = extractElement(b, loc, R);
  if (rate.getType() != b.getF64Type())
    rate = b.create<arith::ExtFOp>(loc, b.getF64Type(), rate);
  count = extractI64(b, loc, T, 0);
  return success();
}

/// Checks that `inputs` hold `groups` lists of equal length n >= 1 and the
/// results `groups - 1` lists, each tensor of a float type and of the type
/// of its X. Returns n, or 0 after a diagnostic.
int64_t checkGroups(Operation *op, ValueRange inputs, ValueRange outputs,
                    int64_t groups) {
  int64_t n = inputs.size() / groups;
  if (n == 0 || (int64_t)inputs.size() != groups * n) {
    (void)unsupported(op, "expects the inputs R, T, then " + Twine(groups) +
                              " lists of tensors of equal length");
    return 0;
  }
  if ((int64_t)outputs.size() != (groups - 1) * n) {
    (void)unsupported(op, "expects " + Twine((groups - 1) * n) +
                              " outputs for " + Twine(n) +
                              " optimized tensors");
    return 0;
  }
  for (int64_t i = 0; i < n; ++i) {
    Type xType = inputs[i].getType();
    if (!isFloat(tensorType(inputs[i]).getElementType())) {
      (void)unsupported(op, "optimized tensors must be of a float type");
      return 0;
    }
    for (int64_t g = 1; g < groups; ++g)
      if (inputs[g * n + i].getType() != xType) {
        (void)unsupported(op, "the gradients and accumulators must have the "
                              "shape and type of their tensor");
        return 0;
      }
    for (int64_t g = 0; g + 1 < groups; ++g)
      if (outputs[g * n + i].getType() != xType) {
        (void)unsupported(op, "the outputs must have the shape and type of "
                              "their tensor");
        return 0;
      }
  }
  return n;
}

/// One linalg.generic over the shape of `inputs[0]` whose body maps the
/// scalars of `inputs` to `numResults` scalars of the same type.
SmallVector<Value> buildUpdate(
    OpBuilder &b, Location loc, ValueRange inputs, unsigned numResults,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  auto type = tensorType(inputs[0]);
  SmallVector<Type> resultTypes(numResults, type);
  SmallVector<Value> inits;
  for (unsigned i = 0; i < numResults; ++i)
    inits.push_back(createEmpty(b, loc, type));
  SmallVector<AffineMap> maps(
      inputs.size() + numResults,
      AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultTypes, inputs, inits, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        nb.create<linalg::YieldOp>(
            nl, body(nb, nl, args.take_front(inputs.size())));
      });
  return SmallVector<Value>(generic.getResults());
}

/// A scalar computed in f64, converted to the element type `et` (R itself
/// when it was only widened from `et`).
Value toElement(OpBuilder &b, Location loc, Value v, Type et) {
  if (v.getType() == et)
    return v;
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    if (ext.getIn().getType() == et)
      return ext.getIn();
  return b.create<arith::TruncFOp>(loc, et, v);
}

Value f64Constant(OpBuilder &b, Location loc, double v) {
  return b.create<arith::ConstantFloatOp>(loc, APFloat(v), b.getF64Type());
}

/// G_regularized = norm_coefficient * X + G.
Value regularize(OpBuilder &b, Location loc, Value norm, Value x, Value g) {
  return b.create<arith::AddFOp>(loc, b.create<arith::MulFOp>(loc, norm, x), g);
}

struct AdagradLowering : OpRewritePattern<onnx::AdagradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::AdagradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ValueRange inputs = op.getInputs();
    int64_t n = checkGroups(op, inputs, op.getResults(), 3);
    if (n == 0)
      return failure();
    Value rate, count;
    if (failed(
            readRateAndCount(op, rewriter, op.getR(), op.getT(), rate, count)))
      return failure();
    // r = R / (1 + T * decay_factor)
    Value t =
        rewriter.create<arith::SIToFPOp>(loc, rewriter.getF64Type(), count);
    Value decayed = rewriter.create<arith::DivFOp>(
        loc, rate,
        rewriter.create<arith::AddFOp>(
            loc, f64Constant(rewriter, loc, 1.0),
            rewriter.create<arith::MulFOp>(
                loc, t,
                f64Constant(rewriter, loc,
                            op.getDecayFactor().convertToDouble()))));
    double norm = op.getNormCoefficient().convertToDouble();
    double epsilon = op.getEpsilon().convertToDouble();

    SmallVector<Value> newX, newH;
    for (int64_t i = 0; i < n; ++i) {
      Type et = tensorType(inputs[i]).getElementType();
      Value r = toElement(rewriter, loc, decayed, et);
      Value normC = createScalar(rewriter, loc, et, norm);
      Value epsC = createScalar(rewriter, loc, et, epsilon);
      auto results = buildUpdate(
          rewriter, loc, {inputs[i], inputs[n + i], inputs[2 * n + i]}, 2,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value x = a[0], g = a[1], h = a[2];
            Value gr = regularize(b, l, normC, x, g);
            Value h2 = b.create<arith::AddFOp>(
                l, h, b.create<arith::MulFOp>(l, gr, gr));
            Value hs =
                b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, h2), epsC);
            Value step = b.create<arith::DivFOp>(
                l, b.create<arith::MulFOp>(l, r, gr), hs);
            return {b.create<arith::SubFOp>(l, x, step), h2};
          });
      newX.push_back(results[0]);
      newH.push_back(results[1]);
    }
    newX.append(newH);
    rewriter.replaceOp(op, newX);
    return success();
  }
};

struct AdamLowering : OpRewritePattern<onnx::AdamOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::AdamOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ValueRange inputs = op.getInputs();
    int64_t n = checkGroups(op, inputs, op.getResults(), 4);
    if (n == 0)
      return failure();
    Value rate, count;
    if (failed(
            readRateAndCount(op, rewriter, op.getR(), op.getT(), rate, count)))
      return failure();
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    double norm = op.getNormCoefficient().convertToDouble();
    double normPost = op.getNormCoefficientPost().convertToDouble();
    double epsilon = op.getEpsilon().convertToDouble();

    // R_adjusted = T > 0 ? R * Sqrt(1 - beta**T) / (1 - alpha**T) : R
    Value t =
        rewriter.create<arith::SIToFPOp>(loc, rewriter.getF64Type(), count);
    Value one = f64Constant(rewriter, loc, 1.0);
    Value betaT =
        rewriter.create<math::PowFOp>(loc, f64Constant(rewriter, loc, beta), t);
    Value alphaT = rewriter.create<math::PowFOp>(
        loc, f64Constant(rewriter, loc, alpha), t);
    Value corrected = rewriter.create<arith::DivFOp>(
        loc,
        rewriter.create<arith::MulFOp>(
            loc, rate,
            rewriter.create<math::SqrtOp>(
                loc, rewriter.create<arith::SubFOp>(loc, one, betaT))),
        rewriter.create<arith::SubFOp>(loc, one, alphaT));
    Value positive = rewriter.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::sgt, count,
        rewriter.create<arith::ConstantIntOp>(loc, 0, 64));
    Value adjusted =
        rewriter.create<arith::SelectOp>(loc, positive, corrected, rate);

    SmallVector<Value> newX, newV, newH;
    for (int64_t i = 0; i < n; ++i) {
      Type et = tensorType(inputs[i]).getElementType();
      Value r = toElement(rewriter, loc, adjusted, et);
      auto c = [&](double v) { return createScalar(rewriter, loc, et, v); };
      Value normC = c(norm), alphaC = c(alpha), alphaRest = c(1.0 - alpha),
            betaC = c(beta), betaRest = c(1.0 - beta), epsC = c(epsilon),
            postC = c(1.0 - normPost);
      auto results = buildUpdate(
          rewriter, loc,
          {inputs[i], inputs[n + i], inputs[2 * n + i], inputs[3 * n + i]}, 3,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value x = a[0], g = a[1], v = a[2], h = a[3];
            Value gr = regularize(b, l, normC, x, g);
            Value v2 = b.create<arith::AddFOp>(
                l, b.create<arith::MulFOp>(l, alphaC, v),
                b.create<arith::MulFOp>(l, alphaRest, gr));
            Value h2 = b.create<arith::AddFOp>(
                l, b.create<arith::MulFOp>(l, betaC, h),
                b.create<arith::MulFOp>(l, betaRest,
                                        b.create<arith::MulFOp>(l, gr, gr)));
            Value hs =
                b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, h2), epsC);
            Value x2 = b.create<arith::SubFOp>(
                l, x,
                b.create<arith::MulFOp>(l, r,
                                        b.create<arith::DivFOp>(l, v2, hs)));
            return {b.create<arith::MulFOp>(l, postC, x2), v2, h2};
          });
      newX.push_back(results[0]);
      newV.push_back(results[1]);
      newH.push_back(results[2]);
    }
    newX.append(newV);
    newX.append(newH);
    rewriter.replaceOp(op, newX);
    return success();
  }
};

struct MomentumLowering : OpRewritePattern<onnx::MomentumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MomentumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    StringRef mode = op.getMode();
    if (mode != "standard" && mode != "nesterov")
      return unsupported(op, Twine("mode must be \"standard\" or \"nesterov\", "
                                   "not \"") +
                                 mode + "\"");
    bool nesterov = mode == "nesterov";
    ValueRange inputs = op.getInputs();
    int64_t n = checkGroups(op, inputs, op.getResults(), 3);
    if (n == 0)
      return failure();
    Value rate, count;
    if (failed(
            readRateAndCount(op, rewriter, op.getR(), op.getT(), rate, count)))
      return failure();
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    double norm = op.getNormCoefficient().convertToDouble();

    // beta_adjusted = T > 0 ? beta : 1
    Value positive = rewriter.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::sgt, count,
        rewriter.create<arith::ConstantIntOp>(loc, 0, 64));

    SmallVector<Value> newX, newV;
    for (int64_t i = 0; i < n; ++i) {
      Type et = tensorType(inputs[i]).getElementType();
      Value r = toElement(rewriter, loc, rate, et);
      auto c = [&](double v) { return createScalar(rewriter, loc, et, v); };
      Value normC = c(norm), alphaC = c(alpha);
      Value betaC =
          rewriter.create<arith::SelectOp>(loc, positive, c(beta), c(1.0));
      auto results = buildUpdate(
          rewriter, loc, {inputs[i], inputs[n + i], inputs[2 * n + i]}, 2,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value x = a[0], g = a[1], v = a[2];
            Value gr = regularize(b, l, normC, x, g);
            Value v2 = b.create<arith::AddFOp>(
                l, b.create<arith::MulFOp>(l, alphaC, v),
                b.create<arith::MulFOp>(l, betaC, gr));
            Value direction =
                nesterov ? b.create<arith::AddFOp>(
                               l, gr, b.create<arith::MulFOp>(l, alphaC, v2))
                         : v2;
            return {b.create<arith::SubFOp>(
                        l, x, b.create<arith::MulFOp>(l, r, direction)),
                    v2};
          });
      newX.push_back(results[0]);
      newV.push_back(results[1]);
    }
    newX.append(newV);
    rewriter.replaceOp(op, newX);
    return success();
  }
};

} // namespace

void kiln::populateTrainingPatterns(RewritePatternSet &patterns) {
  patterns.add<AdagradLowering, AdamLowering, MomentumLowering>(
      patterns.getContext());
}
