#include "engine/nn/self_attention.h"

#include "engine/nn/conv.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"

namespace gantry::nn {

ProjectionFactory conv1x1_projections(Generator& gen, DType dtype, Device device) {
  return [&gen, dtype, device](int64_t in_channels, int64_t out_channels) -> std::shared_ptr<Module> {
    return std::make_shared<Conv2d>(in_channels, out_channels, Size2{1, 1}, gen, Conv2dOptions{.bias = false}, dtype,
                                    device);
  };
}

SelfAttention::SelfAttention(int64_t channels, Generator& gen, DType dtype, Device device)
    : SelfAttention(channels, conv1x1_projections(gen, dtype, device), dtype, device) {}

SelfAttention::SelfAttention(int64_t channels, const ProjectionFactory& make_projection, DType dtype, Device device)
    : channels_(channels) {
  GANTRY_CHECK(channels > 0 && channels % 8 == 0, "SelfAttention: channels must be a positive multiple of 8 ",
               "(theta and phi project to channels / 8), got ", channels);
  GANTRY_CHECK(make_projection != nullptr, "SelfAttention(", channels, "): no projection factory");
  // torch registers gamma on the block itself, so it comes first in the state dict either way.
  gamma_ = register_parameter("gamma", zeros({}, dtype, device));
  theta_ = register_module("theta", make_projection(channels, channels / 8));
  phi_ = register_module("phi", make_projection(channels, channels / 8));
  g_ = register_module("g", make_projection(channels, channels / 2));
  o_ = register_module("o", make_projection(channels / 2, channels));
}

std::string SelfAttention::describe() const { return "SelfAttention(" + std::to_string(channels_) + ")"; }

Tensor SelfAttention::project(Module& m, const char* name, const Tensor& x, int64_t out_channels) const {
  Tensor y;
  try {
    y = m.forward(x);
  } catch (const Error& e) {
    throw Error(describe() + "." + name + ": " + e.what());
  }
  const Shape want{x.shape()[0], out_channels, x.shape()[2], x.shape()[3]};
  GANTRY_CHECK(y.defined() && y.shape() == want, describe(), ": projection ", name, " mapped ", shape_str(x.shape()),
               " to ", y.defined() ? shape_str(y.shape()) : std::string("an undefined tensor"), ", expected ",
               shape_str(want));
  return y;
}

Tensor SelfAttention::forward(const Tensor& x) {
  GANTRY_CHECK(x.defined() && x.dim() == 4 && x.shape()[1] == channels_, describe(), ": expected input [N, ", channels_,
               ", H, W], got ", x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  const int64_t n = x.shape()[0], h = x.shape()[2], w = x.shape()[3];
  GANTRY_CHECK(h >= 2 && w >= 2 && h % 2 == 0 && w % 2 == 0, describe(),
               ": expected an even height and width (phi and g are max-pooled 2x2), got input ", shape_str(x.shape()));
  const int64_t c8 = channels_ / 8, c2 = channels_ / 2, hw = h * w;
  const Tensor theta = project(*theta_, "theta", x, c8);
  const Tensor phi = max_pool2d(project(*phi_, "phi", x, c8), {2, 2});
  const Tensor g = max_pool2d(project(*g_, "g", x, c2), {2, 2});
  // Positions become rows: q [N, HW, C/8], k [N, HW/4, C/8], v [N, HW/4, C/2].
  const Tensor q = theta.reshape({n, c8, hw}).transpose(1, 2);
  const Tensor k = phi.reshape({n, c8, hw / 4}).transpose(1, 2);
  const Tensor v = g.reshape({n, c2, hw / 4}).transpose(1, 2);
  const Tensor attended = attention(q, k, v).transpose(1, 2).reshape({n, c2, h, w});
  return add(x, mul(gamma_, project(*o_, "o", attended, channels_)));
}

}  // namespace gantry::nn
