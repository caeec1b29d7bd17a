//===- Strings.h - String tensors as byte tensors ---------------*- C++ -*-===//
//
// Kiln compiles strings as static data too: a string tensor [S...] becomes a
// uint8 tensor [S..., W], each string NUL-padded to W bytes. W is
// --max-string-bytes for a model input, the longest string for a constant,
// and what a Cast to strings can write (24 bytes for a float32, 32 for a
// float64). After ONNX's shape inference, this file rewrites the graph into
// that form:
//
//   Identity, Gather and Concat    the same ops on the byte tensors (rows
//                                  padded to one width);
//   StringNormalizer               ASCII case change with Where, stopwords
//                                  dropped with Compress (to the length the
//                                  model declares; [""] when none is left);
//   Cast, CastLike                 KilnNumberToString, KilnStringToNumber;
//   LabelEncoder (ai.onnx.ml)      the key's place by comparing with all
//                                  keys at once, then Gather of the values;
//   TfIdfVectorizer                strings as their place in pool_strings.
//
// The ModelLayout records each string input's and output's width: NAME_run
// copies the caller's kiln_string arrays into such rows and points the
// output strings at them (runtime.h).
//
// Like OnnxLoader.cpp, this file is built with exceptions and called inside
// the loader's try block.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_STRINGS_H
#define KILN_COMPILER_IMPORT_STRINGS_H

#include "compiler/import/OnnxLoader.h"

namespace kiln {

/// True if a value of the main graph is a string tensor.
bool usesStrings(const onnx::ModelProto &model);

/// Rewrites string tensors into byte tensors (see above). The model's shapes
/// must have been inferred; the rewrite records the types of every value it
/// makes in value_info.
bool expandStrings(onnx::ModelProto &model, int64_t maxStringBytes,
                   ModelLayout &layout, std::string &error);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_STRINGS_H
