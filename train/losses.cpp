#include "train/losses.h"

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

}  // namespace gantry::train
