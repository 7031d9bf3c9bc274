#include "engine/nn/linear.h"

#include <cmath>

#include "engine/nn/init.h"
#include "engine/ops/ops.h"

namespace gantry::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen, DType dtype, Device device)
    : in_features_(in_features), out_features_(out_features) {
  GANTRY_CHECK(in_features > 0 && out_features > 0, "Linear: expected positive sizes, got in ", in_features,
               " out ", out_features);
  Tensor w = empty({out_features, in_features}, dtype, device);
  init::kaiming_uniform_(w, gen, std::sqrt(5.0));
  weight_ = register_parameter("weight", w);
  if (bias) {
    Tensor b = empty({out_features}, dtype, device);
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    init::uniform_(b, -bound, bound, gen);
    bias_ = register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& x) { return forward_with_weight(x, weight_); }

Tensor Linear::forward_with_weight(const Tensor& x, const Tensor& weight) {
  GANTRY_CHECK(x.dim() >= 1 && x.size(-1) == in_features_, "Linear: expected input [..., ", in_features_,
               "], got ", shape_str(x.shape()));
  GANTRY_CHECK(weight.defined() && weight.shape() == weight_.shape(), "Linear(", in_features_, ", ", out_features_,
               "): expected a weight ", shape_str(weight_.shape()), ", got ",
               weight.defined() ? shape_str(weight.shape()) : std::string("an undefined tensor"));
  return linear(x, weight, bias_);
}

}  // namespace gantry::nn
