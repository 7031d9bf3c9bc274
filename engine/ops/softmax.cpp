// softmax and log_softmax along one dim. Forward through the softmax kernel table; backward in engine
// ops on the saved output y, so double backward works:
//   softmax:      dx = y * (g - sum(g * y))
//   log_softmax:  dx = g - exp(y) * sum(g)
#include "engine/dispatch/softmax_kernels.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

namespace {

Tensor softmax_op(const Tensor& x, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  GANTRY_CHECK(x.defined(), op, ": undefined input");
  GANTRY_CHECK(is_floating(x.dtype()), op, ": expected a floating input, got ", dtype_name(x.dtype()));
  if (x.dim() == 0) return softmax_op(x.reshape({1}), wrap_dim(dim, 0, op), log).reshape({});
  dim = wrap_dim(dim, x.dim(), op);
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  softmax_kernel(x.device().type, out, x.detach(), dim, log);
  if (needs_grad({x})) {
    record(op, {x}, {&out}, [sy = SavedTensor::output(out), dim, log](const BackwardContext& ctx) -> TensorList {
      const Tensor& g = ctx.grad(0);
      const Tensor y = ctx.unpack(sy);
      if (log) return {sub(g, mul(exp(y), sum(g, {dim}, true)))};
      return {mul(y, sub(g, sum(mul(g, y), {dim}, true)))};
    });
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true); }

}  // namespace gantry
