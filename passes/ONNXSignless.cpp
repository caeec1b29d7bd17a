//===- ONNXSignless.cpp - Signless onnx types with unsigned attributes ----===//
//
// This file implements kiln-onnx-signless: ONNX's unsigned element types
// become signless (arith and linalg only take signless integers), and the
// unsignedness moves into per-op attributes that the lowerings read.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"
#include "passes/ONNXToLinalg/Common.h"
#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_ONNXSIGNLESS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// `type` with unsigned integer elements made signless; null if unchanged.
static Type signless(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.getElementType().isUnsignedInteger())
    return {};
  unsigned width = tensor.getElementType().getIntOrFloatBitWidth();
  return tensor.clone(IntegerType::get(type.getContext(), width));
}

static bool isUnsignedTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isUnsignedInteger();
}

struct ONNXSignlessPass : kiln::impl::ONNXSignlessBase<ONNXSignlessPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Builder b(&getContext());

    // Record, then retype: attributes first, while the types still tell.
    func.walk([&](Operation *op) {
      if (!isa<onnx::ONNXDialect>(op->getDialect()))
        return;
      SmallVector<bool> operands, results;
      bool any = false;
      for (Value v : op->getOperands()) {
        operands.push_back(isUnsignedTensor(v.getType()));
        any |= operands.back();
      }
      for (Value v : op->getResults()) {
        results.push_back(isUnsignedTensor(v.getType()));
        any |= results.back();
      }
      if (!any)
        return;
      op->setAttr(kUnsignedOperandsAttr, b.getDenseBoolArrayAttr(operands));
      op->setAttr(kUnsignedResultsAttr, b.getDenseBoolArrayAttr(results));
    });

    for (BlockArgument arg : func.getArguments())
      if (Type t = signless(arg.getType()))
        arg.setType(t);
    func.walk([&](Operation *op) {
      for (Value v : op->getResults())
        if (Type t = signless(v.getType()))
          v.setType(t);
      // Constants keep their bits under the signless type.
      for (NamedAttribute attr : op->getAttrs())
        if (auto dense = dyn_cast<DenseElementsAttr>(attr.getValue()))
          if (dense.getElementType().isUnsignedInteger())
            op->setAttr(attr.getName(),
                        dense.bitcast(IntegerType::get(
                            &getContext(),
                            dense.getElementType().getIntOrFloatBitWidth())));
    });
    SmallVector<Type> inputs, outputs;
    for (BlockArgument arg : func.getArguments())
      inputs.push_back(arg.getType());
    for (Type t : func.getResultTypes())
      outputs.push_back(signless(t) ? signless(t) : t);
    func.setFunctionType(FunctionType::get(&getContext(), inputs, outputs));
  }
};

} // namespace
