//===- Header.cpp - Emit the generated C header ---------------------------===//
//
// This file implements emitHeader: the C99 header that declares NAME_run and
// NAME_info and states the workspace size and alignment, weight size, and
// each input's and output's name, element type and shape as constants.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/ModelSignature.h"
#include "kiln/runtime.h"

#include <cctype>
#include <set>
#include <sstream>

using namespace kiln;

int64_t TensorSignature::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static int64_t alignTo64(int64_t n) { return (n + 63) / 64 * 64; }

std::vector<int64_t> kiln::stringSlotOffsets(const ModelSignature &model) {
  std::vector<int64_t> offsets;
  int64_t at = model.stringSlotsOffset;
  for (const auto *list : {&model.inputs, &model.outputs})
    for (const TensorSignature &t : *list) {
      if (t.dtype != KILN_DTYPE_STRING) {
        offsets.push_back(-1);
        continue;
      }
      offsets.push_back(at);
      at += alignTo64(t.numElements() * t.stringBytes);
    }
  return offsets;
}

void kiln::addStringSlots(ModelSignature &model) {
  int64_t bytes = 0;
  for (const auto *list : {&model.inputs, &model.outputs})
    for (const TensorSignature &t : *list)
      if (t.dtype == KILN_DTYPE_STRING)
        bytes += alignTo64(t.numElements() * t.stringBytes);
  if (!bytes)
    return;
  model.stringSlotsOffset = alignTo64(model.workspaceSize);
  model.workspaceSize = model.stringSlotsOffset + bytes;
  model.workspaceLowerBound += bytes;
}

std::vector<ValueSignature>
kiln::plainValues(const std::vector<TensorSignature> &tensors) {
  std::vector<ValueSignature> values;
  for (size_t i = 0; i < tensors.size(); ++i) {
    ValueSignature v;
    v.name = tensors[i].name;
    v.dtype = tensors[i].dtype;
    v.first = (uint32_t)i;
    values.push_back(v);
  }
  return values;
}

std::string kiln::makeCIdentifier(const std::string &text) {
  std::string out;
  for (char c : text)
    out += std::isalnum((unsigned char)c) ? c : '_';
  if (out.empty() || std::isdigit((unsigned char)out[0]))
    out = "_" + out;
  return out;
}

const char *kiln::cTypeOf(int32_t dtype) {
  switch (dtype) {
  case 1:
    return "float";
  case 2:
    return "uint8_t";
  case 3:
    return "int8_t";
  case 4:
    return "uint16_t";
  case 5:
    return "int16_t";
  case 6:
    return "int32_t";
  case 7:
    return "int64_t";
  case 9:
    return "uint8_t"; /* bool, one byte per element */
  case 10:
    return "uint16_t"; /* float16 bits */
  case 11:
    return "double";
  case 12:
    return "uint32_t";
  case 13:
    return "uint64_t";
  case 16:
    return "uint16_t"; /* bfloat16 bits */
  case 8:
    return "struct kiln_string";
  default:
    return "void";
  }
}

static const char *dtypeMacro(int32_t dtype) {
  switch (dtype) {
  case 1:
    return "KILN_DTYPE_FLOAT";
  case 2:
    return "KILN_DTYPE_UINT8";
  case 3:
    return "KILN_DTYPE_INT8";
  case 4:
    return "KILN_DTYPE_UINT16";
  case 5:
    return "KILN_DTYPE_INT16";
  case 6:
    return "KILN_DTYPE_INT32";
  case 7:
    return "KILN_DTYPE_INT64";
  case 9:
    return "KILN_DTYPE_BOOL";
  case 10:
    return "KILN_DTYPE_FLOAT16";
  case 11:
    return "KILN_DTYPE_DOUBLE";
  case 12:
    return "KILN_DTYPE_UINT32";
  case 13:
    return "KILN_DTYPE_UINT64";
  case 16:
    return "KILN_DTYPE_BFLOAT16";
  case 8:
    return "KILN_DTYPE_STRING";
  default:
    return "KILN_DTYPE_UNDEFINED";
  }
}

/// Escapes a string for a C string literal.
static std::string cString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if ((unsigned char)c < 32) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\%03o", (unsigned char)c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

static void emitTensorMacros(std::ostringstream &os, const std::string &prefix,
                             const TensorSignature &t) {
  os << "#define " << prefix << "_NAME " << cString(t.name) << "\n";
  os << "#define " << prefix << "_DTYPE " << t.dtype << " /* "
     << dtypeMacro(t.dtype) << " */\n";
  os << "#define " << prefix << "_RANK " << t.shape.size() << "\n";
  // C has no empty initializer: a scalar has no _SHAPE.
  if (!t.shape.empty()) {
    os << "#define " << prefix << "_SHAPE {";
    for (size_t i = 0; i < t.shape.size(); ++i)
      os << (i ? ", " : "") << t.shape[i];
    os << "}\n";
  }
  os << "#define " << prefix << "_SIZE " << t.numElements()
     << " /* elements */\n";
  if (t.dtype == KILN_DTYPE_STRING)
    os << "#define " << prefix << "_STRING_BYTES " << t.stringBytes
       << " /* the most bytes one string holds */\n";
}

std::string kiln::emitHeader(const ModelSignature &m) {
  std::ostringstream os;
  const std::string &n = m.name;
  std::string guard = "KILN_MODEL_" + n + "_H";
  for (char &c : guard)
    c = (char)std::toupper((unsigned char)c);
  os << "/* " << n << ".h - generated by kilnc from " << m.source
     << ". Do not edit. */\n";
  os << "#ifndef " << guard << "\n#define " << guard << "\n\n";
  os << "#include <stddef.h>\n#include <stdint.h>\n\n";
  os << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  int64_t inputBytes = 0, outputBytes = 0;
  for (const TensorSignature &t : m.inputs)
    inputBytes += t.numElements() * (int64_t)kiln_dtype_size(t.dtype);
  for (const TensorSignature &t : m.outputs)
    outputBytes += t.numElements() * (int64_t)kiln_dtype_size(t.dtype);
  os << "/* Memory";
  if (!m.target.empty())
    os << " on " << m.target;
  os << ", in bytes:\n"
        "     code     " << m.codeSize << " (executable sections, without the "
        "weights)\n"
        "     weights  " << m.weightsSize << " (read-only data: flash on a "
        "microcontroller)\n";
  if (m.floatWeightsSize)
    os << "              quantized: the float model's weights are "
       << m.floatWeightsSize << "\n";
  os << "     arena    " << m.workspaceSize << " (lower bound "
     << m.workspaceLowerBound << ", the most bytes of intermediates alive "
        "at once";
  if (m.workspaceSize > m.workspaceLowerBound)
    os << ";\n              the rest is buffers that are never alive together "
          "but could\n              not share addresses (greedy placement, "
       << m.workspaceAlign << "-byte alignment)";
  os << ")\n"
        "     inputs   " << inputBytes << ", outputs " << outputBytes
     << " (the caller's buffers)\n"
        "   Pass "
     << n << "_run an arena of " << n << "_WORKSPACE_SIZE bytes aligned to\n   "
     << n << "_WORKSPACE_ALIGN, or NULL on hosted targets to let the runtime "
        "allocate\n   one. */\n";
  os << "#define " << n << "_WORKSPACE_SIZE " << m.workspaceSize << "\n";
  os << "#define " << n << "_WORKSPACE_ALIGN " << m.workspaceAlign << "\n";
  os << "#define " << n << "_WORKSPACE_LOWER_BOUND " << m.workspaceLowerBound
     << "\n";
  os << "#define " << n << "_WEIGHTS_SIZE " << m.weightsSize << "\n";
  if (m.floatWeightsSize)
    os << "#define " << n << "_FLOAT_WEIGHTS_SIZE " << m.floatWeightsSize
       << "\n";
  os << "#define " << n << "_CODE_SIZE " << m.codeSize << "\n";
  os << "#define " << n << "_NUM_INPUTS " << m.inputs.size() << "\n";
  os << "#define " << n << "_NUM_OUTPUTS " << m.outputs.size() << "\n\n";
  for (size_t i = 0; i < m.inputs.size(); ++i)
    emitTensorMacros(os, n + "_INPUT_" + std::to_string(i), m.inputs[i]);
  for (size_t i = 0; i < m.outputs.size(); ++i)
    emitTensorMacros(os, n + "_OUTPUT_" + std::to_string(i), m.outputs[i]);

  // The ONNX values: which tensors a sequence or optional spans.
  auto emitValues = [&](const char *what,
                        const std::vector<ValueSignature> &values) {
    std::string upper = what;
    for (char &c : upper)
      c = (char)std::toupper((unsigned char)c);
    os << "\n#define " << n << "_NUM_" << upper << "_VALUES " << values.size()
       << "\n";
    for (size_t i = 0; i < values.size(); ++i) {
      const ValueSignature &v = values[i];
      std::string p = n + "_" + upper + "_VALUE_" + std::to_string(i);
      const char *kind = v.kind == (KILN_VALUE_SEQUENCE | KILN_VALUE_OPTIONAL)
                             ? "an optional sequence"
                         : v.kind == KILN_VALUE_SEQUENCE ? "a sequence"
                         : v.kind == KILN_VALUE_OPTIONAL ? "an optional"
                                                         : "a tensor";
      std::ostringstream span; // the tensors it spans
      if (v.count == 0)
        span << "no tensors";
      else if (v.count == 1)
        span << what << " " << v.first;
      else
        span << what << "s " << v.first << " to " << v.first + v.count - 1;
      os << "/* " << what << " " << i << " '" << v.name << "': " << kind;
      if (v.present == 0)
        os << ", compiled empty, " << span.str();
      else if (v.present == 2)
        os << " whose presence is decided at run time, " << span.str()
           << ":\n   " << what << " " << v.first
           << " is a bool, 1 if it holds a value, which the others hold";
      else if (v.count > 1)
        os << " of " << v.count << " tensors, " << span.str();
      else
        os << ", " << span.str();
      os << " */\n";
      os << "#define " << p << "_NAME " << cString(v.name) << "\n";
      os << "#define " << p << "_KIND " << v.kind << " /* "
         << (v.kind == 0 ? "KILN_VALUE_TENSOR"
             : v.kind == 1 ? "KILN_VALUE_SEQUENCE"
             : v.kind == 2 ? "KILN_VALUE_OPTIONAL"
                           : "KILN_VALUE_OPTIONAL | KILN_VALUE_SEQUENCE")
         << " */\n";
      os << "#define " << p << "_PRESENT " << v.present << "\n";
      os << "#define " << p << "_FIRST " << v.first << "\n";
      os << "#define " << p << "_COUNT " << v.count << "\n";
    }
  };
  emitValues("input", m.inputValues.empty() ? plainValues(m.inputs)
                                            : m.inputValues);
  emitValues("output", m.outputValues.empty() ? plainValues(m.outputs)
                                              : m.outputValues);

  // Parameter names: the value names made identifiers, made unique.
  std::set<std::string> used{"workspace"};
  auto param = [&](const std::string &name) {
    std::string id = makeCIdentifier(name), base = id;
    for (int k = 2; used.count(id); ++k)
      id = base + "_" + std::to_string(k);
    used.insert(id);
    return id;
  };
  bool strings = false;
  for (const auto *list : {&m.inputs, &m.outputs})
    for (const TensorSignature &t : *list)
      strings |= t.dtype == KILN_DTYPE_STRING;
  os << "\n/* Runs the model. Returns 0 (KILN_OK) on success, else a "
        "KILN_ERROR_*\n"
        "   code. Buffers are dense, row-major, in the shapes above."
     << (strings ? "\n" : " */\n");
  if (strings)
    os << "   A string tensor is an array of kiln_string (kiln/runtime.h): "
          "the inputs'\n   are copied in, each of at most _STRING_BYTES "
          "bytes (else\n   KILN_ERROR_SHAPE); the outputs' point into the "
          "workspace, which must\n   be given (not NULL) and stays theirs "
          "until it is reused. */\n";
  if (strings)
    os << "struct kiln_string; /* kiln/runtime.h */\n";
  os << "int " << n << "_run(";
  for (const TensorSignature &t : m.inputs)
    os << "const " << cTypeOf(t.dtype) << " *" << param(t.name) << ", ";
  for (const TensorSignature &t : m.outputs)
    os << cTypeOf(t.dtype) << " *" << param(t.name) << ", ";
  os << "void *workspace);\n\n";
  os << "struct kiln_model_info; /* kiln/runtime.h */\n";
  os << "/* The versioned descriptor: names, types, shapes, sizes, generic "
        "run. */\n";
  os << "const struct kiln_model_info *" << n << "_info(void);\n\n";
  os << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n";
  os << "#endif /* " << guard << " */\n";
  return os.str();
}
