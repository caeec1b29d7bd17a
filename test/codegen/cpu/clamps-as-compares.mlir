// RUN: kiln-opt %s --kiln-clamps-as-compares | FileCheck %s
// A float max/min with a constant that is not NaN becomes a compare and a
// select that keep the other operand when it is NaN (x86's maxps/minps);
// other max/min stay.

// CHECK-LABEL: func @relu6
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK-DAG: %[[SIX:.*]] = arith.constant dense<6.000000e+00> : vector<16xf32>
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[ZERO]], %arg0
// CHECK: %[[MAX:.*]] = arith.select %[[GT]], %[[ZERO]], %arg0
// CHECK: %[[LT:.*]] = arith.cmpf olt, %[[SIX]], %[[MAX]]
// CHECK: %[[MIN:.*]] = arith.select %[[LT]], %[[SIX]], %[[MAX]]
// CHECK-NOT: arith.maximumf
// CHECK-NOT: arith.minimumf
// CHECK: return %[[MIN]]
func.func @relu6(%x: vector<16xf32>) -> vector<16xf32> {
  %zero = arith.constant dense<0.0> : vector<16xf32>
  %six = arith.constant dense<6.0> : vector<16xf32>
  %m = arith.maximumf %x, %zero : vector<16xf32>
  %r = arith.minimumf %six, %m : vector<16xf32>
  return %r : vector<16xf32>
}

// A scalar, and a broadcast constant.
// CHECK-LABEL: func @scalar_and_broadcast
// CHECK: arith.cmpf ogt, %{{.*}}, %arg0 : f32
// CHECK: arith.select
// CHECK: arith.cmpf olt, %{{.*}}, %arg1 : vector<8xf32>
// CHECK: arith.select
func.func @scalar_and_broadcast(%x: f32, %v: vector<8xf32>) -> (f32, vector<8xf32>) {
  %c = arith.constant 1.5 : f32
  %m = arith.maximumf %x, %c : f32
  %b = vector.broadcast %c : f32 to vector<8xf32>
  %n = arith.minimumf %v, %b : vector<8xf32>
  return %m, %n : f32, vector<8xf32>
}

// Two variables, a NaN constant, and an op already known not to see NaN
// are left as they are.
// CHECK-LABEL: func @kept
// CHECK-NOT: arith.cmpf
// CHECK: arith.maximumf %arg0, %arg1
// CHECK: arith.maximumf %arg0, %{{.*}} : f32
// CHECK: arith.minimumf %arg0, %{{.*}} fastmath<nnan> : f32
func.func @kept(%x: f32, %y: f32) -> (f32, f32, f32) {
  %nan = arith.constant 0x7FC00000 : f32
  %one = arith.constant 1.0 : f32
  %a = arith.maximumf %x, %y : f32
  %b = arith.maximumf %x, %nan : f32
  %c = arith.minimumf %x, %one fastmath<nnan> : f32
  return %a, %b, %c : f32, f32, f32
}
