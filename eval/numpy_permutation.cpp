#include "eval/numpy_permutation.h"

#include <numeric>
#include <utility>

#include "engine/core/error.h"

namespace gantry::eval {

Mt19937::Mt19937(uint32_t seed) {
  state_[0] = seed;
  for (int i = 1; i < kStateWords; ++i)
    state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + static_cast<uint32_t>(i);
}

void Mt19937::refill() {
  constexpr int kShift = 397;
  constexpr uint32_t kMatrix = 0x9908b0dfu, kUpper = 0x80000000u, kLower = 0x7fffffffu;
  for (int i = 0; i < kStateWords; ++i) {
    const uint32_t y = (state_[i] & kUpper) | (state_[(i + 1) % kStateWords] & kLower);
    state_[i] = state_[(i + kShift) % kStateWords] ^ (y >> 1) ^ ((y & 1u) ? kMatrix : 0u);
  }
  position_ = 0;
}

uint32_t Mt19937::next_uint32() {
  if (position_ >= kStateWords) refill();
  uint32_t y = state_[position_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t Mt19937::next_uint64() {
  const uint64_t hi = next_uint32();
  return (hi << 32) | next_uint32();
}

uint64_t numpy_random_interval(Mt19937& rng, uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;  // the smallest all-ones mask covering max
  for (int s = 1; s < 64; s <<= 1) mask |= mask >> s;
  uint64_t value;
  if (max <= 0xffffffffull) {
    do value = rng.next_uint32() & mask;
    while (value > max);
  } else {
    do value = rng.next_uint64() & mask;
    while (value > max);
  }
  return value;
}

std::vector<int64_t> numpy_legacy_permutation(int64_t n, uint32_t seed) {
  GANTRY_CHECK(n >= 0, "numpy_legacy_permutation: expected n >= 0, got ", n);
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::iota(out.begin(), out.end(), int64_t{0});
  Mt19937 rng(seed);
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<int64_t>(numpy_random_interval(rng, static_cast<uint64_t>(i)));
    std::swap(out[static_cast<size_t>(i)], out[static_cast<size_t>(j)]);
  }
  return out;
}

}  // namespace gantry::eval
