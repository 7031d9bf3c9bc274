#include "train/losses.h"

#include <limits>

#include "engine/ops/ops.h"

namespace gantry::train {

GanLoss parse_gan_loss(const std::string& name) {
  if (name == "ns" || name == "non-saturating" || name == "non_saturating") return GanLoss::non_saturating;
  if (name == "hinge") return GanLoss::hinge;
  if (name == "wasserstein" || name == "wgan") return GanLoss::wasserstein;
  GANTRY_FAIL("loss: unknown GAN loss '", name, "' (expected non-saturating, hinge or wasserstein)");
}

const char* gan_loss_name(GanLoss loss) {
  switch (loss) {
    case GanLoss::non_saturating: return "non-saturating";
    case GanLoss::hinge: return "hinge";
    case GanLoss::wasserstein: return "wasserstein";
  }
  return "?";
}

Tensor critic_loss(GanLoss loss, const Tensor& real_scores, const Tensor& fake_scores) {
  switch (loss) {
    case GanLoss::non_saturating: return ns_d_loss(real_scores, fake_scores);
    case GanLoss::hinge: return hinge_d_loss(real_scores, fake_scores);
    case GanLoss::wasserstein: return wasserstein_d_loss(real_scores, fake_scores);
  }
  GANTRY_FAIL("critic_loss: unknown loss");
}

Tensor generator_loss(GanLoss loss, const Tensor& fake_scores) {
  switch (loss) {
    case GanLoss::non_saturating: return ns_g_loss(fake_scores);
    case GanLoss::hinge: return hinge_g_loss(fake_scores);
    case GanLoss::wasserstein: return wasserstein_g_loss(fake_scores);
  }
  GANTRY_FAIL("generator_loss: unknown loss");
}

Tensor weighted_generator_loss(GanLoss loss, const Tensor& fake_scores, const Tensor& weights) {
  GANTRY_CHECK(weights.defined() && weights.dim() == 1 && weights.size(0) == fake_scores.size(0) &&
                   fake_scores.numel() == fake_scores.size(0),
               "weighted_generator_loss: expected scores [N] or [N, 1] and weights [N], got ",
               shape_str(fake_scores.shape()), " and ",
               weights.defined() ? shape_str(weights.shape()) : std::string("undefined weights"));
  const Tensor s = fake_scores.reshape({fake_scores.size(0)});
  // The per-sample terms whose mean generator_loss takes.
  // (softplus without a threshold is ns_g_loss's stable log(1 + exp(-s)).)
  const Tensor terms =
      loss == GanLoss::non_saturating ? softplus(neg(s), 1.0, std::numeric_limits<double>::infinity()) : neg(s);
  return sum(mul(terms, weights.detach()));
}

}  // namespace gantry::train
