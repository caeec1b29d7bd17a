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
//    "threads": [1, 2], "warmup": 2,
//    "minRuns": 5, "maxRuns": 200, "budgetMs": 500, "runs": null,
//    "outDir": "..."}
//
// For each thread count it creates a CPU session (graph optimisation level
// "all", intraOpNumThreads = T, interOpNumThreads = 1, sequential execution),
// makes `warmup` runs, then times `runs` runs (or, when that is null, enough
// runs to fill `budgetMs` judged by the fastest warm-up run, clamped to
// [minRuns, maxRuns]). It writes the last run's outputs as raw files under
// outDir/t<T>/ and prints one JSON line on stdout:
//
//   {"version": "1.30.0", "results": [{"threads": 1, "runs": 40,
//     "medianMs": 65.2, "p90Ms": 66.0, "createMs": 812,
//     "outputs": [{"name": "output", "type": "float32", "dims": [1, 1000],
//                  "file": ".../t1/output_0.bin"}]}, ...]}
//
// Latency is the wall time of `await session.run(feeds)`: onnxruntime-node
// runs the model synchronously inside it, plus a few microseconds of N-API
// binding and promise overhead that bench.py measures on its own.
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

/// Creates a session with `threads` intra-op threads and times it.
async function benchThreads(spec, feeds, threads) {
  const createStart = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(spec.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3, // errors only
  });
  const createMs = millisSince(createStart);

  let outputs;
  let probeMs = Infinity;
  for (let i = 0; i < Math.max(spec.warmup, 1); ++i) {
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

async function main() {
  if (process.argv.length !== 3)
    throw new Error('usage: node ort_bench.js SPEC.json');
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const feeds = {};
  for (const input of spec.inputs)
    feeds[input.name] = readTensor(input);
  const results = [];
  for (const threads of spec.threads)
    results.push(await benchThreads(spec, feeds, threads));
  const version = require('onnxruntime-node/package.json').version;
  process.stdout.write(JSON.stringify({version, results}) + '\n');
}

main().catch((e) => {
  const message = e && e.message ? e.message : e;
  process.stderr.write(`ort_bench.js: error: ${message}\n`);
  process.exit(1);
});
