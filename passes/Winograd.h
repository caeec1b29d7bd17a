//===- Winograd.h - 3x3 convolutions as Winograd F(m x m, 3x3) --*- C++ -*-===//
//
// This file declares the pieces kiln-lower-matmuls uses to run a stride-1
// 3x3 convolution as Winograd's minimal filtering F(2x2, 3x3) or F(4x4, 3x3)
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016): each m x m tile of the output is A^T [(G g G^T) . (B^T d B)] A for
// the (m + 2) x (m + 2) input tile d around it, so that per tile and channel
// pair the (m + 2)^2 products of the transformed tiles replace the 9 m^2 of
// the direct convolution (16 for 36 with m = 2, 36 for 144 with m = 4);
// a stride-2 one likewise, by its phases (WinogradConv), with 9 x 9 input
// tiles 8 apart and 81 products per 4 x 4 output tile:
//
//   U[W][OC][C]   the weights transformed at compile time (winogradWeights),
//                 W = E = side()^2 distinct ones, at stride 2 36 for E = 81
//                 (emitWinogradWeightIndex)
//   V[E][C][T]    the input tiles transformed (emitWinogradInput), T tiles
//   M[E][OC][T]   E GEMMs, M[e] = U[e] V[e] (kiln-lower-matmuls' own)
//   Y[OC][OH*OW]  the output tiles transformed back (emitWinogradOutput),
//                 with the convolution's bias and fused epilogue
//
// Tiles go along the vectors: a vector holds 16 neighbouring tiles of one
// tile row, whose input columns j < m are every m-th element of m
// consecutive vectors of the input row (a tree of even/odd shuffles), and
// columns m, m + 1 those of columns 0, 1 shifted by one lane. Tile rows of
// at most a quarter vector share one instead (a 14x14 image's 4 tile rows
// of 4 tiles in F(4x4), a 7x7 one's in F(2x2)): lane r * tiles + t, each
// value picked from the tile rows' input rows by a shuffle per row, the
// transforms' arithmetic then done once for all of them. F(4x4, 3x3)
// does 2.25 products per output where F(2x2, 3x3) does 4, with larger
// transforms, four times the weights of the direct convolution (36 floats
// for 9; F(2x2, 3x3) 16), and rounding errors about twice a direct
// convolution's (Winograd.cpp's choice of points).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_WINOGRAD_H
#define KILN_PASSES_WINOGRAD_H

#include "mlir/IR/Builders.h"

#include <vector>

namespace kiln {

class FusedEnds;

/// A 3x3 convolution of one image, in the terms of its im2col: the padded
/// input's element (c, h, w) is flat[base + c * planeStride + h * rowStride
/// + w] for h < inHeight(), w < inWidth().
/// `m` is the side of an output tile, 2 or 4 at stride 1, 4 at stride 2.
///
/// At stride 2 the convolution is the sum of its four phases, stride-1
/// convolutions of the input's even and odd rows and columns by the taps
/// that fall on them (2x2, 2x1, 1x2 and 1x1): per dimension, the even
/// phase's 2-tap filter as Winograd's F(4, 2) (5 products for 4 outputs)
/// and the odd phase's tap as it is (4), which together are one bilinear
/// algorithm of 9 products over a 9-value input tile (step 8); in 2-d, 81
/// products per 4x4 output tile instead of the direct convolution's 144.
/// The odd values' 4 rows of G are one (the odd tap), so the 81 elements
/// take 36 transformed weights, 4 times the filter as F(4x4, 3x3)'s: the
/// elements of rows or columns 5 to 8 share those of row or column 5.
struct WinogradConv {
  int64_t channels, outChannels, oh, ow;
  int64_t base, planeStride, rowStride;
  int64_t m = 2;
  int64_t stride = 1;
  /// The input columns (and rows) between neighbouring tiles.
  int64_t step() const { return stride * m; }
  /// The side of an input tile, and of the elements' grid.
  int64_t side() const { return stride == 1 ? m + 2 : 2 * m + 1; }
  int64_t elements() const { return side() * side(); }
  /// G's distinct rows, and the transformed weights' matrices: at stride
  /// 2, the rows from 5 on (the odd tap's) are row 5, and element e = n i
  /// + j (n = side()) takes matrix 6 min(i, 5) + min(j, 5).
  int64_t weightSide() const { return stride == 1 ? side() : 6; }
  int64_t weightElements() const { return weightSide() * weightSide(); }
  /// The padded input's rows and columns that the taps reach.
  int64_t inHeight() const { return stride * (oh - 1) + 3; }
  int64_t inWidth() const { return stride * (ow - 1) + 3; }
  int64_t tileRows() const { return (oh + m - 1) / m; }
  int64_t tileCols() const { return (ow + m - 1) / m; }
  int64_t tiles() const { return tileRows() * tileCols(); }
};

/// U[e][oc][c] = (G g G^T)[e / n][e % n], n = conv.weightSide(), for
/// weights w[oc][c][3][3].
std::vector<float> winogradWeights(llvm::ArrayRef<float> w,
                                   const WinogradConv &conv);

/// The index into winogradWeights' U of element `e`'s weights (an index
/// value): e itself at stride 1; at stride 2, for e = n i + j (n =
/// side()), s min(i, s - 1) + min(j, s - 1) with s = weightSide().
mlir::Value emitWinogradWeightIndex(mlir::OpBuilder &b, mlir::Location loc,
                                    const WinogradConv &conv, mlir::Value e);

/// V[e][c][t] = (B^T d B)[e / n][e % n] of tile t's n x n input d, for the
/// channels [cBegin, cEnd), from `flat` (1-d) into `v` ([E][C][T]).
void emitWinogradInput(mlir::OpBuilder &b, mlir::Location loc,
                       const WinogradConv &conv, int64_t vw, mlir::Value flat,
                       mlir::Value v, mlir::Value cBegin, mlir::Value cEnd);

/// The output tiles A^T m A of M ([E][OC][T]) for the output channels
/// [ocBegin, ocEnd), plus the bias (`ends`' initializer) or else C's value,
/// stored to `c` ([OC][OH*OW]) or through `ends`' epilogue.
void emitWinogradOutput(mlir::OpBuilder &b, mlir::Location loc,
                        const WinogradConv &conv, int64_t vw, mlir::Value m,
                        mlir::Value c, const FusedEnds &ends,
                        mlir::Value ocBegin, mlir::Value ocEnd);

/// emitWinogradInput for all channels of the tile rows [thBegin, thEnd) of
/// a stride-1 convolution (a block or span of them; images of more than a
/// quarter vector of tile columns), into the block's own V: tile row th's
/// tiles at (th - thBegin) * tiles a row. With `zeroBorders`, the padded
/// input's first and last rows and columns are read as zeros (its borders
/// need not be written). Tile row by tile row, each of all channels; with
/// `channelsOuter`, channel by channel, each of all the tile rows (a V larger
/// than the caches then has its rows written whole), and only the channels
/// [cBegin, cEnd) when given.
void emitWinogradInputRows(mlir::OpBuilder &b, mlir::Location loc,
                           const WinogradConv &conv, int64_t vw,
                           mlir::Value flat, mlir::Value v, mlir::Value thBegin,
                           mlir::Value thEnd, bool zeroBorders,
                           bool channelsOuter = false, mlir::Value cBegin = {},
                           mlir::Value cEnd = {});

/// emitWinogradOutput for the output channels [ocBegin, ocEnd) of the tile
/// rows [thBegin, thEnd), from the block's own M: channel oc's row oc -
/// ocBegin (oc with `mAllChannels`, an M of every channel), tile row th's
/// tiles at (th - thBegin) * tiles a row. Tile row by tile row unless
/// `channelsOuter` (as emitWinogradInputRows).
void emitWinogradOutputRows(mlir::OpBuilder &b, mlir::Location loc,
                            const WinogradConv &conv, int64_t vw, mlir::Value m,
                            mlir::Value c, const FusedEnds &ends,
                            mlir::Value thBegin, mlir::Value thEnd,
                            mlir::Value ocBegin, mlir::Value ocEnd,
                            bool channelsOuter = false,
                            bool mAllChannels = false);

} // namespace kiln

#endif // KILN_PASSES_WINOGRAD_H
