//===- Winograd.cpp - 3x3 convolutions as Winograd F(m x m, 3x3) ----------===//
//
// This file implements the weight transform and the vector code of the input
// and output transforms that Winograd.h describes. The matrices (Lavin and
// Gray's), for F(2x2, 3x3):
//
//   B^T = [1  0 -1  0]    G = [ 1    0    0 ]    A^T = [1  1  1  0]
//         [0  1  1  0]        [1/2  1/2  1/2]          [0  1 -1 -1]
//         [0 -1  1  0]        [1/2 -1/2  1/2]
//         [0  1  0 -1]        [ 0    0    1 ]
//
// and for F(4x4, 3x3), not Lavin and Gray's points 0, +-1, +-2 but 0, +-3/2,
// +-2/3 (and infinity), whose float32 rounding errors are 3 to 4 times
// smaller at the same cost (about twice those of a direct float32
// convolution rather than 6 to 8 times; measured over 64 and 256 channels
// against float64); G's fractions are rounded once, from double:
//
//   B^T = [36   0    -97     0    36  0]    G = [  1/36      0       0   ]
//         [ 0 -3/2    -1   27/8  9/4  0]        [ 32/585  16/195   8/65  ]
//         [ 0  3/2    -1  -27/8  9/4  0]        [ 32/585 -16/195   8/65  ]
//         [ 0 -9/4 -27/8     1   3/2  0]        [ -8/65  -16/195 -32/585 ]
//         [ 0 -9/4  27/8     1  -3/2  0]        [  8/65  -16/195  32/585 ]
//         [ 0  36     0    -97     0 36]        [   0       0      1/36  ]
//
//   A^T = [1    1     1  27/8  27/8  0]
//         [0  3/2  -3/2   9/4  -9/4  0]
//         [0  9/4   9/4   3/2   3/2  0]
//         [0 27/8 -27/8     1    -1  1]
//
// whose rows the transforms below apply with shared sums and differences
// and FMAs by the constants (14 operations for B^T on 6 values, 12 for A^T).
//
// At stride 2 (Winograd.h), per dimension the even phase's F(4, 2) at the
// points 0, 1, -1, 1/2 (and infinity), B^T's rows scaled to exact
// constants and G's by the inverse, and the odd phase's tap as it is: on an
// input tile d of 9 values, e = d[0], d[2], ..., d[8] the even ones,
//
//   B^T = [1 -2  -1   2   0]  (on e)   G = [ 1    0  ]  A^T = [1 1  1 1     0]
//         [0 -1/2 1/2 1   0]               [ 1    1  ]        [0 1 -1 1/2   0]
//         [0 -1/2 3/2 -1  0]               [1/3 -1/3 ]        [0 1  1 1/4   0]
//         [0  1   0  -1   0]               [8/3  4/3 ]        [0 1 -1 1/8   1]
//         [0  1/2 -1 -1/2 1]               [ 0    1  ]
//
// (G on the taps g[0], g[2]), then the odd values d[1], d[3], d[5], d[7]
// as they are (G's rows [0 1 0] on all three taps), and A^T on the 9
// products: the 5 even ones as above plus the odd one of its output. Its
// float32 rounding errors are about twice a direct convolution's, as
// F(4x4, 3x3)'s (over 256 channels against float64).
//===----------------------------------------------------------------------===//

#include "passes/Winograd.h"
#include "passes/FusedEnds.h"
#include "passes/VectorLanes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace {

// G for F(2x2, 3x3) and F(4x4, 3x3): the rows of (G g G^T) for a filter g.
constexpr double kG2[4][3] = {
    {1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
constexpr double kG4[6][3] = {{1.0 / 36, 0, 0},
                              {32.0 / 585, 16.0 / 195, 8.0 / 65},
                              {32.0 / 585, -16.0 / 195, 8.0 / 65},
                              {-8.0 / 65, -16.0 / 195, -32.0 / 585},
                              {8.0 / 65, -16.0 / 195, 32.0 / 585},
                              {0, 0, 1.0 / 36}};
// G at stride 2: the even phase's rows on taps 0 and 2, then the odd
// values' (all four the same) on tap 1.
constexpr double kGStride2[6][3] = {
    {1, 0, 0}, {1, 0, 1}, {1.0 / 3, 0, -1.0 / 3}, {8.0 / 3, 0, 4.0 / 3},
    {0, 0, 1}, {0, 1, 0}};

using Values = SmallVector<Value, 9>;

/// Builds the transforms' arithmetic on vectors of `vw` f32 lanes.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc, const kiln::WinogradConv &conv,
          int64_t vw)
      : b(b), loc(loc), conv(conv), vw(vw), lanes(b, loc, vw) {}

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value neg(Value x) { return b.create<arith::NegFOp>(loc, x); }
  /// The constant c (exact in f32) in every lane.
  Value splat(double c) {
    auto type = VectorType::get({vw}, b.getF32Type());
    return b.create<arith::ConstantOp>(
        loc, type,
        DenseElementsAttr::get(type, b.getF32FloatAttr(static_cast<float>(c))));
  }
  Value mul(Value x, double c) {
    return b.create<arith::MulFOp>(loc, x, splat(c));
  }
  /// x * c + y.
  Value fma(Value x, double c, Value y) {
    return b.create<vector::FMAOp>(loc, x, splat(c), y);
  }
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
  /// Lanes 1, ..., vw - 1 of x, then lane `k` of y.
  Value shift(Value x, Value y, int64_t k) {
    SmallVector<int64_t> mask;
    for (int64_t l = 1; l < vw; ++l)
      mask.push_back(l);
    mask.push_back(vw + k);
    return b.create<vector::ShuffleOp>(loc, x, y, mask);
  }
  /// Elements j, j + m, j + 2m, ... of the m consecutive vectors `spans`
  /// (m a power of two): a tree of even/odd picks, one bit of j a level.
  Value gather(ArrayRef<Value> spans, int64_t j) {
    Values level(spans.begin(), spans.end());
    for (; level.size() > 1; j /= 2) {
      Values next;
      for (size_t i = 0; i < level.size(); i += 2)
        next.push_back(pick(level[i], level[i + 1], j % 2, 2));
      level = next;
    }
    return level.front();
  }
  /// Element l of the result is ys[l % m][l / m] (m a power of two), as
  /// m vectors: the inverse of gather's tree.
  Values scatter(ArrayRef<Value> ys) {
    if (ys.size() == 1)
      return {ys.front()};
    Values evens, odds;
    for (size_t k = 0; k < ys.size(); k += 2) {
      evens.push_back(ys[k]);
      odds.push_back(ys[k + 1]);
    }
    Values e = scatter(evens), o = scatter(odds), out;
    for (size_t h = 0; h < e.size(); ++h)
      for (int64_t half = 0; half < 2; ++half)
        out.push_back(interleave(e[h], o[h], half));
    return out;
  }

  /// Tile rows a vector holds: as many as fit when four or more do (an
  /// image of at most vw / 4 tile columns: ResNet's 14x14 and 7x7 layers,
  /// SqueezeNet's 13x13), else one. Two (a 28x28 or 27x27 image's rows of
  /// 7 tiles) were no faster: picking two rows' values costs the shuffles
  /// that the shared arithmetic saves.
  int64_t rowsPerVector() const {
    int64_t tw = conv.tileCols();
    return 4 * tw <= vw ? vw / tw : 1;
  }

  /// Where a lane comes from: lane `lane` of source `source`.
  struct Pick {
    int64_t source = -1, lane = 0;
  };
  /// The vector whose lane l is picks[l] of `sources` (zero where that is
  /// none or a null source): one shuffle per source used, each placing
  /// its lanes into what the ones before placed.
  Value assemble(ArrayRef<Value> sources, ArrayRef<Pick> picks) {
    Value result;
    for (int64_t s = 0, e = sources.size(); s < e; ++s) {
      if (!sources[s])
        continue;
      SmallVector<int64_t> mask;
      bool used = false;
      for (int64_t l = 0; l < vw; ++l) {
        used |= picks[l].source == s;
        mask.push_back(picks[l].source == s ? vw + picks[l].lane : l);
      }
      if (used)
        result = b.create<vector::ShuffleOp>(
            loc, result ? result : lanes.zeros(), sources[s], mask);
    }
    return result ? result : lanes.zeros();
  }

  /// B^T applied to the side() values of a column (or row) of a tile.
  Values inputTransform(ArrayRef<Value> d) {
    if (conv.stride == 2) {
      Value e0 = d[0], e1 = d[2], e2 = d[4], e3 = d[6], e4 = d[8];
      Value a = sub(e2, e1), t3 = sub(e1, e3);
      return {fma(t3, -2, sub(e0, e2)),
              fma(a, 0.5, e3),
              fma(a, 0.5, sub(e2, e3)),
              t3,
              fma(t3, 0.5, sub(e4, e2)),
              d[1],
              d[3],
              d[5],
              d[7]};
    }
    if (conv.m == 2)
      return {sub(d[0], d[2]), add(d[1], d[2]), sub(d[2], d[1]),
              sub(d[1], d[3])};
    Value p = fma(d[4], 2.25, neg(d[2])), q = fma(d[3], 2.25, neg(d[1]));
    Value e = fma(d[2], -2.25, d[4]), o = fma(d[1], -2.25, d[3]);
    return {fma(add(d[0], d[4]), 36, mul(d[2], -97)),
            fma(q, 1.5, p),
            fma(q, -1.5, p),
            fma(e, 1.5, o),
            fma(e, -1.5, o),
            fma(add(d[1], d[5]), 36, mul(d[3], -97))};
  }
  /// A^T applied to side() values.
  Values outputTransform(ArrayRef<Value> t) {
    if (conv.stride == 2) {
      Value s12 = add(t[1], t[2]), d12 = sub(t[1], t[2]);
      return {add(add(t[0], s12), add(t[3], t[5])),
              fma(t[3], 0.5, add(d12, t[6])), fma(t[3], 0.25, add(s12, t[7])),
              fma(t[3], 0.125, add(add(d12, t[4]), t[8]))};
    }
    if (conv.m == 2)
      return {add(add(t[0], t[1]), t[2]), sub(sub(t[1], t[2]), t[3])};
    Value sum12 = add(t[1], t[2]), dif12 = sub(t[1], t[2]);
    Value sum34 = add(t[3], t[4]), dif34 = sub(t[3], t[4]);
    return {
        fma(sum34, 3.375, add(t[0], sum12)), fma(dif12, 1.5, mul(dif34, 2.25)),
        fma(sum12, 2.25, mul(sum34, 1.5)), fma(dif12, 3.375, add(dif34, t[5]))};
  }

  /// `transform` applied to each column of `tile` (its rows of n values):
  /// the rows of the result.
  SmallVector<Values>
  byColumns(ArrayRef<Values> tile,
            function_ref<Values(ArrayRef<Value>)> transform) {
    size_t n = tile.front().size();
    SmallVector<Values> result;
    for (size_t j = 0; j < n; ++j) {
      Values column;
      for (const Values &row : tile)
        column.push_back(row[j]);
      Values out = transform(column);
      result.resize(out.size(), Values(n));
      for (size_t i = 0; i < out.size(); ++i)
        result[i][j] = out[i];
    }
    return result;
  }

  /// The transformed tiles of tile row `th` (its first `rows` input rows
  /// inside the image, the others zero) of channel `ch`, into V.
  void inputTiles(Value flat, Value v, Value ch, Value th, int64_t rows,
                  int64_t firstRow = 0) {
    int64_t step = conv.step(), n = conv.side(), tw = conv.tileCols();
    int64_t width = conv.inWidth();
    Value plane = addi(muli(ch, conv.planeStride), conv.base);
    Value tileAt = tileIndex(th);
    for (int64_t tw0 = 0; tw0 < tw; tw0 += vw) {
      // d[i][j]: input row step th + i, columns step (tw0 + lane) + j.
      SmallVector<Values> d(n);
      for (int64_t i = 0; i < n; ++i) {
        if (i >= rows || i < firstRow) {
          d[i].assign(n, lanes.zeros());
          continue;
        }
        Value rowAt =
            addi(plane, muli(addi(muli(th, step), i), conv.rowStride));
        // With zeroBorders, the row's last column is not loaded and its
        // first is replaced by a zero.
        int64_t end = zeroBorders ? width - 1 : width;
        auto span = [&](int64_t from) -> Value {
          Value x = lanes.load(flat, ValueRange{addi(rowAt, from)},
                               std::clamp<int64_t>(end - from, 0, vw));
          if (!zeroBorders || from != 0)
            return x;
          SmallVector<int64_t> mask{vw};
          for (int64_t l = 1; l < vw; ++l)
            mask.push_back(l);
          return b.create<vector::ShuffleOp>(loc, x, lanes.zeros(), mask)
              .getResult();
        };
        // The `step` vectors from the tiles' first column hold columns j <
        // step; columns step, ... (m and m + 1 at stride 1, 8 at stride 2)
        // are columns 0, ... of the next tile, so those shifted by a lane,
        // the last from the vector after.
        int64_t w0 = step * tw0;
        Values spans;
        for (int64_t k = 0; k < step; ++k)
          spans.push_back(span(w0 + k * vw));
        Value after = span(w0 + step * vw);
        for (int64_t j = 0; j < step; ++j)
          d[i].push_back(gather(spans, j));
        for (int64_t j = step; j < n; ++j)
          d[i].push_back(shift(d[i][j - step], after, j - step));
      }
      // B^T d: per column j; then (B^T d) B: per row.
      SmallVector<Values> r =
          byColumns(d, [&](ArrayRef<Value> x) { return inputTransform(x); });
      // A tile row's tiles of one element are under a cache line when the
      // image has few tile columns (a 7x7 layer's 4 with F(2x2)): stored as
      // a vector that wide, not as 16 masked lanes whose footprint reaches
      // into the next channel's line, which the products on the other
      // core read. On two threads, a 7x7 layer's 1x1 + 3x3 pair ran 0.986 of
      // the 16-lane stores, a 14x14 pair 0.968, ResNet-50 0.991 (paired
      // rounds, Zen 4); on one thread unchanged.
      int64_t valid = std::min<int64_t>(vw, tw - tw0);
      for (int64_t xi = 0; xi < n; ++xi) {
        Values row = inputTransform(r[xi]);
        for (int64_t nu = 0; nu < n; ++nu)
          lanes.narrowStore(
              row[nu], v, ValueRange{index(xi * n + nu), ch, addi(tileAt, tw0)},
              valid);
      }
    }
  }

  /// inputTiles for tile rows th0, th0 + 1, ... in one vector (lane
  /// r * tw + t: tile t of tile row th0 + r), `rows[r]` the input rows of
  /// tile row th0 + r inside the image: each value of d picked from the
  /// rows' first vectors by a shuffle per source, then the transforms once
  /// for all of them, and one store per element of the tile.
  void inputTileRows(Value flat, Value v, Value ch, Value th0,
                     ArrayRef<int64_t> rows) {
    int64_t step = conv.step(), n = conv.side(), tw = conv.tileCols();
    int64_t width = conv.inWidth(), count = rows.size();
    // The vectors of a row that its tiles read: columns up to step (tw - 1)
    // + n - 1.
    int64_t spans = llvm::divideCeil(step * (tw - 1) + n, vw);
    Value plane = addi(muli(ch, conv.planeStride), conv.base);
    SmallVector<Values> d(n);
    for (int64_t i = 0; i < n; ++i) {
      SmallVector<Value> sources; // row r's spans, r-major
      for (int64_t r = 0; r < count; ++r) {
        Value rowAt;
        if (i < rows[r])
          rowAt = addi(plane,
                       muli(addi(muli(addi(th0, r), step), i), conv.rowStride));
        for (int64_t k = 0; k < spans; ++k) {
          int64_t valid = std::clamp<int64_t>(width - k * vw, 0, vw);
          sources.push_back(
              rowAt && valid
                  ? lanes.load(flat, ValueRange{addi(rowAt, k * vw)}, valid)
                  : Value());
        }
      }
      for (int64_t j = 0; j < n; ++j) {
        SmallVector<Pick> picks(vw);
        for (int64_t r = 0; r < count; ++r)
          for (int64_t t = 0; t < tw; ++t)
            if (int64_t col = step * t + j; col < width)
              picks[r * tw + t] = {r * spans + col / vw, col % vw};
        d[i].push_back(assemble(sources, picks));
      }
    }
    SmallVector<Values> r =
        byColumns(d, [&](ArrayRef<Value> x) { return inputTransform(x); });
    for (int64_t xi = 0; xi < n; ++xi) {
      Values row = inputTransform(r[xi]);
      for (int64_t nu = 0; nu < n; ++nu)
        lanes.narrowStore(row[nu], v,
                          ValueRange{index(xi * n + nu), ch, muli(th0, tw)},
                          count * tw);
    }
  }

  /// C's columns [col, col + count) of channel `oc` (an output row's): `y`
  /// plus the initializer or C's value, stored to C or through the fused
  /// epilogue.
  void storeOutput(Value c, const kiln::FusedEnds &ends, Value oc, Value init,
                   Value col, int64_t count, Value y) {
    Value value = add(y, init ? init : lanes.load(c, {oc, col}, count));
    if (!ends.hasEpilogue()) {
      lanes.store(value, c, ValueRange{oc, col}, count);
      return;
    }
    SmallVector<Value> others;
    for (unsigned i = 0; i < ends.otherViews().size(); ++i)
      others.push_back(ends.loadOther(b, loc, i, {oc, col}, count, vw));
    ends.storeResult(b, loc, ends.apply(b, loc, value, others), oc, col, count);
  }

  /// outputTiles for tile rows th0, th0 + 1, ... in one vector (as
  /// inputTileRows), `rows[r]` the output rows of tile row th0 + r inside
  /// the image: each output row's vectors picked from the m columns' by a
  /// shuffle per column.
  void outputTileRows(Value m, Value c, const kiln::FusedEnds &ends, Value oc,
                      Value init, Value th0, ArrayRef<int64_t> rows) {
    int64_t side = conv.m, n = conv.side(), tw = conv.tileCols();
    int64_t count = rows.size();
    Value tileAt = muli(th0, tw);
    SmallVector<Values> t(n, Values(n));
    for (int64_t e = 0; e < n * n; ++e)
      t[e / n][e % n] =
          lanes.load(m, ValueRange{index(e), oc, tileAt}, count * tw);
    SmallVector<Values> s =
        byColumns(t, [&](ArrayRef<Value> x) { return outputTransform(x); });
    for (int64_t a = 0; a < side; ++a) {
      // y[k], lane r * tw + t: column side * t + k of tile row th0 + r's
      // output row a.
      Values y = outputTransform(s[a]);
      for (int64_t r = 0; r < count; ++r) {
        if (a >= rows[r])
          continue;
        Value outRow = addi(muli(addi(th0, r), side), a);
        for (int64_t first = 0; first < conv.ow; first += vw) {
          int64_t cols = std::min<int64_t>(vw, conv.ow - first);
          SmallVector<Pick> picks(vw);
          for (int64_t l = 0; l < cols; ++l)
            picks[l] = {(first + l) % side, r * tw + (first + l) / side};
          storeOutput(c, ends, oc, init, addi(muli(outRow, conv.ow), first),
                      cols, assemble(y, picks));
        }
      }
    }
  }

  /// The output tiles of tile row `th` of channel `oc` (its first `rows`
  /// output rows inside the image).
  void outputTiles(Value m, Value c, const kiln::FusedEnds &ends, Value oc,
                   Value init, Value th, int64_t rows) {
    int64_t side = conv.m, n = conv.side(), tw = conv.tileCols();
    Value tileAt = tileIndex(th), row = mRow(oc);
    for (int64_t tw0 = 0; tw0 < tw; tw0 += vw) {
      int64_t valid = std::min<int64_t>(vw, tw - tw0);
      SmallVector<Values> t(n, Values(n));
      for (int64_t e = 0; e < n * n; ++e)
        t[e / n][e % n] =
            lanes.load(m, ValueRange{index(e), row, addi(tileAt, tw0)}, valid);
      // A^T t: per column; then (A^T t) A: per row.
      SmallVector<Values> s =
          byColumns(t, [&](ArrayRef<Value> x) { return outputTransform(x); });
      for (int64_t a = 0; a < rows; ++a) {
        // The tiles' m output columns each, interleaved into image columns.
        Values y = scatter(outputTransform(s[a]));
        Value outRow = addi(muli(th, side), a);
        for (int64_t k = 0; k < side; ++k) {
          int64_t first = side * tw0 + k * vw;
          int64_t count = std::clamp<int64_t>(conv.ow - first, 0, vw);
          if (count == 0)
            continue;
          storeOutput(c, ends, oc, init, addi(muli(outRow, conv.ow), first),
                      count, y[k]);
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

  /// body(th0, rows) over the tile rows in groups of rowsPerVector(): the
  /// groups of tile rows whose `inside` rows (of the input or the output)
  /// all lie in the image in a loop, then the rest, tile row th having
  /// `rowsOf(th)` rows inside (the last ones, when m does not divide the
  /// output's height).
  void tileRowGroups(int64_t inside, function_ref<int64_t(int64_t)> rowsOf,
                     function_ref<void(Value, ArrayRef<int64_t>)> body) {
    int64_t per = rowsPerVector(), groups = conv.oh / conv.m / per;
    forLoop(index(0), index(groups), [&](Value g) {
      body(per > 1 ? muli(g, per) : g, SmallVector<int64_t>(per, inside));
    });
    for (int64_t th = groups * per; th < conv.tileRows(); th += per) {
      SmallVector<int64_t> rows;
      for (int64_t r = th; r < std::min(th + per, conv.tileRows()); ++r)
        rows.push_back(std::min(inside, rowsOf(r)));
      body(index(th), rows);
    }
  }

  /// body(th, first, rows) over the tile rows [thBegin, thEnd), one a
  /// vector: those of [lo, hi), whose `inside` rows all lie in the image, in
  /// a loop; then each other one in the range, its rows [first, rows) inside
  /// (`rowsOf(th)`).
  void tileRowRange(Value thBegin, Value thEnd, int64_t lo, int64_t hi,
                    int64_t inside,
                    function_ref<std::pair<int64_t, int64_t>(int64_t)> rowsOf,
                    function_ref<void(Value, int64_t, int64_t)> body) {
    Value from = b.create<arith::MaxSIOp>(loc, thBegin, index(lo));
    Value to = b.create<arith::MinSIOp>(loc, thEnd, index(hi));
    forLoop(from, to, [&](Value th) { body(th, 0, inside); });
    for (int64_t th = 0; th < conv.tileRows(); ++th) {
      if (th >= lo && th < hi)
        continue;
      Value in = b.create<arith::AndIOp>(
          loc,
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, thBegin,
                                  index(th)),
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, index(th),
                                  thEnd));
      auto ifOp = b.create<scf::IfOp>(loc, in, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      auto [first, rows] = rowsOf(th);
      body(index(th), first, rows);
    }
  }

  /// Output channel oc's initializer (`ends`'), in every lane; null when
  /// C's own value is the start.
  Value initialValue(const kiln::FusedEnds &ends, Value oc) {
    if (!ends.hasInit())
      return nullptr;
    return b.create<vector::BroadcastOp>(loc,
                                         VectorType::get({vw}, b.getF32Type()),
                                         ends.initialValue(b, loc, oc));
  }

  /// Where a block of tile rows keeps its own V or M: tile row th at
  /// th - tileRow0, output channel oc at oc - oc0 (null: th and oc).
  Value tileIndex(Value th) {
    Value row = tileRow0 ? b.create<arith::SubIOp>(loc, th, tileRow0) : th;
    return muli(row, conv.tileCols());
  }
  Value mRow(Value oc) {
    return oc0 ? b.create<arith::SubIOp>(loc, oc, oc0) : oc;
  }

  OpBuilder &b;
  Location loc;
  const kiln::WinogradConv &conv;
  int64_t vw;
  kiln::VectorLanes lanes;
  Value tileRow0, oc0;
  // The padded input's borders (its first and last rows and columns) read
  // as zeros, not from memory.
  bool zeroBorders = false;
};

} // namespace

std::vector<float> kiln::winogradWeights(ArrayRef<float> w,
                                         const WinogradConv &conv) {
  int64_t n = conv.weightSide();
  int64_t oc = conv.outChannels, c = conv.channels;
  auto gRow = [&](int64_t i) {
    return conv.stride == 2 ? kGStride2[i] : conv.m == 2 ? kG2[i] : kG4[i];
  };
  std::vector<float> u(n * n * oc * c);
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t i = 0; i < c; ++i) {
      const float *g = &w[(o * c + i) * 9];
      // G g G^T, in double.
      double gg[6][3];
      for (int64_t xi = 0; xi < n; ++xi)
        for (int64_t col = 0; col < 3; ++col) {
          gg[xi][col] = 0;
          for (int64_t r = 0; r < 3; ++r)
            gg[xi][col] += gRow(xi)[r] * g[r * 3 + col];
        }
      for (int64_t xi = 0; xi < n; ++xi)
        for (int64_t nu = 0; nu < n; ++nu) {
          double sum = 0;
          for (int64_t col = 0; col < 3; ++col)
            sum += gg[xi][col] * gRow(nu)[col];
          u[((xi * n + nu) * oc + o) * c + i] = static_cast<float>(sum);
        }
    }
  return u;
}

Value kiln::emitWinogradWeightIndex(OpBuilder &b, Location loc,
                                    const WinogradConv &conv, Value e) {
  int64_t s = conv.weightSide();
  if (s == conv.side())
    return e;
  auto constant = [&](int64_t x) {
    return b.create<arith::ConstantIndexOp>(loc, x);
  };
  Value n = constant(conv.side()), last = constant(s - 1);
  Value row =
      b.create<arith::MinUIOp>(loc, b.create<arith::DivUIOp>(loc, e, n), last);
  Value col =
      b.create<arith::MinUIOp>(loc, b.create<arith::RemUIOp>(loc, e, n), last);
  return b.create<arith::AddIOp>(
      loc, b.create<arith::MulIOp>(loc, row, constant(s)), col);
}

void kiln::emitWinogradInput(OpBuilder &b, Location loc,
                             const WinogradConv &conv, int64_t vw, Value flat,
                             Value v, Value cBegin, Value cEnd) {
  Emitter e(b, loc, conv, vw);
  // Tile rows whose m + 2 input rows are all inside the padded image, then
  // the last one, with some rows outside, when m does not divide the
  // output's height.
  e.forLoop(cBegin, cEnd, [&](Value ch) {
    e.tileRowGroups(
        conv.side(),
        [&](int64_t th) { return conv.inHeight() - conv.step() * th; },
        [&](Value th0, ArrayRef<int64_t> rows) {
          if (e.rowsPerVector() > 1)
            e.inputTileRows(flat, v, ch, th0, rows);
          else
            e.inputTiles(flat, v, ch, th0, rows.front());
        });
  });
}

void kiln::emitWinogradOutput(OpBuilder &b, Location loc,
                              const WinogradConv &conv, int64_t vw, Value m,
                              Value c, const FusedEnds &ends, Value ocBegin,
                              Value ocEnd) {
  Emitter e(b, loc, conv, vw);
  e.forLoop(ocBegin, ocEnd, [&](Value oc) {
    Value init = e.initialValue(ends, oc);
    e.tileRowGroups(
        conv.m, [&](int64_t th) { return conv.oh - conv.m * th; },
        [&](Value th0, ArrayRef<int64_t> rows) {
          if (e.rowsPerVector() > 1)
            e.outputTileRows(m, c, ends, oc, init, th0, rows);
          else
            e.outputTiles(m, c, ends, oc, init, th0, rows.front());
        });
  });
}

void kiln::emitWinogradInputRows(OpBuilder &b, Location loc,
                                 const WinogradConv &conv, int64_t vw,
                                 Value flat, Value v, Value thBegin,
                                 Value thEnd, bool zeroBorders,
                                 bool channelsOuter, Value cBegin, Value cEnd) {
  Emitter e(b, loc, conv, vw);
  assert(e.rowsPerVector() == 1 && "one tile row a vector");
  assert(conv.stride == 1 && "blocks and spans at stride 1");
  e.tileRow0 = thBegin;
  e.zeroBorders = zeroBorders;
  // Tile row th reads padded rows m th + i, i < n; those of the image are
  // [0, oh + 2), or [1, oh + 1) when the borders are zeros.
  int64_t n = conv.side(), m = conv.m, first = zeroBorders ? 1 : 0;
  int64_t last = zeroBorders ? conv.oh : conv.oh + 1; // the last image row
  int64_t lo = zeroBorders ? 1 : 0;
  int64_t hi = std::max(lo, last - n + 1 >= 0 ? (last - n + 1) / m + 1 : 0);
  auto rowsOf = [&](int64_t th) {
    return std::make_pair(std::max<int64_t>(0, first - m * th),
                          std::min(n, last + 1 - m * th));
  };
  if (channelsOuter) {
    e.forLoop(cBegin ? cBegin : e.index(0),
              cEnd ? cEnd : e.index(conv.channels), [&](Value ch) {
                e.tileRowRange(thBegin, thEnd, lo, hi, n, rowsOf,
                               [&](Value th, int64_t firstRow, int64_t rows) {
                                 e.inputTiles(flat, v, ch, th, rows, firstRow);
                               });
              });
    return;
  }
  e.tileRowRange(thBegin, thEnd, lo, hi, n, rowsOf,
                 [&](Value th, int64_t firstRow, int64_t rows) {
                   e.forLoop(e.index(0), e.index(conv.channels), [&](Value ch) {
                     e.inputTiles(flat, v, ch, th, rows, firstRow);
                   });
                 });
}

void kiln::emitWinogradOutputRows(OpBuilder &b, Location loc,
                                  const WinogradConv &conv, int64_t vw, Value m,
                                  Value c, const FusedEnds &ends, Value thBegin,
                                  Value thEnd, Value ocBegin, Value ocEnd,
                                  bool channelsOuter, bool mAllChannels) {
  Emitter e(b, loc, conv, vw);
  assert(e.rowsPerVector() == 1 && "one tile row a vector");
  e.tileRow0 = thBegin;
  e.oc0 = mAllChannels ? Value() : ocBegin;
  auto rowsOf = [&](int64_t th) {
    return std::make_pair<int64_t, int64_t>(0, conv.oh - conv.m * th);
  };
  if (channelsOuter) {
    e.forLoop(ocBegin, ocEnd, [&](Value oc) {
      Value init = e.initialValue(ends, oc);
      e.tileRowRange(thBegin, thEnd, 0, conv.oh / conv.m, conv.m, rowsOf,
                     [&](Value th, int64_t, int64_t rows) {
                       e.outputTiles(m, c, ends, oc, init, th, rows);
                     });
    });
    return;
  }
  e.tileRowRange(thBegin, thEnd, 0, conv.oh / conv.m, conv.m, rowsOf,
                 [&](Value th, int64_t, int64_t rows) {
                   e.forLoop(ocBegin, ocEnd, [&](Value oc) {
                     e.outputTiles(m, c, ends, oc, e.initialValue(ends, oc), th,
                                   rows);
                   });
                 });
}
