// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg -split-input-file -verify-diagnostics
// Data-dependent ops whose static types do not fit the op are reported.

func.func @nonzero_rows(%x: tensor<2x3xf32>) -> tensor<3x4xi64> {
  // expected-error @+1 {{NonZero's result must be [rank of X, count] of int64}}
  %y = "onnx.NonZero"(%x) : (tensor<2x3xf32>) -> tensor<3x4xi64>
  return %y : tensor<3x4xi64>
}

// -----

func.func @compress_shape(%x: tensor<3x2xf32>, %c: tensor<3xi1>) -> tensor<2x3xf32> {
  // expected-error @+1 {{Compress's result must be the input with the axis resized}}
  %y = "onnx.Compress"(%x, %c) {axis = 0 : i64} : (tensor<3x2xf32>, tensor<3xi1>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @nms_f16(%b: tensor<1x6x4xf16>, %s: tensor<1x1x6xf16>) -> tensor<0x3xi64> {
  %none = onnx.NoValue : none
  // expected-error @+1 {{NonMaxSuppression takes f32 boxes [batches, boxes, 4] and scores [batches, classes, boxes]}}
  %y = "onnx.NonMaxSuppression"(%b, %s, %none, %none, %none) : (tensor<1x6x4xf16>, tensor<1x1x6xf16>, none, none, none) -> tensor<0x3xi64>
  return %y : tensor<0x3xi64>
}

// -----

func.func @unique_lengths(%x: tensor<6xf32>) -> (tensor<4xf32>, tensor<3xi64>, tensor<6xi64>, tensor<4xi64>) {
  // expected-error @+1 {{Unique's indices, inverse_indices and counts must be 1-d int64 of the declared lengths}}
  %y, %i, %inv, %c = "onnx.Unique"(%x) : (tensor<6xf32>) -> (tensor<4xf32>, tensor<3xi64>, tensor<6xi64>, tensor<4xi64>)
  return %y, %i, %inv, %c : tensor<4xf32>, tensor<3xi64>, tensor<6xi64>, tensor<4xi64>
}
