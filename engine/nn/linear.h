#pragma once
// Linear: y = x W^T + b with W [out, in], b [out], initialised like torch.nn.Linear:
// W ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), b ~ U(-1/sqrt(in), 1/sqrt(in)).
#include "engine/nn/module.h"
#include "engine/random/generator.h"

namespace gantry::nn {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen, DType dtype = DType::f32,
         Device device = kCPU);

  Tensor forward(const Tensor& x) override;
  // The layer with `weight` (same shape as its own) in place of its own: the hook through which a
  // reparametrisation such as SpectralNormed supplies the weight it computes from weight_orig.
  Tensor forward_with_weight(const Tensor& x, const Tensor& weight);

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 private:
  int64_t in_features_, out_features_;
  Tensor weight_, bias_;
};

}  // namespace gantry::nn
