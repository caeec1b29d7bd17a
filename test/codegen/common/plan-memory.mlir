// RUN: kiln-opt %s --kiln-plan-memory | FileCheck %s
// Buffers whose lifetimes do not overlap share the arena; the entry function
// gains the workspace argument and every alloc becomes a view of it.

// CHECK-LABEL: func @chain
// CHECK-SAME: %[[WS:[a-z0-9]+]]: memref<8192xi8>
// CHECK-SAME: kiln.workspace_lower_bound = 8192
// CHECK-SAME: kiln.workspace_size = 8192
// CHECK-SAME: kiln.workspace_unplanned = 12288
// CHECK-NOT: memref.alloc
// CHECK: %[[O0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[WS]][%[[O0]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[O1:.*]] = arith.constant 4096 : index
// CHECK: memref.view %[[WS]][%[[O1]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[O2:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[WS]][%[[O2]]][] : memref<8192xi8> to memref<1024xf32>
func.func @chain(%in: memref<1024xf32>, %out: memref<1024xf32>) attributes {kiln.entry} {
  %a = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%in : memref<1024xf32>) outs(%a : memref<1024xf32>)
  %b = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%a : memref<1024xf32>) outs(%b : memref<1024xf32>)
  %c = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%b : memref<1024xf32>) outs(%c : memref<1024xf32>)
  linalg.copy ins(%c : memref<1024xf32>) outs(%out : memref<1024xf32>)
  return
}

// A view keeps its buffer alive: %a is read through %v after %b is made,
// so all three are live together at the last copy.
// CHECK-LABEL: func @alias
// CHECK-SAME: memref<12288xi8>
func.func @alias(%in: memref<1024xf32>, %out: memref<1024xf32>) attributes {kiln.entry} {
  %a = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%in : memref<1024xf32>) outs(%a : memref<1024xf32>)
  %v = memref.expand_shape %a [[0, 1]] output_shape [32, 32] : memref<1024xf32> into memref<32x32xf32>
  %b = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%in : memref<1024xf32>) outs(%b : memref<1024xf32>)
  %c = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%b : memref<1024xf32>) outs(%c : memref<1024xf32>)
  %f = memref.collapse_shape %v [[0, 1]] : memref<32x32xf32> into memref<1024xf32>
  linalg.add ins(%f, %c : memref<1024xf32>, memref<1024xf32>) outs(%out : memref<1024xf32>)
  return
}

// A buffer that nothing reads or writes (a GEMM's C once its bias and
// activation went into the kernel and its result into another buffer) goes
// with its unused views and dealloc: it takes no arena bytes. Were it kept,
// %dead and %b (live across its views) would need 12288.
// CHECK-LABEL: func @unused
// CHECK-SAME: memref<4096xi8>
// CHECK-SAME: kiln.workspace_unplanned = 4096
// CHECK-NOT: memref<2048xf32>
// CHECK: return
func.func @unused(%in: memref<1024xf32>, %out: memref<1024xf32>) attributes {kiln.entry} {
  %dead = memref.alloc() : memref<2048xf32>
  %s = memref.subview %dead[0] [1024] [1] : memref<2048xf32> to memref<1024xf32, strided<[1]>>
  %b = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%in : memref<1024xf32>) outs(%b : memref<1024xf32>)
  %e = memref.expand_shape %dead [[0, 1]] output_shape [32, 64] : memref<2048xf32> into memref<32x64xf32>
  linalg.copy ins(%b : memref<1024xf32>) outs(%out : memref<1024xf32>)
  memref.dealloc %dead : memref<2048xf32>
  return
}

// Functions not marked kiln.entry are left alone.
// CHECK-LABEL: func @helper
// CHECK: memref.alloc
func.func @helper() {
  %a = memref.alloc() : memref<4xf32>
  return
}
