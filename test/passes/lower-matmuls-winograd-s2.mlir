// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1 winograd-stride2=false" --canonicalize --cse | FileCheck %s --check-prefix=OFF
// A stride-2 3x3 convolution (an im2col matmul whose output pixels step 2
// input columns and rows) by its phases (Winograd.h): a 16x32 output of 2
// channels is 4 x 8 tiles of 4x4, each from a 9x9 input tile 8 apart, 81
// products of 2 vectors per channel pair and 36 distinct weights (198)
// against the direct convolution's 9 taps of 32 vectors (288).

// The weights transformed at compile time, packed into row blocks (2 rows
// here): 36 of them, U[6 i + j] = (G g G^T)[i][j] for G's 6 distinct rows
// (its rows 5 to 8, the odd tap's, are one); for g all 0.5, 0.5 * r[i] *
// r[j] with G's row sums r = 1, 2, 0, 4, 1 (the even phase's) and 1 (the
// odd one's).
// CHECK: memref.global "private" constant @w3x3_winograd4x4s2_2 : memref<36x1x2x2xf32>
// CHECK-LABEL: func.func @winograd_s2(
// CHECK-DAG: %[[FLAT:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [4488], strides: [1]
// CHECK-DAG: %[[U:.*]] = memref.get_global @w3x3_winograd4x4s2_2 : memref<36x1x2x2xf32>
// V and M: 81 slabs of 2 x 32 floats, an odd number of cache lines apart.
// CHECK: %[[VF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6480xf32>
// CHECK-NEXT: %[[V:.*]] = memref.reinterpret_cast %[[VF]] to offset: [0], sizes: [81, 2, 32], strides: [80, 32, 1]
// CHECK-NEXT: %[[MF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6480xf32>
// CHECK-NEXT: %[[M:.*]] = memref.reinterpret_cast %[[MF]] to offset: [0], sizes: [81, 2, 32], strides: [80, 32, 1]
// The input transform, per channel (planes of 34 x 66) and tile row (8
// input rows apart: 528 floats): each input row's columns 8 t + j for the
// tile row's 8 tiles, from its first 65 columns (the taps' reach, 2 x 31 +
// 3; the last vector masked), every eighth by a tree of even/odd picks.
// CHECK: scf.for %[[CH:.*]] = %c0 to %c2 step %c1 {
// CHECK:   scf.for %[[TH:.*]] = %c0 to %c4 step %c1 {
// CHECK:     %[[P:.*]] = arith.muli %[[CH]], %c2244
// CHECK:     %[[R:.*]] = arith.muli %[[TH]], %c528
// CHECK:     %[[AT:.*]] = arith.addi %[[P]], %[[R]]
// CHECK:     %[[S0:.*]] = vector.load %[[FLAT]][%[[AT]]]
// CHECK:     %[[A1:.*]] = arith.addi %[[AT]], %c16
// CHECK:     %[[S1:.*]] = vector.load %[[FLAT]][%[[A1]]]
// CHECK:     %[[A4:.*]] = arith.addi %[[AT]], %c64
// CHECK:     vector.maskedload %[[FLAT]][%[[A4]]]
// CHECK:     vector.shuffle %[[S0]], %[[S1]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// 81 transformed values per tile, the tile row's 8 tiles as 8 lanes.
// CHECK-COUNT-81: vector.store %{{.*}}, %[[V]][%c{{[0-9]+}}, %[[CH]], %{{.*}}] : memref<81x2x32xf32, strided<[80, 32, 1]>>, vector<8xf32>
// CHECK-NOT: vector.store %{{.*}}, %[[V]]
// The 81 products, from zeros, element e = 9 i + j's weights U[6 min(i,
// 5) + min(j, 5)].
// CHECK-NOT: linalg.fill
// CHECK: scf.for %[[E:.*]] = %c0 to %c81 step %c1 {
// CHECK:   memref.subview %[[V]][%[[E]], 0, 0] [1, 2, 32]
// CHECK:   %[[I:.*]] = arith.divui %[[E]], %c9
// CHECK:   %[[CI:.*]] = arith.minui %[[I]], %c5
// CHECK:   %[[J:.*]] = arith.remui %[[E]], %c9
// CHECK:   %[[CJ:.*]] = arith.minui %[[J]], %c5
// CHECK:   %[[R:.*]] = arith.muli %[[CI]], %c6
// CHECK:   %[[W:.*]] = arith.addi %[[R]], %[[CJ]]
// CHECK:   memref.subview %[[U]][%[[W]], 0, 0, 0] [1, 1, 2, 2]
// CHECK:   memref.subview %[[M]][%[[E]], 0, 0] [1, 2, 32]
// CHECK:   vector.fma
// The output transform, per output channel and tile row: the 81 values of
// each tile, its 4 output rows of 32 columns as 2 vectors each.
// CHECK: scf.for %[[OC:.*]] = %c0 to %c2 step %c1 {
// CHECK:   scf.for %[[TO:.*]] = %c0 to %c4 step %c1 {
// CHECK-COUNT-81: vector.maskedload %[[M]][%c{{[0-9]+}}, %[[OC]], %{{.*}}]
// CHECK-COUNT-8: vector.store %{{.*}}, %{{.*}}[%[[OC]], %{{.*}}] : memref<2x512xf32>, vector<16xf32>
// CHECK-NOT: linalg.matmul

// Not asked for: the GEMM, packing the im2col (k = 18) at run time.
// OFF-LABEL: func.func @winograd_s2(
// OFF-NOT: winograd
// OFF: memref.alloc() {alignment = 64 : i64} : memref<{{[0-9]+}}x18x{{[0-9]+}}xf32>
// OFF-NOT: winograd

// 2 x 4 tiles (an 8x16 output): 81 + 36 = 117 against 9 x 8 = 72, the
// direct convolution's.
// CHECK-LABEL: func.func @direct_s2(
// CHECK-NOT: winograd
// CHECK: return
// U's first 6 matrices (2 x 2 each): 0.5, 1, 0, 2, 0.5, 0.5.
// CHECK: w3x3_winograd4x4s2_2: "0x040000000000003F0000003F0000003F0000003F0000803F0000803F0000803F0000803F00000000000000000000000000000000000000400000004000000040000000400000003F0000003F0000003F0000003F0000003F0000003F0000003F0000003F
#im2col_s2 = affine_map<(c, kh, kw, oh, ow) -> (0, c, 2 * oh + kh, 2 * ow + kw)>
#id5 = affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>
memref.global "private" constant @w3x3 : memref<2x2x3x3xf32> = dense<0.5>
func.func @winograd_s2(%x: memref<1x2x34x66xf32>, %y: memref<1x2x16x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %cols = memref.alloc() : memref<2x3x3x16x32xf32>
  linalg.generic {indexing_maps = [#im2col_s2, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x34x66xf32>) outs(%cols : memref<2x3x3x16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x16x32xf32> into memref<18x512xf32>
  %wg = memref.get_global @w3x3 : memref<2x2x3x3xf32>
  %a = memref.collapse_shape %wg [[0], [1, 2, 3]] : memref<2x2x3x3xf32> into memref<2x18xf32>
  %c = memref.collapse_shape %y [[0, 1], [2, 3]] : memref<1x2x16x32xf32> into memref<2x512xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<2x512xf32>)
  linalg.matmul ins(%a, %b : memref<2x18xf32>, memref<18x512xf32>) outs(%c : memref<2x512xf32>)
  return
}

func.func @direct_s2(%x: memref<1x2x18x34xf32>, %y: memref<1x2x8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %cols = memref.alloc() : memref<2x3x3x8x16xf32>
  linalg.generic {indexing_maps = [#im2col_s2, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x18x34xf32>) outs(%cols : memref<2x3x3x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x8x16xf32> into memref<18x128xf32>
  %wg = memref.get_global @w3x3 : memref<2x2x3x3xf32>
  %a = memref.collapse_shape %wg [[0], [1, 2, 3]] : memref<2x2x3x3xf32> into memref<2x18xf32>
  %c = memref.collapse_shape %y [[0, 1], [2, 3]] : memref<1x2x8x16xf32> into memref<2x128xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<2x128xf32>)
  linalg.matmul ins(%a, %b : memref<2x18xf32>, memref<18x128xf32>) outs(%c : memref<2x128xf32>)
  return
}
