//===- LowerDepthwise.cpp - Vectorised depthwise convolutions -------------===//
//
// This file implements kiln-lower-depthwise. The onnx lowering writes a
// depthwise Conv as one linalg.generic over (n, g, 1, 1, kh, kw, oh, ow),
// marked `kiln.depthwise` with its strides and dilations; lowered as loops it
// reads and writes each output row once per tap. This pass replaces the f32
// ones, after bufferization, with a row kernel: for each image and channel
// (the unit the runtime's threads share), for each output row, vectors of 16
// outputs accumulate all KH x KW taps in registers (a broadcast weight times
// a vector load of the input row, every second element shuffled out for
// stride 2) and are stored once. The last vector of a row is masked.
//
//===----------------------------------------------------------------------===//

#include "passes/FusedEnds.h"
#include "passes/ParallelRows.h"
#include "passes/VectorLanes.h"
#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_LOWERDEPTHWISE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct DepthwiseShape {
  int64_t n, c, oh, ow, kh, kw;
  int64_t sh, sw, dh, dw;
  int64_t vw;
};

class DepthwiseBuilder {
public:
  DepthwiseBuilder(OpBuilder &b, Location loc, const DepthwiseShape &s,
                   const kiln::FusedEnds &ends)
      : b(b), loc(loc), s(s), ends(ends) {}

  /// Planes (image, channel) [begin, end) of out = x (*) w, out holding the
  /// bias on entry.
  void planes(Value x, Value w, Value out, Value begin, Value end) {
    forLoop(begin, end, [&](Value plane) {
      Value ni = b.create<arith::DivSIOp>(loc, plane, index(s.c));
      Value ci = b.create<arith::RemSIOp>(loc, plane, index(s.c));
      SmallVector<Value> taps;
      Value zero = index(0);
      Value start;
      if (ends.hasInit())
        start = b.create<vector::BroadcastOp>(
            loc, vecType(), ends.initialValue(b, loc, plane));
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) {
          Value t = b.create<memref::LoadOp>(
              loc, w, ValueRange{ci, zero, zero, index(i), index(j)});
          taps.push_back(b.create<vector::BroadcastOp>(loc, vecType(), t));
        }
      forLoop(index(0), index(s.oh), [&](Value oh) {
        int64_t full = s.ow / s.vw;
        if (full > 0)
          forLoop(index(0), index(full), [&](Value v) {
            Value ow0 = b.create<arith::MulIOp>(loc, v, index(s.vw));
            vectorOfRow(x, out, start, taps, ni, ci, oh, ow0, s.vw);
          });
        if (s.ow % s.vw)
          vectorOfRow(x, out, start, taps, ni, ci, oh, index(full * s.vw),
                      s.ow % s.vw);
      });
    });
  }

private:
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  VectorType vecType(int64_t lanes = 0) {
    return VectorType::get({lanes ? lanes : s.vw}, b.getF32Type());
  }

  void forLoop(Value lb, Value ub, function_ref<void(Value)> body) {
    auto loop = b.create<scf::ForOp>(loc, lb, ub, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  // Vector accesses of a row end's valid lanes (VectorLanes.h).
  Value zeros() { return kiln::VectorLanes(b, loc, s.vw).zeros(); }
  Value load(Value mem, ValueRange indices, int64_t lanes) {
    return kiln::VectorLanes(b, loc, s.vw).load(mem, indices, lanes);
  }
  void store(Value v, Value mem, ValueRange indices, int64_t lanes) {
    kiln::VectorLanes(b, loc, s.vw).store(v, mem, indices, lanes);
  }

  /// x[n, c, ih, iw0 + sw * lane] for lane < lanes.
  Value inputVector(Value x, Value ni, Value ci, Value ih, Value iw0,
                    int64_t lanes) {
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

  /// One vector of an output row, starting from `start` (the fused
  /// initializer's value) or else the output's contents.
  void vectorOfRow(Value x, Value out, Value start, ArrayRef<Value> taps,
                   Value ni, Value ci, Value oh, Value ow0, int64_t lanes) {
    Value zero = index(0);
    SmallVector<Value> outIdx{ni, ci, zero, oh, ow0};
    Value acc = start ? start : load(out, outIdx, lanes);
    Value ohs = b.create<arith::MulIOp>(loc, oh, index(s.sh));
    Value ows = b.create<arith::MulIOp>(loc, ow0, index(s.sw));
    for (int64_t i = 0; i < s.kh; ++i) {
      Value ih = b.create<arith::AddIOp>(loc, ohs, index(i * s.dh));
      for (int64_t j = 0; j < s.kw; ++j) {
        Value iw = b.create<arith::AddIOp>(loc, ows, index(j * s.dw));
        Value xv = inputVector(x, ni, ci, ih, iw, lanes);
        acc = b.create<vector::FMAOp>(loc, taps[i * s.kw + j], xv, acc);
      }
    }
    if (ends.hasEpilogue()) {
      SmallVector<Value> others;
      for (Value view : ends.otherViews())
        others.push_back(load(view, outIdx, lanes));
      acc = ends.apply(b, loc, acc, others);
      out = ends.resultView();
    }
    store(acc, out, outIdx, lanes);
  }

  OpBuilder &b;
  Location loc;
  const DepthwiseShape &s;
  const kiln::FusedEnds &ends;
};

struct LowerDepthwisePass
    : kiln::impl::LowerDepthwiseBase<LowerDepthwisePass> {
  using LowerDepthwiseBase::LowerDepthwiseBase;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kiln::kDepthwiseAttr) && op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    for (linalg::GenericOp op : ops)
      lower(op);
  }

  void lower(linalg::GenericOp op) {
    auto params = op->getAttrOfType<DenseI64ArrayAttr>(kiln::kDepthwiseAttr);
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
          out = op.getDpsInits()[0];
    auto xt = cast<MemRefType>(x.getType()), wt = cast<MemRefType>(w.getType()),
         ot = cast<MemRefType>(out.getType());
    if (!params || params.size() != 4 || xt.getRank() != 4 ||
        wt.getRank() != 5 || ot.getRank() != 5 || !xt.hasStaticShape() ||
        !wt.hasStaticShape() || !ot.hasStaticShape() ||
        !xt.getElementType().isF32() || !wt.getElementType().isF32() ||
        !ot.getElementType().isF32() || wt.getDimSize(1) != 1 ||
        wt.getDimSize(2) != 1)
      return; // stays a generic
    if (!kiln::hasUnitInnerStride(xt) || !kiln::hasUnitInnerStride(ot))
      return;
    ArrayRef<int64_t> p = params.asArrayRef();
    DepthwiseShape s{ot.getDimSize(0), ot.getDimSize(1), ot.getDimSize(3),
                     ot.getDimSize(4), wt.getDimSize(3), wt.getDimSize(4),
                     p[0],             p[1],             p[2],
                     p[3],             vectorWidth};
    if (s.sw > 4)
      return;

    OpBuilder b(op);
    Location loc = op.getLoc();
    Value planes = b.create<arith::ConstantIndexOp>(loc, s.n * s.c);
    // The bias the output starts as and the activation after: in the kernel.
    kiln::FusedEnds ends;
    if (fuse)
      ends = kiln::FusedEnds::match(b, op, out, ValueRange{x, w}, s.n * s.c);
    SmallVector<Value> buffers{x, w, out};
    buffers.append(ends.buffers());
    if (parallel && buffers.size() <= kiln::kRowsBuffers &&
        llvm::all_of(buffers, kiln::isStaticMemRef)) {
      func::FuncOp fn = kiln::createRowsFunction(
          op->getParentOfType<func::FuncOp>(), loc, TypeRange(buffers),
          "depthwise",
          [&](OpBuilder &fb, Location l, ArrayRef<BlockArgument> mems,
              ArrayRef<BlockArgument> idx) {
            kiln::FusedEnds local = ends.remap(ValueRange(mems.drop_front(3)));
            DepthwiseBuilder(fb, l, s, local)
                .planes(mems[0], mems[1], mems[2], idx[2], idx[3]);
          });
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      kiln::emitParallelRows(b, loc, fn, buffers, zero, zero, planes);
    } else {
      DepthwiseBuilder(b, loc, s, ends)
          .planes(x, w, out, b.create<arith::ConstantIndexOp>(loc, 0), planes);
    }
    ends.eraseFused();
    op->erase();
  }
};

} // namespace
