// RUN: kiln-opt %s --kiln-lower-matmuls="winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4 winograd-span-tiles=10" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4 winograd-span-tiles=10 winograd-block-tiles=5" --canonicalize --cse | FileCheck %s --check-prefix=BLOCKS
// RUN: kiln-opt %s --kiln-lower-matmuls="winograd-min-channels=1 winograd-min-tiles=1 winograd-tile=4 winograd-span-tiles=20" --canonicalize --cse | FileCheck %s --check-prefix=PRODUCTS
// A stride-1 3x3 convolution of 2 channels on a 14x20 image in F(4x4, 3x3):
// 4 tile rows of 5 tiles. With winograd-span-tiles (10: spans of 2 tile
// rows, 2 spans), on as many threads as spans (kiln_get_num_threads, when
// it runs) each thread takes a span, in three calls whose units are the
// spans' parts in turn (a thread's own range its span's, the runtime free to
// move pieces between threads): its input transform channel by channel into
// its V ([36][2][16] of the span buffer [2][36][2][16], each span's 10
// tiles padded to a vector and its 36 slabs 3 cache lines apart; units 2
// spans x 2 channels), its 36 products of all output channels into its M
// (the second span's from element 18 on, so that the threads read
// different weights at a time; units 2 x 36 elements), and their output
// transform channel by channel into Y (units 2 x 2 output channels, M read
// at the channel's own row). V and M by products ([36][2][20]) are views of
// the same two buffers. The padded input's borders are read as zeros by the
// spans and written by the transform by products, as with blocks. With
// winograd-block-tiles as well, blocks come first; where the image would be
// one span (20 tiles), by products alone.

// Units [begin, end) reach spans [begin / 2, ceil(end / 2)), and of span s
// the channels [max(begin, 2 s), min(end, 2 s + 2)) - 2 s.
// CHECK-LABEL: func.func private @spans_winograd0(
// CHECK-SAME: %[[FLAT:[^:]*]]: memref<704xf32>, %[[U:[^:]*]]: memref<36x1x2x2xf32>, %[[Y:[^:]*]]: memref<2x280xf32>, %[[VS:[^:]*]]: memref<2x36x2x16xf32, strided<[1728, 48, 16, 1]>>, %[[MS:[^:]*]]: memref<2x36x2x16xf32, strided<[1728, 48, 16, 1]>>
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// CHECK-NOT: memref.alloca
// CHECK-NOT: linalg.fill
// CHECK: %[[FIRST:.*]] = arith.divui %[[BEGIN]], %c2
// CHECK: %[[UP:.*]] = arith.addi %[[END]], %c1
// CHECK: %[[PAST:.*]] = arith.divui %[[UP]], %c2
// CHECK: scf.for %[[SPAN:.*]] = %[[FIRST]] to %[[PAST]] step %c1 {
// CHECK:   %[[BASE:.*]] = arith.muli %[[SPAN]], %c2
// CHECK:   %[[LO0:.*]] = arith.maxsi %[[BEGIN]], %[[BASE]]
// CHECK:   %[[LO:.*]] = arith.subi %[[LO0]], %[[BASE]]
// CHECK:   %[[HI0:.*]] = arith.minsi %[[END]], %{{.*}}
// CHECK:   %[[HI:.*]] = arith.subi %[[HI0]], %[[BASE]]
// CHECK:   %[[V:.*]] = memref.subview %[[VS]][%[[SPAN]], 0, 0, 0] [1, 36, 2, 16]
// Channel by channel, the span's tile rows inside the image in a loop, tile
// row th's tiles at (th - 2 span) * 5 in V (its first tile row 2 span, the
// same value as the units' base here).
// CHECK:   scf.for %[[CH:.*]] = %[[LO]] to %[[HI]] step %c1 {
// CHECK:     scf.for %[[TH:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:       %[[TR:.*]] = arith.subi %[[TH]], %[[BASE]]
// CHECK:       %[[AT:.*]] = arith.muli %[[TR]], %c5
// CHECK:       vector.maskedstore %[[V]][%c0, %[[CH]], %[[AT]]]
// The first and last tile rows, each if in the span.
// CHECK:     scf.if
// CHECK:     scf.if
// CHECK-NOT: linalg.fill
// CHECK: return

// The products: U[e], the span's V[e] and M[e] over its 10 tiles for its
// elements [lo, hi), span s from element 18 s on, round.
// CHECK-LABEL: func.func private @spans_winograd1(
// CHECK-SAME: %[[FLAT:[^:]*]]: memref<704xf32>, %[[U:[^:]*]]: memref<36x1x2x2xf32>, %[[Y:[^:]*]]: memref<2x280xf32>, %[[VS:[^:]*]]: memref<2x36x2x16xf32, strided<[1728, 48, 16, 1]>>, %[[MS:[^:]*]]: memref<2x36x2x16xf32, strided<[1728, 48, 16, 1]>>
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// CHECK: %[[FIRST:.*]] = arith.divui %[[BEGIN]], %c36
// CHECK: scf.for %[[SPAN:.*]] = %[[FIRST]] to %{{.*}} step %c1 {
// CHECK:   %[[BASE:.*]] = arith.muli %[[SPAN]], %c36
// CHECK:   %[[LO:.*]] = arith.subi %{{.*}}, %[[BASE]]
// CHECK:   %[[HI:.*]] = arith.subi %{{.*}}, %[[BASE]]
// CHECK:   %[[V:.*]] = memref.subview %[[VS]][%[[SPAN]], 0, 0, 0] [1, 36, 2, 16]
// CHECK:   %[[M:.*]] = memref.subview %[[MS]][%[[SPAN]], 0, 0, 0] [1, 36, 2, 16]
// CHECK:   scf.for %[[I:.*]] = %[[LO]] to %[[HI]] step %c1 {
// CHECK:     %[[OFF:.*]] = arith.muli %[[SPAN]], %c18
// CHECK:     %[[FROM:.*]] = arith.addi %[[I]], %[[OFF]]
// CHECK:     %[[PASTE:.*]] = arith.cmpi sge, %[[FROM]], %c36
// CHECK:     %[[ROUND:.*]] = arith.subi %[[FROM]], %c36
// CHECK:     %[[E:.*]] = arith.select %[[PASTE]], %[[ROUND]], %[[FROM]]
// CHECK:     memref.subview %[[U]][%[[E]], 0, 0, 0] [1, 1, 2, 2]
// CHECK:     memref.subview %[[V]][%[[E]], 0, 0] [1, 2, 10] [1, 1, 1]
// CHECK:     %[[ME:.*]] = memref.subview %[[M]][%[[E]], 0, 0] [1, 2, 10] [1, 1, 1]
// CHECK:     vector.fma
// CHECK:     vector.maskedstore %[[ME]]
// CHECK: return

// The output transform, channel by channel over the span's [lo, hi), from
// M's row of the channel into Y.
// CHECK-LABEL: func.func private @spans_winograd2(
// CHECK-SAME: %[[FLAT:[^:]*]]: memref<704xf32>, %[[U:[^:]*]]: memref<36x1x2x2xf32>, %[[Y:[^:]*]]: memref<2x280xf32>, %[[VS:[^:]*]]: memref<2x36x2x16xf32, strided<[1728, 48, 16, 1]>>, %[[MS:[^:]*]]: memref<2x36x2x16xf32, strided<[1728, 48, 16, 1]>>
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// CHECK: scf.for %[[SPAN:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[BASE:.*]] = arith.muli %[[SPAN]], %c2
// CHECK:   %[[LO:.*]] = arith.subi %{{.*}}, %[[BASE]]
// CHECK:   %[[HI:.*]] = arith.subi %{{.*}}, %[[BASE]]
// CHECK:   %[[M:.*]] = memref.subview %[[MS]][%[[SPAN]], 0, 0, 0] [1, 36, 2, 16]
// CHECK:   scf.for %[[OC:.*]] = %[[LO]] to %[[HI]] step %c1 {
// CHECK:     scf.for
// CHECK:       vector.maskedload %[[M]][%c0, %[[OC]],
// CHECK:       vector.maskedstore %[[Y]][%[[OC]],
// CHECK-NOT: linalg.fill
// CHECK: return

// CHECK-LABEL: func.func @spans(
// CHECK-NOT: linalg.fill
// CHECK: linalg.copy
// CHECK: %[[VBUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3456xf32>
// CHECK: %[[VSPANS:.*]] = memref.reinterpret_cast %[[VBUF]] to offset: [0], sizes: [2, 36, 2, 16], strides: [1728, 48, 16, 1]
// CHECK: memref.reinterpret_cast %[[VBUF]] to offset: [0], sizes: [36, 2, 20], strides: [48, 20, 1]
// CHECK: %[[MBUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3456xf32>
// CHECK: %[[MSPANS:.*]] = memref.reinterpret_cast %[[MBUF]] to offset: [0], sizes: [2, 36, 2, 16]
// CHECK: %[[N:.*]] = call @kiln_get_num_threads() : () -> i32
// CHECK: %[[TWO:.*]] = arith.cmpi eq, %[[N]], %c2_i32
// CHECK: scf.if %[[TWO]] {
// CHECK:   call @spans_winograd0_dispatch({{.*}}, %[[VSPANS]], %[[MSPANS]], {{.*}}, %c0, %c0, %c4)
// CHECK:   call @spans_winograd1_dispatch({{.*}}, %[[VSPANS]], %[[MSPANS]], {{.*}}, %c0, %c0, %c72)
// CHECK:   call @spans_winograd2_dispatch({{.*}}, %[[VSPANS]], %[[MSPANS]], {{.*}}, %c0, %c0, %c4)
// CHECK: } else {
// CHECK-COUNT-4: linalg.fill
// CHECK:   vector.maskedload
// CHECK: return

// BLOCKS-LABEL: func.func @spans(
// BLOCKS: arith.cmpi sgt
// BLOCKS: call @spans_winograd0_dispatch({{.*}}, %c0, %c0, %c4)

// PRODUCTS-NOT: kiln_get_num_threads
// PRODUCTS-LABEL: func.func @spans(
// PRODUCTS-NOT: scf.if
// PRODUCTS: return
#im2col_in = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh + kh, ow + kw)>
#id5 = affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>
memref.global "private" constant @w3x3 : memref<2x2x3x3xf32> = dense<0.5>
func.func @spans(%in: memref<1x2x14x20xf32>, %y: memref<1x2x14x20xf32>) {
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
