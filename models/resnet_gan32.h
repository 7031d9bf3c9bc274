#pragma once
// The 32x32 ResNet GAN backbone that SNGAN (models/sngan.h) and SAGAN (models/sagan.h) share: the
// CIFAR-10 ResNet of Miyato et al. 2018 as in the authors' chainer code (pfnet-research/
// sngan_projection, gen_models/resnet_32.py and dis_models/snresnet_32.py), with the top-level names
// of its PyTorch ports (kwotsin/mimicry SNGAN32/SAGAN32: l1, block2..4, b5, c5; block1..4, l5, l_y):
//
//   generator: z [N, latent] -> l1 Linear(latent, 16 w) -> [N, w, 4, 4] -> block2, block3, block4
//              (ResnetGeneratorBlock(w, w), nearest x2 upsampling: 8, 16, 32) -> b5 BatchNorm2d(w)
//              -> ReLU -> c5 Conv2d(w, channels, 3, padding 1) -> tanh
//   critic:    x [N, channels, 32, 32] -> block1 (first block, preactivation = false, channels -> w,
//              down to 16) -> block2 (w -> w, down to 8) -> block3, block4 (w -> w, no pooling) -> ReLU
//              -> sum over H, W -> h [N, w] -> l5 SNLinear(w, 1, bias = false) -> score [N]
//
// Class-conditional (num_classes K > 0): the generator blocks use categorical conditional batch norm
// (gain table 1, bias table 0), and the critic adds the projection term <l_y(y), h> with l_y an SN
// Embedding(K, w) (Miyato & Koyama 2018). The critic's convolutions are always spectrally
// normalised; the generator's (l1, the block convolutions, c5, attention) when
// generator_spectral_norm (SAGAN). An nn::SelfAttention block "attn_block" (BigGAN's layout, SN
// projections where the network has SN) may follow the block whose output has a given resolution.
//
// Initialisation (both reference codes): every weight Glorot/Xavier uniform, every bias 0; the gain
// is residual_gain for the blocks' 3x3 convolutions (chainer's GlorotUniform(sqrt(2)) in SNGAN) and
// 1 elsewhere (l1, c5, shortcuts, l5, l_y, attention projections). BatchNorm: torch's eps 1e-5 and
// momentum 0.1 (chainer: eps 2e-5, decay 0.9).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/norm.h"
#include "engine/nn/self_attention.h"
#include "engine/random/generator.h"
#include "models/image_gan.h"
#include "models/resnet_blocks.h"

namespace gantry::models {

struct ResnetGan32Options {
  int64_t latent_dim = 128;
  int64_t channels = 3;
  int64_t generator_width = 256;  // w of the generator (all blocks)
  int64_t critic_width = 128;     // w of the critic (all blocks)
  int64_t num_classes = 0;        // 0: unconditional
  bool generator_spectral_norm = false;
  // Self-attention after the block whose output has this resolution (generator: 8, 16 or 32;
  // critic: 16 or 8, after block1 or block2); 0: none.
  int64_t generator_attention = 0;
  int64_t critic_attention = 0;
  double residual_gain = 1.0;  // Xavier gain of the blocks' 3x3 convolutions
};

class ResnetGenerator32 : public ImageGenerator {
 public:
  // `name` ("SnganGenerator") starts error messages.
  ResnetGenerator32(std::string name, const ResnetGan32Options& options, Generator& gen, DType dtype, Device device);

  // z [N, latent_dim], labels int64 [N] (conditional) or undefined -> images [N, channels, 32, 32].
  Tensor forward(const Tensor& z, const Tensor& labels);
  Tensor forward(const Tensor& z) override { return forward(z, Tensor()); }
  Tensor generate(const Tensor& z, const Tensor& labels) override { return forward(z, labels); }
  int64_t num_classes() const override { return options_.num_classes; }
  const ResnetGan32Options& options() const { return options_; }
  const std::vector<std::shared_ptr<ResnetGeneratorBlock>>& blocks() const { return blocks_; }
  nn::SelfAttention* attention() const { return attention_.get(); }

 private:
  std::string name_;
  ResnetGan32Options options_;
  std::shared_ptr<nn::Module> l1_, c5_;
  std::vector<std::shared_ptr<ResnetGeneratorBlock>> blocks_;
  std::shared_ptr<nn::SelfAttention> attention_;
  size_t attention_after_ = 0;  // index into blocks_
  std::shared_ptr<nn::BatchNorm2d> b5_;
};

class ResnetDiscriminator32 : public ImageCritic {
 public:
  ResnetDiscriminator32(std::string name, const ResnetGan32Options& options, Generator& gen, DType dtype,
                        Device device);

  // x [N, channels, 32, 32], labels int64 [N] (conditional) or undefined -> scores [N].
  Tensor forward(const Tensor& x, const Tensor& labels);
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  Tensor score(const Tensor& x, const Tensor& labels) override { return forward(x, labels); }
  int64_t num_classes() const override { return options_.num_classes; }
  const ResnetGan32Options& options() const { return options_; }
  const std::vector<std::shared_ptr<ResnetDiscriminatorBlock>>& blocks() const { return blocks_; }
  nn::SelfAttention* attention() const { return attention_.get(); }

 private:
  std::string name_;
  ResnetGan32Options options_;
  std::vector<std::shared_ptr<ResnetDiscriminatorBlock>> blocks_;
  std::shared_ptr<nn::SelfAttention> attention_;
  size_t attention_after_ = 0;
  std::shared_ptr<nn::Module> l5_, l_y_;
};

}  // namespace gantry::models
