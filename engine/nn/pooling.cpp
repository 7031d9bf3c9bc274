#include "engine/nn/pooling.h"

namespace gantry::nn {

Tensor AvgPool2d::forward(const Tensor& x) {
  return avg_pool2d(x, kernel_size_, stride_, padding_, count_include_pad_);
}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel_size_, stride_, padding_); }

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size_); }

Tensor Upsample::forward(const Tensor& x) {
  return mode_ == Mode::nearest ? interpolate_nearest(x, scale_factor_) : interpolate_bilinear(x, scale_factor_);
}

}  // namespace gantry::nn
