//===- Evaluator.cpp - ONNX ops evaluated on known tensors ----------------===//
//
// This file implements kiln::eval::evaluate. Every op reads its inputs
// through Tensor's typed accessors and writes a new Tensor; data movement
// (Transpose, Slice, Expand, Gather, Concat...) copies element bytes and so
// works for every element type. Float arithmetic on float32 is done in float,
// so a folded value is the one the compiled model would compute.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/Evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <set>

using namespace kiln::eval;

namespace kiln::eval {
Attributes::~Attributes() = default;
} // namespace kiln::eval

//===----------------------------------------------------------------------===//
// Element types and access
//===----------------------------------------------------------------------===//

size_t kiln::eval::elementSize(int32_t type) {
  switch (type) {
  case kUInt8:
  case kInt8:
  case kBool:
    return 1;
  case kUInt16:
  case kInt16:
  case kFloat16:
  case kBFloat16:
    return 2;
  case kFloat:
  case kInt32:
  case kUInt32:
    return 4;
  case kInt64:
  case kDouble:
  case kUInt64:
    return 8;
  default:
    return 0;
  }
}

bool kiln::eval::isFloatType(int32_t type) {
  return type == kFloat || type == kDouble || type == kFloat16 ||
         type == kBFloat16;
}

int64_t kiln::eval::numElements(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return -1;
    n *= d;
  }
  return n;
}

namespace {

float halfToFloat(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
    }
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = (bits >> 16) & 0x8000;
  uint32_t abs = bits & 0x7fffffff;
  if (abs >= 0x7f800000) // inf or nan
    return sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0);
  if (abs >= 0x477ff000) // rounds to at least 65520: inf
    return sign | 0x7c00;
  if (abs < 0x38800000) { // below the smallest normal half: subnormal
    // Adding 0.5 makes the float's mantissa hold the half's subnormal bits
    // after round-to-nearest-even.
    float scaled;
    std::memcpy(&scaled, &abs, 4);
    scaled += 0.5f;
    uint32_t s;
    std::memcpy(&s, &scaled, 4);
    return sign | (uint16_t)(s - 0x3f000000);
  }
  uint32_t odd = (abs >> 13) & 1;
  abs += 0xc8000fff + odd; // rebias the exponent and round to nearest even
  return sign | (uint16_t)(abs >> 13);
}

float bf16ToFloat(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000)
    return (bits >> 16) | 0x40; // quiet nan
  bits += 0x7fff + ((bits >> 16) & 1);
  return bits >> 16;
}

template <typename T> T load(const Tensor &t, int64_t i) {
  T v;
  std::memcpy(&v, t.bytes.data() + i * sizeof(T), sizeof(T));
  return v;
}

template <typename T> void store(Tensor &t, int64_t i, T v) {
  std::memcpy(t.bytes.data() + i * sizeof(T), &v, sizeof(T));
}

} // namespace

Tensor Tensor::zeros(int32_t type, std::vector<int64_t> dims) {
  Tensor t;
  t.type = type;
  t.bytes.assign(numElements(dims) * elementSize(type), 0);
  t.dims = std::move(dims);
  return t;
}

int64_t Tensor::size() const { return numElements(dims); }

int64_t Tensor::getInt(int64_t i) const {
  switch (type) {
  case kUInt8:
  case kBool:
    return load<uint8_t>(*this, i);
  case kInt8:
    return load<int8_t>(*this, i);
  case kUInt16:
    return load<uint16_t>(*this, i);
  case kInt16:
    return load<int16_t>(*this, i);
  case kInt32:
    return load<int32_t>(*this, i);
  case kUInt32:
    return load<uint32_t>(*this, i);
  case kInt64:
  case kUInt64:
    return load<int64_t>(*this, i);
  default:
    return (int64_t)getDouble(i);
  }
}

double Tensor::getDouble(int64_t i) const {
  switch (type) {
  case kFloat:
    return load<float>(*this, i);
  case kDouble:
    return load<double>(*this, i);
  case kFloat16:
    return halfToFloat(load<uint16_t>(*this, i));
  case kBFloat16:
    return bf16ToFloat(load<uint16_t>(*this, i));
  case kUInt64:
    return (double)load<uint64_t>(*this, i);
  default:
    return (double)getInt(i);
  }
}

void Tensor::setInt(int64_t i, int64_t v) {
  switch (type) {
  case kBool:
    return store<uint8_t>(*this, i, v != 0);
  case kUInt8:
  case kInt8:
    return store<uint8_t>(*this, i, (uint8_t)v);
  case kUInt16:
  case kInt16:
    return store<uint16_t>(*this, i, (uint16_t)v);
  case kInt32:
  case kUInt32:
    return store<uint32_t>(*this, i, (uint32_t)v);
  case kInt64:
  case kUInt64:
    return store<int64_t>(*this, i, v);
  default:
    return setDouble(i, (double)v);
  }
}

void Tensor::setDouble(int64_t i, double v) {
  switch (type) {
  case kFloat:
    return store<float>(*this, i, (float)v);
  case kDouble:
    return store<double>(*this, i, v);
  case kFloat16:
    return store<uint16_t>(*this, i, floatToHalf((float)v));
  case kBFloat16:
    return store<uint16_t>(*this, i, floatToBf16((float)v));
  case kBool:
    return store<uint8_t>(*this, i, v != 0);
  default:
    return setInt(i, (int64_t)v);
  }
}

std::vector<int64_t> Tensor::ints() const {
  std::vector<int64_t> out;
  for (int64_t i = 0, n = size(); i < n; ++i)
    out.push_back(getInt(i));
  return out;
}

namespace {

using Dims = std::vector<int64_t>;
using Result = std::optional<std::vector<Tensor>>;

Result one(Tensor t) { return std::vector<Tensor>{std::move(t)}; }

bool isIntegerType(int32_t type) {
  return elementSize(type) != 0 && !isFloatType(type) && type != kBool;
}

/// Row-major strides, in elements.
Dims stridesOf(const Dims &dims) {
  Dims strides(dims.size(), 1);
  for (int64_t i = (int64_t)dims.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

/// Normalises a possibly negative axis against `rank`; -1 if out of range.
int64_t normAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  return axis < 0 || axis >= rank ? -1 : axis;
}

/// Steps a row-major multi-index of `dims` to the next element.
void advance(Dims &index, const Dims &dims) {
  for (int64_t d = (int64_t)dims.size() - 1; d >= 0; --d) {
    if (++index[d] < dims[d])
      return;
    index[d] = 0;
  }
}

/// Calls f(o, offsets) for every element o of `outDims` in row-major order,
/// where offsets[k] = starts[k] + sum(index[d] * strides[k][d]): the walk
/// behind every strided view and broadcast.
template <typename F>
void forEachStrided(const Dims &outDims, const std::vector<Dims> &strides,
                    Dims offsets, F f) {
  int64_t n = numElements(outDims), rank = outDims.size();
  Dims index(rank, 0);
  for (int64_t o = 0; o < n; ++o) {
    f(o, offsets);
    for (int64_t d = rank - 1; d >= 0; --d) {
      for (size_t k = 0; k < strides.size(); ++k)
        offsets[k] += strides[k][d];
      if (++index[d] < outDims[d])
        break;
      for (size_t k = 0; k < strides.size(); ++k)
        offsets[k] -= strides[k][d] * outDims[d];
      index[d] = 0;
    }
  }
}

/// The elements of `in` at offset + sum(index[d] * strides[d]) for every
/// index of `outDims`, as a new tensor: Transpose, Slice, Expand are views.
Tensor strided(const Tensor &in, int64_t offset, const Dims &strides,
               const Dims &outDims) {
  Tensor out = Tensor::zeros(in.type, outDims);
  size_t width = elementSize(in.type);
  forEachStrided(outDims, {strides}, {offset}, [&](int64_t o, const Dims &src) {
    std::memcpy(out.bytes.data() + o * width, in.bytes.data() + src[0] * width,
                width);
  });
  return out;
}

/// The numpy broadcast of `shapes`, or nullopt if they do not broadcast.
std::optional<Dims> broadcastDims(const std::vector<const Dims *> &shapes) {
  size_t rank = 0;
  for (const Dims *s : shapes)
    rank = std::max(rank, s->size());
  Dims out(rank, 1);
  for (const Dims *s : shapes)
    for (size_t i = 0; i < s->size(); ++i) {
      int64_t &o = out[rank - s->size() + i];
      int64_t d = (*s)[i];
      if (d == o || d == 1)
        continue;
      if (o != 1)
        return std::nullopt;
      o = d;
    }
  return out;
}

/// Strides that read `dims` broadcast to `outDims` (0 along broadcast dims).
Dims broadcastStrides(const Dims &dims, const Dims &outDims) {
  Dims strides(outDims.size(), 0), own = stridesOf(dims);
  size_t lead = outDims.size() - dims.size();
  for (size_t i = 0; i < dims.size(); ++i)
    strides[lead + i] = dims[i] == 1 ? 0 : own[i];
  return strides;
}

/// Calls f(o, offsets) for every element o of `outDims`, the broadcast of
/// `ins`, with the element offset into each input.
template <typename F>
void forEachBroadcast(const std::vector<const Tensor *> &ins,
                      const Dims &outDims, F f) {
  std::vector<Dims> strides;
  for (const Tensor *t : ins)
    strides.push_back(broadcastStrides(t->dims, outDims));
  forEachStrided(outDims, strides, Dims(ins.size(), 0), f);
}

/// Whether a result of `dims` is a valid shape of at most `maxElements`.
bool fitsIn(const Dims &dims, int64_t maxElements) {
  int64_t n = numElements(dims);
  return n >= 0 && n <= maxElements;
}

/// Reads attribute `name`, or the input at `index` if it is given; the
/// inputs that replaced attributes in opset 13 (axes, split).
std::optional<Dims> intsFromInputOrAttribute(const std::vector<Operand> &ops,
                                             size_t index,
                                             const Attributes &attrs,
                                             const std::string &name,
                                             bool &unknown) {
  unknown = false;
  if (index < ops.size() && !ops[index].absent) {
    if (!ops[index].value) {
      unknown = true;
      return std::nullopt;
    }
    return ops[index].value->ints();
  }
  return attrs.getInts(name);
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

/// A float op computed in the precision of `type`: float for float32 (and
/// for the 16-bit floats, which round when stored), double for double.
template <typename F> double inPrecision(int32_t type, double x, F f) {
  if (type == kDouble)
    return f(x);
  return (double)f((float)x);
}

template <typename F>
double inPrecision2(int32_t type, double x, double y, F f) {
  if (type == kDouble)
    return f(x, y);
  return (double)f((float)x, (float)y);
}

std::optional<Tensor> unary(const std::string &op, const Tensor &x) {
  Tensor out = Tensor::zeros(x.type, x.dims);
  int64_t n = x.size();
  if (op == "Not") {
    if (x.type != kBool)
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, !x.getInt(i));
    return out;
  }
  if (isIntegerType(x.type) && x.type != kUInt64) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = x.getInt(i);
      if (op == "Neg")
        v = -v;
      else if (op == "Abs")
        v = v < 0 ? -v : v;
      else if (op == "Sign")
        v = (v > 0) - (v < 0);
      else if (op == "Relu")
        v = std::max<int64_t>(v, 0);
      else
        return std::nullopt;
      out.setInt(i, v);
    }
    return out;
  }
  if (!isFloatType(x.type))
    return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    double v = x.getDouble(i);
    auto apply = [&](auto f) { return inPrecision(x.type, v, f); };
    if (op == "Neg")
      v = -v;
    else if (op == "Abs")
      v = std::fabs(v);
    else if (op == "Sign")
      v = (v > 0) - (v < 0);
    else if (op == "Relu")
      v = v > 0 ? v : 0;
    else if (op == "Floor")
      v = std::floor(v);
    else if (op == "Ceil")
      v = std::ceil(v);
    else if (op == "Round")
      v = std::nearbyint(v); // halves to even, as ONNX says
    else if (op == "Sqrt")
      v = apply([](auto a) { return std::sqrt(a); });
    else if (op == "Exp")
      v = apply([](auto a) { return std::exp(a); });
    else if (op == "Log")
      v = apply([](auto a) { return std::log(a); });
    else if (op == "Reciprocal")
      v = apply([](auto a) { return decltype(a)(1) / a; });
    else
      return std::nullopt;
    out.setDouble(i, v);
  }
  return out;
}

bool isComparison(const std::string &op) {
  return op == "Equal" || op == "Less" || op == "Greater" ||
         op == "LessOrEqual" || op == "GreaterOrEqual";
}

bool isLogical(const std::string &op) {
  return op == "And" || op == "Or" || op == "Xor";
}

/// A two-input elementwise op with broadcasting.
std::optional<Tensor> binary(const std::string &op, const Attributes &attrs,
                             const Tensor &a, const Tensor &b,
                             int64_t maxElements) {
  if (a.type != b.type && op != "Pow")
    return std::nullopt;
  if (a.type == kUInt64 || b.type == kUInt64)
    return std::nullopt; // int64 arithmetic would misread the top bit
  bool logical = isLogical(op), comparison = isComparison(op);
  if (logical != (a.type == kBool) && !(comparison && a.type == kBool))
    return std::nullopt;
  int32_t resultType = logical || comparison ? (int32_t)kBool : a.type;
  bool isFloat = isFloatType(a.type);
  int64_t fmod = attrs.getInt("fmod").value_or(0);
  if (op == "Mod" && isFloat && fmod != 1)
    return std::nullopt;
  std::optional<Dims> outDims = broadcastDims({&a.dims, &b.dims});
  if (!outDims || !fitsIn(*outDims, maxElements))
    return std::nullopt;
  Tensor out = Tensor::zeros(resultType, *outDims);
  bool ok = true;
  forEachBroadcast({&a, &b}, *outDims, [&](int64_t o, const Dims &off) {
    if (!ok)
      return;
    if (logical) {
      bool x = a.getInt(off[0]), y = b.getInt(off[1]);
      out.setInt(o, op == "And" ? (x && y) : op == "Or" ? (x || y) : (x != y));
      return;
    }
    if (comparison) {
      auto compare = [&](auto x, auto y) {
        return op == "Equal"         ? x == y
               : op == "Less"        ? x < y
               : op == "Greater"     ? x > y
               : op == "LessOrEqual" ? x <= y
                                     : x >= y;
      };
      out.setInt(o, isFloat ? compare(a.getDouble(off[0]), b.getDouble(off[1]))
                            : compare(a.getInt(off[0]), b.getInt(off[1])));
      return;
    }
    if (isFloat) {
      double x = a.getDouble(off[0]), y = b.getDouble(off[1]), r;
      auto apply = [&](auto f) { return inPrecision2(a.type, x, y, f); };
      if (op == "Add")
        r = apply([](auto p, auto q) { return p + q; });
      else if (op == "Sub")
        r = apply([](auto p, auto q) { return p - q; });
      else if (op == "Mul")
        r = apply([](auto p, auto q) { return p * q; });
      else if (op == "Div")
        r = apply([](auto p, auto q) { return p / q; });
      else if (op == "Pow")
        r = apply([](auto p, auto q) { return std::pow(p, q); });
      else if (op == "Mod")
        r = apply([](auto p, auto q) { return std::fmod(p, q); });
      else if (op == "Max")
        r = std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
      else if (op == "Min")
        r = std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y);
      else {
        ok = false;
        return;
      }
      out.setDouble(o, r);
      return;
    }
    int64_t x = a.getInt(off[0]), r;
    // Pow's exponent may have another type; only a whole, non-negative
    // exponent keeps an integer power exact.
    if (op == "Pow") {
      double e = b.getDouble(off[1]);
      if (e < 0 || e != std::floor(e) || e > 64) {
        ok = false;
        return;
      }
      r = 1;
      for (int64_t k = 0; k < (int64_t)e; ++k)
        r = (int64_t)((uint64_t)r * (uint64_t)x);
      out.setInt(o, r);
      return;
    }
    int64_t y = b.getInt(off[1]);
    if (op == "Add")
      r = (int64_t)((uint64_t)x + (uint64_t)y);
    else if (op == "Sub")
      r = (int64_t)((uint64_t)x - (uint64_t)y);
    else if (op == "Mul")
      r = (int64_t)((uint64_t)x * (uint64_t)y);
    else if (op == "Max")
      r = std::max(x, y);
    else if (op == "Min")
      r = std::min(x, y);
    else if (op == "Div" || op == "Mod") {
      if (y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1)) {
        ok = false;
        return;
      }
      if (op == "Div") {
        r = x / y; // ONNX's integer Div truncates, as C does
      } else {
        r = x % y;
        // fmod=0: the result takes the divisor's sign, as Python's %.
        if (fmod == 0 && r != 0 && ((r < 0) != (y < 0)))
          r += y;
      }
    } else {
      ok = false;
      return;
    }
    out.setInt(o, r);
  });
  if (!ok)
    return std::nullopt;
  return out;
}

std::optional<Tensor> cast(const Tensor &x, int32_t to) {
  if (elementSize(to) == 0)
    return std::nullopt;
  Tensor out = Tensor::zeros(to, x.dims);
  for (int64_t i = 0, n = x.size(); i < n; ++i) {
    if (isFloatType(x.type)) {
      double v = x.getDouble(i);
      if (isFloatType(to) || to == kBool) {
        out.setDouble(i, v);
        continue;
      }
      // A float that is not a finite value of int64's range has no defined
      // integer.
      if (!std::isfinite(v) || std::fabs(v) >= 9.2e18)
        return std::nullopt;
      out.setInt(i, (int64_t)v);
    } else if (x.type == kUInt64 && isFloatType(to)) {
      out.setDouble(i, x.getDouble(i));
    } else {
      out.setInt(i, x.getInt(i));
    }
  }
  return out;
}

/// ReduceSum/Prod/Max/Min/Mean over `axes` (all when empty).
std::optional<Tensor> reduce(const std::string &op, const Tensor &x, Dims axes,
                             bool keepdims) {
  int64_t rank = x.dims.size();
  std::set<int64_t> reduced;
  for (int64_t a : axes) {
    int64_t n = normAxis(a, rank);
    if (n < 0)
      return std::nullopt;
    reduced.insert(n);
  }
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      reduced.insert(i);
  bool isFloat = isFloatType(x.type);
  if ((op == "ReduceMean" && !isFloat) || x.type == kBool || x.type == kUInt64)
    return std::nullopt;
  Dims outDims, keptDims;
  for (int64_t i = 0; i < rank; ++i) {
    if (reduced.count(i)) {
      if (keepdims)
        outDims.push_back(1);
      if (x.dims[i] == 0 && (op == "ReduceMax" || op == "ReduceMin"))
        return std::nullopt;
    } else {
      outDims.push_back(x.dims[i]);
    }
    keptDims.push_back(reduced.count(i) ? 1 : x.dims[i]);
  }
  Tensor out = Tensor::zeros(x.type, outDims);
  int64_t n = out.size();
  std::vector<double> accF(n);
  std::vector<int64_t> accI(n);
  std::vector<bool> first(n, true);
  Dims keptStrides = stridesOf(keptDims), index(rank, 0);
  int64_t count = n == 0 ? 0 : x.size() / n;
  for (int64_t i = 0, total = x.size(); i < total; ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced.count(d))
        o += index[d] * keptStrides[d];
    // The first element starts the accumulator; the others combine.
    if (isFloat) {
      double v = x.getDouble(i), &acc = accF[o];
      acc = first[o]             ? v
            : op == "ReduceProd" ? acc * v
            : op == "ReduceMax"  ? std::max(acc, v)
            : op == "ReduceMin"  ? std::min(acc, v)
                                 : acc + v; // Sum, Mean
    } else {
      int64_t v = x.getInt(i), &acc = accI[o];
      acc = first[o]             ? v
            : op == "ReduceProd" ? (int64_t)((uint64_t)acc * (uint64_t)v)
            : op == "ReduceMax"  ? std::max(acc, v)
            : op == "ReduceMin"  ? std::min(acc, v)
                                 : (int64_t)((uint64_t)acc + (uint64_t)v);
    }
    first[o] = false;
    advance(index, x.dims);
  }
  for (int64_t o = 0; o < n; ++o) {
    if (isFloat) {
      double v = first[o] ? (op == "ReduceProd" ? 1 : 0) : accF[o];
      out.setDouble(o, op == "ReduceMean" ? v / (double)count : v);
    } else {
      out.setInt(o, first[o] ? (op == "ReduceProd" ? 1 : 0) : accI[o]);
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The ops
//===----------------------------------------------------------------------===//

/// One evaluation as the op families see it: the op, its attributes and
/// operands, the known inputs (in[0] is X; null where absent), how many
/// results, and the most elements a result may have.
struct OpCall {
  const std::string &op;
  const Attributes &attrs;
  const std::vector<Operand> &ops;
  const std::vector<const Tensor *> &in;
  size_t numResults;
  int64_t maxElements;

  bool fits(const Dims &dims) const { return fitsIn(dims, maxElements); }
};

/// Elementwise ops, with broadcasting: casts, arithmetic, comparisons, logic,
/// Where, Clip, IsNaN/IsInf, BitShift.
Result elementwiseOps(const OpCall &call) {
  const auto &[op, attrs, ops, in, numResults, maxElements] = call;
  const Tensor &x = *in[0];
  [[maybe_unused]] size_t width = elementSize(x.type);
  if (op == "Identity")
    return one(x);

  if (op == "Cast" || op == "CastLike") {
    std::optional<int64_t> to = attrs.getInt("to");
    if (op == "CastLike")
      to = in.size() > 1 ? std::optional<int64_t>(in[1]->type) : std::nullopt;
    if (!to)
      return std::nullopt;
    if (auto t = cast(x, (int32_t)*to))
      return one(*t);
    return std::nullopt;
  }

  if (op == "Neg" || op == "Abs" || op == "Sign" || op == "Relu" ||
      op == "Floor" || op == "Ceil" || op == "Round" || op == "Sqrt" ||
      op == "Exp" || op == "Log" || op == "Reciprocal" || op == "Not") {
    if (auto t = unary(op, x))
      return one(*t);
    return std::nullopt;
  }

  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Mod" ||
      op == "Pow" || isComparison(op) || isLogical(op)) {
    if (in.size() != 2)
      return std::nullopt;
    if (auto t = binary(op, attrs, x, *in[1], maxElements))
      return one(*t);
    return std::nullopt;
  }

  // Variadic: folded pairwise, left to right.
  if (op == "Max" || op == "Min" || op == "Sum" || op == "Mean") {
    if (op == "Mean" && !isFloatType(x.type))
      return std::nullopt;
    Tensor acc = x;
    for (size_t i = 1; i < in.size(); ++i) {
      std::optional<Tensor> next =
          binary(op == "Sum" || op == "Mean" ? "Add" : op, attrs, acc, *in[i],
                 maxElements);
      if (!next)
        return std::nullopt;
      acc = std::move(*next);
    }
    if (op == "Mean")
      for (int64_t i = 0, n = acc.size(); i < n; ++i)
        acc.setDouble(i, inPrecision2(acc.type, acc.getDouble(i),
                                      (double)in.size(),
                                      [](auto p, auto q) { return p / q; }));
    return one(acc);
  }

  if (op == "Where") {
    if (in.size() != 3 || x.type != kBool || in[1]->type != in[2]->type)
      return std::nullopt;
    std::optional<Dims> outDims =
        broadcastDims({&x.dims, &in[1]->dims, &in[2]->dims});
    if (!outDims || !call.fits(*outDims))
      return std::nullopt;
    Tensor out = Tensor::zeros(in[1]->type, *outDims);
    size_t w = elementSize(out.type);
    const Tensor &ifTrue = *in[1], &ifFalse = *in[2];
    forEachBroadcast(in, *outDims, [&](int64_t o, const Dims &off) {
      const Tensor &src = x.getInt(off[0]) ? ifTrue : ifFalse;
      int64_t s = x.getInt(off[0]) ? off[1] : off[2];
      std::memcpy(out.bytes.data() + o * w, src.bytes.data() + s * w, w);
    });
    return one(out);
  }

  if (op == "Clip") {
    const Tensor *lo = in.size() > 1 ? in[1] : nullptr;
    const Tensor *hi = in.size() > 2 ? in[2] : nullptr;
    for (const Tensor *bound : {lo, hi})
      if (bound && (bound->type != x.type || bound->size() != 1))
        return std::nullopt;
    if (x.type == kBool || x.type == kUInt64)
      return std::nullopt;
    Tensor out = x;
    for (int64_t i = 0, n = x.size(); i < n; ++i) {
      if (isFloatType(x.type)) {
        double v = x.getDouble(i);
        if (lo)
          v = std::max(v, lo->getDouble(0));
        if (hi)
          v = std::min(v, hi->getDouble(0));
        out.setDouble(i, v);
      } else {
        int64_t v = x.getInt(i);
        if (lo)
          v = std::max(v, lo->getInt(0));
        if (hi)
          v = std::min(v, hi->getInt(0));
        out.setInt(i, v);
      }
    }
    return one(out);
  }

  if (op == "IsNaN" || op == "IsInf") {
    if (!isFloatType(x.type))
      return std::nullopt;
    bool positive = attrs.getInt("detect_positive").value_or(1) != 0;
    bool negative = attrs.getInt("detect_negative").value_or(1) != 0;
    Tensor out = Tensor::zeros(kBool, x.dims);
    for (int64_t i = 0, n = x.size(); i < n; ++i) {
      double v = x.getDouble(i);
      out.setInt(i, op == "IsNaN"
                        ? std::isnan(v)
                        : std::isinf(v) && (v > 0 ? positive : negative));
    }
    return one(out);
  }

  if (op == "BitShift") {
    std::string direction = attrs.getString("direction").value_or("");
    if (in.size() != 2 || in[1]->type != x.type ||
        (x.type != kUInt8 && x.type != kUInt16 && x.type != kUInt32 &&
         x.type != kUInt64) ||
        (direction != "LEFT" && direction != "RIGHT"))
      return std::nullopt;
    std::optional<Dims> outDims = broadcastDims({&x.dims, &in[1]->dims});
    if (!outDims || !call.fits(*outDims))
      return std::nullopt;
    Tensor out = Tensor::zeros(x.type, *outDims);
    uint64_t bits = 8 * width;
    const Tensor &amount = *in[1];
    forEachBroadcast(in, *outDims, [&](int64_t o, const Dims &off) {
      uint64_t v = (uint64_t)x.getInt(off[0]);
      if (bits < 64)
        v &= (uint64_t(1) << bits) - 1;
      uint64_t s = (uint64_t)amount.getInt(off[1]);
      v = s >= bits ? 0 : direction == "LEFT" ? v << s : v >> s;
      out.setInt(o, (int64_t)v);
    });
    return one(out);
  }
  return std::nullopt;
}

/// Ops that give one tensor a new shape or order: Reshape, Flatten,
/// Squeeze, Unsqueeze, Transpose, Expand, Tile.
Result layoutOps(const OpCall &call) {
  const auto &[op, attrs, ops, in, numResults, maxElements] = call;
  const Tensor &x = *in[0];
  [[maybe_unused]] size_t width = elementSize(x.type);
  if (op == "Reshape") {
    if (in.size() != 2)
      return std::nullopt;
    bool allowZero = attrs.getInt("allowzero").value_or(0) != 0;
    Dims shape = in[1]->ints();
    int64_t inferred = -1, known = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0 && !allowZero) {
        if (i >= x.dims.size())
          return std::nullopt;
        shape[i] = x.dims[i];
      }
      if (shape[i] == -1) {
        if (inferred >= 0)
          return std::nullopt;
        inferred = i;
      } else if (shape[i] < 0) {
        return std::nullopt;
      } else {
        known *= shape[i];
      }
    }
    if (inferred >= 0) {
      if (known == 0 || x.size() % known != 0)
        return std::nullopt;
      shape[inferred] = x.size() / known;
    }
    if (numElements(shape) != x.size())
      return std::nullopt;
    Tensor out = x;
    out.dims = shape;
    return one(out);
  }

  if (op == "Flatten") {
    int64_t rank = x.dims.size();
    int64_t axis = attrs.getInt("axis").value_or(1);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis > rank)
      return std::nullopt;
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i)
      outer *= x.dims[i];
    Tensor out = x;
    out.dims = {outer, outer == 0 ? 0 : x.size() / outer};
    return one(out);
  }

  if (op == "Squeeze" || op == "Unsqueeze") {
    bool unknown;
    std::optional<Dims> axes =
        intsFromInputOrAttribute(ops, 1, attrs, "axes", unknown);
    if (unknown)
      return std::nullopt;
    Tensor out = x;
    int64_t rank = x.dims.size();
    if (op == "Squeeze") {
      std::set<int64_t> drop;
      if (axes)
        for (int64_t a : *axes) {
          int64_t n = normAxis(a, rank);
          if (n < 0 || x.dims[n] != 1)
            return std::nullopt;
          drop.insert(n);
        }
      out.dims.clear();
      for (int64_t i = 0; i < rank; ++i)
        if (!(axes ? drop.count(i) : x.dims[i] == 1))
          out.dims.push_back(x.dims[i]);
      return one(out);
    }
    if (!axes)
      return std::nullopt;
    int64_t outRank = rank + axes->size();
    std::set<int64_t> added;
    for (int64_t a : *axes) {
      int64_t n = normAxis(a, outRank);
      if (n < 0 || !added.insert(n).second)
        return std::nullopt;
    }
    out.dims.clear();
    for (int64_t i = 0, k = 0; i < outRank; ++i)
      out.dims.push_back(added.count(i) ? 1 : x.dims[k++]);
    return one(out);
  }

  if (op == "Transpose") {
    int64_t rank = x.dims.size();
    Dims perm = attrs.getInts("perm").value_or(Dims());
    if (perm.empty())
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    if (auto t = transpose(x, perm))
      return one(*t);
    return std::nullopt;
  }

  if (op == "Expand") {
    if (in.size() != 2)
      return std::nullopt;
    Dims shape = in[1]->ints();
    std::optional<Dims> outDims = broadcastDims({&x.dims, &shape});
    if (!outDims || !call.fits(*outDims))
      return std::nullopt;
    return one(strided(x, 0, broadcastStrides(x.dims, *outDims), *outDims));
  }

  if (op == "Tile") {
    if (in.size() != 2)
      return std::nullopt;
    Dims repeats = in[1]->ints(), outDims;
    if (repeats.size() != x.dims.size())
      return std::nullopt;
    for (size_t i = 0; i < repeats.size(); ++i) {
      if (repeats[i] < 0)
        return std::nullopt;
      outDims.push_back(x.dims[i] * repeats[i]);
    }
    if (!call.fits(outDims))
      return std::nullopt;
    Tensor out = Tensor::zeros(x.type, outDims);
    Dims own = stridesOf(x.dims), index(outDims.size(), 0);
    for (int64_t o = 0, n = out.size(); o < n; ++o) {
      int64_t src = 0;
      for (size_t d = 0; d < outDims.size(); ++d)
        src += (index[d] % x.dims[d]) * own[d];
      std::memcpy(out.bytes.data() + o * width, x.bytes.data() + src * width,
                  width);
      advance(index, outDims);
    }
    return one(out);
  }
  return std::nullopt;
}

/// Ops that select, join, split or overwrite parts: Concat, Gather, Slice,
/// Split, GatherElements, ScatterElements, ScatterND, Pad.
Result indexingOps(const OpCall &call) {
  const auto &[op, attrs, ops, in, numResults, maxElements] = call;
  const Tensor &x = *in[0];
  [[maybe_unused]] size_t width = elementSize(x.type);
  if (op == "Concat") {
    std::optional<int64_t> axisAttr = attrs.getInt("axis");
    int64_t rank = x.dims.size();
    int64_t axis = axisAttr ? normAxis(*axisAttr, rank) : -1;
    if (axis < 0)
      return std::nullopt;
    Dims outDims = x.dims;
    outDims[axis] = 0;
    for (const Tensor *t : in) {
      if (t->type != x.type || (int64_t)t->dims.size() != rank)
        return std::nullopt;
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && t->dims[d] != x.dims[d])
          return std::nullopt;
      outDims[axis] += t->dims[axis];
    }
    if (!call.fits(outDims))
      return std::nullopt;
    Tensor out = Tensor::zeros(x.type, outDims);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= x.dims[d];
    uint8_t *dst = out.bytes.data();
    for (int64_t o = 0; o < outer; ++o)
      for (const Tensor *t : in) {
        size_t block = t->bytes.size() / std::max<int64_t>(outer, 1);
        std::memcpy(dst, t->bytes.data() + o * block, block);
        dst += block;
      }
    return one(out);
  }

  if (op == "Gather") {
    if (in.size() != 2 || isFloatType(in[1]->type))
      return std::nullopt;
    int64_t rank = x.dims.size();
    int64_t axis = normAxis(attrs.getInt("axis").value_or(0), rank);
    if (axis < 0)
      return std::nullopt;
    Dims outDims(x.dims.begin(), x.dims.begin() + axis);
    outDims.insert(outDims.end(), in[1]->dims.begin(), in[1]->dims.end());
    outDims.insert(outDims.end(), x.dims.begin() + axis + 1, x.dims.end());
    if (!call.fits(outDims))
      return std::nullopt;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= x.dims[d];
    for (int64_t d = axis + 1; d < rank; ++d)
      inner *= x.dims[d];
    Dims indices = in[1]->ints();
    for (int64_t &i : indices) {
      if (i < 0)
        i += x.dims[axis];
      if (i < 0 || i >= x.dims[axis])
        return std::nullopt;
    }
    Tensor out = Tensor::zeros(x.type, outDims);
    size_t block = inner * width;
    uint8_t *dst = out.bytes.data();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : indices) {
        std::memcpy(dst,
                    x.bytes.data() + ((o * x.dims[axis] + i) * inner) * width,
                    block);
        dst += block;
      }
    return one(out);
  }

  if (op == "Slice") {
    if (in.size() < 3)
      return std::nullopt;
    int64_t rank = x.dims.size();
    Dims starts = in[1]->ints(), ends = in[2]->ints(), axes, steps;
    if (in.size() > 3 && !ops[3].absent)
      axes = in[3]->ints();
    else
      for (int64_t i = 0; i < (int64_t)starts.size(); ++i)
        axes.push_back(i);
    if (in.size() > 4 && !ops[4].absent)
      steps = in[4]->ints();
    else
      steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
      return std::nullopt;
    Dims own = stridesOf(x.dims), outDims = x.dims, strides = own;
    int64_t offset = 0;
    std::set<int64_t> seen;
    for (size_t k = 0; k < starts.size(); ++k) {
      int64_t a = normAxis(axes[k], rank);
      if (a < 0 || !seen.insert(a).second || steps[k] == 0)
        return std::nullopt;
      int64_t dim = x.dims[a], step = steps[k];
      int64_t start = starts[k], end = ends[k];
      if (start < 0)
        start += dim;
      if (end < 0)
        end += dim;
      int64_t count;
      if (step > 0) {
        start = std::clamp<int64_t>(start, 0, dim);
        end = std::clamp<int64_t>(end, 0, dim);
        count = end > start ? (end - start + step - 1) / step : 0;
      } else {
        start = std::clamp<int64_t>(start, 0, dim - 1);
        end = std::clamp<int64_t>(end, -1, dim - 1);
        count = start > end ? (start - end - step - 1) / -step : 0;
      }
      outDims[a] = count;
      strides[a] = own[a] * step;
      if (count > 0)
        offset += start * own[a];
    }
    if (!call.fits(outDims))
      return std::nullopt;
    return one(strided(x, offset, strides, outDims));
  }

  if (op == "Split") {
    int64_t rank = x.dims.size();
    int64_t axis = normAxis(attrs.getInt("axis").value_or(0), rank);
    if (axis < 0 || numResults == 0)
      return std::nullopt;
    bool unknown;
    std::optional<Dims> split =
        intsFromInputOrAttribute(ops, 1, attrs, "split", unknown);
    if (unknown)
      return std::nullopt;
    Dims sizes;
    if (split && !split->empty()) {
      sizes = *split;
    } else {
      if (x.dims[axis] % (int64_t)numResults != 0)
        return std::nullopt;
      sizes.assign(numResults, x.dims[axis] / (int64_t)numResults);
    }
    if (sizes.size() != numResults ||
        std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != x.dims[axis])
      return std::nullopt;
    std::vector<Tensor> results;
    Dims own = stridesOf(x.dims);
    int64_t start = 0;
    for (int64_t s : sizes) {
      if (s < 0)
        return std::nullopt;
      Dims outDims = x.dims;
      outDims[axis] = s;
      results.push_back(strided(x, start * own[axis], own, outDims));
      start += s;
    }
    return results;
  }

  if (op == "GatherElements" || op == "ScatterElements") {
    bool scatter = op == "ScatterElements";
    if (in.size() != (scatter ? 3u : 2u) || isFloatType(in[1]->type) ||
        in[1]->dims.size() != x.dims.size() ||
        (scatter && (in[2]->dims != in[1]->dims || in[2]->type != x.type)))
      return std::nullopt;
    if (scatter && attrs.getString("reduction").value_or("none") != "none")
      return std::nullopt;
    int64_t rank = x.dims.size();
    int64_t axis = normAxis(attrs.getInt("axis").value_or(0), rank);
    if (axis < 0)
      return std::nullopt;
    const Tensor &indices = *in[1];
    Tensor out = scatter ? x : Tensor::zeros(x.type, indices.dims);
    Dims own = stridesOf(x.dims), index(rank, 0);
    for (int64_t e = 0, n = indices.size(); e < n; ++e) {
      int64_t at = indices.getInt(e);
      if (at < 0)
        at += x.dims[axis];
      if (at < 0 || at >= x.dims[axis])
        return std::nullopt;
      int64_t other = 0;
      for (int64_t d = 0; d < rank; ++d)
        other += (d == axis ? at : index[d]) * own[d];
      if (scatter)
        std::memcpy(out.bytes.data() + other * width,
                    in[2]->bytes.data() + e * width, width);
      else
        std::memcpy(out.bytes.data() + e * width,
                    x.bytes.data() + other * width, width);
      advance(index, indices.dims);
    }
    return one(out);
  }

  if (op == "ScatterND") {
    if (in.size() != 3 || isFloatType(in[1]->type) || in[1]->dims.empty() ||
        in[2]->type != x.type ||
        attrs.getString("reduction").value_or("none") != "none")
      return std::nullopt;
    const Tensor &indices = *in[1], &updates = *in[2];
    int64_t k = indices.dims.back(), rank = x.dims.size();
    if (k > rank)
      return std::nullopt;
    // updates: indices.shape[:-1] + data.shape[k:]
    Dims expected(indices.dims.begin(), indices.dims.end() - 1);
    expected.insert(expected.end(), x.dims.begin() + k, x.dims.end());
    if (updates.dims != expected)
      return std::nullopt;
    Dims own = stridesOf(x.dims);
    int64_t block = 1;
    for (int64_t d = k; d < rank; ++d)
      block *= x.dims[d];
    Tensor out = x;
    int64_t tuples =
        numElements(Dims(indices.dims.begin(), indices.dims.end() - 1));
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t offset = 0;
      for (int64_t d = 0; d < k; ++d) {
        int64_t at = indices.getInt(t * k + d);
        if (at < 0)
          at += x.dims[d];
        if (at < 0 || at >= x.dims[d])
          return std::nullopt;
        offset += at * own[d];
      }
      std::memcpy(out.bytes.data() + offset * width,
                  updates.bytes.data() + t * block * width, block * width);
    }
    return one(out);
  }

  if (op == "Pad") {
    if (in.size() < 2 || (in.size() > 3 && in[3]))
      return std::nullopt; // axes (opset 18) is not in opset 17
    int64_t rank = x.dims.size();
    Dims pads = in[1]->ints();
    if ((int64_t)pads.size() != 2 * rank)
      return std::nullopt;
    std::string mode = attrs.getString("mode").value_or("constant");
    if (mode != "constant" && mode != "edge" && mode != "reflect")
      return std::nullopt;
    const Tensor *fill = in.size() > 2 ? in[2] : nullptr;
    if (fill && (fill->type != x.type || fill->size() != 1))
      return std::nullopt;
    Dims outDims;
    for (int64_t d = 0; d < rank; ++d) {
      outDims.push_back(x.dims[d] + pads[d] + pads[d + rank]);
      if (outDims.back() < 0 ||
          (mode != "constant" && x.dims[d] == 0 && outDims.back() > 0))
        return std::nullopt;
    }
    if (!call.fits(outDims))
      return std::nullopt;
    Tensor out = Tensor::zeros(x.type, outDims);
    Dims own = stridesOf(x.dims), index(rank, 0);
    for (int64_t o = 0, n = out.size(); o < n; ++o) {
      int64_t src = 0;
      bool inside = true;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t c = index[d] - pads[d], dim = x.dims[d];
        if (c < 0 || c >= dim) {
          if (mode == "constant") {
            inside = false;
            break;
          }
          if (mode == "edge") {
            c = std::clamp<int64_t>(c, 0, dim - 1);
          } else {
            if (dim == 1) {
              c = 0;
            } else {
              int64_t period = 2 * (dim - 1);
              c = ((c % period) + period) % period;
              if (c >= dim)
                c = period - c;
            }
          }
        }
        src += c * own[d];
      }
      if (inside)
        std::memcpy(out.bytes.data() + o * width, x.bytes.data() + src * width,
                    width);
      else if (fill)
        std::memcpy(out.bytes.data() + o * width, fill->bytes.data(), width);
      advance(index, outDims);
    }
    return one(out);
  }
  return std::nullopt;
}

/// Ops whose values come from their shape or from positions: Range,
/// ConstantOfShape, Trilu, EyeLike, NonZero.
Result generatorOps(const OpCall &call) {
  const auto &[op, attrs, ops, in, numResults, maxElements] = call;
  const Tensor &x = *in[0];
  [[maybe_unused]] size_t width = elementSize(x.type);
  if (op == "Range") {
    if (in.size() != 3 || in[1]->type != x.type || in[2]->type != x.type ||
        x.size() != 1 || in[1]->size() != 1 || in[2]->size() != 1 ||
        x.type == kUInt64)
      return std::nullopt;
    Tensor out;
    if (isFloatType(x.type)) {
      double start = x.getDouble(0), limit = in[1]->getDouble(0),
             delta = in[2]->getDouble(0);
      double steps = std::ceil(inPrecision2(
          x.type, limit - start, delta, [](auto p, auto q) { return p / q; }));
      if (delta == 0 || !std::isfinite(steps))
        return std::nullopt;
      int64_t n = std::max<double>(steps, 0);
      if (n > maxElements)
        return std::nullopt;
      out = Tensor::zeros(x.type, {n});
      // ONNX's function body accumulates: prev + delta, in the type.
      double v = start;
      for (int64_t i = 0; i < n; ++i) {
        out.setDouble(i, v);
        v = inPrecision2(x.type, out.getDouble(i), delta,
                         [](auto p, auto q) { return p + q; });
      }
      return one(out);
    }
    int64_t start = x.getInt(0), limit = in[1]->getInt(0),
            delta = in[2]->getInt(0);
    if (delta == 0)
      return std::nullopt;
    int64_t span = limit - start;
    int64_t n = span / delta +
                ((span % delta != 0 && (span < 0) == (delta < 0)) ? 1 : 0);
    n = std::max<int64_t>(n, 0);
    if (n > maxElements)
      return std::nullopt;
    out = Tensor::zeros(x.type, {n});
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, start + i * delta);
    return one(out);
  }

  if (op == "ConstantOfShape") {
    if (x.dims.size() != 1 || isFloatType(x.type))
      return std::nullopt;
    Dims outDims = x.ints();
    if (!call.fits(outDims))
      return std::nullopt;
    Tensor value = Tensor::zeros(kFloat, {1}); // the default: float 0
    if (attrs.has("value")) {
      std::optional<Tensor> v = attrs.getTensor("value");
      if (!v || v->size() != 1 || elementSize(v->type) == 0)
        return std::nullopt;
      value = *v;
    }
    Tensor out = Tensor::zeros(value.type, outDims);
    size_t w = elementSize(value.type);
    for (int64_t i = 0, n = out.size(); i < n; ++i)
      std::memcpy(out.bytes.data() + i * w, value.bytes.data(), w);
    return one(out);
  }

  if (op == "Trilu") {
    int64_t rank = x.dims.size();
    if (rank < 2)
      return std::nullopt;
    int64_t k = 0;
    if (in.size() > 1 && !ops[1].absent) {
      if (in[1]->size() != 1)
        return std::nullopt;
      k = in[1]->getInt(0);
    }
    bool upper = attrs.getInt("upper").value_or(1) != 0;
    Tensor out = Tensor::zeros(x.type, x.dims);
    int64_t rows = x.dims[rank - 2], cols = x.dims[rank - 1];
    for (int64_t i = 0, n = x.size(); i < n; ++i) {
      int64_t r = (i / cols) % rows, c = i % cols;
      bool keep = upper ? c - r >= k : c - r <= k;
      if (keep)
        std::memcpy(out.bytes.data() + i * width, x.bytes.data() + i * width,
                    width);
    }
    return one(out);
  }

  if (op == "EyeLike") {
    if (x.dims.size() != 2)
      return std::nullopt;
    int32_t type = (int32_t)attrs.getInt("dtype").value_or(x.type);
    if (elementSize(type) == 0)
      return std::nullopt;
    int64_t k = attrs.getInt("k").value_or(0);
    Tensor out = Tensor::zeros(type, x.dims);
    for (int64_t r = 0; r < x.dims[0]; ++r)
      if (r + k >= 0 && r + k < x.dims[1])
        out.setInt(r * x.dims[1] + r + k, 1);
    return one(out);
  }

  if (op == "NonZero") {
    int64_t rank = x.dims.size();
    std::vector<Dims> hits;
    Dims index(rank, 0);
    for (int64_t i = 0, n = x.size(); i < n; ++i) {
      if (isFloatType(x.type) ? x.getDouble(i) != 0 : x.getInt(i) != 0)
        hits.push_back(index);
      advance(index, x.dims);
    }
    int64_t count = hits.size();
    if (!call.fits({rank, count}))
      return std::nullopt;
    Tensor out = Tensor::zeros(kInt64, {rank, count});
    for (int64_t d = 0; d < rank; ++d)
      for (int64_t k = 0; k < count; ++k)
        out.setInt(d * count + k, hits[k][d]);
    return one(out);
  }
  return std::nullopt;
}

/// Ops that reduce or scan along axes: Reduce{Sum,Prod,Max,Min,Mean},
/// CumSum, ArgMax, ArgMin.
Result reductionOps(const OpCall &call) {
  const auto &[op, attrs, ops, in, numResults, maxElements] = call;
  const Tensor &x = *in[0];
  [[maybe_unused]] size_t width = elementSize(x.type);
  if (op == "ReduceSum" || op == "ReduceProd" || op == "ReduceMax" ||
      op == "ReduceMin" || op == "ReduceMean") {
    bool unknown;
    std::optional<Dims> axes =
        intsFromInputOrAttribute(ops, 1, attrs, "axes", unknown);
    if (unknown)
      return std::nullopt;
    bool keepdims = attrs.getInt("keepdims").value_or(1) != 0;
    if ((!axes || axes->empty()) &&
        attrs.getInt("noop_with_empty_axes").value_or(0) != 0)
      return one(x);
    if (auto t = reduce(op, x, axes.value_or(Dims()), keepdims))
      return one(*t);
    return std::nullopt;
  }

  if (op == "CumSum") {
    if (in.size() != 2 || in[1]->size() != 1 || x.type == kBool ||
        x.type == kUInt64)
      return std::nullopt;
    int64_t rank = x.dims.size();
    int64_t axis = normAxis(in[1]->getInt(0), rank);
    if (axis < 0)
      return std::nullopt;
    bool exclusive = attrs.getInt("exclusive").value_or(0) != 0;
    bool reverse = attrs.getInt("reverse").value_or(0) != 0;
    Tensor out = Tensor::zeros(x.type, x.dims);
    int64_t len = x.dims[axis], inner = stridesOf(x.dims)[axis];
    int64_t outer = len * inner == 0 ? 0 : x.size() / (len * inner);
    bool isFloat = isFloatType(x.type);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double accF = 0;
        int64_t accI = 0;
        for (int64_t k = 0; k < len; ++k) {
          int64_t at = (o * len + (reverse ? len - 1 - k : k)) * inner + i;
          if (exclusive)
            isFloat ? out.setDouble(at, accF) : out.setInt(at, accI);
          if (isFloat)
            accF = inPrecision2(x.type, accF, x.getDouble(at),
                                [](auto p, auto q) { return p + q; });
          else
            accI = (int64_t)((uint64_t)accI + (uint64_t)x.getInt(at));
          if (!exclusive)
            isFloat ? out.setDouble(at, accF) : out.setInt(at, accI);
        }
      }
    return one(out);
  }

  if (op == "ArgMax" || op == "ArgMin") {
    int64_t rank = x.dims.size();
    int64_t axis = normAxis(attrs.getInt("axis").value_or(0), rank);
    if (axis < 0 || x.dims[axis] == 0 || x.type == kBool || x.type == kUInt64)
      return std::nullopt;
    bool keepdims = attrs.getInt("keepdims").value_or(1) != 0;
    bool last = attrs.getInt("select_last_index").value_or(0) != 0;
    Dims outDims;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        outDims.push_back(x.dims[d]);
      else if (keepdims)
        outDims.push_back(1);
    Tensor out = Tensor::zeros(kInt64, outDims);
    int64_t len = x.dims[axis], inner = stridesOf(x.dims)[axis];
    int64_t outer = x.size() / (len * std::max<int64_t>(inner, 1));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t best = 0;
        double bestValue = x.getDouble(o * len * inner + i);
        for (int64_t k = 1; k < len; ++k) {
          double v = x.getDouble((o * len + k) * inner + i);
          bool better = op == "ArgMax"
                            ? (last ? v >= bestValue : v > bestValue)
                            : (last ? v <= bestValue : v < bestValue);
          if (better) {
            best = k;
            bestValue = v;
          }
        }
        out.setInt(o * inner + i, best);
      }
    return one(out);
  }
  return std::nullopt;
}

using OpFamily = Result (*)(const OpCall &);

/// The ops the evaluator knows, and the family that evaluates each.
const std::map<std::string, OpFamily> &opFamilies() {
  static const std::map<std::string, OpFamily> table = [] {
    std::map<std::string, OpFamily> t;
    for (const char *op : {"Identity",    "Cast",
                           "CastLike",    "Neg",
                           "Abs",         "Sign",
                           "Relu",        "Floor",
                           "Ceil",        "Round",
                           "Sqrt",        "Exp",
                           "Log",         "Reciprocal",
                           "Not",         "Add",
                           "Sub",         "Mul",
                           "Div",         "Mod",
                           "Pow",         "Equal",
                           "Less",        "Greater",
                           "LessOrEqual", "GreaterOrEqual",
                           "And",         "Or",
                           "Xor",         "Max",
                           "Min",         "Sum",
                           "Mean",        "Where",
                           "Clip",        "IsNaN",
                           "IsInf",       "BitShift"})
      t[op] = elementwiseOps;
    for (const char *op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze",
                           "Transpose", "Expand", "Tile"})
      t[op] = layoutOps;
    for (const char *op :
         {"Concat", "Gather", "Slice", "Split", "GatherElements",
          "ScatterElements", "ScatterND", "Pad"})
      t[op] = indexingOps;
    for (const char *op :
         {"Range", "ConstantOfShape", "Trilu", "EyeLike", "NonZero"})
      t[op] = generatorOps;
    for (const char *op : {"ReduceSum", "ReduceProd", "ReduceMax", "ReduceMin",
                           "ReduceMean", "CumSum", "ArgMax", "ArgMin"})
      t[op] = reductionOps;
    return t;
  }();
  return table;
}

/// Ops with optional inputs after the first, which their family reads as
/// null when absent; any other op needs every input it is given.
bool hasOptionalInputs(const std::string &op) {
  static const std::set<std::string> ops = {
      "Slice",      "Trilu",     "Squeeze",   "Unsqueeze",
      "Split",      "Clip",      "Pad",       "ReduceSum",
      "ReduceProd", "ReduceMax", "ReduceMin", "ReduceMean"};
  return ops.count(op) != 0;
}

Result evaluateKnown(const std::string &op, const Attributes &attrs,
                     const std::vector<Operand> &ops,
                     const std::vector<const Tensor *> &in, size_t numResults,
                     int64_t maxElements) {
  auto family = opFamilies().find(op);
  if (family == opFamilies().end() || elementSize(in[0]->type) == 0)
    return std::nullopt;
  return family->second(OpCall{op, attrs, ops, in, numResults, maxElements});
}

/// Constant's value from whichever attribute holds it.
Result evaluateConstant(const Attributes &attrs) {
  if (std::optional<Tensor> t = attrs.getTensor("value"))
    return one(*t);
  if (std::optional<int64_t> i = attrs.getInt("value_int")) {
    Tensor t = Tensor::zeros(kInt64, {});
    t.setInt(0, *i);
    return one(t);
  }
  if (std::optional<double> f = attrs.getFloat("value_float")) {
    Tensor t = Tensor::zeros(kFloat, {});
    t.setDouble(0, *f);
    return one(t);
  }
  if (std::optional<Dims> is = attrs.getInts("value_ints")) {
    Tensor t = Tensor::zeros(kInt64, {(int64_t)is->size()});
    for (size_t i = 0; i < is->size(); ++i)
      t.setInt(i, (*is)[i]);
    return one(t);
  }
  if (std::optional<std::vector<double>> fs = attrs.getFloats("value_floats")) {
    Tensor t = Tensor::zeros(kFloat, {(int64_t)fs->size()});
    for (size_t i = 0; i < fs->size(); ++i)
      t.setDouble(i, (*fs)[i]);
    return one(t);
  }
  return std::nullopt;
}

} // namespace

std::optional<Tensor> kiln::eval::transpose(const Tensor &x,
                                            const std::vector<int64_t> &perm) {
  int64_t rank = x.dims.size();
  if ((int64_t)perm.size() != rank)
    return std::nullopt;
  Dims own = stridesOf(x.dims), strides, outDims;
  std::set<int64_t> seen;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || !seen.insert(p).second)
      return std::nullopt;
    strides.push_back(own[p]);
    outDims.push_back(x.dims[p]);
  }
  return strided(x, 0, strides, outDims);
}

bool kiln::eval::worthFolding(const std::vector<Tensor> &results,
                              const std::vector<Operand> &operands) {
  int64_t largestInput = 0;
  bool hasInput = false;
  for (const Operand &o : operands)
    if (o.value) {
      hasInput = true;
      largestInput = std::max(largestInput, o.value->size());
    }
  for (const Tensor &t : results)
    if (isFloatType(t.type) && hasInput && t.size() > largestInput)
      return false;
  return true;
}

bool kiln::eval::isDataMovement(const std::string &op) {
  return op == "Identity" || op == "Reshape" || op == "Flatten" ||
         op == "Squeeze" || op == "Unsqueeze" || op == "Transpose";
}

Result kiln::eval::evaluate(const std::string &op, const Attributes &attrs,
                            const std::vector<Operand> &ops, size_t numResults,
                            int64_t maxElements) {
  Result results;
  if (op == "Constant") {
    results = evaluateConstant(attrs);
  } else if ((op == "Shape" || op == "Size") && ops.size() == 1 &&
             (ops[0].value || ops[0].shape)) {
    const Dims &dims = ops[0].value ? ops[0].value->dims : *ops[0].shape;
    int64_t rank = dims.size();
    if (op == "Size") {
      Tensor t = Tensor::zeros(kInt64, {});
      t.setInt(0, numElements(dims));
      results = one(t);
    } else {
      int64_t start = attrs.getInt("start").value_or(0),
              end = attrs.getInt("end").value_or(rank);
      start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
      end = std::clamp<int64_t>(end < 0 ? end + rank : end, start, rank);
      Tensor t = Tensor::zeros(kInt64, {end - start});
      for (int64_t i = start; i < end; ++i)
        t.setInt(i - start, dims[i]);
      results = one(t);
    }
  } else {
    // Every other op needs every input it is given.
    std::vector<const Tensor *> in;
    for (const Operand &o : ops) {
      if (o.absent) {
        in.push_back(nullptr);
        continue;
      }
      if (!o.value || elementSize(o.value->type) == 0 ||
          o.value->bytes.size() !=
              (size_t)o.value->size() * elementSize(o.value->type))
        return std::nullopt;
      in.push_back(o.value);
    }
    // An absent input may only be an optional one after the first.
    if (in.empty() || !in[0] ||
        (std::count(in.begin(), in.end(), nullptr) != 0 &&
         !hasOptionalInputs(op)))
      return std::nullopt;
    results = evaluateKnown(op, attrs, ops, in, numResults, maxElements);
  }
  if (!results || results->size() != numResults)
    return std::nullopt;
  for (const Tensor &t : *results)
    if (t.size() < 0 || t.size() > maxElements)
      return std::nullopt;
  return results;
}
