// RUN: kiln-opt %s --split-input-file --kiln-pad-in-place | FileCheck %s
// A block's output X (an elementwise Add + Relu per image) that the next
// block reads twice: padded, by its strided 3x3 convolution (the copy into
// P's interior), and as it is, by its downsampling. X's writes and the
// downsampling's read move to P's interior, the copy goes, P's fill keeps to
// the border.

// CHECK-LABEL: func @block_output
// CHECK-NOT: memref.alloc() {{.*}} : memref<2x4x4x4xf32>
// CHECK: %[[P:.*]] = memref.alloc() {{.*}} : memref<2x4x6x6xf32>
// CHECK: %[[IN:.*]] = memref.subview %[[P]][0, 0, 1, 1] [2, 4, 4, 4]
// CHECK: %[[W0:.*]] = memref.subview %[[IN]][0, 0, 0, 0] [1, 4, 4, 4]
// CHECK: linalg.generic {{.*}} outs(%[[W0]] :
// CHECK: %[[W1:.*]] = memref.subview %[[IN]][1, 0, 0, 0] [1, 4, 4, 4]
// CHECK: linalg.generic {{.*}} outs(%[[W1]] :
// CHECK-COUNT-4: linalg.fill
// CHECK-NOT: linalg.copy
// CHECK: %[[R:.*]] = memref.subview %[[IN]][1, 0, 0, 0] [1, 4, 4, 4] [1, 1, 1, 1] : {{.*}} to memref<4x4x4xf32, strided<[36, 6, 1], offset: 151>>
// CHECK: linalg.generic {{.*}} ins(%[[R]] :
// CHECK: linalg.generic {{.*}} ins(%[[P]] :
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#s2 = affine_map<(d0, d1, d2) -> (d0, d1 * 2, d2 * 2)>
func.func @block_output(%a: memref<1x4x4x4xf32>, %b: memref<1x4x4x4xf32>, %d: memref<4x2x2xf32>, %q: memref<2x4x6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() {alignment = 64 : i64} : memref<2x4x4x4xf32>
  %x0 = memref.subview %x[0, 0, 0, 0] [1, 4, 4, 4] [1, 1, 1, 1] : memref<2x4x4x4xf32> to memref<1x4x4x4xf32, strided<[64, 16, 4, 1]>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a : memref<1x4x4x4xf32>) outs(%x0 : memref<1x4x4x4xf32, strided<[64, 16, 4, 1]>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  %x1 = memref.subview %x[1, 0, 0, 0] [1, 4, 4, 4] [1, 1, 1, 1] : memref<2x4x4x4xf32> to memref<1x4x4x4xf32, strided<[64, 16, 4, 1], offset: 64>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b : memref<1x4x4x4xf32>) outs(%x1 : memref<1x4x4x4xf32, strided<[64, 16, 4, 1], offset: 64>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  %p = memref.alloc() {alignment = 64 : i64} : memref<2x4x6x6xf32>
  linalg.fill ins(%zero : f32) outs(%p : memref<2x4x6x6xf32>)
  %int = memref.subview %p[0, 0, 1, 1] [2, 4, 4, 4] [1, 1, 1, 1] : memref<2x4x6x6xf32> to memref<2x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>
  linalg.copy ins(%x : memref<2x4x4x4xf32>) outs(%int : memref<2x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>)
  // The downsampling's stride-2 read of image 1, as it is.
  %r = memref.subview %x[1, 0, 0, 0] [1, 4, 4, 4] [1, 1, 1, 1] : memref<2x4x4x4xf32> to memref<4x4x4xf32, strided<[16, 4, 1], offset: 64>>
  linalg.generic {indexing_maps = [#s2, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r : memref<4x4x4xf32, strided<[16, 4, 1], offset: 64>>) outs(%d : memref<4x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  // The strided convolution's read of P, padded.
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%p : memref<2x4x6x6xf32>) outs(%q : memref<2x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

// Left alone: P's interior is written (here, a fill of all of it) between
// the copy and X's last read, which would then read that instead of X; and,
// in the second function, X is written by a kernel that is not elementwise
// (a max pool), whose lowering wants a buffer of its own.
// CHECK-LABEL: func @written_while_read
// CHECK: linalg.copy
// CHECK-LABEL: func @pool_output
// CHECK: linalg.copy
#id4b = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @written_while_read(%a: memref<1x4x4x4xf32>, %y: memref<1x4x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %x = memref.alloc() {alignment = 64 : i64} : memref<1x4x4x4xf32>
  linalg.generic {indexing_maps = [#id4b, #id4b], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a : memref<1x4x4x4xf32>) outs(%x : memref<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  %p = memref.alloc() {alignment = 64 : i64} : memref<1x4x6x6xf32>
  linalg.fill ins(%zero : f32) outs(%p : memref<1x4x6x6xf32>)
  %int = memref.subview %p[0, 0, 1, 1] [1, 4, 4, 4] [1, 1, 1, 1] : memref<1x4x6x6xf32> to memref<1x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>
  linalg.copy ins(%x : memref<1x4x4x4xf32>) outs(%int : memref<1x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>)
  linalg.fill ins(%one : f32) outs(%p : memref<1x4x6x6xf32>)
  linalg.generic {indexing_maps = [#id4b, #id4b], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<1x4x4x4xf32>) outs(%y : memref<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

func.func @pool_output(%a: memref<1x4x8x8xf32>, %y: memref<1x4x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() {alignment = 64 : i64} : memref<1x4x4x4xf32>
  %w = memref.alloc() : memref<2x2xf32>
  linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%a, %w : memref<1x4x8x8xf32>, memref<2x2xf32>) outs(%x : memref<1x4x4x4xf32>)
  %p = memref.alloc() {alignment = 64 : i64} : memref<1x4x6x6xf32>
  linalg.fill ins(%zero : f32) outs(%p : memref<1x4x6x6xf32>)
  %int = memref.subview %p[0, 0, 1, 1] [1, 4, 4, 4] [1, 1, 1, 1] : memref<1x4x6x6xf32> to memref<1x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>
  linalg.copy ins(%x : memref<1x4x4x4xf32>) outs(%int : memref<1x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>)
  linalg.generic {indexing_maps = [#id4b, #id4b], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<1x4x4x4xf32>) outs(%y : memref<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}
