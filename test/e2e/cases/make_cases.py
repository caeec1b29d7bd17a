#!/usr/bin/python3
"""Writes Kiln's own end-to-end cases in the layout of ONNX's node suite
(CASE/model.onnx, CASE/test_data_set_0/{input,output}_<i>.pb), for what the
suite covers thinly: control flow (Loop, Scan and If with outer-scope values,
run-time trip counts and conditions, reversed scans, a window x[i : i + 2]
at a Loop's step), LSTM and GRU with run-time sequence_lens shorter than the
sequence (forward, reverse, bidirectional), a model without inputs,
and models of opsets 6 to 11 as exporters of the time wrote them
(legacy broadcast with an axis, attributes that later became inputs, an
opset 8 Scan with a batch axis), and stride-1 3x3 convolutions of the
sizes that Kiln runs as Winograd F(2x2, 3x3) and F(4x4, 3x3) (odd heights
and widths, partial tiles, tile rows wider than a vector, bias, Relu and
residual epilogues, a following convolution's padding, one weight tensor
in both), Transposes
that move the innermost axis, with ragged edges, of float and int32, and
Softmax along the last axis after a scale, rows of any length, with -inf,
Conv then BatchNormalization then Relu (folded at compile time: plain,
biased, depthwise and 1-d convolutions; Gemm and ConvTranspose likewise),
and ConvTranspose with constant weights (one stride-1 Conv of its output
phases and a shuffle: kernels the stride divides and not, pads,
output_padding, SAME_UPPER, 1-d to 3-d), Pad in reflect and edge
modes by constant pads, and grouped convolutions of many small groups
(strides, dilation, pads, 1-d, epilogues).
Expected outputs are computed here with numpy, independently of Kiln.

Usage: make_cases.py OUTDIR"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)
F = TensorProto.FLOAT


# The IR version an exporter of that opset's time wrote (IR 3 lists every
# initializer among the graph's inputs too).
IR_OF_OPSET = {6: 3, 7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7}


def save_case(name, graph, inputs, outputs, opset=17):
    d = os.path.join(out, name)
    data = os.path.join(d, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = IR_OF_OPSET.get(opset, 8)
    if model.ir_version < 4:
        for t in graph.initializer:
            model.graph.input.append(
                helper.make_tensor_value_info(t.name, t.data_type, t.dims))
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


# Models of older opsets, which the importer converts to opset 17.
def init(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


# Opset 6 broadcast with an axis: a per-channel [3] and a [3, 4] lined up
# with [2, 3, 4, 5] from axis 1 (ONNX 1.12's converter asserts on both), and
# a [2] from axis 0.
x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
b = rng.standard_normal(3).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Add", ["x", "b"], ["y"], broadcast=1, axis=1)],
    "legacy_add_axis1", [vi("x", F, [2, 3, 4, 5])], [vi("y", F, [2, 3, 4, 5])],
    [init("b", b)])
save_case("legacy_add_axis1", g, [x], [x + b[None, :, None, None]], opset=6)

b2 = rng.standard_normal((3, 4)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Mul", ["x", "b"], ["y"], broadcast=1, axis=1)],
    "legacy_mul_axis1", [vi("x", F, [2, 3, 4, 5]), vi("b", F, [3, 4])],
    [vi("y", F, [2, 3, 4, 5])])
save_case("legacy_mul_axis1", g, [x, b2], [x * b2[None, :, :, None]], opset=6)

x3 = rng.standard_normal((2, 3, 4)).astype(np.float32)
b3 = rng.standard_normal(2).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Sub", ["x", "b"], ["y"], broadcast=1, axis=0)],
    "legacy_sub_axis0", [vi("x", F, [2, 3, 4]), vi("b", F, [2])],
    [vi("y", F, [2, 3, 4])])
save_case("legacy_sub_axis0", g, [x3, b3], [x3 - b3[:, None, None]], opset=6)

# Opset 6 Gemm broadcasting its C.
a = rng.standard_normal((2, 4)).astype(np.float32)
w = rng.standard_normal((3, 4)).astype(np.float32)
c = rng.standard_normal(3).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Gemm", ["a", "w", "c"], ["y"], broadcast=1, transB=1,
                      alpha=0.5, beta=2.0)],
    "legacy_gemm", [vi("a", F, [2, 4])], [vi("y", F, [2, 3])],
    [init("w", w), init("c", c)])
save_case("legacy_gemm", g, [a], [0.5 * a @ w.T + 2.0 * c], opset=6)

# Opset 6 PRelu with a [C, 1, 1] slope.
xp = rng.standard_normal((1, 3, 2, 2)).astype(np.float32)
slope = np.array([0.1, 0.2, 0.3], np.float32).reshape(3, 1, 1)
g = helper.make_graph(
    [helper.make_node("PRelu", ["x", "s"], ["y"])],
    "legacy_prelu", [vi("x", F, [1, 3, 2, 2])], [vi("y", F, [1, 3, 2, 2])],
    [init("s", slope)])
save_case("legacy_prelu", g, [xp], [np.where(xp < 0, xp * slope, xp)], opset=6)

# Opset 7 Upsample (scales an attribute), opset 2 Pad (pads an attribute),
# opset 9 Slice (starts, ends, axes attributes).
xu = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 2.0],
                      mode="nearest")],
    "legacy_upsample", [vi("x", F, [1, 2, 3, 3])], [vi("y", F, [1, 2, 6, 6])])
save_case("legacy_upsample", g, [xu], [xu.repeat(2, axis=2).repeat(2, axis=3)],
          opset=7)

g = helper.make_graph(
    [helper.make_node("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 0, 2, 1],
                      value=0.5)],
    "legacy_pad", [vi("x", F, [1, 2, 3, 3])], [vi("y", F, [1, 2, 6, 6])])
save_case("legacy_pad", g, [xu],
          [np.pad(xu, ((0, 0), (0, 0), (1, 2), (2, 1)), constant_values=0.5)],
          opset=6)

xs = rng.standard_normal((2, 5)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Slice", ["x"], ["y"], starts=[1, -3], ends=[2, 100],
                      axes=[0, 1])],
    "legacy_slice", [vi("x", F, [2, 5])], [vi("y", F, [1, 3])])
save_case("legacy_slice", g, [xs], [xs[1:2, -3:]], opset=9)

# Opset 6 inference graph: BatchNormalization with is_test and spatial,
# Dropout with is_test, MaxPool, a Reshape-5 to [1, -1].
xb = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
scale, bias, mean = (rng.random(2).astype(np.float32) + 0.5 for _ in range(3))
var = rng.random(2).astype(np.float32) + 0.5
bn = (xb - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) \
    * scale[:, None, None] + bias[:, None, None]
pooled = bn.reshape(1, 2, 2, 2, 2, 2).max(axis=(3, 5))
g = helper.make_graph(
    [helper.make_node("BatchNormalization", ["x", "sc", "bi", "me", "va"],
                      ["b"], spatial=1, is_test=1, epsilon=1e-5),
     helper.make_node("Dropout", ["b"], ["d"], is_test=1),
     helper.make_node("MaxPool", ["d"], ["p"], kernel_shape=[2, 2],
                      strides=[2, 2]),
     helper.make_node("Reshape", ["p", "shape"], ["y"])],
    "legacy_inference", [vi("x", F, [1, 2, 4, 4])], [vi("y", F, [1, 8])],
    [init("sc", scale), init("bi", bias), init("me", mean), init("va", var),
     init("shape", np.array([1, -1], np.int64))])
save_case("legacy_inference", g, [xb], [pooled.reshape(1, 8)], opset=6)

# Opset 11 Squeeze and Unsqueeze with axes attributes.
xq = rng.standard_normal((3, 1, 4)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Squeeze", ["x"], ["s"], axes=[1]),
     helper.make_node("Unsqueeze", ["s"], ["y"], axes=[0, 3])],
    "legacy_squeeze", [vi("x", F, [3, 1, 4])], [vi("y", F, [1, 3, 4, 1])])
save_case("legacy_squeeze", g, [xq], [xq.reshape(1, 3, 4, 1)], opset=11)

# Opset 6 broadcast on a value with no value_info (the converter needs its
# shape: the importer infers shapes before converting).
xi = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
bi = rng.standard_normal((4, 5)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Relu", ["x"], ["r"]),
     helper.make_node("Add", ["r", "b"], ["y"], broadcast=1)],
    "legacy_intermediate", [vi("x", F, [2, 3, 4, 5])],
    [vi("y", F, [2, 3, 4, 5])], [init("b", bi)])
save_case("legacy_intermediate", g, [xi], [np.maximum(xi, 0) + bi], opset=6)

# Opset 6 PRelu with a per-channel slope [C]: channel is axis 1 in every
# rank of X (opset 7's numpy broadcasting would line it up with the last
# axis; the converter leaves it, so the importer aligns it first).
for rank_shape in ((2, 3), (2, 3, 4), (1, 3, 2, 3)):
    xr = rng.standard_normal(rank_shape).astype(np.float32)
    sr = np.array([0.1, 0.2, 0.3], np.float32)
    expand = (slice(None),) + (None,) * (len(rank_shape) - 2)
    name = "legacy_prelu_channel_rank%d" % len(rank_shape)
    g = helper.make_graph(
        [helper.make_node("PRelu", ["x", "s"], ["y"])], name,
        [vi("x", F, list(rank_shape))], [vi("y", F, list(rank_shape))],
        [init("s", sr)])
    save_case(name, g, [xr], [np.where(xr < 0, xr * sr[expand], xr)], opset=6)

# LSTM and GRU with run-time sequence_lens shorter than the sequence: a batch
# entry's H (and C) stop at its length, and Y is 0 past it; reversed, an entry
# runs from its own last step down. Forward, reverse and bidirectional.
def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def recurrent(kind, xs, lens, W, R, B, reverse):
    """One direction of an ONNX LSTM (gates i, o, f, c) or GRU (z, r, h,
    linear_before_reset 0) with sequence_lens: Y [seq, batch, hidden], H."""
    seq_len, batch, _ = xs.shape
    hidden = R.shape[1]
    h = np.zeros((batch, hidden), np.float32)
    c = np.zeros((batch, hidden), np.float32)
    Y = np.zeros((seq_len, batch, hidden), np.float32)
    Wb, Rb = np.split(B, 2)
    for t in range(seq_len):
        # Each entry's time at this step, and whether it runs.
        times = lens - 1 - t if reverse else np.full(batch, t)
        valid = (t < lens)[:, None]
        xt = xs[np.clip(times, 0, seq_len - 1), np.arange(batch)]
        xw = xt @ W.T + Wb
        if kind == "LSTM":
            i, o, f, cc = np.split(xw + h @ R.T + Rb, 4, axis=1)
            c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(cc)
            h_new = sigmoid(o) * np.tanh(c_new)
        else:
            hr = h @ R.T
            z = sigmoid(xw[:, :hidden] + hr[:, :hidden] + Rb[:hidden])
            r = sigmoid(xw[:, hidden:2 * hidden] + hr[:, hidden:2 * hidden]
                        + Rb[hidden:2 * hidden])
            ht = np.tanh(xw[:, 2 * hidden:] + (r * h) @ R[2 * hidden:].T
                         + Rb[2 * hidden:])
            h_new, c_new = (1 - z) * ht + z * h, c
        h = np.where(valid, h_new, h)
        c = np.where(valid, c_new, c)
        for b in range(batch):
            if valid[b, 0]:
                Y[times[b], b] = h_new[b]
    return Y, h


seq_len, batch, width, hidden = 5, 3, 4, 2
lens = np.array([5, 2, 0], np.int32)
xs = rng.standard_normal((seq_len, batch, width)).astype(np.float32)
for kind, gates in (("LSTM", 4), ("GRU", 3)):
    for direction in ("forward", "reverse", "bidirectional"):
        dirs = 2 if direction == "bidirectional" else 1
        W = (rng.standard_normal((dirs, gates * hidden, width)) * 0.5).astype(np.float32)
        R = (rng.standard_normal((dirs, gates * hidden, hidden)) * 0.5).astype(np.float32)
        B = (rng.standard_normal((dirs, 2 * gates * hidden)) * 0.1).astype(np.float32)
        Ys, Hs = [], []
        for d in range(dirs):
            Y, h = recurrent(kind, xs, lens, W[d], R[d], B[d],
                             direction == "reverse" or d == 1)
            Ys.append(Y)
            Hs.append(h)
        name = "%s_sequence_lens%s" % (
            kind.lower(), "" if direction == "forward" else "_" + direction)
        g = helper.make_graph(
            [helper.make_node(kind, ["x", "W", "R", "B", "lens"], ["y", "y_h"],
                              hidden_size=hidden, direction=direction)],
            name, [vi("x", F, [seq_len, batch, width]),
                   vi("lens", TensorProto.INT32, [batch])],
            [vi("y", F, [seq_len, dirs, batch, hidden]),
             vi("y_h", F, [dirs, batch, hidden])],
            [init("W", W), init("R", R), init("B", B)])
        save_case(name, g, [xs, lens], [np.stack(Ys, axis=1), np.stack(Hs)])


# Opset 8 Scan with a batch axis of 2 and a reversed scan input (ONNX 1.12's
# converter would only drop the batch dimension from the declared shapes).
body = helper.make_graph(
    [helper.make_node("Add", ["sum_in", "next"], ["sum_out"]),
     helper.make_node("Identity", ["sum_out"], ["scan_out"])],
    "scan_body", [vi("sum_in", F, [2]), vi("next", F, [2])],
    [vi("sum_out", F, [2]), vi("scan_out", F, [2])])
init8 = rng.standard_normal((2, 2)).astype(np.float32)
x8 = rng.standard_normal((2, 3, 2)).astype(np.float32)
y8 = init8.copy()
z8 = np.zeros((2, 3, 2), np.float32)
for k, t in enumerate(reversed(range(3))):
    y8 = y8 + x8[:, t]
    z8[:, k] = y8
g = helper.make_graph(
    [helper.make_node("Scan", ["", "initial", "x"], ["y", "z"], body=body,
                      num_scan_inputs=1, directions=[1])],
    "legacy_scan_batch", [vi("initial", F, [2, 2]), vi("x", F, [2, 3, 2])],
    [vi("y", F, [2, 2]), vi("z", F, [2, 3, 2])])
save_case("legacy_scan_batch", g, [init8, x8], [y8, z8], opset=8)

# A Loop body taking a window x[i : i + 2] at its run-time step i: the
# window's length is static although its start is not.
xw = rng.standard_normal((6, 3)).astype(np.float32)
body = helper.make_graph(
    [const("two", np.array(2, np.int64)), const("zero_axis", np.array([0], np.int64)),
     helper.make_node("Add", ["i", "two"], ["i_end"]),
     helper.make_node("Unsqueeze", ["i", "zero_axis"], ["start"]),
     helper.make_node("Unsqueeze", ["i_end", "zero_axis"], ["end"]),
     helper.make_node("Slice", ["x", "start", "end", "zero_axis"], ["window"]),
     helper.make_node("Identity", ["cond_in"], ["cond_out"])],
    "window_body",
    [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, [])],
    [vi("cond_out", TensorProto.BOOL, []), vi("window", F, None)])
g = helper.make_graph(
    [helper.make_node("Loop", ["trips", ""], ["windows"], body=body)],
    "loop_slice_window",
    [vi("x", F, [6, 3]), vi("trips", TensorProto.INT64, [])],
    [vi("windows", F, [4, 2, 3])])
save_case("loop_slice_window", g, [xw, np.array(4, np.int64)],
          [np.stack([xw[i:i + 2] for i in range(4)])])


def conv3x3(x, w, b=None):
    """A stride-1 3x3 convolution with padding 1, in float64."""
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    y = np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64))
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


# Two 3x3 convolutions: bias and Relu, then a residual Add and Relu, on an
# odd-sized image (7 x 6 tiles, the last row and column half outside).
def winograd_case(name, shape, c1, c2, bias):
    xw = rng.standard_normal(shape).astype(np.float32)
    w1 = (rng.standard_normal((c1, shape[1], 3, 3)) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((c2, c1, 3, 3)) * 0.1).astype(np.float32)
    b1 = (rng.standard_normal(c1) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")]
    conv1 = ["x", "w1"]
    if bias:
        inits.append(numpy_helper.from_array(b1, "b1"))
        conv1.append("b1")
    nodes = [
        helper.make_node("Conv", conv1, ["c1"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Add", ["c2", "r1"], ["s"]),
        helper.make_node("Relu", ["s"], ["y"]),
    ]
    oh, ow = shape[2], shape[3]
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, [shape[0], c2, oh, ow])], inits)
    r1 = np.maximum(conv3x3(xw, w1, b1 if bias else None), 0)
    y = np.maximum(conv3x3(r1, w2) + r1, 0)
    save_case(name, g, [xw], [y.astype(np.float32)])


# Which Winograd a convolution takes: kiln-lower-matmuls' cost per channel
# pair, (m + 2)^2 products each of ceil(tiles / 16) vectors plus 1 for its
# weight (LowerMatmuls.cpp, winogradTileSide).
#
# F(2x2, 3x3): 7 x 6 tiles, the last tile row 1 output row (3 input rows),
# the last tile column 1 (16 x (3 + 1) = 64 against 36 x (1 + 1) = 72).
winograd_case("conv3x3_winograd_odd", (1, 16, 13, 11), 24, 24, True)
# F(4x4, 3x3): 10 x 10 tiles, no bias (36 x (7 + 1) = 288 against
# 16 x (24 + 1) = 400).
winograd_case("conv3x3_winograd_wide", (1, 16, 40, 37), 32, 32, False)
# F(4x4, 3x3) tile rows of 18 tiles (a full vector and a masked one, the
# last tile 2 columns inside): 4 x 18 tiles, the last tile row 1 output row
# (36 x (5 + 1) = 216 against 16 x (16 + 1) = 272).
winograd_case("conv3x3_winograd_4x4_wide", (1, 16, 13, 70), 24, 24, True)
# F(4x4, 3x3) on a 14x14 image, as ResNet-50's 14x14 layers (36 x (1 + 1) =
# 72 against 16 x (4 + 1) = 80), with 20 output channels: the products'
# last row block of weights (packed 8 rows a block) has 4 rows and 4 of
# zeros.
winograd_case("conv3x3_winograd_14x14_20", (1, 16, 14, 14), 20, 20, True)
# F(2x2, 3x3) with a tile row of 20 tiles, a full vector and a masked one.
winograd_case("conv3x3_winograd_2x2_wide", (1, 16, 2, 40), 24, 24, True)
# F(2x2, 3x3) where 4x4 tiles would waste lanes: a 7x7 image's 16 tiles fill
# a vector, its 4 4x4 ones a quarter.
winograd_case("conv3x3_winograd_7x7", (1, 32, 7, 7), 32, 32, True)

# Tile rows of at most a quarter vector share one (Winograd.cpp's
# inputTileRows / outputTileRows), lane r * tiles + t: F(4x4, 3x3) on 37x15,
# 10 x 4 tiles four tile rows a vector, two groups in the loop and the last
# two tile rows a group of two, the last with 1 output row, the last tile
# column 3 output columns (36 x (3 + 1) = 144 against 16 x (10 + 1) = 176);
# on 30x7, 8 x 2 tiles eight tile rows a vector, the last with 2 output rows
# (36 x (1 + 1) = 72 against 16 x (4 + 1) = 80). 14x14 and 7x7 above: one
# group of four.
winograd_case("conv3x3_winograd_tall", (1, 16, 37, 15), 24, 24, True)
winograd_case("conv3x3_winograd_narrow", (1, 16, 30, 7), 24, 24, True)

# On two or more threads, by blocks of tile rows (kiln-lower-matmuls'
# winograd-block-tiles: 28 tiles, V on the stack, its borders read as
# zeros): F(4x4, 3x3) on 49x43, 13 x 11 tiles in blocks of 2 tile rows, the
# last block 1 tile row with 1 output row (and 2 input rows inside); 16
# channels in, 16 out (two row blocks of products). On one thread the same
# library runs by products. conv3x3_winograd_wide's 10 x 10 tiles go by
# blocks of 2 tile rows too.
winograd_case("conv3x3_winograd_blocks", (1, 16, 49, 43), 16, 16, True)

# On two or more threads, by spans of tile rows (kiln-lower-matmuls'
# winograd-span-tiles: about 98 tiles, V and M in the workspace) where
# blocks of 28 tiles would not fit their V (40 channels): F(4x4, 3x3) on
# 54x50, 14 x 13 tiles in spans of 8 tile rows, the last span 6 tile rows,
# its last 2 output rows, the last tile column 2 output columns; the
# second convolution's 40 channels in and out (5 row blocks of products).
# The first (16 channels in) goes by blocks of 2 tile rows.
winograd_case("conv3x3_winograd_spans", (1, 16, 54, 50), 40, 40, True)

# A batch of four: each image's transforms and products are their own rows
# functions, which kiln-merge-kernels makes one for images 1 to 3 (image
# 0's offsets of zero fold away), their offsets into the batch's input,
# output and residual buffers computed from the image's number, which each
# call passes. By products on one thread, by spans (the second
# convolution) and blocks (the first) on two.
winograd_case("conv3x3_winograd_batch4_spans", (4, 16, 54, 50), 40, 40, True)
winograd_case("conv3x3_winograd_batch4_wide", (4, 16, 40, 37), 32, 32, False)


# Stride-2 3x3 convolutions by their phases (Winograd.h: 9 x 9 input tiles 8
# apart, 81 products per 4 x 4 output tile, 36 distinct weights), where the
# products cost no more than the direct convolution's (81 x ceil(tiles /
# 16) + 36 against 9 x ceil(pixels / 16): LowerMatmuls.cpp,
# stride2Winograd). A bias and Relu,
# then a 1x1 convolution and a residual Add of the strided input's
# subsample (ResNet's downsampling block).
def conv3x3_s2(x, w, b=None):
    """A stride-2 3x3 convolution with padding 1, in float64."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    y = np.einsum("nchwij,ocij->nohw", win[:, :, ::2, ::2], w.astype(np.float64))
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


def winograd_s2_case(name, shape, c1):
    xw = rng.standard_normal(shape).astype(np.float32)
    w1 = (rng.standard_normal((c1, shape[1], 3, 3)) * 0.1).astype(np.float32)
    b1 = (rng.standard_normal(c1) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((shape[1], c1, 1, 1)) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
             numpy_helper.from_array(w2, "w2")]
    r1 = np.maximum(conv3x3_s2(xw, w1, b1), 0)
    oh, ow = r1.shape[2], r1.shape[3]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], kernel_shape=[1, 1]),
        helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["xs"]),
        helper.make_node("Add", ["c2", "xs"], ["y"]),
    ]
    inits += [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
              (("starts", [0, 0]), ("ends", [shape[2], shape[3]]),
               ("axes", [2, 3]), ("steps", [2, 2]))]
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, [shape[0], shape[1], oh, ow])], inits)
    y = np.einsum("nchw,oc->nohw", r1, w2[:, :, 0, 0].astype(np.float64))
    y += xw[:, :, ::2, ::2]
    save_case(name, g, [xw], [y.astype(np.float32)])


# ResNet-50's 56x56 -> 28x28 layer, narrower: 7 x 7 tiles (81 x 4 + 36 =
# 360 against 9 x 49 = 441), 32 channels in, 24 out (three row blocks of
# products).
winograd_s2_case("conv3x3_winograd_s2_56", (1, 32, 56, 56), 24)
# An odd height and width (55 x 61 -> 28 x 31): 7 x 8 tiles, the last tile
# column 3 output columns and its input tile's last 2 columns outside the
# padded input (360 against 9 x 55 = 495); 20 output channels.
winograd_s2_case("conv3x3_winograd_s2_odd", (1, 16, 55, 61), 20)
# A last tile row of 2 output rows, its input tile's last 4 rows outside
# (52 x 60 -> 26 x 30: 7 x 8 tiles, 360 against 9 x 49 = 441).
winograd_s2_case("conv3x3_winograd_s2_rows", (1, 16, 52, 60), 16)
# Tile rows of at most a quarter vector share one (inputTileRows /
# outputTileRows), 81 + 36 = 117 against 9 x 13 or 14: ResNet-50's 28x28 ->
# 14x14 layer's 4 x 4 tiles, four tile rows a vector; 26 x 30 -> 13 x 15,
# the last tile row 1 output row, the last tile column 3; 60 x 14 -> 30 x
# 7, 8 x 2 tiles, eight tile rows a vector, the last with 2 output rows
# and 5 input rows inside.
winograd_s2_case("conv3x3_winograd_s2_14x14", (1, 32, 28, 28), 24)
winograd_s2_case("conv3x3_winograd_s2_13x15", (1, 16, 26, 30), 16)
winograd_s2_case("conv3x3_winograd_s2_narrow", (1, 16, 60, 14), 16)


# One weight tensor shared by two convolutions that take different
# Winograd tiles: a 40x37 image's (F(4x4)) and a 7x7 one's (F(2x2)); each
# has its own transformed weights.
xa = rng.standard_normal((1, 16, 40, 37)).astype(np.float32)
xb = rng.standard_normal((1, 16, 7, 7)).astype(np.float32)
ws = (rng.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Conv", ["xa", "w"], ["ya"], pads=[1, 1, 1, 1],
                      kernel_shape=[3, 3]),
     helper.make_node("Conv", ["xb", "w"], ["yb"], pads=[1, 1, 1, 1],
                      kernel_shape=[3, 3])],
    "conv3x3_winograd_shared_weights",
    [vi("xa", F, [1, 16, 40, 37]), vi("xb", F, [1, 16, 7, 7])],
    [vi("ya", F, [1, 16, 40, 37]), vi("yb", F, [1, 16, 7, 7])],
    [numpy_helper.from_array(ws, "w")])
save_case("conv3x3_winograd_shared_weights", g, [xa, xb],
          [conv3x3(xa, ws).astype(np.float32), conv3x3(xb, ws).astype(np.float32)])


# f32 MaxPool with NaN and -inf among its inputs: a window holding a NaN is
# NaN (as numpy's max), wherever the NaN lies in it; Kiln takes the
# window's max as a tree of plain maxes and marks the NaN lanes after.
# Stride 2 (20 outputs a row: a full vector and a masked one) and stride 1
# with padding (21 outputs a row).
def max_pool_nan_case(name, shape, stride, pad):
    x = rng.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, size=flat.size // 40, replace=False)
    flat[picks[: len(picks) // 2]] = np.nan
    flat[picks[len(picks) // 2:]] = -np.inf
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)),
                constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    y = win[:, :, ::stride, ::stride].max(axis=(4, 5))
    g = helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3],
                          strides=[stride, stride], pads=[pad] * 4)],
        name, [vi("x", F, list(shape))], [vi("y", F, list(y.shape))])
    save_case(name, g, [x], [y.astype(np.float32)])


max_pool_nan_case("max_pool_nan_s2", (1, 3, 13, 41), 2, 0)
max_pool_nan_case("max_pool_nan_s1_pad", (1, 3, 9, 21), 1, 1)


# f32 convolutions whose output lines leave fewer columns than a vector
# after the GEMM's panels: a 7x7 layer's 49 = 48 + 1, a 14x14 one's 196 =
# 192 + 4. Those columns are dot products along k, through the same
# epilogue (bias, Clip, a residual Add), reading B's tail packed at run time
# (128 output channels or more) or in place (fewer: the weights in row
# blocks, each row block's weights a vector times B's element).
def conv_f64(x, w, stride, pad):
    """A 2-d convolution (one group), in float64."""
    kh, kw = w.shape[2:]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]
    return np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64))


def conv_tail_case(name, shape, f, k, stride, pad, end):
    n, c, h, wd = shape
    xt = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((f, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    bias = rng.standard_normal(f).astype(np.float32)
    y = conv_f64(xt, w, stride, pad) + bias.astype(np.float64)[None, :, None, None]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[k, k],
                              strides=[stride, stride], pads=[pad] * 4)]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")]
    if end == "clip":
        inits += [numpy_helper.from_array(np.float32(0), "lo"),
                  numpy_helper.from_array(np.float32(6), "hi")]
        nodes.append(helper.make_node("Clip", ["c", "lo", "hi"], ["y"]))
        y = np.clip(y, 0, 6)
    else:  # a residual Add, then Relu
        nodes += [helper.make_node("Add", ["c", "x"], ["s"]),
                  helper.make_node("Relu", ["s"], ["y"])]
        y = np.maximum(y + xt, 0)
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt], [y.astype(np.float32)])


conv_tail_case("conv1x1_7x7_dot_tail", (1, 60, 7, 7), 160, 1, 1, 0, "clip")
conv_tail_case("conv1x1_14x14_dot_tail_residual", (1, 128, 14, 14), 128, 1, 1, 0,
               "residual")
conv_tail_case("conv3x3_s2_7x7_dot_tail", (1, 30, 14, 14), 128, 3, 2, 1, "clip")
# B in place: MobileNetV2's 14x14 projection with its residual (96 rows,
# 196 = 192 + 4), and SqueezeNet's 13x13 squeeze shape with an odd k (169 =
# 160 + 9; the tail's k in pairs, then a last single step).
conv_tail_case("conv1x1_14x14_in_place_tail_residual", (1, 96, 14, 14), 96, 1,
               1, 0, "residual")
conv_tail_case("conv1x1_13x13_in_place_tail_odd_k", (1, 33, 13, 13), 48, 1, 1,
               0, "clip")
# Fewer than 128 output channels: B (the input) read in place, its 28 full
# panels shared by the threads (ctest cases.threads), the last 4 columns
# by rows.
conv_tail_case("conv1x1_in_place_b", (1, 64, 30, 30), 96, 1, 1, 0, "clip")
# 128 output channels over 71 full panels and 31 columns: B packed at run
# time by the threads that multiply its panels, all 71 in one call
# (kiln-lower-matmuls' whole-chunks; a chunk is 64 panels of 64 x 32),
# each thread's piece a chunk at a time, then the last 31 columns packed
# and multiplied by rows, in the first panel's slot (ctest cases.threads).
conv_tail_case("conv1x1_whole_chunks", (1, 64, 47, 49), 128, 1, 1, 0, "clip")
# The same input to 96 output channels: B read in place, 71 full panels
# (a chunk is 64) shared in one call (kiln-lower-matmuls' whole-in-place),
# each thread's run a chunk at a time (ctest cases.threads).
conv_tail_case("conv1x1_in_place_whole", (1, 64, 47, 49), 96, 1, 1, 0, "clip")


# f32 depthwise convolutions (group = channels) over planes whose rows are
# not a whole number of vectors: in the rows before a plane's last,
# kiln-lower-windows reads each input row's last vector whole (the lanes
# past it from the plane's next row, never used) and, on AMD Zen
# (blend-stores), stores each output row's last vector as a blend with the
# next row, which the same thread writes after; the plane's last row stays
# masked. Many channels, so that the threads (cases.threads) split the
# planes; MobileNetV2's Clip after, or none.
def conv_depthwise_case(name, shape, k, stride, pad, clip):
    n, c, h, wd = shape
    xt = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((c, 1, k, k)).astype(np.float32)
    bias = rng.standard_normal(c).astype(np.float32)
    xp = np.pad(xt.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]
    y = np.einsum("nchwij,cij->nchw", win, w[:, 0].astype(np.float64))
    y += bias.astype(np.float64)[None, :, None, None]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c" if clip else "y"],
                              kernel_shape=[k, k], strides=[stride, stride],
                              pads=[pad] * 4, group=c)]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")]
    if clip:
        inits += [numpy_helper.from_array(np.float32(0), "lo"),
                  numpy_helper.from_array(np.float32(6), "hi")]
        nodes.append(helper.make_node("Clip", ["c", "lo", "hi"], ["y"]))
        y = np.clip(y, 0, 6)
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt], [y.astype(np.float32)])


conv_depthwise_case("conv_depthwise_7x7_clip", (1, 96, 7, 7), 3, 1, 1, True)
conv_depthwise_case("conv_depthwise_s2_14x14", (1, 64, 14, 14), 3, 2, 1, False)
conv_depthwise_case("conv_depthwise_13x29", (2, 40, 13, 29), 3, 1, 1, True)
conv_depthwise_case("conv_depthwise_s2_28x28_clip", (1, 48, 28, 28), 3, 2, 1, True)
# Two output rows (the first runs on, the second is the plane's last), and
# input rows narrower than a vector (every row masked).
conv_depthwise_case("conv_depthwise_two_rows", (1, 64, 4, 19), 3, 1, 0, False)
conv_depthwise_case("conv_depthwise_5x5", (1, 64, 5, 5), 3, 1, 1, True)


# Grouped f32 convolutions of many groups of few channels (ResNeXt's 32
# groups of 4, RegNet's), which kiln-lower-windows runs as a direct kernel
# summing each output plane over its group's input planes, blocks of planes,
# rows and vectors in registers: rows of whole vectors and a partial last
# one, stride 2, a 5x5 dilated window, asymmetric pads, 3 output channels
# per group (blocks of one plane), a channel multiplier (1 input channel
# per group), 16 and 32 channels per group, two images, 1-d, no bias, and a
# Relu or a residual Add and Relu after (in the kernel). Expected outputs
# tap by tap in float64.
def grouped_conv_f64(x, w, group, stride, pads, dilation):
    """A grouped 2-d convolution, pads [top, left, bottom, right]."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    fg = f // group
    xp = np.pad(x.astype(np.float64),
                ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - dilation * (kh - 1) - 1) // stride + 1
    ow = (xp.shape[3] - dilation * (kw - 1) - 1) // stride + 1
    y = np.zeros((n, f, oh, ow))
    w64 = w.astype(np.float64)
    for gi in range(group):
        xs = xp[:, gi * cg:(gi + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                tap = xs[:, :, i * dilation:i * dilation + stride * (oh - 1) + 1:stride,
                         j * dilation:j * dilation + stride * (ow - 1) + 1:stride]
                y[:, gi * fg:(gi + 1) * fg] += np.einsum(
                    "nchw,oc->nohw", tap, w64[gi * fg:(gi + 1) * fg, :, i, j])
    return y


def grouped_conv_case(name, shape, f, group, k, stride=1, pads=None,
                      dilation=1, end="relu", bias=True):
    one_d = len(shape) == 3
    shape2 = shape[:2] + (1,) + shape[2:] if one_d else shape
    c = shape[1]
    kh = 1 if one_d else k
    pads = pads or ([0, k // 2 * dilation, 0, k // 2 * dilation] if one_d
                    else [k // 2 * dilation] * 4)
    xt = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((f, c // group, kh, k)) /
         np.sqrt(c // group * kh * k)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    y = grouped_conv_f64(xt.reshape(shape2), w, group, stride, pads, dilation)
    if bias:
        y += b.astype(np.float64)[None, :, None, None]
    if one_d:
        y, w = y[:, :, 0], w[:, :, 0]
    attrs = dict(kernel_shape=[k] if one_d else [k, k], group=group,
                 strides=[stride] * (1 if one_d else 2),
                 dilations=[dilation] * (1 if one_d else 2),
                 pads=[pads[1], pads[3]] if one_d else pads)
    nodes = [helper.make_node("Conv", ["x", "w", "b"] if bias else ["x", "w"],
                              ["y" if end is None else "c"], **attrs)]
    if end == "relu":
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
        y = np.maximum(y, 0)
    elif end == "residual":
        nodes += [helper.make_node("Add", ["c", "x"], ["s"]),
                  helper.make_node("Relu", ["s"], ["y"])]
        y = np.maximum(y + xt, 0)
    inits = [numpy_helper.from_array(w, "w")]
    if bias:
        inits.append(numpy_helper.from_array(b, "b"))
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt], [y.astype(np.float32)])


grouped_conv_case("conv_grouped_32x4_relu", (1, 128, 20, 22), 128, 32, 3)
grouped_conv_case("conv_grouped_s2", (1, 64, 15, 17), 64, 16, 3, stride=2)
grouped_conv_case("conv_grouped_residual_batch2", (2, 64, 7, 7), 64, 16, 3,
                  end="residual")
grouped_conv_case("conv_grouped_dilated_5x5", (1, 48, 12, 13), 72, 12, 5,
                  dilation=2, end=None, bias=False)
grouped_conv_case("conv_grouped_3_per_group", (1, 36, 10, 11), 36, 12, 3,
                  pads=[1, 0, 1, 2])
grouped_conv_case("conv_grouped_multiplier", (1, 24, 9, 30), 48, 24, 3, end=None)
grouped_conv_case("conv_grouped_16_per_group", (1, 256, 14, 14), 256, 16, 3)
grouped_conv_case("conv_grouped_32_per_group_7x7", (1, 512, 7, 7), 512, 16, 3,
                  end="residual")
grouped_conv_case("conv_grouped_1d", (2, 32, 40), 32, 16, 5)


# A 1x1 convolution (Clip after) whose padded output only a depthwise
# convolution (Clip after) reads, as in MobileNetV2's inverted residual
# blocks: kiln-lower-matmuls runs the pair a band of output rows at a time
# (fuse-depthwise), the band's padded input rows in a buffer on the stack,
# the first band's top border and the last band's bottom one zero there.
# Stride 1 and 2; output rows that the bands divide or leave a short last
# band (29 = 3 x 9 + 2; 15 = 3 x 5), image rows wider than a vector and
# narrower, many bands on the threads (cases.threads).
def expansion_depthwise_case(name, shape, f, stride):
    n, c, h, wd = shape
    xt = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((f, c, 1, 1)) / np.sqrt(c)).astype(np.float32)
    bias = rng.standard_normal(f).astype(np.float32)
    k = rng.standard_normal((f, 1, 3, 3)).astype(np.float32)
    kb = rng.standard_normal(f).astype(np.float32)
    e = conv_f64(xt, w, 1, 0) + bias.astype(np.float64)[None, :, None, None]
    e = np.clip(e, 0, 6).astype(np.float32)
    ep = np.pad(e.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(ep, (3, 3), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]
    y = np.einsum("nchwij,cij->nchw", win, k[:, 0].astype(np.float64))
    y = np.clip(y + kb.astype(np.float64)[None, :, None, None], 0, 6)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[1, 1]),
             helper.make_node("Clip", ["c", "lo", "hi"], ["e"]),
             helper.make_node("Conv", ["e", "k", "kb"], ["d"], kernel_shape=[3, 3],
                              strides=[stride, stride], pads=[1] * 4, group=f),
             helper.make_node("Clip", ["d", "lo", "hi"], ["y"])]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b"),
             numpy_helper.from_array(k, "k"), numpy_helper.from_array(kb, "kb"),
             numpy_helper.from_array(np.float32(0), "lo"),
             numpy_helper.from_array(np.float32(6), "hi")]
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt], [y.astype(np.float32)])


expansion_depthwise_case("expansion_depthwise_30x30", (1, 8, 30, 30), 24, 1)
expansion_depthwise_case("expansion_depthwise_29x13", (1, 16, 29, 13), 48, 1)
expansion_depthwise_case("expansion_depthwise_s2_29x29", (1, 8, 29, 29), 32, 2)
expansion_depthwise_case("expansion_depthwise_s2_56x56", (1, 24, 56, 56), 144, 2)


# A network's first convolution (3x3, stride 2, B its input's im2col; Relu
# or Clip after) whose output only a window reads: a max pool of the
# unpadded output (SqueezeNet's first layers), or a depthwise convolution
# of the padded one (MobileNetV2's). kiln-lower-matmuls runs the pair a
# band of the window's output rows at a time (fuse-depthwise), each band's
# GEMM packing the im2col of the input rows its rows read. Pools of 3 and
# of 2 (no rows carried between bands); output rows the bands divide or
# leave a short last band; a padded convolution input; many bands on the
# threads (cases.threads). A max pool with padding stays apart, and so does
# a pool whose input is read again after it (here a second output).
def stem_window_case(name, shape, f, pad, window, k, stride, also_out=False):
    n, c, h, wd = shape
    xt = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((f, c, 3, 3)) / np.sqrt(c * 9)).astype(np.float32)
    bias = rng.standard_normal(f).astype(np.float32)
    e = conv_f64(xt, w, 2, pad) + bias.astype(np.float64)[None, :, None, None]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3],
                              strides=[2, 2], pads=[pad] * 4)]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")]
    if window == "depthwise":
        e = np.clip(e, 0, 6).astype(np.float32)
        dk = rng.standard_normal((f, 1, 3, 3)).astype(np.float32)
        db = rng.standard_normal(f).astype(np.float32)
        ep = np.pad(e.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
        win = np.lib.stride_tricks.sliding_window_view(ep, (3, 3), axis=(2, 3))
        win = win[:, :, ::stride, ::stride]
        y = np.einsum("nchwij,cij->nchw", win, dk[:, 0].astype(np.float64))
        y = y + db.astype(np.float64)[None, :, None, None]
        nodes += [helper.make_node("Clip", ["c", "lo", "hi"], ["e"]),
                  helper.make_node("Conv", ["e", "k", "kb"], ["y"],
                                   kernel_shape=[3, 3], strides=[stride, stride],
                                   pads=[1] * 4, group=f)]
        inits += [numpy_helper.from_array(dk, "k"), numpy_helper.from_array(db, "kb"),
                  numpy_helper.from_array(np.float32(0), "lo"),
                  numpy_helper.from_array(np.float32(6), "hi")]
    else:
        ppad = 1 if window == "max_pool_pad" else 0
        e = np.maximum(e, 0).astype(np.float32)
        ep = np.pad(e, ((0, 0), (0, 0), (ppad, ppad), (ppad, ppad)),
                    constant_values=-np.inf)
        win = np.lib.stride_tricks.sliding_window_view(ep, (k, k), axis=(2, 3))
        y = win[:, :, ::stride, ::stride].max(axis=(4, 5))
        nodes += [helper.make_node("Relu", ["c"], ["e"]),
                  helper.make_node("MaxPool", ["e"], ["y"], kernel_shape=[k, k],
                                   strides=[stride, stride], pads=[ppad] * 4)]
    outs, values = [vi("y", F, list(y.shape))], [y.astype(np.float32)]
    if also_out:
        outs.append(vi("e", F, list(e.shape)))
        values.append(e.astype(np.float32))
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))], outs, inits)
    save_case(name, g, [xt], values)


# 19 x 22 conv rows, 9 x 10 pooled: 3 bands of 3 rows.
stem_window_case("stem_conv_max_pool_39x45", (1, 3, 39, 45), 16, 0, "max_pool", 3, 2)
# 33 x 47 conv rows, 16 x 23 pooled: bands of 5 rows, the last of 1.
stem_window_case("stem_conv_max_pool_67x95", (1, 3, 67, 95), 32, 0, "max_pool", 3, 2)
# A padded input (21 x 23 conv rows), a 2x2 pool (10 x 11): no carried rows.
stem_window_case("stem_conv_max_pool_k2_pad", (1, 3, 41, 45), 24, 1, "max_pool", 2, 2)
stem_window_case("stem_conv_max_pool_padded", (1, 3, 41, 45), 24, 1, "max_pool_pad", 3, 2)
stem_window_case("stem_conv_max_pool_two_readers", (1, 3, 39, 45), 16, 0, "max_pool", 3,
                 2, also_out=True)
# 29 x 21 conv rows, a depthwise convolution of stride 1 (MobileNetV2's).
stem_window_case("stem_conv_depthwise_57x41", (1, 3, 57, 41), 16, 1, "depthwise", 3, 1)


# 8-bit convolutions (QLinearConv with constant, symmetric signed weights:
# the 8-bit kernel path). The reference is integer arithmetic: the exact
# i32 sum, then requantized as ONNX Runtime does, in f32.
def conv_int(x, w, stride, pad, group):
    """The exact integer sum of a 2-d convolution (x already minus its zero
    point, padded with zeros), in int64."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]
    fg = f // group
    ys = [np.einsum("nchwij,ocij->nohw", win[:, gi * cg:(gi + 1) * cg],
                    w[gi * fg:(gi + 1) * fg].astype(np.int64))
          for gi in range(group)]
    return np.concatenate(ys, axis=1)


def requantize(acc, sx, sw, sy, zy, dtype):
    """saturate(round_half_even(f32(acc) * (sx * sw / sy)) + zy), in f32."""
    mult = (np.float32(sx) * sw.astype(np.float32)) / np.float32(sy)
    v = acc.astype(np.float32) * mult.astype(np.float32)[None, :, None, None]
    info = np.iinfo(dtype)
    r = np.rint(v) + np.float32(zy)
    return np.clip(r, info.min, info.max).astype(dtype)


def qlinearconv_case(name, shape, f, k, stride, pad, group, xdtype,
                     per_channel, bias, wmax=127):
    n, c, h, wd = shape
    info = np.iinfo(xdtype)
    x = rng.integers(info.min, info.max + 1, shape).astype(xdtype)
    w = rng.integers(-wmax, wmax + 1, (f, c // group, k, k)).astype(np.int8)
    zx = np.array(int(info.min) + 117, xdtype)
    sx = np.array(0.02, np.float32)
    sw = (rng.uniform(0.002, 0.01, f) if per_channel
          else rng.uniform(0.002, 0.01, 1)).astype(np.float32)
    sy = np.array(0.5, np.float32)
    zy = np.array(int(info.min) + 121, xdtype)
    b = rng.integers(-20000, 20000, f).astype(np.int32)
    inits = [numpy_helper.from_array(v, nm) for v, nm in (
        (sx, "sx"), (zx, "zx"), (w, "w"), (sw, "sw"), (np.zeros(len(sw), np.int8), "zw"),
        (sy, "sy"), (zy, "zy"))]
    inputs = ["x", "sx", "zx", "w", "sw", "zw", "sy", "zy"]
    if bias:
        inits.append(numpy_helper.from_array(b, "b"))
        inputs.append("b")
    node = helper.make_node("QLinearConv", inputs, ["y"], kernel_shape=[k, k],
                            pads=[pad] * 4, strides=[stride, stride], group=group)
    acc = conv_int(x.astype(np.int64) - int(zx), w, stride, pad, group)
    if bias:
        acc = acc + b[None, :, None, None]
    swf = np.broadcast_to(sw, (f,))
    y = requantize(acc, sx, swf, sy, zy, xdtype)
    et = TensorProto.UINT8 if xdtype == np.uint8 else TensorProto.INT8
    g = helper.make_graph([node], name, [vi("x", et, list(shape))],
                          [vi("y", et, list(y.shape))], inits)
    save_case(name, g, [x], [y])


# Unsigned input, per-channel scales, bias, 3x3 same padding, odd image.
qlinearconv_case("qlinearconv_u8_3x3", (1, 16, 13, 11), 24, 3, 1, 1, 1,
                 np.uint8, True, True)
# A first layer: 3 channels (K = 27, not a multiple of 4), stride 2.
qlinearconv_case("qlinearconv_u8_stem", (1, 3, 19, 17), 20, 3, 2, 1, 1,
                 np.uint8, True, True)
# Signed input, one weight scale, 1x1, no bias, two images and two groups.
qlinearconv_case("qlinearconv_s8_1x1_groups", (2, 32, 7, 9), 40, 1, 1, 0, 2,
                 np.int8, False, False)
# Depthwise (one channel per group): kiln-lower-windows' row kernel on the
# bytes. Unsigned, stride 2, per-channel, bias; signed, stride 1, two images.
qlinearconv_case("qlinearconv_u8_depthwise", (1, 24, 15, 21), 24, 3, 2, 1, 24,
                 np.uint8, True, True)
qlinearconv_case("qlinearconv_s8_depthwise", (2, 16, 9, 18), 16, 3, 1, 1, 16,
                 np.int8, True, True)


# A QDQ model as ONNX Runtime's quantizer writes one: float input and
# output, QuantizeLinear / DequantizeLinear around each convolution, int8
# weights per channel (symmetric), int32 biases at scale x_scale * w_scale,
# uint8 activations; a Relu and a Clip(0, 6) between a Conv and its
# QuantizeLinear. kiln-fuse-qdq makes each pattern one 8-bit convolution:
# the reference is the same integer arithmetic, so the outputs are exact.
def quantize(v, s, z, dtype):
    info = np.iinfo(dtype)
    q = np.rint(v.astype(np.float32) / np.float32(s)) + np.float32(z)
    return np.clip(q, info.min, info.max).astype(dtype)


def qdq_case(name):
    x = rng.standard_normal((1, 8, 12, 10)).astype(np.float32)
    sx, zx = np.float32(0.03), np.uint8(131)
    w1 = rng.integers(-127, 128, (16, 8, 3, 3)).astype(np.int8)
    sw1 = rng.uniform(0.002, 0.006, 16).astype(np.float32)
    b1 = rng.integers(-3000, 3000, 16).astype(np.int32)
    s1, z1 = np.float32(0.05), np.uint8(17)
    w2 = rng.integers(-127, 128, (12, 16, 1, 1)).astype(np.int8)
    sw2 = np.array([0.004], np.float32)
    s2, z2 = np.float32(0.04), np.uint8(9)
    sb1 = (sx * sw1).astype(np.float32)
    arr = lambda v, n: numpy_helper.from_array(np.asarray(v), n)
    inits = [arr(sx, "sx"), arr(zx, "zx"), arr(w1, "w1"), arr(sw1, "sw1"),
             arr(np.zeros(16, np.int8), "zw1"), arr(b1, "b1"), arr(sb1, "sb1"),
             arr(np.zeros(16, np.int32), "zb1"), arr(s1, "s1"), arr(z1, "z1"),
             arr(w2, "w2"), arr(sw2[0], "sw2"), arr(np.int8(0), "zw2"),
             arr(s2, "s2"), arr(z2, "z2"),
             arr(np.float32(0), "zero"), arr(np.float32(6), "six")]
    N = helper.make_node
    nodes = [
        N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
        N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
        N("DequantizeLinear", ["w1", "sw1", "zw1"], ["w1d"], axis=0),
        N("DequantizeLinear", ["b1", "sb1", "zb1"], ["b1d"], axis=0),
        N("Conv", ["xd", "w1d", "b1d"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        N("Relu", ["c1"], ["r1"]),
        N("QuantizeLinear", ["r1", "s1", "z1"], ["q1"]),
        N("DequantizeLinear", ["q1", "s1", "z1"], ["d1"]),
        N("DequantizeLinear", ["w2", "sw2", "zw2"], ["w2d"]),
        N("Conv", ["d1", "w2d"], ["c2"], kernel_shape=[1, 1]),
        N("Clip", ["c2", "zero", "six"], ["r2"]),
        N("QuantizeLinear", ["r2", "s2", "z2"], ["q2"]),
        N("DequantizeLinear", ["q2", "s2", "z2"], ["y"]),
    ]
    g = helper.make_graph(nodes, name, [vi("x", F, [1, 8, 12, 10])],
                          [vi("y", F, [1, 12, 12, 10])], inits)
    xq = quantize(x, sx, zx, np.uint8)
    acc1 = conv_int(xq.astype(np.int64) - int(zx), w1, 1, 1, 1) + b1[None, :, None, None]
    q1 = np.maximum(requantize(acc1, sx, sw1, s1, z1, np.uint8), z1)
    acc2 = conv_int(q1.astype(np.int64) - int(z1), w2, 1, 0, 1)
    q2 = requantize(acc2, s1, np.broadcast_to(sw2, (12,)), s2, z2, np.uint8)
    q2 = np.clip(q2, quantize(np.float32(0), s2, z2, np.uint8),
                 quantize(np.float32(6), s2, z2, np.uint8))
    y = ((q2.astype(np.int64) - int(z2)).astype(np.float32) * s2).astype(np.float32)
    save_case(name, g, [x], [y])


qdq_case("qdq_conv_relu_clip")


# A transformer's Linear layer in QDQ form, after an 8-bit embedding table:
# Gather(DQ(table int8 per column)) -> Q -> DQ -> MatMul(DQ(w int8 [K, N]
# per column, axis 1)) -> Add(DQ(bias int32)) -> Q -> DQ. kiln-fuse-qdq
# gathers the table's bytes and makes the MatMul a 1x1 QLinearConv on the
# transposed rows: integers exact against the same arithmetic in numpy.
def qdq_matmul_case(name):
    vocab, k, n, batch, seq = 50, 24, 20, 2, 7
    ids = rng.integers(0, vocab, (batch, seq)).astype(np.int64)
    table = rng.integers(-127, 128, (vocab, k)).astype(np.int8)
    st = rng.uniform(0.01, 0.03, k).astype(np.float32)
    sx, zx = np.float32(0.02), np.uint8(128)
    w = rng.integers(-127, 128, (k, n)).astype(np.int8)
    sw = rng.uniform(0.002, 0.006, n).astype(np.float32)
    b = rng.integers(-3000, 3000, n).astype(np.int32)
    sb = (sx * sw).astype(np.float32)
    sy, zy = np.float32(0.05), np.uint8(120)
    arr = lambda v, nm: numpy_helper.from_array(np.asarray(v), nm)
    inits = [arr(table, "table"), arr(st, "st"), arr(np.zeros(k, np.int8), "zt"),
             arr(sx, "sx"), arr(zx, "zx"), arr(w, "w"), arr(sw, "sw"),
             arr(np.zeros(n, np.int8), "zw"), arr(b, "b"), arr(sb, "sb"),
             arr(np.zeros(n, np.int32), "zb"), arr(sy, "sy"), arr(zy, "zy")]
    N = helper.make_node
    nodes = [
        N("DequantizeLinear", ["table", "st", "zt"], ["td"], axis=1),
        N("Gather", ["td", "ids"], ["e"]),
        N("QuantizeLinear", ["e", "sx", "zx"], ["eq"]),
        N("DequantizeLinear", ["eq", "sx", "zx"], ["ed"]),
        N("DequantizeLinear", ["w", "sw", "zw"], ["wd"], axis=1),
        N("DequantizeLinear", ["b", "sb", "zb"], ["bd"], axis=0),
        N("MatMul", ["ed", "wd"], ["m"]),
        N("Add", ["bd", "m"], ["a"]),
        N("QuantizeLinear", ["a", "sy", "zy"], ["yq"]),
        N("DequantizeLinear", ["yq", "sy", "zy"], ["y"]),
    ]
    g = helper.make_graph(nodes, name, [vi("ids", TensorProto.INT64, [batch, seq])],
                          [vi("y", F, [batch, seq, n])], inits)
    e = (table[ids].astype(np.float32) * st).astype(np.float32)
    eq = quantize(e, sx, zx, np.uint8)
    acc = (eq.astype(np.int64) - int(zx)) @ w.astype(np.int64) + b
    mult = ((np.float32(sx) * sw) / np.float32(sy)).astype(np.float32)
    r = np.rint(acc.astype(np.float32) * mult) + np.float32(zy)
    yq = np.clip(r, 0, 255).astype(np.uint8)
    y = ((yq.astype(np.int64) - int(zy)).astype(np.float32) * sy).astype(np.float32)
    save_case(name, g, [ids], [y])


qdq_matmul_case("qdq_matmul_gather")


# 7-bit weights ([-64, 64], what kilnc --quantize gives x86 without VNNI):
# there the kernel sums byte pairs in 16 bits with vpmaddubsw, which these
# cannot saturate (cases.x86-avx2.int8 compiles them for Haswell). Unsigned
# 3x3 with an odd image; a stem (K = 27); signed input, 1x1, two groups.
qlinearconv_case("qlinearconv_u8_3x3_7bit", (1, 16, 13, 11), 24, 3, 1, 1, 1,
                 np.uint8, True, True, wmax=64)
qlinearconv_case("qlinearconv_u8_stem_7bit", (1, 3, 19, 17), 20, 3, 2, 1, 1,
                 np.uint8, True, True, wmax=64)
qlinearconv_case("qlinearconv_s8_1x1_groups_7bit", (2, 32, 7, 9), 40, 1, 1,
                 0, 2, np.int8, False, False, wmax=64)


# DQ -> GlobalAveragePool -> Flatten -> Q -> DQ (a classifier's head in
# ONNX Runtime's QDQ form): kiln-fuse-qdq sums each plane's bytes in i32 and
# requantizes the sum once, as ONNX Runtime's QLinearGlobalAveragePool:
# round((sum - n * zx) * (sx / (sy * n))) + zy, saturated (some channels
# here saturate at both ends). The reference is that arithmetic, exactly.
def qdq_global_average_pool_case(name):
    shape = (2, 16, 7, 9)
    n = shape[2] * shape[3]
    x = rng.integers(0, 256, shape).astype(np.uint8)
    sx, zx = np.float32(0.03), np.uint8(131)
    sy, zy = np.float32(0.003), np.uint8(128)
    inits = [numpy_helper.from_array(np.array(v), nm) for v, nm in (
        (sx, "sx"), (zx, "zx"), (sy, "sy"), (zy, "zy"))]
    N = helper.make_node
    nodes = [
        N("DequantizeLinear", ["x", "sx", "zx"], ["xd"]),
        N("GlobalAveragePool", ["xd"], ["p"]),
        N("Flatten", ["p"], ["f"], axis=1),
        N("QuantizeLinear", ["f", "sy", "zy"], ["q"]),
        N("DequantizeLinear", ["q", "sy", "zy"], ["y"]),
    ]
    g = helper.make_graph(nodes, name, [vi("x", TensorProto.UINT8, list(shape))],
                          [vi("y", F, [shape[0], shape[1]])], inits)
    total = x.astype(np.int64).sum(axis=(2, 3)) - n * int(zx)
    mult = np.float32(sx) / (np.float32(sy) * np.float32(n))
    v = total.astype(np.float32) * mult
    q = np.clip(np.rint(v) + np.float32(zy), 0, 255).astype(np.uint8)
    y = ((q.astype(np.int64) - int(zy)).astype(np.float32) * sy).astype(np.float32)
    save_case(name, g, [x], [y])


qdq_global_average_pool_case("qdq_global_average_pool")


# Output planes whose last columns are fewer than a vector past the last
# 48-column panel, which the kernel takes as dot products along k: 7 x 7
# (49 = 48 + 1; K = 153, not a whole number of 64-byte steps; 20 filters, a
# short block of 4 rows) and 14 x 14 (196 = 192 + 4; 13 filters). The
# larger 7 x 7 one (K = 1152, 96 filters) is big enough for the threads
# (cases.threads runs these at two).
qlinearconv_case("qlinearconv_u8_7x7_tail", (1, 17, 9, 9), 20, 3, 1, 0, 1,
                 np.uint8, True, True)
qlinearconv_case("qlinearconv_u8_14x14_tail", (1, 8, 14, 14), 13, 3, 1, 1, 1,
                 np.uint8, True, True)
qlinearconv_case("qlinearconv_s8_7x7_tail_wide", (1, 128, 9, 9), 96, 3, 1, 0,
                 1, np.int8, True, False)
# Output lines wider than a vector and no multiple of it (37 and 38
# columns): the packing reads a vector that lies in one line with one load
# and one that spans two line by line; stride 1, and stride 2.
qlinearconv_case("qlinearconv_u8_wide_lines", (1, 8, 9, 37), 12, 3, 1, 1, 1,
                 np.uint8, True, True)
qlinearconv_case("qlinearconv_u8_wide_lines_s2", (1, 4, 17, 75), 12, 3, 2, 1,
                 1, np.uint8, True, True)


# DQ -> AveragePool -> Q, per tensor, each window divided by the kernel's
# size: kiln-fuse-qdq makes it a depthwise QLinearConv of weights 1 and
# w_scale 1 / (kh * kw) on the bytes; the reference is that arithmetic (the
# exact sum of x - x_zero_point over the window, padding adding nothing,
# times x_scale * w_scale / y_scale in f32, rounded half to even), saturating
# at both ends. Inception's 3x3, stride 1, padded, count_include_pad = 1 on
# unsigned bytes; DenseNet's 2x2, stride 2 on signed ones, two images.
def qdq_average_pool_case(name, shape, k, stride, pad, dtype):
    info = np.iinfo(dtype)
    et = TensorProto.UINT8 if dtype == np.uint8 else TensorProto.INT8
    x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    sx, zx = np.float32(0.02), np.array(int(info.min) + 140, dtype)
    sy, zy = np.float32(0.006), np.array(int(info.min) + 117, dtype)
    inits = [numpy_helper.from_array(np.array(v), nm) for v, nm in (
        (sx, "sx"), (zx, "zx"), (sy, "sy"), (zy, "zy"))]
    attrs = dict(kernel_shape=[k, k], strides=[stride, stride])
    if pad:
        attrs.update(pads=[pad] * 4, count_include_pad=1)
    N = helper.make_node
    nodes = [
        N("DequantizeLinear", ["x", "sx", "zx"], ["xd"]),
        N("AveragePool", ["xd"], ["p"], **attrs),
        N("QuantizeLinear", ["p", "sy", "zy"], ["y"]),
    ]
    centred = x.astype(np.int64) - int(zx)
    c = shape[1]
    acc = conv_int(centred, np.ones((c, 1, k, k), np.int8), stride, pad, c)
    sw = np.array([np.float32(1.0) / np.float32(k * k)], np.float32)
    y = requantize(acc, sx, np.broadcast_to(sw, (c,)), sy, zy, dtype)
    g = helper.make_graph(nodes, name, [vi("x", et, list(shape))],
                          [vi("y", et, list(y.shape))], inits)
    save_case(name, g, [x], [y])


qdq_average_pool_case("qdq_average_pool_u8_3x3_pad", (1, 24, 17, 19), 3, 1,
                      1, np.uint8)
qdq_average_pool_case("qdq_average_pool_s8_2x2_s2", (2, 16, 14, 14), 2, 2, 0,
                      np.int8)


def transpose_case(name, shape, perm, dtype=np.float32):
    """A Transpose that moves the innermost axis (kiln-lower-transposes' w x
    w register tiles), its edges where the tiled extents are not multiples
    of the tile, then Relu (or Neg) so that it is not the graph's last
    copy."""
    et = TensorProto.FLOAT if dtype == np.float32 else TensorProto.INT32
    x = (rng.standard_normal(shape) * 100).astype(dtype)
    op = "Relu" if dtype == np.float32 else "Neg"
    y = np.transpose(x, perm)
    y = np.maximum(y, 0) if dtype == np.float32 else -y
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=list(perm)),
             helper.make_node(op, ["t"], ["y"])]
    g = helper.make_graph(nodes, name, [vi("x", et, list(shape))],
                          [vi("y", et, list(y.shape))])
    save_case(name, g, [x], [y.astype(dtype)])


# An attention's K^T, its sequence (20) not a multiple of 8; a matrix with
# both tiled extents ragged; a 3-d rotation; whole tiles of int32.
transpose_case("transpose_kt_seq20", (1, 20, 3, 24), (0, 2, 3, 1))
transpose_case("transpose_2d_ragged", (13, 19), (1, 0))
transpose_case("transpose_3d_rotate", (6, 10, 9), (2, 0, 1))
transpose_case("transpose_int32", (16, 8), (1, 0), np.int32)


def softmax_case(name, shape, scale=None):
    """Softmax along the last axis (kiln-fuse-softmax's row kernel), after
    a multiplication or division by a constant (folded into the kernel's
    reads when it is a positive factor or a power of two), rows of any
    length, a masked position (-inf, as a causal mask leaves) in some."""
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    x.reshape(-1, shape[-1])[::3, -1] = -np.inf
    nodes, inits, src = [], [], "x"
    v = x.astype(np.float64)
    if scale is not None:
        op, c = scale
        inits.append(numpy_helper.from_array(np.array(c, np.float32), "c"))
        nodes.append(helper.make_node(op, ["x", "c"], ["xs"]))
        xs = (x * np.float32(c)) if op == "Mul" else (x / np.float32(c))
        v, src = xs.astype(np.float64), "xs"
    nodes.append(helper.make_node("Softmax", [src], ["y"], axis=-1))
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    y = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, list(shape))], inits)
    save_case(name, g, [x], [y])


# Attention's scores at sequence 37 (rows of four vectors and a tail of
# five) scaled by 1/8; a factor; a division by 3 that stays its own pass;
# short rows of one partial vector; many rows of 128.
softmax_case("softmax_scores_div8", (1, 4, 37, 37), ("Div", 8.0))
softmax_case("softmax_mul_factor", (2, 3, 5, 24), ("Mul", 0.3))
softmax_case("softmax_div3", (6, 40), ("Div", 3.0))
softmax_case("softmax_short_rows", (7, 3))
softmax_case("softmax_rows128", (2, 4, 128, 128))


# A 1x1 convolution and Relu into the zero-padded input of a stride-2 3x3
# convolution (ResNet-50's, before each stage): the threads that write the
# padded buffer's interior write its border too, each beside the image rows
# whose first pixels it writes (kiln-lower-matmuls' fillBorders), rather
# than the caller before them. Pixels split among the threads mid-row (odd
# widths), by panels of B read in place (fewer than 128 channels) or packed
# by the threads, by rows of channels where there are few panels; the last
# columns in a call of their own or as dot products (ctest cases.threads).
def conv_border_s2_case(name, shape, f1, f2):
    n, c, h, wd = shape
    xt = rng.standard_normal(shape).astype(np.float32)
    w1 = (rng.standard_normal((f1, c, 1, 1)) / np.sqrt(c)).astype(np.float32)
    b1 = rng.standard_normal(f1).astype(np.float32)
    w2 = (rng.standard_normal((f2, f1, 3, 3)) / np.sqrt(f1 * 9)).astype(np.float32)
    b2 = rng.standard_normal(f2).astype(np.float32)
    r = np.maximum(conv_f64(xt, w1, 1, 0) + b1.astype(np.float64)[None, :, None, None], 0)
    y = conv_f64(r, w2, 2, 1) + b2.astype(np.float64)[None, :, None, None]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], kernel_shape=[1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Conv", ["r", "w2", "b2"], ["y"], kernel_shape=[3, 3],
                              strides=[2, 2], pads=[1, 1, 1, 1])]
    inits = [numpy_helper.from_array(v, k) for k, v in
             [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)]]
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt], [y.astype(np.float32)])


conv_border_s2_case("conv_border_s2_in_place", (1, 64, 30, 31), 96, 64)
conv_border_s2_case("conv_border_s2_packed", (1, 64, 47, 49), 128, 32)
conv_border_s2_case("conv_border_s2_rows_dot_tail", (1, 256, 14, 14), 128, 64)


# A 1x1 convolution that reduces channels (at most half as many filters as
# input channels), with its bias, a residual Add and a Relu: on two threads
# (ctest cases.threads), where the threads would share its row blocks (few
# panels), it runs as two halves of its input channels, a thread each into a
# partial output of its own, then their sum, bias and epilogue by rows
# (kiln-lower-matmuls' split-k). 49 and 196 pixels (the last columns as dot
# products); 36 filters, a last row block of 4 rows.
def conv_split_k_case(name, shape, f):
    n, c, h, wd = shape
    xt = rng.standard_normal(shape).astype(np.float32)
    rt = rng.standard_normal((n, f, h, wd)).astype(np.float32)
    w = (rng.standard_normal((f, c, 1, 1)) / np.sqrt(c)).astype(np.float32)
    bias = rng.standard_normal(f).astype(np.float32)
    y = np.maximum(conv_f64(xt, w, 1, 0) + bias.astype(np.float64)[None, :, None, None]
                   + rt.astype(np.float64), 0)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[1, 1]),
             helper.make_node("Add", ["c", "r"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"])]
    inits = [numpy_helper.from_array(v, k) for k, v in [("w", w), ("b", bias)]]
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape)), vi("r", F, list(rt.shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt, rt], [y.astype(np.float32)])


conv_split_k_case("conv_split_k_residual_7x7", (1, 512, 7, 7), 128)
conv_split_k_case("conv_split_k_residual_14x14", (1, 192, 14, 14), 36)
# Halves of 2^24 multiply-adds or more (ResNet-50's 14x14 and 7x7
# reductions' sizes) are packed and multiplied in two calls of fine units,
# the threads taking pieces of each other's half (the last columns dot
# products of 4 and of 1).
conv_split_k_case("conv_split_k_balanced_14x14", (1, 1024, 14, 14), 256)
conv_split_k_case("conv_split_k_balanced_7x7", (1, 2048, 7, 7), 512)


# A Conv then an inference BatchNormalization (as exporters that keep the
# node write it), then a Relu: kiln-fold-batch-norms folds the normalisation
# into the Conv's weights and bias, so the Relu runs in the Conv's kernel.
# With and without the Conv's bias, a 3x3 convolution of Winograd's sizes,
# a depthwise one (a group per channel) and a 1-d one; the statistics of
# every channel different, the variances small (0.01 to 0.1) and large.
def batch_norm_f64(y, scale, beta, mean, var, eps):
    """Inference BatchNormalization of y [N, C, ...] along axis 1, in float64."""
    per = (1, -1) + (1,) * (y.ndim - 2)
    f64 = [np.asarray(v, np.float64).reshape(per) for v in (scale, beta, mean, var)]
    return (y - f64[2]) / np.sqrt(f64[3] + np.float64(eps)) * f64[0] + f64[1]


def conv_batch_norm_case(name, shape, f, k, group, bias):
    n, c = shape[:2]
    spatial = len(shape) - 2
    xt = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((f, c // group) + (k,) * spatial) /
         np.sqrt(c // group * k ** spatial)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    scale = rng.uniform(0.2, 3.0, f).astype(np.float32)
    beta = rng.standard_normal(f).astype(np.float32)
    mean = rng.standard_normal(f).astype(np.float32)
    var = np.concatenate([rng.uniform(0.01, 0.1, f // 2),
                          rng.uniform(0.5, 4.0, f - f // 2)]).astype(np.float32)
    eps = np.float32(1e-5)
    pad = k // 2
    cg, fg = c // group, f // group
    if spatial == 2:
        y = np.concatenate([conv_f64(xt[:, g * cg:(g + 1) * cg], w[g * fg:(g + 1) * fg], 1, pad)
                            for g in range(group)], axis=1)
    else:
        xp = np.pad(xt.astype(np.float64), ((0, 0), (0, 0), (pad, pad)))
        win = np.lib.stride_tricks.sliding_window_view(xp, k, axis=2)
        y = np.einsum("nclk,ock->nol", win, w.astype(np.float64))
    if bias:
        y += b.astype(np.float64).reshape((1, f) + (1,) * spatial)
    y = np.maximum(batch_norm_f64(y, scale, beta, mean, var, eps), 0)
    conv_in = ["x", "w", "b"] if bias else ["x", "w"]
    nodes = [helper.make_node("Conv", conv_in, ["c"], kernel_shape=[k] * spatial,
                              pads=[pad] * (2 * spatial), group=group),
             helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"],
                              ["n"], epsilon=float(eps)),
             helper.make_node("Relu", ["n"], ["y"])]
    inits = [numpy_helper.from_array(v, k_) for k_, v in
             [("w", w), ("b", b), ("scale", scale), ("beta", beta), ("mean", mean),
              ("var", var)] if bias or k_ != "b"]
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt], [y.astype(np.float32)])


conv_batch_norm_case("conv_batch_norm_relu", (1, 32, 28, 28), 64, 3, 1, False)
conv_batch_norm_case("conv_bias_batch_norm_relu", (1, 16, 9, 11), 24, 1, 1, True)
conv_batch_norm_case("conv_depthwise_batch_norm_relu", (1, 48, 14, 14), 48, 3, 48, False)
conv_batch_norm_case("conv_1d_batch_norm_relu", (2, 8, 50), 12, 3, 1, True)


# ConvTranspose with constant weights, which kiln-decompose-conv-transposes
# runs as one stride-1 Conv of its output phases and a depth-to-space
# shuffle (the node suite's ConvTransposes take their weights as inputs and
# keep the direct lowering): kernels that the stride divides (2 at stride 2,
# 4 at 2 with pads 1, as decoders and GANs use) and that it does not (3 at
# 2, with output_padding; 5 at 3), a window that overruns the output (the
# phases' last outputs sliced off), auto_pad SAME_UPPER, stride 1, with
# and without a bias, 1-d, 2-d and 3-d, one with a Clip after it (which
# runs before the shuffle, in the Conv's kernel). Expected outputs by scattering
# each input element's products, in float64.
def conv_transpose_case(name, shape, m, kernel, strides, pads=None, out_pad=None,
                        bias=True, auto_pad=None, clip=False):
    n, c = shape[:2]
    sr = len(shape) - 2
    xt = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((c, m) + tuple(kernel)) /
         np.sqrt(c * np.prod(kernel))).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    pads = pads or [0] * (2 * sr)
    out_pad = out_pad or [0] * sr
    if auto_pad == "SAME_UPPER":
        outs = [shape[2 + i] * strides[i] for i in range(sr)]
        total = [strides[i] * (shape[2 + i] - 1) + out_pad[i] + kernel[i] - outs[i]
                 for i in range(sr)]
        begin = [t // 2 for t in total]
    else:
        begin = pads[:sr]
        outs = [strides[i] * (shape[2 + i] - 1) + out_pad[i] + kernel[i] -
                pads[i] - pads[sr + i] for i in range(sr)]
    full = np.zeros((n, m) + tuple(strides[i] * (shape[2 + i] - 1) + kernel[i] +
                                   out_pad[i] for i in range(sr)))
    for idx in np.ndindex(*kernel):
        contrib = np.einsum("nc...,cm->nm...", xt.astype(np.float64),
                            w[(slice(None), slice(None)) + idx].astype(np.float64))
        sl = tuple(slice(idx[i], idx[i] + strides[i] * (shape[2 + i] - 1) + 1, strides[i])
                   for i in range(sr))
        full[(slice(None), slice(None)) + sl] += contrib
    y = full[(slice(None), slice(None)) +
             tuple(slice(begin[i], begin[i] + outs[i]) for i in range(sr))]
    if bias:
        y = y + b.astype(np.float64).reshape((1, m) + (1,) * sr)
    attrs = dict(kernel_shape=list(kernel), strides=list(strides))
    if auto_pad:
        attrs["auto_pad"] = auto_pad
    else:
        attrs["pads"] = list(pads)
    if any(out_pad):
        attrs["output_padding"] = list(out_pad)
    inputs = ["x", "w", "b"] if bias else ["x", "w"]
    inits = [numpy_helper.from_array(w, "w")]
    if bias:
        inits.append(numpy_helper.from_array(b, "b"))
    nodes = [helper.make_node("ConvTranspose", inputs, ["c" if clip else "y"], **attrs)]
    if clip:
        inits += [numpy_helper.from_array(np.float32(0), "lo"),
                  numpy_helper.from_array(np.float32(0.5), "hi")]
        nodes.append(helper.make_node("Clip", ["c", "lo", "hi"], ["y"]))
        y = np.clip(y, 0, 0.5)
    g = helper.make_graph(nodes, name, [vi("x", F, list(shape))], [vi("y", F, list(y.shape))],
                          inits)
    save_case(name, g, [xt], [y.astype(np.float32)])


conv_transpose_case("conv_transpose_k2_s2", (1, 32, 14, 14), 16, [2, 2], [2, 2])
conv_transpose_case("conv_transpose_k4_s2_p1", (1, 16, 9, 7), 8, [4, 4], [2, 2],
                    pads=[1, 1, 1, 1], bias=False)
conv_transpose_case("conv_transpose_k3_s2_outpad", (2, 8, 6, 5), 12, [3, 3], [2, 2],
                    pads=[1, 1, 1, 1], out_pad=[1, 1], clip=True)
conv_transpose_case("conv_transpose_k5_s3", (1, 4, 5, 6), 6, [5, 3], [3, 2],
                    pads=[2, 0, 1, 1])
conv_transpose_case("conv_transpose_same_upper", (1, 6, 7, 7), 5, [3, 3], [2, 2],
                    auto_pad="SAME_UPPER")
conv_transpose_case("conv_transpose_s1", (1, 8, 10, 10), 8, [3, 3], [1, 1],
                    pads=[1, 1, 1, 1])
conv_transpose_case("conv_transpose_1d", (2, 6, 11), 4, [4], [2], pads=[1, 2])
conv_transpose_case("conv_transpose_3d", (1, 4, 3, 4, 5), 3, [2, 3, 2], [2, 2, 2],
                    pads=[0, 1, 0, 0, 1, 0])


# BatchNormalization after a Gemm (BatchNorm1d after a Linear layer, B
# transposed or not) and after a ConvTranspose, then a Relu: folded into
# their weights and bias as after a Conv.
def layer_batch_norm_case(name, kind, trans_b=1):
    f = 24
    scale = rng.uniform(0.2, 3.0, f).astype(np.float32)
    beta = rng.standard_normal(f).astype(np.float32)
    mean = rng.standard_normal(f).astype(np.float32)
    var = rng.uniform(0.01, 4.0, f).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    if kind == "gemm":
        xt = rng.standard_normal((16, 40)).astype(np.float32)
        w = (rng.standard_normal((f, 40) if trans_b else (40, f)) / 6).astype(np.float32)
        y = xt.astype(np.float64) @ (w.T if trans_b else w).astype(np.float64) + b
        layer = helper.make_node("Gemm", ["x", "w", "b"], ["l"], transB=trans_b)
    else:
        xt = rng.standard_normal((1, 8, 5, 6)).astype(np.float32)
        w = (rng.standard_normal((8, f, 2, 2)) / 4).astype(np.float32)
        y = np.zeros((1, f, 10, 12))
        for i in range(2):
            for j in range(2):
                y[:, :, i::2, j::2] = np.einsum("nchw,cm->nmhw", xt.astype(np.float64),
                                                w[:, :, i, j].astype(np.float64))
        y += b.astype(np.float64)[None, :, None, None]
        layer = helper.make_node("ConvTranspose", ["x", "w", "b"], ["l"], strides=[2, 2])
    y = batch_norm_f64(y, scale, beta, mean, var, np.float32(1e-5))
    nodes = [layer,
             helper.make_node("BatchNormalization", ["l", "scale", "beta", "mean", "var"], ["n"]),
             helper.make_node("Relu", ["n"], ["y"])]
    inits = [numpy_helper.from_array(v, k) for k, v in
             [("w", w), ("b", b), ("scale", scale), ("beta", beta), ("mean", mean),
              ("var", var)]]
    g = helper.make_graph(nodes, name, [vi("x", F, list(xt.shape))],
                          [vi("y", F, list(y.shape))], inits)
    save_case(name, g, [xt], [np.maximum(y, 0).astype(np.float32)])


layer_batch_norm_case("gemm_batch_norm_relu", "gemm")
layer_batch_norm_case("gemm_b_batch_norm_relu", "gemm", trans_b=0)
layer_batch_norm_case("conv_transpose_batch_norm_relu", "conv_transpose")


# Pad in reflect and edge modes by constant pads (the node suite's take
# their pads as inputs): copies a dim at a time. Pads on some dims and not
# others, reflections of exactly n - 1 rows, edge padding of a one-element
# axis, and reflections wider than the axis (the gather's repeated
# mirroring); numpy.pad's modes are ONNX's.
def pad_case(name, shape, pads, mode):
    xt = rng.standard_normal(shape).astype(np.float32)
    rank = len(shape)
    y = np.pad(xt, [(pads[i], pads[rank + i]) for i in range(rank)], mode=mode)
    g = helper.make_graph(
        [helper.make_node("Pad", ["x", "pads"], ["y"], mode=mode)], name,
        [vi("x", F, list(shape))], [vi("y", F, list(y.shape))],
        [numpy_helper.from_array(np.array(pads, np.int64), "pads")])
    save_case(name, g, [xt], [y.astype(np.float32)])


pad_case("pad_reflect_const", (1, 16, 20, 21), [0, 0, 3, 1, 0, 0, 2, 3], "reflect")
pad_case("pad_reflect_full", (2, 3, 4, 5), [0, 1, 3, 4, 0, 2, 3, 4], "reflect")
pad_case("pad_edge_const", (1, 8, 9, 10), [0, 2, 4, 1, 0, 0, 5, 2], "edge")
pad_case("pad_edge_unit_axis", (1, 1, 6), [0, 3, 2, 0, 2, 1], "edge")
pad_case("pad_reflect_wide", (1, 2, 3, 3), [0, 0, 4, 5, 0, 0, 5, 4], "reflect")
