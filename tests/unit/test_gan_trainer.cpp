// The generic GAN step loop: sampler calls per step, top-k wiring, and a non-finite loss stopping
// the step before any weight changes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "models/mog_mlp.h"
#include "train/gan_trainer.h"

namespace gantry {
namespace {

class CountingLatents final : public train::LatentSampler {
 public:
  Tensor sample(int64_t batch, Generator& gen, int64_t) override {
    ++calls;
    return randn({batch, 2}, gen);
  }
  std::string describe() const override { return "counting"; }
  int calls = 0;
};

class CountingData final : public train::DataSampler {
 public:
  Tensor sample(int64_t batch, Generator& gen, int64_t) override {
    ++calls;
    return add(randn({batch, 2}, gen), 1.5);
  }
  std::string describe() const override { return "counting"; }
  int calls = 0;
};

// A critic whose score is x . w with w NaN: every loss on it is NaN.
class NanCritic final : public nn::Module {
 public:
  NanCritic() { w_ = register_parameter("w", full({2, 1}, std::numeric_limits<double>::quiet_NaN()).set_requires_grad(true)); }
  Tensor forward(const Tensor& x) override { return matmul(x, w_); }

 private:
  Tensor w_;
};

struct TinyGan {
  Generator rng{5};
  std::shared_ptr<nn::Sequential> g = models::make_relu_mlp(2, 16, 1, 2, rng);
  std::shared_ptr<nn::Sequential> d = models::make_relu_mlp(2, 16, 1, 1, rng);
  optim::Adam g_opt{g->parameters(), optim::AdamOptions{1e-2, 0.5, 0.999}};
  optim::Adam d_opt{d->parameters(), optim::AdamOptions{1e-2, 0.5, 0.999}};
  CountingLatents latents;
  CountingData data;
};

TEST(GanTrainer, SamplesOncePerCriticStepPlusOncePerGeneratorStep) {
  TinyGan s;
  train::FullBatchPolicy policy;
  train::GanTrainerOptions o;
  o.batch_size = 32;
  o.critic_steps = 3;
  train::GanTrainer trainer(*s.g, *s.d, s.g_opt, s.d_opt, s.latents, s.data, policy, s.rng, o);
  const auto g_before = to_vector<float>(s.g->parameters()[0]);
  const auto d_before = to_vector<float>(s.d->parameters()[0]);
  const auto stats = trainer.step();
  EXPECT_EQ(s.data.calls, 3);
  EXPECT_EQ(s.latents.calls, 4);
  EXPECT_EQ(stats.step, 1);
  EXPECT_EQ(stats.k, 32);
  EXPECT_TRUE(std::isfinite(stats.critic_loss) && std::isfinite(stats.generator_loss));
  EXPECT_NE(to_vector<float>(s.g->parameters()[0]), g_before);
  EXPECT_NE(to_vector<float>(s.d->parameters()[0]), d_before);
  EXPECT_EQ(s.g_opt.step_count(0), 1);
  EXPECT_EQ(s.d_opt.step_count(0), 3);
}

TEST(GanTrainer, TopKPolicyDrivesTheGeneratorBatch) {
  TinyGan s;
  train::TopKPolicy policy(train::TopKSchedule(32, 0.5, 8, 2), train::SelectionTarget::generator);
  train::GanTrainerOptions o;
  o.batch_size = 32;
  train::GanTrainer trainer(*s.g, *s.d, s.g_opt, s.d_opt, s.latents, s.data, policy, s.rng, o);
  const std::vector<int64_t> expected_k = {32, 32, 16, 16, 8, 8, 8};  // k used by steps 1..7
  for (int64_t k : expected_k) EXPECT_EQ(trainer.step().k, k);
}

// Soft top-k reports the schedule's k and uses every fake: its first step (k = B, uniform weights)
// moves the generator as the full batch does, to float rounding.
TEST(GanTrainer, SoftTopKPolicyWeightsTheWholeBatch) {
  TinyGan soft, plain;
  train::SoftTopKPolicy policy(train::TopKSchedule(32, 0.5, 8, 2));
  train::FullBatchPolicy full;
  train::GanTrainerOptions o;
  o.batch_size = 32;
  train::GanTrainer a(*soft.g, *soft.d, soft.g_opt, soft.d_opt, soft.latents, soft.data, policy, soft.rng, o);
  train::GanTrainer b(*plain.g, *plain.d, plain.g_opt, plain.d_opt, plain.latents, plain.data, full, plain.rng, o);
  const auto sa = a.step(), sb = b.step();
  EXPECT_EQ(sa.k, 32);
  EXPECT_NEAR(sa.generator_loss, sb.generator_loss, 1e-6);
  const auto ga = to_vector<float>(soft.g->parameters()[0]), gb = to_vector<float>(plain.g->parameters()[0]);
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_NEAR(ga[i], gb[i], 1e-6) << i;
  const std::vector<int64_t> expected_k = {32, 16, 16, 8, 8};  // steps 2..6
  for (int64_t k : expected_k) EXPECT_EQ(a.step().k, k);
}

// A trainer whose critic scores everything NaN: its first step diverges.
struct DivergingTrainer {
  TinyGan s;
  NanCritic critic;
  optim::Adam d_opt{critic.parameters(), optim::AdamOptions{1e-2}};
  train::FullBatchPolicy policy;
  train::GanTrainer trainer{*s.g, critic, s.g_opt, d_opt, s.latents, s.data, policy, s.rng, options()};
  static train::GanTrainerOptions options() {
    train::GanTrainerOptions o;
    o.batch_size = 16;
    return o;
  }
  // The message of the error one step throws ("no error" when it does not).
  std::string step_error() {
    try {
      trainer.step();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST(GanTrainer, NonFiniteLossStopsBeforeUpdating) {
  DivergingTrainer t;
  const std::string message = t.step_error();
  EXPECT_NE(message.find("critic loss is"), std::string::npos) << message;
  EXPECT_NE(message.find("nan"), std::string::npos) << message;
  EXPECT_EQ(t.d_opt.step_count(0), 0);
  EXPECT_EQ(t.trainer.steps_done(), 0);
}

// The divergence error names the checkpoint the run can go back to, or says there is none yet.
TEST(GanTrainer, DivergenceErrorNamesTheLastCheckpoint) {
  DivergingTrainer t;
  const std::string before = t.step_error();
  EXPECT_NE(before.find("no checkpoint of this run exists yet"), std::string::npos) << before;
  EXPECT_EQ(before.find("intact"), std::string::npos) << before;
  t.trainer.note_checkpoint(400);
  const std::string after = t.step_error();
  EXPECT_NE(after.find("the checkpoint of step 400 is intact"), std::string::npos) << after;
}

}  // namespace
}  // namespace gantry
