#pragma once
// The adversarial losses a GAN run can select. Critic outputs are oriented higher = more real, and
// every term is a mean over the scores it is given, so the batch-selection policies can pass a
// subset of the fake scores (the top-k) and the others get exactly zero gradient.
#include <string>

#include "engine/core/tensor.h"

namespace gantry::train {

enum class GanLoss { non_saturating, hinge, wasserstein };

// "ns" / "non-saturating", "hinge", "wasserstein" / "wgan"; throws naming the valid choices.
GanLoss parse_gan_loss(const std::string& name);
const char* gan_loss_name(GanLoss loss);

// The critic's loss on real and fake scores (each [N] or [N, 1]; N may differ between them).
Tensor critic_loss(GanLoss loss, const Tensor& real_scores, const Tensor& fake_scores);
// The generator's adversarial loss on the (possibly selected) fake scores.
Tensor generator_loss(GanLoss loss, const Tensor& fake_scores);
// The same loss with per-sample weights [N] (summing to 1) in place of the mean: sum_i w_i l(s_i).
// The weights carry no gradient.
Tensor weighted_generator_loss(GanLoss loss, const Tensor& fake_scores, const Tensor& weights);

}  // namespace gantry::train
