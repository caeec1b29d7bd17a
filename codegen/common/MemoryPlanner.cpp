//===- MemoryPlanner.cpp - Static arena planning --------------------------===//
//
// This file implements planMemory, the greedy-by-size arena planner.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/MemoryPlanner.h"

#include <algorithm>
#include <map>
#include <numeric>

using namespace kiln;

static int64_t alignUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

MemoryPlan kiln::planMemory(const std::vector<BufferRequest> &requests,
                            int64_t alignment) {
  MemoryPlan plan;
  size_t n = requests.size();
  plan.offsets.assign(n, 0);

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return requests[a].size > requests[b].size;
  });

  std::vector<size_t> placed;
  for (size_t i : order) {
    const BufferRequest &r = requests[i];
    int64_t size = alignUp(std::max<int64_t>(r.size, 1), alignment);
    // Intervals taken by placed buffers that are alive at the same time,
    // sorted by offset; take the first gap that fits.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t j : placed) {
      const BufferRequest &o = requests[j];
      if (o.lastUse < r.firstUse || r.lastUse < o.firstUse)
        continue;
      taken.push_back(
          {plan.offsets[j],
           plan.offsets[j] + alignUp(std::max<int64_t>(o.size, 1), alignment)});
    }
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    for (auto [lo, hi] : taken) {
      if (offset + size <= lo)
        break;
      offset = std::max(offset, hi);
    }
    plan.offsets[i] = offset;
    plan.arenaSize = std::max(plan.arenaSize, offset + size);
    placed.push_back(i);
  }

  // The lower bound: the most bytes alive at any one step.
  std::map<int64_t, int64_t> delta;
  for (const BufferRequest &r : requests) {
    int64_t size = alignUp(std::max<int64_t>(r.size, 1), alignment);
    delta[r.firstUse] += size;
    delta[r.lastUse + 1] -= size;
  }
  int64_t alive = 0;
  for (auto [step, d] : delta) {
    alive += d;
    plan.lowerBound = std::max(plan.lowerBound, alive);
  }
  return plan;
}
