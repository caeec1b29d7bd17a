//===- TileAndVectorize.cpp - Register-tile and vectorise matmuls ---------===//
//
// This file implements kiln-tile-and-vectorize. Each linalg.matmul (and each
// batch of a linalg.batch_matmul) is tiled into [tileM x tileN x tileK]
// register blocks with scf.for loops; loops whose trip does not divide are
// peeled so that every full tile has a static shape, and full tiles are
// vectorised into vector.contract ops. After bufferization the accumulator
// reads and writes are hoisted out of the K loop, and the contracts become
// outer-product FMAs, so a tile's accumulators live in registers for the whole
// K loop.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_TILEANDVECTORIZE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Marks the tiled ops this pass produces, so that only they are vectorised.
constexpr const char *kTileMarker = "kiln.register_tile";

struct TileAndVectorizePass
    : kiln::impl::TileAndVectorizeBase<TileAndVectorizePass> {
  using TileAndVectorizeBase::TileAndVectorizeBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    SmallVector<linalg::LinalgOp> targets;
    func.walk([&](linalg::LinalgOp op) {
      // f32 matmuls are kiln-lower-matmuls' after bufferization.
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          op.hasPureTensorSemantics() && !op.hasDynamicShape() &&
          !getElementTypeOrSelf(op->getResult(0).getType()).isF32())
        targets.push_back(op);
    });

    SmallVector<scf::ForOp> toPeel;
    for (linalg::LinalgOp op : targets) {
      bool batched = isa<linalg::BatchMatmulOp>(op);
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      int64_t m = ranges[batched ? 1 : 0], n = ranges[batched ? 2 : 1];
      // Small problems are not worth a loop nest of their own.
      if (m * n < 64)
        continue;
      SmallVector<OpFoldResult> sizes;
      if (batched)
        sizes.push_back(rewriter.getIndexAttr(1));
      sizes.push_back(rewriter.getIndexAttr(std::min<int64_t>(tileM, m)));
      sizes.push_back(rewriter.getIndexAttr(std::min<int64_t>(tileN, n)));
      sizes.push_back(
          rewriter.getIndexAttr(std::min<int64_t>(tileK, ranges.back())));
      scf::SCFTilingOptions options;
      options.setTileSizes(sizes);
      rewriter.setInsertionPoint(op);
      auto tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled)) {
        op.emitWarning("could not be tiled; left as loops");
        continue;
      }
      for (Operation *t : tiled->tiledOps)
        t->setAttr(kTileMarker, rewriter.getUnitAttr());
      rewriter.replaceOp(op, tiled->replacements);
      for (LoopLikeOpInterface loop : tiled->loops)
        if (auto forOp = dyn_cast<scf::ForOp>(loop.getOperation()))
          toPeel.push_back(forOp);
    }

    // Peel loops whose step does not divide their trip, so full tiles are
    // static; the remainder iteration keeps a dynamic (scalar) tile.
    for (scf::ForOp forOp : toPeel) {
      scf::ForOp partial;
      (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, partial);
    }

    // Fold the now-constant tile sizes into the slice and op types.
    {
      RewritePatternSet patterns(&getContext());
      for (Dialect *d : getContext().getLoadedDialects())
        d->getCanonicalizationPatterns(patterns);
      for (RegisteredOperationName name :
           getContext().getRegisteredOperations())
        name.getCanonicalizationPatterns(patterns, &getContext());
      if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    SmallVector<linalg::LinalgOp> tiles;
    func.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(kTileMarker)) {
        op->removeAttr(kTileMarker);
        if (!op.hasDynamicShape())
          tiles.push_back(op);
      }
    });
    for (linalg::LinalgOp op : tiles) {
      rewriter.setInsertionPoint(op);
      (void)linalg::vectorize(rewriter, op);
    }

    // The vectorizer emits broadcast + mulf + multi_reduction; fold that back
    // into vector.contract, which lowers to outer-product FMAs.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns,
                                                        &getContext());
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
