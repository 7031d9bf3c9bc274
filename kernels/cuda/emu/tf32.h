#pragma once
// TF32 rounding as the GPU's cvt.rna.tf32.f32 does it: round to nearest, ties away from zero, keep
// 10 mantissa bits (the low 13 bits of the fp32 pattern become zero). Overflow rounds to infinity;
// infinities stay; NaNs become the canonical TF32 NaN.
#include <cstdint>
#include <cstring>

namespace gantry::emu {

inline float round_to_tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0x7f800000u) {  // inf or NaN
    u = (u & 0x007fffffu) != 0 ? 0x7fffe000u : u;
  } else {
    u = (u + 0x1000u) & ~uint32_t{0x1fff};  // sign-magnitude: adding half an ulp rounds ties away from zero
  }
  float r;
  std::memcpy(&r, &u, sizeof r);
  return r;
}

// What a tensor core reads from a TF32 operand: only the top 19 bits (sign, exponent, 10 mantissa
// bits); the rest is ignored.
inline float tf32_operand(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u &= ~uint32_t{0x1fff};
  float r;
  std::memcpy(&r, &u, sizeof r);
  return r;
}

}  // namespace gantry::emu
