// The top-k schedule and batch-selection policies (top-k paper; pinned in DESIGN.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/autograd/node.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "train/losses.h"
#include "train/topk_schedule.h"
#include "train/update_policy.h"

namespace gantry {
namespace {

using train::TopKSchedule;

// k after n decays by the closed form max(B gamma^n, nu).
double closed_form_k(double batch, double gamma, double nu, int n) {
  return std::max(batch * std::pow(gamma, n), nu);
}

TEST(TopKSchedule, MixtureDefaultsFollowTheFormula) {
  TopKSchedule s(256, 0.99, train::parse_nu("0.75", 256), 2000);
  EXPECT_DOUBLE_EQ(s.nu(), 192.0);
  const std::vector<int64_t> checkpoints = {0, 1999, 2000, 2001, 4000, 10000, 56000, 58000, 100000};
  int64_t steps = 0;
  for (int64_t target : checkpoints) {
    while (steps < target) s.on_generator_step(), ++steps;
    const int decays = static_cast<int>(target / 2000);
    const double expected = closed_form_k(256, 0.99, 192, decays);
    EXPECT_NEAR(s.k_real(), expected, 1e-9) << "after " << target << " steps";
    EXPECT_EQ(s.k(), static_cast<int64_t>(std::floor(expected + 1e-9))) << "after " << target << " steps";
  }
}

TEST(TopKSchedule, HandComputedValues) {
  TopKSchedule s(256, 0.99, 192, 2000);
  auto advance = [&](int n) { for (int i = 0; i < n; ++i) s.on_generator_step(); };
  EXPECT_EQ(s.k(), 256);
  advance(1999);
  EXPECT_EQ(s.k(), 256);
  advance(1);
  EXPECT_EQ(s.k(), 253);  // 253.44
  advance(2000);
  EXPECT_EQ(s.k(), 250);  // 250.9056
  advance(2000 * 26);     // 28 decays: 256 * 0.99^28 = 193.2
  EXPECT_EQ(s.k(), 193);
  advance(2000);          // 29 decays would be 191.3: clamped at nu
  EXPECT_EQ(s.k(), 192);
  EXPECT_DOUBLE_EQ(s.k_real(), 192.0);
  advance(20000);
  EXPECT_EQ(s.k(), 192);

  TopKSchedule small(10, 0.5, 3, 1);
  small.on_generator_step();
  EXPECT_EQ(small.k(), 5);
  small.on_generator_step();
  EXPECT_EQ(small.k(), 3);  // max(2.5, 3)
}

TEST(TopKSchedule, StateRoundTrips) {
  TopKSchedule a(64, 0.9, 16, 3), b(64, 0.9, 16, 3);
  for (int i = 0; i < 10; ++i) a.on_generator_step();
  b.load_state(a.state());
  EXPECT_EQ(b.k_real(), a.k_real());
  EXPECT_EQ(b.generator_steps(), 10);
  for (int i = 0; i < 5; ++i) a.on_generator_step(), b.on_generator_step();
  EXPECT_EQ(b.k_real(), a.k_real());
}

TEST(TopKSchedule, RejectsBadSettings) {
  EXPECT_THROW(TopKSchedule(256, 0.0, 192, 2000), Error);
  EXPECT_THROW(TopKSchedule(256, 1.01, 192, 2000), Error);
  EXPECT_THROW(TopKSchedule(256, 0.99, 300, 2000), Error);
  EXPECT_THROW(TopKSchedule(256, 0.99, 192, 0), Error);
  EXPECT_NO_THROW(TopKSchedule(256, 1.0, 256, 1));
  EXPECT_THROW(train::parse_nu("300", 256), Error);
  EXPECT_THROW(train::parse_nu("12.5", 256), Error);
  EXPECT_THROW(train::parse_nu("abc", 256), Error);
  EXPECT_THROW(train::parse_nu("-0.5", 256), Error);
  EXPECT_DOUBLE_EQ(train::parse_nu("0.5", 256), 128.0);
  EXPECT_DOUBLE_EQ(train::parse_nu("100", 256), 100.0);
}

TEST(TopKSelection, KeepsHighestScoresWithTiesByLowerIndex) {
  const Tensor scores = from_vector(std::vector<double>{0.5, 2.0, -1.0, 2.0, 0.5, 3.0, 0.5}, {7, 1});
  const auto top = to_vector<double>(train::select_k_scores(scores, 4, true));
  ASSERT_EQ(top.size(), 4u);
  std::vector<double> sorted = top;
  std::sort(sorted.rbegin(), sorted.rend());
  EXPECT_EQ(sorted, (std::vector<double>{3.0, 2.0, 2.0, 0.5}));
  const auto bottom = to_vector<double>(train::select_k_scores(scores, 2, false));
  std::vector<double> bsorted = bottom;
  std::sort(bsorted.begin(), bsorted.end());
  EXPECT_EQ(bsorted, (std::vector<double>{-1.0, 0.5}));
  EXPECT_THROW(train::select_k_scores(scores, 8, true), Error);
  EXPECT_THROW(train::select_k_scores(scores, 0, true), Error);
}

// d(loss)/d(fake rows) through a linear critic: rows outside the kept set get exactly zero.
void check_discarded_rows_get_zero_gradient(bool keep_highest, train::GanLoss loss_kind) {
  const int64_t batch = 12, k = 5;
  Tensor fakes = from_vector(std::vector<double>{0.3, -1.2, 1.5, 0.7, -0.4, 2.2, 0.9, -2.0, 1.1, 0.1, -0.8, 1.9,
                                                 0.6, 0.2, -1.5, 1.3, 0.05, -0.6, 2.5, 0.4, -0.9, 1.7, 0.35, -0.3},
                             {batch, 2});
  fakes.set_requires_grad(true);
  const Tensor w = from_vector(std::vector<double>{0.8, -0.5}, {2, 1});
  const Tensor scores = matmul(fakes, w);  // [B, 1], higher = more real
  const Tensor selected = train::select_k_scores(scores, k, keep_highest);
  const Tensor loss = train::generator_loss(loss_kind, selected);
  const Tensor g = autograd::grad({loss}, {fakes})[0];

  // Which rows should be kept: by score order, ties by lower index.
  const auto s = to_vector<double>(scores);
  std::vector<int64_t> order(batch);
  for (int64_t i = 0; i < batch; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return keep_highest ? s[a] > s[b] : s[a] < s[b]; });
  std::vector<bool> kept(batch, false);
  for (int64_t i = 0; i < k; ++i) kept[order[i]] = true;

  const auto gv = to_vector<double>(g);
  for (int64_t i = 0; i < batch; ++i) {
    if (kept[i]) {
      EXPECT_NE(gv[2 * i], 0.0) << "kept row " << i;
      EXPECT_NE(gv[2 * i + 1], 0.0) << "kept row " << i;
    } else {
      EXPECT_EQ(gv[2 * i], 0.0) << "discarded row " << i;
      EXPECT_EQ(gv[2 * i + 1], 0.0) << "discarded row " << i;
    }
  }
  // Kept rows: the mean over k, so row i's gradient is dL/ds_i * w with dL/ds from the loss alone.
  for (int64_t i = 0; i < batch; ++i) {
    if (!kept[i]) continue;
    double dl_ds = 0;
    switch (loss_kind) {
      case train::GanLoss::non_saturating: dl_ds = -1.0 / (1.0 + std::exp(s[i])) / k; break;
      default: dl_ds = -1.0 / k; break;
    }
    EXPECT_NEAR(gv[2 * i], dl_ds * 0.8, 1e-12);
    EXPECT_NEAR(gv[2 * i + 1], dl_ds * -0.5, 1e-12);
  }
}

TEST(TopKSelection, DiscardedSamplesGetExactlyZeroGradient) {
  check_discarded_rows_get_zero_gradient(true, train::GanLoss::non_saturating);
  check_discarded_rows_get_zero_gradient(true, train::GanLoss::hinge);
  check_discarded_rows_get_zero_gradient(true, train::GanLoss::wasserstein);
}

TEST(TopKSelection, BottomKKeepsTheLowestScores) {
  check_discarded_rows_get_zero_gradient(false, train::GanLoss::non_saturating);
}

TEST(TopKPolicy, TargetsSelectTheRightTerms) {
  const Tensor scores = from_vector(std::vector<double>{0.1, 0.9, -0.3, 0.4, 0.8, -0.7, 0.2, 0.6}, {8, 1});
  auto make = [](train::SelectionTarget t, bool highest) {
    TopKSchedule s(8, 0.5, 4, 1);
    s.on_generator_step();  // k = 4
    return train::TopKPolicy(s, t, highest);
  };
  const auto g_only = make(train::SelectionTarget::generator, true);
  EXPECT_EQ(g_only.select_for_generator(scores).numel(), 4);
  EXPECT_EQ(g_only.select_for_critic(scores).numel(), 8);
  const auto d_only = make(train::SelectionTarget::critic, true);
  EXPECT_EQ(d_only.select_for_generator(scores).numel(), 8);
  EXPECT_EQ(d_only.select_for_critic(scores).numel(), 4);
  const auto both = make(train::SelectionTarget::both, false);
  const auto kept = to_vector<double>(both.select_for_generator(scores));
  EXPECT_EQ(both.select_for_critic(scores).numel(), 4);
  for (double v : kept) EXPECT_LE(v, 0.2);  // the 4 lowest: -0.7, -0.3, 0.1, 0.2
  EXPECT_EQ(both.current_k(8), 4);
  EXPECT_EQ(train::parse_selection_target("gd"), train::SelectionTarget::both);
  EXPECT_THROW(train::parse_selection_target("x"), Error);

  train::FullBatchPolicy full;
  EXPECT_EQ(full.select_for_generator(scores).numel(), 8);
  EXPECT_EQ(full.current_k(8), 8);
}

double effective_sample_size(const std::vector<float>& w) {
  double sum = 0, sum_sq = 0;
  for (float v : w) sum += v, sum_sq += double(v) * v;
  return sum * sum / sum_sq;
}

TEST(SoftTopK, WeightsHaveTheScheduledEffectiveSampleSizeAndFollowTheScores) {
  Generator gen(11);
  const Tensor scores = randn({64, 1}, gen);
  const std::vector<float> s = to_vector<float>(scores);
  for (double k : {64.0, 48.0, 20.5, 4.0, 1.0}) {
    const std::vector<float> w = to_vector<float>(train::soft_topk_weights(scores, k));
    ASSERT_EQ(w.size(), 64u);
    double total = 0;
    for (float v : w) total += v;
    EXPECT_NEAR(total, 1.0, 1e-6) << "k " << k;
    EXPECT_NEAR(effective_sample_size(w), k, 1e-4 * k) << "k " << k;
    // Weights rank the samples as their scores do.
    for (size_t a = 0; a < s.size(); ++a)
      for (size_t b = 0; b < s.size(); ++b)
        if (s[a] > s[b]) EXPECT_GE(w[a], w[b]) << "k " << k;
  }
  // k = B: uniform; k = 1: the best sample carries (nearly) everything.
  for (float v : to_vector<float>(train::soft_topk_weights(scores, 64))) EXPECT_FLOAT_EQ(v, 1.0f / 64);
  const auto best = std::max_element(s.begin(), s.end()) - s.begin();
  EXPECT_GT(to_vector<float>(train::soft_topk_weights(scores, 1.0))[best], 0.99f);
  // Equal scores cannot be told apart: uniform whatever k says.
  for (float v : to_vector<float>(train::soft_topk_weights(full({8}, 0.3), 2))) EXPECT_FLOAT_EQ(v, 0.125f);
  // The weights come in the scores' dtype, so they multiply f64 loss terms too.
  EXPECT_EQ(train::soft_topk_weights(scores, 4).dtype(), DType::f32);
  EXPECT_EQ(train::soft_topk_weights(from_vector(std::vector<double>{0.1, 0.5, -0.2}, {3}), 2).dtype(), DType::f64);
  EXPECT_THROW(train::soft_topk_weights(scores, 0.5), Error);
  EXPECT_THROW(train::soft_topk_weights(scores, 65), Error);
  EXPECT_THROW(train::soft_topk_weights(full({4}, std::nan("")), 2), Error);
}

// The weighted generator loss is sum_i w_i l(s_i), and its gradient w.r.t. each score is w_i l'(s_i):
// no sample is discarded, none gets a gradient through its weight.
TEST(SoftTopK, WeightedLossAndItsGradientPerSample) {
  const std::vector<double> sv = {0.3, -1.2, 2.0, 0.0, -0.4};
  const std::vector<double> wv = {0.1, 0.05, 0.5, 0.25, 0.1};
  for (auto loss : {train::GanLoss::non_saturating, train::GanLoss::hinge, train::GanLoss::wasserstein}) {
    const Tensor scores = from_vector(sv, {5, 1}).set_requires_grad(true);
    const Tensor weights = from_vector(wv, {5}).set_requires_grad(true);
    const Tensor l = train::weighted_generator_loss(loss, scores, weights);
    double expected = 0;
    for (size_t i = 0; i < sv.size(); ++i)
      expected += wv[i] * (loss == train::GanLoss::non_saturating ? std::log1p(std::exp(-sv[i])) : -sv[i]);
    EXPECT_NEAR(l.item<double>(), expected, 1e-12);
    const TensorList g = autograd::grad({l}, {scores});
    const std::vector<double> gv = to_vector<double>(g[0]);
    for (size_t i = 0; i < sv.size(); ++i) {
      const double dl = loss == train::GanLoss::non_saturating ? -1.0 / (1.0 + std::exp(sv[i])) : -1.0;
      EXPECT_NEAR(gv[i], wv[i] * dl, 1e-12) << i;
    }
    // Uniform weights give the plain mean.
    const Tensor uniform = full({5}, 0.2, DType::f64);
    EXPECT_NEAR(train::weighted_generator_loss(loss, scores, uniform).item<double>(),
                train::generator_loss(loss, scores).item<double>(), 1e-12);
  }
  EXPECT_THROW(train::weighted_generator_loss(train::GanLoss::hinge, from_vector(sv, {5, 1}), full({4}, 0.25)), Error);
}

TEST(SoftTopK, PolicyFollowsTheScheduleAndKeepsEveryFake) {
  train::SoftTopKPolicy policy(TopKSchedule(8, 0.5, 2, 1));
  const Tensor scores = from_vector(std::vector<double>{0.1, 0.9, -0.3, 0.4, 0.8, -0.7, 0.2, 0.6}, {8, 1});
  EXPECT_EQ(policy.select_for_generator(scores).numel(), 8);
  EXPECT_EQ(policy.select_for_critic(scores).numel(), 8);
  EXPECT_NEAR(effective_sample_size(to_vector<float>(policy.generator_weights(scores))), 8.0, 1e-4);
  policy.on_generator_step();  // k = 4
  EXPECT_EQ(policy.current_k(8), 4);
  EXPECT_NEAR(effective_sample_size(to_vector<float>(policy.generator_weights(scores))), 4.0, 1e-4);
  train::SoftTopKPolicy restored(TopKSchedule(8, 0.5, 2, 1));  // a checkpoint carries the schedule
  restored.load_state(policy.state());
  EXPECT_EQ(restored.current_k(8), 4);
  train::TopKPolicy hard(TopKSchedule(8, 0.5, 2, 1), train::SelectionTarget::generator);
  EXPECT_FALSE(hard.generator_weights(scores).defined());
  EXPECT_EQ(train::parse_batch_selection("soft-top-k"), train::BatchSelection::soft_top_k);
  EXPECT_STREQ(train::batch_selection_name(train::BatchSelection::soft_top_k), "soft-top-k");
}

}  // namespace
}  // namespace gantry
