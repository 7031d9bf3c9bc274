// Dot-product attention: out = softmax(scale * q k^T) v over batches of query/key/value rows.
//
// Forward: the device's attention kernel when its backend registered one (the CPU kernel works in
// blocks of queries; a fused CUDA kernel can fill the same slot), otherwise the same composite of
// engine ops the backward uses. Backward recomputes p = softmax(scale * q k^T) from the saved inputs
// (the forward keeps no score matrix) and is written with engine ops, so double backward works:
//   dv = p^T g,   ds = scale * p * (g v^T - rowsum(p * g v^T)),   dq = ds k,   dk = ds^T q
#include <cmath>

#include "engine/dispatch/attention_kernels.h"
#include "engine/ops/nn_ops.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

namespace {

std::string operand_shapes(const Tensor& q, const Tensor& k, const Tensor& v) {
  return "q " + shape_str(q.shape()) + ", k " + shape_str(k.shape()) + ", v " + shape_str(v.shape());
}

void check_attention_operands(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  GANTRY_CHECK(q.defined() && k.defined() && v.defined(), "attention: undefined operand");
  const std::string shapes = operand_shapes(q, k, v);
  GANTRY_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3,
               "attention: expected 3-D operands q [B, Lq, D], k [B, Lk, D], v [B, Lk, Dv], got ", shapes);
  GANTRY_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(), "attention: dtype mismatch: q ", dtype_name(q.dtype()),
               ", k ", dtype_name(k.dtype()), ", v ", dtype_name(v.dtype()));
  GANTRY_CHECK(is_floating(q.dtype()), "attention: expected floating operands, got ", dtype_name(q.dtype()));
  GANTRY_CHECK(q.device() == k.device() && q.device() == v.device(), "attention: operands on different devices: q ",
               q.device().str(), ", k ", k.device().str(), ", v ", v.device().str());
  GANTRY_CHECK(q.shape()[0] == k.shape()[0] && q.shape()[0] == v.shape()[0],
               "attention: batch sizes differ (dim 0): ", shapes);
  GANTRY_CHECK(q.shape()[2] == k.shape()[2], "attention: q and k have different feature sizes (dim 2, ", q.shape()[2],
               " vs ", k.shape()[2], "): ", shapes);
  GANTRY_CHECK(k.shape()[1] == v.shape()[1], "attention: k and v have different numbers of keys (dim 1, ", k.shape()[1],
               " vs ", v.shape()[1], "): ", shapes);
  GANTRY_CHECK(k.shape()[1] > 0, "attention: no keys (the softmax over an empty set is undefined): ", shapes);
  GANTRY_CHECK(std::isfinite(scale), "attention: scale must be finite, got ", scale);
}

// scale * q k^T [B, Lq, Lk] in engine ops.
Tensor scaled_scores(const Tensor& q, const Tensor& k, double scale) {
  const Tensor s = matmul(q, k.transpose(1, 2));
  return scale == 1.0 ? s : mul(s, scale);
}

// The result without autograd history.
Tensor attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  const DeviceType dev = q.device().type;
  if (!attention_kernel.has(dev)) {
    autograd::NoGradGuard no_grad;
    return matmul(softmax(scaled_scores(q, k, scale), -1), v).detach();
  }
  Tensor out = empty({q.shape()[0], q.shape()[1], v.shape()[2]}, q.dtype(), q.device());
  attention_kernel(dev, out, q.detach().contiguous(), k.detach().contiguous(), v.detach().contiguous(), scale);
  return out;
}

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  check_attention_operands(q, k, v, scale);
  Tensor out = attention_forward(q, k, v, scale);
  if (needs_grad({q, k, v})) {
    record("attention", {q, k, v}, {&out},
           [sq = SavedTensor(q), sk = SavedTensor(k), sv = SavedTensor(v),
            scale](const BackwardContext& ctx) -> TensorList {
             const Tensor& g = ctx.grad(0);
             const Tensor q = ctx.unpack(sq), k = ctx.unpack(sk), v = ctx.unpack(sv);
             const Tensor p = softmax(scaled_scores(q, k, scale), -1);
             Tensor gq, gk, gv;
             if (ctx.needs_input_grad(2)) gv = matmul(p.transpose(1, 2), g);
             if (ctx.needs_input_grad(0) || ctx.needs_input_grad(1)) {
               const Tensor dp = matmul(g, v.transpose(1, 2));
               Tensor ds = mul(p, sub(dp, sum(mul(dp, p), {2}, true)));  // the softmax's backward
               if (scale != 1.0) ds = mul(ds, scale);
               if (ctx.needs_input_grad(0)) gq = matmul(ds, k);
               if (ctx.needs_input_grad(1)) gk = matmul(ds.transpose(1, 2), q);
             }
             return {gq, gk, gv};
           });
  }
  return out;
}

}  // namespace gantry
