// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1 dot-tail=false" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=2" --canonicalize --cse | FileCheck %s --check-prefix=TAIL
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=2 dot-tail=false" --canonicalize --cse | FileCheck %s --check-prefix=NOTAIL
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1" --canonicalize --cse | FileCheck %s --check-prefix=BORDERS
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1 move-borders=false" --canonicalize --cse | FileCheck %s --check-prefix=KEEP
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4" --canonicalize --cse | FileCheck %s --check-prefix=F4
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=DIRECT
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=2" --canonicalize --cse | FileCheck %s --check-prefix=ROWS
// A stride-1 3x3 convolution (an im2col matmul with constant weights) as
// Winograd F(2x2, 3x3), the default for this size (its 6 tiles' 16 products
// cost 16 x (1 + 1) per channel pair, 4x4 tiles' 36 products 36 x (1 + 1)):
// a 3x5 output of 2 channels is 2x3 tiles, the last tile row and column half
// outside the image.

// The weights transformed at compile time, packed into row blocks of the
// products' micro-kernel (2 rows here): U[e][oc/2][c][oc%2] =
// (G g G^T)[e/4][e%4],
// for g all 0.5: 0.5 * r[e/4] * r[e%4] with G's row sums r = 1, 1.5, 0.5, 1
// (e = 0: 0.5, e = 1: 0.75, e = 2: 0.25, e = 3: 0.5, e = 4: 0.75, e = 5: 1.125).
// CHECK-NOT: memref.global "private" constant @w3x3 :
// CHECK: memref.global "private" constant @w3x3_winograd2x2_2 : memref<16x1x2x2xf32>
// CHECK-LABEL: func.func @winograd(
// CHECK-SAME: %[[X:[^:]*]]: memref<1x2x5x7xf32>, %[[Y:[^:]*]]: memref<1x2x3x5xf32>
// CHECK-DAG: %[[FLAT:.*]] = memref.reinterpret_cast %[[X]] to offset: [0], sizes: [70], strides: [1]
// CHECK-DAG: %[[U:.*]] = memref.get_global @w3x3_winograd2x2_2 : memref<16x1x2x2xf32>
// V and M: 16 slabs of 2 x 6 floats, an odd number of cache lines (one)
// apart.
// CHECK: %[[VF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
// CHECK-NEXT: %[[V:.*]] = memref.reinterpret_cast %[[VF]] to offset: [0], sizes: [16, 2, 6], strides: [16, 6, 1]
// CHECK-NEXT: %[[MF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
// CHECK-NEXT: %[[M:.*]] = memref.reinterpret_cast %[[MF]] to offset: [0], sizes: [16, 2, 6], strides: [16, 6, 1]
// The input transform, per channel. The tile rows of 3 tiles share a
// vector (5 would fit; there are 2), lane 3 r + t for tile t of tile row r:
// d[i][j] of tile row 0 is lanes j, j + 2, j + 4 of input row i (masked at
// the padded width 7), of tile row 1 those of input row i + 2, each placed
// by a shuffle.
// CHECK: scf.for %[[CH:.*]] = %c0 to %c2 step %c1 {
// CHECK:   %[[R0:.*]] = vector.maskedload %[[FLAT]]
// CHECK:   %[[R2:.*]] = vector.maskedload %[[FLAT]]
// CHECK:   %[[T0:.*]] = vector.shuffle %{{.*}}, %[[R0]] [16, 18, 20, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK:   vector.shuffle %[[T0]], %[[R2]] [0, 1, 2, 16, 18, 20, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// (Tile row 1's fourth input row, row 5, is outside: d[3][j] has tile
// row 0's lanes alone.)
// 16 transformed values per tile, both tile rows' 6 tiles at once, stored
// as 8 lanes masked (not 16: a store's footprint is its whole vector).
// CHECK-COUNT-16: vector.maskedstore %[[V]][%c{{[0-9]+}}, %[[CH]], %c0], %{{.*}}, %{{.*}} : memref<16x2x6xf32, strided<[16, 6, 1]>>, vector<8xi1>, vector<8xf32>
// CHECK-NOT: vector.maskedstore %[[V]]
// The products start from zeros: no fill of M. Each step of k reads the
// row block's two weights side by side, after prefetching the packed
// stream 1024 floats ahead, clamped to the last of this product's 4
// weights.
// CHECK-NOT: linalg.fill
// CHECK: scf.for %[[E:.*]] = %c0 to %c16 step %c1 {
// CHECK:   %[[UE:.*]] = memref.subview %[[U]][%[[E]], 0, 0, 0] [1, 1, 2, 2]
// CHECK:   %[[UF:.*]] = memref.collapse_shape %[[UE]] {{\[\[}}0, 1, 2]] : memref<1x2x2xf32, strided<[4, 2, 1], offset: ?>> into memref<4xf32, strided<[1], offset: ?>>
// CHECK:   scf.for %[[K:.*]] = %c0 to %c2 step %c1 iter_args(
// CHECK:     %[[AT:.*]] = arith.addi %{{.*}}, %c1024
// CHECK:     %[[IN:.*]] = arith.minsi %[[AT]], %c3
// CHECK:     memref.prefetch %[[UF]][%[[IN]]], read, locality<3>, data
// CHECK:     memref.load %[[UE]][%c0, %[[K]], %c0]
// CHECK:     vector.fma
// CHECK:     memref.load %[[UE]][%c0, %[[K]], %c1]
// CHECK:     vector.fma
// The output transform, per output channel, both tile rows at once: output
// row a of tile row r takes its columns 2 t and 2 t + 1 from lane 3 r + t
// of the two column results: rows 0 and 2 (columns 0 and 10 of the 3x5
// image), then row 1 (tile row 1 has only its first row inside).
// CHECK: scf.for %[[OC:.*]] = %c0 to %c2 step %c1 {
// CHECK:   vector.maskedload %[[M]]
// CHECK:   vector.shuffle %{{.*}}, %{{.*}} [16, 1, 17, 3, 18, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK:   vector.shuffle %{{.*}}, %{{.*}} [0, 16, 2, 17, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK:   vector.maskedstore %{{.*}}[%[[OC]], %c0]
// CHECK:   vector.shuffle %{{.*}}, %{{.*}} [19, 1, 20, 3, 21, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK:   vector.maskedstore %{{.*}}[%[[OC]], %c10]
// CHECK:   vector.maskedstore %{{.*}}[%[[OC]], %c5]
// CHECK-NOT: vector.maskedstore
// CHECK-NOT: linalg.matmul
// CHECK: return
// CHECK: w3x3_winograd2x2_2: "0x040000000000003F0000003F0000003F0000003F0000403F0000403F0000403F0000403F0000803E0000803E0000803E0000803E0000003F0000003F0000003F0000003F0000403F0000403F0000403F0000403F0000903F

// F(4x4, 3x3), asked for: one tile row of 2 tiles, 36 products. G's row
// sums are 1/36, 152/585, 56/585, ..., so U for g all 0.5 starts
// 0.5/1296 (0x39CA4588), 0.5 * 152/21060 (0x3B6C808F), 0.5 * 56/21060
// (0x3AAE43C8), rounded from double.
// F4: memref.global "private" constant @w3x3_winograd4x4_2 : memref<36x1x2x2xf32>
// F4-LABEL: func.func @winograd(
// F4-DAG: %[[FLAT:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [70], strides: [1]
// F4-DAG: %[[U:.*]] = memref.get_global @w3x3_winograd4x4_2 : memref<36x1x2x2xf32>
// F4: %[[VF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<576xf32>
// F4-NEXT: %[[V:.*]] = memref.reinterpret_cast %[[VF]] to offset: [0], sizes: [36, 2, 2], strides: [16, 2, 1]
// F4-NEXT: %[[MF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<576xf32>
// F4-NEXT: %[[M:.*]] = memref.reinterpret_cast %[[MF]] to offset: [0], sizes: [36, 2, 2], strides: [16, 2, 1]
// Every fourth column, picked per j from the input row (a tile row of 2
// tiles: a vector could hold 8): lanes j and j + 4, the second tile's past
// the padded width 7 for j >= 3, so zero.
// F4: scf.for %[[CH:.*]] = %c0 to %c2 step %c1 {
// F4:   %[[R0:.*]] = vector.maskedload %[[FLAT]]
// F4:   vector.shuffle %{{.*}}, %[[R0]] [16, 20, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// F4:   vector.shuffle %{{.*}}, %[[R0]] [19, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// F4:   vector.shuffle %{{.*}}, %[[R0]] [21, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// B^T's constants in FMAs.
// F4:   vector.fma
// 36 transformed values per tile, the 2 tiles of the tile row as a vector
// of 2 lanes; no second tile row.
// F4-COUNT-36: vector.store %{{.*}}, %[[V]][%c{{[0-9]+}}, %[[CH]], %c0] : memref<36x2x2xf32, strided<[16, 2, 1]>>, vector<2xf32>
// F4-NOT: vector.maskedstore %[[V]]
// F4-NOT: vector.store %{{.*}}, %[[V]]
// F4-NOT: linalg.fill
// The output transform: an output row's columns 4 t + k from lane t of
// column k's result, a shuffle per k; the 3 output rows of the one tile
// row.
// F4: scf.for %[[OC:.*]] = %c0 to %c2 step %c1 {
// F4:   vector.maskedload %[[M]]
// F4:   %[[K0:.*]] = vector.shuffle %{{.*}}, %{{.*}} [16, 1, 2, 3, 17, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// F4:   %[[K1:.*]] = vector.shuffle %[[K0]], %{{.*}} [0, 16, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// F4:   %[[K2:.*]] = vector.shuffle %[[K1]], %{{.*}} [0, 1, 16, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// F4:   vector.shuffle %[[K2]], %{{.*}} [0, 1, 2, 16, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// F4:   vector.maskedstore %{{.*}}[%[[OC]], %c0]
// F4:   vector.maskedstore %{{.*}}[%[[OC]], %c5]
// F4:   vector.maskedstore %{{.*}}[%[[OC]], %c10]
// F4-NOT: linalg.matmul
// F4: w3x3_winograd4x4_2: "0x040000008845CA398845CA398845CA398845CA398F806C3B8F806C3B8F806C3B8F806C3BC843AE3A

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

// 8 output channels of a 14x14 image in F(2x2, 3x3): 49 tiles, run as 48 +
// 1 (8 x 3 accumulators, then the last tile as dot products along k: the
// row block's 8 weights of two steps of k as the lanes of one vector,
// times the tile's two values of V read in place, each filling a half),
// not 32 + 17, whose last vector has one lane to do. With dot-tail=false,
// two panels of 32.
// TAIL-LABEL: func.func @winograd_tail(
// TAIL: scf.for %[[E:.*]] = %c0 to %c16 step %c1 {
// TAIL:   %[[VE:.*]] = memref.subview %{{.*}}[%[[E]], 0, 0] [1, 2, 49] [1, 1, 1] : memref<16x2x49xf32, strided<[112, 49, 1]>>
// TAIL:   %[[UE:.*]] = memref.subview %{{.*}}[%[[E]], 0, 0, 0] [1, 1, 2, 8]
// TAIL:   %[[ME:.*]] = memref.subview %{{.*}}[%[[E]], 0, 0] [1, 8, 49] [1, 1, 1] : memref<16x8x49xf32, strided<[400, 49, 1]>>
// TAIL:   %[[UF:.*]] = memref.collapse_shape %[[UE]]
// The panel of 48 tiles: 8 rows of 3 vectors.
// TAIL:   scf.for %[[K:.*]] = %c0 to %c2 step %c1 iter_args(
// TAIL-COUNT-3: vector.load %[[VE]][%[[K]], %c{{0|16|32}}]
// TAIL-COUNT-24: vector.fma
// TAIL:   scf.yield
// TAIL-COUNT-24: vector.store %{{.*}}, %[[ME]]
// The last tile: two steps of k a vector, the block's 8 weights of k = 0
// and 1 in one load, the tile's values of V (read in place) in its
// halves, and the halves summed.
// TAIL:   %[[W:.*]] = vector.load %[[UF]][%c0] : {{.*}}, vector<16xf32>
// TAIL:   %[[T0:.*]] = memref.load %[[VE]][%c0, %c48]
// TAIL:   %[[T1:.*]] = memref.load %[[VE]][%c1, %c48]
// TAIL:   %[[TP:.*]] = vector.from_elements %[[T0]], %[[T1]] : vector<2xf32>
// TAIL:   %[[TB:.*]] = vector.shuffle %[[TP]], %[[TP]] [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
// TAIL:   %[[S:.*]] = vector.fma %[[W]], %[[TB]]
// TAIL:   vector.extract_strided_slice %[[S]] {offsets = [0], sizes = [8], strides = [1]}
// TAIL:   vector.extract_strided_slice %[[S]] {offsets = [8], sizes = [8], strides = [1]}
// TAIL-COUNT-8: vector.maskedstore %[[ME]][%c{{[0-7]}}, %c48]
// TAIL-NOT: linalg.matmul
// NOTAIL-LABEL: func.func @winograd_tail(
// NOTAIL: scf.for %{{.*}} = %c0 to %c16 step %c1 {
// NOTAIL: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(
// NOTAIL-COUNT-16: vector.fma
// NOTAIL: scf.yield
// NOTAIL: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(
// NOTAIL-COUNT-16: vector.fma
// NOTAIL: scf.yield
// NOTAIL-NOT: memref.load %{{.*}}[%c0, %c48]
memref.global "private" constant @w8x2 : memref<8x2x3x3xf32> = dense<0.5>
func.func @winograd_tail(%x: memref<1x2x16x16xf32>, %y: memref<1x8x14x14xf32>) {
  %zero = arith.constant 0.0 : f32
  %cols = memref.alloc() : memref<2x3x3x14x14xf32>
  linalg.generic {indexing_maps = [#im2col_in, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x16x16xf32>) outs(%cols : memref<2x3x3x14x14xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x14x14xf32> into memref<18x196xf32>
  %wg = memref.get_global @w8x2 : memref<8x2x3x3xf32>
  %a = memref.collapse_shape %wg [[0], [1, 2, 3]] : memref<8x2x3x3xf32> into memref<8x18xf32>
  %c = memref.collapse_shape %y [[0, 1], [2, 3]] : memref<1x8x14x14xf32> into memref<8x196xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<8x196xf32>)
  linalg.matmul ins(%a, %b : memref<8x18xf32>, memref<18x196xf32>) outs(%c : memref<8x196xf32>)
  return
}

// The padded input's border fills, which the caller made before the layer
// that writes its interior (here a copy), go into the input transform: for
// each piece's planes, right before it reads them (serial here: the
// transform is small, so they come after the copy).
// BORDERS-LABEL: func.func @winograd_borders(
// BORDERS-NOT: linalg.fill
// BORDERS: linalg.copy
// BORDERS-COUNT-4: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x2x{{1x7|3x1}}xf32
// BORDERS: scf.for %{{.*}} = %c0 to %c2 step %c1 {
// BORDERS:   vector.maskedload
// KEEP-LABEL: func.func @winograd_borders(
// KEEP-COUNT-4: linalg.fill
// KEEP: linalg.copy
// KEEP-NOT: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x2x
func.func @winograd_borders(%in: memref<1x2x3x5xf32>, %y: memref<1x2x3x5xf32>) {
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<1x2x5x7xf32>
  %top = memref.subview %x[0, 0, 0, 0] [1, 2, 1, 7] [1, 1, 1, 1] : memref<1x2x5x7xf32> to memref<1x2x1x7xf32, strided<[70, 35, 7, 1]>>
  linalg.fill ins(%zero : f32) outs(%top : memref<1x2x1x7xf32, strided<[70, 35, 7, 1]>>)
  %bottom = memref.subview %x[0, 0, 4, 0] [1, 2, 1, 7] [1, 1, 1, 1] : memref<1x2x5x7xf32> to memref<1x2x1x7xf32, strided<[70, 35, 7, 1], offset: 28>>
  linalg.fill ins(%zero : f32) outs(%bottom : memref<1x2x1x7xf32, strided<[70, 35, 7, 1], offset: 28>>)
  %left = memref.subview %x[0, 0, 1, 0] [1, 2, 3, 1] [1, 1, 1, 1] : memref<1x2x5x7xf32> to memref<1x2x3x1xf32, strided<[70, 35, 7, 1], offset: 7>>
  linalg.fill ins(%zero : f32) outs(%left : memref<1x2x3x1xf32, strided<[70, 35, 7, 1], offset: 7>>)
  %right = memref.subview %x[0, 0, 1, 6] [1, 2, 3, 1] [1, 1, 1, 1] : memref<1x2x5x7xf32> to memref<1x2x3x1xf32, strided<[70, 35, 7, 1], offset: 13>>
  linalg.fill ins(%zero : f32) outs(%right : memref<1x2x3x1xf32, strided<[70, 35, 7, 1], offset: 13>>)
  %interior = memref.subview %x[0, 0, 1, 1] [1, 2, 3, 5] [1, 1, 1, 1] : memref<1x2x5x7xf32> to memref<1x2x3x5xf32, strided<[70, 35, 7, 1], offset: 8>>
  linalg.copy ins(%in : memref<1x2x3x5xf32>) outs(%interior : memref<1x2x3x5xf32, strided<[70, 35, 7, 1], offset: 8>>)
  %cols = memref.alloc() : memref<2x3x3x3x5xf32>
  linalg.generic {indexing_maps = [#im2col_in, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x5x7xf32>) outs(%cols : memref<2x3x3x3x5xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x3x5xf32> into memref<18x15xf32>
  %wg = memref.get_global @w3x3 : memref<2x2x3x3xf32>
  %a = memref.collapse_shape %wg [[0], [1, 2, 3]] : memref<2x2x3x3xf32> into memref<2x18xf32>
  %c = memref.collapse_shape %y [[0, 1], [2, 3]] : memref<1x2x3x5xf32> into memref<2x15xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<2x15xf32>)
  linalg.matmul ins(%a, %b : memref<2x18xf32>, memref<18x15xf32>) outs(%c : memref<2x15xf32>)
  return
}

// At most a vector of tiles (a 7x7 output in F(2x2): 4x4 tiles, 16): U in
// row blocks of 16 output channels (twice tile-m), so that the products'
// micro-kernel, one vector of tiles a row, keeps 16 accumulators: 16 FMAs
// a step of k, each on one weight of the block's stream.
// ROWS: memref.global "private" constant @w16x2_winograd2x2_16 : memref<16x1x2x16xf32>
// ROWS-LABEL: func.func @winograd_rows(
// ROWS: scf.for %{{.*}} = %c0 to %c16 step %c1 {
// ROWS:   scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(
// ROWS:     memref.prefetch
// ROWS-COUNT-16: vector.fma
// ROWS-NEXT: scf.yield
memref.global "private" constant @w16x2 : memref<16x2x3x3xf32> = dense<0.5>
func.func @winograd_rows(%x: memref<1x2x9x9xf32>, %y: memref<1x16x7x7xf32>) {
  %zero = arith.constant 0.0 : f32
  %cols = memref.alloc() : memref<2x3x3x7x7xf32>
  linalg.generic {indexing_maps = [#im2col_in, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x9x9xf32>) outs(%cols : memref<2x3x3x7x7xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x7x7xf32> into memref<18x49xf32>
  %wg = memref.get_global @w16x2 : memref<16x2x3x3xf32>
  %a = memref.collapse_shape %wg [[0], [1, 2, 3]] : memref<16x2x3x3xf32> into memref<16x18xf32>
  %c = memref.collapse_shape %y [[0, 1], [2, 3]] : memref<1x16x7x7xf32> into memref<16x49xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<16x49xf32>)
  linalg.matmul ins(%a, %b : memref<16x18xf32>, memref<18x49xf32>) outs(%c : memref<16x49xf32>)
  return
}
