// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Data-dependent output sizes: the count is found at run time, writes past
// the declared length are skipped (scf.if), and cf.assert checks the count.

// CHECK-LABEL: func @nonzero
// CHECK: tensor.collapse_shape %{{.*}} : tensor<2x3xf32> into tensor<6xf32>
// CHECK: %[[R:.*]]:2 = scf.for {{.*}} -> (index, tensor<2x4xi64>)
// CHECK:   arith.cmpf une
// CHECK:   arith.cmpi slt, %{{.*}}, %c4
// CHECK:   scf.if %{{.*}} -> (tensor<2x4xi64>)
// CHECK:     tensor.insert
// CHECK:     tensor.insert
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[R]]#0, %c4
// CHECK: cf.assert %[[OK]], "NonZero: the number of non-zero elements differs from the 4 the model declares"
// CHECK: return %[[R]]#1
func.func @nonzero(%x: tensor<2x3xf32>) -> tensor<2x4xi64> {
  %y = "onnx.NonZero"(%x) : (tensor<2x3xf32>) -> tensor<2x4xi64>
  return %y : tensor<2x4xi64>
}
