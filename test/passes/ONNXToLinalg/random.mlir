// RUN: kiln-opt %s --split-input-file --kiln-convert-onnx-to-linalg | FileCheck %s
// Dropout: the identity at inference; in training mode one generic draws
// per element from a hash of the seed and the flat index, keeps the element
// when the draw is >= ratio, and scales it by 1 / (1 - ratio).

// CHECK-LABEL: func @inference
// CHECK-NOT: linalg.generic
// CHECK: return %arg0
func.func @inference(%x: tensor<4xf32>) -> tensor<4xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Dropout"(%x, %none, %none) : (tensor<4xf32>, none, none) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @training
// CHECK: %[[R:.*]] = tensor.extract %arg1[] : tensor<f32>
// CHECK: %[[T:.*]] = tensor.extract %arg2[] : tensor<i1>
// CHECK: %[[SCALE:.*]] = arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: linalg.generic
// CHECK:   linalg.index 0
// CHECK:   linalg.index 1
// CHECK:   arith.shrui
// CHECK:   %[[KEEP:.*]] = arith.cmpf oge, %{{.*}}, %[[R]] : f32
// CHECK:   arith.select %[[T]], %[[SCALE]]
// CHECK:   linalg.yield %{{.*}}, %{{.*}} : f32, i1
func.func @training(%x: tensor<3x4xf32>, %r: tensor<f32>, %t: tensor<i1>) -> (tensor<3x4xf32>, tensor<3x4xi1>) {
  %y, %m = "onnx.Dropout"(%x, %r, %t) <{seed = 3 : i64}> : (tensor<3x4xf32>, tensor<f32>, tensor<i1>) -> (tensor<3x4xf32>, tensor<3x4xi1>)
  return %y, %m : tensor<3x4xf32>, tensor<3x4xi1>
}
