#!/usr/bin/python3
"""Writes models with data-dependent output lengths into OUTDIR: nonzero
(declared length, with input data that matches it), and nonzero_dynamic /
nms_dynamic, whose length the model leaves dynamic (an intermediate value and a
graph output)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(os.path.join(out, "nonzero_data"), exist_ok=True)


def save(graph, name, opset):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, os.path.join(out, name))


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
nonzero = helper.make_node("NonZero", ["x"], ["nz"], name="nz0")
save(helper.make_graph([nonzero], "nonzero", [x],
                       [helper.make_tensor_value_info("nz", TensorProto.INT64, [2, 4])]),
     "nonzero.onnx", 13)
data = np.array([[1, 0, 2], [0, 3, 4]], np.float32)
expected = np.array(np.nonzero(data), np.int64)
for name, array in [("input_0", numpy_helper.from_array(data, "x")),
                    ("output_0", numpy_helper.from_array(expected, "nz"))]:
    with open(os.path.join(out, "nonzero_data", name + ".pb"), "wb") as f:
        f.write(array.SerializeToString())

# The NonZero result feeds a Transpose: shape inference leaves its length
# unknown.
save(helper.make_graph([nonzero, helper.make_node("Transpose", ["nz"], ["y"], name="t0")],
                       "nonzero_dynamic", [x],
                       [helper.make_tensor_value_info("y", TensorProto.INT64, [4, 2])]),
     "nonzero_dynamic.onnx", 13)

nms = helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["sel"], name="nms0")
save(helper.make_graph([nms], "nms_dynamic",
                       [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 6, 4]),
                        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, 6])],
                       [helper.make_tensor_value_info("sel", TensorProto.INT64, [None, 3])]),
     "nms_dynamic.onnx", 11)
