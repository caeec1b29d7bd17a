// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// DFT and STFT: a contraction of the (split) real and imaginary parts with
// cos and sin tables [bins, samples] into real and imaginary sums (f32 or
// wider), then an interleave into the trailing [2] axis (times 1/N for the
// inverse). Known lengths give constant tables; run-time ones build them in
// the IR and are checked with cf.assert. MelWeightMatrix: band edges in a
// 1-d generic, then the triangles elementwise.

// Known length: constant tables, complex input split in two slices.
// CHECK-LABEL: func @dft_complex_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x2xf32>)
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[SIN:.*]] = arith.constant dense<{{.*}}> : tensor<4x4xf32>
// CHECK-DAG: %[[COS:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], {{.*}}> : tensor<4x4xf32>
// CHECK: %[[RE:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [2, 4, 1] [1, 1, 1] : tensor<2x4x2xf32> to tensor<2x4xf32>
// CHECK: %[[IM:.*]] = tensor.extract_slice %[[X]][0, 0, 1] [2, 4, 1] [1, 1, 1] : tensor<2x4x2xf32> to tensor<2x4xf32>
// CHECK: %[[SUMS:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[RE]], %[[IM]], %[[COS]], %[[SIN]] : {{.*}}) outs({{.*}} : tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK:   arith.subf
// CHECK:   arith.addf
// CHECK:   linalg.yield
// CHECK: linalg.generic {{.*}} ins(%[[SUMS]]#0, %[[SUMS]]#1 : {{.*}}) outs(%{{.*}} : tensor<2x4x2xf32>)
// CHECK:   linalg.index 2
// CHECK:   arith.select
// CHECK:   arith.mulf %{{.*}}, %[[SCALE]] : f32
func.func @dft_complex_inverse(%x: tensor<2x4x2xf32>) -> tensor<2x4x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.DFT"(%x, %none) {axis = 1, inverse = 1} : (tensor<2x4x2xf32>, none) -> tensor<2x4x2xf32>
  return %y : tensor<2x4x2xf32>
}

// Constant dft_length shorter than the axis: the input is truncated.
// CHECK-LABEL: func @dft_constant_length
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [3, 6, 1] [1, 1, 1] : tensor<3x8x1xf32> to tensor<3x6xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<3x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>)
func.func @dft_constant_length(%x: tensor<3x8x1xf32>) -> tensor<3x4x2xf32> {
  %n = "onnx.Constant"() {value = dense<6> : tensor<i64>} : () -> tensor<i64>
  %y = "onnx.DFT"(%x, %n) {axis = 1, onesided = 1} : (tensor<3x8x1xf32>, tensor<i64>) -> tensor<3x4x2xf32>
  return %y : tensor<3x4x2xf32>
}

// Run-time onesided length (8 or 9 for 5 bins): asserted, tables in the IR
// (zero past the length), f16 read as f32.
// CHECK-LABEL: func @dft_runtime_length
// CHECK-SAME: (%[[X:.*]]: tensor<3x8x1xf16>, %[[N:.*]]: tensor<i64>)
// CHECK: %[[LEN:.*]] = tensor.extract %[[N]][] : tensor<i64>
// CHECK: cf.assert %{{.*}}, "DFT: dft_length differs from the static output shape"
// CHECK: %[[SAFE:.*]] = arith.maxsi %[[LEN]], %{{.*}} : i64
// CHECK: %[[COS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<5x8xf32>)
// CHECK:   arith.remsi %{{.*}}, %[[SAFE]] : i64
// CHECK:   math.cos %{{.*}} : f32
// CHECK:   arith.cmpi slt, %{{.*}}, %[[SAFE]] : i64
// CHECK: %[[SIN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<5x8xf32>)
// CHECK:   math.sin %{{.*}} : f32
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[COS]], %[[SIN]] : tensor<3x8xf16>, tensor<5x8xf32>, tensor<5x8xf32>)
// CHECK:   arith.extf %{{.*}} : f16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @dft_runtime_length(%x: tensor<3x8x1xf16>, %n: tensor<i64>) -> tensor<3x5x2xf16> {
  %y = "onnx.DFT"(%x, %n) {axis = 1, onesided = 1} : (tensor<3x8x1xf16>, tensor<i64>) -> tensor<3x5x2xf16>
  return %y : tensor<3x5x2xf16>
}

// STFT with run-time frame_length and frame_step: both asserted, frames
// gathered with clamped reads (up to 17 samples for 9 bins), tables in the IR.
// CHECK-LABEL: func @stft_runtime
// CHECK-SAME: (%[[S:.*]]: tensor<1x128x1xf32>, %[[STEP:.*]]: tensor<i64>, %[[N:.*]]: tensor<i64>)
// CHECK: cf.assert %{{.*}}, "STFT: frame_length differs from the static output shape"
// CHECK: %[[ST:.*]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK: %[[SAFE:.*]] = arith.maxsi %[[ST]], %{{.*}} : i64
// CHECK: cf.assert %{{.*}}, "STFT: frame_step and frame length differ from the static output shape"
// CHECK: %[[FR:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x15x17xf32>)
// CHECK:   arith.muli %{{.*}}, %[[SAFE]] : i64
// CHECK:   arith.minsi %{{.*}}, %c127_i64 : i64
// CHECK:   tensor.extract %[[S]]
// CHECK: %[[COS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<9x17xf32>)
// CHECK: %[[SIN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<9x17xf32>)
// CHECK: %[[SUMS:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[FR]], %[[COS]], %[[SIN]] : {{.*}})
// CHECK: linalg.generic {{.*}} ins(%[[SUMS]]#0, %[[SUMS]]#1 : {{.*}}) outs(%{{.*}} : tensor<1x15x9x2xf32>)
func.func @stft_runtime(%s: tensor<1x128x1xf32>, %step: tensor<i64>, %n: tensor<i64>) -> tensor<1x15x9x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.STFT"(%s, %step, %none, %n) : (tensor<1x128x1xf32>, tensor<i64>, none, tensor<i64>) -> tensor<1x15x9x2xf32>
  return %y : tensor<1x15x9x2xf32>
}

// STFT with a window: its length fixes the tables (constants); the frames
// are multiplied by it.
// CHECK-LABEL: func @stft_window
// CHECK-SAME: (%[[S:.*]]: tensor<1x128x1xf32>, %[[STEP:.*]]: tensor<i64>, %[[W:.*]]: tensor<16xf32>)
// CHECK-DAG: %[[SIN:.*]] = arith.constant dense<{{.*}}> : tensor<9x16xf32>
// CHECK-DAG: %[[COS:.*]] = arith.constant dense<{{.*}}> : tensor<9x16xf32>
// CHECK: cf.assert %{{.*}}, "STFT: frame_step and frame length differ from the static output shape"
// CHECK: %[[FR:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<16xf32>) outs(%{{.*}} : tensor<1x15x16xf32>)
// CHECK:   tensor.extract %[[S]]
// CHECK:   arith.mulf
// CHECK: linalg.generic {{.*}} ins(%[[FR]], %[[COS]], %[[SIN]] : {{.*}})
func.func @stft_window(%s: tensor<1x128x1xf32>, %step: tensor<i64>, %w: tensor<16xf32>) -> tensor<1x15x9x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.STFT"(%s, %step, %w, %none) : (tensor<1x128x1xf32>, tensor<i64>, tensor<16xf32>, none) -> tensor<1x15x9x2xf32>
  return %y : tensor<1x15x9x2xf32>
}

// MelWeightMatrix: shape inputs asserted, num_mel_bins + 2 band edges
// floor-divided, then each element of the [bins, mel bins] matrix from its
// band's three edges.
// CHECK-LABEL: func @mel
// CHECK: cf.assert %{{.*}}, "MelWeightMatrix: num_mel_bins or dft_length differ from the static output shape"
// CHECK: cf.assert %{{.*}}, "MelWeightMatrix: sample_rate is zero"
// CHECK: math.log1p %{{.*}} : f32
// CHECK: math.log1p %{{.*}} : f32
// CHECK: %[[EDGES:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<10xi64>)
// CHECK:   math.expm1 %{{.*}} : f32
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

// A known length whose [bins, samples] tables would be too large as
// constants: they are gathered from constant tables over one period.
// CHECK-LABEL: func @dft_long
// CHECK-DAG: %[[N:.*]] = arith.constant 1100 : index
// CHECK-DAG: %[[PCOS:.*]] = arith.constant dense<"0x0000803F{{.*}}> : tensor<1100xf32>
// CHECK: %[[COS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1100x1100xf32>)
// CHECK:   arith.muli
// CHECK:   %[[R:.*]] = arith.remui %{{.*}}, %[[N]] : index
// CHECK:   tensor.extract %[[PCOS]][%[[R]]] : tensor<1100xf32>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1100x1100xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[COS]], %{{.*}} : tensor<1x1100xf32>, tensor<1100x1100xf32>, tensor<1100x1100xf32>)
func.func @dft_long(%x: tensor<1x1100x1xf32>) -> tensor<1x1100x2xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.DFT"(%x, %none) {axis = 1} : (tensor<1x1100x1xf32>, none) -> tensor<1x1100x2xf32>
  return %y : tensor<1x1100x2xf32>
}
