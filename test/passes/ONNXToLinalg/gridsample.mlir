// RUN: kiln-opt %s --split-input-file --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// GridSample: one generic over the output reads the grid's x and y planes,
// maps them to pixel coordinates and gathers X with tensor.extract at
// clamped indices, selecting zero for taps outside the image.

// Nearest with reflection: fold at the pixel edges (align_corners=0), clip,
// round half to even, then one tap.
// CHECK-DAG: #[[PLANE:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-LABEL: func @gridsample_nearest_reflection
// CHECK: %[[GX:.*]] = tensor.extract_slice %arg1[0, 0, 0, 0] [1, 3, 5, 1] [1, 1, 1, 1] : tensor<1x3x5x2xf32> to tensor<1x3x5xf32>
// CHECK: %[[GY:.*]] = tensor.extract_slice %arg1[0, 0, 0, 1] [1, 3, 5, 1] [1, 1, 1, 1] : tensor<1x3x5x2xf32> to tensor<1x3x5xf32>
// CHECK: linalg.generic {indexing_maps = [#[[PLANE]], #[[PLANE]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[GX]], %[[GY]] : tensor<1x3x5xf32>, tensor<1x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x5xf32>)
// CHECK: math.absf
// CHECK: arith.remf
// CHECK: math.floor
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
// CHECK: math.roundeven
// CHECK: math.roundeven
// CHECK: arith.fptosi
// CHECK: %[[V:.*]] = tensor.extract %arg0[
// CHECK-NOT: tensor.extract
// CHECK: arith.select %{{.*}}, %[[V]], %{{.*}} : f32
func.func @gridsample_nearest_reflection(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32> {
  %y = "onnx.GridSample"(%x, %g) {mode = "nearest", padding_mode = "reflection"} : (tensor<1x2x4x4xf32>, tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32>
  return %y : tensor<1x2x3x5xf32>
}

// -----

// Bilinear with zeros: four taps around floor(ix, iy).
// CHECK-LABEL: func @gridsample_bilinear
// CHECK: linalg.generic
// CHECK: math.floor
// CHECK-COUNT-4: tensor.extract %arg0[
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @gridsample_bilinear(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32> {
  %y = "onnx.GridSample"(%x, %g) : (tensor<1x2x4x4xf32>, tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32>
  return %y : tensor<1x2x3x5xf32>
}

// -----

// Bicubic with border: sixteen taps, each coordinate clipped on its own.
// CHECK-LABEL: func @gridsample_bicubic_border
// CHECK-DAG: arith.constant -7.500000e-01 : f32
// CHECK: linalg.generic
// CHECK-COUNT-16: tensor.extract %arg0[
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @gridsample_bicubic_border(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32> {
  %y = "onnx.GridSample"(%x, %g) {mode = "bicubic", padding_mode = "border", align_corners = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32>
  return %y : tensor<1x2x3x5xf32>
}
