// The CUDA backend against the CPU: allocator reuse and statistics, device round trips, every
// elementwise op on random non-contiguous and broadcast inputs of odd sizes, GEMM (exact and tensor
// cores), random streams, greedy k-center, and clear errors for mixed devices. CUDA-only: the CPU
// instances skip, and the CUDA instances skip without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/random/generator.h"
#include "train/coreset.h"
#include "tests/support/error_matchers.h"
#include "tests/support/test_util.h"

#ifdef GANTRY_WITH_CUDA
#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/kcenter.h"
#endif

namespace gantry::testing {
namespace {

class CudaRuntimeTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    if (device().is_cpu()) GTEST_SKIP() << "CUDA backend tests compare CUDA with the CPU; nothing to do on cpu";
  }
};
GANTRY_INSTANTIATE_DEVICE_TEST(CudaRuntimeTest);

const DType kFloatTypes[] = {DType::f32, DType::f64};
double tolerance(DType t) { return t == DType::f32 ? 1e-5 : 1e-12; }

// A [rows, cols] view with a transposed layout: the same values on CPU and on `device`.
Tensor transposed_input(int64_t rows, int64_t cols, uint64_t seed, double lo, double hi, DType dtype, Device device) {
  return random_uniform({cols, rows}, seed, lo, hi, dtype, device).t();
}

TEST_P(CudaRuntimeTest, RoundTripIsExactForEveryDtypeAndOddSizes) {
  for (DType dt : {DType::f32, DType::f64, DType::i64}) {
    for (int64_t n : {1, 7, 1023, 4'194'311}) {  // the last is larger than the 16 MiB staging buffer
      const Tensor host = random_uniform({n}, 11 + n, -1000, 1000, DType::f64).to(dt);
      const Tensor back = host.to(device()).to(kCPU);
      EXPECT_EQ(back.device(), kCPU);
      EXPECT_TRUE(all_close(back, host, 0, 0)) << dtype_name(dt) << " n=" << n;
    }
  }
  // A non-contiguous source is made contiguous on the way.
  const Tensor strided = random_uniform({37, 29}, 5, -1, 1, DType::f32).t();
  EXPECT_TRUE(all_close(strided.to(device()).to(kCPU), strided, 0, 0));
}

TEST_P(CudaRuntimeTest, StridedCopyAndCastMatchTheCpu) {
  const Tensor x = transposed_input(33, 65, 3, -50, 50, DType::f64, kCPU);
  const Tensor xd = x.to(device()).t().to(device()).t();  // same values, transposed layout on the device
  for (DType to : {DType::f32, DType::i64, DType::f64}) {
    EXPECT_TRUE(all_close(xd.to(to).to(kCPU), x.to(to), 0, 0)) << dtype_name(to);
  }
  EXPECT_TRUE(all_close(xd.contiguous().to(kCPU), x.contiguous(), 0, 0));
  Tensor filled = full({5, 3}, 2.5, DType::f32, device());
  EXPECT_TRUE(all_close(filled.to(kCPU), full({5, 3}, 2.5), 0, 0));
}

struct UnaryCase {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  double lo, hi;  // input range where the op is defined and smooth enough to compare
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, -3, 3},
      {"exp", [](const Tensor& x) { return exp(x); }, -3, 3},
      {"log", [](const Tensor& x) { return log(x); }, 0.1, 5},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.1, 5},
      {"abs", [](const Tensor& x) { return abs(x); }, -3, 3},
      {"sign", [](const Tensor& x) { return sign(x); }, -3, 3},
      {"relu", [](const Tensor& x) { return relu(x); }, -3, 3},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, -3, 3},
      {"tanh", [](const Tensor& x) { return tanh(x); }, -3, 3},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, -8, 8},
      {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 3.0); }, -4, 4},  // crosses the threshold
      {"pow_scalar", [](const Tensor& x) { return pow(x, 2.5); }, 0.1, 3},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.3, 0.4); }, -1, 1},
      {"clamp_min_only", [](const Tensor& x) { return clamp(x, -0.3, std::nullopt); }, -1, 1},
      {"add_scalar", [](const Tensor& x) { return add(x, 1.75); }, -3, 3},
      {"mul_scalar", [](const Tensor& x) { return mul(x, -2.5); }, -3, 3},
      {"rsub_scalar", [](const Tensor& x) { return rsub(0.5, x); }, -3, 3},
      {"rdiv_scalar", [](const Tensor& x) { return rdiv(1.5, x); }, 0.2, 3},
  };
}

TEST_P(CudaRuntimeTest, EveryUnaryOpMatchesTheCpuOnStridedInputs) {
  for (DType dt : kFloatTypes) {
    for (const UnaryCase& c : unary_cases()) {
      // Dense (vectorised path, odd length for the tail) and transposed (strided path).
      const Tensor dense = random_uniform({1031}, 21, c.lo, c.hi, dt);
      const Tensor strided = transposed_input(17, 45, 22, c.lo, c.hi, dt, kCPU);
      for (const Tensor& x : {dense, strided}) {
        const Tensor xd = x.is_contiguous() ? x.to(device()) : x.t().to(device()).t();
        ASSERT_EQ(xd.is_contiguous(), x.is_contiguous());
        EXPECT_TRUE(all_close(c.op(xd).to(kCPU), c.op(x), tolerance(dt), tolerance(dt)))
            << c.name << " " << dtype_name(dt) << (x.is_contiguous() ? " dense" : " strided");
      }
    }
  }
}

struct BinaryCase {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> op;
  double lo, hi;
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, -3, 3},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, -3, 3},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, -3, 3},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.2, 3},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.2, 2},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -3, 3},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -3, 3},
      {"where", [](const Tensor& a, const Tensor& b) { return where(gt(a, b), a, b); }, -3, 3},
      {"gt", [](const Tensor& a, const Tensor& b) { return gt(a, b); }, -3, 3},
      {"ge", [](const Tensor& a, const Tensor& b) { return ge(a, b); }, -3, 3},
      {"lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }, -3, 3},
      {"le", [](const Tensor& a, const Tensor& b) { return le(a, b); }, -3, 3},
      {"eq", [](const Tensor& a, const Tensor& b) { return eq(a, b); }, -3, 3},
      {"ne", [](const Tensor& a, const Tensor& b) { return ne(a, b); }, -3, 3},
  };
}

TEST_P(CudaRuntimeTest, EveryBinaryOpMatchesTheCpuWithBroadcastAndStrides) {
  for (DType dt : kFloatTypes) {
    for (const BinaryCase& c : binary_cases()) {
      // a: [7, 1, 13] broadcast against b: transposed [5, 13] -> [7, 5, 13]; plus a dense pair with
      // repeated values so eq/ne/ge/le see ties.
      const Tensor a = random_uniform({7, 1, 13}, 31, c.lo, c.hi, dt);
      const Tensor b = transposed_input(5, 13, 32, c.lo, c.hi, dt, kCPU);
      const Tensor ad = a.to(device()), bd = b.t().to(device()).t();
      EXPECT_TRUE(all_close(c.op(ad, bd).to(kCPU), c.op(a, b), tolerance(dt), tolerance(dt)))
          << c.name << " " << dtype_name(dt) << " broadcast";
      const Tensor p = random_uniform({999}, 33, c.lo, c.hi, dt);
      const Tensor q = where(gt(p, 0.5 * (c.lo + c.hi)), p, random_uniform({999}, 34, c.lo, c.hi, dt));
      EXPECT_TRUE(all_close(c.op(p.to(device()), q.to(device())).to(kCPU), c.op(p, q), tolerance(dt), tolerance(dt)))
          << c.name << " " << dtype_name(dt) << " dense";
    }
  }
}

TEST_P(CudaRuntimeTest, MixedDeviceOpsThrowClearly) {
  const Tensor a = random_uniform({4, 3}, 41, -1, 1, DType::f32);
  const Tensor b = a.to(device());
  EXPECT_TRUE(throws_error_mentioning([&] { (void)add(a, b); }, {"add"}));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)matmul(b, a.t()); }, {"matmul"}));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)zeros({2}, DType::f32, Device(DeviceType::CUDA, 999)); },
                                      {"cuda:999"}));
}

TEST_P(CudaRuntimeTest, MatmulMatchesTheCpuForOddShapesAndTransposes) {
  for (DType dt : kFloatTypes) {
    for (auto [m, k, n] : {std::tuple{1, 1, 1}, {67, 129, 33}, {130, 17, 71}}) {
      const Tensor a = random_uniform({m, k}, 51, -1, 1, dt), b = random_uniform({k, n}, 52, -1, 1, dt);
      const Tensor at = transposed_input(m, k, 53, -1, 1, dt, kCPU);
      const Tensor ad = a.to(device()), bd = b.to(device()), atd = at.t().to(device()).t();
      const double tol = dt == DType::f32 ? 1e-4 : 1e-11;
      EXPECT_TRUE(all_close(matmul(ad, bd).to(kCPU), matmul(a, b), tol, tol)) << m << "x" << k << "x" << n;
      EXPECT_TRUE(all_close(matmul(atd, bd).to(kCPU), matmul(at, b), tol, tol)) << "a transposed";
      const Tensor batch_a = random_uniform({3, m, k}, 54, -1, 1, dt);
      EXPECT_TRUE(all_close(matmul(batch_a.to(device()), bd).to(kCPU), matmul(batch_a, b), tol, tol)) << "batched";
    }
  }
}

TEST_P(CudaRuntimeTest, RandomStreamsMatchTheCpu) {
  Generator cpu_gen(1234), gpu_gen(1234);
  EXPECT_TRUE(all_close(uniform({1001}, -2, 3, gpu_gen, DType::f32, device()).to(kCPU),
                        uniform({1001}, -2, 3, cpu_gen, DType::f32), 0, 0));
  EXPECT_TRUE(all_close(randn({777}, gpu_gen, DType::f64, device()).to(kCPU), randn({777}, cpu_gen, DType::f64),
                        1e-12, 1e-12));
  EXPECT_EQ(gpu_gen.offset(), cpu_gen.offset());
}

TEST_P(CudaRuntimeTest, ReductionsAndSoftmaxMatchTheCpuOnStridedInputs) {
  for (DType dt : kFloatTypes) {
    const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
    // [9, 300, 7] seen through a permutation: every reduced/kept dim is strided.
    const Tensor x = random_uniform({7, 9, 300}, 81, -2, 2, dt).permute({1, 2, 0});
    const Tensor xd = random_uniform({7, 9, 300}, 81, -2, 2, dt, device()).permute({1, 2, 0});
    for (const DimList& dims : {DimList{}, DimList{0}, DimList{1}, DimList{2}, DimList{0, 2}}) {
      EXPECT_TRUE(all_close(sum(xd, dims).to(kCPU), sum(x, dims), tol, tol)) << "sum " << dtype_name(dt);
      EXPECT_TRUE(all_close(amax(xd, dims).to(kCPU), amax(x, dims), 0, 0)) << "amax";
      EXPECT_TRUE(all_close(amin(xd, dims, true).to(kCPU), amin(x, dims, true), 0, 0)) << "amin keepdim";
    }
    for (int64_t dim : {0, 1, 2}) {
      EXPECT_TRUE(all_close(softmax(xd, dim).to(kCPU), softmax(x, dim), tol, tol)) << "softmax dim " << dim;
      EXPECT_TRUE(all_close(log_softmax(xd, dim).to(kCPU), log_softmax(x, dim), tol, tol)) << "log_softmax";
      const auto [cv, ci] = max(x, dim);
      const auto [gv, gi] = max(xd, dim);
      EXPECT_TRUE(all_close(gv.to(kCPU), cv, 0, 0));
      EXPECT_EQ(to_vector<int64_t>(gi), to_vector<int64_t>(ci)) << "argmax dim " << dim;
    }
  }
}

TEST_P(CudaRuntimeTest, TopkGatherAndScatterMatchTheCpu) {
  // Rounded values give many ties, which must go to the lower index on both devices.
  const Tensor scores = mul(random_uniform({6, 517}, 91, -5, 5, DType::f64), 2.0).to(DType::i64).to(DType::f64);
  const Tensor scores_d = scores.to(device());
  for (bool largest : {true, false}) {
    const auto [cv, ci] = topk(scores, 40, 1, largest);
    const auto [gv, gi] = topk(scores_d, 40, 1, largest);
    EXPECT_TRUE(all_close(gv.to(kCPU), cv, 0, 0));
    EXPECT_EQ(to_vector<int64_t>(gi), to_vector<int64_t>(ci)) << (largest ? "largest" : "smallest");
  }
  const Tensor x = random_uniform({5, 33}, 92, -1, 1, DType::f64);
  const Tensor index = mul(random_uniform({5, 20}, 93, 0, 1, DType::f64), 32.99).to(DType::i64);
  EXPECT_TRUE(all_close(gather(x.to(device()), 1, index.to(device())).to(kCPU), gather(x, 1, index), 0, 0));
  const Tensor src = random_uniform({5, 20}, 94, -1, 1, DType::f64);
  EXPECT_TRUE(all_close(scatter_add({5, 33}, 1, index.to(device()), src.to(device())).to(kCPU),
                        scatter_add({5, 33}, 1, index, src), 1e-12, 1e-12));
  const Tensor bad = full({5, 20}, 33, DType::i64, device());
  EXPECT_TRUE(throws_error_mentioning([&] { (void)gather(x.to(device()), 1, bad); }, {"gather", "33"}));
}

#ifdef GANTRY_WITH_CUDA

TEST_P(CudaRuntimeTest, AllocatorReusesFreedBlocksAndCountsThem) {
  const int dev = device().index;
  const size_t bytes = (size_t{3} << 20) + 123;  // a large request, rounded to 4 MiB
  { Tensor warm = empty({static_cast<int64_t>(bytes / 4)}, DType::f32, device()); }
  const cuda::AllocatorStats before = cuda::allocator_stats(dev);
  {
    Tensor t = empty({static_cast<int64_t>(bytes / 4)}, DType::f32, device());
    const cuda::AllocatorStats during = cuda::allocator_stats(dev);
    EXPECT_EQ(during.num_cuda_mallocs, before.num_cuda_mallocs) << "the freed block was not reused";
    EXPECT_EQ(during.num_cache_hits, before.num_cache_hits + 1);
    EXPECT_EQ(during.allocated_bytes, before.allocated_bytes + cuda::round_allocation_size(bytes / 4 * 4));
    EXPECT_GE(during.peak_allocated_bytes, during.allocated_bytes);
  }
  EXPECT_EQ(cuda::allocator_stats(dev).allocated_bytes, before.allocated_bytes);
  EXPECT_EQ(cuda::round_allocation_size(1), 512u);
  EXPECT_EQ(cuda::round_allocation_size(513), 1024u);
  EXPECT_EQ(cuda::round_allocation_size((size_t{1} << 20) + 1), size_t{2} << 20);
}

TEST_P(CudaRuntimeTest, OutOfMemoryAndCaptureModeFailClearly) {
  const int64_t absurd = int64_t{1} << 50;  // 4 PiB of float32
  EXPECT_TRUE(throws_error_mentioning([&] { (void)empty({absurd}, DType::f32, device()); },
                                      {"CUDA out of memory", "tried to allocate", "reserved"}));
  { Tensor cached = empty({1000}, DType::f32, device()); }
  {
    cuda::CaptureModeGuard capture(device().index);
    Tensor from_cache = empty({1000}, DType::f32, device());  // served by the cache: fine
    EXPECT_TRUE(throws_error_mentioning([&] { (void)empty({12'345'677}, DType::f32, device()); },
                                        {"captured", "cudaMalloc"}));
  }
  Tensor after = empty({12'345'677}, DType::f32, device());  // capture over: allowed again
  EXPECT_EQ(after.numel(), 12'345'677);
}

TEST_P(CudaRuntimeTest, TensorCoreMatmulIsCloseToExact) {
  const Tensor a = random_uniform({75, 130}, 61, -1, 1, DType::f32), b = random_uniform({130, 47}, 62, -1, 1, DType::f32);
  const Tensor exact = matmul(a, b);
  for (auto [precision, tol] : {std::pair{cuda::MatmulPrecision::tf32, 1e-2}, {cuda::MatmulPrecision::bf16, 5e-2}}) {
    cuda::set_matmul_precision(precision);
    const Tensor got = matmul(a.to(device()), b.t().to(device()).t()).to(kCPU);
    cuda::set_matmul_precision(cuda::MatmulPrecision::exact);
    EXPECT_TRUE(all_close(got, exact, tol, tol)) << cuda::matmul_precision_name(precision);
  }
}

TEST_P(CudaRuntimeTest, KCenterMatchesTheCpuSampler) {
  const int64_t n = 1500, d = 19, k = 97, first = 413;
  const Tensor points = random_uniform({n, d}, 71, -1, 1, DType::f32);
  const std::vector<int64_t> expected = train::greedy_k_center<float>(points.data_ptr<float>(), n, d, k, first);
  const Tensor got = cuda::kcenter_select(points.to(device()), k, first);
  EXPECT_EQ(to_vector<int64_t>(got), expected);
  EXPECT_TRUE(throws_error_mentioning([&] { (void)cuda::kcenter_select(points.to(device()), n + 1, 0); },
                                      {"kcenter_select", "k ="}));
}

#endif  // GANTRY_WITH_CUDA

}  // namespace
}  // namespace gantry::testing
