//===- ModelSignature.h - What the artifact tells its users -----*- C++ -*-===//
//
// This file declares the description of a compiled model that the output
// stage writes into the C header and the kiln_model_info descriptor: names,
// element types and shapes of inputs and outputs, and the arena and weight
// sizes. It is plain C++ so that header emission is unit-tested alone.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_MODELSIGNATURE_H
#define KILN_CODEGEN_COMMON_MODELSIGNATURE_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// One input or output.
struct TensorSignature {
  std::string name;           ///< the ONNX value name
  int32_t dtype = 0;          ///< an ONNX TensorProto.DataType (kiln_dtype)
  std::vector<int64_t> shape; ///< static dimensions
  /// For strings (dtype 8): the bytes of each string's row in the model.
  int64_t stringBytes = 0;
  int64_t numElements() const;
};

/// One ONNX input or output: `count` of the tensors from `first`
/// (runtime.h's kiln_value_info).
struct ValueSignature {
  std::string name;
  int32_t kind = 0; ///< KILN_VALUE_* bits
  int32_t present = 1;
  int32_t dtype = 0;
  uint32_t first = 0, count = 1;
};

/// A compiled model as seen from C.
struct ModelSignature {
  std::string name;   ///< symbol prefix, a C identifier
  std::string source; ///< the model file name, for the banner
  std::vector<TensorSignature> inputs, outputs;
  /// The ONNX values behind `inputs` and `outputs`, in order.
  std::vector<ValueSignature> inputValues, outputValues;
  std::string target;  ///< the target triple and CPU, for the memory banner
  int64_t workspaceSize = 0;
  int64_t workspaceAlign = 64;
  /// The most bytes of intermediates alive at one time: no arena is smaller.
  int64_t workspaceLowerBound = 0;
  int64_t weightsSize = 0;
  /// A model compiled with --quantize: the bytes of the float model's
  /// initializers, for comparison with weightsSize; 0 otherwise.
  int64_t floatWeightsSize = 0;
  int64_t codeSize = 0; ///< bytes of executable code, without the weights
  /// Where the rows of the string inputs and outputs start in the workspace
  /// (after the planned arena, alive for the whole run); 0 if none.
  int64_t stringSlotsOffset = 0;
};

/// Puts the string inputs' and outputs' rows after the planned arena: sets
/// stringSlotsOffset and grows the workspace and its lower bound.
void addStringSlots(ModelSignature &model);

/// The offset in the workspace of each tensor's rows (-1 for a tensor that
/// is not a string), inputs then outputs, from stringSlotsOffset.
std::vector<int64_t> stringSlotOffsets(const ModelSignature &model);

/// One plain tensor value per tensor.
std::vector<ValueSignature>
plainValues(const std::vector<TensorSignature> &tensors);

/// Turns `text` into a C identifier: other characters become '_', and a
/// leading digit gets a '_' prefix. Never empty.
std::string makeCIdentifier(const std::string &text);

/// The C type of one element of `dtype` ("float", "int64_t", ...).
const char *cTypeOf(int32_t dtype);

/// The text of NAME.h: plain C99, including only <stddef.h> and <stdint.h>.
std::string emitHeader(const ModelSignature &model);

} // namespace kiln

#endif // KILN_CODEGEN_COMMON_MODELSIGNATURE_H
