#!/usr/bin/python3
"""Reads two `kiln-run --profile` reports of profile.test's model (one
thread, then two) with bench/bench.py's parser, holds their kernels
against ONNX Runtime nodes named as ONNX Runtime names them (its fused
MatMul and Relu, "fused matmul0", at 0.5 and 0.3 ms), and prints what
bench.py's layer table and its two-threads-against-one file say, for
FileCheck: the kernels bench.py found (their medians) with their nodes,
each layer row's kernels and whether it has a Kiln time, and
profile_scaling.md."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "bench"))
import bench  # noqa: E402

out = sys.argv[3]
by_threads = {}
for t, path, ort_ms in [(1, sys.argv[1], 0.5), (2, sys.argv[2], 0.3)]:
    with open(path) as f:
        report = f.read()
    kernels = bench.kiln_kernels(report)
    # The report's second column is each kernel's median (the first its
    # mean): the one held against ONNX Runtime's medians.
    medians = {line.split()[7]: float(line.split()[1])
               for line in report.splitlines()
               if "_graph_" in line and len(line.split()) > 7}
    for name, ms, nodes in kernels:
        print("kernel %s median>0 %s is-median %s nodes %s"
              % (name, ms > 0, ms == medians.get(name), nodes))
    nodes = [dict(op="FusedMatMul", name="fused matmul0", output="128x256",
                  ms=ort_ms, inputs=[]),
             dict(op="Identity", name="other_output_0", output="128x256",
                  ms=0.01, inputs=[])]
    rows, unmatched = bench.layer_rows(nodes, kernels)
    for r in rows:
        print("row %s kiln %s kernels %s"
              % (r["name"], r["kiln_ms"] is not None, r["kernels"]))
    print("unmatched", [k[0] for k in unmatched])
    by_threads[t] = rows
path = os.path.join(out, "profile_scaling.md")
bench.write_scaling(path, "mm", 2, by_threads[1], by_threads[2])
with open(path) as f:
    print(f.read())
