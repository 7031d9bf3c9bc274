#pragma once
// Class-conditional batch normalisation (de Vries et al. 2017; SNGAN, BigGAN): a BatchNorm2d without
// affine parameters, then a per-sample, per-channel gain and bias computed from the sample's condition:
//
//   CategoricalConditionalBatchNorm2d (SNGAN / cGAN-with-projection style): the condition is an int64
//     class index y [N];  out = bn(x) * gain[y] + bias[y], with tables gain [K, C] initialised to 1
//     and bias [K, C] initialised to 0 (so every class starts as the plain normalisation).
//   ProjectedConditionalBatchNorm2d (BigGAN style): the condition is a vector c [N, D] (BigGAN: the
//     shared class embedding concatenated with a chunk of the latent);
//     out = bn(x) * (1 + gain(c)) + bias(c), gain and bias bias-free Linear(D, C) (optionally
//     spectrally normalised), so a zero projection is the plain normalisation.
//
// State-dict names: "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" (the BatchNorm2d
// child, affine = false), then "gain.weight" and "bias.weight" (with spectral norm: "gain.weight_orig",
// "gain.weight_u", "gain.weight_v", likewise for bias). The running statistics are the child's, so
// momentum = nullopt and bn().reset_running_stats() give BigGAN's standing statistics.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/nn/embedding.h"
#include "engine/nn/module.h"
#include "engine/nn/norm.h"
#include "engine/random/generator.h"

namespace gantry::nn {

struct ConditionalBatchNormOptions {
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;  // nullopt: cumulative average (standing statistics)
  bool track_running_stats = true;
};

class ConditionalBatchNorm2d : public Module {
 public:
  // x [N, C, H, W] with C = num_features; condition as the subclass defines it, one per sample.
  // The condition is checked before the running statistics are touched.
  Tensor forward(const Tensor& x, const Tensor& condition);
  Tensor operator()(const Tensor& x, const Tensor& condition) { return forward(x, condition); }

  int64_t num_features() const { return bn_->num_features(); }
  BatchNorm2d& bn() { return *bn_; }
  const BatchNorm2d& bn() const { return *bn_; }
  // "CategoricalConditionalBatchNorm2d(64, num_classes=10)", for error messages.
  virtual std::string describe() const = 0;

 protected:
  ConditionalBatchNorm2d(int64_t num_features, const ConditionalBatchNormOptions& options, DType dtype, Device device);
  // The per-sample multiplier and offset, each [n, C], for the conditions of a batch of n samples.
  virtual std::pair<Tensor, Tensor> scale_and_shift(const Tensor& condition, int64_t n) = 0;

 private:
  std::shared_ptr<BatchNorm2d> bn_;
};

class CategoricalConditionalBatchNorm2d : public ConditionalBatchNorm2d {
 public:
  CategoricalConditionalBatchNorm2d(int64_t num_features, int64_t num_classes,
                                    const ConditionalBatchNormOptions& options = {}, DType dtype = DType::f32,
                                    Device device = kCPU);

  std::string describe() const override;
  int64_t num_classes() const { return gain_->num_embeddings(); }
  Embedding& gain() { return *gain_; }  // [num_classes, C], the multiplier itself
  Embedding& bias() { return *bias_; }

 protected:
  std::pair<Tensor, Tensor> scale_and_shift(const Tensor& condition, int64_t n) override;

 private:
  std::shared_ptr<Embedding> gain_, bias_;
};

class ProjectedConditionalBatchNorm2d : public ConditionalBatchNorm2d {
 public:
  // gain and bias start as torch.nn.Linear's default init (drawn from gen, gain first); with
  // spectral_norm each is wrapped in SpectralNormed (u, v drawn right after its weight).
  ProjectedConditionalBatchNorm2d(int64_t num_features, int64_t condition_dim, Generator& gen,
                                  bool spectral_norm = false, const ConditionalBatchNormOptions& options = {},
                                  DType dtype = DType::f32, Device device = kCPU);

  std::string describe() const override;
  int64_t condition_dim() const { return condition_dim_; }
  Module& gain() { return *gain_; }  // Linear(condition_dim, C, bias = false), maybe spectrally normalised
  Module& bias() { return *bias_; }

 protected:
  std::pair<Tensor, Tensor> scale_and_shift(const Tensor& condition, int64_t n) override;

 private:
  int64_t condition_dim_;
  std::shared_ptr<Module> gain_, bias_;
};

}  // namespace gantry::nn
