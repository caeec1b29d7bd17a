// RUN: kiln-opt %s --split-input-file --kiln-lower-run-time-checks | FileCheck %s
// Run-time checks become the entry function's i32 status: one stack flag
// collects every cf.assert, also those inside loops, and each return gives
// 0 or KILN_ERROR_SHAPE (3).

// CHECK-LABEL: func @checked
// CHECK-SAME: -> i32
// CHECK-DAG: %[[TRUE:.*]] = arith.constant true
// CHECK-DAG: %[[FLAG:.*]] = memref.alloca() : memref<i1>
// CHECK: memref.store %[[TRUE]], %[[FLAG]][]
// CHECK-NOT: cf.assert
// CHECK: scf.for
// CHECK:   %[[OLD:.*]] = memref.load %[[FLAG]][]
// CHECK:   %[[AND:.*]] = arith.andi %[[OLD]], %{{.*}}
// CHECK:   memref.store %[[AND]], %[[FLAG]][]
// CHECK-NOT: cf.assert
// CHECK: %[[OK:.*]] = memref.load %[[FLAG]][]
// CHECK: %[[STATUS:.*]] = arith.select %[[OK]], %{{.*}}, %{{.*}} : i32
// CHECK: return %[[STATUS]] : i32
func.func @checked(%in: memref<4xi64>, %out: memref<4xi64>) attributes {kiln.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0 : i64
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %in[%i] : memref<4xi64>
    %ok = arith.cmpi sge, %v, %zero : i64
    cf.assert %ok, "Example: a negative value"
    memref.store %v, %out[%i] : memref<4xi64>
  }
  return
}

// -----

// Without checks the status is the constant 0, and nothing else changes.
// CHECK-LABEL: func @unchecked
// CHECK-SAME: -> i32
// CHECK-NOT: memref.alloca
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK: return %[[ZERO]] : i32
func.func @unchecked(%in: memref<4xf32>, %out: memref<4xf32>) attributes {kiln.entry} {
  linalg.copy ins(%in : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}

// -----

// Functions that are not the entry keep their signature.
// CHECK-LABEL: func @helper
// CHECK-SAME: (%{{.*}}: memref<4xf32>) {
func.func @helper(%in: memref<4xf32>) {
  return
}
