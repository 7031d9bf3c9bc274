#include "engine/nn/spectral_norm.h"

#include <string>

#include "engine/nn/init.h"
#include "engine/ops/ops.h"

namespace gantry::nn {
namespace {

// torch.nn.functional.normalize of a vector: a / max(|a|, eps), so a zero vector stays finite.
Tensor normalize(const Tensor& a, double eps) { return div(a, clamp(norm(a), eps, std::nullopt)); }

}  // namespace

Tensor spectral_norm_matrix(const Tensor& weight, int64_t dim) {
  GANTRY_CHECK(weight.defined() && weight.dim() >= 1 && weight.numel() > 0 && dim >= 0 && dim < weight.dim(),
               "spectral_norm: dim ", dim, " is out of range for a weight ",
               weight.defined() ? shape_str(weight.shape()) : std::string("(undefined)"));
  Tensor m = weight;
  if (dim != 0) {
    Shape order{dim};
    for (int64_t d = 0; d < weight.dim(); ++d)
      if (d != dim) order.push_back(d);
    m = m.permute(order);
  }
  const int64_t h = weight.shape()[static_cast<size_t>(dim)];
  return m.reshape({h, weight.numel() / h});
}

void spectral_norm_power_iteration(const Tensor& matrix, Tensor& u, Tensor& v, int64_t n, double eps) {
  GANTRY_CHECK(matrix.dim() == 2 && u.dim() == 1 && v.dim() == 1 && u.shape()[0] == matrix.shape()[0] &&
                   v.shape()[0] == matrix.shape()[1],
               "spectral_norm: power iteration needs u [h], v [w] for a matrix [h, w], got matrix ",
               shape_str(matrix.shape()), ", u ", shape_str(u.shape()), ", v ", shape_str(v.shape()));
  if (n <= 0) return;
  NoGradGuard no_grad;
  const Tensor m = matrix.detach(), mt = m.t();
  Tensor un = u, vn = v;
  for (int64_t i = 0; i < n; ++i) {
    vn = normalize(matmul(mt, un), eps);
    un = normalize(matmul(m, vn), eps);
  }
  copy_(u, un);
  copy_(v, vn);
}

Tensor spectral_normalize(const Tensor& weight, const Tensor& u, const Tensor& v, int64_t dim) {
  const Tensor matrix = spectral_norm_matrix(weight, dim);
  GANTRY_CHECK(u.dim() == 1 && v.dim() == 1 && u.shape()[0] == matrix.shape()[0] && v.shape()[0] == matrix.shape()[1],
               "spectral_norm: expected u [", matrix.shape()[0], "] and v [", matrix.shape()[1], "] for a weight ",
               shape_str(weight.shape()), " at dim ", dim, ", got u ", shape_str(u.shape()), ", v ",
               shape_str(v.shape()));
  const Tensor sigma = sum(mul(u.detach(), matmul(matrix, v.detach())));
  return div(weight, sigma);
}

SpectralNorm::SpectralNorm(const Module& layer, const Tensor& weight, int64_t dim, Generator& gen,
                           SpectralNormOptions options)
    : weight_orig_(weight), dim_(dim), options_(options) {
  GANTRY_CHECK(weight.defined() && weight.dim() >= 1 && weight.numel() > 0,
               "spectral_norm: expected a non-empty weight, got ",
               weight.defined() ? shape_str(weight.shape()) : std::string("an undefined tensor"));
  GANTRY_CHECK(dim >= 0 && dim < weight.dim(), "spectral_norm: dim ", dim, " is out of range for a weight ",
               shape_str(weight.shape()));
  GANTRY_CHECK(options.n_power_iterations >= 0, "spectral_norm: expected n_power_iterations >= 0, got ",
               options.n_power_iterations);
  GANTRY_CHECK(options.eps > 0, "spectral_norm: expected eps > 0, got ", options.eps);
  GANTRY_CHECK(layer.named_buffers().empty() && layer.named_children().empty(),
               "spectral_norm: the wrapped layer must have no buffers or child modules");
  // The layer's tensors themselves are registered (not copies), so to(device), load_state_dict and
  // optimisers act on the tensors the layer computes with.
  bool found = false;
  for (const auto& [name, t] : layer.named_parameters()) {
    if (name == "weight") {
      found = t.same(weight);
      continue;
    }
    register_parameter(name, t);
  }
  GANTRY_CHECK(found, "spectral_norm: the weight ", shape_str(weight.shape()),
               " is not the layer's parameter \"weight\"");
  register_parameter("weight_orig", weight_orig_);

  const int64_t h = weight.shape()[static_cast<size_t>(dim)], w = weight.numel() / h;
  NoGradGuard no_grad;
  Tensor u = empty({h}, weight.dtype(), weight.device()), v = empty({w}, weight.dtype(), weight.device());
  init::normal_(u, 0.0, 1.0, gen);  // u before v, as torch draws them
  init::normal_(v, 0.0, 1.0, gen);
  u_ = register_buffer("weight_u", normalize(u, options.eps));
  v_ = register_buffer("weight_v", normalize(v, options.eps));
}

Tensor SpectralNorm::compute_weight(bool power_iteration) {
  if (power_iteration)
    spectral_norm_power_iteration(spectral_norm_matrix(weight_orig_, dim_), u_, v_, options_.n_power_iterations,
                                  options_.eps);
  // Copies, not the buffers: the graph must keep this step's vectors even when a later forward
  // updates the buffers in place before this one is differentiated.
  return spectral_normalize(weight_orig_, u_.clone(), v_.clone(), dim_);
}

Tensor SpectralNorm::sigma() const {
  NoGradGuard no_grad;
  return sum(mul(u_, matmul(spectral_norm_matrix(weight_orig_, dim_), v_)));
}

}  // namespace gantry::nn
