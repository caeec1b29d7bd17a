#!/usr/bin/python3
"""Writes the small ONNX models the importer and driver tests use into OUTDIR:
good ones (tiny, opset7, dynamic) and bad ones (truncated, not_onnx,
checker_fails, unsupported_op, dynamic_unpinned is dynamic without a pin)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(model, name):
    onnx.save(model, os.path.join(out, name))


def tiny(opset=13):
    w = numpy_helper.from_array(np.arange(4, dtype=np.float32).reshape(1, 4), "w")
    nodes = [helper.make_node("Add", ["x", "w"], ["s"], name="add0"),
             helper.make_node("Relu", ["s"], ["y"], name="relu0")]
    g = helper.make_graph(nodes, "tiny",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                          [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


save(tiny(), "tiny.onnx")

# Opset 7: converted to 17 on import. BatchNormalization-7 has the removed
# 'spatial' attribute; Reshape reads its shape from an initializer.
bn = [numpy_helper.from_array(np.full([2], v, np.float32), n)
      for n, v in [("scale", 2.0), ("bias", 0.5), ("mean", 1.0), ("var", 4.0)]]
shape = numpy_helper.from_array(np.array([1, 8], np.int64), "shape")
g = helper.make_graph(
    [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["b"],
                      name="bn", epsilon=0.0),
     helper.make_node("Reshape", ["b", "shape"], ["y"], name="flat")],
    "opset7",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 2, 2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
    bn + [shape])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 7)]), "opset7.onnx")

# A dynamic batch dimension, fine once pinned with --input-shape.
g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu0")], "dyn",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "dynamic.onnx")

# torch.chunk's Slice bounds: Shape -> Gather -> Div, which ONNX 1.12's
# data propagation does not follow; the importer folds it.
consts = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
          [("one", 1), ("two", 2), ("zero1", [0]), ("axis1", [1])]]
nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
         helper.make_node("Gather", ["s", "one"], ["c"], name="channels", axis=0),
         helper.make_node("Div", ["c", "two"], ["half"], name="half"),
         helper.make_node("Unsqueeze", ["half", "zero1"], ["end"], name="end"),
         helper.make_node("Slice", ["x", "zero1", "end", "axis1"], ["part"], name="chunk0"),
         helper.make_node("Relu", ["part"], ["y"], name="relu0")]
g = helper.make_graph(nodes, "chunk",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3])],
                      consts)
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "chunk.onnx")

# Bad inputs.
data = tiny().SerializeToString()
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(out, "not_onnx.onnx"), "w") as f:
    f.write("this is not a model\n")

g = helper.make_graph([helper.make_node("Relu", ["missing"], ["y"], name="relu0")], "bad",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "checker_fails.onnx")

g = helper.make_graph([helper.make_node("TfIdfVectorizer", ["x"], ["y"], name="tfidf0", mode="TF",
                                        min_gram_length=2, max_gram_length=2, max_skip_count=0,
                                        ngram_counts=[0, 0], ngram_indexes=[0, 1],
                                        pool_int64s=[2, 3, 5, 4])], "unsup",
                      [helper.make_tensor_value_info("x", TensorProto.INT64, [2, 6])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "unsupported_op.onnx")

g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu0")], "new",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
m.ir_version = 8
save(m, "opset19.onnx")
