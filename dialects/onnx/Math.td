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

def ONNX_AcosOp : ONNX_UnaryOp<"Acos", "arc cosine">;
def ONNX_AcoshOp : ONNX_UnaryOp<"Acosh", "inverse hyperbolic cosine">;
def ONNX_AsinOp : ONNX_UnaryOp<"Asin", "arc sine">;
def ONNX_AsinhOp : ONNX_UnaryOp<"Asinh", "inverse hyperbolic sine">;
def ONNX_AtanOp : ONNX_UnaryOp<"Atan", "arc tangent">;
def ONNX_AtanhOp : ONNX_UnaryOp<"Atanh", "inverse hyperbolic tangent">;
def ONNX_CosOp : ONNX_UnaryOp<"Cos", "cosine">;
def ONNX_CoshOp : ONNX_UnaryOp<"Cosh", "hyperbolic cosine">;
def ONNX_HardSwishOp : ONNX_UnaryOp<"HardSwish", "x * max(0, min(1, x/6 + 1/2))">;
def ONNX_RoundOp : ONNX_UnaryOp<"Round", "round half to even">;
def ONNX_SignOp : ONNX_UnaryOp<"Sign", "-1, 0 or 1">;
def ONNX_SinOp : ONNX_UnaryOp<"Sin", "sine">;
def ONNX_SinhOp : ONNX_UnaryOp<"Sinh", "hyperbolic sine">;
def ONNX_SoftplusOp : ONNX_UnaryOp<"Softplus", "log(exp(x) + 1)">;
def ONNX_SoftsignOp : ONNX_UnaryOp<"Softsign", "x / (1 + |x|)">;
def ONNX_TanOp : ONNX_UnaryOp<"Tan", "tangent">;

/// Unary op with float attributes, same type in and out.
class ONNX_UnaryAttrOp<string mnemonic, string doc, dag attrs>
    : ONNX_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = doc;
  let description = "Elementwise `" # mnemonic # "` (ONNX `" # mnemonic #
    "`).\n\nExample:\n```mlir\n%y = onnx." # mnemonic #
    "(%x) : (tensor<4xf32>) -> tensor<4xf32>\n```";
  let arguments = !con((ins ONNX_Tensor:$X), attrs);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_CeluOp : ONNX_UnaryAttrOp<"Celu",
    "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def ONNX_EluOp : ONNX_UnaryAttrOp<"Elu", "x if x >= 0 else alpha * (exp(x) - 1)",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def ONNX_SeluOp : ONNX_UnaryAttrOp<"Selu",
    "gamma * (x if x > 0 else alpha * (exp(x) - 1))",
    (ins DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
         DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma)>;
def ONNX_ShrinkOp : ONNX_UnaryAttrOp<"Shrink",
    "x + bias if x < -lambd, x - bias if x > lambd, else 0",
    (ins DefaultValuedAttr<F32Attr, "0.0">:$bias,
         DefaultValuedAttr<F32Attr, "0.5">:$lambd)>;
def ONNX_ThresholdedReluOp : ONNX_UnaryAttrOp<"ThresholdedRelu",
    "x if x > alpha else 0", (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;

def ONNX_IsNaNOp : ONNX_Op<"IsNaN"> {
  let summary = "true where x is NaN";
  let description = [{
    Example:
    ```mlir
    %y = onnx.IsNaN(%x) : (tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_IsInfOp : ONNX_Op<"IsInf"> {
  let summary = "true where x is an infinity of a selected sign";
  let description = [{
    Example:
    ```mlir
    %y = onnx.IsInf(%x) {detect_negative = 0} : (tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X,
                   DefaultValuedAttr<I64Attr, "1">:$detect_negative,
                   DefaultValuedAttr<I64Attr, "1">:$detect_positive);
  let results = (outs ONNX_Tensor:$Y);
}

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

def ONNX_GreaterOrEqualOp : ONNX_BinaryOp<"GreaterOrEqual", "a >= b, bool result">;
def ONNX_LessOrEqualOp : ONNX_BinaryOp<"LessOrEqual", "a <= b, bool result">;
def ONNX_XorOp : ONNX_BinaryOp<"Xor", "logical exclusive or">;

def ONNX_BitShiftOp : ONNX_Op<"BitShift"> {
  let summary = "shift unsigned integers left or right";
  let description = [{
    Example:
    ```mlir
    %c = onnx.BitShift(%a, %b) {direction = "LEFT"} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$Y, StrAttr:$direction);
  let results = (outs ONNX_Tensor:$Z);
}

def ONNX_ModOp : ONNX_Op<"Mod"> {
  let summary = "remainder: sign of the divisor, or of the dividend with fmod";
  let description = [{
    Example:
    ```mlir
    %c = onnx.Mod(%a, %b) {fmod = 0} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$A, ONNX_Tensor:$B,
                   DefaultValuedAttr<I64Attr, "0">:$fmod);
  let results = (outs ONNX_Tensor:$C);
}

def ONNX_PReluOp : ONNX_Op<"PRelu"> {
  let summary = "x if x >= 0 else slope * x, slope broadcasting to x";
  let description = [{
    Example:
    ```mlir
    %y = onnx.PRelu(%x, %slope) : (tensor<1x4x2x2xf32>, tensor<4x1x1xf32>) -> tensor<1x4x2x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$slope);
  let results = (outs ONNX_Tensor:$Y);
}

/// Variadic elementwise ops with numpy broadcasting.
class ONNX_VariadicOp<string mnemonic, string doc> : ONNX_Op<mnemonic> {
  let summary = doc;
  let description = "Elementwise `" # mnemonic # "` of all inputs, with "
    # "broadcasting.\n\nExample:\n```mlir\n%y = onnx." # mnemonic
    # "(%a, %b, %c) : (tensor<3xf32>, tensor<3xf32>, tensor<1xf32>)"
    # " -> tensor<3xf32>\n```";
  let arguments = (ins Variadic<ONNX_Tensor>:$data_0);
  let results = (outs ONNX_Tensor:$result);
}

def ONNX_MaxOp : ONNX_VariadicOp<"Max", "maximum">;
def ONNX_MeanOp : ONNX_VariadicOp<"Mean", "arithmetic mean">;
def ONNX_MinOp : ONNX_VariadicOp<"Min", "minimum">;
def ONNX_SumOp : ONNX_VariadicOp<"Sum", "sum">;

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

def ONNX_CastLikeOp : ONNX_Op<"CastLike"> {
  let summary = "convert to the element type of a second tensor";
  let description = [{
    Example:
    ```mlir
    %y = onnx.CastLike(%x, %like) : (tensor<4xi64>, tensor<1xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_Tensor:$target_type,
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

def ONNX_DetOp : ONNX_Op<"Det"> {
  let summary = "determinant of each square matrix in the last two dims";
  let description = [{
    X is [..., M, M]; Y is [...].

    Example:
    ```mlir
    %y = onnx.Det(%x) : (tensor<3x2x2xf32>) -> tensor<3xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_MatMulIntegerOp : ONNX_Op<"MatMulInteger"> {
  let summary = "int8/uint8 matmul with zero points, accumulated in int32";
  let description = [{
    (A - a_zero_point) x (B - b_zero_point) with numpy matmul broadcasting.
    a_zero_point is a scalar or one per row of A; b_zero_point a scalar or
    one per column of B.

    Example:
    ```mlir
    %y = onnx.MatMulInteger(%a, %b, %az, %bz)
        : (tensor<4x3xui8>, tensor<3x2xui8>, tensor<ui8>, tensor<ui8>) -> tensor<4x2xi32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$A, ONNX_Tensor:$B,
                   ONNX_OptTensor:$a_zero_point, ONNX_OptTensor:$b_zero_point);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_QLinearMatMulOp : ONNX_Op<"QLinearMatMul"> {
  let summary = "quantized matmul: requantized to y's scale and zero point";
  let description = [{
    y = saturate(round((a - a_zp)(b - b_zp) * a_scale * b_scale / y_scale)
    + y_zp), rounding half to even.

    Example:
    ```mlir
    %y = onnx.QLinearMatMul(%a, %as, %az, %b, %bs, %bz, %ys, %yz)
        : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>, tensor<4x3xui8>, tensor<f32>,
           tensor<ui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$a, ONNX_Tensor:$a_scale,
                   ONNX_Tensor:$a_zero_point, ONNX_Tensor:$b,
                   ONNX_Tensor:$b_scale, ONNX_Tensor:$b_zero_point,
                   ONNX_Tensor:$y_scale, ONNX_Tensor:$y_zero_point);
  let results = (outs ONNX_Tensor:$y);
}

def ONNX_EinsumOp : ONNX_Op<"Einsum"> {
  let summary = "Einstein summation over the inputs";
  let description = [{
    `equation` names each input's axes with letters; a letter repeated in one
    input takes its diagonal, letters missing from the output are summed, and
    `...` stands for broadcast axes. Without `->` the output is the letters
    used once, in alphabetical order.

    Example:
    ```mlir
    %y = onnx.Einsum(%a, %b) {equation = "bij,bjk->bik"}
        : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
    ```
  }];
  let arguments = (ins Variadic<ONNX_Tensor>:$Inputs, StrAttr:$equation);
  let results = (outs ONNX_Tensor:$Output);
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

def ONNX_ReduceL1Op : ONNX_ReduceAttrOp<"ReduceL1", "sum of absolute values">;
def ONNX_ReduceL2Op : ONNX_ReduceAttrOp<"ReduceL2", "square root of the sum of squares">;
def ONNX_ReduceLogSumOp : ONNX_ReduceAttrOp<"ReduceLogSum", "log of the sum">;
def ONNX_ReduceLogSumExpOp : ONNX_ReduceAttrOp<"ReduceLogSumExp", "log of the sum of exponentials">;
def ONNX_ReduceSumSquareOp : ONNX_ReduceAttrOp<"ReduceSumSquare", "sum of squares">;

/// ArgMax and ArgMin: int64 indices along one axis.
class ONNX_ArgOp<string mnemonic, string doc> : ONNX_Op<mnemonic> {
  let summary = doc;
  let description = "Index of the " # doc # " along `axis` (the first "
    # "occurrence, or the last with `select_last_index`).\n\nExample:\n"
    # "```mlir\n%i = onnx." # mnemonic # "(%x) {axis = 1} : (tensor<2x4xf32>)"
    # " -> tensor<2x1xi64>\n```";
  let arguments = (ins ONNX_Tensor:$data,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims,
                   DefaultValuedAttr<I64Attr, "0">:$select_last_index);
  let results = (outs ONNX_Tensor:$reduced);
}

def ONNX_ArgMaxOp : ONNX_ArgOp<"ArgMax", "maximum">;
def ONNX_ArgMinOp : ONNX_ArgOp<"ArgMin", "minimum">;

def ONNX_HardmaxOp : ONNX_Op<"Hardmax", [SameOperandsAndResultType]> {
  let summary = "1 at the first maximum along `axis`, 0 elsewhere";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Hardmax(%x) {axis = -1} : (tensor<2x4xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_CumSumOp : ONNX_Op<"CumSum"> {
  let summary = "cumulative sum along an axis given as an input";
  let description = [{
    Example:
    ```mlir
    %y = onnx.CumSum(%x, %axis) {exclusive = 0, reverse = 0} : (tensor<5xf32>, tensor<i64>) -> tensor<5xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$x, ONNX_Tensor:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$exclusive,
                   DefaultValuedAttr<I64Attr, "0">:$reverse);
  let results = (outs ONNX_Tensor:$y);
}

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

def ONNX_DFTOp : ONNX_Op<"DFT"> {
  let summary = "discrete Fourier transform along one axis (opset 17)";
  let description = [{
    The last axis of `input` holds the real part (size 1) or the real and
    imaginary parts (size 2); the output is always complex. `dft_length`
    zero-pads or truncates the transformed axis; a run-time one is checked
    against the static output shape.

    Example:
    ```mlir
    %y = onnx.DFT(%x, %none) {axis = 1} : (tensor<1x10x10x1xf32>, none) -> tensor<1x10x10x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_OptTensor:$dft_length,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$inverse,
                   DefaultValuedAttr<I64Attr, "0">:$onesided);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_STFTOp : ONNX_Op<"STFT"> {
  let summary = "short-time Fourier transform (opset 17)";
  let description = [{
    Frames of `frame_length` (or the window's length) samples, `frame_step`
    apart, each multiplied by `window` and transformed. Run-time
    `frame_step` and `frame_length` are checked against the static output
    shape.

    Example:
    ```mlir
    %y = onnx.STFT(%s, %step, %w, %none) : (tensor<1x128x1xf32>, tensor<i64>, tensor<16xf32>, none) -> tensor<1x15x9x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$signal, ONNX_Tensor:$frame_step,
                   ONNX_OptTensor:$window, ONNX_OptTensor:$frame_length,
                   DefaultValuedAttr<I64Attr, "1">:$onesided);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_MelWeightMatrixOp : ONNX_Op<"MelWeightMatrix"> {
  let summary = "triangular mel filter bank matrix (opset 17)";
  let description = [{
    Output [dft_length / 2 + 1, num_mel_bins]; the scalar inputs may be
    run-time values (the two that decide the shape are checked against it).

    Example:
    ```mlir
    %y = onnx.MelWeightMatrix(%m, %n, %r, %lo, %hi) : (tensor<i32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>) -> tensor<9x8xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$num_mel_bins, ONNX_Tensor:$dft_length,
                   ONNX_Tensor:$sample_rate, ONNX_Tensor:$lower_edge_hertz,
                   ONNX_Tensor:$upper_edge_hertz,
                   DefaultValuedAttr<I64Attr, "1">:$output_datatype);
  let results = (outs ONNX_Tensor:$output);
}

#endif // KILN_DIALECTS_ONNX_MATH_TD
