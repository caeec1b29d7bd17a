//===- OnnxLoader.cpp - Read, check and normalise an ONNX model -----------===//
//
// This file implements loadOnnxModel: parsing with protobuf, ONNX's checker,
// the opset version converter and shape inference. It is compiled with
// exceptions and RTTI (libonnx needs both) and catches every exception here,
// turning it into one line of text.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/OnnxLoader.h"
#include "compiler/import/ShapeFolding.h"

#include "onnx/checker.h"
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

/// True if every node output has a static shape after inference.
static bool allShapesStatic(const onnx::ModelProto &model) {
  std::set<std::string> known;
  auto record = [&](const onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return;
    for (const auto &d : v.type().tensor_type().shape().dim())
      if (!d.has_dim_value())
        return;
    known.insert(v.name());
  };
  for (const auto &v : model.graph().value_info())
    record(v);
  for (const auto &v : model.graph().output())
    record(v);
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
                         const std::vector<InputShapePin> &pins,
                         onnx::ModelProto &model,
                         std::map<std::string, int> &sinceVersions,
                         std::string &error) {
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
    if (!applyPins(model, pins, error))
      return false;
    if (opset >= 0 && opset < kTargetOpset) {
      onnx::ModelProto converted =
          onnx::version_conversion::ConvertVersion(model, kTargetOpset);
      model.Swap(&converted);
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
