//===- Kilnc.cpp - The Kiln compiler driver -------------------------------===//
//
// This file implements kilnc: ONNX model in, native artifact and C header
// out. It parses the command line, imports the model, runs the phases of
// Pipelines.cpp with the IR printing the user asked for, then translates to
// LLVM IR, adds the C entry points, optimises and writes the artifact.
// Every error ends in one line naming the file (and the ONNX node, where
// there is one) and exit status 1, with no output file left behind.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/EntryPoints.h"
#include "codegen/common/ModelSignature.h"
#include "codegen/common/Pipeline.h"
#include "codegen/cpu/Target.h"
#include "compiler/Calibration.h"
#include "compiler/Pipelines.h"
#include "compiler/import/Importer.h"
#include "passes/ParallelRows.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>

using namespace mlir;
using namespace kiln;
namespace cl = llvm::cl;

namespace {

enum class Emit { Obj, Lib, So, Asm, LLVMIR, MLIR, Header, PTX };

cl::OptionCategory kilncCategory("kilnc options");

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"),
                               cl::Required, cl::cat(kilncCategory));
cl::opt<std::string> outputPath("o", cl::desc("output file"),
                                cl::value_desc("path"), cl::Required,
                                cl::cat(kilncCategory));
cl::opt<Emit> emitKind(
    "emit", cl::desc("what to write (default: from the output's suffix)"),
    cl::values(clEnumValN(Emit::Obj, "obj", "object file (.o)"),
               clEnumValN(Emit::Lib, "lib", "static library (.a)"),
               clEnumValN(Emit::So, "so", "shared library (.so)"),
               clEnumValN(Emit::Asm, "asm", "assembly (.s)"),
               clEnumValN(Emit::LLVMIR, "llvm", "LLVM IR (.ll)"),
               clEnumValN(Emit::MLIR, "mlir",
                          "MLIR at --compile-to (default: LLVM dialect)"),
               clEnumValN(Emit::Header, "header", "the C header only (.h)"),
               clEnumValN(Emit::PTX, "ptx", "CUDA PTX (.ptx)")),
    cl::cat(kilncCategory));
cl::opt<std::string> targetName(
    "target",
    cl::desc("host, x86_64, aarch64, cortex-m4, cortex-m7, cortex-m55 or a "
             "triple"),
    cl::init("host"), cl::cat(kilncCategory));
cl::opt<std::string> mcpu("mcpu", cl::desc("target CPU, as in llc"),
                          cl::cat(kilncCategory));
cl::opt<std::string> mattr("mattr", cl::desc("target features, as in llc"),
                           cl::cat(kilncCategory));
cl::opt<std::string>
    modelName("name",
              cl::desc("symbol prefix (default: the model file's stem)"),
              cl::cat(kilncCategory));
enum OptLevel { O0, O1, O2, O3 };
cl::opt<OptLevel> optLevel(cl::desc("optimisation level"),
                           cl::values(clEnumVal(O0, "no optimisation"),
                                      clEnumVal(O1, ""), clEnumVal(O2, ""),
                                      clEnumVal(O3, "default")),
                           cl::init(O3), cl::cat(kilncCategory));
cl::opt<bool> printIRAfterAll("print-ir-after-all",
                              cl::desc("print the IR after every pass"),
                              cl::cat(kilncCategory));
cl::list<std::string>
    printIRAfter("print-ir-after",
                 cl::desc("print the IR after the named pass"),
                 cl::value_desc("pass-argument"), cl::cat(kilncCategory));
cl::opt<std::string>
    dumpIRDir("dump-ir",
              cl::desc("write the IR after every pass, one numbered file each"),
              cl::value_desc("dir"), cl::cat(kilncCategory));
cl::opt<bool> printMemoryPlan(
    "print-memory-plan",
    cl::desc("print arena, weights and code sizes, and every buffer"),
    cl::cat(kilncCategory));
cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("pin an input's shape, e.g. input:1x3x224x224"),
                cl::value_desc("name:dims"), cl::cat(kilncCategory));
cl::opt<std::string> inputShapesFrom(
    "input-shapes-from",
    cl::desc("pin every input the model leaves open (dynamic dimensions, "
             "sequences, optionals) to the shape of DIR/input_<i>.pb"),
    cl::value_desc("dir"), cl::cat(kilncCategory));
cl::opt<int64_t> maxStringBytes(
    "max-string-bytes",
    cl::desc("the most bytes one string of a string input may hold "
             "(default 64)"),
    cl::init(64), cl::cat(kilncCategory));
cl::opt<std::string> maxWorkspace(
    "max-workspace",
    cl::desc("fail if the workspace arena needs more than this many bytes"),
    cl::value_desc("bytes"), cl::cat(kilncCategory));
cl::opt<std::string> quantize(
    "quantize",
    cl::desc("int8: quantize the float model's convolutions, Gemms and "
             "MatMuls (needs --calibrate)"),
    cl::value_desc("int8"), cl::cat(kilncCategory));
cl::opt<std::string> calibrateDir(
    "calibrate",
    cl::desc("with --quantize: calibration inputs, DIR/input_<i>.pb or "
             "DIR/*/input_<i>.pb (or .npy), or DIR/*.npy for one input"),
    cl::value_desc("dir"), cl::cat(kilncCategory));
cl::list<std::string> keepFloat(
    "keep-float", cl::CommaSeparated,
    cl::desc("with --quantize: nodes that stay float (names, or OpType#index "
             "for unnamed nodes)"),
    cl::value_desc("node,..."), cl::cat(kilncCategory));
cl::opt<double> calibratePercentile(
    "calibrate-percentile",
    cl::desc("with --quantize: each activation's range ends at the P-th "
             "percentile of its values (and the (100-P)-th), not at their "
             "min and max"),
    cl::value_desc("P"), cl::init(0), cl::cat(kilncCategory));
cl::opt<double> keepFloatAbove(
    "keep-float-above",
    cl::desc("with --quantize: layers whose largest error on the "
             "calibration inputs is above PCT% of their 8-bit range stay "
             "float"),
    cl::value_desc("PCT"), cl::init(0), cl::cat(kilncCategory));
cl::opt<std::string> saveQuantized(
    "save-quantized",
    cl::desc("with --quantize: also write the QDQ model that gets compiled "
             "(ONNX Runtime's format) to this path"),
    cl::value_desc("model.onnx"), cl::cat(kilncCategory));
cl::opt<bool> quantizeReport(
    "quantize-report",
    cl::desc("with --quantize: print each layer's scales and its error "
             "against the float model on the calibration inputs"),
    cl::cat(kilncCategory));
cl::opt<std::string>
    compileTo("compile-to",
              cl::desc("with --emit=mlir: stop after onnx, linalg, optimized, "
                       "bufferized or llvm"),
              cl::init("llvm"), cl::cat(kilncCategory));

/// The temporary directory of --quantize, removed at exit.
std::string workDirToRemove;

/// Prints one error line and nothing else.
[[noreturn]] void fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "kilnc") << message << "\n";
  exit(1);
}

/// Formats a diagnostic as `FILE: node 'N' (Op): message`.
std::string formatDiagnostic(Diagnostic &diag) {
  std::string node, file;
  diag.getLocation()->walk([&](Location loc) {
    if (auto name = dyn_cast<NameLoc>(loc); name && node.empty())
      node = name.getName().str();
    if (auto flc = dyn_cast<FileLineColLoc>(loc); flc && file.empty())
      file = flc.getFilename().str();
    return WalkResult::advance();
  });
  if (file.empty())
    file = inputPath;
  std::string out = file + ": ";
  if (!node.empty())
    out += node + ": ";
  return out + diag.str();
}

std::optional<Emit> emitFromSuffix(llvm::StringRef path) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  return llvm::StringSwitch<std::optional<Emit>>(ext)
      .Case(".o", Emit::Obj)
      .Case(".a", Emit::Lib)
      .Case(".so", Emit::So)
      .Case(".s", Emit::Asm)
      .Case(".ll", Emit::LLVMIR)
      .Case(".mlir", Emit::MLIR)
      .Case(".h", Emit::Header)
      .Case(".ptx", Emit::PTX)
      .Default(std::nullopt);
}

/// Parses `D0xD1x...` (empty: a scalar) from the pin `text`.
std::vector<int64_t> parseDims(llvm::StringRef dims, llvm::StringRef text) {
  std::vector<int64_t> out;
  if (dims.empty())
    return out;
  llvm::SmallVector<llvm::StringRef> parts;
  dims.split(parts, 'x');
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0)
      fail("--input-shape: '" + p + "' in '" + text + "' is not a dimension");
    out.push_back(d);
  }
  return out;
}

/// Parses `NAME:1x3x224x224` (a tensor), `NAME:[2x3,4x5]` (a sequence of
/// two tensors; `[]` is empty, and an empty element a scalar) or
/// `NAME:none` (an optional that holds nothing).
InputShapePin parsePin(llvm::StringRef text) {
  auto [name, dims] = text.rsplit(':');
  if (name.empty() || dims.empty())
    fail("--input-shape expects NAME:D0xD1x..., NAME:[D0xD1,...] or "
         "NAME:none, got '" +
         text + "'");
  InputShapePin pin;
  pin.name = name.str();
  if (dims == "none") {
    pin.kind = InputShapePin::Kind::None;
  } else if (dims.consume_front("[")) {
    if (!dims.consume_back("]"))
      fail("--input-shape: a sequence in '" + text + "' lacks its ']'");
    pin.kind = InputShapePin::Kind::Sequence;
    llvm::SmallVector<llvm::StringRef> elements;
    if (!dims.empty())
      dims.split(elements, ',');
    for (llvm::StringRef e : elements)
      pin.elements.push_back(parseDims(e, text));
  } else {
    pin.dims = parseDims(dims, text);
  }
  return pin;
}

int32_t dtypeOf(Type t) {
  if (t.isF32())
    return 1;
  if (t.isF64())
    return 11;
  if (t.isF16())
    return 10;
  if (t.isBF16())
    return 16;
  if (t.isInteger(1))
    return 9;
  if (auto it = dyn_cast<IntegerType>(t)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 8:
      return u ? 2 : 3;
    case 16:
      return u ? 4 : 5;
    case 32:
      return u ? 12 : 6;
    case 64:
      return u ? 13 : 7;
    }
  }
  return 0;
}

/// The model's inputs and outputs, from the imported entry function.
ModelSignature signatureOf(func::FuncOp func, const std::string &name) {
  ModelSignature sig;
  sig.name = name;
  sig.source = llvm::sys::path::filename(inputPath).str();
  auto describe = [&](Type type, DictionaryAttr attrs) {
    auto tensor = cast<RankedTensorType>(type);
    TensorSignature t;
    if (auto n = attrs ? attrs.getAs<StringAttr>(kValueNameAttr) : nullptr)
      t.name = n.str();
    t.dtype = dtypeOf(tensor.getElementType());
    t.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
    // A string tensor: its strings are rows of bytes inside the model.
    if (auto bytes =
            attrs ? attrs.getAs<IntegerAttr>(kStringBytesAttr) : nullptr) {
      t.dtype = 8;
      t.stringBytes = bytes.getInt();
      t.shape.pop_back();
    }
    return t;
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    sig.inputs.push_back(
        describe(func.getArgument(i).getType(), func.getArgAttrDict(i)));
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    sig.outputs.push_back(
        describe(func.getResultTypes()[i], func.getResultAttrDict(i)));
  auto values = [&](StringRef attr, const std::vector<TensorSignature> &flat) {
    std::vector<ValueSignature> list;
    auto array = func->getAttrOfType<ArrayAttr>(attr);
    if (!array)
      return plainValues(flat);
    uint32_t first = 0;
    for (Attribute a : array) {
      auto d = cast<DictionaryAttr>(a);
      auto get = [&](StringRef k) { return d.getAs<IntegerAttr>(k).getInt(); };
      ValueSignature v;
      v.name = d.getAs<StringAttr>("name").str();
      v.kind = get("kind");
      v.present = get("present");
      v.dtype = get("dtype");
      v.first = first;
      v.count = get("count");
      if (!v.dtype && v.count && first < flat.size())
        v.dtype = flat[first].dtype;
      first += v.count;
      list.push_back(v);
    }
    return list;
  };
  sig.inputValues = values(kInputValuesAttr, sig.inputs);
  sig.outputValues = values(kOutputValuesAttr, sig.outputs);
  return sig;
}

/// Writes each pass's IR to DIR/NN-pass.mlir.
class DumpIRConfig : public PassManager::IRPrinterConfig {
public:
  explicit DumpIRConfig(std::string dir)
      : IRPrinterConfig(/*printModuleScope=*/true, false, false,
                        OpPrintingFlags().elideLargeElementsAttrs(16)),
        dir(std::move(dir)) {}
  void printBeforeIfEnabled(Pass *, Operation *, PrintCallbackFn) override {}
  void printAfterIfEnabled(Pass *pass, Operation *,
                           PrintCallbackFn print) override {
    std::string file = llvm::formatv(
        "{0}/{1}-{2}.mlir", dir, llvm::format("%03u", ++count),
        pass->getArgument().empty() ? pass->getName() : pass->getArgument());
    std::error_code ec;
    llvm::raw_fd_ostream os(file, ec);
    if (ec)
      fail("cannot write '" + file + "': " + ec.message());
    print(os);
  }

private:
  std::string dir;
  unsigned count = 0;
};

/// The directory holding kilnc, for finding the runtime and tools.
std::string toolDir(const char *argv0) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&toolDir));
  return llvm::sys::path::parent_path(exe).str();
}

void printPlan(Operation *func, const ModelSignature &sig) {
  llvm::outs() << "memory plan for " << sig.name << " (" << sig.source
               << ") on " << sig.target << "\n";
  int64_t unplanned = 0, lower = 0;
  if (auto a = func->getAttrOfType<IntegerAttr>(kWorkspaceTotalAttr))
    unplanned = a.getInt();
  if (auto a = func->getAttrOfType<IntegerAttr>(kWorkspaceLowerBoundAttr))
    lower = a.getInt();
  llvm::outs() << llvm::formatv(
      "  arena:   {0} bytes (lower bound {1}; {2} bytes if every buffer had "
      "its own)\n",
      sig.workspaceSize, lower, unplanned);
  llvm::outs() << llvm::formatv("  weights: {0} bytes\n", sig.weightsSize);
  llvm::outs() << llvm::formatv(
      "  code:    {0} bytes (executable sections, without the weights)\n",
      sig.codeSize);
  auto buffers = func->getAttrOfType<ArrayAttr>(kBuffersAttr);
  llvm::outs() << "  buffers (" << (buffers ? buffers.size() : 0)
               << "): offset size [first, last] type\n";
  if (!buffers)
    return;
  for (Attribute a : buffers) {
    auto d = cast<DictionaryAttr>(a);
    auto get = [&](StringRef k) { return d.getAs<IntegerAttr>(k).getInt(); };
    llvm::outs() << llvm::formatv("    {0,10} {1,10} [{2}, {3}] {4}\n",
                                  get("offset"), get("size"), get("first"),
                                  get("last"), d.getAs<StringAttr>("type"));
  }
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(kilncCategory);
  cl::ParseCommandLineOptions(argc, argv, "Kiln: ONNX to native code\n");
  // An LLVM backend that cannot compile something for the chosen target
  // reports a fatal error: one line and exit status 1 like every other
  // error, and the temporary files removed, not a crash with a stack dump.
  llvm::install_fatal_error_handler(
      [](void *, const char *reason, bool) {
        llvm::sys::RunInterruptHandlers();
        llvm::WithColor::error(llvm::errs(), "kilnc")
            << inputPath << ": LLVM cannot compile this model for target '"
            << targetName << "': " << reason << "\n";
        exit(1);
      },
      nullptr);

  // Flags first: nothing is read before they are known to be good.
  Emit emit;
  if (emitKind.getNumOccurrences())
    emit = emitKind;
  else if (auto e = emitFromSuffix(outputPath))
    emit = *e;
  else
    fail("cannot tell what to emit from '" + outputPath +
         "'; give --emit=obj|lib|so|asm|llvm|mlir|header|ptx");
  if (emit == Emit::PTX)
    fail("--emit=ptx is not supported yet");
  if (printIRAfterAll && !printIRAfter.empty())
    fail("--print-ir-after-all and --print-ir-after are exclusive");
  std::optional<Phase> stopAt = parsePhase(compileTo);
  if (!stopAt)
    fail("unknown --compile-to '" + compileTo +
         "' (onnx, linalg, optimized, bufferized or llvm)");
  std::vector<InputShapePin> pins;
  for (const std::string &s : inputShapes)
    pins.push_back(parsePin(s));
  if (!quantize.empty() && quantize != "int8")
    fail("unknown --quantize '" + quantize + "' (int8)");
  if (!quantize.empty() && calibrateDir.empty())
    fail("--quantize=int8 needs --calibrate=DIR (the calibration inputs)");
  if (quantize.empty() &&
      (!calibrateDir.empty() || !keepFloat.empty() || quantizeReport ||
       !saveQuantized.empty() || calibratePercentile.getNumOccurrences() ||
       keepFloatAbove.getNumOccurrences()))
    fail("--calibrate, --calibrate-percentile, --keep-float, "
         "--keep-float-above, --quantize-report and --save-quantized go "
         "with --quantize=int8");
  if (keepFloatAbove.getNumOccurrences() && !(keepFloatAbove > 0))
    fail("--keep-float-above must be above 0");
  if (calibratePercentile.getNumOccurrences() &&
      !(calibratePercentile > 50 && calibratePercentile <= 100))
    fail("--calibrate-percentile must be above 50 and at most 100");
  std::string name =
      modelName.empty()
          ? makeCIdentifier(llvm::sys::path::stem(inputPath).str())
          : modelName.getValue();
  if (makeCIdentifier(name) != name)
    fail("--name '" + name + "' is not a C identifier");

  TargetRequest request{targetName, mcpu, mattr, (int)optLevel};
  auto machine = createTargetMachine(request);
  if (!machine)
    fail(llvm::toString(machine.takeError()));

  // Fail before the work, not after it, when the output cannot be written.
  llvm::StringRef outDir = llvm::sys::path::parent_path(outputPath);
  if (!outDir.empty() && !llvm::sys::fs::is_directory(outDir))
    fail("cannot write '" + outputPath + "': no directory '" + outDir + "'");

  // The runtime a library links: the host's own, or one built for the
  // target's architecture (lib/kiln/DIR/libkiln_runtime.a).
  const llvm::Triple &triple = (*machine)->getTargetTriple();
  bool bareMetal = isBareMetal(triple);
  std::string dir = toolDir(argv[0]);
  ArtifactTools tools;
  tools.linker = KILN_LLD_PATH;
  if (triple.getArch() == llvm::Triple(llvm::sys::getProcessTriple()).getArch())
    tools.runtimeArchive = dir + "/../lib/libkiln_runtime.a";
  else if (std::string sub = runtimeDirFor(triple); !sub.empty())
    tools.runtimeArchive = dir + "/../lib/kiln/" + sub + "/libkiln_runtime.a";
  if (emit == Emit::So && bareMetal)
    fail("target '" + targetName +
         "' has no operating system to load a shared library; emit an "
         "object (.o) or a static library (.a)");
  if ((emit == Emit::So || emit == Emit::Lib) && tools.runtimeArchive.empty())
    fail("a " +
         llvm::Twine(emit == Emit::So ? "shared library" : "static library") +
         " for target '" + targetName +
         "' needs the Kiln runtime built for it, and Kiln has none for " +
         triple.str() +
         "; emit an object (--emit=obj) and link the runtime "
         "yourself");
  std::optional<int64_t> workspaceLimit;
  if (!maxWorkspace.empty()) {
    int64_t bytes;
    if (llvm::StringRef(maxWorkspace).getAsInteger(10, bytes) || bytes < 0)
      fail("--max-workspace expects a number of bytes, got '" + maxWorkspace +
           "'");
    workspaceLimit = bytes;
  }

  if (!llvm::sys::fs::exists(inputPath))
    fail(inputPath + ": no such file");
  if (llvm::sys::fs::is_directory(inputPath))
    fail(inputPath + ": is a directory, not an ONNX model");

  DialectRegistry registry;
  registerKilnDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  bool reported = false;
  context.getDiagEngine().registerHandler([&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error && !reported) {
      reported = true;
      llvm::WithColor::error(llvm::errs(), "kilnc")
          << formatDiagnostic(diag) << "\n";
    }
    return success();
  });

  if (maxStringBytes < 1)
    fail("--max-string-bytes must be at least 1");
  // --quantize: the QDQ model, calibrated here, is what gets compiled.
  std::string modelPath = inputPath;
  int64_t floatWeightsSize = 0;
  if (!quantize.empty()) {
    QuantizeRequest request;
    request.modelPath = inputPath;
    request.calibrateDir = calibrateDir;
    request.kilnc = llvm::sys::fs::getMainExecutable(argv[0], (void *)&fail);
    request.options.keepFloat.assign(keepFloat.begin(), keepFloat.end());
    request.percentile = calibratePercentile;
    request.keepFloatAbove = keepFloatAbove;
    request.options.pins = &pins;
    request.options.pinsFromDir = inputShapesFrom;
    request.options.maxStringBytes = maxStringBytes;
    // x86 without VNNI sums pairs of byte products in 16 bits: 7-bit
    // weights keep those sums exact (ONNX Runtime's reduce_range).
    if (profileFor(**machine).int8Dot == "maddubs")
      request.options.weightMax = 64;
    for (const std::string &s : inputShapes)
      request.forwardedFlags.push_back("--input-shape=" + s);
    if (!inputShapesFrom.empty())
      request.forwardedFlags.push_back("--input-shapes-from=" +
                                       inputShapesFrom);
    request.forwardedFlags.push_back("--max-string-bytes=" +
                                     std::to_string(maxStringBytes));
    request.report = quantizeReport;
    llvm::SmallString<128> work;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("kiln-quantize", work))
      fail("cannot create a temporary directory: " + ec.message());
    workDirToRemove = work.str().str();
    std::atexit([] { llvm::sys::fs::remove_directories(workDirToRemove); });
    request.workDir = workDirToRemove;
    auto quantized = quantizeModel(request);
    if (!quantized)
      fail(llvm::toString(quantized.takeError()));
    modelPath = quantized->path;
    floatWeightsSize = quantized->floatWeightBytes;
    if (!saveQuantized.empty())
      if (std::error_code ec =
              llvm::sys::fs::copy_file(modelPath, saveQuantized))
        fail("cannot write '" + saveQuantized + "': " + ec.message());
  }
  auto imported = importOnnxModel(modelPath, context, pins, inputShapesFrom,
                                  maxStringBytes);
  if (!imported)
    fail(llvm::toString(imported.takeError()));
  OwningOpRef<ModuleOp> module = std::move(*imported);
  auto func = *module->getOps<func::FuncOp>().begin();
  func.setSymName(name + "_graph");
  func->setAttr(kEntryAttr, UnitAttr::get(&context));
  ModelSignature sig = signatureOf(func, name);

  Phase upTo = emit == Emit::MLIR ? *stopAt : Phase::LLVM;
  PassManager pm(&context);
  if (printIRAfterAll || !printIRAfter.empty()) {
    context.disableMultithreading();
    std::vector<std::string> names(printIRAfter.begin(), printIRAfter.end());
    pm.enableIRPrinting(
        [](Pass *, Operation *) { return false; },
        [names](Pass *pass, Operation *) {
          return names.empty() ||
                 llvm::is_contained(names, pass->getArgument().str());
        },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
        /*printAfterOnlyOnFailure=*/false, llvm::errs(),
        OpPrintingFlags().elideLargeElementsAttrs(16));
  }
  if (!dumpIRDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpIRDir))
      fail("cannot create '" + dumpIRDir + "': " + ec.message());
    context.disableMultithreading();
    pm.enableIRPrinting(std::make_unique<DumpIRConfig>(dumpIRDir));
  }
  buildPipeline(pm, upTo, profileFor(**machine));
  if (failed(pm.run(*module))) {
    if (!reported)
      fail(inputPath + ": compilation failed");
    return 1;
  }

  if (emit == Emit::MLIR) {
    std::string error;
    auto out = openOutputFile(outputPath, &error);
    if (!out)
      fail(error);
    module->print(out->os(), OpPrintingFlags().elideLargeElementsAttrs(1024));
    out->keep();
    return 0;
  }

  // Phase 4 leaves an llvm.func; the plan's attributes ride on it.
  Operation *graph = module->lookupSymbol(name + "_graph");
  if (!graph)
    fail(inputPath + ": internal error: the graph function is gone");
  if (auto a = graph->getAttrOfType<IntegerAttr>(kWorkspaceSizeAttr))
    sig.workspaceSize = a.getInt();
  if (auto a = graph->getAttrOfType<IntegerAttr>(kWorkspaceAlignAttr))
    sig.workspaceAlign = a.getInt();
  if (auto a = graph->getAttrOfType<IntegerAttr>(kWorkspaceLowerBoundAttr))
    sig.workspaceLowerBound = a.getInt();
  addStringSlots(sig);
  if (workspaceLimit && sig.workspaceSize > *workspaceLimit)
    fail(inputPath + ": the workspace arena needs " +
         llvm::Twine(sig.workspaceSize) + " bytes (at least " +
         llvm::Twine(sig.workspaceLowerBound) +
         " are alive at once), more than --max-workspace=" +
         llvm::Twine(*workspaceLimit));
  sig.target = triple.str() + " (" + (*machine)->getTargetCPU().str() + ")";

  // Which ONNX nodes each kernel function computes, for kiln-run --profile
  // (shared libraries only): "SYMBOL\tNODES" lines, in the order the
  // functions were made; a node name's tabs, line breaks and NULs (ONNX
  // allows any) become spaces.
  std::string kernelNodes;
  if (emit == Emit::So)
    module->walk([&](Operation *op) {
      auto nodes = op->getAttrOfType<StringAttr>(kNodesAttr);
      auto symbol =
          op->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
      if (!nodes || !symbol)
        return;
      std::string text = nodes.getValue().str();
      std::replace_if(
          text.begin(), text.end(),
          [](char c) { return c == '\t' || c == '\n' || c == '\r' || !c; },
          ' ');
      kernelNodes += (symbol.getValue() + "\t" + text + "\n").str();
    });

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, name);
  if (!llvmModule)
    fail(inputPath + ": translation to LLVM IR failed");
  llvmModule->setDataLayout((*machine)->createDataLayout());
  sig.weightsSize = constantDataSize(*llvmModule);
  sig.floatWeightsSize = floatWeightsSize;
  if (llvm::Error err =
          addEntryPoints(*llvmModule, sig, name + "_graph", emit == Emit::So))
    fail(inputPath + ": " + llvm::toString(std::move(err)));
  if (emit == Emit::So)
    addKernelNodes(*llvmModule, kernelNodes);
  optimizeModule(*llvmModule, **machine, optLevel);

  uint64_t codeSize = 0;
  if (emit == Emit::Header) {
    auto measured = measureCode(*llvmModule, **machine);
    if (!measured)
      fail(inputPath + ": " + llvm::toString(measured.takeError()));
    codeSize = *measured;
  } else {
    ArtifactKind kind = emit == Emit::Obj      ? ArtifactKind::Object
                        : emit == Emit::Asm    ? ArtifactKind::Assembly
                        : emit == Emit::LLVMIR ? ArtifactKind::LLVMIR
                        : emit == Emit::Lib    ? ArtifactKind::Archive
                                               : ArtifactKind::SharedLibrary;
    if (llvm::Error err = writeArtifact(*llvmModule, **machine, kind,
                                        outputPath, tools, &codeSize))
      fail(llvm::toString(std::move(err)));
  }

  sig.codeSize = codeSize;

  // The header: the output itself for --emit=header, else beside the artifact.
  if (emit == Emit::Header || emit == Emit::Obj || emit == Emit::Lib ||
      emit == Emit::So) {
    llvm::SmallString<256> headerPath(outputPath);
    if (emit != Emit::Header) {
      llvm::sys::path::remove_filename(headerPath);
      llvm::sys::path::append(headerPath, name + ".h");
    }
    std::string error;
    auto out = openOutputFile(headerPath, &error);
    if (!out) {
      if (emit != Emit::Header)
        llvm::sys::fs::remove(outputPath);
      fail(error);
    }
    out->os() << emitHeader(sig);
    out->keep();
  }

  if (printMemoryPlan)
    printPlan(graph, sig);
  return 0;
}
