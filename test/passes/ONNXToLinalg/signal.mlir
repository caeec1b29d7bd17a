// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// DFT and STFT: the samples, moved to [other dims, (channel, sample)] in f32
// or wider, are multiplied (linalg.matmul) by the DFT matrix
// [(channel, sample), (re/im, bin)] of cos and sin terms, and the product
// is rearranged into [..., bins, ..., 2] (times 1/N for the inverse). Known
// lengths give a constant matrix (or one gathered from constant one-period
// tables when large); run-time ones build it in the IR and are checked with
// cf.assert. MelWeightMatrix: band edges in a 1-d generic, then the
// triangles elementwise.

// CHECK-DAG: #[[SWAP12:.*]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[AXIS1:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// CHECK-DAG: #[[OUT1:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>

// Known length, complex input: constant [8, 8] matrix, one matmul over the
// 2 rows, 1/4 scale for the inverse.
// CHECK-LABEL: func @dft_complex_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x2xf32>)
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[M:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 0.000000e+00, {{.*}}> : tensor<8x8xf32>
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[SWAP12]], #[[ID3]]]{{.*}} ins(%[[X]] : tensor<2x4x2xf32>) outs(%{{.*}} : tensor<2x2x4xf32>)
// CHECK: %[[L:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0], [1, 2]] : tensor<2x2x4xf32> into tensor<2x8xf32>
// CHECK: %[[MM:.*]] = linalg.matmul ins(%[[L]], %[[M]] : tensor<2x8xf32>, tensor<8x8xf32>) outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: %[[E:.*]] = tensor.expand_shape %[[MM]] {{\[\[}}0], [1, 2]] output_shape [2, 2, 4] : tensor<2x8xf32> into tensor<2x2x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[SWAP12]], #[[ID3]]]{{.*}} ins(%[[E]] : tensor<2x2x4xf32>) outs(%{{.*}} : tensor<2x4x2xf32>)
// CHECK:   arith.mulf %{{.*}}, %[[SCALE]] : f32
func.func @dft_complex_inverse(%x: tensor<2x4x2xf32>) -> tensor<2x4x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.DFT"(%x, %none) {axis = 1, inverse = 1} : (tensor<2x4x2xf32>, none) -> tensor<2x4x2xf32>
  return %y : tensor<2x4x2xf32>
}

// An inner axis: the rows are the other dims (2 x 4), the transformed axis
// moves last and comes back.
// CHECK-LABEL: func @dft_inner_axis
// CHECK: linalg.generic {indexing_maps = [#[[AXIS1]], {{.*}}]{{.*}} outs(%{{.*}} : tensor<2x4x1x3xf32>)
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2, 3]] : tensor<2x4x1x3xf32> into tensor<8x3xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x3xf32>, tensor<3x6xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2, 3]] output_shape [2, 4, 2, 3] : tensor<8x6xf32> into tensor<2x4x2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[OUT1]], {{.*}}]{{.*}} outs(%{{.*}} : tensor<2x3x4x2xf32>)
func.func @dft_inner_axis(%x: tensor<2x3x4x1xf32>) -> tensor<2x3x4x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.DFT"(%x, %none) {axis = 1} : (tensor<2x3x4x1xf32>, none) -> tensor<2x3x4x2xf32>
  return %y : tensor<2x3x4x2xf32>
}

// Constant dft_length shorter than the axis: the input is truncated.
// CHECK-LABEL: func @dft_constant_length
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [3, 6, 1] [1, 1, 1] : tensor<3x8x1xf32> to tensor<3x6x1xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x6xf32>, tensor<6x8xf32>)
func.func @dft_constant_length(%x: tensor<3x8x1xf32>) -> tensor<3x4x2xf32> {
  %n = "onnx.Constant"() {value = dense<6> : tensor<i64>} : () -> tensor<i64>
  %y = "onnx.DFT"(%x, %n) {axis = 1, onesided = 1} : (tensor<3x8x1xf32>, tensor<i64>) -> tensor<3x4x2xf32>
  return %y : tensor<3x4x2xf32>
}

// Run-time onesided length (8 or 9 for 5 bins): asserted, matrix built in
// the IR (zero past the length), f16 read as f32.
// CHECK-LABEL: func @dft_runtime_length
// CHECK-SAME: (%[[X:.*]]: tensor<3x8x1xf16>, %[[N:.*]]: tensor<i64>)
// CHECK: %[[LEN:.*]] = tensor.extract %[[N]][] : tensor<i64>
// CHECK: cf.assert %{{.*}}, "DFT: dft_length differs from the static output shape"
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<3x8x1xf16>) outs(%{{.*}} : tensor<3x1x8xf32>)
// CHECK:   arith.extf %{{.*}} : f16 to f32
// CHECK: %[[SAFE:.*]] = arith.maxsi %[[LEN]], %{{.*}} : i64
// CHECK: %[[M:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8x10xf32>)
// CHECK:   arith.remui %{{.*}}, %[[SAFE]] : i64
// CHECK:   math.cos %{{.*}} : f32
// CHECK:   math.sin %{{.*}} : f32
// CHECK:   arith.cmpi slt, %{{.*}}, %[[SAFE]] : i64
// CHECK: linalg.matmul ins(%{{.*}}, %[[M]] : tensor<3x8xf32>, tensor<8x10xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @dft_runtime_length(%x: tensor<3x8x1xf16>, %n: tensor<i64>) -> tensor<3x5x2xf16> {
  %y = "onnx.DFT"(%x, %n) {axis = 1, onesided = 1} : (tensor<3x8x1xf16>, tensor<i64>) -> tensor<3x5x2xf16>
  return %y : tensor<3x5x2xf16>
}

// STFT with run-time frame_length and frame_step: both asserted, frames
// gathered with clamped reads (up to 17 samples for 9 bins), matrix in the
// IR.
// CHECK-LABEL: func @stft_runtime
// CHECK-SAME: (%[[S:.*]]: tensor<1x128x1xf32>, %[[STEP:.*]]: tensor<i64>, %[[N:.*]]: tensor<i64>)
// CHECK: cf.assert %{{.*}}, "STFT: frame_length differs from the static output shape"
// CHECK: %[[ST:.*]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK: %[[SAFE:.*]] = arith.maxsi %[[ST]], %{{.*}} : i64
// CHECK: cf.assert %{{.*}}, "STFT: frame_step and frame length differ from the static output shape"
// CHECK: %[[FR:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x15x1x17xf32>)
// CHECK:   arith.muli %{{.*}}, %[[SAFE]] : i64
// CHECK:   arith.minsi %{{.*}}, %c127_i64 : i64
// CHECK:   tensor.extract %[[S]]
// CHECK: %[[L:.*]] = tensor.collapse_shape %[[FR]] {{\[\[}}0, 1], [2, 3]] : tensor<1x15x1x17xf32> into tensor<15x17xf32>
// CHECK: %[[M:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<17x18xf32>)
// CHECK:   math.cos
// CHECK: %[[MM:.*]] = linalg.matmul ins(%[[L]], %[[M]] : tensor<15x17xf32>, tensor<17x18xf32>)
// CHECK: %[[E:.*]] = tensor.expand_shape %[[MM]] {{.*}} into tensor<1x15x2x9xf32>
// CHECK: linalg.generic {{.*}} ins(%[[E]] : tensor<1x15x2x9xf32>) outs(%{{.*}} : tensor<1x15x9x2xf32>)
func.func @stft_runtime(%s: tensor<1x128x1xf32>, %step: tensor<i64>, %n: tensor<i64>) -> tensor<1x15x9x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.STFT"(%s, %step, %none, %n) : (tensor<1x128x1xf32>, tensor<i64>, none, tensor<i64>) -> tensor<1x15x9x2xf32>
  return %y : tensor<1x15x9x2xf32>
}

// STFT with a window: its length fixes the matrix (constant); the frames
// are multiplied by it.
// CHECK-LABEL: func @stft_window
// CHECK-SAME: (%[[S:.*]]: tensor<1x128x1xf32>, %[[STEP:.*]]: tensor<i64>, %[[W:.*]]: tensor<16xf32>)
// CHECK-DAG: %[[M:.*]] = arith.constant dense<{{.*}}> : tensor<16x18xf32>
// CHECK: cf.assert %{{.*}}, "STFT: frame_step and frame length differ from the static output shape"
// CHECK: %[[FR:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<16xf32>) outs(%{{.*}} : tensor<1x15x1x16xf32>)
// CHECK:   tensor.extract %[[S]]
// CHECK:   arith.mulf
// CHECK: %[[L:.*]] = tensor.collapse_shape %[[FR]]
// CHECK: linalg.matmul ins(%[[L]], %[[M]] : tensor<15x16xf32>, tensor<16x18xf32>)
func.func @stft_window(%s: tensor<1x128x1xf32>, %step: tensor<i64>, %w: tensor<16xf32>) -> tensor<1x15x9x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.STFT"(%s, %step, %w, %none) : (tensor<1x128x1xf32>, tensor<i64>, tensor<16xf32>, none) -> tensor<1x15x9x2xf32>
  return %y : tensor<1x15x9x2xf32>
}

// MelWeightMatrix: shape inputs asserted, the mel edges through an f64 log
// built from arith ops (exponent bits, then a series; no libm), the
// num_mel_bins + 2 band edges through an f64 exp likewise, floor-divided,
// then each element of the [bins, mel bins] matrix from its band's three
// edges.
// CHECK-LABEL: func @mel
// CHECK: cf.assert %{{.*}}, "MelWeightMatrix: num_mel_bins or dft_length differ from the static output shape"
// CHECK: cf.assert %{{.*}}, "MelWeightMatrix: sample_rate is zero"
// CHECK-NOT: math.log
// CHECK: arith.bitcast %{{.*}} : f64 to i64
// CHECK: arith.shrui %{{.*}}, %c52_i64 : i64
// CHECK: arith.bitcast %{{.*}} : f64 to i64
// CHECK: %[[EDGES:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<10xi64>)
// CHECK-NOT: math.exp
// CHECK:   math.floor %{{.*}} : f64
// CHECK:   arith.shli %{{.*}}, %c52_i64 : i64
// CHECK:   arith.bitcast %{{.*}} : i64 to f64
// CHECK:   math.floor %{{.*}} : f64
// CHECK:   arith.fptosi %{{.*}} : f64 to i64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<9x8xf32>)
// CHECK:   tensor.extract %[[EDGES]]
// CHECK:   tensor.extract %[[EDGES]]
// CHECK:   tensor.extract %[[EDGES]]
// CHECK:   arith.divf %{{.*}}, %{{.*}} : f64
// CHECK:   arith.truncf %{{.*}} : f64 to f32
func.func @mel(%m: tensor<i32>, %n: tensor<i32>, %r: tensor<i32>, %lo: tensor<f32>, %hi: tensor<f32>) -> tensor<9x8xf32> {
  %y = "onnx.MelWeightMatrix"(%m, %n, %r, %lo, %hi) : (tensor<i32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>) -> tensor<9x8xf32>
  return %y : tensor<9x8xf32>
}

// A known length whose matrix would be too large as a constant: gathered
// from constant cos and sin tables over one period.
// CHECK-LABEL: func @dft_long
// CHECK-DAG: %[[N:.*]] = arith.constant 1100 : i64
// CHECK-DAG: %[[PCOS:.*]] = arith.constant dense<"0x0000803F{{.*}}> : tensor<1100xf32>
// CHECK: %[[M:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1100x2200xf32>)
// CHECK:   arith.muli
// CHECK:   %[[R:.*]] = arith.remui %{{.*}}, %[[N]] : i64
// CHECK:   %[[RI:.*]] = arith.index_cast %[[R]] : i64 to index
// CHECK:   tensor.extract %[[PCOS]][%[[RI]]] : tensor<1100xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %[[M]] : tensor<1x1100xf32>, tensor<1100x2200xf32>)
func.func @dft_long(%x: tensor<1x1100x1xf32>) -> tensor<1x1100x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.DFT"(%x, %none) {axis = 1} : (tensor<1x1100x1xf32>, none) -> tensor<1x1100x2xf32>
  return %y : tensor<1x1100x2xf32>
}
