#pragma once
// Kernel signatures of 2-D pooling and their dispatch tables. Every pooling window here is a
// rectangle [row_start, row_end) x [col_start, col_end) of the (unpadded) input plane, one range per
// output row and one per output column, which covers avg_pool2d, max_pool2d (dilation 1) and
// adaptive_avg_pool2d. Averages divide by row_divisor[i] * col_divisor[j], which is how PyTorch's
// count_include_pad and adaptive divisors factor. Tensors are contiguous NCHW of one floating dtype;
// outputs are preallocated and fully overwritten.
//
//   avg_pool2d:           out[n, c, i, j] = sum over the window of x / (row_divisor[i] col_divisor[j])
//   avg_pool2d_backward:  grad_x = the adjoint of the above applied to grad_out
//   max_pool2d:           out = max over the window (NaN wins), indices (int64) = h * W + w of the
//                         first maximum in row-major window order
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

struct PoolWindows {
  std::vector<int64_t> row_start, row_end;  // one per output row, 0 <= start < end <= H
  std::vector<int64_t> col_start, col_end;  // one per output column, 0 <= start < end <= W
  std::vector<double> row_divisor, col_divisor;  // used by the averages only
};

using AvgPool2dKernel = void (*)(Tensor& out, const Tensor& x, const PoolWindows& windows);
using AvgPool2dBackwardKernel = void (*)(Tensor& grad_x, const Tensor& grad_out, const PoolWindows& windows);
using MaxPool2dKernel = void (*)(Tensor& out, Tensor& indices, const Tensor& x, const PoolWindows& windows);

GANTRY_DECLARE_DISPATCH(AvgPool2dKernel, avg_pool2d_kernel);
GANTRY_DECLARE_DISPATCH(AvgPool2dBackwardKernel, avg_pool2d_backward_kernel);
GANTRY_DECLARE_DISPATCH(MaxPool2dKernel, max_pool2d_kernel);

}  // namespace gantry
