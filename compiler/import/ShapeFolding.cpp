//===- ShapeFolding.cpp - Fold shape computations in an ONNX graph --------===//
//
// This file implements foldShapeComputations, a forward walk over the main
// graph that hands every node with known inputs to the shared evaluator and
// turns what it computes into initializers, and explainDynamicShape, a walk
// back from a node whose shape stayed dynamic to where it became so. The
// evaluator defines the semantics; this file converts TensorProtos and
// NodeProto attributes to and from its plain tensors.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ShapeFolding.h"
#include "dialects/onnx/Evaluator.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace kiln;

namespace {

/// The largest result the importer folds into an initializer: shape tensors
/// and masks, not activations or copies of weights (the compiled code
/// computes those, and an initializer would grow the weights section).
constexpr int64_t kMaxFoldedElements = 1 << 16;

std::optional<eval::Tensor> fromProto(const onnx::TensorProto &proto,
                                      int64_t maxElements) {
  eval::Tensor t;
  t.type = proto.data_type();
  size_t width = eval::elementSize(t.type);
  if (width == 0 || proto.data_location() == onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  int64_t n = eval::numElements(t.dims);
  if (n < 0 || n > maxElements)
    return std::nullopt;
  if (proto.has_raw_data()) {
    const std::string &raw = proto.raw_data();
    if (raw.size() != (size_t)n * width)
      return std::nullopt;
    t.bytes.assign(raw.begin(), raw.end());
    return t;
  }
  t = eval::Tensor::zeros(t.type, t.dims);
  auto expect = [&](int size) { return size == n; };
  switch (t.type) {
  case eval::kFloat:
    if (!expect(proto.float_data_size()))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i)
      t.setDouble(i, proto.float_data(i));
    return t;
  case eval::kDouble:
    if (!expect(proto.double_data_size()))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i)
      t.setDouble(i, proto.double_data(i));
    return t;
  case eval::kInt64:
    if (!expect(proto.int64_data_size()))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, proto.int64_data(i));
    return t;
  case eval::kUInt32:
  case eval::kUInt64:
    if (!expect(proto.uint64_data_size()))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, (int64_t)proto.uint64_data(i));
    return t;
  case eval::kFloat16:
  case eval::kBFloat16:
    // int32_data holds the 16-bit patterns.
    if (!expect(proto.int32_data_size()))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits = (uint16_t)proto.int32_data(i);
      std::memcpy(t.bytes.data() + 2 * i, &bits, 2);
    }
    return t;
  default: // the narrow integers and bool live in int32_data
    if (!expect(proto.int32_data_size()))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, proto.int32_data(i));
    return t;
  }
}

void toProto(const eval::Tensor &t, const std::string &name,
             onnx::TensorProto &out) {
  out.set_name(name);
  out.set_data_type(t.type);
  for (int64_t d : t.dims)
    out.add_dims(d);
  out.set_raw_data(std::string(t.bytes.begin(), t.bytes.end()));
}

/// A NodeProto's attributes as the evaluator reads them.
class NodeAttributes : public eval::Attributes {
public:
  explicit NodeAttributes(const onnx::NodeProto &node) : node(node) {}

  std::optional<int64_t> getInt(const std::string &name) const override {
    const onnx::AttributeProto *a = find(name, onnx::AttributeProto::INT);
    return a ? std::optional<int64_t>(a->i()) : std::nullopt;
  }
  std::optional<double> getFloat(const std::string &name) const override {
    const onnx::AttributeProto *a = find(name, onnx::AttributeProto::FLOAT);
    return a ? std::optional<double>(a->f()) : std::nullopt;
  }
  std::optional<std::vector<int64_t>>
  getInts(const std::string &name) const override {
    const onnx::AttributeProto *a = find(name, onnx::AttributeProto::INTS);
    if (!a)
      return std::nullopt;
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }
  std::optional<std::vector<double>>
  getFloats(const std::string &name) const override {
    const onnx::AttributeProto *a = find(name, onnx::AttributeProto::FLOATS);
    if (!a)
      return std::nullopt;
    return std::vector<double>(a->floats().begin(), a->floats().end());
  }
  std::optional<std::string> getString(const std::string &name) const override {
    const onnx::AttributeProto *a = find(name, onnx::AttributeProto::STRING);
    return a ? std::optional<std::string>(a->s()) : std::nullopt;
  }
  std::optional<eval::Tensor>
  getTensor(const std::string &name) const override {
    const onnx::AttributeProto *a = find(name, onnx::AttributeProto::TENSOR);
    return a ? fromProto(a->t(), kMaxFoldedElements) : std::nullopt;
  }
  bool has(const std::string &name) const override {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return true;
    return false;
  }

private:
  const onnx::AttributeProto *
  find(const std::string &name,
       onnx::AttributeProto::AttributeType type) const {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return a.type() == type ? &a : nullptr;
    return nullptr;
  }

  const onnx::NodeProto &node;
};

bool isDefaultDomain(const onnx::NodeProto &node) {
  return node.domain().empty() || node.domain() == "ai.onnx";
}

bool hasSubgraph(const onnx::NodeProto &node) {
  for (const auto &a : node.attribute())
    if (a.has_g() || a.graphs_size() > 0)
      return true;
  return false;
}

/// Every value name that a node of `graph` or of its subgraphs reads.
void collectUses(const onnx::GraphProto &graph, std::set<std::string> &used,
                 const std::set<int> *skip = nullptr) {
  for (int i = 0; i < graph.node_size(); ++i) {
    if (skip && skip->count(i))
      continue;
    const onnx::NodeProto &node = graph.node(i);
    for (const std::string &name : node.input())
      used.insert(name);
    for (const auto &a : node.attribute()) {
      if (a.has_g())
        collectUses(a.g(), used);
      for (const auto &g : a.graphs())
        collectUses(g, used);
    }
  }
}

} // namespace

void kiln::forEachValueInfo(
    const onnx::GraphProto &graph,
    const std::function<void(const onnx::ValueInfoProto &)> &f) {
  for (const auto &v : graph.input())
    f(v);
  for (const auto &v : graph.value_info())
    f(v);
  for (const auto &v : graph.output())
    f(v);
}

std::map<std::string, std::vector<int64_t>>
kiln::staticShapes(const onnx::GraphProto &graph) {
  std::map<std::string, std::vector<int64_t>> shapes;
  forEachValueInfo(graph, [&](const onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return;
    std::vector<int64_t> dims;
    for (const auto &d : v.type().tensor_type().shape().dim()) {
      if (!d.has_dim_value())
        return;
      dims.push_back(d.dim_value());
    }
    shapes[v.name()] = dims;
  });
  return shapes;
}

bool kiln::foldShapeComputations(onnx::ModelProto &model) {
  onnx::GraphProto *graph = model.mutable_graph();
  std::map<std::string, eval::Tensor> known;
  for (const auto &init : graph->initializer())
    if (auto t = fromProto(init, kMaxFoldedElements))
      known[init.name()] = std::move(*t);
  std::map<std::string, std::vector<int64_t>> shapes = staticShapes(*graph);

  std::set<int> folded;
  for (int i = 0; i < graph->node_size(); ++i) {
    const onnx::NodeProto &node = graph->node(i);
    if (!isDefaultDomain(node) || hasSubgraph(node) || node.output_size() == 0)
      continue;
    std::vector<eval::Operand> operands;
    for (const std::string &name : node.input()) {
      eval::Operand o;
      o.absent = name.empty();
      if (auto it = known.find(name); it != known.end())
        o.value = &it->second;
      if (auto it = shapes.find(name); it != shapes.end())
        o.shape = &it->second;
      operands.push_back(o);
    }
    std::optional<std::vector<eval::Tensor>> results =
        eval::evaluate(node.op_type(), NodeAttributes(node), operands,
                       node.output_size(), kMaxFoldedElements);
    if (!results || !eval::worthFolding(*results, operands))
      continue;
    for (int k = 0; k < node.output_size(); ++k)
      if (!node.output(k).empty())
        known[node.output(k)] = std::move((*results)[k]);
    // Constant nodes stay: the importer reads them as they are.
    if (node.op_type() != "Constant")
      folded.insert(i);
  }
  if (folded.empty())
    return false;

  // The folded values that unfolded nodes (or their subgraphs, which may
  // read outer values) or the graph's outputs still use become initializers.
  std::set<std::string> used;
  collectUses(*graph, used, &folded);
  for (const auto &out : graph->output())
    used.insert(out.name());
  for (int i : folded)
    for (const std::string &name : graph->node(i).output())
      if (!name.empty() && used.count(name))
        toProto(known[name], name, *graph->add_initializer());
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (int i = 0; i < graph->node_size(); ++i)
    if (!folded.count(i))
      *kept.Add() = graph->node(i);
  graph->mutable_node()->Swap(&kept);
  return true;
}

//===----------------------------------------------------------------------===//
// Why a shape stayed dynamic
//===----------------------------------------------------------------------===//

namespace {

/// The inputs whose values decide an op's output shapes (besides the shapes
/// of its inputs); nullopt for an op not listed: any input may.
std::optional<std::vector<int>> shapeDecidingInputs(const std::string &op) {
  static const std::map<std::string, std::vector<int>> table = {
      {"Reshape", {1}},
      {"Expand", {1}},
      {"Tile", {1}},
      {"Range", {0, 1, 2}},
      {"ConstantOfShape", {0}},
      {"Slice", {1, 2, 3, 4}},
      {"Pad", {1}},
      {"Squeeze", {1}},
      {"Unsqueeze", {1}},
      {"Split", {1}},
      {"ReduceSum", {1}},
      {"Resize", {1, 2, 3}},
      {"Upsample", {1}},
      {"TopK", {1}},
      {"OneHot", {1}},
      {"NonZero", {0}},
      {"Compress", {1}},
      {"Unique", {0}},
      {"CenterCropPad", {1}},
      {"Trilu", {}},
      {"Where", {}},
      {"Gather", {}},
      {"Concat", {}},
      {"Shape", {}},
  };
  auto it = table.find(op);
  if (it != table.end())
    return it->second;
  return std::nullopt;
}

struct Explainer {
  const onnx::GraphProto &graph;
  std::map<std::string, int> producer;
  std::set<std::string> knownValues;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::set<std::string> inputs;
  std::set<std::string> visited;

  explicit Explainer(const onnx::GraphProto &graph)
      : graph(graph), shapes(staticShapes(graph)) {
    for (int i = 0; i < graph.node_size(); ++i) {
      const onnx::NodeProto &node = graph.node(i);
      for (const std::string &out : node.output())
        producer[out] = i;
      if (node.op_type() == "Constant")
        for (const std::string &out : node.output())
          knownValues.insert(out);
    }
    for (const auto &init : graph.initializer())
      knownValues.insert(init.name());
    for (const auto &in : graph.input())
      if (!knownValues.count(in.name()))
        inputs.insert(in.name());
  }

  static std::string describe(const onnx::NodeProto &node) {
    return "node '" + node.name() + "' (" + node.op_type() + ")";
  }

  /// Why the shape of `name` is not static.
  std::string shapeOf(const std::string &name) {
    if (!visited.insert("shape:" + name).second)
      return "";
    auto it = producer.find(name);
    if (it == producer.end())
      return "";
    return node(graph.node(it->second));
  }

  /// Why the outputs of `n` have no static shape.
  std::string node(const onnx::NodeProto &n) {
    for (const std::string &in : n.input())
      if (!in.empty() && !shapes.count(in) && !knownValues.count(in)) {
        std::string why = shapeOf(in);
        if (!why.empty())
          return why;
      }
    std::optional<std::vector<int>> deciding = shapeDecidingInputs(n.op_type());
    for (int i = 0; i < n.input_size(); ++i) {
      bool decides =
          !deciding || std::count(deciding->begin(), deciding->end(), i) != 0;
      const std::string &in = n.input(i);
      if (decides && !in.empty() && !knownValues.count(in)) {
        std::string why = valueOf(in, n);
        if (!why.empty())
          return why;
      }
    }
    return "";
  }

  /// Why the value of `name`, which `consumer` reads, is not known at
  /// compile time.
  std::string valueOf(const std::string &name,
                      const onnx::NodeProto &consumer) {
    if (!visited.insert("value:" + name).second)
      return "";
    if (inputs.count(name))
      return describe(consumer) + " reads the value of input '" + name +
             "' of the model, which only the run time knows";
    auto it = producer.find(name);
    if (it == producer.end())
      return "";
    const onnx::NodeProto &n = graph.node(it->second);
    // (The model's inputs have static shapes by now: the importer pins or
    // rejects them first. So a Shape is unknown only downstream of a node
    // whose shape inference failed.)
    if ((n.op_type() == "Shape" || n.op_type() == "Size") &&
        n.input_size() == 1) {
      std::string why = shapeOf(n.input(0));
      if (!why.empty())
        return why;
    }
    bool inputsKnown = true;
    for (const std::string &in : n.input())
      if (!in.empty() && !knownValues.count(in)) {
        inputsKnown = false;
        std::string why = valueOf(in, n);
        if (!why.empty())
          return why;
      }
    if (inputsKnown)
      return describe(n) +
             " cannot be evaluated at compile time (an op or "
             "element type Kiln's evaluator does not support, "
             "or a result of more than " +
             std::to_string(kMaxFoldedElements) + " elements)";
    return "";
  }
};

} // namespace

std::string kiln::explainDynamicShape(const onnx::GraphProto &graph,
                                      const onnx::NodeProto &node) {
  return Explainer(graph).node(node);
}
