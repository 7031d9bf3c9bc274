#include "engine/nn/conv.h"

#include <cmath>

#include "engine/nn/init.h"

namespace gantry::nn {
namespace {

// torch.nn's default: kaiming_uniform(a = sqrt(5)) on the weight, U(+-1/sqrt(fan_in)) on the bias.
void init_conv_parameters(const Tensor& weight, const Tensor& bias, Generator& gen) {
  init::kaiming_uniform_(weight, gen, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::fans(weight).first));
    init::uniform_(bias, -bound, bound, gen);
  }
}

void check_sizes(const char* layer, int64_t in, int64_t out, Size2 kernel) {
  GANTRY_CHECK(in > 0 && out > 0 && kernel[0] > 0 && kernel[1] > 0, layer,
               ": expected positive channel counts and kernel size, got in_channels ", in, ", out_channels ", out,
               ", kernel_size ", size2_str(kernel));
}

// The layer's own check on its input, so the error names the layer rather than the op underneath.
void check_input(const Tensor& x, int64_t channels, const std::string& layer) {
  GANTRY_CHECK(x.defined() && x.dim() == 4 && x.shape()[1] == channels, layer, ": expected input [N, ", channels,
               ", H, W], got ", x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
}

// A replacement weight must have the layer's own weight shape.
void check_weight(const Tensor& weight, const Tensor& own, const std::string& layer) {
  GANTRY_CHECK(weight.defined() && weight.shape() == own.shape(), layer, ": expected a weight ", shape_str(own.shape()),
               ", got ", weight.defined() ? shape_str(weight.shape()) : std::string("an undefined tensor"));
}

// "Conv2d(3, 64, kernel_size=4x4, stride=2x2, padding=1x1)".
std::string describe_layer(const char* layer, int64_t in, int64_t out, const Tensor& weight, Size2 stride,
                           Size2 padding) {
  return std::string(layer) + "(" + std::to_string(in) + ", " + std::to_string(out) +
         ", kernel_size=" + size2_str({weight.shape()[2], weight.shape()[3]}) + ", stride=" + size2_str(stride) +
         ", padding=" + size2_str(padding) + ")";
}

// Runs the layer's op; an argument error (e.g. a kernel larger than the padded input) gets the layer's
// description in front so the message says which layer of a model failed.
template <typename Fn>
Tensor in_layer_context(const std::string& layer, Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(layer + ": " + e.what());
  }
}

}  // namespace

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Generator& gen, Conv2dOptions options,
               DType dtype, Device device)
    : in_channels_(in_channels), out_channels_(out_channels), options_(options) {
  check_sizes("Conv2d", in_channels, out_channels, kernel_size);
  weight_ = register_parameter("weight", empty({out_channels, in_channels, kernel_size[0], kernel_size[1]}, dtype, device));
  if (options.bias) bias_ = register_parameter("bias", empty({out_channels}, dtype, device));
  init_conv_parameters(weight_, bias_, gen);
}

std::string Conv2d::describe() const {
  return describe_layer("Conv2d", in_channels_, out_channels_, weight_, options_.stride, options_.padding);
}

Tensor Conv2d::forward(const Tensor& x) { return forward_with_weight(x, weight_); }

Tensor Conv2d::forward_with_weight(const Tensor& x, const Tensor& weight) {
  const std::string layer = describe();
  check_input(x, in_channels_, layer);
  check_weight(weight, weight_, layer);
  return in_layer_context(layer, [&] { return conv2d(x, weight, bias_, options_.stride, options_.padding, options_.dilation); });
}

ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Generator& gen,
                                 ConvTranspose2dOptions options, DType dtype, Device device)
    : in_channels_(in_channels), out_channels_(out_channels), options_(options) {
  check_sizes("ConvTranspose2d", in_channels, out_channels, kernel_size);
  weight_ = register_parameter("weight", empty({in_channels, out_channels, kernel_size[0], kernel_size[1]}, dtype, device));
  if (options.bias) bias_ = register_parameter("bias", empty({out_channels}, dtype, device));
  init_conv_parameters(weight_, bias_, gen);
}

std::string ConvTranspose2d::describe() const {
  return describe_layer("ConvTranspose2d", in_channels_, out_channels_, weight_, options_.stride, options_.padding);
}

Tensor ConvTranspose2d::forward(const Tensor& x) { return forward_with_weight(x, weight_); }

Tensor ConvTranspose2d::forward_with_weight(const Tensor& x, const Tensor& weight) {
  const std::string layer = describe();
  check_input(x, in_channels_, layer);
  check_weight(weight, weight_, layer);
  return in_layer_context(layer, [&] {
    return conv_transpose2d(x, weight, bias_, options_.stride, options_.padding, options_.output_padding,
                            options_.dilation);
  });
}

}  // namespace gantry::nn
