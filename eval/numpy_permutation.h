#pragma once
// NumPy's legacy `np.random.RandomState(seed).permutation(n)`, reproduced exactly, so the Inception
// Score can shuffle its samples the way torch-fidelity does (RandomState(2020)). RandomState is
// MT19937 seeded with init_genrand(seed); permutation(n) shuffles arange(n) with Fisher-Yates from the
// last element down, drawing j in [0, i] by masked rejection sampling of 32-bit outputs
// (random_interval in NumPy's distributions.c; 64-bit draws of two outputs once i >= 2^32).
#include <cstdint>
#include <vector>

namespace gantry::eval {

// The 32-bit Mersenne Twister (Matsumoto & Nishimura 1998), NumPy's legacy bit generator.
class Mt19937 {
 public:
  explicit Mt19937(uint32_t seed);
  uint32_t next_uint32();
  // High word first, as NumPy's legacy next_uint64 composes two outputs.
  uint64_t next_uint64();

 private:
  void refill();

  static constexpr int kStateWords = 624;
  uint32_t state_[kStateWords];
  int position_ = kStateWords;
};

// A uniform integer in [0, max], NumPy's legacy random_interval.
uint64_t numpy_random_interval(Mt19937& rng, uint64_t max);

// np.random.RandomState(seed).permutation(n).
std::vector<int64_t> numpy_legacy_permutation(int64_t n, uint32_t seed);

}  // namespace gantry::eval
