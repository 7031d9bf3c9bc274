#include "train/gan_step_terms.h"

#include <sstream>
#include <utility>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"
#include "engine/optim/weight_clip.h"
#include "engine/random/generator.h"

namespace gantry::train {

namespace {

std::string with_weight(const char* name, double weight) {
  std::ostringstream out;
  out << name << " (" << weight << ")";
  return out.str();
}

// [N, 1, 1, ...] so a per-sample factor broadcasts over the sample's other dimensions.
Shape per_sample_shape(const Tensor& x) {
  Shape shape(x.dim(), 1);
  shape[0] = x.size(0);
  return shape;
}

}  // namespace

Tensor input_gradient_norms(const Tensor& scores, const Tensor& inputs) {
  const TensorList grads = autograd::grad({sum(scores)}, {inputs}, {}, /*create_graph=*/true);
  const Tensor flat = grads[0].reshape({inputs.size(0), -1});
  // sqrt(sum(g^2) + tiny): the plain norm's derivative is undefined at a zero gradient.
  return sqrt(add(sum(mul(flat, flat), {1}), 1e-12));
}

GradientPenalty::GradientPenalty(double weight, InterpolationWeights weights)
    : weight_(weight), weights_(std::move(weights)) {
  GANTRY_CHECK(weight > 0, "gradient penalty: the weight must be > 0, got ", weight);
}

Tensor GradientPenalty::penalty(const NetworkCall& critic, const Tensor& real, const Tensor& real_labels,
                                const Tensor& fake, const Tensor&, Generator& rng) {
  GANTRY_CHECK(real.shape() == fake.shape(), "gradient penalty: real batch ", shape_str(real.shape()),
               " and fake batch ", shape_str(fake.shape()), " differ in shape");
  const Tensor eps = weights_ ? weights_(real) : rand(per_sample_shape(real), rng, real.dtype(), real.device());
  GANTRY_CHECK(eps.shape() == per_sample_shape(real), "gradient penalty: interpolation weights ",
               shape_str(eps.shape()), " for a batch ", shape_str(real.shape()), " (expected one per sample)");
  Tensor mixed;
  {
    NoGradGuard no_grad;
    mixed = add(mul(eps, real.detach()), mul(rsub(1.0, eps), fake.detach()));
  }
  mixed.set_requires_grad(true);
  const Tensor norms = input_gradient_norms(critic(mixed, real_labels), mixed);
  const Tensor gap = sub(norms, 1.0);
  return mul(mean(mul(gap, gap)), weight_);
}

std::string GradientPenalty::describe() const { return with_weight("gradient penalty", weight_); }

R1Penalty::R1Penalty(double gamma) : gamma_(gamma) {
  GANTRY_CHECK(gamma > 0, "R1 penalty: gamma must be > 0, got ", gamma);
}

Tensor R1Penalty::penalty(const NetworkCall& critic, const Tensor& real, const Tensor& real_labels, const Tensor&,
                          const Tensor&, Generator&) {
  Tensor x = real.detach();
  x.set_requires_grad(true);
  const Tensor norms = input_gradient_norms(critic(x, real_labels), x);
  return mul(mean(mul(norms, norms)), 0.5 * gamma_);
}

std::string R1Penalty::describe() const { return with_weight("R1", gamma_); }

WeightClipping::WeightClipping(double bound) : bound_(bound) {
  GANTRY_CHECK(bound > 0, "weight clipping: the bound must be > 0, got ", bound);
}

void WeightClipping::after_critic_step(const std::vector<Tensor>& critic_params) {
  optim::clip_weights_(critic_params, bound_);
}

std::string WeightClipping::describe() const { return with_weight("weight clipping", bound_); }

ModeSeekingTerm::ModeSeekingTerm(double weight, double eps) : weight_(weight), eps_(eps) {
  GANTRY_CHECK(weight > 0, "mode-seeking term: the weight must be > 0, got ", weight);
}

Tensor ModeSeekingTerm::term(const Tensor& latents, const Tensor& fakes) {
  const int64_t half = fakes.size(0) / 2;
  GANTRY_CHECK(half >= 1, "mode-seeking term: needs a batch of at least 2 samples, got ", fakes.size(0));
  const Tensor image_gap = mean(abs(sub(fakes.narrow(0, 0, half), fakes.narrow(0, half, half))));
  const Tensor latent_gap = mean(abs(sub(latents.narrow(0, 0, half), latents.narrow(0, half, half))));
  return rdiv(weight_, add(div(image_gap, latent_gap.detach()), eps_));
}

std::string ModeSeekingTerm::describe() const { return with_weight("mode seeking", weight_); }

}  // namespace gantry::train
