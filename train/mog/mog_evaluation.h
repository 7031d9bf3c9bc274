#pragma once
// Evaluating a mixture-of-Gaussians generator: draw samples from its own latent stream, score them
// with the mode-dropping metrics. Training's periodic and final evaluations and `gantry mog eval` share
// it, so re-evaluating a finished run with its own seed reproduces the metrics.json it wrote.
#include <cstdint>

#include "engine/core/device.h"
#include "engine/core/tensor.h"
#include "engine/nn/module.h"
#include "eval/mog_metrics.h"
#include "train/data/mixture_of_gaussians.h"
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

}  // namespace gantry::mog
