//===- VectorLanes.h - Masked vector loads and stores -----------*- C++ -*-===//
//
// This file defines VectorLanes, the vector accesses the kernel passes
// (kiln-lower-matmuls, kiln-lower-windows) share: 1-d vectors (f32 unless
// told otherwise) of a fixed width, of which only the first `lanes` may be
// valid at the end of a row, loaded with zeros elsewhere and stored under a
// mask.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_VECTORLANES_H
#define KILN_PASSES_VECTORLANES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>

namespace kiln {

/// True for a memref whose innermost dimension is contiguous, which vector
/// loads and stores along it need.
inline bool hasUnitInnerStride(mlir::MemRefType type) {
  llvm::SmallVector<int64_t> strides;
  int64_t offset;
  return mlir::succeeded(mlir::getStridesAndOffset(type, strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

/// A contiguous memref as one dimension.
inline mlir::Value flatten(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value mem) {
  mlir::ReassociationIndices all;
  for (int64_t d = 0; d < mlir::cast<mlir::MemRefType>(mem.getType()).getRank();
       ++d)
    all.push_back(d);
  return b.create<mlir::memref::CollapseShapeOp>(
      loc, mem, llvm::ArrayRef<mlir::ReassociationIndices>{all});
}

/// The most lines of `width` elements that `vw` consecutive elements can
/// touch when they start at a multiple of vw.
inline int64_t linesTouched(int64_t width, int64_t vw) {
  int64_t most = 1;
  for (int64_t k = 0; k < width; ++k)
    most = std::max(most, ((k * vw) % width + vw + width - 1) / width);
  return most;
}

class VectorLanes {
public:
  /// Vectors of `width` f32 lanes, or of `element` when given.
  VectorLanes(mlir::OpBuilder &b, mlir::Location loc, int64_t width,
              mlir::Type element = {})
      : b(b), loc(loc), width(width),
        element(element ? element : b.getF32Type()) {}

  mlir::VectorType type() const {
    return mlir::VectorType::get({width}, element);
  }

  /// The first `lanes` lanes set.
  mlir::Value mask(int64_t lanes) const {
    llvm::SmallVector<bool> bits(width, false);
    for (int64_t i = 0; i < lanes && i < width; ++i)
      bits[i] = true;
    auto maskType = mlir::VectorType::get({width}, b.getI1Type());
    return b.create<mlir::arith::ConstantOp>(
        loc, maskType, mlir::DenseElementsAttr::get(maskType, bits));
  }

  /// Lanes [lo, hi) set; bounds outside [0, width] clamp.
  mlir::Value range(mlir::Value lo, mlir::Value hi) const {
    auto maskType = mlir::VectorType::get({width}, b.getI1Type());
    mlir::Value upTo = b.create<mlir::vector::CreateMaskOp>(loc, maskType, hi);
    mlir::Value before =
        b.create<mlir::vector::CreateMaskOp>(loc, maskType, lo);
    mlir::Value ones = b.create<mlir::arith::ConstantOp>(
        loc, maskType, mlir::DenseElementsAttr::get(maskType, true));
    return b.create<mlir::arith::AndIOp>(
        loc, upTo, b.create<mlir::arith::XOrIOp>(loc, before, ones));
  }

  /// The lanes of `v` (a vector of this width) combined into one scalar:
  /// halves combined with `combine` until one lane is left.
  mlir::Value across(
      mlir::Value v,
      llvm::function_ref<mlir::Value(mlir::Value, mlir::Value)> combine) const {
    for (int64_t w = width; w > 1; w /= 2) {
      auto half = [&](int64_t offset) -> mlir::Value {
        return b.create<mlir::vector::ExtractStridedSliceOp>(
            loc, v, llvm::ArrayRef<int64_t>{offset},
            llvm::ArrayRef<int64_t>{w / 2}, llvm::ArrayRef<int64_t>{1});
      };
      v = combine(half(w / 2), half(0));
    }
    return b.create<mlir::vector::ExtractOp>(loc, v,
                                             llvm::ArrayRef<int64_t>{0});
  }

  mlir::Value zeros() const {
    return b.create<mlir::arith::ConstantOp>(
        loc, type(), mlir::cast<mlir::TypedAttr>(b.getZeroAttr(type())));
  }

  /// `lanes` elements at mem[indices], zeros in the other lanes.
  mlir::Value load(mlir::Value mem, mlir::ValueRange indices,
                   int64_t lanes) const {
    if (lanes >= width)
      return b.create<mlir::vector::LoadOp>(loc, type(), mem, indices);
    if (lanes <= 0)
      return zeros();
    return b.create<mlir::vector::MaskedLoadOp>(loc, type(), mem, indices,
                                                mask(lanes), zeros());
  }

  /// The first `lanes` lanes of `value` to mem[indices]; nothing for none.
  void store(mlir::Value value, mlir::Value mem, mlir::ValueRange indices,
             int64_t lanes) const {
    if (lanes >= width)
      b.create<mlir::vector::StoreOp>(loc, value, mem, indices);
    else if (lanes > 0)
      b.create<mlir::vector::MaskedStoreOp>(loc, mem, indices, mask(lanes),
                                            value);
  }

  /// As store, through the narrowest vector of a power of two lanes that
  /// holds the first `lanes` (a 128-bit one for 4): a masked store's
  /// footprint is its whole vector, masked-off lanes included, so a 64-byte
  /// one from the middle of a cache line also takes the next line, which
  /// on two threads another core may share (Winograd's V below).
  void narrowStore(mlir::Value value, mlir::Value mem, mlir::ValueRange indices,
                   int64_t lanes) const {
    int64_t w = width;
    while (w / 2 >= lanes && w > 1)
      w /= 2;
    if (w == width || lanes <= 0)
      return store(value, mem, indices, lanes);
    mlir::Value part = b.create<mlir::vector::ExtractStridedSliceOp>(
        loc, value, llvm::ArrayRef<int64_t>{0}, llvm::ArrayRef<int64_t>{w},
        llvm::ArrayRef<int64_t>{1});
    if (lanes == w) {
      b.create<mlir::vector::StoreOp>(loc, part, mem, indices);
      return;
    }
    mlir::Value count = b.create<mlir::arith::ConstantIndexOp>(loc, lanes);
    mlir::Value partMask = b.create<mlir::vector::CreateMaskOp>(
        loc, mlir::VectorType::get({w}, b.getI1Type()), count);
    b.create<mlir::vector::MaskedStoreOp>(loc, mem, indices, partMask, part);
  }

  /// The lanes of `value` in `mask` to mem[indices] as a whole vector: the
  /// other lanes load what is there and store it back (for cores whose
  /// masked stores are slow; nothing else may write those lanes meanwhile).
  void blendStore(mlir::Value value, mlir::Value mem, mlir::ValueRange indices,
                  mlir::Value mask) const {
    mlir::Value old = load(mem, indices, width);
    store(b.create<mlir::arith::SelectOp>(loc, mask, value, old), mem, indices,
          width);
  }

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
  int64_t width;
  mlir::Type element;
};

} // namespace kiln

#endif // KILN_PASSES_VECTORLANES_H
