// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Data-dependent output sizes: the count is found at run time and checked
// with cf.assert. Outputs are built one slot longer than declared; entries
// that are not selected, or past the declared count, go to that spare slot,
// so every write is in bounds and unconditional. The declared part is sliced
// off at the end.

// CHECK-LABEL: func @nonzero
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} : tensor<2x3xf32> into tensor<6xf32>
// CHECK: %[[INIT:.*]] = linalg.fill {{.*}} -> tensor<2x5xi64>
// CHECK: %[[R:.*]]:2 = scf.for %[[I:.*]] = %c0 to %c6 {{.*}} iter_args(%[[N:.*]] = %c0, %{{.*}} = %[[INIT]]) -> (index, tensor<2x5xi64>)
// CHECK:   %[[NZ:.*]] = arith.cmpf une
// CHECK:   %[[MIN:.*]] = arith.minui %[[N]], %c4
// CHECK:   %[[SLOT:.*]] = arith.select %[[NZ]], %[[MIN]], %c4
// CHECK:   tensor.insert %{{.*}}[%c0, %[[SLOT]]]
// CHECK:   tensor.insert %{{.*}}[%c1, %[[SLOT]]]
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[R]]#0, %c4
// CHECK: cf.assert %[[OK]], "NonZero: the number of non-zero elements differs from the 4 the model declares"
// CHECK: %[[Y:.*]] = tensor.extract_slice %[[R]]#1[0, 0] [2, 4] [1, 1] : tensor<2x5xi64> to tensor<2x4xi64>
// CHECK: return %[[Y]]
func.func @nonzero(%x: tensor<2x3xf32>) -> tensor<2x4xi64> {
  %y = "onnx.NonZero"(%x) : (tensor<2x3xf32>) -> tensor<2x4xi64>
  return %y : tensor<2x4xi64>
}

// The condition is shorter than the axis: only its 2 entries are read.
// CHECK-LABEL: func @compress
// CHECK: %[[R:.*]]:2 = scf.for %[[I:.*]] = %c0 to %c2 {{.*}} -> (index, tensor<3x2xf32>)
// CHECK:   %[[S:.*]] = tensor.extract_slice %{{.*}}[0, %[[I]]] [3, 1] [1, 1] : tensor<3x4xf32> to tensor<3x1xf32>
// CHECK:   %[[SLOT:.*]] = arith.select
// CHECK:   tensor.insert_slice %[[S]] into %{{.*}}[0, %[[SLOT]]] [3, 1] [1, 1] : tensor<3x1xf32> into tensor<3x2xf32>
// CHECK: cf.assert %{{.*}}, "Compress: the number of true conditions differs from the 1 the model declares"
// CHECK: tensor.extract_slice %[[R]]#1[0, 0] [3, 1] [1, 1] : tensor<3x2xf32> to tensor<3x1xf32>
func.func @compress(%x: tensor<3x4xf32>, %c: tensor<2xi1>) -> tensor<3x1xf32> {
  %y = "onnx.Compress"(%x, %c) {axis = -1 : i64} : (tensor<3x4xf32>, tensor<2xi1>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// Without an axis the input is flattened.
// CHECK-LABEL: func @compress_flat
// CHECK: tensor.collapse_shape %{{.*}} : tensor<3x2xi32> into tensor<6xi32>
// CHECK: scf.for {{.*}} -> (index, tensor<3xi32>)
// CHECK:   tensor.insert_slice %{{.*}} : tensor<1xi32> into tensor<3xi32>
// CHECK: cf.assert
func.func @compress_flat(%x: tensor<3x2xi32>, %c: tensor<5xi1>) -> tensor<2xi32> {
  %y = "onnx.Compress"(%x, %c) : (tensor<3x2xi32>, tensor<5xi1>) -> tensor<2xi32>
  return %y : tensor<2xi32>
}

// Per class: at most min(max_output_boxes_per_class, boxes) steps, each
// finding the best remaining candidate (score above the threshold), writing
// its row (or the spare row), then sweeping overlaps out. Once a step finds
// nothing, later scans are empty. No iou_threshold: the default 0.
// CHECK-LABEL: func @nms
// CHECK: %[[M:.*]] = tensor.extract %{{.*}}[%c0] : tensor<1xi64>
// CHECK: %[[MI:.*]] = arith.index_cast %[[M]]
// CHECK: %[[LO:.*]] = arith.maxsi %[[MI]], %c0
// CHECK: %[[STEPS:.*]] = arith.minsi %[[LO]], %c6
// CHECK: %[[ST:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
// CHECK: %[[R:.*]]:2 = scf.for %[[C:.*]] = %c0 to %c2 {{.*}} -> (index, tensor<5x3xi64>)
// CHECK:   linalg.fill ins(%false : i1) outs(%{{.*}} : tensor<6xi1>)
// CHECK:   scf.for %{{.*}} = %c0 to %[[STEPS]] {{.*}} iter_args(%[[MORE:.*]] = %true, {{.*}}) -> (i1, index, tensor<5x3xi64>, tensor<6xi1>)
// CHECK:     %[[SCAN:.*]] = arith.select %[[MORE]], %c6, %c0
// CHECK:     %[[BEST:.*]]:3 = scf.for %{{.*}} = %c0 to %[[SCAN]] {{.*}} -> (i1, index, f32)
// CHECK:       arith.cmpf ogt, %{{.*}}, %[[ST]]
// CHECK:     %[[SLOT:.*]] = arith.select %[[BEST]]#0, %{{.*}}, %c4
// CHECK-COUNT-3: tensor.insert %{{.*}}[%[[SLOT]], %c{{[0-2]}}]
// CHECK:     %[[SWEEP:.*]] = arith.select %[[BEST]]#0, %c6, %c0
// CHECK:     scf.for %{{.*}} = %c0 to %[[SWEEP]] {{.*}} -> (tensor<6xi1>)
// CHECK:       arith.divf
// CHECK: cf.assert %{{.*}}, "NonMaxSuppression: the number of selected boxes differs from the 4 the model declares"
// CHECK: tensor.extract_slice %[[R]]#1[0, 0] [4, 3] [1, 1] : tensor<5x3xi64> to tensor<4x3xi64>
func.func @nms(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<1xi64>, %st: tensor<f32>) -> tensor<4x3xi64> {
  %none = onnx.NoValue : none
  %y = "onnx.NonMaxSuppression"(%b, %s, %m, %none, %st) {center_point_box = 1 : i64} : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<1xi64>, none, tensor<f32>) -> tensor<4x3xi64>
  return %y : tensor<4x3xi64>
}

// Slices along axis 1 become rows of a [4, 4] tensor compared
// lexicographically (a loop over the columns); Y is transposed back.
// CHECK-LABEL: func @unique_axis
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<2x4x2xf32>) {{.*}} permutation = [1, 0, 2]
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[T]] {{.*}} into tensor<4x4xf32>
// First occurrences:
// CHECK: %[[FIRST:.*]] = scf.for {{.*}} -> (tensor<4xindex>)
// CHECK:   scf.for {{.*}} -> (i1, index)
// CHECK:     scf.for {{.*}} -> (i1, i1)
// CHECK:       arith.cmpf olt
// CHECK:       arith.cmpf oeq
// Sorted positions, counted for first occurrences only:
// CHECK: %[[POS:.*]]:2 = scf.for {{.*}} -> (index, tensor<4xindex>)
// CHECK:   scf.if %{{.*}} -> (index)
// Outputs:
// CHECK: %[[OUT:.*]]:4 = scf.for {{.*}} -> (tensor<4x4xf32>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>)
// CHECK:   tensor.insert_slice %{{.*}} : tensor<1x4xf32> into tensor<4x4xf32>
// CHECK: cf.assert %{{.*}}, "Unique: the number of unique slices differs from the 3 the model declares"
// CHECK: %[[E:.*]] = tensor.expand_shape %{{.*}} : tensor<3x4xf32> into tensor<3x2x2xf32>
// CHECK: %[[Y:.*]] = linalg.transpose ins(%[[E]] : tensor<3x2x2xf32>) {{.*}} permutation = [1, 0, 2]
// CHECK: return %[[Y]], %{{.*}}, %[[OUT]]#2, %{{.*}}
func.func @unique_axis(%x: tensor<2x4x2xf32>) -> (tensor<2x3x2xf32>, tensor<3xi64>, tensor<4xi64>, tensor<3xi64>) {
  %y, %i, %inv, %c = "onnx.Unique"(%x) {axis = 1 : i64, sorted = 1 : i64} : (tensor<2x4x2xf32>) -> (tensor<2x3x2xf32>, tensor<3xi64>, tensor<4xi64>, tensor<3xi64>)
  return %y, %i, %inv, %c : tensor<2x3x2xf32>, tensor<3xi64>, tensor<4xi64>, tensor<3xi64>
}

// Unsigned values compare unsigned.
// CHECK-LABEL: func @unique_unsigned
// CHECK: arith.cmpi ult
// CHECK: cf.assert %{{.*}}, "Unique: the number of unique values differs from the 4 the model declares"
func.func @unique_unsigned(%x: tensor<6xi8>) -> (tensor<4xi8>, tensor<4xi64>, tensor<6xi64>, tensor<4xi64>) {
  %y, %i, %inv, %c = "onnx.Unique"(%x) {sorted = 1 : i64, kiln.unsigned_operands = array<i1: true>} : (tensor<6xi8>) -> (tensor<4xi8>, tensor<4xi64>, tensor<6xi64>, tensor<4xi64>)
  return %y, %i, %inv, %c : tensor<4xi8>, tensor<4xi64>, tensor<6xi64>, tensor<4xi64>
}
