//===- ONNXOps.td - All onnx dialect ops ----------------------------------===//
//
// This file gathers the op families of the onnx dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_ONNXOPS_TD
#define KILN_DIALECTS_ONNX_ONNXOPS_TD

include "dialects/onnx/ONNXDialect.td"
include "dialects/onnx/Math.td"
include "dialects/onnx/NN.td"
include "dialects/onnx/Tensor.td"
include "dialects/onnx/ControlFlow.td"
include "dialects/onnx/Training.td"
include "dialects/onnx/Strings.td"

#endif // KILN_DIALECTS_ONNX_ONNXOPS_TD
