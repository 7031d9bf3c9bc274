#pragma once
// Argument checks shared by the image ops; every message names the op, the argument and its shape.
#include "engine/core/tensor.h"
#include "engine/ops/nn_ops.h"

namespace gantry::detail {

// `t` is a defined floating 4-D tensor; `layout` (e.g. "[N, C, H, W]") says what was expected.
void check_image_operand(const char* op, const char* what, const Tensor& t, const char* layout = "[N, C, H, W]");
// `t` is defined and has ref's dtype and device.
void check_same_kind(const char* op, const char* what, const Tensor& t, const Tensor& ref);

}  // namespace gantry::detail
