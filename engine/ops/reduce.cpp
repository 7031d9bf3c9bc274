// Reductions: sum/mean/amax/amin over a dim list, max/min/argmax along one dim, var, and sum_to
// (the adjoint of expand, used by every broadcasting op's backward).
#include <algorithm>

#include "engine/dispatch/reduce_kernels.h"
#include "engine/ops/kernel_calls.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

namespace {

// Which dims a reduction folds, and the shapes of its result with and without keepdim.
struct ReducedDims {
  DimList dims;       // sorted, unique, non-negative
  Shape keep_shape;   // x's shape with reduced dims set to 1
  Shape out_shape;    // keep_shape, or with the reduced dims removed
  int64_t count = 1;  // elements folded into each output
};

ReducedDims resolve(const char* op, const Tensor& x, const DimList& dims, bool keepdim) {
  detail::check_defined(op, x);
  ReducedDims r;
  std::vector<bool> reduced(x.dim(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, x.dim(), op);
    if (x.dim() == 0) continue;
    GANTRY_CHECK(!reduced[w], op, ": dim ", d, " appears twice in the dim list for input shape ", shape_str(x.shape()));
    reduced[w] = true;
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t size = x.shape()[d];
    if (reduced[d]) {
      r.dims.push_back(d);
      r.count *= size;
      r.keep_shape.push_back(1);
      if (keepdim) r.out_shape.push_back(1);
    } else {
      r.keep_shape.push_back(size);
      r.out_shape.push_back(size);
    }
  }
  return r;
}

// reshape() that also accepts 0-dim tensors (one element) going to an all-ones shape, which
// Tensor::reshape does not view.
Tensor reshape_any(const Tensor& t, const Shape& shape) {
  if (t.dim() == 0 && !shape.empty()) return t.expand(Shape(shape.size(), 1));
  return t.reshape(shape);
}

// The kernel's result in keepdim form, reshaped to the requested form (no history).
Tensor reduce_raw(ReduceOp op, const Tensor& x, const ReducedDims& r) {
  Tensor out = empty(r.keep_shape, x.dtype(), x.device());
  reduce_kernel(x.device().type, op, out, x);
  return out.view(r.out_shape);
}

// amax/amin: the gradient is shared evenly among the elements equal to the extreme.
Tensor extreme_reduce(const char* name, ReduceOp op, const Tensor& x, const DimList& dims, bool keepdim) {
  const ReducedDims r = resolve(name, x, dims, keepdim);
  GANTRY_CHECK(r.count > 0, name, ": reduction over a zero-size dim of shape ", shape_str(x.shape()));
  Tensor out = reduce_raw(op, x, r);
  if (needs_grad({x}))
    record(name, {x}, {&out}, [x, r, so = SavedTensor::output(out)](const BackwardContext& ctx) -> TensorList {
      const Tensor extreme = reshape_any(ctx.unpack(so).detach(), r.keep_shape);
      const Tensor hit = eq(x.detach(), extreme).to(x.dtype());
      const Tensor share = div(reshape_any(ctx.grad(0), r.keep_shape), sum(hit, r.dims, true));
      return {mul(hit, share)};
    });
  return out;
}

// max/min along one dim: the gradient goes to the selected index only.
std::pair<Tensor, Tensor> arg_reduce(const char* name, ArgReduceOp op, const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_defined(name, x);
  dim = wrap_dim(dim, x.dim(), name);
  const Tensor xv = x.dim() == 0 ? reshape_any(x, {1}) : x;
  GANTRY_CHECK(xv.shape()[dim] > 0, name, ": cannot reduce the zero-size dim ", dim, " of shape ",
               shape_str(x.shape()));
  Shape keep = xv.shape();
  keep[dim] = 1;
  Tensor values = empty(keep, x.dtype(), x.device());
  Tensor indices = empty(keep, DType::i64, x.device());
  arg_reduce_kernel(x.device().type, op, values, indices, xv, dim);
  Shape out_shape = keepdim ? keep : xv.shape();
  if (!keepdim) out_shape.erase(out_shape.begin() + dim);
  if (x.dim() == 0) out_shape = {};
  values = values.view(out_shape);
  indices = indices.view(out_shape);
  if (needs_grad({x}))
    record(name, {x}, {&values},
           [in_shape = xv.shape(), x_shape = x.shape(), keep, dim, idx = indices](const BackwardContext& ctx) -> TensorList {
             Shape along(in_shape.size(), 1);
             along[dim] = in_shape[dim];
             const Tensor positions = arange(0, in_shape[dim], 1, DType::i64, idx.device()).view(along);
             const Tensor g = ctx.grad(0);
             const Tensor chosen = eq(positions, reshape_any(idx, keep)).to(g.dtype());
             return {mul(chosen, reshape_any(g, keep)).reshape(x_shape)};
           });
  return {values, indices};
}

}  // namespace

Tensor sum(const Tensor& x_in, const DimList& dims, bool keepdim) {
  detail::check_defined("sum", x_in);
  // Masks are counted in int64, as torch.sum does for integer inputs.
  const Tensor x = x_in.dtype() == DType::u8 ? x_in.to(DType::i64) : x_in;
  const ReducedDims r = resolve("sum", x, dims, keepdim);
  Tensor out = reduce_raw(ReduceOp::sum, x, r);
  if (needs_grad({x}))
    record("sum", {x}, {&out}, [x_shape = x.shape(), keep = r.keep_shape](const BackwardContext& ctx) -> TensorList {
      return {reshape_any(ctx.grad(0), keep).expand(x_shape)};
    });
  return out;
}

Tensor mean(const Tensor& x, const DimList& dims, bool keepdim) {
  detail::check_floating("mean", x);
  const ReducedDims r = resolve("mean", x, dims, keepdim);
  return div(sum(x, dims, keepdim), static_cast<double>(r.count));
}

Tensor amax(const Tensor& x, const DimList& dims, bool keepdim) {
  return extreme_reduce("amax", ReduceOp::amax, x, dims, keepdim);
}

Tensor amin(const Tensor& x, const DimList& dims, bool keepdim) {
  return extreme_reduce("amin", ReduceOp::amin, x, dims, keepdim);
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("max", ArgReduceOp::max, x, dim, keepdim);
}

std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("min", ArgReduceOp::min, x, dim, keepdim);
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return arg_reduce("argmax", ArgReduceOp::max, x, dim, keepdim).second;
}

Tensor var(const Tensor& x, const DimList& dims, bool keepdim, int64_t correction) {
  detail::check_floating("var", x);
  const ReducedDims r = resolve("var", x, dims, keepdim);
  const Tensor centred = sub(x, mean(x, dims, true));
  const double denom = static_cast<double>(std::max<int64_t>(r.count - correction, 0));
  return div(sum(mul(centred, centred), dims, keepdim), denom);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("sum_to", x);
  if (x.shape() == shape) return x;
  GANTRY_CHECK(static_cast<int64_t>(shape.size()) <= x.dim(), "sum_to: cannot reduce shape ", shape_str(x.shape()),
               " to the larger rank shape ", shape_str(shape));
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  DimList dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const int64_t want = shape[d - lead], have = x.shape()[d];
    GANTRY_CHECK(want == have || want == 1, "sum_to: shape ", shape_str(x.shape()), " does not broadcast from ",
                 shape_str(shape), " (dim ", d, ": ", have, " vs ", want, ")");
    if (want == 1 && have != 1) dims.push_back(d);
  }
  if (dims.empty()) return x.reshape(shape);
  return sum(x, dims, true).reshape(shape);
}

}  // namespace gantry
