// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Math family: broadcasting elementwise generics, Gemm with a weight
// transposed at compile time and the bias as the accumulator, Softmax.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @add_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]]
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %c = "onnx.Add"(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}

// CHECK-LABEL: func @gemm_transb
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 5.000000e+00], [2.000000e+00, 6.000000e+00], [3.000000e+00, 7.000000e+00], [4.000000e+00, 8.000000e+00]]> : tensor<4x2xf32>
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<1x4xf32>, tensor<4x2xf32>) outs(%[[ACC]]
func.func @gemm_transb(%a: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>} : () -> tensor<2x4xf32>
  %b = "onnx.Constant"() {value = dense<[0.5, 1.5]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.Gemm"(%a, %w, %b) {transB = 1 : i64} : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// CHECK-LABEL: func @matmul_batched
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x16x32xf32>, tensor<8x32x16xf32>)
func.func @matmul_batched(%a: tensor<2x4x16x32xf32>, %b: tensor<2x4x32x16xf32>) -> tensor<2x4x16x16xf32> {
  %y = "onnx.MatMul"(%a, %b) : (tensor<2x4x16x32xf32>, tensor<2x4x32x16xf32>) -> tensor<2x4x16x16xf32>
  return %y : tensor<2x4x16x16xf32>
}

// CHECK-LABEL: func @softmax
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %y = "onnx.Softmax"(%x) {axis = -1 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// CHECK-LABEL: func @reduce_mean
// CHECK: %[[N:.*]] = arith.constant 5.000000e+00
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: arith.divf %{{.*}}, %[[N]]
func.func @reduce_mean(%x: tensor<2x5xf32>) -> tensor<2x1xf32> {
  %y = "onnx.ReduceMean"(%x) {axes = [-1]} : (tensor<2x5xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}
