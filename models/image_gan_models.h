#pragma once
// The image GAN models of the top-k paper's CIFAR-10 table (Table 3) by name, built with the widths,
// latent sizes and critic layouts of the papers that proposed them:
//
//   dcgan    DcganGenerator + DcganCritic (BatchNorm critic), latent 100, widths 64 (PyTorch's DCGAN
//            example, Radford et al. 2016)
//   msgan    the same networks; Mao et al.'s mode-seeking term is a loss (the trainer's)
//   wgan-gc  the same networks (Arjovsky et al. 2017 train the DCGAN generator and critic, BatchNorm
//            included, with weight clipping: martinarjovsky/WassersteinGAN models/dcgan.py, nz 100,
//            ngf = ndf = 64)
//   wgan-gp  Gulrajani et al. 2017's "DCGAN-like" CIFAR-10 networks (gan_cifar.py): latent 128,
//            DIM 128, 5x5 stride-2 kernels, biases, no normalisation in the critic
//   sngan    SnganGenerator + SnganDiscriminator (models/sngan.h), latent 128, widths 256 / 128
//   sagan    SaganGenerator + SaganDiscriminator (models/sagan.h), latent 128, widths 256 / 128
//
// Only sngan and sagan have class-conditional variants (num_classes > 0). Widths and the latent size
// default per model (0 = the model's default).
#include <memory>
#include <string>
#include <vector>

#include "engine/random/generator.h"
#include "models/image_gan.h"

namespace gantry::models {

struct ImageGanConfig {
  std::string model;  // dcgan, msgan, wgan-gc, wgan-gp, sngan or sagan
  int64_t image_size = 32;
  int64_t channels = 3;
  int64_t num_classes = 0;
  int64_t latent_dim = 0;       // 0: the model's default
  int64_t generator_width = 0;  // 0: the model's default
  int64_t critic_width = 0;     // 0: the model's default
};

struct ImageGanModels {
  std::shared_ptr<ImageGenerator> generator;
  std::shared_ptr<ImageCritic> critic;
  ImageGanConfig config;  // with the defaults filled in

  // generator->generate(z, labels) and critic->score(x, labels); labels undefined when unconditional.
  Tensor generate(const Tensor& z, const Tensor& labels = Tensor()) const { return generator->generate(z, labels); }
  Tensor score(const Tensor& x, const Tensor& labels = Tensor()) const { return critic->score(x, labels); }
};

// The model names in the order above.
const std::vector<std::string>& image_gan_model_names();

// Builds both networks (generator first, from `gen`). Errors name the option: an unknown model, a
// conditional model that has no conditional variant, an unsupported image size, non-positive sizes.
ImageGanModels make_image_gan_models(const ImageGanConfig& config, Generator& gen, DType dtype = DType::f32,
                                     Device device = kCPU);

}  // namespace gantry::models
