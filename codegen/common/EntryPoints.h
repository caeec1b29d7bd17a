//===- EntryPoints.h - The C ABI around a compiled graph --------*- C++ -*-===//
//
// This file declares the emission, in LLVM IR, of the public entry points
// around the compiled graph function: NAME_run, NAME_info with its
// kiln_model_info descriptor, and (for shared libraries) kiln_model.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_ENTRYPOINTS_H
#define KILN_CODEGEN_COMMON_ENTRYPOINTS_H

#include "codegen/common/ModelSignature.h"

#include "llvm/Support/Error.h"

namespace llvm {
class Module;
} // namespace llvm

namespace kiln {

/// Adds NAME_run, NAME_info and, if `exportKilnModel`, kiln_model to
/// `module`, around `graphName`: a function taking one pointer per input,
/// one per output and the workspace. The graph function and every other
/// definition become internal, so only the entry points are exported.
llvm::Error addEntryPoints(llvm::Module &module, const ModelSignature &model,
                           llvm::StringRef graphName, bool exportKilnModel);

/// Adds `table` ("SYMBOL\tNODES" lines: the ONNX nodes each kernel function
/// computes) as the section .kiln_kernels, which kiln-run --profile reads
/// from a shared library's file to say what each kernel it times is; nothing
/// when `table` is empty.
void addKernelNodes(llvm::Module &module, llvm::StringRef table);

/// Bytes of constant data (weights) in `module`.
int64_t constantDataSize(const llvm::Module &module);

} // namespace kiln

#endif // KILN_CODEGEN_COMMON_ENTRYPOINTS_H
