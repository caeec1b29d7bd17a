// RUN: kiln-opt %s --kiln-lower-matmuls="winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4 winograd-block-tiles=5" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4 winograd-block-tiles=5 move-borders=false" --canonicalize --cse | FileCheck %s --check-prefix=KEEP
// RUN: kiln-opt %s --kiln-lower-matmuls="winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4" --canonicalize --cse | FileCheck %s --check-prefix=PRODUCTS
// RUN: kiln-opt %s --kiln-lower-matmuls="winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4 winograd-block-tiles=5 winograd-block-kb=1" --canonicalize --cse | FileCheck %s --check-prefix=PRODUCTS
// A stride-1 3x3 convolution of 2 channels on a 14x20 image in F(4x4, 3x3):
// 4 tile rows of 5 tiles. With winograd-block-tiles (5: blocks of one tile
// row, 4 blocks), on two or more threads (kiln_get_num_threads, when it
// runs) the blocks go to the threads, each block's input transform into a
// V on the thread's stack ([36][2][16]: its 5 tiles padded to a vector),
// then per row block of 2 output channels (one here) the 36 products into
// an M on the stack and their output transform; on one thread, by products
// as without the option. The padded input's borders, zeros filled before
// the copy that writes its interior, are read as zeros by the blocks (the
// first column replaced by a zero lane, the last not loaded) and written
// by the transform by products, so the fills before the copy go.

// CHECK-LABEL: func.func private @blocks_winograd0(
// CHECK-SAME: %[[FLAT:[^:]*]]: memref<704xf32>, %[[U:[^:]*]]: memref<36x1x2x2xf32>, %[[Y:[^:]*]]: memref<2x280xf32>
// CHECK-DAG: %[[LAST5:.*]] = arith.constant dense<[true, true, true, true, true, false, false, false, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK-DAG: %[[V:.*]] = memref.alloca() {alignment = 64 : i64} : memref<36x2x16xf32>
// CHECK-DAG: %[[M:.*]] = memref.alloca() {alignment = 64 : i64} : memref<36x2x16xf32>
// CHECK-NOT: linalg.fill
// CHECK: scf.for %[[BLK:.*]] = %{{.*}} to %{{.*}} step %c1 {
// Tile rows 1 and 2 (all 6 input rows inside) in a loop, their first input
// row's columns 0-15 with lane 0 a zero, 16-20 masked (column 21, the right
// border, not read); tile row th's tiles at (th - block) * 5 in V.
// CHECK:   scf.for %[[TH:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:     scf.for %[[CH:.*]] = %c0 to %c2 step %c1 {
// CHECK:       %[[TR:.*]] = arith.subi %[[TH]], %[[BLK]]
// CHECK:       %[[AT:.*]] = arith.muli %[[TR]], %c5
// CHECK:       %[[R0:.*]] = vector.load %[[FLAT]]
// CHECK:       vector.shuffle %[[R0]], %[[ZERO]] [16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK:       vector.maskedload %[[FLAT]][%{{.*}}], %[[LAST5]], %[[ZERO]]
// CHECK:       vector.maskedstore %[[V]][%c0, %[[CH]], %[[AT]]]
// Tile row 0 (its first input row the top border, a zero) and tile row 3
// (3 input rows inside, the bottom border the fourth), each if in the block.
// CHECK:   scf.if
// CHECK:   scf.if
// The products of row block 0: U[e][0] as a packed A of one block, V[e]'s
// 5 tiles read in place, into M[e].
// CHECK:   scf.for %[[E:.*]] = %c0 to %c36 step %c1 {
// CHECK:     memref.subview %[[U]][%[[E]], 0, 0, 0] [1, 1, 2, 2]
// CHECK:     memref.expand_shape
// CHECK:     %[[VE:.*]] = memref.subview %[[V]][%[[E]], 0, 0] [1, 2, 5] [1, 1, 1]
// CHECK:     %[[ME:.*]] = memref.subview %[[M]][%[[E]], 0, 0] [1, 2, 5] [1, 1, 1]
// CHECK:     vector.fma
// CHECK:     vector.maskedstore %[[ME]]
// The output transform of channels 0 and 1 from M, into Y.
// CHECK:   scf.for %[[OC:.*]] = %c0 to %c2 step %c1 {
// CHECK:     vector.maskedload %[[M]][%c0, %[[OC]],
// CHECK:     vector.maskedstore %[[Y]][%[[OC]],
// CHECK-NOT: linalg.fill
// CHECK: return

// CHECK-LABEL: func.func @blocks(
// CHECK-NOT: linalg.fill
// CHECK: linalg.copy
// CHECK: %[[N:.*]] = call @kiln_get_num_threads() : () -> i32
// CHECK: %[[MULTI:.*]] = arith.cmpi sgt, %[[N]], %c1_i32
// CHECK: scf.if %[[MULTI]] {
// CHECK:   call @blocks_winograd0_dispatch(%{{.*}}, %c0, %c0, %c4)
// CHECK: } else {
// CHECK-COUNT-4: linalg.fill
// CHECK:   vector.maskedload
// CHECK: return

// With move-borders=false the fills stay before the copy and the blocks
// read the borders from memory.
// KEEP-LABEL: func.func private @blocks_winograd0(
// KEEP-NOT: vector.shuffle %{{.*}}, %{{.*}} [16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// KEEP: return
// KEEP-LABEL: func.func @blocks(
// KEEP-COUNT-4: linalg.fill
// KEEP: linalg.copy
// KEEP: call @kiln_get_num_threads()

// Without the option, or with a V over its budget: by products alone.
// PRODUCTS-NOT: kiln_get_num_threads
// PRODUCTS-NOT: memref.alloca
// PRODUCTS-LABEL: func.func @blocks(
// PRODUCTS-NOT: scf.if
// PRODUCTS: return
#im2col_in = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh + kh, ow + kw)>
#id5 = affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>
memref.global "private" constant @w3x3 : memref<2x2x3x3xf32> = dense<0.5>
func.func @blocks(%in: memref<1x2x14x20xf32>, %y: memref<1x2x14x20xf32>) {
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<1x2x16x22xf32>
  %top = memref.subview %x[0, 0, 0, 0] [1, 2, 1, 22] [1, 1, 1, 1] : memref<1x2x16x22xf32> to memref<1x2x1x22xf32, strided<[704, 352, 22, 1]>>
  linalg.fill ins(%zero : f32) outs(%top : memref<1x2x1x22xf32, strided<[704, 352, 22, 1]>>)
  %bottom = memref.subview %x[0, 0, 15, 0] [1, 2, 1, 22] [1, 1, 1, 1] : memref<1x2x16x22xf32> to memref<1x2x1x22xf32, strided<[704, 352, 22, 1], offset: 330>>
  linalg.fill ins(%zero : f32) outs(%bottom : memref<1x2x1x22xf32, strided<[704, 352, 22, 1], offset: 330>>)
  %left = memref.subview %x[0, 0, 1, 0] [1, 2, 14, 1] [1, 1, 1, 1] : memref<1x2x16x22xf32> to memref<1x2x14x1xf32, strided<[704, 352, 22, 1], offset: 22>>
  linalg.fill ins(%zero : f32) outs(%left : memref<1x2x14x1xf32, strided<[704, 352, 22, 1], offset: 22>>)
  %right = memref.subview %x[0, 0, 1, 21] [1, 2, 14, 1] [1, 1, 1, 1] : memref<1x2x16x22xf32> to memref<1x2x14x1xf32, strided<[704, 352, 22, 1], offset: 43>>
  linalg.fill ins(%zero : f32) outs(%right : memref<1x2x14x1xf32, strided<[704, 352, 22, 1], offset: 43>>)
  %interior = memref.subview %x[0, 0, 1, 1] [1, 2, 14, 20] [1, 1, 1, 1] : memref<1x2x16x22xf32> to memref<1x2x14x20xf32, strided<[704, 352, 22, 1], offset: 23>>
  linalg.copy ins(%in : memref<1x2x14x20xf32>) outs(%interior : memref<1x2x14x20xf32, strided<[704, 352, 22, 1], offset: 23>>)
  %cols = memref.alloc() : memref<2x3x3x14x20xf32>
  linalg.generic {indexing_maps = [#im2col_in, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x16x22xf32>) outs(%cols : memref<2x3x3x14x20xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x14x20xf32> into memref<18x280xf32>
  %wg = memref.get_global @w3x3 : memref<2x2x3x3xf32>
  %a = memref.collapse_shape %wg [[0], [1, 2, 3]] : memref<2x2x3x3xf32> into memref<2x18xf32>
  %c = memref.collapse_shape %y [[0, 1], [2, 3]] : memref<1x2x14x20xf32> into memref<2x280xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<2x280xf32>)
  linalg.matmul ins(%a, %b : memref<2x18xf32>, memref<18x280xf32>) outs(%c : memref<2x280xf32>)
  return
}
