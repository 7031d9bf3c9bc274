#pragma once
// The residual blocks of SNGAN's and BigGAN's ResNet generators and discriminators, with the module
// names of BigGAN-PyTorch (conv1, conv2, conv_sc, bn1, bn2) so state dicts match a PyTorch model
// built the same way with torch.nn.utils.spectral_norm ("conv1.weight_orig", "conv1.weight_u", ...).
//
// Generator block, x [N, in, H, W] and one condition per sample -> [N, out, 2H, 2W]:
//   h = conv1(up(relu(bn1(x, y))));  h = conv2(relu(bn2(h, y)));  out = h + conv_sc(up(x))
// with bn1, bn2 class-conditional batch norms, conv1/conv2 3x3 (padding 1), conv_sc 1x1, up a
// nearest x2 upsampling. The shortcut conv exists when in != out or when upsampling (else identity).
//
// Discriminator block, x [N, in, H, W] -> [N, out, H/2, W/2]:
//   h = conv2(relu(conv1(relu(x))));  h = avg_pool2(h)
//   shortcut = avg_pool2(conv_sc(x))          (preactivation, the inner blocks)
//   first block (preactivation = false): no relu on x, and shortcut = conv_sc(avg_pool2(x))
//   out = h + shortcut; conv1: in -> hidden, conv2: hidden -> out (3x3), conv_sc: in -> out (1x1), the
//   shortcut conv existing when in != out or when downsampling.
// Convolutions are spectrally normalised by default (SNConv2d) and use torch.nn.Conv2d's init.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/nn/conditional_batch_norm.h"
#include "engine/nn/module.h"
#include "engine/nn/spectral_norm.h"
#include "engine/random/generator.h"

namespace gantry::models {

struct ResnetGeneratorBlockOptions {
  // At most one of the two: num_classes > 0 gives CategoricalConditionalBatchNorm2d over int64 class
  // indices [N] (SNGAN); condition_dim > 0 gives ProjectedConditionalBatchNorm2d over a condition
  // vector [N, condition_dim] (BigGAN: shared embedding concatenated with a latent chunk). Neither
  // gives plain affine BatchNorm2d layers (unconditional SNGAN/SAGAN; the condition must be
  // undefined), with state-dict names bn1.weight, bn1.bias, bn1.running_mean, ...
  int64_t num_classes = 0;
  int64_t condition_dim = 0;
  bool upsample = true;
  bool spectral_norm = true;  // on the convolutions and on the projections of a projected CBN
  nn::SpectralNormOptions sn = {};
  nn::ConditionalBatchNormOptions norm = {};
};

class ResnetGeneratorBlock : public nn::Module {
 public:
  ResnetGeneratorBlock(int64_t in_channels, int64_t out_channels, Generator& gen,
                       const ResnetGeneratorBlockOptions& options, DType dtype = DType::f32, Device device = kCPU);

  Tensor forward(const Tensor& x, const Tensor& condition);
  Tensor operator()(const Tensor& x, const Tensor& condition) { return forward(x, condition); }

  bool conditional() const { return cbn1_ != nullptr; }
  // The conditional normalisations; an unconditional block throws (its bn1/bn2 are BatchNorm2d).
  nn::ConditionalBatchNorm2d& bn1();
  nn::ConditionalBatchNorm2d& bn2();
  // The convolutions (Conv2d or SNConv2d); conv_sc is null when the shortcut is the identity.
  nn::Module& conv1() const { return *conv1_; }
  nn::Module& conv2() const { return *conv2_; }
  nn::Module* conv_sc() const { return conv_sc_.get(); }
  bool has_shortcut_conv() const { return conv_sc_ != nullptr; }
  std::string describe() const;  // "ResnetGeneratorBlock(8, 4)"

 private:
  Tensor normalise(nn::Module& bn, const Tensor& x, const Tensor& condition);

  int64_t in_channels_, out_channels_;
  bool upsample_;
  std::shared_ptr<nn::Module> conv1_, conv2_, conv_sc_;
  std::shared_ptr<nn::Module> bn1_, bn2_;                    // ConditionalBatchNorm2d or BatchNorm2d
  std::shared_ptr<nn::ConditionalBatchNorm2d> cbn1_, cbn2_;  // the same modules when conditional
};

struct ResnetDiscriminatorBlockOptions {
  int64_t hidden_channels = 0;  // 0: out_channels (BigGAN's wide blocks)
  bool downsample = true;
  bool preactivation = true;  // false for a discriminator's first block, which sees the image
  bool spectral_norm = true;
  nn::SpectralNormOptions sn = {};
};

class ResnetDiscriminatorBlock : public nn::Module {
 public:
  ResnetDiscriminatorBlock(int64_t in_channels, int64_t out_channels, Generator& gen,
                           const ResnetDiscriminatorBlockOptions& options = {}, DType dtype = DType::f32,
                           Device device = kCPU);

  Tensor forward(const Tensor& x) override;
  nn::Module& conv1() const { return *conv1_; }
  nn::Module& conv2() const { return *conv2_; }
  nn::Module* conv_sc() const { return conv_sc_.get(); }
  bool has_shortcut_conv() const { return conv_sc_ != nullptr; }
  std::string describe() const;  // "ResnetDiscriminatorBlock(4, 8)"

 private:
  Tensor shortcut(const Tensor& x);

  int64_t in_channels_, out_channels_;
  ResnetDiscriminatorBlockOptions options_;
  std::shared_ptr<nn::Module> conv1_, conv2_, conv_sc_;
};

}  // namespace gantry::models
