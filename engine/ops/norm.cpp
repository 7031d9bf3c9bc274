// Normalisation layers and the embedding lookup, written as compositions of differentiable engine
// ops (mean, sub, mul, sqrt, index_select), so double backward comes with them: the critics of
// WGAN-GP use layer_norm inside the gradient penalty. Training-mode batch_norm runs through a fused
// kernel where the device has one (engine/dispatch/norm_kernels.h); its backward uses the fused
// kernel too, except when the gradient itself is being differentiated (create_graph), where it is
// written in the same differentiable ops.
#include "engine/autograd/grad_mode.h"
#include "engine/dispatch/norm_kernels.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

namespace {

void check_param(const char* op, const char* what, const Tensor& t, const Shape& expected, const Tensor& x) {
  if (!t.defined()) return;
  GANTRY_CHECK(t.shape() == expected, op, ": expected ", what, " of shape ", shape_str(expected), ", got ",
               shape_str(t.shape()), " (input ", shape_str(x.shape()), ")");
  GANTRY_CHECK(t.dtype() == x.dtype() && t.device() == x.device(), op, ": ", what, " has dtype ",
               dtype_name(t.dtype()), " on ", t.device().str(), ", expected ", dtype_name(x.dtype()), " on ",
               x.device().str());
}

// (x - mean) / sqrt(var + eps) with the biased variance over `dims`; also returns the batch
// statistics (keepdim) for the running averages.
struct Normalised {
  Tensor value, mean, var;
};

Normalised normalise(const Tensor& x, const DimList& dims, double eps) {
  const Tensor mu = mean(x, dims, true);
  const Tensor centred = sub(x, mu);
  const Tensor v = mean(mul(centred, centred), dims, true);
  return {div(centred, sqrt(add(v, eps))), mu, v};
}

// The batch_norm gradients in differentiable ops (for create_graph): with xhat recomputed from x,
// grad_x = (gy - mean(gy) - xhat mean(gy xhat)) / sqrt(var + eps) where gy = g weight.
TensorList batch_norm_grads_differentiable(const BackwardContext& ctx, const Tensor& g, const Tensor& x,
                                           const Tensor& weight, const DimList& dims, const Shape& channel_shape,
                                           double eps) {
  const Normalised n = normalise(x, dims, eps);
  Tensor gx, gw, gb;
  if (ctx.needs_input_grad(0)) {
    const Tensor gy = weight.defined() ? mul(g, weight.reshape(channel_shape)) : g;
    const Tensor centred = sub(sub(gy, mean(gy, dims, true)), mul(n.value, mean(mul(gy, n.value), dims, true)));
    gx = div(centred, sqrt(add(n.var, eps)));
  }
  if (ctx.needs_input_grad(1)) gw = sum(mul(g, n.value), dims);
  if (ctx.needs_input_grad(2)) gb = sum(g, dims);
  return {gx, gw, gb};
}

// Training-mode batch_norm through the fused kernel: the output and the batch mean and biased variance.
Normalised fused_batch_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, const DimList& dims,
                            const Shape& channel_shape, double eps) {
  const Tensor x = x_in.detach().contiguous();
  const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  const Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  const int64_t c = x.shape()[1];
  Normalised n{empty(x.shape(), x.dtype(), x.device()), empty({c}, x.dtype(), x.device()),
               empty({c}, x.dtype(), x.device())};
  batch_norm_forward_kernel(x.device().type, n.value, n.mean, n.var, x, w, b, eps);
  if (needs_grad({x_in, weight, bias})) {
    record("batch_norm", {x_in, weight, bias}, {&n.value},
           [sx = SavedTensor(x_in), sw = SavedTensor(weight), mu = n.mean, var = n.var, dims, channel_shape,
            eps](const BackwardContext& ctx) -> TensorList {
             const Tensor xs = ctx.unpack(sx), ws = ctx.unpack(sw);
             if (autograd::grad_enabled())
               return batch_norm_grads_differentiable(ctx, ctx.grad(0), xs, ws, dims, channel_shape, eps);
             const Tensor g = ctx.grad(0).contiguous(), xc = xs.contiguous();
             const Tensor wc = ws.defined() ? ws.contiguous() : Tensor();
             Tensor gx, gw, gb;
             if (ctx.needs_input_grad(0)) gx = empty(xc.shape(), xc.dtype(), xc.device());
             if (ctx.needs_input_grad(1)) gw = empty(mu.shape(), xc.dtype(), xc.device());
             if (ctx.needs_input_grad(2)) gb = empty(mu.shape(), xc.dtype(), xc.device());
             batch_norm_backward_kernel(xc.device().type, gx, gw, gb, g, xc, mu, var, wc, eps);
             return {gx, gw, gb};
           });
  }
  return n;
}

// Blends a running statistic towards a batch statistic: r = (1 - momentum) r + momentum s, in place.
void update_running(Tensor& running, const Tensor& stat, double momentum) {
  const Tensor blended = add(mul(running, 1.0 - momentum), mul(stat.reshape(running.shape()), momentum));
  copy_(running, blended);
}

}  // namespace

Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  GANTRY_CHECK(x.defined(), op, ": undefined input");
  GANTRY_CHECK(is_floating(x.dtype()), op, ": expected a floating input, got ", dtype_name(x.dtype()));
  GANTRY_CHECK(x.dim() >= 2, op, ": expected an input [N, C, ...], got shape ", shape_str(x.shape()));
  const int64_t c = x.shape()[1];
  check_param(op, "weight", weight, {c}, x);
  check_param(op, "bias", bias, {c}, x);
  check_param(op, "running_mean", running_mean, {c}, x);
  check_param(op, "running_var", running_var, {c}, x);
  GANTRY_CHECK(running_mean.defined() == running_var.defined(), op,
               ": running_mean and running_var must be given together");
  Shape channel_shape(static_cast<size_t>(x.dim()), 1);  // [1, C, 1, ...] to broadcast per channel
  channel_shape[1] = c;
  DimList dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);

  Tensor out;
  const bool fused = training && batch_norm_forward_kernel.has(x.device().type);  // applies the affine itself
  if (training) {
    const int64_t count = x.numel() / std::max<int64_t>(c, 1);
    GANTRY_CHECK(count > 1, op, ": expected more than 1 value per channel when training, got input shape ",
                 shape_str(x.shape()));
    const Normalised n = fused ? fused_batch_norm(x, weight, bias, dims, channel_shape, eps) : normalise(x, dims, eps);
    out = n.value;
    if (running_mean.defined()) {
      NoGradGuard no_grad;
      const double bessel = static_cast<double>(count) / static_cast<double>(count - 1);
      update_running(running_mean, n.mean.detach(), momentum);
      update_running(running_var, mul(n.var.detach(), bessel), momentum);
    }
  } else {
    GANTRY_CHECK(running_mean.defined(), op, ": evaluation mode needs running_mean and running_var");
    const Tensor rm = running_mean.reshape(channel_shape), rv = running_var.reshape(channel_shape);
    out = div(sub(x, rm), sqrt(add(rv, eps)));
  }
  if (fused) return out;
  if (weight.defined()) out = mul(out, weight.reshape(channel_shape));
  if (bias.defined()) out = add(out, bias.reshape(channel_shape));
  return out;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  GANTRY_CHECK(x.defined(), op, ": undefined input");
  GANTRY_CHECK(is_floating(x.dtype()), op, ": expected a floating input, got ", dtype_name(x.dtype()));
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  GANTRY_CHECK(k >= 1 && x.dim() >= k && Shape(x.shape().end() - k, x.shape().end()) == normalized_shape, op,
               ": input shape ", shape_str(x.shape()), " does not end with normalized_shape ",
               shape_str(normalized_shape));
  check_param(op, "weight", weight, normalized_shape, x);
  check_param(op, "bias", bias, normalized_shape, x);
  DimList dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  Tensor out = normalise(x, dims, eps).value;
  if (weight.defined()) out = mul(out, weight);
  if (bias.defined()) out = add(out, bias);
  return out;
}

Tensor embedding(const Tensor& indices, const Tensor& weight) {
  const char* op = "embedding";
  GANTRY_CHECK(indices.defined() && weight.defined(), op, ": undefined indices or weight");
  GANTRY_CHECK(indices.dtype() == DType::i64, op, ": expected int64 indices, got ", dtype_name(indices.dtype()));
  GANTRY_CHECK(weight.dim() == 2, op, ": expected a weight [num_embeddings, embedding_dim], got shape ",
               shape_str(weight.shape()));
  GANTRY_CHECK(indices.device() == weight.device(), op, ": indices on ", indices.device().str(), " but weight on ",
               weight.device().str());
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.shape()[1]);
  return index_select(weight, 0, indices.reshape({-1})).reshape(out_shape);
}

}  // namespace gantry
