//===- FusedEnds.h - A kernel's initializer and epilogue, fused -*- C++ -*-===//
//
// This file declares what the kernel passes (kiln-lower-matmuls,
// kiln-lower-windows) fuse into their loops, on memrefs after
// bufferization, from the ops around a kernel that writes a buffer R:
//
//   the initializer   the op right before the kernel that fills all of R,
//                     with a constant (linalg.fill) or with a value per row
//                     of the kernel (a broadcast generic: a bias per output
//                     channel); accumulators then start in registers from it
//                     and R is never read;
//   the epilogue      the op right after it, an elementwise linalg.generic
//                     (or a linalg.copy) that reads all of R with identity
//                     maps (the residual add, Relu, Clip, a bias along the
//                     columns, ...); its body is applied to the accumulators,
//                     and the result stored to its output.
//
// Both are fused only when nothing else reads what the kernel would have
// left in R (the epilogue may also write R in place). The epilogue's other
// operands may broadcast (projected permutations): each is a view of the
// kernel's output shape, zero strides where it broadcasts, addressed with
// the kernel's own indices.
// The epilogue's output may also be a strided view of the kernel's output
// shape, or, for a 2-d kernel that asks for it, have gaps between lines of
// its columns: the interior of the next layer's padded input. A fill of
// that padding between the kernel and the epilogue moves before the kernel,
// and fills the border only. For such a kernel an other operand may have
// gaps too (a residual read from the interior of a padded buffer).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_FUSEDENDS_H
#define KILN_PASSES_FUSEDENDS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace kiln {

/// The buffer a view is of: through subviews, reshapes and casts.
mlir::Value rootOf(mlir::Value v);

/// A view op (subview, reshape, cast): no effect of its own on memory.
bool isViewOp(mlir::Operation *op);

/// Appends every op that reads or writes `root` through any view of it to
/// `ops` (each once; views themselves not).
void accessesOf(mlir::Value root,
                llvm::SmallVectorImpl<mlir::Operation *> &ops);

/// Makes `v` available before `before`: a view, allocation or other
/// effect-free op defining it after `before` in its block moves up, with
/// whatever it is made from. False when one cannot; with `dryRun` only
/// says whether they could.
bool hoistAbove(mlir::Value v, mlir::Operation *before, bool dryRun = false);

/// A box of a buffer: a subview's offsets and sizes, per dim.
struct Box {
  llvm::SmallVector<int64_t> offsets, sizes;
};

/// The box of `sub` when its offsets and sizes are static and its strides
/// one.
std::optional<Box> staticBox(mlir::memref::SubViewOp sub);

/// Whether two boxes of one buffer share no element.
bool disjoint(const Box &a, const Box &b);

/// Whether `op` is a linalg.fill of a static box of `root` (a subview of
/// it) that shares no element with `box`.
bool fillsOutside(mlir::Operation *op, mlir::Value root, const Box &box);

/// A fill of a padded buffer's border, as FusedEnds leaves them (the
/// interior written by the kernel): rows [row, row + rows) and columns
/// [col, col + cols) of every plane (dims 0 and 1 all of them) hold
/// `value` (a zero, or a max pool's lowest value).
struct BorderFill {
  mlir::linalg::FillOp fill;
  int64_t row, rows, col, cols;
  mlir::TypedAttr value;
};

/// The fills of the borders of `x`, a 4-d buffer that `op` reads, in the
/// block before op and in program order, when they fill one constant and
/// nothing else before op but `readers` reads or writes where they write
/// (the layer before writes the interior); none otherwise. A kernel that
/// writes the borders itself, before it reads them, replaces them.
llvm::SmallVector<BorderFill>
borderFillsBefore(mlir::Operation *op, mlir::Value x,
                  llvm::ArrayRef<mlir::Operation *> readers = {});

/// Erases `fills` (borderFillsBefore's) and their subviews, once the kernel
/// that writes those borders is in place.
void eraseBorderFills(llvm::ArrayRef<BorderFill> fills);

/// A pad of a value that no kernel produces (the model's input): `buffer`
/// (an alloc) filled whole, then its interior written by the next op to
/// touch it, a linalg.copy or an elementwise generic that overwrites all of
/// it. The fill then keeps to the border (fillBorderOnly), so that the
/// padded buffer is written once. True when it did.
bool fillBorderOfPad(mlir::OpBuilder &b, mlir::Value buffer);

class FusedEnds {
public:
  /// Finds what `kernel`, which writes `out` (a view of all of its root
  /// buffer) and reads `inputs`, can absorb. `rows` is the kernel's row count
  /// (a prefix of out's root's dims must multiply to it) for the per-row
  /// initializer. Creates reshaped views before `kernel`; nothing is erased.
  /// With `gappedResult` the kernel stores through storeResult, and the
  /// epilogue's output may have gaps between the kernel's columns' lines
  /// (the interior of a padded buffer).
  static FusedEnds match(mlir::OpBuilder &b, mlir::Operation *kernel,
                         mlir::Value out, mlir::ValueRange inputs, int64_t rows,
                         bool gappedResult = false);

  bool hasInit() const { return initOp != nullptr; }
  bool hasEpilogue() const { return epilogue != nullptr; }

  /// The buffers the fused code reads or writes besides the kernel's own,
  /// in a fixed order; `remap` gives the same ends over other values of
  /// them (a rows function's arguments).
  llvm::SmallVector<mlir::Value> buffers() const;
  FusedEnds remap(mlir::ValueRange newBuffers) const;

  /// The scalar an accumulator of kernel row `row` starts from.
  mlir::Value initialValue(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value row) const;

  /// The epilogue's other operands (each like `out`, or the flat view of a
  /// gapped one) and its output, which without `gappedResult` is like `out`
  /// too.
  llvm::ArrayRef<mlir::Value> otherViews() const { return others; }
  mlir::Value resultView() const { return result; }

  /// Other operand `i` at the kernel's `indices`: a vector of `width`
  /// lanes, `lanes` of them valid (an operand broadcast along the vector is
  /// one element, broadcast). A gapped operand takes the 2-d kernel's
  /// {row, column}, the column a multiple of `width`.
  mlir::Value loadOther(mlir::OpBuilder &b, mlir::Location loc, unsigned i,
                        mlir::ValueRange indices, int64_t lanes,
                        int64_t width) const;

  /// Stores the epilogue's `value` for row `row` and columns [col, col +
  /// lanes) of a 2-d kernel output; `col` is a multiple of the vector width.
  void storeResult(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                   mlir::Value row, mlir::Value col, int64_t lanes) const;
  /// storeResult for `values` of rows `rows` at one column: a gapped
  /// result's line numbers, masks and branch made once for them all.
  void storeResults(mlir::OpBuilder &b, mlir::Location loc,
                    mlir::ValueRange values, mlir::ValueRange rows,
                    mlir::Value col, int64_t lanes) const;
  /// These ends with their gapped result moved to `flat`, a flat f32 buffer
  /// of planes of `planeSize` elements instead of the result's planes (its
  /// smallest row stride), the kernel's column 0 of each at element
  /// `offset`: a band of a padded buffer's rows (kiln-lower-matmuls' fused
  /// depthwise convolution).
  FusedEnds inPlanes(mlir::Value flat, int64_t planeSize, int64_t offset) const;
  /// These ends with their result (not gapped) moved to `view`, a 2-d
  /// buffer of the kernel's rows and columns (a band of an unpadded
  /// buffer's rows: kiln-lower-matmuls' fused max pool).
  FusedEnds withResult(mlir::Value view) const;

  /// Whether a vector of `width` lanes of the result may lie in more than
  /// one of its lines: then storeResults for a column's rows makes the
  /// lines' masks once for them all, where storeResult makes them per row.
  bool resultMayCrossLines(int64_t width) const;

  /// With `blend`, storeResult writes a full vector's pieces in a gapped
  /// output as a load, a select and a store each instead of a masked
  /// store (AVX2's vmaskmovps store is microcoded on AMD's Zen 1-3). A
  /// piece's other lanes are the vector's own columns or the gaps between
  /// them, which no other vector's store touches.
  void setBlendStores(bool blend) { blendStores = blend; }

  /// Where a gapped view's elements are in its flat view: row r, column n
  /// at offset + sum(r's indices * rowStrides) + n + (n / width) * gap.
  /// A width of 0: not gapped.
  struct Gaps {
    int64_t offset = 0, width = 0, gap = 0, span = 0;
    llvm::SmallVector<int64_t> rowSizes, rowStrides;
  };

  /// The gapped result's layout (null when the result has no gaps).
  const Gaps *resultGaps() const { return gapped ? &gaps : nullptr; }

  /// The epilogue's body on an accumulator vector and the vectors of the
  /// other operands at the same place.
  mlir::Value apply(mlir::OpBuilder &b, mlir::Location loc, mlir::Value acc,
                    mlir::ArrayRef<mlir::Value> otherVectors) const;

  /// Erases the fused ops (after the kernel has been lowered).
  void eraseFused();

private:
  /// Forgets a (partly) matched epilogue; its reshaped views stay unused.
  void dropEpilogue();

  /// Stores the lanes of `value` in `mask` (all of its first `lanes`
  /// without one) at flat index `at` of the gapped result.
  void storeLine(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                 mlir::Value at, mlir::Value mask, int64_t lanes) const;

  mlir::Operation *initOp = nullptr;
  mlir::Value fillValue;   // linalg.fill's value (a constant), or
  mlir::Value bias;        // the broadcast's input
  mlir::AffineMap biasMap; // over out's root dims, using row dims only
  llvm::SmallVector<int64_t> rowDims; // the root's dims that make a row

  mlir::linalg::LinalgOp epilogue;       // a linalg.generic or linalg.copy
  unsigned accArg = 0;                   // the block argument fed by R
  llvm::SmallVector<unsigned> otherArgs; // block arguments of `others`
  llvm::SmallVector<mlir::Value> others;
  llvm::SmallVector<Gaps> otherGaps; // per other operand
  mlir::Value result;                // gapped: a flat view of all of its span
  bool gapped = false;
  bool blendStores = false;
  Gaps gaps;
};

} // namespace kiln

#endif // KILN_PASSES_FUSEDENDS_H
