// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg -split-input-file -verify-diagnostics
// A node no pattern can lower is reported once, naming why.

func.func @bool_matmul(%a: tensor<2x3xi1>, %b: tensor<3x2xi1>) -> tensor<2x2xi1> {
  // expected-error @+1 {{MatMul needs float or integer inputs}}
  %y = "onnx.MatMul"(%a, %b) : (tensor<2x3xi1>, tensor<3x2xi1>) -> tensor<2x2xi1>
  return %y : tensor<2x2xi1>
}

// -----

func.func @dynamic_slice_lengths(%x: tensor<6xf32>, %s: tensor<1xi64>) -> tensor<2xf32> {
  %e = "onnx.Constant"() {value = dense<[5, 6]> : tensor<2xi64>} : () -> tensor<2xi64>
  %none = onnx.NoValue : none
  // expected-error @+1 {{Slice starts, ends, axes and steps must have the same length}}
  %y = "onnx.Slice"(%x, %s, %e, %none, %none) : (tensor<6xf32>, tensor<1xi64>, tensor<2xi64>, none, none) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
