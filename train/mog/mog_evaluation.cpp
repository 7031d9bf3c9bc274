#include "train/mog/mog_evaluation.h"

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"

namespace gantry::mog {

namespace {

// Evaluation draws its latents from its own stream so that evaluating never shifts the training RNG
// (runs with different --eval-every stay identical, and resume stays bit-identical).
constexpr uint64_t kEvalSeedSalt = 0x9e3779b97f4a7c15ULL;

}  // namespace

MogEvaluation evaluate_generator(nn::Module& generator, const data::MixtureOfGaussians& mixture, int64_t samples,
                                 int64_t latent_dim, train::LatentPrior prior, uint64_t eval_seed, Device device) {
  NoGradGuard no_grad;
  Generator eval_rng(eval_seed ^ kEvalSeedSalt);
  const Tensor drawn = generator(train::draw_latents(prior, samples, latent_dim, eval_rng, device)).to(kCPU);
  return {eval::evaluate_mog_samples(drawn, mixture), drawn};
}

}  // namespace gantry::mog
