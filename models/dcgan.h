#pragma once
// DCGAN (Radford et al. 2016) generator and critic in the layout of PyTorch's DCGAN example, for
// square images of 16, 32 or 64 pixels. With n = log2(image_size) - 2 up/down-sampling stages:
//
//   generator: z [N, latent] -> ConvT(latent, w 2^(n-1), 4, 1, 0) -> 4x4, then n - 1 times
//              ConvT(c, c/2, 4, 2, 1) doubling the size, each followed by BatchNorm2d + ReLU, and a
//              last ConvT(w, channels, 4, 2, 1) + Tanh -> [N, channels, S, S]
//   critic:    Conv(channels, w, 4, 2, 1) + LeakyReLU, then n - 1 times Conv(c, 2c, 4, 2, 1) + norm +
//              LeakyReLU, and Conv(w 2^(n-1), 1, 4, 1, 0) -> a raw score [N] (higher = more real; no
//              sigmoid: the losses take logits)
//
// Every convolution is bias-free, as in the example, unless conv_bias is set. The layers are the
// children of a Sequential named "main", so state dicts read "main.0.weight", "main.1.running_mean",
// ... like the example's. Initialisation is the DCGAN paper's: convolution weights N(0, 0.02),
// BatchNorm weights N(1, 0.02) and biases 0 (LayerNorm keeps weight 1, bias 0).
//
// WGAN-GP's "DCGAN-like" CIFAR-10 networks (gan_cifar.py of Gulrajani et al.'s code) differ in three
// ways, each an option: 5x5 kernels in the stride-2 layers (kernel_size 5: padding 2, and
// output_padding 1 in the transposed convolutions so sizes still double), biases in every layer
// (conv_bias), and no normalisation in the critic (CriticNorm::none). Their first generator layer is a
// Linear to 4x4x4w and their last critic layer a Linear from 4x4x4w; the 4x4 convolutions here compute
// the same maps on 1x1 and 4x4 inputs. Not reproduced: their BatchNorm over the 4x4x4w features of the
// first layer (here per channel) and their He-style uniform initialisation.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/nn/sequential.h"
#include "engine/random/generator.h"
#include "models/image_gan.h"

namespace gantry::models {

// The critic's normalisation between convolutions: BatchNorm2d (DCGAN), LayerNorm over [C, H, W]
// (a WGAN-GP critic must not mix samples) or none.
enum class CriticNorm { batch, layer, none };

struct DcganOptions {
  int64_t latent_dim = 100;
  int64_t image_size = 64;  // 16, 32 or 64
  int64_t channels = 3;
  int64_t generator_width = 64;  // ngf: channels of the last hidden generator layer
  int64_t critic_width = 64;     // ndf: channels of the first critic layer
  CriticNorm critic_norm = CriticNorm::batch;
  double leaky_relu_slope = 0.2;
  int64_t kernel_size = 4;  // of the stride-2 layers: 4 (DCGAN, WGAN) or 5 (WGAN-GP)
  bool conv_bias = false;   // biases in every convolution (WGAN-GP)
};

class DcganGenerator : public ImageGenerator {
 public:
  DcganGenerator(const DcganOptions& options, Generator& gen, DType dtype = DType::f32, Device device = kCPU);
  // z [N, latent_dim] or [N, latent_dim, 1, 1] -> images [N, channels, image_size, image_size] in (-1, 1).
  Tensor forward(const Tensor& z) override;
  // Unconditional: labels must be undefined.
  Tensor generate(const Tensor& z, const Tensor& labels) override;
  int64_t num_classes() const override { return 0; }
  const DcganOptions& options() const { return options_; }
  nn::Sequential& main() const { return *main_; }

 private:
  DcganOptions options_;
  std::shared_ptr<nn::Sequential> main_;
};

class DcganCritic : public ImageCritic {
 public:
  DcganCritic(const DcganOptions& options, Generator& gen, DType dtype = DType::f32, Device device = kCPU);
  // images [N, channels, image_size, image_size] -> scores [N].
  Tensor forward(const Tensor& x) override;
  Tensor score(const Tensor& x, const Tensor& labels) override;  // labels must be undefined
  int64_t num_classes() const override { return 0; }
  const DcganOptions& options() const { return options_; }
  nn::Sequential& main() const { return *main_; }

 private:
  DcganOptions options_;
  std::shared_ptr<nn::Sequential> main_;
};

}  // namespace gantry::models
