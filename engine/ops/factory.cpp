// Factories, in-place fill/copy and host round trips.
#include <cstring>

#include "engine/dispatch/kernels.h"
#include "engine/ops/ops.h"

namespace gantry {

namespace {
void check_inplace(const Tensor& t, const char* op) {
  GANTRY_CHECK(t.defined(), op, ": undefined tensor");
  GANTRY_CHECK(!(autograd::grad_enabled() && t.requires_grad()), op,
               ": in-place update of a tensor that requires grad while grad mode is on; wrap it in NoGradGuard");
}
}  // namespace

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  fill_kernel(device.type, t, value);
  return t;
}
Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }
Tensor scalar_tensor(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor arange(int64_t start, int64_t end, int64_t step, DType dtype, Device device) {
  GANTRY_CHECK(step != 0, "arange: step must be non-zero");
  const int64_t n = std::max<int64_t>(0, (end - start + step + (step > 0 ? -1 : 1)) / step);
  Tensor t = empty({n}, dtype, kCPU);
  dispatch_all(dtype, "arange", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + i * step);
  });
  return t.to(device);
}

Tensor eye(int64_t n, DType dtype, Device device) {
  Tensor t = zeros({n, n}, dtype, kCPU);
  dispatch_all(dtype, "eye", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < n; ++i) p[i * n + i] = T(1);
  });
  return t.to(device);
}

namespace {
template <typename T>
Tensor from_host(const std::vector<T>& values, const Shape& shape, Device device) {
  GANTRY_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
               " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>::value, kCPU);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t.to(device);
}
}  // namespace

Tensor from_vector(const std::vector<float>& v, const Shape& s, Device d) { return from_host(v, s, d); }
Tensor from_vector(const std::vector<double>& v, const Shape& s, Device d) { return from_host(v, s, d); }
Tensor from_vector(const std::vector<int64_t>& v, const Shape& s, Device d) { return from_host(v, s, d); }

template <typename T>
std::vector<T> to_vector(const Tensor& t) {
  const Tensor c = t.detach().to(kCPU).to(dtype_of<T>::value).contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> to_vector<float>(const Tensor&);
template std::vector<double> to_vector<double>(const Tensor&);
template std::vector<int64_t> to_vector<int64_t>(const Tensor&);
template std::vector<uint8_t> to_vector<uint8_t>(const Tensor&);

Tensor& fill_(Tensor& t, double value) {
  check_inplace(t, "fill_");
  fill_kernel(t.device().type, t, value);
  return t;
}

Tensor& zero_(Tensor& t) { return fill_(t, 0.0); }

Tensor& copy_(Tensor& dst, const Tensor& src) {
  check_inplace(dst, "copy_");
  GANTRY_CHECK(src.defined(), "copy_: undefined source");
  Tensor s = src.detach();
  if (s.device() != dst.device()) s = s.to(dst.device());
  if (s.shape() != dst.shape()) s = s.expand(dst.shape());
  copy_kernel(dst.device().type, dst, s);
  return dst;
}

}  // namespace gantry
