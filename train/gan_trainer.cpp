#include "train/gan_trainer.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"
#include "train/run_folder.h"

namespace gantry::train {

nlohmann::json GanStepStats::to_json() const {
  return nlohmann::json{{"step", step},         {"d_loss", critic_loss}, {"g_loss", generator_loss},
                        {"k", k},               {"real_score", real_score}, {"fake_score", fake_score}};
}

void assign_gradients(const std::vector<Tensor>& params, const TensorList& grads) {
  GANTRY_CHECK(params.size() == grads.size(), "assign_gradients: ", params.size(), " parameters but ",
               grads.size(), " gradients");
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i];
    p.set_grad(grads[i].defined() ? grads[i] : zeros_like(p));
  }
}

GanTrainer::GanTrainer(nn::Module& generator, nn::Module& critic, optim::Optimizer& generator_optimizer,
                       optim::Optimizer& critic_optimizer, LatentSampler& latents, DataSampler& data,
                       GeneratorUpdatePolicy& policy, Generator& rng, GanTrainerOptions options)
    : generator_(generator), critic_(critic), generator_optimizer_(generator_optimizer),
      critic_optimizer_(critic_optimizer), latents_(latents), data_(data), policy_(policy), rng_(rng),
      options_(options), generator_params_(generator.parameters()), critic_params_(critic.parameters()) {
  GANTRY_CHECK(options_.batch_size >= 1, "GanTrainer: batch_size must be >= 1, got ", options_.batch_size);
  GANTRY_CHECK(options_.critic_steps >= 1, "GanTrainer: critic_steps must be >= 1, got ", options_.critic_steps);
  GANTRY_CHECK(!generator_params_.empty() && !critic_params_.empty(),
               "GanTrainer: the generator and the critic must have parameters");
}

double GanTrainer::critic_update(double* real_score) {
  const int64_t batch = options_.batch_size;
  const Tensor real = data_.sample(batch, rng_, steps_done_);
  Tensor fake;
  {
    NoGradGuard no_grad;  // the critic update never differentiates through the generator
    fake = generator_(latents_.sample(batch, rng_, steps_done_));
  }
  const Tensor real_scores = critic_(real);
  const Tensor fake_scores = critic_(fake);
  const Tensor loss = critic_loss(options_.loss, real_scores, policy_.select_for_critic(fake_scores));
  const double loss_value = checked_loss(loss, "critic");
  assign_gradients(critic_params_, autograd::grad({loss}, critic_params_));
  critic_optimizer_.step();
  {
    NoGradGuard no_grad;
    *real_score = mean(real_scores).item<double>();
  }
  return loss_value;
}

double GanTrainer::generator_update(double* fake_score, int64_t* k) {
  const int64_t batch = options_.batch_size;
  const Tensor fake = generator_(latents_.sample(batch, rng_, steps_done_));
  const Tensor scores = critic_(fake);
  const Tensor selected = policy_.select_for_generator(scores);
  const Tensor loss = generator_loss(options_.loss, selected);
  const double loss_value = checked_loss(loss, "generator");
  assign_gradients(generator_params_, autograd::grad({loss}, generator_params_));
  generator_optimizer_.step();
  policy_.on_generator_step();
  {
    NoGradGuard no_grad;
    *fake_score = mean(scores).item<double>();
  }
  *k = selected.numel();
  return loss_value;
}

double GanTrainer::checked_loss(const Tensor& loss, const char* which) const {
  const double value = loss.item<double>();
  // Stop before the optimiser step: the weights and the last checkpoint stay as they were.
  GANTRY_CHECK(std::isfinite(value), "GanTrainer: the ", which, " loss is ", value, " at step ", steps_done_ + 1,
               " (diverged; try a smaller learning rate). Nothing was updated; the last checkpoint is intact.");
  return value;
}

GanStepStats GanTrainer::step() {
  GanStepStats s;
  for (int64_t i = 0; i < options_.critic_steps; ++i) s.critic_loss = critic_update(&s.real_score);
  s.generator_loss = generator_update(&s.fake_score, &s.k);
  s.step = ++steps_done_;
  return s;
}

void GanTrainer::run(int64_t total_steps, JsonLinesLog* log,
                     const std::function<void(const GanStepStats&)>& after_step) {
  while (steps_done_ < total_steps && !(options_.stop && options_.stop())) {
    const GanStepStats s = step();
    if (log && options_.log_every > 0 && s.step % options_.log_every == 0) log->write(s.to_json());
    if (after_step) after_step(s);
  }
}

}  // namespace gantry::train
