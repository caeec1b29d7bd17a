//===- test/e2e/link/main.cpp - The generated artifact's contract, from C++ ===//
//
// This file is a C++17 program that links one Kiln-generated model and checks
// from C++ what main.c checks from C99: that the generated header, included
// in a C++ translation unit, declares its functions extern "C" with the
// types its macros promise, and that
//
//   (a) NAME_run with a NULL workspace returns KILN_OK and matches the
//       reference output within |a - b| <= 1e-4 + 1e-3 * |b|;
//   (b) NAME_run with a caller workspace (aligned operator new) gives output
//       bitwise identical to (a);
//   (c) a NULL input pointer returns KILN_ERROR_ARGUMENT;
//   (d) NAME_info() agrees with kiln/runtime.h and the header's macros;
//   (e) the generic info->run gives output bitwise identical to (a).
//
// At compile time it also checks (static_assert) that every SHAPE macro has
// RANK dimensions multiplying to SIZE, and that NAME_run's prototype takes
// one `const T *` per input and one `T *` per output, T the C type of the
// tensor's DTYPE, then `void *`, and returns int.
//
// Build:
//   c++ -std=c++17 -Wall -Wextra -Werror -I DIR_OF_NAME_H -I runtime/include
//       -DKILN_MODEL=small_cnn -DKILN_MODEL_HEADER='"small_cnn.h"'
//       main.cpp small_cnn.a -o test
// Run as main.c: ./test INPUT_0.bin ... OUTPUT_0.bin ... (raw little-endian).
//
//===----------------------------------------------------------------------===//

// Here the runtime header comes first (main.c includes the model's first):
// the two must work in either order.
#include "kiln/runtime.h"

#include KILN_MODEL_HEADER

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef KILN_MODEL
#error "define KILN_MODEL to the model's symbol prefix, e.g. -DKILN_MODEL=small_cnn"
#endif

#define KT_CAT_(a, b) a##b
#define KT_CAT(a, b) KT_CAT_(a, b)
#define KT_STR_(x) #x
#define KT_STR(x) KT_STR_(x)
#define KT(suffix) KT_CAT(KILN_MODEL, suffix)
#define KT_IN(i, field) KT_CAT(KT_CAT(KT(_INPUT_), i), field)
#define KT_OUT(i, field) KT_CAT(KT_CAT(KT(_OUTPUT_), i), field)

#define NUM_IN KT(_NUM_INPUTS)
#define NUM_OUT KT(_NUM_OUTPUTS)

#if NUM_IN < 1 || NUM_IN > 4 || NUM_OUT < 1 || NUM_OUT > 4
#error "this test supports models with 1 to 4 inputs and 1 to 4 outputs"
#endif

namespace {

constexpr const char *kModelName = KT_STR(KILN_MODEL);
constexpr std::size_t kNumIn = NUM_IN;
constexpr std::size_t kNumOut = NUM_OUT;
constexpr std::size_t kWorkspaceSize = KT(_WORKSPACE_SIZE);
constexpr std::size_t kWorkspaceAlign = KT(_WORKSPACE_ALIGN);

//===----------------------------------------------------------------------===//
// What the header's macros promise.
//===----------------------------------------------------------------------===//

constexpr std::size_t count(std::initializer_list<int64_t> shape) {
  return shape.size();
}
constexpr int64_t product(std::initializer_list<int64_t> shape) {
  int64_t p = 1;
  for (int64_t d : shape)
    p *= d;
  return p;
}

struct Expected {
  std::string name;
  int32_t dtype;
  int32_t rank;
  std::vector<int64_t> shape;
  int64_t numElements;
};

// Compile-time consistency of one tensor's macros, and its table row.
#define KT_TENSOR(KIND, i)                                                     \
  static_assert(count(KIND(i, _SHAPE)) == KIND(i, _RANK),                      \
                "header: a SHAPE does not have RANK dimensions");              \
  static_assert(product(KIND(i, _SHAPE)) == KIND(i, _SIZE),                    \
                "header: a SHAPE does not multiply to SIZE");
#define KT_ROW(KIND, i)                                                        \
  Expected{KIND(i, _NAME), KIND(i, _DTYPE), KIND(i, _RANK),                    \
           std::vector<int64_t> KIND(i, _SHAPE), KIND(i, _SIZE)}

KT_TENSOR(KT_IN, 0)
#if NUM_IN > 1
KT_TENSOR(KT_IN, 1)
#endif
#if NUM_IN > 2
KT_TENSOR(KT_IN, 2)
#endif
#if NUM_IN > 3
KT_TENSOR(KT_IN, 3)
#endif
KT_TENSOR(KT_OUT, 0)
#if NUM_OUT > 1
KT_TENSOR(KT_OUT, 1)
#endif
#if NUM_OUT > 2
KT_TENSOR(KT_OUT, 2)
#endif
#if NUM_OUT > 3
KT_TENSOR(KT_OUT, 3)
#endif

const std::vector<Expected> &expectedInputs() {
  static const std::vector<Expected> rows = {
      KT_ROW(KT_IN, 0),
#if NUM_IN > 1
      KT_ROW(KT_IN, 1),
#endif
#if NUM_IN > 2
      KT_ROW(KT_IN, 2),
#endif
#if NUM_IN > 3
      KT_ROW(KT_IN, 3),
#endif
  };
  return rows;
}

const std::vector<Expected> &expectedOutputs() {
  static const std::vector<Expected> rows = {
      KT_ROW(KT_OUT, 0),
#if NUM_OUT > 1
      KT_ROW(KT_OUT, 1),
#endif
#if NUM_OUT > 2
      KT_ROW(KT_OUT, 2),
#endif
#if NUM_OUT > 3
      KT_ROW(KT_OUT, 3),
#endif
  };
  return rows;
}

// The DTYPE of each NAME_run parameter but the workspace, in order.
constexpr int32_t kParamDtypes[] = {
    KT_IN(0, _DTYPE),
#if NUM_IN > 1
    KT_IN(1, _DTYPE),
#endif
#if NUM_IN > 2
    KT_IN(2, _DTYPE),
#endif
#if NUM_IN > 3
    KT_IN(3, _DTYPE),
#endif
    KT_OUT(0, _DTYPE),
#if NUM_OUT > 1
    KT_OUT(1, _DTYPE),
#endif
#if NUM_OUT > 2
    KT_OUT(2, _DTYPE),
#endif
#if NUM_OUT > 3
    KT_OUT(3, _DTYPE),
#endif
};

//===----------------------------------------------------------------------===//
// The prototype of NAME_run, checked against the macros.
//===----------------------------------------------------------------------===//

// The C type of an element of `dtype` in the ABI (bool as uint8_t, the 16-bit
// floats as uint16_t: the header may include nothing but stddef/stdint).
template <typename T> constexpr bool isTypeOf(int32_t dtype) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT:
    return std::is_same_v<T, float>;
  case KILN_DTYPE_DOUBLE:
    return std::is_same_v<T, double>;
  case KILN_DTYPE_INT8:
    return std::is_same_v<T, int8_t>;
  case KILN_DTYPE_UINT8:
  case KILN_DTYPE_BOOL:
    return std::is_same_v<T, uint8_t>;
  case KILN_DTYPE_INT16:
    return std::is_same_v<T, int16_t>;
  case KILN_DTYPE_UINT16:
  case KILN_DTYPE_FLOAT16:
  case KILN_DTYPE_BFLOAT16:
    return std::is_same_v<T, uint16_t>;
  case KILN_DTYPE_INT32:
    return std::is_same_v<T, int32_t>;
  case KILN_DTYPE_UINT32:
    return std::is_same_v<T, uint32_t>;
  case KILN_DTYPE_INT64:
    return std::is_same_v<T, int64_t>;
  case KILN_DTYPE_UINT64:
    return std::is_same_v<T, uint64_t>;
  default:
    return false;
  }
}

template <typename Fn> struct Signature;
template <typename R, typename... A> struct Signature<R (*)(A...)> {
  using Result = R;
  using Params = std::tuple<A...>;
  static constexpr std::size_t arity = sizeof...(A);
};

using RunSig = Signature<decltype(&KT(_run))>;
template <std::size_t I>
using Param = std::tuple_element_t<I, typename RunSig::Params>;

static_assert(RunSig::arity == kNumIn + kNumOut + 1,
              "NAME_run must take one pointer per input and output, then the "
              "workspace");
static_assert(std::is_same_v<RunSig::Result, int>, "NAME_run must return int");
static_assert(std::is_same_v<Param<kNumIn + kNumOut>, void *>,
              "NAME_run's last parameter must be `void *workspace`");

template <std::size_t I> constexpr bool paramMatches() {
  using P = Param<I>;
  if constexpr (!std::is_pointer_v<P>) {
    return false;
  } else {
    using T = std::remove_pointer_t<P>;
    // Inputs are `const T *`, outputs `T *`.
    if (std::is_const_v<T> != (I < kNumIn))
      return false;
    return isTypeOf<std::remove_const_t<T>>(kParamDtypes[I]);
  }
}
template <std::size_t... I>
constexpr bool allParamsMatch(std::index_sequence<I...>) {
  return (paramMatches<I>() && ...);
}
static_assert(allParamsMatch(std::make_index_sequence<kNumIn + kNumOut>()),
              "NAME_run's parameters must be `const T *` per input and `T *` "
              "per output, T the C type of the tensor's DTYPE macro");

// The header's `struct kiln_model_info;` is runtime.h's kiln_model_info.
static_assert(std::is_same_v<decltype(&KT(_info)), const kiln_model_info *(*)()>,
              "NAME_info must be `const kiln_model_info *(void)`");

// NAME_run called with untyped pointers, each cast to its parameter's type.
template <std::size_t... I>
int callRun(void *const *ptrs, void *workspace, std::index_sequence<I...>) {
  return KT(_run)(static_cast<Param<I>>(ptrs[I])..., workspace);
}
int callRun(const std::vector<void *> &in, const std::vector<void *> &out,
            void *workspace) {
  std::vector<void *> ptrs(in);
  ptrs.insert(ptrs.end(), out.begin(), out.end());
  return callRun(ptrs.data(), workspace,
                 std::make_index_sequence<kNumIn + kNumOut>());
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

int checksPassed = 0;

[[noreturn]] void fail(const std::string &what) {
  std::fflush(stdout);
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  std::exit(1);
}

void pass(const std::string &what) {
  ++checksPassed;
  std::printf("  ok   %s\n", what.c_str());
}

void expectStatus(int got, int want, const std::string &what) {
  if (got != want)
    fail(what + ": returned " + std::to_string(got) + " (" +
         kiln_status_string(got) + "), expected " + std::to_string(want) +
         " (" + kiln_status_string(want) + ")");
  pass(what);
}

std::size_t byteSize(const Expected &t) {
  return kiln_dtype_size(t.dtype) * static_cast<std::size_t>(t.numElements);
}

// A tensor's bytes; the vector's storage is aligned for any scalar type.
std::vector<unsigned char> readTensor(const char *path, std::size_t bytes,
                                      std::size_t esize) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    fail(std::string("cannot open ") + path);
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(f)),
                                  std::istreambuf_iterator<char>());
  if (data.size() != bytes)
    fail(std::string(path) + " holds " + std::to_string(data.size()) +
         " bytes, the header's shape and dtype say " + std::to_string(bytes));
  const uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  if (first != 1) // big-endian host: the files are little-endian
    for (std::size_t i = 0; i + esize <= bytes; i += esize)
      for (std::size_t j = 0; j < esize / 2; ++j)
        std::swap(data[i + j], data[i + esize - 1 - j]);
  return data;
}

void compareReference(std::size_t k, const std::vector<unsigned char> &got,
                      const std::vector<unsigned char> &want) {
  const Expected &t = expectedOutputs()[k];
  std::string what = "(a) output " + std::to_string(k) + " '" + t.name + "'";
  if (t.dtype != KILN_DTYPE_FLOAT) {
    if (got != want)
      fail(what + " differs from the reference");
    pass(what + " (" + kiln_dtype_name(t.dtype) +
         ") equals the reference exactly");
    return;
  }
  std::vector<float> a(static_cast<std::size_t>(t.numElements)),
      b(static_cast<std::size_t>(t.numElements));
  std::memcpy(a.data(), got.data(), got.size());
  std::memcpy(b.data(), want.data(), want.size());
  double maxAbs = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    bool ok = std::isnan(b[i]) ? std::isnan(a[i])
                               : a[i] == b[i] || d <= 1e-4 + 1e-3 * std::fabs(b[i]);
    if (!ok) {
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    " index %zu: got %.9g, expected %.9g (|diff| %.3g)", i,
                    static_cast<double>(a[i]), static_cast<double>(b[i]), d);
      fail(what + buf);
    }
    if (!std::isnan(d) && d > maxAbs)
      maxAbs = d;
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, " (%zu floats) matches, max abs err %.3g",
                a.size(), maxAbs);
  pass(what + buf);
}

struct AlignedDelete {
  std::size_t align;
  void operator()(unsigned char *p) const {
    ::operator delete(p, std::align_val_t(align));
  }
};

} // namespace

int main(int argc, char **argv) {
  std::printf("kiln link test (C++17): model '%s' from %s, %zu input(s), %zu "
              "output(s), workspace %zu bytes aligned to %zu\n",
              kModelName, KILN_MODEL_HEADER, kNumIn, kNumOut, kWorkspaceSize,
              kWorkspaceAlign);
  if (argc != static_cast<int>(1 + kNumIn + kNumOut)) {
    std::fprintf(stderr, "usage: %s INPUT_0.bin.. OUTPUT_0.bin.. (%zu inputs, "
                         "%zu outputs, raw little-endian)\n",
                 argv[0], kNumIn, kNumOut);
    return 1;
  }
  pass("compile time: SHAPE/RANK/SIZE macros agree; NAME_run and NAME_info "
       "have the promised C types");

  std::vector<std::vector<unsigned char>> inputs, reference, outA, out;
  std::vector<void *> inPtrs, outAPtrs, outPtrs;
  for (std::size_t i = 0; i < kNumIn; ++i) {
    const Expected &t = expectedInputs()[i];
    inputs.push_back(
        readTensor(argv[1 + i], byteSize(t), kiln_dtype_size(t.dtype)));
  }
  for (std::size_t k = 0; k < kNumOut; ++k) {
    const Expected &t = expectedOutputs()[k];
    reference.push_back(readTensor(argv[1 + kNumIn + k], byteSize(t),
                                   kiln_dtype_size(t.dtype)));
    outA.emplace_back(byteSize(t), 0xFF);
    out.emplace_back(byteSize(t), 0xFF);
  }
  for (auto &v : inputs)
    inPtrs.push_back(v.data());
  for (auto &v : outA)
    outAPtrs.push_back(v.data());
  for (auto &v : out)
    outPtrs.push_back(v.data());
  const std::string run = KT_STR(KT(_run));

  // (a)
  expectStatus(callRun(inPtrs, outAPtrs, nullptr), KILN_OK,
               "(a) " + run + "(..., nullptr) returns KILN_OK");
  for (std::size_t k = 0; k < kNumOut; ++k)
    compareReference(k, outA[k], reference[k]);

  // (b)
  std::unique_ptr<unsigned char, AlignedDelete> ws(
      static_cast<unsigned char *>(::operator new(
          kWorkspaceSize ? kWorkspaceSize : 1, std::align_val_t(kWorkspaceAlign))),
      AlignedDelete{kWorkspaceAlign});
  std::memset(ws.get(), 0xFF, kWorkspaceSize);
  expectStatus(callRun(inPtrs, outPtrs, ws.get()), KILN_OK,
               "(b) " + run + "(..., workspace) returns KILN_OK");
  if (out != outA)
    fail("(b) output with a caller workspace differs bitwise from (a)");
  pass("(b) output with a caller workspace is bitwise identical to (a)");

  // (c)
  std::vector<void *> nullIn(inPtrs);
  nullIn[0] = nullptr;
  expectStatus(callRun(nullIn, outPtrs, nullptr), KILN_ERROR_ARGUMENT,
               "(c) a NULL input returns KILN_ERROR_ARGUMENT");

  // (d)
  const kiln_model_info *info = KT(_info)();
  if (!info)
    fail("(d) NAME_info() returned NULL");
  if (info->abi_version != KILN_ABI_VERSION)
    fail("(d) info->abi_version is " + std::to_string(info->abi_version) +
         ", KILN_ABI_VERSION is " + std::to_string(KILN_ABI_VERSION));
  if (info->struct_size < sizeof(kiln_model_info))
    fail("(d) info->struct_size " + std::to_string(info->struct_size) +
         " < sizeof(kiln_model_info) " +
         std::to_string(sizeof(kiln_model_info)));
  pass("(d) info->abi_version and struct_size agree with kiln/runtime.h");
  if (!info->name || std::string(info->name) != kModelName)
    fail(std::string("(d) info->name is \"") +
         (info->name ? info->name : "(null)") + "\", expected \"" +
         kModelName + "\"");
  if (info->num_inputs != kNumIn || info->num_outputs != kNumOut)
    fail("(d) info has " + std::to_string(info->num_inputs) + " inputs and " +
         std::to_string(info->num_outputs) + " outputs, the header " +
         std::to_string(kNumIn) + " and " + std::to_string(kNumOut));
  if (info->workspace_size != kWorkspaceSize ||
      info->workspace_align != kWorkspaceAlign)
    fail("(d) info workspace is " + std::to_string(info->workspace_size) +
         " bytes aligned to " + std::to_string(info->workspace_align) +
         ", the header says " + std::to_string(kWorkspaceSize) +
         " aligned to " + std::to_string(kWorkspaceAlign));
  if (info->weights_size != static_cast<uint64_t>(KT(_WEIGHTS_SIZE)))
    fail("(d) info->weights_size " + std::to_string(info->weights_size) +
         " != NAME_WEIGHTS_SIZE " + std::to_string(KT(_WEIGHTS_SIZE)));
  pass("(d) info name, counts, workspace and weights sizes match the header");
  if (!info->inputs || !info->outputs || !info->run)
    fail("(d) info->inputs, outputs or run is NULL");
  for (std::size_t k = 0; k < kNumIn + kNumOut; ++k) {
    bool isIn = k < kNumIn;
    std::size_t idx = isIn ? k : k - kNumIn;
    const Expected &e = isIn ? expectedInputs()[idx] : expectedOutputs()[idx];
    const kiln_tensor_info &t = isIn ? info->inputs[idx] : info->outputs[idx];
    std::string what = std::string("(d) info ") + (isIn ? "input " : "output ") +
                       std::to_string(idx) + " '" + e.name + "'";
    if (!t.name || e.name != t.name)
      fail(what + ": name is \"" + (t.name ? t.name : "(null)") + "\"");
    if (t.dtype != e.dtype || t.rank != e.rank ||
        t.num_elements != e.numElements)
      fail(what + ": dtype " + std::to_string(t.dtype) + " rank " +
           std::to_string(t.rank) + " num_elements " +
           std::to_string(t.num_elements) + ", the header says " +
           std::to_string(e.dtype) + ", " + std::to_string(e.rank) + ", " +
           std::to_string(e.numElements));
    if (t.rank > 0 &&
        (!t.shape || std::vector<int64_t>(t.shape, t.shape + t.rank) != e.shape))
      fail(what + ": shape differs from the header's");
    pass(what + ": name, dtype, rank, shape, num_elements match the header");
  }

  // (e)
  for (auto &v : out)
    std::fill(v.begin(), v.end(), 0xFF);
  expectStatus(info->run(inPtrs.data(), outPtrs.data(), nullptr), KILN_OK,
               "(e) info->run(inputs, outputs, nullptr) returns KILN_OK");
  if (out != outA)
    fail("(e) info->run output differs bitwise from " + run);
  pass("(e) info->run output is bitwise identical to (a)");
  expectStatus(info->run(nullIn.data(), outPtrs.data(), nullptr),
               KILN_ERROR_ARGUMENT,
               "(e) info->run with a NULL input returns KILN_ERROR_ARGUMENT");

  std::printf("PASS: %d checks\n", checksPassed);
  return 0;
}
