//===- Winograd.cpp - 3x3 convolutions as Winograd F(2x2, 3x3) ------------===//
//
// This file implements the weight transform and the vector code of the input
// and output transforms that Winograd.h describes. The matrices (Lavin and
// Gray's F(2x2, 3x3)):
//
//   B^T = [1  0 -1  0]    G = [ 1    0    0 ]    A^T = [1  1  1  0]
//         [0  1  1  0]        [1/2  1/2  1/2]          [0  1 -1 -1]
//         [0 -1  1  0]        [1/2 -1/2  1/2]
//         [0  1  0 -1]        [ 0    0    1 ]
//
//===----------------------------------------------------------------------===//

#include "passes/Winograd.h"
#include "passes/FusedEnds.h"
#include "passes/VectorLanes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace {

constexpr double kG[4][3] = {
    {1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};

/// Builds the transforms' arithmetic on vectors of `vw` f32 lanes.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc, const kiln::WinogradConv &conv,
          int64_t vw)
      : b(b), loc(loc), conv(conv), vw(vw), lanes(b, loc, vw) {}

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value addi(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value addi(Value x, int64_t y) { return y ? addi(x, index(y)) : x; }
  Value muli(Value x, int64_t y) {
    return b.create<arith::MulIOp>(loc, x, index(y));
  }

  /// Lanes `first`, `first + step`, ... of the concatenation of x and y.
  Value pick(Value x, Value y, int64_t first, int64_t step) {
    SmallVector<int64_t> mask;
    for (int64_t l = 0; l < vw; ++l)
      mask.push_back(first + l * step);
    return b.create<vector::ShuffleOp>(loc, x, y, mask);
  }
  /// x and y interleaved, lanes [half * vw, half * vw + vw) of the result.
  Value interleave(Value x, Value y, int64_t half) {
    SmallVector<int64_t> mask;
    for (int64_t l = half * vw / 2; l < (half + 1) * vw / 2; ++l) {
      mask.push_back(l);
      mask.push_back(vw + l);
    }
    return b.create<vector::ShuffleOp>(loc, x, y, mask);
  }

  /// B^T applied to four values of a column (or row) of a tile.
  std::array<Value, 4> inputTransform(const std::array<Value, 4> &d) {
    return {sub(d[0], d[2]), add(d[1], d[2]), sub(d[2], d[1]), sub(d[1], d[3])};
  }
  /// A^T applied to four values.
  std::array<Value, 2> outputTransform(const std::array<Value, 4> &m) {
    return {add(add(m[0], m[1]), m[2]), sub(sub(m[1], m[2]), m[3])};
  }

  /// The transformed tiles of tile row `th` (its first `rows` input rows
  /// inside the image, the others zero) of channel `ch`, into V.
  void inputTiles(Value flat, Value v, Value ch, Value th, int64_t rows) {
    int64_t tw = conv.tileCols(), width = conv.ow + 2;
    Value plane = addi(muli(ch, conv.planeStride), conv.base);
    Value tileAt = muli(th, tw);
    for (int64_t tw0 = 0; tw0 < tw; tw0 += vw) {
      // d[i][j]: input row 2 th + i, columns 2 (tw0 + lane) + j.
      std::array<std::array<Value, 4>, 4> d;
      for (int64_t i = 0; i < 4; ++i) {
        if (i >= rows) {
          d[i].fill(lanes.zeros());
          continue;
        }
        Value rowAt = addi(plane, muli(addi(muli(th, 2), i), conv.rowStride));
        auto span = [&](int64_t from) {
          return lanes.load(flat, ValueRange{addi(rowAt, from)},
                            std::clamp<int64_t>(width - from, 0, vw));
        };
        int64_t w0 = 2 * tw0;
        Value s0 = span(w0), s1 = span(w0 + vw);
        Value s2 = span(w0 + 2), s3 = span(w0 + 2 + vw);
        d[i] = {pick(s0, s1, 0, 2), pick(s0, s1, 1, 2), pick(s2, s3, 0, 2),
                pick(s2, s3, 1, 2)};
      }
      // B^T d: per column j; then (B^T d) B: per row.
      std::array<std::array<Value, 4>, 4> r;
      for (int64_t j = 0; j < 4; ++j) {
        auto col = inputTransform({d[0][j], d[1][j], d[2][j], d[3][j]});
        for (int64_t xi = 0; xi < 4; ++xi)
          r[xi][j] = col[xi];
      }
      int64_t valid = std::min<int64_t>(vw, tw - tw0);
      for (int64_t xi = 0; xi < 4; ++xi) {
        auto row = inputTransform(r[xi]);
        for (int64_t nu = 0; nu < 4; ++nu)
          lanes.store(row[nu], v,
                      ValueRange{index(xi * 4 + nu), ch, addi(tileAt, tw0)},
                      valid);
      }
    }
  }

  /// The output tiles of tile row `th` of channel `oc` (its first `rows`
  /// output rows inside the image).
  void outputTiles(Value m, Value c, const kiln::FusedEnds &ends, Value oc,
                   Value init, Value th, int64_t rows) {
    int64_t tw = conv.tileCols();
    Value tileAt = muli(th, tw);
    for (int64_t tw0 = 0; tw0 < tw; tw0 += vw) {
      int64_t valid = std::min<int64_t>(vw, tw - tw0);
      std::array<std::array<Value, 4>, 4> t;
      for (int64_t e = 0; e < 16; ++e)
        t[e / 4][e % 4] =
            lanes.load(m, ValueRange{index(e), oc, addi(tileAt, tw0)}, valid);
      // A^T t: per column; then (A^T t) A: per row.
      std::array<std::array<Value, 4>, 2> s;
      for (int64_t j = 0; j < 4; ++j) {
        auto col = outputTransform({t[0][j], t[1][j], t[2][j], t[3][j]});
        s[0][j] = col[0];
        s[1][j] = col[1];
      }
      for (int64_t a = 0; a < rows; ++a) {
        auto y = outputTransform(s[a]);
        Value outRow = addi(muli(th, 2), a);
        for (int64_t half = 0; half < 2; ++half) {
          int64_t first = 2 * tw0 + half * vw;
          int64_t n = std::clamp<int64_t>(conv.ow - first, 0, vw);
          if (n == 0)
            continue;
          Value value = interleave(y[0], y[1], half);
          Value col = addi(muli(outRow, conv.ow), first);
          value = add(value, init ? init : lanes.load(c, {oc, col}, n));
          if (!ends.hasEpilogue()) {
            lanes.store(value, c, ValueRange{oc, col}, n);
            continue;
          }
          SmallVector<Value> others;
          for (unsigned i = 0; i < ends.otherViews().size(); ++i)
            others.push_back(ends.loadOther(b, loc, i, {oc, col}, n, vw));
          ends.storeResult(b, loc, ends.apply(b, loc, value, others), oc, col,
                           n);
        }
      }
    }
  }

  void forLoop(Value lb, Value ub, function_ref<void(Value)> body) {
    auto loop = b.create<scf::ForOp>(loc, lb, ub, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  OpBuilder &b;
  Location loc;
  const kiln::WinogradConv &conv;
  int64_t vw;
  kiln::VectorLanes lanes;
};

} // namespace

std::vector<float> kiln::winogradWeights(ArrayRef<float> w, int64_t oc,
                                         int64_t c) {
  std::vector<float> u(16 * oc * c);
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t i = 0; i < c; ++i) {
      const float *g = &w[(o * c + i) * 9];
      // G g G^T, in double.
      double gg[4][3];
      for (int64_t xi = 0; xi < 4; ++xi)
        for (int64_t col = 0; col < 3; ++col) {
          gg[xi][col] = 0;
          for (int64_t r = 0; r < 3; ++r)
            gg[xi][col] += kG[xi][r] * g[r * 3 + col];
        }
      for (int64_t xi = 0; xi < 4; ++xi)
        for (int64_t nu = 0; nu < 4; ++nu) {
          double sum = 0;
          for (int64_t col = 0; col < 3; ++col)
            sum += gg[xi][col] * kG[nu][col];
          u[((xi * 4 + nu) * oc + o) * c + i] = static_cast<float>(sum);
        }
    }
  return u;
}

void kiln::emitWinogradInput(OpBuilder &b, Location loc,
                             const WinogradConv &conv, int64_t vw, Value flat,
                             Value v, Value cBegin, Value cEnd) {
  Emitter e(b, loc, conv, vw);
  // Tile rows whose four input rows are all inside the padded image, then
  // the last one, with its fourth row outside, when the output's height is
  // odd.
  int64_t full = conv.oh / 2;
  e.forLoop(cBegin, cEnd, [&](Value ch) {
    e.forLoop(e.index(0), e.index(full),
              [&](Value th) { e.inputTiles(flat, v, ch, th, 4); });
    if (full < conv.tileRows())
      e.inputTiles(flat, v, ch, e.index(full), conv.oh + 2 - 2 * full);
  });
}

void kiln::emitWinogradOutput(OpBuilder &b, Location loc,
                              const WinogradConv &conv, int64_t vw, Value m,
                              Value c, const FusedEnds &ends, Value ocBegin,
                              Value ocEnd) {
  Emitter e(b, loc, conv, vw);
  int64_t full = conv.oh / 2;
  e.forLoop(ocBegin, ocEnd, [&](Value oc) {
    Value init;
    if (ends.hasInit())
      init = b.create<vector::BroadcastOp>(
          loc, VectorType::get({vw}, b.getF32Type()),
          ends.initialValue(b, loc, oc));
    e.forLoop(e.index(0), e.index(full),
              [&](Value th) { e.outputTiles(m, c, ends, oc, init, th, 2); });
    if (full < conv.tileRows())
      e.outputTiles(m, c, ends, oc, init, e.index(full), 1);
  });
}
