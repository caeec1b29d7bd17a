//===- Training.td - ONNX training-preview optimizers ---------------------===//
//
// This file defines the optimizers of domain ai.onnx.preview.training
// (version 1): Adagrad, Adam and Momentum. Each takes the learning rate R
// and the update count T (int64 scalar), then groups of tensors of equal
// length: the optimized tensors X..., their gradients G..., and one (Adagrad,
// Momentum) or two (Adam) accumulators per tensor. The results are the new
// tensors, then the new accumulators, in the same order. The ops are pure:
// they return the updated values and change nothing in place.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_TRAINING_TD
#define KILN_DIALECTS_ONNX_TRAINING_TD

include "dialects/onnx/ONNXDialect.td"

def ONNX_AdagradOp : ONNX_Op<"Adagrad"> {
  let summary = "ADAGRAD update of tensors X... with gradients G... and "
                "accumulated squared gradients H...";
  let description = [{
    Inputs are R, T, X..., G..., H...; results X_new..., H_new...:
    r = R / (1 + T * decay_factor), G' = norm_coefficient * X + G,
    H_new = H + G' * G', X_new = X - r * G' / (Sqrt(H_new) + epsilon).

    Example:
    ```mlir
    %x, %h = onnx.Adagrad(%r, %t, %x0, %g, %h0) {epsilon = 1.0e-05 : f32}
        : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>,
           tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
    ```
  }];
  let arguments = (ins ONNX_Tensor:$R, ONNX_Tensor:$T,
                   Variadic<ONNX_Tensor>:$inputs,
                   DefaultValuedAttr<F32Attr, "0.0">:$decay_factor,
                   DefaultValuedAttr<F32Attr, "1e-6">:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.0">:$norm_coefficient);
  let results = (outs Variadic<ONNX_Tensor>:$outputs);
}

def ONNX_AdamOp : ONNX_Op<"Adam"> {
  let summary = "Adam update of tensors X... with gradients G..., "
                "accumulated gradients V... and squared gradients H...";
  let description = [{
    Inputs are R, T, X..., G..., V..., H...; results X_new..., V_new...,
    H_new...: G' = norm_coefficient * X + G, V_new = alpha * V + (1 - alpha)
    * G', H_new = beta * H + (1 - beta) * G' * G', R' = T > 0 ? R *
    Sqrt(1 - beta**T) / (1 - alpha**T) : R, X_new = (1 -
    norm_coefficient_post) * (X - R' * (V_new / (Sqrt(H_new) + epsilon))).

    Example:
    ```mlir
    %x, %v, %h = onnx.Adam(%r, %t, %x0, %g, %v0, %h0) {alpha = 0.9 : f32}
        : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>,
           tensor<4xf32>, tensor<4xf32>)
        -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    ```
  }];
  let arguments = (ins ONNX_Tensor:$R, ONNX_Tensor:$T,
                   Variadic<ONNX_Tensor>:$inputs,
                   DefaultValuedAttr<F32Attr, "0.9">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.999">:$beta,
                   DefaultValuedAttr<F32Attr, "1e-6">:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.0">:$norm_coefficient,
                   DefaultValuedAttr<F32Attr, "0.0">:$norm_coefficient_post);
  let results = (outs Variadic<ONNX_Tensor>:$outputs);
}

def ONNX_MomentumOp : ONNX_Op<"Momentum"> {
  let summary = "SGD with standard or Nesterov momentum of tensors X... "
                "with gradients G... and momentums V...";
  let description = [{
    Inputs are R, T, X..., G..., V...; results X_new..., V_new...:
    G' = norm_coefficient * X + G, V_new = alpha * V + (T > 0 ? beta : 1) *
    G', then X_new = X - R * V_new (mode "standard") or X_new = X - R * (G'
    + alpha * V_new) (mode "nesterov").

    Example:
    ```mlir
    %x, %v = onnx.Momentum(%r, %t, %x0, %g, %v0) {alpha = 0.9 : f32,
        beta = 1.0 : f32, mode = "standard", norm_coefficient = 0.0 : f32}
        : (tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>,
           tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
    ```
  }];
  let arguments = (ins ONNX_Tensor:$R, ONNX_Tensor:$T,
                   Variadic<ONNX_Tensor>:$inputs, F32Attr:$alpha,
                   F32Attr:$beta, F32Attr:$norm_coefficient, StrAttr:$mode);
  let results = (outs Variadic<ONNX_Tensor>:$outputs);
}

#endif // KILN_DIALECTS_ONNX_TRAINING_TD
