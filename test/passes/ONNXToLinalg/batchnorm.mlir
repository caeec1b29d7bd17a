// RUN: kiln-opt %s --split-input-file --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// BatchNormalization in training mode: the batch mean and population
// variance reduced over N and the spatial dims normalise X, and the running
// statistics blend them into the inputs with momentum.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d1, 0, 0)>
// CHECK-LABEL: func @bn_training
// CHECK-DAG: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[COUNT:.*]] = arith.constant 4.000000e+01 : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[CH]]], iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%arg0 : tensor<2x3x4x5xf32>)
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<1x3x1x1xf32>)
// CHECK: arith.divf %{{.*}}, %[[COUNT]]
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}} ins(%arg0, %[[MEAN]] : tensor<2x3x4x5xf32>, tensor<1x3x1x1xf32>)
// CHECK: %[[VSUM:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%[[SQ]] : tensor<2x3x4x5xf32>)
// CHECK: %[[VAR:.*]] = linalg.generic {{.*}} ins(%[[VSUM]] : tensor<1x3x1x1xf32>)
// CHECK: %[[M:.*]] = tensor.collapse_shape %[[MEAN]] {{.*}} into tensor<3x1x1xf32>
// CHECK: %[[V:.*]] = tensor.collapse_shape %[[VAR]] {{.*}} into tensor<3x1x1xf32>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%arg0, %{{.*}}, %{{.*}}, %[[M]], %[[V]] :
// CHECK: math.sqrt
// CHECK: %[[M1:.*]] = tensor.collapse_shape %[[MEAN]] {{.*}} into tensor<3xf32>
// CHECK: %[[RM:.*]] = linalg.generic {{.*}} ins(%arg3, %[[M1]] : tensor<3xf32>, tensor<3xf32>)
// CHECK: arith.mulf %{{.*}}, %[[HALF]]
// CHECK: %[[V1:.*]] = tensor.collapse_shape %[[VAR]] {{.*}} into tensor<3xf32>
// CHECK: %[[RV:.*]] = linalg.generic {{.*}} ins(%arg4, %[[V1]] : tensor<3xf32>, tensor<3xf32>)
// CHECK: return %[[Y]], %[[RM]], %[[RV]]
func.func @bn_training(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) {
  %y, %rm, %rv = "onnx.BatchNormalization"(%x, %s, %b, %m, %v) {training_mode = 1 : i64, momentum = 0.5 : f32} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y, %rm, %rv : tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Inference mode reads the given statistics: no reduction.
// CHECK-LABEL: func @bn_inference
// CHECK-NOT: reduction
// CHECK: linalg.generic {{.*}} ins(%arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK: math.sqrt
func.func @bn_inference(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4x5xf32> {
  %y = "onnx.BatchNormalization"(%x, %s, %b, %m, %v) : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x5xf32>
  return %y : tensor<2x3x4x5xf32>
}
