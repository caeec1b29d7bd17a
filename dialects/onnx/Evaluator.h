//===- Evaluator.h - ONNX ops evaluated on known tensors --------*- C++ -*-===//
//
// This file declares Kiln's one constant-folding engine: ONNX ops evaluated
// on tensors whose values are known at compile time, with ONNX's semantics
// (those of opset 17, the opset every model is converted to; where an input
// of opset 13+ used to be an attribute, either is read). Two callers use it:
// the importer (compiler/import/ShapeFolding.cpp), which folds the shape
// arithmetic of a protobuf graph until shape inference finds static shapes,
// and kiln-fold-onnx-constants (passes/FoldONNXConstants.cpp), which folds
// onnx dialect ops on onnx.Constant operands. Each adapts its own
// representation of tensors and attributes to the plain ones here; neither
// knows an op's semantics.
//
// Plain C++ with no MLIR or protobuf types, so that both can link it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_EVALUATOR_H
#define KILN_DIALECTS_ONNX_EVALUATOR_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::eval {

/// Element types, numbered as ONNX's TensorProto.DataType.
enum ElementType : int32_t {
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kBFloat16 = 16,
};

/// Bytes per element of `type`, or 0 for a type the evaluator does not hold
/// (strings, complex numbers).
size_t elementSize(int32_t type);
bool isFloatType(int32_t type);

/// A dense, row-major tensor; its elements little-endian in `bytes`, a bool
/// as one byte.
struct Tensor {
  int32_t type = kInt64;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;

  /// A tensor of zeros; the caller checks `numElements(dims)` first.
  static Tensor zeros(int32_t type, std::vector<int64_t> dims);

  int64_t size() const;
  /// Element i as an integer (floats truncate toward zero) or as a double.
  int64_t getInt(int64_t i) const;
  double getDouble(int64_t i) const;
  /// Stores v in element i: integers wrap to the type's width, floats
  /// round to the type's precision, a bool is v != 0.
  void setInt(int64_t i, int64_t v);
  void setDouble(int64_t i, double v);
  /// All elements as integers (the shape inputs of Reshape, Expand...).
  std::vector<int64_t> ints() const;
};

/// The number of elements of a shape, or -1 if a dimension is negative or
/// the count overflows.
int64_t numElements(const std::vector<int64_t> &dims);

/// An op's attributes, read from an ONNX NodeProto or an MLIR operation.
class Attributes {
public:
  virtual ~Attributes();
  virtual std::optional<int64_t> getInt(const std::string &name) const = 0;
  virtual std::optional<double> getFloat(const std::string &name) const = 0;
  virtual std::optional<std::vector<int64_t>>
  getInts(const std::string &name) const = 0;
  virtual std::optional<std::vector<double>>
  getFloats(const std::string &name) const = 0;
  virtual std::optional<std::string>
  getString(const std::string &name) const = 0;
  /// A TENSOR attribute of a type the evaluator holds.
  virtual std::optional<Tensor> getTensor(const std::string &name) const = 0;
  /// True if the op has an attribute of this name, whatever its kind.
  virtual bool has(const std::string &name) const = 0;
};

/// One input of an op: absent (an optional input left out), known (its
/// value), or of known shape only (enough for Shape and Size).
struct Operand {
  const Tensor *value = nullptr;
  const std::vector<int64_t> *shape = nullptr;
  bool absent = false;
};

/// Evaluates the default-domain op `opType` with `numResults` results.
/// Returns nullopt when it cannot: an op, element type or attribute it does
/// not support, an input that is not known, an index out of range, an
/// integer division by zero, or a result of more than `maxElements`
/// elements. Never guesses: what it returns is what ONNX defines.
std::optional<std::vector<Tensor>>
evaluate(const std::string &opType, const Attributes &attributes,
         const std::vector<Operand> &operands, size_t numResults,
         int64_t maxElements);

/// `x` with its dimensions permuted (result dim i is x's dim perm[i]), or
/// nullopt if `perm` is not a permutation of x's dimensions.
std::optional<Tensor> transpose(const Tensor &x,
                                const std::vector<int64_t> &perm);

/// Whether a caller should replace an op by the `results` evaluate() gave
/// for these `operands`: integer and bool results always (shape arithmetic,
/// masks); float results only if none is larger than the op's largest known
/// input. Broadcasting a float weight (Expand, Tile, a float ConstantOfShape)
/// would add weight bytes that the compiled code does not need.
bool worthFolding(const std::vector<Tensor> &results,
                  const std::vector<Operand> &operands);

/// True for ops that only move or relabel elements (Reshape, Transpose...):
/// folding them costs no arithmetic and creates no new values, so a caller
/// may fold them at any size.
bool isDataMovement(const std::string &opType);

} // namespace kiln::eval

#endif // KILN_DIALECTS_ONNX_EVALUATOR_H
