#include "models/image_gan_models.h"

#include <algorithm>

#include "models/dcgan.h"
#include "models/sagan.h"
#include "models/sngan.h"

namespace gantry::models {
namespace {

std::string joined_names() {
  std::string out;
  for (const std::string& name : image_gan_model_names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

int64_t or_default(int64_t value, int64_t fallback) { return value != 0 ? value : fallback; }

// The DCGAN-family options of one model name, with the config's overrides.
DcganOptions dcgan_family_options(ImageGanConfig& c) {
  const bool gp = c.model == "wgan-gp";
  c.latent_dim = or_default(c.latent_dim, gp ? 128 : 100);
  c.generator_width = or_default(c.generator_width, gp ? 128 : 64);
  c.critic_width = or_default(c.critic_width, gp ? 128 : 64);
  return {.latent_dim = c.latent_dim,
          .image_size = c.image_size,
          .channels = c.channels,
          .generator_width = c.generator_width,
          .critic_width = c.critic_width,
          .critic_norm = gp ? CriticNorm::none : CriticNorm::batch,
          .kernel_size = gp ? 5 : 4,
          .conv_bias = gp};
}

void fill_resnet_defaults(ImageGanConfig& c) {
  c.latent_dim = or_default(c.latent_dim, 128);
  c.generator_width = or_default(c.generator_width, 256);
  c.critic_width = or_default(c.critic_width, 128);
}

// SnganOptions or SaganOptions (same field names) from the config; SAGAN's attention stays default.
template <typename Options>
Options resnet_family_options(const ImageGanConfig& c) {
  Options o;
  o.latent_dim = c.latent_dim;
  o.image_size = c.image_size;
  o.channels = c.channels;
  o.generator_width = c.generator_width;
  o.critic_width = c.critic_width;
  o.num_classes = c.num_classes;
  return o;
}

}  // namespace

const std::vector<std::string>& image_gan_model_names() {
  static const std::vector<std::string> names = {"dcgan", "msgan", "wgan-gc", "wgan-gp", "sngan", "sagan"};
  return names;
}

ImageGanModels make_image_gan_models(const ImageGanConfig& config, Generator& gen, DType dtype, Device device) {
  const auto& names = image_gan_model_names();
  GANTRY_CHECK(std::find(names.begin(), names.end(), config.model) != names.end(), "model: unknown model '",
               config.model, "' (expected one of ", joined_names(), ")");
  const std::string& m = config.model;
  GANTRY_CHECK(config.channels > 0, "channels: must be positive, got ", config.channels, " (model ", m, ")");
  GANTRY_CHECK(config.num_classes >= 0, "num_classes: must be 0 or positive, got ", config.num_classes);
  GANTRY_CHECK(config.latent_dim >= 0 && config.generator_width >= 0 && config.critic_width >= 0,
               "latent_dim, generator_width, critic_width: must be positive (or 0 for the model's default), got ",
               config.latent_dim, ", ", config.generator_width, ", ", config.critic_width);
  ImageGanModels out;
  out.config = config;
  ImageGanConfig& c = out.config;
  if (m == "sngan" || m == "sagan") {
    GANTRY_CHECK(c.image_size == 32, "image_size: ", m, " is the 32x32 CIFAR-10 ResNet, got ", c.image_size);
    fill_resnet_defaults(c);
    if (m == "sngan") {
      const auto o = resnet_family_options<SnganOptions>(c);
      out.generator = std::make_shared<SnganGenerator>(o, gen, dtype, device);
      out.critic = std::make_shared<SnganDiscriminator>(o, gen, dtype, device);
    } else {
      GANTRY_CHECK(c.generator_width % 8 == 0 && c.critic_width % 8 == 0,
                   "generator_width, critic_width: sagan's self-attention needs multiples of 8, got ",
                   c.generator_width, " and ", c.critic_width);
      const auto o = resnet_family_options<SaganOptions>(c);
      out.generator = std::make_shared<SaganGenerator>(o, gen, dtype, device);
      out.critic = std::make_shared<SaganDiscriminator>(o, gen, dtype, device);
    }
    return out;
  }
  GANTRY_CHECK(c.num_classes == 0, "num_classes: ", m,
               " has no class-conditional variant (only sngan and sagan have one), got num_classes ", c.num_classes);
  GANTRY_CHECK(c.image_size == 16 || c.image_size == 32 || c.image_size == 64, "image_size: ", m,
               " supports 16, 32 or 64, got ", c.image_size);
  const DcganOptions o = dcgan_family_options(c);
  out.generator = std::make_shared<DcganGenerator>(o, gen, dtype, device);
  out.critic = std::make_shared<DcganCritic>(o, gen, dtype, device);
  return out;
}

}  // namespace gantry::models
