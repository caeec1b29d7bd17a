//===- Target.cpp - CPU target machines and artifact output ---------------===//
//
// This file implements the CPU output stage. Every file is written to a
// temporary name beside the output and renamed into place only when it is
// complete, so an error never leaves a half-written artifact. Static
// archives carry the model object and the runtime's members, so a user links
// one file; shared libraries are linked with ld.lld against the runtime.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Target.h"

#include <limits>

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SwapByteOrder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

using namespace llvm;
using namespace kiln;

static Error makeError(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message.str());
}

bool kiln::isBareMetal(const Triple &triple) {
  return triple.getOS() == Triple::UnknownOS && !triple.isOSBinFormatMachO();
}

TargetProfile kiln::profileFor(const TargetMachine &machine) {
  TargetProfile profile;
  const Triple &triple = machine.getTargetTriple();
  const MCSubtargetInfo *sti = machine.getMCSubtargetInfo();
  auto has = [&](StringRef feature) {
    return sti && sti->checkFeatures(("+" + feature).str());
  };
  profile.threads = !isBareMetal(triple);
  profile.hostByteOrder = triple.isLittleEndian() == sys::IsLittleEndianHost;
  profile.indexBits = triple.isArch32Bit() ? 32 : 64;
  profile.roundEvenInstruction =
      triple.isAArch64() || (triple.isX86() && has("sse4.1"));
  if (triple.isX86()) {
    // 32 zmm: 8x2 accumulators. 16 ymm or xmm: 6x2 (BLIS's Haswell kernel).
    if (!has("avx512f")) {
      profile.vectorWidth = has("avx") ? 8 : 4;
      profile.tileM = 6;
      profile.vectorRegisters = 16;
      // Such cores have L2s of 256 or 512 KB, not AVX-512 servers' 1 or 2
      // MB: a B read in place by a few row blocks no longer stays in it
      // between them (MobileNetV2's 576 -> 96 1x1 convolution on an AVX2
      // EPYC: 0.38-0.51 ms in place, 0.28-0.35 ms packed; the model about
      // 3% faster), so every GEMM of 16 rows or more packs.
      profile.packMinRows = 16;
      // And a chunk of packed B half such an L2, not all of it (A's rows
      // stream through it too): MatMul 1024^3 on an AVX2 EPYC 22.77 ->
      // 22.51 ms on one thread, 11.81 -> 11.44 on two; 512^3 2.77 -> 2.73.
      profile.chunkBytes = 262144;
      if (has("avx2"))
        profile.int8Dot = "maddubs";
      // Zen 1-3 (Zen 4 has AVX-512): MobileNetV2's expansion convolutions
      // into padded 28x28, 14x14 and 7x7 planes spent half their time in
      // the masked stores of the vectors across lines; its depthwise
      // convolutions' row ends are blends too (with whole-vector reads of
      // the input rows: those layers about a fifth faster).
      profile.slowMaskedStores = machine.getTargetCPU().starts_with("znver");
      // A stride-1 window's three taps as three loads, not two shifts of
      // two or three shuffles each: MobileNetV2's stride-1 depthwise
      // convolutions on an AVX2 EPYC went from 13.5% of a run to 9.9%
      // (9.94 -> 9.55 ms on one thread).
      profile.costlyLaneShifts = has("avx");
    } else if (has("avx512vnni")) {
      profile.int8Dot = "vnni";
    } else if (has("avx512bw")) {
      profile.int8Dot = "maddubs";
    }
    // Plain GEMMs of 128 to 255 rows read B in place where AVX-512's L2
    // holds it between row blocks (TargetProfile::packMinRowsPlain).
    if (has("avx512f"))
      profile.packMinRowsPlain = 256;
    // Weights in row blocks, prefetched: on an AVX2 EPYC ResNet-50 75.98
    // -> 73.58 ms on one thread (40.77 -> 38.83 on two), MobileNetV2 9.42
    // -> 8.95 (5.19 -> 5.06), SqueezeNet 6.67 -> 6.56; on an AVX-512 EPYC
    // (Zen 5) ResNet-50 0.974 of before on one thread (paired rounds), its
    // 7x7 layers' 8 MB of weights a few streams of memory each, MobileNetV2
    // and SqueezeNet unchanged (1.004, 1.006).
    profile.rowBlockWeights = true;
    // 32 zmm: a depthwise convolution's (or a pool's) output rows four at
    // a time, each input row read and shuffled once for them, their
    // accumulators beside a 3x3 window's nine weights and a row's taps. On
    // an AVX-512 EPYC (Zen 5), paired rounds: MobileNetV2 0.957-0.973 of
    // before on one thread, 0.970-0.972 on two; SqueezeNet and ResNet-50
    // (a max pool each) 0.994-0.995. (16 ymm would spill; not measured.)
    if (has("avx512f"))
      profile.windowRows = 4;
  } else if (triple.isAArch64()) {
    // 32 NEON registers of 4 lanes: 8x3 accumulators (OpenBLAS's 8x12).
    profile.vectorWidth = 4;
    profile.tileNVectors = 3;
    profile.clampsAsCompares = false;
  } else if (triple.isARM() || triple.isThumb()) {
    // Cortex-M: Helium has 8 registers of 4 lanes; without it the FPU's 32
    // single registers hold the 4x4 accumulators of the scalarised vectors.
    profile.vectorWidth = 4;
    profile.tileM = 4;
    profile.tileNVectors = 1;
    profile.vectorRegisters = 8;
    profile.packMinRows = std::numeric_limits<int64_t>::max();
    profile.chunkBytes = 4096;
    profile.winograd = false;
    profile.alignment = 16;
    profile.expandFloatMinMax = true;
    // Cortex-M4, M7, M33, M55...: 8-bit dot products with SMLAD.
    if (has("dsp"))
      profile.int8Dot = "smlad";
  } else {
    // Anything else: modest tiles, and no reliance on llvm.maximum, which
    // some backends cannot select (soft-float RISC-V among them).
    profile.vectorWidth = 4;
    profile.tileM = 4;
    profile.expandFloatMinMax = true;
  }
  return profile;
}

std::string kiln::runtimeDirFor(const Triple &triple) {
  if (triple.isAArch64() && triple.isOSLinux())
    return "aarch64-linux-gnu";
  // The Cortex-M runtimes are Thumb-2 code for the hard-float ABI.
  if (!triple.isThumb() || !isBareMetal(triple) ||
      triple.getEnvironment() != Triple::EABIHF)
    return "";
  if (triple.getSubArch() == Triple::ARMSubArch_v7em)
    return "thumbv7em-none-eabihf";
  if (triple.getSubArch() == Triple::ARMSubArch_v8_1m_mainline)
    return "thumbv8.1m.main-none-eabihf";
  return "";
}

Expected<std::unique_ptr<TargetMachine>>
kiln::createTargetMachine(const TargetRequest &request) {
  InitializeAllTargetInfos();
  InitializeAllTargets();
  InitializeAllTargetMCs();
  InitializeAllAsmPrinters();
  InitializeAllAsmParsers();

  std::string triple, cpu = request.cpu, features = request.features;
  const std::string &t = request.target;
  if (t == "host") {
    triple = sys::getProcessTriple();
    // The host's features go with the host's CPU; an --mcpu given on the
    // host (say haswell, to build for older machines) brings its own.
    bool hostCPU = cpu.empty();
    if (hostCPU)
      cpu = sys::getHostCPUName().str();
    if (features.empty() && hostCPU) {
      SubtargetFeatures host;
      for (auto &feature : sys::getHostCPUFeatures())
        host.AddFeature(feature.first(), feature.second);
      features = host.getString();
    }
  } else if (t == "x86_64") {
    triple = "x86_64-unknown-linux-gnu";
    if (cpu.empty())
      cpu = "x86-64";
  } else if (t == "aarch64") {
    triple = "aarch64-unknown-linux-gnu";
    if (cpu.empty())
      cpu = "generic";
  } else if (t == "cortex-m4" || t == "cortex-m7") {
    // Armv7E-M with a single-precision (M4) or double-precision (M7) FPU
    // and the DSP extension; hard-float ABI.
    triple = "thumbv7em-none-unknown-eabihf";
    if (cpu.empty())
      cpu = t;
  } else if (t == "cortex-m55") {
    // Armv8.1-M with Helium (MVE, integer and float).
    triple = "thumbv8.1m.main-none-unknown-eabihf";
    if (cpu.empty())
      cpu = t;
  } else if (StringRef(t).starts_with("cuda")) {
    return makeError("target '" + t + "' is not supported yet");
  } else if (t.find('-') != std::string::npos) {
    triple = Triple::normalize(t);
  } else {
    return makeError("unknown target '" + t +
                     "' (expected host, x86_64, aarch64, cortex-m4, "
                     "cortex-m7, cortex-m55 or a target triple)");
  }

  std::string message;
  const Target *target = TargetRegistry::lookupTarget(triple, message);
  if (!target)
    return makeError("unknown target '" + t + "': " + message);
  if (!cpu.empty() && cpu != "generic") {
    // Reject an --mcpu the target does not know instead of letting LLVM warn.
    std::unique_ptr<MCSubtargetInfo> sti(
        target->createMCSubtargetInfo(triple, "", ""));
    if (sti && !sti->isCPUStringValid(cpu))
      return makeError("unknown --mcpu '" + cpu + "' for target '" + t + "'");
  }
  CodeGenOptLevel level = request.optLevel >= 3   ? CodeGenOptLevel::Aggressive
                          : request.optLevel == 2 ? CodeGenOptLevel::Default
                          : request.optLevel == 1 ? CodeGenOptLevel::Less
                                                  : CodeGenOptLevel::None;
  llvm::TargetOptions options;
  // Position independent code for anything a PIE or a shared library links;
  // bare-metal firmware is linked at fixed addresses.
  Reloc::Model reloc =
      isBareMetal(Triple(triple)) ? Reloc::Static : Reloc::PIC_;
  std::unique_ptr<TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, options, reloc, std::nullopt, level));
  if (!machine)
    return makeError("cannot create a target machine for '" + triple + "'");
  return machine;
}

void kiln::optimizeModule(Module &module, TargetMachine &machine,
                          int optLevel) {
  module.setDataLayout(machine.createDataLayout());
  module.setTargetTriple(machine.getTargetTriple().str());
  if (optLevel <= 0)
    return;
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  PassBuilder pb(&machine, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  OptimizationLevel level = optLevel == 1   ? OptimizationLevel::O1
                            : optLevel == 2 ? OptimizationLevel::O2
                                            : OptimizationLevel::O3;
  ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
}

/// Emits an object or assembly file into `os`.
static Error emitCode(Module &module, TargetMachine &machine,
                      raw_pwrite_stream &os, CodeGenFileType type) {
  legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, os, nullptr, type))
    return makeError("the target cannot emit this file type");
  pm.run(module);
  return Error::success();
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
static Error writeAtomically(StringRef path,
                             function_ref<Error(raw_pwrite_stream &)> write) {
  Expected<sys::fs::TempFile> temp =
      sys::fs::TempFile::create(path + "-%%%%%%.tmp");
  if (!temp)
    return makeError("cannot write '" + path +
                     "': " + toString(temp.takeError()));
  {
    raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    if (Error err = write(os)) {
      consumeError(temp->discard());
      return err;
    }
    os.flush();
    if (os.has_error()) {
      consumeError(temp->discard());
      return makeError("cannot write '" + path + "': " + os.error().message());
    }
  }
  if (Error err = temp->keep(path))
    return makeError("cannot write '" + path +
                     "': " + toString(std::move(err)));
  return Error::success();
}

/// The bytes of executable sections in the object file `object`.
static uint64_t codeBytes(ArrayRef<char> object) {
  auto file = object::ObjectFile::createObjectFile(
      MemoryBufferRef(StringRef(object.data(), object.size()), "model.o"));
  if (!file) {
    consumeError(file.takeError());
    return 0;
  }
  uint64_t bytes = 0;
  for (const object::SectionRef &section : (*file)->sections())
    if (section.isText())
      bytes += section.getSize();
  return bytes;
}

Expected<uint64_t> kiln::measureCode(Module &module, TargetMachine &machine) {
  SmallVector<char, 0> object;
  raw_svector_ostream os(object);
  if (Error err = emitCode(module, machine, os, CodeGenFileType::ObjectFile))
    return std::move(err);
  return codeBytes(object);
}

Error kiln::writeArtifact(Module &module, TargetMachine &machine,
                          ArtifactKind kind, StringRef path,
                          const ArtifactTools &tools, uint64_t *codeSize) {
  switch (kind) {
  case ArtifactKind::LLVMIR:
    return writeAtomically(path, [&](raw_pwrite_stream &os) {
      module.print(os, nullptr);
      return Error::success();
    });
  case ArtifactKind::Assembly:
    return writeAtomically(path, [&](raw_pwrite_stream &os) {
      return emitCode(module, machine, os, CodeGenFileType::AssemblyFile);
    });
  case ArtifactKind::Object:
  case ArtifactKind::Archive:
  case ArtifactKind::SharedLibrary:
    break;
  }

  // The others need the object first, in memory.
  SmallVector<char, 0> object;
  {
    raw_svector_ostream os(object);
    if (Error err = emitCode(module, machine, os, CodeGenFileType::ObjectFile))
      return err;
  }
  if (codeSize)
    *codeSize = codeBytes(object);
  if (kind == ArtifactKind::Object)
    return writeAtomically(path, [&](raw_pwrite_stream &os) {
      os.write(object.data(), object.size());
      return Error::success();
    });
  if (tools.runtimeArchive.empty() || !sys::fs::exists(tools.runtimeArchive))
    return makeError("the Kiln runtime library was not found (looked for '" +
                     tools.runtimeArchive + "')");

  if (kind == ArtifactKind::Archive) {
    auto runtime = MemoryBuffer::getFile(tools.runtimeArchive);
    if (!runtime)
      return makeError("cannot read '" + tools.runtimeArchive + "'");
    Error err = Error::success();
    object::Archive archive((*runtime)->getMemBufferRef(), err);
    if (err)
      return makeError("cannot read '" + tools.runtimeArchive +
                       "': " + toString(std::move(err)));
    std::vector<NewArchiveMember> members;
    std::string memberName = sys::path::stem(path).str() + ".o";
    members.push_back(NewArchiveMember(
        MemoryBufferRef(StringRef(object.data(), object.size()), memberName)));
    Error childErr = Error::success();
    for (const object::Archive::Child &child : archive.children(childErr)) {
      auto member =
          NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
      if (!member)
        return makeError("cannot read '" + tools.runtimeArchive +
                         "': " + toString(member.takeError()));
      members.push_back(std::move(*member));
    }
    if (childErr)
      return makeError("cannot read '" + tools.runtimeArchive +
                       "': " + toString(std::move(childErr)));
    Expected<std::unique_ptr<MemoryBuffer>> bytes = writeArchiveToBuffer(
        members, SymtabWritingMode::NormalSymtab, object::Archive::K_GNU,
        /*Deterministic=*/true, /*Thin=*/false);
    if (!bytes)
      return makeError("cannot build the archive: " +
                       toString(bytes.takeError()));
    return writeAtomically(path, [&](raw_pwrite_stream &os) {
      os << (*bytes)->getBuffer();
      return Error::success();
    });
  }

  // Shared library: link the object and the runtime with ld.lld into a
  // temporary, then rename it into place.
  SmallString<128> objPath;
  int fd;
  if (std::error_code ec =
          sys::fs::createTemporaryFile("kiln-model", "o", fd, objPath))
    return makeError("cannot create a temporary file: " + ec.message());
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(object.data(), object.size());
  }
  SmallString<128> soTemp(path);
  soTemp += ".tmp";
  std::string linker = tools.linker;
  // The thread-count and profiler calls are exported whether or not the
  // model uses the pool, so that a loader (kiln-run, an application) can
  // always make them.
  std::vector<StringRef> args{linker,
                              "-shared",
                              "--no-undefined-version",
                              "-u",
                              "kiln_set_num_threads",
                              "-u",
                              "kiln_get_num_threads",
                              "-u",
                              "kiln_set_profiler",
                              "-u",
                              "kiln_profile_busy_ns",
                              "-o",
                              soTemp,
                              objPath,
                              tools.runtimeArchive};
  // The linker's own messages go to a file and come back as one line.
  SmallString<128> logPath;
  if (std::error_code ec =
          sys::fs::createTemporaryFile("kiln-link", "log", logPath))
    return makeError("cannot create a temporary file: " + ec.message());
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string message;
  int rc = sys::ExecuteAndWait(linker, args, std::nullopt, redirects, 0, 0,
                               &message);
  sys::fs::remove(objPath);
  if (rc != 0) {
    if (auto log = MemoryBuffer::getFile(logPath); log && message.empty())
      message = (*log)->getBuffer().split('\n').first.str();
    sys::fs::remove(logPath);
    sys::fs::remove(soTemp);
    return makeError("linking '" + path + "' with " + linker + " failed" +
                     (message.empty() ? "" : ": " + message));
  }
  sys::fs::remove(logPath);
  if (std::error_code ec = sys::fs::rename(soTemp, path)) {
    sys::fs::remove(soTemp);
    return makeError("cannot write '" + path + "': " + ec.message());
  }
  return Error::success();
}
