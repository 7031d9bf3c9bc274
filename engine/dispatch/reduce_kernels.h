#pragma once
// Kernel tables of the reductions (engine/ops/reduce.cpp). Device-neutral: kernels take tensors.
//
// reduce_kernel(op, out, x): `out` is contiguous, has x's rank, and size 1 on every reduced dim
// (the keepdim shape); a dim is reduced when out's size there is 1 and x's is not. The kernel
// initialises `out` itself. Floating sums accumulate in at least the input's precision; amax/amin
// propagate NaN.
//
// arg_reduce_kernel(op, values, indices, x, dim): `values` (x's dtype) and `indices` (i64) are
// contiguous with x's shape except size 1 at `dim`; for each slice along `dim` they receive the
// largest (op = max) or smallest (op = min) value and the FIRST index holding it (NaN counts as the
// extreme, as in torch.max).
#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

enum class ReduceOp : uint8_t { sum, amax, amin };
enum class ArgReduceOp : uint8_t { max, min };

using ReduceKernel = void (*)(ReduceOp op, Tensor& out, const Tensor& x);
using ArgReduceKernel = void (*)(ArgReduceOp op, Tensor& values, Tensor& indices, const Tensor& x, int64_t dim);
GANTRY_DECLARE_DISPATCH(ReduceKernel, reduce_kernel);
GANTRY_DECLARE_DISPATCH(ArgReduceKernel, arg_reduce_kernel);

}  // namespace gantry
