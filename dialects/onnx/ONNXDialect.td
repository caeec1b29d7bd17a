//===- ONNXDialect.td - The onnx dialect and its shared constraints -------===//
//
// This file defines the `onnx` dialect: one typed op per ONNX operator, at
// the single opset the importer normalises every model to (17). The types and
// base class shared by the op families (Math.td, NN.td, Tensor.td) live here.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_ONNXDIALECT_TD
#define KILN_DIALECTS_ONNX_ONNXDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def ONNX_Dialect : Dialect {
  let name = "onnx";
  let summary = "ONNX operators at opset 17";
  let description = [{
    One op per ONNX operator, named exactly as ONNX spells it (`onnx.Conv`,
    `onnx.MatMul`). Operands are tensors in ONNX input order; an omitted
    optional input is the `none` value of `onnx.NoValue`. Attributes keep
    their ONNX names and defaults. The importer normalises every model to
    opset 17, so each op has exactly one version here.
  }];
  let cppNamespace = "::kiln::onnx";
  let hasConstantMaterializer = 1;
}

/// A tensor of any element type.
def ONNX_Tensor : AnyTypeOf<[AnyRankedTensor], "ranked tensor">;
/// An optional ONNX input: a tensor, or the none value of onnx.NoValue.
def ONNX_OptTensor : AnyTypeOf<[AnyRankedTensor, NoneType],
                               "ranked tensor or none">;

/// Base class of every ONNX op. Ops are pure: ONNX graphs have no side
/// effects once training-only ops are excluded.
class ONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<ONNX_Dialect, mnemonic, !listconcat(traits, [Pure])>;

/// Unary elementwise op with the same type in and out.
class ONNX_UnaryOp<string mnemonic, string doc>
    : ONNX_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = doc;
  let description = "Elementwise `" # mnemonic # "` (ONNX `" # mnemonic #
    "`).\n\nExample:\n```mlir\n%y = onnx." # mnemonic #
    "(%x) : (tensor<4xf32>) -> tensor<4xf32>\n```";
  let arguments = (ins ONNX_Tensor:$X);
  let results = (outs ONNX_Tensor:$Y);
}

/// Binary elementwise op with multidirectional (numpy) broadcasting.
class ONNX_BinaryOp<string mnemonic, string doc>
    : ONNX_Op<mnemonic, []> {
  let summary = doc;
  let description = "Elementwise `" # mnemonic # "` with numpy-style "
    # "broadcasting (ONNX `" # mnemonic # "`).\n\nExample:\n```mlir\n"
    # "%c = onnx." # mnemonic # "(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>)"
    # " -> tensor<2x3xf32>\n```";
  let arguments = (ins ONNX_Tensor:$A, ONNX_Tensor:$B);
  let results = (outs ONNX_Tensor:$C);
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_ONNX_ONNXDIALECT_TD
