// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false fuse-depthwise=8" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 fuse-depthwise=8" --canonicalize --cse | FileCheck %s --check-prefix=PAR
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=APART
// A 1x1 convolution (16 output channels, a 12x12 image) whose Relu writes
// the interior of a padded buffer that only a stride-2 depthwise
// convolution reads (MobileNetV2's expansion and depthwise layers): with
// fuse-depthwise (KB of band buffer) both run in one kernel, a band of 2
// output rows at a time (8 KB holds 9 padded rows of 16 planes of 14; a
// band needs (2 - 1) * 2 + 3 = 5, and there are at least three bands: 6 /
// 3). The padded buffer and its border fills go; the band's padded rows
// are a buffer on the stack, [1, 16, 5, 14], its border columns zero, the
// first band's top row zero, each band's GEMM writing its image rows
// between them, and the band's depthwise rows reading them there. The
// first band's GEMM computes 4 image rows from row 1; a later band's first
// row is the band before's last (padded row 4 of 5): carried to row 0 (a
// masked load and store of the 14 columns a plane), its GEMM computes the
// other 4 from row 1 (image rows 4-7 and 8-11, columns 48 and 96 of B).
// CHECK-LABEL: func @expansion_depthwise
// CHECK-NOT: memref<1x16x14x14xf32>
// CHECK: %[[Y:.*]] = memref.alloc() : memref<1x16x1x6x6xf32>
// CHECK: %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<1x16x5x14xf32>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[S]] {{\[\[}}0, 1, 2, 3]] : memref<1x16x5x14xf32> into memref<1120xf32>
// CHECK: memref.store %{{.*}}, %[[S]][%c0, %{{.*}}, %{{.*}}, %c0]
// CHECK: memref.store %{{.*}}, %[[S]][%c0, %{{.*}}, %{{.*}}, %c13]
// CHECK: scf.for %[[BAND:.*]] = %c0 to %c3 step %c1
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[BAND]], %c0
// CHECK: scf.if %[[FIRST]]
// CHECK: vector.maskedstore %[[S]][%c0, %{{.*}}, %c0, %c0]
// CHECK: memref.subview %arg1[0, 0] [32, 48] [1, 1]
// CHECK: arith.maximumf
// CHECK: vector.maskedstore %[[FLAT]]
// CHECK: vector.maskedload %[[S]]
// CHECK: vector.fma
// CHECK: vector.maskedstore %[[Y]]
// CHECK: } else {
// CHECK: %[[LAST:.*]] = arith.cmpi eq, %[[BAND]], %c2
// CHECK: scf.if %[[LAST]]
// CHECK: %[[ROW:.*]] = vector.maskedload %[[FLAT]]
// CHECK: vector.maskedstore %[[FLAT]][%{{.*}}], %{{.*}}, %[[ROW]]
// CHECK: memref.subview %arg1[0, 96] [32, 48] [1, 1]
// CHECK: } else {
// CHECK: vector.maskedload %[[FLAT]]
// CHECK: memref.subview %arg1[0, %{{.*}}] [32, 48] [1, 1]
// CHECK-NOT: [32, 60]
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
// On the threads the call has as many units as threads (x, at most the
// 3 bands), unit u the bands [3u / x, 3(u + 1) / x), each call's band
// buffer its own (on the caller's or the worker's stack); a call's first
// band computes all its rows (image rows 7-11 for the last, 3-7 for a
// middle one), the others carry.
// PAR-LABEL: func.func private @expansion_depthwise_fused0(
// PAR: %[[B0:.*]] = arith.muli %arg10, %c3
// PAR: %[[FIRST:.*]] = arith.divui %[[B0]], %arg8
// PAR: %[[B1:.*]] = arith.muli %arg11, %c3
// PAR: %[[END:.*]] = arith.divui %[[B1]], %arg8
// PAR: memref.alloca() {alignment = 64 : i64} : memref<1x16x5x14xf32>
// PAR: scf.for %[[U:.*]] = %[[FIRST]] to %[[END]] step %c1
// PAR: %[[START:.*]] = arith.cmpi eq, %[[U]], %[[FIRST]]
// PAR: scf.if %[[START]]
// PAR: memref.subview %arg1[0, 0] [32, 48] [1, 1]
// PAR: memref.subview %arg1[0, 84] [32, 60] [1, 1]
// PAR: memref.subview %arg1[0, %{{.*}}] [32, 60] [1, 1]
// PAR: } else {
// PAR: memref.subview %arg1[0, 96] [32, 48] [1, 1]
// PAR: memref.subview %arg1[0, %{{.*}}] [32, 48] [1, 1]
// PAR-LABEL: func.func @expansion_depthwise
// PAR: %[[T:.*]] = call @kiln_get_num_threads()
// PAR: %[[TI:.*]] = arith.index_cast %[[T]]
// PAR: %[[X:.*]] = arith.minsi %[[TI]], %c3
// PAR: call @expansion_depthwise_fused0_dispatch(%{{.*}}, %[[X]], %c0, %[[X]])
// PAR-NOT: linalg.generic
// Without it the pair stays apart: the padded buffer, the depthwise
// convolution left to kiln-lower-windows.
// APART-LABEL: func @expansion_depthwise
// APART: memref.alloc() : memref<1x16x14x14xf32>
// APART: linalg.generic {{.*}} attrs = {kiln.depthwise
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#x = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g + c, oh * 2 + kh, ow * 2 + kw)>
#w = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (g, f, c, kh, kw)>
#o = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g, f, oh, ow)>
func.func @expansion_depthwise(%w: memref<16x32xf32>, %x: memref<32x144xf32>, %k: memref<16x1x1x3x3xf32>) -> memref<1x16x1x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x144xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x16x144xf32>)
  %c = memref.subview %acc[0, 0, 0] [1, 16, 144] [1, 1, 1] : memref<1x16x144xf32> to memref<16x144xf32, strided<[144, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x144xf32>) outs(%c : memref<16x144xf32, strided<[144, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 12, 12] : memref<1x16x144xf32> into memref<1x16x12x12xf32>
  %pad = memref.alloc() : memref<1x16x14x14xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x16x14x14xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 16, 12, 12] [1, 1, 1, 1] : memref<1x16x14x14xf32> to memref<1x16x12x12xf32, strided<[3136, 196, 14, 1], offset: 15>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x12x12xf32>) outs(%sub : memref<1x16x12x12xf32, strided<[3136, 196, 14, 1], offset: 15>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  %y = memref.alloc() : memref<1x16x1x6x6xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x16x1x6x6xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%pad, %k : memref<1x16x14x14xf32>, memref<16x1x1x3x3xf32>) outs(%y : memref<1x16x1x6x6xf32>) attrs = {kiln.depthwise = array<i64: 2, 2, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %s0: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %s0, %p : f32
    linalg.yield %s : f32
  }
  return %y : memref<1x16x1x6x6xf32>
}

// The stride-1 pair of a 12x12 image: 8 KB would hold bands of 4 rows (6
// padded rows), 4 + 4 + 4, which two threads' even shares split as one
// band against two (4 rows against 8, plus the 2 the second share's first
// band computes again); bands of 3 (5 padded rows), four of them, split 6
// against 6 + 2, and bands of 2 no better: bands of 3.
// CHECK-LABEL: func @expansion_depthwise_even
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<1x16x5x14xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK-NOT: linalg.generic
// CHECK: return
// PAR-LABEL: func.func private @expansion_depthwise_even_fused0(
// PAR: memref.alloca() {alignment = 64 : i64} : memref<1x16x5x14xf32>
// PAR-LABEL: func.func @expansion_depthwise_even
// PAR: %[[X4:.*]] = arith.minsi %{{.*}}, %c4
// PAR: call @expansion_depthwise_even_fused0_dispatch(%{{.*}}, %[[X4]], %c0, %[[X4]])
#x1 = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g + c, oh + kh, ow + kw)>
func.func @expansion_depthwise_even(%w: memref<16x32xf32>, %x: memref<32x144xf32>, %k: memref<16x1x1x3x3xf32>) -> memref<1x16x1x12x12xf32> {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x144xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x16x144xf32>)
  %c = memref.subview %acc[0, 0, 0] [1, 16, 144] [1, 1, 1] : memref<1x16x144xf32> to memref<16x144xf32, strided<[144, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x144xf32>) outs(%c : memref<16x144xf32, strided<[144, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 12, 12] : memref<1x16x144xf32> into memref<1x16x12x12xf32>
  %pad = memref.alloc() : memref<1x16x14x14xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x16x14x14xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 16, 12, 12] [1, 1, 1, 1] : memref<1x16x14x14xf32> to memref<1x16x12x12xf32, strided<[3136, 196, 14, 1], offset: 15>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x12x12xf32>) outs(%sub : memref<1x16x12x12xf32, strided<[3136, 196, 14, 1], offset: 15>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  %y = memref.alloc() : memref<1x16x1x12x12xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x16x1x12x12xf32>)
  linalg.generic {indexing_maps = [#x1, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]}
      ins(%pad, %k : memref<1x16x14x14xf32>, memref<16x1x1x3x3xf32>) outs(%y : memref<1x16x1x12x12xf32>) attrs = {kiln.depthwise = array<i64: 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %s0: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %s0, %p : f32
    linalg.yield %s : f32
  }
  return %y : memref<1x16x1x12x12xf32>
}
