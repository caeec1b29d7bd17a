//===- LowerTransposes.cpp - Transposes in register tiles -----------------===//
//
// This file implements kiln-lower-transposes. A linalg.transpose that moves
// the innermost dimension (an attention's K^T: [S, H, D] to [H, D, S]) reads
// along one dimension and writes along another; as loops, LLVM vectorises
// it with one lane inserted at a time (vinsertps and gathers on x86), at
// about a nanosecond an element. Here the transpose is instead done in
// square tiles of w x w elements (w = 8 where vectors are 8 lanes or more,
// 4 where they are 4): w vector loads along the source's rows, a transpose
// in registers by three (two for w = 4) rounds of two-vector shuffles, and
// w vector stores along the destination's rows, as oneDNN's and ONNX
// Runtime's transpose kernels do. Each shuffle is one instruction on x86
// (unpcklps / unpckhps, shufps, vperm2f128) and on AArch64 (zip1 / zip2).
// The edges that do not fill a tile stay linalg.transpose ops on subviews.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/VectorLanes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace kiln {
#define GEN_PASS_DEF_LOWERTRANSPOSES
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// `vs` (w vectors of w lanes, w = 4 or 8) transposed in place: lane j of
/// vector i goes to lane i of vector j.
void transposeInRegisters(OpBuilder &b, Location loc,
                          MutableArrayRef<Value> vs) {
  int64_t w = vs.size();
  auto shuffle = [&](Value x, Value y, ArrayRef<int64_t> mask) -> Value {
    return b.create<vector::ShuffleOp>(loc, x, y, mask);
  };
  // Masks by 4-lane block c: the pairs' lanes interleaved (unpack), then
  // the pairs' pairs (shufps), within each block.
  auto perBlock = [&](std::initializer_list<int64_t> pattern) {
    SmallVector<int64_t> mask;
    for (int64_t c = 0; c < w; c += 4)
      for (int64_t p : pattern)
        mask.push_back(p >= 4 ? w + c + p - 4 : c + p);
    return mask;
  };
  SmallVector<int64_t> unpackLo = perBlock({0, 4, 1, 5}),
                       unpackHi = perBlock({2, 6, 3, 7}),
                       pairsLo = perBlock({0, 1, 4, 5}),
                       pairsHi = perBlock({2, 3, 6, 7});
  // Per group of four rows a..d: t = (a0 b0 a1 b1), (a2 b2 a3 b3), the same
  // of c, d; then s = (a0 b0 c0 d0), (a1 b1 c1 d1), (a2..), (a3..), each
  // within every 4-lane block.
  SmallVector<Value> s;
  for (int64_t g = 0; g < w; g += 4) {
    Value t0 = shuffle(vs[g], vs[g + 1], unpackLo);
    Value t1 = shuffle(vs[g], vs[g + 1], unpackHi);
    Value t2 = shuffle(vs[g + 2], vs[g + 3], unpackLo);
    Value t3 = shuffle(vs[g + 2], vs[g + 3], unpackHi);
    s.append({shuffle(t0, t2, pairsLo), shuffle(t0, t2, pairsHi),
              shuffle(t1, t3, pairsLo), shuffle(t1, t3, pairsHi)});
  }
  if (w == 4) {
    llvm::copy(s, vs.begin());
    return;
  }
  // w = 8: the two groups' 4-lane halves joined (vperm2f128).
  for (int64_t j = 0; j < 4; ++j) {
    vs[j] = shuffle(s[j], s[4 + j], {0, 1, 2, 3, 8, 9, 10, 11});
    vs[4 + j] = shuffle(s[j], s[4 + j], {4, 5, 6, 7, 12, 13, 14, 15});
  }
}

/// A transpose this pass lowers: dims of the destination, `rows` the one
/// that reads along the source's innermost dim, tiled by `w` with it.
struct Tiling {
  linalg::TransposeOp op;
  int64_t w;
  unsigned rows; // destination dim d with permutation[d] == rank - 1
};

std::optional<Tiling> match(linalg::TransposeOp op, int64_t vectorWidth) {
  int64_t w = vectorWidth >= 8 ? 8 : vectorWidth == 4 ? 4 : 0;
  auto in = dyn_cast<MemRefType>(op.getInput().getType());
  auto out = dyn_cast<MemRefType>(op.getInit().getType());
  if (w == 0 || !in || !out || !in.hasStaticShape() || !out.hasStaticShape() ||
      in.getElementTypeBitWidth() != 32 || !kiln::hasUnitInnerStride(in) ||
      !kiln::hasUnitInnerStride(out))
    return std::nullopt;
  ArrayRef<int64_t> perm = op.getPermutation();
  unsigned last = perm.size() - 1;
  if (perm[last] == last)
    return std::nullopt; // rows stay rows: already contiguous both ways
  unsigned rows = llvm::find(perm, last) - perm.begin();
  if (out.getDimSize(rows) < w || out.getDimSize(last) < w)
    return std::nullopt;
  return Tiling{op, w, rows};
}

void lower(const Tiling &t) {
  linalg::TransposeOp op = t.op;
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value in = op.getInput(), out = op.getInit();
  auto outType = cast<MemRefType>(out.getType());
  ArrayRef<int64_t> perm = op.getPermutation();
  unsigned rank = perm.size(), last = rank - 1;
  int64_t w = t.w;
  ArrayRef<int64_t> shape = outType.getShape();
  int64_t fullRows = shape[t.rows] / w * w, fullCols = shape[last] / w * w;
  auto index = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  // The source's indices for destination indices `o`.
  auto source = [&](ArrayRef<Value> o) {
    SmallVector<Value> i(rank);
    for (unsigned d = 0; d < rank; ++d)
      i[perm[d]] = o[d];
    return i;
  };

  // Loops over the destination's dims in order, the two tiled ones by w.
  SmallVector<Value> ivs;
  {
    OpBuilder::InsertionGuard guard(b);
    for (unsigned d = 0; d < rank; ++d) {
      int64_t end = d == t.rows ? fullRows : d == last ? fullCols : shape[d];
      int64_t step = d == t.rows || d == last ? w : 1;
      auto loop = b.create<scf::ForOp>(loc, index(0), index(end), index(step));
      ivs.push_back(loop.getInductionVar());
      b.setInsertionPointToStart(loop.getBody());
    }
    auto vectorType = VectorType::get({w}, outType.getElementType());
    auto plus = [&](Value v, int64_t k) -> Value {
      return k == 0 ? v : b.create<arith::AddIOp>(loc, v, index(k));
    };
    SmallVector<Value> vs;
    for (int64_t k = 0; k < w; ++k) {
      SmallVector<Value> o(ivs);
      o[last] = plus(ivs[last], k);
      vs.push_back(b.create<vector::LoadOp>(loc, vectorType, in, source(o)));
    }
    transposeInRegisters(b, loc, vs);
    for (int64_t k = 0; k < w; ++k) {
      SmallVector<Value> o(ivs);
      o[t.rows] = plus(ivs[t.rows], k);
      b.create<vector::StoreOp>(loc, vs[k], out, o);
    }
  }

  // The edges: the rows past the last full tile, then the columns past it.
  auto edge =
      [&](ArrayRef<std::pair<unsigned, std::pair<int64_t, int64_t>>> ranges) {
        SmallVector<OpFoldResult> outOffsets(rank, b.getIndexAttr(0)), outSizes,
            ones(rank, b.getIndexAttr(1));
        for (int64_t s : shape)
          outSizes.push_back(b.getIndexAttr(s));
        for (auto [d, range] : ranges) {
          outOffsets[d] = b.getIndexAttr(range.first);
          outSizes[d] = b.getIndexAttr(range.second - range.first);
        }
        SmallVector<OpFoldResult> inOffsets(rank), inSizes(rank);
        for (unsigned d = 0; d < rank; ++d) {
          inOffsets[perm[d]] = outOffsets[d];
          inSizes[perm[d]] = outSizes[d];
        }
        Value i =
            b.create<memref::SubViewOp>(loc, in, inOffsets, inSizes, ones);
        Value o =
            b.create<memref::SubViewOp>(loc, out, outOffsets, outSizes, ones);
        b.create<linalg::TransposeOp>(loc, i, o, perm);
      };
  if (fullRows < shape[t.rows])
    edge({{t.rows, {fullRows, shape[t.rows]}}});
  if (fullCols < shape[last])
    edge({{t.rows, {0, fullRows}}, {last, {fullCols, shape[last]}}});
  op->erase();
}

struct LowerTransposesPass
    : kiln::impl::LowerTransposesBase<LowerTransposesPass> {
  using LowerTransposesBase::LowerTransposesBase;

  void runOnOperation() override {
    SmallVector<Tiling> found;
    getOperation().walk([&](linalg::TransposeOp op) {
      if (auto t = match(op, vectorWidth))
        found.push_back(*t);
    });
    for (const Tiling &t : found)
      lower(t);
  }
};

} // namespace
