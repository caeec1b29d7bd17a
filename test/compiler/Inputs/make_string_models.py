#!/usr/bin/python3
"""Writes models with string tensors into OUTDIR, each with a data directory
NAME_data (inputs and numpy references):

  normalize  StringNormalizer (LOWER, case-insensitive stopwords "The", "a")
             of four strings, at opset 10.
  labels     Gather from a string initializer, Concat of a string input, that
             and a string constant (axis -1).
  numbers    Cast float -> string -> float.
  labels_ml  LabelEncoder string -> int64 and int64 -> string (ai.onnx.ml).
  tfidf_strings  TfIdfVectorizer over string tokens (pool_strings).
  chain      an upper-cased copy concatenated with the input.
  dynamic_normalize  stopwords dropped into a value of open length.
  reshape    Reshape of strings, which Kiln does not take.
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


def write(name, kind, index, array, value_name):
    directory = os.path.join(out, name + "_data")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "%s_%d.pb" % (kind, index)), "wb") as f:
        f.write(numpy_helper.from_array(np.array(array), value_name).SerializeToString())


def strings(values):
    return np.array(values, dtype=object)


# normalize
graph = helper.make_graph(
    [helper.make_node("StringNormalizer", ["x"], ["y"], name="norm0",
                      case_change_action="LOWER", is_case_sensitive=0,
                      stopwords=["The", "a"])],
    "normalize", [helper.make_tensor_value_info("x", TensorProto.STRING, [4])],
    [helper.make_tensor_value_info("y", TensorProto.STRING, [2])])
save(graph, "normalize", 10)
write("normalize", "input", 0, strings(["The", "Quick", "A", "FOX"]), "x")
write("normalize", "output", 0, strings(["quick", "fox"]), "y")

# labels
vocab = numpy_helper.from_array(strings(["zero", "one", "two", "three"]), "vocab")
cat = helper.make_node("Constant", [], ["cat"], name="cat0",
                       value=numpy_helper.from_array(strings(["cat"]), "cat"))
graph = helper.make_graph(
    [cat,
     helper.make_node("Gather", ["vocab", "idx"], ["g"], name="gather0"),
     helper.make_node("Concat", ["s", "g", "cat"], ["c"], name="concat0", axis=-1)],
    "labels",
    [helper.make_tensor_value_info("s", TensorProto.STRING, [3]),
     helper.make_tensor_value_info("idx", TensorProto.INT64, [2])],
    [helper.make_tensor_value_info("g", TensorProto.STRING, [2]),
     helper.make_tensor_value_info("c", TensorProto.STRING, [6])],
    initializer=[vocab])
save(graph, "labels", 13)
s = ["cat", "dog", "a longer string"]
write("labels", "input", 0, strings(s), "s")
write("labels", "input", 1, np.array([3, 0], np.int64), "idx")
write("labels", "output", 0, strings(["three", "zero"]), "g")
write("labels", "output", 1, strings(s + ["three", "zero", "cat"]), "c")

# numbers
graph = helper.make_graph(
    [helper.make_node("Cast", ["x"], ["s"], name="format0", to=TensorProto.STRING),
     helper.make_node("Cast", ["s"], ["y"], name="parse0", to=TensorProto.FLOAT)],
    "numbers", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
    [helper.make_tensor_value_info("s", TensorProto.STRING, [4]),
     helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
save(graph, "numbers", 13)
x = np.array([0.1, -2.5, 1e-5, 123456789.0], np.float32)
write("numbers", "input", 0, x, "x")
write("numbers", "output", 0, strings([str(v) for v in x]), "s")
write("numbers", "output", 1, x, "y")

# reshape
graph = helper.make_graph(
    [helper.make_node("Reshape", ["s", "shape"], ["r"], name="reshape0")],
    "reshape", [helper.make_tensor_value_info("s", TensorProto.STRING, [4])],
    [helper.make_tensor_value_info("r", TensorProto.STRING, [2, 2])],
    initializer=[numpy_helper.from_array(np.array([2, 2], np.int64), "shape")])
save(graph, "reshape", 13)


def save_ml(graph, name):
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 2)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name + ".onnx"))


# labels_ml: LabelEncoder string -> int64 (default -1) and int64 -> string
# (default "_Unused"), ai.onnx.ml 2.
graph = helper.make_graph(
    [helper.make_node("LabelEncoder", ["s"], ["ids"], name="enc0", domain="ai.onnx.ml",
                      keys_strings=["cat", "dog", "bird"], values_int64s=[7, 8, 9]),
     helper.make_node("LabelEncoder", ["k"], ["names"], name="dec0", domain="ai.onnx.ml",
                      keys_int64s=[1, 2], values_strings=["one", "two"])],
    "labels_ml",
    [helper.make_tensor_value_info("s", TensorProto.STRING, [2, 2]),
     helper.make_tensor_value_info("k", TensorProto.INT64, [3])],
    [helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 2]),
     helper.make_tensor_value_info("names", TensorProto.STRING, [3])])
save_ml(graph, "labels_ml")
write("labels_ml", "input", 0, strings([["dog", "fish"], ["bird", "cat"]]), "s")
write("labels_ml", "input", 1, np.array([2, 5, 1], np.int64), "k")
write("labels_ml", "output", 0, np.array([[8, -1], [9, 7]], np.int64), "ids")
write("labels_ml", "output", 1, strings(["two", "_Unused", "one"]), "names")

# tfidf_strings: TfIdfVectorizer counting unigrams and bigrams of a pool of
# strings over [2, 5] tokens.
graph = helper.make_graph(
    [helper.make_node("TfIdfVectorizer", ["tokens"], ["tf"], name="tfidf0",
                      mode="TF", min_gram_length=1, max_gram_length=2,
                      max_skip_count=0, ngram_counts=[0, 3],
                      ngram_indexes=[0, 1, 2, 3],
                      pool_strings=["a", "b", "c", "a", "b"])],
    "tfidf_strings", [helper.make_tensor_value_info("tokens", TensorProto.STRING, [2, 5])],
    [helper.make_tensor_value_info("tf", TensorProto.FLOAT, [2, 4])])
save(graph, "tfidf_strings", 13)
tokens = [["a", "b", "a", "b", "z"], ["c", "c", "a", "x", "b"]]
expected = np.zeros((2, 4), np.float32)
for row, ts in enumerate(tokens):
    for t in ts:
        if t in ("a", "b", "c"):
            expected[row, "abc".index(t)] += 1
    for u, v in zip(ts, ts[1:]):
        if (u, v) == ("a", "b"):
            expected[row, 3] += 1
write("tfidf_strings", "input", 0, strings(tokens), "tokens")
write("tfidf_strings", "output", 0, expected, "tf")

# chain: an upper-cased copy (StringNormalizer, no stopwords: its length is
# the input's) concatenated with the input; dynamic_normalize: stopwords
# dropped into a value whose length the model leaves open.
graph = helper.make_graph(
    [helper.make_node("StringNormalizer", ["x"], ["n"], name="norm0",
                      case_change_action="UPPER"),
     helper.make_node("Concat", ["n", "x"], ["y"], name="concat0", axis=0)],
    "chain", [helper.make_tensor_value_info("x", TensorProto.STRING, [2])],
    [helper.make_tensor_value_info("y", TensorProto.STRING, [4])])
save(graph, "chain", 13)
write("chain", "input", 0, strings(["ab", "Cd"]), "x")
write("chain", "output", 0, strings(["AB", "CD", "ab", "Cd"]), "y")
graph = helper.make_graph(
    [helper.make_node("StringNormalizer", ["x"], ["n"], name="norm0", stopwords=["a"]),
     helper.make_node("Identity", ["n"], ["y"], name="id0")],
    "dynamic_normalize", [helper.make_tensor_value_info("x", TensorProto.STRING, [2])],
    [helper.make_tensor_value_info("y", TensorProto.STRING, [None])])
save(graph, "dynamic_normalize", 13)
