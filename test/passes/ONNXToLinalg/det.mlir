// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Det: LU with partial pivoting in scf.for loops (pivot search, row swap,
// elimination) carrying the matrices (f32 ones as they are: bufferization
// copies the read-only input before the first write), the determinant the
// product of the pivots with a sign flip per swap.

// CHECK-LABEL: func @det
// CHECK: scf.for %[[B:.*]] = %c0 to %c3 {{.*}} iter_args(%{{.*}} = %arg0
// CHECK: scf.for %[[K:.*]] = %c0 to %c2
// CHECK: scf.for %{{.*}} = %[[K]] to %c2
// CHECK: math.absf
// CHECK: arith.cmpf ogt
// CHECK: scf.for %{{.*}} = %[[K]] to %c2
// CHECK: tensor.insert
// CHECK: tensor.insert
// CHECK: arith.negf
// CHECK: arith.mulf
// CHECK: arith.cmpf oeq
// CHECK: arith.divf
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.subf
// CHECK: tensor.insert
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%[[B]]] : tensor<3xf32>
func.func @det(%x: tensor<3x2x2xf32>) -> tensor<3xf32> {
  %y = "onnx.Det"(%x) : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// f16 is factorised in f32 and truncated at the end.
// CHECK-LABEL: func @det_f16
// CHECK: arith.extf
// CHECK: scf.for
// CHECK: arith.truncf
// CHECK: tensor.collapse_shape %{{.*}} [] : tensor<1xf16> into tensor<f16>
func.func @det_f16(%x: tensor<4x4xf16>) -> tensor<f16> {
  %y = "onnx.Det"(%x) : (tensor<4x4xf16>) -> tensor<f16>
  return %y : tensor<f16>
}
