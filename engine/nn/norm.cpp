#include "engine/nn/norm.h"

#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"

namespace gantry::nn {

BatchNormBase::BatchNormBase(std::string layer, int64_t num_features, BatchNormOptions options, DType dtype,
                             Device device)
    : layer_(std::move(layer)), num_features_(num_features), options_(options) {
  GANTRY_CHECK(num_features > 0, layer_, ": expected a positive num_features, got ", num_features);
  if (options.affine) {
    weight_ = register_parameter("weight", ones({num_features}, dtype, device));
    bias_ = register_parameter("bias", zeros({num_features}, dtype, device));
  }
  if (options.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros({num_features}, dtype, device));
    running_var_ = register_buffer("running_var", ones({num_features}, dtype, device));
    num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, DType::i64, device));
  }
}

Tensor BatchNormBase::normalise(const Tensor& x, bool rank_ok, const char* layout) {
  GANTRY_CHECK(x.defined() && rank_ok && x.shape()[1] == num_features_, layer_, "(", num_features_,
               "): expected input ", layout, " with C = ", num_features_, ", got ",
               x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  // Without running stats, PyTorch normalises with batch statistics in both modes.
  const bool use_batch_stats = is_training() || !options_.track_running_stats;
  double factor = options_.momentum.value_or(0.0);
  if (is_training() && options_.track_running_stats) {
    NoGradGuard no_grad;
    const int64_t batches = num_batches_tracked_.item<int64_t>() + 1;
    fill_(num_batches_tracked_, static_cast<double>(batches));
    if (!options_.momentum) factor = 1.0 / static_cast<double>(batches);
  }
  return batch_norm(x, running_mean_, running_var_, weight_, bias_, use_batch_stats, factor, options_.eps);
}

void BatchNormBase::reset_running_stats() {
  if (!options_.track_running_stats) return;
  NoGradGuard no_grad;
  fill_(running_mean_, 0.0);
  fill_(running_var_, 1.0);
  fill_(num_batches_tracked_, 0.0);
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  return normalise(x, x.defined() && (x.dim() == 2 || x.dim() == 3), "[N, C] or [N, C, L]");
}

Tensor BatchNorm2d::forward(const Tensor& x) { return normalise(x, x.defined() && x.dim() == 4, "[N, C, H, W]"); }

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine, DType dtype, Device device)
    : normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  GANTRY_CHECK(!normalized_shape_.empty() && shape_numel(normalized_shape_) > 0,
               "LayerNorm: expected a non-empty normalized_shape, got ", shape_str(normalized_shape_));
  if (elementwise_affine) {
    weight_ = register_parameter("weight", ones(normalized_shape_, dtype, device));
    bias_ = register_parameter("bias", zeros(normalized_shape_, dtype, device));
  }
}

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, normalized_shape_, weight_, bias_, eps_); }

}  // namespace gantry::nn
