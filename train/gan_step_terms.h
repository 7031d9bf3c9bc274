#pragma once
// The pluggable extra terms of a GAN step, beside the adversarial losses:
//  - critic regularisers, added to the critic's loss or applied to its weights after its update:
//    the WGAN-GP gradient penalty (Gulrajani et al. 2017), R1 (Mescheder et al. 2018) and WGAN
//    weight clipping (Arjovsky et al. 2017);
//  - generator terms, added to the generator's loss over the whole batch (never subject to top-k):
//    the mode-seeking term of MSGAN (Mao et al. 2019).
// Penalties differentiate the critic's input gradient (double backward), which every layer of the
// engine supports.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry {
class Generator;
}

namespace gantry::train {

// Calls a network on a batch and its class labels (labels undefined for unconditional models).
using NetworkCall = std::function<Tensor(const Tensor& input, const Tensor& labels)>;

class CriticRegularizer {
 public:
  virtual ~CriticRegularizer() = default;
  // A term to add to the critic's loss on this batch (an undefined tensor when there is none).
  virtual Tensor penalty(const NetworkCall& critic, const Tensor& real, const Tensor& real_labels, const Tensor& fake,
                         const Tensor& fake_labels, Generator& rng) = 0;
  // Called after every critic optimiser step, with the critic's parameters.
  virtual void after_critic_step(const std::vector<Tensor>& critic_params) {}
  virtual std::string describe() const = 0;
};

// lambda * mean_i (||grad_x D(x_i)||_2 - 1)^2 at x_i = eps_i real_i + (1 - eps_i) fake_i, eps_i ~ U[0, 1]
// per sample; interpolates are scored with the real labels (the pairs share a class in conditional
// runs only by chance, as in the reference implementations).
class GradientPenalty final : public CriticRegularizer {
 public:
  // The interpolation weights eps for a real batch: [N, 1, ...] (one per sample), the batch's dtype
  // and device.
  using InterpolationWeights = std::function<Tensor(const Tensor& real)>;
  // Unset `weights` (every run): eps ~ U[0, 1) drawn on the step's rng. Set: eps comes from it and
  // the rng is not touched, so a test can replay the draws of a reference implementation.
  explicit GradientPenalty(double weight, InterpolationWeights weights = {});
  Tensor penalty(const NetworkCall& critic, const Tensor& real, const Tensor& real_labels, const Tensor& fake,
                 const Tensor& fake_labels, Generator& rng) override;
  std::string describe() const override;

 private:
  double weight_;
  InterpolationWeights weights_;
};

// (gamma / 2) * mean_i ||grad_x D(x_i)||^2 on the real batch.
class R1Penalty final : public CriticRegularizer {
 public:
  explicit R1Penalty(double gamma);
  Tensor penalty(const NetworkCall& critic, const Tensor& real, const Tensor& real_labels, const Tensor& fake,
                 const Tensor& fake_labels, Generator& rng) override;
  std::string describe() const override;

 private:
  double gamma_;
};

// Clamps every critic weight to [-c, c] after each critic update.
class WeightClipping final : public CriticRegularizer {
 public:
  explicit WeightClipping(double bound);
  Tensor penalty(const NetworkCall&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, Generator&) override {
    return {};
  }
  void after_critic_step(const std::vector<Tensor>& critic_params) override;
  std::string describe() const override;

 private:
  double bound_;
};

class GeneratorTerm {
 public:
  virtual ~GeneratorTerm() = default;
  // A term to add to the generator's loss, from the step's latents and the fakes made from them.
  virtual Tensor term(const Tensor& latents, const Tensor& fakes) = 0;
  virtual std::string describe() const = 0;
};

// MSGAN's mode-seeking term: the batch's two halves are paired (z1_i, z2_i), and with
// r = mean|G(z1) - G(z2)| / mean|z1 - z2| the generator minimises weight / (r + eps) — a large
// output distance between distinct latents is rewarded. The batch must have at least two samples.
class ModeSeekingTerm final : public GeneratorTerm {
 public:
  explicit ModeSeekingTerm(double weight, double eps = 1e-5);
  Tensor term(const Tensor& latents, const Tensor& fakes) override;
  std::string describe() const override;

 private:
  double weight_, eps_;
};

// The L2 norm of each sample's gradient of sum(scores) w.r.t. `inputs`, with its graph kept so a
// penalty on it trains the critic: [N].
Tensor input_gradient_norms(const Tensor& scores, const Tensor& inputs);

}  // namespace gantry::train
