//===- MergeRuntimeDeclarations.cpp - One declaration per runtime call ----===//
//
// This file implements kiln-merge-runtime-declarations. Before the LLVM
// dialect a runtime function that takes memrefs of any type (such as
// kiln_parallel_rows) needs one func declaration per argument types; each is
// marked `kiln.runtime = "NAME"`. With bare pointers all of them have one
// LLVM type: this pass points their calls at one declaration of NAME and
// erases the others.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace kiln {
#define GEN_PASS_DEF_MERGERUNTIMEDECLARATIONS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct MergeRuntimeDeclarationsPass
    : kiln::impl::MergeRuntimeDeclarationsBase<MergeRuntimeDeclarationsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<StringAttr> renamed; // declaration -> runtime name
    SmallVector<LLVM::LLVMFuncOp> stale;
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
      auto name = fn->getAttrOfType<StringAttr>("kiln.runtime");
      if (!name || !fn.isExternal())
        continue;
      if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name)) {
        if (existing.getFunctionType() != fn.getFunctionType()) {
          fn.emitError("calls ") << name << " with another signature";
          return signalPassFailure();
        }
      } else {
        OpBuilder b(fn);
        b.create<LLVM::LLVMFuncOp>(fn.getLoc(), name, fn.getFunctionType());
      }
      renamed[fn.getSymName()] = name;
      stale.push_back(fn);
    }
    module.walk([&](LLVM::CallOp call) {
      if (auto callee = call.getCallee())
        if (auto it = renamed.find(*callee); it != renamed.end())
          call.setCallee(it->second.getValue());
    });
    for (LLVM::LLVMFuncOp fn : stale)
      fn.erase();
  }
};

} // namespace
