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

// roundeven without an instruction for it (Cortex-M): 1.5 * 2^23 added and
// taken away rounds to the nearest integer, ties to even, in f32 alone; the
// sign comes back (-0.4 gives -0), and from 2^22 up x is its own roundeven.
// No conversion to i64 (a library call on a 32-bit core).
// CHECK-LABEL: func @round_even
// CHECK-DAG: %[[MAGIC:.*]] = arith.constant dense<0x4B400000> : vector<4xf32>
// CHECK-DAG: %[[LIMIT:.*]] = arith.constant dense<0x4A800000> : vector<4xf32>
// CHECK: %[[SUM:.*]] = arith.addf %arg0, %[[MAGIC]] : vector<4xf32>
// CHECK: %[[R:.*]] = arith.subf %[[SUM]], %[[MAGIC]] : vector<4xf32>
// CHECK: %[[S:.*]] = math.copysign %[[R]], %arg0 : vector<4xf32>
// CHECK: %[[A:.*]] = math.absf %arg0 : vector<4xf32>
// CHECK: %[[SMALL:.*]] = arith.cmpf olt, %[[A]], %[[LIMIT]] : vector<4xf32>
// CHECK: arith.select %[[SMALL]], %[[S]], %arg0 : vector<4xi1>, vector<4xf32>
// CHECK-NOT: fptosi
func.func @round_even(%x: vector<4xf32>) -> vector<4xf32> {
  %r = math.roundeven %x : vector<4xf32>
  return %r : vector<4xf32>
}

// erf in f32: x clamped to [-4, 4], x * P(x^2) / Q(x^2) by multiply-adds
// that may contract into FMAs, one division, and no selects (upstream's
// three intervals pick their coefficients with them).
// CHECK-LABEL: func @erf_rational
// CHECK-DAG: %[[FOUR:.*]] = arith.constant dense<4.000000e+00> : vector<8xf32>
// CHECK-DAG: %[[MFOUR:.*]] = arith.constant dense<-4.000000e+00> : vector<8xf32>
// CHECK: %[[LO:.*]] = arith.minimumf %arg0, %[[FOUR]]
// CHECK: %[[X:.*]] = arith.maximumf %[[LO]], %[[MFOUR]]
// CHECK: %[[X2:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: arith.mulf %{{.*}}, %[[X2]] fastmath<contract>
// CHECK-NOT: arith.select
// CHECK: %[[P:.*]] = arith.mulf %[[X]], %{{.*}} : vector<8xf32>
// CHECK: arith.divf %[[P]], %{{.*}} : vector<8xf32>
// CHECK-NOT: math.erf
func.func @erf_rational(%x: vector<8xf32>) -> vector<8xf32> {
  %r = math.erf %x : vector<8xf32>
  return %r : vector<8xf32>
}

// erf of a constant scale of x (Gelu's erf(x / sqrt(2))): the scale goes
// into the clamps (4 * sqrt(2)) and the coefficients, and the only division
// left is the one after the polynomials.
// CHECK-LABEL: func @erf_scaled
// CHECK-DAG: %[[HI:.*]] = arith.constant dense<5.65685{{[0-9]*}}> : vector<8xf32>
// CHECK-DAG: %[[LO:.*]] = arith.constant dense<-5.65685{{[0-9]*}}> : vector<8xf32>
// CHECK: %[[MIN:.*]] = arith.minimumf %arg0, %[[HI]]
// CHECK: %[[Y:.*]] = arith.maximumf %[[MIN]], %[[LO]]
// CHECK: %[[Y2:.*]] = arith.mulf %[[Y]], %[[Y]]
// CHECK: %[[P:.*]] = arith.mulf %[[Y]], %{{.*}} : vector<8xf32>
// CHECK: arith.divf %[[P]], %{{.*}} : vector<8xf32>
// CHECK-NOT: arith.divf
// CHECK-NOT: math.erf
func.func @erf_scaled(%x: vector<8xf32>) -> vector<8xf32> {
  %c = arith.constant dense<1.41421354> : vector<8xf32>
  %d = arith.divf %x, %c : vector<8xf32>
  %r = math.erf %d : vector<8xf32>
  return %r : vector<8xf32>
}

// A scale outside [1/16, 16] stays a product before the usual clamps.
// CHECK-LABEL: func @erf_scale_too_big
// CHECK: %[[M:.*]] = arith.mulf %arg0, %{{.*}} : f32
// CHECK: arith.minimumf %[[M]]
func.func @erf_scale_too_big(%x: f32) -> f32 {
  %c = arith.constant 100.0 : f32
  %m = arith.mulf %x, %c : f32
  %r = math.erf %m : f32
  return %r : f32
}
