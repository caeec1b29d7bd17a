//===- Calibration.cpp - kilnc --quantize=int8 --calibrate=DIR ------------===//
//
// This file implements quantizeModel (Calibration.h). The helper models
// are compiled by running this kilnc on them (a shared library for the
// host), loaded with dlopen and run through the generic entry point of
// kiln_model_info, as kiln-run does. Ranges are the min and max over all
// calibration samples.
//
//===----------------------------------------------------------------------===//

#include "compiler/Calibration.h"

#include "kiln/runtime.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <dlfcn.h>

using namespace kiln;

namespace {

llvm::Error failure(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

/// A helper model compiled to a shared library and loaded.
class LoadedModel {
public:
  ~LoadedModel() {
    if (handle)
      dlclose(handle);
  }

  /// Compiles `onnxPath` with kilnc into `soPath` and loads it.
  llvm::Error load(const QuantizeRequest &r, const std::string &onnxPath,
                   const std::string &soPath) {
    std::vector<std::string> args{r.kilnc, onnxPath, "-o", soPath,
                                  "--name=kiln_calibration"};
    args.insert(args.end(), r.forwardedFlags.begin(), r.forwardedFlags.end());
    std::vector<llvm::StringRef> refs(args.begin(), args.end());
    std::string message;
    int status = llvm::sys::ExecuteAndWait(r.kilnc, refs, std::nullopt, {}, 0,
                                           0, &message);
    if (status != 0)
      return failure("compiling the model for calibration failed" +
                     (message.empty() ? "" : ": " + message));
    handle = dlopen(soPath.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      return failure(llvm::Twine("cannot load the calibration model: ") +
                     dlerror());
    auto get = reinterpret_cast<const kiln_model_info *(*)(void)>(
        dlsym(handle, "kiln_model"));
    if (!get || !(info = get()))
      return failure("the calibration model has no kiln_model()");
    return llvm::Error::success();
  }

  std::vector<std::vector<int64_t>> inputShapes() const {
    std::vector<std::vector<int64_t>> shapes;
    for (uint32_t i = 0; i < info->num_inputs; ++i)
      shapes.emplace_back(info->inputs[i].shape,
                          info->inputs[i].shape + info->inputs[i].rank);
    return shapes;
  }
  std::vector<int32_t> inputTypes() const {
    std::vector<int32_t> types;
    for (uint32_t i = 0; i < info->num_inputs; ++i)
      types.push_back(info->inputs[i].dtype);
    return types;
  }

  /// Runs one sample; the outputs' raw bytes.
  llvm::Expected<std::vector<std::vector<char>>> run(const Sample &sample) {
    std::vector<void *> inputs;
    for (const std::string &bytes : sample)
      inputs.push_back(const_cast<char *>(bytes.data()));
    std::vector<std::vector<char>> outputs(info->num_outputs);
    std::vector<void *> outPtrs;
    for (uint32_t i = 0; i < info->num_outputs; ++i) {
      outputs[i].resize(info->outputs[i].num_elements *
                        kiln_dtype_size(info->outputs[i].dtype));
      outPtrs.push_back(outputs[i].data());
    }
    if (int status = info->run(inputs.data(), outPtrs.data(), nullptr))
      return failure("the calibration model failed with status " +
                     llvm::Twine(status));
    return outputs;
  }

  const kiln_model_info *info = nullptr;

private:
  void *handle = nullptr;
};

std::vector<float> asFloats(const std::vector<char> &bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::string join(const std::string &dir, const std::string &file) {
  llvm::SmallString<256> p(dir);
  llvm::sys::path::append(p, file);
  return p.str().str();
}

/// Narrows each tensor's [min, max] in `ranges` to the P-th percentile of
/// its values over the samples at either end (the (100-P)-th and the P-th),
/// from a histogram of 4096 bins over [min, max]: a second run of the
/// calibration model.
llvm::Error percentileRanges(LoadedModel &model,
                             const std::vector<Sample> &samples,
                             const std::vector<std::string> &tensors,
                             uint32_t firstExtra, double percentile,
                             Ranges &ranges) {
  constexpr int64_t bins = 4096;
  std::vector<std::vector<int64_t>> counts(tensors.size(),
                                           std::vector<int64_t>(bins));
  for (const Sample &sample : samples) {
    auto outputs = model.run(sample);
    if (!outputs)
      return outputs.takeError();
    for (size_t t = 0; t < tensors.size(); ++t) {
      auto [lo, hi] = ranges[tensors[t]];
      double perBin = hi > lo ? bins / (static_cast<double>(hi) - lo) : 0;
      for (float v : asFloats((*outputs)[firstExtra + t]))
        ++counts[t][std::clamp<int64_t>(static_cast<int64_t>((v - lo) * perBin),
                                        0, bins - 1)];
    }
  }
  for (size_t t = 0; t < tensors.size(); ++t) {
    auto &[lo, hi] = ranges[tensors[t]];
    int64_t total = 0;
    for (int64_t c : counts[t])
      total += c;
    // Below the first bin that reaches the (100-P)% of the values, and
    // above the last one that the top (100-P)% start in, is cut off.
    double tail = total * (100.0 - percentile) / 100.0;
    int64_t first = 0, last = bins - 1, seen = 0;
    while (first < bins - 1 && seen + counts[t][first] <= tail)
      seen += counts[t][first++];
    seen = 0;
    while (last > first && seen + counts[t][last] <= tail)
      seen += counts[t][last--];
    float width = (hi - lo) / bins;
    float newLo = lo + first * width, newHi = lo + (last + 1) * width;
    lo = std::max(lo, newLo);
    hi = std::min(hi, newHi);
  }
  return llvm::Error::success();
}

/// How far the QDQ model's quantized layers and outputs are from the float
/// model's on the calibration samples.
struct Errors {
  std::vector<double> layer; ///< per quantized layer, the largest difference
  double output = 0;         ///< the float outputs' largest difference
  int64_t agree = 0, compared = 0; ///< top-1 of a [N, classes] output 0
  /// Layer `l`'s error as a % of its output's 8-bit range.
  double ofRange(const QuantizedLayer &q, size_t l) const {
    double span = 255.0 * q.outputScale;
    return span > 0 ? 100.0 * layer[l] / span : 0.0;
  }
};

/// Runs `qdq` (the QDQ model with the layers' outputs appended to its own)
/// on the samples and compares with the float model's outputs.
llvm::Expected<Errors>
measureErrors(LoadedModel &qdq, LoadedModel &floatModel,
              const std::vector<Sample> &samples,
              const std::vector<std::vector<std::vector<char>>> &floatOutputs,
              const std::vector<std::string> &tensors, uint32_t modelOutputs,
              const std::vector<QuantizedLayer> &layers) {
  auto index = [&](const std::string &t) {
    return modelOutputs +
           (std::find(tensors.begin(), tensors.end(), t) - tensors.begin());
  };
  Errors e;
  e.layer.assign(layers.size(), 0.0);
  for (size_t s = 0; s < samples.size(); ++s) {
    auto outputs = qdq.run(samples[s]);
    if (!outputs)
      return outputs.takeError();
    for (size_t l = 0; l < layers.size(); ++l) {
      std::vector<float> want =
          asFloats(floatOutputs[s][index(layers[l].output)]);
      std::vector<float> got = asFloats((*outputs)[modelOutputs + l]);
      for (size_t i = 0; i < want.size() && i < got.size(); ++i)
        e.layer[l] = std::max(e.layer[l], (double)std::fabs(want[i] - got[i]));
    }
    for (uint32_t o = 0; o < modelOutputs; ++o) {
      if (floatModel.info->outputs[o].dtype != KILN_DTYPE_FLOAT)
        continue;
      std::vector<float> want = asFloats(floatOutputs[s][o]);
      std::vector<float> got = asFloats((*outputs)[o]);
      for (size_t i = 0; i < want.size(); ++i)
        e.output = std::max(e.output, (double)std::fabs(want[i] - got[i]));
      // Top-1 agreement of a [N, classes] first output.
      const kiln_tensor_info &t = floatModel.info->outputs[o];
      if (o == 0 && t.rank == 2 && t.shape[1] > 1) {
        int64_t classes = t.shape[1];
        for (int64_t n = 0; n < t.shape[0]; ++n) {
          auto a = want.begin() + n * classes, b = got.begin() + n * classes;
          e.agree += std::max_element(a, a + classes) - a ==
                     std::max_element(b, b + classes) - b;
          ++e.compared;
        }
      }
    }
  }
  return e;
}

/// --quantize-report's table.
void printReport(const Errors &e, const std::vector<QuantizedLayer> &layers,
                 size_t samples, const std::vector<std::string> &keptAbove,
                 double threshold) {
  llvm::outs() << "quantization report: " << layers.size() << " layers int8, "
               << samples << " calibration samples\n";
  if (!keptAbove.empty()) {
    llvm::outs() << llvm::format("kept float (error above %g%% of range):",
                                 threshold);
    for (const std::string &name : keptAbove)
      llvm::outs() << " " << name;
    llvm::outs() << "\n";
  }
  llvm::outs() << llvm::format(
      "%-32s %11s %4s %11s %4s %21s %10s %8s\n", (const char *)"layer",
      (const char *)"x scale", (const char *)"x zp", (const char *)"y scale",
      (const char *)"y zp", (const char *)"w scales", (const char *)"max error",
      (const char *)"of range");
  for (size_t l = 0; l < layers.size(); ++l) {
    const QuantizedLayer &q = layers[l];
    llvm::outs() << llvm::format(
        "%-32s %11.4g %4lld %11.4g %4lld %10.3g-%-10.3g %10.4g %7.2f%%\n",
        q.node.c_str(), q.inputScale, (long long)q.inputZeroPoint,
        q.outputScale, (long long)q.outputZeroPoint, q.minWeightScale,
        q.maxWeightScale, e.layer[l], e.ofRange(q, l));
  }
  llvm::outs() << llvm::format("model outputs: max error %.4g", e.output);
  if (e.compared)
    llvm::outs() << llvm::format(", top-1 agreement %lld/%lld (%.1f%%)",
                                 (long long)e.agree, (long long)e.compared,
                                 100.0 * e.agree / e.compared);
  llvm::outs() << "\n";
}

} // namespace

llvm::Expected<QuantizedModel> kiln::quantizeModel(const QuantizeRequest &r) {
  std::string error;
  std::vector<std::string> tensors;
  std::string calibration = join(r.workDir, "calibration.onnx");
  if (!writeCalibrationModel(r.modelPath, r.options, calibration, tensors,
                             error))
    return failure(r.modelPath + ": " + error);
  LoadedModel floatModel;
  if (llvm::Error e =
          floatModel.load(r, calibration, join(r.workDir, "calibration.so")))
    return std::move(e);
  std::vector<Sample> samples;
  if (!readCalibrationSamples(r.calibrateDir, floatModel.inputShapes(),
                              floatModel.inputTypes(), samples, error))
    return failure(error);

  // Min and max of each calibrated tensor over the samples; the float
  // outputs are kept for the report.
  uint32_t extras = tensors.size();
  uint32_t modelOutputs = floatModel.info->num_outputs - extras;
  Ranges ranges;
  std::vector<std::vector<std::vector<char>>> floatOutputs;
  for (const Sample &sample : samples) {
    auto outputs = floatModel.run(sample);
    if (!outputs)
      return outputs.takeError();
    for (uint32_t t = 0; t < extras; ++t) {
      std::vector<float> v = asFloats((*outputs)[modelOutputs + t]);
      auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      auto [it, fresh] = ranges.try_emplace(tensors[t], *lo, *hi);
      it->second.first = std::min(it->second.first, *lo);
      it->second.second = std::max(it->second.second, *hi);
    }
    if (r.report || r.keepFloatAbove > 0)
      floatOutputs.push_back(std::move(*outputs));
  }
  if (r.percentile > 0 && r.percentile < 100)
    if (llvm::Error e = percentileRanges(floatModel, samples, tensors,
                                         modelOutputs, r.percentile, ranges))
      return std::move(e);

  QuantizedModel result;
  result.path = join(r.workDir, "quantized.onnx");
  // With the report, or to find the layers above --keep-float-above, the
  // same QDQ model with its quantized layers' outputs exposed, run on the
  // same samples against the float model.
  QuantizeOptions options = r.options;
  std::vector<std::string> keptAbove;
  for (int pass = 0;; ++pass) {
    // Measured for the report, or (first) to find the layers to keep.
    bool measure = r.report || (pass == 0 && r.keepFloatAbove > 0);
    std::string reported =
        measure ? join(r.workDir, "quantized_report.onnx") : std::string();
    QuantizeSummary summary;
    if (!writeQuantizedModel(r.modelPath, options, ranges, result.path,
                             reported, summary, error))
      return failure(r.modelPath + ": " + error);
    result.floatWeightBytes = summary.floatWeightBytes;
    if (!measure)
      return result;
    const std::vector<QuantizedLayer> &layers = summary.layers;
    LoadedModel qdq;
    if (llvm::Error e =
            qdq.load(r, reported,
                     join(r.workDir, "report" + std::to_string(pass) + ".so")))
      return std::move(e);
    auto errors = measureErrors(qdq, floatModel, samples, floatOutputs, tensors,
                                modelOutputs, layers);
    if (!errors)
      return errors.takeError();
    // Layers whose error is above the threshold stay float; the others are
    // quantized again, once, with the same ranges.
    if (pass == 0 && r.keepFloatAbove > 0) {
      for (size_t l = 0; l < layers.size(); ++l)
        if (errors->ofRange(layers[l], l) > r.keepFloatAbove)
          keptAbove.push_back(layers[l].node);
      if (!keptAbove.empty()) {
        options.keepFloat.insert(options.keepFloat.end(), keptAbove.begin(),
                                 keptAbove.end());
        if (keptAbove.size() < layers.size())
          continue;
        return failure(r.modelPath + ": every layer's error is above " +
                       "--keep-float-above; nothing stays 8-bit");
      }
    }
    if (r.report)
      printReport(*errors, layers, samples.size(), keptAbove, r.keepFloatAbove);
    return result;
  }
}
