// RUN: kiln-opt %s --kiln-lower-matmuls="split-k=true pack-a=true tile-m=4 parallel-min-flops=0" --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-lower-matmuls="pack-a=true tile-m=4 parallel-min-flops=0" --canonicalize --cse | FileCheck %s --check-prefix=OFF
// RUN: kiln-opt %s --kiln-lower-matmuls="split-k=true pack-a=true tile-m=4 parallel-min-flops=0 chunk-bytes=1024" --canonicalize --cse | FileCheck %s --check-prefix=OFF
// A GEMM of constant weights with a bias, a residual Add and a Relu, 8 rows
// (two row blocks of 4) and k 32: with split-k, on two threads
// (kiln_get_num_threads, when it runs) each thread multiplies one half of k
// (16 steps) into a partial C of its own ([2][8][20], from zeros), B's half
// packed by its thread, A read in the layer's own row blocks from step 16 h
// on (its prefetches past a block's half going to the next block's same
// half); then the threads sum the partials by rows with the bias, the
// residual and the Relu into Y. On other counts the GEMM runs as before.
// Not where the two partials (1280 bytes here) are more than a chunk of
// packed B (chunk-bytes=1024): the GEMM alone, as without split-k.

// CHECK-LABEL: func.func private @split_k_halves0(
// CHECK-SAME: %[[A:[^:]*]]: memref<2x32x4xf32>, %[[B:[^:]*]]: memref<32x20xf32>, %[[P:[^:]*]]: memref<2x8x20xf32>, %[[PACK:[^:]*]]: memref<2x1x16x32xf32>
// CHECK: scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[K0:.*]] = arith.muli %[[H]], %c16
// CHECK:   %[[BH:.*]] = memref.subview %[[B]][%[[K0]], 0] [16, 20]
// CHECK:   %[[PH:.*]] = memref.subview %[[P]][%[[H]], 0, 0] [1, 8, 20]
// CHECK:   %[[PK:.*]] = memref.subview %[[PACK]][%[[H]], 0, 0, 0] [1, 1, 16, 32]
// CHECK:   vector.load %[[BH]]
// CHECK:   vector.store %{{.*}}, %[[PK]]
// CHECK:   scf.for %{{.*}} = %c0 to %c2 step %c1 {
// CHECK:     %[[BLK:.*]] = arith.divui
// CHECK:     %[[SKIP:.*]] = arith.muli %[[H]], %c64
// CHECK:     scf.for %[[KK:.*]] = %c0 to %c16 step %c1 iter_args(
// CHECK:       memref.prefetch
// CHECK:       %[[STEP:.*]] = arith.addi %[[KK]], %[[K0]]
// CHECK:       memref.load %[[A]][%[[BLK]], %[[STEP]], %c0]
// CHECK:       vector.fma
// CHECK:     vector.store %{{.*}}, %[[PH]]
// CHECK-LABEL: func.func private @split_k_sum0(
// CHECK-SAME: %[[P:[^:]*]]: memref<2x8x20xf32>, %{{[^:]*}}: memref<2x8x20xf32>, %[[BIAS:[^:]*]]: memref<8xf32>, %[[R:[^:]*]]: memref<8x20xf32, strided<[20, 1]>>, %[[Y:[^:]*]]: memref<8x20xf32>
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   memref.load %[[BIAS]][%[[ROW]]]
// CHECK:   vector.load %[[P]][%c0, %[[ROW]], %c0]
// CHECK:   vector.load %[[P]][%c1, %[[ROW]], %c0]
// CHECK:   vector.load %[[R]][%[[ROW]], %c0]
// CHECK:   arith.maximumf
// CHECK:   vector.store %{{.*}}, %[[Y]][%[[ROW]], %c0]
// CHECK-LABEL: func.func @split_k(
// CHECK: %[[THREADS:.*]] = call @kiln_get_num_threads()
// CHECK: %[[TWO:.*]] = arith.cmpi eq, %[[THREADS]], %c2_i32
// CHECK: scf.if %[[TWO]] {
// CHECK:   memref.alloc() {alignment = 64 : i64} : memref<2x8x20xf32>
// CHECK:   func.call @split_k_halves0_dispatch({{.*}}, %c0, %c0, %c2)
// CHECK:   func.call @split_k_sum0_dispatch({{.*}}, %c0, %c0, %c8)
// CHECK: } else {
// CHECK:   func.call @split_k_gemm0_dispatch(
// OFF-LABEL: func.func @split_k(
// OFF-NOT: kiln_get_num_threads
// OFF-NOT: halves
// OFF: call @split_k_gemm0_dispatch(
#bcast = affine_map<(d0, d1) -> (d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
memref.global "private" constant @w : memref<8x32xf32> = dense<0.25>
memref.global "private" constant @bias : memref<8xf32> = dense<1.0>
func.func @split_k(%x: memref<32x20xf32>, %r: memref<8x20xf32>, %y: memref<8x20xf32>) {
  %w = memref.get_global @w : memref<8x32xf32>
  %b = memref.get_global @bias : memref<8xf32>
  %acc = memref.alloc() : memref<8x20xf32>
  linalg.generic {indexing_maps = [#bcast, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%b : memref<8xf32>) outs(%acc : memref<8x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%w, %x : memref<8x32xf32>, memref<32x20xf32>) outs(%acc : memref<8x20xf32>)
  linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %r : memref<8x20xf32>, memref<8x20xf32>) outs(%y : memref<8x20xf32>) {
  ^bb0(%in: f32, %res: f32, %out: f32):
    %s = arith.addf %in, %res : f32
    %zero = arith.constant 0.0 : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  }
  return
}
