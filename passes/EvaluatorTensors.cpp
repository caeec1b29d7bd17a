//===- EvaluatorTensors.cpp - DenseElementsAttr as evaluator tensors ------===//
//
// This file implements the conversions between MLIR's dense constants and
// the constant evaluator's tensors.
//
//===----------------------------------------------------------------------===//

#include "passes/EvaluatorTensors.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cstring>

using namespace mlir;
using namespace kiln;

/// The evaluator's element type for an MLIR element type, or 0.
static int32_t elementTypeOf(Type type) {
  if (type.isF32())
    return eval::kFloat;
  if (type.isF64())
    return eval::kDouble;
  if (type.isF16())
    return eval::kFloat16;
  if (type.isBF16())
    return eval::kBFloat16;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return 0;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1:
    return eval::kBool;
  case 8:
    return isUnsigned ? eval::kUInt8 : eval::kInt8;
  case 16:
    return isUnsigned ? eval::kUInt16 : eval::kInt16;
  case 32:
    return isUnsigned ? eval::kUInt32 : eval::kInt32;
  case 64:
    return isUnsigned ? eval::kUInt64 : eval::kInt64;
  default:
    return 0;
  }
}

std::optional<eval::Tensor> kiln::toTensor(DenseElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  eval::Tensor t;
  t.type = elementTypeOf(type.getElementType());
  if (!t.type || !type.hasStaticShape())
    return std::nullopt;
  t.dims.assign(type.getShape().begin(), type.getShape().end());
  int64_t n = type.getNumElements();
  size_t width = eval::elementSize(t.type);
  if (t.type == eval::kBool) {
    for (bool b : attr.getValues<bool>())
      t.bytes.push_back(b);
    return t;
  }
  ArrayRef<char> raw = attr.getRawData();
  if (attr.isSplat()) {
    t.bytes.resize(n * width);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(t.bytes.data() + i * width, raw.data(), width);
  } else {
    if ((int64_t)raw.size() != n * (int64_t)width)
      return std::nullopt;
    t.bytes.assign(raw.begin(), raw.end());
  }
  return t;
}

DenseElementsAttr kiln::fromTensor(const eval::Tensor &t,
                                   RankedTensorType type) {
  if (elementTypeOf(type.getElementType()) != t.type ||
      ArrayRef<int64_t>(t.dims) != type.getShape())
    return {};
  if (t.type == eval::kBool) {
    SmallVector<bool> bits(t.bytes.begin(), t.bytes.end());
    return DenseElementsAttr::get(type, bits);
  }
  ArrayRef<char> raw(reinterpret_cast<const char *>(t.bytes.data()),
                     t.bytes.size());
  bool splat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, raw, splat))
    return {};
  return DenseElementsAttr::getFromRawBuffer(type, raw);
}
