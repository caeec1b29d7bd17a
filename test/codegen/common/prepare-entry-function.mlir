// RUN: kiln-opt %s --kiln-prepare-entry-function | FileCheck %s
// Inputs become read-only for bufferization, and each output a fresh tensor:
// an input returned as is, a constant, or one value returned twice is copied.

// CHECK-LABEL: func @entry
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<4xf32> {bufferization.writable = false}
// CHECK: %[[C0:.*]] = linalg.copy ins(%[[X]] : tensor<4xf32>)
// CHECK: %[[C1:.*]] = linalg.copy ins(%[[K:[a-z0-9_]+]] : tensor<4xf32>)
// CHECK: %[[C2:.*]] = linalg.copy ins(%[[R:[a-z0-9_]+]] : tensor<4xf32>)
// CHECK: return %[[C0]], %[[C1]], %[[R]], %[[C2]]
func.func @entry(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) attributes {kiln.entry} {
  %k = arith.constant dense<1.0> : tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.add ins(%x, %k : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %x, %k, %r, %r : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// CHECK-LABEL: func @not_entry
// CHECK-NOT: bufferization.writable
// CHECK-NOT: linalg.copy
func.func @not_entry(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// Tensors with no elements cross the boundary as tensor<0xT>: the bare-pointer
// convention cannot pass a multi-dimensional memref with a zero dimension.
// CHECK-LABEL: func @empty
// CHECK-SAME: (%[[X:.*]]: tensor<0xi64> {{.*}}) -> tensor<0xi64>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[X]] {{\[\[}}0, 1, 2]] output_shape [3, 0, 5] : tensor<0xi64> into tensor<3x0x5xi64>
// CHECK: %[[C:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2]] : tensor<3x0x5xi64> into tensor<0xi64>
// CHECK: return %{{.*}} : tensor<0xi64>
func.func @empty(%x: tensor<3x0x5xi64>) -> tensor<3x0x5xi64> attributes {kiln.entry} {
  return %x : tensor<3x0x5xi64>
}
