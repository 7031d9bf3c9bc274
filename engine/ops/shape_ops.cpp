// Joining and splitting along a dim: cat, stack (copies), split, chunk (views). All differentiable:
// cat's gradient is narrow views of the output gradient; split/chunk are narrow views themselves.
#include "engine/dispatch/kernels.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

Tensor cat(const TensorList& tensors, int64_t dim) {
  GANTRY_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  for (const Tensor& t : tensors) GANTRY_CHECK(t.defined(), "cat: undefined tensor in the list");
  const Tensor& first = tensors[0];
  GANTRY_CHECK(first.dim() >= 1, "cat: cannot concatenate 0-dim tensors (use stack)");
  dim = wrap_dim(dim, first.dim(), "cat");
  Shape out_shape = first.shape();
  out_shape[dim] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    GANTRY_CHECK(t.dtype() == first.dtype() && t.device() == first.device(), "cat: tensor ", i, " has dtype ",
                 dtype_name(t.dtype()), " on ", t.device().str(), ", expected ", dtype_name(first.dtype()), " on ",
                 first.device().str());
    bool same_other_dims = t.dim() == first.dim();
    for (int64_t d = 0; same_other_dims && d < t.dim(); ++d)
      if (d != dim && t.shape()[d] != first.shape()[d]) same_other_dims = false;
    GANTRY_CHECK(same_other_dims, "cat: tensor ", i, " has shape ", shape_str(t.shape()),
                 " but tensor 0 has shape ", shape_str(first.shape()), " (all dims except dim ", dim,
                 " must match)");
    out_shape[dim] += t.shape()[dim];
  }

  Tensor out = empty(out_shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    Tensor dst = make_view(out, t.shape(), out.strides(), start * out.strides()[dim]);
    if (t.numel() > 0) copy_kernel(out.device().type, dst, t);
    sizes.push_back(t.shape()[dim]);
    start += t.shape()[dim];
  }
  if (needs_grad(tensors)) {
    record("cat", tensors, {&out}, [sizes, dim](const BackwardContext& ctx) -> TensorList {
      TensorList grads(sizes.size());
      int64_t begin = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        if (ctx.needs_input_grad(i)) grads[i] = ctx.grad(0).narrow(dim, begin, sizes[i]);
        begin += sizes[i];
      }
      return grads;
    });
  }
  return out;
}

Tensor stack(const TensorList& tensors, int64_t dim) {
  GANTRY_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (const Tensor& t : tensors) GANTRY_CHECK(t.defined(), "stack: undefined tensor in the list");
  for (size_t i = 1; i < tensors.size(); ++i)
    GANTRY_CHECK(tensors[i].shape() == tensors[0].shape(), "stack: tensor ", i, " has shape ",
                 shape_str(tensors[i].shape()), " but tensor 0 has shape ", shape_str(tensors[0].shape()),
                 " (all shapes must be equal)");
  dim = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  TensorList expanded;
  expanded.reserve(tensors.size());
  for (const Tensor& t : tensors) expanded.push_back(t.unsqueeze(dim));
  return cat(expanded, dim);
}

TensorList split(const Tensor& x, int64_t split_size, int64_t dim) {
  GANTRY_CHECK(x.defined(), "split: undefined tensor");
  GANTRY_CHECK(x.dim() >= 1, "split: cannot split a 0-dim tensor");
  GANTRY_CHECK(split_size > 0, "split: split_size must be positive, got ", split_size);
  dim = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.shape()[dim];
  TensorList parts;
  if (n == 0) return {x};
  for (int64_t start = 0; start < n; start += split_size)
    parts.push_back(x.narrow(dim, start, std::min(split_size, n - start)));
  return parts;
}

TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  GANTRY_CHECK(x.defined(), "chunk: undefined tensor");
  GANTRY_CHECK(chunks > 0, "chunk: number of chunks must be positive, got ", chunks);
  GANTRY_CHECK(x.dim() >= 1, "chunk: cannot chunk a 0-dim tensor");
  const int64_t n = x.shape()[wrap_dim(dim, x.dim(), "chunk")];
  // torch semantics: equal chunks of ceil(n / chunks), the last one smaller (may give fewer chunks).
  return split(x, std::max<int64_t>(1, (n + chunks - 1) / chunks), dim);
}

}  // namespace gantry
