// RUN: kiln-opt %s --kiln-convert-onnx-to-linalg -split-input-file -verify-diagnostics
// Signal ops the lowering refuses, each reported naming why.

func.func @dft_onesided_complex(%x: tensor<1x8x2xf32>) -> tensor<1x5x2xf32> {
  %none = onnx.NoValue : none
  // expected-error @+1 {{onesided DFT of a complex input}}
  %y = "onnx.DFT"(%x, %none) {onesided = 1} : (tensor<1x8x2xf32>, none) -> tensor<1x5x2xf32>
  return %y : tensor<1x5x2xf32>
}

// -----

func.func @dft_length_mismatch(%x: tensor<1x8x1xf32>) -> tensor<1x8x2xf32> {
  %n = "onnx.Constant"() {value = dense<6> : tensor<i64>} : () -> tensor<i64>
  // expected-error @+1 {{DFT length does not give the output shape}}
  %y = "onnx.DFT"(%x, %n) : (tensor<1x8x1xf32>, tensor<i64>) -> tensor<1x8x2xf32>
  return %y : tensor<1x8x2xf32>
}

// -----

func.func @stft_no_length(%s: tensor<1x64x1xf32>, %step: tensor<i64>) -> tensor<1x7x9x2xf32> {
  %none = onnx.NoValue : none
  // expected-error @+1 {{STFT needs a window or a frame_length}}
  %y = "onnx.STFT"(%s, %step, %none, %none) : (tensor<1x64x1xf32>, tensor<i64>, none, none) -> tensor<1x7x9x2xf32>
  return %y : tensor<1x7x9x2xf32>
}

// -----

func.func @stft_step_mismatch(%s: tensor<1x64x1xf32>, %w: tensor<16xf32>) -> tensor<1x7x9x2xf32> {
  %none = onnx.NoValue : none
  %step = "onnx.Constant"() {value = dense<4> : tensor<i64>} : () -> tensor<i64>
  // expected-error @+1 {{STFT frame_step does not give the output shape}}
  %y = "onnx.STFT"(%s, %step, %w, %none) : (tensor<1x64x1xf32>, tensor<i64>, tensor<16xf32>, none) -> tensor<1x7x9x2xf32>
  return %y : tensor<1x7x9x2xf32>
}
