//===- ConvertONNXToLinalg.cpp - The onnx-to-linalg pass ------------------===//
//
// This file implements kiln-convert-onnx-to-linalg: it collects the patterns
// of each op family and applies them until no onnx op is left. A node that
// no pattern lowers is reported once, naming it.
//
//===----------------------------------------------------------------------===//

#include "passes/ONNXToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_CONVERTONNXTOLINALG
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

struct ConvertONNXToLinalgPass
    : kiln::impl::ConvertONNXToLinalgBase<ConvertONNXToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    populateControlFlowPatterns(patterns);
    populateGridSamplePatterns(patterns);
    populateDataDependentPatterns(patterns);
    populateLossPatterns(patterns);
    populateMathPatterns(patterns);
    populateNNPatterns(patterns);
    populateQuantizePatterns(patterns);
    populateRandomPatterns(patterns);
    populateRecurrentPatterns(patterns);
    populateResizePatterns(patterns);
    populateRoiAlignPatterns(patterns);
    populateScatterPatterns(patterns);
    populateSortPatterns(patterns);
    populateStringPatterns(patterns);
    populateStringPatterns(patterns);
    populateSignalPatterns(patterns);
    populateTensorPatterns(patterns);
    populateTrainingPatterns(patterns);
    populateTfIdfPatterns(patterns);

    bool reported = false;
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error)
        reported = true;
      return failure(); // let the diagnostic through
    });
    GreedyRewriteConfig config;
    config.maxIterations = 4;
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                       config);

    // None values are only ever operands of onnx ops.
    SmallVector<Operation *> left;
    getOperation()->walk([&](Operation *op) {
      if (isa<onnx::NoValueOp>(op) && op->use_empty())
        op->erase();
      else if (isa<onnx::ONNXDialect>(op->getDialect()))
        left.push_back(op);
    });
    if (!left.empty()) {
      if (!reported)
        left.front()->emitError("cannot be lowered: this use of ")
            << left.front()->getName().stripDialect()
            << " is not supported yet";
      signalPassFailure();
    }
  }
};

} // namespace
