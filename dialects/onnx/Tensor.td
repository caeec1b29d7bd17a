//===- Tensor.td - onnx shape, layout and data-movement ops ---------------===//
//
// This file defines the tensor family of the onnx dialect: constants,
// reshapes, transposes, gathers, slices and concatenation, and the ops whose
// output length depends on the data (NonZero, Compress, Unique).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_TENSOR_TD
#define KILN_DIALECTS_ONNX_TENSOR_TD

include "dialects/onnx/ONNXDialect.td"

def ONNX_NoValueOp : ONNX_Op<"NoValue", [ConstantLike]> {
  let summary = "the value of an omitted optional input";
  let description = [{
    Example:
    ```mlir
    %none = onnx.NoValue : none
    ```
  }];
  let results = (outs NoneType:$none);
  let assemblyFormat = "attr-dict `:` type($none)";
  let hasFolder = 1;
}

def ONNX_ConstantOp : ONNX_Op<"Constant", [ConstantLike]> {
  let summary = "a constant tensor (ONNX Constant and graph initializers)";
  let description = [{
    Example:
    ```mlir
    %c = onnx.Constant() {value = dense<[1, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs ONNX_Tensor:$output);
  let hasFolder = 1;
  let hasVerifier = 1;
}

def ONNX_IdentityOp : ONNX_Op<"Identity", [SameOperandsAndResultType]> {
  let summary = "the input, unchanged";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Identity(%x) : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input);
  let results = (outs ONNX_Tensor:$output);
  let hasFolder = 1;
}

def ONNX_ReshapeOp : ONNX_Op<"Reshape"> {
  let summary = "reshape to the shape given as an input";
  let description = [{
    In `shape`, 0 copies the input dimension (unless `allowzero`) and -1 is
    inferred. The result type always holds the inferred static shape.

    Example:
    ```mlir
    %y = onnx.Reshape(%x, %s) : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$shape,
                   DefaultValuedAttr<I64Attr, "0">:$allowzero);
  let results = (outs ONNX_Tensor:$reshaped);
  let hasVerifier = 1;
}

def ONNX_FlattenOp : ONNX_Op<"Flatten"> {
  let summary = "reshape to 2-d at `axis`";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Flatten(%x) {axis = 1} : (tensor<1x8x2x2xf32>) -> tensor<1x32xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs ONNX_Tensor:$output);
  let hasVerifier = 1;
}

def ONNX_SqueezeOp : ONNX_Op<"Squeeze"> {
  let summary = "remove unit dimensions (axes as an input, opset 13)";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Squeeze(%x, %axes) : (tensor<1x4xf32>, tensor<1xi64>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_OptTensor:$axes);
  let results = (outs ONNX_Tensor:$squeezed);
  let hasVerifier = 1;
}

def ONNX_UnsqueezeOp : ONNX_Op<"Unsqueeze"> {
  let summary = "insert unit dimensions (axes as an input, opset 13)";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Unsqueeze(%x, %axes) : (tensor<4xf32>, tensor<1xi64>) -> tensor<1x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$axes);
  let results = (outs ONNX_Tensor:$expanded);
  let hasVerifier = 1;
}

def ONNX_TransposeOp : ONNX_Op<"Transpose"> {
  let summary = "permute dimensions (reverse when perm is absent)";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Transpose(%x) {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, OptionalAttr<I64ArrayAttr>:$perm);
  let results = (outs ONNX_Tensor:$transposed);
  let hasVerifier = 1;
}

def ONNX_ConcatOp : ONNX_Op<"Concat"> {
  let summary = "concatenate along `axis`";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Concat(%a, %b) {axis = 1} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
    ```
  }];
  let arguments = (ins Variadic<ONNX_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs ONNX_Tensor:$concat_result);
  let hasVerifier = 1;
}

def ONNX_GatherOp : ONNX_Op<"Gather"> {
  let summary = "gather slices of `data` along `axis` at `indices`";
  let description = [{
    Negative indices count from the end of the axis.

    Example:
    ```mlir
    %y = onnx.Gather(%table, %ids) {axis = 0} : (tensor<1000x128xf32>, tensor<1x16xi64>) -> tensor<1x16x128xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs ONNX_Tensor:$output);
  let hasVerifier = 1;
}

def ONNX_SliceOp : ONNX_Op<"Slice"> {
  let summary = "strided slice (starts, ends, axes, steps as inputs)";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Slice(%x, %starts, %ends, %axes, %steps)
        : (tensor<1x16x128xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<1x1x128xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$starts,
                   ONNX_Tensor:$ends, ONNX_OptTensor:$axes,
                   ONNX_OptTensor:$steps);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_ShapeOp : ONNX_Op<"Shape"> {
  let summary = "the shape of a tensor as a 1-d int64 tensor";
  let description = [{
    Example:
    ```mlir
    %s = onnx.Shape(%x) : (tensor<2x3xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, OptionalAttr<I64Attr>:$start,
                   OptionalAttr<I64Attr>:$end);
  let results = (outs ONNX_Tensor:$shape);
}

def ONNX_ConstantOfShapeOp : ONNX_Op<"ConstantOfShape"> {
  let summary = "a tensor of the given shape filled with `value`";
  let description = [{
    Example:
    ```mlir
    %y = onnx.ConstantOfShape(%s) {value = dense<0.0> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, OptionalAttr<ElementsAttr>:$value);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_ExpandOp : ONNX_Op<"Expand"> {
  let summary = "broadcast to a shape given as an input";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Expand(%x, %s) : (tensor<1x4xf32>, tensor<2xi64>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_Tensor:$shape);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_RangeOp : ONNX_Op<"Range"> {
  let summary = "start, start + delta, ... below limit";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Range(%s, %l, %d) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<16xi64>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$start, ONNX_Tensor:$limit, ONNX_Tensor:$delta);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_PadOp : ONNX_Op<"Pad"> {
  let summary = "pad with a constant, or by reflecting or repeating the edge";
  let description = [{
    `pads` is [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; negative pads
    crop. `mode` is constant, reflect or edge.

    Example:
    ```mlir
    %y = onnx.Pad(%x, %pads, %none) {mode = "constant"} : (tensor<1x4xf32>, tensor<4xi64>, none) -> tensor<3x6xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$pads,
                   ONNX_OptTensor:$constant_value,
                   DefaultValuedStrAttr<StrAttr, "constant">:$mode);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_SizeOp : ONNX_Op<"Size"> {
  let summary = "the number of elements, as an int64 scalar";
  let description = [{
    Example:
    ```mlir
    %n = onnx.Size(%x) : (tensor<2x3xf32>) -> tensor<i64>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data);
  let results = (outs ONNX_Tensor:$size);
}

def ONNX_TriluOp : ONNX_Op<"Trilu"> {
  let summary = "keep the upper or lower triangle of the last two dims";
  let description = [{
    `k` (optional int64 scalar input) shifts the diagonal.

    Example:
    ```mlir
    %y = onnx.Trilu(%x, %k) {upper = 1} : (tensor<3x4xf32>, tensor<i64>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_OptTensor:$k,
                   DefaultValuedAttr<I64Attr, "1">:$upper);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_GatherElementsOp : ONNX_Op<"GatherElements"> {
  let summary = "out[i] = data[i with axis replaced by indices[i]]";
  let description = [{
    Example:
    ```mlir
    %y = onnx.GatherElements(%d, %i) {axis = 1} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_TileOp : ONNX_Op<"Tile"> {
  let summary = "repeat the input along each axis";
  let description = [{
    Example:
    ```mlir
    %y = onnx.Tile(%x, %r) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_Tensor:$repeats);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_SplitOp : ONNX_Op<"Split"> {
  let summary = "split along `axis` into the result sizes";
  let description = [{
    Example:
    ```mlir
    %a, %b = onnx.Split(%x, %s) {axis = 0} : (tensor<6xf32>, tensor<2xi64>) -> (tensor<2xf32>, tensor<4xf32>)
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_OptTensor:$split,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Variadic<ONNX_Tensor>:$outputs);
}

def ONNX_DepthToSpaceOp : ONNX_Op<"DepthToSpace"> {
  let summary = "move channel blocks into spatial blocks (DCR or CRD)";
  let description = [{
    Example:
    ```mlir
    %y = onnx.DepthToSpace(%x) {blocksize = 2} : (tensor<1x8x2x2xf32>) -> tensor<1x2x4x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, I64Attr:$blocksize,
                   DefaultValuedStrAttr<StrAttr, "DCR">:$mode);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_SpaceToDepthOp : ONNX_Op<"SpaceToDepth"> {
  let summary = "move spatial blocks into channels";
  let description = [{
    Example:
    ```mlir
    %y = onnx.SpaceToDepth(%x) {blocksize = 2} : (tensor<1x2x4x4xf32>) -> tensor<1x8x2x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, I64Attr:$blocksize);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_EyeLikeOp : ONNX_Op<"EyeLike"> {
  let summary = "ones on the k-th diagonal of a 2-d tensor shaped like the input";
  let description = [{
    Example:
    ```mlir
    %y = onnx.EyeLike(%x) {k = 1} : (tensor<3x4xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, OptionalAttr<I64Attr>:$dtype,
                   DefaultValuedAttr<I64Attr, "0">:$k);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_OneHotOp : ONNX_Op<"OneHot"> {
  let summary = "one-hot encoding along a new axis";
  let description = [{
    `values` is [off_value, on_value]; negative indices count from `depth`.

    Example:
    ```mlir
    %y = onnx.OneHot(%i, %d, %v) {axis = -1} : (tensor<3xi64>, tensor<i64>, tensor<2xf32>) -> tensor<3x5xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$indices, ONNX_Tensor:$depth,
                   ONNX_Tensor:$values, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_ResizeOp : ONNX_Op<"Resize"> {
  let summary = "resize with nearest, linear or cubic interpolation";
  let description = [{
    The output size is static; `scales` (when given, constant or run-time,
    checked to give that size) decides the coordinate transform, else
    `sizes`; the `roi` of `tf_crop_and_resize` may be run-time too.
    Interpolation follows ONNX's reference: edge-clamped neighbours, the
    rounding of `nearest_mode`, `cubic_coeff_a` and `exclude_outside`, and
    `extrapolation_value` outside the region of `tf_crop_and_resize`.

    Example:
    ```mlir
    %y = onnx.Resize(%x, %none, %scales, %none) {mode = "linear"}
        : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_OptTensor:$roi,
                   ONNX_OptTensor:$scales, ONNX_OptTensor:$sizes,
                   DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode,
                   DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                   DefaultValuedAttr<I64Attr, "0">:$exclude_outside,
                   DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value,
                   DefaultValuedStrAttr<StrAttr, "nearest">:$mode,
                   DefaultValuedStrAttr<StrAttr, "round_prefer_floor">:$nearest_mode);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_GatherNDOp : ONNX_Op<"GatherND"> {
  let summary = "gather slices of data at index tuples";
  let description = [{
    Example:
    ```mlir
    %y = onnx.GatherND(%d, %i) : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_ScatterElementsOp : ONNX_Op<"ScatterElements"> {
  let summary = "data with updates written (or reduced) at indices along axis";
  let description = [{
    Updates apply in order, so later ones win (or accumulate with
    `reduction` add or mul).

    Example:
    ```mlir
    %y = onnx.ScatterElements(%d, %i, %u) {axis = 1} : (tensor<1x5xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<1x5xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$indices,
                   ONNX_Tensor:$updates, DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_ScatterNDOp : ONNX_Op<"ScatterND"> {
  let summary = "data with update slices written (or reduced) at index tuples";
  let description = [{
    Example:
    ```mlir
    %y = onnx.ScatterND(%d, %i, %u) : (tensor<8xf32>, tensor<4x1xi64>, tensor<4xf32>) -> tensor<8xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_Tensor:$indices,
                   ONNX_Tensor:$updates,
                   DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_TopKOp : ONNX_Op<"TopK"> {
  let summary = "the K largest (or smallest) elements along an axis";
  let description = [{
    K is a 1-element int64 tensor; the static result shape gives K along
    `axis`, and a run-time K must equal it. Ties go to the lower index. The
    results are always in sorted order (also with `sorted` = 0).

    Example:
    ```mlir
    %v, %i = onnx.TopK(%x, %k) {axis = 1 : i64}
        : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x3xf32>, tensor<3x3xi64>)
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$K,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$largest,
                   DefaultValuedAttr<I64Attr, "1">:$sorted);
  let results = (outs ONNX_Tensor:$Values, ONNX_Tensor:$Indices);
}

def ONNX_ReverseSequenceOp : ONNX_Op<"ReverseSequence"> {
  let summary = "reverses the first sequence_lens[b] steps of each batch entry";
  let description = [{
    Along `time_axis`, entry b of `batch_axis` has its first
    `sequence_lens[b]` elements reversed and the rest copied.

    Example:
    ```mlir
    %y = onnx.ReverseSequence(%x, %lens) {batch_axis = 0 : i64, time_axis = 1 : i64}
        : (tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_Tensor:$sequence_lens,
                   DefaultValuedAttr<I64Attr, "1">:$batch_axis,
                   DefaultValuedAttr<I64Attr, "0">:$time_axis);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_CompressOp : ONNX_Op<"Compress"> {
  let summary = "the slices along an axis whose condition is true";
  let description = [{
    Without `axis` the input is flattened first. `condition` may be shorter
    than the axis: the slices past its end are dropped. The number of true
    conditions is data: the static result holds the length shape inference
    found, checked at run time.

    Example:
    ```mlir
    %y = onnx.Compress(%x, %c) {axis = 0 : i64}
        : (tensor<3x2xf32>, tensor<3xi1>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_Tensor:$condition,
                   OptionalAttr<I64Attr>:$axis);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_NonZeroOp : ONNX_Op<"NonZero"> {
  let summary = "coordinates of the non-zero elements, one column each";
  let description = [{
    Y is [rank(X), count], the coordinates in row-major order. The count
    depends on the data: the static type holds the count shape inference
    found, and the lowering checks at run time that the data agrees.

    Example:
    ```mlir
    %y = onnx.NonZero(%x) : (tensor<2x2xi1>) -> tensor<2x3xi64>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_UniqueOp : ONNX_Op<"Unique"> {
  let summary = "the unique values (or slices along an axis) of a tensor";
  let description = [{
    Without `axis` the input is flattened; with it, slices along the axis
    are compared lexicographically. `sorted` = 1 orders them ascending, 0 by
    first occurrence. Outputs: Y, the index of each one's first occurrence,
    the index in Y of every input element (or slice), and the counts. The
    importer always creates all four results (it types the omitted ones).
    The number of unique values is data: the static result holds the count
    shape inference found, checked at run time.

    Example:
    ```mlir
    %y, %i, %inv, %n = onnx.Unique(%x) {sorted = 1 : i64}
        : (tensor<6xf32>) -> (tensor<4xf32>, tensor<4xi64>, tensor<6xi64>,
                              tensor<4xi64>)
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, OptionalAttr<I64Attr>:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$sorted);
  let results = (outs ONNX_Tensor:$Y, ONNX_Tensor:$indices,
                 ONNX_Tensor:$inverse_indices, ONNX_Tensor:$counts);
}

/// Window functions: the output length is static, so they are constants.
class ONNX_WindowOp<string mnemonic, string doc> : ONNX_Op<mnemonic> {
  let summary = doc;
  let description = "The " # doc # " of the given size, periodic or "
    # "symmetric.\n\nExample:\n```mlir\n%w = onnx." # mnemonic
    # "(%n) : (tensor<i64>) -> tensor<10xf32>\n```";
  let arguments = (ins ONNX_Tensor:$size,
                   DefaultValuedAttr<I64Attr, "1">:$output_datatype,
                   DefaultValuedAttr<I64Attr, "1">:$periodic);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_BlackmanWindowOp : ONNX_WindowOp<"BlackmanWindow", "Blackman window">;
def ONNX_HammingWindowOp : ONNX_WindowOp<"HammingWindow", "Hamming window">;
def ONNX_HannWindowOp : ONNX_WindowOp<"HannWindow", "Hann window">;

#endif // KILN_DIALECTS_ONNX_TENSOR_TD
