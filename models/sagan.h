#pragma once
// SAGAN (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks") for 32x32 images, as
// the top-k paper's CIFAR-10 SAGAN runs would use it. The SAGAN paper only gives 128x128 ImageNet
// networks; its ingredients are kept: spectral norm in the generator and the critic, a self-attention
// block in both, conditional batch norm + projection critic when class-conditional (unconditional
// too), hinge loss (the trainer's). The 32x32 layout is StudioGAN's CIFAR-10 SAGAN
// (src/configs/CIFAR10/SAGAN.yaml: resnet backbone, apply_g_sn/apply_d_sn, attn_g_loc [2],
// attn_d_loc [1]; src/models/resnet.py with g_conv_dim = d_conv_dim = 64): the ResNet SNGAN backbone
// (models/resnet_gan32.h) at widths 256 / 128 with attention after the generator's second block
// (16x16, 256 channels) and after the critic's first block (16x16, 128 channels). kwotsin/mimicry's
// SAGAN32 places the critic's attention after block2 (8x8): critic_attention = 8 gives that layout.
//
// Initialisation: the SAGAN authors' code (brain-research/self-attention-gan, ops.py) draws every
// weight from tf.contrib.layers.xavier_initializer() (Glorot uniform, gain 1) with zero biases; so
// here every weight, attention projections included, is Xavier uniform with gain 1 and every bias 0
// (StudioGAN uses orthogonal init instead).
//
// Parameter counts at the default widths (10 classes when conditional): generator 4,358,660
// unconditional / 4,386,308 conditional, critic 1,074,305 / 1,075,585. StudioGAN's conditional CIFAR-10
// SAGAN log (logs/CIFAR10/SAGAN-train-2020_09_18_23_34_49.log) reports 4,386,308 and 1,075,586 (its
// final linear has a bias); the SAGAN paper states no counts for this size.
#include "models/resnet_gan32.h"

namespace gantry::models {

struct SaganOptions {
  int64_t latent_dim = 128;
  int64_t image_size = 32;  // 32 only
  int64_t channels = 3;
  int64_t generator_width = 256;     // multiple of 8 (attention)
  int64_t critic_width = 128;        // multiple of 8
  int64_t num_classes = 0;           // > 0: class-conditional
  int64_t generator_attention = 16;  // resolution of the attended feature map: 8, 16 or 32
  int64_t critic_attention = 16;     // 16 or 8
};

ResnetGan32Options sagan_backbone_options(const SaganOptions& options, const char* model);

class SaganGenerator : public ResnetGenerator32 {
 public:
  SaganGenerator(const SaganOptions& options, Generator& gen, DType dtype = DType::f32, Device device = kCPU)
      : ResnetGenerator32("SaganGenerator", sagan_backbone_options(options, "SaganGenerator"), gen, dtype, device) {}
};

class SaganDiscriminator : public ResnetDiscriminator32 {
 public:
  SaganDiscriminator(const SaganOptions& options, Generator& gen, DType dtype = DType::f32, Device device = kCPU)
      : ResnetDiscriminator32("SaganDiscriminator", sagan_backbone_options(options, "SaganDiscriminator"), gen, dtype,
                              device) {}
};

}  // namespace gantry::models
