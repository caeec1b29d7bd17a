// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 parallel-min-gemv-flops=0 winograd=false" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false winograd=false" --canonicalize --cse | FileCheck %s --check-prefix=ONE
// A GEMM on the threads whose Relu writes the interior of a zero-padded
// buffer that only a stride-2 convolution's im2col reads: the threads
// write the border too, each beside the image rows it writes (the rows
// that start in its pixels: padded rows [lo, hi), the first and last
// border rows with the first and last image rows), instead of the caller
// before the GEMM. 256 pixels are 8 panels of 32, split among the threads.
// CHECK-LABEL: func.func private @border_by_threads_gemm0(
// CHECK-SAME: %[[PAD:arg[0-9]+]]: memref<1x16x18x18xf32>
// CHECK: %[[FIRST:.*]] = arith.divui
// CHECK: %[[LAST:.*]] = arith.divui
// CHECK: %[[LO:.*]] = arith.select %{{.*}}, %c0, %{{.*}} : index
// CHECK: %[[HI:.*]] = arith.select %{{.*}}, %c18, %{{.*}} : index
// CHECK: %[[TOP:.*]] = memref.subview %[[PAD]][0, 0, %{{.*}}, 0] [1, 16, %{{.*}}, 18]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[TOP]]
// CHECK: %[[BOTTOM:.*]] = memref.subview %[[PAD]][0, 0, %{{.*}}, 0] [1, 16, %{{.*}}, 18]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[BOTTOM]]
// CHECK: %[[LEFT:.*]] = memref.subview %[[PAD]][0, 0, %{{.*}}, 0] [1, 16, %{{.*}}, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[LEFT]]
// CHECK: %[[RIGHT:.*]] = memref.subview %[[PAD]][0, 0, %{{.*}}, 17] [1, 16, %{{.*}}, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[RIGHT]]
// CHECK: vector.fma
// CHECK-LABEL: func.func @border_by_threads(
// CHECK: %[[ALLOC:.*]] = memref.alloc() : memref<1x16x18x18xf32>
// CHECK-NOT: linalg.fill
// CHECK: call @border_by_threads_gemm0_dispatch({{.*}}, %[[ALLOC]], {{.*}})
// On one thread the fills stay before the GEMM.
// ONE-LABEL: func.func @border_by_threads(
// ONE: %[[ALLOC:.*]] = memref.alloc() : memref<1x16x18x18xf32>
// ONE-COUNT-4: linalg.fill
// ONE: vector.fma
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#im2col_s2 = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh * 2 + kh, ow * 2 + kw)>
#im2col_s1 = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh + kh, ow + kw)>
#im2col_out = affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>
func.func @border_by_threads(%w: memref<16x32xf32>, %x: memref<32x256xf32>, %w2: memref<8x144xf32>, %y: memref<8x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x256xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x16x256xf32>)
  %c = memref.subview %acc[0, 0, 0] [1, 16, 256] [1, 1, 1] : memref<1x16x256xf32> to memref<16x256xf32, strided<[256, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x256xf32>) outs(%c : memref<16x256xf32, strided<[256, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 16, 16] : memref<1x16x256xf32> into memref<1x16x16x16xf32>
  %pad = memref.alloc() : memref<1x16x18x18xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x16x18x18xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 16, 16, 16] [1, 1, 1, 1] : memref<1x16x18x18xf32> to memref<1x16x16x16xf32, strided<[5184, 324, 18, 1], offset: 19>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x16x16xf32>) outs(%sub : memref<1x16x16x16xf32, strided<[5184, 324, 18, 1], offset: 19>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  %cols = memref.alloc() : memref<16x3x3x8x8xf32>
  linalg.generic {indexing_maps = [#im2col_s2, #im2col_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%pad : memref<1x16x18x18xf32>) outs(%cols : memref<16x3x3x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<16x3x3x8x8xf32> into memref<144x64xf32>
  linalg.matmul ins(%w2, %b : memref<8x144xf32>, memref<144x64xf32>) outs(%y : memref<8x64xf32>)
  return
}

// Read by a stride-1 3x3 convolution instead, which may be Winograd's (whose
// input transform writes the border itself): the fills stay before the GEMM.
// CHECK-LABEL: func.func private @border_stride1_reader_gemm0(
// CHECK-NOT: linalg.fill
// CHECK: return
// CHECK-LABEL: func.func @border_stride1_reader(
// CHECK: memref.alloc() : memref<1x16x18x18xf32>
// CHECK-COUNT-4: linalg.fill
// CHECK: call @border_stride1_reader_gemm0_dispatch(
func.func @border_stride1_reader(%w: memref<16x32xf32>, %x: memref<32x256xf32>, %w2: memref<8x144xf32>, %y: memref<8x256xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x256xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x16x256xf32>)
  %c = memref.subview %acc[0, 0, 0] [1, 16, 256] [1, 1, 1] : memref<1x16x256xf32> to memref<16x256xf32, strided<[256, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x256xf32>) outs(%c : memref<16x256xf32, strided<[256, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 16, 16] : memref<1x16x256xf32> into memref<1x16x16x16xf32>
  %pad = memref.alloc() : memref<1x16x18x18xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x16x18x18xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 16, 16, 16] [1, 1, 1, 1] : memref<1x16x18x18xf32> to memref<1x16x16x16xf32, strided<[5184, 324, 18, 1], offset: 19>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x16x16xf32>) outs(%sub : memref<1x16x16x16xf32, strided<[5184, 324, 18, 1], offset: 19>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  %cols = memref.alloc() : memref<16x3x3x16x16xf32>
  linalg.generic {indexing_maps = [#im2col_s1, #im2col_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%pad : memref<1x16x18x18xf32>) outs(%cols : memref<16x3x3x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<16x3x3x16x16xf32> into memref<144x256xf32>
  linalg.matmul ins(%w2, %b : memref<8x144xf32>, memref<144x256xf32>) outs(%y : memref<8x256xf32>)
  return
}
