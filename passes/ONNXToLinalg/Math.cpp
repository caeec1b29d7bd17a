//===- Math.cpp - Lower onnx math ops to linalg ---------------------------===//
//
// This file implements the lowering of the onnx math family: elementwise
// ops as broadcasting linalg.generic ops, MatMul and Gemm as linalg.matmul /
// linalg.batch_matmul (constant weights transposed at compile time), Softmax
// and the reductions as reduction generics that accumulate in f32 or wider;
// Det is an LU factorisation with partial pivoting in scf.for loops. A
// run-time CumSum axis or ReduceSum axes input picks among the static
// lowerings the result type allows (scf.index_switch), checked by cf.assert.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "llvm/ADT/TypeSwitch.h"

#include <map>

using namespace mlir;
using namespace kiln;

namespace {

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Float-only unary functions and activations.
static Value emitActivation(OpBuilder &b, Location loc, Operation *op,
                            Value x) {
  Type t = x.getType();
  if (!isFloat(t))
    return Value();
  auto c = [&](double v) { return createScalar(b, loc, t, v); };
  auto expm1 = [&](Value v) {
    return b.create<arith::SubFOp>(loc, b.create<math::ExpOp>(loc, v), c(1));
  };
  auto lt = [&](Value a, Value b2) {
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, a, b2);
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](onnx::AcosOp) -> Value {
        Value r = b.create<math::SqrtOp>(
            loc,
            b.create<arith::MulFOp>(loc, b.create<arith::SubFOp>(loc, c(1), x),
                                    b.create<arith::AddFOp>(loc, c(1), x)));
        return b.create<math::Atan2Op>(loc, r, x);
      })
      .Case([&](onnx::AcoshOp) { return b.create<math::AcoshOp>(loc, x); })
      .Case([&](onnx::AsinOp) -> Value {
        // asin(x) = atan2(x, sqrt((1 - x)(1 + x))): MLIR's own asin
        // approximation is off by 1e-2.
        Value r = b.create<math::SqrtOp>(
            loc,
            b.create<arith::MulFOp>(loc, b.create<arith::SubFOp>(loc, c(1), x),
                                    b.create<arith::AddFOp>(loc, c(1), x)));
        return b.create<math::Atan2Op>(loc, x, r);
      })
      .Case([&](onnx::AsinhOp) { return b.create<math::AsinhOp>(loc, x); })
      .Case([&](onnx::AtanOp) { return b.create<math::AtanOp>(loc, x); })
      .Case([&](onnx::AtanhOp) { return b.create<math::AtanhOp>(loc, x); })
      .Case([&](onnx::CosOp) { return b.create<math::CosOp>(loc, x); })
      .Case([&](onnx::CoshOp) { return b.create<math::CoshOp>(loc, x); })
      .Case([&](onnx::SinOp) { return b.create<math::SinOp>(loc, x); })
      .Case([&](onnx::SinhOp) { return b.create<math::SinhOp>(loc, x); })
      .Case([&](onnx::TanOp) { return b.create<math::TanOp>(loc, x); })
      .Case([&](onnx::RoundOp) { return b.create<math::RoundEvenOp>(loc, x); })
      .Case([&](onnx::SignOp) -> Value {
        Value pos = b.create<arith::SelectOp>(loc, lt(c(0), x), c(1), c(0));
        Value s = b.create<arith::SelectOp>(loc, lt(x, c(0)), c(-1), pos);
        // NaN stays NaN.
        Value nan =
            b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
        return b.create<arith::SelectOp>(loc, nan, x, s);
      })
      .Case([&](onnx::SoftplusOp) -> Value {
        // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), stable for large x.
        Value ax = b.create<math::AbsFOp>(loc, x);
        Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, ax));
        return b.create<arith::AddFOp>(
            loc, b.create<arith::MaximumFOp>(loc, x, c(0)),
            b.create<math::Log1pOp>(loc, e));
      })
      .Case([&](onnx::SoftsignOp) -> Value {
        return b.create<arith::DivFOp>(
            loc, x,
            b.create<arith::AddFOp>(loc, c(1), b.create<math::AbsFOp>(loc, x)));
      })
      .Case([&](onnx::HardSwishOp) -> Value {
        Value h = b.create<arith::AddFOp>(
            loc, b.create<arith::MulFOp>(loc, x, c(1.0 / 6)), c(0.5));
        h = b.create<arith::MinimumFOp>(
            loc, b.create<arith::MaximumFOp>(loc, h, c(0)), c(1));
        return b.create<arith::MulFOp>(loc, x, h);
      })
      .Case([&](onnx::EluOp elu) -> Value {
        Value alpha = c(elu.getAlpha().convertToDouble());
        return b.create<arith::SelectOp>(
            loc, lt(x, c(0)), b.create<arith::MulFOp>(loc, alpha, expm1(x)), x);
      })
      .Case([&](onnx::SeluOp selu) -> Value {
        Value alpha = c(selu.getAlpha().convertToDouble());
        Value gamma = c(selu.getGamma().convertToDouble());
        Value neg = b.create<arith::MulFOp>(loc, alpha, expm1(x));
        Value v = b.create<arith::SelectOp>(loc, lt(c(0), x), x, neg);
        return b.create<arith::MulFOp>(loc, gamma, v);
      })
      .Case([&](onnx::CeluOp celu) -> Value {
        Value alpha = c(celu.getAlpha().convertToDouble());
        Value e = b.create<arith::MulFOp>(
            loc, alpha, expm1(b.create<arith::DivFOp>(loc, x, alpha)));
        return b.create<arith::AddFOp>(
            loc, b.create<arith::MaximumFOp>(loc, x, c(0)),
            b.create<arith::MinimumFOp>(loc, e, c(0)));
      })
      .Case([&](onnx::ThresholdedReluOp tr) -> Value {
        Value alpha = c(tr.getAlpha().convertToDouble());
        return b.create<arith::SelectOp>(loc, lt(alpha, x), x, c(0));
      })
      .Case([&](onnx::ShrinkOp sh) -> Value {
        Value bias = c(sh.getBias().convertToDouble());
        Value lambd = c(sh.getLambd().convertToDouble());
        Value low = b.create<arith::AddFOp>(loc, x, bias);
        Value high = b.create<arith::SubFOp>(loc, x, bias);
        Value r = b.create<arith::SelectOp>(loc, lt(lambd, x), high, c(0));
        return b.create<arith::SelectOp>(
            loc, lt(x, b.create<arith::NegFOp>(loc, lambd)), low, r);
      })
      .Default([](Operation *) { return Value(); });
}

/// Emits the scalar op for an elementwise onnx op. Returns null for element
/// types the op does not support.
static Value emitScalar(OpBuilder &b, Location loc, Operation *op,
                        ValueRange args) {
  Value x = args[0];
  Type t = x.getType();
  bool f = isFloat(t);
  bool u = isUnsignedOperand(op, 0);
  // x <pred> args[1], with the float, signed or unsigned predicate.
  auto compare = [&](arith::CmpFPredicate fp, arith::CmpIPredicate sp,
                     arith::CmpIPredicate up) -> Value {
    if (f)
      return b.create<arith::CmpFOp>(loc, fp, x, args[1]);
    return b.create<arith::CmpIOp>(loc, u ? up : sp, x, args[1]);
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](onnx::AbsOp) -> Value {
        if (u)
          return x;
        return f ? b.create<math::AbsFOp>(loc, x).getResult()
                 : b.create<math::AbsIOp>(loc, x).getResult();
      })
      .Case([&](onnx::NegOp) -> Value {
        return f ? b.create<arith::NegFOp>(loc, x).getResult()
                 : b.create<arith::SubIOp>(loc, createScalar(b, loc, t, 0), x)
                       .getResult();
      })
      .Case([&](onnx::ReluOp) -> Value {
        Value zero = createScalar(b, loc, t, 0);
        if (u)
          return x;
        return f ? b.create<arith::MaximumFOp>(loc, x, zero).getResult()
                 : b.create<arith::MaxSIOp>(loc, x, zero).getResult();
      })
      .Case([&](onnx::NotOp) -> Value {
        return b.create<arith::XOrIOp>(loc, x, createScalar(b, loc, t, 1));
      })
      .Case([&](onnx::CeilOp) -> Value {
        return f ? b.create<math::CeilOp>(loc, x).getResult() : x;
      })
      .Case([&](onnx::FloorOp) -> Value {
        return f ? b.create<math::FloorOp>(loc, x).getResult() : x;
      })
      .Case([&](onnx::ErfOp) -> Value {
        return f ? b.create<math::ErfOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::ExpOp) -> Value {
        return f ? b.create<math::ExpOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::LogOp) -> Value {
        return f ? b.create<math::LogOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::SqrtOp) -> Value {
        return f ? b.create<math::SqrtOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::TanhOp) -> Value {
        return f ? b.create<math::TanhOp>(loc, x).getResult() : Value();
      })
      .Case([&](onnx::ReciprocalOp) -> Value {
        return f ? b.create<arith::DivFOp>(loc, createScalar(b, loc, t, 1), x)
                       .getResult()
                 : Value();
      })
      .Case([&](onnx::SigmoidOp) -> Value {
        if (!f)
          return Value();
        Value one = createScalar(b, loc, t, 1);
        Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
        return b.create<arith::DivFOp>(loc, one,
                                       b.create<arith::AddFOp>(loc, one, e));
      })
      .Case([&](onnx::LeakyReluOp lr) -> Value {
        if (!f)
          return Value();
        Value zero = createScalar(b, loc, t, 0);
        Value alpha = createScalar(b, loc, t, lr.getAlpha().convertToDouble());
        Value neg =
            b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, zero);
        return b.create<arith::SelectOp>(
            loc, neg, b.create<arith::MulFOp>(loc, x, alpha), x);
      })
      .Case([&](onnx::HardSigmoidOp hs) -> Value {
        if (!f)
          return Value();
        Value alpha = createScalar(b, loc, t, hs.getAlpha().convertToDouble());
        Value beta = createScalar(b, loc, t, hs.getBeta().convertToDouble());
        Value v = b.create<arith::AddFOp>(
            loc, b.create<arith::MulFOp>(loc, x, alpha), beta);
        v = b.create<arith::MaximumFOp>(loc, v, createScalar(b, loc, t, 0));
        return b.create<arith::MinimumFOp>(loc, v, createScalar(b, loc, t, 1));
      })
      .Case([&](onnx::AddOp) -> Value {
        return f ? b.create<arith::AddFOp>(loc, x, args[1]).getResult()
                 : b.create<arith::AddIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::SubOp) -> Value {
        return f ? b.create<arith::SubFOp>(loc, x, args[1]).getResult()
                 : b.create<arith::SubIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::MulOp) -> Value {
        return f ? b.create<arith::MulFOp>(loc, x, args[1]).getResult()
                 : b.create<arith::MulIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::DivOp) -> Value {
        if (f)
          return b.create<arith::DivFOp>(loc, x, args[1]);
        return u ? b.create<arith::DivUIOp>(loc, x, args[1]).getResult()
                 : b.create<arith::DivSIOp>(loc, x, args[1]).getResult();
      })
      .Case([&](onnx::PowOp) -> Value {
        Value y = args[1];
        bool yu = isUnsignedOperand(op, 1);
        if (f)
          return b.create<math::PowFOp>(loc, x,
                                        convertScalar(b, loc, y, t, yu, false));
        if (!isFloat(y.getType()))
          return b.create<math::IPowIOp>(loc, x,
                                         convertScalar(b, loc, y, t, yu, u));
        // An integer base with a float exponent: through f32, truncated.
        Type f32 = b.getF32Type();
        Value p =
            b.create<math::PowFOp>(loc, convertScalar(b, loc, x, f32, u, false),
                                   convertScalar(b, loc, y, f32, false, false));
        return convertScalar(b, loc, p, t, false, u);
      })
      .Case([&](onnx::BitShiftOp shift) -> Value {
        if (f)
          return Value();
        if (shift.getDirection() == "LEFT")
          return b.create<arith::ShLIOp>(loc, x, args[1]);
        return b.create<arith::ShRUIOp>(loc, x, args[1]);
      })
      .Case([&](onnx::AndOp) -> Value {
        return b.create<arith::AndIOp>(loc, x, args[1]);
      })
      .Case([&](onnx::OrOp) -> Value {
        return b.create<arith::OrIOp>(loc, x, args[1]);
      })
      .Case([&](onnx::EqualOp) -> Value {
        return compare(arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
                       arith::CmpIPredicate::eq);
      })
      .Case([&](onnx::LessOp) -> Value {
        return compare(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                       arith::CmpIPredicate::ult);
      })
      .Case([&](onnx::GreaterOp) -> Value {
        return compare(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                       arith::CmpIPredicate::ugt);
      })
      .Case([&](onnx::GreaterOrEqualOp) -> Value {
        return compare(arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
                       arith::CmpIPredicate::uge);
      })
      .Case([&](onnx::LessOrEqualOp) -> Value {
        return compare(arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
                       arith::CmpIPredicate::ule);
      })
      .Case([&](onnx::XorOp) -> Value {
        return b.create<arith::XOrIOp>(loc, x, args[1]);
      })
      .Case([&](onnx::ModOp mod) -> Value {
        Value y = args[1];
        if (f) {
          Value r = b.create<arith::RemFOp>(loc, x, y);
          if (mod.getFmod())
            return r;
          // Sign of the divisor: add y when r is non-zero and signs differ.
          Value zero = createScalar(b, loc, t, 0);
          Value rNeg =
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, r, zero);
          Value yNeg =
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, y, zero);
          Value nz =
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::ONE, r, zero);
          Value fix = b.create<arith::AndIOp>(
              loc, nz, b.create<arith::XOrIOp>(loc, rNeg, yNeg));
          return b.create<arith::SelectOp>(
              loc, fix, b.create<arith::AddFOp>(loc, r, y), r);
        }
        if (u)
          return b.create<arith::RemUIOp>(loc, x, y);
        Value r = b.create<arith::RemSIOp>(loc, x, y);
        if (mod.getFmod())
          return r;
        Value zero = createScalar(b, loc, t, 0);
        Value rNeg =
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, r, zero);
        Value yNeg =
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, y, zero);
        Value nz =
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, r, zero);
        Value fix = b.create<arith::AndIOp>(
            loc, nz, b.create<arith::XOrIOp>(loc, rNeg, yNeg));
        return b.create<arith::SelectOp>(loc, fix,
                                         b.create<arith::AddIOp>(loc, r, y), r);
      })
      .Case([&](onnx::PReluOp) -> Value {
        if (!f)
          return Value();
        Value zero = createScalar(b, loc, t, 0);
        Value neg =
            b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, zero);
        return b.create<arith::SelectOp>(
            loc, neg, b.create<arith::MulFOp>(loc, x, args[1]), x);
      })
      .Case([&](onnx::MaxOp) -> Value {
        Value v = x;
        for (Value a : args.drop_front())
          v = f   ? b.create<arith::MaximumFOp>(loc, v, a).getResult()
              : u ? b.create<arith::MaxUIOp>(loc, v, a).getResult()
                  : b.create<arith::MaxSIOp>(loc, v, a).getResult();
        return v;
      })
      .Case([&](onnx::MinOp) -> Value {
        Value v = x;
        for (Value a : args.drop_front())
          v = f   ? b.create<arith::MinimumFOp>(loc, v, a).getResult()
              : u ? b.create<arith::MinUIOp>(loc, v, a).getResult()
                  : b.create<arith::MinSIOp>(loc, v, a).getResult();
        return v;
      })
      .Case([&](onnx::SumOp) -> Value {
        Value v = x;
        for (Value a : args.drop_front())
          v = f ? b.create<arith::AddFOp>(loc, v, a).getResult()
                : b.create<arith::AddIOp>(loc, v, a).getResult();
        return v;
      })
      .Case([&](onnx::MeanOp) -> Value {
        if (!f)
          return Value();
        Value v = x;
        for (Value a : args.drop_front())
          v = b.create<arith::AddFOp>(loc, v, a);
        return b.create<arith::DivFOp>(loc, v,
                                       createScalar(b, loc, t, args.size()));
      })
      .Case([&](onnx::IsNaNOp) -> Value {
        return f ? b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x)
                       .getResult()
                 : Value();
      })
      .Case([&](onnx::IsInfOp inf) -> Value {
        if (!f)
          return Value();
        Value pos = createExtremum(b, loc, t, /*lowest=*/false);
        Value neg = createExtremum(b, loc, t, /*lowest=*/true);
        Value r = createScalar(b, loc, b.getI1Type(), 0);
        if (inf.getDetectPositive())
          r = b.create<arith::OrIOp>(
              loc, r,
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x, pos));
        if (inf.getDetectNegative())
          r = b.create<arith::OrIOp>(
              loc, r,
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x, neg));
        return r;
      })
      .Default([&](Operation *) { return emitActivation(b, loc, op, x); });
}

/// Lowers any elementwise onnx op whose operands are all tensors.
template <typename OpTy> struct ElementwiseLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto resultType = tensorType(op->getResult(0));
    bool ok = true;
    Value result =
        buildElementwise(rewriter, op.getLoc(), resultType, op->getOperands(),
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           Value v = emitScalar(b, loc, op, args);
                           if (!v) {
                             ok = false;
                             return args[0];
                           }
                           return v;
                         });
    if (!ok) {
      rewriter.eraseOp(result.getDefiningOp());
      return unsupported(
          op, "element type " +
                  llvm::Twine(mlirTypeString(
                      tensorType(op->getOperand(0)).getElementType())) +
                  " is not supported by this op");
    }
    rewriter.replaceOp(op, result);
    return success();
  }

  static std::string mlirTypeString(Type t) {
    std::string s;
    llvm::raw_string_ostream os(s);
    t.print(os);
    return s;
  }
};

struct ClipLowering : OpRewritePattern<onnx::ClipOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ClipOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> inputs{op.getInput()};
    bool hasMin = !onnx::isNoValue(op.getMin());
    bool hasMax = !onnx::isNoValue(op.getMax());
    if (hasMin)
      inputs.push_back(op.getMin());
    if (hasMax)
      inputs.push_back(op.getMax());
    Type t = tensorType(op.getInput()).getElementType();
    bool u = isUnsignedOperand(op, 0);
    Value result = buildElementwise(
        rewriter, op.getLoc(), tensorType(op.getOutput()), inputs,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value v = args[0];
          unsigned next = 1;
          if (hasMin) {
            Value lo = args[next++];
            v = isFloat(t) ? b.create<arith::MaximumFOp>(loc, v, lo).getResult()
                : u        ? b.create<arith::MaxUIOp>(loc, v, lo).getResult()
                           : b.create<arith::MaxSIOp>(loc, v, lo).getResult();
          }
          if (hasMax) {
            Value hi = args[next++];
            v = isFloat(t) ? b.create<arith::MinimumFOp>(loc, v, hi).getResult()
                : u        ? b.create<arith::MinUIOp>(loc, v, hi).getResult()
                           : b.create<arith::MinSIOp>(loc, v, hi).getResult();
          }
          return v;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct WhereLowering : OpRewritePattern<onnx::WhereOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::WhereOp op,
                                PatternRewriter &rewriter) const override {
    Value result = buildElementwise(
        rewriter, op.getLoc(), tensorType(op.getOutput()), op->getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return b.create<arith::SelectOp>(loc, args[0], args[1], args[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy> struct CastLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Type from = tensorType(op.getInput()).getElementType();
    Type to = tensorType(op.getOutput()).getElementType();
    (void)from;
    bool srcU = isUnsignedOperand(op, 0), dstU = isUnsignedResult(op, 0);
    Value result = buildElementwise(
        rewriter, op.getLoc(), tensorType(op.getOutput()), op.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return convertScalar(b, loc, args[0], to, srcU, dstU);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

/// C = A * B for 2-d A [M,K], B [K,N], accumulating into `init`.
static Value matmul2D(OpBuilder &b, Location loc, Value a, Value bm,
                      Value init) {
  return b
      .create<linalg::MatmulOp>(loc, TypeRange{init.getType()},
                                ValueRange{a, bm}, ValueRange{init})
      .getResult(0);
}

struct MatMulLowering : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto aType = tensorType(op.getA()), bType = tensorType(op.getB());
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    // Integer products wrap, the same for signed and unsigned types.
    if (!isFloat(et) && (!isa<IntegerType>(et) || et.isInteger(1)))
      return unsupported(op, "MatMul needs float or integer inputs");
    Value a = op.getA(), bv = op.getB();
    // Promote 1-d operands as numpy does.
    if (aType.getRank() == 1) {
      aType = RankedTensorType::get({1, aType.getDimSize(0)}, et);
      a = reshapeTo(rewriter, loc, a, aType);
    }
    if (bType.getRank() == 1) {
      bType = RankedTensorType::get({bType.getDimSize(0), 1}, et);
      bv = reshapeTo(rewriter, loc, bv, bType);
    }
    int64_t m = aType.getDimSize(aType.getRank() - 2);
    int64_t k = aType.getDimSize(aType.getRank() - 1);
    int64_t n = bType.getDimSize(bType.getRank() - 1);
    Value zero = createScalar(rewriter, loc, et, 0);
    auto aBatch = aType.getShape().drop_back(2);
    auto bBatch = bType.getShape().drop_back(2);
    int64_t aCount = 1, bCount = 1;
    for (int64_t d : aBatch)
      aCount *= d;
    for (int64_t d : bBatch)
      bCount *= d;

    Value result;
    if (bCount == 1) {
      // [..., M, K] x [K, N]: fold A's batch into M, one matmul.
      auto a2 = RankedTensorType::get({aCount * m, k}, et);
      auto b2 = RankedTensorType::get({k, n}, et);
      auto c2 = RankedTensorType::get({aCount * m, n}, et);
      result = matmul2D(rewriter, loc, reshapeTo(rewriter, loc, a, a2),
                        reshapeTo(rewriter, loc, bv, b2),
                        createFilled(rewriter, loc, c2, zero));
    } else {
      // Broadcast both batch shapes to the result's, then batch_matmul.
      auto batchShape =
          yType.getShape().drop_back((tensorType(op.getA()).getRank() == 1 ||
                                      tensorType(op.getB()).getRank() == 1)
                                         ? 1
                                         : 2);
      int64_t count = 1;
      for (int64_t d : batchShape)
        count *= d;
      auto expand = [&](Value v, RankedTensorType t) {
        SmallVector<int64_t> shape(batchShape.begin(), batchShape.end());
        shape.push_back(t.getDimSize(t.getRank() - 2));
        shape.push_back(t.getDimSize(t.getRank() - 1));
        auto full = RankedTensorType::get(shape, et);
        if (full.getShape() != t.getShape())
          v = buildElementwise(
              rewriter, loc, full, v,
              [](OpBuilder &, Location, ValueRange args) { return args[0]; });
        return reshapeTo(
            rewriter, loc, v,
            RankedTensorType::get(
                {count, shape[shape.size() - 2], shape.back()}, et));
      };
      Value a3 = expand(a, aType), b3 = expand(bv, bType);
      auto c3 = RankedTensorType::get({count, m, n}, et);
      result = rewriter
                   .create<linalg::BatchMatmulOp>(
                       loc, TypeRange{c3}, ValueRange{a3, b3},
                       ValueRange{createFilled(rewriter, loc, c3, zero)})
                   .getResult(0);
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, result, yType));
    return success();
  }
};

struct GemmLowering : OpRewritePattern<onnx::GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GemmOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto yType = tensorType(op.getY());
    Type et = yType.getElementType();
    if (!isFloat(et))
      return unsupported(op, "integer Gemm is not supported yet");
    Value a = op.getA(), bv = op.getB();
    if (op.getTransA())
      a = transpose2D(rewriter, loc, a);
    if (op.getTransB())
      bv = transpose2D(rewriter, loc, bv);
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    // Accumulate into beta * C when C is given, so the bias add is free.
    Value init;
    if (!onnx::isNoValue(op.getC()) && beta != 0.0 && alpha == 1.0) {
      init = buildElementwise(
          rewriter, loc, yType, op.getC(),
          [&](OpBuilder &b, Location l, ValueRange args) {
            if (beta == 1.0)
              return args[0];
            return b
                .create<arith::MulFOp>(l, args[0], createScalar(b, l, et, beta))
                .getResult();
          });
      rewriter.replaceOp(op, matmul2D(rewriter, loc, a, bv, init));
      return success();
    }
    init =
        createFilled(rewriter, loc, yType, createScalar(rewriter, loc, et, 0));
    Value product = matmul2D(rewriter, loc, a, bv, init);
    SmallVector<Value> inputs{product};
    bool hasC = !onnx::isNoValue(op.getC()) && beta != 0.0;
    if (hasC)
      inputs.push_back(op.getC());
    Value result = buildElementwise(
        rewriter, loc, yType, inputs,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = args[0];
          if (alpha != 1.0)
            v = b.create<arith::MulFOp>(l, v, createScalar(b, l, et, alpha));
          if (hasC) {
            Value c = args[1];
            if (beta != 1.0)
              c = b.create<arith::MulFOp>(l, c, createScalar(b, l, et, beta));
            v = b.create<arith::AddFOp>(l, v, c);
          }
          return v;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

/// Normalises and sorts axes; empty means all.
static LogicalResult
normaliseAxes(Operation *op, SmallVectorImpl<int64_t> &axes, int64_t rank) {
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  for (int64_t &a : axes) {
    a = onnx::normalizeAxis(a, rank);
    if (a < 0)
      return unsupported(op, "axis out of range");
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return success();
}

/// What a reduction applies before (to each element) and after (to each
/// sum): ReduceL1 is Abs/None, ReduceL2 Square/Sqrt, ReduceLogSumExp
/// Exp/Log (shifted by the maximum), ReduceMean None/Mean...
enum class PreMap { None, Abs, Square, Exp };
enum class PostMap { None, Mean, Sqrt, Log };

template <typename OpTy, ReduceKind Kind, PreMap Pre = PreMap::None,
          PostMap Post = PostMap::None>
struct ReduceAttrLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getData());
    Type et = type.getElementType();
    bool u = isUnsignedOperand(op, 0);
    bool f = isFloat(et);
    if (!f && (Pre == PreMap::Exp || Post != PostMap::None))
      return unsupported(op, "integer inputs are not supported by this op yet");
    SmallVector<int64_t> axes = getI64Array(op.getAxes(), 0, 0);
    if (failed(normaliseAxes(op, axes, type.getRank())))
      return failure();
    Value x = op.getData();
    // log-sum-exp subtracts the maximum first so exp cannot overflow.
    Value shift;
    if (Pre == PreMap::Exp) {
      shift = reduceKeepDims(rewriter, loc, x, axes, ReduceKind::Max);
      shift = buildElementwise(
          rewriter, loc, tensorType(shift), shift,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            // An all -inf slice keeps -inf; avoid inf - inf = NaN.
            Value inf = createExtremum(b, l, et, true);
            Value isInf = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                                  args[0], inf);
            return b.create<arith::SelectOp>(
                l, isInf, createScalar(b, l, et, 0), args[0]);
          });
      x = buildElementwise(
          rewriter, loc, type, ValueRange{x, shift},
          [&](OpBuilder &b, Location l, ValueRange args) {
            return b
                .create<math::ExpOp>(
                    l, b.create<arith::SubFOp>(l, args[0], args[1]))
                .getResult();
          });
    } else if (Pre != PreMap::None) {
      x = buildElementwise(
          rewriter, loc, type, x,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value v = args[0];
            if (Pre == PreMap::Abs && u)
              return v;
            if (Pre == PreMap::Abs)
              return f ? b.create<math::AbsFOp>(l, v).getResult()
                       : b.create<math::AbsIOp>(l, v).getResult();
            return f ? b.create<arith::MulFOp>(l, v, v).getResult()
                     : b.create<arith::MulIOp>(l, v, v).getResult();
          });
    }
    Value r = reduceKeepDims(rewriter, loc, x, axes, Kind, u);
    if (Post != PostMap::None) {
      int64_t count = 1;
      for (int64_t a : axes)
        count *= type.getDimSize(a);
      SmallVector<Value> inputs{r};
      if (shift)
        inputs.push_back(shift);
      r = buildElementwise(
          rewriter, loc, tensorType(r), inputs,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value v = args[0];
            if (Post == PostMap::Mean)
              return b.create<arith::DivFOp>(l, v,
                                             createScalar(b, l, et, count));
            if (Post == PostMap::Sqrt)
              return b.create<math::SqrtOp>(l, v);
            v = b.create<math::LogOp>(l, v);
            if (args.size() > 1)
              v = b.create<arith::AddFOp>(l, v, args[1]);
            return v;
          });
    }
    rewriter.replaceOp(
        op, reshapeTo(rewriter, loc, r, tensorType(op->getResult(0))));
    return success();
  }
};

/// ArgMax / ArgMin: one generic with two accumulators (value, index).
template <typename OpTy, bool IsMax>
struct ArgLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getData());
    Type et = type.getElementType();
    bool u = isUnsignedOperand(op, 0);
    int64_t rank = type.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    if (axis < 0)
      return unsupported(op, "axis out of range");
    SmallVector<int64_t> shape(type.getShape());
    shape[axis] = 1;
    auto valType = RankedTensorType::get(shape, et);
    auto idxType = RankedTensorType::get(shape, rewriter.getI64Type());
    Value valInit = createFilled(rewriter, loc, valType,
                                 createExtremum(rewriter, loc, et, IsMax, u));
    Value idxInit =
        createFilled(rewriter, loc, idxType,
                     createScalar(rewriter, loc, rewriter.getI64Type(), 0));
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t i = 0; i < rank; ++i) {
      outExprs.push_back(i == axis ? rewriter.getAffineConstantExpr(0)
                                   : rewriter.getAffineDimExpr(i));
      iterators.push_back(i == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
    }
    auto outMap = AffineMap::get(rank, 0, outExprs, rewriter.getContext());
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank), outMap,
                                outMap};
    bool last = op.getSelectLastIndex();
    bool f = isFloat(et);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{valType, idxType}, op.getData(),
        ValueRange{valInit, idxInit}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], best = args[1], bestIdx = args[2];
          Value idx = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, axis));
          Value better;
          if (f) {
            auto pred = IsMax ? (last ? arith::CmpFPredicate::OGE
                                      : arith::CmpFPredicate::OGT)
                              : (last ? arith::CmpFPredicate::OLE
                                      : arith::CmpFPredicate::OLT);
            better = b.create<arith::CmpFOp>(l, pred, x, best);
          } else {
            using P = arith::CmpIPredicate;
            auto pred =
                IsMax ? (last ? (u ? P::uge : P::sge) : (u ? P::ugt : P::sgt))
                      : (last ? (u ? P::ule : P::sle) : (u ? P::ult : P::slt));
            better = b.create<arith::CmpIOp>(l, pred, x, best);
          }
          // The first element always wins, whatever the init compares as.
          Value first =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, idx,
                                      createScalar(b, l, b.getI64Type(), 0));
          better = b.create<arith::OrIOp>(l, better, first);
          b.create<linalg::YieldOp>(
              l,
              ValueRange{b.create<arith::SelectOp>(l, better, x, best),
                         b.create<arith::SelectOp>(l, better, idx, bestIdx)});
        });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, generic.getResult(1),
                                     tensorType(op.getReduced())));
    return success();
  }
};

struct HardmaxLowering : OpRewritePattern<onnx::HardmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::HardmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getInput());
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    if (axis < 0 || !isFloat(type.getElementType()))
      return unsupported(op, "Hardmax needs a float input and a valid axis");
    SmallVector<int64_t> shape(type.getShape());
    shape[axis] = 1;
    auto idxType = RankedTensorType::get(shape, rewriter.getI64Type());
    auto arg = rewriter.create<onnx::ArgMaxOp>(
        loc, idxType, op.getInput(), rewriter.getI64IntegerAttr(axis),
        rewriter.getI64IntegerAttr(1), rewriter.getI64IntegerAttr(0));
    Type et = type.getElementType();
    Value result = buildElementwise(
        rewriter, loc, type, arg.getResult(),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value idx = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, axis));
          Value hit = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, idx,
                                              args[0]);
          return b.create<arith::SelectOp>(l, hit, createScalar(b, l, et, 1),
                                           createScalar(b, l, et, 0));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// CumSum as a masked reduction over a second copy of the axis:
/// y[.., i, ..] = sum_k x[.., k, ..] for k <= i (k < i exclusive; >= reverse),
/// accumulated into `init` (zeros of x's type).
static Value buildCumSum(OpBuilder &b, Location loc, Value x, Value init,
                         int64_t axis, bool exclusive, bool reverse) {
  auto type = tensorType(x);
  Type et = type.getElementType();
  int64_t rank = type.getRank();
  // Loops: the rank output dims, then k.
  SmallVector<AffineExpr> inExprs;
  for (int64_t i = 0; i < rank; ++i)
    inExprs.push_back(b.getAffineDimExpr(i == axis ? rank : i));
  SmallVector<AffineMap> maps{
      AffineMap::get(rank + 1, 0, inExprs, b.getContext()),
      AffineMap::getMultiDimIdentityMap(rank + 1, b.getContext())
          .getMajorSubMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  bool f = isFloat(et);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{type}, x, init, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value i = nb.create<linalg::IndexOp>(l, axis);
        Value k = nb.create<linalg::IndexOp>(l, rank);
        auto pred = reverse ? (exclusive ? arith::CmpIPredicate::ugt
                                         : arith::CmpIPredicate::uge)
                            : (exclusive ? arith::CmpIPredicate::ult
                                         : arith::CmpIPredicate::ule);
        Value take = nb.create<arith::CmpIOp>(l, pred, k, i);
        Value sum =
            f ? nb.create<arith::AddFOp>(l, args[1], args[0]).getResult()
              : nb.create<arith::AddIOp>(l, args[1], args[0]).getResult();
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::SelectOp>(l, take, sum, args[1])});
      });
  return generic.getResult(0);
}

/// A run-time axis picks one of the constant-axis lowerings through an
/// scf.index_switch (the last axis is the default case; the axis is
/// asserted to be in range). Every case accumulates into one buffer made
/// outside the switch, which the memory planner can place.
struct CumSumLowering : OpRewritePattern<onnx::CumSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::CumSumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getX());
    int64_t rank = type.getRank();
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    Value x = op.getX();
    auto zeros = [&] {
      return createFilled(
          rewriter, loc, type,
          createScalar(rewriter, loc, type.getElementType(), 0));
    };
    if (tensorType(op.getAxis()).getNumElements() != 1)
      return unsupported(op, "CumSum axis must be a scalar");
    if (rank == 0)
      return unsupported(op, "CumSum needs an input of rank 1 or more");
    SmallVector<int64_t> axisValues;
    if (succeeded(getConstantInts(op.getAxis(), axisValues))) {
      int64_t axis = onnx::normalizeAxis(axisValues[0], rank);
      if (axis < 0)
        return unsupported(op, "axis out of range");
      rewriter.replaceOp(
          op, buildCumSum(rewriter, loc, x, zeros(), axis, exclusive, reverse));
      return success();
    }
    Value axis =
        runtimeAxis(rewriter, loc, extractI64(rewriter, loc, op.getAxis(), 0),
                    rank, "CumSum");
    if (rank == 1) {
      rewriter.replaceOp(
          op, buildCumSum(rewriter, loc, x, zeros(), 0, exclusive, reverse));
      return success();
    }
    Value init = zeros();
    SmallVector<int64_t> cases;
    for (int64_t a = 0; a + 1 < rank; ++a)
      cases.push_back(a);
    auto sw = rewriter.create<scf::IndexSwitchOp>(
        loc, TypeRange{type},
        rewriter.create<arith::IndexCastOp>(loc, rewriter.getIndexType(), axis),
        cases, cases.size());
    for (int64_t a = 0; a < rank; ++a) {
      Region &region =
          a + 1 < rank ? sw.getCaseRegions()[a] : sw.getDefaultRegion();
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&region.emplaceBlock());
      rewriter.create<scf::YieldOp>(
          loc, buildCumSum(rewriter, loc, x, init, a, exclusive, reverse));
    }
    rewriter.replaceOp(op, sw.getResults());
    return success();
  }
};

/// The axis sets a reduction without keepdims may have used, read off its
/// static types: every way of dropping dims of `in` that leaves `out`, as
/// bitmasks (at most `limit` of them).
static void candidateAxisSets(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                              size_t i, size_t j, uint64_t mask, size_t limit,
                              SmallVectorImpl<uint64_t> &sets) {
  if (sets.size() > limit || in.size() - i < out.size() - j)
    return;
  if (j == out.size()) {
    for (; i < in.size(); ++i)
      mask |= uint64_t(1) << i;
    sets.push_back(mask);
    return;
  }
  if (in[i] == out[j])
    candidateAxisSets(in, out, i + 1, j + 1, mask, limit, sets);
  candidateAxisSets(in, out, i + 1, j, mask | (uint64_t(1) << i), limit, sets);
}

static SmallVector<int64_t> axesOfMask(uint64_t mask, int64_t rank) {
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < rank; ++i)
    if (mask & (uint64_t(1) << i))
      axes.push_back(i);
  return axes;
}

/// ReduceSum whose axes are an input. Constant axes reduce statically. Axes
/// known only at run time (their count is static) become a bitmask of the
/// reduced dims; the static result type admits a set of masks: with
/// keepdims, exactly the dims that became 1 must be reduced (dims of size 1
/// may or may not be); without, the reduced dims are one of the ways the
/// result's dims embed in the input's. The mask is asserted to be allowed,
/// and when several are, an scf.index_switch on it picks the static
/// reduction.
struct ReduceSumLowering : OpRewritePattern<onnx::ReduceSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ReduceSumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getData());
    auto outType = tensorType(op.getReduced());
    int64_t rank = type.getRank();
    SmallVector<int64_t> axes;
    bool hasAxes = !onnx::isNoValue(op.getAxes());
    int64_t count = hasAxes ? tensorType(op.getAxes()).getNumElements() : 0;
    // An empty axes input is known to be empty at compile time.
    if (count != 0 && failed(getConstantInts(op.getAxes(), axes)))
      return lowerRuntimeAxes(op, rewriter);
    if (axes.empty() && op.getNoopWithEmptyAxes()) {
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, op.getData(), outType));
      return success();
    }
    if (failed(normaliseAxes(op, axes, rank)))
      return failure();
    Value r =
        reduceKeepDims(rewriter, loc, op.getData(), axes, ReduceKind::Sum);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, r, outType));
    return success();
  }

private:
  static LogicalResult lowerRuntimeAxes(onnx::ReduceSumOp op,
                                        PatternRewriter &rewriter) {
    Location loc = op.getLoc();
    auto type = tensorType(op.getData());
    auto outType = tensorType(op.getReduced());
    int64_t rank = type.getRank();
    if (rank > 63)
      return unsupported(op, "ReduceSum with run-time axes needs rank < 64");
    // The masks the static types allow, and which bits of the mask matter.
    SmallVector<uint64_t> sets;
    uint64_t care = (uint64_t(1) << rank) - 1;
    if (op.getKeepdims()) {
      if (outType.getRank() != rank)
        return unsupported(op, "ReduceSum result rank differs from its input");
      uint64_t mask = 0;
      for (int64_t i = 0; i < rank; ++i) {
        int64_t n = type.getDimSize(i), m = outType.getDimSize(i);
        if (n == 1)
          care &= ~(uint64_t(1) << i);
        else if (m == 1)
          mask |= uint64_t(1) << i;
        else if (m != n)
          return unsupported(op, "ReduceSum result shape does not fit its "
                                 "input");
      }
      sets.push_back(mask);
    } else {
      constexpr size_t kLimit = 16;
      candidateAxisSets(type.getShape(), outType.getShape(), 0, 0, 0, kLimit,
                        sets);
      if (sets.empty())
        return unsupported(op, "ReduceSum result shape does not fit its input");
      if (sets.size() > kLimit)
        return unsupported(op, "ReduceSum run-time axes fit too many ways");
    }
    // mask = OR of 1 << axis over the run-time axes.
    Type i64 = rewriter.getI64Type();
    Value mask = createScalar(rewriter, loc, i64, 0);
    int64_t count = tensorType(op.getAxes()).getNumElements();
    for (int64_t j = 0; j < count; ++j) {
      Value axis =
          runtimeAxis(rewriter, loc, extractI64(rewriter, loc, op.getAxes(), j),
                      rank, "ReduceSum");
      mask = rewriter.create<arith::OrIOp>(
          loc, mask,
          rewriter.create<arith::ShLIOp>(
              loc, createScalar(rewriter, loc, i64, 1), axis));
    }
    Value cared = rewriter.create<arith::AndIOp>(
        loc, mask, rewriter.create<arith::ConstantIntOp>(loc, care, 64));
    Value ok;
    for (uint64_t set : sets) {
      Value eq = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, cared,
          rewriter.create<arith::ConstantIntOp>(loc, set, 64));
      ok = ok ? rewriter.create<arith::OrIOp>(loc, ok, eq) : eq;
    }
    rewriter.create<cf::AssertOp>(
        loc, ok, "ReduceSum: the axes do not give the static output shape");
    auto reduce = [&](OpBuilder &b, uint64_t set) {
      Value r = reduceKeepDims(b, loc, op.getData(), axesOfMask(set, rank),
                               ReduceKind::Sum);
      return reshapeTo(b, loc, r, outType);
    };
    if (sets.size() == 1) {
      rewriter.replaceOp(op, reduce(rewriter, sets[0]));
      return success();
    }
    // Several sets (only without keepdims): each case sums into one buffer
    // made outside the switch, its map dropping that case's reduced dims.
    Value init =
        createFilled(rewriter, loc, outType,
                     createScalar(rewriter, loc, outType.getElementType(), 0));
    auto reduceInto = [&](OpBuilder &b, uint64_t set) {
      SmallVector<AffineExpr> outExprs;
      SmallVector<utils::IteratorType> iterators;
      for (int64_t i = 0; i < rank; ++i) {
        bool reduced = set & (uint64_t(1) << i);
        if (!reduced)
          outExprs.push_back(b.getAffineDimExpr(i));
        iterators.push_back(reduced ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      }
      SmallVector<AffineMap> maps{
          b.getMultiDimIdentityMap(rank),
          AffineMap::get(rank, 0, outExprs, b.getContext())};
      bool f = isFloat(outType.getElementType());
      return b
          .create<linalg::GenericOp>(
              loc, TypeRange{outType}, op.getData(), init, maps, iterators,
              [&](OpBuilder &nb, Location l, ValueRange args) {
                Value r = f ? nb.create<arith::AddFOp>(l, args[0], args[1])
                                  .getResult()
                            : nb.create<arith::AddIOp>(l, args[0], args[1])
                                  .getResult();
                nb.create<linalg::YieldOp>(l, r);
              })
          .getResult(0);
    };
    SmallVector<int64_t> cases(sets.begin(), sets.end() - 1);
    auto sw = rewriter.create<scf::IndexSwitchOp>(
        loc, TypeRange{outType},
        rewriter.create<arith::IndexCastOp>(loc, rewriter.getIndexType(),
                                            cared),
        cases, cases.size());
    for (size_t c = 0; c < sets.size(); ++c) {
      Region &region =
          c < cases.size() ? sw.getCaseRegions()[c] : sw.getDefaultRegion();
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&region.emplaceBlock());
      rewriter.create<scf::YieldOp>(loc, reduceInto(rewriter, sets[c]));
    }
    rewriter.replaceOp(op, sw.getResults());
    return success();
  }
};

/// Softmax and LogSoftmax: exp(x - max) / sum, along one axis.
template <typename OpTy, bool Log>
struct SoftmaxLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = tensorType(op.getInput());
    Type et = type.getElementType();
    if (!isFloat(et))
      return unsupported(op, "softmax needs a float input");
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    if (axis < 0)
      return unsupported(op, "axis out of range");
    Value x = op.getInput();
    Value max = reduceKeepDims(rewriter, loc, x, axis, ReduceKind::Max);
    Value shifted = buildElementwise(
        rewriter, loc, type, ValueRange{x, max},
        [&](OpBuilder &b, Location l, ValueRange args) {
          return b.create<arith::SubFOp>(l, args[0], args[1]).getResult();
        });
    Value e =
        buildElementwise(rewriter, loc, type, shifted,
                         [&](OpBuilder &b, Location l, ValueRange args) {
                           return b.create<math::ExpOp>(l, args[0]).getResult();
                         });
    Value sum = reduceKeepDims(rewriter, loc, e, axis, ReduceKind::Sum);
    Value result = buildElementwise(
        rewriter, loc, type, ValueRange{Log ? shifted : e, sum},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          if (Log)
            return b.create<arith::SubFOp>(l, args[0],
                                           b.create<math::LogOp>(l, args[1]));
          return b.create<arith::DivFOp>(l, args[0], args[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Det
//===----------------------------------------------------------------------===//

/// An scf.for over [lb, ub) (step 1) carrying `inits`; `body` returns the
/// next values of the carried ones.
static scf::ForOp buildForRange(
    OpBuilder &b, Location loc, Value lb, Value ub, ValueRange inits,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
        body) {
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  return b.create<scf::ForOp>(
      loc, lb, ub, one, inits,
      [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
        nb.create<scf::YieldOp>(l, body(nb, l, iv, args));
      });
}

/// Det by LU factorisation with partial pivoting of each matrix: scf.for
/// loops eliminate the [batch, M, M] matrices in f32 (f64 for f64) in place
/// (bufferization copies a read-only input before the first write); the
/// determinant is the product of the pivots, negated once per row swap. A
/// zero pivot gives 0 without dividing by it.
struct DetLowering : OpRewritePattern<onnx::DetOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DetOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    Type et = xType.getElementType();
    int64_t rank = xType.getRank();
    if (!isFloat(et))
      return unsupported(op, "Det needs a float input");
    if (rank < 2 || xType.getDimSize(rank - 1) != xType.getDimSize(rank - 2))
      return unsupported(op, "Det needs square matrices in the last two dims");
    int64_t m = xType.getDimSize(rank - 1);
    int64_t batch = yType.getNumElements();
    Type at = et.isF64() ? et : rewriter.getF32Type();
    auto workType = RankedTensorType::get({batch, m, m}, at);
    Value work = buildElementwise(
        rewriter, loc, workType,
        reshapeTo(rewriter, loc, op.getX(),
                  RankedTensorType::get({batch, m, m}, et)),
        [&](OpBuilder &b, Location l, ValueRange args) {
          return convertScalar(b, l, args[0], at, false, false);
        });
    auto detType = RankedTensorType::get({batch}, at);
    Value zeroI = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value oneI = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value mI = rewriter.create<arith::ConstantIndexOp>(loc, m);
    Value batchI = rewriter.create<arith::ConstantIndexOp>(loc, batch);

    // One column step of the elimination on matrix `bi`.
    auto column = [&](OpBuilder &b, Location l, Value bi, Value k, Value a,
                      Value det) -> SmallVector<Value> {
      Value zero = createScalar(b, l, at, 0);
      // The row of the largest magnitude at or below the diagonal (the
      // first one on ties).
      auto search = buildForRange(
          b, l, k, mI, ValueRange{createScalar(b, l, at, -1), k},
          [&](OpBuilder &b1, Location l1, Value r, ValueRange c) {
            Value v = b1.create<math::AbsFOp>(
                l1, b1.create<tensor::ExtractOp>(l1, a, ValueRange{bi, r, k}));
            Value take = b1.create<arith::CmpFOp>(l1, arith::CmpFPredicate::OGT,
                                                  v, c[0]);
            return SmallVector<Value>{
                b1.create<arith::SelectOp>(l1, take, v, c[0]),
                b1.create<arith::SelectOp>(l1, take, r, c[1])};
          });
      Value p = search.getResult(1);
      auto swap = buildForRange(
          b, l, k, mI, ValueRange{a},
          [&](OpBuilder &b1, Location l1, Value c, ValueRange t) {
            Value top =
                b1.create<tensor::ExtractOp>(l1, t[0], ValueRange{bi, k, c});
            Value pivotRow =
                b1.create<tensor::ExtractOp>(l1, t[0], ValueRange{bi, p, c});
            Value u = b1.create<tensor::InsertOp>(l1, pivotRow, t[0],
                                                  ValueRange{bi, k, c});
            return SmallVector<Value>{
                b1.create<tensor::InsertOp>(l1, top, u, ValueRange{bi, p, c})};
          });
      a = swap.getResult(0);
      Value swapped =
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, p, k);
      det = b.create<arith::SelectOp>(l, swapped,
                                      b.create<arith::NegFOp>(l, det), det);
      Value pivot = b.create<tensor::ExtractOp>(l, a, ValueRange{bi, k, k});
      det = b.create<arith::MulFOp>(l, det, pivot);
      Value isZero =
          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, pivot, zero);
      Value inv = b.create<arith::SelectOp>(
          l, isZero, zero,
          b.create<arith::DivFOp>(l, createScalar(b, l, at, 1), pivot));
      Value next = b.create<arith::AddIOp>(l, k, oneI);
      auto rows = buildForRange(
          b, l, next, mI, ValueRange{a},
          [&](OpBuilder &b1, Location l1, Value r, ValueRange t) {
            Value f = b1.create<arith::MulFOp>(
                l1,
                b1.create<tensor::ExtractOp>(l1, t[0], ValueRange{bi, r, k}),
                inv);
            auto cols = buildForRange(
                b1, l1, next, mI, t,
                [&](OpBuilder &b2, Location l2, Value c, ValueRange u) {
                  Value rc = b2.create<tensor::ExtractOp>(l2, u[0],
                                                          ValueRange{bi, r, c});
                  Value kc = b2.create<tensor::ExtractOp>(l2, u[0],
                                                          ValueRange{bi, k, c});
                  Value v = b2.create<arith::SubFOp>(
                      l2, rc, b2.create<arith::MulFOp>(l2, f, kc));
                  return SmallVector<Value>{b2.create<tensor::InsertOp>(
                      l2, v, u[0], ValueRange{bi, r, c})};
                });
            return SmallVector<Value>(cols.getResults());
          });
      return {rows.getResult(0), det};
    };
    auto loop = buildForRange(
        rewriter, loc, zeroI, batchI,
        ValueRange{work, createEmpty(rewriter, loc, detType)},
        [&](OpBuilder &b, Location l, Value bi, ValueRange t) {
          auto steps = buildForRange(
              b, l, zeroI, mI, ValueRange{t[0], createScalar(b, l, at, 1)},
              [&](OpBuilder &b1, Location l1, Value k, ValueRange c) {
                return column(b1, l1, bi, k, c[0], c[1]);
              });
          Value dets = b.create<tensor::InsertOp>(l, steps.getResult(1), t[1],
                                                  ValueRange{bi});
          return SmallVector<Value>{steps.getResult(0), dets};
        });
    Value dets = loop.getResult(1);
    if (at != et)
      dets = buildElementwise(
          rewriter, loc, RankedTensorType::get({batch}, et), dets,
          [&](OpBuilder &b, Location l, ValueRange args) {
            return convertScalar(b, l, args[0], et, false, false);
          });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, dets, yType));
    return success();
  }
};

/// Einsum as one linalg.generic: output letters are the parallel loops,
/// the other letters reduction loops; each input's map lists its letters.
struct EinsumLowering : OpRewritePattern<onnx::EinsumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::EinsumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::string eq;
    for (char c : op.getEquation())
      if (c != ' ')
        eq += c;
    auto arrow = eq.find("->");
    std::string lhs = eq.substr(0, arrow);
    SmallVector<std::string> terms;
    llvm::SmallVector<StringRef> parts;
    StringRef(lhs).split(parts, ',');
    for (StringRef p : parts)
      terms.push_back(p.str());
    if (terms.size() != op.getInputs().size())
      return unsupported(op, "equation names " + Twine(terms.size()) +
                                 " inputs, the node has " +
                                 Twine(op.getInputs().size()));
    auto outType = tensorType(op.getOutput());
    Type et = outType.getElementType();
    // Ellipsis: the broadcast axes, as many as the widest input has.
    int64_t ellipsis = 0;
    for (auto [term, v] : llvm::zip(terms, op.getInputs())) {
      int64_t letters = 0;
      for (char c : term)
        letters += std::isalpha((unsigned char)c) != 0;
      if (term.find("...") != std::string::npos)
        ellipsis = std::max(ellipsis, tensorType(v).getRank() - letters);
      else if (letters != tensorType(v).getRank())
        return unsupported(op, "equation term '" + term +
                                   "' does not match its input's rank");
    }
    std::string out;
    if (arrow != std::string::npos) {
      out = eq.substr(arrow + 2);
    } else {
      std::map<char, int> count;
      for (const std::string &t : terms)
        for (char c : t)
          if (std::isalpha((unsigned char)c))
            ++count[c];
      out = ellipsis ? "..." : "";
      for (auto [c, n] : count)
        if (n == 1)
          out += c;
    }
    // Loop dims: ellipsis axes (E0..), then output letters, then the rest.
    // Ellipsis axes are named by the characters 0x01, 0x02...
    auto expand = [&](const std::string &t, int64_t rank) {
      std::string r;
      size_t pos = t.find("...");
      if (pos == std::string::npos)
        return t;
      int64_t letters = (int64_t)t.size() - 3;
      int64_t n = rank - letters;
      r = t.substr(0, pos);
      for (int64_t i = ellipsis - n; i < ellipsis; ++i)
        r += (char)(1 + i);
      return r + t.substr(pos + 3);
    };
    std::string outLetters =
        expand(out, out.find("...") != std::string::npos ? outType.getRank()
                                                         : (int64_t)out.size());
    if ((int64_t)outLetters.size() != outType.getRank())
      return unsupported(op, "output term does not match the output's rank");
    std::string loops = outLetters;
    SmallVector<std::string> inLetters;
    for (auto [term, v] : llvm::zip(terms, op.getInputs())) {
      inLetters.push_back(expand(term, tensorType(v).getRank()));
      for (char c : inLetters.back())
        if (loops.find(c) == std::string::npos)
          loops += c;
    }
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = loops.size();
    SmallVector<AffineMap> maps;
    for (auto [letters, v] : llvm::zip(inLetters, op.getInputs())) {
      auto t = tensorType(v);
      SmallVector<AffineExpr> exprs;
      for (size_t i = 0; i < letters.size(); ++i) {
        int64_t d = loops.find(letters[i]);
        // A size-1 broadcast axis reads index 0.
        bool bcast = letters[i] < ' ' && t.getDimSize(i) == 1 &&
                     outType.getDimSize(outLetters.find(letters[i])) != 1;
        exprs.push_back(bcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(d, ctx));
      }
      maps.push_back(AffineMap::get(n, 0, exprs, ctx));
    }
    SmallVector<AffineExpr> outExprs;
    for (char c : outLetters)
      outExprs.push_back(getAffineDimExpr(loops.find(c), ctx));
    maps.push_back(AffineMap::get(n, 0, outExprs, ctx));
    SmallVector<utils::IteratorType> iterators;
    for (int64_t i = 0; i < n; ++i)
      iterators.push_back(i < (int64_t)outLetters.size()
                              ? utils::IteratorType::parallel
                              : utils::IteratorType::reduction);
    bool f = isFloat(et);
    Value init = createFilled(rewriter, loc, outType,
                              createScalar(rewriter, loc, et, 0));
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{outType}, op.getInputs(), init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value p = args[0];
          for (Value a : args.drop_front().drop_back())
            p = f ? b.create<arith::MulFOp>(l, p, a).getResult()
                  : b.create<arith::MulIOp>(l, p, a).getResult();
          Value acc = args.back();
          b.create<linalg::YieldOp>(
              l,
              ValueRange{f ? b.create<arith::AddFOp>(l, acc, p).getResult()
                           : b.create<arith::AddIOp>(l, acc, p).getResult()});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void kiln::populateMathPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<
      ElementwiseLowering<onnx::AbsOp>, ElementwiseLowering<onnx::CeilOp>,
      ElementwiseLowering<onnx::ErfOp>, ElementwiseLowering<onnx::ExpOp>,
      ElementwiseLowering<onnx::FloorOp>, ElementwiseLowering<onnx::LogOp>,
      ElementwiseLowering<onnx::NegOp>, ElementwiseLowering<onnx::NotOp>,
      ElementwiseLowering<onnx::ReciprocalOp>,
      ElementwiseLowering<onnx::ReluOp>, ElementwiseLowering<onnx::SigmoidOp>,
      ElementwiseLowering<onnx::SqrtOp>, ElementwiseLowering<onnx::TanhOp>,
      ElementwiseLowering<onnx::LeakyReluOp>,
      ElementwiseLowering<onnx::HardSigmoidOp>,
      ElementwiseLowering<onnx::AddOp>, ElementwiseLowering<onnx::AndOp>,
      ElementwiseLowering<onnx::DivOp>, ElementwiseLowering<onnx::EqualOp>,
      ElementwiseLowering<onnx::GreaterOp>, ElementwiseLowering<onnx::LessOp>,
      ElementwiseLowering<onnx::MulOp>, ElementwiseLowering<onnx::OrOp>,
      ElementwiseLowering<onnx::PowOp>, ElementwiseLowering<onnx::SubOp>,
      ElementwiseLowering<onnx::BitShiftOp>,
      ElementwiseLowering<onnx::GreaterOrEqualOp>,
      ElementwiseLowering<onnx::LessOrEqualOp>,
      ElementwiseLowering<onnx::XorOp>, ElementwiseLowering<onnx::ModOp>,
      ElementwiseLowering<onnx::PReluOp>, ElementwiseLowering<onnx::MaxOp>,
      ElementwiseLowering<onnx::MinOp>, ElementwiseLowering<onnx::SumOp>,
      ElementwiseLowering<onnx::MeanOp>, ElementwiseLowering<onnx::IsNaNOp>,
      ElementwiseLowering<onnx::IsInfOp>, ElementwiseLowering<onnx::AcosOp>,
      ElementwiseLowering<onnx::AcoshOp>, ElementwiseLowering<onnx::AsinOp>,
      ElementwiseLowering<onnx::AsinhOp>, ElementwiseLowering<onnx::AtanOp>,
      ElementwiseLowering<onnx::AtanhOp>, ElementwiseLowering<onnx::CosOp>,
      ElementwiseLowering<onnx::CoshOp>, ElementwiseLowering<onnx::SinOp>,
      ElementwiseLowering<onnx::SinhOp>, ElementwiseLowering<onnx::TanOp>,
      ElementwiseLowering<onnx::RoundOp>, ElementwiseLowering<onnx::SignOp>,
      ElementwiseLowering<onnx::SoftplusOp>,
      ElementwiseLowering<onnx::SoftsignOp>,
      ElementwiseLowering<onnx::HardSwishOp>, ElementwiseLowering<onnx::EluOp>,
      ElementwiseLowering<onnx::SeluOp>, ElementwiseLowering<onnx::CeluOp>,
      ElementwiseLowering<onnx::ThresholdedReluOp>,
      ElementwiseLowering<onnx::ShrinkOp>, ClipLowering, WhereLowering,
      CastLowering<onnx::CastOp>, CastLowering<onnx::CastLikeOp>,
      MatMulLowering, GemmLowering,
      ReduceAttrLowering<onnx::ReduceMaxOp, ReduceKind::Max>,
      ReduceAttrLowering<onnx::ReduceMinOp, ReduceKind::Min>,
      ReduceAttrLowering<onnx::ReduceProdOp, ReduceKind::Prod>,
      ReduceAttrLowering<onnx::ReduceMeanOp, ReduceKind::Sum, PreMap::None,
                         PostMap::Mean>,
      ReduceAttrLowering<onnx::ReduceL1Op, ReduceKind::Sum, PreMap::Abs>,
      ReduceAttrLowering<onnx::ReduceL2Op, ReduceKind::Sum, PreMap::Square,
                         PostMap::Sqrt>,
      ReduceAttrLowering<onnx::ReduceLogSumOp, ReduceKind::Sum, PreMap::None,
                         PostMap::Log>,
      ReduceAttrLowering<onnx::ReduceLogSumExpOp, ReduceKind::Sum, PreMap::Exp,
                         PostMap::Log>,
      ReduceAttrLowering<onnx::ReduceSumSquareOp, ReduceKind::Sum,
                         PreMap::Square>,
      ArgLowering<onnx::ArgMaxOp, true>, ArgLowering<onnx::ArgMinOp, false>,
      HardmaxLowering, CumSumLowering, EinsumLowering, ReduceSumLowering,
      SoftmaxLowering<onnx::SoftmaxOp, false>,
      SoftmaxLowering<onnx::LogSoftmaxOp, true>>(ctx);
  patterns.add<DetLowering>(ctx);
}
