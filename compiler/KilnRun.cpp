//===- KilnRun.cpp - Load, run and check a compiled Kiln model ------------===//
//
// This file implements kiln-run, the generic loader for a model that kilnc
// compiled into a shared library:
//
//   kiln-run LIB.so --data DIR [--write OUTDIR] [--bench N] [--threads N]
//                   [--profile N] [--rtol R] [--atol A]
//
// It dlopens LIB.so, asks `kiln_model()` for the model's descriptor, reads
// `DIR/input_<i>.pb` (ONNX TensorProto, the layout of ONNX's backend test
// data) for every input, checks each against the descriptor, runs the model
// once with a workspace of the size the descriptor asks for, and compares
// every output for which `DIR/output_<i>.pb` exists. `--write` saves the
// outputs as TensorProtos, `--bench` times repeated runs, and `--profile`
// times each kernel that the runtime's threads run (kiln_set_profiler),
// naming it from the library's symbol table.
//
// The tool depends on the C++ standard library, libonnx's protobuf classes
// and the Kiln runtime only, so that it stays small. Every problem with a
// file, a library or a flag ends in one `kiln-run: error: ...` line and exit
// status 1; a comparison that fails prints FAIL and exits with 1 as well.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.h"

#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

/// The parsed command line.
struct Options {
  std::string libraryPath;
  std::string dataDir;
  std::string writeDir;
  int64_t benchRuns = 0;
  int64_t profileRuns = 0;
  int64_t threads = 1;
  double rtol = 1e-3;
  double atol = 1e-5;
  bool help = false;
};

/// The signature of the entry point every Kiln shared library exports.
using KilnModelFn = const kiln_model_info *(*)();

/// The compile-time description of one model input or output.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  int32_t dtype = KILN_DTYPE_UNDEFINED;
  size_t numElements = 0;
  size_t byteSize = 0;
  int64_t stringBytes = 0; ///< strings: the most bytes one may hold
};

/// One ONNX input or output: `count` tensors from `first`.
struct ValueSpec {
  std::string name;
  int32_t kind = KILN_VALUE_TENSOR;
  /// 1, 0 (an optional compiled empty) or 2 (decided at run time: tensor
  /// `first` is a bool scalar that says it, the value follows).
  int32_t present = 1;
  unsigned first = 0, count = 1;
};

/// Heap memory with a chosen alignment, freed on destruction: the runtime's
/// kiln_alloc, which on Linux puts a buffer's whole 2 MB pages in huge pages;
/// one of megabytes is aligned to KILN_HUGE_PAGE_BYTES so that all of it is.
class AlignedBuffer {
public:
  /// Allocates at least `size` bytes (and at least one) aligned to `align`,
  /// a power of two. Returns false when out of memory.
  bool allocate(size_t size, size_t align) {
    align = std::max(align, size >= KILN_HUGE_PAGE_BYTES ? KILN_HUGE_PAGE_BYTES
                                                         : sizeof(void *));
    size_t rounded = std::max<size_t>(size, 1);
    if (rounded > std::numeric_limits<size_t>::max() - align)
      return false;
    rounded = (rounded + align - 1) / align * align;
    void *ptr = kiln_alloc(rounded, align);
    if (!ptr)
      return false;
    storage.reset(ptr);
    byteSize = size;
    return true;
  }

  void *data() const { return storage.get(); }
  size_t size() const { return byteSize; }

private:
  struct Deleter {
    void operator()(void *ptr) const { kiln_free(ptr); }
  };
  std::unique_ptr<void, Deleter> storage;
  size_t byteSize = 0;
};

} // namespace

static const char *const usageText =
    "usage: kiln-run LIB.so --data DIR [--write OUTDIR] [--bench N] "
    "[--threads N]\n"
    "                [--profile N] [--rtol R] [--atol A]\n"
    "\n"
    "Runs a model compiled by kilnc into a shared library on the ONNX\n"
    "TensorProtos DIR/input_<i>.pb and compares its outputs with\n"
    "DIR/output_<i>.pb where present.\n"
    "\n"
    "  --data DIR       directory of input_<i>.pb and output_<i>.pb\n"
    "  --write OUTDIR   write the outputs as OUTDIR/output_<i>.pb\n"
    "  --bench N        time N runs after a warm-up; print median and p90\n"
    "  --threads N      number of threads the model runs on (default 1)\n"
    "  --profile N      time each parallel kernel over N runs after a\n"
    "                   warm-up; print them (mean and median), longest\n"
    "                   first\n"
    "  --rtol R         relative tolerance for floats (default 1e-3)\n"
    "  --atol A         absolute tolerance for floats (default 1e-5)\n"
    "\n"
    "A float element passes when |out - ref| <= atol + rtol * |ref|;\n"
    "integers and bools must be equal. Exit status 0 on PASS, 1 otherwise.\n";

/// Prints `kiln-run: error: message` and returns exit status 1.
static int reportError(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "kiln-run: error: %s\n", message.c_str());
  return 1;
}

/// Quotes `text` for a diagnostic.
static std::string quote(const std::string &text) { return "'" + text + "'"; }

static bool parseInteger(const std::string &text, int64_t &value) {
  if (text.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  value = parsed;
  return true;
}

static bool parseDouble(const std::string &text, double &value) {
  if (text.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  double parsed = std::strtod(text.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(parsed))
    return false;
  value = parsed;
  return true;
}

/// Parses argv into `options`; on failure sets `error`.
static bool parseCommandLine(int argc, char **argv, Options &options,
                             std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      return true;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (!options.libraryPath.empty()) {
        error = "unexpected argument " + quote(arg) +
                " (only one model library may be given)";
        return false;
      }
      options.libraryPath = arg;
      continue;
    }

    // Every option takes a value: `--flag VALUE` or `--flag=VALUE`.
    std::string flag = arg;
    std::string value;
    bool hasValue = false;
    size_t equals = arg.find('=');
    if (arg.rfind("--", 0) == 0 && equals != std::string::npos) {
      flag = arg.substr(0, equals);
      value = arg.substr(equals + 1);
      hasValue = true;
    }
    static const char *const knownFlags[] = {
        "--data",    "--write", "--bench", "--threads",
        "--profile", "--rtol",  "--atol"};
    if (std::find(std::begin(knownFlags), std::end(knownFlags), flag) ==
        std::end(knownFlags)) {
      error = "unknown option " + quote(flag) + " (see --help)";
      return false;
    }
    if (!hasValue) {
      if (i + 1 >= argc) {
        error = "option " + quote(flag) + " needs a value";
        return false;
      }
      value = argv[++i];
    }

    if (flag == "--data" || flag == "--write") {
      if (value.empty()) {
        error = "option " + flag + " needs a directory";
        return false;
      }
      (flag == "--data" ? options.dataDir : options.writeDir) = value;
    } else if (flag == "--bench" || flag == "--threads" ||
               flag == "--profile") {
      int64_t number = 0;
      if (!parseInteger(value, number) || number < 1) {
        error =
            "option " + flag + " needs a positive integer, not " + quote(value);
        return false;
      }
      (flag == "--bench"     ? options.benchRuns
       : flag == "--threads" ? options.threads
                             : options.profileRuns) = number;
    } else {
      double number = 0;
      if (!parseDouble(value, number) || number < 0) {
        error = "option " + flag + " needs a non-negative number, not " +
                quote(value);
        return false;
      }
      (flag == "--rtol" ? options.rtol : options.atol) = number;
    }
  }

  if (options.libraryPath.empty()) {
    error = "no model library given (usage: kiln-run LIB.so --data DIR)";
    return false;
  }
  if (options.dataDir.empty()) {
    error = "no data directory given: --data DIR is required";
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Shapes and element types
//===----------------------------------------------------------------------===//

static std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

static std::string dtypeName(int32_t dtype) {
  const char *name = kiln_dtype_name(dtype);
  if (std::strcmp(name, "unknown") == 0)
    return "unknown(" + std::to_string(dtype) + ")";
  return name;
}

/// Multiplies out `shape`; false on a negative dimension or when the tensor
/// would not fit in memory with `elementSize`-byte elements.
static bool countElements(const std::vector<int64_t> &shape, size_t elementSize,
                          size_t &count) {
  const uint64_t limit =
      std::numeric_limits<int64_t>::max() / std::max<size_t>(elementSize, 1);
  uint64_t product = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return false;
    if (dim != 0 && product > limit / static_cast<uint64_t>(dim))
      return false;
    product *= static_cast<uint64_t>(dim);
  }
  if (product > std::numeric_limits<size_t>::max())
    return false;
  count = static_cast<size_t>(product);
  return true;
}

static bool isFloatType(int32_t dtype) {
  return dtype == KILN_DTYPE_FLOAT || dtype == KILN_DTYPE_DOUBLE ||
         dtype == KILN_DTYPE_FLOAT16 || dtype == KILN_DTYPE_BFLOAT16;
}

static float halfToFloat(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1f;
  int mantissa = bits & 0x3ff;
  float value;
  if (exponent == 0)
    value = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    value = mantissa ? std::numeric_limits<float>::quiet_NaN()
                     : std::numeric_limits<float>::infinity();
  else
    value = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  return (bits & 0x8000) ? -value : value;
}

static float bfloat16ToFloat(uint16_t bits) {
  uint32_t word = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

template <typename T> static T loadElement(const void *data, size_t index) {
  T value;
  std::memcpy(&value, static_cast<const char *>(data) + index * sizeof(T),
              sizeof(T));
  return value;
}

/// Element `index` of a float tensor, widened to double.
static double loadFloat(const void *data, int32_t dtype, size_t index) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT:
    return loadElement<float>(data, index);
  case KILN_DTYPE_DOUBLE:
    return loadElement<double>(data, index);
  case KILN_DTYPE_FLOAT16:
    return halfToFloat(loadElement<uint16_t>(data, index));
  case KILN_DTYPE_BFLOAT16:
    return bfloat16ToFloat(loadElement<uint16_t>(data, index));
  default:
    return 0;
  }
}

/// Element `index` of an integer or bool tensor; unsigned 64-bit values are
/// returned with their bits in an int64_t.
static int64_t loadInteger(const void *data, int32_t dtype, size_t index) {
  switch (dtype) {
  case KILN_DTYPE_BOOL:
    return loadElement<uint8_t>(data, index) != 0;
  case KILN_DTYPE_INT8:
    return loadElement<int8_t>(data, index);
  case KILN_DTYPE_UINT8:
    return loadElement<uint8_t>(data, index);
  case KILN_DTYPE_INT16:
    return loadElement<int16_t>(data, index);
  case KILN_DTYPE_UINT16:
    return loadElement<uint16_t>(data, index);
  case KILN_DTYPE_INT32:
    return loadElement<int32_t>(data, index);
  case KILN_DTYPE_UINT32:
    return loadElement<uint32_t>(data, index);
  case KILN_DTYPE_INT64:
    return loadElement<int64_t>(data, index);
  case KILN_DTYPE_UINT64:
    return static_cast<int64_t>(loadElement<uint64_t>(data, index));
  default:
    return 0;
  }
}

static double integerAsDouble(int64_t value, int32_t dtype) {
  if (dtype == KILN_DTYPE_UINT64)
    return static_cast<double>(static_cast<uint64_t>(value));
  return static_cast<double>(value);
}

static std::string formatElement(const void *data, int32_t dtype,
                                 size_t index) {
  char text[64];
  if (isFloatType(dtype)) {
    std::snprintf(text, sizeof(text), "%.9g", loadFloat(data, dtype, index));
  } else {
    int64_t value = loadInteger(data, dtype, index);
    if (dtype == KILN_DTYPE_UINT64)
      std::snprintf(text, sizeof(text), "%" PRIu64,
                    static_cast<uint64_t>(value));
    else
      std::snprintf(text, sizeof(text), "%" PRId64, value);
  }
  return text;
}

/// The multi-dimensional index of flat element `index` in `shape`.
static std::string formatIndex(const std::vector<int64_t> &shape,
                               size_t index) {
  std::vector<int64_t> coords(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    coords[d] = static_cast<int64_t>(index % static_cast<size_t>(shape[d]));
    index /= static_cast<size_t>(shape[d]);
  }
  return formatShape(coords);
}

//===----------------------------------------------------------------------===//
// The model library
//===----------------------------------------------------------------------===//

/// Checks one entry of the model's descriptor and converts it to a spec.
static bool readTensorInfo(const kiln_tensor_info &info, const char *kind,
                           unsigned index, TensorSpec &spec,
                           std::string &error) {
  std::string what = std::string(kind) + " " + std::to_string(index);
  spec.name = info.name ? info.name : "";
  spec.dtype = info.dtype;
  if (info.rank < 0 || (info.rank > 0 && !info.shape)) {
    error = "malformed model descriptor: " + what + " has rank " +
            std::to_string(info.rank) + " and no shape";
    return false;
  }
  spec.shape.assign(info.shape, info.shape + info.rank);
  size_t elementSize = kiln_dtype_size(info.dtype);
  if (elementSize == 0) {
    error = what + " " + quote(spec.name) + " has element type " +
            dtypeName(info.dtype) + ", which kiln-run does not support";
    return false;
  }
  if (!countElements(spec.shape, elementSize, spec.numElements) ||
      static_cast<int64_t>(spec.numElements) != info.num_elements) {
    error = "malformed model descriptor: " + what + " " + quote(spec.name) +
            " has shape " + formatShape(spec.shape) + " but " +
            std::to_string(info.num_elements) + " elements";
    return false;
  }
  spec.byteSize = spec.numElements * elementSize;
  spec.stringBytes = info.string_bytes;
  return true;
}

/// The input (or output) values of `info`, checked to span its tensors in
/// order.
static bool readValueTable(const kiln_model_info &info, bool inputs,
                           std::vector<ValueSpec> &values,
                           std::string &error) {
  const char *what = inputs ? "input" : "output";
  unsigned tensors = inputs ? info.num_inputs : info.num_outputs;
  unsigned n = inputs ? info.num_input_values : info.num_output_values;
  const kiln_value_info *table =
      inputs ? info.input_values : info.output_values;
  if (n && !table) {
    error = std::string("malformed model descriptor: no ") + what +
            " value table";
    return false;
  }
  unsigned next = 0;
  values.clear();
  for (unsigned i = 0; i < n; ++i) {
    const kiln_value_info &v = table[i];
    if (v.first != next || v.count > tensors - next ||
        (v.kind == KILN_VALUE_TENSOR && v.count != 1) ||
        (v.present == 0 && v.count != 0) ||
        (v.present == 2 &&
         (!(v.kind & KILN_VALUE_OPTIONAL) || v.count == 0 || inputs)) ||
        v.present < 0 || v.present > 2) {
      error = std::string("malformed model descriptor: ") + what +
              " value " + std::to_string(i) + " spans tensors " +
              std::to_string(v.first) + " to " +
              std::to_string(v.first + v.count) + " of " +
              std::to_string(tensors);
      return false;
    }
    next += v.count;
    values.push_back({v.name ? v.name : "", v.kind, v.present, v.first,
                      v.count});
  }
  if (next != tensors) {
    error = std::string("malformed model descriptor: the ") + what +
            " values span " + std::to_string(next) + " of " +
            std::to_string(tensors) + " tensors";
    return false;
  }
  return true;
}

/// The library's kiln_set_profiler, when it has one (loadModel).
static void (*setProfiler)(kiln_profile_fn, void *);
/// The library's kiln_profile_busy_ns, when it has one (older libraries do
/// not).
static uint64_t (*profileBusyNs)();

/// Loads the library at `path` and returns its descriptor, checked.
static const kiln_model_info *loadModel(const std::string &path,
                                        int64_t threads, std::string &error) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    error = "cannot open model library " + quote(path) +
            ": no such file or directory";
    return nullptr;
  }
  if (fs::is_directory(status)) {
    error = "cannot load model library " + quote(path) + ": is a directory";
    return nullptr;
  }

  // Without a slash dlopen would search the library path, not the file named.
  std::string loadPath =
      path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(loadPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    error = "cannot load model library " + quote(path) + ": " +
            (reason ? reason : "unknown dlopen error");
    return nullptr;
  }
  dlerror();
  void *symbol = dlsym(handle, "kiln_model");
  if (!symbol) {
    error = quote(path) +
            " is not a Kiln model library: it does not export kiln_model()";
    return nullptr;
  }
  // The library's own copy of the runtime holds the thread pool.
  if (void *setThreads = dlsym(handle, "kiln_set_num_threads")) {
    int granted = reinterpret_cast<int (*)(int)>(setThreads)(
        static_cast<int>(std::min<int64_t>(threads, KILN_MAX_THREADS)));
    if (granted < threads)
      std::fprintf(stderr, "kiln-run: note: running on %d threads\n",
                   granted);
  } else if (threads > 1) {
    std::fprintf(stderr, "kiln-run: note: %s has no thread pool (built by an "
                         "older kilnc): running on one thread\n",
                 quote(path).c_str());
  }
  setProfiler = reinterpret_cast<void (*)(kiln_profile_fn, void *)>(
      dlsym(handle, "kiln_set_profiler"));
  profileBusyNs = reinterpret_cast<uint64_t (*)()>(
      dlsym(handle, "kiln_profile_busy_ns"));
  dlerror();
  auto entry = reinterpret_cast<KilnModelFn>(symbol);
  const kiln_model_info *info = entry();
  if (!info) {
    error = "kiln_model() in " + quote(path) + " returned NULL";
    return nullptr;
  }
  if (info->abi_version != KILN_ABI_VERSION) {
    error = quote(path) + " was built for Kiln ABI version " +
            std::to_string(info->abi_version) + ", kiln-run supports " +
            std::to_string(KILN_ABI_VERSION);
    return nullptr;
  }
  if (info->struct_size < sizeof(kiln_model_info)) {
    error = "malformed model descriptor in " + quote(path) +
            ": struct_size is " + std::to_string(info->struct_size) +
            ", expected at least " + std::to_string(sizeof(kiln_model_info));
    return nullptr;
  }
  if (!info->run || (info->num_inputs && !info->inputs) ||
      (info->num_outputs && !info->outputs)) {
    error = "malformed model descriptor in " + quote(path) +
            ": missing run function or tensor table";
    return nullptr;
  }
  uint64_t align = info->workspace_align;
  if (align != 0 && (align & (align - 1)) != 0) {
    error = "malformed model descriptor in " + quote(path) +
            ": workspace_align " + std::to_string(align) +
            " is not a power of two";
    return nullptr;
  }
  return info;
}

//===----------------------------------------------------------------------===//
// TensorProto files
//===----------------------------------------------------------------------===//

/// The path of `DIR/<prefix>_<index>.pb`.
static std::string dataFile(const std::string &dir, const char *prefix,
                            unsigned index) {
  return (fs::path(dir) /
          (std::string(prefix) + "_" + std::to_string(index) + ".pb"))
      .string();
}

static bool readBytes(const std::string &path, std::string &bytes,
                      std::string &error) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    error = "cannot open " + quote(path) + ": " + std::strerror(errno);
    return false;
  }
  bytes.assign((std::istreambuf_iterator<char>(stream)),
               std::istreambuf_iterator<char>());
  if (stream.bad()) {
    error = "cannot read " + quote(path);
    return false;
  }
  return true;
}

/// Reads the file of one ONNX value: a TensorProto for a tensor, a
/// SequenceProto for a sequence, an OptionalProto for an optional (that may
/// hold nothing: `present` false). `tensors` gets its tensors in order.
static bool readValueFile(const std::string &path, const ValueSpec &value,
                          std::vector<onnx::TensorProto> &tensors,
                          bool &present, std::string &error) {
  std::string bytes;
  if (!readBytes(path, bytes, error))
    return false;
  tensors.clear();
  present = true;
  bool parsed;
  const char *what;
  auto sequence = [&](const onnx::SequenceProto &s) {
    tensors.assign(s.tensor_values().begin(), s.tensor_values().end());
    return s.sequence_values_size() == 0 && s.map_values_size() == 0 &&
           s.optional_values_size() == 0;
  };
  if (value.kind & KILN_VALUE_OPTIONAL) {
    what = "an ONNX OptionalProto";
    onnx::OptionalProto o;
    parsed = o.ParseFromString(bytes);
    if (parsed && o.has_tensor_value() &&
        !(value.kind & KILN_VALUE_SEQUENCE))
      tensors.push_back(o.tensor_value());
    else if (parsed && o.has_sequence_value() &&
             (value.kind & KILN_VALUE_SEQUENCE))
      parsed = sequence(o.sequence_value());
    else if (parsed && (o.has_tensor_value() || o.has_sequence_value() ||
                        o.has_map_value() || o.has_optional_value()))
      parsed = false;
    else
      present = false;
  } else if (value.kind & KILN_VALUE_SEQUENCE) {
    what = "an ONNX SequenceProto of tensors";
    onnx::SequenceProto s;
    parsed = s.ParseFromString(bytes) && sequence(s);
  } else {
    what = "an ONNX TensorProto";
    tensors.emplace_back();
    parsed = tensors.back().ParseFromString(bytes);
  }
  if (!parsed) {
    error = "cannot parse " + quote(path) + " as " + what;
    return false;
  }
  for (const onnx::TensorProto &t : tensors)
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      error = quote(path) + " keeps its data in an external file, which " +
              "kiln-run does not support";
      return false;
    }
  return true;
}

/// An output value as the run left it: one whose presence is decided at run
/// time (present 2) becomes present or empty by its flag tensor, spanning
/// the tensors after the flag.
static ValueSpec resolved(const ValueSpec &value,
                          const std::vector<AlignedBuffer> &buffers) {
  if (value.present != 2)
    return value;
  ValueSpec r = value;
  bool holds = *static_cast<const uint8_t *>(buffers[value.first].data()) != 0;
  r.present = holds;
  r.first = value.first + 1;
  r.count = holds ? value.count - 1 : 0;
  return r;
}

/// What a value's file holds, for messages: "an empty optional", "3 tensors".
static std::string describeHeld(bool present, size_t count) {
  if (!present)
    return "an empty optional";
  return count == 1 ? "1 tensor" : std::to_string(count) + " tensors";
}

/// Converts the typed repeated field `values` to `count` elements of `To`.
template <typename To, typename Field>
static bool copyField(const Field &values, size_t count, const char *fieldName,
                      void *dst, const std::string &path, std::string &error) {
  if (static_cast<size_t>(values.size()) != count) {
    error = quote(path) + " holds " + std::to_string(values.size()) +
            " values in " + fieldName + ", expected " + std::to_string(count);
    return false;
  }
  char *out = static_cast<char *>(dst);
  for (size_t i = 0; i < count; ++i) {
    To value = static_cast<To>(values.Get(static_cast<int>(i)));
    std::memcpy(out + i * sizeof(To), &value, sizeof(To));
  }
  return true;
}

/// Copies the elements of `tensor` (of `spec`'s dtype and shape, already
/// checked) into `dst`, from raw_data or from the typed field that ONNX uses
/// for the dtype.
/// True if data of `fileType` can feed a tensor of `modelType`. ONNX 1.12
/// writes bfloat16 test data as uint16 tensors holding the same bits.
static bool sameElementType(int32_t fileType, int32_t modelType) {
  return fileType == modelType ||
         (fileType == KILN_DTYPE_UINT16 && modelType == KILN_DTYPE_BFLOAT16);
}

static bool copyTensorData(const onnx::TensorProto &tensor,
                           const TensorSpec &spec, void *dst,
                           const std::string &path, std::string &error) {
  size_t count = spec.numElements;
  if (spec.dtype == KILN_DTYPE_STRING) {
    // The strings stay in `tensor`, which must outlive the run.
    if (static_cast<size_t>(tensor.string_data_size()) != count) {
      error = quote(path) + " holds " +
              std::to_string(tensor.string_data_size()) +
              " strings, expected " + std::to_string(count);
      return false;
    }
    auto *strings = static_cast<kiln_string *>(dst);
    for (size_t i = 0; i < count; ++i) {
      const std::string &text = tensor.string_data(static_cast<int>(i));
      size_t bytes = text.find('\0');
      bytes = bytes == std::string::npos ? text.size() : bytes;
      if (spec.stringBytes > 0 &&
          bytes > static_cast<size_t>(spec.stringBytes)) {
        error = quote(path) + " holds a string of " + std::to_string(bytes) +
                " bytes at " + formatIndex(spec.shape, i) +
                ", more than the " + std::to_string(spec.stringBytes) +
                " the model was compiled for (kilnc --max-string-bytes)";
        return false;
      }
      strings[i].data = text.data();
      strings[i].size = text.size();
    }
    return true;
  }
  if (tensor.has_raw_data()) {
    // raw_data is little-endian, as are all the hosts kiln-run targets.
    const std::string &raw = tensor.raw_data();
    if (raw.size() != spec.byteSize) {
      error = quote(path) + " holds " + std::to_string(raw.size()) +
              " bytes of raw_data, expected " + std::to_string(spec.byteSize) +
              " for " + formatShape(spec.shape) + " " + dtypeName(spec.dtype);
      return false;
    }
    if (!raw.empty())
      std::memcpy(dst, raw.data(), raw.size());
    return true;
  }

  switch (spec.dtype) {
  case KILN_DTYPE_FLOAT:
    return copyField<float>(tensor.float_data(), count, "float_data", dst, path,
                            error);
  case KILN_DTYPE_DOUBLE:
    return copyField<double>(tensor.double_data(), count, "double_data", dst,
                             path, error);
  case KILN_DTYPE_INT64:
    return copyField<int64_t>(tensor.int64_data(), count, "int64_data", dst,
                              path, error);
  case KILN_DTYPE_UINT32:
    return copyField<uint32_t>(tensor.uint64_data(), count, "uint64_data", dst,
                               path, error);
  case KILN_DTYPE_UINT64:
    return copyField<uint64_t>(tensor.uint64_data(), count, "uint64_data", dst,
                               path, error);
  case KILN_DTYPE_INT32:
    return copyField<int32_t>(tensor.int32_data(), count, "int32_data", dst,
                              path, error);
  case KILN_DTYPE_INT16:
    return copyField<int16_t>(tensor.int32_data(), count, "int32_data", dst,
                              path, error);
  case KILN_DTYPE_INT8:
    return copyField<int8_t>(tensor.int32_data(), count, "int32_data", dst,
                             path, error);
  case KILN_DTYPE_UINT16:
  case KILN_DTYPE_FLOAT16: // IEEE half bits in the low 16 bits
  case KILN_DTYPE_BFLOAT16:
    return copyField<uint16_t>(tensor.int32_data(), count, "int32_data", dst,
                               path, error);
  case KILN_DTYPE_UINT8:
    return copyField<uint8_t>(tensor.int32_data(), count, "int32_data", dst,
                              path, error);
  case KILN_DTYPE_BOOL: {
    if (!copyField<uint8_t>(tensor.int32_data(), count, "int32_data", dst, path,
                            error))
      return false;
    auto *bytes = static_cast<uint8_t *>(dst);
    for (size_t i = 0; i < count; ++i)
      bytes[i] = bytes[i] != 0;
    return true;
  }
  default:
    error = quote(path) + " has element type " + dtypeName(spec.dtype) +
            ", which kiln-run does not support";
    return false;
  }
}

static std::vector<int64_t> tensorShape(const onnx::TensorProto &tensor) {
  return std::vector<int64_t>(tensor.dims().begin(), tensor.dims().end());
}

/// Copies `tensor`, read from `path`, into `buffer`, checking dtype and shape.
static bool loadInput(const onnx::TensorProto &tensor, const std::string &path,
                      const std::string &what, const TensorSpec &spec,
                      AlignedBuffer &buffer, std::string &error) {
  std::vector<int64_t> shape = tensorShape(tensor);
  if (!sameElementType(tensor.data_type(), spec.dtype) || shape != spec.shape) {
    error = what + ": " + quote(path) + " holds " + formatShape(shape) + " " +
            dtypeName(tensor.data_type()) + ", the model expects " +
            formatShape(spec.shape) + " " + dtypeName(spec.dtype);
    return false;
  }
  if (!buffer.allocate(spec.byteSize, 64)) {
    error = what + ": out of memory for " + std::to_string(spec.byteSize) +
            " bytes";
    return false;
  }
  if (!copyTensorData(tensor, spec, buffer.data(), path, error)) {
    error = what + ": " + error;
    return false;
  }
  return true;
}

static void fillTensor(onnx::TensorProto &tensor, const TensorSpec &spec,
                       const AlignedBuffer &buffer) {
  tensor.set_name(spec.name);
  for (int64_t dim : spec.shape)
    tensor.add_dims(dim);
  tensor.set_data_type(spec.dtype);
  if (spec.dtype == KILN_DTYPE_STRING) {
    const auto *strings = static_cast<const kiln_string *>(buffer.data());
    for (size_t i = 0; i < spec.numElements; ++i)
      tensor.add_string_data(strings[i].data, strings[i].size);
    return;
  }
  tensor.set_raw_data(static_cast<const char *>(buffer.data()), spec.byteSize);
}

/// Writes one output value: a TensorProto, SequenceProto or OptionalProto.
static bool writeOutput(const std::string &path, const ValueSpec &value,
                        const std::vector<TensorSpec> &specs,
                        const std::vector<AlignedBuffer> &buffers,
                        std::string &error) {
  std::string bytes;
  if (value.kind == KILN_VALUE_TENSOR) {
    onnx::TensorProto tensor;
    fillTensor(tensor, specs[value.first], buffers[value.first]);
    bytes = tensor.SerializeAsString();
  } else {
    onnx::SequenceProto sequence;
    sequence.set_name(value.name);
    sequence.set_elem_type(onnx::SequenceProto::TENSOR);
    for (unsigned k = 0; k < value.count; ++k)
      fillTensor(*sequence.add_tensor_values(), specs[value.first + k],
                 buffers[value.first + k]);
    if (value.kind & KILN_VALUE_OPTIONAL) {
      onnx::OptionalProto optional;
      optional.set_name(value.name);
      if (!value.present) {
        optional.set_elem_type(onnx::OptionalProto::UNDEFINED);
      } else if (value.kind & KILN_VALUE_SEQUENCE) {
        optional.set_elem_type(onnx::OptionalProto::SEQUENCE);
        *optional.mutable_sequence_value() = sequence;
      } else {
        optional.set_elem_type(onnx::OptionalProto::TENSOR);
        *optional.mutable_tensor_value() = sequence.tensor_values(0);
      }
      bytes = optional.SerializeAsString();
    } else {
      bytes = sequence.SerializeAsString();
    }
  }
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream || !stream.write(bytes.data(), bytes.size()) || !stream.flush()) {
    error = "cannot write " + quote(path);
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

namespace {
/// The outcome of comparing one output with its reference.
struct Comparison {
  double maxAbsError = 0;
  double maxRelError = 0;
  size_t mismatches = 0;
  size_t firstMismatch = 0;
};
} // namespace

/// Compares `numElements` elements of `got` with `expected`, both of `dtype`.
/// Floats pass when |got - expected| <= atol + rtol * |expected| (NaN equals
/// NaN); integers and bools must be equal. The relative error is taken over
/// the elements whose reference is not zero.
static Comparison compareTensors(const void *got, const void *expected,
                                 int32_t dtype, size_t numElements, double rtol,
                                 double atol) {
  Comparison result;
  const double infinity = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < numElements; ++i) {
    double b, absError;
    bool equal;
    if (isFloatType(dtype)) {
      double a = loadFloat(got, dtype, i);
      b = loadFloat(expected, dtype, i);
      if ((std::isnan(a) && std::isnan(b)) || a == b) {
        absError = 0;
        equal = true;
      } else {
        absError = std::fabs(a - b);
        if (std::isnan(absError))
          absError = infinity;
        equal = absError <= atol + rtol * std::fabs(b);
      }
    } else {
      int64_t x = loadInteger(got, dtype, i);
      int64_t y = loadInteger(expected, dtype, i);
      b = integerAsDouble(y, dtype);
      equal = x == y;
      // The exact distance, computed modulo 2^64 where it always fits.
      bool greater = dtype == KILN_DTYPE_UINT64
                         ? static_cast<uint64_t>(x) > static_cast<uint64_t>(y)
                         : x > y;
      uint64_t distance =
          greater ? static_cast<uint64_t>(x) - static_cast<uint64_t>(y)
                  : static_cast<uint64_t>(y) - static_cast<uint64_t>(x);
      absError = static_cast<double>(distance);
    }
    result.maxAbsError = std::max(result.maxAbsError, absError);
    if (b != 0 && absError != 0) {
      double relError = std::isfinite(absError) && std::isfinite(b)
                            ? absError / std::fabs(b)
                            : infinity;
      result.maxRelError = std::max(result.maxRelError, relError);
    }
    if (!equal && result.mismatches++ == 0)
      result.firstMismatch = i;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// Runs the model once; false with `error` set on a non-zero status.
static bool runModel(const kiln_model_info &info,
                     const std::vector<void *> &inputs,
                     const std::vector<void *> &outputs, void *workspace,
                     std::string &error) {
  int status = info.run(inputs.data(), outputs.data(), workspace);
  if (status != KILN_OK) {
    error = "the model's run function returned " + std::to_string(status) +
            " (" + kiln_status_string(status) + ")";
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// --profile: each parallel kernel's time, from the runtime's profiler hook
//===----------------------------------------------------------------------===//

namespace {

/// What --profile gathers of one kernel (a function that kiln_parallel_rows
/// ran) over the runs.
struct KernelTimes {
  int64_t calls = 0;
  uint64_t ns = 0;       // inside its calls
  uint64_t beforeNs = 0; // on the model's thread alone since the call before
  uint64_t busyNs = 0;   // the threads' time in its body, summed over them
  uint64_t threadNs = 0; // its calls' times the threads that could run them
  int64_t rows = 0, callerRows = 0;
  uint64_t runNs = 0;           // inside its calls in the run going on
  std::vector<uint64_t> perRun; // inside its calls in each run before
};

struct Profile {
  std::map<void *, KernelTimes> kernels;
  uint64_t lastEnd = 0; // the call before's end, or the run's start
  uint64_t afterNs = 0; // after each run's last call
  int64_t threads = 1;  // the pool's
};

uint64_t monotonicNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u +
         static_cast<uint64_t>(t.tv_nsec);
}

void onLoop(void *user, kiln_rows_fn fn, int64_t n, uint64_t beginNs,
            uint64_t endNs, int64_t callerRows) {
  auto &profile = *static_cast<Profile *>(user);
  KernelTimes &k = profile.kernels[reinterpret_cast<void *>(fn)];
  ++k.calls;
  k.ns += endNs - beginNs;
  k.runNs += endNs - beginNs;
  k.beforeNs += beginNs > profile.lastEnd ? beginNs - profile.lastEnd : 0;
  k.rows += n;
  k.callerRows += callerRows;
  if (profileBusyNs)
    k.busyNs += profileBusyNs();
  // A loop of fewer rows than threads runs on as many threads (one row
  // units, as the runtime cuts a loop under 64K rows).
  k.threadNs +=
      (endNs - beginNs) *
      static_cast<uint64_t>(std::clamp<int64_t>(n, 1, profile.threads));
  profile.lastEnd = endNs;
}

/// Ends run `run` (from 0) of the profile: each kernel's time in it joins
/// its times in the runs before (none for those that it did not call).
void endRun(Profile &profile, int64_t run) {
  for (auto &[fn, k] : profile.kernels) {
    k.perRun.resize(static_cast<size_t>(run), 0);
    k.perRun.push_back(k.runNs);
    k.runNs = 0;
  }
}

/// The median of `values` (the mean of the middle two for an even count).
double median(std::vector<uint64_t> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? static_cast<double>(values[n / 2])
               : (static_cast<double>(values[n / 2 - 1]) +
                  static_cast<double>(values[n / 2])) /
                     2;
}

/// An ELF64 file's section headers, to read its sections by; none when the
/// file cannot be read as one.
class ElfFile {
public:
  explicit ElfFile(const std::string &path) : in(path, std::ios::binary) {
    Elf64_Ehdr header;
    if (!readAt(0, &header, sizeof header) ||
        std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 ||
        header.e_shentsize != sizeof(Elf64_Shdr))
      return;
    sections.resize(header.e_shnum);
    if (sections.empty() || !readAt(header.e_shoff, sections.data(),
                                    sections.size() * sizeof(Elf64_Shdr)))
      sections.clear();
    if (header.e_shstrndx < sections.size())
      names = contents(sections[header.e_shstrndx]);
  }

  std::vector<Elf64_Shdr> sections;

  /// A section's bytes; empty when they cannot be read.
  std::string contents(const Elf64_Shdr &section) {
    std::string bytes(section.sh_size, '\0');
    if (!readAt(section.sh_offset, bytes.data(), bytes.size()))
      bytes.clear();
    return bytes;
  }

  /// The bytes of the section called `name`; empty when there is none.
  std::string contents(const char *name) {
    for (const Elf64_Shdr &section : sections)
      if (section.sh_name < names.size() &&
          std::strcmp(names.c_str() + section.sh_name, name) == 0)
        return contents(section);
    return {};
  }

  bool readAt(uint64_t offset, void *to, size_t bytes) {
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    return static_cast<bool>(
        in.read(static_cast<char *>(to), static_cast<std::streamsize>(bytes)));
  }

private:
  std::ifstream in;
  std::string names; // the section names' string table
};

/// The functions (local ones too) of `elf` by address.
std::map<uint64_t, std::string> functionSymbols(ElfFile &elf) {
  std::map<uint64_t, std::string> symbols;
  for (const Elf64_Shdr &table : elf.sections) {
    if (table.sh_type != SHT_SYMTAB || table.sh_link >= elf.sections.size())
      continue;
    std::vector<Elf64_Sym> entries(table.sh_size / sizeof(Elf64_Sym));
    std::string names = elf.contents(elf.sections[table.sh_link]);
    if (!elf.readAt(table.sh_offset, entries.data(),
                    entries.size() * sizeof(Elf64_Sym)))
      return symbols;
    for (const Elf64_Sym &sym : entries)
      if (ELF64_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_value != 0 &&
          sym.st_name < names.size())
        symbols[sym.st_value] = names.c_str() + sym.st_name;
  }
  return symbols;
}

/// The ONNX nodes each kernel function of `elf` computes, by its name: the
/// "NAME\tNODES" lines kilnc writes into a shared library's .kiln_kernels
/// section (none from an older kilnc).
std::map<std::string, std::string> kernelNodes(ElfFile &elf) {
  std::map<std::string, std::string> nodes;
  std::istringstream lines(elf.contents(".kiln_kernels"));
  std::string line;
  while (std::getline(lines, line)) {
    size_t tab = line.find('\t');
    if (tab != std::string::npos)
      nodes[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return nodes;
}

/// The kernel at `fn` by name, or by its offset in its library.
std::string kernelName(void *fn,
                       const std::map<uint64_t, std::string> &symbols) {
  Dl_info where;
  if (!dladdr(fn, &where) || !where.dli_fbase)
    return "?";
  uint64_t offset = static_cast<uint64_t>(static_cast<char *>(fn) -
                                          static_cast<char *>(where.dli_fbase));
  auto it = symbols.find(offset);
  if (it != symbols.end())
    return it->second;
  char text[32];
  std::snprintf(text, sizeof text, "0x%" PRIx64, offset);
  return text;
}

/// Prints what --profile gathered over `runs` runs that took `runNs` each.
void printProfile(const Profile &profile, const std::vector<uint64_t> &runNs,
                  const std::string &libraryPath) {
  int64_t threads = profile.threads;
  int64_t runs = static_cast<int64_t>(runNs.size());
  uint64_t totalNs = 0;
  for (uint64_t ns : runNs)
    totalNs += ns;
  ElfFile elf(libraryPath);
  std::map<uint64_t, std::string> symbols = functionSymbols(elf);
  std::map<std::string, std::string> nodes = kernelNodes(elf);
  auto ms = [&](uint64_t ns) {
    return static_cast<double>(ns) / 1e6 / static_cast<double>(runs);
  };
  struct Row {
    std::string name;
    const KernelTimes *times;
  };
  std::vector<Row> rows;
  uint64_t inKernels = 0, between = profile.afterNs, busy = 0, threadNs = 0;
  int64_t calls = 0;
  for (const auto &[fn, times] : profile.kernels) {
    rows.push_back({kernelName(fn, symbols), &times});
    inKernels += times.ns;
    between += times.beforeNs;
    busy += times.busyNs;
    threadNs += times.threadNs;
    calls += times.calls;
  }
  // The threads' time in a kernel's bodies over all of theirs in its calls
  // (those of them that a call could use): the rest went to claiming
  // pieces, waking and waiting for each other.
  auto busyShare = [](uint64_t busyNs, uint64_t threadNs) {
    return threadNs ? 100.0 * static_cast<double>(busyNs) /
                          static_cast<double>(threadNs)
                    : 0.0;
  };
  std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
    return a.times->ns > b.times->ns ||
           (a.times->ns == b.times->ns && a.name < b.name);
  });
  double run = ms(totalNs);
  std::printf(
      "profile over %" PRId64 " runs on %" PRId64
      " thread%s: %.4g ms a run, %.4g ms of it in %zu parallel "
      "kernels (%.4g calls a run), %.4g ms on the model's thread "
      "alone before, between and after them\n",
      runs, threads, threads == 1 ? "" : "s", run, ms(inKernels), rows.size(),
      static_cast<double>(calls) / static_cast<double>(runs), ms(between));
  // Means count a run that the OS stopped a thread in (a call waits for
  // its pieces) in full; medians leave such runs out.
  std::printf("median run %.4g ms; a kernel's median is over the runs of "
              "its time in each\n",
              median(runNs) / 1e6);
  if (profileBusyNs)
    std::printf("the threads ran kernels' bodies %.1f%% of their time in "
                "the kernels' calls\n",
                busyShare(busy, threadNs));
  std::printf("%10s %9s %7s %6s %8s %6s %12s  %s%s\n", "ms a run", "median",
              "% run", "calls", "caller", "busy", "alone before", "kernel",
              nodes.empty() ? "" : "  (its ONNX nodes)");
  for (const Row &row : rows) {
    const KernelTimes &k = *row.times;
    char busyText[16] = "-";
    if (profileBusyNs)
      std::snprintf(busyText, sizeof busyText, "%.0f%%",
                    busyShare(k.busyNs, k.threadNs));
    // endRun gave every kernel a time in each run.
    std::printf("%10.4f %9.4f %6.1f%% %6.3g %7.0f%% %6s %12.4f  %s", ms(k.ns),
                median(k.perRun) / 1e6, run > 0 ? 100.0 * ms(k.ns) / run : 0.0,
                static_cast<double>(k.calls) / static_cast<double>(runs),
                k.rows ? 100.0 * static_cast<double>(k.callerRows) /
                             static_cast<double>(k.rows)
                       : 0.0,
                busyText, ms(k.beforeNs), row.name.c_str());
    if (auto it = nodes.find(row.name); it != nodes.end())
      std::printf("  %s", it->second.c_str());
    std::printf("\n");
  }
  std::printf("%10s %9s %7s %6s %8s %6s %12.4f  %s\n", "", "", "", "", "", "",
              ms(profile.afterNs), "(after the last kernel)");
}

} // namespace

/// The diagnostic for timed run `run` (of --bench or --profile) failing.
static std::string runFailure(const char *what, int64_t run, int status) {
  return std::string(what) + " run " + std::to_string(run) +
         ": the model's run function returned " + std::to_string(status) +
         " (" + kiln_status_string(status) + ")";
}

static int runKiln(const Options &options) {
  std::string error;
  std::error_code ec;
  if (!fs::is_directory(options.dataDir, ec))
    return reportError("data directory " + quote(options.dataDir) +
                       " does not exist or is not a directory");

  const kiln_model_info *info = loadModel(options.libraryPath, options.threads, error);
  if (!info)
    return reportError(error);
  if (options.profileRuns > 0 && !setProfiler)
    return reportError(quote(options.libraryPath) +
                       " has no kiln_set_profiler (built by an older "
                       "kilnc): nothing to profile with");

  // The descriptor's inputs and outputs.
  std::vector<TensorSpec> inputSpecs(info->num_inputs);
  std::vector<TensorSpec> outputSpecs(info->num_outputs);
  for (unsigned i = 0; i < info->num_inputs; ++i)
    if (!readTensorInfo(info->inputs[i], "input", i, inputSpecs[i], error))
      return reportError(error);
  for (unsigned i = 0; i < info->num_outputs; ++i)
    if (!readTensorInfo(info->outputs[i], "output", i, outputSpecs[i], error))
      return reportError(error);

  std::vector<ValueSpec> inputValues, outputValues;
  if (!readValueTable(*info, true, inputValues, error) ||
      !readValueTable(*info, false, outputValues, error))
    return reportError(error);

  // A data file beyond the model's inputs or outputs means the two disagree.
  std::string extraInput =
      dataFile(options.dataDir, "input", inputValues.size());
  if (fs::exists(extraInput, ec))
    return reportError(quote(extraInput) + " exists, but the model has " +
                       std::to_string(inputValues.size()) + " inputs");
  std::string extraOutput =
      dataFile(options.dataDir, "output", outputValues.size());
  if (fs::exists(extraOutput, ec))
    return reportError(quote(extraOutput) + " exists, but the model has " +
                       std::to_string(outputValues.size()) + " outputs");

  // Inputs, outputs and workspace. Input value i is DIR/input_<i>.pb; a
  // sequence or optional fills the tensors it spans.
  std::vector<AlignedBuffer> inputBuffers(info->num_inputs);
  std::vector<void *> inputs(info->num_inputs);
  // Kept for the run: string inputs point into them.
  std::vector<std::vector<onnx::TensorProto>> inputProtos(inputValues.size());
  for (unsigned i = 0; i < inputValues.size(); ++i) {
    const ValueSpec &value = inputValues[i];
    std::string path = dataFile(options.dataDir, "input", i);
    std::string what = "input " + std::to_string(i) + " " + quote(value.name);
    if (!fs::is_regular_file(path, ec))
      return reportError(what + ": missing data file " + quote(path));
    std::vector<onnx::TensorProto> &tensors = inputProtos[i];
    bool present;
    if (!readValueFile(path, value, tensors, present, error))
      return reportError(what + ": " + error);
    if (present != (value.present != 0) || tensors.size() != value.count)
      return reportError(what + ": " + quote(path) + " holds " +
                         describeHeld(present, tensors.size()) +
                         ", the model was compiled for " +
                         describeHeld(value.present, value.count));
    for (unsigned k = 0; k < value.count; ++k) {
      unsigned t = value.first + k;
      std::string tensorWhat =
          value.kind == KILN_VALUE_TENSOR ? what
                                          : what + " element " +
                                                std::to_string(k);
      if (!loadInput(tensors[k], path, tensorWhat, inputSpecs[t],
                     inputBuffers[t], error))
        return reportError(error);
      inputs[t] = inputBuffers[t].data();
    }
  }
  std::vector<AlignedBuffer> outputBuffers(info->num_outputs);
  std::vector<void *> outputs(info->num_outputs);
  for (unsigned i = 0; i < info->num_outputs; ++i) {
    if (!outputBuffers[i].allocate(outputSpecs[i].byteSize, 64))
      return reportError("out of memory for output " + std::to_string(i));
    // Poison the outputs so that an element the model never writes shows up.
    std::memset(outputBuffers[i].data(), 0xff, outputSpecs[i].byteSize);
    if (outputSpecs[i].dtype == KILN_DTYPE_STRING) {
      static const char poison[] = "\xff";
      auto *strings = static_cast<kiln_string *>(outputBuffers[i].data());
      for (size_t k = 0; k < outputSpecs[i].numElements; ++k)
        strings[k] = {poison, 1};
    }
    outputs[i] = outputBuffers[i].data();
  }
  if (info->workspace_size > std::numeric_limits<size_t>::max())
    return reportError("the model's workspace of " +
                       std::to_string(info->workspace_size) +
                       " bytes does not fit in memory");
  AlignedBuffer workspace;
  size_t workspaceAlign =
      std::max<size_t>(static_cast<size_t>(info->workspace_align), 64);
  if (!workspace.allocate(static_cast<size_t>(info->workspace_size),
                          workspaceAlign))
    return reportError("cannot allocate the model's workspace of " +
                       std::to_string(info->workspace_size) + " bytes");
  // Poison the workspace too (NaNs), as an application's may hold anything:
  // a kernel that reads bytes no kernel of this run wrote (a padded
  // buffer's border left unwritten) then shows in the outputs.
  std::memset(workspace.data(), 0xff, workspace.size());

  if (!runModel(*info, inputs, outputs, workspace.data(), error))
    return reportError(error);

  if (!options.writeDir.empty()) {
    fs::create_directories(options.writeDir, ec);
    if (!fs::is_directory(options.writeDir, ec))
      return reportError("cannot create output directory " +
                         quote(options.writeDir));
    for (unsigned i = 0; i < outputValues.size(); ++i)
      if (!writeOutput(dataFile(options.writeDir, "output", i),
                       resolved(outputValues[i], outputBuffers), outputSpecs,
                       outputBuffers, error))
        return reportError(error);
  }

  // Compare every output that has a reference.
  unsigned compared = 0;
  bool pass = true;
  for (unsigned i = 0; i < outputValues.size(); ++i) {
    const ValueSpec value = resolved(outputValues[i], outputBuffers);
    std::string path = dataFile(options.dataDir, "output", i);
    std::string what = "output " + std::to_string(i) + " " + quote(value.name);
    if (!fs::exists(path, ec)) {
      std::printf("%s: no reference\n", what.c_str());
      continue;
    }
    std::vector<onnx::TensorProto> references;
    bool present;
    if (!readValueFile(path, value, references, present, error))
      return reportError(what + ": " + error);
    ++compared;
    if (present != (value.present != 0) || references.size() != value.count) {
      std::printf("%s: the model gives %s, reference %s holds %s: FAIL\n",
                  what.c_str(),
                  describeHeld(value.present, value.count).c_str(),
                  quote(path).c_str(),
                  describeHeld(present, references.size()).c_str());
      pass = false;
      continue;
    }
    if (value.count == 0)
      std::printf("%s: %s, as the reference: PASS\n", what.c_str(),
                  describeHeld(value.present, 0).c_str());
    for (unsigned k = 0; k < value.count; ++k) {
      unsigned t = value.first + k;
      const TensorSpec &spec = outputSpecs[t];
      const onnx::TensorProto &tensor = references[k];
      std::string index = std::to_string(i);
      if (value.kind & KILN_VALUE_SEQUENCE)
        index += "[" + std::to_string(k) + "]";
      std::string header = "output " + index + " " + quote(spec.name) + " " +
                           formatShape(spec.shape) + " " +
                           dtypeName(spec.dtype);
      std::vector<int64_t> refShape = tensorShape(tensor);
      if (!sameElementType(tensor.data_type(), spec.dtype) ||
          refShape != spec.shape) {
        std::printf("%s: reference %s holds %s %s: FAIL\n", header.c_str(),
                    quote(path).c_str(), formatShape(refShape).c_str(),
                    dtypeName(tensor.data_type()).c_str());
        pass = false;
        continue;
      }
      AlignedBuffer reference;
      if (!reference.allocate(spec.byteSize, 64))
        return reportError("out of memory for " + quote(path));
      if (!copyTensorData(tensor, spec, reference.data(), path, error))
        return reportError(what + ": " + error);

      if (spec.dtype == KILN_DTYPE_STRING) {
        const auto *got = static_cast<const kiln_string *>(outputBuffers[t].data());
        const auto *want = static_cast<const kiln_string *>(reference.data());
        size_t differ = 0, first = 0;
        for (size_t k = 0; k < spec.numElements; ++k) {
          bool same = got[k].size == want[k].size &&
                      (got[k].size == 0 ||
                       std::memcmp(got[k].data, want[k].data, got[k].size) == 0);
          if (!same && differ++ == 0)
            first = k;
        }
        if (differ == 0) {
          std::printf("%s: equal strings: PASS\n", header.c_str());
          continue;
        }
        pass = false;
        std::printf("%s: FAIL (%zu of %zu strings differ; first at %s: got "
                    "\"%.*s\", expected \"%.*s\")\n",
                    header.c_str(), differ, spec.numElements,
                    formatIndex(spec.shape, first).c_str(),
                    static_cast<int>(got[first].size), got[first].data,
                    static_cast<int>(want[first].size), want[first].data);
        continue;
      }
      Comparison result =
          compareTensors(outputBuffers[t].data(), reference.data(), spec.dtype,
                         spec.numElements, options.rtol, options.atol);
      std::printf("%s: max abs err %.3g, max rel err %.3g: ", header.c_str(),
                  result.maxAbsError, result.maxRelError);
      if (result.mismatches == 0) {
        std::printf("PASS\n");
        continue;
      }
      pass = false;
      size_t first = result.firstMismatch;
      std::printf("FAIL (%zu of %zu elements differ; first at %s: got %s, "
                  "expected %s)\n",
                  result.mismatches, spec.numElements,
                  formatIndex(spec.shape, first).c_str(),
                  formatElement(outputBuffers[t].data(), spec.dtype, first)
                      .c_str(),
                  formatElement(reference.data(), spec.dtype, first).c_str());
    }
  }

  if (options.benchRuns > 0) {
    // The run above was the warm-up.
    std::vector<double> millis;
    millis.reserve(static_cast<size_t>(options.benchRuns));
    for (int64_t run = 0; run < options.benchRuns; ++run) {
      auto start = std::chrono::steady_clock::now();
      int status = info->run(inputs.data(), outputs.data(), workspace.data());
      auto stop = std::chrono::steady_clock::now();
      if (status != KILN_OK)
        return reportError(runFailure("benchmark", run, status));
      millis.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(millis.begin(), millis.end());
    size_t n = millis.size();
    double median =
        n % 2 ? millis[n / 2] : (millis[n / 2 - 1] + millis[n / 2]) / 2;
    // Nearest-rank 90th percentile.
    size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n)));
    double p90 = millis[std::max<size_t>(rank, 1) - 1];
    std::printf("median %.4g ms, p90 %.4g ms over %zu runs\n", median, p90, n);
  }

  if (options.profileRuns > 0) {
    // After the warm-up (the run above, and --bench's).
    Profile profile;
    profile.threads = options.threads;
    setProfiler(onLoop, &profile);
    std::vector<uint64_t> runNs;
    for (int64_t run = 0; run < options.profileRuns; ++run) {
      uint64_t start = monotonicNs();
      profile.lastEnd = start;
      int status = info->run(inputs.data(), outputs.data(), workspace.data());
      uint64_t stop = monotonicNs();
      if (status != KILN_OK) {
        setProfiler(nullptr, nullptr);
        return reportError(runFailure("profiled", run, status));
      }
      profile.afterNs += stop - profile.lastEnd;
      runNs.push_back(stop - start);
      endRun(profile, run);
    }
    setProfiler(nullptr, nullptr);
    printProfile(profile, runNs, options.libraryPath);
  }

  if (compared == 0) {
    std::printf("no reference outputs in %s: nothing compared\n",
                quote(options.dataDir).c_str());
    return 0;
  }
  std::printf("%s\n", pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}

int main(int argc, char **argv) {
  Options options;
  std::string error;
  if (!parseCommandLine(argc, argv, options, error))
    return reportError(error);
  if (options.help) {
    std::fputs(usageText, stdout);
    return 0;
  }
  // libonnx and the standard library report some failures (out of memory) by
  // throwing; turn them into a diagnostic rather than an abort.
  try {
    return runKiln(options);
  } catch (const std::exception &e) {
    return reportError(std::string("unexpected failure: ") + e.what());
  } catch (...) {
    return reportError("unexpected failure");
  }
}
