#pragma once
// Discriminator rejection sampling (DRS; Azadi et al., "Discriminator Rejection Sampling", ICLR 2019):
// a post-training correction of a GAN's samples with its critic. For a critic trained with the
// standard (non-saturating) GAN loss, its logit estimates log p_data(x) / p_g(x), so accepting a
// generated x with probability exp(logit(x) - max logit) would sample p_data exactly. The practical
// scheme (their Sec. 3.2), implemented here: the max logit is estimated on a burn-in set and raised
// whenever a larger one appears (checked per batch of proposals, before that batch is scored); a sample is accepted with probability sigmoid(F(x)), where
//   F(x) = d - log(1 - exp(d - epsilon)) - gamma,   d = logit(x) - max logit <= 0,
// and gamma shifts the acceptance rate: per batch, the given percentile of F over that batch (so about
// (100 - percentile)% of a batch has F > 0, accepted with probability above one half), or a fixed
// value. With gamma = 0 (and epsilon -> 0) sigmoid(F) = exp(d): exact rejection sampling when the
// logit is the true log density ratio.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry {
class Generator;
}

namespace gantry::eval {

struct RejectionSamplingOptions {
  double gamma_percentile = 95;  // in [0, 100]
  std::optional<double> gamma;   // a fixed gamma instead of the percentile
  double epsilon = 1e-6;         // keeps log(1 - exp(d - epsilon)) finite at d = 0
  int64_t burn_in = 10000;       // proposals whose logits set the first max (not returned)
  int64_t batch = 10000;         // proposals scored at a time
  int64_t max_proposals = 100'000'000;  // gives up (throws) beyond this many

  void validate() const;  // throws naming the bad setting
};

struct RejectionSamplingResult {
  Tensor samples;         // [count, ...] accepted proposals, in the order accepted
  int64_t proposed = 0;   // after the burn-in
  int64_t accepted = 0;
  double max_logit = 0;   // at the end
  double acceptance_rate() const { return proposed > 0 ? static_cast<double>(accepted) / proposed : 0.0; }
};

// F(x) - gamma before the gamma shift, for logits[i] against max_logit (each logit <= max_logit).
std::vector<double> drs_scores(const std::vector<double>& logits, double max_logit, double epsilon);

// Draws `count` samples: `propose(n)` returns n generated samples [n, ...], `logits(x)` the critic's
// logits [n] or [n, 1]. Acceptance draws are uniform on `rng`.
RejectionSamplingResult discriminator_rejection_sample(const std::function<Tensor(int64_t)>& propose,
                                                       const std::function<Tensor(const Tensor&)>& logits,
                                                       int64_t count, const RejectionSamplingOptions& options,
                                                       Generator& rng);

}  // namespace gantry::eval
