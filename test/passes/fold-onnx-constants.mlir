// RUN: kiln-opt %s --kiln-fold-onnx-constants | FileCheck %s
// Shape subgraphs and weight transposes become constants; dead ops go.

// CHECK-LABEL: func @shape_chain
func.func @shape_chain(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  // CHECK: %[[C:.*]] = "onnx.Constant"() <{value = dense<[3, 4]> : tensor<2xi64>}>
  // CHECK-NOT: onnx.Shape
  // CHECK-NOT: onnx.Gather
  // CHECK: return %[[C]]
  %s = "onnx.Shape"(%x) : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %i = "onnx.Constant"() {value = dense<[1, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
  %g = "onnx.Gather"(%s, %i) {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %g : tensor<2xi64>
}

// CHECK-LABEL: func @concat_mul
func.func @concat_mul() -> tensor<3xi64> {
  // CHECK: "onnx.Constant"() <{value = dense<[2, 4, 6]> : tensor<3xi64>}>
  %a = "onnx.Constant"() {value = dense<[1, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
  %b = "onnx.Constant"() {value = dense<[3]> : tensor<1xi64>} : () -> tensor<1xi64>
  %c = "onnx.Concat"(%a, %b) {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %two = "onnx.Constant"() {value = dense<2> : tensor<i64>} : () -> tensor<i64>
  %m = "onnx.Mul"(%c, %two) : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  return %m : tensor<3xi64>
}

// CHECK-LABEL: func @transpose_weight
func.func @transpose_weight() -> tensor<3x2xf32> {
  // CHECK: "onnx.Constant"() <{value = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>}>
  %w = "onnx.Constant"() {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %t = "onnx.Transpose"(%w) {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %t : tensor<3x2xf32>
}

// CHECK-LABEL: func @not_constant
func.func @not_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: onnx.Relu
  %y = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// The shared evaluator covers what exporters emit for masks and positions:
// Range, ConstantOfShape, Trilu, Equal and Where.
// CHECK-LABEL: func @causal_mask
func.func @causal_mask() -> tensor<3x3xf32> {
  // CHECK: "onnx.Constant"() <{value = dense<{{\[}}[0.000000e+00, 0xFF800000, 0xFF800000], [0.000000e+00, 0.000000e+00, 0xFF800000], [0.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<3x3xf32>}>
  // CHECK-NOT: onnx.Trilu
  // CHECK-NOT: onnx.Where
  %shape = "onnx.Constant"() {value = dense<3> : tensor<2xi64>} : () -> tensor<2xi64>
  %ones = "onnx.ConstantOfShape"(%shape) {value = dense<true> : tensor<1xi1>} : (tensor<2xi64>) -> tensor<3x3xi1>
  %k = "onnx.Constant"() {value = dense<1> : tensor<i64>} : () -> tensor<i64>
  %mask = "onnx.Trilu"(%ones, %k) {upper = 1 : i64} : (tensor<3x3xi1>, tensor<i64>) -> tensor<3x3xi1>
  %inf = "onnx.Constant"() {value = dense<0xFF800000> : tensor<f32>} : () -> tensor<f32>
  %zero = "onnx.Constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
  %m = "onnx.Where"(%mask, %inf, %zero) : (tensor<3x3xi1>, tensor<f32>, tensor<f32>) -> tensor<3x3xf32>
  return %m : tensor<3x3xf32>
}

// CHECK-LABEL: func @range_split
func.func @range_split() -> (tensor<1xi64>, tensor<3xi64>) {
  // CHECK-DAG: "onnx.Constant"() <{value = dense<0> : tensor<1xi64>}>
  // CHECK-DAG: "onnx.Constant"() <{value = dense<[2, 4, 6]> : tensor<3xi64>}>
  // CHECK-NOT: onnx.Split
  %a = "onnx.Constant"() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
  %b = "onnx.Constant"() {value = dense<8> : tensor<i64>} : () -> tensor<i64>
  %c = "onnx.Constant"() {value = dense<2> : tensor<i64>} : () -> tensor<i64>
  %r = "onnx.Range"(%a, %b, %c) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %s = "onnx.Constant"() {value = dense<[1, 3]> : tensor<2xi64>} : () -> tensor<2xi64>
  %p:2 = "onnx.Split"(%r, %s) {axis = 0 : i64} : (tensor<4xi64>, tensor<2xi64>) -> (tensor<1xi64>, tensor<3xi64>)
  return %p#0, %p#1 : tensor<1xi64>, tensor<3xi64>
}

// A float op folds when it does not grow its data; broadcasting a float
// weight stays an op (it would add weight bytes the code does not need).
// CHECK-LABEL: func @float_growth
func.func @float_growth() -> (tensor<2xf32>, tensor<4x2xf32>) {
  // CHECK-DAG: "onnx.Constant"() <{value = dense<[0.000000e+00, 0.693147182]> : tensor<2xf32>}>
  // CHECK-DAG: "onnx.Expand"
  %w = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %l = "onnx.Log"(%w) : (tensor<2xf32>) -> tensor<2xf32>
  %shape = "onnx.Constant"() {value = dense<[4, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
  %e = "onnx.Expand"(%w, %shape) : (tensor<2xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return %l, %e : tensor<2xf32>, tensor<4x2xf32>
}
