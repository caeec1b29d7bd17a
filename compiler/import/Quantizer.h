//===- Quantizer.h - Post-training int8 quantization ------------*- C++ -*-===//
//
// This file declares the model rewriting behind `kilnc --quantize=int8`:
// which tensors a float model must be calibrated on, and the QDQ model
// (ONNX Runtime's format) that the calibrated ranges give. Running the
// calibration model is the driver's (compiler/Calibration.h). Like
// OnnxLoader.h, the interface carries only the standard library: the file
// calls libonnx, which throws.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_QUANTIZER_H
#define KILN_COMPILER_IMPORT_QUANTIZER_H

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

struct InputShapePin;

/// What --quantize=int8 quantizes and how.
struct QuantizeOptions {
  /// Node names (or, for unnamed nodes, "OpType#index") that stay float.
  std::vector<std::string> keepFloat;
  /// The loader's pins, as kilnc was given them.
  const std::vector<InputShapePin> *pins = nullptr;
  std::string pinsFromDir;
  int64_t maxStringBytes = 64;
  /// The largest weight magnitude of a convolution or matmul: 127, or 64
  /// for a target whose 8-bit kernel sums pairs of products in 16 bits (x86
  /// without VNNI: with |w0| + |w1| <= 128 vpmaddubsw cannot saturate), as
  /// ONNX Runtime's reduce_range does. Embedding tables keep 127.
  int weightMax = 127;
};

/// One layer (Conv, Gemm or MatMul) the rewrite quantizes, for
/// --quantize-report.
struct QuantizedLayer {
  std::string node;   ///< the node's name ("OpType#index" when unnamed)
  std::string output; ///< the tensor quantized on its way out (after a
                      ///< folded Relu or Clip)
  float inputScale = 0, outputScale = 0, minWeightScale = 0, maxWeightScale = 0;
  int64_t inputZeroPoint = 0, outputZeroPoint = 0;
};

/// What writeQuantizedModel did.
struct QuantizeSummary {
  std::vector<QuantizedLayer> layers;
  /// Bytes of the float model's initializers (its weights, as ONNX holds
  /// them), for the header to compare with the int8 model's.
  int64_t floatWeightBytes = 0;
};

/// A float tensor's calibrated range.
using Ranges = std::map<std::string, std::pair<float, float>>;

/// Loads the float model at `path` (checked, at opset 17, shapes inferred)
/// and writes to `calibrationPath` the same model with the tensors to
/// calibrate appended to its outputs; `tensors` gets their names, in that
/// order. Fails (false, one line in `error`) on a bad model or a
/// --keep-float name that is no node of it.
bool writeCalibrationModel(const std::string &path,
                           const QuantizeOptions &options,
                           const std::string &calibrationPath,
                           std::vector<std::string> &tensors,
                           std::string &error);

/// Writes to `outPath` the QDQ form of the model at `path`: every 2-d,
/// non-depthwise Conv and Gemm classifier with constant weights that
/// --keep-float does not name gets per-output-channel symmetric int8
/// weights, an int32 bias at scale x_scale * w_scale, and uint8
/// QuantizeLinear / DequantizeLinear pairs on its input and its output
/// (after a Relu or Clip it feeds alone), with scales from `ranges`
/// (min/max, widened to hold 0); a depthwise Conv gets int8 weights only.
/// With a `reportPath`, also writes there the same model with each
/// quantized layer's output appended to the outputs, in `summary.layers`'
/// order (for the report).
bool writeQuantizedModel(const std::string &path,
                         const QuantizeOptions &options, const Ranges &ranges,
                         const std::string &outPath,
                         const std::string &reportPath,
                         QuantizeSummary &summary, std::string &error);

/// One calibration sample: the raw bytes of each model input, in order.
using Sample = std::vector<std::string>;

/// Reads the calibration inputs in `dir`: input_<i>.pb files (ONNX
/// TensorProtos, the backend test-data layout) in `dir` itself or in each
/// of its subdirectories (test_data_set_0, ...), as one sample per
/// directory. `shapes`/`dtypes` are the model's inputs; a missing
/// directory, a sample with the wrong count, shape or type of tensors, or
/// no sample at all fails with one line in `error`.
bool readCalibrationSamples(const std::string &dir,
                            const std::vector<std::vector<int64_t>> &shapes,
                            const std::vector<int32_t> &dtypes,
                            std::vector<Sample> &samples, std::string &error);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_QUANTIZER_H
