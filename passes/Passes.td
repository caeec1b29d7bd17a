//===- Passes.td - Kiln's passes ------------------------------------------===//
//
// This file declares every Kiln pass, alphabetically. Each pass has one
// .cpp file and one lit test, and its flag is `kiln-<name>`.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_PASSES_TD
#define KILN_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertONNXToLinalg : Pass<"kiln-convert-onnx-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower the onnx dialect to linalg, tensor, arith and math";
  let description = [{
    Before: onnx ops on static tensors. After: named and generic linalg ops,
    tensor reshapes/slices/pads and arith constants; no onnx op remains. A node
    that cannot be lowered is reported once, naming it.

    Conv becomes im2col + linalg.matmul (in an scf.for nest over images and
    groups when there are several); a depthwise Conv is one direct
    linalg.generic. Constant Gemm weights are transposed at compile time.
    Run-time inputs that the static result shape depends on (Slice starts,
    Pad pads, ReduceSum axes, TopK's K, Resize scales, a Loop's trip count)
    are computed with clamped indices and checked against that shape with
    cf.assert, which kiln-lower-run-time-checks turns into a status.

    Ops whose output length depends on the data (NonZero, Compress,
    NonMaxSuppression, Unique) write at most the declared length and check
    the count they find against it with cf.assert.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect",
    "mlir::func::FuncDialect", "mlir::scf::SCFDialect",
    "mlir::bufferization::BufferizationDialect",
    "mlir::cf::ControlFlowDialect"
  ];
}

def DecomposePads : Pass<"kiln-decompose-pads", "mlir::func::FuncOp"> {
  let summary = "Rewrite tensor.pad as a fill and an insert_slice";
  let description = [{
    Before: tensor.pad with a constant padding value. After: tensor.empty of
    the padded shape, linalg.fill with the value, and tensor.insert_slice of
    the source into it. With eliminate-empty-tensors, the producer of the
    source then writes into the padded buffer in place instead of being copied
    there.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def CollapseElementwise : Pass<"kiln-collapse-elementwise", "mlir::ModuleOp"> {
  let summary = "Merge the contiguous trailing dims of elementwise generics";
  let description = [{
    Before: an elementwise linalg.generic on static memrefs (all loops
    parallel, identity maps), whose innermost loop after linalg-to-loops
    would run along the last dimension only. After: the same generic on
    memref.collapse_shape views whose trailing dimensions, contiguous in
    every operand, are one: a long innermost loop that LLVM vectorises.
    A linalg.fill on a static memref likewise gets each run of its dims
    that are contiguous merged into one (leading ones too: a batch's
    border rows one loop over images and channels, which LLVM does not
    unroll whole).
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect",
                           "mlir::linalg::LinalgDialect"];
}

def FuseQDQ : Pass<"kiln-fuse-qdq", "mlir::func::FuncOp"> {
  let summary = "Rewrite QDQ convolutions into QLinearConv";
  let description = [{
    Before: DequantizeLinear on a Conv's input and weights (and an int32
    bias at scale x_scale * w_scale), the Conv, optionally a Relu or a
    Clip with constant bounds, and a QuantizeLinear: the QDQ form of an
    8-bit convolution. After: one onnx.QLinearConv on the 8-bit tensors;
    the activation becomes its `kiln.clamp` = [lo, hi] on the output's
    8-bit scale. Likewise a Gemm or a MatMul by constant weights becomes a
    1x1 QLinearConv, DQ -> MaxPool -> Q (one scale) a MaxPool of the bytes,
    DQ -> GlobalAveragePool -> [Flatten] -> Q an i32 sum of the bytes
    requantized once, and a Gather of a DQ'd table a Gather of its bytes.
    Runs before constant folding, which would otherwise fold the weights'
    DequantizeLinear into float weights.
  }];
}

def DecomposeConvTransposes : Pass<"kiln-decompose-conv-transposes", "mlir::func::FuncOp"> {
  let summary = "ConvTranspose as one stride-1 Conv of its phases and a shuffle";
  let description = [{
    Before: onnx.ConvTranspose (f32, constant weights and bias, one group,
    no dilation). After: an onnx.Conv with an output channel per output
    phase and channel (each phase's kernel taps in a common window), then
    Reshape, Transpose and Reshape (and a Slice where the phases overrun
    the output) interleaving the phases: sub-pixel convolution's
    depth-to-space, on the convolution kernels.
  }];
}

def FoldONNXConstants : Pass<"kiln-fold-onnx-constants", "mlir::func::FuncOp"> {
  let summary = "Evaluate onnx ops whose inputs are all constants";
  let description = [{
    Before: shape subgraphs such as Shape -> Gather -> Unsqueeze -> Concat
    feeding a Reshape, masks built with Range, Trilu and Where, or Transpose
    of a weight. After: onnx.Constant ops. The semantics are those of the
    evaluator the importer folds with (dialects/onnx/Evaluator.h). Ops that
    only move data (Transpose, Reshape, Identity, Unsqueeze, Squeeze,
    Flatten) fold at any size; others when their results hold at most 4096
    elements and, for floats, are no larger than their inputs.
  }];
}

def FoldBatchNorms : Pass<"kiln-fold-batch-norms", "mlir::func::FuncOp"> {
  let summary = "Fold inference BatchNormalization into the layer before it";
  let description = [{
    Before: onnx.Conv, onnx.ConvTranspose (one group) or onnx.Gemm (alpha
    and beta 1) of constant f32 weights and a constant bias or none, whose
    only user is an inference-mode onnx.BatchNormalization of constant
    scale, B, mean and var. After: the layer with its weights scaled by
    s = scale / sqrt(var + epsilon) per output channel and the bias
    (B - mean) * s + b, computed in double; its location fuses both nodes'.
  }];
}

def FuseRows : Pass<"kiln-fuse-rows", "mlir::ModuleOp"> {
  let summary = "Run consecutive row-wise ops (LayerNorm's) piece by piece";
  let description = [{
    Before: runs of consecutive linalg.fill and linalg.generic ops on static
    memrefs (allocations between them allowed), starting at a fill or a
    reduction, that share a parallel loop of one range which every buffer
    they touch indexes directly, at the same position in every op, or reads
    whole without the run writing it; at least two ops, one a reduction.
    After: one loop over pieces of that loop's range (the largest divisor
    with at most `piece-work` iterations in a piece), each running the
    run's ops on subviews of the piece, through kiln_parallel_rows with
    `parallel` from `parallel-min-work` iterations; the allocations are
    hoisted before it. Named ops (matmuls, convolutions) and generics with
    compound indexing (windows) are not part of runs.
  }];
  let options = [
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "run the pieces through kiln_parallel_rows">,
    Option<"parallelMinWork", "parallel-min-work", "int64_t",
           /*default=*/"16384",
           "the run's iterations (of its largest op) below which the pieces "
           "stay on the calling thread">,
    Option<"pieceWork", "piece-work", "int64_t", /*default=*/"4096",
           "the most iterations of one op in a piece (a piece should stay "
           "in L1)">
  ];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

def FuseSoftmax : Pass<"kiln-fuse-softmax", "mlir::ModuleOp"> {
  let summary = "Run a softmax's four passes over memory as one row kernel";
  let description = [{
    Before: on static f32 memrefs with contiguous rows, the chain ONNX's
    Softmax along the last axis lowers to, in block order: a fill of the
    rows' maxima with -inf, their reduction, exp(x - max), a fill of the
    sums with 0, their reduction and the division by them; optionally
    before it a multiplication of x by a positive constant or a division
    by a power of two (an attention's 1 / sqrt(d)) whose result nothing
    else reads. After: one loop over rows (through kiln_parallel_rows with
    `parallel` when there are at least `parallel-min-work` elements), each
    row read in `vector-width`-lane vectors for its maximum, then for
    exp(x * scale - max * scale), written to the output and summed, then
    the output scaled by 1 / sum; the chain's per-row and intermediate
    buffers are gone.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register (a power of two)">,
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "run the rows through kiln_parallel_rows">,
    Option<"parallelMinWork", "parallel-min-work", "int64_t",
           /*default=*/"16384",
           "the elements below which the rows stay on the calling thread">
  ];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def FuseElementwise : Pass<"kiln-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg ops without touching contractions";
  let description = [{
    Before: linalg on tensors, with chains of elementwise generics, reshapes
    between them, and matmuls. After: each chain one generic where a consumer
    reads every element of a single-use producer once (its indexing map for
    it is a permutation), reshapes moved through all-parallel generics only,
    constants folded. Matmuls stay named ops, and no producer is recomputed.
  }];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def KnownFinite : Pass<"kiln-known-finite", "mlir::func::FuncOp"> {
  let summary = "Mark float min/max of bounded operands as never NaN";
  let description = [{
    Before: arith.maximumf / minimumf (scalar or vector) without fast-math
    flags. After: those whose operands are provably bounded in magnitude
    (derived from integer conversions, constants, + - *, / by a nonzero
    constant, rounding, min/max, select and lane moves) carry `nnan`, so
    that LLVM emits one max/min instruction instead of adding a NaN check.
    Nothing else changes.
  }];
}

def ClampsAsCompares : Pass<"kiln-clamps-as-compares", "mlir::ModuleOp"> {
  let summary = "Float max/min with a constant as a compare and select";
  let description = [{
    Before: arith.maximumf / minimumf (scalar or vector) of a value x and a
    constant c that is not NaN, without `nnan`. After: select(c > x, c, x)
    and select(c < x, c, x): x when it is NaN, as before, and x86's maxps
    and minps exactly (one instruction, where llvm.maximum takes three).
    Only a zero equal to c may change sign. Other min/max are left alone.
  }];
}

def LowerMathToPolynomials : Pass<"kiln-lower-math", "mlir::ModuleOp"> {
  let summary = "Expand math ops that would otherwise call libm";
  let description = [{
    Before: math.exp, math.erf, math.tanh, math.log, math.powf... After:
    polynomial approximations in arith (MLIR's, accurate to a few ulp in f32),
    so generated code calls no libm: LLVM would lower llvm.exp to expf. Ops
    with a hardware instruction (sqrt, floor, ceil, fma, abs) are kept, and
    so is roundeven (requantization's rounding) with `keep-round-even`, on
    targets that have an instruction for it (SSE4.1's roundps, AArch64's
    frintn): LLVM vectorises it there, not the integer expansion.
  }];
  let options = [
    Option<"keepRoundEven", "keep-round-even", "bool", /*default=*/"false",
           "keep math.roundeven: the target rounds half to even natively">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::vector::VectorDialect"];
}

def LowerMatmuls : Pass<"kiln-lower-matmuls", "mlir::ModuleOp"> {
  let summary = "Lower f32 matmuls on memrefs to packed, cache-blocked kernels";
  let description = [{
    Before: linalg.matmul / linalg.batch_matmul on f32 memrefs with static
    shapes and contiguous rows. After: scf loops over chunks of B's columns
    (packed into a `memref.alloc` of panels that kiln-plan-memory places in the
    workspace), blocks of `tile-m` rows and panels of `tile-n-vectors` vectors,
    around a micro-kernel whose accumulators stay in vector registers for the
    whole reduction (vector.load of packed B, broadcasts of A, vector.fma).
    Row remainders get a kernel of fewer rows, column remainders masked loads
    and stores. Matmuls with fewer than `pack-min-rows` rows read B in place,
    and so do those with fewer than `pack-min-rows-plain` where that is more
    and they are plain (not a batch, no dot-product tail, which reads B
    packed).
    Other matmuls are left as they are.

    With `pack-a`, a matmul whose A is a whole constant global (a layer's
    weights, through reshapes) reads it from a new global [blocks][K][tile-m]
    packed at compile time (the last block's missing rows zeros; the old
    global goes when nothing else reads it): a micro-kernel's weights are one
    stream, prefetched `prefetch-bytes` ahead, and the dot-product tail takes
    the block's rows as the lanes of its vectors.

    With `parallel`, for chunks of at least `parallel-min-flops`, the
    packing of each chunk is a private function `PARENT_packN(A, B, C, Bp,
    ..., x, y, begin, end)` over rows [begin, end) of k of its panels [x, y)
    (8-bit: over its panels), and its row blocks another,
    `PARENT_gemmN`, that the runtime's kiln_parallel_rows splits over its
    threads; the calls go through declarations `..._dispatch` marked
    `kiln.runtime = "kiln_parallel_rows"` (see
    kiln-merge-runtime-declarations). A GEMV (one block of rows) of at
    least `parallel-min-gemv-flops` shares its panels instead, each thread
    streaming its part of B. A batch_matmul of at least `parallel-min-flops`
    shares its products (`PARENT_batchN`), with a pack buffer per product. An operand whose only dynamic part is
    its offset (a slice in a loop) travels as its base buffer, the offset in
    a small index buffer; matmuls with other operands stay serial. With
    `split-k`, a GEMM whose threads would share its row blocks and that
    reduces (constant A in row blocks, a bias, m <= k / 2, B written whole)
    also runs, when kiln_get_num_threads() is 2, as `PARENT_halvesN`, each
    thread's half of k into a partial C of its own, then `PARENT_sumN`, the
    partials summed with the bias and the epilogue by rows. Halves of 2^24
    multiply-adds or more are packed by their rows of k
    (`PARENT_halves_packN`) and then multiplied by their row blocks
    (`PARENT_halvesN`), each call's units both halves' in turn, so that
    each thread's own share is its half and the runtime can move pieces of
    it to the other thread.

    With `winograd`, a matmul that is a stride-1 3x3 convolution of one
    image (an im2col of a static padded input, constant weights, static
    output) with at least `winograd-min-channels` input and output channels
    and `winograd-min-tiles` 2x2 output tiles runs as Winograd F(m x m,
    3x3) (Winograd.h), m = 2 or 4 (`winograd-tile`; by default the one
    whose products cost less, their vectors of tiles and their weights):
    its weights transformed at compile time into a global [E][OC][C],
    E = (m + 2)^2, the input tiles transformed into [E][C][T]
    (`PARENT_winogradN` on the threads, by channels; with `move-borders`
    each piece first writes its planes' padding borders, which fills on
    the caller had written before the layer that writes the interior), E
    products of [OC][C] by [C][T] lowered as a batch_matmul above (the last
    tiles, fewer than a vector, as dot products with `dot-tail`: 49 as 48
    + 1), and the output tiles transformed back with the bias and the
    fused epilogue (by output channels): 16 products per 2x2 tile and
    channel pair instead of 36, or 36 per 4x4 tile instead of 144. V's and
    M's E slabs lie an odd number of cache lines apart. With
    `winograd-block-tiles`, a convolution of more than a quarter vector of
    tile columns whose blocks of that many tiles (whole tile rows) have a V
    of at most `winograd-block-kb` and number 4 or more runs, when
    kiln_get_num_threads() says two or more threads (else as above), as one
    `PARENT_winogradN` over those blocks: each block's input transform into
    a V on the thread's stack ([E][C][tiles, padded to a vector]), then per
    row block of output channels its E products into an M on the stack and
    their output transform. Where the padded input's borders are zero
    fills of exactly its first and last rows and columns and nothing after
    the convolution reads them, the blocks read them as zeros.

    With `fuse-depthwise` (KB), a matmul of one image with weights of at
    most 32 KB (B read in place, or an im2col that it packs) whose fused
    epilogue writes a buffer that nothing but one window then reads runs
    with that window as one kernel at the window's place (`PARENT_fusedN`
    on the threads, a run of consecutive bands a thread): the interior of
    a padded buffer (one pixel of zero border) that a kiln.depthwise
    convolution reads, or an unpadded buffer that a
    linalg.pooling_nchw_max reads. A band of the window's
    output rows at a time (of the heights whose input rows fit, from the
    tallest down to half of it, the one that two threads' even shares of
    the bands split most evenly), the band's (padded) input rows in a
    `memref.alloca` of at most that many KB (a padded buffer's border
    columns zero, the first band's top row and the last band's bottom ones
    zero), each band's GEMM writing its image rows there through the
    epilogue (a band's first rows being the band before's last: moved to
    the buffer's top when that band ran before it in the same call, else
    recomputed; an im2col's panels packed 16 KB at a time on the stack) and
    the window's rows (kiln-lower-windows' kernel, `window-rows` rows
    together) reading them. The buffer, its border fills, the im2col copy
    and a pool's window buffer go.

    With `stack-pack-kb`, threads that pack the f32 panels they multiply
    (`PARENT_gemmN` over B's columns) pack and multiply them a few at a time
    through a `memref.alloca` of at most that many KB at the function's
    entry; the pack buffer keeps only the dot-product tail, and holds just
    one panel (a last partial panel's) and that tail, and all of B's panels
    go in one call whatever its size.

    8-bit contractions, the linalg.generic `C[m, n] += sext(A[m, k]) *
    zext(B[k, n])` (i8, i8 into i32) that QLinearConv lowers to, with a
    constant A (the weights), run on the same loops four bytes of k at a
    time: A repacked at compile time into i32 words of four consecutive k
    (a global [M][ceil(K/4)]), B packed at run time into panels
    [ceil(K/4)][nr][4] of bytes, and per step of four k one 4-byte dot
    product per lane into i32 accumulators: AVX-512 VNNI's vpdpbusd with
    `int8-dot=vnni` (and a vector width of 16), two SMLADs per lane on an
    Arm M-profile core with the DSP extension (`int8-dot=smlad`), on x86
    without VNNI (`int8-dot=maddubs`, vector width 8 or 16) vpmaddubsw's
    16-bit pair sums widened and added by vpmaddwd when no pair of
    consecutive weights can saturate them (same sign, |w0| + |w1| <= 128,
    checked at compile time), otherwise widening vector multiplies and adds. The requantization after it is the
    fused epilogue.
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", /*default=*/"8", "rows per micro-kernel">,
    Option<"tileNVectors", "tile-n-vectors", "int64_t", /*default=*/"2",
           "vectors per micro-kernel row (more when there are few rows)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register">,
    Option<"vectorRegisters", "vector-registers", "int64_t", /*default=*/"32",
           "vector registers: a micro-kernel wider than the tile only if "
           "its accumulators, B vectors and A value fit">,
    Option<"packMinRows", "pack-min-rows", "int64_t", /*default=*/"128",
           "pack B only for matmuls with at least this many rows">,
    Option<"packMinRowsPlain", "pack-min-rows-plain", "int64_t",
           /*default=*/"0",
           "a plain matmul (no batch, no dot-product tail) packs B only with "
           "at least this many rows, where that is more than pack-min-rows">,
    Option<"chunkBytes", "chunk-bytes", "int64_t", /*default=*/"524288",
           "bytes of packed B per chunk (sized to stay in L2)">,
    Option<"wholeChunks", "whole-chunks", "int64_t", /*default=*/"8",
           "a B packed at run time by the threads that multiply its "
           "panels, of at most this many chunks' bytes: one call for all "
           "its panels, each packed and multiplied a chunk at a time, not "
           "a call per chunk (0: never); with stack-pack-kb, at any size">,
    Option<"wholeInPlace", "whole-in-place", "bool", /*default=*/"true",
           "a B read in place whose panels the threads share (a 1x1 "
           "convolution's input) and wider than a chunk: one call for all "
           "its panels, each thread's run a chunk at a time, not a call per "
           "chunk">,
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "run each chunk's row blocks through kiln_parallel_rows">,
    Option<"prepackWeights", "prepack-weights", "bool", /*default=*/"true",
           "pack a B that is a constant global at compile time">,
    Option<"fuseIm2col", "fuse-im2col", "bool", /*default=*/"true",
           "pack a B that an im2col copy wrote straight from the copy's "
           "input (strides up to 4), and drop the copy; that input, when "
           "a copy of a value no kernel produces (the model's input) wrote "
           "its interior, filled at its border only">,
    Option<"parallelMinFlops", "parallel-min-flops", "int64_t",
           /*default=*/"2000000",
           "run a GEMM on the threads only if a chunk is this many FLOPs">,
    Option<"parallelMinGemvFlops", "parallel-min-gemv-flops", "int64_t",
           /*default=*/"250000",
           "share a GEMV's panels (one row block) between the threads only "
           "if it is this many FLOPs (its B is then this many bytes)">,
    Option<"fuse", "fuse", "bool", /*default=*/"true",
           "fuse C's initializer and the elementwise op after (FusedEnds.h)">,
    Option<"winograd", "winograd", "bool", /*default=*/"true",
           "run stride-1 3x3 convolutions as Winograd F(m x m, 3x3)">,
    Option<"winogradStride2", "winograd-stride2", "bool", /*default=*/"true",
           "run stride-2 3x3 convolutions whose products cost no more so too "
           "(by their phases: Winograd.h)">,
    Option<"winogradTile", "winograd-tile", "int64_t", /*default=*/"0",
           "a Winograd convolution's output tile side, 2 or 4; 0: per "
           "convolution, the one whose products cost less">,
    Option<"winogradMinChannels", "winograd-min-channels", "int64_t",
           /*default=*/"16",
           "the fewest input and output channels of a Winograd convolution">,
    Option<"winogradMinTiles", "winograd-min-tiles", "int64_t",
           /*default=*/"16",
           "the fewest 2x2 output tiles of a Winograd convolution">,
    Option<"prefetchBytes", "prefetch-bytes", "int64_t", /*default=*/"4096",
           "how far ahead a micro-kernel prefetches weights packed into row "
           "blocks (Winograd's); 0: no prefetches">,
    Option<"moveBorders", "move-borders", "bool", /*default=*/"true",
           "write a Winograd convolution's padded input's borders in its "
           "input transform, for each piece's planes, instead of the fills "
           "before the layer that writes the interior">,
    Option<"dotTail", "dot-tail", "bool", /*default=*/"true",
           "a GEMM's last columns, fewer than a vector, as dot products "
           "along k instead of a vector of idle lanes (f32: where B is "
           "packed at run time, and Winograd's products)">,
    Option<"int8Dot", "int8-dot", "std::string", /*default=*/"\"\"",
           "the 8-bit dot-product instruction: vnni (AVX-512 VNNI's "
           "vpdpbusd), maddubs (x86's vpmaddubsw + vpmaddwd), smlad (Arm's "
           "DSP extension), or none (widening multiplies)">,
    Option<"splitK", "split-k", "bool", /*default=*/"false",
           "on two threads (tested when the model runs), a GEMM of a "
           "constant A with a bias, at most half as many rows as k and B "
           "read or packed at run time (a 1x1 convolution that reduces "
           "channels) runs as two halves of k, a thread each into a "
           "partial C of its own, then their sum with the bias and the "
           "epilogue on the threads by rows">,
    Option<"packA", "pack-a", "bool", /*default=*/"false",
           "pack a constant A (a layer's weights) into row blocks of "
           "tile-m rows at compile time, prefetched as the micro-kernel "
           "runs (as Winograd's products are)">,
    Option<"blendStores", "blend-stores", "bool", /*default=*/"false",
           "store a vector across the lines of a padded output as loads, "
           "selects and stores, not masked stores (slow on AMD's Zen 1-3)">,
    Option<"fuseDepthwise", "fuse-depthwise", "int64_t", /*default=*/"0",
           "a convolution whose output only a depthwise convolution (its "
           "padded output) or a max pool reads: both in one kernel, a band "
           "of output rows at a time, the band's input rows in a buffer of "
           "at most this many KB on the stack (0: not fused)">,
    Option<"windowRows", "window-rows", "int64_t", /*default=*/"1",
           "with fuse-depthwise: kiln-lower-windows' rows">,
    Option<"stackPackKB", "stack-pack-kb", "int64_t", /*default=*/"0",
           "threads that pack the f32 panels of B they multiply do so into "
           "a buffer of at most this many KB on their stack, a few panels "
           "at a time, instead of into the pack buffer (0: the pack "
           "buffer)">,
    Option<"winogradBlockTiles", "winograd-block-tiles", "int64_t",
           /*default=*/"0",
           "on two or more threads (tested when the model runs), a Winograd "
           "convolution of more than a quarter vector of tile columns runs "
           "by blocks of whole tile rows of about this many tiles, each "
           "block's transforms and products on one thread with V and M on "
           "its stack (0: by products)">,
    Option<"winogradBlockKB", "winograd-block-kb", "int64_t",
           /*default=*/"160",
           "with winograd-block-tiles: the most KB of a block's V">,
    Option<"winogradSpanTiles", "winograd-span-tiles", "int64_t",
           /*default=*/"0",
           "a Winograd convolution of more than a quarter vector of tile "
           "columns that winograd-block-tiles leaves, in two or more spans "
           "of whole tile rows of about this many tiles, runs on as many "
           "threads as spans (tested when the model runs) a span a thread: "
           "its input transform, products and output transform, each a call "
           "whose units are the spans' channels, elements or output "
           "channels, its V and M in the workspace (0: by products)">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
    "mlir::func::FuncDialect", "mlir::LLVM::LLVMDialect"
  ];
}

def LowerReductions : Pass<"kiln-lower-reductions", "mlir::ModuleOp"> {
  let summary = "Reduce rows of f32 memrefs in vector registers";
  let description = [{
    Before: linalg.generic ops on static f32 memrefs whose reductions are
    their innermost loops, read along contiguous memory (Softmax's and
    LayerNorm's sums and maxima, ReduceMean over the last axes,
    GlobalAveragePool), with a body of lane-wise ops ending in an addf,
    mulf, maximumf, minimumf, maxnumf or minnumf into the output. After:
    scf loops over the other dims and, per row (the reduced dims as one,
    through a collapse_shape), `vector-width`-lane loads feeding up to four
    independent vector accumulators (the last vector masked), combined
    into one and halved down to one lane, then folded into the output
    element once. Reductions of shorter rows stay as they are.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register (a power of two)">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def LowerTransposes : Pass<"kiln-lower-transposes", "mlir::ModuleOp"> {
  let summary = "Transpose memrefs in square register tiles";
  let description = [{
    Before: linalg.transpose ops on static memrefs of 32-bit elements that
    move the innermost dimension (an attention's K^T), both innermost
    dimensions contiguous. After: scf loops over tiles of w x w elements
    (w = 8 where `vector-width` is 8 or more, 4 where it is 4), each read by
    w vector loads along the source's rows, transposed in registers by
    rounds of two-vector shuffles and written by w vector stores along the
    destination's rows; the edges that do not fill a tile stay
    linalg.transpose ops on subviews. Transposes that keep the innermost
    dimension are already contiguous both ways and stay as they are.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register">
  ];
  let dependentDialects = ["mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def LowerRunTimeChecks : Pass<"kiln-lower-run-time-checks", "mlir::ModuleOp"> {
  let summary = "Turn run-time checks into the entry function's status";
  let description = [{
    Before: the bufferized entry function (`kiln.entry`, no results) with
    `cf.assert` wherever a lowering checks a run-time input against a static
    shape. After: the asserts are gone; one stack flag collects them and the
    function returns an i32 status, 0 or 3 (KILN_ERROR_SHAPE), which `NAME_run`
    returns to its caller. Entry functions without checks return 0.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def LowerVectors : Pass<"kiln-lower-vectors", "mlir::func::FuncOp"> {
  let summary = "Hoist accumulators and lower vector.contract to FMAs";
  let description = [{
    Before: bufferized register tiles, each a vector.contract between
    transfer_read/transfer_write of the accumulator inside the K loop.
    After: the accumulator transfers are hoisted out of the loop (it is
    carried in registers as an iter_arg) and the contracts are outer products,
    ready for convert-vector-to-llvm.
  }];
  let dependentDialects = ["mlir::vector::VectorDialect",
                           "mlir::scf::SCFDialect"];
}

def VectorToLLVM : Pass<"kiln-vector-to-llvm", "mlir::ModuleOp"> {
  let summary = "convert-vector-to-llvm with the module's index width";
  let description = [{
    Before: vector ops of rank 1 on memrefs, as kiln-lower-vectors and
    convert-vector-to-scf leave them. After: LLVM dialect ops, with `index`
    `index-bitwidth` bits wide, or when that is 0 as wide as the module's
    data layout says (a DLTI entry for index; 64 bits without one), like the
    other conversions. Upstream's convert-vector-to-llvm (MLIR 19) always
    makes it 64 bits, which on a 32-bit core leaves casts between i64 and
    i32 that nothing reconciles.
  }];
  let options = [
    Option<"indexBitwidth", "index-bitwidth", "unsigned", /*default=*/"0",
           "bits of index (0: from the data layout)">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def LowerWindows : Pass<"kiln-lower-windows", "mlir::ModuleOp"> {
  let summary = "Lower f32 depthwise convolutions and 2-d pooling on memrefs "
                "to row kernels";
  let description = [{
    Before: on static f32 memrefs, linalg.generic ops marked
    `kiln.depthwise = [sh, sw, dh, dw]` (the onnx Conv lowering's depthwise
    form: the padded input [N, C, Hp, Wp], the weights [C, 1, 1, KH, KW] and
    the output [N, C, 1, OH, OW], which holds the bias), and
    linalg.pooling_nchw_max and pooling_nchw_sum (input [N, C, Hp, Wp],
    window [KH, KW], output [N, C, OH, OW] holding the initial value). After:
    scf loops over planes (image, channel) and output rows, and per row
    vectors of `vector-width` outputs that combine the whole window (with
    vector.fma, or the max or sum) before one store (the last vector masked,
    but for whole-vector reads of the input rows in the rows before a
    plane's last, and with `blend-stores` a blend there instead;
    stride 2 and more read the span and shuffle; stride 1 shifts lanes out
    of one read of the row's span, or with `tap-loads` loads each tap).
    A stride-1 f32 depthwise convolution with a fused initializer whose
    output rows are at most half a vector wide runs along each contiguous
    padded input plane as one line: output (r, c) is the line's element
    r * IW + c, each tap one load of 16 consecutive elements, and each
    vector's lanes of an output row one masked store.
    With `rows` = R, for windows of at most 3x3, a vector of each of R
    output rows is made at a time, each input row that their windows take
    read (and shuffled) once for all of them, their R accumulator chains
    side by side. The planes run through kiln_parallel_rows when `parallel`
    is set, the window has at least `parallel-min-work` output elements
    times window elements, and the operands are static memrefs.
  }];
  let options = [
    Option<"moveBorders", "move-borders", "bool", /*default=*/"true",
           "write the input's padding borders in the window's kernel, for "
           "its planes, instead of the fills before it">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register">,
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "run the planes through kiln_parallel_rows">,
    Option<"tapLoads", "tap-loads", "bool", /*default=*/"false",
           "read each tap of a stride-1 window with a load of its own (an "
           "unaligned one) rather than shifting lanes out of one read of "
           "the row, and build a stride-2 window's taps of 8 lanes within "
           "128-bit halves (the lanes in another order until the window is "
           "done): for AVX2, whose shifts across two vectors take two or "
           "three shuffles across the 128-bit halves">,
    Option<"blendStores", "blend-stores", "bool", /*default=*/"false",
           "store a row's last vector, in the rows before a plane's last, "
           "as a load, a select and a store rather than a masked store (the "
           "lanes past the row are the plane's next row, which the same "
           "thread writes later): for cores whose masked stores are slow "
           "(AMD Zen 1-3)">,
    Option<"parallelMinWork", "parallel-min-work", "int64_t",
           /*default=*/"65536",
           "the output elements times window elements below which the "
           "planes stay on the calling thread">,
    Option<"fuse", "fuse", "bool", /*default=*/"true",
           "fuse the output's initializer and the elementwise op after "
           "(FusedEnds.h)">,
    Option<"rows", "rows", "int64_t", /*default=*/"1",
           "output rows whose vectors are made together, each input row "
           "read once for all of them (windows of at most 3x3)">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
    "mlir::func::FuncDialect"
  ];
}

def FlattenConstants : Pass<"kiln-flatten-constants", "mlir::ModuleOp"> {
  let summary = "Give constant globals of arrays one flat array type";
  let description = [{
    Before: the LLVM dialect, with llvm.mlir.global ops whose type is an
    array, or arrays of arrays, of a scalar (a weight's [blocks x [k x [8 x
    float]]]) and whose value is a dense or dense_resource elements
    attribute of as many elements. After: with `bytes`, each such global
    whose elements are wider than a byte (and not a splat) is one array of
    their bytes ([4N x i8], the same data); otherwise a nested one is one
    array of all its elements ([N x float], the data reshaped to 1-d). Its
    users are unchanged: addresses are opaque pointers and each GEP names
    its own element type. Translation to LLVM IR then makes one
    ConstantDataArray per global instead of one per innermost row, and code
    generation emits bytes in one piece.
  }];
  let options = [
    Option<"bytes", "bytes", "bool", /*default=*/"true",
           "make arrays of elements wider than a byte (not splats) arrays of "
           "their bytes, in the host's byte order (code generation emits "
           "bytes in one piece and floats one by one); only where the "
           "target's byte order is the host's">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def MergeKernels : Pass<"kiln-merge-kernels", "mlir::ModuleOp"> {
  let summary = "Make a batch's per-image copies of a rows function one";
  let description = [{
    Before: the LLVM dialect, rows functions (`kiln.nodes`, eight buffers
    and x, y, begin, end) called only through kiln_parallel_rows, some of
    them copies that differ only in sites: integer constants and the
    offsets of getelementptrs of one constant index (a batched convolution
    is lowered image by image: each image's offsets into the batch's
    buffers). After: of the rows functions of one ONNX node (equal
    `kiln.nodes`) that are the same op for op but for their sites' values,
    and leave x (or x and y) unused, the first stays and every call of the
    others calls it instead. Where every site's value is a step apart from
    one copy to the next, the t-th copy's call passes t in x and the
    function computes each site as its first value plus t steps; else each
    distinct column of values (at most as many as x and y left unused) is
    passed in x, then y, as it is: in x's type (the target's index, whose
    width every value must fit), truncated or sign-extended to each
    constant's. Rows functions of different nodes stay apart (kiln-run
    --profile names each node's kernels).
  }];
  let statistics = [
    Statistic<"mergedKernels", "merged-kernels",
              "rows functions that others were merged into">,
    Statistic<"erasedKernels", "erased-kernels",
              "rows functions merged into another and erased">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def MergeRuntimeDeclarations : Pass<"kiln-merge-runtime-declarations", "mlir::ModuleOp"> {
  let summary = "Point calls of per-type runtime declarations at one symbol";
  let description = [{
    Before: the LLVM dialect with external llvm.func declarations marked
    `kiln.runtime = "NAME"` (one per memref signature, from before bare
    pointers made them alike), and calls to them. After: one private
    declaration of NAME and every such call made to it; the marked
    declarations are gone. Declarations of one NAME must have one LLVM type.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def ONNXSignless : Pass<"kiln-onnx-signless", "mlir::func::FuncOp"> {
  let summary = "Make onnx tensor types signless, keeping unsignedness as attributes";
  let description = [{
    Before: onnx ops on tensors of ui8/ui16/ui32/ui64, as ONNX types them.
    After: the same ops on signless integer tensors (what arith and linalg
    take), each op that had unsigned operands or results carrying
    `kiln.unsigned_operands` / `kiln.unsigned_results` (one bool each), which
    the lowerings read to pick unsigned division, comparison, extension and
    conversion. Constants keep their bits.
  }];
}

def OutlineKernels : Pass<"kiln-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Move the entry function's loop nests into functions of their own";
  let description = [{
    Before: the bufferized entry function (`kiln.entry`), one block of views,
    constants, linalg ops on memrefs and scf loop nests. After: runs of its
    top-level ops that have regions and no results are each in a private
    function `NAME_kernelN` marked `passthrough = ["noinline"]`, called in
    their place, so LLVM optimises many small functions instead of one whose
    loop passes take minutes. Constants, memref.get_global, views and scalar
    arithmetic they use are cloned into the kernel; other values are
    arguments, which must be static memrefs with a static strided layout
    (func-to-llvm's bare pointers) or scalars - an op needing anything else
    stays inline. Consecutive ops share a kernel up to `max-loops` loops (scf loops,
    and a linalg op's loops, which linalg-to-loops creates).
  }];
  let options = [
    Option<"maxLoops", "max-loops", "int64_t", /*default=*/"16",
           "loops a kernel may hold before the next op starts a new one; "
           "an op with more is a kernel of its own">
  ];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def ParallelizeLoops : Pass<"kiln-parallelize-loops", "mlir::ModuleOp"> {
  let summary = "Run the linalg ops left on memrefs on the runtime's threads";
  let description = [{
    Before: linalg ops with static memref operands (at most
    KILN_ROWS_BUFFERS of them) and constants, at the top level of a
    function, after the kernel passes. After: each with at least
    `parallel-min-work` iterations is a call of kiln_parallel_rows with a
    private rows function: one of its parallel loops, which every operand
    using it indexes directly, is cut into n pieces of static size (n the
    largest divisor of its range up to `max-pieces` whose pieces hold at
    least `min-piece-work` iterations), and the function runs
    pieces [begin, end) as the same op on subviews. Smaller ops, and those
    with no such loop, stay as they are; a fill of a column counts, for
    each element, the elements from one row to the next (up to a cache
    line's).
    First, a buffer filled whole and then overwritten in its interior by
    the next op (a copy or an elementwise generic) is filled only on its
    border.
  }];
  let options = [
    Option<"parallelMinWork", "parallel-min-work", "int64_t",
           /*default=*/"32768",
           "the iterations below which an op stays on the calling thread">,
    Option<"maxPieces", "max-pieces", "int64_t", /*default=*/"64",
           "the most pieces a loop is cut into">,
    Option<"minPieceWork", "min-piece-work", "int64_t", /*default=*/"4096",
           "the fewest iterations of the op a piece holds">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect", "mlir::func::FuncDialect"
  ];
}

def PlanMemory : Pass<"kiln-plan-memory", "mlir::ModuleOp"> {
  let summary = "Place every intermediate buffer in one workspace arena";
  let description = [{
    Before: bufferized functions with `memref.alloc` for intermediates.
    After: each function marked `kiln.entry` takes one more argument, an i8
    workspace of a size fixed at compile time, and every alloc is a
    `memref.view` into it at an offset chosen from buffer lifetimes (greedy by
    size, TFLM's GreedyMemoryPlanner). The function gets the attributes
    `kiln.workspace_size`, `kiln.workspace_lower_bound` (the most bytes alive
    at once) and `kiln.buffers` (offset, size, first and last use of each).
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "alignment of every buffer and of the arena, in bytes">
  ];
}

def PrepareEntryFunction : Pass<"kiln-prepare-entry-function", "mlir::ModuleOp"> {
  let summary = "Make the entry function's ABI hold through bufferization";
  let description = [{
    Before: the entry function (`kiln.entry`) on tensors. After: every input
    is marked `bufferization.writable = false` (NAME_run takes inputs as
    `const` pointers: nothing may be written into them), and every returned
    value is a fresh tensor: a result that is an input, a constant, or the
    same value as another result is copied, so each output gets its own
    out-parameter after buffer-results-to-out-params.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def UnshareFills : Pass<"kiln-unshare-fills", "mlir::func::FuncOp"> {
  let summary = "Give every user of a fill, constant broadcast or result empty its own";
  let description = [{
    Before: initializers on tensors with several users (CSE merges equal
    ones): linalg.fill ops on tensor.empty, read by any op, and generics
    that broadcast constants (a bias) into a tensor.empty, written into by
    destination-style ops, directly or through extract_slice and reshapes.
    After: the first user keeps the initializer; each other one in the same
    block gets a clone of it, of its tensor.empty and of the slices and
    reshapes in between, right before it, so that bufferization writes each
    in place instead of copying it (and the kernel passes still see a fill
    or a bias, which they fuse). The op computing a function result gets a
    tensor.empty of its own, so that empty-tensor elimination puts only it
    in the output buffer.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def AbsorbTransposes : Pass<"kiln-absorb-transposes", "mlir::func::FuncOp"> {
  let summary = "Read transposed buffers as strided views instead of copies";
  let description = [{
    Before: on buffers, a linalg.transpose that keeps the innermost
    dimension in place (attention's heads split: [1, S, H, D] to
    [1, H, S, D]), from an alloc X into an alloc Y that afterwards only
    matmuls and batch matmuls read (directly or through one
    collapse_shape). After: they read a memref.reinterpret_cast of X with
    the permuted (and collapsed) strides, the transpose is gone; where X's
    buffer is written again before the last of them, the op that wrote X
    for the transpose writes a new alloc instead.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def SliceEnds : Pass<"kiln-slice-ends", "mlir::func::FuncOp"> {
  let summary = "Give each per-image matmul of a layer its own bias and epilogue";
  let description = [{
    Before: on buffers, an alloc R filled whole from constants (the bias
    broadcast, or a fill), then two or more linalg.matmul ops that each
    write a box of R (a convolution's images, or groups: boxes that tile
    one dim of R), then an elementwise linalg.generic that reads all of R
    (through reshapes that keep that dim whole) and writes elsewhere, R
    dead after it. After: each matmul writes an alloc of its own, its slice
    of the initializer right before it and its slice of the epilogue (every
    operand cut along that dim) right after it, so that kiln-lower-matmuls
    fuses both as it does for one image. A whole fill of the buffer the
    epilogue writes into (a padded buffer) first keeps to its border.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def PadInPlace : Pass<"kiln-pad-in-place", "mlir::func::FuncOp"> {
  let summary = "Compute a padded value that other ops read too in its padded buffer";
  let description = [{
    Before: on buffers, an alloc X that elementwise generics write, then a
    linalg.copy of all of X into the interior of a padded alloc P (a
    subview: the padding that kiln-decompose-pads could not make the
    producer write in place, because other ops read X too), and linalg ops
    that read X, through subviews at most. After: every use of X is the same
    place in P's interior (a strided view), the copy is gone; a whole fill
    of P right before the copy keeps to its border. Only when nothing but
    fills of P's border and readers after the copy touch P while X is used.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def ConcatInPlace : Pass<"kiln-concat-in-place", "mlir::func::FuncOp"> {
  let summary = "Compute the parts of a concatenation in their place";
  let description = [{
    Before: a chain of tensor.insert_slice ops (static offsets) into a
    static tensor.empty in the same block, after the destination-style ops
    that compute the parts, whose inits are tensor.empty ops that other ops
    share. After: the chain's tensor.empty before the first part's op, each
    insert_slice right after its part (or the insert before it, whichever
    is later), and each part's op with a tensor.empty init of its own, so
    that empty-tensor elimination makes the parts write into their slices
    of the result instead of buffers that bufferization copies.
  }];
}

def TileAndVectorize : Pass<"kiln-tile-and-vectorize", "mlir::func::FuncOp"> {
  let summary = "Tile matmuls into register blocks and vectorise them";
  let description = [{
    Before: linalg.matmul / linalg.batch_matmul on tensors of integers (f32
    ones are kiln-lower-matmuls', after bufferization). After: scf.for
    nests whose full tiles are vector.contract ops of [mr x nr x kr] (peeled so
    that full tiles are static), and whose remainders stay as small linalg
    ops. Later lowering turns the contracts into outer-product FMAs.
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", /*default=*/"8", "rows per register tile">,
    Option<"tileN", "tile-n", "int64_t", /*default=*/"32", "columns per register tile">,
    Option<"tileK", "tile-k", "int64_t", /*default=*/"4", "reduction steps per tile">
  ];
  let dependentDialects = [
    "mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
    "mlir::affine::AffineDialect", "mlir::tensor::TensorDialect"
  ];
}

#endif // KILN_PASSES_PASSES_TD
