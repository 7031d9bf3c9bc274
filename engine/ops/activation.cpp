// Activations. The backward of the piecewise-linear ones is one gating pass (BinaryOp::gate: the
// gradient where the input is positive, slope times it elsewhere); the gate's own derivative in the
// input is zero almost everywhere, so only the gradient path is recorded and double backward stays exact.
#include <cmath>

#include "engine/ops/kernel_calls.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;
using detail::run_unary;

namespace {

// Records a one-input activation whose gradient is `rule(ctx, g)`.
template <typename Rule>
void record_activation(const char* name, const Tensor& x, Tensor& out, Rule rule) {
  if (!needs_grad({x})) return;
  record(name, {x}, {&out}, [rule](const BackwardContext& ctx) -> TensorList { return {rule(ctx, ctx.grad(0))}; });
}

// g * (x > 0 ? 1 : slope), differentiable in g (for double backward), constant in x.
Tensor piecewise_linear_grad(const Tensor& g, const Tensor& x, double slope) {
  const Tensor input = x.detach();
  Tensor out = detail::run_binary("piecewise_linear_grad", BinaryOp::gate, g, input, {slope});
  if (needs_grad({g}))
    record("piecewise_linear_grad", {g}, {&out}, [input, slope](const BackwardContext& ctx) -> TensorList {
      return {piecewise_linear_grad(ctx.grad(0), input, slope)};
    });
  return out;
}

}  // namespace

Tensor relu(const Tensor& x) {
  detail::check_floating("relu", x);
  Tensor out = run_unary(UnaryOp::relu, x);
  record_activation("relu", x, out,
                    [x](const BackwardContext&, const Tensor& g) { return piecewise_linear_grad(g, x, 0.0); });
  return out;
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  detail::check_floating("leaky_relu", x);
  Tensor out = run_unary(UnaryOp::leaky_relu, x, {negative_slope, 0.0});
  record_activation("leaky_relu", x, out, [x, negative_slope](const BackwardContext&, const Tensor& g) {
    return piecewise_linear_grad(g, x, negative_slope);
  });
  return out;
}

Tensor tanh(const Tensor& x) {
  detail::check_floating("tanh", x);
  Tensor out = run_unary(UnaryOp::tanh, x);
  record_activation("tanh", x, out, [so = SavedTensor::output(out)](const BackwardContext& ctx, const Tensor& g) {
    const Tensor y = ctx.unpack(so);
    return mul(g, rsub(1.0, mul(y, y)));
  });
  return out;
}

Tensor sigmoid(const Tensor& x) {
  detail::check_floating("sigmoid", x);
  Tensor out = run_unary(UnaryOp::sigmoid, x);
  record_activation("sigmoid", x, out, [so = SavedTensor::output(out)](const BackwardContext& ctx, const Tensor& g) {
    const Tensor y = ctx.unpack(so);
    return mul(g, mul(y, rsub(1.0, y)));
  });
  return out;
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  detail::check_floating("softplus", x);
  GANTRY_CHECK(beta > 0, "softplus: beta must be positive, got ", beta);
  Tensor out = run_unary(UnaryOp::softplus, x, {threshold, beta});
  record_activation("softplus", x, out, [x, beta, threshold](const BackwardContext&, const Tensor& g) {
    // d/dx = sigmoid(beta x) below the threshold, 1 above it (where the forward is the identity).
    Tensor slope = sigmoid(beta == 1.0 ? x : mul(x, beta));
    if (std::isfinite(threshold))
      slope = where(gt(x.detach(), threshold / beta), detail::scalar_like(slope, 1.0), slope);
    return mul(g, slope);
  });
  return out;
}

}  // namespace gantry
