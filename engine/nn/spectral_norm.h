#pragma once
// Spectral normalisation (Miyato et al. 2018) as a weight reparametrisation with the semantics and
// state-dict names of torch.nn.utils.spectral_norm:
//
//   W_mat = weight_orig with dim moved to the front, reshaped to [size(dim), -1]
//   training: n_power_iterations times, without gradient,
//             v <- normalize(W_mat^T u),  u <- normalize(W_mat v)     (normalize(a) = a / max(|a|, eps))
//   sigma = u^T W_mat v   (u, v constants; sigma is differentiable in weight_orig)
//   weight = weight_orig / sigma
//
// In eval mode the stored u and v are used as they are (no iteration). The gradient and every higher
// derivative flow through sigma's dependence on weight_orig only, so WGAN-GP penalties train through
// spectrally normalised critics.
//
// SpectralNormed<Layer> wraps a Linear, Conv2d, ConvTranspose2d or Embedding and has the wrapped
// module's state dict as PyTorch writes it after spectral_norm(): the layer's other parameters under
// their names (e.g. "bias"), then the parameter "weight_orig", then the buffers "weight_u" [size(dim)]
// and "weight_v" [numel / size(dim)]. u and v start as normalised N(0, 1) draws (u first), like torch.
// The wrapped layer keeps its own handle to weight_orig; the wrapper feeds it the normalised weight
// through forward_with_weight.
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "engine/nn/conv.h"
#include "engine/nn/embedding.h"
#include "engine/nn/linear.h"
#include "engine/nn/module.h"
#include "engine/random/generator.h"

namespace gantry::nn {

// The arithmetic as free functions (the module below composes them; tests check them directly).
// weight with `dim` moved to the front, reshaped to [size(dim), numel / size(dim)] (differentiable).
Tensor spectral_norm_matrix(const Tensor& weight, int64_t dim);
// n steps of power iteration on matrix [h, w] without gradient, updating u [h] and v [w] in place.
void spectral_norm_power_iteration(const Tensor& matrix, Tensor& u, Tensor& v, int64_t n, double eps);
// weight / sigma with sigma = u^T spectral_norm_matrix(weight, dim) v; u and v are used detached, so
// this is differentiable (to any order) in weight only.
Tensor spectral_normalize(const Tensor& weight, const Tensor& u, const Tensor& v, int64_t dim);

struct SpectralNormOptions {
  int64_t n_power_iterations = 1;
  double eps = 1e-12;
  // The weight dim that indexes output units; nullopt: torch's default, 1 for ConvTranspose2d
  // (weight [in, out, KH, KW]) and 0 otherwise.
  std::optional<int64_t> dim = std::nullopt;
};

// The reparametrisation's state and arithmetic, independent of the layer type. Registers into this
// module: `layer`'s parameters except "weight" (same names, same tensors), "weight_orig" (the layer's
// weight tensor itself), "weight_u" and "weight_v". The layer must have no buffers or children.
class SpectralNorm : public Module {
 public:
  // The normalised weight weight_orig / sigma; runs the power iteration first (updating weight_u and
  // weight_v in place) when `power_iteration` is true. Forward calls it with is_training().
  Tensor compute_weight(bool power_iteration);
  // sigma = u^T W_mat v from the stored vectors, without gradient and without updating them.
  Tensor sigma() const;

  const Tensor& weight_orig() const { return weight_orig_; }
  const Tensor& weight_u() const { return u_; }
  const Tensor& weight_v() const { return v_; }
  int64_t dim() const { return dim_; }
  const SpectralNormOptions& options() const { return options_; }

 protected:
  SpectralNorm(const Module& layer, const Tensor& weight, int64_t dim, Generator& gen, SpectralNormOptions options);

 private:
  Tensor weight_orig_, u_, v_;
  int64_t dim_;
  SpectralNormOptions options_;
};

template <typename Layer>
inline constexpr int64_t spectral_norm_default_dim = std::is_same_v<Layer, ConvTranspose2d> ? 1 : 0;

// Layer: any module with weight() and forward_with_weight(input, weight) (Linear, Conv2d,
// ConvTranspose2d, Embedding).
template <typename Layer>
class SpectralNormed : public SpectralNorm {
 public:
  SpectralNormed(std::shared_ptr<Layer> layer, Generator& gen, SpectralNormOptions options = {})
      : SpectralNorm(checked(layer), checked(layer).weight(), options.dim.value_or(spectral_norm_default_dim<Layer>),
                     gen, options),
        layer_(std::move(layer)) {}

  Tensor forward(const Tensor& x) override { return layer_->forward_with_weight(x, compute_weight(is_training())); }

  // The wrapped layer; its weight() is weight_orig (unnormalised).
  Layer& layer() { return *layer_; }
  const Layer& layer() const { return *layer_; }

 private:
  static const Layer& checked(const std::shared_ptr<Layer>& layer) {
    GANTRY_CHECK(layer != nullptr, "SpectralNormed: the wrapped layer is null");
    return *layer;
  }

  std::shared_ptr<Layer> layer_;
};

using SNLinear = SpectralNormed<Linear>;
using SNConv2d = SpectralNormed<Conv2d>;
using SNConvTranspose2d = SpectralNormed<ConvTranspose2d>;
using SNEmbedding = SpectralNormed<Embedding>;

// torch.nn.utils.spectral_norm(layer): the wrapped layer as a module, drawing u and v from `gen`.
template <typename Layer>
std::shared_ptr<SpectralNormed<Layer>> spectral_norm(std::shared_ptr<Layer> layer, Generator& gen,
                                                     SpectralNormOptions options = {}) {
  return std::make_shared<SpectralNormed<Layer>>(std::move(layer), gen, options);
}

}  // namespace gantry::nn
