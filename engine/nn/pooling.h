#pragma once
// Parameter-free pooling and resampling modules (for Sequential), forwarding to engine/ops/nn_ops.h
// with torch.nn's argument conventions (stride defaults to the kernel size).
#include <optional>

#include "engine/nn/module.h"
#include "engine/ops/nn_ops.h"

namespace gantry::nn {

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0},
                     bool count_include_pad = true)
      : kernel_size_(kernel_size), stride_(stride), padding_(padding), count_include_pad_(count_include_pad) {}
  Tensor forward(const Tensor& x) override;

 private:
  Size2 kernel_size_;
  std::optional<Size2> stride_;
  Size2 padding_;
  bool count_include_pad_;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0})
      : kernel_size_(kernel_size), stride_(stride), padding_(padding) {}
  Tensor forward(const Tensor& x) override;

 private:
  Size2 kernel_size_;
  std::optional<Size2> stride_;
  Size2 padding_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {}
  Tensor forward(const Tensor& x) override;

 private:
  Size2 output_size_;
};

// Upsample by a scale factor: nearest (torch's "nearest") or bilinear with align_corners = false.
class Upsample : public Module {
 public:
  enum class Mode { nearest, bilinear };
  explicit Upsample(double scale_factor, Mode mode = Mode::nearest) : scale_factor_(scale_factor), mode_(mode) {}
  Tensor forward(const Tensor& x) override;

 private:
  double scale_factor_;
  Mode mode_;
};

}  // namespace gantry::nn
