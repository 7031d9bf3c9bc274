// gantry-kprof: the CUDA kernel profiler. It first measures the machine's own peaks (device-to-device
// cudaMemcpy bandwidth; cuBLAS SGEMM, TF32 and BF16 throughput), then for each kernel and a sweep of
// sizes checks the result against the CPU backend and, only if it matches, times it (warm-up, CUDA
// events, L2 flushed, median). Reports time, GB/s or TFLOP/s, % of the measured peak and, for GEMMs,
// the ratio to cuBLAS on the same shape. Table on stdout; --json FILE writes the same records.
//
// The image kernels (convolutions, pooling, attention; tools/kprof/image_bench.h) follow, with ratios
// to cuDNN when it was found at build time.
//
// --check-only checks every kernel against the CPU on small shapes and times nothing. It is the only
// mode of an emulator build (GANTRY_CUDA=EMU, GANTRY_KPROF_EMULATED): the device there is the CPU
// emulator, whose times say nothing about a GPU, and there is no cuBLAS or cuDNN to compare with.
//
//   gantry-kprof [--json FILE] [--quick] [--runs N] [--images-only] [--check-only]
#if !defined(GANTRY_KPROF_EMULATED)
#include <cublas_v2.h>
#endif
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/dispatch/optim_kernels.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/kcenter.h"
#include "kernels/cuda/runtime.h"
#include "tools/kprof/image_bench.h"
#include "tools/kprof/timer.h"
#include "train/coreset.h"

namespace gantry::kprof {
namespace {

#if defined(GANTRY_KPROF_EMULATED)
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#define KPROF_CUBLAS_CHECK(call)                                                          \
  do {                                                                                    \
    const cublasStatus_t status_ = (call);                                                \
    GANTRY_CHECK(status_ == CUBLAS_STATUS_SUCCESS, "cuBLAS call ", #call, " failed at ", \
                 __FILE__, ":", __LINE__, " with status ", static_cast<int>(status_));    \
  } while (0)
#endif

const Device kGpu(DeviceType::CUDA, 0);

struct Record {
  std::string kernel, shape, unit;  // unit: GB/s or TFLOP/s
  bool passed = false;
  double max_rel_error = 0, ms = 0, rate = 0, pct_of_peak = 0, ratio_to_cublas = 0;
};

struct Peaks {
  double copy_gbs = 0, sgemm_tflops = 0, tf32_tflops = 0, bf16_tflops = 0;
};

// max |a - b| / max(max |b|, tiny): one number that is scale-free across sizes.
double max_rel_error(const Tensor& got, const Tensor& want) {
  const std::vector<double> g = to_vector<double>(got.to(kCPU)), w = to_vector<double>(want.to(kCPU));
  double err = 0, scale = 1e-30;
  for (size_t i = 0; i < g.size(); ++i) {
    err = std::max(err, std::abs(g[i] - w[i]));
    if (std::isnan(g[i]) != std::isnan(w[i])) err = INFINITY;
    scale = std::max(scale, std::abs(w[i]));
  }
  return err / scale;
}

Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1, double hi = 1) {
  Generator gen(seed);
  return uniform(shape, lo, hi, gen, DType::f32, kCPU);
}

std::string shape_text(std::initializer_list<int64_t> dims) {
  std::string s;
  for (int64_t d : dims) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

class Profiler {
 public:
  Profiler(int warmup, int runs, bool quick, bool check_only)
      : timer_(0, warmup, runs), quick_(quick), check_only_(check_only) {
#if !defined(GANTRY_KPROF_EMULATED)
    if (!check_only_) {
      KPROF_CUBLAS_CHECK(cublasCreate(&cublas_));
      KPROF_CUBLAS_CHECK(cublasSetStream(cublas_, timer_.stream()));
    }
#endif
  }
#if !defined(GANTRY_KPROF_EMULATED)
  ~Profiler() {
    if (cublas_) cublasDestroy(cublas_);
  }
#endif

  void measure_peaks() {
    const size_t bytes = size_t{512} << 20;
    void *src = nullptr, *dst = nullptr;
    GANTRY_CUDA_CHECK(cudaMalloc(&src, bytes));
    GANTRY_CUDA_CHECK(cudaMalloc(&dst, bytes));
    GANTRY_CUDA_CHECK(cudaMemsetAsync(src, 1, bytes, timer_.stream()));
    const double ms = timer_.median_ms([&] {
      GANTRY_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, timer_.stream()));
    });
    peaks_.copy_gbs = 2.0 * bytes / (ms * 1e6);
    GANTRY_CUDA_CHECK(cudaFree(src));
    GANTRY_CUDA_CHECK(cudaFree(dst));
    const int64_t n = quick_ ? 4096 : 8192;
    for (auto precision : {cuda::MatmulPrecision::exact, cuda::MatmulPrecision::tf32, cuda::MatmulPrecision::bf16}) {
      GemmBuffers buf(n, n, n, 7);
      const double t = time_cublas(buf, precision);
      const double tflops = 2.0 * n * n * n / (t * 1e9);
      (precision == cuda::MatmulPrecision::exact  ? peaks_.sgemm_tflops
       : precision == cuda::MatmulPrecision::tf32 ? peaks_.tf32_tflops
                                                  : peaks_.bf16_tflops) = tflops;
    }
  }

  void profile_gemms() {
    std::vector<std::array<int64_t, 3>> shapes = {{512, 512, 512}, {1000, 1000, 1000}, {2048, 2048, 2048},
                                                   {256, 4096, 1024}, {4096, 4096, 4096}};
    if (!quick_) shapes.push_back({8192, 8192, 8192});
    // Checks only: shapes with partial tiles on every side, small enough for the emulator.
    if (check_only_) shapes = {{128, 128, 128}, {130, 70, 45}, {33, 257, 96}};
    for (const auto& [m, n, k] : shapes) {
      GemmBuffers buf(m, n, k, 11);
      const Tensor reference = matmul(buf.a_host, buf.b_host);
      for (auto precision : {cuda::MatmulPrecision::exact, cuda::MatmulPrecision::tf32, cuda::MatmulPrecision::bf16}) {
        Record r;
        r.kernel = std::string("gemm_") + cuda::matmul_precision_name(precision);
        r.shape = shape_text({m, n, k});
        r.unit = "TFLOP/s";
        run_ours(buf, precision);
        r.max_rel_error = max_rel_error(buf.c, reference);
        const double tolerance = precision == cuda::MatmulPrecision::exact ? 1e-4
                                 : precision == cuda::MatmulPrecision::tf32 ? 5e-3 : 3e-2;
        r.passed = r.max_rel_error <= tolerance;
        if (r.passed && !check_only_) {
          r.ms = timer_.median_ms([&] { run_ours(buf, precision); });
          r.rate = 2.0 * m * n * k / (r.ms * 1e9);
          const double peak = precision == cuda::MatmulPrecision::exact  ? peaks_.sgemm_tflops
                              : precision == cuda::MatmulPrecision::tf32 ? peaks_.tf32_tflops
                                                                         : peaks_.bf16_tflops;
          r.pct_of_peak = 100 * r.rate / peak;
          r.ratio_to_cublas = time_cublas(buf, precision) / r.ms;  // > 1: faster than cuBLAS
        }
        records_.push_back(r);
      }
    }
  }

  // Memory-bound kernels through the engine's ops: `bytes` is the minimum traffic of one call.
  void profile_memory_bound() {
    std::vector<std::pair<int64_t, int64_t>> shapes = {{1024, 1024}, {4096, 4099}, {8191, 8193}};
    if (!quick_) shapes.push_back({16384, 16385});
    if (check_only_) shapes = {{33, 65}, {257, 129}};
    NoGradGuard no_grad;
    for (const auto& [rows, cols] : shapes) {
      const int64_t n = rows * cols;
      const Tensor x = random_tensor({rows, cols}, 21), y = random_tensor({rows, cols}, 22), bias = random_tensor({1, cols}, 23);
      const Tensor xt_host = random_tensor({cols, rows}, 24).t();
      const Tensor xd = x.to(kGpu), yd = y.to(kGpu), bd = bias.to(kGpu), xtd = xt_host.t().to(kGpu).t();
      const double f = sizeof(float);
      add_memory_record("add", rows, cols, 3 * n * f, [&] { return add(xd, yd); }, add(x, y));
      add_memory_record("neg", rows, cols, 2 * n * f, [&] { return neg(xd); }, neg(x));
      add_memory_record("add_broadcast_row", rows, cols, 2 * n * f, [&] { return add(xd, bd); }, add(x, bias));
      add_memory_record("copy_transposed", rows, cols, 2 * n * f, [&] { return xtd.contiguous(); }, xt_host.contiguous());
      add_memory_record("sum_last_dim", rows, cols, n * f, [&] { return sum(xd, {1}); }, sum(x, {1}));
      add_memory_record("sum_first_dim", rows, cols, n * f, [&] { return sum(xd, {0}); }, sum(x, {0}));
      add_memory_record("softmax_rows", rows, cols, 2 * n * f, [&] { return softmax(xd, 1); }, softmax(x, 1));
    }
  }

  void profile_adam() {
    const int64_t tensors = check_only_ ? 5 : 64, each = check_only_ ? 1000 + 7 : quick_ ? 16 * 1024 : 256 * 1024 + 7;
    AdamHyper h{1e-3, 0.9, 0.999, 1e-8, 0.01, false};
    std::vector<AdamSlot> host, device;
    for (int64_t i = 0; i < tensors; ++i) {
      AdamSlot s;
      s.param = random_tensor({each}, 100 + i);
      s.grad = random_tensor({each}, 200 + i);
      s.exp_avg = random_tensor({each}, 300 + i, -0.1, 0.1);
      s.exp_avg_sq = random_tensor({each}, 400 + i, 0.0, 0.1);
      s.step = 5;
      host.push_back(s);
      device.push_back(AdamSlot{s.param.to(kGpu), s.grad.to(kGpu), s.exp_avg.to(kGpu), s.exp_avg_sq.to(kGpu), Tensor(), 5});
    }
    adam_kernel(DeviceType::CPU, h, host);
    adam_kernel(DeviceType::CUDA, h, device);
    Record r;
    r.kernel = "adam_multi_tensor";
    r.shape = std::to_string(tensors) + "x" + std::to_string(each);
    r.unit = "GB/s";
    for (int64_t i = 0; i < tensors; ++i) r.max_rel_error = std::max(r.max_rel_error, max_rel_error(device[i].param, host[i].param));
    r.passed = r.max_rel_error <= 1e-5;
    if (r.passed && !check_only_) {
      r.ms = timer_.median_ms([&] { adam_kernel(DeviceType::CUDA, h, device); });
      r.rate = 7.0 * tensors * each * sizeof(float) / (r.ms * 1e6);  // read p g m v, write p m v
      r.pct_of_peak = 100 * r.rate / peaks_.copy_gbs;
    }
    records_.push_back(r);
  }

  void profile_kcenter() {
    const int64_t n = check_only_ ? 300 : 2048, d = check_only_ ? 7 : 32, k = check_only_ ? 40 : 256;
    const Tensor points = random_tensor({n, d}, 31);
    const std::vector<int64_t> expected = train::greedy_k_center<float>(points.data_ptr<float>(), n, d, k, 0);
    const Tensor pd = points.to(kGpu);
    Record r;
    r.kernel = "kcenter_select";
    r.shape = shape_text({n, d, k});
    r.unit = "GB/s";
    r.passed = to_vector<int64_t>(cuda::kcenter_select(pd, k, 0)) == expected;
    r.max_rel_error = r.passed ? 0 : 1;
    if (r.passed && !check_only_) {
      r.ms = timer_.median_ms([&] { (void)cuda::kcenter_select(pd, k, 0); });
      r.rate = double(k) * n * d * sizeof(float) / (r.ms * 1e6);  // points re-read per round
      r.pct_of_peak = 100 * r.rate / peaks_.copy_gbs;
    }
    records_.push_back(r);
  }

  void print_table() const {
    if (check_only_) {
      std::printf("%-22s %-18s %-6s %10s\n", "kernel", "shape", "check", "rel.err");
      for (const Record& r : records_)
        std::printf("%-22s %-18s %-6s %10.2e\n", r.kernel.c_str(), r.shape.c_str(), r.passed ? "ok" : "FAIL",
                    r.max_rel_error);
      return;
    }
    std::printf("device peaks: copy %.1f GB/s | cuBLAS SGEMM %.1f, TF32 %.1f, BF16 %.1f TFLOP/s\n\n", peaks_.copy_gbs,
                peaks_.sgemm_tflops, peaks_.tf32_tflops, peaks_.bf16_tflops);
    std::printf("%-22s %-18s %-6s %10s %10s %-8s %8s %9s %10s\n", "kernel", "shape", "check", "rel.err", "ms", "unit",
                "rate", "% peak", "x cuBLAS");
    for (const Record& r : records_) {
      std::printf("%-22s %-18s %-6s %10.2e ", r.kernel.c_str(), r.shape.c_str(), r.passed ? "ok" : "FAIL", r.max_rel_error);
      if (r.passed) {
        std::printf("%10.4f %-8s %8.2f %8.1f%% ", r.ms, r.unit.c_str(), r.rate, r.pct_of_peak);
        if (r.ratio_to_cublas > 0) std::printf("%10.2f", r.ratio_to_cublas);
      }
      std::printf("\n");
    }
  }

  nlohmann::json to_json() const {
    cudaDeviceProp prop{};
    GANTRY_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    nlohmann::json j;
    j["device"] = prop.name;
    j["emulated"] = kEmulated;
    j["check_only"] = check_only_;
    j["l2_bytes"] = timer_.l2_bytes();
    j["peaks"] = {{"copy_gbs", peaks_.copy_gbs}, {"cublas_sgemm_tflops", peaks_.sgemm_tflops},
                  {"cublas_tf32_tflops", peaks_.tf32_tflops}, {"cublas_bf16_tflops", peaks_.bf16_tflops}};
    for (const Record& r : records_)
      j["kernels"].push_back({{"kernel", r.kernel}, {"shape", r.shape}, {"passed", r.passed},
                              {"max_rel_error", r.max_rel_error}, {"ms", r.ms}, {"unit", r.unit}, {"rate", r.rate},
                              {"pct_of_peak", r.pct_of_peak}, {"ratio_to_cublas", r.ratio_to_cublas}});
    return j;
  }

  bool all_passed() const {
    return std::all_of(records_.begin(), records_.end(), [](const Record& r) { return r.passed; });
  }

 private:
  // Row-major a [m, k], b [k, n], c [m, n] on the GPU (f32), bf16 copies for cuBLAS, host originals.
  struct GemmBuffers {
    int64_t m, n, k;
    Tensor a_host, b_host, a, b, c;
    __nv_bfloat16 *a16 = nullptr, *b16 = nullptr;
    GemmBuffers(int64_t m_, int64_t n_, int64_t k_, uint64_t seed) : m(m_), n(n_), k(k_) {
      a_host = random_tensor({m, k}, seed);
      b_host = random_tensor({k, n}, seed + 1);
      a = a_host.to(kGpu);
      b = b_host.to(kGpu);
      c = empty({m, n}, DType::f32, kGpu);
      a16 = upload_bf16(a_host);
      b16 = upload_bf16(b_host);
    }
    ~GemmBuffers() {
      (void)cudaFree(a16);
      (void)cudaFree(b16);
    }
    GemmBuffers(const GemmBuffers&) = delete;
    GemmBuffers& operator=(const GemmBuffers&) = delete;

    static __nv_bfloat16* upload_bf16(const Tensor& host) {
      const std::vector<float> v = to_vector<float>(host);
      std::vector<__nv_bfloat16> h(v.size());
      for (size_t i = 0; i < v.size(); ++i) h[i] = __float2bfloat16(v[i]);
      __nv_bfloat16* d = nullptr;
      GANTRY_CUDA_CHECK(cudaMalloc(&d, h.size() * sizeof(__nv_bfloat16)));
      GANTRY_CUDA_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(__nv_bfloat16), cudaMemcpyHostToDevice));
      // A pageable upload may still be in flight when cudaMemcpy returns, and the engine's stream does
      // not order after the legacy stream.
      GANTRY_CUDA_CHECK(cudaDeviceSynchronize());
      return d;
    }
  };

  void run_ours(GemmBuffers& buf, cuda::MatmulPrecision precision) {
    cuda::GemmProblem p;
    p.m = buf.m;
    p.n = buf.n;
    p.k = buf.k;
    p.lda = buf.k;
    p.ldb = buf.n;
    p.ldc = buf.n;
    const float* a = buf.a.data_ptr<float>();
    const float* b = buf.b.data_ptr<float>();
    float* c = buf.c.data_ptr<float>();
    if (precision == cuda::MatmulPrecision::exact) cuda::gemm_tiled<float>(p, a, b, c, timer_.stream());
    else cuda::gemm_tensor_core(p, a, b, c, precision, timer_.stream());
  }

  // Row-major C = A B is column-major C^T = B^T A^T: swap the operands and m/n.
  double time_cublas(GemmBuffers& buf, cuda::MatmulPrecision precision) {
#if defined(GANTRY_KPROF_EMULATED)
    (void)buf, (void)precision;
    GANTRY_FAIL("gantry-kprof: no cuBLAS in an emulator build");
#else
    const float alpha = 1, beta = 0;
    const int m = static_cast<int>(buf.m), n = static_cast<int>(buf.n), k = static_cast<int>(buf.k);
    float* c = buf.c.data_ptr<float>();
    std::function<void()> call;
    if (precision == cuda::MatmulPrecision::bf16) {
      call = [&] {
        KPROF_CUBLAS_CHECK(cublasGemmEx(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, buf.b16, CUDA_R_16BF, n,
                                        buf.a16, CUDA_R_16BF, k, &beta, c, CUDA_R_32F, n, CUBLAS_COMPUTE_32F,
                                        CUBLAS_GEMM_DEFAULT));
      };
    } else {
      KPROF_CUBLAS_CHECK(cublasSetMathMode(
          cublas_, precision == cuda::MatmulPrecision::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
      const float* a = buf.a.data_ptr<float>();
      const float* b = buf.b.data_ptr<float>();
      call = [&, a, b] {
        KPROF_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, b, n, a, k, &beta, c, n));
      };
    }
    const double ms = timer_.median_ms(call);
    KPROF_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
    return ms;
#endif
  }

  void add_memory_record(const std::string& kernel, int64_t rows, int64_t cols, double bytes,
                         const std::function<Tensor()>& op, const Tensor& reference) {
    Record r;
    r.kernel = kernel;
    r.shape = shape_text({rows, cols});
    r.unit = "GB/s";
    r.max_rel_error = max_rel_error(op(), reference);
    r.passed = r.max_rel_error <= 1e-5;
    if (r.passed && !check_only_) {
      r.ms = timer_.median_ms([&] { (void)op(); });
      r.rate = bytes / (r.ms * 1e6);
      r.pct_of_peak = 100 * r.rate / peaks_.copy_gbs;
    }
    records_.push_back(r);
  }

  KernelTimer timer_;
  bool quick_, check_only_;
#if !defined(GANTRY_KPROF_EMULATED)
  cublasHandle_t cublas_ = nullptr;
#endif
  Peaks peaks_;
  std::vector<Record> records_;
};

int run(int argc, char** argv) {
  std::string json_path;
  bool quick = false, images_only = false, check_only = kEmulated;
  int runs = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json" && i + 1 < argc) json_path = argv[++i];
    else if (arg == "--quick") quick = true;
    else if (arg == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--images-only") images_only = true;
    else if (arg == "--check-only") check_only = true;
    else {
      std::fprintf(stderr, "usage: gantry-kprof [--json FILE] [--quick] [--runs N] [--images-only] [--check-only]\n");
      return 2;
    }
  }
  if (cuda_device_count() == 0) {
    std::fprintf(stderr, "gantry-kprof: no CUDA device on this machine (no GPU or no driver); the kernel profiler "
                         "needs a GPU\n");
    return 3;
  }
  if (kEmulated)
    std::printf(
        "gantry-kprof: the device is the CPU emulator (GANTRY_CUDA=EMU): correctness checks against the CPU "
        "backend only, no timings (nothing here is a GPU result)\n\n");
  else if (check_only)
    std::printf("gantry-kprof: --check-only: correctness checks against the CPU backend, no timings\n\n");
  Profiler profiler(/*warmup=*/3, runs, quick, check_only);
  if (!images_only) {
    if (!check_only) profiler.measure_peaks();
    profiler.profile_gemms();
    profiler.profile_memory_bound();
    profiler.profile_adam();
    profiler.profile_kcenter();
    profiler.print_table();
  }
  bool images_passed = true;
  const nlohmann::json images = profile_image_kernels({/*warmup=*/3, runs, quick, check_only}, images_passed);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    GANTRY_CHECK(out.good(), "gantry-kprof: cannot write ", json_path);
    nlohmann::json j = images_only ? nlohmann::json::object() : profiler.to_json();
    j["image_kernels"] = images;
    out << j.dump(2) << "\n";
  }
  return (images_only || profiler.all_passed()) && images_passed ? 0 : 1;
}

}  // namespace
}  // namespace gantry::kprof

int main(int argc, char** argv) {
  try {
    return gantry::kprof::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gantry-kprof: %s\n", e.what());
    return 1;
  }
}
