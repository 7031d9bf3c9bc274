// The fp32 arithmetic peak of this CPU on N threads, measured: many independent chains of 8-wide fused
// multiply-adds (AVX2 + FMA), the instruction a single-precision GEMM is made of. No fp32 code on N
// threads, BLAS or hand-written, does more floating-point work per second than this; the MoG speed
// benchmark divides it by the step's FLOP count for the hardware ceiling on steps per second.
//   fma_peak [--threads N] [--seconds S]    prints {"threads": N, "fma_peak_gflops": G, ...} as JSON
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// Twelve accumulators: enough independent chains to hide the FMA latency (4-5 cycles) on two FMA
// pipes, so the loop runs at throughput. Returns a value derived from every accumulator so the compiler
// keeps the work.
constexpr int kChains = 12;

__attribute__((target("avx2,fma"))) float fma_block(long iterations) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.001f * static_cast<float>(c));
  // x * a + b with a just below 1 keeps the values bounded (no overflow, no denormals).
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
  for (long i = 0; i < iterations; ++i) {
    // Unrolled, so the accumulators stay in registers instead of round-tripping through memory.
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  __m256 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_ps(sum, acc[c]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  double budget = 1.0;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      budget = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: fma_peak [--threads N] [--seconds S]\n");
      return 2;
    }
  }
  if (!(budget > 0) || threads < 1) {
    std::fprintf(stderr, "fma_peak: --seconds must be positive and --threads at least 1\n");
    return 2;
  }
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "fma_peak: this CPU has no AVX2/FMA\n");
    return 1;
  }
  fma_block(1 << 20);  // warm up the clocks
  // The best of short rounds, each one block per thread run together: a round that another process
  // interrupted only lowers its own rate.
  constexpr long kIterations = 1 << 22;
  std::vector<float> sinks(threads, 0.0f);
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  while (seconds_since(start) < budget) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back([&sinks, t] { sinks[t] += fma_block(kIterations); });
    for (auto& w : workers) w.join();
    const double flops = 2.0 * 8 * kChains * static_cast<double>(kIterations) * threads;
    const double rate = flops / seconds_since(t0) / 1e9;
    if (rate > best) best = rate;
  }
  double sink = 0;
  for (float v : sinks) sink += v;
  std::printf("{\"threads\": %d, \"fma_peak_gflops\": %.2f, \"chains\": %d, \"seconds\": %.2f, \"checksum\": %.3g}\n",
              threads, best, kChains, budget, sink);
  return 0;
}
