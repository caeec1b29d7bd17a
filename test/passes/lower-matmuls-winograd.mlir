// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=DIRECT
// A stride-1 3x3 convolution (an im2col matmul with constant weights) as
// Winograd F(2x2, 3x3): a 3x5 output of 2 channels is 2x3 tiles, the last
// tile row and column half outside the image.

// The weights transformed at compile time: U[e][oc][c] = (G g G^T)[e/4][e%4],
// for g all 0.5: 0.5 * r[e/4] * r[e%4] with G's row sums r = 1, 1.5, 0.5, 1
// (e = 0: 0.5, e = 1: 0.75, e = 2: 0.25, e = 3: 0.5, e = 4: 0.75, e = 5: 1.125).
// CHECK-NOT: memref.global "private" constant @w3x3 :
// CHECK: memref.global "private" constant @w3x3_winograd : memref<16x2x2xf32>
// CHECK-LABEL: func.func @winograd(
// CHECK-SAME: %[[X:[^:]*]]: memref<1x2x5x7xf32>, %[[Y:[^:]*]]: memref<1x2x3x5xf32>
// CHECK-DAG: %[[FLAT:.*]] = memref.reinterpret_cast %[[X]] to offset: [0], sizes: [70], strides: [1]
// CHECK-DAG: %[[U:.*]] = memref.get_global @w3x3_winograd : memref<16x2x2xf32>
// CHECK-DAG: %[[V:.*]] = memref.alloc() {alignment = 64 : i64} : memref<16x2x6xf32>
// CHECK-DAG: %[[M:.*]] = memref.alloc() {alignment = 64 : i64} : memref<16x2x6xf32>
// The input transform, per channel: each input row's two spans (from
// column 0 and 2, masked at the padded width 7), their even and odd lanes
// the tile columns j = 0, 1 and 2, 3.
// CHECK: scf.for %[[CH:.*]] = %c0 to %c2 step %c1 {
// CHECK:   vector.maskedload %[[FLAT]]
// CHECK:   vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK:   vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// 16 transformed values per tile, the 3 tiles of a tile row masked.
// CHECK-COUNT-16: vector.maskedstore %[[V]][%c{{[0-9]+}}, %[[CH]], %c0]
// The second tile row: its fourth input row (row 5) is outside, zero.
// CHECK-COUNT-16: vector.maskedstore %[[V]][%c{{[0-9]+}}, %[[CH]], %c3]
// The products start from zeros: no fill of M.
// CHECK-NOT: linalg.fill
// CHECK: vector.fma
// The output transform, per output channel: tile values interleaved into
// output rows 0 and 1 (columns 0 and 5 of the 3x5 image), then row 2
// alone from the last tile row.
// CHECK: scf.for %[[OC:.*]] = %c0 to %c2 step %c1 {
// CHECK:   vector.maskedload %[[M]]
// CHECK:   vector.shuffle {{.*}} [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23]
// CHECK:   vector.maskedstore %{{.*}}[%[[OC]], %c0]
// CHECK:   vector.maskedstore %{{.*}}[%[[OC]], %c5]
// CHECK:   vector.maskedstore %{{.*}}[%[[OC]], %c10]
// CHECK-NOT: linalg.matmul
// CHECK: w3x3_winograd: "0x040000000000003F0000003F0000003F0000003F0000403F0000403F0000403F0000403F0000803E0000803E0000803E0000803E0000003F0000003F0000003F0000003F0000403F0000403F0000403F0000403F0000903F

// Below the default thresholds (16 channels, 16 tiles) it stays a GEMM
// that packs the im2col.
// DIRECT-LABEL: func.func @winograd(
// DIRECT-NOT: winograd
// DIRECT: vector.fma
#im2col_in = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh + kh, ow + kw)>
#id5 = affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>
memref.global "private" constant @w3x3 : memref<2x2x3x3xf32> = dense<0.5>
func.func @winograd(%x: memref<1x2x5x7xf32>, %y: memref<1x2x3x5xf32>) {
  %zero = arith.constant 0.0 : f32
  %cols = memref.alloc() : memref<2x3x3x3x5xf32>
  linalg.generic {indexing_maps = [#im2col_in, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x5x7xf32>) outs(%cols : memref<2x3x3x3x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x3x5xf32> into memref<18x15xf32>
  %wg = memref.get_global @w3x3 : memref<2x2x3x3xf32>
  %a = memref.collapse_shape %wg [[0], [1, 2, 3]] : memref<2x2x3x3xf32> into memref<2x18xf32>
  %c = memref.collapse_shape %y [[0, 1], [2, 3]] : memref<1x2x3x5xf32> into memref<2x15xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<2x15xf32>)
  linalg.matmul ins(%a, %b : memref<2x18xf32>, memref<18x15xf32>) outs(%c : memref<2x15xf32>)
  return
}
