#include "models/resnet_blocks.h"

#include "engine/nn/conv.h"
#include "engine/nn/norm.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"
#include "models/image_gan.h"

namespace gantry::models {
namespace {

// A k x k convolution with "same" padding, spectrally normalised when asked.
std::shared_ptr<nn::Module> make_conv(int64_t in, int64_t out, int64_t k, bool spectral_norm,
                                      const nn::SpectralNormOptions& sn, Generator& gen, DType dtype, Device device) {
  auto conv = std::make_shared<nn::Conv2d>(in, out, Size2{k, k}, gen, nn::Conv2dOptions{.padding = {k / 2, k / 2}},
                                           dtype, device);
  if (!spectral_norm) return conv;
  return nn::spectral_norm(conv, gen, sn);
}

void check_block_input(const Tensor& x, int64_t channels, const std::string& block) {
  GANTRY_CHECK(x.defined() && x.dim() == 4 && x.shape()[1] == channels, block, ": expected input [N, ", channels,
               ", H, W], got ", x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
}

std::string describe_block(const char* name, int64_t in, int64_t out) {
  return std::string(name) + "(" + std::to_string(in) + ", " + std::to_string(out) + ")";
}

}  // namespace

ResnetGeneratorBlock::ResnetGeneratorBlock(int64_t in_channels, int64_t out_channels, Generator& gen,
                                           const ResnetGeneratorBlockOptions& options, DType dtype, Device device)
    : in_channels_(in_channels), out_channels_(out_channels), upsample_(options.upsample) {
  const std::string block = describe();
  GANTRY_CHECK(in_channels > 0 && out_channels > 0, block, ": expected positive channel counts");
  GANTRY_CHECK(
      !(options.num_classes > 0 && options.condition_dim > 0) && options.num_classes >= 0 && options.condition_dim >= 0,
      block, ": expected exactly one of num_classes (", options.num_classes, ") and condition_dim (",
      options.condition_dim, ") to be positive, or both 0 for an unconditional block");
  // BigGAN-PyTorch's construction order: conv1, conv2, conv_sc, bn1, bn2.
  const bool sn = options.spectral_norm;
  conv1_ = register_module("conv1", make_conv(in_channels, out_channels, 3, sn, options.sn, gen, dtype, device));
  conv2_ = register_module("conv2", make_conv(out_channels, out_channels, 3, sn, options.sn, gen, dtype, device));
  if (in_channels != out_channels || upsample_)
    conv_sc_ = register_module("conv_sc", make_conv(in_channels, out_channels, 1, sn, options.sn, gen, dtype, device));
  const auto make_cbn = [&](int64_t channels) -> std::shared_ptr<nn::ConditionalBatchNorm2d> {
    if (options.num_classes > 0)
      return std::make_shared<nn::CategoricalConditionalBatchNorm2d>(channels, options.num_classes, options.norm, dtype,
                                                                     device);
    return std::make_shared<nn::ProjectedConditionalBatchNorm2d>(channels, options.condition_dim, gen, sn, options.norm,
                                                                 dtype, device);
  };
  if (options.num_classes > 0 || options.condition_dim > 0) {
    cbn1_ = make_cbn(in_channels);
    cbn2_ = make_cbn(out_channels);
    bn1_ = register_module("bn1", cbn1_);
    bn2_ = register_module("bn2", cbn2_);
  } else {
    const nn::BatchNormOptions plain{.eps = options.norm.eps,
                                     .momentum = options.norm.momentum,
                                     .track_running_stats = options.norm.track_running_stats};
    bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(in_channels, plain, dtype, device));
    bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(out_channels, plain, dtype, device));
  }
}

nn::ConditionalBatchNorm2d& ResnetGeneratorBlock::bn1() {
  GANTRY_CHECK(cbn1_ != nullptr, describe(), ": an unconditional block has no conditional batch norm");
  return *cbn1_;
}

nn::ConditionalBatchNorm2d& ResnetGeneratorBlock::bn2() {
  GANTRY_CHECK(cbn2_ != nullptr, describe(), ": an unconditional block has no conditional batch norm");
  return *cbn2_;
}

Tensor ResnetGeneratorBlock::normalise(nn::Module& bn, const Tensor& x, const Tensor& condition) {
  if (conditional()) return static_cast<nn::ConditionalBatchNorm2d&>(bn).forward(x, condition);
  GANTRY_CHECK(!condition.defined(), "an unconditional block takes no condition, got ", shape_str(condition.shape()));
  return bn.forward(x);
}

std::string ResnetGeneratorBlock::describe() const {
  return describe_block("ResnetGeneratorBlock", in_channels_, out_channels_);
}

Tensor ResnetGeneratorBlock::forward(const Tensor& x, const Tensor& condition) {
  const std::string block = describe();
  check_block_input(x, in_channels_, block);
  return in_context(block, [&] {
    Tensor h = relu(normalise(*bn1_, x, condition));
    Tensor skip = x;
    if (upsample_) {
      h = interpolate_nearest(h, 2.0);
      skip = interpolate_nearest(x, 2.0);
    }
    h = conv2_->forward(relu(normalise(*bn2_, conv1_->forward(h), condition)));
    if (conv_sc_) skip = conv_sc_->forward(skip);
    return add(h, skip);
  });
}

ResnetDiscriminatorBlock::ResnetDiscriminatorBlock(int64_t in_channels, int64_t out_channels, Generator& gen,
                                                   const ResnetDiscriminatorBlockOptions& options, DType dtype,
                                                   Device device)
    : in_channels_(in_channels), out_channels_(out_channels), options_(options) {
  GANTRY_CHECK(in_channels > 0 && out_channels > 0 && options.hidden_channels >= 0, describe(),
               ": expected positive channel counts, got hidden_channels ", options.hidden_channels);
  const int64_t hidden = options.hidden_channels > 0 ? options.hidden_channels : out_channels;
  const bool sn = options.spectral_norm;
  conv1_ = register_module("conv1", make_conv(in_channels, hidden, 3, sn, options.sn, gen, dtype, device));
  conv2_ = register_module("conv2", make_conv(hidden, out_channels, 3, sn, options.sn, gen, dtype, device));
  if (in_channels != out_channels || options.downsample)
    conv_sc_ = register_module("conv_sc", make_conv(in_channels, out_channels, 1, sn, options.sn, gen, dtype, device));
}

std::string ResnetDiscriminatorBlock::describe() const {
  return describe_block("ResnetDiscriminatorBlock", in_channels_, out_channels_);
}

Tensor ResnetDiscriminatorBlock::shortcut(const Tensor& x) {
  const auto pool = [](const Tensor& t) { return avg_pool2d(t, {2, 2}); };
  Tensor s = x;
  // A 1x1 conv and average pooling commute, so the order changes only cost and rounding; it is
  // BigGAN-PyTorch's (convolve first in pre-activation blocks, pool the image first in the first).
  if (options_.preactivation) {
    if (conv_sc_) s = conv_sc_->forward(s);
    if (options_.downsample) s = pool(s);
  } else {
    if (options_.downsample) s = pool(s);
    if (conv_sc_) s = conv_sc_->forward(s);
  }
  return s;
}

Tensor ResnetDiscriminatorBlock::forward(const Tensor& x) {
  const std::string block = describe();
  check_block_input(x, in_channels_, block);
  return in_context(block, [&] {
    Tensor h = conv1_->forward(options_.preactivation ? relu(x) : x);
    h = conv2_->forward(relu(h));
    if (options_.downsample) h = avg_pool2d(h, {2, 2});
    return add(h, shortcut(x));
  });
}

}  // namespace gantry::models
