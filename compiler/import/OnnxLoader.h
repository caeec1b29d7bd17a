//===- OnnxLoader.h - Read, check and normalise an ONNX model ---*- C++ -*-===//
//
// This file declares the one entry point into libonnx. libonnx reports errors
// by throwing, while Kiln is built without exceptions: OnnxLoader.cpp is the
// only file compiled with -fexceptions, and its interface carries no LLVM or
// MLIR types, only the standard library and the protobuf model.
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
struct InputShapePin {
  std::string name;
  std::vector<int64_t> dims;
};

/// Reads `path`, pins input shapes, runs ONNX's checker, converts the model to
/// opset kTargetOpset and runs shape inference with data propagation. Fills
/// `sinceVersions` with the since_version of each op type's schema at that
/// opset (0 when ONNX has none), subgraphs included; ops of another domain
/// (ai.onnx.preview.training) are looked up at the version the model imports.
/// On failure returns false and sets `error` to one line (without the file
/// name).
bool loadOnnxModel(const std::string &path,
                   const std::vector<InputShapePin> &pins,
                   onnx::ModelProto &model,
                   std::map<std::string, int> &sinceVersions,
                   std::string &error);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_ONNXLOADER_H
