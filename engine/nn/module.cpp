#include "engine/nn/module.h"

#include <map>
#include <sstream>

#include "engine/ops/ops.h"

namespace gantry::nn {
namespace {

// Rebinds `t`'s handle to `value`'s storage and geometry, so every copy of the handle sees it.
void rebind_in_place(Tensor& t, const Tensor& value) {
  TensorImpl& dst = t.impl();
  const TensorImpl& src = value.impl();
  dst.storage = src.storage;
  dst.shape = src.shape;
  dst.strides = src.strides;
  dst.offset = src.offset;
  dst.dtype = src.dtype;
}

std::string join_keys(const std::vector<std::string>& keys) {
  std::ostringstream os;
  for (size_t i = 0; i < keys.size(); ++i) os << (i ? ", " : "") << keys[i];
  return os.str();
}

}  // namespace

Tensor Module::forward(const Tensor&) {
  GANTRY_FAIL("Module::forward: this module does not define forward(Tensor)");
}

void Module::check_new_name(const std::string& name) const {
  GANTRY_CHECK(!name.empty() && name.find('.') == std::string::npos,
               "Module: invalid name '", name, "' (must be non-empty and contain no '.')");
  const auto taken = [&](const auto& list) {
    for (const auto& [n, v] : list)
      if (n == name) return true;
    return false;
  };
  GANTRY_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), "Module: name '", name,
               "' is already registered");
}

Tensor& Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name);
  GANTRY_CHECK(value.defined(), "Module::register_parameter: '", name, "' is undefined");
  GANTRY_CHECK(value.is_leaf(), "Module::register_parameter: '", name,
               "' must be a leaf tensor (detach() it first)");
  GANTRY_CHECK(is_floating(value.dtype()), "Module::register_parameter: '", name,
               "' must be floating point, got ", dtype_name(value.dtype()));
  value.set_requires_grad(true);
  parameters_.emplace_back(name, std::move(value));
  return parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name);
  GANTRY_CHECK(value.defined(), "Module::register_buffer: '", name, "' is undefined");
  buffers_.emplace_back(name, value.detach());
  return buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name);
  GANTRY_CHECK(module != nullptr, "Module::register_module: '", name, "' is null");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [n, t] : params ? parameters_ : buffers_) out.emplace_back(prefix + n, t);
  for (const auto& [n, child] : children_) child->collect(prefix + n + ".", params, out);
}

void Module::collect_state(const std::string& prefix, NamedTensors& out) const {
  for (const auto& [n, t] : parameters_) out.emplace_back(prefix + n, t);
  for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
  for (const auto& [n, child] : children_) child->collect_state(prefix + n + ".", out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

StateDict Module::state_dict() const {
  NamedTensors out;
  collect_state("", out);
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [n, t] : state) {
    GANTRY_CHECK(t.defined(), "load_state_dict: tensor '", n, "' is undefined");
    given[n] = &t;
  }
  NamedTensors own = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  std::map<std::string, bool> known;
  for (const auto& [n, t] : own) {
    known[n] = true;
    auto it = given.find(n);
    if (it == given.end()) {
      missing.push_back(n);
    } else if (it->second->shape() != t.shape()) {
      mismatched.push_back(n + " (checkpoint " + shape_str(it->second->shape()) + ", model " +
                           shape_str(t.shape()) + ")");
    }
  }
  for (const auto& [n, t] : state)
    if (!known.count(n)) unexpected.push_back(n);
  std::ostringstream err;
  if (!mismatched.empty()) err << " shape mismatch: " << join_keys(mismatched) << ";";
  if (strict && !missing.empty()) err << " missing keys: " << join_keys(missing) << ";";
  if (strict && !unexpected.empty()) err << " unexpected keys: " << join_keys(unexpected) << ";";
  GANTRY_CHECK(err.str().empty(), "load_state_dict:", err.str());

  NoGradGuard no_grad;
  for (auto& [n, t] : own) {
    auto it = given.find(n);
    if (it == given.end()) continue;
    Tensor src = it->second->detach();
    if (src.device() != t.device()) src = src.to(t.device());
    copy_(t, src);
  }
}

void Module::train(bool on) {
  training_ = on;
  on_train_mode_changed();
  for (auto& [n, child] : children_) child->train(on);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  const auto move = [&](Tensor& t) {
    if (t.device() == device) return;
    t.zero_grad();
    rebind_in_place(t, t.detach().to(device));
  };
  for (auto& [n, t] : parameters_) move(t);
  for (auto& [n, t] : buffers_) move(t);
  for (auto& [n, child] : children_) child->to(device);
}

void Module::zero_grad() {
  for (auto& [n, t] : parameters_) t.zero_grad();
  for (auto& [n, child] : children_) child->zero_grad();
}

}  // namespace gantry::nn
