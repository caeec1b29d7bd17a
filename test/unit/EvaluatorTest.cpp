//===- EvaluatorTest.cpp - The constant evaluator's ONNX semantics --------===//
//
// Each case is an ONNX op on small known tensors, with the result ONNX's
// spec and its reference implementation give; the edge cases are the ones
// where a guess goes wrong (integer Div and Mod signs, Slice with negative
// steps, Range's count, Reshape's 0 and -1, Cast's truncation and wrap).
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/Evaluator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

using namespace kiln::eval;

namespace {

/// Attributes from a few maps.
struct Attrs : Attributes {
  std::map<std::string, int64_t> ints;
  std::map<std::string, double> floats;
  std::map<std::string, std::vector<int64_t>> intLists;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> strings;

  std::optional<int64_t> getInt(const std::string &n) const override {
    auto it = ints.find(n);
    return it == ints.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  std::optional<double> getFloat(const std::string &n) const override {
    auto it = floats.find(n);
    return it == floats.end() ? std::nullopt
                              : std::optional<double>(it->second);
  }
  std::optional<std::vector<int64_t>>
  getInts(const std::string &n) const override {
    auto it = intLists.find(n);
    return it == intLists.end()
               ? std::nullopt
               : std::optional<std::vector<int64_t>>(it->second);
  }
  std::optional<std::vector<double>>
  getFloats(const std::string &) const override {
    return std::nullopt;
  }
  std::optional<std::string> getString(const std::string &n) const override {
    auto it = strings.find(n);
    return it == strings.end() ? std::nullopt
                               : std::optional<std::string>(it->second);
  }
  std::optional<Tensor> getTensor(const std::string &n) const override {
    auto it = tensors.find(n);
    return it == tensors.end() ? std::nullopt
                               : std::optional<Tensor>(it->second);
  }
  bool has(const std::string &n) const override {
    return ints.count(n) || floats.count(n) || intLists.count(n) ||
           tensors.count(n) || strings.count(n);
  }
};

Tensor ints(std::vector<int64_t> values, std::vector<int64_t> dims = {},
            int32_t type = kInt64) {
  if (dims.empty() && values.size() != 1)
    dims = {(int64_t)values.size()};
  Tensor t = Tensor::zeros(type, dims);
  for (size_t i = 0; i < values.size(); ++i)
    t.setInt(i, values[i]);
  return t;
}

Tensor floats(std::vector<double> values, std::vector<int64_t> dims = {},
              int32_t type = kFloat) {
  if (dims.empty() && values.size() != 1)
    dims = {(int64_t)values.size()};
  Tensor t = Tensor::zeros(type, dims);
  for (size_t i = 0; i < values.size(); ++i)
    t.setDouble(i, values[i]);
  return t;
}

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

/// Evaluates an op of one result on known tensors (nullptr: absent).
std::optional<Tensor> run(const std::string &op, std::vector<const Tensor *> in,
                          const Attrs &attrs = Attrs(),
                          int64_t maxElements = kNoLimit) {
  std::vector<Operand> ops;
  for (const Tensor *t : in) {
    Operand o;
    o.value = t;
    o.absent = !t;
    ops.push_back(o);
  }
  auto r = evaluate(op, attrs, ops, 1, maxElements);
  if (!r)
    return std::nullopt;
  return (*r)[0];
}

std::vector<double> values(const Tensor &t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.size(); ++i)
    out.push_back(t.getDouble(i));
  return out;
}

using V = std::vector<double>;
using D = std::vector<int64_t>;

TEST(Evaluator, IntegerDivTruncatesAndModTakesTheDivisorsSign) {
  Tensor a = ints({-7, 7}), b = ints({2});
  EXPECT_EQ(values(*run("Div", {&a, &b})), V({-3, 3}));
  EXPECT_EQ(values(*run("Mod", {&a, &b})), V({1, 1}));
  Attrs cmod;
  cmod.ints["fmod"] = 1;
  EXPECT_EQ(values(*run("Mod", {&a, &b}, cmod)), V({-1, 1}));
  Tensor zero = ints({0});
  EXPECT_FALSE(run("Div", {&a, &zero}));
  // A float Mod needs fmod=1.
  Tensor f = floats({-7.5}), g = floats({2});
  EXPECT_FALSE(run("Mod", {&f, &g}));
  EXPECT_EQ(values(*run("Mod", {&f, &g}, cmod)), V({-1.5}));
}

TEST(Evaluator, BroadcastingComparisonsAndWhere) {
  Tensor a = ints({1, 2, 3}, {3, 1}), b = ints({2, 3}, {1, 2});
  std::optional<Tensor> eq = run("Equal", {&a, &b});
  ASSERT_TRUE(eq);
  EXPECT_EQ(eq->type, kBool);
  EXPECT_EQ(eq->dims, D({3, 2}));
  EXPECT_EQ(values(*eq), V({0, 0, 1, 0, 0, 1}));
  Tensor x = floats({10, 20}), y = floats({-1});
  std::optional<Tensor> w = run("Where", {&*eq, &x, &y});
  ASSERT_TRUE(w);
  EXPECT_EQ(w->dims, D({3, 2}));
  EXPECT_EQ(values(*w), V({-1, -1, 10, -1, -1, 20}));
  Tensor c = ints({1, 2}), d = ints({1, 2, 3});
  EXPECT_FALSE(run("Add", {&c, &d})); // 2 and 3 do not broadcast
}

TEST(Evaluator, SliceClampsAndStepsBackwards) {
  Tensor x = ints({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor starts = ints({-1}),
         ends = ints({std::numeric_limits<int64_t>::min()}), axes = ints({0}),
         steps = ints({-3});
  EXPECT_EQ(values(*run("Slice", {&x, &starts, &ends, &axes, &steps})),
            V({9, 6, 3, 0}));
  Tensor s2 = ints({2}), e2 = ints({1000});
  EXPECT_EQ(values(*run("Slice", {&x, &s2, &e2})), V({2, 3, 4, 5, 6, 7, 8, 9}));
  Tensor m = ints({0, 1, 2, 3, 4, 5}, {2, 3}), s3 = ints({1}), e3 = ints({3}),
         a3 = ints({-1});
  std::optional<Tensor> cols = run("Slice", {&m, &s3, &e3, &a3, nullptr});
  ASSERT_TRUE(cols);
  EXPECT_EQ(cols->dims, D({2, 2}));
  EXPECT_EQ(values(*cols), V({1, 2, 4, 5}));
}

TEST(Evaluator, RangeCountsAsTheSpecSays) {
  Tensor a = ints({10}, {}), b = ints({4}, {}), c = ints({-3}, {});
  EXPECT_EQ(values(*run("Range", {&a, &b, &c})), V({10, 7}));
  Tensor f0 = floats({1}, {}), f1 = floats({5}, {}), f2 = floats({2}, {});
  EXPECT_EQ(values(*run("Range", {&f0, &f1, &f2})), V({1, 3}));
  Tensor empty = ints({20}, {}), one = ints({1}, {});
  EXPECT_EQ(run("Range", {&empty, &b, &one})->size(), 0);
  Tensor zero = ints({0}, {});
  EXPECT_FALSE(run("Range", {&a, &b, &zero}));
}

TEST(Evaluator, ReshapeCopiesZerosAndInfersMinusOne) {
  Tensor x = Tensor::zeros(kFloat, {2, 3, 4});
  Tensor shape = ints({0, -1});
  EXPECT_EQ(run("Reshape", {&x, &shape})->dims, D({2, 12}));
  Attrs allowZero;
  allowZero.ints["allowzero"] = 1;
  EXPECT_FALSE(run("Reshape", {&x, &shape}, allowZero));
  Tensor bad = ints({5, -1});
  EXPECT_FALSE(run("Reshape", {&x, &bad}));
}

TEST(Evaluator, SqueezeUnsqueezeFlattenTranspose) {
  Tensor x = ints({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor axes = ints({0, -1});
  EXPECT_EQ(run("Unsqueeze", {&x, &axes})->dims, D({1, 2, 3, 1}));
  Tensor y = Tensor::zeros(kInt64, {1, 3, 1});
  EXPECT_EQ(run("Squeeze", {&y})->dims, D({3}));
  Tensor bad = ints({1});
  EXPECT_FALSE(run("Squeeze", {&y, &bad})); // dim 1 is 3, not 1
  Attrs flat;
  flat.ints["axis"] = 0;
  EXPECT_EQ(run("Flatten", {&x}, flat)->dims, D({1, 6}));
  std::optional<Tensor> t = run("Transpose", {&x});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->dims, D({3, 2}));
  EXPECT_EQ(values(*t), V({1, 4, 2, 5, 3, 6}));
}

TEST(Evaluator, GatherConcatExpandTile) {
  Tensor x = ints({1, 2, 3, 4, 5, 6}, {2, 3}), idx = ints({-1, 0});
  Attrs axis1;
  axis1.ints["axis"] = 1;
  std::optional<Tensor> g = run("Gather", {&x, &idx}, axis1);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->dims, D({2, 2}));
  EXPECT_EQ(values(*g), V({3, 1, 6, 4}));
  Tensor out = ints({3});
  EXPECT_FALSE(run("Gather", {&x, &out}, axis1));

  Tensor y = ints({7, 8}, {2, 1});
  std::optional<Tensor> c = run("Concat", {&x, &y}, axis1);
  ASSERT_TRUE(c);
  EXPECT_EQ(values(*c), V({1, 2, 3, 7, 4, 5, 6, 8}));

  Tensor col = ints({1, 2, 3}, {3, 1}), shape = ints({2, 1, 4});
  std::optional<Tensor> e = run("Expand", {&col, &shape});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dims, D({2, 3, 4}));
  EXPECT_EQ(e->getInt(4 + 3), 2);
  EXPECT_FALSE(run("Expand", {&col, &shape}, Attrs(), 10)); // 24 > 10

  Tensor reps = ints({1, 2});
  EXPECT_EQ(values(*run("Tile", {&y, &reps})), V({7, 7, 8, 8}));
}

TEST(Evaluator, CastTruncatesWrapsAndRefusesNaN) {
  Tensor f = floats({-2.7, 2.7});
  Attrs toInt;
  toInt.ints["to"] = kInt64;
  EXPECT_EQ(values(*run("Cast", {&f}, toInt)), V({-2, 2}));
  Tensor nan = floats({NAN});
  EXPECT_FALSE(run("Cast", {&nan}, toInt));
  Tensor big = ints({300, -129});
  Attrs toInt8;
  toInt8.ints["to"] = kInt8;
  EXPECT_EQ(values(*run("Cast", {&big}, toInt8)), V({44, 127}));
  Attrs toHalf;
  toHalf.ints["to"] = kFloat16;
  Tensor third = floats({1.0 / 3.0, 65536.0, 1e-7});
  EXPECT_EQ(values(*run("Cast", {&third}, toHalf)),
            V({0.333251953125, INFINITY, 1.1920928955078125e-07}));
}

TEST(Evaluator, FloatMathIsFloat32) {
  // log(5/4) in float32, as the compiled model would compute it.
  Tensor x = floats({1.25});
  EXPECT_EQ(run("Log", {&x})->getDouble(0), (double)std::log(1.25f));
  Tensor a = floats({0.1}), b = floats({0.2});
  EXPECT_EQ(run("Add", {&a, &b})->getDouble(0), (double)(0.1f + 0.2f));
}

TEST(Evaluator, TriluAndConstantOfShape) {
  Tensor shape = ints({3, 3});
  Attrs boolOne;
  boolOne.tensors["value"] = ints({1}, {1}, kBool);
  std::optional<Tensor> ones = run("ConstantOfShape", {&shape}, boolOne);
  ASSERT_TRUE(ones);
  EXPECT_EQ(ones->type, kBool);
  Tensor k = ints({1}, {});
  std::optional<Tensor> upper = run("Trilu", {&*ones, &k});
  EXPECT_EQ(values(*upper), V({0, 1, 1, 0, 0, 1, 0, 0, 0}));
  Attrs lower;
  lower.ints["upper"] = 0;
  Tensor km = ints({-1}, {});
  EXPECT_EQ(values(*run("Trilu", {&*ones, &km}, lower)),
            V({0, 0, 0, 1, 0, 0, 1, 1, 0}));
  std::optional<Tensor> zeros = run("ConstantOfShape", {&shape});
  EXPECT_EQ(zeros->type, kFloat); // the default value: float 0
  EXPECT_EQ(values(*zeros), V(9, 0.0));
}

TEST(Evaluator, ReductionsSplitNonZero) {
  Tensor x = ints({1, 2, 3, 4, 5, 6}, {2, 3}), axes = ints({1});
  Attrs drop;
  drop.ints["keepdims"] = 0;
  std::optional<Tensor> s = run("ReduceSum", {&x, &axes}, drop);
  EXPECT_EQ(s->dims, D({2}));
  EXPECT_EQ(values(*s), V({6, 15}));
  std::optional<Tensor> p = run("ReduceProd", {&x});
  EXPECT_EQ(p->dims, D({1, 1}));
  EXPECT_EQ(p->getInt(0), 720);

  Tensor split = ints({1, 2});
  std::vector<Operand> ops(2);
  ops[0].value = &x;
  ops[1].value = &split;
  Attrs axis1;
  axis1.ints["axis"] = 1;
  auto parts = evaluate("Split", axis1, ops, 2, kNoLimit);
  ASSERT_TRUE(parts);
  EXPECT_EQ(values((*parts)[0]), V({1, 4}));
  EXPECT_EQ(values((*parts)[1]), V({2, 3, 5, 6}));

  Tensor m = ints({0, 3, 0, 5}, {2, 2});
  std::optional<Tensor> nz = run("NonZero", {&m});
  EXPECT_EQ(nz->dims, D({2, 2}));
  EXPECT_EQ(values(*nz), V({0, 1, 1, 1}));
}

TEST(Evaluator, ClipCumSumArgMax) {
  Tensor x = ints({-5, 0, 5, 10}), lo = ints({-1}, {}), hi = ints({6}, {});
  EXPECT_EQ(values(*run("Clip", {&x, &lo, &hi})), V({-1, 0, 5, 6}));
  EXPECT_EQ(values(*run("Clip", {&x, nullptr, &hi})), V({-5, 0, 5, 6}));
  Tensor m = ints({1, 2, 3, 4, 5, 6}, {2, 3}), axis = ints({1}, {});
  EXPECT_EQ(values(*run("CumSum", {&m, &axis})), V({1, 3, 6, 4, 9, 15}));
  Attrs exRev;
  exRev.ints["exclusive"] = 1;
  exRev.ints["reverse"] = 1;
  EXPECT_EQ(values(*run("CumSum", {&m, &axis}, exRev)), V({5, 3, 0, 11, 6, 0}));
  Tensor f = floats({3, 1, 3, 0}, {2, 2});
  Attrs last;
  last.ints["axis"] = 0;
  last.ints["select_last_index"] = 1;
  std::optional<Tensor> am = run("ArgMax", {&f}, last);
  EXPECT_EQ(am->dims, D({1, 2}));
  EXPECT_EQ(values(*am), V({1, 0}));
  Attrs first;
  first.ints["axis"] = 1;
  first.ints["keepdims"] = 0;
  EXPECT_EQ(values(*run("ArgMin", {&f}, first)), V({1, 1}));
}

TEST(Evaluator, GatherScatterElementsAndScatterND) {
  Tensor x = ints({1, 2, 3, 4}, {2, 2}), idx = ints({1, 0, 0, -1}, {2, 2});
  Attrs axis1;
  axis1.ints["axis"] = 1;
  EXPECT_EQ(values(*run("GatherElements", {&x, &idx}, axis1)), V({2, 1, 3, 4}));
  Tensor upd = ints({9, 8, 7, 6}, {2, 2});
  EXPECT_EQ(values(*run("ScatterElements", {&x, &idx, &upd}, axis1)),
            V({8, 9, 7, 6}));
  Attrs add;
  add.strings["reduction"] = "add";
  EXPECT_FALSE(run("ScatterElements", {&x, &idx, &upd}, add));
  Tensor rows = ints({1}, {1, 1}), row = ints({7, 7}, {1, 2});
  EXPECT_EQ(values(*run("ScatterND", {&x, &rows, &row})), V({1, 2, 7, 7}));
  Tensor cell = ints({0, 1}, {1, 2}), one = ints({5}, {1});
  EXPECT_EQ(values(*run("ScatterND", {&x, &cell, &one})), V({1, 5, 3, 4}));
}

TEST(Evaluator, PadModes) {
  Tensor x = ints({1, 2, 3}), pads = ints({2, 1}), fill = ints({9}, {});
  EXPECT_EQ(values(*run("Pad", {&x, &pads, &fill})), V({9, 9, 1, 2, 3, 9}));
  EXPECT_EQ(values(*run("Pad", {&x, &pads})), V({0, 0, 1, 2, 3, 0}));
  Attrs edge, reflect;
  edge.strings["mode"] = "edge";
  reflect.strings["mode"] = "reflect";
  EXPECT_EQ(values(*run("Pad", {&x, &pads}, edge)), V({1, 1, 1, 2, 3, 3}));
  EXPECT_EQ(values(*run("Pad", {&x, &pads}, reflect)), V({3, 2, 1, 2, 3, 2}));
  Tensor crop = ints({-1, 0});
  EXPECT_EQ(values(*run("Pad", {&x, &crop})), V({2, 3}));
}

TEST(Evaluator, BitShiftIsNaNEyeLike) {
  Tensor x = ints({1, 255}, {}, kUInt8), s = ints({3, 1}, {}, kUInt8);
  Attrs left, right;
  left.strings["direction"] = "LEFT";
  right.strings["direction"] = "RIGHT";
  EXPECT_EQ(values(*run("BitShift", {&x, &s}, left)), V({8, 254}));
  EXPECT_EQ(values(*run("BitShift", {&x, &s}, right)), V({0, 127}));
  Tensor signedX = ints({1, 2});
  EXPECT_FALSE(run("BitShift", {&signedX, &signedX}, left));
  Tensor f = floats({NAN, INFINITY, -INFINITY, 1});
  EXPECT_EQ(values(*run("IsNaN", {&f})), V({1, 0, 0, 0}));
  Attrs posOnly;
  posOnly.ints["detect_negative"] = 0;
  EXPECT_EQ(values(*run("IsInf", {&f}, posOnly)), V({0, 1, 0, 0}));
  Tensor shape = Tensor::zeros(kInt64, {2, 3});
  Attrs k1;
  k1.ints["k"] = 1;
  EXPECT_EQ(values(*run("EyeLike", {&shape}, k1)), V({0, 1, 0, 0, 0, 1}));
}

TEST(Evaluator, ShapeNeedsOnlyAShape) {
  std::vector<int64_t> dims = {2, 3, 4};
  std::vector<Operand> ops(1);
  ops[0].shape = &dims;
  Attrs tail;
  tail.ints["start"] = -2;
  auto r = evaluate("Shape", tail, ops, 1, kNoLimit);
  ASSERT_TRUE(r);
  EXPECT_EQ(values((*r)[0]), V({3, 4}));
  auto size = evaluate("Size", Attrs(), ops, 1, kNoLimit);
  EXPECT_EQ((*size)[0].getInt(0), 24);
  // Any other op needs values.
  EXPECT_FALSE(evaluate("Relu", Attrs(), ops, 1, kNoLimit));
}

TEST(Evaluator, UnknownOpsAndFloatGrowthAreNotFolded) {
  Tensor x = floats({1, 2});
  EXPECT_FALSE(run("Hardmax", {&x}));
  std::vector<Operand> ops(1);
  ops[0].value = &x;
  Tensor grown = Tensor::zeros(kFloat, {4});
  EXPECT_FALSE(worthFolding({grown}, ops));
  EXPECT_TRUE(worthFolding({Tensor::zeros(kInt64, {4})}, ops));
  EXPECT_TRUE(worthFolding({Tensor::zeros(kFloat, {2})}, ops));
}

} // namespace
