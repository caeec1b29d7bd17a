//===- Windows.h - Windows a band of rows at a time ------------*- C++ -*-===//
//
// This file declares what kiln-lower-windows lends kiln-lower-matmuls for
// its convolutions fused with the window after them (LowerMatmuls.cpp:
// an expansion and its depthwise convolution, a first convolution and its
// max pool): the window's row kernel over a band of output rows, reading
// its input from a buffer that holds only the input rows the band needs.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_WINDOWS_H
#define KILN_PASSES_WINDOWS_H

#include "passes/FusedEnds.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace kiln {

/// An f32 depthwise convolution or max pool of one image without
/// dilation, as emitWindowBand makes it.
struct WindowBand {
  bool pool; // a max pool: no weights
  int64_t planes, oh, ow, kh, kw, sh, sw;
  int64_t ih, iw; // its (padded) input's rows and columns
};

/// `op` as a WindowBand, or nothing when it is not one.
std::optional<WindowBand> windowBand(mlir::linalg::LinalgOp op,
                                     int64_t vectorWidth);

/// Output rows [o0, o0 + rows) of the window `op`, on all its planes:
/// input row o0 * sh + i read as row i of `x` (planes as op's input, as
/// wide), weights `w` (a pool: any buffer, unread), output `out`, and
/// `ends`, op's fused ends (FusedEnds::match for op; remapped as the
/// caller's buffers are). `windowRows`: kiln-lower-windows' rows option.
void emitWindowBand(mlir::OpBuilder &b, mlir::Location loc,
                    mlir::linalg::LinalgOp op, const FusedEnds &ends,
                    mlir::Value x, mlir::Value w, mlir::Value out,
                    mlir::Value o0, int64_t rows, int64_t vectorWidth,
                    int64_t windowRows);

} // namespace kiln

#endif // KILN_PASSES_WINDOWS_H
