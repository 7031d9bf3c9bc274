// Indexing ops: gather and scatter_add are each other's adjoints, so their backward rules close under
// differentiation (double backward works); index_select is a gather with a broadcast index, and
// topk's values are a gather whose gradient scatters into zeros (discarded entries get exactly 0).
#include "engine/dispatch/index_kernels.h"
#include "engine/dispatch/kernels.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

namespace {

void check_index_tensor(const Tensor& index, const Tensor& x, const char* op) {
  GANTRY_CHECK(index.defined(), op, ": undefined index");
  GANTRY_CHECK(index.dtype() == DType::i64, op, ": expected an int64 index, got ", dtype_name(index.dtype()));
  GANTRY_CHECK(index.device() == x.device(), op, ": index on ", index.device().str(), " but input on ",
               x.device().str());
}

// torch.gather's shape rule: index has x's number of dims and fits inside `bound` off `dim`.
void check_gather_shapes(const Shape& bound, int64_t dim, const Tensor& index, const char* op, const char* what) {
  bool fits = static_cast<int64_t>(bound.size()) == index.dim();
  for (int64_t d = 0; fits && d < index.dim(); ++d)
    if (d != dim && index.shape()[d] > bound[d]) fits = false;
  GANTRY_CHECK(fits, op, ": index shape ", shape_str(index.shape()), " does not fit ", what, " shape ",
               shape_str(bound), " (same number of dims, index.size(d) <= size(d) for d != ", dim, ")");
}

// The gather kernel call plus autograd; `op` names the user-facing op in errors and in the graph.
Tensor gather_impl(const Tensor& x, int64_t dim, const Tensor& index, const char* op) {
  Tensor out = empty(index.shape(), x.dtype(), x.device());
  gather_kernel(x.device().type, out, x.detach(), dim, index, op);
  if (needs_grad({x})) {
    const Shape in_shape = x.shape();
    record(op, {x}, {&out}, [in_shape, dim, index](const BackwardContext& ctx) -> TensorList {
      return {scatter_add(in_shape, dim, index, ctx.grad(0))};
    });
  }
  return out;
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  GANTRY_CHECK(x.defined(), "gather: undefined input");
  GANTRY_CHECK(x.dim() >= 1, "gather: expected an input with at least 1 dim, got a 0-dim tensor");
  check_index_tensor(index, x, "gather");
  dim = wrap_dim(dim, x.dim(), "gather");
  check_gather_shapes(x.shape(), dim, index, "gather", "input");
  return gather_impl(x, dim, index, "gather");
}

Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src) {
  GANTRY_CHECK(src.defined(), "scatter_add: undefined src");
  GANTRY_CHECK(is_floating(src.dtype()), "scatter_add: expected a floating src, got ", dtype_name(src.dtype()));
  GANTRY_CHECK(!shape.empty(), "scatter_add: expected an output shape with at least 1 dim");
  check_index_tensor(index, src, "scatter_add");
  dim = wrap_dim(dim, static_cast<int64_t>(shape.size()), "scatter_add");
  GANTRY_CHECK(src.shape() == index.shape(), "scatter_add: src shape ", shape_str(src.shape()),
               " must equal index shape ", shape_str(index.shape()));
  check_gather_shapes(shape, dim, index, "scatter_add", "output");
  Tensor out = zeros(shape, src.dtype(), src.device());
  scatter_add_kernel(src.device().type, out, dim, index, src.detach(), "scatter_add");
  if (needs_grad({src})) {
    record("scatter_add", {src}, {&out}, [dim, index](const BackwardContext& ctx) -> TensorList {
      return {gather(ctx.grad(0), dim, index)};
    });
  }
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  GANTRY_CHECK(x.defined(), "index_select: undefined input");
  GANTRY_CHECK(x.dim() >= 1, "index_select: expected an input with at least 1 dim, got a 0-dim tensor");
  check_index_tensor(index, x, "index_select");
  GANTRY_CHECK(index.dim() == 1, "index_select: expected a 1-D index, got shape ", shape_str(index.shape()));
  dim = wrap_dim(dim, x.dim(), "index_select");
  // Broadcast the index over the other dims (stride 0, no copy) and gather.
  Shape out_shape = x.shape(), index_view_shape(x.dim(), 1);
  out_shape[dim] = index.numel();
  index_view_shape[dim] = index.numel();
  const Tensor full_index = index.reshape(index_view_shape).expand(out_shape);
  return gather_impl(x, dim, full_index, "index_select");
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  GANTRY_CHECK(x.defined(), "topk: undefined input");
  GANTRY_CHECK(x.dim() >= 1, "topk: expected an input with at least 1 dim, got a 0-dim tensor");
  dim = wrap_dim(dim, x.dim(), "topk");
  const int64_t n = x.shape()[dim];
  GANTRY_CHECK(k >= 0 && k <= n, "topk: k = ", k, " is out of range for dim ", dim, " of size ", n,
               " (input shape ", shape_str(x.shape()), ")");
  Shape out_shape = x.shape();
  out_shape[dim] = k;
  Tensor values = empty(out_shape, x.dtype(), x.device());
  Tensor indices = empty(out_shape, DType::i64, x.device());
  topk_kernel(x.device().type, values, indices, x.detach(), k, dim, largest);
  if (needs_grad({x})) {
    const Shape in_shape = x.shape();
    record("topk", {x}, {&values}, [in_shape, dim, indices](const BackwardContext& ctx) -> TensorList {
      return {scatter_add(in_shape, dim, indices, ctx.grad(0))};
    });
  }
  return {values, indices};
}

}  // namespace gantry
