//===- ParallelRows.h - Loops that run on the runtime's threads -*- C++ -*-===//
//
// This file declares the helpers that the kernel passes (kiln-lower-matmuls,
// kiln-lower-windows) share to run a loop over [0, n) through the runtime's
// kiln_parallel_rows: the loop body becomes a private function of
// KILN_ROWS_BUFFERS memrefs (unused ones repeat the first) and four indices
// (x, y, begin, end), called through a per-signature declaration that
// kiln-merge-runtime-declarations later makes one symbol.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_PARALLELROWS_H
#define KILN_PASSES_PARALLELROWS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"

#include <optional>
#include <string>

namespace kiln {

/// True for a memref of static shape and strides, whatever its offset.
bool hasStaticStrides(mlir::Value value);

/// True for a memref that a function can take as a bare pointer: a static
/// shape, strides and offset.
bool isStaticMemRef(mlir::Value value);

/// The result position at which `map` uses loop `dim` as a plain dim, -1
/// when it does not use the dim at all, or nothing when it uses it in a
/// compound expression or more than once: how an operand is cut along a
/// loop that is split into pieces.
std::optional<int64_t> positionOf(mlir::AffineMap map, unsigned dim);

/// `mem` cut to [offset, offset + size) at dimension `position`, whole in
/// the others: the piece of a buffer that a piece of the loop touches.
mlir::Value pieceView(mlir::OpBuilder &b, mlir::Location loc, mlir::Value mem,
                      int64_t position, mlir::Value offset, int64_t size);

/// The runtime's KILN_ROWS_BUFFERS: memrefs a rows function takes.
constexpr unsigned kRowsBuffers = 8;

/// The body of a rows function, given its memrefs (as many as were asked
/// for) and its indices (x, y, begin, end); the builder is inside it, and the
/// return is added after.
using RowsBodyFn = llvm::function_ref<void(
    mlir::OpBuilder &, mlir::Location, mlir::ArrayRef<mlir::BlockArgument>,
    mlir::ArrayRef<mlir::BlockArgument>)>;

/// On a rows function: the ONNX nodes it computes (the names that `loc`
/// carries, "node 'NAME' (OP)", joined by "; "), which kilnc writes into a
/// shared library's .kiln_kernels section for kiln-run --profile.
constexpr const char *kNodesAttr = "kiln.nodes";

/// The node names `loc` carries (its NameLocs', in order, each once), joined
/// by "; "; empty when it carries none.
std::string nodesOf(mlir::Location loc);

/// Creates `PARENT_SUFFIXN`, a private noinline function beside `parent`
/// taking the memref types (at most kRowsBuffers) and four indices, marked
/// with the nodes `loc` names (kNodesAttr).
mlir::func::FuncOp createRowsFunction(mlir::func::FuncOp parent,
                                      mlir::Location loc,
                                      mlir::TypeRange memrefs,
                                      llvm::StringRef suffix, RowsBodyFn body);

/// Calls `fn` over [0, n) through the runtime's kiln_parallel_rows with the
/// memrefs (those `fn` was made for) and x, y.
void emitParallelRows(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::func::FuncOp fn, mlir::ValueRange memrefs,
                      mlir::Value x, mlir::Value y, mlir::Value n);

/// The runtime's kiln_get_num_threads() (an i32), called where `b` builds
/// inside `parent`'s module, which gets its declaration.
mlir::Value emitNumThreads(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::func::FuncOp parent);

} // namespace kiln

#endif // KILN_PASSES_PARALLELROWS_H
