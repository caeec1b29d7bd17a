#!/usr/bin/python3
"""The int8 benchmark: Kiln int8 against Kiln f32 and ONNX Runtime on the same
QDQ model, in one run.

Usage: bench/bench_int8.py [--quick] [--models resnet18,mobilenet_v2,bert_bench]
                           [--threads 1,2] [--build DIR] [--out DIR]
                           [--mcpu CPU] [--rounds N]

For each model (exported by test/models/generate.py, seeded random weights)
it writes 32 seeded calibration samples, compiles the float model and
`kilnc --quantize=int8 --calibrate=DIR --save-quantized=qdq.onnx`, then times,
on the model's test input and at each thread count:

  Kiln int8   the quantized library (kiln-run --bench)
  Kiln f32    the float library
  ORT int8    ONNX Runtime on qdq.onnx, the very model Kiln compiled (its
              graph optimizer fuses the QDQ pairs into its own int8 kernels)
  ORT f32     ONNX Runtime on the float model

and prints a table with Kiln int8's speed-up over Kiln f32 and its ratio to
ORT int8 (below 1: Kiln is faster), plus the largest difference between the
two int8 outputs. With --rounds N the four are timed N times in turn, Kiln
then ONNX Runtime, and each figure is the median of its N medians: a shared
machine's slow minutes then fall on both. Writes OUT/int8/results.md and results.json. It is a
benchmark, not a test: timings on a shared machine move from run to run.
Needs the same things as bench/bench.py (it installs onnxruntime-node).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "e2e"))
import bench  # noqa: E402  (bench.py: ORT runner, kiln-run parsing)
import numpy as np  # noqa: E402
from quantize_model import write_calibration  # noqa: E402  (the ctest's)

MODELS = {"resnet18": "ResNet-18, 1x3x224x224",
          "mobilenet_v2": "MobileNetV2, 1x3x224x224",
          "bert_bench": "BERT-style encoder, 4 layers, d 256, 128 tokens "
                        "(Linear layers and the embedding table int8; "
                        "attention, LayerNorm, Gelu f32)"}
CALIBRATION_SAMPLES = 32


def quantize(kilnc, model_path, lib, calib, qdq, flags=()):
    os.makedirs(os.path.dirname(lib), exist_ok=True)
    t0 = time.time()
    result = subprocess.run(
        [kilnc, model_path, "-o", lib, "--quantize=int8",
         "--calibrate=" + calib, "--save-quantized=" + qdq] + list(flags),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True)
    if result.returncode != 0:
        return time.time() - t0, "kilnc --quantize failed: " + \
            (result.stdout.strip().splitlines() or ["?"])[-1]
    return time.time() - t0, None


def middle(values):
    """The median of the values present; None when none is."""
    present = sorted(v for v in values if v is not None)
    return float(np.median(present)) if present else None


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--threads", default="1,2")
    p.add_argument("--build", default=os.path.join(bench.REPO, "build"))
    p.add_argument("--out")
    p.add_argument("--rounds", type=int, default=1,
                   help="time Kiln and ONNX Runtime N times in turn and take "
                   "the median of the rounds' medians (default 1)")
    p.add_argument("--mcpu", help="compile both Kiln libraries for this CPU "
                   "(e.g. haswell: AVX2 without VNNI, 7-bit weights); ONNX "
                   "Runtime still picks its kernels from this host's CPU")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    flags = ["--mcpu=" + args.mcpu] if args.mcpu else []
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            p.error("unknown model %s (%s)" % (n, ", ".join(MODELS)))
    threads = [int(t) for t in args.threads.split(",")]
    build = os.path.abspath(args.build)
    out = os.path.abspath(args.out or os.path.join(build, "bench", "int8"))
    model_dir = os.path.join(build, "bench-models")
    kilnc = os.path.join(build, "bin", "kilnc")
    kiln_run = os.path.join(build, "bin", "kiln-run")
    policy = bench.QUICK_RUNS if args.quick else bench.FULL_RUNS
    t0 = time.time()
    bench.ensure_onnxruntime()
    os.makedirs(out, exist_ok=True)
    subprocess.run(["/usr/bin/python3", bench.GENERATE, model_dir, "--only",
                    ",".join(names)], stdout=subprocess.DEVNULL, check=True)

    rows, problems = [], []
    for name in names:
        mdir = os.path.join(model_dir, name)
        model_path = os.path.join(mdir, "model.onnx")
        tdir = os.path.join(mdir, "test_data_set_0")
        work = os.path.join(out, name)
        bench.log("== %s: %s" % (name, MODELS[name]))
        calib = write_calibration(model_path, os.path.join(work, "calibration"),
                                  CALIBRATION_SAMPLES)
        f32_lib = os.path.join(work, "f32", "model.so")
        int8_lib = os.path.join(work, "int8", "model.so")
        qdq = os.path.join(work, "qdq.onnx")
        secs, error = bench.compile_model(kilnc, model_path, f32_lib, "model",
                                          flags)
        bench.log("   kilnc f32: %.1f s%s" % (secs, ", " + error if error else ""))
        qsecs, qerror = quantize(kilnc, model_path, int8_lib, calib, qdq,
                                 flags)
        bench.log("   kilnc --quantize=int8 (calibration included): %.1f s%s"
                  % (qsecs, ", " + qerror if qerror else ""))
        if error or qerror:
            problems.append("%s: %s" % (name, error or qerror))
            continue
        probe = bench.run_kiln(kiln_run, int8_lib, tdir, threads[0], 1,
                               write=os.path.join(work, "kiln_int8_out"))
        if "error" in probe:
            problems.append("%s: %s" % (name, probe["error"]))
            continue
        runs = bench.choose_runs(probe["median"], policy)
        inputs = bench.export_inputs(tdir, os.path.join(work, "inputs"))
        # Per (library, threads): each round's timing, Kiln's then ORT's.
        kiln_rounds, ort_rounds = {}, {}
        for _ in range(args.rounds):
            for t in threads:
                for kind, lib in (("int8", int8_lib), ("f32", f32_lib)):
                    kiln_rounds.setdefault((kind, t), []).append(
                        bench.run_kiln(kiln_run, lib, tdir, t, runs))
            for kind, path in (("int8", qdq), ("f32", model_path)):
                result = bench.run_ort(path, inputs, threads, policy, None,
                                       os.path.join(work, "ort_" + kind))
                if "error" in result:
                    problems.append("%s: onnxruntime %s: %s"
                                    % (name, kind, result["error"]))
                    continue
                for r in result["results"]:
                    ort_rounds.setdefault((kind, r["threads"]), []).append(r)
        # A round's figure, then the median of the rounds' (the first
        # round's ORT outputs stand for all: the same model on the same input).
        kiln = {key: {"median": middle([r.get("median") for r in rs])}
                for key, rs in kiln_rounds.items()}
        ort = {}
        for key, rs in ort_rounds.items():
            ort[key] = dict(rs[0])
            ort[key]["medianMs"] = middle([r.get("medianMs") for r in rs])
        # The two int8 runs of the same QDQ model, side by side.
        cross = None
        kiln_out = bench.read_test_data(os.path.join(work, "kiln_int8_out"),
                                        "output")
        first = ort.get(("int8", threads[0]))
        if first and kiln_out:
            cross = float(np.abs(kiln_out[0][1].astype(np.float64) -
                                 bench.read_raw(first["outputs"][0])).max())
        for t in threads:
            ki, kf = kiln[("int8", t)].get("median"), kiln[("f32", t)].get("median")
            oi = ort.get(("int8", t), {}).get("medianMs")
            of = ort.get(("f32", t), {}).get("medianMs")
            row = {"model": name, "threads": t, "kiln_int8_ms": ki,
                   "kiln_f32_ms": kf, "ort_int8_ms": oi, "ort_f32_ms": of,
                   "speedup": kf / ki if ki and kf else None,
                   "ratio": ki / oi if ki and oi else None,
                   "int8_diff": cross}
            rows.append(row)
            bench.log("   %d thread(s): Kiln int8 %s ms, Kiln f32 %s ms, ORT "
                      "int8 %s ms, ORT f32 %s ms" % (
                          t, bench.fmt_ms(ki), bench.fmt_ms(kf),
                          bench.fmt_ms(oi), bench.fmt_ms(of)))

    def num(x, spec):
        return "—" if x is None else spec % x

    header = ["model", "threads", "Kiln int8 ms", "Kiln f32 ms", "ORT int8 ms",
              "ORT f32 ms", "int8 speed-up (Kiln f32 / int8)",
              "Kiln int8 / ORT int8", "int8 outputs differ by"]
    table = [[r["model"], str(r["threads"]), num(r["kiln_int8_ms"], "%.4g"),
              num(r["kiln_f32_ms"], "%.4g"), num(r["ort_int8_ms"], "%.4g"),
              num(r["ort_f32_ms"], "%.4g"), num(r["speedup"], "%.2fx"),
              num(r["ratio"], "%.2f"), num(r["int8_diff"], "%.3g")]
             for r in rows]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    info = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "commit": bench.describe_commit(), "mode":
            "quick" if args.quick else "full",
            "machine": bench.describe_machine(), "mcpu": args.mcpu,
            "rounds": args.rounds,
            "problems": problems}
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("# Kiln int8 against Kiln f32 and ONNX Runtime\n\n")
        f.write("%s, commit %s, %s mode, %s%s.\n\n" % (
            info["date"], info["commit"], info["mode"], info["machine"],
            "" if args.rounds == 1 else
            ", median of %d rounds each" % args.rounds))
        if args.mcpu:
            f.write("Kiln compiled with --mcpu=%s; ONNX Runtime uses this "
                    "host's own instructions.\n\n" % args.mcpu)
        f.write("\n".join(lines) + "\n")
        for problem in problems:
            f.write("\nproblem: %s\n" % problem)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"info": info, "rows": rows}, f, indent=1)
    bench.log("")
    for line in lines:
        bench.log(line)
    for problem in problems:
        bench.log("problem: " + problem)
    bench.log("== wrote %s; %.0f s in all" % (os.path.join(out, "results.md"),
                                              time.time() - t0))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
