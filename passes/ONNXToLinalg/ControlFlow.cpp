//===- ControlFlow.cpp - If, Loop and Scan to scf -------------------------===//
//
// This file lowers the onnx ops whose bodies are regions. Each body is moved,
// not cloned, into the scf op that replaces it; the onnx ops inside it are
// lowered by the other patterns like any others.
//
//   If   -> scf.if on the extracted condition;
//   Scan -> scf.for over the scan axis, slicing the scan inputs and inserting
//           each iteration's elements into the scan outputs;
//   Loop -> scf.while on (iteration < M) and the condition, bounded by the
//           static length of the scan outputs; a run that would stack a
//           different number of elements fails the run-time check.
//
// Loop-carried values are copied into their iteration argument before they
// are yielded, so that bufferization keeps one buffer per carried value.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

namespace {

/// `value` written into `dest` (same type), so that a loop yields its
/// iteration argument's buffer.
Value copyInto(OpBuilder &b, Location loc, Value value, Value dest) {
  return b.create<linalg::CopyOp>(loc, value, dest).getResult(0);
}

/// Inserts `element` as slice `index` along `axis` of `dest`.
Value insertAt(OpBuilder &b, Location loc, Value element, Value dest,
               int64_t axis, Value index) {
  auto type = tensorType(dest);
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t d = 0; d < type.getRank(); ++d)
    sizes.push_back(b.getIndexAttr(d == axis ? 1 : type.getDimSize(d)));
  offsets[axis] = index;
  return b.create<tensor::InsertSliceOp>(loc, element, dest, offsets, sizes,
                                         strides);
}

/// Extracts slice `index` along `axis` of `source`, without that axis.
Value extractAt(OpBuilder &b, Location loc, Value source, int64_t axis,
                Value index) {
  auto type = tensorType(source);
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    sizes.push_back(b.getIndexAttr(d == axis ? 1 : type.getDimSize(d)));
    if (d != axis)
      shape.push_back(type.getDimSize(d));
  }
  offsets[axis] = index;
  auto sliceType = RankedTensorType::get(shape, type.getElementType());
  return b.create<tensor::ExtractSliceOp>(loc, sliceType, source, offsets,
                                          sizes, strides);
}

/// `i` counted from the end of `length` when `reverse` is set.
Value directed(OpBuilder &b, Location loc, Value i, int64_t length,
               bool reverse) {
  if (!reverse)
    return i;
  Value last = b.create<arith::ConstantIndexOp>(loc, length - 1);
  return b.create<arith::SubIOp>(loc, last, i);
}

struct IfLowering : OpRewritePattern<onnx::IfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::IfOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value cond = extractElement(rewriter, loc, op.getCond());
    auto ifOp = rewriter.create<scf::IfOp>(loc, op.getResultTypes(), cond,
                                           /*addThenBlock=*/false,
                                           /*addElseBlock=*/false);
    for (auto [from, to] : {std::pair(&op.getThenBranch(), &ifOp.getThenRegion()),
                            std::pair(&op.getElseBranch(), &ifOp.getElseRegion())}) {
      rewriter.inlineRegionBefore(*from, *to, to->end());
      auto yield = cast<onnx::YieldOp>(to->front().getTerminator());
      rewriter.setInsertionPoint(yield);
      rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, yield.getOutputs());
    }
    rewriter.replaceOp(op, ifOp.getResults());
    return success();
  }
};

struct ScanLowering : OpRewritePattern<onnx::ScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ScanOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ValueRange operands = op.getInitialStateAndScanInputs();
    int64_t numScanIn = (int64_t)op.getNumScanInputs();
    int64_t numStates = (int64_t)operands.size() - numScanIn;
    int64_t numScanOut = (int64_t)op.getNumResults() - numStates;
    if (numStates < 0 || numScanOut < 0)
      return unsupported(op, "Scan has more scan inputs than operands");
    SmallVector<int64_t> inAxes =
        getI64Array(op.getScanInputAxes(), numScanIn, 0);
    SmallVector<int64_t> inDirs =
        getI64Array(op.getScanInputDirections(), numScanIn, 0);
    SmallVector<int64_t> outAxes =
        getI64Array(op.getScanOutputAxes(), numScanOut, 0);
    SmallVector<int64_t> outDirs =
        getI64Array(op.getScanOutputDirections(), numScanOut, 0);
    if ((int64_t)inAxes.size() != numScanIn ||
        (int64_t)inDirs.size() != numScanIn ||
        (int64_t)outAxes.size() != numScanOut ||
        (int64_t)outDirs.size() != numScanOut)
      return unsupported(op, "Scan's axes and directions must have one entry "
                             "per scan input and output");

    // The sequence length, the same along every scan axis.
    int64_t length = -1;
    for (int64_t j = 0; j < numScanIn; ++j) {
      auto type = tensorType(operands[numStates + j]);
      int64_t &axis = inAxes[j];
      if (axis < 0)
        axis += type.getRank();
      if (axis < 0 || axis >= type.getRank())
        return unsupported(op, "Scan input axis out of range");
      int64_t len = type.getDimSize(axis);
      if (length >= 0 && len != length)
        return unsupported(op, "Scan inputs differ in sequence length");
      length = len;
    }
    for (int64_t k = 0; k < numScanOut; ++k) {
      auto type = tensorType(op.getResult(numStates + k));
      int64_t &axis = outAxes[k];
      if (axis < 0)
        axis += type.getRank();
      if (axis < 0 || axis >= type.getRank() ||
          type.getDimSize(axis) != length)
        return unsupported(op, "Scan output axis does not hold the sequence");
    }

    SmallVector<Value> init(operands.take_front(numStates));
    for (int64_t k = 0; k < numScanOut; ++k)
      init.push_back(createEmpty(rewriter, loc,
                                 tensorType(op.getResult(numStates + k))));
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value cLen = rewriter.create<arith::ConstantIndexOp>(loc, length);
    auto loop = rewriter.create<scf::ForOp>(loc, c0, cLen, c1, init);
    Block *body = loop.getBody();
    rewriter.setInsertionPointToEnd(body);
    Value i = loop.getInductionVar();
    SmallVector<Value> args(loop.getRegionIterArgs().take_front(numStates));
    for (int64_t j = 0; j < numScanIn; ++j)
      args.push_back(extractAt(rewriter, loc, operands[numStates + j],
                               inAxes[j],
                               directed(rewriter, loc, i, length, inDirs[j])));
    rewriter.mergeBlocks(&op.getBody().front(), body, args);

    auto yield = cast<onnx::YieldOp>(body->getTerminator());
    rewriter.setInsertionPoint(yield);
    SmallVector<Value> next;
    for (int64_t s = 0; s < numStates; ++s)
      next.push_back(copyInto(rewriter, loc, yield.getOutputs()[s],
                              loop.getRegionIterArgs()[s]));
    for (int64_t k = 0; k < numScanOut; ++k)
      next.push_back(insertAt(
          rewriter, loc, yield.getOutputs()[numStates + k],
          loop.getRegionIterArgs()[numStates + k], outAxes[k],
          directed(rewriter, loc, i, length, outDirs[k])));
    rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, next);
    rewriter.replaceOp(op, loop.getResults());
    return success();
  }
};

struct LoopLowering : OpRewritePattern<onnx::LoopOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::LoopOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool hasM = !isa<NoneType>(op.getM().getType());
    bool hasCond = !isa<NoneType>(op.getCond().getType());
    int64_t numCarried = op.getVInitial().size();
    int64_t numScan = (int64_t)op.getNumResults() - numCarried;
    // Scan outputs have a static length: the loop runs at most that often.
    int64_t bound = -1;
    for (int64_t k = 0; k < numScan; ++k) {
      int64_t len = tensorType(op.getResult(numCarried + k)).getDimSize(0);
      if (bound >= 0 && len != bound)
        return unsupported(op, "Loop's scan outputs differ in length");
      bound = len;
    }
    if (!hasM && !hasCond && numScan == 0)
      return unsupported(op, "Loop has neither a trip count nor a condition");

    Type i1 = rewriter.getI1Type(), i64 = rewriter.getI64Type();
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value trueValue = rewriter.create<arith::ConstantIntOp>(loc, 1, i1);
    Value tripCount = hasM ? extractElement(rewriter, loc, op.getM()) : Value();
    Value cond0 =
        hasCond ? extractElement(rewriter, loc, op.getCond()) : trueValue;

    // Whether iteration `i` runs, given the condition `c`.
    auto runs = [&](OpBuilder &b, Value i, Value c) {
      Value go = c;
      if (tripCount) {
        Value i64v = b.create<arith::IndexCastOp>(loc, i64, i);
        go = b.create<arith::AndIOp>(
            loc, go,
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i64v,
                                    tripCount));
      }
      return go;
    };

    // Iteration arguments: (i, carried..., scan outputs..., condition). The
    // tensors keep their positions when canonicalization drops an unused
    // condition, which bufferization of scf.while relies on.
    SmallVector<Value> init{c0};
    init.append(op.getVInitial().begin(), op.getVInitial().end());
    for (int64_t k = 0; k < numScan; ++k)
      init.push_back(createEmpty(rewriter, loc,
                                 tensorType(op.getResult(numCarried + k))));
    init.push_back(cond0);
    unsigned condIndex = init.size() - 1;
    SmallVector<Type> types = llvm::to_vector(ValueRange(init).getTypes());
    auto loop = rewriter.create<scf::WhileOp>(loc, types, init);

    SmallVector<Location> locs(types.size(), loc);
    Block *before = rewriter.createBlock(&loop.getBefore(), {}, types, locs);
    Value go =
        runs(rewriter, before->getArgument(0), before->getArgument(condIndex));
    if (bound >= 0) {
      Value cBound = rewriter.create<arith::ConstantIndexOp>(loc, bound);
      go = rewriter.create<arith::AndIOp>(
          loc, go,
          rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                         before->getArgument(0), cBound));
    }
    rewriter.create<scf::ConditionOp>(loc, go, before->getArguments());

    Block *after = rewriter.createBlock(&loop.getAfter(), {}, types, locs);
    Value i = after->getArgument(0);
    SmallVector<Value> args;
    args.push_back(rewriter.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({}, i64),
        ValueRange{rewriter.create<arith::IndexCastOp>(loc, i64, i)}));
    args.push_back(rewriter.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({}, i1),
        ValueRange{after->getArgument(condIndex)}));
    for (int64_t c = 0; c < numCarried; ++c)
      args.push_back(after->getArgument(1 + c));
    rewriter.mergeBlocks(&op.getBody().front(), after, args);

    auto yield = cast<onnx::YieldOp>(after->getTerminator());
    rewriter.setInsertionPoint(yield);
    SmallVector<Value> next{rewriter.create<arith::AddIOp>(loc, i, c1)};
    for (int64_t c = 0; c < numCarried; ++c)
      next.push_back(copyInto(rewriter, loc, yield.getOutputs()[1 + c],
                              after->getArgument(1 + c)));
    for (int64_t k = 0; k < numScan; ++k)
      next.push_back(insertAt(rewriter, loc,
                              yield.getOutputs()[1 + numCarried + k],
                              after->getArgument(1 + numCarried + k), 0, i));
    next.push_back(extractElement(rewriter, loc, yield.getOutputs()[0]));
    rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, next);

    rewriter.setInsertionPointAfter(loop);
    if (bound >= 0) {
      // The loop must have stopped on its own, after exactly `bound` runs.
      Value n = loop.getResult(0);
      Value stoppedAtBound = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, n,
          rewriter.create<arith::ConstantIndexOp>(loc, bound));
      Value wouldGoOn = runs(rewriter, n, loop.getResult(condIndex));
      Value ok = rewriter.create<arith::AndIOp>(
          loc, stoppedAtBound,
          rewriter.create<arith::XOrIOp>(loc, wouldGoOn, trueValue));
      rewriter.create<cf::AssertOp>(
          loc, ok,
          "Loop: the number of iterations differs from the length of its "
          "scan outputs");
    }
    rewriter.replaceOp(op, loop.getResults().slice(1, condIndex - 1));
    return success();
  }
};

} // namespace

void kiln::populateControlFlowPatterns(RewritePatternSet &patterns) {
  patterns.add<IfLowering, LoopLowering, ScanLowering>(patterns.getContext());
}
