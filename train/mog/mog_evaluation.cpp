#include "train/mog/mog_evaluation.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/ops.h"
#include "engine/random/generator.h"
#include "train/gan_trainer.h"

namespace gantry::mog {

namespace {

// Evaluation draws its latents from its own stream so that evaluating never shifts the training RNG
// (runs with different --eval-every stay identical, and resume stays bit-identical).
constexpr uint64_t kEvalSeedSalt = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kRejectionProposalSalt = 0x2545f4914f6cdd1dULL;
constexpr uint64_t kRejectionAcceptSalt = 0x61c8864680b583ebULL;
constexpr uint64_t kCriticTrainingSalt = 0x94d049bb133111ebULL;

}  // namespace

MogEvaluation evaluate_generator(nn::Module& generator, const data::MixtureOfGaussians& mixture, int64_t samples,
                                 int64_t latent_dim, train::LatentPrior prior, uint64_t eval_seed, Device device) {
  NoGradGuard no_grad;
  Generator eval_rng(eval_seed ^ kEvalSeedSalt);
  const Tensor drawn = generator(train::draw_latents(prior, samples, latent_dim, eval_rng, device)).to(kCPU);
  return {eval::evaluate_mog_samples(drawn, mixture), drawn};
}

MogRejectionEvaluation evaluate_with_rejection_sampling(nn::Module& generator, nn::Module& critic,
                                                        const data::MixtureOfGaussians& mixture, int64_t samples,
                                                        int64_t latent_dim, train::LatentPrior prior,
                                                        uint64_t eval_seed,
                                                        const eval::RejectionSamplingOptions& options, Device device) {
  NoGradGuard no_grad;
  Generator proposal_rng(eval_seed ^ kRejectionProposalSalt), accept_rng(eval_seed ^ kRejectionAcceptSalt);
  const auto propose = [&](int64_t n) {
    return generator(train::draw_latents(prior, n, latent_dim, proposal_rng, device));
  };
  const auto logits = [&](const Tensor& x) { return critic(x); };
  MogRejectionEvaluation r;
  r.sampling = eval::discriminator_rejection_sample(propose, logits, samples, options, accept_rng);
  const Tensor kept = r.sampling.samples.to(kCPU);
  r.evaluation = {eval::evaluate_mog_samples(kept, mixture), kept};
  return r;
}

void keep_training_critic(nn::Module& generator, nn::Module& critic, optim::Optimizer& critic_optimizer,
                          const data::MixtureOfGaussians& mixture, train::GanLoss loss, int64_t steps, int64_t batch,
                          int64_t latent_dim, train::LatentPrior prior, uint64_t seed, Device device) {
  GANTRY_CHECK(steps >= 0 && batch >= 1, "keep_training_critic: expected steps >= 0 and batch >= 1, got ", steps,
               " and ", batch);
  Generator rng(seed ^ kCriticTrainingSalt);
  const std::vector<Tensor> params = critic.parameters();
  for (int64_t i = 0; i < steps; ++i) {
    Tensor fake;
    {
      NoGradGuard no_grad;
      fake = generator(train::draw_latents(prior, batch, latent_dim, rng, device));
    }
    const Tensor real = mixture.sample(batch, rng).to(device);
    const Tensor l = train::critic_loss(loss, critic(real), critic(fake));
    GANTRY_CHECK(std::isfinite(l.item<double>()), "keep_training_critic: the critic loss is not finite at step ",
                 i + 1);
    train::assign_gradients(params, autograd::grad({l}, params));
    critic_optimizer.step();
  }
}

}  // namespace gantry::mog
