#pragma once
// SAGAN's self-attention block (Zhang et al. 2019) in the layout of BigGAN's "Attention" layer. For
// x [N, C, H, W] and four bias-free 1x1 projections theta, phi (C -> C/8), g (C -> C/2), o (C/2 -> C):
//
//   q = theta(x)                 as [N, HW, C/8]        (every position asks)
//   k = max_pool2x2(phi(x))      as [N, HW/4, C/8]      (a quarter of the positions answer)
//   v = max_pool2x2(g(x))        as [N, HW/4, C/2]
//   out = x + gamma * o(attention(q, k, v) as [N, C/2, H, W])
//
// with attention(q, k, v) = softmax(q k^T) v (no 1/sqrt(d) scale) and gamma a learned scalar that
// starts at 0, so the block starts as the identity. State dict: gamma, theta.weight, phi.weight,
// g.weight, o.weight, as a torch module with those children. C must be a multiple of 8 and H, W even.
//
// The projections are child modules made by a factory, so a model can swap in other 1x1 maps with
// the same shapes (e.g. spectrally normalised convolutions) without changing the block.
#include <functional>
#include <memory>
#include <string>

#include "engine/nn/module.h"
#include "engine/random/generator.h"

namespace gantry::nn {

// Makes one projection: a module mapping [N, in_channels, H, W] -> [N, out_channels, H, W].
using ProjectionFactory = std::function<std::shared_ptr<Module>(int64_t in_channels, int64_t out_channels)>;

// Bias-free 1x1 Conv2d projections with torch's default initialisation, drawn from `gen` (which must
// outlive the factory's calls).
ProjectionFactory conv1x1_projections(Generator& gen, DType dtype = DType::f32, Device device = kCPU);

class SelfAttention : public Module {
 public:
  // Plain 1x1 Conv2d projections (conv1x1_projections).
  SelfAttention(int64_t channels, Generator& gen, DType dtype = DType::f32, Device device = kCPU);
  // Projections from `make_projection`, called for theta, phi, g and o in that order; gamma gets
  // `dtype` and `device`.
  SelfAttention(int64_t channels, const ProjectionFactory& make_projection, DType dtype = DType::f32,
                Device device = kCPU);

  Tensor forward(const Tensor& x) override;

  int64_t channels() const { return channels_; }
  const Tensor& gamma() const { return gamma_; }  // 0-dim
  Module& theta() const { return *theta_; }
  Module& phi() const { return *phi_; }
  Module& g() const { return *g_; }
  Module& o() const { return *o_; }
  // "SelfAttention(64)" for error messages.
  std::string describe() const;

 private:
  // Runs a projection and checks that it kept the promised shape.
  Tensor project(Module& m, const char* name, const Tensor& x, int64_t out_channels) const;

  int64_t channels_;
  Tensor gamma_;
  std::shared_ptr<Module> theta_, phi_, g_, o_;
};

}  // namespace gantry::nn
