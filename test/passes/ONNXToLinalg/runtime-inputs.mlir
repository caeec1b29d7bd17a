// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg --canonicalize | FileCheck %s
// Run-time (non-constant) inputs that today's models feed to Slice, Pad,
// CumSum and ReduceSum: computed at run time with ONNX's rules, checked
// against the static result shape with cf.assert.

// Constant axes and positive steps: the run-time start, clamped, is the
// offset of a strided extract_slice.
// CHECK-LABEL: func @slice_runtime_starts
// CHECK: cf.assert %{{.*}}, "Slice: the sliced length of axis 1 differs from the static output shape"
// CHECK: %[[OFF:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: tensor.extract_slice %{{.*}}[0, %[[OFF]]] [2, 2] [1, 2] : tensor<2x6xf32> to tensor<2x2xf32>
func.func @slice_runtime_starts(%x: tensor<2x6xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>) -> tensor<2x2xf32> {
  %axes = "onnx.Constant"() {value = dense<[1]> : tensor<1xi64>} : () -> tensor<1xi64>
  %steps = "onnx.Constant"() {value = dense<[2]> : tensor<1xi64>} : () -> tensor<1xi64>
  %y = "onnx.Slice"(%x, %s, %e, %axes, %steps) : (tensor<2x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// Run-time axes and steps (i32): per-dim start and step selected by axis,
// then a gathering generic.
// CHECK-LABEL: func @slice_runtime_all
// CHECK: arith.extsi %{{.*}} : i32 to i64
// CHECK: cf.assert %{{.*}}, "Slice: a step is 0"
// CHECK: cf.assert %{{.*}}, "Slice: axis out of range"
// CHECK: cf.assert %{{.*}}, "Slice: the sliced length of axis 0 differs from the static output shape"
// CHECK: cf.assert %{{.*}}, "Slice: the sliced length of axis 1 differs from the static output shape"
// CHECK: linalg.generic
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %{{.*}} : tensor<4x6xf32>
// CHECK-NOT: tensor.extract_slice
func.func @slice_runtime_all(%x: tensor<4x6xf32>, %s: tensor<1xi32>, %e: tensor<1xi32>, %a: tensor<1xi32>, %st: tensor<1xi32>) -> tensor<4x2xf32> {
  %y = "onnx.Slice"(%x, %s, %e, %a, %st) : (tensor<4x6xf32>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// Run-time pads and value: a generic that selects the pad value outside.
// CHECK-LABEL: func @pad_runtime
// CHECK: cf.assert %{{.*}}, "Pad: the pads of axis 0 differ from the static output shape"
// CHECK: cf.assert %{{.*}}, "Pad: the pads of axis 1 differ from the static output shape"
// CHECK: linalg.generic
// CHECK: %[[V:.*]] = tensor.extract %{{.*}} : tensor<2x3xf32>
// CHECK: arith.select %{{.*}}, %[[V]], %{{.*}} : f32
// CHECK-NOT: tensor.pad
func.func @pad_runtime(%x: tensor<2x3xf32>, %p: tensor<4xi64>, %v: tensor<f32>) -> tensor<3x6xf32> {
  %y = "onnx.Pad"(%x, %p, %v) {mode = "constant"} : (tensor<2x3xf32>, tensor<4xi64>, tensor<f32>) -> tensor<3x6xf32>
  return %y : tensor<3x6xf32>
}

// Negative (cropping) constant pads take the gathering form, no assert.
// CHECK-LABEL: func @pad_negative_constant
// CHECK-NOT: cf.assert
// CHECK: linalg.generic
// CHECK: arith.subi %{{.*}}, %c-1_i64
// CHECK: tensor.extract %{{.*}} : tensor<4x5xf32>
func.func @pad_negative_constant(%x: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %p = "onnx.Constant"() {value = dense<[-1, 2, 1, -2]> : tensor<4xi64>} : () -> tensor<4xi64>
  %none = onnx.NoValue : none
  %y = "onnx.Pad"(%x, %p, %none) {mode = "edge"} : (tensor<4x5xf32>, tensor<4xi64>, none) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// A run-time axis switches between the constant-axis lowerings, which all
// accumulate into one buffer made before the switch.
// CHECK-LABEL: func @cumsum_runtime_axis
// CHECK: cf.assert %{{.*}}, "CumSum: axis out of range"
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK: linalg.generic {{.*}} outs(%[[INIT]]
// CHECK: default {
// CHECK: linalg.generic {{.*}} outs(%[[INIT]]
func.func @cumsum_runtime_axis(%x: tensor<2x3xf32>, %a: tensor<i32>) -> tensor<2x3xf32> {
  %y = "onnx.CumSum"(%x, %a) : (tensor<2x3xf32>, tensor<i32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// keepdims: dim 0 must be reduced, dim 2 must not, dim 1 (size 1) may be.
// CHECK-LABEL: func @reduce_sum_keepdims
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: %[[CARED:.*]] = arith.andi %{{.*}}, %c5_i64
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[CARED]], %c1_i64
// CHECK: cf.assert %[[OK]], "ReduceSum: the axes do not give the static output shape"
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]
// CHECK-NOT: scf.index_switch
func.func @reduce_sum_keepdims(%x: tensor<3x1x4xf32>, %a: tensor<2xi64>) -> tensor<1x1x4xf32> {
  %y = "onnx.ReduceSum"(%x, %a) {keepdims = 1 : i64} : (tensor<3x1x4xf32>, tensor<2xi64>) -> tensor<1x1x4xf32>
  return %y : tensor<1x1x4xf32>
}

// Without keepdims 3x2x2 -> 3x2 drops dim 1 or dim 2: a switch on the mask.
// CHECK-LABEL: func @reduce_sum_ambiguous
// CHECK: cf.assert %{{.*}}, "ReduceSum: the axes do not give the static output shape"
// CHECK: scf.index_switch
// CHECK: case 4 {
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: default {
// CHECK: iterator_types = ["parallel", "reduction", "parallel"]
func.func @reduce_sum_ambiguous(%x: tensor<3x2x2xf32>, %a: tensor<1xi64>) -> tensor<3x2xf32> {
  %y = "onnx.ReduceSum"(%x, %a) {keepdims = 0 : i64} : (tensor<3x2x2xf32>, tensor<1xi64>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// An axes input of static length 0 is known empty: noop.
// CHECK-LABEL: func @reduce_sum_empty_noop
// CHECK-NEXT: return %arg0
func.func @reduce_sum_empty_noop(%x: tensor<3x2xf32>, %a: tensor<0xi64>) -> tensor<3x2xf32> {
  %y = "onnx.ReduceSum"(%x, %a) {noop_with_empty_axes = 1 : i64} : (tensor<3x2xf32>, tensor<0xi64>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
