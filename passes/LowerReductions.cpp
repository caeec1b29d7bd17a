//===- LowerReductions.cpp - Row reductions in vector registers -----------===//
//
// This file implements kiln-lower-reductions. A linalg.generic that reduces
// its innermost loops (the sums and maxima of Softmax, LayerNorm, ReduceMean
// over the last axes, GlobalAveragePool...) would otherwise become a scalar
// loop whose every
// step waits for the previous one: strict floating point forbids LLVM to
// reassociate the chain, and the accumulator lives in memory. Here each row
// (the reduced dims, contiguous in memory, taken as one) is instead read in
// vectors of `vector-width` lanes into a few independent
// vector accumulators (the generic's body applied lane-wise), which are then
// combined with each other, halved down to one lane, and combined with the
// output element once, as ONNX Runtime's and oneDNN's row kernels do.
//
// The sum is thus taken in a different order than the scalar loop's (that
// is the point); the result is the same up to rounding.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/VectorLanes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kiln {
#define GEN_PASS_DEF_LOWERREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The op that folds a row's values into its output element: the body's
/// yielded value, computed from the output's block argument and one other
/// operand that does not depend on it.
bool isCombiner(Operation *op) {
  return isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
             arith::MaxNumFOp, arith::MinNumFOp>(op);
}

/// The combiner's neutral element: the lanes' starting value.
double neutralOf(Operation *op) {
  double inf = std::numeric_limits<double>::infinity();
  if (isa<arith::AddFOp>(op))
    return -0.0;
  if (isa<arith::MulFOp>(op))
    return 1.0;
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op))
    return -inf;
  return inf;
}

/// A reduction this pass lowers, and what its rewrite needs to know.
struct RowReduction {
  linalg::GenericOp op;
  Operation *combiner;
  unsigned combinedOperand; // the combiner's operand that is not the output
  unsigned reduced;         // the trailing loops it reduces
};

/// Whether the trailing `count` dims of `type` are contiguous: one row.
bool trailingContiguous(MemRefType type, unsigned count) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)) ||
      type.getRank() < count)
    return false;
  int64_t expected = 1;
  for (unsigned i = 0; i < count; ++i) {
    int64_t d = type.getRank() - 1 - i;
    if (strides[d] != expected)
      return false;
    expected *= type.getDimSize(d);
  }
  return true;
}

/// Whether every result of `map` is a loop dim or the constant 0.
bool isDimsOrZeros(AffineMap map) {
  return llvm::all_of(map.getResults(), [](AffineExpr e) {
    if (isa<AffineDimExpr>(e))
      return true;
    auto c = dyn_cast<AffineConstantExpr>(e);
    return c && c.getValue() == 0;
  });
}

std::optional<RowReduction> match(linalg::GenericOp op, int64_t vw) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumLoops() < 1)
    return std::nullopt;
  // The reductions are the trailing loops.
  unsigned loops = op.getNumLoops(), reduced = op.getNumReductionLoops();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (reduced == 0 || llvm::any_of(ArrayRef(iterators).take_back(reduced),
                                   [](utils::IteratorType t) {
                                     return t != utils::IteratorType::reduction;
                                   }))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t range = 1;
  for (int64_t r : ArrayRef(ranges).take_back(reduced))
    range *= r;
  if (llvm::any_of(ranges, ShapedType::isDynamic) || range < vw)
    return std::nullopt;
  unsigned first = loops - reduced;

  // Operands: f32 memrefs indexed by loop dims (or 0); the row read along
  // contiguous memory (the reduced dims last, in order), or not at all. The
  // output does not use the row.
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type) {
      if (op.isDpsInit(&operand) || !operand.get().getType().isF32())
        return std::nullopt;
      continue;
    }
    if (!type.getElementType().isF32())
      return std::nullopt;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!isDimsOrZeros(map))
      return std::nullopt;
    unsigned uses = 0;
    for (AffineExpr e : map.getResults())
      for (unsigned d = first; d < loops; ++d)
        uses += e.isFunctionOfDim(d);
    if (uses == 0)
      continue;
    if (op.isDpsInit(&operand) || uses != reduced ||
        map.getNumResults() < reduced || !trailingContiguous(type, reduced))
      return std::nullopt;
    for (unsigned i = 0; i < reduced; ++i)
      if (map.getResult(map.getNumResults() - reduced + i) !=
          getAffineDimExpr(first + i, op.getContext()))
        return std::nullopt;
  }

  // Body: lane-wise ops, then the combiner folding into the output.
  Block *body = op.getBody();
  BlockArgument out = body->getArguments().back();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *combiner = yield.getOperand(0).getDefiningOp();
  if (!combiner || combiner->getBlock() != body || !isCombiner(combiner) ||
      !out.hasOneUse() || out.getUses().begin()->getOwner() != combiner ||
      combiner->getOperand(0) == combiner->getOperand(1))
    return std::nullopt;
  for (Operation &inner : body->without_terminator()) {
    if (&inner == combiner)
      continue;
    if (inner.getNumRegions() != 0 || inner.getNumResults() != 1 ||
        !isMemoryEffectFree(&inner) ||
        !(inner.hasTrait<OpTrait::Elementwise>() ||
          inner.hasTrait<OpTrait::ConstantLike>()) ||
        isa<linalg::IndexOp>(inner))
      return std::nullopt;
    if (!inner.getResult(0).getType().isIntOrFloat())
      return std::nullopt;
  }
  unsigned combined = combiner->getOperand(0) == out ? 1 : 0;
  return RowReduction{op, combiner, combined, reduced};
}

/// Emits one reduction as loops over its other dims and, per row, vector
/// accumulators.
class RowEmitter {
public:
  RowEmitter(OpBuilder &b, const RowReduction &r, int64_t vw)
      : b(b), loc(r.op->getLoc()), r(r), vw(vw), lanes(b, loc, vw) {}

  void emit() {
    linalg::GenericOp op = r.op;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    unsigned first = ranges.size() - r.reduced;
    int64_t range = 1;
    for (int64_t v : ArrayRef(ranges).drop_front(first))
      range *= v;
    // Each row operand as a view whose last dim is the row.
    for (OpOperand *operand : op.getDpsInputOperands()) {
      auto type = dyn_cast<MemRefType>(operand->get().getType());
      if (!type || !isRowOperand(operand))
        continue;
      Value view = operand->get();
      if (r.reduced > 1) {
        SmallVector<ReassociationIndices> groups;
        for (int64_t d = 0; d < type.getRank() - r.reduced; ++d)
          groups.push_back({d});
        ReassociationIndices row;
        for (int64_t d = type.getRank() - r.reduced; d < type.getRank(); ++d)
          row.push_back(d);
        groups.push_back(row);
        view = b.create<memref::CollapseShapeOp>(loc, view, groups);
      }
      rowViews[operand->getOperandNumber()] = view;
    }
    Value zero = index(0), one = index(1);
    SmallVector<Value> lbs, ubs, steps;
    for (unsigned d = 0; d < first; ++d) {
      lbs.push_back(zero);
      ubs.push_back(index(ranges[d]));
      steps.push_back(one);
    }
    scf::buildLoopNest(
        b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location, ValueRange ivs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          emitRow(ivs, range);
        });
  }

private:
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  /// Whether `operand` reads along the row (it uses the reduced loops).
  bool isRowOperand(OpOperand *operand) {
    linalg::GenericOp op = r.op;
    return isa<MemRefType>(operand->get().getType()) &&
           op.getMatchingIndexingMap(operand).isFunctionOfDim(op.getNumLoops() -
                                                              1);
  }

  /// The indices `map` gives for the outer loops' ivs `ivs`; for a row
  /// operand, those of its view, `at` along the row.
  SmallVector<Value> indices(AffineMap map, ValueRange ivs, Value at = {}) {
    SmallVector<Value> result;
    ArrayRef<AffineExpr> results = map.getResults();
    if (at)
      results = results.drop_back(r.reduced);
    for (AffineExpr e : results) {
      if (auto d = dyn_cast<AffineDimExpr>(e))
        result.push_back(ivs[d.getPosition()]);
      else
        result.push_back(index(0));
    }
    if (at)
      result.push_back(at);
    return result;
  }

  Value splat(Value scalar) {
    return b.create<vector::BroadcastOp>(
        loc, VectorType::get({vw}, scalar.getType()), scalar);
  }

  /// The same op as `op` on `operands`, vectors when any operand is one.
  Value rebuild(Operation *op, ArrayRef<Value> operands) {
    bool vector = llvm::any_of(
        operands, [](Value v) { return isa<VectorType>(v.getType()); });
    SmallVector<Value> mapped(operands);
    Type type = op->getResult(0).getType();
    if (vector) {
      for (Value &v : mapped)
        if (!isa<VectorType>(v.getType()))
          v = splat(v);
      auto shape = llvm::find_if(
          operands, [](Value v) { return isa<VectorType>(v.getType()); });
      type =
          VectorType::get(cast<VectorType>(shape->getType()).getShape(), type);
    }
    OperationState state(loc, op->getName().getStringRef(), mapped, {type},
                         op->getAttrs());
    return b.create(state)->getResult(0);
  }

  Value combine(Value x, Value y) {
    SmallVector<Value> operands(2);
    operands[r.combinedOperand] = x;
    operands[1 - r.combinedOperand] = y;
    return rebuild(r.combiner, operands);
  }

  /// The body's contribution of the row's `count` lanes at `at`: the
  /// combiner's other operand, with the row operands as vectors.
  Value contribution(ValueRange ivs, Value at, int64_t count,
                     DenseMap<Value, Value> mapping) {
    linalg::GenericOp op = r.op;
    Block *body = op.getBody();
    for (OpOperand *operand : op.getDpsInputOperands()) {
      if (!isRowOperand(operand))
        continue;
      BlockArgument arg = body->getArgument(operand->getOperandNumber());
      AffineMap map = op.getMatchingIndexingMap(operand);
      mapping[arg] = lanes.load(rowViews.lookup(operand->getOperandNumber()),
                                indices(map, ivs, at), count);
    }
    for (Operation &inner : body->without_terminator()) {
      if (&inner == r.combiner)
        break;
      SmallVector<Value> operands;
      for (Value v : inner.getOperands())
        operands.push_back(mapping.lookup(v) ? mapping.lookup(v) : v);
      mapping[inner.getResult(0)] = rebuild(&inner, operands);
    }
    Value v = r.combiner->getOperand(r.combinedOperand);
    Value mapped = mapping.lookup(v) ? mapping.lookup(v) : v;
    return isa<VectorType>(mapped.getType()) ? mapped : splat(mapped);
  }

  void emitRow(ValueRange ivs, int64_t range) {
    linalg::GenericOp op = r.op;
    Block *body = op.getBody();
    // Operands that do not vary along the row: one scalar per row.
    DenseMap<Value, Value> mapping;
    for (OpOperand *operand : op.getDpsInputOperands()) {
      BlockArgument arg = body->getArgument(operand->getOperandNumber());
      if (!isa<MemRefType>(operand->get().getType())) {
        mapping[arg] = operand->get();
        continue;
      }
      if (!isRowOperand(operand))
        mapping[arg] = b.create<memref::LoadOp>(
            loc, operand->get(),
            indices(op.getMatchingIndexingMap(operand), ivs));
    }

    Type f32 = b.getF32Type();
    VectorType vecType = VectorType::get({vw}, f32);
    Value neutral = b.create<arith::ConstantOp>(
        loc, vecType,
        DenseElementsAttr::get(
            vecType, b.getFloatAttr(f32, neutralOf(r.combiner)).getValue()));

    // Independent accumulators hide the combiner's latency.
    int64_t chunks = range / vw, tail = range % vw;
    int64_t accs = std::min<int64_t>(4, chunks);
    int64_t groups = chunks / accs;
    SmallVector<Value> acc(accs, neutral);
    auto at = [&](Value base, int64_t offset) -> Value {
      Value o = index(offset);
      return base ? b.create<arith::AddIOp>(loc, base, o).getResult() : o;
    };
    if (groups > 0) {
      auto loop =
          b.create<scf::ForOp>(loc, index(0), index(groups), index(1), acc);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value base = b.create<arith::MulIOp>(loc, loop.getInductionVar(),
                                           index(accs * vw));
      SmallVector<Value> next;
      for (int64_t u = 0; u < accs; ++u)
        next.push_back(combine(contribution(ivs, at(base, u * vw), vw, mapping),
                               loop.getRegionIterArg(u)));
      b.create<scf::YieldOp>(loc, next);
      b.setInsertionPointAfter(loop);
      acc.assign(loop.getResults().begin(), loop.getResults().end());
    }
    for (int64_t c = groups * accs; c < chunks; ++c) {
      Value &a = acc[c % accs];
      a = combine(contribution(ivs, at(Value(), c * vw), vw, mapping), a);
    }
    if (tail > 0) {
      Value v = contribution(ivs, at(Value(), chunks * vw), tail, mapping);
      acc[0] = b.create<arith::SelectOp>(loc, lanes.mask(tail),
                                         combine(v, acc[0]), acc[0]);
    }

    // Accumulators into one, then halves of it into one lane.
    Value total = acc[0];
    for (int64_t u = 1; u < accs; ++u)
      total = combine(acc[u], total);
    Value lane = lanes.across(total, [&](Value x, Value y) {
      return rebuild(r.combiner, {x, y});
    });

    OpOperand *init = op.getDpsInitOperand(0);
    SmallVector<Value> at0 = indices(op.getMatchingIndexingMap(init), ivs);
    Value old = b.create<memref::LoadOp>(loc, init->get(), at0);
    b.create<memref::StoreOp>(loc, combine(lane, old), init->get(), at0);
  }

  OpBuilder &b;
  Location loc;
  const RowReduction &r;
  int64_t vw;
  kiln::VectorLanes lanes;
  DenseMap<unsigned, Value> rowViews; // by operand number
};

struct LowerReductionsPass
    : kiln::impl::LowerReductionsBase<LowerReductionsPass> {
  using LowerReductionsBase::LowerReductionsBase;

  void runOnOperation() override {
    // Halving needs a power of two.
    if (vectorWidth < 2 || (vectorWidth & (vectorWidth - 1)))
      return;
    SmallVector<RowReduction> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (auto r = match(op, vectorWidth))
        found.push_back(*r);
    });
    for (RowReduction &r : found) {
      OpBuilder b(r.op);
      RowEmitter(b, r, vectorWidth).emit();
      r.op->erase();
    }
  }
};

} // namespace
