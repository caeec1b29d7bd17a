// RUN: kiln-opt %s --split-input-file --kiln-convert-onnx-to-linalg | FileCheck %s
// Control flow: bodies move into scf ops; carried values are copied into
// their iteration argument; scan elements are inserted slices; a Loop with
// scan outputs is bounded by their length and checked at run time.

// CHECK-LABEL: func @if
// CHECK: %[[C:.*]] = tensor.extract %{{.*}}[] : tensor<i1>
// CHECK: scf.if %[[C]] -> (tensor<2xf32>)
// CHECK:   linalg.generic
// CHECK:   scf.yield
// CHECK: } else {
// CHECK:   scf.yield %{{.*}} : tensor<2xf32>
func.func @if(%c: tensor<i1>, %a: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<2xf32> {
  %r = "onnx.If"(%c) ({
    %s = "onnx.Add"(%a, %b) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    onnx.Yield %s : tensor<2xf32>
  }, {
    onnx.Yield %b : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @scan
// CHECK: %[[N:.*]] = arith.constant 3 : index
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[S:.*]] = %{{.*}}, %[[OUT:.*]] = %{{.*}}) -> (tensor<2xf32>, tensor<3x2xf32>)
// CHECK:   tensor.extract_slice %{{.*}}[%[[I]], 0] [1, 2] [1, 1] : tensor<3x2xf32> to tensor<2xf32>
// CHECK:   %[[NEXT:.*]] = linalg.generic
// CHECK:   %[[COPY:.*]] = linalg.copy ins(%[[NEXT]] : tensor<2xf32>) outs(%[[S]] : tensor<2xf32>)
// CHECK:   %[[INS:.*]] = tensor.insert_slice %[[NEXT]] into %[[OUT]][%[[I]], 0] [1, 2] [1, 1]
// CHECK:   scf.yield %[[COPY]], %[[INS]]
func.func @scan(%init: tensor<2xf32>, %x: tensor<3x2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
  %r:2 = "onnx.Scan"(%init, %x) <{num_scan_inputs = 1 : i64}> ({
  ^bb0(%s: tensor<2xf32>, %e: tensor<2xf32>):
    %n = "onnx.Add"(%s, %e) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    onnx.Yield %n, %n : tensor<2xf32>, tensor<2xf32>
  }) : (tensor<2xf32>, tensor<3x2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>)
  return %r#0, %r#1 : tensor<2xf32>, tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func @loop
// CHECK: %[[M:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: %[[W:.*]]:4 = scf.while
// CHECK:   arith.cmpi slt, %{{.*}}, %[[M]] : i64
// CHECK:   arith.cmpi slt, %{{.*}}, %c4 : index
// CHECK:   scf.condition
// CHECK: } do {
// CHECK:   linalg.copy
// CHECK:   tensor.insert_slice
// CHECK:   scf.yield
// CHECK: arith.cmpi eq, %[[W]]#0, %c4
// CHECK: cf.assert %{{.*}}, "Loop: the number of iterations differs from the length of its scan outputs"
func.func @loop(%m: tensor<i64>, %y0: tensor<3xf32>) -> (tensor<3xf32>, tensor<4x3xf32>) {
  %none = onnx.NoValue : none
  %r:2 = "onnx.Loop"(%m, %none, %y0) ({
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %y: tensor<3xf32>):
    %n = "onnx.Add"(%y, %y) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    onnx.Yield %c, %n, %n : tensor<i1>, tensor<3xf32>, tensor<3xf32>
  }) : (tensor<i64>, none, tensor<3xf32>) -> (tensor<3xf32>, tensor<4x3xf32>)
  return %r#0, %r#1 : tensor<3xf32>, tensor<4x3xf32>
}
