// RUN: kiln-opt %s --kiln-parallelize-loops --canonicalize | FileCheck %s
// The linalg ops left after the kernel passes run on the runtime's threads
// when they are big enough: one parallel loop that every operand using it
// indexes directly is cut into pieces, and a rows function runs a range of
// pieces as the same op on subviews.

// A Relu over [1, 16, 64, 64]: the batch loop has one iteration, so the
// channel loop is cut, into 16 pieces of one channel; the constant goes
// into the rows function.
// CHECK-LABEL: func.func private @relu_loop0(
// CHECK-SAME: %[[X:[^:]*]]: memref<1x16x64x64xf32>, %[[Y:[^:]*]]: memref<1x16x64x64xf32>
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index) attributes {passthrough = ["noinline"]}
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: scf.for %[[P:.*]] = %[[BEGIN]] to %[[END]] step %c1
// CHECK:   %[[XS:.*]] = memref.subview %[[X]][0, %[[P]], 0, 0] [1, 1, 64, 64] [1, 1, 1, 1]
// CHECK:   %[[YS:.*]] = memref.subview %[[Y]][0, %[[P]], 0, 0] [1, 1, 64, 64] [1, 1, 1, 1]
// CHECK:   linalg.generic {{.*}} ins(%[[XS]] : {{.*}}) outs(%[[YS]] : {{.*}})
// CHECK:     arith.maximumf %{{.*}}, %[[ZERO]] : f32
// CHECK: func.func @relu
// CHECK: call @relu_loop0_dispatch(%{{.*}}, %arg0, %arg1, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %c0, %c0, %c16)
// CHECK-NOT: linalg.generic
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @relu(%x: memref<1x16x64x64xf32>, %y: memref<1x16x64x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x16x64x64xf32>) outs(%y : memref<1x16x64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// An im2col: the input is read at oh + kh, which no piece could slice, but
// its channel loop is direct in both operands: 96 channels, cut into 48
// pieces of 2.
// CHECK-LABEL: func.func private @im2col_loop0(
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %c1
// CHECK:   %[[C:.*]] = arith.muli %[[P]], %c2 : index
// CHECK:   memref.subview %{{.*}}[0, %[[C]], 0, 0] [1, 2, 34, 34] [1, 1, 1, 1]
// CHECK:   memref.subview %{{.*}}[%[[C]], 0, 0, 0, 0] [2, 3, 3, 32, 32] [1, 1, 1, 1, 1]
// CHECK: func.func @im2col
// CHECK: call @im2col_loop0_dispatch({{.*}}, %c0, %c0, %c48)
#in = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh + kh, ow + kw)>
#out = affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>
func.func @im2col(%x: memref<1x96x34x34xf32>, %cols: memref<96x3x3x32x32xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x96x34x34xf32>) outs(%cols : memref<96x3x3x32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// A row reduction (a Softmax's max) is cut along its rows; a fill too, in
// pieces of at least 4096 elements.
// CHECK-LABEL: func.func private @row_max_loop0(
// CHECK: memref.subview %{{.*}}[%{{.*}}, 0] [16, 256] [1, 1]
// CHECK: linalg.fill
// CHECK-LABEL: func.func private @row_max_loop1(
// CHECK: memref.subview %{{.*}}[%{{.*}}, 0] [8, 512] [1, 1]
// CHECK: memref.subview %{{.*}}[%{{.*}}] [8] [1]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: func.func @row_max
// CHECK: call @row_max_loop0_dispatch({{.*}}, %c0, %c0, %c16)
// CHECK: call @row_max_loop1_dispatch({{.*}}, %c0, %c0, %c64)
#rows = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
func.func @row_max(%x: memref<512x512xf32>, %m: memref<512xf32>, %big: memref<256x256xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%big : memref<256x256xf32>)
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<512x512xf32>) outs(%m : memref<512xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %in, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// Small ops stay on the calling thread.
// CHECK-LABEL: func.func @small
// CHECK: linalg.generic
// CHECK-NOT: call
func.func @small(%x: memref<1x16x8x8xf32>, %y: memref<1x16x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x16x8x8xf32>) outs(%y : memref<1x16x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// A pad whose interior no kernel wrote (ResNet-18 at batch 8: the ReLU of
// its stem's per-image GEMMs into the pool's padded input): the buffer is
// filled whole and then overwritten in its interior by the next op, so
// only its border is filled. The rows (8 x 64 x 58, contiguous) stay on
// the calling thread; the columns (8 x 64 x 56, a cache line each
// element) and the ReLU run on the threads, by image.
// CHECK-LABEL: func.func private @pad_relu_loop0(
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x64x56x1xf32
// CHECK-LABEL: func.func private @pad_relu_loop1(
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x64x56x1xf32
// CHECK-LABEL: func.func private @pad_relu_loop2(
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK-LABEL: func.func @pad_relu(
// CHECK: %[[P:.*]] = memref.alloc() {{.*}} : memref<8x64x58x58xf32>
// CHECK-NOT: outs(%[[P]] :
// CHECK: %[[TOP:.*]] = memref.subview %[[P]][0, 0, 0, 0] [8, 64, 1, 58]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[TOP]] :
// CHECK: %[[BOTTOM:.*]] = memref.subview %[[P]][0, 0, 57, 0] [8, 64, 1, 58]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[BOTTOM]] :
// CHECK: call @pad_relu_loop0_dispatch(
// CHECK: call @pad_relu_loop1_dispatch(
// CHECK: call @pad_relu_loop2_dispatch(
// CHECK-NOT: linalg.fill
// CHECK: memref.copy %[[P]]
func.func @pad_relu(%x: memref<8x64x56x56xf32>, %y: memref<8x64x58x58xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %p = memref.alloc() {alignment = 64 : i64} : memref<8x64x58x58xf32>
  linalg.fill ins(%ninf : f32) outs(%p : memref<8x64x58x58xf32>)
  %in = memref.subview %p[0, 0, 1, 1] [8, 64, 56, 56] [1, 1, 1, 1] : memref<8x64x58x58xf32> to memref<8x64x56x56xf32, strided<[215296, 3364, 58, 1], offset: 59>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<8x64x56x56xf32>) outs(%in : memref<8x64x56x56xf32, strided<[215296, 3364, 58, 1], offset: 59>>) {
  ^bb0(%a: f32, %b: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  }
  memref.copy %p, %y : memref<8x64x58x58xf32> to memref<8x64x58x58xf32>
  return
}
