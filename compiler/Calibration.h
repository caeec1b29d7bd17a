//===- Calibration.h - kilnc --quantize=int8 --calibrate=DIR ----*- C++ -*-===//
//
// This file declares the driver of post-training quantization in kilnc:
// compile the float model with the tensors to calibrate as extra outputs
// (by running kilnc itself), run it on the calibration inputs, and write
// the QDQ model (Quantizer.h) that kilnc then compiles instead of the
// float one. With a report, the QDQ model is also compiled and run on the
// same inputs and compared with the float model, layer by layer.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_CALIBRATION_H
#define KILN_COMPILER_CALIBRATION_H

#include "compiler/import/Quantizer.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace kiln {

struct QuantizeRequest {
  std::string modelPath;    ///< the float model
  std::string calibrateDir; ///< --calibrate
  std::string kilnc;        ///< this kilnc, to compile the helper models
  std::string workDir;      ///< where the helper models and libraries go
  std::vector<std::string> forwardedFlags; ///< --input-shape etc.
  QuantizeOptions options;
  bool report = false; ///< print --quantize-report's table to stdout
  /// --calibrate-percentile: ranges from the P-th percentile of each tail
  /// (0: min and max).
  double percentile = 0;
  /// --keep-float-above: a layer whose largest error on the calibration
  /// samples is above this % of its 8-bit range stays float (0: none).
  double keepFloatAbove = 0;
};

/// The QDQ model quantizeModel wrote.
struct QuantizedModel {
  std::string path;
  int64_t floatWeightBytes = 0; ///< the float model's initializers
};

/// Calibrates and writes the QDQ model.
llvm::Expected<QuantizedModel> quantizeModel(const QuantizeRequest &request);

} // namespace kiln

#endif // KILN_COMPILER_CALIBRATION_H
