#include "engine/optim/adam.h"

#include <cmath>

#include "engine/dispatch/optim_kernels.h"
#include "engine/ops/ops.h"

namespace gantry::optim {
namespace {

void check_options(const AdamOptions& o) {
  GANTRY_CHECK(std::isfinite(o.lr) && o.lr >= 0, "Adam: invalid learning rate ", o.lr);
  GANTRY_CHECK(o.beta1 >= 0 && o.beta1 < 1, "Adam: invalid beta1 ", o.beta1, " (expected [0, 1))");
  GANTRY_CHECK(o.beta2 >= 0 && o.beta2 < 1, "Adam: invalid beta2 ", o.beta2, " (expected [0, 1))");
  GANTRY_CHECK(o.eps >= 0, "Adam: invalid eps ", o.eps);
  GANTRY_CHECK(o.weight_decay >= 0, "Adam: invalid weight_decay ", o.weight_decay);
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Optimizer(std::move(params), "Adam"), options_(options), state_(params_.size()) {
  check_options(options_);
}

void Adam::set_lr(double lr) {
  AdamOptions o = options_;
  o.lr = lr;
  check_options(o);
  options_ = o;
}

void Adam::step() {
  NoGradGuard no_grad;
  const AdamHyper hyper{options_.lr, options_.beta1, options_.beta2, options_.eps, options_.weight_decay,
                        options_.amsgrad};
  std::vector<AdamSlot> slots[kNumDeviceTypes];
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = checked_grad(i);
    if (!g.defined()) continue;
    ParamState& s = state_[i];
    if (!s.exp_avg.defined()) {
      s.exp_avg = zero_state(i);
      s.exp_avg_sq = zero_state(i);
      if (options_.amsgrad) s.max_exp_avg_sq = zero_state(i);
    }
    s.step += 1;
    slots[static_cast<int>(params_[i].device().type)].push_back(
        AdamSlot{params_[i], g, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, s.step});
  }
  for (int d = 0; d < kNumDeviceTypes; ++d)
    if (!slots[d].empty()) adam_kernel(static_cast<DeviceType>(d), hyper, slots[d]);
}

OptimizerState Adam::state_dict() const {
  OptimizerState out = {{"options.lr", scalar_f64(options_.lr)},
                        {"options.beta1", scalar_f64(options_.beta1)},
                        {"options.beta2", scalar_f64(options_.beta2)},
                        {"options.eps", scalar_f64(options_.eps)},
                        {"options.weight_decay", scalar_f64(options_.weight_decay)},
                        {"options.amsgrad", scalar_f64(options_.amsgrad ? 1.0 : 0.0)}};
  for (size_t i = 0; i < state_.size(); ++i) {
    const ParamState& s = state_[i];
    if (s.step == 0) continue;
    out.emplace_back(state_key(i, "step"), scalar_i64(s.step));
    out.emplace_back(state_key(i, "exp_avg"), s.exp_avg);
    out.emplace_back(state_key(i, "exp_avg_sq"), s.exp_avg_sq);
    if (options_.amsgrad) out.emplace_back(state_key(i, "max_exp_avg_sq"), s.max_exp_avg_sq);
  }
  return out;
}

void Adam::load_state_dict(const OptimizerState& state) {
  check_keys(state, {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"},
             {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
  const auto index = index_state(state);
  AdamOptions o;
  o.lr = loaded_option(index, "lr");
  o.beta1 = loaded_option(index, "beta1");
  o.beta2 = loaded_option(index, "beta2");
  o.eps = loaded_option(index, "eps");
  o.weight_decay = loaded_option(index, "weight_decay");
  o.amsgrad = loaded_option(index, "amsgrad") != 0;
  check_options(o);
  // Build everything first so a bad state leaves the optimiser untouched.
  NoGradGuard no_grad;
  std::vector<ParamState> loaded(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    ParamState& s = loaded[i];
    s.step = loaded_step(index, i);
    if (s.step == 0) continue;
    s.exp_avg = loaded_param_state(index, i, "exp_avg");
    s.exp_avg_sq = loaded_param_state(index, i, "exp_avg_sq");
    if (o.amsgrad) s.max_exp_avg_sq = loaded_param_state(index, i, "max_exp_avg_sq");
  }
  options_ = o;
  state_ = std::move(loaded);
}

}  // namespace gantry::optim
