// Pooling and resampling: avg_pool2d (padding counted or not), max_pool2d with indices,
// adaptive_avg_pool2d, nearest and bilinear interpolation, against naive per-pixel loops; gradients by
// finite differences; double backward; bad input.
#include <cmath>
#include <limits>
#include <vector>

#include "engine/dispatch/pool_kernels.h"
#include "engine/nn/pooling.h"
#include "engine/ops/nn_ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

// A host copy of an NCHW tensor with element access.
struct Planes {
  explicit Planes(const Tensor& t) : shape(t.shape()), v(to_vector<double>(t.to(DType::f64))) {}
  double at(int64_t p, int64_t y, int64_t x) const { return v[(p * shape[2] + y) * shape[3] + x]; }
  int64_t planes() const { return shape[0] * shape[1]; }
  Shape shape;
  std::vector<double> v;
};

Shape out_shape_of(const Shape& in, int64_t oh, int64_t ow) { return {in[0], in[1], oh, ow}; }

// Average over the window of the padded input; the divisor counts the padded positions or not.
Tensor naive_avg_pool(const Tensor& x, Size2 k, Size2 s, Size2 p, bool count_pad) {
  const Planes in(x);
  const int64_t oh = (in.shape[2] + 2 * p[0] - k[0]) / s[0] + 1, ow = (in.shape[3] + 2 * p[1] - k[1]) / s[1] + 1;
  std::vector<double> out;
  for (int64_t pl = 0; pl < in.planes(); ++pl)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = 0;
        int64_t inside = 0, padded = 0;
        for (int64_t a = 0; a < k[0]; ++a)
          for (int64_t b = 0; b < k[1]; ++b) {
            const int64_t y = i * s[0] - p[0] + a, xx = j * s[1] - p[1] + b;
            if (y >= -p[0] && y < in.shape[2] + p[0] && xx >= -p[1] && xx < in.shape[3] + p[1]) ++padded;
            if (y < 0 || y >= in.shape[2] || xx < 0 || xx >= in.shape[3]) continue;
            acc += in.at(pl, y, xx);
            ++inside;
          }
        out.push_back(acc / static_cast<double>(count_pad ? padded : inside));
      }
  return from_vector(out, out_shape_of(in.shape, oh, ow));
}

std::pair<Tensor, Tensor> naive_max_pool(const Tensor& x, Size2 k, Size2 s, Size2 p) {
  const Planes in(x);
  const int64_t oh = (in.shape[2] + 2 * p[0] - k[0]) / s[0] + 1, ow = (in.shape[3] + 2 * p[1] - k[1]) / s[1] + 1;
  std::vector<double> out;
  std::vector<int64_t> idx;
  for (int64_t pl = 0; pl < in.planes(); ++pl)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double best = -std::numeric_limits<double>::infinity();
        int64_t best_i = -1;
        for (int64_t a = 0; a < k[0]; ++a)
          for (int64_t b = 0; b < k[1]; ++b) {
            const int64_t y = i * s[0] - p[0] + a, xx = j * s[1] - p[1] + b;
            if (y < 0 || y >= in.shape[2] || xx < 0 || xx >= in.shape[3]) continue;
            if (best_i < 0 || in.at(pl, y, xx) > best) {
              best = in.at(pl, y, xx);
              best_i = y * in.shape[3] + xx;
            }
          }
        out.push_back(best);
        idx.push_back(best_i);
      }
  const Shape os = out_shape_of(in.shape, oh, ow);
  return {from_vector(out, os), from_vector(idx, os)};
}

Tensor naive_adaptive_avg_pool(const Tensor& x, Size2 o) {
  const Planes in(x);
  const int64_t h = in.shape[2], w = in.shape[3];
  std::vector<double> out;
  for (int64_t pl = 0; pl < in.planes(); ++pl)
    for (int64_t i = 0; i < o[0]; ++i)
      for (int64_t j = 0; j < o[1]; ++j) {
        const auto y0 = static_cast<int64_t>(std::floor(static_cast<double>(i * h) / o[0]));
        const auto y1 = static_cast<int64_t>(std::ceil(static_cast<double>((i + 1) * h) / o[0]));
        const auto x0 = static_cast<int64_t>(std::floor(static_cast<double>(j * w) / o[1]));
        const auto x1 = static_cast<int64_t>(std::ceil(static_cast<double>((j + 1) * w) / o[1]));
        double acc = 0;
        for (int64_t y = y0; y < y1; ++y)
          for (int64_t xx = x0; xx < x1; ++xx) acc += in.at(pl, y, xx);
        out.push_back(acc / static_cast<double>((y1 - y0) * (x1 - x0)));
      }
  return from_vector(out, out_shape_of(in.shape, o[0], o[1]));
}

// Bilinear sampling of each output pixel from its four neighbours (half-pixel centres), with the
// per-dim scale in/out.
Tensor naive_bilinear(const Tensor& x, Size2 o, bool align_corners) {
  const Planes in(x);
  const int64_t h = in.shape[2], w = in.shape[3];
  const auto source = [&](int64_t dst, int64_t n_in, int64_t n_out) {
    if (align_corners) return n_out > 1 ? dst * static_cast<double>(n_in - 1) / static_cast<double>(n_out - 1) : 0.0;
    return std::max(0.0, (dst + 0.5) * static_cast<double>(n_in) / static_cast<double>(n_out) - 0.5);
  };
  std::vector<double> out;
  for (int64_t pl = 0; pl < in.planes(); ++pl)
    for (int64_t i = 0; i < o[0]; ++i)
      for (int64_t j = 0; j < o[1]; ++j) {
        const double sy = source(i, h, o[0]), sx = source(j, w, o[1]);
        const int64_t y0 = std::min<int64_t>(static_cast<int64_t>(sy), h - 1), x0 = std::min<int64_t>(static_cast<int64_t>(sx), w - 1);
        const int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
        const double fy = std::min(sy - static_cast<double>(y0), 1.0), fx = std::min(sx - static_cast<double>(x0), 1.0);
        out.push_back((1 - fy) * ((1 - fx) * in.at(pl, y0, x0) + fx * in.at(pl, y0, x1)) +
                      fy * ((1 - fx) * in.at(pl, y1, x0) + fx * in.at(pl, y1, x1)));
      }
  return from_vector(out, out_shape_of(in.shape, o[0], o[1]));
}

Tensor naive_nearest(const Tensor& x, Size2 o) {
  const Planes in(x);
  std::vector<double> out;
  for (int64_t pl = 0; pl < in.planes(); ++pl)
    for (int64_t i = 0; i < o[0]; ++i)
      for (int64_t j = 0; j < o[1]; ++j)
        out.push_back(in.at(pl, std::min(i * in.shape[2] / o[0], in.shape[2] - 1),
                            std::min(j * in.shape[3] / o[1], in.shape[3] - 1)));
  return from_vector(out, out_shape_of(in.shape, o[0], o[1]));
}

class PoolingTest : public DeviceTest {
 protected:
  // The pooling ops run on kernels of their own; the resampling ops are compositions that run
  // wherever index_select and matmul do.
  bool has_pool_kernels() const { return !device().is_cuda() || avg_pool2d_kernel.has(DeviceType::CUDA); }
  Tensor rand(const Shape& s, uint64_t seed, DType dt = DType::f64) {
    return random_uniform(s, seed, -1.0, 1.0, dt, device());
  }
  Tensor host(const Tensor& t) { return t.to(kCPU); }
};

struct PoolCase {
  Shape x;
  Size2 k, s, p;
};

const std::vector<PoolCase>& pool_cases() {
  static const std::vector<PoolCase> cases = {
      {{2, 3, 8, 8}, {2, 2}, {2, 2}, {0, 0}},  // the usual halving
      {{1, 2, 7, 9}, {3, 3}, {2, 2}, {1, 1}},  // Inception's 3x3 stride 2 with padding
      {{2, 2, 6, 7}, {3, 3}, {1, 1}, {1, 1}},  // Inception's 3x3 stride 1 "same" average
      {{1, 3, 9, 5}, {4, 2}, {3, 1}, {2, 1}},  // everything per dim; last rows dropped
      // Rows wide enough for the CPU's vector loop over the interior columns, next to the border ones.
      {{1, 2, 17, 35}, {3, 3}, {2, 2}, {0, 0}},  // Inception's stem max pool (no padding, stride 2)
      {{1, 2, 9, 37}, {3, 3}, {1, 1}, {1, 1}},   // its 3x3 "same" pools
      {{1, 1, 6, 40}, {2, 5}, {1, 3}, {0, 2}},   // stride 3 (the run-time step)
  };
  return cases;
}

TEST_P(PoolingTest, AvgPoolMatchesNaiveWithAndWithoutPaddingInTheDivisor) {
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered";
  uint64_t seed = 1;
  for (const PoolCase& c : pool_cases())
    for (bool count_pad : {true, false})
      for (DType dt : {DType::f64, DType::f32}) {
        const Tensor x = rand(c.x, seed++, dt);
        const double tol = dt == DType::f64 ? 1e-12 : 1e-6;
        EXPECT_TRUE(all_close(avg_pool2d(x, c.k, c.s, c.p, count_pad), naive_avg_pool(x, c.k, c.s, c.p, count_pad),
                              tol, tol))
            << shape_str(c.x) << " count_include_pad " << count_pad;
      }
  // The stride defaults to the kernel size.
  const Tensor x = rand({1, 2, 6, 6}, 50);
  EXPECT_TRUE(all_close(avg_pool2d(x, {3, 3}), naive_avg_pool(x, {3, 3}, {3, 3}, {0, 0}, true), 1e-12, 1e-12));
}

TEST_P(PoolingTest, MaxPoolMatchesNaiveValuesAndIndices) {
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered";
  uint64_t seed = 60;
  for (const PoolCase& c : pool_cases()) {
    const Tensor x = rand(c.x, seed++);
    const auto [values, indices] = max_pool2d_with_indices(x, c.k, c.s, c.p);
    const auto [ref_values, ref_indices] = naive_max_pool(x, c.k, c.s, c.p);
    EXPECT_TRUE(all_close(values, ref_values, 0, 0)) << shape_str(c.x);
    EXPECT_EQ(to_vector<int64_t>(indices), to_vector<int64_t>(ref_indices)) << shape_str(c.x);
  }
}

TEST_P(PoolingTest, MaxPoolPropagatesNaN) {
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered";
  std::vector<double> v = {0.5, -0.25, std::nan(""), 0.75};
  const Tensor x = from_vector(v, {1, 1, 2, 2}).to(device());
  EXPECT_TRUE(std::isnan(max_pool2d(x, {2, 2}).item<double>()));
}

TEST_P(PoolingTest, MaxPoolPicksTheFirstNaNOfEachWindow) {
  // NaNs inside a wide row (where the CPU's vector loop runs) and at its border: every window that
  // holds one gives NaN and the index of its first NaN in row-major order, like the naive loop.
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered";
  std::vector<double> v = to_vector<double>(rand({1, 1, 5, 33}, 65));
  for (const int64_t at : {0, 40, 41, 75, 99, 131, 164}) v[static_cast<size_t>(at)] = std::nan("");
  const Tensor x = from_vector(v, {1, 1, 5, 33}).to(device());
  for (const Size2 s : {Size2{1, 1}, Size2{2, 2}}) {
    const auto [values, indices] = max_pool2d_with_indices(x, {3, 3}, s, {1, 1});
    const std::vector<double> got = to_vector<double>(host(values));
    const std::vector<int64_t> got_at = to_vector<int64_t>(host(indices));
    const Planes in(host(x));
    const int64_t ow = values.shape()[3];
    for (int64_t i = 0; i < values.shape()[2]; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        int64_t first_nan = -1;
        for (int64_t y = std::max<int64_t>(0, i * s[0] - 1); y < std::min<int64_t>(5, i * s[0] + 2) && first_nan < 0;
             ++y)
          for (int64_t xx = std::max<int64_t>(0, j * s[1] - 1); xx < std::min<int64_t>(33, j * s[1] + 2); ++xx)
            if (std::isnan(in.at(0, y, xx))) {
              first_nan = y * 33 + xx;
              break;
            }
        const size_t o = static_cast<size_t>(i * ow + j);
        if (first_nan < 0) {
          EXPECT_FALSE(std::isnan(got[o])) << i << ", " << j;
          continue;
        }
        EXPECT_TRUE(std::isnan(got[o])) << i << ", " << j;
        EXPECT_EQ(got_at[o], first_nan) << i << ", " << j;
      }
  }
}

TEST_P(PoolingTest, AdaptiveAvgPoolMatchesNaive) {
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered";
  const Tensor x = rand({2, 3, 7, 10}, 70);
  for (Size2 o : {Size2{1, 1}, Size2{3, 4}, Size2{7, 10}, Size2{5, 3}, Size2{9, 12}})
    EXPECT_TRUE(all_close(adaptive_avg_pool2d(x, o), naive_adaptive_avg_pool(x, o), 1e-12, 1e-12))
        << o[0] << "x" << o[1];
  // {1, 1} is the global mean of each plane.
  EXPECT_TRUE(all_close(adaptive_avg_pool2d(x, {1, 1}), mean(x, {2, 3}, true), 1e-12, 1e-12));
}

TEST_P(PoolingTest, NearestMatchesNaiveForSizesAndScaleFactors) {
  const Tensor x = rand({2, 2, 5, 4}, 80);
  for (Size2 o : {Size2{10, 8}, Size2{7, 9}, Size2{3, 2}, Size2{5, 4}})
    EXPECT_TRUE(all_close(interpolate_nearest(x, o), naive_nearest(x, o), 0, 0)) << o[0] << "x" << o[1];
  // Scale factor 2 repeats every pixel into a 2x2 block.
  const Tensor up = interpolate_nearest(x, 2.0);
  ASSERT_EQ(up.shape(), (Shape{2, 2, 10, 8}));
  const Planes in(x), out(up);
  for (int64_t p = 0; p < in.planes(); ++p)
    for (int64_t y = 0; y < 10; ++y)
      for (int64_t xx = 0; xx < 8; ++xx) ASSERT_EQ(out.at(p, y, xx), in.at(p, y / 2, xx / 2));
}

TEST_P(PoolingTest, BilinearMatchesNaiveUpAndDown) {
  const Tensor x = rand({2, 3, 6, 5}, 90);
  for (bool align : {false, true})
    for (Size2 o : {Size2{13, 11}, Size2{4, 3}, Size2{6, 5}, Size2{1, 7}, Size2{29, 2}})
      for (DType dt : {DType::f64, DType::f32}) {
        const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
        EXPECT_TRUE(all_close(interpolate_bilinear(x.to(dt), o, align), naive_bilinear(x, o, align), tol, tol))
            << o[0] << "x" << o[1] << " align_corners " << align << " " << dtype_name(dt);
      }
  // FID's resize: 32x32 -> 299x299.
  const Tensor img = rand({1, 3, 32, 32}, 91);
  EXPECT_TRUE(all_close(interpolate_bilinear(img, {299, 299}), naive_bilinear(img, {299, 299}, false), 1e-12, 1e-12));
  // Scale factor 2 equals the explicit size (in/out is exactly 1/2).
  EXPECT_TRUE(all_close(interpolate_bilinear(x, 2.0), interpolate_bilinear(x, {12, 10}), 0, 0));
}

TEST_P(PoolingTest, GradientsMatchFiniteDifferences) {
  const Tensor x = leaf(rand({2, 2, 7, 6}, 100));
  const auto check = [&](const char* what, const TensorFn& fn) { EXPECT_TRUE(gradcheck(fn, {x})) << what; };
  check("nearest", [](const TensorList& in) { return interpolate_nearest(in[0], Size2{11, 9}); });
  check("nearest x2", [](const TensorList& in) { return interpolate_nearest(in[0], 2.0); });
  check("bilinear up", [](const TensorList& in) { return interpolate_bilinear(in[0], Size2{11, 13}); });
  check("bilinear down", [](const TensorList& in) { return interpolate_bilinear(in[0], Size2{3, 4}); });
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered (resampling checked)";
  check("avg_pool2d", [](const TensorList& in) { return avg_pool2d(in[0], {3, 3}, Size2{2, 2}, {1, 1}, true); });
  check("avg_pool2d exclude pad", [](const TensorList& in) { return avg_pool2d(in[0], {3, 2}, Size2{2, 1}, {1, 1}, false); });
  check("max_pool2d", [](const TensorList& in) { return max_pool2d(in[0], {3, 3}, Size2{2, 2}, {1, 1}); });
  check("max_pool2d overlapping", [](const TensorList& in) { return max_pool2d(in[0], {2, 3}, Size2{1, 1}); });
  check("adaptive_avg_pool2d", [](const TensorList& in) { return adaptive_avg_pool2d(in[0], {3, 4}); });
  check("adaptive_avg_pool2d 1x1", [](const TensorList& in) { return adaptive_avg_pool2d(in[0], {1, 1}); });
}

TEST_P(PoolingTest, DoubleBackwardMatchesFiniteDifferences) {
  // These ops are linear (or piecewise linear) in x, so the Hessian-vector product of sum(f(x) w) is
  // zero; a squared output makes it non-trivial.
  const Tensor x = leaf(rand({2, 2, 6, 7}, 110));
  const auto check = [&](const char* what, const TensorFn& f) {
    EXPECT_TRUE(gradgradcheck([&](const TensorList& in) { const Tensor y = f(in); return mul(y, y); }, {x})) << what;
  };
  check("nearest", [](const TensorList& in) { return interpolate_nearest(in[0], 2.0); });
  check("bilinear", [](const TensorList& in) { return interpolate_bilinear(in[0], Size2{9, 5}); });
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered (resampling checked)";
  check("avg_pool2d", [](const TensorList& in) { return avg_pool2d(in[0], {3, 3}, Size2{2, 2}, {1, 1}, false); });
  check("adaptive_avg_pool2d", [](const TensorList& in) { return adaptive_avg_pool2d(in[0], {4, 3}); });
  check("max_pool2d", [](const TensorList& in) { return max_pool2d(in[0], {2, 2}); });
}

TEST_P(PoolingTest, BadInputsNameTheOpAndShapes) {  // checked before any kernel runs
  const Tensor x = rand({2, 3, 5, 5}, 120);
  EXPECT_TRUE(throws_error_mentioning([&] { avg_pool2d(x.reshape({6, 5, 5}), {2, 2}); }, {"avg_pool2d", "4-D", "[6, 5, 5]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { avg_pool2d(x, {2, 2}, std::nullopt, {2, 2}); }, {"avg_pool2d", "padding", "half"}));
  EXPECT_TRUE(throws_error_mentioning([&] { max_pool2d(x, {6, 2}); }, {"max_pool2d", "larger than the padded input", "[2, 3, 5, 5]"}));
  EXPECT_TRUE(throws_error_mentioning([&] { adaptive_avg_pool2d(x, {0, 2}); }, {"adaptive_avg_pool2d", "0x2"}));
  EXPECT_TRUE(throws_error_mentioning([&] { interpolate_bilinear(x, Size2{0, 3}); }, {"interpolate_bilinear", "0x3"}));
  EXPECT_TRUE(throws_error_mentioning([&] { interpolate_nearest(x, 0.1); }, {"interpolate_nearest", "empty output"}));
  EXPECT_TRUE(throws_error_mentioning([&] { interpolate_nearest(from_vector(std::vector<int64_t>(4, 1), {1, 1, 2, 2}).to(device()), 2.0); },
                                      {"interpolate_nearest", "floating"}));
}

TEST_P(PoolingTest, ModulesForwardToTheOps) {
  if (!has_pool_kernels()) GTEST_SKIP() << "no CUDA pooling kernels are registered";
  const Tensor x = rand({2, 3, 8, 6}, 130);
  EXPECT_TRUE(all_close(nn::AvgPool2d({3, 3}, Size2{2, 2}, {1, 1}, false).forward(x),
                        naive_avg_pool(x, {3, 3}, {2, 2}, {1, 1}, false), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(nn::MaxPool2d({2, 2}).forward(x), naive_max_pool(x, {2, 2}, {2, 2}, {0, 0}).first, 0, 0));
  EXPECT_TRUE(all_close(nn::AdaptiveAvgPool2d({1, 1}).forward(x), mean(x, {2, 3}, true), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(nn::Upsample(2.0).forward(x), naive_nearest(x, {16, 12}), 0, 0));
  EXPECT_TRUE(all_close(nn::Upsample(2.0, nn::Upsample::Mode::bilinear).forward(x), naive_bilinear(x, {16, 12}, false),
                        1e-12, 1e-12));
}

GANTRY_INSTANTIATE_DEVICE_TEST(PoolingTest);

}  // namespace
}  // namespace gantry::testing
