#pragma once
// The ResNet SNGAN for 32x32 images of Miyato et al. 2018 ("Spectral Normalization for Generative
// Adversarial Networks", the CIFAR-10 ResNet of their appendix): generator width 256, critic width
// 128, z of 128 dims, spectral norm in the critic only, and its class-conditional form (categorical
// conditional batch norm in the generator, projection critic; Miyato & Koyama 2018). The layout,
// state-dict names and initialisation are those of the shared backbone (models/resnet_gan32.h),
// following the authors' chainer code (pfnet-research/sngan_projection: gen_models/resnet_32.py,
// gen_models/resblocks.py, dis_models/snresnet_32.py, dis_models/resblocks.py):
//
//   - widths: ResNetGenerator(ch=256, dim_z=128, bottom_width=4), SNResNetProjectionDiscriminator(ch=128)
//     (configs/sn_cifar10_unconditional.yml); the critic's first block is the "optimized" block.
//   - init: chainer GlorotUniform(sqrt(2)) on the blocks' 3x3 convs, GlorotUniform() (gain 1) on the
//     1x1 shortcuts, l1, c5, l5 and l_y; biases 0 (chainer's default); BatchNorm gamma 1, beta 0;
//     conditional BN gammas 1, betas 0.
//   - l5 has no bias (nobias=True in snresnet_32.py; mimicry's port keeps one).
//
// Parameter counts at the default widths (10 classes when conditional): generator 4,276,739
// unconditional / 4,304,387 conditional, critic 1,053,824 / 1,055,104. StudioGAN's conditional CIFAR-10
// SNGAN log (logs/CIFAR10/SNGAN-train-2020_09_18_14_37_00.log) reports 4,304,387 and 1,055,105 (its
// final linear has a bias); the SNGAN paper states no counts.
#include "models/resnet_gan32.h"

namespace gantry::models {

struct SnganOptions {
  int64_t latent_dim = 128;
  int64_t image_size = 32;  // 32 only
  int64_t channels = 3;
  int64_t generator_width = 256;
  int64_t critic_width = 128;
  int64_t num_classes = 0;  // > 0: class-conditional
};

// The backbone options SNGAN uses (checks image_size; `model` starts the error).
ResnetGan32Options sngan_backbone_options(const SnganOptions& options, const char* model);

class SnganGenerator : public ResnetGenerator32 {
 public:
  SnganGenerator(const SnganOptions& options, Generator& gen, DType dtype = DType::f32, Device device = kCPU)
      : ResnetGenerator32("SnganGenerator", sngan_backbone_options(options, "SnganGenerator"), gen, dtype, device) {}
};

class SnganDiscriminator : public ResnetDiscriminator32 {
 public:
  SnganDiscriminator(const SnganOptions& options, Generator& gen, DType dtype = DType::f32, Device device = kCPU)
      : ResnetDiscriminator32("SnganDiscriminator", sngan_backbone_options(options, "SnganDiscriminator"), gen, dtype,
                              device) {}
};

}  // namespace gantry::models
