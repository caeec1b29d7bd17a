//===- Importer.h - ONNX model to onnx dialect ------------------*- C++ -*-===//
//
// This file declares the importer: an ONNX file becomes a module holding one
// function, `main_graph`, of onnx dialect ops with static tensor types.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_IMPORTER_H
#define KILN_COMPILER_IMPORT_IMPORTER_H

#include "compiler/import/OnnxLoader.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace kiln {

/// Function attribute names the importer sets and the code generator reads.
constexpr const char *kValueNameAttr = "kiln.name";
/// On the entry function: the ONNX inputs and outputs as values (arrays of
/// dictionaries {name, kind, present, dtype, count}), each spanning `count`
/// of the function's arguments or results in order (ModelLayout).
constexpr const char *kInputValuesAttr = "kiln.input_values";
constexpr const char *kOutputValuesAttr = "kiln.output_values";
/// On an entry argument or result that holds strings: the row width of the
/// byte tensor it is inside the model (compiler/import/Strings.h).
constexpr const char *kStringBytesAttr = "kiln.string_bytes";

/// Imports the ONNX model at `path`. Errors name the file and, where there is
/// one, the node (its name and op type).
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxModel(llvm::StringRef path, mlir::MLIRContext &context,
                const std::vector<InputShapePin> &pins,
                const std::string &dataDir = "",
                int64_t maxStringBytes = 64);

/// Formats a node for diagnostics: `node 'NAME' (OP)`.
std::string describeNode(llvm::StringRef name, llvm::StringRef opType);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_IMPORTER_H
