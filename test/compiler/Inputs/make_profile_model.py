#!/usr/bin/python3
"""Writes OUTDIR/mm.onnx, a MatMul big enough for the runtime's threads
(x [128, 256] times constant weights [256, 256], then a Relu whose name
holds a tab and a line break, as ONNX allows), and its test
data OUTDIR/mm_data/{input_0,output_0}.pb (numpy's product)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)
w = rng.standard_normal((256, 256)).astype(np.float32) / 16
x = rng.standard_normal((128, 256)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["p"], name="matmul0"),
     helper.make_node("Relu", ["p"], ["y"], name="relu\t0\n")],
    "mm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [128, 256])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [128, 256])],
    [numpy_helper.from_array(w, "w")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
          os.path.join(out, "mm.onnx"))
data = os.path.join(out, "mm_data")
os.makedirs(data, exist_ok=True)
for name, value in [("input_0", x), ("output_0", np.maximum(x @ w, 0))]:
    with open(os.path.join(data, name + ".pb"), "wb") as f:
        f.write(numpy_helper.from_array(value).SerializeToString())
