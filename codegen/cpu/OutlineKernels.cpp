//===- OutlineKernels.cpp - One function per kernel of the graph ----------===//
//
// This file implements kiln-outline-kernels. After bufferization the whole
// graph is one function holding thousands of loop nests; LLVM's loop passes
// (IndVarSimplify, LoopRotate...) are superlinear in the loops of a function,
// so one huge function compiles in minutes. The pass moves runs of the entry
// function's top-level loop nests and linalg ops into private `noinline`
// functions called in their place. Constants, globals and views are cloned
// into each kernel, so a kernel addresses the arena from its base pointer
// with the same constant offsets as before and LLVM keeps what it knew about
// aliasing; everything else a kernel uses becomes an argument.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_OUTLINEKERNELS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Ops cheap enough to recompute in every kernel that uses them: constants,
/// globals, views and scalar index arithmetic.
static bool isCloneable(Operation *op) {
  if (op->getNumRegions() != 0 || op->getNumResults() != 1)
    return false;
  if (op->hasTrait<OpTrait::ConstantLike>() || isa<memref::GetGlobalOp>(op))
    return true;
  if (!isMemoryEffectFree(op))
    return false;
  Type type = op->getResult(0).getType();
  return isa<MemRefType>(type) || type.isIntOrIndexOrFloat();
}

/// Whether a value of `type` can be a kernel argument: what func-to-llvm's
/// bare-pointer convention accepts (LLVMTypeConverter::canConvertToBarePtr),
/// and scalars or vectors.
static bool isPassable(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type)) {
    if (!memref.hasStaticShape())
      return false;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(getStridesAndOffset(memref, strides, offset)))
      return false;
    return !ShapedType::isDynamic(offset) &&
           llvm::none_of(strides, ShapedType::isDynamic);
  }
  if (auto vector = dyn_cast<VectorType>(type))
    return !vector.isScalable();
  return type.isIntOrIndexOrFloat();
}

/// What a group of top-level ops needs from the entry function.
struct Captures {
  /// Cloned into the kernel, in block order once sorted.
  llvm::SetVector<Operation *> clones;
  /// Passed as arguments.
  llvm::SetVector<Value> arguments;
};

/// Adds what `op` uses from outside itself to `captures`; fails if some
/// argument could not be passed (then `captures` is left unchanged).
static LogicalResult capture(Operation *op, Captures &captures) {
  llvm::SetVector<Value> used;
  for (Value operand : op->getOperands())
    used.insert(operand);
  getUsedValuesDefinedAbove(op->getRegions(), used);

  Captures result = captures;
  SmallVector<Value> worklist(used.begin(), used.end());
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    Operation *def = value.getDefiningOp();
    if (def && isCloneable(def)) {
      if (result.clones.insert(def))
        worklist.append(def->operand_begin(), def->operand_end());
      continue;
    }
    if (!isPassable(value.getType()))
      return failure();
    result.arguments.insert(value);
  }
  captures = std::move(result);
  return success();
}

/// The number of loops `op` becomes once lowered: what LLVM's loop passes
/// scale with.
static int64_t countLoops(Operation *op) {
  int64_t count = 0;
  op->walk([&](Operation *nested) {
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(nested))
      count += linalgOp.getNumLoops();
    else if (isa<LoopLikeOpInterface>(nested))
      ++count;
  });
  return count;
}

struct OutlineKernelsPass : kiln::impl::OutlineKernelsBase<OutlineKernelsPass> {
  using OutlineKernelsBase::OutlineKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(kiln::kEntryAttr) && !func.isExternal() &&
          func.getBody().hasOneBlock())
        entries.push_back(func);
    for (func::FuncOp func : entries)
      outline(func, symbols);
  }

  void outline(func::FuncOp func, SymbolTable &symbols) {
    Block &block = func.getBody().front();
    SmallVector<Operation *> group;
    Captures captures;
    int64_t groupLoops = 0;
    unsigned next = 0;
    Operation *insertAfter = func;

    auto flush = [&] {
      if (!group.empty())
        createKernel(func, group, captures, next++, insertAfter, symbols);
      group.clear();
      captures = Captures();
      groupLoops = 0;
    };

    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (isCloneable(&op))
        continue; // stays; kernels clone what they use
      bool outlinable = op.getNumRegions() != 0 && op.getNumResults() == 0 &&
                        !op.hasTrait<OpTrait::IsTerminator>();
      if (!outlinable) {
        flush();
        continue;
      }
      int64_t loops = countLoops(&op);
      if (!group.empty() && groupLoops + loops > maxLoops)
        flush();
      Captures extended = captures;
      if (failed(capture(&op, extended))) {
        flush(); // left inline
        continue;
      }
      captures = std::move(extended);
      group.push_back(&op);
      groupLoops += loops;
    }
    flush();

    // Views and constants that only the kernels used.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
      if (isCloneable(&op) && op.use_empty())
        op.erase();
  }

  void createKernel(func::FuncOp func, ArrayRef<Operation *> group,
                    Captures &captures, unsigned index, Operation *&insertAfter,
                    SymbolTable &symbols) {
    MLIRContext *ctx = func.getContext();
    Location loc = group.front()->getLoc();
    // Function arguments first, then values in the order they are defined.
    SmallVector<Value> arguments(captures.arguments.begin(),
                                 captures.arguments.end());
    llvm::sort(arguments, [](Value a, Value b) {
      auto argA = dyn_cast<BlockArgument>(a), argB = dyn_cast<BlockArgument>(b);
      if (argA || argB)
        return argA && (!argB || argA.getArgNumber() < argB.getArgNumber());
      if (a.getDefiningOp() != b.getDefiningOp())
        return a.getDefiningOp()->isBeforeInBlock(b.getDefiningOp());
      return cast<OpResult>(a).getResultNumber() <
             cast<OpResult>(b).getResultNumber();
    });
    SmallVector<Type> types;
    SmallVector<Location> locs;
    for (Value argument : arguments) {
      types.push_back(argument.getType());
      locs.push_back(argument.getLoc());
    }

    OpBuilder builder(ctx);
    auto kernel = builder.create<func::FuncOp>(
        loc, (func.getSymName() + "_kernel" + Twine(index)).str(),
        builder.getFunctionType(types, {}));
    kernel.setPrivate();
    // func-to-llvm carries this to the llvm.func: LLVM must not inline the
    // kernels back into one function.
    kernel->setAttr("passthrough",
                    builder.getArrayAttr({builder.getStringAttr("noinline")}));
    symbols.insert(kernel, std::next(Block::iterator(insertAfter)));
    insertAfter = kernel;

    Block *body = builder.createBlock(&kernel.getBody(), {}, types, locs);
    IRMapping mapping;
    mapping.map(arguments, body->getArguments());
    // A scalar on the entry function's stack (the run-time check flag) is
    // copied in and out of one on the kernel's: LLVM then keeps it in a
    // register instead of assuming every store in the kernel may change it.
    SmallVector<std::pair<Value, Value>> copyOut;
    for (auto [argument, parameter] :
         llvm::zip(arguments, body->getArguments())) {
      auto type = dyn_cast<MemRefType>(argument.getType());
      if (!argument.getDefiningOp<memref::AllocaOp>() || type.getRank() != 0)
        continue;
      Value local = builder.create<memref::AllocaOp>(loc, type);
      builder.create<memref::StoreOp>(
          loc, builder.create<memref::LoadOp>(loc, parameter), local);
      mapping.map(argument, local);
      copyOut.emplace_back(local, parameter);
    }
    SmallVector<Operation *> clones(captures.clones.begin(),
                                    captures.clones.end());
    llvm::sort(clones, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    for (Operation *op : clones)
      builder.clone(*op, mapping);
    for (Operation *op : group)
      builder.clone(*op, mapping);
    for (auto [local, parameter] : copyOut)
      builder.create<memref::StoreOp>(
          loc, builder.create<memref::LoadOp>(loc, local), parameter);
    builder.create<func::ReturnOp>(loc);

    // Only cloneable ops lie between the group's ops, so the arguments are
    // all defined before the last one.
    builder.setInsertionPoint(group.back());
    builder.create<func::CallOp>(loc, kernel, arguments);
    for (Operation *op : group)
      op->erase();
  }
};

} // namespace
