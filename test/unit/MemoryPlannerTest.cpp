//===- MemoryPlannerTest.cpp - Tests of the arena planner -----------------===//
//
// This file tests planMemory: no two buffers alive at the same step overlap,
// dead buffers are reused, offsets are aligned, and the lower bound is the
// most bytes alive at once.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/MemoryPlanner.h"

#include <gtest/gtest.h>

#include <random>

using namespace kiln;

namespace {

/// Checks the plan's invariants for `requests`.
void expectValid(const std::vector<BufferRequest> &requests,
                 const MemoryPlan &plan, int64_t alignment) {
  ASSERT_EQ(plan.offsets.size(), requests.size());
  EXPECT_EQ(plan.arenaSize % alignment, 0);
  EXPECT_GE(plan.arenaSize, plan.lowerBound);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0) << "buffer " << i;
    EXPECT_LE(plan.offsets[i] + requests[i].size, plan.arenaSize);
    for (size_t j = i + 1; j < requests.size(); ++j) {
      const BufferRequest &a = requests[i], &b = requests[j];
      bool liveTogether = !(a.lastUse < b.firstUse || b.lastUse < a.firstUse);
      bool overlap = plan.offsets[i] < plan.offsets[j] + b.size &&
                     plan.offsets[j] < plan.offsets[i] + a.size;
      EXPECT_FALSE(liveTogether && overlap)
          << "buffers " << i << " and " << j << " overlap while both live";
    }
  }
}

TEST(MemoryPlanner, EmptyPlan) {
  MemoryPlan plan = planMemory({}, 64);
  EXPECT_EQ(plan.arenaSize, 0);
  EXPECT_EQ(plan.lowerBound, 0);
}

TEST(MemoryPlanner, ChainReusesDeadBuffers) {
  // a -> b -> c -> d: each buffer lives from its producer to its consumer.
  std::vector<BufferRequest> chain = {
      {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  MemoryPlan plan = planMemory(chain, 64);
  expectValid(chain, plan, 64);
  // Only two are ever alive together.
  EXPECT_EQ(plan.lowerBound, 2 * 1024);
  EXPECT_EQ(plan.arenaSize, 2 * 1024);
}

TEST(MemoryPlanner, AllLiveTogetherNeedTheirSum) {
  std::vector<BufferRequest> all = {{100, 0, 5}, {200, 1, 5}, {300, 2, 5}};
  MemoryPlan plan = planMemory(all, 16);
  expectValid(all, plan, 16);
  EXPECT_EQ(plan.arenaSize, 112 + 208 + 304);
  EXPECT_EQ(plan.lowerBound, plan.arenaSize);
}

TEST(MemoryPlanner, FillsAGapBetweenBuffers) {
  // A big short-lived buffer leaves a hole that a later one must reuse.
  std::vector<BufferRequest> r = {
      {4096, 0, 1}, // big, dies at 1
      {64, 0, 9},   // small, lives long
      {4096, 2, 3}, // same size as the first, after it dies
  };
  MemoryPlan plan = planMemory(r, 64);
  expectValid(r, plan, 64);
  EXPECT_EQ(plan.arenaSize, 4096 + 64);
}

TEST(MemoryPlanner, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferRequest> r;
    int n = 1 + rng() % 40;
    for (int i = 0; i < n; ++i) {
      int64_t first = rng() % 30;
      r.push_back({1 + (int64_t)(rng() % 100000), first,
                   first + (int64_t)(rng() % 10)});
    }
    MemoryPlan plan = planMemory(r, 64);
    expectValid(r, plan, 64);
  }
}

} // namespace
