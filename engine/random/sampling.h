#pragma once
// Per-element sampling formulas shared by every backend: element i of a fill is a pure function of
// (seed, offset + i), so the CPU loop and a CUDA thread compute identical values (up to the libm of
// each device for log/cos/erfc).
#include <math.h>  // global math names: usable in CUDA device code too
#include <cstdint>

#include "engine/random/philox.h"

namespace gantry::random {

GANTRY_HOST_DEVICE inline double standard_normal_cdf(double x) {
  return 0.5 * ::erfc(-x * 0.70710678118654752440);
}

// Box-Muller from the block's four words (two 53-bit uniforms), in double.
GANTRY_HOST_DEVICE inline double standard_normal(const PhiloxWords& r) {
  // 1 - u lies in (0, 1], so the log is finite.
  const double u1 = 1.0 - uniform_double(r.w[0], r.w[1]);
  const double u2 = uniform_double(r.w[2], r.w[3]);
  return ::sqrt(-2.0 * ::log(u1)) * ::cos(6.283185307179586476925 * u2);
}

// Inverse of the standard normal CDF restricted to [lo, hi]: safeguarded Newton iteration on
// Phi(x) - p inside the bracket, falling back to bisection when a step leaves it.
GANTRY_HOST_DEVICE inline double inverse_normal_cdf_in(double p, double lo, double hi) {
  lo = lo < -40.0 ? -40.0 : lo;
  hi = hi > 40.0 ? 40.0 : hi;
  double x = 0.5 * (lo + hi);
  if (x < -8.0 || x > 8.0) x = x < 0 ? (hi < -8.0 ? hi : -8.0) : (lo > 8.0 ? lo : 8.0);
  for (int it = 0; it < 100; ++it) {
    const double f = standard_normal_cdf(x) - p;
    if (f > 0) hi = x; else lo = x;
    const double density = 0.39894228040143267794 * ::exp(-0.5 * x * x);
    double next = density > 0 ? x - f / density : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (::fabs(next - x) <= 1e-14 * (1.0 + ::fabs(x))) return next;
    x = next;
  }
  return x;
}

// Standard normal truncated to [lo, hi], by inverse CDF of a uniform in [Phi(lo), Phi(hi)].
GANTRY_HOST_DEVICE inline double truncated_normal(const PhiloxWords& r, double lo, double hi) {
  const double cdf_lo = standard_normal_cdf(lo), cdf_hi = standard_normal_cdf(hi);
  const double p = cdf_lo + (cdf_hi - cdf_lo) * uniform_double(r.w[0], r.w[1]);
  const double x = inverse_normal_cdf_in(p, lo, hi);
  return x < lo ? lo : (x > hi ? hi : x);
}

// Integer in [low, high) from 64 random bits (the modulo bias is below range / 2^64).
GANTRY_HOST_DEVICE inline int64_t uniform_int(const PhiloxWords& r, int64_t low, int64_t high) {
  const uint64_t bits = (static_cast<uint64_t>(r.w[1]) << 32) | r.w[0];
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  return static_cast<int64_t>(static_cast<uint64_t>(low) + bits % range);
}

}  // namespace gantry::random
