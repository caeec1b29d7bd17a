// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=16 dot-tail=false" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 parallel-min-gemv-flops=0 pack-min-rows=16 dot-tail=false" --canonicalize --cse | FileCheck %s --check-prefix=PAR
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=16 dot-tail=false blend-stores=true" --canonicalize --cse | FileCheck %s --check-prefix=BLEND
// f32 matmuls on memrefs become packed, register-blocked kernels: B is packed
// into panels of 32 columns (the last one zero-padded), rows go in blocks of
// 8 with a 4-row kernel for the remainder, and the 4 columns of the last
// panel are stored with a mask.

// CHECK-LABEL: func @matmul
// CHECK: %[[MASK:.*]] = arith.constant dense<[true, true, true, true, false
// CHECK: %[[PACK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x147x32xf32>
// Pack the 3 full panels.
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK:   scf.for %[[K:.*]] = %c0 to %c147
// CHECK:     vector.load %{{.*}}[%[[K]], %{{.*}}] : memref<147x100xf32>, vector<16xf32>
// CHECK:     vector.store %{{.*}}, %[[PACK]][%{{.*}}, %[[K]], %c0]
// 8-row blocks over the full panels: 16 accumulators through the K loop.
// CHECK: scf.for %[[BLK:.*]] = %c0 to %c2 step %c1
// CHECK:   arith.muli %[[BLK]], %c8
// CHECK:   scf.for
// CHECK:     scf.for %{{.*}} = %c0 to %c147 step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:       vector.load %[[PACK]]
// CHECK:       memref.load %{{.*}} : memref<20x147xf32>
// CHECK:       vector.broadcast
// CHECK:       vector.fma
// The tail panel: packed with a masked load, its stores masked.
// CHECK: vector.maskedload %{{.*}}, %[[MASK]]
// CHECK: vector.maskedstore %{{.*}}, %[[MASK]]
// CHECK-NOT: linalg.matmul
// In parallel, each chunk's row blocks are a function of (A, B, C, Bp, and A
// again for the unused buffers, first panel, end panel, first block, end
// block), called through a per-signature
// declaration of the runtime's kiln_parallel_rows over all 3 row blocks.
// PAR: func.func private @matmul_gemm1_dispatch({{.*}}) attributes {kiln.runtime = "kiln_parallel_rows"}
// PAR: func.func private @matmul_gemm0_dispatch({{.*}}) attributes {kiln.runtime = "kiln_parallel_rows"}
// The packing of each chunk is shared out too, by rows of k: rows
// [begin, end) of panels [x, y), so that a chunk of few panels (3 here)
// still gives each thread an even share.
// PAR: func.func private @matmul_pack0(%{{[^:]*}}: memref<20x147xf32>, %[[PB:[^:]*]]: memref<147x100xf32>, %{{[^:]*}}: memref<20x100xf32>, %[[PBP:[^:]*]]: memref<4x147x32xf32>, {{.*}}, %[[PX:[^:]*]]: index, %[[PY:[^:]*]]: index, %[[PBEGIN:[^:]*]]: index, %[[PEND:[^:]*]]: index)
// PAR:   scf.for %{{.*}} = %[[PX]] to %[[PY]]
// PAR:     scf.for %[[PK:.*]] = %[[PBEGIN]] to %[[PEND]]
// PAR:       vector.load %[[PB]][%[[PK]],
// PAR:       vector.store %{{.*}}, %[[PBP]][%{{.*}}, %[[PK]], %c0]
// PAR: func.func private @matmul_gemm0(%[[A:.*]]: memref<20x147xf32>, %{{.*}}: memref<147x100xf32>, %{{.*}}: memref<20x100xf32>, %{{.*}}: memref<4x147x32xf32>, {{.*}}: memref<20x147xf32>, {{.*}}: memref<20x147xf32>, {{.*}}: memref<20x147xf32>, {{.*}}: memref<20x147xf32>, %[[X:.*]]: index, %[[Y:.*]]: index, %[[BEGIN:.*]]: index, %[[END:.*]]: index) attributes {passthrough = ["noinline"]}
// PAR:   %[[FULL:.*]] = arith.minsi %[[END]], %c2
// PAR:   scf.for %{{.*}} = %[[BEGIN]] to %[[FULL]] step %c1
// PAR:     scf.for %{{.*}} = %[[X]] to %[[Y]] step %c1
// PAR:       vector.fma
// The 4 remainder rows, when the range holds the last block.
// PAR:   %[[LAST:.*]] = arith.cmpi sgt, %[[END]], %c2
// PAR:   scf.if %[[LAST]]
// PAR: func.func @matmul(
// PAR:   %[[FN:.*]] = constant @matmul_gemm1
// PAR:   %[[FN0:.*]] = constant @matmul_gemm0
// PAR:   call @matmul_pack0_dispatch(%{{.*}}, %arg0, %arg1, %arg2, %{{.*}}, %arg0, %arg0, %arg0, %arg0, %c0, %c3, %c147)
// PAR:   call @matmul_gemm0_dispatch(%[[FN0]], %arg0, %arg1, %arg2, %{{.*}}, %arg0, %arg0, %arg0, %arg0, %c0, %c3, %c3)
// PAR:   call @matmul_pack1_dispatch(%{{.*}}, %arg0, %arg1, %arg2, %{{.*}}, %arg0, %arg0, %arg0, %arg0, %c3, %c4, %c147)
// PAR:   call @matmul_gemm1_dispatch(%[[FN]], %arg0, %arg1, %arg2, %{{.*}}, %arg0, %arg0, %arg0, %arg0, %c3, %c4, %c3)
// In parallel a GEMV has one block of rows: the threads share its panels
// (of 4 vectors now, so that there are 4 of them), panels [x + begin,
// x + end).
// PAR-LABEL: func.func private @gemv_gemm0(
// PAR-SAME: %[[X:[^:]*]]: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// PAR: %[[FROM:.*]] = arith.addi %[[X]], %[[BEGIN]]
// PAR: %[[TO:.*]] = arith.addi %[[X]], %[[END]]
// PAR: scf.for %{{.*}} = %[[FROM]] to %[[TO]] step %c1
// PAR:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// PAR-LABEL: func.func @gemv(
// PAR: call @gemv_gemm0_dispatch(%{{.*}}, %arg0, %arg1, %arg2, %arg1, %arg0, %arg0, %arg0, %arg0, %c0, %c4, %c4)
// A batch's products go to the threads, one pack buffer each: a function
// runs products [begin, end) on their slices.
// PAR-LABEL: func.func private @batched_batch0(
// PAR-SAME: %[[BB:[^:]*]]: memref<4x16x64xf32>, %{{[^:]*}}: memref<4x32x64xf32>, %[[BP:[^:]*]]: memref<4x2x16x32xf32>
// PAR-SAME: %[[BBEGIN:[^:]*]]: index, %[[BEND:[^:]*]]: index)
// PAR: scf.for %[[I:.*]] = %[[BBEGIN]] to %[[BEND]] step %c1
// PAR:   memref.subview %[[BB]][%[[I]], 0, 0] [1, 16, 64]
// PAR:   memref.subview %[[BP]][%[[I]], 0, 0, 0] [1, 2, 16, 32]
// PAR:   vector.fma
// PAR-LABEL: func.func @batched
// PAR: %[[PACKS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x2x16x32xf32>
// PAR: call @batched_batch0_dispatch(%{{.*}}, %arg0, %arg1, %arg2, %[[PACKS]], %arg0, %arg0, %arg0, %arg0, %c0, %c0, %c4)
// PAR: return
func.func @matmul(%a: memref<20x147xf32>, %b: memref<147x100xf32>, %c: memref<20x100xf32>) {
  linalg.matmul ins(%a, %b : memref<20x147xf32>, memref<147x100xf32>) outs(%c : memref<20x100xf32>)
  return
}

// One row (a GEMV): no packing, 8 vectors of B read in place per step.
// CHECK-LABEL: func @gemv
// CHECK-NOT: memref.alloc
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK:   scf.for %{{.*}} = %c0 to %c64 step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-8: vector.load %{{.*}} : memref<64x256xf32>, vector<16xf32>
func.func @gemv(%a: memref<1x64xf32>, %b: memref<64x256xf32>, %c: memref<1x256xf32>) {
  linalg.matmul ins(%a, %b : memref<1x64xf32>, memref<64x256xf32>) outs(%c : memref<1x256xf32>)
  return
}

// A batch is a loop over 2-d slices.
// CHECK-LABEL: func @batched
// CHECK: scf.for %[[B:.*]] = %c0 to %c4 step %c1
// CHECK:   memref.subview %{{.*}}[%[[B]], 0, 0] [1, 32, 16] [1, 1, 1] : memref<4x32x16xf32> to memref<32x16xf32, strided<[16, 1], offset: ?>>
// CHECK: vector.fma
// CHECK-NOT: linalg.batch_matmul
func.func @batched(%a: memref<4x32x16xf32>, %b: memref<4x16x64xf32>, %c: memref<4x32x64xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<4x32x16xf32>, memref<4x16x64xf32>) outs(%c : memref<4x32x64xf32>)
  return
}

// A batch whose output was just filled with zeros starts its accumulators
// from zeros: the fill goes, and C is not read.
// CHECK-LABEL: func @batched_from_zeros
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK-NOT: linalg.fill
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args(%{{.*}} = %[[ZERO]], %{{.*}} = %[[ZERO]],
// CHECK-NOT: linalg.batch_matmul
func.func @batched_from_zeros(%a: memref<4x32x16xf32>, %b: memref<4x16x64xf32>, %c: memref<4x32x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x32x64xf32>)
  linalg.batch_matmul ins(%a, %b : memref<4x32x16xf32>, memref<4x16x64xf32>) outs(%c : memref<4x32x64xf32>)
  return
}

// Integer matmuls are not this pass's.
// CHECK-LABEL: func @integer
// CHECK: linalg.matmul
func.func @integer(%a: memref<16x16xi32>, %b: memref<16x16xi32>, %c: memref<16x16xi32>) {
  linalg.matmul ins(%a, %b : memref<16x16xi32>, memref<16x16xi32>) outs(%c : memref<16x16xi32>)
  return
}

// A conv's form: C starts as a bias per row and a Relu follows; both run in
// the kernel (C's buffer is never read or written), the Relu writing into
// its own output through a reshaped view.
// CHECK-LABEL: func @conv_like
// CHECK: %[[Y:.*]] = memref.reinterpret_cast %arg3 to offset: [0], sizes: [16, 64], strides: [64, 1]
// CHECK: %[[B:.*]] = memref.load %arg2[%{{.*}}, %c0] : memref<16x1xf32>
// CHECK: %[[BV:.*]] = vector.broadcast %[[B]] : f32 to vector<16xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[BV]], %{{.*}} = %[[BV]],
// CHECK: %[[R:.*]] = arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: vector.store %[[R]], %[[Y]]
// CHECK-NOT: linalg.generic
// CHECK: return
#bias = affine_map<(d0, d1, d2) -> (d1, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @conv_like(%w: memref<16x32xf32>, %x: memref<32x64xf32>, %bias: memref<16x1xf32>, %y: memref<1x16x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x64xf32>
  linalg.generic {indexing_maps = [#bias, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<16x1xf32>) outs(%acc : memref<1x16x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %c = memref.subview %acc[0, 0, 0] [1, 16, 64] [1, 1, 1] : memref<1x16x64xf32> to memref<16x64xf32, strided<[64, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x64xf32>) outs(%c : memref<16x64xf32, strided<[64, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 8, 8] : memref<1x16x64xf32> into memref<1x16x8x8xf32>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x8x8xf32>) outs(%y : memref<1x16x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// A GEMM per image of a batch: its slices have dynamic offsets, so they
// travel to the rows function as base buffers, the offsets through a stack
// buffer, and are rebuilt there (C here; B is only read by the packing).
// PAR-LABEL: func.func private @per_image_gemm0(
// PAR-SAME: memref<f32>
// PAR:   %[[OFF:.*]] = memref.load %{{.*}}[%c1] : memref<2xindex>
// PAR:   memref.reinterpret_cast %{{.*}} to offset: [%[[OFF]]], sizes: [16, 64], strides: [64, 1]
// PAR-LABEL: func.func @per_image
// PAR:   %[[SLOTS:.*]] = memref.alloca() : memref<2xindex>
// PAR:   scf.for
// PAR:     memref.extract_strided_metadata
// PAR:     memref.store %{{.*}}, %[[SLOTS]][%c0]
// PAR:     call @per_image_gemm0_dispatch(
func.func @per_image(%w: memref<16x32xf32>, %x: memref<4x32x64xf32>, %y: memref<4x16x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %xi = memref.subview %x[%i, 0, 0] [1, 32, 64] [1, 1, 1] : memref<4x32x64xf32> to memref<32x64xf32, strided<[64, 1], offset: ?>>
    %yi = memref.subview %y[%i, 0, 0] [1, 16, 64] [1, 1, 1] : memref<4x16x64xf32> to memref<16x64xf32, strided<[64, 1], offset: ?>>
    linalg.matmul ins(%w, %xi : memref<16x32xf32>, memref<32x64xf32, strided<[64, 1], offset: ?>>) outs(%yi : memref<16x64xf32, strided<[64, 1], offset: ?>>)
  }
  return
}

// Buffers of one shape are shared by the layers that use them in turn: the
// residual Add + Relu of a conv still runs in its kernel when the next op
// that touches the conv's buffer overwrites all of it (the next layer's
// bias), and not when an op reads it first.
// CHECK-LABEL: func @shared_buffer
// CHECK: %[[R:.*]] = memref.reinterpret_cast %arg3 to offset: [0], sizes: [16, 64], strides: [64, 1]
// CHECK: %[[Y:.*]] = memref.reinterpret_cast %arg4 to offset: [0], sizes: [16, 64], strides: [64, 1]
// CHECK: scf.for
// CHECK: %[[RV:.*]] = vector.load %[[R]]
// CHECK: %[[SUM:.*]] = arith.addf %{{.*}}, %[[RV]] : vector<16xf32>
// CHECK: arith.maximumf %[[SUM]], %{{.*}} : vector<16xf32>
// CHECK: vector.store %{{.*}}, %[[Y]]
// The second conv's Relu stays: the copy reads the buffer after it.
// CHECK: linalg.generic
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: linalg.copy
// CHECK: return
func.func @shared_buffer(%w: memref<16x32xf32>, %x: memref<32x64xf32>, %bias: memref<16x1xf32>, %res: memref<1x16x8x8xf32>, %y: memref<1x16x8x8xf32>, %z: memref<1x16x8x8xf32>, %last: memref<1x16x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x64xf32>
  %c = memref.subview %acc[0, 0, 0] [1, 16, 64] [1, 1, 1] : memref<1x16x64xf32> to memref<16x64xf32, strided<[64, 1]>>
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 8, 8] : memref<1x16x64xf32> into memref<1x16x8x8xf32>
  linalg.generic {indexing_maps = [#bias, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<16x1xf32>) outs(%acc : memref<1x16x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x64xf32>) outs(%c : memref<16x64xf32, strided<[64, 1]>>)
  linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e, %res : memref<1x16x8x8xf32>, memref<1x16x8x8xf32>) outs(%y : memref<1x16x8x8xf32>) {
  ^bb0(%in: f32, %r: f32, %out: f32):
    %s = arith.addf %in, %r : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  }
  // The next layer: the same buffer, all of it the bias first.
  linalg.generic {indexing_maps = [#bias, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<16x1xf32>) outs(%acc : memref<1x16x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x64xf32>) outs(%c : memref<16x64xf32, strided<[64, 1]>>)
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x8x8xf32>) outs(%z : memref<1x16x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  linalg.copy ins(%acc : memref<1x16x64xf32>) outs(%last : memref<1x16x64xf32>)
  return
}

// Lines of 20 columns, wider than a vector of 16: a vector that may cross
// a line (column 16, 32, 48 ...: not a multiple of 20) mostly lies in one,
// and is then one store, past a branch on where it starts in its line;
// otherwise a masked store per line it touches. Where it lies depends on
// the column only, so a tile's column vector has one branch and one pair
// of masks for all its 8 rows.
// CHECK-LABEL: func @padded_wide_lines
// CHECK: %[[FLAT:.*]] = memref.reinterpret_cast
// CHECK: scf.for
// CHECK: %[[V:.*]] = arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: %[[IN:.*]] = arith.remsi %{{.*}}, %c20 : index
// CHECK: %[[END:.*]] = arith.addi %[[IN]], %c16 : index
// CHECK: %[[ONE:.*]] = arith.cmpi sle, %[[END]], %c20 : index
// CHECK: scf.if %[[ONE]] {
// CHECK: vector.store %[[V]], %[[FLAT]]
// CHECK-COUNT-7: vector.store %{{.*}}, %[[FLAT]]
// CHECK-NOT: vector.store
// CHECK: } else {
// CHECK: vector.maskedstore %[[FLAT]][%{{.*}}], %[[M0:[^,]*]], %[[V]]
// CHECK-COUNT-7: vector.maskedstore %[[FLAT]][%{{.*}}], %[[M0]], %{{.*}}
// CHECK: vector.maskedstore %[[FLAT]][%{{.*}}], %[[M1:[^,]*]], %[[V]]
// CHECK-COUNT-7: vector.maskedstore %[[FLAT]][%{{.*}}], %[[M1]], %{{.*}}
// CHECK-NOT: vector.maskedstore
// CHECK: }
// CHECK: scf.if
// CHECK-COUNT-8: vector.store
// CHECK-NOT: vector.store
// CHECK: } else {
// CHECK-COUNT-16: vector.maskedstore
// CHECK-NOT: vector.maskedstore
// CHECK: }
// CHECK-NOT: linalg.generic
func.func @padded_wide_lines(%w: memref<16x32xf32>, %x: memref<32x400xf32>) -> memref<1x16x22x22xf32> {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x400xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x16x400xf32>)
  %c = memref.subview %acc[0, 0, 0] [1, 16, 400] [1, 1, 1] : memref<1x16x400xf32> to memref<16x400xf32, strided<[400, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x400xf32>) outs(%c : memref<16x400xf32, strided<[400, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 20, 20] : memref<1x16x400xf32> into memref<1x16x20x20xf32>
  %pad = memref.alloc() : memref<1x16x22x22xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x16x22x22xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 16, 20, 20] [1, 1, 1, 1] : memref<1x16x22x22xf32> to memref<1x16x20x20xf32, strided<[7744, 484, 22, 1], offset: 23>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x20x20xf32>) outs(%sub : memref<1x16x20x20xf32, strided<[7744, 484, 22, 1], offset: 23>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  return %pad : memref<1x16x22x22xf32>
}

// A Relu that writes into the interior of a zero-padded buffer (the input
// of a padded 3x3 conv) runs in the kernel, and the fill goes before it,
// of the border only: the slabs above and below, left and right.
// Columns n of the 6x6 image go to element n + (n / 6) * 2 of the row's
// 8x8 plane past its first line and column: each vector of 16 touches up
// to 4 lines, each a masked store.
// CHECK-LABEL: func @padded_result
// With blend-stores (AMD's Zen 1-3, whose vmaskmovps stores are
// microcoded) a full vector's pieces are loads, selects and stores of the
// same flat index instead; a vector in fewer lines than it could touch
// repeats its last piece. The last columns (4 lanes) stay masked stores.
// BLEND-LABEL: func @padded_result
// BLEND: %[[FLAT:.*]] = memref.reinterpret_cast
// BLEND: %[[V:.*]] = arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// BLEND: %[[OLD:.*]] = vector.load %[[FLAT]][%[[AT:.*]]] : memref<1015xf32>, vector<16xf32>
// BLEND: %[[NEW:.*]] = arith.select %{{.*}}, %[[V]], %[[OLD]] : vector<16xi1>, vector<16xf32>
// BLEND: vector.store %[[NEW]], %[[FLAT]][%[[AT]]]
// BLEND-COUNT-3: arith.select %{{.*}}, %[[V]], %{{.*}} : vector<16xi1>
// BLEND-NOT: vector.maskedstore
// BLEND: scf.for
// BLEND: vector.maskedstore %[[FLAT]]
// BLEND: return
// On threads, the calls pass A where C would go: the kernel neither reads
// C (it starts from the fill) nor writes it (the Relu writes the padded
// buffer), and C's buffer goes.
// PAR-LABEL: func @padded_result
// PAR-NOT: memref<1x16x36xf32>
// PAR: call @padded_result_gemm0_dispatch(%{{[^,]*}}, %arg0, %arg1, %arg0, %{{.*}}) : ((memref<16x32xf32>, memref<32x36xf32>, memref<16x32xf32>,
// PAR: return
// CHECK: %[[PAD:.*]] = memref.alloc() : memref<1x16x8x8xf32>
// CHECK: %[[SUB:.*]] = memref.subview %[[PAD]][0, 0, 1, 1]
// CHECK: %[[FLAT:.*]] = memref.reinterpret_cast %[[SUB]] to offset: [0], sizes: [1015], strides: [1]
// CHECK-NOT: linalg.fill ins(%{{.*}}) outs(%[[PAD]]
// CHECK: %[[TOP:.*]] = memref.subview %[[PAD]][0, 0, 0, 0] [1, 16, 1, 8]
// CHECK: linalg.fill ins(%{{.*}}) outs(%[[TOP]]
// CHECK: %[[BOTTOM:.*]] = memref.subview %[[PAD]][0, 0, 7, 0] [1, 16, 1, 8]
// CHECK: linalg.fill ins(%{{.*}}) outs(%[[BOTTOM]]
// CHECK: %[[LEFT:.*]] = memref.subview %[[PAD]][0, 0, 1, 0] [1, 16, 6, 1]
// CHECK: linalg.fill ins(%{{.*}}) outs(%[[LEFT]]
// CHECK: %[[RIGHT:.*]] = memref.subview %[[PAD]][0, 0, 1, 7] [1, 16, 6, 1]
// CHECK: linalg.fill ins(%{{.*}}) outs(%[[RIGHT]]
// CHECK: scf.for
// CHECK: %[[V:.*]] = arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: vector.maskedstore %[[FLAT]][%[[AT:.*]]], %{{.*}}, %[[V]]
// CHECK: %[[AT2:.*]] = arith.addi %[[AT]], %c2 : index
// CHECK: vector.maskedstore %[[FLAT]][%[[AT2]]], %{{.*}}, %[[V]]
// CHECK-COUNT-2: vector.maskedstore %[[FLAT]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[PAD]]
func.func @padded_result(%w: memref<16x32xf32>, %x: memref<32x36xf32>) -> memref<1x16x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x36xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x16x36xf32>)
  %c = memref.subview %acc[0, 0, 0] [1, 16, 36] [1, 1, 1] : memref<1x16x36xf32> to memref<16x36xf32, strided<[36, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x36xf32>) outs(%c : memref<16x36xf32, strided<[36, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 6, 6] : memref<1x16x36xf32> into memref<1x16x6x6xf32>
  %pad = memref.alloc() : memref<1x16x8x8xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x16x8x8xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 16, 6, 6] [1, 1, 1, 1] : memref<1x16x8x8xf32> to memref<1x16x6x6xf32, strided<[1024, 64, 8, 1], offset: 9>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : memref<1x16x6x6xf32>) outs(%sub : memref<1x16x6x6xf32, strided<[1024, 64, 8, 1], offset: 9>>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  return %pad : memref<1x16x8x8xf32>
}

// A residual add read from the interior of another padded buffer (the
// previous block's output) fuses too: the residual has the same gaps as the
// result, so each vector of it is loaded line by line, masked loads that
// keep the lanes of the lines before, like the stores.
// CHECK-LABEL: func @padded_residual
// CHECK: %[[RSUB:.*]] = memref.subview %arg2[0, 0, 1, 1]
// CHECK: %[[RFLAT:.*]] = memref.reinterpret_cast %[[RSUB]] to offset: [0], sizes: [1015], strides: [1]
// CHECK: scf.for
// CHECK: %[[R0:.*]] = vector.maskedload %[[RFLAT]][%[[AT:.*]]], %{{.*}}, %{{.*}} : memref<1015xf32>
// CHECK: %[[AT2:.*]] = arith.addi %[[AT]], %c2 : index
// CHECK: %[[R1:.*]] = vector.maskedload %[[RFLAT]][%[[AT2]]], %{{.*}}, %[[R0]] : memref<1015xf32>
// CHECK: %[[R3:.*]] = vector.maskedload %[[RFLAT]]{{.*}}, %{{.*}}, %{{.*}} : memref<1015xf32>
// CHECK: %[[R4:.*]] = vector.maskedload %[[RFLAT]]{{.*}}, %{{.*}}, %[[R3]] : memref<1015xf32>
// CHECK: arith.addf %{{.*}}, %[[R4]] : vector<16xf32>
// CHECK-COUNT-4: vector.maskedstore
// CHECK-NOT: linalg.generic
func.func @padded_residual(%w: memref<16x32xf32>, %x: memref<32x36xf32>, %res: memref<1x16x8x8xf32>) -> memref<1x16x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<1x16x36xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x16x36xf32>)
  %c = memref.subview %acc[0, 0, 0] [1, 16, 36] [1, 1, 1] : memref<1x16x36xf32> to memref<16x36xf32, strided<[36, 1]>>
  linalg.matmul ins(%w, %x : memref<16x32xf32>, memref<32x36xf32>) outs(%c : memref<16x36xf32, strided<[36, 1]>>)
  %e = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [1, 16, 6, 6] : memref<1x16x36xf32> into memref<1x16x6x6xf32>
  %r = memref.subview %res[0, 0, 1, 1] [1, 16, 6, 6] [1, 1, 1, 1] : memref<1x16x8x8xf32> to memref<1x16x6x6xf32, strided<[1024, 64, 8, 1], offset: 9>>
  %pad = memref.alloc() : memref<1x16x8x8xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x16x8x8xf32>)
  %sub = memref.subview %pad[0, 0, 1, 1] [1, 16, 6, 6] [1, 1, 1, 1] : memref<1x16x8x8xf32> to memref<1x16x6x6xf32, strided<[1024, 64, 8, 1], offset: 9>>
  linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e, %r : memref<1x16x6x6xf32>, memref<1x16x6x6xf32, strided<[1024, 64, 8, 1], offset: 9>>) outs(%sub : memref<1x16x6x6xf32, strided<[1024, 64, 8, 1], offset: 9>>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  }
  return %pad : memref<1x16x8x8xf32>
}

// A 3x3 stride-1 conv: B is the im2col copy of the padded input [1, 2, 6,
// 6] into [2, 3, 3, 4, 4]. The packing reads the input itself through a
// flat view: column n of row (c, kh, kw) is element 36c + 6kh + kw + n +
// (n / 4) * 2, so the 16 columns of a vector are 4 lines of 4, each a
// masked load that fills its lanes (the first from zeros, then over the
// last). The copy and its buffer are gone.
// CHECK-LABEL: func @implicit_im2col
// CHECK: %[[FLAT:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [72], strides: [1]
// CHECK: scf.for %[[K:.*]] = %c0 to %c18 step %c1
// CHECK:   %[[L0:.*]] = vector.maskedload %[[FLAT]][%{{.*}}], %{{.*}}, %{{.*}}
// CHECK:   %[[L1:.*]] = vector.maskedload %[[FLAT]][%{{.*}}], %{{.*}}, %[[L0]]
// CHECK:   %[[L2:.*]] = vector.maskedload %[[FLAT]][%{{.*}}], %{{.*}}, %[[L1]]
// CHECK:   %[[L3:.*]] = vector.maskedload %[[FLAT]][%{{.*}}], %{{.*}}, %[[L2]]
// CHECK:   vector.store %[[L3]]
// CHECK-NOT: linalg.generic
// CHECK: vector.fma
// CHECK-NOT: memref.alloc() : memref<2x3x3x4x4xf32>
// CHECK: return
#im2col_in = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh + kh, ow + kw)>
#im2col_out = affine_map<(c, kh, kw, oh, ow) -> (c, kh, kw, oh, ow)>
func.func @implicit_im2col(%w: memref<16x18xf32>, %x: memref<1x2x6x6xf32>, %y: memref<16x16xf32>) {
  %cols = memref.alloc() : memref<2x3x3x4x4xf32>
  linalg.generic {indexing_maps = [#im2col_in, #im2col_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x6x6xf32>) outs(%cols : memref<2x3x3x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x4x4xf32> into memref<18x16xf32>
  linalg.matmul ins(%w, %b : memref<16x18xf32>, memref<18x16xf32>) outs(%y : memref<16x16xf32>)
  return
}

// Output lines of 18 columns, wider than a vector: a vector of 16 may lie
// in one line or span two, which each panel's vector knows before its K
// loop; the packing branches on it (the same way for every row, so well
// predicted), the one-line case one plain load, the other a masked load
// per line.
// CHECK-LABEL: func @implicit_im2col_lines
// CHECK: %[[FLAT:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [120], strides: [1]
// CHECK: %[[ONE:.*]] = arith.cmpi sle, %{{.*}}, %c18 : index
// CHECK: scf.for %{{.*}} = %c0 to %c9 step %c1
// CHECK: %[[ROW:.*]] = scf.if %[[ONE]] -> (vector<16xf32>) {
// CHECK-NEXT: %[[AT:.*]] = arith.addi
// CHECK-NEXT: %[[X:.*]] = vector.load %[[FLAT]][%[[AT]]] : memref<120xf32>, vector<16xf32>
// CHECK-NEXT: scf.yield %[[X]]
// CHECK-NEXT: } else {
// CHECK: %[[L0:.*]] = vector.maskedload %[[FLAT]]
// CHECK: %[[L1:.*]] = vector.maskedload %[[FLAT]][%{{.*}}], %{{.*}}, %[[L0]]
// CHECK-NEXT: scf.yield %[[L1]]
// CHECK: vector.store %[[ROW]]
func.func @implicit_im2col_lines(%w: memref<16x9xf32>, %x: memref<1x1x6x20xf32>, %y: memref<16x72xf32>) {
  %cols = memref.alloc() : memref<1x3x3x4x18xf32>
  linalg.generic {indexing_maps = [#im2col_in, #im2col_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x1x6x20xf32>) outs(%cols : memref<1x3x3x4x18xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<1x3x3x4x18xf32> into memref<9x72xf32>
  linalg.matmul ins(%w, %b : memref<16x9xf32>, memref<9x72xf32>) outs(%y : memref<16x72xf32>)
  return
}

// The same for stride 2: a line's columns are every second element, so
// each line a vector touches is a span read in 2 masked pieces, every
// second element shuffled out, and its lanes selected.
// CHECK-LABEL: func @implicit_im2col_stride2
// CHECK: %[[FLAT:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [162], strides: [1]
// CHECK: scf.for %{{.*}} = %c0 to %c18 step %c1
// CHECK:   %[[P0:.*]] = vector.maskedload %[[FLAT]][%{{.*}}], %{{.*}}, %{{.*}}
// CHECK:   %[[P1:.*]] = vector.maskedload %[[FLAT]][%{{.*}}], %{{.*}}, %{{.*}}
// CHECK:   %[[SPAN:.*]] = vector.shuffle %[[P0]], %[[P1]] [0, 1, 2
// CHECK:   %[[EVEN:.*]] = vector.shuffle %[[SPAN]], %[[SPAN]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK:   arith.select %{{.*}}, %[[EVEN]], %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
#im2col_s2 = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh * 2 + kh, ow * 2 + kw)>
func.func @implicit_im2col_stride2(%w: memref<16x18xf32>, %x: memref<1x2x9x9xf32>, %y: memref<16x16xf32>) {
  %cols = memref.alloc() : memref<2x3x3x4x4xf32>
  linalg.generic {indexing_maps = [#im2col_s2, #im2col_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x9x9xf32>) outs(%cols : memref<2x3x3x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x4x4xf32> into memref<18x16xf32>
  linalg.matmul ins(%w, %b : memref<16x18xf32>, memref<18x16xf32>) outs(%y : memref<16x16xf32>)
  return
}

// The model's input padded for a convolution: bufferization fills the
// padded buffer whole and copies the input into its interior. The copy
// writes the interior: only the border is filled (rows 0 and 5 of each
// plane, then columns 0 and 5 of rows 1-4), and the packing reads the
// buffer.
// CHECK-LABEL: func @padded_input
// CHECK-NOT: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x2x6x6xf32>)
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x2x1x6xf32, strided<[72, 36, 6, 1]>>)
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x2x1x6xf32, strided<[72, 36, 6, 1], offset: 30>>)
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 6>>)
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x2x4x1xf32, strided<[72, 36, 6, 1], offset: 11>>)
// CHECK: linalg.copy
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @padded_input(%w: memref<16x18xf32>, %x: memref<1x2x4x4xf32>, %y: memref<16x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %pad = memref.alloc() : memref<1x2x6x6xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<1x2x6x6xf32>)
  %in = memref.subview %pad[0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  linalg.copy ins(%x : memref<1x2x4x4xf32>) outs(%in : memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>)
  %cols = memref.alloc() : memref<2x3x3x4x4xf32>
  linalg.generic {indexing_maps = [#im2col_in, #im2col_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%pad : memref<1x2x6x6xf32>) outs(%cols : memref<2x3x3x4x4xf32>) {
  ^bb0(%v: f32, %out: f32):
    linalg.yield %v : f32
  }
  %b = memref.collapse_shape %cols [[0, 1, 2], [3, 4]] : memref<2x3x3x4x4xf32> into memref<18x16xf32>
  linalg.matmul ins(%w, %b : memref<16x18xf32>, memref<18x16xf32>) outs(%y : memref<16x16xf32>)
  return
}

// A 1x1 stride-2 conv (ResNet's downsampling shortcuts): its im2col copy
// is [C][1][1][OH][OW], the kernel's unit dims between k and the output's.
// They index nothing; the packing reads every second element of the input
// as for a 3x3 kernel, and the copy goes.
// CHECK-LABEL: func @implicit_im2col_1x1_stride2
// CHECK: %[[FLAT:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [162], strides: [1]
// CHECK: vector.maskedload %[[FLAT]]
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK-NOT: linalg.generic
// CHECK: return
#im2col_1x1_s2 = affine_map<(c, kh, kw, oh, ow) -> (0, c, oh * 2 + kh, ow * 2 + kw)>
func.func @implicit_im2col_1x1_stride2(%w: memref<16x2xf32>, %x: memref<1x2x9x9xf32>, %y: memref<16x25xf32>) {
  %cols = memref.alloc() : memref<2x1x1x5x5xf32>
  linalg.generic {indexing_maps = [#im2col_1x1_s2, #im2col_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x9x9xf32>) outs(%cols : memref<2x1x1x5x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0], [1, 2, 3, 4]] : memref<2x1x1x5x5xf32> into memref<2x25xf32>
  linalg.matmul ins(%w, %b : memref<16x2xf32>, memref<2x25xf32>) outs(%y : memref<16x25xf32>)
  return
}

// A 1x1 conv reading the interior of a padded buffer: bufferization copies
// it out (a linalg.copy of a strided view) into a buffer that a second
// layer's copy then reuses. Each matmul packs from the view itself, and
// both copies go.
// CHECK-LABEL: func @shared_interior_copies
// CHECK-NOT: linalg.copy
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [65], strides: [1] : memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
// CHECK: vector.maskedload
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [65], strides: [1] : memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
// CHECK: vector.maskedload
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @shared_interior_copies(%w: memref<16x2xf32>, %p1: memref<1x2x6x6xf32>, %p2: memref<1x2x6x6xf32>, %y1: memref<16x16xf32>, %y2: memref<16x16xf32>) {
  %cols = memref.alloc() : memref<1x2x4x4xf32>
  %b = memref.collapse_shape %cols [[0, 1], [2, 3]] : memref<1x2x4x4xf32> into memref<2x16xf32>
  %i1 = memref.subview %p1[0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  linalg.copy ins(%i1 : memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>) outs(%cols : memref<1x2x4x4xf32>)
  linalg.matmul ins(%w, %b : memref<16x2xf32>, memref<2x16xf32>) outs(%y1 : memref<16x16xf32>)
  %i2 = memref.subview %p2[0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  linalg.copy ins(%i2 : memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>) outs(%cols : memref<1x2x4x4xf32>)
  linalg.matmul ins(%w, %b : memref<16x2xf32>, memref<2x16xf32>) outs(%y2 : memref<16x16xf32>)
  return
}

// MatMul + Add of a bias along the columns ([N], broadcast over the rows):
// the Add is the epilogue; the bias is a view of the output's shape with a
// zero row stride, read as a vector at each column.
// CHECK-LABEL: func @column_bias
// CHECK: %[[BIAS:.*]] = memref.reinterpret_cast %arg2 to offset: [0], sizes: [16, 64], strides: [0, 1]
// CHECK: scf.for
// CHECK: %[[BV:.*]] = vector.load %[[BIAS]][%{{.*}}, %{{.*}}] : memref<16x64xf32, strided<[0, 1]>>, vector<16xf32>
// CHECK: arith.addf %{{.*}}, %[[BV]] : vector<16xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
#rowbias_acc = affine_map<(d0, d1) -> (d0, d1)>
#rowbias_b = affine_map<(d0, d1) -> (d1)>
func.func @column_bias(%a: memref<16x32xf32>, %b: memref<32x64xf32>, %bias: memref<64xf32>, %y: memref<16x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<16x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<16x64xf32>)
  linalg.matmul ins(%a, %b : memref<16x32xf32>, memref<32x64xf32>) outs(%c : memref<16x64xf32>)
  linalg.generic {indexing_maps = [#rowbias_acc, #rowbias_b, #rowbias_acc], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<16x64xf32>, memref<64xf32>) outs(%y : memref<16x64xf32>) {
  ^bb0(%in: f32, %bi: f32, %out: f32):
    %s = arith.addf %in, %bi : f32
    linalg.yield %s : f32
  }
  return
}

// A constant B (weights) is packed at compile time into a global of panels,
// zero-padded (3 columns in a panel of 32), and the original goes.
// CHECK-NOT: memref.global "private" constant @weights :
// CHECK: memref.global "private" constant @weights_panels32 : memref<1x2x32xf32> = dense_resource<weights_panels32> {alignment = 64 : i64}
// CHECK-LABEL: func @constant_b
// CHECK: %[[P:.*]] = memref.get_global @weights_panels32 : memref<1x2x32xf32>
// CHECK-NOT: memref.alloc
// CHECK: vector.load %[[P]][%c0, %{{.*}}, %c0] : memref<1x2x32xf32>, vector<16xf32>
// Row k of the panel: B's row k, then zeros (1, 2, 3 and 4, 5, 6 in f32).
// CHECK: weights_panels32: "0x040000000000803F0000004000004040{{(00)+}}000080400000A0400000C040{{(00)+}}"
memref.global "private" constant @weights : memref<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
func.func @constant_b(%a: memref<16x2xf32>, %c: memref<16x3xf32>) {
  %b = memref.get_global @weights : memref<2x3xf32>
  linalg.matmul ins(%a, %b : memref<16x2xf32>, memref<2x3xf32>) outs(%c : memref<16x3xf32>)
  return
}


// B packed at run time in a chunk of at least 8 full panels: the threads
// split its columns, each packing the panels it multiplies (a second core
// never reads what the first packed), in one call per chunk; the tail panel
// keeps the shared packing and the row split.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16 dot-tail=false" --canonicalize --cse | FileCheck %s --check-prefix=WIDE
// WIDE-LABEL: func.func private @wide_gemm0(
// WIDE-SAME: %[[BP:[^:]*]]: memref<10x64x32xf32>, {{.*}}, %[[X:[^:]*]]: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// WIDE: %[[FROM:.*]] = arith.addi %[[X]], %[[BEGIN]]
// WIDE: %[[TO:.*]] = arith.addi %[[X]], %[[END]]
// WIDE: scf.for %{{.*}} = %[[FROM]] to %[[TO]] step %c1
// WIDE:   vector.store %{{.*}}, %[[BP]]
// WIDE: scf.for %{{.*}} = %c0 to %c2 step %c1
// WIDE:   scf.for %{{.*}} = %[[FROM]] to %[[TO]] step %c1
// WIDE:     vector.fma
// WIDE-LABEL: func.func @wide(
// WIDE-NOT: call @wide_pack0_dispatch
// WIDE: call @wide_gemm0_dispatch(%{{.*}}, %c0, %c9, %c9)
// WIDE: call @wide_pack{{[0-9]+}}_dispatch(%{{.*}}, %c9, %c10, %c64)
// Chunks of fewer than 8 panels (3 here: a convolution's k in the
// thousands) but 9 full panels in all, within whole-chunks' bytes: still one
// call, each thread packing and multiplying its panels 3 at a time; with
// whole-chunks=2 (B is 80 KB) the chunks' calls, packing shared.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16 dot-tail=false chunk-bytes=24576" --canonicalize --cse | FileCheck %s --check-prefix=PIECES
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16 dot-tail=false chunk-bytes=24576 whole-chunks=2" --canonicalize --cse | FileCheck %s --check-prefix=CHUNKS
// PIECES-LABEL: func.func private @wide_gemm0(
// PIECES-SAME: %[[BP:[^:]*]]: memref<10x64x32xf32>, {{.*}}, %[[X:[^:]*]]: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// PIECES: %[[FROM:.*]] = arith.addi %[[X]], %[[BEGIN]]
// PIECES: %[[TO:.*]] = arith.addi %[[X]], %[[END]]
// PIECES: scf.for %[[FIRST:.*]] = %[[FROM]] to %[[TO]] step %c3
// PIECES:   scf.for %{{.*}} = %[[FIRST]] to %{{.*}} step %c1
// PIECES:     vector.store %{{.*}}, %[[BP]]
// PIECES:   vector.fma
// PIECES-LABEL: func.func @wide(
// PIECES-NOT: scf.for
// PIECES: call @wide_gemm0_dispatch(%{{.*}}, %c0, %c9, %c9)
// PIECES-NOT: call @wide_gemm0_dispatch
// CHUNKS-LABEL: func.func @wide(
// CHUNKS: scf.for
// CHUNKS:   func.call @wide_pack0_dispatch
// CHUNKS:   func.call @wide_gemm0_dispatch
// With the dot-product tail (300 = 9 x 32 + 12 columns) and panels packed
// on the stack, the tail's columns still go to the pack buffer, packed by
// whoever packs the last panel; the buffer holds one panel (a last partial
// one's place) and the tail, not the 9 panels (11 x 64 x 32 before).
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16 stack-pack-kb=16" --canonicalize --cse | FileCheck %s --check-prefix=STACKTAIL
// STACKTAIL-LABEL: func.func private @wide_gemm0(
// STACKTAIL-SAME: %[[BP:[^:]*]]: memref<2x64x32xf32>
// STACKTAIL: %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x64x32xf32>
// STACKTAIL: scf.for
// STACKTAIL:   vector.store %{{.*}}, %[[S]]
// STACKTAIL:   scf.if
// STACKTAIL:     %[[FLAT:.*]] = memref.collapse_shape %[[BP]] {{\[\[}}0, 1, 2]] : memref<2x64x32xf32> into memref<4096xf32>
// STACKTAIL:     memref.store %{{.*}}, %[[FLAT]]
// STACKTAIL:   vector.load %[[S]]
// STACKTAIL:   vector.reduction <add>
func.func @wide(%a: memref<16x64xf32>, %b: memref<64x300xf32>, %c: memref<16x300xf32>) {
  linalg.matmul ins(%a, %b : memref<16x64xf32>, memref<64x300xf32>) outs(%c : memref<16x300xf32>)
  return
}

// Chunks of equal width: 12 full panels in chunks of at most 10 (the pack
// buffer's) are two of 6, not 10 and 2 (whose last call leaves each of two
// threads one panel, one waiting for the other).
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16 dot-tail=false chunk-bytes=81920 whole-chunks=0" --canonicalize --cse | FileCheck %s --check-prefix=EQUAL
// EQUAL-LABEL: func.func @equal_chunks(
// EQUAL-DAG: %[[C6:.*]] = arith.constant 6 : index
// EQUAL-DAG: %[[C12:.*]] = arith.constant 12 : index
// EQUAL-DAG: memref.alloc() {{.*}} : memref<10x64x32xf32>
// EQUAL: scf.for %[[C0:.*]] = %{{.*}} to %[[C12]] step %[[C6]]
// EQUAL:   %[[NEXT:.*]] = arith.addi %[[C0]], %[[C6]]
// EQUAL:   %[[C1:.*]] = arith.minsi %[[NEXT]], %[[C12]]
// EQUAL:   %[[N:.*]] = arith.subi %[[C1]], %[[C0]]
// EQUAL:   call @equal_chunks_gemm0_dispatch(%{{.*}}, %[[C0]], %[[C1]], %[[N]])
// The same B, 96 KB, within two chunks' bytes (whole-chunks' default): the
// threads share all 12 panels in one call, the pack buffer holds them all,
// and each piece of them is packed and multiplied 10 panels (a chunk) at a
// time.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16 dot-tail=false chunk-bytes=81920" --canonicalize --cse | FileCheck %s --check-prefix=WHOLE
// WHOLE-LABEL: func.func private @equal_chunks_gemm0(
// WHOLE-SAME: %[[BP:[^:]*]]: memref<12x64x32xf32>
// WHOLE-SAME: %[[X:[^:]*]]: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index
// WHOLE: %[[FROM:.*]] = arith.addi %[[X]], %[[BEGIN]]
// WHOLE: %[[TO:.*]] = arith.addi %[[X]], %[[END]]
// WHOLE: scf.for %[[FIRST:.*]] = %[[FROM]] to %[[TO]] step %c10
// WHOLE:   %[[NEXT:.*]] = arith.addi %[[FIRST]], %c10
// WHOLE:   %[[LAST:.*]] = arith.minsi %[[NEXT]], %[[TO]]
// WHOLE:   scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %c1
// WHOLE:     vector.store %{{.*}}, %[[BP]]
// WHOLE:   scf.for %{{.*}} = %c0 to %c2 step %c1
// WHOLE:     scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %c1
// WHOLE:       vector.fma
// WHOLE-LABEL: func.func @equal_chunks(
// WHOLE: memref.alloc() {{.*}} : memref<12x64x32xf32>
// WHOLE-NOT: scf.for
// WHOLE: call @equal_chunks_gemm0_dispatch(%{{.*}}, %c0, %c12, %c12)
// WHOLE-NEXT: return
// With stack-pack-kb=16 (two panels of 64 x 32 floats) each thread packs
// its panels two at a time into a buffer on its stack and multiplies them
// from there: the pack buffer is never written, and holds one panel (the
// place of a last partial one), not 12.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16 dot-tail=false chunk-bytes=81920 stack-pack-kb=16" --canonicalize --cse | FileCheck %s --check-prefix=STACK
// STACK-LABEL: func.func private @equal_chunks_gemm0(
// STACK-SAME: %[[BP:[^:]*]]: memref<1x64x32xf32>
// STACK-SAME: %[[X:[^:]*]]: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index
// STACK-NOT: %[[BP]][
// STACK: %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x64x32xf32>
// STACK: %[[FROM:.*]] = arith.addi %[[X]], %[[BEGIN]]
// STACK: %[[TO:.*]] = arith.addi %[[X]], %[[END]]
// STACK: scf.for %[[FIRST:.*]] = %[[FROM]] to %[[TO]] step %c2
// STACK:   %[[NEXT:.*]] = arith.addi %[[FIRST]], %c2
// STACK:   %[[LAST:.*]] = arith.minsi %[[NEXT]], %[[TO]]
// STACK:   scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %c1
// STACK:     vector.store %{{.*}}, %[[S]]
// STACK:   scf.for %{{.*}} = %c0 to %c2 step %c1
// STACK:     scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %c1
// STACK:       vector.load %[[S]]
// STACK:       vector.fma
// STACK-NOT: %[[BP]][
// STACK-LABEL: func.func @equal_chunks(
// STACK: memref.alloc() {{.*}} : memref<1x64x32xf32>
func.func @equal_chunks(%a: memref<16x64xf32>, %b: memref<64x384xf32>, %c: memref<16x384xf32>) {
  linalg.matmul ins(%a, %b : memref<16x64xf32>, memref<64x384xf32>) outs(%c : memref<16x384xf32>)
  return
}

// By default B is packed only for 128 rows or more (16 row blocks): fewer
// read it in place, as the GEMV does.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false" --canonicalize --cse | FileCheck %s --check-prefix=INPLACE
// INPLACE-LABEL: func.func @few_rows(
// INPLACE-NOT: memref.alloc
// INPLACE: vector.load %arg1[%{{.*}}, %{{.*}}] : memref<64x300xf32>, vector<16xf32>
// INPLACE: vector.fma
// INPLACE-LABEL: func.func @many_rows(
// INPLACE: memref.alloc() {alignment = 64 : i64} : memref<{{[0-9]+}}x64x32xf32>
func.func @few_rows(%a: memref<120x64xf32>, %b: memref<64x300xf32>, %c: memref<120x300xf32>) {
  linalg.matmul ins(%a, %b : memref<120x64xf32>, memref<64x300xf32>) outs(%c : memref<120x300xf32>)
  return
}
func.func @many_rows(%a: memref<128x64xf32>, %b: memref<64x300xf32>, %c: memref<128x300xf32>) {
  linalg.matmul ins(%a, %b : memref<128x64xf32>, memref<64x300xf32>) outs(%c : memref<128x300xf32>)
  return
}

// The last columns, fewer than a vector, as dot products along k: 49
// columns go as one panel of 48 (8 x 3 accumulators) and a tail of one,
// packed after the panels (20 floats of k, zeros up to 32); each row's 16
// floats of A at a time times the column's (the last step masked), summed
// across the lanes, added to C's row in lane 0.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=16" --canonicalize --cse | FileCheck %s --check-prefix=DOT
// DOT-LABEL: func.func @f32_dot_tail(
// DOT: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3x20x48xf32>
// DOT: %[[FLAT:.*]] = memref.collapse_shape %[[P]] {{\[\[}}0, 1, 2]] : memref<3x20x48xf32> into memref<2880xf32>
// DOT: scf.for %[[K:.*]] = %c0 to %c20 step %c1
// DOT-NEXT: memref.load %arg1[%[[K]], %c48] : memref<20x49xf32>
// DOT: memref.store {{.*}}, %[[FLAT]]
// DOT: scf.for {{.*}} = %c20 to %c32 step %c1
// DOT: memref.store {{.*}}, %[[FLAT]]
// DOT: vector.fma
// DOT: vector.load %[[FLAT]][%c1920] : memref<2880xf32>, vector<16xf32>
// DOT: vector.load %arg0[%{{.*}}, %c0] : memref<16x20xf32>, vector<16xf32>
// DOT: vector.fma
// DOT: vector.load %[[FLAT]][%c1936] : memref<2880xf32>, vector<16xf32>
// DOT: vector.maskedload %arg0[%{{.*}}, %c16]
// DOT: vector.fma
// DOT: vector.reduction <add>, {{.*}} fastmath<reassoc> : vector<16xf32> into f32
// DOT: vector.insert {{.*}} [0] : f32 into vector<16xf32>
// DOT: vector.maskedstore %arg2[%{{.*}}, %c48]
// On the threads, the packing's share is rows [begin, end) of k, of the
// panel and of the tail column (packed by whoever packs the last panel); the
// tail's zeros with k's last row.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 pack-min-rows=16" --canonicalize --cse | FileCheck %s --check-prefix=DOTPAR
// DOTPAR-LABEL: func.func private @f32_dot_tail_pack0(
// DOTPAR-SAME: %[[B:[^:]*]]: memref<20x49xf32>, %{{[^:]*}}: memref<16x49xf32>, %[[P:[^:]*]]: memref<3x20x48xf32>, {{.*}}, %[[X:[^:]*]]: index, %[[Y:[^:]*]]: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// DOTPAR: scf.for %{{.*}} = %[[X]] to %[[Y]] step %c1
// DOTPAR:   scf.for %[[K:.*]] = %[[BEGIN]] to %[[END]] step %c1
// DOTPAR:     vector.load %[[B]][%[[K]], %{{.*}}] : memref<20x49xf32>, vector<16xf32>
// DOTPAR: %[[LASTPANEL:.*]] = arith.cmpi eq, %[[Y]], %c1
// DOTPAR: scf.if %[[LASTPANEL]]
// DOTPAR:   scf.for %[[TK:.*]] = %[[BEGIN]] to %[[END]] step %c1
// DOTPAR:     memref.load %[[B]][%[[TK]], %c48] : memref<20x49xf32>
// DOTPAR:   %[[LASTROWS:.*]] = arith.cmpi eq, %[[END]], %c20
// DOTPAR:   scf.if %[[LASTROWS]]
// DOTPAR:     scf.for {{.*}} = %c20 to %c32 step %c1
// DOTPAR-LABEL: func.func @f32_dot_tail(
// DOTPAR: call @f32_dot_tail_pack0_dispatch(%{{.*}}, %c0, %c1, %c20)
func.func @f32_dot_tail(%a: memref<16x20xf32>, %b: memref<20x49xf32>, %c: memref<16x49xf32>) {
  linalg.matmul ins(%a, %b : memref<16x20xf32>, memref<20x49xf32>) outs(%c : memref<16x49xf32>)
  return
}

// The threads share a B read in place by its panels when it has 8 or more
// (each core reads and writes its own columns, a convolution's output
// positions), a chunk per call; the last, partial panel by rows.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0" --canonicalize --cse | FileCheck %s --check-prefix=INPAR
// INPAR-LABEL: func.func private @few_rows_gemm0(
// INPAR-SAME: %[[X:[^:]*]]: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// INPAR: %[[FROM:.*]] = arith.addi %[[X]], %[[BEGIN]]
// INPAR: %[[TO:.*]] = arith.addi %[[X]], %[[END]]
// INPAR: scf.for %{{.*}} = %c0 to %c15 step %c1
// INPAR:   scf.for %{{.*}} = %[[FROM]] to %[[TO]] step %c1
// INPAR:     vector.fma
// INPAR-LABEL: func.func @few_rows(
// INPAR: call @few_rows_gemm0_dispatch(%{{.*}}, %c0, %c9, %c9)
// INPAR: call @few_rows_gemm1_dispatch(%{{.*}}, %c9, %c10, %c15)

// Wider than a chunk (8 panels of 8 KB in 64 KB), such a B is shared in one
// call over all 9 full panels, each thread's run 8 panels at a time
// (whole-in-place), rather than a call per chunk.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 chunk-bytes=65536" --canonicalize --cse | FileCheck %s --check-prefix=INWHOLE
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel-min-flops=0 chunk-bytes=65536 whole-in-place=false" --canonicalize --cse | FileCheck %s --check-prefix=INCHUNKS
// INWHOLE-LABEL: func.func private @few_rows_gemm0(
// INWHOLE-SAME: %[[X:[^:]*]]: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// INWHOLE: %[[FROM:.*]] = arith.addi %[[X]], %[[BEGIN]]
// INWHOLE: %[[TO:.*]] = arith.addi %[[X]], %[[END]]
// INWHOLE: scf.for %[[FIRST:.*]] = %[[FROM]] to %[[TO]] step %c8
// INWHOLE:   %[[NEXT:.*]] = arith.addi %[[FIRST]], %c8
// INWHOLE:   %[[LAST:.*]] = arith.minsi %[[NEXT]], %[[TO]]
// INWHOLE:   scf.for %{{.*}} = %c0 to %c15 step %c1
// INWHOLE:     scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %c1
// INWHOLE:       vector.fma
// INWHOLE-LABEL: func.func @few_rows(
// INWHOLE-NOT: scf.for
// INWHOLE: call @few_rows_gemm0_dispatch(%{{.*}}, %c0, %c9, %c9)
// INWHOLE: call @few_rows_gemm1_dispatch(%{{.*}}, %c9, %c10, %c15)
// INCHUNKS-LABEL: func.func @few_rows(
// INCHUNKS: scf.for %[[C0:.*]] = %c0 to %c9 step %c5
// INCHUNKS:   call @few_rows_gemm0_dispatch(%{{.*}}, %[[C0]],

// The third vector per row only where it fits: with AVX2's 8-lane vectors
// and 6-row tile, 25 columns as 24 + 1 (6 x 3 accumulators) need 22 vector
// registers; with 16 they stay 16 + 9 (6 x 2), with 32 they take 24 + 1.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=6 vector-width=8 tile-m=6 vector-registers=16" --canonicalize --cse | FileCheck %s --check-prefix=REG16
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=6 vector-width=8 tile-m=6 vector-registers=32" --canonicalize --cse | FileCheck %s --check-prefix=REG32
// REG16-LABEL: func.func @f32_dot_tail_16_registers(
// REG16: memref.alloc() {alignment = 64 : i64} : memref<2x20x16xf32>
// REG16-NOT: vector.reduction
// REG16-LABEL: func.func @f32_last_blocks_share_rows(
// REG32-LABEL: func.func @f32_dot_tail_16_registers(
// REG32: memref.alloc() {alignment = 64 : i64} : memref<3x20x24xf32>
// REG32: vector.reduction <add>
func.func @f32_dot_tail_16_registers(%a: memref<12x20xf32>, %b: memref<20x25xf32>, %c: memref<12x25xf32>) {
  linalg.matmul ins(%a, %b : memref<12x20xf32>, memref<20x25xf32>) outs(%c : memref<12x25xf32>)
  return
}

// 14 rows in blocks of 6 leave 2, whose 4 accumulators (2 x 2 vectors)
// cannot hide the FMAs' latency: the last two blocks share their 8 rows,
// 4 and 4 (rows 6-9 and 10-13), after one block of 6.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=6 vector-width=8 tile-m=6 vector-registers=16 dot-tail=false" --canonicalize --cse | FileCheck %s --check-prefix=SHARE
// SHARE-LABEL: func.func @f32_last_blocks_share_rows(
// SHARE: scf.for %{{.*}} = %c0 to %c20 step %c1 iter_args({{[^)]*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// SHARE: memref.load %arg0[%c5, %{{.*}}]
// SHARE: scf.for %{{.*}} = %c0 to %c20 step %c1 iter_args({{[^)]*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// SHARE: memref.load %arg0[%c6, %{{.*}}]
// SHARE: memref.load %arg0[%c9, %{{.*}}]
// SHARE-NOT: memref.load %arg0[%c10, %{{.*}}]
// SHARE: scf.for %{{.*}} = %c0 to %c20 step %c1 iter_args({{[^)]*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// SHARE: memref.load %arg0[%c10, %{{.*}}]
// SHARE: memref.load %arg0[%c13, %{{.*}}]
// SHARE: return
func.func @f32_last_blocks_share_rows(%a: memref<14x20xf32>, %b: memref<20x16xf32>, %c: memref<14x16xf32>) {
  linalg.matmul ins(%a, %b : memref<14x20xf32>, memref<20x16xf32>) outs(%c : memref<14x16xf32>)
  return
}

// With pack-a, a constant A (a layer's weights) becomes a global of row
// blocks [blocks][k][mr] (12 rows: 2 blocks of 6), which the micro-kernel
// reads a block's k-th 6 weights at a time (A[blk, kk, r]) and prefetches
// ahead. The dot-product tail (column 16 of 17) takes the block's rows as
// lanes: per step of k, the block's 6 weights (a load masked to 6 lanes)
// times the column's element of B (broadcast), in 4 accumulators taking
// turns (k is 4), summed; row r's result is lane r.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=6 vector-width=8 tile-m=6 vector-registers=16 pack-a" --canonicalize --cse | FileCheck %s --check-prefix=PACKA
// PACKA-NOT: memref.global "private" constant @row_weights :
// PACKA: memref.global "private" constant @row_weights_rows6 : memref<2x4x6xf32> = dense_resource<row_weights_rows6> {alignment = 64 : i64}
// PACKA-LABEL: func.func @packed_weights(
// PACKA-DAG: %[[SIX:.*]] = arith.constant dense<[true, true, true, true, true, true, false, false]> : vector<8xi1>
// PACKA-DAG: %[[A:.*]] = memref.get_global @row_weights_rows6 : memref<2x4x6xf32>
// PACKA: scf.for %[[I:.*]] = %c0 to %c2 step %c1
// PACKA:   %[[ROW:.*]] = arith.muli %[[I]], %c6
// PACKA:   %[[BLK:.*]] = arith.divui %[[ROW]], %c6
// PACKA:   %[[START:.*]] = arith.muli %[[BLK]], %c24
// PACKA:   %[[FLAT:.*]] = memref.collapse_shape %[[A]] {{\[\[}}0, 1, 2]] : memref<2x4x6xf32> into memref<48xf32>
// PACKA:   scf.for %[[K:.*]] = %c0 to %c4 step %c1
// PACKA:     memref.prefetch %[[FLAT]]
// PACKA:     memref.load %[[A]][%[[BLK]], %[[K]], %c0] : memref<2x4x6xf32>
// PACKA:     memref.load %[[A]][%[[BLK]], %[[K]], %c5] : memref<2x4x6xf32>
// PACKA:   %[[W0:.*]] = vector.maskedload %[[FLAT]][%[[START]]], %[[SIX]]
// PACKA:   %[[B0:.*]] = vector.broadcast
// PACKA:   %[[T0:.*]] = vector.fma %[[W0]], %[[B0]], %{{.*}}
// PACKA-COUNT-3: vector.maskedload %[[FLAT]]
// PACKA:   %[[S:.*]] = arith.addf
// PACKA:   %[[S1:.*]] = arith.addf
// PACKA:   %[[SUM:.*]] = arith.addf %[[S]], %[[S1]]
// PACKA:   vector.extract %[[SUM]][0]
// PACKA:   vector.maskedstore %arg1[%[[ROW]], %c16]
// PACKA:   vector.extract %[[SUM]][5]
// PACKA:   vector.maskedstore
// PACKA-NOT: vector.maskedstore
// PACKA: return
memref.global "private" constant @row_weights : memref<12x4xf32> = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]>
func.func @packed_weights(%b: memref<4x17xf32>, %c: memref<12x17xf32>) {
  %a = memref.get_global @row_weights : memref<12x4xf32>
  linalg.matmul ins(%a, %b : memref<12x4xf32>, memref<4x17xf32>) outs(%c : memref<12x17xf32>)
  return
}

// Where a row block fills half a vector (8 rows, 16 lanes), the dot-product
// tail takes two steps of k a vector: the block's weights of k and k + 1
// (contiguous in the row block) in one load, B's two elements of the tail
// column (contiguous in the pack buffer) in the two halves; k = 5 is two
// such pairs in two accumulators taking turns, then the last step of k
// alone (its weights masked to 8 lanes, B's element broadcast) into the
// first; the turns summed, then the halves, and row r's result is lane r.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false pack-min-rows=8 vector-width=16 tile-m=8 vector-registers=32 pack-a" --canonicalize --cse | FileCheck %s --check-prefix=PAIRS
// PAIRS-LABEL: func.func @packed_weights_pairs(
// PAIRS: %[[A:.*]] = memref.get_global @pair_weights_rows8 : memref<2x5x8xf32>
// PAIRS: %[[BP:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2]] : memref<3x5x32xf32> into memref<480xf32>
// PAIRS: %[[FLAT:.*]] = memref.collapse_shape %[[A]] {{\[\[}}0, 1, 2]] : memref<2x5x8xf32> into memref<80xf32>
// PAIRS: %[[W0:.*]] = vector.load %[[FLAT]][%[[START:.*]]] : memref<80xf32>, vector<16xf32>
// PAIRS: %[[P0:.*]] = vector.load %[[BP]][%c320] : memref<480xf32>, vector<2xf32>
// PAIRS: %[[B0:.*]] = vector.shuffle %[[P0]], %[[P0]] [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
// PAIRS: %[[T0:.*]] = vector.fma %[[W0]], %[[B0]], %{{.*}} : vector<16xf32>
// PAIRS: vector.load %[[FLAT]]{{.*}} : memref<80xf32>, vector<16xf32>
// PAIRS: vector.load %[[BP]][%c322] : memref<480xf32>, vector<2xf32>
// PAIRS: %[[T1:.*]] = vector.fma
// PAIRS: %[[W4:.*]] = vector.maskedload %[[FLAT]]
// PAIRS: %[[E4:.*]] = memref.load %[[BP]][%c324]
// PAIRS: %[[B4:.*]] = vector.broadcast %[[E4]] : f32 to vector<16xf32>
// PAIRS: %[[T0B:.*]] = vector.fma %[[W4]], %[[B4]], %[[T0]]
// PAIRS: %[[S:.*]] = arith.addf %[[T0B]], %[[T1]] : vector<16xf32>
// PAIRS: %[[LO:.*]] = vector.extract_strided_slice %[[S]] {offsets = [0], sizes = [8], strides = [1]}
// PAIRS: %[[HI:.*]] = vector.extract_strided_slice %[[S]] {offsets = [8], sizes = [8], strides = [1]}
// PAIRS: %[[ROWS:.*]] = arith.addf %[[LO]], %[[HI]] : vector<8xf32>
// PAIRS: vector.extract %[[ROWS]][0]
// PAIRS: vector.maskedstore %arg1[%{{.*}}, %c32]
// PAIRS: vector.extract %[[ROWS]][7]
// PAIRS: return
memref.global "private" constant @pair_weights : memref<16x5xf32> = dense<1.0>
func.func @packed_weights_pairs(%b: memref<5x33xf32>, %c: memref<16x33xf32>) {
  %a = memref.get_global @pair_weights : memref<16x5xf32>
  linalg.matmul ins(%a, %b : memref<16x5xf32>, memref<5x33xf32>) outs(%c : memref<16x33xf32>)
  return
}

// With B read in place (fewer rows than pack-min-rows) and A packed in row
// blocks, the dot-product tail reads B's tail column in place too: no pack
// buffer, the pairs of B's elements (k and k + 1 of column 32) loaded from B
// itself, rather than a panel of one vector with one lane of sixteen busy.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false vector-width=16 tile-m=8 vector-registers=32 pack-a" --canonicalize --cse | FileCheck %s --check-prefix=INPLACETAIL
// INPLACETAIL-LABEL: func.func @packed_weights_tail_in_place(
// INPLACETAIL-NOT: memref.alloc
// INPLACETAIL: %[[A:.*]] = memref.get_global @in_place_weights_rows8 : memref<2x5x8xf32>
// INPLACETAIL: %[[FLAT:.*]] = memref.collapse_shape %[[A]] {{\[\[}}0, 1, 2]] : memref<2x5x8xf32> into memref<80xf32>
// INPLACETAIL: %[[W0:.*]] = vector.load %[[FLAT]][%{{.*}}] : memref<80xf32>, vector<16xf32>
// INPLACETAIL: %[[E0:.*]] = memref.load %arg0[%c0, %c32] : memref<5x33xf32>
// INPLACETAIL: %[[E1:.*]] = memref.load %arg0[%c1, %c32] : memref<5x33xf32>
// INPLACETAIL: %[[P0:.*]] = vector.from_elements %[[E0]], %[[E1]] : vector<2xf32>
// INPLACETAIL: vector.shuffle %[[P0]], %[[P0]] [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
// INPLACETAIL: vector.fma %[[W0]]
// INPLACETAIL: vector.extract %{{.*}}[7]
// INPLACETAIL: vector.maskedstore %arg1[%{{.*}}, %c32]
// INPLACETAIL-NOT: vector.maskedload %arg0
// INPLACETAIL: return
memref.global "private" constant @in_place_weights : memref<16x5xf32> = dense<1.0>
func.func @packed_weights_tail_in_place(%b: memref<5x33xf32>, %c: memref<16x33xf32>) {
  %a = memref.get_global @in_place_weights : memref<16x5xf32>
  linalg.matmul ins(%a, %b : memref<16x5xf32>, memref<5x33xf32>) outs(%c : memref<16x33xf32>)
  return
}

// A constant B packed at compile time, with more rows than a block,
// multiplies a chunk of panels at a time (here one: chunk-bytes 1024 over
// panels of 8 x 32 floats), each row block over the chunk's panels, so
// that a B bigger than L2 is not streamed from L3 by every row block.
// RUN: kiln-opt %s --kiln-lower-matmuls="parallel=false chunk-bytes=1024" --canonicalize --cse | FileCheck %s --check-prefix=PRECHUNK
// PRECHUNK-LABEL: func.func @constant_b_chunks(
// PRECHUNK: %[[P:.*]] = memref.get_global @chunk_weights_panels32 : memref<2x8x32xf32>
// PRECHUNK: scf.for %[[C0:.*]] = %c0 to %c2 step %c1 {
// PRECHUNK:   %[[NEXT:.*]] = arith.addi %[[C0]], %c1
// PRECHUNK:   %[[C1:.*]] = arith.minsi %[[NEXT]], %c2
// PRECHUNK:   scf.for %{{.*}} = %c0 to %c2 step %c1 {
// PRECHUNK:     scf.for %[[PANEL:.*]] = %[[C0]] to %[[C1]] step %c1 {
// PRECHUNK:       vector.load %[[P]][%[[PANEL]], %{{.*}}, %c0] : memref<2x8x32xf32>, vector<16xf32>
memref.global "private" constant @chunk_weights : memref<8x64xf32> = dense<1.0>
func.func @constant_b_chunks(%a: memref<16x8xf32>, %c: memref<16x64xf32>) {
  %b = memref.get_global @chunk_weights : memref<8x64xf32>
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  return
}
