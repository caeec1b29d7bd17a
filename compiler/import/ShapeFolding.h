//===- ShapeFolding.h - Fold shape computations in an ONNX graph -*- C++
//-*-===//
//
// This file declares the folding of small integer subgraphs (the shape
// arithmetic exporters emit, such as Shape -> Gather -> Div -> Mul feeding a
// Slice) into initializers, so that ONNX's shape inference, run again, finds
// static shapes downstream. ONNX 1.12's data propagation stops at ops like
// Div; this does not.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_SHAPEFOLDING_H
#define KILN_COMPILER_IMPORT_SHAPEFOLDING_H

namespace onnx {
class ModelProto;
} // namespace onnx

namespace kiln {

/// Replaces every node whose outputs are small integer tensors computable
/// from initializers, constants and static shapes with initializers. Returns
/// true if it folded anything.
bool foldShapeComputations(onnx::ModelProto &model);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_SHAPEFOLDING_H
