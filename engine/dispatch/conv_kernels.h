#pragma once
// Kernel signatures of 2-D convolution and their dispatch tables. One geometry serves all three
// kernels; the spatial sizes come from the tensors. Every tensor handed to these kernels is
// contiguous, of one floating dtype and on one device; outputs are preallocated by the op and are
// fully overwritten (their old contents, NaNs included, are ignored).
//
//   conv2d_forward:      out [N, O, OH, OW] = conv(x [N, C, H, W], w [O, C, KH, KW]) + bias [O]
//                        (bias may be undefined)
//   conv2d_relu_forward: out = relu(conv2d_forward's out), relu's rule (NaN gives 0); optional per
//                        device (conv2d_relu runs the two ops where a device has none)
//   conv2d_input_grad:   grad_x [N, C, H, W] = the adjoint of conv(., w) applied to grad_out
//                        [N, O, OH, OW] (a transposed convolution; H, W are grad_x's)
//   conv2d_weight_grad:  grad_w [O, C, KH, KW] = sum over the batch of grad_out correlated with x
//
// with OH = (H + 2 pad_h - dil_h (KH - 1) - 1) / stride_h + 1 (floor), likewise OW.
#include <cstdint>

#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dil_h = 1, dil_w = 1;
};

using Conv2dForwardKernel = void (*)(Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                                     const Conv2dParams& p);
using Conv2dInputGradKernel = void (*)(Tensor& grad_x, const Tensor& grad_out, const Tensor& w,
                                       const Conv2dParams& p);
using Conv2dWeightGradKernel = void (*)(Tensor& grad_w, const Tensor& x, const Tensor& grad_out,
                                        const Conv2dParams& p);

GANTRY_DECLARE_DISPATCH(Conv2dForwardKernel, conv2d_forward_kernel);
GANTRY_DECLARE_DISPATCH(Conv2dForwardKernel, conv2d_relu_forward_kernel);
GANTRY_DECLARE_DISPATCH(Conv2dInputGradKernel, conv2d_input_grad_kernel);
GANTRY_DECLARE_DISPATCH(Conv2dWeightGradKernel, conv2d_weight_grad_kernel);

}  // namespace gantry
