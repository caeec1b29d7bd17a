//===- TfIdf.cpp - TfIdfVectorizer, counts of pooled n-grams --------------===//
//
// This file lowers TfIdfVectorizer. The pool of n-grams is an attribute, so
// the matching is laid out at compile time: for each n-gram length n and
// each distance d between its elements (1 .. max_skip_count + 1; unigrams
// once, as onnxruntime counts them), one linalg.generic over (row, start
// position, pool entry) compares the n elements X[row, p + j*d] with the
// pool's constant columns and counts the matches per pool entry. The counts
// then go to their output columns (ngram_indexes, a constant table) through
// an scf.for nest, and a last generic applies the mode: TF counts, IDF
// min(count, 1) * weight, TFIDF count * weight, where, as in onnxruntime and
// ONNX's reference, the weight of output column i is weights[i].
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <map>

using namespace mlir;
using namespace kiln;

namespace {

/// The pool entries of one n-gram length: their elements and output columns.
struct PoolLevel {
  int64_t n = 0;
  SmallVector<SmallVector<int64_t>> grams;
  SmallVector<int64_t> columns;
};

struct TfIdfLowering : OpRewritePattern<onnx::TfIdfVectorizerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TfIdfVectorizerOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    if (!xType.getElementType().isInteger(32) &&
        !xType.getElementType().isInteger(64))
      return unsupported(op, "TfIdfVectorizer needs an int32 or int64 input "
                             "(string inputs are not supported)");
    if (!op.getPoolInt64s())
      return unsupported(op, "TfIdfVectorizer needs pool_int64s (string "
                             "pools are not supported)");
    int64_t rank = xType.getRank();
    if ((rank != 1 && rank != 2) || yType.getRank() != rank ||
        !yType.getElementType().isF32())
      return unsupported(op, "TfIdfVectorizer needs a [C] or [N, C] input "
                             "and a float output of the same rank");
    int64_t rows = rank == 2 ? xType.getDimSize(0) : 1;
    int64_t cols = xType.getDimSize(rank - 1);
    int64_t outCols = yType.getDimSize(rank - 1);
    if (rank == 2 && yType.getDimSize(0) != rows)
      return unsupported(op, "TfIdfVectorizer's output rows do not match");

    StringRef mode = op.getMode();
    if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
      return unsupported(op, "TfIdfVectorizer mode '" + mode +
                                 "' is not TF, IDF or TFIDF");
    int64_t minN = (int64_t)op.getMinGramLength();
    int64_t maxN = (int64_t)op.getMaxGramLength();
    int64_t maxSkip = (int64_t)op.getMaxSkipCount();
    if (minN < 1 || maxN < minN || maxSkip < 0)
      return unsupported(op, "TfIdfVectorizer needs 1 <= min_gram_length <= "
                             "max_gram_length and max_skip_count >= 0");

    // The pool, split into levels by ngram_counts.
    SmallVector<int64_t> pool = getI64Array(op.getPoolInt64s(), 0, 0);
    SmallVector<int64_t> starts = getI64Array(op.getNgramCounts(), 0, 0);
    SmallVector<int64_t> indexes = getI64Array(op.getNgramIndexes(), 0, 0);
    SmallVector<PoolLevel> levels;
    std::map<SmallVector<int64_t>, bool> seen;
    size_t ordinal = 0;
    for (size_t i = 0; i < starts.size(); ++i) {
      int64_t n = (int64_t)i + 1;
      int64_t begin = starts[i];
      int64_t end =
          i + 1 < starts.size() ? starts[i + 1] : (int64_t)pool.size();
      if (begin < 0 || end < begin || end > (int64_t)pool.size() ||
          (end - begin) % n != 0)
        return unsupported(op, "TfIdfVectorizer's ngram_counts do not split "
                               "the pool into n-grams");
      PoolLevel level;
      level.n = n;
      for (int64_t g = begin; g < end; g += n, ++ordinal) {
        if (ordinal >= indexes.size())
          return unsupported(op, "TfIdfVectorizer has fewer ngram_indexes "
                                 "than pool n-grams");
        if (indexes[ordinal] < 0 || indexes[ordinal] >= outCols)
          return unsupported(op, "TfIdfVectorizer's ngram_indexes are outside "
                                 "the output");
        SmallVector<int64_t> gram(pool.begin() + g, pool.begin() + g + n);
        // A repeated n-gram keeps its first column, as a lookup would.
        if (!seen.emplace(gram, true).second)
          continue;
        level.grams.push_back(gram);
        level.columns.push_back(indexes[ordinal]);
      }
      if (n >= minN && n <= maxN && !level.grams.empty())
        levels.push_back(std::move(level));
    }
    if (ordinal != indexes.size())
      return unsupported(op, "TfIdfVectorizer has more ngram_indexes than "
                             "pool n-grams");

    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    auto countsType = RankedTensorType::get({rows, outCols}, i32);
    Value counts = createFilled(rewriter, loc, countsType,
                                createScalar(rewriter, loc, i32, 0));
    Value x =
        reshapeTo(rewriter, loc, op.getX(),
                  RankedTensorType::get({rows, cols}, xType.getElementType()));
    if (!xType.getElementType().isInteger(64))
      x = buildElementwise(
          rewriter, loc, RankedTensorType::get({rows, cols}, i64), x,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return b.create<arith::ExtSIOp>(l, i64, args[0]);
          });

    MLIRContext *ctx = rewriter.getContext();
    AffineExpr dr, dp, dk;
    bindDims(ctx, dr, dp, dk);
    auto xMap = AffineMap::get(3, 0, {dr, dp}, ctx);
    auto poolMap = AffineMap::get(3, 0, {dk}, ctx);
    auto countMap = AffineMap::get(3, 0, {dr, dk}, ctx);
    using IT = utils::IteratorType;
    SmallVector<IT> iterators{IT::parallel, IT::reduction, IT::parallel};
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);

    for (const PoolLevel &level : levels) {
      int64_t n = level.n, k = level.grams.size();
      // The pool's j-th elements as constant columns.
      SmallVector<Value> poolCols;
      auto colType = RankedTensorType::get({k}, i64);
      for (int64_t j = 0; j < n; ++j) {
        SmallVector<int64_t> col;
        for (const auto &gram : level.grams)
          col.push_back(gram[j]);
        poolCols.push_back(rewriter.create<arith::ConstantOp>(
            loc, DenseIntElementsAttr::get(colType, ArrayRef<int64_t>(col))));
      }
      auto levelType = RankedTensorType::get({rows, k}, i32);
      Value levelCounts = createFilled(rewriter, loc, levelType,
                                       createScalar(rewriter, loc, i32, 0));
      // Unigrams are counted once; longer n-grams at every distance.
      int64_t maxDistance = n == 1 ? 1 : maxSkip + 1;
      for (int64_t d = 1; d <= maxDistance; ++d) {
        int64_t positions = cols - (n - 1) * d;
        if (positions <= 0)
          break;
        SmallVector<Value> inputs;
        SmallVector<AffineMap> maps;
        for (int64_t j = 0; j < n; ++j) {
          inputs.push_back(rewriter.create<tensor::ExtractSliceOp>(
              loc, x,
              ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                                     rewriter.getIndexAttr(j * d)},
              ArrayRef<OpFoldResult>{rewriter.getIndexAttr(rows),
                                     rewriter.getIndexAttr(positions)},
              ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                                     rewriter.getIndexAttr(1)}));
          maps.push_back(xMap);
        }
        for (int64_t j = 0; j < n; ++j) {
          inputs.push_back(poolCols[j]);
          maps.push_back(poolMap);
        }
        maps.push_back(countMap);
        levelCounts =
            rewriter
                .create<linalg::GenericOp>(
                    loc, TypeRange{levelType}, inputs, ValueRange{levelCounts},
                    maps, iterators,
                    [&](OpBuilder &b, Location l, ValueRange args) {
                      Value match = b.create<arith::CmpIOp>(
                          l, arith::CmpIPredicate::eq, args[0], args[n]);
                      for (int64_t j = 1; j < n; ++j)
                        match = b.create<arith::AndIOp>(
                            l, match,
                            b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                                    args[j], args[n + j]));
                      Value one = b.create<arith::ExtUIOp>(l, i32, match);
                      b.create<linalg::YieldOp>(
                          l, ValueRange{
                                 b.create<arith::AddIOp>(l, args[2 * n], one)});
                    })
                .getResult(0);
      }

      // Add each pool entry's count to its output column.
      Value columns = rewriter.create<arith::ConstantOp>(
          loc,
          DenseIntElementsAttr::get(colType, ArrayRef<int64_t>(level.columns)));
      counts =
          rewriter
              .create<scf::ForOp>(
                  loc, c0, rewriter.create<arith::ConstantIndexOp>(loc, rows),
                  c1, ValueRange{counts},
                  [&](OpBuilder &b, Location l, Value r, ValueRange acc) {
                    auto inner = b.create<scf::ForOp>(
                        l, c0, b.create<arith::ConstantIndexOp>(l, k), c1, acc,
                        [&](OpBuilder &b2, Location, Value g, ValueRange acc2) {
                          Value col = b2.create<arith::IndexCastOp>(
                              l, b2.getIndexType(),
                              b2.create<tensor::ExtractOp>(l, columns, g));
                          Value v = b2.create<tensor::ExtractOp>(
                              l, levelCounts, ValueRange{r, g});
                          Value old = b2.create<tensor::ExtractOp>(
                              l, acc2[0], ValueRange{r, col});
                          b2.create<scf::YieldOp>(
                              l, ValueRange{b2.create<tensor::InsertOp>(
                                     l, b2.create<arith::AddIOp>(l, old, v),
                                     acc2[0], ValueRange{r, col})});
                        });
                    b.create<scf::YieldOp>(l, inner.getResults());
                  })
              .getResult(0);
    }

    // The mode, with the weight of each output column.
    Type f32 = rewriter.getF32Type();
    auto outType = RankedTensorType::get({rows, outCols}, f32);
    Value y;
    if (mode == "TF") {
      y = buildElementwise(rewriter, loc, outType, counts,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return convertScalar(b, l, args[0], f32, false,
                                                  false);
                           });
    } else {
      SmallVector<float> weights(outCols, 1.0f);
      if (auto w = op.getWeights())
        for (int64_t i = 0; i < outCols && i < (int64_t)w->size(); ++i)
          weights[i] = cast<FloatAttr>((*w)[i]).getValue().convertToFloat();
      Value weightConst = rewriter.create<arith::ConstantOp>(
          loc, DenseFPElementsAttr::get(RankedTensorType::get({outCols}, f32),
                                        ArrayRef<float>(weights)));
      bool idf = mode == "IDF";
      y = buildElementwise(
          rewriter, loc, outType, ValueRange{counts, weightConst},
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value w = args[1];
            if (idf) {
              Value hit =
                  b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, args[0],
                                          createScalar(b, l, i32, 0));
              return b.create<arith::SelectOp>(l, hit, w,
                                               createScalar(b, l, f32, 0));
            }
            return b.create<arith::MulFOp>(
                l, convertScalar(b, l, args[0], f32, false, false), w);
          });
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, y, yType));
    return success();
  }
};

} // namespace

void kiln::populateTfIdfPatterns(RewritePatternSet &patterns) {
  patterns.add<TfIdfLowering>(patterns.getContext());
}
