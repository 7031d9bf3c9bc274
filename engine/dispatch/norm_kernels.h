#pragma once
// Kernel signatures of training-mode batch normalisation over x [N, C, S] (S: the flattened spatial
// dims; every tensor contiguous, one floating dtype, one device). Outputs are preallocated and fully
// overwritten; weight, bias, grad_weight and grad_bias may be undefined (no affine / not needed).
//
//   batch_norm_forward:   mean [C], var [C] (biased) of x over N and S;
//                         out = (x - mean) / sqrt(var + eps) * weight + bias
//   batch_norm_backward:  with xhat = (x - mean) / sqrt(var + eps) and M = N S,
//                         grad_bias = sum g, grad_weight = sum g xhat,
//                         grad_x = weight / sqrt(var + eps) (g - sum g / M - xhat sum g xhat / M)
#include "engine/core/tensor.h"
#include "engine/dispatch/dispatch.h"

namespace gantry {

using BatchNormForwardKernel = void (*)(Tensor& out, Tensor& mean, Tensor& var, const Tensor& x, const Tensor& weight,
                                        const Tensor& bias, double eps);
using BatchNormBackwardKernel = void (*)(Tensor& grad_x, Tensor& grad_weight, Tensor& grad_bias, const Tensor& grad_out,
                                         const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                                         double eps);

GANTRY_DECLARE_DISPATCH(BatchNormForwardKernel, batch_norm_forward_kernel);
GANTRY_DECLARE_DISPATCH(BatchNormBackwardKernel, batch_norm_backward_kernel);

}  // namespace gantry
