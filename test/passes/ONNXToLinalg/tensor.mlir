// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Tensor family: reshapes from the static result type, clamped Gather,
// strided Slice, Concat as insert_slices.

// CHECK-LABEL: func @reshape
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : tensor<1x4x2x2xf32> into tensor<1x16xf32>
func.func @reshape(%x: tensor<1x4x2x2xf32>, %s: tensor<2xi64>) -> tensor<1x16xf32> {
  %y = "onnx.Reshape"(%x, %s) : (tensor<1x4x2x2xf32>, tensor<2xi64>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// CHECK-LABEL: func @gather
// CHECK: arith.select
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract
func.func @gather(%t: tensor<10x4xf32>, %i: tensor<1x3xi64>) -> tensor<1x3x4xf32> {
  %y = "onnx.Gather"(%t, %i) {axis = 0 : i64} : (tensor<10x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

// CHECK-LABEL: func @slice
// CHECK: tensor.extract_slice %{{.*}}[0, 1] [2, 2] [1, 2] : tensor<2x6xf32> to tensor<2x2xf32>
func.func @slice(%x: tensor<2x6xf32>) -> tensor<2x2xf32> {
  %starts = "onnx.Constant"() {value = dense<[1]> : tensor<1xi64>} : () -> tensor<1xi64>
  %ends = "onnx.Constant"() {value = dense<[5]> : tensor<1xi64>} : () -> tensor<1xi64>
  %axes = "onnx.Constant"() {value = dense<[1]> : tensor<1xi64>} : () -> tensor<1xi64>
  %steps = "onnx.Constant"() {value = dense<[2]> : tensor<1xi64>} : () -> tensor<1xi64>
  %y = "onnx.Slice"(%x, %starts, %ends, %axes, %steps) : (tensor<2x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// CHECK-LABEL: func @concat
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [1, 2] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 2] [1, 3] [1, 1]
func.func @concat(%a: tensor<1x2xf32>, %b: tensor<1x3xf32>) -> tensor<1x5xf32> {
  %y = "onnx.Concat"(%a, %b) {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
  return %y : tensor<1x5xf32>
}

// CHECK-LABEL: func @transpose
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<4x2x3xf32>) permutation = [2, 0, 1]
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %y = "onnx.Transpose"(%x) {perm = [2, 0, 1]} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %y : tensor<4x2x3xf32>
}

// Reflect by constant pads: a dim at a time, the input into the middle and
// each border row a copy of the one it mirrors (rows 1 and 2 above, row 2
// below: the edge itself is not repeated), then the columns likewise; no
// per-element gather.
// CHECK-LABEL: func @pad_reflect_constant
// CHECK-NOT: tensor.extract %
// CHECK: %[[R:.*]] = tensor.insert_slice %arg0 into %{{.*}}[2, 0] [4, 5] [1, 1] : tensor<4x5xf32> into tensor<7x5xf32>
// CHECK: %[[A1:.*]] = tensor.extract_slice %arg0[1, 0] [1, 5] [1, 1]
// CHECK: tensor.insert_slice %[[A1]] into %[[R]][1, 0] [1, 5] [1, 1]
// CHECK: tensor.extract_slice %arg0[2, 0] [1, 5] [1, 1]
// CHECK: [0, 0] [1, 5] [1, 1]
// CHECK: tensor.extract_slice %arg0[2, 0] [1, 5] [1, 1]
// CHECK: [6, 0] [1, 5] [1, 1]
// CHECK: [0, 1] [7, 5] [1, 1] : tensor<7x5xf32> into tensor<7x6xf32>
// CHECK: [0, 1] [7, 1] [1, 1]
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @pad_reflect_constant(%x: tensor<4x5xf32>) -> tensor<7x6xf32> {
  %p = "onnx.Constant"() {value = dense<[2, 1, 1, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %none = onnx.NoValue : none
  %y = "onnx.Pad"(%x, %p, %none) {mode = "reflect"} : (tensor<4x5xf32>, tensor<4xi64>, none) -> tensor<7x6xf32>
  return %y : tensor<7x6xf32>
}
