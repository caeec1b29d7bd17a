//===- OnnxLoader.cpp - Read, check and normalise an ONNX model -----------===//
//
// This file implements loadOnnxModel: parsing with protobuf, ONNX's checker,
// the opset version converter and shape inference. It is compiled with
// exceptions and RTTI (libonnx needs both) and catches every exception here,
// turning it into one line of text.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/OnnxLoader.h"
#include "compiler/import/ProtoHelpers.h"
#include "compiler/import/Sequences.h"
#include "compiler/import/Strings.h"
#include "compiler/import/ShapeFolding.h"

#include "onnx/checker.h"
#include "onnx/defs/tensor_proto_util.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace kiln;

/// The domain of ONNX's training-preview operators (Adagrad, Adam,
/// Momentum), and the only version of it that ONNX 1.12 defines.
static constexpr const char *kTrainingDomain = "ai.onnx.preview.training";
static constexpr int64_t kTrainingVersion = 1;

/// Returns the ai.onnx opset the model imports, or -1.
static int64_t defaultOpset(const onnx::ModelProto &model) {
  for (const auto &opset : model.opset_import())
    if (opset.domain().empty() || opset.domain() == "ai.onnx")
      return opset.version();
  return -1;
}

/// Returns the version of `domain` the model imports, or -1.
static int64_t domainVersion(const onnx::ModelProto &model,
                             const std::string &domain) {
  for (const auto &opset : model.opset_import())
    if (opset.domain() == domain)
      return opset.version();
  return -1;
}

/// Applies the user's pins to the graph inputs.
static bool applyPins(onnx::ModelProto &model,
                      const std::vector<InputShapePin> &pins,
                      std::string &error) {
  for (const InputShapePin &pin : pins) {
    onnx::ValueInfoProto *input = nullptr;
    for (auto &candidate : *model.mutable_graph()->mutable_input())
      if (candidate.name() == pin.name)
        input = &candidate;
    if (!input) {
      error = "--input-shape names '" + pin.name +
              "', which is not an input of the model";
      return false;
    }
    // Sequences and optionals are expandSequences' to pin.
    if (pin.kind != InputShapePin::Kind::Tensor ||
        !input->type().has_tensor_type())
      continue;
    auto *shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() != 0 && shape->dim_size() != (int)pin.dims.size()) {
      error = "--input-shape gives " + std::to_string(pin.dims.size()) +
              " dimensions for input '" + pin.name + "' of rank " +
              std::to_string(shape->dim_size());
      return false;
    }
    shape->clear_dim();
    for (int64_t d : pin.dims)
      shape->add_dim()->set_dim_value(d);
  }
  return true;
}

/// The rank of every value whose shape inference (or the graph) knows it.
static std::map<std::string, int> knownRanks(const onnx::GraphProto &graph) {
  std::map<std::string, int> ranks;
  forEachValueInfo(graph, [&](const onnx::ValueInfoProto &v) {
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
      ranks[v.name()] = v.type().tensor_type().shape().dim_size();
  });
  for (const auto &t : graph.initializer())
    ranks[t.name()] = t.dims_size();
  return ranks;
}

/// Before opset 7, a binary op with broadcast=1 lined B up with A's
/// dimensions from `axis`, and PRelu's slope of rank 1 was per channel (A's
/// axis 1). ONNX 1.12's version converter handles only a B that ends where
/// A ends (or axis 0) and asserts on the rest, such as a per-channel [C]
/// added to [N, C, H, W] at axis 1; it leaves PRelu's slope as it is, which
/// opset 7's numpy broadcasting would line up with the last axis instead
/// (a wrong result, not an error). So such a B is first unsqueezed at its
/// end (Unsqueeze-1, axes as an attribute) until it ends where A does, and
/// the axis goes: the same op, in the form the converter converts.
/// The model's shapes must have been inferred.
static void alignLegacyBroadcasts(onnx::ModelProto &model) {
  static const std::set<std::string> kLegacyBroadcast = {
      "Add", "Sub", "Mul",   "Div",     "Pow", "And",
      "Or",  "Xor", "Equal", "Greater", "Less"};
  std::map<std::string, int> ranks = knownRanks(model.graph());
  onnx::GraphProto *graph = model.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  int fresh = 0;
  for (const onnx::NodeProto &original : graph->node()) {
    onnx::NodeProto node = original;
    bool isDefault = node.domain().empty() || node.domain() == "ai.onnx";
    int64_t broadcast = 0, axis = -1;
    int axisIndex = -1;
    for (int i = 0; i < node.attribute_size(); ++i) {
      if (node.attribute(i).name() == "broadcast")
        broadcast = node.attribute(i).i();
      if (node.attribute(i).name() == "axis") {
        axis = node.attribute(i).i();
        axisIndex = i;
      }
    }
    bool prelu = isDefault && node.op_type() == "PRelu" &&
                 node.input_size() == 2 && ranks.count(node.input(1)) &&
                 ranks[node.input(1)] == 1;
    if (prelu)
      axis = 1; // a slope [C] (or [1], which any alignment broadcasts)
    if (isDefault && node.input_size() == 2 &&
        (prelu || (kLegacyBroadcast.count(node.op_type()) && broadcast &&
                   axisIndex >= 0)) &&
        ranks.count(node.input(0)) && ranks.count(node.input(1))) {
      int rankA = ranks[node.input(0)], rankB = ranks[node.input(1)];
      if (axis < 0)
        axis += rankA;
      int64_t trailing = rankA - axis - rankB;
      if (axis >= 0 && trailing > 0) {
        onnx::NodeProto *unsqueeze = nodes.Add();
        unsqueeze->set_op_type("Unsqueeze");
        unsqueeze->set_name(node.name() + "_kiln_align");
        unsqueeze->add_input(node.input(1));
        std::string aligned =
            node.input(1) + "_kiln_aligned_" + std::to_string(fresh++);
        unsqueeze->add_output(aligned);
        onnx::AttributeProto *axes = unsqueeze->add_attribute();
        axes->set_name("axes");
        axes->set_type(onnx::AttributeProto::INTS);
        for (int64_t k = 0; k < trailing; ++k)
          axes->add_ints(rankB + k);
        node.set_input(1, aligned);
        if (axisIndex >= 0)
          node.mutable_attribute()->DeleteSubrange(axisIndex, 1);
      }
    }
    *nodes.Add() = std::move(node);
  }
  graph->mutable_node()->Swap(&nodes);
  // The converter reads the shapes of its ops' inputs from value_info.
  if (fresh > 0)
    onnx::shape_inference::InferShapes(model);
}

/// Scan before opset 9 carries a batch axis: states are [B, ...] and scan
/// inputs [B, seq, ...]. ONNX 1.12's converter (Scan_8_9) only drops the
/// first dimension from the declared shapes of the Scan's inputs and
/// outputs: right for B = 1 only, and a graph input or output fed straight
/// to the Scan changes its shape with it. So before converting, each Scan's
/// inputs and outputs go through Identity nodes to and from new values (its
/// Scan8Edges, isolateScans8); after, those become per-batch Slice + Squeeze
/// before a copy of the Scan for each batch entry, and Unsqueeze + Concat
/// after (batchScans8). The model's shapes must have been inferred.
namespace {
/// A value isolateScans8 put between a Scan and the rest of the graph.
struct Scan8Edge {
  int64_t batch;
  bool input; ///< fed to the Scan (else produced by it)
};
} // namespace

static bool isolateScans8(onnx::ModelProto &model,
                          std::map<std::string, Scan8Edge> &edges,
                          std::string &error) {
  std::map<std::string, std::vector<int64_t>> shapes =
      staticShapes(model.graph());
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  int fresh = 0;
  for (const onnx::NodeProto &original : model.graph().node()) {
    bool isDefault = original.domain().empty() || original.domain() == "ai.onnx";
    if (!isDefault || original.op_type() != "Scan") {
      *nodes.Add() = original;
      continue;
    }
    onnx::NodeProto node = original;
    if (node.input_size() > 0 && !node.input(0).empty()) {
      error = describeNodeProto(node) +
              ": a Scan of opset 8 with sequence_lens is not supported";
      return false;
    }
    int64_t batch = -1;
    for (int i = 1; i < node.input_size(); ++i) {
      auto it = shapes.find(node.input(i));
      if (it == shapes.end() || it->second.empty()) {
        error = describeNodeProto(node) + ": the shape of input '" +
                node.input(i) + "' is not known";
        return false;
      }
      if (batch >= 0 && it->second[0] != batch) {
        error = describeNodeProto(node) + ": its inputs differ in batch size";
        return false;
      }
      batch = it->second[0];
    }
    std::string mark = "__kiln_scan8_" + std::to_string(fresh++);
    for (int i = 1; i < node.input_size(); ++i) {
      std::string marked = node.input(i) + mark + "_in";
      *nodes.Add() = makeNode("Identity", {node.input(i)}, marked);
      edges[marked] = {batch, true};
      node.set_input(i, marked);
    }
    std::vector<std::pair<std::string, std::string>> outs;
    for (int i = 0; i < node.output_size(); ++i) {
      if (node.output(i).empty())
        continue;
      std::string marked = node.output(i) + mark + "_out";
      outs.push_back({marked, node.output(i)});
      edges[marked] = {batch, false};
      node.set_output(i, marked);
    }
    *nodes.Add() = node;
    for (auto &[from, to] : outs)
      *nodes.Add() = makeNode("Identity", {from}, to);
  }
  model.mutable_graph()->mutable_node()->Swap(&nodes);
  return true;
}

static void batchScans8(onnx::ModelProto &model,
                        const std::map<std::string, Scan8Edge> &edges) {
  onnx::GraphProto *graph = model.mutable_graph();
  // Declared shapes of the marked values are the converter's, wrong.
  auto *infos = graph->mutable_value_info();
  for (int i = infos->size() - 1; i >= 0; --i)
    if (edges.count(infos->Get(i).name()))
      infos->DeleteSubrange(i, 1);
  std::map<std::string, std::string> sourceOf; // marked input -> its source
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  int fresh = 0;
  auto add = [&](const std::string &op, std::vector<std::string> inputs,
                 const std::string &output) -> onnx::NodeProto * {
    *nodes.Add() = makeNode(op, inputs, output);
    return &nodes[nodes.size() - 1];
  };
  auto ints = [&](std::vector<int64_t> values) {
    std::string name = "__kiln_scan8_const" + std::to_string(fresh++);
    *nodes.Add() =
        makeConstant(name, int64Tensor(values, {(int64_t)values.size()}));
    return name;
  };
  auto edge = [&](const std::string &name) -> const Scan8Edge * {
    auto it = edges.find(name);
    return it == edges.end() ? nullptr : &it->second;
  };
  for (const onnx::NodeProto &node : graph->node()) {
    bool identity = node.op_type() == "Identity" && node.input_size() == 1;
    if (identity && edge(node.output(0)) && edge(node.output(0))->input) {
      sourceOf[node.output(0)] = node.input(0);
      continue;
    }
    if (identity && edge(node.input(0)) && !edge(node.input(0))->input) {
      // The batch entries' outputs, each unsqueezed, concatenated.
      std::vector<std::string> parts;
      for (int64_t b = 0; b < edge(node.input(0))->batch; ++b) {
        std::string part = node.input(0) + "_" + std::to_string(b);
        parts.push_back(part + "_unsqueezed");
        add("Unsqueeze", {part, ints({0})}, parts.back());
      }
      setIntAttribute(*add("Concat", parts, node.output(0)), "axis", 0);
      continue;
    }
    int64_t batch = -1;
    for (const std::string &in : node.input())
      if (sourceOf.count(in))
        batch = edge(in)->batch;
    if (node.op_type() != "Scan" || batch < 0) {
      *nodes.Add() = node;
      continue;
    }
    for (int64_t b = 0; b < batch; ++b) {
      onnx::NodeProto copy = node;
      copy.set_name(node.name() + "_" + std::to_string(b));
      for (int i = 0; i < node.input_size(); ++i) {
        auto it = sourceOf.find(node.input(i));
        if (it == sourceOf.end())
          continue;
        std::string slice = node.input(i) + "_" + std::to_string(b) + "_slice";
        add("Slice", {it->second, ints({b}), ints({b + 1}), ints({0})}, slice);
        std::string entry = node.input(i) + "_" + std::to_string(b);
        add("Squeeze", {slice, ints({0})}, entry);
        copy.set_input(i, entry);
      }
      for (int i = 0; i < node.output_size(); ++i)
        if (!node.output(i).empty())
          copy.set_output(i, node.output(i) + "_" + std::to_string(b));
      *nodes.Add() = copy;
    }
  }
  graph->mutable_node()->Swap(&nodes);
}

/// A Slice whose start is computed at run time but whose end is that start
/// plus a constant (x[i : i + k], as a Loop body takes one step of a
/// tensor) has a static length, k, which ONNX's inference does not see: set
/// it in value_info, in `graph` and its subgraphs. Kiln's Slice checks at
/// run time that the window it takes has that length. Returns true if it
/// set one.
static bool inferSliceWindows(onnx::GraphProto &graph,
                              std::map<std::string, std::vector<int64_t>> shapes,
                              std::map<std::string, int32_t> dtypes) {
  for (auto &[name, dims] : staticShapes(graph))
    shapes[name] = dims;
  forEachValueInfo(graph, [&](const onnx::ValueInfoProto &v) {
    if (v.type().has_tensor_type())
      dtypes[v.name()] = v.type().tensor_type().elem_type();
  });
  for (const auto &init : graph.initializer())
    dtypes[init.name()] = init.data_type();
  std::map<std::string, const onnx::NodeProto *> producer;
  std::map<std::string, std::vector<int64_t>> constants;
  for (const auto &init : graph.initializer())
    if (init.data_type() == onnx::TensorProto::INT64)
      constants[init.name()] = onnx::ParseData<int64_t>(&init);
  for (const auto &n : graph.node()) {
    for (const std::string &o : n.output())
      producer[o] = &n;
    if (n.op_type() == "Constant" && n.attribute_size() == 1 &&
        n.attribute(0).name() == "value" &&
        n.attribute(0).t().data_type() == onnx::TensorProto::INT64)
      constants[n.output(0)] = onnx::ParseData<int64_t>(&n.attribute(0).t());
  }
  // The scalar a one-element start or end is made from: through Unsqueeze,
  // Reshape and Identity.
  auto base = [&](std::string name) {
    for (int hops = 0; hops < 8; ++hops) {
      auto it = producer.find(name);
      if (it == producer.end())
        break;
      const onnx::NodeProto &n = *it->second;
      if (n.op_type() != "Unsqueeze" && n.op_type() != "Reshape" &&
          n.op_type() != "Identity")
        break;
      name = n.input(0);
    }
    return name;
  };
  bool changed = false;
  std::vector<onnx::ValueInfoProto> found;
  for (auto &n : *graph.mutable_node()) {
    for (auto &a : *n.mutable_attribute())
      if (a.has_g())
        changed |= inferSliceWindows(*a.mutable_g(), shapes, dtypes);
    if (n.op_type() != "Slice" || n.input_size() < 3 || n.output_size() != 1 ||
        shapes.count(n.output(0)) || !shapes.count(n.input(0)))
      continue;
    std::vector<int64_t> axes = {0}, steps = {1};
    if (n.input_size() > 3 && !n.input(3).empty() &&
        (!constants.count(n.input(3)) || constants[n.input(3)].size() != 1))
      continue;
    if (n.input_size() > 3 && !n.input(3).empty())
      axes = constants[n.input(3)];
    if (n.input_size() > 4 && !n.input(4).empty() &&
        constants[n.input(4)] != steps)
      continue;
    // end = start + k
    std::string start = base(n.input(1)), end = base(n.input(2));
    auto add = producer.find(end);
    if (add == producer.end() || add->second->op_type() != "Add")
      continue;
    const onnx::NodeProto &sum = *add->second;
    int64_t k = 0;
    if (sum.input(0) == start && constants.count(sum.input(1)) &&
        constants[sum.input(1)].size() == 1)
      k = constants[sum.input(1)][0];
    else if (sum.input(1) == start && constants.count(sum.input(0)) &&
             constants[sum.input(0)].size() == 1)
      k = constants[sum.input(0)][0];
    else
      continue;
    std::vector<int64_t> dims = shapes[n.input(0)];
    int64_t axis = axes[0] < 0 ? axes[0] + (int64_t)dims.size() : axes[0];
    if (axis < 0 || axis >= (int64_t)dims.size() || k < 0)
      continue;
    dims[axis] = std::min(k, dims[axis]);
    int32_t dtype = dtypes.count(n.input(0)) ? dtypes[n.input(0)] : 0;
    if (!dtype)
      continue;
    onnx::ValueInfoProto info;
    info.set_name(n.output(0));
    auto *tensor = info.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(dtype);
    for (int64_t d : dims)
      tensor->mutable_shape()->add_dim()->set_dim_value(d);
    shapes[n.output(0)] = dims;
    found.push_back(info);
  }
  auto *infos = graph.mutable_value_info();
  for (const onnx::ValueInfoProto &info : found) {
    for (int i = infos->size() - 1; i >= 0; --i)
      if (infos->Get(i).name() == info.name())
        infos->DeleteSubrange(i, 1);
    *infos->Add() = info;
    changed = true;
  }
  return changed;
}

/// True if every node output has a static shape after inference.
static bool allShapesStatic(const onnx::ModelProto &model) {
  std::map<std::string, std::vector<int64_t>> known =
      staticShapes(model.graph());
  for (const auto &node : model.graph().node())
    for (const std::string &out : node.output())
      if (!out.empty() && !known.count(out))
        return false;
  return true;
}

/// The since_version at opset 17 (for ops of another domain, at the version
/// of it the model imports) of every op type in `graph` and in the graphs of
/// its nodes' attributes (If's branches, Loop's and Scan's bodies).
static void recordSinceVersions(const onnx::ModelProto &model,
                                const onnx::GraphProto &graph,
                                std::map<std::string, int> &sinceVersions) {
  for (const auto &node : graph.node()) {
    bool isDefault = node.domain().empty() || node.domain() == "ai.onnx";
    int64_t version =
        isDefault ? kTargetOpset : domainVersion(model, node.domain());
    const onnx::OpSchema *schema =
        version < 0 ? nullptr
                    : onnx::OpSchemaRegistry::Schema(node.op_type(), version,
                                                     node.domain());
    sinceVersions[node.op_type()] = schema ? schema->since_version() : 0;
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        recordSinceVersions(model, attr.g(), sinceVersions);
      for (const auto &g : attr.graphs())
        recordSinceVersions(model, g, sinceVersions);
    }
  }
}

bool kiln::loadOnnxModel(const std::string &path,
                         const std::vector<InputShapePin> &userPins,
                         const std::string &dataDir, int64_t maxStringBytes,
                         onnx::ModelProto &model,
                         std::map<std::string, int> &sinceVersions,
                         ModelLayout &layout, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open file";
    return false;
  }
  if (!model.ParseFromIstream(&in)) {
    error = "not a valid ONNX model (protobuf parse failed; truncated or "
            "not ONNX)";
    return false;
  }
  if (!model.has_graph() || model.graph().node_size() == 0) {
    error = "not a valid ONNX model (no graph or no nodes)";
    return false;
  }
  try {
    // A model of training-preview optimizers alone imports no ai.onnx
    // opset: there is nothing to convert then.
    int64_t opset = defaultOpset(model);
    int64_t training = domainVersion(model, kTrainingDomain);
    if (training >= 0 && training != kTrainingVersion) {
      error = "the model uses " + std::string(kTrainingDomain) + " version " +
              std::to_string(training) + "; Kiln supports version " +
              std::to_string(kTrainingVersion);
      return false;
    }
    if (opset < 0 && training < 0) {
      error = "the model imports no ai.onnx opset";
      return false;
    }
    if (opset > kTargetOpset) {
      error = "the model uses opset " + std::to_string(opset) +
              ", newer than the " + std::to_string(kTargetOpset) +
              " that Kiln's ONNX 1.12 knows";
      return false;
    }
    onnx::checker::check_model(model);
    std::vector<InputShapePin> pins = userPins;
    if (!dataDir.empty() && !pinsFromData(model, dataDir, pins, error))
      return false;
    if (!applyPins(model, pins, error))
      return false;
    if (usesSequencesOrOptionals(model)) {
      if (!expandSequences(model, pins, layout, error))
        return false;
    } else {
      plainLayout(model, layout);
    }
    if (opset >= 0 && opset < kTargetOpset) {
      // The converter's adapters read their inputs' shapes from value_info:
      // infer them at the model's own opset first (with the pins applied).
      onnx::shape_inference::InferShapes(model);
      if (opset < 7)
        alignLegacyBroadcasts(model);
      std::map<std::string, Scan8Edge> scan8Edges;
      if (opset < 9) {
        if (!isolateScans8(model, scan8Edges, error))
          return false;
        // The converter keeps only the Scan inputs whose shapes it knows.
        onnx::shape_inference::InferShapes(model);
      }
      onnx::ModelProto converted =
          onnx::version_conversion::ConvertVersion(model, kTargetOpset);
      model.Swap(&converted);
      if (opset < 9)
        batchScans8(model, scan8Edges);
    }
    onnx::ShapeInferenceOptions options(/*check_type=*/true,
                                        /*error_mode=*/1,
                                        /*enable_data_propagation=*/true);
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(), options);
    // Shape arithmetic that ONNX's data propagation stops at (Div, Range,
    // Where...) can leave values without a static shape: then fold what is
    // known and infer again with the folded values as initializers, until
    // every shape is static or nothing more folds (each round removes
    // nodes, so this ends). If an inference fails, keep the model as the
    // round before left it.
    if (inferSliceWindows(*model.mutable_graph(), {}, {}))
      onnx::shape_inference::InferShapes(
          model, onnx::OpSchemaRegistry::Instance(), options);
    while (!allShapesStatic(model)) {
      onnx::ModelProto folded = model;
      if (!foldShapeComputations(folded))
        break;
      folded.mutable_graph()->clear_value_info();
      try {
        onnx::shape_inference::InferShapes(
            folded, onnx::OpSchemaRegistry::Instance(), options);
      } catch (const std::exception &) {
        break;
      }
      model.Swap(&folded);
    }
    if (usesStrings(model) &&
        !expandStrings(model, maxStringBytes, layout, error))
      return false;
    sinceVersions.clear();
    recordSinceVersions(model, model.graph(), sinceVersions);
  } catch (const std::exception &e) {
    std::string what = e.what();
    // ONNX's messages can span lines; keep the diagnostic to one.
    for (char &c : what)
      if (c == '\n')
        c = ' ';
    while (!what.empty() && what.back() == ' ')
      what.pop_back();
    error = "invalid ONNX model: " + what;
    return false;
  }
  return true;
}
