//===- CollapseElementwise.cpp - Long inner loops for elementwise ops -----===//
//
// This file implements kiln-collapse-elementwise. An elementwise
// linalg.generic on memrefs (every loop parallel, every map the identity)
// that is left to linalg-to-loops becomes a nest whose innermost loop runs
// along the last dimension only: 14 or 7 iterations for a late CNN layer,
// too few for LLVM's vectoriser (which wants a whole vector of them) and
// so scalar code. Where the trailing dimensions are contiguous in every
// operand, this pass merges them into one (memref.collapse_shape views,
// linalg::collapseOpIterationDims), so the innermost loop runs over all of
// them at once: a requantization or a residual Add of an 8-bit model, a
// slice of channels that kiln-parallelize-loops gave one thread. A
// linalg.fill's contiguous dims, leading or trailing, merge the same way.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

namespace kiln {
#define GEN_PASS_DEF_COLLAPSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct CollapseElementwisePass
    : kiln::impl::CollapseElementwiseBase<CollapseElementwisePass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) { generics.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : generics)
      collapse(rewriter, op);
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp op) { fills.push_back(op); });
    for (linalg::FillOp op : fills)
      collapse(rewriter, op);
  }

  /// A fill of a strided view: each run of its dims that are contiguous
  /// merged into one, leading ones too. A batched buffer's padding border
  /// ([images][channels][1][columns]) is then one loop over the images'
  /// channels rather than two, which LLVM had unrolled whole (ResNet-18 at
  /// batch 8: 512 memsets in one block, 4.4 s of code generation each).
  void collapse(IRRewriter &rewriter, linalg::FillOp op) {
    auto type = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
    if (!op.hasPureBufferSemantics() || !type || !type.hasStaticShape() ||
        type.getRank() < 2)
      return;
    SmallVector<ReassociationIndices> dims{{0}};
    for (int64_t d = 1; d < type.getRank(); ++d) {
      SmallVector<ReassociationIndices> wider = dims;
      wider.back().push_back(d);
      SmallVector<ReassociationIndices> trial = wider;
      for (int64_t e = d + 1; e < type.getRank(); ++e)
        trial.push_back({e});
      if (memref::CollapseShapeOp::isGuaranteedCollapsible(type, trial))
        dims = std::move(wider);
      else
        dims.push_back({d});
    }
    if (static_cast<int64_t>(dims.size()) == type.getRank())
      return;
    rewriter.setInsertionPoint(op);
    Value view = rewriter.create<memref::CollapseShapeOp>(
        op.getLoc(), op.getDpsInits()[0], dims);
    rewriter.create<linalg::FillOp>(op.getLoc(), op.getDpsInputs()[0], view);
    rewriter.eraseOp(op);
  }

  /// The first dim of the longest trailing group that every operand can
  /// merge into one (contiguous in memory), or the rank when none can.
  static int64_t firstCollapsible(linalg::GenericOp op, int64_t rank) {
    int64_t first = rank - 1;
    while (first > 0) {
      ReassociationIndices group;
      for (int64_t d = first - 1; d < rank; ++d)
        group.push_back(d);
      SmallVector<ReassociationIndices> reassociation;
      for (int64_t d = 0; d < first - 1; ++d)
        reassociation.push_back({d});
      reassociation.push_back(group);
      bool ok = llvm::all_of(op->getOperands(), [&](Value v) {
        auto type = cast<MemRefType>(v.getType());
        return memref::CollapseShapeOp::isGuaranteedCollapsible(type,
                                                                reassociation);
      });
      if (!ok)
        break;
      --first;
    }
    return first;
  }

  void collapse(IRRewriter &rewriter, linalg::GenericOp op) {
    int64_t rank = op.getNumLoops();
    if (!op.hasPureBufferSemantics() || rank < 2 ||
        op.getNumReductionLoops() != 0 ||
        !llvm::all_of(op.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); }) ||
        !llvm::all_of(op->getOperands(), [](Value v) {
          auto t = dyn_cast<MemRefType>(v.getType());
          return t && t.hasStaticShape();
        }))
      return;
    int64_t first = firstCollapsible(op, rank);
    if (first >= rank - 1)
      return;
    SmallVector<ReassociationIndices> dims;
    for (int64_t d = 0; d < first; ++d)
      dims.push_back({d});
    ReassociationIndices group;
    for (int64_t d = first; d < rank; ++d)
      group.push_back(d);
    dims.push_back(group);
    rewriter.setInsertionPoint(op);
    auto collapsed = linalg::collapseOpIterationDims(
        cast<linalg::LinalgOp>(op.getOperation()), dims, rewriter);
    if (failed(collapsed))
      return;
    rewriter.eraseOp(op);
  }
};

} // namespace
