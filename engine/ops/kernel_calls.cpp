#include "engine/ops/kernel_calls.h"

#include "engine/ops/ops.h"

namespace gantry::detail {

void check_defined(const char* op, const Tensor& t) { GANTRY_CHECK(t.defined(), op, ": undefined tensor argument"); }

void check_floating(const char* op, const Tensor& t) {
  check_defined(op, t);
  GANTRY_CHECK(is_floating(t.dtype()), op, ": expected a floating tensor (float32 or float64), got ",
               dtype_name(t.dtype()), " with shape ", shape_str(t.shape()));
}

void check_same_dtype_device(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  GANTRY_CHECK(a.dtype() == b.dtype(), op, ": operands must have the same dtype, got ", dtype_name(a.dtype()),
               " (shape ", shape_str(a.shape()), ") and ", dtype_name(b.dtype()), " (shape ", shape_str(b.shape()),
               ")");
  GANTRY_CHECK(a.device() == b.device(), op, ": operands must be on the same device, got ", a.device().str(),
               " (shape ", shape_str(a.shape()), ") and ", b.device().str(), " (shape ", shape_str(b.shape()), ")");
}

Tensor broadcast_view(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  const size_t lead = shape.size() - t.shape().size();
  Shape strides(shape.size(), 0);
  for (size_t i = lead; i < shape.size(); ++i)
    strides[i] = t.shape()[i - lead] == shape[i] ? t.strides()[i - lead] : 0;
  return make_view(t, shape, strides, t.offset());
}

Tensor run_unary(UnaryOp op, const Tensor& x, UnaryParams params) {
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  unary_kernel(x.device().type, op, params, out, x);
  return out;
}

Tensor run_binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b, BinaryParams params) {
  check_same_dtype_device(name, a, b);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, a.dtype(), a.device());
  binary_kernel(a.device().type, op, params, out, broadcast_view(a, shape), broadcast_view(b, shape));
  return out;
}

Tensor run_compare(const char* name, CompareOp op, const Tensor& a, const Tensor& b) {
  check_same_dtype_device(name, a, b);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, DType::u8, a.device());
  compare_kernel(a.device().type, op, out, broadcast_view(a, shape), broadcast_view(b, shape));
  return out;
}

Tensor run_where(const char* name, const Tensor& mask, const Tensor& a, const Tensor& b) {
  check_same_dtype_device(name, a, b);
  check_defined(name, mask);
  GANTRY_CHECK(mask.dtype() == DType::u8, name, ": mask must be uint8 (a comparison result), got ",
               dtype_name(mask.dtype()), " with shape ", shape_str(mask.shape()));
  GANTRY_CHECK(mask.device() == a.device(), name, ": mask is on ", mask.device().str(), " but the values are on ",
               a.device().str());
  const Shape shape = broadcast_shapes(broadcast_shapes(mask.shape(), a.shape(), name), b.shape(), name);
  Tensor out = empty(shape, a.dtype(), a.device());
  where_kernel(a.device().type, out, broadcast_view(mask, shape), broadcast_view(a, shape), broadcast_view(b, shape));
  return out;
}

Tensor scalar_like(const Tensor& t, double value) { return full({}, value, t.dtype(), t.device()); }

}  // namespace gantry::detail
