#pragma once
// The engine's random number generator: a Philox4x32-10 stream identified by (seed, offset). The
// offset counts Philox blocks already used (one per generated element), so (seed, offset) is the
// whole state: saving it in a checkpoint and restoring it resumes the exact same stream. The same
// seed gives the same numbers every run and on every device (see engine/dispatch/random_kernels.h).
#include <cstdint>

#include "engine/core/tensor.h"

namespace gantry {

class Generator {
 public:
  explicit Generator(uint64_t seed) : seed_(seed) {}

  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves `n` blocks and returns the offset of the first.
  uint64_t advance(uint64_t n) {
    const uint64_t first = offset_;
    offset_ += n;
    return first;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// Uniform in [0, 1).
Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::f32, Device device = kCPU);
// Uniform in [lo, hi).
Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::f32,
               Device device = kCPU);
// Standard normal (Box-Muller); normal() scales and shifts it.
Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::f32, Device device = kCPU);
Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype = DType::f32,
              Device device = kCPU);
// Standard normal truncated to [lo, hi] (inverse CDF; BigGAN's truncation trick).
Tensor trunc_normal(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::f32,
                    Device device = kCPU);
// Integers uniform in [low, high), int64.
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen, Device device = kCPU);
// A uniformly random permutation of 0..n-1 (int64, CPU).
Tensor randperm(int64_t n, Generator& gen);

}  // namespace gantry
