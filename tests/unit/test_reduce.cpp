// Reductions: sum/mean/amax/amin/var over dim lists, max/min/argmax along a dim, sum_to; forward
// against a naive host loop (strided inputs, keepdim, negative dims), gradients, ties, bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

class ReduceTest : public DeviceTest {};
GANTRY_INSTANTIATE_DEVICE_TEST(ReduceTest);

// Folds the host values of x over `dims` (empty = all) with `fold`, starting from `init`; the
// result has the keepdim shape. `finish(acc, count)` post-processes each output.
Tensor naive_reduce(const Tensor& x, DimList dims, double init, const std::function<double(double, double)>& fold,
                    const std::function<double(double, int64_t)>& finish) {
  const Shape& shape = x.shape();
  const int64_t nd = x.dim();
  std::vector<bool> reduced(nd, dims.empty());
  for (int64_t d : dims) reduced[d < 0 ? d + nd : d] = true;
  Shape keep = shape;
  for (int64_t d = 0; d < nd; ++d)
    if (reduced[d]) keep[d] = 1;
  const std::vector<double> v = to_vector<double>(x);
  std::vector<double> acc(static_cast<size_t>(shape_numel(keep)), init);
  std::vector<int64_t> count(acc.size(), 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rem = i, out = 0, stride = 1;
    for (int64_t d = nd - 1; d >= 0; --d) {
      const int64_t c = rem % shape[d];
      rem /= shape[d];
      if (!reduced[d]) out += c * stride;
      stride *= keep[d];
    }
    acc[out] = fold(acc[out], v[i]);
    ++count[out];
  }
  for (size_t i = 0; i < acc.size(); ++i) acc[i] = finish(acc[i], count[i]);
  return from_vector(acc, keep);
}

Tensor ref_sum(const Tensor& x, const DimList& dims) {
  return naive_reduce(x, dims, 0.0, [](double a, double v) { return a + v; }, [](double a, int64_t) { return a; });
}
Tensor ref_mean(const Tensor& x, const DimList& dims) {
  return naive_reduce(x, dims, 0.0, [](double a, double v) { return a + v; },
                      [](double a, int64_t n) { return a / static_cast<double>(n); });
}
Tensor ref_max(const Tensor& x, const DimList& dims) {
  return naive_reduce(x, dims, -INFINITY, [](double a, double v) { return std::max(a, v); },
                      [](double a, int64_t) { return a; });
}
Tensor ref_min(const Tensor& x, const DimList& dims) {
  return naive_reduce(x, dims, INFINITY, [](double a, double v) { return std::min(a, v); },
                      [](double a, int64_t) { return a; });
}

const std::vector<DimList> kDimLists = {{}, {0}, {1}, {2}, {-1}, {0, 2}, {2, 0}, {0, 1}, {1, 2}, {0, 1, 2}};

TEST_P(ReduceTest, ForwardMatchesNaiveLoopsForEveryDimList) {
  for (DType dt : {DType::f32, DType::f64}) {
    const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
    // A permuted, sliced view: [3, 4, 5] with no contiguous dim order.
    const Tensor x = random_uniform({5, 8, 3}, 41, -2, 2, dt, device()).permute({2, 0, 1}).slice(2, 0, 8, 2)
                         .slice(1, 0, 4);
    ASSERT_EQ(x.shape(), (Shape{3, 4, 4}));
    for (const DimList& dims : kDimLists) {
      const std::string label = "dims " + shape_str(dims) + " dtype " + dtype_name(dt);
      const Tensor s = sum(x, dims, true);
      EXPECT_TRUE(all_close(s, ref_sum(x, dims), tol, tol)) << label;
      EXPECT_TRUE(all_close(mean(x, dims, true), ref_mean(x, dims), tol, tol)) << label;
      EXPECT_TRUE(all_close(amax(x, dims, true), ref_max(x, dims), 0, 0)) << label;
      EXPECT_TRUE(all_close(amin(x, dims, true), ref_min(x, dims), 0, 0)) << label;
      // Without keepdim the reduced dims disappear.
      const Tensor flat = sum(x, dims, false);
      EXPECT_EQ(flat.numel(), s.numel()) << label;
      EXPECT_EQ(flat.dim(), dims.empty() ? 0 : x.dim() - static_cast<int64_t>(dims.size())) << label;
      EXPECT_EQ(to_vector<double>(flat), to_vector<double>(s)) << label;
    }
  }
}

TEST_P(ReduceTest, LargeFloatSumsStayAccurate) {
  // 1e5 values of 0.1 in float32: naive float accumulation drifts by ~1e-3 relative.
  const Tensor x = full({100000}, 0.1, DType::f32, device());
  EXPECT_NEAR(sum(x).item<double>(), 100000 * static_cast<double>(0.1f), 1e-2);
  EXPECT_NEAR(mean(x).item<double>(), static_cast<double>(0.1f), 1e-7);
}

TEST_P(ReduceTest, FloatSumsOverStridedDimsStayAccurate) {
  // The same float32 values summed in float64: a float32 sum may differ only by its final rounding,
  // also when the reduction walks many strided rows (each row used to round the running total).
  const Tensor x = random_uniform({7, 9, 300}, 81, -2, 2, DType::f32, device()).permute({1, 2, 0});
  for (const DimList& dims : {DimList{}, DimList{0, 2}, DimList{1}}) {
    const Tensor got = sum(x, dims).to(DType::f64), exact = sum(x.to(DType::f64), dims);
    EXPECT_TRUE(all_close(got, exact, 1e-7, 1e-6)) << "dims of size " << dims.size();
  }
}

TEST_P(ReduceTest, IntegerSumsAndMaskCounts) {
  const Tensor x = arange(0, 12, 1, DType::i64, device()).reshape({3, 4});
  EXPECT_EQ(to_vector<int64_t>(sum(x, {0})), (std::vector<int64_t>{12, 15, 18, 21}));
  EXPECT_EQ(sum(x).item<int64_t>(), 66);
  const Tensor mask = gt(x, 6.5);  // u8: counted as int64
  const Tensor count = sum(mask);
  EXPECT_EQ(count.dtype(), DType::i64);
  EXPECT_EQ(count.item<int64_t>(), 5);
}

TEST_P(ReduceTest, MaxMinReturnFirstIndexAmongTies) {
  const std::vector<double> v = {1.0, 3.0, 3.0, -2.0,   //
                                 -5.0, -5.0, 0.5, 0.5,  //
                                 7.0, 2.0, 7.0, -5.0};
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor x = from_vector(v, {3, 4}).to(dt).to(device());
    auto [mx, imx] = max(x, 1);
    EXPECT_EQ(to_vector<double>(mx), (std::vector<double>{3.0, 0.5, 7.0}));
    EXPECT_EQ(to_vector<int64_t>(imx), (std::vector<int64_t>{1, 2, 0}));
    auto [mn, imn] = min(x, -1, true);
    EXPECT_EQ(mn.shape(), (Shape{3, 1}));
    EXPECT_EQ(to_vector<double>(mn), (std::vector<double>{-2.0, -5.0, -5.0}));
    EXPECT_EQ(to_vector<int64_t>(imn), (std::vector<int64_t>{3, 0, 3}));
    // Along dim 0 of the transposed view (a strided reduction dim).
    auto [mt, it] = max(x.t(), 1);
    EXPECT_EQ(to_vector<double>(mt), (std::vector<double>{7.0, 3.0, 7.0, 0.5}));
    EXPECT_EQ(to_vector<int64_t>(it), (std::vector<int64_t>{2, 0, 2, 1}));
    EXPECT_EQ(to_vector<int64_t>(argmax(x, 0)), (std::vector<int64_t>{2, 0, 2, 1}));
    EXPECT_EQ(argmax(x, 0).dtype(), DType::i64);
  }
}

TEST_P(ReduceTest, VarianceWithCorrection) {
  const Tensor x = random_uniform({4, 6}, 42, -3, 3, DType::f64, device());
  const std::vector<double> h = to_vector<double>(x);
  for (int64_t correction : {0, 1}) {
    std::vector<double> expected;
    for (int r = 0; r < 4; ++r) {
      double m = 0;
      for (int c = 0; c < 6; ++c) m += h[r * 6 + c] / 6;
      double ss = 0;
      for (int c = 0; c < 6; ++c) ss += (h[r * 6 + c] - m) * (h[r * 6 + c] - m);
      expected.push_back(ss / static_cast<double>(6 - correction));
    }
    EXPECT_TRUE(all_close(var(x, {1}, false, correction), from_vector(expected, {4}), 1e-12, 1e-12));
  }
  double all_mean = 0, all_ss = 0;
  for (double v : h) all_mean += v / h.size();
  for (double v : h) all_ss += (v - all_mean) * (v - all_mean);
  EXPECT_NEAR(var(x).item<double>(), all_ss / (h.size() - 1), 1e-12);
}

TEST_P(ReduceTest, SumToIsTheAdjointOfExpand) {
  const Tensor g = random_uniform({2, 3, 4}, 43, -1, 1, DType::f64, device());
  EXPECT_TRUE(all_close(sum_to(g, {3, 1}), ref_sum(g, {0, 2}).reshape({3, 1}), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(sum_to(g, {4}), ref_sum(g, {0, 1}).reshape({4}), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(sum_to(g, {1, 3, 4}), ref_sum(g, {0}), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(sum_to(g, {}), ref_sum(g, {}).reshape({}), 1e-12, 1e-12));
  EXPECT_TRUE(sum_to(g, {2, 3, 4}).same(g));
  // <expand(y), g> == <y, sum_to(g)>.
  const Tensor y = random_uniform({3, 1}, 44, -1, 1, DType::f64, device());
  EXPECT_NEAR(sum(mul(y.expand({2, 3, 4}), g)).item<double>(), sum(mul(y, sum_to(g, {3, 1}))).item<double>(), 1e-12);
}

TEST_P(ReduceTest, Gradients) {
  const Tensor x = random_uniform({3, 4, 2}, 45, -2, 2, DType::f64, device()).set_requires_grad();
  for (const DimList& dims : std::vector<DimList>{{}, {1}, {0, 2}}) {
    for (bool keep : {false, true}) {
      EXPECT_TRUE(gradcheck([&](const TensorList& t) { return sum(t[0], dims, keep); }, {x}));
      EXPECT_TRUE(gradcheck([&](const TensorList& t) { return mean(t[0], dims, keep); }, {x}));
      EXPECT_TRUE(gradcheck([&](const TensorList& t) { return amax(t[0], dims, keep); }, {x}));
      EXPECT_TRUE(gradcheck([&](const TensorList& t) { return amin(t[0], dims, keep); }, {x}));
      EXPECT_TRUE(gradcheck([&](const TensorList& t) { return var(t[0], dims, keep); }, {x}));
    }
  }
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return max(t[0], 1).first; }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return min(t[0], 0, true).first; }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& t) { return sum_to(t[0], {4, 1}); }, {x}));
}

TEST_P(ReduceTest, DoubleBackward) {
  const Tensor x = random_uniform({3, 4}, 46, -2, 2, DType::f64, device()).set_requires_grad();
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { const Tensor s = sum(t[0], {1}); return mul(s, s); }, {x}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return mul(mean(t[0], {0}, true), t[0]); }, {x}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { return var(t[0], {1}); }, {x}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { const Tensor m = amax(t[0], {1}); return mul(m, m); }, {x}));
  EXPECT_TRUE(gradgradcheck([](const TensorList& t) { const Tensor s = sum_to(t[0], {4}); return mul(s, s); }, {x}));
}

TEST_P(ReduceTest, AmaxSharesTheGradientAmongTies) {
  const Tensor x = from_vector(std::vector<double>{2.0, 5.0, 5.0, 1.0, 3.0, 3.0}, {2, 3}).to(device()).set_requires_grad();
  sum(mul(amax(x, {1}), 4.0)).backward();
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{0.0, 2.0, 2.0, 0.0, 2.0, 2.0}));
  x.zero_grad();
  sum(max(x, 1).first).backward();  // max(dim) sends it to the first index only
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{0.0, 1.0, 0.0, 0.0, 1.0, 0.0}));
}

TEST_P(ReduceTest, NaNPropagatesThroughExtremes) {
  const Tensor x = from_vector(std::vector<double>{1.0, NAN, 3.0, 2.0}, {2, 2}).to(device());
  const std::vector<double> m = to_vector<double>(amax(x, {1}));
  EXPECT_TRUE(std::isnan(m[0]));
  EXPECT_EQ(m[1], 3.0);
  auto [v, i] = max(x, 1);
  EXPECT_TRUE(std::isnan(to_vector<double>(v)[0]));
  EXPECT_EQ(to_vector<int64_t>(i), (std::vector<int64_t>{1, 0}));
}

TEST_P(ReduceTest, BadInputs) {
  const Tensor x = random_uniform({2, 3}, 47, -1, 1, DType::f32, device());
  try {
    sum(x, {2});
    FAIL() << "sum over dim 2 of a 2-D tensor did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sum"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mean(x, {0, -2}), Error);  // the same dim twice
  EXPECT_THROW(max(x, 5), Error);
  EXPECT_THROW(amax(zeros({0, 3}, DType::f32, device()), {0}), Error);
  EXPECT_THROW(sum_to(x, {4}), Error);
  EXPECT_THROW(sum_to(x, {1, 2, 3}), Error);
  EXPECT_THROW(mean(arange(0, 3, 1, DType::i64, device())), Error);
}

}  // namespace
}  // namespace gantry::testing
