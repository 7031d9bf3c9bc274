#pragma once
// Sequential: children named "0", "1", ... applied in order (PyTorch's nn.Sequential naming).
#include <initializer_list>
#include <memory>

#include "engine/nn/module.h"

namespace gantry::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);

  // Appends a module under the next index; returns *this for chaining.
  Sequential& push_back(std::shared_ptr<Module> module);
  size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;

  Tensor forward(const Tensor& x) override;

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace gantry::nn
