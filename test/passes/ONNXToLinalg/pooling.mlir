// RUN: kiln-opt %s --split-input-file --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Pooling (Max, Average, Lp, their Global forms, MaxUnpool): 2-d float
// Max/Average pools use linalg's named NCHW ops; other spatial ranks
// and integer max pools one generic with the window loops innermost;
// MaxPool's Indices are a min-reduction of the matching flat indices.

// CHECK-LABEL: func @maxpool_2d
// CHECK: linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
func.func @maxpool_2d(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

// CHECK-DAG: #[[X1:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 + d3)>
// CHECK-DAG: #[[K1:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func @maxpool_1d
// CHECK: %[[NEG:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[NEG]] : f32)
// CHECK: linalg.generic {indexing_maps = [#[[X1]], #[[K1]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<1x3x32xf32>, tensor<2xf32>) outs(%[[INIT]] : tensor<1x3x31xf32>)
// CHECK: arith.maximumf
func.func @maxpool_1d(%x: tensor<1x3x32xf32>) -> tensor<1x3x31xf32> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [2]} : (tensor<1x3x32xf32>) -> tensor<1x3x31xf32>
  return %y : tensor<1x3x31xf32>
}

// -----

// Unsigned: padding is 0, the max unsigned.
// CHECK-LABEL: func @maxpool_u8
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i8
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZERO]] : i8
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.maxui
func.func @maxpool_u8(%x: tensor<1x1x5x5xi8>) -> tensor<1x1x5x5xi8> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [3, 3], pads = [1, 1, 1, 1], kiln.unsigned_operands = array<i1: true>} : (tensor<1x1x5x5xi8>) -> tensor<1x1x5x5xi8>
  return %y : tensor<1x1x5x5xi8>
}

// -----

// Signed: padding is the lowest i8.
// CHECK-LABEL: func @maxpool_i8
// CHECK: arith.constant -128 : i8
// CHECK: arith.maxsi
func.func @maxpool_i8(%x: tensor<1x1x5x5xi8>) -> tensor<1x1x5x5xi8> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x1x5x5xi8>) -> tensor<1x1x5x5xi8>
  return %y : tensor<1x1x5x5xi8>
}

// -----

// 3-d average: a sum generic, then a division by the compile-time table of
// window sizes (count_include_pad=0 counts only elements inside the input).
// CHECK-LABEL: func @avgpool_3d
// CHECK: %[[DIV:.*]] = arith.constant dense<{{\[\[\[}}8.000000e+00, 1.200000e+01], [1.200000e+01, 1.800000e+01]], {{\[\[}}1.200000e+01, 1.800000e+01], [1.800000e+01, 2.700000e+01]]]> : tensor<2x2x2xf32>
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1, 1] high[0, 0, 0, 0, 0]
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %[[DIV]] : tensor<1x2x2x2x2xf32>, tensor<2x2x2xf32>)
// CHECK: arith.divf
func.func @avgpool_3d(%x: tensor<1x2x4x4x4xf32>) -> tensor<1x2x2x2x2xf32> {
  %y = "onnx.AveragePool"(%x) {kernel_shape = [3, 3, 3], strides = [2, 2, 2], pads = [1, 1, 1, 0, 0, 0]} : (tensor<1x2x4x4x4xf32>) -> tensor<1x2x2x2x2xf32>
  return %y : tensor<1x2x2x2x2xf32>
}

// -----

// Indices: the smallest row-major flat index (inside X) whose value equals
// the max, then re-flattened column-major for storage_order=1.
// CHECK-LABEL: func @maxpool_argmax
// CHECK-DAG: %[[SENT:.*]] = arith.constant 9223372036854775807 : i64
// CHECK: %[[Y:.*]] = linalg.pooling_nchw_max
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[SENT]] : i64)
// CHECK: %[[FIRST:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.*}}, %{{.*}}, %[[Y]] : tensor<1x1x5x5xf32>, tensor<2x2xf32>, tensor<1x1x2x2xf32>) outs(%[[INIT]] : tensor<1x1x2x2xi64>)
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: arith.minsi
// CHECK: %[[COL:.*]] = linalg.generic {{.*}} ins(%[[FIRST]] : tensor<1x1x2x2xi64>)
// CHECK: arith.divsi
// CHECK: arith.remsi
// CHECK: return %[[Y]], %[[COL]]
func.func @maxpool_argmax(%x: tensor<1x1x5x5xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) {
  %y, %i = "onnx.MaxPool"(%x) {kernel_shape = [2, 2], strides = [2, 2], storage_order = 1} : (tensor<1x1x5x5xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  return %y, %i : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>
}

// -----

// CHECK-LABEL: func @globalmaxpool_u8
// CHECK: arith.maxui
func.func @globalmaxpool_u8(%x: tensor<1x2x3x3xi8>) -> tensor<1x2x1x1xi8> {
  %y = "onnx.GlobalMaxPool"(%x) {kiln.unsigned_operands = array<i1: true>} : (tensor<1x2x3x3xi8>) -> tensor<1x2x1x1xi8>
  return %y : tensor<1x2x1x1xi8>
}

// -----

// MaxUnpool: one loop over X inserting each value at its index, taken as
// coordinates in the inferred 4x4 plane and re-flattened in the 5x5 output;
// a run-time output_shape is checked against the static shape.
// CHECK-LABEL: func @maxunpool
// CHECK: cf.assert %{{.*}}, "MaxUnpool: output_shape differs from the static shape"
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<25xf32>)
// CHECK: scf.for %[[J:.*]] = %c0 to %c4 step %c1 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (tensor<25xf32>)
// CHECK: %[[V:.*]] = tensor.extract %{{.*}}[%[[J]]] : tensor<4xf32>
// CHECK: %[[I:.*]] = tensor.extract %{{.*}}[%[[J]]] : tensor<4xi64>
// CHECK: arith.minsi %{{.*}}, %c15
// CHECK: arith.divui %{{.*}}, %c4
// CHECK: arith.muli %{{.*}}, %c5
// CHECK: cf.assert %{{.*}}, "MaxUnpool: an index is outside the unpooled tensor"
// CHECK: tensor.insert %[[V]] into %[[ACC]]
func.func @maxunpool(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>, %s: tensor<4xi64>) -> tensor<1x1x5x5xf32> {
  %y = "onnx.MaxUnpool"(%x, %i, %s) {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, tensor<4xi64>) -> tensor<1x1x5x5xf32>
  return %y : tensor<1x1x5x5xf32>
}

// -----

// LpPool: the window sum of |x|^p in a generic, then the p-th root.
// CHECK-LABEL: func @lppool_p3
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: math.absf
// CHECK: math.powf
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<1x2x3x3xf32>)
// CHECK: math.powf %{{.*}}, %{{.*}} : f32
func.func @lppool_p3(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x3x3xf32> {
  %y = "onnx.LpPool"(%x) {kernel_shape = [2, 2], p = 3 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

// GlobalLpPool: one window over every spatial dim; p = 2 squares and takes
// the square root.
// CHECK-LABEL: func @globallppool
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: arith.mulf
// CHECK: math.sqrt
func.func @globallppool(%x: tensor<1x2x3x4x5xf32>) -> tensor<1x2x1x1x1xf32> {
  %y = "onnx.GlobalLpPool"(%x) : (tensor<1x2x3x4x5xf32>) -> tensor<1x2x1x1x1xf32>
  return %y : tensor<1x2x1x1x1xf32>
}
