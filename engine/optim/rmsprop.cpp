#include "engine/optim/rmsprop.h"

#include <cmath>

#include "engine/dispatch/optim_kernels.h"
#include "engine/ops/ops.h"

namespace gantry::optim {
namespace {

// PyTorch's checks (torch.optim.RMSprop.__init__).
void check_options(const RMSpropOptions& o) {
  GANTRY_CHECK(std::isfinite(o.lr) && o.lr >= 0, "RMSprop: invalid learning rate ", o.lr);
  GANTRY_CHECK(std::isfinite(o.alpha) && o.alpha >= 0, "RMSprop: invalid alpha ", o.alpha);
  GANTRY_CHECK(std::isfinite(o.eps) && o.eps >= 0, "RMSprop: invalid eps ", o.eps);
  GANTRY_CHECK(std::isfinite(o.momentum) && o.momentum >= 0, "RMSprop: invalid momentum ", o.momentum);
  GANTRY_CHECK(std::isfinite(o.weight_decay) && o.weight_decay >= 0, "RMSprop: invalid weight_decay ", o.weight_decay);
}

}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : Optimizer(std::move(params), "RMSprop"), options_(options), state_(params_.size()) {
  check_options(options_);
}

void RMSprop::set_lr(double lr) {
  RMSpropOptions o = options_;
  o.lr = lr;
  check_options(o);
  options_ = o;
}

void RMSprop::step() {
  NoGradGuard no_grad;
  const RMSpropHyper hyper{options_.lr,           options_.alpha,    options_.eps,
                           options_.weight_decay, options_.momentum, options_.centered};
  std::vector<RMSpropSlot> slots[kNumDeviceTypes];
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = checked_grad(i);
    if (!g.defined()) continue;
    ParamState& s = state_[i];
    if (!s.square_avg.defined()) {
      s.square_avg = zero_state(i);
      if (options_.momentum > 0) s.momentum_buffer = zero_state(i);
      if (options_.centered) s.grad_avg = zero_state(i);
    }
    s.step += 1;
    slots[static_cast<int>(params_[i].device().type)].push_back(
        RMSpropSlot{params_[i], g, s.square_avg, s.grad_avg, s.momentum_buffer});
  }
  for (int d = 0; d < kNumDeviceTypes; ++d)
    if (!slots[d].empty()) rmsprop_kernel(static_cast<DeviceType>(d), hyper, slots[d]);
}

OptimizerState RMSprop::state_dict() const {
  OptimizerState out = {{"options.lr", scalar_f64(options_.lr)},
                        {"options.alpha", scalar_f64(options_.alpha)},
                        {"options.eps", scalar_f64(options_.eps)},
                        {"options.weight_decay", scalar_f64(options_.weight_decay)},
                        {"options.momentum", scalar_f64(options_.momentum)},
                        {"options.centered", scalar_f64(options_.centered ? 1.0 : 0.0)}};
  for (size_t i = 0; i < state_.size(); ++i) {
    const ParamState& s = state_[i];
    if (s.step == 0) continue;
    out.emplace_back(state_key(i, "step"), scalar_i64(s.step));
    out.emplace_back(state_key(i, "square_avg"), s.square_avg);
    if (options_.momentum > 0) out.emplace_back(state_key(i, "momentum_buffer"), s.momentum_buffer);
    if (options_.centered) out.emplace_back(state_key(i, "grad_avg"), s.grad_avg);
  }
  return out;
}

void RMSprop::load_state_dict(const OptimizerState& state) {
  check_keys(state, {"lr", "alpha", "eps", "weight_decay", "momentum", "centered"},
             {"step", "square_avg", "momentum_buffer", "grad_avg"});
  const auto index = index_state(state);
  RMSpropOptions o;
  o.lr = loaded_option(index, "lr");
  o.alpha = loaded_option(index, "alpha");
  o.eps = loaded_option(index, "eps");
  o.weight_decay = loaded_option(index, "weight_decay");
  o.momentum = loaded_option(index, "momentum");
  o.centered = loaded_option(index, "centered") != 0;
  check_options(o);
  // Build everything first so a bad state leaves the optimiser untouched.
  NoGradGuard no_grad;
  std::vector<ParamState> loaded(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    ParamState& s = loaded[i];
    s.step = loaded_step(index, i);
    if (s.step == 0) continue;
    s.square_avg = loaded_param_state(index, i, "square_avg");
    if (o.momentum > 0) s.momentum_buffer = loaded_param_state(index, i, "momentum_buffer");
    if (o.centered) s.grad_avg = loaded_param_state(index, i, "grad_avg");
  }
  options_ = o;
  state_ = std::move(loaded);
}

}  // namespace gantry::optim
