//===- RuntimeTest.cpp - Tests for the Kiln C runtime ---------------------===//
//
// This file implements unit tests for runtime/src/Runtime.c: element sizes
// and names for every kiln_dtype, the status-code messages, and the default
// (weak) allocation and error hooks of a hosted build; and how
// runtime/src/Threads.c's kiln_parallel_rows cuts a loop over its threads.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <time.h>
#include <utility>
#include <vector>

namespace {

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

TEST(RuntimeDtype, Sizes) {
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_FLOAT), 4u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_UINT8), 1u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_INT8), 1u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_UINT16), 2u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_INT16), 2u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_INT32), 4u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_INT64), 8u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_BOOL), 1u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_FLOAT16), 2u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_DOUBLE), 8u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_UINT32), 4u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_UINT64), 8u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_BFLOAT16), 2u);
}

TEST(RuntimeDtype, StringsAreKilnStrings) {
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_STRING), sizeof(kiln_string));
}

TEST(RuntimeStrings, SlotsRoundTrip) {
  const char hello[] = "hello";
  kiln_string in[3] = {{hello, 5}, {"", 0}, {"ab\0cd", 5}};
  uint8_t slots[3 * 8];
  ASSERT_EQ(kiln_strings_to_slots(in, 3, slots, 8), KILN_OK);
  EXPECT_EQ(slots[5], 0); // NUL-padded
  kiln_string out[3];
  kiln_slots_to_strings(slots, 3, 8, out);
  EXPECT_EQ(std::string(out[0].data, out[0].size), "hello");
  EXPECT_EQ(out[1].size, 0u);
  EXPECT_EQ(std::string(out[2].data, out[2].size), "ab"); // up to the NUL
  kiln_string tooLong[1] = {{"123456789", 9}};
  EXPECT_EQ(kiln_strings_to_slots(tooLong, 1, slots, 8), KILN_ERROR_SHAPE);
  kiln_string exact[1] = {{"12345678", 8}};
  EXPECT_EQ(kiln_strings_to_slots(exact, 1, slots, 8), KILN_OK);
}

extern "C" uint8_t kiln_format_f64_string(double, int32_t, int32_t);

/// The string kiln_format_f64_string gives `v` with `digits` digits.
static std::string formatted(double v, int digits) {
  std::string text;
  for (int32_t i = 0; i < 40; ++i) {
    uint8_t c = kiln_format_f64_string(v, digits, i);
    if (!c)
      break;
    text += (char)c;
  }
  return text;
}

TEST(RuntimeStrings, FormatsNumbersAsNumpyStr) {
  // numpy 1.24's str(np.float32(v)) and str(np.float64(v)).
  struct Case {
    double value;
    const char *f32, *f64;
  } cases[] = {{1234.0, "1234.0", "1234.0"},
               {1e-5, "1e-05", "1e-05"},
               {0.1, "0.1", "0.1"},
               {1.5e16, "1.5e+16", "1.5e+16"},
               {-0.0, "-0.0", "-0.0"},
               {100.0, "100.0", "100.0"},
               {0.0001, "1e-04", "0.0001"},
               {123456789.0, "123456790.0", "123456789.0"},
               {3.4028235e38, "3.4028235e+38", "3.4028235e+38"},
               {0.5, "0.5", "0.5"}};
  for (const Case &c : cases) {
    EXPECT_EQ(formatted((double)(float)c.value, 9), c.f32) << c.value;
    EXPECT_EQ(formatted(c.value, 17), c.f64) << c.value;
  }
  EXPECT_EQ(formatted(1.0 / 0.0, 9), "inf");
  EXPECT_EQ(formatted(-1.0 / 0.0, 9), "-inf");
  EXPECT_EQ(formatted(0.0 / 0.0, 9), "nan");
}

TEST(RuntimeDtype, SizesOfUnsizedAndUnknownAreZero) {
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_UNDEFINED), 0u);
  EXPECT_EQ(kiln_dtype_size(14), 0u); // COMPLEX64: not a Kiln type
  EXPECT_EQ(kiln_dtype_size(-1), 0u);
  EXPECT_EQ(kiln_dtype_size(1000), 0u);
}

TEST(RuntimeDtype, Names) {
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_UNDEFINED), "undefined");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_FLOAT), "float32");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_UINT8), "uint8");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_INT8), "int8");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_UINT16), "uint16");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_INT16), "int16");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_INT32), "int32");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_INT64), "int64");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_STRING), "string");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_BOOL), "bool");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_FLOAT16), "float16");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_DOUBLE), "float64");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_UINT32), "uint32");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_UINT64), "uint64");
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_BFLOAT16), "bfloat16");
  EXPECT_STREQ(kiln_dtype_name(1000), "unknown");
}

TEST(RuntimeDtype, CodesAreOnnxDataTypes) {
  // The values of onnx.TensorProto.DataType; the ABI depends on them.
  EXPECT_EQ(KILN_DTYPE_FLOAT, 1);
  EXPECT_EQ(KILN_DTYPE_INT64, 7);
  EXPECT_EQ(KILN_DTYPE_BOOL, 9);
  EXPECT_EQ(KILN_DTYPE_FLOAT16, 10);
  EXPECT_EQ(KILN_DTYPE_DOUBLE, 11);
  EXPECT_EQ(KILN_DTYPE_UINT64, 13);
  EXPECT_EQ(KILN_DTYPE_BFLOAT16, 16);
}

//===----------------------------------------------------------------------===//
// Status codes
//===----------------------------------------------------------------------===//

TEST(RuntimeStatus, Strings) {
  EXPECT_STREQ(kiln_status_string(KILN_OK), "success");
  EXPECT_STREQ(kiln_status_string(KILN_ERROR_ALLOC),
               "workspace allocation failed");
  EXPECT_STREQ(kiln_status_string(KILN_ERROR_ARGUMENT),
               "null input or output pointer, or misaligned workspace");
  EXPECT_STREQ(kiln_status_string(KILN_ERROR_SHAPE),
               "run-time shape does not match the model");
  EXPECT_STREQ(kiln_status_string(-1), "unknown status");
  EXPECT_STREQ(kiln_status_string(42), "unknown status");
}

TEST(RuntimeStatus, StringsAreDistinct) {
  const int codes[] = {KILN_OK, KILN_ERROR_ALLOC, KILN_ERROR_ARGUMENT,
                       KILN_ERROR_SHAPE};
  for (int a : codes) {
    for (int b : codes) {
      if (a != b) {
        EXPECT_STRNE(kiln_status_string(a), kiln_status_string(b));
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// ABI layout
//===----------------------------------------------------------------------===//

TEST(RuntimeAbi, StructsArePaddedToEightBytes) {
  EXPECT_EQ(sizeof(kiln_tensor_info) % 8, 0u);
  EXPECT_EQ(sizeof(kiln_model_info) % 8, 0u);
  EXPECT_EQ(sizeof(kiln_value_info) % 8, 0u);
  if (sizeof(void *) == 8) {
    EXPECT_EQ(sizeof(kiln_tensor_info), 40u);
    EXPECT_EQ(sizeof(kiln_value_info), 32u);
  }
}

//===----------------------------------------------------------------------===//
// Default hooks
//===----------------------------------------------------------------------===//

class RuntimeAllocTest : public ::testing::TestWithParam<size_t> {};

TEST_P(RuntimeAllocTest, AlignsAndIsWritable) {
  size_t align = GetParam();
  for (size_t size :
       {size_t(1), size_t(7), size_t(64), size_t(1000), size_t(1) << 20}) {
    void *ptr = kiln_alloc(size, align);
    ASSERT_NE(ptr, nullptr) << "size " << size << ", align " << align;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(ptr) % align, 0u)
        << "size " << size << ", align " << align;
    std::memset(ptr, 0xab, size);
    EXPECT_EQ(static_cast<unsigned char *>(ptr)[size - 1], 0xab);
    kiln_free(ptr);
  }
}

INSTANTIATE_TEST_SUITE_P(Alignments, RuntimeAllocTest,
                         ::testing::Values(1, 2, 4, 8, 16, 32, 64, 128, 256,
                                           4096, 65536));

TEST(RuntimeAlloc, ZeroSizeGivesAUniquePointer) {
  void *a = kiln_alloc(0, 64);
  void *b = kiln_alloc(0, 64);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  kiln_free(a);
  kiln_free(b);
}

TEST(RuntimeAlloc, NonPowerOfTwoAlignmentFails) {
  EXPECT_EQ(kiln_alloc(16, 0), nullptr);
  EXPECT_EQ(kiln_alloc(16, 3), nullptr);
  EXPECT_EQ(kiln_alloc(16, 48), nullptr);
}

TEST(RuntimeAlloc, FreeNullIsSafe) { kiln_free(nullptr); }

// On Linux with transparent huge pages on request (THP "madvise" or
// "always"), a workspace's whole 2 MB pages are marked for them: the kernel
// reports the mapping of the first such page THPeligible. Asked for 2 MB
// alignment (kiln-run's buffers of megabytes), the block has it.
static bool thpEligible(uintptr_t at, std::string &line) {
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long lo, hi;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2) {
      inside = lo <= at && at < hi;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0)
      return line.find('1') != std::string::npos;
  }
  line = "no THPeligible line";
  return false;
}

TEST(RuntimeAlloc, WholeHugePagesMarked) {
  const size_t huge = KILN_HUGE_PAGE_BYTES, mb = size_t(1) << 20;
  void *ptr = kiln_alloc(5 * mb, 64);
  void *aligned = kiln_alloc(3 * mb, huge);
  ASSERT_NE(ptr, nullptr);
  ASSERT_NE(aligned, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ptr) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % huge, 0u);
  std::memset(ptr, 1, 5 * mb);
  std::memset(aligned, 1, 3 * mb);
  std::string modes;
#ifdef __linux__
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::getline(mode, modes);
  bool thp = !modes.empty() && modes.find("[never]") == std::string::npos;
#else
  bool thp = false;
#endif
  if (thp) {
    // 5 MB hold a whole 2 MB page wherever they start.
    uintptr_t first =
        (reinterpret_cast<uintptr_t>(ptr) + huge - 1) & ~uintptr_t(huge - 1);
    std::string line;
    EXPECT_TRUE(thpEligible(first, line)) << line;
    EXPECT_TRUE(thpEligible(reinterpret_cast<uintptr_t>(aligned), line))
        << line;
  }
  kiln_free(ptr);
  kiln_free(aligned);
  if (!thp)
    GTEST_SKIP() << "no transparent huge pages on request here: " << modes;
}

TEST(RuntimeError, WritesOneLineToStderr) {
  ::testing::internal::CaptureStderr();
  kiln_error("model failed");
  kiln_error("already terminated\n");
  kiln_error(nullptr);
  std::string text = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(text, "model failed\nalready terminated\n");
}

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

/// What one kiln_parallel_rows call did: each row's runs, the pieces.
struct RowsRecord {
  std::vector<std::atomic<int>> runs;
  std::mutex lock;
  std::vector<std::pair<int64_t, int64_t>> pieces;
  std::atomic<bool> badArguments{false};
  explicit RowsRecord(int64_t n) : runs(n) {}
};

char argumentMarks[8];

void recordRows(void *b0, void *b1, void *b2, void *b3, void *b4, void *b5,
                void *b6, void *b7, int64_t x, int64_t y, int64_t begin,
                int64_t end) {
  auto *record = static_cast<RowsRecord *>(b0);
  void *rest[] = {b1, b2, b3, b4, b5, b6, b7};
  for (int i = 0; i < 7; ++i)
    if (rest[i] != &argumentMarks[i + 1])
      record->badArguments = true;
  if (x != 11 || y != -7)
    record->badArguments = true;
  for (int64_t row = begin; row < end; ++row)
    ++record->runs[row];
  std::lock_guard<std::mutex> guard(record->lock);
  record->pieces.emplace_back(begin, end);
}

class RuntimeThreadsTest : public ::testing::TestWithParam<int> {
protected:
  void TearDown() override { kiln_set_num_threads(1); }
};

// Every row of [0, n) runs exactly once, in pieces, with the
// call's arguments, whatever n (past the ranges' 16 bits too) and the
// thread count; and the pieces are few: each half of what is left of its
// thread's range, at least 1/16 of a thread's even share, and what a
// thread takes from another's range as one piece where it is little, so
// about a dozen for two threads however long the loop (a piece per row
// would cost a call each).
TEST_P(RuntimeThreadsTest, EveryRowRunsOnceInFewPieces) {
  int threads = GetParam();
  ASSERT_EQ(kiln_set_num_threads(threads), threads);
  for (int64_t n :
       {0, 1, 2, 3, 7, 17, 151, 4096, 65535, 65536, 70001, 200000}) {
    for (int repeat = 0; repeat < 3; ++repeat) {
      RowsRecord record(n);
      kiln_parallel_rows(recordRows, &record, &argumentMarks[1],
                         &argumentMarks[2], &argumentMarks[3],
                         &argumentMarks[4], &argumentMarks[5],
                         &argumentMarks[6], &argumentMarks[7], 11, -7, n);
      EXPECT_FALSE(record.badArguments) << "n " << n;
      int64_t wrong = 0;
      for (int64_t row = 0; row < n; ++row)
        wrong += record.runs[row] != 1;
      EXPECT_EQ(wrong, 0) << "rows not run exactly once, n " << n;
      // (n = 0 may make one empty call, as a loop of one thread would.)
      for (auto [begin, end] : record.pieces)
        if (n > 0)
          EXPECT_LT(begin, end) << "an empty piece, n " << n;
      size_t most = std::max<int64_t>(1, std::min<int64_t>(n, 10 * threads));
      EXPECT_LE(record.pieces.size(), most)
          << "n " << n << ", " << threads << " threads";
      if (threads == 1 && n > 0)
        EXPECT_EQ(record.pieces.size(), 1u) << "one thread: one piece";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Counts, RuntimeThreadsTest,
                         ::testing::Values(1, 2, 3, 4));

// A loop body that takes about a microsecond a row.
void spinRows(void *, void *, void *, void *, void *, void *, void *, void *,
              int64_t, int64_t, int64_t begin, int64_t end) {
  auto now = [] {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  };
  int64_t until = now() + (end - begin) * 1000;
  while (now() < until) {
  }
}

struct BusyRecord {
  int calls = 0;
  uint64_t callNs = 0, busyNs = 0;
};

void recordBusy(void *user, kiln_rows_fn, int64_t, uint64_t beginNs,
                uint64_t endNs, int64_t) {
  auto *record = static_cast<BusyRecord *>(user);
  ++record->calls;
  record->callNs += endNs - beginNs;
  record->busyNs += kiln_profile_busy_ns();
}

// Inside the profiler's call, kiln_profile_busy_ns is the threads' time in
// the body, summed: at least the rows' time (a microsecond each), at most
// the threads' time in the call; 0 outside one.
TEST_P(RuntimeThreadsTest, ProfilerIsToldTheThreadsBusyTime) {
  int threads = GetParam();
  ASSERT_EQ(kiln_set_num_threads(threads), threads);
  BusyRecord record;
  kiln_set_profiler(recordBusy, &record);
  constexpr int64_t kRows = 2000;
  for (int repeat = 0; repeat < 3; ++repeat)
    kiln_parallel_rows(spinRows, nullptr, nullptr, nullptr, nullptr, nullptr,
                       nullptr, nullptr, nullptr, 0, 0, kRows);
  kiln_set_profiler(nullptr, nullptr);
  EXPECT_EQ(record.calls, 3);
  EXPECT_GE(record.busyNs, 3u * kRows * 1000);
  EXPECT_LE(record.busyNs, static_cast<uint64_t>(threads) * record.callNs);
  EXPECT_EQ(kiln_profile_busy_ns(), 0u);
}

} // namespace
