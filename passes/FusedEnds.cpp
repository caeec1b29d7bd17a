//===- FusedEnds.cpp - A kernel's initializer and epilogue, fused ---------===//
//
// This file implements FusedEnds (FusedEnds.h).
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/VectorLanes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace kiln {

Value rootOf(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto op = dyn_cast<memref::SubViewOp>(def))
      v = op.getSource();
    else if (auto op = dyn_cast<memref::CollapseShapeOp>(def))
      v = op.getSrc();
    else if (auto op = dyn_cast<memref::ExpandShapeOp>(def))
      v = op.getSrc();
    else if (auto op = dyn_cast<memref::CastOp>(def))
      v = op.getSource();
    else if (auto op = dyn_cast<memref::ReinterpretCastOp>(def))
      v = op.getSource();
    else
      break;
  }
  return v;
}

bool isViewOp(Operation *op) {
  return isa<memref::SubViewOp, memref::CollapseShapeOp, memref::ExpandShapeOp,
             memref::CastOp, memref::ReinterpretCastOp>(op);
}

void accessesOf(Value root, SmallVectorImpl<Operation *> &ops) {
  SmallVector<Value> work{root};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (isViewOp(user))
        work.push_back(user->getResult(0));
      else if (!llvm::is_contained(ops, user))
        ops.push_back(user);
    }
  }
}

bool hoistAbove(Value v, Operation *before, bool dryRun) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != before->getBlock() ||
      def->isBeforeInBlock(before))
    return true;
  if ((!isMemoryEffectFree(def) && !isa<memref::AllocOp>(def)) ||
      def->getNumRegions())
    return false;
  for (Value operand : def->getOperands())
    if (!hoistAbove(operand, before, dryRun))
      return false;
  if (!dryRun)
    def->moveBefore(before);
  return true;
}

std::optional<Box> staticBox(memref::SubViewOp sub) {
  Box box{SmallVector<int64_t>(sub.getStaticOffsets()),
          SmallVector<int64_t>(sub.getStaticSizes())};
  if (llvm::any_of(box.offsets, ShapedType::isDynamic) ||
      llvm::any_of(box.sizes, ShapedType::isDynamic) ||
      llvm::any_of(sub.getStaticStrides(), [](int64_t s) { return s != 1; }))
    return std::nullopt;
  return box;
}

bool fillsOutside(Operation *op, Value root, const Box &box) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  auto sub = fill ? fill.getOutputs()[0].getDefiningOp<memref::SubViewOp>()
                  : memref::SubViewOp();
  if (!sub || sub.getSource() != root)
    return false;
  std::optional<Box> filled = staticBox(sub);
  return filled && disjoint(*filled, box);
}

bool disjoint(const Box &a, const Box &b) {
  for (size_t d = 0; d < a.offsets.size() && d < b.offsets.size(); ++d)
    if (a.offsets[d] + a.sizes[d] <= b.offsets[d] ||
        b.offsets[d] + b.sizes[d] <= a.offsets[d])
      return true;
  return false;
}

SmallVector<BorderFill> borderFillsBefore(Operation *op, Value x,
                                          ArrayRef<Operation *> readers) {
  auto xt = cast<MemRefType>(x.getType());
  if (xt.getRank() != 4)
    return {};
  Block *block = op->getBlock();
  using Box = SmallVector<std::pair<int64_t, int64_t>>; // [lo, hi) per dim
  auto boxOf = [&](memref::SubViewOp view) -> std::optional<Box> {
    Box box;
    for (auto [offset, size, stride] :
         llvm::zip(view.getStaticOffsets(), view.getStaticSizes(),
                   view.getStaticStrides())) {
      if (ShapedType::isDynamic(offset) || ShapedType::isDynamic(size) ||
          stride != 1)
        return std::nullopt;
      box.push_back({offset, offset + size});
    }
    return box;
  };
  auto overlap = [](const Box &a, const Box &b) {
    for (auto [x, y] : llvm::zip(a, b))
      if (x.second <= y.first || y.second <= x.first)
        return false;
    return true;
  };
  SmallVector<std::pair<BorderFill, Box>> fills;
  SmallVector<Box> others;
  for (Operation *user : x.getUsers()) {
    if (user == op || llvm::is_contained(readers, user))
      continue;
    Operation *at = block->findAncestorOpInBlock(*user);
    if (!at)
      return {};
    if (op->isBeforeInBlock(at))
      continue; // after op: it sees the borders written
    auto view = dyn_cast<memref::SubViewOp>(user);
    std::optional<Box> box = view ? boxOf(view) : std::nullopt;
    if (!box)
      return {};
    auto fill = view->hasOneUse()
                    ? dyn_cast<linalg::FillOp>(*view->getUsers().begin())
                    : nullptr;
    TypedAttr value;
    bool wholePlanes =
        (*box)[0] == std::make_pair<int64_t, int64_t>(0, xt.getDimSize(0)) &&
        (*box)[1] == std::make_pair<int64_t, int64_t>(0, xt.getDimSize(1));
    if (fill && fill->getBlock() == block && fill->isBeforeInBlock(op) &&
        wholePlanes && fill.getDpsInits()[0] == view.getResult() &&
        matchPattern(fill.getDpsInputs()[0], m_Constant(&value)))
      fills.push_back(
          {{fill, (*box)[2].first, (*box)[2].second - (*box)[2].first,
            (*box)[3].first, (*box)[3].second - (*box)[3].first, value},
           *box});
    else
      others.push_back(*box);
  }
  // One value (a pad's): the kernel writes rows and columns in its own
  // order.
  for (const auto &fill : fills)
    if (fill.first.value != fills.front().first.value ||
        llvm::any_of(others,
                     [&](const Box &o) { return overlap(fill.second, o); }))
      return {};
  llvm::sort(fills, [](const auto &a, const auto &b) {
    return a.first.fill->isBeforeInBlock(b.first.fill);
  });
  SmallVector<BorderFill> result;
  for (const auto &[f, box] : fills)
    result.push_back(f);
  return result;
}

void eraseBorderFills(ArrayRef<BorderFill> fills) {
  for (const BorderFill &f : fills) {
    Operation *view = f.fill->getOperand(1).getDefiningOp();
    f.fill->erase();
    view->erase();
  }
}

namespace {

bool isParallel(utils::IteratorType t) {
  return t == utils::IteratorType::parallel;
}

/// A static row-major memref without gaps, at offset 0.
bool isContiguous(Type type) {
  auto t = dyn_cast<MemRefType>(type);
  if (!t || !t.hasStaticShape())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(t, strides, offset)) || offset != 0)
    return false;
  int64_t expect = 1;
  for (int64_t i = t.getRank() - 1; i >= 0; --i) {
    if (t.getDimSize(i) != 1 && strides[i] != expect)
      return false;
    expect *= t.getDimSize(i);
  }
  return true;
}

int64_t elements(Value v) {
  return cast<MemRefType>(v.getType()).getNumElements();
}

/// `v` is all of its (contiguous) root, in the root's order.
bool coversRoot(Value v) {
  Value root = rootOf(v);
  return isContiguous(v.getType()) && isContiguous(root.getType()) &&
         elements(v) == elements(root);
}

/// The nearest op after `op` in its block that is not free of memory
/// effects (allocations aside: they only make the epilogue's buffers), nor
/// a constant fill of a buffer other than `avoid`'s (the padding of the
/// buffer the epilogue writes into), which go to `fills`.
Operation *nextWithEffects(Operation *op, ArrayRef<Value> avoid,
                           SmallVectorImpl<linalg::FillOp> &fills) {
  for (Operation *o = op->getNextNode(); o; o = o->getNextNode()) {
    if (isMemoryEffectFree(o) || isa<memref::AllocOp>(o))
      continue;
    auto fill = dyn_cast<linalg::FillOp>(o);
    if (fill && fill.hasPureBufferSemantics() &&
        !llvm::is_contained(avoid, rootOf(fill.getOutputs()[0]))) {
      fills.push_back(fill);
      continue;
    }
    return o;
  }
  return nullptr;
}

/// `v` reshaped to `like`'s shape (both contiguous, same element count):
/// a reinterpret_cast with row-major strides at offset 0.
Value reshapeLike(OpBuilder &b, Location loc, Value v, MemRefType like) {
  auto type = cast<MemRefType>(v.getType());
  if (type.getShape() == like.getShape())
    return v;
  SmallVector<int64_t> strides(like.getRank(), 1);
  for (int64_t i = like.getRank() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * like.getDimSize(i + 1);
  auto layout = StridedLayoutAttr::get(b.getContext(), 0, strides);
  auto result = MemRefType::get(like.getShape(), type.getElementType(), layout,
                                type.getMemorySpace());
  return b.create<memref::ReinterpretCastOp>(loc, result, v, 0, like.getShape(),
                                             strides);
}

/// `in`, read through the projected permutation `map` (whose results may
/// also be 0 on unit dims of `in`) over a space of
/// `space`, as a view of the kernel's output shape `like` (whose dims each
/// gather consecutive dims of the space): per dim of the space the stride
/// of `in` along it, 0 where the map drops it (a broadcast), collapsed per
/// dim of `like`. Null when a group's strides do not collapse.
Value broadcastView(OpBuilder &b, Location loc, Value in, AffineMap map,
                    ArrayRef<int64_t> space, MemRefType like) {
  auto type = cast<MemRefType>(in.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!isStaticMemRef(in) || failed(getStridesAndOffset(type, strides, offset)))
    return nullptr;
  SmallVector<int64_t> spaceStrides(space.size(), 0);
  for (auto [r, e] : llvm::enumerate(map.getResults())) {
    // A unit dim read at 0 (ONNX's broadcast of a [C, 1, 1] operand).
    if (isa<AffineConstantExpr>(e)) {
      if (type.getDimSize(r) != 1)
        return nullptr;
      continue;
    }
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    if (type.getDimSize(r) != space[d])
      return nullptr;
    spaceStrides[d] = strides[r];
  }
  SmallVector<int64_t> likeStrides;
  size_t d = 0;
  for (int64_t size : like.getShape()) {
    // The dims of the space that make this one; unit dims go anywhere.
    int64_t product = 1;
    SmallVector<size_t> group;
    while (d < space.size() && (product < size || space[d] == 1)) {
      if (product == size && space[d] == 1 && size != 1)
        break;
      product *= space[d];
      group.push_back(d++);
    }
    if (product != size)
      return nullptr;
    // Row-major within the group, or all of it broadcast.
    int64_t stride = 0, inner = 1;
    bool first = true, broadcast = true, rowMajor = true;
    for (size_t g = group.size(); g-- > 0;) {
      size_t i = group[g];
      if (space[i] == 1)
        continue;
      if (first) {
        stride = spaceStrides[i];
        first = false;
      } else {
        rowMajor &= spaceStrides[i] == stride * inner;
      }
      broadcast &= spaceStrides[i] == 0;
      inner *= space[i];
    }
    if (!rowMajor && !broadcast)
      return nullptr;
    likeStrides.push_back(broadcast ? 0 : stride);
  }
  for (; d < space.size(); ++d)
    if (space[d] != 1)
      return nullptr;
  return b.create<memref::ReinterpretCastOp>(
      loc,
      MemRefType::get(
          like.getShape(), type.getElementType(),
          StridedLayoutAttr::get(b.getContext(), offset, likeStrides),
          type.getMemorySpace()),
      in, offset, like.getShape(), likeStrides);
}

/// An epilogue body the fused code can run on vectors: elementwise ops and
/// constants only, using no outside value but constants, not its output.
bool isVectorizableBody(linalg::LinalgOp op) {
  Block &body = *op.getBlock();
  if (!body.getArguments().back().use_empty())
    return false;
  for (Operation &inner : body.without_terminator()) {
    if (inner.getNumRegions() || inner.getNumResults() != 1)
      return false;
    if (!inner.hasTrait<OpTrait::ConstantLike>() &&
        !OpTrait::hasElementwiseMappableTraits(&inner))
      return false;
    for (Value v : inner.getOperands()) {
      if (v.getParentBlock() == &body)
        continue;
      Operation *def = v.getDefiningOp();
      if (!def || !def->hasTrait<OpTrait::ConstantLike>())
        return false;
    }
  }
  return body.getTerminator()->getNumOperands() == 1;
}

/// The geometry of a result that `rows` kernel rows fill with gaps between
/// their rows: a prefix of its dims makes the kernel's rows (any strides),
/// the rest, [H, W] with strides [stride, 1] or [W] with stride 1, its
/// columns.
bool gapsOf(Value result, int64_t rows, FusedEnds::Gaps &gaps) {
  auto type = cast<MemRefType>(result.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!type.hasStaticShape() ||
      failed(getStridesAndOffset(type, strides, offset)) ||
      ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic) || offset < 0)
    return false;
  int64_t split = 0, product = 1;
  while (split < type.getRank() && product < rows)
    product *= type.getDimSize(split++);
  int64_t colDims = type.getRank() - split;
  if (product != rows || colDims < 1 || colDims > 2 || strides.back() != 1)
    return false;
  gaps = FusedEnds::Gaps();
  gaps.offset = offset;
  gaps.width = type.getShape().back();
  if (colDims == 2) {
    if (strides[split] < gaps.width)
      return false;
    gaps.gap = strides[split] - gaps.width;
  }
  int64_t span = offset + 1;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (strides[d] < 0)
      return false;
    span += (type.getDimSize(d) - 1) * strides[d];
    if (d < split) {
      gaps.rowSizes.push_back(type.getDimSize(d));
      gaps.rowStrides.push_back(strides[d]);
    }
  }
  gaps.span = span;
  return true;
}

/// Replaces `fill` of a buffer by fills of all of it but `interior`, when
/// that is a subview of the same value with static offsets and sizes and
/// unit strides: per dim, the slab before the interior and the one after,
/// over the interior's extent in the dims before. False (and the fill
/// kept) when the interior is not such a box.
bool fillBorderOnly(OpBuilder &b, linalg::FillOp fill, Value interior) {
  auto sub = interior.getDefiningOp<memref::SubViewOp>();
  Value whole = fill.getOutputs()[0];
  if (!sub || sub.getSource() != whole || !fill.hasPureBufferSemantics())
    return false;
  auto type = cast<MemRefType>(whole.getType());
  std::optional<Box> box = staticBox(sub);
  if (!box || !type.hasStaticShape() ||
      cast<MemRefType>(sub.getType()).getRank() != type.getRank())
    return false;
  ArrayRef<int64_t> offsets = box->offsets, sizes = box->sizes;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(fill);
  Location loc = fill.getLoc();
  int64_t rank = type.getRank();
  auto slab = [&](int64_t d, int64_t from, int64_t size) {
    if (size <= 0)
      return;
    SmallVector<OpFoldResult> o, z, one(rank, b.getIndexAttr(1));
    for (int64_t i = 0; i < rank; ++i) {
      o.push_back(b.getIndexAttr(i < d ? offsets[i] : i == d ? from : 0));
      z.push_back(b.getIndexAttr(i < d    ? sizes[i]
                                 : i == d ? size
                                          : type.getDimSize(i)));
    }
    Value view = b.create<memref::SubViewOp>(loc, whole, o, z, one);
    b.create<linalg::FillOp>(loc, fill.getInputs()[0], view);
  };
  for (int64_t d = 0; d < rank; ++d) {
    slab(d, 0, offsets[d]);
    slab(d, offsets[d] + sizes[d], type.getDimSize(d) - offsets[d] - sizes[d]);
  }
  fill->erase();
  return true;
}

/// `row` delinearised over `sizes` (row-major), one index per size.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value row,
                               ArrayRef<int64_t> sizes) {
  SmallVector<Value> indices(sizes.size());
  Value rest = row;
  for (int64_t d = sizes.size() - 1; d >= 0; --d) {
    Value size = b.create<arith::ConstantIndexOp>(loc, sizes[d]);
    indices[d] = d == 0 ? rest : b.create<arith::RemSIOp>(loc, rest, size);
    if (d > 0)
      rest = b.create<arith::DivSIOp>(loc, rest, size);
  }
  return indices;
}

/// Whether a vector of `width` lanes at a column that is a multiple of
/// `width` may touch more than one line of a gapped view.
bool mayCrossLines(const FusedEnds::Gaps &gaps, int64_t width) {
  return gaps.gap != 0 && gaps.width % width != 0;
}

/// Where row `row` of a gapped view starts in its flat view.
Value rowStart(OpBuilder &b, Location loc, const FusedEnds::Gaps &gaps,
               Value row) {
  Value at = b.create<arith::ConstantIndexOp>(loc, gaps.offset);
  for (auto [i, stride] :
       llvm::zip(delinearize(b, loc, row, gaps.rowSizes), gaps.rowStrides))
    at = b.create<arith::AddIOp>(
        loc, at,
        b.create<arith::MulIOp>(loc, i,
                                b.create<arith::ConstantIndexOp>(loc, stride)));
  return at;
}

/// A piece of a vector in a gapped view's row: `shift`, how far lane 0 of
/// the piece lies past the row's start plus the vector's column, and the
/// lanes that go there (null: all).
struct LinePiece {
  Value shift, mask;
};

/// The pieces of lanes [0, lanes) of the vector of `width` lanes at column
/// `col` (a multiple of `width`) of a gapped view's row: where they lie in
/// one line, one, with no mask; otherwise one per line they touch, with
/// lane 0 where it would be if that line went on and the lanes in it as
/// the mask. With `oneLine` the caller knows that they lie in one line.
/// The same for every row: a kernel's rows at one column share them.
SmallVector<LinePiece, 3> linePieces(OpBuilder &b, Location loc,
                                     const FusedEnds::Gaps &gaps, Value col,
                                     int64_t width, int64_t lanes,
                                     bool oneLine = false) {
  auto index = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  auto add = [&](Value x, Value y) -> Value {
    return b.create<arith::AddIOp>(loc, x, y);
  };
  auto mul = [&](Value x, int64_t y) -> Value {
    return b.create<arith::MulIOp>(loc, x, index(y));
  };
  // Column n is element n + (n / W) * gap of the row. `col` is a multiple
  // of the vector width, so with W one too the vector is in one line.
  Value line = b.create<arith::DivSIOp>(loc, col, index(gaps.width));
  if (!mayCrossLines(gaps, width) || oneLine)
    return {{mul(line, gaps.gap), Value()}};
  // Lanes [first, end) are in line `line + j`, first = (line + j) * W - col.
  // A vector in fewer lines than it could touch repeats its last line
  // (the same lanes again), so that every access has lanes and the flat
  // index of its lane 0 lies in the vector's own span.
  VectorLanes vl(b, loc, width);
  Value lastLine = b.create<arith::DivSIOp>(loc, add(col, index(lanes - 1)),
                                            index(gaps.width));
  SmallVector<LinePiece, 3> pieces;
  for (int64_t j = 0, count = linesTouched(gaps.width, width); j < count; ++j) {
    Value lineJ =
        j == 0 ? line
               : b.create<arith::MinSIOp>(loc, add(line, index(j)), lastLine);
    Value first = b.create<arith::SubIOp>(loc, mul(lineJ, gaps.width), col);
    Value end = b.create<arith::MinSIOp>(loc, add(first, index(gaps.width)),
                                         index(lanes));
    pieces.push_back({mul(lineJ, gaps.gap), vl.range(first, end)});
  }
  return pieces;
}

/// Calls `access(at, mask)` for each piece (linePieces) of the vector at
/// row `row`, column `col` of a gapped view, `at` a flat index.
void forEachLine(OpBuilder &b, Location loc, const FusedEnds::Gaps &gaps,
                 Value row, Value col, int64_t width, int64_t lanes,
                 function_ref<void(Value at, Value mask)> access) {
  Value at = b.create<arith::AddIOp>(loc, rowStart(b, loc, gaps, row), col);
  for (LinePiece piece : linePieces(b, loc, gaps, col, width, lanes))
    access(b.create<arith::AddIOp>(loc, at, piece.shift), piece.mask);
}

/// All the elements of `v`, a view with gaps, and the gaps, in one
/// dimension of `span` elements.
Value flatView(OpBuilder &b, Location loc, Value v, int64_t span) {
  auto type = cast<MemRefType>(v.getType());
  auto flat =
      MemRefType::get({span}, type.getElementType(),
                      MemRefLayoutAttrInterface(), type.getMemorySpace());
  return b.create<memref::ReinterpretCastOp>(
      loc, flat, v, 0, ArrayRef<int64_t>{span}, ArrayRef<int64_t>{1});
}

/// The output of `op` when it is an elementwise generic that writes all of
/// that output, ignoring its old value, and reads nothing of `root`; null
/// otherwise.
Value overwrittenView(Operation *op, Value root) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInits() != 1 ||
      !llvm::all_of(generic.getIteratorTypesArray(), isParallel))
    return nullptr;
  OpOperand *init = generic.getDpsInitOperand(0);
  if (!generic.getMatchingIndexingMap(init).isPermutation() ||
      generic.payloadUsesValueFromOperand(init) ||
      llvm::any_of(generic.getDpsInputs(),
                   [&](Value in) { return rootOf(in) == root; }))
    return nullptr;
  return init->get();
}

/// `op` writes all of `root` before reading any of it: a fill, or a generic
/// whose output covers the root, whose body ignores the output's old value
/// and which reads nothing of the root.
bool overwritesAll(Operation *op, Value root) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.hasPureBufferSemantics() &&
           rootOf(fill.getOutputs()[0]) == root &&
           coversRoot(fill.getOutputs()[0]);
  Value view = overwrittenView(op, root);
  return view && rootOf(view) == root && coversRoot(view);
}

} // namespace

bool fillBorderOfPad(OpBuilder &b, Value buffer) {
  if (!buffer.getDefiningOp<memref::AllocOp>())
    return false;
  // The ops that touch the buffer, through its views.
  SmallVector<Operation *> users;
  accessesOf(buffer, users);
  Block *block = buffer.getDefiningOp()->getBlock();
  if (llvm::any_of(users, [&](Operation *u) { return u->getBlock() != block; }))
    return false;
  // The first fill of all of it.
  linalg::FillOp fill;
  for (Operation *user : users)
    if (auto f = dyn_cast<linalg::FillOp>(user);
        f && f.getOutputs()[0] == buffer && (!fill || f->isBeforeInBlock(fill)))
      fill = f;
  if (!fill)
    return false;
  // The next op after the fill to touch the buffer: a copy into a subview,
  // or an elementwise op that writes all of one (ResNet-18 at batch 8: the
  // ReLU of its stem's per-image GEMMs into the pool's padded input).
  Operation *next = nullptr;
  for (Operation *user : users)
    if (fill->isBeforeInBlock(user) && (!next || user->isBeforeInBlock(next)))
      next = user;
  if (!next)
    return false;
  Value interior;
  if (auto copy = dyn_cast<linalg::CopyOp>(next)) {
    if (copy.hasPureBufferSemantics() &&
        kiln::rootOf(copy.getInputs()[0]) != buffer)
      interior = copy.getOutputs()[0];
  } else {
    interior = overwrittenView(next, buffer);
  }
  auto sub = interior ? interior.getDefiningOp<memref::SubViewOp>()
                      : memref::SubViewOp();
  if (!sub || sub.getSource() != buffer)
    return false;
  return fillBorderOnly(b, fill, sub);
}

FusedEnds FusedEnds::match(OpBuilder &b, Operation *kernel, Value out,
                           ValueRange inputs, int64_t rows, bool gappedResult) {
  FusedEnds ends;
  Value root = rootOf(out);
  if (!coversRoot(out))
    return ends;
  SmallVector<Operation *> accesses;
  accessesOf(root, accesses);
  // The last op before the kernel that touches the root (others in between
  // cannot see the root's contents), and the very next op after it.
  Operation *before = nullptr;
  for (Operation *op : accesses) {
    Operation *top = kernel->getBlock()->findAncestorOpInBlock(*op);
    if (top && top->isBeforeInBlock(kernel) &&
        (!before || before->isBeforeInBlock(top)))
      before = top;
  }
  SmallVector<Value> kernelRoots{root};
  for (Value in : inputs)
    kernelRoots.push_back(rootOf(in));
  SmallVector<linalg::FillOp> fills;
  Operation *after = nextWithEffects(kernel, kernelRoots, fills);
  auto rootType = cast<MemRefType>(root.getType());
  auto outType = cast<MemRefType>(out.getType());
  Location loc = kernel->getLoc();

  // The epilogue: an elementwise generic (or a copy) reading all of the
  // root.
  linalg::LinalgOp generic;
  if (after && isa<linalg::GenericOp, linalg::CopyOp>(after))
    generic = cast<linalg::LinalgOp>(after);
  if (generic && generic.hasPureBufferSemantics() &&
      generic.getNumDpsInits() == 1 &&
      llvm::all_of(generic.getIteratorTypesArray(), isParallel) &&
      llvm::all_of(generic.getIndexingMapsArray(),
                   [](AffineMap m) {
                     return m.isProjectedPermutation(
                         /*allowZeroInResults=*/true);
                   }) &&
      isVectorizableBody(generic)) {
    SmallVector<int64_t> space = generic.getStaticLoopRanges();
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    Value result = generic.getDpsInits()[0];
    auto resultType = cast<MemRefType>(result.getType());
    bool contiguous = isContiguous(resultType);
    // A strided result of the kernel's output shape: the kernel's indices
    // address it as they are.
    bool sameShape = !contiguous &&
                     resultType.getShape() == outType.getShape() &&
                     hasUnitInnerStride(resultType) && isStaticMemRef(result);
    bool ok = elements(result) == elements(root) && maps.back().isIdentity() &&
              (contiguous || sameShape ||
               (gappedResult && gapsOf(result, rows, ends.gaps)));
    for (Value operand : generic->getOperands())
      ok = ok && hoistAbove(operand, kernel);
    Value resultRoot = rootOf(result);
    for (Value in : inputs)
      ok &= rootOf(in) != resultRoot;
    int accInputs = 0;
    SmallVector<std::pair<unsigned, Value>> others;
    for (auto [i, in] : llvm::enumerate(generic.getDpsInputs())) {
      if (!ok)
        break;
      if (rootOf(in) == root) {
        ok = coversRoot(in) && maps[i].isIdentity();
        ends.accArg = i;
        ++accInputs;
      } else {
        // A gapped result, or a broadcast operand, is stored at or read
        // from other places than the kernel's: it may not be the result.
        ok = (contiguous && maps[i].isIdentity()) || rootOf(in) != resultRoot;
        others.push_back({static_cast<unsigned>(i), in});
      }
    }
    if (ok && accInputs == 1 && others.size() <= 2) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(kernel);
      for (auto [arg, in] : others) {
        // A view of the kernel's output shape, or one with gaps like a
        // gapped result's (a residual read from a padded buffer).
        Value view = broadcastView(b, loc, in, maps[arg], space, outType);
        Gaps inGaps;
        if (!view && gappedResult && maps[arg].isIdentity() &&
            rootOf(in) != resultRoot && gapsOf(in, rows, inGaps))
          view = flatView(b, loc, in, inGaps.span);
        ends.otherArgs.push_back(arg);
        ends.others.push_back(view);
        ends.otherGaps.push_back(view ? inGaps : Gaps());
        ok &= view != nullptr;
      }
      if (contiguous) {
        ends.result = reshapeLike(b, loc, result, outType);
      } else if (sameShape) {
        ends.result = result;
      } else {
        ends.result = flatView(b, loc, result, ends.gaps.span);
        ends.gapped = true;
      }
      if (ok && ends.result)
        ends.epilogue = generic;
    }
    if (!ends.epilogue)
      ends.dropEpilogue();
  }

  // The initializer: all of the root filled, per kernel row at most.
  if (before) {
    auto fill = dyn_cast<linalg::FillOp>(before);
    auto init = dyn_cast<linalg::GenericOp>(before);
    if (fill && fill.hasPureBufferSemantics() &&
        rootOf(fill.getOutputs()[0]) == root &&
        coversRoot(fill.getOutputs()[0])) {
      Operation *def = fill.getInputs()[0].getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>()) {
        ends.initOp = fill;
        ends.fillValue = fill.getInputs()[0];
      }
    } else if (init && init.hasPureBufferSemantics() &&
               init.getNumDpsInputs() == 1 && init.getNumDpsInits() == 1 &&
               rootOf(init.getDpsInits()[0]) == root &&
               coversRoot(init.getDpsInits()[0]) &&
               cast<MemRefType>(init.getDpsInits()[0].getType()).getShape() ==
                   rootType.getShape() &&
               init.getIndexingMapsArray()[1].isIdentity() &&
               llvm::all_of(init.getIteratorTypesArray(), isParallel)) {
      Block &body = init.getRegion().front();
      auto yield = cast<linalg::YieldOp>(body.getTerminator());
      // The row dims: a prefix of the root's shape whose product is `rows`.
      int64_t split = 0, product = 1;
      while (split < rootType.getRank() && product < rows)
        product *= rootType.getDimSize(split++);
      AffineMap map = init.getIndexingMapsArray()[0];
      bool rowOnly = product == rows;
      for (int64_t d = split; d < rootType.getRank(); ++d)
        rowOnly &= !map.isFunctionOfDim(d) || rootType.getDimSize(d) == 1;
      if (rowOnly && yield.getNumOperands() == 1 &&
          yield.getOperand(0) == body.getArgument(0)) {
        ends.initOp = init;
        ends.bias = init.getDpsInputs()[0];
        ends.biasMap = map;
        for (int64_t d = 0; d < split; ++d)
          ends.rowDims.push_back(rootType.getDimSize(d));
      }
    }
  }

  // With an epilogue into another buffer the root is never written, so what
  // the kernel would have left there must be dead: the next op after the
  // epilogue that touches the root (buffers are shared by ops of the same
  // shape) must overwrite all of it first.
  if (ends.epilogue && rootOf(ends.epilogue.getDpsInits()[0]) != root) {
    Operation *epilogueOp = ends.epilogue.getOperation();
    Operation *next = nullptr;
    // A root that the function does not allocate (an argument: a model
    // output the caller reads), or that it returns, stays live.
    bool known =
        !isa<BlockArgument>(root) && llvm::none_of(accesses, [](Operation *op) {
          return op->hasTrait<OpTrait::ReturnLike>();
        });
    for (Operation *op : accesses) {
      Operation *top = kernel->getBlock()->findAncestorOpInBlock(*op);
      if (!top) {
        known = false;
        break;
      }
      if (epilogueOp->isBeforeInBlock(top) &&
          (!next || top->isBeforeInBlock(next)))
        next = top;
    }
    if (!known || (next && !overwritesAll(next, root)))
      ends.dropEpilogue();
  }
  // The fills between the kernel and its epilogue (of the buffer the
  // epilogue writes into, as padding) go before the kernel.
  for (linalg::FillOp fill : fills) {
    if (!ends.epilogue)
      break;
    if (llvm::all_of(fill->getOperands(),
                     [&](Value v) { return hoistAbove(v, kernel); }))
      fill->moveBefore(kernel);
    else
      ends.dropEpilogue();
  }
  // The epilogue writes all of the interior of the padded buffer: only its
  // border needs the fill.
  if (ends.gapped)
    for (linalg::FillOp fill : fills)
      fillBorderOnly(b, fill, ends.epilogue.getDpsInits()[0]);
  // The kernel now computes its epilogue's nodes too, and its location
  // says so: the kernel functions lowered from it name them (kNodesAttr).
  // Not the initializer's: a fill or broadcast that CSE made one for many
  // layers carries all of their nodes.
  if (ends.epilogue)
    kernel->setLoc(FusedLoc::get(kernel->getContext(),
                                 {kernel->getLoc(), ends.epilogue->getLoc()}));
  return ends;
}

void FusedEnds::dropEpilogue() {
  epilogue = nullptr;
  otherArgs.clear();
  others.clear();
  otherGaps.clear();
  result = nullptr;
  gapped = false;
}

Value FusedEnds::loadOther(OpBuilder &b, Location loc, unsigned i,
                           ValueRange indices, int64_t lanes,
                           int64_t width) const {
  Value view = others[i];
  auto type = cast<MemRefType>(view.getType());
  VectorLanes vl(b, loc, width, type.getElementType());
  if (otherGaps[i].width) {
    // Line by line, each masked load keeping the lanes loaded before.
    Value v = vl.zeros();
    forEachLine(b, loc, otherGaps[i], indices[0], indices[1], width, lanes,
                [&](Value at, Value mask) {
                  v = !mask ? vl.load(view, at, lanes)
                            : b.create<vector::MaskedLoadOp>(loc, vl.type(),
                                                             view, at, mask, v);
                });
    return v;
  }
  SmallVector<int64_t> strides;
  int64_t offset;
  if (succeeded(getStridesAndOffset(type, strides, offset)) &&
      strides.back() == 0) {
    // The same element for every lane (a value per row, say).
    Value x = b.create<memref::LoadOp>(loc, view, indices);
    return b.create<vector::BroadcastOp>(loc, vl.type(), x);
  }
  return vl.load(view, indices, lanes);
}

bool FusedEnds::resultMayCrossLines(int64_t width) const {
  return gapped && mayCrossLines(gaps, width);
}

void FusedEnds::storeResult(OpBuilder &b, Location loc, Value value, Value row,
                            Value col, int64_t lanes) const {
  storeResults(b, loc, value, row, col, lanes);
}

void FusedEnds::storeResults(OpBuilder &b, Location loc, ValueRange values,
                             ValueRange rows, Value col, int64_t lanes) const {
  auto vecType = cast<VectorType>(values.front().getType());
  int64_t width = vecType.getDimSize(0);
  if (!gapped) {
    for (auto [value, row] : llvm::zip(values, rows))
      VectorLanes(b, loc, width, vecType.getElementType())
          .store(value, result, ValueRange{row, col}, lanes);
    return;
  }
  SmallVector<Value> starts; // of the rows' vectors at `col`
  for (Value row : rows)
    starts.push_back(
        b.create<arith::AddIOp>(loc, rowStart(b, loc, gaps, row), col));
  // The pieces depend on the column only: one set of line numbers and
  // masks for all the rows (a register tile's 8), not one per row.
  auto lines = [&](bool oneLine) {
    for (LinePiece piece : linePieces(b, loc, gaps, col, width, lanes, oneLine))
      for (auto [value, start] : llvm::zip(values, starts))
        storeLine(b, loc, value,
                  b.create<arith::AddIOp>(loc, start, piece.shift), piece.mask,
                  lanes);
  };
  // A whole vector that may span lines mostly lies in one (4 in 7 of a
  // 14-wide plane's, 6 in 7 of a 28-wide one's): then one store, a branch
  // that the predictor learns, rather than a blend or masked store per
  // line that it could touch.
  if (!mayCrossLines(gaps, width) || lanes < width || gaps.width < width)
    return lines(false);
  auto index = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  Value inLine = b.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::sle,
      b.create<arith::AddIOp>(
          loc, b.create<arith::RemSIOp>(loc, col, index(gaps.width)),
          index(width)),
      index(gaps.width));
  auto ifOp = b.create<scf::IfOp>(loc, inLine, /*withElse=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  lines(true);
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  lines(false);
}

void FusedEnds::storeLine(OpBuilder &b, Location loc, Value value, Value at,
                          Value mask, int64_t lanes) const {
  auto vecType = cast<VectorType>(value.getType());
  int64_t width = vecType.getDimSize(0);
  VectorLanes vl(b, loc, width, vecType.getElementType());
  if (!mask) {
    vl.store(value, result, at, lanes);
  } else if (blendStores && lanes == width) {
    // All lanes of the window are the vector's own span (forEachLine).
    vl.blendStore(value, result, at, mask);
  } else {
    b.create<vector::MaskedStoreOp>(loc, result, at, mask, value);
  }
}

SmallVector<Value> FusedEnds::buffers() const {
  SmallVector<Value> all;
  if (bias)
    all.push_back(bias);
  all.append(others.begin(), others.end());
  if (result)
    all.push_back(result);
  return all;
}

FusedEnds FusedEnds::inPlanes(Value flat, int64_t planeSize,
                              int64_t offset) const {
  assert(gapped && !gaps.rowStrides.empty() && "inPlanes: a gapped result");
  FusedEnds ends = *this;
  int64_t plane = *llvm::min_element(gaps.rowStrides);
  for (int64_t &stride : ends.gaps.rowStrides)
    stride = stride / plane * planeSize;
  ends.gaps.offset = offset;
  ends.gaps.span = cast<MemRefType>(flat.getType()).getNumElements();
  ends.result = flat;
  return ends;
}

FusedEnds FusedEnds::withResult(Value view) const {
  assert(!gapped && result && "withResult: a result without gaps");
  FusedEnds ends = *this;
  ends.result = view;
  return ends;
}

FusedEnds FusedEnds::remap(ValueRange newBuffers) const {
  FusedEnds ends = *this;
  unsigned i = 0;
  if (bias)
    ends.bias = newBuffers[i++];
  for (Value &o : ends.others)
    o = newBuffers[i++];
  if (result)
    ends.result = newBuffers[i++];
  return ends;
}

Value FusedEnds::initialValue(OpBuilder &b, Location loc, Value row) const {
  if (fillValue)
    return b.clone(*fillValue.getDefiningOp())->getResult(0);
  // Delinearise the row over the row dims, the others at 0, then the map.
  SmallVector<Value> dims = delinearize(b, loc, row, rowDims);
  if (dims.size() < biasMap.getNumDims())
    dims.resize(biasMap.getNumDims(), b.create<arith::ConstantIndexOp>(loc, 0));
  SmallVector<Value> indices;
  for (unsigned r = 0; r < biasMap.getNumResults(); ++r)
    indices.push_back(
        b.create<affine::AffineApplyOp>(loc, biasMap.getSubMap({r}), dims));
  return b.create<memref::LoadOp>(loc, bias, indices);
}

Value FusedEnds::apply(OpBuilder &b, Location loc, Value acc,
                       ArrayRef<Value> otherVectors) const {
  auto vecType = cast<VectorType>(acc.getType());
  Block &body = *const_cast<linalg::LinalgOp &>(epilogue).getBlock();
  IRMapping vectors;
  vectors.map(body.getArgument(accArg), acc);
  for (auto [arg, v] : llvm::zip(otherArgs, otherVectors))
    vectors.map(body.getArgument(arg), v);
  auto vectorOf = [&](Value scalar) -> Value {
    if (Value v = vectors.lookupOrNull(scalar))
      return v;
    // A constant, inside the body or out: clone it and broadcast.
    Value c = b.clone(*scalar.getDefiningOp())->getResult(0);
    Value v = b.create<vector::BroadcastOp>(
        loc, VectorType::get(vecType.getShape(), c.getType()), c);
    vectors.map(scalar, v);
    return v;
  };
  for (Operation &op : body.without_terminator()) {
    if (op.hasTrait<OpTrait::ConstantLike>())
      continue; // broadcast where used
    OperationState state(loc, op.getName());
    for (Value v : op.getOperands())
      state.addOperands(vectorOf(v));
    state.addAttributes(op.getAttrs());
    for (Type t : op.getResultTypes())
      state.addTypes(VectorType::get(vecType.getShape(), t));
    vectors.map(op.getResult(0), b.create(state)->getResult(0));
  }
  return vectorOf(body.getTerminator()->getOperand(0));
}

void FusedEnds::eraseFused() {
  if (epilogue)
    epilogue->erase();
  if (initOp)
    initOp->erase();
  epilogue = nullptr;
  initOp = nullptr;
}

} // namespace kiln
