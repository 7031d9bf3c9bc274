// The engine's CPU threads (engine/core/cpu_threads.h): parallel_for covers every item exactly once in
// disjoint ranges, runs nested calls inline and rethrows a body's exception; and every CPU kernel that
// splits its work over the threads gives the same bits on 1, 2 and 3 threads, on shapes that take each
// of its paths (image chunks, row bands, padding, strides, sliding and general pooling windows).
// OpenBLAS stays on one thread there: its GEMMs tile differently on more and may round differently,
// which is OpenBLAS's behaviour and not what this checks.
#include <cblas.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "engine/core/cpu_threads.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

// Every parallel_for of two or more items splits (min work per range 1), so the kernels below take
// their parallel paths on small shapes; the thread count and the minimum are restored afterwards.
class CpuThreads : public ::testing::Test {
 protected:
  void SetUp() override { set_min_work_per_range(1); }
  void TearDown() override {
    set_cpu_threads(saved_threads_);
    set_min_work_per_range(saved_work_);
  }
  int saved_threads_ = cpu_threads();
  int64_t saved_work_ = min_work_per_range();
};

std::vector<std::pair<int64_t, int64_t>> ranges_of(int64_t n, int64_t grain) {
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    std::lock_guard<std::mutex> lock(m);
    ranges.emplace_back(b, e);
  });
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

TEST_F(CpuThreads, RangesCoverEveryItemOnceAndHoldAtLeastTheGrain) {
  for (int threads : {1, 2, 3, 5}) {
    set_cpu_threads(threads);
    for (int64_t n : {1, 2, 7, 64, 1000}) {
      for (int64_t grain : {1, 3, 100}) {
        const auto ranges = ranges_of(n, grain);
        int64_t next = 0;
        for (const auto& [b, e] : ranges) {
          EXPECT_EQ(b, next) << "threads " << threads << " n " << n << " grain " << grain;
          EXPECT_LT(b, e);
          next = e;
        }
        EXPECT_EQ(next, n);
        const int64_t most = std::min<int64_t>(threads, (n + grain - 1) / grain);
        EXPECT_LE(static_cast<int64_t>(ranges.size()), most);
        if (ranges.size() > 1) {
          for (const auto& [b, e] : ranges) EXPECT_GE(e - b, std::min(grain, n)) << "n " << n << " grain " << grain;
        }
      }
    }
  }
}

TEST_F(CpuThreads, SplitsWorkWhenThereIsEnoughOfIt) {
  set_cpu_threads(3);
  EXPECT_EQ(ranges_of(300, 10).size(), 3u);
  EXPECT_EQ(ranges_of(300, 1000).size(), 1u);  // under one grain: inline
  set_cpu_threads(1);
  EXPECT_EQ(ranges_of(300, 1).size(), 1u);
  EXPECT_EQ(ranges_of(0, 1).size(), 0u);
}

TEST_F(CpuThreads, NestedCallsRunInlineAndStillCoverEverything) {
  set_cpu_threads(2);
  std::atomic<int64_t> items{0};
  std::atomic<int> inner_ranges{0};
  parallel_for(4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      parallel_for(100, 1, [&](int64_t ib, int64_t ie) {
        ++inner_ranges;
        items += ie - ib;
      });
  });
  EXPECT_EQ(items.load(), 400);
  EXPECT_EQ(inner_ranges.load(), 4);  // one inline range per inner call
}

TEST_F(CpuThreads, ABodysExceptionReachesTheCallerAndThePoolKeepsWorking) {
  set_cpu_threads(2);
  EXPECT_THROW(parallel_for(10, 1,
                            [](int64_t b, int64_t) {
                              if (b > 0) throw std::runtime_error("second range");
                            }),
               std::runtime_error);
  EXPECT_EQ(ranges_of(10, 1).size(), 2u);
}

TEST_F(CpuThreads, RejectsZeroThreadsAndZeroWork) {
  EXPECT_THROW(set_cpu_threads(0), Error);
  EXPECT_THROW(set_min_work_per_range(0), Error);
}

TEST_F(CpuThreads, TheGrainKeepsEachRangeAtTheMinimumWork) {
  set_min_work_per_range(1000);
  EXPECT_EQ(grain_for(10), 100);
  EXPECT_EQ(grain_for(5000), 1);
  EXPECT_EQ(grain_for(0), 1000);
}

// f32 and int64 values (below 2^53) convert to f64 exactly, so equal f64 bits are equal bits.
bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const std::vector<double> va = to_vector<double>(a.to(DType::f64)), vb = to_vector<double>(b.to(DType::f64));
  return std::memcmp(va.data(), vb.data(), va.size() * sizeof(double)) == 0;
}

// Sets the engine pool to `threads` threads and OpenBLAS to one.
void set_engine_threads(int threads) {
  set_cpu_threads(threads);
  openblas_set_num_threads(1);
}

// Runs f on 1, 2 and 3 engine threads and expects the same bits each time.
template <typename F>
void expect_thread_count_independent(const char* what, F&& f) {
  set_engine_threads(1);
  const std::vector<Tensor> one = f();
  for (int threads : {2, 3}) {
    set_engine_threads(threads);
    const std::vector<Tensor> many = f();
    ASSERT_EQ(many.size(), one.size());
    for (size_t i = 0; i < one.size(); ++i)
      EXPECT_TRUE(same_bits(one[i], many[i])) << what << ": result " << i << " differs on " << threads << " threads";
  }
}

struct ConvCase {
  const char* name;
  Shape x, w;
  Size2 stride, padding;
};

TEST_F(CpuThreads, ConvolutionsGiveTheSameBitsOnAnyThreadCount) {
  const ConvCase cases[] = {
      {"chunked images, padded", {6, 5, 9, 9}, {7, 5, 3, 3}, {1, 1}, {1, 1}},
      {"chunked images, stride 2", {4, 3, 12, 12}, {6, 3, 3, 3}, {2, 2}, {0, 0}},
      {"pointwise", {3, 16, 10, 10}, {8, 16, 1, 1}, {1, 1}, {0, 0}},
      {"row bands of one large image", {2, 8, 80, 80}, {12, 8, 3, 3}, {1, 1}, {1, 1}},
      {"bands of a large pointwise image", {1, 32, 100, 100}, {16, 32, 1, 1}, {1, 1}, {0, 0}},
  };
  for (const ConvCase& c : cases) {
    const Tensor x = random_uniform(c.x, 1), w = random_uniform(c.w, 2), bias = random_uniform({c.w[0]}, 3);
    expect_thread_count_independent(c.name, [&] {
      const Tensor out = conv2d(x, w, bias, c.stride, c.padding);
      const Tensor g = random_uniform(out.shape(), 4);
      return std::vector<Tensor>{out, conv2d_relu(x, w, bias, c.stride, c.padding),
                                 conv2d_input_grad(g, w, {c.x[2], c.x[3]}, c.stride, c.padding),
                                 conv2d_weight_grad(x, g, {c.w[2], c.w[3]}, c.stride, c.padding)};
    });
  }
}

TEST_F(CpuThreads, PoolingGivesTheSameBitsOnAnyThreadCount) {
  const Tensor x = random_uniform({3, 7, 35, 35}, 5);
  expect_thread_count_independent("pooling", [&] {
    auto [max_out, max_indices] = max_pool2d_with_indices(x, {3, 3}, Size2{2, 2});
    return std::vector<Tensor>{avg_pool2d(x, {3, 3}, Size2{1, 1}, {1, 1}, false),
                               avg_pool2d(x, {3, 3}, Size2{2, 2}),
                               adaptive_avg_pool2d(x, {5, 4}),
                               max_out,
                               max_indices,
                               max_pool2d(x, {3, 3}, Size2{1, 1}, {1, 1})};
  });
}

TEST_F(CpuThreads, PoolingGradientsGiveTheSameBitsOnAnyThreadCount) {
  const Tensor x0 = random_uniform({2, 9, 17, 17}, 6);
  expect_thread_count_independent("pooling gradients", [&] {
    const Tensor x = leaf(x0);
    const Tensor y = avg_pool2d(x, {3, 3}, Size2{2, 2}, {1, 1});
    sum(mul(y, random_uniform(y.shape(), 7))).backward();
    return std::vector<Tensor>{x.grad()};
  });
}

}  // namespace
}  // namespace gantry::testing
