//===- ShapeFolding.h - Fold shape computations in ONNX graphs -*- C++ -*-===//
//
// This file declares the importer's constant folding: nodes whose inputs are
// known at compile time (initializers, Constant, Shape and Size of a value
// with a static shape, and results of such nodes) are evaluated with the
// shared evaluator (dialects/onnx/Evaluator.h) and become initializers, so
// that ONNX's shape inference, run again, finds static shapes downstream.
// ONNX 1.12's data propagation stops at ops like Div, Range or Where; this
// does not. Also: why a shape stays dynamic, for the importer's diagnostic.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_SHAPEFOLDING_H
#define KILN_COMPILER_IMPORT_SHAPEFOLDING_H

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace onnx {
class GraphProto;
class ModelProto;
class NodeProto;
class ValueInfoProto;
} // namespace onnx

namespace kiln {

/// Calls f for every value the graph describes: its inputs, value_info and
/// outputs (what shape inference recorded).
void forEachValueInfo(
    const onnx::GraphProto &graph,
    const std::function<void(const onnx::ValueInfoProto &)> &f);

/// The values of `graph` whose shapes are known and static, by name.
std::map<std::string, std::vector<int64_t>>
staticShapes(const onnx::GraphProto &graph);

/// Replaces every node of the main graph whose results are known and hold
/// at most kMaxFoldedElements elements each with initializers. Returns true
/// if it folded anything. One call folds everything the current shapes
/// allow; the loader infers shapes again and calls it until it returns
/// false.
bool foldShapeComputations(onnx::ModelProto &model);

/// Why `node` of `graph` (the folded main graph) has an output whose shape
/// inference found no static shape, walking back through the values its
/// shape depends on: the first node whose value is not known at compile
/// time and why (it reads the value of an input of the model, or the
/// evaluator cannot compute it). Empty when the trail leads nowhere.
/// (Inputs with dynamic shapes are reported before any node is imported,
/// with the --input-shape that pins them.)
std::string explainDynamicShape(const onnx::GraphProto &graph,
                                const onnx::NodeProto &node);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_SHAPEFOLDING_H
