// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Resize: per resized axis, a 1-d linalg.generic over the output length
// computes the taps (edge-clamped indices) and their coefficients from the
// scale, which may be a run-time value; nearest gathers through the index
// tables, linear and cubic interpolate one axis at a time. Run-time scales
// are checked against the static output length with cf.assert.

// Run-time scales, linear: one assert per axis, tables for the two resized
// axes only (length-1 axes read element 0), then one pass per axis.
// CHECK-LABEL: func @linear_runtime_scales
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x2xf32>, %[[S:.*]]: tensor<4xf32>)
// CHECK: %[[S2:.*]] = tensor.extract %[[S]][%c2{{.*}}] : tensor<4xf32>
// CHECK: %[[S2D:.*]] = arith.extf %[[S2]] : f32 to f64
// CHECK: cf.assert %{{.*}}, "Resize: floor(input length * scale) differs from the static output length on axis 0"
// CHECK: cf.assert %{{.*}}, "Resize: floor(input length * scale) differs from the static output length on axis 1"
// CHECK: %[[MUL:.*]] = arith.mulf %[[S2D]], %{{.*}} : f64
// CHECK: math.floor %[[MUL]] : f64
// CHECK: cf.assert %{{.*}}, "Resize: floor(input length * scale) differs from the static output length on axis 2"
// CHECK: cf.assert %{{.*}}, "Resize: floor(input length * scale) differs from the static output length on axis 3"
// CHECK: %[[T2:.*]]:4 = linalg.generic {{.*}} iterator_types = ["parallel"]} outs({{.*}} : tensor<4xindex>, tensor<4xindex>, tensor<4xf32>, tensor<4xf32>)
// CHECK:   linalg.index 0
// CHECK:   arith.divf %{{.*}}, %[[S2D]] : f64
// CHECK:   math.floor
// CHECK:   math.ceil
// CHECK:   arith.fptosi
// CHECK:   linalg.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : index, index, f32, f32
// CHECK: %[[P2:.*]] = linalg.generic {{.*}} ins(%[[T2]]#0, %[[T2]]#1, %[[T2]]#2, %[[T2]]#3 : {{.*}}) outs(%{{.*}} : tensor<1x1x4x2xf32>)
// CHECK:   tensor.extract %[[X]]
// CHECK:   tensor.extract %[[X]]
// CHECK: %[[T3:.*]]:4 = linalg.generic {{.*}} iterator_types = ["parallel"]}
// CHECK: %[[P3:.*]] = linalg.generic {{.*}} ins(%[[T3]]#0, %[[T3]]#1, %[[T3]]#2, %[[T3]]#3 : {{.*}}) outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK:   tensor.extract %[[P2]]
// CHECK:   tensor.extract %[[P2]]
// CHECK: return %[[P3]]
func.func @linear_runtime_scales(%x: tensor<1x1x2x2xf32>, %scales: tensor<4xf32>) -> tensor<1x1x4x4xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Resize"(%x, %none, %scales, %none) {mode = "linear"} : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// Constant scales build the same tables with constant operands and no
// assert; nearest is one gather through one index table per resized axis.
// CHECK-LABEL: func @nearest_constant_scales
// CHECK-NOT: cf.assert
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f64
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3.000000e+00 : f64
// CHECK: %[[T2:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4xindex>)
// CHECK:   arith.divf %{{.*}}, %[[TWO]] : f64
// CHECK:   arith.cmpf ogt
// CHECK: %[[T3:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<6xindex>)
// CHECK:   arith.divf %{{.*}}, %[[THREE]] : f64
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[T2]], %[[T3]] : tensor<4xindex>, tensor<6xindex>) outs(%{{.*}} : tensor<1x1x4x6xi32>)
// CHECK: ^bb0(%[[I2:.*]]: index, %[[I3:.*]]: index, %{{.*}}: i32):
// CHECK:   tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %[[I2]], %[[I3]]] : tensor<1x1x2x2xi32>
// CHECK: return %[[Y]]
func.func @nearest_constant_scales(%x: tensor<1x1x2x2xi32>) -> tensor<1x1x4x6xi32> {
  %none = onnx.NoValue : none
  %s = "onnx.Constant"() {value = dense<[1.0, 1.0, 2.0, 3.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = "onnx.Resize"(%x, %none, %s, %none) {mode = "nearest"} : (tensor<1x1x2x2xi32>, none, tensor<4xf32>, none) -> tensor<1x1x4x6xi32>
  return %y : tensor<1x1x4x6xi32>
}

// Scale 1 on an axis of unchanged length needs no table nor pass.
// CHECK-LABEL: func @identity_axis
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: linalg.generic
func.func @identity_axis(%x: tensor<3x4xf32>) -> tensor<3x8xf32> {
  %none = onnx.NoValue : none
  %s = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.Resize"(%x, %none, %s, %none) {mode = "linear"} : (tensor<3x4xf32>, none, tensor<2xf32>, none) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// Cubic with exclude_outside: four taps, the coefficients of taps outside
// the axis zeroed and the rest divided by their sum.
// CHECK-LABEL: func @cubic_exclude_outside
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<8xindex>, tensor<8xindex>, tensor<8xindex>, tensor<8xindex>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK-COUNT-4: arith.cmpi slt
// CHECK-COUNT-4: arith.divf
// CHECK: linalg.yield
// CHECK: linalg.generic
// CHECK-COUNT-4: arith.mulf
func.func @cubic_exclude_outside(%x: tensor<4xf32>, %scales: tensor<1xf32>) -> tensor<8xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Resize"(%x, %none, %scales, %none) {mode = "cubic", cubic_coeff_a = -5.000000e-01 : f32, exclude_outside = 1 : i64} : (tensor<4xf32>, none, tensor<1xf32>, none) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// tf_crop_and_resize with a run-time roi and run-time sizes: the sizes are
// asserted equal to the static shape; each table also flags the positions
// outside the crop, which take extrapolation_value.
// CHECK-LABEL: func @crop_runtime_roi
// CHECK-SAME: (%{{.*}}: tensor<4x4xf32>, %[[ROI:.*]]: tensor<4xf32>, %{{.*}}: tensor<2xi64>)
// CHECK: tensor.extract %[[ROI]]
// CHECK: cf.assert %{{.*}}, "Resize: sizes differ from the static output shape"
// CHECK: cf.assert %{{.*}}, "Resize: sizes differ from the static output shape"
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<3xindex>, tensor<3xindex>, tensor<3xf32>, tensor<3xf32>, tensor<3xi1>)
// CHECK:   arith.cmpf olt
// CHECK:   arith.cmpf ogt
// CHECK: linalg.generic
// CHECK:   arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<3xindex>, tensor<3xindex>, tensor<3xf32>, tensor<3xf32>, tensor<3xi1>)
// CHECK: linalg.generic
// CHECK:   arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
func.func @crop_runtime_roi(%x: tensor<4x4xf32>, %roi: tensor<4xf32>, %sizes: tensor<2xi64>) -> tensor<3x3xf32> {
  %none = onnx.NoValue : none
  %y = "onnx.Resize"(%x, %roi, %none, %sizes) {mode = "linear", coordinate_transformation_mode = "tf_crop_and_resize", extrapolation_value = 1.000000e+01 : f32} : (tensor<4x4xf32>, tensor<4xf32>, none, tensor<2xi64>) -> tensor<3x3xf32>
  return %y : tensor<3x3xf32>
}
