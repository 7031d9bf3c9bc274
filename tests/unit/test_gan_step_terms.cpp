// The step loop's pluggable terms against closed forms: on a linear critic D(x) = <w, x> every input
// gradient is w, so the WGAN-GP penalty is lambda (|w| - 1)^2 and R1 is gamma/2 |w|^2, with known
// derivatives in w; weight clipping clamps; the mode-seeking term follows its formula; and the
// trainer hands class labels to both networks.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd/node.h"
#include "engine/nn/module.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "engine/random/generator.h"
#include "models/mog_mlp.h"
#include "train/gan_step_terms.h"
#include "train/gan_trainer.h"

namespace gantry {
namespace {

// D(x) = x.flatten(1) @ w, in float64.
struct LinearCritic {
  Tensor w;
  explicit LinearCritic(const std::vector<double>& weights) {
    w = from_vector(weights, {static_cast<int64_t>(weights.size()), 1});
    w.set_requires_grad(true);
  }
  train::NetworkCall call() const {
    return [w = w](const Tensor& x, const Tensor&) { return matmul(x.reshape({x.size(0), -1}), w).reshape({x.size(0)}); };
  }
  double norm() const {
    const Tensor c = w.detach().contiguous();
    double s = 0;
    for (int64_t i = 0; i < c.numel(); ++i) s += c.data_ptr<double>()[i] * c.data_ptr<double>()[i];
    return std::sqrt(s);
  }
};

Tensor batch(Generator& gen) { return randn({5, 1, 2, 2}, gen, DType::f64); }

TEST(GanStepTerms, GradientPenaltyOfALinearCriticIsLambdaTimesTheSquaredNormGap) {
  LinearCritic critic({0.3, -1.2, 0.8, 0.5});
  Generator gen(1);
  const Tensor real = batch(gen), fake = batch(gen);
  train::GradientPenalty gp(10.0);
  const Tensor penalty = gp.penalty(critic.call(), real, {}, fake, {}, gen);
  const double n = critic.norm();
  EXPECT_NEAR(penalty.item<double>(), 10.0 * (n - 1) * (n - 1), 1e-9);
  // d/dw lambda (|w| - 1)^2 = 2 lambda (|w| - 1) w / |w|: the penalty trains the critic.
  const Tensor g = autograd::grad({penalty}, {critic.w})[0].contiguous();
  const Tensor w = critic.w.detach().contiguous();
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_NEAR(g.data_ptr<double>()[i], 2 * 10.0 * (n - 1) * w.data_ptr<double>()[i] / n, 1e-8);
}

TEST(GanStepTerms, GradientPenaltyRefusesBatchesOfDifferentShapes) {
  LinearCritic critic({1, 1, 1, 1});
  Generator gen(2);
  train::GradientPenalty gp(10.0);
  EXPECT_THROW(gp.penalty(critic.call(), batch(gen), {}, randn({4, 1, 2, 2}, gen, DType::f64), {}, gen), Error);
}

TEST(GanStepTerms, R1OfALinearCriticIsHalfGammaTimesTheSquaredNorm) {
  LinearCritic critic({0.3, -1.2, 0.8, 0.5});
  Generator gen(3);
  train::R1Penalty r1(2.0);
  const Tensor penalty = r1.penalty(critic.call(), batch(gen), {}, batch(gen), {}, gen);
  const double n = critic.norm();
  EXPECT_NEAR(penalty.item<double>(), 0.5 * 2.0 * n * n, 1e-9);
  const Tensor g = autograd::grad({penalty}, {critic.w})[0].contiguous();
  const Tensor w = critic.w.detach().contiguous();
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(g.data_ptr<double>()[i], 2.0 * w.data_ptr<double>()[i], 1e-8);
}

TEST(GanStepTerms, WeightClippingClampsEveryCriticWeightAfterItsStep) {
  Tensor p = from_vector(std::vector<double>{-0.5, 0.004, 0.02, -0.01}, {4});
  train::WeightClipping clip(0.01);
  clip.after_critic_step({p});
  const std::vector<double> expected{-0.01, 0.004, 0.01, -0.01};
  for (int64_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(p.data_ptr<double>()[i], expected[static_cast<size_t>(i)]);
}

TEST(GanStepTerms, ModeSeekingTermFollowsMsgansFormula) {
  Generator gen(4);
  const Tensor z = randn({6, 3}, gen, DType::f64);
  Tensor fakes = randn({6, 1, 2, 2}, gen, DType::f64);
  fakes.set_requires_grad(true);
  train::ModeSeekingTerm ms(1.0);
  const Tensor term = ms.term(z, fakes);
  // By hand: halves (0..2) and (3..5).
  const Tensor f = fakes.detach().contiguous(), zz = z.contiguous();
  double image_gap = 0, latent_gap = 0;
  for (int64_t i = 0; i < 3 * 4; ++i) image_gap += std::abs(f.data_ptr<double>()[i] - f.data_ptr<double>()[i + 12]);
  for (int64_t i = 0; i < 3 * 3; ++i) latent_gap += std::abs(zz.data_ptr<double>()[i] - zz.data_ptr<double>()[i + 9]);
  EXPECT_NEAR(term.item<double>(), 1.0 / ((image_gap / 12) / (latent_gap / 9) + 1e-5), 1e-9);
  // Minimising it pushes the paired images apart: the gradient is non-zero on every fake.
  const Tensor g = autograd::grad({term}, {fakes})[0].contiguous();
  for (int64_t i = 0; i < g.numel(); ++i) EXPECT_NE(g.data_ptr<double>()[i], 0.0) << i;
}

TEST(GanStepTerms, ModeSeekingTermNeedsTwoSamples) {
  Generator gen(5);
  train::ModeSeekingTerm ms(1.0);
  EXPECT_THROW(ms.term(randn({1, 3}, gen), randn({1, 4}, gen)), Error);
}

TEST(GanStepTerms, ATermWithZeroOrNegativeWeightIsRefused) {
  EXPECT_THROW(train::GradientPenalty(0), Error);
  EXPECT_THROW(train::R1Penalty(-1), Error);
  EXPECT_THROW(train::WeightClipping(0), Error);
  EXPECT_THROW(train::ModeSeekingTerm(0), Error);
}

// Real 2-D points with labels 0..2; records what the networks are called with.
class LabelledData final : public train::DataSampler {
 public:
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override { return sample_batch(batch, gen, step).examples; }
  train::RealBatch sample_batch(int64_t batch, Generator& gen, int64_t) override {
    return {randn({batch, 2}, gen), randint(0, 3, {batch}, gen)};
  }
  std::string describe() const override { return "labelled"; }
};

TEST(GanTrainerLabels, BothNetworksSeeClassLabelsAndTheCriticTheRealOnes) {
  Generator rng(6);
  auto g = models::make_relu_mlp(2, 8, 1, 2, rng);
  auto d = models::make_relu_mlp(2, 8, 1, 1, rng);
  optim::Adam g_opt(g->parameters()), d_opt(d->parameters());
  train::PriorLatentSampler latents(2);
  LabelledData data;
  train::FullBatchPolicy policy;
  train::GanTrainerOptions o;
  o.batch_size = 16;
  o.num_classes = 3;
  int64_t generator_calls = 0, critic_calls = 0;
  o.generate = [&](const Tensor& z, const Tensor& y) {
    ++generator_calls;
    EXPECT_TRUE(y.defined());
    EXPECT_EQ(y.numel(), z.size(0));
    EXPECT_GE(amin(y).item<int64_t>(), 0);
    EXPECT_LT(amax(y).item<int64_t>(), 3);
    return (*g)(z);
  };
  o.score = [&](const Tensor& x, const Tensor& y) {
    ++critic_calls;
    EXPECT_TRUE(y.defined());
    EXPECT_EQ(y.numel(), x.size(0));
    return (*d)(x);
  };
  train::GanTrainer trainer(*g, *d, g_opt, d_opt, latents, data, policy, rng, o);
  trainer.step();
  EXPECT_EQ(generator_calls, 2);  // the critic's fakes and the generator step
  EXPECT_EQ(critic_calls, 3);     // real, fake, and the generator step's fakes
}

TEST(GanTrainerLabels, AConditionalRunOnUnlabelledDataIsRefused) {
  Generator rng(7);
  auto g = models::make_relu_mlp(2, 8, 1, 2, rng);
  auto d = models::make_relu_mlp(2, 8, 1, 1, rng);
  optim::Adam g_opt(g->parameters()), d_opt(d->parameters());
  train::PriorLatentSampler latents(2);
  class Unlabelled final : public train::DataSampler {
   public:
    Tensor sample(int64_t batch, Generator& gen, int64_t) override { return randn({batch, 2}, gen); }
    std::string describe() const override { return "unlabelled points"; }
  } data;
  train::FullBatchPolicy policy;
  train::GanTrainerOptions o;
  o.batch_size = 8;
  o.num_classes = 3;
  train::GanTrainer trainer(*g, *d, g_opt, d_opt, latents, data, policy, rng, o);
  try {
    trainer.step();
    FAIL() << "not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unlabelled points has no labels"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gantry
