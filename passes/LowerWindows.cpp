//===- LowerWindows.cpp - Vectorised depthwise convolutions and pooling ---===//
//
// This file implements kiln-lower-windows: the ops that slide a window over
// each (image, channel) plane on its own, lowered as loops, read and write
// each output row once per window element. They are
//
//   a depthwise Conv   one linalg.generic over (n, g, 1, 1, kh, kw, oh, ow)
//                      that the onnx lowering marks `kiln.depthwise` with
//                      its strides and dilations (output [N, C, 1, OH, OW]);
//   MaxPool and the    linalg.pooling_nchw_max and pooling_nchw_sum (the
//   AveragePool sum    division after is an elementwise op), and the
//                      generic of an 8-bit MaxPool (marked `kiln.max_pool`).
//
// The f32 ones (and the 8-bit max pool and depthwise conv) become, after
// bufferization, a row kernel: for each plane
// (the unit the runtime's threads share), for each output row (or block of
// `rows` output rows, each input row then read once for all of them),
// vectors of 16 outputs combine the whole window in registers (a broadcast
// weight times a vector of the input row, or the max or sum of those
// vectors) and are stored once. With stride 1 or 2 and no dilation, each input
// row's span is read once per output vector and its taps shuffled out of it
// (lanes shifted, or every second element); otherwise, and with stride 1
// and `tap-loads`, each tap is a load (and a shuffle); with stride 2 and
// `tap-loads` (8 lanes) the taps are built within 128-bit halves. The last
// vector of a row is masked; in the rows before a plane's last, whose next row
// is the same plane's, its reads are whole vectors and, with `blend-stores`,
// its store a load, a select and a store (WindowShape::rowsRunOn). A
// stride-1 f32 depthwise convolution whose output rows are at most half a
// vector wide (MobileNetV2's 7x7 planes) takes each padded plane as one
// line instead, vectors of several output rows each (flatPlanes).
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/Passes.h"
#include "passes/VectorLanes.h"
#include "passes/Windows.h"

#include <map>

namespace kiln {
#define GEN_PASS_DEF_LOWERWINDOWS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// What a window combines: weights times inputs, or the inputs' max or sum.
enum class WindowKind { Depthwise, Max, Sum };

struct WindowShape {
  WindowKind kind;
  mlir::Type et;           // f32, or the integers of a max pool
  bool isUnsigned = false; // how those compare
  // An 8-bit depthwise convolution's input: unsigned bytes, which become
  // f32 (x - zero point) as they are read; xt is then i8, and so are the
  // weights, each made f32 once per plane.
  mlir::Type xt;
  int64_t inputZeroPoint = -1;
  int64_t n, c, oh, ow, kh, kw;
  int64_t sh, sw, dh, dw;
  // A grouped convolution's output planes per group and input planes per
  // output plane (1 and 1 for a depthwise one and a pool): output plane
  // (n, g * fg + f) sums input planes (n, g * cg + k), k < cg.
  int64_t fg = 1, cg = 1;
  bool grouped() const { return fg != 1 || cg != 1; }
  // A grouped convolution's output planes made together (a divisor of fg)
  // and the rows and vectors along a row of each
  // (WindowBuilder::groupedUnits).
  int64_t blockPlanes = 1, blockRows = 1, blockVectors = 1;
  /// A grouped convolution's units: blocks of blockPlanes output planes.
  int64_t units() const { return n * c / blockPlanes; }
  int64_t vw;
  // A stride-1 window's taps each read by a load of their own rather than
  // shifted out of one read of the row (LowerWindows' tap-loads).
  bool tapLoads = false;
  // The input's row width, and whether a row end's masked store becomes a
  // blend (LowerWindows' blend-stores).
  int64_t iw;
  bool blendStores = false;
  // Output rows whose vectors are made together (LowerWindows' rows).
  int64_t rows = 1;
  /// Whether the rows of a plane before its last may read whole vectors
  /// past their ends, into the plane's next row (input rows at least a
  /// vector wide). Their stores run on only where the output row is as
  /// wide as the lanes past its end (WindowBuilder::store).
  bool rowsRunOn() const { return oh > 1 && iw >= vw; }
  /// Planes whose output rows are at most half a vector wide (7x7): a
  /// stride-1 depthwise convolution's vectors then run along the padded
  /// input plane as one line, several output rows each (see
  /// WindowBuilder::flatPlanes), where row vectors left most lanes empty.
  bool flat = false;
  /// Whether a stride-2 window's taps are built within 128-bit halves (see
  /// WindowBuilder::halvesTaps): f32 rows of 8 lanes where lane shifts
  /// across the halves are costly (tap-loads: AVX2).
  bool halvesStride2() const {
    return tapLoads && sw == 2 && dw == 1 && vw == 8 && xt.isF32();
  }
};

/// A border of the input's padding (kiln::BorderFill), written by the
/// window's kernel for its planes before it reads them.
using Border = kiln::BorderFill;

class WindowBuilder {
public:
  WindowBuilder(OpBuilder &b, Location loc, const WindowShape &s,
                const kiln::FusedEnds &ends, ArrayRef<Border> borders = {})
      : b(b), loc(loc), s(s), ends(ends), borders(borders) {}

  /// Output rows made from x's rows as if x's first row were the input's
  /// row `base` * stride: a band of the output (kiln::emitWindowBand).
  void setOutputRowBase(Value base) { outRowBase = base; }

  /// Planes (image, channel) [begin, end) of out = window(x) (with weights
  /// `w` for a depthwise conv), out holding its initial value on entry.
  void planes(Value x, Value w, Value out, Value begin, Value end) {
    // The input's padding first, for all these planes: written right before
    // its plane's rows were read, a column's element and then the vector
    // that holds it (a store the load cannot forward from) stalled each
    // row of a small plane.
    if (!borders.empty())
      fillBorders(x, begin, end);
    if (s.flat)
      return flatPlanes(x, w, out, begin, end);
    if (s.grouped())
      return groupedUnits(x, w, out, begin, end);
    forLoop(begin, end, [&](Value plane) {
      Value ni = b.create<arith::DivSIOp>(loc, plane, index(s.c));
      Value ci = b.create<arith::RemSIOp>(loc, plane, index(s.c));
      SmallVector<Value> taps;
      Value start;
      if (ends.hasInit())
        start = b.create<vector::BroadcastOp>(loc, vecType(),
                                              ends.initialValue(b, loc, plane));
      // An 8-bit input's zero point comes out of the sum once per plane:
      // sum(w * (x - zp)) = sum(w * x) - zp * sum(w), exact in f32 (every
      // partial sum an integer below 2^24: the onnx lowering checks
      // |bias| + 2 * taps * 255 * 128 against it).
      Value weightSum;
      if (s.kind == WindowKind::Depthwise)
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            Value t = weight(w, ci, i, j);
            if (s.inputZeroPoint >= 0) // 8-bit weights
              weightSum =
                  weightSum ? b.create<arith::AddFOp>(loc, weightSum, t) : t;
            taps.push_back(b.create<vector::BroadcastOp>(loc, vecType(), t));
          }
      Value shift;
      if (weightSum)
        shift = b.create<vector::BroadcastOp>(
            loc, vecType(),
            b.create<arith::MulFOp>(
                loc, weightSum,
                b.create<arith::ConstantOp>(
                    loc, b.getF32FloatAttr(-float(s.inputZeroPoint)))));
      if (start && shift) {
        start = b.create<arith::AddFOp>(loc, start, shift);
        shift = nullptr;
      }
      // Output rows [oh, oh + count), a vector of each at a time.
      auto rows = [&](Value oh, int64_t count) {
        int64_t full = s.ow / s.vw;
        if (full > 0)
          forLoop(index(0), index(full), [&](Value v) {
            Value ow0 = b.create<arith::MulIOp>(loc, v, index(s.vw));
            vectorOfRows(x, out, start, shift, taps, ni, ci, oh, count, ow0,
                         s.vw);
          });
        if (s.ow % s.vw)
          vectorOfRows(x, out, start, shift, taps, ni, ci, oh, count,
                       index(full * s.vw), s.ow % s.vw);
      };
      // Rows [0, n) in blocks of s.rows, the last block smaller.
      auto rowBlocks = [&](int64_t n) {
        int64_t blocks = n / s.rows, rest = n % s.rows;
        if (blocks > 0)
          forLoop(index(0), index(blocks), [&](Value blk) {
            rows(b.create<arith::MulIOp>(loc, blk, index(s.rows)), s.rows);
          });
        if (rest > 0)
          rows(index(blocks * s.rows), rest);
      };
      if (!s.rowsRunOn())
        return rowBlocks(s.oh);
      // The rows before the plane's last read each input row's span as
      // whole vectors, the lanes past its end from the plane's next input
      // row (never used), not as masked loads; and where masked stores are
      // slow, store a row end as a blend with what its vector holds past
      // the row: the plane's next output row, which this thread writes
      // later (the threads share whole planes). The last row, whose next
      // may be another plane's or past the buffer, stays masked.
      // MobileNetV2's 28-, 14- and 7-wide planes on an AVX2 EPYC: their
      // depthwise convolutions about a fifth faster.
      runOn = true;
      rowBlocks(s.oh - 1);
      runOn = false;
      rows(index(s.oh - 1), 1);
    });
  }

private:
  /// planes() for WindowShape::flat: a stride-1 depthwise convolution
  /// whose padded input plane (iw wide) is contiguous. Output (r, c) is
  /// element r * iw + c of the plane taken as one line, and its window's
  /// tap (i, j) the line's element r * iw + c + i * iw + j: vectors of
  /// vw consecutive such elements read each tap with one load (no
  /// shuffles) and keep ow of every iw lanes, where a row's vector kept ow
  /// of vw (MobileNetV2's 7x7 planes: 4 vectors of 9 FMAs a plane, not 7).
  /// Each vector's lanes of output row r go to the output's element
  /// r * ow + c, one masked store per row the vector touches; the masks
  /// are constants. The output starts from the fused initializer.
  void flatPlanes(Value x, Value w, Value out, Value begin, Value end) {
    Value xf = kiln::flatten(b, loc, x);
    Value of =
        kiln::flatten(b, loc, ends.hasEpilogue() ? ends.resultView() : out);
    int64_t ih = cast<MemRefType>(x.getType()).getDimSize(2);
    int64_t span = (s.oh - 1) * s.iw + s.ow;
    kiln::VectorLanes vl(b, loc, s.vw, s.xt);
    forLoop(begin, end, [&](Value plane) {
      Value ci = b.create<arith::RemSIOp>(loc, plane, index(s.c));
      SmallVector<Value> taps;
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j)
          taps.push_back(b.create<vector::BroadcastOp>(loc, vecType(),
                                                       weight(w, ci, i, j)));
      Value start = b.create<vector::BroadcastOp>(
          loc, vecType(), ends.initialValue(b, loc, plane));
      Value in = b.create<arith::MulIOp>(loc, plane, index(ih * s.iw));
      Value outBase = b.create<arith::MulIOp>(loc, plane, index(s.oh * s.ow));
      for (int64_t o0 = 0; o0 < span; o0 += s.vw) {
        int64_t lanes = std::min(s.vw, span - o0);
        Value acc = start;
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            Value at =
                b.create<arith::AddIOp>(loc, in, index(o0 + i * s.iw + j));
            acc = b.create<vector::FMAOp>(loc, taps[i * s.kw + j],
                                          vl.load(xf, at, lanes), acc);
          }
        if (ends.hasEpilogue())
          acc = ends.apply(b, loc, acc, {});
        for (int64_t r = o0 / s.iw; r <= (o0 + lanes - 1) / s.iw; ++r) {
          // Lane l lands on o0 + l - r * (iw - ow) of the plane's output;
          // where that puts lane 0 before the plane, the lanes move down
          // by as many first, so that no store starts before the buffer.
          int64_t at = o0 - r * (s.iw - s.ow), down = std::max<int64_t>(-at, 0);
          SmallVector<bool> mask(s.vw, false);
          SmallVector<int64_t> ids;
          bool any = false;
          for (int64_t l = 0; l < s.vw; ++l) {
            int64_t from = l + down; // the lane that goes to lane l
            ids.push_back(std::min(from, s.vw - 1));
            if (from < lanes && (o0 + from) / s.iw == r &&
                (o0 + from) % s.iw < s.ow)
              mask[l] = any = true;
          }
          if (!any)
            continue;
          auto maskType = VectorType::get({s.vw}, b.getI1Type());
          Value m = b.create<arith::ConstantOp>(
              loc, maskType, DenseElementsAttr::get(maskType, mask));
          Value v =
              down ? b.create<vector::ShuffleOp>(loc, acc, acc, ids) : acc;
          b.create<vector::MaskedStoreOp>(loc, of,
                                          ValueRange{b.create<arith::AddIOp>(
                                              loc, outBase, index(at + down))},
                                          m, v);
        }
      }
    });
  }

  /// Units [begin, end) of a grouped convolution (WindowShape::grouped):
  /// unit u is output planes [F * (u % (c / F)), + F) of image u / (c / F),
  /// F = blockPlanes, all of one group. For each block of blockRows output
  /// rows and of blockVectors vectors along them, the sums stay in
  /// registers over the group's cg input planes (an scf.for): each tap read
  /// is used by the F planes, each weight broadcast by the block's rows and
  /// vectors, and neither lives past its window element (kept for the
  /// block's rows, they spilled). A GEMM per group of fg rows and
  /// cg * kh * kw columns, looped over the groups with an im2col copy each,
  /// ran ResNeXt's 32 groups of 4 channels at a sixth of the peak.
  void groupedUnits(Value x, Value w, Value out, Value begin, Value end) {
    int64_t planes = s.c / s.blockPlanes;
    // The row's vectors in blocks: the full blocks of whole vectors (a
    // loop), then what is left, the last vector maybe partial.
    int64_t vectors = (s.ow + s.vw - 1) / s.vw;
    int64_t fullBlocks = (s.ow / s.vw) / s.blockVectors;
    SmallVector<int64_t> rest; // the lanes of each vector after them
    for (int64_t v = fullBlocks * s.blockVectors; v < vectors; ++v)
      rest.push_back(std::min(s.vw, s.ow - v * s.vw));
    forLoop(begin, end, [&](Value unit) {
      Value ni = b.create<arith::DivSIOp>(loc, unit, index(planes));
      Value ci0 = b.create<arith::MulIOp>(
          loc, b.create<arith::RemSIOp>(loc, unit, index(planes)),
          index(s.blockPlanes));
      Value gi = b.create<arith::DivSIOp>(loc, ci0, index(s.fg));
      Value fi0 = b.create<arith::RemSIOp>(loc, ci0, index(s.fg));
      SmallVector<Value> fis, starts;
      for (int64_t f = 0; f < s.blockPlanes; ++f) {
        fis.push_back(b.create<arith::AddIOp>(loc, fi0, index(f)));
        if (ends.hasInit()) {
          Value plane = b.create<arith::AddIOp>(
              loc, b.create<arith::MulIOp>(loc, ni, index(s.c)),
              b.create<arith::AddIOp>(loc, ci0, index(f)));
          starts.push_back(b.create<vector::BroadcastOp>(
              loc, vecType(), ends.initialValue(b, loc, plane)));
        }
      }
      Value firstInput = b.create<arith::MulIOp>(loc, gi, index(s.cg));
      // Output rows [oh0, oh0 + count), blocks of vectors along them.
      auto rows = [&](Value oh0, int64_t count) {
        auto block = [&](Value ow0, ArrayRef<int64_t> lanes) {
          groupedBlock(x, w, out, starts, ni, gi, fis, firstInput, oh0, count,
                       ow0, lanes);
        };
        if (fullBlocks > 0)
          forLoop(index(0), index(fullBlocks), [&](Value blk) {
            block(
                b.create<arith::MulIOp>(loc, blk, index(s.blockVectors * s.vw)),
                SmallVector<int64_t>(s.blockVectors, s.vw));
          });
        for (size_t v = 0; v < rest.size(); v += s.blockVectors)
          block(index((fullBlocks * s.blockVectors + v) * s.vw),
                ArrayRef(rest).slice(
                    v, std::min<size_t>(s.blockVectors, rest.size() - v)));
      };
      // Blocks of blockRows rows, the last one shorter. Where rows may run
      // on (WindowShape::rowsRunOn), the blocks before the one holding the
      // plane's last row read whole vectors past their rows' ends (their
      // input rows all have a next row in the plane), not masked ones.
      bool runsOn = s.rowsRunOn();
      int64_t blocks = (runsOn ? s.oh - 1 : s.oh) / s.blockRows;
      runOn = runsOn;
      if (blocks > 0)
        forLoop(index(0), index(blocks), [&](Value blk) {
          rows(b.create<arith::MulIOp>(loc, blk, index(s.blockRows)),
               s.blockRows);
        });
      runOn = false;
      for (int64_t r = blocks * s.blockRows; r < s.oh; r += s.blockRows)
        rows(index(r), std::min(s.blockRows, s.oh - r));
    });
  }

  /// Vectors of output rows [oh0, oh0 + nr) of planes (ni, gi, fis), from
  /// ow0 on, of `lanes` lanes each, from `starts` (the fused initializer's
  /// values) or else the output's contents, summed over input planes
  /// firstInput + k, k < cg.
  void groupedBlock(Value x, Value w, Value out, ArrayRef<Value> starts,
                    Value ni, Value gi, ArrayRef<Value> fis, Value firstInput,
                    Value oh0, int64_t nr, Value ow0, ArrayRef<int64_t> lanes) {
    int64_t nf = fis.size(), nv = lanes.size();
    // With halvesTaps the lanes go in kHalvesOrder until the sums are done.
    bool halves = s.halvesStride2();
    auto at = [&](int64_t f, int64_t r, int64_t v) {
      return (f * nr + r) * nv + v;
    };
    SmallVector<SmallVector<Value>> outIdx; // [at(f, r, v)]
    SmallVector<Value> acc;
    for (int64_t f = 0; f < nf; ++f)
      for (int64_t r = 0; r < nr; ++r)
        for (int64_t v = 0; v < nv; ++v) {
          outIdx.push_back(
              {ni, gi, fis[f], b.create<arith::AddIOp>(loc, oh0, index(r)),
               b.create<arith::AddIOp>(loc, ow0, index(v * s.vw))});
          acc.push_back(
              starts.empty()
                  ? inHalves(load(out, outIdx.back(), lanes[v]), halves)
                  : starts[f]);
        }
    Value ohs = b.create<arith::MulIOp>(loc, oh0, index(s.sh));
    Value ows = b.create<arith::MulIOp>(loc, ow0, index(s.sw));
    // Stride 1 reads each tap with a load of its own right before its use,
    // on every target: taps shifted out of one read of each (row, vector)
    // are all live at once (12 for 2 rows of 2 vectors), which with
    // AVX-512's 16 sums spilled 56 vectors a step of the input planes.
    bool oneRead = s.sw == 2 && s.dw == 1 && s.kw <= s.vw;
    auto loop = b.create<scf::ForOp>(
        loc, index(0), index(s.cg), index(1), acc,
        [&](OpBuilder &nested, Location, Value k, ValueRange args) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          SmallVector<Value> sums(args);
          Value ci = b.create<arith::AddIOp>(loc, firstInput, k);
          for (int64_t i = 0; i < s.kh; ++i) {
            // Each (row, vector)'s taps of window row i: from one read of
            // its span, or each its own right before its use (a tap that an
            // earlier window row read is the same value).
            SmallVector<Value> ihs;
            SmallVector<SmallVector<Value>> rowOf(nr * nv);
            for (int64_t r = 0; r < nr; ++r) {
              ihs.push_back(b.create<arith::AddIOp>(
                  loc, ohs, index(r * s.sh + i * s.dh)));
              for (int64_t v = 0; v < nv && oneRead; ++v) {
                Value iw0 =
                    b.create<arith::AddIOp>(loc, ows, index(v * s.vw * s.sw));
                rowOf[r * nv + v] =
                    halves ? halvesTaps(x, ni, ci, ihs[r], iw0, lanes[v])
                           : rowTaps(x, ni, ci, ihs[r], iw0, lanes[v]);
              }
            }
            for (int64_t j = 0; j < s.kw; ++j) {
              SmallVector<Value> taps;
              for (int64_t r = 0; r < nr; ++r)
                for (int64_t v = 0; v < nv; ++v)
                  taps.push_back(
                      oneRead
                          ? rowOf[r * nv + v][j]
                          : inputVector(x, ni, ci, ihs[r],
                                        b.create<arith::AddIOp>(
                                            loc, ows,
                                            index(v * s.vw * s.sw + j * s.dw)),
                                        lanes[v]));
              for (int64_t f = 0; f < nf; ++f) {
                Value wv = b.create<vector::BroadcastOp>(
                    loc, vecType(), weight(w, gi, fis[f], k, i, j));
                for (int64_t r = 0; r < nr; ++r)
                  for (int64_t v = 0; v < nv; ++v)
                    sums[at(f, r, v)] = b.create<vector::FMAOp>(
                        loc, wv, taps[r * nv + v], sums[at(f, r, v)]);
              }
            }
          }
          b.create<scf::YieldOp>(loc, sums);
        });
    for (auto [i, a] : llvm::enumerate(loop.getResults()))
      finish(inHalves(a, halves), out, outIdx[i],
             lanes[i % nv]); // i is at(f, r, v)
  }

  /// Stores the finished vector `a` of `lanes` lanes at out[idx], through
  /// the fused epilogue (and into its result) when there is one.
  void finish(Value a, Value out, ArrayRef<Value> idx, int64_t lanes) {
    Value result = out;
    if (ends.hasEpilogue()) {
      SmallVector<Value> others;
      for (unsigned i = 0; i < ends.otherViews().size(); ++i)
        others.push_back(ends.loadOther(b, loc, i, idx, lanes, s.vw));
      a = ends.apply(b, loc, a, others);
      result = ends.resultView();
    }
    store(a, result, idx, lanes);
  }

  /// A grouped convolution's weight (i, j) of output plane fi of group gi
  /// for its input plane k, of the weights' own type.
  Value weight(Value w, Value gi, Value fi, Value k, int64_t i, int64_t j) {
    return b.create<memref::LoadOp>(loc, w,
                                    ValueRange{gi, fi, k, index(i), index(j)});
  }

  /// A depthwise convolution's weight (i, j) of channel `ci`, as f32 (an
  /// 8-bit one converted).
  Value weight(Value w, Value ci, int64_t i, int64_t j) {
    Value zero = index(0);
    Value t = weight(w, ci, zero, zero, i, j);
    if (s.inputZeroPoint >= 0)
      t = b.create<arith::SIToFPOp>(loc, b.getF32Type(), t);
    return t;
  }

  /// Writes the borders of planes [begin, end) of x. A pad's left and right
  /// columns go together: the right one's element of row r and the left
  /// one's of row r + 1 are neighbours, one store of two.
  void fillBorders(Value x, Value begin, Value end) {
    auto xt = cast<MemRefType>(x.getType());
    int64_t height = xt.getDimSize(2), width = xt.getDimSize(3);
    const Border *left = nullptr, *right = nullptr;
    for (const Border &border : borders)
      if (border.cols == 1 && border.col == 0)
        left = &border;
      else if (border.cols == 1 && border.col == width - 1)
        right = &border;
    if (!(left && right && left->row == right->row &&
          left->rows == right->rows && left->rows <= kMaxUnrolledColumn &&
          xt.getLayout().isIdentity()))
      left = right = nullptr;
    Value flat;
    if (left)
      flat = kiln::flatten(b, loc, x);
    forLoop(begin, end, [&](Value plane) {
      Value ni = b.create<arith::DivSIOp>(loc, plane, index(s.c));
      Value ci = b.create<arith::RemSIOp>(loc, plane, index(s.c));
      for (const Border &border : borders)
        if (&border != left && &border != right)
          fillBorder(x, ni, ci, border);
      if (!left)
        return;
      Value value = b.create<arith::ConstantOp>(loc, left->value);
      int64_t last = left->row + left->rows - 1;
      b.create<memref::StoreOp>(loc, value, x,
                                ValueRange{ni, ci, index(left->row), index(0)});
      b.create<memref::StoreOp>(
          loc, value, x, ValueRange{ni, ci, index(last), index(width - 1)});
      Value two =
          b.create<vector::BroadcastOp>(loc, VectorType::get({2}, s.xt), value);
      Value base = b.create<arith::MulIOp>(loc, plane, index(height * width));
      for (int64_t r = left->row; r < last; ++r)
        b.create<vector::StoreOp>(
            loc, two, flat,
            ValueRange{b.create<arith::AddIOp>(loc, base,
                                               index(r * width + width - 1))});
    });
  }

  /// Writes `border` of plane (ni, ci) of x: a row in vectors, a column
  /// element by element, unrolled (LLVM makes a loop of such stores a
  /// scatter, vscatterdps, far slower than the stores).
  void fillBorder(Value x, Value ni, Value ci, const Border &border) {
    Value value = b.create<arith::ConstantOp>(loc, border.value);
    if (border.cols == 1) {
      auto store = [&](Value r) {
        b.create<memref::StoreOp>(loc, value, x,
                                  ValueRange{ni, ci, r, index(border.col)});
      };
      if (border.rows > kMaxUnrolledColumn)
        return forLoop(index(border.row), index(border.row + border.rows),
                       store);
      for (int64_t r = 0; r < border.rows; ++r)
        store(index(border.row + r));
      return;
    }
    kiln::VectorLanes lanes(b, loc, s.vw, s.xt);
    Value splat = b.create<vector::BroadcastOp>(
        loc, VectorType::get({s.vw}, s.xt), value);
    forLoop(index(border.row), index(border.row + border.rows), [&](Value r) {
      for (int64_t c = 0; c < border.cols; c += s.vw)
        lanes.store(splat, x, {ni, ci, r, index(border.col + c)},
                    std::min(s.vw, border.cols - c));
    });
  }

  /// The tallest padding column written as one store per row.
  static constexpr int64_t kMaxUnrolledColumn = 256;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  VectorType vecType(int64_t lanes = 0) {
    return VectorType::get({lanes ? lanes : s.vw}, s.et);
  }

  void forLoop(Value lb, Value ub, function_ref<void(Value)> body) {
    auto loop = b.create<scf::ForOp>(loc, lb, ub, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  // Vector accesses of a row end's valid lanes (VectorLanes.h).
  Value zeros() { return kiln::VectorLanes(b, loc, s.vw, s.et).zeros(); }
  Value load(Value mem, ValueRange indices, int64_t lanes) {
    return kiln::VectorLanes(b, loc, s.vw, s.et).load(mem, indices, lanes);
  }
  void store(Value v, Value mem, ValueRange indices, int64_t lanes) {
    // The value's own type: an epilogue may have made it another (a
    // requantized output's bytes).
    kiln::VectorLanes vl(b, loc, s.vw,
                         cast<VectorType>(v.getType()).getElementType());
    if (runOn && s.blendStores && lanes < s.vw && s.vw - lanes <= s.ow)
      return vl.blendStore(v, mem, indices, vl.mask(lanes));
    vl.store(v, mem, indices, lanes);
  }

  /// The lanes an input row's load reads: the valid ones, or in a row
  /// before the plane's last (runOn) a whole vector.
  int64_t readLanes(int64_t valid) const {
    return runOn && valid > 0 ? s.vw : valid;
  }

  /// x[n, c, ih, iw0 + sw * lane] for lane < lanes (8-bit ones as f32;
  /// planes() takes their zero point out of the sum).
  Value inputVector(Value x, Value ni, Value ci, Value ih, Value iw0,
                    int64_t lanes) {
    Value v = inputElements(x, ni, ci, ih, iw0, lanes);
    if (s.inputZeroPoint < 0)
      return v;
    return b.create<arith::UIToFPOp>(loc, vecType(), v);
  }

  /// The elements of inputVector, of x's own type.
  Value inputElements(Value x, Value ni, Value ci, Value ih, Value iw0,
                      int64_t lanes) {
    kiln::VectorLanes in(b, loc, s.vw, s.xt);
    auto load = [&](Value mem, ValueRange indices, int64_t n) {
      return in.load(mem, indices, readLanes(n));
    };
    auto zeros = [&] { return in.zeros(); };
    if (s.sw == 1)
      return load(x, {ni, ci, ih, iw0}, lanes);
    // Read the span the lanes cover and keep every sw-th element.
    int64_t span = s.sw * (lanes - 1) + 1;
    int64_t parts = (s.sw * s.vw + s.vw - 1) / s.vw;
    SmallVector<Value> pieces;
    for (int64_t p = 0; p < parts; ++p) {
      int64_t valid = std::clamp<int64_t>(span - p * s.vw, 0, s.vw);
      Value iw = b.create<arith::AddIOp>(loc, iw0, index(p * s.vw));
      pieces.push_back(valid ? load(x, {ni, ci, ih, iw}, valid) : zeros());
    }
    // Shuffle pairs together until one vector holds the picked lanes.
    Value all = pieces[0];
    int64_t width = s.vw;
    for (int64_t p = 1; p < parts; ++p) {
      SmallVector<int64_t> ids;
      for (int64_t i = 0; i < width + s.vw; ++i)
        ids.push_back(i);
      all = b.create<vector::ShuffleOp>(loc, all, pieces[p], ids);
      width += s.vw;
    }
    SmallVector<int64_t> picked;
    for (int64_t i = 0; i < s.vw; ++i)
      picked.push_back(i * s.sw);
    return b.create<vector::ShuffleOp>(loc, all, all, picked);
  }

  /// The kw vectors x[n, c, ih, iw0 + sw * lane + j] (j < kw) of a stride-1
  /// or stride-2 window with no dilation, from one read of the row's span:
  /// with stride 1, tap j is lanes j, j + 1, ... of its first two vectors
  /// (a lane shift, where loads from iw0 + j would each cross a cache
  /// line); with stride 2, the even and odd elements of its first two
  /// vectors are taps 0 and 1, and tap j those of tap j % 2 moved down
  /// j / 2 lanes, the last lanes from a third vector (each tap read and
  /// shuffled its own two vectors before).
  SmallVector<Value> rowTaps(Value x, Value ni, Value ci, Value ih, Value iw0,
                             int64_t lanes) {
    kiln::VectorLanes in(b, loc, s.vw, s.xt);
    // The row's elements these lanes read: up to sw (lanes - 1) + kw - 1.
    int64_t span = s.sw * (lanes - 1) + s.kw;
    SmallVector<Value> pieces;
    for (int64_t p = 0; p <= s.sw; ++p) {
      Value iw = b.create<arith::AddIOp>(loc, iw0, index(p * s.vw));
      pieces.push_back(
          in.load(x, {ni, ci, ih, iw},
                  readLanes(std::clamp<int64_t>(span - p * s.vw, 0, s.vw))));
    }
    auto shuffle = [&](Value a, Value c, function_ref<int64_t(int64_t)> id) {
      SmallVector<int64_t> ids;
      for (int64_t l = 0; l < s.vw; ++l)
        ids.push_back(id(l));
      return b.create<vector::ShuffleOp>(loc, a, c, ids).getResult();
    };
    SmallVector<Value> taps;
    for (int64_t j = 0; j < s.kw; ++j) {
      Value v;
      if (s.sw == 1)
        v = j == 0 ? pieces[0] : shuffle(pieces[0], pieces[1], [&](int64_t l) {
          return l + j;
        });
      else if (j < 2)
        v = shuffle(pieces[0], pieces[1], [&](int64_t l) { return j + 2 * l; });
      else
        v = shuffle(taps[j % 2], pieces[2], [&](int64_t l) {
          return l + j / 2 < s.vw ? l + j / 2 : j + 2 * l - s.vw;
        });
      taps.push_back(v);
    }
    if (s.inputZeroPoint >= 0)
      for (Value &v : taps)
        v = b.create<arith::UIToFPOp>(loc, vecType(), v);
    return taps;
  }

  /// The order of the lanes of halvesTaps' vectors: lane i holds output
  /// lane kHalvesOrder[i] (an involution: the same shuffle puts them back).
  static constexpr int64_t kHalvesOrder[8] = {0, 1, 4, 5, 2, 3, 6, 7};

  /// The kw vectors of a stride-2 window's row (halvesStride2), their
  /// lanes in kHalvesOrder: taps j and j + 1 (j even) are the even and odd
  /// elements of the pair of vectors read at iw0 + j and iw0 + j + 8, each
  /// one vshufps within the 128-bit halves (lanes 0, 2 of either vector,
  /// then 4, 6), rather than rowTaps' shuffles across them (a vperm2f128
  /// or vpermpd more per tap, and two more for the taps moved down a
  /// lane). The accumulators take the same order; vectorOfRow puts it back
  /// once per output vector.
  SmallVector<Value> halvesTaps(Value x, Value ni, Value ci, Value ih,
                                Value iw0, int64_t lanes) {
    kiln::VectorLanes in(b, loc, s.vw, s.xt);
    SmallVector<Value> taps;
    for (int64_t j = 0; j < s.kw; j += 2) {
      // Elements from iw0 + j that lanes [0, lanes) of taps j and j + 1 use.
      int64_t need = 2 * (lanes - 1) + (j + 1 < s.kw ? 2 : 1);
      SmallVector<Value> pair;
      for (int64_t p = 0; p < 2; ++p) {
        int64_t valid = std::clamp<int64_t>(need - p * s.vw, 0, s.vw);
        Value iw = b.create<arith::AddIOp>(loc, iw0, index(j + p * s.vw));
        pair.push_back(valid ? in.load(x, {ni, ci, ih, iw}, readLanes(valid))
                             : in.zeros());
      }
      for (int64_t odd = 0; odd < 2 && j + odd < s.kw; ++odd) {
        SmallVector<int64_t> ids;
        for (int64_t l : kHalvesOrder)
          ids.push_back(2 * l + odd); // of the pair, one after the other
        taps.push_back(b.create<vector::ShuffleOp>(loc, pair[0], pair[1], ids));
      }
    }
    return taps;
  }

  /// `v`'s lanes from or into kHalvesOrder.
  Value reorderHalves(Value v) {
    return b.create<vector::ShuffleOp>(loc, v, v, kHalvesOrder);
  }
  Value inHalves(Value v, bool halves) { return halves ? reorderHalves(v) : v; }

  /// The max of `acc` and `values`, f32: a tree of plain maxes (no NaN,
  /// either zero for -0 against +0: one maxps each), then NaN in the lanes
  /// where any value is NaN, found a pair of values per test (unordered:
  /// either is NaN). arith.maximumf's chain kept NaN and ordered the zeros
  /// at every step: a test for each, and the window's values one after
  /// another.
  Value floatMax(Value acc, ArrayRef<Value> window) {
    SmallVector<Value> values{acc};
    llvm::append_range(values, window);
    Value nan;
    for (size_t i = 0; i < values.size(); i += 2) {
      Value other = values[std::min(i + 1, values.size() - 1)];
      Value unordered = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO,
                                                values[i], other);
      nan = nan ? b.create<arith::OrIOp>(loc, nan, unordered) : unordered;
    }
    auto flags = arith::FastMathFlags::nnan | arith::FastMathFlags::nsz;
    while (values.size() > 1) {
      SmallVector<Value> next;
      for (size_t i = 0; i + 1 < values.size(); i += 2)
        next.push_back(
            b.create<arith::MaximumFOp>(loc, values[i], values[i + 1], flags));
      if (values.size() % 2)
        next.push_back(values.back());
      values = next;
    }
    auto type = vecType();
    Value nans = b.create<arith::ConstantOp>(
        loc, type,
        DenseElementsAttr::get(
            type, APFloat::getNaN(cast<FloatType>(s.et).getFloatSemantics())));
    return b.create<arith::SelectOp>(loc, nan, nans, values.front());
  }

  /// One vector of each of output rows [oh0, oh0 + count), starting from
  /// `start` (the fused initializer's value) or else the output's contents,
  /// plus `shift` when given. An input row that several of the rows' windows
  /// take is read (and its taps shuffled out) once for all of them: a 3x3
  /// stride-1 window's 4 rows read 6 input rows, not 12, and their 4
  /// accumulator chains run side by side.
  void vectorOfRows(Value x, Value out, Value start, Value shift,
                    ArrayRef<Value> taps, Value ni, Value ci, Value oh0,
                    int64_t count, Value ow0, int64_t lanes) {
    // With halvesTaps the lanes go in kHalvesOrder until the window is done.
    bool halves = s.halvesStride2();
    SmallVector<SmallVector<Value>> outIdx;
    SmallVector<Value> acc;
    for (int64_t r = 0; r < count; ++r) {
      Value oh = b.create<arith::AddIOp>(loc, oh0, index(r));
      if (outRowBase)
        oh = b.create<arith::AddIOp>(loc, oh, outRowBase);
      outIdx.push_back({ni, ci, oh, ow0});
      if (s.kind == WindowKind::Depthwise)
        outIdx.back().insert(outIdx.back().begin() + 2, index(0));
      Value a = start ? start : load(out, outIdx.back(), lanes);
      if (halves && !start)
        a = reorderHalves(a);
      if (shift)
        a = b.create<arith::AddFOp>(loc, a, shift);
      acc.push_back(a);
    }
    Value ohs = b.create<arith::MulIOp>(loc, oh0, index(s.sh));
    Value ows = b.create<arith::MulIOp>(loc, ow0, index(s.sw));
    bool oneRead =
        ((s.sw == 1 && !s.tapLoads) || s.sw == 2) && s.dw == 1 && s.kw <= s.vw;
    // The window rows (r, i) that each input row (at ohs + offset) feeds.
    std::map<int64_t, SmallVector<std::pair<int64_t, int64_t>>> feeds;
    for (int64_t r = 0; r < count; ++r)
      for (int64_t i = 0; i < s.kh; ++i)
        feeds[r * s.sh + i * s.dh].push_back({r, i});
    // An f32 max's values, for floatMax.
    SmallVector<SmallVector<Value>> window(count);
    for (auto &[offset, uses] : feeds) {
      Value ih = b.create<arith::AddIOp>(loc, ohs, index(offset));
      // The row's kw taps: from one read, or each its own.
      SmallVector<Value> row;
      if (halves)
        row = halvesTaps(x, ni, ci, ih, ows, lanes);
      else if (oneRead)
        row = rowTaps(x, ni, ci, ih, ows, lanes);
      else
        for (int64_t j = 0; j < s.kw; ++j) {
          Value iw = b.create<arith::AddIOp>(loc, ows, index(j * s.dw));
          row.push_back(inputVector(x, ni, ci, ih, iw, lanes));
        }
      for (auto [r, i] : uses)
        for (int64_t j = 0; j < s.kw; ++j) {
          Value xv = row[j];
          Value &a = acc[r];
          switch (s.kind) {
          case WindowKind::Depthwise:
            a = b.create<vector::FMAOp>(loc, taps[i * s.kw + j], xv, a);
            break;
          case WindowKind::Max:
            if (isa<FloatType>(s.et))
              window[r].push_back(xv);
            else if (s.isUnsigned)
              a = b.create<arith::MaxUIOp>(loc, a, xv);
            else
              a = b.create<arith::MaxSIOp>(loc, a, xv);
            break;
          case WindowKind::Sum:
            a = b.create<arith::AddFOp>(loc, a, xv);
            break;
          }
        }
    }
    for (int64_t r = 0; r < count; ++r) {
      Value a = acc[r];
      if (!window[r].empty())
        a = floatMax(a, window[r]);
      if (halves)
        a = reorderHalves(a);
      finish(a, out, outIdx[r], lanes);
    }
  }

  OpBuilder &b;
  Location loc;
  const WindowShape &s;
  const kiln::FusedEnds &ends;
  // Emitting a row before its plane's last (WindowShape::rowsRunOn).
  bool runOn = false;
  // Added to the output's row index (setOutputRowBase).
  Value outRowBase;
  ArrayRef<Border> borders;
};

/// A window op's shape (LowerWindowsPass::shapeOf), or nothing when it
/// stays as it is.
std::optional<WindowShape> windowShape(linalg::LinalgOp op, int64_t vectorWidth,
                                       bool tapLoads, bool blendStores,
                                       int64_t rows) {
  Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
        out = op.getDpsInits()[0];
  auto xt = cast<MemRefType>(x.getType()), wt = cast<MemRefType>(w.getType()),
       ot = cast<MemRefType>(out.getType());
  auto depthwiseParams =
      op->getAttrOfType<DenseI64ArrayAttr>(kiln::kDepthwiseAttr);
  bool depthwise = (bool)depthwiseParams;
  // An 8-bit depthwise convolution says its input's zero point.
  bool byteInput = depthwise && depthwiseParams.size() == 5;
  auto bytePool = op->getAttrOfType<DenseI64ArrayAttr>(kiln::kMaxPoolAttr);
  Type byteType = IntegerType::get(op->getContext(), 8);
  int64_t outRank = depthwise ? 5 : 4, windowRank = depthwise ? 5 : 2;
  Type et = ot.getElementType();
  if (xt.getRank() != 4 || wt.getRank() != windowRank ||
      ot.getRank() != outRank || !xt.hasStaticShape() || !wt.hasStaticShape() ||
      !ot.hasStaticShape() ||
      xt.getElementType() != (byteInput ? byteType : et) ||
      wt.getElementType() != (byteInput ? byteType : et) ||
      !(bytePool ? et.isInteger(8) : et.isF32()) ||
      !kiln::hasUnitInnerStride(xt) || !kiln::hasUnitInnerStride(ot))
    return std::nullopt;
  WindowShape s;
  s.et = et;
  s.xt = xt.getElementType();
  s.n = ot.getDimSize(0);
  s.c = ot.getDimSize(1);
  s.oh = ot.getDimSize(outRank - 2);
  s.ow = ot.getDimSize(outRank - 1);
  s.kh = wt.getDimSize(windowRank - 2);
  s.kw = wt.getDimSize(windowRank - 1);
  s.vw = vectorWidth;
  s.tapLoads = tapLoads;
  s.iw = xt.getDimSize(3);
  s.blendStores = blendStores;
  // A window of at most 3x3: its weights (or a max's values) and the
  // rows' accumulators stay in registers.
  s.rows = s.kh * s.kw <= 9 ? std::max<int64_t>(rows, 1) : 1;
  if (depthwise) {
    // Weights [g, fg, cg, kh, kw], output [n, g, fg, oh, ow]: a depthwise
    // convolution's fg and cg are 1.
    s.fg = wt.getDimSize(1);
    s.cg = wt.getDimSize(2);
    if (depthwiseParams.size() < 4 || ot.getDimSize(2) != s.fg ||
        wt.getDimSize(0) != ot.getDimSize(1) ||
        xt.getDimSize(1) != ot.getDimSize(1) * s.cg ||
        (byteInput && s.grouped()))
      return std::nullopt;
    ArrayRef<int64_t> p = depthwiseParams.asArrayRef();
    s.kind = WindowKind::Depthwise;
    s.sh = p[0], s.sw = p[1], s.dh = p[2], s.dw = p[3];
    if (byteInput)
      s.inputZeroPoint = p[4];
    if (s.grouped()) {
      s.c = ot.getDimSize(1) * s.fg;
      // About half the vector registers as accumulators: 8 of AVX2's 16,
      // 16 of AVX-512's 32; up to 4 planes, 2 rows, then vectors along the
      // row. A stride-2 window's taps come out of one read of each (row,
      // vector) and are all live at once: with AVX-512 8 sums, not 16
      // (which spilled 18-28 vectors a step of the input planes).
      int64_t accumulators = vectorWidth >= 16 && s.sw == 1 ? 16 : 8;
      while (s.blockPlanes < 4 && s.fg % (2 * s.blockPlanes) == 0)
        s.blockPlanes *= 2;
      s.blockRows = std::min<int64_t>(s.oh, 2);
      int64_t vectors = (s.ow + vectorWidth - 1) / vectorWidth;
      s.blockVectors = std::clamp<int64_t>(
          accumulators / (s.blockPlanes * s.blockRows), 1, vectors);
    }
  } else if (bytePool) {
    // The body: arith.maxui or arith.maxsi of the input and the output.
    Block &body = *op.getBlock();
    Operation *max = &body.front();
    if (bytePool.size() != 4 || !isa<arith::MaxUIOp, arith::MaxSIOp>(max) ||
        body.getOperations().size() != 2)
      return std::nullopt;
    ArrayRef<int64_t> p = bytePool.asArrayRef();
    s.kind = WindowKind::Max;
    s.isUnsigned = isa<arith::MaxUIOp>(max);
    s.sh = p[0], s.sw = p[1], s.dh = p[2], s.dw = p[3];
  } else {
    auto values = [&](StringRef name) {
      auto attr = op->getAttrOfType<DenseIntElementsAttr>(name);
      return llvm::map_to_vector(attr.getValues<int64_t>(),
                                 [](int64_t v) { return v; });
    };
    SmallVector<int64_t> strides = values("strides"),
                         dilations = values("dilations");
    s.kind =
        isa<linalg::PoolingNchwMaxOp>(op) ? WindowKind::Max : WindowKind::Sum;
    s.sh = strides[0], s.sw = strides[1];
    s.dh = dilations[0], s.dw = dilations[1];
  }
  if (s.sw > 4)
    return std::nullopt;
  return s;
}

struct LowerWindowsPass : kiln::impl::LowerWindowsBase<LowerWindowsPass> {
  using LowerWindowsBase::LowerWindowsBase;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if ((op->hasAttr(kiln::kDepthwiseAttr) ||
           op->hasAttr(kiln::kMaxPoolAttr) ||
           isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(op)) &&
          op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops)
      lower(op);
  }

  /// The window's shape, or nothing when the op stays as it is.
  std::optional<WindowShape> shapeOf(linalg::LinalgOp op) {
    return windowShape(op, vectorWidth, tapLoads, blendStores, rows);
  }

  /// The fills of x's padding that can move into the window's kernel:
  /// subviews of whole planes' rows or columns (a box, static) each filled
  /// with a constant, x an alloc that nothing else touches before the
  /// window but through subviews apart from every border (the interior its
  /// producer writes). The borders are then written by the kernel, on the
  /// threads, each its planes', instead of by loops of their own on the
  /// caller (on MobileNetV2, 46 such loops took 4.5% of a run, their
  /// columns made scatters). None when any is not so.
  SmallVector<Border> borderFills(linalg::LinalgOp op, Value x) {
    if (!moveBorders || !x.getDefiningOp<memref::AllocOp>())
      return {};
    return kiln::borderFillsBefore(op, x);
  }

  void lower(linalg::LinalgOp op) {
    std::optional<WindowShape> shape = shapeOf(op);
    if (!shape)
      return; // stays as it is
    WindowShape &s = *shape;
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
          out = op.getDpsInits()[0];
    // A grouped convolution's units read other planes of x than their own:
    // its borders are filled before it, not plane by plane.
    SmallVector<Border> borders;
    if (!s.grouped())
      borders = borderFills(op, x);
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value planes = b.create<arith::ConstantIndexOp>(
        loc, s.grouped() ? s.units() : s.n * s.c);
    // The value the output starts as and the elementwise op after: in the
    // kernel. A pool's second operand only gives the window's shape.
    kiln::FusedEnds ends;
    bool pool = s.kind != WindowKind::Depthwise;
    if (fuse)
      ends = kiln::FusedEnds::match(
          b, op, out, pool ? ValueRange{x} : ValueRange{x, w}, s.n * s.c);
    loc = op->getLoc(); // with the fused ops' nodes
    // Narrow planes as lines (WindowBuilder::flatPlanes): a stride-1 f32
    // depthwise convolution whose input and output are contiguous, the
    // output starting from the fused initializer, with no other operand.
    auto contiguous = [](Value v) {
      return v && cast<MemRefType>(v.getType()).getLayout().isIdentity();
    };
    s.flat = s.kind == WindowKind::Depthwise && !s.grouped() && s.xt.isF32() &&
             s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.oh > 1 &&
             2 * s.ow <= s.vw && ends.hasInit() && ends.otherViews().empty() &&
             contiguous(x) &&
             contiguous(ends.hasEpilogue() ? ends.resultView() : out);
    // A pool's window buffer is never read: x stands in for it.
    SmallVector<Value> buffers{x, pool ? x : w, out};
    buffers.append(ends.buffers());
    // Threads only for windows worth waking them: a small pool is done
    // before the other core has started. They share whole planes
    // (channels), though the GEMMs around share the image's columns: units
    // of a plane's top or bottom rows instead (all the top ones first, so
    // that each thread's end of the loop reads the rows it wrote) made
    // MobileNetV2 on two threads 1.04-1.08 of this (more per-plane work,
    // the 7- and 14-row planes' depthwise convolutions twice as long), and
    // no faster where only planes of 28, 56 or 112 rows were split
    // (0.99-1.00, paired rounds, Zen 5).
    int64_t work = s.n * s.c * s.oh * s.ow * s.kh * s.kw * s.cg;
    if (parallel && work >= parallelMinWork &&
        buffers.size() <= kiln::kRowsBuffers &&
        llvm::all_of(buffers, kiln::isStaticMemRef)) {
      func::FuncOp fn = kiln::createRowsFunction(
          op->getParentOfType<func::FuncOp>(), loc, TypeRange(buffers),
          pool ? "pool" : "depthwise",
          [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
              ArrayRef<BlockArgument> idx) {
            kiln::FusedEnds local = ends.remap(ValueRange(mems.drop_front(3)));
            WindowBuilder(fb, l, s, local, borders)
                .planes(mems[0], mems[1], mems[2], idx[2], idx[3]);
          });
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      kiln::emitParallelRows(b, loc, fn, buffers, zero, zero, planes);
    } else {
      WindowBuilder(b, loc, s, ends, borders)
          .planes(x, w, out, b.create<arith::ConstantIndexOp>(loc, 0), planes);
    }
    ends.eraseFused();
    op->erase();
    kiln::eraseBorderFills(borders);
    // A pool's window buffer is then unused.
    if (pool)
      if (auto alloc = w.getDefiningOp<memref::AllocOp>())
        if (alloc->use_empty())
          alloc->erase();
  }
};

} // namespace

std::optional<kiln::WindowBand> kiln::windowBand(linalg::LinalgOp op,
                                                 int64_t vectorWidth) {
  if (!(op->hasAttr(kDepthwiseAttr) || isa<linalg::PoolingNchwMaxOp>(op)) ||
      !op.hasPureBufferSemantics())
    return std::nullopt;
  std::optional<WindowShape> s =
      windowShape(op, vectorWidth, /*tapLoads=*/false, /*blendStores=*/false,
                  /*rows=*/1);
  if (!s || s->kind == WindowKind::Sum || !s->xt.isF32() || s->grouped() ||
      s->inputZeroPoint >= 0 || s->n != 1 || s->dh != 1 || s->dw != 1)
    return std::nullopt;
  auto xt = cast<MemRefType>(op.getDpsInputs()[0].getType());
  return WindowBand{s->kind == WindowKind::Max,
                    s->c,
                    s->oh,
                    s->ow,
                    s->kh,
                    s->kw,
                    s->sh,
                    s->sw,
                    xt.getDimSize(2),
                    xt.getDimSize(3)};
}

void kiln::emitWindowBand(OpBuilder &b, Location loc, linalg::LinalgOp op,
                          const FusedEnds &ends, Value x, Value w, Value out,
                          Value o0, int64_t rows, int64_t vectorWidth,
                          int64_t windowRows) {
  std::optional<WindowShape> s = windowShape(
      op, vectorWidth, /*tapLoads=*/false, /*blendStores=*/false, windowRows);
  assert(s && "emitWindowBand: not a window");
  s->oh = rows;
  WindowBuilder builder(b, loc, *s, ends);
  builder.setOutputRowBase(o0);
  builder.planes(x, s->kind == WindowKind::Depthwise ? w : x, out,
                 b.create<arith::ConstantIndexOp>(loc, 0),
                 b.create<arith::ConstantIndexOp>(loc, s->n * s->c));
}
