//===- FuseRows.cpp - Reductions and their neighbours row by row ----------===//
//
// This file implements kiln-fuse-rows. LayerNorm (and other row-wise
// chains: a mean and what uses it) arrives as consecutive linalg ops over
// the whole tensor: a fill and a reduction of each row, an elementwise op
// using the reduced values, another reduction, the normalisation. Each is a
// pass over memory and, on several threads, a parallel region of its own.
// When every op of such a run has a parallel loop of the same range that
// each buffer it touches indexes directly (the row; the same buffer at the
// same position in every op), or does not touch at all and only reads (a
// LayerNorm's weight and bias), iteration i of that loop reads and writes
// only piece i of every buffer, so the run can go piece by piece: all its
// ops on rows [i * s, (i + 1) * s), then the next piece, while the piece is
// in L1, as ONNX Runtime's LayerNorm kernel does a row at a time. The
// pieces run through kiln_parallel_rows when there is enough work, and are
// the same ops on subviews (kiln-lower-reductions and the loop lowering
// take them from there). A run starts at a fill or a reduction, so that an
// elementwise op after a matmul or a convolution stays theirs to fuse.
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/RegionUtils.h"

namespace kiln {
#define GEN_PASS_DEF_FUSEROWS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// A run of ops to go piece by piece, and where each buffer is cut.
struct Run {
  SmallVector<linalg::LinalgOp> ops;
  SmallVector<Operation *> allocs; // between them, hoisted before
  int64_t range = 0;               // of the cut loop
  int64_t unitWork = 0;            // iterations per index of it, at most
  llvm::MapVector<Value, int64_t> buffers; // position cut, or -1: whole
  llvm::SetVector<Value> written;
};

/// Adds `op` to `run` if one of its parallel loops of the run's range (any
/// range for the first op) is indexed directly by every buffer it cuts,
/// consistently with the run's other ops.
bool extend(Run &run, linalg::LinalgOp op) {
  // Fills and generics whose operands are indexed by loop dims (or 0): not
  // the contractions, convolutions and windows the kernel passes take.
  if (!isa<linalg::FillOp, linalg::GenericOp>(op) ||
      !op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
      op.getNumDpsInits() == 0 ||
      llvm::any_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return !map.isProjectedPermutation(/*allowZeroInResults=*/true);
      }))
    return false;
  // linalg.index would see the piece's indices.
  if (!op->getRegions().empty() && !op->getRegion(0).empty() &&
      !op->getRegion(0).getOps<linalg::IndexOp>().empty())
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return false;
  for (Value v : op->getOperands())
    if (isa<MemRefType>(v.getType()) && !kiln::isStaticMemRef(v))
      return false;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  int64_t work = 1;
  for (int64_t r : ranges)
    work *= r;
  for (unsigned d = 0; d < ranges.size(); ++d) {
    if (iterators[d] != utils::IteratorType::parallel || ranges[d] < 2 ||
        (run.range && ranges[d] != run.range))
      continue;
    llvm::MapVector<Value, int64_t> cuts = run.buffers;
    llvm::SetVector<Value> written = run.written;
    bool ok = true;
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = operand.get();
      if (!isa<MemRefType>(v.getType()))
        continue;
      std::optional<int64_t> at =
          kiln::positionOf(op.getMatchingIndexingMap(&operand), d);
      // A reduction reads nothing whole (that would be a contraction).
      if (!at || (*at < 0 &&
                  (op.isDpsInit(&operand) || op.getNumReductionLoops() > 0))) {
        ok = false;
        break;
      }
      auto [it, inserted] = cuts.insert({v, *at});
      ok &= it->second == *at;
      if (op.isDpsInit(&operand))
        written.insert(v);
    }
    // What is read whole must not be written in the run; distinct buffers
    // must not overlap.
    for (auto [v, at] : cuts)
      ok &= at >= 0 || !written.contains(v);
    for (auto [v, at] : cuts)
      for (auto [w, bt] : cuts)
        ok &= v == w || kiln::rootOf(v) != kiln::rootOf(w);
    if (!ok || cuts.size() > kiln::kRowsBuffers)
      continue;
    run.ops.push_back(op);
    run.range = ranges[d];
    run.unitWork = std::max(run.unitWork, work / ranges[d]);
    run.buffers = std::move(cuts);
    run.written = std::move(written);
    return true;
  }
  return false;
}

bool isReduction(linalg::LinalgOp op) {
  return op && op.getNumReductionLoops() > 0;
}

/// The runs in `block`: from a fill or a reduction, as long as ops extend
/// it (allocations between them are hoisted), ending at its last op that
/// is not a fill (a trailing fill is a matmul's initializer, say), with a
/// reduction and another op.
SmallVector<Run> findRuns(Block &block) {
  SmallVector<Run> runs;
  for (auto it = block.begin(); it != block.end();) {
    Operation *start = &*it;
    if (!isa<linalg::FillOp>(start) &&
        !isReduction(dyn_cast<linalg::LinalgOp>(start))) {
      ++it;
      continue;
    }
    Run run;
    for (auto next = it; next != block.end(); ++next) {
      if (isa<memref::AllocOp>(&*next)) {
        run.allocs.push_back(&*next);
        continue;
      }
      auto op = dyn_cast<linalg::LinalgOp>(&*next);
      if (!op || !extend(run, op))
        break;
    }
    // Trailing fills are someone else's initializers.
    while (!run.ops.empty() && isa<linalg::FillOp>(run.ops.back()))
      run.ops.pop_back();
    if (run.ops.size() < 2 || llvm::none_of(run.ops, isReduction)) {
      ++it;
      continue;
    }
    // The ops kept, with their cuts recomputed (the dropped fills' buffers
    // gone), and the allocations before the last of them.
    Run kept;
    for (linalg::LinalgOp op : run.ops)
      (void)extend(kept, op);
    for (Operation *alloc : run.allocs)
      if (alloc->isBeforeInBlock(run.ops.back()))
        kept.allocs.push_back(alloc);
    it = std::next(run.ops.back()->getIterator());
    runs.push_back(std::move(kept));
  }
  return runs;
}

struct FuseRowsPass : kiln::impl::FuseRowsBase<FuseRowsPass> {
  using FuseRowsBase::FuseRowsBase;

  void runOnOperation() override {
    SmallVector<Run> runs;
    for (auto fn : getOperation().getOps<func::FuncOp>())
      for (Block &block : fn.getBody())
        runs.append(findRuns(block));
    for (Run &run : runs)
      fuse(run);
  }

  void fuse(Run &run) {
    linalg::LinalgOp first = run.ops.front();
    for (Operation *alloc : run.allocs)
      alloc->moveBefore(first);
    // Pieces of s indices: the largest divisor of the range with at most
    // `piece-work` iterations in a piece.
    int64_t size = 1;
    for (int64_t s = run.range; s >= 1; --s)
      if (run.range % s == 0 && s * run.unitWork <= pieceWork) {
        size = s;
        break;
      }
    int64_t pieces = run.range / size;
    SmallVector<Value> buffers;
    for (auto [v, at] : run.buffers)
      buffers.push_back(v);
    llvm::SetVector<Value> captured;
    for (linalg::LinalgOp op : run.ops) {
      getUsedValuesDefinedAbove(op->getRegions(), captured);
      for (Value v : op->getOperands())
        if (!isa<MemRefType>(v.getType()))
          captured.insert(v);
    }
    bool threads = parallel && pieces > 1 &&
                   run.range * run.unitWork >= parallelMinWork &&
                   llvm::all_of(captured, [](Value v) {
                     Operation *def = v.getDefiningOp();
                     return def && def->hasTrait<OpTrait::ConstantLike>();
                   });
    // The run's ops on piece [begin, end) of the buffers `mems`.
    auto body = [&](OpBuilder &b, Location l, ArrayRef<Value> mems, Value begin,
                    Value end, bool cloneConstants) {
      IRMapping mapping;
      if (cloneConstants)
        for (Value v : captured)
          mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
      auto loop = b.create<scf::ForOp>(l, begin, end,
                                       b.create<arith::ConstantIndexOp>(l, 1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value offset = b.create<arith::MulIOp>(
          l, loop.getInductionVar(), b.create<arith::ConstantIndexOp>(l, size));
      for (auto [i, entry] : llvm::enumerate(run.buffers)) {
        auto [v, at] = entry;
        if (at < 0) {
          mapping.map(v, mems[i]);
          continue;
        }
        mapping.map(v, kiln::pieceView(b, l, mems[i], at, offset, size));
      }
      for (linalg::LinalgOp op : run.ops)
        b.clone(*op, mapping);
    };
    Location loc = first.getLoc();
    OpBuilder b(first);
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value count = b.create<arith::ConstantIndexOp>(loc, pieces);
    if (threads) {
      // The kernel's nodes: every op of the run's (a LayerNorm's six).
      SmallVector<Location> locs;
      for (linalg::LinalgOp op : run.ops)
        locs.push_back(op->getLoc());
      func::FuncOp fn = kiln::createRowsFunction(
          first->getParentOfType<func::FuncOp>(),
          FusedLoc::get(b.getContext(), locs), TypeRange(buffers), "rows",
          [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
              ArrayRef<BlockArgument> idx) {
            SmallVector<Value> values(mems.begin(), mems.end());
            body(fb, l, values, idx[2], idx[3], /*cloneConstants=*/true);
          });
      kiln::emitParallelRows(b, loc, fn, buffers, zero, zero, count);
    } else {
      body(b, loc, buffers, zero, count, /*cloneConstants=*/false);
    }
    for (linalg::LinalgOp op : run.ops)
      op->erase();
  }
};

} // namespace
