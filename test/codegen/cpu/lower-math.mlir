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
