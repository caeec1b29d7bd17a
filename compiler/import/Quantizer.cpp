//===- Quantizer.cpp - Post-training int8 quantization of ONNX models -----===//
//
// This file implements the model rewriting of `kilnc --quantize=int8`
// (Quantizer.h) on the protobuf model, after OnnxLoader has checked it,
// converted it to opset 17 and inferred its shapes. The QDQ form it writes
// is ONNX Runtime's: uint8 activations (asymmetric, from the calibrated
// min/max widened to hold 0), int8 weights symmetric per output channel
// (scale max|w| / 127, values in [-127, 127]; / 64 and [-64, 64] for x86
// without VNNI, QuantizeOptions::weightMax, but for embedding tables, which
// no dot product sums), int32 biases at scale
// x_scale * w_scale. kiln-fuse-qdq then makes each pattern one 8-bit
// convolution. Compiled with exceptions and RTTI, like OnnxLoader.cpp.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Quantizer.h"
#include "compiler/import/OnnxLoader.h"
#include "compiler/import/ProtoHelpers.h"

#include "kiln/runtime.h"

#include "onnx/defs/tensor_proto_util.h"
#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

using namespace kiln;

namespace {

/// A node's name for the user: its own, or "OpType#index".
std::string nodeName(const onnx::GraphProto &g, int index) {
  const onnx::NodeProto &n = g.node(index);
  return n.name().empty() ? n.op_type() + "#" + std::to_string(index)
                          : n.name();
}

const onnx::TensorProto *initializer(const onnx::GraphProto &g,
                                     const std::string &name) {
  for (const onnx::TensorProto &t : g.initializer())
    if (t.name() == name)
      return &t;
  return nullptr;
}

/// A scalar float constant: an initializer or a Constant node's value.
bool isScalarConstant(const onnx::GraphProto &g, const std::string &name) {
  if (name.empty())
    return true; // an absent optional input
  if (const onnx::TensorProto *t = initializer(g, name))
    return t->data_type() == onnx::TensorProto::FLOAT &&
           onnx::ParseData<float>(t).size() == 1;
  for (const onnx::NodeProto &n : g.node())
    if (n.op_type() == "Constant" && n.output_size() == 1 &&
        n.output(0) == name)
      return true;
  return false;
}

/// One convolution, matmul or embedding table to quantize.
struct Plan {
  int node = 0;     ///< the Conv, Gemm or MatMul
  int producer = 0; ///< the node that writes `out` (it, an activation, or
                    ///< a MatMul's bias Add)
  std::string x, out;
  /// A MatMul's weights are [K, N]: their channels are columns (axis 1).
  bool matmul = false;
  /// The input that holds the weights (a Gather's table is input 0), and
  /// the axis of their channels (a MatMul's or a Gather's: 1).
  int weightInput = 1, channelAxis = 0;
  /// A MatMul's bias: input `biasInput` of node `producer`, an Add.
  int biasInput = -1;
  /// Only the weights are int8 (an embedding table's, dequantized as it is
  /// gathered); no activation is calibrated.
  bool weightsOnly = false;
};

/// The layers the rewrite quantizes; fails on a --keep-float name
/// that is no node.
bool planModel(const onnx::GraphProto &g, const QuantizeOptions &options,
               std::vector<Plan> &plans, std::string &error) {
  std::set<std::string> names;
  for (int i = 0; i < g.node_size(); ++i)
    names.insert(nodeName(g, i));
  for (const std::string &k : options.keepFloat)
    if (!names.count(k)) {
      error = "--keep-float names '" + k + "', which is no node of the model";
      return false;
    }
  std::map<std::string, std::vector<int>> consumers;
  for (int i = 0; i < g.node_size(); ++i)
    for (const std::string &in : g.node(i).input())
      consumers[in].push_back(i);
  std::set<std::string> outputs;
  for (const auto &o : g.output())
    outputs.insert(o.name());
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &n = g.node(i);
    // An embedding table [V, D] (a transformer's token ids) stores int8
    // per column, gathered and then dequantized: weights only.
    if (n.op_type() == "Gather" && n.input_size() == 2 &&
        !findAttribute(n, "axis") &&
        !std::count(options.keepFloat.begin(), options.keepFloat.end(),
                    nodeName(g, i))) {
      const onnx::TensorProto *t = initializer(g, n.input(0));
      if (t && t->data_type() == onnx::TensorProto::FLOAT &&
          t->dims_size() == 2 && t->dims(0) * t->dims(1) >= 4096) {
        Plan p;
        p.node = p.producer = i;
        p.weightsOnly = true;
        p.weightInput = 0;
        p.channelAxis = 1;
        plans.push_back(p);
      }
      continue;
    }
    bool gemm = n.op_type() == "Gemm", matmul = n.op_type() == "MatMul";
    if ((n.op_type() != "Conv" && !gemm && !matmul) || n.input_size() < 2 ||
        std::count(options.keepFloat.begin(), options.keepFloat.end(),
                   nodeName(g, i)))
      continue;
    const onnx::TensorProto *w = initializer(g, n.input(1));
    if (!w || w->data_type() != onnx::TensorProto::FLOAT ||
        w->dims_size() != (gemm || matmul ? 2 : 4))
      continue;
    if (matmul) {
      // x [..., K] times constant weights [K, N] (a Linear layer of a
      // transformer); an Add of a constant [N] that it feeds alone is its
      // bias, folded into the int32 sums.
      Plan p;
      p.node = p.producer = i;
      p.matmul = true;
      p.channelAxis = 1;
      p.x = n.input(0);
      p.out = n.output(0);
      const std::vector<int> &next = consumers[p.out];
      if (next.size() == 1 && !outputs.count(p.out)) {
        const onnx::NodeProto &a = g.node(next[0]);
        int other = a.input_size() == 2 && a.input(0) == p.out ? 1 : 0;
        const onnx::TensorProto *b = a.op_type() == "Add" && a.input_size() == 2
                                         ? initializer(g, a.input(other))
                                         : nullptr;
        if (b && b->data_type() == onnx::TensorProto::FLOAT &&
            b->dims_size() == 1 && b->dims(0) == w->dims(1)) {
          p.producer = next[0];
          p.out = a.output(0);
          p.biasInput = other;
        }
      }
      plans.push_back(p);
      continue;
    }
    // A classifier: Gemm(A, B^T) + C with weights B [N, K], as torch's
    // Linear exports it.
    auto intAttr = [&](const char *name, int64_t dflt) {
      const onnx::AttributeProto *a = findAttribute(n, name);
      return a ? a->i() : dflt;
    };
    auto floatAttr = [&](const char *name) {
      const onnx::AttributeProto *a = findAttribute(n, name);
      return a ? a->f() : 1.0f;
    };
    if (gemm && (intAttr("transA", 0) != 0 || intAttr("transB", 0) != 1 ||
                 floatAttr("alpha") != 1.0f || floatAttr("beta") != 1.0f))
      continue;
    if (n.input_size() > 2 && !n.input(2).empty()) {
      const onnx::TensorProto *b = initializer(g, n.input(2));
      if (!b || b->data_type() != onnx::TensorProto::FLOAT)
        continue;
    }
    Plan p;
    p.node = p.producer = i;
    p.x = n.input(0);
    p.out = n.output(0);
    const std::vector<int> &next = consumers[p.out];
    if (!gemm && next.size() == 1 && !outputs.count(p.out)) {
      const onnx::NodeProto &a = g.node(next[0]);
      bool clip = a.op_type() == "Clip" &&
                  (a.input_size() < 2 || isScalarConstant(g, a.input(1))) &&
                  (a.input_size() < 3 || isScalarConstant(g, a.input(2)));
      if (a.op_type() == "Relu" || clip) {
        p.producer = next[0];
        p.out = a.output(0);
      }
    }
    plans.push_back(p);
  }
  return true;
}

bool load(const std::string &path, const QuantizeOptions &options,
          onnx::ModelProto &model, std::string &error) {
  std::map<std::string, int> since;
  ModelLayout layout;
  std::vector<InputShapePin> none;
  return loadOnnxModel(path, options.pins ? *options.pins : none,
                       options.pinsFromDir, options.maxStringBytes, model,
                       since, layout, error);
}

bool save(const onnx::ModelProto &model, const std::string &path,
          std::string &error) {
  std::ofstream out(path, std::ios::binary);
  if (!out || !model.SerializeToOstream(&out)) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

/// Appends `tensors` to the graph's outputs, with the types shape
/// inference gave them (or the graph's inputs have).
void addOutputs(onnx::GraphProto &g, const std::vector<std::string> &tensors) {
  for (const std::string &t : tensors) {
    onnx::ValueInfoProto info;
    for (const auto *list : {&g.value_info(), &g.input(), &g.output()})
      for (const onnx::ValueInfoProto &v : *list)
        if (v.name() == t)
          info = v;
    info.set_name(t);
    *g.add_output() = info;
  }
}

/// The tensors to calibrate: each plan's input and output, once.
std::vector<std::string> calibrated(const std::vector<Plan> &plans) {
  std::vector<std::string> tensors;
  for (const Plan &p : plans)
    for (const std::string &t : {p.x, p.out})
      if (!p.weightsOnly &&
          std::find(tensors.begin(), tensors.end(), t) == tensors.end())
        tensors.push_back(t);
  return tensors;
}

/// uint8 asymmetric parameters for the range [lo, hi], widened to hold 0.
std::pair<float, int64_t> activationParams(std::pair<float, float> range) {
  float lo = std::min(range.first, 0.0f), hi = std::max(range.second, 0.0f);
  float scale = (hi - lo) / 255.0f;
  if (!(scale > 0) || !std::isfinite(scale))
    return {1.0f, 0};
  int64_t zp = static_cast<int64_t>(std::nearbyint(-lo / scale));
  return {scale, std::clamp<int64_t>(zp, 0, 255)};
}

/// An initializer of ONNX element type `type` holding `values` as raw data.
template <typename T>
onnx::TensorProto rawTensor(const std::string &name, int32_t type,
                            const std::vector<T> &values,
                            std::vector<int64_t> dims) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : dims)
    t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                             values.size() * sizeof(T)));
  return t;
}

/// A QuantizeLinear or DequantizeLinear; per channel along `axis` when it
/// is not negative.
onnx::NodeProto qdqNode(const std::string &op, const std::string &in,
                        const std::string &scale, const std::string &zp,
                        const std::string &out, int axis = -1) {
  onnx::NodeProto n = makeNode(op, {in, scale, zp}, out);
  if (axis >= 0)
    setIntAttribute(n, "axis", axis);
  return n;
}

} // namespace

bool kiln::writeCalibrationModel(const std::string &path,
                                 const QuantizeOptions &options,
                                 const std::string &calibrationPath,
                                 std::vector<std::string> &tensors,
                                 std::string &error) {
  try {
    onnx::ModelProto model;
    if (!load(path, options, model, error))
      return false;
    std::vector<Plan> plans;
    if (!planModel(model.graph(), options, plans, error))
      return false;
    if (std::none_of(plans.begin(), plans.end(),
                     [](const Plan &p) { return !p.weightsOnly; })) {
      error = "nothing to quantize (Kiln quantizes 2-d Conv nodes, Gemm "
              "classifiers and MatMul nodes with constant weights)";
      return false;
    }
    tensors = calibrated(plans);
    addOutputs(*model.mutable_graph(), tensors);
    return save(model, calibrationPath, error);
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
}

bool kiln::writeQuantizedModel(const std::string &path,
                               const QuantizeOptions &options,
                               const Ranges &ranges, const std::string &outPath,
                               const std::string &reportPath,
                               QuantizeSummary &summary, std::string &error) {
  try {
    onnx::ModelProto model;
    if (!load(path, options, model, error))
      return false;
    onnx::GraphProto &g = *model.mutable_graph();
    std::vector<Plan> plans;
    if (!planModel(g, options, plans, error))
      return false;
    std::vector<QuantizedLayer> &layers = summary.layers;
    for (const onnx::TensorProto &t : g.initializer()) {
      int64_t count = 1;
      for (int64_t d : t.dims())
        count *= d;
      summary.floatWeightBytes +=
          count * static_cast<int64_t>(kiln_dtype_size(t.data_type()));
    }
    // A MaxPool between two quantized tensors gives its output its input's
    // parameters (as ONNX Runtime's quantizer does): the pool then runs on
    // the 8-bit tensor itself.
    Ranges shared = ranges;
    for (const onnx::NodeProto &n : g.node())
      if (n.op_type() == "MaxPool" && n.output_size() == 1 &&
          shared.count(n.input(0)) && shared.count(n.output(0)))
        shared[n.output(0)] = shared[n.input(0)];
    auto rangeOf = [&](const std::string &t) -> std::pair<float, int64_t> {
      auto it = shared.find(t);
      return it == shared.end() ? std::make_pair(1.0f, int64_t(0))
                                : activationParams(it->second);
    };
    std::map<int, const Plan *> convs;
    for (const Plan &p : plans)
      convs[p.node] = &p;
    std::vector<onnx::TensorProto> inits;
    std::vector<onnx::NodeProto> nodes;
    // Every tensor a plan quantizes (a convolution's input or output) gets
    // one QuantizeLinear / DequantizeLinear pair where it is made, which all
    // its readers share (as ONNX Runtime's quantizer writes it): the writer's
    // output is renamed, the pair writes the old name. A graph input's pair
    // comes first, and its readers read the pair's output.
    std::map<std::string, int> producerOf;
    for (int i = 0; i < g.node_size(); ++i)
      for (const std::string &o : g.node(i).output())
        producerOf[o] = i;
    std::map<int, std::vector<std::string>> pairsAfter;
    std::map<std::string, std::string> inputPairs;
    auto emitPair = [&](const std::string &t, const std::string &from,
                        const std::string &to) {
      auto [scale, zp] = rangeOf(t);
      std::string ts = t + "_kiln_scale", tz = t + "_kiln_zero_point";
      inits.push_back(
          rawTensor<float>(ts, onnx::TensorProto::FLOAT, {scale}, {}));
      inits.push_back(rawTensor<uint8_t>(tz, onnx::TensorProto::UINT8,
                                         {static_cast<uint8_t>(zp)}, {}));
      nodes.push_back(
          qdqNode("QuantizeLinear", from, ts, tz, t + "_kiln_quantized"));
      nodes.push_back(
          qdqNode("DequantizeLinear", t + "_kiln_quantized", ts, tz, to));
    };
    // A weight or bias as an initializer of integers per output channel
    // with its scales and zero points, and the DequantizeLinear (along
    // `axis`) that gives it back as floats: returns that one's output.
    auto perChannel = [&](const std::string &base, onnx::TensorProto values,
                          onnx::TensorProto zeros,
                          const std::vector<float> &scales, int axis) {
      std::string scale = base + "_kiln_scale",
                  out = base + "_kiln_dequantized";
      nodes.push_back(qdqNode("DequantizeLinear", values.name(), scale,
                              zeros.name(), out, axis));
      inits.push_back(rawTensor<float>(scale, onnx::TensorProto::FLOAT, scales,
                                       {(int64_t)scales.size()}));
      inits.push_back(std::move(values));
      inits.push_back(std::move(zeros));
      return out;
    };
    for (const std::string &t : calibrated(plans)) {
      if (auto it = producerOf.find(t); it != producerOf.end()) {
        pairsAfter[it->second].push_back(t);
      } else {
        inputPairs[t] = t + "_kiln_dequantized";
        emitPair(t, t, inputPairs[t]);
      }
    }
    std::set<std::string> replaced; // float weights and biases
    // A MatMul's bias Add: its input that reads the int32 bias instead.
    std::map<int, std::pair<int, std::string>> biasOf;
    for (int i = 0; i < g.node_size(); ++i) {
      onnx::NodeProto node = g.node(i);
      for (int j = 0; j < node.input_size(); ++j)
        if (auto it = inputPairs.find(node.input(j)); it != inputPairs.end())
          node.set_input(j, it->second);
      if (auto it = biasOf.find(i); it != biasOf.end())
        node.set_input(it->second.first, it->second.second);
      if (auto it = convs.find(i); it != convs.end()) {
        const Plan &p = *it->second;
        QuantizedLayer layer;
        layer.node = nodeName(g, i);
        layer.output = p.out;
        auto [sx, zx] = rangeOf(p.x);
        layer.inputScale = sx;
        layer.inputZeroPoint = zx;
        std::tie(layer.outputScale, layer.outputZeroPoint) = rangeOf(p.out);
        // Weights: symmetric per output channel (axis 0: [F, ...]; a
        // MatMul's, axis 1: [K, N]).
        const onnx::TensorProto *w = initializer(g, node.input(p.weightInput));
        std::vector<float> wf = onnx::ParseData<float>(w);
        int axis = p.channelAxis;
        int64_t f = w->dims(axis), k = wf.size() / f;
        auto at = [&](int64_t o, int64_t j) {
          return axis == 1 ? j * f + o : o * k + j;
        };
        std::vector<float> sw(f);
        std::vector<int8_t> wq(wf.size());
        for (int64_t o = 0; o < f; ++o) {
          float most = 0;
          for (int64_t j = 0; j < k; ++j)
            most = std::max(most, std::fabs(wf[at(o, j)]));
          // An embedding table is only dequantized as it is gathered,
          // never summed by vpmaddubsw: all 8 bits.
          float top =
              static_cast<float>(p.weightsOnly ? 127 : options.weightMax);
          sw[o] = most > 0 ? most / top : 1.0f;
          for (int64_t j = 0; j < k; ++j)
            wq[at(o, j)] = static_cast<int8_t>(
                std::clamp(std::nearbyint(wf[at(o, j)] / sw[o]), -top, top));
        }
        layer.minWeightScale = *std::min_element(sw.begin(), sw.end());
        layer.maxWeightScale = *std::max_element(sw.begin(), sw.end());
        std::string wn = node.input(p.weightInput);
        std::vector<int64_t> wdims(w->dims().begin(), w->dims().end());
        replaced.insert(wn);
        node.set_input(
            p.weightInput,
            perChannel(wn,
                       rawTensor<int8_t>(wn + "_kiln_int8",
                                         onnx::TensorProto::INT8, wq, wdims),
                       rawTensor<int8_t>(wn + "_kiln_zero_point",
                                         onnx::TensorProto::INT8,
                                         std::vector<int8_t>(f, 0), {f}),
                       sw, axis));

        // The bias: int32 at scale x_scale * w_scale (a float
        // convolution keeps its float bias). A MatMul's is its Add's.
        std::string bn;
        if (p.matmul && p.biasInput >= 0)
          bn = g.node(p.producer).input(p.biasInput);
        else if (!p.matmul && !p.weightsOnly && node.input_size() > 2)
          bn = node.input(2);
        if (!bn.empty()) {
          std::vector<float> bf = onnx::ParseData<float>(initializer(g, bn));
          std::vector<float> sb(f);
          std::vector<int32_t> bq(f);
          for (int64_t o = 0; o < f; ++o) {
            sb[o] = sx * sw[o];
            double q = std::nearbyint(static_cast<double>(bf[o]) / sb[o]);
            bq[o] = static_cast<int32_t>(
                std::clamp(q, -2147483647.0, 2147483647.0));
          }
          replaced.insert(bn);
          std::string dequantized =
              perChannel(bn,
                         rawTensor<int32_t>(bn + "_kiln_int32",
                                            onnx::TensorProto::INT32, bq, {f}),
                         rawTensor<int32_t>(bn + "_kiln_zero_point",
                                            onnx::TensorProto::INT32,
                                            std::vector<int32_t>(f, 0), {f}),
                         sb, 0);
          if (p.matmul)
            biasOf[p.producer] = {p.biasInput, dequantized};
          else
            node.set_input(2, dequantized);
        }
        if (!p.weightsOnly)
          layers.push_back(layer);
      }
      for (const std::string &t : pairsAfter[i])
        for (int o = 0; o < node.output_size(); ++o)
          if (node.output(o) == t)
            node.set_output(o, t + "_kiln_float");
      nodes.push_back(node);
      for (const std::string &t : pairsAfter[i])
        emitPair(t, t + "_kiln_float", t);
    }
    g.clear_node();
    for (onnx::NodeProto &n : nodes)
      *g.add_node() = n;
    // The float weights go when no node reads them any more.
    std::set<std::string> read;
    for (const onnx::NodeProto &n : g.node())
      for (const std::string &in : n.input())
        read.insert(in);
    std::vector<onnx::TensorProto> kept;
    for (const onnx::TensorProto &t : g.initializer())
      if (!replaced.count(t.name()) || read.count(t.name()))
        kept.push_back(t);
    g.clear_initializer();
    for (onnx::TensorProto &t : kept)
      *g.add_initializer() = t;
    for (onnx::TensorProto &t : inits)
      *g.add_initializer() = t;
    if (!save(model, outPath, error))
      return false;
    if (reportPath.empty())
      return true;
    std::vector<std::string> outs;
    for (const QuantizedLayer &layer : layers)
      outs.push_back(layer.output);
    addOutputs(g, outs);
    return save(model, reportPath, error);
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
}

/// Reads a NumPy .npy file (format 1 to 3, C order, little-endian): its
/// ONNX element type, shape and bytes. False, with `error`, otherwise.
static bool readNpy(const std::filesystem::path &file, int32_t &dtype,
                    std::vector<int64_t> &dims, std::string &bytes,
                    std::string &error) {
  auto bad = [&](const std::string &why) {
    error = "--calibrate: '" + file.string() + "' is no .npy array Kiln " +
            "reads (" + why + ")";
    return false;
  };
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return bad("cannot open it");
  std::string data((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0)
    return bad("no NumPy magic");
  int major = static_cast<unsigned char>(data[6]);
  size_t lenBytes = major == 1 ? 2 : 4, len = 0;
  for (size_t i = 0; i < lenBytes; ++i)
    len |= static_cast<size_t>(static_cast<unsigned char>(data[8 + i]))
           << (8 * i);
  size_t start = 8 + lenBytes;
  if (major < 1 || major > 3 || data.size() < start + len)
    return bad("a header it does not know");
  std::string header = data.substr(start, len);
  auto value = [&](const std::string &key) -> std::string {
    size_t at = header.find("'" + key + "'");
    if (at == std::string::npos)
      return "";
    at = header.find(':', at);
    size_t endAt = header.find(key == "shape" ? ')' : ',', at);
    return at == std::string::npos || endAt == std::string::npos
               ? ""
               : header.substr(at + 1, endAt - at);
  };
  std::string descr = value("descr"), order = value("fortran_order"),
              shape = value("shape");
  if (order.find("False") == std::string::npos)
    return bad("Fortran order");
  static const std::pair<const char *, std::pair<int32_t, size_t>> types[] = {
      {"'<f4'", {onnx::TensorProto::FLOAT, 4}},
      {"'<f8'", {onnx::TensorProto::DOUBLE, 8}},
      {"'<f2'", {onnx::TensorProto::FLOAT16, 2}},
      {"'<i8'", {onnx::TensorProto::INT64, 8}},
      {"'<i4'", {onnx::TensorProto::INT32, 4}},
      {"'|i1'", {onnx::TensorProto::INT8, 1}},
      {"'|u1'", {onnx::TensorProto::UINT8, 1}},
      {"'|b1'", {onnx::TensorProto::BOOL, 1}}};
  size_t itemSize = 0;
  for (const auto &[name, type] : types)
    if (descr.find(name) != std::string::npos)
      std::tie(dtype, itemSize) = type;
  if (!itemSize)
    return bad("element type " + descr);
  dims.clear();
  int64_t count = 1;
  for (size_t i = shape.find('('); i != std::string::npos && i < shape.size();
       ++i) {
    if (!std::isdigit(static_cast<unsigned char>(shape[i])))
      continue;
    size_t used = 0;
    dims.push_back(std::stoll(shape.substr(i), &used));
    count *= dims.back();
    i += used - 1;
  }
  if (data.size() - start - len != static_cast<size_t>(count) * itemSize)
    return bad("its size does not match its shape");
  bytes = data.substr(start + len);
  return true;
}

bool kiln::readCalibrationSamples(
    const std::string &dir, const std::vector<std::vector<int64_t>> &shapes,
    const std::vector<int32_t> &dtypes, std::vector<Sample> &samples,
    std::string &error) {
  namespace fs = std::filesystem;
  try {
    if (!fs::is_directory(dir)) {
      error = "--calibrate: '" + dir + "' is not a directory";
      return false;
    }
    // A sample: a directory of input_<i>.pb (or .npy) files, or, for a
    // model of one input, one .npy file of DIR.
    auto isSet = [](const fs::path &d) {
      return fs::exists(d / "input_0.pb") || fs::exists(d / "input_0.npy");
    };
    std::vector<fs::path> sets, files;
    if (isSet(dir))
      sets.push_back(dir);
    std::vector<fs::path> subdirs;
    for (const auto &entry : fs::directory_iterator(dir)) {
      if (entry.is_directory() && isSet(entry.path()))
        subdirs.push_back(entry.path());
      if (entry.is_regular_file() && entry.path().extension() == ".npy")
        files.push_back(entry.path());
    }
    std::sort(subdirs.begin(), subdirs.end());
    sets.insert(sets.end(), subdirs.begin(), subdirs.end());
    std::sort(files.begin(), files.end());
    if (!sets.empty() || shapes.size() != 1)
      files.clear();
    if (sets.empty() && files.empty()) {
      error = "--calibrate: '" + dir +
              "' holds no input_0.pb or input_0.npy, neither itself nor in a "
              "subdirectory" +
              (shapes.size() == 1 ? ", and no .npy file" : "");
      return false;
    }
    // One tensor: type and shape checked against input `i`.
    auto read = [&](const fs::path &file, size_t i, std::string &bytes) {
      auto show = [](const std::vector<int64_t> &d) {
        std::string s = "[";
        for (size_t j = 0; j < d.size(); ++j)
          s += (j ? "x" : "") + std::to_string(d[j]);
        return s + "]";
      };
      int32_t dtype = 0;
      std::vector<int64_t> dims;
      onnx::TensorProto t;
      if (file.extension() == ".npy") {
        if (!readNpy(file, dtype, dims, bytes, error))
          return false;
      } else {
        std::ifstream in(file, std::ios::binary);
        if (!in || !t.ParseFromIstream(&in)) {
          error = "--calibrate: cannot read '" + file.string() +
                  "' as an ONNX TensorProto";
          return false;
        }
        dtype = t.data_type();
        dims.assign(t.dims().begin(), t.dims().end());
      }
      if (dtype != dtypes[i] || dims != shapes[i]) {
        error = "--calibrate: '" + file.string() + "' holds a tensor of " +
                "type " + std::to_string(dtype) + " and shape " + show(dims) +
                "; the model's input " + std::to_string(i) + " is type " +
                std::to_string(dtypes[i]) + " and shape " + show(shapes[i]);
        return false;
      }
      if (file.extension() == ".npy")
        return true;
      auto pack = [&](const auto &values) {
        bytes.assign(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(values[0]));
      };
      if (t.data_type() == onnx::TensorProto::FLOAT)
        pack(onnx::ParseData<float>(&t));
      else if (t.data_type() == onnx::TensorProto::INT64)
        pack(onnx::ParseData<int64_t>(&t));
      else if (t.data_type() == onnx::TensorProto::INT32)
        pack(onnx::ParseData<int32_t>(&t));
      else if (t.has_raw_data())
        bytes = t.raw_data();
      else {
        error = "--calibrate: '" + file.string() +
                "': only float, int32 and int64 tensors or raw_data";
        return false;
      }
      return true;
    };
    for (const fs::path &file : files) {
      Sample sample(1);
      if (!read(file, 0, sample[0]))
        return false;
      samples.push_back(std::move(sample));
    }
    for (const fs::path &set : sets) {
      Sample sample;
      for (size_t i = 0; i < shapes.size(); ++i) {
        std::string name = "input_" + std::to_string(i);
        fs::path file = set / (name + ".pb");
        if (!fs::exists(file) && fs::exists(set / (name + ".npy")))
          file = set / (name + ".npy");
        std::string bytes;
        if (!read(file, i, bytes))
          return false;
        sample.push_back(std::move(bytes));
      }
      samples.push_back(std::move(sample));
    }
    return true;
  } catch (const std::exception &e) {
    error = std::string("--calibrate: ") + e.what();
    return false;
  }
}
