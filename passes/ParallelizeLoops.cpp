//===- ParallelizeLoops.cpp - The remaining linalg ops on the threads -----===//
//
// This file implements kiln-parallelize-loops. After the kernel passes, what
// is left of a model's work on memrefs are linalg ops that become plain
// loops: im2col copies, elementwise chains, Softmax and LayerNorm
// reductions, fills. On one thread they are a small part of the time; on
// several they would be all of the time the other threads wait. Each one
// big enough now runs through the runtime's kiln_parallel_rows
// (ParallelRows.h): one of its parallel loops, whose range R every operand
// that depends on it indexes directly, is cut into pieces of static size
// R / n (n the largest divisor of R up to `max-pieces`, and such that a
// piece has `min-piece-work` iterations), and a rows function runs pieces
// [begin, end) as the same op on subviews. First, a buffer filled whole
// and then overwritten in its interior by the next op keeps the fill to its
// border (kiln::fillBorderOfPad), so that it is not written twice.
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/Passes.h"

#include "mlir/Transforms/RegionUtils.h"

namespace kiln {
#define GEN_PASS_DEF_PARALLELIZELOOPS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

constexpr int64_t kCacheLineBytes = 64;

struct ParallelizeLoopsPass
    : kiln::impl::ParallelizeLoopsBase<ParallelizeLoopsPass> {
  using ParallelizeLoopsBase::ParallelizeLoopsBase;

  void runOnOperation() override {
    // A buffer filled whole and then written in its interior by the next
    // op (a pad whose interior no kernel wrote) needs the fill only on its
    // border: ResNet-18 at batch 8's 26.6 MB pool input, filled whole and
    // then overwritten by the ReLU of its stem's per-image GEMMs.
    llvm::SetVector<Value> filled;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureBufferSemantics() &&
          fill.getOutputs()[0].getDefiningOp<memref::AllocOp>())
        filled.insert(fill.getOutputs()[0]);
    });
    OpBuilder b(&getContext());
    for (Value buffer : filled)
      kiln::fillBorderOfPad(b, buffer);
    SmallVector<linalg::LinalgOp> ops;
    for (auto fn : getOperation().getOps<func::FuncOp>())
      for (Block &block : fn.getBody())
        for (Operation &op : block)
          if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
            ops.push_back(linalgOp);
    for (linalg::LinalgOp op : ops)
      parallelize(op);
  }

  /// The loop to cut: the first parallel one of at least 8 iterations (or
  /// else of at least 2) that every operand using it indexes directly and
  /// every output uses.
  std::optional<unsigned> loopToCut(linalg::LinalgOp op,
                                    ArrayRef<int64_t> ranges) {
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    std::optional<unsigned> best;
    for (unsigned d = 0; d < ranges.size(); ++d) {
      if (iterators[d] != utils::IteratorType::parallel || ranges[d] < 2)
        continue;
      bool direct = true;
      for (OpOperand &operand : op->getOpOperands()) {
        if (!isa<MemRefType>(operand.get().getType()))
          continue;
        std::optional<int64_t> at =
            kiln::positionOf(op.getMatchingIndexingMap(&operand), d);
        direct &= at && (*at >= 0 || !op.isDpsInit(&operand));
      }
      if (!direct)
        continue;
      if (ranges[d] >= 8)
        return d;
      if (!best)
        best = d;
    }
    return best;
  }

  void parallelize(linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0)
      return;
    // Memref operands go to the rows function; constants are cloned there.
    SmallVector<Value> buffers;
    for (Value v : op->getOperands()) {
      if (isa<MemRefType>(v.getType())) {
        if (!kiln::isStaticMemRef(v))
          return;
        if (!llvm::is_contained(buffers, v))
          buffers.push_back(v);
      } else if (!v.getDefiningOp() ||
                 !v.getDefiningOp()->hasTrait<OpTrait::ConstantLike>()) {
        return;
      }
    }
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    for (Value v : captured)
      if (!v.getDefiningOp() ||
          !v.getDefiningOp()->hasTrait<OpTrait::ConstantLike>())
        return;
    if (buffers.empty() || buffers.size() > kiln::kRowsBuffers)
      return;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return;
    int64_t work = 1;
    for (int64_t r : ranges)
      work *= r;
    // A fill of a column (a padded buffer's left or right border) writes
    // one element of each row, and so as many cache lines as a contiguous
    // fill of the elements from one row to the next (up to a line's): count
    // those.
    if (auto fill = dyn_cast<linalg::FillOp>(op.getOperation())) {
      auto type = cast<MemRefType>(fill.getOutputs()[0].getType());
      int64_t lineElements =
          kCacheLineBytes /
          std::max<int64_t>(type.getElementTypeBitWidth() / 8, 1);
      SmallVector<int64_t> strides;
      int64_t offset;
      if (type.getRank() >= 2 && type.getShape().back() == 1 &&
          succeeded(getStridesAndOffset(type, strides, offset)) &&
          strides[type.getRank() - 2] > 1)
        work *= std::min(strides[type.getRank() - 2], lineElements);
    }
    std::optional<unsigned> dim = loopToCut(op, ranges);
    if (work < parallelMinWork || !dim)
      return;
    // Pieces of at least `min-piece-work` iterations: LLVM unrolls a small
    // static piece completely, and its scheduler grows quadratically with
    // the basic block that makes.
    int64_t range = ranges[*dim], pieces = 1;
    int64_t most = std::min<int64_t>(maxPieces, work / minPieceWork);
    for (int64_t n = std::min<int64_t>(range, most); n > 1; --n)
      if (range % n == 0) {
        pieces = n;
        break;
      }
    if (pieces < 2)
      return;
    int64_t size = range / pieces;

    Location loc = op.getLoc();
    func::FuncOp fn = kiln::createRowsFunction(
        op->getParentOfType<func::FuncOp>(), loc, TypeRange(buffers), "loop",
        [&](OpBuilder &b, Location l, ArrayRef<BlockArgument> mems,
            ArrayRef<BlockArgument> idx) {
          IRMapping mapping;
          for (Value v : captured)
            mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
          auto loop = b.create<scf::ForOp>(
              l, idx[2], idx[3], b.create<arith::ConstantIndexOp>(l, 1));
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(loop.getBody());
          Value offset = b.create<arith::MulIOp>(
              l, loop.getInductionVar(),
              b.create<arith::ConstantIndexOp>(l, size));
          for (OpOperand &operand : op->getOpOperands()) {
            Value v = operand.get();
            if (!isa<MemRefType>(v.getType())) {
              if (!mapping.contains(v))
                mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
              continue;
            }
            Value mem = mems[llvm::find(buffers, v) - buffers.begin()];
            int64_t at =
                *kiln::positionOf(op.getMatchingIndexingMap(&operand), *dim);
            if (at < 0) {
              mapping.map(v, mem);
              continue;
            }
            mapping.map(v, kiln::pieceView(b, l, mem, at, offset, size));
          }
          b.clone(*op, mapping);
        });
    OpBuilder b(op);
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    kiln::emitParallelRows(b, loc, fn, buffers, zero, zero,
                           b.create<arith::ConstantIndexOp>(loc, pieces));
    op->erase();
  }
};

} // namespace
