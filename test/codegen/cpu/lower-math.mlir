// RUN: kiln-opt %s --kiln-lower-math | FileCheck %s
// Math that LLVM would turn into libm calls becomes arithmetic; sqrt, which
// has an instruction, stays.

// CHECK-LABEL: func @transcendental
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// CHECK-NOT: math.tanh
// CHECK-NOT: math.powf
// CHECK: math.sqrt
func.func @transcendental(%x: f32, %y: f32) -> (f32, f32, f32, f32, f32) {
  %e = math.exp %x : f32
  %r = math.erf %x : f32
  %t = math.tanh %x : f32
  %p = math.powf %x, %y : f32
  %s = math.sqrt %x : f32
  return %e, %r, %t, %p, %s : f32, f32, f32, f32, f32
}

// Constant exponents are strength-reduced, not sent through exp and log.
// CHECK-LABEL: func @square_and_root
// CHECK-NOT: math.exp
// CHECK-DAG: arith.mulf %arg0, %arg0 : f32
// CHECK-DAG: math.sqrt %arg0 : f32
func.func @square_and_root(%x: f32) -> (f32, f32) {
  %two = arith.constant 2.0 : f32
  %half = arith.constant 0.5 : f32
  %sq = math.powf %x, %two : f32
  %rt = math.powf %x, %half : f32
  return %sq, %rt : f32, f32
}
