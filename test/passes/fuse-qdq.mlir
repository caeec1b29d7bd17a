// RUN: kiln-opt %s --kiln-fuse-qdq | FileCheck %s
// DQ -> Conv -> [Relu | Clip] -> Q becomes one QLinearConv on the 8-bit
// tensors; the activation becomes its clamp on the output's scale.
// DQ -> MaxPool -> Q with one scale and zero point is a MaxPool of bytes;
// DQ -> GlobalAveragePool -> [Flatten] -> Q an i32 sum requantized once;
// a Linear layer (DQ -> MatMul -> Add -> Q) a 1x1 QLinearConv; an 8-bit
// embedding table's Gather gathers bytes.

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

// CHECK-LABEL: func @max_pool
// CHECK: %[[Y:.*]] = "onnx.MaxPool"(%arg0) {{.*}}kernel_shape = [3, 3], pads = [1, 1, 1, 1]{{.*}}strides = [2, 2]{{.*}} : (tensor<1x4x8x8xui8>) -> tensor<1x4x4x4xui8>
// CHECK-NOT: onnx.QuantizeLinear
// CHECK: return %[[Y]]
func.func @max_pool(%x: tensor<1x4x8x8xui8>) -> tensor<1x4x4x4xui8> {
  %s = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %xd = "onnx.DequantizeLinear"(%x, %s, %z) : (tensor<1x4x8x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x8x8xf32>
  %p = "onnx.MaxPool"(%xd) {kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %y = "onnx.QuantizeLinear"(%p, %s, %z) : (tensor<1x4x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x4x4x4xui8>
  return %y : tensor<1x4x4x4xui8>
}

// Another scale after the pool: it stays float.
// CHECK-LABEL: func @max_pool_rescaled
// CHECK: onnx.DequantizeLinear
// CHECK: "onnx.MaxPool"({{.*}} : (tensor<1x4x8x8xf32>)
// CHECK: onnx.QuantizeLinear
func.func @max_pool_rescaled(%x: tensor<1x4x8x8xui8>) -> tensor<1x4x4x4xui8> {
  %s = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %s2 = "onnx.Constant"() {value = dense<0.25> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %xd = "onnx.DequantizeLinear"(%x, %s, %z) : (tensor<1x4x8x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x8x8xf32>
  %p = "onnx.MaxPool"(%xd) {kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %y = "onnx.QuantizeLinear"(%p, %s2, %z) : (tensor<1x4x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x4x4x4xui8>
  return %y : tensor<1x4x4x4xui8>
}

// A classifier's head, DQ -> GlobalAveragePool -> Flatten -> Q: each
// plane's 6 bytes summed in i32, less 6 * 3, times 0.5 / (0.25 * 6) in f32,
// quantized with scale 1, then the Flatten moves the bytes.
// CHECK-LABEL: func @global_average_pool
// CHECK-NOT: onnx.GlobalAveragePool
// CHECK: %[[W:.*]] = "onnx.Cast"(%arg0) {{.*}}to = 6{{.*}} : (tensor<1x4x2x3xui8>) -> tensor<1x4x2x3xi32>
// CHECK: %[[S:.*]] = "onnx.ReduceSum"(%[[W]], {{.*}}) {{.*}} -> tensor<1x4x1x1xi32>
// CHECK: %[[C:.*]] = "onnx.Sub"(%[[S]], {{.*}}) : (tensor<1x4x1x1xi32>, tensor<i32>)
// CHECK: %[[F:.*]] = "onnx.Cast"(%[[C]]) {{.*}}to = 1{{.*}} -> tensor<1x4x1x1xf32>
// CHECK: %[[M:.*]] = "onnx.Mul"(%[[F]], {{.*}}) : (tensor<1x4x1x1xf32>, tensor<f32>)
// CHECK: %[[Q:.*]] = "onnx.QuantizeLinear"(%[[M]], {{.*}}) {{.*}} -> tensor<1x4x1x1xui8>
// CHECK: %[[Y:.*]] = "onnx.Flatten"(%[[Q]]) {{.*}} : (tensor<1x4x1x1xui8>) -> tensor<1x4xui8>
// CHECK: return %[[Y]]
func.func @global_average_pool(%x: tensor<1x4x2x3xui8>) -> tensor<1x4xui8> {
  %s = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %s2 = "onnx.Constant"() {value = dense<0.25> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %xd = "onnx.DequantizeLinear"(%x, %s, %z) : (tensor<1x4x2x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x2x3xf32>
  %p = "onnx.GlobalAveragePool"(%xd) : (tensor<1x4x2x3xf32>) -> tensor<1x4x1x1xf32>
  %f = "onnx.Flatten"(%p) {axis = 1 : i64} : (tensor<1x4x1x1xf32>) -> tensor<1x4xf32>
  %y = "onnx.QuantizeLinear"(%f, %s2, %z) : (tensor<1x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x4xui8>
  return %y : tensor<1x4xui8>
}

// DQ -> AveragePool -> Q whose windows all divide by 9 (padded, but
// count_include_pad = 1): a depthwise QLinearConv (4 groups) of weights 1
// and w_scale 1/9 on the bytes. With count_include_pad = 0 the border
// windows divide by fewer: that pool stays float.
// CHECK-LABEL: func @average_pool
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense<1> : tensor<4x1x3x3xi8>}>
// CHECK-DAG: %[[SW:.*]] = "onnx.Constant"() <{value = dense<0.111111112> : tensor<1xf32>}>
// CHECK-DAG: %[[ZW:.*]] = "onnx.Constant"() <{value = dense<0> : tensor<1xi8>}>
// CHECK: "onnx.QLinearConv"(%arg0, %{{.*}}, %{{.*}}, %[[W]], %[[SW]], %[[ZW]], %{{.*}}, %{{.*}}, %{{.*}}) <{auto_pad = "NOTSET", group = 4 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [1, 1]}>
// CHECK-SAME: -> tensor<1x4x5x6xui8>
// CHECK: "onnx.AveragePool"
// CHECK-SAME: count_include_pad = 0
// CHECK: "onnx.QuantizeLinear"
func.func @average_pool(%x: tensor<1x4x5x6xui8>) -> (tensor<1x4x5x6xui8>, tensor<1x4x5x6xui8>) {
  %s = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %s2 = "onnx.Constant"() {value = dense<0.25> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %xd = "onnx.DequantizeLinear"(%x, %s, %z) : (tensor<1x4x5x6xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4x5x6xf32>
  %p = "onnx.AveragePool"(%xd) {count_include_pad = 1 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x4x5x6xf32>) -> tensor<1x4x5x6xf32>
  %y = "onnx.QuantizeLinear"(%p, %s2, %z) : (tensor<1x4x5x6xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x4x5x6xui8>
  %p2 = "onnx.AveragePool"(%xd) {count_include_pad = 0 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x4x5x6xf32>) -> tensor<1x4x5x6xf32>
  %y2 = "onnx.QuantizeLinear"(%p2, %s2, %z) : (tensor<1x4x5x6xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x4x5x6xui8>
  return %y, %y2 : tensor<1x4x5x6xui8>, tensor<1x4x5x6xui8>
}

// A Linear layer, DQ -> MatMul -> Add(bias) -> Q with weights [K=4, N=3]
// per column: a 1x1 QLinearConv of x's 2 * 5 rows transposed into one
// image's pixels [1, 4, 10, 1], by the weights transposed at compile time
// into [3, 4, 1, 1] (column n's weights are row n), and back.
// CHECK-LABEL: func @matmul_bias
// CHECK-DAG: "onnx.Transpose"({{.*}}perm = [1, 0]{{.*}} : (tensor<10x4xui8>) -> tensor<4x10xui8>
// CHECK-DAG: value = dense<{{.*}}[1]], {{.*}}[4]], {{.*}}[7]], {{.*}}[10]]], {{.*}}[2]], {{.*}}[5]]{{.*}} : tensor<3x4x1x1xi8>
// CHECK: %[[Y:.*]] = "onnx.QLinearConv"({{.*}}) {{.*}} -> tensor<1x3x10x1xui8>
// CHECK: "onnx.Transpose"({{.*}}) {{.*}} : (tensor<3x10xui8>) -> tensor<10x3xui8>
// CHECK-NOT: onnx.MatMul
// CHECK: return {{.*}} : tensor<2x5x3xui8>
func.func @matmul_bias(%x: tensor<2x5x4xui8>) -> tensor<2x5x3xui8> {
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %zx = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %w = "onnx.Constant"() {value = dense<[[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>} : () -> tensor<4x3xi8>
  %sw = "onnx.Constant"() {value = dense<[0.25, 0.5, 1.0]> : tensor<3xf32>} : () -> tensor<3xf32>
  %zw = "onnx.Constant"() {value = dense<0> : tensor<3xi8>} : () -> tensor<3xi8>
  %b = "onnx.Constant"() {value = dense<[10, 20, 30]> : tensor<3xi32>} : () -> tensor<3xi32>
  %sb = "onnx.Constant"() {value = dense<[0.125, 0.25, 0.5]> : tensor<3xf32>} : () -> tensor<3xf32>
  %zb = "onnx.Constant"() {value = dense<0> : tensor<3xi32>} : () -> tensor<3xi32>
  %sy = "onnx.Constant"() {value = dense<0.1> : tensor<f32>} : () -> tensor<f32>
  %zy = "onnx.Constant"() {value = dense<128> : tensor<ui8>} : () -> tensor<ui8>
  %xd = "onnx.DequantizeLinear"(%x, %sx, %zx) : (tensor<2x5x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x5x4xf32>
  %wd = "onnx.DequantizeLinear"(%w, %sw, %zw) {axis = 1 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  %bd = "onnx.DequantizeLinear"(%b, %sb, %zb) {axis = 0 : i64} : (tensor<3xi32>, tensor<3xf32>, tensor<3xi32>) -> tensor<3xf32>
  %m = "onnx.MatMul"(%xd, %wd) : (tensor<2x5x4xf32>, tensor<4x3xf32>) -> tensor<2x5x3xf32>
  %a = "onnx.Add"(%bd, %m) : (tensor<3xf32>, tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  %y = "onnx.QuantizeLinear"(%a, %sy, %zy) : (tensor<2x5x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x5x3xui8>
  return %y : tensor<2x5x3xui8>
}

// An 8-bit embedding table, per column: the bytes of the rows read are
// gathered, then dequantized along the last axis.
// CHECK-LABEL: func @gather
// CHECK: %[[G:.*]] = "onnx.Gather"(%{{.*}}, %arg0) {{.*}} : (tensor<6x3xi8>, tensor<1x2xi64>) -> tensor<1x2x3xi8>
// CHECK: %[[Y:.*]] = "onnx.DequantizeLinear"(%[[G]], {{.*}}axis = 2 : i64{{.*}} -> tensor<1x2x3xf32>
// CHECK: return %[[Y]]
func.func @gather(%ids: tensor<1x2xi64>) -> tensor<1x2x3xf32> {
  %t = "onnx.Constant"() {value = dense<1> : tensor<6x3xi8>} : () -> tensor<6x3xi8>
  %s = "onnx.Constant"() {value = dense<[0.25, 0.5, 1.0]> : tensor<3xf32>} : () -> tensor<3xf32>
  %z = "onnx.Constant"() {value = dense<0> : tensor<3xi8>} : () -> tensor<3xi8>
  %td = "onnx.DequantizeLinear"(%t, %s, %z) {axis = 1 : i64} : (tensor<6x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<6x3xf32>
  %y = "onnx.Gather"(%td, %ids) : (tensor<6x3xf32>, tensor<1x2xi64>) -> tensor<1x2x3xf32>
  return %y : tensor<1x2x3xf32>
}
