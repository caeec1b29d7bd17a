//===- ProtoHelpers.h - Small helpers on ONNX's protobuf nodes --*- C++ -*-===//
//
// This file holds what the protobuf-level rewrites (Sequences.cpp,
// Strings.cpp, OnnxLoader.cpp's Scan and broadcast fixes) need of a
// NodeProto: its name for diagnostics, its attributes by name, and building
// nodes and constants.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_PROTOHELPERS_H
#define KILN_COMPILER_IMPORT_PROTOHELPERS_H

#include "onnx/onnx_pb.h"

#include <string>
#include <vector>

namespace kiln {

/// "node 'NAME' (OpType)", as every diagnostic names a node.
inline std::string describeNodeProto(const onnx::NodeProto &node) {
  return "node '" + node.name() + "' (" + node.op_type() + ")";
}

/// The attribute `name` of `node`, or null.
inline const onnx::AttributeProto *findAttribute(const onnx::NodeProto &node,
                                                 const std::string &name) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

/// Sets the int attribute `name` of `node`, adding it if it has none.
inline void setIntAttribute(onnx::NodeProto &node, const std::string &name,
                            int64_t value) {
  for (auto &a : *node.mutable_attribute())
    if (a.name() == name) {
      a.set_i(value);
      return;
    }
  onnx::AttributeProto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

/// A node of `op` from `inputs` to `output`, named after its output.
inline onnx::NodeProto makeNode(const std::string &op,
                                const std::vector<std::string> &inputs,
                                const std::string &output) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(output + "_kiln");
  for (const std::string &i : inputs)
    n.add_input(i);
  n.add_output(output);
  return n;
}

/// A Constant node giving `value` as `output`.
inline onnx::NodeProto makeConstant(const std::string &output,
                                    const onnx::TensorProto &value) {
  onnx::NodeProto n = makeNode("Constant", {}, output);
  onnx::AttributeProto *a = n.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = value;
  a->mutable_t()->clear_name();
  return n;
}

/// An int64 tensor of shape `dims` holding `values`.
inline onnx::TensorProto int64Tensor(const std::vector<int64_t> &values,
                                     const std::vector<int64_t> &dims) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims)
    t.add_dims(d);
  for (int64_t v : values)
    t.add_int64_data(v);
  return t;
}

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_PROTOHELPERS_H
