#pragma once
// RMSprop (Hinton's lecture 6e) with the semantics of torch.optim.RMSprop:
//   g = grad + wd * p;  v = alpha v + (1 - alpha) g^2
//   centered: a = alpha a + (1 - alpha) g;  avg = sqrt(v - a^2) + eps   (else avg = sqrt(v) + eps)
//   momentum > 0: buf = momentum buf + g / avg;  p = p - lr buf          (else p = p - lr g / avg)
// eps is added outside the square root, as in PyTorch (TensorFlow adds it inside). One fused kernel
// call per step and device (engine/dispatch/optim_kernels.h).
#include "engine/optim/optimizer.h"

namespace gantry::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});

  void step() override;
  // Keys: "options.<lr|alpha|eps|weight_decay|momentum|centered>" and, per parameter i that has
  // been updated, "state.<i>.step", "state.<i>.square_avg", "state.<i>.momentum_buffer" (momentum > 0)
  // and "state.<i>.grad_avg" (centered): PyTorch's state names.
  OptimizerState state_dict() const override;
  void load_state_dict(const OptimizerState& state) override;
  double lr() const override { return options_.lr; }
  void set_lr(double lr) override;

  const RMSpropOptions& options() const { return options_; }
  // Steps taken by parameter i (0 before its first update).
  int64_t step_count(size_t i) const { return state_.at(i).step; }
  const Tensor& square_avg(size_t i) const { return state_.at(i).square_avg; }
  const Tensor& grad_avg(size_t i) const { return state_.at(i).grad_avg; }
  const Tensor& momentum_buffer(size_t i) const { return state_.at(i).momentum_buffer; }

 private:
  struct ParamState {
    int64_t step = 0;
    Tensor square_avg, grad_avg, momentum_buffer;  // undefined until the first step (or when unused)
  };
  RMSpropOptions options_;
  std::vector<ParamState> state_;
};

}  // namespace gantry::optim
