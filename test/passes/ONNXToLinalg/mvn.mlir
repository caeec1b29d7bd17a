// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// MeanVarianceNormalization: two reductions over the axes (default [0, 2,
// 3]), the mean and the mean squared deviation, then
// (x - mean) / (sqrt(var) + 1e-9); f16 is computed in f32.

// CHECK-LABEL: func @mvn
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: arith.divf
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: math.sqrt
// CHECK: arith.addf %{{.*}}, %cst
// CHECK: arith.divf
func.func @mvn(%x: tensor<3x3x3x1xf32>) -> tensor<3x3x3x1xf32> {
  %y = "onnx.MeanVarianceNormalization"(%x) : (tensor<3x3x3x1xf32>) -> tensor<3x3x3x1xf32>
  return %y : tensor<3x3x3x1xf32>
}

// CHECK-LABEL: func @mvn_f16_last_axis
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @mvn_f16_last_axis(%x: tensor<2x8xf16>) -> tensor<2x8xf16> {
  %y = "onnx.MeanVarianceNormalization"(%x) {axes = [-1]} : (tensor<2x8xf16>) -> tensor<2x8xf16>
  return %y : tensor<2x8xf16>
}
