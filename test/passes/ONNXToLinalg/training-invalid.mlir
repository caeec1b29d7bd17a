// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg -split-input-file -verify-diagnostics
// Training-preview optimizers that cannot be lowered are reported once,
// naming why.

func.func @bad_mode(%r: tensor<f32>, %t: tensor<i64>, %x: tensor<4xf32>, %g: tensor<4xf32>, %v: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{mode must be "standard" or "nesterov", not "heavy"}}
  %xn, %vn = "onnx.Momentum"(%r, %t, %x, %g, %v) <{alpha = 0.9 : f32, beta = 1.0 : f32, mode = "heavy", norm_coefficient = 0.0 : f32}> : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %xn, %vn : tensor<4xf32>, tensor<4xf32>
}

// -----

func.func @uneven_groups(%r: tensor<f32>, %t: tensor<i64>, %x: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{expects the inputs R, T, then 3 lists of tensors of equal length}}
  %xn, %hn = "onnx.Adagrad"(%r, %t, %x, %g) : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %xn, %hn : tensor<4xf32>, tensor<4xf32>
}

// -----

func.func @shape_mismatch(%r: tensor<f32>, %t: tensor<i64>, %x: tensor<4xf32>, %g: tensor<1xf32>, %v: tensor<4xf32>, %h: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{the gradients and accumulators must have the shape and type of their tensor}}
  %0:3 = "onnx.Adam"(%r, %t, %x, %g, %v, %h) : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<1xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0#0, %0#1, %0#2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

func.func @int_count(%r: tensor<f32>, %t: tensor<i32>, %x: tensor<4xf32>, %g: tensor<4xf32>, %v: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{the update count T must be an int64 scalar}}
  %xn, %vn = "onnx.Momentum"(%r, %t, %x, %g, %v) <{alpha = 0.9 : f32, beta = 1.0 : f32, mode = "standard", norm_coefficient = 0.0 : f32}> : (tensor<f32>, tensor<i32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %xn, %vn : tensor<4xf32>, tensor<4xf32>
}
