//===- NN.td - onnx convolution, pooling and normalisation ops ------------===//
//
// This file defines the neural-network family of the onnx dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_NN_TD
#define KILN_DIALECTS_ONNX_NN_TD

include "dialects/onnx/ONNXDialect.td"

def ONNX_ConvOp : ONNX_Op<"Conv"> {
  let summary = "N-d convolution with groups, strides, pads, dilations";
  let description = [{
    X is [N, C, D1, ...], W is [M, C/group, k1, ...], B optional [M].
    `auto_pad` is NOTSET (explicit `pads`), SAME_UPPER, SAME_LOWER or VALID.

    Example:
    ```mlir
    %y = onnx.Conv(%x, %w, %b) {pads = [1, 1, 1, 1], strides = [1, 1]}
        : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$W, ONNX_OptTensor:$B,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<I64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<I64ArrayAttr>:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$Y);
  let hasVerifier = 1;
}

def ONNX_ConvTransposeOp : ONNX_Op<"ConvTranspose"> {
  let summary = "N-d transposed convolution";
  let description = [{
    X is [N, C, D1, ...], W is [C, M/group, k1, ...], B optional [M]. The
    output size is static; `output_shape` and `auto_pad` decide the pads as
    ONNX specifies.

    Example:
    ```mlir
    %y = onnx.ConvTranspose(%x, %w, %none) {strides = [2, 2]}
        : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>, none) -> tensor<1x2x7x7xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$W, ONNX_OptTensor:$B,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<I64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<I64ArrayAttr>:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$output_padding,
                   OptionalAttr<I64ArrayAttr>:$output_shape,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_MaxPoolOp : ONNX_Op<"MaxPool"> {
  let summary = "max pooling";
  let description = [{
    Padding never wins the max. `ceil_mode` rounds the output size up; a window
    starting in the padding at the end is dropped as ONNX specifies. The
    optional Indices index X flattened over N, C and the spatial dims
    (row-major, or the spatial dims column-major with `storage_order` = 1).

    Example:
    ```mlir
    %y = onnx.MaxPool(%x) {kernel_shape = [2, 2], strides = [2, 2]}
        : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                   OptionalAttr<I64ArrayAttr>:$dilations,
                   I64ArrayAttr:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   DefaultValuedAttr<I64Attr, "0">:$storage_order,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$Y, Optional<ONNX_Tensor>:$Indices);
  let hasVerifier = 1;
}

def ONNX_AveragePoolOp : ONNX_Op<"AveragePool"> {
  let summary = "average pooling";
  let description = [{
    With `count_include_pad` = 0 the divisor counts only the elements inside
    the input.

    Example:
    ```mlir
    %y = onnx.AveragePool(%x) {kernel_shape = [2, 2], strides = [2, 2]}
        : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                   DefaultValuedAttr<I64Attr, "0">:$count_include_pad,
                   I64ArrayAttr:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$Y);
  let hasVerifier = 1;
}

def ONNX_LpPoolOp : ONNX_Op<"LpPool"> {
  let summary = "Lp-norm pooling";
  let description = [{
    Each window gives (sum of |x|^p)^(1/p); padding adds nothing.

    Example:
    ```mlir
    %y = onnx.LpPool(%x) {kernel_shape = [2, 2], p = 2}
        : (tensor<1x8x8x8xf32>) -> tensor<1x8x7x7xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   I64ArrayAttr:$kernel_shape,
                   DefaultValuedAttr<I64Attr, "2">:$p,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$Y);
  let hasVerifier = 1;
}

def ONNX_GlobalLpPoolOp : ONNX_Op<"GlobalLpPool"> {
  let summary = "Lp norm over every spatial dimension";
  let description = [{
    Example:
    ```mlir
    %y = onnx.GlobalLpPool(%x) {p = 2} : (tensor<1x8x7x7xf32>) -> tensor<1x8x1x1xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, DefaultValuedAttr<I64Attr, "2">:$p);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_MaxUnpoolOp : ONNX_Op<"MaxUnpool"> {
  let summary = "scatter pooled values back to the positions MaxPool found";
  let description = [{
    X is [N, C, D1, ...], I (int64, X's shape) row-major flat indices into
    the tensor of the shape inferred from X and the attributes,
    (D - 1) * stride - pad_begin - pad_end + kernel. The output is zero but
    for X's values at those positions; an `output_shape` larger than the
    inferred shape extends it with zeros at the end of each dim, as ONNX's
    reference does.

    Example:
    ```mlir
    %y = onnx.MaxUnpool(%x, %i, %none) {kernel_shape = [2, 2], strides = [2, 2]}
        : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, none) -> tensor<1x1x4x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$I,
                   ONNX_OptTensor:$output_shape,
                   I64ArrayAttr:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$output);
  let hasVerifier = 1;
}

def ONNX_GlobalAveragePoolOp : ONNX_Op<"GlobalAveragePool"> {
  let summary = "mean over every spatial dimension";
  let description = [{
    Example:
    ```mlir
    %y = onnx.GlobalAveragePool(%x) : (tensor<1x8x7x7xf32>) -> tensor<1x8x1x1xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_GlobalMaxPoolOp : ONNX_Op<"GlobalMaxPool"> {
  let summary = "max over every spatial dimension";
  let description = [{
    Example:
    ```mlir
    %y = onnx.GlobalMaxPool(%x) : (tensor<1x8x7x7xf32>) -> tensor<1x8x1x1xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_BatchNormalizationOp : ONNX_Op<"BatchNormalization"> {
  let summary = "batch normalisation";
  let description = [{
    Y = scale * (X - mean) / sqrt(var + epsilon) + B, per channel (axis 1).
    With `training_mode` = 1, mean and var are the batch's (over N and the
    spatial dims, population variance), and the optional outputs
    running_mean and running_var are input * momentum + batch * (1 -
    momentum); in inference mode Y is the only result.

    Example:
    ```mlir
    %y = onnx.BatchNormalization(%x, %s, %b, %m, %v)
        : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$scale, ONNX_Tensor:$B,
                   ONNX_Tensor:$input_mean, ONNX_Tensor:$input_var,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.9">:$momentum,
                   DefaultValuedAttr<I64Attr, "0">:$training_mode);
  let results = (outs ONNX_Tensor:$Y, Variadic<ONNX_Tensor>:$running_stats);
  let hasVerifier = 1;
}

def ONNX_LayerNormalizationOp : ONNX_Op<"LayerNormalization"> {
  let summary = "normalise over the axes from `axis` to the last";
  let description = [{
    Statistics are computed in f32 or wider (`stash_type`). The optional
    outputs are the Mean and the InvStdDev, in that order.

    Example:
    ```mlir
    %y = onnx.LayerNormalization(%x, %s, %b) {axis = -1, epsilon = 1e-5 : f32}
        : (tensor<1x16x128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<1x16x128xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$Scale, ONNX_OptTensor:$B,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs ONNX_Tensor:$Y, Variadic<ONNX_Tensor>:$statistics);
}

def ONNX_MeanVarianceNormalizationOp
    : ONNX_Op<"MeanVarianceNormalization", [SameOperandsAndResultType]> {
  let summary = "(X - mean) / sqrt(variance + 1e-9) over `axes`";
  let description = [{
    Mean and (biased) variance are taken over `axes` (default [0, 2, 3]).

    Example:
    ```mlir
    %y = onnx.MeanVarianceNormalization(%x) : (tensor<3x3x3x1xf32>) -> tensor<3x3x3x1xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, OptionalAttr<I64ArrayAttr>:$axes);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_DropoutOp : ONNX_Op<"Dropout"> {
  let summary = "identity at inference; random zeroing in training mode";
  let description = [{
    With `training_mode` absent or false, the identity and an all-true mask.
    In training mode, elements are zeroed with probability `ratio` (default
    0.5) and the others scaled by 1 / (1 - ratio); the draws are a hash of
    `seed` and the element's index, the same on every run.

    Example:
    ```mlir
    %y = onnx.Dropout(%x, %none, %none) : (tensor<4xf32>, none, none) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$data, ONNX_OptTensor:$ratio,
                   ONNX_OptTensor:$training_mode,
                   OptionalAttr<I64Attr>:$seed);
  let results = (outs ONNX_Tensor:$output, Optional<ONNX_Tensor>:$mask);
}

def ONNX_NegativeLogLikelihoodLossOp : ONNX_Op<"NegativeLogLikelihoodLoss"> {
  let summary = "-input[n, target[n, d...], d...] * weight[target], reduced";
  let description = [{
    `input` is [N, C, d...] log-probabilities, `target` [N, d...] class
    indices; targets equal to `ignore_index` contribute nothing. `reduction`
    is none, sum or mean (weighted by the weights of the counted targets).

    Example:
    ```mlir
    %l = onnx.NegativeLogLikelihoodLoss(%x, %t, %none) {reduction = "mean"}
        : (tensor<3x5xf32>, tensor<3xi64>, none) -> tensor<f32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_Tensor:$target,
                   ONNX_OptTensor:$weight, OptionalAttr<I64Attr>:$ignore_index,
                   DefaultValuedStrAttr<StrAttr, "mean">:$reduction);
  let results = (outs ONNX_Tensor:$loss);
}

def ONNX_SoftmaxCrossEntropyLossOp : ONNX_Op<"SoftmaxCrossEntropyLoss"> {
  let summary = "negative log-likelihood of log_softmax(scores) along axis 1";
  let description = [{
    The optional second output is the log-probabilities.

    Example:
    ```mlir
    %l = onnx.SoftmaxCrossEntropyLoss(%s, %t, %none) {reduction = "mean"}
        : (tensor<3x5xf32>, tensor<3xi64>, none) -> tensor<f32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$scores, ONNX_Tensor:$labels,
                   ONNX_OptTensor:$weights, OptionalAttr<I64Attr>:$ignore_index,
                   DefaultValuedStrAttr<StrAttr, "mean">:$reduction);
  let results = (outs ONNX_Tensor:$output, Variadic<ONNX_Tensor>:$log_prob);
}

def ONNX_InstanceNormalizationOp : ONNX_Op<"InstanceNormalization"> {
  let summary = "normalise each (n, c) over the spatial dims";
  let description = [{
    Example:
    ```mlir
    %y = onnx.InstanceNormalization(%x, %s, %b) : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$input, ONNX_Tensor:$scale, ONNX_Tensor:$B,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon);
  let results = (outs ONNX_Tensor:$output);
}

def ONNX_LRNOp : ONNX_Op<"LRN"> {
  let summary = "local response normalisation across channels";
  let description = [{
    Example:
    ```mlir
    %y = onnx.LRN(%x) {size = 3} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X,
                   DefaultValuedAttr<F32Attr, "0.0001">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.75">:$beta,
                   DefaultValuedAttr<F32Attr, "1.0">:$bias, I64Attr:$size);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_GridSampleOp : ONNX_Op<"GridSample"> {
  let summary = "sample X at the normalised locations of a flow-field grid";
  let description = [{
    X is [N, C, H, W], grid [N, H_out, W_out, 2] of (x, y) in [-1, 1]; Y is
    [N, C, H_out, W_out]. `mode` is bilinear, nearest (round half to even)
    or bicubic (A = -0.75); `padding_mode` zeros, border or reflection, as
    torch.nn.functional.grid_sample computes them.

    Example:
    ```mlir
    %y = onnx.GridSample(%x, %grid) {mode = "nearest"}
        : (tensor<1x1x4x4xf32>, tensor<1x6x6x2xf32>) -> tensor<1x1x6x6xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$grid,
                   DefaultValuedAttr<I64Attr, "0">:$align_corners,
                   DefaultValuedStrAttr<StrAttr, "bilinear">:$mode,
                   DefaultValuedStrAttr<StrAttr, "zeros">:$padding_mode);
  let results = (outs ONNX_Tensor:$Y);
  let hasVerifier = 1;
}

def ONNX_RoiAlignOp : ONNX_Op<"RoiAlign"> {
  let summary = "bilinear pooling of regions of interest (Mask R-CNN)";
  let description = [{
    X is [N, C, H, W], `rois` [R, 4] as (x1, y1, x2, y2) in input-image
    coordinates (scaled by `spatial_scale`), `batch_indices` [R] int64. Y is
    [R, C, output_height, output_width]: each bin averages (mode "avg") or
    takes the max (mode "max", of the bilinearly weighted corners, as
    onnxruntime does) of sampling_ratio x sampling_ratio bilinear samples;
    `sampling_ratio` 0 uses ceil(roi size / output size) samples.
    `coordinate_transformation_mode` is half_pixel (shift by -0.5) or
    output_half_pixel.

    Example:
    ```mlir
    %y = onnx.RoiAlign(%x, %rois, %bi) {output_height = 5 : i64, output_width = 5 : i64}
        : (tensor<1x1x10x10xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x1x5x5xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, ONNX_Tensor:$rois,
                   ONNX_Tensor:$batch_indices,
                   DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode,
                   DefaultValuedStrAttr<StrAttr, "avg">:$mode,
                   DefaultValuedAttr<I64Attr, "1">:$output_height,
                   DefaultValuedAttr<I64Attr, "1">:$output_width,
                   DefaultValuedAttr<I64Attr, "0">:$sampling_ratio,
                   DefaultValuedAttr<F32Attr, "1.0">:$spatial_scale);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_TfIdfVectorizerOp : ONNX_Op<"TfIdfVectorizer"> {
  let summary = "counts of pooled n-grams (with skips), optionally weighted";
  let description = [{
    X is [C] or [N, C] int32/int64; Y is float [max(ngram_indexes) + 1] or
    [N, that]. `pool_int64s` holds the n-grams, grouped by length from 1 up;
    `ngram_counts[i]` is the pool offset of the (i+1)-grams and
    `ngram_indexes[j]` the output column of the j-th n-gram. N-grams of length
    min_gram_length..max_gram_length are taken with every distance 1 ..
    max_skip_count + 1 between their elements (unigrams once). Mode TF gives
    counts, IDF min(count, 1) * weight, TFIDF count * weight; as onnxruntime
    does, the weight of output column i is weights[i]. String pools
    (pool_strings) are not supported.

    Example:
    ```mlir
    %y = onnx.TfIdfVectorizer(%x) {max_gram_length = 2 : i64, min_gram_length = 2 : i64,
        max_skip_count = 0 : i64, mode = "TF", ngram_counts = [0, 0],
        ngram_indexes = [0], pool_int64s = [5, 6]} : (tensor<12xi32>) -> tensor<1xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$X, I64Attr:$max_gram_length,
                   I64Attr:$min_gram_length, I64Attr:$max_skip_count,
                   StrAttr:$mode, I64ArrayAttr:$ngram_counts,
                   I64ArrayAttr:$ngram_indexes,
                   OptionalAttr<I64ArrayAttr>:$pool_int64s,
                   OptionalAttr<F32ArrayAttr>:$weights);
  let results = (outs ONNX_Tensor:$Y);
}

def ONNX_QuantizeLinearOp : ONNX_Op<"QuantizeLinear"> {
  let summary = "saturate(round(x / scale) + zero_point)";
  let description = [{
    Per tensor, or per `axis` with 1-d scale and zero point. Rounds half to
    even; the output type is the zero point's (uint8 without one).

    Example:
    ```mlir
    %q = onnx.QuantizeLinear(%x, %s, %z) : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$x, ONNX_Tensor:$y_scale,
                   ONNX_OptTensor:$y_zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs ONNX_Tensor:$y);
}

def ONNX_DequantizeLinearOp : ONNX_Op<"DequantizeLinear"> {
  let summary = "(x - zero_point) * scale";
  let description = [{
    Example:
    ```mlir
    %x = onnx.DequantizeLinear(%q, %s, %z) : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$x, ONNX_Tensor:$x_scale,
                   ONNX_OptTensor:$x_zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs ONNX_Tensor:$y);
}

def ONNX_DynamicQuantizeLinearOp : ONNX_Op<"DynamicQuantizeLinear"> {
  let summary = "uint8 quantisation with scale and zero point from the data";
  let description = [{
    Example:
    ```mlir
    %y, %s, %z = onnx.DynamicQuantizeLinear(%x) : (tensor<4xf32>) -> (tensor<4xui8>, tensor<f32>, tensor<ui8>)
    ```
  }];
  let arguments = (ins ONNX_Tensor:$x);
  let results = (outs ONNX_Tensor:$y, ONNX_Tensor:$y_scale,
                 ONNX_Tensor:$y_zero_point);
}

def ONNX_ConvIntegerOp : ONNX_Op<"ConvInteger"> {
  let summary = "int8/uint8 convolution with zero points, accumulated in int32";
  let description = [{
    As Conv on (x - x_zero_point) and (w - w_zero_point); x_zero_point is a
    scalar, w_zero_point a scalar or one per output channel.

    Example:
    ```mlir
    %y = onnx.ConvInteger(%x, %w, %xz, %none)
        : (tensor<1x1x3x3xui8>, tensor<1x1x2x2xui8>, tensor<ui8>, none) -> tensor<1x1x2x2xi32>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$x, ONNX_Tensor:$w,
                   ONNX_OptTensor:$x_zero_point, ONNX_OptTensor:$w_zero_point,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<I64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<I64ArrayAttr>:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$y);
}

def ONNX_QLinearConvOp : ONNX_Op<"QLinearConv"> {
  let summary = "quantized convolution, requantized to y's scale and zero point";
  let description = [{
    The int32 accumulation of ConvInteger plus the int32 bias B, scaled by
    x_scale * w_scale / y_scale (w_scale per tensor or per output channel),
    rounded half to even and saturated after adding y_zero_point.

    Example:
    ```mlir
    %y = onnx.QLinearConv(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %none)
        : (tensor<1x1x7x7xui8>, tensor<f32>, tensor<ui8>, tensor<1x1x1x1xui8>,
           tensor<1xf32>, tensor<1xui8>, tensor<f32>, tensor<ui8>, none) -> tensor<1x1x7x7xui8>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$x, ONNX_Tensor:$x_scale,
                   ONNX_Tensor:$x_zero_point, ONNX_Tensor:$w,
                   ONNX_Tensor:$w_scale, ONNX_Tensor:$w_zero_point,
                   ONNX_Tensor:$y_scale, ONNX_Tensor:$y_zero_point,
                   ONNX_OptTensor:$B,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   OptionalAttr<I64ArrayAttr>:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group,
                   OptionalAttr<I64ArrayAttr>:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$pads,
                   OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs ONNX_Tensor:$y);
}

def ONNX_NonMaxSuppressionOp : ONNX_Op<"NonMaxSuppression"> {
  let summary = "greedy selection of boxes by score, dropping overlaps";
  let description = [{
    `boxes` is [batches, boxes, 4] ([y1, x1, y2, x2] corners, or
    [x_center, y_center, width, height] with `center_point_box` = 1),
    `scores` [batches, classes, boxes]. Per batch and class, boxes are taken
    in descending score order (ties: lower index first) unless their IOU
    with a box already taken exceeds `iou_threshold` (default 0), up to
    `max_output_boxes_per_class` (default 0: none); with `score_threshold`
    only boxes scoring above it are candidates. The result lists
    [batch, class, box] rows; their number is data, so the static result
    holds the count shape inference found, checked at run time.

    Example:
    ```mlir
    %s = onnx.NonMaxSuppression(%b, %sc, %m, %iou, %st)
        : (tensor<1x6x4xf32>, tensor<1x1x6xf32>, tensor<1xi64>,
           tensor<1xf32>, tensor<1xf32>) -> tensor<3x3xi64>
    ```
  }];
  let arguments = (ins ONNX_Tensor:$boxes, ONNX_Tensor:$scores,
                   ONNX_OptTensor:$max_output_boxes_per_class,
                   ONNX_OptTensor:$iou_threshold,
                   ONNX_OptTensor:$score_threshold,
                   DefaultValuedAttr<I64Attr, "0">:$center_point_box);
  let results = (outs ONNX_Tensor:$selected_indices);
}

/// The attributes RNN, GRU and LSTM share.
class ONNX_RecurrentOp<string mnemonic, string doc, dag extraIns, dag outs>
    : ONNX_Op<mnemonic> {
  let summary = doc;
  let description = "ONNX `" # mnemonic # "`: X is [seq, batch, input] "
    # "(layout 0) or [batch, seq, input] (layout 1); outputs Y, Y_h"
    # " (and Y_c for LSTM); the importer creates all of them.\n\nExample:\n```mlir\n"
    # "%y, %h = onnx." # mnemonic # "(%x, %w, %r, %none, %none, %none) "
    # "{hidden_size = 8} : (...) -> (...)\n```";
  let arguments = !con((ins ONNX_Tensor:$X, ONNX_Tensor:$W, ONNX_Tensor:$R,
                            ONNX_OptTensor:$B, ONNX_OptTensor:$sequence_lens,
                            ONNX_OptTensor:$initial_h),
                       extraIns,
                       (ins OptionalAttr<F32ArrayAttr>:$activation_alpha,
                            OptionalAttr<F32ArrayAttr>:$activation_beta,
                            OptionalAttr<StrArrayAttr>:$activations,
                            OptionalAttr<F32Attr>:$clip,
                            DefaultValuedStrAttr<StrAttr, "forward">:$direction,
                            OptionalAttr<I64Attr>:$hidden_size,
                            DefaultValuedAttr<I64Attr, "0">:$layout));
  let results = outs;
}

def ONNX_RNNOp : ONNX_RecurrentOp<"RNN", "simple recurrent network", (ins),
    (outs ONNX_Tensor:$Y, ONNX_Tensor:$Y_h)>;
def ONNX_GRUOp : ONNX_RecurrentOp<"GRU", "gated recurrent unit",
    (ins DefaultValuedAttr<I64Attr, "0">:$linear_before_reset),
    (outs ONNX_Tensor:$Y, ONNX_Tensor:$Y_h)>;
def ONNX_LSTMOp : ONNX_RecurrentOp<"LSTM", "long short-term memory",
    (ins ONNX_OptTensor:$initial_c, ONNX_OptTensor:$P,
         DefaultValuedAttr<I64Attr, "0">:$input_forget),
    (outs ONNX_Tensor:$Y, ONNX_Tensor:$Y_h, ONNX_Tensor:$Y_c)>;

#endif // KILN_DIALECTS_ONNX_NN_TD
