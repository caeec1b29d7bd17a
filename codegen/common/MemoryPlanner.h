//===- MemoryPlanner.h - Static arena planning ------------------*- C++ -*-===//
//
// This file declares the arena planner: given buffers with sizes and
// lifetimes (first and last step that touches them), it assigns each an
// offset in one arena so that buffers alive at the same step never overlap.
// It is plain C++ so that it is unit-tested without MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_MEMORYPLANNER_H
#define KILN_CODEGEN_COMMON_MEMORYPLANNER_H

#include <cstdint>
#include <vector>

namespace kiln {

/// One buffer to place: its size and the inclusive step range it is live.
struct BufferRequest {
  int64_t size = 0;
  int64_t firstUse = 0;
  int64_t lastUse = 0;
};

/// The result of planning.
struct MemoryPlan {
  std::vector<int64_t> offsets; ///< one per request, aligned
  int64_t arenaSize = 0;        ///< bytes, a multiple of the alignment
  int64_t lowerBound = 0;       ///< most aligned bytes alive at one step
};

/// Greedy by size (TFLM's GreedyMemoryPlanner): buffers are placed largest
/// first, each at the lowest aligned offset where it overlaps no placed
/// buffer whose lifetime intersects its own.
MemoryPlan planMemory(const std::vector<BufferRequest> &requests,
                      int64_t alignment);

} // namespace kiln

#endif // KILN_CODEGEN_COMMON_MEMORYPLANNER_H
