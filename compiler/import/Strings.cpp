//===- Strings.cpp - String tensors as byte tensors -----------------------===//
//
// This file implements the rewrite described in Strings.h. It walks the
// main graph once, after shape inference, keeping every string value's row
// width, and emits byte-tensor nodes whose types it records itself (no
// inference runs after it: Kiln's own ops have no ONNX schema).
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Strings.h"

#include "compiler/import/ProtoHelpers.h"
#include "onnx/onnx_pb.h"

#include <algorithm>
#include <set>

using namespace kiln;

namespace {

constexpr int32_t kString = onnx::TensorProto::STRING;
constexpr int32_t kUint8 = onnx::TensorProto::UINT8;
constexpr int32_t kBool = onnx::TensorProto::BOOL;
constexpr int32_t kInt32 = onnx::TensorProto::INT32;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;

using Dims = std::vector<int64_t>;

/// The most bytes a Cast of `dtype` to strings writes (numpy's str()).
int64_t formattedWidth(int32_t dtype) {
  switch (dtype) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    return 24;
  case onnx::TensorProto::DOUBLE:
    return 32;
  default:
    return 0;
  }
}

class StringExpander {
public:
  StringExpander(onnx::ModelProto &model, int64_t maxBytes, std::string &error)
      : model(model), maxBytes(maxBytes), error(error) {}

  bool run(ModelLayout &layout);

private:
  bool fail(const onnx::NodeProto &node, const std::string &message) {
    error = describeNodeProto(node) + ": " + message;
    return false;
  }
  std::string fresh(const std::string &base) {
    return base + "__kiln_str" + std::to_string(counter++);
  }
  /// The static shape and element type shape inference found for `name`.
  bool known(const std::string &name, Dims &dims, int32_t &dtype) {
    auto it = types.find(name);
    if (it == types.end())
      return false;
    dims = it->second.second;
    dtype = it->second.first;
    return true;
  }
  void setType(const std::string &name, int32_t dtype, const Dims &dims) {
    types[name] = {dtype, dims};
    made[name] = {dtype, dims};
  }
  static Dims withRow(Dims dims, int64_t width) {
    dims.push_back(width);
    return dims;
  }
  onnx::NodeProto &emit(const std::string &op,
                        const std::vector<std::string> &inputs,
                        const std::string &output) {
    out.push_back(makeNode(op, inputs, output));
    return out.back();
  }
  std::string constant(const std::string &base, int32_t dtype, const Dims &dims,
                       const std::vector<int64_t> &values);
  std::string bytesConstant(const std::string &base, const Dims &dims,
                            const std::vector<std::string> &strings,
                            int64_t width);
  /// `name` with its rows padded to `width` bytes.
  std::string padded(const std::string &name, int64_t width);
  /// ASCII letters of the byte tensor `name` (of shape `dims`) made lower
  /// (or upper) case.
  std::string changeCase(const std::string &name, const Dims &dims,
                         bool lower);
  /// Per string of `bytes` (shape `dims` + [W]): whether it equals `word`,
  /// as an int32 0/1 tensor of shape `dims`.
  std::string equalsWord(const std::string &bytes, const Dims &dims,
                         int64_t width, const std::string &word);
  /// Per string: whether all bytes of two byte tensors agree along the row
  /// (1 or 0, int32).
  std::string rowsEqual(const std::string &a, const std::string &b,
                        const Dims &rows, int64_t width);

  /// For each element of `x` (strings, or numbers), the position plus one
  /// of the last of `keys` it equals, 0 if none: an int32 tensor of x's
  /// (string) shape `dims`.
  std::string matchKeys(const std::string &x, const Dims &dims,
                        const std::vector<std::string> &stringKeys,
                        const onnx::TensorProto *numberKeys);
  bool labelEncoder(const onnx::NodeProto &node);
  bool tfIdf(const onnx::NodeProto &node);
  bool processNode(const onnx::NodeProto &node);
  bool normalize(const onnx::NodeProto &node);
  bool cast(const onnx::NodeProto &node, const std::string &input, int32_t to);

  onnx::ModelProto &model;
  int64_t maxBytes;
  std::string &error;
  int counter = 0;
  std::map<std::string, std::pair<int32_t, Dims>> types, made;
  std::map<std::string, int64_t> width;
  std::vector<onnx::NodeProto> out;
};

} // namespace

std::string StringExpander::constant(const std::string &base, int32_t dtype,
                                     const Dims &dims,
                                     const std::vector<int64_t> &values) {
  std::string name = fresh(base);
  onnx::TensorProto t = int64Tensor(values, dims);
  if (dtype != kInt64) {
    // uint8, int32 and bool values live in int32_data.
    t.clear_int64_data();
    t.set_data_type(dtype);
    for (int64_t v : values)
      t.add_int32_data((int32_t)v);
  }
  out.push_back(makeConstant(name, t));
  setType(name, dtype, dims);
  return name;
}

std::string
StringExpander::bytesConstant(const std::string &base, const Dims &dims,
                              const std::vector<std::string> &strings,
                              int64_t width) {
  std::vector<int64_t> bytes;
  for (const std::string &s : strings)
    for (int64_t k = 0; k < width; ++k)
      bytes.push_back(k < (int64_t)s.size() ? (uint8_t)s[k] : 0);
  return constant(base, kUint8, withRow(dims, width), bytes);
}

std::string StringExpander::padded(const std::string &name, int64_t to) {
  int64_t from = width[name];
  if (from == to)
    return name;
  Dims dims;
  int32_t dtype;
  known(name, dims, dtype);
  std::vector<int64_t> pads(2 * dims.size(), 0);
  pads.back() = to - from;
  std::string p = constant(name + "_pads", kInt64, {(int64_t)pads.size()}, pads);
  std::string result = fresh(name + "_padded");
  emit("Pad", {name, p}, result);
  dims.back() = to;
  setType(result, kUint8, dims);
  width[result] = to;
  return result;
}

std::string StringExpander::changeCase(const std::string &name,
                                       const Dims &dims, bool lower) {
  // Letters are (lo, hi) exclusive: 'A'..'Z' or 'a'..'z'.
  int64_t lo = lower ? 'A' - 1 : 'a' - 1, hi = lower ? 'Z' + 1 : 'z' + 1;
  std::string cLo = constant(name + "_lo", kUint8, {}, {lo});
  std::string cHi = constant(name + "_hi", kUint8, {}, {hi});
  std::string c32 = constant(name + "_case", kUint8, {}, {32});
  std::string above = fresh(name + "_above"), below = fresh(name + "_below"),
              letter = fresh(name + "_letter"), moved = fresh(name + "_moved"),
              result = fresh(name + (lower ? "_lower" : "_upper"));
  emit("Greater", {name, cLo}, above);
  emit("Less", {name, cHi}, below);
  emit("And", {above, below}, letter);
  emit(lower ? "Add" : "Sub", {name, c32}, moved);
  emit("Where", {letter, moved, name}, result);
  for (const std::string &b : {above, below, letter})
    setType(b, kBool, dims);
  setType(moved, kUint8, dims);
  setType(result, kUint8, dims);
  return result;
}

std::string StringExpander::rowsEqual(const std::string &a,
                                      const std::string &b, const Dims &rows,
                                      int64_t w) {
  std::string eq = fresh(a + "_eq"), eqInt = fresh(a + "_eq_int"),
              all = fresh(a + "_all");
  emit("Equal", {a, b}, eq);
  onnx::NodeProto &c = emit("Cast", {eq}, eqInt);
  setIntAttribute(c, "to", kInt32);
  onnx::NodeProto &m = emit("ReduceMin", {eqInt}, all);
  onnx::AttributeProto *axes = m.add_attribute();
  axes->set_name("axes");
  axes->set_type(onnx::AttributeProto::INTS);
  axes->add_ints(-1);
  setIntAttribute(m, "keepdims", 0);
  setType(eq, kBool, withRow(rows, w));
  setType(eqInt, kInt32, withRow(rows, w));
  setType(all, kInt32, rows);
  return all;
}

std::string StringExpander::equalsWord(const std::string &bytes,
                                       const Dims &dims, int64_t w,
                                       const std::string &word) {
  std::string c = bytesConstant(bytes + "_word", {}, {word}, w);
  return rowsEqual(bytes, c, dims, w);
}

bool StringExpander::cast(const onnx::NodeProto &node,
                          const std::string &input, int32_t to) {
  const std::string &output = node.output(0);
  Dims dims;
  int32_t from;
  if (!known(input, dims, from))
    return fail(node, "the shape of '" + input + "' is not known");
  if (width.count(input)) {
    from = kString;
    dims.pop_back(); // the row
  }
  if (from == kString && to == kString) {
    emit("Identity", {input}, output);
    width[output] = width[input];
    setType(output, kUint8, withRow(dims, width[input]));
    return true;
  }
  if (to == kString) {
    int64_t w = formattedWidth(from);
    if (!w)
      return fail(node, "Kiln casts numbers to strings, not " +
                            onnx::TensorProto::DataType_Name(
                                (onnx::TensorProto::DataType)from));
    emit("KilnNumberToString", {input}, output);
    width[output] = w;
    setType(output, kUint8, withRow(dims, w));
    return true;
  }
  if (!formattedWidth(to))
    return fail(node, "Kiln casts strings to numbers, not " +
                          onnx::TensorProto::DataType_Name(
                              (onnx::TensorProto::DataType)to));
  if (width[input] > 64)
    return fail(node, "Kiln reads numbers from strings of up to 64 bytes; '" +
                          input + "' holds " + std::to_string(width[input]) +
                          " (--max-string-bytes)");
  emit("KilnStringToNumber", {input}, output);
  setType(output, to, dims);
  return true;
}

bool StringExpander::normalize(const onnx::NodeProto &node) {
  const std::string &x = node.input(0), &y = node.output(0);
  Dims dims, outDims;
  int32_t dtype;
  known(x, dims, dtype);
  dims.pop_back(); // the row
  int64_t w = width[x];
  if (dims.empty() || dims.size() > 2 || (dims.size() == 2 && dims[0] != 1))
    return fail(node, "the input must be [C] or [1, C]");
  std::string action = "NONE";
  bool sensitive = false;
  std::vector<std::string> stopwords;
  for (const auto &a : node.attribute()) {
    if (a.name() == "case_change_action")
      action = a.s();
    else if (a.name() == "is_case_sensitive")
      sensitive = a.i() != 0;
    else if (a.name() == "stopwords")
      stopwords.assign(a.strings().begin(), a.strings().end());
    else if (a.name() != "locale")
      return fail(node, "attribute '" + a.name() + "' is not supported");
  }
  if (action != "NONE" && action != "LOWER" && action != "UPPER")
    return fail(node, "case_change_action '" + action + "' is not one of "
                      "NONE, LOWER, UPPER");
  Dims rows = dims;
  Dims bytes = withRow(dims, w);
  std::string cased =
      action == "NONE" ? x : changeCase(x, bytes, action == "LOWER");
  // Stopwords no string can equal (longer than the rows) drop out.
  bool anyStopword = false;
  for (const std::string &word : stopwords)
    anyStopword |= (int64_t)word.size() <= w;
  // Without stopwords the length is the input's; with them it is data.
  if (!known(y, outDims, dtype)) {
    if (anyStopword)
      return fail(node, "the length of output '" + y +
                            "' depends on the input data and the model "
                            "leaves it dynamic; Kiln compiles static shapes "
                            "only: declare it in the model");
    outDims = dims;
  }
  std::string compared =
      sensitive || !anyStopword ? x : changeCase(x, bytes, true);
  std::vector<std::string> matches;
  for (std::string word : stopwords) {
    if ((int64_t)word.size() > w)
      continue;
    if (!sensitive)
      for (char &c : word)
        if (c >= 'A' && c <= 'Z')
          c = (char)(c + 32);
    matches.push_back(equalsWord(compared, rows, w, word));
  }
  int64_t axis = (int64_t)dims.size() - 1;
  if (matches.empty()) {
    if (outDims != dims)
      return fail(node, "the model declares a length that differs from the "
                        "input's, and there is no stopword to drop");
    emit("Identity", {cased}, y);
    width[y] = w;
    setType(y, kUint8, withRow(outDims, w));
    return true;
  }
  std::string stop = matches[0];
  if (matches.size() > 1) {
    stop = fresh(x + "_stop");
    emit("Max", matches, stop);
    setType(stop, kInt32, rows);
  }
  std::string keep = fresh(x + "_keep"), keep64 = fresh(x + "_keep64"),
              count = fresh(x + "_count"), none = fresh(x + "_none"),
              noneRow = fresh(x + "_none_row"), keepAll = fresh(x + "_keep_all"),
              keepFlat = fresh(x + "_keep_flat"), rowsAll = fresh(x + "_rows");
  emit("Equal", {stop, constant(x + "_zero", kInt32, {}, {0})}, keep);
  setType(keep, kBool, rows);
  setIntAttribute(emit("Cast", {keep}, keep64), "to", kInt64);
  setType(keep64, kInt64, rows);
  setIntAttribute(emit("ReduceSum", {keep64}, count), "keepdims", 0);
  setType(count, kInt64, {});
  emit("Equal", {count, constant(x + "_zero", kInt64, {}, {0})}, none);
  setType(none, kBool, {});
  // When every string is a stopword the result is one empty string: an
  // empty row, kept only then, goes after the others.
  Dims one = rows;
  one.back() = 1;
  emit("Reshape",
       {none, constant(x + "_shape", kInt64, {(int64_t)one.size()}, one)},
       noneRow);
  setType(noneRow, kBool, one);
  setIntAttribute(emit("Concat", {keep, noneRow}, keepAll), "axis", axis);
  Dims grown = rows;
  grown.back() += 1;
  setType(keepAll, kBool, grown);
  emit("Reshape",
       {keepAll, constant(x + "_flat", kInt64, {1}, {grown.back()})},
       keepFlat);
  setType(keepFlat, kBool, {grown.back()});
  std::string empty =
      bytesConstant(x + "_empty", one, std::vector<std::string>(1), w);
  setIntAttribute(emit("Concat", {cased, empty}, rowsAll), "axis", axis);
  setType(rowsAll, kUint8, withRow(grown, w));
  setIntAttribute(emit("Compress", {rowsAll, keepFlat}, y), "axis", axis);
  width[y] = w;
  setType(y, kUint8, withRow(outDims, w));
  return true;
}

std::string StringExpander::matchKeys(const std::string &x, const Dims &dims,
                                      const std::vector<std::string> &stringKeys,
                                      const onnx::TensorProto *numberKeys) {
  int64_t rank = dims.size();
  int64_t keys = numberKeys ? numberKeys->dims(0) : stringKeys.size();
  std::string axis = constant(x + "_axis", kInt64, {1}, {rank});
  std::string lifted = fresh(x + "_lifted"), eq = fresh(x + "_eq"),
              eqInt = fresh(x + "_eq_int");
  Dims across = dims;
  across.push_back(keys);
  if (numberKeys) {
    // [S..., 1] against [K].
    Dims one = dims;
    one.push_back(1);
    emit("Unsqueeze", {x, axis}, lifted);
    int32_t dtype = types[x].first;
    setType(lifted, dtype, one);
    std::string table = fresh(x + "_keys");
    out.push_back(makeConstant(table, *numberKeys));
    setType(table, numberKeys->data_type(), {keys});
    emit("Equal", {lifted, table}, eq);
    setType(eq, kBool, across);
    setIntAttribute(emit("Cast", {eq}, eqInt), "to", kInt32);
    setType(eqInt, kInt32, across);
  } else {
    // [S..., 1, W] against [K, W], all bytes equal along the row.
    int64_t w = width[x];
    for (const std::string &k : stringKeys)
      w = std::max<int64_t>(w, k.size());
    std::string row = padded(x, w);
    Dims one = dims;
    one.push_back(1);
    emit("Unsqueeze", {row, axis}, lifted);
    setType(lifted, kUint8, withRow(one, w));
    std::string table = bytesConstant(x + "_keys", {keys}, stringKeys, w);
    eqInt = rowsEqual(lifted, table, across, w);
  }
  std::vector<int64_t> positions;
  for (int64_t k = 1; k <= keys; ++k)
    positions.push_back(k);
  std::string weighted = fresh(x + "_weighted"), found = fresh(x + "_found");
  emit("Mul", {eqInt, constant(x + "_positions", kInt32, {keys}, positions)},
       weighted);
  setType(weighted, kInt32, across);
  onnx::NodeProto &m = emit("ReduceMax", {weighted}, found);
  onnx::AttributeProto *axes = m.add_attribute();
  axes->set_name("axes");
  axes->set_type(onnx::AttributeProto::INTS);
  axes->add_ints(-1);
  setIntAttribute(m, "keepdims", 0);
  setType(found, kInt32, dims);
  return found;
}

bool StringExpander::labelEncoder(const onnx::NodeProto &node) {
  const std::string &x = node.input(0), &y = node.output(0);
  Dims dims;
  int32_t dtype;
  known(x, dims, dtype);
  bool stringIn = width.count(x) > 0;
  if (stringIn)
    dims.pop_back();
  std::vector<std::string> keyStrings, valueStrings;
  onnx::TensorProto keyNumbers, valueNumbers;
  bool haveKeyNumbers = false, haveValueNumbers = false;
  std::string defaultString = "_Unused";
  int64_t defaultInt = -1;
  float defaultFloat = -0.0f;
  for (const auto &a : node.attribute()) {
    const std::string &n = a.name();
    if (n == "keys_strings")
      keyStrings.assign(a.strings().begin(), a.strings().end());
    else if (n == "values_strings")
      valueStrings.assign(a.strings().begin(), a.strings().end());
    else if (n == "keys_int64s" || n == "values_int64s") {
      onnx::TensorProto &t = n[0] == 'k' ? keyNumbers : valueNumbers;
      (n[0] == 'k' ? haveKeyNumbers : haveValueNumbers) = true;
      t.set_data_type(kInt64);
      t.add_dims(a.ints_size());
      for (int64_t v : a.ints())
        t.add_int64_data(v);
    } else if (n == "keys_floats" || n == "values_floats") {
      onnx::TensorProto &t = n[0] == 'k' ? keyNumbers : valueNumbers;
      (n[0] == 'k' ? haveKeyNumbers : haveValueNumbers) = true;
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.add_dims(a.floats_size());
      for (float v : a.floats())
        t.add_float_data(v);
    } else if (n == "default_string")
      defaultString = a.s();
    else if (n == "default_int64")
      defaultInt = a.i();
    else if (n == "default_float")
      defaultFloat = a.f();
    else
      return fail(node, "attribute '" + n + "' is not supported");
  }
  int64_t keys = haveKeyNumbers ? keyNumbers.dims(0) : keyStrings.size();
  int64_t values = haveValueNumbers ? valueNumbers.dims(0) : valueStrings.size();
  if (keys == 0 || keys != values || stringIn == haveKeyNumbers)
    return fail(node, "needs as many keys as values, keys of its input's "
                      "type");
  std::string found =
      matchKeys(x, dims, keyStrings, haveKeyNumbers ? &keyNumbers : nullptr);
  // The value's row: the key's position, or the default's after them.
  std::string missing = fresh(x + "_missing"), picked = fresh(x + "_picked"),
              index = fresh(x + "_index"), index64 = fresh(x + "_index64");
  emit("Equal", {found, constant(x + "_zero", kInt32, {}, {0})}, missing);
  setType(missing, kBool, dims);
  emit("Where", {missing, constant(x + "_default", kInt32, {}, {keys + 1}),
                 found},
       picked);
  setType(picked, kInt32, dims);
  emit("Sub", {picked, constant(x + "_one", kInt32, {}, {1})}, index);
  setType(index, kInt32, dims);
  setIntAttribute(emit("Cast", {index}, index64), "to", kInt64);
  setType(index64, kInt64, dims);
  std::string table;
  if (haveValueNumbers) {
    onnx::TensorProto t = valueNumbers;
    t.set_dims(0, values + 1);
    if (t.data_type() == kInt64)
      t.add_int64_data(defaultInt);
    else
      t.add_float_data(defaultFloat);
    table = fresh(y + "_values");
    out.push_back(makeConstant(table, t));
    setType(table, t.data_type(), {values + 1});
    emit("Gather", {table, index64}, y);
    setType(y, t.data_type(), dims);
    return true;
  }
  valueStrings.push_back(defaultString);
  int64_t w = 1;
  for (const std::string &v : valueStrings)
    w = std::max<int64_t>(w, v.size());
  table = bytesConstant(y + "_values", {values + 1}, valueStrings, w);
  emit("Gather", {table, index64}, y);
  width[y] = w;
  setType(y, kUint8, withRow(dims, w));
  return true;
}

bool StringExpander::tfIdf(const onnx::NodeProto &node) {
  const std::string &x = node.input(0);
  Dims dims;
  int32_t dtype;
  known(x, dims, dtype);
  dims.pop_back();
  std::vector<std::string> pool;
  onnx::NodeProto copy = node;
  copy.clear_attribute();
  for (const auto &a : node.attribute()) {
    if (a.name() == "pool_strings")
      pool.assign(a.strings().begin(), a.strings().end());
    else
      *copy.add_attribute() = a;
  }
  if (pool.empty())
    return fail(node, "takes strings without pool_strings");
  // Each string becomes the index of its last place in the pool (-1 if it
  // is not there: matchKeys finds the last), and each pool entry the same.
  std::string found = matchKeys(x, dims, pool, nullptr);
  std::string ids32 = fresh(x + "_ids32"), ids = fresh(x + "_ids");
  emit("Sub", {found, constant(x + "_one", kInt32, {}, {1})}, ids32);
  setType(ids32, kInt32, dims);
  setIntAttribute(emit("Cast", {ids32}, ids), "to", kInt64);
  setType(ids, kInt64, dims);
  onnx::AttributeProto *ints = copy.add_attribute();
  ints->set_name("pool_int64s");
  ints->set_type(onnx::AttributeProto::INTS);
  for (size_t i = 0; i < pool.size(); ++i) {
    int64_t last = i;
    for (size_t j = i; j < pool.size(); ++j)
      if (pool[j] == pool[i])
        last = j;
    ints->add_ints(last);
  }
  copy.set_input(0, ids);
  out.push_back(copy);
  return true;
}

bool StringExpander::processNode(const onnx::NodeProto &node) {
  const std::string &op = node.op_type();
  if (op == "Constant") {
    const onnx::AttributeProto *v = findAttribute(node, "value");
    const onnx::AttributeProto *vs = findAttribute(node, "value_strings");
    const onnx::AttributeProto *s = findAttribute(node, "value_string");
    if ((v && v->t().data_type() == kString) || vs || s) {
      std::vector<std::string> strings;
      Dims dims;
      if (v) {
        strings.assign(v->t().string_data().begin(),
                       v->t().string_data().end());
        dims.assign(v->t().dims().begin(), v->t().dims().end());
      } else if (vs) {
        strings.assign(vs->strings().begin(), vs->strings().end());
        dims = {(int64_t)strings.size()};
      } else {
        strings = {s->s()};
      }
      int64_t w = 1;
      for (const std::string &str : strings)
        w = std::max<int64_t>(w, str.size());
      std::string c = bytesConstant(node.output(0), dims, strings, w);
      emit("Identity", {c}, node.output(0));
      width[node.output(0)] = w;
      setType(node.output(0), kUint8, withRow(dims, w));
      return true;
    }
  }
  bool touches = false;
  for (const std::string &in : node.input())
    touches |= width.count(in) > 0;
  for (const std::string &o : node.output()) {
    Dims d;
    int32_t t;
    touches |= known(o, d, t) && t == kString;
  }
  for (const auto &a : node.attribute())
    if (a.has_g())
      for (const auto &n : a.g().node())
        for (const auto &in : n.input())
          if (width.count(in))
            return fail(node, "its graph '" + a.name() +
                                  "' reads strings, which Kiln does not "
                                  "support inside subgraphs");
  if (!touches) {
    out.push_back(node);
    return true;
  }
  Dims outDims;
  int32_t outType = 0;
  // (StringNormalizer's length is data: it says so itself.)
  if (node.output_size() == 0 ||
      (!known(node.output(0), outDims, outType) && op != "StringNormalizer"))
    return fail(node, "the shape of its output is not known after shape "
                      "inference");
  for (const std::string &in : node.input()) {
    Dims d;
    int32_t t;
    if (!in.empty() && !known(in, d, t))
      return fail(node, "the shape of its input '" + in +
                            "' is not known after shape inference");
  }
  auto stringInput = [&](int i) {
    return i < node.input_size() && width.count(node.input(i));
  };

  if (op == "Identity" || op == "Gather") {
    if (!stringInput(0))
      return fail(node, "expects strings");
    onnx::NodeProto copy = node;
    if (op == "Gather") {
      Dims data;
      int32_t t;
      known(node.input(0), data, t);
      int64_t rank = (int64_t)data.size() - 1;
      const onnx::AttributeProto *a = findAttribute(node, "axis");
      int64_t axis = a ? a->i() : 0;
      setIntAttribute(copy, "axis", axis < 0 ? axis + rank : axis);
    }
    out.push_back(copy);
    int64_t w = width[node.input(0)];
    width[node.output(0)] = w;
    setType(node.output(0), kUint8, withRow(outDims, w));
    return true;
  }
  if (op == "Concat") {
    int64_t w = 0;
    for (int i = 0; i < node.input_size(); ++i) {
      if (!stringInput(i))
        return fail(node, "mixes strings and numbers");
      w = std::max(w, width[node.input(i)]);
    }
    onnx::NodeProto copy = node;
    for (int i = 0; i < node.input_size(); ++i)
      copy.set_input(i, padded(node.input(i), w));
    const onnx::AttributeProto *a = findAttribute(node, "axis");
    int64_t axis = a ? a->i() : 0;
    setIntAttribute(copy, "axis",
                 axis < 0 ? axis + (int64_t)outDims.size() : axis);
    out.push_back(copy);
    width[node.output(0)] = w;
    setType(node.output(0), kUint8, withRow(outDims, w));
    return true;
  }
  if (op == "Cast") {
    const onnx::AttributeProto *to = findAttribute(node, "to");
    if (!to)
      return fail(node, "has no 'to'");
    return cast(node, node.input(0), (int32_t)to->i());
  }
  if (op == "CastLike") {
    Dims d;
    int32_t like;
    if (node.input_size() < 2 || !known(node.input(1), d, like))
      return fail(node, "the type of 'target_type' is not known");
    return cast(node, node.input(0), stringInput(1) ? kString : like);
  }
  if (op == "LabelEncoder" && node.domain() == "ai.onnx.ml")
    return labelEncoder(node);
  if (op == "TfIdfVectorizer") {
    if (!stringInput(0))
      return fail(node, "expects strings");
    return tfIdf(node);
  }
  if (op == "StringNormalizer") {
    if (!stringInput(0))
      return fail(node, "expects strings");
    return normalize(node);
  }
  return fail(node, "Kiln takes strings in Cast, CastLike, Concat, Gather, "
                    "Identity, LabelEncoder, StringNormalizer and "
                    "TfIdfVectorizer only");
}

bool StringExpander::run(ModelLayout &layout) {
  onnx::GraphProto *graph = model.mutable_graph();
  auto record = [&](const onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return;
    Dims dims;
    for (const auto &d : v.type().tensor_type().shape().dim()) {
      if (!d.has_dim_value())
        return;
      dims.push_back(d.dim_value());
    }
    types[v.name()] = {v.type().tensor_type().elem_type(), dims};
  };
  for (const auto &v : graph->value_info())
    record(v);
  for (const auto &v : graph->input())
    record(v);
  for (const auto &v : graph->output())
    record(v);

  // String initializers become byte tensors; string inputs get rows of
  // --max-string-bytes.
  for (auto &init : *graph->mutable_initializer()) {
    Dims dims(init.dims().begin(), init.dims().end());
    types[init.name()] = {init.data_type(), dims};
    if (init.data_type() != kString)
      continue;
    int64_t w = 1;
    for (const std::string &s : init.string_data())
      w = std::max<int64_t>(w, s.size());
    std::string raw;
    for (const std::string &s : init.string_data()) {
      raw += s;
      raw.append(w - s.size(), '\0');
    }
    init.clear_string_data();
    init.set_data_type(kUint8);
    init.add_dims(w);
    init.set_raw_data(raw);
    width[init.name()] = w;
    setType(init.name(), kUint8, withRow(dims, w));
  }
  std::set<std::string> initializers;
  for (const auto &init : graph->initializer())
    initializers.insert(init.name());
  for (auto &input : *graph->mutable_input()) {
    if (initializers.count(input.name()) ||
        input.type().tensor_type().elem_type() != kString)
      continue;
    Dims dims;
    int32_t t;
    if (!known(input.name(), dims, t)) {
      error = "input '" + input.name() + "' has a dynamic dimension; pin it "
              "with --input-shape";
      return false;
    }
    auto *tensor = input.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(kUint8);
    tensor->mutable_shape()->add_dim()->set_dim_value(maxBytes);
    width[input.name()] = maxBytes;
    setType(input.name(), kUint8, withRow(dims, maxBytes));
    layout.stringBytes[input.name()] = maxBytes;
  }

  for (const auto &node : graph->node())
    if (!processNode(node))
      return false;

  for (auto &output : *graph->mutable_output()) {
    auto it = width.find(output.name());
    if (it == width.end())
      continue;
    auto *tensor = output.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(kUint8);
    tensor->mutable_shape()->add_dim()->set_dim_value(it->second);
    layout.stringBytes[output.name()] = it->second;
  }
  graph->clear_node();
  for (auto &n : out)
    *graph->add_node() = std::move(n);
  // The types of the values made or retyped, in place of inference's.
  auto *infos = graph->mutable_value_info();
  for (int i = infos->size() - 1; i >= 0; --i)
    if (made.count(infos->Get(i).name()))
      infos->DeleteSubrange(i, 1);
  for (const auto &[name, type] : made) {
    onnx::ValueInfoProto *info = graph->add_value_info();
    info->set_name(name);
    auto *tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type.first);
    auto *shape = tensor->mutable_shape();
    for (int64_t d : type.second)
      shape->add_dim()->set_dim_value(d);
  }
  return true;
}

bool kiln::usesStrings(const onnx::ModelProto &model) {
  const onnx::GraphProto &g = model.graph();
  auto isString = [](const onnx::ValueInfoProto &v) {
    return v.type().has_tensor_type() &&
           v.type().tensor_type().elem_type() == kString;
  };
  for (const auto &v : g.input())
    if (isString(v))
      return true;
  for (const auto &v : g.output())
    if (isString(v))
      return true;
  for (const auto &v : g.value_info())
    if (isString(v))
      return true;
  for (const auto &t : g.initializer())
    if (t.data_type() == kString)
      return true;
  return false;
}

bool kiln::expandStrings(onnx::ModelProto &model, int64_t maxStringBytes,
                         ModelLayout &layout, std::string &error) {
  return StringExpander(model, maxStringBytes, error).run(layout);
}
