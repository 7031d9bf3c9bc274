#include "engine/dispatch/conv_kernels.h"

namespace gantry {

GANTRY_DEFINE_DISPATCH(Conv2dForwardKernel, conv2d_forward_kernel);
GANTRY_DEFINE_DISPATCH(Conv2dForwardKernel, conv2d_relu_forward_kernel);
GANTRY_DEFINE_DISPATCH(Conv2dInputGradKernel, conv2d_input_grad_kernel);
GANTRY_DEFINE_DISPATCH(Conv2dWeightGradKernel, conv2d_weight_grad_kernel);

}  // namespace gantry
