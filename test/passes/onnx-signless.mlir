// RUN: kiln-opt %s --kiln-onnx-signless | FileCheck %s
// Unsigned element types become signless; ops that saw them say so.

// CHECK-LABEL: func @div
// CHECK-SAME: (%{{.*}}: tensor<4xi8>, %{{.*}}: tensor<4xi8>) -> tensor<4xi8>
// CHECK: "onnx.Div"{{.*}} {kiln.unsigned_operands = array<i1: true, true>, kiln.unsigned_results = array<i1: true>}
// CHECK-SAME: (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
func.func @div(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  %c = "onnx.Div"(%a, %b) : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %c : tensor<4xui8>
}

// CHECK-LABEL: func @cast_and_constant
// CHECK: "onnx.Constant"() <{value = dense<-1> : tensor<2xi8>}>
// CHECK: "onnx.Cast"{{.*}} {kiln.unsigned_operands = array<i1: true>, kiln.unsigned_results = array<i1: false>}
func.func @cast_and_constant() -> tensor<2xf32> {
  %k = "onnx.Constant"() {value = dense<255> : tensor<2xui8>} : () -> tensor<2xui8>
  %f = "onnx.Cast"(%k) {to = 1 : i64} : (tensor<2xui8>) -> tensor<2xf32>
  return %f : tensor<2xf32>
}

// CHECK-LABEL: func @signed
// CHECK-NOT: kiln.unsigned
func.func @signed(%a: tensor<4xi8>) -> tensor<4xi8> {
  %c = "onnx.Neg"(%a) : (tensor<4xi8>) -> tensor<4xi8>
  return %c : tensor<4xi8>
}
