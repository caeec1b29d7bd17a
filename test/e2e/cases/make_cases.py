#!/usr/bin/python3
"""Writes Kiln's own end-to-end cases in the layout of ONNX's node suite
(CASE/model.onnx, CASE/test_data_set_0/{input,output}_<i>.pb), for what the
suite covers thinly: control flow (Loop, Scan and If with outer-scope values,
run-time trip counts and conditions, reversed scans) and a model without
inputs. Expected outputs are computed here with numpy, independently of
Kiln.

Usage: make_cases.py OUTDIR"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)
F = TensorProto.FLOAT


def save_case(name, graph, inputs, outputs, opset=17):
    d = os.path.join(out, name)
    data = os.path.join(d, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for kind, values in (("input", inputs), ("output", outputs)):
        for i, v in enumerate(values):
            with open(os.path.join(data, "%s_%d.pb" % (kind, i)), "wb") as f:
                f.write(numpy_helper.from_array(v).SerializeToString())


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name, value):
    return helper.make_node("Constant", [], [name],
                            value=numpy_helper.from_array(np.asarray(value)))


# Loop with a run-time trip count: y += x[i] (x from the outer scope), every
# y stacked as a scan output.
x = rng.standard_normal((4, 3)).astype(np.float32)
y0 = rng.standard_normal(3).astype(np.float32)
body = helper.make_graph(
    [helper.make_node("Identity", ["c_in"], ["c_out"]),
     helper.make_node("Gather", ["x", "i"], ["row"], axis=0),
     helper.make_node("Add", ["y_in", "row"], ["y_out"]),
     helper.make_node("Identity", ["y_out"], ["y_scan"])],
    "body", [vi("i", TensorProto.INT64, []), vi("c_in", TensorProto.BOOL, []),
             vi("y_in", F, [3])],
    [vi("c_out", TensorProto.BOOL, []), vi("y_out", F, [3]), vi("y_scan", F, [3])])
g = helper.make_graph(
    [helper.make_node("Loop", ["m", "", "y0"], ["y", "ys"], body=body)],
    "loop_trip_count", [vi("m", TensorProto.INT64, []), vi("x", F, [4, 3]),
                        vi("y0", F, [3])],
    [vi("y", F, [3]), vi("ys", F, [4, 3])])
save_case("loop_trip_count", g, [np.array(4, np.int64), x, y0],
          [y0 + x.sum(0), y0 + np.cumsum(x, 0)])

# Loop that stops on its condition: double y until its sum exceeds a limit.
y0 = np.abs(rng.standard_normal(2)).astype(np.float32) + 0.5
body = helper.make_graph(
    [helper.make_node("Add", ["y_in", "y_in"], ["y_out"]),
     helper.make_node("ReduceSum", ["y_out"], ["s"], keepdims=0),
     helper.make_node("Less", ["s", "limit"], ["c_out"])],
    "body", [vi("i", TensorProto.INT64, []), vi("c_in", TensorProto.BOOL, []),
             vi("y_in", F, [2])],
    [vi("c_out", TensorProto.BOOL, []), vi("y_out", F, [2])])
g = helper.make_graph(
    [helper.make_node("Loop", ["", "c0", "y0"], ["y"], body=body)],
    "loop_condition", [vi("c0", TensorProto.BOOL, []), vi("y0", F, [2]),
                       vi("limit", F, [])],
    [vi("y", F, [2])])
limit = np.float32(100.0)
y = y0.copy()
while True:
    y = y + y
    if not y.sum() < limit:
        break
save_case("loop_condition", g, [np.array(True), y0, np.array(limit)], [y])

# Scan over axis 1 of its input, reversed, stacking along output axis 1 in
# forward order; the state is a running product.
x = (rng.standard_normal((2, 5)) * 0.5 + 1).astype(np.float32)
body = helper.make_graph(
    [helper.make_node("Mul", ["p_in", "col"], ["p_out"]),
     helper.make_node("Neg", ["p_out"], ["neg"])],
    "body", [vi("p_in", F, [2]), vi("col", F, [2])],
    [vi("p_out", F, [2]), vi("neg", F, [2])])
g = helper.make_graph(
    [helper.make_node("Scan", ["p0", "x"], ["p", "negs"], body=body,
                      num_scan_inputs=1, scan_input_axes=[1],
                      scan_input_directions=[1], scan_output_axes=[1])],
    "scan_reverse", [vi("p0", F, [2]), vi("x", F, [2, 5])],
    [vi("p", F, [2]), vi("negs", F, [2, 5])])
p0 = np.ones(2, np.float32)
prods = np.cumprod(x[:, ::-1], axis=1) * p0[:, None]
save_case("scan_reverse", g, [p0, x], [prods[:, -1].copy(), -prods])

# If inside a Loop body, on the iteration number: add x on even iterations,
# subtract it on odd ones.
x = rng.standard_normal(3).astype(np.float32)
then_g = helper.make_graph([helper.make_node("Add", ["y_in", "x"], ["t"])],
                           "then", [], [vi("t", F, [3])])
else_g = helper.make_graph([helper.make_node("Sub", ["y_in", "x"], ["e"])],
                           "else", [], [vi("e", F, [3])])
body = helper.make_graph(
    [const("two", np.array(2, np.int64)), const("zero", np.array(0, np.int64)),
     helper.make_node("Mod", ["i", "two"], ["r"]),
     helper.make_node("Equal", ["r", "zero"], ["even"]),
     helper.make_node("If", ["even"], ["y_out"], then_branch=then_g,
                      else_branch=else_g),
     helper.make_node("Identity", ["c_in"], ["c_out"])],
    "body", [vi("i", TensorProto.INT64, []), vi("c_in", TensorProto.BOOL, []),
             vi("y_in", F, [3])],
    [vi("c_out", TensorProto.BOOL, []), vi("y_out", F, [3])])
g = helper.make_graph(
    [const("m", np.array(5, np.int64)),
     helper.make_node("Loop", ["m", "", "y0"], ["y"], body=body)],
    "if_in_loop", [vi("x", F, [3]), vi("y0", F, [3])], [vi("y", F, [3])])
y0 = rng.standard_normal(3).astype(np.float32)
save_case("if_in_loop", g, [x, y0], [y0 + x])

# A model without inputs: its outputs are computed from constants alone, and
# NAME_run takes only the outputs and the workspace.
g = helper.make_graph(
    [const("a", np.arange(6, dtype=np.float32).reshape(2, 3)),
     const("b", np.float32(0.5)),
     helper.make_node("Mul", ["a", "b"], ["y"])],
    "no_inputs", [], [vi("y", F, [2, 3])])
save_case("no_inputs", g, [], [np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5])
