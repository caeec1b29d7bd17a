//===- Strings.td - Kiln's ops on strings as byte tensors --*- tablegen -*-===//
//
// Kiln's own ops, which no ONNX model names: the importer's string rewrite
// (compiler/import/Strings.cpp) turns a string tensor into a byte tensor
// with one more dimension, each string NUL-padded to that width, and Cast
// to and from strings into these two.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_STRINGS_TD
#define KILN_DIALECTS_ONNX_STRINGS_TD

include "dialects/onnx/ONNXDialect.td"

def ONNX_KilnNumberToStringOp : ONNX_Op<"KilnNumberToString"> {
  let summary = "numbers formatted as strings of bytes (numpy's str())";
  let description = [{
    Each number of `input` [S...] becomes the string numpy's str() gives it
    (the shortest digits that read back as the same value), NUL-padded in
    the last dimension of `output` [S..., W].

    Example:
    ```mlir
    %s = onnx.KilnNumberToString(%x) : (tensor<3xf32>) -> tensor<3x24xui8>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_KilnStringToNumberOp : ONNX_Op<"KilnStringToNumber"> {
  let summary = "strings of bytes parsed as numbers (strtod)";
  let description = [{
    Each NUL-padded string in the last dimension of `input` [S..., W], W at
    most 64, read as a number of `output`'s element type ("NaN", "INF",
    "-INF" included; strtod's reading).

    Example:
    ```mlir
    %x = onnx.KilnStringToNumber(%s) : (tensor<3x64xui8>) -> tensor<3xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input);
  let results = (outs ONNX_Tensor:$output);
}

#endif // KILN_DIALECTS_ONNX_STRINGS_TD
