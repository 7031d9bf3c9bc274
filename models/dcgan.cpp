#include "models/dcgan.h"

#include "engine/nn/activations.h"
#include "engine/nn/conv.h"
#include "engine/nn/init.h"
#include "engine/nn/norm.h"
#include "engine/ops/ops.h"

namespace gantry::models {
namespace {

// The number of stride-2 stages between 4x4 and the image size.
int64_t stages(const DcganOptions& o, const char* model) {
  GANTRY_CHECK(o.image_size == 16 || o.image_size == 32 || o.image_size == 64, model,
               ": image_size must be 16, 32 or 64, got ", o.image_size);
  GANTRY_CHECK(o.latent_dim > 0 && o.channels > 0 && o.generator_width > 0 && o.critic_width > 0, model,
               ": sizes must be positive, got latent_dim ", o.latent_dim, ", channels ", o.channels,
               ", generator_width ", o.generator_width, ", critic_width ", o.critic_width);
  GANTRY_CHECK(o.kernel_size == 4 || o.kernel_size == 5, model, ": kernel_size must be 4 or 5, got ", o.kernel_size);
  return o.image_size == 16 ? 2 : o.image_size == 32 ? 3 : 4;
}

// A 4x4 layer between 1x1 and 4x4 (`first` of the generator, `last` of the critic) or a stride-2 layer
// with the options' kernel size; the padding keeps sizes exactly halved / doubled.
nn::Conv2dOptions conv_options(const DcganOptions& o, bool last) {
  if (last) return {.stride = {1, 1}, .padding = {0, 0}, .bias = o.conv_bias};
  const int64_t pad = o.kernel_size == 5 ? 2 : 1;
  return {.stride = {2, 2}, .padding = {pad, pad}, .bias = o.conv_bias};
}

template <typename Conv>
void dcgan_init(Conv& conv, Generator& gen) {
  nn::init::normal_(conv.weight(), 0.0, 0.02, gen);
  if (conv.bias().defined()) nn::init::zeros_(conv.bias());
}

std::shared_ptr<nn::ConvTranspose2d> up(const DcganOptions& o, int64_t in, int64_t out, bool first, Generator& gen,
                                        DType dtype, Device device) {
  const nn::Conv2dOptions c = conv_options(o, first);
  const int64_t k = first ? 4 : o.kernel_size, extra = k == 5 ? 1 : 0;
  const nn::ConvTranspose2dOptions t{
      .stride = c.stride, .padding = c.padding, .output_padding = {extra, extra}, .bias = o.conv_bias};
  auto conv = std::make_shared<nn::ConvTranspose2d>(in, out, Size2{k, k}, gen, t, dtype, device);
  dcgan_init(*conv, gen);
  return conv;
}

std::shared_ptr<nn::Conv2d> down(const DcganOptions& o, int64_t in, int64_t out, bool last, Generator& gen, DType dtype,
                                 Device device) {
  const int64_t k = last ? 4 : o.kernel_size;
  auto conv = std::make_shared<nn::Conv2d>(in, out, Size2{k, k}, gen, conv_options(o, last), dtype, device);
  dcgan_init(*conv, gen);
  return conv;
}

std::shared_ptr<nn::BatchNorm2d> batch_norm(int64_t channels, Generator& gen, DType dtype, Device device) {
  auto bn = std::make_shared<nn::BatchNorm2d>(channels, nn::BatchNormOptions{}, dtype, device);
  nn::init::normal_(bn->weight(), 1.0, 0.02, gen);
  return bn;
}

}  // namespace

DcganGenerator::DcganGenerator(const DcganOptions& options, Generator& gen, DType dtype, Device device)
    : options_(options) {
  const int64_t n = stages(options, "DcganGenerator");
  main_ = register_module("main", std::make_shared<nn::Sequential>());
  int64_t width = options.generator_width << (n - 1);
  main_->push_back(up(options, options.latent_dim, width, true, gen, dtype, device));
  main_->push_back(batch_norm(width, gen, dtype, device)).push_back(std::make_shared<nn::ReLU>());
  for (int64_t i = 1; i < n; ++i, width /= 2) {
    main_->push_back(up(options, width, width / 2, false, gen, dtype, device));
    main_->push_back(batch_norm(width / 2, gen, dtype, device)).push_back(std::make_shared<nn::ReLU>());
  }
  main_->push_back(up(options, width, options.channels, false, gen, dtype, device))
      .push_back(std::make_shared<nn::Tanh>());
}

Tensor DcganGenerator::forward(const Tensor& z) {
  const int64_t latent = options_.latent_dim;
  const bool flat = z.defined() && z.dim() == 2 && z.shape()[1] == latent;
  const bool image = z.defined() && z.dim() == 4 && z.shape()[1] == latent && z.shape()[2] == 1 && z.shape()[3] == 1;
  GANTRY_CHECK(flat || image, "DcganGenerator: expected z [N, ", latent, "] or [N, ", latent, ", 1, 1], got ",
               shape_or_undefined(z));
  return main_->forward(flat ? z.reshape({z.shape()[0], latent, 1, 1}) : z);
}

DcganCritic::DcganCritic(const DcganOptions& options, Generator& gen, DType dtype, Device device) : options_(options) {
  const int64_t n = stages(options, "DcganCritic");
  main_ = register_module("main", std::make_shared<nn::Sequential>());
  const auto leaky = [&] { return std::make_shared<nn::LeakyReLU>(options.leaky_relu_slope); };
  int64_t width = options.critic_width, size = options.image_size / 2;
  main_->push_back(down(options, options.channels, width, false, gen, dtype, device)).push_back(leaky());
  for (int64_t i = 1; i < n; ++i, width *= 2) {
    size /= 2;
    main_->push_back(down(options, width, width * 2, false, gen, dtype, device));
    if (options.critic_norm == CriticNorm::batch) main_->push_back(batch_norm(width * 2, gen, dtype, device));
    if (options.critic_norm == CriticNorm::layer)
      main_->push_back(std::make_shared<nn::LayerNorm>(Shape{width * 2, size, size}, 1e-5, true, dtype, device));
    main_->push_back(leaky());
  }
  main_->push_back(down(options, width, 1, true, gen, dtype, device));
}

Tensor DcganCritic::forward(const Tensor& x) {
  const int64_t s = options_.image_size;
  GANTRY_CHECK(
      x.defined() && x.dim() == 4 && x.shape()[1] == options_.channels && x.shape()[2] == s && x.shape()[3] == s,
      "DcganCritic: expected images [N, ", options_.channels, ", ", s, ", ", s, "], got ", shape_or_undefined(x));
  return main_->forward(x).reshape({x.shape()[0]});
}

Tensor DcganGenerator::generate(const Tensor& z, const Tensor& labels) {
  check_labels("DcganGenerator", labels, 0, 0);
  return forward(z);
}

Tensor DcganCritic::score(const Tensor& x, const Tensor& labels) {
  check_labels("DcganCritic", labels, 0, 0);
  return forward(x);
}

}  // namespace gantry::models
