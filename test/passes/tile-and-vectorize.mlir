// RUN: kiln-opt %s --kiln-tile-and-vectorize | FileCheck %s
// Register tiles of 8x32x4; the K loop (147 = 36*4 + 3) is peeled so that
// full tiles are static, and every tile becomes a matmul vector.contract.

// CHECK-LABEL: func @matmul
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c8
// CHECK:   scf.for %{{.*}} = %c0 to %c256 step %c32
// CHECK:     scf.for %{{.*}} = %c0 to %c144 step %c4
// CHECK:       vector.contract {{.*}} : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
// CHECK:     vector.contract {{.*}} : vector<8x3xi32>, vector<3x32xi32> into vector<8x32xi32>
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: tensor<64x147xi32>, %b: tensor<147x256xi32>, %c: tensor<64x256xi32>) -> tensor<64x256xi32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x147xi32>, tensor<147x256xi32>) outs(%c : tensor<64x256xi32>) -> tensor<64x256xi32>
  return %r : tensor<64x256xi32>
}

// Tiny products are left alone.
// CHECK-LABEL: func @tiny
// CHECK-NOT: scf.for
// CHECK: linalg.matmul
func.func @tiny(%a: tensor<1x4xf32>, %b: tensor<4x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
