#include "train/gan_trainer.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "train/run_folder.h"

namespace gantry::train {

nlohmann::json GanStepStats::to_json() const {
  nlohmann::json j{{"step", step},         {"d_loss", critic_loss}, {"g_loss", generator_loss},
                        {"k", k},               {"real_score", real_score}, {"fake_score", fake_score}};
  if (critic_penalty != 0) j["d_penalty"] = critic_penalty;
  if (generator_term != 0) j["g_term"] = generator_term;
  return j;
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

Tensor GanTrainer::fake_labels(int64_t batch) {
  if (options_.num_classes <= 0) return {};
  if (options_.fake_labels) return options_.fake_labels(batch);
  return randint(0, options_.num_classes, {batch}, rng_, generator_params_.front().device());
}

Tensor GanTrainer::generate(const Tensor& z, const Tensor& labels) {
  return options_.generate ? options_.generate(z, labels) : generator_(z);
}

Tensor GanTrainer::score(const Tensor& x, const Tensor& labels) {
  return options_.score ? options_.score(x, labels) : critic_(x);
}

double GanTrainer::critic_update(GanStepStats& stats) {
  const int64_t batch = options_.batch_size;
  RealBatch real = data_.sample_batch(batch, rng_, steps_done_);
  GANTRY_CHECK(options_.num_classes <= 0 || real.labels.defined(),
               "GanTrainer: a class-conditional run needs labelled real data (", data_.describe(), " has no labels)");
  if (options_.num_classes <= 0) real.labels = Tensor();  // an unconditional critic takes no labels
  const Tensor labels = fake_labels(batch);
  Tensor fake;
  {
    NoGradGuard no_grad;  // the critic update never differentiates through the generator
    fake = generate(latents_.sample(batch, rng_, steps_done_), labels);
  }
  const Tensor real_scores = score(real.examples, real.labels);
  const Tensor fake_scores = score(fake, labels);
  Tensor loss = critic_loss(options_.loss, real_scores, policy_.select_for_critic(fake_scores));
  const NetworkCall critic_call = [this](const Tensor& x, const Tensor& y) { return score(x, y); };
  double penalty = 0;
  for (const auto& regularizer : options_.critic_regularizers) {
    const Tensor term = regularizer->penalty(critic_call, real.examples, real.labels, fake, labels, rng_);
    if (!term.defined()) continue;
    penalty += term.item<double>();
    loss = add(loss, term);
  }
  const double loss_value = checked_loss(loss, "critic");
  assign_gradients(critic_params_, autograd::grad({loss}, critic_params_));
  critic_optimizer_.step();
  for (const auto& regularizer : options_.critic_regularizers) regularizer->after_critic_step(critic_params_);
  {
    NoGradGuard no_grad;
    stats.real_score = mean(real_scores).item<double>();
  }
  stats.critic_penalty = penalty;
  return loss_value;
}

double GanTrainer::generator_update(GanStepStats& stats) {
  const int64_t batch = options_.batch_size;
  const Tensor labels = fake_labels(batch);
  const Tensor z = latents_.sample(batch, rng_, steps_done_);
  const Tensor fake = generate(z, labels);
  const Tensor scores = score(fake, labels);
  const Tensor selected = policy_.select_for_generator(scores);
  const Tensor weights = policy_.generator_weights(selected);
  // A weighting policy keeps every sample; its k is the weights' effective sample size.
  const int64_t k_used = weights.defined() ? policy_.current_k(batch) : selected.numel();
  Tensor loss = weights.defined() ? weighted_generator_loss(options_.loss, selected, weights)
                                  : generator_loss(options_.loss, selected);
  double extra = 0;
  for (const auto& term : options_.generator_terms) {  // over the whole batch, never top-k's subset
    const Tensor value = term->term(z, fake);
    extra += value.item<double>();
    loss = add(loss, value);
  }
  const double loss_value = checked_loss(loss, "generator");
  assign_gradients(generator_params_, autograd::grad({loss}, generator_params_));
  generator_optimizer_.step();
  policy_.on_generator_step();
  {
    NoGradGuard no_grad;
    stats.fake_score = mean(scores).item<double>();
  }
  stats.k = k_used;
  stats.generator_term = extra;
  return loss_value;
}

double GanTrainer::checked_loss(const Tensor& loss, const char* which) const {
  const double value = loss.item<double>();
  // Stop before the optimiser step: the weights and the last checkpoint stay as they were.
  GANTRY_CHECK(std::isfinite(value), "GanTrainer: the ", which, " loss is ", value, " at step ", steps_done_ + 1,
               " (diverged; try a smaller learning rate). Nothing was updated; ",
               checkpoint_step_ >= 0 ? "the checkpoint of step " + std::to_string(checkpoint_step_) + " is intact."
                                     : std::string("no checkpoint of this run exists yet."));
  return value;
}

GanStepStats GanTrainer::step() {
  GanStepStats s;
  for (int64_t i = 0; i < options_.critic_steps; ++i) s.critic_loss = critic_update(s);
  s.generator_loss = generator_update(s);
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
