#!/usr/bin/python3
"""Compile a test model for aarch64 and check it under qemu-aarch64.

    run_cross_model.py --build BUILD --model MODEL_DIR --work WORK_DIR
                       [--target aarch64] [--mcpu CPU]

kilnc compiles MODEL_DIR/model.onnx (with MODEL_DIR/kilnc_flags, when there
is one) into a shared library for the target; run_raw.c, cross-compiled
with aarch64-linux-gnu-gcc, loads it under qemu-aarch64-static with the
cross glibc (/usr/aarch64-linux-gnu) on one thread and on two. Each
test_data_set_*'s inputs go in as raw bytes and the outputs are compared
with the references as kiln-run does: a float passes when
|out - ref| <= atol + rtol * |ref| (rtol 1e-3, atol 1e-4), integers and
bools must be equal. Exit status 1 on any failure, with one line saying why.
"""
import argparse
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SYSROOT = "/usr/aarch64-linux-gnu"
CC = "aarch64-linux-gnu-gcc"
QEMU = "qemu-aarch64-static"


def die(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(cmd):
    print("+ " + " ".join(cmd), flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        die(f"{cmd[0]} exited with {result.returncode}: "
            f"{(result.stderr or result.stdout).strip()}")
    return result.stdout


def check(name, got, expected, rtol, atol):
    if got.shape != expected.shape:
        die(f"{name}: shape {got.shape}, expected {expected.shape}")
    if np.issubdtype(expected.dtype, np.floating):
        g, e = got.astype(np.float64), expected.astype(np.float64)
        bad = ~((np.abs(g - e) <= atol + rtol * np.abs(e)) |
                (np.isnan(g) & np.isnan(e)))
        err = float(np.nanmax(np.abs(g - e))) if g.size else 0.0
    else:
        bad = got != expected
        err = float(np.max(np.abs(got.astype(np.int64) -
                                  expected.astype(np.int64)))) if got.size else 0
    if bad.any():
        i = np.unravel_index(int(np.argmax(bad)), bad.shape)
        die(f"{name}: {int(bad.sum())} of {bad.size} elements differ, first at "
            f"{tuple(int(x) for x in i)}: {got[i]} vs {expected[i]}")
    print(f"  {name}: PASS (max abs error {err:.3g})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--target", default="aarch64")
    ap.add_argument("--mcpu", default="")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--shuffles", action="store_true",
                    help="a model that only moves data (a Transpose): "
                         "expect NEON zip1/zip2 on .4s vectors instead of "
                         "fmla or integer multiplies")
    args = ap.parse_args()

    name = os.path.basename(os.path.normpath(args.model))
    os.makedirs(args.work, exist_ok=True)
    flags = []
    flags_file = os.path.join(args.model, "kilnc_flags")
    if os.path.exists(flags_file):
        flags = [l.strip() for l in open(flags_file) if l.strip()]
    lib = os.path.join(args.work, name + ".so")
    cmd = [os.path.join(args.build, "bin", "kilnc"),
           os.path.join(args.model, "model.onnx"), "-o", lib, "--name", name,
           "--target=" + args.target]
    if args.mcpu:
        cmd.append("--mcpu=" + args.mcpu)
    run(cmd + flags)
    # The library must be for the target, not the host.
    machine = run(["aarch64-linux-gnu-readelf", "-h", lib])
    if "AArch64" not in machine:
        die(f"{lib} is not an AArch64 ELF file")
    # Its kernels are NEON: fused multiply-adds on 4 float lanes, or for an
    # 8-bit model widening integer multiplies (and adds) on vectors.
    code = run(["aarch64-linux-gnu-objdump", "-d", "--no-show-raw-insn", lib])
    # objdump's lines: "address:\tmnemonic\toperands".
    insns = [l.split("\t")[1:3] for l in code.splitlines() if l.count("\t") >= 2]
    vector = [(m.strip(), ops) for m, ops in insns if ops.startswith("v")]
    fmla = sum(1 for m, ops in vector if m == "fmla" and ".4s" in ops)
    widening = sum(1 for m, _ in vector
                   if m in ("smull", "umull", "smull2", "umull2", "smlal",
                            "umlal", "smlal2", "umlal2", "mul", "mla"))
    if args.shuffles:
        zips = sum(1 for m, ops in vector
                   if m in ("zip1", "zip2") and ".4s" in ops)
        if zips == 0:
            die(f"{lib} has no NEON zip1/zip2 on .4s vectors")
        print(f"  {zips} NEON zip1/zip2 instructions")
    elif fmla == 0 and widening == 0:
        die(f"{lib} has no NEON fmla on .4s vectors nor vector integer "
            "multiplies")
    else:
        print(f"  {fmla} NEON fmla instructions, {widening} vector integer "
              "multiplies")

    runner = os.path.join(args.work, "run_raw")
    run([CC, "-std=c99", "-O1", "-Wall", "-Werror",
         "-I", os.path.join(SOURCE, "runtime", "include"),
         os.path.join(HERE, "run_raw.c"), "-o", runner,
         os.path.join(args.build, "lib", "kiln", "aarch64-linux-gnu",
                      "libkiln_runtime.a"), "-ldl"])

    sets = sorted(glob.glob(os.path.join(args.model, "test_data_set_*")))
    if not sets:
        die(f"no test_data_set_* in {args.model}")
    for data in sets:
        raw_in = os.path.join(args.work, os.path.basename(data) + "-in")
        os.makedirs(raw_in, exist_ok=True)
        for path in sorted(glob.glob(os.path.join(data, "input_*.pb"))):
            tensor = onnx.TensorProto()
            tensor.ParseFromString(open(path, "rb").read())
            array = np.ascontiguousarray(numpy_helper.to_array(tensor))
            stem = os.path.splitext(os.path.basename(path))[0]
            array.tofile(os.path.join(raw_in, stem + ".bin"))
        for threads in (1, 2):
            raw_out = os.path.join(args.work,
                                   f"{os.path.basename(data)}-out-{threads}")
            os.makedirs(raw_out, exist_ok=True)
            run([QEMU, "-L", SYSROOT, runner, lib, raw_in, raw_out,
                 str(threads)])
            print(f"{os.path.basename(data)}, {threads} thread(s):")
            for path in sorted(glob.glob(os.path.join(data, "output_*.pb"))):
                tensor = onnx.TensorProto()
                tensor.ParseFromString(open(path, "rb").read())
                expected = numpy_helper.to_array(tensor)
                stem = os.path.splitext(os.path.basename(path))[0]
                got = np.fromfile(os.path.join(raw_out, stem + ".bin"),
                                  dtype=expected.dtype)
                check(stem, got.reshape(expected.shape)
                      if got.size == expected.size else got,
                      expected, args.rtol, args.atol)
    print(f"PASS: {name} on {args.target} under qemu-aarch64")


if __name__ == "__main__":
    main()
