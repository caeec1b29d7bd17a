// RUN: kiln-opt %s --kiln-lower-matmuls="split-k=true pack-a=true parallel-min-flops=0" --canonicalize --cse | FileCheck %s
// A 1x1 convolution's GEMM as ResNet-50's 14x14 reductions (256 filters,
// 1024 input channels, 196 pixels) with a bias: with split-k, on two
// threads, halves of 2^24 multiply-adds or more (here 256 x 196 x 512) are
// packed and multiplied in two calls of fine units rather than one of a
// unit a half: the packing's units are the halves' rows of k (512 each, a
// piece of half h packing rows of B from 512 h on into half h's pack
// buffer), the products' are the halves' row blocks (32 each, from A's
// step 512 h on, into half h's partial C); then the sum by rows. Each
// thread's own range of units is its half, so that it multiplies what it
// packed; the runtime moves a piece of either to the thread that is done
// first.

// CHECK-LABEL: func.func private @balanced_halves_pack0(
// CHECK-SAME: %{{[^:]*}}: memref<32x1024x8xf32>, %[[B:[^:]*]]: memref<1024x196xf32>, %{{[^:]*}}: memref<2x256x196xf32>, %[[PACK:[^:]*]]: memref<2x8x512x32xf32>
// CHECK-SAME: %{{[^:]*}}: index, %{{[^:]*}}: index, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// CHECK: %[[FIRST:.*]] = arith.divui %[[BEGIN]], %c512
// CHECK: %[[UP:.*]] = arith.addi %[[END]], %c511
// CHECK: %[[PAST:.*]] = arith.divui %[[UP]], %c512
// CHECK: scf.for %[[H:.*]] = %[[FIRST]] to %[[PAST]] step %c1 {
// CHECK:   %[[BASE:.*]] = arith.muli %[[H]], %c512
// CHECK:   %[[LO0:.*]] = arith.maxsi %[[BEGIN]], %[[BASE]]
// CHECK:   %[[LO:.*]] = arith.subi %[[LO0]], %[[BASE]]
// CHECK:   %[[HI0:.*]] = arith.minsi %[[END]], %{{.*}}
// CHECK:   %[[HI:.*]] = arith.subi %[[HI0]], %[[BASE]]
// CHECK:   memref.subview %[[B]][%[[BASE]], 0] [512, 196]
// CHECK:   memref.subview %[[PACK]][%[[H]], 0, 0, 0] [1, 8, 512, 32]
// CHECK:   scf.for %{{.*}} = %[[LO]] to %[[HI]] step %c1 {
// CHECK-LABEL: func.func private @balanced_halves0(
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index)
// CHECK: %[[FIRST:.*]] = arith.divui %[[BEGIN]], %c32
// CHECK: scf.for %[[H:.*]] = %[[FIRST]] to %{{.*}} step %c1 {
// CHECK:   %[[BASE:.*]] = arith.muli %[[H]], %c32
// CHECK:   memref.subview %{{[^[]*}}[%[[H]], 0, 0] [1, 256, 196]
// CHECK:   vector.fma
// CHECK-LABEL: func.func private @balanced_sum0(
// CHECK-LABEL: func.func @balanced(
// CHECK: scf.if
// CHECK:   func.call @balanced_halves_pack0_dispatch({{.*}}, %c0, %c0, %c1024)
// CHECK:   func.call @balanced_halves0_dispatch({{.*}}, %c0, %c0, %c64)
// CHECK:   func.call @balanced_sum0_dispatch(
// CHECK: } else {
// CHECK:   func.call @balanced_gemm0_dispatch(
#bcast = affine_map<(d0, d1) -> (d0)>
memref.global "private" constant @w : memref<256x1024xf32> = dense<0.25>
memref.global "private" constant @bias : memref<256xf32> = dense<1.0>
func.func @balanced(%x: memref<1024x196xf32>, %y: memref<256x196xf32>) {
  %w = memref.get_global @w : memref<256x1024xf32>
  %b = memref.get_global @bias : memref<256xf32>
  linalg.generic {indexing_maps = [#bcast, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%b : memref<256xf32>) outs(%y : memref<256x196xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%w, %x : memref<256x1024xf32>, memref<1024x196xf32>) outs(%y : memref<256x196xf32>)
  return
}
