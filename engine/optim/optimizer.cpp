#include "engine/optim/optimizer.h"

#include <algorithm>

#include "engine/ops/ops.h"

namespace gantry::optim {

Optimizer::Optimizer(std::vector<Tensor> params, const char* name) : params_(std::move(params)), name_(name) {
  GANTRY_CHECK(!params_.empty(), name_, ": got an empty parameter list");
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    GANTRY_CHECK(p.defined(), name_, ": parameter ", i, " is undefined");
    GANTRY_CHECK(is_floating(p.dtype()), name_, ": parameter ", i, " must be floating point, got ",
                 dtype_name(p.dtype()));
    GANTRY_CHECK(p.is_leaf(), name_, ": parameter ", i, " is not a leaf tensor");
    GANTRY_CHECK(p.is_contiguous(), name_, ": parameter ", i, " (shape ", shape_str(p.shape()),
                 ") must be contiguous");
    for (size_t j = 0; j < i; ++j)
      GANTRY_CHECK(!params_[j].same(p), name_, ": parameter ", i, " appears twice in the list");
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

Tensor Optimizer::checked_grad(size_t i) const {
  const Tensor& p = params_[i];
  Tensor g = p.grad();
  if (!g.defined()) return g;
  GANTRY_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(), name_,
               ": gradient of parameter ", i, " is ", shape_str(g.shape()), " ", dtype_name(g.dtype()), " on ",
               g.device().str(), " but the parameter is ", shape_str(p.shape()), " ", dtype_name(p.dtype()),
               " on ", p.device().str());
  GANTRY_CHECK(p.is_contiguous(), name_, ": parameter ", i, " is no longer contiguous");
  return g.detach().contiguous();
}

Tensor Optimizer::zero_state(size_t i) const {
  return zeros(params_[i].shape(), params_[i].dtype(), params_[i].device());
}

std::string Optimizer::state_key(size_t i, const char* name) {
  return "state." + std::to_string(i) + "." + name;
}

Tensor Optimizer::scalar_f64(double v) { return scalar_tensor(v, DType::f64); }

Tensor Optimizer::scalar_i64(int64_t v) { return from_vector(std::vector<int64_t>{v}, Shape{}); }

std::map<std::string, const Tensor*> Optimizer::index_state(const OptimizerState& state) {
  std::map<std::string, const Tensor*> out;
  for (const auto& [k, t] : state) out[k] = &t;
  return out;
}

const Tensor& Optimizer::find(const std::map<std::string, const Tensor*>& state, const std::string& key) const {
  auto it = state.find(key);
  GANTRY_CHECK(it != state.end() && it->second->defined(), name_, "::load_state_dict: missing key '", key, "'");
  return *it->second;
}

Tensor Optimizer::restore_like_param(size_t i, const Tensor& loaded, const std::string& key) const {
  const Tensor& p = params_[i];
  GANTRY_CHECK(loaded.shape() == p.shape(), name_, "::load_state_dict: '", key, "' has shape ",
               shape_str(loaded.shape()), " but parameter ", i, " has shape ", shape_str(p.shape()));
  Tensor out = empty(p.shape(), p.dtype(), p.device());
  Tensor src = loaded.detach();
  if (src.device() != p.device()) src = src.to(p.device());
  copy_(out, src);
  return out;
}

double Optimizer::loaded_option(const std::map<std::string, const Tensor*>& state, const char* name) const {
  return find(state, std::string("options.") + name).item<double>();
}

int64_t Optimizer::loaded_step(const std::map<std::string, const Tensor*>& state, size_t i) const {
  const std::string key = state_key(i, "step");
  if (!state.count(key)) return 0;
  const int64_t step = find(state, key).item<int64_t>();
  GANTRY_CHECK(step >= 1, name_, "::load_state_dict: '", key, "' is ", step, " (expected >= 1)");
  return step;
}

Tensor Optimizer::loaded_param_state(const std::map<std::string, const Tensor*>& state, size_t i,
                                     const char* name) const {
  const std::string key = state_key(i, name);
  return restore_like_param(i, find(state, key), key);
}

void Optimizer::check_keys(const OptimizerState& state, const std::vector<std::string>& option_names,
                           const std::vector<std::string>& state_names) const {
  const auto known = [](const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  for (const auto& [key, t] : state) {
    bool ok = false;
    if (key.rfind("options.", 0) == 0) {
      ok = known(option_names, key.substr(8));
    } else if (key.rfind("state.", 0) == 0) {
      const size_t dot = key.find('.', 6);
      const std::string index = key.substr(6, dot == std::string::npos ? std::string::npos : dot - 6);
      const bool numeric = !index.empty() && index.find_first_not_of("0123456789") == std::string::npos;
      ok = numeric && dot != std::string::npos && std::stoull(index) < params_.size() &&
           known(state_names, key.substr(dot + 1));
    }
    GANTRY_CHECK(ok, name_, "::load_state_dict: unexpected key '", key, "' (optimiser has ", params_.size(),
                 " parameters)");
  }
}

}  // namespace gantry::optim
