//===- Strings.cpp - Lower Kiln's number/string conversions ---------------===//
//
// This file lowers KilnNumberToString and KilnStringToNumber (Strings.td),
// the ops the importer makes of a Cast to or from strings, whose strings are
// NUL-padded rows of bytes. Both call the runtime (runtime/src/Strings.c)
// from a linalg.generic with scalars only, so that no pointer into a tensor
// is needed:
//   - formatting yields one byte of the formatted number per call, the row's
//     bytes being the generic's last, parallel dimension;
//   - parsing packs a row of up to 64 bytes into eight i64 words (extracted
//     in the generic's body) and parses them in one call.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace kiln;

namespace {

/// The runtime function `name` of type `type`, declared in the module if it
/// is not yet.
static func::FuncOp runtimeFunction(PatternRewriter &rewriter, Operation *op,
                                    StringRef name, FunctionType type) {
  auto module = op->getParentOfType<ModuleOp>();
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto fn = rewriter.create<func::FuncOp>(module.getLoc(), name, type);
  fn.setPrivate();
  return fn;
}

/// The significant decimal digits that tell every value of `type` apart.
static int32_t shortestDigits(Type type) {
  if (type.isF16())
    return 5;
  if (type.isBF16())
    return 4;
  if (type.isF32())
    return 9;
  return 17;
}

struct NumberToStringLowering : OpRewritePattern<onnx::KilnNumberToStringOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::KilnNumberToStringOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inType = tensorType(op.getInput());
    auto outType = tensorType(op.getOutput());
    Type et = inType.getElementType();
    int64_t rank = inType.getRank();
    if (outType.getRank() != rank + 1 || !outType.getElementType().isInteger(8))
      return rewriter.notifyMatchFailure(op, "output is not a byte tensor");
    Type i8 = rewriter.getI8Type(), i32 = rewriter.getI32Type(),
         i64 = rewriter.getI64Type(), f64 = rewriter.getF64Type();
    bool isFloat = isa<FloatType>(et);
    if (!isFloat && !et.isSignlessInteger())
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    func::FuncOp fn =
        isFloat ? runtimeFunction(
                      rewriter, op, "kiln_format_f64_string",
                      rewriter.getFunctionType({f64, i32, i32}, {i8}))
                : runtimeFunction(rewriter, op, "kiln_format_i64_string",
                                  rewriter.getFunctionType({i64, i32}, {i8}));
    bool isUnsigned = isUnsignedOperand(op, 0);
    SmallVector<AffineExpr> dims;
    for (int64_t i = 0; i < rank; ++i)
      dims.push_back(rewriter.getAffineDimExpr(i));
    SmallVector<AffineMap> maps{
        AffineMap::get(rank + 1, 0, dims, rewriter.getContext()),
        rewriter.getMultiDimIdentityMap(rank + 1)};
    SmallVector<utils::IteratorType> iterators(rank + 1,
                                               utils::IteratorType::parallel);
    int32_t digits = shortestDigits(et);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{outType}, ValueRange{op.getInput()},
        ValueRange{createEmpty(rewriter, loc, outType)}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value index = b.create<arith::IndexCastOp>(
              l, i32, b.create<linalg::IndexOp>(l, rank));
          SmallVector<Value> callArgs;
          if (isFloat) {
            Value v = args[0];
            if (!et.isF64())
              v = b.create<arith::ExtFOp>(l, f64, v);
            callArgs = {v, b.create<arith::ConstantIntOp>(l, digits, 32),
                        index};
          } else {
            Value v = args[0];
            if (et.getIntOrFloatBitWidth() < 64)
              v = isUnsigned || et.isInteger(1)
                      ? b.create<arith::ExtUIOp>(l, i64, v).getResult()
                      : b.create<arith::ExtSIOp>(l, i64, v).getResult();
            callArgs = {v, index};
          }
          Value byte = b.create<func::CallOp>(l, fn, callArgs).getResult(0);
          b.create<linalg::YieldOp>(l, byte);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct StringToNumberLowering : OpRewritePattern<onnx::KilnStringToNumberOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::KilnStringToNumberOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inType = tensorType(op.getInput());
    auto outType = tensorType(op.getOutput());
    Type et = outType.getElementType();
    int64_t rank = outType.getRank();
    int64_t width = inType.getRank() == rank + 1 ? inType.getDimSize(rank) : 0;
    if (width <= 0 || width > 64 || !inType.getElementType().isInteger(8))
      return rewriter.notifyMatchFailure(op, "input is not a byte tensor of "
                                             "rows of at most 64 bytes");
    Type i64 = rewriter.getI64Type(), f64 = rewriter.getF64Type(),
         f32 = rewriter.getF32Type();
    bool isFloat = isa<FloatType>(et);
    SmallVector<Type> words(8, i64);
    func::FuncOp fn;
    if (!isFloat)
      fn = runtimeFunction(rewriter, op, "kiln_parse_i64_string",
                           rewriter.getFunctionType(words, {i64}));
    else if (et.isF64())
      fn = runtimeFunction(rewriter, op, "kiln_parse_f64_string",
                           rewriter.getFunctionType(words, {f64}));
    else
      fn = runtimeFunction(rewriter, op, "kiln_parse_f32_string",
                           rewriter.getFunctionType(words, {f32}));
    Value input = op.getInput();
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{outType}, ValueRange{},
        ValueRange{createEmpty(rewriter, loc, outType)}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> indices;
          for (int64_t i = 0; i < rank; ++i)
            indices.push_back(b.create<linalg::IndexOp>(l, i));
          indices.push_back(Value());
          SmallVector<Value> packed;
          for (int64_t w = 0; w < 8; ++w) {
            Value word = b.create<arith::ConstantIntOp>(l, 0, 64);
            for (int64_t k = 0; k < 8 && w * 8 + k < width; ++k) {
              indices.back() = b.create<arith::ConstantIndexOp>(l, w * 8 + k);
              Value byte = b.create<tensor::ExtractOp>(l, input, indices);
              Value wide = b.create<arith::ExtUIOp>(l, i64, byte);
              if (k)
                wide = b.create<arith::ShLIOp>(
                    l, wide, b.create<arith::ConstantIntOp>(l, 8 * k, 64));
              word = b.create<arith::OrIOp>(l, word, wide);
            }
            packed.push_back(word);
          }
          Value v = b.create<func::CallOp>(l, fn, packed).getResult(0);
          if (isFloat && v.getType() != et)
            v = b.create<arith::TruncFOp>(l, et, v);
          else if (!isFloat && v.getType() != et)
            v = b.create<arith::TruncIOp>(l, et, v);
          b.create<linalg::YieldOp>(l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void kiln::populateStringPatterns(RewritePatternSet &patterns) {
  patterns.add<NumberToStringLowering, StringToNumberLowering>(
      patterns.getContext());
}
