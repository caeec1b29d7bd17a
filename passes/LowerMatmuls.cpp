//===- LowerMatmuls.cpp - Cache-blocked, packed f32 matmul kernels --------===//
//
// This file implements kiln-lower-matmuls, which turns each f32
// linalg.matmul and linalg.batch_matmul on memrefs into a GEMM in the style
// of BLIS and oneDNN, written directly as scf loops and vector ops:
//
//   for each chunk of B's columns (a few hundred KB of B, so it stays in L2)
//     pack the chunk into panels Bp[panel][k][nr] (contiguous, zero-padded)
//     for each block of mr rows of A
//       for each panel of the chunk
//         micro-kernel: mr x nr accumulators in vector registers, loaded
//         from C; per k, nr/vw vector loads of Bp and mr broadcasts of A
//         feeding mr*nr/vw FMAs; stored back to C once.
//
// Packing makes the micro-kernel's B reads sequential, whatever B's row
// stride (a power-of-two stride maps every row to the same few L1 sets).
// A constant B (a layer's weights) is packed once, at compile time, into a
// global of panels. Matmuls with few rows (a GEMV) otherwise read B in place:
// packing would cost as much as the product. Remainders are static: the last
// rows use a kernel of fewer rows, the last columns masked loads and stores.
//
// C's initializer (a bias per row) and the elementwise op after it run in
// the kernel (FusedEnds.h). When the chunk is worth it, its packing (by
// rows of k) and then its row blocks are functions that the runtime's
// kiln_parallel_rows runs on its threads (ParallelRows.h). A 1x1
// convolution whose padded output only a depthwise convolution reads can
// run with it, a band of output rows at a time (fuseWindowAfter).
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/Passes.h"
#include "passes/VectorLanes.h"
#include "passes/Windows.h"
#include "passes/Winograd.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SetVector.h"

#include <functional>
#include <map>

namespace kiln {
#define GEN_PASS_DEF_LOWERMATMULS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// B as an im2col copy that the packing reads through instead: B[k][n] is
/// element base + sum(kCoefs[i] * k_i) + sum(nCoefs[j] * n_j) of a flat view
/// of the copy's input, k_i and n_j being k and n delinearised over kSizes
/// and nSizes (C, KH, KW and OH, OW for a convolution; the last nCoef is the
/// stride, 1 to 4).
struct Im2col {
  SmallVector<int64_t> kSizes, kCoefs, nSizes, nCoefs;
  int64_t base = 0, span = 0;
};

/// `batch` row-major [m][k] matrices as row blocks [batch][blocks][k][mr],
/// the last block's missing rows zeros (GemmPlan::packedA).
static std::vector<float> packRowBlocks(ArrayRef<float> data, int64_t batch,
                                        int64_t m, int64_t k, int64_t mr) {
  int64_t blocks = (m + mr - 1) / mr;
  std::vector<float> packed(batch * blocks * k * mr, 0.0f);
  for (int64_t e = 0; e < batch; ++e)
    for (int64_t row = 0; row < m; ++row)
      for (int64_t kk = 0; kk < k; ++kk)
        packed[((e * blocks + row / mr) * k + kk) * mr + row % mr] =
            data[(e * m + row) * k + kk];
  return packed;
}

/// The shape of one GEMM and how it is blocked.
struct GemmPlan {
  int64_t m, n, k;
  int64_t vw;     // f32 lanes per vector register
  int64_t mr, nv; // micro-kernel rows, and vectors per row (nr = nv * vw)
  int64_t panels; // panels of nr columns, the last one maybe partial
  int64_t chunk;  // panels packed together
  bool pack;      // pack B, or read it in place
  bool prepacked = false;       // B was packed at compile time: all its panels
  bool zeroInit = false;        // C starts as zeros (it is not read)
  std::optional<Im2col> im2col; // B is read from a flat view (packs)
  // With `piece`, threads that pack the panels they multiply (GemmBuilder's
  // PackedPanels) share all of B's panels in one call, packing and then
  // multiplying `piece` panels at a time; the pack buffer holds them all
  // (`chunk` is every panel). 0: one such call per chunk.
  int64_t piece = 0;
  // Threads that pack the panels they multiply (Split::PackedPanels) do so
  // this many panels at a time into a buffer on their stack (0: into the
  // pack buffer; f32 only).
  int64_t stackPanels = 0;
  // The panels packed, then multiplied, at a time.
  int64_t packStep() const { return piece ? piece : chunk; }
  // An 8-bit contraction: A is i32 words of four signed bytes of k
  // ([m][k4]), B unsigned bytes packed into Bp[panel][k4][nr * 4], C i32;
  // `vnni` does each 4-byte dot product with vpdpbusd.
  bool int8 = false;
  bool vnni = false;
  // `smlad` (an Arm M-profile DSP extension): each lane's 4-byte dot
  // product is two SMLADs of halfword pairs (UXTB16 / SXTB16).
  bool smlad = false;
  // `maddubs` (x86 without VNNI): vpmaddubsw (two products of bytes 0-1 and
  // of 2-3 summed into 16 bits, saturating) then vpmaddwd by ones; only
  // where A's pairs cannot saturate.
  bool maddubs = false;
  // `maddubs` for weights that could saturate it: A is [m][k4][2] words,
  // each weight w split into w >> 1 (in [-64, 63], whose pairs cannot
  // saturate) and w & 1, and each dot product is 2 * dot(u, w >> 1) +
  // dot(u, w & 1): two vpmaddubsw and two vpmaddwd, exact.
  bool maddubsSplit = false;
  // The last columns, fewer than a vector (n % nr): as dot products along
  // k (GemmBuilder::dotKernel) rather than a vector of mostly idle lanes.
  // ResNet's and MobileNetV2's 7x7 layers (49 = 48 + 1) and 14x14 ones
  // (196 = 192 + 4).
  bool dotTail = false;
  // A packed at compile time into row blocks, [blocks][k][mr] (the last
  // block's missing rows zeros): a micro-kernel's weights are one
  // sequential stream instead of mr rows k apart, and each step of k
  // prefetches the stream `prefetchA` floats ahead (0: none). For products
  // whose weights come from memory once per run and feed few columns
  // (Winograd's: a 7x7 layer's 16 tiles; with `pack-a` every constant A),
  // where the hardware's prefetchers alone leave the FMAs waiting. The
  // dot-product tail then takes the block's rows as lanes
  // (packedTailKernel).
  bool packedA = false;
  int64_t prefetchA = 0;
  int64_t nr() const { return nv * vw; }
  int64_t k4() const { return (k + 3) / 4; }
  int64_t fullPanels() const { return n / nr(); }
  int64_t tailCols() const { return n % nr(); }
  // There are last columns, and fewer than a vector: the dot-product tail's.
  bool shortTail() const { return tailCols() > 0 && tailCols() < vw; }
  // A dot product's lanes each take a word of four bytes of k, or one
  // float: the lanes' worth of k, and the vectors of it (the last maybe
  // partial).
  int64_t kLanes() const { return int8 ? k4() : k; }
  int64_t dotVectors() const { return (kLanes() + vw - 1) / vw; }
  // The pack buffer's elements (bytes or floats) per lane and per panel.
  int64_t laneElements() const { return int8 ? 4 : 1; }
  int64_t panelElements() const { return kLanes() * laneElements() * nr(); }
  // dotTail: elements of k per tail column in the pack buffer (whole
  // vectors), and where the first starts (past the chunk's panels).
  int64_t tailStride() const { return dotVectors() * vw * laneElements(); }
  int64_t tailBase() const { return heldPanels() * panelElements(); }
  // The panels the pack buffer holds before the tail: a chunk's, or one
  // (the last partial panel's) where the threads pack all panels on their
  // stacks (packHeld).
  int64_t packHeld = -1;
  int64_t heldPanels() const { return packHeld >= 0 ? packHeld : chunk; }
  // dotTail: the panels the pack buffer holds past `chunk` for the tail.
  int64_t tailPanels() const {
    if (!dotTail)
      return 0;
    return (tailCols() * tailStride() + panelElements() - 1) / panelElements();
  }
};

/// The border of a padded buffer whose interior a GEMM writes (FusedEnds'
/// gapped result: the GEMM's rows its planes, its columns their pixels row
/// by row, one pixel of border around each plane), which the GEMM's threads
/// write beside the rows they write (GemmBuilder::fillBorders) instead of
/// the caller before the GEMM.
struct GemmBorders {
  Value padded;
  SmallVector<kiln::BorderFill> fills;
  int64_t h = 0, w = 0; // the image inside the border
};

/// A buffer of `type` on the stack, allocated at the entry of the function
/// `b` builds in (not in a loop); null outside a function.
Value entryAlloca(OpBuilder &b, Location loc, MemRefType type,
                  int64_t alignment = 0) {
  Operation *op = b.getInsertionBlock()->getParentOp();
  auto fn = dyn_cast<FunctionOpInterface>(op);
  if (!fn)
    fn = op->getParentOfType<FunctionOpInterface>();
  if (!fn)
    return nullptr;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getFunctionBody().front());
  return alignment ? b.create<memref::AllocaOp>(loc, type,
                                                b.getI64IntegerAttr(alignment))
                   : b.create<memref::AllocaOp>(loc, type);
}

class GemmBuilder {
public:
  GemmBuilder(OpBuilder &b, Location loc, const GemmPlan &plan,
              const kiln::FusedEnds *ends = nullptr)
      : b(b), loc(loc), p(plan), ends(ends) {}

  /// What a function that kiln_parallel_rows runs does with its
  /// (x, y, begin, end): row blocks [begin, end) over panels [x, y)
  /// (`Rows`), all row blocks over panels [x + begin, x + end) (`Panels`:
  /// a GEMV has one row block), the packing of panels [x + begin, x + end)
  /// of the chunk that starts at panel x (`Pack`), or that packing and
  /// then all row blocks over those panels (`PackedPanels`), or rows
  /// [begin, end) of k of the packing of panels [x, y) (`PackRows`).
  enum class Split { Rows, Panels, Pack, PackedPanels, PackRows };

  /// The fewest panels a chunk needs for its threads to split its columns
  /// (PackedPanels) rather than its rows: a few pieces per thread. With 2,
  /// each thread streams all of A (a layer's weights), which the row split
  /// shares; with 16, more chunks' packed panels move between cores:
  /// ResNet-50 on two threads 1.054 and 1.028 of this (paired rounds, Zen
  /// 5).
  static constexpr int64_t kMinPanelsToSplit = 8;

  /// Whether threads given a rows function pack the panels they multiply
  /// (Split::PackedPanels) in every chunk of `p`: B packed at run time, in
  /// one call for all its panels (GemmPlan::piece) or chunks of enough.
  static bool ownPanels(const GemmPlan &p) {
    return p.pack && !p.prepacked &&
           (p.piece || std::min(p.chunk, p.fullPanels()) >= kMinPanelsToSplit);
  }

  /// Makes the function for `cols` columns. Null when the GEMM stays on
  /// one thread; else setDispatchBuffers says what the calls pass.
  using RowsFunction = std::function<func::FuncOp(int64_t cols, Split)>;

  /// C[m, n] += A[m, k] * B[k, n] for 2-d memrefs with unit inner strides.
  /// `packBuffer` holds `chunk` panels when the plan packs (else it is B).
  /// With `rowsFunction`, the row blocks of each chunk run through the
  /// runtime's kiln_parallel_rows.
  void build(Value a, Value bm, Value c, Value packBuffer,
             const RowsFunction &rowsFunction) {
    setOperands(a, bm, c, packBuffer);
    int64_t fullPanels = p.n / p.nr();
    int64_t tail = p.n % p.nr();
    // The threads share the row blocks, or the panels: a GEMV's, and those
    // of chunks of a B read in place wide enough (a 1x1 convolution's
    // output positions), as those of a B packed at run time are shared
    // (ownPanels below): each core then reads the columns that it wrote in
    // the layer before, on cores that share no cache.
    bool panelsInPlace =
        !p.pack && std::min(p.chunk, fullPanels) >= kMinPanelsToSplit;
    auto rows = [&](Value c0, Value c1, int64_t cols) {
      if (!rowsFunction)
        return rowBlocks(index(0), index(blocks()), c0, c1, cols);
      if (blocks() > 1 && !(panelsInPlace && cols == p.nr()))
        return kiln::emitParallelRows(b, loc, rowsFunction(cols, Split::Rows),
                                      dispatch, c0, c1, index(blocks()));
      kiln::emitParallelRows(b, loc, rowsFunction(cols, Split::Panels),
                             dispatch, c0, c1,
                             b.create<arith::SubIOp>(loc, c1, c0));
    };
    // The packing of a chunk is shared by the threads too, f32 by rows of
    // k: such a chunk has fewer than kMinPanelsToSplit panels (else its
    // threads pack their own), and a panel each left a thread waiting
    // (ResNet-50's stride-2 convolutions: chunks of 3 panels, or of 1).
    auto pack = [&](Value c0, Value c1, int64_t cols) {
      if (!rowsFunction)
        return packPanels(c0, c0, c1, cols);
      if (!p.int8)
        return kiln::emitParallelRows(b, loc,
                                      rowsFunction(cols, Split::PackRows),
                                      dispatch, c0, c1, index(p.k));
      kiln::emitParallelRows(b, loc, rowsFunction(cols, Split::Pack), dispatch,
                             c0, c1, b.create<arith::SubIOp>(loc, c1, c0));
    };
    // B packed at run time, in chunks wide enough: each thread packs the
    // panels it multiplies, so no packed line ever moves between cores.
    // (Sharing the rows instead, each core reads the panels the other
    // packed, and the next chunk's packing then writes over lines the other
    // core holds: on a VM whose two cores share no cache, packing a shared
    // chunk took 8 times as long as on one core.)
    // A plan with pieces has enough panels in all (the pass checked).
    bool ownPanels = rowsFunction && GemmBuilder::ownPanels(p);
    if (fullPanels > 0 && ownPanels && p.piece) {
      // All the panels in one call (GemmPlan::piece).
      kiln::emitParallelRows(b, loc, rowsFunction(p.nr(), Split::PackedPanels),
                             dispatch, index(0), index(fullPanels),
                             index(fullPanels));
    } else if (fullPanels > 0 && panelsInPlace && rowsFunction && p.piece) {
      // B read in place: all its panels in one call too.
      rows(index(0), index(fullPanels), p.nr());
    } else if (fullPanels > 0) {
      // Chunks of equal width, at most packStep() panels: 12 panels in
      // chunks of up to 10 are 6 + 6, not 10 + 2, whose 2 panels give two
      // threads a piece each, one to wait for the other's (MobileNetV2's
      // 14x14 projections).
      int64_t chunks = (fullPanels + p.packStep() - 1) / p.packStep();
      int64_t step = (fullPanels + chunks - 1) / chunks;
      // for c0 in [0, fullPanels) step: panels [c0, min(c0 + step, full))
      forLoop(0, fullPanels, step, [&](Value c0) {
        Value c1 = b.create<arith::MinSIOp>(
            loc, b.create<arith::AddIOp>(loc, c0, index(step)),
            index(fullPanels));
        if (ownPanels) {
          kiln::emitParallelRows(
              b, loc, rowsFunction(p.nr(), Split::PackedPanels), dispatch, c0,
              c1, b.create<arith::SubIOp>(loc, c1, c0));
          return;
        }
        if (p.pack && !p.prepacked)
          pack(c0, c1, p.nr());
        rows(c0, c1, p.nr());
      });
    }
    if (tail > 0 && !fusedTail()) {
      Value last = index(fullPanels);
      if (p.pack && !p.prepacked)
        pack(last, index(fullPanels + 1), tail);
      rows(last, index(fullPanels + 1), tail);
    }
  }

  /// The body of a function that kiln_parallel_rows runs (see Split): the
  /// GEMM's operands (A, B, C, Bp), the fused ends' buffers, and the
  /// indices (x, y, begin, end).
  void buildRows(ValueRange operands, ValueRange endBuffers,
                 ArrayRef<BlockArgument> idx, int64_t cols, Split split) {
    buildRows(operands, endBuffers, SmallVector<Value, 4>(idx), cols, split);
  }
  void buildRows(ValueRange operands, ValueRange endBuffers,
                 ArrayRef<Value> idx, int64_t cols, Split split) {
    setOperands(operands[0], operands[1], operands[2], operands[3]);
    Value from = b.create<arith::AddIOp>(loc, idx[0], idx[2]);
    Value to = b.create<arith::AddIOp>(loc, idx[0], idx[3]);
    if (split == Split::Pack)
      return packPanels(idx[0], from, to, cols);
    if (split == Split::PackRows)
      return packPanels(idx[0], idx[0], idx[1], cols, KRange{idx[2], idx[3]});
    // The padded result's border beside the rows this piece writes.
    if (borders) {
      Value padded = endBuffers.back();
      if (split == Split::Rows) {
        auto rowOf = [&](Value block) -> Value {
          return b.create<arith::MinSIOp>(
              loc, b.create<arith::MulIOp>(loc, block, index(p.mr)),
              index(p.m));
        };
        fillBorders(padded, rowOf(idx[2]), rowOf(idx[3]), idx[0], idx[1]);
      } else {
        fillBorders(padded, index(0), index(p.m), from, to);
      }
    }
    std::optional<kiln::FusedEnds> local;
    if (ends) {
      local = ends->remap(endBuffers);
      ends = &*local;
    }
    if (split == Split::Rows) {
      rowBlocks(idx[2], idx[3], idx[0], idx[1], cols);
    } else if (split == Split::PackedPanels && p.stackPanels > 0) {
      packedOnStack(from, to, cols);
    } else {
      // The chunk still starts at x; its panels (packed first, with
      // PackedPanels) multiplied all at once or a piece at a time
      // (GemmPlan::piece).
      pieces(from, to, [&](Value first, Value last) {
        if (split == Split::PackedPanels)
          packPanels(idx[0], first, last, cols);
        rowBlocks(index(0), index(blocks()), first, last, cols, idx[0]);
      });
    }
    ends = nullptr;
  }

  /// Planes [r0, r1) of the border of `padded` (borders) beside the image
  /// rows that start in the columns of panels [c0, c1): the calls' pieces
  /// split the planes or the pixels, so each row's border is written once,
  /// by the piece that writes the row's first pixels (and the plane's first
  /// and last border rows with its first and last image rows).
  void fillBorders(Value padded, Value r0, Value r1, Value c0, Value c1) {
    int64_t h = borders->h, w = borders->w;
    auto pixel = [&](Value panel, bool end) -> Value {
      Value n = b.create<arith::MulIOp>(loc, panel, index(p.nr()));
      // The last full panel's piece also runs the dot tail's columns.
      if (end && fusedTail())
        n = b.create<arith::SelectOp>(
            loc,
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, panel,
                                    index(p.fullPanels())),
            index(p.n), n);
      return b.create<arith::MinSIOp>(loc, n, index(p.n));
    };
    auto imageRow = [&](Value n) -> Value {
      return b.create<arith::DivUIOp>(
          loc, b.create<arith::AddIOp>(loc, n, index(w - 1)), index(w));
    };
    Value first = imageRow(pixel(c0, false)), last = imageRow(pixel(c1, true));
    Value one = index(1);
    // Padded rows [lo, hi).
    Value lo = b.create<arith::SelectOp>(
        loc,
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, first, index(0)),
        index(0), b.create<arith::AddIOp>(loc, first, one));
    Value hi = b.create<arith::SelectOp>(
        loc,
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, last, index(h)),
        index(h + 2), b.create<arith::AddIOp>(loc, last, one));
    Value planes = b.create<arith::SubIOp>(loc, r1, r0);
    auto unit = b.getIndexAttr(1);
    for (const kiln::BorderFill &f : borders->fills) {
      Value from = b.create<arith::MaxSIOp>(loc, lo, index(f.row));
      Value to = b.create<arith::MinSIOp>(loc, hi, index(f.row + f.rows));
      Value rows = b.create<arith::MaxSIOp>(
          loc, b.create<arith::SubIOp>(loc, to, from), index(0));
      Value box = b.create<memref::SubViewOp>(
          loc, padded,
          ArrayRef<OpFoldResult>{b.getIndexAttr(0), r0, from,
                                 b.getIndexAttr(f.col)},
          ArrayRef<OpFoldResult>{unit, planes, rows, b.getIndexAttr(f.cols)},
          ArrayRef<OpFoldResult>{unit, unit, unit, unit});
      Value value = b.create<arith::ConstantOp>(loc, f.value);
      b.create<linalg::FillOp>(loc, value, box);
    }
  }

  /// Split::PackedPanels' panels [from, to) packed and multiplied
  /// p.stackPanels at a time (fewer where a piece is smaller) through a
  /// buffer on the rows function's stack rather than at their place in the
  /// pack buffer, which keeps only the dot-product tail (tailBp): the
  /// packed panels stay in the core's cache, and the pack buffer's lines,
  /// which the arena lends other layers' buffers before and after, are not
  /// written (on a VM whose cores share no cache, each such line the other
  /// core held had to be taken back).
  void packedOnStack(Value from, Value to, int64_t cols) {
    int64_t step = p.piece ? std::min(p.stackPanels, p.piece) : p.stackPanels;
    Value stack =
        entryAlloca(MemRefType::get({step, p.k, p.nr()}, b.getF32Type()), 64);
    tailBp = Bp;
    Bp = stack;
    forLoop(from, to, step, [&](Value first) {
      Value last = b.create<arith::MinSIOp>(
          loc, b.create<arith::AddIOp>(loc, first, index(step)), to);
      packPanels(first, first, last, cols);
      rowBlocks(index(0), index(blocks()), first, last, cols, first);
    });
    Bp = tailBp;
    tailBp = nullptr;
  }

  /// A packed in row blocks of more steps of k than the plan's, the
  /// product's from step `k0` on (a half of a split-k product).
  void setAFrom(Value k0) { aK0 = k0; }

  /// The buffers a parallel call passes (planDispatch's).
  void setDispatchBuffers(ValueRange buffers) {
    dispatch.assign(buffers.begin(), buffers.end());
  }

  /// The rows functions also write the border `fills` stand for, of the
  /// padded buffer passed last among the fused ends' buffers.
  void setBorders(const GemmBorders *fills) { borders = fills; }

  int64_t blocks() const { return (p.m + p.mr - 1) / p.mr; }

private:
  void setOperands(Value a, Value bm, Value c, Value packBuffer) {
    A = a;
    B = bm;
    C = c;
    Bp = packBuffer;
  }

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  void forLoop(Value lb, Value ub, int64_t step,
               function_ref<void(Value)> body) {
    auto loop = b.create<scf::ForOp>(loc, lb, ub, index(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }
  void forLoop(int64_t lb, int64_t ub, int64_t step,
               function_ref<void(Value)> body) {
    forLoop(index(lb), index(ub), step, body);
  }

  /// body(first, last) over panels [from, to): at once, or in runs of
  /// p.piece panels when the plan has pieces.
  void pieces(Value from, Value to, function_ref<void(Value, Value)> body) {
    if (!p.piece)
      return body(from, to);
    forLoop(from, to, p.piece, [&](Value first) {
      body(first,
           b.create<arith::MinSIOp>(
               loc, b.create<arith::AddIOp>(loc, first, index(p.piece)), to));
    });
  }

  /// Micro-kernels for row blocks [begin, end) (the last block may be the
  /// short one) over panels [c0, c1) of `cols` columns, of the chunk that
  /// starts at panel `origin` (c0 when not given).
  void rowBlocks(Value begin, Value end, Value c0, Value c1, int64_t cols,
                 Value origin = {}) {
    if (!origin)
      origin = c0;
    // The tail's dot products: alone (`cols` is the tail), or after each
    // row block's panels when they run up to it (fusedTail), while the
    // block's rows of A are still in cache.
    bool tailOnly = isDotTail(cols);
    Value tailHere;
    if (fusedTail() && !tailOnly)
      tailHere = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, c1,
                                         index(p.fullPanels()));
    auto block = [&](Value i, int64_t rows) {
      if (tailOnly)
        return dotKernel(i, rows);
      forLoop(c0, c1, 1,
              [&](Value panel) { microKernel(i, rows, panel, origin, cols); });
      if (!tailHere)
        return;
      auto ifOp = b.create<scf::IfOp>(loc, tailHere, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      dotKernel(i, rows);
    };
    int64_t full = p.m / p.mr, rest = p.m % p.mr;
    // A short last block with fewer accumulators than the FMAs' latency
    // times their pipes (4 x 2 cycles on x86 and Neoverse) leaves them
    // waiting (BERT's 128 rows on AVX2: 21 blocks of 6 rows and one of 2,
    // four chains): the last two blocks share their rows instead (4 and 4).
    // Not with A packed in blocks of mr rows.
    constexpr int64_t kChainsInFlight = 8;
    int64_t loop = full, lastRows = rest;
    if (rest > 0 && rest * p.nv < kChainsInFlight && full > 0 && !p.packedA) {
      loop = full - 1;
      lastRows = (p.mr + rest) / 2;
    }
    Value loopEnd = b.create<arith::MinSIOp>(loc, end, index(loop));
    forLoop(begin, loopEnd, 1, [&](Value blk) {
      block(b.create<arith::MulIOp>(loc, blk, index(p.mr)), p.mr);
    });
    // Block `blk` of `rows` rows from `row`, when the range [begin, end)
    // of blocks holds it. No range begins past the last block, so that one
    // tests `end` only; the last but one (a short block split in two) tests
    // both ends.
    auto lastBlock = [&](int64_t blk, int64_t row, int64_t rows) {
      Value here = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, end,
                                           index(blk));
      if (blk + 1 < blocks())
        here = b.create<arith::AndIOp>(
            loc, here,
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, begin,
                                    index(blk)));
      auto ifOp = b.create<scf::IfOp>(loc, here, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      block(index(row), rows);
    };
    if (loop < full) {
      int64_t first = p.mr + rest - lastRows;
      lastBlock(loop, loop * p.mr, first);
      lastBlock(loop + 1, loop * p.mr + first, lastRows);
    } else if (rest > 0) {
      lastBlock(full, full * p.mr, rest);
    }
  }

  /// The tail's dot products run with the last full panels (their row
  /// blocks and their packing) rather than in a pass of their own.
  bool fusedTail() const { return p.dotTail && p.fullPanels() > 0; }
  /// Columns `cols` are the dot-product tail on its own (only the tail
  /// has fewer than nr).
  bool isDotTail(int64_t cols) const { return p.dotTail && cols < p.nr(); }

  /// The accumulators' vectors: f32, or i32 for an 8-bit contraction.
  VectorType vecType() {
    return VectorType::get({p.vw}, p.int8 ? Type(b.getI32Type())
                                          : Type(b.getF32Type()));
  }

  /// Lanes of vector `v` of a panel of `cols` valid columns: 0, vw or a mask.
  int64_t lanes(int64_t v, int64_t cols) {
    return std::clamp<int64_t>(cols - v * p.vw, 0, p.vw);
  }
  // Vector accesses of a row end's valid lanes (VectorLanes.h).
  kiln::VectorLanes accLanes() {
    return kiln::VectorLanes(b, loc, p.vw, vecType().getElementType());
  }
  Value zeros() { return accLanes().zeros(); }
  Value load(Value mem, ValueRange indices, int64_t n) {
    return accLanes().load(mem, indices, n);
  }
  void store(Value v, Value mem, ValueRange indices, int64_t n) {
    accLanes().store(v, mem, indices, n);
  }

  Value column(Value panel, int64_t v) {
    Value base = b.create<arith::MulIOp>(loc, panel, index(p.nr()));
    return b.create<arith::AddIOp>(loc, base, index(v * p.vw));
  }

  /// Rows [begin, end) of k, of a packing that the threads split by k
  /// (Split::PackRows); without them, all of k.
  struct KRange {
    Value begin, end;
  };

  /// Copies panels [from, to) of B, each with `cols` valid columns, to
  /// Bp[panel - c0][k][0:nr], zero-padded (a vector with no valid column
  /// is left unwritten: the micro-kernel skips it); only the rows `ks` of
  /// k when given (f32 only).
  void packPanels(Value c0, Value from, Value to, int64_t cols,
                  KRange ks = {}) {
    if (!ks.begin)
      ks = {index(0), index(p.k)};
    withRowTable(ks, [&] {
      if (isDotTail(cols))
        return packDotTail(ks);
      if (p.int8)
        packBytePanels(c0, from, to, cols);
      else
        packFloatPanels(c0, from, to, cols, ks);
      if (!fusedTail())
        return;
      // Whoever packs the last full panel packs the tail too.
      Value last = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, to,
                                           index(p.fullPanels()));
      auto ifOp = b.create<scf::IfOp>(loc, last, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      packDotTail(ks);
    });
  }

  /// The pack buffer as one line of bytes or floats (the tail's dot
  /// products read it so).
  Value flatPack() {
    return b.create<memref::CollapseShapeOp>(
        loc, tailBp ? tailBp : Bp, ArrayRef<ReassociationIndices>{{0, 1, 2}});
  }

  /// The dotTail columns' packing: column j of the tail (of B's column
  /// fullPanels * nr + j) is elements [tailBase + j * tailStride, + k) of
  /// the pack buffer, zeros after up to a whole vector; rows `ks` of k
  /// (and the zeros with the last of them).
  void packDotTail(KRange ks) {
    Value flat = flatPack();
    int64_t t = p.tailCols(), col0 = p.fullPanels() * p.nr();
    // Where each tail column starts in B's flat view (im2col), or its index.
    SmallVector<int64_t> starts;
    for (int64_t j = 0; j < t; ++j) {
      int64_t col = col0 + j, start = 0;
      if (p.im2col) {
        const Im2col &ic = *p.im2col;
        for (int64_t d = ic.nSizes.size() - 1; d >= 0; --d) {
          start += (col % ic.nSizes[d]) * ic.nCoefs[d];
          col /= ic.nSizes[d];
        }
      }
      starts.push_back(p.im2col ? start : col);
    }
    auto at = [&](int64_t j, Value kk) -> Value {
      return b.create<arith::AddIOp>(loc, kk,
                                     index(p.tailBase() + j * p.tailStride()));
    };
    forLoop(ks.begin, ks.end, 1, [&](Value kk) {
      Value offset = p.im2col ? rowOffset(kk) : Value();
      for (int64_t j = 0; j < t; ++j) {
        SmallVector<Value> from{kk, index(starts[j])};
        if (p.im2col)
          from = {b.create<arith::AddIOp>(loc, offset, from[1])};
        Value x = b.create<memref::LoadOp>(loc, B, from);
        b.create<memref::StoreOp>(loc, x, flat, at(j, kk));
      }
    });
    Type et = cast<MemRefType>(Bp.getType()).getElementType();
    Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(et));
    Value lastRows = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                             ks.end, index(p.k));
    auto ifOp = b.create<scf::IfOp>(loc, lastRows, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    forLoop(p.k, p.tailStride(), 1, [&](Value kk) {
      for (int64_t j = 0; j < t; ++j)
        b.create<memref::StoreOp>(loc, zero, flat, at(j, kk));
    });
  }

  /// The im2col rows' offsets, the same for every panel: a table on the
  /// stack (allocated at the function's entry), filled before `body` (the
  /// packing of its panels), which rowOffset then reads; K divisions and
  /// remainders once instead of per panel. A K too big for the stack
  /// computes them where they are used.
  static constexpr int64_t kMaxRowTable = 16384;
  void withRowTable(KRange ks, function_ref<void()> body) {
    if (!p.im2col || p.k > kMaxRowTable)
      return body();
    rowTable = entryAlloca(MemRefType::get({p.k}, b.getI32Type()));
    if (!rowTable)
      return body();
    forLoop(ks.begin, ks.end, 1, [&](Value kk) {
      Value offset =
          b.create<arith::IndexCastOp>(loc, b.getI32Type(), im2colRow(kk));
      b.create<memref::StoreOp>(loc, offset, rowTable, kk);
    });
    body();
    rowTable = nullptr;
  }

  Value entryAlloca(MemRefType type, int64_t alignment = 0) {
    return ::entryAlloca(b, loc, type, alignment);
  }
  Value rowOffset(Value kk) {
    if (!rowTable)
      return im2colRow(kk);
    return b.create<arith::IndexCastOp>(
        loc, b.getIndexType(), b.create<memref::LoadOp>(loc, rowTable, kk));
  }

  void packFloatPanels(Value c0, Value from, Value to, int64_t cols,
                       KRange ks) {
    forLoop(from, to, 1, [&](Value panel) {
      Value local = b.create<arith::SubIOp>(loc, panel, c0);
      SmallVector<Segments> segments = panelSegments(panel, cols);
      forLoop(ks.begin, ks.end, 1, [&](Value kk) {
        Value offset = p.im2col ? rowOffset(kk) : Value();
        for (int64_t v = 0; v < p.nv; ++v) {
          // The micro-kernel reads no vector without a valid column.
          int64_t n = lanes(v, cols);
          if (!n)
            continue;
          Value x = p.im2col ? byLine(segments[v], vecType(),
                                      [&](bool oneLine) -> SmallVector<Value> {
                                        return {im2colLoad(segments[v], offset,
                                                           vecType(), oneLine)};
                                      })[0]
                             : load(B, {kk, column(panel, v)}, n);
          b.create<vector::StoreOp>(loc, x, Bp,
                                    ValueRange{local, kk, index(v * p.vw)});
        }
      });
    });
  }

  /// An 8-bit contraction's packing: panels [from, to) of B, `cols` valid
  /// columns each, to Bp[panel - c0][k4][nr * 4] bytes, where column j of
  /// vector v holds B[4 * k4 + t][column] at byte 4 * j + t (zero past K
  /// and past the valid columns): the layout of a 4-byte dot product.
  void packBytePanels(Value c0, Value from, Value to, int64_t cols) {
    Type i8 = b.getIntegerType(8);
    kiln::VectorLanes bytes(b, loc, p.vw, i8);
    int64_t kTail = p.k % 4;
    auto byteVector = VectorType::get({p.vw}, i8);
    forLoop(from, to, 1, [&](Value panel) {
      Value local = b.create<arith::SubIOp>(loc, panel, c0);
      SmallVector<Segments> segments = panelSegments(panel, cols);
      auto row = [&](Value kk, int64_t v, int64_t n, bool oneLine) -> Value {
        if (p.im2col)
          return im2colLoad(segments[v], rowOffset(kk), byteVector, oneLine);
        return bytes.load(B, {kk, column(panel, v)}, n);
      };
      forLoop(0, p.k4(), 1, [&](Value q) {
        Value k0 = b.create<arith::MulIOp>(loc, q, index(4));
        for (int64_t v = 0; v < p.nv; ++v) {
          // The micro-kernel reads no vector without a valid column.
          int64_t n = lanes(v, cols);
          if (!n)
            continue;
          auto fourRows = [&](bool oneLine) {
            SmallVector<Value> rows;
            for (int64_t t = 0; t < 4; ++t) {
              Value kk = b.create<arith::AddIOp>(loc, k0, index(t));
              bool mayPass = kTail && t >= kTail; // only in the last group
              if (!mayPass) {
                rows.push_back(row(kk, v, n, oneLine));
                continue;
              }
              // A row past K reads the last one and is then zeros.
              Value in = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                                 kk, index(p.k));
              Value at = b.create<arith::MinSIOp>(loc, kk, index(p.k - 1));
              Value x = row(at, v, n, oneLine);
              rows.push_back(
                  b.create<arith::SelectOp>(loc, in, x, bytes.zeros()));
            }
            return rows;
          };
          SmallVector<Value> rows =
              p.im2col ? byLine(segments[v], SmallVector<Type>(4, byteVector),
                                fourRows)
                       : fourRows(false);
          // Byte 4j + t is row t's byte j.
          SmallVector<int64_t> two, four;
          for (int64_t i = 0; i < 2 * p.vw; ++i)
            two.push_back(i);
          for (int64_t j = 0; j < p.vw; ++j)
            for (int64_t t = 0; t < 4; ++t)
              four.push_back((t / 2) * 2 * p.vw + (t % 2) * p.vw + j);
          Value lo = b.create<vector::ShuffleOp>(loc, rows[0], rows[1], two);
          Value hi = b.create<vector::ShuffleOp>(loc, rows[2], rows[3], two);
          Value all = b.create<vector::ShuffleOp>(loc, lo, hi, four);
          b.create<vector::StoreOp>(loc, all, Bp,
                                    ValueRange{local, q, index(v * p.vw * 4)});
        }
      });
    });
  }

  /// A call of the LLVM intrinsic `name` (one result of `type`).
  static Value intrinsic(OpBuilder &nb, Location l, StringRef name, Type type,
                         ValueRange args) {
    return nb
        .create<LLVM::CallIntrinsicOp>(
            l, TypeRange{type}, nb.getStringAttr(name), args,
            LLVM::FastmathFlagsAttr::get(nb.getContext(),
                                         LLVM::FastmathFlags::none))
        .getResult(0);
  }

  /// acc + per lane the sum of the four products of unsigned bytes of `u`
  /// by signed bytes of `s` (vectors of i32 words): vpdpbusd, or widening
  /// vector arithmetic where the target has no such instruction.
  Value dot4(OpBuilder &nb, Location l, Value acc, Value u, Value s) {
    if (p.vnni)
      return intrinsic(nb, l, "llvm.x86.avx512.vpdpbusd.512", vecType(),
                       {acc, u, s});
    if (p.smlad)
      return smladDot4(nb, l, acc, u, s);
    if (p.maddubs)
      return maddubsDot4(nb, l, acc, u, s);
    auto byteType = VectorType::get({4 * p.vw}, nb.getIntegerType(8));
    Value ub = nb.create<vector::BitCastOp>(l, byteType, u);
    Value sb = nb.create<vector::BitCastOp>(l, byteType, s);
    for (int64_t t = 0; t < 4; ++t) {
      SmallVector<int64_t> picked;
      for (int64_t j = 0; j < p.vw; ++j)
        picked.push_back(4 * j + t);
      Value ut = nb.create<arith::ExtUIOp>(
          l, vecType(), nb.create<vector::ShuffleOp>(l, ub, ub, picked));
      Value st = nb.create<arith::ExtSIOp>(
          l, vecType(), nb.create<vector::ShuffleOp>(l, sb, sb, picked));
      acc =
          nb.create<arith::AddIOp>(l, acc, nb.create<arith::MulIOp>(l, ut, st));
    }
    return acc;
  }

  /// dot4 on x86 without VNNI: vpmaddubsw multiplies the unsigned bytes of
  /// `u` by the signed bytes of `s` and adds each pair into a saturating
  /// 16-bit sum; vpmaddwd by ones adds the two sums of each lane into 32
  /// bits. Exact because lowerInt8 takes this path only for weights whose
  /// pairs cannot reach 2^15 (255 * (|w0| + |w1|) with |w0| + |w1| <= 128).
  Value maddubsDot4(OpBuilder &nb, Location l, Value acc, Value u, Value s,
                    int16_t times = 1) {
    bool wide = p.vw == 16;
    auto bytes = VectorType::get({4 * p.vw}, nb.getIntegerType(8));
    auto halves = VectorType::get({2 * p.vw}, nb.getIntegerType(16));
    Value pairs = intrinsic(nb, l,
                            wide ? "llvm.x86.avx512.pmaddubs.w.512"
                                 : "llvm.x86.avx2.pmadd.ub.sw",
                            halves,
                            {nb.create<vector::BitCastOp>(l, bytes, u),
                             nb.create<vector::BitCastOp>(l, bytes, s)});
    Value ones = nb.create<arith::ConstantOp>(
        l, DenseElementsAttr::get(halves, nb.getI16IntegerAttr(times)));
    Value sums = intrinsic(
        nb, l, wide ? "llvm.x86.avx512.pmaddw.d.512" : "llvm.x86.avx2.pmadd.wd",
        vecType(), {pairs, ones});
    return nb.create<arith::AddIOp>(l, acc, sums);
  }

  /// maddubsDot4 for weights split into w >> 1 (`hi`) and w & 1 (`lo`):
  /// acc + 2 * dot(u, hi) + dot(u, lo), the first vpmaddwd by twos.
  Value maddubsSplitDot4(OpBuilder &nb, Location l, Value acc, Value u,
                         Value hi, Value lo) {
    acc = maddubsDot4(nb, l, acc, u, hi, /*times=*/2);
    return maddubsDot4(nb, l, acc, u, lo);
  }

  /// dot4 on an Arm M-profile core with the DSP extension, lane by lane
  /// (the core has no vectors): bytes 0 and 2 of each word, widened to
  /// halfwords (UXTB16 of the unsigned word, SXTB16 of the signed one), then
  /// bytes 1 and 3 (the words rotated by 8), each pair of halfword products
  /// summed into the lane by one SMLAD. The sums wrap as vpdpbusd's do.
  Value smladDot4(OpBuilder &nb, Location l, Value acc, Value u, Value s) {
    Type i32 = nb.getI32Type();
    auto call = [&](StringRef name, ValueRange args) {
      return intrinsic(nb, l, name, i32, args);
    };
    auto rotate8 = [&](Value x) -> Value {
      auto c = [&](int64_t v) {
        return nb.create<arith::ConstantOp>(l, nb.getI32IntegerAttr(v));
      };
      return nb.create<arith::OrIOp>(l, nb.create<arith::ShRUIOp>(l, x, c(8)),
                                     nb.create<arith::ShLIOp>(l, x, c(24)));
    };
    Value sw = nb.create<vector::ExtractOp>(l, s, ArrayRef<int64_t>{0});
    Value s02 = call("llvm.arm.sxtb16", sw);
    Value s13 = call("llvm.arm.sxtb16", rotate8(sw));
    for (int64_t j = 0; j < p.vw; ++j) {
      Value uw = nb.create<vector::ExtractOp>(l, u, ArrayRef<int64_t>{j});
      Value a = nb.create<vector::ExtractOp>(l, acc, ArrayRef<int64_t>{j});
      a = call("llvm.arm.smlad", {call("llvm.arm.uxtb16", uw), s02, a});
      a = call("llvm.arm.smlad",
               {call("llvm.arm.uxtb16", rotate8(uw)), s13, a});
      acc = nb.create<vector::InsertOp>(l, a, acc, ArrayRef<int64_t>{j});
    }
    return acc;
  }

  /// Where the im2col columns [col, col + lanes) are (col is a multiple of
  /// the vector width): the columns of one output line are every s-th
  /// element of the input from some start (s the stride), so a vector is,
  /// per line it touches, the lanes in that line. With s = 1 that is a
  /// masked load per line; otherwise per line a load of the span in s
  /// pieces, every s-th element shuffled out, and a select of the lanes.
  struct Segments {
    SmallVector<Value> starts; // lane 0's element, from the row's offset
    SmallVector<Value> masks;  // the segment's lanes; none: every lane
    SmallVector<SmallVector<Value>> pieces; // s > 1: elements to read
    // Where the vector may touch several lines: whether it is in one after
    // all (most are), and then lane 0's element; im2colLoad's `oneLine`
    // reads it so, the same for every row of the panel.
    Value inOneLine, oneLineStart;
    int64_t lanes = 0;
  };
  Segments im2colSegments(Value col, int64_t lanes) {
    const Im2col &ic = *p.im2col;
    int64_t width = ic.nSizes.back(), stride = ic.nCoefs.back();
    int64_t gap = ic.nSizes.size() == 2 ? ic.nCoefs[0] - width * stride : 0;
    auto range = [&](Value lo, Value hi) {
      return kiln::VectorLanes(b, loc, p.vw).range(lo, hi);
    };
    Segments s;
    Value line = ic.nSizes.size() == 2
                     ? b.create<arith::DivSIOp>(loc, col, index(width))
                     : index(0);
    // One segment: lanes [first, end) of line `l`.
    auto add = [&](Value l, Value first, Value end, bool whole) {
      s.starts.push_back(b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, col, index(stride)),
          b.create<arith::MulIOp>(loc, l, index(gap))));
      if (!whole)
        s.masks.push_back(range(first, end));
      if (stride == 1)
        return;
      // Elements [stride * first, stride * (end - 1) + 1) of the span.
      Value lo = b.create<arith::MulIOp>(loc, first, index(stride));
      Value hi = b.create<arith::AddIOp>(
          loc,
          b.create<arith::MulIOp>(
              loc, b.create<arith::SubIOp>(loc, end, index(1)), index(stride)),
          index(1));
      SmallVector<Value> pieces;
      for (int64_t q = 0; q < stride; ++q)
        pieces.push_back(
            range(b.create<arith::SubIOp>(loc, lo, index(q * p.vw)),
                  b.create<arith::SubIOp>(loc, hi, index(q * p.vw))));
      s.pieces.push_back(pieces);
    };
    if (gap == 0 || width % p.vw == 0) {
      add(line, index(0), index(lanes), lanes == p.vw && stride == 1);
      if (lanes == p.vw)
        s.masks.clear();
      return s;
    }
    Value valid = index(lanes);
    s.lanes = lanes;
    if (width >= lanes) {
      // Lanes [0, lanes) in line `line`: col % width + lanes <= width.
      Value within = b.create<arith::SubIOp>(
          loc, col, b.create<arith::MulIOp>(loc, line, index(width)));
      s.inOneLine = b.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::sle,
          b.create<arith::AddIOp>(loc, within, valid), index(width));
      s.oneLineStart = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, col, index(stride)),
          b.create<arith::MulIOp>(loc, line, index(gap)));
    }
    for (int64_t j = 0, count = kiln::linesTouched(width, p.vw); j < count;
         ++j) {
      Value lineJ = b.create<arith::AddIOp>(loc, line, index(j));
      Value first = b.create<arith::SubIOp>(
          loc, b.create<arith::MulIOp>(loc, lineJ, index(width)), col);
      Value end = b.create<arith::MinSIOp>(
          loc, b.create<arith::AddIOp>(loc, first, index(width)), valid);
      add(lineJ, first, end, false);
    }
    return s;
  }

  /// `body(oneLine)`'s values: where the segments `s` may span lines, a
  /// branch on whether they do (the same for every row of a panel, so
  /// well predicted), the common case of one line reading it whole.
  SmallVector<Value> byLine(const Segments &s, TypeRange types,
                            function_ref<SmallVector<Value>(bool)> body) {
    if (!s.inOneLine)
      return body(false);
    auto ifOp = b.create<scf::IfOp>(loc, types, s.inOneLine,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    b.create<scf::YieldOp>(loc, body(true));
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    b.create<scf::YieldOp>(loc, body(false));
    return ifOp.getResults();
  }

  /// Through an im2col: per vector of a panel, its line segments
  /// (im2colSegments); none when B is read directly.
  SmallVector<Segments> panelSegments(Value panel, int64_t cols) {
    SmallVector<Segments> segments;
    if (p.im2col)
      for (int64_t v = 0; v < p.nv; ++v)
        segments.push_back(im2colSegments(column(panel, v), lanes(v, cols)));
    return segments;
  }

  /// The vector of B at the row whose offset is `rowOffset`, through the
  /// segments of its columns: of f32 lanes, or of `type`'s.
  Value im2colLoad(const Segments &s, Value rowOffset, VectorType type = {},
                   bool oneLine = false) {
    if (!type)
      type = vecType();
    auto zeros = [&]() -> Value {
      return b.create<arith::ConstantOp>(loc, type,
                                         cast<TypedAttr>(b.getZeroAttr(type)));
    };
    int64_t stride = p.im2col->nCoefs.back();
    if (oneLine) {
      // One segment of s.lanes lanes from s.oneLineStart.
      kiln::VectorLanes vl(b, loc, p.vw, type.getElementType());
      Segments one;
      one.starts.push_back(s.oneLineStart);
      if (s.lanes < p.vw)
        one.masks.push_back(vl.mask(s.lanes));
      if (stride > 1) {
        // Elements [0, stride * (lanes - 1) + 1) of the span, by piece.
        SmallVector<Value> pieces;
        for (int64_t q = 0; q < stride; ++q)
          pieces.push_back(vl.mask(std::clamp<int64_t>(
              stride * (s.lanes - 1) + 1 - q * p.vw, 0, p.vw)));
        one.pieces.push_back(pieces);
      }
      if (stride == 1 && s.lanes == p.vw)
        return b.create<vector::LoadOp>(loc, type, B,
                                        ValueRange{b.create<arith::AddIOp>(
                                            loc, rowOffset, s.oneLineStart)});
      return im2colLoad(one, rowOffset, type);
    }
    Value x = zeros();
    for (auto [j, start] : llvm::enumerate(s.starts)) {
      Value at = b.create<arith::AddIOp>(loc, rowOffset, start);
      if (stride == 1) {
        x = s.masks.empty()
                ? b.create<vector::LoadOp>(loc, type, B, ValueRange{at})
                      .getResult()
                : b.create<vector::MaskedLoadOp>(loc, type, B, ValueRange{at},
                                                 s.masks[j], x)
                      .getResult();
        continue;
      }
      // The span in `stride` pieces, then every stride-th element.
      Value all;
      for (int64_t q = 0; q < stride; ++q) {
        Value piece = b.create<vector::MaskedLoadOp>(
            loc, type, B,
            ValueRange{b.create<arith::AddIOp>(loc, at, index(q * p.vw))},
            s.pieces[j][q], zeros());
        if (!all) {
          all = piece;
          continue;
        }
        int64_t width = cast<VectorType>(all.getType()).getDimSize(0);
        SmallVector<int64_t> ids;
        for (int64_t i = 0; i < width + p.vw; ++i)
          ids.push_back(i);
        all = b.create<vector::ShuffleOp>(loc, all, piece, ids);
      }
      SmallVector<int64_t> picked;
      for (int64_t i = 0; i < p.vw; ++i)
        picked.push_back(i * stride);
      Value v = b.create<vector::ShuffleOp>(loc, all, all, picked);
      x = s.masks.empty()
              ? v
              : b.create<arith::SelectOp>(loc, s.masks[j], v, x).getResult();
    }
    return x;
  }

  /// The im2col offset of row `kk`: base + sum(kCoefs[i] * k_i).
  Value im2colRow(Value kk) {
    const Im2col &ic = *p.im2col;
    Value offset = index(ic.base);
    int64_t inner = 1;
    for (int64_t size : ic.kSizes)
      inner *= size;
    for (auto [i, size] : llvm::enumerate(ic.kSizes)) {
      inner /= size;
      Value q =
          inner > 1 ? b.create<arith::DivSIOp>(loc, kk, index(inner)) : kk;
      if (i > 0)
        q = b.create<arith::RemSIOp>(loc, q, index(size));
      offset = b.create<arith::AddIOp>(
          loc, offset, b.create<arith::MulIOp>(loc, q, index(ic.kCoefs[i])));
    }
    return offset;
  }

  /// C[i:i+rows, panel*nr : +cols] += A[i:i+rows, :] * B[:, same columns],
  /// accumulated in registers over the whole K loop.
  void microKernel(Value i, int64_t rows, Value panel, Value c0, int64_t cols) {
    SmallVector<Value> rowIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(b.create<arith::AddIOp>(loc, i, index(r)));
    SmallVector<Value> colIdx;
    for (int64_t v = 0; v < p.nv; ++v)
      colIdx.push_back(column(panel, v));
    Value local = !p.pack       ? Value()
                  : p.prepacked ? panel
                                : b.create<arith::SubIOp>(loc, panel, c0);

    // Packed A: the row block, where its stream starts, and a flat view of
    // A for the prefetches.
    Value blk, blockStart, prefetch;
    if (p.packedA) {
      assert(!p.int8 && "packed A: f32 micro-kernels only");
      blk = b.create<arith::DivUIOp>(loc, i, index(p.mr));
      blockStart = aBlockStart(blk);
      if (p.prefetchA > 0)
        prefetch = kiln::flatten(b, loc, A);
    }

    // Accumulators start from C, or from the fused initializer's value.
    SmallVector<Value> acc;
    for (int64_t r = 0; r < rows; ++r) {
      Value start;
      if (ends && ends->hasInit())
        start = b.create<vector::BroadcastOp>(
            loc, vecType(), ends->initialValue(b, loc, rowIdx[r]));
      for (int64_t v = 0; v < p.nv; ++v)
        acc.push_back(start ? start
                      : p.zeroInit || !lanes(v, cols)
                          ? zeros()
                          : load(C, {rowIdx[r], colIdx[v]}, lanes(v, cols)));
    }

    auto loop = b.create<scf::ForOp>(
        loc, index(0), index(p.int8 ? p.k4() : p.k), index(1), acc,
        [&](OpBuilder &nb, Location l, Value kk, ValueRange iter) {
          SmallVector<Value> bv;
          if (p.int8) {
            // Four bytes of k per step: B's words from the panel, A's
            // (four signed bytes) broadcast.
            auto bytes = VectorType::get({4 * p.vw}, nb.getIntegerType(8));
            for (int64_t v = 0; v < p.nv; ++v)
              bv.push_back(
                  !lanes(v, cols)
                      ? Value()
                      : nb.create<vector::BitCastOp>(
                            l, vecType(),
                            nb.create<vector::LoadOp>(
                                l, bytes, Bp,
                                ValueRange{local, kk, index(v * p.vw * 4)})));
            SmallVector<Value> next;
            auto word = [&](int64_t r, Value at) -> Value {
              Value s =
                  nb.create<memref::LoadOp>(l, A, ValueRange{rowIdx[r], at});
              return nb.create<vector::BroadcastOp>(l, vecType(), s);
            };
            for (int64_t r = 0; r < rows; ++r) {
              if (p.maddubsSplit) {
                Value at = nb.create<arith::MulIOp>(l, kk, index(2));
                Value hi = word(r, at);
                Value lo = word(r, nb.create<arith::AddIOp>(l, at, index(1)));
                for (int64_t v = 0; v < p.nv; ++v)
                  next.push_back(!bv[v] ? iter[r * p.nv + v]
                                        : maddubsSplitDot4(nb, l,
                                                           iter[r * p.nv + v],
                                                           bv[v], hi, lo));
                continue;
              }
              Value sv = word(r, kk);
              for (int64_t v = 0; v < p.nv; ++v)
                next.push_back(
                    !bv[v] ? iter[r * p.nv + v]
                           : dot4(nb, l, iter[r * p.nv + v], bv[v], sv));
            }
            nb.create<scf::YieldOp>(l, next);
            return;
          }
          // A vector of no valid column (a last panel's) costs nothing: its
          // accumulators are never stored.
          for (int64_t v = 0; v < p.nv; ++v) {
            if (!lanes(v, cols))
              bv.push_back(Value());
            else if (p.pack)
              bv.push_back(nb.create<vector::LoadOp>(
                  l, vecType(), Bp, ValueRange{local, kk, index(v * p.vw)}));
            else
              bv.push_back(load(B, {kk, colIdx[v]}, lanes(v, cols)));
          }
          SmallVector<Value> next;
          if (prefetch)
            prefetchAhead(nb, l, prefetch, blockStart, kk);
          for (int64_t r = 0; r < rows; ++r) {
            Value s =
                p.packedA
                    ? nb.create<memref::LoadOp>(
                          l, A,
                          ValueRange{blk,
                                     aK0 ? nb.create<arith::AddIOp>(l, kk, aK0)
                                         : kk,
                                     index(nb, l, r)})
                    : nb.create<memref::LoadOp>(l, A,
                                                ValueRange{rowIdx[r], kk});
            Value sv = nb.create<vector::BroadcastOp>(l, vecType(), s);
            for (int64_t v = 0; v < p.nv; ++v)
              next.push_back(!bv[v] ? iter[r * p.nv + v]
                                    : nb.create<vector::FMAOp>(
                                          l, sv, bv[v], iter[r * p.nv + v]));
          }
          nb.create<scf::YieldOp>(l, next);
        });
    if (ends && ends->hasEpilogue() && ends->resultMayCrossLines(p.vw)) {
      // A column's rows together: their stores share its lines and masks.
      for (int64_t v = 0; v < p.nv; ++v) {
        int64_t n = lanes(v, cols);
        if (!n)
          continue;
        SmallVector<Value> results;
        for (int64_t r = 0; r < rows; ++r)
          results.push_back(loop.getResult(r * p.nv + v));
        storeResults(results, ArrayRef<Value>(rowIdx).take_front(rows),
                     colIdx[v], n);
      }
      return;
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < p.nv; ++v)
        if (int64_t n = lanes(v, cols))
          storeResult(loop.getResult(r * p.nv + v), rowIdx[r], colIdx[v], n);
  }

  /// Where row block `blk` of packed A starts in its flat view: past its
  /// blocks before, each all of A's steps of k, and its steps before aK0.
  Value aBlockStart(Value blk) {
    int64_t steps = cast<MemRefType>(A.getType()).getDimSize(1);
    Value start = b.create<arith::MulIOp>(loc, blk, index(steps * p.mr));
    if (!aK0)
      return start;
    return b.create<arith::AddIOp>(
        loc, start, b.create<arith::MulIOp>(loc, aK0, index(p.mr)));
  }

  /// Prefetches packed A (`flat`) `prefetchA` floats past step `kk` of the
  /// row block that starts at `blockStart`: into the next blocks' weights
  /// once past this one's, never past A's end.
  void prefetchAhead(OpBuilder &nb, Location l, Value flat, Value blockStart,
                     Value kk) {
    int64_t last = cast<MemRefType>(flat.getType()).getNumElements() - 1;
    Value step = nb.create<arith::MulIOp>(l, kk, index(nb, l, p.mr));
    Value at = nb.create<arith::AddIOp>(l, blockStart, step);
    at = nb.create<arith::AddIOp>(l, at, index(nb, l, p.prefetchA));
    // Past this block's steps, the next block's same steps (setAFrom).
    if (aK0) {
      int64_t steps = cast<MemRefType>(A.getType()).getDimSize(1);
      Value past =
          nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, step,
                                   index(nb, l, p.k * p.mr - p.prefetchA));
      at = nb.create<arith::AddIOp>(
          l, at,
          nb.create<arith::SelectOp>(
              l, past, index(nb, l, (steps - p.k) * p.mr), index(nb, l, 0)));
    }
    at = nb.create<arith::MinSIOp>(l, at, index(nb, l, last));
    nb.create<memref::PrefetchOp>(l, flat, ValueRange{at}, /*isWrite=*/false,
                                  /*localityHint=*/3, /*isDataCache=*/true);
  }
  static Value index(OpBuilder &nb, Location l, int64_t v) {
    return nb.create<arith::ConstantIndexOp>(l, v);
  }

  /// The first `n` lanes of `result` (C's row `row` from column `col`)
  /// stored to C, or through the fused epilogue to its output.
  void storeResult(Value result, Value row, Value col, int64_t n) {
    if (!ends || !ends->hasEpilogue())
      return store(result, C, {row, col}, n);
    storeResults(result, row, col, n);
  }

  /// storeResult through the fused epilogue for results of rows `rows` at
  /// one column (FusedEnds::storeResults).
  void storeResults(ArrayRef<Value> results, ArrayRef<Value> rows, Value col,
                    int64_t n) {
    SmallVector<Value> values;
    for (auto [result, row] : llvm::zip(results, rows)) {
      SmallVector<Value> at{row, col}, others;
      for (unsigned i = 0; i < ends->otherViews().size(); ++i)
        others.push_back(ends->loadOther(b, loc, i, at, n, p.vw));
      values.push_back(ends->apply(b, loc, result, others));
    }
    ends->storeResults(b, loc, values, rows, col, n);
  }

  /// dotTail: C[i:i+rows, fullPanels * nr + j] for the tail's columns j,
  /// each a dot product along k of A's row (vw words or floats at a time)
  /// with the tail column's packed bytes or floats, summed across lanes at
  /// the end; the sums of a row are then one vector of C's row through the
  /// epilogue. Rows go in groups that keep the accumulators within the
  /// registers.
  void dotKernel(Value i, int64_t rows) {
    if (p.packedA)
      return packedTailKernel(i, rows);
    int64_t t = p.tailCols();
    Value flat = flatPack();
    Value col0 = index(p.fullPanels() * p.nr());
    int64_t group = std::clamp<int64_t>(24 / t, 1, rows);
    auto packed =
        VectorType::get({p.laneElements() * p.vw},
                        cast<MemRefType>(flat.getType()).getElementType());
    int64_t whole = p.kLanes() / p.vw, rest = p.kLanes() % p.vw;
    for (int64_t r0 = 0; r0 < rows; r0 += group) {
      int64_t g = std::min(group, rows - r0);
      SmallVector<Value> rowIdx;
      for (int64_t r = 0; r < g; ++r)
        rowIdx.push_back(b.create<arith::AddIOp>(loc, i, index(r0 + r)));
      // acc[r * t + j] += `words` words of A's row r from word vw * q by
      // those of tail column j, at b's insertion point.
      auto step = [&](Value q, ValueRange acc, int64_t words) {
        Value w = b.create<arith::MulIOp>(loc, q, index(p.vw));
        SmallVector<Value> bv;
        for (int64_t j = 0; j < t; ++j) {
          Value at = b.create<arith::AddIOp>(
              loc, b.create<arith::MulIOp>(loc, w, index(p.laneElements())),
              index(p.tailBase() + j * p.tailStride()));
          Value v = b.create<vector::LoadOp>(loc, packed, flat, ValueRange{at});
          bv.push_back(p.int8 ? b.create<vector::BitCastOp>(loc, vecType(), v)
                              : v);
        }
        SmallVector<Value> next;
        for (int64_t r = 0; r < g; ++r) {
          Value av = load(A, {rowIdx[r], w}, words);
          for (int64_t j = 0; j < t; ++j)
            next.push_back(
                p.int8 ? dot4(b, loc, acc[r * t + j], bv[j], av)
                       : b.create<vector::FMAOp>(loc, av, bv[j], acc[r * t + j])
                             .getResult());
        }
        return next;
      };
      SmallVector<Value> acc(g * t, zeros());
      auto loop = b.create<scf::ForOp>(
          loc, index(0), index(whole), index(1), acc,
          [&](OpBuilder &nb, Location, Value q, ValueRange iter) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToEnd(nb.getInsertionBlock());
            b.create<scf::YieldOp>(loc, step(q, iter, p.vw));
          });
      acc = loop.getResults();
      if (rest)
        acc = step(index(whole), acc, rest);
      for (int64_t r = 0; r < g; ++r) {
        Value sums = zeros();
        for (int64_t j = 0; j < t; ++j) {
          // Float lanes summed in any order (a tree, not a chain of 15).
          auto sum = b.create<vector::ReductionOp>(
              loc, vector::CombiningKind::ADD, acc[r * t + j]);
          if (!p.int8)
            sum.setFastmath(arith::FastMathFlags::reassoc);
          sums =
              b.create<vector::InsertOp>(loc, sum, sums, ArrayRef<int64_t>{j});
        }
        storeTail(sums, rowIdx[r], col0);
      }
    }
  }

  /// Row `row`'s tail sums (lane j: column col0 + j) added to what C
  /// starts as there (C itself, the fused initializer's value, or zeros)
  /// and stored.
  void storeTail(Value sums, Value row, Value col0) {
    int64_t t = p.tailCols();
    Value start;
    if (ends && ends->hasInit())
      start = b.create<vector::BroadcastOp>(loc, vecType(),
                                            ends->initialValue(b, loc, row));
    else if (!p.zeroInit)
      start = load(C, {row, col0}, t);
    if (start)
      sums = p.int8 ? b.create<arith::AddIOp>(loc, start, sums).getResult()
                    : b.create<arith::AddFOp>(loc, start, sums).getResult();
    storeResult(sums, row, col0, t);
  }

  /// The dot-product tail's columns for A packed in row blocks, whose rows
  /// are no longer contiguous along k: the block's rows are the lanes
  /// instead. Per step of k, the block's mr weights (one vector, masked to
  /// mr lanes) times each tail column's element of B (broadcast), into one
  /// accumulator per column, or several taking turns over k when there are
  /// fewer columns than the FMAs' latency needs; then each row's sums out
  /// of the lanes. Where the rows fill half a vector, two steps of k a
  /// vector (below).
  void packedTailKernel(Value i, int64_t rows) {
    assert(!p.int8 && p.mr <= p.vw && "packed tail: f32, a vector of rows");
    int64_t t = p.tailCols();
    constexpr int64_t kChains = 8;
    // Where the block's rows fill half a vector (8 of AVX-512's 16 lanes),
    // two steps of k a vector: the block's weights of k and k + 1 are
    // contiguous, one whole load, and B's two elements fill the halves
    // (folded together at the end), so half the FMAs and loads of A. A
    // 7x7 layer's last column (49 = 48 + 1) had cost a 1x1 convolution of
    // 512 -> 2048 channels 11% of its time (0.574 ms against 0.515 for 48
    // columns, one thread, Zen 5); so, 0.536. ResNet-50 0.979 of before on
    // one thread (IQR 0.972-0.984) and 0.981 on two (0.967-0.995),
    // MobileNetV2 0.983 and 0.985, SqueezeNet 0.987 on one (interleaved
    // copies, bench/abtest.c).
    bool pairs = 2 * p.mr == p.vw && p.k >= 2;
    int64_t kStep = pairs ? 2 : 1, steps = p.k / kStep;
    int64_t turns = std::min<int64_t>(llvm::divideCeil(kChains, t), steps);
    // B's tail columns in the pack buffer, or B itself (read in place).
    Value flatA = kiln::flatten(b, loc, A), flatB = p.pack ? flatPack() : B;
    Value blk = b.create<arith::DivUIOp>(loc, i, index(p.mr));
    Value start = aBlockStart(blk);
    Value col0 = index(p.fullPanels() * p.nr());
    // Where the block's weights of step kk start in A.
    auto aIndex = [&](OpBuilder &nb, Location l, Value kk) -> Value {
      return nb.create<arith::AddIOp>(
          l, start, nb.create<arith::MulIOp>(l, kk, index(nb, l, p.mr)));
    };
    // B's element (kk, j) of the tail.
    auto bIndex = [&](OpBuilder &nb, Location l, Value kk, int64_t j) {
      SmallVector<Value> at;
      if (p.pack)
        at.push_back(nb.create<arith::AddIOp>(
            l, kk, index(nb, l, p.tailBase() + j * p.tailStride())));
      else
        at.append({kk, nb.create<arith::AddIOp>(l, col0, index(nb, l, j))});
      return at;
    };
    // acc[j * turns + u] += A's weights of step kk times B's (kk, j).
    auto step = [&](OpBuilder &nb, Location l, Value kk, ValueRange acc,
                    int64_t u) {
      kiln::VectorLanes lanes(nb, l, p.vw);
      Value av = lanes.load(flatA, {aIndex(nb, l, kk)}, p.mr);
      SmallVector<Value> next(acc.begin(), acc.end());
      for (int64_t j = 0; j < t; ++j) {
        Value bs = nb.create<vector::BroadcastOp>(
            l, vecType(),
            nb.create<memref::LoadOp>(l, flatB, bIndex(nb, l, kk, j)));
        next[j * turns + u] =
            nb.create<vector::FMAOp>(l, av, bs, acc[j * turns + u]);
      }
      return next;
    };
    // The same for steps kk and kk + 1 (`pairs`): lanes [0, mr) take k's
    // weights and B's (kk, j), lanes [mr, 2 mr) k + 1's and B's (kk + 1, j).
    SmallVector<int64_t> halves(p.vw);
    for (int64_t lane = 0; lane < p.vw; ++lane)
      halves[lane] = lane / p.mr;
    auto pairStep = [&](OpBuilder &nb, Location l, Value kk, ValueRange acc,
                        int64_t u) {
      Value av =
          nb.create<vector::LoadOp>(l, vecType(), flatA, aIndex(nb, l, kk));
      auto two = VectorType::get({2}, nb.getF32Type());
      SmallVector<Value> next(acc.begin(), acc.end());
      for (int64_t j = 0; j < t; ++j) {
        Value pair;
        if (p.pack) {
          pair = nb.create<vector::LoadOp>(l, two, flatB, bIndex(nb, l, kk, j));
        } else {
          Value kk1 = nb.create<arith::AddIOp>(l, kk, index(nb, l, 1));
          pair = nb.create<vector::FromElementsOp>(
              l, two,
              ValueRange{
                  nb.create<memref::LoadOp>(l, flatB, bIndex(nb, l, kk, j)),
                  nb.create<memref::LoadOp>(l, flatB, bIndex(nb, l, kk1, j))});
        }
        Value bs = nb.create<vector::ShuffleOp>(l, pair, pair, halves);
        next[j * turns + u] =
            nb.create<vector::FMAOp>(l, av, bs, acc[j * turns + u]);
      }
      return next;
    };
    SmallVector<Value> acc(t * turns, zeros());
    int64_t whole = steps / turns, span = turns * kStep;
    auto loop = b.create<scf::ForOp>(
        loc, index(0), index(whole * span), index(span), acc,
        [&](OpBuilder &nb, Location l, Value k0, ValueRange iter) {
          SmallVector<Value> next(iter.begin(), iter.end());
          for (int64_t u = 0; u < turns; ++u) {
            Value kk = nb.create<arith::AddIOp>(l, k0, index(nb, l, u * kStep));
            next =
                pairs ? pairStep(nb, l, kk, next, u) : step(nb, l, kk, next, u);
          }
          nb.create<scf::YieldOp>(l, next);
        });
    acc.assign(loop.getResults().begin(), loop.getResults().end());
    // The steps left: pairs, then (k odd) a last single step of k, whose
    // weights fill lanes [0, mr) only.
    int64_t kk = whole * span, u = 0;
    for (; pairs && kk + 1 < p.k; kk += 2, ++u)
      acc = pairStep(b, loc, index(kk), acc, u % turns);
    for (; kk < p.k; ++kk, ++u)
      acc = step(b, loc, index(kk), acc, u % turns);
    // Column j's sums: its turns added (a tree), and with pairs the two
    // halves; row r's lane of each.
    SmallVector<Value> cols;
    for (int64_t j = 0; j < t; ++j) {
      SmallVector<Value> parts(acc.begin() + j * turns,
                               acc.begin() + (j + 1) * turns);
      while (parts.size() > 1) {
        SmallVector<Value> sums;
        for (size_t q = 0; q + 1 < parts.size(); q += 2)
          sums.push_back(b.create<arith::AddFOp>(loc, parts[q], parts[q + 1]));
        if (parts.size() % 2)
          sums.push_back(parts.back());
        parts = sums;
      }
      Value col = parts.front();
      if (pairs) {
        auto half = [&](int64_t offset) -> Value {
          return b.create<vector::ExtractStridedSliceOp>(
              loc, col, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{p.mr},
              ArrayRef<int64_t>{1});
        };
        col = b.create<arith::AddFOp>(loc, half(0), half(p.mr));
      }
      cols.push_back(col);
    }
    for (int64_t r = 0; r < rows; ++r) {
      Value row = b.create<arith::AddIOp>(loc, i, index(r));
      Value sums = zeros();
      for (int64_t j = 0; j < t; ++j)
        sums = b.create<vector::InsertOp>(
            loc,
            b.create<vector::ExtractOp>(loc, cols[j], ArrayRef<int64_t>{r}),
            sums, ArrayRef<int64_t>{j});
      storeTail(sums, row, col0);
    }
  }

  OpBuilder &b;
  Location loc;
  const GemmPlan &p;
  const kiln::FusedEnds *ends;
  Value A, B, C, Bp;
  Value aK0;      // setAFrom's
  Value rowTable; // while packing: the im2col rows' offsets (i32)
  // With B's panels packed on the stack (packedOnStack): the pack buffer,
  // where the dot-product tail stays.
  Value tailBp;
  SmallVector<Value> dispatch;
  const GemmBorders *borders = nullptr;
};

struct LowerMatmulsPass : kiln::impl::LowerMatmulsBase<LowerMatmulsPass> {
  using LowerMatmulsBase::LowerMatmulsBase;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if ((isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) ||
           isInt8Matmul(op)) &&
          op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops)
      lower(op);
    eraseStaleGlobals(getOperation());
  }

  /// C[m, n] += sext(A[m, k]) * zext(B[k, n]) on i8, i8 and i32: the
  /// linalg.generic an 8-bit convolution lowers to.
  static bool isInt8Matmul(linalg::LinalgOp op) {
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic || generic.getNumDpsInputs() != 2 ||
        generic.getNumDpsInits() != 1 || generic.getNumLoops() != 3)
      return false;
    MLIRContext *ctx = op->getContext();
    AffineExpr m, n, k;
    bindDims(ctx, m, n, k);
    using IT = utils::IteratorType;
    if (generic.getIndexingMapsArray() !=
            SmallVector<AffineMap>{AffineMap::get(3, 0, {m, k}, ctx),
                                   AffineMap::get(3, 0, {k, n}, ctx),
                                   AffineMap::get(3, 0, {m, n}, ctx)} ||
        generic.getIteratorTypesArray() !=
            SmallVector<IT>{IT::parallel, IT::parallel, IT::reduction})
      return false;
    Block &body = *generic.getBlock();
    auto isType = [](Value v, unsigned width) {
      return v.getType().isInteger(width);
    };
    if (!isType(body.getArgument(0), 8) || !isType(body.getArgument(1), 8) ||
        !isType(body.getArgument(2), 32))
      return false;
    auto add = dyn_cast_or_null<arith::AddIOp>(
        body.getTerminator()->getOperand(0).getDefiningOp());
    if (!add)
      return false;
    Value acc = add.getLhs(), product = add.getRhs();
    if (product == body.getArgument(2))
      std::swap(acc, product);
    auto mul = product.getDefiningOp<arith::MulIOp>();
    if (acc != body.getArgument(2) || !mul)
      return false;
    auto sa = mul.getLhs().getDefiningOp<arith::ExtSIOp>();
    auto ub = mul.getRhs().getDefiningOp<arith::ExtUIOp>();
    if (!sa || !ub) {
      sa = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
      ub = mul.getLhs().getDefiningOp<arith::ExtUIOp>();
    }
    return sa && ub && sa.getIn() == body.getArgument(0) &&
           ub.getIn() == body.getArgument(1) &&
           body.getOperations().size() == 5;
  }

  /// The [m, k] i8 constant `a` (a view of a whole constant global, through
  /// subviews and reshapes) repacked as a new global of i32 words [m][k4],
  /// word q of row i holding a[i][4q + t] in byte t (zeros past k); null
  /// when `a` is no such constant. `pairsFit`: whether vpmaddubsw can sum
  /// its pairs exactly; when not and `split`, the words are [m][k4 * 2],
  /// those of w >> 1 and of w & 1 side by side (GemmPlan::maddubsSplit).
  Value packedInt8Words(OpBuilder &b, Location loc, Value a, int64_t m,
                        int64_t k, bool split, bool &pairsFit) {
    auto type = cast<MemRefType>(a.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(getStridesAndOffset(type, strides, offset)) ||
        ShapedType::isDynamic(offset) ||
        llvm::any_of(strides, ShapedType::isDynamic))
      return nullptr;
    Value v = a;
    while (Operation *def = v.getDefiningOp()) {
      if (!isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
               memref::SubViewOp>(def))
        break;
      v = def->getOperand(0);
    }
    auto get = v.getDefiningOp<memref::GetGlobalOp>();
    if (!get || !cast<MemRefType>(get.getType()).getLayout().isIdentity())
      return nullptr;
    auto module = get->getParentOfType<ModuleOp>();
    auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
    if (!global || !global.getConstant() || !global.getInitialValue())
      return nullptr;
    auto dense = dyn_cast<DenseElementsAttr>(*global.getInitialValue());
    if (!dense || !dense.getElementType().isInteger(8))
      return nullptr;
    SmallVector<int8_t> data;
    for (const APInt &x : dense.getValues<APInt>())
      data.push_back(static_cast<int8_t>(x.getSExtValue()));
    // a [m, k] as the view reads it.
    std::vector<int8_t> w(m * k);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t kk = 0; kk < k; ++kk) {
        int64_t at = offset + i * strides[0] + kk * strides[1];
        if (at < 0 || at >= (int64_t)data.size())
          return nullptr;
        w[i * k + kk] = data[at];
      }
    // Bytes 2j and 2j + 1 of a word share a 16-bit sum under vpmaddubsw:
    // with unsigned bytes up to 255 it cannot saturate when the weights
    // differ in sign or |w0| + |w1| <= 128.
    pairsFit = true;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t kk = 0; kk + 1 < k; kk += 2) {
        int w0 = w[i * k + kk], w1 = w[i * k + kk + 1];
        if ((w0 < 0) == (w1 < 0) && std::abs(w0) + std::abs(w1) > 128)
          pairsFit = false;
      }
    // Words [m][k4][slots]: byte t of word (i, q, slot) is
    // byteOf(slot, a[i][4q + t]).
    int64_t k4 = (k + 3) / 4;
    bool halves = split && !pairsFit;
    int64_t slots = halves ? 2 : 1;
    std::vector<int32_t> words(m * k4 * slots, 0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t slot = 0; slot < slots; ++slot) {
          int v = w[i * k + kk];
          uint8_t byte = !halves ? v : slot == 0 ? v >> 1 : v & 1;
          words[(i * k4 + kk / 4) * slots + slot] |=
              static_cast<int32_t>(uint32_t(byte) << (8 * (kk % 4)));
        }
    std::string suffix = "_dot4";
    if (offset)
      suffix += "_" + std::to_string(offset);
    if (halves)
      suffix += "_split";
    return newConstant<int32_t>(b, loc, global, suffix, {m, k4 * slots},
                                [&] { return std::move(words); });
  }

  /// How a GEMM's operands reach a rows function. An operand that is a
  /// static memref is passed as it is; one whose only dynamic part is its
  /// offset (a slice in a loop over images or groups) is passed as its base
  /// buffer, the offset going through a small index buffer, and rebuilt in
  /// the function with a reinterpret_cast.
  struct Dispatch {
    SmallVector<Value> buffers;     // what the call passes
    SmallVector<Type> operandTypes; // A, B, C, Bp as the kernel wants them
    SmallVector<int> offsetSlot;    // per operand: slot in `offsets`, or -1
    int offsetsBuffer = -1;         // index of the offsets in `buffers`
    unsigned endsBegin = 0;         // where the fused ends' buffers start
  };

  /// Plans the call's buffers; fails when an operand cannot be passed.
  static FailureOr<Dispatch> planDispatch(OpBuilder &b, Location loc,
                                          Operation *op, ValueRange operands,
                                          ValueRange endBuffers) {
    Dispatch d;
    SmallVector<Value> offsets;
    for (Value v : operands) {
      d.operandTypes.push_back(v.getType());
      if (kiln::isStaticMemRef(v)) {
        d.buffers.push_back(v);
        d.offsetSlot.push_back(-1);
      } else if (kiln::hasStaticStrides(v)) {
        auto meta = b.create<memref::ExtractStridedMetadataOp>(loc, v);
        d.buffers.push_back(meta.getBaseBuffer());
        d.offsetSlot.push_back(offsets.size());
        offsets.push_back(meta.getOffset());
      } else {
        return failure();
      }
    }
    if (!offsets.empty()) {
      // One small stack buffer per GEMM, at the top of its function.
      auto parent = op->getParentOfType<func::FuncOp>();
      OpBuilder top(parent.getBody());
      Value slots = top.create<memref::AllocaOp>(
          loc, MemRefType::get({static_cast<int64_t>(offsets.size())},
                               b.getIndexType()));
      for (auto [i, offset] : llvm::enumerate(offsets))
        b.create<memref::StoreOp>(
            loc, offset, slots,
            ValueRange{b.create<arith::ConstantIndexOp>(loc, i)});
      d.offsetsBuffer = d.buffers.size();
      d.buffers.push_back(slots);
    }
    d.endsBegin = d.buffers.size();
    d.buffers.append(endBuffers.begin(), endBuffers.end());
    if (d.buffers.size() > kiln::kRowsBuffers ||
        !llvm::all_of(d.buffers, kiln::isStaticMemRef))
      return failure();
    return d;
  }

  /// The function running row blocks [begin, end) of the GEMM over panels
  /// [x, y) of `cols` columns.
  func::FuncOp rowsFunction(Operation *op, const GemmPlan &p, const Dispatch &d,
                            const kiln::FusedEnds *ends,
                            const GemmBorders *borders, int64_t cols,
                            GemmBuilder::Split split) {
    return kiln::createRowsFunction(
        op->getParentOfType<func::FuncOp>(), op->getLoc(),
        TypeRange(ValueRange(d.buffers)),
        split == GemmBuilder::Split::Pack ||
                split == GemmBuilder::Split::PackRows
            ? "pack"
            : "gemm",
        [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
            ArrayRef<BlockArgument> idx) {
          SmallVector<Value> operands;
          for (auto [i, type] : llvm::enumerate(d.operandTypes)) {
            if (d.offsetSlot[i] < 0) {
              operands.push_back(mems[i]);
              continue;
            }
            auto memType = cast<MemRefType>(type);
            SmallVector<int64_t> strides;
            int64_t unused;
            (void)getStridesAndOffset(memType, strides, unused);
            Value offset = fb.create<memref::LoadOp>(
                l, mems[d.offsetsBuffer],
                ValueRange{
                    fb.create<arith::ConstantIndexOp>(l, d.offsetSlot[i])});
            SmallVector<OpFoldResult> sizes, strideFolds;
            for (int64_t s : memType.getShape())
              sizes.push_back(fb.getIndexAttr(s));
            for (int64_t s : strides)
              strideFolds.push_back(fb.getIndexAttr(s));
            operands.push_back(fb.create<memref::ReinterpretCastOp>(
                l, memType, mems[i], OpFoldResult(offset), sizes, strideFolds));
          }
          GemmBuilder rows(fb, l, p, ends);
          rows.setBorders(borders);
          rows.buildRows(operands, ValueRange(mems.drop_front(d.endsBegin)),
                         idx, cols, split);
        });
  }

  /// rowsFunction for each (columns, split) a GEMM asks for, made once.
  GemmBuilder::RowsFunction
  rowsFunctions(Operation *op, const GemmPlan &p, const Dispatch &d,
                const kiln::FusedEnds *ends,
                const GemmBorders *borders = nullptr) {
    return
        [this, op, p, d, ends, borders,
         cache =
             std::map<std::pair<int64_t, GemmBuilder::Split>, func::FuncOp>()](
            int64_t cols, GemmBuilder::Split split) mutable {
          func::FuncOp &fn = cache[{cols, split}];
          if (!fn)
            fn = rowsFunction(op, p, d, ends, borders, cols, split);
          return fn;
        };
  }

  /// The constant global that `v` is whole, through reshapes (which keep
  /// its row-major order), with an initial value; null if none.
  static memref::GlobalOp constantGlobal(Value v) {
    while (Operation *def = v.getDefiningOp()) {
      if (!isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(def))
        break;
      v = def->getOperand(0);
    }
    auto get = v.getDefiningOp<memref::GetGlobalOp>();
    if (!get || !cast<MemRefType>(get.getType()).getLayout().isIdentity())
      return nullptr;
    auto module = get->getParentOfType<ModuleOp>();
    auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
    if (!global || !global.getConstant() || !global.getInitialValue())
      return nullptr;
    return global;
  }

  /// The data of `v` when it is a whole constant f32 global
  /// (constantGlobal), and that global.
  std::optional<std::pair<memref::GlobalOp, std::vector<float>>>
  constantData(Value v) {
    memref::GlobalOp global = constantGlobal(v);
    if (!global)
      return std::nullopt;
    Attribute init = *global.getInitialValue();
    std::vector<float> data;
    if (auto dense = dyn_cast<DenseElementsAttr>(init)) {
      if (!dense.getElementType().isF32())
        return std::nullopt;
      auto values = dense.getValues<float>();
      data.assign(values.begin(), values.end());
    } else if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(init)) {
      std::optional<ArrayRef<float>> values = blob.tryGetAsArrayRef();
      if (!values)
        return std::nullopt;
      data.assign(values->begin(), values->end());
    } else {
      return std::nullopt;
    }
    return std::make_pair(global, std::move(data));
  }

  /// A new constant global, the name of `global` and `suffix`, holding
  /// `data` of `shape` (made once); `global` goes when nothing else uses it.
  /// `data` is computed only when the global is new: a batch's images each
  /// lower their own copy of a layer and would transform and pack its
  /// weights once each (ResNet-18 at batch 8: 8 times).
  template <typename T>
  Value newConstant(OpBuilder &b, Location loc, memref::GlobalOp global,
                    StringRef suffix, ArrayRef<int64_t> shape,
                    function_ref<std::vector<T>()> data) {
    auto module = global->getParentOfType<ModuleOp>();
    Type element = std::is_same_v<T, float>
                       ? Type(b.getF32Type())
                       : Type(b.getIntegerType(8 * sizeof(T)));
    auto type = MemRefType::get(shape, element);
    std::string name = (global.getSymName() + suffix).str();
    if (!module.lookupSymbol(name)) {
      OpBuilder mb(global);
      mb.setInsertionPointAfter(global);
      auto tensorType = RankedTensorType::get(shape, element);
      auto value = DenseResourceElementsAttr::get(
          tensorType, name,
          HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<T>(data())));
      mb.create<memref::GlobalOp>(loc, name, mb.getStringAttr("private"), type,
                                  value, /*constant=*/true,
                                  mb.getI64IntegerAttr(64));
    }
    staleGlobals.insert(global);
    return b.create<memref::GetGlobalOp>(loc, type, name);
  }

  /// `batch` row-major [m][k] matrices `data` (p's m and k) as a new
  /// constant global of row blocks (packRowBlocks), [blocks][k][mr] or
  /// [batch][blocks][k][mr], named after `global` and `suffix`; p reads A
  /// so from then on (packedA, prefetched).
  Value rowBlocksConstant(OpBuilder &b, Location loc, GemmPlan &p,
                          memref::GlobalOp global, StringRef suffix,
                          function_ref<std::vector<float>()> data,
                          int64_t batch) {
    p.packedA = true;
    p.prefetchA = prefetchBytes / 4;
    SmallVector<int64_t> shape{(p.m + p.mr - 1) / p.mr, p.k, p.mr};
    if (batch > 1)
      shape.insert(shape.begin(), batch);
    return newConstant<float>(
        b, loc, global, (suffix + std::to_string(p.mr)).str(), shape,
        [&] { return packRowBlocks(data(), batch, p.m, p.k, p.mr); });
  }

  /// `b` packed into panels [panels][k][nr] (zero-padded) as a new constant
  /// global, when it is a whole constant global; null otherwise.
  Value packedConstant(OpBuilder &b, Location loc, Value bm,
                       const GemmPlan &p) {
    if (!prepackWeights || !bm.getDefiningOp<memref::GetGlobalOp>())
      return nullptr;
    auto constant = constantData(bm);
    if (!constant || static_cast<int64_t>(constant->second.size()) != p.k * p.n)
      return nullptr;
    const std::vector<float> &data = constant->second;
    int64_t nr = p.nr();
    return newConstant<float>(
        b, loc, constant->first, "_panels" + std::to_string(nr),
        {p.panels, p.k, nr}, [&] {
          std::vector<float> packed(p.panels * p.k * nr, 0.0f);
          for (int64_t panel = 0; panel < p.panels; ++panel)
            for (int64_t kk = 0; kk < p.k; ++kk)
              for (int64_t j = 0; j < nr && panel * nr + j < p.n; ++j)
                packed[(panel * p.k + kk) * nr + j] =
                    data[kk * p.n + panel * nr + j];
          return packed;
        });
  }

  /// Erases `view` (a get_global, or a reshape or subview of one) when
  /// nothing reads it, after the views of it that nothing reads; false
  /// when it stays.
  static bool eraseDeadViews(Operation *view) {
    for (Operation *user : llvm::make_early_inc_range(view->getUsers()))
      if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
              memref::SubViewOp>(user))
        eraseDeadViews(user);
    if (!view->use_empty())
      return false;
    view->erase();
    return true;
  }

  /// Erases the globals whose data was packed, when nothing else uses them.
  void eraseStaleGlobals(ModuleOp module) {
    for (memref::GlobalOp global : staleGlobals) {
      SmallVector<memref::GetGlobalOp> gets;
      module.walk([&](memref::GetGlobalOp get) {
        if (get.getName() == global.getSymName())
          gets.push_back(get);
      });
      bool used = false;
      for (memref::GetGlobalOp get : gets)
        if (!eraseDeadViews(get))
          used = true;
      if (!used)
        global->erase();
    }
  }

  llvm::SetVector<memref::GlobalOp> staleGlobals;

  /// B's buffer as written by an im2col copy: a generic (or a linalg.copy,
  /// of a strided view) that copies its one input, through an affine map
  /// without division, into all of the buffer, which nothing but the matmul
  /// reads before it is written again, with nothing in between that writes
  /// the input. The packing can read the input instead: `plan` says
  /// where B[k][n] is in `flat`, a 1-d view of the input made before `op`.
  struct Im2colSource {
    Im2col plan;
    Value flat;
    linalg::LinalgOp copy; // a linalg.generic or linalg.copy
  };
  std::optional<Im2colSource> matchIm2col(OpBuilder &b, Location loc,
                                          linalg::LinalgOp op, int64_t k,
                                          int64_t n) {
    auto collapse = op->getOperand(1).getDefiningOp<memref::CollapseShapeOp>();
    auto alloc = collapse ? collapse.getSrc().getDefiningOp<memref::AllocOp>()
                          : memref::AllocOp();
    if (!alloc || !alloc.getType().hasStaticShape() ||
        !alloc.getType().getLayout().isIdentity())
      return std::nullopt;
    // Buffers of one shape are shared by the layers that use them in turn:
    // the copy is the last op before the matmul to touch the buffer, and
    // the next one after it must write all of it again.
    SmallVector<Operation *> accesses;
    SmallVector<Value> work{alloc.getResult()};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
                memref::SubViewOp>(user))
          work.push_back(user->getResult(0));
        else if (user->getBlock() != op->getBlock())
          return std::nullopt;
        else
          accesses.push_back(user);
      }
    }
    linalg::LinalgOp copy;
    Operation *next = nullptr;
    for (Operation *access : accesses) {
      if (access == op.getOperation())
        continue;
      if (access->isBeforeInBlock(op)) {
        if (!copy || copy->isBeforeInBlock(access))
          copy = dyn_cast<linalg::LinalgOp>(access);
        if (!copy)
          return std::nullopt;
      } else if (!next || access->isBeforeInBlock(next)) {
        next = access;
      }
    }
    auto writesAll = [&](linalg::LinalgOp w) {
      return w && isa<linalg::GenericOp, linalg::CopyOp>(w.getOperation()) &&
             w.hasPureBufferSemantics() && w.getNumDpsInputs() == 1 &&
             w.getNumDpsInits() == 1 &&
             w.getDpsInits()[0] == alloc.getResult() &&
             kiln::rootOf(w.getDpsInputs()[0]) != alloc.getResult() &&
             w.getIndexingMapsArray()[1].isIdentity() &&
             llvm::all_of(w.getIteratorTypesArray(), [](utils::IteratorType t) {
               return t == utils::IteratorType::parallel;
             });
    };
    if (!writesAll(copy) ||
        (next && !writesAll(dyn_cast<linalg::LinalgOp>(next))))
      return std::nullopt;
    Block &body = *copy.getBlock();
    if (body.getTerminator()->getOperand(0) != body.getArgument(0))
      return std::nullopt;
    Value x = copy.getDpsInputs()[0];
    auto xt = cast<MemRefType>(x.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (xt.getElementType() != alloc.getType().getElementType() ||
        !kiln::isStaticMemRef(x) ||
        failed(getStridesAndOffset(xt, strides, offset)))
      return std::nullopt;
    // The input must be as the copy left it when the packing reads it.
    Value xRoot = kiln::rootOf(x);
    if (kiln::rootOf(op->getOperand(2)) == xRoot)
      return std::nullopt;
    for (Operation *o = copy->getNextNode(); o != op.getOperation();
         o = o->getNextNode()) {
      if (isMemoryEffectFree(o) || isa<memref::AllocOp>(o))
        continue;
      auto other = dyn_cast<linalg::LinalgOp>(o);
      if (!other || !other.hasPureBufferSemantics() ||
          llvm::any_of(other.getDpsInits(),
                       [&](Value v) { return kiln::rootOf(v) == xRoot; }))
        return std::nullopt;
    }
    // A prefix of the copy's dims makes k, the rest n.
    ArrayRef<int64_t> dims = alloc.getType().getShape();
    int64_t split = 0, product = 1;
    while (split < (int64_t)dims.size() && product < k)
      product *= dims[split++];
    if (product != k || split == (int64_t)dims.size())
      return std::nullopt;
    // The flat offset is linear in the dims: no mod or division.
    AffineMap map = copy.getIndexingMapsArray()[0];
    for (AffineExpr e : map.getResults()) {
      bool linear = true;
      e.walk([&](AffineExpr sub) {
        if (sub.getKind() == AffineExprKind::Mod ||
            sub.getKind() == AffineExprKind::FloorDiv ||
            sub.getKind() == AffineExprKind::CeilDiv)
          linear = false;
      });
      if (!linear || !e.isPureAffine())
        return std::nullopt;
    }
    auto flatOffset = [&](ArrayRef<int64_t> at) {
      SmallVector<int64_t> r = map.compose(at);
      int64_t f = offset;
      for (auto [i, v] : llvm::enumerate(r))
        f += v * strides[i];
      return f;
    };
    Im2colSource source;
    Im2col &ic = source.plan;
    SmallVector<int64_t> at(dims.size(), 0);
    ic.base = flatOffset(at);
    for (int64_t d = 0; d < (int64_t)dims.size(); ++d) {
      // A dim of one (a 1x1 convolution's KH and KW, after C) indexes
      // nothing: left out, unless it is the last of k or of n.
      bool last = d == split - 1 || d == (int64_t)dims.size() - 1;
      if (dims[d] == 1 && !last)
        continue;
      at[d] = 1;
      int64_t coef = flatOffset(at) - ic.base;
      at[d] = 0;
      (d < split ? ic.kSizes : ic.nSizes).push_back(dims[d]);
      (d < split ? ic.kCoefs : ic.nCoefs).push_back(coef);
    }
    // Consecutive columns of a line are every s-th element of the input
    // (s the stride, at most 4), so that the packing loads them as vectors.
    if (ic.nSizes.size() > 2 || ic.nCoefs.back() < 1 || ic.nCoefs.back() > 4)
      return std::nullopt;
    ic.span = offset + 1;
    for (auto [size, stride] : llvm::zip(xt.getShape(), strides))
      ic.span += (size - 1) * stride;
    if (alloc.getType().getNumElements() != k * n)
      return std::nullopt;
    auto flatType = MemRefType::get({ic.span}, xt.getElementType());
    source.flat = b.create<memref::ReinterpretCastOp>(
        loc, flatType, x, 0, ArrayRef<int64_t>{ic.span}, ArrayRef<int64_t>{1});
    source.copy = copy;
    return source;
  }

  /// Vectors of work per row and k step for n columns in panels of nr:
  /// the panels' vectors, with the last columns, when fewer than a vector,
  /// as the dot-product tail (about their share of one vector).
  static double tailCost(int64_t n, int64_t nr, int64_t vw) {
    int64_t tail = n % nr;
    return double(n / nr * (nr / vw)) +
           (tail < vw ? double(tail) / vw : double((tail + vw - 1) / vw));
  }

  /// 8 x 3 accumulators rather than 8 x 2 where that leaves fewer last
  /// columns than a vector, for the dot-product tail: a 7x7 layer's 49
  /// columns as 48 + 1, not 32 + 17 (the 17 two vectors, one of them a
  /// single lane). Only where they fit in registers with their three B
  /// vectors and an A value: AVX2's 6 x 3 in 16 ymm registers spilled,
  /// and SqueezeNet's last convolution (169 columns, 168 + 1) ran at a
  /// third of its 6 x 2 speed.
  bool widerForTail(const GemmPlan &p) const {
    return p.nv == 2 && p.mr == tileM && p.mr * 3 + 3 + 1 <= vectorRegisters &&
           tailCost(p.n, 3 * p.vw, p.vw) < tailCost(p.n, 2 * p.vw, p.vw);
  }

  /// The blocking for an [m x k] * [k x n] product; `vectors` forces the
  /// vectors per micro-kernel row.
  GemmPlan plan(int64_t m, int64_t n, int64_t k, int64_t vectors = 0) const {
    GemmPlan p;
    p.m = m;
    p.n = n;
    p.k = k;
    p.vw = vectorWidth;
    p.mr = std::min<int64_t>(tileM, m);
    // Keep the accumulator count of a full tile: few rows get wider panels.
    p.nv = std::clamp<int64_t>(tileM * tileNVectors / p.mr, tileNVectors, 8);
    while (p.nv > tileNVectors && (p.nv - 1) * p.vw >= n)
      --p.nv;
    if (vectors)
      p.nv = vectors;
    p.panels = (n + p.nr() - 1) / p.nr();
    p.pack = m >= packMinRows;
    int64_t panelBytes = k * p.nr() * 4;
    p.chunk = std::clamp<int64_t>(chunkBytes / panelBytes, 1, p.panels);
    return p;
  }

  /// Whether `op`'s A, a constant global of m x k floats, is to be packed
  /// into row blocks at compile time (GemmPlan::packedA) for plan `p`.
  bool rowBlocksA(linalg::LinalgOp op, const GemmPlan &p) const {
    if (!packA || isa<linalg::BatchMatmulOp>(op) || p.m <= p.mr || p.mr > p.vw)
      return false;
    memref::GlobalOp global = constantGlobal(op->getOperand(0));
    return global && global.getType().getElementType().isF32() &&
           global.getType().getNumElements() == p.m * p.k;
  }

  void lower(linalg::LinalgOp op) {
    auto types = llvm::map_to_vector(op->getOperands(), [](Value v) {
      return dyn_cast<MemRefType>(v.getType());
    });
    bool int8 = isInt8Matmul(op);
    for (auto [i, t] : llvm::enumerate(types))
      if (!t || !t.hasStaticShape() || !kiln::hasUnitInnerStride(t) ||
          !(int8 ? t.getElementType().isInteger(i < 2 ? 8 : 32)
                 : t.getElementType().isF32()))
        return; // left to linalg-to-loops
    bool batched = isa<linalg::BatchMatmulOp>(op);
    ArrayRef<int64_t> as = types[0].getShape(), bs = types[1].getShape();
    int64_t m = as[batched], k = as[batched + 1], n = bs[batched + 1];
    GemmPlan p = plan(m, n, k);
    if (!int8 && dotTail && !batched && widerForTail(p))
      p = plan(m, n, k, 3);
    if (int8)
      return lowerInt8(op, p);
    // A batch's zero fill right before it (attention's scores and
    // context): the products start from zeros instead, and nothing reads
    // the fill.
    if (auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
        batched && fill && fill.getDpsInits()[0] == op->getOperand(2) &&
        matchPattern(fill.getDpsInputs()[0], m_PosZeroFloat())) {
      p.zeroInit = true;
      fill->erase();
    }
    // A GEMV big enough for the threads: panels of 4 vectors (not 8), so
    // that there are enough of them to share.
    bool gemvParallel = parallel && !batched && m <= p.mr &&
                        2 * m * k * n >= parallelMinGemvFlops;
    if (gemvParallel)
      p = plan(m, n, k, 2 * tileNVectors);
    // A plain product (no batch, no dot-product tail, which reads B packed)
    // reads B in place up to pack-min-rows-plain rows where that is more.
    if (!int8 && !batched && !(dotTail && p.shortTail()))
      p.pack = m >= std::max(packMinRows, packMinRowsPlain);

    OpBuilder b(op);
    Location loc = op.getLoc();
    Value pack;
    // B copied out of a convolution's input (im2col): the packing reads the
    // input itself, and the copy goes.
    std::optional<Im2colSource> im2col;
    if (!batched && fuseIm2col)
      im2col = matchIm2col(b, loc, op, k, n);
    // The padded buffer the packing reads: when it pads the model's input
    // (a copy, no kernel, writes its interior), fill only its border.
    if (im2col)
      kiln::fillBorderOfPad(b, kiln::rootOf(im2col->copy.getDpsInputs()[0]));
    if (im2col && winograd && lowerWinograd(b, loc, op, *im2col))
      return;
    if (im2col) {
      p.im2col = im2col->plan;
      p.pack = true;
    }
    // A constant B (a layer's weights) is packed once, here, into a global.
    if (!batched && !im2col) {
      pack = packedConstant(b, loc, op->getOperand(1), p);
      if (pack) {
        p.pack = p.prepacked = true;
        // A GEMV's panels in one chunk; more rows multiply B a chunk at a
        // time (plan's, sized for L2), each row block over the chunk's
        // panels, rather than over all of B, which a row block then
        // streamed from L3 again: the encoder's FFN weights are 1 MB a
        // matrix, 16 row blocks. That model 0.946 of before on one thread
        // (chunks of 128 or 256 KB 0.955 and 0.952, of 1 MB 0.989),
        // 0.965-0.974 on two (interleaved, Zen 5).
        if (m <= p.mr)
          p.chunk = p.panels;
      }
    }
    // A batch big enough runs its products on the threads, one pack buffer
    // each.
    int64_t batchCount = batched ? as[0] : 1;
    bool batchParallel =
        batched && batchOnThreads(batchCount, p, op->getOperands());
    // The last columns, fewer than a vector, as dot products along k: they
    // are packed after the panels (so not for a B packed at compile time),
    // or read in place where A is packed in row blocks (below), whose tail
    // kernel broadcasts B's elements. MobileNetV2's 14x14 projections (64
    // and 96 rows, B in place) had run their last 4 columns as a panel of
    // one vector, 4 lanes of 16 busy: 11% of such a layer's time, now 7%
    // (576 -> 96 alone 0.950 of before, Zen 5).
    p.dotTail = dotTail && !batched && p.shortTail() &&
                (p.pack ? !p.prepacked : rowBlocksA(op, p));
    // Threads only for chunks worth it: a second core reading what the
    // first packed costs more than it gives on a small product. A GEMV
    // (one row block) shares its panels: each core streams its part of B.
    bool manyBlocks = p.m > p.mr;
    bool onThreads =
        parallel && !batched &&
        (manyBlocks ? 2 * p.m * p.k * std::min(p.n, p.chunk * p.nr()) >=
                          parallelMinFlops
                    : gemvParallel && p.panels > 1);
    // B packed at run time by the threads that multiply its panels: one
    // call for all of them rather than one per chunk, when they fit a few
    // chunks' bytes (whole-chunks). Each thread's panels then run from its
    // own end of B's columns, as in the layers before and after, rather
    // than from both ends of each chunk, and a layer makes one call.
    // ResNet-50's 56x56 1x1 convolutions of 64 channels (chunks of 64 of
    // 98 panels) and its 28x28 stride-2 one of 256 (16 of 24), paired
    // rounds on Zen 5: two threads 0.986 of before (IQR 0.983-0.999, 16
    // rounds), one thread 0.982 (0.976-1.004, 10). Other GEMMs' Bs are one
    // chunk already, read in place, or larger. Bounded by 8 chunks instead
    // (its first convolution's 7.4 MB im2col among them) ResNet-50 had 1.5
    // MB more arena and no more speed (0.980-0.988); by 4, MobileNetV2's
    // and SqueezeNet's first convolutions took it too, no faster, and
    // SqueezeNet 0.8 MB more arena. (Zen 5 figures, with chunks of at least
    // 8 panels.) On Zen 4, with B's panels counted in all rather than per
    // chunk (so that ResNet-50's 28x28 stride-2 convolution, chunks of 3
    // of k 1152, takes it too) and up to 8 chunks' bytes (its 56x56 and
    // 28x28 1x1 convolutions into 128 and 256 channels, B 1.6 to 3.2 MB):
    // ResNet-50 two threads 0.986 of before (three runs of 8-10 paired
    // rounds), one thread 0.994, 0.3 MB more arena; ResNet-18 at batch 8
    // 0.992; MobileNetV2 and SqueezeNet 1.004 and 1.002, arenas unchanged.
    // A B read in place (a 1x1 convolution's input) whose panels the
    // threads share (GemmBuilder's panelsInPlace) likewise, with no buffer
    // to bound (whole-in-place).
    // Where the threads pack the panels they multiply on their stacks
    // (stack-pack-kb), the pack buffer holds only the last partial panel
    // and the dot tail, whatever B's size: B is then whole at any size
    // (ResNet-50's first convolution, 15 chunks, one call instead of 15:
    // two threads 0.991, one 0.987; its arena 0.33 MB smaller).
    bool ownOnStack = onThreads && manyBlocks && stackPackKB > 0 && p.pack &&
                      !p.prepacked &&
                      p.fullPanels() >= GemmBuilder::kMinPanelsToSplit;
    bool wholeB =
        p.pack ? !p.prepacked && (ownOnStack || (p.panels + p.tailPanels()) *
                                                        p.k * p.nr() * 4 <=
                                                    wholeChunks * chunkBytes)
               : wholeInPlace;
    if (onThreads && manyBlocks && wholeB &&
        (p.pack ? p.fullPanels() : p.chunk) >= GemmBuilder::kMinPanelsToSplit &&
        p.chunk < p.fullPanels()) {
      p.piece = p.chunk;
      p.chunk = p.panels;
    }
    if (stackPackKB > 0)
      p.stackPanels =
          std::max<int64_t>(1, stackPackKB * 1024 / (p.k * p.nr() * 4));
    if (ownOnStack && GemmBuilder::ownPanels(p))
      p.packHeld = 1;
    if (p.pack && !pack) {
      SmallVector<int64_t> shape{p.heldPanels() + p.tailPanels(), k, p.nr()};
      if (batchParallel)
        shape.insert(shape.begin(), batchCount);
      pack = b.create<memref::AllocOp>(
          loc, MemRefType::get(shape, b.getF32Type()), b.getI64IntegerAttr(64));
    }
    Value a = op->getOperand(0), bm = op->getOperand(1), c = op->getOperand(2);
    // A constant A (a convolution's weights) packed into row blocks at
    // compile time and prefetched: each row block's weights are read from
    // memory once, by its first panel, which with mr rows k apart left the
    // FMAs waiting (ResNet-50's and MobileNetV2's 14x14 and 7x7 layers, a
    // dozen or three panels a block).
    if (rowBlocksA(op, p))
      if (auto weights = constantData(a))
        a = rowBlocksConstant(
            b, loc, p, weights->first, "_rows", [&] { return weights->second; },
            /*batch=*/1);
    // A tail read in place is A's row blocks' (packedTailKernel): not
    // where their data could not be read.
    if (p.dotTail && !p.pack && !p.packedA)
      p.dotTail = false;
    // With B packed at compile time, the kernel never reads B itself.
    if (p.prepacked)
      bm = pack;
    if (im2col)
      bm = im2col->flat;
    Value packed = pack ? pack : bm; // what the micro-kernel reads
    if (!batched) {
      // The bias that C starts as and the elementwise op after: in the
      // kernel, when nothing else needs C itself.
      kiln::FusedEnds ends;
      if (fuse)
        ends = kiln::FusedEnds::match(b, op, c, ValueRange{a, bm}, m,
                                      /*gappedResult=*/true);
      ends.setBlendStores(blendStores);
      if (fuseDepthwise > 0 && fuseWindowAfter(op, p, a, bm, ends)) {
        ends.eraseFused();
        Value cRoot = kiln::rootOf(c), oldB = op->getOperand(1);
        op->erase();
        for (Value v : {cRoot, pack})
          if (auto alloc = v ? v.getDefiningOp<memref::AllocOp>() : nullptr)
            if (alloc->use_empty())
              alloc->erase();
        if (im2col)
          eraseIm2col(oldB, *im2col);
        return;
      }
      // A reduction on two threads by halves of k: the else branch below
      // is the GEMM as on any other count.
      std::optional<OpBuilder::InsertionGuard> splitGuard;
      // (Only where the threads would share its row blocks: where they
      // split B's columns, each core reads the columns it wrote, ResNet-50's
      // 56x56 and 28x28 layers. And only where the two partial sums fit a
      // chunk of packed B, which is sized to stay in L2: ResNet-50's
      // 1024 -> 512 at 14x14, 800 KB of partials, by rows took 0.992 of
      // its time by halves on two threads far.)
      if (splitK && onThreads && manyBlocks && !im2col && !p.prepacked &&
          p.packedA &&
          std::min(p.chunk, p.fullPanels()) < GemmBuilder::kMinPanelsToSplit &&
          ends.hasInit() && 2 * m <= k && k % 2 == 0 &&
          2 * m * n * int64_t(sizeof(float)) <= chunkBytes &&
          kiln::isStaticMemRef(bm) && kiln::isStaticMemRef(c) &&
          onlyWhole(bm)) {
        std::optional<GemmBorders> splitBorders =
            moveBorders ? resultBorders(op, p, ends) : std::nullopt;
        SmallVector<Value> sumBuffers = ends.buffers();
        if (splitBorders)
          sumBuffers.push_back(splitBorders->padded);
        if (sumBuffers.size() + 2 <= kiln::kRowsBuffers &&
            llvm::all_of(sumBuffers, kiln::isStaticMemRef)) {
          auto func = op->getParentOfType<func::FuncOp>();
          Value count = kiln::emitNumThreads(b, loc, func);
          Value two = b.create<arith::CmpIOp>(
              loc, arith::CmpIPredicate::eq, count,
              b.create<arith::ConstantIntOp>(loc, 2, 32));
          auto ifOp = b.create<scf::IfOp>(loc, two, /*withElseRegion=*/true);
          splitGuard.emplace(b);
          b.setInsertionPointToStart(&ifOp.getThenRegion().front());
          emitSplitK(b, loc, func, p, a, bm, c, ends,
                     splitBorders ? &*splitBorders : nullptr);
          b.setInsertionPointToStart(&ifOp.getElseRegion().front());
        }
      }
      GemmBuilder::RowsFunction rows;
      FailureOr<Dispatch> dispatch = failure();
      // C starting as the fused initializer and stored to another buffer
      // (a padded one's interior) is neither read nor written: A stands in
      // for it in the parallel call, so that C's buffer, which nothing else
      // uses, goes (MobileNetV2's 112x112 expansion held 4.8 MB of arena
      // that no instruction touched).
      bool cUntouched = ends.hasInit() && ends.hasEpilogue() &&
                        kiln::rootOf(ends.resultView()) != kiln::rootOf(c);
      // The border of the padded buffer whose interior the GEMM writes: by
      // the threads, beside the rows each writes, rather than by the caller
      // before the GEMM, which wrote lines the other core then took back
      // (ResNet-50's stride-2 convolutions' inputs).
      std::optional<GemmBorders> borders;
      if (onThreads && moveBorders)
        borders = resultBorders(op, p, ends);
      if (onThreads) {
        SmallVector<Value> endBuffers = ends.buffers();
        // Owned here: a ValueRange of a braced list would outlive its
        // array.
        SmallVector<Value> operands{a, bm, cUntouched ? a : c, packed};
        if (borders)
          endBuffers.push_back(borders->padded);
        dispatch = planDispatch(b, loc, op, operands, endBuffers);
        if (failed(dispatch) && borders) {
          // No room for the padded buffer: the fills stay.
          borders.reset();
          endBuffers.pop_back();
          dispatch = planDispatch(b, loc, op, operands, endBuffers);
        }
      }
      if (p.packHeld >= 0 && failed(dispatch)) {
        // On the caller after all: the pack buffer holds a chunk.
        p.packHeld = -1;
        Operation *small = pack.getDefiningOp();
        pack = b.create<memref::AllocOp>(
            loc,
            MemRefType::get({p.chunk + p.tailPanels(), k, p.nr()},
                            b.getF32Type()),
            b.getI64IntegerAttr(64));
        packed = pack;
        if (small->use_empty())
          small->erase();
      }
      GemmBuilder builder(b, loc, p, &ends);
      if (succeeded(dispatch)) {
        builder.setDispatchBuffers(dispatch->buffers);
        rows = rowsFunctions(op, p, *dispatch, &ends,
                             borders ? &*borders : nullptr);
      }
      builder.build(a, bm, c, packed, rows);
      splitGuard.reset();
      if (borders && succeeded(dispatch))
        kiln::eraseBorderFills(borders->fills);
      ends.eraseFused();
    } else {
      emitBatch(b, loc, op->getParentOfType<func::FuncOp>(), p, a, bm, c, pack,
                batchParallel);
    }
    Value oldB = op->getOperand(1);
    op->erase();
    if (im2col)
      eraseIm2col(oldB, *im2col);
  }

  /// Whether every view of `v`'s buffer is all of it (through reshapes):
  /// no part of it is written apart, as a Concat's parts computed in place
  /// are, each by a kernel whose threads split its own rows. A split-k
  /// product (emitSplitK) reads the half of B that its thread wrote only
  /// where one kernel wrote all of B by rows (SqueezeNet's squeeze layers,
  /// whose B is two expand layers' output, ran 1.015 of by rows on two
  /// threads).
  static bool onlyWhole(Value v) {
    SmallVector<Value> views{kiln::rootOf(v)};
    while (!views.empty()) {
      Value x = views.pop_back_val();
      for (Operation *user : x.getUsers()) {
        if (auto sub = dyn_cast<memref::SubViewOp>(user)) {
          std::optional<kiln::Box> box = kiln::staticBox(sub);
          if (!box || llvm::any_of(box->offsets, [](int64_t o) { return o; }) ||
              llvm::to_vector(box->sizes) !=
                  llvm::to_vector(sub.getSourceType().getShape()))
            return false;
        }
        if (kiln::isViewOp(user))
          views.push_back(user->getResult(0));
      }
    }
    return true;
  }

  /// C = A B (planned as `p`, A constant, maybe in row blocks) with its
  /// fused `ends` (a bias at least) on two threads by halves of k: each
  /// half's product, B packed by its thread, into a partial C of its own
  /// ([2][m][n], from zeros), then on the threads by rows their sum, the
  /// bias and the epilogue, and the borders of the padded buffer whose
  /// interior the epilogue writes (`borders`, when the GEMM would have
  /// written them). Where m <= k / 2 (a 1x1 convolution that reduces
  /// channels), a core then reads half of the partial C from the other,
  /// where split by rows it read half of B (or of the packed B), two
  /// times as much or more: B's halves are its rows, which the layer
  /// before wrote split by rows too.
  void emitSplitK(OpBuilder &b, Location loc, func::FuncOp func,
                  const GemmPlan &p, Value a, Value bm, Value c,
                  const kiln::FusedEnds &ends, const GemmBorders *borders) {
    int64_t m = p.m, n = p.n, half = p.k / 2;
    auto f32 = b.getF32Type();
    GemmPlan q = plan(m, n, half);
    if (dotTail && widerForTail(q))
      q = plan(m, n, half, 3);
    q.mr = p.mr;
    q.pack = true;
    q.zeroInit = true;
    q.dotTail = dotTail && q.shortTail();
    q.packedA = true;
    q.prefetchA = p.prefetchA;
    Value partial = b.create<memref::AllocOp>(
        loc, MemRefType::get({2, m, n}, f32), b.getI64IntegerAttr(64));
    Value pack = b.create<memref::AllocOp>(
        loc, MemRefType::get({2, q.chunk + q.tailPanels(), half, q.nr()}, f32),
        b.getI64IntegerAttr(64));
    auto index = [](OpBuilder &fb, Location l, int64_t x) -> Value {
      return fb.create<arith::ConstantIndexOp>(l, x);
    };
    SmallVector<Value> halves{a, bm, partial, pack};
    // Half h's operands: A from row h * half of k on, B's rows of that
    // half, its partial C and its pack buffer.
    auto halfOperands = [&](OpBuilder &fb, Location l, ArrayRef<Value> mems,
                            Value h) {
      OpFoldResult zero = fb.getIndexAttr(0);
      Value k0 = fb.create<arith::MulIOp>(l, h, index(fb, l, half));
      Value bh = subview(fb, l, mems[1], {k0, zero}, {half, n}, 0);
      Value ch = subview(fb, l, mems[2], {h, zero, zero}, {1, m, n}, 1);
      Value ph = subview(fb, l, mems[3], {h, zero, zero, zero},
                         {1, q.chunk + q.tailPanels(), half, q.nr()}, 1);
      return std::make_pair(k0, SmallVector<Value, 4>{mems[0], bh, ch, ph});
    };
    Value zero = index(b, loc, 0);
    int64_t blocks = llvm::divideCeil(m, q.mr), panels = q.fullPanels();
    // Halves of at least this many multiply-adds each run as two calls of
    // fine units (below). ResNet-50's 14x14 and 7x7 reductions have 25.7 M
    // (a half 0.25-0.3 ms on Zen 5); MobileNetV2's at most 7.5 M, where
    // the second call's cost outweighs what it balances (two threads
    // 1.018 of one call a half).
    constexpr int64_t kMinMacsToBalanceHalves = int64_t(1) << 24;
    if (m * n * half >= kMinMacsToBalanceHalves && panels > 0 &&
        q.chunk >= panels &&
        (q.tailCols() == 0 || (q.dotTail && q.shortTail()))) {
      // Each half packed (by rows of k) and multiplied (by row blocks) in
      // a call of its own, of units fine enough for the runtime to move
      // work between the threads: a half as one unit left the thread done
      // first waiting for the other's longer half (ResNet-50's 14x14
      // reductions on two threads 90% busy, 98-99% so; a third of a half
      // and more while one vCPU ran slower). Each call's units are the two
      // halves' in turn, so each thread's own range is its half, which it
      // packs and then multiplies.
      auto byHalves = [&](StringRef name, int64_t unitsPerHalf,
                          GemmBuilder::Split split) {
        func::FuncOp fn = kiln::createRowsFunction(
            func, loc, TypeRange(ValueRange(halves)), name,
            [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> args,
                ArrayRef<BlockArgument> idx) {
              SmallVector<Value> mems(args.begin(), args.end());
              forEachPart(
                  fb, l, idx[2], idx[3], unitsPerHalf,
                  [&](OpBuilder &, Location, Value h, Value lo, Value hi) {
                    auto [k0, operands] = halfOperands(fb, l, mems, h);
                    GemmBuilder builder(fb, l, q);
                    builder.setAFrom(k0);
                    builder.buildRows(
                        operands, ValueRange(),
                        {index(fb, l, 0), index(fb, l, panels), lo, hi}, q.nr(),
                        split);
                  });
            });
        kiln::emitParallelRows(b, loc, fn, halves, zero, zero,
                               index(b, loc, 2 * unitsPerHalf));
      };
      byHalves("halves_pack", half, GemmBuilder::Split::PackRows);
      byHalves("halves", blocks, GemmBuilder::Split::Rows);
    } else {
      func::FuncOp halvesFn = kiln::createRowsFunction(
          func, loc, TypeRange(ValueRange(halves)), "halves",
          [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> args,
              ArrayRef<BlockArgument> idx) {
            SmallVector<Value> mems(args.begin(), args.end());
            forLoop(fb, l, idx[2], idx[3], [&](OpBuilder &, Value h) {
              auto [k0, operands] = halfOperands(fb, l, mems, h);
              GemmBuilder builder(fb, l, q);
              builder.setAFrom(k0);
              builder.build(operands[0], operands[1], operands[2], operands[3],
                            nullptr);
            });
          });
      kiln::emitParallelRows(b, loc, halvesFn, halves, zero, zero,
                             index(b, loc, 2));
    }

    // C itself only without an epilogue (which writes elsewhere or over C).
    SmallVector<Value> sums{partial, ends.hasEpilogue() ? partial : c};
    llvm::append_range(sums, ends.buffers());
    if (borders)
      sums.push_back(borders->padded);
    func::FuncOp sumFn = kiln::createRowsFunction(
        func, loc, TypeRange(ValueRange(sums)), "sum",
        [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
            ArrayRef<BlockArgument> idx) {
          kiln::FusedEnds local = ends.remap(
              SmallVector<Value>(mems.begin() + 2, mems.end() - !!borders));
          kiln::VectorLanes lanes(fb, l, vectorWidth);
          Value begin = idx[2], end = idx[3];
          // The border of these rows' planes, as the GEMM's threads do.
          if (borders)
            fillPlaneBorders(fb, l, mems.back(), borders->fills, begin, end);
          forLoop(fb, l, begin, end, [&](OpBuilder &, Value row) {
            Value init = fb.create<vector::BroadcastOp>(
                l, lanes.type(), local.initialValue(fb, l, row));
            for (int64_t col = 0; col < n; col += vectorWidth) {
              int64_t count = std::min<int64_t>(vectorWidth, n - col);
              Value at = index(fb, l, col);
              Value y = init;
              for (int64_t h = 0; h < 2; ++h)
                y = fb.create<arith::AddFOp>(
                    l, y,
                    lanes.load(mems[0], ValueRange{index(fb, l, h), row, at},
                               count));
              if (!local.hasEpilogue()) {
                lanes.store(y, mems[1], ValueRange{row, at}, count);
                continue;
              }
              SmallVector<Value> others;
              for (unsigned i = 0; i < local.otherViews().size(); ++i)
                others.push_back(
                    local.loadOther(fb, l, i, {row, at}, count, vectorWidth));
              local.storeResult(fb, l, local.apply(fb, l, y, others), row, at,
                                count);
            }
          });
        });
    kiln::emitParallelRows(b, loc, sumFn, sums, zero, zero, index(b, loc, m));
  }

  /// The image that a GEMM's fused ends write: a one-image buffer (an
  /// alloc) of p.m planes, the GEMM's columns their pixels row by row,
  /// inside one pixel of border (a gapped result) or the whole plane.
  struct ResultImage {
    Value buffer;
    int64_t h, w, border;
  };
  static std::optional<ResultImage> resultImage(const GemmPlan &p,
                                                const kiln::FusedEnds &ends) {
    if (!ends.resultView())
      return std::nullopt;
    Value buffer = kiln::rootOf(ends.resultView());
    auto t = cast<MemRefType>(buffer.getType());
    if (!buffer.getDefiningOp<memref::AllocOp>() || t.getRank() != 4 ||
        !t.hasStaticShape() || t.getDimSize(0) != 1 || t.getDimSize(1) != p.m)
      return std::nullopt;
    const kiln::FusedEnds::Gaps *gaps = ends.resultGaps();
    int64_t border = gaps ? 1 : 0;
    int64_t hp = t.getDimSize(2), wp = t.getDimSize(3), h = hp - 2 * border,
            w = wp - 2 * border;
    if (h < 1 || w < 1 || h * w != p.n ||
        (gaps &&
         (gaps->width != w || gaps->gap != 2 || gaps->offset != wp + 1)))
      return std::nullopt;
    return ResultImage{buffer, h, w, border};
  }

  /// Whether the linalg ops that touch `padded` after `op` are all im2col
  /// copies that read it whole (as [C, KH, KW, OH, OW]) for a convolution
  /// that is not Winograd's (strided, dilated, or not 3x3): no kernel of
  /// theirs writes its border, where a window (kiln-lower-windows) or a
  /// Winograd convolution's input transform does.
  static bool onlyIm2colReaders(Operation *op, Value padded) {
    bool any = false;
    for (Operation *user : padded.getUsers()) {
      Operation *at = op->getBlock()->findAncestorOpInBlock(*user);
      if (!at || !op->isBeforeInBlock(at) || !isa<linalg::LinalgOp>(user))
        continue;
      auto copy = dyn_cast<linalg::GenericOp>(user);
      if (!copy || copy.getNumDpsInputs() != 1 || copy.getNumDpsInits() != 1 ||
          copy.getDpsInputs()[0] != padded)
        return false;
      auto cols = dyn_cast<MemRefType>(copy.getDpsInits()[0].getType());
      AffineMap map = copy.getIndexingMapsArray()[0];
      if (!cols || cols.getRank() != 5 || map.getNumResults() != 4)
        return false;
      bool scaled = false;
      for (unsigned r : {2u, 3u})
        map.getResult(r).walk([&](AffineExpr e) {
          if (auto mul = dyn_cast<AffineBinaryOpExpr>(e);
              mul && mul.getKind() == AffineExprKind::Mul)
            if (auto c = dyn_cast<AffineConstantExpr>(mul.getRHS());
                c && c.getValue() > 1)
              scaled = true;
        });
      if (!scaled && cols.getDimSize(1) == 3 && cols.getDimSize(2) == 3)
        return false; // maybe Winograd's
      any = true;
    }
    return any;
  }

  /// The fills of the border of the padded buffer whose interior `ends`
  /// write (a gapped result: one pixel of border around each of p.m planes
  /// of p.n pixels), which the GEMM's threads can write instead; none when
  /// the result is not such, or a fill reaches inside the border.
  std::optional<GemmBorders> resultBorders(linalg::LinalgOp op,
                                           const GemmPlan &p,
                                           const kiln::FusedEnds &ends) {
    std::optional<ResultImage> image = resultImage(p, ends);
    if (p.int8 || !image || !image->border ||
        !onlyIm2colReaders(op, image->buffer))
      return std::nullopt;
    int64_t h = image->h, w = image->w, hp = h + 2, wp = w + 2;
    GemmBorders borders{image->buffer,
                        kiln::borderFillsBefore(op, image->buffer), h, w};
    auto inBorder = [&](const kiln::BorderFill &f) {
      return f.row + f.rows <= 1 || f.row >= hp - 1 || f.col + f.cols <= 1 ||
             f.col >= wp - 1;
    };
    if (borders.fills.empty() || !llvm::all_of(borders.fills, inBorder))
      return std::nullopt;
    return borders;
  }

  /// A convolution `op` (planned as `p`, A and B being `a` and `bm`) whose
  /// fused `ends` write a buffer that only a window then reads: the
  /// interior of a padded buffer (one pixel of border) before a depthwise
  /// convolution (MobileNetV2's 1x1 expansions), or an unpadded buffer
  /// before a max pool (SqueezeNet's first convolution, B its input's
  /// im2col). Both run in one kernel, at the window, a band of its output
  /// rows at a time. Each band's GEMM writes the (padded) input rows the
  /// band reads into a buffer on the stack, and the band's window rows read
  /// them there while they are in the core's cache, instead of the whole
  /// buffer going out to memory and back (4.8 MB at 112x112, SqueezeNet's
  /// 3.2 MB at 111x111); a band's first input rows are its previous band's
  /// last, carried over in the buffer where the band before ran in the same
  /// call (else recomputed). Each thread takes a run of consecutive bands,
  /// so that each core keeps its own. Erases the window, its fused ends and the
  /// padded buffer's border fills; false, with nothing changed, when the pair
  /// is not such.
  static constexpr int64_t kFuseWindowMaxWeightBytes = 32768;
  /// A band's im2col panels are packed this many bytes at a time, which
  /// stay in L1 while every row block multiplies them (SqueezeNet, Zen 5,
  /// interleaved rounds: two threads 0.988 of 96 KB, one 0.998).
  static constexpr int64_t kBandPackBytes = 16384;
  /// Of the band heights from `most` down to half of it (at least 2), for
  /// a window of `oh` output rows, stride `sh` and `kh` rows: the one whose
  /// bands a two-thread call's two units (a run of consecutive bands each)
  /// make most even, counting the input rows that a share's first band
  /// after the first computes again (kh - sh), the tallest of equals.
  /// MobileNetV2's 28x28 pairs ran bands of 9, 9, 9 and 1 rows, one thread
  /// 18 rows and the other 10 (plus 2), their kernels 0.93 of their time
  /// on one thread; in bands of 5 (5 x 5 + 3, 15 and 13 + 2 rows) the
  /// model on two threads 0.982 (interleaved rounds, Zen 5), on one 0.999.
  static int64_t evenBandRows(int64_t oh, int64_t sh, int64_t kh,
                              int64_t most) {
    // The rows (output rows, and recomputed input rows over the stride) of
    // the busier of two threads' shares.
    auto busier = [&](int64_t rows) {
      int64_t bands = (oh + rows - 1) / rows;
      double worst = 0;
      for (int64_t t = 0; t < 2; ++t) {
        int64_t first = bands * t / 2, end = bands * (t + 1) / 2;
        double share = 0;
        for (int64_t u = first; u < end; ++u)
          share += std::min(rows, oh - u * rows);
        if (first > 0 && first < end)
          share += double(std::max<int64_t>(kh - sh, 0)) / double(sh);
        worst = std::max(worst, share);
      }
      return worst;
    };
    int64_t best = most;
    double bestRows = busier(most);
    for (int64_t rows = most - 1; rows >= std::max<int64_t>(2, (most + 1) / 2);
         --rows)
      if (double r = busier(rows); r < bestRows) {
        best = rows;
        bestRows = r;
      }
    return best;
  }

  bool fuseWindowAfter(linalg::LinalgOp op, const GemmPlan &p, Value a,
                       Value bm, kiln::FusedEnds &ends) {
    // Each band reads all of A again: small weights only (MobileNetV2's
    // 112x112 to 28x28 expansions, 6 to 24 KB; its 14x14 and 7x7 ones, 98
    // to 614 KB, ran 1.5 times as long fused).
    if (p.int8 || p.prepacked || !ends.hasInit() || !ends.hasEpilogue() ||
        !ends.otherViews().empty() || p.m * p.k * 4 > kFuseWindowMaxWeightBytes)
      return false;
    std::optional<ResultImage> image = resultImage(p, ends);
    if (!image || image->buffer == kiln::rootOf(op->getOperand(2)))
      return false;
    Value padded = image->buffer;
    const kiln::FusedEnds::Gaps *gaps = ends.resultGaps();
    int64_t border = image->border, h = image->h, w = image->w,
            hp = h + 2 * border, wp = w + 2 * border;
    // An im2col's columns are the output's rows and columns, and its
    // bands' pack buffer on the stack holds two panels or more in
    // kBandPackBytes plus one (with the dot tail's).
    if (p.im2col &&
        (p.im2col->nSizes.size() != 2 || p.im2col->nSizes[0] != h ||
         p.im2col->nSizes[1] != w || 2 * p.k * p.nr() * 4 > kBandPackBytes))
      return false;
    // The window: the one reader of the buffer, a depthwise convolution of
    // the padded one, a max pool of the unpadded one.
    linalg::LinalgOp dw;
    for (Operation *user : padded.getUsers())
      if (auto l = dyn_cast<linalg::LinalgOp>(user);
          l && (l->hasAttr(kiln::kDepthwiseAttr) ||
                isa<linalg::PoolingNchwMaxOp>(user))) {
        if (dw || l.getDpsInputs()[0] != padded)
          return false;
        dw = l;
      }
    if (!dw || dw->getBlock() != op->getBlock() || !op->isBeforeInBlock(dw))
      return false;
    // Nor, through views, does anything after it (a residual, a copy into
    // a concatenation): the buffer is never written.
    SmallVector<Value> views{padded};
    while (!views.empty()) {
      Value x = views.pop_back_val();
      for (Operation *user : x.getUsers()) {
        if (isa<memref::SubViewOp, memref::ExpandShapeOp,
                memref::CollapseShapeOp, memref::ReinterpretCastOp>(user)) {
          views.push_back(user->getResult(0));
          continue;
        }
        Operation *at = dw->getBlock()->findAncestorOpInBlock(*user);
        if (!at || dw->isBeforeInBlock(at))
          return false;
      }
    }
    std::optional<kiln::WindowBand> db = kiln::windowBand(dw, vectorWidth);
    if (!db || db->pool != !gaps || db->planes != p.m || db->ih != hp ||
        db->iw != wp || (db->oh - 1) * db->sh + db->kh > hp)
      return false;
    // Between the two, nothing but the GEMM's epilogue and the fills of the
    // padded buffer's borders (zeros), the window output's allocation and
    // initializer (and a pool's window buffer), and ops without memory
    // effects.
    SmallVector<kiln::BorderFill> borders;
    if (gaps) {
      borders = kiln::borderFillsBefore(dw, padded);
      if (borders.empty() ||
          llvm::any_of(borders, [](const kiln::BorderFill &f) {
            auto v = dyn_cast<FloatAttr>(f.value);
            return !v || !v.getValue().isZero();
          }))
        return false;
    }
    // The kernel reads A and B where the window is: its output must not be
    // in their buffers (a depthwise layer's output written where the layer
    // before's was, which only this GEMM read: DS-CNN's blocks).
    Value dwOut = kiln::rootOf(dw.getDpsInits()[0]);
    Value aRoot = kiln::rootOf(a), bRoot = kiln::rootOf(bm);
    if (dwOut == aRoot || dwOut == bRoot)
      return false;
    for (Operation *at = op->getNextNode(); at != dw.getOperation();
         at = at->getNextNode()) {
      if (isMemoryEffectFree(at) || isa<memref::AllocOp>(at))
        continue;
      auto l = dyn_cast<linalg::LinalgOp>(at);
      if (!l || !l.hasPureBufferSemantics() || l.getNumDpsInits() != 1 ||
          (kiln::rootOf(l.getDpsInits()[0]) != padded &&
           kiln::rootOf(l.getDpsInits()[0]) != dwOut))
        return false;
    }
    // The band: at most as many output rows as keep its input rows (one
    // shared with the band before for stride 2, two for stride 1) within the
    // budget, at least two, and at least three bands; of those, the height
    // whose bands two threads share most evenly (evenBandRows).
    int64_t rowBytes = p.m * wp * 4;
    int64_t bandRows = 0;
    for (int64_t r = 2; r <= db->oh / 3; ++r)
      if (((r - 1) * db->sh + db->kh) * rowBytes <= fuseDepthwise * 1024)
        bandRows = r;
    if (bandRows == 0)
      return false;
    bandRows = evenBandRows(db->oh, db->sh, db->kh, bandRows);
    int64_t bands = (db->oh + bandRows - 1) / bandRows;
    int64_t lastRows = db->oh - (bands - 1) * bandRows;
    int64_t inRows = (bandRows - 1) * db->sh + db->kh; // the scratch's rows
    // The rows a band shares with the next (none where it would overlap the
    // rows that it carries them to).
    int64_t carry = db->kh - db->sh;
    if (carry < 0 || bandRows * db->sh < carry)
      carry = 0;
    // A pool's second operand only gives the window's shape.
    Value wgt = db->pool ? a : dw.getDpsInputs()[1], out = dw.getDpsInits()[0];

    OpBuilder b(dw);
    Location loc = dw.getLoc();
    kiln::FusedEnds dwEnds;
    if (fuse)
      dwEnds = kiln::FusedEnds::match(
          b, dw, out, db->pool ? ValueRange{padded} : ValueRange{padded, wgt},
          db->planes);
    if (dwEnds.hasEpilogue() && (kiln::rootOf(dwEnds.resultView()) == aRoot ||
                                 kiln::rootOf(dwEnds.resultView()) == bRoot))
      return false;
    // The kernel does both ops' work (and their fused ends'): its nodes.
    loc = FusedLoc::get(dw->getContext(), {op->getLoc(), dw->getLoc()});
    // The buffers the kernel takes; the GEMM's result slot (the buffer,
    // which the kernel no longer touches) holds A instead.
    SmallVector<Value> gemmEnds = ends.buffers();
    gemmEnds.back() = a;
    SmallVector<Value> buffers{a, bm, wgt, out};
    buffers.append(gemmEnds);
    buffers.append(dwEnds.buffers());
    if (buffers.size() > kiln::kRowsBuffers ||
        !llvm::all_of(buffers, kiln::isStaticMemRef))
      return false; // dwEnds' views stay, unused, for kiln-lower-windows

    auto body = [&](OpBuilder &fb, Location l, ArrayRef<Value> mems,
                    Value begin, Value end) {
      auto idx = [&](int64_t v) -> Value {
        return fb.create<arith::ConstantIndexOp>(l, v);
      };
      Value ma = mems[0], mb = mems[1], mw = mems[2], mout = mems[3];
      kiln::FusedEnds gEnds = ends.remap(mems.slice(4, gemmEnds.size()));
      kiln::FusedEnds dEnds =
          dwEnds.remap(mems.drop_front(4 + gemmEnds.size()));
      // The band's input rows: [1, planes, inRows, wp], a padded buffer's
      // border columns zero (the GEMM writes between them).
      auto scratchType = MemRefType::get({1, p.m, inRows, wp}, fb.getF32Type());
      Value scratch =
          fb.create<memref::AllocaOp>(l, scratchType, fb.getI64IntegerAttr(64));
      Value flat = fb.create<memref::CollapseShapeOp>(
          l, scratch, ArrayRef<ReassociationIndices>{{0, 1, 2, 3}});
      Value zero = fb.create<arith::ConstantOp>(l, fb.getF32FloatAttr(0));
      Value zeroRow = fb.create<vector::BroadcastOp>(
          l, VectorType::get({vectorWidth}, fb.getF32Type()), zero);
      if (border)
        forLoop(fb, l, idx(0), idx(p.m), [&](OpBuilder &nb, Value c) {
          forLoop(nb, l, idx(0), idx(inRows), [&](OpBuilder &nb2, Value r) {
            Value z = nb2.create<arith::ConstantIndexOp>(l, 0);
            nb2.create<memref::StoreOp>(l, zero, scratch,
                                        ValueRange{z, c, r, z});
            nb2.create<memref::StoreOp>(
                l, zero, scratch,
                ValueRange{z, c, r,
                           nb2.create<arith::ConstantIndexOp>(l, wp - 1)});
          });
        });
      // Padded rows [first, first + count) of the scratch zero (outside
      // the image).
      auto zeroRows = [&](int64_t first, int64_t count) {
        if (count <= 0)
          return;
        forLoop(fb, l, idx(0), idx(p.m), [&](OpBuilder &nb, Value c) {
          for (int64_t r = first; r < first + count; ++r)
            for (int64_t col = 0; col < wp; col += vectorWidth)
              kiln::VectorLanes(nb, l, vectorWidth, nb.getF32Type())
                  .store(zeroRow, scratch,
                         ValueRange{nb.create<arith::ConstantIndexOp>(l, 0), c,
                                    nb.create<arith::ConstantIndexOp>(l, r),
                                    nb.create<arith::ConstantIndexOp>(l, col)},
                         std::min<int64_t>(vectorWidth, wp - col));
        });
      };
      // The scratch rows a band shares with the band after it (the last
      // kh - sh of its input rows), moved to the top for that band.
      auto carryRows = [&]() {
        int64_t planeSize = inRows * wp, span = carry * wp;
        int64_t from = bandRows * db->sh * wp;
        forLoop(fb, l, idx(0), idx(p.m), [&](OpBuilder &nb, Value c) {
          Value base = nb.create<arith::MulIOp>(
              l, c, nb.create<arith::ConstantIndexOp>(l, planeSize));
          kiln::VectorLanes lanes(nb, l, vectorWidth, nb.getF32Type());
          for (int64_t e = 0; e < span; e += vectorWidth) {
            int64_t n = std::min<int64_t>(vectorWidth, span - e);
            Value dst = nb.create<arith::AddIOp>(
                l, base, nb.create<arith::ConstantIndexOp>(l, e));
            Value src = nb.create<arith::AddIOp>(
                l, base, nb.create<arith::ConstantIndexOp>(l, from + e));
            lanes.store(lanes.load(flat, src, n), flat, dst, n);
          }
        });
      };
      // Unpadded: the band's rows as [planes][inRows * wp].
      Value planes;
      if (!border)
        planes = fb.create<memref::CollapseShapeOp>(
            l, scratch, ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}});
      llvm::SmallDenseMap<int64_t, Value> packBuffers; // by panel width
      // The GEMM of a band's `count` image rows from `imageRow`, into
      // scratch rows [at, at + count): B's columns of those rows (read in
      // place), or the im2col of the input rows they read, packed on the
      // stack.
      auto bandGemm = [&](Value imageRow, int64_t at, int64_t count) {
        int64_t n = count * w;
        GemmPlan pb = plan(p.m, n, p.k);
        pb.packedA = p.packedA;
        pb.prefetchA = p.prefetchA;
        kiln::FusedEnds bandEnds;
        if (border) {
          bandEnds = gEnds.inPlanes(flat, inRows * wp, at * wp + border);
        } else {
          bandEnds = gEnds.withResult(fb.create<memref::SubViewOp>(
              l, planes,
              ArrayRef<OpFoldResult>{fb.getIndexAttr(0),
                                     fb.getIndexAttr(at * wp)},
              ArrayRef<OpFoldResult>{fb.getIndexAttr(p.m), fb.getIndexAttr(n)},
              ArrayRef<OpFoldResult>{fb.getIndexAttr(1), fb.getIndexAttr(1)}));
        }
        bandEnds.setBlendStores(blendStores);
        if (!p.im2col) {
          Value col0 = fb.create<arith::MulIOp>(l, imageRow, idx(w));
          Value bBand = fb.create<memref::SubViewOp>(
              l, mb, ArrayRef<OpFoldResult>{fb.getIndexAttr(0), col0},
              ArrayRef<OpFoldResult>{fb.getIndexAttr(p.k), fb.getIndexAttr(n)},
              ArrayRef<OpFoldResult>{fb.getIndexAttr(1), fb.getIndexAttr(1)});
          pb.pack = false;
          GemmBuilder(fb, l, pb, &bandEnds)
              .build(ma, bBand, ma, bBand, nullptr);
          return;
        }
        // The band's im2col: the input from its first row's elements on,
        // as far as its rows read.
        Im2col ic = *p.im2col;
        ic.nSizes[0] = count;
        ic.span =
            ic.base + 1 + (count - 1) * ic.nCoefs[0] + (w - 1) * ic.nCoefs[1];
        for (auto [size, coef] : llvm::zip(ic.kSizes, ic.kCoefs))
          ic.span += (size - 1) * coef;
        Value bBand = fb.create<memref::SubViewOp>(
            l, mb,
            ArrayRef<OpFoldResult>{
                fb.create<arith::MulIOp>(l, imageRow, idx(ic.nCoefs[0]))
                    .getResult()},
            ArrayRef<OpFoldResult>{fb.getIndexAttr(ic.span)},
            ArrayRef<OpFoldResult>{fb.getIndexAttr(1)});
        pb.im2col = ic;
        pb.pack = true;
        pb.dotTail = dotTail && pb.shortTail();
        int64_t mostPanels = kBandPackBytes / (p.k * pb.nr() * 4); // >= 2
        pb.chunk = std::min(mostPanels, pb.panels);
        // One buffer for the bands of every size: the most panels a chunk
        // takes, and one more for the dot-product tail (under a vector of
        // columns, it fits one panel).
        Value &packBuffer = packBuffers[pb.nr()];
        if (!packBuffer)
          packBuffer = entryAlloca(
              fb, l,
              MemRefType::get({mostPanels + 1, p.k, pb.nr()}, fb.getF32Type()),
              64);
        assert(pb.tailPanels() <= 1 && "a dot-product tail of one panel");
        GemmBuilder(fb, l, pb, &bandEnds)
            .build(ma, bBand, ma, packBuffer, nullptr);
      };
      // A band whose output rows start at o0 (its input rows at pr0 = o0 *
      // sh): the image rows it reads through the GEMM, then its window
      // rows. A `carried` band follows a band of this call whose last rows
      // it starts with (carryRows) instead of computing them again.
      auto band = [&](Value o0, int64_t rows, bool first, bool last,
                      bool carried) {
        int64_t need = (rows - 1) * db->sh + db->kh; // input rows read
        // Image rows [pr0 - border + at, + count) at scratch row `at`: the
        // first band's start at row 0 (a padded buffer's top border), the
        // last's may end past the image (the bottom border).
        int64_t at = first ? border : carried ? carry : 0;
        int64_t count = need - at;
        // Before the bottom border's zeros, which may be where they were.
        if (carried)
          carryRows();
        if (last) {
          int64_t pr0 = (db->oh - rows) * db->sh;
          count = std::min(need, h + border - pr0) - at;
          zeroRows(at + std::max<int64_t>(count, 0),
                   need - at - std::max<int64_t>(count, 0));
        }
        if (first)
          zeroRows(0, border);
        if (count > 0)
          bandGemm(first ? idx(0)
                         : fb.create<arith::AddIOp>(
                               l, fb.create<arith::MulIOp>(l, o0, idx(db->sh)),
                               idx(at - border)),
                   at, count);
        kiln::emitWindowBand(fb, l, dw, dEnds, scratch, mw, mout, o0, rows,
                             vectorWidth, windowRows);
      };
      // Bands [begin, end), the first of them computing all its rows, the
      // others carrying their first rows over from the band before.
      // forLoop's builder is fb itself, inside the loop.
      forLoop(fb, l, begin, end, [&](OpBuilder &, Value u) {
        // Middle or last band.
        auto laterBand = [&](bool carried) {
          Value isLast = fb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                                  u, idx(bands - 1));
          auto ifLast = fb.create<scf::IfOp>(l, isLast, /*withElse=*/true);
          fb.setInsertionPointToStart(&ifLast.getThenRegion().front());
          band(idx((bands - 1) * bandRows), lastRows, false, true, carried);
          fb.setInsertionPointToStart(&ifLast.getElseRegion().front());
          band(fb.create<arith::MulIOp>(l, u, idx(bandRows)), bandRows, false,
               false, carried);
        };
        // Bands from the first (all of them on the caller alone) carry
        // after it; others only after their call's first.
        bool fromFirst = getConstantIntValue(begin) == 0;
        scf::IfOp ifStart;
        if (carry > 0 && !fromFirst) {
          Value isStart =
              fb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, u, begin);
          ifStart = fb.create<scf::IfOp>(l, isStart, /*withElse=*/true);
          fb.setInsertionPointToStart(&ifStart.getThenRegion().front());
        }
        Value isFirst =
            fb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, u, idx(0));
        auto ifFirst = fb.create<scf::IfOp>(l, isFirst, /*withElse=*/true);
        fb.setInsertionPointToStart(&ifFirst.getThenRegion().front());
        band(idx(0), bandRows, true, false, false);
        fb.setInsertionPointToStart(&ifFirst.getElseRegion().front());
        laterBand(carry > 0 && fromFirst);
        if (ifStart) {
          fb.setInsertionPointToStart(&ifStart.getElseRegion().front());
          laterBand(true);
        }
      });
    };
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value count = b.create<arith::ConstantIndexOp>(loc, bands);
    if (parallel) {
      func::FuncOp fn = kiln::createRowsFunction(
          op->getParentOfType<func::FuncOp>(), loc, TypeRange(buffers), "fused",
          [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
              ArrayRef<BlockArgument> idx) {
            // Unit u of x: bands [u bands / x, (u + 1) bands / x).
            auto firstBand = [&](Value u) -> Value {
              return fb.create<arith::DivUIOp>(
                  l,
                  fb.create<arith::MulIOp>(
                      l, u, fb.create<arith::ConstantIndexOp>(l, bands)),
                  idx[0]);
            };
            body(fb, l, SmallVector<Value>(mems.begin(), mems.end()),
                 firstBand(idx[2]), firstBand(idx[3]));
          });
      // As many units of consecutive bands as threads run the call (but
      // not more than bands), so that each thread's bands carry their shared
      // rows from one to the next throughout: in units of a band, the
      // pool's pieces (half of what a thread has left, then half again)
      // each computed their first band's shared rows again, and two threads
      // did a tenth more GEMM rows than one. MobileNetV2 on two threads
      // 0.982 (interleaved rounds, Zen 5), on one 0.998, SqueezeNet's stem
      // and pool 1.002 on two.
      Value threads = b.create<arith::IndexCastOp>(
          loc, b.getIndexType(),
          kiln::emitNumThreads(b, loc, op->getParentOfType<func::FuncOp>()));
      Value units = b.create<arith::MinSIOp>(loc, threads, count);
      kiln::emitParallelRows(b, loc, fn, buffers, units, zero, units);
    } else {
      body(b, loc, buffers, zero, count);
    }
    dwEnds.eraseFused();
    Value window = db->pool ? dw.getDpsInputs()[1] : Value();
    dw->erase();
    kiln::eraseBorderFills(borders);
    // A pool's window buffer is then unused.
    if (auto alloc = window ? window.getDefiningOp<memref::AllocOp>() : nullptr)
      if (alloc->use_empty())
        alloc->erase();
    return true;
  }

  /// `fills` (of a padded buffer's border, borderFillsBefore's) for the
  /// planes [begin, end) of `padded` ([1][planes][h][w]).
  static void fillPlaneBorders(OpBuilder &b, Location loc, Value padded,
                               ArrayRef<kiln::BorderFill> fills, Value begin,
                               Value end) {
    auto one = b.getIndexAttr(1);
    Value planes = b.create<arith::SubIOp>(loc, end, begin);
    for (const kiln::BorderFill &f : fills) {
      Value box = b.create<memref::SubViewOp>(
          loc, padded,
          ArrayRef<OpFoldResult>{b.getIndexAttr(0), begin,
                                 b.getIndexAttr(f.row), b.getIndexAttr(f.col)},
          ArrayRef<OpFoldResult>{one, planes, b.getIndexAttr(f.rows),
                                 b.getIndexAttr(f.cols)},
          ArrayRef<OpFoldResult>{one, one, one, one});
      Value value = b.create<arith::ConstantOp>(loc, f.value);
      b.create<linalg::FillOp>(loc, value, box);
    }
  }

  /// for (i = lb; i < ub; ++i) body(builder inside, i).
  static void forLoop(OpBuilder &b, Location loc, Value lb, Value ub,
                      function_ref<void(OpBuilder &, Value)> body) {
    auto loop = b.create<scf::ForOp>(loc, lb, ub,
                                     b.create<arith::ConstantIndexOp>(loc, 1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(b, loop.getInductionVar());
  }

  /// For a call whose units are parts' units in turn, `perPart` each (a
  /// split of k's halves' rows of k or row blocks, a span's channels or
  /// elements), so that a thread's own range of units is its parts', and
  /// the runtime moves pieces of a part to a thread that is done first:
  /// fn(part, [lo, hi)) for each part that units [begin, end) reach, its
  /// units among them counted from the part's first.
  static void forEachPart(
      OpBuilder &b, Location loc, Value begin, Value end, int64_t perPart,
      function_ref<void(OpBuilder &, Location, Value, Value, Value)> fn) {
    auto index = [&](int64_t x) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, x);
    };
    Value first = b.create<arith::DivUIOp>(loc, begin, index(perPart));
    Value past = b.create<arith::DivUIOp>(
        loc, b.create<arith::AddIOp>(loc, end, index(perPart - 1)),
        index(perPart));
    forLoop(b, loc, first, past, [&](OpBuilder &, Value part) {
      Value base = b.create<arith::MulIOp>(loc, part, index(perPart));
      Value lo = b.create<arith::SubIOp>(
          loc, b.create<arith::MaxSIOp>(loc, begin, base), base);
      Value hi = b.create<arith::SubIOp>(
          loc,
          b.create<arith::MinSIOp>(
              loc, end, b.create<arith::AddIOp>(loc, base, index(perPart))),
          base);
      fn(b, loc, part, lo, hi);
    });
  }

  /// Whether a batch of `count` products planned as `p` runs on the
  /// threads: enough FLOPs, pack buffers (one per product) that stay small,
  /// and static operands.
  bool batchOnThreads(int64_t count, const GemmPlan &p,
                      ValueRange operands) const {
    return parallel && count > 1 &&
           2 * count * p.m * p.k * p.n >= parallelMinFlops &&
           (!p.pack || count * p.chunk * p.k * p.nr() * 4 <= 4 * chunkBytes) &&
           llvm::all_of(operands, kiln::isStaticMemRef);
  }

  /// The products of a batch, C[i] += A[i] * B[i] for i < batchCount (A,
  /// B and C 3-d, or A 4-d when p.packedA), each on its own slices; on the
  /// threads (`threads`), one pack buffer each, or on the caller.
  /// With `aIndex`, product i's A is a's aIndex(i) (products that share
  /// their A: a stride-2 Winograd convolution's).
  using BatchIndex = std::function<Value(OpBuilder &, Location, Value)>;
  void emitBatch(OpBuilder &b, Location loc, func::FuncOp func,
                 const GemmPlan &p, Value a, Value bm, Value c, Value pack,
                 bool threads, const BatchIndex &aIndex = nullptr) {
    int64_t batchCount = cast<MemRefType>(c.getType()).getDimSize(0);
    // Products [begin, end) of the batch, each on its own slices.
    auto products = [&](OpBuilder &b, Location loc, Value a, Value bm, Value c,
                        Value pack, Value begin, Value end) {
      auto loop = b.create<scf::ForOp>(
          loc, begin, end, b.create<arith::ConstantIndexOp>(loc, 1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value bi = loop.getInductionVar();
      auto slice = [&](Value v, Value at = nullptr) -> Value {
        auto t = cast<MemRefType>(v.getType());
        int64_t rank = t.getRank();
        SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
        offsets[0] = at ? at : bi;
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(1)};
        for (int64_t d = 1; d < rank; ++d)
          sizes.push_back(b.getIndexAttr(t.getDimSize(d)));
        SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
        auto resultType =
            cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
                t.getShape().drop_front(), t, offsets, sizes, strides));
        return b.create<memref::SubViewOp>(loc, resultType, v, offsets, sizes,
                                           strides);
      };
      Value bs = slice(bm);
      Value ps = !pack ? bs : threads ? slice(pack) : pack;
      Value as = slice(a, aIndex ? aIndex(b, loc, bi) : Value());
      GemmBuilder(b, loc, p).build(as, bs, slice(c), ps, nullptr);
    };
    if (!threads)
      return products(b, loc, a, bm, c, pack,
                      b.create<arith::ConstantIndexOp>(loc, 0),
                      b.create<arith::ConstantIndexOp>(loc, batchCount));
    SmallVector<Value> buffers{a, bm, c};
    if (pack)
      buffers.push_back(pack);
    func::FuncOp fn = kiln::createRowsFunction(
        func, loc, TypeRange(buffers), "batch",
        [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
            ArrayRef<BlockArgument> idx) {
          products(fb, l, mems[0], mems[1], mems[2],
                   pack ? Value(mems[3]) : Value(), idx[2], idx[3]);
        });
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    kiln::emitParallelRows(b, loc, fn, buffers, zero, zero,
                           b.create<arith::ConstantIndexOp>(loc, batchCount));
  }

  /// An 8-bit contraction (isInt8Matmul) with a constant A: A as words
  /// packed at compile time, B packed into byte panels at run time, the
  /// fused ends as for f32.
  void lowerInt8(linalg::LinalgOp op, GemmPlan p) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    bool maddubs = int8Dot == "maddubs" && (p.vw == 8 || p.vw == 16);
    bool pairsFit = false;
    Value words = packedInt8Words(b, loc, op->getOperand(0), p.m, p.k,
                                  /*split=*/maddubs, pairsFit);
    if (!words)
      return; // left to linalg-to-loops
    // With 32 vector registers, 8 x 3 accumulators (8 rows of 48 columns):
    // the byte panels' loads go further than with f32's 8 x 2 (3 to 14%
    // faster on ResNet's layers; 4 vectors a row is slower again).
    if (p.vw == 16 && p.m >= tileM && p.n > 2 * p.vw)
      p = plan(p.m, p.n, p.k, 3);
    p.int8 = true;
    p.vnni = int8Dot == "vnni" && p.vw == 16;
    p.smlad = int8Dot == "smlad";
    p.maddubs = maddubs && pairsFit;
    p.maddubsSplit = maddubs && !pairsFit;
    p.dotTail = dotTail && !p.smlad && !p.maddubsSplit && p.shortTail();
    p.pack = true;
    p.chunk =
        std::clamp<int64_t>(chunkBytes / (p.k4() * p.nr() * 4), 1, p.panels);
    Value oldB = op->getOperand(1), bm = oldB, c = op->getOperand(2);
    // B copied out of a convolution's input (im2col): the packing reads the
    // input itself, and the copy goes.
    std::optional<Im2colSource> im2col;
    if (fuseIm2col)
      im2col = matchIm2col(b, loc, op, p.k, p.n);
    if (im2col) {
      p.im2col = im2col->plan;
      bm = im2col->flat;
    }
    Value pack = b.create<memref::AllocOp>(
        loc,
        MemRefType::get({p.chunk + p.tailPanels(), p.k4(), 4 * p.nr()},
                        b.getIntegerType(8)),
        b.getI64IntegerAttr(64));
    kiln::FusedEnds ends;
    if (fuse)
      ends = kiln::FusedEnds::match(b, op, c, ValueRange{op->getOperand(0), bm},
                                    p.m, /*gappedResult=*/true);
    ends.setBlendStores(blendStores);
    loc = op->getLoc(); // with the fused ops' nodes
    GemmBuilder builder(b, loc, p, &ends);
    GemmBuilder::RowsFunction rows;
    int64_t chunkCols = std::min(p.n, p.chunk * p.nr());
    FailureOr<Dispatch> dispatch = failure();
    if (parallel && builder.blocks() > 1 &&
        2 * p.m * p.k * chunkCols >= parallelMinFlops)
      dispatch = planDispatch(b, loc, op, ValueRange{words, bm, c, pack},
                              ends.buffers());
    if (succeeded(dispatch)) {
      builder.setDispatchBuffers(dispatch->buffers);
      rows = rowsFunctions(op, p, *dispatch, &ends);
    }
    builder.build(words, bm, c, pack, rows);
    ends.eraseFused();
    op->erase();
    if (im2col)
      eraseIm2col(oldB, *im2col);
  }

  /// The im2col copy that wrote `oldB`, and its buffer with it when nothing
  /// else uses it.
  static void eraseIm2col(Value oldB, const Im2colSource &im2col) {
    auto collapse = oldB.getDefiningOp<memref::CollapseShapeOp>();
    Operation *alloc = collapse.getSrc().getDefiningOp();
    im2col.copy->erase();
    if (collapse->use_empty())
      collapse->erase();
    if (alloc->use_empty())
      alloc->erase();
  }

  /// The cost per channel pair of `conv`'s Winograd products, in vectors
  /// of FMAs: each product its tiles' vectors, plus the streaming of each
  /// distinct transformed weight, which a model's weights (far larger than
  /// the caches) bring from memory once per run. Packed into row blocks
  /// and prefetched, a weight costs about a vector of FMAs here.
  int64_t winogradProductsCost(const kiln::WinogradConv &conv) const {
    constexpr int64_t kWeightVectors = 1;
    return conv.elements() * laneVectors(conv.tiles()) +
           conv.weightElements() * kWeightVectors;
  }
  /// Vectors of `n` f32 lanes.
  int64_t laneVectors(int64_t n) const {
    return static_cast<int64_t>(llvm::divideCeil(n, vectorWidth));
  }

  /// The output tile side of `conv` as Winograd: `winogradTile` when set,
  /// else the cheaper of 2 and 4 by winogradProductsCost ((m + 2)^2
  /// products): ResNet-50's 56x56, 28x28 and 14x14 layers take F(4x4, 3x3)
  /// (13, 4 and 1 vectors of tiles), its 7x7 ones F(2x2, 3x3) (1 vector of
  /// 16 tiles against one of 4). With the weights read as mr rows k apart
  /// and no prefetches, a weight had cost two vectors, and the 14x14 layers
  /// had been faster in F(2x2, 3x3) (ResNet-50 one thread, medians of 9
  /// alternating rounds: 39.4 ms with them in F(2x2), 38.5 in F(4x4)).
  int64_t winogradTileSide(kiln::WinogradConv conv) const {
    if (winogradTile == 2 || winogradTile == 4)
      return winogradTile;
    auto cost = [&](int64_t m) {
      conv.m = m;
      return winogradProductsCost(conv);
    };
    return cost(4) < cost(2) ? 4 : 2;
  }

  /// True when `padded`, the input that `op` (a Winograd convolution)
  /// reads, is one image's planes whose borders (borderFillsBefore's fills)
  /// are zeros, exactly its first and last rows and columns, and nothing
  /// after op reads it or a view of it: then the input transform may read
  /// those borders as zeros instead of writing them.
  bool zeroBorderFills(linalg::LinalgOp op, Value padded,
                       const kiln::WinogradConv &conv,
                       ArrayRef<kiln::BorderFill> fills) const {
    auto type = cast<MemRefType>(padded.getType());
    int64_t h = conv.oh + 2, w = conv.ow + 2;
    if (type.getShape() != ArrayRef<int64_t>{1, conv.channels, h, w} ||
        conv.base != 0 || conv.planeStride != h * w || conv.rowStride != w)
      return false;
    std::vector<bool> filled(h * w, false);
    for (const kiln::BorderFill &f : fills) {
      auto value = dyn_cast<FloatAttr>(f.value);
      if (!value || !value.getValue().isZero())
        return false;
      for (int64_t r = f.row; r < f.row + f.rows; ++r)
        for (int64_t col = f.col; col < f.col + f.cols; ++col)
          filled[r * w + col] = true;
    }
    for (int64_t r = 0; r < h; ++r)
      for (int64_t col = 0; col < w; ++col)
        if (filled[r * w + col] !=
            (r == 0 || r == h - 1 || col == 0 || col == w - 1))
          return false;
    // Views of the interior (the layer before's output, read again by a
    // residual Add) may be read after op; nothing else may (its borders are
    // never written).
    auto interior = [&](memref::SubViewOp view) {
      auto offsets = view.getStaticOffsets(), sizes = view.getStaticSizes();
      auto strides = view.getStaticStrides();
      return view.getSourceType().getRank() == 4 &&
             llvm::none_of(llvm::concat<const int64_t>(offsets, sizes),
                           ShapedType::isDynamic) &&
             llvm::all_of(strides, [](int64_t s) { return s == 1; }) &&
             offsets[2] >= 1 && offsets[2] + sizes[2] <= h - 1 &&
             offsets[3] >= 1 && offsets[3] + sizes[3] <= w - 1;
    };
    Block *block = op->getBlock();
    SmallVector<Value> views{padded};
    while (!views.empty()) {
      Value x = views.pop_back_val();
      for (Operation *user : x.getUsers()) {
        auto sub = dyn_cast<memref::SubViewOp>(user);
        if (x == padded && sub && interior(sub))
          continue;
        Operation *at = block->findAncestorOpInBlock(*user);
        if (!at || op->isBeforeInBlock(at))
          return false;
        if (isa<memref::SubViewOp, memref::CollapseShapeOp,
                memref::ExpandShapeOp, memref::CastOp,
                memref::ReinterpretCastOp>(user))
          views.push_back(user->getResult(0));
      }
    }
    return true;
  }

  /// The tile rows of a block when `conv` runs by blocks of tile rows on
  /// two or more threads (emitByTileBlocks), or 0 when it does not: about
  /// winograd-block-tiles tiles of whole tile rows (more than a quarter
  /// vector each, one tile row a vector in the transforms), whose V fits in
  /// winograd-block-kb, in kMinTileBlocks blocks or more.
  int64_t tileBlockRows(const kiln::WinogradConv &conv,
                        const GemmPlan &p) const {
    // Fewer blocks leave the threads unequal pieces (a 27x27 layer's 7
    // tile rows in blocks of 4: its layer on two threads 0.128 ms against
    // 0.109 by products).
    constexpr int64_t kMinTileBlocks = 4;
    int64_t tw = conv.tileCols();
    if (winogradBlockTiles <= 0 || 4 * tw <= vectorWidth || p.m % p.mr)
      return 0;
    int64_t rows = std::max<int64_t>(1, winogradBlockTiles / tw);
    int64_t vBytes = conv.elements() * conv.channels *
                     llvm::alignTo(rows * tw, vectorWidth) * 4;
    if (vBytes > winogradBlockKB * 1024 ||
        llvm::divideCeil(conv.tileRows(), rows) < kMinTileBlocks)
      return 0;
    return rows;
  }

  /// The tile rows of a span when `conv` runs by spans of tile rows, a
  /// thread each (emitBySpans), or 0 when it does not: about
  /// winograd-span-tiles tiles of whole tile rows (more than a quarter
  /// vector each), in two spans or more.
  int64_t tileSpanRows(const kiln::WinogradConv &conv) const {
    int64_t tw = conv.tileCols();
    if (winogradSpanTiles <= 0 || 4 * tw <= vectorWidth)
      return 0;
    int64_t rows = std::max<int64_t>(1, (winogradSpanTiles + tw / 2) / tw);
    return llvm::divideCeil(conv.tileRows(), rows) >= 2 ? rows : 0;
  }

  /// `conv` (its products' plan `p`; `buffers` its padded input as one
  /// line, its transformed weights U, its output C, the spans' V and M
  /// ([spans][E][rows][cols], cols a whole number of vectors) and `ends`'
  /// buffers) by spans of `spanRows` tile rows, the spans on the threads:
  /// each span's input transform into its V, its E products into its M
  /// (all output channels, as by products), and their output transform,
  /// each step a call whose units are the spans' channels or elements, a
  /// thread's own range its span's. A span's V and M rows start on cache lines
  /// of their own, so that with the 1x1 convolutions around it split by the
  /// image's halves too (their B's panels), no line of the layer moves between
  /// cores but the input rows around a span's edge. With `zeroBorders`, the
  /// input transform reads the padded input's borders as zeros.
  void emitBySpans(OpBuilder &b, Location loc, func::FuncOp func,
                   const kiln::WinogradConv &conv, const GemmPlan &p,
                   bool tailDots, int64_t spanRows, ArrayRef<Value> buffers,
                   const kiln::FusedEnds &ends, bool zeroBorders) {
    int64_t tw = conv.tileCols(), tileRows = conv.tileRows();
    int64_t spans = llvm::divideCeil(tileRows, spanRows);
    int64_t elements = conv.elements();
    // Span `span`'s products M[e] = U[e] V[e] over `cols` tiles, from
    // zeros, for its elements [eBegin, eEnd).
    auto products = [&](OpBuilder &fb, Location l, Value uu, Value vs, Value ms,
                        int64_t cols, Value span, Value eBegin, Value eEnd) {
      GemmPlan q = productsPlan(p, p.m, cols, tailDots, /*wider=*/true);
      auto index = [&](int64_t x) -> Value {
        return fb.create<arith::ConstantIndexOp>(l, x);
      };
      forLoop(fb, l, eBegin, eEnd, [&](OpBuilder &, Value e) {
        // Span s from element s E / spans on, round: the threads stream
        // different parts of U at a time rather than the same lines, which
        // the second core would fetch from the first's cache (ResNet-50 two
        // threads far 0.995 and 0.997 of all from element 0).
        Value from = fb.create<arith::AddIOp>(
            l, e, fb.create<arith::MulIOp>(l, span, index(elements / spans)));
        Value past = fb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge,
                                              from, index(elements));
        e = fb.create<arith::SelectOp>(
            l, past, fb.create<arith::SubIOp>(l, from, index(elements)), from);
        OpFoldResult zero = fb.getIndexAttr(0);
        Value a = subview(fb, l, uu, {e, zero, zero, zero},
                          {1, (p.m + p.mr - 1) / p.mr, p.k, p.mr}, 1);
        Value bs = subview(fb, l, vs, {e, zero, zero}, {1, p.k, cols}, 1);
        Value cs = subview(fb, l, ms, {e, zero, zero}, {1, p.m, cols}, 1);
        GemmBuilder(fb, l, q).build(a, bs, cs, bs, nullptr);
      });
    };
    // Each of the three steps is a call whose units are the spans' parts in
    // turn (`perSpan` each: input channels, elements, output channels), so
    // that a thread's own range is its span's, as a span a unit was, and
    // the runtime moves pieces of it to a thread that is done first: a
    // span a unit, ResNet-50's 56x56 layers on two threads were 74-82% busy
    // (the threads' spans 20-30% apart, either one the slower).
    // fn(span, its part [lo, hi)) for each span that units [begin, end)
    // reach.
    auto onSpans = [&](int64_t perSpan, auto fn) {
      auto body = [&](OpBuilder &fb, Location l, ArrayRef<Value> mems,
                      Value begin, Value end) {
        forEachPart(fb, l, begin, end, perSpan,
                    [&](OpBuilder &, Location, Value span, Value lo, Value hi) {
                      auto [th0, th1] =
                          groupTileRows(fb, l, span, spanRows, tileRows);
                      auto spanOf = [&](Value x) {
                        auto shape = cast<MemRefType>(x.getType()).getShape();
                        OpFoldResult zero = fb.getIndexAttr(0);
                        return subview(fb, l, x, {span, zero, zero, zero},
                                       {1, shape[1], shape[2], shape[3]}, 1);
                      };
                      fn(fb, l, mems, span, th0, th1, spanOf(mems[3]),
                         spanOf(mems[4]), lo, hi);
                    });
      };
      winogradOnThreads(b, loc, func, buffers, spans * perSpan, body);
    };
    // Channel by channel, each channel's tile rows in turn (V's and M's
    // rows written and read whole, not a tile row of every channel at a
    // time: a layer as ResNet-50's 56x56 ones ran 15% longer so).
    onSpans(conv.channels,
            [&](OpBuilder &fb, Location l, ArrayRef<Value> mems, Value,
                Value th0, Value th1, Value vs, Value, Value lo, Value hi) {
              kiln::emitWinogradInputRows(fb, l, conv, vectorWidth, mems[0], vs,
                                          th0, th1, zeroBorders,
                                          /*channelsOuter=*/true, lo, hi);
            });
    onSpans(elements,
            [&](OpBuilder &fb, Location l, ArrayRef<Value> mems, Value span,
                Value, Value, Value vs, Value ms, Value lo, Value hi) {
              withGroupRows(fb, l, span, spanRows, tileRows, [&](int64_t rows) {
                products(fb, l, mems[1], vs, ms, rows * tw, span, lo, hi);
              });
            });
    onSpans(p.m, [&](OpBuilder &fb, Location l, ArrayRef<Value> mems, Value,
                     Value th0, Value th1, Value, Value ms, Value lo,
                     Value hi) {
      kiln::FusedEnds local = ends.remap(mems.drop_front(5));
      kiln::emitWinogradOutputRows(fb, l, conv, vectorWidth, ms, mems[2], local,
                                   th0, th1, lo, hi, /*channelsOuter=*/true,
                                   /*mAllChannels=*/true);
    });
  }

  /// The view of `x` at `offsets` of `sizes` (unit strides), its first
  /// `dropped` dimensions (of size 1) dropped.
  static Value subview(OpBuilder &b, Location loc, Value x,
                       ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes,
                       int64_t dropped) {
    auto t = cast<MemRefType>(x.getType());
    SmallVector<OpFoldResult> sz = llvm::map_to_vector(
        sizes, [&](int64_t n) -> OpFoldResult { return b.getIndexAttr(n); });
    SmallVector<OpFoldResult> strides(t.getRank(), b.getIndexAttr(1));
    auto type = cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
        sizes.drop_front(dropped), t, offsets, sz, strides));
    return b.create<memref::SubViewOp>(loc, type, x, offsets, sz, strides);
  }

  /// The plan of a Winograd layer's products over `cols` tiles for `rows`
  /// of its weights, packed in the row blocks of the layer's plan `p`: V
  /// read in place, M from zeros. With `wider`, panels of three vectors
  /// where the tail costs less so (as the layer's own plan).
  GemmPlan productsPlan(const GemmPlan &p, int64_t rows, int64_t cols,
                        bool tailDots, bool wider) const {
    GemmPlan q = plan(rows, cols, p.k);
    if (wider && tailDots && widerForTail(q))
      q = plan(rows, cols, p.k, 3);
    q.mr = p.mr;
    q.pack = false;
    q.zeroInit = true;
    q.packedA = true;
    q.prefetchA = p.prefetchA;
    q.dotTail = tailDots && q.shortTail();
    return q;
  }

  /// Group `group` of `rows` tile rows of `tileRows`: its first tile row
  /// and the one past its last.
  static std::pair<Value, Value> groupTileRows(OpBuilder &b, Location loc,
                                               Value group, int64_t rows,
                                               int64_t tileRows) {
    Value th0 = b.create<arith::MulIOp>(
        loc, group, b.create<arith::ConstantIndexOp>(loc, rows));
    Value th1 = b.create<arith::MinSIOp>(
        loc,
        b.create<arith::AddIOp>(loc, th0,
                                b.create<arith::ConstantIndexOp>(loc, rows)),
        b.create<arith::ConstantIndexOp>(loc, tileRows));
    return {th0, th1};
  }

  /// fn(tile rows of group `group`) for groups of `rows` tile rows of
  /// `tileRows`, the last one maybe fewer: a branch on the group when so.
  static void withGroupRows(OpBuilder &b, Location loc, Value group,
                            int64_t rows, int64_t tileRows,
                            function_ref<void(int64_t)> fn) {
    int64_t groups = llvm::divideCeil(tileRows, rows);
    int64_t lastRows = tileRows - (groups - 1) * rows;
    if (lastRows == rows)
      return fn(rows);
    Value last = b.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, group,
        b.create<arith::ConstantIndexOp>(loc, groups - 1));
    auto ifOp = b.create<scf::IfOp>(loc, last, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    fn(lastRows);
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    fn(rows);
  }

  /// `conv` (its products' plan `p`; `buffers` its padded input as one
  /// line, its transformed weights U, its output C and `ends`' buffers) by
  /// blocks of `blockRows` tile rows,
  /// the blocks on the threads: each block's input transform into a V of
  /// its own, then for each row block of output channels the products
  /// into an M of its own and their output transform. V and M live on the
  /// thread's stack, so no block's data leaves its core, where by products
  /// a core reads half of V and M from the other. With `zeroBorders`, the
  /// input transform reads the padded input's borders as zeros.
  void emitByTileBlocks(OpBuilder &b, Location loc, func::FuncOp func,
                        const kiln::WinogradConv &conv, const GemmPlan &p,
                        bool tailDots, int64_t blockRows,
                        ArrayRef<Value> buffers, const kiln::FusedEnds &ends,
                        bool zeroBorders) {
    int64_t tw = conv.tileCols(), tileRows = conv.tileRows();
    int64_t blocks = llvm::divideCeil(tileRows, blockRows);
    int64_t elements = conv.elements(), mr = p.mr;
    int64_t colsPad = llvm::alignTo(blockRows * tw, vectorWidth);
    auto f32 = b.getF32Type();
    // Row block rb's products over `cols` tiles: M[e] = U[e][rb] V[e] for
    // each e, from zeros, V read in place.
    auto products = [&](OpBuilder &fb, Location l, Value uu, Value vs, Value ms,
                        Value rb, int64_t cols) {
      GemmPlan q = productsPlan(p, mr, cols, tailDots, /*wider=*/false);
      forLoop(
          fb, l, fb.create<arith::ConstantIndexOp>(l, 0),
          fb.create<arith::ConstantIndexOp>(l, elements),
          [&](OpBuilder &, Value e) {
            OpFoldResult zero = fb.getIndexAttr(0);
            // U[e][rb] as a packed A of one row block ([1][k][mr]; a
            // subview keeping that unit dim would not collapse).
            Value block =
                subview(fb, l, uu, {e, rb, zero, zero}, {1, 1, p.k, mr}, 2);
            Value a = fb.create<memref::ExpandShapeOp>(
                l, SmallVector<int64_t>{1, p.k, mr}, block,
                ArrayRef<ReassociationIndices>{{0, 1}, {2}});
            Value bs = subview(fb, l, vs, {e, zero, zero}, {1, p.k, cols}, 1);
            Value cs = subview(fb, l, ms, {e, zero, zero}, {1, mr, cols}, 1);
            GemmBuilder(fb, l, q).build(a, bs, cs, bs, nullptr);
          });
    };
    auto body = [&](OpBuilder &fb, Location l, ArrayRef<Value> mems,
                    Value begin, Value end) {
      kiln::FusedEnds local = ends.remap(mems.drop_front(3));
      auto index = [&](int64_t x) -> Value {
        return fb.create<arith::ConstantIndexOp>(l, x);
      };
      // The block's V ([E][C][tiles]) and a row block's M ([E][mr][tiles]),
      // at the function's entry (each in front of what is there: M first).
      Value ms =
          entryAlloca(fb, l, MemRefType::get({elements, mr, colsPad}, f32), 64);
      Value vs = entryAlloca(
          fb, l, MemRefType::get({elements, conv.channels, colsPad}, f32), 64);
      forLoop(fb, l, begin, end, [&](OpBuilder &, Value blk) {
        Value th0, th1;
        std::tie(th0, th1) = groupTileRows(fb, l, blk, blockRows, tileRows);
        kiln::emitWinogradInputRows(fb, l, conv, vectorWidth, mems[0], vs, th0,
                                    th1, zeroBorders);
        forLoop(fb, l, index(0), index(p.m / mr), [&](OpBuilder &, Value rb) {
          withGroupRows(fb, l, blk, blockRows, tileRows, [&](int64_t rows) {
            products(fb, l, mems[1], vs, ms, rb, rows * tw);
          });
          Value oc0 = fb.create<arith::MulIOp>(l, rb, index(mr));
          kiln::emitWinogradOutputRows(
              fb, l, conv, vectorWidth, ms, mems[2], local, th0, th1, oc0,
              fb.create<arith::AddIOp>(l, oc0, index(mr)));
        });
      });
    };
    winogradOnThreads(b, loc, func, buffers, blocks, body);
  }

  /// A Winograd step's loop over [0, count), body(builder, location,
  /// buffers, begin, end), as `PARENT_winogradN` through kiln_parallel_rows.
  using WinogradBody =
      function_ref<void(OpBuilder &, Location, ArrayRef<Value>, Value, Value)>;
  void winogradOnThreads(OpBuilder &b, Location loc, func::FuncOp func,
                         ArrayRef<Value> buffers, int64_t count,
                         WinogradBody body) {
    func::FuncOp fn = kiln::createRowsFunction(
        func, loc, TypeRange(ValueRange(buffers)), "winograd",
        [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
            ArrayRef<BlockArgument> idx) {
          body(fb, l, SmallVector<Value>(mems.begin(), mems.end()), idx[2],
               idx[3]);
        });
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    kiln::emitParallelRows(b, loc, fn, buffers, zero, zero,
                           b.create<arith::ConstantIndexOp>(loc, count));
  }

  /// Whether `conv`, a stride-2 convolution, is no dearer as Winograd
  /// (Winograd.h): winogradProductsCost (81 products, 36 distinct
  /// weights), against the direct convolution's 9 taps of vectors of output
  /// pixels
  /// (whose weights the panels share), which also packs its im2col at run
  /// time. ResNet's 56x56 -> 28x28 convolutions (49 tiles: 81 x 4 + 36
  /// against 9 x 49) and 28x28 -> 14x14 ones (16 tiles: 81 + 36 against 9 x
  /// 13; 1.09 ms against 1.20 on one thread, the packing 0.11 of it); not
  /// its 14x14 -> 7x7 ones (4 tiles: 81 + 36 against 9 x 4).
  bool stride2Winograd(kiln::WinogradConv conv) const {
    conv.m = 4;
    return winogradProductsCost(conv) <= 9 * laneVectors(conv.oh * conv.ow);
  }

  /// Runs `op`, an im2col matmul, as Winograd F(m x m, 3x3) (Winograd.h)
  /// when it is a 3x3 convolution of stride 1 (or 2) worth it; false when
  /// not (and nothing was changed but unused ops).
  bool lowerWinograd(OpBuilder &b, Location loc, linalg::LinalgOp op,
                     const Im2colSource &im2col) {
    const Im2col &ic = im2col.plan;
    if (ic.kSizes.size() != 3 || ic.kSizes[1] != 3 || ic.kSizes[2] != 3 ||
        ic.kCoefs[2] != 1 || ic.nSizes.size() != 2)
      return false;
    int64_t stride = ic.nCoefs[1];
    if ((stride != 1 && stride != 2) || ic.nCoefs[0] != stride * ic.kCoefs[1])
      return false;
    kiln::WinogradConv conv;
    conv.stride = stride;
    conv.channels = ic.kSizes[0];
    conv.outChannels =
        cast<MemRefType>(op->getOperand(0).getType()).getDimSize(0);
    conv.oh = ic.nSizes[0];
    conv.ow = ic.nSizes[1];
    conv.base = ic.base;
    conv.planeStride = ic.kCoefs[0];
    conv.rowStride = ic.kCoefs[1];
    if (std::min(conv.channels, conv.outChannels) < winogradMinChannels ||
        conv.tiles() < winogradMinTiles || conv.oh < 2 || conv.ow < 2)
      return false;
    if (stride == 2 && (!winogradStride2 || !stride2Winograd(conv)))
      return false;
    conv.m = stride == 2 ? 4 : winogradTileSide(conv);
    Value a = op->getOperand(0), c = op->getOperand(2);
    if (!kiln::isStaticMemRef(c) || !kiln::isStaticMemRef(im2col.flat))
      return false;
    auto weights = constantData(a);
    int64_t oc = conv.outChannels, ch = conv.channels, tiles = conv.tiles();
    if (!weights || static_cast<int64_t>(weights->second.size()) != oc * ch * 9)
      return false;

    // The E products M[e] = U[e] V[e], from zeros, reading V in place (its
    // rows are contiguous, their stride no power of two), U packed into row
    // blocks at compile time: a 7x7 or 14x14 layer's products stream 4 to
    // 17 MB of U from memory for few tiles.
    // The last tiles, fewer than a vector, as dot products along k (the
    // block's rows as lanes, V's columns read in place): a 28x28 layer's 49
    // tiles in F(4x4) as 48 + 1 rather than 32 + 17, whose last vector had
    // one lane of sixteen to do.
    int64_t elements = conv.elements();
    GemmPlan p = plan(oc, tiles, ch);
    bool tailDots = dotTail && p.mr <= p.vw;
    if (tailDots && widerForTail(p))
      p = plan(oc, tiles, ch, 3);
    // At most a vector of tiles (a 14x14 or 7x7 layer's 16): row blocks of
    // twice tile-m output channels, so that the micro-kernel, a vector a
    // row, keeps a full tile's count of accumulators (16 rather than 8,
    // which left the FMAs waiting on each other's latency). ResNet-50's
    // 14x14 and 7x7 products 4-6% faster on one thread.
    if (tiles <= p.vw && p.mr == tileM && oc % (2 * tileM) == 0 &&
        2 * tileM + 2 <= vectorRegisters)
      p.mr = 2 * tileM;
    p.pack = false;
    p.zeroInit = true;
    p.dotTail = tailDots && p.shortTail();
    // Named after the tile too: one weight tensor may feed convolutions
    // of F(2x2) and F(4x4).
    std::string tile = std::to_string(conv.m);
    Value u = rowBlocksConstant(
        b, loc, p, weights->first,
        "_winograd" + tile + "x" + tile + (stride == 2 ? "s2_" : "_"),
        [&] { return kiln::winogradWeights(weights->second, conv); },
        conv.weightElements());
    kiln::FusedEnds ends;
    if (fuse)
      ends = kiln::FusedEnds::match(b, op, c, ValueRange{a, op->getOperand(1)},
                                    oc, /*gappedResult=*/true);
    ends.setBlendStores(blendStores);
    loc = op->getLoc(); // with the fused ops' nodes
    // V and M as E slabs [rows][tiles] an odd number of cache lines apart:
    // a transform touches the same element of all E slabs at once, which
    // slabs a power of two apart (a 14x14 layer's 256 x 16 floats) would
    // put in one set of L1 (its 12 ways for 36 lines).
    // A view [E][rows][cols] of `flat`, its E slabs an odd number of cache
    // lines apart; `spans` of them one after the other
    // ([spans][E][rows][cols]) when more than one.
    constexpr int64_t kLineFloats = 16;
    auto slabStride = [&](int64_t rows, int64_t cols) {
      return (llvm::divideCeil(rows * cols, kLineFloats) | 1) * kLineFloats;
    };
    auto slabView = [&](Value flat, int64_t rows, int64_t cols,
                        int64_t spans) -> Value {
      int64_t stride = slabStride(rows, cols);
      SmallVector<int64_t> shape{elements, rows, cols},
          strides{stride, cols, 1};
      if (spans > 1) {
        shape.insert(shape.begin(), spans);
        strides.insert(strides.begin(), elements * stride);
      }
      auto type =
          MemRefType::get(shape, b.getF32Type(),
                          StridedLayoutAttr::get(b.getContext(), 0, strides));
      return b.create<memref::ReinterpretCastOp>(loc, type, flat, 0, shape,
                                                 strides);
    };
    auto allocFloats = [&](int64_t floats) -> Value {
      return b.create<memref::AllocOp>(
          loc, MemRefType::get({floats}, b.getF32Type()),
          b.getI64IntegerAttr(64));
    };
    auto func = op->getParentOfType<func::FuncOp>();
    // The padded input's borders, which the caller filled before the
    // layer that writes its interior: here, each piece's planes first
    // (on the threads, where that fill had been serial on the caller,
    // touching lines the other core had written).
    // Only a buffer of one image: its planes are the transform's channels.
    Value padded = im2col.copy->getOperand(0); // the copy's input
    SmallVector<kiln::BorderFill> borders;
    if (moveBorders && padded.getDefiningOp<memref::AllocOp>() &&
        cast<MemRefType>(padded.getType()).getShape().front() == 1)
      borders = kiln::borderFillsBefore(
          op, padded, {im2col.copy, im2col.flat.getDefiningOp()});
    // On two or more threads (the count known when it runs), by blocks of
    // tile rows, which read the borders as zeros or, when there are no
    // fills to replace, from memory.
    SmallVector<Value> blockBuffers{im2col.flat, u, c};
    llvm::append_range(blockBuffers, ends.buffers());
    // (Blocks, spans and borders read as zeros: at stride 1.)
    bool stride1 = stride == 1;
    int64_t blockRows = stride1 && parallel &&
                                blockBuffers.size() <= kiln::kRowsBuffers &&
                                llvm::all_of(blockBuffers, kiln::isStaticMemRef)
                            ? tileBlockRows(conv, p)
                            : 0;
    bool zeroBorders = stride1 && !borders.empty() &&
                       zeroBorderFills(op, padded, conv, borders);
    if (!borders.empty() && !zeroBorders)
      blockRows = 0;
    // Else by spans of tile rows, their V and M in the workspace.
    int64_t spanRows = stride1 && parallel && !blockRows &&
                               (borders.empty() || zeroBorders) &&
                               blockBuffers.size() + 2 <= kiln::kRowsBuffers &&
                               llvm::all_of(blockBuffers, kiln::isStaticMemRef)
                           ? tileSpanRows(conv)
                           : 0;
    // V and M by products, or by spans ([spans][E][rows][cols], each
    // span's tiles padded to whole vectors), in one buffer each: the
    // layer runs one way or the other.
    int64_t spans = spanRows ? llvm::divideCeil(conv.tileRows(), spanRows) : 0;
    int64_t spanCols = llvm::alignTo(spanRows * conv.tileCols(), vectorWidth);
    SmallVector<Value> spanBuffers{im2col.flat, u, c};
    auto slabs = [&](int64_t rows) {
      Value flat =
          allocFloats(std::max(elements * slabStride(rows, tiles),
                               spans * elements * slabStride(rows, spanCols)));
      if (spanRows)
        spanBuffers.push_back(slabView(flat, rows, spanCols, spans));
      return slabView(flat, rows, tiles, 1);
    };
    Value v = slabs(ch), m = slabs(oc);
    if (spanRows)
      llvm::append_range(spanBuffers, ends.buffers());
    std::optional<OpBuilder::InsertionGuard> dispatchGuard;
    if (blockRows || spanRows) {
      // Blocks on two threads or more; spans on as many threads as spans.
      Value count = kiln::emitNumThreads(b, loc, func);
      Value multi = b.create<arith::CmpIOp>(
          loc, blockRows ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::eq,
          count,
          b.create<arith::ConstantIntOp>(loc, blockRows ? 1 : spans, 32));
      auto dispatch = b.create<scf::IfOp>(loc, multi, /*withElseRegion=*/true);
      dispatchGuard.emplace(b);
      b.setInsertionPointToStart(&dispatch.getThenRegion().front());
      if (blockRows)
        emitByTileBlocks(b, loc, func, conv, p, tailDots, blockRows,
                         blockBuffers, ends, zeroBorders);
      else
        emitBySpans(b, loc, func, conv, p, tailDots, spanRows, spanBuffers,
                    ends, zeroBorders);
      b.setInsertionPointToStart(&dispatch.getElseRegion().front());
    }
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    // Each transform over its channels, on the threads when it writes at
    // least as many values as kiln-parallelize-loops asks of a loop (E per
    // tile and channel) and its buffers fit a rows function. Over tile
    // rows instead (units of a tile row's channels, a few groups of them,
    // so that a core would read the image rows it wrote), ResNet-50 on two
    // threads ran 1.054-1.069 of this (the input transform's alone 1.067,
    // the output's 1.027; paired rounds, Zen 5), on one 0.991: the 1x1
    // convolutions around split B's columns chunk by chunk, not the image
    // in halves, and a tile row's tiles in V are under a cache line.
    constexpr int64_t kParallelMinValues = 32768;
    auto run = [&](SmallVector<Value> buffers, int64_t count,
                   WinogradBody body) {
      bool threads = parallel && count > 1 &&
                     elements * count * tiles >= kParallelMinValues &&
                     buffers.size() <= kiln::kRowsBuffers &&
                     llvm::all_of(buffers, kiln::isStaticMemRef);
      if (!threads)
        return body(b, loc, buffers, zero,
                    b.create<arith::ConstantIndexOp>(loc, count));
      winogradOnThreads(b, loc, func, buffers, count, body);
    };
    SmallVector<Value> inputs{im2col.flat, v};
    if (!borders.empty())
      inputs.push_back(padded);
    run(inputs, ch,
        [&](OpBuilder &fb, Location l, ArrayRef<Value> mems, Value begin,
            Value end) {
          if (!borders.empty())
            fillPlaneBorders(fb, l, mems[2], borders, begin, end);
          kiln::emitWinogradInput(fb, l, conv, vectorWidth, mems[0], mems[1],
                                  begin, end);
        });
    kiln::eraseBorderFills(borders);
    // Elements that share transformed weights (stride 2) index U by
    // theirs.
    BatchIndex uIndex;
    if (conv.weightElements() != elements)
      uIndex = [&](OpBuilder &fb, Location l, Value e) {
        return kiln::emitWinogradWeightIndex(fb, l, conv, e);
      };
    emitBatch(b, loc, func, p, u, v, m, Value(),
              batchOnThreads(elements, p, ValueRange{u, v, m}), uIndex);
    SmallVector<Value> buffers{m, c};
    llvm::append_range(buffers, ends.buffers());
    run(buffers, oc,
        [&](OpBuilder &fb, Location l, ArrayRef<Value> mems, Value begin,
            Value end) {
          kiln::FusedEnds local = ends.remap(mems.drop_front(2));
          kiln::emitWinogradOutput(fb, l, conv, vectorWidth, mems[0], mems[1],
                                   local, begin, end);
        });
    dispatchGuard.reset();
    ends.eraseFused();
    Value oldB = op->getOperand(1);
    op->erase();
    eraseIm2col(oldB, im2col);
    return true;
  }
};

} // namespace
