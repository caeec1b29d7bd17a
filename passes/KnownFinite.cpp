//===- KnownFinite.cpp - No-NaN float min/max where operands are bounded --===//
//
// This file implements kiln-known-finite. arith.maximumf and minimumf
// propagate NaN, which x86 has no instruction for: LLVM follows a maxps with
// a compare for unordered and a blend, unless the op says its operands are
// never NaN. In an 8-bit model's requantization (an i32 sum made f32, scaled,
// rounded, clamped to the byte range) and in the float arithmetic between
// dequantized values, they cannot be: every value is bounded by integers'
// ranges and constants. The pass bounds each float value's magnitude from
// its definition (conversions from integers, constants, +, -, *, / by a
// constant, rounding, min/max, select, the vector ops that move lanes, and
// sums over a generic's reduction loops, as an 8-bit depthwise convolution's
// in f32) and gives each min/max whose operands are bounded well below the
// largest f32 the `nnan` flag: the same result, in one instruction.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "llvm/ADT/DenseMap.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_KNOWNFINITE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Magnitudes below this are finite after any one more operation of those
/// bounded (a sum or a product of two such stays below 2^128).
constexpr double kFinite = 0x1p60;

class Bounds {
public:
  /// An upper bound on |v| for every value v may take (never NaN), or
  /// infinity when none is known.
  double of(Value v, int depth = 0) {
    auto it = memo.find(v);
    if (it != memo.end())
      return it->second;
    double bound = compute(v, depth);
    if (!(bound < kFinite))
      bound = INFINITY;
    memo[v] = bound;
    return bound;
  }

private:
  double compute(Value v, int depth) {
    constexpr double inf = INFINITY;
    // Deep chains are rare; give up rather than recurse without end.
    if (depth > 64)
      return inf;
    // Only f32 and f64 hold every bound below kFinite (f16's largest
    // value is 65504, bf16's range is f32's with 8 bits of precision: an
    // i32 made f16 is already infinite).
    Type et = getElementTypeOrSelf(v.getType());
    if (isa<FloatType>(et) && !et.isF32() && !et.isF64())
      return inf;
    if (Value source = sourceOf(v))
      return of(source, depth + 1);
    if (isa<BlockArgument>(v))
      return inf;
    Operation *op = v.getDefiningOp();
    auto operand = [&](unsigned i) { return of(op->getOperand(i), depth + 1); };
    // A tensor a generic makes: the bound of the values it yields, or of a
    // sum over its reduction loops (its initial value plus one term per
    // iteration: a convolution's).
    if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
      unsigned r = cast<OpResult>(v).getResultNumber();
      auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
      Value yielded = yield.getOperand(r);
      if (auto add = yielded.getDefiningOp<arith::AddFOp>();
          add && generic.getNumReductionLoops() > 0) {
        BlockArgument acc = generic.getRegionOutputArgs()[r];
        Value term = add.getLhs() == acc   ? add.getRhs()
                     : add.getRhs() == acc ? add.getLhs()
                                           : Value();
        if (!term)
          return inf;
        double count = 1;
        for (auto [size, kind] : llvm::zip(generic.getStaticLoopRanges(),
                                           generic.getIteratorTypesArray())) {
          if (kind != utils::IteratorType::reduction)
            continue;
          if (ShapedType::isDynamic(size))
            return inf;
          count *= static_cast<double>(size);
        }
        return of(generic.getDpsInitOperand(r)->get(), depth + 1) +
               count * of(term, depth + 1);
      }
      return of(yielded, depth + 1);
    }
    if (isa<arith::ConstantOp>(op))
      return constantBound(v);
    if (isa<arith::SIToFPOp, arith::UIToFPOp>(op)) {
      unsigned w =
          getElementTypeOrSelf(op->getOperand(0)).getIntOrFloatBitWidth();
      return std::ldexp(1.0, std::min<unsigned>(w, 64));
    }
    if (isa<arith::AddFOp, arith::SubFOp>(op))
      return operand(0) + operand(1);
    if (isa<arith::MulFOp>(op))
      return operand(0) * operand(1);
    if (isa<arith::DivFOp>(op)) {
      double smallest = smallestDivisor(op->getOperand(1));
      return smallest > 0 ? operand(0) / smallest : inf;
    }
    if (isa<arith::NegFOp, math::AbsFOp, arith::ExtFOp>(op))
      return operand(0);
    if (isa<math::RoundEvenOp, math::RoundOp, math::FloorOp, math::CeilOp,
            math::TruncOp>(op))
      return operand(0) + 1;
    if (isa<arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp,
            arith::MinNumFOp>(op))
      return std::max(operand(0), operand(1));
    if (isa<arith::SelectOp>(op))
      return std::max(operand(1), operand(2));
    if (isa<vector::BroadcastOp, vector::SplatOp, vector::ExtractOp,
            vector::ShapeCastOp>(op))
      return operand(0);
    if (isa<vector::ShuffleOp, vector::InsertOp>(op))
      return std::max(operand(0), operand(1));
    return inf;
  }

  /// What `v` holds the elements of, if it only moves them: a linalg op's
  /// body argument is an element of the op's input, a reshape holds its
  /// source's elements. Null otherwise.
  static Value sourceOf(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto linalgOp = dyn_cast<linalg::LinalgOp>(arg.getOwner()->getParentOp());
      if (!linalgOp || arg.getOwner() != &linalgOp->getRegion(0).front() ||
          arg.getArgNumber() >= (unsigned)linalgOp.getNumDpsInputs())
        return {};
      return linalgOp.getDpsInputOperand(arg.getArgNumber())->get();
    }
    Operation *op = v.getDefiningOp();
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(op))
      return op->getOperand(0);
    return {};
  }

  /// The magnitudes of the float constant `v` is (through sourceOf), or
  /// nothing when it is none.
  static std::optional<SmallVector<double>> constantMagnitudes(Value v) {
    for (int hops = 0; hops < 16 && sourceOf(v); ++hops)
      v = sourceOf(v);
    Attribute value;
    if (!matchPattern(v, m_Constant(&value)))
      return std::nullopt;
    SmallVector<double> magnitudes;
    auto take = [&](const APFloat &f) {
      magnitudes.push_back(std::fabs(f.convertToDouble()));
    };
    if (auto f = dyn_cast<FloatAttr>(value))
      take(f.getValue());
    else if (auto dense = dyn_cast<DenseFPElementsAttr>(value);
             dense && dense.isSplat())
      take(dense.getSplatValue<APFloat>());
    else if (dense)
      for (APFloat f : dense.getValues<APFloat>())
        take(f);
    else
      return std::nullopt;
    return magnitudes;
  }

  /// The largest |c| of a float constant (infinity when some c is not
  /// finite).
  static double constantBound(Value v) {
    auto magnitudes = constantMagnitudes(v);
    if (!magnitudes || magnitudes->empty() ||
        !llvm::all_of(*magnitudes, [](double m) { return std::isfinite(m); }))
      return INFINITY;
    return *llvm::max_element(*magnitudes);
  }

  /// The smallest |c| of a constant divisor (0 when it may be 0 or is not
  /// a constant).
  static double smallestDivisor(Value v) {
    auto magnitudes = constantMagnitudes(v);
    if (!magnitudes || magnitudes->empty())
      return 0;
    if (!llvm::all_of(*magnitudes, [](double m) { return m == m; }))
      return 0; // a NaN
    double smallest = *llvm::min_element(*magnitudes);
    return std::isfinite(smallest) ? smallest : 0;
  }

  llvm::DenseMap<Value, double> memo;
};

struct KnownFinitePass : kiln::impl::KnownFiniteBase<KnownFinitePass> {
  void runOnOperation() override {
    Bounds bounds;
    getOperation().walk([&](Operation *op) {
      if (!isa<arith::MaximumFOp, arith::MinimumFOp>(op))
        return;
      auto fm = cast<arith::ArithFastMathInterface>(op);
      if (bitEnumContainsAll(fm.getFastMathFlagsAttr().getValue(),
                             arith::FastMathFlags::nnan))
        return;
      if (!std::isfinite(bounds.of(op->getOperand(0))) ||
          !std::isfinite(bounds.of(op->getOperand(1))))
        return;
      op->setAttr(fm.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(
                      op->getContext(), fm.getFastMathFlagsAttr().getValue() |
                                            arith::FastMathFlags::nnan));
    });
  }
};

} // namespace
