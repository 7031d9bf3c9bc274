#pragma once
// Kernel table of the random fills. A kernel writes element i (row-major index of the contiguous
// `out`) from Philox block (seed, offset + i) — see engine/random/philox.h — so any backend that
// follows the same per-element formulas (kernels/cpu/random.cpp) produces the same numbers.
#include <cstdint>

#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

enum class RandomDistribution : uint8_t {
  uniform,       // a + (b - a) u, u in [0, 1)                          (f32, f64)
  normal,        // a + b z, z standard normal by Box-Muller             (f32, f64)
  trunc_normal,  // standard normal truncated to [a, b] by inverse CDF   (f32, f64)
  randint,       // integer in [low, high) as i64                        (i64)
  random_bits,   // 63 random bits as i64 (sort keys for randperm)       (i64)
};

struct RandomParams {
  double a = 0, b = 1;          // floating distributions
  int64_t low = 0, high = 1;    // randint
};

// `out` is contiguous on the kernel's device.
using RandomFillKernel = void (*)(RandomDistribution dist, const RandomParams& params, uint64_t seed,
                                  uint64_t offset, Tensor& out);
GANTRY_DECLARE_DISPATCH(RandomFillKernel, random_fill_kernel);

}  // namespace gantry
