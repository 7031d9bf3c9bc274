// The CUDA image kernels against the CPU kernels on identical random inputs, called through the
// dispatch tables with poisoned (NaN) outputs: convolution forward, input gradient and weight gradient
// at odd sizes that are no multiple of the tiles (asymmetric kernels, stride, padding, dilation,
// strides that leave input pixels untouched, split reductions), in exact f32, f64, TF32 and BF16;
// transposed convolution through the op; pooling over sliding, adaptive and irregular windows; and
// the fused attention forward when the backend registers one. Skips visibly without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "engine/dispatch/conv_kernels.h"
#include "engine/dispatch/pool_kernels.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"
#include "tests/support/test_util.h"

#if defined(GANTRY_WITH_CUDA)
#include "engine/dispatch/attention_kernels.h"
#include "kernels/cuda/gemm.h"
#endif

namespace gantry::testing {
namespace {

#if defined(GANTRY_WITH_CUDA)

const Device kGpu(DeviceType::CUDA, 0);

// max |got - want| / max |want|: scale-free, and NaN must match NaN.
double max_rel_diff(const Tensor& got, const Tensor& want) {
  const std::vector<double> g = to_vector<double>(got.to(kCPU)), w = to_vector<double>(want.to(kCPU));
  if (g.size() != w.size()) return INFINITY;
  double err = 0, scale = 1e-300;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) || std::isnan(w[i])) {
      if (std::isnan(g[i]) != std::isnan(w[i])) return INFINITY;
      continue;
    }
    err = std::max(err, std::abs(g[i] - w[i]));
    scale = std::max(scale, std::abs(w[i]));
  }
  return err / scale;
}

Tensor poisoned(const Shape& shape, DType dtype) {
  return full(shape, std::numeric_limits<double>::quiet_NaN(), dtype, kGpu);
}

// Restores the process-wide matmul precision when the test ends.
class PrecisionGuard {
 public:
  explicit PrecisionGuard(cuda::MatmulPrecision p) : saved_(cuda::matmul_precision()) { cuda::set_matmul_precision(p); }
  ~PrecisionGuard() { cuda::set_matmul_precision(saved_); }
  PrecisionGuard(const PrecisionGuard&) = delete;
  PrecisionGuard& operator=(const PrecisionGuard&) = delete;

 private:
  cuda::MatmulPrecision saved_;
};

class CUDAImageKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0)
      GTEST_SKIP() << "no CUDA device (no GPU or no driver): the CUDA image kernels are built but not run here";
    if (!conv2d_forward_kernel.has(DeviceType::CUDA) || !avg_pool2d_kernel.has(DeviceType::CUDA))
      GTEST_SKIP() << "no CUDA convolution/pooling kernels are registered in this build";
  }
};

struct ConvCase {
  const char* what;
  int64_t n, c, h, w, o, kh, kw;
  Conv2dParams p;
};

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {"odd 3x3", 3, 5, 13, 11, 7, 3, 3, {1, 1, 1, 1, 1, 1}},
      {"1x7", 2, 6, 17, 17, 9, 1, 7, {1, 1, 0, 3, 1, 1}},
      {"7x1", 2, 6, 17, 17, 9, 7, 1, {1, 1, 3, 0, 1, 1}},
      {"4x4 stride 2 (DCGAN)", 3, 4, 16, 16, 10, 4, 4, {2, 2, 1, 1, 1, 1}},
      {"3x2 stride 2x3 pad 1x2 dilation 2x1", 2, 3, 23, 19, 5, 3, 2, {2, 3, 1, 2, 2, 1}},
      {"1x1 stride 3x2 (untouched input pixels)", 2, 4, 10, 11, 3, 1, 1, {3, 2, 0, 0, 1, 1}},
      {"pointwise", 4, 9, 7, 6, 5, 1, 1, {1, 1, 0, 0, 1, 1}},
      {"kernel larger than the input", 2, 3, 3, 3, 4, 5, 5, {1, 1, 1, 1, 1, 1}},
      {"channels across tiles", 2, 70, 9, 9, 130, 3, 3, {1, 1, 1, 1, 1, 1}},
      {"Conv2d_1a 3->32 s2 at 299", 1, 3, 299, 299, 32, 3, 3, {2, 2, 0, 0, 1, 1}},
  };
  return cases;
}

// Shapes with hundreds of MFLOP per pass: a separate test, labelled slow for the CPU emulator.
const std::vector<ConvCase>& large_conv_cases() {
  static const std::vector<ConvCase> cases = {
      {"wide tiles", 20, 19, 32, 32, 130, 3, 3, {1, 1, 1, 1, 1, 1}},
      {"3->64 at 32x32, batch 64 (split reduction)", 64, 3, 32, 32, 64, 3, 3, {1, 1, 1, 1, 1, 1}},
  };
  return cases;
}

int64_t conv_out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

struct ConvTensors {
  Tensor x, w, b, g;  // host inputs; g has the output's shape
  Shape out_shape;
};

ConvTensors make_conv(const ConvCase& c, DType dt, uint64_t seed) {
  ConvTensors t;
  const int64_t oh = conv_out(c.h, c.kh, c.p.stride_h, c.p.pad_h, c.p.dil_h);
  const int64_t ow = conv_out(c.w, c.kw, c.p.stride_w, c.p.pad_w, c.p.dil_w);
  t.out_shape = {c.n, c.o, oh, ow};
  t.x = random_uniform({c.n, c.c, c.h, c.w}, seed, -1, 1, dt);
  t.w = random_uniform({c.o, c.c, c.kh, c.kw}, seed + 1, -1, 1, dt);
  t.b = random_uniform({c.o}, seed + 2, -1, 1, dt);
  t.g = random_uniform(t.out_shape, seed + 3, -1, 1, dt);
  return t;
}

// Runs the three convolution kernels on CPU and CUDA and checks the relative difference.
void check_conv_kernels(DType dt, double tol, const std::vector<ConvCase>& cases = conv_cases()) {
  uint64_t seed = 100;
  for (const ConvCase& c : cases) {
    const ConvTensors t = make_conv(c, dt, seed);
    seed += 10;
    const std::string what = std::string(c.what) + " " + dtype_name(dt) + " (" +
                             cuda::matmul_precision_name(cuda::matmul_precision()) + ")";
    const Tensor xd = t.x.to(kGpu), wd = t.w.to(kGpu), bd = t.b.to(kGpu), gd = t.g.to(kGpu);

    Tensor out_cpu = empty(t.out_shape, dt, kCPU), out_gpu = poisoned(t.out_shape, dt);
    conv2d_forward_kernel(DeviceType::CPU, out_cpu, t.x, t.w, t.b, c.p);
    conv2d_forward_kernel(DeviceType::CUDA, out_gpu, xd, wd, bd, c.p);
    EXPECT_LE(max_rel_diff(out_gpu, out_cpu), tol) << "forward, " << what;
    Tensor nobias_cpu = empty(t.out_shape, dt, kCPU), nobias_gpu = poisoned(t.out_shape, dt);
    conv2d_forward_kernel(DeviceType::CPU, nobias_cpu, t.x, t.w, Tensor(), c.p);
    conv2d_forward_kernel(DeviceType::CUDA, nobias_gpu, xd, wd, Tensor(), c.p);
    EXPECT_LE(max_rel_diff(nobias_gpu, nobias_cpu), tol) << "forward without bias, " << what;

    Tensor gx_cpu = empty(t.x.shape(), dt, kCPU), gx_gpu = poisoned(t.x.shape(), dt);
    conv2d_input_grad_kernel(DeviceType::CPU, gx_cpu, t.g, t.w, c.p);
    conv2d_input_grad_kernel(DeviceType::CUDA, gx_gpu, gd, wd, c.p);
    EXPECT_LE(max_rel_diff(gx_gpu, gx_cpu), tol) << "input grad, " << what;

    Tensor gw_cpu = empty(t.w.shape(), dt, kCPU), gw_gpu = poisoned(t.w.shape(), dt);
    conv2d_weight_grad_kernel(DeviceType::CPU, gw_cpu, t.x, t.g, c.p);
    conv2d_weight_grad_kernel(DeviceType::CUDA, gw_gpu, xd, gd, c.p);
    EXPECT_LE(max_rel_diff(gw_gpu, gw_cpu), tol) << "weight grad, " << what;
  }
}

TEST_F(CUDAImageKernels, ConvExactFloat32MatchesCpu) {
  PrecisionGuard guard(cuda::MatmulPrecision::exact);
  check_conv_kernels(DType::f32, 1e-5);
}

TEST_F(CUDAImageKernels, ConvFloat64MatchesCpu) {
  PrecisionGuard guard(cuda::MatmulPrecision::tf32);  // f64 never takes the tensor-core path
  check_conv_kernels(DType::f64, 1e-12);
}

TEST_F(CUDAImageKernels, ConvTf32MatchesCpu) {
  PrecisionGuard guard(cuda::MatmulPrecision::tf32);
  check_conv_kernels(DType::f32, 1e-3);
}

TEST_F(CUDAImageKernels, ConvBf16MatchesCpu) {
  PrecisionGuard guard(cuda::MatmulPrecision::bf16);
  check_conv_kernels(DType::f32, 1e-2);
}

TEST_F(CUDAImageKernels, ConvLargeShapesMatchCpuInEveryPrecision) {
  for (auto [precision, dt, tol] : {std::tuple{cuda::MatmulPrecision::exact, DType::f32, 1e-5},
                                    {cuda::MatmulPrecision::exact, DType::f64, 1e-12},
                                    {cuda::MatmulPrecision::tf32, DType::f32, 1e-3},
                                    {cuda::MatmulPrecision::bf16, DType::f32, 1e-2}}) {
    PrecisionGuard guard(precision);
    check_conv_kernels(dt, tol, large_conv_cases());
  }
}

TEST_F(CUDAImageKernels, WeightGradOfEmptyBatchIsZero) {
  const Conv2dParams p{1, 1, 1, 1, 1, 1};
  const Tensor x = zeros({0, 3, 5, 5}, DType::f32, kGpu), g = zeros({0, 4, 5, 5}, DType::f32, kGpu);
  Tensor gw = poisoned({4, 3, 3, 3}, DType::f32);
  conv2d_weight_grad_kernel(DeviceType::CUDA, gw, x, g, p);
  EXPECT_EQ(max_rel_diff(gw, zeros({4, 3, 3, 3})), 0.0);
}

TEST_F(CUDAImageKernels, ConvTranspose2dMatchesCpu) {
  PrecisionGuard guard(cuda::MatmulPrecision::exact);
  NoGradGuard no_grad;
  // DCGAN generator upsampling (4x4, stride 2, padding 1) and an odd one with output padding.
  const Tensor x = random_uniform({8, 64, 8, 8}, 7, -1, 1, DType::f32), w = random_uniform({64, 32, 4, 4}, 8, -1, 1, DType::f32);
  const Tensor b = random_uniform({32}, 9, -1, 1, DType::f32);
  EXPECT_LE(max_rel_diff(conv_transpose2d(x.to(kGpu), w.to(kGpu), b.to(kGpu), {2, 2}, {1, 1}, {0, 0}, {1, 1}),
                         conv_transpose2d(x, w, b, {2, 2}, {1, 1}, {0, 0}, {1, 1})),
            1e-5);
  const Tensor x2 = random_uniform({3, 5, 7, 6}, 10, -1, 1, DType::f32), w2 = random_uniform({5, 3, 3, 2}, 11, -1, 1, DType::f32);
  EXPECT_LE(max_rel_diff(conv_transpose2d(x2.to(kGpu), w2.to(kGpu), Tensor(), {3, 2}, {1, 0}, {2, 1}, {1, 2}),
                         conv_transpose2d(x2, w2, Tensor(), {3, 2}, {1, 0}, {2, 1}, {1, 2})),
            1e-5);
}

// ---- pooling ----

void sliding(int64_t in, int64_t k, int64_t s, int64_t p, bool count_pad, std::vector<int64_t>& start,
             std::vector<int64_t>& end, std::vector<double>& div) {
  for (int64_t i = 0; i < (in + 2 * p - k) / s + 1; ++i) {
    const int64_t lo = i * s - p, hi = std::min(lo + k, in + p);
    start.push_back(std::max<int64_t>(lo, 0));
    end.push_back(std::min(hi, in));
    div.push_back(static_cast<double>(count_pad ? hi - lo : end.back() - start.back()));
  }
}

void adaptive(int64_t in, int64_t out, std::vector<int64_t>& start, std::vector<int64_t>& end, std::vector<double>& div) {
  for (int64_t i = 0; i < out; ++i) {
    start.push_back((i * in) / out);
    end.push_back(((i + 1) * in + out - 1) / out);
    div.push_back(static_cast<double>(end.back() - start.back()));
  }
}

struct PoolCase {
  const char* what;
  Shape x;
  PoolWindows win;
};

std::vector<PoolCase> pool_cases() {
  std::vector<PoolCase> cases;
  {
    PoolCase c{"3x3 stride 2 pad 1, padding counted", {3, 5, 17, 15}, {}};
    sliding(17, 3, 2, 1, true, c.win.row_start, c.win.row_end, c.win.row_divisor);
    sliding(15, 3, 2, 1, true, c.win.col_start, c.win.col_end, c.win.col_divisor);
    cases.push_back(c);
  }
  {
    PoolCase c{"3x3 stride 1 pad 1 (Inception), padding not counted", {2, 7, 35, 35}, {}};
    sliding(35, 3, 1, 1, false, c.win.row_start, c.win.row_end, c.win.row_divisor);
    sliding(35, 3, 1, 1, false, c.win.col_start, c.win.col_end, c.win.col_divisor);
    cases.push_back(c);
  }
  {
    PoolCase c{"2x2 stride 2", {4, 3, 32, 32}, {}};
    sliding(32, 2, 2, 0, false, c.win.row_start, c.win.row_end, c.win.row_divisor);
    sliding(32, 2, 2, 0, false, c.win.col_start, c.win.col_end, c.win.col_divisor);
    cases.push_back(c);
  }
  {
    PoolCase c{"adaptive 8x8 -> 3x5", {2, 4, 8, 8}, {}};
    adaptive(8, 3, c.win.row_start, c.win.row_end, c.win.row_divisor);
    adaptive(8, 5, c.win.col_start, c.win.col_end, c.win.col_divisor);
    cases.push_back(c);
  }
  {
    PoolCase c{"irregular windows", {2, 3, 6, 5}, {}};
    c.win.row_start = {2, 0, 1, 0};
    c.win.row_end = {5, 3, 2, 6};
    c.win.row_divisor = {3, 2.5, 1, 7};
    c.win.col_start = {4, 0, 1};
    c.win.col_end = {5, 5, 3};
    c.win.col_divisor = {1, 5, 3};
    cases.push_back(c);
  }
  return cases;
}

Shape pooled(const PoolCase& c) {
  return {c.x[0], c.x[1], static_cast<int64_t>(c.win.row_start.size()), static_cast<int64_t>(c.win.col_start.size())};
}

TEST_F(CUDAImageKernels, PoolingMatchesCpu) {
  uint64_t seed = 500;
  for (const PoolCase& c : pool_cases())
    for (DType dt : {DType::f32, DType::f64}) {
      const std::string what = std::string(c.what) + " " + dtype_name(dt);
      const Tensor x = random_uniform(c.x, seed++, -1, 1, dt), g = random_uniform(pooled(c), seed++, -1, 1, dt);
      const Tensor xd = x.to(kGpu), gd = g.to(kGpu);

      Tensor avg_cpu = empty(pooled(c), dt, kCPU), avg_gpu = poisoned(pooled(c), dt);
      avg_pool2d_kernel(DeviceType::CPU, avg_cpu, x, c.win);
      avg_pool2d_kernel(DeviceType::CUDA, avg_gpu, xd, c.win);
      EXPECT_LE(max_rel_diff(avg_gpu, avg_cpu), 1e-12) << "avg_pool2d, " << what;

      Tensor back_cpu = empty(c.x, dt, kCPU), back_gpu = poisoned(c.x, dt);
      avg_pool2d_backward_kernel(DeviceType::CPU, back_cpu, g, c.win);
      avg_pool2d_backward_kernel(DeviceType::CUDA, back_gpu, gd, c.win);
      EXPECT_LE(max_rel_diff(back_gpu, back_cpu), 1e-12) << "avg_pool2d_backward, " << what;

      // Ties and NaN: quantised values tie often; a NaN must win its windows.
      std::vector<double> xv = to_vector<double>(x);
      for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::round(xv[i] * 3);
      xv[xv.size() / 3] = std::numeric_limits<double>::quiet_NaN();
      const Tensor xq = from_vector(xv, c.x).to(dt);
      Tensor max_cpu = empty(pooled(c), dt, kCPU), idx_cpu = empty(pooled(c), DType::i64, kCPU);
      Tensor max_gpu = poisoned(pooled(c), dt), idx_gpu = full(pooled(c), -7, DType::i64, kGpu);
      max_pool2d_kernel(DeviceType::CPU, max_cpu, idx_cpu, xq, c.win);
      max_pool2d_kernel(DeviceType::CUDA, max_gpu, idx_gpu, xq.to(kGpu), c.win);
      EXPECT_EQ(max_rel_diff(max_gpu, max_cpu), 0.0) << "max_pool2d, " << what;
      EXPECT_EQ(to_vector<int64_t>(idx_gpu.to(kCPU)), to_vector<int64_t>(idx_cpu)) << "max_pool2d indices, " << what;
    }
}

// ---- attention ----

TEST_F(CUDAImageKernels, AttentionMatchesCpu) {
  if (!attention_kernel.has(DeviceType::CUDA)) GTEST_SKIP() << "no fused CUDA attention kernel is registered";
  struct Case {
    int64_t b, lq, lk, d, dv;
  };
  const std::vector<Case> cases = {{2, 70, 133, 20, 70}, {3, 256, 256, 32, 128}, {1, 1, 1, 1, 1},
                                   {2, 65, 64, 8, 65},   {1, 1024, 256, 8, 32},  {2, 17, 300, 0, 9}};
  uint64_t seed = 900;
  for (const Case& c : cases)
    for (DType dt : {DType::f32, DType::f64}) {
      const Tensor q = random_uniform({c.b, c.lq, c.d}, seed++, -2, 2, dt);
      const Tensor k = random_uniform({c.b, c.lk, c.d}, seed++, -2, 2, dt);
      const Tensor v = random_uniform({c.b, c.lk, c.dv}, seed++, -1, 1, dt);
      const double scale = c.d > 0 ? 1.0 / std::sqrt(static_cast<double>(c.d)) : 1.0;
      Tensor out_cpu = empty({c.b, c.lq, c.dv}, dt, kCPU), out_gpu = poisoned({c.b, c.lq, c.dv}, dt);
      attention_kernel(DeviceType::CPU, out_cpu, q, k, v, scale);
      attention_kernel(DeviceType::CUDA, out_gpu, q.to(kGpu), k.to(kGpu), v.to(kGpu), scale);
      EXPECT_LE(max_rel_diff(out_gpu, out_cpu), dt == DType::f32 ? 1e-5 : 1e-12)
          << "attention b " << c.b << " lq " << c.lq << " lk " << c.lk << " d " << c.d << " dv " << c.dv << " "
          << dtype_name(dt);
    }
}

#else  // no CUDA backend in this build

TEST(CUDAImageKernels, NotBuilt) { GTEST_SKIP() << "built without the CUDA backend (GANTRY_CUDA=OFF or no nvcc)"; }

#endif

}  // namespace
}  // namespace gantry::testing
