#include "models/sagan.h"

namespace gantry::models {

ResnetGan32Options sagan_backbone_options(const SaganOptions& o, const char* model) {
  GANTRY_CHECK(o.image_size == 32, model, ": image_size must be 32, got ", o.image_size);
  GANTRY_CHECK(o.generator_attention != 0 && o.critic_attention != 0, model,
               ": SAGAN attends in both networks; generator_attention and critic_attention must be set, got ",
               o.generator_attention, " and ", o.critic_attention);
  return {.latent_dim = o.latent_dim,
          .channels = o.channels,
          .generator_width = o.generator_width,
          .critic_width = o.critic_width,
          .num_classes = o.num_classes,
          .generator_spectral_norm = true,
          .generator_attention = o.generator_attention,
          .critic_attention = o.critic_attention,
          .residual_gain = 1.0};
}

}  // namespace gantry::models
