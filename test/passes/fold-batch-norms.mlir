// RUN: kiln-opt %s --kiln-fold-batch-norms --canonicalize | FileCheck %s
// An inference BatchNormalization of a Conv's output folds into the Conv's
// weights and bias: s = scale / sqrt(var + epsilon), W' = W * s,
// B' = (B - mean) * s + beta per output channel. With epsilon 1, s is
// [1 / 2, 2 / 1]: W' = [2 * 0.5, 3 * 2], B' = [(1 - 1) * 0.5 + 0.5,
// (-1 - 3) * 2 + 0].

// CHECK-LABEL: func @conv_bias_norm
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}6.000000e+00]]]]> : tensor<2x1x1x1xf32>}>
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense<[5.000000e-01, -8.000000e+00]> : tensor<2xf32>}>
// CHECK: %[[Y:.*]] = "onnx.Conv"(%arg0, %[[W]], %[[B]])
// CHECK-NOT: onnx.BatchNormalization
// CHECK: return %[[Y]]
func.func @conv_bias_norm(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "onnx.Constant"() {value = dense<[1.0, -1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "onnx.Conv"(%x, %w, %b) : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %scale = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %beta = "onnx.Constant"() {value = dense<[0.5, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %mean = "onnx.Constant"() {value = dense<[1.0, 3.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %var = "onnx.Constant"() {value = dense<[3.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.BatchNormalization"(%c, %scale, %beta, %mean, %var) {epsilon = 1.0 : f32} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// A Conv without a bias gets one: B' = -mean * s + beta.
// CHECK-LABEL: func @conv_norm
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense<[0.000000e+00, -6.000000e+00]> : tensor<2xf32>}>
// CHECK: "onnx.Conv"(%arg0, %{{.*}}, %[[B]])
// CHECK-NOT: onnx.BatchNormalization
func.func @conv_norm(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %none = onnx.NoValue : none
  %w = "onnx.Constant"() {value = dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %c = "onnx.Conv"(%x, %w, %none) : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x2x2xf32>
  %scale = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %beta = "onnx.Constant"() {value = dense<[0.5, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %mean = "onnx.Constant"() {value = dense<[1.0, 3.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %var = "onnx.Constant"() {value = dense<[3.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.BatchNormalization"(%c, %scale, %beta, %mean, %var) {epsilon = 1.0 : f32} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// Not folded: the Conv's output is read by another op too, or the
// statistics are not constants.
// CHECK-LABEL: func @conv_read_twice
// CHECK: onnx.BatchNormalization
// CHECK-LABEL: func @run_time_mean
// CHECK: onnx.BatchNormalization
func.func @conv_read_twice(%x: tensor<1x1x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %none = onnx.NoValue : none
  %w = "onnx.Constant"() {value = dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %c = "onnx.Conv"(%x, %w, %none) : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x2x2xf32>
  %p = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.BatchNormalization"(%c, %p, %p, %p, %p) : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y, %c : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
func.func @run_time_mean(%x: tensor<1x1x2x2xf32>, %mean: tensor<2xf32>) -> tensor<1x2x2x2xf32> {
  %none = onnx.NoValue : none
  %w = "onnx.Constant"() {value = dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %c = "onnx.Conv"(%x, %w, %none) : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x2x2xf32>
  %p = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.BatchNormalization"(%c, %p, %p, %mean, %p) : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// A Gemm's (BatchNorm1d after a Linear layer): B transposed, so its rows
// are the output channels; the bias C likewise.
// CHECK-LABEL: func @gemm_norm
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.000000e+00, 5.000000e-01], [6.000000e+00, 8.000000e+00]]> : tensor<2x2xf32>}>
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense<[5.000000e-01, -8.000000e+00]> : tensor<2xf32>}>
// CHECK: "onnx.Gemm"(%arg0, %[[W]], %[[B]])
// CHECK-NOT: onnx.BatchNormalization
func.func @gemm_norm(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[2.0, 1.0], [3.0, 4.0]]> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %b = "onnx.Constant"() {value = dense<[1.0, -1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %g = "onnx.Gemm"(%x, %w, %b) {transB = 1 : i64} : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %scale = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %beta = "onnx.Constant"() {value = dense<[0.5, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %mean = "onnx.Constant"() {value = dense<[1.0, 3.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %var = "onnx.Constant"() {value = dense<[3.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.BatchNormalization"(%g, %scale, %beta, %mean, %var) {epsilon = 1.0 : f32} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// A ConvTranspose's: its weights [C, M, k] have the output channels second.
// CHECK-LABEL: func @conv_transpose_norm
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[\[}}1.000000e+00], [6.000000e+00]]]> : tensor<1x2x1xf32>}>
// CHECK: "onnx.ConvTranspose"(%arg0, %[[W]], %{{.*}})
// CHECK-NOT: onnx.BatchNormalization
func.func @conv_transpose_norm(%x: tensor<1x1x2xf32>) -> tensor<1x2x4xf32> {
  %none = onnx.NoValue : none
  %w = "onnx.Constant"() {value = dense<[[[2.0], [3.0]]]> : tensor<1x2x1xf32>} : () -> tensor<1x2x1xf32>
  %c = "onnx.ConvTranspose"(%x, %w, %none) {strides = [2], output_padding = [1]} : (tensor<1x1x2xf32>, tensor<1x2x1xf32>, none) -> tensor<1x2x4xf32>
  %scale = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %beta = "onnx.Constant"() {value = dense<[0.5, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %mean = "onnx.Constant"() {value = dense<[1.0, 3.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %var = "onnx.Constant"() {value = dense<[3.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.BatchNormalization"(%c, %scale, %beta, %mean, %var) {epsilon = 1.0 : f32} : (tensor<1x2x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4xf32>
  return %y : tensor<1x2x4xf32>
}
