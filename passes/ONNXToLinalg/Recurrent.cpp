//===- Recurrent.cpp - Lower onnx RNN, GRU and LSTM -----------------------===//
//
// This file implements the recurrent ops. Per direction, the input
// projection of every time step is one matmul ([seq*batch, in] x [in,
// gates*hidden], biases folded in); then an scf.for over time carries H (and
// C) and the output sequence, doing one [batch, hidden] x [hidden,
// gates*hidden] matmul and one elementwise generic for the gates per step.
// Gate slices are affine offsets in the generics' indexing maps.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;

namespace {

enum class Kind { RNN, GRU, LSTM };

/// One activation function of the `activations` attribute.
static FailureOr<std::function<Value(OpBuilder &, Location, Value)>>
activation(StringRef name) {
  if (name == "Sigmoid")
    return std::function<Value(OpBuilder &, Location, Value)>(
        [](OpBuilder &b, Location l, Value x) -> Value {
          Value one = createScalar(b, l, x.getType(), 1);
          Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, x));
          return b.create<arith::DivFOp>(l, one,
                                         b.create<arith::AddFOp>(l, one, e));
        });
  if (name == "Tanh")
    return std::function<Value(OpBuilder &, Location, Value)>(
        [](OpBuilder &b, Location l, Value x) -> Value {
          return b.create<math::TanhOp>(l, x);
        });
  if (name == "Relu")
    return std::function<Value(OpBuilder &, Location, Value)>(
        [](OpBuilder &b, Location l, Value x) -> Value {
          return b.create<arith::MaximumFOp>(
              l, x, createScalar(b, l, x.getType(), 0));
        });
  return failure();
}

/// [rows, cols] slice `index` of a [n, rows, cols] tensor.
static Value slice3D(OpBuilder &b, Location loc, Value v, int64_t index) {
  auto t = tensorType(v);
  auto type = RankedTensorType::get({t.getDimSize(1), t.getDimSize(2)},
                                    t.getElementType());
  SmallVector<OpFoldResult> off{b.getIndexAttr(index), b.getIndexAttr(0),
                                b.getIndexAttr(0)},
      size{b.getIndexAttr(1), b.getIndexAttr(t.getDimSize(1)),
           b.getIndexAttr(t.getDimSize(2))},
      stride(3, b.getIndexAttr(1));
  return b.create<tensor::ExtractSliceOp>(loc, type, v, off, size, stride);
}

static Value matmul(OpBuilder &b, Location loc, Value a, Value bt,
                    RankedTensorType type) {
  Value init = createFilled(b, loc, type,
                            createScalar(b, loc, type.getElementType(), 0));
  return b
      .create<linalg::MatmulOp>(loc, TypeRange{type}, ValueRange{a, bt},
                                ValueRange{init})
      .getResult(0);
}

template <typename OpTy, Kind K>
struct RecurrentLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    const int64_t gates = K == Kind::LSTM ? 4 : K == Kind::GRU ? 3 : 1;
    Value x = op.getX();
    auto xType = tensorType(x);
    Type et = xType.getElementType();
    if (!isFloat(et))
      return unsupported(op, "recurrent ops need float inputs");
    bool batchFirst = op.getLayout() != 0;
    if (batchFirst)
      x = rewriter
              .create<linalg::TransposeOp>(
                  loc, x,
                  createEmpty(rewriter, loc,
                              RankedTensorType::get({xType.getDimSize(1),
                                                     xType.getDimSize(0),
                                                     xType.getDimSize(2)},
                                                    et)),
                  ArrayRef<int64_t>{1, 0, 2})
              .getResult()[0];
    auto seqType = tensorType(x);
    int64_t seq = seqType.getDimSize(0), batch = seqType.getDimSize(1),
            in = seqType.getDimSize(2);
    auto rType = tensorType(op.getR());
    int64_t dirs = rType.getDimSize(0), hidden = rType.getDimSize(2);
    StringRef direction = op.getDirection();
    if ((direction == "bidirectional") != (dirs == 2))
      return unsupported(op, "direction does not match W's first dimension");
    // sequence_lens: batch entry b runs steps [0, lens[b]) (reversed, from
    // time lens[b] - 1 down); past that H and C keep their last values and Y
    // is 0. Lengths all equal to the sequence need nothing.
    Value lens;
    if (!onnx::isNoValue(op.getSequenceLens())) {
      SmallVector<int64_t> known;
      if (failed(getConstantInts(op.getSequenceLens(), known)) ||
          llvm::any_of(known, [&](int64_t n) { return n != seq; }))
        lens = op.getSequenceLens();
    }
    if (op.getClip())
      return unsupported(op, "clip is not supported yet");

    // Activations: per direction, f (and g, h).
    int64_t perDir = K == Kind::LSTM ? 3 : K == Kind::GRU ? 2 : 1;
    SmallVector<std::string> names;
    if (std::optional<ArrayAttr> activations = op.getActivations())
      for (Attribute a : *activations)
        names.push_back(cast<StringAttr>(a).str());
    else if (K == Kind::LSTM)
      names = {"Sigmoid", "Tanh", "Tanh"};
    else if (K == Kind::GRU)
      names = {"Sigmoid", "Tanh"};
    else
      names = {"Tanh"};
    if ((int64_t)names.size() == perDir && dirs == 2)
      names.append(SmallVector<std::string>(names));
    if ((int64_t)names.size() != perDir * dirs)
      return unsupported(op, "wrong number of activations");
    SmallVector<std::function<Value(OpBuilder &, Location, Value)>> acts;
    for (const std::string &n : names) {
      auto f = activation(n);
      if (failed(f))
        return unsupported(op, "activation " + n + " is not supported yet");
      acts.push_back(*f);
    }

    auto h2 = RankedTensorType::get({batch, hidden}, et);
    auto gh = RankedTensorType::get({batch, gates * hidden}, et);
    auto ySeq = RankedTensorType::get({seq, batch, hidden}, et);
    Value x2 = reshapeTo(rewriter, loc, x,
                         RankedTensorType::get({seq * batch, in}, et));
    Value zero = createScalar(rewriter, loc, et, 0);
    bool lbr = false;
    if constexpr (K == Kind::GRU)
      lbr = op.getLinearBeforeReset() != 0;

    SmallVector<Value> ys, hs, cs;
    for (int64_t d = 0; d < dirs; ++d) {
      bool reverse = direction == "reverse" || d == 1;
      Value wT =
          transpose2D(rewriter, loc, slice3D(rewriter, loc, op.getW(), d));
      Value rT =
          transpose2D(rewriter, loc, slice3D(rewriter, loc, op.getR(), d));
      // Biases: Wb + Rb into the input projection, except GRU's Rb_h with
      // linear_before_reset, which goes inside the reset product.
      Value xwBias, hrBias;
      if (!onnx::isNoValue(op.getB())) {
        auto bType = tensorType(op.getB());
        Value bd = reshapeTo(
            rewriter, loc,
            slice3D(rewriter, loc,
                    reshapeTo(rewriter, loc, op.getB(),
                              RankedTensorType::get(
                                  {dirs, 1, bType.getDimSize(1)}, et)),
                    d),
            RankedTensorType::get({2 * gates * hidden}, et));
        auto part = [&](int64_t offset, int64_t len) -> Value {
          return rewriter.create<tensor::ExtractSliceOp>(
              loc, RankedTensorType::get({len}, et), bd,
              ArrayRef<OpFoldResult>{rewriter.getIndexAttr(offset)},
              ArrayRef<OpFoldResult>{rewriter.getIndexAttr(len)},
              ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
        };
        Value wb = part(0, gates * hidden),
              rb = part(gates * hidden, gates * hidden);
        bool splitH = K == Kind::GRU && lbr;
        xwBias = buildElementwise(
            rewriter, loc, RankedTensorType::get({gates * hidden}, et),
            ValueRange{wb, rb},
            [&](OpBuilder &b, Location l, ValueRange args) -> Value {
              if (!splitH)
                return b.create<arith::AddFOp>(l, args[0], args[1]);
              Value j = b.create<linalg::IndexOp>(l, 0);
              Value inH = b.create<arith::CmpIOp>(
                  l, arith::CmpIPredicate::sge, j,
                  b.create<arith::ConstantIndexOp>(l, 2 * hidden));
              return b.create<arith::SelectOp>(
                  l, inH, args[0],
                  b.create<arith::AddFOp>(l, args[0], args[1]));
            });
        if (splitH)
          hrBias = buildElementwise(
              rewriter, loc, RankedTensorType::get({gates * hidden}, et), rb,
              [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                Value j = b.create<linalg::IndexOp>(l, 0);
                Value inH = b.create<arith::CmpIOp>(
                    l, arith::CmpIPredicate::sge, j,
                    b.create<arith::ConstantIndexOp>(l, 2 * hidden));
                return b.create<arith::SelectOp>(l, inH, args[0],
                                                 createScalar(b, l, et, 0));
              });
      }
      auto xwType = RankedTensorType::get({seq * batch, gates * hidden}, et);
      Value xw = matmul(rewriter, loc, x2, wT, xwType);
      if (xwBias)
        xw = buildElementwise(
            rewriter, loc, xwType, ValueRange{xw, xwBias},
            [](OpBuilder &b, Location l, ValueRange args) {
              return b.create<arith::AddFOp>(l, args[0], args[1]).getResult();
            });
      xw = reshapeTo(rewriter, loc, xw,
                     RankedTensorType::get({seq, batch, gates * hidden}, et));

      auto initial = [&](Value v) -> Value {
        if (onnx::isNoValue(v))
          return createFilled(rewriter, loc, h2, zero);
        return slice3D(rewriter, loc, v, d);
      };
      Value h0 = initial(op.getInitialH());
      Value c0 = h0;
      Value peep;
      if constexpr (K == Kind::LSTM) {
        c0 = initial(op.getInitialC());
        if (!onnx::isNoValue(op.getP()))
          peep = reshapeTo(rewriter, loc,
                           slice3D(rewriter, loc,
                                   reshapeTo(rewriter, loc, op.getP(),
                                             RankedTensorType::get(
                                                 {dirs, 1, 3 * hidden}, et)),
                                   d),
                           RankedTensorType::get({3 * hidden}, et));
      }
      // Reversed with sequence_lens, a batch entry's steps run from its own
      // last one, and Y rows past its length are never written: zeros.
      bool perEntryTime = lens && reverse;
      Value y0 = perEntryTime ? createFilled(rewriter, loc, ySeq, zero)
                              : createEmpty(rewriter, loc, ySeq);
      auto f = acts[d * perDir], g = perDir > 1 ? acts[d * perDir + 1] : f,
           hAct = perDir > 2 ? acts[d * perDir + 2] : f;
      int64_t inputForget = 0;
      if constexpr (K == Kind::LSTM)
        inputForget = op.getInputForget();

      int64_t lensIndex = 0;
      Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
      Value ub = rewriter.create<arith::ConstantIndexOp>(loc, seq);
      Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
      auto loop = rewriter.create<scf::ForOp>(
          loc, lb, ub, one, ValueRange{h0, c0, y0},
          [&](OpBuilder &b, Location l, Value t, ValueRange carried) {
            Value h = carried[0], c = carried[1], y = carried[2];
            Value tt =
                reverse
                    ? b.create<arith::SubIOp>(
                           l, b.create<arith::ConstantIndexOp>(l, seq - 1), t)
                          .getResult()
                    : t;
            // Batch entry b's time at step t when reversed with lengths:
            // lens[b] - 1 - t, clamped into the sequence.
            auto entryTime = [&](OpBuilder &nb, Location nl, Value len) {
              Value n = nb.create<arith::IndexCastOp>(nl, nb.getIndexType(),
                                                      len);
              Value r = nb.create<arith::SubIOp>(
                  nl, nb.create<arith::SubIOp>(
                          nl, n, nb.create<arith::ConstantIndexOp>(nl, 1)),
                  t);
              r = nb.create<arith::MaxSIOp>(
                  nl, r, nb.create<arith::ConstantIndexOp>(nl, 0));
              return nb.create<arith::MinSIOp>(
                  nl, r, nb.create<arith::ConstantIndexOp>(nl, seq - 1));
            };
            // lens[b] beside a [batch, ...] iteration.
            AffineMap lensMap = AffineMap::get(
                2, 0, {getAffineDimExpr(0, ctx)}, ctx);
            Value xt;
            if (perEntryTime) {
              xt = b.create<linalg::GenericOp>(
                        l, TypeRange{gh}, ValueRange{lens},
                        ValueRange{createEmpty(b, l, gh)},
                        SmallVector<AffineMap>{
                            lensMap, AffineMap::getMultiDimIdentityMap(2, ctx)},
                        SmallVector<utils::IteratorType>(
                            2, utils::IteratorType::parallel),
                        [&](OpBuilder &nb, Location nl, ValueRange a) {
                          Value r = entryTime(nb, nl, a[0]);
                          Value v = nb.create<tensor::ExtractOp>(
                              nl, xw,
                              ValueRange{r, nb.create<linalg::IndexOp>(nl, 0),
                                         nb.create<linalg::IndexOp>(nl, 1)});
                          nb.create<linalg::YieldOp>(nl, v);
                        })
                       .getResult(0);
            } else {
              xt = b.create<tensor::ExtractSliceOp>(
                  l, gh, xw,
                  ArrayRef<OpFoldResult>{tt, b.getIndexAttr(0),
                                         b.getIndexAttr(0)},
                  ArrayRef<OpFoldResult>{b.getIndexAttr(1),
                                         b.getIndexAttr(batch),
                                         b.getIndexAttr(gates * hidden)},
                  ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                                         b.getIndexAttr(1)});
            }
            // With sequence_lens, the generics below take lens[b] as one
            // more input; masked() keeps the previous value past it.
            auto addLens = [&](SmallVector<Value> &ins,
                               SmallVector<AffineMap> &maps) {
              if (!lens)
                return;
              lensIndex = ins.size();
              ins.push_back(lens);
              maps.push_back(lensMap);
            };
            auto masked = [&](OpBuilder &nb, Location nl, ValueRange a,
                              Value now, Value before,
                              int64_t index = -1) -> Value {
              if (!lens)
                return now;
              Value len = a[index >= 0 ? index : lensIndex];
              Value step = nb.create<arith::IndexCastOp>(nl, len.getType(), t);
              Value valid = nb.create<arith::CmpIOp>(
                  nl, arith::CmpIPredicate::slt, step, len);
              return nb.create<arith::SelectOp>(nl, valid, now, before);
            };
            Value hr = matmul(b, l, h, rT, gh);
            if (hrBias)
              hr = buildElementwise(
                  b, l, gh, ValueRange{hr, hrBias},
                  [](OpBuilder &nb, Location nl, ValueRange args) {
                    return nb.create<arith::AddFOp>(nl, args[0], args[1])
                        .getResult();
                  });
            // Gates as [batch, gates, hidden] views; gate k at (b, j) is
            // (b, k, j), so every map names j with a plain dimension.
            auto g3 = RankedTensorType::get({batch, gates, hidden}, et);
            xt = reshapeTo(b, l, xt, g3);
            hr = reshapeTo(b, l, hr, g3);
            AffineExpr db = getAffineDimExpr(0, ctx),
                       dj = getAffineDimExpr(1, ctx);
            auto gateMap = [&](int64_t k) {
              return AffineMap::get(
                  2, 0, {db, getAffineConstantExpr(k, ctx), dj}, ctx);
            };
            auto id = AffineMap::getMultiDimIdentityMap(2, ctx);
            SmallVector<utils::IteratorType> par(2,
                                                 utils::IteratorType::parallel);
            Value hn, cn = c;
            if (K == Kind::RNN) {
              // Outputs go into the carried tensors, so the loop updates
              // them in place after bufferization.
              SmallVector<Value> ins{xt, hr};
              SmallVector<AffineMap> maps{gateMap(0), gateMap(0)};
              addLens(ins, maps);
              maps.push_back(id);
              hn = b.create<linalg::GenericOp>(
                        l, TypeRange{h2}, ins, ValueRange{h}, maps, par,
                        [&](OpBuilder &nb, Location nl, ValueRange a) {
                          Value hNew = f(
                              nb, nl, nb.create<arith::AddFOp>(nl, a[0], a[1]));
                          nb.create<linalg::YieldOp>(
                              nl, masked(nb, nl, a, hNew, a.back()));
                        })
                       .getResult(0);
            } else if (K == Kind::LSTM) {
              SmallVector<Value> ins{xt, xt, xt, xt, hr, hr, hr, hr};
              SmallVector<AffineMap> maps;
              for (int r = 0; r < 2; ++r)
                for (int64_t k = 0; k < 4; ++k)
                  maps.push_back(gateMap(k));
              if (peep) {
                Value p2 = reshapeTo(b, l, peep,
                                     RankedTensorType::get({3, hidden}, et));
                for (int64_t k = 0; k < 3; ++k) {
                  ins.push_back(p2);
                  maps.push_back(AffineMap::get(
                      2, 0, {getAffineConstantExpr(k, ctx), dj}, ctx));
                }
              }
              addLens(ins, maps);
              maps.push_back(id);
              maps.push_back(id);
              auto gen = b.create<linalg::GenericOp>(
                  l, TypeRange{h2, h2}, ins, ValueRange{h, c}, maps, par,
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    auto add = [&](Value p, Value q) {
                      return nb.create<arith::AddFOp>(nl, p, q).getResult();
                    };
                    auto mul = [&](Value p, Value q) {
                      return nb.create<arith::MulFOp>(nl, p, q).getResult();
                    };
                    Value cPrev = a[a.size() - 1]; // the carried C
                    // Gate order in W: i, o, f, c. Peepholes: i, o, f.
                    Value ip = add(a[0], a[4]), op2 = add(a[1], a[5]),
                          fp = add(a[2], a[6]), cp = add(a[3], a[7]);
                    if (peep) {
                      ip = add(ip, mul(a[8], cPrev));
                      fp = add(fp, mul(a[10], cPrev));
                    }
                    Value it = f(nb, nl, ip);
                    Value ft = inputForget
                                   ? nb.create<arith::SubFOp>(
                                           nl, createScalar(nb, nl, et, 1), it)
                                         .getResult()
                                   : f(nb, nl, fp);
                    Value ct = g(nb, nl, cp);
                    Value cNew = add(mul(ft, cPrev), mul(it, ct));
                    if (peep)
                      op2 = add(op2, mul(a[9], cNew));
                    Value ot = f(nb, nl, op2);
                    Value hNew = mul(ot, hAct(nb, nl, cNew));
                    Value hPrev = a[a.size() - 2];
                    nb.create<linalg::YieldOp>(
                        nl, ValueRange{masked(nb, nl, a, hNew, hPrev),
                                       masked(nb, nl, a, cNew, cPrev)});
                  });
              hn = gen.getResult(0);
              cn = gen.getResult(1);
            } else {
              // GRU, gate order z, r, h.
              Value hh;
              if (lbr) {
                hh = hr; // r applies to (H R_h^T + Rb_h), inside the gate
              } else {
                // (r * H) R_h^T needs r first.
                Value rh =
                    b.create<linalg::GenericOp>(
                         l, TypeRange{h2}, ValueRange{xt, hr, h},
                         ValueRange{createEmpty(b, l, h2)},
                         SmallVector<AffineMap>{gateMap(1), gateMap(1), id, id},
                         par,
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           Value r =
                               f(nb, nl,
                                 nb.create<arith::AddFOp>(nl, a[0], a[1]));
                           nb.create<linalg::YieldOp>(
                               nl,
                               ValueRange{nb.create<arith::MulFOp>(nl, r, a[2])
                                              .getResult()});
                         })
                        .getResult(0);
                Value rhT = b.create<tensor::ExtractSliceOp>(
                    l, RankedTensorType::get({hidden, hidden}, et), rT,
                    ArrayRef<OpFoldResult>{b.getIndexAttr(0),
                                           b.getIndexAttr(2 * hidden)},
                    ArrayRef<OpFoldResult>{b.getIndexAttr(hidden),
                                           b.getIndexAttr(hidden)},
                    ArrayRef<OpFoldResult>{b.getIndexAttr(1),
                                           b.getIndexAttr(1)});
                hh = matmul(b, l, rh, rhT, h2);
              }
              SmallVector<AffineMap> maps{gateMap(0), gateMap(1),
                                          gateMap(2), gateMap(0),
                                          gateMap(1), lbr ? gateMap(2) : id};
              SmallVector<Value> ins{xt, xt, xt, hr, hr, hh};
              addLens(ins, maps);
              maps.push_back(id);
              hn = b.create<linalg::GenericOp>(
                        l, TypeRange{h2}, ins, ValueRange{h}, maps, par,
                        [&](OpBuilder &nb, Location nl, ValueRange a) {
                          auto add = [&](Value p, Value q) {
                            return nb.create<arith::AddFOp>(nl, p, q)
                                .getResult();
                          };
                          auto mul = [&](Value p, Value q) {
                            return nb.create<arith::MulFOp>(nl, p, q)
                                .getResult();
                          };
                          Value z = f(nb, nl, add(a[0], a[3]));
                          Value hx;
                          if (lbr) {
                            Value r = f(nb, nl, add(a[1], a[4]));
                            hx = add(a[2], mul(r, a[5]));
                          } else {
                            hx = add(a[2], a[5]);
                          }
                          Value ht = g(nb, nl, hx);
                          Value oneMinus = nb.create<arith::SubFOp>(
                              nl, createScalar(nb, nl, et, 1), z);
                          Value hPrev = a.back();
                          Value hNew = add(mul(oneMinus, ht), mul(z, hPrev));
                          nb.create<linalg::YieldOp>(
                              nl, masked(nb, nl, a, hNew, hPrev));
                        })
                       .getResult(0);
            }
            // Y is 0 past a batch entry's length.
            Value out = hn;
            if (lens && !perEntryTime)
              out = b.create<linalg::GenericOp>(
                         l, TypeRange{h2}, ValueRange{hn, lens},
                         ValueRange{createEmpty(b, l, h2)},
                         SmallVector<AffineMap>{id, lensMap, id}, par,
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           nb.create<linalg::YieldOp>(
                               nl, masked(nb, nl, a, a[0],
                                          createScalar(nb, nl, et, 0), 1));
                         })
                        .getResult(0);
            Value yNew;
            if (perEntryTime) {
              // Each valid entry's row goes to its own time.
              auto rows = b.create<scf::ForOp>(
                  l, b.create<arith::ConstantIndexOp>(l, 0),
                  b.create<arith::ConstantIndexOp>(l, batch),
                  b.create<arith::ConstantIndexOp>(l, 1), ValueRange{y},
                  [&](OpBuilder &nb, Location nl, Value bi, ValueRange acc) {
                    Value len = nb.create<tensor::ExtractOp>(nl, lens, bi);
                    Value step = nb.create<arith::IndexCastOp>(
                        nl, len.getType(), t);
                    Value valid = nb.create<arith::CmpIOp>(
                        nl, arith::CmpIPredicate::slt, step, len);
                    auto ifOp = nb.create<scf::IfOp>(
                        nl, valid,
                        [&](OpBuilder &ib, Location il) {
                          Value r = entryTime(ib, il, len);
                          Value entry = ib.create<tensor::ExtractSliceOp>(
                              il, RankedTensorType::get({1, 1, hidden}, et),
                              reshapeTo(ib, il, hn,
                                        RankedTensorType::get(
                                            {1, batch, hidden}, et)),
                              ArrayRef<OpFoldResult>{ib.getIndexAttr(0), bi,
                                                     ib.getIndexAttr(0)},
                              ArrayRef<OpFoldResult>{ib.getIndexAttr(1),
                                                     ib.getIndexAttr(1),
                                                     ib.getIndexAttr(hidden)},
                              ArrayRef<OpFoldResult>{ib.getIndexAttr(1),
                                                     ib.getIndexAttr(1),
                                                     ib.getIndexAttr(1)});
                          Value put = ib.create<tensor::InsertSliceOp>(
                              il, entry, acc[0],
                              ArrayRef<OpFoldResult>{r, bi, ib.getIndexAttr(0)},
                              ArrayRef<OpFoldResult>{ib.getIndexAttr(1),
                                                     ib.getIndexAttr(1),
                                                     ib.getIndexAttr(hidden)},
                              ArrayRef<OpFoldResult>{ib.getIndexAttr(1),
                                                     ib.getIndexAttr(1),
                                                     ib.getIndexAttr(1)});
                          ib.create<scf::YieldOp>(il, put);
                        },
                        [&](OpBuilder &eb, Location el) {
                          eb.create<scf::YieldOp>(el, acc[0]);
                        });
                    nb.create<scf::YieldOp>(nl, ifOp.getResult(0));
                  });
              yNew = rows.getResult(0);
            } else {
              Value row = reshapeTo(
                  b, l, out, RankedTensorType::get({1, batch, hidden}, et));
              yNew = b.create<tensor::InsertSliceOp>(
                  l, row, y,
                  ArrayRef<OpFoldResult>{tt, b.getIndexAttr(0),
                                         b.getIndexAttr(0)},
                  ArrayRef<OpFoldResult>{b.getIndexAttr(1),
                                         b.getIndexAttr(batch),
                                         b.getIndexAttr(hidden)},
                  ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                                         b.getIndexAttr(1)});
            }
            // Keep H and C in the carried buffers: canonicalization may give
            // a generic that does not read its init a fresh one instead.
            auto keep = [&](Value v, Value dest) -> Value {
              if (v == dest)
                return v;
              return b
                  .create<bufferization::MaterializeInDestinationOp>(
                      l, v.getType(), v, dest)
                  .getResult();
            };
            b.create<scf::YieldOp>(l,
                                   ValueRange{keep(hn, h), keep(cn, c), yNew});
          });
      hs.push_back(loop.getResult(0));
      cs.push_back(loop.getResult(1));
      ys.push_back(loop.getResult(2));
    }

    // Y [seq, dirs, batch, hidden]; Y_h / Y_c [dirs, batch, hidden].
    auto stack = [&](ArrayRef<Value> parts, ArrayRef<int64_t> shape,
                     int64_t axis) {
      auto type = RankedTensorType::get(shape, et);
      Value out = createEmpty(rewriter, loc, type);
      for (auto [i, p] : llvm::enumerate(parts)) {
        SmallVector<int64_t> one(shape);
        one[axis] = 1;
        Value v = reshapeTo(rewriter, loc, p, RankedTensorType::get(one, et));
        SmallVector<OpFoldResult> off(shape.size(), rewriter.getIndexAttr(0)),
            size, stride(shape.size(), rewriter.getIndexAttr(1));
        off[axis] = rewriter.getIndexAttr(i);
        for (int64_t s : one)
          size.push_back(rewriter.getIndexAttr(s));
        out = rewriter.create<tensor::InsertSliceOp>(loc, v, out, off, size,
                                                     stride);
      }
      return out;
    };
    Value y = stack(ys, {seq, dirs, batch, hidden}, 1);
    Value yh = stack(hs, {dirs, batch, hidden}, 0);
    SmallVector<Value> results{y, yh};
    if (K == Kind::LSTM)
      results.push_back(stack(cs, {dirs, batch, hidden}, 0));
    if (batchFirst) {
      auto permute = [&](Value v, ArrayRef<int64_t> perm) {
        auto t = tensorType(v);
        SmallVector<int64_t> shape;
        for (int64_t p : perm)
          shape.push_back(t.getDimSize(p));
        return rewriter
            .create<linalg::TransposeOp>(
                loc, v,
                createEmpty(rewriter, loc, RankedTensorType::get(shape, et)),
                perm)
            .getResult()[0];
      };
      results[0] = permute(results[0], {2, 0, 1, 3});
      for (size_t i = 1; i < results.size(); ++i)
        results[i] = permute(results[i], {1, 0, 2});
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void kiln::populateRecurrentPatterns(RewritePatternSet &patterns) {
  patterns.add<RecurrentLowering<onnx::RNNOp, Kind::RNN>,
               RecurrentLowering<onnx::GRUOp, Kind::GRU>,
               RecurrentLowering<onnx::LSTMOp, Kind::LSTM>>(
      patterns.getContext());
}
