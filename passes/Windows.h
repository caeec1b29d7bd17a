//===- Windows.h - Depthwise convolutions a band of rows at a time -*- C++
//-*-===//
//
// This file declares what kiln-lower-windows lends kiln-lower-matmuls for
// its fused expansion and depthwise convolution (LowerMatmuls.cpp): the
// depthwise row kernel over a band of output rows, reading its input from
// a buffer that holds only the padded input rows the band needs.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_WINDOWS_H
#define KILN_PASSES_WINDOWS_H

#include "passes/FusedEnds.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace kiln {

/// An f32 depthwise convolution of one image without dilation, as
/// emitDepthwiseBand makes it.
struct DepthwiseBand {
  int64_t planes, oh, ow, kh, kw, sh, sw;
  int64_t ih, iw; // its (padded) input's rows and columns
};

/// `op` as a DepthwiseBand, or nothing when it is not one.
std::optional<DepthwiseBand> depthwiseBand(mlir::linalg::LinalgOp op,
                                           int64_t vectorWidth);

/// Output rows [o0, o0 + rows) of the depthwise convolution `op`, on all
/// its planes: input row o0 * sh + i read as row i of `x` (planes as op's
/// input, as wide), weights `w`, output `out`, and `ends`, op's fused ends
/// (FusedEnds::match for op; remapped as the caller's buffers are).
/// `windowRows`: kiln-lower-windows' rows option.
void emitDepthwiseBand(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::linalg::LinalgOp op, const FusedEnds &ends,
                       mlir::Value x, mlir::Value w, mlir::Value out,
                       mlir::Value o0, int64_t rows, int64_t vectorWidth,
                       int64_t windowRows);

} // namespace kiln

#endif // KILN_PASSES_WINDOWS_H
