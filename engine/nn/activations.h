#pragma once
// Parameter-free activation modules (for Sequential); each forwards to the op in engine/ops/ops.h.
#include "engine/nn/module.h"

namespace gantry::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_;
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

}  // namespace gantry::nn
