#include "models/sngan.h"

#include <cmath>

namespace gantry::models {

ResnetGan32Options sngan_backbone_options(const SnganOptions& o, const char* model) {
  GANTRY_CHECK(o.image_size == 32, model, ": image_size must be 32 (the CIFAR-10 ResNet), got ", o.image_size);
  return {.latent_dim = o.latent_dim,
          .channels = o.channels,
          .generator_width = o.generator_width,
          .critic_width = o.critic_width,
          .num_classes = o.num_classes,
          .generator_spectral_norm = false,
          .residual_gain = std::sqrt(2.0)};
}

}  // namespace gantry::models
