// Mixture-of-Gaussians geometry and mode metrics on synthetic samples whose answers are known by
// construction.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "eval/mog_metrics.h"
#include "train/data/mixture_of_gaussians.h"

namespace gantry {
namespace {

using data::MixtureOfGaussians;

TEST(MixtureOfGaussians, OuterRingIsTheGridsBorder) {
  MixtureOfGaussians mix(25);
  int64_t ring = 0;
  for (int64_t m = 0; m < 25; ++m) ring += mix.on_outer_ring(m) ? 1 : 0;
  EXPECT_EQ(ring, 16);
  EXPECT_TRUE(mix.on_outer_ring(0));
  EXPECT_TRUE(mix.on_outer_ring(4));
  EXPECT_TRUE(mix.on_outer_ring(5));
  EXPECT_FALSE(mix.on_outer_ring(6));
  EXPECT_FALSE(mix.on_outer_ring(12));
  EXPECT_TRUE(mix.on_outer_ring(24));
  EXPECT_TRUE(MixtureOfGaussians(1).on_outer_ring(0));
}

TEST(MixtureOfGaussians, GridIsCentredWithSpacingTwo) {
  MixtureOfGaussians mix(25);
  EXPECT_EQ(mix.grid_side(), 5);
  EXPECT_DOUBLE_EQ(mix.centre_x(0), -4.0);
  EXPECT_DOUBLE_EQ(mix.centre_y(0), -4.0);
  EXPECT_DOUBLE_EQ(mix.centre_x(24), 4.0);
  EXPECT_DOUBLE_EQ(mix.centre_y(24), 4.0);
  EXPECT_DOUBLE_EQ(mix.centre_x(7), 0.0);   // column 2
  EXPECT_DOUBLE_EQ(mix.centre_y(7), -2.0);  // row 1
  MixtureOfGaussians big(64);
  EXPECT_DOUBLE_EQ(big.centre_x(0), -7.0);
  EXPECT_DOUBLE_EQ(big.centre_x(1) - big.centre_x(0), 2.0);
  MixtureOfGaussians one(1);
  EXPECT_DOUBLE_EQ(one.centre_x(0), 0.0);
}

TEST(MixtureOfGaussians, RejectsNonSquareOrZeroModes) {
  EXPECT_THROW(MixtureOfGaussians(0), Error);
  EXPECT_THROW(MixtureOfGaussians(24), Error);
  EXPECT_THROW(MixtureOfGaussians(-4), Error);
  try {
    MixtureOfGaussians bad(50);
    FAIL() << "50 modes accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("perfect square"), std::string::npos) << e.what();
  }
}

TEST(MixtureOfGaussians, SamplesAreDeterministicPerSeedAndCoverModes) {
  MixtureOfGaussians mix(25);
  Generator g1(7), g2(7), g3(8);
  const auto a = to_vector<float>(mix.sample(500, g1));
  const auto b = to_vector<float>(mix.sample(500, g2));
  const auto c = to_vector<float>(mix.sample(500, g3));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

// Points on a ring of radius r around a centre, at varied angles.
void add_ring(std::vector<double>& xy, double cx, double cy, double r, int count) {
  for (int i = 0; i < count; ++i) {
    const double angle = 2.0 * M_PI * (i + 0.25) / count;
    xy.push_back(cx + r * std::cos(angle));
    xy.push_back(cy + r * std::sin(angle));
  }
}

TEST(MogMetrics, KnownSyntheticSamples) {
  MixtureOfGaussians mix(25);
  std::vector<double> xy;
  const double hq_r = 2.0 * mix.std();      // 2 std: high quality
  for (int m = 0; m < 10; ++m) add_ring(xy, mix.centre_x(m), mix.centre_y(m), hq_r, 30 + m);
  add_ring(xy, mix.centre_x(10), mix.centre_y(10), 5.0 * mix.std(), 40);  // 5 std: nearest mode 10, not HQ
  for (int i = 0; i < 20; ++i) xy.push_back(-3.0), xy.push_back(-3.0 + 0.01 * i);  // between modes
  const int64_t n = static_cast<int64_t>(xy.size() / 2);
  const auto r = eval::evaluate_mog_samples(from_vector(xy, {n, 2}), mix);

  int64_t expected_hq = 0;
  for (int m = 0; m < 10; ++m) expected_hq += 30 + m;
  EXPECT_EQ(r.num_samples, n);
  EXPECT_EQ(r.high_quality_samples, expected_hq);
  EXPECT_NEAR(r.high_quality_percent, 100.0 * expected_hq / n, 1e-9);
  EXPECT_EQ(r.modes_recovered, 10);
  EXPECT_NEAR(r.modes_recovered_percent, 40.0, 1e-9);
  ASSERT_EQ(r.high_quality_per_mode.size(), 25u);
  for (int m = 0; m < 25; ++m) EXPECT_EQ(r.high_quality_per_mode[m], m < 10 ? 30 + m : 0) << "mode " << m;
  // Every HQ sample is exactly hq_r from its centre: per-coordinate RMS = hq_r / sqrt(2).
  EXPECT_NEAR(r.within_mode_std, hq_r / std::sqrt(2.0), 1e-9);
  // Small-GAN's count also takes mode 10 (assigned, not HQ) and the mode the in-between points are
  // nearest to: (-3, -3 + 0.01 i) for i < 20 is nearest (-4, -4) = mode 0 or (-2, -2) = mode 6 ...
  ASSERT_EQ(r.assigned_per_mode.size(), 25u);
  EXPECT_EQ(r.assigned_per_mode[10], 40);
  int64_t assigned_total = 0;
  for (int64_t c : r.assigned_per_mode) assigned_total += c;
  EXPECT_EQ(assigned_total, n);
  EXPECT_EQ(r.modes_assigned, 11);  // ... which are among modes 0-9 already
  EXPECT_NEAR(r.modes_assigned_percent, 44.0, 1e-9);
  // The outer ring of the 5x5 grid: 16 modes; modes 10-24 without an HQ sample hold 10, 14, 15, 19,
  // 20-24 of it (9), and without any sample 14, 15, 19, 20-24 (8).
  EXPECT_EQ(r.outer_ring_modes, 16);
  EXPECT_EQ(r.missed_on_outer_ring, 9);
  EXPECT_EQ(r.unassigned_on_outer_ring, 8);
}

TEST(MogMetrics, AssignedCountTakesFarSamplesThatHighQualityRefuses) {
  MixtureOfGaussians mix(9);  // centres on {-2, 0, 2}^2
  // Each sample sits 0.5 from a different mode: nearest to it, far beyond 4 std (0.2).
  std::vector<double> xy;
  for (int m = 0; m < 9; ++m) xy.push_back(mix.centre_x(m) + 0.5), xy.push_back(mix.centre_y(m));
  const auto r = eval::evaluate_mog_samples(from_vector(xy, {9, 2}), mix);
  EXPECT_EQ(r.modes_recovered, 0);
  EXPECT_EQ(r.modes_assigned, 9);
  EXPECT_DOUBLE_EQ(r.modes_assigned_percent, 100.0);
  EXPECT_EQ(r.outer_ring_modes, 8);  // all but the centre
  EXPECT_EQ(r.missed_on_outer_ring, 8);
  EXPECT_EQ(r.unassigned_on_outer_ring, 0);
}

TEST(MogMetrics, FourStdThresholdSeparatesSamples) {
  MixtureOfGaussians mix(4);  // centres at (+-1, +-1)
  const double s = mix.std();
  const std::vector<double> xy = {1.0 + 3.9 * s, 1.0, -1.0, -1.0 - 4.1 * s, -1.0, 1.0 + 3.0 * s};
  const auto r = eval::evaluate_mog_samples(from_vector(xy, {3, 2}), mix);
  EXPECT_EQ(r.high_quality_samples, 2);
  EXPECT_EQ(r.modes_recovered, 2);
  EXPECT_EQ(r.high_quality_per_mode[3], 1);  // (1, 1): column 1, row 1
  EXPECT_EQ(r.high_quality_per_mode[2], 1);  // (-1, 1)
  EXPECT_EQ(r.high_quality_per_mode[0], 0);  // (-1, -1) sample is 4.1 std away
}

TEST(MogMetrics, TrueDistributionScoresNearPerfect) {
  MixtureOfGaussians mix(25);
  Generator gen(3);
  const auto r = eval::evaluate_mog_samples(mix.sample(10000, gen), mix);
  // P(radius > 4 std) for a 2-D Gaussian is exp(-8) ~ 0.03%.
  EXPECT_GT(r.high_quality_percent, 99.8);
  EXPECT_DOUBLE_EQ(r.modes_recovered_percent, 100.0);
  EXPECT_NEAR(r.within_mode_std, mix.std(), 0.003);
}

TEST(MogMetrics, CollapsedGeneratorRecoversOneMode) {
  MixtureOfGaussians mix(25);
  Generator gen(4);
  const Tensor collapsed = add(mul(randn({1000, 2}, gen), 0.01), 2.0);  // all near (2, 2) = mode 18
  const auto r = eval::evaluate_mog_samples(collapsed, mix);
  EXPECT_EQ(r.modes_recovered, 1);
  EXPECT_EQ(r.high_quality_per_mode[18], 1000);
  EXPECT_EQ(r.modes_assigned, 1);
  EXPECT_EQ(r.missed_on_outer_ring, 16);  // mode 18 (column 3, row 3) is inside the ring
  EXPECT_NEAR(r.within_mode_std, 0.01, 0.002);
}

TEST(MogMetrics, RejectsBadShapes) {
  MixtureOfGaussians mix(25);
  EXPECT_THROW(eval::evaluate_mog_samples(zeros({10, 3}), mix), Error);
  EXPECT_THROW(eval::evaluate_mog_samples(zeros({10}), mix), Error);
  EXPECT_THROW(eval::evaluate_mog_samples(Tensor(), mix), Error);
}

}  // namespace
}  // namespace gantry
