// RUN: kiln-opt %s --kiln-absorb-transposes --split-input-file | FileCheck %s
// Attention's heads split ([1, S, H, D] to [1, H, S, D]) as strided views
// that the batched matmul reads, instead of copies.

// The batch reads Q's buffer as [H, S, D] with strides [D, H*D, 1]; the
// transpose and its buffer go.
// CHECK-LABEL: func.func @heads(
// CHECK-NOT: linalg.transpose
// CHECK: %[[X:.*]] = memref.alloc() : memref<1x8x2x4xf32>
// CHECK-NOT: memref.alloc
// CHECK: %[[V:.*]] = memref.reinterpret_cast %[[X]] to offset: [0], sizes: [2, 8, 4], strides: [4, 8, 1]
// CHECK: linalg.batch_matmul ins(%[[V]], %{{.*}} : memref<2x8x4xf32, strided<[4, 8, 1]>>, memref<2x4x8xf32>)
func.func @heads(%q: memref<1x8x2x4xf32>, %k: memref<2x4x8xf32>, %out: memref<2x8x8xf32>) {
  %x = memref.alloc() : memref<1x8x2x4xf32>
  linalg.copy ins(%q : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %y = memref.alloc() : memref<1x2x8x4xf32>
  linalg.transpose ins(%x : memref<1x8x2x4xf32>) outs(%y : memref<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  %a = memref.collapse_shape %y [[0, 1], [2], [3]] : memref<1x2x8x4xf32> into memref<2x8x4xf32>
  linalg.batch_matmul ins(%a, %k : memref<2x8x4xf32>, memref<2x4x8xf32>) outs(%out : memref<2x8x8xf32>)
  return
}

// -----

// X's buffer is written again (V's heads where Q's were) before the batch
// reads Q: the op that wrote Q for the transpose gets a buffer of its own,
// and the batch reads that.
// CHECK-LABEL: func.func @reused_buffer(
// CHECK: %[[X:.*]] = memref.alloc() : memref<1x8x2x4xf32>
// CHECK: %[[OWN:.*]] = memref.alloc() : memref<1x8x2x4xf32>
// CHECK: linalg.copy ins(%arg0 : memref<1x8x2x4xf32>) outs(%[[OWN]] : memref<1x8x2x4xf32>)
// CHECK: %[[VQ:.*]] = memref.reinterpret_cast %[[OWN]] to offset: [0], sizes: [2, 8, 4], strides: [4, 8, 1]
// CHECK: linalg.copy ins(%arg1 : memref<1x8x2x4xf32>) outs(%[[X]] : memref<1x8x2x4xf32>)
// CHECK: %[[VV:.*]] = memref.reinterpret_cast %[[X]] to offset: [0], sizes: [2, 8, 4], strides: [4, 8, 1]
// CHECK: linalg.batch_matmul ins(%[[VQ]], %arg2 :
// CHECK: linalg.batch_matmul ins(%{{.*}}, %[[VV]] :
// CHECK-NOT: linalg.transpose
func.func @reused_buffer(%q: memref<1x8x2x4xf32>, %v: memref<1x8x2x4xf32>, %k: memref<2x4x8xf32>, %p: memref<2x8x8xf32>, %s: memref<2x8x8xf32>, %out: memref<2x8x4xf32>) {
  %x = memref.alloc() : memref<1x8x2x4xf32>
  linalg.copy ins(%q : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %yq = memref.alloc() : memref<1x2x8x4xf32>
  linalg.transpose ins(%x : memref<1x8x2x4xf32>) outs(%yq : memref<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  linalg.copy ins(%v : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %yv = memref.alloc() : memref<1x2x8x4xf32>
  linalg.transpose ins(%x : memref<1x8x2x4xf32>) outs(%yv : memref<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  %aq = memref.collapse_shape %yq [[0, 1], [2], [3]] : memref<1x2x8x4xf32> into memref<2x8x4xf32>
  linalg.batch_matmul ins(%aq, %k : memref<2x8x4xf32>, memref<2x4x8xf32>) outs(%s : memref<2x8x8xf32>)
  %av = memref.collapse_shape %yv [[0, 1], [2], [3]] : memref<1x2x8x4xf32> into memref<2x8x4xf32>
  linalg.batch_matmul ins(%p, %av : memref<2x8x8xf32>, memref<2x8x4xf32>) outs(%out : memref<2x8x4xf32>)
  return
}

// -----

// K^T moves the innermost dimension: no strided view with a unit inner
// stride; the copy stays (kiln-lower-transposes' register tiles).
// CHECK-LABEL: func.func @inner_dim_moves(
// CHECK: linalg.transpose
// CHECK-NOT: memref.reinterpret_cast
func.func @inner_dim_moves(%kin: memref<1x8x2x4xf32>, %q: memref<2x8x4xf32>, %out: memref<2x8x8xf32>) {
  %x = memref.alloc() : memref<1x8x2x4xf32>
  linalg.copy ins(%kin : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %y = memref.alloc() : memref<1x2x4x8xf32>
  linalg.transpose ins(%x : memref<1x8x2x4xf32>) outs(%y : memref<1x2x4x8xf32>) permutation = [0, 2, 3, 1]
  %b = memref.collapse_shape %y [[0, 1], [2], [3]] : memref<1x2x4x8xf32> into memref<2x4x8xf32>
  linalg.batch_matmul ins(%q, %b : memref<2x8x4xf32>, memref<2x4x8xf32>) outs(%out : memref<2x8x8xf32>)
  return
}

// -----

// The op that wrote X reads it too (in place): it cannot be given another
// buffer, and X is written again before the batch; the copy stays.
// CHECK-LABEL: func.func @writer_reads_its_buffer(
// CHECK: linalg.transpose
func.func @writer_reads_its_buffer(%q: memref<1x8x2x4xf32>, %v: memref<1x8x2x4xf32>, %k: memref<2x4x8xf32>, %out: memref<2x8x8xf32>) {
  %x = memref.alloc() : memref<1x8x2x4xf32>
  linalg.copy ins(%q : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  linalg.add ins(%x, %q : memref<1x8x2x4xf32>, memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %y = memref.alloc() : memref<1x2x8x4xf32>
  linalg.transpose ins(%x : memref<1x8x2x4xf32>) outs(%y : memref<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  linalg.copy ins(%v : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %a = memref.collapse_shape %y [[0, 1], [2], [3]] : memref<1x2x8x4xf32> into memref<2x8x4xf32>
  linalg.batch_matmul ins(%a, %k : memref<2x8x4xf32>, memref<2x4x8xf32>) outs(%out : memref<2x8x8xf32>)
  return
}

// -----

// The op that wrote X adds to what was there (as a matmul does to C): with
// a buffer of its own it would lose that; the copy stays.
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @writer_accumulates(
// CHECK: linalg.transpose
func.func @writer_accumulates(%q: memref<1x8x2x4xf32>, %v: memref<1x8x2x4xf32>, %k: memref<2x4x8xf32>, %out: memref<2x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<1x8x2x4xf32>
  linalg.fill ins(%zero : f32) outs(%x : memref<1x8x2x4xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  %y = memref.alloc() : memref<1x2x8x4xf32>
  linalg.transpose ins(%x : memref<1x8x2x4xf32>) outs(%y : memref<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  linalg.copy ins(%v : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %a = memref.collapse_shape %y [[0, 1], [2], [3]] : memref<1x2x8x4xf32> into memref<2x8x4xf32>
  linalg.batch_matmul ins(%a, %k : memref<2x8x4xf32>, memref<2x4x8xf32>) outs(%out : memref<2x8x8xf32>)
  return
}

// -----

// A reader that is not a matmul (an elementwise op, a convolution) might
// not read a strided view as fast as the copy: the copy stays.
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @not_a_matmul(
// CHECK: linalg.transpose
// CHECK-NOT: memref.reinterpret_cast
func.func @not_a_matmul(%q: memref<1x8x2x4xf32>, %out: memref<1x2x8x4xf32>) {
  %x = memref.alloc() : memref<1x8x2x4xf32>
  linalg.copy ins(%q : memref<1x8x2x4xf32>) outs(%x : memref<1x8x2x4xf32>)
  %y = memref.alloc() : memref<1x2x8x4xf32>
  linalg.transpose ins(%x : memref<1x8x2x4xf32>) outs(%y : memref<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : memref<1x2x8x4xf32>) outs(%out : memref<1x2x8x4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  return
}
