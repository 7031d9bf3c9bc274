// One full training step of every image-GAN preset against PyTorch
// (tests/golden/make_image_step_golden.py, float64; run in float64 and float32): the real
// train::GanTrainer with the preset's loss, optimisers, critic steps and step terms, its random draws
// (latents, real batches, fake labels, interpolation weights) replayed from the golden file. Matched:
// the critic's scores of every forward, the losses, the penalty and mode-seeking values, every
// parameter gradient of every update and the optimiser state after it, and the full state dicts
// after the step (clipped critic weights, spectral-norm u/v, batch-norm running statistics). The
// top-k case also checks that the discarded fakes get exactly zero gradient from the generator's
// adversarial loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/ops.h"
#include "engine/optim/optimizer.h"
#include "models/image_gan_models.h"
#include "tests/support/golden_file.h"
#include "train/gan_trainer.h"
#include "train/image/image_config.h"
#include "train/image/image_run_loading.h"
#include "train/losses.h"

namespace gantry {
namespace {

struct StepCase {
  std::string file;  // tests/data/image_step_<file>_golden.safetensors
  int64_t generator_width, critic_width;
  DType dtype = DType::f64;
  double rtol = 0;
};
void PrintTo(const StepCase& c, std::ostream* os) { *os << c.file << " " << dtype_name(c.dtype); }

// Hands out the given tensors in order, one per call.
class Replay {
 public:
  void push(Tensor t) { queue_.push_back(std::move(t)); }
  Tensor next(const char* what, int64_t batch) {
    GANTRY_CHECK(!queue_.empty(), "replay: the step drew more ", what, " than the golden file holds");
    Tensor t = queue_.front();
    queue_.pop_front();
    GANTRY_CHECK(t.size(0) == batch, "replay: ", what, " of batch ", t.size(0), " asked for ", batch);
    return t;
  }
  bool empty() const { return queue_.empty(); }

 private:
  std::deque<Tensor> queue_;
};

class ReplayLatents final : public train::LatentSampler {
 public:
  Tensor sample(int64_t batch, Generator&, int64_t) override { return replay.next("latents", batch); }
  std::string describe() const override { return "replayed latents"; }
  Replay replay;
};

class ReplayData final : public train::DataSampler {
 public:
  Tensor sample(int64_t batch, Generator& gen, int64_t step) override {
    return sample_batch(batch, gen, step).examples;
  }
  train::RealBatch sample_batch(int64_t batch, Generator&, int64_t) override {
    train::RealBatch b{examples.next("real batches", batch), {}};
    if (!labels.empty()) b.labels = labels.next("real labels", batch);
    return b;
  }
  std::string describe() const override { return "replayed real batches"; }
  Replay examples, labels;
};

// The wrapped optimiser, keeping every update's gradients (before it) and state (after it).
class RecordingOptimizer final : public optim::Optimizer {
 public:
  struct Update {
    std::vector<Tensor> grads;
    optim::OptimizerState state;
  };
  explicit RecordingOptimizer(std::unique_ptr<optim::Optimizer> inner)
      : Optimizer(inner->params(), "recording"), inner_(std::move(inner)) {}
  void step() override {
    Update u;
    for (const Tensor& p : params()) u.grads.push_back(p.grad().clone());
    inner_->step();
    for (const auto& [name, t] : inner_->state_dict()) u.state.emplace_back(name, t.clone());
    updates.push_back(std::move(u));
  }
  optim::OptimizerState state_dict() const override { return inner_->state_dict(); }
  void load_state_dict(const optim::OptimizerState& state) override { inner_->load_state_dict(state); }
  double lr() const override { return inner_->lr(); }
  void set_lr(double lr) override { inner_->set_lr(lr); }
  std::vector<Update> updates;

 private:
  std::unique_ptr<optim::Optimizer> inner_;
};

// The wrapped regulariser, keeping the value of every penalty it adds.
class RecordingRegularizer final : public train::CriticRegularizer {
 public:
  explicit RecordingRegularizer(std::shared_ptr<train::CriticRegularizer> inner) : inner_(std::move(inner)) {}
  Tensor penalty(const train::NetworkCall& critic, const Tensor& real, const Tensor& real_labels, const Tensor& fake,
                 const Tensor& fake_labels, Generator& rng) override {
    Tensor p = inner_->penalty(critic, real, real_labels, fake, fake_labels, rng);
    if (p.defined()) values.push_back(p.item<double>());
    return p;
  }
  void after_critic_step(const std::vector<Tensor>& params) override { inner_->after_critic_step(params); }
  std::string describe() const override { return inner_->describe(); }
  std::vector<double> values;

 private:
  std::shared_ptr<train::CriticRegularizer> inner_;
};

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : to_vector<double>(t.to(DType::f64))) m = std::max(m, std::abs(v));
  return m;
}

class GoldenImageSteps : public ::testing::TestWithParam<StepCase> {
 protected:
  void SetUp() override {
    golden_ = testing::GoldenFile("image_step_" + GetParam().file + "_golden.safetensors");
    config_ = image::ImageTrainConfig::preset(golden_.meta("model"));
    batch_ = golden_.meta_int("batch");
    num_classes_ = golden_.meta_int("num_classes");
    Generator gen(0);  // any init: the golden state is loaded over it
    nets_ = models::make_image_gan_models({.model = config_.model,
                                           .num_classes = num_classes_,
                                           .latent_dim = golden_.meta_int("latent_dim"),
                                           .generator_width = GetParam().generator_width,
                                           .critic_width = GetParam().critic_width},
                                          gen, GetParam().dtype);
    golden_.load_into(*nets_.generator, "G.");
    golden_.load_into(*nets_.critic, "D.");
  }

  const Tensor& g(const std::string& name) const { return golden_.tensor(name); }
  bool has(const std::string& name) const {
    const auto& tensors = golden_.contents().tensors;
    return std::any_of(tensors.begin(), tensors.end(), [&](const auto& entry) { return entry.first == name; });
  }
  Tensor input(const std::string& name) const { return g(name).to(GetParam().dtype); }
  ::testing::AssertionResult matches(const Tensor& actual, const std::string& name, double floor = 0) const {
    return golden_.matches(actual, name, GetParam().rtol, floor);
  }
  ::testing::AssertionResult matches(double actual, const std::string& name) const {
    return matches(scalar_tensor(actual, DType::f64), name);
  }
  // The network's largest golden value over the names `prefix + <parameter name>`: the gradients and
  // optimiser moments of one update are matched at rtol of it, as their rounding follows the
  // network's scale (a gradient with large cancelling terms is near zero but not exactly).
  double network_scale(const nn::Module& net, const std::string& prefix) const {
    double scale = 0;
    for (const auto& [name, p] : net.named_parameters()) scale = std::max(scale, max_abs(g(prefix + name)));
    return scale;
  }
  // One update of `net` (u: "d0", ..., "g"): its gradients and the optimiser state after it.
  void expect_update(const RecordingOptimizer::Update& update, const nn::Module& net, const std::string& u,
                     const std::string& net_prefix) const {
    const nn::NamedTensors params = net.named_parameters();
    ASSERT_EQ(update.grads.size(), params.size());
    const double grad_scale = network_scale(net, u + ".grad." + net_prefix);
    for (size_t i = 0; i < params.size(); ++i)
      EXPECT_TRUE(matches(update.grads[i], u + ".grad." + net_prefix + params[i].first, grad_scale));
    int64_t moments = 0;
    for (const char* moment : {"exp_avg", "exp_avg_sq", "square_avg"}) {
      const std::string key = u + "." + moment + "." + net_prefix;
      if (!has(key + params.front().first)) continue;
      const double scale = network_scale(net, key);
      for (size_t i = 0; i < params.size(); ++i) {
        const std::string state_name = "state." + std::to_string(i) + "." + moment;
        const auto found = std::find_if(update.state.begin(), update.state.end(),
                                        [&](const auto& entry) { return entry.first == state_name; });
        ASSERT_NE(found, update.state.end()) << state_name;
        EXPECT_TRUE(matches(found->second, key + params[i].first, scale));
        ++moments;
      }
    }
    EXPECT_GT(moments, 0) << "no optimiser state for " << u;
  }
  // The state dict after the step (net_prefix "G." or "D."; updates: "g" or "d0", "d1", ...).
  // A gradient that is zero in theory (a conv bias that a batch norm follows) is rounding noise in
  // both implementations, and Adam or RMSprop scales noise into a step of up to lr either way (in
  // float32 the noise is of the order of the optimiser's eps): such a parameter (every golden gradient
  // below 1e-6 of the network's largest) may be off by lr per update.
  void expect_state(const nn::Module& net, const std::string& net_prefix, const std::vector<std::string>& updates,
                    double lr) const {
    const nn::NamedTensors params = net.named_parameters();
    for (const auto& [name, t] : net.state_dict()) {
      double floor = 0;
      const std::string& key = name;  // a plain reference for the lambda to capture
      const bool is_param =
          std::any_of(params.begin(), params.end(), [&](const auto& entry) { return entry.first == key; });
      if (is_param) {
        bool noise_only = true;
        for (const std::string& u : updates)
          noise_only = noise_only && max_abs(g(u + ".grad." + net_prefix + name)) <
                                         1e-6 * network_scale(net, u + ".grad." + net_prefix);
        if (noise_only) floor = static_cast<double>(updates.size()) * lr / GetParam().rtol;
      }
      EXPECT_TRUE(matches(t, "after." + net_prefix + name, floor));
    }
  }

  testing::GoldenFile golden_;
  image::ImageTrainConfig config_;
  int64_t batch_ = 0, num_classes_ = 0;
  models::ImageGanModels nets_;
};

TEST_P(GoldenImageSteps, GoldenFileHoldsThePreset) {
  EXPECT_EQ(golden_.meta("loss"), config_.loss == "non-saturating" ? "ns" : config_.loss);
  EXPECT_EQ(golden_.meta("optimizer"), config_.optimizer);
  EXPECT_EQ(golden_.meta_int("d_steps"), config_.d_steps);
  for (const auto& [key, value] : {std::pair<const char*, double>{"g_lr", config_.g_lr},
                                   {"d_lr", config_.d_lr},
                                   {"beta1", config_.beta1},
                                   {"beta2", config_.beta2},
                                   {"gp_weight", config_.gp_weight},
                                   {"clip", config_.clip},
                                   {"ms_weight", config_.ms_weight}})
    EXPECT_DOUBLE_EQ(golden_.meta_double(key), value) << key;
  EXPECT_EQ(config_.r1_gamma, 0) << "a preset with R1 needs it in the golden step";
}

TEST_P(GoldenImageSteps, TrainingStepMatchesTorch) {
  const int64_t d_steps = config_.d_steps;
  const int64_t top_k = golden_.meta_int("top_k");
  ReplayLatents latents;
  ReplayData data;
  Replay fake_labels, gp_weights;
  for (int64_t j = 0; j < d_steps; ++j) {
    const std::string u = "d" + std::to_string(j);
    data.examples.push(input(u + ".real"));
    latents.replay.push(input(u + ".z"));
    if (num_classes_ > 0) {
      data.labels.push(g(u + ".real_labels"));
      fake_labels.push(g(u + ".fake_labels"));
    }
    if (config_.gp_weight > 0) gp_weights.push(input(u + ".gp.eps"));
  }
  latents.replay.push(input("g.z"));
  if (num_classes_ > 0) fake_labels.push(g("g.fake_labels"));

  RecordingOptimizer g_opt(image::make_run_optimizer(config_, nets_.generator->parameters(), config_.g_lr));
  RecordingOptimizer d_opt(image::make_run_optimizer(config_, nets_.critic->parameters(), config_.d_lr));
  std::unique_ptr<train::GeneratorUpdatePolicy> policy = std::make_unique<train::FullBatchPolicy>();
  if (top_k > 0) {
    // k starts at B; one decay (gamma 1/2, floor nu = top_k) brings it to top_k.
    ASSERT_GE(2 * top_k, batch_);
    train::TopKSchedule schedule(batch_, 0.5, static_cast<double>(top_k), 1);
    schedule.on_generator_step();
    ASSERT_EQ(schedule.k(), top_k);
    policy = std::make_unique<train::TopKPolicy>(schedule, train::SelectionTarget::generator);
  }

  // The fakes of the generator update (the generate call with history) and the critic's state just
  // before it scored them.
  Tensor generator_fakes;
  nn::StateDict critic_before_scoring;
  train::GanTrainerOptions t;
  t.batch_size = batch_;
  t.critic_steps = d_steps;
  t.loss = train::parse_gan_loss(config_.loss);
  t.num_classes = num_classes_;
  t.fake_labels = [&](int64_t batch) { return fake_labels.next("fake labels", batch); };
  t.generate = [&](const Tensor& z, const Tensor& y) {
    Tensor fake = nets_.generate(z, y);
    if (autograd::grad_enabled()) {
      generator_fakes = fake;
      for (const auto& [name, value] : nets_.critic->state_dict())
        critic_before_scoring.emplace_back(name, value.clone());
    }
    return fake;
  };
  std::vector<Tensor> scores;  // of every critic forward, in order
  t.score = [&](const Tensor& x, const Tensor& y) {
    Tensor out = nets_.score(x, y);
    scores.push_back(out.detach().clone());
    return out;
  };
  std::shared_ptr<RecordingRegularizer> gp;
  if (config_.gp_weight > 0) {
    gp = std::make_shared<RecordingRegularizer>(std::make_shared<train::GradientPenalty>(
        config_.gp_weight, [&](const Tensor& real) { return gp_weights.next("interpolation weights", real.size(0)); }));
    t.critic_regularizers.push_back(gp);
  }
  if (config_.clip > 0) t.critic_regularizers.push_back(std::make_shared<train::WeightClipping>(config_.clip));
  if (config_.ms_weight > 0) t.generator_terms.push_back(std::make_shared<train::ModeSeekingTerm>(config_.ms_weight));
  Generator rng(1);  // every draw of the step is replayed; the trainer's rng stays unused
  train::GanTrainer trainer(*nets_.generator, *nets_.critic, g_opt, d_opt, latents, data, *policy, rng, t);

  const train::GanStepStats stats = trainer.step();
  EXPECT_TRUE(latents.replay.empty() && data.examples.empty() && fake_labels.empty() && gp_weights.empty())
      << "the step drew fewer inputs than the golden step";

  // Per critic update: the real batch, the fakes, the penalty's interpolates; then the generator's fakes.
  std::vector<std::string> score_names;
  for (int64_t j = 0; j < d_steps; ++j) {
    const std::string u = "d" + std::to_string(j);
    score_names.insert(score_names.end(), {u + ".score.real", u + ".score.fake"});
    if (config_.gp_weight > 0) score_names.push_back(u + ".score.mixed");
  }
  score_names.push_back("g.score");
  ASSERT_EQ(scores.size(), score_names.size());
  for (size_t i = 0; i < scores.size(); ++i) EXPECT_TRUE(matches(scores[i], score_names[i]));

  const std::string last = "d" + std::to_string(d_steps - 1);
  EXPECT_TRUE(matches(stats.critic_loss, last + ".loss"));
  EXPECT_TRUE(matches(stats.generator_loss, "g.loss"));
  EXPECT_EQ(stats.k, top_k > 0 ? top_k : batch_);
  if (gp) {
    ASSERT_EQ(gp->values.size(), static_cast<size_t>(d_steps));
    for (int64_t j = 0; j < d_steps; ++j) EXPECT_TRUE(matches(gp->values[j], "d" + std::to_string(j) + ".penalty"));
    EXPECT_TRUE(matches(stats.critic_penalty, last + ".penalty"));
  }
  if (config_.ms_weight > 0) {
    EXPECT_TRUE(matches(stats.generator_term, "g.ms_term"));
  }

  ASSERT_EQ(d_opt.updates.size(), static_cast<size_t>(d_steps));
  for (int64_t j = 0; j < d_steps; ++j) expect_update(d_opt.updates[j], *nets_.critic, "d" + std::to_string(j), "D.");
  ASSERT_EQ(g_opt.updates.size(), 1u);
  expect_update(g_opt.updates[0], *nets_.generator, "g", "G.");
  std::vector<std::string> critic_updates;
  for (int64_t j = 0; j < d_steps; ++j) critic_updates.push_back("d" + std::to_string(j));
  expect_state(*nets_.generator, "G.", {"g"}, config_.g_lr);
  expect_state(*nets_.critic, "D.", critic_updates, config_.d_lr);

  if (top_k > 0) {
    // The generator's adversarial loss on the step's fakes, scored again by the critic as it was (its
    // spectral-norm vectors back before that forward's power iteration) after everything else is
    // checked. The critic scores each sample on its own, so only the selected fakes feed the loss.
    ASSERT_TRUE(generator_fakes.defined());
    nets_.critic->load_state_dict(critic_before_scoring);
    const Tensor fakes = generator_fakes.detach().set_requires_grad(true);
    const Tensor loss = train::generator_loss(t.loss, policy->select_for_generator(nets_.score(fakes)));
    const Tensor grad = autograd::grad({loss}, {fakes})[0];
    EXPECT_TRUE(matches(grad, "g.adv_grad_fake", max_abs(g("g.adv_grad_fake"))));
    const Tensor row_norms = sum(abs(grad.reshape({batch_, -1})), {1});
    const std::vector<double> norms = to_vector<double>(row_norms.to(DType::f64));
    EXPECT_EQ(std::count(norms.begin(), norms.end(), 0.0), batch_ - top_k) << "discarded fakes must get zero gradient";
    EXPECT_EQ(std::count_if(norms.begin(), norms.end(), [](double v) { return v > 0; }), top_k);
  }
}

// Every preset in float64 (to rounding) and float32.
std::vector<StepCase> step_cases() {
  const std::vector<StepCase> presets = {{"dcgan", 4, 4},   {"msgan", 4, 4},      {"wgan_gc", 4, 4},
                                         {"wgan_gp", 4, 2}, {"sngan", 4, 4},      {"sngan_cond", 4, 4},
                                         {"sagan", 8, 8},   {"sagan_cond", 8, 8}, {"sagan_topk", 8, 8}};
  std::vector<StepCase> out;
  for (const auto& [dtype, rtol] : {std::pair{DType::f64, 1e-12}, std::pair{DType::f32, 2e-4}})
    for (StepCase c : presets) {
      c.dtype = dtype;
      c.rtol = rtol;
      out.push_back(c);
    }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Presets, GoldenImageSteps, ::testing::ValuesIn(step_cases()),
                         [](const ::testing::TestParamInfo<StepCase>& info) {
                           return info.param.file + "_" + dtype_name(info.param.dtype);
                         });

}  // namespace
}  // namespace gantry
