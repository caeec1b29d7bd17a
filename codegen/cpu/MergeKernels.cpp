//===- MergeKernels.cpp - One rows function for a batch's images ----------===//
//
// This file implements kiln-merge-kernels. A convolution of a batch is
// lowered image by image, so each of its rows functions comes once per image,
// and the copies differ only in integer constants: where each image starts in
// the batch's buffers (ResNet-18 at batch 8: 272 Winograd transforms for 34
// layers, each copy optimised and compiled by LLVM on its own). The pass
// makes the rows functions of one ONNX node that are alike but for such
// constants one function, which computes them from its x (or reads them from
// x and y), unused before; each call through kiln_parallel_rows passes its
// copy's. Kernels of different nodes stay apart, so that kiln-run --profile
// still names each node's time.
//
//===----------------------------------------------------------------------===//

#include "passes/ParallelRows.h"
#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_MERGEKERNELS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// A rows function's x and y: its arguments after the eight buffers.
constexpr unsigned kFreeArgs[] = {kiln::kRowsBuffers, kiln::kRowsBuffers + 1};
/// Where kiln_parallel_rows takes the rows function's argument 0.
constexpr unsigned kCallArg = 1;

/// An integer constant's value (sign-extended), if `op` is one.
static std::optional<int64_t> intConstant(Operation *op) {
  auto constant = dyn_cast<LLVM::ConstantOp>(op);
  auto type = constant ? dyn_cast<IntegerType>(constant.getType()) : nullptr;
  if (!type || type.getWidth() > 64)
    return std::nullopt;
  if (auto value = dyn_cast<IntegerAttr>(constant.getValue()))
    return value.getValue().getSExtValue();
  return std::nullopt;
}

/// The constant offset of a getelementptr of one constant index (a
/// buffer's view at a fixed place), if `op` is one.
static std::optional<int64_t> constantOffset(Operation *op) {
  auto gep = dyn_cast<LLVM::GEPOp>(op);
  if (!gep || gep.getRawConstantIndices().size() != 1 ||
      gep.getRawConstantIndices()[0] == LLVM::GEPOp::kDynamicIndex)
    return std::nullopt;
  return gep.getRawConstantIndices()[0];
}

/// The value of a site: a constant's, or a getelementptr's offset.
static std::optional<int64_t> siteValue(Operation *op) {
  if (auto value = intConstant(op))
    return value;
  return constantOffset(op);
}

/// `op`'s attributes but the value a site varies (its offset, for a
/// getelementptr; a constant's value is compared as a site).
static DictionaryAttr fixedAttributes(Operation *op) {
  if (!constantOffset(op))
    return op->getAttrDictionary();
  NamedAttrList attrs(op->getAttrDictionary());
  attrs.erase(cast<LLVM::GEPOp>(op).getRawConstantIndicesAttrName());
  return attrs.getDictionary(op->getContext());
}

/// `fn`'s attributes but its name.
static DictionaryAttr attributesButName(LLVM::LLVMFuncOp fn) {
  NamedAttrList attrs(fn->getAttrDictionary());
  attrs.erase(SymbolTable::getSymbolAttrName());
  return attrs.getDictionary(fn.getContext());
}

/// A hash of `fn` that functions equal but for their sites' values share.
static llvm::hash_code shapeHash(LLVM::LLVMFuncOp fn) {
  llvm::hash_code hash =
      llvm::hash_value(fn.getFunctionType().getAsOpaquePointer());
  fn.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(hash, op->getName().getAsOpaquePointer(),
                              op->getNumOperands(), op->getNumSuccessors(),
                              op->getNumRegions());
    for (Type type : op->getResultTypes())
      hash = llvm::hash_combine(hash, type.getAsOpaquePointer());
    if (!intConstant(op))
      hash = llvm::hash_combine(hash, fixedAttributes(op).getAsOpaquePointer());
  });
  return hash;
}

/// Compares a function with the first of its class op by op: the same but
/// for the values of sites (integer constants, getelementptr offsets). The
/// first's sites whose values differ are returned with the other's values.
class Matcher {
public:
  using Found = llvm::MapVector<Operation *, int64_t>;

  bool match(LLVM::LLVMFuncOp a, LLVM::LLVMFuncOp b, Found &found) {
    return a.getFunctionType() == b.getFunctionType() &&
           attributesButName(a) == attributesButName(b) &&
           matchRegion(a.getBody(), b.getBody(), found);
  }

private:
  IRMapping map;

  bool matchRegion(Region &a, Region &b, Found &found) {
    if (a.getBlocks().size() != b.getBlocks().size())
      return false;
    for (auto [x, y] : llvm::zip(a, b)) {
      if (x.getNumArguments() != y.getNumArguments())
        return false;
      map.map(&x, &y);
      for (auto [u, v] : llvm::zip(x.getArguments(), y.getArguments())) {
        if (u.getType() != v.getType())
          return false;
        map.map(u, v);
      }
    }
    for (auto [x, y] : llvm::zip(a, b)) {
      if (x.getOperations().size() != y.getOperations().size())
        return false;
      for (auto [p, q] : llvm::zip(x, y))
        if (!matchOp(p, q, found))
          return false;
    }
    return true;
  }

  bool matchOp(Operation &p, Operation &q, Found &found) {
    if (p.getName() != q.getName() ||
        p.getNumOperands() != q.getNumOperands() ||
        p.getNumSuccessors() != q.getNumSuccessors() ||
        p.getNumRegions() != q.getNumRegions() ||
        p.getResultTypes() != q.getResultTypes())
      return false;
    std::optional<int64_t> x = siteValue(&p), y = siteValue(&q);
    if (x.has_value() != y.has_value())
      return false;
    if (x && *x != *y)
      found[&p] = *y;
    if (!intConstant(&p) && fixedAttributes(&p) != fixedAttributes(&q))
      return false;
    for (auto [u, v] : llvm::zip(p.getOperands(), q.getOperands()))
      if (map.lookupOrNull(u) != v)
        return false;
    for (auto [s, t] : llvm::zip(p.getSuccessors(), q.getSuccessors()))
      if (map.lookupOrNull(s) != t)
        return false;
    for (auto [r, s] : llvm::zip(p.getRegions(), q.getRegions()))
      if (!matchRegion(r, s, found))
        return false;
    for (auto [u, v] : llvm::zip(p.getResults(), q.getResults()))
      map.map(u, v);
    return true;
  }
};

/// A class of alike functions (the first kept) and how the merged one gets
/// its sites' values.
struct Merge {
  SmallVector<LLVM::LLVMFuncOp> alike;
  SmallVector<Matcher::Found> found; // per function (the first's empty)
  /// The first's sites that vary, in the order met, each with its values
  /// (one per function).
  llvm::MapVector<Operation *, SmallVector<int64_t>> sites;
  /// Each site's value is start + step * t for the t-th function, t passed
  /// in x; else each distinct column of values is passed as it is, in x
  /// and then y.
  bool affine = true;
  SmallVector<SmallVector<int64_t>> columns;

  /// Recomputes the sites and the way they are passed; false when they
  /// need more than `free` arguments or a value does not fit them (`width`
  /// bits, the target's index).
  bool plan(unsigned free, unsigned width) {
    sites.clear();
    columns.clear();
    for (const Matcher::Found &f : found)
      for (auto [op, value] : f)
        sites.insert({op, {}});
    for (auto &[op, values] : sites)
      for (const Matcher::Found &f : found) {
        auto it = f.find(op);
        values.push_back(it != f.end() ? it->second : *siteValue(op));
      }
    for (auto &[op, values] : sites)
      for (int64_t value : values)
        if (!llvm::isIntN(width, value))
          return false;
    affine = true;
    for (auto &[op, values] : sites)
      for (size_t t = 2; t < values.size(); ++t)
        affine &= values[t] - values[t - 1] == values[1] - values[0];
    if (affine)
      return sites.empty() || free >= 1;
    for (auto &[op, values] : sites)
      if (!llvm::is_contained(columns, values))
        columns.push_back(values);
    return columns.size() <= free;
  }
};

struct MergeKernelsPass : kiln::impl::MergeKernelsBase<MergeKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Every symbol's users, in one walk of the module.
    llvm::DenseMap<StringAttr, SmallVector<Operation *>> users;
    if (auto uses = SymbolTable::getSymbolUses(&module.getBodyRegion()))
      for (const SymbolTable::SymbolUse &use : *uses)
        users[use.getSymbolRef().getRootReference()].push_back(use.getUser());
    // Each candidate's kiln_parallel_rows calls; the candidates by node and
    // shape.
    llvm::DenseMap<Operation *, SmallVector<LLVM::CallOp>> calls;
    llvm::MapVector<std::pair<llvm::hash_code, Attribute>,
                    SmallVector<LLVM::LLVMFuncOp>>
        groups;
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
      SmallVector<LLVM::CallOp> sites;
      if (!isCandidate(fn, users[fn.getSymNameAttr()], sites))
        continue;
      calls[fn] = std::move(sites);
      groups[{shapeHash(fn), fn->getAttr(kiln::kNodesAttr)}].push_back(fn);
    }
    for (auto &entry : groups) {
      SmallVector<LLVM::LLVMFuncOp> left = entry.second;
      while (left.size() > 1) {
        Merge merge;
        merge.alike.push_back(left.front());
        merge.found.emplace_back();
        unsigned free = freeArgs(left.front()).size();
        unsigned width = cast<IntegerType>(
                             left.front().getArgument(kFreeArgs[0]).getType())
                             .getWidth();
        SmallVector<LLVM::LLVMFuncOp> rest;
        for (LLVM::LLVMFuncOp fn : ArrayRef(left).drop_front()) {
          Matcher::Found found;
          if (!Matcher().match(left.front(), fn, found)) {
            rest.push_back(fn);
            continue;
          }
          merge.alike.push_back(fn);
          merge.found.push_back(std::move(found));
          if (!merge.plan(free, width)) {
            merge.alike.pop_back();
            merge.found.pop_back();
            rest.push_back(fn);
          }
        }
        if (merge.alike.size() > 1) {
          merge.plan(free, width); // again, without any refused last
          apply(merge, calls);
        }
        left = std::move(rest);
      }
    }
  }

  /// x and y when `fn` leaves them unused.
  static SmallVector<unsigned> freeArgs(LLVM::LLVMFuncOp fn) {
    SmallVector<unsigned> free;
    for (unsigned i : kFreeArgs)
      if (fn.getArgument(i).use_empty())
        free.push_back(i);
    return free;
  }

  /// Whether `fn` is a rows function whose every use (`users`) is its
  /// address as the first argument of kiln_parallel_rows calls, which are
  /// added to `sites`.
  static bool isCandidate(LLVM::LLVMFuncOp fn, ArrayRef<Operation *> users,
                          SmallVectorImpl<LLVM::CallOp> &sites) {
    if (fn.isExternal() || !fn->hasAttr(kiln::kNodesAttr) ||
        fn.getNumArguments() != kiln::kRowsBuffers + 4 ||
        !isa<IntegerType>(fn.getArgument(kFreeArgs[0]).getType()) ||
        !isa<LLVM::LLVMVoidType>(fn.getFunctionType().getReturnType()) ||
        freeArgs(fn).empty())
      return false;
    // Its own calls would go with it when it is merged away.
    bool dispatches = false;
    fn.walk([&](LLVM::CallOp call) {
      dispatches |= call.getCallee() == "kiln_parallel_rows";
    });
    if (dispatches)
      return false;
    for (Operation *user : users) {
      auto address = dyn_cast<LLVM::AddressOfOp>(user);
      if (!address)
        return false;
      for (OpOperand &operand : address->getUses()) {
        auto call = dyn_cast<LLVM::CallOp>(operand.getOwner());
        if (!call || call.getCallee() != "kiln_parallel_rows" ||
            operand.getOperandNumber() != 0 ||
            call.getNumOperands() != kCallArg + kiln::kRowsBuffers + 3)
          return false;
        sites.push_back(call);
      }
    }
    return true;
  }

  /// Makes `merge.alike` one function, the first: its sites computed from
  /// (or read from) its free arguments, which each call passes.
  void apply(const Merge &merge,
             llvm::DenseMap<Operation *, SmallVector<LLVM::CallOp>> &calls) {
    LLVM::LLVMFuncOp kept = merge.alike.front();
    SmallVector<unsigned> free = freeArgs(kept);
    // The calls: each function's t, or its columns' values.
    for (auto [t, fn] : llvm::enumerate(merge.alike)) {
      SmallVector<int64_t> passed;
      if (merge.affine)
        passed.push_back(t);
      else
        for (const SmallVector<int64_t> &column : merge.columns)
          passed.push_back(column[t]);
      for (LLVM::CallOp call : calls[fn]) {
        OpBuilder b(call);
        for (auto [arg, value] : llvm::zip(free, passed)) {
          Type type = call.getOperand(kCallArg + arg).getType();
          call->setOperand(kCallArg + arg,
                           b.create<LLVM::ConstantOp>(
                               call.getLoc(), type,
                               b.getIntegerAttr(type, value)));
        }
        if (fn != kept)
          call.getOperand(0).getDefiningOp<LLVM::AddressOfOp>().setGlobalName(
              kept.getSymName());
      }
    }
    // The kept function: each site's value, at its entry (before any site
    // is replaced, a constant at the entry maybe).
    OpBuilder b = OpBuilder::atBlockBegin(&kept.getBody().front());
    auto index = cast<IntegerType>(kept.getArgument(free.front()).getType());
    SmallVector<Value> replacements;
    for (auto &[op, values] : merge.sites) {
      Location loc = op->getLoc();
      Value value;
      if (merge.affine) {
        Value t = kept.getArgument(free.front());
        int64_t step = values[1] - values[0];
        value = b.create<LLVM::AddOp>(
            loc, b.create<LLVM::ConstantOp>(loc, index, values[0]),
            b.create<LLVM::MulOp>(
                loc, t, b.create<LLVM::ConstantOp>(loc, index, step)));
      } else {
        value = kept.getArgument(
            free[llvm::find(merge.columns, values) - merge.columns.begin()]);
      }
      // A constant's type from the index's (its values fit the index); a
      // getelementptr takes the index as it is.
      if (!isa<LLVM::GEPOp>(op)) {
        auto type = cast<IntegerType>(op->getResult(0).getType());
        if (type.getWidth() < index.getWidth())
          value = b.create<LLVM::TruncOp>(loc, type, value);
        else if (type.getWidth() > index.getWidth())
          value = b.create<LLVM::SExtOp>(loc, type, value);
      }
      replacements.push_back(value);
    }
    for (auto [site, value] : llvm::zip(merge.sites, replacements)) {
      Operation *op = site.first;
      if (auto gep = dyn_cast<LLVM::GEPOp>(op)) {
        OpBuilder at(gep);
        value = at.create<LLVM::GEPOp>(
            gep.getLoc(), gep.getType(), gep.getElemType(), gep.getBase(),
            ArrayRef<LLVM::GEPArg>{value}, gep.getInbounds());
      }
      op->getResult(0).replaceAllUsesWith(value);
      op->erase();
    }
    for (LLVM::LLVMFuncOp fn : ArrayRef(merge.alike).drop_front())
      fn.erase();
    ++mergedKernels;
    erasedKernels += merge.alike.size() - 1;
  }
};

} // namespace
