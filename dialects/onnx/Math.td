//===- Math.td - onnx elementwise, matrix and reduction ops ---------------===//
//
// This file defines the math family of the onnx dialect: elementwise unary
// and binary ops, MatMul and Gemm, Softmax and the reductions.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_MATH_TD
#define KILN_DIALECTS_ONNX_MATH_TD

include "dialects/onnx/ONNXDialect.td"

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def ONNX_AbsOp : ONNX_UnaryOp<"Abs", "absolute value">;
def ONNX_CeilOp : ONNX_UnaryOp<"Ceil", "round up">;
def ONNX_ErfOp : ONNX_UnaryOp<"Erf", "Gauss error function">;
def ONNX_ExpOp : ONNX_UnaryOp<"Exp", "exponential">;
def ONNX_FloorOp : ONNX_UnaryOp<"Floor", "round down">;
def ONNX_LogOp : ONNX_UnaryOp<"Log", "natural logarithm">;
def ONNX_NegOp : ONNX_UnaryOp<"Neg", "negation">;
def ONNX_NotOp : ONNX_UnaryOp<"Not", "logical not">;
def ONNX_ReciprocalOp : ONNX_UnaryOp<"Reciprocal", "1/x">;
def ONNX_ReluOp : ONNX_UnaryOp<"Relu", "max(x, 0)">;
def ONNX_SigmoidOp : ONNX_UnaryOp<"Sigmoid", "1/(1+exp(-x))">;
def ONNX_SqrtOp : ONNX_UnaryOp<"Sqrt", "square root">;
def ONNX_TanhOp : ONNX_UnaryOp<"Tanh", "hyperbolic tangent">;

def ONNX_AddOp : ONNX_BinaryOp<"Add", "addition">;
def ONNX_AndOp : ONNX_BinaryOp<"And", "logical and">;
def ONNX_DivOp : ONNX_BinaryOp<"Div", "division (integer division truncates)">;
def ONNX_EqualOp : ONNX_BinaryOp<"Equal", "equality, bool result">;
def ONNX_GreaterOp : ONNX_BinaryOp<"Greater", "a > b, bool result">;
def ONNX_LessOp : ONNX_BinaryOp<"Less", "a < b, bool result">;
def ONNX_MulOp : ONNX_BinaryOp<"Mul", "multiplication">;
def ONNX_OrOp : ONNX_BinaryOp<"Or", "logical or">;
def ONNX_PowOp : ONNX_BinaryOp<"Pow", "a raised to b">;
def ONNX_SubOp : ONNX_BinaryOp<"Sub", "subtraction">;

def ONNX_LeakyReluOp : ONNX_Op<"LeakyRelu", [SameOperandsAndResultType]> {
  let summary = "x if x >= 0 else alpha * x";
  let description = [{
    Example:
    ```mlir
    %y = onnx.LeakyRelu(%x) {alpha = 0.1 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, DefaultValuedAttr<F32Attr, "0.01">:$alpha);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_HardSigmoidOp : ONNX_Op<"HardSigmoid", [SameOperandsAndResultType]> {
  let summary = "max(0, min(1, alpha * x + beta))";
  let description = [{
    Example:
    ```mlir
    %y = onnx.HardSigmoid(%x) : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X,
                   DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.5">:$beta);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_ClipOp : ONNX_Op<"Clip"> {
  let summary = "clamp to [min, max]";
  let description = [{
    `min` and `max` are optional scalar inputs (opset 11+); an omitted bound
    does not clamp.

    Example:
    ```mlir
    %y = onnx.Clip(%x, %lo, %hi) : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_OptTensor:$min,
                   ONNX_OptTensor:$max);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_WhereOp : ONNX_Op<"Where"> {
  let summary = "select X where condition else Y, with broadcasting";
  let description = [{
    Example:
    ```mlir
    %z = onnx.Where(%c, %x, %y) : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$condition, ONNX_Tensor:$X, ONNX_Tensor:$Y);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_CastOp : ONNX_Op<"Cast"> {
  let summary = "element type conversion";
  let description = [{
    `to` is an ONNX TensorProto.DataType code.

    Example:
    ```mlir
    %y = onnx.Cast(%x) {to = 1} : (tensor<4xi64>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, I64Attr:$to,
                   DefaultValuedAttr<I64Attr, "1">:$saturate);
  let results = (outs ONNX_Tensor:$output);
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

def ONNX_MatMulOp : ONNX_Op<"MatMul"> {
  let summary = "numpy matmul: batched, with broadcast batch dimensions";
  let description = [{
    Example:
    ```mlir
    %y = onnx.MatMul(%a, %b) : (tensor<2x8x16xf32>, tensor<16x4xf32>) -> tensor<2x8x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$A, ONNX_Tensor:$B);
  let results = (outs ONNX_Tensor:$Y);
  let hasVerifier = 1;
}

def ONNX_GemmOp : ONNX_Op<"Gemm"> {
  let summary = "Y = alpha * A' * B' + beta * C";
  let description = [{
    A' and B' are A and B transposed when transA/transB are set; C is optional
    and broadcasts to the result.

    Example:
    ```mlir
    %y = onnx.Gemm(%a, %b, %c) {transB = 1} : (tensor<1x256xf32>, tensor<10x256xf32>, tensor<10xf32>) -> tensor<1x10xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$A, ONNX_Tensor:$B, ONNX_OptTensor:$C,
                   DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0">:$beta,
                   DefaultValuedAttr<I64Attr, "0">:$transA,
                   DefaultValuedAttr<I64Attr, "0">:$transB);
  let results = (outs ONNX_Tensor:$Y);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Softmax and reductions
//===----------------------------------------------------------------------===//

def ONNX_SoftmaxOp : ONNX_Op<"Softmax", [SameOperandsAndResultType]> {
  let summary = "softmax along one axis (opset 13 semantics)";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Softmax(%x) {axis = -1} : (tensor<2x4xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_LogSoftmaxOp : ONNX_Op<"LogSoftmax", [SameOperandsAndResultType]> {
  let summary = "log of softmax along one axis";
  let description = [{
    Example:
    ```mlir
    %y = onnx.LogSoftmax(%x) {axis = -1} : (tensor<2x4xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs ONNX_Tensor:$output);
}

/// Reductions whose axes are an attribute at opset 17.
class ONNX_ReduceAttrOp<string mnemonic, string doc> : ONNX_Op<mnemonic> {
  let summary = doc;
  let description = "`" # mnemonic # "` over `axes` (all axes when absent).\n\n"
    # "Example:\n```mlir\n%y = onnx." # mnemonic # "(%x) {axes = [-1], keepdims = 1}"
    # " : (tensor<2x4xf32>) -> tensor<2x1xf32>\n```";
  let arguments = (ins ONNX_Tensor:$data, OptionalAttr<I64ArrayAttr>:$axes,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims);
  let results = (outs ONNX_Tensor:$reduced);
}

def ONNX_ReduceMaxOp : ONNX_ReduceAttrOp<"ReduceMax", "maximum">;
def ONNX_ReduceMeanOp : ONNX_ReduceAttrOp<"ReduceMean", "arithmetic mean">;
def ONNX_ReduceMinOp : ONNX_ReduceAttrOp<"ReduceMin", "minimum">;
def ONNX_ReduceProdOp : ONNX_ReduceAttrOp<"ReduceProd", "product">;

def ONNX_ReduceSumOp : ONNX_Op<"ReduceSum"> {
  let summary = "sum over the axes given as an input (opset 13)";
  let description = [{
    With `axes` omitted or empty, reduces every axis unless
    `noop_with_empty_axes` is set, when it is the identity.

    Example:
    ```mlir
    %y = onnx.ReduceSum(%x, %axes) : (tensor<2x4xf32>, tensor<1xi64>) -> tensor<2x1xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_OptTensor:$axes,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims,
                   DefaultValuedAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs ONNX_Tensor:$reduced);
}

#endif // KILN_DIALECTS_ONNX_MATH_TD
