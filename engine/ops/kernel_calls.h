#pragma once
// Shared plumbing of the elementwise-family ops: argument checks and kernel calls that allocate the
// output and broadcast the inputs, without recording autograd history (the ops record it).
#include "engine/core/tensor.h"
#include "engine/dispatch/kernels.h"

namespace gantry::detail {

void check_defined(const char* op, const Tensor& t);
void check_floating(const char* op, const Tensor& t);
// Binary ops take operands of one dtype and one device; the error names the op and both operands.
void check_same_dtype_device(const char* op, const Tensor& a, const Tensor& b);

// A view of `t` with the shape `shape` (stride 0 on broadcast dims); no autograd history.
Tensor broadcast_view(const Tensor& t, const Shape& shape);

// Fresh contiguous outputs computed by the device's kernel (no history recorded).
Tensor run_unary(UnaryOp op, const Tensor& x, UnaryParams params = {});
Tensor run_binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b, BinaryParams params = {});
Tensor run_compare(const char* name, CompareOp op, const Tensor& a, const Tensor& b);
Tensor run_where(const char* name, const Tensor& mask, const Tensor& a, const Tensor& b);

// A 0-dim tensor holding `value` with t's dtype and device (for scalar operands).
Tensor scalar_like(const Tensor& t, double value);

}  // namespace gantry::detail
