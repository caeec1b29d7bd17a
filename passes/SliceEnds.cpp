//===- SliceEnds.cpp - A kernel's ends for each slice of a layer ----------===//
//
// This file implements kiln-slice-ends. A convolution of a batch of images
// (or of groups) is one matmul per image, each writing its slice of one
// accumulator buffer R [N, F, P]; R is first filled whole with the bias,
// and the ops after the layer (its Relu, the residual Add) read all of R in
// one elementwise generic over the batch. FusedEnds, which fuses an
// initializer and an epilogue into the kernel that writes all of a buffer,
// sees neither for such a matmul: ResNet-18 at batch 8 passed over memory
// three times a layer (bias, matmul, Relu) where at batch 1 it passes once.
//
// For each such layer this pass gives every matmul a buffer of its own,
// the initializer's slice right before it and the epilogue's slice right
// after it, so that kiln-lower-matmuls fuses them as it does for one image.
// The slices are along the one dim of R in which the matmuls' boxes differ
// (the image, or the group); the epilogue reads R through reshapes that
// keep that dim whole. A fill of the buffer the epilogue writes into (the
// next layer's padded input) first keeps to that buffer's border.
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kiln {
#define GEN_PASS_DEF_SLICEENDS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The roots `op` (and the ops in its regions) may read and may write:
/// a linalg op without nested memref ops reads its inputs and writes its
/// inits; any other op with memory effects reads and writes all it uses.
void effectsOf(Operation *op, llvm::SmallPtrSetImpl<Value> &reads,
               llvm::SmallPtrSetImpl<Value> &writes) {
  if (kiln::isViewOp(op) || isa<memref::AllocOp>(op) || isMemoryEffectFree(op))
    return;
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
      linalgOp && linalgOp.hasPureBufferSemantics()) {
    for (Value in : linalgOp.getDpsInputs())
      if (isa<MemRefType>(in.getType()))
        reads.insert(kiln::rootOf(in));
    for (Value out : linalgOp.getDpsInits()) {
      reads.insert(kiln::rootOf(out));
      writes.insert(kiln::rootOf(out));
    }
    return;
  }
  op->walk([&](Operation *nested) {
    for (Value v : nested->getOperands())
      if (isa<MemRefType>(v.getType())) {
        reads.insert(kiln::rootOf(v));
        writes.insert(kiln::rootOf(v));
      }
  });
}

/// A layer as this pass finds it: `init` fills all of `root`, each of
/// `kernels` writes one box of it (they tile it along `dim`), and then
/// `epilogue` reads all of it, through `chain` (reshapes from the root to
/// its operand), in which the root's `dim` is the epilogue's loop dim
/// `loopDim`.
struct Layer {
  Value root;
  Operation *init;
  SmallVector<linalg::MatmulOp> kernels;
  SmallVector<memref::SubViewOp> outs;
  SmallVector<kiln::Box> boxes;
  int64_t dim;
  linalg::GenericOp epilogue;
  SmallVector<Operation *> chain;
  unsigned rootArg;
  int64_t loopDim;
};

/// The loop dim of `generic` that operand `map`'s result `r` is, or -1.
int64_t loopDimOf(AffineMap map, unsigned r) {
  if (auto d = dyn_cast<AffineDimExpr>(map.getResult(r)))
    return d.getPosition();
  return -1;
}

/// Whether every operand of `generic` can be cut along loop dim `loopDim`
/// (each map either has it as a plain result or does not use it).
bool sliceable(linalg::GenericOp generic, int64_t loopDim) {
  for (AffineMap map : generic.getIndexingMapsArray()) {
    bool plain = false;
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      plain |= loopDimOf(map, r) == loopDim;
    if (!plain && map.isFunctionOfDim(loopDim))
      return false;
  }
  return true;
}

/// A copy of `generic` at `b`'s insertion point over [offset, offset +
/// size) of loop dim `loopDim`: each operand cut there (the ones in
/// `replaced` replaced instead).
void cloneSlice(OpBuilder &b, linalg::GenericOp generic, int64_t loopDim,
                int64_t offset, int64_t size, const IRMapping &replaced) {
  Location loc = generic.getLoc();
  IRMapping mapping;
  for (OpOperand &operand : generic->getOpOperands()) {
    Value v = operand.get();
    if (mapping.contains(v))
      continue;
    if (Value r = replaced.lookupOrNull(v)) {
      mapping.map(v, r);
      continue;
    }
    AffineMap map = generic.getMatchingIndexingMap(&operand);
    auto type = dyn_cast<MemRefType>(v.getType());
    int64_t r = -1;
    for (unsigned i = 0; type && i < map.getNumResults(); ++i)
      if (loopDimOf(map, i) == loopDim)
        r = i;
    if (r < 0)
      continue;
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes,
        strides(type.getRank(), b.getIndexAttr(1));
    for (int64_t d = 0; d < type.getRank(); ++d)
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
    offsets[r] = b.getIndexAttr(offset);
    sizes[r] = b.getIndexAttr(size);
    mapping.map(v,
                b.create<memref::SubViewOp>(loc, v, offsets, sizes, strides));
  }
  b.clone(*generic, mapping);
}

struct SliceEndsPass : kiln::impl::SliceEndsBase<SliceEndsPass> {
  /// The layers in which `alloc` is R; with `movable`, only those whose
  /// ends' slices can move to their kernels.
  static SmallVector<Layer, 2> findLayers(memref::AllocOp alloc, bool movable) {
    SmallVector<Layer, 2> layers;
    Value root = alloc.getResult();
    auto rootType = cast<MemRefType>(root.getType());
    if (!rootType.hasStaticShape() || !rootType.getLayout().isIdentity())
      return layers;
    Block *block = alloc->getBlock();
    SmallVector<Operation *> accesses;
    kiln::accessesOf(root, accesses);
    if (llvm::any_of(accesses,
                     [&](Operation *op) { return op->getBlock() != block; }))
      return layers;
    llvm::sort(accesses, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    for (size_t i = 0; i < accesses.size(); ++i) {
      Layer layer;
      layer.root = root;
      layer.init = accesses[i];
      if (!initFills(layer.init, root))
        continue;
      size_t j = i + 1;
      for (; j < accesses.size(); ++j) {
        auto matmul = dyn_cast<linalg::MatmulOp>(accesses[j]);
        if (!matmul || !matmul.hasPureBufferSemantics())
          break;
        auto sub = matmul.getDpsInits()[0].getDefiningOp<memref::SubViewOp>();
        std::optional<kiln::Box> box =
            sub ? kiln::staticBox(sub) : std::nullopt;
        if (!box || sub.getSource() != root ||
            llvm::any_of(matmul.getDpsInputs(),
                         [&](Value in) { return kiln::rootOf(in) == root; }))
          break;
        layer.kernels.push_back(matmul);
        layer.outs.push_back(sub);
        layer.boxes.push_back(*box);
      }
      if (layer.kernels.size() < 2 || j >= accesses.size() ||
          !tiles(layer, rootType))
        continue;
      layer.epilogue = dyn_cast<linalg::GenericOp>(accesses[j]);
      if (!layer.epilogue || !epilogueReads(layer))
        continue;
      // What the kernels leave in R must be dead after the epilogue.
      if (j + 1 < accesses.size() && !initFills(accesses[j + 1], root))
        continue;
      if (movable && !independent(layer))
        continue;
      layers.push_back(std::move(layer));
      i = j;
    }
    return layers;
  }

  /// `op` writes all of `root` from constants: a fill of a constant, or a
  /// broadcast of constant data (a bias), with no other effect.
  static bool initFills(Operation *op, Value root) {
    if (auto fill = dyn_cast<linalg::FillOp>(op))
      return fill.hasPureBufferSemantics() && fill.getOutputs()[0] == root &&
             fill.getInputs()[0].getDefiningOp() &&
             fill.getInputs()[0]
                 .getDefiningOp()
                 ->hasTrait<OpTrait::ConstantLike>();
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (!generic || !generic.hasPureBufferSemantics() ||
        generic.getNumDpsInits() != 1 || generic.getDpsInits()[0] != root ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isPermutation() ||
        generic.payloadUsesValueFromOperand(generic.getDpsInitOperand(0)) ||
        generic.getNumParallelLoops() != generic.getNumLoops())
      return false;
    return llvm::all_of(generic.getDpsInputs(), [](Value in) {
      return !isa<MemRefType>(in.getType()) ||
             in.getDefiningOp<memref::GetGlobalOp>();
    });
  }

  /// The kernels' boxes differ in one dim only and tile it.
  static bool tiles(Layer &layer, MemRefType rootType) {
    int64_t rank = rootType.getRank();
    layer.dim = -1;
    for (int64_t d = 0; d < rank; ++d) {
      bool whole = llvm::all_of(layer.boxes, [&](const kiln::Box &box) {
        return box.offsets[d] == 0 && box.sizes[d] == rootType.getDimSize(d);
      });
      if (whole)
        continue;
      if (layer.dim >= 0)
        return false;
      layer.dim = d;
    }
    if (layer.dim < 0)
      return false;
    SmallVector<std::pair<int64_t, int64_t>> pieces;
    for (const kiln::Box &box : layer.boxes)
      pieces.push_back({box.offsets[layer.dim], box.sizes[layer.dim]});
    llvm::sort(pieces);
    int64_t next = 0;
    for (auto [offset, size] : pieces) {
      if (offset != next)
        return false;
      next += size;
    }
    return next == rootType.getDimSize(layer.dim);
  }

  /// The epilogue is elementwise, reads all of R through reshapes that keep
  /// the slices' dim whole, with an identity map, and can be cut along it.
  static bool epilogueReads(Layer &layer) {
    linalg::GenericOp e = layer.epilogue;
    if (!e.hasPureBufferSemantics() || e.getNumDpsInits() != 1 ||
        e.getNumParallelLoops() != e.getNumLoops() ||
        kiln::rootOf(e.getDpsInits()[0]) == layer.root)
      return false;
    int found = 0;
    for (OpOperand *in : e.getDpsInputOperands()) {
      if (kiln::rootOf(in->get()) != layer.root)
        continue;
      ++found;
      layer.rootArg = in->getOperandNumber();
      if (!e.getMatchingIndexingMap(in).isIdentity())
        return false;
    }
    if (found != 1)
      return false;
    // The chain from R to the operand, and where the dim goes.
    layer.chain.clear();
    int64_t dim = layer.dim;
    for (Value v = e->getOperand(layer.rootArg); v != layer.root;) {
      Operation *def = v.getDefiningOp();
      layer.chain.insert(layer.chain.begin(), def);
      if (auto expand = dyn_cast_or_null<memref::ExpandShapeOp>(def))
        v = expand.getSrc();
      else if (auto collapse = dyn_cast_or_null<memref::CollapseShapeOp>(def))
        v = collapse.getSrc();
      else
        return false;
    }
    for (Operation *op : layer.chain) {
      if (auto expand = dyn_cast<memref::ExpandShapeOp>(op)) {
        ReassociationIndices group = expand.getReassociationIndices()[dim];
        if (group.size() != 1)
          return false;
        dim = group.front();
      } else {
        auto collapse = cast<memref::CollapseShapeOp>(op);
        auto groups = collapse.getReassociationIndices();
        auto it = llvm::find_if(groups, [&](const ReassociationIndices &g) {
          return llvm::is_contained(g, dim);
        });
        if (it->size() != 1)
          return false;
        dim = it - groups.begin();
      }
    }
    layer.loopDim = dim;
    return sliceable(e, dim);
  }

  /// The epilogue's slices may move up to right after their kernels: no op
  /// in between (the kernels' other work, the next layer's pad) writes
  /// what the epilogue reads, or touches what it writes but for fills of
  /// boxes it does not write; what it uses can be defined before the first
  /// kernel. So may the initializer's slices down to their kernels.
  static bool independent(const Layer &layer) {
    linalg::GenericOp e = layer.epilogue;
    Value out = e.getDpsInits()[0];
    Value outRoot = kiln::rootOf(out);
    auto outSub = out.getDefiningOp<memref::SubViewOp>();
    std::optional<kiln::Box> outBox = outSub && outSub.getSource() == outRoot
                                          ? kiln::staticBox(outSub)
                                          : std::nullopt;
    llvm::SmallPtrSet<Value, 8> inRoots;
    for (Value in : e.getDpsInputs())
      if (isa<MemRefType>(in.getType()) && kiln::rootOf(in) != layer.root)
        inRoots.insert(kiln::rootOf(in));
    if (inRoots.contains(outRoot))
      return false;
    Operation *first = layer.kernels.front();
    for (Operation *op = first->getNextNode(); op != e;
         op = op->getNextNode()) {
      if (outBox && kiln::fillsOutside(op, outRoot, *outBox))
        continue;
      llvm::SmallPtrSet<Value, 8> reads, writes;
      effectsOf(op, reads, writes);
      if (reads.contains(outRoot) || writes.contains(outRoot))
        return false;
      for (Value w : writes)
        if (inRoots.contains(w))
          return false;
    }
    for (Value operand : e->getOperands())
      if (operand != e->getOperand(layer.rootArg) &&
          !kiln::hoistAbove(operand, first, /*dryRun=*/true))
        return false;
    return true;
  }

  /// Gives each kernel of `layer` its own buffer, initializer and epilogue.
  static void slice(Layer &layer) {
    linalg::GenericOp e = layer.epilogue;
    Operation *first = layer.kernels.front();
    for (Value operand : e->getOperands())
      if (operand != e->getOperand(layer.rootArg))
        kiln::hoistAbove(operand, first, /*dryRun=*/false);
    auto rootType = cast<MemRefType>(layer.root.getType());
    for (auto [kernel, sub, box] :
         llvm::zip(layer.kernels, layer.outs, layer.boxes)) {
      Location loc = kernel.getLoc();
      OpBuilder b(kernel);
      // The kernel's own buffer, of its box's shape, and its view as the
      // kernel had it (rank-reduced).
      Value own = b.create<memref::AllocOp>(
          loc, MemRefType::get(box.sizes, rootType.getElementType()),
          b.getI64IntegerAttr(64));
      SmallVector<OpFoldResult> zeros(box.sizes.size(), b.getIndexAttr(0)),
          sizes = getAsIndexOpFoldResult(b.getContext(), box.sizes),
          ones(box.sizes.size(), b.getIndexAttr(1));
      auto viewType = memref::SubViewOp::inferRankReducedResultType(
          cast<MemRefType>(sub.getType()).getShape(),
          cast<MemRefType>(own.getType()), zeros, sizes, ones);
      Value view = b.create<memref::SubViewOp>(loc, cast<MemRefType>(viewType),
                                               own, zeros, sizes, ones);
      // The initializer's slice.
      int64_t offset = box.offsets[layer.dim], size = box.sizes[layer.dim];
      if (auto fill = dyn_cast<linalg::FillOp>(layer.init)) {
        b.create<linalg::FillOp>(fill.getLoc(), fill.getInputs()[0], own);
      } else {
        auto init = cast<linalg::GenericOp>(layer.init);
        AffineMap outMap =
            init.getMatchingIndexingMap(init.getDpsInitOperand(0));
        IRMapping replaced;
        replaced.map(layer.root, own);
        cloneSlice(b, init, loopDimOf(outMap, layer.dim), offset, size,
                   replaced);
      }
      kernel->replaceUsesOfWith(sub, view);
      // The epilogue's slice, R read through the chain rebuilt on the
      // kernel's buffer.
      b.setInsertionPointAfter(kernel);
      Value v = own;
      int64_t dim = layer.dim;
      for (Operation *op : layer.chain) {
        if (auto expand = dyn_cast<memref::ExpandShapeOp>(op)) {
          dim = expand.getReassociationIndices()[dim].front();
          SmallVector<int64_t> shape(expand.getResultType().getShape());
          shape[dim] = size;
          v = b.create<memref::ExpandShapeOp>(
              loc, MemRefType::get(shape, rootType.getElementType()), v,
              expand.getReassociationIndices());
        } else {
          auto collapse = cast<memref::CollapseShapeOp>(op);
          v = b.create<memref::CollapseShapeOp>(
              loc, v, collapse.getReassociationIndices());
        }
      }
      IRMapping replaced;
      replaced.map(e->getOperand(layer.rootArg), v);
      cloneSlice(b, e, layer.loopDim, offset, size, replaced);
    }
    layer.init->erase();
    e->erase();
    for (Operation *op : llvm::reverse(layer.chain))
      if (op->use_empty())
        op->erase();
    for (memref::SubViewOp sub : layer.outs)
      if (sub->use_empty())
        sub->erase();
  }

  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    getOperation().walk(
        [&](memref::AllocOp alloc) { allocs.push_back(alloc); });
    OpBuilder b(&getContext());
    for (memref::AllocOp alloc : allocs) {
      SmallVector<Layer, 2> layers = findLayers(alloc, /*movable=*/false);
      if (layers.empty())
        continue;
      for (Layer &layer : layers) {
        // The next layer's padded input, filled whole before the epilogue
        // writes its interior: the fill keeps to the border, which the
        // epilogue's slices do not write.
        Value outRoot = kiln::rootOf(layer.epilogue.getDpsInits()[0]);
        kiln::fillBorderOfPad(b, outRoot);
      }
      layers = findLayers(alloc, /*movable=*/true);
      for (Layer &layer : layers)
        slice(layer);
      if (alloc->use_empty())
        alloc->erase();
    }
  }
};

} // namespace
