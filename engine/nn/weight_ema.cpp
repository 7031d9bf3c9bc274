#include "engine/nn/weight_ema.h"

#include <cmath>
#include <map>

#include "engine/dispatch/optim_kernels.h"
#include "engine/ops/ops.h"
#include "engine/optim/device_groups.h"

namespace gantry::nn {

WeightEma::WeightEma(const Module& source, WeightEmaOptions options) : options_(options) {
  GANTRY_CHECK(std::isfinite(options.decay) && options.decay >= 0 && options.decay <= 1,
               "WeightEma: decay must be in [0, 1], got ", options.decay);
  GANTRY_CHECK(options.start_step >= 0, "WeightEma: start_step must be >= 0, got ", options.start_step);
  NoGradGuard no_grad;
  for (const auto& [name, t] : source.state_dict()) {
    source_.emplace_back(name, t);
    shadow_.emplace_back(name, t.detach().clone());
  }
  GANTRY_CHECK(!source_.empty(), "WeightEma: the module has no parameters or buffers");
}

void WeightEma::update(int64_t step) {
  GANTRY_CHECK(step >= 0, "WeightEma::update: the step must be >= 0, got ", step);
  NoGradGuard no_grad;
  const bool average = step >= options_.start_step;
  std::vector<EmaSlot> slots;
  for (size_t i = 0; i < source_.size(); ++i) {
    const auto& [name, src] = source_[i];
    Tensor& shadow = shadow_[i].second;
    GANTRY_CHECK(src.shape() == shadow.shape() && src.dtype() == shadow.dtype() && src.device() == shadow.device(),
                 "WeightEma::update: '", name, "' is ", shape_str(src.shape()), " ", dtype_name(src.dtype()), " on ",
                 src.device().str(), " but its shadow is ", shape_str(shadow.shape()), " ", dtype_name(shadow.dtype()),
                 " on ", shadow.device().str(), " (after moving the module, call to())");
    if (average && is_floating(src.dtype())) {
      slots.push_back(EmaSlot{shadow, src.detach().contiguous()});
    } else {
      copy_(shadow, src.detach());
    }
  }
  for (auto& [device, group] :
       optim::group_by_device(std::move(slots), [](const EmaSlot& s) { return s.shadow.device(); }))
    ema_kernel(device.type, options_.decay, group);
}

void WeightEma::copy_to(Module& target) const {
  try {
    target.load_state_dict(shadow_);
  } catch (const Error& e) {
    GANTRY_FAIL("WeightEma::copy_to: the target module does not match the averaged one: ", e.what());
  }
}

StateDict WeightEma::state_dict() const {
  StateDict out;
  for (const auto& [name, t] : shadow_) out.emplace_back(kPrefix + name, t);
  return out;
}

void WeightEma::load_state_dict(const StateDict& state) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [key, t] : state) given[key] = &t;
  NoGradGuard no_grad;
  NamedTensors loaded;
  for (const auto& [name, own] : shadow_) {
    const std::string key = kPrefix + name;
    const auto it = given.find(key);
    GANTRY_CHECK(it != given.end() && it->second->defined(), "WeightEma::load_state_dict: missing key '", key, "'");
    const Tensor& t = *it->second;
    GANTRY_CHECK(t.shape() == own.shape(), "WeightEma::load_state_dict: '", key, "' has shape ", shape_str(t.shape()),
                 " but the module's '", name, "' has shape ", shape_str(own.shape()));
    Tensor copy = empty(own.shape(), own.dtype(), own.device());
    copy_(copy, t.device() == own.device() ? t.detach() : t.detach().to(own.device()));
    loaded.emplace_back(name, copy);
    given.erase(it);
  }
  for (const auto& [key, t] : state)
    GANTRY_CHECK(!given.count(key), "WeightEma::load_state_dict: unexpected key '", key, "' (the module has no '",
                 key.rfind(kPrefix, 0) == 0 ? key.substr(std::char_traits<char>::length(kPrefix)) : key, "')");
  shadow_ = std::move(loaded);
}

void WeightEma::to(Device device) {
  NoGradGuard no_grad;
  for (auto& [name, t] : shadow_)
    if (t.device() != device) t = t.to(device);
}

}  // namespace gantry::nn
