// Philox known answers, determinism, moments and ranges of the random fills.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "engine/random/philox.h"
#include "engine/random/sampling.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using random::PhiloxWords;

void expect_words(const PhiloxWords& got, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  EXPECT_EQ(got.w[0], a);
  EXPECT_EQ(got.w[1], b);
  EXPECT_EQ(got.w[2], c);
  EXPECT_EQ(got.w[3], d);
}

// The Random123 distribution's known-answer vectors for philox4x32_10.
TEST(Philox, KnownAnswerVectors) {
  expect_words(random::philox4x32({{0, 0, 0, 0}}, 0, 0), 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u);
  expect_words(random::philox4x32({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu,
                                  0xffffffffu),
               0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu);
  expect_words(random::philox4x32({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u,
                                  0x299f31d0u),
               0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u);
}

// The contract a CUDA kernel must follow: element i of a fill starting at offset o comes from the
// Philox block (seed, o + i) through the formulas of engine/random/sampling.h.
TEST(RandomStreamLayout, ElementsFollowTheDocumentedCounters) {
  Generator g(0x1234abcd5678ef01ull);
  (void)rand({3}, g);  // start at a non-zero offset
  const uint64_t offset = g.offset();
  const std::vector<float> u = to_vector<float>(rand({9}, g, DType::f32));
  const std::vector<double> n = to_vector<double>(randn({9}, g, DType::f64));
  const std::vector<int64_t> r = to_vector<int64_t>(randint(-5, 1000, {9}, g));
  for (uint64_t i = 0; i < 9; ++i) {
    EXPECT_EQ(u[i], random::uniform_float(random::philox_block(g.seed(), offset + i).w[0]));
    EXPECT_EQ(n[i], random::standard_normal(random::philox_block(g.seed(), offset + 9 + i)));
    EXPECT_EQ(r[i], random::uniform_int(random::philox_block(g.seed(), offset + 18 + i), -5, 1000));
  }
  EXPECT_EQ(g.offset(), offset + 27);
}

struct Moments {
  double mean = 0, var = 0, min = 1e300, max = -1e300;
};

template <typename T>
Moments moments_of(const Tensor& t) {
  const std::vector<T> v = to_vector<T>(t.to(kCPU));
  Moments m;
  for (T x : v) {
    m.mean += static_cast<double>(x);
    m.min = std::min(m.min, static_cast<double>(x));
    m.max = std::max(m.max, static_cast<double>(x));
  }
  m.mean /= static_cast<double>(v.size());
  for (T x : v) m.var += (static_cast<double>(x) - m.mean) * (static_cast<double>(x) - m.mean);
  m.var /= static_cast<double>(v.size() - 1);
  return m;
}

class RandomTest : public testing::DeviceTest {};

TEST_P(RandomTest, SameSeedSameStreamAndOffsetAdvances) {
  Generator g1(1234), g2(1234), g3(1235);
  const Tensor a = rand({1000}, g1, DType::f32, device());
  const Tensor b = rand({1000}, g2, DType::f32, device());
  const Tensor c = rand({1000}, g3, DType::f32, device());
  EXPECT_EQ(g1.offset(), 1000u);
  EXPECT_EQ(to_vector<float>(a.to(kCPU)), to_vector<float>(b.to(kCPU)));
  EXPECT_NE(to_vector<float>(a.to(kCPU)), to_vector<float>(c.to(kCPU)));
  // The next draw continues the stream rather than repeating it.
  const Tensor a2 = rand({1000}, g1, DType::f32, device());
  EXPECT_NE(to_vector<float>(a.to(kCPU)), to_vector<float>(a2.to(kCPU)));
}

TEST_P(RandomTest, RestoringStateResumesTheStream) {
  Generator g(77);
  (void)randn({37}, g, DType::f64, device());
  const uint64_t seed = g.seed(), offset = g.offset();
  const Tensor expected = randn({64}, g, DType::f64, device());
  Generator resumed(0);
  resumed.set_state(seed, offset);
  const Tensor got = randn({64}, resumed, DType::f64, device());
  EXPECT_EQ(to_vector<double>(expected.to(kCPU)), to_vector<double>(got.to(kCPU)));
}

TEST_P(RandomTest, SplitDrawsEqualOneDraw) {
  // Element i depends only on (seed, offset + i): two draws of 10 equal one draw of 20.
  Generator g1(5), g2(5);
  const std::vector<double> whole = to_vector<double>(rand({20}, g1, DType::f64, device()).to(kCPU));
  std::vector<double> parts = to_vector<double>(rand({10}, g2, DType::f64, device()).to(kCPU));
  const std::vector<double> second = to_vector<double>(rand({10}, g2, DType::f64, device()).to(kCPU));
  parts.insert(parts.end(), second.begin(), second.end());
  EXPECT_EQ(whole, parts);
}

TEST_P(RandomTest, UniformMomentsAndRange) {
  Generator g(42);
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor u = uniform({200000}, -2.0, 3.0, g, dt, device());
    EXPECT_EQ(u.dtype(), dt);
    const Moments m = dt == DType::f32 ? moments_of<float>(u) : moments_of<double>(u);
    EXPECT_NEAR(m.mean, 0.5, 0.02);
    EXPECT_NEAR(m.var, 25.0 / 12.0, 0.03);
    EXPECT_GE(m.min, -2.0);
    EXPECT_LT(m.max, 3.0);
  }
}

TEST_P(RandomTest, NormalMoments) {
  Generator g(9);
  const Moments m = moments_of<double>(randn({200000}, g, DType::f64, device()));
  EXPECT_NEAR(m.mean, 0.0, 0.01);
  EXPECT_NEAR(m.var, 1.0, 0.015);
  const Moments s = moments_of<float>(normal({200000}, 3.0, 0.5, g, DType::f32, device()));
  EXPECT_NEAR(s.mean, 3.0, 0.005);
  EXPECT_NEAR(s.var, 0.25, 0.004);
}

TEST_P(RandomTest, TruncatedNormalBoundsAndMoments) {
  Generator g(11);
  const double lo = -1.0, hi = 2.0;
  const Moments m = moments_of<double>(trunc_normal({200000}, lo, hi, g, DType::f64, device()));
  EXPECT_GE(m.min, lo);
  EXPECT_LE(m.max, hi);
  // Mean and variance of the truncated standard normal, from its closed form.
  const auto pdf = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); };
  const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  const double z = cdf(hi) - cdf(lo);
  const double mean = (pdf(lo) - pdf(hi)) / z;
  const double var = 1 + (lo * pdf(lo) - hi * pdf(hi)) / z - mean * mean;
  EXPECT_NEAR(m.mean, mean, 0.01);
  EXPECT_NEAR(m.var, var, 0.01);
  // A window far in the tail: the inverse CDF must still land inside it, near its lower edge.
  const Moments tail = moments_of<double>(trunc_normal({20000}, 4.0, 5.0, g, DType::f64, device()));
  EXPECT_GE(tail.min, 4.0);
  EXPECT_LE(tail.max, 5.0);
  EXPECT_NEAR(tail.mean, (pdf(4.0) - pdf(5.0)) / (cdf(5.0) - cdf(4.0)), 0.01);
  // A narrow symmetric window (the truncation trick) stays inside it.
  const Moments t = moments_of<float>(trunc_normal({50000}, -0.5, 0.5, g, DType::f32, device()));
  EXPECT_GE(t.min, -0.5);
  EXPECT_LE(t.max, 0.5);
  EXPECT_NEAR(t.mean, 0.0, 0.01);
}

TEST_P(RandomTest, RandintRangeAndUniformity) {
  Generator g(3);
  const int64_t low = -3, high = 7, n = 100000;
  const Tensor r = randint(low, high, {n}, g, device());
  EXPECT_EQ(r.dtype(), DType::i64);
  std::vector<int64_t> counts(high - low, 0);
  for (int64_t v : to_vector<int64_t>(r.to(kCPU))) {
    ASSERT_GE(v, low);
    ASSERT_LT(v, high);
    ++counts[v - low];
  }
  // Chi-square with 9 degrees of freedom; 27.9 is its 0.999 quantile.
  const double expected = static_cast<double>(n) / (high - low);
  double chi2 = 0;
  for (int64_t c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 27.9);
}

TEST_P(RandomTest, BadArgumentsThrow) {
  Generator g(1);
  EXPECT_THROW(uniform({3}, 1.0, 0.0, g, DType::f32, device()), Error);
  EXPECT_THROW(rand({3}, g, DType::i64, device()), Error);
  EXPECT_THROW(randint(5, 5, {3}, g, device()), Error);
  EXPECT_THROW(trunc_normal({3}, 1.0, -1.0, g, DType::f32, device()), Error);
  EXPECT_THROW(randn({-1}, g, DType::f32, device()), Error);
}

GANTRY_INSTANTIATE_DEVICE_TEST(RandomTest);

TEST(Randperm, IsAPermutationAndDeterministic) {
  Generator g1(8), g2(8);
  const std::vector<int64_t> p = to_vector<int64_t>(randperm(1000, g1));
  EXPECT_EQ(p, to_vector<int64_t>(randperm(1000, g2)));
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  int64_t fixed_points = 0;
  for (int64_t i = 0; i < 1000; ++i) fixed_points += p[i] == i;
  EXPECT_LT(fixed_points, 10);  // the identity would have 1000; a random permutation ~1
}

}  // namespace
}  // namespace gantry
