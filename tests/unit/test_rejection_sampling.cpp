// Discriminator rejection sampling (eval/rejection_sampling.h) on a case with a known answer: proposals
// from N(0, 1), a "critic" whose logit is the exact log density ratio to N(1, 1).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "eval/rejection_sampling.h"

namespace gantry {
namespace {

struct KnownRatio {
  Generator proposals{21};
  // log N(x; 1, 1) - log N(x; 0, 1) = x - 1/2
  std::function<Tensor(int64_t)> propose = [this](int64_t n) { return randn({n, 1}, proposals, DType::f64); };
  std::function<Tensor(const Tensor&)> logits = [](const Tensor& x) { return sub(x, 0.5); };
};

std::pair<double, double> mean_and_variance(const Tensor& x) {
  const std::vector<double> v = to_vector<double>(x);
  double m = 0, s = 0;
  for (double a : v) m += a;
  m /= static_cast<double>(v.size());
  for (double a : v) s += (a - m) * (a - m);
  return {m, s / static_cast<double>(v.size() - 1)};
}

TEST(RejectionSampling, ScoreIsTheLogOddsOfExactRejectionSampling) {
  // sigmoid(d - log(1 - exp(d))) = exp(d): DRS with gamma 0 accepts with the exact probability.
  const std::vector<double> logits = {-3.0, -0.5, 1.0, 1.999};
  const std::vector<double> f = eval::drs_scores(logits, 2.0, 1e-12);
  for (size_t i = 0; i < logits.size(); ++i)
    EXPECT_NEAR(1.0 / (1.0 + std::exp(-f[i])), std::exp(logits[i] - 2.0), 1e-9) << i;
  EXPECT_GT(eval::drs_scores({2.0}, 2.0, 1e-6)[0], 13.0);  // the max itself: -log(1 - e^-eps) ~ 13.8
  EXPECT_THROW(eval::drs_scores({2.5}, 2.0, 1e-6), Error);
}

TEST(RejectionSampling, WithGammaZeroItSamplesTheTargetDistribution) {
  KnownRatio k;
  eval::RejectionSamplingOptions o;
  o.gamma = 0.0;
  o.batch = 50000;
  Generator rng(3);
  const auto r = eval::discriminator_rejection_sample(k.propose, k.logits, 20000, o, rng);
  ASSERT_EQ(r.samples.size(0), 20000);
  EXPECT_EQ(r.accepted, 20000);
  const auto [mean, variance] = mean_and_variance(r.samples);
  EXPECT_NEAR(mean, 1.0, 0.04);  // N(1, 1), its tail beyond the burn-in max (~3.7) cut: bias ~ -0.01
  EXPECT_NEAR(variance, 1.0, 0.06);
  // The acceptance rate of exact rejection sampling is 1 / M = exp(-(max logit)) (E_g[exp(logit)] = 1).
  EXPECT_NEAR(r.acceptance_rate(), std::exp(-r.max_logit), 0.25 * std::exp(-r.max_logit));
  // The proposals themselves have mean 0: the correction is what moves it.
  KnownRatio plain;
  EXPECT_NEAR(mean_and_variance(plain.propose(20000)).first, 0.0, 0.04);
}

TEST(RejectionSampling, ThePercentileSetsTheAcceptanceRate) {
  double previous = 0;
  for (double percentile : {99.0, 95.0, 80.0, 50.0}) {
    KnownRatio k;
    eval::RejectionSamplingOptions o;
    o.gamma_percentile = percentile;
    o.batch = 4000;
    Generator rng(4);
    const auto r = eval::discriminator_rejection_sample(k.propose, k.logits, 4000, o, rng);
    EXPECT_GT(r.acceptance_rate(), previous) << percentile;
    previous = r.acceptance_rate();
    // A higher-logit sample is likelier to be kept: the kept mean moves toward the target.
    EXPECT_GT(mean_and_variance(r.samples).first, 0.2) << percentile;
  }
  EXPECT_LT(previous, 1.0);
}

TEST(RejectionSampling, BadSettingsAndCriticsAreRefused) {
  KnownRatio k;
  Generator rng(5);
  eval::RejectionSamplingOptions o;
  o.gamma_percentile = 101;
  EXPECT_THROW(eval::discriminator_rejection_sample(k.propose, k.logits, 10, o, rng), Error);
  o = {};
  o.burn_in = 0;
  EXPECT_THROW(eval::discriminator_rejection_sample(k.propose, k.logits, 10, o, rng), Error);
  o = {};
  const std::function<Tensor(const Tensor&)> nan_critic = [](const Tensor& x) { return mul(x, std::nan("")); };
  EXPECT_THROW(eval::discriminator_rejection_sample(k.propose, nan_critic, 10, o, rng), Error);
  const std::function<Tensor(const Tensor&)> wrong_shape = [](const Tensor& x) { return cat({x, x}, 0); };
  EXPECT_THROW(eval::discriminator_rejection_sample(k.propose, wrong_shape, 10, o, rng), Error);
  // A critic that never accepts gives up with a message instead of looping.
  o.max_proposals = 20000;
  o.gamma = 1e6;
  EXPECT_THROW(eval::discriminator_rejection_sample(k.propose, k.logits, 10, o, rng), Error);
}

}  // namespace
}  // namespace gantry
