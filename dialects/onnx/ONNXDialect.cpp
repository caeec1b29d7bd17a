//===- ONNXDialect.cpp - The onnx dialect ---------------------------------===//
//
// This file implements the onnx dialect: registration, constant
// materialisation, and the verifiers and folders that ONNX's rules call for.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kiln::onnx;

#include "dialects/onnx/ONNXDialect.cpp.inc"

void ONNXDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/onnx/ONNXOps.cpp.inc"
      >();
}

Operation *ONNXDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  if (isa<NoneType>(type))
    return builder.create<NoValueOp>(loc, type);
  if (auto elements = dyn_cast<ElementsAttr>(value))
    return builder.create<ConstantOp>(loc, type, elements);
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Shared verifier helpers
//===----------------------------------------------------------------------===//

static RankedTensorType rankedType(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// Checks that `result` has the numpy broadcast shape of `operands`.
static LogicalResult verifyBroadcast(Operation *op, ArrayRef<Value> operands,
                                     Value result) {
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    SmallVector<int64_t> next;
    if (!OpTrait::util::getBroadcastedShape(shape, rankedType(v).getShape(),
                                            next))
      return op->emitOpError("operand shapes do not broadcast");
    shape = next;
  }
  auto resultShape = rankedType(result).getShape();
  if (!OpTrait::util::staticallyKnownBroadcastable(shape, resultShape) ||
      shape.size() != resultShape.size())
    return op->emitOpError("result shape does not match the broadcast of its "
                           "operands");
  return success();
}

template <typename BinaryOp> static LogicalResult verifyBinary(BinaryOp op) {
  return verifyBroadcast(op, {op.getA(), op.getB()}, op.getC());
}

LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult AndOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }
LogicalResult EqualOp::verify() { return verifyBinary(*this); }
LogicalResult GreaterOp::verify() { return verifyBinary(*this); }
LogicalResult LessOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult OrOp::verify() { return verifyBinary(*this); }
LogicalResult PowOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult GreaterOrEqualOp::verify() { return verifyBinary(*this); }
LogicalResult LessOrEqualOp::verify() { return verifyBinary(*this); }
LogicalResult XorOp::verify() { return verifyBinary(*this); }

/// Checks that an optional i64 array attribute has `expected` entries.
static LogicalResult verifyArrayLength(Operation *op, StringRef name,
                                       std::optional<ArrayAttr> attr,
                                       size_t expected) {
  if (attr && attr->size() != expected)
    return op->emitOpError() << "'" << name << "' has " << attr->size()
                             << " entries, expected " << expected;
  return success();
}

/// Verifies the attributes that Conv and the pooling ops share.
static LogicalResult verifyWindow(Operation *op, Value x, int64_t kernelRank,
                                  std::optional<ArrayAttr> pads,
                                  std::optional<ArrayAttr> strides,
                                  std::optional<ArrayAttr> dilations,
                                  StringRef autoPad) {
  int64_t rank = rankedType(x).getRank();
  if (rank < 3)
    return op->emitOpError("input must have rank 3 or more, got ") << rank;
  if (kernelRank != rank - 2)
    return op->emitOpError("kernel rank ") << kernelRank << " does not match "
                                           << rank - 2 << " spatial dimensions";
  if (failed(verifyArrayLength(op, "pads", pads, 2 * kernelRank)) ||
      failed(verifyArrayLength(op, "strides", strides, kernelRank)) ||
      failed(verifyArrayLength(op, "dilations", dilations, kernelRank)))
    return failure();
  if (autoPad != "NOTSET" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER" && autoPad != "VALID")
    return op->emitOpError("unknown auto_pad '") << autoPad << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// Math
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::verify() {
  if (rankedType(getA()).getRank() < 1 || rankedType(getB()).getRank() < 1)
    return emitOpError("operands must have rank 1 or more");
  auto a = rankedType(getA()).getShape(), b = rankedType(getB()).getShape();
  int64_t k1 = a.back(), k2 = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (!ShapedType::isDynamic(k1) && !ShapedType::isDynamic(k2) && k1 != k2)
    return emitOpError("contraction sizes differ: ") << k1 << " vs " << k2;
  return success();
}

LogicalResult GemmOp::verify() {
  if (rankedType(getA()).getRank() != 2 || rankedType(getB()).getRank() != 2)
    return emitOpError("A and B must be 2-d");
  auto a = rankedType(getA()).getShape(), b = rankedType(getB()).getShape();
  int64_t k1 = getTransA() ? a[0] : a[1], k2 = getTransB() ? b[1] : b[0];
  if (k1 != k2)
    return emitOpError("contraction sizes differ: ") << k1 << " vs " << k2;
  return success();
}

//===----------------------------------------------------------------------===//
// NN
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::verify() {
  auto w = rankedType(getW());
  if (failed(verifyWindow(*this, getX(), w.getRank() - 2, getPads(),
                          getStrides(), getDilations(), getAutoPad())))
    return failure();
  int64_t channels = rankedType(getX()).getDimSize(1);
  int64_t group = getGroup();
  if (group < 1 || channels % getGroup() != 0 ||
      w.getDimSize(1) * getGroup() != channels)
    return emitOpError("W's channel dimension times group (")
           << w.getDimSize(1) << " x " << getGroup() << ") does not match X's "
           << channels << " channels";
  if (w.getDimSize(0) % getGroup() != 0)
    return emitOpError("output channels are not divisible by group");
  return success();
}

LogicalResult MaxPoolOp::verify() {
  if (getStorageOrder() > 1)
    return emitOpError("storage_order must be 0 or 1");
  return verifyWindow(*this, getX(), getKernelShape().size(), getPads(),
                      getStrides(), getDilations(), getAutoPad());
}

LogicalResult AveragePoolOp::verify() {
  return verifyWindow(*this, getX(), getKernelShape().size(), getPads(),
                      getStrides(), std::nullopt, getAutoPad());
}

LogicalResult LpPoolOp::verify() {
  if ((int64_t)getP() < 1)
    return emitOpError("p must be 1 or more");
  return verifyWindow(*this, getX(), getKernelShape().size(), getPads(),
                      getStrides(), std::nullopt, getAutoPad());
}

LogicalResult MaxUnpoolOp::verify() {
  auto x = rankedType(getX()), i = rankedType(getI()),
       y = rankedType(getOutput());
  if (failed(verifyWindow(*this, getX(), getKernelShape().size(), getPads(),
                          getStrides(), std::nullopt, "NOTSET")))
    return failure();
  if (!i.getElementType().isInteger(64))
    return emitOpError("I must be int64");
  if (x.hasStaticShape() && i.hasStaticShape() && x.getShape() != i.getShape())
    return emitOpError("I's shape differs from X's");
  if (y.getRank() != x.getRank())
    return emitOpError("output rank differs from X's");
  return success();
}

LogicalResult GridSampleOp::verify() {
  auto x = rankedType(getX()), grid = rankedType(getGrid());
  if (x.getRank() != 4 || grid.getRank() != 4 || grid.getDimSize(3) != 2)
    return emitOpError("expects X [N, C, H, W] and grid [N, H_out, W_out, 2]");
  if (getMode() != "bilinear" && getMode() != "nearest" &&
      getMode() != "bicubic")
    return emitOpError("unknown mode '") << getMode() << "'";
  if (getPaddingMode() != "zeros" && getPaddingMode() != "border" &&
      getPaddingMode() != "reflection")
    return emitOpError("unknown padding_mode '") << getPaddingMode() << "'";
  return success();
}

LogicalResult BatchNormalizationOp::verify() {
  if (getTrainingMode() > 1)
    return emitOpError("training_mode must be 0 or 1");
  size_t stats = getRunningStats().size();
  if (stats > 2 || (getTrainingMode() == 0 && stats != 0))
    return emitOpError("expects Y, and running_mean and running_var only in "
                       "training mode");
  return success();
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

OpFoldResult NoValueOp::fold(FoldAdaptor) {
  return UnitAttr::get(getContext());
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError("value type ")
           << getValue().getType() << " differs from result type " << getType();
  return success();
}

OpFoldResult IdentityOp::fold(FoldAdaptor) { return getInput(); }

LogicalResult ReshapeOp::verify() {
  auto in = rankedType(getData()), out = rankedType(getReshaped());
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError("element count changes from ")
           << in.getNumElements() << " to " << out.getNumElements();
  return success();
}

LogicalResult FlattenOp::verify() {
  int64_t rank = rankedType(getInput()).getRank();
  int64_t axis = getAxis();
  if (axis < -rank || axis > rank)
    return emitOpError("axis ") << axis << " out of range for rank " << rank;
  if (rankedType(getOutput()).getRank() != 2)
    return emitOpError("result must be 2-d");
  return success();
}

LogicalResult SqueezeOp::verify() {
  if (rankedType(getSqueezed()).getRank() > rankedType(getData()).getRank())
    return emitOpError("result rank exceeds input rank");
  return success();
}

LogicalResult UnsqueezeOp::verify() {
  if (rankedType(getExpanded()).getRank() < rankedType(getData()).getRank())
    return emitOpError("result rank is below input rank");
  return success();
}

LogicalResult TransposeOp::verify() {
  int64_t rank = rankedType(getData()).getRank();
  if (!getPerm())
    return success();
  if ((int64_t)getPerm()->size() != rank)
    return emitOpError("perm has ")
           << getPerm()->size() << " entries for rank " << rank;
  llvm::SmallVector<bool> seen(rank, false);
  for (Attribute a : getPerm()->getValue()) {
    int64_t p = cast<IntegerAttr>(a).getInt();
    if (p < 0 || p >= rank || seen[p])
      return emitOpError("perm is not a permutation");
    seen[p] = true;
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  int64_t rank = rankedType(getInputs()[0]).getRank();
  if (normalizeAxis(getAxis(), rank) < 0)
    return emitOpError("axis ")
           << getAxis() << " out of range for rank " << rank;
  for (Value v : getInputs())
    if (rankedType(v).getRank() != rank)
      return emitOpError("inputs differ in rank");
  return success();
}

LogicalResult GatherOp::verify() {
  int64_t rank = rankedType(getData()).getRank();
  if (normalizeAxis(getAxis(), rank) < 0)
    return emitOpError("axis ")
           << getAxis() << " out of range for rank " << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

/// The values a single-block region yields.
static OperandRange yielded(Region &region) {
  return region.front().getTerminator()->getOperands();
}

LogicalResult IfOp::verify() {
  if (rankedType(getCond()).getNumElements() != 1 ||
      !rankedType(getCond()).getElementType().isInteger(1))
    return emitOpError("cond must be a one-element bool tensor");
  for (Region *region : {&getThenBranch(), &getElseBranch()}) {
    if (region->getNumArguments() != 0)
      return emitOpError("a branch takes no arguments");
    if (TypeRange(yielded(*region)) != getResultTypes())
      return emitOpError("a branch yields types other than the results' "
                         "(branches of different shapes are not supported)");
  }
  return success();
}

LogicalResult LoopOp::verify() {
  Block &body = getBody().front();
  size_t carried = getVInitial().size();
  if (body.getNumArguments() != carried + 2)
    return emitOpError("the body takes ")
           << body.getNumArguments() << " arguments, expected " << carried + 2;
  if (TypeRange(ValueRange(body.getArguments().drop_front(2))) !=
      TypeRange(getVInitial().getTypes()))
    return emitOpError("the body's carried arguments differ in type from the "
                       "initial values");
  OperandRange out = yielded(getBody());
  if (out.size() != 1 + getNumResults())
    return emitOpError("the body yields ")
           << out.size() << " values, expected " << 1 + getNumResults();
  if (TypeRange(out.slice(1, carried)) != TypeRange(getVInitial().getTypes()) ||
      TypeRange(getResults().take_front(carried)) !=
          TypeRange(getVInitial().getTypes()))
    return emitOpError("loop-carried values change type between iterations");
  for (auto [element, result] :
       llvm::zip(out.drop_front(1 + carried), getResults().drop_front(carried))) {
    auto e = rankedType(element), r = rankedType(result);
    if (r.getRank() != e.getRank() + 1 || r.getShape().drop_front() !=
                                              e.getShape() ||
        r.getElementType() != e.getElementType())
      return emitOpError("a scan output is not its elements stacked");
  }
  return success();
}

LogicalResult ScanOp::verify() {
  int64_t numScan = getNumScanInputs();
  int64_t numOperands = getInitialStateAndScanInputs().size();
  if (numScan < 1 || numScan > numOperands)
    return emitOpError("num_scan_inputs out of range");
  Block &body = getBody().front();
  if ((int64_t)body.getNumArguments() != numOperands)
    return emitOpError("the body takes ")
           << body.getNumArguments() << " arguments, expected " << numOperands;
  if (yielded(getBody()).size() != getNumResults())
    return emitOpError("the body yields a value per result");
  return success();
}

#define GET_OP_CLASSES
#include "dialects/onnx/ONNXOps.cpp.inc"
