#!/usr/bin/python3
"""Writes OUTDIR/shared.onnx, layers that share constants, and its test data
OUTDIR/shared_data/{input_0,output_0}.pb (numpy's result): two 1x1
convolutions with one bias initializer (the second also reuses the first's
weights, as a weight-tied model does), each with a Relu, then two depthwise
3x3 convolutions whose biases are different initializers of equal values
(zeros), each with a Clip. CSE merges the equal bias broadcasts that start
each layer's accumulator."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)
c, h = 64, 14
x = rng.standard_normal((1, c, h, h)).astype(np.float32)
w = (rng.standard_normal((c, c, 1, 1)) / 8).astype(np.float32)
b = rng.standard_normal(c).astype(np.float32)
wd1 = rng.standard_normal((c, 1, 3, 3)).astype(np.float32) / 3
wd2 = rng.standard_normal((c, 1, 3, 3)).astype(np.float32) / 3
zeros = np.zeros(c, np.float32)
lo, hi = np.array(0, np.float32), np.array(6, np.float32)
nodes = [
    helper.make_node("Conv", ["x", "w", "b"], ["c0"], name="conv0"),
    helper.make_node("Relu", ["c0"], ["r0"], name="relu0"),
    helper.make_node("Conv", ["r0", "w", "b"], ["c1"], name="conv1"),
    helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
    helper.make_node("Conv", ["r1", "wd1", "bd1"], ["d0"], name="dw0",
                     group=c, pads=[1, 1, 1, 1]),
    helper.make_node("Clip", ["d0", "lo", "hi"], ["k0"], name="clip0"),
    helper.make_node("Conv", ["k0", "wd2", "bd2"], ["d1"], name="dw1",
                     group=c, pads=[1, 1, 1, 1]),
    helper.make_node("Clip", ["d1", "lo", "hi"], ["y"], name="clip1"),
]
inits = [numpy_helper.from_array(v, n) for n, v in
         [("w", w), ("b", b), ("wd1", wd1), ("bd1", zeros), ("wd2", wd2),
          ("bd2", zeros.copy()), ("lo", lo), ("hi", hi)]]
g = helper.make_graph(
    nodes, "shared",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(x.shape))],
    inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
          os.path.join(out, "shared.onnx"))


def pointwise(v):
    return np.einsum("fc,chw->fhw", w[:, :, 0, 0].astype(np.float64), v) + \
        b.astype(np.float64)[:, None, None]


def depthwise(v, k):
    p = np.pad(v, ((0, 0), (1, 1), (1, 1)))
    return sum(p[:, i:i + h, j:j + h] * k[:, 0, i, j][:, None, None]
               for i in range(3) for j in range(3))


v = x[0].astype(np.float64)
v = np.maximum(pointwise(v), 0)
v = np.maximum(pointwise(v), 0)
v = np.clip(depthwise(v, wd1), 0, 6)
y = np.clip(depthwise(v, wd2), 0, 6)[None].astype(np.float32)
data = os.path.join(out, "shared_data")
os.makedirs(data, exist_ok=True)
for name, value in [("input_0", x), ("output_0", y)]:
    with open(os.path.join(data, name + ".pb"), "wb") as f:
        f.write(numpy_helper.from_array(value).SerializeToString())
