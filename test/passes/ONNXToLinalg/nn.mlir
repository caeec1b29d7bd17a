// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// NN family: batch-1 Conv as im2col + matmul over the bias, depthwise Conv
// (and many small groups) as one direct generic, 1-d Conv as 2-d, 3-d Conv as 2-d GEMMs per depth,
// ceil_mode MaxPool padding the end of the input.

// CHECK-LABEL: func @conv_im2col
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[BIAS:.*]] = linalg.generic
// CHECK: %[[COL:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<1x3x10x10xf32>) outs(%{{.*}} : tensor<3x3x3x4x4xf32>)
// CHECK: %[[C2:.*]] = tensor.collapse_shape %[[COL]] {{.*}} into tensor<27x16xf32>
// CHECK: %[[ACC:.*]] = tensor.extract_slice %[[BIAS]][0, 0, 0] [1, 4, 16]
// CHECK: %[[MM:.*]] = linalg.matmul ins(%{{.*}}, %[[C2]] : tensor<4x27xf32>, tensor<27x16xf32>) outs(%[[ACC]] : tensor<4x16xf32>)
// CHECK: tensor.insert_slice %[[MM]] into %[[BIAS]]
func.func @conv_im2col(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// CHECK-LABEL: func @conv_1x1
// CHECK-NOT: tensor.pad
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x64xf32>)
func.func @conv_1x1(%x: tensor<1x8x8x8xf32>, %w: tensor<4x8x1x1xf32>) -> tensor<1x4x8x8xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Conv"(%x, %w, %none) : (tensor<1x8x8x8xf32>, tensor<4x8x1x1xf32>, none) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// More than one image or group: the same matmul per image and group, each
// on static slices (image, group) = (0, 0), (0, 1), (1, 0), (1, 1) while
// there are at most 8 of them.
// CHECK-LABEL: func @conv_batch_groups
// CHECK-NOT: scf.for
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, 2, 8, 8]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x18xf32>, tensor<18x36xf32>) outs(%{{.*}} : tensor<3x36xf32>)
// CHECK: tensor.insert_slice %{{.*}}[0, 0, 0] [1, 3, 36]
// CHECK: tensor.extract_slice %{{.*}}[0, 2, 0, 0] [1, 2, 8, 8]
// CHECK: tensor.insert_slice %{{.*}}[0, 3, 0] [1, 3, 36]
// CHECK: tensor.extract_slice %{{.*}}[1, 0, 0, 0] [1, 2, 8, 8]
// CHECK: tensor.insert_slice %{{.*}}[1, 0, 0] [1, 3, 36]
// CHECK: tensor.extract_slice %{{.*}}[1, 2, 0, 0] [1, 2, 8, 8]
// CHECK: tensor.insert_slice %{{.*}}[1, 3, 0] [1, 3, 36]
// CHECK-NOT: linalg.matmul
func.func @conv_batch_groups(%x: tensor<2x4x6x6xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<2x6x6x6xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Conv"(%x, %w, %none) {group = 2 : i64, pads = [1, 1, 1, 1]} : (tensor<2x4x6x6xf32>, tensor<6x2x3x3xf32>, none) -> tensor<2x6x6x6xf32>
  return %y : tensor<2x6x6x6xf32>
}

// More than 8 products (3 images, 3 groups) of more than 64 input channels
// each: an scf.for nest over them.
// CHECK-LABEL: func @conv_many_groups
// CHECK: scf.for %[[N:.*]] = %c0 to %c3
// CHECK: scf.for %[[G:.*]] = %c0 to %c3
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x585xf32>, tensor<585x36xf32>) outs(%{{.*}} : tensor<2x36xf32>)
func.func @conv_many_groups(%x: tensor<3x195x6x6xf32>, %w: tensor<6x65x3x3xf32>) -> tensor<3x6x6x6xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Conv"(%x, %w, %none) {group = 3 : i64, pads = [1, 1, 1, 1]} : (tensor<3x195x6x6xf32>, tensor<6x65x3x3xf32>, none) -> tensor<3x6x6x6xf32>
  return %y : tensor<3x6x6x6xf32>
}

// As many products of at most 64 input channels each (f32): the depthwise
// generic over (n, g, fg, cg, kh, kw, oh, ow), its weights [g, fg, cg, kh,
// kw], marked for kiln-lower-windows' grouped kernel.
// CHECK-LABEL: func @conv_many_small_groups
// CHECK: %[[W:.*]] = tensor.expand_shape %arg1 {{.*}} : tensor<6x2x3x3xf32> into tensor<3x2x2x3x3xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]} ins(%{{.*}}, %[[W]] : tensor<3x6x8x8xf32>, tensor<3x2x2x3x3xf32>) outs(%{{.*}} : tensor<3x3x2x6x6xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1>}
// CHECK-NOT: linalg.matmul
// CHECK: tensor.collapse_shape %{{.*}} into tensor<3x6x6x6xf32>
func.func @conv_many_small_groups(%x: tensor<3x6x6x6xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<3x6x6x6xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Conv"(%x, %w, %none) {group = 3 : i64, pads = [1, 1, 1, 1]} : (tensor<3x6x6x6xf32>, tensor<6x2x3x3xf32>, none) -> tensor<3x6x6x6xf32>
  return %y : tensor<3x6x6x6xf32>
}

// CHECK-LABEL: func @depthwise
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]
// CHECK-NOT: linalg.matmul
func.func @depthwise(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Conv"(%x, %w, %none) {group = 4 : i64, pads = [1, 1, 1, 1]} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// A 1-d Conv is the 2-d one of height 1, attributes and all: here a
// dilated depthwise one, which becomes the depthwise generic.
// CHECK-LABEL: func @conv_1d_depthwise
// CHECK: tensor.expand_shape %{{.*}} : tensor<1x4x10xf32> into tensor<1x4x1x10xf32>
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 2] high[0, 0, 0, 2]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]
// CHECK-NOT: linalg.matmul
// CHECK: tensor.collapse_shape %{{.*}} into tensor<1x4x10xf32>
func.func @conv_1d_depthwise(%x: tensor<1x4x10xf32>, %w: tensor<4x1x3xf32>) -> tensor<1x4x10xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Conv"(%x, %w, %none) {group = 4 : i64, pads = [2, 2], dilations = [2]} : (tensor<1x4x10xf32>, tensor<4x1x3xf32>, none) -> tensor<1x4x10xf32>
  return %y : tensor<1x4x10xf32>
}

// A 3-d Conv: per output depth (6) and kernel depth (3), the 2-d im2col of
// one padded input depth slice times that depth's weights, reordered once to
// [KD, F, Cg*KH*KW] (a weight argument here: a transpose), accumulated into
// the output slice. Kernel depth 0 starts from the bias; no fill of the
// whole output comes first.
// CHECK-LABEL: func @conv_3d(
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1, 1] high[0, 0, 1, 1, 1]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<8x3x3x3x3xf32>) outs(%{{.*}} : tensor<3x8x3x3x3xf32>) permutation = [2, 0, 1, 3, 4]
// CHECK: scf.for %[[OD:.*]] = %c0 to %c6
// CHECK:   tensor.extract_slice %{{.*}}[0, 0, %[[OD]], 0, 0] [1, 3, 1, 10, 10]
// CHECK:   %[[B:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8x1xf32>) outs(%{{.*}} : tensor<8x16xf32>)
// CHECK:   linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x27xf32>, tensor<27x16xf32>) outs(%[[B]] : tensor<8x16xf32>)
// CHECK:   scf.for %[[KD:.*]] = %c1 to %c3
// CHECK:     %[[D:.*]] = arith.addi %[[OD]], %[[KD]]
// CHECK:     tensor.extract_slice %{{.*}}[0, 0, %[[D]], 0, 0] [1, 3, 1, 10, 10]
// CHECK:     linalg.generic {{.*}} outs(%{{.*}} : tensor<3x3x3x4x4xf32>)
// CHECK:     linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x27xf32>, tensor<27x16xf32>) outs(%{{.*}} : tensor<8x16xf32>)
// CHECK: tensor.expand_shape %{{.*}} into tensor<1x8x6x4x4xf32>

func.func @conv_3d(%x: tensor<1x3x6x8x8xf32>, %w: tensor<8x3x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x6x4x4xf32> {
  %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1, 1, 1], strides = [1, 2, 2]} : (tensor<1x3x6x8x8xf32>, tensor<8x3x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x6x4x4xf32>
  return %y : tensor<1x8x6x4x4xf32>
}

// With constant weights the reorder happens at compile time: [F=4, 1,
// KD=2] becomes [KD, F, 1].
// CHECK-LABEL: func @conv_3d_constant_weights
// CHECK-NOT: linalg.transpose
// CHECK: arith.constant dense<{{\[\[}}[1.000000e+00], [3.000000e+00], [5.000000e+00], [7.000000e+00]], {{\[}}[2.000000e+00], [4.000000e+00], [6.000000e+00], [8.000000e+00]]]> : tensor<2x4x1xf32>
func.func @conv_3d_constant_weights(%x: tensor<1x1x3x2x2xf32>) -> tensor<1x4x2x2x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[[[[1.0]], [[2.0]]]], [[[[3.0]], [[4.0]]]], [[[[5.0]], [[6.0]]]], [[[[7.0]], [[8.0]]]]]> : tensor<4x1x2x1x1xf32>} : () -> tensor<4x1x2x1x1xf32>
  %none = onnx.NoValue : none
  %y = "onnx.Conv"(%x, %w, %none) : (tensor<1x1x3x2x2xf32>, tensor<4x1x2x1x1xf32>, none) -> tensor<1x4x2x2x2xf32>
  return %y : tensor<1x4x2x2x2xf32>
}

// CHECK-LABEL: func @maxpool_ceil
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
func.func @maxpool_ceil(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [3, 3], strides = [2, 2], ceil_mode = 1 : i64} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// The divisors exclude padding: corners see 4 elements, edges 6, the
// middle 9.
// CHECK-LABEL: func @avgpool_exclude_pad
// CHECK: arith.constant dense<{{\[}}[4.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<3x3xf32>
// CHECK: linalg.pooling_nchw_sum
func.func @avgpool_exclude_pad(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32> {
  %y = "onnx.AveragePool"(%x) {kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  return %y : tensor<1x1x3x3xf32>
}

// InstanceNormalization: the variance's square root and the division by it
// once per (image, channel), folded with the scale into one factor; per
// element one multiply and add.
// CHECK-LABEL: func @instance_norm
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: -> tensor<1x3x1x1xf32>
// CHECK: linalg.generic
// CHECK-NOT: math.sqrt
// CHECK-NOT: arith.divf
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK: -> tensor<1x3x4x5xf32>
func.func @instance_norm(%x: tensor<1x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<1x3x4x5xf32> {
  %y = "onnx.InstanceNormalization"(%x, %s, %b) {epsilon = 1.0e-5 : f32} : (tensor<1x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x5xf32>
  return %y : tensor<1x3x4x5xf32>
}
