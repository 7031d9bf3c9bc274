#pragma once
// Adam (Kingma & Ba) with PyTorch's semantics: bias-corrected moments, L2 weight decay added to the
// gradient, optional AMSGrad (the running max of the second moment). One fused kernel call per step
// (engine/dispatch/optim_kernels.h).
#include "engine/optim/optimizer.h"

namespace gantry::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});

  void step() override;
  OptimizerState state_dict() const override;
  void load_state_dict(const OptimizerState& state) override;
  double lr() const override { return options_.lr; }
  void set_lr(double lr) override;

  const AdamOptions& options() const { return options_; }
  // Steps taken by parameter i (0 before its first update).
  int64_t step_count(size_t i) const { return state_.at(i).step; }
  const Tensor& exp_avg(size_t i) const { return state_.at(i).exp_avg; }
  const Tensor& exp_avg_sq(size_t i) const { return state_.at(i).exp_avg_sq; }

 private:
  struct ParamState {
    int64_t step = 0;
    Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;  // undefined until the first step
  };
  AdamOptions options_;
  std::vector<ParamState> state_;
};

}  // namespace gantry::optim
