//===- Pipeline.cpp - CPU lowering to the LLVM dialect --------------------===//
//
// This file implements the CPU phase and the two passes only it uses:
// kiln-lower-vectors (hoisting and contract lowering) and kiln-lower-math
// (libm-free math). It starts with kiln-outline-kernels (OutlineKernels.cpp),
// which splits the graph into many functions for LLVM's sake. The rest is
// upstream conversion passes in order: loops, vectors to scf, affine, control
// flow, memref metadata, then everything to LLVM with bare pointers for
// memrefs (static shapes only, no descriptors).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_LOWERVECTORS
#define GEN_PASS_DEF_LOWERMATHTOPOLYNOMIALS
#define GEN_PASS_DEF_VECTORTOLLVM
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct LowerVectorsPass : kiln::impl::LowerVectorsBase<LowerVectorsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    linalg::hoistRedundantVectorTransfers(func);
    RewritePatternSet patterns(&getContext());
    vector::VectorTransformsOptions options;
    options.setVectorTransformsOptions(
        vector::VectorContractLowering::OuterProduct);
    vector::populateVectorContractLoweringPatterns(patterns, options);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorTransposeLoweringPatterns(patterns, options);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns,
                                                        &getContext());
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns,
                                                         &getContext());
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};

/// A constant `v` of `type`: a float, or a vector splat of one.
static Value floatConstant(OpBuilder &b, Location loc, Type type, double v) {
  Attribute a = b.getFloatAttr(getElementTypeOrSelf(type), v);
  if (auto vt = dyn_cast<VectorType>(type))
    a = DenseElementsAttr::get(vt, a);
  return b.create<arith::ConstantOp>(loc, type, cast<TypedAttr>(a));
}

/// roundeven(x) in floating point only, where the ISA has no instruction
/// for it (Cortex-M): below 2^(p-2) in magnitude (p the significand's bits)
/// x + 1.5 * 2^(p-1) rounds x to the nearest integer, ties to even (the
/// constant is even), and subtracting it back is exact; the sign of x is
/// put back (-0.4 gives -0); larger magnitudes, infinities and NaN are
/// already their own roundeven. Upstream's expansion converts through i64,
/// which a 32-bit core does in library calls a freestanding firmware lacks.
struct RoundEvenByMagic : OpRewritePattern<math::RoundEvenOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::RoundEvenOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    auto ft = dyn_cast<FloatType>(getElementTypeOrSelf(type));
    if (!ft || !(ft.isF32() || ft.isF64()))
      return failure();
    Location loc = op.getLoc();
    int p = ft.getFPMantissaWidth();
    auto constant = [&](double v) {
      return floatConstant(rewriter, loc, type, v);
    };
    Value x = op.getOperand();
    Value magic = constant(1.5 * std::ldexp(1.0, p - 1));
    Value r = rewriter.create<arith::SubFOp>(
        loc, rewriter.create<arith::AddFOp>(loc, x, magic), magic);
    r = rewriter.create<math::CopySignOp>(loc, r, x);
    Value small = rewriter.create<arith::CmpFOp>(
        loc, arith::CmpFPredicate::OLT, rewriter.create<math::AbsFOp>(loc, x),
        constant(std::ldexp(1.0, p - 2)));
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, small, r, x);
    return success();
  }
};

/// erf(x) in f32 as x * P(x^2) / Q(x^2) on x clamped to [-4, 4] (beyond
/// which erf is +-1 in f32), P of degree 6 and Q of degree 4 (Eigen's and
/// XLA's f32 erf): 10 multiply-adds, a division and two clamps, no branches or
/// selects, within 4.5e-7 of erf everywhere (checked against libm on 2e6
/// points of [-6, 6]); NaN stays NaN through the clamps. Upstream's three
/// intervals choose their coefficients with 16 selects: BERT's FFN
/// epilogues, where Gelu runs on every element, spent a fifth of their
/// time in it on AVX2.
struct ErfByRational : OpRewritePattern<math::ErfOp> {
  using OpRewritePattern::OpRewritePattern;

  /// `v` as x * s for a constant s in [1/16, 16] (x / c, x * s or s * x),
  /// or else as v * 1.
  static std::pair<Value, double> scaled(Value v) {
    auto constantOf = [](Value c) -> std::optional<double> {
      FloatAttr attr;
      if (matchPattern(c, m_Constant(&attr)))
        return attr.getValueAsDouble();
      SplatElementsAttr splat;
      if (matchPattern(c, m_Constant(&splat)) &&
          isa<FloatType>(splat.getElementType()))
        return splat.getSplatValue<APFloat>().convertToDouble();
      return std::nullopt;
    };
    std::optional<double> s;
    Value x;
    if (auto div = v.getDefiningOp<arith::DivFOp>()) {
      if (std::optional<double> c = constantOf(div.getRhs()))
        s = 1.0 / *c, x = div.getLhs();
    } else if (auto mul = v.getDefiningOp<arith::MulFOp>()) {
      if ((s = constantOf(mul.getRhs())))
        x = mul.getLhs();
      else if ((s = constantOf(mul.getLhs())))
        x = mul.getRhs();
    }
    if (!s || !(*s >= 1.0 / 16 && *s <= 16.0))
      return {v, 1.0};
    return {x, *s};
  }

  LogicalResult matchAndRewrite(math::ErfOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    auto ft = dyn_cast<FloatType>(getElementTypeOrSelf(type));
    if (!ft || !ft.isF32())
      return failure();
    Location loc = op.getLoc();
    auto constant = [&](double v) {
      return floatConstant(rewriter, loc, type, v);
    };
    std::pair<Value, double> operand = scaled(op.getOperand());
    Value x = operand.first;
    double s = operand.second;
    // Horner's rule in y^2 on coefficients given highest first, each times
    // s^2 per power of y^2 and times `times`.
    auto horner = [&](Value y2, ArrayRef<double> coefficients, double times) {
      int64_t degree = coefficients.size() - 1;
      auto coefficient = [&](int64_t i) {
        return coefficients[i] * std::pow(s, 2 * (degree - i)) * times;
      };
      Value acc = constant(coefficient(0));
      // A multiply and an add that may contract into an FMA where there is
      // one (math.fma would call libm's fmaf on a core without).
      auto contract = arith::FastMathFlags::contract;
      for (int64_t i = 1; i <= degree; ++i)
        acc = rewriter.create<arith::AddFOp>(
            loc, rewriter.create<arith::MulFOp>(loc, acc, y2, contract),
            constant(coefficient(i)), contract);
      return acc;
    };
    Value y = rewriter.create<arith::MaximumFOp>(
        loc, rewriter.create<arith::MinimumFOp>(loc, x, constant(4.0 / s)),
        constant(-4.0 / s));
    Value y2 = rewriter.create<arith::MulFOp>(loc, y, y);
    Value p = horner(y2,
                     {-2.72614225801306e-10, 2.77068142495902e-08,
                      -2.10102402082508e-06, -5.69250639462346e-05,
                      -7.34990630326855e-04, -2.95459980854025e-03,
                      -1.60960333262415e-02},
                     s);
    Value q = horner(y2,
                     {-1.45660718464996e-05, -2.13374055278905e-04,
                      -1.68282697438203e-03, -7.37332916720468e-03,
                      -1.42647390514189e-02},
                     1.0);
    rewriter.replaceOpWithNewOp<arith::DivFOp>(
        op, rewriter.create<arith::MulFOp>(loc, y, p), q);
    return success();
  }
};

struct LowerMathToPolynomialsPass
    : kiln::impl::LowerMathToPolynomialsBase<LowerMathToPolynomialsPass> {
  using LowerMathToPolynomialsBase::LowerMathToPolynomialsBase;
  void runOnOperation() override {
    // x^2 as x*x, x^0.5 as sqrt(x) and the like, before powf becomes
    // exp(y * log(x)).
    RewritePatternSet simplify(&getContext());
    populateMathAlgebraicSimplificationPatterns(simplify);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(simplify))))
      return signalPassFailure();
    RewritePatternSet expand(&getContext());
    populateExpandPowFPattern(expand);
    populateExpandFPowIPattern(expand);
    populateExpandTanPattern(expand);
    populateExpandSinhPattern(expand);
    populateExpandCoshPattern(expand);
    populateExpandAsinhPattern(expand);
    populateExpandAcoshPattern(expand);
    populateExpandAtanhPattern(expand);
    populateExpandExp2FPattern(expand);
    populateExpandRoundFPattern(expand);
    expand.add<ErfByRational>(&getContext(), /*benefit=*/2);
    if (!keepRoundEven) {
      expand.add<RoundEvenByMagic>(&getContext(), /*benefit=*/2);
      populateExpandRoundEvenPattern(expand); // other float types
    }
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(expand))))
      return signalPassFailure();
    RewritePatternSet approx(&getContext());
    populateMathPolynomialApproximationPatterns(approx);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(approx))))
      return signalPassFailure();
  }
};

struct VectorToLLVMPass : kiln::impl::VectorToLLVMBase<VectorToLLVMPass> {
  using VectorToLLVMBase::VectorToLLVMBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    // What upstream's pass does first: the vector-to-vector lowerings that
    // need no types.
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorToVectorCanonicalizationPatterns(patterns);
      vector::populateVectorBitCastLoweringPatterns(patterns);
      vector::populateVectorBroadcastLoweringPatterns(patterns);
      vector::populateVectorContractLoweringPatterns(
          patterns, vector::VectorTransformsOptions());
      vector::populateVectorMaskOpLoweringPatterns(patterns);
      vector::populateVectorShapeCastLoweringPatterns(patterns);
      vector::populateVectorInterleaveLoweringPatterns(patterns);
      vector::populateVectorTransposeLoweringPatterns(
          patterns, vector::VectorTransformsOptions());
      vector::populateVectorTransferLoweringPatterns(patterns,
                                                     /*maxTransferRank=*/1);
      if (failed(applyPatternsAndFoldGreedily(module, std::move(patterns))))
        return signalPassFailure();
    }
    // Then the conversion, with the index width asked for.
    LowerToLLVMOptions options(ctx, DataLayout(module));
    if (indexBitwidth)
      options.overrideIndexBitwidth(indexBitwidth);
    LLVMTypeConverter converter(ctx, options);
    RewritePatternSet patterns(ctx);
    // Masks compare i32 lane numbers (no vector is 2^31 long): one vpcmpd
    // per 16 lanes where i64 ones take two and a merge.
    vector::populateVectorMaskMaterializationPatterns(
        patterns, /*force32BitVectorIndices=*/true);
    vector::populateVectorTransferLoweringPatterns(patterns);
    populateVectorToLLVMMatrixConversionPatterns(converter, patterns);
    populateVectorToLLVMConversionPatterns(converter, patterns);
    LLVMConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, memref::MemRefDialect>();
    target.addLegalOp<UnrealizedConversionCastOp>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

namespace kiln {

void buildCPULoweringPipeline(OpPassManager &pm, const TargetProfile &profile) {
  // First, while each loop nest is still one top-level op of the entry.
  pm.addPass(createOutlineKernels());
  pm.addNestedPass<func::FuncOp>(createLowerVectors());
  pm.addPass(createCollapseElementwise());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerMathToPolynomials(
      LowerMathToPolynomialsOptions{profile.roundEvenInstruction}));
  pm.addPass(createConvertMathToFuncs()); // integer powers as small loops
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  if (profile.clampsAsCompares)
    pm.addPass(createClampsAsCompares());
  if (profile.expandFloatMinMax)
    pm.addPass(arith::createArithExpandOpsPass());
  // Every conversion makes `index` profile.indexBits wide (upstream's
  // vector conversion cannot be told: kiln-vector-to-llvm stands in).
  unsigned indexBits = profile.indexBits;
  pm.addPass(createVectorToLLVM(VectorToLLVMOptions{indexBits}));
  pm.addPass(createConvertMathToLLVMPass());
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.indexBitwidth = indexBits;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  ArithToLLVMConversionPassOptions arithOptions;
  arithOptions.indexBitwidth = indexBits;
  pm.addPass(createArithToLLVMConversionPass(arithOptions));
  ConvertControlFlowToLLVMPassOptions cfOptions;
  cfOptions.indexBitwidth = indexBits;
  pm.addPass(createConvertControlFlowToLLVMPass(cfOptions));
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  funcOptions.indexBitwidth = indexBits;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  ConvertIndexToLLVMPassOptions indexOptions;
  indexOptions.indexBitwidth = indexBits;
  pm.addPass(createConvertIndexToLLVMPass(indexOptions));
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createMergeRuntimeDeclarations());
  pm.addPass(createFlattenConstants(
      FlattenConstantsOptions{/*bytes=*/profile.hostByteOrder}));
  pm.addPass(createCanonicalizerPass());
  // After the canonicalizer, so that copies alike but for their constants
  // compare op for op (image 0's, whose offsets of zero fold away, stays
  // apart from the others).
  pm.addPass(createMergeKernels());
}

void registerCPUPipelines() {
  PassPipelineRegistration<>(
      "kiln-cpu-lower-to-llvm-pipeline",
      "bufferized IR to the LLVM dialect for CPUs",
      [](OpPassManager &pm) { buildCPULoweringPipeline(pm); });
}

} // namespace kiln
