#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
// generator, the one cuRAND's device API uses. A 128-bit counter and a 64-bit key map to four 32-bit
// words through ten rounds; any element of the stream can be computed independently, which is what
// lets CPU and CUDA kernels produce the same numbers for the same (seed, offset).
// Header-only and free of host-only code so CUDA kernels can include it.
#include <array>
#include <cstdint>

#if defined(__CUDACC__)
#define GANTRY_HOST_DEVICE __host__ __device__
#else
#define GANTRY_HOST_DEVICE
#endif

namespace gantry::random {

struct PhiloxWords {
  uint32_t w[4];
};

constexpr uint32_t kPhiloxMul0 = 0xD2511F53u;
constexpr uint32_t kPhiloxMul1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxKeyStep0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxKeyStep1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kPhiloxRounds = 10;

GANTRY_HOST_DEVICE inline void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// Philox4x32 with `kPhiloxRounds` rounds; the key is bumped between rounds.
GANTRY_HOST_DEVICE inline PhiloxWords philox4x32(PhiloxWords ctr, uint32_t key0, uint32_t key1) {
  for (int round = 0; round < kPhiloxRounds; ++round) {
    if (round > 0) {
      key0 += kPhiloxKeyStep0;
      key1 += kPhiloxKeyStep1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kPhiloxMul0, ctr.w[0], hi0, lo0);
    philox_mulhilo(kPhiloxMul1, ctr.w[2], hi1, lo1);
    ctr = PhiloxWords{{hi1 ^ ctr.w[1] ^ key0, lo1, hi0 ^ ctr.w[3] ^ key1, lo0}};
  }
  return ctr;
}

// The engine's stream layout: the key is the 64-bit seed; element i of a fill that starts at
// `offset` uses the counter (offset + i) as the low 64 bits (words 0, 1) with words 2, 3 zero, and
// gets all four output words for itself (uniform f32 uses 1 word, f64 uniform 2, normals 4).
// A fill of n elements then advances the generator's offset by n.
GANTRY_HOST_DEVICE inline PhiloxWords philox_block(uint64_t seed, uint64_t counter) {
  PhiloxWords ctr{{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u}};
  return philox4x32(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// [0, 1) from 24 random bits (exactly representable in float).
GANTRY_HOST_DEVICE inline float uniform_float(uint32_t w) {
  return static_cast<float>(w >> 8) * (1.0f / 16777216.0f);
}
// [0, 1) from 53 random bits.
GANTRY_HOST_DEVICE inline double uniform_double(uint32_t lo, uint32_t hi) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace gantry::random
