#!/usr/bin/python3
"""Writes models with sequences and optionals into OUTDIR, each with a data
directory NAME_data (inputs and numpy references, sequences as SequenceProto
and optionals as OptionalProto, as in ONNX's test data):

  split, split11  SplitToSequence (a scalar split, and keepdims 0),
                  SequenceLength, SequenceAt at -1, SequenceErase,
                  ConcatFromSequence with and without new_axis; the sequence
                  is an output too. At opset 13 and 11 (attribute forms).
  map             SequenceMap over a sequence input of two lengths: x*x and
                  sum(x) per element; pinned with --input-shape.
  optional        OptionalHasElement and Identity of an optional input:
                  optional_none_data holds the empty optional.
  optional_get    OptionalGetElement of an optional input.
  at_runtime      SequenceAt at a position that is a graph input (-1).
  if_optional     an If yielding an empty optional or a value: decided at run
                  time (the data sets if_optional_true/false_data).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]


def save(graph, name, opset):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name + ".onnx"))


def write(directory, kind, index, value):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "%s_%d.pb" % (kind, index)), "wb") as f:
        f.write(value.SerializeToString())


def sequence(name, arrays):
    return helper.make_sequence(name, onnx.SequenceProto.TENSOR,
                                [numpy_helper.from_array(a) for a in arrays])


def const(name, value):
    return helper.make_node("Constant", [], [name], name=name,
                            value=numpy_helper.from_array(np.array(value, np.int64)))


# split / split11
x = np.arange(15, dtype=np.float32).reshape(5, 3) * 0.5
pieces = [x[0:2], x[2:4], x[4:5]]
for name, opset in [("split", 13), ("split11", 11)]:
    nodes = [
        const("two", 2), const("minus1", -1), const("zero", 0),
        helper.make_node("SplitToSequence", ["x", "two"], ["seq"], name="split0", axis=0),
        helper.make_node("SequenceLength", ["seq"], ["n"], name="len0"),
        helper.make_node("SequenceAt", ["seq", "minus1"], ["last"], name="at0"),
        helper.make_node("SequenceErase", ["seq", "zero"], ["rest"], name="erase0"),
        helper.make_node("ConcatFromSequence", ["rest"], ["cat"], name="cat0", axis=0),
        helper.make_node("SplitToSequence", ["x"], ["rows"], name="split1", axis=0,
                         keepdims=0),
        helper.make_node("ConcatFromSequence", ["rows"], ["stacked"], name="cat1",
                         axis=1, new_axis=1),
    ]
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 3])],
        [helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("n", TensorProto.INT64, []),
         helper.make_tensor_value_info("last", TensorProto.FLOAT, [1, 3]),
         helper.make_tensor_value_info("cat", TensorProto.FLOAT, [3, 3]),
         helper.make_tensor_value_info("stacked", TensorProto.FLOAT, [3, 5])])
    save(graph, name, opset)
    data = os.path.join(out, name + "_data")
    write(data, "input", 0, numpy_helper.from_array(x, "x"))
    write(data, "output", 0, sequence("seq", pieces))
    write(data, "output", 1, numpy_helper.from_array(np.array(3, np.int64), "n"))
    write(data, "output", 2, numpy_helper.from_array(pieces[-1], "last"))
    write(data, "output", 3, numpy_helper.from_array(np.concatenate(pieces[1:]), "cat"))
    write(data, "output", 4, numpy_helper.from_array(np.stack(list(x), axis=1), "stacked"))

# map
body = helper.make_graph(
    [helper.make_node("Mul", ["e", "e"], ["sq"], name="mul0"),
     helper.make_node("ReduceSum", ["e"], ["s"], name="sum0", keepdims=0)],
    "body", [helper.make_tensor_value_info("e", TensorProto.FLOAT, ["N"])],
    [helper.make_tensor_value_info("sq", TensorProto.FLOAT, ["N"]),
     helper.make_tensor_value_info("s", TensorProto.FLOAT, [])])
graph = helper.make_graph(
    [helper.make_node("SequenceMap", ["xs"], ["squares", "sums"], name="map0", body=body)],
    "map", [helper.make_tensor_sequence_value_info("xs", TensorProto.FLOAT, ["N"])],
    [helper.make_tensor_sequence_value_info("squares", TensorProto.FLOAT, ["N"]),
     helper.make_tensor_sequence_value_info("sums", TensorProto.FLOAT, [])])
save(graph, "map", 17)
xs = [np.array([1, 2, 3, 4], np.float32), np.array([5, 6], np.float32)]
data = os.path.join(out, "map_data")
write(data, "input", 0, sequence("xs", xs))
write(data, "output", 0, sequence("squares", [a * a for a in xs]))
write(data, "output", 1, sequence("sums", [np.array(a.sum(), np.float32) for a in xs]))
write(os.path.join(out, "map_three_data"), "input", 0, sequence("xs", xs + xs[:1]))

# optional, optional_get
opt_type = helper.make_optional_type_proto(
    helper.make_tensor_type_proto(TensorProto.FLOAT, [3]))
o = helper.make_value_info("o", opt_type)
graph = helper.make_graph(
    [helper.make_node("OptionalHasElement", ["o"], ["has"], name="has0"),
     helper.make_node("Identity", ["o"], ["same"], name="id0")],
    "optional", [o],
    [helper.make_tensor_value_info("has", TensorProto.BOOL, []),
     helper.make_value_info("same", opt_type)])
save(graph, "optional", 16)
v = np.array([1, 2, 3], np.float32)
data = os.path.join(out, "optional_data")
write(data, "input", 0, helper.make_optional("o", onnx.OptionalProto.TENSOR, numpy_helper.from_array(v)))
write(data, "output", 0, numpy_helper.from_array(np.array(True), "has"))
write(data, "output", 1, helper.make_optional("same", onnx.OptionalProto.TENSOR, numpy_helper.from_array(v)))
data = os.path.join(out, "optional_none_data")
write(data, "input", 0, helper.make_optional("o", onnx.OptionalProto.UNDEFINED, None))
write(data, "output", 0, numpy_helper.from_array(np.array(False), "has"))
write(data, "output", 1, helper.make_optional("same", onnx.OptionalProto.UNDEFINED, None))

graph = helper.make_graph(
    [helper.make_node("OptionalGetElement", ["o"], ["y"], name="get0")],
    "optional_get", [o], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
save(graph, "optional_get", 16)

# at_runtime
graph = helper.make_graph(
    [helper.make_node("SequenceAt", ["xs", "p"], ["y"], name="at0")],
    "at_runtime",
    [helper.make_tensor_sequence_value_info("xs", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("p", TensorProto.INT64, [])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
save(graph, "at_runtime", 13)
xs = [np.array([1, 2], np.float32), np.array([3, 4], np.float32)]
data = os.path.join(out, "at_runtime_data")
write(data, "input", 0, sequence("xs", xs))
write(data, "input", 1, numpy_helper.from_array(np.array(-1, np.int64), "p"))
write(data, "output", 0, numpy_helper.from_array(xs[-1], "y"))

# if_optional: an If whose branches yield an empty optional and a value; the
# output's presence is decided at run time (if_optional_true_data: empty).
tensor_type = helper.make_tensor_type_proto(TensorProto.FLOAT, [2])
then_g = helper.make_graph(
    [helper.make_node("Optional", [], ["none"], name="none0", type=tensor_type)],
    "then", [], [helper.make_value_info("none", helper.make_optional_type_proto(tensor_type))])
else_g = helper.make_graph(
    [helper.make_node("Constant", [], ["v"], name="v0",
                      value=numpy_helper.from_array(np.array([1.5, 2.5], np.float32))),
     helper.make_node("Optional", ["v"], ["some"], name="some0")],
    "else", [], [helper.make_value_info("some", helper.make_optional_type_proto(tensor_type))])
graph = helper.make_graph(
    [helper.make_node("If", ["c"], ["o"], name="if0", then_branch=then_g, else_branch=else_g),
     helper.make_node("OptionalHasElement", ["o"], ["has"], name="has0")],
    "if_optional", [helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
    [helper.make_value_info("o", helper.make_optional_type_proto(tensor_type)),
     helper.make_tensor_value_info("has", TensorProto.BOOL, [])])
save(graph, "if_optional", 16)
for cond in (True, False):
    data = os.path.join(out, "if_optional_%s_data" % str(cond).lower())
    write(data, "input", 0, numpy_helper.from_array(np.array(cond), "c"))
    value = None if cond else numpy_helper.from_array(np.array([1.5, 2.5], np.float32))
    write(data, "output", 0, helper.make_optional(
        "o", onnx.OptionalProto.UNDEFINED if cond else onnx.OptionalProto.TENSOR, value))
    write(data, "output", 1, numpy_helper.from_array(np.array(not cond), "has"))
