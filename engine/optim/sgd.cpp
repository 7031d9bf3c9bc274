#include "engine/optim/sgd.h"

#include <cmath>

#include "engine/dispatch/optim_kernels.h"
#include "engine/ops/ops.h"

namespace gantry::optim {
namespace {

void check_options(const SGDOptions& o) {
  GANTRY_CHECK(std::isfinite(o.lr) && o.lr >= 0, "SGD: invalid learning rate ", o.lr);
  GANTRY_CHECK(o.momentum >= 0, "SGD: invalid momentum ", o.momentum);
  GANTRY_CHECK(o.weight_decay >= 0, "SGD: invalid weight_decay ", o.weight_decay);
  GANTRY_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
               "SGD: Nesterov momentum requires momentum > 0 and zero dampening");
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer(std::move(params), "SGD"), options_(options), momentum_buffers_(params_.size()) {
  check_options(options_);
}

void SGD::set_lr(double lr) {
  SGDOptions o = options_;
  o.lr = lr;
  check_options(o);
  options_ = o;
}

void SGD::step() {
  NoGradGuard no_grad;
  const SGDHyper hyper{options_.lr, options_.momentum, options_.dampening, options_.weight_decay,
                       options_.nesterov};
  std::vector<SGDSlot> slots[kNumDeviceTypes];
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = checked_grad(i);
    if (!g.defined()) continue;
    bool first = false;
    if (options_.momentum != 0 && !momentum_buffers_[i].defined()) {
      momentum_buffers_[i] = zero_state(i);
      first = true;
    }
    slots[static_cast<int>(params_[i].device().type)].push_back(
        SGDSlot{params_[i], g, momentum_buffers_[i], first});
  }
  for (int d = 0; d < kNumDeviceTypes; ++d)
    if (!slots[d].empty()) sgd_kernel(static_cast<DeviceType>(d), hyper, slots[d]);
}

OptimizerState SGD::state_dict() const {
  OptimizerState out = {{"options.lr", scalar_f64(options_.lr)},
                        {"options.momentum", scalar_f64(options_.momentum)},
                        {"options.dampening", scalar_f64(options_.dampening)},
                        {"options.weight_decay", scalar_f64(options_.weight_decay)},
                        {"options.nesterov", scalar_f64(options_.nesterov ? 1.0 : 0.0)}};
  for (size_t i = 0; i < momentum_buffers_.size(); ++i)
    if (momentum_buffers_[i].defined()) out.emplace_back(state_key(i, "momentum_buffer"), momentum_buffers_[i]);
  return out;
}

void SGD::load_state_dict(const OptimizerState& state) {
  check_keys(state, {"lr", "momentum", "dampening", "weight_decay", "nesterov"}, {"momentum_buffer"});
  const auto index = index_state(state);
  SGDOptions o;
  o.lr = loaded_option(index, "lr");
  o.momentum = loaded_option(index, "momentum");
  o.dampening = loaded_option(index, "dampening");
  o.weight_decay = loaded_option(index, "weight_decay");
  o.nesterov = loaded_option(index, "nesterov") != 0;
  check_options(o);
  NoGradGuard no_grad;
  std::vector<Tensor> buffers(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    if (index.count(state_key(i, "momentum_buffer"))) buffers[i] = loaded_param_state(index, i, "momentum_buffer");
  }
  options_ = o;
  momentum_buffers_ = std::move(buffers);
}

}  // namespace gantry::optim
