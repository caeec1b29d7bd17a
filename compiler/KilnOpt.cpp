//===- KilnOpt.cpp - mlir-opt with Kiln's dialects and passes -------------===//
//
// This file implements kiln-opt, the tool lit tests run: mlir-opt with the
// onnx dialect, Kiln's passes and its named pipelines registered.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  mlir::registerAllPasses();
  kiln::registerKilnPassesAndPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kiln optimizer driver\n", registry));
}
