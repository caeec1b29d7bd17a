//===- FlattenConstants.cpp - Constant globals as one flat array ----------===//
//
// This file implements kiln-flatten-constants. A model's weights reach the
// LLVM dialect as globals of nested arrays ([blocks x [k x [8 x float]]]
// for a GEMM's row blocks), and MLIR's translation to LLVM IR makes one
// llvm::ConstantDataArray per innermost row and a ConstantArray per outer
// one, each uniqued by LLVM's context: ResNet-50's 159 MB of weights became
// five million constants of 8 floats, which took 4.6 s to translate, most
// of kilnc's 1.7 GB, and seconds more to optimise around, emit and free.
// With pointers opaque nothing reads a global through its value type (each
// GEP names its own element type), so such a global can hold the same
// bytes as one flat array: a single ConstantDataArray, one hash and one
// copy of the data. An array of bytes, where the target's byte order is
// the host's (in which kilnc holds the data): LLVM's code generation emits
// bytes in one piece and floats one at a time. ResNet-50 then compiles in
// 9-13 s instead of 16-21 and 1.1 GB instead of 1.7, into the same library
// byte for byte.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace kiln {
#define GEN_PASS_DEF_FLATTENCONSTANTS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The scalar element type, element count and depth of (nested) arrays of
/// scalars, or nothing.
struct Arrays {
  Type element;
  int64_t count, depth;
};
std::optional<Arrays> arraysOf(Type type) {
  Arrays arrays{type, 1, 0};
  while (auto array = dyn_cast<LLVM::LLVMArrayType>(arrays.element)) {
    arrays.count *= array.getNumElements();
    arrays.element = array.getElementType();
    ++arrays.depth;
  }
  if (arrays.depth == 0 || !isa<IntegerType, FloatType>(arrays.element))
    return std::nullopt;
  return arrays;
}

struct FlattenConstantsPass
    : kiln::impl::FlattenConstantsBase<FlattenConstantsPass> {
  using FlattenConstantsBase::FlattenConstantsBase;

  void runOnOperation() override {
    auto byte = IntegerType::get(&getContext(), 8);
    for (auto global : getOperation().getOps<LLVM::GlobalOp>()) {
      std::optional<Arrays> arrays = arraysOf(global.getGlobalType());
      std::optional<Attribute> value = global.getValue();
      if (!arrays || !value || global.getInitializerBlock())
        continue;
      auto [element, count, depth] = *arrays;
      auto elements = dyn_cast<ElementsAttr>(*value);
      if (!elements || elements.getNumElements() != count ||
          elements.getElementType() != element)
        continue;
      // Elements of whole bytes as bytes: code generation emits an array
      // of bytes in one piece, and one of floats a float at a time (40
      // million calls for ResNet-50). A splat stays a splat (emitted as a
      // fill), and elements narrower than a byte stay elements.
      unsigned bits = element.getIntOrFloatBitWidth();
      auto dense = dyn_cast<DenseElementsAttr>(elements);
      bool asBytes =
          bytes && bits % 8 == 0 && bits > 8 && !(dense && dense.isSplat());
      if (!asBytes && depth == 1)
        continue; // flat already
      auto flat = asBytes ? RankedTensorType::get({count * (bits / 8)}, byte)
                          : RankedTensorType::get({count}, element);
      Attribute flatValue;
      if (auto blob = dyn_cast<DenseResourceElementsAttr>(elements))
        flatValue = DenseResourceElementsAttr::get(flat, blob.getRawHandle());
      else if (dense && asBytes)
        flatValue =
            DenseElementsAttr::getFromRawBuffer(flat, dense.getRawData());
      else if (dense)
        flatValue = dense.reshape(flat);
      else
        continue;
      global.setGlobalTypeAttr(TypeAttr::get(LLVM::LLVMArrayType::get(
          flat.getElementType(), flat.getNumElements())));
      global.setValueAttr(flatValue);
    }
  }
};

} // namespace
