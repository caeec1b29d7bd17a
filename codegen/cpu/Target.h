//===- Target.h - CPU target machines and artifact output -------*- C++ -*-===//
//
// This file declares the output stage for CPU targets: resolving --target,
// --mcpu and --mattr into an LLVM TargetMachine, optimising the module with
// LLVM's O2/O3 pipeline, and writing it as an object, assembly, LLVM IR, a
// static archive (with the runtime's objects) or a shared library.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CPU_TARGET_H
#define KILN_CODEGEN_CPU_TARGET_H

#include "codegen/common/TargetProfile.h"

#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace llvm {
class Module;
class Triple;
} // namespace llvm

namespace kiln {

/// What --target, --mcpu and --mattr asked for.
struct TargetRequest {
  std::string target = "host";
  std::string cpu;
  std::string features;
  int optLevel = 3;
};

/// Creates the TargetMachine for `request` (always position independent).
/// Errors name the unknown target.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetRequest &request);

/// True for a target with no operating system (Cortex-M): no threads, no
/// libc, no shared libraries, code linked at fixed addresses.
bool isBareMetal(const llvm::Triple &triple);

/// The code generation profile for `machine`'s CPU: vector width and GEMM
/// tile from its registers, threads unless bare metal.
TargetProfile profileFor(const llvm::TargetMachine &machine);

/// The directory under lib/kiln/ that holds the runtime built for `triple`,
/// or "" for the host's own (lib/libkiln_runtime.a) and targets with none.
std::string runtimeDirFor(const llvm::Triple &triple);

/// Runs LLVM's standard pipeline at `optLevel` (0-3) on `module`.
void optimizeModule(llvm::Module &module, llvm::TargetMachine &machine,
                    int optLevel);

/// The artifact kinds the CPU output stage writes.
enum class ArtifactKind { Object, Assembly, LLVMIR, Archive, SharedLibrary };

/// Where the output stage finds the tools and libraries it links.
struct ArtifactTools {
  std::string runtimeArchive; ///< libkiln_runtime.a for this target
  std::string linker;         ///< ld.lld
};

/// Writes `module` as `kind` to `path`, atomically: on error no file is left.
/// For an object, archive or shared library, `codeSize` (when given) gets
/// the bytes of the model object's executable sections.
llvm::Error writeArtifact(llvm::Module &module, llvm::TargetMachine &machine,
                          ArtifactKind kind, llvm::StringRef path,
                          const ArtifactTools &tools,
                          uint64_t *codeSize = nullptr);

/// Compiles `module` to an object in memory and returns the bytes of its
/// executable sections, without writing anything.
llvm::Expected<uint64_t> measureCode(llvm::Module &module,
                                     llvm::TargetMachine &machine);

} // namespace kiln

#endif // KILN_CODEGEN_CPU_TARGET_H
