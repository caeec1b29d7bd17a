// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// Round trip of the onnx dialect, and the folders that run in canonicalize.

// CHECK-LABEL: func @conv
func.func @conv(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: "onnx.Conv"(%{{.*}}, %{{.*}}, %{{.*}}) <{auto_pad = "NOTSET", group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]}>
  %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// CHECK-LABEL: func @optional_inputs
func.func @optional_inputs(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: %[[NONE:.*]] = onnx.NoValue : none
  // CHECK: "onnx.Clip"(%{{.*}}, %[[NONE]], %[[NONE]])
  %none = onnx.NoValue : none
  %y = "onnx.Clip"(%x, %none, %none) : (tensor<4xf32>, none, none) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// CHECK-LABEL: func @broadcast
func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: "onnx.Add"
  %c = "onnx.Add"(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}
