//===- FuseSoftmax.cpp - Softmax as one row kernel ------------------------===//
//
// This file implements kiln-fuse-softmax. ONNX's Softmax along the last axis
// arrives as four linalg ops over the whole tensor: the rows' maxima, exp(x
// - max) into a buffer, the rows' sums of it, and a division by the sums;
// an attention's scores come with a fifth before them, the division by
// sqrt(d). Each is a pass over memory and, on several threads, a parallel
// region of its own. Here the chain becomes one kernel that takes a row
// at a time while it is in L1, as ONNX Runtime's and oneDNN's softmax
// kernels do: the row's maximum, then exp(x - max) written to the output
// and summed in the same pass, then the output scaled by 1 / sum. The
// scale before, when it is a multiplication by a positive constant or a
// division by a power of two (both exact as a multiplication, and
// monotonic, so that max(x * s) = max(x) * s), is applied as each element
// is read.
//
// The results are those of the four ops up to rounding: the sum is taken
// in another order, and a division by the sum is a multiplication by its
// reciprocal (within an ulp), as ONNX Runtime's kernel does.
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/Passes.h"
#include "passes/VectorLanes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_FUSESOFTMAX
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The chain a softmax arrives as, in block order: [scale], fill of the
/// maxima, their reduction, exp(x - max), fill of the sums, their
/// reduction, the division.
struct Softmax {
  linalg::GenericOp scale; // may be null
  double factor = 1.0;     // what the scale multiplies by
  SmallVector<Operation *> ops;
  Value input;  // what the kernel reads: the scale's input, or x
  Value output; // the division's output
};

/// The generic's body as a single op of type OpTy applied to its block
/// arguments `a` and `b` (in either order when `commutes`), yielded.
template <typename OpTy>
bool bodyIs(linalg::GenericOp op, unsigned a, unsigned b, bool commutes) {
  Block &body = *op.getBlock();
  if (body.getOperations().size() != 2)
    return false;
  auto inner = dyn_cast<OpTy>(&body.front());
  if (!inner || body.getTerminator()->getOperand(0) != inner->getResult(0))
    return false;
  Value x = body.getArgument(a), y = body.getArgument(b);
  return (inner->getOperand(0) == x && inner->getOperand(1) == y) ||
         (commutes && inner->getOperand(0) == y && inner->getOperand(1) == x);
}

/// Static f32 memrefs of rows contiguous in memory (an identity layout).
bool isPlainRows(Value v, ArrayRef<int64_t> shape) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getElementType().isF32() && type.hasStaticShape() &&
         type.getLayout().isIdentity() && type.getShape() == shape;
}

/// The generic's maps: identity for the full-size operands, the row map
/// (the last dim dropped to 0) for the per-row ones; `rowOperands` by
/// operand number.
bool mapsAre(linalg::GenericOp op, ArrayRef<unsigned> rowOperands) {
  unsigned rank = op.getNumLoops();
  if (rank == 0)
    return false;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!llvm::is_contained(rowOperands, operand.getOperandNumber())) {
      if (!map.isIdentity())
        return false;
      continue;
    }
    if (map.getNumResults() != rank)
      return false;
    for (unsigned d = 0; d + 1 < rank; ++d)
      if (map.getResult(d) != getAffineDimExpr(d, op.getContext()))
        return false;
    auto zero = dyn_cast<AffineConstantExpr>(map.getResult(rank - 1));
    if (!zero || zero.getValue() != 0)
      return false;
  }
  return true;
}

bool allParallel(linalg::GenericOp op) {
  return op.getNumReductionLoops() == 0;
}

bool reducesLast(linalg::GenericOp op) {
  auto iterators = op.getIteratorTypesArray();
  return op.getNumReductionLoops() == 1 &&
         iterators.back() == utils::IteratorType::reduction;
}

std::optional<double> splatValue(Value v) {
  FloatAttr f;
  if (matchPattern(v, m_Constant(&f)))
    return f.getValueAsDouble();
  return std::nullopt;
}

/// A linalg.fill of `buffer` with a constant, and that constant.
std::optional<double> fillOf(Operation *op, Value buffer) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op);
  if (!fill || fill.getDpsInits()[0] != buffer)
    return std::nullopt;
  return splatValue(fill.getInputs()[0]);
}

/// The op before `op` in its block, past allocations (bufferization puts
/// a buffer's allocation just before its first writer).
Operation *previous(Operation *op) {
  Operation *before = op->getPrevNode();
  while (isa_and_nonnull<memref::AllocOp>(before))
    before = before->getPrevNode();
  return before;
}

/// The generic before `op` (past allocations) if it reduces `in` along its
/// rows into `out` with OpTy, or null.
template <typename OpTy>
linalg::GenericOp rowReductionBefore(Operation *op, Value in, Value out) {
  auto r = dyn_cast_or_null<linalg::GenericOp>(previous(op));
  if (!r || !reducesLast(r) || r.getNumDpsInputs() != 1 ||
      r.getDpsInputs()[0] != in || r.getDpsInits()[0] != out ||
      !mapsAre(r, {1}) || !bodyIs<OpTy>(r, 0, 1, true))
    return nullptr;
  return r;
}

/// The chain ending at the division `div`, or nothing.
std::optional<Softmax> match(linalg::GenericOp div) {
  // y = e / s, s per row.
  if (!allParallel(div) || div.getNumDpsInputs() != 2 || !mapsAre(div, {1}) ||
      !bodyIs<arith::DivFOp>(div, 0, 1, false))
    return std::nullopt;
  Value e = div.getDpsInputs()[0], s = div.getDpsInputs()[1],
        y = div.getDpsInits()[0];
  ArrayRef<int64_t> shape = cast<ShapedType>(e.getType()).getShape();
  if (shape.empty() || !isPlainRows(e, shape) || !isPlainRows(y, shape))
    return std::nullopt;
  // s = sum of e along rows, from 0.
  linalg::GenericOp sum = rowReductionBefore<arith::AddFOp>(div, e, s);
  if (!sum)
    return std::nullopt;
  Operation *sumFill = previous(sum);
  std::optional<double> zero = fillOf(sumFill, s);
  if (!zero || *zero != 0.0)
    return std::nullopt;
  // e = exp(x - m), m per row.
  auto exp = dyn_cast_or_null<linalg::GenericOp>(previous(sumFill));
  if (!exp || !allParallel(exp) || exp.getNumDpsInputs() != 2 ||
      exp.getDpsInits()[0] != e || !mapsAre(exp, {1}))
    return std::nullopt;
  Block &body = *exp.getBlock();
  auto sub = dyn_cast<arith::SubFOp>(&body.front());
  auto expOp = sub ? dyn_cast<math::ExpOp>(sub->getNextNode()) : nullptr;
  if (!expOp || body.getOperations().size() != 3 ||
      sub.getLhs() != body.getArgument(0) ||
      sub.getRhs() != body.getArgument(1) ||
      expOp.getOperand() != sub.getResult() ||
      body.getTerminator()->getOperand(0) != expOp.getResult())
    return std::nullopt;
  Value x = exp.getDpsInputs()[0], m = exp.getDpsInputs()[1];
  if (!isPlainRows(x, shape))
    return std::nullopt;
  // m = max of x along rows, from -inf (or the lowest float).
  linalg::GenericOp max = rowReductionBefore<arith::MaximumFOp>(exp, x, m);
  if (!max)
    return std::nullopt;
  Operation *maxFill = previous(max);
  std::optional<double> lowest = fillOf(maxFill, m);
  if (!lowest || *lowest > -3.4e38)
    return std::nullopt;

  Softmax sm;
  sm.ops = {maxFill, max, exp, sumFill, sum, div};
  sm.input = x;
  sm.output = y;
  // The per-row buffers m and s (often one buffer) and e, unless it is y:
  // allocations that nothing else touches, which the kernel then replaces;
  // but for e, which may be x in place, the op just before the chain may
  // write it (and is then only followed by reads of the chain's).
  auto writer =
      dyn_cast_or_null<DestinationStyleOpInterface>(previous(maxFill));
  bool writesX = writer && writer.getNumDpsInits() == 1 &&
                 writer.getDpsInits()[0] == x &&
                 !llvm::is_contained(writer.getDpsInputs(), x);
  auto onlyUsedByChain = [&](Value v) {
    return v.getDefiningOp<memref::AllocOp>() &&
           llvm::all_of(v.getUsers(), [&](Operation *user) {
             return llvm::is_contained(sm.ops, user) ||
                    (writesX && user == writer.getOperation()) ||
                    isa<memref::DeallocOp>(user);
           });
  };
  if (!onlyUsedByChain(m) || !onlyUsedByChain(s) ||
      (e != y && !onlyUsedByChain(e)))
    return std::nullopt;
  // Row by row, x is read before its row of y is written: x is y, or
  // another buffer.
  if (x != y && kiln::rootOf(x) == kiln::rootOf(y))
    return std::nullopt;

  // x = x0 * c (c > 0) or x0 / 2^k: folded into the kernel's reads when
  // nothing else reads x (the output, or e, in place, or a buffer of the
  // chain's own).
  auto scale = dyn_cast_or_null<linalg::GenericOp>(previous(maxFill));
  if (scale && allParallel(scale) && scale.getNumDpsInputs() == 1 &&
      scale.getDpsInits()[0] == x && mapsAre(scale, {}) &&
      isPlainRows(scale.getDpsInputs()[0], shape) &&
      scale.getBlock()->getOperations().size() == 2) {
    Operation &inner = scale.getBlock()->front();
    Value arg = scale.getBlock()->getArgument(0);
    std::optional<double> c;
    if (inner.getNumOperands() == 2 && inner.getOperand(0) == arg)
      c = splatValue(inner.getOperand(1));
    else if (isa<arith::MulFOp>(inner) && inner.getOperand(1) == arg)
      c = splatValue(inner.getOperand(0));
    int exponent;
    bool powerOfTwo = c && std::frexp(*c, &exponent) == 0.5;
    std::optional<double> factor;
    if (c && *c > 0 && std::isfinite(*c)) {
      if (isa<arith::MulFOp>(inner))
        factor = *c;
      else if (isa<arith::DivFOp>(inner) && powerOfTwo)
        factor = 1.0 / *c;
    }
    Value x0 = scale.getDpsInputs()[0];
    bool xDies =
        x == y || x == e || llvm::all_of(x.getUsers(), [&](Operation *user) {
          return user == scale.getOperation() ||
                 llvm::is_contained(sm.ops, user) ||
                 isa<memref::DeallocOp>(user);
        });
    if (factor && xDies && kiln::rootOf(x0) != kiln::rootOf(y)) {
      sm.scale = scale;
      sm.factor = *factor;
      sm.input = x0;
    }
  }
  return sm;
}

/// Row kernels over rows [begin, end) of the 2-d views `in` and `out`.
struct RowEmitter {
  OpBuilder &b;
  Location loc;
  int64_t vw, length;
  double factor;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value splat(double v) {
    auto type = VectorType::get({vw}, b.getF32Type());
    return b.create<arith::ConstantOp>(
        loc, type, DenseElementsAttr::get(type, b.getF32FloatAttr(v)));
  }

  /// `body(acc, column, lanes)` over the row's vectors, the last one
  /// `lanes` wide when the row is ragged, threading one vector through.
  Value overRow(Value acc, function_ref<Value(Value, Value, int64_t)> body) {
    int64_t whole = length / vw * vw;
    if (whole > 0) {
      auto loop = b.create<scf::ForOp>(loc, index(0), index(whole), index(vw),
                                       ValueRange{acc});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      b.create<scf::YieldOp>(
          loc, body(loop.getRegionIterArg(0), loop.getInductionVar(), vw));
      acc = loop.getResult(0);
    }
    if (whole < length)
      acc = body(acc, index(whole), length - whole);
    return acc;
  }

  void rows(Value in, Value out, Value begin, Value end) {
    auto loop = b.create<scf::ForOp>(loc, begin, end, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value r = loop.getInductionVar();
    kiln::VectorLanes lanes(b, loc, vw);
    auto scaled = [&](Value v) -> Value {
      return factor == 1.0
                 ? v
                 : b.create<arith::MulFOp>(loc, v, splat(factor)).getResult();
    };
    auto keep = [&](Value v, Value otherwise, int64_t n) -> Value {
      return n == vw
                 ? v
                 : b.create<arith::SelectOp>(loc, lanes.mask(n), v, otherwise)
                       .getResult();
    };
    double inf = std::numeric_limits<double>::infinity();
    // The row's maximum (of x, then scaled: the scale is monotonic).
    Value maxima = overRow(splat(-inf), [&](Value acc, Value c, int64_t n) {
      Value v = keep(lanes.load(in, {r, c}, n), splat(-inf), n);
      return b.create<arith::MaximumFOp>(loc, v, acc);
    });
    Value m = lanes.across(maxima, [&](Value x, Value y) {
      return b.create<arith::MaximumFOp>(loc, x, y);
    });
    Value mv = scaled(b.create<vector::BroadcastOp>(loc, lanes.type(), m));
    // exp(x * s - max * s) to the output, and its sum.
    Value sums = overRow(splat(0.0), [&](Value acc, Value c, int64_t n) {
      Value v = scaled(lanes.load(in, {r, c}, n));
      Value e = b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, v, mv));
      lanes.store(e, out, {r, c}, n);
      return b.create<arith::AddFOp>(loc, keep(e, splat(0.0), n), acc);
    });
    Value sum = lanes.across(sums, [&](Value x, Value y) {
      return b.create<arith::AddFOp>(loc, x, y);
    });
    Value inv = b.create<arith::DivFOp>(
        loc, b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(1.0f)), sum);
    Value iv = b.create<vector::BroadcastOp>(loc, lanes.type(), inv);
    overRow(iv, [&](Value acc, Value c, int64_t n) {
      Value e = lanes.load(out, {r, c}, n);
      lanes.store(b.create<arith::MulFOp>(loc, e, acc), out, {r, c}, n);
      return acc;
    });
  }
};

struct FuseSoftmaxPass : kiln::impl::FuseSoftmaxBase<FuseSoftmaxPass> {
  using FuseSoftmaxBase::FuseSoftmaxBase;

  void runOnOperation() override {
    if (vectorWidth < 2 || (vectorWidth & (vectorWidth - 1)))
      return;
    SmallVector<Softmax> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (auto sm = match(op))
        found.push_back(*sm);
    });
    for (Softmax &sm : found)
      rewrite(sm);
  }

  void rewrite(Softmax &sm) {
    Operation *first = sm.scale ? sm.scale.getOperation() : sm.ops.front();
    OpBuilder b(first);
    Location loc = sm.ops.back()->getLoc();
    auto type = cast<MemRefType>(sm.output.getType());
    int64_t length = type.getShape().back();
    int64_t rows = type.getNumElements() / length;
    // Both as [rows, length].
    auto flat = [&](Value v) -> Value {
      if (type.getRank() == 2)
        return v;
      SmallVector<ReassociationIndices> groups(2);
      for (int64_t d = 0; d + 1 < type.getRank(); ++d)
        groups[0].push_back(d);
      groups[1].push_back(type.getRank() - 1);
      return b.create<memref::CollapseShapeOp>(loc, v, groups);
    };
    Value in = flat(sm.input), out = flat(sm.output);
    if (parallel && rows > 1 && rows * length >= parallelMinWork &&
        kiln::isStaticMemRef(in) && kiln::isStaticMemRef(out)) {
      func::FuncOp fn = kiln::createRowsFunction(
          first->getParentOfType<func::FuncOp>(), loc,
          TypeRange{in.getType(), out.getType()}, "softmax",
          [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
              ArrayRef<BlockArgument> idx) {
            RowEmitter{fb, l, vectorWidth, length, sm.factor}.rows(
                mems[0], mems[1], idx[2], idx[3]);
          });
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      kiln::emitParallelRows(b, loc, fn, ValueRange{in, out}, zero, zero,
                             b.create<arith::ConstantIndexOp>(loc, rows));
    } else {
      RowEmitter{b, loc, vectorWidth, length, sm.factor}.rows(
          in, out, b.create<arith::ConstantIndexOp>(loc, 0),
          b.create<arith::ConstantIndexOp>(loc, rows));
    }
    // The chain, then the buffers only it used.
    llvm::SetVector<Operation *> allocs;
    if (sm.scale)
      sm.ops.push_back(sm.scale);
    for (Operation *op : llvm::reverse(sm.ops)) {
      for (Value v : op->getOperands())
        if (auto alloc = v.getDefiningOp<memref::AllocOp>())
          allocs.insert(alloc);
      op->erase();
    }
    for (Operation *alloc : allocs) {
      if (llvm::all_of(alloc->getUsers(), [](Operation *user) {
            return isa<memref::DeallocOp>(user);
          })) {
        for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
          user->erase();
        alloc->erase();
      }
    }
  }
};

} // namespace
