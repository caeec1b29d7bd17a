#!/usr/bin/python3
"""Quantizes a float test model with Kiln's built-in calibration and checks
the int8 model against the float one.

Usage: quantize_model.py --build BUILD --model MODELDIR --work WORK
                         [--calibration N] [--eval N] [--min-agreement PCT]

Writes N seeded calibration samples (standard normal, or token ids uniform
over the embedding table for a transformer; seed 1), compiles the
float model and `--quantize=int8 --calibrate` of it with kilnc, runs both on
--eval other seeded samples (seed 2) through the libraries' generic entry
point (kiln_model(), as kiln-run calls it) and prints the top-1 agreement
and the largest output difference. Fails when the agreement is below
--min-agreement percent, or when the int8 model's weights are more than
27% of the float model's (its header states both).
"""
import argparse
import ctypes
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("num_elements", ctypes.c_int64), ("string_bytes", ctypes.c_int64)]


RunFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                         ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)


class ModelInfo(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint32), ("struct_size", ctypes.c_uint32),
                ("name", ctypes.c_char_p),
                ("inputs", ctypes.POINTER(TensorInfo)), ("outputs", ctypes.POINTER(TensorInfo)),
                ("num_inputs", ctypes.c_uint32), ("num_outputs", ctypes.c_uint32),
                ("workspace_size", ctypes.c_uint64), ("workspace_align", ctypes.c_uint64),
                ("weights_size", ctypes.c_uint64), ("run", RunFn)]


class Library:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.kiln_model.restype = ctypes.POINTER(ModelInfo)
        self.info = self.lib.kiln_model().contents
        out = self.info.outputs[0]
        self.out_shape = [out.shape[i] for i in range(out.rank)]

    def run(self, x):
        x = np.ascontiguousarray(x)
        y = np.zeros(self.out_shape, np.float32)
        ins = (ctypes.c_void_p * 1)(x.ctypes.data)
        outs = (ctypes.c_void_p * 1)(y.ctypes.data)
        status = self.info.run(ins, outs, None)
        if status:
            sys.exit("run failed with status %d" % status)
        return y


def model_input(model_path):
    """(name, shape, sample) of the model's one input: sample(rng) draws a
    standard-normal float tensor, or for token ids (an int64 input that a
    Gather reads as indices) ids uniform over the table's rows."""
    model = onnx.load(model_path)
    inits = {t.name: t for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in inits]
    if len(inputs) != 1:
        sys.exit("one input expected")
    name = inputs[0].name
    shape = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if inputs[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
        return name, shape, lambda rng: rng.standard_normal(shape).astype(
            np.float32)
    rows = [inits[n.input[0]].dims[0] for n in model.graph.node
            if n.op_type == "Gather" and n.input[1] == name and
            n.input[0] in inits]
    if not rows:
        sys.exit("input %s: neither float nor token ids" % name)
    return name, shape, lambda rng: rng.integers(0, rows[0], shape,
                                                 dtype=np.int64)


def write_calibration(model_path, out, count):
    """`count` seeded samples of the model's input (model_input), one per
    directory OUT/set_NNN/input_0.pb (seed 1); returns OUT."""
    name, _, sample = model_input(model_path)
    rng = np.random.default_rng(1)
    for i in range(count):
        d = os.path.join(out, "set_%03d" % i)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(sample(rng), name)
                    .SerializeToString())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--calibration", type=int, default=32)
    ap.add_argument("--eval", type=int, default=200)
    ap.add_argument("--min-agreement", type=float, default=98.0)
    ap.add_argument("--kilnc-flag", dest="kilnc_flags", action="append",
                    default=[], help="one more flag for kilnc (repeatable): "
                    "--kilnc-flag=--mcpu=haswell quantizes for that CPU")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model_path = os.path.join(args.model, "model.onnx")
    _, _, sample = model_input(model_path)
    calib = write_calibration(model_path, os.path.join(args.work, "calibration"),
                              args.calibration)

    kilnc = os.path.join(args.build, "bin", "kilnc")
    f32 = os.path.join(args.work, "f32", "model.so")
    i8 = os.path.join(args.work, "int8", "model.so")
    for path in (f32, i8):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run([kilnc, model_path, "-o", f32] + args.kilnc_flags,
                   check=True)
    subprocess.run([kilnc, model_path, "-o", i8, "--quantize=int8",
                    "--calibrate=" + calib, "--quantize-report"]
                   + args.kilnc_flags, check=True)

    def weights(so, kind="WEIGHTS_SIZE"):
        header = os.path.join(os.path.dirname(so), "model.h")
        m = re.search(r"#define \w+?_%s (\d+)" % kind, open(header).read())
        return int(m.group(1))

    # The int8 header states both: its own weights and the float model's.
    wf, wq = weights(i8, "FLOAT_WEIGHTS_SIZE"), weights(i8)
    wlib = weights(f32)
    a, b = Library(f32), Library(i8)
    rng = np.random.default_rng(2)
    agree, worst = 0, 0.0
    for _ in range(args.eval):
        x = sample(rng)
        yf, yq = a.run(x), b.run(x)
        agree += int(np.argmax(yf.reshape(yf.shape[0], -1), 1)[0] ==
                     np.argmax(yq.reshape(yq.shape[0], -1), 1)[0])
        worst = max(worst, float(np.max(np.abs(yf - yq))))
    pct = 100.0 * agree / args.eval
    print("%s: top-1 agreement int8/float %d/%d (%.1f%%), max output difference "
          "%.4g, weights %d -> %d bytes (%.1f%%; the f32 library's: %d)" % (
              os.path.basename(args.model.rstrip("/")), agree, args.eval, pct,
              worst, wf, wq, 100.0 * wq / wf, wlib))
    ok = True
    if pct < args.min_agreement:
        print("FAIL: agreement below %.1f%%" % args.min_agreement)
        ok = False
    if wq > 0.27 * wf:
        print("FAIL: int8 weights above 27% of float")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
