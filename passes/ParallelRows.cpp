//===- ParallelRows.cpp - Loops that run on the runtime's threads ---------===//
//
// This file implements the helpers declared in ParallelRows.h.
//
//===----------------------------------------------------------------------===//

#include "passes/ParallelRows.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace kiln {

std::optional<int64_t> positionOf(AffineMap map, unsigned dim) {
  if (!map.isFunctionOfDim(dim))
    return -1;
  std::optional<int64_t> at;
  for (auto [i, e] : llvm::enumerate(map.getResults())) {
    if (!e.isFunctionOfDim(dim))
      continue;
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d || at)
      return std::nullopt;
    at = i;
  }
  return at;
}

Value pieceView(OpBuilder &b, Location loc, Value mem, int64_t position,
                Value offset, int64_t size) {
  auto type = cast<MemRefType>(mem.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t s : type.getShape())
    sizes.push_back(b.getIndexAttr(s));
  offsets[position] = offset;
  sizes[position] = b.getIndexAttr(size);
  return b.create<memref::SubViewOp>(loc, mem, offsets, sizes, strides);
}

bool hasStaticStrides(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  return type && type.hasStaticShape() &&
         succeeded(getStridesAndOffset(type, strides, offset)) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

bool isStaticMemRef(Value value) {
  if (!hasStaticStrides(value))
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  (void)getStridesAndOffset(cast<MemRefType>(value.getType()), strides, offset);
  return !ShapedType::isDynamic(offset);
}

std::string nodesOf(Location loc) {
  SmallVector<StringRef> names;
  loc->walk([&](Location l) {
    if (auto name = dyn_cast<NameLoc>(l))
      if (!llvm::is_contained(names, name.getName().getValue()))
        names.push_back(name.getName().getValue());
    return WalkResult::advance();
  });
  return llvm::join(names, "; ");
}

func::FuncOp createRowsFunction(func::FuncOp parent, Location loc,
                                TypeRange memrefs, StringRef suffix,
                                RowsBodyFn body) {
  auto module = parent->getParentOfType<ModuleOp>();
  OpBuilder mb(parent);
  Type idx = mb.getIndexType();
  assert(!memrefs.empty() && memrefs.size() <= kRowsBuffers);
  SmallVector<Type> inputs(memrefs.begin(), memrefs.end());
  inputs.append(kRowsBuffers - memrefs.size(), memrefs.front());
  inputs.append(4, idx);
  std::string name;
  for (int i = 0;; ++i) {
    name = (parent.getSymName() + "_" + suffix + Twine(i)).str();
    if (!module.lookupSymbol(name))
      break;
  }
  auto fn = mb.create<func::FuncOp>(loc, name, mb.getFunctionType(inputs, {}));
  fn.setPrivate();
  fn->setAttr("passthrough", mb.getArrayAttr({mb.getStringAttr("noinline")}));
  if (std::string nodes = nodesOf(loc); !nodes.empty())
    fn->setAttr(kNodesAttr, mb.getStringAttr(nodes));
  OpBuilder fb(fn.getContext());
  fb.setInsertionPointToStart(fn.addEntryBlock());
  ArrayRef<BlockArgument> args = fn.getArguments();
  body(fb, loc, args.take_front(memrefs.size()), args.take_back(4));
  fb.create<func::ReturnOp>(loc);
  return fn;
}

void emitParallelRows(OpBuilder &b, Location loc, func::FuncOp fn,
                      ValueRange memrefs, Value x, Value y, Value n) {
  Value callee =
      b.create<func::ConstantOp>(loc, fn.getFunctionType(), fn.getSymName());
  SmallVector<Value> args{callee};
  args.append(memrefs.begin(), memrefs.end());
  args.append(kRowsBuffers - memrefs.size(), memrefs.front());
  args.append({x, y, n});
  // Memref types differ per call: a declaration per signature, marked with
  // the runtime symbol it stands for.
  auto module = fn->getParentOfType<ModuleOp>();
  std::string name = (fn.getSymName() + "_dispatch").str();
  auto decl = module.lookupSymbol<func::FuncOp>(name);
  if (!decl) {
    OpBuilder mb(module.getBodyRegion());
    mb.setInsertionPointToStart(module.getBody());
    decl = mb.create<func::FuncOp>(
        loc, name, mb.getFunctionType(TypeRange(ValueRange(args)), {}));
    decl.setPrivate();
    decl->setAttr("kiln.runtime", mb.getStringAttr("kiln_parallel_rows"));
  }
  b.create<func::CallOp>(loc, decl, args);
}

Value emitNumThreads(OpBuilder &b, Location loc, func::FuncOp parent) {
  auto module = parent->getParentOfType<ModuleOp>();
  auto decl = module.lookupSymbol<func::FuncOp>("kiln_get_num_threads");
  if (!decl) {
    OpBuilder mb(module.getBodyRegion());
    mb.setInsertionPointToStart(module.getBody());
    decl = mb.create<func::FuncOp>(loc, "kiln_get_num_threads",
                                   mb.getFunctionType({}, {mb.getI32Type()}));
    decl.setPrivate();
  }
  return b.create<func::CallOp>(loc, decl).getResult(0);
}

} // namespace kiln
