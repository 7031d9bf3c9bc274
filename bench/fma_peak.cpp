// The arithmetic peak of this CPU on N threads, measured with the widest vector instructions it has:
// many independent chains of fused multiply-adds, the instruction a GEMM is made of. fp32 with AVX2+FMA
// (8 lanes) and, where the CPU has it, AVX-512F (16 lanes); bf16 dot products (AVX512_BF16 vdpbf16ps:
// 32 bf16 products summed into 16 fp32 lanes) where the CPU has them. No fp32 code on N threads, BLAS or
// hand-written, does more floating-point work per second than the widest fp32 figure; the MoG speed
// benchmark divides it by the step's FLOP count for the hardware ceiling on steps per second.
// (AMX tiles are reported as present but not measured: they need the kernel's permission per process
// and a tile configuration, and no fp32 GEMM runs on them.)
//   fma_peak [--threads N] [--seconds S]
// prints {"threads": N, "fma_peak_gflops": widest fp32, "isa": ..., "avx2_fp32_gflops": ...,
// "avx512_fp32_gflops": ..., "avx512_bf16_gflops": ..., ...} as JSON (null where the CPU lacks the ISA).
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// Enough independent chains to hide the FMA latency (4-5 cycles) on two FMA pipes, so the loop runs at
// throughput; each block returns a value derived from every accumulator so the compiler keeps the work.
constexpr int kChains = 12;

__attribute__((target("avx2,fma"))) float avx2_fp32_block(long iterations) {
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

// (Not _mm512_reduce_add_ps: GCC 12's header trips its own -Wuninitialized.)
__attribute__((target("avx512f"))) float sum_of_lanes(__m512 v) {
  float lanes[16];
  _mm512_storeu_ps(lanes, v);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}

__attribute__((target("avx512f"))) float avx512_fp32_block(long iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.001f * static_cast<float>(c));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  return sum_of_lanes(sum);
}

__attribute__((target("avx512f,avx512bf16"))) float avx512_bf16_block(long iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.001f * static_cast<float>(c));
  // Each vdpbf16ps adds 32 products of 1e-3 * 1e-3: the accumulators grow by 2e-6 a step, bounded over
  // a block.
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  const __m512bh b = a;
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  return sum_of_lanes(sum);
}

struct PeakKernel {
  const char* key;          // its JSON field
  bool supported;
  double flops_per_iteration;  // across all chains
  float (*block)(long);
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The best GFLOP/s over rounds of `budget` seconds in all; each round runs one block per thread
// together, so a round that another process interrupted only lowers its own rate.
double measure(const PeakKernel& k, int threads, double budget, double& sink) {
  k.block(1 << 20);  // warm up the clocks (wide units may power up late)
  constexpr long kIterations = 1 << 22;
  std::vector<float> sinks(threads, 0.0f);
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  while (seconds_since(start) < budget) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back([&sinks, &k, t] { sinks[t] += k.block(kIterations); });
    for (auto& w : workers) w.join();
    const double rate = k.flops_per_iteration * static_cast<double>(kIterations) * threads / seconds_since(t0) / 1e9;
    if (rate > best) best = rate;
  }
  for (float v : sinks) sink += v;
  return best;
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
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
  const bool amx = __builtin_cpu_supports("amx-bf16");
  const PeakKernel kernels[] = {
      {"avx2_fp32_gflops", true, 2.0 * 8 * kChains, avx2_fp32_block},
      {"avx512_fp32_gflops", avx512, 2.0 * 16 * kChains, avx512_fp32_block},
      {"avx512_bf16_gflops", bf16, 2.0 * 32 * kChains, avx512_bf16_block},
  };
  double sink = 0, widest_fp32 = 0;
  std::string fields, isa = "avx2";
  for (const auto& k : kernels) {
    fields += std::string(", \"") + k.key + "\": ";
    if (!k.supported) {
      fields += "null";
      continue;
    }
    const double g = measure(k, threads, budget, sink);
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", g);
    fields += text;
    if (std::strstr(k.key, "fp32") && g > widest_fp32) {
      widest_fp32 = g;
      isa = std::strstr(k.key, "avx512") ? "avx512f" : "avx2";
    }
  }
  std::printf("{\"threads\": %d, \"fma_peak_gflops\": %.2f, \"isa\": \"%s\"%s, \"amx_bf16\": %s, \"chains\": %d, "
              "\"seconds\": %.2f, \"checksum\": %.3g}\n",
              threads, widest_fp32, isa.c_str(), fields.c_str(), amx ? "\"present, not measured\"" : "null", kChains,
              budget, sink);
  return 0;
}
