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

// The condition is shorter than the axis: only its 2 entries are read.
// CHECK-LABEL: func @compress
// CHECK: %[[R:.*]]:2 = scf.for %[[I:.*]] = %c0 to %c2 {{.*}} -> (index, tensor<3x1xf32>)
// CHECK:   scf.if
// CHECK:     %[[S:.*]] = tensor.extract_slice %{{.*}}[0, %[[I]]] [3, 1] [1, 1] : tensor<3x4xf32> to tensor<3x1xf32>
// CHECK:     tensor.insert_slice %[[S]] into %{{.*}}[0, %{{.*}}] [3, 1] [1, 1]
// CHECK: cf.assert %{{.*}}, "Compress: the number of true conditions differs from the 1 the model declares"
func.func @compress(%x: tensor<3x4xf32>, %c: tensor<2xi1>) -> tensor<3x1xf32> {
  %y = "onnx.Compress"(%x, %c) {axis = -1 : i64} : (tensor<3x4xf32>, tensor<2xi1>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// Without an axis the input is flattened.
// CHECK-LABEL: func @compress_flat
// CHECK: tensor.collapse_shape %{{.*}} : tensor<3x2xi32> into tensor<6xi32>
// CHECK: scf.for {{.*}} -> (index, tensor<2xi32>)
// CHECK:   tensor.insert_slice %{{.*}} : tensor<1xi32> into tensor<2xi32>
// CHECK: cf.assert
func.func @compress_flat(%x: tensor<3x2xi32>, %c: tensor<5xi1>) -> tensor<2xi32> {
  %y = "onnx.Compress"(%x, %c) : (tensor<3x2xi32>, tensor<5xi1>) -> tensor<2xi32>
  return %y : tensor<2xi32>
}

// Per class: at most min(max_output_boxes_per_class, boxes) steps, each
// finding the best remaining candidate (score above the threshold), writing
// its row while there is room, then sweeping overlaps out. No iou_threshold:
// the default 0.
// CHECK-LABEL: func @nms
// CHECK: %[[M:.*]] = tensor.extract %{{.*}}[%c0] : tensor<1xi64>
// CHECK: %[[MI:.*]] = arith.index_cast %[[M]]
// CHECK: %[[LO:.*]] = arith.maxsi %[[MI]], %c0
// CHECK: %[[STEPS:.*]] = arith.minsi %[[LO]], %c6
// CHECK: %[[ST:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
// CHECK: %[[R:.*]]:2 = scf.for %[[C:.*]] = %c0 to %c2 {{.*}} -> (index, tensor<4x3xi64>)
// CHECK:   linalg.fill ins(%false : i1) outs(%{{.*}} : tensor<6xi1>)
// CHECK:   scf.for %{{.*}} = %c0 to %[[STEPS]] {{.*}} -> (i1, index, tensor<4x3xi64>, tensor<6xi1>)
// CHECK:     scf.if
// CHECK:       %[[BEST:.*]]:3 = scf.for {{.*}} -> (i1, index, f32)
// CHECK:         arith.cmpf ogt, %{{.*}}, %[[ST]]
// CHECK:       scf.if %[[BEST]]#0
// CHECK:         arith.cmpi slt, %{{.*}}, %c4
// CHECK:         scf.if
// CHECK-COUNT-3:   tensor.insert
// CHECK:         tensor.insert %true into %{{.*}}[%[[BEST]]#1]
// CHECK:         scf.for {{.*}} -> (tensor<6xi1>)
// CHECK:           arith.divf
// CHECK:           arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// CHECK: cf.assert %{{.*}}, "NonMaxSuppression: the number of selected boxes differs from the 4 the model declares"
func.func @nms(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<1xi64>, %st: tensor<f32>) -> tensor<4x3xi64> {
  %none = onnx.NoValue : none
  %y = "onnx.NonMaxSuppression"(%b, %s, %m, %none, %st) {center_point_box = 1 : i64} : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<1xi64>, none, tensor<f32>) -> tensor<4x3xi64>
  return %y : tensor<4x3xi64>
}
