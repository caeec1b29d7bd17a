//===- Sequences.h - Sequences and optionals as static tensors --*- C++ -*-===//
//
// Kiln compiles static shapes, so a sequence is a list of tensors whose
// length and element shapes are known at compile time, and an optional
// either holds a value or not, also known at compile time. This file
// rewrites a model's sequence and optional values into plain tensors before
// ONNX's shape inference sees it:
//
//   SequenceConstruct/Empty/Insert/Erase/At/Length, SplitToSequence,
//   ConcatFromSequence, Optional, OptionalHasElement, OptionalGetElement and
//   Identity become list bookkeeping, Split, Concat, Identity and Constant
//   nodes; SequenceMap and a Loop over sequences (a constant trip count, a
//   condition that stays true) are unrolled; an If whose branches yield
//   sequences yields their tensors.
//
// Graph inputs and outputs of sequence or optional type become one tensor
// per element (NAME[0], NAME[1], ...; an optional tensor keeps its name),
// and the ModelLayout records which tensors make up which ONNX value: what
// the header and kiln_model_info publish.
//
// Like OnnxLoader.cpp, this file calls libonnx, which throws: it is built
// with exceptions and called inside the loader's try block.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_SEQUENCES_H
#define KILN_COMPILER_IMPORT_SEQUENCES_H

#include "compiler/import/OnnxLoader.h"

namespace kiln {

/// Adds a pin for every graph input that the model leaves open (a dynamic
/// dimension, a sequence, an optional) and `pins` does not name, from the
/// shape of `dir`/input_<i>.pb (a TensorProto, SequenceProto or
/// OptionalProto, as in ONNX's test data).
bool pinsFromData(const onnx::ModelProto &model, const std::string &dir,
                  std::vector<InputShapePin> &pins, std::string &error);

/// True if the model has a value of sequence or optional type or an op that
/// makes or takes one, in any graph.
bool usesSequencesOrOptionals(const onnx::ModelProto &model);

/// Rewrites sequences and optionals into tensors (see above) with the pins
/// for sequence and optional inputs, and fills `layout`.
bool expandSequences(onnx::ModelProto &model,
                     const std::vector<InputShapePin> &pins,
                     ModelLayout &layout, std::string &error);

/// `layout` for a model whose inputs and outputs are all tensors.
void plainLayout(const onnx::ModelProto &model, ModelLayout &layout);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_SEQUENCES_H
