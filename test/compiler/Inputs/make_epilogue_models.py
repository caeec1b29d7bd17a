#!/usr/bin/python3
"""Writes three models whose activations their layers' kernels run, each
OUTDIR/NAME.onnx with test data OUTDIR/NAME_data/{input_0,output_0}.pb
(numpy's result, in float64):

  two    two linear layers of one shape (x [128, 256] times constant
         weights [256, 256], a bias Add, a Tanh), the second's output the
         model's;
  prelu  a 3x3 convolution then a PRelu of one slope per channel ([C, 1, 1],
         read at index 0 on its unit dims);
  bn     a 3x3 convolution without a bias, an inference BatchNormalization,
         a Relu."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)


def save(name, nodes, inits, x, y):
    g = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
        [numpy_helper.from_array(v, k) for k, v in inits])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(out, name + ".onnx"))
    data = os.path.join(out, name + "_data")
    os.makedirs(data, exist_ok=True)
    for kind, value in [("input_0", x), ("output_0", y.astype(np.float32))]:
        with open(os.path.join(data, kind + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(value).SerializeToString())


def conv3x3(x, w):
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64))


x = rng.standard_normal((128, 256)).astype(np.float32)
nodes, inits, y, prev = [], [], x.astype(np.float64), "x"
for i in range(2):
    w = (rng.standard_normal((256, 256)) / 16).astype(np.float32)
    b = rng.standard_normal(256).astype(np.float32)
    inits += [("w%d" % i, w), ("b%d" % i, b)]
    result = "y" if i == 1 else "a%d" % i
    nodes += [helper.make_node("MatMul", [prev, "w%d" % i], ["m%d" % i], name="matmul%d" % i),
              helper.make_node("Add", ["m%d" % i, "b%d" % i], ["s%d" % i], name="add%d" % i),
              helper.make_node("Tanh", ["s%d" % i], [result], name="tanh%d" % i)]
    y = np.tanh(y @ w.astype(np.float64) + b.astype(np.float64))
    prev = result
save("two", nodes, inits, x, y)

c = 64
x = rng.standard_normal((1, c, 28, 28)).astype(np.float32)
w = (rng.standard_normal((c, c, 3, 3)) / 24).astype(np.float32)
b = rng.standard_normal(c).astype(np.float32)
slope = rng.uniform(0.05, 0.3, (c, 1, 1)).astype(np.float32)
v = conv3x3(x, w) + b.astype(np.float64)[None, :, None, None]
y = np.where(v < 0, v * slope.astype(np.float64)[None], v)
save("prelu", [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
               helper.make_node("PRelu", ["c", "slope"], ["y"], name="prelu")],
     [("w", w), ("b", b), ("slope", slope)], x, y)

scale = rng.uniform(0.5, 2.0, c).astype(np.float32)
beta = rng.standard_normal(c).astype(np.float32)
mean = rng.standard_normal(c).astype(np.float32)
var = rng.uniform(0.1, 2.0, c).astype(np.float32)
per = (1, c, 1, 1)
v = conv3x3(x, w)
v = (v - mean.astype(np.float64).reshape(per)) / np.sqrt(
    var.astype(np.float64).reshape(per) + np.float64(np.float32(1e-5))) * \
    scale.astype(np.float64).reshape(per) + beta.astype(np.float64).reshape(per)
save("bn", [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
            helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"],
                             ["n"], name="norm"),
            helper.make_node("Relu", ["n"], ["y"], name="relu")],
     [("w", w), ("scale", scale), ("beta", beta), ("mean", mean), ("var", var)],
     x, np.maximum(v, 0))
