#pragma once
// Evaluating a mixture-of-Gaussians generator: draw samples from its own latent stream, score them
// with the mode-dropping metrics. Training's periodic and final evaluations and `gantry mog eval` share
// it, so re-evaluating a finished run with its own seed reproduces the metrics.json it wrote.
#include <cstdint>

#include "engine/core/device.h"
#include "engine/core/tensor.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "eval/mog_metrics.h"
#include "eval/rejection_sampling.h"
#include "train/data/mixture_of_gaussians.h"
#include "train/losses.h"
#include "train/samplers.h"

namespace gantry::mog {

struct MogEvaluation {
  eval::MogMetrics metrics;
  Tensor samples;  // [samples, 2] on the CPU
};

// `samples` latents of width `latent_dim` from `prior`, drawn from the evaluation stream of `eval_seed`
// (a run evaluates with its training seed). The stream is separate from training's, so evaluating
// never shifts it.
MogEvaluation evaluate_generator(nn::Module& generator, const data::MixtureOfGaussians& mixture, int64_t samples,
                                 int64_t latent_dim, train::LatentPrior prior, uint64_t eval_seed, Device device);

struct MogRejectionEvaluation {
  MogEvaluation evaluation;  // of the accepted samples
  eval::RejectionSamplingResult sampling;
};

// Discriminator rejection sampling (eval/rejection_sampling.h) of `samples` samples, the critic's raw
// score as the logit; the proposals' latents (from `prior`) and the acceptance draws come from streams
// of `eval_seed` of their own, so the plain evaluation of the same seed is unchanged.
MogRejectionEvaluation evaluate_with_rejection_sampling(nn::Module& generator, nn::Module& critic,
                                                        const data::MixtureOfGaussians& mixture, int64_t samples,
                                                        int64_t latent_dim, train::LatentPrior prior,
                                                        uint64_t eval_seed,
                                                        const eval::RejectionSamplingOptions& options, Device device);

// DRS's "keep training the discriminator": `steps` critic updates (its own optimiser, `loss`, batches
// of `batch` real points and generated fakes, the generator untouched) so the critic's logit comes
// closer to the log density ratio of the final generator. Draws from a stream of `seed` of its own.
void keep_training_critic(nn::Module& generator, nn::Module& critic, optim::Optimizer& critic_optimizer,
                          const data::MixtureOfGaussians& mixture, train::GanLoss loss, int64_t steps, int64_t batch,
                          int64_t latent_dim, train::LatentPrior prior, uint64_t seed, Device device);

}  // namespace gantry::mog
