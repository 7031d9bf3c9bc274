// softmax and log_softmax: values against host loops along every dim (strided inputs, large
// magnitudes that overflow a naive exp), gradients and double backward.
#include <cmath>

#include "tests/support/error_matchers.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_util.h"

namespace gantry::testing {
namespace {

// Host softmax (or log_softmax) of a 3-D tensor along `dim`, with the max subtracted in long double.
Tensor naive_softmax(const Tensor& x, int64_t dim, bool log) {
  const auto v = to_vector<double>(x);
  const Shape s = x.shape();
  std::vector<double> out(v.size());
  const Shape st = contiguous_strides(s);
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k) {
        const int64_t pos[3] = {i, j, k};
        if (pos[dim] != 0) continue;  // one pass per slice, started at its first element
        const int64_t base = i * st[0] + j * st[1] + k * st[2];
        long double m = v[base];
        for (int64_t t = 0; t < s[dim]; ++t) m = std::max<long double>(m, v[base + t * st[dim]]);
        long double total = 0;
        for (int64_t t = 0; t < s[dim]; ++t) total += std::exp(v[base + t * st[dim]] - m);
        for (int64_t t = 0; t < s[dim]; ++t) {
          const long double z = v[base + t * st[dim]] - m;
          out[base + t * st[dim]] = static_cast<double>(log ? z - std::log(total) : std::exp(z) / total);
        }
      }
  return from_vector(out, s);
}

class SoftmaxTest : public DeviceTest {
 protected:
  Tensor rand(const Shape& s, uint64_t seed, double lo = -3.0, double hi = 3.0, DType dt = DType::f64) {
    return random_uniform(s, seed, lo, hi, dt, device());
  }
};

TEST_P(SoftmaxTest, MatchesNaiveLoopsAlongEveryDim) {
  const Tensor x = rand({3, 4, 5}, 1);
  for (int64_t dim = 0; dim < 3; ++dim) {
    EXPECT_TRUE(all_close(softmax(x, dim), naive_softmax(x, dim, false), 1e-12, 1e-14)) << "dim " << dim;
    EXPECT_TRUE(all_close(log_softmax(x, dim), naive_softmax(x, dim, true), 1e-12, 1e-12)) << "dim " << dim;
  }
  EXPECT_TRUE(all_close(softmax(x, -1), naive_softmax(x, 2, false), 1e-12, 1e-14));
  // A permuted (strided) input.
  const Tensor xp = rand({5, 3, 4}, 2).permute({1, 2, 0});
  EXPECT_TRUE(all_close(softmax(xp, 1), naive_softmax(xp, 1, false), 1e-12, 1e-14));
  EXPECT_TRUE(all_close(log_softmax(xp, 2), naive_softmax(xp, 2, true), 1e-12, 1e-12));
  // float32.
  const Tensor xf = x.to(DType::f32);
  EXPECT_TRUE(all_close(softmax(xf, 2), naive_softmax(x, 2, false), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(log_softmax(xf, 0), naive_softmax(x, 0, true), 1e-5, 1e-5));
}

TEST_P(SoftmaxTest, IsStableForLargeLogits) {
  // exp(1000) overflows; the max-subtracted form must still give finite, normalised outputs.
  const Tensor x = rand({2, 1, 6}, 3, 990.0, 1010.0);
  EXPECT_TRUE(all_close(softmax(x, 2), naive_softmax(x, 2, false), 1e-12, 1e-14));
  const Tensor xf = rand({2, 1, 6}, 4, -1010.0, -990.0, DType::f32);
  const auto lf = to_vector<double>(log_softmax(xf, 2));
  for (double e : lf) EXPECT_TRUE(std::isfinite(e));
  const auto sums = to_vector<double>(sum(softmax(xf, 2), {2}));
  for (double s : sums) EXPECT_NEAR(s, 1.0, 1e-5);
}

TEST_P(SoftmaxTest, GradientsAndDoubleBackward) {
  for (int64_t dim : {0, 1}) {
    EXPECT_TRUE(gradcheck([dim](const TensorList& x) { return softmax(x[0], dim); }, {leaf(rand({3, 4}, 5))}));
    EXPECT_TRUE(gradcheck([dim](const TensorList& x) { return log_softmax(x[0], dim); }, {leaf(rand({3, 4}, 6))}));
    EXPECT_TRUE(gradgradcheck([dim](const TensorList& x) { return softmax(x[0], dim); }, {leaf(rand({3, 4}, 7))}));
    EXPECT_TRUE(gradgradcheck([dim](const TensorList& x) { return log_softmax(x[0], dim); }, {leaf(rand({3, 4}, 8))}));
  }
  EXPECT_TRUE(gradcheck([](const TensorList& x) { return softmax(x[0].t(), -1); }, {leaf(rand({4, 3}, 9))}));
}

TEST_P(SoftmaxTest, RejectsBadInput) {
  EXPECT_TRUE(throws_error_mentioning([&] { softmax(rand({2, 3}, 10), 2); }, {"softmax", "dim 2"}));
  EXPECT_TRUE(throws_error_mentioning([&] { log_softmax(arange(0, 4, 1, DType::i64, device()), 0); },
                                      {"log_softmax", "int64"}));
}

GANTRY_INSTANTIATE_DEVICE_TEST(SoftmaxTest);

}  // namespace
}  // namespace gantry::testing
