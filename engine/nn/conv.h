#pragma once
// Conv2d and ConvTranspose2d modules with torch.nn's parameter names and default initialisation:
// weight ~ kaiming_uniform(a = sqrt(5)) and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), where fan_in
// follows PyTorch's rule for the weight tensor (size(1) * KH * KW: in_channels * KH * KW for Conv2d,
// out_channels * KH * KW for ConvTranspose2d, whose weight is [in, out, KH, KW]).
#include <string>

#include "engine/nn/module.h"
#include "engine/ops/nn_ops.h"
#include "engine/random/generator.h"

namespace gantry::nn {

struct Conv2dOptions {
  Size2 stride{1, 1};
  Size2 padding{0, 0};
  Size2 dilation{1, 1};
  bool bias = true;
};

struct ConvTranspose2dOptions {
  Size2 stride{1, 1};
  Size2 padding{0, 0};
  Size2 output_padding{0, 0};
  Size2 dilation{1, 1};
  bool bias = true;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Generator& gen, Conv2dOptions options = {},
         DType dtype = DType::f32, Device device = kCPU);

  Tensor forward(const Tensor& x) override;
  // The layer with `weight` (same shape as its own) in place of its own: the hook through which a
  // reparametrisation such as SpectralNormed supplies the weight it computes from weight_orig.
  Tensor forward_with_weight(const Tensor& x, const Tensor& weight);

  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  const Conv2dOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // [out, in, KH, KW]
  const Tensor& bias() const { return bias_; }      // [out]; undefined without bias
  // "Conv2d(3, 64, kernel_size=4x4, stride=2x2, padding=1x1)" for error messages.
  std::string describe() const;

 private:
  int64_t in_channels_, out_channels_;
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Generator& gen,
                  ConvTranspose2dOptions options = {}, DType dtype = DType::f32, Device device = kCPU);

  Tensor forward(const Tensor& x) override;
  Tensor forward_with_weight(const Tensor& x, const Tensor& weight);  // as Conv2d's

  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  const ConvTranspose2dOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // [in, out, KH, KW]
  const Tensor& bias() const { return bias_; }      // [out]; undefined without bias
  std::string describe() const;

 private:
  int64_t in_channels_, out_channels_;
  ConvTranspose2dOptions options_;
  Tensor weight_, bias_;
};

}  // namespace gantry::nn
