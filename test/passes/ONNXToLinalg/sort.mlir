// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Reordering family: TopK as K selection passes per slice in scf.for nests
// carrying the outputs, a run-time K checked against the static shape;
// ReverseSequence as one gathering generic with a clamped time index.

// CHECK-LABEL: func @top_k
// CHECK: %[[K:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[K]], %c3_i64
// CHECK: cf.assert %[[OK]], "TopK: K does not match the static output shape"
// CHECK: scf.for {{.*}} to %c3
// CHECK: scf.for {{.*}} to %c3
// CHECK: scf.for {{.*}} to %c4
// CHECK: arith.cmpf ogt
// CHECK: tensor.insert
// CHECK: arith.index_cast
// CHECK: tensor.insert
func.func @top_k(%x: tensor<3x4xf32>, %k: tensor<1xi64>) -> (tensor<3x3xf32>, tensor<3x3xi64>) {
  %v, %i = "onnx.TopK"(%x, %k) {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x3xf32>, tensor<3x3xi64>)
  return %v, %i : tensor<3x3xf32>, tensor<3x3xi64>
}

// A constant K is checked at compile time; smallest-first unsigned compares.
// CHECK-LABEL: func @top_k_smallest_unsigned
// CHECK-NOT: cf.assert
// CHECK: arith.cmpi ult
func.func @top_k_smallest_unsigned(%x: tensor<5x2xi8>) -> (tensor<2x2xi8>, tensor<2x2xi64>) {
  %k = "onnx.Constant"() {value = dense<2> : tensor<1xi64>} : () -> tensor<1xi64>
  %v, %i = "onnx.TopK"(%x, %k) {axis = 0 : i64, largest = 0 : i64, kiln.unsigned_operands = array<i1: true, false>, kiln.unsigned_results = array<i1: true, false>} : (tensor<5x2xi8>, tensor<1xi64>) -> (tensor<2x2xi8>, tensor<2x2xi64>)
  return %v, %i : tensor<2x2xi8>, tensor<2x2xi64>
}

// CHECK-LABEL: func @reverse_sequence
// CHECK: linalg.generic
// CHECK: arith.andi
// CHECK: cf.assert %{{.*}}, "ReverseSequence: a sequence length is outside [0, time steps]"
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<4xi64>)
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract
func.func @reverse_sequence(%x: tensor<4x4xf32>, %lens: tensor<4xi64>) -> tensor<4x4xf32> {
  %y = "onnx.ReverseSequence"(%x, %lens) {batch_axis = 0 : i64, time_axis = 1 : i64} : (tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}
