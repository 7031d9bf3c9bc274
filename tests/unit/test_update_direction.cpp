// Update-direction analysis (top-k paper Figs. 2-3): movements measured against hand-computed
// geometry, the one-step update against a hand-derived linear-generator step, and the inputs (networks,
// optimiser state) left untouched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "eval/update_direction.h"
#include "models/mog_mlp.h"
#include "tests/support/test_util.h"
#include "train/gan_trainer.h"

namespace gantry {
namespace {

using data::MixtureOfGaussians;
using eval::KeptSamples;
using eval::SampleMovement;

Tensor points(const std::vector<double>& xy) {
  return from_vector(xy, {static_cast<int64_t>(xy.size() / 2), 2});
}

TEST(UpdateDirection, MovementTowardTheModeHasCosineOneAndShrinksTheDistance) {
  const MixtureOfGaussians mix(25);  // mode 12 at (0, 0), mode 17 at (0, 2), std 0.05
  // Sample 0: 0.12 right of mode 12, moves 0.1 straight toward it.
  // Sample 1: 0.03 above mode 17, moves 0.04 straight away from it.
  // Sample 2: 0.17 right of mode 13 (2, 0), moves perpendicular by 0.05.
  // Sample 3: (0.9, 0.3), nearest mode 12, moves by (-0.01, -0.01).
  const Tensor before = points({0.12, 0.0, 0.0, 2.03, 2.17, 0.0, 0.9, 0.3});
  const Tensor after = points({0.02, 0.0, 0.0, 2.07, 2.17, 0.05, 0.89, 0.29});
  const auto m = eval::measure_movements(before, after, mix);
  ASSERT_EQ(m.size(), 4u);

  EXPECT_EQ(m[0].nearest_mode, 12);
  EXPECT_NEAR(m[0].cosine, 1.0, 1e-12);
  EXPECT_NEAR(m[0].distance_before, 0.12, 1e-12);
  EXPECT_NEAR(m[0].distance_after - m[0].distance_before, -0.10, 1e-12);

  EXPECT_EQ(m[1].nearest_mode, 17);
  EXPECT_NEAR(m[1].cosine, -1.0, 1e-12);
  EXPECT_NEAR(m[1].distance_after - m[1].distance_before, 0.04, 1e-12);

  EXPECT_EQ(m[2].nearest_mode, 13);
  EXPECT_NEAR(m[2].cosine, 0.0, 1e-12);
  EXPECT_NEAR(m[2].distance_after, std::hypot(0.17, 0.05), 1e-12);

  EXPECT_EQ(m[3].nearest_mode, 12);
  // (mode - before) = (-0.9, -0.3), displacement = (-0.01, -0.01).
  const double expected_cos = (0.9 * 0.01 + 0.3 * 0.01) / (std::hypot(0.9, 0.3) * std::hypot(0.01, 0.01));
  EXPECT_NEAR(m[3].cosine, expected_cos, 1e-12);
  EXPECT_NEAR(m[3].distance_after, std::hypot(0.89, 0.29), 1e-12);
}

TEST(UpdateDirection, BinsByDistanceInStdUnitsAndAveragesPerBin) {
  const MixtureOfGaussians mix(25);  // std 0.05
  // Distances before (std units): 2.4, 0.6, 3.4, 19, and two in 1-2: 1.2 (toward, cos 1) and 1.4
  // (perpendicular, cos 0).
  const Tensor before = points({0.12, 0.0, 0.0, 2.03, 2.17, 0.0, 0.9, 0.3, 0.06, 0.0, 0.0, -0.07});
  const Tensor after = points({0.02, 0.0, 0.0, 2.07, 2.17, 0.05, 0.89, 0.29, 0.05, 0.0, 0.01, -0.07});
  const auto movements = eval::measure_movements(before, after, mix);
  const auto bins = eval::bin_movements(movements, mix.std());
  ASSERT_EQ(bins.size(), 5u);
  const std::vector<int64_t> counts = {1, 2, 1, 1, 1};
  for (size_t i = 0; i < bins.size(); ++i) {
    EXPECT_EQ(bins[i].count, counts[i]) << "bin " << i;
    EXPECT_DOUBLE_EQ(bins[i].lower_std, static_cast<double>(i));
  }
  EXPECT_TRUE(std::isinf(bins[4].upper_std));
  EXPECT_NEAR(bins[0].mean_cosine, -1.0, 1e-12);
  EXPECT_NEAR(bins[0].mean_distance_change, 0.04, 1e-12);
  EXPECT_NEAR(bins[1].mean_cosine, 0.5, 1e-12);
  EXPECT_NEAR(bins[1].mean_distance_change, 0.5 * (-0.01 + (std::hypot(0.01, 0.07) - 0.07)), 1e-12);
  EXPECT_NEAR(bins[2].mean_cosine, 1.0, 1e-12);
  EXPECT_NEAR(bins[2].mean_distance_change, -0.10, 1e-12);
  EXPECT_NEAR(bins[3].mean_cosine, 0.0, 1e-12);
  EXPECT_NEAR(bins[4].mean_cosine, movements[3].cosine, 1e-12);
}

TEST(UpdateDirection, UpperBinEdgesAreInclusiveSoTheLastBinIsTheNotHighQualitySamples) {
  const MixtureOfGaussians mix(4, 2.0, 0.25);  // modes at (+-1, +-1); 1.0 = 4 std exactly
  const Tensor before = points({2.0, 1.0, 2.0625, 1.0, 1.25, 1.0});  // 4 std, 4.25 std, 1 std
  const auto bins = eval::bin_movements(eval::measure_movements(before, before, mix), mix.std());
  EXPECT_EQ(bins[0].count, 1);  // exactly 1 std
  EXPECT_EQ(bins[3].count, 1);  // exactly 4 std: still high quality
  EXPECT_EQ(bins[4].count, 1);
  EXPECT_DOUBLE_EQ(bins[4].mean_cosine, 0.0);  // no movement: cosine defined as 0
}

TEST(UpdateDirection, RejectsBadShapesAndBinEdges) {
  const MixtureOfGaussians mix(4);
  const Tensor two = points({0.1, 0.2, 0.3, 0.4});
  EXPECT_THROW(eval::measure_movements(two, points({0.1, 0.2}), mix), Error);
  EXPECT_THROW(eval::measure_movements(two, from_vector(std::vector<double>{1, 2, 3}, {1, 3}), mix), Error);
  const auto m = eval::measure_movements(two, two, mix);
  EXPECT_THROW(eval::bin_movements(m, 0.05, {1.0, 1.0}), Error);
  EXPECT_THROW(eval::bin_movements(m, 0.0), Error);
  EXPECT_THROW(eval::kept_count(100, 0.0), Error);
  EXPECT_THROW(eval::kept_count(100, 1.5), Error);
  EXPECT_EQ(eval::kept_count(10000, 0.75), 7500);
  EXPECT_EQ(eval::kept_count(10000, 0.25), 2500);
}

// ---- the analysed step ----

std::vector<double> values_of(const Tensor& t) { return to_vector<double>(t.to(DType::f64).contiguous()); }

void set_linear(nn::Module& layer, const std::vector<float>& weight, const Shape& weight_shape,
                const std::vector<float>& bias) {
  layer.load_state_dict({{"weight", from_vector(weight, weight_shape)},
                         {"bias", from_vector(bias, {static_cast<int64_t>(bias.size())})}});
}

// G(z) = W z + b and D(x) = v.x + c, stepped by plain SGD: the non-saturating generator loss over the
// kept set S has dL/dx_i = -sigmoid(-s_i) v / k, so every probe moves by
// lr * v * mean_{i in S} sigmoid(-s_i) (1 + z_i . z_p).
struct LinearGan {
  Generator gen{3};
  std::shared_ptr<nn::Linear> generator = std::make_shared<nn::Linear>(2, 2, true, gen);
  std::shared_ptr<nn::Linear> critic = std::make_shared<nn::Linear>(2, 1, true, gen);
  std::unique_ptr<optim::SGD> optimizer;
  double lr = 0.5;
  std::vector<double> W = {0.9, 0.2, -0.3, 1.1}, b = {0.05, -0.4}, v = {1.5, -0.5};
  double c = 0.1;

  LinearGan() {
    set_linear(*generator, {0.9f, 0.2f, -0.3f, 1.1f}, {2, 2}, {0.05f, -0.4f});
    set_linear(*critic, {1.5f, -0.5f}, {1, 2}, {0.1f});
    optimizer = std::make_unique<optim::SGD>(generator->parameters(), optim::SGDOptions{lr});
  }
  eval::UpdateDirectionInputs inputs(const MixtureOfGaussians& mix, const Tensor& probes, const Tensor& batch) {
    eval::UpdateDirectionInputs in;
    in.generator = generator.get();
    in.critic = critic.get();
    in.generator_optimizer = optimizer.get();
    in.make_generator = [this] { return std::make_shared<nn::Linear>(2, 2, true, gen); };
    in.make_generator_optimizer = [](std::vector<Tensor> p) {
      return std::make_unique<optim::SGD>(std::move(p), optim::SGDOptions{1e-3});  // lr replaced by the clone
    };
    in.mixture = &mix;
    in.probe_latents = probes;
    in.update_latents = batch;
    return in;
  }
  double score(double z0, double z1) const {
    const double x0 = W[0] * z0 + W[1] * z1 + b[0], x1 = W[2] * z0 + W[3] * z1 + b[1];
    return v[0] * x0 + v[1] * x1 + c;
  }
};

TEST(UpdateDirection, OneStepMatchesTheHandDerivedLinearStepForTopKAndBottomK) {
  const MixtureOfGaussians mix(25);
  LinearGan gan;
  const Tensor probes = testing::random_uniform({5, 2}, 11, -1.0, 1.0, DType::f32);
  const Tensor batch = testing::random_uniform({8, 2}, 12, -1.5, 1.5, DType::f32);
  const std::vector<double> z = values_of(batch), zp = values_of(probes);
  std::vector<double> scores(8);
  for (int i = 0; i < 8; ++i) scores[i] = gan.score(z[2 * i], z[2 * i + 1]);
  std::vector<int64_t> order = {0, 1, 2, 3, 4, 5, 6, 7};
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });

  const auto in = gan.inputs(mix, probes, batch);
  const auto top = eval::analyse_update_direction(in, KeptSamples::top_k, 0.75);
  const auto bottom = eval::analyse_update_direction(in, KeptSamples::bottom_k, 0.25);
  ASSERT_EQ(top.k, 6);
  ASSERT_EQ(bottom.k, 2);

  // The kept sets: the six highest and the two lowest scores, disjoint and together the whole batch.
  const std::set<int64_t> top_set(top.selected_indices.begin(), top.selected_indices.end());
  const std::set<int64_t> bottom_set(bottom.selected_indices.begin(), bottom.selected_indices.end());
  EXPECT_EQ(top_set, std::set<int64_t>(order.begin(), order.begin() + 6));
  EXPECT_EQ(bottom_set, std::set<int64_t>(order.begin() + 6, order.end()));

  for (const auto* r : {&top, &bottom}) {
    const std::vector<int64_t>& kept = r->selected_indices;
    std::vector<double> expected = values_of(r->probes_before);
    const std::vector<double> before = expected;
    for (int p = 0; p < 5; ++p) {
      double weight = 0;  // mean over kept of sigmoid(-s_i) (1 + z_i . z_p)
      for (int64_t i : kept)
        weight += (1.0 / (1.0 + std::exp(scores[i]))) * (1.0 + z[2 * i] * zp[2 * p] + z[2 * i + 1] * zp[2 * p + 1]);
      weight /= static_cast<double>(kept.size());
      expected[2 * p] += gan.lr * gan.v[0] * weight;
      expected[2 * p + 1] += gan.lr * gan.v[1] * weight;
    }
    const std::vector<double> after = values_of(r->probes_after);
    for (size_t j = 0; j < after.size(); ++j) {
      EXPECT_NEAR(after[j], expected[j], 2e-6) << eval::kept_samples_name(r->kept) << " coordinate " << j;
      EXPECT_GT(std::abs(after[j] - before[j]), 1e-3);  // the step really moved every probe
    }
    // The reported movements are those of the returned positions.
    const auto m = eval::measure_movements(r->probes_before, r->probes_after, mix);
    for (size_t p = 0; p < m.size(); ++p) EXPECT_DOUBLE_EQ(r->movements[p].cosine, m[p].cosine);
  }
  // The inputs' generator did not move.
  EXPECT_TRUE(testing::all_close(gan.generator->forward(probes), top.probes_before, 0, 0));
}

// A small MLP GAN whose generator optimiser has history (Adam moments from three earlier steps).
struct MlpGan {
  Generator gen{21};
  std::shared_ptr<nn::Sequential> generator = models::make_relu_mlp(2, 16, 2, 2, gen);
  std::shared_ptr<nn::Sequential> critic = models::make_relu_mlp(2, 16, 2, 1, gen);
  optim::AdamOptions adam{1e-2, 0.5, 0.999};
  std::unique_ptr<optim::Adam> optimizer;

  MlpGan() {
    optimizer = std::make_unique<optim::Adam>(generator->parameters(), adam);
    const std::vector<Tensor> params = generator->parameters();
    for (int s = 0; s < 3; ++s) {
      const Tensor out = generator->forward(randn({32, 2}, gen));
      train::assign_gradients(params, autograd::grad({mean(out * out)}, params));
      optimizer->step();
    }
    generator->zero_grad();
  }
  eval::UpdateDirectionInputs inputs(const MixtureOfGaussians& mix, const Tensor& probes, const Tensor& batch) {
    eval::UpdateDirectionInputs in;
    in.generator = generator.get();
    in.critic = critic.get();
    in.generator_optimizer = optimizer.get();
    in.make_generator = [this] { return models::make_relu_mlp(2, 16, 2, 2, gen); };
    in.make_generator_optimizer = [](std::vector<Tensor> p) { return std::make_unique<optim::Adam>(std::move(p)); };
    in.mixture = &mix;
    in.probe_latents = probes;
    in.update_latents = batch;
    return in;
  }
};

std::vector<std::vector<double>> snapshot(const std::vector<std::pair<std::string, Tensor>>& state) {
  std::vector<std::vector<double>> out;
  for (const auto& [name, t] : state) out.push_back(values_of(t));
  return out;
}

TEST(UpdateDirection, LeavesTheInputsUntouchedAndStepsFromTheClonedOptimiserState) {
  const MixtureOfGaussians mix(25);
  MlpGan gan;
  Generator latents(5);
  const Tensor probes = randn({40, 2}, latents);
  const Tensor batch = randn({64, 2}, latents);
  const auto g_before = snapshot(gan.generator->state_dict());
  const auto d_before = snapshot(gan.critic->state_dict());
  const auto opt_before = snapshot(gan.optimizer->state_dict());

  const auto r = eval::analyse_update_direction(gan.inputs(mix, probes, batch), KeptSamples::top_k, 0.75);
  EXPECT_EQ(snapshot(gan.generator->state_dict()), g_before);
  EXPECT_EQ(snapshot(gan.critic->state_dict()), d_before);
  EXPECT_EQ(snapshot(gan.optimizer->state_dict()), opt_before);
  for (const Tensor& p : gan.generator->parameters()) EXPECT_FALSE(p.grad().defined());
  for (const Tensor& p : gan.critic->parameters()) EXPECT_FALSE(p.grad().defined());

  // Reference: the same step taken on the originals (whose Adam moments carry history).
  const auto step_from = [&](optim::Optimizer& opt) {
    const std::vector<Tensor> params = gan.generator->parameters();
    const Tensor scores = gan.critic->forward(gan.generator->forward(batch)).reshape({64});
    const Tensor kept = topk(scores, 48, 0, true).first;
    train::assign_gradients(params, autograd::grad({train::generator_loss(train::GanLoss::non_saturating, kept)}, params));
    opt.step();
    NoGradGuard no_grad;
    return gan.generator->forward(probes);
  };
  const nn::StateDict weights = gan.generator->state_dict();
  std::vector<Tensor> saved;
  for (const auto& [name, t] : weights) saved.push_back(t.clone());
  {
    optim::Adam fresh(gan.generator->parameters(), gan.adam);  // no history
    const Tensor fresh_after = step_from(fresh);
    EXPECT_FALSE(testing::all_close(fresh_after, r.probes_after, 1e-4, 1e-6))
        << "a fresh optimiser gives the same step: the test cannot tell cloned state from reset state";
  }
  nn::StateDict restore;
  for (size_t i = 0; i < weights.size(); ++i) restore.emplace_back(weights[i].first, saved[i]);
  gan.generator->load_state_dict(restore);
  const Tensor expected_after = step_from(*gan.optimizer);
  EXPECT_TRUE(testing::all_close(r.probes_after, expected_after, 1e-6, 1e-7));
}

TEST(UpdateDirection, RejectsMissingInputsAndMismatchedLatents) {
  const MixtureOfGaussians mix(25);
  MlpGan gan;
  Generator latents(6);
  auto in = gan.inputs(mix, randn({10, 2}, latents), randn({20, 3}, latents));
  EXPECT_THROW(eval::analyse_update_direction(in, KeptSamples::top_k, 0.75), Error);  // latent dims differ
  in.update_latents = randn({20, 2}, latents);
  EXPECT_THROW(eval::analyse_update_direction(in, KeptSamples::top_k, 0.0), Error);
  in.critic = nullptr;
  EXPECT_THROW(eval::analyse_update_direction(in, KeptSamples::top_k, 0.75), Error);
}

}  // namespace
}  // namespace gantry
