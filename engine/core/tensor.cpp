#include "engine/core/tensor.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <ostream>

#include "engine/autograd/node.h"
#include "engine/dispatch/kernels.h"
#include "engine/ops/ops.h"

namespace gantry {

using autograd::BackwardContext;
using autograd::needs_grad;
using autograd::record;

TensorImpl& Tensor::impl() const {
  GANTRY_CHECK(impl_ != nullptr, "operation on an undefined tensor");
  return *impl_;
}

Tensor empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) GANTRY_CHECK(d >= 0, "empty: negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)) * itemsize(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no elements: any strides (contiguous_strides gives [2, 2, 1] for [2, 0, 2])
  int64_t expected = 1;
  for (size_t i = shape().size(); i-- > 0;) {
    if (shape()[i] == 1) continue;
    if (strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * static_cast<int64_t>(itemsize(dtype()));
}

template <typename T>
T Tensor::item() const {
  GANTRY_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ", shape_str(shape()));
  const Tensor c = device().is_cpu() ? *this : to(kCPU);
  return dispatch_all(c.dtype(), "item", [&](auto tag) {
    using S = typename decltype(tag)::type;
    return static_cast<T>(*c.data_ptr<S>());
  });
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template uint8_t Tensor::item<uint8_t>() const;
template int Tensor::item<int>() const;
template bool Tensor::item<bool>() const;

// ---- views ----------------------------------------------------------------------------------

namespace {

// Strides for viewing `t` as `shape` without copying, if possible (PyTorch's computeStride rule).
bool view_strides(const Tensor& t, const Shape& shape, Shape& out) {
  out.assign(shape.size(), 0);
  if (t.numel() == 0 || t.dim() == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  const Shape& os = t.shape();
  const Shape& ost = t.strides();
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.empty() ? 1 : ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t td = static_cast<int64_t>(os.size()) - 1; td >= 0; --td) {
    tensor_numel *= os[td];
    if (td == 0 || (os[td - 1] != 1 && ost[td - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (td > 0) {
        chunk_base_stride = ost[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Shape infer_shape(const Shape& requested, int64_t numel, const char* op, const Shape& from) {
  Shape s = requested;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      GANTRY_CHECK(infer_at < 0, op, ": only one dimension can be -1, got ", shape_str(requested));
      infer_at = static_cast<int64_t>(i);
    } else {
      GANTRY_CHECK(s[i] >= 0, op, ": invalid shape ", shape_str(requested));
      known *= s[i];
    }
  }
  if (infer_at >= 0) {
    GANTRY_CHECK(known != 0 && numel % known == 0, op, ": cannot view shape ", shape_str(from), " as ",
                 shape_str(requested));
    s[infer_at] = numel / known;
  }
  GANTRY_CHECK(shape_numel(s) == numel, op, ": shape ", shape_str(requested), " is invalid for a tensor of ",
               numel, " elements (shape ", shape_str(from), ")");
  return s;
}

// Records a view's backward: the gradient is mapped back by `back(grad)`.
template <typename Back>
void record_view(const char* name, const Tensor& base, Tensor& out, Back back) {
  if (!needs_grad({base})) return;
  record(name, {base}, {&out}, [back](const BackwardContext& ctx) -> TensorList { return {back(ctx.grad(0))}; });
}

Tensor slice_backward(const Tensor& g, const Shape& in_shape, int64_t dim, int64_t start, int64_t end,
                      int64_t step);

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  const Shape s = infer_shape(requested, numel(), "view", shape());
  Shape st;
  GANTRY_CHECK(view_strides(*this, s, st), "view: shape ", shape_str(s),
               " is not compatible with the strides of the input (shape ", shape_str(shape()), ", strides ",
               shape_str(strides()), "); use reshape()");
  Tensor out = make_view(*this, s, st, offset());
  const Shape in_shape = shape();
  record_view("view", *this, out, [in_shape](const Tensor& g) { return g.reshape(in_shape); });
  return out;
}

Tensor Tensor::reshape(const Shape& requested) const {
  const Shape s = infer_shape(requested, numel(), "reshape", shape());
  Shape st;
  if (view_strides(*this, s, st)) return view(s);
  return contiguous().view(s);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  GANTRY_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim);
  Shape s;
  for (int64_t i = 0; i < start_dim; ++i) s.push_back(shape()[i]);
  int64_t m = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) m *= shape()[i];
  s.push_back(m);
  for (int64_t i = end_dim + 1; i < dim(); ++i) s.push_back(shape()[i]);
  return reshape(s);
}

Tensor Tensor::permute(const Shape& dims) const {
  GANTRY_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: got ", dims.size(),
               " dims for a tensor of shape ", shape_str(shape()));
  Shape s(dims.size()), st(dims.size()), inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim(), "permute");
    GANTRY_CHECK(!seen[d], "permute: dim ", d, " repeated in ", shape_str(dims));
    seen[d] = true;
    s[i] = shape()[d];
    st[i] = strides()[d];
    inverse[d] = static_cast<int64_t>(i);
  }
  Tensor out = make_view(*this, s, st, offset());
  record_view("permute", *this, out, [inverse](const Tensor& g) { return g.permute(inverse); });
  return out;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  Shape p(dim());
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[wrap_dim(d0, dim(), "transpose")], p[wrap_dim(d1, dim(), "transpose")]);
  return permute(p);
}

Tensor Tensor::t() const {
  GANTRY_CHECK(dim() <= 2, "t: expected a tensor of at most 2 dims, got shape ", shape_str(shape()));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, dim(), "slice");
  GANTRY_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = shape(), st = strides();
  s[d] = (end - start + step - 1) / step;
  st[d] *= step;
  Tensor out = make_view(*this, s, st, offset() + start * strides()[d]);
  const Shape in_shape = shape();
  record_view("slice", *this, out,
              [=](const Tensor& g) { return slice_backward(g, in_shape, d, start, end, step); });
  return out;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  GANTRY_CHECK(start >= 0 && length >= 0 && start + length <= shape()[d], "narrow: range [", start, ", ",
               start + length, ") out of bounds for dim ", d, " of size ", shape()[d]);
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  const int64_t n = shape()[d];
  GANTRY_CHECK(index >= -n && index < n, "select: index ", index, " out of range for dim ", d, " of size ", n);
  if (index < 0) index += n;
  return slice(d, index, index + 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& target) const {
  GANTRY_CHECK(static_cast<int64_t>(target.size()) >= dim(), "expand: cannot expand shape ",
               shape_str(shape()), " to fewer dims ", shape_str(target));
  const size_t lead = target.size() - shape().size();
  Shape s(target.size()), st(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < lead) {
      GANTRY_CHECK(target[i] >= 0, "expand: invalid target ", shape_str(target));
      s[i] = target[i];
      st[i] = 0;
      continue;
    }
    const int64_t have = shape()[i - lead];
    const int64_t want = target[i] == -1 ? have : target[i];
    GANTRY_CHECK(have == want || have == 1, "expand: shape ", shape_str(shape()), " cannot be expanded to ",
                 shape_str(target), " (dim ", i, ": ", have, " vs ", want, ")");
    s[i] = want;
    st[i] = have == want ? strides()[i - lead] : 0;
  }
  if (s == shape()) return *this;
  Tensor out = make_view(*this, s, st, offset());
  const Shape in_shape = shape();
  record_view("expand", *this, out, [in_shape](const Tensor& g) { return sum_to(g, in_shape); });
  return out;
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  if (shape()[d] != 1) return *this;
  Shape s = shape();
  s.erase(s.begin() + d);
  return reshape(s);
}

Tensor Tensor::squeeze() const {
  Shape s;
  for (int64_t v : shape())
    if (v != 1) s.push_back(v);
  return s == shape() ? *this : reshape(s);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape s = shape();
  s.insert(s.begin() + d, 1);
  return reshape(s);
}

// ---- copies ---------------------------------------------------------------------------------

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_kernel(device().type, out, *this);
  record_view("clone", *this, out, [](const Tensor& g) { return g; });
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = empty(shape(), target, device());
  copy_kernel(device().type, out, *this);
  if (is_floating(target) && is_floating(dtype())) {
    const DType back = dtype();
    record_view("to_dtype", *this, out, [back](const Tensor& g) { return g.to(back); });
  }
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  const Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), target);
  const DeviceType backend = target.is_cpu() ? device().type : target.type;
  cross_device_copy_kernel(backend, out, src);
  const Device back = device();
  record_view("to_device", *this, out, [back](const Tensor& g) { return g.to(back); });
  return out;
}

// ---- autograd conveniences ------------------------------------------------------------------

Tensor& Tensor::set_requires_grad(bool r) {
  GANTRY_CHECK(is_leaf() || r, "set_requires_grad(false) on a non-leaf tensor; use detach()");
  GANTRY_CHECK(!r || is_floating(dtype()), "set_requires_grad: only floating tensors can require grad, got ",
               dtype_name(dtype()));
  impl().requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(impl().grad_holder); }
void Tensor::set_grad(const Tensor& g) const { impl().grad_holder = g.impl_ptr(); }
void Tensor::zero_grad() const { impl().grad_holder.reset(); }

Tensor Tensor::detach() const { return make_view(*this, shape(), strides(), offset()); }

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, {grad_output}, retain_graph, create_graph);
}

// ---- slice backward as its own differentiable op (its adjoint is slice again) -------------------

namespace {
Tensor slice_backward(const Tensor& g, const Shape& in_shape, int64_t d, int64_t start, int64_t end,
                      int64_t step) {
  Tensor out = zeros(in_shape, g.dtype(), g.device());
  {
    Shape s = out.shape(), st = out.strides();
    s[d] = (end - start + step - 1) / step;
    st[d] *= step;
    Tensor dst = make_view(out, s, st, start * out.strides()[d]);
    copy_kernel(g.device().type, dst, g);
  }
  if (needs_grad({g}))
    record("slice_backward", {g}, {&out}, [=](const BackwardContext& ctx) -> TensorList {
      return {ctx.grad(0).slice(d, start, end, step)};
    });
  return out;
}
}  // namespace

// ---- printing -------------------------------------------------------------------------------

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  os << "tensor(shape=" << shape_str(t.shape()) << ", dtype=" << dtype_name(t.dtype())
     << ", device=" << t.device().str();
  if (t.requires_grad()) os << ", requires_grad";
  if (t.grad_fn()) os << ", grad_fn=" << t.grad_fn()->name();
  os << ")\n";
  const Tensor c = t.detach().to(kCPU).contiguous().to(DType::f64);
  const double* v = c.data_ptr<double>();
  const int64_t n = c.numel();
  const int64_t last = t.dim() == 0 ? 1 : t.shape().back();
  constexpr int64_t kMaxShown = 64;
  const auto flags = os.flags();
  os << std::setprecision(6);
  os << "[";
  for (int64_t i = 0; i < std::min(n, kMaxShown); ++i) {
    if (i > 0) os << ((last > 0 && i % last == 0) ? ",\n " : ", ");
    os << v[i];
  }
  if (n > kMaxShown) os << ", ... (" << n - kMaxShown << " more)";
  os << "]";
  os.flags(flags);
  return os;
}

}  // namespace gantry
