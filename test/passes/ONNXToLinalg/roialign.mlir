// RUN: kiln-opt %s -split-input-file --kiln-convert-onnx-to-linalg --canonicalize -verify-diagnostics | FileCheck %s
// RoiAlign: the batch indices checked in an scf.for, then one generic over
// the output whose body clamps the batch index and samples X bilinearly in
// an scf.for nest over the bin's sampling grid.

// CHECK-LABEL: func @roialign_avg
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x10x10xf32>, %[[ROIS:.*]]: tensor<4x4xf32>, %[[BI:.*]]: tensor<4xi64>)
// CHECK: scf.for
// CHECK:   %[[B:.*]] = tensor.extract %[[BI]]
// CHECK:   arith.cmpi sge, %[[B]]
// CHECK:   arith.cmpi slt, %[[B]]
// CHECK:   cf.assert %{{.*}}, "RoiAlign: batch index out of range"
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<4x3x5x5xf32>)
// CHECK:   tensor.extract %[[ROIS]]
// CHECK:   %[[BR:.*]] = tensor.extract %[[BI]]
// CHECK:   arith.maxsi %[[BR]]
// CHECK:   arith.minsi
// A fixed sampling_ratio: a 2 x 2 grid.
// CHECK:   scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args
// CHECK:     scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args
// CHECK-COUNT-4: tensor.extract %[[X]]
// CHECK:       arith.select
// CHECK:       arith.addf
// CHECK:       scf.yield
// The sum over the grid divided by its 4 samples.
// CHECK:   arith.divf %{{.*}}, %cst
// CHECK:   linalg.yield
func.func @roialign_avg(%x: tensor<2x3x10x10xf32>, %rois: tensor<4x4xf32>, %bi: tensor<4xi64>) -> tensor<4x3x5x5xf32> {
  %y = "onnx.RoiAlign"(%x, %rois, %bi) {output_height = 5 : i64, output_width = 5 : i64, sampling_ratio = 2 : i64} : (tensor<2x3x10x10xf32>, tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x3x5x5xf32>
  return %y : tensor<4x3x5x5xf32>
}

// -----

// sampling_ratio 0: the grid is ceil(bin size) at run time; "max" keeps the
// largest weighted corner, 0 when the grid is empty; f16 computes in f32.
// CHECK-LABEL: func @roialign_max_adaptive
// CHECK: linalg.generic
// CHECK:   arith.maximumf
// CHECK:   %[[GH:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK:   math.ceil
// CHECK:   %[[GW:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK:   scf.for %{{.*}} = %c0 to %[[GH]] step %c1 iter_args(%{{.*}} = %cst{{.*}}) -> (f32)
// CHECK:     scf.for %{{.*}} = %c0 to %[[GW]] step %c1 iter_args
// CHECK:       arith.extf %{{.*}} : f16 to f32
// CHECK:       arith.maximumf
// CHECK:       arith.maximumf
// CHECK:       arith.maximumf
// CHECK:       arith.select
// CHECK:       arith.maximumf
// CHECK:   arith.cmpi sgt, %[[GH]], %c0
// CHECK:   arith.cmpi sgt, %[[GW]], %c0
// CHECK:   arith.select
// CHECK:   arith.truncf %{{.*}} : f32 to f16
func.func @roialign_max_adaptive(%x: tensor<1x1x8x8xf16>, %rois: tensor<2x4xf16>, %bi: tensor<2xi64>) -> tensor<2x1x2x3xf16> {
  %y = "onnx.RoiAlign"(%x, %rois, %bi) {mode = "max", output_height = 2 : i64, output_width = 3 : i64, coordinate_transformation_mode = "output_half_pixel", spatial_scale = 0.5 : f32} : (tensor<1x1x8x8xf16>, tensor<2x4xf16>, tensor<2xi64>) -> tensor<2x1x2x3xf16>
  return %y : tensor<2x1x2x3xf16>
}

// -----

func.func @roialign_bad_mode(%x: tensor<1x1x8x8xf32>, %rois: tensor<2x4xf32>, %bi: tensor<2xi64>) -> tensor<2x1x1x1xf32> {
  // expected-error @+1 {{RoiAlign mode 'min' is not avg or max}}
  %y = "onnx.RoiAlign"(%x, %rois, %bi) {mode = "min"} : (tensor<1x1x8x8xf32>, tensor<2x4xf32>, tensor<2xi64>) -> tensor<2x1x1x1xf32>
  return %y : tensor<2x1x1x1xf32>
}
