//===- Sequences.cpp - Sequences and optionals as static tensors ----------===//
//
// This file implements the rewrite described in Sequences.h. It walks each
// graph in order with a scope that maps every sequence or optional value to
// an Entry: the names of the tensors it holds. Ops on sequences only edit
// entries and emit the few tensor nodes their results need; every other node
// is copied, with an optional tensor's name put in where it is read.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Sequences.h"
#include "compiler/import/ShapeFolding.h"
#include "runtime/include/kiln/runtime.h"

#include "onnx/defs/tensor_proto_util.h"
#include "onnx/onnx-data_pb.h"
#include "compiler/import/ProtoHelpers.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <filesystem>
#include <fstream>
#include <set>

using namespace kiln;

namespace {

/// A sequence or optional value: the tensors it holds.
struct Entry {
  bool sequence = false;
  bool optional = false;
  bool present = true;
  int32_t dtype = 0;
  std::vector<std::string> tensors;
  /// An optional whose presence is decided at run time (an If's branches
  /// disagree): the bool scalar that says it; `tensors` hold the value then.
  std::string flag;
  /// An empty optional's declared type (Optional's `type`), for the zeros
  /// that stand in for its value where a branch needs some.
  onnx::TypeProto type;

  int32_t kind() const {
    return (sequence ? KILN_VALUE_SEQUENCE : 0) |
           (optional ? KILN_VALUE_OPTIONAL : 0);
  }
};

using Scope = std::map<std::string, Entry>;
using Nodes = std::vector<onnx::NodeProto>;

const std::set<std::string> kSequenceOps = {
    "SequenceConstruct", "SequenceEmpty",      "SequenceInsert",
    "SequenceErase",     "SequenceAt",         "SequenceLength",
    "SplitToSequence",   "ConcatFromSequence", "SequenceMap",
    "Optional",          "OptionalHasElement", "OptionalGetElement"};

int64_t intAttribute(const onnx::NodeProto &node, const std::string &name,
                     int64_t otherwise) {
  const onnx::AttributeProto *a = findAttribute(node, name);
  return a ? a->i() : otherwise;
}

/// The element type a sequence, optional or tensor type declares, or 0.
int32_t declaredDtype(const onnx::TypeProto &type) {
  if (type.has_tensor_type())
    return type.tensor_type().elem_type();
  if (type.has_sequence_type())
    return declaredDtype(type.sequence_type().elem_type());
  if (type.has_optional_type())
    return declaredDtype(type.optional_type().elem_type());
  return 0;
}

/// Bytes per element of a numeric ONNX type, 0 for others.
size_t elementSize(int32_t dtype) {
  switch (dtype) {
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
    return 8;
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
    return 4;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
    return 2;
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL:
    return 1;
  default:
    return 0;
  }
}

bool readFile(const std::string &path, std::string &bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  bytes.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  return !in.bad();
}

std::vector<int64_t> dimsOf(const onnx::TensorProto &t) {
  return std::vector<int64_t>(t.dims().begin(), t.dims().end());
}

/// The first element of a bool tensor, false if it has none.
bool firstBool(const onnx::TensorProto &t) {
  if (t.has_raw_data())
    return !t.raw_data().empty() && t.raw_data()[0] != 0;
  return t.int32_data_size() > 0 && t.int32_data(0) != 0;
}

bool isStatic(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return false;
  for (const auto &d : type.tensor_type().shape().dim())
    if (!d.has_dim_value() || d.dim_value() < 0)
      return false;
  return true;
}

class Expander {
public:
  Expander(onnx::ModelProto &model, std::string &error)
      : model(model), error(error) {
    for (const auto &o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx")
        opset = o.version();
  }

  bool run(const std::vector<InputShapePin> &pins, ModelLayout &layout);

private:
  bool fail(const onnx::NodeProto &node, const std::string &message) {
    error = describeNodeProto(node) + ": " + message;
    return false;
  }
  std::string fresh(const std::string &base) {
    return base + "__kiln" + std::to_string(counter++);
  }

  bool process(const Nodes &nodes, Scope &scope, Nodes &out);
  bool processNode(const onnx::NodeProto &node, Scope &scope, Nodes &out);
  bool expandIf(const onnx::NodeProto &node, Scope &scope, Nodes &out);
  bool unrollLoop(const onnx::NodeProto &node, Scope &scope, Nodes &out);
  bool unrollMap(const onnx::NodeProto &node, Scope &scope, Nodes &out);
  /// SplitToSequence as a Split (and Squeezes) into the sequence's tensors.
  bool splitToSequence(const onnx::NodeProto &node, Scope &scope, Nodes &out);
  /// The nodes of `body`, with every name it defines at its top level
  /// renamed apart (`renamed` gets the map) and its initializers as
  /// Constant nodes.
  Nodes instantiate(const onnx::GraphProto &body,
                    std::map<std::string, std::string> &renamed);

  /// The tensor a node input names: the name itself, or the tensor of an
  /// optional that holds one. Empty, with `error` set, for a sequence or an
  /// empty optional.
  std::string tensorInput(const onnx::NodeProto &node, int index,
                          Scope &scope);
  /// The sequence a node input names, or null with `error` set.
  Entry *sequenceInput(const onnx::NodeProto &node, int index, Scope &scope);
  /// A compile-time position in [0, size) (or [0, size] to insert), from
  /// node input `index`, `otherwise` where it is omitted.
  bool position(const onnx::NodeProto &node, int index, int64_t size,
                bool insert, int64_t otherwise, int64_t &pos);
  bool constantInts(const std::string &name, std::vector<int64_t> &values);
  /// True if every tensor of `names` has the same known shape.
  bool sameShapes(const std::vector<std::string> &names) {
    for (const std::string &n : names)
      if (!shapes.count(n) || shapes[n] != shapes[names[0]])
        return false;
    return true;
  }

  void emitIdentity(Nodes &out, const std::string &from,
                    const std::string &to);
  void emitConstant(Nodes &out, const std::string &name,
                    const onnx::TensorProto &value);
  void emitInts(Nodes &out, const std::string &name,
                const std::vector<int64_t> &values, bool scalar);
  void emitBool(Nodes &out, const std::string &name, bool value);
  /// Unsqueeze (or Squeeze) `from` at `axis` into `to`, in the model's opset.
  void emitSqueeze(Nodes &out, const char *op, const std::string &from,
                   int64_t axis, const std::string &to);
  void emitConcat(Nodes &out, const std::vector<std::string> &from,
                  int64_t axis, const std::string &to);
  /// `from` stacked along a new axis `axis` (Unsqueeze each, Concat).
  void emitStack(Nodes &out, const std::vector<std::string> &from,
                 int64_t axis, const std::string &to);

  onnx::ModelProto &model;
  std::string &error;
  int64_t opset = 17;
  int counter = 0;
  std::map<std::string, onnx::TensorProto> constants;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::map<std::string, int32_t> dtypes;
};

} // namespace

//===----------------------------------------------------------------------===//
// Emitting nodes
//===----------------------------------------------------------------------===//

void Expander::emitIdentity(Nodes &out, const std::string &from,
                            const std::string &to) {
  out.push_back(makeNode("Identity", {from}, to));
}

void Expander::emitConstant(Nodes &out, const std::string &name,
                            const onnx::TensorProto &value) {
  constants[name] = value;
  out.push_back(makeConstant(name, value));
}

void Expander::emitInts(Nodes &out, const std::string &name,
                        const std::vector<int64_t> &values, bool scalar) {
  emitConstant(out, name,
               int64Tensor(values, scalar ? std::vector<int64_t>{}
                                          : std::vector<int64_t>{
                                                (int64_t)values.size()}));
}

void Expander::emitBool(Nodes &out, const std::string &name, bool value) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::BOOL);
  t.add_int32_data(value ? 1 : 0);
  emitConstant(out, name, t);
}

void Expander::emitSqueeze(Nodes &out, const char *op, const std::string &from,
                           int64_t axis, const std::string &to) {
  onnx::NodeProto n = makeNode(op, {from}, to);
  if (opset >= 13) {
    std::string axes = fresh(to + "_axes");
    emitInts(out, axes, {axis}, false);
    n.add_input(axes);
  } else {
    onnx::AttributeProto *a = n.add_attribute();
    a->set_name("axes");
    a->set_type(onnx::AttributeProto::INTS);
    a->add_ints(axis);
  }
  out.push_back(std::move(n));
}

void Expander::emitConcat(Nodes &out, const std::vector<std::string> &from,
                          int64_t axis, const std::string &to) {
  onnx::NodeProto n = makeNode("Concat", from, to);
  setIntAttribute(n, "axis", axis);
  out.push_back(std::move(n));
}

void Expander::emitStack(Nodes &out, const std::vector<std::string> &from,
                         int64_t axis, const std::string &to) {
  std::vector<std::string> parts;
  for (const std::string &t : from) {
    parts.push_back(fresh(to + "_part"));
    emitSqueeze(out, "Unsqueeze", t, axis, parts.back());
  }
  emitConcat(out, parts, axis, to);
}

//===----------------------------------------------------------------------===//
// Reading inputs
//===----------------------------------------------------------------------===//

bool Expander::constantInts(const std::string &name,
                            std::vector<int64_t> &values) {
  auto it = constants.find(name);
  if (it == constants.end())
    return false;
  const onnx::TensorProto &t = it->second;
  if (t.data_type() == onnx::TensorProto::INT64)
    values = onnx::ParseData<int64_t>(&t);
  else if (t.data_type() == onnx::TensorProto::INT32) {
    std::vector<int32_t> v = onnx::ParseData<int32_t>(&t);
    values.assign(v.begin(), v.end());
  } else
    return false;
  return true;
}

std::string Expander::tensorInput(const onnx::NodeProto &node, int index,
                                  Scope &scope) {
  const std::string &name = node.input(index);
  auto it = scope.find(name);
  if (it == scope.end())
    return name;
  const Entry &e = it->second;
  if (e.optional && !e.sequence && e.present)
    return e.tensors[0];
  fail(node, "input '" + name + "' is " +
                 (e.sequence ? std::string("a sequence")
                             : std::string("an optional that holds nothing")) +
                 ", where " + node.op_type() + " takes a tensor");
  return "";
}

Entry *Expander::sequenceInput(const onnx::NodeProto &node, int index,
                               Scope &scope) {
  if (index >= node.input_size() || node.input(index).empty()) {
    fail(node, "input " + std::to_string(index) + " is missing");
    return nullptr;
  }
  auto it = scope.find(node.input(index));
  if (it == scope.end() || !it->second.sequence || it->second.optional) {
    fail(node, "input '" + node.input(index) + "' is not a sequence");
    return nullptr;
  }
  return &it->second;
}

bool Expander::position(const onnx::NodeProto &node, int index, int64_t size,
                        bool insert, int64_t otherwise, int64_t &pos) {
  if (index >= node.input_size() || node.input(index).empty()) {
    pos = otherwise;
  } else {
    std::vector<int64_t> v;
    if (!constantInts(node.input(index), v) || v.size() != 1)
      return fail(node, "position '" + node.input(index) +
                            "' is computed at run time; Kiln needs sequence "
                            "positions known at compile time (or, for "
                            "SequenceAt, elements of one shape)");
    pos = v[0] < 0 ? v[0] + size : v[0];
  }
  if (pos < 0 || pos > size || (!insert && pos == size))
    return fail(node, "position " + std::to_string(pos) +
                          " is outside the sequence of length " +
                          std::to_string(size));
  return true;
}

//===----------------------------------------------------------------------===//
// The walk
//===----------------------------------------------------------------------===//

bool Expander::process(const Nodes &nodes, Scope &scope, Nodes &out) {
  for (const onnx::NodeProto &node : nodes)
    if (!processNode(node, scope, out))
      return false;
  return true;
}

/// True if `graph` (or a graph inside it) reads a name in `scope`.
static bool readsScope(const onnx::GraphProto &graph, const Scope &scope) {
  for (const auto &n : graph.node()) {
    for (const std::string &in : n.input())
      if (scope.count(in))
        return true;
    for (const auto &a : n.attribute()) {
      if (a.has_g() && readsScope(a.g(), scope))
        return true;
      for (const auto &g : a.graphs())
        if (readsScope(g, scope))
          return true;
    }
  }
  return false;
}

bool Expander::processNode(const onnx::NodeProto &node, Scope &scope,
                           Nodes &out) {
  const std::string &op = node.op_type();
  bool isDefault = node.domain().empty() || node.domain() == "ai.onnx";
  if (node.op_type() == "Constant" && isDefault) {
    const onnx::AttributeProto *v = findAttribute(node, "value");
    const onnx::AttributeProto *vi = findAttribute(node, "value_int");
    const onnx::AttributeProto *vis = findAttribute(node, "value_ints");
    onnx::TensorProto t;
    if (v)
      t = v->t();
    else if (vi) {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_int64_data(vi->i());
    } else if (vis) {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_dims(vis->ints_size());
      for (int64_t x : vis->ints())
        t.add_int64_data(x);
    }
    if (v || vi || vis)
      constants[node.output(0)] = t;
    out.push_back(node);
    return true;
  }
  auto output = [&](int i) -> std::string {
    return i < node.output_size() ? node.output(i) : std::string();
  };

  if (isDefault && op == "SequenceEmpty") {
    Entry e;
    e.sequence = true;
    e.dtype = (int32_t)intAttribute(node, "dtype", onnx::TensorProto::FLOAT);
    scope[output(0)] = e;
    return true;
  }
  if (isDefault && op == "SequenceConstruct") {
    Entry e;
    e.sequence = true;
    for (int i = 0; i < node.input_size(); ++i) {
      std::string t = tensorInput(node, i, scope);
      if (t.empty())
        return false;
      e.tensors.push_back(t);
    }
    if (!e.tensors.empty() && dtypes.count(e.tensors[0]))
      e.dtype = dtypes[e.tensors[0]];
    scope[output(0)] = e;
    return true;
  }
  if (isDefault && op == "SequenceAt") {
    Entry *s = sequenceInput(node, 0, scope);
    if (!s)
      return false;
    if (node.input_size() < 2 || node.input(1).empty())
      return fail(node, "the position is missing");
    std::vector<int64_t> known;
    if (!constantInts(node.input(1), known) && !s->tensors.empty() &&
        sameShapes(s->tensors)) {
      // A run-time position into elements of one shape: Gather from their
      // stack (negative positions count from the back, as in Gather).
      std::string stack = fresh(output(0) + "_stack");
      emitStack(out, s->tensors, 0, stack);
      out.push_back(makeNode("Gather", {stack, node.input(1)}, output(0)));
      return true;
    }
    int64_t pos;
    if (!position(node, 1, s->tensors.size(), false, 0, pos))
      return false;
    emitIdentity(out, s->tensors[pos], output(0));
    return true;
  }
  if (isDefault && op == "SequenceInsert") {
    Entry *s = sequenceInput(node, 0, scope);
    if (!s)
      return false;
    Entry e = *s;
    int64_t pos;
    if (!position(node, 2, e.tensors.size(), true, e.tensors.size(), pos))
      return false;
    std::string t = tensorInput(node, 1, scope);
    if (t.empty())
      return false;
    e.tensors.insert(e.tensors.begin() + pos, t);
    if (!e.dtype && dtypes.count(t))
      e.dtype = dtypes[t];
    scope[output(0)] = e;
    return true;
  }
  if (isDefault && op == "SequenceErase") {
    Entry *s = sequenceInput(node, 0, scope);
    if (!s)
      return false;
    Entry e = *s;
    int64_t pos;
    if (!position(node, 1, e.tensors.size(), false,
                  (int64_t)e.tensors.size() - 1, pos))
      return false;
    e.tensors.erase(e.tensors.begin() + pos);
    scope[output(0)] = e;
    return true;
  }
  if (isDefault && op == "SequenceLength") {
    Entry *s = sequenceInput(node, 0, scope);
    if (!s)
      return false;
    emitInts(out, output(0), {(int64_t)s->tensors.size()}, true);
    return true;
  }
  if (isDefault && op == "ConcatFromSequence") {
    Entry *s = sequenceInput(node, 0, scope);
    if (!s)
      return false;
    if (s->tensors.empty())
      return fail(node, "the sequence is empty: there is nothing to concatenate");
    int64_t axis = intAttribute(node, "axis", 0);
    if (intAttribute(node, "new_axis", 0))
      emitStack(out, s->tensors, axis, output(0));
    else
      emitConcat(out, s->tensors, axis, output(0));
    return true;
  }
  if (isDefault && op == "SplitToSequence")
    return splitToSequence(node, scope, out);
  if (isDefault && op == "SequenceMap")
    return unrollMap(node, scope, out);
  if (isDefault && op == "Optional") {
    Entry e;
    e.optional = true;
    if (node.input_size() > 0 && !node.input(0).empty()) {
      auto it = scope.find(node.input(0));
      if (it != scope.end()) {
        if (it->second.optional)
          return fail(node, "an optional of an optional is not a valid value");
        e = it->second;
        e.optional = true;
      } else {
        e.tensors.push_back(node.input(0));
        e.dtype = dtypes.count(node.input(0)) ? dtypes[node.input(0)] : 0;
      }
    } else {
      const onnx::AttributeProto *type = findAttribute(node, "type");
      if (!type)
        return fail(node, "an Optional without input needs its type attribute");
      e.present = false;
      e.sequence = type->tp().has_sequence_type();
      e.dtype = declaredDtype(type->tp());
      e.type = type->tp();
    }
    scope[output(0)] = e;
    return true;
  }
  if (isDefault && op == "OptionalHasElement") {
    bool present = false;
    if (node.input_size() > 0 && !node.input(0).empty()) {
      auto it = scope.find(node.input(0));
      if (it != scope.end() && !it->second.flag.empty()) {
        emitIdentity(out, it->second.flag, output(0));
        return true;
      }
      present = it == scope.end() || it->second.present;
    }
    emitBool(out, output(0), present);
    return true;
  }
  if (isDefault && op == "OptionalGetElement") {
    auto it = scope.find(node.input(0));
    if (it == scope.end()) {
      emitIdentity(out, node.input(0), output(0));
      return true;
    }
    if (!it->second.present)
      return fail(node, "optional '" + node.input(0) +
                            "' holds no value (Kiln decides that at compile "
                            "time: see --input-shape)");
    if (!it->second.flag.empty())
      return fail(node, "whether optional '" + node.input(0) +
                            "' holds a value is decided at run time (by an "
                            "If); Kiln does not take its value then");
    if (!it->second.sequence) {
      emitIdentity(out, it->second.tensors[0], output(0));
      return true;
    }
    Entry e = it->second;
    e.optional = false;
    scope[output(0)] = e;
    return true;
  }
  if (isDefault && op == "Identity" && scope.count(node.input(0))) {
    scope[output(0)] = scope[node.input(0)];
    return true;
  }
  if (isDefault && op == "If")
    return expandIf(node, scope, out);
  if (isDefault && op == "Loop") {
    bool carriesEntries = false;
    for (int i = 2; i < node.input_size(); ++i)
      carriesEntries |= scope.count(node.input(i)) > 0;
    const onnx::AttributeProto *body = findAttribute(node, "body");
    if (carriesEntries || (body && readsScope(body->g(), scope)))
      return unrollLoop(node, scope, out);
  }

  // Any other node: optionals that hold a tensor are read as that tensor;
  // a sequence here is an op Kiln cannot take one to.
  onnx::NodeProto copy = node;
  for (int i = 0; i < node.input_size(); ++i) {
    if (!scope.count(node.input(i)))
      continue;
    std::string t = tensorInput(node, i, scope);
    if (t.empty())
      return false;
    copy.set_input(i, t);
  }
  for (const auto &a : node.attribute())
    if ((a.has_g() && readsScope(a.g(), scope)))
      return fail(node, "its graph '" + a.name() +
                            "' reads a sequence or optional from outside, "
                            "which Kiln does not support for " + op);
  out.push_back(std::move(copy));
  return true;
}

bool Expander::splitToSequence(const onnx::NodeProto &node, Scope &scope,
                               Nodes &out) {
  const std::string &result = node.output(0);
  std::string input = tensorInput(node, 0, scope);
  if (input.empty())
    return false;
  auto shape = shapes.find(input);
  if (shape == shapes.end())
    return fail(node, "the shape of '" + input +
                          "' is not known before the sequence is built");
  int64_t rank = shape->second.size();
  int64_t axis = intAttribute(node, "axis", 0);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return fail(node, "axis is outside the input's rank " +
                          std::to_string(rank));
  int64_t length = shape->second[axis];
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (node.input_size() > 1 && !node.input(1).empty()) {
    std::vector<int64_t> split;
    if (!constantInts(node.input(1), split))
      return fail(node, "split '" + node.input(1) +
                            "' is computed at run time; Kiln needs it "
                            "known at compile time");
    bool scalar = constants[node.input(1)].dims_size() == 0;
    if (scalar) {
      if (split.size() != 1 || split[0] <= 0)
        return fail(node, "split must be positive");
      for (int64_t at = 0; at < length; at += split[0])
        sizes.push_back(std::min(split[0], length - at));
    } else {
      sizes = split;
    }
    int64_t total = 0;
    for (int64_t s : sizes)
      total += s;
    if (total != length)
      return fail(node, "the split sizes add up to " +
                            std::to_string(total) + ", not the axis length " +
                            std::to_string(length));
  } else {
    sizes.assign(length, 1);
    squeeze = intAttribute(node, "keepdims", 1) == 0;
  }
  Entry e;
  e.sequence = true;
  e.dtype = dtypes.count(input) ? dtypes[input] : 0;
  if (!sizes.empty()) {
    onnx::NodeProto split = makeNode("Split", {input}, result);
    split.clear_output();
    setIntAttribute(split, "axis", axis);
    if (opset >= 13) {
      std::string s = fresh(result + "_sizes");
      emitInts(out, s, sizes, false);
      split.add_input(s);
    } else {
      onnx::AttributeProto *b = split.add_attribute();
      b->set_name("split");
      b->set_type(onnx::AttributeProto::INTS);
      for (int64_t s : sizes)
        b->add_ints(s);
    }
    for (size_t i = 0; i < sizes.size(); ++i)
      split.add_output(fresh(result + "_piece"));
    Nodes squeezes;
    for (const std::string &piece : split.output()) {
      if (!squeeze) {
        e.tensors.push_back(piece);
        continue;
      }
      std::string s = fresh(result + "_squeezed");
      emitSqueeze(squeezes, "Squeeze", piece, axis, s);
      e.tensors.push_back(s);
    }
    out.push_back(std::move(split));
    for (auto &n : squeezes)
      out.push_back(std::move(n));
  }
  scope[result] = e;
  return true;
}

//===----------------------------------------------------------------------===//
// Subgraphs: If, Loop, SequenceMap
//===----------------------------------------------------------------------===//

/// Renames the names in `map` wherever `graph` reads them.
static void renameReads(onnx::GraphProto &graph,
                        const std::map<std::string, std::string> &map) {
  for (auto &n : *graph.mutable_node()) {
    for (int i = 0; i < n.input_size(); ++i) {
      auto it = map.find(n.input(i));
      if (it != map.end())
        n.set_input(i, it->second);
    }
    for (auto &a : *n.mutable_attribute()) {
      if (a.has_g())
        renameReads(*a.mutable_g(), map);
      for (auto &g : *a.mutable_graphs())
        renameReads(g, map);
    }
  }
}

Nodes Expander::instantiate(const onnx::GraphProto &body,
                            std::map<std::string, std::string> &renamed) {
  auto rename = [&](const std::string &name) {
    if (!name.empty() && !renamed.count(name))
      renamed[name] = fresh(name);
  };
  for (const auto &in : body.input())
    rename(in.name());
  for (const auto &init : body.initializer())
    rename(init.name());
  for (const auto &n : body.node())
    for (const std::string &o : n.output())
      rename(o);
  Nodes nodes;
  for (const auto &init : body.initializer())
    emitConstant(nodes, renamed[init.name()], init);
  onnx::GraphProto copy;
  *copy.mutable_node() = body.node();
  renameReads(copy, renamed);
  for (auto &n : *copy.mutable_node()) {
    for (int i = 0; i < n.output_size(); ++i)
      if (!n.output(i).empty())
        n.set_output(i, renamed[n.output(i)]);
    if (!n.name().empty())
      n.set_name(fresh(n.name()));
    nodes.push_back(n);
  }
  return nodes;
}

bool Expander::unrollMap(const onnx::NodeProto &node, Scope &scope,
                         Nodes &out) {
  const onnx::AttributeProto *body = findAttribute(node, "body");
  if (!body || !body->has_g())
    return fail(node, "has no body");
  const onnx::GraphProto &g = body->g();
  Entry *first = sequenceInput(node, 0, scope);
  if (!first)
    return false;
  size_t length = first->tensors.size();
  if (g.input_size() != node.input_size())
    return fail(node, "the body takes " + std::to_string(g.input_size()) +
                          " inputs, the node gives " +
                          std::to_string(node.input_size()));
  std::vector<Entry> results(g.output_size());
  for (size_t k = 0; k < results.size(); ++k) {
    results[k].sequence = true;
    results[k].dtype = declaredDtype(g.output(k).type());
  }
  for (size_t i = 0; i < length; ++i) {
    std::map<std::string, std::string> renamed;
    Nodes nodes = instantiate(g, renamed);
    Nodes bound;
    for (int j = 0; j < node.input_size(); ++j) {
      auto it = scope.find(node.input(j));
      std::string from = node.input(j);
      if (it != scope.end() && it->second.sequence && !it->second.optional) {
        if (it->second.tensors.size() != length)
          return fail(node, "its input sequences differ in length");
        from = it->second.tensors[i];
      } else if (it != scope.end()) {
        from = tensorInput(node, j, scope);
        if (from.empty())
          return false;
      }
      emitIdentity(bound, from, renamed[g.input(j).name()]);
    }
    for (auto &n : bound)
      out.push_back(std::move(n));
    if (!process(nodes, scope, out))
      return false;
    for (int k = 0; k < g.output_size(); ++k) {
      std::string name = renamed.count(g.output(k).name())
                             ? renamed[g.output(k).name()]
                             : g.output(k).name();
      if (scope.count(name))
        return fail(node, "the body's output '" + g.output(k).name() +
                              "' is a sequence or optional, which Kiln does "
                              "not support");
      results[k].tensors.push_back(name);
    }
  }
  for (int k = 0; k < node.output_size() && k < (int)results.size(); ++k)
    if (!node.output(k).empty())
      scope[node.output(k)] = results[k];
  return true;
}

bool Expander::unrollLoop(const onnx::NodeProto &node, Scope &scope,
                          Nodes &out) {
  const onnx::AttributeProto *body = findAttribute(node, "body");
  if (!body || !body->has_g())
    return fail(node, "has no body");
  const onnx::GraphProto &g = body->g();
  std::vector<int64_t> trips;
  if (node.input_size() < 1 || node.input(0).empty() ||
      !constantInts(node.input(0), trips) || trips.size() != 1)
    return fail(node, "the Loop carries a sequence, so Kiln unrolls it, but "
                      "its trip count is not known at compile time");
  int64_t iterations = std::max<int64_t>(trips[0], 0);
  if (node.input_size() > 1 && !node.input(1).empty()) {
    auto c = constants.find(node.input(1));
    if (c == constants.end())
      return fail(node, "the Loop carries a sequence, so Kiln unrolls it, but "
                        "its condition is computed at run time");
    if (!firstBool(c->second))
      iterations = 0;
  }
  int carried = node.input_size() - 2;
  if (g.input_size() != carried + 2 || g.output_size() < carried + 1)
    return fail(node, "the body's inputs and outputs do not match the Loop's");
  // The condition must stay true: the body passes it through or makes it a
  // constant true.
  const std::string &condIn = g.input(1).name();
  const std::string &condOut = g.output(0).name();
  bool passThrough = condOut == condIn;
  for (const auto &n : g.node()) {
    if (n.output_size() == 0 || n.output(0) != condOut)
      continue;
    if (n.op_type() == "Identity" && n.input(0) == condIn)
      passThrough = true;
    if (n.op_type() == "Constant" && findAttribute(n, "value"))
      passThrough = firstBool(findAttribute(n, "value")->t());
  }
  if (!passThrough)
    return fail(node, "the Loop carries a sequence, so Kiln unrolls it, but "
                      "its body computes the condition at run time");

  std::vector<std::string> current;
  for (int j = 0; j < carried; ++j)
    current.push_back(node.input(2 + j));
  int scans = g.output_size() - 1 - carried;
  std::vector<std::vector<std::string>> scanned(scans);
  for (int64_t it = 0; it < iterations; ++it) {
    std::map<std::string, std::string> renamed;
    Nodes nodes = instantiate(g, renamed);
    emitInts(out, renamed[g.input(0).name()], {it}, true);
    emitBool(out, renamed[condIn], true);
    for (int j = 0; j < carried; ++j) {
      const std::string &to = renamed[g.input(2 + j).name()];
      auto e = scope.find(current[j]);
      if (e != scope.end())
        scope[to] = e->second;
      else
        emitIdentity(out, current[j], to);
    }
    if (!process(nodes, scope, out))
      return false;
    auto result = [&](int k) {
      const std::string &name = g.output(k).name();
      return renamed.count(name) ? renamed[name] : name;
    };
    for (int j = 0; j < carried; ++j)
      current[j] = result(1 + j);
    for (int k = 0; k < scans; ++k) {
      std::string t = result(1 + carried + k);
      if (scope.count(t))
        return fail(node, "a scan output is a sequence or optional");
      scanned[k].push_back(t);
    }
  }
  for (int j = 0; j < carried && j < node.output_size(); ++j) {
    if (node.output(j).empty())
      continue;
    auto e = scope.find(current[j]);
    if (e != scope.end())
      scope[node.output(j)] = e->second;
    else
      emitIdentity(out, current[j], node.output(j));
  }
  for (int k = 0; k < scans && carried + k < node.output_size(); ++k) {
    const std::string &name = node.output(carried + k);
    if (name.empty())
      continue;
    if (scanned[k].empty())
      return fail(node, "scan output '" + name +
                            "' of a Loop that runs no iteration");
    emitStack(out, scanned[k], 0, name);
  }
  return true;
}

bool Expander::expandIf(const onnx::NodeProto &node, Scope &scope,
                        Nodes &out) {
  const onnx::AttributeProto *branches[2] = {findAttribute(node, "then_branch"),
                                             findAttribute(node, "else_branch")};
  if (!branches[0] || !branches[1])
    return fail(node, "needs then_branch and else_branch");
  Scope scopes[2] = {scope, scope};
  Nodes bodies[2];
  for (int b = 0; b < 2; ++b) {
    Nodes nodes(branches[b]->g().node().begin(), branches[b]->g().node().end());
    if (!process(nodes, scopes[b], bodies[b]))
      return false;
  }
  const onnx::GraphProto &thenG = branches[0]->g(), &elseG = branches[1]->g();
  if (thenG.output_size() != elseG.output_size())
    return fail(node, "its branches yield different numbers of values");
  onnx::NodeProto copy = node;
  copy.clear_output();
  onnx::GraphProto graphs[2] = {thenG, elseG};
  for (auto &g : graphs) {
    g.clear_node();
    g.clear_output();
  }
  for (int k = 0; k < thenG.output_size(); ++k) {
    const std::string names[2] = {thenG.output(k).name(),
                                  elseG.output(k).name()};
    const Entry *entries[2];
    for (int b = 0; b < 2; ++b) {
      auto it = scopes[b].find(names[b]);
      entries[b] = it == scopes[b].end() ? nullptr : &it->second;
    }
    std::string result = k < node.output_size() ? node.output(k) : "";
    if (!entries[0] && !entries[1]) {
      for (int b = 0; b < 2; ++b)
        *graphs[b].add_output() = (b ? elseG : thenG).output(k);
      copy.add_output(result);
      continue;
    }
    if (entries[0] && entries[1] && entries[0]->optional &&
        entries[0]->kind() == entries[1]->kind() &&
        entries[0]->present != entries[1]->present &&
        entries[0]->flag.empty() && entries[1]->flag.empty()) {
      // One branch yields an empty optional, the other a value: the If
      // yields a bool that says which, and the value (zeros from the empty
      // one's declared type).
      int full = entries[0]->present ? 0 : 1;
      Entry merged = *entries[full];
      const onnx::TypeProto &declared = entries[1 - full]->type;
      const onnx::TypeProto &tensorType =
          merged.sequence ? declared.sequence_type().elem_type() : declared;
      std::vector<int64_t> dims;
      bool staticType = tensorType.has_tensor_type() &&
                        tensorType.tensor_type().has_shape();
      if (staticType)
        for (const auto &d : tensorType.tensor_type().shape().dim()) {
          staticType &= d.has_dim_value();
          dims.push_back(d.dim_value());
        }
      if (!staticType)
        return fail(node, "its branches yield '" + result +
                              "' as an empty optional and a value; Kiln "
                              "needs the empty one's type to give the shape "
                              "of its value");
      std::string flags[2];
      for (int b = 0; b < 2; ++b) {
        flags[b] = fresh(names[b] + "_has_value");
        emitBool(bodies[b], flags[b], b == full);
        graphs[b].add_output()->set_name(flags[b]);
      }
      merged.flag = fresh(result + "_has_value");
      copy.add_output(merged.flag);
      int64_t count = 1;
      for (int64_t d : dims)
        count *= d;
      for (size_t i = 0; i < merged.tensors.size(); ++i) {
        for (int b = 0; b < 2; ++b) {
          std::string yielded = fresh(names[b] + "_" + std::to_string(i));
          if (b == full) {
            emitIdentity(bodies[b], entries[b]->tensors[i], yielded);
          } else {
            onnx::TensorProto zeros;
            zeros.set_data_type(tensorType.tensor_type().elem_type());
            for (int64_t d : dims)
              zeros.add_dims(d);
            zeros.set_raw_data(
                std::string(count * elementSize(zeros.data_type()), '\0'));
            emitConstant(bodies[b], yielded, zeros);
          }
          graphs[b].add_output()->set_name(yielded);
        }
        merged.tensors[i] = fresh(result + "_" + std::to_string(i));
        copy.add_output(merged.tensors[i]);
      }
      if (!result.empty())
        scope[result] = merged;
      continue;
    }
    if (!entries[0] || !entries[1] ||
        entries[0]->kind() != entries[1]->kind() ||
        entries[0]->present != entries[1]->present ||
        entries[0]->tensors.size() != entries[1]->tensors.size() ||
        !entries[0]->flag.empty() || !entries[1]->flag.empty())
      return fail(node, "its branches yield '" + result +
                            "' as values of different kinds, presence or "
                            "length; Kiln needs those known at compile time "
                            "whichever branch runs");
    Entry merged = *entries[0];
    if (!merged.dtype)
      merged.dtype = entries[1]->dtype;
    for (size_t i = 0; i < merged.tensors.size(); ++i) {
      for (int b = 0; b < 2; ++b) {
        std::string yielded = fresh(names[b] + "_" + std::to_string(i));
        emitIdentity(bodies[b], entries[b]->tensors[i], yielded);
        graphs[b].add_output()->set_name(yielded);
      }
      merged.tensors[i] = fresh(result + "_" + std::to_string(i));
      copy.add_output(merged.tensors[i]);
    }
    if (!result.empty())
      scope[result] = merged;
  }
  for (int b = 0; b < 2; ++b) {
    for (auto &n : bodies[b])
      *graphs[b].add_node() = std::move(n);
    // Types of values that are gone or that shape inference will find.
    auto *infos = graphs[b].mutable_value_info();
    for (int i = infos->size() - 1; i >= 0; --i)
      if (!infos->Get(i).type().has_tensor_type())
        infos->DeleteSubrange(i, 1);
  }
  for (auto &a : *copy.mutable_attribute()) {
    if (a.name() == "then_branch")
      *a.mutable_g() = graphs[0];
    if (a.name() == "else_branch")
      *a.mutable_g() = graphs[1];
  }
  if (copy.output_size() == 0)
    return true; // every result was an empty optional or sequence
  out.push_back(std::move(copy));
  return true;
}

//===----------------------------------------------------------------------===//
// The model's inputs and outputs
//===----------------------------------------------------------------------===//

static const InputShapePin *findPin(const std::vector<InputShapePin> &pins,
                                    const std::string &name) {
  for (const InputShapePin &p : pins)
    if (p.name == name)
      return &p;
  return nullptr;
}

static onnx::ValueInfoProto tensorInfo(const std::string &name, int32_t dtype,
                                       const std::vector<int64_t> &dims) {
  onnx::ValueInfoProto info;
  info.set_name(name);
  auto *t = info.mutable_type()->mutable_tensor_type();
  t->set_elem_type(dtype);
  auto *shape = t->mutable_shape();
  for (int64_t d : dims)
    shape->add_dim()->set_dim_value(d);
  return info;
}

bool Expander::run(const std::vector<InputShapePin> &pins,
                   ModelLayout &layout) {
  onnx::GraphProto *graph = model.mutable_graph();
  // What shape inference finds before the rewrite: element types, and the
  // shapes SplitToSequence needs.
  {
    onnx::ModelProto inferred = model;
    try {
      onnx::shape_inference::InferShapes(inferred);
    } catch (const std::exception &) {
    }
    shapes = staticShapes(inferred.graph());
    forEachValueInfo(inferred.graph(), [&](const onnx::ValueInfoProto &v) {
      if (v.type().has_tensor_type())
        dtypes[v.name()] = v.type().tensor_type().elem_type();
    });
  }
  std::set<std::string> initializers;
  for (const auto &init : graph->initializer()) {
    initializers.insert(init.name());
    constants[init.name()] = init;
    dtypes[init.name()] = init.data_type();
    shapes[init.name()] = dimsOf(init);
  }

  Scope scope;
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> inputs;
  for (const auto &input : graph->input()) {
    if (initializers.count(input.name())) {
      *inputs.Add() = input;
      continue;
    }
    const onnx::TypeProto &type = input.type();
    const InputShapePin *pin = findPin(pins, input.name());
    ValueLayout value;
    value.name = input.name();
    value.dtype = declaredDtype(type);
    auto bad = [&](const std::string &why) {
      error = "input '" + input.name() + "' " + why;
      return false;
    };
    if (type.has_tensor_type()) {
      if (pin && pin->kind != InputShapePin::Kind::Tensor)
        return bad("is a tensor: pin it with --input-shape=" + input.name() +
                   ":D0xD1x...");
      *inputs.Add() = input;
      value.tensors.push_back(input.name());
      layout.inputs.push_back(value);
      continue;
    }
    bool optional = type.has_optional_type();
    const onnx::TypeProto &inner =
        optional ? type.optional_type().elem_type() : type;
    if (!inner.has_tensor_type() && !inner.has_sequence_type())
      return bad("is a map or another type Kiln does not support");
    bool sequence = inner.has_sequence_type();
    if (sequence && !inner.sequence_type().elem_type().has_tensor_type())
      return bad("is a sequence of sequences or maps, which Kiln does not "
                 "support");
    Entry e;
    e.sequence = sequence;
    e.optional = optional;
    e.dtype = value.dtype;
    if (!e.dtype)
      return bad("declares no element type");
    value.kind = e.kind();
    if (pin && pin->kind == InputShapePin::Kind::None) {
      if (!optional)
        return bad("is not optional: it cannot be pinned to none");
      e.present = false;
    } else if (!sequence) {
      // An optional tensor: the pin's shape, or the declared one.
      std::vector<int64_t> dims = pin ? pin->dims : std::vector<int64_t>{};
      if (pin && pin->kind != InputShapePin::Kind::Tensor)
        return bad("is an optional tensor: pin it with --input-shape=" +
                   input.name() + ":D0xD1x... or :none");
      if (!pin) {
        if (!isStatic(inner))
          return bad("is an optional tensor of open shape: pin it with "
                     "--input-shape=" +
                     input.name() + ":D0xD1x... or :none");
        for (const auto &d : inner.tensor_type().shape().dim())
          dims.push_back(d.dim_value());
      }
      *inputs.Add() = tensorInfo(input.name(), e.dtype, dims);
      e.tensors.push_back(input.name());
      shapes[input.name()] = dims;
      dtypes[input.name()] = e.dtype;
    } else {
      if (!pin || pin->kind != InputShapePin::Kind::Sequence)
        return bad("is a sequence: pin its length and element shapes with "
                   "--input-shape=" +
                   input.name() + ":[D0xD1,D0xD1,...]" +
                   (optional ? " or :none" : ""));
      for (size_t i = 0; i < pin->elements.size(); ++i) {
        std::string name = input.name() + "[" + std::to_string(i) + "]";
        *inputs.Add() = tensorInfo(name, e.dtype, pin->elements[i]);
        e.tensors.push_back(name);
        shapes[name] = pin->elements[i];
        dtypes[name] = e.dtype;
      }
    }
    value.present = e.present;
    value.tensors = e.tensors;
    layout.inputs.push_back(value);
    scope[input.name()] = e;
  }
  graph->mutable_input()->Swap(&inputs);

  Nodes nodes(graph->node().begin(), graph->node().end()), out;
  if (!process(nodes, scope, out))
    return false;

  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> outputs;
  for (const auto &output : graph->output()) {
    ValueLayout value;
    value.name = output.name();
    value.dtype = declaredDtype(output.type());
    auto it = scope.find(output.name());
    if (it == scope.end()) {
      *outputs.Add() = output;
      value.tensors.push_back(output.name());
      layout.outputs.push_back(value);
      continue;
    }
    const Entry &e = it->second;
    value.kind = e.kind();
    value.present = e.present;
    if (!value.dtype)
      value.dtype = e.dtype;
    if (!e.flag.empty()) {
      // Decided at run time: the flag first, then the value.
      value.present = 2;
      std::string name = output.name() + ".has_value";
      emitIdentity(out, e.flag, name);
      outputs.Add()->set_name(name);
      value.tensors.push_back(name);
    }
    for (size_t i = 0; i < e.tensors.size(); ++i) {
      std::string name = e.sequence
                             ? output.name() + "[" + std::to_string(i) + "]"
                             : output.name();
      emitIdentity(out, e.tensors[i], name);
      outputs.Add()->set_name(name);
      value.tensors.push_back(name);
    }
    layout.outputs.push_back(value);
  }
  graph->mutable_output()->Swap(&outputs);
  graph->clear_node();
  for (auto &n : out)
    *graph->add_node() = std::move(n);
  auto *infos = graph->mutable_value_info();
  for (int i = infos->size() - 1; i >= 0; --i)
    if (!infos->Get(i).type().has_tensor_type())
      infos->DeleteSubrange(i, 1);
  return true;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void kiln::plainLayout(const onnx::ModelProto &model, ModelLayout &layout) {
  std::set<std::string> initializers;
  for (const auto &init : model.graph().initializer())
    initializers.insert(init.name());
  auto plain = [](const onnx::ValueInfoProto &v) {
    ValueLayout value;
    value.name = v.name();
    value.dtype = declaredDtype(v.type());
    value.tensors.push_back(v.name());
    return value;
  };
  layout = ModelLayout();
  for (const auto &input : model.graph().input())
    if (!initializers.count(input.name()))
      layout.inputs.push_back(plain(input));
  for (const auto &output : model.graph().output())
    layout.outputs.push_back(plain(output));
}

static bool graphUsesSequences(const onnx::GraphProto &graph) {
  for (const auto &n : graph.node()) {
    if (kSequenceOps.count(n.op_type()))
      return true;
    for (const auto &a : n.attribute()) {
      if (a.has_g() && graphUsesSequences(a.g()))
        return true;
      for (const auto &g : a.graphs())
        if (graphUsesSequences(g))
          return true;
    }
  }
  return false;
}

bool kiln::usesSequencesOrOptionals(const onnx::ModelProto &model) {
  for (const auto &v : model.graph().input())
    if (!v.type().has_tensor_type())
      return true;
  for (const auto &v : model.graph().output())
    if (!v.type().has_tensor_type())
      return true;
  return graphUsesSequences(model.graph());
}

bool kiln::expandSequences(onnx::ModelProto &model,
                           const std::vector<InputShapePin> &pins,
                           ModelLayout &layout, std::string &error) {
  layout = ModelLayout();
  return Expander(model, error).run(pins, layout);
}

bool kiln::pinsFromData(const onnx::ModelProto &model, const std::string &dir,
                        std::vector<InputShapePin> &pins, std::string &error) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    error = "--input-shapes-from: '" + dir + "' is not a directory";
    return false;
  }
  std::set<std::string> initializers;
  for (const auto &init : model.graph().initializer())
    initializers.insert(init.name());
  int index = 0;
  for (const auto &input : model.graph().input()) {
    if (initializers.count(input.name()))
      continue;
    std::string path =
        (std::filesystem::path(dir) / ("input_" + std::to_string(index++) +
                                       ".pb"))
            .string();
    if (findPin(pins, input.name()) || isStatic(input.type()))
      continue;
    std::string bytes;
    if (!readFile(path, bytes)) {
      error = "--input-shapes-from: cannot read '" + path + "' for input '" +
              input.name() + "'";
      return false;
    }
    InputShapePin pin;
    pin.name = input.name();
    const onnx::TypeProto &type = input.type();
    bool parsed = false;
    auto sequencePin = [&](const onnx::SequenceProto &s) {
      pin.kind = InputShapePin::Kind::Sequence;
      for (const auto &t : s.tensor_values())
        pin.elements.push_back(dimsOf(t));
      return s.elem_type() == onnx::SequenceProto::TENSOR ||
             s.elem_type() == onnx::SequenceProto::UNDEFINED;
    };
    if (type.has_tensor_type()) {
      onnx::TensorProto t;
      parsed = t.ParseFromString(bytes);
      pin.dims = dimsOf(t);
    } else if (type.has_sequence_type()) {
      onnx::SequenceProto s;
      parsed = s.ParseFromString(bytes) && sequencePin(s);
    } else if (type.has_optional_type()) {
      onnx::OptionalProto o;
      parsed = o.ParseFromString(bytes);
      if (parsed && o.has_tensor_value()) {
        pin.dims = dimsOf(o.tensor_value());
      } else if (parsed && o.has_sequence_value()) {
        parsed = sequencePin(o.sequence_value());
      } else if (parsed) {
        pin.kind = InputShapePin::Kind::None;
      }
    }
    if (!parsed) {
      error = "--input-shapes-from: cannot parse '" + path +
              "' as the value of input '" + input.name() + "'";
      return false;
    }
    pins.push_back(std::move(pin));
  }
  return true;
}
