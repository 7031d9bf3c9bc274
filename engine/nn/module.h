#pragma once
// nn::Module: a tree of named parameters, buffers and child modules with PyTorch's naming
// ("0.weight", "block.norm.running_mean") so state dicts move between gantry and PyTorch.
// Parameters are leaf tensors with requires_grad; buffers are state without gradients.
// A Module hands out Tensor handles that stay valid for its lifetime: to(device) and
// load_state_dict() change the tensors in place, so optimisers holding the handles keep working.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using StateDict = NamedTensors;  // parameters then buffers, module by module (PyTorch's order)

class Module {
 public:
  virtual ~Module() = default;

  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Registration returns the registered tensor/module. Names must be unique within the module and
  // must not contain '.'.
  Tensor& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  std::vector<Tensor> parameters() const;
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }

  StateDict state_dict() const;
  // Copies values into the registered tensors (dtype converted, device kept). With strict, missing
  // and unexpected keys are errors; shape mismatches always are. Errors list every offending key.
  void load_state_dict(const StateDict& state, bool strict = true);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves every parameter and buffer to `device` in place (handles held elsewhere see the move);
  // gradients are dropped.
  void to(Device device);
  // Drops every parameter's .grad.
  void zero_grad();

 protected:
  // Called by train(); modules whose behaviour depends on the mode may override and call the base.
  virtual void on_train_mode_changed() {}

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;
  void collect_state(const std::string& prefix, NamedTensors& out) const;

  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace gantry::nn
