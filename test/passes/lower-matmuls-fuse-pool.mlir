// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false fuse-depthwise=8" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 fuse-depthwise=8" --canonicalize --cse | FileCheck %s --check-prefix=PAR
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=APART
// A first convolution (3x3, stride 2, 8 output channels of a 27x27 image:
// 13x13, B the input's im2col) whose Relu writes an unpadded buffer that
// only a 3x3 stride-2 max pool reads (SqueezeNet's first layers): with
// fuse-depthwise (KB of band buffer) both run in one kernel, a band of 2
// pooled rows at a time (a band reads (2 - 1) * 2 + 3 = 5 rows of 8 planes
// of 13, 2 KB; at least three bands: 6 / 3). The im2col copy, the
// convolution's output and the pool's window buffer go; the band's rows
// are a buffer on the stack, [1, 8, 5, 13], that each band's GEMM writes
// through its epilogue (no border columns, no zero rows) and the band's
// pool rows read. The first band's GEMM packs the im2col of conv rows 0-4
// (65 columns: 2 panels and a dot-product tail of 1) through a view of the
// input's first 1755 elements (what those rows read); a later band's first
// row is the band before's last (row 4 of 5, carried to row 0), its GEMM
// computes conv rows 5-8 or 9-12 (52 columns) from input rows 10 or 18
// (elements 270 or 486 on, 1701 of them).
// CHECK-LABEL: func @stem_pool
// CHECK-NOT: memref<3x3x3x13x13xf32>
// CHECK-NOT: memref<1x8x13x13xf32>
// CHECK: %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<1x8x5x13xf32>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[S]] {{\[\[}}0, 1, 2, 3]] : memref<1x8x5x13xf32> into memref<520xf32>
// CHECK: %[[PLANES:.*]] = memref.collapse_shape %[[S]] {{\[\[}}0, 1], [2, 3]] : memref<1x8x5x13xf32> into memref<8x65xf32>
// CHECK-NOT: memref.store %{{.*}}, %[[S]]
// CHECK: scf.for %[[BAND:.*]] = %c0 to %c3 step %c1
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[BAND]], %c0
// CHECK: scf.if %[[FIRST]]
// CHECK: memref.subview %{{.*}}[0] [1755] [1]
// CHECK: arith.maximumf
// CHECK: vector.maskedstore %[[PLANES]]
// CHECK: vector.reduction <add>
// CHECK: arith.maximumf
// CHECK: vector.maskedstore %arg3
// CHECK: } else {
// CHECK: %[[LAST:.*]] = arith.cmpi eq, %[[BAND]], %c2
// CHECK: scf.if %[[LAST]]
// CHECK: %[[ROW:.*]] = vector.maskedload %[[FLAT]]
// CHECK: vector.maskedstore %[[FLAT]][%{{.*}}], %{{.*}}, %[[ROW]]
// CHECK: memref.subview %{{.*}}[486] [1701] [1]
// CHECK: } else {
// CHECK: vector.maskedload %[[FLAT]]
// CHECK: memref.subview %{{.*}}[%{{.*}}] [1701] [1]
// CHECK-NOT: linalg.pooling_nchw_max
// CHECK-NOT: linalg.generic
// CHECK: return
// On the threads the call has as many units of consecutive bands as
// threads (x, at most the 3 bands), a call's first band computing all its
// rows.
// PAR-LABEL: func.func private @stem_pool_fused0(
// PAR: %[[FIRST:.*]] = arith.divui %{{.*}}, %arg8
// PAR: %[[END:.*]] = arith.divui %{{.*}}, %arg8
// PAR: memref.alloca() {alignment = 64 : i64} : memref<1x8x5x13xf32>
// PAR: scf.for %[[U:.*]] = %[[FIRST]] to %[[END]] step %c1
// PAR: %[[START:.*]] = arith.cmpi eq, %[[U]], %[[FIRST]]
// PAR: scf.if %[[START]]
// PAR-LABEL: func.func @stem_pool
// PAR: %[[X:.*]] = arith.minsi %{{.*}}, %c3
// PAR: call @stem_pool_fused0_dispatch(%{{.*}}, %[[X]], %c0, %[[X]])
// PAR-NOT: linalg.pooling_nchw_max
// Without it the pair stays apart: the convolution's output whole, the pool
// left to kiln-lower-windows.
// APART-LABEL: func @stem_pool
// APART: memref.alloc() {alignment = 64 : i64} : memref<1x8x13x13xf32>
// APART: linalg.pooling_nchw_max
#bias = affine_map<(d0, d1, d2) -> (d1, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#im2col = affine_map<(d0, d1, d2, d3, d4) -> (0, d0, d3 * 2 + d1, d4 * 2 + d2)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @stem_pool(%w: memref<8x27xf32>, %b: memref<8x1xf32>, %x: memref<1x3x27x27xf32>, %y: memref<1x8x6x6xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.000000e+00 : f32
  %acc = memref.alloc() {alignment = 64 : i64} : memref<1x8x169xf32>
  linalg.generic {indexing_maps = [#bias, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b : memref<8x1xf32>) outs(%acc : memref<1x8x169xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %cols = memref.alloc() {alignment = 64 : i64} : memref<3x3x3x13x13xf32>
  linalg.generic {indexing_maps = [#im2col, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<1x3x27x27xf32>) outs(%cols : memref<3x3x3x13x13xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %bm = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<3x3x3x13x13xf32> into memref<27x169xf32>
  %c = memref.subview %acc[0, 0, 0] [1, 8, 169] [1, 1, 1] : memref<1x8x169xf32> to memref<8x169xf32, strided<[169, 1]>>
  linalg.matmul ins(%w, %bm : memref<8x27xf32>, memref<27x169xf32>) outs(%c : memref<8x169xf32, strided<[169, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 8, 13, 13] : memref<1x8x169xf32> into memref<1x8x13x13xf32>
  %r = memref.alloc() {alignment = 64 : i64} : memref<1x8x13x13xf32>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e : memref<1x8x13x13xf32>) outs(%r : memref<1x8x13x13xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  linalg.fill ins(%ninf : f32) outs(%y : memref<1x8x6x6xf32>)
  %window = memref.alloc() {alignment = 64 : i64} : memref<3x3xf32>
  linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%r, %window : memref<1x8x13x13xf32>, memref<3x3xf32>) outs(%y : memref<1x8x6x6xf32>)
  return
}
