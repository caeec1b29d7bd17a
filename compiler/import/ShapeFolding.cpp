//===- ShapeFolding.cpp - Fold shape computations in an ONNX graph --------===//
//
// This file implements foldShapeComputations: a forward walk that evaluates
// integer nodes (at most kMaxElements elements) whose inputs are known: the
// int64/int32 initializers and Constant nodes, and Shape/Size of tensors whose
// shape inference found a static shape. Folded nodes become initializers.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ShapeFolding.h"

#include "onnx/onnx_pb.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace kiln;

namespace {

constexpr int64_t kMaxElements = 1024;

/// A small integer tensor.
struct IntTensor {
  std::vector<int64_t> dims;
  std::vector<int64_t> values;
  int32_t dtype = onnx::TensorProto::INT64;
};

int64_t count(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::optional<IntTensor> fromProto(const onnx::TensorProto &t) {
  if (t.data_type() != onnx::TensorProto::INT64 &&
      t.data_type() != onnx::TensorProto::INT32)
    return std::nullopt;
  IntTensor r;
  r.dtype = t.data_type();
  r.dims.assign(t.dims().begin(), t.dims().end());
  int64_t n = count(r.dims);
  if (n > kMaxElements || t.data_location() == onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    size_t width = r.dtype == onnx::TensorProto::INT64 ? 8 : 4;
    if ((int64_t)raw.size() != n * (int64_t)width)
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i) {
      if (width == 8) {
        int64_t v;
        std::memcpy(&v, raw.data() + i * 8, 8);
        r.values.push_back(v);
      } else {
        int32_t v;
        std::memcpy(&v, raw.data() + i * 4, 4);
        r.values.push_back(v);
      }
    }
  } else if (r.dtype == onnx::TensorProto::INT64) {
    r.values.assign(t.int64_data().begin(), t.int64_data().end());
  } else {
    r.values.assign(t.int32_data().begin(), t.int32_data().end());
  }
  if ((int64_t)r.values.size() != n)
    return std::nullopt;
  return r;
}

void toProto(const IntTensor &t, const std::string &name,
             onnx::TensorProto &out) {
  out.set_name(name);
  out.set_data_type(t.dtype);
  for (int64_t d : t.dims)
    out.add_dims(d);
  for (int64_t v : t.values) {
    if (t.dtype == onnx::TensorProto::INT64)
      out.add_int64_data(v);
    else
      out.add_int32_data((int32_t)v);
  }
}

int64_t intAttr(const onnx::NodeProto &node, const std::string &name,
                int64_t fallback) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return a.i();
  return fallback;
}

/// Elementwise arithmetic of two tensors of the same size, or of one tensor
/// and a one-element tensor.
std::optional<IntTensor> binary(const IntTensor &a, const IntTensor &b,
                                const std::string &op) {
  IntTensor r;
  const IntTensor &big = a.values.size() >= b.values.size() ? a : b;
  const IntTensor &small = &big == &a ? b : a;
  if (a.values.size() != b.values.size() && small.values.size() != 1)
    return std::nullopt;
  // numpy broadcasting: the result has the larger rank.
  if (small.dims.size() > big.dims.size()) {
    if (big.values.size() != 1)
      return std::nullopt;
    r.dims = small.dims;
  } else {
    r.dims = big.dims;
  }
  r.dtype = a.dtype;
  for (size_t i = 0; i < big.values.size(); ++i) {
    int64_t x = a.values[a.values.size() == 1 ? 0 : i];
    int64_t y = b.values[b.values.size() == 1 ? 0 : i];
    if (op == "Add")
      r.values.push_back(x + y);
    else if (op == "Sub")
      r.values.push_back(x - y);
    else if (op == "Mul")
      r.values.push_back(x * y);
    else if (op == "Max")
      r.values.push_back(std::max(x, y));
    else if (op == "Min")
      r.values.push_back(std::min(x, y));
    else if (op == "Div") {
      if (y == 0)
        return std::nullopt;
      r.values.push_back(x / y);
    } else
      return std::nullopt;
  }
  return r;
}

/// Evaluates one node on known inputs; nullopt if it cannot.
std::optional<IntTensor> evaluate(const onnx::NodeProto &node,
                                  const std::vector<const IntTensor *> &in,
                                  const std::vector<int64_t> *inputShape) {
  const std::string &op = node.op_type();
  if (op == "Shape" && inputShape) {
    int64_t rank = inputShape->size();
    int64_t start = intAttr(node, "start", 0), end = intAttr(node, "end", rank);
    if (start < 0)
      start += rank;
    if (end < 0)
      end += rank;
    start = std::max<int64_t>(0, std::min(start, rank));
    end = std::max<int64_t>(start, std::min(end, rank));
    IntTensor r;
    r.values.assign(inputShape->begin() + start, inputShape->begin() + end);
    r.dims = {(int64_t)r.values.size()};
    return r;
  }
  if (op == "Size" && inputShape) {
    IntTensor r;
    r.values = {count(*inputShape)};
    return r;
  }
  for (const IntTensor *t : in)
    if (!t)
      return std::nullopt;
  if (in.empty())
    return std::nullopt;
  if (op == "Identity")
    return *in[0];
  if (op == "Cast") {
    int64_t to = intAttr(node, "to", 0);
    if (to != onnx::TensorProto::INT64 && to != onnx::TensorProto::INT32)
      return std::nullopt;
    IntTensor r = *in[0];
    r.dtype = (int32_t)to;
    return r;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" ||
      op == "Max" || op == "Min")
    return in.size() == 2 ? binary(*in[0], *in[1], op) : std::nullopt;
  if (op == "ConstantOfShape" && in.size() == 1 && in[0]->dims.size() == 1) {
    // Only integer fills fold: the result must stay an IntTensor.
    IntTensor r;
    r.dtype = onnx::TensorProto::FLOAT; // ONNX's default fill is float 0
    int64_t fill = 0;
    for (const auto &a : node.attribute())
      if (a.name() == "value" && a.has_t()) {
        std::optional<IntTensor> v = fromProto(a.t());
        if (!v || v->values.size() != 1)
          return std::nullopt;
        r.dtype = v->dtype;
        fill = v->values[0];
      }
    if (r.dtype == onnx::TensorProto::FLOAT)
      return std::nullopt;
    r.dims = in[0]->values;
    for (int64_t d : r.dims)
      if (d < 0)
        return std::nullopt;
    if (count(r.dims) > kMaxElements)
      return std::nullopt;
    r.values.assign(count(r.dims), fill);
    return r;
  }
  if (op == "Neg" || op == "Abs") {
    IntTensor r = *in[0];
    for (int64_t &v : r.values)
      v = op == "Neg" ? -v : std::abs(v);
    return r;
  }
  if (op == "Unsqueeze" && in.size() == 2) {
    IntTensor r = *in[0];
    int64_t rank = r.dims.size() + in[1]->values.size();
    std::vector<int64_t> axes = in[1]->values;
    for (int64_t &a : axes)
      if (a < 0)
        a += rank;
    std::sort(axes.begin(), axes.end());
    for (int64_t a : axes) {
      if (a < 0 || a > (int64_t)r.dims.size())
        return std::nullopt;
      r.dims.insert(r.dims.begin() + a, 1);
    }
    return r;
  }
  if (op == "Squeeze") {
    IntTensor r = *in[0];
    std::vector<int64_t> dims;
    std::set<int64_t> axes;
    if (in.size() == 2)
      for (int64_t a : in[1]->values)
        axes.insert(a < 0 ? a + (int64_t)r.dims.size() : a);
    for (size_t i = 0; i < r.dims.size(); ++i)
      if (!(r.dims[i] == 1 && (axes.empty() || axes.count(i))))
        dims.push_back(r.dims[i]);
    r.dims = dims;
    return r;
  }
  if (op == "Concat") {
    IntTensor r;
    r.dtype = in[0]->dtype;
    for (const IntTensor *t : in) {
      if (t->dims.size() != 1)
        return std::nullopt;
      r.values.insert(r.values.end(), t->values.begin(), t->values.end());
    }
    r.dims = {(int64_t)r.values.size()};
    return r;
  }
  if (op == "Gather" && in.size() == 2 && in[0]->dims.size() == 1 &&
      intAttr(node, "axis", 0) == 0) {
    IntTensor r;
    r.dtype = in[0]->dtype;
    r.dims = in[1]->dims;
    int64_t size = in[0]->values.size();
    for (int64_t i : in[1]->values) {
      if (i < 0)
        i += size;
      if (i < 0 || i >= size)
        return std::nullopt;
      r.values.push_back(in[0]->values[i]);
    }
    return r;
  }
  if (op == "Slice" && in.size() >= 3 && in[0]->dims.size() == 1) {
    int64_t size = in[0]->values.size();
    int64_t start = in[1]->values.at(0), end = in[2]->values.at(0), step = 1;
    if (in.size() >= 4 && !in[3]->values.empty() && in[3]->values[0] != 0 &&
        in[3]->values[0] != -1)
      return std::nullopt;
    if (in.size() >= 5)
      step = in[4]->values.at(0);
    if (step != 1)
      return std::nullopt;
    if (start < 0)
      start += size;
    if (end < 0)
      end += size;
    start = std::max<int64_t>(0, std::min(start, size));
    end = std::max<int64_t>(start, std::min(end, size));
    IntTensor r;
    r.dtype = in[0]->dtype;
    r.values.assign(in[0]->values.begin() + start, in[0]->values.begin() + end);
    r.dims = {(int64_t)r.values.size()};
    return r;
  }
  return std::nullopt;
}

} // namespace

bool kiln::foldShapeComputations(onnx::ModelProto &model) {
  onnx::GraphProto *graph = model.mutable_graph();
  std::map<std::string, IntTensor> known;
  for (const auto &init : graph->initializer())
    if (auto t = fromProto(init))
      known[init.name()] = *t;
  std::map<std::string, std::vector<int64_t>> shapes;
  auto record = [&](const onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return;
    std::vector<int64_t> dims;
    for (const auto &d : v.type().tensor_type().shape().dim()) {
      if (!d.has_dim_value())
        return;
      dims.push_back(d.dim_value());
    }
    shapes[v.name()] = dims;
  };
  for (const auto &v : graph->input())
    record(v);
  for (const auto &v : graph->value_info())
    record(v);
  for (const auto &v : graph->output())
    record(v);

  std::vector<int> folded;
  for (int i = 0; i < graph->node_size(); ++i) {
    const onnx::NodeProto &node = graph->node(i);
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    if (node.output_size() != 1 || node.output(0).empty())
      continue;
    std::optional<IntTensor> value;
    if (node.op_type() == "Constant") {
      for (const auto &a : node.attribute())
        if (a.name() == "value" && a.has_t())
          value = fromProto(a.t());
      if (value)
        known[node.output(0)] = *value;
      continue; // Constant nodes stay; the importer handles them
    }
    std::vector<const IntTensor *> in;
    for (const std::string &name : node.input()) {
      auto it = known.find(name);
      in.push_back(name.empty() || it == known.end() ? nullptr : &it->second);
    }
    // Trailing optional inputs that are absent.
    while (!in.empty() && !in.back() && node.input(in.size() - 1).empty())
      in.pop_back();
    const std::vector<int64_t> *inputShape = nullptr;
    if ((node.op_type() == "Shape" || node.op_type() == "Size") &&
        node.input_size() == 1 && shapes.count(node.input(0)))
      inputShape = &shapes[node.input(0)];
    value = evaluate(node, in, inputShape);
    if (!value || count(value->dims) != (int64_t)value->values.size())
      continue;
    known[node.output(0)] = *value;
    folded.push_back(i);
  }
  if (folded.empty())
    return false;

  // Replace folded nodes by initializers for the values still used.
  std::set<std::string> foldedOutputs;
  for (int i : folded)
    foldedOutputs.insert(graph->node(i).output(0));
  std::set<std::string> used;
  for (int i = 0; i < graph->node_size(); ++i)
    if (!std::binary_search(folded.begin(), folded.end(), i))
      for (const std::string &name : graph->node(i).input())
        used.insert(name);
  for (const auto &out : graph->output())
    used.insert(out.name());
  for (const std::string &name : foldedOutputs)
    if (used.count(name))
      toProto(known[name], name, *graph->add_initializer());
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (int i = 0; i < graph->node_size(); ++i)
    if (!std::binary_search(folded.begin(), folded.end(), i))
      *kept.Add() = graph->node(i);
  graph->mutable_node()->Swap(&kept);
  return true;
}
