#pragma once
// Kernel signature of softmax / log_softmax along one dim and its dispatch table.
#include <cstdint>

#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

// out = softmax(x) (or log_softmax when `log`) along dim, computed stably by subtracting the slice
// maximum; out is contiguous with x's shape and dtype (floating), x may be strided.
using SoftmaxKernel = void (*)(Tensor& out, const Tensor& x, int64_t dim, bool log);
GANTRY_DECLARE_DISPATCH(SoftmaxKernel, softmax_kernel);

}  // namespace gantry
