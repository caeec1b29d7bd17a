// RUN: kiln-opt %s --split-input-file --kiln-slice-ends | FileCheck %s
// A convolution of two images as kiln-convert-onnx-to-linalg leaves it after
// bufferization: the bias broadcast over both images' accumulator R, one
// matmul per image into its slice of R, then the Relu of all of R into the
// interior of the next layer's padded input, which is filled whole. Each
// matmul gets an accumulator of its own, the bias's slice right before it
// and the Relu's right after it; the fill keeps to the border.

// CHECK-LABEL: func @two_images
// CHECK-SAME: (%[[A:.*]]: memref<4x6xf32>, %[[B0:.*]]: memref<6x16xf32>, %[[B1:.*]]: memref<6x16xf32>)
// CHECK: %[[BIAS:.*]] = memref.get_global @bias
// CHECK: %[[P:.*]] = memref.alloc() {{.*}} : memref<2x4x6x6xf32>
// CHECK: %[[IN:.*]] = memref.subview %[[P]][0, 0, 1, 1] [2, 4, 4, 4]
// CHECK: %[[R0:.*]] = memref.alloc() {{.*}} : memref<1x4x16xf32>
// CHECK: %[[V0:.*]] = memref.subview %[[R0]][0, 0, 0] [1, 4, 16] [1, 1, 1] : memref<1x4x16xf32> to memref<4x16xf32, strided<[16, 1]>>
// CHECK: linalg.generic {{.*}} ins(%[[BIAS]] : memref<4x1xf32>) outs(%[[R0]] : memref<1x4x16xf32>)
// CHECK: linalg.matmul ins(%[[A]], %[[B0]] : {{.*}}) outs(%[[V0]] :
// CHECK: %[[E0:.*]] = memref.expand_shape %[[R0]] {{\[}}[0], [1], [2, 3]] output_shape [1, 4, 4, 4]
// CHECK: %[[O0:.*]] = memref.subview %[[IN]][0, 0, 0, 0] [1, 4, 4, 4]
// CHECK: linalg.generic {{.*}} ins(%[[E0]] : memref<1x4x4x4xf32>) outs(%[[O0]] :
// CHECK: arith.maximumf
// CHECK: %[[R1:.*]] = memref.alloc() {{.*}} : memref<1x4x16xf32>
// CHECK: linalg.generic {{.*}} ins(%[[BIAS]] : memref<4x1xf32>) outs(%[[R1]] : memref<1x4x16xf32>)
// CHECK: linalg.matmul ins(%[[A]], %[[B1]] : {{.*}}) outs(%{{.*}} :
// CHECK: %[[E1:.*]] = memref.expand_shape %[[R1]]
// CHECK: %[[O1:.*]] = memref.subview %[[IN]][1, 0, 0, 0] [1, 4, 4, 4]
// CHECK: linalg.generic {{.*}} ins(%[[E1]] : memref<1x4x4x4xf32>) outs(%[[O1]] :
// The fill only writes the border now (its four slabs), not the interior.
// CHECK-NOT: linalg.fill ins(%{{.*}} : f32) outs(%[[P]] :
// CHECK-COUNT-4: linalg.fill
// CHECK-NOT: linalg.generic
// CHECK: return
#bias = affine_map<(d0, d1, d2) -> (d1, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
memref.global "private" constant @bias : memref<4x1xf32> = dense<[[1.0], [2.0], [3.0], [4.0]]>
func.func @two_images(%a: memref<4x6xf32>, %b0: memref<6x16xf32>, %b1: memref<6x16xf32>) -> memref<2x4x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %bias = memref.get_global @bias : memref<4x1xf32>
  %r = memref.alloc() {alignment = 64 : i64} : memref<2x4x16xf32>
  linalg.generic {indexing_maps = [#bias, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bias : memref<4x1xf32>) outs(%r : memref<2x4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %s0 = memref.subview %r[0, 0, 0] [1, 4, 16] [1, 1, 1] : memref<2x4x16xf32> to memref<4x16xf32, strided<[16, 1]>>
  linalg.matmul ins(%a, %b0 : memref<4x6xf32>, memref<6x16xf32>) outs(%s0 : memref<4x16xf32, strided<[16, 1]>>)
  %s1 = memref.subview %r[1, 0, 0] [1, 4, 16] [1, 1, 1] : memref<2x4x16xf32> to memref<4x16xf32, strided<[16, 1], offset: 64>>
  linalg.matmul ins(%a, %b1 : memref<4x6xf32>, memref<6x16xf32>) outs(%s1 : memref<4x16xf32, strided<[16, 1], offset: 64>>)
  %e = memref.expand_shape %r [[0], [1], [2, 3]] output_shape [2, 4, 4, 4] : memref<2x4x16xf32> into memref<2x4x4x4xf32>
  %p = memref.alloc() {alignment = 64 : i64} : memref<2x4x6x6xf32>
  linalg.fill ins(%zero : f32) outs(%p : memref<2x4x6x6xf32>)
  %in = memref.subview %p[0, 0, 1, 1] [2, 4, 4, 4] [1, 1, 1, 1] : memref<2x4x6x6xf32> to memref<2x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e : memref<2x4x4x4xf32>) outs(%in : memref<2x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>) {
  ^bb0(%x: f32, %out: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  }
  return %p : memref<2x4x6x6xf32>
}

// -----

// The residual Add and Relu of two groups (the slices along R's dim 1),
// the residual cut along the same dim.
// CHECK-LABEL: func @two_groups
// CHECK: %[[R0:.*]] = memref.alloc() {{.*}} : memref<1x2x16xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[R0]] : memref<1x2x16xf32>)
// CHECK: linalg.matmul
// CHECK: %[[X0:.*]] = memref.subview %arg3[0, 0, 0] [1, 2, 16]
// CHECK: %[[Y0:.*]] = memref.subview %arg4[0, 0, 0] [1, 2, 16]
// CHECK: linalg.generic {{.*}} ins(%[[R0]], %[[X0]] : {{.*}}) outs(%[[Y0]] :
// CHECK: %[[R1:.*]] = memref.alloc() {{.*}} : memref<1x2x16xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[R1]] : memref<1x2x16xf32>)
// CHECK: linalg.matmul
// CHECK: %[[X1:.*]] = memref.subview %arg3[0, 2, 0] [1, 2, 16]
// CHECK: %[[Y1:.*]] = memref.subview %arg4[0, 2, 0] [1, 2, 16]
// CHECK: linalg.generic {{.*}} ins(%[[R1]], %[[X1]] : {{.*}}) outs(%[[Y1]] :
// CHECK-NOT: linalg.generic
#id3b = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @two_groups(%a0: memref<2x6xf32>, %a1: memref<2x6xf32>, %b: memref<6x16xf32>, %res: memref<1x4x16xf32>, %y: memref<1x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %r = memref.alloc() {alignment = 64 : i64} : memref<1x4x16xf32>
  linalg.fill ins(%zero : f32) outs(%r : memref<1x4x16xf32>)
  %s0 = memref.subview %r[0, 0, 0] [1, 2, 16] [1, 1, 1] : memref<1x4x16xf32> to memref<2x16xf32, strided<[16, 1]>>
  linalg.matmul ins(%a0, %b : memref<2x6xf32>, memref<6x16xf32>) outs(%s0 : memref<2x16xf32, strided<[16, 1]>>)
  %s1 = memref.subview %r[0, 2, 0] [1, 2, 16] [1, 1, 1] : memref<1x4x16xf32> to memref<2x16xf32, strided<[16, 1], offset: 32>>
  linalg.matmul ins(%a1, %b : memref<2x6xf32>, memref<6x16xf32>) outs(%s1 : memref<2x16xf32, strided<[16, 1], offset: 32>>)
  linalg.generic {indexing_maps = [#id3b, #id3b, #id3b], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %res : memref<1x4x16xf32>, memref<1x4x16xf32>) outs(%y : memref<1x4x16xf32>) {
  ^bb0(%x: f32, %z: f32, %out: f32):
    %s = arith.addf %x, %z : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Left alone: R is read again after the epilogue (what the matmuls wrote
// stays live), and in the second function an op between the matmuls
// writes the residual the epilogue reads.
// CHECK-LABEL: func @live_after
// CHECK: memref.alloc() {{.*}} : memref<2x4x16xf32>
// CHECK-NOT: memref.alloc() {{.*}} : memref<1x4x16xf32>
// CHECK-LABEL: func @residual_written_between
// CHECK: memref.alloc() {{.*}} : memref<2x4x16xf32>
// CHECK-NOT: memref.alloc() {{.*}} : memref<1x4x16xf32>
#id3c = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @live_after(%a: memref<4x6xf32>, %b0: memref<6x16xf32>, %b1: memref<6x16xf32>, %y: memref<2x4x16xf32>, %z: memref<2x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %r = memref.alloc() {alignment = 64 : i64} : memref<2x4x16xf32>
  linalg.fill ins(%zero : f32) outs(%r : memref<2x4x16xf32>)
  %s0 = memref.subview %r[0, 0, 0] [1, 4, 16] [1, 1, 1] : memref<2x4x16xf32> to memref<4x16xf32, strided<[16, 1]>>
  linalg.matmul ins(%a, %b0 : memref<4x6xf32>, memref<6x16xf32>) outs(%s0 : memref<4x16xf32, strided<[16, 1]>>)
  %s1 = memref.subview %r[1, 0, 0] [1, 4, 16] [1, 1, 1] : memref<2x4x16xf32> to memref<4x16xf32, strided<[16, 1], offset: 64>>
  linalg.matmul ins(%a, %b1 : memref<4x6xf32>, memref<6x16xf32>) outs(%s1 : memref<4x16xf32, strided<[16, 1], offset: 64>>)
  linalg.generic {indexing_maps = [#id3c, #id3c], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r : memref<2x4x16xf32>) outs(%y : memref<2x4x16xf32>) {
  ^bb0(%x: f32, %out: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  }
  linalg.copy ins(%r : memref<2x4x16xf32>) outs(%z : memref<2x4x16xf32>)
  return
}

func.func @residual_written_between(%a: memref<4x6xf32>, %b0: memref<6x16xf32>, %b1: memref<6x16xf32>, %res: memref<2x4x16xf32>, %y: memref<2x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %r = memref.alloc() {alignment = 64 : i64} : memref<2x4x16xf32>
  linalg.fill ins(%zero : f32) outs(%r : memref<2x4x16xf32>)
  %s0 = memref.subview %r[0, 0, 0] [1, 4, 16] [1, 1, 1] : memref<2x4x16xf32> to memref<4x16xf32, strided<[16, 1]>>
  linalg.matmul ins(%a, %b0 : memref<4x6xf32>, memref<6x16xf32>) outs(%s0 : memref<4x16xf32, strided<[16, 1]>>)
  linalg.fill ins(%zero : f32) outs(%res : memref<2x4x16xf32>)
  %s1 = memref.subview %r[1, 0, 0] [1, 4, 16] [1, 1, 1] : memref<2x4x16xf32> to memref<4x16xf32, strided<[16, 1], offset: 64>>
  linalg.matmul ins(%a, %b1 : memref<4x6xf32>, memref<6x16xf32>) outs(%s1 : memref<4x16xf32, strided<[16, 1], offset: 64>>)
  linalg.generic {indexing_maps = [#id3c, #id3c, #id3c], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %res : memref<2x4x16xf32>, memref<2x4x16xf32>) outs(%y : memref<2x4x16xf32>) {
  ^bb0(%x: f32, %z: f32, %out: f32):
    %s = arith.addf %x, %z : f32
    linalg.yield %s : f32
  }
  return
}
