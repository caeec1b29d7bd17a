//===- OnnxLoader.h - Read, check and normalise an ONNX model ---*- C++ -*-===//
//
// This file declares the one entry point into libonnx. libonnx reports errors
// by throwing, while Kiln is built without exceptions: OnnxLoader.cpp and
// Sequences.cpp are the only files compiled with -fexceptions, and their
// interfaces carry no LLVM or MLIR types, only the standard library and the
// protobuf model.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_ONNXLOADER_H
#define KILN_COMPILER_IMPORT_ONNXLOADER_H

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace kiln {

/// The opset every model is normalised to.
constexpr int kTargetOpset = 17;

/// A user-pinned input shape (`--input-shape=NAME:1x3x224x224`).
/// A user's pin for a graph input whose type the model leaves open
/// (--input-shape, or the tensors of --input-shapes-from).
struct InputShapePin {
  enum class Kind {
    Tensor,   ///< a tensor (or an optional holding one) of shape `dims`
    Sequence, ///< a sequence (or an optional holding one) of `elements`
    None      ///< an optional that holds nothing
  };
  std::string name;
  Kind kind = Kind::Tensor;
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> elements;
};

/// One ONNX input or output and the tensors the compiled model passes for
/// it: runtime.h's kiln_value_info before the tensors are numbered.
struct ValueLayout {
  std::string name;
  int32_t kind = 0;   ///< KILN_VALUE_* bits
  /// 1, or 0 for an optional compiled empty, or 2 for one whose presence is
  /// decided at run time: its first tensor is a bool scalar that says it.
  int32_t present = 1;
  int32_t dtype = 0;  ///< element type, 0 where only the tensors say
  std::vector<std::string> tensors; ///< the graph's tensor names, in order
};

/// The model's inputs (without initializers) and outputs as ONNX values.
struct ModelLayout {
  std::vector<ValueLayout> inputs, outputs;
  /// The row width of each string input and output tensor (Strings.h).
  std::map<std::string, int64_t> stringBytes;
};

/// Reads, checks, pins, expands sequences and optionals into tensors
/// (Sequences.h), converts to kTargetOpset, infers shapes and makes string
/// tensors byte tensors of rows up to `maxStringBytes` (Strings.h). `dataDir`, if
/// not empty, holds input_<i>.pb files whose shapes pin every input that
/// the model and `pins` leave open. On failure returns false with a one-line
/// `error`.
bool loadOnnxModel(const std::string &path,
                   const std::vector<InputShapePin> &pins,
                   const std::string &dataDir, int64_t maxStringBytes,
                   onnx::ModelProto &model,
                   std::map<std::string, int> &sinceVersions,
                   ModelLayout &layout, std::string &error);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_ONNXLOADER_H
