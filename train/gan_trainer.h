#pragma once
// The generic GAN step loop shared by every experiment: per step, `critic_steps` critic updates then
// one generator update, each with its own optimiser, the selected adversarial loss, and the pluggable
// latent sampler, real-data sampler and generator-update policy (full batch / top-k / bottom-k).
//
// Efficiency: fakes for the critic are generated without recording history, and each update asks
// autograd only for the gradients of the network being updated (autograd::grad w.r.t. its
// parameters), so the generator step never computes critic weight gradients and vice versa.
#include <cstdint>
#include <functional>

#include <nlohmann/json.hpp>

#include "engine/autograd/node.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "engine/random/generator.h"
#include "train/gan_step_terms.h"
#include "train/losses.h"
#include "train/samplers.h"
#include "train/update_policy.h"

namespace gantry::train {

class JsonLinesLog;

struct GanTrainerOptions {
  int64_t batch_size = 256;
  int64_t critic_steps = 1;  // critic updates per generator update
  GanLoss loss = GanLoss::non_saturating;
  int64_t log_every = 100;   // JSON-lines record every N steps (0: never)
  std::function<bool()> stop;  // polled between steps: true ends run() early (an interrupt)
  // Class-conditional runs: fakes get labels drawn uniformly from [0, num_classes), real batches
  // bring theirs (DataSampler::sample_batch), and both networks are called with them.
  int64_t num_classes = 0;
  // The fakes' labels for a batch of that size; unset (every run): uniform draws on the trainer's rng.
  // Set, it replaces those draws (the rng is not touched), so a test can replay a reference's labels.
  std::function<Tensor(int64_t batch)> fake_labels;
  // How the networks are called; unset: the modules' forward(x), labels ignored.
  NetworkCall generate, score;
  std::vector<std::shared_ptr<CriticRegularizer>> critic_regularizers;
  std::vector<std::shared_ptr<GeneratorTerm>> generator_terms;
};

struct GanStepStats {
  int64_t step = 0;           // generator steps completed, this one included
  double critic_loss = 0;     // of the last critic update of the step
  double generator_loss = 0;
  int64_t k = 0;              // fakes the generator update used
  double real_score = 0;      // mean critic score on the last real batch
  double fake_score = 0;      // mean critic score on the generator step's fakes
  double critic_penalty = 0;  // the regularisers' terms in the last critic loss (included in critic_loss)
  double generator_term = 0;  // the generator terms in generator_loss (included in it)

  nlohmann::json to_json() const;
};

class GanTrainer {
 public:
  GanTrainer(nn::Module& generator, nn::Module& critic, optim::Optimizer& generator_optimizer,
             optim::Optimizer& critic_optimizer, LatentSampler& latents, DataSampler& data,
             GeneratorUpdatePolicy& policy, Generator& rng, GanTrainerOptions options);

  // One training step: critic_steps critic updates, then one generator update. Throws gantry::Error
  // (before that update's optimiser step) when a loss is not finite.
  GanStepStats step();

  // Steps until steps_done() == total_steps, writing a log record every log_every steps and calling
  // after_step (if set) after each step (checkpoints, evaluation, progress); or fewer, when
  // options().stop says so.
  void run(int64_t total_steps, JsonLinesLog* log, const std::function<void(const GanStepStats&)>& after_step = {});

  int64_t steps_done() const { return steps_done_; }
  void set_steps_done(int64_t steps) { steps_done_ = steps; }  // after restoring a checkpoint
  // The step of the newest checkpoint of this run (after saving or restoring one), so a divergence
  // error can say which checkpoint the run can go back to.
  void note_checkpoint(int64_t step) { checkpoint_step_ = step; }
  const GanTrainerOptions& options() const { return options_; }

 private:
  double critic_update(GanStepStats& stats);
  double generator_update(GanStepStats& stats);
  Tensor fake_labels(int64_t batch);
  Tensor generate(const Tensor& z, const Tensor& labels);
  Tensor score(const Tensor& x, const Tensor& labels);
  // The loss as a double; throws a clear error when it is NaN or infinite.
  double checked_loss(const Tensor& loss, const char* which) const;

  nn::Module& generator_;
  nn::Module& critic_;
  optim::Optimizer& generator_optimizer_;
  optim::Optimizer& critic_optimizer_;
  LatentSampler& latents_;
  DataSampler& data_;
  GeneratorUpdatePolicy& policy_;
  Generator& rng_;
  GanTrainerOptions options_;
  std::vector<Tensor> generator_params_;
  std::vector<Tensor> critic_params_;
  int64_t steps_done_ = 0;
  int64_t checkpoint_step_ = -1;  // -1: no checkpoint exists yet
};

// Sets each parameter's .grad to the matching gradient (undefined gradients become zeros).
void assign_gradients(const std::vector<Tensor>& params, const TensorList& grads);

}  // namespace gantry::train
