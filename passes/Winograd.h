//===- Winograd.h - 3x3 convolutions as Winograd F(2x2, 3x3) ----*- C++ -*-===//
//
// This file declares the pieces kiln-lower-matmuls uses to run a stride-1
// 3x3 convolution as Winograd's minimal filtering F(2x2, 3x3) (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each
// 2x2 tile of the output is A^T [(G g G^T) . (B^T d B)] A for the 4x4 input
// tile d around it, so that per tile and channel pair the 16 products of the
// transformed tiles replace the 36 of the direct convolution:
//
//   U[16][OC][C]  the weights transformed at compile time (winogradWeights)
//   V[16][C][T]   the input tiles transformed (emitWinogradInput), T tiles
//   M[16][OC][T]  16 GEMMs, M[e] = U[e] V[e] (kiln-lower-matmuls' own)
//   Y[OC][OH*OW]  the output tiles transformed back (emitWinogradOutput),
//                 with the convolution's bias and fused epilogue
//
// Tiles go along the vectors: a vector holds 16 neighbouring tiles of one
// tile row, whose input columns are the even and odd elements of two
// overlapping spans of the input row.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_WINOGRAD_H
#define KILN_PASSES_WINOGRAD_H

#include "mlir/IR/Builders.h"

#include <vector>

namespace kiln {

class FusedEnds;

/// A stride-1 3x3 convolution of one image, in the terms of its im2col: the
/// padded input's element (c, h, w) is flat[base + c * planeStride + h *
/// rowStride + w] for h < oh + 2, w < ow + 2.
struct WinogradConv {
  int64_t channels, outChannels, oh, ow;
  int64_t base, planeStride, rowStride;
  int64_t tileRows() const { return (oh + 1) / 2; }
  int64_t tileCols() const { return (ow + 1) / 2; }
  int64_t tiles() const { return tileRows() * tileCols(); }
};

/// U[e][oc][c] = (G g G^T)[e / 4][e % 4] for weights w[oc][c][3][3].
std::vector<float> winogradWeights(llvm::ArrayRef<float> w, int64_t oc,
                                   int64_t c);

/// V[e][c][t] = (B^T d B)[e / 4][e % 4] of tile t's 4x4 input d, for the
/// channels [cBegin, cEnd), from `flat` (1-d) into `v` ([16][C][T]).
void emitWinogradInput(mlir::OpBuilder &b, mlir::Location loc,
                       const WinogradConv &conv, int64_t vw, mlir::Value flat,
                       mlir::Value v, mlir::Value cBegin, mlir::Value cEnd);

/// The output tiles A^T m A of M ([16][OC][T]) for the output channels
/// [ocBegin, ocEnd), plus the bias (`ends`' initializer) or else C's value,
/// stored to `c` ([OC][OH*OW]) or through `ends`' epilogue.
void emitWinogradOutput(mlir::OpBuilder &b, mlir::Location loc,
                        const WinogradConv &conv, int64_t vw, mlir::Value m,
                        mlir::Value c, const FusedEnds &ends,
                        mlir::Value ocBegin, mlir::Value ocEnd);

} // namespace kiln

#endif // KILN_PASSES_WINOGRAD_H
