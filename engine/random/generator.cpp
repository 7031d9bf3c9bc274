#include "engine/random/generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/dispatch/random_kernels.h"

namespace gantry {
namespace {

Tensor random_fill(const char* op, RandomDistribution dist, const RandomParams& params,
                   const Shape& shape, Generator& gen, DType dtype, Device device) {
  for (int64_t d : shape) GANTRY_CHECK(d >= 0, op, ": negative dimension in shape ", shape_str(shape));
  Tensor out = empty(shape, dtype, device);
  const uint64_t offset = gen.advance(static_cast<uint64_t>(out.numel()));
  random_fill_kernel(device.type, dist, params, gen.seed(), offset, out);
  return out;
}

void check_floating(const char* op, DType dtype) {
  GANTRY_CHECK(is_floating(dtype), op, ": expected a floating dtype (float32 or float64), got ",
               dtype_name(dtype));
}

}  // namespace

Tensor rand(const Shape& shape, Generator& gen, DType dtype, Device device) {
  return uniform(shape, 0.0, 1.0, gen, dtype, device);
}

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype, Device device) {
  check_floating("uniform", dtype);
  GANTRY_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
               "uniform: expected finite bounds lo <= hi, got [", lo, ", ", hi, ")");
  RandomParams p;
  p.a = lo;
  p.b = hi;
  return random_fill("uniform", RandomDistribution::uniform, p, shape, gen, dtype, device);
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, Device device) {
  return normal(shape, 0.0, 1.0, gen, dtype, device);
}

Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype, Device device) {
  check_floating("normal", dtype);
  GANTRY_CHECK(std::isfinite(mean) && std::isfinite(std) && std >= 0,
               "normal: expected a finite mean and std >= 0, got mean ", mean, " std ", std);
  RandomParams p;
  p.a = mean;
  p.b = std;
  return random_fill("normal", RandomDistribution::normal, p, shape, gen, dtype, device);
}

Tensor trunc_normal(const Shape& shape, double lo, double hi, Generator& gen, DType dtype, Device device) {
  check_floating("trunc_normal", dtype);
  GANTRY_CHECK(!std::isnan(lo) && !std::isnan(hi) && lo < hi, "trunc_normal: expected lo < hi, got [",
               lo, ", ", hi, "]");
  RandomParams p;
  p.a = lo;
  p.b = hi;
  return random_fill("trunc_normal", RandomDistribution::trunc_normal, p, shape, gen, dtype, device);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen, Device device) {
  GANTRY_CHECK(low < high, "randint: expected low < high, got [", low, ", ", high, ")");
  RandomParams p;
  p.low = low;
  p.high = high;
  return random_fill("randint", RandomDistribution::randint, p, shape, gen, DType::i64, device);
}

Tensor randperm(int64_t n, Generator& gen) {
  GANTRY_CHECK(n >= 0, "randperm: expected n >= 0, got ", n);
  // Sort indices by random keys (ties by index): a uniform permutation up to key collisions.
  const Tensor keys =
      random_fill("randperm", RandomDistribution::random_bits, {}, {n}, gen, DType::i64, kCPU);
  const int64_t* k = keys.data_ptr<int64_t>();
  Tensor out = empty({n}, DType::i64, kCPU);
  int64_t* idx = out.data_ptr<int64_t>();
  std::iota(idx, idx + n, int64_t{0});
  std::stable_sort(idx, idx + n, [&](int64_t a, int64_t b) { return k[a] < k[b]; });
  return out;
}

}  // namespace gantry
