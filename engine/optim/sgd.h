#pragma once
// SGD with momentum, dampening, L2 weight decay and Nesterov momentum, with PyTorch's semantics.
#include "engine/optim/optimizer.h"

namespace gantry::optim {

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options = {});

  void step() override;
  OptimizerState state_dict() const override;
  void load_state_dict(const OptimizerState& state) override;
  double lr() const override { return options_.lr; }
  void set_lr(double lr) override;

  const SGDOptions& options() const { return options_; }

 private:
  SGDOptions options_;
  std::vector<Tensor> momentum_buffers_;  // undefined until a parameter's first momentum step
};

}  // namespace gantry::optim
