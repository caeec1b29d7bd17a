// RUN: kiln-opt %s -split-input-file -verify-diagnostics
// The verifiers ONNX's rules call for.

func.func @bad_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{operand shapes do not broadcast}}
  %c = "onnx.Add"(%a, %b) : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}

// -----

func.func @bad_group(%x: tensor<1x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %none = onnx.NoValue : none
  // expected-error @+1 {{does not match X's 4 channels}}
  %y = "onnx.Conv"(%x, %w, %none) {group = 1} : (tensor<1x4x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

func.func @bad_perm(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{perm is not a permutation}}
  %y = "onnx.Transpose"(%x) {perm = [1, 1]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @bad_gemm(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  %none = onnx.NoValue : none
  // expected-error @+1 {{contraction sizes differ: 3 vs 4}}
  %y = "onnx.Gemm"(%a, %b, %none) : (tensor<2x3xf32>, tensor<4x5xf32>, none) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @inference_bn_running_stats(%x: tensor<1x2x4x4xf32>, %s: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects Y, and running_mean and running_var only in training mode}}
  %y, %m, %v = "onnx.BatchNormalization"(%x, %s, %s, %s, %s) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>)
  return %y : tensor<1x2x4x4xf32>
}

// -----

func.func @bad_storage_order(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{storage_order must be 0 or 1}}
  %y = "onnx.MaxPool"(%x) {kernel_shape = [2, 2], strides = [2, 2], storage_order = 2} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

func.func @bad_reshape(%x: tensor<2x3xf32>, %s: tensor<1xi64>) -> tensor<7xf32> {
  // expected-error @+1 {{element count changes from 6 to 7}}
  %y = "onnx.Reshape"(%x, %s) : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<7xf32>
  return %y : tensor<7xf32>
}

// -----

func.func @gridsample_bad_mode(%x: tensor<1x1x4x4xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{unknown mode 'linear'}}
  %y = "onnx.GridSample"(%x, %g) {mode = "linear"} : (tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

func.func @maxunpool_bad_indices(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi32>) -> tensor<1x1x4x4xf32> {
  %none = onnx.NoValue : none
  // expected-error @+1 {{I must be int64}}
  %y = "onnx.MaxUnpool"(%x, %i, %none) {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi32>, none) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}
