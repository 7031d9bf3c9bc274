// CUDA random fills. Element i is computed from Philox block (seed, offset + i) by the same shared
// formulas as the CPU (engine/random/sampling.h, host/device code), so a seed and offset give the same
// numbers on both devices (up to each device's libm in log/cos/erfc). The engine's own Philox4x32-10
// is used rather than cuRAND's state API because the element->counter mapping must match the CPU's.
#include <cuda_runtime.h>

#include <type_traits>

#include "engine/dispatch/random_kernels.h"
#include "engine/random/sampling.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"

namespace gantry::cuda {
namespace {

template <typename T>
struct RandomSample {
  RandomDistribution dist;
  double a, b;
  int64_t low, high;

  __device__ T operator()(const random::PhiloxWords& r) const {
    switch (dist) {
      case RandomDistribution::uniform:
        if constexpr (std::is_same_v<T, float>) {
          return static_cast<float>(a) + static_cast<float>(b - a) * random::uniform_float(r.w[0]);
        } else {
          return static_cast<T>(a + (b - a) * random::uniform_double(r.w[0], r.w[1]));
        }
      case RandomDistribution::normal: return static_cast<T>(a + b * random::standard_normal(r));
      case RandomDistribution::trunc_normal: return static_cast<T>(random::truncated_normal(r, a, b));
      case RandomDistribution::randint: return static_cast<T>(random::uniform_int(r, low, high));
      case RandomDistribution::random_bits:
        return static_cast<T>(static_cast<int64_t>(((static_cast<uint64_t>(r.w[1]) << 32) | r.w[0]) >> 1));
    }
    return T(0);
  }
};

template <typename T>
__global__ void random_fill_kernel_impl(T* out, int64_t n, uint64_t seed, uint64_t offset, RandomSample<T> sample) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = sample(random::philox_block(seed, offset + static_cast<uint64_t>(i)));
}

void cuda_random_fill(RandomDistribution dist, const RandomParams& p, uint64_t seed, uint64_t offset, Tensor& out) {
  check_device(out.device(), "random_fill");
  GANTRY_CHECK(out.is_contiguous(), "random_fill: expected a contiguous output, got strides ",
               shape_str(out.strides()));
  const bool integer_dist = dist == RandomDistribution::randint || dist == RandomDistribution::random_bits;
  GANTRY_CHECK(integer_dist == (out.dtype() == DType::i64), "random_fill: ",
               integer_dist ? "an integer distribution needs an int64 output" : "a floating distribution needs a "
               "float32 or float64 output", ", got ", dtype_name(out.dtype()));
  if (dist == RandomDistribution::randint)
    GANTRY_CHECK(p.high > p.low, "random_fill: randint needs low < high, got [", p.low, ", ", p.high, ")");
  const int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  const cudaStream_t stream = current_stream(out.device().index);
  constexpr int threads = 256;
  dispatch_all(out.dtype(), "random_fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, uint8_t>) {
      GANTRY_FAIL("random_fill: uint8 outputs are not supported");
    } else {
      GANTRY_LAUNCH(grid_for(n, threads), threads, 0, stream, random_fill_kernel_impl<T>)(
          static_cast<T*>(out.raw_data()), n, seed, offset, RandomSample<T>{dist, p.a, p.b, p.low, p.high});
      GANTRY_CUDA_LAUNCH_CHECK();
    }
  });
}

}  // namespace

GANTRY_REGISTER_KERNEL(random_fill_kernel, CUDA, &cuda_random_fill);

}  // namespace gantry::cuda
