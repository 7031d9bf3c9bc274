#pragma once
// Optimiser base: holds the parameter handles (the same tensors the Module owns) and the per-parameter
// state. state_dict() is a flat list of named tensors ("state.<i>.<name>" per parameter index i, and
// "options.<name>" hyperparameters as float64 scalars) that fits in a safetensors checkpoint and
// restores a bit-identical continuation with load_state_dict().
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::optim {

using OptimizerState = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, const char* name);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter that has a gradient; parameters without one are skipped (their state
  // and step count do not advance), as in PyTorch.
  virtual void step() = 0;
  // Drops every parameter's .grad.
  void zero_grad();

  virtual OptimizerState state_dict() const = 0;
  virtual void load_state_dict(const OptimizerState& state) = 0;

  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;

  const std::vector<Tensor>& params() const { return params_; }

 protected:
  // The gradient of params_[i] checked against the parameter and made contiguous, or an undefined
  // tensor when the parameter has none.
  Tensor checked_grad(size_t i) const;
  // A new state tensor equal to zeros_like(params_[i]).
  Tensor zero_state(size_t i) const;
  // Helpers for (de)serialising state.
  static std::string state_key(size_t i, const char* name);
  static Tensor scalar_f64(double v);
  static Tensor scalar_i64(int64_t v);
  // Looks up a key in a loaded state; throws naming the optimiser and key when absent.
  const Tensor& find(const std::map<std::string, const Tensor*>& state, const std::string& key) const;
  static std::map<std::string, const Tensor*> index_state(const OptimizerState& state);
  // A copy of a loaded state tensor with params_[i]'s shape, dtype and device (throws on a shape mismatch).
  Tensor restore_like_param(size_t i, const Tensor& loaded, const std::string& key) const;
  // The loaded "options.<name>" as a double; throws naming the key when absent.
  double loaded_option(const std::map<std::string, const Tensor*>& state, const char* name) const;
  // The loaded "state.<i>.step": 0 when the state has none for parameter i (it was never updated),
  // else checked to be >= 1.
  int64_t loaded_step(const std::map<std::string, const Tensor*>& state, size_t i) const;
  // restore_like_param of the loaded "state.<i>.<name>"; throws naming the key when absent.
  Tensor loaded_param_state(const std::map<std::string, const Tensor*>& state, size_t i, const char* name) const;
  // Rejects keys that are not "options.*" or "state.<i>.<name>" with a known name and i in range.
  void check_keys(const OptimizerState& state, const std::vector<std::string>& option_names,
                  const std::vector<std::string>& state_names) const;

  std::vector<Tensor> params_;
  const char* name_;
};

}  // namespace gantry::optim
