//===- Common.h - Helpers shared by the onnx-to-linalg lowerings -*- C++
//-*-===//
//
// This file declares the helpers that the op-family lowerings (Math.cpp,
// NN.cpp, Tensor.cpp) share, and the populate functions each one exports.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_ONNXTOLINALG_COMMON_H
#define KILN_PASSES_ONNXTOLINALG_COMMON_H

#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace kiln {

/// Body of an elementwise generic: scalar block arguments to the result.
using ScalarBuilder = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// Per-operand and per-result bools set by kiln-onnx-signless on ops whose
/// ONNX types were unsigned.
constexpr const char *kUnsignedOperandsAttr = "kiln.unsigned_operands";
constexpr const char *kUnsignedResultsAttr = "kiln.unsigned_results";

/// On a QLinearConv: [lo, hi], the output's clamp on its 8-bit scale, an
/// activation folded by kiln-fuse-qdq (Relu: lo is the zero point).
constexpr const char *kClampAttr = "kiln.clamp";

/// Whether operand `i` (or result `i`) of `op` was an unsigned integer.
bool isUnsignedOperand(mlir::Operation *op, unsigned i);
bool isUnsignedResult(mlir::Operation *op, unsigned i);

/// Builds a linalg.generic computing `resultType` elementwise from `inputs`,
/// which broadcast to it with numpy's rules (aligned at the trailing axis;
/// size-1 axes repeat).
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType resultType,
                             mlir::ValueRange inputs, ScalarBuilder body);

/// A tensor.empty of `type`.
mlir::Value createEmpty(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type);

/// A tensor of `type` filled with `value` (linalg.fill on tensor.empty).
mlir::Value createFilled(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::RankedTensorType type, mlir::Value value);

/// A scalar constant of `type` (float or integer) equal to `value`.
mlir::Value createScalar(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Type type, double value);

/// The lowest (max identity) or highest value of a float or integer type.
mlir::Value createExtremum(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type type, bool lowest,
                           bool isUnsigned = false);

/// Reshapes a static tensor to `type` (same element count) through
/// collapse/expand_shape, which bufferize to views.
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                      mlir::RankedTensorType type);

/// The constant data of `v` if it is produced by onnx.Constant or
/// arith.constant (after conversion), else null.
mlir::DenseElementsAttr getConstantData(mlir::Value v);

/// Reads an integer constant tensor into `out`; fails if `v` is not one.
mlir::LogicalResult getConstantInts(mlir::Value v,
                                    llvm::SmallVectorImpl<int64_t> &out);

/// Reads an f32 constant tensor into `out`; fails if `v` is not one.
mlir::LogicalResult getConstantFloats(mlir::Value v,
                                      llvm::SmallVectorImpl<float> &out);

/// Reads an optional i64 array attribute, or `fill` repeated `count` times.
llvm::SmallVector<int64_t> getI64Array(std::optional<mlir::ArrayAttr> attr,
                                       size_t count, int64_t fill);

/// The zeros a ConvTranspose's output starts with per spatial dim (its pads'
/// begins, or what auto_pad SAME or output_shape make them; negative when
/// the output starts inside the full result).
llvm::SmallVector<int64_t> convTransposePadsBegin(onnx::ConvTransposeOp op);

/// The static type of a value (every onnx tensor is ranked and static).
inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

/// True for float element types.
inline bool isFloat(mlir::Type t) { return mlir::isa<mlir::FloatType>(t); }

/// Converts a scalar between element types (ONNX Cast semantics: float to
/// int truncates toward zero, to bool compares with zero).
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          mlir::Type to, bool srcUnsigned, bool dstUnsigned);

/// The combining function of a reduction.
enum class ReduceKind { Sum, Max, Min, Prod };

/// Reduces `input` over the (sorted, normalised) `axes` with `kind`, keeping
/// them as size-1 dims.
mlir::Value reduceKeepDims(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value input, llvm::ArrayRef<int64_t> axes,
                           ReduceKind kind, bool isUnsigned = false);

/// Transposes a 2-d value: at compile time when it is a constant, else with
/// linalg.transpose.
mlir::Value transpose2D(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);

/// Builds a linalg.generic over `type`'s index space whose body computes each
/// element from the inputs (read through `inputMaps`) and the loop indices.
mlir::Value
buildIndexed(mlir::OpBuilder &b, mlir::Location loc,
             mlir::RankedTensorType type, mlir::ValueRange inputs,
             llvm::ArrayRef<mlir::AffineMap> inputMaps,
             llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                            mlir::ValueRange, mlir::ValueRange)>
                 body);

/// A possibly negative integer index `v` normalised against `size` (negative
/// counts from the end) and clamped into [0, size), so that a bad index can
/// never read or write outside the tensor. Returns an index value.
mlir::Value clampIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                       int64_t size);

/// Element `j` (row-major) of a tensor, read at run time: by default the
/// value of a 0-d or one-element tensor such as a run-time scalar input.
mlir::Value extractElement(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value t, int64_t j = 0);

/// Element `j` (row-major) of a small integer tensor read at run time, such
/// as a run-time axes or pads input, sign-extended to i64.
mlir::Value extractI64(mlir::OpBuilder &b, mlir::Location loc, mlir::Value t,
                       int64_t j);

/// A possibly negative i64 axis read at run time, normalised against `rank`
/// and clamped into [0, rank); emits `cf.assert` (message "<opName>: axis
/// out of range") that it was in [-rank, rank). Returns an i64 value.
mlir::Value runtimeAxis(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value axis, int64_t rank, llvm::StringRef opName);

/// Spatial window parameters of a Conv or pool, resolved from its attributes.
struct Window {
  llvm::SmallVector<int64_t> kernel, strides, dilations, padBegin, padEnd;
  /// The end pads before ceil_mode widening: what count_include_pad counts.
  llvm::SmallVector<int64_t> declaredPadEnd;
};

/// Resolves pads (explicit or auto_pad) for spatial dims of `in` producing
/// `out`, and widens the end pads so every output window (ceil_mode) is in
/// range.
mlir::LogicalResult resolveWindow(mlir::Operation *op,
                                  mlir::RankedTensorType in,
                                  mlir::RankedTensorType out,
                                  llvm::ArrayRef<int64_t> kernel,
                                  std::optional<mlir::ArrayAttr> padsAttr,
                                  std::optional<mlir::ArrayAttr> stridesAttr,
                                  std::optional<mlir::ArrayAttr> dilationsAttr,
                                  llvm::StringRef autoPad, Window &w);

/// Pads the spatial dims of an NC... tensor with `value`.
mlir::Value padSpatial(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       const Window &w, mlir::Value value);

/// One (image, group) product of a convolution: weights [Fg, K] times the
/// im2col [K, P] into `init` [Fg, P]; returns the result.
using ConvProduct = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::Value weights, mlir::Value col,
    mlir::Value init)>;

/// A grouped 2-d convolution of the padded input `xp` [N, C, H, W] by
/// `weights` [F, C/g, KH, KW] with window `w`, into `acc` [N, F, OH*OW]:
/// per (image, group) an im2col copy and `product`. Few products are
/// straight-line code on static slices, more an scf.for nest.
mlir::Value buildConvGemms(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value xp, mlir::Value weights, mlir::Value acc,
                           int64_t group, int64_t oh, int64_t ow,
                           const Window &w, ConvProduct product);

/// Reports an unsupported case of `op` once, as an error naming the node,
/// and returns failure.
mlir::LogicalResult unsupported(mlir::Operation *op, const llvm::Twine &why);

void populateControlFlowPatterns(mlir::RewritePatternSet &patterns);
void populateGridSamplePatterns(mlir::RewritePatternSet &patterns);
void populateDataDependentPatterns(mlir::RewritePatternSet &patterns);
void populateLossPatterns(mlir::RewritePatternSet &patterns);
void populateMathPatterns(mlir::RewritePatternSet &patterns);
void populateNNPatterns(mlir::RewritePatternSet &patterns);
void populateQuantizePatterns(mlir::RewritePatternSet &patterns);
void populateRandomPatterns(mlir::RewritePatternSet &patterns);
void populateRecurrentPatterns(mlir::RewritePatternSet &patterns);
void populateResizePatterns(mlir::RewritePatternSet &patterns);
void populateRoiAlignPatterns(mlir::RewritePatternSet &patterns);
void populateScatterPatterns(mlir::RewritePatternSet &patterns);
void populateSortPatterns(mlir::RewritePatternSet &patterns);
void populateStringPatterns(mlir::RewritePatternSet &patterns);
void populateStringPatterns(mlir::RewritePatternSet &patterns);
void populateSignalPatterns(mlir::RewritePatternSet &patterns);
void populateTensorPatterns(mlir::RewritePatternSet &patterns);
void populateTrainingPatterns(mlir::RewritePatternSet &patterns);
void populateTfIdfPatterns(mlir::RewritePatternSet &patterns);

} // namespace kiln

#endif // KILN_PASSES_ONNXTOLINALG_COMMON_H
