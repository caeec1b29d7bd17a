// RUN: kiln-opt %s --kiln-decompose-conv-transposes | FileCheck %s
// A ConvTranspose of kernel [1, 2, 3], stride 2, pads 1: output 2q takes
// x[q] * 2, output 2q + 1 takes x[q] * 3 + x[q + 1] * 1. One stride-1 Conv
// of a 2-tap window computes both phases (phase 0's weights [2, 0], phase
// 1's [3, 1]) over x padded by one at the end; the phases interleave
// ([1, 2, 1, 4] -> [1, 1, 4, 2] -> [1, 1, 8]) and the 8th output, past the
// 7 of the result, is sliced off.

// CHECK-LABEL: func @stride_2
// CHECK: %[[V:.*]] = "onnx.Constant"() <{value = dense<{{\[\[\[}}2.000000e+00, 0.000000e+00]], {{\[\[}}3.000000e+00, 1.000000e+00]]]> : tensor<2x1x2xf32>}>
// CHECK: %[[C:.*]] = "onnx.Conv"(%arg0, %[[V]], %{{.*}}) <{{{.*}}kernel_shape = [2], pads = [0, 1], strides = [1]}> : {{.*}} -> tensor<1x2x4xf32>
// CHECK: %[[P:.*]] = "onnx.Reshape"(%[[C]], %{{.*}}) {{.*}} -> tensor<1x2x1x4xf32>
// CHECK: %[[T:.*]] = "onnx.Transpose"(%[[P]]) <{perm = [0, 2, 3, 1]}> {{.*}} -> tensor<1x1x4x2xf32>
// CHECK: %[[J:.*]] = "onnx.Reshape"(%[[T]], %{{.*}}) {{.*}} -> tensor<1x1x8xf32>
// CHECK: %[[Y:.*]] = "onnx.Slice"(%[[J]], {{.*}}) {{.*}} -> tensor<1x1x7xf32>
// CHECK-NOT: onnx.ConvTranspose
// CHECK: return %[[Y]]
func.func @stride_2(%x: tensor<1x1x4xf32>) -> tensor<1x1x7xf32> {
  %none = onnx.NoValue : none
  %w = "onnx.Constant"() {value = dense<[[[1.0, 2.0, 3.0]]]> : tensor<1x1x3xf32>} : () -> tensor<1x1x3xf32>
  %y = "onnx.ConvTranspose"(%x, %w, %none) {strides = [2], pads = [1, 1]} : (tensor<1x1x4xf32>, tensor<1x1x3xf32>, none) -> tensor<1x1x7xf32>
  return %y : tensor<1x1x7xf32>
}

// Weights that are not constants, or two groups: the direct lowering.
// CHECK-LABEL: func @run_time_weights
// CHECK: onnx.ConvTranspose
// CHECK-LABEL: func @two_groups
// CHECK: onnx.ConvTranspose
func.func @run_time_weights(%x: tensor<1x1x4xf32>, %w: tensor<1x1x3xf32>) -> tensor<1x1x7xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.ConvTranspose"(%x, %w, %none) {strides = [2], pads = [1, 1]} : (tensor<1x1x4xf32>, tensor<1x1x3xf32>, none) -> tensor<1x1x7xf32>
  return %y : tensor<1x1x7xf32>
}
func.func @two_groups(%x: tensor<1x2x4xf32>) -> tensor<1x2x9xf32> {
  %none = onnx.NoValue : none
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<2x1x3xf32>} : () -> tensor<2x1x3xf32>
  %y = "onnx.ConvTranspose"(%x, %w, %none) {strides = [2], group = 2 : i64} : (tensor<1x2x4xf32>, tensor<2x1x3xf32>, none) -> tensor<1x2x9xf32>
  return %y : tensor<1x2x9xf32>
}

// A Relu that alone reads the result runs on the Conv's output, before the
// shuffle, where the Conv's kernel fuses it.
// CHECK-LABEL: func @relu_after
// CHECK: %[[C:.*]] = "onnx.Conv"
// CHECK: %[[R:.*]] = "onnx.Relu"(%[[C]]) : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
// CHECK: "onnx.Reshape"(%[[R]]
// CHECK-NOT: onnx.Relu
// CHECK: return
func.func @relu_after(%x: tensor<1x1x4xf32>) -> tensor<1x1x8xf32> {
  %none = onnx.NoValue : none
  %w = "onnx.Constant"() {value = dense<[[[1.0, 2.0]]]> : tensor<1x1x2xf32>} : () -> tensor<1x1x2xf32>
  %y = "onnx.ConvTranspose"(%x, %w, %none) {strides = [2]} : (tensor<1x1x4xf32>, tensor<1x1x2xf32>, none) -> tensor<1x1x8xf32>
  %r = "onnx.Relu"(%y) : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  return %r : tensor<1x1x8xf32>
}
