// RUN: kiln-opt %s --kiln-known-finite | FileCheck %s
// A requantization (an i32 sum made f32, times per-channel constants,
// rounded, plus the zero point, clamped to the byte range) cannot be NaN:
// its clamps get `nnan`. So does a Relu of dequantized bytes, bounded through
// the generic that produced them. A Relu of a float input, or a clamp after
// a division by a run-time value, is left alone.

#map = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0, 0)>

// CHECK-LABEL: func @requantize
// CHECK: arith.maximumf %{{.*}}, %{{.*}} fastmath<nnan> : f32
// CHECK: arith.minimumf %{{.*}}, %{{.*}} fastmath<nnan> : f32
func.func @requantize(%acc: tensor<4x16xi32>) -> tensor<4x16xi8> {
  %m = arith.constant dense<[[0.5], [0.25], [2.0], [1.0e-3]]> : tensor<4x1xf32>
  %e = tensor.empty() : tensor<4x16xi8>
  %r = linalg.generic {indexing_maps = [#map, #row, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%acc, %m : tensor<4x16xi32>, tensor<4x1xf32>) outs(%e : tensor<4x16xi8>) {
  ^bb0(%a: i32, %s: f32, %o: i8):
    %f = arith.sitofp %a : i32 to f32
    %v = arith.mulf %f, %s : f32
    %r0 = math.roundeven %v : f32
    %zp = arith.constant 3.0 : f32
    %r1 = arith.addf %r0, %zp : f32
    %lo = arith.constant -128.0 : f32
    %hi = arith.constant 127.0 : f32
    %c0 = arith.maximumf %r1, %lo : f32
    %c1 = arith.minimumf %c0, %hi : f32
    %q = arith.fptosi %c1 : f32 to i8
    linalg.yield %q : i8
  } -> tensor<4x16xi8>
  return %r : tensor<4x16xi8>
}

// CHECK-LABEL: func @relu_of_dequantized
// CHECK: arith.maximumf %{{.*}}, %{{.*}} fastmath<nnan> : f32
// CHECK: arith.divf
// CHECK: arith.maximumf %{{.*}}, %{{.*}} fastmath<nnan> : f32
func.func @relu_of_dequantized(%x: tensor<4x16xi8>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %d = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xi8>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.uitofp %a : i8 to f32
    %s = arith.constant 0.02 : f32
    %v = arith.mulf %f, %s : f32
    linalg.yield %v : f32
  } -> tensor<4x16xf32>
  %r = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %v = arith.maximumf %a, %zero : f32
    %s = arith.constant 0.05 : f32
    %q = arith.divf %v, %s : f32
    %w = arith.maximumf %q, %zero : f32
    linalg.yield %w : f32
  } -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// An 8-bit depthwise convolution in f32: each output the sum over its 9
// taps of a byte times a weight, from a constant bias: bounded by the bias
// plus 9 such products, so its requantization's clamps get `nnan`. A sum
// from an initial value the pass cannot bound (an argument) stays as it is.
// CHECK-LABEL: func @depthwise_sum
// CHECK: arith.maximumf %{{.*}}, %{{.*}} fastmath<nnan> : f32
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: fastmath
#dw_x = affine_map<(c, i, j, h, w) -> (c, h + i, w + j)>
#dw_w = affine_map<(c, i, j, h, w) -> (c, i, j)>
#dw_y = affine_map<(c, i, j, h, w) -> (c, h, w)>
#id3 = affine_map<(c, h, w) -> (c, h, w)>
func.func @depthwise_sum(%x: tensor<2x6x6xi8>, %init: tensor<2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>) {
  %w = arith.constant dense<3> : tensor<2x3x3xi8>
  %bias = arith.constant dense<7.0> : tensor<2x4x4xf32>
  %dw = linalg.generic {indexing_maps = [#dw_x, #dw_w, #dw_y],
                        iterator_types = ["parallel", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : tensor<2x6x6xi8>, tensor<2x3x3xi8>) outs(%bias : tensor<2x4x4xf32>) {
  ^bb0(%a: i8, %b: i8, %o: f32):
    %fa = arith.uitofp %a : i8 to f32
    %fb = arith.sitofp %b : i8 to f32
    %p = arith.mulf %fa, %fb : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4x4xf32>
  %dw2 = linalg.generic {indexing_maps = [#dw_x, #dw_w, #dw_y],
                         iterator_types = ["parallel", "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : tensor<2x6x6xi8>, tensor<2x3x3xi8>) outs(%init : tensor<2x4x4xf32>) {
  ^bb0(%a: i8, %b: i8, %o: f32):
    %fa = arith.uitofp %a : i8 to f32
    %fb = arith.sitofp %b : i8 to f32
    %p = arith.mulf %fa, %fb : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4x4xf32>
  %e = tensor.empty() : tensor<2x4x4xf32>
  %r:2 = linalg.generic {indexing_maps = [#id3, #id3, #id3, #id3],
                         iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%dw, %dw2 : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%e, %e : tensor<2x4x4xf32>, tensor<2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32, %o2: f32):
    %zero = arith.constant 0.0 : f32
    %m = arith.maximumf %a, %zero : f32
    %m2 = arith.maximumf %b, %zero : f32
    linalg.yield %m, %m2 : f32, f32
  } -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>)
  return %r#0, %r#1 : tensor<2x4x4xf32>, tensor<2x4x4xf32>
}

// CHECK-LABEL: func @unbounded
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: nnan
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: nnan
// CHECK: return
func.func @unbounded(%x: tensor<4x16xf32>, %y: tensor<4x16xi8>, %s: f32) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %e = tensor.empty() : tensor<4x16xf32>
  %r = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %v = arith.maximumf %a, %zero : f32
    linalg.yield %v : f32
  } -> tensor<4x16xf32>
  %t = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<4x16xi8>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    %q = arith.divf %f, %s : f32
    %zero = arith.constant 0.0 : f32
    %v = arith.maximumf %q, %zero : f32
    linalg.yield %v : f32
  } -> tensor<4x16xf32>
  return %r, %t : tensor<4x16xf32>, tensor<4x16xf32>
}

// In f16 an i32 can be infinite (65504 is its largest value), and a
// difference of two infinities NaN: nothing is marked.
// CHECK-LABEL: func @half
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f16
// CHECK-NOT: nnan
// CHECK: return
func.func @half(%x: tensor<4x16xi32>) -> tensor<4x16xf16> {
  %e = tensor.empty() : tensor<4x16xf16>
  %r = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xi32>) outs(%e : tensor<4x16xf16>) {
  ^bb0(%a: i32, %o: f16):
    %f = arith.sitofp %a : i32 to f16
    %d = arith.subf %f, %f : f16
    %zero = arith.constant 0.0 : f16
    %v = arith.maximumf %d, %zero : f16
    linalg.yield %v : f16
  } -> tensor<4x16xf16>
  return %r : tensor<4x16xf16>
}
