#include "engine/nn/conditional_batch_norm.h"

#include "engine/nn/linear.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops/ops.h"

namespace gantry::nn {
namespace {

std::string shape_or_undefined(const Tensor& t) {
  return t.defined() ? shape_str(t.shape()) : std::string("an undefined tensor");
}

}  // namespace

ConditionalBatchNorm2d::ConditionalBatchNorm2d(int64_t num_features, const ConditionalBatchNormOptions& options,
                                               DType dtype, Device device) {
  const BatchNormOptions bn_options{.eps = options.eps,
                                    .momentum = options.momentum,
                                    .affine = false,  // the conditional gain and bias replace the affine step
                                    .track_running_stats = options.track_running_stats};
  bn_ = register_module("bn", std::make_shared<BatchNorm2d>(num_features, bn_options, dtype, device));
}

Tensor ConditionalBatchNorm2d::forward(const Tensor& x, const Tensor& condition) {
  const int64_t c = num_features();
  GANTRY_CHECK(x.defined() && x.dim() == 4 && x.shape()[1] == c, describe(), ": expected input [N, ", c,
               ", H, W], got ", shape_or_undefined(x));
  const int64_t n = x.shape()[0];
  // Before the normalisation, so a bad condition leaves the running statistics untouched.
  const auto [scale, shift] = scale_and_shift(condition, n);
  const Shape per_sample{n, c, 1, 1};
  return add(mul(bn_->forward(x), scale.reshape(per_sample)), shift.reshape(per_sample));
}

CategoricalConditionalBatchNorm2d::CategoricalConditionalBatchNorm2d(int64_t num_features, int64_t num_classes,
                                                                     const ConditionalBatchNormOptions& options,
                                                                     DType dtype, Device device)
    : ConditionalBatchNorm2d(num_features, options, dtype, device) {
  GANTRY_CHECK(num_classes > 0, "CategoricalConditionalBatchNorm2d(", num_features,
               "): expected a positive num_classes, got ", num_classes);
  gain_ = register_module("gain", std::make_shared<Embedding>(ones({num_classes, num_features}, dtype, device)));
  bias_ = register_module("bias", std::make_shared<Embedding>(zeros({num_classes, num_features}, dtype, device)));
}

std::string CategoricalConditionalBatchNorm2d::describe() const {
  return "CategoricalConditionalBatchNorm2d(" + std::to_string(num_features()) +
         ", num_classes=" + std::to_string(gain_->num_embeddings()) + ")";
}

std::pair<Tensor, Tensor> CategoricalConditionalBatchNorm2d::scale_and_shift(const Tensor& y, int64_t n) {
  GANTRY_CHECK(y.defined() && y.dtype() == DType::i64 && y.dim() == 1 && y.shape()[0] == n, describe(),
               ": expected int64 class indices [", n, "] (one per sample of the input), got ",
               y.defined() ? dtype_name(y.dtype()) + std::string(" ") + shape_str(y.shape()) : shape_or_undefined(y));
  try {
    return {gain_->forward(y), bias_->forward(y)};
  } catch (const Error& e) {  // the lookup's range check, with the layer and the valid range in front
    throw Error(describe() + ": class indices must lie in [0, " + std::to_string(num_classes()) + "): " + e.what());
  }
}

ProjectedConditionalBatchNorm2d::ProjectedConditionalBatchNorm2d(int64_t num_features, int64_t condition_dim,
                                                                 Generator& gen, bool spectral_norm,
                                                                 const ConditionalBatchNormOptions& options,
                                                                 DType dtype, Device device)
    : ConditionalBatchNorm2d(num_features, options, dtype, device), condition_dim_(condition_dim) {
  GANTRY_CHECK(condition_dim > 0, "ProjectedConditionalBatchNorm2d(", num_features,
               "): expected a positive condition_dim, got ", condition_dim);
  const auto projection = [&]() -> std::shared_ptr<Module> {
    auto linear = std::make_shared<Linear>(condition_dim, num_features, /*bias=*/false, gen, dtype, device);
    if (!spectral_norm) return linear;
    return nn::spectral_norm(linear, gen);
  };
  gain_ = register_module("gain", projection());
  bias_ = register_module("bias", projection());
}

std::string ProjectedConditionalBatchNorm2d::describe() const {
  return "ProjectedConditionalBatchNorm2d(" + std::to_string(num_features()) +
         ", condition_dim=" + std::to_string(condition_dim_) + ")";
}

std::pair<Tensor, Tensor> ProjectedConditionalBatchNorm2d::scale_and_shift(const Tensor& c, int64_t n) {
  GANTRY_CHECK(c.defined() && c.dim() == 2 && c.shape()[0] == n && c.shape()[1] == condition_dim_, describe(),
               ": expected a condition [", n, ", ", condition_dim_, "] (one row per sample of the input), got ",
               shape_or_undefined(c));
  return {add(gain_->forward(c), 1.0), bias_->forward(c)};
}

}  // namespace gantry::nn
