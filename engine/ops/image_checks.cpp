#include "engine/ops/image_checks.h"

namespace gantry {

std::string size2_str(Size2 s) { return std::to_string(s[0]) + "x" + std::to_string(s[1]); }

namespace detail {

void check_image_operand(const char* op, const char* what, const Tensor& t, const char* layout) {
  GANTRY_CHECK(t.defined(), op, ": undefined ", what);
  GANTRY_CHECK(is_floating(t.dtype()), op, ": expected a floating ", what, ", got ", dtype_name(t.dtype()));
  GANTRY_CHECK(t.dim() == 4, op, ": expected a 4-D ", what, " ", layout, ", got shape ", shape_str(t.shape()));
}

void check_same_kind(const char* op, const char* what, const Tensor& t, const Tensor& ref) {
  GANTRY_CHECK(t.defined(), op, ": undefined ", what);
  GANTRY_CHECK(t.dtype() == ref.dtype(), op, ": ", what, " has dtype ", dtype_name(t.dtype()), ", expected ",
               dtype_name(ref.dtype()));
  GANTRY_CHECK(t.device() == ref.device(), op, ": ", what, " is on ", t.device().str(), ", expected ",
               ref.device().str());
}

}  // namespace detail
}  // namespace gantry
