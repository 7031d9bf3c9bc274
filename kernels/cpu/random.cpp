// CPU random fills: element i from Philox block (seed, offset + i) with the shared formulas.
#include "engine/dispatch/random_kernels.h"
#include "engine/random/sampling.h"

namespace gantry::cpu {
namespace {

template <typename T, typename Sample>
void fill_each(Tensor& out, uint64_t seed, uint64_t offset, Sample&& sample) {
  T* o = out.data_ptr<T>();
  const int64_t n = out.numel();
  for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(sample(random::philox_block(seed, offset + i)));
}

void random_fill(RandomDistribution dist, const RandomParams& p, uint64_t seed, uint64_t offset,
                 Tensor& out) {
  using random::PhiloxWords;
  switch (dist) {
    case RandomDistribution::randint:
      fill_each<int64_t>(out, seed, offset,
                         [&](const PhiloxWords& r) { return random::uniform_int(r, p.low, p.high); });
      return;
    case RandomDistribution::random_bits:
      fill_each<int64_t>(out, seed, offset, [](const PhiloxWords& r) {
        return static_cast<int64_t>(((static_cast<uint64_t>(r.w[1]) << 32) | r.w[0]) >> 1);
      });
      return;
    default: break;
  }
  dispatch_floating(out.dtype(), "random_fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (dist) {
      case RandomDistribution::uniform:
        if constexpr (std::is_same_v<T, float>) {
          const float a = static_cast<float>(p.a), width = static_cast<float>(p.b - p.a);
          fill_each<T>(out, seed, offset,
                       [&](const PhiloxWords& r) { return a + width * random::uniform_float(r.w[0]); });
        } else {
          fill_each<T>(out, seed, offset, [&](const PhiloxWords& r) {
            return p.a + (p.b - p.a) * random::uniform_double(r.w[0], r.w[1]);
          });
        }
        break;
      case RandomDistribution::normal:
        fill_each<T>(out, seed, offset,
                     [&](const PhiloxWords& r) { return p.a + p.b * random::standard_normal(r); });
        break;
      case RandomDistribution::trunc_normal:
        fill_each<T>(out, seed, offset,
                     [&](const PhiloxWords& r) { return random::truncated_normal(r, p.a, p.b); });
        break;
      default: GANTRY_FAIL("random_fill: distribution needs an int64 output");
    }
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(random_fill_kernel, CPU, &random_fill);

}  // namespace gantry::cpu
