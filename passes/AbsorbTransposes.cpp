//===- AbsorbTransposes.cpp - Transposes as strided views of matmuls ------===//
//
// This file implements kiln-absorb-transposes. Attention splits its Q, K and
// V projections into heads ([S, H*D] as [S, H, D], transposed to [H, S, D])
// and merges the heads of its context back ([H, S, D] to [S, H, D]): each
// a linalg.transpose that copies a buffer, a loop over memory of its own.
// Where the transpose keeps the innermost dimension in place, a batched
// matmul can read its operand as a strided view of the transpose's input
// instead ([H, S, D] with strides [D, H*D, 1]), as ONNX Runtime's
// attention kernels do, and the copy goes:
//
//   `transpose ins(X) outs(Y)` whose Y only matmuls read afterwards: they
//   read X through a memref.reinterpret_cast with the permuted strides
//   instead (through a collapse_shape of Y, the permuted strides collapsed:
//   the heads of a 4-d [1, H, S, D] as the 3-d batch). X must then stay
//   as it is until they have; where bufferization reuses its buffer before
//   that (V's bias written where Q's was), the op that wrote X for the
//   transpose gets a buffer of its own.
//
// The K^T of attention moves the innermost dimension and stays a copy
// (kiln-lower-transposes); so does the merge of the context's heads, which
// the batched matmul would have to write through the view (not yet).
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_ABSORBTRANSPOSES
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// A use of a buffer: the op, directly or through one collapse_shape,
/// expand_shape or reinterpret_cast (`reshape`, else null).
struct BufferUse {
  OpOperand *operand;
  Operation *reshape;
};

/// The uses of alloc `buffer`, directly or through one reshape; none when
/// some other op (a subview, a call, a return) uses it or a reshape of it.
std::optional<SmallVector<BufferUse>> usesOf(Value buffer) {
  SmallVector<BufferUse> uses;
  for (OpOperand &use : buffer.getUses()) {
    Operation *user = use.getOwner();
    if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
            memref::ReinterpretCastOp>(user)) {
      for (OpOperand &inner : user->getResult(0).getUses()) {
        if (!isa<linalg::LinalgOp>(inner.getOwner()))
          return std::nullopt;
        uses.push_back({&inner, user});
      }
    } else if (isa<linalg::LinalgOp>(user)) {
      uses.push_back({&use, nullptr});
    } else if (!isa<memref::DeallocOp>(user)) {
      return std::nullopt;
    }
  }
  return uses;
}

/// Whether linalg op `op` overwrites all of its init `operand` without
/// reading it: the identity map over parallel loops, and a body that does
/// not use the old value (a fill, a copy, an elementwise op; not a matmul,
/// which adds to C).
bool overwritesAll(linalg::LinalgOp op, OpOperand *operand) {
  return op.isDpsInit(operand) &&
         op.getMatchingIndexingMap(operand).isIdentity() &&
         !op.payloadUsesValueFromOperand(operand) &&
         llvm::all_of(op.getIteratorTypesArray(), [](utils::IteratorType t) {
           return t == utils::IteratorType::parallel;
         });
}

/// Sizes and strides of a view of a buffer.
struct ViewShape {
  SmallVector<int64_t> sizes, strides;
};

/// `view` collapsed as `collapse` collapses its source: each group's dims
/// of more than one element must be contiguous (a unit dim's stride does
/// not matter, which memref.collapse_shape's own check does not know).
std::optional<ViewShape> collapsed(const ViewShape &view,
                                   memref::CollapseShapeOp collapse) {
  ViewShape out;
  for (ReassociationIndices group : collapse.getReassociationIndices()) {
    int64_t size = 1, stride = 1;
    std::optional<int64_t> inner;
    for (int64_t d : llvm::reverse(group)) {
      size *= view.sizes[d];
      if (view.sizes[d] == 1)
        continue;
      if (inner && view.strides[d] != view.strides[*inner] * view.sizes[*inner])
        return std::nullopt;
      if (!inner)
        stride = view.strides[d];
      inner = d;
    }
    out.sizes.push_back(size);
    out.strides.push_back(stride);
  }
  return out;
}

struct AbsorbTransposesPass
    : kiln::impl::AbsorbTransposesBase<AbsorbTransposesPass> {
  void runOnOperation() override {
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk([&](linalg::TransposeOp t) {
      ArrayRef<int64_t> perm = t.getPermutation();
      if (t.hasPureBufferSemantics() && !perm.empty() &&
          perm.back() == static_cast<int64_t>(perm.size()) - 1 &&
          kiln::isStaticMemRef(t.getInput()) &&
          kiln::isStaticMemRef(t.getInit()))
        transposes.push_back(t);
    });
    for (linalg::TransposeOp t : transposes)
      absorbIntoReaders(t);
  }

  /// `transpose ins(X) outs(Y)`: Y's readers read a view of X instead.
  bool absorbIntoReaders(linalg::TransposeOp t) {
    Value x = t.getInput(), y = t.getInit();
    auto xAlloc = x.getDefiningOp<memref::AllocOp>();
    if (!xAlloc || !y.getDefiningOp<memref::AllocOp>())
      return false;
    Block *block = t->getBlock();
    std::optional<SmallVector<BufferUse>> yUses = usesOf(y);
    std::optional<SmallVector<BufferUse>> xUses = usesOf(x);
    if (!yUses || !xUses)
      return false;
    // The readers of Y as T wrote it: after T, up to the next op that
    // writes Y's buffer (bufferization reuses it), which may read it too.
    Operation *nextWriteY = nullptr;
    for (BufferUse use : *yUses) {
      Operation *user = use.operand->getOwner();
      if (user->getBlock() != block)
        return false;
      if (t->isBeforeInBlock(user) &&
          cast<linalg::LinalgOp>(user).isDpsInit(use.operand) &&
          (!nextWriteY || user->isBeforeInBlock(nextWriteY)))
        nextWriteY = user;
    }
    SmallVector<BufferUse> readers;
    Operation *last = nullptr;
    for (BufferUse use : *yUses) {
      Operation *user = use.operand->getOwner();
      auto op = cast<linalg::LinalgOp>(user);
      if (!t->isBeforeInBlock(user) ||
          (nextWriteY && nextWriteY->isBeforeInBlock(user)) ||
          op.isDpsInit(use.operand))
        continue;
      // Only a matmul: kiln-lower-matmuls reads any strided operand whose
      // rows are contiguous as fast, where a convolution or a loop might not.
      if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(user) ||
          !op.hasPureBufferSemantics())
        return false;
      readers.push_back(use);
      if (!last || last->isBeforeInBlock(user))
        last = user;
    }
    if (!last)
      return false;
    // X as T reads it must stay until the last reader. If its buffer is
    // written again before that (bufferization reuses it), the op W that
    // wrote it for T gets a buffer of its own, which nothing but T reads.
    linalg::LinalgOp writer;
    OpOperand *writerInit = nullptr;
    Operation *nextWrite = nullptr;
    for (BufferUse use : *xUses) {
      Operation *user = use.operand->getOwner();
      if (user->getBlock() != block)
        return false;
      auto op = cast<linalg::LinalgOp>(user);
      if (!op.isDpsInit(use.operand))
        continue;
      if (user->isBeforeInBlock(t)) {
        if (!writer || writer->isBeforeInBlock(user)) {
          writer = op;
          writerInit = use.operand;
        }
      } else if (!nextWrite || user->isBeforeInBlock(nextWrite)) {
        nextWrite = user;
      }
    }
    bool ownBuffer =
        nextWrite && (nextWrite == last || nextWrite->isBeforeInBlock(last));
    if (ownBuffer) {
      if (!writer || writerInit->get() != x || readsItsInit(writer, x) ||
          !overwritesAll(writer, writerInit))
        return false;
      for (BufferUse use : *xUses) {
        Operation *user = use.operand->getOwner();
        if (user != t.getOperation() && user != writer.getOperation() &&
            writer->isBeforeInBlock(user) && user->isBeforeInBlock(nextWrite))
          return false; // another reader of W's X
      }
    }
    // Y as a view of X: its dim i is X's dim perm[i]; a reader through a
    // collapse_shape gets that collapsed. All are checked before anything
    // changes.
    auto xType = cast<MemRefType>(x.getType());
    SmallVector<int64_t> xStrides;
    int64_t xOffset;
    if (failed(getStridesAndOffset(xType, xStrides, xOffset)) || xOffset != 0)
      return false;
    ViewShape yView;
    for (int64_t d : t.getPermutation()) {
      yView.sizes.push_back(xType.getDimSize(d));
      yView.strides.push_back(xStrides[d]);
    }
    SmallVector<ViewShape> views;
    for (BufferUse use : readers) {
      if (!use.reshape) {
        views.push_back(yView);
        continue;
      }
      auto collapse = dyn_cast<memref::CollapseShapeOp>(use.reshape);
      std::optional<ViewShape> shape =
          collapse ? collapsed(yView, collapse) : std::nullopt;
      if (!shape)
        return false;
      views.push_back(*shape);
    }
    if (ownBuffer)
      x = giveOwnBuffer(writer, writerInit, xAlloc);
    OpBuilder b(t);
    SmallVector<std::pair<OpOperand *, Value>> replacements;
    for (auto [use, shape] : llvm::zip(readers, views)) {
      auto type = MemRefType::get(
          shape.sizes, xType.getElementType(),
          StridedLayoutAttr::get(b.getContext(), 0, shape.strides));
      Value view = b.create<memref::ReinterpretCastOp>(
          t.getLoc(), type, x, 0, shape.sizes, shape.strides);
      replacements.push_back({use.operand, view});
    }
    for (auto [operand, v] : replacements)
      operand->set(v);
    t->erase();
    // Y's reshapes and Y itself, if nothing uses them now (a buffer left
    // would still be planned a place in the workspace).
    llvm::SetVector<Operation *> reshapes;
    for (BufferUse use : readers)
      if (use.reshape)
        reshapes.insert(use.reshape);
    for (Operation *reshape : reshapes)
      if (reshape->use_empty())
        reshape->erase();
    if (y.use_empty())
      y.getDefiningOp()->erase();
    return true;
  }

  /// A new buffer like `like` for `writer` to write instead of its init
  /// `init` (the transpose that read it goes).
  static Value giveOwnBuffer(linalg::LinalgOp writer, OpOperand *init,
                             memref::AllocOp like) {
    OpBuilder b(writer);
    auto own = b.create<memref::AllocOp>(like.getLoc(), like.getType(),
                                         like.getAlignmentAttr());
    init->set(own);
    return own;
  }

  /// Whether `writer` reads `x` too (an elementwise op in place).
  static bool readsItsInit(linalg::LinalgOp writer, Value x) {
    for (OpOperand &operand : writer->getOpOperands())
      if (!writer.isDpsInit(&operand) && kiln::rootOf(operand.get()) == x)
        return true;
    return false;
  }
};

} // namespace
