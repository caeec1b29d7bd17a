//===- FusedEnds.cpp - A kernel's initializer and epilogue, fused ---------===//
//
// This file implements FusedEnds (FusedEnds.h).
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace kiln {

namespace {

/// The buffer a view is of: through subviews, reshapes and casts.
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

bool isParallel(utils::IteratorType t) {
  return t == utils::IteratorType::parallel;
}

bool isViewOp(Operation *op) {
  return isa<memref::SubViewOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp, memref::CastOp,
             memref::ReinterpretCastOp>(op);
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

/// Every op that reads or writes `root` through any view of it.
void accessesOf(Value root, SmallVectorImpl<Operation *> &ops) {
  SmallVector<Value> work{root};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (isViewOp(user))
        work.push_back(user->getResult(0));
      else
        ops.push_back(user);
    }
  }
}

/// The nearest op after `op` in its block that is not free of memory
/// effects (allocations aside: they only make the epilogue's buffers).
Operation *nextWithEffects(Operation *op) {
  for (Operation *o = op->getNextNode(); o; o = o->getNextNode())
    if (!isMemoryEffectFree(o) && !isa<memref::AllocOp>(o))
      return o;
  return nullptr;
}

/// Makes `v` available before `kernel`: a view or allocation defined after
/// it (between the kernel and its epilogue) moves up, with whatever it is
/// made from.
bool hoistAbove(Value v, Operation *kernel) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != kernel->getBlock() ||
      def->isBeforeInBlock(kernel))
    return true;
  if ((!isMemoryEffectFree(def) && !isa<memref::AllocOp>(def)) ||
      def->getNumRegions())
    return false;
  for (Value operand : def->getOperands())
    if (!hoistAbove(operand, kernel))
      return false;
  def->moveBefore(kernel);
  return true;
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
  return b.create<memref::ReinterpretCastOp>(loc, result, v, 0,
                                             like.getShape(), strides);
}

/// An epilogue body the fused code can run on vectors: elementwise ops and
/// constants only, using no outside value but constants, not its output.
bool isVectorizableBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
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

} // namespace

FusedEnds FusedEnds::match(OpBuilder &b, Operation *kernel, Value out,
                           ValueRange inputs, int64_t rows) {
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
  Operation *after = nextWithEffects(kernel);
  auto rootType = cast<MemRefType>(root.getType());
  auto outType = cast<MemRefType>(out.getType());
  Location loc = kernel->getLoc();

  // The epilogue: an elementwise generic reading all of the root.
  auto generic = dyn_cast_or_null<linalg::GenericOp>(after);
  if (generic && generic.hasPureBufferSemantics() &&
      generic.getNumDpsInits() == 1 &&
      llvm::all_of(generic.getIteratorTypesArray(), isParallel) &&
      llvm::all_of(generic.getIndexingMapsArray(),
                   [](AffineMap m) { return m.isIdentity(); }) &&
      isVectorizableBody(generic)) {
    Value result = generic.getDpsInits()[0];
    bool ok = isContiguous(result.getType()) &&
              elements(result) == elements(root);
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
        ok = coversRoot(in);
        ends.accArg = i;
        ++accInputs;
      } else {
        ok = isContiguous(in.getType()) && elements(in) == elements(root);
        others.push_back({static_cast<unsigned>(i), in});
      }
    }
    if (ok && accInputs == 1 && others.size() <= 2) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(kernel);
      for (auto [arg, in] : others) {
        Value view = reshapeLike(b, loc, in, outType);
        ends.otherArgs.push_back(arg);
        ends.others.push_back(view);
        ok &= view != nullptr;
      }
      ends.result = reshapeLike(b, loc, result, outType);
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
               llvm::all_of(init.getIteratorTypesArray(),
                            isParallel)) {
      Block &body = init.getRegion().front();
      auto yield = cast<linalg::YieldOp>(body.getTerminator());
      // The row dims: a prefix of the root's shape whose product is `rows`.
      int64_t split = 0, product = 1;
      while (split < rootType.getRank() && product < rows)
        product *= rootType.getDimSize(split++);
      AffineMap map = init.getIndexingMapsArray()[0];
      bool rowOnly = product == rows;
      for (int64_t d = split; d < rootType.getRank(); ++d)
        rowOnly &= !map.isFunctionOfDim(d);
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

  // With an epilogue the root is never written: nothing else may read it.
  if (ends.epilogue)
    for (Operation *op : accesses)
      if (op != kernel && op != ends.initOp &&
          op != ends.epilogue.getOperation()) {
        ends.dropEpilogue();
        break;
      }
  return ends;
}

void FusedEnds::dropEpilogue() {
  epilogue = nullptr;
  otherArgs.clear();
  others.clear();
  result = nullptr;
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
  SmallVector<Value> dims(biasMap.getNumDims());
  Value rest = row;
  for (int64_t d = rowDims.size() - 1; d >= 0; --d) {
    Value size = b.create<arith::ConstantIndexOp>(loc, rowDims[d]);
    dims[d] = d == 0 ? rest : b.create<arith::RemSIOp>(loc, rest, size);
    if (d > 0)
      rest = b.create<arith::DivSIOp>(loc, rest, size);
  }
  for (Value &d : dims)
    if (!d)
      d = b.create<arith::ConstantIndexOp>(loc, 0);
  SmallVector<Value> indices;
  for (unsigned r = 0; r < biasMap.getNumResults(); ++r)
    indices.push_back(b.create<affine::AffineApplyOp>(
        loc, biasMap.getSubMap({r}), dims));
  return b.create<memref::LoadOp>(loc, bias, indices);
}

Value FusedEnds::apply(OpBuilder &b, Location loc, Value acc,
                       ArrayRef<Value> otherVectors) const {
  auto vecType = cast<VectorType>(acc.getType());
  Block &body = const_cast<linalg::GenericOp &>(epilogue).getRegion().front();
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
