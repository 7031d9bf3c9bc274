// KID's unbiased MMD^2 with the cubic kernel against clean-fid's arithmetic in NumPy
// (tests/golden/make_metrics_golden.py), its subset sampling, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "eval/kernel_inception_distance.h"
#include "tests/support/error_matchers.h"
#include "tests/support/golden_file.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

using eval::KernelInceptionDistanceOptions;
using testing::throws_error_mentioning;

const testing::GoldenFile& golden() { return testing::cached_golden_file("metrics_golden.safetensors"); }
double relative_difference(double actual, double expected) { return std::abs(actual - expected) / std::abs(expected); }

TEST(KernelInceptionDistance, SubsetEstimateMatchesCleanFid) {
  const Tensor real = golden().tensor("kid.real"), fake = golden().tensor("kid.fake");
  const double equal = eval::polynomial_mmd2_unbiased(fake.narrow(0, 0, 40), real.narrow(0, 0, 40));
  EXPECT_LE(relative_difference(equal, golden().scalar("kid.mmd2_equal")), 1e-12) << equal;
  const double unequal = eval::polynomial_mmd2_unbiased(fake, real);
  EXPECT_LE(relative_difference(unequal, golden().scalar("kid.mmd2_unequal")), 1e-12) << unequal;
  // The estimate is symmetric in its two sets.
  EXPECT_NEAR(eval::polynomial_mmd2_unbiased(real, fake), unequal, 1e-12 * std::abs(unequal));
}

TEST(KernelInceptionDistance, SubsetsOfTheWholeSetsGiveTheWholeSetEstimate) {
  // 50 real and 50 fake rows with subsets of up to 1000: every subset is a permutation of all rows,
  // so every subset value is the whole-set estimate and the spread is rounding only.
  const Tensor real = golden().tensor("kid.real").narrow(0, 0, 50), fake = golden().tensor("kid.fake");
  KernelInceptionDistanceOptions o;
  o.num_subsets = 4;
  const auto kid = eval::kernel_inception_distance(real, fake, o);
  EXPECT_EQ(kid.subset_size, 50);
  ASSERT_EQ(kid.subset_values.size(), 4u);
  EXPECT_LE(relative_difference(kid.mean, golden().scalar("kid.mmd2_all50")), 1e-12) << kid.mean;
  EXPECT_LE(kid.std, 1e-12);
  // f32 features give the same numbers as their float64 values.
  const auto f32 = eval::kernel_inception_distance(real.to(DType::f32), fake.to(DType::f32), o);
  const auto f64 =
      eval::kernel_inception_distance(real.to(DType::f32).to(DType::f64), fake.to(DType::f32).to(DType::f64), o);
  EXPECT_EQ(f32.subset_values, f64.subset_values);
}

TEST(KernelInceptionDistance, RandomSubsetsAreSeededAndAverageNearTheWholeSetEstimate) {
  const Tensor real = golden().tensor("kid.real"), fake = golden().tensor("kid.fake");
  KernelInceptionDistanceOptions o;
  o.max_subset_size = 20;
  o.num_subsets = 200;
  o.seed = 11;
  const auto a = eval::kernel_inception_distance(real, fake, o), b = eval::kernel_inception_distance(real, fake, o);
  EXPECT_EQ(a.subset_values, b.subset_values);
  EXPECT_EQ(a.subset_size, 20);
  o.seed = 12;
  const auto c = eval::kernel_inception_distance(real, fake, o);
  EXPECT_NE(a.subset_values, c.subset_values);
  EXPECT_GT(a.std, 0.0);
  // The subset estimate is unbiased: its mean lies near the all-rows estimate (a few standard errors).
  const double whole = golden().scalar("kid.mmd2_unequal");
  EXPECT_LE(std::abs(a.mean - whole), 4 * a.std / std::sqrt(200.0)) << a.mean << " vs " << whole;
}

TEST(KernelInceptionDistance, IdenticalDistributionsGiveAboutZero) {
  Generator gen(3);
  const Tensor x = randn({400, 8}, gen, DType::f64), y = randn({400, 8}, gen, DType::f64);
  KernelInceptionDistanceOptions o;
  o.num_subsets = 20;
  o.max_subset_size = 200;
  const auto same = eval::kernel_inception_distance(x, y, o);
  const auto shifted = eval::kernel_inception_distance(x, add(y, 1.0), o);
  EXPECT_LT(std::abs(same.mean), 3 * same.std / std::sqrt(20.0) + 1e-3);
  EXPECT_GT(shifted.mean, 10 * std::abs(same.mean));
}

TEST(KernelInceptionDistance, RefusesBadInput) {
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        eval::kernel_inception_distance(zeros({10, 4}), zeros({10, 5}));
      },
      {"dimension 4", "dimension 5"}));
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        eval::kernel_inception_distance(zeros({1, 4}), zeros({10, 4}));
      },
      {"real features", "at least 2 rows"}));
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        eval::polynomial_mmd2_unbiased(zeros({5, 4}), zeros({1, 4}));
      },
      {"at least 2 rows"}));
  std::vector<double> v(10 * 4, 1.0);
  v[3 * 4 + 2] = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        eval::kernel_inception_distance(zeros({10, 4}), from_vector(v, {10, 4}));
      },
      {"fake features", "non-finite", "row 3", "column 2"}));
  KernelInceptionDistanceOptions o;
  o.num_subsets = 0;
  EXPECT_TRUE(throws_error_mentioning(
      [&] {
        eval::kernel_inception_distance(zeros({10, 4}), zeros({10, 4}), o);
      },
      {"num_subsets"}));
}

}  // namespace
}  // namespace gantry
