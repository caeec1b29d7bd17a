// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Integer and quantized products: 8-bit operands widened to i32 minus their
// zero points (per row of A, per column of B, per output channel of W),
// then an i32 linalg.matmul or im2col + matmul; the QLinear ops requantize
// the accumulator with rounding half to even and saturation.

// CHECK-LABEL: func @matmul_integer
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [4, 1] : tensor<4xi8> into tensor<4x1xi8>
// CHECK: linalg.generic
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.generic
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x3xi32>, tensor<3x2xi32>) outs(%{{.*}} : tensor<4x2xi32>)
func.func @matmul_integer(%a: tensor<4x3xi8>, %b: tensor<3x2xi8>, %az: tensor<4xi8>, %bz: tensor<2xi8>) -> tensor<4x2xi32> {
  %y = "onnx.MatMulInteger"(%a, %b, %az, %bz) {kiln.unsigned_operands = array<i1: true, false, true, false>, kiln.unsigned_results = array<i1: false>} : (tensor<4x3xi8>, tensor<3x2xi8>, tensor<4xi8>, tensor<2xi8>) -> tensor<4x2xi32>
  return %y : tensor<4x2xi32>
}

// CHECK-LABEL: func @conv_integer
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: tensor.pad
// CHECK: tensor.yield %c0_i32 : i32
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x4xi32>, tensor<4x16xi32>) outs(%{{.*}} : tensor<1x16xi32>)
func.func @conv_integer(%x: tensor<1x1x3x3xi8>, %w: tensor<1x1x2x2xi8>, %xz: tensor<i8>) -> tensor<1x1x4x4xi32> {
  %none = onnx.NoValue : none
  %y = "onnx.ConvInteger"(%x, %w, %xz, %none) {pads = [1, 1, 1, 1], kiln.unsigned_operands = array<i1: true, true, true, false>, kiln.unsigned_results = array<i1: false>} : (tensor<1x1x3x3xi8>, tensor<1x1x2x2xi8>, tensor<i8>, none) -> tensor<1x1x4x4xi32>
  return %y : tensor<1x1x4x4xi32>
}

// Per-channel weight scale [2] aligned to the output's channel axis.
// CHECK-LABEL: func @qlinear_conv
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1, 2, 3]] output_shape [2, 1, 1, 1] : tensor<2xi8> into tensor<2x1x1x1xi8>
// CHECK: linalg.matmul
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: arith.divf
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK: math.roundeven
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptosi %{{.*}} : f32 to i8
func.func @qlinear_conv(%x: tensor<1x3x4x4xi8>, %xs: tensor<f32>, %xz: tensor<i8>, %w: tensor<2x3x1x1xi8>, %ws: tensor<2xf32>, %wz: tensor<2xi8>, %ys: tensor<f32>, %yz: tensor<i8>, %b: tensor<2xi32>) -> tensor<1x2x4x4xi8> {
  %y = "onnx.QLinearConv"(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %b) : (tensor<1x3x4x4xi8>, tensor<f32>, tensor<i8>, tensor<2x3x1x1xi8>, tensor<2xf32>, tensor<2xi8>, tensor<f32>, tensor<i8>, tensor<2xi32>) -> tensor<1x2x4x4xi8>
  return %y : tensor<1x2x4x4xi8>
}

// CHECK-LABEL: func @qlinear_matmul
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x2x4xi32>, tensor<2x4x3xi32>) outs(%{{.*}} : tensor<2x2x3xi32>)
// CHECK: math.roundeven
// CHECK: arith.fptoui %{{.*}} : f32 to i8
func.func @qlinear_matmul(%a: tensor<2x2x4xi8>, %as: tensor<1xf32>, %az: tensor<1xi8>, %b: tensor<2x4x3xi8>, %bs: tensor<1xf32>, %bz: tensor<1xi8>, %ys: tensor<1xf32>, %yz: tensor<1xi8>) -> tensor<2x2x3xi8> {
  %y = "onnx.QLinearMatMul"(%a, %as, %az, %b, %bs, %bz, %ys, %yz) {kiln.unsigned_operands = array<i1: true, false, true, true, false, true, false, true>, kiln.unsigned_results = array<i1: true>} : (tensor<2x2x4xi8>, tensor<1xf32>, tensor<1xi8>, tensor<2x4x3xi8>, tensor<1xf32>, tensor<1xi8>, tensor<1xf32>, tensor<1xi8>) -> tensor<2x2x3xi8>
  return %y : tensor<2x2x3xi8>
}
