//===- Importer.cpp - ONNX model to onnx dialect --------------------------===//
//
// This file implements the importer. It walks the graph that OnnxLoader
// checked, normalised to opset 17 and shape-inferred, and builds one onnx
// dialect op per node: ops are found by name (`onnx.<OpType>`), attributes
// are converted generically and checked against those the op declares in
// ODS, and initializers and Constant nodes become onnx.Constant ops whose
// data is copied once, from the protobuf into the attribute.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Importer.h"
#include "compiler/import/ShapeFolding.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace kiln;

std::string kiln::describeNode(llvm::StringRef name, llvm::StringRef opType) {
  return ("node '" + name + "' (" + opType + ")").str();
}

namespace {

/// Builds the module for one model; errors are returned as strings that the
/// caller prefixes with the file name.
class GraphImporter {
public:
  GraphImporter(MLIRContext &context, StringRef path)
      : context(context), builder(&context), path(path) {}

  llvm::Expected<OwningOpRef<ModuleOp>>
  import(const ::onnx::ModelProto &model,
         const std::map<std::string, int> &sinceVersions,
         const ModelLayout &layout);

private:
  llvm::Error error(const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   (path + ": " + message).str());
  }
  llvm::Error nodeError(const ::onnx::NodeProto &node, const Twine &message) {
    return error(describeNode(node.name(), node.op_type()) + ": " + message);
  }

  llvm::Expected<Type> convertElementType(int32_t dtype);
  /// `inputName`: the graph input this is the type of, if it is one (its
  /// diagnostic then spells out the --input-shape pin).
  llvm::Expected<RankedTensorType> convertType(const ::onnx::TypeProto &type,
                                               StringRef what,
                                               StringRef inputName = "");
  llvm::Expected<DenseElementsAttr>
  convertTensor(const ::onnx::TensorProto &tensor);
  llvm::Expected<NamedAttribute>
  convertAttribute(const ::onnx::NodeProto &node,
                   const ::onnx::AttributeProto &attr);
  /// Records the static types inference found for a graph's values.
  void recordTypes(const ::onnx::GraphProto &graph);
  llvm::Error importNode(const ::onnx::NodeProto &node);
  llvm::Error importSubgraph(const ::onnx::NodeProto &node,
                             const ::onnx::GraphProto &graph, Region &region,
                             TypeRange argTypes);
  Location nodeLoc(const ::onnx::NodeProto &node);

  MLIRContext &context;
  OpBuilder builder;
  std::string path;
  /// The model's main graph, for diagnostics that look beyond one node.
  const ::onnx::GraphProto *mainGraph = nullptr;
  /// Every value by its ONNX name.
  llvm::StringMap<Value> values;
  /// The static types that shape inference found, by value name.
  llvm::StringMap<RankedTensorType> types;
  /// The since_version of each op type's schema at opset 17.
  std::map<std::string, int> sinceVersions;
  Value noValue;
};

} // namespace

llvm::Expected<Type> GraphImporter::convertElementType(int32_t dtype) {
  MLIRContext *ctx = &context;
  switch (dtype) {
  case ::onnx::TensorProto::FLOAT:
    return Float32Type::get(ctx);
  case ::onnx::TensorProto::DOUBLE:
    return Float64Type::get(ctx);
  case ::onnx::TensorProto::FLOAT16:
    return Float16Type::get(ctx);
  case ::onnx::TensorProto::BFLOAT16:
    return BFloat16Type::get(ctx);
  case ::onnx::TensorProto::BOOL:
    return IntegerType::get(ctx, 1);
  case ::onnx::TensorProto::INT8:
    return IntegerType::get(ctx, 8);
  case ::onnx::TensorProto::INT16:
    return IntegerType::get(ctx, 16);
  case ::onnx::TensorProto::INT32:
    return IntegerType::get(ctx, 32);
  case ::onnx::TensorProto::INT64:
    return IntegerType::get(ctx, 64);
  case ::onnx::TensorProto::UINT8:
    return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case ::onnx::TensorProto::UINT16:
    return IntegerType::get(ctx, 16, IntegerType::Unsigned);
  case ::onnx::TensorProto::UINT32:
    return IntegerType::get(ctx, 32, IntegerType::Unsigned);
  case ::onnx::TensorProto::UINT64:
    return IntegerType::get(ctx, 64, IntegerType::Unsigned);
  default:
    return error("element type " +
                 ::onnx::TensorProto::DataType_Name(
                     static_cast<::onnx::TensorProto::DataType>(dtype)) +
                 " is not supported");
  }
}

llvm::Expected<RankedTensorType>
GraphImporter::convertType(const ::onnx::TypeProto &type, StringRef what,
                           StringRef inputName) {
  if (!type.has_tensor_type())
    return error(what + " is not a tensor (sequences, maps and optionals are "
                        "not supported)");
  const auto &tensor = type.tensor_type();
  auto elementType = convertElementType(tensor.elem_type());
  if (!elementType)
    return elementType.takeError();
  if (!tensor.has_shape())
    return error("the shape of " + what + " is unknown after shape inference");
  SmallVector<int64_t> dims;
  for (int i = 0; i < tensor.shape().dim_size(); ++i) {
    const auto &dim = tensor.shape().dim(i);
    if (!dim.has_dim_value() || dim.dim_value() < 0) {
      std::string label =
          dim.has_dim_param() ? "'" + dim.dim_param() + "'" : "unknown";
      // For an input, the pin itself, with its dynamic dimensions to fill.
      std::string pin = "NAME:D0xD1x...";
      if (!inputName.empty()) {
        pin = inputName.str() + ":";
        for (int k = 0; k < tensor.shape().dim_size(); ++k) {
          const auto &d = tensor.shape().dim(k);
          std::string param = d.dim_param().empty() ? "?" : d.dim_param();
          pin += (k ? "x" : "") + (d.has_dim_value() && d.dim_value() >= 0
                                       ? std::to_string(d.dim_value())
                                       : "<" + param + ">");
        }
      }
      return error(what + " has a dynamic dimension " + std::to_string(i) +
                   " (" + label + "); pin it with --input-shape=" + pin +
                   (inputName.empty() ? " on the input it depends on" : ""));
    }
    dims.push_back(dim.dim_value());
  }
  return RankedTensorType::get(dims, *elementType);
}

/// Reads a typed repeated field into a dense attribute of `type`.
template <typename Stored, typename Field>
static DenseElementsAttr denseFrom(RankedTensorType type, const Field &field) {
  SmallVector<Stored> values(field.begin(), field.end());
  return DenseElementsAttr::get(type, ArrayRef<Stored>(values));
}

llvm::Expected<DenseElementsAttr>
GraphImporter::convertTensor(const ::onnx::TensorProto &tensor) {
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL)
    return error("tensor '" + tensor.name() +
                 "' keeps its data in an external file, which is not "
                 "supported yet");
  auto elementType = convertElementType(tensor.data_type());
  if (!elementType)
    return elementType.takeError();
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  auto type = RankedTensorType::get(dims, *elementType);
  int64_t count = type.getNumElements();
  Type et = *elementType;
  unsigned width = et.getIntOrFloatBitWidth();

  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    int64_t bytes = et.isInteger(1) ? count : count * (int64_t)width / 8;
    if ((int64_t)raw.size() != bytes)
      return error("tensor '" + tensor.name() + "' holds " +
                   std::to_string(raw.size()) + " bytes of data, expected " +
                   std::to_string(bytes));
    if (et.isInteger(1)) {
      SmallVector<bool> bits(raw.begin(), raw.end());
      return DenseElementsAttr::get(type, ArrayRef<bool>(bits));
    }
    // One copy, from the protobuf into the context's storage.
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(raw.data(), raw.size()));
  }

  DenseElementsAttr result;
  switch (tensor.data_type()) {
  case ::onnx::TensorProto::FLOAT:
    result = denseFrom<float>(type, tensor.float_data());
    break;
  case ::onnx::TensorProto::DOUBLE:
    result = denseFrom<double>(type, tensor.double_data());
    break;
  case ::onnx::TensorProto::INT64:
    result = denseFrom<int64_t>(type, tensor.int64_data());
    break;
  case ::onnx::TensorProto::UINT32:
  case ::onnx::TensorProto::UINT64:
    result = denseFrom<uint64_t>(type, tensor.uint64_data());
    if ((int64_t)tensor.uint64_data_size() == count && width == 32) {
      SmallVector<uint32_t> narrow(tensor.uint64_data().begin(),
                                   tensor.uint64_data().end());
      result = DenseElementsAttr::get(type, ArrayRef<uint32_t>(narrow));
    }
    break;
  case ::onnx::TensorProto::BOOL: {
    SmallVector<bool> bits;
    for (int32_t v : tensor.int32_data())
      bits.push_back(v != 0);
    if ((int64_t)bits.size() != count)
      break;
    return DenseElementsAttr::get(type, ArrayRef<bool>(bits));
  }
  case ::onnx::TensorProto::INT32:
  case ::onnx::TensorProto::INT16:
  case ::onnx::TensorProto::INT8:
  case ::onnx::TensorProto::UINT16:
  case ::onnx::TensorProto::UINT8:
  case ::onnx::TensorProto::FLOAT16:
  case ::onnx::TensorProto::BFLOAT16: {
    // int32_data holds these; 16-bit floats as their bit patterns.
    if ((int64_t)tensor.int32_data_size() != count)
      break;
    SmallVector<APInt> ints;
    for (int32_t v : tensor.int32_data())
      ints.push_back(APInt(width, (uint64_t)(int64_t)v, /*isSigned=*/true));
    if (isa<FloatType>(et)) {
      SmallVector<APFloat> floats;
      for (const APInt &bits : ints)
        floats.push_back(
            APFloat(cast<FloatType>(et).getFloatSemantics(), bits));
      return DenseElementsAttr::get(type, floats);
    }
    return DenseElementsAttr::get(type, ints);
  }
  default:
    break;
  }
  if (!result || result.getNumElements() != count)
    return error("tensor '" + tensor.name() + "' has " +
                 "missing or mismatched data for its shape");
  return result;
}

llvm::Expected<NamedAttribute>
GraphImporter::convertAttribute(const ::onnx::NodeProto &node,
                                const ::onnx::AttributeProto &attr) {
  auto name = builder.getStringAttr(attr.name());
  switch (attr.type()) {
  case ::onnx::AttributeProto::INT:
    return NamedAttribute(name, builder.getI64IntegerAttr(attr.i()));
  case ::onnx::AttributeProto::FLOAT:
    return NamedAttribute(name, builder.getF32FloatAttr(attr.f()));
  case ::onnx::AttributeProto::STRING:
    return NamedAttribute(name, builder.getStringAttr(attr.s()));
  case ::onnx::AttributeProto::INTS: {
    SmallVector<int64_t> ints(attr.ints().begin(), attr.ints().end());
    return NamedAttribute(name, builder.getI64ArrayAttr(ints));
  }
  case ::onnx::AttributeProto::FLOATS: {
    SmallVector<float> floats(attr.floats().begin(), attr.floats().end());
    return NamedAttribute(name, builder.getF32ArrayAttr(floats));
  }
  case ::onnx::AttributeProto::TENSOR: {
    auto tensor = convertTensor(attr.t());
    if (!tensor)
      return tensor.takeError();
    return NamedAttribute(name, *tensor);
  }
  default:
    return nodeError(
        node, "attribute '" + attr.name() + "' has a kind (" +
                  ::onnx::AttributeProto::AttributeType_Name(attr.type()) +
                  ") that is not supported");
  }
}

Location GraphImporter::nodeLoc(const ::onnx::NodeProto &node) {
  return NameLoc::get(
      builder.getStringAttr(describeNode(node.name(), node.op_type())),
      FileLineColLoc::get(&context, path, 0, 0));
}

/// How many operands each op with optional trailing inputs declares; omitted
/// trailing inputs are filled with the none value.
static unsigned declaredInputCount(StringRef opType, unsigned given) {
  static const llvm::StringMap<unsigned> counts = {
      {"Clip", 3},
      {"Conv", 3},
      {"ConvInteger", 4},
      {"ConvTranspose", 3},
      {"DFT", 2},
      {"Dropout", 3},
      {"Gemm", 3},
      {"LayerNormalization", 3},
      {"MatMulInteger", 4},
      {"MaxUnpool", 3},
      {"Pad", 3},
      {"QLinearConv", 9},
      {"Resize", 4},
      {"RNN", 6},
      {"GRU", 6},
      {"LSTM", 8},
      {"ReduceSum", 2},
      {"Slice", 5},
      {"NegativeLogLikelihoodLoss", 3},
      {"NonMaxSuppression", 5},
      {"QuantizeLinear", 3},
      {"DequantizeLinear", 3},
      {"SoftmaxCrossEntropyLoss", 3},
      {"Split", 2},
      {"Squeeze", 2},
      {"STFT", 4},
      {"Trilu", 2},
  };
  auto it = counts.find(opType);
  return it == counts.end() ? given : std::max(given, it->second);
}

/// The domain of ONNX's training-preview optimizers.
static constexpr StringLiteral kTrainingDomain = "ai.onnx.preview.training";

/// The ONNX domain of the schema an onnx dialect op implements: empty (the
/// default, ai.onnx) for all but the training-preview optimizers.
static StringRef implementedDomain(StringRef opType) {
  if (opType == "Adagrad" || opType == "Adam" || opType == "Momentum")
    return kTrainingDomain;
  return "";
}

/// The ONNX version (since_version) each onnx dialect op implements; the
/// importer keys every node on (op, since_version).
static const llvm::StringMap<int> &implementedVersions() {
  static const llvm::StringMap<int> versions = {
#include "dialects/onnx/OpVersions.inc"
  };
  return versions;
}

/// The type of output `index` (Y, Y_h or Y_c) of an RNN, GRU or LSTM node,
/// from X [seq, batch, in] (or [batch, seq, in] with layout 1) and
/// R [directions, gates * hidden, hidden].
static RankedTensorType recurrentOutputType(const ::onnx::NodeProto &node,
                                            ArrayRef<Value> operands,
                                            int index) {
  auto x = cast<RankedTensorType>(operands[0].getType());
  auto r = cast<RankedTensorType>(operands[2].getType());
  int64_t layout = 0;
  for (const auto &attr : node.attribute())
    if (attr.name() == "layout")
      layout = attr.i();
  int64_t seq = x.getDimSize(layout ? 1 : 0),
          batch = x.getDimSize(layout ? 0 : 1);
  int64_t dirs = r.getDimSize(0), hidden = r.getDimSize(2);
  SmallVector<int64_t> shape;
  if (index == 0)
    shape = layout ? SmallVector<int64_t>{batch, seq, dirs, hidden}
                   : SmallVector<int64_t>{seq, dirs, batch, hidden};
  else
    shape = layout ? SmallVector<int64_t>{batch, dirs, hidden}
                   : SmallVector<int64_t>{dirs, batch, hidden};
  return RankedTensorType::get(shape, x.getElementType());
}

/// Whether the output length of an op depends on the values of its inputs,
/// not only on their shapes: shape inference leaves it unknown, and only the
/// model can declare it.
static bool hasDataDependentShape(StringRef opType) {
  return opType == "NonZero" || opType == "Compress" ||
         opType == "NonMaxSuppression" || opType == "Unique";
}

/// The message for a value of such an op that the model leaves dynamic.
/// True if `node` is one of `graph`'s own nodes (not of a subgraph).
static bool isNodeOf(const ::onnx::GraphProto &graph,
                     const ::onnx::NodeProto &node) {
  for (const auto &n : graph.node())
    if (&n == &node)
      return true;
  return false;
}

static std::string dataDependentShapeMessage(StringRef name) {
  return ("the length of output '" + name +
          "' depends on the input data and the model leaves it dynamic; "
          "Kiln compiles static shapes only: declare it in the model")
      .str();
}

/// The type of an omitted output `index` (indices, inverse_indices or
/// counts) of a Unique node, from X and the type of Y.
static RankedTensorType uniqueOutputType(const ::onnx::NodeProto &node,
                                         ArrayRef<Value> operands,
                                         RankedTensorType y, int index) {
  auto x = cast<RankedTensorType>(operands[0].getType());
  std::optional<int64_t> axis;
  for (const auto &attr : node.attribute())
    if (attr.name() == "axis")
      axis = attr.i();
  int64_t items = x.getNumElements();
  int64_t unique = y.getRank() == 1 ? y.getDimSize(0) : 0;
  if (axis && *axis >= -x.getRank() && *axis < x.getRank()) {
    int64_t a = *axis < 0 ? *axis + x.getRank() : *axis;
    items = x.getDimSize(a);
    unique = y.getRank() == x.getRank() ? y.getDimSize(a) : 0;
  }
  Type i64 = IntegerType::get(x.getContext(), 64);
  return RankedTensorType::get({index == 2 ? items : unique}, i64);
}

/// The region that each graph attribute of a control-flow op becomes.
static std::optional<unsigned> regionIndex(StringRef opType,
                                           StringRef attrName) {
  if (opType == "If")
    return attrName == "then_branch"   ? std::optional<unsigned>(0)
           : attrName == "else_branch" ? std::optional<unsigned>(1)
                                       : std::nullopt;
  if ((opType == "Loop" || opType == "Scan") && attrName == "body")
    return 0;
  return std::nullopt;
}

/// The argument types of a control-flow op's body, from its operands (the
/// subgraph's own input declarations are often left without shapes).
static SmallVector<Type> bodyArgumentTypes(const ::onnx::NodeProto &node,
                                           ArrayRef<Value> operands,
                                           OpBuilder &b) {
  SmallVector<Type> types;
  if (node.op_type() == "Loop") {
    types.push_back(RankedTensorType::get({}, b.getI64Type()));
    types.push_back(RankedTensorType::get({}, b.getI1Type()));
    for (Value v : operands.drop_front(2))
      types.push_back(v.getType());
    return types;
  }
  if (node.op_type() == "Scan") {
    int64_t numScan = 0;
    SmallVector<int64_t> axes;
    for (const auto &attr : node.attribute()) {
      if (attr.name() == "num_scan_inputs")
        numScan = attr.i();
      if (attr.name() == "scan_input_axes")
        axes.assign(attr.ints().begin(), attr.ints().end());
    }
    size_t numStates = operands.size() - std::min<size_t>(numScan, operands.size());
    for (size_t i = 0; i < operands.size(); ++i) {
      auto type = cast<RankedTensorType>(operands[i].getType());
      if (i < numStates) {
        types.push_back(type);
        continue;
      }
      size_t j = i - numStates;
      int64_t axis = j < axes.size() ? axes[j] : 0;
      if (axis < 0)
        axis += type.getRank();
      if (axis < 0 || axis >= type.getRank())
        return {};
      SmallVector<int64_t> shape(type.getShape());
      shape.erase(shape.begin() + axis);
      types.push_back(RankedTensorType::get(shape, type.getElementType()));
    }
  }
  return types;
}

void GraphImporter::recordTypes(const ::onnx::GraphProto &graph) {
  auto record = [&](const ::onnx::ValueInfoProto &info) {
    if (!info.type().has_tensor_type())
      return;
    auto type = convertType(info.type(), "value '" + info.name() + "'");
    if (!type) {
      // A dynamic intermediate only matters if a node needs it; drop the
      // error here and let importNode report it with the node's name.
      llvm::consumeError(type.takeError());
      return;
    }
    types[info.name()] = *type;
  };
  for (const auto &info : graph.value_info())
    record(info);
  for (const auto &info : graph.output())
    record(info);
}

llvm::Error GraphImporter::importSubgraph(const ::onnx::NodeProto &node,
                                          const ::onnx::GraphProto &graph,
                                          Region &region, TypeRange argTypes) {
  if ((int)argTypes.size() != graph.input_size())
    return nodeError(node, "graph '" + graph.name() + "' takes " +
                               Twine(graph.input_size()) + " inputs, expected " +
                               Twine(argTypes.size()));
  recordTypes(graph);
  SmallVector<Location> locs(argTypes.size(), nodeLoc(node));
  Block *block = builder.createBlock(&region, {}, argTypes, locs);
  // Names defined inside the graph are visible only there.
  llvm::StringMap<Value> outer = values;
  for (int i = 0; i < graph.input_size(); ++i)
    values[graph.input(i).name()] = block->getArgument(i);
  for (const auto &init : graph.initializer()) {
    auto value = convertTensor(init);
    if (!value)
      return value.takeError();
    values[init.name()] = builder.create<kiln::onnx::ConstantOp>(
        nodeLoc(node), value->getType(), *value);
  }
  for (const auto &inner : graph.node())
    if (llvm::Error err = importNode(inner))
      return err;
  SmallVector<Value> results;
  for (const auto &output : graph.output()) {
    Value v = values.lookup(output.name());
    if (!v)
      return nodeError(node, "output '" + output.name() + "' of graph '" +
                                 graph.name() + "' is not defined");
    results.push_back(v);
  }
  builder.create<kiln::onnx::YieldOp>(nodeLoc(node), results);
  values = std::move(outer);
  return llvm::Error::success();
}

llvm::Error GraphImporter::importNode(const ::onnx::NodeProto &node) {
  Location loc = nodeLoc(node);
  auto since = sinceVersions.find(node.op_type());
  int sinceVersion = since == sinceVersions.end() ? 0 : since->second;
  StringRef domain = node.domain();
  if (domain == "ai.onnx")
    domain = "";
  if (!domain.empty() && domain != kTrainingDomain)
    return nodeError(node, "operators of domain '" + node.domain() +
                               "' are not supported");
  auto implemented = implementedVersions().find(node.op_type());
  if (implemented == implementedVersions().end() ||
      implementedDomain(node.op_type()) != domain)
    return nodeError(
        node, "operator " + node.op_type() +
                  (domain.empty() ? Twine("") : " of domain '" + domain + "'") +
                  " is not supported");
  if (implemented->second != sinceVersion)
    return nodeError(node, "Kiln implements " + node.op_type() + "-" +
                               Twine(implemented->second) +
                               ", but the model needs " + node.op_type() + "-" +
                               Twine(sinceVersion));

  // Constant: one of its value_* attributes becomes the constant's value.
  if (node.op_type() == "Constant") {
    if (node.attribute_size() != 1 || node.output_size() != 1)
      return nodeError(node, "expects exactly one value attribute");
    const auto &attr = node.attribute(0);
    auto type = types.lookup(node.output(0));
    ElementsAttr value;
    if (attr.name() == "value") {
      auto tensor = convertTensor(attr.t());
      if (!tensor)
        return tensor.takeError();
      value = *tensor;
    } else if (attr.name() == "value_float") {
      value = DenseElementsAttr::get(
          RankedTensorType::get({}, builder.getF32Type()), attr.f());
    } else if (attr.name() == "value_int") {
      value = DenseElementsAttr::get(
          RankedTensorType::get({}, builder.getI64Type()), (int64_t)attr.i());
    } else if (attr.name() == "value_floats") {
      SmallVector<float> v(attr.floats().begin(), attr.floats().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, builder.getF32Type()),
          ArrayRef<float>(v));
    } else if (attr.name() == "value_ints") {
      SmallVector<int64_t> v(attr.ints().begin(), attr.ints().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, builder.getI64Type()),
          ArrayRef<int64_t>(v));
    } else {
      return nodeError(node,
                       "attribute '" + attr.name() + "' is not supported");
    }
    if (type && type != value.getType())
      return nodeError(node, "value type does not match the inferred type");
    values[node.output(0)] =
        builder.create<kiln::onnx::ConstantOp>(loc, value.getType(), value);
    return llvm::Error::success();
  }

  auto opName =
      RegisteredOperationName::lookup("onnx." + node.op_type(), &context);
  if (!opName)
    return nodeError(node, "operator " + node.op_type() + " is not supported");

  OperationState state(loc, *opName);
  unsigned numInputs = declaredInputCount(node.op_type(), node.input_size());
  for (unsigned i = 0; i < numInputs; ++i) {
    if (i >= (unsigned)node.input_size() || node.input(i).empty()) {
      state.operands.push_back(noValue);
      continue;
    }
    Value v = values.lookup(node.input(i));
    if (!v)
      return nodeError(node, "input '" + node.input(i) + "' is not defined");
    state.operands.push_back(v);
  }

  // Trailing empty outputs are omitted. Recurrent ops always get all their
  // outputs; an omitted one is typed from the inputs.
  int numOutputs = node.output_size();
  while (numOutputs > 0 && node.output(numOutputs - 1).empty())
    --numOutputs;
  bool recurrent = node.op_type() == "RNN" || node.op_type() == "GRU" ||
                   node.op_type() == "LSTM";
  if (recurrent)
    numOutputs = node.op_type() == "LSTM" ? 3 : 2;
  // Unique always gets its four outputs; an omitted one is typed from Y.
  bool unique = node.op_type() == "Unique";
  if (unique)
    numOutputs = 4;
  for (int i = 0; i < numOutputs; ++i) {
    bool omitted = i >= node.output_size() || node.output(i).empty();
    if (omitted && recurrent) {
      state.types.push_back(recurrentOutputType(node, state.operands, i));
      continue;
    }
    if (omitted && unique && i > 0) {
      state.types.push_back(uniqueOutputType(
          node, state.operands, cast<RankedTensorType>(state.types[0]), i));
      continue;
    }
    if (omitted)
      return nodeError(node, "an omitted output before the last is not "
                             "supported");
    auto type = types.lookup(node.output(i));
    if (!type && hasDataDependentShape(node.op_type()))
      return nodeError(node, dataDependentShapeMessage(node.output(i)));
    if (!type) {
      std::string why;
      if (mainGraph && isNodeOf(*mainGraph, node))
        why = explainDynamicShape(*mainGraph, node);
      return nodeError(node, "shape inference could not find a static shape "
                             "for output '" +
                                 node.output(i) + "'" +
                                 (why.empty() ? "" : ": " + why));
    }
    state.types.push_back(type);
  }

  ArrayRef<StringAttr> known = opName->getAttributeNames();
  SmallVector<std::pair<unsigned, const ::onnx::GraphProto *>> graphs;
  for (const auto &attr : node.attribute()) {
    if (attr.type() == ::onnx::AttributeProto::GRAPH) {
      auto index = regionIndex(node.op_type(), attr.name());
      if (!index)
        return nodeError(node, "graph attribute '" + attr.name() +
                                   "' is not supported");
      graphs.push_back({*index, &attr.g()});
      continue;
    }
    if (!llvm::is_contained(known, builder.getStringAttr(attr.name())))
      return nodeError(node,
                       "attribute '" + attr.name() + "' is not supported");
    auto named = convertAttribute(node, attr);
    if (!named)
      return named.takeError();
    state.attributes.push_back(*named);
  }

  for (size_t i = 0; i < graphs.size(); ++i)
    state.addRegion();
  Operation *op = builder.create(state);
  if (!graphs.empty()) {
    SmallVector<Type> argTypes =
        bodyArgumentTypes(node, state.operands, builder);
    OpBuilder::InsertionGuard guard(builder);
    for (auto [index, graph] : graphs) {
      if (index >= op->getNumRegions())
        return nodeError(node, "unexpected graph attribute");
      if (llvm::Error err = importSubgraph(
              node, *graph, op->getRegion(index),
              node.op_type() == "If" ? TypeRange() : TypeRange(argTypes)))
        return err;
    }
  }
  // Report ODS verification failures here, where the node is known.
  std::string message;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      if (message.empty())
        message = diag.str();
      return success();
    });
    if (failed(verify(op)))
      return nodeError(node, message.empty() ? "invalid node" : message);
  }
  for (int i = 0; i < numOutputs; ++i)
    if (i < node.output_size() && !node.output(i).empty())
      values[node.output(i)] = op->getResult(i);
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>>
GraphImporter::import(const ::onnx::ModelProto &model,
                      const std::map<std::string, int> &versions,
                      const ModelLayout &layout) {
  const ::onnx::GraphProto &graph = model.graph();
  mainGraph = &graph;
  sinceVersions = versions;
  recordTypes(graph);

  OwningOpRef<ModuleOp> module =
      ModuleOp::create(FileLineColLoc::get(&context, path, 0, 0));
  builder.setInsertionPointToEnd(module->getBody());

  // Graph inputs that are initializers are constants, not arguments.
  llvm::StringMap<const ::onnx::TensorProto *> initializers;
  for (const auto &init : graph.initializer())
    initializers[init.name()] = &init;

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &input : graph.input()) {
    if (initializers.count(input.name()))
      continue;
    auto type = convertType(input.type(), "input '" + input.name() + "'",
                            input.name());
    if (!type)
      return type.takeError();
    argTypes.push_back(*type);
    argNames.push_back(input.name());
  }
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    auto type = convertType(output.type(), "output '" + output.name() + "'");
    if (!type) {
      for (const auto &node : graph.node())
        if (hasDataDependentShape(node.op_type()) &&
            llvm::is_contained(node.output(), output.name())) {
          llvm::consumeError(type.takeError());
          return nodeError(node, dataDependentShapeMessage(output.name()));
        }
      return type.takeError();
    }
    resultTypes.push_back(*type);
    types[output.name()] = *type;
  }

  auto func = builder.create<func::FuncOp>(
      module->getLoc(), "main_graph",
      builder.getFunctionType(argTypes, resultTypes));
  Block *entry = func.addEntryBlock();
  for (unsigned i = 0; i < argNames.size(); ++i) {
    func.setArgAttr(i, kValueNameAttr, builder.getStringAttr(argNames[i]));
    values[argNames[i]] = entry->getArgument(i);
    auto bytes = layout.stringBytes.find(argNames[i]);
    if (bytes != layout.stringBytes.end())
      func.setArgAttr(i, kStringBytesAttr,
                      builder.getI64IntegerAttr(bytes->second));
  }
  for (int i = 0; i < graph.output_size(); ++i) {
    func.setResultAttr(i, kValueNameAttr,
                       builder.getStringAttr(graph.output(i).name()));
    auto bytes = layout.stringBytes.find(graph.output(i).name());
    if (bytes != layout.stringBytes.end())
      func.setResultAttr(i, kStringBytesAttr,
                         builder.getI64IntegerAttr(bytes->second));
  }

  auto recordValues = [&](const std::vector<ValueLayout> &list, unsigned total,
                    StringRef attr) -> llvm::Error {
    SmallVector<Attribute> dicts;
    unsigned count = 0;
    for (const ValueLayout &v : list) {
      NamedAttribute fields[] = {
          builder.getNamedAttr("name", builder.getStringAttr(v.name)),
          builder.getNamedAttr("kind", builder.getI32IntegerAttr(v.kind)),
          builder.getNamedAttr("present",
                               builder.getI32IntegerAttr(v.present)),
          builder.getNamedAttr("dtype", builder.getI32IntegerAttr(v.dtype)),
          builder.getNamedAttr("count", builder.getI32IntegerAttr(
                                            (int32_t)v.tensors.size()))};
      dicts.push_back(builder.getDictionaryAttr(fields));
      count += v.tensors.size();
    }
    if (count != total)
      return error("internal error: the values span " + Twine(count) +
                   " tensors, the graph has " + Twine(total));
    func->setAttr(attr, builder.getArrayAttr(dicts));
    return llvm::Error::success();
  };
  if (auto err = recordValues(layout.inputs, argTypes.size(), kInputValuesAttr))
    return std::move(err);
  if (auto err = recordValues(layout.outputs, resultTypes.size(), kOutputValuesAttr))
    return std::move(err);

  builder.setInsertionPointToStart(entry);
  noValue = builder.create<kiln::onnx::NoValueOp>(module->getLoc(),
                                                  builder.getNoneType());
  for (const auto &init : graph.initializer()) {
    auto value = convertTensor(init);
    if (!value)
      return value.takeError();
    values[init.name()] = builder.create<kiln::onnx::ConstantOp>(
        FileLineColLoc::get(&context, path, 0, 0), value->getType(), *value);
  }
  for (const auto &node : graph.node())
    if (llvm::Error err = importNode(node))
      return std::move(err);

  SmallVector<Value> results;
  for (const auto &output : graph.output()) {
    Value v = values.lookup(output.name());
    if (!v)
      return error("output '" + output.name() +
                   "' is not produced by any node");
    results.push_back(v);
  }
  builder.create<func::ReturnOp>(module->getLoc(), results);
  module->getOperation()->setAttr(
      "kiln.source", builder.getStringAttr(llvm::sys::path::filename(path)));
  return std::move(module);
}

llvm::Expected<OwningOpRef<ModuleOp>>
kiln::importOnnxModel(StringRef path, MLIRContext &context,
                      const std::vector<InputShapePin> &pins,
                      const std::string &dataDir,
                      int64_t maxStringBytes) {
  context.loadDialect<kiln::onnx::ONNXDialect, func::FuncDialect>();
  ::onnx::ModelProto model;
  std::string message;
  std::map<std::string, int> sinceVersions;
  ModelLayout layout;
  if (!loadOnnxModel(path.str(), pins, dataDir, maxStringBytes, model,
                     sinceVersions, layout, message))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   (path + ": " + message).str());
  GraphImporter importer(context, path);
  return importer.import(model, sinceVersions, layout);
}
