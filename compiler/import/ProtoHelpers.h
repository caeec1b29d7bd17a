//===- ProtoHelpers.h - Small helpers on ONNX's protobuf nodes --*- C++ -*-===//
//
// This file holds what the protobuf-level rewrites (Sequences.cpp,
// Strings.cpp) both need of a NodeProto: its name for diagnostics, and its
// attributes by name.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_PROTOHELPERS_H
#define KILN_COMPILER_IMPORT_PROTOHELPERS_H

#include "onnx/onnx_pb.h"

#include <string>

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

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_PROTOHELPERS_H
