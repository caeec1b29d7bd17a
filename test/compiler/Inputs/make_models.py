#!/usr/bin/python3
"""Writes the small ONNX models the importer and driver tests use into OUTDIR:
good ones (tiny, opset7, dynamic, momentum) and bad ones (truncated, not_onnx,
checker_fails, unsupported_op, training_v2, dynamic_unpinned is dynamic without a pin)."""
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

# LayerNormalization's function body at axis = -rank: an empty Slice of the
# shape, Neg, ConstantOfShape and Concat make the reduced shape.
consts = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
          [("zero1", [0]), ("axis1", [-2])]]
nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
         helper.make_node("Slice", ["s", "zero1", "axis1"], ["prefix"], name="prefix"),
         helper.make_node("Neg", ["axis1"], ["count"], name="count"),
         helper.make_node("ConstantOfShape", ["count"], ["suffix"], name="suffix",
                          value=numpy_helper.from_array(np.array([1], np.int64))),
         helper.make_node("Concat", ["prefix", "suffix"], ["reduced"], name="reduced", axis=0),
         helper.make_node("ReduceMean", ["x"], ["m"], name="mean", axes=[0, 1], keepdims=0),
         helper.make_node("Reshape", ["m", "reduced"], ["y"], name="reshape")]
g = helper.make_graph(nodes, "suffix",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
                      consts)
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "suffix.onnx")

# A Loop whose run-time trip count (3) disagrees with the length its scan
# output declares (4): kiln-run must get KILN_ERROR_SHAPE, not a crash.
body = helper.make_graph(
    [helper.make_node("Identity", ["c_in"], ["c_out"]),
     helper.make_node("Identity", ["y_in"], ["y_out"]),
     helper.make_node("Identity", ["y_in"], ["y_scan"])],
    "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
             helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
             helper.make_tensor_value_info("y_in", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("y_out", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("y_scan", TensorProto.FLOAT, [2])])
g = helper.make_graph(
    [helper.make_node("Loop", ["m", "", "y0"], ["y", "ys"], name="loop0", body=body)],
    "loop_short", [helper.make_tensor_value_info("m", TensorProto.INT64, []),
                   helper.make_tensor_value_info("y0", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("ys", TensorProto.FLOAT, [4, 2])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "loop_short.onnx")
data = os.path.join(out, "loop_short_data")
os.makedirs(data, exist_ok=True)
for i, v in enumerate([np.array(3, np.int64), np.ones(2, np.float32)]):
    with open(os.path.join(data, "input_%d.pb" % i), "wb") as f:
        f.write(numpy_helper.from_array(v).SerializeToString())
with open(os.path.join(data, "output_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(np.ones(2, np.float32)).SerializeToString())

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

g = helper.make_graph([helper.make_node("Bernoulli", ["x"], ["y"], name="bernoulli0")],
                      "unsup",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)]), "unsupported_op.onnx")

g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu0")], "new",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
m.ir_version = 8
save(m, "opset19.onnx")

# Optimizers of ai.onnx.preview.training: models that import only that domain
# (nothing to convert), and one that imports a version ONNX 1.12 lacks.
TRAINING = "ai.onnx.preview.training"


def momentum(version):
    node = helper.make_node("Momentum", ["r", "t", "x", "g", "v"], ["x_new", "v_new"],
                            name="momentum0", domain=TRAINING, alpha=0.9, beta=1.0,
                            norm_coefficient=0.0, mode="nesterov")
    g = helper.make_graph([node], "train",
                          [helper.make_tensor_value_info("r", TensorProto.FLOAT, []),
                           helper.make_tensor_value_info("t", TensorProto.INT64, []),
                           helper.make_tensor_value_info("x", TensorProto.FLOAT, [3]),
                           helper.make_tensor_value_info("g", TensorProto.FLOAT, [3]),
                           helper.make_tensor_value_info("v", TensorProto.FLOAT, [3])],
                          [helper.make_tensor_value_info("x_new", TensorProto.FLOAT, [3]),
                           helper.make_tensor_value_info("v_new", TensorProto.FLOAT, [3])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid(TRAINING, version)])


save(momentum(1), "momentum.onnx")
save(momentum(2), "training_v2.onnx")

# torch's x.expand(B, -1, -1) with a dynamic batch: Shape, Gather, Unsqueeze,
# Concat, ConstantOfShape, Mul, Equal and Where make the Expand's shape (the
# class token of a ViT). All fold once x is pinned.
consts = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
          [("zero", 0), ("zero1", [0]), ("minus1", [-1]), ("minus1s", -1),
           ("three", [3])]]
consts.append(numpy_helper.from_array(np.ones((1, 1, 4), np.float32), "cls"))
nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
         helper.make_node("Gather", ["s", "zero"], ["b"], name="batch", axis=0),
         helper.make_node("Unsqueeze", ["b", "zero1"], ["b1"], name="b1"),
         helper.make_node("Concat", ["b1", "minus1", "minus1"], ["want"], name="want", axis=0),
         helper.make_node("ConstantOfShape", ["three"], ["ones"], name="ones",
                          value=numpy_helper.from_array(np.array([1], np.int64))),
         helper.make_node("Mul", ["ones", "minus1s"], ["neg"], name="neg"),
         helper.make_node("Equal", ["want", "neg"], ["keep"], name="keep"),
         helper.make_node("Where", ["keep", "ones", "want"], ["target"], name="target"),
         helper.make_node("Expand", ["cls", "target"], ["clsb"], name="expand"),
         helper.make_node("Concat", ["clsb", "x"], ["y"], name="cat", axis=1)]
g = helper.make_graph(nodes, "expand_cls",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 4])],
                      consts)
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "expand_cls.onnx")

# A Range whose limit is computed from an input's value: no pin helps, and
# the diagnostic names the node that reads the input.
consts = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
          [("zero", 0), ("one", 1)]]
nodes = [helper.make_node("Add", ["n", "one"], ["m"], name="limit"),
         helper.make_node("Range", ["zero", "m", "one"], ["r"], name="range"),
         helper.make_node("ReduceSum", ["r"], ["y"], name="sum", keepdims=0)]
g = helper.make_graph(nodes, "value_dependent",
                      [helper.make_tensor_value_info("n", TensorProto.INT64, [])],
                      [helper.make_tensor_value_info("y", TensorProto.INT64, [])],
                      consts)
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "value_dependent.onnx")

# A Reshape whose shape passes through an op the evaluator does not compute
# (Hardmax): the diagnostic names that node.
nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
         helper.make_node("Cast", ["s"], ["sf"], name="tofloat", to=TensorProto.FLOAT),
         helper.make_node("Hardmax", ["sf"], ["hf"], name="hm", axis=0),
         helper.make_node("Cast", ["hf"], ["h"], name="toint", to=TensorProto.INT64),
         helper.make_node("Mul", ["s", "h"], ["target"], name="target"),
         helper.make_node("Reshape", ["x", "target"], ["r"], name="reshape"),
         helper.make_node("Relu", ["r"], ["y"], name="relu")]
g = helper.make_graph(nodes, "unevaluable",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "unevaluable.onnx")

# An opset 6 model with a dynamic batch and a legacy broadcast on an
# intermediate value: the pin applies before the version converter, which
# needs every input's shape.
b = numpy_helper.from_array(np.ones((4, 5), np.float32), "b")
g = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="relu"),
                       helper.make_node("Add", ["r", "b"], ["y"], name="add",
                                        broadcast=1)],
                      "legacy_dynamic",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 5]),
                       helper.make_tensor_value_info("b", TensorProto.FLOAT, [4, 5])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 4, 5])],
                      [b])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 6)])
m.ir_version = 3
save(m, "legacy_dynamic.onnx")

# A small float CNN to quantize (--quantize=int8): Conv-Relu, Conv, a
# residual Add, global pooling and a classifier; calib/ holds 4 seeded
# samples (one per subdirectory), calib_npy/ the same as a list of .npy
# files, calib_bad/ one of the wrong shape, calib_bad_npy/ one of the wrong
# element type.
rng = np.random.default_rng(3)
w1 = numpy_helper.from_array((rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32), "w1")
b1 = numpy_helper.from_array((rng.standard_normal(8) * 0.1).astype(np.float32), "b1")
w2 = numpy_helper.from_array((rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32), "w2")
fc = numpy_helper.from_array((rng.standard_normal((8, 5)) * 0.5).astype(np.float32), "fc")
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
         helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
         helper.make_node("Add", ["c2", "r1"], ["s"], name="add"),
         helper.make_node("GlobalAveragePool", ["s"], ["p"], name="pool"),
         helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
         helper.make_node("MatMul", ["f", "fc"], ["y"], name="classifier")]
g = helper.make_graph(nodes, "small_cnn",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 10, 10])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
                      [w1, b1, w2, fc])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "small_cnn.onnx")
for i in range(4):
    d = os.path.join(out, "calib", "set_%d" % i)
    os.makedirs(d, exist_ok=True)
    x = rng.standard_normal((1, 3, 10, 10)).astype(np.float32)
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())
    os.makedirs(os.path.join(out, "calib_npy"), exist_ok=True)
    np.save(os.path.join(out, "calib_npy", "sample_%d.npy" % i), x)
os.makedirs(os.path.join(out, "calib_bad_npy"), exist_ok=True)
np.save(os.path.join(out, "calib_bad_npy", "sample.npy"), np.zeros((1, 3, 10, 10), np.float64))
os.makedirs(os.path.join(out, "calib_bad"), exist_ok=True)
with open(os.path.join(out, "calib_bad", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(np.zeros((1, 3, 8, 8), np.float32), "x").SerializeToString())

# A token embedding (512 x 8, big enough to quantize) and a Linear layer after it, to quantize for a CPU
# without VNNI: embed.onnx, calib_ids/ 4 seeded samples of 4 token ids.
rng = np.random.default_rng(4)
table = numpy_helper.from_array(rng.standard_normal((512, 8)).astype(np.float32), "table")
lin = numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float32), "lin")
g = helper.make_graph([helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
                       helper.make_node("MatMul", ["e", "lin"], ["y"], name="linear")],
                      "embed",
                      [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8])],
                      [table, lin])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "embed.onnx")
for i in range(4):
    d = os.path.join(out, "calib_ids", "set_%d" % i)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(rng.integers(0, 512, (1, 4), dtype=np.int64), "ids").SerializeToString())
