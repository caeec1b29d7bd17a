// ort_bench.js - Time ONNX Runtime on one model for bench.py
//
// This file implements the ONNX Runtime side of Kiln's CPU benchmark. It is
// run by bench.py, not by hand:
//
//   node ort_bench.js SPEC.json
//
// SPEC.json names the model, its inputs as raw little-endian files written
// by bench.py from the model's input_<i>.pb, the thread counts to time and
// how many runs to make:
//
//   {"model": "resnet50/model.onnx",
//    "inputs": [{"name": "input", "type": "float32", "dims": [1, 3, 224, 224],
//                "file": ".../input_0.bin"}],
//    "threads": [1, 2], "warmup": 2, "warmupMs": 250,
//    "minRuns": 5, "maxRuns": 200, "budgetMs": 500, "runs": null,
//    "outDir": "..."}
//
// For each thread count it creates a CPU session (graph optimisation level
// "all", intraOpNumThreads = T, interOpNumThreads = 1, sequential execution),
// makes `warmup` runs and more until `warmupMs` have passed (a fresh
// process's first milliseconds of runs are slower: node's compiler and
// ONNX Runtime's threads warming up), then times `runs` runs (or, when
// that is null, enough runs to fill `budgetMs` judged by the fastest
// warm-up run, clamped to [minRuns, maxRuns]). It writes the last run's
// outputs as raw files under outDir/t<T>/ and prints one JSON line on
// stdout:
//
//   {"version": "1.30.0", "results": [{"threads": 1, "runs": 40,
//     "medianMs": 65.2, "p90Ms": 66.0, "createMs": 812,
//     "outputs": [{"name": "output", "type": "float32", "dims": [1, 1000],
//                  "file": ".../t1/output_0.bin"}]}, ...]}
//
// Latency is the wall time of `await session.run(feeds)`: onnxruntime-node
// runs the model synchronously inside it, plus a few microseconds of N-API
// binding and promise overhead that bench.py measures on its own.
//
// With "profileRuns": R in the spec it times nothing: for each thread count
// it creates the same session with ONNX Runtime's profiler on (its trace
// written to outDir/profile_t<T>_<date>.json), makes the warm-up runs and R
// more, and prints each node's median time over those R runs, in the order
// the nodes ran:
//
//   {"version": "1.30.0", "profiles": [{"threads": 1, "runs": 20,
//     "trace": ".../profile_t1_2026-12-06_15-20-01_123.json",
//     "nodes": [{"name": "/conv1/Conv_output_0_nchwc", "op": "Conv",
//                "ms": 1.16, "inputs": ["1x3x224x224", "64x3x7x7"],
//                "output": "1x64x112x112"}, ...]}, ...]}
// Any failure ends in one `ort_bench.js: error: ...` line and exit status 1.

'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

/// The typed array that holds each ONNX Runtime element type.
const ARRAY_TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/// Reads one raw input file into an ort.Tensor.
function readTensor(input) {
  const ArrayType = ARRAY_TYPES[input.type];
  if (!ArrayType)
    throw new Error(`input '${input.name}' has element type ${input.type}, ` +
                    'which ort_bench.js does not support');
  const bytes = fs.readFileSync(input.file);
  // Copy into a buffer of its own: a Buffer may sit unaligned in a pool.
  const start = bytes.byteOffset;
  const buffer = bytes.buffer.slice(start, start + bytes.byteLength);
  return new ort.Tensor(input.type, new ArrayType(buffer), input.dims);
}

/// Writes `tensor`'s elements to `file` as raw bytes.
function writeTensor(tensor, file) {
  const data = tensor.data;
  fs.writeFileSync(file, Buffer.from(data.buffer, data.byteOffset,
                                     data.byteLength));
}

/// Milliseconds since `start`, a process.hrtime.bigint() value.
function millisSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/// The median and the nearest-rank 90th percentile, as kiln-run computes them.
function summarize(millis) {
  const sorted = [...millis].sort((a, b) => a - b);
  const n = sorted.length;
  const median =
      n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const p90 = sorted[Math.max(Math.ceil(0.9 * n), 1) - 1];
  return {median, p90};
}

/// How many runs to time, from the fastest warm-up run.
function chooseRuns(spec, probeMs) {
  if (spec.runs)
    return spec.runs;
  const wanted = Math.round(spec.budgetMs / Math.max(probeMs, 1e-3));
  return Math.min(Math.max(wanted, spec.minRuns), spec.maxRuns);
}

/// The benchmark's CPU session of spec.model with `threads` intra-op
/// threads, and `extra` session options.
function createSession(spec, threads, extra = {}) {
  return ort.InferenceSession.create(spec.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3, // errors only
    ...extra,
  });
}

/// Creates a session with `threads` intra-op threads and times it.
async function benchThreads(spec, feeds, threads) {
  const createStart = process.hrtime.bigint();
  const session = await createSession(spec, threads);
  const createMs = millisSince(createStart);

  let outputs;
  let probeMs = Infinity;
  const warmStart = process.hrtime.bigint();
  for (let i = 0; i < Math.max(spec.warmup, 1) ||
                  millisSince(warmStart) < (spec.warmupMs || 0);
       ++i) {
    const start = process.hrtime.bigint();
    outputs = await session.run(feeds);
    probeMs = Math.min(probeMs, millisSince(start));
  }
  const runs = chooseRuns(spec, probeMs);
  const millis = [];
  for (let i = 0; i < runs; ++i) {
    const start = process.hrtime.bigint();
    outputs = await session.run(feeds);
    millis.push(millisSince(start));
  }

  // The graph's outputs in order, as output_<i>.pb numbers them.
  const dir = path.join(spec.outDir, `t${threads}`);
  fs.mkdirSync(dir, {recursive: true});
  const written = session.outputNames.map((name, i) => {
    const tensor = outputs[name];
    const file = path.join(dir, `output_${i}.bin`);
    writeTensor(tensor, file);
    return {name, type: tensor.type, dims: tensor.dims, file};
  });
  await session.release();

  const {median, p90} = summarize(millis);
  return {threads, runs, medianMs: median, p90Ms: p90, createMs,
          outputs: written};
}

/// A profiler shape list ([{"float": [1, 3, 224, 224]}, ...]) as
/// ["1x3x224x224", ...].
function shapes(list) {
  return (list || []).map((entry) => {
    const dims = Object.values(entry)[0];
    return Array.isArray(dims) ? dims.join('x') : String(dims);
  });
}

/// Each node's median kernel time (ms) over the last `runs` runs of a
/// profiler trace, in the order the nodes first ran.
function nodeTimes(trace, runs) {
  const byNode = new Map();
  for (const event of trace) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time'))
      continue;
    const name = event.name.slice(0, -'_kernel_time'.length);
    if (!byNode.has(name)) {
      const args = event.args || {};
      byNode.set(name, {name, op: args.op_name || '', micros: [],
                        inputs: shapes(args.input_type_shape),
                        output: shapes(args.output_type_shape).join(', ')});
    }
    byNode.get(name).micros.push(event.dur);
  }
  return [...byNode.values()].map((node) => {
    const {median} = summarize(node.micros.slice(-runs));
    return {name: node.name, op: node.op, ms: median / 1000,
            inputs: node.inputs, output: node.output};
  });
}

/// Runs `threads` intra-op threads under ONNX Runtime's profiler.
async function profileThreads(spec, feeds, threads) {
  const prefix = `profile_t${threads}`;
  const session = await createSession(spec, threads, {
    enableProfiling: true,
    profileFilePrefix: path.join(spec.outDir, prefix),
  });
  for (let i = 0; i < Math.max(spec.warmup, 1) + spec.profileRuns; ++i)
    await session.run(feeds);
  session.endProfiling();
  await session.release();
  // The trace this session wrote: the newest of its prefix.
  let trace = null, newest = -Infinity;
  for (const f of fs.readdirSync(spec.outDir)) {
    if (!f.startsWith(prefix + '_') || !f.endsWith('.json'))
      continue;
    const file = path.join(spec.outDir, f);
    const mtime = fs.statSync(file).mtimeMs;
    if (mtime > newest)
      [trace, newest] = [file, mtime];
  }
  if (!trace)
    throw new Error(`ONNX Runtime wrote no profile under ${spec.outDir}`);
  const nodes =
      nodeTimes(JSON.parse(fs.readFileSync(trace, 'utf8')), spec.profileRuns);
  return {threads, runs: spec.profileRuns, trace, nodes};
}

async function main() {
  if (process.argv.length !== 3)
    throw new Error('usage: node ort_bench.js SPEC.json');
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const feeds = {};
  for (const input of spec.inputs)
    feeds[input.name] = readTensor(input);
  const version = require('onnxruntime-node/package.json').version;
  if (spec.profileRuns) {
    fs.mkdirSync(spec.outDir, {recursive: true});
    const profiles = [];
    for (const threads of spec.threads)
      profiles.push(await profileThreads(spec, feeds, threads));
    process.stdout.write(JSON.stringify({version, profiles}) + '\n');
    return;
  }
  const results = [];
  for (const threads of spec.threads)
    results.push(await benchThreads(spec, feeds, threads));
  process.stdout.write(JSON.stringify({version, results}) + '\n');
}

main().catch((e) => {
  const message = e && e.message ? e.message : e;
  process.stderr.write(`ort_bench.js: error: ${message}\n`);
  process.exit(1);
});
