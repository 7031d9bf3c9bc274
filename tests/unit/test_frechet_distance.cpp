// Feature statistics and the Fréchet distance against pytorch-fid's arithmetic (NumPy + SciPy's sqrtm,
// tests/golden/make_fid_golden.py), the closed forms, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "engine/core/error.h"
#include "engine/io/npz.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "eval/feature_statistics.h"
#include "eval/frechet_distance.h"
#include "tests/support/golden_file.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

const testing::GoldenFile& golden() { return testing::cached_golden_file("fid_golden.safetensors"); }

double max_relative_difference(const Tensor& a, const Tensor& b) {
  const auto x = to_vector<double>(a.to(DType::f64)), y = to_vector<double>(b.to(DType::f64));
  EXPECT_EQ(x.size(), y.size());
  double scale = 0, diff = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    scale = std::max(scale, std::abs(y[i]));
    diff = std::max(diff, std::abs(x[i] - y[i]));
  }
  return diff / scale;
}

TEST(FeatureStatistics, MatchNumpyMeanAndCovarianceInBatches) {
  for (const std::string c : {"wide", "narrow"}) {
    const Tensor x = golden().tensor(c + ".x");
    // Odd batch sizes, so the merge of partial sums is exercised, not just one pass.
    eval::FeatureStatisticsAccumulator acc(x.size(1));
    for (int64_t start = 0; start < x.size(0); start += 7) acc.add(x.slice(0, start, std::min(start + 7, x.size(0))));
    const eval::FeatureStatistics s = acc.finish();
    EXPECT_EQ(s.count, x.size(0));
    EXPECT_LT(max_relative_difference(s.mu, golden().tensor(c + ".mu_x")), 1e-13) << c;
    EXPECT_LT(max_relative_difference(s.sigma, golden().tensor(c + ".sigma_x")), 1e-11) << c;
    EXPECT_EQ(s.singular(), c == "narrow");
  }
}

TEST(FrechetDistance, MatchesPytorchFidOnWellConditionedStatistics) {
  const auto& g = golden();
  const auto d = eval::frechet_distance(g.tensor("wide.mu_x"), g.tensor("wide.sigma_x"), g.tensor("wide.mu_y"),
                                        g.tensor("wide.sigma_y"));
  EXPECT_NEAR(d.value, golden().scalar("wide.fid"), 1e-6 * golden().scalar("wide.fid"));
  EXPECT_FALSE(d.used_offset);
  // From features end to end, through the accumulator.
  const auto e = eval::frechet_distance(eval::feature_statistics(g.tensor("wide.x")),
                                        eval::feature_statistics(g.tensor("wide.y")));
  EXPECT_NEAR(e.value, golden().scalar("wide.fid"), 1e-6 * golden().scalar("wide.fid"));
}

TEST(FrechetDistance, MatchesPytorchFidOnSingularCovariances) {
  // N = 12 < D = 24: both covariances have rank 11; the eigenvalue route clamps rounding negatives.
  const auto& g = golden();
  const auto d = eval::frechet_distance(g.tensor("narrow.mu_x"), g.tensor("narrow.sigma_x"), g.tensor("narrow.mu_y"),
                                        g.tensor("narrow.sigma_y"));
  EXPECT_NEAR(d.value, golden().scalar("narrow.fid"), 1e-6 * golden().scalar("narrow.fid"));
}

TEST(FrechetDistance, IsZeroOnItselfAndSymmetric) {
  const auto& g = golden();
  const auto self = eval::frechet_distance(g.tensor("wide.mu_x"), g.tensor("wide.sigma_x"), g.tensor("wide.mu_x"),
                                           g.tensor("wide.sigma_x"));
  EXPECT_NEAR(self.value, 0.0, 1e-9);
  const auto ab = eval::frechet_distance(g.tensor("wide.mu_x"), g.tensor("wide.sigma_x"), g.tensor("wide.mu_y"),
                                         g.tensor("wide.sigma_y"));
  const auto ba = eval::frechet_distance(g.tensor("wide.mu_y"), g.tensor("wide.sigma_y"), g.tensor("wide.mu_x"),
                                         g.tensor("wide.sigma_x"));
  EXPECT_NEAR(ab.value, ba.value, 1e-9 * ab.value);
}

TEST(FrechetDistance, DiagonalGaussiansHaveTheClosedForm) {
  // sum (mu1 - mu2)^2 + (s1 - s2)^2 with s the standard deviations; a non-diagonal rotation of both
  // leaves it unchanged.
  const std::vector<double> m1{1, -2, 0.5}, m2{0, 1, 0.5}, sd1{1, 2, 0.1}, sd2{3, 0.5, 0.1};
  std::vector<double> c1(9, 0), c2(9, 0);
  double expected = 0;
  for (int i = 0; i < 3; ++i) {
    c1[i * 4] = sd1[i] * sd1[i];
    c2[i * 4] = sd2[i] * sd2[i];
    expected += (m1[i] - m2[i]) * (m1[i] - m2[i]) + (sd1[i] - sd2[i]) * (sd1[i] - sd2[i]);
  }
  const auto d = eval::frechet_distance(from_vector(m1, {3}), from_vector(c1, {3, 3}), from_vector(m2, {3}),
                                        from_vector(c2, {3, 3}));
  EXPECT_NEAR(d.value, expected, 1e-12 * expected);
  EXPECT_NEAR(d.mean_term, 1 + 9 + 0, 1e-12);
}

TEST(FrechetDistance, OneDimensionalGaussiansHaveTheClosedForm) {
  // D = 1: (mu1 - mu2)^2 + (s1 - s2)^2, also from sample statistics of two 1-D feature sets.
  const auto d = eval::frechet_distance(
      from_vector(std::vector<double>{2.0}, {1}), from_vector(std::vector<double>{9.0}, {1, 1}),
      from_vector(std::vector<double>{-1.0}, {1}), from_vector(std::vector<double>{0.25}, {1, 1}));
  EXPECT_NEAR(d.value, 9.0 + 2.5 * 2.5, 1e-12);
  const auto a = eval::feature_statistics(from_vector(std::vector<double>{1, 2, 4, 7}, {4, 1}));
  const auto b = eval::feature_statistics(from_vector(std::vector<double>{0, 3}, {2, 1}));
  // means 3.5 and 1.5; unbiased variances 7 and 4.5
  const double expected = 4.0 + std::pow(std::sqrt(7.0) - std::sqrt(4.5), 2);
  EXPECT_NEAR(eval::frechet_distance(a, b).value, expected, 1e-12);
  EXPECT_FALSE(eval::frechet_distance(a, b).used_offset);
}

TEST(FrechetDistance, RefusesMismatchedOrNonFiniteInput) {
  const Tensor mu = zeros({3}, DType::f64), sigma = eye(3, DType::f64);
  EXPECT_THROW(eval::frechet_distance(mu, sigma, zeros({4}, DType::f64), eye(4, DType::f64)), Error);
  EXPECT_THROW(eval::frechet_distance(mu, eye(4, DType::f64), mu, sigma), Error);
  Tensor bad = eye(3, DType::f64);
  bad.data_ptr<double>()[4] = std::nan("");
  try {
    eval::frechet_distance(mu, sigma, mu, bad);
    FAIL() << "a NaN covariance was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
  }
}

TEST(FeatureStatistics, RefuseTooFewRowsWrongWidthAndNaN) {
  EXPECT_THROW(eval::feature_statistics(ones({1, 4})), Error);
  eval::FeatureStatisticsAccumulator acc(4);
  EXPECT_THROW(acc.add(ones({2, 5})), Error);
  Tensor x = ones({3, 4});
  x.data_ptr<float>()[5] = std::nanf("");
  try {
    acc.add(x);
    FAIL() << "a NaN feature was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
  }
}

TEST(FeatureStatistics, NpzFilesRoundTripInPytorchFidsLayoutAndRefuseAnotherDimension) {
  const auto path = (std::filesystem::temp_directory_path() / "gantry_test_stats.npz").string();
  const auto s = eval::feature_statistics(golden().tensor("wide.x"));
  eval::save_statistics_npz(path, s);
  const auto names = io::load_npz(path);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].first, "mu");
  EXPECT_EQ(names[1].first, "sigma");
  EXPECT_EQ(names[1].second.dtype(), DType::f64);
  const auto back = eval::load_statistics_npz(path, 24);
  EXPECT_EQ(max_relative_difference(back.sigma, s.sigma), 0.0);
  try {
    eval::load_statistics_npz(path, 2048);
    FAIL() << "statistics of dimension 24 were accepted for 2048-d features";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("24"), std::string::npos) << m;
    EXPECT_NE(m.find("2048"), std::string::npos) << m;
  }
  io::save_npz(path, {{"mu", zeros({3}, DType::f64)}});
  EXPECT_THROW(eval::load_statistics_npz(path), Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace gantry
