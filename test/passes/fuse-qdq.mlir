// RUN: kiln-opt %s --kiln-fuse-qdq | FileCheck %s
// DQ -> Conv -> [Relu | Clip] -> Q becomes one QLinearConv on the 8-bit
// tensors; the activation becomes its clamp on the output's scale.

// CHECK-LABEL: func @conv_relu
func.func @conv_relu(%x: tensor<1x4x6x6xui8>) -> tensor<1x8x6x6xui8> {
  // CHECK: %[[Y:.*]] = "onnx.QLinearConv"(%arg0, %{{.*}}, %{{.*}}, %[[W:[0-9]+]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[B:[0-9]+]])
  // CHECK-SAME: pads = [1, 1, 1, 1]
  // CHECK-SAME: kiln.clamp = array<i64: 10, 255>
  // CHECK-NOT: onnx.Conv"
  // CHECK-NOT: onnx.Relu
  // CHECK: return %[[Y]]
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %zx = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %w = "onnx.Constant"() {value = dense<1> : tensor<8x4x3x3xi8>} : () -> tensor<8x4x3x3xi8>
  %sw = "onnx.Constant"() {value = dense<0.25> : tensor<8xf32>} : () -> tensor<8xf32>
  %b = "onnx.Constant"() {value = dense<7> : tensor<8xi32>} : () -> tensor<8xi32>
  %sb = "onnx.Constant"() {value = dense<0.125> : tensor<8xf32>} : () -> tensor<8xf32>
  %sy = "onnx.Constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %zy = "onnx.Constant"() {value = dense<10> : tensor<ui8>} : () -> tensor<ui8>
  %none = "onnx.NoValue"() : () -> none
  %xd = "onnx.DequantizeLinear"(%x, %sx, %zx) : (tensor<1x4x6x6xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x6x6xf32>
  %wd = "onnx.DequantizeLinear"(%w, %sw, %none) {axis = 0 : i64} : (tensor<8x4x3x3xi8>, tensor<8xf32>, none) -> tensor<8x4x3x3xf32>
  %bd = "onnx.DequantizeLinear"(%b, %sb, %none) {axis = 0 : i64} : (tensor<8xi32>, tensor<8xf32>, none) -> tensor<8xf32>
  %c = "onnx.Conv"(%xd, %wd, %bd) {kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x4x6x6xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32>
  %r = "onnx.Relu"(%c) : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %y = "onnx.QuantizeLinear"(%r, %sy, %zy) : (tensor<1x8x6x6xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x8x6x6xui8>
  return %y : tensor<1x8x6x6xui8>
}

// Clip(0, 6) on scale 0.05, zero point 0: [0, 120].
// CHECK-LABEL: func @conv_clip
func.func @conv_clip(%x: tensor<1x4x6x6xui8>) -> tensor<1x8x6x6xui8> {
  // CHECK: "onnx.QLinearConv"
  // CHECK-SAME: kiln.clamp = array<i64: 0, 120>
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %zx = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %w = "onnx.Constant"() {value = dense<1> : tensor<8x4x1x1xi8>} : () -> tensor<8x4x1x1xi8>
  %sw = "onnx.Constant"() {value = dense<0.25> : tensor<f32>} : () -> tensor<f32>
  %sy = "onnx.Constant"() {value = dense<0.05> : tensor<f32>} : () -> tensor<f32>
  %zy = "onnx.Constant"() {value = dense<0> : tensor<ui8>} : () -> tensor<ui8>
  %lo = "onnx.Constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
  %hi = "onnx.Constant"() {value = dense<6.0> : tensor<f32>} : () -> tensor<f32>
  %none = "onnx.NoValue"() : () -> none
  %xd = "onnx.DequantizeLinear"(%x, %sx, %zx) : (tensor<1x4x6x6xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x6x6xf32>
  %wd = "onnx.DequantizeLinear"(%w, %sw, %none) : (tensor<8x4x1x1xi8>, tensor<f32>, none) -> tensor<8x4x1x1xf32>
  %c = "onnx.Conv"(%xd, %wd, %none) {kernel_shape = [1, 1]} : (tensor<1x4x6x6xf32>, tensor<8x4x1x1xf32>, none) -> tensor<1x8x6x6xf32>
  %r = "onnx.Clip"(%c, %lo, %hi) : (tensor<1x8x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x8x6x6xf32>
  %y = "onnx.QuantizeLinear"(%r, %sy, %zy) : (tensor<1x8x6x6xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x8x6x6xui8>
  return %y : tensor<1x8x6x6xui8>
}

// A bias whose scale is not x_scale * w_scale is not the QDQ format's:
// nothing changes.
// CHECK-LABEL: func @bias_scale_mismatch
func.func @bias_scale_mismatch(%x: tensor<1x4x6x6xui8>) -> tensor<1x8x6x6xui8> {
  // CHECK: onnx.Conv"
  // CHECK-NOT: onnx.QLinearConv
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %zx = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %w = "onnx.Constant"() {value = dense<1> : tensor<8x4x1x1xi8>} : () -> tensor<8x4x1x1xi8>
  %sw = "onnx.Constant"() {value = dense<0.25> : tensor<f32>} : () -> tensor<f32>
  %b = "onnx.Constant"() {value = dense<7> : tensor<8xi32>} : () -> tensor<8xi32>
  %sb = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %sy = "onnx.Constant"() {value = dense<0.05> : tensor<f32>} : () -> tensor<f32>
  %zy = "onnx.Constant"() {value = dense<0> : tensor<ui8>} : () -> tensor<ui8>
  %none = "onnx.NoValue"() : () -> none
  %xd = "onnx.DequantizeLinear"(%x, %sx, %zx) : (tensor<1x4x6x6xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x6x6xf32>
  %wd = "onnx.DequantizeLinear"(%w, %sw, %none) : (tensor<8x4x1x1xi8>, tensor<f32>, none) -> tensor<8x4x1x1xf32>
  %bd = "onnx.DequantizeLinear"(%b, %sb, %none) : (tensor<8xi32>, tensor<f32>, none) -> tensor<8xf32>
  %c = "onnx.Conv"(%xd, %wd, %bd) {kernel_shape = [1, 1]} : (tensor<1x4x6x6xf32>, tensor<8x4x1x1xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32>
  %y = "onnx.QuantizeLinear"(%c, %sy, %zy) : (tensor<1x8x6x6xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x8x6x6xui8>
  return %y : tensor<1x8x6x6xui8>
}
