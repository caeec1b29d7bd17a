#!/usr/bin/python3
"""Kiln's CPU benchmark: Kiln against ONNX Runtime, same models, same inputs.

Usage: bench/bench.py [--quick] [--models a,b,...] [--threads 1,2] [--runs N]
                      [--rounds N] [--profile R] [--build DIR]
                      [--model-dir DIR] [--out DIR]

One command on a fresh machine with Kiln built (scripts/setup.sh):

 1. installs onnxruntime-node 1.30.0 from npm into bench/node_modules
    (bench/package-lock.json pins it) unless it is already there, skipping
    its optional CUDA download, which a CPU benchmark does not need;
 2. exports the models with test/models/generate.py (torch's seeded random
    weights and torch's output as the reference) and builds the matmul
    micro-benchmarks with onnx.helper, into --model-dir;
 3. for each model: compiles it once with `kilnc MODEL -o NAME.so`, then for
    each thread count times `kiln-run NAME.so --bench N --threads T` and
    ONNX Runtime's CPU provider through onnxruntime-node (graph optimisation
    level "all", intraOpNumThreads T, interOpNumThreads 1, sequential) on the
    same input tensors, and checks both outputs against the reference
    (|x - ref| <= atol + rtol * |ref|, rtol 1e-3, atol 1e-4 as the tests);
 4. prints the table (median latencies, ratio Kiln/ORT, Kiln's GFLOP/s from a
    FLOP count of the ONNX graph and its share of the machine's peak, ORT's
    GFLOP/s, issue 7's target, whether each output matches) and writes it to
    OUT/results.md and OUT/results.json, with a bar chart in OUT/bench.svg,
    and with what moving data between the two cores cost at the start and
    at the end of the run (bench/xcore.c: on a shared VM the two-thread
    figures move with it); each round is measured between two xcore runs,
    and a row of several threads says how many rounds had the cores far,
    close or changing, and the median Kiln/ORT ratio of each kind.

Each measurement makes enough runs to fill a time budget, judged from a
first run, but never fewer than a minimum: --quick (at least 5 runs, 0.5 s
per measurement; about 2 minutes on 2 cores with compiles) or the default
(at least 20 runs, 3 s; about 4 minutes). --runs N fixes the count instead.
With --rounds N, Kiln's and ONNX Runtime's measurements of a model are taken
N times in turn and each figure is the median of the rounds' medians, so
that a shared machine's slow minutes fall on both engines (--quick --rounds
3: 2 to 4 minutes). Within a round each thread count's Kiln and ONNX
Runtime measurements are taken back to back, in turns: Kiln's first in even
rounds, ONNX Runtime's in odd ones.
With --profile R, after a model's timed rounds, each engine runs R more
times per thread count under its own profiler (untimed: a profiler costs
time) and OUT/NAME/profile_t<T>.md gets both reports: ONNX Runtime's nodes
in the order they ran with each one's median time (its profiler's trace,
which Perfetto or chrome://tracing open, beside it) and `kiln-run
--profile R`'s kernels; the layers where one engine spends its time and the
other does not. With 1 and more threads, OUT/NAME/profile_scaling.md holds
how each layer's time changes with the threads in both engines.
A benchmark, not a test: ctest does not run it. Exit status 1 when something
failed to compile, run or match, else 0.

Needs Debian's python3-onnx, python3-numpy (and, to export the models,
python3-torch, python3-torchvision): run with /usr/bin/python3. Needs node
and npm (installed with apt-get when missing and run as root).
"""

import argparse
import collections
import datetime
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, shape_inference
except ImportError as e:  # pragma: no cover
    sys.exit("bench.py: %s (needs Debian's python3-onnx and python3-numpy; "
             "run with /usr/bin/python3)" % e)

# The f32 peak that "% of peak" is over: measured by peak.c (a GEMM
# micro-kernel's loop with its operands in L1, compiled with clang
# -march=native), per thread count, at the start of the run and again just
# before Kiln's timing in each round of each model (PEAK_SAMPLES runs a
# time): a row's % of peak is over the median of its rounds' figures, taken
# on the host as it ran then (on the Zen 5 VM, peak.c ran 199-231 GFLOP/s
# within a few minutes, and a single figure at the start had the 512^3
# matmul at 88.9% in one run and 97-99% in another of the same code). This
# figure is used only where peak.c cannot be compiled (no clang, no AVX2):
# DESIGN.md's per-core estimate.
PEAK_FALLBACK_PER_THREAD = 175.0
PEAK = {}  # thread count -> measured GFLOP/s, filled by measure_peak()
PEAK_EXE = None  # peak.c's program, when it built
PEAK_SAMPLES = 3

# The ONNX Runtime every ratio is taken against (issue 7: ORT 1.30 CPU).
ORT_VERSION = "1.30.0"
# ort_bench.js's warm-up: at least two runs and at least this long, since a
# session in a fresh node process runs slower for its first milliseconds
# (the MLP in a process per thread count, 1000 runs: medians 0.035-0.041
# ms on one thread and 0.030-0.033 on two after two warm-up runs,
# 0.031-0.034 and 0.026 after 250 ms of them; 0.053-0.056 over the 200
# runs of --quick after two).
ORT_WARMUP_MS = 250

# Output tolerances, as the model tests use (test/e2e/run_model.sh).
RTOL = 1e-3
ATOL = 1e-4

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
GENERATE = os.path.join(REPO, "test", "models", "generate.py")

# Targets from issue 7: the Kiln/ORT latency ratio at most `ratio`, or Kiln
# at least `peak` percent of the peak at 1 and at 2 threads.
RATIO_080 = {"ratio": 0.80}
RATIO_033 = {"ratio": 0.33}
MATMUL_PEAK = {"peak": {1: 90.0, 2: 85.0}}

# name -> how to make it (generate.py's model of that name, or a matmul of
# that size built here), a one-line description, issue 7's target.
Model = collections.namedtuple("Model", "source arg about target")
MODELS = collections.OrderedDict([
    ("resnet50", Model("generate", "resnet50", "ResNet-50, 1x3x224x224",
                       RATIO_080)),
    ("resnet18_b8", Model("generate", "resnet18_b8",
                          "ResNet-18, batch 8 (8x3x224x224)", None)),
    ("mobilenet_v2", Model("generate", "mobilenet_v2",
                           "MobileNetV2, 1x3x224x224", RATIO_080)),
    ("squeezenet1_1", Model("generate", "squeezenet1_1",
                            "SqueezeNet 1.1, 1x3x224x224", RATIO_080)),
    ("bert_bench", Model("generate", "bert_bench",
                         "BERT-style encoder: 4 layers, hidden 256, 4 heads, "
                         "FFN 1024, sequence 128", RATIO_080)),
    ("mlp", Model("generate", "mlp", "MLP 784-256-128-10, batch 1",
                  RATIO_033)),
    ("small_cnn", Model("generate", "small_cnn",
                        "tiny CNN, 1x1x28x28 (2 convs, 1 linear)", RATIO_033)),
    ("matmul_512", Model("matmul", 512, "MatMul 512x512 by 512x512, f32, "
                         "both operands inputs", MATMUL_PEAK)),
    ("matmul_1024", Model("matmul", 1024, "MatMul 1024x1024 by 1024x1024, "
                          "f32, both operands inputs", MATMUL_PEAK)),
])

# The per-call floor of onnxruntime-node: a 1-element Identity model.
FLOOR_MODEL = "ort_call_floor"

# Run counts: (fewest runs, most runs, seconds one measurement should take).
QUICK_RUNS = (5, 200, 0.5)
FULL_RUNS = (20, 1000, 3.0)


def log(text):
    print(text, flush=True)


# --------------------------------------------------------------------------
# onnxruntime-node
# --------------------------------------------------------------------------

def ensure_onnxruntime():
    """Installs onnxruntime-node into bench/node_modules unless it is there."""
    package = os.path.join(BENCH_DIR, "node_modules", "onnxruntime-node",
                           "package.json")
    try:
        with open(package) as f:
            if json.load(f).get("version") == ORT_VERSION:
                return
    except (OSError, ValueError):
        pass

    if not shutil.which("node") or not shutil.which("npm"):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            sys.exit("bench.py: needs node and npm (Debian: apt-get install "
                     "nodejs npm)")
        log("== installing nodejs and npm with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nodejs", "npm"],
                       check=True, env=env)

    # Its postinstall script would fetch the CUDA provider from NuGet: only
    # the CPU provider (bundled in the package) is wanted, and the registry
    # is all this machine can reach.
    log("== installing onnxruntime-node %s with npm into bench/node_modules"
        % ORT_VERSION)
    env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
    command = ["npm", "ci", "--no-audit", "--no-fund"]
    if not os.path.exists(os.path.join(BENCH_DIR, "package-lock.json")):
        command[1] = "install"
    result = subprocess.run(command, cwd=BENCH_DIR, env=env)
    if result.returncode != 0:
        sys.exit("bench.py: '%s' failed in %s"
                 % (" ".join(command), BENCH_DIR))


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

def write_pb(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name)
                .SerializeToString())


def write_onnx_model(mdir, stamp, graph, feeds, refs):
    """Saves an onnx.helper graph at opset 13 with its test data, unless
    mdir/.stamp already says `stamp`."""
    stamp_path = os.path.join(mdir, ".stamp")
    try:
        with open(stamp_path) as f:
            if f.read() == stamp:
                return
    except OSError:
        pass
    tdir = os.path.join(mdir, "test_data_set_0")
    os.makedirs(tdir, exist_ok=True)
    model = helper.make_model(graph, producer_name="kiln-bench",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # what libonnx 1.12 reads
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(mdir, "model.onnx"))
    for i, (name, array) in enumerate(feeds):
        write_pb(os.path.join(tdir, "input_%d.pb" % i), array, name)
    for i, (name, array) in enumerate(refs):
        write_pb(os.path.join(tdir, "output_%d.pb" % i), array, name)
    with open(stamp_path, "w") as f:
        f.write(stamp)


def make_matmul(mdir, n):
    """Y = A @ B, n x n f32, both operands graph inputs (nothing to pre-pack
    at compile time), seeded uniform [-1, 1) data; the reference is computed
    in float64 and rounded."""
    rng = np.random.default_rng(n)
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    y = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    f32 = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["Y"], name="matmul")],
        "matmul_%d" % n,
        [helper.make_tensor_value_info("A", f32, [n, n]),
         helper.make_tensor_value_info("B", f32, [n, n])],
        [helper.make_tensor_value_info("Y", f32, [n, n])])
    write_onnx_model(mdir, "kiln-bench-matmul-1 n=%d\n" % n, graph,
                     [("A", a), ("B", b)], [("Y", y)])


def make_floor_model(mdir):
    """A 1-element Identity: what one onnxruntime-node call costs."""
    f32 = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"], name="identity")],
        FLOOR_MODEL, [helper.make_tensor_value_info("x", f32, [1])],
        [helper.make_tensor_value_info("y", f32, [1])])
    x = np.ones(1, np.float32)
    write_onnx_model(mdir, "kiln-bench-floor-1\n", graph, [("x", x)],
                     [("y", x)])


def prepare_models(names, model_dir):
    """Exports or builds every model in `names`; returns those that exist."""
    os.makedirs(model_dir, exist_ok=True)
    exported = [MODELS[n].arg for n in names if MODELS[n].source == "generate"]
    if exported:
        log("== exporting %s with test/models/generate.py into %s"
            % (",".join(exported), model_dir))
        t0 = time.time()
        result = subprocess.run(
            ["/usr/bin/python3", GENERATE, model_dir, "--only",
             ",".join(exported)], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True)
        for line in result.stdout.splitlines():
            if line.startswith("== ") and "union of op types" not in line:
                log("   " + line[3:])
        if result.returncode != 0:
            log(result.stdout)
            log("bench.py: generate.py failed (exit %d)" % result.returncode)
        log("   (%.1f s)" % (time.time() - t0))
    for n in names:
        if MODELS[n].source == "matmul":
            make_matmul(os.path.join(model_dir, n), MODELS[n].arg)
    make_floor_model(os.path.join(model_dir, FLOOR_MODEL))
    return [n for n in names
            if os.path.isfile(os.path.join(model_dir, n, "model.onnx"))]


# --------------------------------------------------------------------------
# FLOP count
# --------------------------------------------------------------------------

def count_flops(path):
    """Multiply-adds x 2 of the graph's Conv, ConvTranspose, MatMul and Gemm
    nodes, from ONNX shape inference; elementwise ops, pooling, reductions
    and nodes inside subgraphs are not counted.

      Conv           2 * |Y| * Cin/group * KH * KW   (W: Cout, Cin/g, KH, KW)
      ConvTranspose  2 * |X| * Cout/group * KH * KW  (W: Cin, Cout/g, KH, KW)
      MatMul, Gemm   2 * |Y| * K  (2*M*N*K per matrix, batched MatMul too)
    """
    model = shape_inference.infer_shapes(onnx.load(path))
    graph = model.graph
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]

    def numel(name):
        return int(np.prod(shapes[name], dtype=np.int64))

    flops = 0
    for node in graph.node:
        try:
            if node.op_type == "Conv":
                flops += 2 * numel(node.output[0]) * \
                    int(np.prod(shapes[node.input[1]][1:]))
            elif node.op_type == "ConvTranspose":
                flops += 2 * numel(node.input[0]) * \
                    int(np.prod(shapes[node.input[1]][1:]))
            elif node.op_type == "MatMul":
                k = shapes[node.input[0]][-1]
                flops += 2 * numel(node.output[0]) * k
            elif node.op_type == "Gemm":
                trans_a = any(a.name == "transA" and a.i
                              for a in node.attribute)
                a = shapes[node.input[0]]
                k = a[0] if trans_a else a[1]
                flops += 2 * numel(node.output[0]) * k
        except KeyError as e:
            log("   note: no static shape for %s of %s node %r: not counted"
                % (e, node.op_type, node.name))
    return flops


# --------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------

def read_pb(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return tensor.name, numpy_helper.to_array(tensor)


def read_test_data(tdir, kind):
    """The arrays of tdir/KIND_<i>.pb, in order, as (name, array) pairs."""
    found = []
    while True:
        path = os.path.join(tdir, "%s_%d.pb" % (kind, len(found)))
        if not os.path.isfile(path):
            return found
        found.append(read_pb(path))


def export_inputs(tdir, dst):
    """Writes each input as a raw file for ort_bench.js; returns its specs."""
    os.makedirs(dst, exist_ok=True)
    specs = []
    for i, (name, array) in enumerate(read_test_data(tdir, "input")):
        path = os.path.join(dst, "input_%d.bin" % i)
        np.ascontiguousarray(array).tofile(path)
        dtype = "bool" if array.dtype == np.bool_ else array.dtype.name
        specs.append({"name": name, "type": dtype, "dims": list(array.shape),
                      "file": path})
    return specs


def compare(got, ref):
    """(matches, max abs error) under the tests' tolerances; integers and
    bools must be equal, NaN equals NaN."""
    if got.shape != ref.shape:
        return False, float("inf")
    if ref.dtype.kind not in "fc":
        diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        return bool(np.array_equal(got, ref)), float(diff.max(initial=0))
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    both_nan = np.isnan(g) & np.isnan(r)
    diff = np.where(both_nan, 0.0, np.abs(g - r))
    diff = np.where(np.isnan(diff), np.inf, diff)
    ok = bool(np.all(diff <= ATOL + RTOL * np.abs(r)))
    return ok, float(diff.max(initial=0))


# --------------------------------------------------------------------------
# Kiln
# --------------------------------------------------------------------------

def compile_model(kilnc, onnx_path, lib, name, flags=()):
    """Compiles to a shared library; returns (seconds, error or None)."""
    os.makedirs(os.path.dirname(lib), exist_ok=True)
    t0 = time.time()
    try:
        result = subprocess.run(
            [kilnc, onnx_path, "-o", lib, "--name", name] + list(flags),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=900)
    except subprocess.TimeoutExpired:
        return time.time() - t0, "kilnc timed out after 900 s"
    seconds = time.time() - t0
    if result.returncode != 0:
        lines = result.stdout.strip().splitlines() or ["exit %d"
                                                       % result.returncode]
        return seconds, "kilnc failed: " + lines[-1]
    return seconds, None


KILN_ERROR = re.compile(r"max abs err ([^,]+),")
KILN_MEDIAN = re.compile(r"^median ([0-9.e+-]+) ms, p90 ([0-9.e+-]+) ms "
                         r"over (\d+) runs$", re.M)


def run_kiln(kiln_run, lib, tdir, threads, runs, write=None):
    """Runs kiln-run once; returns a dict with median/p90 (ms), runs, pass,
    max abs error, or error."""
    command = [kiln_run, lib, "--data", tdir, "--bench", str(runs),
               "--threads", str(threads), "--rtol", str(RTOL),
               "--atol", str(ATOL)]
    if write:
        command += ["--write", write]
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return {"error": "kiln-run timed out"}
    match = KILN_MEDIAN.search(result.stdout)
    if not match:
        lines = (result.stderr + result.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else "kiln-run: exit %d"
                % result.returncode}
    errors = [float(e) for e in KILN_ERROR.findall(result.stdout)]
    last = result.stdout.strip().splitlines()[-1]
    return {"median": float(match.group(1)), "p90": float(match.group(2)),
            "runs": int(match.group(3)), "pass": last == "PASS",
            "max_abs": max(errors) if errors else None}


def choose_runs(probe_ms, policy):
    fewest, most, budget_s = policy
    wanted = int(round(budget_s * 1000.0 / max(probe_ms, 1e-3)))
    return min(max(wanted, fewest), most)


# --------------------------------------------------------------------------
# ONNX Runtime
# --------------------------------------------------------------------------

def run_ort_bench(spec):
    """Runs ort_bench.js on `spec` (written to its outDir as spec.json);
    returns its JSON or an {"error": ...} dict."""
    os.makedirs(spec["outDir"], exist_ok=True)
    spec_path = os.path.join(spec["outDir"], "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=1)
    try:
        result = subprocess.run(
            ["node", os.path.join(BENCH_DIR, "ort_bench.js"), spec_path],
            cwd=BENCH_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=3600)
    except subprocess.TimeoutExpired:
        return {"error": "onnxruntime timed out"}
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else "node exit %d"
                % result.returncode}
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_ort(onnx_path, inputs, threads, policy, fixed_runs, out_dir):
    """Times ONNX Runtime through ort_bench.js; returns its JSON or an
    {"error": ...} dict."""
    fewest, most, budget_s = policy
    return run_ort_bench({"model": onnx_path, "inputs": inputs,
                          "threads": threads, "warmup": 2,
                          "warmupMs": ORT_WARMUP_MS,
                          "minRuns": fewest, "maxRuns": most,
                          "budgetMs": budget_s * 1000.0, "runs": fixed_runs,
                          "outDir": out_dir})


def profile_ort(onnx_path, inputs, threads, runs, out_dir):
    """ONNX Runtime's per-node profile (ort_bench.js with profileRuns):
    its JSON, or an {"error": ...} dict."""
    return run_ort_bench({"model": onnx_path, "inputs": inputs,
                          "threads": threads, "warmup": 2,
                          "profileRuns": runs, "outDir": out_dir})


def profile_kiln(kiln_run, lib, tdir, threads, runs):
    """`kiln-run --profile`'s report, from its "profile over" line: (text,
    None), or (None, error)."""
    command = [kiln_run, lib, "--data", tdir, "--bench", "1",
               "--threads", str(threads), "--profile", str(runs)]
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return None, "kiln-run timed out"
    start = result.stdout.find("profile over")
    if result.returncode != 0 or start < 0:
        lines = (result.stderr + result.stdout).strip().splitlines()
        return None, lines[-1] if lines else "kiln-run: exit %d" \
            % result.returncode
    report = result.stdout[start:].rstrip().splitlines()
    if report and report[-1] in ("PASS", "FAIL"):
        report.pop()
    return "\n".join(report), None


KILN_KERNEL_ROW = re.compile(
    r"^ *[0-9.]+ +([0-9.]+) +[0-9.]+% +\S+ +\S+% +\S+ +[0-9.]+  (\S+)"
    r"(?:  (.*))?$")


def kiln_kernels(report):
    """(name, median ms a run, [ONNX node names]) of each kernel in
    `kiln-run --profile`'s report: the median, as ONNX Runtime's nodes'
    (a run in which the OS stopped a thread moves a mean, not a median)."""
    kernels = []
    for line in report.splitlines():
        match = KILN_KERNEL_ROW.match(line)
        if match and match.group(2) != "(after":
            kernels.append((match.group(2), float(match.group(1)),
                            re.findall(r"node '([^']*)' \(",
                                       match.group(3) or "")))
    return kernels


def layer_rows(nodes, kernels):
    """Each ONNX Runtime node beside the Kiln kernels that do its work: a
    kernel goes with the first node (in run order) whose name, less the
    "_output_<i>..." ONNX Runtime gives a node it made (and a "fused "
    before it), is one of the kernel's ONNX nodes or one of them and a
    fusion's name after a "/"; a kernel that does several nodes' work (a
    convolution fused with the depthwise one after it) is held against all
    of them. Returns (rows, the kernels that went nowhere), a row a dict:
    the node's op, name, output and ms; "ort_ms", its and the nodes' its
    kernels also do; "kiln_ms" (None where no kernel went with it); its
    kernels' names ("kernels")."""
    # ONNX Runtime's Gemm-and-activation fusion names its node "fused " and
    # the Gemm's name.
    stems = [n["name"].split("_output_")[0].removeprefix("fused ")
             for n in nodes]

    def does(kernel, stem):
        # ONNX Runtime's fusions keep the first node's name and add their
        # own: /layers.0/attn/k/MatMul/MatMulAddFusion.
        return any(stem == node or stem.startswith(node + "/")
                   for node in kernel[2])

    matched = collections.defaultdict(list)
    spans = collections.defaultdict(set)  # first node -> all its kernels'
    joined = {}  # a later node -> the kernel that does its work
    unmatched = []
    for kernel in kernels:
        mine = [i for i, stem in enumerate(stems) if does(kernel, stem)]
        if not mine:
            unmatched.append(kernel)
            continue
        matched[mine[0]].append(kernel)
        spans[mine[0]].update(mine)
        for i in mine[1:]:
            joined.setdefault(i, kernel[0])
    rows = []
    for i, n in enumerate(nodes):
        mine = matched.get(i, [])
        kernels_text = " ".join(k[0] for k in mine)
        if len(spans.get(i, ())) > 1:
            kernels_text += " (against %d nodes)" % len(spans[i])
        elif not mine and i in joined:
            kernels_text = "in %s, above" % joined[i]
        rows.append(dict(op=n["op"], name=n["name"], output=n["output"],
                         ms=n["ms"],
                         ort_ms=sum(nodes[j]["ms"]
                                    for j in spans.get(i, {i})),
                         kiln_ms=sum(k[1] for k in mine) if mine else None,
                         kernels=kernels_text))
    return rows, unmatched


def fmt_ratio(a, b):
    return "%.2f" % (a / b) if b else ""


def write_scaling(path, name, t, one, many):
    """OUT/NAME/profile_scaling.md: how each layer's time changes from one
    thread to `t` in both engines (`one`, `many`: the two thread counts'
    layer_rows, matched by ONNX Runtime node name), with what Kiln's layer
    takes beyond its one-thread time scaled as ONNX Runtime's, and the same
    summed by output size (the stages of a CNN)."""
    at_one = {r["name"]: r for r in one}
    rows, stages = [], collections.OrderedDict()
    for r in many:
        o = at_one.get(r["name"])
        if not o or r["kiln_ms"] is None or o["kiln_ms"] is None or \
                not o["ort_ms"]:
            continue
        beyond = r["kiln_ms"] - o["kiln_ms"] * r["ort_ms"] / o["ort_ms"]
        rows.append([r["op"], "`%s`" % r["name"], r["output"],
                     "%.4f" % o["ort_ms"], "%.4f" % r["ort_ms"],
                     fmt_ratio(r["ort_ms"], o["ort_ms"]),
                     "%.4f" % o["kiln_ms"], "%.4f" % r["kiln_ms"],
                     fmt_ratio(r["kiln_ms"], o["kiln_ms"]),
                     "%+.4f" % beyond])
        dims = r["output"].split("x")
        stage = "x".join(dims[-2:]) if len(dims) >= 3 else r["output"]
        sums = stages.setdefault(stage, [0.0, 0.0, 0.0, 0.0, 0.0])
        for i, v in enumerate((o["ort_ms"], r["ort_ms"], o["kiln_ms"],
                               r["kiln_ms"], beyond)):
            sums[i] += v
    stage_rows = [[stage, "%.4f" % a, "%.4f" % b, fmt_ratio(b, a),
                   "%.4f" % c, "%.4f" % d, fmt_ratio(d, c), "%+.4f" % e]
                  for stage, (a, b, c, d, e) in stages.items()]
    lines = ["# %s: %d threads against one" % (name, t), "",
             "From `profile_t1.md` and `profile_t%d.md` (medians in ms a "
             "run, each engine's own profiler): each layer's time on one "
             "thread and on %d in both engines, and what Kiln's layer takes "
             "beyond its one-thread time scaled as ONNX Runtime's (positive: "
             "Kiln's layer gains less from the threads)." % (t, t), "",
             "## By output size", "",
             markdown_table(["output", "ORT 1", "ORT %d" % t, "ORT %d/1" % t,
                             "Kiln 1", "Kiln %d" % t, "Kiln %d/1" % t,
                             "Kiln beyond"], stage_rows), "",
             "## By layer", "",
             markdown_table(["op", "ONNX Runtime node", "output", "ORT 1",
                             "ORT %d" % t, "ORT %d/1" % t, "Kiln 1",
                             "Kiln %d" % t, "Kiln %d/1" % t, "Kiln beyond"],
                            rows, text_columns=3), ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def write_profile(path, name, runs, version, ort, kiln_report):
    """OUT/NAME/profile_t<T>.md: the two side by side per ONNX Runtime node,
    then ONNX Runtime's nodes (`ort`, one thread count's profile from
    ort_bench.js) and Kiln's kernels as each profiler gave them. Returns
    the layer rows (layer_rows)."""
    threads, nodes = ort["threads"], ort["nodes"]
    total = sum(n["ms"] for n in nodes)
    kernels = kiln_kernels(kiln_report)
    layers, unmatched = layer_rows(nodes, kernels)
    table = [[r["op"], "`%s`" % r["name"], r["output"], "%.4f" % r["ms"],
              "%.4f" % r["kiln_ms"] if r["kiln_ms"] is not None else "",
              fmt_ratio(r["kiln_ms"], r["ort_ms"])
              if r["kiln_ms"] is not None else "", r["kernels"]]
             for r in layers]
    if unmatched:
        unmatched_text = "Kiln kernels with no node of ONNX Runtime's name: " \
            "%s." % ", ".join("%s %.4f ms (%s)" % (k[0], k[1],
                                                   ", ".join(k[2]) or "?")
                              for k in unmatched)
    else:
        unmatched_text = "Every Kiln kernel went with a node."
    by_op = collections.defaultdict(lambda: [0.0, 0])
    for n in nodes:
        by_op[n["op"]][0] += n["ms"]
        by_op[n["op"]][1] += 1
    lines = ["# %s: where the time goes, %d thread(s)" % (name, threads), "",
             "`bench/bench.py --profile %d`, %s: each engine run %d times "
             "under its own profiler after its timed rounds (a profiler "
             "costs time: these are not the table's latencies)."
             % (runs, datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                runs), "",
             "## Layer by layer", "",
             "Each ONNX Runtime node with the Kiln kernels that do its work "
             "(a kernel with the first node whose name is one of its ONNX "
             "nodes'; one that does several nodes' work, such as a "
             "convolution and the depthwise one after it, against their "
             "sum), both their medians in ms a run: ONNX Runtime %.4g, "
             "Kiln %.4g in all." % (total, sum(k[1] for k in kernels)), "",
             markdown_table(["op", "ONNX Runtime node", "output",
                             "ONNX Runtime", "Kiln", "Kiln/ORT",
                             "Kiln kernels"], table, text_columns=3), "",
             unmatched_text, "",
             "## ONNX Runtime %s: %.4g ms in %d nodes" % (version, total,
                                                           len(nodes)),
             "",
             "Each node's median kernel time over the runs, in the order the "
             "nodes ran (names are the graph's after ONNX Runtime's "
             "optimisations; trace: `%s`). By op type: %s." % (
                 os.path.basename(ort["trace"]),
                 ", ".join("%s %.4g ms (%d)" % (op, ms, count)
                           for op, (ms, count) in
                           sorted(by_op.items(), key=lambda kv: -kv[1][0]))),
             ""]
    rows = [[n["op"], "`%s`" % n["name"], " ".join(n["inputs"]),
             n["output"], "%.4f" % n["ms"],
             "%.1f%%" % (100.0 * n["ms"] / total) if total else ""]
            for n in nodes]
    lines.append(markdown_table(["op", "node", "inputs", "output", "ms",
                                 "share"], rows, text_columns=4))
    lines += ["", "## Kiln: `kiln-run --profile %d --threads %d`" % (runs,
                                                                     threads),
              "", "```", kiln_report, "```", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return layers


def profile_model(name, args, lib, tdir, onnx_path, inputs, out, problems):
    """--profile: both engines' profiles of one model, each thread count."""
    ort = profile_ort(onnx_path, inputs, args.threads, args.profile,
                      os.path.join(out, "ort-profile"))
    if "error" in ort:
        problems.append("%s: onnxruntime profile: %s" % (name, ort["error"]))
        return
    by_threads = {}
    for profile in ort["profiles"]:
        t = profile["threads"]
        report, error = profile_kiln(args.kiln_run, lib, tdir, t, args.profile)
        if error:
            problems.append("%s, %d thread(s): kiln-run --profile: %s"
                            % (name, t, error))
            continue
        path = os.path.join(out, "profile_t%d.md" % t)
        by_threads[t] = write_profile(path, name, args.profile,
                                      ort["version"], profile, report)
        kiln_ms = re.search(r"on \d+ threads?: ([0-9.e+-]+) ms a run", report)
        log("   profile, %d thread(s): ONNX Runtime's nodes %.4g ms, Kiln's "
            "run %s ms: %s" % (t, sum(n["ms"] for n in profile["nodes"]),
                               kiln_ms.group(1) if kiln_ms else "?", path))
    most = max(by_threads, default=1)
    if 1 in by_threads and most > 1:
        path = os.path.join(out, "profile_scaling.md")
        write_scaling(path, name, most, by_threads[1], by_threads[most])
        log("   profile, %d threads against one: %s" % (most, path))


def read_raw(spec):
    dtype = np.bool_ if spec["type"] == "bool" else np.dtype(spec["type"])
    return np.fromfile(spec["file"], dtype=dtype).reshape(spec["dims"])


def check_ort(result, refs):
    """(matches, max abs error) of one thread count's outputs."""
    outs = [read_raw(o) for o in result["outputs"]]
    if len(outs) != len(refs):
        return False, float("inf")
    ok, worst = True, 0.0
    for got, (_, ref) in zip(outs, refs):
        match, err = compare(got, ref)
        ok, worst = ok and match, max(worst, err)
    return ok, worst


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def fmt_ms(ms):
    return "—" if ms is None else "%.4g" % ms


def fmt_num(x, spec):
    return "—" if x is None else spec % x


def target_text(row):
    """Issue 7's target for this row and whether it is met; a wrong output
    meets nothing."""
    target = MODELS[row["model"]].target
    if not target:
        return ""
    wrong = row["kiln_pass"] is False
    if "ratio" in target:
        goal, have = target["ratio"], row["ratio"]
        if have is None:
            return "≤%.2f" % goal
        return "≤%.2f %s" % (goal, "invalid" if wrong else
                             "met" if have <= goal else "no")
    goal = target["peak"].get(row["threads"])
    if goal is None:
        return ""
    have = row["peak"]
    if have is None:
        return "≥%g%%" % goal
    return "≥%g%% %s" % (goal, "invalid" if wrong else
                         "met" if have >= goal else "no")


def match_text(row):
    def one(ok):
        return "—" if ok is None else ("PASS" if ok else "FAIL")
    return "%s/%s" % (one(row["kiln_pass"]), one(row["ort_pass"]))


COLUMNS = ["model", "threads", "Kiln ms", "ORT ms", "Kiln/ORT",
           "Kiln/ORT by round", "Kiln GFLOP/s", "% of peak", "ORT GFLOP/s",
           "target", "match Kiln/ORT", "cores: rounds, Kiln/ORT"]


def fmt_against(x, digits, goal):
    """x to `digits` decimals, or to as many more as it takes where those
    would print the target's own figure and hide which side of it x is (a
    ratio of 0.805 against a target of 0.80 is printed 0.805, not 0.80)."""
    if x is not None and goal is not None and x != goal:
        while "%.*f" % (digits, x) == "%.*f" % (digits, goal):
            digits += 1
    return fmt_num(x, "%%.%df" % digits)


def row_goals(row):
    """The ratio and % of peak that issue 7 sets for this row, or None."""
    target = MODELS[row["model"]].target or {}
    return (target.get("ratio"), target.get("peak", {}).get(row["threads"]))


def table_cells(row):
    ratio_goal, peak_goal = row_goals(row)
    return [row["model"], str(row["threads"]), fmt_ms(row["kiln_ms"]),
            fmt_ms(row["ort_ms"]), fmt_against(row["ratio"], 2, ratio_goal),
            spread_text(row), fmt_num(row["kiln_gflops"], "%.1f"),
            fmt_against(row["peak"], 1, peak_goal),
            fmt_num(row["ort_gflops"], "%.1f"),
            target_text(row),
            match_text(row), cores_text(row)]


def text_table(rows):
    cells = [COLUMNS] + [table_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, c in enumerate(cells):
        parts = [c[0].ljust(widths[0])] + \
            [c[i].rjust(widths[i]) for i in range(1, len(c))]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header, rows, text_columns=1):
    """A markdown table; the first `text_columns` columns align left."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < text_columns else "---:"
                            for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def describe_machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs" % (cpu, os.cpu_count() or 0)


def busy_processes():
    """Other processes now on a CPU (state R in /proc), by name: on 2 cores
    one of them is enough to skew the 2-thread rows."""
    names = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if not f.read(1):
                    continue  # a kernel thread
        except OSError:
            continue
        # "PID (NAME) STATE ...", where NAME may hold spaces and parentheses.
        close = stat.rfind(")")
        if stat[close + 2:close + 3] == "R":
            names.append(stat[stat.find("(") + 1:close])
    return sorted(names)


def describe_commit():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                               "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL,
                              universal_newlines=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain",
                                "--untracked-files=no"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL,
                               universal_newlines=True).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + (" with local changes" if dirty else "")


def run_peak(threads):
    """The median of PEAK_SAMPLES runs of peak.c at `threads` threads
    (GFLOP/s), or None where it did not build or run."""
    values = []
    for _ in range(PEAK_SAMPLES if PEAK_EXE else 0):
        run = subprocess.run([PEAK_EXE, str(threads)],
                             stdout=subprocess.PIPE, universal_newlines=True)
        if run.returncode != 0 or not run.stdout.startswith("GFLOPS "):
            return None
        values.append(float(run.stdout.split()[1]))
    return float(np.median(values)) if values else None


def measure_peak(threads, out_dir):
    """Compiles peak.c and runs it per thread count; fills PEAK."""
    global PEAK_EXE
    exe = os.path.join(out_dir, "peak")
    clang = "/usr/lib/llvm-19/bin/clang"
    rc = subprocess.run([clang, "-O3", "-march=native", "-pthread",
                         os.path.join(BENCH_DIR, "peak.c"), "-o", exe],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        universal_newlines=True)
    if rc.returncode == 0:
        PEAK_EXE = exe
    for t in threads:
        value = run_peak(t)
        PEAK[t] = value if value else PEAK_FALLBACK_PER_THREAD * t
        log("== f32 peak at %d thread(s): %.1f GFLOP/s (%s)"
            % (t, PEAK[t], "peak.c" if value else
               "DESIGN.md's estimate: peak.c did not build or run"))


def build_xcore(out_dir):
    """Compiles xcore.c, as measure_peak does peak.c; returns the program,
    or None where it does not build."""
    exe = os.path.join(out_dir, "xcore")
    rc = subprocess.run(["/usr/lib/llvm-19/bin/clang", "-O3", "-march=native",
                         "-pthread", os.path.join(BENCH_DIR, "xcore.c"), "-o",
                         exe],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        universal_newlines=True)
    return exe if rc.returncode == 0 else None


def run_xcore(exe):
    """What moving data between the two cores costs now (see xcore.c; about
    40 ms). Returns {"own": GB/s, "cross": GB/s, "rtt": ns}, or None where
    it cannot be measured."""
    if not exe:
        return None
    run = subprocess.run([exe], stdout=subprocess.PIPE,
                         universal_newlines=True)
    fields = run.stdout.split()
    if run.returncode != 0 or len(fields) != 4 or fields[0] != "XCORE":
        return None
    return {"own": float(fields[1]), "cross": float(fields[2]),
            "rtt": float(fields[3])}


def measure_xcore(exe, when):
    value = run_xcore(exe)
    log("== cores %s: %s" % (when, xcore_text(value)))
    return value


# The two vCPUs are "far" when a core reads what the other wrote at less
# than this share of the speed it reads its own writes (xcore.c): on the
# Zen 5 VM, 40-55% far (round trips of 500-600 ns) and 88-100% close
# (170-220 ns), the placement changing within minutes.
FAR_SHARE = 0.7


def cores_class(value):
    if not value:
        return None
    return "far" if value["cross"] < FAR_SHARE * value["own"] else "close"


def xcore_text(value):
    if not value:
        return "not measured"
    return ("4 MB read at %.0f GB/s from the core that wrote it, %.0f GB/s "
            "from the other (%.0f%%), a cache line's round trip %.0f ns"
            % (value["own"], value["cross"],
               100.0 * value["cross"] / value["own"], value["rtt"]))


def peaks_text(peaks):
    """A model's rounds' peaks: "215 / 425" for 1 and 2 threads."""
    return " / ".join("%.0f" % peaks[t] for t in sorted(peaks)) or "—"


def peak_text(threads):
    return ", ".join("%.0f GFLOP/s at %d thread%s" % (PEAK[t], t,
                                                      "" if t == 1 else "s")
                     for t in threads if t in PEAK)


def write_markdown(path, rows, details, info):
    out = ["# Kiln against ONNX Runtime (CPU)", ""]
    out.append("%s. `%s`, commit %s, ONNX Runtime %s (onnxruntime-node), "
               "%s mode%s." % (info["date"], info["command"], info["commit"],
                               info["ort_version"], info["mode"],
                               rounds_text(info.get("rounds", 1))))
    out.append("Machine: %s. Peak (bench/peak.c) at the start of this run: "
               "%s; each row's %% of peak is over peak.c's figures in that "
               "row's own rounds (Models, below)."
               % (info["machine"], info["peak"]))
    xcore = info.get("xcore", {})
    out.append("Between the cores (bench/xcore.c; two-thread figures move "
               "with it): at the start %s; at the end %s."
               % (xcore_text(xcore.get("start")), xcore_text(xcore.get("end"))))
    out.append("")
    out.append(markdown_table(COLUMNS, [table_cells(r) for r in rows]))
    out.append("")
    out.append("Medians of each measurement's runs after a warm-up. "
               "Kiln/ORT < 1: Kiln is faster (a ratio, or a %% of peak, "
               "with more digits where fewer would round it onto its "
               "target); by round: the lowest and "
               "highest of the rounds' ratios, each of Kiln's and ORT's "
               "medians in the same round. %% of peak: Kiln's GFLOP/s "
               "over the median of the peaks that peak.c measured just "
               "before Kiln's timing in each round, at that thread count "
               "(the median of %d runs each). Match: each "
               "engine's output against "
               "torch's (numpy's for the matmuls) within rtol %g, atol %g. "
               "ORT's latency includes onnxruntime-node's per-call cost, "
               "%s ms for a 1-element Identity. Cores: a row of several "
               "threads' rounds by where the two vCPUs were (bench/xcore.c "
               "before and after each round: far when a core reads what the "
               "other wrote at under %.0f%% of the speed it reads its own "
               "writes, close otherwise, changing when the two differ) and "
               "the median of those rounds' Kiln/ORT ratios."
               % (PEAK_SAMPLES, RTOL, ATOL, fmt_ms(info.get("ort_floor_ms")),
                  100 * FAR_SHARE))
    out.append("")
    out.append("![Kiln against ONNX Runtime](bench.svg)")
    out.append("")
    out.append("## Models")
    out.append("")
    header = ["model", "what", "GFLOP", "kilnc s", "max err Kiln",
              "max err ORT", "max Kiln−ORT", "runs Kiln", "runs ORT",
              "peak GFLOP/s in its rounds"]
    out.append(markdown_table(header, [[
        d["model"], MODELS[d["model"]].about,
        fmt_num(d["flops"] / 1e9, "%.4g"),
        fmt_num(d.get("compile_s"), "%.1f"),
        fmt_num(d.get("kiln_err"), "%.2g"), fmt_num(d.get("ort_err"), "%.2g"),
        fmt_num(d.get("cross_err"), "%.2g"), str(d.get("kiln_runs", "—")),
        str(d.get("ort_runs", "—")), peaks_text(d.get("peaks", {}))]
        for d in details], text_columns=2))
    if info["problems"] or info["warnings"]:
        out += ["", "## Problems", ""]
        out += ["- " + p for p in info["warnings"] + info["problems"]]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def nice_ceiling(x):
    """The smallest round number (1, 1.2, 1.5, 2, ... 8 times a power of
    ten) that is >= x: an axis top whose half is round too."""
    power = 10.0 ** np.floor(np.log10(x))
    for step in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if step * power >= x * (1 - 1e-9):
            return step * power
    return 10.0 * power


def write_svg(path, rows, threads):
    """Hand-written SVG: one panel per model, its own linear millisecond
    axis, a Kiln and an ORT bar for each thread count, values on the bars."""
    models = list(collections.OrderedDict((r["model"], 1) for r in rows))
    by_key = {(r["model"], r["threads"]): r for r in rows}
    kiln_color, ort_color = "#d95f02", "#1b6ca8"
    cols = min(3, max(len(models), 1))
    panel_w, panel_h = 300, 230
    top = 60
    width = cols * panel_w + 20
    height = top + ((len(models) + cols - 1) // cols) * panel_h + 10
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif">'
           % (width, height, width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="24" font-size="17" font-weight="bold">Kiln vs '
           'ONNX Runtime %s, CPU: median latency (ms, lower is better)'
           '</text>' % ORT_VERSION]
    for i, (label, color) in enumerate((("Kiln", kiln_color),
                                        ("ONNX Runtime", ort_color))):
        x = 10 + i * 140
        svg.append('<rect x="%d" y="36" width="14" height="14" fill="%s"/>'
                   % (x, color))
        svg.append('<text x="%d" y="48" font-size="13">%s</text>'
                   % (x + 20, label))

    for index, model in enumerate(models):
        x0 = 10 + (index % cols) * panel_w
        y0 = top + (index // cols) * panel_h
        plot_x, plot_y = x0 + 45, y0 + 28
        plot_w, plot_h = panel_w - 65, panel_h - 75
        values = [v for t in threads for v in
                  (by_key.get((model, t), {}).get("kiln_ms"),
                   by_key.get((model, t), {}).get("ort_ms")) if v]
        # Headroom above the tallest bar for its label.
        top_ms = nice_ceiling(max(values) * 1.12) if values else 1.0
        svg.append('<text x="%d" y="%d" font-size="14" font-weight="bold">'
                   '%s</text>' % (x0 + 5, y0 + 16, html.escape(model)))
        # Axis, with gridlines at 0, 1/2 and 1 of the top value.
        for frac in (0.0, 0.5, 1.0):
            y = plot_y + plot_h - frac * plot_h
            svg.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" '
                       'stroke="#ddd"/>' % (plot_x, y, plot_x + plot_w, y))
            svg.append('<text x="%d" y="%.1f" font-size="10" '
                       'text-anchor="end" fill="#555">%s</text>'
                       % (plot_x - 4, y + 3, "%g" % (frac * top_ms)))
        group_w = plot_w / max(len(threads), 1)
        bar_w = min(40.0, group_w / 2.6)
        for g, t in enumerate(threads):
            row = by_key.get((model, t), {})
            gx = plot_x + g * group_w + (group_w - 2 * bar_w) / 2
            for b, (key, color) in enumerate((("kiln_ms", kiln_color),
                                              ("ort_ms", ort_color))):
                bx = gx + b * bar_w
                value = row.get(key)
                if value is None:
                    svg.append('<text x="%.1f" y="%.1f" font-size="10" '
                               'text-anchor="middle" fill="#999">n/a</text>'
                               % (bx + bar_w / 2, plot_y + plot_h - 4))
                    continue
                h = value / top_ms * plot_h
                svg.append('<rect x="%.1f" y="%.1f" width="%.1f" '
                           'height="%.1f" fill="%s"><title>%s, %d thread(s)'
                           ': %s ms</title></rect>'
                           % (bx + 1, plot_y + plot_h - h, bar_w - 2, h,
                              color, "Kiln" if b == 0 else "ONNX Runtime",
                              t, fmt_ms(value)))
                svg.append('<text x="%.1f" y="%.1f" font-size="10" '
                           'text-anchor="middle">%s</text>'
                           % (bx + bar_w / 2, plot_y + plot_h - h - 3,
                              "%.0f" % value if value >= 100
                              else "%.3g" % value))
            ratio = row.get("ratio")
            svg.append('<text x="%.1f" y="%.1f" font-size="11" '
                       'text-anchor="middle">%d thread%s</text>'
                       % (gx + bar_w, plot_y + plot_h + 15, t,
                          "" if t == 1 else "s"))
            svg.append('<text x="%.1f" y="%.1f" font-size="11" '
                       'text-anchor="middle" fill="#555">%s</text>'
                       % (gx + bar_w, plot_y + plot_h + 29,
                          "" if ratio is None else "Kiln/ORT %.2f" % ratio))
    svg.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def parse_list(text, what, allowed=None):
    items = [x for x in text.split(",") if x]
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            sys.exit("bench.py: unknown %s %s; known: %s"
                     % (what, ",".join(bad), ",".join(allowed)))
    return items


def rounds_text(rounds):
    return "" if rounds == 1 else ", median of %d rounds" % rounds


def round_ratios(threads, kiln_measured, ort_measured):
    """Each round's Kiln/ORT ratio at `threads` (its two medians, taken
    back to back), None for a round that measured no ratio."""
    out = []
    for k, o in zip(kiln_measured, ort_measured):
        ort_ms = [r["medianMs"] for r in o.get("results", [])
                  if r["threads"] == threads]
        out.append(k["median"] / ort_ms[0] if "error" not in k and ort_ms
                   and ort_ms[0] else None)
    return out


def cores_rounds(classes, ratios_by_round):
    """Per class of round (cores far, close, changing): how many rounds, and
    the median of their Kiln/ORT ratios (round_ratios', one a round)."""
    ratios = collections.defaultdict(list)
    for cls, ratio in zip(classes, ratios_by_round):
        if not cls:
            continue
        ratios[cls].append(ratio)
    out = {}
    for cls in ("far", "close", "changing"):
        if cls in ratios:
            valid = [r for r in ratios[cls] if r is not None]
            out[cls] = {"rounds": len(ratios[cls]),
                        "ratio": float(np.median(valid)) if valid else None}
    return out


def spread_text(row):
    """The lowest and highest of the rounds' Kiln/ORT ratios: "0.77-0.84"
    (with two rounds or more)."""
    valid = [r for r in row.get("round_ratios") or [] if r is not None]
    if len(valid) < 2:
        return ""
    return "%.2f-%.2f" % (min(valid), max(valid))


def cores_text(row):
    """The rounds' cores and their Kiln/ORT ratios, for a row of several
    threads: "far 3: 0.85, close 2: 0.74"."""
    cores = row.get("cores")
    if not cores:
        return ""
    return ", ".join("%s %d: %s" % (cls, c["rounds"],
                                    fmt_num(c["ratio"], "%.2f"))
                     for cls, c in cores.items())


def bench_model(name, args, policy, problems, warnings):
    """Compiles and times one model; returns (table rows, detail dict)."""
    busy = set(busy_processes())
    mdir = os.path.join(args.model_dir, name)
    onnx_path = os.path.join(mdir, "model.onnx")
    tdir = os.path.join(mdir, "test_data_set_0")
    out = os.path.join(args.out, name)
    flops = count_flops(onnx_path)
    detail = {"model": name, "flops": flops}
    refs = read_test_data(tdir, "output")
    log("== %s: %s, %.4g GFLOP" % (name, MODELS[name].about, flops / 1e9))

    # Kiln: compile once, a first run to check the outputs and choose the
    # number of runs, then one timed kiln-run per thread count.
    lib = os.path.join(args.out, "lib", name + ".so")
    compile_s, error = compile_model(args.kilnc, onnx_path, lib, name)
    detail["compile_s"] = compile_s
    log("   kilnc: %.1f s%s" % (compile_s, ", " + error if error else ""))
    runs = None
    if error:
        problems.append("%s: %s" % (name, error))
    else:
        probe = run_kiln(args.kiln_run, lib, tdir, args.threads[0], 1,
                         write=os.path.join(out, "kiln"))
        if "error" in probe:
            problems.append("%s: %s" % (name, probe["error"]))
        else:
            runs = args.runs or choose_runs(probe["median"], policy)

    # Each round times, at each thread count, Kiln and ONNX Runtime back to
    # back (ONNX Runtime in a node process of its own per thread count),
    # Kiln first in even rounds and ONNX Runtime first in odd ones: a
    # round's ratio then compares two measurements seconds apart, and a
    # host that speeds up or slows down over a round favours neither engine.
    inputs = export_inputs(tdir, os.path.join(out, "inputs"))
    # Each round between two xcore measurements: "far" or "close" when both
    # say so, "changing" when they differ.
    kiln_rounds = collections.defaultdict(list)
    peak_rounds = collections.defaultdict(list)
    ort_rounds = []
    round_cores = []
    for number in range(args.rounds):
        before = cores_class(run_xcore(args.xcore))
        ort_round = {"results": []}
        for t in args.threads:
            def time_kiln():
                if not runs:
                    return
                peak = run_peak(t)
                if peak:
                    peak_rounds[t].append(peak)
                kiln_rounds[t].append(run_kiln(args.kiln_run, lib, tdir, t,
                                               runs))

            def time_ort():
                if "error" in ort_round:
                    return
                result = run_ort(onnx_path, inputs, [t], policy, args.runs,
                                 os.path.join(out, "ort"))
                if "error" in result:
                    ort_round.clear()
                    ort_round.update(result)
                else:
                    ort_round["version"] = result.get("version")
                    ort_round["results"] += result["results"]

            for step in ((time_kiln, time_ort) if number % 2 == 0
                         else (time_ort, time_kiln)):
                step()
        ort_rounds.append(ort_round)
        after = cores_class(run_xcore(args.xcore))
        round_cores.append(before if before == after else
                           "changing" if before and after else None)
    if any(round_cores):
        log("   cores by round: %s" % ", ".join(c or "not measured"
                                                 for c in round_cores))
    kiln = {}
    for t, measured in kiln_rounds.items():
        failed = [m for m in measured if "error" in m]
        if failed:
            problems.append("%s, %d thread(s): %s"
                            % (name, t, failed[0]["error"]))
            continue
        kiln[t] = dict(measured[0])
        kiln[t]["median"] = float(np.median([m["median"] for m in measured]))
        kiln[t]["p90"] = float(np.median([m["p90"] for m in measured]))
        kiln[t]["pass"] = all(m["pass"] for m in measured)
        errs = [m["max_abs"] for m in measured if m["max_abs"] is not None]
        kiln[t]["max_abs"] = max(errs) if errs else None
        detail["kiln_runs"] = kiln[t]["runs"]
        if kiln[t]["max_abs"] is not None:
            detail["kiln_err"] = max(detail.get("kiln_err", 0),
                                     kiln[t]["max_abs"])
        log("   Kiln, %d thread(s): median %s ms over %d runs%s, %s%s"
            % (t, fmt_ms(kiln[t]["median"]), kiln[t]["runs"],
               rounds_text(args.rounds), "PASS" if kiln[t]["pass"] else "FAIL",
               "; peak.c %s GFLOP/s" % "/".join("%.0f" % x
                                                 for x in peak_rounds[t])
               if peak_rounds[t] else ""))

    ort_by_threads = {}
    failed = [o for o in ort_rounds if "error" in o]
    if failed:
        problems.append("%s: onnxruntime: %s" % (name, failed[0]["error"]))
    else:
        ort = ort_rounds[-1]
        for result in ort["results"]:
            t = result["threads"]
            same = [r for o in ort_rounds for r in o["results"]
                    if r["threads"] == t]
            result["medianMs"] = float(np.median([r["medianMs"] for r in same]))
            result["p90Ms"] = float(np.median([r["p90Ms"] for r in same]))
            ok, err = check_ort(result, refs)
            result["pass"], result["max_abs"] = ok, err
            ort_by_threads[result["threads"]] = result
            detail["ort_runs"] = result["runs"]
            detail["ort_err"] = max(detail.get("ort_err", 0), err)
            log("   ORT,  %d thread(s): median %s ms over %d runs%s, %s "
                "(session %.0f ms)" % (result["threads"],
                                       fmt_ms(result["medianMs"]),
                                       result["runs"],
                                       rounds_text(args.rounds),
                                       "PASS" if ok else "FAIL",
                                       result["createMs"]))
        # Kiln against ORT directly, at the first thread count.
        first = ort_by_threads.get(args.threads[0])
        kiln_outs = read_test_data(os.path.join(out, "kiln"), "output") \
            if os.path.isdir(os.path.join(out, "kiln")) else []
        if first and kiln_outs and len(kiln_outs) == len(first["outputs"]):
            diffs = [float(np.abs(k.astype(np.float64) -
                                  read_raw(o).astype(np.float64)).max(
                                      initial=0))
                     for (_, k), o in zip(kiln_outs, first["outputs"])]
            detail["cross_err"] = max(diffs)

    if args.profile and runs:
        profile_model(name, args, lib, tdir, onnx_path, inputs, out, problems)

    busy.update(busy_processes())
    if busy:
        warnings.append("%s: the machine was busy (%s running)"
                        % (name, ", ".join(sorted(busy))))
        log("   warning: the machine was busy (%s running)"
            % ", ".join(sorted(busy)))

    rows = []
    for t in args.threads:
        k, o = kiln.get(t, {}), ort_by_threads.get(t, {})
        kiln_ms, ort_ms = k.get("median"), o.get("medianMs")
        row = {"model": name, "threads": t, "kiln_ms": kiln_ms,
               "ort_ms": ort_ms, "kiln_pass": k.get("pass"),
               "ort_pass": o.get("pass"), "kiln_p90": k.get("p90"),
               "ort_p90": o.get("p90Ms"),
               "ratio": kiln_ms / ort_ms if kiln_ms and ort_ms else None,
               "kiln_gflops": flops / kiln_ms / 1e6 if kiln_ms else None,
               "ort_gflops": flops / ort_ms / 1e6 if ort_ms else None}
        row["peak_gflops"] = (float(np.median(peak_rounds[t]))
                              if peak_rounds[t] else PEAK[t])
        detail.setdefault("peaks", {})[t] = row["peak_gflops"]
        row["peak"] = (100.0 * row["kiln_gflops"] / row["peak_gflops"]
                       if row["kiln_gflops"] is not None else None)
        row["round_ratios"] = round_ratios(t, kiln_rounds[t], ort_rounds)
        if t > 1 and any(round_cores):
            row["cores"] = cores_rounds(round_cores, row["round_ratios"])
        for engine, ok in (("Kiln", row["kiln_pass"]),
                           ("ORT", row["ort_pass"])):
            if ok is False:
                problems.append("%s, %d thread(s): %s's output does not "
                                "match the reference" % (name, t, engine))
        rows.append(row)
    return rows, detail


def main(argv):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="models: " + ", ".join(MODELS))
    p.add_argument("--quick", action="store_true",
                   help="fewer runs (at least %d, about %.1f s per "
                   "measurement): a few minutes in all" % (QUICK_RUNS[0],
                                                          QUICK_RUNS[2]))
    p.add_argument("--models", default=",".join(MODELS), metavar="A,B",
                   help="comma-separated subset of the models (default: all)")
    p.add_argument("--threads", default="1,2", metavar="T,...",
                   help="comma-separated thread counts (default 1,2)")
    p.add_argument("--runs", type=int, metavar="N",
                   help="time exactly N runs per measurement")
    p.add_argument("--rounds", type=int, default=1, metavar="N",
                   help="measure Kiln and ONNX Runtime N times in turn; each "
                   "figure the median of the rounds' medians (default 1)")
    p.add_argument("--profile", type=int, default=0, metavar="R",
                   help="then run each engine R more times under its own "
                   "profiler and write OUT/NAME/profile_t<T>.md (default: "
                   "no profiles)")
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   metavar="DIR",
                   help="Kiln's build directory (default: build/)")
    p.add_argument("--model-dir", metavar="DIR",
                   help="where models are exported (default: "
                   "BUILD/bench-models)")
    p.add_argument("--out", metavar="DIR",
                   help="results, libraries, outputs (default: BUILD/bench)")
    args = p.parse_args(argv)

    names = parse_list(args.models, "model(s)", list(MODELS))
    try:
        args.threads = [int(t) for t in parse_list(args.threads, "threads")]
    except ValueError:
        p.error("--threads takes a comma-separated list of integers")
    if not names or not args.threads or min(args.threads) < 1:
        p.error("no models or no valid thread counts")
    if args.runs is not None and args.runs < 1:
        p.error("--runs needs a positive integer")
    if args.rounds < 1:
        p.error("--rounds needs a positive integer")
    if args.profile < 0:
        p.error("--profile needs a positive number of runs")
    args.build = os.path.abspath(args.build)
    args.model_dir = os.path.abspath(args.model_dir or os.path.join(
        args.build, "bench-models"))
    args.out = os.path.abspath(args.out or os.path.join(args.build, "bench"))
    args.kilnc = os.path.join(args.build, "bin", "kilnc")
    args.kiln_run = os.path.join(args.build, "bin", "kiln-run")
    for tool in (args.kilnc, args.kiln_run):
        if not os.access(tool, os.X_OK):
            sys.exit("bench.py: %s not found: build Kiln first "
                     "(scripts/setup.sh)" % tool)
    policy = QUICK_RUNS if args.quick else FULL_RUNS

    t0 = time.time()
    busy = busy_processes()
    if busy:
        log("== warning: the machine is busy (%s running): latencies, the "
            "2-thread ones most, will be too high" % ", ".join(busy))
    warnings = []
    ensure_onnxruntime()
    os.makedirs(args.out, exist_ok=True)
    measure_peak(args.threads, args.out)
    args.xcore = build_xcore(args.out)
    xcore = {"start": measure_xcore(args.xcore, "at the start")}
    ready = prepare_models(names, args.model_dir)
    problems = ["%s: the model could not be made" % n
                for n in names if n not in ready]

    # onnxruntime-node's own cost per call, for reading the small models.
    floor = run_ort(os.path.join(args.model_dir, FLOOR_MODEL, "model.onnx"),
                    export_inputs(os.path.join(args.model_dir, FLOOR_MODEL,
                                               "test_data_set_0"),
                                  os.path.join(args.out, FLOOR_MODEL)),
                    [1], (200, 2000, 0.3), None,
                    os.path.join(args.out, FLOOR_MODEL, "ort"))
    if "error" in floor:
        sys.exit("bench.py: onnxruntime-node does not run: %s"
                 % floor["error"])
    floor_ms = floor["results"][0]["medianMs"]
    log("== ONNX Runtime %s (onnxruntime-node): %s ms per call on a "
        "1-element Identity" % (floor["version"], fmt_ms(floor_ms)))

    rows, details = [], []
    for name in ready:
        model_rows, detail = bench_model(name, args, policy, problems,
                                         warnings)
        rows += model_rows
        details.append(detail)

    xcore["end"] = measure_xcore(args.xcore, "at the end")
    info = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "command": " ".join(["bench/bench.py"] + argv),
            "commit": describe_commit(), "ort_version": floor["version"],
            "mode": "quick" if args.quick else "full",
            "rounds": args.rounds,
            "machine": describe_machine(), "ort_floor_ms": floor_ms,
            "peak": peak_text(args.threads), "xcore": xcore,
            "problems": problems, "warnings": warnings}
    write_markdown(os.path.join(args.out, "results.md"), rows, details, info)
    write_svg(os.path.join(args.out, "bench.svg"), rows, args.threads)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"info": info, "rows": rows, "models": details}, f,
                  indent=1)

    log("")
    log(text_table(rows))
    log("")
    log("Kiln/ORT < 1: Kiln is faster. %% of peak: Kiln's GFLOP/s over the "
        "peak measured in the row's rounds (at the start: %s). ORT's per-call "
        "floor: %s ms." % (peak_text(args.threads), fmt_ms(floor_ms)))
    for warning in warnings:
        log("warning: " + warning)
    for problem in problems:
        log("problem: " + problem)
    log("== wrote %s, bench.svg and results.json; %.0f s in all"
        % (os.path.join(args.out, "results.md"), time.time() - t0))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
