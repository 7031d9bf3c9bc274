#include "models/resnet_gan32.h"

#include <algorithm>
#include <utility>

#include "engine/nn/conv.h"
#include "engine/nn/linear.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops/ops.h"
#include "models/layer_init.h"

namespace gantry::models {
namespace {

constexpr int64_t kImageSize = 32;
constexpr int64_t kBottom = 4;  // the generator's first feature map is 4x4

void check_options(const std::string& name, const ResnetGan32Options& o) {
  GANTRY_CHECK(o.latent_dim > 0 && o.channels > 0 && o.generator_width > 0 && o.critic_width > 0 && o.num_classes >= 0,
               name, ": sizes must be positive, got latent_dim ", o.latent_dim, ", channels ", o.channels,
               ", generator_width ", o.generator_width, ", critic_width ", o.critic_width, ", num_classes ",
               o.num_classes);
}

// A layer, spectrally normalised when asked.
template <typename Layer>
std::shared_ptr<nn::Module> maybe_sn(std::shared_ptr<Layer> layer, bool sn, Generator& gen) {
  if (!sn) return layer;
  return nn::spectral_norm(std::move(layer), gen);
}

// The SAGAN self-attention block with 1x1 projections (SN when asked), Xavier-initialised.
std::shared_ptr<nn::SelfAttention> make_attention(int64_t channels, bool sn, Generator& gen, DType dtype,
                                                  Device device) {
  const nn::ProjectionFactory projection = [&gen, sn, dtype, device](int64_t in, int64_t out) {
    auto conv =
        std::make_shared<nn::Conv2d>(in, out, Size2{1, 1}, gen, nn::Conv2dOptions{.bias = false}, dtype, device);
    return maybe_sn(conv, sn, gen);
  };
  auto attention = std::make_shared<nn::SelfAttention>(channels, projection, dtype, device);
  for (nn::Module* p : {&attention->theta(), &attention->phi(), &attention->g(), &attention->o()})
    xavier_init_layer(*p, 1.0, gen);
  return attention;
}

template <typename Block>
void init_block(Block& block, double residual_gain, Generator& gen) {
  xavier_init_layer(block.conv1(), residual_gain, gen);
  xavier_init_layer(block.conv2(), residual_gain, gen);
  if (block.conv_sc()) xavier_init_layer(*block.conv_sc(), 1.0, gen);
}

// The index of the block after which attention runs: the first block whose output has `resolution`.
size_t attention_index(const std::string& name, const char* option, int64_t resolution,
                       const std::vector<int64_t>& block_resolutions) {
  const auto it = std::find(block_resolutions.begin(), block_resolutions.end(), resolution);
  if (it != block_resolutions.end()) return static_cast<size_t>(it - block_resolutions.begin());
  std::vector<int64_t> allowed;
  for (int64_t r : block_resolutions)
    if (std::find(allowed.begin(), allowed.end(), r) == allowed.end()) allowed.push_back(r);
  std::string list;
  for (int64_t r : allowed) list += (list.empty() ? "" : ", ") + std::to_string(r);
  GANTRY_CHECK(false, name, ": ", option, " must be 0 (none) or one of ", list, ", got ", resolution);
  return 0;
}

}  // namespace

ResnetGenerator32::ResnetGenerator32(std::string name, const ResnetGan32Options& options, Generator& gen, DType dtype,
                                     Device device)
    : name_(std::move(name)), options_(options) {
  check_options(name_, options);
  const int64_t w = options.generator_width;
  const bool sn = options.generator_spectral_norm;
  l1_ = register_module(
      "l1", maybe_sn(std::make_shared<nn::Linear>(options.latent_dim, kBottom * kBottom * w, true, gen, dtype, device),
                     sn, gen));
  xavier_init_layer(*l1_, 1.0, gen);
  const bool attend = options.generator_attention != 0;
  if (attend)
    attention_after_ = attention_index(name_, "generator_attention", options.generator_attention, {8, 16, 32});
  const ResnetGeneratorBlockOptions block_options{.num_classes = options.num_classes, .spectral_norm = sn};
  for (int i = 0; i < 3; ++i) {
    auto block = std::make_shared<ResnetGeneratorBlock>(w, w, gen, block_options, dtype, device);
    init_block(*block, options.residual_gain, gen);
    blocks_.push_back(register_module("block" + std::to_string(i + 2), block));
    if (attend && attention_after_ == static_cast<size_t>(i))
      attention_ = register_module("attn_block", make_attention(w, sn, gen, dtype, device));
  }
  b5_ = register_module("b5", std::make_shared<nn::BatchNorm2d>(w, nn::BatchNormOptions{}, dtype, device));
  c5_ =
      register_module("c5", maybe_sn(std::make_shared<nn::Conv2d>(w, options.channels, Size2{3, 3}, gen,
                                                                  nn::Conv2dOptions{.padding = {1, 1}}, dtype, device),
                                     sn, gen));
  xavier_init_layer(*c5_, 1.0, gen);
}

Tensor ResnetGenerator32::forward(const Tensor& z, const Tensor& labels) {
  const int64_t latent = options_.latent_dim;
  GANTRY_CHECK(z.defined() && z.dim() == 2 && z.shape()[1] == latent, name_, ": expected z [N, ", latent, "], got ",
               shape_or_undefined(z));
  const int64_t n = z.shape()[0];
  check_labels(name_, labels, options_.num_classes, n);
  return in_context(name_, [&] {
    Tensor h = l1_->forward(z).reshape({n, options_.generator_width, kBottom, kBottom});
    for (size_t i = 0; i < blocks_.size(); ++i) {
      h = blocks_[i]->forward(h, labels);
      if (attention_ && attention_after_ == i) h = attention_->forward(h);
    }
    return tanh(c5_->forward(relu(b5_->forward(h))));
  });
}

ResnetDiscriminator32::ResnetDiscriminator32(std::string name, const ResnetGan32Options& options, Generator& gen,
                                             DType dtype, Device device)
    : name_(std::move(name)), options_(options) {
  check_options(name_, options);
  const int64_t w = options.critic_width;
  const bool attend = options.critic_attention != 0;
  // Output resolutions of block1..4; attention goes after the first block with the resolution.
  if (attend) attention_after_ = attention_index(name_, "critic_attention", options.critic_attention, {16, 8, 8, 8});
  const ResnetDiscriminatorBlockOptions first{.preactivation = false};
  const ResnetDiscriminatorBlockOptions down{}, same{.downsample = false};
  const ResnetDiscriminatorBlockOptions* kinds[] = {&first, &down, &same, &same};
  for (int i = 0; i < 4; ++i) {
    auto block =
        std::make_shared<ResnetDiscriminatorBlock>(i == 0 ? options.channels : w, w, gen, *kinds[i], dtype, device);
    init_block(*block, options.residual_gain, gen);
    blocks_.push_back(register_module("block" + std::to_string(i + 1), block));
    if (attend && attention_after_ == static_cast<size_t>(i))
      attention_ = register_module("attn_block", make_attention(w, true, gen, dtype, device));
  }
  l5_ = register_module("l5", nn::spectral_norm(std::make_shared<nn::Linear>(w, 1, false, gen, dtype, device), gen));
  xavier_init_layer(*l5_, 1.0, gen);
  if (options.num_classes > 0) {
    l_y_ = register_module(
        "l_y", nn::spectral_norm(std::make_shared<nn::Embedding>(options.num_classes, w, gen, dtype, device), gen));
    xavier_init_layer(*l_y_, 1.0, gen);
  }
}

Tensor ResnetDiscriminator32::forward(const Tensor& x, const Tensor& labels) {
  const int64_t c = options_.channels;
  GANTRY_CHECK(
      x.defined() && x.dim() == 4 && x.shape()[1] == c && x.shape()[2] == kImageSize && x.shape()[3] == kImageSize,
      name_, ": expected images [N, ", c, ", 32, 32], got ", shape_or_undefined(x));
  const int64_t n = x.shape()[0];
  check_labels(name_, labels, options_.num_classes, n);
  Tensor h = x;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    h = blocks_[i]->forward(h);
    if (attention_ && attention_after_ == i) h = attention_->forward(h);
  }
  h = sum(relu(h), {2, 3});  // global sum pooling -> [N, w]
  Tensor out = l5_->forward(h).reshape({n});
  if (l_y_) {  // the projection term <embed(y), h>
    Tensor embedded;
    try {
      embedded = l_y_->forward(labels);
    } catch (const Error& e) {  // the lookup's range check, with the model and the valid range in front
      throw Error(name_ + ": class labels must lie in [0, " + std::to_string(options_.num_classes) + "): " + e.what());
    }
    out = add(out, sum(mul(embedded, h), {1}));
  }
  return out;
}

}  // namespace gantry::models
